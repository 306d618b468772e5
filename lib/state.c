/* state: checkpoint files, written atomically (temp + fsync + rename) and locked against a second run. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "buf.h"
#include "state.h"

#define STATE_VERSION	1

static int	lock_fd = -1;

int
st_lock(const char *path)
{
	struct buf p = BUF_INIT;
	int fd;

	buf_adds(&p, path);
	buf_adds(&p, ".lock");
	fd = open(buf_cstr(&p), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	buf_free(&p);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	/* Held until the process ends; the kernel drops it even after a crash. */
	lock_fd = fd;
	return 0;
}

static char *
tmp_name(const char *path)
{
	struct buf p = BUF_INIT;

	buf_adds(&p, path);
	buf_adds(&p, ".tmp");
	return buf_cstr(&p);
}

FILE *
st_begin(const char *path, const char *tool, json_t *hdr)
{
	char *tmp = tmp_name(path);
	FILE *f = fopen(tmp, "w");
	json_t *h;
	char *line;

	free(tmp);
	if (f == NULL)
		return NULL;
	h = hdr ? json_deep_copy(hdr) : json_object();
	json_object_set_new(h, "ndflow_state", json_integer(STATE_VERSION));
	json_object_set_new(h, "tool", json_string(tool));
	line = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(h);
	if (line == NULL) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	fprintf(f, "%s\n", line);
	free(line);
	return f;
}

int
st_commit(FILE *f, const char *path)
{
	char *tmp = tmp_name(path);
	char *dir = xstrdup(path);
	int e = 0, dfd;

	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0)
		e = errno ? errno : EIO;
	if (fclose(f) != 0 && e == 0)
		e = errno;
	if (e == 0 && rename(tmp, path) != 0)
		e = errno;
	if (e != 0)
		unlink(tmp);
	else if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(dfd);	/* make the rename itself durable */
		close(dfd);
	}
	free(tmp);
	free(dir);
	errno = e;
	return e ? -1 : 0;
}

void
st_abort(FILE *f, const char *path)
{
	char *tmp = tmp_name(path);

	fclose(f);
	unlink(tmp);
	free(tmp);
}

FILE *
st_open(const char *path, const char *tool, json_t **hdr, const char **why)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	json_t *h, *v;

	*hdr = NULL;
	if (f == NULL)
		return NULL;
	n = getline(&line, &cap, f);
	h = n > 0 ? json_loadb(line, (size_t)n, 0, NULL) : NULL;
	free(line);
	if (h == NULL || !json_is_integer(v = json_object_get(h, "ndflow_state"))) {
		*why = "not an ndflow state file";
		goto bad;
	}
	if (json_integer_value(v) > STATE_VERSION) {
		*why = "it was written by a newer version of ndflow";
		goto bad;
	}
	v = json_object_get(h, "tool");
	if (!json_is_string(v) || strcmp(json_string_value(v), tool) != 0) {
		*why = "it belongs to another tool";
		goto bad;
	}
	*hdr = h;
	return f;
bad:
	json_decref(h);
	fclose(f);
	errno = EINVAL;
	return NULL;
}
