/* batch-report: the nightly report over a day of events or access logs, its numbers made by the aggregate functions the live pipe uses. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agg.h"
#include "buf.h"
#include "cli.h"
#include "diag.h"
#include "formats.h"
#include "groups.h"
#include "hashmap.h"
#include "jobs.h"
#include "record.h"
#include "run.h"
#include "table.h"
#include "timeval.h"

#define MAX_DIMS	16
#define HOUR_US		(3600 * TV_US_PER_S)
#define MAX_FILL_HOURS	(24 * 400)	/* empty hours are shown up to this span */

enum {
	OPT_INPUT_FORMAT = CLI_TOOL_BASE,
	OPT_ENTITY,
	OPT_DIMENSION,
	OPT_METRIC,
	OPT_SESSION,
	OPT_SESSION_GAP,
	OPT_DATE,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_SECTIONS,
	OPT_FORMAT,
	OPT_COMPARE,
	OPT_TOP,
	OPT_APPROX,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_PRECISION,
	OPT_ROUND,
	OPT_PATTERN,
	OPT_LENIENT
};

static const struct option longopts[] = {
	CLI_LONGOPTS,
	{ "input-format",	required_argument,	NULL, OPT_INPUT_FORMAT },
	{ "pattern",		required_argument,	NULL, OPT_PATTERN },
	{ "lenient",		no_argument,		NULL, OPT_LENIENT },
	{ "entity",		required_argument,	NULL, OPT_ENTITY },
	{ "dimension",		required_argument,	NULL, OPT_DIMENSION },
	{ "metric",		required_argument,	NULL, OPT_METRIC },
	{ "session",		required_argument,	NULL, OPT_SESSION },
	{ "session-gap",	required_argument,	NULL, OPT_SESSION_GAP },
	{ "date",		required_argument,	NULL, OPT_DATE },
	{ "since",		required_argument,	NULL, OPT_SINCE },
	{ "until",		required_argument,	NULL, OPT_UNTIL },
	{ "sections",		required_argument,	NULL, OPT_SECTIONS },
	{ "format",		required_argument,	NULL, OPT_FORMAT },
	{ "compare",		required_argument,	NULL, OPT_COMPARE },
	{ "jobs",		required_argument,	NULL, 'j' },
	{ "top",		required_argument,	NULL, OPT_TOP },
	{ "approx",		no_argument,		NULL, OPT_APPROX },
	{ "progress",		no_argument,		NULL, OPT_PROGRESS },
	{ "no-progress",	no_argument,		NULL, OPT_NO_PROGRESS },
	{ "precision",		required_argument,	NULL, OPT_PRECISION },
	{ "round",		required_argument,	NULL, OPT_ROUND },
	{ NULL, 0, NULL, 0 }
};

static const struct cli_help help = {
	"[options] [file ...]",
	"Write the daily report of an event stream or access log: summary, top entities, dimensions, metric, hours, sessions, data quality.",
	"      --input-format FMT   ndjson (default), csv, tsv, logfmt, clf, combined,\n"
	"                           nginx-timed, apache-timed, zeek, json, regex, auto\n"
	"      --pattern RE         the PCRE2 pattern of --input-format regex: each named\n"
	"                           group a field (ingest(1))\n"
	"      --lenient            access logs: keep lines with a malformed request, their\n"
	"                           request fields null\n"
	"      --entity F           the field that names who did it (default user_id;\n"
	"                           host for access logs)\n"
	"      --dimension F        a field to count values of; repeatable (default page\n"
	"                           and action; path, status, method for access logs)\n"
	"      --metric F           the numeric field (default value; bytes for logs)\n"
	"      --session F          the field naming a session (default session_id)\n"
	"      --session-gap D      cut sessions per entity after D without events\n"
	"                           (default for access logs: 30m)\n"
	"      --date YYYY-MM-DD    report on that calendar day of --tz\n"
	"      --since T            report on events at or after T\n"
	"      --until T            report on events before T\n"
	"      --sections LIST      summary,top,dimensions,matrix,metric,hours,sessions,\n"
	"                           quality (default: all)\n"
	"      --format FMT         text, markdown, json, csv, html (default text, or\n"
	"                           the one -o FILE's extension names)\n"
	"      --compare FILE       add the change from a previous JSON report\n"
	"  -j, --jobs N             read regular files with N worker processes\n"
	"      --top N              rows in top lists (default 10)\n"
	"      --approx             distinct counts and quantiles from sketches\n"
	"      --precision N        reals with N digits after the point in every format\n"
	"                           (0 to 20, half away from zero; default: shortest in\n"
	"                           json and csv, 3 digits in text, markdown, html);\n"
	"                           also --round N\n"
	"      --progress           show progress on stderr even when not a terminal\n"
	"      --no-progress        never show progress\n",
	"Examples:\n"
	"  batch-report --date 2024-03-15 events.ndjson\n"
	"  batch-report --input-format combined --format html -o report.html access.log\n"
	"  batch-report --precision 2 --format csv events.ndjson\n"
	"  batch-report --input-format combined --lenient --sections dimensions access.log\n"
};

/* What a section needs while records are read. */
#define NEED_ENTITIES	0x01
#define NEED_DIMS	0x02
#define NEED_MATRIX	0x04
#define NEED_METRIC	0x08
#define NEED_HOURS	0x10
#define NEED_SESSIONS	0x20
#define NEED_DUPS	0x40

/* The chart drawn above a table in html. */
enum chart { CH_NONE, CH_HOURS, CH_DAYS, CH_BARS, CH_HIST, CH_HEAT };


/* A section of the report: a row of this table (adding a section is adding a row). */
struct section {
	const char	*name;		/* for --sections */
	const char	*title;
	unsigned	 need;
	void		(*build)(json_t *doc);
};

/* A session: its first and last event time and its events. */
struct sess_iv {
	int64_t		first, last;
	uint64_t	n;
};
struct sess_list {
	struct sess_iv	*iv;
	size_t		 n, cap;
};

/* A set of 64-bit hashes, open addressing with 0 as the empty slot (hash 0 is kept aside). */
struct hset {
	uint64_t	*slot;
	size_t		 cap, n;
	bool		 zero;
};

/* Everything one run works with. */
static struct {
	struct cli		 cli;
	enum fmt_kind		 kind;
	struct fmt_opts		 fopts;
	const char		*entity, *metric, *session;
	const char		*dims[MAX_DIMS];
	size_t			 ndims;
	bool			 entity_set, dims_set, metric_set, session_set;
	int64_t			 gap;		/* --session-gap; 0: sessions by the session field */
	int64_t			 since, until;	/* the range, half-open */
	bool			 have_range;
	const char		*date, *tz;
	unsigned		 sections;	/* bit i: sections[i] selected */
	const char		*format;
	const char		*compare, *output;
	uint64_t		 jobs, top;
	int			 precision;	/* --precision, or -1 */
	bool			 approx;
	int			 progress;	/* -1 never, 0 on a terminal, 1 always */
	const char		*worker;	/* -j: in a worker, the file its states go to */

	bool			 merging;	/* -j: reading the workers' states */
	bool			 log;		/* access-log defaults (a worker tells the merger) */
	bool			 ready;		/* fields compiled (at the first record) */
	unsigned		 need;
	struct rec_path		*p_entity, *p_metric, *p_session, *p_dims[MAX_DIMS];
	struct aggs		 a_count, a_dim, a_metric, a_dist;
	struct groups		*g_entities, *g_dims[MAX_DIMS], *g_matrix, *g_metric, *g_metric_by;
	struct groups		*g_hours, *g_hist, *g_dist;
	struct hm		*sessions;	/* session key -> struct sess_list */
	struct hset		 dups;
	struct buf		 key, txt, num;
	struct rec_val		 vals[2];

	uint64_t		 w_rejected, w_blank;	/* -j: the workers' rejected and blank lines */
	uint64_t		 records, events, bad_time, out_of_range, duplicates;
	uint64_t		 missing_entity, missing_metric, missing_session, missing_dims[MAX_DIMS];
	int64_t			 first, last;
	int64_t			 hour_lo, hour_off;	/* the cached hour [hour_lo, hour_lo + 1h) */
	struct gr_group		*hour_group;	/* the group of hour_key (groups never move) */
	int64_t			 hour_key;

	int64_t			 prog_next, prog_start;
	uint64_t		 total_bytes, done_bytes;
	const char		*prog_file;
	json_t			*prev;		/* --compare's report */
	char			**operands;	/* the operands, globs expanded */
	struct hm		*reasons;	/* rejected lines by reason (its text before any detail) */
	struct agg_cols		 cols;		/* the results of the group at hand */
} R;

static void	parse_options(int, char *[]);
static void	check_options(void);
static void	set_range(void);
static void	setup(void);
static void	on_event(void *, struct rec *, const struct in_line *);
static void	on_watermark(void *, int64_t, struct rec *, const struct in_line *);
static bool	on_reject(const struct diag_pos *, const char *, void *);
static void	on_end(void *, bool);
static int	on_after(void *, int);
static void	on_free(void *);
static int	run_jobs(int npaths, char *const *paths);

static char *const	*operands(int n, char *const *argv, int *np);
static int64_t	cli_time_arg(const char *opt, const char *arg);
static unsigned	sections_arg(const char *arg);
static const char *	section_names(void);
static const char *	format_default(void);
static void	set_zone(void);
static int64_t	local_midnight(int y, int m, int d);
static void	aggs_of(struct aggs *a, const char *const *specs, size_t n, const char *field);
static void	set_defaults(void);
static int64_t	hour_of(int64_t t);
static void	one_in(struct groups *g, const struct rec_val *vals);
static void	count_in(struct groups *g, const char *raw, size_t len, const struct rec_val *vals);
static bool	present(struct rec *rec, const struct rec_path *p, struct rec_val *v, uint64_t *missing);
static void	matrix_in(const struct rec_val *a, const struct rec_val *b);
static void	metric_in(const struct rec_val *mv, const struct rec_val *d0);
static int	bucket(double x, char *b);
static void	hour_in(int64_t t);
static void	sess_add(struct sess_list *l, int64_t first, int64_t last, uint64_t n);
static void	session_in(const struct rec_val *k, int64_t t);
static bool	hset_add(struct hset *h, uint64_t x);
static void	dup_check(struct rec *rec);
static void	progress(const struct in_line *ln);
static void	progress_end(void);
static uint64_t	file_size(const char *path);
static json_t *	jv(const char *text, size_t len);
static const struct agg_cols *	result(const struct aggs *a, struct gr_group *g);
static json_t *	col(const struct agg_cols *c, const char *name);
static uint64_t	count_of(const struct aggs *a, struct gr_group *g);
static int	ranked_cmp(const void *x, const void *y);
static struct ranked *	rank(struct groups *t, const struct aggs *a, size_t *n);
static json_t *	share(uint64_t count);
static json_t *	time_json(int64_t t);
static json_t *	quantile_of(double *v, size_t n, double p);
static int	dbl_cmp(const void *x, const void *y);
static json_t *	top_list(struct groups *t, const struct aggs *a, bool with_sum);
static void	metric_stats(json_t *o, struct gr_group *g);
static json_t *	histogram(double min, double max);
static int	hour_cmp(const void *x, const void *y);
static struct hour *	hours_sorted(size_t *n);
static void	hour_row(json_t *hours, json_t *days, int64_t start, uint64_t count);
static size_t	session_count(void);
static void	reasons_json(json_t *o);
static const char	*xstrndup_tmp(const char *s, size_t n);
static double	mean_of(const double *v, size_t n);
static void	jwrite(struct buf *b, json_t *v, int depth);
static void	jcompact(struct buf *b, json_t *v, int depth);
static void	jscalar(struct buf *b, json_t *v);
static void	real_text(struct buf *b, double d, int digits, bool human);
static void	cell(struct tb *t, const char *name, json_t *v, bool exact);
static void	html_text(const char *s);
static struct tb *	table_open(const char *title);
static void	table_row(struct tb *t);
static void	table_close(struct tb *t);
static void	bar(struct tb *t, double n, double max);
static void	kv_rows(struct tb *t, json_t *o, const char *prefix, json_t *cmp);
static void	array_rows(const char *title, json_t *a, bool barred, enum chart ch, const char *xlabel);
static void	chart(enum chart ch, json_t *v, const char *xlabel);
static void	matrix_rows(const char *title, json_t *m);
static void	svg_label(json_t *v, size_t n);
static void	hour_label(json_t *v, size_t n);
static void	svg_columns(json_t *a, const char *key, const char *xlabel, size_t keylen);
static void	svg_bars(json_t *a);
static void	svg_heat(json_t *m);
static bool	has_scalars(json_t *o);
static void	render_part(const char *key, const char *title, json_t *v, json_t *doc);
static void	render(json_t *doc);
static void	header(json_t *range);
static json_t *	range_json(void);
static json_t *	fields_json(void);
static json_t *	build_doc(void);
static json_t *	compare_load(const char *path);
static void	compare_list(json_t *now, json_t *before);
static void	compare(json_t *doc, json_t *prev);
static FILE *	out_open(char **tmp);
static mode_t	current_umask(void);
static void	out_commit(FILE *f, char *tmp);
static void	write_report(void);
static size_t	tables(struct groups **t);
static int	save_states(FILE *f);
static void	save_hashes(struct buf *b, FILE *f);
static void	merge_line(struct rec *rec, const struct in_line *ln);
static void	merge_meta(struct rec *rec);
static void	merge_sessions(struct rec *rec, const struct rec_val *key);
static void	merge_hashes(const struct rec_val *v);
static int	worker(struct jobs *j, int i, void *ctx);
static void	build_summary(json_t *);
static void	build_top(json_t *);
static void	build_dimensions(json_t *);
static void	build_matrix(json_t *);
static void	build_metric(json_t *);
static void	build_hours(json_t *);
static void	build_sessions(json_t *);
static void	build_quality(json_t *);

