/* aggregate: group records and compute aggregate functions, in batch, per closed window, or running; with mergeable partial states. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agg.h"
#include "buf.h"
#include "cli.h"
#include "diag.h"
#include "expr.h"
#include "hashmap.h"
#include "input.h"
#include "record.h"
#include "run.h"
#include "timeval.h"
#include "windowing.h"

enum {
	OPT_PARTIAL = CLI_TOOL_BASE,
	OPT_MERGE,
	OPT_APPROX,
	OPT_SORT,
	OPT_TOP,
	OPT_FORMAT,
	OPT_EVERY,
	OPT_STATE,
	OPT_WHERE,
	OPT_ALLOWED_LATENESS
};

static const struct option longopts[] = {
	{ "group-by",	required_argument,	NULL, 'g' },
	{ "input",	required_argument,	NULL, 'i' },
	{ "partial",	no_argument,		NULL, OPT_PARTIAL },
	{ "merge",	no_argument,		NULL, OPT_MERGE },
	{ "approx",	no_argument,		NULL, OPT_APPROX },
	{ "sort",	required_argument,	NULL, OPT_SORT },
	{ "top",	required_argument,	NULL, OPT_TOP },
	{ "format",	required_argument,	NULL, OPT_FORMAT },
	{ "every",	required_argument,	NULL, OPT_EVERY },
	{ "state",	required_argument,	NULL, OPT_STATE },
	{ "where",	required_argument,	NULL, OPT_WHERE },
	{ "allowed-lateness", required_argument, NULL, OPT_ALLOWED_LATENESS },
	CLI_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static const struct cli_help help = {
	"[options] SPEC ...",
	"Group records and compute aggregates.  SPEC is FUNC[:FIELD][=NAME] with FUNC one of\n"
	"count sum min max mean var stddev median pN first last mode distinct\n"
	"approx_distinct topN.  Reads standard input, or the -i files in order.",
	"  -g, --group-by F,...     group by these fields\n"
	"  -i, --input FILE         read FILE (repeatable; - is standard input)\n"
	"      --partial            write mergeable state records instead of results\n"
	"      --merge              read state records from --partial and combine them\n"
	"      --approx             quantiles by KLL sketch, distinct by HyperLogLog\n"
	"      --sort [-]COL,...    sort each batch of results (- for descending)\n"
	"      --top N              keep the first N results of each batch\n"
	"      --format FMT         ndjson (default), table or csv\n"
	"      --every N|DURATION   also emit running results every N records or\n"
	"                           every DURATION of event time\n"
	"      --state FILE         keep open groups in FILE between runs\n"
	"      --where EXPR         aggregate only records for which EXPR is true; the\n"
	"                           others are counted as filtered\n"
	"      --allowed-lateness D keep closed windows for D (as window's option) and\n"
	"                           write their updated totals on \"revision\" records\n",
	"Examples:\n"
	"  aggregate -g page count sum:value p99:value < events.ndjson\n"
	"  aggregate -g user_id --top 10 --format table count < events.ndjson\n"
};

enum outfmt { OUT_NDJSON, OUT_TABLE, OUT_CSV };
enum emit_kind { EMIT_CLOSED, EMIT_ALL, EMIT_RUNNING, EMIT_BATCH };

/* A group: its header, then the aggregate states (aggs.size bytes) at GHDR. */
struct group {
	uint64_t	seq;		/* creation order */
	int64_t		wend;		/* window_end, or TV_MAX for a group without a window */
	size_t		hidx;		/* windowed: its place in the window heap */
	unsigned	rev;		/* the latest revision of its window folded in */
	bool		kept;		/* emitted, kept for --allowed-lateness */
	bool		dirty;		/* kept, and changed by a revision since */
	bool		windowed;
};
#define GHDR	((sizeof(struct group) + 15) & ~(size_t)15)
#define GBLOCK(g)	((char *)(g) + GHDR)

struct sortkey {
	const char	*col;
	bool		 desc;
};

/* The run: options, the group table and reused buffers. */
static struct aggs	 aggs;
static struct rec_path	**gpaths;	/* -g */
static size_t		 ng;
static char		**gnames;	/* output names of the -g fields */
static const char	*gspec = "";	/* -g as given, for messages */
static struct rec_path	**fpaths;	/* one per aggs.fields */
static struct rec_val	*vals;
static struct hm	*groups;
static uint64_t		 seq;
static struct buf	 key, out;
static bool		 partial, merge, approx;
static enum outfmt		 format = OUT_NDJSON;
static struct sortkey	*sortkeys;
static size_t		 nsort;
static uint64_t		 top;
static uint64_t		 every_n;
static int64_t		 every_d;
static const char	*state_path;
static struct group	**batch;
static size_t		 nbatch, capbatch;
static struct agg_cols	*rows;
static size_t		 nrows, caprows;
static char		**csvcols;	/* the CSV header, fixed by the first batch */
static size_t		 ncsvcols;
static bool		 csv_header_done;
static uint64_t		*ngroups_stat;
static uint64_t		*overflows;	/* results past the double range, written as null */
static struct group	**wheap;	/* windowed groups, a min-heap on (window_end, seq) */
static size_t		 nwheap, capwheap;
static uint64_t		*visited;	/* groups a watermark looked at: what it closed, and one more */
static int64_t		 allowed;	/* --allowed-lateness */
static unsigned		 cur_rev;	/* the "revision" of the record being folded in, 0 if none */
static bool		 warned_rev;
static char		 specs_text[4096];
static struct expr	*where;		/* --where */
static uint64_t		*filtered;
static bool		 changed;	/* records came in since the last running results */
static bool		 keep_invalid;	/* --dead-letter or --strict: invalid numbers are rejects too */

