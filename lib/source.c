/* source: the format-aware record reader over lib/input — NDJSON, CSV, TSV, logfmt and access logs, records spanning lines, a header per file. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "source.h"

struct source {
	struct input		*in;
	struct fmt_reader	*fr;
	bool			 plain;			/* NDJSON only: the fast path */
	bool			 autodetect;
	bool			 detect_pending;	/* a new file began; detect at its first non-blank line */
	const char		*file;			/* the file of the last line, to see a new one begin */
	uint64_t		 line;
	struct buf		 acc;			/* the lines of a record still open (FMT_MORE) */
	struct diag_pos		 accpos;
	bool			 open;
	struct buf		 json;
	size_t			 max;			/* longest record text */
	uint64_t		*blank;			/* blank lines, counted under --stats */
	uint64_t		*comments;		/* '#' lines skipped (--skip-comments) */
	bool			 hold_open;		/* a record open at the end is left for the next run */
	char			 formats[128];		/* what --format auto chose, for --stats */
	/* --format json: the line being read, and whether it holds more documents */
	struct in_line		 jl;
	bool			 draining;
};

/* note_format adds a format to the "format" stat, once. */
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

struct source *
src_new(struct input *in, enum fmt_kind kind, const struct fmt_opts *opts, size_t max)
{
	struct source *src = xcalloc(1, sizeof(*src));
	struct fmt_opts o = *opts;

	src->in = in;
	src->max = max ? max : IN_MAX_LINE_DEFAULT;
	o.max_record = src->max;
	src->fr = fmt_new(kind == FMT_AUTO ? FMT_NDJSON : kind, &o);
	src->autodetect = kind == FMT_AUTO;
	src->plain = kind == FMT_NDJSON;
	src->blank = diag_counter("blank_lines");
	if (opts->skip_comments)
		src->comments = diag_counter("comment_lines");
	if (!src->autodetect)
		note_format(src, kind);
	return src;
}

void
src_free(struct source *src)
{
	if (src == NULL)
		return;
	fmt_free(src->fr);
	buf_free(&src->acc);
	buf_free(&src->json);
	free(src);
}

void
src_hold_open(struct source *src, bool hold)
{
	src->hold_open = hold;
}

enum fmt_kind
src_kind(const struct source *src)
{
	return fmt_kind(src->fr);
}

