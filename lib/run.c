/* run: the record loop every tool shares — inputs, signals, ticks, blank lines, parse failures, watermarks, --state around the operator, exit status. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "jobs.h"
#include "offsets.h"
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
	bool			 resume;		/* a checkpoint left the one input file in its middle ... */
	uint64_t		 resume_off, resume_line;	/* ... here */
} R;

static void	resume_point(json_t *, bool);

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
state_header(bool complete)
{
	json_t *h = json_object();

	if (R.spec->options != NULL)
		json_object_set(h, "options", R.spec->options);
	if (R.ops->header != NULL)
		R.ops->header(R.ctx, h);
	/* A checkpointing run records how much output and input the state accounts for. */
	if (R.spec->checkpoint_us > 0) {
		json_t *marks = json_array();

		diag_marks(marks);
		json_object_set_new(h, "outputs", marks);
		resume_point(h, complete);
	}
	return h;
}


/*
 * resume_point records in hdr where a checkpoint taken now leaves the
 * input, when it is a single regular file: a run killed after it
 * continues from there (load).  complete marks the save at the end of the
 * run: a rerun on the same file then reads only what was appended since,
 * and a run on another file starts it from the beginning.
 */
static void
resume_point(json_t *hdr, bool complete)
{
	struct off_state st = { 0 };
	struct diag_pos pos;
	uint64_t dev, ino;
	char hash[17];

	if (R.in == NULL || R.spec->npaths != 1 || strcmp(R.spec->paths[0], "-") == 0 ||
	    in_is_gzip(R.spec->paths[0]) != 0)
		return;
	in_tell(R.in, &pos);
	in_file_id(R.in, &dev, &ino);
	/* The position is in the file read, if the name still names it (lib/offsets). */
	if (off_mark(&st, R.spec->paths[0], pos.offset, pos.line) != 0 || st.dev != dev ||
	    st.ino != ino) {
		off_state_free(&st);
		return;
	}
	snprintf(hash, sizeof hash, "%016" PRIx64, st.head_hash);
	json_object_set_new(hdr, "resume", json_pack("{s:I,s:I,s:I,s:I,s:I,s:s,s:b}",
	    "dev", (json_int_t)st.dev, "ino", (json_int_t)st.ino, "offset", (json_int_t)st.offset,
	    "line", (json_int_t)st.line, "head_len", (json_int_t)st.head_len, "head_hash", hash,
	    "complete", complete));
	off_state_free(&st);
}

/*
 * resume_from reads where a checkpoint left the input.  A run killed after
 * a checkpoint in the middle of a file continues in the same file; a
 * complete save on the same file goes on with what was appended since.
 */
static void
resume_from(json_t *o)
{
	struct off_state st = { 0 };
	const char *h = json_string_value(json_object_get(o, "head_hash"));
	bool same;

	st.dev = (uint64_t)json_integer_value(json_object_get(o, "dev"));
	st.ino = (uint64_t)json_integer_value(json_object_get(o, "ino"));
	st.offset = (uint64_t)json_integer_value(json_object_get(o, "offset"));
	st.head_len = (uint64_t)json_integer_value(json_object_get(o, "head_len"));
	same = h != NULL && sscanf(h, "%" SCNx64, &st.head_hash) == 1 && R.spec->npaths == 1 &&
	    off_same(&st, R.spec->paths[0]);
	if (!same && !json_is_true(json_object_get(o, "complete")))
		diag_die(EX_IOERR, "state file %s: a checkpoint taken in the middle of another input "
		    "file: run again on that file to finish it", R.spec->state_path);
	R.resume = same;
	R.resume_off = (uint64_t)json_integer_value(json_object_get(o, "offset"));
	R.resume_line = (uint64_t)json_integer_value(json_object_get(o, "line"));
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
	json_t *hdr = NULL, *o;
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
	if ((o = json_object_get(hdr, "resume")) != NULL)
		resume_from(o);
	if ((o = json_object_get(hdr, "outputs")) != NULL && diag_rewind(o, &why) != 0)
		diag_die(EX_IOERR, "state file %s: %s", path, why);
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
save(bool complete)
{
	const char *path = R.spec->state_path;
	json_t *hdr = state_header(complete);
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
	/* The output a state accounts for is on disk before the state says so. */
	if (diag_sync() != 0)
		return -1;
	if (R.spec->state_path == NULL)
		return 0;
	return save(false);
}

/*
 * finish_outputs ends the run's outputs and then saves: -o is put in
 * place first, so a state never counts a record a crash could lose, and a
 * failed output leaves the old state for a replay.
 */
static void
finish_outputs(void)
{
	/* Without a state, diag_finish puts -o in place, unless the run failed. */
	if (R.spec->state_path == NULL || diag_commit() != 0)
		return;
	save(true);
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

	if (r->built && R.ops->built != NULL && R.ops->built(R.ctx, r->json, r->jsonlen, ln))
		return;
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
	struct input *in;
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
		diag_die(EX_IOERR, "state file %s: %s", spec->state_path, strerror(errno));
	}
	spec->cli->inputs = spec->paths;
	spec->cli->ninputs = (size_t)spec->npaths;
	cli_finish(spec->cli);
	R.rec = rec_new();
	if (spec->state_path != NULL)
		load();

	R.in = in_open(spec->paths, spec->npaths, spec->cli->max_line);
	if (R.resume)
		in_start_at(R.in, R.resume_off, R.resume_line);	/* where the checkpoint left it */
	if (spec->piece != NULL) {
		if (spec->piece->start > 0)
			in_start_at(R.in, spec->piece->start, spec->piece->line);
		in_end_at(R.in, spec->piece->end);
	}
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
	/* The state moves on only once what it accounts for is out; it records where the input ended. */
	finish_outputs();
	in = R.in;
	R.in = NULL;	/* a signal from now on must not reach the closed input */
	src_free(R.src);
	in_close(in);
	R.src = NULL;
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