static void	add_sort(const char *);
static void	check_sort(void);
static int	key_of(struct rec *, const struct in_line *, int64_t *wend, bool *windowed);
static struct group	*group_get(bool windowed, int64_t wend);
static void	update(struct rec *, const struct in_line *, struct group *);
static int	merge_state(struct rec *, const struct diag_pos *, char *why, size_t whysz);
static void	emit(enum emit_kind, int64_t wm);
static json_t	*state_options(void);
static int	load_state(void *, const char *, size_t, char *, size_t);
static int	save_state(void *, FILE *);
static void	free_groups(void);
static void	group_del(struct group *);
static void	on_event(void *, struct rec *, const struct in_line *);
static void	on_watermark(void *, int64_t, struct rec *, const struct in_line *);
static void	on_end(void *, bool);
static void	on_free(void *);

static const struct run_ops ops = {
	.event = on_event,
	.watermark = on_watermark,
	.end = on_end,
	.save = save_state,
	.load = load_state,
	.free = on_free,
};

static struct cli	 cli;
static int64_t		 next_tick = TV_MIN;	/* --every DURATION: the next boundary */
static uint64_t		 nrec;			/* records since the start, for --every N */
static struct rec	*staterec;		/* a --state line being loaded */

int
main(int argc, char *argv[])
{
	struct run_spec spec = { .tool = "aggregate", .cli = &cli };
	char		**inputs = NULL;
	int		 ninputs = 0, c;
	size_t		 i;
	char		 why[512];

	diag_init(argv[0]);
	cli_init(&cli);
	aggs_init(&aggs);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS "g:i:", longopts, NULL)) != -1) {
		switch (c) {
		case 'g':		/* -g F,...: the group key fields */
			cli_paths("--group-by", optarg, &gpaths, &ng);
			gspec = optarg;
			break;
		case 'i':		/* -i FILE: an input, in order */
			inputs = xrealloc(inputs, (size_t)(ninputs + 1) * sizeof(*inputs));
			inputs[ninputs++] = optarg;
			break;
		case OPT_PARTIAL:	/* --partial: write states, not results */
			partial = true;
			break;
		case OPT_MERGE:		/* --merge: the input is states from --partial */
			merge = true;
			break;
		case OPT_APPROX:	/* --approx: sketches for quantiles and distinct */
			approx = true;
			break;
		case OPT_SORT:		/* --sort [-]COL,...: order of each batch */
			add_sort(optarg);
			break;
		case OPT_TOP:		/* --top N: the first N of each batch */
			top = cli_uint("--top", optarg, 1, 1000000000);
			break;
		case OPT_FORMAT:	/* --format ndjson|table|csv */
			if (strcmp(optarg, "ndjson") == 0)
				format = OUT_NDJSON;
			else if (strcmp(optarg, "table") == 0)
				format = OUT_TABLE;
			else if (strcmp(optarg, "csv") == 0)
				format = OUT_CSV;
			else
				diag_usage_error("--format: unknown format '%s' (ndjson, table, csv)", optarg);
			break;
		case OPT_EVERY:		/* --every N|D: running results */
			if (optarg[0] >= '0' && optarg[0] <= '9' && optarg[strspn(optarg, "0123456789")] == '\0')
				every_n = cli_uint("--every", optarg, 1, 1000000000);
			else
				every_d = cli_duration("--every", optarg, CLI_DUR_POSITIVE);
			break;
		case OPT_STATE:		/* --state FILE: open groups survive the run */
			state_path = optarg;
			break;
		case OPT_ALLOWED_LATENESS:	/* --allowed-lateness D: keep closed windows for revisions */
			allowed = cli_duration("--allowed-lateness", optarg, CLI_DUR_ZERO_OK);
			break;
		case OPT_WHERE:		/* --where EXPR: aggregate only the records it holds for */
			expr_free(where);
			where = cli_expr("--where", optarg);
			filtered = diag_counter("filtered");
			break;
		default:
			if (!cli_common(&cli, c, optarg, &help))
				diag_usage_error("unhandled option");
		}
	}
	if (optind == argc)
		diag_usage_error("no aggregate given (for example: count, sum:value, p99:value)");
	for (; optind < argc; optind++)
		if (aggs_add(&aggs, argv[optind], why, sizeof(why)) != 0)
			diag_usage_error("%s", why);
	aggs_finish(&aggs, approx);
	for (i = 0; i < ng; i++) {
		const char *s = rec_path_str(gpaths[i]);
		gnames = xrealloc(gnames, (i + 1) * sizeof(*gnames));
		gnames[i] = xstrdup(s[0] == '.' ? s + 1 : s);
	}
	/* A group field is an output column too: a spec may not reuse its name. */
	for (i = 0; i < ng; i++)
		for (size_t j = 0; j < aggs.nspecs; j++)
			if (strcmp(gnames[i], aggs.specs[j].name) == 0)
				diag_usage_error("duplicate output name '%s' in spec '%s'",
				    aggs.specs[j].name, argv[argc - (int)aggs.nspecs + (int)j]);
	if (partial && (format != OUT_NDJSON || nsort || top))
		diag_usage_error("--partial writes state records: --format, --sort and --top do not apply");
	if (partial && every_n + (uint64_t)every_d)
		diag_usage_error("--partial and --every cannot be combined");
	if (merge && every_n + (uint64_t)every_d)
		diag_usage_error("--merge and --every cannot be combined");
	if (merge && where)
		diag_usage_error("--where does not apply to --merge: filter the --partial runs");
	check_sort();
	if (top && nsort == 0) {
		/* --top alone ranks by the first aggregate, largest first. */
		sortkeys = xmalloc(sizeof(*sortkeys));
		sortkeys[0].col = aggs.specs[0].name;
		sortkeys[0].desc = true;
		nsort = 1;
	}
	for (i = 0; i < aggs.nspecs; i++) {
		size_t l = strlen(specs_text);
		snprintf(specs_text + l, sizeof(specs_text) - l, "%s%s", i ? " " : "", aggs.specs[i].text);
	}
	keep_invalid = cli.dead_letter != NULL || cli.strict;

	fpaths = xcalloc(aggs.nfields ? aggs.nfields : 1, sizeof(*fpaths));
	vals = xcalloc(aggs.nfields ? aggs.nfields : 1, sizeof(*vals));
	for (i = 0; i < aggs.nfields; i++)
		fpaths[i] = cli_path("aggregate field", aggs.fields[i]);
	groups = hm_new(GHDR + aggs.size);
	ngroups_stat = diag_counter("groups");
	overflows = diag_counter("overflows");
	visited = diag_counter("groups_visited");
	spec.paths = inputs;
	spec.npaths = ninputs;
	spec.state_path = state_path;
	spec.options = state_options();
	c = run_main(&spec, &ops, NULL);
	free(inputs);
	return c;
}

