/* window: assign events to tumbling, sliding or session windows by event time, with watermarks and late data. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cli.h"
#include "diag.h"
#include "input.h"
#include "offsets.h"
#include "record.h"
#include "state.h"
#include "timeval.h"
#include "windowing.h"

/* An event can be in at most this many sliding windows (size / slide). */
#define MAX_WINDOWS	10000

enum {
	OPT_TUMBLING = CLI_TOOL_BASE,
	OPT_SLIDING,
	OPT_SLIDE,
	OPT_SESSION,
	OPT_OFFSET,
	OPT_KEY,
	OPT_PROCESSING_TIME,
	OPT_LATENESS,
	OPT_LATE,
	OPT_IDLE,
	OPT_STATE,
	OPT_CHECKPOINT_EVERY,
	OPT_ALLOWED_LATENESS
};

static const struct option longopts[] = {
	CLI_LONGOPTS,
	{ "tumbling",		required_argument,	NULL, OPT_TUMBLING },
	{ "sliding",		required_argument,	NULL, OPT_SLIDING },
	{ "slide",		required_argument,	NULL, OPT_SLIDE },
	{ "session",		required_argument,	NULL, OPT_SESSION },
	{ "offset",		required_argument,	NULL, OPT_OFFSET },
	{ "key",		required_argument,	NULL, OPT_KEY },
	{ "processing-time",	no_argument,		NULL, OPT_PROCESSING_TIME },
	{ "lateness",		required_argument,	NULL, OPT_LATENESS },
	{ "late",		required_argument,	NULL, OPT_LATE },
	{ "idle",		required_argument,	NULL, OPT_IDLE },
	{ "state",		required_argument,	NULL, OPT_STATE },
	{ "checkpoint-every",	required_argument,	NULL, OPT_CHECKPOINT_EVERY },
	{ "allowed-lateness",	required_argument,	NULL, OPT_ALLOWED_LATENESS },
	{ NULL, 0, NULL, 0 }
};

static const struct cli_help help = {
	"(--tumbling D | --sliding D --slide D | --session GAP) [options] [file ...]",
	"Assign events to event-time windows, emit watermarks, and set late events aside.",
	"      --tumbling D         fixed windows of length D\n"
	"      --sliding D          windows of length D, one starting every --slide\n"
	"      --slide D            the distance between the starts of sliding windows\n"
	"      --session GAP        sessions that end after GAP without events\n"
	"      --offset D           shift the window grid by D (may be negative)\n"
	"      --key F,...          the fields that key sessions (default: one stream)\n"
	"      --processing-time    use the arrival time instead of the time field\n"
	"      --lateness D         watermark = max event time - D (default 0)\n"
	"      --late FILE          append late events to FILE (default: report them)\n"
	"      --allowed-lateness D keep closed windows for D and re-fire them on late\n"
	"                           events, marked \"revision\":N\n"
	"      --idle D             when input is idle for D, let the watermark follow\n"
	"                           the wall clock\n"
	"      --state FILE         keep open windows and the watermark across runs\n"
	"      --checkpoint-every D also save --state every D of wall-clock time\n",
	"Events get \"window_start\" and \"window_end\"; watermarks are {\"@watermark\":\"...\"} records."
};

/* Everything one run works with. */
static struct {
	struct cli		 cli;
	const char		*kind_opt;	/* the window option given: "--tumbling", ... */
	int64_t			 size, slide, offset, gap;
	bool			 session, have_offset, have_slide;
	struct rec_path		**keys;
	size_t			 nkeys;
	bool			 processing_time;
	int64_t			 lateness, idle, checkpoint_every, allowed;
	const char		*late_path, *state_path;

