/* aggregate: group records and compute aggregate functions, in batch, per closed window, or running; with mergeable partial states. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "agg.h"
#include "buf.h"
#include "cli.h"
#include "diag.h"
#include "expr.h"
#include "groups.h"
#include "input.h"
#include "jobs.h"
#include "record.h"
#include "run.h"
#include "table.h"
#include "timeval.h"
#include "windowing.h"
#include "winfill.h"

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
	OPT_ALLOWED_LATENESS,
	OPT_PRECISION,
	OPT_FINAL,
	OPT_FILL,
	OPT_ROUND,
	OPT_MAX_MEMORY
};

static const struct option longopts[] = {
	{ "group-by",	required_argument,	NULL, 'g' },
	{ "input",	required_argument,	NULL, 'i' },
	{ "jobs",	required_argument,	NULL, 'j' },
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
	{ "precision",	required_argument,	NULL, OPT_PRECISION },
	{ "round",	required_argument,	NULL, OPT_ROUND },
	{ "final",	no_argument,		NULL, OPT_FINAL },
	{ "fill",	no_argument,		NULL, OPT_FILL },
	{ "max-memory",	required_argument,	NULL, OPT_MAX_MEMORY },
	CLI_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static const struct cli_help help = {
	"[options] SPEC ... [FILE ...]",
	"Group records and compute aggregates.  SPEC is FUNC[:FIELD][=NAME] with FUNC one of\n"
	"count sum min max mean var stddev median pN first last mode distinct\n"
	"approx_distinct topN.  An operand with no ':' or '=' that is not a FUNC is an\n"
	"input file (- is standard input).  Reads standard input, or the -i files and then\n"
	"the file operands, in order.",
	"  -g, --group-by F,...     group by these fields\n"
	"  -i, --input FILE         read FILE (repeatable; - is standard input)\n"
	"  -j, --jobs N             read regular files with N worker processes\n"
	"      --partial            write mergeable state records instead of results\n"
	"      --merge              read state records from --partial and combine them\n"
	"      --approx             quantiles by KLL sketch, distinct by HyperLogLog\n"
	"      --sort [-]COL,...    sort each batch of results (- for descending)\n"
	"      --top N              keep the first N results of each batch\n"
	"      --final              write the results of every window at the end, as one\n"
	"                           batch: --sort and --top rank all windows together\n"
	"      --precision N        round computed reals to N digits after the point\n"
	"                           (0 to 20, half away from zero); also --round N\n"
	"      --fill               after window: a row with count 0 for each window\n"
	"                           without events, per group, from its first window on\n"
	"      --format FMT         ndjson (default), json, csv, tsv, table, markdown\n"
	"                           or html\n"
	"      --every N|DURATION   also emit running results every N records or\n"
	"                           every DURATION of event time, marked \"final\":false\n"
	"                           (the results at the end: \"final\":true)\n"
	"      --state FILE         keep open groups in FILE between runs\n"
	"      --where EXPR         aggregate only records for which EXPR is true; the\n"
	"                           others are counted as filtered\n"
	"      --allowed-lateness D keep closed windows for D (as window's option) and\n"
	"                           write their updated totals on \"revision\" records\n"
	"      --max-memory SIZE    keep the groups in SIZE bytes (K, M, G), spilling\n"
	"                           them to sorted runs in $TMPDIR past it\n",
	"Examples:\n"
	"  aggregate -g page count sum:value p99:value < events.ndjson\n"
	"  aggregate -g user_id --top 10 --format table count < events.ndjson\n"
	"  aggregate -g page --precision 2 mean:ms p99:ms events.ndjson\n"
	"  window --tumbling 1h < ev.ndjson | aggregate --final --sort -count --top 10 count\n"
	"  window --tumbling 1m < ev.ndjson | aggregate -g page --fill count\n"
	"  aggregate -j 2 -g page -i events.ndjson count p50:value\n"
	"  aggregate --max-memory 256M -g session_id count p99:value < big.ndjson\n"
};

enum emit_kind { EMIT_CLOSED, EMIT_ALL, EMIT_RUNNING, EMIT_BATCH };

/*
 * A group lives in lib/groups (columns window_start, window_end, then the
 * -g fields; seq and wend are its header's); this is what aggregate adds
 * to each, as the table's payload.
 */
struct gpay {
	size_t		hidx;		/* windowed: its place in the window heap */
	unsigned	rev;		/* the latest revision of its window folded in */
	bool		kept;		/* emitted, kept for --allowed-lateness */
	bool		dirty;		/* kept, and changed by a revision since */
	bool		windowed;
	bool		counted;	/* --max-memory: its fixed size is in A.mem */
	size_t		heap;		/* --max-memory (only then allocated): its aggregates' heap, as last counted */
};
#define FILL_MAX_GAP	10000000	/* --fill: empty windows in one gap; more is taken for a wrong time */
#define P(g)	((struct gpay *)((char *)(g) + A.poff))

/* The run: options, the group table, the output table and reused buffers. */
static struct {
	struct cli		 cli;
	char			**inputs;	/* -i */
	int			 ninputs;
	struct aggs		 aggs;
	struct rec_path		**gpaths;	/* -g */
	size_t			 ng;
	char			**gnames;	/* output names of the -g fields */
	const char		*gspec;		/* -g as given, for messages */
	struct rec_path		**fpaths;	/* one per aggs.fields */
	struct rec_val		*vals;
	struct groups		*groups;
	size_t			 poff;		/* where a group's struct gpay is (gr_payload_off) */
	const char		**cols;		/* the group table's columns: window_start, window_end, gnames */
	struct buf		 key, out;
	bool			 partial, merge, approx;
	const struct tb_format	*format;	/* --format; NULL until given */
	bool			 ndjson, csv;	/* the format, once known */
	struct tb		*table;		/* the results, in --format */
	const char		**sorts;	/* --sort as given, for the table once it exists */
	size_t			 nsorts;
	uint64_t		 top;
	uint64_t		 every_n;
	int64_t			 every_d;
	const char		*state_path;
	struct gr_group		**batch;
	size_t			 nbatch, capbatch;
	struct agg_cols		 row;		/* one result or state record, reused */
	size_t			 ncsvcols;	/* the CSV header's columns, 0 until it is written */
	uint64_t		*ngroups_stat;
	uint64_t		*overflows;	/* results past the double range, written as null */
	struct gr_group		**wheap;	/* windowed groups, a min-heap on (window_end, seq) */
	size_t			 nwheap, capwheap;
	uint64_t		*visited;	/* groups a watermark looked at: what it closed, and one more */
	int64_t			 allowed;	/* --allowed-lateness */
	unsigned		 cur_rev;	/* the "revision" of the record being folded in, 0 if none */
	bool			 warned_rev;
	char			 specs_text[4096];
	struct expr		*where;		/* --where */
	uint64_t		*filtered;
	bool			 keep_invalid;	/* --dead-letter or --strict: invalid numbers are rejects too */
	int64_t			 next_tick;	/* --every DURATION: the next boundary */
	uint64_t		 nrec;		/* records since the start, for --every N */
	struct rec		*staterec;	/* a --state line being loaded */
	uint64_t		 state_line;	/* its line number in the state file */
	int			 precision;	/* --precision, or -1 */
	bool			 final;		/* --final: one batch at the end */
	bool			 fill;		/* --fill */
	int64_t			 final_wm;	/* --final: the last watermark, written after the results */
	struct wf		*fillst;	/* --fill: the windows and groups seen (lib/winfill) */
	void			*fill_block;	/* --fill: an empty group's aggregate block */
	bool			 fill_open;	/* --fill: a window's rows are being written */
	int64_t			 fill_wend;	/* its end */
	uint64_t		 njobs;		/* -j */
	struct jobs		*jobs;		/* the workers whose states this run merges */
	uint64_t		 max_mem;	/* --max-memory, 0 without */
	size_t			 mem;		/* the bytes of the groups without a window, about */
	struct gr_runs		*runs;		/* their spilled runs */
	uint64_t		*spills;
} A = { .gspec = "", .next_tick = TV_MIN, .state_line = 1, .precision = -1, .final_wm = TV_MIN };

