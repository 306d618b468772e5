/*
 * Unit tests of lib/notify: word splitting, delivery on stdin (/bin/cat),
 * a failing notifier (false) with retries, a hung one (killed at a short
 * timeout), a missing program, one that closes stdin early (no SIGPIPE
 * here), the failed-notice file, the concurrency bound.  Outcomes are
 * asserted, never durations.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "notify.h"
#include "tap.h"

static char dir[64];

/* path_in returns DIR/name (static storage, one at a time per slot). */
static const char *
path_in(const char *name, int slot)
{
	static char p[4][128];

	snprintf(p[slot], sizeof(p[slot]), "%s/%s", dir, name);
	return p[slot];
}

/* slurp returns a file's contents (static storage), or "(none)" when it cannot be read. */
static const char *
slurp(const char *path)
{
	static char b[1 << 16];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd == -1)
		return "(none)";
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	b[n > 0 ? n : 0] = '\0';
	return b;
}

static void
split_is(const char *cmd, const char *want, const char *name)
{
	char **argv, why[160];
	struct buf got = BUF_INIT;
	int n = nt_split(cmd, &argv, why, sizeof(why));

	if (n == -1) {
		buf_adds(&got, "ERROR ");
		buf_adds(&got, why);
	} else {
		for (int i = 0; i < n; i++) {
			buf_addc(&got, '<');
			buf_adds(&got, argv[i]);
			buf_addc(&got, '>');
		}
		ok(argv[n] == NULL, "%s: argv ends with NULL", name);
		nt_argv_free(argv);
	}
	is_str(buf_cstr(&got), want, "%s", name);
	buf_free(&got);
}

static void
test_split(void)
{
	split_is("curl -s 'http://h:9093/api/v2/alerts?a=1&b=2' --data-binary @-",
	    "<curl><-s><http://h:9093/api/v2/alerts?a=1&b=2><--data-binary><@->", "single quotes keep & and ?");
	split_is("  a\t\"b c\"  d\\ e '' \"\" ", "<a><b c><d e><><>", "blanks, double quotes, an escaped blank, empty words");
	split_is("\"a\\\"b\\\\c\\$d\\x\"", "<a\"b\\c$d\\x>", "in double quotes a backslash escapes only \" \\ $ ` and newline");
	split_is("a'b'\"c\"\\d", "<abcd>", "quoted parts join into one word");
	split_is("a \\\n b", "<a><b>", "backslash-newline disappears");
	split_is("'it''s'", "<its>", "adjacent single quotes");
	split_is("notify-send '$HOME' \"{}\" *", "<notify-send><$HOME><{}><*>", "nothing is expanded inside single quotes");
	split_is("", "ERROR empty command", "an empty command is refused");
	split_is("   \t ", "ERROR empty command", "a blank command is refused");
	split_is("echo 'abc", "ERROR unterminated single quote", "an unterminated single quote is refused");
	split_is("echo \"abc", "ERROR unterminated double quote", "an unterminated double quote is refused");
	split_is("echo abc\\", "ERROR backslash at the end of the command", "a trailing backslash is refused");
	split_is("cat | mail x", "ERROR '|' would need a shell: quote it, or put the pipeline in a script", "a pipe is refused");
	split_is("cat > /tmp/x", "ERROR '>' would need a shell: quote it, or put the pipeline in a script", "a redirection is refused");
	split_is("a;b", "ERROR ';' would need a shell: quote it, or put the pipeline in a script", "a semicolon is refused");
	split_is("echo $HOME", "ERROR '$' would need a shell: quote it, or put the pipeline in a script", "an unquoted $ is refused");
	split_is("echo \"$HOME\"", "ERROR '$' inside double quotes would be expanded by a shell: use single quotes",
	    "a $ in double quotes is refused");
	split_is("~/bin/notify", "ERROR a word starting with '~' would be expanded by a shell: quote it", "a leading ~ is refused");
	split_is("a#b '#c' \\#d", "<a#b><#c><#d>", "a # inside a word or quoted is literal");
}

struct events {
	int		 n[3];
	char		 last[512];
};

static void
on_report(void *ctx, enum nt_event ev, const char *reason)
{
	struct events *e = ctx;

	e->n[ev]++;
	snprintf(e->last, sizeof(e->last), "%s", reason);
}