bool
src_pending(const struct source *src, struct diag_pos *start)
{
	if (src->open && start != NULL)
		*start = src->accpos;
	return src->open;
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

/* next_ndjson is src_next for plain NDJSON, the hot path: no per-file header, no detection. */
static int
next_ndjson(struct source *src, struct src_record *r)
{
	struct in_line *ln = &r->text;

	while (in_next(src->in, ln)) {
		diag_poll();
		if ((ln->len == 0 || ln->data[0] == ' ' || ln->data[0] == '\t') &&
		    blank_line(ln->data, ln->len)) {
			(*src->blank)++;
			continue;
		}
		diag_in++;
		r->json = ln->data;
		r->jsonlen = ln->len;
		r->built = false;
		return 1;
	}
	return 0;
}

/* json_open_at_end rejects a JSON document still open when its file ended. */
static void
json_open_at_end(struct source *src)
{
	struct fmt_doc d;

	fmt_doc(src->fr, &d);
	if (!d.open || src->hold_open)
		return;
	diag_in++;
	diag_reject(&src->accpos, d.text, d.len > 0 && d.text[d.len - 1] == '\n' ? d.len - 1 : d.len,
	    "JSON document not closed at the end of the file");
}

/*
 * next_json is src_next for --format json: the reader is given each line
 * once and says where its documents begin and end, so that a record's
 * position is the line its document began on.
 */
static int
next_json(struct source *src, struct src_record *r)
{
	enum fmt_result res;
	struct fmt_doc d;

	for (;;) {
		if (src->draining) {
			res = fmt_parse_more(src->fr, &src->json);
		} else {
			if (!in_next(src->in, &src->jl)) {
				json_open_at_end(src);
				return 0;
			}
			diag_poll();
			if (src->jl.pos.file != src->file || src->jl.pos.line <= src->line) {
				json_open_at_end(src);
				fmt_start(src->fr);
			}
			src->file = src->jl.pos.file;
			src->line = src->jl.pos.line;
			if (blank_line(src->jl.data, src->jl.len)) {
				fmt_doc(src->fr, &d);
				if (!d.open) {
					(*src->blank)++;
					continue;
				}
			}
			res = fmt_parse(src->fr, src->jl.data, src->jl.len, &src->json);
		}
		fmt_doc(src->fr, &d);
		src->draining = d.more;
		if (res == FMT_COMMENT) {
			(*src->comments)++;
			continue;
		}
		if (res == FMT_RECORD || res == FMT_BAD) {
			diag_in++;
			*r = (struct src_record){ { d.text, d.len, d.began_here ? src->jl.pos : src->accpos },
			    src->json.p, src->json.len, true };
			if (res == FMT_BAD && r->text.len == 0) {
				r->text.data = src->jl.data;
				r->text.len = src->jl.len;
			}
		}
		fmt_doc(src->fr, &d);
		if (d.open_here)
			src->accpos = src->jl.pos;
		if (res == FMT_RECORD)
			return 1;
		if (res == FMT_BAD)
			diag_reject(&r->text.pos, r->text.data, r->text.len, "%s", fmt_why(src->fr));
	}
}

int
src_next(struct source *src, struct src_record *r)
{
	struct in_line ln;
	enum fmt_result res;
	const char *text;
	size_t len;

	if (src->plain)
		return next_ndjson(src, r);
	if (fmt_kind(src->fr) == FMT_JSON)
		return next_json(src, r);
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
			*r = (struct src_record){ ln, ln.data, ln.len, false };
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
		*r = (struct src_record){ { text, len, src->open ? src->accpos : ln.pos },
		    src->json.p, src->json.len, true };
		src->open = false;
		if (res == FMT_SKIP)
			continue;
		if (res == FMT_COMMENT) {
			(*src->comments)++;
			continue;
		}
		diag_in++;
		if (res == FMT_BAD) {
			diag_reject(&r->text.pos, text, len, "%s", fmt_why(src->fr));
			continue;
		}
		return 1;
	}
	if (!src->hold_open)
		close_open(src);
	return 0;
}

void
src_resume(struct source *src, char *path, size_t max_line, uint64_t line)
{
	struct input *in = in_open(&path, 1, max_line);
	struct in_line ln;
	struct buf acc = BUF_INIT;
	enum fmt_result res;

	src->detect_pending = src->autodetect;
	fmt_start(src->fr);
	while (in_next(in, &ln)) {
		if (acc.len == 0 && blank_line(ln.data, ln.len))
			continue;
		if (src->detect_pending) {
			fmt_set_kind(src->fr, fmt_detect(ln.data, ln.len));
			note_format(src, fmt_kind(src->fr));
			src->detect_pending = false;
		}
		if (fmt_kind(src->fr) == FMT_ZEEK) {
			/* Zeek's header lines name and type the columns of the whole file. */
			if (ln.len == 0 || ln.data[0] != '#')
				break;
			(void)fmt_parse(src->fr, ln.data, ln.len, &src->json);
			continue;
		}
		if (fmt_kind(src->fr) != FMT_CSV && fmt_kind(src->fr) != FMT_TSV)
			break;
		if (acc.len > 0)
			buf_addc(&acc, '\n');
		buf_add(&acc, ln.data, ln.len);
		/* The header row is the first record; it comes back as FMT_SKIP. */
		res = fmt_parse(src->fr, acc.p, acc.len, &src->json);
		if (res == FMT_COMMENT) {
			buf_reset(&acc);
			continue;
		}
		if (res != FMT_MORE || acc.len > src->max)
			break;
	}
	in_close(in);
	buf_free(&acc);
	/* Not a new file: keep the header. */
	src->file = path;
	src->line = line;
}
