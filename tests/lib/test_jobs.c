/* test_jobs: lib/jobs' cutting: pieces cover the input once, in order, each starting at a line start. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "jobs.h"
#include "tap.h"

static char dir[] = "/tmp/test_jobs.XXXXXX";

/* file writes len bytes of text (repeated to length) to a new file and returns its path (static storage per slot). */
static char *
file(int slot, const char *text, size_t len)
{
	static char paths[8][64];
	FILE *f;
	size_t i, tl = strlen(text);

	snprintf(paths[slot], sizeof(paths[slot]), "%s/f%d", dir, slot);
	f = fopen(paths[slot], "w");
	for (i = 0; i < len; i++)
		fputc(tl ? text[i % tl] : 'x', f);
	fclose(f);
	return paths[slot];
}

static size_t
size_of(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? (size_t)st.st_size : 0;
}

/* line_start_at: is byte off of path the start of a line (0, or after a newline)? */
static int
line_start_at(const char *path, size_t off)
{
	FILE *f;
	int c;

	if (off == 0)
		return 1;
	f = fopen(path, "r");
	fseek(f, (long)off - 1, SEEK_SET);
	c = fgetc(f);
	fclose(f);
	return c == '\n';
}

/*
 * covers checks that the pieces are contiguous, non-empty, cover every byte
 * of the files once and start and end at line starts (or a file's end).
 */
static int
covers(const struct jobs *j, char *const *paths, int npaths)
{
	int i, f = 0;
	size_t at = 0;

	for (i = 0; i < j->n; i++) {
		const struct jobs_piece *p = &j->piece[i];

		/* Whole files skipped between pieces must be empty. */
		while (f < p->first) {
			if (at != size_of(paths[f]))
				return 0;
			f++, at = 0;
		}
		if (p->first != f || p->start != at || !line_start_at(paths[f], at))
			return 0;
		if (p->last < p->first || (p->last == p->first && p->end <= p->start))
			return 0;
		if (p->end != size_of(paths[p->last]) && !line_start_at(paths[p->last], p->end))
			return 0;
		f = p->last, at = p->end;
	}
	for (; f < npaths; f++, at = 0)
		if (at != size_of(paths[f]))
			return 0;
	return 1;
}

int
main(void)
{
	struct jobs j;
	char *p[4];
	int n;

	diag_init("test_jobs");
	if (mkdtemp(dir) == NULL)
		return 1;

	/* 12 lines of 10 bytes: every cut of 2, 3 and 4 falls on a line start, exactly where it aims. */
	p[0] = file(0, "123456789\n", 120);
	for (n = 2; n <= 4; n++) {
		is_int(jobs_split(&j, p, 1, n, NULL), n, "lines of 10 bytes, %d pieces", n);
		ok(covers(&j, p, 1), "  cover the file at line starts");
		is_int(j.piece[1].start, 120 / n, "  the second starts at %d", 120 / n);
	}
	/* One line longer than the file's share: the cuts inside it move past it, empty pieces go. */
	p[0] = file(0, "", 0);
	{
		FILE *f = fopen(p[0], "w");

		fputs("a\n", f);
		for (n = 0; n < 1000; n++)
			fputc('x', f);
		fputs("\nb\n", f);
		fclose(f);
	}
	is_int(jobs_split(&j, p, 1, 4, NULL), 2, "a huge line spanning three cuts: two pieces");
	ok(covers(&j, p, 1), "  covering the file");
	is_int(j.piece[1].start, 1003, "  the second starts after the huge line");
	/* Fewer lines than workers. */
	p[0] = file(0, "{}\n", 6);
	is_int(jobs_split(&j, p, 1, 4, NULL), 2, "2 lines, 4 workers: 2 pieces");
	ok(covers(&j, p, 1), "  covering the file");
	p[0] = file(0, "{}\n", 3);
	is_int(jobs_split(&j, p, 1, 4, NULL), 1, "1 line: 1 piece");
	/* Not splittable. */
	p[0] = file(0, "", 0);
	is_int(jobs_split(&j, p, 1, 2, NULL), 0, "an empty file is not split");
	is_int(jobs_split(&j, NULL, 0, 2, NULL), 0, "standard input is not split");
	p[0] = "-";
	is_int(jobs_split(&j, p, 1, 2, NULL), 0, "- is not split");
	p[0] = file(0, "\x1f\x8b gzip", 100);
	is_int(jobs_split(&j, p, 1, 2, NULL), 0, "a gzip file is not split");
	p[0] = file(0, "1\n", 100);
	is_int(jobs_split(&j, p, 1, 2, p[0]), 0, "a file that is also the output is not split");
	is_int(jobs_split(&j, p, 1, 1, NULL), 0, "one worker: nothing to split");
	/* Files of all sizes, empty ones among them, cut across their boundaries. */
	p[0] = file(0, "ab\n", 30);
	p[1] = file(1, "", 0);
	p[2] = file(2, "abcdefg\n", 8);
	p[3] = file(3, "abcdefghijklmnopqrstuvwxyz0123456789\n", 370);
	for (n = 2; n <= 64; n++) {
		int got = jobs_split(&j, p, 4, n, NULL);

		if (got < 1 || got > n || !covers(&j, p, 4))
			break;
	}
	is_int(n, 65, "4 files, 2 to 64 pieces: each time contiguous, at line starts, covering every byte");
	is_int(jobs_split(&j, p, 4, 100, NULL) <= JOBS_MAX, 1, "never more than JOBS_MAX pieces");
	for (n = 0; n < 4; n++)
		unlink(file(n, "", 0));
	rmdir(dir);
	return tap_done();
}
