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
#include "run.h"
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
	OPT_ALLOWED_LATENESS,
	OPT_WEEK_START
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
	{ "week-start",		required_argument,	NULL, OPT_WEEK_START },
	{ NULL, 0, NULL, 0 }
};

static const struct cli_help help = {
	"(--tumbling D | --sliding D --slide D | --session GAP) [options] [file ...]",
	"Assign events to event-time windows, emit watermarks, and set late events aside.",
	"      --tumbling D         fixed windows of length D, or calendar ones: Nd, Nw,\n"
	"                           Nmo, Ny (days, weeks, months, years, local in --tz)\n"
	"      --week-start DAY     the first day of a week window (default: monday)\n"
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
	"Events get \"window_start\" and \"window_end\"; watermarks are {\"@watermark\":\"...\"} records.\n"
	"Example: window --tumbling 1d --tz Europe/Berlin  (local days, 23 or 25 hours at DST)\n"
};

/* --week-start's names, Monday first as in ISO 8601. */
static const char *const weekdays[] = {
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
};

/* Everything one run works with. */
static struct {
	struct cli		 cli;
	const char		*kind_opt;	/* the window option given: "--tumbling", ... */
	int64_t			 size, slide, offset, gap;
	struct win_cal		 cal;		/* --tumbling Nd, Nw, Nmo, Ny: unit != WU_NONE */
	const char		*size_arg;	/* the window length as written */
	bool			 have_week_start;
	bool			 session, have_offset, have_slide;
	struct rec_path		**keys;
	size_t			 nkeys;
	bool			 processing_time;
	int64_t			 lateness, idle, checkpoint_every, allowed;
	const char		*late_path, *state_path;

	struct rec		*rec;	/* the record at hand: run's, or own while loading */
	struct rec		*own;
	struct win_wm		 wm;
	struct win_open		*open;
	struct win_open		*kept;	/* --allowed-lateness: windows closed but kept, with late-firing counts */
	struct win_sessions	*ws;
	struct diag_side	*late;
	int64_t			*starts, *ends;
	size_t			 maxwin;
	struct buf		 out, key;
	struct buf		 payload;	/* a session event as stored: a splice flag, then the line */
	struct buf		 bounds;	/* the last window's members as JSON, for reuse: ,"window_start":..,"window_end":..} */
	size_t			 bounds_mid;
	int64_t			 bounds_start, bounds_end;
	int64_t			 emitted_wm;	/* the last watermark written, TV_MIN if none */
	int64_t			 base_wm, base_wall;	/* T and wall clock at the last input, for --idle */
	int64_t			 last_input;
} w;

static void	parse_options(int, char *[]);
static void	set_kind(const char *opt, const char *arg, int64_t *dst);
static void	set_week_start(const char *arg);
static size_t	assign(int64_t t);
static void	put_time(struct buf *, int64_t t);
static void	check_options(void);
static json_t	*state_options(void);
static int	state_load(void *, const char *, size_t, char *, size_t);
static int	state_save(void *, FILE *);
static void	state_header(void *, json_t *);
static int	state_restore(void *, json_t *, char *, size_t);
static void	on_event(void *, struct rec *, const struct in_line *);
static void	on_watermark(void *, int64_t, struct rec *, const struct in_line *);
static void	on_end(void *, bool);
static void	finish(void *);
static void	advance(void);
static bool	windows_writable(int64_t t, size_t n);
static void	emit_window(int64_t start, int64_t end, unsigned revision, const char *line, size_t len);
static void	emit_session(void *, const struct win_session *);
static void	emit_watermark(int64_t t);
static void	session_payload(const char *line, size_t len);
static void	on_tick(void *, int64_t);

static const struct run_ops ops = {
	.event = on_event,
	.watermark = on_watermark,
	.tick = on_tick,
	.end = on_end,
	.save = state_save,
	.load = state_load,
	.header = state_header,
	.restore = state_restore,
	.free = finish,
};

