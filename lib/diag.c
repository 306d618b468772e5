/* diag: messages with position, the dead-letter writer, side outputs, counters, --stats and exit statuses. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "diag.h"
#include "state.h"

#define REPORT_MAX	20	/* messages per kind printed before only counting */
#define MAX_COUNTERS	32
#define MAX_SIDES	8
#define MAX_FLUSH	8

uint64_t diag_in, diag_out, diag_rejected;
volatile int diag_stats_pending, diag_sigpipe;

static const char	*prog = "ndflow";
static struct timespec	 t0;
static FILE		*dead;		/* --dead-letter stream, or NULL */
static const char	*dead_path;
static bool		 strict, stats;
static bool		 ioerr;
static uint64_t		 lost;		/* rejected and not kept */
static uint64_t		 reported;	/* rejection messages printed */
static struct buf	 dl;		/* the dead-letter record being built */
static unsigned char	 b64carry[3];	/* streaming base64: bytes not yet encoded */
static size_t		 b64n;
static bool		 streaming;
static int		 out_errno;	/* errno of the first failed write to stdout */
static bool		 stop_deferred;	/* stdout closed while a dead-letter record was being streamed */
static bool		 dead_failed;	/* a write error on the dead-letter was reported */
static const char	*out_path;	/* -o FILE */
static bool		 out_atomic;	/* stdout is FILE's temporary file, not yet renamed */

static struct {
	const char	*name;
	uint64_t	 value;
} counters[MAX_COUNTERS];
static size_t ncounters;

static struct {
	char	*name, *value;
	bool	 raw;	/* value is JSON text (a number), written as is */
} strstats[8];
static size_t nstrstats;

struct diag_side {
	FILE		*f;		/* NULL: report to stderr */
	char		*path;
	char		*what;
	uint64_t	*count;
	uint64_t	 reported;
	bool		 failed;	/* a write error was reported */
};
static void		 quiet_stop(void);
static struct diag_side	*sides[MAX_SIDES];
static size_t		 nsides;
static FILE		*extra_flush[MAX_FLUSH];
static size_t		 nextra;

/*
 * on_sigpipe only notes that a reader went away: the write fails with
 * EPIPE, and the run ends between two records, once the side outputs are
 * flushed whole (quiet_stop).
 */
static void
on_sigpipe(int sig)
{
	(void)sig;
	diag_sigpipe = 1;
}

static void
on_sigusr1(int sig)
{
	(void)sig;
	diag_stats_pending = 1;
}

void
diag_init(const char *name)
{
	struct sigaction sa;
	const char *slash = strrchr(name, '/');

	prog = slash ? slash + 1 : name;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigpipe;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_sigusr1;
	sa.sa_flags = 0;	/* interrupt a blocking read so the stats come at once */
	sigaction(SIGUSR1, &sa, NULL);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
}

const char *
diag_prog(void)
{
	return prog;
}

static void
vmsg(const char *fmt, va_list ap, int errnum)
{
	if (fflush(stdout) != 0 && out_errno == 0)
		out_errno = errno;
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	if (errnum)
		fprintf(stderr, ": %s", strerror(errnum));
	fputc('\n', stderr);
}

void
diag_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
}

void
diag_err(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vmsg(fmt, ap, e);
	va_end(ap);
}

void
diag_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
	if (dead)
		fflush(dead);
	exit(status);
}

void
diag_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", prog);
	exit(EX_USAGE);
}

/* open_out opens a side file for appending; "-" is stderr.  Exits 3 on failure. */
static FILE *
open_out(const char *path, const char *opt)
{
	FILE *f;

	if (strcmp(path, "-") == 0)
		return stderr;
	if ((f = fopen(path, "a")) == NULL) {
		int e = errno;
		diag_die(EX_IOERR, "%s: %s: %s", opt, path, strerror(e));
	}
	return f;
}

void
diag_set_dead_letter(const char *path)
{
	dead = open_out(path, "--dead-letter");
	dead_path = path;
}

void
diag_set_strict(bool on)
{
	strict = on;
}

void
diag_set_stats(bool on)
{
	stats = on;
}

