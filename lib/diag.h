/* diag: messages with position, the dead-letter writer, side outputs, counters, --stats and exit statuses. */
#ifndef NDFLOW_DIAG_H
#define NDFLOW_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses, the same in every tool (ndflow(7)). */
#define EX_OK_ALL	0	/* all input accounted for */
#define EX_REJECTED	1	/* records were rejected and not kept (or --strict stopped) */
#define EX_USAGE	2	/* bad options or operands */
#define EX_IOERR	3	/* unreadable input, write failure, state locked */

/* The position of a line in the input: for messages and dead-letter records. */
struct diag_pos {
	const char	*file;		/* "-" for stdin */
	uint64_t	 line;		/* 1-based */
	uint64_t	 offset;	/* byte offset of the line's start in its (uncompressed) file */
};

/*
 * diag_init sets the program name, installs the SIGPIPE and SIGUSR1
 * (print --stats now) handlers and starts the clock.  Call first in
 * main().  SIGPIPE only sets a flag: the write that raised it fails with
 * EPIPE, and the run ends quietly with status 0 at the next diag_poll or
 * check of stdout, after the dead-letter and side outputs are flushed
 * whole (a state is not saved: the reader did not take the output).
 */
void	diag_init(const char *prog);
const char	*diag_prog(void);

/* warnx-style messages to stderr: "prog: message".  diag_err adds ": strerror(errno)". */
void	diag_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	diag_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* diag_die prints "prog: message" and exits with status (after flushing stdout). */
void	diag_die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* diag_usage_error prints "prog: message" and "Try 'prog --help' for more information." and exits 2. */
void	diag_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * diag_set_dead_letter opens FILE (appending; "-" is stderr) for rejected
 * lines.  Exits 3 with a message when it cannot be opened.
 */
void	diag_set_dead_letter(const char *path);
/* diag_set_strict makes the first rejected record end the run with status 1. */
void	diag_set_strict(bool);
/* diag_set_stats makes diag_finish print the --stats line. */
void	diag_set_stats(bool);

/*
 * diag_reject accounts for one rejected input line.  With --dead-letter it
 * writes {"file","line","offset","reason","raw"|"raw_b64"} (raw_b64 when
 * the bytes are not UTF-8), byte-exact, and the line counts as kept.
 * Without it, it prints "prog: file:line: reason" to stderr (the first 20,
 * then only a count at the end) and the run will exit 1.
 * With --strict it prints the message and exits 1 at once.
 */