static const struct section sections[] = {
	{ "summary",	"Summary",		NEED_ENTITIES | NEED_SESSIONS,	build_summary },
	{ "top",	"Top entities",		NEED_ENTITIES,			build_top },
	{ "dimensions",	"Top values",		NEED_DIMS,			build_dimensions },
	{ "matrix",	"Matrix",		NEED_DIMS | NEED_MATRIX,	build_matrix },
	{ "metric",	"Metric",		NEED_METRIC,			build_metric },
	{ "hours",	"Events per hour",	NEED_HOURS,			build_hours },
	{ "sessions",	"Sessions",		NEED_SESSIONS,			build_sessions },
	{ "quality",	"Data quality",		NEED_DUPS,			build_quality },
};
#define nsections	(sizeof(sections) / sizeof(sections[0]))

static const struct run_ops ops = {
	.event = on_event,
	.watermark = on_watermark,
	.end = on_end,
	.after = on_after,
	.free = on_free,
};

int
main(int argc, char *argv[])
{
	struct run_spec spec = { .tool = "batch-report", .cli = &R.cli };

	diag_init("batch-report");
	parse_options(argc, argv);
	check_options();
	R.reasons = hm_new(sizeof(uint64_t));
	diag_on_reject(on_reject, NULL);
	if (R.jobs > 1 && R.worker == NULL) {
		spec.paths = operands(argc - optind, argv + optind, &spec.npaths);
		return run_jobs(spec.npaths, spec.paths);
	}
	spec.paths = operands(argc - optind, argv + optind, &spec.npaths);
	for (int i = 0; i < spec.npaths; i++)
		R.total_bytes += file_size(spec.paths[i]);
	spec.format = R.kind;
	spec.fopts = R.kind == FMT_NDJSON ? NULL : &R.fopts;
	return run_main(&spec, &ops, NULL);
}

/* ---- options ---- */


/* parse_options reads the command line into R; a bad option exits 2. */
static void
parse_options(int argc, char *argv[])
{
	int c;

	cli_init(&R.cli);
	R.top = 10;
	R.jobs = 1;
	R.precision = -1;
	R.tz = "UTC";
	R.since = TV_MIN;
	R.until = TV_MAX;
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS "j:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':		/* -o FILE: written atomically at the end, so not cli's */
			R.output = optarg;
			break;
		case OPT_INPUT_FORMAT:	/* --input-format NAME: read through lib/source */
			if (fmt_by_name(optarg, &R.kind) != 0)
				diag_usage_error("--input-format: unknown format '%s' (%s)", optarg, fmt_names());
			break;
		case OPT_PATTERN:	/* --pattern RE: the pattern of --input-format regex */
			R.fopts.pattern = optarg;
			break;
		case OPT_LENIENT:	/* --lenient: keep access-log lines with a malformed request */
			R.fopts.lenient = true;
			break;
		case OPT_ENTITY:	R.entity = optarg; R.entity_set = true; break;
		case OPT_METRIC:	R.metric = optarg; R.metric_set = true; break;
		case OPT_SESSION:	R.session = optarg; R.session_set = true; break;
		case OPT_DIMENSION:	/* --dimension F: repeatable */
			if (R.ndims == MAX_DIMS)
				diag_usage_error("--dimension: at most %d dimensions", MAX_DIMS);
			R.dims[R.ndims++] = optarg;
			R.dims_set = true;
			break;
		case OPT_SESSION_GAP:	R.gap = cli_duration("--session-gap", optarg, CLI_DUR_POSITIVE); break;
		case OPT_DATE:		R.date = optarg; break;
		case OPT_SINCE:		R.since = cli_time_arg("--since", optarg); R.have_range = true; break;
		case OPT_UNTIL:		R.until = cli_time_arg("--until", optarg); R.have_range = true; break;
		case CLI_TZ:		/* the shared --tz (lib/cli): naive times, and the zone of days and hours */
			cli_common(&R.cli, c, optarg, &help);
			R.tz = optarg;
			break;
		case OPT_SECTIONS:	R.sections = sections_arg(optarg); break;
		case OPT_FORMAT:	R.format = optarg; break;
		case OPT_COMPARE:	R.compare = optarg; break;
		case 'j':		R.jobs = cli_uint("--jobs", optarg, 1, 64); break;
		case OPT_TOP:		R.top = cli_uint("--top", optarg, 1, 1000000); break;
		case OPT_APPROX:	R.approx = true; break;
		case OPT_PRECISION:	R.precision = (int)cli_uint("--precision", optarg, 0, 20); break;
		case OPT_ROUND:		R.precision = (int)cli_uint("--round", optarg, 0, 20); break;
		case OPT_PROGRESS:	R.progress = 1; break;
		case OPT_NO_PROGRESS:	R.progress = -1; break;
		default:
			if (!cli_common(&R.cli, c, optarg, &help))
				diag_usage_error("unknown option");
		}
	}
}

/*
 * operands expands an operand that names no file but holds a shell
 * wildcard (a glob quoted for cron, "logs/2024-03-15*.gz") into the
 * files it matches, in order; everything else is kept as given, so a
 * missing file is still reported by name.
 */
static char *const *
operands(int n, char *const *argv, int *np)
{
	char **out = xcalloc((size_t)n + 1, sizeof(*out));
	size_t k = 0, cap = (size_t)n + 1, j;
	struct stat st;
	glob_t g;
	int i;

	for (i = 0; i < n; i++) {
		if (strpbrk(argv[i], "*?[") == NULL || stat(argv[i], &st) == 0 ||
		    glob(argv[i], 0, NULL, &g) != 0) {
			out[k++] = argv[i];
			continue;
		}
		if (k + g.gl_pathc + (size_t)(n - i) > cap) {
			cap = k + g.gl_pathc + (size_t)(n - i);
			out = xrealloc(out, cap * sizeof(*out));
		}
		for (j = 0; j < g.gl_pathc; j++)
			out[k++] = xstrdup(g.gl_pathv[j]);
		globfree(&g);
	}
	*np = (int)k;
	R.operands = out;	/* kept for the run */
	return out;
}

/* cli_time_arg reads --since or --until: any time tv_parse reads (a naive time is UTC). */
static int64_t
cli_time_arg(const char *opt, const char *arg)
{
	static const struct tv_format any = { TV_AUTO, NULL };
	const char *why = "bad time";
	int64_t t;

	if (tv_parse(&any, arg, strlen(arg), &t, &why) != 0)
		diag_usage_error("%s: %s: %s", opt, why, arg);
	return t;
}

/* sections_arg reads --sections a,b: a bit per row of the section table. */
static unsigned
sections_arg(const char *arg)
{
	const char *p = arg, *e;
	unsigned bits = 0;
	size_t i, n;

	for (;;) {
		e = strchr(p, ',');
		n = e ? (size_t)(e - p) : strlen(p);
		for (i = 0; i < nsections; i++)
			if (strlen(sections[i].name) == n && memcmp(sections[i].name, p, n) == 0)
				break;
		if (i == nsections)
			diag_usage_error("--sections: unknown section '%.*s' (%s)", (int)n, p, section_names());
		bits |= 1u << i;
		if (e == NULL)
			return bits;
		p = e + 1;
	}
}

/* section_names lists the sections for messages. */
static const char *
section_names(void)
{
	static char names[256];
	size_t i;

	if (names[0] == '\0')
		for (i = 0; i < nsections; i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			    i ? ", " : "", sections[i].name);
	return names;
}

/* format_default picks the format -o FILE's extension names, else text. */
static const char *
format_default(void)
{
	static const char *const ext[][2] = {
		{ ".json", "json" }, { ".html", "html" }, { ".htm", "html" },
		{ ".md", "markdown" }, { ".csv", "csv" },
	};
	size_t i, n, m;

	for (i = 0; R.output != NULL && i < sizeof(ext) / sizeof(ext[0]); i++) {
		n = strlen(R.output);
		m = strlen(ext[i][0]);
		if (n > m && strcmp(R.output + n - m, ext[i][0]) == 0)
			return ext[i][1];
	}
	return "text";
}

/* check_options checks what the options mean together, sets the zone and the range, and reads --compare. */
static void
check_options(void)
{
	static const char *const formats[] = { "text", "markdown", "json", "csv", "html" };
	char why[256];
	size_t i;

	if (R.fopts.pattern != NULL && R.kind != FMT_REGEX)
		diag_usage_error("--pattern: only with --input-format regex");
	if (fmt_check(R.kind, &R.fopts, why, sizeof why) != 0)
		diag_usage_error("%s", why[0] == '-' && strncmp(why, "--format", 8) == 0 ?
		    "--input-format regex needs --pattern" : why);

	if (R.format == NULL)
		R.format = format_default();
	for (i = 0; i < 5 && strcmp(R.format, formats[i]) != 0; i++)
		;
	if (i == 5)
		diag_usage_error("--format: unknown format '%s' (text, markdown, json, csv, html)", R.format);
	if (R.sections == 0)
		R.sections = (1u << nsections) - 1;
	if (R.progress == 0)
		R.progress = isatty(2) ? 1 : -1;
	set_zone();
	set_range();
	if (R.compare != NULL)
		R.prev = compare_load(R.compare);
}

/* set_zone makes --tz the zone of localtime_r; an unknown zone exits 2 (glibc would quietly use UTC). */
static void
set_zone(void)
{
	const char *dir = getenv("TZDIR");
	char path[4096];

	if (strcmp(R.tz, "UTC") != 0) {
		snprintf(path, sizeof(path), "%s/%s", dir ? dir : "/usr/share/zoneinfo", R.tz);
		if (R.tz[0] == '\0' || R.tz[0] == '/' || strstr(R.tz, "..") != NULL || access(path, R_OK) != 0)
			diag_usage_error("--tz: unknown time zone '%s'", R.tz);
	}
	if (setenv("TZ", R.tz, 1) != 0)
		diag_die(EX_IOERR, "--tz: %s", strerror(errno));
	tzset();
	R.hour_lo = TV_MAX;
}

/* local_midnight returns the start of the local day y-m-d (mktime normalises the day). */
static int64_t
local_midnight(int y, int m, int d)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * TV_US_PER_S;
}