/* dl_head starts a dead-letter record with its position and reason. */
static void
dl_head(const struct diag_pos *pos, const char *reason)
{
	buf_reset(&dl);
	buf_add(&dl, "{\"file\":", 8);
	jw_cstr(&dl, pos->file);
	buf_add(&dl, ",\"line\":", 8);
	jw_uint(&dl, pos->line);
	buf_add(&dl, ",\"offset\":", 10);
	jw_uint(&dl, pos->offset);
	buf_add(&dl, ",\"reason\":", 10);
	jw_cstr(&dl, reason);
}

static void
report(const struct diag_pos *pos, const char *reason)
{
	if (reported++ < REPORT_MAX || strict)
		diag_warn("%s:%llu: %s", pos->file, (unsigned long long)pos->line, reason);
}

/* The hook told of every rejected line (diag_on_reject). */
static bool	(*reject_hook)(const struct diag_pos *, const char *, void *);
static void	*reject_arg;
static bool	 reject_dropped;	/* the hook dropped the line being streamed */

void
diag_on_reject(bool (*fn)(const struct diag_pos *, const char *, void *), void *arg)
{
	reject_hook = fn;
	reject_arg = arg;
}

void
diag_reject(const struct diag_pos *pos, const char *raw, size_t rawlen, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	if (reject_hook != NULL && !reject_hook(pos, reason, reject_arg))
		return;
	diag_rejected++;
	if (dead != NULL) {
		dl_head(pos, reason);
		if (utf8_valid(raw, rawlen)) {
			buf_add(&dl, ",\"raw\":", 7);
			jw_str(&dl, raw, rawlen);
		} else {
			buf_add(&dl, ",\"raw_b64\":", 11);
			jw_b64(&dl, raw, rawlen);
		}
		buf_add(&dl, "}\n", 2);
		fwrite(dl.p, 1, dl.len, dead);
	} else
		lost++;
	if (strict) {
		report(pos, reason);
		diag_flush();
		exit(EX_REJECTED);
	}
	if (dead == NULL)
		report(pos, reason);
}

/*
 * The streaming dead-letter record.  Whether a line is UTF-8 ("raw") or
 * not ("raw_b64") is known only at its end, but the record names the
 * field before the bytes.  So the line is spooled to an unlinked temporary
 * file, never held in memory, while a UTF-8 check runs over the chunks, and
 * diag_reject_end writes the record.  When no temporary file can be
 * written, the bytes go straight out as raw_b64, which keeps them exact.
 */
static struct buf	 dlhead;	/* the streamed record's head, until its end */
static int		 spool = -1;	/* the spool file, made on first use */
static uint64_t		 spooled;	/* bytes in the spool */
static bool		 direct;	/* streaming raw_b64 straight out */
static unsigned		 u8need;	/* continuation bytes the UTF-8 check still expects */
static unsigned char	 u8lo, u8hi;	/* the range of the next continuation byte */
static bool		 u8bad;

/* u8_scan carries the UTF-8 check across chunks (the grammar of utf8_valid). */
static void
u8_scan(const unsigned char *s, size_t n)
{
	size_t i;
	unsigned c;

	for (i = 0; i < n && !u8bad; i++) {
		c = s[i];
		if (u8need > 0) {
			if (c < u8lo || c > u8hi)
				u8bad = true;
			u8need--;
			u8lo = 0x80;
			u8hi = 0xBF;
		} else if (c < 0x80)
			continue;
		else if (c < 0xC2 || c > 0xF4)
			u8bad = true;
		else if (c < 0xE0) {
			u8need = 1;
			u8lo = 0x80;
			u8hi = 0xBF;
		}
		else if (c < 0xF0) {
			u8need = 2;
			u8lo = c == 0xE0 ? 0xA0 : 0x80;	/* overlong */
			u8hi = c == 0xED ? 0x9F : 0xBF;	/* surrogate */
		} else {
			u8need = 3;
			u8lo = c == 0xF0 ? 0x90 : 0x80;	/* overlong */
			u8hi = c == 0xF4 ? 0x8F : 0xBF;	/* past U+10FFFF */
		}
	}
}

