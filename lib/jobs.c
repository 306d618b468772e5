/* jobs: reading regular files with N worker processes over byte ranges cut at line starts (aggregate -j, batch-report -j). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "diag.h"
#include "input.h"
#include "jobs.h"

/* The workers being waited for, so that a signal to the parent reaches them (signal state only). */
static volatile pid_t	waiting[JOBS_MAX];
static volatile int	nwaiting;
static volatile sig_atomic_t stopping;	/* a SIGTERM or SIGINT came while waiting */
/* The temporary files to remove when the process exits before jobs_free (--strict, a usage error). */
static struct jobs	*at_exit;

static void
remove_at_exit(void)
{
	if (at_exit != NULL)
		jobs_free(at_exit);
}

/* splittable: every operand a regular, uncompressed file, not the output; *total is their size. */
static bool
splittable(char *const *paths, int npaths, const char *output, uint64_t *total, uint64_t *size)
{
	struct stat st, ost;
	bool have_out = output != NULL && stat(output, &ost) == 0;
	int i;

	*total = 0;
	if (npaths <= 0)
		return false;
	for (i = 0; i < npaths; i++) {
		if (strcmp(paths[i], "-") == 0 || stat(paths[i], &st) != 0 || !S_ISREG(st.st_mode) ||
		    in_is_gzip(paths[i]) != 0)
			return false;
		if (have_out && st.st_dev == ost.st_dev && st.st_ino == ost.st_ino)
			return false;
		size[i] = (uint64_t)st.st_size;
		*total += size[i];
	}
	return *total > 0;
}

/* line_start gives the first line start at or after byte off of path: off itself, or just past the next newline (size when there is none). */
static uint64_t
line_start(const char *path, uint64_t off, uint64_t size)
{
	char b[1 << 16];
	ssize_t n;
	char *nl;
	int fd;

	if (off == 0 || off >= size)
		return off >= size ? size : 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return size;
	for (off--; (n = pread(fd, b, sizeof(b), (off_t)off)) > 0; off += (uint64_t)n)
		if ((nl = memchr(b, '\n', (size_t)n)) != NULL) {
			close(fd);
			return off + (uint64_t)(nl - b) + 1;
		}
	close(fd);
	return size;
}

int
jobs_split(struct jobs *j, char *const *paths, int npaths, int n, const char *output)
{
	uint64_t *size, total, want, acc, cf[JOBS_MAX + 1], co[JOBS_MAX + 1];
	int w, f;

	memset(j, 0, sizeof(*j));
	j->paths = paths;
	if (n < 2 || npaths <= 0)
		return 0;
	if (n > JOBS_MAX)
		n = JOBS_MAX;
	size = xcalloc((size_t)npaths, sizeof(*size));
	if (!splittable(paths, npaths, output, &total, size)) {
		free(size);
		return 0;
	}
	/* Cut w is (operand cf[w], offset co[w]); the last is the end of the last operand. */
	cf[0] = 0, co[0] = 0;
	cf[n] = (uint64_t)npaths - 1, co[n] = size[npaths - 1];
	for (w = 1; w < n; w++) {
		want = total / (uint64_t)n * (uint64_t)w + total % (uint64_t)n * (uint64_t)w / (uint64_t)n;
		for (f = 0, acc = 0; f + 1 < npaths && want >= acc + size[f]; f++)
			acc += size[f];
		cf[w] = (uint64_t)f;
		co[w] = line_start(paths[f], want - acc, size[f]);
		/* Never before the cut before it. */
		if (cf[w] < cf[w - 1] || (cf[w] == cf[w - 1] && co[w] < co[w - 1]))
			cf[w] = cf[w - 1], co[w] = co[w - 1];
	}
	for (w = 0; w < n; w++) {
		struct jobs_piece *p = &j->piece[j->n];
		uint64_t a = cf[w], ao = co[w], b = cf[w + 1], bo = co[w + 1];

		/* A piece starts in the first operand it has bytes of, and ends in the last. */
		while (a < b && ao >= size[a])
			a++, ao = 0;
		while (b > a && bo == 0)
			b--, bo = size[b];
		if (a == b && ao >= bo)
			continue;	/* empty */
		p->first = (int)a, p->start = ao;
		p->last = (int)b, p->end = bo;
		j->n++;
	}
	free(size);
	return j->n;
}

