/* killrename: an LD_PRELOAD shim for tests/crash.bats and tests/durability.bats that kills the process right after its N-th rename(), slows fsync and logs when states are written. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#undef fwrite_unlocked

/*
 * Environment:
 *   NDFLOW_SHIM_KILL_RENAME=N   SIGKILL the process right after its N-th
 *                               successful rename() (a state or -o put in place)
 *   NDFLOW_SHIM_FSYNC_MS=M      sleep M milliseconds in every fsync()
 *   NDFLOW_SHIM_NOSYNC=1        make fsync() return at once (a SIGKILL does
 *                               not need it; the crash loops run faster)
 *   NDFLOW_SHIM_LOG=FILE        append "tmpopen T" (a temporary file is made:
 *                               a save starts), "fsync-end T" and "rename T"
 *                               lines, T in monotonic microseconds
 *   NDFLOW_SHIM_KILL_WRITE=N    SIGKILL the process as it makes its N-th
 *                               fwrite() call (a random moment in its output)
 *   NDFLOW_SHIM_COUNT=FILE      at exit, append the number of fwrite() calls made
 */

static long	renames, writes;

/* raw_write writes without going through the write() below. */
static void
raw_write(int fd, const char *p, size_t n)
{
	if (syscall(SYS_write, fd, p, n) < 0)
		(void)0;
}

static void __attribute__((destructor))
count_writes(void)
{
	const char *path = getenv("NDFLOW_SHIM_COUNT");
	char line[32];
	int fd, n;

	if (path == NULL)
		return;
	n = snprintf(line, sizeof line, "%ld\n", writes);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) >= 0) {
		raw_write(fd, line, (size_t)n);
		close(fd);
	}
}

/*
 * count_write counts one stdio write (the tools write through fwrite and
 * fwrite_unlocked; glibc's own flushes are not interposable) and kills
 * the process at the NDFLOW_SHIM_KILL_WRITE-th, before it is buffered.
 */
static void
count_write(void)
{
	static long kill_at = -1;

	if (kill_at < 0) {
		const char *k = getenv("NDFLOW_SHIM_KILL_WRITE");
		kill_at = k != NULL ? atol(k) : 0;
	}
	if (++writes == kill_at)
		raise(SIGKILL);
}

size_t
fwrite(const void *p, size_t size, size_t n, FILE *f)
{
	static size_t (*real)(const void *, size_t, size_t, FILE *);

	if (real == NULL)
		real = (size_t (*)(const void *, size_t, size_t, FILE *))dlsym(RTLD_NEXT, "fwrite");
	count_write();
	return real(p, size, n, f);
}

size_t
fwrite_unlocked(const void *p, size_t size, size_t n, FILE *f)
{
	static size_t (*real)(const void *, size_t, size_t, FILE *);

	if (real == NULL)
		real = (size_t (*)(const void *, size_t, size_t, FILE *))dlsym(RTLD_NEXT, "fwrite_unlocked");
	count_write();
	return real(p, size, n, f);
}

static void
logline(const char *what)
{
	const char *path = getenv("NDFLOW_SHIM_LOG");
	struct timespec ts;
	char line[80];
	int fd, n;

	if (path == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof line, "%s %lld\n", what,
	    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) >= 0) {
		raw_write(fd, line, (size_t)n);
		close(fd);
	}
}

int
rename(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);
	const char *kill_at = getenv("NDFLOW_SHIM_KILL_RENAME");
	int r;

	if (real == NULL)
		real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	r = real(from, to);
	if (r == 0) {
		renames++;
		logline("rename");
		if (kill_at != NULL && renames == atol(kill_at))
			raise(SIGKILL);
	}
	return r;
}

int
mkostemp(char *tmpl, int flags)
{
	static int (*real)(char *, int);

	if (real == NULL)
		real = (int (*)(char *, int))dlsym(RTLD_NEXT, "mkostemp");
	logline("tmpopen");
	return real(tmpl, flags);
}

/* fopen logs a temporary file opened for writing by name (how older code made one). */
FILE *
fopen(const char *path, const char *mode)
{
	static FILE *(*real)(const char *, const char *);

	if (real == NULL)
		real = (FILE *(*)(const char *, const char *))dlsym(RTLD_NEXT, "fopen");
	if (mode[0] == 'w' && strstr(path, ".tmp") != NULL)
		logline("tmpopen");
	return real(path, mode);
}

int
fsync(int fd)
{
	static int (*real)(int);
	const char *ms = getenv("NDFLOW_SHIM_FSYNC_MS");
	int r;

	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if (getenv("NDFLOW_SHIM_NOSYNC") != NULL)
		return 0;
	if (ms != NULL) {
		struct timespec d = { atol(ms) / 1000, (atol(ms) % 1000) * 1000000L };
		nanosleep(&d, NULL);
	}
	r = real(fd);
	logline("fsync-end");
	return r;
}
