/* input: reading lines from operands ("-" = stdin, gzip by magic bytes) with their file, line number and offset. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "buf.h"
#include "input.h"

#define BUF_START	(256 * 1024)	/* the line buffer's first size; it doubles for longer lines */
#define RAW_SIZE	(128 * 1024)	/* the zlib input buffer */

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
	bool		 sniff;		/* the first bytes decide: gzip or plain */
	bool		 overflow;	/* discarding the rest of a too-long line */
	size_t		 max_line;
	/* gzip */
	bool		 gz;
	z_stream	 z;
	unsigned char	*raw;		/* RAW_SIZE bytes */
	bool		 raw_eof;
	bool		 member;	/* inside a gzip member (not between members) */
	bool		 padding;	/* zero bytes seen after a member */
	/* idle ticks */
	int		 tick_ms;
	void		(*tick)(void *);
	void		*tick_ctx;
	volatile int	 stop;
	uint64_t	 nlines;
	/* resuming (in_start_at), whole lines only (in_whole_lines), following (in_follow) */
	uint64_t	 start_off, start_line;
	uint64_t	 end_off;	/* in_end_at: the last operand ends here */
	bool		 has_end;
	bool		 whole_lines;
	int		 follow_ms;	/* 0: not following */
	bool		 reopen;	/* open the same operand again (rotation, truncation) */
	bool		 rotated;	/* the path now names another file: drain this one, then reopen */
	uint64_t	 dev, ino;	/* of the file opened last */
	size_t		 read_max;	/* 0, or the most one read() asks for (in_read_max) */
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

/* following reports whether the open operand is the last one and --follow is on. */
static bool
following(const struct input *in)
{
	return in->follow_ms > 0 && in->next == in->npaths && in->fd != 0;
}

/* nap sleeps ms milliseconds (less when a signal arrives), calling the idle tick when it is due. */
static void
nap(struct input *in, int ms, int *idle)
{
	poll(NULL, 0, ms);
	diag_poll();
	*idle += ms;
	if (in->tick != NULL && in->tick_ms > 0 && *idle >= in->tick_ms) {
		in->tick(in->tick_ctx);
		diag_flush();
		*idle = 0;
	}
}

/* open_next opens the next operand (or the same one again after a rotation); returns 0 when there is none left. */
static int
open_next(struct input *in)
{
	const char *p;
	int idle = 0;

	if (in->reopen) {
		in->reopen = false;
		in->next--;
	}
	while (in->next < in->npaths) {
		p = in->paths[in->next++];
		in->name = p;
		if (strcmp(p, "-") == 0)
			in->fd = 0;
		else if ((in->fd = open(p, O_RDONLY | O_CLOEXEC)) < 0) {
			if (errno == ENOENT && in->follow_ms > 0 && in->next == in->npaths) {
				/* Like tail -F: wait for the file to (re)appear. */
				diag_flush();
				while (!in->stop && access(p, F_OK) != 0)
					nap(in, in->follow_ms, &idle);
				if (in->stop)
					return 0;
				in->next--;
				continue;
			}
			diag_err("%s", p);
			diag_note_ioerr();
			continue;
		}
		in->start = in->end = in->scan = 0;
		in->lineno = 0;
		in->off = 0;
		in->eof = false;
		in->fresh = true;
		in->sniff = true;
		in->overflow = false;
		in->gz = false;
		in->raw_eof = false;
		in->member = false;
		in->padding = false;
		in->rotated = false;
		{
			struct stat sb;
			if (fstat(in->fd, &sb) == 0) {
				in->dev = (uint64_t)sb.st_dev;
				in->ino = (uint64_t)sb.st_ino;
			}
		}
		if (in->next == 1 && in->start_off > 0 && in->fd != 0) {
			/* Resume: no byte-order mark or gzip check in the middle of a file. */
			if (lseek(in->fd, (off_t)in->start_off, SEEK_SET) < 0) {
				diag_err("%s", p);
				diag_note_ioerr();
				close(in->fd);
				in->fd = -1;
				continue;
			}
			in->off = in->start_off;
			in->lineno = in->start_line;
			in->fresh = false;
			in->sniff = false;
			in->start_off = 0;
		}
		return 1;
	}
	return 0;
}