/* b64_stream writes bytes to the dead-letter as base64, carrying up to two bytes to the next call. */
static void
b64_stream(const unsigned char *s, size_t n)
{
	size_t i = 0, whole;

	buf_reset(&dl);
	/* Complete the carried group first, then encode whole groups of three. */
	while (b64n > 0 && b64n < 3 && i < n)
		b64carry[b64n++] = s[i++];
	if (b64n == 3) {
		jw_b64(&dl, b64carry, 3);
		b64n = 0;
	}
	whole = (n - i) / 3 * 3;
	if (whole > 0)
		jw_b64(&dl, s + i, whole);
	i += whole;
	while (i < n)
		b64carry[b64n++] = s[i++];
	/* jw_b64 quotes each piece; drop the quotes to keep one string. */
	{
		size_t r, w = 0;
		for (r = 0; r < dl.len; r++)
			if (dl.p[r] != '"')
				dl.p[w++] = dl.p[r];
		dl.len = w;
	}
	fwrite(dl.p, 1, dl.len, dead);
}

/* b64_close writes the carried bytes and ends the base64 string. */
static void
b64_close(void)
{
	buf_reset(&dl);
	if (b64n > 0)
		jw_b64(&dl, b64carry, b64n);
	if (dl.len >= 2) {
		memmove(dl.p, dl.p + 1, dl.len - 2);
		dl.len -= 2;
	}
	b64n = 0;
	buf_add(&dl, "\"", 1);
	fwrite(dl.p, 1, dl.len, dead);
}

/* text_stream writes valid UTF-8 to the dead-letter as the inside of a JSON string. */
static void
text_stream(const unsigned char *s, size_t n)
{
	buf_reset(&dl);
	jw_str(&dl, (const char *)s, n);
	fwrite(dl.p + 1, 1, dl.len - 2, dead);
}

/* spool_open makes the spool file, once per run when it can; returns -1 when it cannot. */
static int
spool_open(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];

	if (spool < 0) {
		if (dir == NULL || *dir == '\0')
			dir = "/tmp";
		if ((size_t)snprintf(path, sizeof path, "%s/ndflow-line-XXXXXX", dir) >= sizeof path ||
		    (spool = mkostemp(path, O_CLOEXEC)) < 0)
			return -1;
		unlink(path);
	}
	if (ftruncate(spool, 0) != 0 || lseek(spool, 0, SEEK_SET) != 0)
		return -1;
	return 0;
}

