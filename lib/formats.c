/* formats: the input formats ingest reads (CSV, TSV, logfmt, access logs) as a table, each turning a record's text into one JSON object line. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "formats.h"
#include "hashmap.h"
#include "record.h"
#include "timeval.h"

/* Zeek's TSV: what the header lines of the file being read said (they apply until the next file). */
struct zeek {
	char		 sep[16], setsep[16], empty[32], unset[32];
	size_t		 seplen, setseplen, emptylen, unsetlen;
	char		*path;		/* #path, written as "_path" */
	uint8_t		*types;		/* one per #fields column: ZT_* | ZT_LIST for a set or vector */
	size_t		 ntypes;
	bool		 have_fields;
};

enum { ZT_STRING, ZT_NUMBER, ZT_BOOL, ZT_TIME, ZT_LIST = 0x10 };

struct fmt_reader {
	enum fmt_kind	 kind;
	struct fmt_opts	 opts;
	bool		 have_header;
	/* the column names, each encoded as "name": back to back; key i is keys[koff[i]..koff[i+1]) */
	struct buf	 keys;
	size_t		*koff;
	size_t		 nkeys, capkeys;
	/*
	 * The fields of the row being read: each a span of the text being
	 * parsed (most fields, copied nowhere) or of the scratch buffer
	 * fields, where those that had to be unescaped are, back to back
	 * from fstart on.  Spans are offsets, so that they stay valid when
	 * the text of a resumed record (FMT_MORE) has moved.
	 */
	struct buf	 fields;
	struct fspan {
		size_t	 off, len;
		bool	 text;		/* a span of text, else of fields */
	}		*fsp;
	size_t		 nf, capf, fstart;
	const char	*text;		/* the text fmt_parse was given */
	char		 why[160];
	/* A CSV record left open by FMT_MORE: its text had open_len bytes, beginning with open_head. */
	bool		 open;
	size_t		 open_len;
	char		 open_head[32];
	/* logfmt's keys of the current line, for finding a duplicate in O(1) */
	struct kset {
		struct kslot {
			uint32_t	gen;	/* the slot is in use when gen is the set's */
			uint32_t	idx;	/* the key: field idx */
		}		*slot;
		size_t		 cap;	/* a power of two, or 0 */
		uint32_t	 gen;
	}		 lkeys;
	struct fmt_stats st;
	/* FMT_REGEX: the compiled pattern, and its named groups in the order they open (keys holds their names) */
	pcre2_code		*re;
	pcre2_match_data	*md;
	struct rgroup {
		uint32_t	 no;	/* the group's number */
		int		 hint;	/* what the name's suffix asks for: HINT_* */
	}			*groups;
	size_t			 ngroups;
	struct zeek		 z;
	/* FMT_JSON: documents that span lines, or share one */
	struct jscan {
		const char	*line;		/* the text being scanned, from pos on */
		size_t		 len, pos;
		int		 depth;		/* of the open document; 0: none open */
		bool		 in_str, esc;
		bool		 in_array;	/* inside a top-level [...] of documents */
		bool		 want_comma;	/* in that array, after a document */
		bool		 here;		/* the open document began in this text */
		bool		 began_here;	/* the last result's document did */
		bool		 too_long;	/* past max_record: raw keeps only its start */
		size_t		 column;	/* where the open document began, 1-based */
		struct buf	 raw;		/* the open document's text, lines joined by "\n" */
		struct rec	*rec;		/* to check a document whole */
	}			 js;
};

enum { HINT_NONE, HINT_INT, HINT_NUM };

typedef enum fmt_result (*fmt_parse_fn)(struct fmt_reader *, const char *, size_t, struct buf *);

static enum fmt_result	parse_ndjson(struct fmt_reader *, const char *, size_t, struct buf *);
static enum fmt_result	parse_csv(struct fmt_reader *, const char *, size_t, struct buf *);
static enum fmt_result	parse_tsv(struct fmt_reader *, const char *, size_t, struct buf *);
static enum fmt_result	parse_logfmt(struct fmt_reader *, const char *, size_t, struct buf *);
static enum fmt_result	parse_clf(struct fmt_reader *, const char *, size_t, struct buf *);
static enum fmt_result	parse_combined(struct fmt_reader *, const char *, size_t, struct buf *);
static enum fmt_result	parse_nginx_timed(struct fmt_reader *, const char *, size_t, struct buf *);
static enum fmt_result	parse_apache_timed(struct fmt_reader *, const char *, size_t, struct buf *);
static void	str_or_number(struct buf *, const char *, size_t);
static bool	agent(struct fmt_reader *, const char *, size_t, size_t *, struct buf *, const char **);
static enum fmt_result	parse_json(struct fmt_reader *, const char *, size_t, struct buf *);
static enum fmt_result	parse_zeek(struct fmt_reader *, const char *, size_t, struct buf *);
static enum fmt_result	parse_regex(struct fmt_reader *, const char *, size_t, struct buf *);
static bool	detect_ndjson(const char *, size_t);
static bool	int_text(const char *, size_t);
static int	regex_setup(struct fmt_reader *, char *, size_t);
static bool	detect_combined(const char *, size_t);
static bool	detect_nginx_timed(const char *, size_t);
static bool	detect_zeek(const char *, size_t);
static bool	detect_apache_timed(const char *, size_t);
static bool	detect_clf(const char *, size_t);
static bool	detect_logfmt(const char *, size_t);
static bool	detect_tsv(const char *, size_t);
static bool	detect_csv(const char *, size_t);

/* The formats, in the order fmt_detect tries them. */
static const struct fmt_def {
	const char	*name;
	enum fmt_kind	 kind;
	bool		(*detect)(const char *, size_t);
	fmt_parse_fn	 parse;
} formats[] = {
	{ "ndjson",	FMT_NDJSON,	detect_ndjson,		parse_ndjson },
	{ "zeek",	FMT_ZEEK,	detect_zeek,		parse_zeek },
	{ "json",	FMT_JSON,	NULL,			parse_json },
	{ "nginx-timed", FMT_NGINX_TIMED, detect_nginx_timed,	parse_nginx_timed },
	{ "apache-timed", FMT_APACHE_TIMED, detect_apache_timed, parse_apache_timed },
	{ "combined",	FMT_COMBINED,	detect_combined,	parse_combined },
	{ "clf",	FMT_CLF,	detect_clf,		parse_clf },
	{ "logfmt",	FMT_LOGFMT,	detect_logfmt,		parse_logfmt },
	{ "tsv",	FMT_TSV,	detect_tsv,		parse_tsv },
	{ "csv",	FMT_CSV,	detect_csv,		parse_csv },
	{ "regex",	FMT_REGEX,	NULL,			parse_regex },
	{ "auto",	FMT_AUTO,	NULL,			NULL },
};
#define NFORMATS	(sizeof formats / sizeof formats[0])

static const struct fmt_def *
def_of(enum fmt_kind k)
{
	size_t i;

	for (i = 0; i < NFORMATS; i++)
		if (formats[i].kind == k)
			return &formats[i];
	return &formats[0];
}

int
fmt_by_name(const char *name, enum fmt_kind *kind)
{
	size_t i;

	for (i = 0; i < NFORMATS; i++)
		if (strcmp(formats[i].name, name) == 0) {
			*kind = formats[i].kind;
			return 0;
		}
	return -1;
}

const char *
fmt_name(enum fmt_kind k)
{
	return def_of(k)->name;
}

const char *
fmt_names(void)
{
	return "ndjson, csv, tsv, logfmt, clf, combined, nginx-timed, apache-timed, zeek, json, regex, auto";
}

enum fmt_kind
fmt_detect(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < NFORMATS; i++)
		if (formats[i].detect != NULL && formats[i].detect(s, len))
			return formats[i].kind;
	return FMT_CSV;
}

struct fmt_reader *
fmt_new(enum fmt_kind kind, const struct fmt_opts *opts)
{
	struct fmt_reader *r = xcalloc(1, sizeof *r);

	r->opts = *opts;
	if (r->opts.delim == NULL || r->opts.delim[0] == '\0')
		r->opts.delim = ",";
	fmt_set_kind(r, kind);
	if (kind == FMT_REGEX && regex_setup(r, r->why, sizeof r->why) != 0)
		abort();	/* fmt_check refuses such options first */
	return r;
}

void
fmt_free(struct fmt_reader *r)
{
	if (r == NULL)
		return;
	free(r->lkeys.slot);
	pcre2_match_data_free(r->md);
	pcre2_code_free(r->re);
	free(r->groups);
	free(r->z.path);
	buf_free(&r->js.raw);
	rec_free(r->js.rec);
	free(r->z.types);
	buf_free(&r->keys);
	buf_free(&r->fields);
	free(r->koff);
	free(r->fsp);
	free(r);
}