/*
 * follow_wait is called when a read of the followed file found its end.
 * It waits until the file grows (returns 0: read again), or was truncated
 * or replaced by a rename (returns 1: finish this file and open the path
 * again), or in_stop was called (returns -1).  After a rename the old
 * file is read to its end once more before the switch, so that lines
 * written to it just before the rename are not lost.
 */
static int
follow_wait(struct input *in)
{
	struct stat fst, pst;
	uint64_t pos = in->off + (in->end - in->start);
	int idle = 0;

	if (in->rotated)
		return 1;
	diag_flush();
	for (;;) {
		if (in->stop)
			return -1;
		if (fstat(in->fd, &fst) != 0 || !S_ISREG(fst.st_mode))
			return 1;
		if ((uint64_t)fst.st_size < pos)
			return 1;	/* truncated (copytruncate): start again at 0 */
		if ((uint64_t)fst.st_size > pos)
			return 0;
		if (stat(in->name, &pst) == 0 &&
		    (pst.st_ino != fst.st_ino || pst.st_dev != fst.st_dev)) {
			in->rotated = true;	/* one more read of the old file, then switch */
			return 0;
		}
		nap(in, in->follow_ms, &idle);
	}
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

	if (in->read_max > 0 && n > in->read_max)
		n = in->read_max;
	if (in->has_end && in->next == in->npaths && in->fd > 0) {
		/* in_end_at: the bytes past end_off of the last operand are another reader's. */
		off_t at = lseek(in->fd, 0, SEEK_CUR);

		if (at >= 0 && (uint64_t)at >= in->end_off)
			return 0;
		if (at >= 0 && n > in->end_off - (uint64_t)at)
			n = (size_t)(in->end_off - (uint64_t)at);
	}
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

/* gz_fail reports a gzip stream that cannot be decoded; returns -1 for fill. */
static ssize_t
gz_fail(struct input *in, const char *what)
{
	diag_warn("%s: %s", in->name, what);
	diag_note_ioerr();
	return -1;
}

/*
 * fill_gz decompresses into buf[end..cap).  Returns bytes added, 0 at the
 * clean end of the data, -1 on error.  Members follow one another
 * (gzip -c a b > ab.gz); zero bytes after the last member are padding and
 * ignored, as gzip(1) does, but anything after them is not.
 */
static ssize_t
fill_gz(struct input *in)
{
	size_t room = in->cap - in->end;
	ssize_t r;
	int zr;

	if (room > UINT_MAX)
		room = UINT_MAX;
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
		if (!in->member) {
			while (in->z.avail_in > 0 && *in->z.next_in == 0) {
				in->z.next_in++;
				in->z.avail_in--;
				in->padding = true;
			}
			if (in->z.avail_in == 0) {
				if (in->raw_eof)
					return 0;
				continue;
			}
			if (in->padding)
				return gz_fail(in, "gzip data is corrupt (bytes after the zero padding)");
			in->member = true;
		}
		in->z.next_out = (unsigned char *)in->buf + in->end;
		in->z.avail_out = (uInt)room;
		zr = inflate(&in->z, Z_NO_FLUSH);
		r = (ssize_t)(room - in->z.avail_out);
		if (zr == Z_STREAM_END) {
			if (inflateReset(&in->z) != Z_OK)
				return gz_fail(in, "gzip data is corrupt");
			in->member = false;
		} else if (zr == Z_BUF_ERROR) {
			/* No progress: inflate needs input there is none of. */
			if (in->raw_eof && in->z.avail_in == 0)
				return gz_fail(in, "unexpected end of gzip data");
		} else if (zr != Z_OK)
			return gz_fail(in, "gzip data is corrupt");
		if (r > 0)
			return r;
	}
}

/*
 * sniff_gzip makes the first read of a file, which decides whether it is
 * gzip: the bytes go to buf[end..] as for a plain file, at most RAW_SIZE
 * of them so that they fit the zlib input buffer if they are gzip.  A
 * first byte 0x1f is not yet enough to tell, so reading goes on until the
 * second byte (a pipe may deliver one byte at a time).  Returns bytes
 * added (decompressed when gzip), 0 at EOF, -1 on error.
 */