static void	parse_options(int, char *[]);
static void	check_output_options(void);
static bool	is_spec(const char *);
static void	add_file_operand(const char *);
static void	setup(void);
static int	key_of(struct rec *, const struct in_line *, int64_t *wend, bool *windowed);
static void	key_begin(const struct rec_val *ws, const struct rec_val *we);
static struct gr_group	*group_get(bool windowed, int64_t wend);
static void	group_touch(struct gr_group *, bool created, bool windowed);
static void	mem_count(struct gr_group *);
static void	spill(void);
static void	unspill(void);
static void	update(struct rec *, const struct in_line *, struct gr_group *);
static int	merge_state(struct rec *, const struct diag_pos *, char *why, size_t whysz);
static void	emit(enum emit_kind, int64_t wm);
static json_t	*state_options(void);
static int	load_state(void *, const char *, size_t, char *, size_t);
static int	save_state(void *, FILE *);
static void	free_groups(void);
static void	group_del(struct gr_group *);
static void	on_event(void *, struct rec *, const struct in_line *);
static void	on_watermark(void *, int64_t, struct rec *, const struct in_line *);
static void	on_end(void *, bool);
static void	on_free(void *);
static void	final_results(void);
static void	fill_note(struct gr_group *);
static void	fill_check(bool windowed, const struct diag_pos *);
static void	fill_batch_row(struct gr_group *, bool last);
static void	csv_columns(void);
static int	run_jobs(void);

static const struct run_ops ops = {
	.event = on_event,
	.watermark = on_watermark,
	.end = on_end,
	.save = save_state,
	.load = load_state,
	.free = on_free,
};

int
main(int argc, char *argv[])
{
	struct run_spec spec = { .tool = "aggregate", .cli = &A.cli };
	int c;

	diag_init(argv[0]);
	parse_options(argc, argv);
	if (A.njobs > 1 && (c = run_jobs()) >= 0)
		return c;
	setup();
	spec.paths = A.inputs;
	spec.npaths = A.ninputs;
	spec.state_path = A.state_path;
	spec.options = state_options();
	c = run_main(&spec, &ops, NULL);
	free(A.inputs);
	return c;
}

/* option handles one option of getopt_long's. */
static void
option(int c)
{
	switch (c) {
	case 'g':		/* -g F,...: the group key fields */
		cli_paths("--group-by", optarg, &A.gpaths, &A.ng);
		A.gspec = optarg;
		break;
	case 'j':		/* -j N: worker processes (run_jobs) */
		A.njobs = cli_uint("--jobs", optarg, 1, JOBS_MAX);
		break;
	case 'i':		/* -i FILE: an input, in order */
		A.inputs = xrealloc(A.inputs, (size_t)(A.ninputs + 1) * sizeof(*A.inputs));
		A.inputs[A.ninputs++] = optarg;
		break;
	case OPT_PARTIAL:	/* --partial: write states, not results */
		A.partial = true;
		break;
	case OPT_MERGE:		/* --merge: the input is states from --partial */
		A.merge = true;
		break;
	case OPT_APPROX:	/* --approx: sketches for quantiles and distinct */
		A.approx = true;
		break;
	case OPT_SORT:		/* --sort [-]COL,...: order of each batch (checked once the table exists) */
		A.sorts = xrealloc(A.sorts, (A.nsorts + 1) * sizeof(*A.sorts));
		A.sorts[A.nsorts++] = optarg;
		break;
	case OPT_TOP:		/* --top N: the first N of each batch */
		A.top = cli_uint("--top", optarg, 1, 1000000000);
		break;
	case OPT_FORMAT:	/* --format FMT: one of lib/table's formats */
		if ((A.format = tb_format(optarg)) == NULL)
			diag_usage_error("--format: unknown format '%s' (%s)", optarg, tb_format_names());
		break;
	case OPT_EVERY:		/* --every N|D: running results */
		if (optarg[0] >= '0' && optarg[0] <= '9' && optarg[strspn(optarg, "0123456789")] == '\0')
			A.every_n = cli_uint("--every", optarg, 1, 1000000000);
		else
			A.every_d = cli_duration("--every", optarg, CLI_DUR_POSITIVE);
		break;
	case OPT_STATE:		/* --state FILE: open groups survive the run */
		A.state_path = optarg;
		break;
	case OPT_ALLOWED_LATENESS:	/* --allowed-lateness D: keep closed windows for revisions */
		A.allowed = cli_duration("--allowed-lateness", optarg, CLI_DUR_ZERO_OK);
		break;
	case OPT_PRECISION:	/* --precision N (--round N): digits of computed reals */
	case OPT_ROUND:
		A.precision = (int)cli_uint(c == OPT_ROUND ? "--round" : "--precision", optarg, 0, 20);
		break;
	case OPT_FINAL:		/* --final: every window's results in one batch at the end */
		A.final = true;
		break;
	case OPT_FILL:		/* --fill: rows for the windows a group has no events in */
		A.fill = true;
		break;
	case OPT_MAX_MEMORY:	/* --max-memory SIZE: spill the groups past it */
		A.max_mem = cli_size("--max-memory", optarg, (uint64_t)1 << 16, (uint64_t)1 << 50);
		break;
	case OPT_WHERE:		/* --where EXPR: aggregate only the records it holds for */
		expr_free(A.where);
		A.where = cli_expr("--where", optarg);
		A.filtered = diag_counter("filtered");
		break;
	default:
		if (!cli_common(&A.cli, c, optarg, &help))
			diag_usage_error("unhandled option");
	}
}