enum fmt_kind
fmt_kind(const struct fmt_reader *r)
{
	return r->kind;
}

const char *
fmt_why(const struct fmt_reader *r)
{
	return r->why;
}

void
fmt_stats(const struct fmt_reader *r, struct fmt_stats *st)
{
	*st = r->st;
}

static enum fmt_result
bad(struct fmt_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static enum fmt_result
bad(struct fmt_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof r->why, fmt, ap);
	va_end(ap);
	return FMT_BAD;
}

/* --- fields and keys ---------------------------------------------------- */

/* fields_reset forgets the fields of the last row; text is the one being split. */
static void
fields_reset(struct fmt_reader *r, const char *text)
{
	buf_reset(&r->fields);
	r->nf = 0;
	r->fstart = 0;
	r->text = text;
}

static inline void
field_push(struct fmt_reader *r, size_t off, size_t len, bool text)
{
	if (r->nf == r->capf) {
		r->capf = r->capf ? 2 * r->capf : 32;
		r->fsp = xrealloc(r->fsp, r->capf * sizeof *r->fsp);
	}
	r->fsp[r->nf++] = (struct fspan){ off, len, text };
}

/* field_end ends a field made in the scratch buffer: the bytes added since the last one ended. */
static void
field_end(struct fmt_reader *r)
{
	field_push(r, r->fstart, r->fields.len - r->fstart, false);
	r->fstart = r->fields.len;
}

/* field_text adds a field that is the bytes text[off..off+len) as they are. */
static inline void
field_text(struct fmt_reader *r, size_t off, size_t len)
{
	field_push(r, off, len, true);
}

/* field returns field i of the split row. */
static const char *
field(const struct fmt_reader *r, size_t i, size_t *len)
{
	const struct fspan *f = &r->fsp[i];

	*len = f->len;
	if (f->len == 0)
		return "";
	return (f->text ? r->text : r->fields.p) + f->off;
}

static void
key_add(struct fmt_reader *r, const char *name, size_t len)
{
	if (r->nkeys + 1 >= r->capkeys) {
		r->capkeys = r->capkeys ? 2 * r->capkeys : 32;
		r->koff = xrealloc(r->koff, r->capkeys * sizeof *r->koff);
	}
	if (r->nkeys == 0)
		r->koff[0] = 0;
	jw_str(&r->keys, name, len);
	buf_addc(&r->keys, ':');
	r->koff[++r->nkeys] = r->keys.len;
}

/*
 * header_from_fields makes the fields just split the column names.  An
 * empty name becomes the column number and a repeated one gets "_2",
 * "_3", ... (the smallest suffix not taken by an earlier column) so that
 * every record has distinct keys.  The names taken are kept in a hash set
 * and each name remembers the last suffix it used: names only get taken,
 * so the next free suffix is never below it, and n columns cost O(n)
 * lookups however they repeat (a scan of the earlier keys per suffix
 * tried made 4,000 equal names take 21 s).
 */
static void
header_from_fields(struct fmt_reader *r)
{
	struct buf name = BUF_INIT, enc = BUF_INIT;
	struct hm *taken = hm_new(1), *next = hm_new(sizeof(size_t));
	size_t i, len, n, *last;
	const char *s;
	char num[32];

	buf_reset(&r->keys);
	r->nkeys = 0;
	for (i = 0; i < r->nf; i++) {
		s = field(r, i, &len);
		if (len == 0) {
			s = num;
			len = (size_t)snprintf(num, sizeof num, "%zu", i + 1);
		}
		last = hm_put(next, s, len, NULL);
		for (n = *last + 1;; n++) {
			buf_reset(&name);
			buf_add(&name, s, len);
			if (n > 1) {
				char suf[32];
				buf_add(&name, suf, (size_t)snprintf(suf, sizeof suf, "_%zu", n));
			}
			/* Compared encoded, as written: two names jw_str writes alike are one key. */
			buf_reset(&enc);
			jw_str(&enc, name.p, name.len);
			r->st.probes++;
			if (hm_get(taken, enc.p, enc.len) == NULL)
				break;
		}
		*last = n;
		hm_put(taken, enc.p, enc.len, NULL);
		key_add(r, name.p, name.len);
	}
	hm_free(taken);
	hm_free(next);
	buf_free(&name);
	buf_free(&enc);
	r->have_header = true;
}

/* value writes one field: a string, or with --infer null, a boolean or a number where it is one. */
static void
value(struct fmt_reader *r, struct buf *out, const char *s, size_t len)
{
	if (r->opts.infer) {
		if (len == 0) {
			buf_add(out, "null", 4);
			return;
		}
		if ((len == 4 && (memcmp(s, "true", 4) == 0 || memcmp(s, "True", 4) == 0 ||
		    memcmp(s, "TRUE", 4) == 0))) {
			buf_add(out, "true", 4);
			return;
		}
		if ((len == 5 && (memcmp(s, "false", 5) == 0 || memcmp(s, "False", 5) == 0 ||
		    memcmp(s, "FALSE", 5) == 0))) {
			buf_add(out, "false", 5);
			return;
		}
		if (fmt_json_number(s, len)) {
			buf_add(out, s, len);
			return;
		}
	}
	jw_str(out, s, len);
}

/*
 * plain_number reports 1 when s is a JSON number of the common plain
 * shape, -?(0|[1-9][0-9]{0,17})(\.[0-9]+)?, which is always within
 * range; 0 when it cannot be a number; -1 when rec_number must decide.
 */
static int
plain_number(const char *s, size_t len)
{
	size_t i = s[0] == '-', d0;

	if (i == len || s[i] < '0' || s[i] > '9')
		return s[0] == '-' ? -1 : 0;
	d0 = i;
	if (s[i] == '0')
		i++;
	else
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	if (i - d0 > 18 || len > 64)
		return -1;
	if (i == len)
		return 1;
	if (s[i] == '.') {
		if (++i == len)
			return 0;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == len)
			return 1;
	}
	/* Only an exponent may follow: "2024-03-15" is no number. */
	return s[i] == 'e' || s[i] == 'E' ? -1 : 0;
}

bool
fmt_json_number(const char *s, size_t len)
{
	struct rec_val v;
	int plain;

	if (len == 0)
		return false;
	if ((plain = plain_number(s, len)) >= 0)
		return plain;
	switch (rec_number(s, len, &v)) {
	case RT_INT:
		return true;
	case RT_REAL:
		/* An integer past int64 stays text: past 2^53 any computation would round it. */
		return memchr(s, '.', len) != NULL || memchr(s, 'e', len) != NULL ||
		    memchr(s, 'E', len) != NULL;
	default:
		return false;
	}
}

/*
 * special reports whether any of the 8 bytes in x is one a JSON string
 * must escape: below 0x20, '"' or '\\'.  (Each test finds whether any byte
 * is below a bound or zero exactly, though not which one.)
 */
static inline bool
special(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');

	return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & high;
}

/*
 * put_str writes s[0..n), valid UTF-8, as a JSON string at w, which has
 * room for 6 * n + 2 bytes; returns the end.  Eight clean bytes at a
 * time: CSV cells rarely hold anything to escape.
 */
static char *
put_str(char *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0;
	uint64_t x;
	unsigned char c;

	*w++ = '"';
	while (i < n) {
		for (; i + 8 <= n; i += 8, w += 8) {
			memcpy(&x, s + i, 8);
			if (special(x))
				break;
			memcpy(w, &x, 8);
		}
		for (; i < n; i++) {
			c = (unsigned char)s[i];
			if (c >= 0x20 && c != '"' && c != '\\') {
				*w++ = (char)c;
				continue;
			}
			*w++ = '\\';
			switch (c) {
			case '"':	*w++ = '"'; break;
			case '\\':	*w++ = '\\'; break;
			case '\n':	*w++ = 'n'; break;
			case '\r':	*w++ = 'r'; break;
			case '\t':	*w++ = 't'; break;
			case '\b':	*w++ = 'b'; break;
			case '\f':	*w++ = 'f'; break;
			default:
				memcpy(w, "u00", 3);
				w[3] = hex[c >> 4];
				w[4] = hex[c & 15];
				w += 5;
			}
			i++;
			break;	/* back to eight at a time */
		}
	}
	*w++ = '"';
	return w;
}

