/* state: checkpoint files, written atomically (temp + fsync + rename) and locked against a second run; atomic output files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "state.h"

#define STATE_VERSION	1
#define TMP_SUFFIX	".tmp.XXXXXX"


/* fsync_dir makes a rename in the directory of path durable; errors are ignored, as the rename is done. */
static void
fsync_dir(const char *path)
{
	char *dir = xstrdup(path);
	int dfd;

	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(dir);
}

/* is_tmp_of reports whether name is base.tmp.XXXXXX or base.pending.tmp.XXXXXX. */
static bool
is_tmp_of(const char *name, const char *base)
{
	size_t bl = strlen(base), i;
	const char *p;

	if (strncmp(name, base, bl) != 0)
		return false;
	p = name + bl;
	if (strncmp(p, ".pending", 8) == 0)
		p += 8;
	if (strncmp(p, ".tmp.", 5) != 0)
		return false;
	p += 5;
	for (i = 0; i < 6; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		    (p[i] >= '0' && p[i] <= '9')))
			return false;
	return p[6] == '\0';
}

/*
 * sweep removes the temporary files of path that a killed run left (it
 * holds the lock, so no other run is writing them).  Only regular files
 * and symlinks go; a symlink is removed, not followed.
 */
static void
sweep(const char *path)
{
	char *dir = xstrdup(path), *base = xstrdup(path);
	const char *d = dirname(dir), *b = basename(base);
	struct buf p = BUF_INIT;
	struct dirent *de;
	struct stat sb;
	DIR *dp;

	if ((dp = opendir(d)) != NULL) {
		while ((de = readdir(dp)) != NULL) {
			if (!is_tmp_of(de->d_name, b))
				continue;
			buf_reset(&p);
			buf_adds(&p, d);
			buf_addc(&p, '/');
			buf_adds(&p, de->d_name);
			if (lstat(buf_cstr(&p), &sb) == 0 && (S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode)))
				unlink(p.p);
		}
		closedir(dp);
	}
	buf_free(&p);
	free(dir);
	free(base);
}