/* on_watermark emits the results of the windows it closes first, then passes it on. */
static void
on_watermark(void *ctx, int64_t t, struct rec *rec, const struct in_line *ln)
{
	emit(EMIT_CLOSED, t);
	/* A table or CSV has no place for a control record. */
	if (!cli.no_watermarks && format == OUT_NDJSON)
		rec_emit(rec, stdout, NULL, 0);
}

/* on_event folds one record (or, with --merge, one state record) into its group. */
static void
on_event(void *ctx, struct rec *rec, const struct in_line *ln)
{
	struct group *g;
	const char *twhy;
	char why[512];
	int64_t t, wend;
	bool windowed;

	if (merge) {
		if (merge_state(rec, &ln->pos, why, sizeof(why)) != 0)
			diag_reject(&ln->pos, ln->data, ln->len, "%s", why);
		return;
	}
	if (where != NULL && !expr_test(where, rec)) {
		(*filtered)++;
		return;
	}
	if (every_d) {
		if (cli_time(&cli, rec, &t, &twhy) != 0) {
			diag_reject(&ln->pos, ln->data, ln->len, "%s", twhy);
			return;
		}
		/* Running results as of each DURATION boundary the event time crosses. */
		if (next_tick != TV_MIN && t >= next_tick)
			emit(EMIT_RUNNING, 0);
		if (next_tick == TV_MIN || t >= next_tick)
			next_tick = (tv_floor_div(t, every_d) + 1) * every_d;
	}
	if (key_of(rec, ln, &wend, &windowed) != 0)
		return;
	g = group_get(windowed, wend);
	update(rec, ln, g);
	changed = true;
	if (every_n && ++nrec % every_n == 0)
		emit(EMIT_RUNNING, 0);
}

/*
 * on_end: without --state everything is emitted; with it, the open groups
 * are saved (by lib/run) and the groups without a window are shown as
 * they stand.
 */
static void
on_end(void *ctx, bool keep)
{
	if (ng == 0 && seq == 0 && !merge) {
		/* Like SQL without GROUP BY: no input still has one (empty) result. */
		buf_reset(&key);
		buf_addc(&key, 'B');
		group_get(false, TV_MAX);
	}
	/* With --every the final results are written too, even when unchanged: they are the ones marked final. */
	if (keep)
		emit(EMIT_BATCH, 0);
	else
		emit(EMIT_ALL, TV_MAX);
}

static void
on_free(void *ctx)
{
	free_groups();
	expr_free(where);
	rec_free(staterec);
}

/* state_options names the options the saved groups depend on. */
static json_t *
state_options(void)
{
	json_t *o = json_object();

	json_object_set_new(o, "--group-by", json_string(gspec[0] ? gspec : "(none)"));
	json_object_set_new(o, "aggregates", json_string(specs_text));
	json_object_set_new(o, "--approx", json_string(approx ? "(given)" : "(not given)"));
	return o;
}

/* add_sort reads --sort [-]COL,... (the columns are checked once the specs are known). */
static void
add_sort(const char *arg)
{
	const char *s = arg, *e;

	for (;;) {
		e = s + strcspn(s, ",");
		sortkeys = xrealloc(sortkeys, (nsort + 1) * sizeof(*sortkeys));
		sortkeys[nsort].desc = *s == '-';
		if (*s == '-' || *s == '+')
			s++;
		if (s == e)
			diag_usage_error("--sort: empty column name in list: %s", arg);
		sortkeys[nsort++].col = xstrndup(s, (size_t)(e - s));
		if (*e == '\0')
			break;
		s = e + 1;
	}
}

/* check_sort makes sure every --sort column is an output column. */
static void
check_sort(void)
{
	size_t i, j;
	bool found;

	for (i = 0; i < nsort; i++) {
		const char *col = sortkeys[i].col;
		found = strcmp(col, "window_start") == 0 || strcmp(col, "window_end") == 0;
		for (j = 0; !found && j < ng; j++)
			found = strcmp(col, gnames[j]) == 0;
		for (j = 0; !found && j < aggs.nspecs; j++)
			found = strcmp(col, aggs.specs[j].name) == 0;
		for (j = 0; !found && j < aggs.nfields; j++)
			found = strcmp(col, aggs.invalid_name[j]) == 0;
		if (!found)
			diag_usage_error("--sort: no output column '%s'", col);
	}
}

/*
 * key_begin starts the group key in key: 'W' and the window bounds' JSON
 * text for a windowed record, 'B' for batch.  key_add appends one group
 * value's JSON text.  Events and merged state records build keys the same
 * way, so both land in the same group.
 */
static void
key_begin(const struct rec_val *ws, const struct rec_val *we)
{
	buf_reset(&key);
	if (ws == NULL) {
		buf_addc(&key, 'B');
		return;
	}
	buf_addc(&key, 'W');
	buf_add(&key, ws->raw, ws->rawlen);
	buf_addc(&key, '\0');
	buf_add(&key, we->raw, we->rawlen);
	buf_addc(&key, '\0');
}

static void
key_add(const char *raw, size_t len)
{
	buf_add(&key, raw, len);
	buf_addc(&key, '\0');
}

/*
 * key_of builds the group key of the record in key: 'W', window_start,
 * window_end for a record carrying both window fields ('B' otherwise),
 * then the JSON text of each -g field ("null" when missing), each ended
 * by a NUL (JSON text never holds one).  Returns 0, or -1 after rejecting
 * a record with broken window fields.
 */