static struct nt *
mk(const char *cmd, struct events *ev, const char *failed, int64_t timeout_us, unsigned retries, int out_fd)
{
	struct nt_opts o;
	char why[160];
	struct nt *t;

	nt_opts_init(&o);
	o.cmd = cmd;
	o.failed_path = failed;
	o.timeout_us = timeout_us;
	o.retries = retries;
	o.backoff_us = 1000;
	o.out_fd = out_fd;
	o.report = on_report;
	o.ctx = ev;
	memset(ev, 0, sizeof(*ev));
	t = nt_new(&o, why, sizeof(why));
	if (t == NULL)
		printf("# nt_new: %s\n", why);
	return t;
}

static void
test_cat(void)
{
	struct events ev;
	const char *out = path_in("cat.out", 0);
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	struct nt *t = mk("/bin/cat", &ev, NULL, 10000000, 3, fd);

	nt_send(t, "{\"alert\":\"a\"}", 13);
	nt_send(t, "{\"alert\":\"b\"}\n", 14);
	nt_send(t, "{\"alert\":\"c\"}", 13);
	nt_drain(t);
	close(fd);
	is_int(nt_stats(t)->delivered, 3, "cat: three notices delivered");
	is_int(nt_stats(t)->attempts, 3, "cat: one attempt each");
	is_int(nt_pending(t), 0, "cat: nothing pending after drain");
	{
		const char *got = slurp(out);

		ok(strlen(got) == 42 && strstr(got, "{\"alert\":\"a\"}\n") && strstr(got, "{\"alert\":\"b\"}\n") &&
		    strstr(got, "{\"alert\":\"c\"}\n"), "cat: each notice reached its stdin, with one newline");
	}
	is_int(ev.n[NT_RETRY] + ev.n[NT_FAILED] + ev.n[NT_LOST], 0, "cat: nothing reported");
	nt_free(t);
}

static void
test_false(void)
{
	struct events ev;
	const char *failed = path_in("false.failed", 1);
	struct nt *t = mk("false", &ev, failed, 10000000, 2, -1);
	char want[256];

	unlink(failed);
	nt_send(t, "{\"n\":1}", 7);
	nt_drain(t);
	is_int(nt_stats(t)->attempts, 3, "false: tried once and retried twice");
	is_int(nt_stats(t)->retries, 2, "false: two retries counted");
	is_int(ev.n[NT_RETRY], 2, "false: each retry reported");
	is_int(nt_stats(t)->failed, 1, "false: the notice is given up on");
	snprintf(want, sizeof(want), "attempt 3 of 3: exited with status 1; kept in %s", failed);
	is_str(ev.last, want, "false: the final report, word for word");
	is_str(slurp(failed), "{\"n\":1}\n", "false: the notice is in the failed-notice file");
	nt_free(t);

	/* Without a failed-notice file the notice is lost, and said to be. */
	t = mk("false", &ev, NULL, 10000000, 0, -1);
	nt_send(t, "{\"n\":2}", 7);
	nt_drain(t);
	is_int(nt_stats(t)->lost, 1, "false without a file: lost is counted (the tool exits 1)");
	is_int(ev.n[NT_LOST], 1, "false without a file: reported as lost");
	is_str(ev.last, "attempt 1 of 1: exited with status 1; not kept: no failed-notice file", "false without a file: the report");
	nt_free(t);

	/* A failed-notice file that cannot be written. */
	t = mk("false", &ev, "/nonexistent/dir/failed", 10000000, 0, -1);
	nt_send(t, "{\"n\":3}", 7);
	nt_drain(t);
	is_int(nt_stats(t)->lost, 1, "an unwritable failed-notice file: lost");
	is_str(ev.last, "attempt 1 of 1: exited with status 1; not kept: /nonexistent/dir/failed: No such file or directory",
	    "an unwritable failed-notice file: the report");
	nt_free(t);
}

static void
test_hang(void)
{
	struct events ev;
	const char *failed = path_in("hang.failed", 1);
	struct nt *t = mk("sleep 30", &ev, failed, 100000, 1, -1);
	char want[256];

	unlink(failed);
	nt_send(t, "{\"n\":1}", 7);
	nt_drain(t);
	is_int(nt_stats(t)->timeouts, 2, "hang: both attempts are killed at the timeout");
	is_int(nt_stats(t)->delivered, 0, "hang: nothing delivered");
	snprintf(want, sizeof(want), "attempt 2 of 2: timed out after 100ms; kept in %s", failed);
	is_str(ev.last, want, "hang: the final report");
	is_str(slurp(failed), "{\"n\":1}\n", "hang: the notice is kept");
	nt_free(t);
}