/* put_value writes one field as value() does, at w with room for 6 * len + 6 bytes. */
static char *
put_value(const struct fmt_reader *r, char *w, const char *s, size_t len)
{
	if (r->opts.infer) {
		if (len == 0) {
			memcpy(w, "null", 4);
			return w + 4;
		}
		if ((len == 4 && (memcmp(s, "true", 4) == 0 || memcmp(s, "True", 4) == 0 ||
		    memcmp(s, "TRUE", 4) == 0))) {
			memcpy(w, "true", 4);
			return w + 4;
		}
		if ((len == 5 && (memcmp(s, "false", 5) == 0 || memcmp(s, "False", 5) == 0 ||
		    memcmp(s, "FALSE", 5) == 0))) {
			memcpy(w, "false", 5);
			return w + 5;
		}
		if (fmt_json_number(s, len)) {
			memcpy(w, s, len);
			return w + len;
		}
	}
	return put_str(w, s, len);
}

/*
 * row writes the split fields as an object keyed by the header.  A row
 * with another number of fields fails, unless --ragged: then the missing
 * fields are absent and the extra ones go in an "_extra" array.  The
 * bytes are written straight into room reserved once for the worst case.
 */
static enum fmt_result
row(struct fmt_reader *r, struct buf *out)
{
	size_t i, len, n, need = r->keys.len + 16;
	const char *s;
	char *w;

	if (!r->have_header) {
		header_from_fields(r);
		return FMT_SKIP;
	}
	if (r->nf != r->nkeys && !r->opts.ragged)
		return bad(r, "expected %zu field%s, got %zu", r->nkeys, r->nkeys == 1 ? "" : "s",
		    r->nf);
	for (i = 0; i < r->nf; i++)
		need += 6 * r->fsp[i].len + 8;
	buf_reserve(out, need);
	w = out->p + out->len;
	*w++ = '{';
	n = r->nf < r->nkeys ? r->nf : r->nkeys;
	for (i = 0; i < n; i++) {
		if (i > 0)
			*w++ = ',';
		len = r->koff[i + 1] - r->koff[i];
		memcpy(w, r->keys.p + r->koff[i], len);
		w += len;
		s = field(r, i, &len);
		w = put_value(r, w, s, len);
	}
	if (r->nf > r->nkeys) {
		if (n > 0)
			*w++ = ',';
		memcpy(w, "\"_extra\":[", 10);
		w += 10;
		for (i = n; i < r->nf; i++) {
			if (i > n)
				*w++ = ',';
			s = field(r, i, &len);
			w = put_value(r, w, s, len);
		}
		*w++ = ']';
	}
	*w++ = '}';
	out->len = (size_t)(w - out->p);
	return FMT_RECORD;
}

/* --- CSV (RFC 4180) ------------------------------------------------------ */

/*
 * csv_split splits s into fields: a field that starts with '"' is quoted
 * ("" is a quote, newlines are kept); a quote elsewhere is an ordinary
 * character.  Returns FMT_MORE when a quoted field is still open at the
 * end, FMT_BAD when a closing quote is followed by something else than a
 * delimiter.  With resume, s extends the text of the last FMT_MORE: the
 * fields before it and the open field's bytes so far are kept, and the
 * scan goes on inside that field at byte r->open_len.
 */
static enum fmt_result
csv_split(struct fmt_reader *r, const char *s, size_t len, const char *delim, bool resume)
{
	size_t i = 0, start, q0, dlen = strlen(delim);
	const char *q, *d;

	if (resume) {
		r->text = s;
		i = r->open_len;
		goto quoted;
	}
	fields_reset(r, s);
	for (;;) {
		if (i < len && s[i] == '"') {
			q0 = ++i;
			/* A quoted field without "" is a span of the text, like an unquoted one. */
			q = memchr(s + i, '"', len - i);
			if (q != NULL && ((size_t)(q - s) + 1 == len || s[q - s + 1] != '"')) {
				r->st.scanned += (size_t)(q - s) - i + 1;
				i = (size_t)(q - s) + 1;
				field_text(r, q0, i - 1 - q0);
				goto closed;
			}
quoted:
			for (;;) {
				q = memchr(s + i, '"', len - i);
				r->st.scanned += q == NULL ? len - i : (size_t)(q - s) - i + 1;
				if (q == NULL) {
					/* Keep what the open field holds so far; the next call starts here. */
					buf_add(&r->fields, s + i, len - i);
					r->open = true;
					r->open_len = len;
					memcpy(r->open_head, s, len < sizeof r->open_head ? len : sizeof r->open_head);
					return FMT_MORE;
				}
				buf_add(&r->fields, s + i, (size_t)(q - s) - i);
				i = (size_t)(q - s) + 1;
				if (i < len && s[i] == '"') {
					buf_addc(&r->fields, '"');
					i++;
					continue;
				}
				break;
			}
			field_end(r);
closed:
			if (i < len && (len - i < dlen || memcmp(s + i, delim, dlen) != 0))
				return bad(r, "unexpected character after a closing quote in field %zu",
				    r->nf);
		} else {
			start = i;
			d = dlen == 1 ? memchr(s + i, delim[0], len - i) : memmem(s + i, len - i, delim, dlen);
			i = d ? (size_t)(d - s) : len;
			r->st.scanned += i - start;
			field_text(r, start, i - start);
		}
		if (i >= len)
			return FMT_RECORD;
		i += dlen;	/* the delimiter */
	}
}

/*
 * resumes reports whether s continues the record the last FMT_MORE left
 * open: it is longer, has "\n" where that text ended, and begins alike.
 * Anything else is a new record (the caller gave the open one up).
 */
static bool
resumes(const struct fmt_reader *r, const char *s, size_t len)
{
	return r->open && len > r->open_len && s[r->open_len] == '\n' &&
	    memcmp(s, r->open_head, r->open_len < sizeof r->open_head ? r->open_len :
	    sizeof r->open_head) == 0;
}

static enum fmt_result
parse_csv(struct fmt_reader *r, const char *s, size_t len, struct buf *out)
{
	enum fmt_result res;
	bool resume = resumes(r, s, len);

	r->open = false;
	if (len == 0)
		return FMT_SKIP;
	if ((res = csv_split(r, s, len, r->opts.delim, resume)) != FMT_RECORD)
		return res;
	return row(r, out);
}

/* --- TSV ---------------------------------------------------------------- */

/* tsv_split splits s on tabs and undoes the \t \n \r \\ escapes; another backslash stays as it is. */
static void
tsv_split(struct fmt_reader *r, const char *s, size_t len)
{
	size_t i = 0, f0, f1;
	const char *tab;
	char c;

	fields_reset(r, s);
	for (;;) {
		f0 = i;
		tab = memchr(s + i, '\t', len - i);
		f1 = tab != NULL ? (size_t)(tab - s) : len;
		if (memchr(s + f0, '\\', f1 - f0) == NULL) {
			field_text(r, f0, f1 - f0);
		} else {
			for (i = f0; i < f1; i++) {
				c = s[i];
				if (c == '\\' && i + 1 < f1) {
					switch (s[i + 1]) {
					case 't':	c = '\t'; i++; break;
					case 'n':	c = '\n'; i++; break;
					case 'r':	c = '\r'; i++; break;
					case '\\':	c = '\\'; i++; break;
					}
				}
				buf_addc(&r->fields, c);
			}
			field_end(r);
		}
		if (tab == NULL)
			return;
		i = f1 + 1;
	}
}

static enum fmt_result
parse_tsv(struct fmt_reader *r, const char *s, size_t len, struct buf *out)
{
	if (len == 0)
		return FMT_SKIP;
	tsv_split(r, s, len);
	return row(r, out);
}

/* --- logfmt ------------------------------------------------------------- */

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* ks_clear empties the set of a line's keys in O(1): slots of an older generation are free. */
static void
ks_clear(struct kset *k)
{
	if (++k->gen == 0) {
		if (k->cap)
			memset(k->slot, 0, k->cap * sizeof *k->slot);
		k->gen = 1;
	}
}

/* ks_slot returns the slot holding the key s[0..len) among r's fields, or the free slot where it goes. */
static struct kslot *
ks_slot(struct fmt_reader *r, const char *s, size_t len)
{
	struct kset *k = &r->lkeys;
	size_t i = (size_t)hm_hash(s, len) & (k->cap - 1), klen;
	const char *key;

	for (;; i = (i + 1) & (k->cap - 1)) {
		if (k->slot[i].gen != k->gen)
			return &k->slot[i];
		r->st.probes++;
		key = field(r, k->slot[i].idx, &klen);
		if (klen == len && memcmp(key, s, len) == 0)
			return &k->slot[i];
	}
}

/*
 * ks_add records field idx, the key just added to r's fields, unless an
 * earlier key of the line is equal: then it returns that key's index,
 * else -1.  The table stays at most half full, so a probe ends soon.
 */