static int
key_of(struct rec *rec, const struct in_line *ln, int64_t *wend, bool *windowed)
{
	static const struct tv_format iso = { TV_ISO, NULL };
	struct rec_val ws, we, v;
	enum rec_type ts, te;
	const char *why;
	size_t i;

	ts = rec_get_key(rec, "window_start", 12, &ws);
	te = rec_get_key(rec, "window_end", 10, &we);
	*windowed = ts != RT_MISSING || te != RT_MISSING;
	cur_rev = 0;
	if (*windowed && rec_get_key(rec, "revision", 8, &v) == RT_INT && v.i > 0 && v.i <= UINT32_MAX)
		cur_rev = (unsigned)v.i;
	if (cur_rev > 0 && allowed == 0 && !warned_rev) {
		diag_warn("a \"revision\" record needs --allowed-lateness as given to window: "
		    "without it a revised window's totals hold only what came late");
		warned_rev = true;
	}
	*wend = TV_MAX;
	if (*windowed) {
		if (ts == RT_MISSING || te == RT_MISSING) {
			diag_reject(&ln->pos, ln->data, ln->len, "missing field '%s'",
			    ts == RT_MISSING ? "window_start" : "window_end");
			return -1;
		}
		if (te != RT_STRING || tv_parse(&iso, we.s, we.slen, wend, &why) != 0) {
			diag_reject(&ln->pos, ln->data, ln->len, "field 'window_end' is not a valid time");
			return -1;
		}
		key_begin(&ws, &we);
	} else
		key_begin(NULL, NULL);
	for (i = 0; i < ng; i++) {
		if (rec_get(rec, gpaths[i], &v) == RT_MISSING)
			key_add("null", 4);
		else
			key_add(v.raw, v.rawlen);
	}
	return 0;
}

/*
 * The window heap orders windowed groups by window_end, then creation, so
 * a watermark finds the windows it closes without looking at the others:
 * closing costs what closes, not the size of the table.
 */
/* wh_due is when the watermark next acts on a windowed group: its end, or, kept unchanged, the end of its lateness. */
static int64_t
wh_due(const struct group *g)
{
	return g->kept && !g->dirty ? win_add(g->wend, allowed) : g->wend;
}

static bool
wh_before(const struct group *a, const struct group *b)
{
	int64_t da = wh_due(a), db = wh_due(b);

	return da < db || (da == db && a->seq < b->seq);
}

static void
wh_set(size_t i, struct group *g)
{
	wheap[i] = g;
	g->hidx = i;
}

static void
wh_push(struct group *g)
{
	size_t i;

	if (nwheap == capwheap) {
		capwheap = capwheap ? 2 * capwheap : 64;
		wheap = xrealloc(wheap, capwheap * sizeof(*wheap));
	}
	for (i = nwheap++; i > 0 && wh_before(g, wheap[(i - 1) / 2]); i = (i - 1) / 2)
		wh_set(i, wheap[(i - 1) / 2]);
	wh_set(i, g);
}

static struct group *
wh_pop(void)
{
	struct group *first = wheap[0], *last = wheap[--nwheap];
	size_t i = 0, c;

	while ((c = 2 * i + 1) < nwheap) {
		if (c + 1 < nwheap && wh_before(wheap[c + 1], wheap[c]))
			c++;
		if (!wh_before(wheap[c], last))
			break;
		wh_set(i, wheap[c]);
		i = c;
	}
	if (nwheap > 0)
		wh_set(i, last);
	return first;
}