/* set_range turns --date or --since/--until into [R.since, R.until). */
static void
set_range(void)
{
	int y, m, d, n = 0;

	if (R.date != NULL) {
		if (R.have_range)
			diag_usage_error("--date cannot be combined with --since or --until");
		if (sscanf(R.date, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
		    R.date[n] != '\0' || m < 1 || m > 12 || d < 1 || d > 31)
			diag_usage_error("--date: not a date YYYY-MM-DD: %s", R.date);
		R.since = local_midnight(y, m, d);
		R.until = local_midnight(y, m, d + 1);
		R.have_range = true;
		return;
	}
	if (R.have_range && R.since >= R.until)
		diag_usage_error("--since must be before --until");
}

/* ---- reading ---- */

/* aggs_of builds an aggregate set from specs, "%s" standing for the metric field. */
static void
aggs_of(struct aggs *a, const char *const *specs, size_t n, const char *field)
{
	char spec[1024], why[256];
	size_t i;

	aggs_init(a);
	for (i = 0; i < n; i++) {
		snprintf(spec, sizeof(spec), specs[i], field);
		if (aggs_add(a, spec, why, sizeof(why)) != 0)
			diag_usage_error("%s", why);
	}
	aggs_finish(a, R.approx);
}

/* set_defaults fills the fields not given: access-log names for access logs, web-event names otherwise. */
static void
set_defaults(void)
{
	enum fmt_kind k = R.kind;
	bool log;

	if (k == FMT_AUTO && run_source() != NULL)
		k = src_kind(run_source());
	log = fmt_is_access_log(k) || R.log;
	R.log = log;
	if (!R.entity_set)
		R.entity = log ? "host" : "user_id";
	if (!R.metric_set)
		R.metric = log ? "bytes" : "value";
	if (!R.dims_set) {
		R.ndims = 0;
		R.dims[R.ndims++] = log ? "path" : "page";
		R.dims[R.ndims++] = log ? "status" : "action";
		if (log)
			R.dims[R.ndims++] = "method";
	}
	if (!R.session_set)
		R.session = "session_id";
	if (log && !R.session_set && R.gap == 0)
		R.gap = 30 * 60 * TV_US_PER_S;
}

/* setup compiles the fields and makes the group tables the selected sections need (at the first record). */
static void
setup(void)
{
	static const char *const count[] = { "count" };
	static const char *const dim[] = { "count", "sum:%s=sum" };
	static const char *const metric[] = { "count:%s=count", "sum:%s=sum", "mean:%s=mean",
	    "min:%s=min", "max:%s=max", "stddev:%s=stddev", "p50:%s=p50", "p90:%s=p90", "p99:%s=p99" };
	static const char *const dist[] = { "distinct:%s=entities" };
	static const char *const value[] = { "value" }, *const hour[] = { "hour" };
	static const char *const bucket[] = { "bucket" }, *const cell[] = { "row", "column" };
	size_t i;

	if (R.ready)
		return;
	R.ready = true;
	set_defaults();
	for (i = 0; i < nsections; i++)
		if (R.sections & (1u << i))
			R.need |= sections[i].need;
	R.p_entity = cli_path("--entity", R.entity);
	R.p_metric = cli_path("--metric", R.metric);
	R.p_session = cli_path("--session", R.session);
	for (i = 0; i < R.ndims; i++)
		R.p_dims[i] = cli_path("--dimension", R.dims[i]);
	aggs_of(&R.a_count, count, 1, "");
	aggs_of(&R.a_dim, dim, 2, R.metric);
	aggs_of(&R.a_metric, metric, 9, R.metric);
	aggs_of(&R.a_dist, dist, 1, R.entity);
	R.g_entities = gr_new(&R.a_count, value, 1);
	for (i = 0; i < R.ndims; i++)
		R.g_dims[i] = gr_new(&R.a_dim, value, 1);
	R.g_matrix = gr_new(&R.a_count, cell, 2);
	R.g_metric = gr_new(&R.a_metric, NULL, 0);
	R.g_metric_by = gr_new(&R.a_metric, value, 1);
	R.g_hours = gr_new(&R.a_count, hour, 1);
	R.g_hist = gr_new(&R.a_count, bucket, 1);
	R.g_dist = gr_new(&R.a_dist, NULL, 0);
	R.sessions = hm_new(sizeof(struct sess_list));
	R.first = TV_MAX;
	R.last = TV_MIN;
}

/* hour_of returns the start of t's hour in --tz (cached: events come mostly in order). */
static int64_t
hour_of(int64_t t)
{
	struct tm tm;
	time_t s;
	int64_t local;

	if (t >= R.hour_lo && t - R.hour_lo < HOUR_US)
		return R.hour_lo;
	s = (time_t)tv_floor_div(t, TV_US_PER_S);
	localtime_r(&s, &tm);
	local = t + (int64_t)tm.tm_gmtoff * TV_US_PER_S;
	R.hour_lo = t - (local - tv_floor_div(local, HOUR_US) * HOUR_US);
	return R.hour_lo;
}

/* one_in folds one record into the one group of a table without group columns (its key is empty). */
static void
one_in(struct groups *g, const struct rec_val *vals)
{
	gr_update(g, gr_get(g, "", 0, NULL), vals);
}

/* count_in folds one record into the group named by one value (a count table, or a dimension's). */
static void
count_in(struct groups *g, const char *raw, size_t len, const struct rec_val *vals)
{
	gr_key_reset(&R.key);
	gr_key_add(&R.key, raw, len);
	gr_update(g, gr_get(g, R.key.p, R.key.len, NULL), vals);
}

/*
 * on_reject counts a rejected line under its reason without the detail:
 * the text before the first ':' and before " at column".
 */
static bool
on_reject(const struct diag_pos *pos, const char *reason, void *arg)
{
	size_t n = strcspn(reason, ":");
	const char *col = strstr(reason, " at column ");

	if (col != NULL && (size_t)(col - reason) < n)
		n = (size_t)(col - reason);
	(*(uint64_t *)hm_put(R.reasons, reason, n, NULL))++;
	return true;
}

/* on_watermark: a report is made at the end of its input, so a watermark says nothing to it (and is not output). */
static void
on_watermark(void *ctx, int64_t t, struct rec *rec, const struct in_line *ln)
{
}

/* on_event folds one record into every table the selected sections need. */
static void
on_event(void *ctx, struct rec *rec, const struct in_line *ln)
{
	struct rec_val ev, mv, sv, dv[MAX_DIMS];
	const char *why;
	size_t i;
	int64_t t;

	if (R.merging) {
		merge_line(rec, ln);
		return;
	}
	setup();
	R.records++;
	progress(ln);
	if (cli_time(&R.cli, rec, &t, &why) != 0) {
		R.bad_time++;
		diag_reject(&ln->pos, ln->data, ln->len, "%s", why);
		return;
	}
	if (t < R.since || t >= R.until) {
		R.out_of_range++;
		return;
	}
	R.events++;
	if (t < R.first)
		R.first = t;
	if (t > R.last)
		R.last = t;
	if (R.need & NEED_DUPS)
		dup_check(rec);
	if (present(rec, R.p_entity, &ev, &R.missing_entity) && (R.need & NEED_ENTITIES)) {
		count_in(R.g_entities, ev.raw, ev.rawlen, NULL);
		if (R.approx)
			one_in(R.g_dist, &ev);
	}
	present(rec, R.p_metric, &mv, &R.missing_metric);
	for (i = 0; i < R.ndims; i++)
		if (present(rec, R.p_dims[i], &dv[i], &R.missing_dims[i]) && (R.need & NEED_DIMS))
			count_in(R.g_dims[i], dv[i].raw, dv[i].rawlen, &mv);
	if ((R.need & NEED_MATRIX) && R.ndims >= 2 && dv[0].type > RT_NULL && dv[1].type > RT_NULL)
		matrix_in(&dv[0], &dv[1]);
	if (R.need & NEED_METRIC)
		metric_in(&mv, R.ndims ? &dv[0] : NULL);
	if (R.need & NEED_HOURS)
		hour_in(t);
	if (!R.gap && !present(rec, R.p_session, &sv, &R.missing_session))
		sv.type = RT_MISSING;
	if (R.need & NEED_SESSIONS)
		session_in(R.gap ? &ev : &sv, t);
}

/* present gets a field; a missing or null value counts in *missing and returns false. */
static bool
present(struct rec *rec, const struct rec_path *p, struct rec_val *v, uint64_t *missing)
{
	if (rec_get(rec, p, v) > RT_NULL)
		return true;
	(*missing)++;
	v->type = RT_MISSING;
	return false;
}

static void
matrix_in(const struct rec_val *a, const struct rec_val *b)
{
	gr_key_reset(&R.key);
	gr_key_add(&R.key, a->raw, a->rawlen);
	gr_key_add(&R.key, b->raw, b->rawlen);
	gr_update(R.g_matrix, gr_get(R.g_matrix, R.key.p, R.key.len, NULL), NULL);
}

/*
 * metric_in folds the metric into the overall statistics, those of the
 * first dimension's value, and the histogram's bucket: the value to three
 * significant digits.
 */
static void
metric_in(const struct rec_val *mv, const struct rec_val *d0)
{
	struct agg_val av;
	char b[48];
	int n;

	one_in(R.g_metric, mv);
	if (d0 != NULL && d0->type > RT_NULL)
		count_in(R.g_metric_by, d0->raw, d0->rawlen, mv);
	if (agg_number(mv, &av) != 1 || !isfinite(av.d))
		return;
	n = bucket(av.d, b);
	count_in(R.g_hist, b, (size_t)n, NULL);
}

/*
 * bucket writes x to three significant digits, truncated, as a JSON
 * number "MMMeE" (123e-1 for 12.34): no printf on the record path.
 */
static int
bucket(double x, char *b)
{
	int e, n = 0, m, k;
	char d[8];
	double a = fabs(x);

	if (a < 1e-300) {
		b[0] = '0';
		return 1;
	}
	e = (int)floor(log10(a)) - 2;
	m = (int)(a / pow(10, e));
	if (m >= 1000)
		m /= 10, e++;
	if (m < 100)
		m *= 10, e--;
	if (x < 0)
		b[n++] = '-';
	b[n++] = (char)('0' + m / 100);
	b[n++] = (char)('0' + m / 10 % 10);
	b[n++] = (char)('0' + m % 10);
	b[n++] = 'e';
	if (e < 0)
		b[n++] = '-', e = -e;
	k = 0;
	do
		d[k++] = (char)('0' + e % 10);
	while ((e /= 10) > 0);
	while (k > 0)
		b[n++] = d[--k];
	return n;
}

/* hour_in counts an event in its hour; the last hour's group is kept, since events come mostly in order. */
static void
hour_in(int64_t t)
{
	char b[32];
	int n;
	int64_t h = hour_of(t);

	if (R.hour_group == NULL || h != R.hour_key) {
		n = snprintf(b, sizeof(b), "%lld", (long long)h);
		gr_key_reset(&R.key);
		gr_key_add(&R.key, b, (size_t)n);
		R.hour_group = gr_get(R.g_hours, R.key.p, R.key.len, NULL);
		R.hour_key = h;
	}
	gr_update(R.g_hours, R.hour_group, NULL);
}

/* ---- sessions: window's session rule, per key ---- */

/*
 * sess_add puts an event at t (or a whole session [first, last] of n
 * events) into the sorted, disjoint sessions of one key.  Sessions closer
 * than the gap merge: an event exactly the gap after the last one stays
 * in its session, as with window --session.  Without a gap (sessions by
 * the session field) a key is one session.
 */
static void
sess_add(struct sess_list *l, int64_t first, int64_t last, uint64_t n)
{
	int64_t gap = R.gap ? R.gap : TV_MAX / 4;
	size_t lo, hi, i;
	struct sess_iv m = { first, last, n };

	/* [lo, hi): the sessions the new one touches (scanned from the end: input is mostly in order). */
	for (hi = l->n; hi > 0 && l->iv[hi - 1].first - gap > last; hi--)
		;
	for (lo = hi; lo > 0 && l->iv[lo - 1].last + gap >= first; lo--)
		;
	for (i = lo; i < hi; i++) {
		if (l->iv[i].first < m.first)
			m.first = l->iv[i].first;
		if (l->iv[i].last > m.last)
			m.last = l->iv[i].last;
		m.n += l->iv[i].n;
	}
	if (lo == hi) {
		if (l->n == l->cap) {
			l->cap = l->cap ? 2 * l->cap : 2;
			l->iv = xrealloc(l->iv, l->cap * sizeof(*l->iv));
		}
		memmove(l->iv + lo + 1, l->iv + lo, (l->n - lo) * sizeof(*l->iv));
		l->n++;
	} else {
		memmove(l->iv + lo + 1, l->iv + hi, (l->n - hi) * sizeof(*l->iv));
		l->n -= hi - lo - 1;
	}
	l->iv[lo] = m;
}

/* session_in adds an event to its session: the key is the session field's value, or the entity's with a gap. */
static void
session_in(const struct rec_val *k, int64_t t)
{
	if (k->type <= RT_NULL)
		return;
	sess_add(hm_put(R.sessions, k->raw, k->rawlen, NULL), t, t, 1);
}

/* ---- exact duplicates: a set of the records' 64-bit hashes ---- */

static bool
hset_add(struct hset *h, uint64_t x)
{
	size_t i, mask;
	uint64_t *old;
	size_t oldcap;

	if (x == 0) {
		bool had = h->zero;
		h->zero = true;
		return !had;
	}
	if (2 * (h->n + 1) > h->cap) {
		old = h->slot;
		oldcap = h->cap;
		h->cap = h->cap ? 2 * h->cap : 1024;
		h->slot = xcalloc(h->cap, sizeof(*h->slot));
		h->n = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i])
				hset_add(h, old[i]);
		free(old);
	}
	mask = h->cap - 1;
	for (i = (size_t)x & mask; h->slot[i] != 0; i = (i + 1) & mask)
		if (h->slot[i] == x)
			return false;
	h->slot[i] = x;
	h->n++;
	return true;
}

/* dup_check counts a record whose bytes were seen before (a 64-bit hash: collisions are negligible at these sizes). */
static void
dup_check(struct rec *rec)
{
	size_t len;
	const char *line = rec_line(rec, &len);

	if (!hset_add(&R.dups, hm_hash(line, len)))
		R.duplicates++;
}