/* spool_add appends a chunk to the spool; returns -1 (the spool keeps what came before) on failure. */
static int
spool_add(const unsigned char *s, size_t n)
{
	size_t done = 0;
	ssize_t w;

	while (done < n) {
		w = write(spool, s + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;	/* the replay reads only the first spooled bytes */
		done += (size_t)w;
	}
	spooled += n;
	return 0;
}

/*
 * spool_replay hands the spooled bytes to fn in blocks.  With text, a
 * block never ends inside a UTF-8 sequence (jw_str checks each block on
 * its own).  A failed read is an I/O error: the record is ended short.
 */
static void
spool_replay(void (*fn)(const unsigned char *, size_t), bool text)
{
	unsigned char blk[32768];
	uint64_t left = spooled;
	size_t have = 0, cut, i;
	ssize_t r;

	if (lseek(spool, 0, SEEK_SET) != 0)
		left = 0;
	while (left > 0) {
		r = read(spool, blk + have, sizeof blk - have < left ? sizeof blk - have : (size_t)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			diag_warn("dead-letter: cannot read back a spooled line");
			ioerr = true;
			break;
		}
		left -= (uint64_t)r;
		have += (size_t)r;
		cut = have;
		if (text && left > 0) {
			/* Keep a sequence that the block cuts for the next one. */
			i = have - 1;
			while (i > 0 && have - i < 4 && (blk[i] & 0xC0) == 0x80)
				i--;
			if (blk[i] >= 0xC0)
				cut = i;
		}
		fn(blk, cut);
		memmove(blk, blk + cut, have - cut);
		have -= cut;
	}
	if (have > 0)
		fn(blk, have);
}

/* go_direct gives up spooling: the head, raw_b64 and what the spool holds go out now. */
static void
go_direct(void)
{
	fwrite(dlhead.p, 1, dlhead.len, dead);
	fputs(",\"raw_b64\":\"", dead);
	direct = true;
	b64n = 0;
	if (spooled > 0)
		spool_replay(b64_stream, false);
	spooled = 0;
}

void
diag_reject_begin(const struct diag_pos *pos, const char *reason)
{
	reject_dropped = reject_hook != NULL && !reject_hook(pos, reason, reject_arg);
	if (reject_dropped)
		return;
	diag_rejected++;
	streaming = true;
	b64n = 0;
	if (dead != NULL) {
		dl_head(pos, reason);
		buf_reset(&dlhead);
		buf_add(&dlhead, dl.p, dl.len);
		spooled = 0;
		direct = false;
		u8need = 0;
		u8bad = false;
		if (spool_open() < 0)
			go_direct();
	} else {
		lost++;
		report(pos, reason);
	}
}

void
diag_reject_chunk(const void *p, size_t n)
{
	if (dead == NULL || !streaming)
		return;
	if (!direct) {
		u8_scan(p, n);
		if (spool_add(p, n) == 0)
			return;
		go_direct();
	}
	b64_stream(p, n);
}

void
diag_reject_end(void)
{
	if (reject_dropped) {
		reject_dropped = false;
		return;
	}
	if (dead != NULL && streaming) {
		if (direct)
			b64_close();
		else if (!u8bad && u8need == 0) {
			fwrite(dlhead.p, 1, dlhead.len, dead);
			fputs(",\"raw\":\"", dead);
			spool_replay(text_stream, true);
			fputc('"', dead);
		} else {
			fwrite(dlhead.p, 1, dlhead.len, dead);
			fputs(",\"raw_b64\":\"", dead);
			spool_replay(b64_stream, false);
			b64_close();
		}
		fputs("}\n", dead);
		spooled = 0;
		direct = false;
	}
	streaming = false;
	b64n = 0;
	if (stop_deferred)
		quiet_stop();
	if (strict) {
		diag_flush();
		exit(EX_REJECTED);
	}
}

struct diag_side *
diag_side_open(const char *path, const char *counter, const char *what)
{
	struct diag_side *s = xcalloc(1, sizeof *s);

	if (nsides == MAX_SIDES)
		diag_die(EX_IOERR, "too many side outputs");
	s->what = xstrdup(what);
	if (path != NULL) {
		s->path = xstrdup(path);
		s->f = open_out(path, what);
	}
	s->count = diag_counter(counter);
	sides[nsides++] = s;
	return s;
}

void
diag_side_write(struct diag_side *s, const struct diag_pos *pos, const char *rec, size_t len)
{
	(*s->count)++;
	if (s->f != NULL) {
		fwrite(rec, 1, len, s->f);
		if (len == 0 || rec[len - 1] != '\n')
			putc('\n', s->f);
	} else if (s->reported++ < REPORT_MAX)
		diag_warn("%s:%llu: %s", pos->file, (unsigned long long)pos->line, s->what);
}

uint64_t *
diag_counter(const char *name)
{
	size_t i;

	if (strcmp(name, "records_in") == 0)
		return &diag_in;
	if (strcmp(name, "records_out") == 0)
		return &diag_out;
	if (strcmp(name, "rejected") == 0)
		return &diag_rejected;
	for (i = 0; i < ncounters; i++)
		if (strcmp(counters[i].name, name) == 0)
			return &counters[i].value;
	if (ncounters == MAX_COUNTERS)
		diag_die(EX_IOERR, "too many counters");
	counters[ncounters].name = name;
	return &counters[ncounters++].value;
}

void
diag_stat_str(const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < nstrstats; i++)
		if (strcmp(strstats[i].name, name) == 0) {
			free(strstats[i].value);
			strstats[i].value = xstrdup(value);
			return;
		}
	if (nstrstats < sizeof strstats / sizeof strstats[0]) {
		strstats[nstrstats].name = xstrdup(name);
		strstats[nstrstats++].value = xstrdup(value);
	}
}

void
diag_stat_real(const char *name, double value)
{
	struct buf b = BUF_INIT;
	size_t i;

	jw_real(&b, value);
	diag_stat_str(name, buf_cstr(&b));
	buf_free(&b);
	for (i = 0; i < nstrstats; i++)
		if (strcmp(strstats[i].name, name) == 0)
			strstats[i].raw = true;
}