/* wh_remove takes a group out of the heap (to push it again with another due time). */
static void
wh_remove(struct group *g)
{
	struct group *last = wheap[--nwheap];
	size_t i = g->hidx, c;

	if (i == nwheap)
		return;
	while (i > 0 && wh_before(last, wheap[(i - 1) / 2])) {
		wh_set(i, wheap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	while ((c = 2 * i + 1) < nwheap) {
		if (c + 1 < nwheap && wh_before(wheap[c + 1], wheap[c]))
			c++;
		if (!wh_before(wheap[c], last))
			break;
		wh_set(i, wheap[c]);
		i = c;
	}
	wh_set(i, last);
}

/* group_get returns the group of the key in key, creating it. */
static struct group *
group_get(bool windowed, int64_t wend)
{
	struct group *g;
	bool created;

	g = hm_put(groups, key.p, key.len, &created);
	if (created) {
		g->seq = seq++;
		g->wend = wend;
		g->windowed = windowed;
		aggs_state_init(&aggs, GBLOCK(g));
		if (windowed)
			wh_push(g);
		(*ngroups_stat)++;
	}
	if (cur_rev > g->rev)
		g->rev = cur_rev;
	if (g->kept && !g->dirty) {
		/* A revision of a window already written: its updated totals go out at the next watermark. */
		wh_remove(g);
		g->dirty = true;
		wh_push(g);
	}
	return g;
}

/*
 * update folds the record into its group.  A value that is not a number
 * in a numeric function is counted in FIELD_invalid; with --dead-letter
 * (or --strict) the record is also rejected there, otherwise it is not an
 * error, since the count is in the output.
 */
static void
update(struct rec *rec, const struct in_line *ln, struct group *g)
{
	size_t i;
	int bad;

	for (i = 0; i < aggs.nfields; i++)
		rec_get(rec, fpaths[i], &vals[i]);
	bad = aggs_update(&aggs, GBLOCK(g), vals);
	if (bad >= 0 && keep_invalid)
		diag_reject(&ln->pos, ln->data, ln->len, "field '%s' is %s, expected number",
		    aggs.fields[bad], rec_type_name(vals[bad].type));
}

/* ---- --merge: state records in ---- */

/* vals_group returns a reused array of n values. */
static struct rec_val *
vals_group(size_t n)
{
	static struct rec_val *v;
	static size_t cap;

	if (n + 1 > cap) {
		cap = n + 1;
		v = xrealloc(v, cap * sizeof(*v));
	}
	return v;
}

/* state_paths compiles the paths of a state record's group members (once). */
static struct rec_path **gs_paths, *ws_path, *we_path;

static void
state_paths(void)
{
	struct buf b = BUF_INIT;
	size_t i;
	const char *p;

	if (ws_path != NULL)
		return;
	ws_path = cli_path("--merge", ".group.window_start");
	we_path = cli_path("--merge", ".group.window_end");
	gs_paths = xcalloc(ng ? ng : 1, sizeof(*gs_paths));
	for (i = 0; i < ng; i++) {
		buf_reset(&b);
		buf_adds(&b, ".group.\"");
		for (p = gnames[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_addc(&b, '\\');
			buf_addc(&b, *p);
		}
		buf_addc(&b, '"');
		gs_paths[i] = cli_path("--merge", buf_cstr(&b));
	}
	buf_free(&b);
}

/*
 * merge_state folds one state record from --partial into its group.  A
 * state of other group fields, specs or --approx setting ends the run
 * with status 2: merging it would be meaningless.  (Only one record can
 * be parsed at a time, so the group's members are read through paths.)
 */
static int
merge_state(struct rec *rec, const struct diag_pos *pos, char *why, size_t whysz)
{
	static const struct tv_format iso = { TV_ISO, NULL };
	static void *scratch;
	struct rec_val ver, gv, sv, stv, iv, av, ws, we, *gval;
	json_t *specs = NULL, *states = NULL, *inv = NULL, *grp, *x;
	struct buf names = BUF_INIT;
	struct group *g;
	const char *k;
	size_t i;
	bool windowed, st_approx;
	int64_t wend = TV_MAX;
	int ok = 0;

	state_paths();
	if (rec_get_key(rec, "@agg_state", 10, &ver) == RT_MISSING) {
		snprintf(why, whysz, "not an aggregate state record");
		return -1;
	}
	if (ver.type != RT_INT || ver.i != 1) {
		snprintf(why, whysz, "unsupported aggregate state version %.*s",
		    ver.rawlen > 40 ? 40 : (int)ver.rawlen, ver.raw);
		return -1;
	}
	if (rec_get_key(rec, "group", 5, &gv) != RT_OBJECT ||
	    rec_get_key(rec, "specs", 5, &sv) != RT_ARRAY ||
	    rec_get_key(rec, "states", 6, &stv) != RT_ARRAY ||
	    rec_get_key(rec, "invalid", 7, &iv) != RT_ARRAY)
		goto bad;
	st_approx = rec_get_key(rec, "approx", 6, &av) == RT_BOOL && av.b;
	if (st_approx != approx)
		diag_die(EX_USAGE, "%s:%llu: state record was made %s --approx, this run is %s it",
		    pos->file, (unsigned long long)pos->line,
		    st_approx ? "with" : "without", approx ? "with" : "without");

	/* The group: window_start and window_end when windowed, and the -g fields. */
	windowed = rec_get(rec, ws_path, &ws) != RT_MISSING && rec_get(rec, we_path, &we) != RT_MISSING;
	gval = vals_group(ng);
	for (i = 0; i < ng; i++)
		if (rec_get(rec, gs_paths[i], &gval[i]) == RT_MISSING)
			break;
	if (i < ng || gv.n != ng + (windowed ? 2 : 0)) {
		grp = json_loadb(gv.raw, gv.rawlen, 0, NULL);
		json_object_foreach(grp, k, x) {
			if (strcmp(k, "window_start") == 0 || strcmp(k, "window_end") == 0)
				continue;
			if (names.len)
				buf_addc(&names, ',');
			buf_adds(&names, k);
		}
		json_decref(grp);
		buf_cstr(&names);
		snprintf(why, whysz, "%s:%llu: state record groups by '%s', this run by '%s'",
		    pos->file, (unsigned long long)pos->line, names.len ? names.p : "", gspec);
		buf_free(&names);
		diag_die(EX_USAGE, "%s", why);
	}
	if (windowed && (we.type != RT_STRING || tv_parse(&iso, we.s, we.slen, &wend, NULL) != 0))
		goto bad;
	specs = json_loadb(sv.raw, sv.rawlen, 0, NULL);
	for (i = 0; specs && i < aggs.nspecs; i++)
		if (!json_is_string(json_array_get(specs, i)) ||
		    strcmp(json_string_value(json_array_get(specs, i)), aggs.specs[i].text) != 0)
			break;
	if (specs == NULL || json_array_size(specs) != aggs.nspecs || i < aggs.nspecs) {
		for (i = 0; specs && i < json_array_size(specs); i++) {
			if (i)
				buf_addc(&names, ' ');
			if (json_is_string(json_array_get(specs, i)))
				buf_adds(&names, json_string_value(json_array_get(specs, i)));
		}
		buf_cstr(&names);
		snprintf(why, whysz, "%s:%llu: state record has aggregates '%s', this run '%s'",
		    pos->file, (unsigned long long)pos->line, names.p, specs_text);
		buf_free(&names);
		json_decref(specs);
		diag_die(EX_USAGE, "%s", why);
	}

	/* The key as key_of would build it for an event of this group. */
	key_begin(windowed ? &ws : NULL, windowed ? &we : NULL);
	for (i = 0; i < ng; i++)
		key_add(gval[i].raw, gval[i].rawlen);
	states = json_loadb(stv.raw, stv.rawlen, 0, NULL);
	inv = json_loadb(iv.raw, iv.rawlen, 0, NULL);
	if (scratch == NULL)
		scratch = xmalloc(aggs.size);
	aggs_state_init(&aggs, scratch);
	if (states && inv && aggs_load(&aggs, scratch, states, inv) == 0) {
		g = group_get(windowed, wend);
		aggs_merge(&aggs, GBLOCK(g), scratch);
		ok = 1;
	}
	aggs_state_free(&aggs, scratch);
	json_decref(specs);
	json_decref(states);
	json_decref(inv);
	buf_free(&names);
	if (ok)
		return 0;
bad:
	snprintf(why, whysz, "malformed aggregate state record");
	return -1;
}

/* ---- output ---- */

/* group_cols appends a group's window and -g columns (the JSON text from its key). */
static void
group_cols(struct group *g, struct agg_cols *c)
{
	size_t klen, i;
	const char *k = hm_key(g, &klen), *end;

	k++;	/* 'W' or 'B' */
	if (g->windowed) {
		end = memchr(k, '\0', klen);
		agg_cols_add(c, "window_start", k, (size_t)(end - k));
		k = end + 1;
		end = strchr(k, '\0');
		agg_cols_add(c, "window_end", k, (size_t)(end - k));
		k = end + 1;
	}
	for (i = 0; i < ng; i++) {
		end = strchr(k, '\0');
		agg_cols_add(c, gnames[i], k, (size_t)(end - k));
		k = end + 1;
	}
}

/* put_state writes one --partial state record for a group. */
static void
put_state(struct group *g, FILE *f)
{
	static struct agg_cols c;
	size_t i;

	agg_cols_reset(&c);
	group_cols(g, &c);
	buf_reset(&out);
	buf_adds(&out, "{\"@agg_state\":1,\"group\":{");
	for (i = 0; i < c.n; i++) {
		if (i)
			buf_addc(&out, ',');
		jw_cstr(&out, c.name[i]);
		buf_addc(&out, ':');
		buf_add(&out, c.b.p + c.start[i], c.len[i]);
	}
	buf_adds(&out, "},\"specs\":[");
	for (i = 0; i < aggs.nspecs; i++) {
		if (i)
			buf_addc(&out, ',');
		jw_cstr(&out, aggs.specs[i].text);
	}
	buf_adds(&out, "],");
	if (approx)
		buf_adds(&out, "\"approx\":true,");
	buf_adds(&out, "\"states\":");
	aggs_save(&aggs, GBLOCK(g), &out);
	buf_adds(&out, ",\"invalid\":");
	aggs_save_invalid(&aggs, GBLOCK(g), &out);
	buf_adds(&out, "}\n");
	fwrite(out.p, 1, out.len, f);
}

static const struct agg_cols *
cols_find(const struct agg_cols *c, const char *name, size_t *idx)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->name[i], name) == 0) {
			*idx = i;
			return c;
		}
	return NULL;
}

