/* input: reading lines from operands ("-" = stdin, gzip by magic bytes) with their file, line number and offset. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "buf.h"
#include "input.h"

#define BUF_START	(256 * 1024)
#define RAW_SIZE	(128 * 1024)

struct input {
	char *const	*paths;
	int		 npaths, next;	/* next operand to open */
	int		 fd;		/* -1: no file open */
	const char	*name;
	/* decompressed (or plain) bytes: [start, end) not yet returned */
	char		*buf;
	size_t		 cap, start, end, scan;
	uint64_t	 lineno;
	uint64_t	 off;		/* file offset of buf[start] */
	bool		 eof;		/* no more bytes from this file */
	bool		 fresh;		/* nothing read from this file yet (BOM check) */
	bool		 overflow;	/* discarding the rest of a too-long line */
	size_t		 max_line;
	/* gzip */
	bool		 gz;
	z_stream	 z;
	unsigned char	*raw;
	bool		 raw_eof;
	/* idle ticks */
	int		 tick_ms;
	void		(*tick)(void *);
	void		*tick_ctx;
	volatile int	 stop;
	uint64_t	 nlines;
};

struct input *
in_open(char *const *paths, int npaths, size_t max_line)
{
	struct input *in = xcalloc(1, sizeof *in);
	static char *const dash[] = { "-" };

	if (npaths == 0) {
		paths = dash;
		npaths = 1;
	}
	in->paths = paths;
	in->npaths = npaths;
	in->fd = -1;
	in->max_line = max_line ? max_line : IN_MAX_LINE_DEFAULT;
	in->cap = BUF_START;
	in->buf = xmalloc(in->cap);
	return in;
}

static void
close_file(struct input *in)
{
	if (in->fd > 0)
		close(in->fd);
	if (in->gz)
		inflateEnd(&in->z);
	in->gz = false;
	in->fd = -1;
}

void
in_close(struct input *in)
{
	if (in == NULL)
		return;
	close_file(in);
	free(in->buf);
	free(in->raw);
	free(in);
}

void
in_set_tick(struct input *in, int ms, void (*fn)(void *), void *ctx)
{
	in->tick_ms = ms > 0 ? ms : 0;
	in->tick = fn;
	in->tick_ctx = ctx;
}

void
in_stop(struct input *in)
{
	in->stop = 1;
}

/* open_next opens the next operand; returns 0 when there is none left. */
static int
open_next(struct input *in)
{
	const char *p;

	while (in->next < in->npaths) {
		p = in->paths[in->next++];
		in->name = p;
		if (strcmp(p, "-") == 0)
			in->fd = 0;
		else if ((in->fd = open(p, O_RDONLY | O_CLOEXEC)) < 0) {
			diag_err("%s", p);
			diag_note_ioerr();
			continue;
		}
		in->start = in->end = in->scan = 0;
		in->lineno = 0;
		in->off = 0;
		in->eof = false;
		in->fresh = true;
		in->overflow = false;
		in->gz = false;
		in->raw_eof = false;
		return 1;
	}
	return 0;
}

/*
 * wait_readable flushes output and waits when a read of fd would block,
 * calling the tick function every tick_ms of silence.  Returns 0 to go
 * on reading, -1 when stopped.
 */
static int
wait_readable(struct input *in, int fd)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	int r;

	if (poll(&pfd, 1, 0) > 0)
		return 0;
	diag_flush();
	for (;;) {
		if (in->stop)
			return -1;
		diag_poll();
		r = poll(&pfd, 1, in->tick && in->tick_ms ? in->tick_ms : -1);
		if (r > 0)
			return 0;
		if (r == 0 && in->tick) {
			in->tick(in->tick_ctx);
			diag_flush();
		} else if (r < 0 && errno != EINTR)
			return 0;	/* let read() report it */
	}
}

/* read_raw reads up to n bytes of the file; returns bytes, 0 at EOF, -1 on error or stop. */
static ssize_t
read_raw(struct input *in, void *p, size_t n)
{
	ssize_t r;

	for (;;) {
		if (wait_readable(in, in->fd) < 0)
			return -1;
		r = read(in->fd, p, n);
		if (r >= 0)
			return r;
		if (errno == EINTR) {
			diag_poll();
			if (in->stop)
				return -1;
			continue;
		}
		diag_err("%s", in->name);
		diag_note_ioerr();
		return -1;
	}
}

