/* run: the record loop every tool shares — inputs, signals, ticks, blank lines, parse failures, watermarks, --state around the operator, exit status. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "run.h"
#include "source.h"
#include "state.h"
#include "timeval.h"

/* One run per process: the signal handler and the tick need to reach it. */
static struct {
	const struct run_spec	*spec;
	const struct run_ops	*ops;
	void			*ctx;
	struct input		*in;
	struct source		*src;
	struct rec		*rec;
	int64_t			 next_checkpoint;
	bool			 no_watermarks;
} R;

static void
on_term(int sig)
{
	(void)sig;
	if (R.in != NULL)
		in_stop(R.in);
}

static void
catch_term(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sa.sa_flags = SA_RESETHAND;	/* a second signal ends the run at once */
	sigemptyset(&sa.sa_mask);	/* no SA_RESTART: a blocked read returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* state_header builds the header's members: the options the state depends on. */
static json_t *
state_header(void)
{
	json_t *h = json_object();

	if (R.spec->options != NULL)
		json_object_set(h, "options", R.spec->options);
	if (R.ops->header != NULL)
		R.ops->header(R.ctx, h);
	return h;
}

/* options_differ names the first option whose saved value differs, in why. */
static bool
options_differ(json_t *saved, char *why, size_t whysz)
{
	json_t *now = R.spec->options, *v;
	const char *k;

	if (now == NULL)
		return false;
	json_object_foreach(now, k, v) {
		json_t *s = json_object_get(saved, k);
		const char *sv = json_is_string(s) ? json_string_value(s) : "(none)";

		if (s == NULL || !json_equal(s, v)) {
			snprintf(why, whysz, "it was saved by a run with %s %s; this run has %s %s",
			    k, sv, k, json_string_value(v) ? json_string_value(v) : "(none)");
			return true;
		}
	}
	json_object_foreach(saved, k, v) {
		if (json_object_get(now, k) == NULL) {
			snprintf(why, whysz, "it was saved by a run with %s %s; this run has none",
			    k, json_is_string(v) ? json_string_value(v) : "");
			return true;
		}
	}
	return false;
}

/* load reads the state, if there is one yet; any damage refuses the whole state (exit 3). */
static void
load(void)
{
	const char *path = R.spec->state_path, *why = NULL;
	json_t *hdr = NULL;
	char *line = NULL, reason[512];
	size_t cap = 0;
	ssize_t n;
	uint64_t lineno = 1;
	FILE *f;

	if ((f = st_open(path, R.spec->tool, &hdr, &why)) == NULL) {
		if (errno == ENOENT)
			return;
		diag_die(EX_IOERR, "state file %s: %s", path, why != NULL ? why : strerror(errno));
	}
	if (R.spec->options != NULL && !json_is_object(json_object_get(hdr, "options")))
		diag_die(EX_IOERR, "state file %s: its header names no options (an older ndflow's state?)", path);
	if (options_differ(json_object_get(hdr, "options"), reason, sizeof(reason)))
		diag_die(EX_USAGE, "state file %s: %s", path, reason);
	reason[0] = '\0';
	if (R.ops->restore != NULL && R.ops->restore(R.ctx, hdr, reason, sizeof(reason)) != 0)
		diag_die(EX_IOERR, "state file %s:1: %s", path, reason);
	json_decref(hdr);
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[n - 1] != '\n')
			diag_die(EX_IOERR, "state file %s:%llu: the last line is cut short", path,
			    (unsigned long long)lineno);
		reason[0] = '\0';
		if (R.ops->load(R.ctx, line, (size_t)n - 1, reason, sizeof(reason)) != 0)
			diag_die(EX_IOERR, "state file %s:%llu: %s", path, (unsigned long long)lineno,
			    reason[0] ? reason : "not a state line of this tool");
	}
	free(line);
	if (ferror(f))
		diag_die(EX_IOERR, "state file %s: %s", path, strerror(errno));
	fclose(f);
}

/* save writes the whole state atomically; a failure is reported and leaves the old state. */
static int
save(void)
{
	const char *path = R.spec->state_path;
	json_t *hdr = state_header();
	FILE *f;

	f = st_begin(path, R.spec->tool, hdr);
	json_decref(hdr);
	if (f == NULL) {
		diag_err("state file %s", path);
		diag_note_ioerr();
		return -1;
	}
	if (R.ops->save(R.ctx, f) != 0 || ferror(f)) {
		int e = errno ? errno : EIO;
		st_abort(f, path);
		errno = e;
		diag_err("state file %s", path);
		diag_note_ioerr();
		return -1;
	}
	if (st_commit(f, path) != 0) {
		diag_err("state file %s", path);
		diag_note_ioerr();
		return -1;
	}
	return 0;
}