/* progress writes a line on stderr now and then: bytes read, records a second, share of the total. */
static void
progress(const struct in_line *ln)
{
	int64_t now;
	double secs;

	if (R.progress < 0 || (R.records & 4095) != 1)
		return;
	now = tv_now();
	if (R.prog_start == 0) {
		R.prog_start = now;
		R.prog_next = now + 200000;
		return;
	}
	if (now < R.prog_next)
		return;
	R.prog_next = now + 250000;
	if (R.prog_file != ln->pos.file) {
		if (R.prog_file != NULL)
			R.done_bytes += file_size(R.prog_file);
		R.prog_file = ln->pos.file;
	}
	secs = (double)(now - R.prog_start) / 1e6;
	fprintf(stderr, "\rbatch-report: %.1f MB, %.0f records/s",
	    (double)(R.done_bytes + ln->pos.offset) / 1e6, (double)R.records / secs);
	if (R.total_bytes)
		fprintf(stderr, ", %.0f%%", 100.0 * (double)(R.done_bytes + ln->pos.offset) / (double)R.total_bytes);
	fprintf(stderr, "\033[K");
}

/* progress_end leaves the last progress line: what was read, how fast. */
static void
progress_end(void)
{
	double secs = R.prog_start ? (double)(tv_now() - R.prog_start) / 1e6 : 0;

	fprintf(stderr, "\rbatch-report: %llu records, %.1f MB in %.2f s\033[K\n", (unsigned long long)R.records,
	    (double)R.total_bytes / 1e6, secs);
}

/* file_size returns the size of a regular file, or 0. */
static uint64_t
file_size(const char *path)
{
	struct stat st;

	if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	return (uint64_t)st.st_size;
}

/* ---- the report document ---- */

/* A group with its count and first value, for top lists. */
struct ranked {
	struct gr_group	*g;
	uint64_t	 count;
	const char	*v;
	size_t		 vlen;
};

/* jv parses one JSON value written by the aggregate functions or read from a record. */
static json_t *
jv(const char *text, size_t len)
{
	json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

	return v != NULL ? v : json_null();
}

/* result computes a group's results into cols. */
static const struct agg_cols *
result(const struct aggs *a, struct gr_group *g)
{
	agg_cols_reset(&R.cols);
	aggs_result(a, gr_block(g), &R.cols);
	return &R.cols;
}

/* col returns the result named name as a new JSON value (null when absent). */
static json_t *
col(const struct agg_cols *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->name[i], name) == 0)
			return jv(c->b.p + c->start[i], c->len[i]);
	return json_null();
}

static uint64_t
count_of(const struct aggs *a, struct gr_group *g)
{
	const struct agg_cols *c = result(a, g);
	char b[32];
	size_t n = c->len[0] < sizeof(b) - 1 ? c->len[0] : sizeof(b) - 1;

	memcpy(b, c->b.p + c->start[0], n);
	b[n] = '\0';
	return strtoull(b, NULL, 10);
}

static int
ranked_cmp(const void *x, const void *y)
{
	const struct ranked *a = x, *b = y;
	size_t n = a->vlen < b->vlen ? a->vlen : b->vlen;
	int r;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if ((r = memcmp(a->v, b->v, n)) != 0)
		return r;
	return (a->vlen > b->vlen) - (a->vlen < b->vlen);
}

/* rank returns a table's groups by count, descending, ties by value (malloc'd, *n of them). */
static struct ranked *
rank(struct groups *t, const struct aggs *a, size_t *n)
{
	struct gr_group **g = gr_list(t, n);
	struct ranked *r = xcalloc(*n ? *n : 1, sizeof(*r));
	size_t i;

	for (i = 0; i < *n; i++) {
		r[i].g = g[i];
		r[i].count = count_of(a, g[i]);
		r[i].vlen = gr_value(g[i], 0, &r[i].v);
	}
	qsort(r, *n, sizeof(*r), ranked_cmp);
	return r;
}

/* share is count / events, or null with no events. */
static json_t *
share(uint64_t count)
{
	return R.events ? json_real((double)count / (double)R.events) : json_null();
}