/* lines_before counts the newlines before byte off of path. */
static uint64_t
lines_before(const char *path, uint64_t off)
{
	char *b;
	const char *p, *e;
	uint64_t n = 0, at = 0;
	ssize_t r;
	size_t want;
	int fd;

	if (off == 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	b = xmalloc(1 << 20);
	for (; at < off; at += (uint64_t)r) {
		want = off - at < (1 << 20) ? (size_t)(off - at) : (1 << 20);
		if ((r = pread(fd, b, want, (off_t)at)) <= 0)
			break;
		for (p = b, e = b + r; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
			n++;
	}
	free(b);
	close(fd);
	return n;
}

/*
 * pass_on sends a signal that another process sent to the parent alone
 * (kill PID) on to the workers, which end their input there.  One the
 * terminal sent (^C) reached the whole process group, workers included:
 * a second one would end them at once.
 */
static void
pass_on(int sig, siginfo_t *si, void *uc)
{
	int i;

	(void)uc;
	stopping = 1;
	if (si != NULL && si->si_code != SI_USER && si->si_code != SI_QUEUE)
		return;
	for (i = 0; i < nwaiting; i++)
		if (waiting[i] > 0)
			kill(waiting[i], sig);
}

/* tmpfile_at makes an empty temporary file and returns its name (malloc'd), or NULL with errno. */
static char *
tmpfile_at(const char *what)
{
	const char *dir = getenv("TMPDIR") != NULL && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp";
	char *p;
	int fd;

	if (asprintf(&p, "%s/%s-%s.XXXXXX", dir, diag_prog(), what) < 0)
		return NULL;
	if ((fd = mkstemp(p)) < 0) {
		free(p);
		return NULL;
	}
	close(fd);
	return p;
}

/* child runs worker i: its standard streams to its files, its line count, then the work. */
static void
child(struct jobs *j, int i, int (*work)(struct jobs *, int, void *), void *ctx)
{
	int fd;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	if (j->capture) {
		if ((fd = open(j->out[i], O_WRONLY | O_TRUNC | O_CLOEXEC)) < 0 || dup2(fd, 1) < 0)
			_exit(3);
		close(fd);
		if ((fd = open(j->err[i], O_WRONLY | O_TRUNC | O_CLOEXEC)) < 0 || dup2(fd, 2) < 0)
			_exit(3);
		close(fd);
	}
	j->piece[i].line = lines_before(j->paths[j->piece[i].first], j->piece[i].start);
	exit(work(j, i, ctx));
}

/* make_files makes worker i's temporary files; returns 0, or -1 with errno. */
static int
make_files(struct jobs *j, int i)
{
	if ((j->out[i] = tmpfile_at("out")) == NULL)
		return -1;
	if (!j->capture)
		return 0;
	if ((j->err[i] = tmpfile_at("err")) == NULL || (j->dead[i] = tmpfile_at("rejects")) == NULL)
		return -1;
	return 0;
}

/* worst folds one worker's wait status into j->status: a signal counts as an I/O error (3). */
static void
worst(struct jobs *j, int i, int st)
{
	int s = WIFEXITED(st) ? WEXITSTATUS(st) : EX_IOERR;

	/* Stopped by the signal that stops the run, before it could end its input (counting lines): it read nothing. */
	if (stopping && WIFSIGNALED(st) && (WTERMSIG(st) == SIGTERM || WTERMSIG(st) == SIGINT)) {
		s = 0;
		if (truncate(j->out[i], 0) != 0)
			s = EX_IOERR;
	}
	j->wstatus[i] = s;
	if (s == JOBS_FALLBACK || j->status == JOBS_FALLBACK)
		j->status = JOBS_FALLBACK;
	else if (s > j->status)
		j->status = s;
	if (s == EX_IOERR)
		j->ioerr = true;
}

int
jobs_run(struct jobs *j, int (*work)(struct jobs *, int i, void *ctx), void *ctx)
{
	struct sigaction sa, oterm, oint;
	pid_t pid, r;
	int i, st, e = 0;

	for (i = 0; i < j->n; i++)
		if (make_files(j, i) != 0) {
			e = errno;
			jobs_free(j);
			errno = e;
			return -1;
		}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = pass_on;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, &oterm);
	sigaction(SIGINT, &sa, &oint);
	fflush(NULL);
	j->status = 0;
	stopping = 0;
	for (i = 0; i < j->n; i++) {
		if ((pid = fork()) == 0)
			child(j, i, work, ctx);
		if (pid < 0) {
			e = errno;
			pass_on(SIGTERM, NULL, NULL);	/* no half runs: stop the others */
			break;
		}
		waiting[i] = pid;
		nwaiting = i + 1;
	}
	for (i = 0; i < nwaiting; i++) {
		while ((r = waitpid(waiting[i], &st, 0)) < 0 && errno == EINTR)
			;
		worst(j, i, r < 0 ? EX_IOERR << 8 : st);
	}
	sigaction(SIGTERM, &oterm, NULL);
	sigaction(SIGINT, &oint, NULL);
	i = nwaiting;
	nwaiting = 0;
	if (i < j->n) {
		jobs_free(j);
		errno = e;
		return -1;
	}
	/* Only now: a worker's exit must not remove the files (atexit handlers survive fork). */
	if (at_exit == NULL)
		atexit(remove_at_exit);
	at_exit = j;
	return 0;
}

/* replay passes a worker's rejected lines (dead-letter records) to diag_reject, in order. */
static void
replay(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	json_t *o;
	struct diag_pos pos;
	const char *raw, *reason;
	uint8_t *bytes;
	long len;

	if (f == NULL)
		return;
	while ((n = getline(&line, &cap, f)) > 0) {
		if ((o = json_loadb(line, (size_t)n, 0, NULL)) == NULL)
			continue;
		pos.file = json_string_value(json_object_get(o, "file"));
		pos.line = (uint64_t)json_integer_value(json_object_get(o, "line"));
		pos.offset = (uint64_t)json_integer_value(json_object_get(o, "offset"));
		reason = json_string_value(json_object_get(o, "reason"));
		if ((raw = json_string_value(json_object_get(o, "raw"))) != NULL)
			diag_reject(&pos, raw, json_string_length(json_object_get(o, "raw")), "%s", reason);
		else if ((raw = json_string_value(json_object_get(o, "raw_b64"))) != NULL) {
			bytes = xmalloc(json_string_length(json_object_get(o, "raw_b64")) / 4 * 3 + 3);
			len = b64_decode(raw, json_string_length(json_object_get(o, "raw_b64")), bytes);
			diag_reject(&pos, (const char *)bytes, len > 0 ? (size_t)len : 0, "%s", reason);
			free(bytes);
		}
		json_decref(o);
	}
	free(line);
	fclose(f);
}

static bool
skipped(const char *name, const char *const *skip)
{
	static const char *const always[] = { "tool", "records_in", "records_out", "rejected",
	    "elapsed_s", "rate", NULL };
	size_t i;

	for (i = 0; always[i] != NULL; i++)
		if (strcmp(name, always[i]) == 0)
			return true;
	for (i = 0; skip != NULL && skip[i] != NULL; i++)
		if (strcmp(name, skip[i]) == 0)
			return true;
	return false;
}

/* add_stats adds the integer counters of a worker's --stats line to this run's; returns its records_in. */
static uint64_t
add_stats(const char *line, size_t len, const char *const *skip)
{
	json_t *o = json_loadb(line, len, 0, NULL), *v;
	const char *k;
	uint64_t in = 0;

	json_object_foreach(o, k, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			continue;
		if (strcmp(k, "records_in") == 0)
			in = (uint64_t)json_integer_value(v);
		else if (!skipped(k, skip))
			*diag_counter(k) += (uint64_t)json_integer_value(v);
	}
	json_decref(o);
	return in;
}

/* messages copies a worker's standard error but its --stats line (the last, "{"tool":...}"); returns its records_in. */
static uint64_t
messages(const char *path, const char *const *skip)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t in = 0;

	if (f == NULL)
		return 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (strncmp(line, "{\"tool\":", 8) == 0)
			in = add_stats(line, (size_t)n, skip);
		else
			fwrite(line, 1, (size_t)n, stderr);
	}
	free(line);
	fclose(f);
	return in;
}

void
jobs_account(struct jobs *j, const char *const *skip)
{
	uint64_t in = 0;
	int i;

	if (!j->capture)
		return;
	for (i = 0; i < j->n; i++) {
		replay(j->dead[i]);
		in += messages(j->err[i], skip);
		if (j->wstatus[i] == EX_USAGE)
			break;
	}
	diag_in = in;
	if (j->ioerr)
		diag_note_ioerr();
}

void
jobs_free(struct jobs *j)
{
	int i;

	if (at_exit == j)
		at_exit = NULL;
	for (i = 0; i < JOBS_MAX; i++) {
		char **f[] = { &j->out[i], &j->err[i], &j->dead[i] };

		for (size_t k = 0; k < 3; k++) {
			if (*f[k] != NULL)
				unlink(*f[k]);
			free(*f[k]);
			*f[k] = NULL;
		}
	}
}
