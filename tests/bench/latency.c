/* latency: how long one event takes to cross a pipeline of ndflow tools on a live pipe. */
/*
 * Usage: latency N 'ingest | ingest | ingest'
 * Starts the pipeline with pipes on both ends, then N times writes one
 * event and waits for it to come out, and prints the median and 99th
 * percentile round trip in milliseconds.
 */
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
	int in[2], out[2], i, n;
	pid_t pid;
	double *ms;
	char buf[4096];
	struct timespec t0, t1;

	if (argc != 3)
		return fprintf(stderr, "usage: latency N PIPELINE\n"), 2;
	n = atoi(argv[1]);
	ms = calloc((size_t)n, sizeof *ms);
	if (pipe(in) || pipe(out))
		return perror("pipe"), 1;
	if ((pid = fork()) == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl("/bin/sh", "sh", "-c", argv[2], (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	for (i = 0; i < n; i++) {
		int len = snprintf(buf, sizeof buf,
		    "{\"user_id\":\"user_1\",\"page\":\"home\",\"timestamp\":\"2024-03-15T10:00:%02d.%06dZ\",\"value\":%d}\n",
		    i / 1000000 % 60, i % 1000000, i);
		ssize_t got = 0, r;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (write(in[1], buf, (size_t)len) != len)
			return perror("write"), 1;
		/* Wait for the whole line to come back out. */
		while (got == 0 || buf[got - 1] != '\n') {
			r = read(out[0], buf + got, sizeof buf - (size_t)got);
			if (r <= 0)
				return fprintf(stderr, "latency: pipeline ended\n"), 1;
			got += r;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms[i] = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	}
	close(in[1]);
	waitpid(pid, NULL, 0);
	qsort(ms, (size_t)n, sizeof *ms, cmp);
	printf("%.3f %.3f\n", ms[n / 2], ms[n * 99 / 100]);
	return 0;
}
