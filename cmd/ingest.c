/* ingest: the front door — read NDJSON, CSV, TSV, logfmt or access logs, validate the records, reject bad ones to a dead-letter, pass good ones on. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "diag.h"
#include "expr.h"
#include "formats.h"
#include "input.h"
#include "offsets.h"
#include "record.h"
#include "run.h"
#include "source.h"
#include "state.h"
#include "timeval.h"

enum {
	OPT_REQUIRE = CLI_TOOL_BASE,
	OPT_TYPE,
	OPT_NORMALIZE_TIME,
	OPT_WHERE,
	OPT_CHECK,
	OPT_FORMAT,
	OPT_HEADER,
	OPT_INFER,
	OPT_DELIMITER,
	OPT_OFFSET_FILE,
	OPT_COMMIT,
	OPT_PATTERN,
	OPT_RAGGED,
	OPT_SKIP_COMMENTS,
	OPT_LENIENT
};

#define FOLLOW_POLL_MS	5	/* how often --follow looks for appended lines */

static const struct option longopts[] = {
	{ "require",		required_argument,	NULL, OPT_REQUIRE },
	{ "type",		required_argument,	NULL, OPT_TYPE },
	{ "normalize-time",	no_argument,		NULL, OPT_NORMALIZE_TIME },
	{ "where",		required_argument,	NULL, OPT_WHERE },
	{ "check",		required_argument,	NULL, OPT_CHECK },
	{ "format",		required_argument,	NULL, OPT_FORMAT },
	{ "header",		required_argument,	NULL, OPT_HEADER },
	{ "infer",		no_argument,		NULL, OPT_INFER },
	{ "delimiter",		required_argument,	NULL, OPT_DELIMITER },
	{ "follow",		no_argument,		NULL, 'F' },
	{ "offset-file",	required_argument,	NULL, OPT_OFFSET_FILE },
	{ "commit",		required_argument,	NULL, OPT_COMMIT },
	{ "pattern",		required_argument,	NULL, OPT_PATTERN },
	{ "ragged",		no_argument,		NULL, OPT_RAGGED },
	{ "skip-comments",	no_argument,		NULL, OPT_SKIP_COMMENTS },
	{ "lenient",		no_argument,		NULL, OPT_LENIENT },
	CLI_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static const struct cli_help help = {
	"[options] [file ...]",
	"Read records as NDJSON, CSV, TSV, logfmt or access logs, validate them and pass the\n"
	"good ones on as NDJSON (NDJSON byte-identical).\n"
	"Reads the files in order (- or none: standard input; .gz is read transparently).",
	"      --format FMT         ndjson (default), csv, tsv, logfmt, clf, combined,\n"
	"                           nginx-timed, apache-timed, zeek, json, regex, or auto\n"
	"                           (detected per file from its first line)\n"
	"      --header A,B,...     CSV/TSV column names; the files have no header row\n"
	"      --infer              CSV/TSV/logfmt: numbers, true/false and empty fields become\n"
	"                           JSON numbers, booleans and null (else all strings)\n"
	"      --delimiter SEP      the CSV field separator, one or more characters\n"
	"                           (default ,)\n"
	"      --ragged             CSV/TSV rows with fewer fields than the header lack the\n"
	"                           rest; more: the rest in an _extra array\n"
	"      --skip-comments      skip (and count) lines starting with #\n"
	"      --lenient            access logs: keep lines with a malformed request, their\n"
	"                           method, path and protocol null, with a _malformed reason\n"
	"      --pattern RE         --format regex: a PCRE2 pattern, each named group\n"
	"                           (?<name>...) a field; names ending _int or _num are numbers\n"
	"  -F, --follow             like tail -F: wait for lines appended to the last file,\n"
	"                           follow rename rotation and truncation; SIGTERM or\n"
	"                           SIGINT ends the run\n"
	"      --offset-file F      resume the one file operand where the last committed run\n"
	"                           stopped, read to its current end, and leave the new\n"
	"                           position in F.pending (cron micro-batches)\n"
	"      --commit F           make F.pending the committed position; run it once the\n"
	"                           whole pipeline succeeded\n"
	"      --require F,...      reject records missing any of these fields\n"
	"      --type F=TYPE        reject records whose field F is not of TYPE: string,\n"
	"                           number, integer, bool, time, object, array, null\n"
	"                           (repeatable; a missing field is left to --require)\n"
	"      --normalize-time     rewrite the time field as RFC 3339 UTC; reject records\n"
	"                           without a valid one (without it no field is rewritten)\n"
	"      --check EXPR         reject records for which EXPR is false (ndflow(7))\n"
	"      --where EXPR         keep only records for which EXPR is true; the others\n"
	"                           are dropped and counted as filtered, not rejected\n",
	"Examples:\n"
	"  ingest --dead-letter bad.ndjson events.ndjson > good.ndjson\n"
	"  ingest --require user_id,timestamp --type value=number --stats < events.ndjson\n"
	"  ingest --format csv --infer trades.csv\n"
	"  ingest --format combined --dead-letter bad.ndjson access.log\n"
	"  ingest --format regex --pattern '^(?<ip>\\S+) (?<ms_int>\\d+)$' app.log\n"
	"  ingest --format csv --delimiter '|&|' --ragged --header a,b,c data.log\n"
	"  ingest --format zeek dns.log.gz\n"
	"  ingest --offset-file app.off app.log > batch.ndjson && ingest --commit app.off\n"
};

/* The types --type can require; "time" means a string or number that parses as a time. */
enum ftype { FT_STRING, FT_NUMBER, FT_INTEGER, FT_BOOL, FT_TIME, FT_OBJECT, FT_ARRAY, FT_NULL };

static const struct {
	const char	*name;
	enum ftype	 type;
} type_names[] = {
	{ "string", FT_STRING }, { "number", FT_NUMBER }, { "integer", FT_INTEGER },
	{ "bool", FT_BOOL }, { "boolean", FT_BOOL }, { "time", FT_TIME },
	{ "object", FT_OBJECT }, { "array", FT_ARRAY }, { "null", FT_NULL },
};

struct typecheck {
	struct rec_path	*path;
	enum ftype	 type;
	const char	*name;
};

/* type_ok reports whether v is of type t (times parse through fmt). */
static int
type_ok(const struct rec_val *v, enum ftype t, const struct tv_format *fmt)
{
	int64_t us;

	switch (t) {
	case FT_STRING:	return v->type == RT_STRING;
	case FT_NUMBER:	return v->type == RT_INT || v->type == RT_REAL;
	case FT_INTEGER: return v->type == RT_INT ||
	    (v->type == RT_REAL && memchr(v->raw, '.', v->rawlen) == NULL &&
	     memchr(v->raw, 'e', v->rawlen) == NULL && memchr(v->raw, 'E', v->rawlen) == NULL);
	case FT_BOOL:	return v->type == RT_BOOL;
	case FT_OBJECT:	return v->type == RT_OBJECT;
	case FT_ARRAY:	return v->type == RT_ARRAY;
	case FT_NULL:	return v->type == RT_NULL;
	case FT_TIME:
		if (v->type == RT_STRING)
			return tv_parse(fmt, v->s, v->slen, &us, NULL) == 0;
		if (v->type == RT_INT || v->type == RT_REAL)
			return tv_parse_number(fmt, NULL, v->raw, v->rawlen, &us, NULL) == 0;
		return 0;
	}
	return 0;
}

static void
add_type(struct typecheck **tc, size_t *n, const char *arg)
{
	const char *eq = strrchr(arg, '=');
	char *field;
	size_t i;

	if (eq == NULL || eq == arg)
		diag_usage_error("--type: expected FIELD=TYPE: %s", arg);
	for (i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
		if (strcmp(eq + 1, type_names[i].name) == 0)
			break;
	if (i == sizeof type_names / sizeof type_names[0])
		diag_usage_error("--type: unknown type '%s' (string, number, integer, bool, "
		    "time, object, array, null)", eq + 1);
	field = xstrndup(arg, (size_t)(eq - arg));
	*tc = xrealloc(*tc, (*n + 1) * sizeof **tc);
	(*tc)[*n].path = cli_path("--type", field);
	(*tc)[*n].type = type_names[i].type;
	(*tc)[*n].name = type_names[i].name;
	(*n)++;
	free(field);
}

/* Everything one run works with. */
static struct {
	struct cli		 cli;
	struct rec_path		**req;		/* --require */
	size_t			 nreq;
	struct typecheck	*tc;		/* --type */
	size_t			 ntc;
	bool			 normalize;	/* --normalize-time */
	struct expr		*check, *where;
	uint64_t		*filtered;
	enum fmt_kind		 kind;
	struct fmt_opts		 fopts;
	const char		*tkey;		/* the top-level time key rewritten, or NULL */
	size_t			 tkeylen;
	struct buf		 tbuf;
	bool			 follow;
	const char		*offset_file, *commit_file;
	char			**paths, *twopaths[2];
	int			 npaths;
	char			*operand;	/* the one --offset-file operand */
	struct off_state	 ost;
	struct off_plan		 plan;
	struct diag_pos		 end;		/* where the run stopped, for the offset */
	uint64_t		 rdev, rino;
} I;


/* commit promotes F.pending to F: the whole "ingest --commit F" run. */
static int
commit(const char *path)
{
	if (st_lock(path) != 0)
		diag_die(EX_IOERR, "offset file %s is locked by another run", path);
	if (off_commit(path) != 0) {
		if (errno == ENOENT)
			diag_die(EX_IOERR, "--commit: %s.pending: nothing to commit (the run did not finish)",
			    path);
		diag_die(EX_IOERR, "--commit: %s: %s", path, strerror(errno));
	}
	return EX_OK_ALL;
}

/*
 * offset_begin checks the operands of an --offset-file run (its offset
 * file locked), drops a stale pending one and plans where to start (a
 * rotated file to finish first goes in plan->rotated).  Returns the number
 * of files to read.  Exits 2 or 3 with a message on failure.
 */
static int
offset_begin(const char *offset_file, char **paths, int npaths, struct off_state *ost,
    struct off_plan *plan)
{
	const char *why;

	if (npaths != 1 || strcmp(paths[0], "-") == 0)
		diag_usage_error("--offset-file: expected exactly one file operand, not standard input");
	if (in_is_gzip(paths[0]) == 1)
		diag_usage_error("--offset-file: cannot resume a compressed file: %s", paths[0]);
	/* A failed run must not leave an older pending offset for --commit to find. */
	if (off_drop_pending(offset_file) != 0)
		diag_die(EX_IOERR, "%s.pending: %s", offset_file, strerror(errno));
	switch (off_load(offset_file, ost, &why)) {
	case -1:
		diag_die(EX_IOERR, "%s: %s", offset_file, why);
	case 0:
		return 1;	/* the first run: from the start */
	}
	if (strcmp(ost->file, paths[0]) != 0)
		diag_usage_error("--offset-file: %s holds the position in %s, not %s",
		    offset_file, ost->file, paths[0]);
	off_plan(ost, paths[0], plan);
	if (plan->note != NULL)
		diag_warn("%s: %s", paths[0], plan->note);
	return plan->rotated != NULL ? 2 : 1;
}

/*
 * offset_end writes where a successful run stopped (end, in the file with
 * device rdev and inode rino) to the pending offset.  If the file was
 * rotated between the plan and the reading, or during it, the position
 * would be in another file: it commits nothing and the next run sorts it
 * out.  Returns the run's exit status.
 */
static int
offset_end(const char *offset_file, const char *file, struct off_state *ost,
    const struct off_plan *plan, const struct diag_pos *end, uint64_t rdev, uint64_t rino)
{
	bool moved = plan->offset > 0 && plan->rotated == NULL &&
	    (rdev != ost->dev || rino != ost->ino);

	if (end->file == NULL || strcmp(end->file, file) != 0 ||
	    off_mark(ost, file, end->offset, end->line) != 0) {
		diag_err("%s", file);
		return EX_IOERR;
	}
	if (moved || rdev != ost->dev || rino != ost->ino) {
		diag_warn("%s: the file was rotated during the run; nothing to commit, "
		    "the next run reads it again", file);
		return EX_IOERR;
	}
	if (off_save_pending(offset_file, ost) != 0) {
		diag_err("%s.pending", offset_file);
		return EX_IOERR;
	}
	return EX_OK_ALL;
}

/* gate applies --check (reject when false) and --where (drop when false); returns whether the record goes on. */
static bool
gate(struct rec *rec, const struct in_line *ln)
{
	if (I.check != NULL && !expr_test(I.check, rec)) {
		diag_reject(&ln->pos, ln->data, ln->len, "check failed: %s", expr_src(I.check));
		return false;
	}
	if (I.where != NULL && !expr_test(I.where, rec)) {
		(*I.filtered)++;
		return false;
	}
	return true;
}

/* valid applies --require and --type; returns whether the record goes on. */
static bool
valid(struct rec *rec, const struct in_line *ln)
{
	struct rec_val v;
	size_t i;

	for (i = 0; i < I.nreq; i++)
		if (rec_get(rec, I.req[i], &v) == RT_MISSING) {
			diag_reject(&ln->pos, ln->data, ln->len, "missing required field '%s'",
			    rec_path_str(I.req[i]));
			return false;
		}
	for (i = 0; i < I.ntc; i++) {
		if (rec_get(rec, I.tc[i].path, &v) == RT_MISSING ||
		    type_ok(&v, I.tc[i].type, &I.cli.time_format))
			continue;
		if (I.tc[i].type == FT_TIME && (v.type == RT_STRING || v.type == RT_INT ||
		    v.type == RT_REAL))
			diag_reject(&ln->pos, ln->data, ln->len, "field '%s' is not a valid time",
			    rec_path_str(I.tc[i].path));
		else
			diag_reject(&ln->pos, ln->data, ln->len, "field '%s' is %s, expected %s",
			    rec_path_str(I.tc[i].path), rec_type_name(v.type), I.tc[i].name);
		return false;
	}
	return true;
}

/* on_event validates one record and passes it on, its time rewritten when asked or built. */
static void
on_event(void *ctx, struct rec *rec, const struct in_line *ln)
{
	struct rec_edit edit;
	const char *why;
	int64_t t;

	if (!valid(rec, ln) || !gate(rec, ln))
		return;
	/*
	 * --normalize-time rewrites the time field as RFC 3339 UTC and
	 * rejects a record without a valid time; without it no field is
	 * rewritten, whatever the input format.
	 */
	if (I.tkey != NULL && I.normalize) {
		if (cli_time(&I.cli, rec, &t, &why) == 0) {
			buf_reset(&I.tbuf);
			jw_time(&I.tbuf, t);
			edit = (struct rec_edit){ I.tkey, I.tkeylen, I.tbuf.p, I.tbuf.len };
			rec_emit(rec, stdout, &edit, 1);
			diag_out++;
			return;
		}
		if (I.normalize) {
			diag_reject(&ln->pos, ln->data, ln->len, "%s", why);
			return;
		}
	}
	rec_emit(rec, stdout, NULL, 0);
	diag_out++;
}

/*
 * on_built writes a record a format reader built straight from its bytes
 * when nothing needs it parsed: no --require, --type, --check or --where,
 * and no time field to rewrite.
 */
static bool
on_built(void *ctx, const char *json, size_t len, const struct in_line *ln)
{
	if (I.nreq > 0 || I.ntc > 0 || I.check != NULL || I.where != NULL)
		return false;
	if (I.tkey != NULL && I.normalize)
		return false;	/* the time field is rewritten: on_event's work */
	fwrite_unlocked(json, 1, len, stdout);
	putc_unlocked('\n', stdout);
	diag_out++;
	return true;
}

/* on_begin readies the input: resume where the offset file says, or follow the last file. */
static void
on_begin(void *ctx)
{
	struct input *in = run_input();
	struct source *src = run_source();

	if (I.follow)
		in_follow(in, FOLLOW_POLL_MS);
	if (I.offset_file == NULL)
		return;
	in_whole_lines(in, true);
	src_hold_open(src, true);
	in_start_at(in, I.plan.offset, I.plan.line);
	if (I.plan.offset > 0)
		src_resume(src, I.paths[0], I.cli.max_line, I.plan.line);
}

/* on_end notes where the input ended, for the offset file. */
static void
on_end(void *ctx, bool keep)
{
	struct diag_pos start;

	if (I.offset_file == NULL)
		return;
	in_tell(run_input(), &I.end);
	if (src_pending(run_source(), &start)) {
		/* A CSV record still being written: the next run starts at its first line. */
		I.end.offset = start.offset;
		I.end.line = start.line - 1;
	}
	in_file_id(run_input(), &I.rdev, &I.rino);
}

static void
on_free(void *ctx)
{
	size_t i;

	for (i = 0; i < I.nreq; i++)
		rec_path_free(I.req[i]);
	free(I.req);
	for (i = 0; i < I.ntc; i++)
		rec_path_free(I.tc[i].path);
	free(I.tc);
	buf_free(&I.tbuf);
	free((char *)I.tkey);
	expr_free(I.check);
	expr_free(I.where);
}

/* on_after leaves the new position in the pending offset file, once the whole run succeeded. */
static int
on_after(void *ctx, int status)
{
	if (I.offset_file != NULL && status == EX_OK_ALL)
		status = offset_end(I.offset_file, I.operand, &I.ost, &I.plan, &I.end, I.rdev, I.rino);
	off_state_free(&I.ost);
	off_plan_free(&I.plan);
	return status;
}

static const struct run_ops ops = {
	.begin = on_begin,
	.event = on_event,
	.built = on_built,
	.end = on_end,
	.free = on_free,
	.after = on_after,
};

static void	parse_options(int, char **);
static void	format_option(int, const char *);
static void	format_check(void);
static void	time_key(void);

int
main(int argc, char *argv[])
{
	struct run_spec spec = { .tool = "ingest", .cli = &I.cli };

	diag_init(argv[0]);
	parse_options(argc, argv);
	if (I.commit_file != NULL) {
		if (optind < argc || I.offset_file != NULL || I.follow)
			diag_usage_error("--commit: takes no file operands and no other run options");
		on_free(NULL);
		return commit(I.commit_file);
	}
	time_key();
	I.paths = argv + optind;
	I.npaths = argc - optind;
	if (I.offset_file != NULL) {
		if (I.follow)
			diag_usage_error("--offset-file and --follow cannot be used together");
		/* Lock the offset file before -o is opened (by lib/run), so a refused run changes nothing. */
		if (st_lock(I.offset_file) != 0)
			diag_die(EX_IOERR, "offset file %s is locked by another run", I.offset_file);
		I.npaths = offset_begin(I.offset_file, I.paths, I.npaths, &I.ost, &I.plan);
		I.operand = I.paths[0];
		if (I.plan.rotated != NULL) {
			I.twopaths[0] = I.plan.rotated;
			I.twopaths[1] = I.paths[0];
			I.paths = I.twopaths;
		}
	}
	I.cli.output_direct = I.follow;	/* a followed run has no end at which to put -o in place */
	spec.paths = I.paths;
	spec.npaths = I.npaths;
	spec.format = I.kind;
	spec.fopts = &I.fopts;
	return run_main(&spec, &ops, NULL);
}

static void
parse_options(int argc, char *argv[])
{
	int c;

	cli_init(&I.cli);
	I.kind = FMT_NDJSON;
	I.fopts.delim = ",";
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS "F", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_REQUIRE:	/* --require F,...: these fields must be present */
			cli_paths("--require", optarg, &I.req, &I.nreq);
			break;
		case OPT_TYPE:		/* --type F=TYPE: the field, when present, has this type */
			add_type(&I.tc, &I.ntc, optarg);
			break;
		case OPT_NORMALIZE_TIME: /* --normalize-time: rewrite the time field as RFC 3339 UTC */
			I.normalize = true;
			break;
		case OPT_FORMAT: case OPT_HEADER: case OPT_INFER: case OPT_DELIMITER:
		case OPT_PATTERN: case OPT_RAGGED: case OPT_SKIP_COMMENTS: case OPT_LENIENT:
			format_option(c, optarg);
			break;
		case OPT_WHERE:		/* --where EXPR: drop records for which EXPR is false */
			expr_free(I.where);
			I.where = cli_expr("--where", optarg);
			I.filtered = diag_counter("filtered");
			break;
		case OPT_CHECK:		/* --check EXPR: reject records for which EXPR is false */
			expr_free(I.check);
			I.check = cli_expr("--check", optarg);
			break;
		case 'F':		/* --follow: wait for appended lines, like tail -F */
			I.follow = true;
			break;
		case OPT_OFFSET_FILE:	/* --offset-file F: resume where the last committed run stopped */
			I.offset_file = optarg;
			break;
		case OPT_COMMIT:	/* --commit F: the pipeline succeeded: commit F.pending */
			I.commit_file = optarg;
			break;
		default:
			if (!cli_common(&I.cli, c, optarg, &help))
				diag_usage_error("unhandled option");
		}
	}
	format_check();
}