static void
test_missing(void)
{
	struct events ev;
	const char *failed = path_in("missing.failed", 1);
	struct nt *t = mk("/nonexistent/notifier --flag", &ev, failed, 10000000, 3, -1);
	char want[256];

	unlink(failed);
	nt_send(t, "{\"n\":1}", 7);
	nt_drain(t);
	is_int(nt_stats(t)->attempts, 1, "missing program: not retried");
	snprintf(want, sizeof(want), "cannot run '/nonexistent/notifier': No such file or directory; kept in %s", failed);
	is_str(ev.last, want, "missing program: reported with errno text");
	is_str(slurp(failed), "{\"n\":1}\n", "missing program: the notice is kept");
	nt_free(t);

	t = mk("no-such-notifier-in-path", &ev, failed, 10000000, 3, -1);
	nt_send(t, "{\"n\":2}", 7);
	nt_drain(t);
	snprintf(want, sizeof(want), "cannot run 'no-such-notifier-in-path': No such file or directory; kept in %s", failed);
	is_str(ev.last, want, "missing program in PATH: looked up and reported");
	nt_free(t);
}

static void
test_closes_stdin(void)
{
	struct events ev;
	const char *failed = path_in("early.failed", 1);
	struct nt *t;
	size_t big = 4 << 20, i;
	char *notice = malloc(big);

	/* Larger than any socket buffer, so writing must meet the closed end. */
	for (i = 0; i < big; i++)
		notice[i] = 'x';
	notice[0] = '"';
	notice[big - 1] = '"';
	unlink(failed);
	t = mk("true", &ev, failed, 10000000, 0, -1);
	nt_send(t, notice, big);
	nt_drain(t);
	is_int(nt_stats(t)->delivered, 1, "a notifier that exits 0 without reading: delivered, and no SIGPIPE here");
	nt_free(t);
	t = mk("sh -c 'exec 0<&-; exit 3'", &ev, failed, 10000000, 0, -1);
	nt_send(t, notice, big);
	nt_drain(t);
	is_int(nt_stats(t)->failed, 1, "a notifier that closes stdin and fails: its status decides");
	ok(strncmp(ev.last, "attempt 1 of 1: exited with status 3; kept in ", 46) == 0, "its report: %s", ev.last);
	nt_free(t);
	free(notice);
}

static void
test_bound(void)
{
	struct events ev;
	const char *failed = path_in("bound.failed", 1);
	struct nt_opts o;
	struct nt *t;
	char why[160], line[32];
	int i, lines = 0;
	const char *p;

	unlink(failed);
	nt_opts_init(&o);
	o.cmd = "sleep 30";
	o.max_inflight = 2;
	o.retries = 0;
	o.failed_path = failed;
	o.report = on_report;
	o.ctx = &ev;
	memset(&ev, 0, sizeof(ev));
	t = nt_new(&o, why, sizeof(why));
	for (i = 0; i < 6; i++) {
		snprintf(line, sizeof(line), "{\"n\":%d}", i);
		nt_send(t, line, strlen(line));
	}
	is_int(nt_stats(t)->attempts, 2, "bound: two notifiers run, the others wait");
	is_int(nt_pending(t), 6, "bound: six notices pending, and nt_send did not wait for them");
	nt_free(t);
	for (p = slurp(failed); (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	is_int(lines, 6, "bound: freeing early keeps all six notices in the failed-notice file");
	is_int(ev.n[NT_RETRY], 0, "bound: nothing is retried at the end");
	is_int(ev.n[NT_FAILED], 6, "bound: each kept notice is reported");

	o.cmd = "a | b";
	ok(nt_new(&o, why, sizeof(why)) == NULL, "nt_new refuses a command that needs a shell");
	is_str(why, "'|' would need a shell: quote it, or put the pipeline in a script", "with the reason");
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_notify.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_split();
	test_cat();
	test_false();
	test_hang();
	test_missing();
	test_closes_stdin();
	test_bound();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return tap_done();
}
