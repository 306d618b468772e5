/* notify: notifier processes per notice, spawned without a shell, fed through a socket, timed out, retried, bounded, never losing a notice silently. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "notify.h"
#include "timeval.h"

extern char **environ;

/* ---- word splitting ---- */

void
nt_argv_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

static void
push_word(char ***argv, size_t *n, struct buf *w)
{
	*argv = xrealloc(*argv, (*n + 2) * sizeof(**argv));
	(*argv)[(*n)++] = xstrndup(w->p != NULL ? w->p : "", w->len);
	(*argv)[*n] = NULL;
	buf_reset(w);
}

int
nt_split(const char *cmd, char ***argvp, char *why, size_t whylen)
{
	char **argv = NULL;
	size_t n = 0;
	struct buf w = BUF_INIT;
	bool inword = false;
	const char *p = cmd;
	int rc;

	for (;;) {
		char c = *p;

		if (c == '\0' || c == ' ' || c == '\t' || c == '\n') {
			if (inword)
				push_word(&argv, &n, &w);
			inword = false;
			if (c == '\0')
				break;
			p++;
			continue;
		}
		if (!inword && (c == '~' || c == '#')) {
			rc = why_fail(why, whylen, "a word starting with '%c' would be %s by a shell: quote it", c,
			    c == '~' ? "expanded" : "a comment");
			goto bad;
		}
		inword = true;
		if (c == '\'') {
			const char *q = strchr(p + 1, '\'');

			if (q == NULL) {
				rc = why_fail(why, whylen, "unterminated single quote");
				goto bad;
			}
			buf_add(&w, p + 1, (size_t)(q - p - 1));
			p = q + 1;
		} else if (c == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\0') {
					rc = why_fail(why, whylen, "unterminated double quote");
					goto bad;
				}
				if (*p == '$' || *p == '`') {
					rc = why_fail(why, whylen, "'%c' inside double quotes would be expanded by a shell: use single quotes", *p);
					goto bad;
				}
				if (*p == '\\' && p[1] != '\0' && strchr("$`\"\\\n", p[1]) != NULL) {
					p++;
					if (*p == '\n')
						continue;
				}
				buf_addc(&w, *p);
			}
			p++;
		} else if (c == '\\') {
			if (p[1] == '\0') {
				rc = why_fail(why, whylen, "backslash at the end of the command");
				goto bad;
			}
			if (p[1] != '\n')
				buf_addc(&w, p[1]);
			else if (w.len == 0)
				inword = false;
			p += 2;
		} else if (strchr("|&;<>()$`", c) != NULL) {
			rc = why_fail(why, whylen, "'%c' would need a shell: quote it, or put the pipeline in a script", c);
			goto bad;
		} else {
			buf_addc(&w, c);
			p++;
		}
	}
	buf_free(&w);
	if (n == 0) {
		nt_argv_free(argv);
		return why_fail(why, whylen, "empty command");
	}
	*argvp = argv;
	return (int)n;
bad:
	buf_free(&w);
	nt_argv_free(argv);
	return rc;
}

/* ---- jobs ---- */

struct job {
	char		*data;		/* the notice with its newline (owned) */
	size_t		 len;
	unsigned	 attempt;	/* attempts made so far */
	int64_t		 not_before;	/* monotonic: when the next attempt may start */
	/* while running: */
	pid_t		 pid;
	int		 fd;		/* our end of its stdin, -1 once closed */
	int		 pidfd;		/* -1 when the kernel has no pidfd_open */
	size_t		 off;
	int64_t		 deadline;
	bool		 timed_out;
};

struct nt {
	struct nt_opts	  o;
	char		**argv;
	struct job	 *run;		/* max_inflight slots; pid 0 = free */
	size_t		  nrun;
	struct job	 *wait;		/* queued and backing-off jobs, in order */
	size_t		  nwait, capwait;
	struct pollfd	 *pf;		/* nt_poll's descriptors: two per slot */
	bool		  ending;	/* nt_free: no more retries */
	struct nt_stats	  st;
};

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * TV_US_PER_S + ts.tv_nsec / 1000;
}