static long
ks_add(struct fmt_reader *r, size_t idx)
{
	struct kset *k = &r->lkeys;
	struct kslot *sl;
	const char *key;
	size_t klen, j;

	if (2 * (idx + 1) > k->cap) {
		/* Grow, and put back the keys of this line (all distinct, fields 0..idx-1). */
		free(k->slot);
		k->cap = k->cap ? 2 * k->cap : 64;
		k->slot = xcalloc(k->cap, sizeof *k->slot);
		k->gen = 1;
		for (j = 0; j < idx; j++) {
			key = field(r, j, &klen);
			sl = ks_slot(r, key, klen);
			sl->gen = k->gen;
			sl->idx = (uint32_t)j;
		}
	}
	key = field(r, idx, &klen);
	sl = ks_slot(r, key, klen);
	if (sl->gen == k->gen)
		return (long)sl->idx;
	sl->gen = k->gen;
	sl->idx = (uint32_t)idx;
	return -1;
}

static enum fmt_result
parse_logfmt(struct fmt_reader *r, const char *s, size_t len, struct buf *out)
{
	size_t i = 0, k0, k1, v0, n = 0;

	fields_reset(r, s);
	ks_clear(&r->lkeys);
	while (i < len && is_space(s[i]))
		i++;
	if (i == len)
		return FMT_SKIP;
	buf_addc(out, '{');
	while (i < len) {
		k0 = i;
		while (i < len && !is_space(s[i]) && s[i] != '=' && s[i] != '"')
			i++;
		k1 = i;
		if (k1 == k0)
			return bad(r, "expected a key at column %zu", i + 1);
		if (i < len && s[i] == '"')
			return bad(r, "unexpected quote in key at column %zu", i + 1);
		/* Keys are kept in fields, and in a hash set of the line's keys to find duplicates. */
		buf_add(&r->fields, s + k0, k1 - k0);
		field_end(r);
		if (r->nf > UINT32_MAX)
			return bad(r, "more than %lu keys", (unsigned long)UINT32_MAX);
		if (ks_add(r, r->nf - 1) >= 0)
			return bad(r, "duplicate key '%.*s'", (int)(k1 - k0), s + k0);
		if (n++ > 0)
			buf_addc(out, ',');
		jw_str(out, s + k0, k1 - k0);
		buf_addc(out, ':');
		if (i == len || s[i] != '=') {
			buf_add(out, "true", 4);	/* a bare key is a flag */
		} else if (++i < len && s[i] == '"') {
			/* Unescape into the scratch area after the keys, then write it. */
			size_t mark = r->fields.len;
			for (i++; i < len && s[i] != '"'; i++) {
				char c = s[i];
				if (c == '\\' && i + 1 < len) {
					switch (s[++i]) {
					case 'n':	c = '\n'; break;
					case 't':	c = '\t'; break;
					case 'r':	c = '\r'; break;
					case '"':	c = '"'; break;
					case '\\':	c = '\\'; break;
					default:	buf_addc(&r->fields, '\\'); c = s[i];
					}
				}
				buf_addc(&r->fields, c);
			}
			if (i == len)
				return bad(r, "quoted value of '%.*s' has no closing quote",
				    (int)(k1 - k0), s + k0);
			jw_str(out, r->fields.p + mark, r->fields.len - mark);
			r->fields.len = mark;
			i++;
			if (i < len && !is_space(s[i]))
				return bad(r, "unexpected character after a closing quote at column %zu",
				    i + 1);
		} else {
			v0 = i;
			while (i < len && !is_space(s[i]))
				i++;
			value(r, out, s + v0, i - v0);
		}
		while (i < len && is_space(s[i]))
			i++;
	}
	buf_addc(out, '}');
	return FMT_RECORD;
}

/* --- access logs (CLF and combined) ------------------------------------- */

/* token reads a run of non-spaces at *i; returns false when there is none. */
static bool
token(const char *s, size_t len, size_t *i, size_t *t0, size_t *t1)
{
	while (*i < len && s[*i] == ' ')
		(*i)++;
	*t0 = *i;
	while (*i < len && s[*i] != ' ')
		(*i)++;
	*t1 = *i;
	return *t1 > *t0;
}

/*
 * quoted reads a "..." field at *i (after spaces) where \" and \\ are
 * escapes; returns 1 with the contents' bounds, 0 when there is no
 * opening quote, -1 when there is no closing one.
 */
static int
quoted(const char *s, size_t len, size_t *i, size_t *q0, size_t *q1)
{
	while (*i < len && s[*i] == ' ')
		(*i)++;
	if (*i == len || s[*i] != '"')
		return 0;
	*q0 = ++*i;
	for (; *i < len; (*i)++) {
		if (s[*i] == '\\' && *i + 1 < len)
			(*i)++;
		else if (s[*i] == '"') {
			*q1 = (*i)++;
			return 1;
		}
	}
	return -1;
}

/* str_or_null writes "-" as null and anything else as a string, undoing \" and \\. */
static void
str_or_null(struct fmt_reader *r, struct buf *out, const char *s, size_t len)
{
	size_t i, mark;

	if (len == 1 && s[0] == '-') {
		buf_add(out, "null", 4);
		return;
	}
	if (memchr(s, '\\', len) == NULL) {
		jw_str(out, s, len);
		return;
	}
	mark = r->fields.len;
	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len && (s[i + 1] == '"' || s[i + 1] == '\\'))
			i++;
		buf_addc(&r->fields, s[i]);
	}
	jw_str(out, r->fields.p + mark, r->fields.len - mark);
	r->fields.len = mark;
}

static void
key(struct buf *out, const char *k)
{
	buf_addc(out, ',');
	jw_cstr(out, k);
	buf_addc(out, ':');
}

static bool
all_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0;
}