/*
 * cmp_val orders two cells: numbers by value before everything else, then
 * text bytewise.  *nulls is set when null or an absent cell decided it
 * (they go last whatever the direction).
 */
static int
cmp_val(const struct agg_cols *a, bool ha, size_t ia, const struct agg_cols *b, bool hb, size_t ib,
    bool *nulls)
{
	const char *x, *y;
	size_t xl, yl;
	struct rec_val vx, vy;
	bool xn, yn, xnull, ynull;
	int r;

	x = ha ? a->b.p + a->start[ia] : "null";
	xl = ha ? a->len[ia] : 4;
	y = hb ? b->b.p + b->start[ib] : "null";
	yl = hb ? b->len[ib] : 4;
	xnull = xl == 4 && memcmp(x, "null", 4) == 0;
	ynull = yl == 4 && memcmp(y, "null", 4) == 0;
	*nulls = xnull || ynull;
	if (xnull || ynull)
		return xnull - ynull;
	xn = rec_number(x, xl, &vx) != RT_MISSING;
	yn = rec_number(y, yl, &vy) != RT_MISSING;
	if (xn != yn)
		return xn ? -1 : 1;
	if (xn)
		return (vx.d > vy.d) - (vx.d < vy.d);
	r = memcmp(x, y, xl < yl ? xl : yl);
	return r ? r : (xl > yl) - (xl < yl);
}

static int
cmp_rows(const void *pa, const void *pb)
{
	const struct agg_cols *a = pa, *b = pb;
	size_t i, ia = 0, ib = 0;
	int r;

	for (i = 0; i < nsort; i++) {
		bool ha = cols_find(a, sortkeys[i].col, &ia) != NULL;
		bool hb = cols_find(b, sortkeys[i].col, &ib) != NULL;
		bool nulls;
		r = cmp_val(a, ha, ia, b, hb, ib, &nulls);
		if (r != 0)
			return sortkeys[i].desc && !nulls ? -r : r;
	}
	return 0;
}

static int
cmp_groups(const void *pa, const void *pb)
{
	const struct group *a = *(struct group *const *)pa, *b = *(struct group *const *)pb;

	if (a->wend != b->wend)
		return a->wend < b->wend ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

static void
put_ndjson(const struct agg_cols *c)
{
	size_t i;

	buf_reset(&out);
	buf_addc(&out, '{');
	for (i = 0; i < c->n; i++) {
		if (i)
			buf_addc(&out, ',');
		jw_cstr(&out, c->name[i]);
		buf_addc(&out, ':');
		buf_add(&out, c->b.p + c->start[i], c->len[i]);
	}
	buf_adds(&out, "}\n");
	fwrite(out.p, 1, out.len, stdout);
}

/* cell_text appends the text a table or CSV shows for a JSON value: strings unquoted, null empty. */
static void
cell_text(const char *p, size_t len, struct buf *b)
{
	json_t *j;

	if (len == 4 && memcmp(p, "null", 4) == 0)
		return;
	if (len > 0 && p[0] == '"' && (j = json_loadb(p, len, JSON_DECODE_ANY, NULL)) != NULL) {
		buf_add(b, json_string_value(j), json_string_length(j));
		json_decref(j);
		return;
	}
	buf_add(b, p, len);
}

/* columns returns the union of the rows' column names in order of first appearance. */
static const char **
columns(size_t *n)
{
	const char **cols = NULL;
	size_t r, i, j;

	*n = 0;
	for (r = 0; r < nrows; r++)
		for (i = 0; i < rows[r].n; i++) {
			for (j = 0; j < *n; j++)
				if (strcmp(cols[j], rows[r].name[i]) == 0)
					break;
			if (j == *n) {
				cols = xrealloc(cols, (*n + 1) * sizeof(*cols));
				cols[(*n)++] = rows[r].name[i];
			}
		}
	return cols;
}

static bool
cols_has(const char **cols, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(cols[i], name) == 0)
			return true;
	return false;
}

/* invalid_col reports whether a column is a FIELD_invalid count. */
static bool
invalid_col(const char *name)
{
	size_t i;

	for (i = 0; i < aggs.nfields; i++)
		if (strcmp(aggs.invalid_name[i], name) == 0)
			return true;
	return false;
}