void
nt_opts_init(struct nt_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_us = 10 * TV_US_PER_S;
	o->retries = 3;
	o->backoff_us = 200000;
	o->max_inflight = 4;
	o->max_queue = 1000;
	o->out_fd = 2;
}

struct nt *
nt_new(const struct nt_opts *o, char *why, size_t whylen)
{
	struct nt *t;
	char **argv;

	if (o->cmd == NULL) {
		why_fail(why, whylen, "empty command");
		return NULL;
	}
	if (nt_split(o->cmd, &argv, why, whylen) == -1)
		return NULL;
	t = xcalloc(1, sizeof(*t));
	t->o = *o;
	if (t->o.max_inflight == 0)
		t->o.max_inflight = 1;
	if (t->o.max_queue == 0)
		t->o.max_queue = 1;
	t->argv = argv;
	t->run = xcalloc(t->o.max_inflight, sizeof(*t->run));
	t->pf = xcalloc(2 * (size_t)t->o.max_inflight, sizeof(*t->pf));
	return t;
}

const struct nt_stats *
nt_stats(const struct nt *t)
{
	return &t->st;
}

size_t
nt_pending(const struct nt *t)
{
	return t->nrun + t->nwait;
}

static void
report(struct nt *t, enum nt_event ev, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (t->o.report == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->o.report(t->o.ctx, ev, msg);
}

static void
enqueue(struct nt *t, struct job *j)
{
	if (t->nwait == t->capwait) {
		t->capwait = t->capwait ? 2 * t->capwait : 16;
		t->wait = xrealloc(t->wait, t->capwait * sizeof(*t->wait));
	}
	t->wait[t->nwait++] = *j;
}

/* keep appends an undeliverable notice to the failed-notice file; returns 0, or -1 with errno. */
static int
keep(struct nt *t, const struct job *j)
{
	int fd;
	size_t off = 0;
	ssize_t w;

	if (t->o.failed_path == NULL) {
		errno = 0;
		return -1;
	}
	fd = open(t->o.failed_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	while (off < j->len) {
		w = write(fd, j->data + off, j->len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		off += (size_t)w;
	}
	return close(fd);
}

/* give_up ends a notice that will not be tried again: kept in the file, or lost. */
static void
give_up(struct nt *t, struct job *j, const char *reason)
{
	if (keep(t, j) == 0) {
		t->st.failed++;
		report(t, NT_FAILED, "%s; kept in %s", reason, t->o.failed_path);
	} else if (t->o.failed_path == NULL) {
		t->st.lost++;
		report(t, NT_LOST, "%s; not kept: no failed-notice file", reason);
	} else {
		t->st.lost++;
		report(t, NT_LOST, "%s; not kept: %s: %s", reason, t->o.failed_path, strerror(errno));
	}
	free(j->data);
	j->data = NULL;
}

/* attempt_failed decides between a retry after backoff and giving up. */
static void
attempt_failed(struct nt *t, struct job *j, const char *what)
{
	char reason[384];
	unsigned total = t->o.retries + 1;

	snprintf(reason, sizeof(reason), "attempt %u of %u: %s", j->attempt, total, what);
	if (j->attempt < total && !t->ending) {
		int64_t delay = t->o.backoff_us;
		unsigned k;
		char d[TV_BUFSZ];

		for (k = 1; k < j->attempt && delay < INT64_MAX / 2; k++)
			delay *= 2;
		j->not_before = mono_us() + delay;
		tv_format_duration(delay, d);
		t->st.retries++;
		report(t, NT_RETRY, "%s; retrying in %s", reason, d);
		enqueue(t, j);
		return;
	}
	give_up(t, j, reason);
}

/*
 * start runs the notifier for job j in a free slot.  Its stdin is one
 * end of a socket pair, so that writing to a notifier that has gone can
 * use MSG_NOSIGNAL instead of changing the process's SIGPIPE handling.
 * It gets its own process group, so a timeout kills what it started too.
 */
static void
start(struct nt *t, struct job *j)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t def, none;
	int sv[2], err;
	struct job *slot = NULL;
	size_t i;

	for (i = 0; i < t->o.max_inflight; i++)
		if (t->run[i].pid == 0) {
			slot = &t->run[i];
			break;
		}
	j->attempt++;
	t->st.attempts++;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		char what[128];

		snprintf(what, sizeof(what), "cannot make a pipe: %s", strerror(errno));
		attempt_failed(t, j, what);
		return;
	}
	/* The notifier only reads; a half-closed socket makes a child that writes to stdin fail, not hang. */
	shutdown(sv[1], SHUT_WR);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	if (t->o.out_fd == -1)
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	else if (t->o.out_fd != 1)
		posix_spawn_file_actions_adddup2(&fa, t->o.out_fd, 1);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGHUP);
	sigaddset(&def, SIGCHLD);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
	err = posix_spawnp(&slot->pid, t->argv[0], &fa, &at, t->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(sv[1]);
	if (err != 0) {
		char reason[384];

		slot->pid = 0;
		close(sv[0]);
		/* A program that cannot be run will not appear by retrying: give up at once. */
		snprintf(reason, sizeof(reason), "cannot run '%s': %s", t->argv[0], strerror(err));
		give_up(t, j, reason);
		return;
	}
	slot->data = j->data;
	slot->len = j->len;
	slot->attempt = j->attempt;
	slot->fd = sv[0];
	slot->off = 0;
	slot->timed_out = false;
	slot->deadline = mono_us() + t->o.timeout_us;
	slot->pidfd = (int)syscall(SYS_pidfd_open, slot->pid, 0);
	fcntl(slot->fd, F_SETFL, fcntl(slot->fd, F_GETFL) | O_NONBLOCK);
	t->nrun++;
}

/* feed writes what the notifier's stdin takes now; a notifier that closed it just stops being fed. */
static void
feed(struct job *s)
{
	while (s->fd != -1 && s->off < s->len) {
		ssize_t w = send(s->fd, s->data + s->off, s->len - s->off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w > 0) {
			s->off += (size_t)w;
			continue;
		}
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* EPIPE, ECONNRESET: it will not read more; its exit status decides. */
		close(s->fd);
		s->fd = -1;
	}
	if (s->fd != -1 && s->off == s->len) {
		close(s->fd);
		s->fd = -1;
	}
}

/* finish handles a reaped notifier. */
static void
finish(struct nt *t, struct job *s, int status)
{
	struct job j = *s;
	char what[128];

	if (s->fd != -1)
		close(s->fd);
	if (s->pidfd != -1)
		close(s->pidfd);
	memset(s, 0, sizeof(*s));
	t->nrun--;
	if (j.timed_out && t->ending)
		snprintf(what, sizeof(what), "still running at the end: killed");
	else if (j.timed_out) {
		char d[TV_BUFSZ];

		tv_format_duration(t->o.timeout_us, d);
		t->st.timeouts++;
		snprintf(what, sizeof(what), "timed out after %s", d);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		t->st.delivered++;
		free(j.data);
		return;
	} else if (WIFEXITED(status))
		snprintf(what, sizeof(what), "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(what, sizeof(what), "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(what, sizeof(what), "ended with wait status %d", status);
	attempt_failed(t, &j, what);
}

/* reap checks one running notifier: ended, or past its timeout (then killed and reaped). */
static void
reap(struct nt *t, struct job *s, int64_t now)
{
	int status = 0;
	pid_t r;

	do
		r = waitpid(s->pid, &status, WNOHANG);
	while (r == -1 && errno == EINTR);
	if (r == s->pid) {
		finish(t, s, status);
		return;
	}
	if (now < s->deadline)
		return;
	s->timed_out = true;
	kill(-s->pid, SIGKILL);
	kill(s->pid, SIGKILL);
	do
		r = waitpid(s->pid, &status, 0);
	while (r == -1 && errno == EINTR);
	finish(t, s, status);
}

/* start_ready starts waiting notices whose backoff has passed, in order, while slots are free. */
static void
start_ready(struct nt *t, int64_t now)
{
	size_t i = 0;

	while (i < t->nwait && t->nrun < t->o.max_inflight) {
		struct job j;

		if (t->wait[i].not_before > now) {
			i++;
			continue;
		}
		j = t->wait[i];
		memmove(&t->wait[i], &t->wait[i + 1], (t->nwait - i - 1) * sizeof(*t->wait));
		t->nwait--;
		start(t, &j);
	}
}

size_t
nt_poll(struct nt *t, int timeout_ms)
{
	struct pollfd *pf = t->pf;
	size_t i, n = 0;
	int64_t now = mono_us(), wait = (int64_t)timeout_ms * 1000;
	bool nopidfd = false;

	start_ready(t, now);
	for (i = 0; i < t->o.max_inflight; i++) {
		struct job *s = &t->run[i];

		if (s->pid == 0)
			continue;
		feed(s);
		if (s->fd != -1)
			pf[n++] = (struct pollfd){ .fd = s->fd, .events = POLLOUT };
		if (s->pidfd != -1)
			pf[n++] = (struct pollfd){ .fd = s->pidfd, .events = POLLIN };
		else
			nopidfd = true;
		if (s->deadline - now < wait)
			wait = s->deadline - now;
	}
	if (t->nrun < t->o.max_inflight)
		for (i = 0; i < t->nwait; i++)
			if (t->wait[i].not_before - now < wait)
				wait = t->wait[i].not_before - now;
	/* Without pidfds an exit is only seen by looking: look every 10 ms. */
	if (nopidfd && wait > 10000)
		wait = 10000;
	if (wait < 0)
		wait = 0;
	if (wait > 0 || n > 0)
		poll(pf, (nfds_t)n, (int)((wait + 999) / 1000));
	now = mono_us();
	for (i = 0; i < t->o.max_inflight; i++) {
		struct job *s = &t->run[i];

		if (s->pid == 0)
			continue;
		feed(s);
		reap(t, s, now);
	}
	start_ready(t, mono_us());
	return nt_pending(t);
}

int
nt_send(struct nt *t, const char *notice, size_t len)
{
	struct job j;

	memset(&j, 0, sizeof(j));
	j.len = len + (len == 0 || notice[len - 1] != '\n');
	j.data = xmalloc(j.len);
	memcpy(j.data, notice, len);
	j.data[j.len - 1] = '\n';
	j.fd = j.pidfd = -1;
	t->st.notices++;
	enqueue(t, &j);
	nt_poll(t, 0);
	while (t->nwait >= t->o.max_queue)
		nt_poll(t, 100);
	return 0;
}

void
nt_drain(struct nt *t)
{
	while (nt_pending(t) > 0)
		nt_poll(t, 1000);
}

void
nt_free(struct nt *t)
{
	size_t i;

	if (t == NULL)
		return;
	t->ending = true;
	for (i = 0; i < t->o.max_inflight; i++) {
		struct job *s = &t->run[i];

		if (s->pid == 0)
			continue;
		s->deadline = 0;
		reap(t, s, 1);
	}
	/* What waits now was never delivered: each gets its final handling. */
	for (i = 0; i < t->nwait; i++)
		give_up(t, &t->wait[i], "not delivered before the end");
	free(t->wait);
	free(t->run);
	free(t->pf);
	nt_argv_free(t->argv);
	free(t);
}