static ssize_t
sniff_gzip(struct input *in)
{
	unsigned char *p = (unsigned char *)in->buf + in->end;
	size_t want = in->cap - in->end < RAW_SIZE ? in->cap - in->end : RAW_SIZE;
	ssize_t r, more;

	r = read_raw(in, p, want);
	if (r <= 0)
		return r;	/* at EOF sniff stays on: a followed file may still grow */
	while (r == 1 && p[0] == 0x1f && want > 1) {
		if ((more = read_raw(in, p + 1, want - 1)) < 0)
			return -1;
		if (more == 0)
			break;
		r += more;
	}
	in->sniff = false;
	if (r < 2 || p[0] != 0x1f || p[1] != 0x8b)
		return r;
	/* gzip: hand what we read to zlib and decompress from here on. */
	if (in->raw == NULL)
		in->raw = xmalloc(RAW_SIZE);
	memcpy(in->raw, p, (size_t)r);
	memset(&in->z, 0, sizeof in->z);
	if (inflateInit2(&in->z, 15 + 16) != Z_OK)
		return gz_fail(in, "cannot start gzip decoder");
	in->gz = true;
	in->z.next_in = in->raw;
	in->z.avail_in = (uInt)r;
	return fill_gz(in);
}

/* fill reads more bytes into buf[end..cap).  Returns bytes added, 0 at EOF, -1 on error. */
static ssize_t
fill(struct input *in)
{
	if (in->gz)
		return fill_gz(in);
	if (in->sniff)
		return sniff_gzip(in);
	return read_raw(in, in->buf + in->end, in->cap - in->end);
}

static void
reject_begin(struct input *in, const struct diag_pos *pos)
{
	char reason[96];

	/* The line is read, though no tool sees it: it counts in records_in. */
	diag_in++;
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
				struct diag_pos pos = { in->name, in->lineno, in->off };

				len = stop - in->start;
				in->off += len + (nl != NULL);
				in->start = in->scan = stop + (nl != NULL);
				if (in->overflow) {
					/* The end of a streamed line, counted when it began. */
					diag_reject_chunk(data, len);
					diag_reject_end();
					in->overflow = false;
					continue;
				}
				pos.line = ++in->lineno;
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
		if (r == 0 && !in->gz && following(in)) {
			int w = follow_wait(in);
			if (w < 0)
				return 0;
			if (w > 0) {
				in->eof = true;	/* a partial last line is given as it is */
				in->reopen = true;
			}
			continue;
		}
		if (r == 0) {
			in->eof = true;
			if (in->whole_lines && in->next == in->npaths) {
				/* Leave an unfinished last line for the next run. */
				in->end = in->scan = in->start;
			}
		}
		in->end += (size_t)r;
	}
}

void
in_start_at(struct input *in, uint64_t offset, uint64_t lineno)
{
	in->start_off = offset;
	in->start_line = lineno;
}

void
in_end_at(struct input *in, uint64_t offset)
{
	in->end_off = offset;
	in->has_end = true;
}

void
in_whole_lines(struct input *in, bool on)
{
	in->whole_lines = on;
}

void
in_follow(struct input *in, int poll_ms)
{
	in->follow_ms = poll_ms > 0 ? poll_ms : 0;
}

void
in_read_max(struct input *in, size_t n)
{
	in->read_max = n;
}

void
in_file_id(const struct input *in, uint64_t *dev, uint64_t *ino)
{
	*dev = in->dev;
	*ino = in->ino;
}

void
in_tell(const struct input *in, struct diag_pos *pos)
{
	pos->file = in->name;
	pos->line = in->lineno;
	pos->offset = in->off;
}

int
in_is_gzip(const char *path)
{
	unsigned char m[2];
	FILE *f = fopen(path, "rb");
	int gz;

	if (f == NULL)
		return -1;
	gz = fread(m, 1, 2, f) == 2 && m[0] == 0x1f && m[1] == 0x8b;
	fclose(f);
	return gz;
}