void
diag_print_stats(void)
{
	struct buf b = BUF_INIT;
	struct timespec t1;
	double el;
	size_t i;

	diag_stats_pending = 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	buf_adds(&b, "{\"tool\":");
	jw_cstr(&b, prog);
	buf_adds(&b, ",\"records_in\":");
	jw_uint(&b, diag_in);
	buf_adds(&b, ",\"records_out\":");
	jw_uint(&b, diag_out);
	buf_adds(&b, ",\"rejected\":");
	jw_uint(&b, diag_rejected);
	for (i = 0; i < ncounters; i++) {
		buf_addc(&b, ',');
		jw_cstr(&b, counters[i].name);
		buf_addc(&b, ':');
		jw_uint(&b, counters[i].value);
	}
	for (i = 0; i < nstrstats; i++) {
		buf_addc(&b, ',');
		jw_cstr(&b, strstats[i].name);
		buf_addc(&b, ':');
		if (strstats[i].raw)
			buf_adds(&b, strstats[i].value);
		else
			jw_cstr(&b, strstats[i].value);
	}
	buf_adds(&b, ",\"elapsed_s\":");
	jw_real(&b, (double)(int64_t)(el * 1e6) / 1e6);
	buf_adds(&b, ",\"rate\":");
	jw_uint(&b, el > 0 ? (uint64_t)((double)diag_in / el) : 0);
	buf_adds(&b, "}\n");
	fwrite(b.p, 1, b.len, stderr);
	buf_free(&b);
}

void
diag_note_ioerr(void)
{
	ioerr = true;
}

/* is_sink reports whether stderr holds records (--dead-letter - or a side output -), so its errors count. */
static bool
stderr_is_sink(void)
{
	size_t i;

	if (dead == stderr)
		return true;
	for (i = 0; i < nsides; i++)
		if (sides[i]->f == stderr)
			return true;
	return false;
}

/* sink_failed reports a write error on a side output once and notes status 3. */
static void
sink_failed(const char *what, bool *failed)
{
	int e = errno ? errno : EIO;

	if (!*failed)
		fprintf(stderr, "%s: %s: write error: %s\n", prog, what, strerror(e));
	*failed = true;
	ioerr = true;
}

/* sync_stream flushes a side output and, with dosync, fsyncs it when it is a regular file; -1 on a write error. */
static int
sync_stream(FILE *f, bool dosync)
{
	struct stat sb;

	errno = 0;
	if (fflush(f) != 0 || ferror(f))
		return -1;
	if (dosync && fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) && fsync(fileno(f)) != 0)
		return -1;
	return 0;
}

/* sync_sides flushes the dead-letter and the side outputs; returns -1 after reporting an error. */
static int
sync_sides(bool dosync)
{
	int r = 0;
	size_t i;

	if (dead != NULL && sync_stream(dead, dosync) != 0) {
		sink_failed(dead_path != NULL ? dead_path : "dead-letter", &dead_failed);
		r = -1;
	}
	for (i = 0; i < nsides; i++)
		if (sides[i]->f != NULL && sync_stream(sides[i]->f, dosync) != 0) {
			sink_failed(sides[i]->path, &sides[i]->failed);
			r = -1;
		}
	return r;
}

/*
 * quiet_stop ends the run when stdout is a closed pipe (| head): the side
 * outputs hold whole records, since it runs between records (or is
 * deferred to the end of a dead-letter record being streamed), and are
 * flushed; no state is saved and -o's temporary file goes.  Status 0,
 * or 3 when a side output failed.
 */
static void
quiet_stop(void)
{
	if (streaming) {
		stop_deferred = true;
		return;
	}
	(void)sync_sides(false);
	if (stderr_is_sink() && (fflush(stderr) != 0 || ferror(stderr)))
		ioerr = true;
	st_out_abort();
	_exit(ioerr ? EX_IOERR : EX_OK_ALL);
}

/*
 * check_stdout ends the run when writing to stdout failed: quietly
 * (quiet_stop) on a closed pipe, with status 3 on anything else (a full
 * disk), after flushing the side outputs.
 */
