/* killrename: an LD_PRELOAD shim for tests/crash.bats and tests/durability.bats that kills the process right after its N-th rename(), slows fsync and logs when states are written. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * Environment:
 *   NDFLOW_SHIM_KILL_RENAME=N   SIGKILL the process right after its N-th
 *                               successful rename() (a state or -o put in place)
 *   NDFLOW_SHIM_FSYNC_MS=M      sleep M milliseconds in every fsync()
 *   NDFLOW_SHIM_NOSYNC=1        make fsync() return at once (a SIGKILL does
 *                               not need it; the crash loops run faster)
 *   NDFLOW_SHIM_LOG=FILE        append "mkostemp T" and "rename T" lines,
 *                               T in monotonic microseconds
 */

static long	renames;

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
		if (write(fd, line, (size_t)n) < 0)
			(void)0;
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
	logline("mkostemp");
	return real(tmpl, flags);
}

int
fsync(int fd)
{
	static int (*real)(int);
	const char *ms = getenv("NDFLOW_SHIM_FSYNC_MS");

	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if (getenv("NDFLOW_SHIM_NOSYNC") != NULL)
		return 0;
	if (ms != NULL) {
		struct timespec d = { atol(ms) / 1000, (atol(ms) % 1000) * 1000000L };
		nanosleep(&d, NULL);
	}
	return real(fd);
}
