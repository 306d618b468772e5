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
	OPT_LENIENT,
	OPT_SET,
	OPT_DEL
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
	{ "set",		required_argument,	NULL, OPT_SET },
	{ "del",		required_argument,	NULL, OPT_DEL },
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
	"                           are dropped and counted as filtered, not rejected\n"
	"      --set NAME=EXPR      set the top-level field NAME to the value of EXPR\n"
	"                           (repeatable, in order: later ones see earlier ones;\n"
	"                           --check and --where see the result); a record on\n"
	"                           which EXPR fails is rejected with the reason\n"
	"      --del F,...          drop these top-level fields from the output\n",
	"Examples:\n"
	"  ingest --dead-letter bad.ndjson events.ndjson > good.ndjson\n"
	"  ingest --require user_id,timestamp --type value=number --stats < events.ndjson\n"
	"  ingest --format csv --infer trades.csv\n"
	"  ingest --format combined --dead-letter bad.ndjson access.log\n"
	"  ingest --format regex --pattern '^(?<ip>\\S+) (?<ms_int>\\d+)$' app.log\n"
	"  ingest --format csv --delimiter '|&|' --ragged --header a,b,c data.log\n"
	"  ingest --format zeek dns.log.gz\n"
	"  ingest --offset-file app.off app.log > batch.ndjson && ingest --commit app.off\n"
	"  ingest --set 'notional=.price * .amount' --del price,amount trades.ndjson\n"
	"  ingest --set 'status_class=(.status / 100 | floor) * 100' access.ndjson\n"
	"  ingest --set 'path=.url | sub(\"\\\\?.*\"; \"\")' --del url,session events.ndjson\n"
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

/* One --set: the field, its expression, and whether a later expression reads the field. */
struct setf {
	char		*name;
	size_t		 nlen;
	struct expr	*x;
	bool		 reparse;
};

/*
 * --set and --del.  Values are written into vals and the record's bytes
 * edited around them; when a later --set, --check or --where reads a
 * field set before it, the edited line is re-read (into one of two
 * records, alternating, each over its own memory stream) so it sees it.
 */
struct derive {
	struct setf	*set;
	size_t		 nset;
	char		**del;
	size_t		 ndel;
	bool		 reparse_gate;	/* --check or --where reads a set field */
	bool		 time_set;	/* a --set or --del names the time field */
	struct rec_edit	*edit;
	size_t		*voff;		/* edit[i]'s value at vals.p + voff[i] */
	size_t		 nedit;
	struct buf	 vals;
	struct rec	*rr[2];
	FILE		*ms[2];
	char		*msbuf[2];
	size_t		 mslen[2];
	int		 flip;
};

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
	struct derive		 dv;		/* --set, --del */
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

/*
 * field_name reads a top-level field name at *s for --set and --del: a
 * plain name (letters, digits, '_'), optionally after a '.', or any name
 * in double quotes (\" and \\ escaped), ."like this".  Stops at the first
 * character after it.  Returns the name (allocated), or NULL with *s at
 * the problem.
 */
static char *
field_name(const char **s, size_t *len)
{
	const char *p = *s;
	struct buf b = BUF_INIT;

	if (*p == '.')
		p++;
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\0' || (*p == '\\' && p[1] != '"' && p[1] != '\\'))
				goto bad;
			if (*p == '\\')
				p++;
			buf_addc(&b, *p);
		}
		p++;
	} else {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'))
			goto bad;
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
		    (*p >= '0' && *p <= '9'))
			buf_addc(&b, *p++);
	}
	if (b.len == 0 || memchr(b.p, '\0', b.len) != NULL)
		goto bad;
	*s = p;
	*len = b.len;
	buf_addc(&b, '\0');
	return b.p;
bad:
	buf_free(&b);
	*s = p;
	return NULL;
}

/* name_check refuses a reserved name ("@watermark" and every other "@..." is the stream's own). */
static void
name_check(const char *opt, const char *name)
{
	if (name[0] == '@')
		diag_usage_error("%s: '%s': names starting with '@' are reserved for control records",
		    opt, name);
}

/* add_set compiles one --set NAME=EXPR. */
static void
add_set(struct derive *d, const char *arg)
{
	const char *p = arg;
	struct expr_err err;
	struct setf *f;
	char *name;
	size_t len, col;

	if ((name = field_name(&p, &len)) == NULL || *p != '=') {
		free(name);
		if (strchr(arg, '=') == NULL)
			diag_usage_error("--set: expected NAME=EXPR: %s", arg);
		diag_usage_error("--set: '%.*s' is not a field name: a plain name (letters, digits, _) "
		    "or a quoted one, \"a.b\"=EXPR; only top-level fields can be set",
		    (int)(strchr(arg, '=') - arg), arg);
	}
	name_check("--set", name);
	d->set = xrealloc(d->set, (d->nset + 1) * sizeof *d->set);
	f = &d->set[d->nset++];
	f->name = name;
	f->nlen = len;
	f->reparse = false;
	if ((f->x = expr_compile(p + 1, &err)) == NULL) {
		/* The column counts in the whole NAME=EXPR argument, in characters. */
		for (col = 0; arg + col < p + 1; col++)
			if (((unsigned char)arg[col] & 0xC0) == 0x80)
				err.column--;
		diag_usage_error("--set: column %zu: %s", err.column + col, err.text);
	}
}