static void
check_stdout(int flushed)
{
	if (flushed == 0 && !ferror(stdout))
		return;
	if (out_errno == 0)
		out_errno = errno ? errno : EIO;
	if (out_errno == EPIPE || diag_sigpipe) {
		quiet_stop();
		return;
	}
	fprintf(stderr, "%s: write error: %s\n", prog, strerror(out_errno));
	(void)sync_sides(false);
	st_out_abort();
	_exit(EX_IOERR);
}

void
diag_poll_slow(void)
{
	if (diag_stats_pending)
		diag_print_stats();
	if (diag_sigpipe) {
		errno = 0;
		if (fflush(stdout) != 0 || ferror(stdout)) {
			if (out_errno == 0)
				out_errno = EPIPE;
			quiet_stop();
		} else if (!stop_deferred)
			diag_sigpipe = 0;	/* a side output's reader went: diag_finish reports it */
	}
}

void
diag_set_output(const char *path, char *const *inputs, size_t n, bool in_place)
{
	const char *target = path;
	char *real = NULL;
	struct stat sb;
	size_t i;
	int fd;

	if (path == NULL || strcmp(path, "-") == 0)
		return;
	/* Writing FILE while reading it would lose the input (or read the output back). */
	if (n == 0 && st_same_file(path, STDIN_FILENO, NULL))
		diag_die(EX_USAGE, "--output: %s is also an input", path);
	for (i = 0; i < n; i++)
		if (strcmp(inputs[i], "-") == 0 ? st_same_file(path, STDIN_FILENO, NULL) :
		    st_same_file(path, -1, inputs[i]))
			diag_die(EX_USAGE, "--output: %s is also an input", path);
	/*
	 * Only a regular file (or a new one) is replaced by rename: a device,
	 * FIFO or terminal (-o /dev/full, -o /dev/stdout) is written as it is,
	 * and a symlink is followed to the file it names.
	 */
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
		in_place = true;
	if (!in_place && (real = realpath(path, NULL)) != NULL)
		target = real;
	if (in_place)
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0666);
	else
		fd = st_out_open(target);
	free(real);
	if (fd < 0) {
		int e = errno;
		diag_die(EX_IOERR, "--output: %s: %s", path, strerror(e));
	}
	fflush(stdout);
	if (dup2(fd, STDOUT_FILENO) < 0) {
		int e = errno;
		st_out_abort();
		diag_die(EX_IOERR, "--output: %s: %s", path, strerror(e));
	}
	close(fd);
	out_path = path;
	if (!in_place) {
		out_atomic = true;
		atexit(st_out_abort);	/* a run that exits with an error leaves FILE as it was */
	}
}