	struct rec		*rec;
	struct win_wm		 wm;
	struct win_open		*open;
	struct win_open		*kept;	/* --allowed-lateness: windows closed but kept, with late-firing counts */
	struct win_sessions	*ws;
	struct diag_side	*late;
	int64_t			*starts;
	size_t			 maxwin;
	struct buf		 out, key;
	struct buf		 payload;	/* a session event as stored: a splice flag, then the line */
	struct buf		 bounds;	/* the last window's bounds as JSON, for reuse */
	size_t			 bounds_mid;
	int64_t			 bounds_start, bounds_end;
	int64_t			 emitted_wm;	/* the last watermark written, TV_MIN if none */
	int64_t			 base_wm, base_wall;	/* T and wall clock at the last input, for --idle */
	int64_t			 last_input, next_checkpoint;
	struct input		*in;
	char			**files;	/* the operands: a checkpoint records the position in a single file */
	int			 nfiles;
	bool			 resume;	/* the state is a checkpoint taken in the middle of files[0] ... */
	uint64_t		 resume_off, resume_line;	/* ... at this byte offset and line */
} w;

static volatile sig_atomic_t got_term;

static void	on_term(int);
static void	set_kind(const char *opt, const char *arg, int64_t *dst);
static void	check_options(void);
static void	state_spec(struct buf *);
static void	state_load(void);
static void	state_save(bool checkpoint);
static void	do_event(const struct in_line *);
static void	advance(void);
static bool	windows_writable(int64_t t);
static void	emit_window(int64_t start, int64_t end, unsigned revision);
static void	emit_session(void *, const struct win_session *);
static void	emit_watermark(int64_t t);
static void	session_payload(const char *line, size_t len);
static void	on_tick(void *);

