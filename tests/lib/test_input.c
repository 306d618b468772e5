/* Unit tests of lib/input: gzip past its buffers and in one-byte reads, padding and members, line numbers after over-long lines, and how the dead-letter keeps them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "buf.h"
#include "diag.h"
#include "input.h"
#include "tap.h"

#define KiB	1024

static char	dir[] = "/tmp/test_input.XXXXXX";

/* path_of names a file in the test directory (a new string each call). */
static char *
path_of(const char *name)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, dir);
	buf_addc(&b, '/');
	buf_adds(&b, name);
	return buf_cstr(&b);
}

static void
put(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

static void
slurp(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	char blk[65536];
	size_t n;

	buf_reset(b);
	if (f == NULL)
		return;
	while ((n = fread(blk, 1, sizeof blk, f)) > 0)
		buf_add(b, blk, n);
	fclose(f);
}

/* gz appends the gzip form of n bytes to out. */
static void
gz(struct buf *out, const void *p, size_t n)
{
	z_stream z;

	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		exit(2);
	buf_reserve(out, deflateBound(&z, (uLong)n));
	z.next_in = (unsigned char *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	z.next_out = (unsigned char *)out->p + out->len;
	z.avail_out = (uInt)(out->cap - out->len);
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		exit(2);
	out->len += z.total_out;
	deflateEnd(&z);
}

/* events writes n NDJSON lines of varied, poorly compressible text. */
static void
events(struct buf *b, int n)
{
	uint64_t x = 88172645463325252ULL;
	char line[128];
	int i, len;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		len = snprintf(line, sizeof line, "{\"i\":%d,\"r\":\"%016llx\"}\n", i, (unsigned long long)x);
		buf_add(b, line, (size_t)len);
	}
}

/* What one read of a file through lib/input gave. */
struct got {
	struct buf	 text;		/* the lines, each with "\n" */
	struct buf	 where;		/* "line:offset " per line */
	struct buf	 err;		/* what went to stderr */
	uint64_t	 in;		/* records_in counted by lib/input (rejected lines) */
};

/* readall reads the files through lib/input with max_line and read_max, catching stderr. */
static void
readall(struct got *g, char *const *paths, int n, size_t max_line, size_t read_max)
{
	struct input *in;
	struct in_line ln;
	char pos[64], *errpath = path_of("stderr");
	int saved = dup(2);
	FILE *f;

	buf_reset(&g->text);
	buf_reset(&g->where);
	fflush(stderr);
	if ((f = fopen(errpath, "w")) == NULL)
		exit(2);
	dup2(fileno(f), 2);
	diag_in = 0;
	in = in_open(paths, n, max_line);
	in_read_max(in, read_max);
	while (in_next(in, &ln)) {
		buf_add(&g->text, ln.data, ln.len);
		buf_addc(&g->text, '\n');
		snprintf(pos, sizeof pos, "%llu:%llu ", (unsigned long long)ln.pos.line,
		    (unsigned long long)ln.pos.offset);
		buf_adds(&g->where, pos);
	}
	in_close(in);
	g->in = diag_in;
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fclose(f);
	slurp(errpath, &g->err);
	buf_cstr(&g->err);
	buf_cstr(&g->where);
	free(errpath);
}

static int
same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static void
test_gzip_sizes(void)
{
	static const size_t reads[] = { 0, 1, 3, 65536 };
	struct buf plain = BUF_INIT, file = BUF_INIT;
	struct got g = { BUF_INIT, BUF_INIT, BUF_INIT, 0 };
	char *p = path_of("big.gz");
	size_t i;

	/* About 1.4 MB that gzip leaves at over 600 KiB: far past the 128 KiB zlib buffer. */
	events(&plain, 40000);
	gz(&file, plain.p, plain.len);
	ok(file.len > 256 * KiB, "the gzip file is larger than both buffers (%zu bytes)", file.len);
	put(p, file.p, file.len);
	for (i = 0; i < sizeof reads / sizeof reads[0]; i++) {
		if (reads[i] == 1)
			continue;	/* one byte at a time is below, on a small file */
		readall(&g, &p, 1, 0, reads[i]);
		ok(same(&g.text, &plain), "a %zu-byte gzip file reads back whole with reads of %zu", file.len, reads[i]);
		is_str(g.err.p, "", "and says nothing");
	}
	buf_reset(&plain);
	buf_reset(&file);
	events(&plain, 300);
	gz(&file, plain.p, plain.len);
	put(p, file.p, file.len);
	readall(&g, &p, 1, 0, 1);
	ok(same(&g.text, &plain), "a gzip file read one byte at a time is still found to be gzip");
	is_str(g.err.p, "", "and says nothing");
	free(p);
	buf_free(&plain);
	buf_free(&file);
	buf_free(&g.text);
	buf_free(&g.where);
	buf_free(&g.err);
}

static void
test_gzip_edges(void)
{
	struct buf plain = BUF_INIT, file = BUF_INIT, want = BUF_INIT;
	struct got g = { BUF_INIT, BUF_INIT, BUF_INIT, 0 };
	char *p = path_of("edge.gz"), msg[512];
	size_t cut, i;

	events(&plain, 20000);
	/* Members cut at the buffer sizes and one byte either side. */
	for (cut = 128 * KiB - 1; cut <= 256 * KiB + 1; cut += cut == 128 * KiB + 1 ? 128 * KiB - 2 : 1) {
		buf_reset(&file);
		gz(&file, plain.p, cut);
		gz(&file, plain.p + cut, plain.len - cut);
		put(p, file.p, file.len);
		readall(&g, &p, 1, 0, 0);
		ok(same(&g.text, &plain) && g.err.len == 0, "two members split at byte %zu read as one text", cut);
	}

	buf_reset(&file);
	gz(&file, plain.p, plain.len);
	for (i = 0; i < 1000; i++)
		buf_addc(&file, '\0');
	put(p, file.p, file.len);
	readall(&g, &p, 1, 0, 0);
	ok(same(&g.text, &plain), "zero padding after the last member is ignored");
	is_str(g.err.p, "", "and is no error");
	readall(&g, &p, 1, 0, 7);
	ok(same(&g.text, &plain) && g.err.len == 0, "also when it arrives in 7-byte reads");

	buf_addc(&file, 'x');
	put(p, file.p, file.len);
	readall(&g, &p, 1, 0, 0);
	ok(same(&g.text, &plain), "a byte after the padding leaves the lines before it");
	snprintf(msg, sizeof msg, "test_input: %s: gzip data is corrupt (bytes after the zero padding)\n", p);
	is_str(g.err.p, msg, "and is an error");

	buf_reset(&file);
	gz(&file, plain.p, plain.len);
	buf_adds(&file, "garbage");
	put(p, file.p, file.len);
	readall(&g, &p, 1, 0, 0);
	snprintf(msg, sizeof msg, "test_input: %s: gzip data is corrupt\n", p);
	is_str(g.err.p, msg, "bytes right after a member that are not gzip are corrupt data");

	buf_reset(&file);
	gz(&file, plain.p, plain.len);
	file.len -= 9;
	put(p, file.p, file.len);
	readall(&g, &p, 1, 0, 0);
	snprintf(msg, sizeof msg, "test_input: %s: unexpected end of gzip data\n", p);
	is_str(g.err.p, msg, "a member cut short is an unexpected end");

	put(p, "\x1f\x8b", 2);
	readall(&g, &p, 1, 0, 1);
	is_str(g.err.p, msg, "the magic alone, read a byte at a time, is an unexpected end");

	put(p, "\x1f", 1);
	readall(&g, &p, 1, 0, 0);
	buf_reset(&want);
	buf_add(&want, "\x1f\n", 2);
	ok(same(&g.text, &want) && g.err.len == 0, "a file of one byte 0x1f is a plain line");

	put(p, "\x1fx\n", 3);
	readall(&g, &p, 1, 0, 1);
	buf_reset(&want);
	buf_add(&want, "\x1fx\n", 3);
	ok(same(&g.text, &want) && g.err.len == 0, "0x1f then another byte, one read each, is plain");

	free(p);
	buf_free(&plain);
	buf_free(&file);
	buf_free(&want);
	buf_free(&g.text);
	buf_free(&g.where);
	buf_free(&g.err);
}

/* longline appends "{"s":"xxx…"}" of exactly n bytes and a newline. */
static void
longline(struct buf *b, size_t n, const char *fill)
{
	size_t k = strlen(fill);

	buf_adds(b, "{\"s\":\"");
	while (n - 8 >= k) {
		buf_adds(b, fill);
		n -= k;
	}
	while (n > 8) {
		buf_addc(b, 'x');
		n--;
	}
	buf_adds(b, "\"}\n");
}

/* record builds the dead-letter record diag_reject would write for line 1 of path, as raw or raw_b64. */
static void
record(struct buf *b, const char *path, const char *line, size_t n, int b64)
{
	buf_reset(b);
	buf_adds(b, "{\"file\":");
	jw_cstr(b, path);
	buf_adds(b, ",\"line\":1,\"offset\":0,\"reason\":\"line longer than 50 bytes (--max-line-bytes)\"");
	if (b64) {
		buf_adds(b, ",\"raw_b64\":");
		jw_b64(b, line, n);
	} else {
		buf_adds(b, ",\"raw\":");
		jw_str(b, line, n);
	}
	buf_adds(b, "}\n");
}

static void
test_line_numbers(void)
{
	static const size_t reads[] = { 0, 1, 5, 4096 };
	struct buf file = BUF_INIT, dl = BUF_INIT;
	struct got g = { BUF_INIT, BUF_INIT, BUF_INIT, 0 };
	char *paths[2] = { path_of("long1"), path_of("long2") }, want[1024];
	size_t i;

	/* Line 2 is over the limit, streamed with a small limit; line 5 fits the buffer but not the limit. */
	buf_adds(&file, "{\"a\":1}\n");
	longline(&file, 5000, "y");
	buf_adds(&file, "{\"b\":2}\n\n");
	longline(&file, 60, "z");
	buf_adds(&file, "{\"c\":3}");
	put(paths[0], file.p, file.len);
	buf_reset(&file);
	longline(&file, 3000, "w");
	file.len--;	/* no final newline: streamed to the end of the file */
	put(paths[1], file.p, file.len);
	for (i = 0; i < sizeof reads / sizeof reads[0]; i++) {
		readall(&g, paths, 2, 50, reads[i]);
		is_str(g.where.p, "1:0 3:5009 4:5017 6:5079 ",
		    "lines after over-long ones keep their numbers and offsets (reads of %zu)", reads[i]);
		is_int(g.in, 3, "the three over-long lines count in records_in");
		snprintf(want, sizeof want,
		    "test_input: %s:2: line longer than 50 bytes (--max-line-bytes)\n"
		    "test_input: %s:5: line longer than 50 bytes (--max-line-bytes)\n"
		    "test_input: %s:1: line longer than 50 bytes (--max-line-bytes)\n",
		    paths[0], paths[0], paths[1]);
		is_str(g.err.p, want, "and each is reported where it is");
	}

	/* The same with a dead-letter: raw when UTF-8, whatever the chunks cut. */
	{
		char *dlp = path_of("dl");
		const char *bad[] = { "\xC3", "\xE0\x80\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF", "\xC3\xA9\xC3" };
		struct buf rec = BUF_INIT;
		size_t k;

		diag_set_dead_letter(dlp);	/* opened for appending: emptied by truncate, never unlinked */
		/*
		 * No temporary file: the bytes still go out exactly, as raw_b64.  First,
		 * since the spool, once made, is kept for the run.
		 */
		setenv("TMPDIR", "/nonexistent/dir", 1);
		buf_reset(&file);
		longline(&file, 100, "q");
		put(paths[0], file.p, file.len);
		record(&rec, paths[0], file.p, file.len - 1, 1);
		if (truncate(dlp, 0) != 0)
			exit(2);
		readall(&g, paths, 1, 50, 0);
		diag_flush();
		slurp(dlp, &dl);
		ok(same(&dl, &rec), "without a temporary file the line is kept as raw_b64");
		unsetenv("TMPDIR");
		buf_reset(&file);
		longline(&file, 200, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"\\\t");
		put(paths[0], file.p, file.len);
		record(&rec, paths[0], file.p, file.len - 1, 0);
		for (i = 0; i < sizeof reads / sizeof reads[0]; i++) {
			if (truncate(dlp, 0) != 0)
				exit(2);
			readall(&g, paths, 1, 50, reads[i]);
			diag_flush();
			slurp(dlp, &dl);
			ok(same(&dl, &rec), "an over-long UTF-8 line is kept as raw, escapes and characters whole (reads of %zu)", reads[i]);
		}
		for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
			buf_reset(&file);
			buf_adds(&file, "{\"s\":\"");
			for (i = 0; i < 30; i++)
				buf_adds(&file, "\xC3\xA9");
			buf_adds(&file, bad[k]);
			put(paths[0], file.p, file.len);
			record(&rec, paths[0], file.p, file.len, 1);
			if (truncate(dlp, 0) != 0)
				exit(2);
			readall(&g, paths, 1, 50, 1);
			diag_flush();
			slurp(dlp, &dl);
			ok(same(&dl, &rec), "an over-long line ending in bad UTF-8 (case %zu) is kept as raw_b64", k);
		}
		unlink(dlp);
		free(dlp);
		buf_free(&rec);
	}
	free(paths[0]);
	free(paths[1]);
	buf_free(&file);
	buf_free(&dl);
	buf_free(&g.text);
	buf_free(&g.where);
	buf_free(&g.err);
}