/* fill reads more bytes into buf[end..cap).  Returns bytes added, 0 at EOF, -1 on error. */
static ssize_t
fill(struct input *in)
{
	ssize_t r;
	int zr;

	if (!in->gz) {
		r = read_raw(in, in->buf + in->end, in->cap - in->end);
		if (r > 0 && in->fresh && in->end == 0 && r >= 2 &&
		    (unsigned char)in->buf[0] == 0x1f && (unsigned char)in->buf[1] == 0x8b) {
			/* gzip: hand what we read to zlib and decompress from here on. */
			if (in->raw == NULL)
				in->raw = xmalloc(RAW_SIZE);
			memcpy(in->raw, in->buf, (size_t)r);
			memset(&in->z, 0, sizeof in->z);
			if (inflateInit2(&in->z, 15 + 32) != Z_OK) {
				diag_warn("%s: cannot start gzip decoder", in->name);
				diag_note_ioerr();
				return -1;
			}
			in->gz = true;
			in->z.next_in = in->raw;
			in->z.avail_in = (uInt)r;
			return fill(in);
		}
		return r;
	}
	for (;;) {
		if (in->z.avail_in == 0 && !in->raw_eof) {
			r = read_raw(in, in->raw, RAW_SIZE);
			if (r < 0)
				return -1;
			if (r == 0)
				in->raw_eof = true;
			in->z.next_in = in->raw;
			in->z.avail_in = (uInt)r;
		}
		in->z.next_out = (unsigned char *)in->buf + in->end;
		in->z.avail_out = (uInt)(in->cap - in->end);
		zr = inflate(&in->z, Z_NO_FLUSH);
		r = (ssize_t)((in->cap - in->end) - in->z.avail_out);
		if (zr == Z_STREAM_END) {
			/* Concatenated members (gzip -c a b > ab.gz) follow one another. */
			inflateReset(&in->z);
			if (in->z.avail_in == 0 && in->raw_eof)
				in->z.avail_in = 0;
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			diag_warn("%s: gzip data is corrupt", in->name);
			diag_note_ioerr();
			return -1;
		} else if (zr == Z_BUF_ERROR && in->raw_eof && in->z.avail_in == 0) {
			if (in->z.total_in > 0 || in->z.total_out > 0) {
				/* The stream ended inside a member. */
				diag_warn("%s: unexpected end of gzip data", in->name);
				diag_note_ioerr();
				return r > 0 ? r : -1;
			}
			return r;
		}
		if (r > 0)
			return r;
		if (in->raw_eof && in->z.avail_in == 0)
			return 0;
	}
}

static void
reject_begin(struct input *in, const struct diag_pos *pos)
{
	char reason[96];

	snprintf(reason, sizeof reason, "line longer than %zu bytes (--max-line-bytes)", in->max_line);
	diag_reject_begin(pos, reason);
}

/* too_long rejects a whole line that is in the buffer but over the limit, the same way as a streamed one. */
static void
too_long(struct input *in, const struct diag_pos *pos, const char *data, size_t len)
{
	reject_begin(in, pos);
	diag_reject_chunk(data, len);
	diag_reject_end();
}

int
in_next(struct input *in, struct in_line *ln)
{
	char *nl;
	size_t len;
	ssize_t r;

	if ((++in->nlines & 4095) == 0 && ferror(stdout))
		diag_flush();	/* ends the run with the write error */
	for (;;) {
		if (in->stop)
			return 0;
		if (in->fd < 0 && !open_next(in))
			return 0;
		if (in->fresh && in->end - in->start >= 3) {
			if (memcmp(in->buf + in->start, "\xEF\xBB\xBF", 3) == 0) {
				in->start += 3;
				in->off += 3;
			}
			in->fresh = false;
		}
		if (!in->fresh || in->eof) {
			nl = memchr(in->buf + in->scan, '\n', in->end - in->scan);
			if (nl != NULL || (in->eof && in->end > in->start)) {
				size_t stop = nl ? (size_t)(nl - in->buf) : in->end;
				const char *data = in->buf + in->start;
				struct diag_pos pos = { in->name, ++in->lineno, in->off };

				len = stop - in->start;
				in->off += len + (nl != NULL);
				in->start = in->scan = stop + (nl != NULL);
				if (in->overflow) {
					diag_reject_chunk(data, len);
					diag_reject_end();
					in->overflow = false;
					continue;
				}
				if (len > in->max_line) {
					too_long(in, &pos, data, len);
					continue;
				}
				ln->data = data;
				ln->len = len;
				ln->pos = pos;
				if (len > 0 && data[len - 1] == '\r')
					ln->len--;
				return 1;
			}
			in->scan = in->end;
		}
		if (in->eof) {
			if (in->overflow) {
				diag_reject_end();
				in->overflow = false;
			}
			close_file(in);
			continue;
		}
		/* The pending partial line is too long: stream it out and drop it. */
		if (in->end - in->start > in->max_line) {
			if (!in->overflow) {
				struct diag_pos pos = { in->name, ++in->lineno, in->off };
				reject_begin(in, &pos);
				in->overflow = true;
			}
			diag_reject_chunk(in->buf + in->start, in->end - in->start);
			in->off += in->end - in->start;
			in->start = in->scan = in->end;
		}
		/* Make room: move the partial line to the front, grow if it fills the buffer. */
		if (in->start > 0) {
			memmove(in->buf, in->buf + in->start, in->end - in->start);
			in->end -= in->start;
			in->scan -= in->start;
			in->start = 0;
		}
		if (in->end == in->cap) {
			in->cap *= 2;
			in->buf = xrealloc(in->buf, in->cap);
		}
		r = fill(in);
		if (r < 0) {
			if (in->stop)
				return 0;
			in->eof = true;	/* give what we have, then skip the file */
			continue;
		}
		if (r == 0)
			in->eof = true;
		in->end += (size_t)r;
	}
}