/* parse_options reads the options and the specs, and refuses combinations that mean nothing. */
static void
parse_options(int argc, char *argv[])
{
	const char **typed;	/* each spec as given, for messages */
	size_t i, j;
	int c;
	char why[512];

	cli_init(&A.cli);
	aggs_init(&A.aggs);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS "g:i:j:", longopts, NULL)) != -1)
		option(c);
	typed = xcalloc((size_t)argc, sizeof(*typed));
	for (; optind < argc; optind++)
		if (!is_spec(argv[optind]))
			add_file_operand(argv[optind]);
		else if (aggs_add(&A.aggs, argv[optind], why, sizeof(why)) != 0)
			diag_usage_error("%s", why);
		else
			typed[A.aggs.nspecs - 1] = argv[optind];
	if (A.aggs.nspecs == 0)
		diag_usage_error("no aggregate given (for example: count, sum:value, p99:value)");
	aggs_finish(&A.aggs, A.approx);
	A.gnames = xcalloc(A.ng ? A.ng : 1, sizeof(*A.gnames));
	for (i = 0; i < A.ng; i++) {
		const char *s = rec_path_str(A.gpaths[i]);
		A.gnames[i] = xstrdup(s[0] == '.' ? s + 1 : s);
	}
	/* A group field is an output column too: a spec may not reuse its name. */
	for (i = 0; i < A.ng; i++)
		for (j = 0; j < A.aggs.nspecs; j++)
			if (strcmp(A.gnames[i], A.aggs.specs[j].name) == 0)
				diag_usage_error("duplicate output name '%s' in spec '%s'",
				    A.aggs.specs[j].name, typed[j]);
	free(typed);
	if (A.partial && ((A.format && A.format != tb_format("ndjson")) || A.nsorts || A.top))
		diag_usage_error("--partial writes state records: --format, --sort and --top do not apply");
	if (A.partial && A.every_n + (uint64_t)A.every_d)
		diag_usage_error("--partial and --every cannot be combined");
	if (A.merge && A.every_n + (uint64_t)A.every_d)
		diag_usage_error("--merge and --every cannot be combined");
	if (A.merge && A.where)
		diag_usage_error("--where does not apply to --merge: filter the --partial runs");
	if (A.max_mem && A.every_n + (uint64_t)A.every_d)
		diag_usage_error("--max-memory and --every cannot be combined");
	if (A.max_mem && A.state_path)
		diag_usage_error("--max-memory and --state cannot be combined");
	check_output_options();
}

/* check_output_options refuses --precision, --final and --fill where they mean nothing. */
static void
check_output_options(void)
{
	if (A.partial && A.precision >= 0)
		diag_usage_error("--partial writes state records: --precision does not apply");
	if (A.partial && (A.final || A.fill))
		diag_usage_error("--partial writes state records: use --%s on the --merge run",
		    A.final ? "final" : "fill");
	if (A.final && A.every_n + (uint64_t)A.every_d)
		diag_usage_error("--final and --every cannot be combined");
	if ((A.final || A.fill) && A.state_path)
		diag_usage_error("--%s and --state cannot be combined", A.final ? "final" : "fill");
	if (A.final && A.allowed > 0)
		diag_usage_error("--final and --allowed-lateness cannot be combined: "
		    "a revised window would be ranked twice");
}

/*
 * is_spec tells an operand that is a spec from an input file, by its
 * text alone: a spec holds a ':' or a '=', or is a function's name (or
 * pN or topN: the name followed by digits and dots).  Anything else, such
 * as "events.ndjson", "./count" or "-", is a file.
 */
static bool
is_spec(const char *arg)
{
	size_t len = strlen(arg), nl, i;
	const struct agg_func *fn;

	if (strpbrk(arg, ":=") != NULL)
		return true;
	for (i = 0; i < agg_nfuncs; i++) {
		fn = &agg_funcs[i];
		nl = strlen(fn->name);
		if (fn->flags & AGG_HIDDEN || len < nl || memcmp(arg, fn->name, nl) != 0)
			continue;
		if (len == nl && !(fn->flags & (AGG_PCT | AGG_NUM)))
			return true;
		if (len > nl && (fn->flags & (AGG_PCT | AGG_NUM)) && arg[nl] >= '0' && arg[nl] <= '9' &&
		    strspn(arg + nl, "0123456789.") == len - nl)
			return true;
	}
	return false;
}

/*
 * add_file_operand takes an operand that is not a spec as an input file.
 * A bare word (no '/' or '.') that is no file is more likely a mistyped
 * function: that is a usage error; a missing path is lib/run's to report.
 */
static void
add_file_operand(const char *arg)
{
	struct stat st;

	if (strpbrk(arg, "/.") == NULL && strcmp(arg, "-") != 0 && stat(arg, &st) != 0 && errno == ENOENT)
		diag_usage_error("'%s' is neither a file nor an aggregate (unknown function '%s')", arg, arg);
	A.inputs = xrealloc(A.inputs, (size_t)(A.ninputs + 1) * sizeof(*A.inputs));
	A.inputs[A.ninputs++] = (char *)arg;
}

/* is_column reports whether col is an output column some batch can have. */
static bool
is_column(const char *col)
{
	size_t j;

	if (strcmp(col, "window_start") == 0 || strcmp(col, "window_end") == 0)
		return true;
	for (j = 0; j < A.ng; j++)
		if (strcmp(col, A.gnames[j]) == 0)
			return true;
	for (j = 0; j < A.aggs.nspecs; j++)
		if (strcmp(col, A.aggs.specs[j].name) == 0)
			return true;
	for (j = 0; j < A.aggs.nfields; j++)
		if (strcmp(col, A.aggs.invalid_name[j]) == 0)
			return true;
	return false;
}