int
run_checkpoint(void)
{
	diag_flush();
	if (ferror(stdout)) {
		/* lib/diag reports the write error at the end; the state must not move on. */
		diag_note_ioerr();
		return -1;
	}
	if (R.spec->state_path == NULL)
		return 0;
	return save();
}

void
run_put_watermark(int64_t t)
{
	struct buf b = BUF_INIT;

	if (R.no_watermarks)
		return;
	buf_adds(&b, "{\"@watermark\":");
	jw_time(&b, t);
	buf_adds(&b, "}\n");
	fwrite(b.p, 1, b.len, stdout);
	buf_free(&b);
}

/* due_checkpoint saves when --checkpoint-every has passed; the next is scheduled from the end of the save. */
static void
due_checkpoint(void)
{
	if (R.spec->checkpoint_us <= 0 || tv_now() < R.next_checkpoint)
		return;
	run_checkpoint();
	R.next_checkpoint = tv_now() + R.spec->checkpoint_us;
}

static void
on_tick(void *arg)
{
	(void)arg;
	if (R.ops->tick != NULL)
		R.ops->tick(R.ctx, tv_now());
	due_checkpoint();
}

/* record classifies one input record and hands it to the operator. */
static void
record(const struct src_record *r)
{
	const struct in_line *ln = &r->text;
	struct rec_err perr;
	int64_t t;
	int wm;

	if (rec_parse(R.rec, r->json, r->jsonlen, &perr) != 0) {
		if (perr.not_object)
			diag_reject(&ln->pos, ln->data, ln->len, "%s", perr.text);
		else
			diag_reject(&ln->pos, ln->data, ln->len, "invalid JSON at column %zu: %s",
			    perr.column, perr.text);
		return;
	}
	/* A record that a format reader built from a CSV row or a log line is never a control record. */
	if (!r->built && (wm = rec_is_watermark(R.rec, &t)) != 0) {
		if (wm < 0)
			diag_reject(&ln->pos, ln->data, ln->len,
			    "bad watermark: not an RFC 3339 time or \"+inf\"");
		else if (R.ops->watermark != NULL)
			R.ops->watermark(R.ctx, t, R.rec, ln);
		else if (!R.no_watermarks)
			rec_emit(R.rec, stdout, NULL, 0);
		return;
	}
	R.ops->event(R.ctx, R.rec, ln);
}

struct input *
run_input(void)
{
	return R.in;
}

struct source *
run_source(void)
{
	return R.src;
}

int
run_main(const struct run_spec *spec, const struct run_ops *ops, void *ctx)
{
	struct src_record r;
	struct fmt_opts plain = { 0 };
	int64_t tick = spec->tick_us;
	int status;

	R.spec = spec;
	R.ops = ops;
	R.ctx = ctx;
	R.no_watermarks = spec->cli->no_watermarks;
	/* The lock comes first: a run refused here has changed nothing, not even -o. */
	if (spec->state_path != NULL && st_lock(spec->state_path) == -1) {
		if (errno == EWOULDBLOCK)
			diag_die(EX_IOERR, "state file %s is locked by another run", spec->state_path);
		diag_die(EX_IOERR, "%s.lock: %s", spec->state_path, strerror(errno));
	}
	cli_finish(spec->cli);
	R.rec = rec_new();
	if (spec->state_path != NULL)
		load();

	R.in = in_open(spec->paths, spec->npaths, spec->cli->max_line);
	R.src = src_new(R.in, spec->format, spec->fopts != NULL ? spec->fopts : &plain,
	    spec->cli->max_line);
	catch_term();
	if (spec->checkpoint_us > 0 && (tick <= 0 || spec->checkpoint_us < tick))
		tick = spec->checkpoint_us;
	if (tick > 0) {
		int64_t ms = tick / 1000;
		in_set_tick(R.in, ms < 1 ? 1 : ms > INT32_MAX ? INT32_MAX : (int)ms, on_tick, NULL);
	}
	R.next_checkpoint = spec->checkpoint_us > 0 ? tv_now() + spec->checkpoint_us : TV_MAX;
	if (ops->begin != NULL)
		ops->begin(ctx);
	while (src_next(R.src, &r)) {
		record(&r);
		if (spec->checkpoint_us > 0)
			due_checkpoint();
	}
	if (ops->end != NULL)
		ops->end(ctx, spec->state_path != NULL);
	src_free(R.src);
	in_close(R.in);
	R.src = NULL;
	R.in = NULL;
	/* The state moves on only once what it accounts for is out. */
	run_checkpoint();
	if (ops->free != NULL)
		ops->free(ctx);
	rec_free(R.rec);
	json_decref(spec->options);
	cli_free(spec->cli);
	status = diag_finish();
	if (ops->after != NULL)
		status = ops->after(ctx, status);
	return status;
}
