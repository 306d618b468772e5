/* offsets: where a cron micro-batch stopped in a log file, saved as pending and committed once the pipeline succeeded, with rotation detection. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "hashmap.h"
#include "offsets.h"
#include "state.h"

#define HEAD_MAX	1024

static char *
pending_name(const char *path)
{
	struct buf p = BUF_INIT;

	buf_adds(&p, path);
	buf_adds(&p, ".pending");
	return buf_cstr(&p);
}

static uint64_t
get_u64(json_t *h, const char *key, bool *ok)
{
	json_t *v = json_object_get(h, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		*ok = false;
		return 0;
	}
	return (uint64_t)json_integer_value(v);
}

int
off_load(const char *path, struct off_state *st, const char **why)
{
	json_t *h = NULL, *v;
	FILE *f;
	bool ok = true;
	const char *hash;

	memset(st, 0, sizeof *st);
	if ((f = st_open(path, "ingest", &h, why)) == NULL) {
		if (errno == ENOENT)
			return 0;
		if (errno != EINVAL)
			*why = strerror(errno);
		return -1;
	}
	fclose(f);
	v = json_object_get(h, "file");
	st->dev = get_u64(h, "dev", &ok);
	st->ino = get_u64(h, "ino", &ok);
	st->offset = get_u64(h, "offset", &ok);
	st->line = get_u64(h, "line", &ok);
	st->head_len = get_u64(h, "head_len", &ok);
	hash = json_string_value(json_object_get(h, "head_hash"));
	if (!json_is_string(v) || !ok || hash == NULL || strlen(hash) != 16 ||
	    sscanf(hash, "%" SCNx64, &st->head_hash) != 1) {
		json_decref(h);
		*why = "not an ingest offset file";
		return -1;
	}
	st->file = xstrdup(json_string_value(v));
	json_decref(h);
	return 1;
}

void
off_state_free(struct off_state *st)
{
	free(st->file);
	st->file = NULL;
}

int
off_save_pending(const char *path, const struct off_state *st)
{
	char *pend = pending_name(path), hash[17];
	json_t *h = json_object();
	FILE *f;
	int r = -1;

	snprintf(hash, sizeof hash, "%016" PRIx64, st->head_hash);
	json_object_set_new(h, "file", json_string(st->file));
	json_object_set_new(h, "dev", json_integer((json_int_t)st->dev));
	json_object_set_new(h, "ino", json_integer((json_int_t)st->ino));
	json_object_set_new(h, "offset", json_integer((json_int_t)st->offset));
	json_object_set_new(h, "line", json_integer((json_int_t)st->line));
	json_object_set_new(h, "head_len", json_integer((json_int_t)st->head_len));
	json_object_set_new(h, "head_hash", json_string(hash));
	if ((f = st_begin(pend, "ingest", h)) != NULL)
		r = st_commit(f, pend);
	json_decref(h);
	free(pend);
	return r;
}

int
off_drop_pending(const char *path)
{
	char *pend = pending_name(path);
	int r = unlink(pend);

	free(pend);
	return r != 0 && errno == ENOENT ? 0 : r;
}

int
off_commit(const char *path)
{
	char *pend = pending_name(path), *dir = xstrdup(path);
	int e = 0, dfd;

	if (rename(pend, path) != 0)
		e = errno;
	else if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(dfd);	/* make the rename itself durable */
		close(dfd);
	}
	free(pend);
	free(dir);
	errno = e;
	return e ? -1 : 0;
}

/* head_hash hashes the first len bytes of the open file fd (hm_hash: stable across machines); -1 when it has fewer. */
static int
head_hash(int fd, uint64_t len, uint64_t *hash)
{
	unsigned char b[HEAD_MAX];
	ssize_t n;

	if (len > HEAD_MAX)
		len = HEAD_MAX;
	n = pread(fd, b, (size_t)len, 0);
	if (n < 0 || (uint64_t)n != len)
		return -1;
	*hash = hm_hash(b, (size_t)n);
	return 0;
}

int
off_mark(struct off_state *st, const char *file, uint64_t offset, uint64_t line)
{
	struct stat sb;
	int fd, e;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &sb) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	st->dev = (uint64_t)sb.st_dev;
	st->ino = (uint64_t)sb.st_ino;
	st->offset = offset;
	st->line = line;
	st->head_len = offset < HEAD_MAX ? offset : HEAD_MAX;
	if (head_hash(fd, st->head_len, &st->head_hash) != 0) {
		close(fd);
		errno = EIO;
		return -1;
	}
	close(fd);
	free(st->file);
	st->file = xstrdup(file);
	return 0;
}

/* same_file reports whether path is the file st was taken from: device, inode, size and first bytes. */
static bool
same_file(const struct off_state *st, const char *path, bool *shrunk)
{
	struct stat sb;
	uint64_t h;
	int fd;
	bool same;

	*shrunk = false;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	if (fstat(fd, &sb) != 0 || (uint64_t)sb.st_dev != st->dev || (uint64_t)sb.st_ino != st->ino) {
		close(fd);
		return false;
	}
	if ((uint64_t)sb.st_size < st->offset) {
		*shrunk = true;
		close(fd);
		return false;
	}
	same = head_hash(fd, st->head_len, &h) == 0 && h == st->head_hash;
	close(fd);
	return same;
}

bool
off_same(const struct off_state *st, const char *path)
{
	bool shrunk;

	return same_file(st, path, &shrunk);
}

int
off_plan(const struct off_state *st, const char *file, struct off_plan *plan)
{
	static const char *const suffixes[] = { ".1", ".0" };
	struct buf old = BUF_INIT;
	struct stat sb;
	bool shrunk;
	size_t i;

	memset(plan, 0, sizeof *plan);
	if (same_file(st, file, &shrunk)) {
		plan->offset = st->offset;
		plan->line = st->line;
		return 0;
	}
	if (stat(file, &sb) == 0 && (uint64_t)sb.st_dev == st->dev && (uint64_t)sb.st_ino == st->ino) {
		plan->note = shrunk ? "the file is shorter than the saved offset (truncated); reading it from the start" :
		    "the file's first bytes changed (rewritten); reading it from the start";
		return 0;
	}
	/* Rotated by rename: finish the old file first when it is still there. */
	for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		buf_reset(&old);
		buf_adds(&old, file);
		buf_adds(&old, suffixes[i]);
		if (same_file(st, buf_cstr(&old), &shrunk)) {
			plan->rotated = xstrdup(old.p);
			plan->offset = st->offset;
			plan->line = st->line;
			buf_free(&old);
			return 0;
		}
	}
	buf_free(&old);
	plan->note = "the file was replaced and the old one is not found as FILE.1 or FILE.0; "
	    "reading the new one from the start";
	return 0;
}

void
off_plan_free(struct off_plan *plan)
{
	free(plan->rotated);
	plan->rotated = NULL;
}
