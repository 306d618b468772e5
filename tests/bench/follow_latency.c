/* follow_latency: how long a line appended to a file takes to come out of ingest --follow. */
/*
 * Usage: follow_latency N FILE
 * Starts "ingest --follow FILE" with its output on a pipe, then N times
 * appends one event to FILE and waits for it to come out, and prints the
 * median and 99th percentile in milliseconds.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int
main(int argc, char *argv[])
{
	int out[2], fd, i, n;
	pid_t pid;
	double *ms;
	char line[128], buf[4096];
	struct timespec t0, t1;
	ssize_t r;
	size_t have, len;

	if (argc != 3 || (n = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: follow_latency N FILE\n");
		return 2;
	}
	if ((fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644)) < 0 || pipe(out) != 0) {
		perror(argv[2]);
		return 1;
	}
	if ((pid = fork()) == 0) {
		dup2(out[1], 1);
		close(out[0]);
		close(out[1]);
		execlp("ingest", "ingest", "--follow", argv[2], (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	ms = calloc((size_t)n, sizeof *ms);
	usleep(100000);	/* let it start */
	for (i = 0; i < n; i++) {
		len = (size_t)snprintf(line, sizeof line, "{\"n\":%d,\"timestamp\":\"2024-03-15T10:23:45Z\"}\n", i);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (write(fd, line, len) != (ssize_t)len)
			return 1;
		for (have = 0; have < len; have += (size_t)r)
			if ((r = read(out[0], buf + have, sizeof buf - have)) <= 0)
				return 1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms[i] = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		usleep(1000 + (unsigned)(i % 7) * 1000);	/* appends at irregular moments */
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	qsort(ms, (size_t)n, sizeof *ms, cmp);
	printf("%.2f %.2f %.2f\n", ms[n / 2], ms[(n * 99) / 100], ms[n - 1]);
	free(ms);
	return 0;
}