/* number writes a digits-only field as an integer, "-" as null; fails on anything else. */
static bool
number(struct buf *out, const char *s, size_t len)
{
	uint64_t v = 0;
	size_t i;

	if (len == 1 && s[0] == '-') {
		buf_add(out, "null", 4);
		return true;
	}
	if (!all_digits(s, len) || len > 19)
		return false;
	for (i = 0; i < len; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	jw_uint(out, v);
	return true;
}

/*
 * request splits "METHOD PATH PROTOCOL" (the path may hold spaces; the
 * protocol is missing in HTTP/0.9 lines).  A request of "-" (the server
 * got no request line) gives three nulls.  Returns false for one that
 * does not split (garbage from a scanner, a TLS hello): the caller
 * rejects the line, which keeps its bytes in the dead-letter.
 */
static bool
request(struct fmt_reader *r, struct buf *out, const char *s, size_t len)
{
	size_t m, p0, p1, i;
	const char *sp;

	for (m = 0; m < len && s[m] >= 'A' && s[m] <= 'Z'; m++)
		;
	p0 = m + 1;
	p1 = len;
	if (m > 0 && m < len && s[m] == ' ' && p0 < len && s[p0] != ' ') {
		/* the protocol is the last word when it looks like one */
		for (i = len; i > p0 && s[i - 1] != ' '; i--)
			;
		sp = s + i;
		if (i > p0 && len - i > 5 && memcmp(sp, "HTTP/", 5) == 0)
			p1 = i - 1;
		key(out, "method");
		jw_str(out, s, m);
		key(out, "path");
		str_or_null(r, out, s + p0, p1 - p0);
		key(out, "protocol");
		if (p1 < len)
			jw_str(out, s + p1 + 1, len - p1 - 1);
		else
			buf_add(out, "null", 4);
		return true;
	}
	if (!(len == 1 && s[0] == '-'))
		return false;
	buf_add(out, ",\"method\":null,\"path\":null,\"protocol\":null", 42);
	return true;
}

/*
 * timed reads what the timed variants add after the user agent, at *i:
 * nginx's "$request_time $upstream_response_time" (seconds; the upstream
 * time is "-" without an upstream, and a list such as "0.010, 0.020" when
 * several were tried, kept as a string) or Apache's "%D" (microseconds,
 * written in seconds).  Both become "request_time" in seconds, so that
 * either log answers the same query.  Returns false with the reason set.
 */
static bool
timed(struct fmt_reader *r, const char *s, size_t len, size_t *i, struct buf *out,
    enum fmt_kind kind)
{
	size_t t0, t1, u0;
	uint64_t us;
	size_t k;

	if (!token(s, len, i, &t0, &t1)) {
		bad(r, "missing request time after the user agent");
		return false;
	}
	key(out, "request_time");
	if (kind == FMT_APACHE_TIMED) {
		if (!all_digits(s + t0, t1 - t0) || t1 - t0 > 15) {
			bad(r, "request time (%%D) is not a number of microseconds: '%.*s'",
			    (int)(t1 - t0), s + t0);
			return false;
		}
		for (us = 0, k = t0; k < t1; k++)
			us = us * 10 + (uint64_t)(s[k] - '0');
		jw_real(out, (double)us / 1e6);
		return true;
	}
	if (!fmt_json_number(s + t0, t1 - t0) && !(t1 - t0 == 1 && s[t0] == '-')) {
		bad(r, "request time is not a number: '%.*s'", (int)(t1 - t0), s + t0);
		return false;
	}
	str_or_number(out, s + t0, t1 - t0);
	while (*i < len && s[*i] == ' ')
		(*i)++;
	if (*i == len) {
		bad(r, "missing upstream response time after the request time");
		return false;
	}
	/* The upstream time is the rest of the line: a list has spaces in it. */
	u0 = *i;
	*i = len;
	key(out, "upstream_response_time");
	str_or_number(out, s + u0, len - u0);
	return true;
}

/*
 * agent reads combined's "referrer" "user agent" at *i.  Returns false
 * with the reason set; under --lenient a user agent without its closing
 * quote runs to the end of the line and *malformed says so.
 */
static bool
agent(struct fmt_reader *r, const char *s, size_t len, size_t *i, struct buf *out,
    const char **malformed)
{
	size_t q0, q1;
	int q;

	if ((q = quoted(s, len, i, &q0, &q1)) <= 0) {
		bad(r, q == 0 ? "missing referrer (a CLF line? try --format clf)" :
		    "referrer has no closing quote");
		return false;
	}
	key(out, "referrer");
	str_or_null(r, out, s + q0, q1 - q0);
	if ((q = quoted(s, len, i, &q0, &q1)) == 0 || (q < 0 && !r->opts.lenient)) {
		bad(r, q == 0 ? "missing user agent" : "user agent has no closing quote");
		return false;
	}
	if (q < 0) {
		q1 = len;
		*malformed = "user agent has no closing quote";
	}
	key(out, "user_agent");
	str_or_null(r, out, s + q0, q1 - q0);
	return true;
}

/* str_or_number writes "-" as null, a number as itself, anything else as a string. */
static void
str_or_number(struct buf *out, const char *s, size_t len)
{
	if (len == 1 && s[0] == '-')
		buf_add(out, "null", 4);
	else if (fmt_json_number(s, len))
		buf_add(out, s, len);
	else
		jw_str(out, s, len);
}

static enum fmt_result
parse_access(struct fmt_reader *r, const char *s, size_t len, struct buf *out, enum fmt_kind kind)
{
	static const struct tv_format clf = { TV_CLF, NULL };
	size_t i = 0, t0, t1, st0, st1, b0, b1, rq0, rq1;
	const char *close, *why = NULL, *malformed = NULL;
	int64_t us;
	int q;

	fields_reset(r, s);
	while (len > 0 && s[len - 1] == ' ')
		len--;
	if (len == 0)
		return FMT_SKIP;
	if (!token(s, len, &i, &t0, &t1))
		return bad(r, "missing host");
	buf_add(out, "{\"host\":", 8);
	str_or_null(r, out, s + t0, t1 - t0);
	if (!token(s, len, &i, &t0, &t1) || s[t0] == '[')
		return bad(r, "missing ident and user fields");
	key(out, "ident");
	str_or_null(r, out, s + t0, t1 - t0);
	if (!token(s, len, &i, &t0, &t1) || s[t0] == '[')
		return bad(r, "missing user field");
	key(out, "user");
	str_or_null(r, out, s + t0, t1 - t0);
	while (i < len && s[i] == ' ')
		i++;
	if (i == len || s[i] != '[')
		return bad(r, "expected '[' before the timestamp");
	close = memchr(s + i, ']', len - i);
	if (close == NULL)
		return bad(r, "timestamp has no closing ']'");
	if (tv_parse(&clf, s + i + 1, (size_t)(close - s) - i - 1, &us, &why) != 0)
		return bad(r, "bad timestamp '%.*s': %s", (int)((size_t)(close - s) - i - 1),
		    s + i + 1, why);
	key(out, "timestamp");
	jw_time(out, us);
	i = (size_t)(close - s) + 1;
	if ((q = quoted(s, len, &i, &rq0, &rq1)) == 0)
		return bad(r, "expected '\"' before the request line");
	if (q < 0)
		return bad(r, "request line has no closing quote");
	if (!request(r, out, s + rq0, rq1 - rq0)) {
		if (!r->opts.lenient)
			return bad(r, "malformed request line: not METHOD PATH [PROTOCOL]");
		/* --lenient: the line counts (its status, its bytes); the request is kept as it came. */
		buf_add(out, ",\"method\":null,\"path\":null,\"protocol\":null", 42);
		key(out, "request");
		str_or_null(r, out, s + rq0, rq1 - rq0);
		malformed = "request line is not METHOD PATH [PROTOCOL]";
	}
	if (!token(s, len, &i, &st0, &st1))
		return bad(r, "missing status");
	key(out, "status");
	if (!number(out, s + st0, st1 - st0))
		return bad(r, "status is not a number: '%.*s'", (int)(st1 - st0), s + st0);
	if (!token(s, len, &i, &b0, &b1))
		return bad(r, "missing byte count");
	key(out, "bytes");
	if (!number(out, s + b0, b1 - b0))
		return bad(r, "byte count is not a number: '%.*s'", (int)(b1 - b0), s + b0);
	if (kind != FMT_CLF && !agent(r, s, len, &i, out, &malformed))
		return FMT_BAD;
	if ((kind == FMT_NGINX_TIMED || kind == FMT_APACHE_TIMED) && !timed(r, s, len, &i, out, kind))
		return FMT_BAD;
	while (i < len && s[i] == ' ')
		i++;
	if (i < len)
		return bad(r, kind != FMT_CLF ? "unexpected text after the user agent at column %zu" :
		    "unexpected text after the byte count at column %zu (combined log? try --format combined)",
		    i + 1);
	if (malformed != NULL) {
		key(out, "_malformed");
		jw_cstr(out, malformed);
	}
	buf_addc(out, '}');
	return FMT_RECORD;
}

static enum fmt_result
parse_clf(struct fmt_reader *r, const char *s, size_t len, struct buf *out)
{
	return parse_access(r, s, len, out, FMT_CLF);
}

static enum fmt_result
parse_combined(struct fmt_reader *r, const char *s, size_t len, struct buf *out)
{
	return parse_access(r, s, len, out, FMT_COMBINED);
}

static enum fmt_result
parse_nginx_timed(struct fmt_reader *r, const char *s, size_t len, struct buf *out)
{
	return parse_access(r, s, len, out, FMT_NGINX_TIMED);
}

static enum fmt_result
parse_apache_timed(struct fmt_reader *r, const char *s, size_t len, struct buf *out)
{
	return parse_access(r, s, len, out, FMT_APACHE_TIMED);
}

bool
fmt_is_access_log(enum fmt_kind k)
{
	return k == FMT_CLF || k == FMT_COMBINED || k == FMT_NGINX_TIMED || k == FMT_APACHE_TIMED;
}

static enum fmt_result
parse_ndjson(struct fmt_reader *r, const char *s, size_t len, struct buf *out)
{
	buf_add(out, s, len);
	return FMT_RECORD;
}

/* --- JSON documents: arrays of objects, concatenated, pretty-printed --- */

static bool
json_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * json_done checks the document just closed (its text in js.raw) as one
 * JSON object and writes it to out on one line: the whitespace between
 * its tokens dropped, the rest as it is.
 */
static enum fmt_result
json_done(struct fmt_reader *r, struct buf *out)
{
	struct jscan *j = &r->js;
	struct rec_err e;
	bool in_str = false, esc = false;
	size_t i;
	char c;

	j->began_here = j->here;
	buf_reserve(out, j->raw.len);
	for (i = 0; i < j->raw.len; i++) {
		c = j->raw.p[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
		} else if (c == '"')
			in_str = true;
		else if (json_ws(c))
			continue;
		out->p[out->len++] = c;
	}
	if (j->rec == NULL)
		j->rec = rec_new();
	if (rec_parse(j->rec, out->p, out->len, &e) != 0)
		return bad(r, "invalid JSON in the document at column %zu: %s", j->column, e.text);
	return FMT_RECORD;
}

/*
 * json_keep adds text to the open document; past max_record it is marked
 * too long and keeps only its first max_record bytes (for the dead-letter),
 * so that memory stays bounded while the scan goes on to its end.
 */
static void
json_keep(struct fmt_reader *r, const char *s, size_t n)
{
	struct jscan *j = &r->js;
	size_t max = r->opts.max_record;

	if (max > 0 && j->raw.len + n > max) {
		j->too_long = true;
		n = j->raw.len < max ? max - j->raw.len : 0;
	}
	buf_add(&j->raw, s, n);
}

/*
 * json_scan goes on through the text from js.pos: it returns FMT_RECORD
 * when a document closes (the text may hold more: fmt_doc says so),
 * FMT_MORE when the text ends inside one, FMT_SKIP when it ends between
 * documents, FMT_BAD on text that is not a document.
 */
static enum fmt_result
json_scan(struct fmt_reader *r, struct buf *out)
{
	struct jscan *j = &r->js;
	const char *s = j->line;
	size_t start;
	char c;

	while (j->pos < j->len) {
		if (j->depth == 0) {
			c = s[j->pos++];
			if (json_ws(c))
				continue;
			if (c == '{' && !(j->in_array && j->want_comma)) {
				j->depth = 1;
				j->here = true;
				j->column = j->pos;
				j->too_long = false;
				buf_reset(&j->raw);
				buf_addc(&j->raw, c);
				continue;
			}
			if (c == '[' && !j->in_array) {
				j->in_array = true;
				j->want_comma = false;
				continue;
			}
			if (j->in_array && c == ',' && j->want_comma) {
				j->want_comma = false;
				continue;
			}
			if (j->in_array && c == ']') {
				j->in_array = false;
				continue;
			}
			j->began_here = true;
			start = j->pos;		/* the column of c */
			buf_reset(&j->raw);	/* the line is the text to keep */
			j->pos = j->len;	/* the rest of the text is no use */
			j->in_array = false;
			return bad(r, "expected a JSON object or an array of objects at column %zu", start);
		}
		/* Inside a document: only strings and brackets matter until it closes. */
		start = j->pos;
		for (; j->pos < j->len; j->pos++) {
			c = s[j->pos];
			if (j->in_str) {
				if (j->esc)
					j->esc = false;
				else if (c == '\\')
					j->esc = true;
				else if (c == '"')
					j->in_str = false;
			} else if (c == '"')
				j->in_str = true;
			else if (c == '{' || c == '[')
				j->depth++;
			else if ((c == '}' || c == ']') && --j->depth == 0)
				break;
		}
		if (j->pos == j->len) {
			json_keep(r, s + start, j->len - start);
			break;
		}
		json_keep(r, s + start, ++j->pos - start);
		j->want_comma = j->in_array;
		if (j->too_long) {
			j->began_here = j->here;
			return bad(r, "record longer than %zu bytes (--max-line-bytes)", r->opts.max_record);
		}
		return json_done(r, out);
	}
	if (j->depth > 0) {
		json_keep(r, "\n", 1);
		return FMT_MORE;
	}
	return FMT_SKIP;
}

static enum fmt_result
parse_json(struct fmt_reader *r, const char *s, size_t len, struct buf *out)
{
	struct jscan *j = &r->js;

	if (!r->have_header) {
		/* A new file: nothing carries over. */
		j->depth = 0;
		j->in_str = j->esc = j->in_array = j->want_comma = false;
		r->have_header = true;
	}
	j->line = s;
	j->len = len;
	j->pos = 0;
	j->here = false;
	return json_scan(r, out);
}

enum fmt_result
fmt_parse_more(struct fmt_reader *r, struct buf *out)
{
	buf_reset(out);
	r->why[0] = '\0';
	return json_scan(r, out);
}

void
fmt_doc(const struct fmt_reader *r, struct fmt_doc *d)
{
	const struct jscan *j = &r->js;

	d->more = r->kind == FMT_JSON && j->pos < j->len;
	d->began_here = j->began_here;
	d->open = r->kind == FMT_JSON && j->depth > 0;
	d->open_here = d->open && j->here;
	d->text = j->raw.p;
	d->len = j->raw.len;
}

/* --- Zeek's TSV logs ---------------------------------------------------- */

static void
zeek_reset(struct zeek *z)
{
	free(z->path);
	free(z->types);
	memset(z, 0, sizeof *z);
	memcpy(z->sep, "\t", z->seplen = 1);
	memcpy(z->setsep, ",", z->setseplen = 1);
	memcpy(z->empty, "(empty)", z->emptylen = 7);
	memcpy(z->unset, "-", z->unsetlen = 1);
}

/*
 * unhex undoes Zeek's \xHH escapes of s into the scratch buffer from
 * mark on; returns false (nothing kept) when the bytes would not be
 * UTF-8: Zeek's JSON writer keeps such bytes as "\xHH" text, and so do we.
 */
static bool
unhex(struct fmt_reader *r, const char *s, size_t len, size_t mark)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len && s[i + 1] == 'x' &&
		    (hi = hex_digit(s[i + 2])) >= 0 && (lo = hex_digit(s[i + 3])) >= 0) {
			buf_addc(&r->fields, (char)(hi << 4 | lo));
			i += 3;
		} else
			buf_addc(&r->fields, s[i]);
	}
	if (utf8_valid(r->fields.p + mark, r->fields.len - mark) &&
	    memchr(r->fields.p + mark, '\0', r->fields.len - mark) == NULL)
		return true;
	r->fields.len = mark;
	return false;
}