/* time_json writes an instant as RFC 3339: UTC as "Z", another --tz with its offset. */
static json_t *
time_json(int64_t t)
{
	char b[64];
	struct tm tm;
	time_t s;
	long off;

	if (strcmp(R.tz, "UTC") == 0) {
		tv_format_rfc3339(t, b);
		return json_string(b);
	}
	s = (time_t)tv_floor_div(t, TV_US_PER_S);
	localtime_r(&s, &tm);
	off = tm.tm_gmtoff / 60;
	strftime(b, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(b + strlen(b), sizeof(b) - strlen(b), "%c%02ld:%02ld",
	    off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
	return json_string(b);
}

/* quantile_of returns the R-7 quantile of n values (sorted here), or null. */
static json_t *
quantile_of(double *v, size_t n, double p)
{
	if (n == 0)
		return json_null();
	return json_real(agg_quantile(v, n, p));
}

static int
dbl_cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

static void
build_summary(json_t *doc)
{
	json_t *s = json_object();
	struct gr_group **g;
	double *c, sum = 0, max = 0;
	size_t n, i;

	g = gr_list(R.g_entities, &n);
	c = xmalloc((n ? n : 1) * sizeof(*c));
	for (i = 0; i < n; i++) {
		c[i] = (double)count_of(&R.a_count, g[i]);
		sum += c[i];
		if (c[i] > max)
			max = c[i];
	}
	qsort(c, n, sizeof(*c), dbl_cmp);
	json_object_set_new(s, "events", json_integer((json_int_t)R.events));
	if (R.approx && gr_count(R.g_dist) > 0)
		json_object_set_new(s, "entities", col(result(&R.a_dist, gr_list(R.g_dist, &i)[0]), "entities"));
	else
		json_object_set_new(s, "entities", json_integer((json_int_t)n));
	json_object_set_new(s, "events_per_entity_mean", n ? json_real(sum / (double)n) : json_null());
	json_object_set_new(s, "events_per_entity_median", quantile_of(c, n, 0.5));
	json_object_set_new(s, "events_per_entity_max", n ? json_integer((json_int_t)max) : json_null());
	json_object_set_new(s, "sessions", json_integer((json_int_t)session_count()));
	json_object_set_new(s, "first", R.events ? time_json(R.first) : json_null());
	json_object_set_new(s, "last", R.events ? time_json(R.last) : json_null());
	if (R.events == 0)
		json_object_set_new(s, "note", json_string("no events"));
	else if (R.missing_entity == R.events)
		json_object_set_new(s, "note", json_sprintf("field '%s' is missing in every record", R.entity));
	json_object_set_new(doc, "summary", s);
	free(c);
}

/* top_list makes [{value, count, share[, sum]}] of a table's top --top groups. */
static json_t *
top_list(struct groups *t, const struct aggs *a, bool with_sum)
{
	json_t *arr = json_array(), *o;
	struct ranked *r;
	size_t n, i;

	r = rank(t, a, &n);
	for (i = 0; i < n && i < R.top; i++) {
		o = json_object();
		json_object_set_new(o, "value", jv(r[i].v, r[i].vlen));
		json_object_set_new(o, "count", json_integer((json_int_t)r[i].count));
		json_object_set_new(o, "share", share(r[i].count));
		if (with_sum)
			json_object_set_new(o, "sum", col(result(a, r[i].g), "sum"));
		json_array_append_new(arr, o);
	}
	free(r);
	return arr;
}

static void
build_top(json_t *doc)
{
	json_object_set_new(doc, "top_entities", top_list(R.g_entities, &R.a_count, false));
}

static void
build_dimensions(json_t *doc)
{
	json_t *d = json_object();
	size_t i;

	for (i = 0; i < R.ndims; i++)
		json_object_set_new(d, R.dims[i], top_list(R.g_dims[i], &R.a_dim, true));
	json_object_set_new(doc, "dimensions", d);
}

/* build_matrix: the first two dimensions' top values crossed, counts in a row per first-dimension value. */
static void
build_matrix(json_t *doc)
{
	json_t *m = json_object(), *rows = json_array(), *cs = json_array(), *counts = json_array(), *line;
	struct ranked *a, *b;
	struct gr_group *g;
	size_t na, nb, i, j;

	if (R.ndims < 2) {
		json_object_set_new(m, "note", json_string("needs two dimensions"));
		json_object_set_new(doc, "matrix", m);
		json_decref(rows), json_decref(cs), json_decref(counts);
		return;
	}
	a = rank(R.g_dims[0], &R.a_dim, &na);
	b = rank(R.g_dims[1], &R.a_dim, &nb);
	na = na < R.top ? na : R.top;
	nb = nb < R.top ? nb : R.top;
	for (j = 0; j < nb; j++)
		json_array_append_new(cs, jv(b[j].v, b[j].vlen));
	for (i = 0; i < na; i++) {
		json_array_append_new(rows, jv(a[i].v, a[i].vlen));
		line = json_array();
		for (j = 0; j < nb; j++) {
			gr_key_reset(&R.key);
			gr_key_add(&R.key, a[i].v, a[i].vlen);
			gr_key_add(&R.key, b[j].v, b[j].vlen);
			g = gr_find(R.g_matrix, R.key.p, R.key.len);
			json_array_append_new(line, json_integer(g ? (json_int_t)count_of(&R.a_count, g) : 0));
		}
		json_array_append_new(counts, line);
	}
	json_object_set_new(m, "rows", json_string(R.dims[0]));
	json_object_set_new(m, "columns", json_string(R.dims[1]));
	json_object_set_new(m, "row_values", rows);
	json_object_set_new(m, "column_values", cs);
	json_object_set_new(m, "counts", counts);
	json_object_set_new(doc, "matrix", m);
	free(a);
	free(b);
}

/* metric_stats puts the metric results of a group into o. */
static void
metric_stats(json_t *o, struct gr_group *g)
{
	static const char *const names[] = { "count", "sum", "mean", "min", "max", "stddev", "p50", "p90", "p99" };
	const struct agg_cols *c = result(&R.a_metric, g);
	size_t i;

	for (i = 0; i < 9; i++)
		json_object_set_new(o, names[i], col(c, names[i]));
}

/* histogram: 20 equal bins from min to max, counted from the three-digit buckets. */
static json_t *
histogram(double min, double max)
{
	json_t *h = json_array(), *o;
	uint64_t bins[20] = { 0 };
	struct gr_group **g;
	const char *v;
	double w = (max - min) / 20, x;
	size_t n, i, k;

	g = gr_list(R.g_hist, &n);
	for (i = 0; i < n; i++) {
		gr_value(g[i], 0, &v);
		x = strtod(v, NULL);
		k = w > 0 ? (size_t)((x - min) / w) : 0;
		bins[k >= 20 ? 19 : k] += count_of(&R.a_count, g[i]);
	}
	for (k = 0; k < (w > 0 ? 20u : 1u); k++) {
		o = json_object();
		json_object_set_new(o, "from", json_real(min + w * (double)k));
		json_object_set_new(o, "to", json_real(w > 0 ? min + w * (double)(k + 1) : max));
		json_object_set_new(o, "count", json_integer((json_int_t)bins[k]));
		json_array_append_new(h, o);
	}
	return h;
}

static void
build_metric(json_t *doc)
{
	json_t *m = json_object(), *by = json_array(), *o;
	struct ranked *r;
	size_t n, i;

	json_object_set_new(m, "field", json_string(R.metric));
	metric_stats(m, gr_get(R.g_metric, "", 0, NULL));
	r = rank(R.g_metric_by, &R.a_metric, &n);
	for (i = 0; i < n && i < R.top; i++) {
		o = json_object();
		json_object_set_new(o, "value", jv(r[i].v, r[i].vlen));
		metric_stats(o, r[i].g);
		json_array_append_new(by, o);
	}
	free(r);
	if (R.ndims)
		json_object_set_new(m, "by_field", json_string(R.dims[0]));
	json_object_set_new(m, "by", by);
	if (json_integer_value(json_object_get(m, "count")) == 0)
		json_object_set_new(m, "note", json_sprintf("no numeric values of field '%s'", R.metric));
	else
		json_object_set_new(m, "histogram", histogram(json_number_value(json_object_get(m, "min")),
		    json_number_value(json_object_get(m, "max"))));
	json_object_set_new(doc, "metric", m);
}

struct hour {
	int64_t		start;
	uint64_t	count;
};

static int
hour_cmp(const void *x, const void *y)
{
	const struct hour *a = x, *b = y;

	return (a->start > b->start) - (a->start < b->start);
}

/* hours_sorted returns the non-empty hours in order (malloc'd). */
static struct hour *
hours_sorted(size_t *n)
{
	struct gr_group **g = gr_list(R.g_hours, n);
	struct hour *h = xcalloc(*n ? *n : 1, sizeof(*h));
	const char *v;
	size_t i;

	for (i = 0; i < *n; i++) {
		gr_value(g[i], 0, &v);
		h[i].start = strtoll(v, NULL, 10);
		h[i].count = count_of(&R.a_count, g[i]);
	}
	qsort(h, *n, sizeof(*h), hour_cmp);
	return h;
}

/* hour_row appends {hour, count} and adds the count to its local day's row. */
static void
hour_row(json_t *hours, json_t *days, int64_t start, uint64_t count)
{
	json_t *o = json_object(), *last;
	char day[16];
	struct tm tm;
	time_t s = (time_t)tv_floor_div(start, TV_US_PER_S);

	json_object_set_new(o, "hour", time_json(start));
	json_object_set_new(o, "count", json_integer((json_int_t)count));
	json_array_append_new(hours, o);
	localtime_r(&s, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	last = json_array_get(days, json_array_size(days) - 1);
	if (last == NULL || strcmp(json_string_value(json_object_get(last, "day")), day) != 0) {
		last = json_object();
		json_object_set_new(last, "day", json_string(day));
		json_object_set_new(last, "count", json_integer(0));
		json_array_append_new(days, last);
	}
	json_object_set_new(last, "count",
	    json_integer(json_integer_value(json_object_get(last, "count")) + (json_int_t)count));
}

/*
 * build_hours: every hour of the range in --tz, empty ones too (a DST
 * day has 23 or 25), or of the first to the last event without a range;
 * only the non-empty ones past MAX_FILL_HOURS.
 */
static void
build_hours(json_t *doc)
{
	json_t *hours = json_array(), *days = json_array();
	struct hour *h;
	size_t n, i = 0;
	int64_t lo, hi, t;

	h = hours_sorted(&n);
	lo = R.since != TV_MIN ? hour_of(R.since) : n ? h[0].start : 0;
	hi = R.until != TV_MAX ? R.until : n ? h[n - 1].start + 1 : 0;
	if ((R.since == TV_MIN && n == 0) || (hi - lo) / HOUR_US > MAX_FILL_HOURS) {
		for (i = 0; i < n; i++)
			hour_row(hours, days, h[i].start, h[i].count);
	} else {
		for (t = lo; t < hi; t = hour_of(t + HOUR_US)) {
			while (i < n && h[i].start < t)
				i++;
			hour_row(hours, days, t, i < n && h[i].start == t ? h[i].count : 0);
		}
	}
	json_object_set_new(doc, "per_hour", hours);
	if (json_array_size(days) > 1)
		json_object_set_new(doc, "per_day", days);
	else
		json_decref(days);
	free(h);
}

static size_t
session_count(void)
{
	struct sess_list *l;
	hm_iter it;
	size_t n = 0;

	for (l = hm_first(R.sessions, &it); l; l = hm_next(R.sessions, &it))
		n += l->n;
	return n;
}

static void
build_sessions(json_t *doc)
{
	json_t *s = json_object();
	struct sess_list *l;
	hm_iter it;
	double *dur, events = 0;
	size_t n = session_count(), k = 0, i;
	uint64_t single = 0;

	dur = xmalloc((n ? n : 1) * sizeof(*dur));
	for (l = hm_first(R.sessions, &it); l; l = hm_next(R.sessions, &it))
		for (i = 0; i < l->n; i++) {
			dur[k++] = (double)(l->iv[i].last - l->iv[i].first) / 1e6;
			events += (double)l->iv[i].n;
			single += l->iv[i].n == 1;
		}
	qsort(dur, n, sizeof(*dur), dbl_cmp);
	json_object_set_new(s, "count", json_integer((json_int_t)n));
	if (R.gap)
		json_object_set_new(s, "rule", json_sprintf("per %s, ended by %lld s without events", R.entity,
		    (long long)(R.gap / TV_US_PER_S)));
	else
		json_object_set_new(s, "rule", json_sprintf("by field %s", R.session));
	json_object_set_new(s, "duration_mean", n ? json_real(mean_of(dur, n)) : json_null());
	json_object_set_new(s, "duration_median", quantile_of(dur, n, 0.5));
	json_object_set_new(s, "duration_p90", quantile_of(dur, n, 0.9));
	json_object_set_new(s, "events_per_session_mean", n ? json_real(events / (double)n) : json_null());
	json_object_set_new(s, "single_event", json_integer((json_int_t)single));
	if (n == 0 && R.events > 0)
		json_object_set_new(s, "note", json_sprintf("field '%s' is missing in every record",
		    R.gap ? R.entity : R.session));
	json_object_set_new(doc, "sessions", s);
	free(dur);
}

struct reason {
	const char	*text;
	size_t		 len;
	uint64_t	 n;
};

static int
reason_cmp(const void *x, const void *y)
{
	const struct reason *a = x, *b = y;
	int r;

	if (a->n != b->n)
		return a->n > b->n ? -1 : 1;
	r = memcmp(a->text, b->text, a->len < b->len ? a->len : b->len);
	return r ? r : (a->len > b->len) - (a->len < b->len);
}

/* reasons_json puts the rejected lines' reasons into o, most frequent first. */
static void
reasons_json(json_t *o)
{
	struct reason *r = xcalloc(hm_count(R.reasons) + 1, sizeof(*r));
	size_t n = 0, i;
	uint64_t *c;
	hm_iter it;

	for (c = hm_first(R.reasons, &it); c; c = hm_next(R.reasons, &it)) {
		r[n].text = hm_key(c, &r[n].len);
		r[n++].n = *c;
	}
	qsort(r, n, sizeof(*r), reason_cmp);
	for (i = 0; i < n; i++)
		json_object_set_new(o, xstrndup_tmp(r[i].text, r[i].len), json_integer((json_int_t)r[i].n));
	free(r);
}

/* xstrndup_tmp returns a NUL-terminated copy of a reason in a reused buffer (jansson copies keys). */
static const char *
xstrndup_tmp(const char *s, size_t n)
{
	R.txt.len = 0;
	buf_add(&R.txt, s, n);
	return buf_cstr(&R.txt);
}

/* mean_of is a compensated mean, as aggregate's mean. */
static double
mean_of(const double *v, size_t n)
{
	double s = 0, c = 0;
	size_t i;

	for (i = 0; i < n; i++)
		agg_neumaier(&s, &c, v[i]);
	return (s + c) / (double)n;
}

static void
build_quality(json_t *doc)
{
	json_t *q = json_object(), *miss = json_object(), *why = json_object();
	uint64_t blank = *diag_counter("blank_lines") + R.w_blank;
	uint64_t rejected = diag_rejected + R.w_rejected, other = rejected - R.bad_time;
	size_t i;

	json_object_set_new(q, "lines", json_integer((json_int_t)(R.records + other + blank)));
	json_object_set_new(q, "records", json_integer((json_int_t)R.records));
	json_object_set_new(q, "blank", json_integer((json_int_t)blank));
	json_object_set_new(q, "rejected", json_integer((json_int_t)rejected));
	(void)other;
	reasons_json(why);
	json_object_set_new(q, "rejected_by_reason", why);
	json_object_set_new(q, "out_of_range", json_integer((json_int_t)R.out_of_range));
	json_object_set_new(q, "duplicates", json_integer((json_int_t)R.duplicates));
	json_object_set_new(miss, R.entity, json_integer((json_int_t)R.missing_entity));
	for (i = 0; i < R.ndims; i++)
		json_object_set_new(miss, R.dims[i], json_integer((json_int_t)R.missing_dims[i]));
	json_object_set_new(miss, R.metric, json_integer((json_int_t)R.missing_metric));
	if (!R.gap)
		json_object_set_new(miss, R.session, json_integer((json_int_t)R.missing_session));
	json_object_set_new(q, "missing", miss);
	json_object_set_new(doc, "quality", q);
}


/* ---- writing the report ---- */

/* jwrite appends a JSON value, reals in their shortest form (as aggregate writes them), indented. */
static void
jwrite(struct buf *b, json_t *v, int depth)
{
	const char *k;
	json_t *x;
	size_t i;
	int first = 1;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		buf_addc(b, '{');
		json_object_foreach(v, k, x) {
			buf_adds(b, first ? "\n" : ",\n");
			first = 0;
			for (i = 0; i < (size_t)depth + 1; i++)
				buf_adds(b, "  ");
			jw_cstr(b, k);
			buf_adds(b, ": ");
			jwrite(b, x, depth + 1);
		}
		if (!first) {
			buf_addc(b, '\n');
			for (i = 0; i < (size_t)depth; i++)
				buf_adds(b, "  ");
		}
		buf_addc(b, '}');
		break;
	case JSON_ARRAY:
		buf_addc(b, '[');
		json_array_foreach(v, i, x) {
			bool nl = depth < 2 || json_is_object(x);
			if (i)
				buf_adds(b, nl ? "," : ", ");
			if (nl) {
				buf_addc(b, '\n');
				for (size_t j = 0; j < (size_t)depth + 1; j++)
					buf_adds(b, "  ");
			}
			jcompact(b, x, depth + 1);
		}
		if (json_array_size(v) && (depth < 2 || json_is_object(json_array_get(v, 0)))) {
			buf_addc(b, '\n');
			for (i = 0; i < (size_t)depth; i++)
				buf_adds(b, "  ");
		}
		buf_addc(b, ']');
		break;
	default:
		jscalar(b, v);
	}
}

/* jcompact writes array members: rows of objects on one line each. */
static void
jcompact(struct buf *b, json_t *v, int depth)
{
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_object(v)) {
		buf_addc(b, '{');
		i = 0;
		json_object_foreach(v, k, x) {
			if (i++)
				buf_adds(b, ", ");
			jw_cstr(b, k);
			buf_adds(b, ": ");
			jcompact(b, x, depth);
		}
		buf_addc(b, '}');
	} else if (json_is_array(v)) {
		buf_addc(b, '[');
		json_array_foreach(v, i, x) {
			if (i)
				buf_adds(b, ", ");
			jcompact(b, x, depth);
		}
		buf_addc(b, ']');
	} else
		jscalar(b, v);
}

static void
jscalar(struct buf *b, json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		jw_str(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		jw_int(b, json_integer_value(v));
		break;
	case JSON_REAL:
		real_text(b, json_real_value(v), R.precision, false);
		break;
	case JSON_TRUE:
		buf_adds(b, "true");
		break;
	case JSON_FALSE:
		buf_adds(b, "false");
		break;
	default:
		buf_adds(b, "null");
	}
}

/*
 * real_text appends a real: with --precision (digits >= 0) rounded to
 * that many digits after the point, as aggregate rounds (tb_round_text);
 * otherwise, for people (human), to three digits without trailing zeros,
 * and else in its shortest form.  NaN and infinities are null.
 */
static void
real_text(struct buf *b, double d, int digits, bool human)
{
	size_t at = b->len;

	if (digits < 0 && !human) {
		jw_real(b, d);
		return;
	}
	/* The shortest text that reads back as d is what is rounded: 2.675 is 2.68 at 2 digits. */
	buf_reset(&R.num);
	jw_real(&R.num, d);
	if (!isfinite(d) || tb_round_text(b, R.num.p, R.num.len, (unsigned)(digits < 0 ? 3 : digits)) != 0) {
		buf_adds(b, "null");
		return;
	}
	if (digits >= 0 || memchr(b->p + at, '.', b->len - at) == NULL)
		return;
	while (b->p[b->len - 1] == '0')
		b->len--;
	if (b->p[b->len - 1] == '.')
		b->len--;
}

/* cell is how a format shows a value: for people (not exact), reals to three decimals; strings as they are. */
static void
cell(struct tb *t, const char *name, json_t *v, bool exact)
{
	R.txt.len = 0;
	if (json_is_real(v))
		real_text(&R.txt, json_real_value(v), R.precision, !exact);
	else
		jscalar(&R.txt, v);
	if (R.txt.len == 4 && memcmp(R.txt.p, "null", 4) == 0)
		tb_cell_null(t, name);
	else
		tb_cell(t, name, R.txt.p, R.txt.len);
}

enum outkind { OUT_TEXT, OUT_MARKDOWN, OUT_JSON, OUT_CSV, OUT_HTML };


/* The report being written. */
static struct {
	FILE			*f;
	enum outkind		 kind;
	const struct tb_format	*tf;
	const char		*section;	/* the csv section column */
	const char		*title;		/* the section's title, written by render */
	int			 ntables;
} O;

/* html_text writes text escaped for HTML. */
static void
html_text(const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&': fputs("&amp;", O.f); break;
		case '<': fputs("&lt;", O.f); break;
		case '>': fputs("&gt;", O.f); break;
		case '"': fputs("&quot;", O.f); break;
		default: fputc(*s, O.f);
		}
}