/* make_table makes the output table: its format, --sort (every column checked) and --top. */
static void
make_table(void)
{
	const char *why;
	size_t i;

	if (A.format == NULL)
		A.format = tb_format("ndjson");
	A.ndjson = A.format == tb_format("ndjson");
	A.csv = A.format == tb_format("csv");
	A.table = tb_new(A.format, stdout);
	for (i = 0; i < A.nsorts; i++)
		if (tb_sort_spec(A.table, A.sorts[i], &why) != 0)
			diag_usage_error("--sort: %s in list: %s", why, A.sorts[i]);
	for (i = 0; i < tb_nsort(A.table); i++)
		if (!is_column(tb_sort_key(A.table, i, NULL)))
			diag_usage_error("--sort: no output column '%s'", tb_sort_key(A.table, i, NULL));
	/* --top alone ranks by the first aggregate, largest first. */
	if (A.top && tb_nsort(A.table) == 0)
		tb_sort(A.table, A.aggs.specs[0].name, true);
	tb_top(A.table, A.top);
	/* --precision: the numeric functions' results; counts are integers, first/last/mode/topN values as they came. */
	for (i = 0; A.precision >= 0 && i < A.aggs.nspecs; i++)
		if (A.aggs.specs[i].fn->flags & AGG_NUMERIC)
			tb_round(A.table, A.aggs.specs[i].name, (unsigned)A.precision);
}

/* setup makes what the run needs once the options are known. */
static void
setup(void)
{
	size_t i, l;

	make_table();
	for (i = 0; i < A.aggs.nspecs; i++) {
		l = strlen(A.specs_text);
		snprintf(A.specs_text + l, sizeof(A.specs_text) - l, "%s%s", i ? " " : "",
		    A.aggs.specs[i].text);
	}
	A.keep_invalid = A.cli.dead_letter != NULL || A.cli.strict;
	A.fpaths = xcalloc(A.aggs.nfields ? A.aggs.nfields : 1, sizeof(*A.fpaths));
	A.vals = xcalloc(A.aggs.nfields ? A.aggs.nfields : 1, sizeof(*A.vals));
	for (i = 0; i < A.aggs.nfields; i++)
		A.fpaths[i] = cli_path("aggregate field", A.aggs.fields[i]);
	A.cols = xcalloc(A.ng + 2, sizeof(*A.cols));
	A.cols[0] = "window_start";
	A.cols[1] = "window_end";
	for (i = 0; i < A.ng; i++)
		A.cols[i + 2] = A.gnames[i];
	/* Without --max-memory a group needs no heap figure: 8 bytes less each. */
	A.groups = gr_new_opts(&A.aggs, A.cols, A.ng + 2, &(struct gr_opts){
	    .payload = A.max_mem ? sizeof(struct gpay) : offsetof(struct gpay, heap),
	    .windowed = true, .by = A.gspec });
	A.poff = gr_payload_off(A.groups);
	A.ngroups_stat = diag_counter("groups");
	A.overflows = diag_counter("overflows");
	A.visited = diag_counter("groups_visited");
	if (A.fill) {
		A.fillst = wf_new(FILL_MAX_GAP);
		A.fill_block = xmalloc(A.aggs.size ? A.aggs.size : 1);
	}
	if (A.max_mem) {
		A.runs = gr_runs_new();
		A.spills = diag_counter("spill_runs");
	}
}

/* on_watermark emits the results of the windows it closes first, then passes it on. */
static void
on_watermark(void *ctx, int64_t t, struct rec *rec, const struct in_line *ln)
{
	emit(EMIT_CLOSED, t);
	/* --final: the results come at the end, so the watermark that follows them does too. */
	if (A.final) {
		A.final_wm = t > A.final_wm ? t : A.final_wm;
		return;
	}
	/* Only NDJSON has a place for a control record. */
	if (!A.cli.no_watermarks && A.ndjson)
		rec_emit(rec, stdout, NULL, 0);
}

/* on_event folds one record (or, with --merge, one state record) into its group. */
static void
on_event(void *ctx, struct rec *rec, const struct in_line *ln)
{
	struct gr_group *g;
	const char *twhy;
	char why[512];
	int64_t t, wend;
	bool windowed;

	if (A.merge) {
		if (merge_state(rec, &ln->pos, why, sizeof(why)) != 0)
			diag_reject(&ln->pos, ln->data, ln->len, "%s", why);
		return;
	}
	if (A.where != NULL && !expr_test(A.where, rec)) {
		(*A.filtered)++;
		return;
	}
	if (A.every_d) {
		if (cli_time(&A.cli, rec, &t, &twhy) != 0) {
			diag_reject(&ln->pos, ln->data, ln->len, "%s", twhy);
			return;
		}
		/* Running results as of each DURATION boundary the event time crosses. */
		if (A.next_tick != TV_MIN && t >= A.next_tick)
			emit(EMIT_RUNNING, 0);
		if (A.next_tick == TV_MIN || t >= A.next_tick)
			A.next_tick = (tv_floor_div(t, A.every_d) + 1) * A.every_d;
	}
	if (key_of(rec, ln, &wend, &windowed) != 0)
		return;
	fill_check(windowed, &ln->pos);
	g = group_get(windowed, wend);
	update(rec, ln, g);
	if (A.max_mem)
		mem_count(g);	/* may spill: g is not used after */
	if (A.every_n && ++A.nrec % A.every_n == 0)
		emit(EMIT_RUNNING, 0);
}

/*
 * on_end: without --state everything is emitted; with it, the open groups
 * are saved (by lib/run) and the groups without a window are shown as
 * they stand.  Then the table is closed (a JSON array's "]", ...).
 */
static void
on_end(void *ctx, bool keep)
{
	static const char *const merged[] = { "groups", "groups_visited", "overflows", NULL };

	if (A.jobs != NULL)
		jobs_account(A.jobs, merged);	/* the workers' rejects, messages and counters */
	if (A.ng == 0 && *A.ngroups_stat == 0 && !A.merge) {
		/* Like SQL without GROUP BY: no input still has one (empty) result. */
		key_begin(NULL, NULL);
		group_get(false, TV_MAX);
	}
	/* Past --max-memory the groups without a window all go to the runs, to come back merged. */
	if (A.runs != NULL && gr_runs_count(A.runs) > 0)
		spill();
	/* With --every the final results are written too, even when unchanged: they are the ones marked final. */
	if (keep)
		emit(EMIT_BATCH, 0);
	else
		emit(EMIT_ALL, TV_MAX);
	if (A.final)
		final_results();
	tb_end(A.table);
}

/* final_results writes --final's one batch: every window's rows, sorted and cut together, then the last watermark. */
static void
final_results(void)
{
	struct buf wm = BUF_INIT;

	csv_columns();
	tb_flush(A.table);
	diag_out += tb_written(A.table);
	if (A.final_wm != TV_MIN && !A.cli.no_watermarks && A.ndjson) {
		buf_adds(&wm, "{\"@watermark\":");
		jw_time(&wm, A.final_wm);
		buf_adds(&wm, "}\n");
		fwrite(wm.p, 1, wm.len, stdout);
		buf_free(&wm);
	}
}