/* zeek_str writes a Zeek string (escapes undone where they give UTF-8 text). */
static void
zeek_str(struct fmt_reader *r, struct buf *out, const char *s, size_t len)
{
	size_t mark = r->fields.len;

	if (memchr(s, '\\', len) == NULL || !unhex(r, s, len, mark)) {
		jw_str(out, s, len);
		return;
	}
	jw_str(out, r->fields.p + mark, r->fields.len - mark);
	r->fields.len = mark;
}

/*
 * zeek_time writes epoch seconds "1521911720.865716" as Zeek's JSON writer
 * does with JSON::TS_ISO8601: "2018-03-24T17:15:20.865716Z", the fraction
 * in microseconds.  Returns false when s is no such time.
 */
static bool
zeek_time(struct buf *out, const char *s, size_t len)
{
	size_t i = 0, f;
	int64_t sec = 0;
	char frac[7] = "000000", t[TV_BUFSZ];
	size_t n;

	if (len == 0 || len > 40)
		return false;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (sec > (INT64_MAX / TV_US_PER_S - 9) / 10)
			return false;
		sec = sec * 10 + (s[i] - '0');
	}
	if (i == 0)
		return false;
	if (i < len) {
		if (s[i++] != '.')
			return false;
		for (f = 0; i < len; i++, f++) {
			if (s[i] < '0' || s[i] > '9')
				return false;
			if (f < 6)
				frac[f] = s[i];
		}
	}
	/* The whole seconds as RFC 3339, then the six digits of the fraction. */
	n = tv_format_rfc3339(sec * TV_US_PER_S, t);
	if (n < 1 || t[n - 1] != 'Z')
		return false;
	buf_addc(out, '"');
	buf_add(out, t, n - 1);
	buf_addc(out, '.');
	buf_add(out, frac, 6);
	buf_add(out, "Z\"", 2);
	return true;
}

/* zeek_atom writes one value of Zeek type t. */
static void
zeek_atom(struct fmt_reader *r, struct buf *out, int t, const char *s, size_t len)
{
	switch (t) {
	case ZT_BOOL:
		if (len == 1 && (s[0] == 'T' || s[0] == 'F')) {
			buf_adds(out, s[0] == 'T' ? "true" : "false");
			return;
		}
		break;
	case ZT_NUMBER:
		if (fmt_json_number(s, len)) {
			buf_add(out, s, len);
			return;
		}
		break;
	case ZT_TIME:
		if (zeek_time(out, s, len))
			return;
		break;
	}
	zeek_str(r, out, s, len);	/* strings, addresses, enums, and what does not read as its type */
}

/* zeek_type maps a #types name to ZT_*: "vector[interval]" is a list of numbers. */
static uint8_t
zeek_type(const char *s, size_t len)
{
	uint8_t list = 0;
	const char *open;

	if ((len > 4 && memcmp(s, "set[", 4) == 0) || (len > 7 && memcmp(s, "vector[", 7) == 0)) {
		open = memchr(s, '[', len);
		list = ZT_LIST;
		len -= (size_t)(open + 1 - s) + 1;
		s = open + 1;
	}
#define IS(name)	(len == sizeof name - 1 && memcmp(s, name, len) == 0)
	if (IS("count") || IS("int") || IS("double") || IS("interval") || IS("port"))
		return list | ZT_NUMBER;
	if (IS("bool"))
		return list | ZT_BOOL;
	if (IS("time"))
		return list | ZT_TIME;
#undef IS
	return list | ZT_STRING;
}

/* zeek_next finds the next field of s from *i on; returns false when there is none. */
static bool
zeek_next(const struct zeek *z, const char *s, size_t len, size_t *i, size_t *f0, size_t *f1)
{
	const char *d;

	if (*i > len)
		return false;
	*f0 = *i;
	d = z->seplen == 1 ? memchr(s + *i, z->sep[0], len - *i) :
	    memmem(s + *i, len - *i, z->sep, z->seplen);
	*f1 = d != NULL ? (size_t)(d - s) : len;
	*i = *f1 + z->seplen;
	if (d == NULL)
		*i = len + 1;
	return true;
}

