/* scanbench: times scan-and-extract of user_id, page and value over an NDJSON file, lib/record's scanner or jansson. */
/*
 * Usage: scanbench scan|jansson FILE
 * Reads FILE in 4 MiB blocks, parses each line and extracts the three
 * fields, and prints "MODE MB/s seconds lines checksum rejected cpu-MB/s"
 * on stdout (cpu-MB/s uses the process's CPU time, which a busy machine
 * disturbs less than the wall clock).  The
 * checksum (the sum of value plus the string lengths) must be the same in
 * both modes.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "record.h"

#define BLOCK	(4u << 20)

static double
now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	struct rec *r;
	struct rec_path *pu, *pp, *pv;
	struct rec_val v;
	json_t *j;
	json_error_t je;
	FILE *f;
	char *buf, *p, *nl, *end;
	size_t have = 0, n, total = 0, lines = 0, bad = 0;
	double sum = 0, t0, t, c0, c;
	int scan;

	if (argc != 3 || (strcmp(argv[1], "scan") != 0 && strcmp(argv[1], "jansson") != 0)) {
		fprintf(stderr, "usage: scanbench scan|jansson FILE\n");
		return 2;
	}
	scan = strcmp(argv[1], "scan") == 0;
	if ((f = fopen(argv[2], "rb")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	buf = malloc(BLOCK);
	r = rec_new();
	pu = rec_path_compile("user_id", NULL);
	pp = rec_path_compile("page", NULL);
	pv = rec_path_compile("value", NULL);
	t0 = now(CLOCK_MONOTONIC);
	c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	while ((n = fread(buf + have, 1, BLOCK - have, f)) > 0 || have > 0) {
		have += n;
		total += n;
		p = buf;
		end = buf + have;
		while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL || (n == 0 && p < end)) {
			if (nl == NULL)
				nl = end;
			lines++;
			if (scan) {
				if (rec_parse(r, p, (size_t)(nl - p), NULL) != 0)
					bad++;
				else {
					if (rec_get(r, pu, &v) == RT_STRING)
						sum += (double)v.slen;
					if (rec_get(r, pp, &v) == RT_STRING)
						sum += (double)v.slen;
					if (rec_get(r, pv, &v) == RT_REAL || v.type == RT_INT)
						sum += v.d;
				}
			} else {
				if ((j = json_loadb(p, (size_t)(nl - p), 0, &je)) == NULL)
					bad++;
				else {
					json_t *x;
					if ((x = json_object_get(j, "user_id")) != NULL && json_is_string(x))
						sum += (double)json_string_length(x);
					if ((x = json_object_get(j, "page")) != NULL && json_is_string(x))
						sum += (double)json_string_length(x);
					if ((x = json_object_get(j, "value")) != NULL && json_is_number(x))
						sum += json_number_value(x);
					json_decref(j);
				}
			}
			p = nl + (nl < end);
		}
		have = (size_t)(end - p);
		memmove(buf, p, have);
		if (n == 0)
			break;
	}
	t = now(CLOCK_MONOTONIC) - t0;
	c = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
	printf("%s %.1f %.3f %zu %.2f %zu %.1f\n", argv[1], (double)total / 1e6 / t, t, lines, sum, bad,
	    (double)total / 1e6 / c);
	fclose(f);
	free(buf);
	rec_path_free(pu);
	rec_path_free(pp);
	rec_path_free(pv);
	rec_free(r);
	return 0;
}