int
main(int argc, char *argv[])
{
	struct in_line ln;
	struct sigaction sa;
	int c;

	diag_init("window");
	cli_init(&w.cli);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS, longopts, NULL)) != -1) {
		if (cli_common(&w.cli, c, optarg, &help))
			continue;
		switch (c) {
		case OPT_TUMBLING:	/* fixed windows: slide == size */
			set_kind("--tumbling", optarg, &w.size);
			w.slide = w.size;
			break;
		case OPT_SLIDING:	/* the size; --slide gives the step */
			set_kind("--sliding", optarg, &w.size);
			break;
		case OPT_SLIDE:
			w.slide = cli_duration("--slide", optarg, CLI_DUR_POSITIVE);
			w.have_slide = true;
			break;
		case OPT_SESSION:	/* the gap that ends a session */
			set_kind("--session", optarg, &w.gap);
			w.session = true;
			break;
		case OPT_OFFSET:	/* shifts the grid; only its residue modulo the slide matters */
			w.offset = cli_duration("--offset", optarg, CLI_DUR_ZERO_OK | CLI_DUR_NEGATIVE_OK);
			w.have_offset = true;
			break;
		case OPT_KEY:
			cli_paths("--key", optarg, &w.keys, &w.nkeys);
			break;
		case OPT_PROCESSING_TIME:
			w.processing_time = true;
			break;
		case OPT_LATENESS:
			w.lateness = cli_duration("--lateness", optarg, CLI_DUR_ZERO_OK);
			break;
		case OPT_LATE:
			w.late_path = optarg;
			break;
		case OPT_IDLE:
			w.idle = cli_duration("--idle", optarg, CLI_DUR_POSITIVE);
			break;
		case OPT_STATE:
			w.state_path = optarg;
			break;
		case OPT_CHECKPOINT_EVERY:
			w.checkpoint_every = cli_duration("--checkpoint-every", optarg, CLI_DUR_POSITIVE);
			break;
		case OPT_ALLOWED_LATENESS:	/* Flink's allowed lateness: late firings */
			w.allowed = cli_duration("--allowed-lateness", optarg, CLI_DUR_ZERO_OK);
			break;
		default:
			diag_usage_error("unknown option");
		}
	}
	check_options();
	argc -= optind;
	argv += optind;

	w.files = argv;
	w.nfiles = argc;
	w.cli.inputs = argv;
	w.cli.ninputs = (size_t)argc;
	/* Lock the state before anything is written, so a second run changes nothing. */
	if (w.state_path != NULL && st_lock(w.state_path) == -1) {
		if (errno == EWOULDBLOCK)
			diag_die(EX_IOERR, "state file %s is locked by another run", w.state_path);
		diag_die(EX_IOERR, "%s.lock: %s", w.state_path, strerror(errno));
	}
	cli_finish(&w.cli);
	w.late = diag_side_open(w.late_path, "late", "late event");
	w.rec = rec_new();
	wm_init(&w.wm, w.lateness);
	w.emitted_wm = TV_MIN;
	if (w.session) {
		w.ws = ws_new(w.gap);
		ws_set_allowed_lateness(w.ws, w.allowed);
		ws_count_visits(w.ws, diag_counter("sessions_visited"));
	} else {
		w.open = wo_new();
		w.kept = wo_new();
		w.maxwin = win_sliding_count(w.size, w.slide);
		w.starts = xmalloc(w.maxwin * sizeof *w.starts);
	}
	if (w.state_path != NULL)
		state_load();
	/* A restored watermark lets --idle close restored windows before any input. */
	w.base_wm = w.wm.t;
	w.base_wall = tv_now();

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;	/* no SA_RESTART: a blocked read returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	w.in = in_open(argv, argc, w.cli.max_line);
	if (w.resume)
		in_start_at(w.in, w.resume_off, w.resume_line);	/* where the checkpoint left it */
	if (w.idle > 0 || w.checkpoint_every > 0) {
		/* Wake up on a quiet input: for --idle, and for checkpoints. */
		int64_t us = w.idle > 0 ? w.idle : w.checkpoint_every;
		if (w.checkpoint_every > 0 && w.checkpoint_every < us)
			us = w.checkpoint_every;
		us /= 1000;
		in_set_tick(w.in, us < 1 ? 1 : us > INT32_MAX ? INT32_MAX : (int)us, on_tick, NULL);
	}
	w.last_input = tv_now();
	if (w.checkpoint_every > 0)
		w.next_checkpoint = win_add(w.last_input, w.checkpoint_every);

	while (!got_term && in_next(w.in, &ln)) {
		diag_poll();
		do_event(&ln);
		if (w.checkpoint_every > 0 && tv_now() >= w.next_checkpoint)
			state_save(true);
	}

	/* End of input: with --state the open windows wait for the next run; without, everything closes. */
	if (w.state_path != NULL) {
		state_save(false);
	} else {
		wm_raise(&w.wm, TV_MAX);
		advance();
		if (w.emitted_wm != TV_MAX && !w.cli.no_watermarks)
			emit_watermark(TV_MAX);
	}
	{
		/* A signal from now on must not reach the closed input (on_term checks). */
		struct input *in = w.in;
		w.in = NULL;
		in_close(in);
	}
	ws_free(w.ws);
	wo_free(w.open);
	wo_free(w.kept);
	free(w.starts);
	buf_free(&w.out);
	buf_free(&w.key);
	buf_free(&w.payload);
	buf_free(&w.bounds);
	rec_free(w.rec);
	for (size_t i = 0; i < w.nkeys; i++)
		rec_path_free(w.keys[i]);
	free(w.keys);
	cli_free(&w.cli);
	return diag_finish();
}

/* on_term makes the read loop stop: in_stop only sets a flag, and the interrupted poll sees it. */
static void
on_term(int sig)
{
	got_term = 1;
	if (w.in != NULL)
		in_stop(w.in);
}

/* set_kind parses the size of a window option and refuses a second window option. */
static void
set_kind(const char *opt, const char *arg, int64_t *dst)
{
	if (w.kind_opt != NULL && strcmp(w.kind_opt, opt) != 0)
		diag_usage_error("%s and %s cannot be used together", w.kind_opt, opt);
	w.kind_opt = opt;
	*dst = cli_duration(opt, arg, CLI_DUR_POSITIVE);
}

