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

#endif