int
diag_sync(void)
{
	struct stat sb;
	int r;

	errno = 0;
	check_stdout(fflush(stdout));
	if (!out_atomic && fstat(STDOUT_FILENO, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    fsync(STDOUT_FILENO) != 0 && errno != EINVAL) {
		diag_err("write error");
		ioerr = true;
		return -1;
	}
	r = sync_sides(true);
	if (stderr_is_sink() && (fflush(stderr) != 0 || ferror(stderr))) {
		ioerr = true;
		r = -1;
	}
	return r;
}

/* commit_output renames -o's temporary file into place; -1 after reporting an error. */
static int
commit_output(void)
{
	if (!out_atomic)
		return 0;
	out_atomic = false;
	if (st_out_commit(STDOUT_FILENO) != 0) {
		diag_err("--output: %s", out_path);
		ioerr = true;
		return -1;
	}
	return 0;
}

/* out_fds lists the descriptors of the outputs that a checkpoint marks: stdout, the dead-letter, the side outputs. */
static size_t
out_fds(int *fds, size_t max)
{
	size_t n = 0, i;

	fds[n++] = STDOUT_FILENO;
	if (dead != NULL && dead != stderr && n < max)
		fds[n++] = fileno(dead);
	for (i = 0; i < nsides && n < max; i++)
		if (sides[i]->f != NULL && sides[i]->f != stderr)
			fds[n++] = fileno(sides[i]->f);
	return n;
}

void
diag_marks(json_t *marks)
{
	int fds[MAX_SIDES + 2];
	struct stat sb;
	size_t n = out_fds(fds, MAX_SIDES + 2), i;

	for (i = 0; i < n; i++)
		if (fstat(fds[i], &sb) == 0 && S_ISREG(sb.st_mode))
			json_array_append_new(marks, json_pack("{s:I,s:I,s:I}",
			    "dev", (json_int_t)sb.st_dev, "ino", (json_int_t)sb.st_ino,
			    "size", (json_int_t)sb.st_size));
}

int
diag_rewind(json_t *marks, const char **why)
{
	int fds[MAX_SIDES + 2];
	struct stat sb;
	size_t n = out_fds(fds, MAX_SIDES + 2), i, j;
	json_t *m;

	for (i = 0; i < n; i++) {
		if (fstat(fds[i], &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		json_array_foreach(marks, j, m) {
			json_int_t size = json_integer_value(json_object_get(m, "size"));
			if (json_integer_value(json_object_get(m, "dev")) != (json_int_t)sb.st_dev ||
			    json_integer_value(json_object_get(m, "ino")) != (json_int_t)sb.st_ino)
				continue;
			if (sb.st_size < size) {
				*why = "an output is shorter than the state recorded (truncated or replaced?)";
				return -1;
			}
			if ((sb.st_size > size && ftruncate(fds[i], (off_t)size) != 0) ||
			    lseek(fds[i], 0, SEEK_END) < 0) {
				*why = strerror(errno);
				return -1;
			}
		}
	}
	return 0;
}

int
diag_commit(void)
{
	if (diag_sync() != 0)
		return -1;
	return commit_output();
}

void
diag_flush(void)
{
	size_t i;

	errno = 0;
	check_stdout(fflush(stdout));
	if (dead && fflush(dead) != 0)
		sink_failed(dead_path != NULL ? dead_path : "dead-letter", &dead_failed);
	for (i = 0; i < nsides; i++)
		if (sides[i]->f && fflush(sides[i]->f) != 0)
			sink_failed(sides[i]->path, &sides[i]->failed);
	for (i = 0; i < nextra; i++)
		fflush(extra_flush[i]);
}

void
diag_add_flush(FILE *f)
{
	if (nextra < MAX_FLUSH)
		extra_flush[nextra++] = f;
}

/*
 * close_checked closes a stream we wrote; a failure is an I/O error, on
 * standard error too (--dead-letter -), reported once.
 */
static void
close_checked(FILE *f, const char *what, bool *failed)
{
	bool bad;

	if (f == NULL)
		return;
	errno = 0;
	if (f == stderr)
		bad = fflush(f) != 0 || ferror(f);
	else
		bad = ferror(f) | (fclose(f) != 0);
	if (bad)
		sink_failed(what, failed);
}

int
diag_finish(void)
{
	size_t i;

	if (reported > REPORT_MAX)
		diag_warn("%llu more rejected records not shown",
		    (unsigned long long)(reported - REPORT_MAX));
	if (lost > 0 && dead == NULL && !strict)
		diag_warn("%llu record%s rejected (use --dead-letter FILE to keep them)",
		    (unsigned long long)lost, lost == 1 ? "" : "s");
	for (i = 0; i < nsides; i++) {
		struct diag_side *s = sides[i];
		if (s->f == NULL && *s->count > 0)
			diag_warn("%llu %s%s%s", (unsigned long long)*s->count, s->what,
			    *s->count == 1 ? "" : "s",
			    s->reported > REPORT_MAX ? " (first 20 shown)" : "");
		close_checked(s->f, s->path ? s->path : s->what, &s->failed);
		free(s->path);
		free(s->what);
		free(s);
	}
	nsides = 0;
	errno = 0;
	check_stdout(fflush(stdout));
	if (stats)
		diag_print_stats();
	close_checked(dead, dead_path ? dead_path : "dead-letter", &dead_failed);
	dead = NULL;
	buf_free(&dl);
	for (i = 0; i < nstrstats; i++) {
		free(strstats[i].name);
		free(strstats[i].value);
	}
	nstrstats = 0;
	errno = 0;
	if (fflush(stdout) != 0)
		check_stdout(1);
	if (out_atomic && (ioerr || commit_output() != 0))
		st_out_abort();	/* status 3: FILE stays as it was */
	out_atomic = false;
	errno = 0;
	if (fclose(stdout) != 0)
		check_stdout(1);
	if (ioerr)
		return EX_IOERR;
	return lost > 0 ? EX_REJECTED : EX_OK_ALL;
}