/* add_del reads one --del F,... */
static void
add_del(struct derive *d, const char *arg)
{
	const char *p = arg;
	char *name;
	size_t len;

	for (;;) {
		if ((name = field_name(&p, &len)) == NULL || (*p != ',' && *p != '\0')) {
			free(name);
			diag_usage_error("--del: expected top-level field names separated by commas "
			    "(quote other names: \"a.b\"): %s", arg);
		}
		name_check("--del", name);
		d->del = xrealloc(d->del, (d->ndel + 1) * sizeof *d->del);
		d->del[d->ndel++] = name;
		if (*p++ == '\0')
			break;
	}
}

/*
 * derive_plan checks --set and --del against each other and the other
 * options, finds where the edited record must be re-read, and readies the
 * buffers.  A field both set and deleted is a usage error, and so is
 * either with --normalize-time on the time field.
 */
static void
derive_plan(struct derive *d, const struct expr *check, const struct expr *where)
{
	size_t i, j;

	for (i = 0; i < d->ndel; i++)
		for (j = 0; j < d->nset; j++)
			if (strcmp(d->del[i], d->set[j].name) == 0)
				diag_usage_error("--set %s and --del %s: a field cannot be both set and "
				    "deleted", d->set[j].name, d->del[i]);
	for (i = 0; i < d->nset; i++) {
		struct setf *f = &d->set[i];

		for (j = i + 1; j < d->nset; j++)
			f->reparse |= expr_reads(d->set[j].x, f->name, f->nlen);
		d->reparse_gate |= (check != NULL && expr_reads(check, f->name, f->nlen)) ||
		    (where != NULL && expr_reads(where, f->name, f->nlen));
	}
	d->edit = xcalloc(d->nset + d->ndel + 1, sizeof *d->edit);
	d->voff = xcalloc(d->nset + d->ndel + 1, sizeof *d->voff);
	for (i = 0; i < 2 && (d->reparse_gate || d->nset > 1); i++) {
		d->rr[i] = rec_new();
		if ((d->ms[i] = open_memstream(&d->msbuf[i], &d->mslen[i])) == NULL)
			diag_die(EX_IOERR, "open_memstream: %s", strerror(errno));
	}
}

/* derive_time says whether --set or --del names the time field key (then not rewritten). */
static bool
derive_time(const struct derive *d, const char *key, size_t len)
{
	size_t i;

	for (i = 0; i < d->nset; i++)
		if (d->set[i].nlen == len && memcmp(d->set[i].name, key, len) == 0)
			return true;
	for (i = 0; i < d->ndel; i++)
		if (strlen(d->del[i]) == len && memcmp(d->del[i], key, len) == 0)
			return true;
	return false;
}

/* pend adds an edit of key to the pending ones, replacing one of the same key. */
static void
pend(struct derive *d, const char *key, size_t klen, size_t voff, size_t vlen, bool del)
{
	size_t i;

	for (i = 0; i < d->nedit; i++)
		if (d->edit[i].keylen == klen && memcmp(d->edit[i].key, key, klen) == 0)
			break;
	d->edit[i] = (struct rec_edit){ key, klen, del ? NULL : "", vlen };
	d->voff[i] = voff;
	if (i == d->nedit)
		d->nedit++;
}

/* fix points the pending edits at their values (vals may have moved as it grew). */
static void
fix(struct derive *d)
{
	size_t i;

	for (i = 0; i < d->nedit; i++)
		if (d->edit[i].json != NULL)
			d->edit[i].json = d->vals.p + d->voff[i];
}

/* reread applies the pending edits to the record and reads the result back; returns the record to go on with. */
static struct rec *
reread(struct derive *d, struct rec *rec)
{
	int k = d->flip ^= 1;
	FILE *f = d->ms[k];

	fix(d);
	rewind(f);
	rec_emit(rec, f, d->edit, d->nedit);
	if (fflush(f) != 0 || ferror(f))
		diag_die(EX_IOERR, "--set: %s", strerror(errno));
	if (rec_parse(d->rr[k], d->msbuf[k], d->mslen[k], NULL) != 0)
		diag_die(EX_IOERR, "--set: an edited record does not read back");
	d->nedit = 0;
	buf_reset(&d->vals);
	return d->rr[k];
}