/* check_options refuses combinations that have no meaning, naming the options. */
static void
check_options(void)
{
	char a[TV_BUFSZ], b[TV_BUFSZ];

	if (w.kind_opt == NULL)
		diag_usage_error("one of --tumbling, --sliding or --session is required");
	if (strcmp(w.kind_opt, "--sliding") == 0 && !w.have_slide)
		diag_usage_error("--sliding needs --slide");
	if (w.have_slide && strcmp(w.kind_opt, "--sliding") != 0)
		diag_usage_error("--slide needs --sliding");
	if (w.have_slide && w.slide > w.size) {
		tv_format_duration(w.slide, a);
		tv_format_duration(w.size, b);
		diag_usage_error("--slide %s is longer than the window (--sliding %s)", a, b);
	}
	if (w.have_slide && win_sliding_count(w.size, w.slide) > MAX_WINDOWS) {
		tv_format_duration(w.slide, a);
		tv_format_duration(w.size, b);
		diag_usage_error("--sliding %s --slide %s puts each event in more than %d windows",
		    b, a, MAX_WINDOWS);
	}
	if (w.nkeys > 0 && !w.session)
		diag_usage_error("--key needs --session");
	if (w.have_offset && w.session)
		diag_usage_error("--offset cannot be used with --session");
	if (w.checkpoint_every > 0 && w.state_path == NULL)
		diag_usage_error("--checkpoint-every needs --state");
	/* A checkpoint records the output's length, which -o's temporary file does not have yet. */
	if (w.checkpoint_every > 0 && w.cli.output != NULL && strcmp(w.cli.output, "-") != 0)
		diag_usage_error("--checkpoint-every cannot be used with -o: append standard output "
		    "to the file (>> FILE)");
}

/* session_key builds the key of the current record: the canonical JSON of the --key fields, as an array. */
static void
session_key(void)
{
	struct rec_val v;
	size_t i;

	buf_reset(&w.key);
	if (w.nkeys == 0)
		return;
	buf_addc(&w.key, '[');
	for (i = 0; i < w.nkeys; i++) {
		if (i > 0)
			buf_addc(&w.key, ',');
		if (rec_get(w.rec, w.keys[i], &v) == RT_MISSING)
			buf_adds(&w.key, "null");	/* a missing key field groups like null */
		else
			rec_val_canon(w.rec, &v, &w.key);
	}
	buf_addc(&w.key, ']');
}

/* do_event handles one input line: a watermark record, an event, or a bad line. */
static void
do_event(const struct in_line *ln)
{
	struct rec_err err;
	const char *why;
	int64_t t, wmt;
	size_t n, i;
	int r;

	w.last_input = tv_now();
	diag_in++;
	if (rec_parse(w.rec, ln->data, ln->len, &err) != 0) {
		diag_reject(&ln->pos, ln->data, ln->len, "invalid JSON at column %zu: %s",
		    err.column, err.text);
		return;
	}
	r = rec_is_watermark(w.rec, &wmt);
	if (r == -1) {
		diag_reject(&ln->pos, ln->data, ln->len, "bad time in '@watermark'");
		return;
	}
	if (r == 1) {
		if (wm_raise(&w.wm, wmt))
			advance();
		w.base_wm = w.wm.t;
		w.base_wall = w.last_input;
		return;
	}
	if (w.processing_time) {
		t = w.last_input;
	} else if (cli_time(&w.cli, w.rec, &t, &why) != 0) {
		diag_reject(&ln->pos, ln->data, ln->len, "%s", why);
		return;
	}

	if (w.session ? !win_writable(t, win_add(t, w.gap)) : !windows_writable(t)) {
		diag_reject(&ln->pos, ln->data, ln->len,
		    "its window would end after 9999-12-31T23:59:59.999999Z or start before year 0000,"
		    " which RFC 3339 cannot write");
		return;
	}
	if (w.session) {
		session_key();
		session_payload(ln->data, ln->len);
		if (ws_add(w.ws, w.key.p, w.key.len, t, w.payload.p, w.payload.len, w.wm.t) != 0)
			goto late;
		if (w.allowed > 0)
			advance();	/* a kept session the event joined fires again now */
	} else {
		n = win_sliding_assign(t, w.size, w.slide, w.offset, w.starts, w.maxwin);
		/*
		 * Only windows that are still open, or closed but kept by
		 * --allowed-lateness, get the event (Flink skips the others).
		 * A kept window gets it as its next revision.
		 */
		for (i = 0; i < n; i++) {
			int64_t end = win_add(w.starts[i], w.size);
			unsigned rev = 0;
			if (win_add(end, w.allowed) <= w.wm.t)
				continue;
			if (w.allowed > 0)
				wo_add(w.kept, end);
			if (end <= w.wm.t)
				rev = (unsigned)++*wo_counter(w.kept, end);
			else
				wo_add(w.open, end);
			emit_window(w.starts[i], end, rev);
		}
		if (n == 0 || win_add(win_add(w.starts[n - 1], w.size), w.allowed) <= w.wm.t)
			goto late;
	}
	if (wm_event(&w.wm, t))
		advance();
	w.base_wm = w.wm.t;
	w.base_wall = w.last_input;
	return;
late:
	diag_side_write(w.late, &ln->pos, ln->data, ln->len);
}

