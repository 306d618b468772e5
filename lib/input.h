/* input: reading lines from operands ("-" = stdin, gzip by magic bytes) with their file, line number and offset. */
#ifndef NDFLOW_INPUT_H
#define NDFLOW_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define IN_MAX_LINE_DEFAULT	((size_t)16 << 20)	/* 16 MiB */

struct input;

struct in_line {
	const char	*data;	/* the line without its "\n" or "\r\n"; valid until the next in_next() */
	size_t		 len;
	struct diag_pos	 pos;	/* file name, 1-based line, byte offset of the line's start */
};

/*
 * in_open prepares to read the operands in order; npaths == 0 reads
 * stdin.  "-" is stdin.  Files are opened lazily, one at a time.
 * Aborts on allocation failure; never fails otherwise (an unreadable file
 * is reported by in_next).
 */
struct input	*in_open(char *const *paths, int npaths, size_t max_line);
void		 in_close(struct input *);

/*
 * in_next reads the next line.  Returns 1 with *ln filled, or 0 at the end
 * of the last operand.  A UTF-8 byte-order mark at the start of a file and
 * a "\r" before the "\n" are dropped; a last line without "\n" is still a
 * line.  A line longer than max_line is not returned: it is streamed to
 * diag_reject_begin/chunk/end and reading goes on.  An unreadable or
 * corrupt operand is reported ("prog: FILE: reason"), noted as an I/O
 * error (exit 3) and skipped.
 * Before a read that would block, in_next calls diag_flush() so that
 * output reaches the next stage at once on a live pipe.
 */
int	in_next(struct input *, struct in_line *ln);

/*
 * in_set_tick makes in_next call fn(ctx) whenever the input has been idle
 * for ms milliseconds while waiting for more (for --idle and absence
 * alerts).  ms <= 0 turns it off.  fn may write output; in_next flushes
 * after it.
 */
void	in_set_tick(struct input *, int ms, void (*fn)(void *), void *ctx);

/* in_stop makes the next in_next return 0 (for SIGTERM handling: set a flag, call this from the loop). */
void	in_stop(struct input *);

/*
 * Resuming and following (ingest --offset-file, --follow).
 *
 * in_start_at makes the first operand start at byte offset, numbering its
 * lines from lineno + 1 (the position an earlier run stopped at).  The
 * operand must be a seekable, uncompressed file; no byte-order mark is
 * looked for.  Call before the first in_next.
 */
void	in_start_at(struct input *, uint64_t offset, uint64_t lineno);
/*
 * in_end_at makes the last operand end at byte offset (a line start): the
 * bytes after it are not read (a -j worker's piece of a file, lib/jobs).
 * The operand must be a regular, uncompressed file.
 */
void	in_end_at(struct input *, uint64_t offset);

/*
 * in_whole_lines(in, true) leaves a last line without "\n" in the last
 * operand unread (its writer may be in the middle of it), so that a later
 * run resumes at its start.
 */
void	in_whole_lines(struct input *, bool);

/*
 * in_follow makes the last operand, when it is a regular file, be followed
 * like tail -F: at its end in_next checks every poll_ms milliseconds for
 * appended bytes, a truncation (reading starts again at 0) or a rename
 * (the old file is read to its end, then the path is opened again, waiting
 * for it to appear).  A line is returned only once its "\n" is there,
 * except the last line of a file left by rotation or truncation.  Output is
 * flushed before each wait; in_stop ends the wait.  poll_ms <= 0 turns it
 * off.
 */
void	in_follow(struct input *, int poll_ms);

/*
 * in_tell gives the position after the last line returned: the file, the
 * number of lines read from it and the byte offset where the next line
 * starts.  After in_next returned 0 it is the end of the last operand read
 * (before an unfinished line left by in_whole_lines).
 */
void	in_tell(const struct input *, struct diag_pos *);
/*
 * in_read_max makes each read() ask for at most n bytes (0: no limit), so
 * that tests and fuzzing see a file the way a slow pipe delivers it.
 */
void	in_read_max(struct input *, size_t n);
/* in_file_id gives the device and inode of the file opened last (0 before any), to tell a rotated file apart. */
void	in_file_id(const struct input *, uint64_t *dev, uint64_t *ino);

/*
 * in_is_gzip reports whether the file at path starts with the gzip magic
 * bytes (byte offsets in it are then not file offsets, so it cannot be
 * resumed).  Returns 1 or 0, or -1 with errno when it cannot be read.
 */
int	in_is_gzip(const char *path);

#endif