static void
on_free(void *ctx)
{
	free_groups();
	expr_free(A.where);
	rec_free(A.staterec);
}

/* state_options names the options the saved groups depend on. */
static json_t *
state_options(void)
{
	json_t *o = json_object();

	json_object_set_new(o, "--group-by", json_string(A.gspec[0] ? A.gspec : "(none)"));
	json_object_set_new(o, "aggregates", json_string(A.specs_text));
	json_object_set_new(o, "--approx", json_string(A.approx ? "(given)" : "(not given)"));
	return o;
}

/*
 * key_begin starts the group key in key (lib/groups' form, one value per
 * column): the window bounds' JSON text for a windowed record, two absent
 * values for one without a window.  key_add appends one group value's
 * JSON text.  gr_load builds the keys of state records the same way, so
 * events and merged states land in the same group.
 */
static void
key_begin(const struct rec_val *ws, const struct rec_val *we)
{
	gr_key_reset(&A.key);
	gr_key_add(&A.key, ws ? ws->raw : "", ws ? ws->rawlen : 0);
	gr_key_add(&A.key, we ? we->raw : "", we ? we->rawlen : 0);
}

static void
key_add(const char *raw, size_t len)
{
	gr_key_add(&A.key, raw, len);
}

/*
 * key_of builds the group key of the record in key: window_start and
 * window_end for a record carrying both window fields (absent otherwise),
 * then the JSON text of each -g field ("null" when missing).  Returns 0,
 * or -1 after rejecting a record with broken window fields.
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
	A.cur_rev = 0;
	if (*windowed && rec_get_key(rec, "revision", 8, &v) == RT_INT && v.i > 0 && v.i <= UINT32_MAX)
		A.cur_rev = (unsigned)v.i;
	if (A.cur_rev > 0 && A.allowed == 0 && !A.warned_rev) {
		diag_warn("a \"revision\" record needs --allowed-lateness as given to window: "
		    "without it a revised window's totals hold only what came late");
		A.warned_rev = true;
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
	for (i = 0; i < A.ng; i++) {
		if (rec_get(rec, A.gpaths[i], &v) == RT_MISSING)
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
wh_due(const struct gr_group *g)
{
	return P(g)->kept && !P(g)->dirty ? win_add(g->wend, A.allowed) : g->wend;
}

static bool
wh_before(const struct gr_group *a, const struct gr_group *b)
{
	int64_t da = wh_due(a), db = wh_due(b);

	return da < db || (da == db && a->seq < b->seq);
}

static void
wh_set(size_t i, struct gr_group *g)
{
	A.wheap[i] = g;
	P(g)->hidx = i;
}

static void
wh_push(struct gr_group *g)
{
	size_t i;

	if (A.nwheap == A.capwheap) {
		A.capwheap = A.capwheap ? 2 * A.capwheap : 64;
		A.wheap = xrealloc(A.wheap, A.capwheap * sizeof(*A.wheap));
	}
	for (i = A.nwheap++; i > 0 && wh_before(g, A.wheap[(i - 1) / 2]); i = (i - 1) / 2)
		wh_set(i, A.wheap[(i - 1) / 2]);
	wh_set(i, g);
}

static struct gr_group *
wh_pop(void)
{
	struct gr_group *first = A.wheap[0], *last = A.wheap[--A.nwheap];
	size_t i = 0, c;

	while ((c = 2 * i + 1) < A.nwheap) {
		if (c + 1 < A.nwheap && wh_before(A.wheap[c + 1], A.wheap[c]))
			c++;
		if (!wh_before(A.wheap[c], last))
			break;
		wh_set(i, A.wheap[c]);
		i = c;
	}
	if (A.nwheap > 0)
		wh_set(i, last);
	return first;
}

/* wh_remove takes a group out of the heap (to push it again with another due time). */
static void
wh_remove(struct gr_group *g)
{
	struct gr_group *last = A.wheap[--A.nwheap];
	size_t i = P(g)->hidx, c;

	if (i == A.nwheap)
		return;
	while (i > 0 && wh_before(last, A.wheap[(i - 1) / 2])) {
		wh_set(i, A.wheap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	while ((c = 2 * i + 1) < A.nwheap) {
		if (c + 1 < A.nwheap && wh_before(A.wheap[c + 1], A.wheap[c]))
			c++;
		if (!wh_before(A.wheap[c], last))
			break;
		wh_set(i, A.wheap[c]);
		i = c;
	}
	wh_set(i, last);
}

/* group_get returns the group of the key in key, creating it. */
static struct gr_group *
group_get(bool windowed, int64_t wend)
{
	struct gr_group *g;
	bool created;

	/* Values are compared as JSON values (lib/groups: "1" and "1.0" are one group). */
	g = gr_get(A.groups, A.key.p, A.key.len, &created);
	if (created)
		g->wend = wend;
	group_touch(g, created, windowed);
	return g;
}

/* group_touch does aggregate's part for a group an event or a state record was folded into. */
static inline void
group_touch(struct gr_group *g, bool created, bool windowed)
{
	struct gpay *p = P(g);

	if (created) {
		p->windowed = windowed;
		if (windowed)
			wh_push(g);
		if (windowed && A.fill)
			fill_note(g);
		(*A.ngroups_stat)++;
	}
	if (A.cur_rev > p->rev)
		p->rev = A.cur_rev;
	if (p->kept && !p->dirty) {
		/* A revision of a window already written: its updated totals go out at the next watermark. */
		wh_remove(g);
		p->dirty = true;
		wh_push(g);
	}
}

/*
 * update folds the record into its group.  A value that is not a number
 * in a numeric function is counted in FIELD_invalid; with --dead-letter
 * (or --strict) the record is also rejected there, otherwise it is not an
 * error, since the count is in the output.
 */
static void
update(struct rec *rec, const struct in_line *ln, struct gr_group *g)
{
	size_t i;
	int bad;

	for (i = 0; i < A.aggs.nfields; i++)
		rec_get(rec, A.fpaths[i], &A.vals[i]);
	bad = aggs_update(&A.aggs, gr_block(g), A.vals);
	if (bad >= 0 && A.keep_invalid)
		diag_reject(&ln->pos, ln->data, ln->len, "field '%s' is %s, expected number",
		    A.aggs.fields[bad], rec_type_name(A.vals[bad].type));
}


/* ---- --merge: state records in ---- */

/*
 * merge_state folds one state record from --partial into its group,
 * through lib/groups' codec.  A state of other group fields, specs or
 * --approx setting ends the run with status 2: merging it would be
 * meaningless.  Returns 0, or -1 with a reason in why.
 */
static int
merge_state(struct rec *rec, const struct diag_pos *pos, char *why, size_t whysz)
{
	struct gr_group *g;
	const char *v;
	bool created;
	int rc;

	rc = gr_load_rec(A.groups, rec, &g, &created, why, whysz);
	if (rc == GR_OTHER)
		diag_die(EX_USAGE, "%s:%llu: %s", pos->file, (unsigned long long)pos->line, why);
	if (rc != 0)
		return -1;
	fill_check(gr_value(g, 0, &v) > 0, pos);
	group_touch(g, created, gr_value(g, 0, &v) > 0);
	if (A.max_mem)
		mem_count(g);
	return 0;
}

/* ---- output ---- */

/* group_cols appends a group's window and -g columns (the JSON text from its key). */
static void
group_cols(struct gr_group *g, struct agg_cols *c)
{
	const char *v;
	size_t i, n;

	for (i = 0; i < A.ng + 2; i++)
		if ((n = gr_value(g, i, &v)) > 0)
			agg_cols_add(c, A.cols[i], v, n);
}

/* put_state writes one --partial state record for a group (lib/groups' codec). */
static void
put_state(struct gr_group *g, FILE *f)
{
	buf_reset(&A.out);
	gr_save(A.groups, g, &A.out);
	fwrite(A.out.p, 1, A.out.len, f);
}

static int
cmp_groups(const void *pa, const void *pb)
{
	const struct gr_group *a = *(struct gr_group *const *)pa, *b = *(struct gr_group *const *)pb;

	if (a->wend != b->wend)
		return a->wend < b->wend ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

/* row_has reports whether a result row has a column. */
static bool
row_has(const struct agg_cols *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->name[i], name) == 0)
			return true;
	return false;
}

/*
 * put_row adds a result row to the table.  CSV gets an explicit 0 in
 * each numeric field's FIELD_invalid column when the row has none: the
 * CSV header holds that column whether or not a batch has invalid values.
 */
static void
put_row(const struct agg_cols *c)
{
	size_t i;

	tb_row(A.table);
	for (i = 0; i < c->n; i++)
		if (tb_cell(A.table, c->name[i], c->b.p + c->start[i], c->len[i]) != 0)
			tb_cell_null(A.table, c->name[i]);	/* not reached: values are JSON text */
	if (!A.csv)
		return;
	for (i = 0; i < A.aggs.nfields; i++)
		if (A.aggs.numeric[i] && !row_has(c, A.aggs.invalid_name[i]))
			tb_cell(A.table, A.aggs.invalid_name[i], "0", 1);
}

/*
 * csv_columns fixes the CSV header before the first batch: a CSV cannot
 * grow its header once written, so it is every column the specs can
 * produce: the first batch's columns, then "revision" (with
 * --allowed-lateness) and FIELD_invalid for each numeric field.  A later
 * column outside it (a windowed batch after a header without windows)
 * ends the run: it is never dropped.
 */
static void
csv_columns(void)
{
	size_t i;

	if (!A.csv)
		return;
	if (A.ncsvcols == 0) {
		if (A.allowed > 0)
			tb_column(A.table, "revision");
		for (i = 0; i < A.aggs.nfields; i++)
			if (A.aggs.numeric[i])
				tb_column(A.table, A.aggs.invalid_name[i]);
		A.ncsvcols = tb_ncolumns(A.table);
	} else if (tb_ncolumns(A.table) > A.ncsvcols)
		diag_die(EX_REJECTED, "--format csv: column '%s' first appears after the "
		    "header was written; use --format ndjson", tb_column_name(A.table, A.ncsvcols));
}

/* put_results writes a batch's results through the table: one tb_flush per batch. */
static void
put_results(enum emit_kind kind)
{
	uint64_t before = tb_written(A.table);	/* ndjson rows may go out before tb_flush */
	struct gr_group *g;
	size_t i;
	bool final = kind != EMIT_RUNNING && kind != EMIT_BATCH;

	for (i = 0; i < A.nbatch; i++) {
		g = A.batch[i];
		if (A.fill && kind != EMIT_RUNNING)
			fill_batch_row(g, false);
		agg_cols_reset(&A.row);
		group_cols(g, &A.row);
		if (aggs_result(&A.aggs, gr_block(g), &A.row) > 0) {
			if (*A.overflows == 0)
				diag_warn("a result is past the range of a double and is written as null");
			(*A.overflows)++;
		}
		if (P(g)->rev > 0) {
			char r[16];
			int rl = snprintf(r, sizeof(r), "%u", P(g)->rev);

			agg_cols_add(&A.row, "revision", r, (size_t)rl);
		}
		/* --every: running results say they are not final, so a reader can tell them apart. */
		if (A.every_n || A.every_d)
			agg_cols_add(&A.row, "final", final ? "true" : "false", final ? 4 : 5);
		put_row(&A.row);
	}
	if (A.fill && kind != EMIT_RUNNING)
		fill_batch_row(NULL, true);
	/* The groups without a window come last (after the windows), merged from their runs. */
	if (kind == EMIT_ALL && A.runs != NULL && gr_runs_count(A.runs) > 0)
		unspill();
	if (A.final)
		return;	/* the rows wait in the table for the end */
	csv_columns();
	tb_flush(A.table);	/* a failed write stays in ferror(stdout), which lib/run checks */
	diag_out += tb_written(A.table) - before;
}

static void
batch_add(struct gr_group *g)
{
	if (A.nbatch == A.capbatch) {
		A.capbatch = A.capbatch ? A.capbatch * 2 : 64;
		A.batch = xrealloc(A.batch, A.capbatch * sizeof(*A.batch));
	}
	A.batch[A.nbatch++] = g;
}

/* collect gathers the groups a batch of kind holds into A.batch (see emit). */
static void
collect(enum emit_kind kind, int64_t wm)
{
	struct gr_group *g, **l;
	size_t i, n;

	A.nbatch = 0;
	if (kind == EMIT_CLOSED) {
		/* The heap gives the closed windows in (window_end, seq) order: the others are not looked at. */
		(*A.visited)++;
		while (A.nwheap > 0 && wh_due(A.wheap[0]) <= wm) {
			(*A.visited)++;
			g = wh_pop();
			if (P(g)->kept && !P(g)->dirty)
				group_del(g);	/* its lateness is over, nothing changed: it goes */
			else
				batch_add(g);
		}
	} else
		for (l = gr_list(A.groups, &n), i = 0; i < n; i++) {
			g = l[i];
			/* A window written and kept unchanged for revisions has nothing new to say. */
			if (!(kind == EMIT_BATCH && P(g)->windowed) && !(P(g)->kept && !P(g)->dirty))
				batch_add(g);
		}
}

/* close_batch takes the groups of a written batch out of the table, or keeps them for revisions. */
static void
close_batch(enum emit_kind kind, int64_t wm)
{
	struct gr_group *g;
	size_t i;

	if (kind == EMIT_ALL)
		A.nwheap = 0;	/* every group closes */
	for (i = 0; i < A.nbatch; i++) {
		g = A.batch[i];
		if (kind == EMIT_CLOSED && P(g)->windowed && win_add(g->wend, A.allowed) > wm) {
			P(g)->kept = true;
			P(g)->dirty = false;
			wh_push(g);
		} else
			group_del(g);
	}
}

/*
 * emit writes the results of a batch of groups: EMIT_CLOSED the windows
 * a watermark at wm closes, EMIT_ALL everything (end of input),
 * EMIT_RUNNING everything without closing (--every), EMIT_BATCH the
 * groups without a window (end of input with --state).  Closed groups
 * are freed.  Batches go out in window order, then in order of creation,
 * unless --sort says otherwise.
 */
static void
emit(enum emit_kind kind, int64_t wm)
{
	size_t i;

	bool spilled = kind == EMIT_ALL && A.runs != NULL && gr_runs_count(A.runs) > 0;

	collect(kind, wm);
	if (A.nbatch == 0 && !spilled)
		return;
	if (A.nbatch > 0)	/* after a spill, the batch may be empty (and A.batch NULL) */
		qsort(A.batch, A.nbatch, sizeof(*A.batch), cmp_groups);
	if (A.partial) {
		for (i = 0; i < A.nbatch; i++) {
			put_state(A.batch[i], stdout);
			diag_out++;
		}
		if (spilled)
			unspill();
	} else
		put_results(kind);
	if (kind == EMIT_CLOSED || kind == EMIT_ALL)
		close_batch(kind, wm);
}

/* ---- --fill: rows for the windows a group has no events in (lib/winfill finds them) ---- */

/* fill_check ends the run with status 2 when --fill meets a record without windows: there is nothing to fill. */
static void
fill_check(bool windowed, const struct diag_pos *pos)
{
	if (A.fill && !windowed)
		diag_die(EX_USAGE, "%s:%llu: --fill needs windows, and this record has no window_start and "
		    "window_end: pipe the input through window(1) first", pos->file, (unsigned long long)pos->line);
}

/* gkey returns the -g part of a windowed group's key (after 'W' and the two window bounds). */
static const char *
gkey(const struct gr_group *g, size_t *len)
{
	const char *k, *p;
	size_t i;

	gr_value(g, 2, &k);
	for (p = k, i = 0; i < A.ng; i++)
		p += strlen(p) + 1;
	*len = (size_t)(p - k);
	return k;
}

/* fill_note tells lib/winfill of a new window group; a window of another length ends the run. */
static void
fill_note(struct gr_group *g)
{
	static const struct tv_format iso = { TV_ISO, NULL };
	const char *k, *why, *key;
	size_t len = gr_value(g, 0, &k);
	int64_t start;

	/* The window_start text is a JSON string: its inside is the time. */
	if (len < 2 || k[0] != '"' || tv_parse(&iso, k + 1, len - 2, &start, &why) != 0)
		diag_die(EX_REJECTED, "--fill: window_start %s is not a time", k);
	key = gkey(g, &len);
	if (wf_note(A.fillst, start, g->wend, key, len, &why) != 0)
		diag_die(EX_USAGE, "--fill: %s", why);
}

/* put_fill_row adds the row of a group in a window without its events: the results of an empty group. */
static void
put_fill_row(void *ctx, int64_t start, int64_t end, const char *key, size_t keylen)
{
	const char *k = key, *e;
	size_t i;

	agg_cols_reset(&A.row);
	buf_reset(&A.out);
	jw_time(&A.out, start);
	agg_cols_add(&A.row, "window_start", A.out.p, A.out.len);
	buf_reset(&A.out);
	jw_time(&A.out, end);
	agg_cols_add(&A.row, "window_end", A.out.p, A.out.len);
	for (i = 0; i < A.ng && k < key + keylen; i++) {
		e = strchr(k, '\0');
		agg_cols_add(&A.row, A.gnames[i], k, (size_t)(e - k));
		k = e + 1;
	}
	aggs_state_init(&A.aggs, A.fill_block);
	aggs_result(&A.aggs, A.fill_block, &A.row);
	aggs_state_free(&A.aggs, A.fill_block);
	if (A.every_n || A.every_d)
		agg_cols_add(&A.row, "final", "true", 4);
	put_row(&A.row);
}

/*
 * fill_batch_row is called before each group of a batch is written (and
 * with last after the batch): when the group starts another window, the
 * window before it gets the rows of its missing groups, and the windows
 * without events up to the new one are filled.
 */
static void
fill_batch_row(struct gr_group *g, bool last)
{
	const char *why, *key;
	size_t len;

	if (A.fill_open && (last || !P(g)->windowed || g->wend != A.fill_wend)) {
		wf_end(A.fillst, put_fill_row, NULL);
		A.fill_open = false;
	}
	if (last || !P(g)->windowed)
		return;
	if (!A.fill_open) {
		if (wf_begin(A.fillst, g->wend - wf_length(A.fillst), g->wend, put_fill_row, NULL, &why) != 0)
			diag_die(EX_REJECTED, "--fill: %s; is a time wrong?", why);
		A.fill_open = true;
		A.fill_wend = g->wend;
	}
	key = gkey(g, &len);
	wf_present(A.fillst, key, len);
}

/* group_del frees a group and takes it out of the table. */
static void
group_del(struct gr_group *g)
{
	gr_del(A.groups, g);
}

/* ---- --state: open groups between runs ---- */

/* load_state folds one line of a --state file into its group; a damaged line refuses the whole state. */
static int
load_state(void *ctx, const char *line, size_t len, char *why, size_t whysz)
{
	struct diag_pos pos = { A.state_path, ++A.state_line, 0 };
	struct rec_err perr;

	if (A.staterec == NULL)
		A.staterec = rec_new();
	if (rec_parse(A.staterec, line, len, &perr) != 0) {
		snprintf(why, whysz, "invalid JSON at column %zu: %s", perr.column, perr.text);
		return -1;
	}
	return merge_state(A.staterec, &pos, why, whysz);
}

/* save_state writes every group still open, as state records. */
static int
save_state(void *ctx, FILE *f)
{
	struct gr_group **l;
	size_t i, n;

	for (l = gr_list(A.groups, &n), i = 0; i < n; i++)
		if (!(P(l[i])->kept && !P(l[i])->dirty))
			put_state(l[i], f);
	return ferror(f) ? -1 : 0;
}

static void
free_groups(void)
{
	size_t i;

	gr_free(A.groups);
	free(A.cols);
	tb_free(A.table);
	agg_cols_free(&A.row);
	free(A.batch);
	free(A.wheap);
	for (i = 0; i < A.ng; i++) {
		rec_path_free(A.gpaths[i]);
		free(A.gnames[i]);
	}
	free(A.gpaths);
	free(A.gnames);
	gr_runs_free(A.runs);
	for (i = 0; i < A.aggs.nfields; i++)
		rec_path_free(A.fpaths[i]);
	free(A.fpaths);
	free(A.vals);
	free(A.sorts);
	wf_free(A.fillst);
	free(A.fill_block);
	buf_free(&A.key);
	buf_free(&A.out);
	aggs_free(&A.aggs);
}

/* ---- -j: worker processes ---- */

/* worker_watermark: a watermark closes windows in the input's order, which pieces cannot keep. */
static void
worker_watermark(void *ctx, int64_t t, struct rec *rec, const struct in_line *ln)
{
	exit(JOBS_FALLBACK);
}

/* jobs_worker aggregates piece i into state records on its standard output (a temporary file). */
static int
jobs_worker(struct jobs *j, int i, void *ctx)
{
	struct run_spec spec = { .tool = "aggregate", .cli = &A.cli };
	struct run_ops wops = ops;

	A.partial = true;
	A.format = NULL;
	A.nsorts = 0;
	A.top = 0;
	A.precision = -1;	/* output options belong to the merging run */
	A.final = A.fill = false;
	setup();			/* with the options as given: what counts as a reject */
	A.cli.output = NULL;
	A.cli.dead_letter = j->dead[i];	/* replayed by the merging run, in order */
	A.cli.strict = false;
	A.cli.stats = true;		/* its counters, for the merging run's --stats */
	wops.watermark = worker_watermark;
	spec.paths = A.inputs + j->piece[i].first;
	spec.npaths = j->piece[i].last - j->piece[i].first + 1;
	spec.piece = &j->piece[i];
	return run_main(&spec, &wops, NULL);
}

/*
 * run_jobs reads the -i files with A.njobs worker processes over byte
 * ranges cut at line starts (lib/jobs), then merges their state records
 * as --merge does, so the output is the one a single process writes.
 * Returns the exit status, or -1 when the input is read by one process:
 * standard input, a FIFO, a gzip file, or a watermark in the input.
 */
static int
run_jobs(void)
{
	struct run_spec spec = { .tool = "aggregate", .cli = &A.cli };
	struct jobs j;
	int c;

	if (A.every_n + (uint64_t)A.every_d)
		diag_usage_error("-j and --every cannot be combined (running results follow the input's order)");
	if (A.state_path != NULL)
		diag_usage_error("-j and --state cannot be combined");
	if (jobs_split(&j, A.inputs, A.ninputs, (int)A.njobs, A.cli.output) < 2)
		return -1;
	j.capture = true;
	if (jobs_run(&j, jobs_worker, NULL) != 0)
		diag_die(EX_IOERR, "-j: %s", strerror(errno));
	if (j.status == JOBS_FALLBACK || j.status == EX_USAGE) {
		if (j.status == EX_USAGE)
			jobs_account(&j, NULL);	/* the worker's message; the run ends as one process's would */
		jobs_free(&j);
		return j.status == EX_USAGE ? EX_USAGE : -1;
	}
	A.merge = true;
	A.jobs = &j;
	setup();
	spec.paths = j.out;
	spec.npaths = j.n;
	c = run_main(&spec, &ops, NULL);
	jobs_free(&j);
	free(A.inputs);
	return c;
}

/* ---- --max-memory: the groups without a window, spilled past it ---- */

/* GROUP_FIXED is what a group costs beside its key, block and payload: hash-map entry and slots, order. */
#define GROUP_FIXED	(16 + 16 + 32 + 16)

/* mem_count counts a group's memory after a fold into it, and spills past --max-memory. */
static void
mem_count(struct gr_group *g)
{
	struct gpay *p = P(g);
	size_t h, klen;

	if (p->windowed)
		return;	/* windows are bounded by watermarks, not spilled */
	if (!p->counted) {
		gr_canon_key(A.groups, g, &klen);
		A.mem += klen + A.poff + sizeof(struct gpay) + GROUP_FIXED;
		p->counted = true;
	}
	h = aggs_heap(&A.aggs, gr_block(g));
	A.mem += h - p->heap;
	p->heap = h;
	if (A.mem > A.max_mem)
		spill();
}

static bool
no_window(const struct gr_group *g, void *arg)
{
	return !P(g)->windowed;
}

/* spill writes the groups without a window as one sorted run and takes them out of the table. */
static void
spill(void)
{
	char why[512];

	if (gr_spill(A.groups, A.runs, no_window, NULL, why, sizeof(why)) != 0)
		diag_die(EX_IOERR, "--max-memory: %s", why);
	*A.spills = gr_runs_count(A.runs);
	A.mem = 0;
}

/* unspilled takes one group merged from the runs: its state line with --partial, else its result row. */
static void
unspilled(struct groups *t, struct gr_group *g, const char *line, size_t len, void *arg)
{
	if (A.partial) {
		fwrite(line, 1, len, stdout);
		diag_out++;
		return;
	}
	agg_cols_reset(&A.row);
	group_cols(g, &A.row);
	if (aggs_result(&A.aggs, gr_block(g), &A.row) > 0) {
		if (*A.overflows == 0)
			diag_warn("a result is past the range of a double and is written as null");
		(*A.overflows)++;
	}
	put_row(&A.row);
}

/* unspill merges the runs and writes their groups in order of creation, as an unspilled run would. */
static void
unspill(void)
{
	struct groups *t;
	char why[512];

	t = gr_new_opts(&A.aggs, A.cols, A.ng + 2,
	    &(struct gr_opts){ .payload = sizeof(struct gpay), .windowed = true, .by = A.gspec });
	if (gr_runs_merge(A.runs, t, A.max_mem, unspilled, NULL, why, sizeof(why)) != 0)
		diag_die(EX_IOERR, "--max-memory: %s", why);
	gr_free(t);
	gr_runs_free(A.runs);
	A.runs = NULL;
}