/*
 * derive runs the --set expressions on a record.  Returns the record the
 * rest of the checks read (rec, or a re-read edited copy), the pending
 * edits left in I.dv; NULL after rejecting a record on which one failed.
 */
static struct rec *
derive(struct derive *d, struct rec *rec, const struct in_line *ln)
{
	const char *why;
	size_t i, off;

	d->nedit = 0;
	buf_reset(&d->vals);
	for (i = 0; i < d->nset; i++) {
		struct setf *f = &d->set[i];

		off = d->vals.len;
		if (expr_eval(f->x, rec, &d->vals, &why) < 0) {
			diag_reject(&ln->pos, ln->data, ln->len, "--set %s: %s", f->name, why);
			return NULL;
		}
		pend(d, f->name, f->nlen, off, d->vals.len - off, false);
		if (f->reparse || (i + 1 == d->nset && d->reparse_gate))
			rec = reread(d, rec);
	}
	return rec;
}

/* derive_edits adds the --del edits and returns the pending edits, ready for rec_emit. */
static size_t
derive_edits(struct derive *d)
{
	size_t i;

	for (i = 0; i < d->ndel; i++)
		pend(d, d->del[i], strlen(d->del[i]), 0, 0, true);
	fix(d);
	return d->nedit;
}

static void
derive_free(struct derive *d)
{
	size_t i;

	for (i = 0; i < d->nset; i++) {
		free(d->set[i].name);
		expr_free(d->set[i].x);
	}
	free(d->set);
	for (i = 0; i < d->ndel; i++)
		free(d->del[i]);
	free(d->del);
	free(d->edit);
	free(d->voff);
	buf_free(&d->vals);
	for (i = 0; i < 2; i++) {
		if (d->rr[i] != NULL)
			rec_free(d->rr[i]);
		if (d->ms[i] != NULL)
			fclose(d->ms[i]);
		free(d->msbuf[i]);
	}
}

/*
 * gate applies --check (reject when false) and --where (drop when false);
 * returns whether the record goes on.  A regex stopped at its match limit
 * decides nothing: the record is rejected with the reason.
 */
static bool
gate(struct rec *rec, const struct in_line *ln)
{
	if (I.check != NULL && (!expr_test(I.check, rec) || expr_limit(I.check) != NULL)) {
		if (expr_limit(I.check) != NULL)
			diag_reject(&ln->pos, ln->data, ln->len, "--check: %s", expr_limit(I.check));
		else
			diag_reject(&ln->pos, ln->data, ln->len, "check failed: %s", expr_src(I.check));
		return false;
	}
	if (I.where != NULL && (!expr_test(I.where, rec) || expr_limit(I.where) != NULL)) {
		if (expr_limit(I.where) != NULL)
			diag_reject(&ln->pos, ln->data, ln->len, "--where: %s", expr_limit(I.where));
		else
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

/* on_event validates one record, derives its fields and passes it on, its time rewritten when asked or built. */
static void
on_event(void *ctx, struct rec *rec, const struct in_line *ln)
{
	struct rec_edit *e = I.dv.edit;
	const char *why;
	size_t n;
	int64_t t;

	I.dv.nedit = 0;
	if (!valid(rec, ln) || (I.dv.nset > 0 && (rec = derive(&I.dv, rec, ln)) == NULL) ||
	    !gate(rec, ln))
		return;
	n = derive_edits(&I.dv);
	/*
	 * --normalize-time rewrites the time field as RFC 3339 UTC and
	 * rejects a record without a valid time; without it no field is
	 * rewritten, whatever the input format.
	 */
	if (I.tkey != NULL && I.normalize) {
		if (cli_time(&I.cli, rec, &t, &why) == 0) {
			buf_reset(&I.tbuf);
			jw_time(&I.tbuf, t);
			e[n++] = (struct rec_edit){ I.tkey, I.tkeylen, I.tbuf.p, I.tbuf.len };
		} else if (I.normalize) {
			diag_reject(&ln->pos, ln->data, ln->len, "%s", why);
			return;
		}
	}
	rec_emit(rec, stdout, e, n);
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
	if (I.nreq > 0 || I.ntc > 0 || I.check != NULL || I.where != NULL ||
	    I.dv.nset > 0 || I.dv.ndel > 0)
		return false;	/* the record is looked at or edited: on_event's work */
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
	derive_free(&I.dv);
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
		case OPT_SET:		/* --set NAME=EXPR: set a field to the value of EXPR */
			add_set(&I.dv, optarg);
			break;
		case OPT_DEL:		/* --del F,...: drop these fields */
			add_del(&I.dv, optarg);
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
	derive_plan(&I.dv, I.check, I.where);
	if (I.tkey != NULL && (I.dv.time_set = derive_time(&I.dv, I.tkey, I.tkeylen)) && I.normalize)
		diag_usage_error("--normalize-time: the time field %s is also named by --set or --del",
		    I.tkey);
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