int
main(int argc, char *argv[])
{
	struct run_spec spec = { .tool = "window", .cli = &w.cli };

	diag_init("window");
	parse_options(argc, argv);
	w.late = diag_side_open(w.late_path, "late", "late event");
	w.rec = w.own = rec_new();
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
		w.ends = xmalloc(w.maxwin * sizeof *w.ends);
		w.starts[0] = w.ends[0] = 0;	/* no window yet: assign's reuse test fails */
	}
	w.base_wm = w.wm.t;
	w.base_wall = w.last_input = tv_now();
	spec.paths = argv + optind;
	spec.npaths = argc - optind;
	spec.state_path = w.state_path;
	spec.options = state_options();
	spec.tick_us = w.idle;
	spec.checkpoint_us = w.checkpoint_every;
	return run_main(&spec, &ops, NULL);
}

/* on_end: with --state the open windows wait for the next run; without, everything closes. */
static void
on_end(void *ctx, bool keep)
{
	if (keep)
		return;
	wm_raise(&w.wm, TV_MAX);
	advance();
	if (w.emitted_wm != TV_MAX && !w.cli.no_watermarks)
		emit_watermark(TV_MAX);
}

static void
finish(void *ctx)
{
	ws_free(w.ws);
	wo_free(w.open);
	wo_free(w.kept);
	free(w.starts);
	free(w.ends);
	buf_free(&w.out);
	buf_free(&w.key);
	buf_free(&w.payload);
	buf_free(&w.bounds);
	rec_free(w.own);
	for (size_t i = 0; i < w.nkeys; i++)
		rec_path_free(w.keys[i]);
	free(w.keys);
}

/* parse_options reads the command line into w; a bad or meaningless option exits 2. */
static void
parse_options(int argc, char *argv[])
{
	int c;

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
		case OPT_WEEK_START:
			set_week_start(optarg);
			break;
		default:
			diag_usage_error("unknown option");
		}
	}
	check_options();
}

/* set_kind parses the size of a window option and refuses a second window option. */
static void
set_kind(const char *opt, const char *arg, int64_t *dst)
{
	enum win_unit unit;
	int64_t n;

	if (w.kind_opt != NULL && strcmp(w.kind_opt, opt) != 0)
		diag_usage_error("%s and %s cannot be used together", w.kind_opt, opt);
	w.kind_opt = opt;
	w.size_arg = arg;
	w.cal.unit = WU_NONE;
	if (win_cal_parse(arg, &unit, &n) == -2)
		diag_usage_error("%s: longer than 10000 years: %s", opt, arg);
	if (win_cal_parse(arg, &unit, &n) == 0 && n > 0 && strcmp(opt, "--tumbling") == 0) {
		/* Calendar windows; size is the longest such window, for the checks that use it. */
		w.cal.unit = unit;
		w.cal.n = n;
		*dst = cli_duration(opt, unit == WU_DAY ? "25h" : unit == WU_WEEK ? "169h" :
		    unit == WU_MONTH ? "745h" : "8785h", CLI_DUR_POSITIVE) * n;
		return;
	}
	if (win_cal_parse(arg, &unit, &n) == 0 && n == 0)
		diag_usage_error("%s: duration must be positive: %s", opt, arg);
	if (win_cal_parse(arg, &unit, &n) == 0 && (unit == WU_MONTH || unit == WU_YEAR))
		diag_usage_error("%s: months and years are calendar units, for --tumbling only: %s",
		    opt, arg);
	*dst = cli_duration(opt, arg, CLI_DUR_POSITIVE);
}