/* windows_writable reports whether every tumbling or sliding window of an event at t can be written. */
static bool
windows_writable(int64_t t)
{
	size_t n;

	/* A window holding t lies within size of t: far from the ends of time, no need to look. */
	if (t > win_add(WIN_RFC3339_MIN, w.size) && t < win_add(WIN_RFC3339_MAX, -w.size))
		return true;
	n = win_sliding_assign(t, w.size, w.slide, w.offset, w.starts, w.maxwin);
	return n == 0 || win_writable(w.starts[0], win_add(w.starts[n - 1], w.size));
}

/* advance closes what the watermark T has passed and says so downstream with a watermark record. */
static void
advance(void)
{
	size_t closed;

	if (w.session) {
		closed = ws_close(w.ws, w.wm.t, emit_session, NULL);
	} else {
		closed = wo_close(w.open, w.wm.t);
		wo_close(w.kept, win_add(w.wm.t, -w.allowed));
	}
	if (closed > 0 && !w.cli.no_watermarks && w.wm.t != w.emitted_wm)
		emit_watermark(w.wm.t);
}

/* emit_window writes the current record with window_start and window_end spliced in. */
static void
emit_window(int64_t start, int64_t end, unsigned revision)
{
	struct rec_edit ed[3];
	char rev[24];

	/* Consecutive events mostly share a window: format its bounds once. */
	if (w.bounds.len == 0 || start != w.bounds_start || end != w.bounds_end) {
		buf_reset(&w.bounds);
		jw_time(&w.bounds, start);
		w.bounds_mid = w.bounds.len;
		jw_time(&w.bounds, end);
		w.bounds_start = start;
		w.bounds_end = end;
	}
	ed[0] = (struct rec_edit){ "window_start", 12, w.bounds.p, w.bounds_mid };
	ed[1] = (struct rec_edit){ "window_end", 10, w.bounds.p + w.bounds_mid,
	    w.bounds.len - w.bounds_mid };
	if (revision > 0) {
		int len = snprintf(rev, sizeof rev, "%u", revision);
		ed[2] = (struct rec_edit){ "revision", 8, rev, (size_t)len };
	}
	rec_emit(w.rec, stdout, ed, revision > 0 ? 3 : 2);
	diag_out++;
}

/*
 * How a stored session event gets its window fields: SPLICE_PARSE parses
 * it again and lets rec_emit replace fields it already has; the others
 * write the bytes up to the closing brace and append the fields, which
 * is what rec_emit does for a record without them, without a second parse.
 */
enum { SPLICE_PARSE, SPLICE_MEMBERS, SPLICE_EMPTY };

/* session_payload stores the splice flag of the current record and its line in w.payload. */
static void
session_payload(const char *line, size_t len)
{
	static const char *const names[] = { "window_start", "window_end", "revision" };
	struct rec_val v;
	char flag = rec_nfields(w.rec) > 0 ? SPLICE_MEMBERS : SPLICE_EMPTY;
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (rec_get_key(w.rec, names[i], strlen(names[i]), &v) != RT_MISSING)
			flag = SPLICE_PARSE;
	buf_reset(&w.payload);
	buf_addc(&w.payload, flag);
	buf_add(&w.payload, line, len);
}

