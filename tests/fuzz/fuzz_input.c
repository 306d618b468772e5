/* fuzz_input: lib/input over plain and gzip files larger than its buffers, checked line by line against a plain splitter. */
/*
 * The fuzzer's bytes are a few parameters and a payload.  The payload is
 * repeated up to a size near one of input's buffer sizes (the 128 KiB zlib
 * buffer, the 256 KiB line buffer and its first doubling), so inputs of at
 * most 4 KiB still reach every refill, every growth and the streaming of
 * over-long lines.  The file is then written plain, as one or two gzip
 * members, with zero padding or with trailing bytes, or the payload itself
 * is the file; each read() may be limited to a few bytes, as a slow pipe
 * delivers them.  Where the decoded bytes are known, every line's bytes,
 * number and offset must equal those of an independent splitter, and
 * records_in must count the over-long lines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zlib.h>

#include "buf.h"
#include "diag.h"
#include "input.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { PLAIN, GZ, GZ2, GZPAD, GZJUNK, GZCUT, RAWFILE, MAGIC, NMODES };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	diag_init("fuzz_input");
	/* Rejected lines go through the dead-letter writer (and its spool), not to stderr. */
	diag_set_dead_letter("/dev/null");
	return 0;
}

/*
 * gz appends the gzip form of p to out.  Level 0 (stored blocks) keeps the
 * file as large as the text, so that a repeated payload still crosses the
 * 128 KiB zlib buffer; level 1 gives real deflate blocks.
 */
static int	level;