/* set_week_start reads --week-start: a weekday's English name or its first three letters. */
static void
set_week_start(const char *arg)
{
	size_t n = strlen(arg);

	for (int i = 0; i < 7; i++)
		if (n >= 3 && n <= strlen(weekdays[i]) && strncasecmp(arg, weekdays[i], n) == 0) {
			w.cal.week_start = i;
			w.have_week_start = true;
			return;
		}
	diag_usage_error("--week-start: not a day of the week (monday ... sunday): %s", arg);
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
	if (w.have_week_start && w.cal.unit != WU_WEEK)
		diag_usage_error("--week-start needs week windows (--tumbling Nw)");
	if (w.cal.unit != WU_NONE && (w.offset > 366 * 86400 * TV_US_PER_S ||
	    w.offset < -366 * 86400 * TV_US_PER_S))
		diag_usage_error("--offset: a calendar window's offset must be within a year: %s",
		    w.size_arg);
	w.cal.offset = w.offset;
	w.cal.zone = w.cli.tz;
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

/* on_watermark raises the watermark; what it closes goes out, then the watermark. */
static void
on_watermark(void *ctx, int64_t wmt, struct rec *rec, const struct in_line *ln)
{
	w.rec = rec;
	w.last_input = tv_now();
	if (wm_raise(&w.wm, wmt))
		advance();
	w.base_wm = w.wm.t;
	w.base_wall = w.last_input;
}

/* on_event assigns one event to its windows, or sets it aside as late. */
static void
on_event(void *ctx, struct rec *rec, const struct in_line *ln)
{
	const char *why;
	int64_t t;
	size_t n = 0, i;

	w.rec = rec;
	/* The wall clock is read only when something uses it. */
	if (w.idle > 0 || w.processing_time)
		w.last_input = tv_now();
	if (w.processing_time) {
		t = w.last_input;
	} else if (cli_time(&w.cli, w.rec, &t, &why) != 0) {
		diag_reject(&ln->pos, ln->data, ln->len, "%s", why);
		return;
	}

	if (w.session ? !win_writable(t, win_add(t, w.gap)) : (n = assign(t), !windows_writable(t, n))) {
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
		/*
		 * Only windows that are still open, or closed but kept by
		 * --allowed-lateness, get the event (Flink skips the others).
		 * A kept window gets it as its next revision.
		 */
		for (i = 0; i < n; i++) {
			int64_t end = w.ends[i];
			unsigned rev = 0;
			if (win_add(end, w.allowed) <= w.wm.t)
				continue;
			if (w.allowed > 0)
				wo_add(w.kept, end);
			if (end <= w.wm.t)
				rev = (unsigned)++*wo_counter(w.kept, end);
			else
				wo_add(w.open, end);
			emit_window(w.starts[i], end, rev, ln->data, ln->len);
		}
		if (n == 0 || win_add(w.ends[n - 1], w.allowed) <= w.wm.t)
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

/* assign stores the windows of an event at t in w.starts and w.ends, oldest first, and returns how many. */
static size_t
assign(int64_t t)
{
	size_t n, i;

	if (w.cal.unit != WU_NONE) {
		win_cal_window(&w.cal, t, &w.starts[0], &w.ends[0]);
		return 1;
	}
	/* Tumbling: the window of the previous event, most of the time. */
	if (w.slide == w.size && w.maxwin == 1 && t >= w.starts[0] && t < w.ends[0] &&
	    w.ends[0] != w.starts[0])
		return 1;
	n = win_sliding_assign(t, w.size, w.slide, w.offset, w.starts, w.maxwin);
	for (i = 0; i < n; i++)
		w.ends[i] = win_add(w.starts[i], w.size);
	return n;
}

/* windows_writable reports whether the n windows assign found for t can all be written. */
static bool
windows_writable(int64_t t, size_t n)
{
	/* A window holding t lies within size of t: far from the ends of time, no need to look. */
	if (t > win_add(WIN_RFC3339_MIN, w.size) && t < win_add(WIN_RFC3339_MAX, -w.size))
		return true;
	return n == 0 || win_writable(w.starts[0], w.ends[n - 1]);
}

/* advance closes what the watermark T has passed and says so downstream with a watermark record. */
static void
advance(void)
{
	size_t closed;

	if (w.session) {
		closed = ws_close(w.ws, w.wm.t, emit_session, NULL);
	} else {
		/* Most raises of T close nothing: the earliest open window ends later. */
		if (wo_min(w.open) > w.wm.t && wo_min(w.kept) > win_add(w.wm.t, -w.allowed))
			return;
		closed = wo_close(w.open, w.wm.t);
		wo_close(w.kept, win_add(w.wm.t, -w.allowed));
	}
	if (closed > 0 && !w.cli.no_watermarks && w.wm.t != w.emitted_wm)
		emit_watermark(w.wm.t);
}

/* put_time writes t as a JSON string: in --tz's local time with its offset, or UTC. */
static void
put_time(struct buf *b, int64_t t)
{
	char tmp[TV_BUFSZ];
	size_t n;

	if (w.cli.tz == NULL) {
		jw_time(b, t);
		return;
	}
	n = tv_format_local(t, w.cli.tz, tmp);
	buf_addc(b, '"');
	buf_add(b, tmp, n);
	buf_addc(b, '"');
}

static bool
json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * emit_window writes the current record with window_start and window_end
 * (and revision) added.  When the record has none of them and its line
 * is at hand, the line's bytes are written around the window's members,
 * which are formatted once per window; otherwise rec_emit splices them.
 */
static void
emit_window(int64_t start, int64_t end, unsigned revision, const char *line, size_t len)
{
	struct rec_edit ed[3];
	char rev[24];
	size_t a, z, tail;

	if (w.bounds.len == 0 || start != w.bounds_start || end != w.bounds_end) {
		buf_reset(&w.bounds);
		buf_adds(&w.bounds, "\"window_start\":");
		put_time(&w.bounds, start);
		w.bounds_mid = w.bounds.len;
		buf_adds(&w.bounds, ",\"window_end\":");
		put_time(&w.bounds, end);
		w.bounds_start = start;
		w.bounds_end = end;
	}
	if (revision > 0)
		snprintf(rev, sizeof rev, "%u", revision);
	ed[0] = (struct rec_edit){ "window_start", 12, w.bounds.p + 15, w.bounds_mid - 15 };
	ed[1] = (struct rec_edit){ "window_end", 10, w.bounds.p + w.bounds_mid + 14,
	    w.bounds.len - w.bounds_mid - 14 };
	if (revision > 0)
		ed[2] = (struct rec_edit){ "revision", 8, rev, strlen(rev) };
	/* One pass over the record's keys for all the names it gets. */
	if (line != NULL && !rec_has_any_key(w.rec, ed, revision > 0 ? 3 : 2)) {
		for (a = 0; a < len && json_space(line[a]); a++)
			;
		for (z = len; z > a && json_space(line[z - 1]); z--)
			;
		/* The members end where the spaces before the closing brace begin. */
		for (tail = z - 1; rec_nfields(w.rec) > 0 && tail > a && json_space(line[tail - 1]); tail--)
			;
		if (a < z && line[a] == '{' && line[z - 1] == '}') {
			char *o;

			buf_reset(&w.out);
			buf_reserve(&w.out, z - a + w.bounds.len + 40);
			o = w.out.p;
			memcpy(o, line + a, tail - a);
			o += tail - a;
			if (rec_nfields(w.rec) > 0)
				*o++ = ',';
			memcpy(o, w.bounds.p, w.bounds.len);
			o += w.bounds.len;
			if (revision > 0)
				o += sprintf(o, ",\"revision\":%s", rev);
			memcpy(o, line + tail, z - tail);
			o += z - tail;
			*o++ = '\n';
			fwrite_unlocked(w.out.p, 1, (size_t)(o - w.out.p), stdout);
			diag_out++;
			return;
		}
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
	static const struct rec_edit names[] = {
		{ "window_start", 12, NULL, 0 }, { "window_end", 10, NULL, 0 }, { "revision", 8, NULL, 0 }
	};
	char flag = rec_has_any_key(w.rec, names, 3) ? SPLICE_PARSE :
	    rec_nfields(w.rec) > 0 ? SPLICE_MEMBERS : SPLICE_EMPTY;

	buf_reset(&w.payload);
	buf_addc(&w.payload, flag);
	buf_add(&w.payload, line, len);
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
				emit_window(ws_start(s), ws_end(s), rev, NULL, 0);
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
		put_time(&w.out, ws_start(s));
		buf_adds(&w.out, ",\"window_end\":");
		put_time(&w.out, ws_end(s));
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
on_tick(void *ctx, int64_t now)
{
	if (w.idle > 0 && w.base_wm != TV_MIN && now - w.last_input >= w.idle &&
	    wm_raise(&w.wm, win_add(w.base_wm, now - w.base_wall)))
		advance();
}

/* ---- --state: the window spec, the watermark, the open windows and the sessions' events ---- */

/* state_options names the options the saved windows depend on, as the user wrote them. */
static json_t *
state_options(void)
{
	json_t *o = json_object();
	char tmp[TV_BUFSZ];
	struct buf keys = BUF_INIT;
	size_t i;

	tv_format_duration(w.session ? w.gap : w.size, tmp);
	/* A calendar window is kept as written ("1mo"), with what cuts it; other options only when given, as before. */
	json_object_set_new(o, w.kind_opt, json_string(w.cal.unit != WU_NONE ? w.size_arg : tmp));
	if (w.have_week_start)
		json_object_set_new(o, "--week-start", json_string(weekdays[w.cal.week_start]));
	if (w.cli.tz != NULL)
		json_object_set_new(o, "--tz", json_string(tv_zone_name(w.cli.tz)));
	if (w.cal.unit != WU_NONE) {
		tv_format_duration(w.offset, tmp);
		json_object_set_new(o, "--offset", json_string(tmp));
	} else if (!w.session) {
		if (w.have_slide) {
			tv_format_duration(w.slide, tmp);
			json_object_set_new(o, "--slide", json_string(tmp));
		}
		/* Only the offset's residue modulo the slide moves the grid. */
		tv_format_duration((w.offset % w.slide + w.slide) % w.slide, tmp);
		json_object_set_new(o, "--offset", json_string(tmp));
	}
	for (i = 0; i < w.nkeys; i++) {
		if (i > 0)
			buf_addc(&keys, ',');
		buf_adds(&keys, rec_path_str(w.keys[i]));
	}
	json_object_set_new(o, "--key", json_string(w.nkeys ? buf_cstr(&keys) : "(none)"));
	buf_free(&keys);
	return o;
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

/* state_header records the watermark, so the next run goes on from it. */
static void
state_header(void *ctx, json_t *hdr)
{
	json_object_set_new(hdr, "watermark", json_integer(w.wm.t));
	json_object_set_new(hdr, "max_event", json_integer(w.wm.max_event));
}

static int
state_restore(void *ctx, json_t *hdr, char *why, size_t whysz)
{
	json_t *t = json_object_get(hdr, "watermark"), *m = json_object_get(hdr, "max_event");

	if (!json_is_integer(t) || !json_is_integer(m)) {
		snprintf(why, whysz, "the header has no watermark");
		return -1;
	}
	w.wm.t = w.base_wm = w.emitted_wm = json_integer_value(t);
	w.wm.max_event = json_integer_value(m);
	return 0;
}

/* state_save writes the open windows, the windows kept for late firings, or the sessions' events. */
static int
state_save(void *ctx, FILE *f)
{
	size_t i;

	if (w.session) {
		ws_foreach(w.ws, save_session, f);
		return 0;
	}
	for (i = 0; i < wo_count(w.open); i++)
		fprintf(f, "{\"open\":%lld}\n", (long long)wo_get(w.open, i));
	for (i = 0; i < wo_count(w.kept); i++) {
		int64_t end = wo_get(w.kept, i);
		fprintf(f, "{\"kept\":%lld,\"n\":%llu}\n", (long long)end,
		    (unsigned long long)*wo_counter(w.kept, end));
	}
	return 0;
}

/* state_load restores one saved line: an open window, a kept one, or a session's event. */
static int
state_load(void *ctx, const char *line, size_t len, char *why, size_t whysz)
{
	json_error_t je;
	json_t *o;
	const char *k, *ev;
	size_t kl, evl;
	int64_t t, fired = 0, end, n;
	int r = -1;

	if ((o = json_loadb(line, len, 0, &je)) == NULL) {
		snprintf(why, whysz, "%s", je.text);
		return -1;
	}
	if (w.session) {
		if (st_str(o, "key", &k, &kl, why, whysz) != 0 || st_str(o, "event", &ev, &evl, why, whysz) != 0 ||
		    st_int(o, "t", &t, why, whysz) != 0 ||
		    (json_object_get(o, "fired") != NULL && st_int(o, "fired", &fired, why, whysz) != 0))
			goto out;
		if (rec_parse(w.rec, ev, evl, NULL) != 0) {
			snprintf(why, whysz, "member 'event' is not a JSON object");
			goto out;
		}
		session_payload(ev, evl);
		ws_restore(w.ws, k, kl, t, w.payload.p, w.payload.len, (unsigned)fired,
		    !json_is_false(json_object_get(o, "pending")));
	} else if (json_object_get(o, "kept") != NULL) {
		if (st_int(o, "kept", &end, why, whysz) != 0 || st_int(o, "n", &n, why, whysz) != 0)
			goto out;
		wo_add(w.kept, end);
		*wo_counter(w.kept, end) = (uint64_t)n;
	} else {
		if (st_int(o, "open", &end, why, whysz) != 0)
			goto out;
		wo_add(w.open, end);
	}
	r = 0;
out:
	json_decref(o);
	return r;
}
