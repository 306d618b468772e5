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
	OPT_COMMIT
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
	CLI_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static const struct cli_help help = {
	"[options] [file ...]",
	"Read records as NDJSON, CSV, TSV, logfmt or access logs, validate them and pass the\n"
	"good ones on as NDJSON (NDJSON byte-identical).\n"
	"Reads the files in order (- or none: standard input; .gz is read transparently).",
	"      --format FMT         ndjson (default), csv, tsv, logfmt, clf, combined, or auto\n"
	"                           (detected per file from its first line)\n"
	"      --header A,B,...     CSV/TSV column names; the files have no header row\n"
	"      --infer              CSV/TSV/logfmt: numbers, true/false and empty fields become\n"
	"                           JSON numbers, booleans and null (else all strings)\n"
	"      --delimiter C        the CSV field separator (default ,)\n"
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
	"                           without a valid one (records built from CSV, TSV and\n"
	"                           logfmt get it rewritten whenever it parses)\n"
	"      --check EXPR         reject records for which EXPR is false (ndflow(7))\n"
	"      --where EXPR         keep only records for which EXPR is true; the others\n"
	"                           are dropped and counted as filtered, not rejected\n",
	"Examples:\n"
	"  ingest --dead-letter bad.ndjson events.ndjson > good.ndjson\n"
	"  ingest --require user_id,timestamp --type value=number --stats < events.ndjson\n"
	"  ingest --format csv --infer trades.csv\n"
	"  ingest --format combined --dead-letter bad.ndjson access.log\n"
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
			return tv_parse(fmt, v->raw, v->rawlen, &us, NULL) == 0;
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

/* The --check and --where expressions, and the count of records --where dropped. */
static struct expr	*check, *where;
static uint64_t		*filtered;

static struct input *running;	/* for the signal handler of --follow */

static void
on_stop(int sig)
{
	(void)sig;
	if (running != NULL)
		in_stop(running);
}

/* is_gzip reports whether path starts with the gzip magic bytes (an offset in it would mean nothing). */
static bool
is_gzip(const char *path)
{
	unsigned char m[2];
	FILE *f = fopen(path, "rb");
	bool gz;

	if (f == NULL)
		return false;
	gz = fread(m, 1, 2, f) == 2 && m[0] == 0x1f && m[1] == 0x8b;
	fclose(f);
	return gz;
}

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
	if (is_gzip(paths[0]))
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

/* One record on its way through ingest: where it came from, its input bytes, its JSON. */
struct record {
	struct diag_pos	 pos;	/* of its first line */
	const char	*raw;	/* the input text (all its lines): what the dead-letter keeps */
	size_t		 rawlen;
	const char	*json;	/* the JSON object line (raw itself for NDJSON) */
	size_t		 jsonlen;
	bool		 built;	/* made by a format reader, not read as NDJSON */
};

/* gate applies --check (reject when false) and --where (drop when false); returns whether the record goes on. */
static bool
gate(struct rec *rec, const struct record *r)
{
	if (check != NULL && !expr_test(check, rec)) {
		diag_reject(&r->pos, r->raw, r->rawlen, "check failed: %s", expr_src(check));
		return false;
	}
	if (where != NULL && !expr_test(where, rec)) {
		(*filtered)++;
		return false;
	}
	return true;
}

/*
 * The reader side: lines from lib/input, turned into records by the format
 * reader.  A CSV record may span lines; its position is its first line's.
 */
struct source {
	struct input		*in;
	struct fmt_reader	*fr;
	bool			 autodetect;
	bool			 detect_pending;	/* a new file began; detect at its first non-blank line */
	const char		*file;			/* the file of the last line, to see a new one begin */
	uint64_t		 line;
	struct buf		 acc;			/* the lines of a record still open (FMT_MORE) */
	struct diag_pos		 accpos;
	bool			 open;
	struct buf		 json;
	size_t			 max;			/* longest record text, --max-line-bytes */
	uint64_t		*blank;			/* blank lines, counted under --stats */
	bool			 hold_open;		/* --offset-file: a record open at the end is left for the next run */
	char			 formats[128];		/* what --format auto chose, for --stats */
};

static void
note_format(struct source *src, enum fmt_kind k)
{
	const char *name = fmt_name(k);
	size_t n = strlen(name), have = strlen(src->formats);
	const char *p;

	for (p = src->formats; (p = strstr(p, name)) != NULL; p += n)
		if ((p == src->formats || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return;
	if (have + n + 2 < sizeof src->formats)
		snprintf(src->formats + have, sizeof src->formats - have, "%s%s", have ? "," : "", name);
	diag_stat_str("format", src->formats);
}

static bool
blank_line(const char *s, size_t len)
{
	size_t k;

	for (k = 0; k < len && (s[k] == ' ' || s[k] == '\t'); k++)
		;
	return k == len;
}

/* close_open rejects a record whose quoted field never closed. */
static void
close_open(struct source *src)
{
	if (!src->open)
		return;
	diag_in++;
	diag_reject(&src->accpos, src->acc.p, src->acc.len,
	    "quoted field not closed at the end of the file");
	src->open = false;
}

/*
 * next_record reads lines until it has a record.  Returns 1 with *r filled
 * (valid until the next call), or 0 at the end of the input.  Malformed
 * records go to the dead-letter here.
 */
static int
next_record(struct source *src, struct record *r)
{
	struct in_line ln;
	enum fmt_result res;
	const char *text;
	size_t len;

	while (in_next(src->in, &ln)) {
		diag_poll();
		if (ln.pos.file != src->file || ln.pos.line <= src->line) {
			/* A new file (or the same one truncated): its own header and format. */
			close_open(src);
			fmt_start(src->fr);
			src->detect_pending = src->autodetect;
		}
		src->file = ln.pos.file;
		src->line = ln.pos.line;
		if (!src->open && blank_line(ln.data, ln.len)) {
			/* A blank line holds no record: skipped, and counted under --stats. */
			diag_in++;
			(*src->blank)++;
			continue;
		}
		if (src->detect_pending) {
			fmt_set_kind(src->fr, fmt_detect(ln.data, ln.len));
			note_format(src, fmt_kind(src->fr));
			src->detect_pending = false;
		}
		if (fmt_kind(src->fr) == FMT_NDJSON) {
			diag_in++;
			*r = (struct record){ ln.pos, ln.data, ln.len, ln.data, ln.len, false };
			return 1;
		}
		if (src->open) {
			buf_addc(&src->acc, '\n');
			buf_add(&src->acc, ln.data, ln.len);
			text = src->acc.p;
			len = src->acc.len;
		} else {
			text = ln.data;
			len = ln.len;
		}
		res = fmt_parse(src->fr, text, len, &src->json);
		if (res == FMT_MORE) {
			if (!src->open) {
				buf_reset(&src->acc);
				buf_add(&src->acc, ln.data, ln.len);
				src->accpos = ln.pos;
				src->open = true;
			}
			if (src->acc.len > src->max) {
				diag_in++;
				diag_reject(&src->accpos, src->acc.p, src->acc.len,
				    "record longer than %zu bytes (--max-line-bytes)", src->max);
				src->open = false;
			}
			continue;
		}
		*r = (struct record){ src->open ? src->accpos : ln.pos, text, len,
		    src->json.p, src->json.len, true };
		src->open = false;
		if (res == FMT_SKIP)
			continue;
		diag_in++;
		if (res == FMT_BAD) {
			diag_reject(&r->pos, r->raw, r->rawlen, "%s", fmt_why(src->fr));
			continue;
		}
		return 1;
	}
	if (!src->hold_open)
		close_open(src);
	return 0;
}

/*
 * prime readies the reader for a file resumed in the middle (--offset-file):
 * --format auto detects from the file's first line, and CSV and TSV read
 * their header from its first record, as a run from the start would have.
 */
static void
prime(struct source *src, char *path, size_t max_line)
{
	struct input *in = in_open(&path, 1, max_line);
	struct in_line ln;
	enum fmt_result res = FMT_SKIP;
	struct buf acc = BUF_INIT;

	fmt_start(src->fr);
	while (in_next(in, &ln)) {
		if (acc.len == 0 && blank_line(ln.data, ln.len))
			continue;
		if (src->detect_pending) {
			fmt_set_kind(src->fr, fmt_detect(ln.data, ln.len));
			note_format(src, fmt_kind(src->fr));
			src->detect_pending = false;
		}
		if (fmt_kind(src->fr) != FMT_CSV && fmt_kind(src->fr) != FMT_TSV)
			break;
		if (acc.len > 0)
			buf_addc(&acc, '\n');
		buf_add(&acc, ln.data, ln.len);
		/* The header row is the first record; it comes back as FMT_SKIP. */
		if ((res = fmt_parse(src->fr, acc.p, acc.len, &src->json)) != FMT_MORE ||
		    acc.len > src->max)
			break;
	}
	in_close(in);
	buf_free(&acc);
}

int
main(int argc, char *argv[])
{
	struct cli cli;
	struct rec_path **req = NULL;
	struct typecheck *tc = NULL;
	size_t nreq = 0, ntc = 0, i;
	bool normalize = false;
	struct source src;
	struct fmt_opts fopts = { ',', false, NULL };
	enum fmt_kind kind = FMT_NDJSON;
	struct record r;
	struct rec *rec;
	struct rec_err perr;
	struct rec_val v;
	struct buf tbuf = BUF_INIT;
	struct rec_edit edit;
	const char *tkey = NULL, *why;
	size_t tkeylen = 0;
	int64_t t;
	int c, wm, status;
	const char *offset_file = NULL, *commit_file = NULL;
	bool follow = false;
	struct off_state ost = { 0 };
	struct off_plan plan = { 0 };
	char **paths, *twopaths[2];
	int npaths;
	struct diag_pos end;
	uint64_t rdev, rino;
	struct sigaction sa;

	diag_init(argv[0]);
	cli_init(&cli);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS "F", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_REQUIRE:	/* --require F,...: these fields must be present */
			cli_paths("--require", optarg, &req, &nreq);
			break;
		case OPT_TYPE:		/* --type F=TYPE: the field, when present, has this type */
			add_type(&tc, &ntc, optarg);
			break;
		case OPT_NORMALIZE_TIME: /* --normalize-time: rewrite the time field as RFC 3339 UTC */
			normalize = true;
			break;
		case OPT_FORMAT:	/* --format NAME: how to read the input */
			if (fmt_by_name(optarg, &kind) != 0)
				diag_usage_error("--format: unknown format '%s' (%s)", optarg, fmt_names());
			break;
		case OPT_HEADER:	/* --header a,b,c: CSV/TSV column names; the files have no header row */
			fopts.header = optarg;
			break;
		case OPT_INFER:		/* --infer: numbers, booleans and empty fields as JSON values */
			fopts.infer = true;
			break;
		case OPT_DELIMITER:	/* --delimiter C: the CSV field separator */
			if (strcmp(optarg, "\\t") == 0 || strcmp(optarg, "tab") == 0)
				fopts.delim = '\t';
			else if (strlen(optarg) != 1 || optarg[0] == '"' || optarg[0] == '\n' ||
			    optarg[0] == '\r')
				diag_usage_error("--delimiter: expected one character other than a quote: %s",
				    optarg);
			else
				fopts.delim = optarg[0];
			break;
		case OPT_WHERE:		/* --where EXPR: drop records for which EXPR is false */
			expr_free(where);
			where = cli_expr("--where", optarg);
			filtered = diag_counter("filtered");
			break;
		case OPT_CHECK:		/* --check EXPR: reject records for which EXPR is false */
			expr_free(check);
			check = cli_expr("--check", optarg);
			break;
		case 'F':		/* --follow: wait for appended lines, like tail -F */
			follow = true;
			break;
		case OPT_OFFSET_FILE:	/* --offset-file F: resume where the last committed run stopped */
			offset_file = optarg;
			break;
		case OPT_COMMIT:	/* --commit F: the pipeline succeeded: commit F.pending */
			commit_file = optarg;
			break;
		default:
			if (!cli_common(&cli, c, optarg, &help))
				diag_usage_error("unhandled option");
		}
	}
	/* Lock the offset file before -o is opened, so a refused run changes nothing. */
	if (offset_file != NULL && commit_file == NULL && st_lock(offset_file) != 0)
		diag_die(EX_IOERR, "offset file %s is locked by another run", offset_file);
	cli.inputs = argv + optind;
	cli.ninputs = (size_t)(argc - optind);
	cli.output_direct = follow;	/* a followed run has no end at which to put -o in place */
	cli_finish(&cli);
	if (commit_file != NULL) {
		if (optind < argc || offset_file != NULL || follow)
			diag_usage_error("--commit: takes no file operands and no other run options");
		expr_free(check);
		expr_free(where);
		cli_free(&cli);
		return commit(commit_file);
	}
	/*
	 * The time field is rewritten in place, so it must be a top-level
	 * field: for --normalize-time that is a usage error; for records built
	 * from CSV or logs, which always get it, a nested one is left as it is.
	 */
	if ((tkey = rec_path_top(cli.time_path, &tkeylen)) == NULL ||
	    strchr(cli.time_field[0] == '.' ? cli.time_field + 1 : cli.time_field, '.') ||
	    strchr(cli.time_field, '[')) {
		if (normalize)
			diag_usage_error("--normalize-time: the time field must be a top-level field: %s",
			    cli.time_field);
		tkey = NULL;
	} else
		tkey = xstrndup(tkey, tkeylen);

	paths = argv + optind;
	npaths = argc - optind;
	if (offset_file != NULL) {
		if (follow)
			diag_usage_error("--offset-file and --follow cannot be used together");
		npaths = offset_begin(offset_file, paths, npaths, &ost, &plan);
		if (plan.rotated != NULL) {
			twopaths[0] = plan.rotated;
			twopaths[1] = paths[0];
			paths = twopaths;
		}
	}

	memset(&src, 0, sizeof src);
	src.in = in_open(paths, npaths, cli.max_line);
	src.fr = fmt_new(kind == FMT_AUTO ? FMT_NDJSON : kind, &fopts);
	src.autodetect = kind == FMT_AUTO;
	src.max = cli.max_line ? cli.max_line : IN_MAX_LINE_DEFAULT;
	src.blank = diag_counter("blank_lines");
	if (!src.autodetect)
		note_format(&src, kind);
	if (offset_file != NULL) {
		in_whole_lines(src.in, true);
		src.hold_open = true;
		in_start_at(src.in, plan.offset, plan.line);
		if (plan.offset > 0) {
			src.detect_pending = src.autodetect;
			prime(&src, paths[0], cli.max_line);
			src.file = paths[0];	/* not a new file: keep the header */
			src.line = plan.line;
		}
	}
	if (follow) {
		in_follow(src.in, FOLLOW_POLL_MS);
		running = src.in;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_stop;
		sa.sa_flags = SA_RESTART;	/* a write in progress finishes; the wait for input is cut short */
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	rec = rec_new();
	while (next_record(&src, &r)) {
		if (rec_parse(rec, r.json, r.jsonlen, &perr) != 0) {
			for (i = 0; i < r.jsonlen && (r.json[i] == ' ' || r.json[i] == '\t'); i++)
				;
			if (i == r.jsonlen || r.json[i] != '{')
				diag_reject(&r.pos, r.raw, r.rawlen, "not a JSON object");
			else
				diag_reject(&r.pos, r.raw, r.rawlen, "invalid JSON at column %zu: %s",
				    perr.column, perr.text);
			continue;
		}
		if (!r.built && (wm = rec_is_watermark(rec, NULL)) == 1) {
			/* Control records pass through; ingest has no use for them. */
			if (!cli.no_watermarks)
				rec_emit(rec, stdout, NULL, 0);
			continue;
		}
		for (i = 0; i < nreq; i++)
			if (rec_get(rec, req[i], &v) == RT_MISSING)
				break;
		if (i < nreq) {
			diag_reject(&r.pos, r.raw, r.rawlen, "missing required field '%s'",
			    rec_path_str(req[i]));
			continue;
		}
		for (i = 0; i < ntc; i++)
			if (rec_get(rec, tc[i].path, &v) != RT_MISSING &&
			    !type_ok(&v, tc[i].type, &cli.time_format))
				break;
		if (i < ntc) {
			if (tc[i].type == FT_TIME && (v.type == RT_STRING || v.type == RT_INT ||
			    v.type == RT_REAL))
				diag_reject(&r.pos, r.raw, r.rawlen, "field '%s' is not a valid time",
				    rec_path_str(tc[i].path));
			else
				diag_reject(&r.pos, r.raw, r.rawlen, "field '%s' is %s, expected %s",
				    rec_path_str(tc[i].path), rec_type_name(v.type), tc[i].name);
			continue;
		}
		if (!gate(rec, &r))
			continue;
		/*
		 * --normalize-time rejects a record without a valid time; records
		 * built from CSV or logs get theirs rewritten whenever it parses
		 * (access logs already carry RFC 3339).
		 */
		if (tkey != NULL && (normalize || (r.built && fmt_kind(src.fr) != FMT_CLF &&
		    fmt_kind(src.fr) != FMT_COMBINED))) {
			if (cli_time(&cli, rec, &t, &why) == 0) {
				buf_reset(&tbuf);
				jw_time(&tbuf, t);
				edit = (struct rec_edit){ tkey, tkeylen, tbuf.p, tbuf.len };
				rec_emit(rec, stdout, &edit, 1);
				diag_out++;
				continue;
			}
			if (normalize) {
				diag_reject(&r.pos, r.raw, r.rawlen, "%s", why);
				continue;
			}
		}
		rec_emit(rec, stdout, NULL, 0);
		diag_out++;
	}
	in_tell(src.in, &end);
	if (src.open) {
		/* A CSV record still being written: the next run starts at its first line. */
		end.offset = src.accpos.offset;
		end.line = src.accpos.line - 1;
	}
	in_file_id(src.in, &rdev, &rino);
	running = NULL;	/* a signal from now on must not reach the closed input */
	in_close(src.in);
	fmt_free(src.fr);
	buf_free(&src.acc);
	buf_free(&src.json);
	rec_free(rec);
	for (i = 0; i < nreq; i++)
		rec_path_free(req[i]);
	free(req);
	for (i = 0; i < ntc; i++)
		rec_path_free(tc[i].path);
	free(tc);
	buf_free(&tbuf);
	free((char *)tkey);
	expr_free(check);
	expr_free(where);
	cli_free(&cli);
	status = diag_finish();
	if (offset_file != NULL && status == EX_OK_ALL)
		status = offset_end(offset_file, argv[optind], &ost, &plan, &end, rdev, rino);
	off_state_free(&ost);
	off_plan_free(&plan);
	return status;
}