static bool
json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* emit_session writes the events of a closed session, each annotated with the session's bounds. */
static void
emit_session(void *ctx, const struct win_session *s)
{
	size_t i, len, a, z;
	unsigned rev = ws_revision(s);
	char tmp[24];

	for (i = 0; i < ws_nevents(s); i++) {
		const char *p = ws_event(s, i, &len, NULL);
		char flag = p[0];

		p++;
		len--;
		if (flag == SPLICE_PARSE) {
			/* The bytes were a valid record when they were stored. */
			if (rec_parse(w.rec, p, len, NULL) == 0)
				emit_window(ws_start(s), ws_end(s), rev);
			continue;
		}
		/* A valid object: '{' is the first byte that is not space, '}' the last. */
		for (a = 0; json_space(p[a]); a++)
			;
		for (z = len - 1; json_space(p[z]); z--)
			;
		buf_reset(&w.out);
		buf_add(&w.out, p + a, z - a);
		buf_adds(&w.out, flag == SPLICE_MEMBERS ? ",\"window_start\":" : "\"window_start\":");
		jw_time(&w.out, ws_start(s));
		buf_adds(&w.out, ",\"window_end\":");
		jw_time(&w.out, ws_end(s));
		if (rev > 0) {
			snprintf(tmp, sizeof tmp, ",\"revision\":%u", rev);
			buf_adds(&w.out, tmp);
		}
		buf_add(&w.out, "}\n", 2);
		fwrite(w.out.p, 1, w.out.len, stdout);
		diag_out++;
	}
}

static void
emit_watermark(int64_t t)
{
	buf_reset(&w.out);
	buf_adds(&w.out, "{\"@watermark\":");
	jw_time(&w.out, t);
	buf_adds(&w.out, "}\n");
	fwrite(w.out.p, 1, w.out.len, stdout);
	w.emitted_wm = t;
}

/*
 * on_tick runs while the input is idle.  With --idle D, once nothing has
 * arrived for D, event time is taken to move with the wall clock from the
 * last input on: T = T at the last input + wall time since.
 */
static void
on_tick(void *ctx)
{
	int64_t now = tv_now();

	if (w.idle > 0 && w.base_wm != TV_MIN && now - w.last_input >= w.idle &&
	    wm_raise(&w.wm, win_add(w.base_wm, now - w.base_wall)))
		advance();
	if (w.checkpoint_every > 0 && now >= w.next_checkpoint)
		state_save(true);
}

/* ---- --state: the window spec, the watermark, the open windows and the sessions' events ---- */

/* state_spec writes what must match between runs for a saved state to mean the same windows. */
static void
state_spec(struct buf *b)
{
	char tmp[128];
	size_t i;

	if (w.session)
		snprintf(tmp, sizeof tmp, "session gap=%lld", (long long)w.gap);
	else
		snprintf(tmp, sizeof tmp, "sliding size=%lld slide=%lld offset=%lld", (long long)w.size,
		    (long long)w.slide, (long long)((w.offset % w.slide + w.slide) % w.slide));
	buf_adds(b, tmp);
	for (i = 0; i < w.nkeys; i++) {
		buf_adds(b, i == 0 ? " key=" : ",");
		buf_adds(b, rec_path_str(w.keys[i]));
	}
}

static json_t *
jint(int64_t v)
{
	return json_integer((json_int_t)v);
}

static void
save_session(void *ctx, const struct win_session *s)
{
	FILE *f = ctx;
	size_t kl, i, len;
	const char *k = ws_key(s, &kl);
	int64_t t;

	for (i = 0; i < ws_nevents(s); i++) {
		const char *p = ws_event(s, i, &len, &t);
		json_t *o = json_pack("{s:s%,s:I,s:s%,s:I,s:b}", "key", k, kl, "t", (json_int_t)t,
		    "event", p + 1, len - 1, "fired", (json_int_t)ws_revision(s),
		    "pending", ws_pending(s));
		json_dumpf(o, f, JSON_COMPACT);
		fputc('\n', f);
		json_decref(o);
	}
}