/* table_open writes a table's title and starts it. */
static struct tb *
table_open(const char *title)
{
	struct tb *t;
	size_t i, w;

	/* Markdown and html have written the section's title already: no second heading of the same words. */
	switch (O.title != NULL && strcmp(title, O.title) == 0 && O.kind != OUT_TEXT ? OUT_JSON : O.kind) {
	case OUT_TEXT:
		w = tb_text_width(title, strlen(title));
		fprintf(O.f, "\n%s\n", title);
		for (i = 0; i < w; i++)
			fputc('-', O.f);
		fputc('\n', O.f);
		break;
	case OUT_MARKDOWN:
		fprintf(O.f, "### %s\n\n", title);
		break;
	case OUT_CSV:
		if (O.ntables)
			fputc('\n', O.f);
		break;
	case OUT_HTML:
		fputs("<h3>", O.f);
		html_text(title);
		fputs("</h3>\n", O.f);
		break;
	default:
		break;
	}
	O.ntables++;
	t = tb_new(O.tf, O.f);
	if (O.kind == OUT_CSV)
		tb_column(t, "section");
	return t;
}

static void
table_row(struct tb *t)
{
	tb_row(t);
	if (O.kind == OUT_CSV)
		tb_cell_str(t, "section", O.section, strlen(O.section));
}

static void
table_close(struct tb *t)
{
	tb_end(t);
	tb_free(t);
	if (O.kind == OUT_HTML || O.kind == OUT_MARKDOWN)
		fputc('\n', O.f);
}

/* bar draws n of max as up to 40 columns of block characters, in eighths. */
static void
bar(struct tb *t, double n, double max)
{
	static const char *const part[] = { "", "\xe2\x96\x8f", "\xe2\x96\x8e", "\xe2\x96\x8d",
	    "\xe2\x96\x8c", "\xe2\x96\x8b", "\xe2\x96\x8a", "\xe2\x96\x89" };
	long eighths = max > 0 ? lround(n / max * 40 * 8) : 0, i;

	R.txt.len = 0;
	for (i = 0; i < eighths / 8; i++)
		buf_adds(&R.txt, "\xe2\x96\x88");
	buf_adds(&R.txt, part[eighths % 8]);
	tb_cell_str(t, "bar", R.txt.p ? R.txt.p : "", R.txt.len);
}

/* kv_rows adds a row per scalar member of o (nested objects as a.b), with --compare's columns when cmp has them. */
static void
kv_rows(struct tb *t, json_t *o, const char *prefix, json_t *cmp)
{
	const char *k;
	json_t *x, *c;
	char name[256];

	json_object_foreach(o, k, x) {
		snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "", k);
		if (json_is_object(x)) {
			kv_rows(t, x, name, NULL);
			continue;
		}
		if (json_is_array(x))
			continue;
		table_row(t);
		tb_cell_str(t, "figure", name, strlen(name));
		cell(t, "value", x, O.kind == OUT_CSV);
		if (cmp == NULL || (c = json_object_get(cmp, k)) == NULL)
			continue;
		cell(t, "previous", json_object_get(c, "previous"), O.kind == OUT_CSV);
		cell(t, "change", json_object_get(c, "change"), O.kind == OUT_CSV);
		cell(t, "change_pct", json_object_get(c, "change_pct"), O.kind == OUT_CSV);
	}
}

/* array_rows writes an array of flat objects as a table; bars when barred and the format is for a terminal. */
static void
array_rows(const char *title, json_t *a, bool barred, enum chart ch, const char *xlabel)
{
	struct tb *t;
	const char *k;
	json_t *o, *x;
	double max = 0;
	size_t i;

	if (json_array_size(a) == 0)
		return;
	json_array_foreach(a, i, o)
		if (json_number_value(json_object_get(o, "count")) > max)
			max = json_number_value(json_object_get(o, "count"));
	t = table_open(title);
	chart(ch, a, xlabel);
	json_array_foreach(a, i, o) {
		table_row(t);
		json_object_foreach(o, k, x)
			if (!json_is_object(x) && !json_is_array(x))
				cell(t, k, x, O.kind == OUT_CSV);
		if (barred && (O.kind == OUT_TEXT || O.kind == OUT_MARKDOWN))
			bar(t, json_number_value(json_object_get(o, "count")), max);
	}
	table_close(t);
}

/* matrix_rows writes the matrix as a pivot: a row per first-dimension value, a column per second's. */
static void
matrix_rows(const char *title, json_t *m)
{
	json_t *rows = json_object_get(m, "row_values"), *cs = json_object_get(m, "column_values");
	json_t *counts = json_object_get(m, "counts"), *v;
	const char *rname = json_string_value(json_object_get(m, "rows"));
	struct tb *t;
	size_t i, j;

	if (json_array_size(rows) == 0)
		return;
	t = table_open(title);
	chart(CH_HEAT, m, NULL);
	json_array_foreach(rows, i, v) {
		table_row(t);
		cell(t, rname, v, true);
		for (j = 0; j < json_array_size(cs); j++) {
			R.txt.len = 0;
			jscalar(&R.txt, json_array_get(cs, j));
			buf_cstr(&R.txt);
			if (json_is_string(json_array_get(cs, j)))
				cell(t, json_string_value(json_array_get(cs, j)),
				    json_array_get(json_array_get(counts, i), j), true);
			else {
				char name[64];
				snprintf(name, sizeof(name), "%s", R.txt.p);
				cell(t, name, json_array_get(json_array_get(counts, i), j), true);
			}
		}
	}
	table_close(t);
}

/* ---- charts: inline SVG, no script, nothing fetched ---- */

/* svg_label shortens a label to n characters for an axis. */
static void
svg_label(json_t *v, size_t n)
{
	char b[128];

	R.txt.len = 0;
	if (json_is_string(v))
		buf_adds(&R.txt, json_string_value(v));
	else if (json_is_real(v)) {
		snprintf(b, sizeof(b), "%.4g", json_real_value(v));
		buf_adds(&R.txt, b);
	} else
		jscalar(&R.txt, v);
	buf_cstr(&R.txt);
	if (strlen(R.txt.p) > n) {
		snprintf(b, sizeof(b), "%.*s\xe2\x80\xa6", (int)(n - 1), R.txt.p);
		html_text(b);
	} else
		html_text(R.txt.p);
}

/* hour_label shows an hour as "HH:MM", or its day "MM-DD" at midnight; other labels as svg_label does. */
static void
hour_label(json_t *v, size_t n)
{
	const char *s = json_string_value(v);

	if (s == NULL || strlen(s) < 19 || s[10] != 'T') {
		svg_label(v, n);
		return;
	}
	if (memcmp(s + 11, "00:00", 5) == 0)
		fprintf(O.f, "%.5s", s + 5);
	else
		fprintf(O.f, "%.5s", s + 11);
}

/*
 * svg_columns draws counts as vertical columns with a labelled y axis
 * (count) and x axis (xlabel); every label-th column is labelled by
 * key (shortened) so that labels never overlap.
 */
static void
svg_columns(json_t *a, const char *key, const char *xlabel, size_t keylen)
{
	size_t n = json_array_size(a), i, every;
	double max = 1, w, h = 200, x, y, v;
	json_t *o;
	const double left = 60, top = 20, width = 760;

	json_array_foreach(a, i, o)
		if (json_number_value(json_object_get(o, "count")) > max)
			max = json_number_value(json_object_get(o, "count"));
	if (n == 0)
		return;
	w = width / (double)n;
	every = (size_t)ceil(((double)keylen * 6.5 + 12) / w);
	fprintf(O.f, "<svg class=\"chart\" viewBox=\"0 0 840 300\" width=\"840\" height=\"300\" role=\"img\">\n");
	fprintf(O.f, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" class=\"axis\"/>\n", left, top, left, top + h);
	fprintf(O.f, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" class=\"axis\"/>\n", left, top + h, left + width, top + h);
	for (i = 0; i <= 4; i++) {
		y = top + h - h * (double)i / 4;
		fprintf(O.f, "<text x=\"%g\" y=\"%g\" class=\"yt\">%.0f</text>\n", left - 6, y + 4, max * (double)i / 4);
	}
	fprintf(O.f, "<text x=\"14\" y=\"%g\" class=\"lab\" transform=\"rotate(-90 14 %g)\">events</text>\n",
	    top + h / 2, top + h / 2);
	json_array_foreach(a, i, o) {
		v = json_number_value(json_object_get(o, "count"));
		x = left + w * (double)i;
		fprintf(O.f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>%.0f</title></rect>\n",
		    x + w * 0.1, top + h - h * v / max, w * 0.8, h * v / max, v);
		if (i % every == 0) {
			fprintf(O.f, "<text x=\"%.1f\" y=\"%g\" class=\"xt\">", x + w / 2, top + h + 16);
			hour_label(json_object_get(o, key), keylen);
			fputs("</text>\n", O.f);
		}
	}
	fprintf(O.f, "<text x=\"%g\" y=\"%g\" class=\"lab\">%s</text>\n</svg>\n", left + width / 2, top + h + 44, xlabel);
}

/* svg_bars draws a top list as horizontal bars, value labels on the left, counts at the bar ends. */
static void
svg_bars(json_t *a)
{
	size_t n = json_array_size(a), i;
	double max = 1, v, y;
	json_t *o;

	json_array_foreach(a, i, o)
		if (json_number_value(json_object_get(o, "count")) > max)
			max = json_number_value(json_object_get(o, "count"));
	if (n == 0)
		return;
	fprintf(O.f, "<svg class=\"chart\" viewBox=\"0 0 840 %zu\" width=\"840\" height=\"%zu\" role=\"img\">\n",
	    n * 22 + 40, n * 22 + 40);
	json_array_foreach(a, i, o) {
		v = json_number_value(json_object_get(o, "count"));
		y = 10 + 22 * (double)i;
		fprintf(O.f, "<text x=\"230\" y=\"%g\" class=\"yt\">", y + 14);
		svg_label(json_object_get(o, "value"), 32);
		fprintf(O.f, "</text>\n<rect x=\"240\" y=\"%g\" width=\"%.1f\" height=\"16\"/>\n", y + 2, 500 * v / max);
		fprintf(O.f, "<text x=\"%.1f\" y=\"%g\" class=\"val\">%.0f</text>\n", 246 + 500 * v / max, y + 14, v);
	}
	fprintf(O.f, "<line x1=\"240\" y1=\"8\" x2=\"240\" y2=\"%g\" class=\"axis\"/>\n", 12 + 22 * (double)n);
	fprintf(O.f, "<text x=\"490\" y=\"%g\" class=\"lab\">events</text>\n</svg>\n", 34 + 22 * (double)n);
}

