/* ingest: the front door — validate NDJSON records, reject bad lines to a dead-letter, pass good ones through byte-identical. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "diag.h"
#include "expr.h"
#include "input.h"
#include "record.h"
#include "timeval.h"

enum {
	OPT_REQUIRE = CLI_TOOL_BASE,
	OPT_TYPE,
	OPT_NORMALIZE_TIME,
	OPT_WHERE,
	OPT_CHECK
};

static const struct option longopts[] = {
	{ "require",		required_argument,	NULL, OPT_REQUIRE },
	{ "type",		required_argument,	NULL, OPT_TYPE },
	{ "normalize-time",	no_argument,		NULL, OPT_NORMALIZE_TIME },
	{ "where",		required_argument,	NULL, OPT_WHERE },
	{ "check",		required_argument,	NULL, OPT_CHECK },
	CLI_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static const struct cli_help help = {
	"[options] [file ...]",
	"Validate newline-delimited JSON records and pass the good ones through unchanged.\n"
	"Reads the files in order (- or none: standard input; .gz is read transparently).",
	"      --require F,...      reject records missing any of these fields\n"
	"      --type F=TYPE        reject records whose field F is not of TYPE: string,\n"
	"                           number, integer, bool, time, object, array, null\n"
	"                           (repeatable; a missing field is left to --require)\n"
	"      --normalize-time     rewrite the time field as RFC 3339 UTC\n"
	"      --check EXPR         reject records for which EXPR is false (ndflow(7))\n"
	"      --where EXPR         keep only records for which EXPR is true; the others\n"
	"                           are dropped and counted as filtered, not rejected\n",
	"Examples:\n"
	"  ingest --dead-letter bad.ndjson events.ndjson > good.ndjson\n"
	"  ingest --require user_id,timestamp --type value=number --stats < events.ndjson\n"
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

/* gate applies --check (reject when false) and --where (drop when false); returns whether the record goes on. */
static bool
gate(struct rec *rec, const struct in_line *ln)
{
	if (check != NULL && !expr_test(check, rec)) {
		diag_reject(&ln->pos, ln->data, ln->len, "check failed: %s", expr_src(check));
		return false;
	}
	if (where != NULL && !expr_test(where, rec)) {
		(*filtered)++;
		return false;
	}
	return true;
}

int
main(int argc, char *argv[])
{
	struct cli cli;
	struct rec_path **req = NULL;
	struct typecheck *tc = NULL;
	size_t nreq = 0, ntc = 0, i;
	bool normalize = false;
	struct input *in;
	struct in_line ln;
	struct rec *rec;
	struct rec_err perr;
	struct rec_val v;
	struct buf tbuf = BUF_INIT;
	struct rec_edit edit;
	const char *tkey = NULL, *why;
	size_t tkeylen = 0;
	int64_t t;
	int c, wm;
	uint64_t *blank;
	size_t k;

	diag_init(argv[0]);
	cli_init(&cli);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS, longopts, NULL)) != -1) {
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
		case OPT_WHERE:		/* --where EXPR: drop records for which EXPR is false */
			expr_free(where);
			where = cli_expr("--where", optarg);
			filtered = diag_counter("filtered");
			break;
		case OPT_CHECK:		/* --check EXPR: reject records for which EXPR is false */
			expr_free(check);
			check = cli_expr("--check", optarg);
			break;
		default:
			if (!cli_common(&cli, c, optarg, &help))
				diag_usage_error("unhandled option");
		}
	}
	cli_finish(&cli);
	if (normalize) {
		struct rec_err e;
		struct rec_path *p = rec_path_compile(cli.time_field, &e);
		/* The edit is spliced into the top level, so the field must live there. */
		if (p == NULL || (tkey = rec_path_top(p, &tkeylen)) == NULL ||
		    strchr(cli.time_field[0] == '.' ? cli.time_field + 1 : cli.time_field, '.') ||
		    strchr(cli.time_field, '['))
			diag_usage_error("--normalize-time: the time field must be a top-level field: %s",
			    cli.time_field);
		tkey = xstrndup(tkey, tkeylen);
		rec_path_free(p);
	}

	in = in_open(argv + optind, argc - optind, cli.max_line);
	rec = rec_new();
	blank = diag_counter("blank_lines");
	while (in_next(in, &ln)) {
		diag_in++;
		diag_poll();
		for (k = 0; k < ln.len && (ln.data[k] == ' ' || ln.data[k] == '\t'); k++)
			;
		if (k == ln.len) {
			/* A blank line holds no record: skipped, and counted under --stats. */
			(*blank)++;
			continue;
		}
		if (rec_parse(rec, ln.data, ln.len, &perr) != 0) {
			if (ln.data[k] != '{')
				diag_reject(&ln.pos, ln.data, ln.len, "not a JSON object");
			else
				diag_reject(&ln.pos, ln.data, ln.len, "invalid JSON at column %zu: %s",
				    perr.column, perr.text);
			continue;
		}
		if ((wm = rec_is_watermark(rec, NULL)) == 1) {
			/* Control records pass through; ingest has no use for them. */
			if (!cli.no_watermarks)
				rec_emit(rec, stdout, NULL, 0);
			continue;
		}
		for (i = 0; i < nreq; i++)
			if (rec_get(rec, req[i], &v) == RT_MISSING)
				break;
		if (i < nreq) {
			diag_reject(&ln.pos, ln.data, ln.len, "missing required field '%s'",
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
				diag_reject(&ln.pos, ln.data, ln.len, "field '%s' is not a valid time",
				    rec_path_str(tc[i].path));
			else
				diag_reject(&ln.pos, ln.data, ln.len, "field '%s' is %s, expected %s",
				    rec_path_str(tc[i].path), rec_type_name(v.type), tc[i].name);
			continue;
		}
		if (!gate(rec, &ln))
			continue;
		if (normalize) {
			if (cli_time(&cli, rec, &t, &why) != 0) {
				diag_reject(&ln.pos, ln.data, ln.len, "%s", why);
				continue;
			}
			buf_reset(&tbuf);
			jw_time(&tbuf, t);
			edit = (struct rec_edit){ tkey, tkeylen, tbuf.p, tbuf.len };
			rec_emit(rec, stdout, &edit, 1);
		} else
			rec_emit(rec, stdout, NULL, 0);
		diag_out++;
	}
	in_close(in);
	rec_free(rec);
	for (i = 0; i < nreq; i++)
		rec_path_free(req[i]);
	free(req);
	for (i = 0; i < ntc; i++)
		rec_path_free(tc[i].path);
	free(tc);
	buf_free(&tbuf);
	if (normalize)
		free((char *)tkey);
	expr_free(check);
	expr_free(where);
	cli_free(&cli);
	return diag_finish();
}