/* is_gzip reports whether path starts with the gzip magic bytes: offsets in it are not file offsets. */
static bool
is_gzip(const char *path)
{
	unsigned char m[2];
	FILE *f = fopen(path, "rb");
	bool gz;

	if (f == NULL)
		return true;
	gz = fread(m, 1, 2, f) == 2 && m[0] == 0x1f && m[1] == 0x8b;
	fclose(f);
	return gz;
}

/*
 * resume_point records in hdr where a checkpoint taken now leaves the
 * input, when it is a single regular file: a run killed after it
 * continues from there (state_load).  complete marks the save at the end
 * of the run: a rerun on the same file then reads only what was appended
 * since, and a run on another file starts it from the beginning.
 */
static void
resume_point(json_t *hdr, bool complete)
{
	struct off_state st = { 0 };
	struct diag_pos pos;
	uint64_t dev, ino;
	char hash[17];

	if (w.nfiles != 1 || strcmp(w.files[0], "-") == 0 || is_gzip(w.files[0]))
		return;
	in_tell(w.in, &pos);
	in_file_id(w.in, &dev, &ino);
	/* The position is in the file read, if the name still names it (lib/offsets). */
	if (off_mark(&st, w.files[0], pos.offset, pos.line) != 0 || st.dev != dev || st.ino != ino) {
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
 * state_save writes the state.  The output it accounts for is written out
 * first (a checkpoint flushes and syncs it; the end of the run also puts
 * -o FILE in place), so that a state never counts a record that a crash
 * could lose.  With --checkpoint-every the state also records the
 * outputs' lengths and, at a checkpoint, the input position.  The next
 * checkpoint is due --checkpoint-every after this one ends.
 */
static void
state_save(bool checkpoint)
{
	struct buf spec = BUF_INIT;
	json_t *hdr, *marks;
	FILE *f;
	size_t i;

	if ((checkpoint ? diag_sync() : diag_commit()) != 0)
		return;		/* the write error is reported; the old state stays */
	state_spec(&spec);
	hdr = json_pack("{s:s,s:o,s:o}", "windows", buf_cstr(&spec),
	    "watermark", jint(w.wm.t), "max_event", jint(w.wm.max_event));
	buf_free(&spec);
	if (w.checkpoint_every > 0) {
		marks = json_array();
		diag_marks(marks);
		json_object_set_new(hdr, "outputs", marks);
		resume_point(hdr, !checkpoint);
	}
	if ((f = st_begin(w.state_path, "window", hdr)) == NULL) {
		json_decref(hdr);
		diag_err("%s", w.state_path);
		diag_note_ioerr();
		return;
	}
	json_decref(hdr);
	if (w.session) {
		ws_foreach(w.ws, save_session, f);
	} else {
		for (i = 0; i < wo_count(w.open); i++)
			fprintf(f, "{\"open\":%lld}\n", (long long)wo_get(w.open, i));
		for (i = 0; i < wo_count(w.kept); i++) {
			int64_t end = wo_get(w.kept, i);
			fprintf(f, "{\"kept\":%lld,\"n\":%llu}\n", (long long)end,
			    (unsigned long long)*wo_counter(w.kept, end));
		}
	}
	if (ferror(f)) {
		st_abort(f, w.state_path);
		errno = EIO;
		diag_err("%s", w.state_path);
		diag_note_ioerr();
		return;
	}
	if (st_commit(f, w.state_path) != 0) {
		diag_err("%s", w.state_path);
		diag_note_ioerr();
	}
	if (w.checkpoint_every > 0)
		w.next_checkpoint = win_add(tv_now(), w.checkpoint_every);
}

static void
state_load(void)
{
	struct buf spec = BUF_INIT;
	json_t *hdr = NULL, *o;
	json_error_t je;
	const char *why = NULL, *saved;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	if ((f = st_open(w.state_path, "window", &hdr, &why)) == NULL) {
		if (errno == ENOENT)
			return;
		if (why != NULL)
			diag_die(EX_IOERR, "%s: %s", w.state_path, why);
		diag_die(EX_IOERR, "%s: %s", w.state_path, strerror(errno));
	}
	state_spec(&spec);
	saved = json_string_value(json_object_get(hdr, "windows"));
	if (saved == NULL || strcmp(saved, buf_cstr(&spec)) != 0)
		diag_die(EX_USAGE, "%s: state was saved for other windows (%s, not %s)",
		    w.state_path, saved ? saved : "?", buf_cstr(&spec));
	w.wm.t = json_integer_value(json_object_get(hdr, "watermark"));
	w.wm.max_event = json_integer_value(json_object_get(hdr, "max_event"));
	w.emitted_wm = w.wm.t;
	if ((o = json_object_get(hdr, "resume")) != NULL) {
		/* A run was killed after this checkpoint: it continues in the same file. */
		struct off_state st = { 0 };
		const char *h = json_string_value(json_object_get(o, "head_hash"));
		bool same;

		st.dev = (uint64_t)json_integer_value(json_object_get(o, "dev"));
		st.ino = (uint64_t)json_integer_value(json_object_get(o, "ino"));
		st.offset = (uint64_t)json_integer_value(json_object_get(o, "offset"));
		st.head_len = (uint64_t)json_integer_value(json_object_get(o, "head_len"));
		same = h != NULL && sscanf(h, "%" SCNx64, &st.head_hash) == 1 && w.nfiles == 1 &&
		    off_same(&st, w.files[0]);
		if (!same && !json_is_true(json_object_get(o, "complete")))
			diag_die(EX_IOERR, "%s: a checkpoint taken in the middle of another input file: "
			    "run again on that file to finish it", w.state_path);
		w.resume = same;
		w.resume_off = (uint64_t)json_integer_value(json_object_get(o, "offset"));
		w.resume_line = (uint64_t)json_integer_value(json_object_get(o, "line"));
	}
	if ((o = json_object_get(hdr, "outputs")) != NULL && diag_rewind(o, &why) != 0)
		diag_die(EX_IOERR, "%s: %s", w.state_path, why);
	json_decref(hdr);
	buf_free(&spec);
	while ((n = getline(&line, &cap, f)) > 0) {
		json_t *k, *ev;

		if ((o = json_loadb(line, (size_t)n, 0, &je)) == NULL)
			diag_die(EX_IOERR, "%s: %s", w.state_path, je.text);
		if (w.session) {
			k = json_object_get(o, "key");
			ev = json_object_get(o, "event");
			if (!json_is_string(k) || !json_is_string(ev) ||
			    rec_parse(w.rec, json_string_value(ev), json_string_length(ev), NULL) != 0)
				diag_die(EX_IOERR, "%s: not a window state line", w.state_path);
			session_payload(json_string_value(ev), json_string_length(ev));
			ws_restore(w.ws, json_string_value(k), json_string_length(k),
			    json_integer_value(json_object_get(o, "t")),
			    w.payload.p, w.payload.len,
			    (unsigned)json_integer_value(json_object_get(o, "fired")),
			    !json_is_false(json_object_get(o, "pending")));
		} else if (json_object_get(o, "kept") != NULL) {
			int64_t end = json_integer_value(json_object_get(o, "kept"));
			wo_add(w.kept, end);
			*wo_counter(w.kept, end) = (uint64_t)json_integer_value(json_object_get(o, "n"));
		} else {
			wo_add(w.open, json_integer_value(json_object_get(o, "open")));
		}
		json_decref(o);
	}
	free(line);
	if (ferror(f))
		diag_die(EX_IOERR, "%s: %s", w.state_path, strerror(errno));
	fclose(f);
}