/* zeek_set copies a directive's value (at most cap - 1 bytes) into dst. */
static enum fmt_result
zeek_set(struct fmt_reader *r, char *dst, size_t cap, size_t *dlen, const char *v, size_t vlen,
    const char *name)
{
	if (vlen == 0 || vlen >= cap)
		return bad(r, "#%s: expected 1 to %zu bytes", name, cap - 1);
	memcpy(dst, v, vlen);
	*dlen = vlen;
	return FMT_SKIP;
}

/* zeek_header reads a '#' line: a directive of Zeek's header (or #close), which makes no record. */
static enum fmt_result
zeek_header(struct fmt_reader *r, const char *s, size_t len)
{
	struct zeek *z = &r->z;
	size_t i = 0, f0, f1, n, vlen;
	const char *v;
	char sep[16];
	int hi, lo;

	if (len > 11 && memcmp(s, "#separator ", 11) == 0) {
		/* The one directive not separated by the separator: "#separator \x09". */
		for (n = 0, i = 11; i < len && n < sizeof sep; n++) {
			if (s[i] == '\\' && i + 3 < len && s[i + 1] == 'x' &&
			    (hi = hex_digit(s[i + 2])) >= 0 && (lo = hex_digit(s[i + 3])) >= 0) {
				sep[n] = (char)(hi << 4 | lo);
				i += 4;
			} else
				sep[n] = s[i++];
		}
		return zeek_set(r, z->sep, sizeof z->sep, &z->seplen, sep, i < len ? sizeof sep : n,
		    "separator");
	}
	if (!zeek_next(z, s, len, &i, &f0, &f1))
		return FMT_SKIP;
	v = s + i;
	vlen = i <= len ? len - i : 0;
#define DIRECTIVE(name)	(f1 - f0 == sizeof name - 1 && memcmp(s + f0, name, f1 - f0) == 0)
	if (DIRECTIVE("#set_separator"))
		return zeek_set(r, z->setsep, sizeof z->setsep, &z->setseplen, v, vlen, "set_separator");
	if (DIRECTIVE("#empty_field"))
		return zeek_set(r, z->empty, sizeof z->empty, &z->emptylen, v, vlen, "empty_field");
	if (DIRECTIVE("#unset_field"))
		return zeek_set(r, z->unset, sizeof z->unset, &z->unsetlen, v, vlen, "unset_field");
	if (DIRECTIVE("#path")) {
		free(z->path);
		z->path = xstrndup(v, vlen);
		return FMT_SKIP;
	}
	if (DIRECTIVE("#fields")) {
		buf_reset(&r->keys);
		r->nkeys = 0;
		if (z->path != NULL)
			key_add(r, "_path", 5);
		while (zeek_next(z, s, len, &i, &f0, &f1))
			key_add(r, s + f0, f1 - f0);
		z->have_fields = true;
		return FMT_SKIP;
	}
	if (DIRECTIVE("#types")) {
		free(z->types);
		z->types = xcalloc(len + 1, 1);
		for (n = 0; zeek_next(z, s, len, &i, &f0, &f1); n++)
			z->types[n] = zeek_type(s + f0, f1 - f0);
		z->ntypes = n;
		return FMT_SKIP;
	}
#undef DIRECTIVE
	return FMT_SKIP;	/* #open, #close and any other: nothing to keep */
}

static enum fmt_result
parse_zeek(struct fmt_reader *r, const char *s, size_t len, struct buf *out)
{
	struct zeek *z = &r->z;
	size_t i = 0, col = 0, f0, f1, e0, e1, j, k, n = 0, klen, base = z->path != NULL;
	uint8_t t;

	if (!r->have_header) {
		zeek_reset(z);
		r->have_header = true;
	}
	if (len == 0)
		return FMT_SKIP;
	if (s[0] == '#')
		return zeek_header(r, s, len);
	if (!z->have_fields)
		return bad(r, "a record before the #fields line");
	buf_addc(out, '{');
	if (base) {
		buf_add(out, r->keys.p, r->koff[1]);
		jw_cstr(out, z->path);
		n++;
	}
	while (zeek_next(z, s, len, &i, &f0, &f1)) {
		if (base + col >= r->nkeys)
			return bad(r, "more fields than #fields names (%zu)", r->nkeys - base);
		t = col < z->ntypes ? z->types[col] : ZT_STRING;
		k = base + col++;
		if (f1 - f0 == z->unsetlen && memcmp(s + f0, z->unset, f1 - f0) == 0)
			continue;	/* unset: no field, as in Zeek's JSON */
		if (n++ > 0)
			buf_addc(out, ',');
		klen = r->koff[k + 1] - r->koff[k];
		buf_add(out, r->keys.p + r->koff[k], klen);
		if (f1 - f0 == z->emptylen && memcmp(s + f0, z->empty, f1 - f0) == 0) {
			buf_add(out, t & ZT_LIST ? "[]" : "\"\"", 2);
			continue;
		}
		if (!(t & ZT_LIST)) {
			zeek_atom(r, out, t, s + f0, f1 - f0);
			continue;
		}
		buf_addc(out, '[');
		for (j = f0, e0 = f0; j <= f1; j++) {
			if (j < f1 && !(f1 - j >= z->setseplen && memcmp(s + j, z->setsep, z->setseplen) == 0))
				continue;
			e1 = j;
			if (e0 > f0)
				buf_addc(out, ',');
			if (e1 - e0 == z->unsetlen && memcmp(s + e0, z->unset, e1 - e0) == 0)
				buf_add(out, "null", 4);
			else
				zeek_atom(r, out, t & ~ZT_LIST, s + e0, e1 - e0);
			j += z->setseplen - 1;
			e0 = j + 1;
		}
		buf_addc(out, ']');
	}
	if (base + col != r->nkeys)
		return bad(r, "expected %zu fields, got %zu", r->nkeys - base, col);
	buf_addc(out, '}');
	return FMT_RECORD;
}

/* --- regex: named groups of a PCRE2 pattern ---------------------------- */

/* compile_pattern compiles p with JIT where the platform has it; NULL with a reason on failure. */
static pcre2_code *
compile_pattern(const char *p, char *why, size_t whylen)
{
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	pcre2_code *re;
	int err;

	re = pcre2_compile((PCRE2_SPTR)p, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &off, NULL);
	if (re == NULL) {
		pcre2_get_error_message(err, msg, sizeof msg);
		why_fail(why, whylen, "--pattern: at column %zu: %s", (size_t)off + 1, (char *)msg);
		return NULL;
	}
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);	/* no JIT: the interpreter, same results */
	return re;
}

/*
 * regex_setup compiles opts.pattern and makes its named groups the keys,
 * in the order the groups open.  A name ending in "_int" or "_num" asks
 * for an integer or a number; the suffix is not part of the key.  Returns
 * 0, or -1 with a reason.
 */
static int
regex_setup(struct fmt_reader *r, char *why, size_t whylen)
{
	uint32_t n, esz, i, j;
	PCRE2_SPTR tab, e = NULL;
	const char *name;
	size_t nlen;
	struct rgroup g;

	if (r->opts.pattern == NULL)
		return why_fail(why, whylen, "--format regex needs --pattern");
	if ((r->re = compile_pattern(r->opts.pattern, why, whylen)) == NULL)
		return -1;
	pcre2_pattern_info(r->re, PCRE2_INFO_NAMECOUNT, &n);
	pcre2_pattern_info(r->re, PCRE2_INFO_NAMEENTRYSIZE, &esz);
	pcre2_pattern_info(r->re, PCRE2_INFO_NAMETABLE, &tab);
	if (n == 0)
		return why_fail(why, whylen, "--pattern: no named group: name the fields as in "
		    "(?<name>...)");
	r->groups = xcalloc(n, sizeof *r->groups);
	r->md = pcre2_match_data_create_from_pattern(r->re, NULL);
	/* The name table is sorted by name: put the groups in the order they open. */
	for (i = 0; i < n; i++) {
		e = tab + (size_t)i * esz;
		g.no = (uint32_t)e[0] << 8 | e[1];
		for (j = r->ngroups; j > 0 && r->groups[j - 1].no > g.no; j--)
			r->groups[j] = r->groups[j - 1];
		r->groups[j] = g;
		r->ngroups++;
	}
	buf_reset(&r->keys);
	r->nkeys = 0;
	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			e = tab + (size_t)j * esz;
			if (((uint32_t)e[0] << 8 | e[1]) == r->groups[i].no)
				break;
		}
		name = (const char *)e + 2;
		nlen = strlen(name);
		r->groups[i].hint = HINT_NONE;
		if (nlen > 4 && strcmp(name + nlen - 4, "_int") == 0)
			r->groups[i].hint = HINT_INT;
		else if (nlen > 4 && strcmp(name + nlen - 4, "_num") == 0)
			r->groups[i].hint = HINT_NUM;
		key_add(r, name, r->groups[i].hint != HINT_NONE ? nlen - 4 : nlen);
	}
	r->have_header = true;
	return 0;
}