static void
gz(struct buf *out, const unsigned char *p, size_t n)
{
	z_stream z;
	int zr;

	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	buf_reserve(out, deflateBound(&z, (uLong)n));
	z.next_in = (unsigned char *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	z.next_out = (unsigned char *)out->p + out->len;
	z.avail_out = (uInt)(out->cap - out->len);
	zr = deflate(&z, Z_FINISH);
	if (zr != Z_STREAM_END)
		abort();
	out->len += z.total_out;
	deflateEnd(&z);
}

/*
 * check reads the file through lib/input.  With exact, the decoded bytes c
 * are known: each line must come with the bytes, number and offset that a
 * plain splitter finds, and records_in must count the over-long lines.
 */
static void
check(const char *path, const unsigned char *c, size_t n, size_t max_line, size_t read_max, int exact)
{
	struct input *in;
	struct in_line ln;
	char *const paths[] = { (char *)(uintptr_t)path };
	size_t pos = 0, len = 0, next = 0, want;
	uint64_t lineno = 0, rejected = 0;
	const unsigned char *nl;
	int have;

	diag_in = 0;
	in = in_open(paths, 1, max_line);
	in_read_max(in, read_max);
	if (!exact) {
		while (in_next(in, &ln))
			;
		in_close(in);
		return;
	}
	if (n >= 3 && memcmp(c, "\xEF\xBB\xBF", 3) == 0)
		pos = 3;
	for (;;) {
		/* The next line of c that is not too long, counting the ones that are. */
		have = 0;
		while (pos < n) {
			nl = memchr(c + pos, '\n', n - pos);
			len = nl ? (size_t)(nl - (c + pos)) : n - pos;
			next = pos + len + (nl != NULL);
			lineno++;
			if (len <= max_line) {
				have = 1;
				break;
			}
			rejected++;
			pos = next;
		}
		if (in_next(in, &ln) != have)
			abort();	/* a line went missing, or one that is not there came */
		if (!have)
			break;
		want = len > 0 && c[pos + len - 1] == '\r' ? len - 1 : len;
		if (ln.len != want || memcmp(ln.data, c + pos, want) != 0)
			abort();
		if (ln.pos.line != lineno || ln.pos.offset != pos)
			abort();
		pos = next;
	}
	if (in_next(in, &ln) != 0 || diag_in != rejected)
		abort();	/* records_in must count the over-long lines */
	in_close(in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t sizes[] = {
		0, 1000, 128 * 1024 - 1, 128 * 1024, 128 * 1024 + 1,
		256 * 1024 - 1, 256 * 1024, 256 * 1024 + 1, 512 * 1024 + 3,
	};
	static const size_t maxes[] = { 0, 10, 4095, 128 * 1024, 256 * 1024 - 2, 256 * 1024, 300 * 1024 };
	static const size_t reads[] = { 0, 0, 1, 2, 3, 4096, 65536, 65537 };
	struct buf content = BUF_INIT, file = BUF_INIT;
	const uint8_t *pay;
	size_t npay, target, max_line, read_max, cut;
	int mode, exact = 1, fd;
	char path[64];

	if (size < 4)
		return 0;
	mode = data[0] % NMODES;
	level = data[0] / NMODES % 4 == 3;	/* mostly stored, sometimes deflated */
	target = sizes[data[1] % (sizeof sizes / sizeof sizes[0])];
	max_line = maxes[data[2] % (sizeof maxes / sizeof maxes[0])];
	read_max = reads[data[3] % (sizeof reads / sizeof reads[0])];
	pay = data + 4;
	npay = size - 4;
	if (max_line == 0)
		max_line = IN_MAX_LINE_DEFAULT;

	/* Never a NULL p, even when empty: c + 0 on NULL is undefined. */
	buf_reserve(&content, 1);
	buf_reserve(&file, 1);
	/* The decoded bytes: the payload repeated up to the target size (at least once). */
	buf_add(&content, pay, npay);
	while (npay > 0 && content.len < target)
		buf_add(&content, pay, target - content.len < npay ? target - content.len : npay);
	/* One-byte reads through half a megabyte cost too much for what they find. */
	if (read_max > 0 && read_max < 1024 && content.len > 8192)
		read_max = 4096 + read_max;

	cut = npay > 0 ? (size_t)pay[0] * 977 % (content.len + 1) : 0;
	switch (mode) {
	case PLAIN:
		buf_add(&file, content.p, content.len);
		break;
	case GZ:
		gz(&file, (unsigned char *)content.p, content.len);
		break;
	case GZ2:	/* two members: gzip -c a b */
		gz(&file, (unsigned char *)content.p, cut);
		gz(&file, (unsigned char *)content.p + cut, content.len - cut);
		break;
	case GZPAD:	/* zero padding after the last member, as tape blocks leave */
		gz(&file, (unsigned char *)content.p, content.len);
		while (cut-- > 0 && file.len % 512 != 0)
			buf_addc(&file, '\0');
		break;
	case GZJUNK:	/* bytes after a member: an error after the good lines */
		gz(&file, (unsigned char *)content.p, content.len);
		buf_add(&file, pay, npay < 64 ? npay : 64);
		exact = 0;
		break;
	case GZCUT:	/* a member cut short */
		gz(&file, (unsigned char *)content.p, content.len);
		file.len = cut % (file.len + 1);
		exact = 0;
		break;
	case RAWFILE:	/* the payload is the file: any gzip the fuzzer makes */
		buf_add(&file, pay, npay);
		exact = npay < 2 || pay[0] != 0x1f || pay[1] != 0x8b;
		if (exact) {
			buf_reset(&content);
			buf_add(&content, pay, npay);
		}
		break;
	case MAGIC:	/* the gzip magic then the fuzzer's bytes */
		buf_add(&file, "\x1f\x8b", 2);
		buf_add(&file, pay, npay);
		exact = 0;
		break;
	}

	if ((fd = memfd_create("fuzz_input", MFD_CLOEXEC)) < 0)
		abort();
	if (file.len > 0 && write(fd, file.p, file.len) != (ssize_t)file.len)
		abort();
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	check(path, (unsigned char *)content.p, content.len, max_line, read_max, exact);
	close(fd);
	buf_free(&content);
	buf_free(&file);
	return 0;
}