/* Lines at, one under and one over the buffer sizes, plain and gzip, in big and small reads. */
static void
test_buffer_edges(void)
{
	static const size_t sizes[] = { 128 * KiB, 256 * KiB, 512 * KiB };
	static const size_t reads[] = { 0, 4093 };
	struct buf plain = BUF_INIT, file = BUF_INIT;
	struct got g = { BUF_INIT, BUF_INIT, BUF_INIT, 0 };
	char *p = path_of("edges");
	size_t i, r, d, n;
	int z;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		for (d = 0; d < 3; d++) {
			/* A short line first, so the long one does not start the buffer. */
			n = sizes[i] - 1 + d;
			buf_reset(&plain);
			buf_adds(&plain, "{\"a\":1}\n");
			longline(&plain, n, "0123456789");
			buf_adds(&plain, "{\"b\":2}\n");
			for (z = 0; z < 2; z++) {
				buf_reset(&file);
				if (z)
					gz(&file, plain.p, plain.len);
				else
					buf_add(&file, plain.p, plain.len);
				put(p, file.p, file.len);
				for (r = 0; r < sizeof reads / sizeof reads[0]; r++) {
					readall(&g, &p, 1, 0, reads[r]);
					ok(same(&g.text, &plain) && g.err.len == 0,
					    "a %zu-byte line reads back whole (%s, reads of %zu)", n, z ? "gzip" : "plain", reads[r]);
				}
			}
		}
	free(p);
	buf_free(&plain);
	buf_free(&file);
	buf_free(&g.text);
	buf_free(&g.where);
	buf_free(&g.err);
}

int
main(void)
{
	diag_init("test_input");
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 2;
	}
	test_gzip_sizes();
	test_gzip_edges();
	test_line_numbers();
	test_buffer_edges();
	{
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return tap_done();
}