int
fmt_check(enum fmt_kind kind, const struct fmt_opts *opts, char *why, size_t whylen)
{
	struct fmt_reader *r;
	int rc = 0;

	if (kind != FMT_REGEX)
		return 0;
	r = xcalloc(1, sizeof *r);
	r->opts = *opts;
	rc = regex_setup(r, why, whylen);
	fmt_free(r);
	return rc;
}

static enum fmt_result
parse_regex(struct fmt_reader *r, const char *s, size_t len, struct buf *out)
{
	PCRE2_SIZE *ov;
	size_t i, n = 0, klen, a, b;
	const struct rgroup *g;
	int rc;

	if (len == 0)
		return FMT_SKIP;
	rc = pcre2_match(r->re, (PCRE2_SPTR)s, len, 0, PCRE2_NO_UTF_CHECK, r->md, NULL);
	if (rc == PCRE2_ERROR_NOMATCH)
		return bad(r, "does not match --pattern");
	if (rc < 0)
		return bad(r, "--pattern: match failed (PCRE2 error %d)", rc);
	ov = pcre2_get_ovector_pointer(r->md);
	buf_addc(out, '{');
	for (i = 0; i < r->ngroups; i++) {
		g = &r->groups[i];
		a = ov[2 * g->no];
		b = ov[2 * g->no + 1];
		if (a == PCRE2_UNSET)
			continue;	/* a group that took no part in the match: no field */
		klen = r->koff[i + 1] - r->koff[i];
		if (g->hint != HINT_NONE && !(g->hint == HINT_INT ? int_text(s + a, b - a) :
		    fmt_json_number(s + a, b - a)))
			return bad(r, "field '%.*s' is not %s: '%.*s'", (int)klen - 3, r->keys.p + r->koff[i] + 1,
			    g->hint == HINT_INT ? "an integer" : "a number", (int)(b - a), s + a);
		if (n++ > 0)
			buf_addc(out, ',');
		buf_add(out, r->keys.p + r->koff[i], klen);
		if (g->hint != HINT_NONE)
			buf_add(out, s + a, b - a);
		else
			value(r, out, s + a, b - a);
	}
	buf_addc(out, '}');
	return FMT_RECORD;
}

/* int_text reports whether s is a JSON integer within int64. */
static bool
int_text(const char *s, size_t len)
{
	struct rec_val v;

	return len > 0 && rec_number(s, len, &v) == RT_INT;
}

/* --- detection ---------------------------------------------------------- */

static bool
detect_ndjson(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i < len && s[i] == '{';
}

/*
 * access_shape reports 2 for a combined line, 1 for a CLF line, 3 and 4
 * for nginx-timed and apache-timed, 0 for none: three words, a [bracketed]
 * time, a quoted request, a status and a byte count, then for combined two
 * quoted strings, then for the timed ones one or two numbers.
 */
static int
access_shape(const char *s, size_t len)
{
	size_t i = 0, t0, t1, q0, q1;
	const char *close;
	int n;

	for (n = 0; n < 3; n++)
		if (!token(s, len, &i, &t0, &t1) || s[t0] == '[')
			return 0;
	while (i < len && s[i] == ' ')
		i++;
	if (i == len || s[i] != '[' || (close = memchr(s + i, ']', len - i)) == NULL)
		return 0;
	i = (size_t)(close - s) + 1;
	if (quoted(s, len, &i, &q0, &q1) != 1)
		return 0;
	if (!token(s, len, &i, &t0, &t1) || !(all_digits(s + t0, t1 - t0) || s[t0] == '-'))
		return 0;
	if (!token(s, len, &i, &t0, &t1) || !(all_digits(s + t0, t1 - t0) || s[t0] == '-'))
		return 0;
	while (i < len && s[i] == ' ')
		i++;
	if (i == len || s[i] != '"')
		return 1;
	if (quoted(s, len, &i, &q0, &q1) != 1 || quoted(s, len, &i, &q0, &q1) != 1 ||
	    !token(s, len, &i, &t0, &t1))
		return 2;
	/* After the user agent: Apache's %D alone, or nginx's two times. */
	if (all_digits(s + t0, t1 - t0) && !token(s, len, &i, &q0, &q1))
		return 4;
	if (fmt_json_number(s + t0, t1 - t0) && token(s, len, &i, &q0, &q1) &&
	    (fmt_json_number(s + q0, q1 - q0) || (q1 - q0 == 1 && s[q0] == '-') ||
	    (s[q1 - 1] == ',' && fmt_json_number(s + q0, q1 - q0 - 1))))
		return 3;
	return 2;
}

static bool
detect_combined(const char *s, size_t len)
{
	return access_shape(s, len) == 2;
}

/* A Zeek log starts with its "#separator" line. */
static bool
detect_zeek(const char *s, size_t len)
{
	return len > 11 && memcmp(s, "#separator ", 11) == 0;
}

static bool
detect_nginx_timed(const char *s, size_t len)
{
	return access_shape(s, len) == 3;
}

static bool
detect_apache_timed(const char *s, size_t len)
{
	return access_shape(s, len) == 4;
}

static bool
detect_clf(const char *s, size_t len)
{
	return access_shape(s, len) == 1;
}

/* A logfmt line starts with a key (letters, digits, _ . - / @) and "=", and has no tab. */
static bool
detect_logfmt(const char *s, size_t len)
{
	size_t i;

	if (memchr(s, '\t', len) != NULL)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '.' || c == '-' || c == '/' || c == '@'))
			break;
	}
	return i > 0 && i < len && s[i] == '=';
}

static bool
detect_tsv(const char *s, size_t len)
{
	return memchr(s, '\t', len) != NULL;
}

static bool
detect_csv(const char *s, size_t len)
{
	return true;
}

/* --- the reader --------------------------------------------------------- */

void
fmt_set_kind(struct fmt_reader *r, enum fmt_kind kind)
{
	r->kind = kind;
	fmt_start(r);
}

void
fmt_start(struct fmt_reader *r)
{
	r->open = false;
	if (r->kind == FMT_REGEX)
		return;		/* the keys are the pattern's, the same for every file */
	r->have_header = false;
	buf_reset(&r->keys);
	r->nkeys = 0;
	if (r->opts.header != NULL && (r->kind == FMT_CSV || r->kind == FMT_TSV)) {
		csv_split(r, r->opts.header, strlen(r->opts.header), ",", false);
		r->open = false;
		header_from_fields(r);
	}
}

/* ascii_run returns the length of the ASCII bytes s begins with, eight at a time (they need no UTF-8 check). */
static size_t
ascii_run(const char *s, size_t len)
{
	size_t i = 0;
	uint64_t x;

	for (; i + 8 <= len; i += 8) {
		memcpy(&x, s + i, 8);
		if (x & 0x8080808080808080ULL)
			break;
	}
	while (i < len && (unsigned char)s[i] < 0x80)
		i++;
	return i;
}

enum fmt_result
fmt_parse(struct fmt_reader *r, const char *s, size_t len, struct buf *out)
{
	/* A resumed record was checked up to where it stopped: "\n" keeps UTF-8 in step. */
	size_t from = r->kind == FMT_CSV && resumes(r, s, len) ? r->open_len : 0, ok;
	const char *nul;

	buf_reset(out);
	r->why[0] = '\0';
	/* Zeek's '#' lines are its header, not comments. */
	if (r->opts.skip_comments && len > 0 && s[0] == '#' && from == 0 && r->kind != FMT_NDJSON &&
	    r->kind != FMT_ZEEK) {
		r->open = false;
		return FMT_COMMENT;
	}
	if (r->kind != FMT_NDJSON && len > from) {
		r->st.scanned += len - from;
		ok = from + ascii_run(s + from, len - from);
		if (ok < len && !utf8_valid(s + ok, len - ok)) {
			r->open = false;
			return bad(r, "not valid UTF-8");
		}
		/* JSON text may not carry U+0000 (jansson refuses it), so say so here. */
		if ((nul = memchr(s + from, '\0', len - from)) != NULL) {
			r->open = false;
			return bad(r, "NUL byte at column %zu", (size_t)(nul - s) + 1);
		}
	}
	return def_of(r->kind)->parse(r, s, len, out);
}