static void
put_csv_cell(const char *p, size_t len)
{
	size_t i;

	if (len == 0 || strcspn(p, ",\"\r\n") >= len) {
		if (len && memchr(p, '\0', len) == NULL && (p[0] == ' ' || p[len - 1] == ' '))
			goto quote;
		fwrite(p, 1, len, stdout);
		return;
	}
quote:
	putchar('"');
	for (i = 0; i < len; i++) {
		if (p[i] == '"')
			putchar('"');
		putchar(p[i]);
	}
	putchar('"');
}

/*
 * put_csv writes a batch as CSV rows.  A CSV cannot grow its header once
 * written, so the header is every column the specs can produce: the first
 * batch's columns, then FIELD_invalid for each numeric field (0 in a row
 * without invalid values).  A later column outside it (a windowed batch
 * after a header without windows) ends the run: it is never dropped.
 */
static void
put_csv(void)
{
	struct buf cell = BUF_INIT;
	const char **cols;
	size_t n, r, i, j, idx;

	if (!csv_header_done) {
		cols = columns(&n);
		if (allowed > 0 && !cols_has(cols, n, "revision")) {
			cols = xrealloc(cols, (n + 1) * sizeof(*cols));
			cols[n++] = "revision";
		}
		for (i = 0; i < aggs.nfields; i++) {
			if (!aggs.numeric[i])
				continue;
			for (j = 0; j < n && strcmp(cols[j], aggs.invalid_name[i]) != 0; j++)
				;
			if (j == n) {
				cols = xrealloc(cols, (n + 1) * sizeof(*cols));
				cols[n++] = aggs.invalid_name[i];
			}
		}
		csvcols = xmalloc((n ? n : 1) * sizeof(*csvcols));
		for (i = 0; i < n; i++) {
			csvcols[i] = xstrdup(cols[i]);
			if (i)
				putchar(',');
			put_csv_cell(cols[i], strlen(cols[i]));
		}
		ncsvcols = n;
		putchar('\n');
		free(cols);
		csv_header_done = true;
	}
	for (r = 0; r < nrows; r++)
		for (i = 0; i < rows[r].n; i++) {
			for (j = 0; j < ncsvcols && strcmp(csvcols[j], rows[r].name[i]) != 0; j++)
				;
			if (j == ncsvcols)
				diag_die(EX_REJECTED, "--format csv: column '%s' first appears after the "
				    "header was written; use --format ndjson", rows[r].name[i]);
		}
	for (r = 0; r < nrows; r++) {
		for (i = 0; i < ncsvcols; i++) {
			if (i)
				putchar(',');
			if (cols_find(&rows[r], csvcols[i], &idx)) {
				buf_reset(&cell);
				cell_text(rows[r].b.p + rows[r].start[idx], rows[r].len[idx], &cell);
				buf_cstr(&cell);
				put_csv_cell(cell.p, cell.len);
			} else if (invalid_col(csvcols[i]))
				putchar('0');
		}
		putchar('\n');
	}
	buf_free(&cell);
}

/* utf8_width counts the code points of a cell, its width on a terminal for most text. */
static size_t
utf8_width(const char *p, size_t len)
{
	size_t i, w = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)p[i] & 0xC0) != 0x80)
			w++;
	return w;
}

/* put_table prints the batch as aligned columns: a header, then one line per row; numbers right-aligned. */
static void
put_table(void)
{
	struct buf cell = BUF_INIT;
	struct rec_val nv;
	const char **cols;
	size_t n, r, i, idx, *w, cw, pad;
	bool *num;

	cols = columns(&n);
	w = xcalloc(n ? n : 1, sizeof(*w));
	num = xcalloc(n ? n : 1, sizeof(*num));
	for (i = 0; i < n; i++) {
		w[i] = utf8_width(cols[i], strlen(cols[i]));
		num[i] = true;
	}
	for (r = 0; r < nrows; r++)
		for (i = 0; i < n; i++)
			if (cols_find(&rows[r], cols[i], &idx)) {
				const char *p = rows[r].b.p + rows[r].start[idx];
				buf_reset(&cell);
				cell_text(p, rows[r].len[idx], &cell);
				cw = utf8_width(cell.p, cell.len);
				w[i] = cw > w[i] ? cw : w[i];
				if (rec_number(p, rows[r].len[idx], &nv) == RT_MISSING &&
				    !(rows[r].len[idx] == 4 && memcmp(p, "null", 4) == 0))
					num[i] = false;
			}
	for (i = 0; i < n; i++) {
		cw = utf8_width(cols[i], strlen(cols[i]));
		pad = w[i] - cw;
		if (num[i])
			printf("%s%*s%s", i ? "  " : "", (int)pad, "", cols[i]);
		else
			printf("%s%s%*s", i ? "  " : "", cols[i], i + 1 < n ? (int)pad : 0, "");
	}
	putchar('\n');
	for (r = 0; r < nrows; r++) {
		for (i = 0; i < n; i++) {
			buf_reset(&cell);
			if (cols_find(&rows[r], cols[i], &idx))
				cell_text(rows[r].b.p + rows[r].start[idx], rows[r].len[idx], &cell);
			cw = utf8_width(cell.p, cell.len);
			pad = w[i] - cw;
			if (i)
				fputs("  ", stdout);
			if (num[i])
				printf("%*s", (int)pad, "");
			fwrite(cell.p, 1, cell.len, stdout);
			if (!num[i] && i + 1 < n)
				printf("%*s", (int)pad, "");
		}
		putchar('\n');
	}
	free(cols);
	free(w);
	free(num);
	buf_free(&cell);
}

static void
batch_add(struct group *g)
{
	if (nbatch == capbatch) {
		capbatch = capbatch ? capbatch * 2 : 64;
		batch = xrealloc(batch, capbatch * sizeof(*batch));
	}
	batch[nbatch++] = g;
}

