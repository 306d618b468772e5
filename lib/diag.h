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
 * diag_init sets the program name, installs the SIGPIPE (quiet exit 0)
 * and SIGUSR1 (print --stats now) handlers and starts the clock.
 * Call first in main().
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

/* diag_stats_pending is set by SIGUSR1; diag_poll prints the stats line and clears it. */
extern volatile int diag_stats_pending;
void	diag_print_stats(void);
static inline void diag_poll(void) { if (diag_stats_pending) diag_print_stats(); }

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
 * diag_finish ends a run: reports the count of unprinted rejections,
 * prints --stats, flushes and closes the dead-letter, side outputs and
 * stdout, checking each (a full disk is an error; EPIPE is a quiet 0).
 * Returns the exit status: 3 if any I/O error, else 1 if rejected records
 * were not kept, else 0.
 */
int	diag_finish(void);

#endif