void	diag_reject(const struct diag_pos *, const char *raw, size_t rawlen, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

/*
 * diag_on_reject registers fn to be told the position and reason of every
 * rejected line before it is accounted for (batch-report counts them by
 * reason).  fn returns true to go on as usual, or false to drop the line
 * unaccounted: not counted, reported or kept (a batch-report -j worker
 * that has read past the end of its piece of a file, which the next
 * worker reads).  One hook; NULL removes it.
 */
void	diag_on_reject(bool (*fn)(const struct diag_pos *, const char *reason, void *arg), void *arg);
/*
 * The streaming form, for a line too long to hold: begin, any number of
 * chunks, end.  The record carries raw or raw_b64 as diag_reject's does:
 * the line is spooled to an unlinked file in $TMPDIR (or /tmp), not
 * memory, until its end decides.  When no such file can be written, the
 * record carries raw_b64 whatever the bytes.
 */
void	diag_reject_begin(const struct diag_pos *, const char *reason);
void	diag_reject_chunk(const void *, size_t);
void	diag_reject_end(void);

/*
 * A side output (--late FILE, --dupes FILE): whole records, one per line.
 * diag_side_open opens path for appending ("-" = stderr); exits 3 on
 * failure.  counter names its --stats counter ("late"); noun is what one
 * record is called in messages ("late event").  With path NULL the side
 * output reports to stderr as "prog: file:line: <noun>" (first 20, then
 * "prog: N <noun>s") and the run still exits 0, since the record is
 * reported, not lost.
 */
struct diag_side;
struct diag_side	*diag_side_open(const char *path, const char *counter, const char *noun);
void	diag_side_write(struct diag_side *, const struct diag_pos *, const char *rec, size_t len);
/* Each side output counts what was written to it; diag_finish closes it and checks for errors. */

/*
 * Counters for --stats.  records_in, records_out and rejected always exist;
 * a tool adds its own by name ("late", "duplicates", "groups", "filtered").
 * The returned pointer stays valid for the run.
 */
uint64_t	*diag_counter(const char *name);
extern uint64_t	 diag_in, diag_out, diag_rejected;
/* diag_stat_str adds a string-valued stat ("format":"csv"); the value is copied. */
void	diag_stat_str(const char *name, const char *value);
/* diag_stat_real adds a number-valued stat that is not a count ("bloom_fill":0.4321). */
void	diag_stat_real(const char *name, double value);

/*
 * diag_stats_pending is set by SIGUSR1, diag_sigpipe by SIGPIPE.
 * diag_poll, called between records, prints the stats line, or ends the
 * run quietly when stdout is a closed pipe.
 */
extern volatile int diag_stats_pending, diag_sigpipe;
void	diag_print_stats(void);
void	diag_poll_slow(void);
static inline void diag_poll(void) { if (diag_stats_pending | diag_sigpipe) diag_poll_slow(); }

/* diag_note_ioerr records that an I/O error was reported, so the run exits 3. */
void	diag_note_ioerr(void);

/*
 * diag_flush flushes stdout, the dead-letter and side outputs.  Tools and
 * lib/input call it when the next read would block.
 */
void	diag_flush(void);
/* diag_add_flush registers another stream (an output file) to flush with the others. */
void	diag_add_flush(FILE *);

/*
 * diag_set_output makes -o FILE the standard output, atomically: the
 * records go to a temporary file beside FILE (lib/state), which
 * diag_commit or diag_finish renames over FILE; a run that fails (status
 * 2 or 3, or killed) leaves FILE as it was.  With in_place, FILE is instead
 * truncated and written as the run goes (a run without an end, such as
 * --follow).  When FILE is one of the n inputs (or standard input, when
 * n is 0 or an input is "-"), it exits 2: "-o FILE is also an input".
 * Exits 3 when the file cannot be created.  Call after the state lock is
 * held, before any output.
 */
void	diag_set_output(const char *path, char *const *inputs, size_t n, bool in_place);

/*
 * diag_sync makes everything written so far durable before a state
 * records it: flushes stdout, the dead-letter and the side outputs,
 * checks them for errors and fsyncs those that are regular files.
 * Returns 0; or, after a write error, prints it, notes status 3 and
 * returns -1 (the caller must not save its state).  Stdout on a closed
 * pipe ends the run quietly (status 0, nothing saved).
 */
int	diag_sync(void);
/*
 * diag_commit is diag_sync, then the -o FILE is renamed into place.  Call
 * it before saving a state at the end of a run, so that the state never
 * counts records that are not in the output.  Returns 0 or -1 as
 * diag_sync.  After it, nothing more may be written to stdout.
 */
int	diag_commit(void);

/*
 * diag_marks appends to marks (a JSON array, borrowed) the length of each
 * output that is a regular file (stdout, the dead-letter, the side
 * outputs) as {"dev":D,"ino":I,"size":N}.  Call right after diag_sync,
 * so that a checkpoint records how much output it accounts for.
 */
struct json_t;
void	diag_marks(struct json_t *marks);
/*
 * diag_rewind cuts each output found in marks (same device and inode)
 * back to its recorded length: what a killed run wrote after its last
 * checkpoint, which the resumed run writes again.  Call before any
 * output.  Returns 0, or -1 with *why (static) when an output is shorter
 * than recorded (it was truncated or replaced).
 */
int	diag_rewind(struct json_t *marks, const char **why);

/*
 * diag_finish ends a run: reports the count of unprinted rejections,
 * prints --stats, flushes and closes the dead-letter, side outputs and
 * stdout, checking each (a full disk is an error, also on standard error
 * when it holds the dead-letter or a side output; EPIPE on stdout is a
 * quiet 0).  With -o FILE, renames it into place unless the status is 3.
 * Returns the exit status: 3 if any I/O error, else 1 if rejected records
 * were not kept, else 0.
 */
int	diag_finish(void);

#endif