static void
time_key(void)
{
	/* The compiled --time-field path is needed before lib/run compiles it. */
	struct rec_path *tp = cli_path("--time-field", I.cli.time_field);

	/*
	 * The time field is rewritten in place, so it must be a top-level
	 * field: for --normalize-time that is a usage error; for records built
	 * from CSV or logs, which always get it, a nested one is left as it is.
	 */
	if ((I.tkey = rec_path_top(tp, &I.tkeylen)) == NULL ||
	    strchr(I.cli.time_field[0] == '.' ? I.cli.time_field + 1 : I.cli.time_field, '.') ||
	    strchr(I.cli.time_field, '[')) {
		if (I.normalize)
			diag_usage_error("--normalize-time: the time field must be a top-level field: %s",
			    I.cli.time_field);
		I.tkey = NULL;
	} else
		I.tkey = xstrndup(I.tkey, I.tkeylen);

	rec_path_free(tp);
}

/* format_option takes one of the options that say how to read the input (lib/formats). */
static void
format_option(int c, const char *arg)
{
	switch (c) {
	case OPT_FORMAT:	/* --format NAME: how to read the input */
		if (fmt_by_name(arg, &I.kind) != 0)
			diag_usage_error("--format: unknown format '%s' (%s)", arg, fmt_names());
		break;
	case OPT_HEADER:	/* --header a,b,c: CSV/TSV column names; the files have no header row */
		I.fopts.header = arg;
		break;
	case OPT_INFER:		/* --infer: numbers, booleans and empty fields as JSON values */
		I.fopts.infer = true;
		break;
	case OPT_DELIMITER:	/* --delimiter S: the CSV field separator, one or more bytes */
		if (strcmp(arg, "\\t") == 0 || strcmp(arg, "tab") == 0)
			I.fopts.delim = "\t";
		else if (arg[0] == '\0' || strpbrk(arg, "\"\n\r") != NULL)
			diag_usage_error("--delimiter: expected one or more characters, no quote "
			    "or newline: '%s'", arg);
		else
			I.fopts.delim = arg;
		break;
	case OPT_PATTERN:	/* --pattern RE: the PCRE2 pattern of --format regex */
		I.fopts.pattern = arg;
		break;
	case OPT_RAGGED:	/* --ragged: rows of another width than the header are kept */
		I.fopts.ragged = true;
		break;
	case OPT_SKIP_COMMENTS:	/* --skip-comments: lines starting with '#' are skipped */
		I.fopts.skip_comments = true;
		break;
	case OPT_LENIENT:	/* --lenient: access-log lines with a malformed request are kept */
		I.fopts.lenient = true;
		break;
	}
}

/* format_check refuses format options that do not go together, before anything is read. */
static void
format_check(void)
{
	char why[256];

	if (I.fopts.pattern != NULL && I.kind != FMT_REGEX)
		diag_usage_error("--pattern: only with --format regex");
	if (fmt_check(I.kind, &I.fopts, why, sizeof why) != 0)
		diag_usage_error("%s", why);
}