/* svg_heat draws the matrix as a heat map: darker is more, the count in each cell. */
static void
svg_heat(json_t *m)
{
	json_t *rows = json_object_get(m, "row_values"), *cs = json_object_get(m, "column_values");
	json_t *counts = json_object_get(m, "counts");
	size_t nr = json_array_size(rows), nc = json_array_size(cs), i, j;
	double max = 1, v, cw;

	if (nr == 0 || nc == 0)
		return;
	for (i = 0; i < nr; i++)
		for (j = 0; j < nc; j++)
			if ((v = json_number_value(json_array_get(json_array_get(counts, i), j))) > max)
				max = v;
	cw = 600.0 / (double)nc;
	fprintf(O.f, "<svg class=\"chart\" viewBox=\"0 0 840 %zu\" width=\"840\" height=\"%zu\" role=\"img\">\n",
	    nr * 28 + 60, nr * 28 + 60);
	for (j = 0; j < nc; j++) {
		fprintf(O.f, "<text x=\"%.1f\" y=\"20\" class=\"xt\">", 200 + cw * ((double)j + 0.5));
		svg_label(json_array_get(cs, j), (size_t)(cw / 8) > 3 ? (size_t)(cw / 8) : 3);
		fputs("</text>\n", O.f);
	}
	for (i = 0; i < nr; i++) {
		fprintf(O.f, "<text x=\"190\" y=\"%zu\" class=\"yt\">", 30 + i * 28 + 18);
		svg_label(json_array_get(rows, i), 24);
		fputs("</text>\n", O.f);
		for (j = 0; j < nc; j++) {
			v = json_number_value(json_array_get(json_array_get(counts, i), j));
			fprintf(O.f, "<rect x=\"%.1f\" y=\"%zu\" width=\"%.1f\" height=\"26\" style=\"fill-opacity:%.2f\"/>\n",
			    200 + cw * (double)j, 30 + i * 28, cw - 2, 0.08 + 0.92 * v / max);
			fprintf(O.f, "<text x=\"%.1f\" y=\"%zu\" class=\"%s\">%.0f</text>\n", 200 + cw * ((double)j + 0.5),
			    30 + i * 28 + 18, v / max > 0.5 ? "cl" : "cd", v);
		}
	}
	fprintf(O.f, "</svg>\n");
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>batch-report</title>\n"
    "<style>\n"
    "body{font-family:'DejaVu Sans',sans-serif;margin:2em auto;max-width:900px;color:#222;background:#fff}\n"
    "h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;margin-top:2em}h3{font-size:1em;color:#444}\n"
    "table{border-collapse:collapse;margin:.5em 0}th,td{padding:2px 10px;border-bottom:1px solid #eee;text-align:left}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "svg.chart{display:block;margin:1em 0;font-size:11px}svg rect{fill:#3b6ea8}\n"
    ".axis{stroke:#555;stroke-width:1}.yt{text-anchor:end;fill:#333}.xt{text-anchor:middle;fill:#333}\n"
    ".lab{text-anchor:middle;fill:#000;font-weight:bold}.val{fill:#333}\n"
    ".cl{text-anchor:middle;fill:#fff}.cd{text-anchor:middle;fill:#000}\n"
    "</style>\n</head>\n<body>\n";

/* ---- the sections, rendered ---- */

/* has_scalars reports whether an object has members other than arrays. */
static bool
has_scalars(json_t *o)
{
	const char *k;
	json_t *x;

	json_object_foreach(o, k, x)
		if (!json_is_array(x))
			return true;
	return false;
}

/* chart draws a chart for html output. */
static void
chart(enum chart ch, json_t *v, const char *xlabel)
{
	if (O.kind != OUT_HTML)
		return;
	switch (ch) {
	case CH_HOURS: svg_columns(v, "hour", "hour (start, local time; MM-DD at midnight)", 5); break;
	case CH_DAYS: svg_columns(v, "day", "day", 10); break;
	case CH_HIST: svg_columns(v, "from", xlabel, 8); break;
	case CH_BARS: svg_bars(v); break;
	case CH_HEAT: svg_heat(v); break;
	default: break;
	}
}

/* render_part writes one member of the document: its tables, each with its chart in html. */
static void
render_part(const char *key, const char *title, json_t *v, json_t *doc)
{
	json_t *x, *cmp = json_object_get(json_object_get(doc, "compare"), key);
	const char *k;
	char sub[256];
	struct tb *t;
	enum chart ch;

	if (json_is_array(v)) {
		ch = strcmp(key, "per_hour") == 0 ? CH_HOURS : strcmp(key, "per_day") == 0 ? CH_DAYS :
		    strcmp(key, "top_entities") == 0 ? CH_BARS : CH_NONE;
		array_rows(title, v, ch == CH_HOURS || ch == CH_DAYS, ch, NULL);
		return;
	}
	if (json_object_get(v, "counts") != NULL) {
		matrix_rows(title, v);
		return;
	}
	if (has_scalars(v)) {
		t = table_open(title);
		kv_rows(t, v, "", cmp);
		table_close(t);
	}
	json_object_foreach(v, k, x) {
		if (!json_is_array(x))
			continue;
		snprintf(sub, sizeof(sub), "%.100s: %.100s", title, k);
		ch = strcmp(key, "dimensions") == 0 ? CH_BARS : strcmp(k, "histogram") == 0 ? CH_HIST : CH_NONE;
		if (strcmp(k, "by") == 0)
			snprintf(sub, sizeof(sub), "%.100s by %.100s", title,
			    json_string_value(json_object_get(v, "by_field")));
		array_rows(sub, x, ch == CH_HIST, ch, json_string_value(json_object_get(v, "field")));
	}
}

/* The document's members in the order written, with their titles. */
static const struct part {
	const char	*key, *section, *title;
} parts[] = {
	{ "summary",	  "summary",	"Summary" },
	{ "top_entities", "top",	"Top entities" },
	{ "dimensions",	  "dimensions",	"Top values" },
	{ "matrix",	  "matrix",	"Matrix" },
	{ "metric",	  "metric",	"Metric" },
	{ "per_hour",	  "hours",	"Events per hour" },
	{ "per_day",	  "hours",	"Events per day" },
	{ "sessions",	  "sessions",	"Sessions" },
	{ "quality",	  "quality",	"Data quality" },
};

/* render writes the report in a format for people or for csv, section by section. */
static void
render(json_t *doc)
{
	json_t *range = json_object_get(doc, "range");
	char title[256];
	size_t i;

	if (O.kind == OUT_HTML)
		fputs(html_head, O.f);
	header(range);
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		json_t *v = json_object_get(doc, parts[i].key);
		if (v == NULL)
			continue;
		O.section = parts[i].section;
		snprintf(title, sizeof(title), "%s", parts[i].title);
		if (strcmp(parts[i].key, "matrix") == 0 && json_object_get(v, "rows"))
			snprintf(title, sizeof(title), "Matrix: %s \xc3\x97 %s", json_string_value(json_object_get(v, "rows")),
			    json_string_value(json_object_get(v, "columns")));
		if (O.kind == OUT_HTML)
			fprintf(O.f, "<section id=\"%s\">\n<h2>%s</h2>\n", parts[i].key, title);
		else if (O.kind == OUT_MARKDOWN)
			fprintf(O.f, "\n## %s\n\n", title);
		O.title = title;
		render_part(parts[i].key, title, v, doc);
		if (O.kind == OUT_HTML)
			fputs("</section>\n", O.f);
	}
	if (O.kind == OUT_HTML)
		fputs("</body>\n</html>\n", O.f);
}

/* header writes the report's title, range and zone, and "no events" when so. */
static void
header(json_t *range)
{
	const char *since = json_string_value(json_object_get(range, "since"));
	const char *until = json_string_value(json_object_get(range, "until"));
	const char *note = json_string_value(json_object_get(range, "note"));
	char line[512];

	snprintf(line, sizeof(line), "Events from %s to %s (%s)", since ? since : "the first",
	    until ? until : "the last", R.tz);
	switch (O.kind) {
	case OUT_TEXT:
		fprintf(O.f, "batch-report\n%s\n", line);
		break;
	case OUT_MARKDOWN:
		fprintf(O.f, "# batch-report\n\n%s\n", line);
		break;
	case OUT_HTML:
		fputs("<h1>batch-report</h1>\n<p>", O.f);
		html_text(line);
		fputs("</p>\n", O.f);
		break;
	default:
		return;
	}
	if (note != NULL) {
		if (O.kind == OUT_HTML)
			fputs("<p class=\"note\">", O.f), html_text(note), fputs("</p>\n", O.f);
		else
			fprintf(O.f, "%s%s\n", O.kind == OUT_MARKDOWN ? "\n" : "", note);
	}
	if (R.events == 0) {
		if (O.kind == OUT_HTML)
			fputs("<p class=\"note\">no events</p>\n", O.f);
		else
			fprintf(O.f, "%sno events\n", O.kind == OUT_MARKDOWN ? "\n" : "");
	}
}

/* ---- the document, --compare, and writing it ---- */

/* range_json describes the range: its ends, the zone, and how many hours a --date day has. */
static json_t *
range_json(void)
{
	json_t *r = json_object();
	int64_t n;

	json_object_set_new(r, "tz", json_string(R.tz));
	json_object_set_new(r, "since", R.since != TV_MIN ? time_json(R.since) : json_null());
	json_object_set_new(r, "until", R.until != TV_MAX ? time_json(R.until) : json_null());
	if (R.date != NULL) {
		n = (R.until - R.since) / HOUR_US;
		json_object_set_new(r, "hours", json_integer((json_int_t)n));
		if (n != 24)
			json_object_set_new(r, "note", json_sprintf("%s has %lld hours in %s (a daylight saving time change)",
			    R.date, (long long)n, R.tz));
	}
	return r;
}

static json_t *
fields_json(void)
{
	json_t *f = json_object(), *d = json_array();
	size_t i;

	json_object_set_new(f, "time", json_string(R.cli.time_field ? R.cli.time_field : "timestamp"));
	json_object_set_new(f, "entity", json_string(R.entity));
	for (i = 0; i < R.ndims; i++)
		json_array_append_new(d, json_string(R.dims[i]));
	json_object_set_new(f, "dimensions", d);
	json_object_set_new(f, "metric", json_string(R.metric));
	if (R.gap)
		json_object_set_new(f, "session_gap_seconds", json_integer((json_int_t)(R.gap / TV_US_PER_S)));
	else
		json_object_set_new(f, "session", json_string(R.session));
	return f;
}

static json_t *
build_doc(void)
{
	json_t *doc = json_object();
	size_t i;

	json_object_set_new(doc, "batch_report", json_integer(1));
	json_object_set_new(doc, "range", range_json());
	json_object_set_new(doc, "fields", fields_json());
	for (i = 0; i < nsections; i++)
		if (R.sections & (1u << i))
			sections[i].build(doc);
	if (R.prev != NULL)
		compare(doc, R.prev);
	return doc;
}

/* compare_load reads --compare's report: unreadable exits 3, not a report exits 2. */
static json_t *
compare_load(const char *path)
{
	json_error_t e;
	json_t *p;

	if (access(path, R_OK) != 0)
		diag_die(EX_IOERR, "--compare: %s: %s", path, strerror(errno));
	p = json_load_file(path, 0, &e);
	if (p == NULL || !json_is_object(p) || json_integer_value(json_object_get(p, "batch_report")) != 1 ||
	    !json_is_object(json_object_get(p, "summary"))) {
		json_decref(p);
		diag_die(EX_USAGE, "--compare: %s: not a batch-report JSON report", path);
	}
	return p;
}

/* compare_list marks each entry of a top list with its rank change: "new", "=", "+2" (up two), "-1". */
static void
compare_list(json_t *now, json_t *before)
{
	json_t *o, *p = NULL;
	size_t i, j;

	json_array_foreach(now, i, o) {
		json_array_foreach(before, j, p)
			if (json_equal(json_object_get(o, "value"), json_object_get(p, "value")))
				break;
		if (j >= json_array_size(before))
			json_object_set_new(o, "rank_change", json_string("new"));
		else {
			json_object_set(o, "previous_count", json_object_get(p, "count"));
			json_object_set_new(o, "rank_change", j == i ? json_string("=") :
			    json_sprintf("%+lld", (long long)j - (long long)i));
		}
	}
}

/* compare adds the previous value and the change of every summary figure, and rank changes to top lists. */
static void
compare(json_t *doc, json_t *prev)
{
	json_t *cmp = json_object(), *sum = json_object(), *now = json_object_get(doc, "summary");
	json_t *before = json_object_get(prev, "summary"), *x, *p, *c, *dims;
	const char *k;
	double a, b;

	json_object_foreach(now, k, x) {
		p = json_object_get(before, k);
		if (!json_is_number(x) || !json_is_number(p))
			continue;
		a = json_number_value(x);
		b = json_number_value(p);
		c = json_object();
		json_object_set(c, "previous", p);
		json_object_set_new(c, "change", json_is_integer(x) && json_is_integer(p) ?
		    json_integer(json_integer_value(x) - json_integer_value(p)) : json_real(a - b));
		json_object_set_new(c, "change_pct", b != 0 ? json_real((a - b) / b * 100) : json_null());
		json_object_set_new(sum, k, c);
	}
	json_object_set_new(cmp, "summary", sum);
	json_object_set_new(doc, "compare", cmp);
	if (json_object_get(doc, "top_entities"))
		compare_list(json_object_get(doc, "top_entities"), json_object_get(prev, "top_entities"));
	dims = json_object_get(prev, "dimensions");
	json_object_foreach(json_object_get(doc, "dimensions"), k, x)
		compare_list(x, json_object_get(dims, k));
}

/* out_open opens where the report goes: stdout, or a temporary file beside -o FILE. */
static FILE *
out_open(char **tmp)
{
	struct stat st;
	FILE *f;
	int fd;

	*tmp = NULL;
	if (R.output == NULL)
		return stdout;
	if (stat(R.output, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* A device or a FIFO is written in place: renaming over it would replace it. */
		if ((f = fopen(R.output, "w")) == NULL) {
			diag_err("-o: %s", R.output);
			diag_note_ioerr();
		}
		return f;
	}
	if (asprintf(tmp, "%s.XXXXXX", R.output) < 0)
		diag_die(EX_IOERR, "out of memory");
	if ((fd = mkstemp(*tmp)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		diag_err("-o: %s", R.output);
		diag_note_ioerr();
		return NULL;
	}
	fchmod(fd, 0644 & ~current_umask());
	return f;
}

static mode_t
current_umask(void)
{
	mode_t m = umask(0);

	umask(m);
	return m;
}

/* out_commit makes the report the file -o names: flushed, synced, renamed over it; on failure the old file stays. */
static void
out_commit(FILE *f, char *tmp)
{
	if (tmp == NULL) {
		if (f != stdout && (fflush(f) != 0 || ferror(f) || fclose(f) != 0)) {
			diag_err("-o: %s", R.output);
			diag_note_ioerr();
		}
		return;
	}
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
		diag_err("-o: %s", R.output);
		diag_note_ioerr();
		fclose(f);
		unlink(tmp);
	} else if (fclose(f) != 0 || rename(tmp, R.output) != 0) {
		diag_err("-o: %s", R.output);
		diag_note_ioerr();
		unlink(tmp);
	}
	free(tmp);
}

/* write_report builds the document and writes it in the chosen format. */
static void
write_report(void)
{
	static const char *const kinds[] = { "text", "markdown", "json", "csv", "html" };
	json_t *doc = build_doc();
	struct buf b = BUF_INIT;
	char *tmp;
	size_t i;

	if ((O.f = out_open(&tmp)) == NULL) {
		json_decref(doc);
		return;
	}
	for (i = 0; strcmp(kinds[i], R.format) != 0; i++)
		;
	O.kind = (enum outkind)i;
	O.tf = tb_format(O.kind == OUT_TEXT ? "table" : R.format);
	if (O.kind == OUT_JSON) {
		jwrite(&b, doc, 0);
		buf_addc(&b, '\n');
		fwrite(b.p, 1, b.len, O.f);
		buf_free(&b);
	} else
		render(doc);
	json_decref(doc);
	out_commit(O.f, tmp);
}

/* ---- -j: workers write their states, the parent merges them ---- */

/* tables lists the group tables in the order a worker writes them. */
static size_t
tables(struct groups **t)
{
	size_t n = 0, i;

	t[n++] = R.g_entities;
	for (i = 0; i < R.ndims; i++)
		t[n++] = R.g_dims[i];
	t[n++] = R.g_matrix;
	t[n++] = R.g_metric;
	t[n++] = R.g_metric_by;
	t[n++] = R.g_hours;
	t[n++] = R.g_hist;
	t[n++] = R.g_dist;
	return n;
}

/* save_states writes a worker's counters, group tables, sessions and record hashes as NDJSON lines. */
static int
save_states(FILE *f)
{
	struct groups *t[MAX_DIMS + 8];
	struct gr_group **g;
	struct sess_list *l;
	struct buf b = BUF_INIT;
	hm_iter it;
	size_t nt = tables(t), i, j, n, klen;
	const char *k;

	buf_adds(&b, "{\"@br_meta\":1,\"log\":");
	buf_adds(&b, R.log ? "true" : "false");
	buf_adds(&b, ",\"c\":[");
	jw_uint(&b, R.records), buf_addc(&b, ','), jw_uint(&b, R.events), buf_addc(&b, ',');
	jw_uint(&b, R.bad_time), buf_addc(&b, ','), jw_uint(&b, R.out_of_range), buf_addc(&b, ',');
	jw_uint(&b, R.duplicates), buf_addc(&b, ','), jw_uint(&b, R.missing_entity), buf_addc(&b, ',');
	jw_uint(&b, R.missing_metric), buf_addc(&b, ','), jw_uint(&b, R.missing_session), buf_addc(&b, ',');
	jw_uint(&b, diag_rejected), buf_addc(&b, ','), jw_uint(&b, *diag_counter("blank_lines"));
	buf_addc(&b, ','), jw_int(&b, R.first), buf_addc(&b, ','), jw_int(&b, R.last);
	for (i = 0; i < R.ndims; i++)
		buf_addc(&b, ','), jw_uint(&b, R.missing_dims[i]);
	buf_adds(&b, "],\"reasons\":");
	{
		json_t *o = json_object();
		reasons_json(o);
		jcompact(&b, o, 0);
		json_decref(o);
	}
	buf_adds(&b, "}\n");
	for (i = 0; i < nt; i++) {
		buf_adds(&b, "{\"@table\":"), jw_uint(&b, i), buf_adds(&b, "}\n");
		g = gr_list(t[i], &n);
		for (j = 0; j < n; j++) {
			gr_save(t[i], g[j], &b);
			if (b.len > 1 << 16)
				fwrite(b.p, 1, b.len, f), buf_reset(&b);
		}
	}
	for (l = hm_first(R.sessions, &it); l; l = hm_next(R.sessions, &it)) {
		k = hm_key(l, &klen);
		buf_adds(&b, "{\"@sess\":"), buf_add(&b, k, klen), buf_adds(&b, ",\"iv\":[");
		for (i = 0; i < l->n; i++) {
			buf_adds(&b, i ? ",[" : "["), jw_int(&b, l->iv[i].first), buf_addc(&b, ',');
			jw_int(&b, l->iv[i].last), buf_addc(&b, ','), jw_uint(&b, l->iv[i].n), buf_addc(&b, ']');
		}
		buf_adds(&b, "]}\n");
		if (b.len > 1 << 16)
			fwrite(b.p, 1, b.len, f), buf_reset(&b);
	}
	save_hashes(&b, f);
	fwrite(b.p, 1, b.len, f);
	buf_free(&b);
	return ferror(f) ? -1 : 0;
}

/* save_hashes writes the record hashes as hex, 4096 to a line. */
static void
save_hashes(struct buf *b, FILE *f)
{
	char hex[17];
	size_t i, n = 0;

	for (i = 0; i <= R.dups.cap; i++) {
		uint64_t x = i < R.dups.cap ? R.dups.slot[i] : 0;
		if (i < R.dups.cap && x == 0)
			continue;
		if (i == R.dups.cap && !R.dups.zero)
			break;
		if (n % 4096 == 0)
			buf_adds(b, n ? "\"}\n{\"@dups\":\"" : "{\"@dups\":\"");
		snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)x);
		buf_add(b, hex, 16);
		n++;
		if (b->len > 1 << 16)
			fwrite(b->p, 1, b->len, f), buf_reset(b);
	}
	if (n)
		buf_adds(b, "\"}\n");
}