/*
 * emit writes the results of a batch of groups: EMIT_CLOSED the windows
 * a watermark at wm closes, EMIT_ALL everything (end of input),
 * EMIT_RUNNING everything without closing (--every).  Closed groups are
 * freed.  Batches go out in window order, then in order of creation,
 * unless --sort says otherwise.
 */
static void
emit(enum emit_kind kind, int64_t wm)
{
	struct group *g;
	hm_iter it;
	size_t i, n;
	bool direct;

	nbatch = 0;
	if (kind == EMIT_CLOSED) {
		/* The heap gives the closed windows in (window_end, seq) order: the others are not looked at. */
		(*visited)++;
		while (nwheap > 0 && wh_due(wheap[0]) <= wm) {
			(*visited)++;
			g = wh_pop();
			if (g->kept && !g->dirty)
				group_del(g);	/* its lateness is over, nothing changed: it goes */
			else
				batch_add(g);
		}
	} else
		for (g = hm_first(groups, &it); g; g = hm_next(groups, &it))
			/* A window written and kept unchanged for revisions has nothing new to say. */
			if (!(kind == EMIT_BATCH && g->windowed) && !(g->kept && !g->dirty))
				batch_add(g);
	if (nbatch == 0)
		return;
	qsort(batch, nbatch, sizeof(*batch), cmp_groups);

	direct = partial || (format == OUT_NDJSON && nsort == 0 && top == 0);
	nrows = 0;
	for (i = 0; i < nbatch; i++) {
		g = batch[i];
		if (partial) {
			put_state(g, stdout);
			diag_out++;
			continue;
		}
		if (nrows == caprows) {
			size_t old = caprows;
			caprows = caprows ? caprows * 2 : 64;
			rows = xrealloc(rows, caprows * sizeof(*rows));
			memset(rows + old, 0, (caprows - old) * sizeof(*rows));
		}
		agg_cols_reset(&rows[nrows]);
		group_cols(g, &rows[nrows]);
		if (aggs_result(&aggs, GBLOCK(g), &rows[nrows]) > 0) {
			if (*overflows == 0)
				diag_warn("a result is past the range of a double and is written as null");
			(*overflows)++;
		}
		/* --every: running results say they are not final, so a reader can tell them apart. */
		if (g->rev > 0) {
			char r[16];
			int rl = snprintf(r, sizeof(r), "%u", g->rev);

			agg_cols_add(&rows[nrows], "revision", r, (size_t)rl);
		}
		if (every_n || every_d)
			agg_cols_add(&rows[nrows], "final", kind == EMIT_RUNNING || kind == EMIT_BATCH ?
			    "false" : "true", kind == EMIT_RUNNING || kind == EMIT_BATCH ? 5 : 4);
		if (direct) {
			put_ndjson(&rows[nrows]);
			diag_out++;
		} else
			nrows++;
	}
	if (!direct) {
		if (nsort)
			qsort(rows, nrows, sizeof(*rows), cmp_rows);
		n = top && top < nrows ? (size_t)top : nrows;
		nrows = n;
		if (format == OUT_NDJSON)
			for (i = 0; i < nrows; i++)
				put_ndjson(&rows[i]);
		else if (format == OUT_CSV)
			put_csv();
		else
			put_table();
		diag_out += nrows;
	}
	if (kind == EMIT_RUNNING)
		changed = false;
	if (kind == EMIT_RUNNING || kind == EMIT_BATCH)
		return;
	if (kind == EMIT_ALL)
		nwheap = 0;	/* every group closes */
	/* Closed groups leave the table (which shrinks as they go), or wait for revisions. */
	for (i = 0; i < nbatch; i++) {
		g = batch[i];
		if (kind == EMIT_CLOSED && g->windowed && win_add(g->wend, allowed) > wm) {
			g->kept = true;
			g->dirty = false;
			wh_push(g);
		} else
			group_del(g);
	}
}

/* group_del frees a group and takes it out of the table. */
static void
group_del(struct group *g)
{
	const void *k;
	size_t klen;

	aggs_state_free(&aggs, GBLOCK(g));
	k = hm_key(g, &klen);
	buf_reset(&key);
	buf_add(&key, k, klen);
	hm_del(groups, key.p, key.len);
}

/* ---- --state: open groups between runs ---- */

/* load_state folds one line of a --state file into its group; a damaged line refuses the whole state. */
static int
load_state(void *ctx, const char *line, size_t len, char *why, size_t whysz)
{
	static uint64_t lineno = 1;
	struct diag_pos pos = { state_path, ++lineno, 0 };
	struct rec_err perr;

	if (staterec == NULL)
		staterec = rec_new();
	if (rec_parse(staterec, line, len, &perr) != 0) {
		snprintf(why, whysz, "invalid JSON at column %zu: %s", perr.column, perr.text);
		return -1;
	}
	return merge_state(staterec, &pos, why, whysz);
}

/* save_state writes every group still open, as state records. */
static int
save_state(void *ctx, FILE *f)
{
	struct group *g;
	hm_iter it;

	nbatch = 0;
	for (g = hm_first(groups, &it); g; g = hm_next(groups, &it))
		if (!(g->kept && !g->dirty))
			put_state(g, f);
	return ferror(f) ? -1 : 0;
}

static void
free_groups(void)
{
	struct group *g;
	hm_iter it;
	size_t i;

	for (g = hm_first(groups, &it); g; g = hm_next(groups, &it))
		aggs_state_free(&aggs, GBLOCK(g));
	hm_free(groups);
	for (i = 0; i < caprows; i++)
		agg_cols_free(&rows[i]);
	free(rows);
	free(batch);
	free(wheap);
	for (i = 0; i < ncsvcols; i++)
		free(csvcols[i]);
	free(csvcols);
	for (i = 0; i < ng; i++) {
		rec_path_free(gpaths[i]);
		free(gnames[i]);
	}
	free(gpaths);
	free(gnames);
	for (i = 0; i < aggs.nfields; i++)
		rec_path_free(fpaths[i]);
	free(fpaths);
	free(vals);
	buf_free(&key);
	buf_free(&out);
	aggs_free(&aggs);
}