int
st_lock(const char *path)
{
	struct buf p = BUF_INIT;
	int fd;

	buf_adds(&p, path);
	buf_adds(&p, ".lock");
	/* O_NOFOLLOW: a symlink planted as PATH.lock must not create or touch its target. */
	fd = open(buf_cstr(&p), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
	buf_free(&p);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	/*
	 * fd stays open, so the lock is held until the process ends (the kernel
	 * drops it even after a crash); each call takes a lock of its own.
	 */
	sweep(path);
	return 0;
}

/*
 * make_tmp creates an empty temporary file beside path with mode 0666 less
 * the umask (or the mode of the existing path) and stores its name in
 * *name (owned by the caller).  Returns the descriptor, or -1 with errno.
 */
static int
make_tmp(const char *path, char **name)
{
	struct buf p = BUF_INIT;
	struct stat sb;
	mode_t mode, um;
	int fd, e;

	buf_adds(&p, path);
	buf_adds(&p, TMP_SUFFIX);
	if ((fd = mkostemp(buf_cstr(&p), O_CLOEXEC)) < 0) {
		e = errno;
		buf_free(&p);
		errno = e;
		return -1;
	}
	if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
		mode = sb.st_mode & 07777;
	else {
		um = umask(0);
		umask(um);
		mode = 0666 & ~um;
	}
	(void)fchmod(fd, mode);
	*name = p.p;
	return fd;
}

/* The temporary file of each open state, by stream: at most a few at a time. */
#define MAX_OPEN	4
static struct {
	FILE	*f;
	char	*tmp;
} open_st[MAX_OPEN];

static char *
take_tmp(FILE *f)
{
	size_t i;
	char *t;

	for (i = 0; i < MAX_OPEN; i++)
		if (open_st[i].f == f) {
			t = open_st[i].tmp;
			open_st[i].f = NULL;
			open_st[i].tmp = NULL;
			return t;
		}
	return NULL;
}

FILE *
st_begin(const char *path, const char *tool, json_t *hdr)
{
	char *tmp = NULL, *line;
	FILE *f;
	json_t *h;
	size_t i;
	int fd, e;

	for (i = 0; i < MAX_OPEN && open_st[i].f != NULL; i++)
		;
	if (i == MAX_OPEN) {
		errno = EMFILE;
		return NULL;
	}
	if ((fd = make_tmp(path, &tmp)) < 0)
		return NULL;
	if ((f = fdopen(fd, "w")) == NULL) {
		e = errno;
		close(fd);
		unlink(tmp);
		free(tmp);
		errno = e;
		return NULL;
	}
	open_st[i].f = f;
	open_st[i].tmp = tmp;
	h = hdr ? json_deep_copy(hdr) : json_object();
	json_object_set_new(h, "ndflow_state", json_integer(STATE_VERSION));
	json_object_set_new(h, "tool", json_string(tool));
	line = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(h);
	if (line == NULL) {
		st_abort(f, path);
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
	char *tmp = take_tmp(f);
	int e = 0;

	errno = 0;
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0)
		e = errno ? errno : EIO;
	if (fclose(f) != 0 && e == 0)
		e = errno;
	if (tmp == NULL && e == 0)
		e = EINVAL;
	if (e == 0 && rename(tmp, path) != 0)
		e = errno;
	if (e != 0) {
		if (tmp != NULL)
			unlink(tmp);
	} else
		fsync_dir(path);	/* make the rename itself durable */
	free(tmp);
	errno = e;
	return e ? -1 : 0;
}

void
st_abort(FILE *f, const char *path)
{
	char *tmp = take_tmp(f);

	(void)path;
	fclose(f);
	if (tmp != NULL)
		unlink(tmp);
	free(tmp);
}

FILE *
st_open(const char *path, const char *tool, json_t **hdr, const char **why)
{
	FILE *f = fopen(path, "re");
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

/* ---- atomic output files ---- */

static char	*out_path;
static char	*volatile out_tmp;

int
st_out_open(const char *path)
{
	char *tmp = NULL;
	int fd;

	if (out_tmp != NULL) {
		errno = EBUSY;
		return -1;
	}
	if ((fd = make_tmp(path, &tmp)) < 0)
		return -1;
	free(out_path);
	out_path = xstrdup(path);
	out_tmp = tmp;
	return fd;
}

int
st_out_commit(int fd)
{
	char *tmp = out_tmp;
	int e = 0;

	if (tmp == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (fsync(fd) != 0)
		e = errno;
	else if (rename(tmp, out_path) != 0)
		e = errno;
	if (e != 0) {
		unlink(tmp);
	} else
		fsync_dir(out_path);
	out_tmp = NULL;
	free(tmp);
	errno = e;
	return e ? -1 : 0;
}

void
st_out_abort(void)
{
	if (out_tmp != NULL)
		unlink(out_tmp);
}

bool
st_out_pending(void)
{
	return out_tmp != NULL;
}

bool
st_same_file(const char *path, int fd, const char *b)
{
	struct stat a, o;

	if (stat(path, &a) != 0)
		return false;
	if (fd >= 0 && fstat(fd, &o) == 0 && a.st_dev == o.st_dev && a.st_ino == o.st_ino)
		return true;
	if (b != NULL && stat(b, &o) == 0 && a.st_dev == o.st_dev && a.st_ino == o.st_ino)
		return true;
	return false;
}

int
st_int(json_t *o, const char *key, int64_t *v, char *why, size_t whysz)
{
	json_t *j = json_object_get(o, key);

	if (!json_is_integer(j)) {
		snprintf(why, whysz, "member '%s' %s", key, j == NULL ? "is missing" : "is not an integer");
		return -1;
	}
	*v = json_integer_value(j);
	return 0;
}

int
st_str(json_t *o, const char *key, const char **s, size_t *len, char *why, size_t whysz)
{
	json_t *j = json_object_get(o, key);

	if (!json_is_string(j)) {
		snprintf(why, whysz, "member '%s' %s", key, j == NULL ? "is missing" : "is not a string");
		return -1;
	}
	*s = json_string_value(j);
	*len = json_string_length(j);
	return 0;
}