/* merge_line folds one line of a worker's states into the tables. */
static void
merge_line(struct rec *rec, const struct in_line *ln)
{
	static struct groups *t[MAX_DIMS + 8];
	static size_t nt, cur;
	struct rec_val v;
	char why[512];

	if (!R.ready && rec_get_key(rec, "log", 3, &v) == RT_BOOL)
		R.log = v.b;	/* the fields the workers chose, before the tables are made */
	setup();
	if (nt == 0)
		nt = tables(t);
	if (rec_get_key(rec, "@agg_state", 10, &v) != RT_MISSING) {
		if (cur >= nt || gr_load(t[cur], ln->data, ln->len, NULL, why, sizeof(why)) != 0)
			diag_die(EX_IOERR, "%s:%llu: worker state: %s", ln->pos.file,
			    (unsigned long long)ln->pos.line, cur >= nt ? "no table" : why);
	} else if (rec_get_key(rec, "@table", 6, &v) == RT_INT)
		cur = (size_t)v.i;
	else if (rec_get_key(rec, "@br_meta", 8, &v) != RT_MISSING)
		merge_meta(rec);
	else if (rec_get_key(rec, "@sess", 5, &v) != RT_MISSING)
		merge_sessions(rec, &v);
	else if (rec_get_key(rec, "@dups", 5, &v) == RT_STRING)
		merge_hashes(&v);
}

static void
merge_meta(struct rec *rec)
{
	static const struct rec_path *p;
	uint64_t *c[] = { &R.records, &R.events, &R.bad_time, &R.out_of_range, &R.duplicates,
	    &R.missing_entity, &R.missing_metric, &R.missing_session, &R.w_rejected, &R.w_blank };
	struct rec_val v;
	char path[32];
	size_t i, n = sizeof(c) / sizeof(c[0]);
	int64_t t;

	(void)p;
	if (rec_get_key(rec, "reasons", 7, &v) == RT_OBJECT) {
		json_t *o = json_loadb(v.raw, v.rawlen, 0, NULL), *x;
		const char *k;
		json_object_foreach(o, k, x)
			*(uint64_t *)hm_put(R.reasons, k, strlen(k), NULL) += (uint64_t)json_integer_value(x);
		json_decref(o);
	}
	for (i = 0; i < n + 2 + R.ndims; i++) {
		snprintf(path, sizeof(path), ".c[%zu]", i);
		struct rec_path *rp = rec_path_compile(path, NULL);
		rec_get(rec, rp, &v);
		rec_path_free(rp);
		if (v.type != RT_INT)
			continue;
		if (i < n)
			*c[i] += (uint64_t)v.i;
		else if (i == n && (t = v.i) < R.first)
			R.first = t;
		else if (i == n + 1 && (t = v.i) > R.last)
			R.last = t;
		else if (i >= n + 2)
			R.missing_dims[i - n - 2] += (uint64_t)v.i;
	}
}

static void
merge_sessions(struct rec *rec, const struct rec_val *key)
{
	struct sess_list *l = hm_put(R.sessions, key->raw, key->rawlen, NULL);
	struct rec_val iv;
	char path[48];
	size_t i;
	int64_t x[3];

	for (i = 0;; i++) {
		for (int j = 0; j < 3; j++) {
			snprintf(path, sizeof(path), ".iv[%zu][%d]", i, j);
			struct rec_path *rp = rec_path_compile(path, NULL);
			enum rec_type ty = rec_get(rec, rp, &iv);
			rec_path_free(rp);
			if (ty != RT_INT)
				return;
			x[j] = iv.i;
		}
		sess_add(l, x[0], x[1], (uint64_t)x[2]);
	}
}

static void
merge_hashes(const struct rec_val *v)
{
	const char *p;
	uint64_t x;
	size_t i;
	int k, c;

	for (i = 0; i + 16 <= v->slen; i += 16) {
		/* 16 hex digits, as save_hashes wrote them (strtoull costs more than the set here). */
		for (p = v->s + i, x = 0, k = 0; k < 16; k++) {
			c = (unsigned char)p[k];
			x = x << 4 | (uint64_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
		}
		if (!hset_add(&R.dups, x))
			R.duplicates++;
	}
}


/*
 * worker runs in a child over piece i of the files (lib/jobs), read in
 * place (lines keep their file names and numbers), and writes its states
 * to the piece's temporary file.
 */
static int
worker(struct jobs *j, int i, void *ctx)
{
	struct run_spec spec = { .tool = "batch-report", .cli = &R.cli };
	char *const *paths = ctx;

	R.worker = j->out[i];
	R.progress = -1;
	spec.paths = paths + j->piece[i].first;
	spec.npaths = j->piece[i].last - j->piece[i].first + 1;
	spec.piece = &j->piece[i];
	spec.format = R.kind;
	spec.fopts = R.kind == FMT_NDJSON ? NULL : &R.fopts;
	return run_main(&spec, &ops, NULL);
}

/*
 * run_jobs reads the files with R.jobs worker processes over byte ranges
 * cut at line starts (lib/jobs), then merges their states as one run
 * would have made them.  Input it cannot split (stdin, gzip, CSV) is read
 * by one.
 */
static int
run_jobs(int npaths, char *const *paths)
{
	struct run_spec spec = { .tool = "batch-report", .cli = &R.cli };
	struct jobs j;
	int rc;

	if (R.kind == FMT_CSV || R.kind == FMT_TSV || jobs_split(&j, paths, npaths, (int)R.jobs, NULL) < 2) {
		spec.paths = paths;
		spec.npaths = npaths;
		spec.format = R.kind;
		spec.fopts = R.kind == FMT_NDJSON ? NULL : &R.fopts;
		return run_main(&spec, &ops, NULL);
	}
	if (jobs_run(&j, worker, (void *)paths) != 0)
		diag_die(EX_IOERR, "-j: %s", strerror(errno));
	R.merging = true;
	R.progress = -1;
	spec.paths = j.out;
	spec.npaths = j.n;
	rc = run_main(&spec, &ops, NULL);
	jobs_free(&j);
	return rc > j.status ? rc : j.status;
}

/* ---- the end ---- */

/* on_end writes the report, or a worker's states. */
static void
on_end(void *ctx, bool keep)
{
	FILE *f;

	setup();
	if (R.progress > 0 && R.worker == NULL && !R.merging)
		progress_end();
	if (R.worker == NULL) {
		write_report();
		return;
	}
	if ((f = fopen(R.worker, "w")) == NULL || save_states(f) != 0 || fclose(f) != 0) {
		diag_err("-j: %s", R.worker);
		diag_note_ioerr();
	}
}

static int
on_after(void *ctx, int status)
{
	return status;
}

static void
on_free(void *ctx)
{
	struct sess_list *l;
	hm_iter it;
	size_t i;

	if (!R.ready)
		return;
	for (l = hm_first(R.sessions, &it); l; l = hm_next(R.sessions, &it))
		free(l->iv);
	hm_free(R.sessions);
	gr_free(R.g_entities);
	for (i = 0; i < R.ndims; i++) {
		gr_free(R.g_dims[i]);
		rec_path_free(R.p_dims[i]);
	}
	gr_free(R.g_matrix);
	gr_free(R.g_metric);
	gr_free(R.g_metric_by);
	gr_free(R.g_hours);
	gr_free(R.g_hist);
	gr_free(R.g_dist);
	aggs_free(&R.a_count);
	aggs_free(&R.a_dim);
	aggs_free(&R.a_metric);
	aggs_free(&R.a_dist);
	rec_path_free(R.p_entity);
	rec_path_free(R.p_metric);
	rec_path_free(R.p_session);
	free(R.dups.slot);
	buf_free(&R.key);
	buf_free(&R.txt);
	buf_free(&R.num);
	agg_cols_free(&R.cols);
	json_decref(R.prev);
	hm_free(R.reasons);
}
