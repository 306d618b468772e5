/* record: a zero-copy validating JSON scanner that checks and indexes one NDJSON line, typed views of its fields, byte-exact emission. */

#include <emmintrin.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "record.h"
#include "timeval.h"

/*
 * How it works.  rec_parse makes one pass over the line: it validates the
 * whole text exactly as jansson's json_loadb() would (strict UTF-8, escapes,
 * the number grammar, depth at most 2048 values) and records, for each
 * top-level member, where its key and its value are and the value's type.
 * Nested containers are validated in that pass but not indexed: a path that
 * goes into one walks its (already valid) bytes when rec_get asks.  Strings
 * are unescaped only when a view of them is asked for, into an arena that is
 * reset by each rec_parse and keeps its blocks, so after warm-up nothing is
 * allocated per record.
 *
 * Two deliberate differences from jansson 2.14: an integer past int64 is
 * accepted as a number (RT_REAL, its digits kept in .raw) where jansson says
 * "too big integer" (like jansson, a number beyond the range of a double is
 * rejected); and a raw NUL byte is refused everywhere, where jansson skips
 * one that directly follows a number or a literal ({"a":1\0} loads).
 */

#define REC_MAX_DEPTH	2048	/* jansson's JSON_PARSER_MAX_DEPTH: values nested deeper are rejected */

typedef unsigned char uchar;

enum {
	MF_KEYESC = 1,		/* the key contains a backslash escape */
	MF_VALESC = 2		/* the string value contains a backslash escape */
};

/* One top-level member: offsets into the line. */
struct member {
	uint32_t	koff;	/* first byte of the key, after its opening quote */
	uint32_t	klen;	/* raw key bytes, without quotes */
	uint32_t	voff;	/* first byte of the value */
	uint32_t	vlen;
	uint8_t		type;	/* enum rec_type */
	uint8_t		flags;
};

/* A block of the per-record arena that holds unescaped strings. */
struct block {
	char	*p;
	size_t	 cap;
};

/* One object member while rec_val_canon sorts an object. */
struct centry {
	const char	*k;
	size_t		 klen;
	size_t		 pos;
	const uchar	*v;
	size_t		 vlen;
	bool		 quoted;	/* k is in the line, between its quotes, and needs no escaping */
};

struct rec {
	const char	*line;
	size_t		 len;
	bool		 ok;		/* the last rec_parse succeeded */
	size_t		 ostart;	/* offset of '{' */
	size_t		 oend;		/* offset just past the closing '}' */
	struct member	*m;
	size_t		 nm, mcap;
	bool		 kesc;		/* some top-level key has an escape */
	struct block	*blk;		/* the arena */
	size_t		 nblk, bi, bused;
	struct buf	 tmp;		/* unescaped keys being compared, number text */
	struct buf	 out;		/* rec_emit's output line */
	struct centry	*cs;		/* rec_val_canon's stack of members */
	size_t		 ncs, cscap;
	const uchar	**skip;		/* rec_canon_without: the values it leaves out */
	size_t		 nskip, skipcap;
};

struct rec_path {
	char		*spec;
	struct step {
		bool	 isidx;
		int64_t	 idx;
		char	*key;
		size_t	 klen;
	}		*st;
	size_t		 n;
	char		*flat;		/* the dotted spelling for the flat-name fallback, or NULL */
	size_t		 flatlen;
	/*
	 * The member index where the first step (hint) and the flat name
	 * (flathint) matched in the last record looked at: records of one
	 * schema keep a key at one place, so the next lookup tries there
	 * first.  Only a guess, always verified; rec_get updates them through
	 * its const pointer (the path is always allocated by rec_path_compile).
	 */
	uint32_t	 hint, flathint;
};

/*
 * key_bit hashes a key's length and first byte to one of 64 bits; for an
 * empty key in a line, k[0] is its closing quote, which the lookup side
 * uses too.  Two keys with different bits differ.
 */
static inline uint64_t
key_bit(const char *k, size_t n)
{
	return (uint64_t)1 << ((n * 4 + (n ? (uchar)k[0] : (uchar)'"')) & 63);
}

/* Character classes, one table lookup per byte in the hot loops. */
enum {
	C_WS = 1,		/* JSON whitespace */
	C_STR = 2,		/* ends a run of plain string bytes: '"', '\\', controls, non-ASCII */
	C_DIG = 4,
	C_HEX = 8,
	C_END = 16		/* ends a number or literal while skipping valid JSON */
};

static uchar ctab[256];
static locale_t c_locale;	/* for strtod_l: numbers never depend on setlocale() */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void
init_tables(void)
{
	int c;

	for (c = 0; c < 256; c++) {
		if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
			ctab[c] |= C_STR;
		if (c >= '0' && c <= '9')
			ctab[c] |= C_DIG | C_HEX;
		if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
			ctab[c] |= C_HEX;
	}
	ctab[' '] |= C_WS | C_END;
	ctab['\t'] |= C_WS | C_END;
	ctab['\n'] |= C_WS | C_END;
	ctab['\r'] |= C_WS | C_END;
	ctab[','] |= C_END;
	ctab['}'] |= C_END;
	ctab[']'] |= C_END;
	c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/* c_strtod is strtod in the C locale, whatever setlocale() a tool may have called. */
static double
c_strtod(const char *s)
{
	if (c_locale == (locale_t)0)	/* newlocale failed: the tools never call setlocale */
		return strtod(s, NULL);
	return strtod_l(s, NULL, c_locale);
}

/* ---------------------------------------------------------------- */
/* The validating scanner.                                          */

struct scan {
	const uchar	*base;
	const uchar	*end;
	struct rec_err	*err;
};

/* fail records the error at byte p (when the caller wants it) and returns NULL. */
static const uchar *
fail(struct scan *s, const uchar *p, const char *fmt, ...)
{
	va_list ap;

	if (s->err != NULL) {
		va_start(ap, fmt);
		vsnprintf(s->err->text, sizeof(s->err->text), fmt, ap);
		va_end(ap);
		s->err->column = (size_t)(p - s->base) + 1;
	}
	return NULL;
}

static inline const uchar *
skip_ws(const uchar *p, const uchar *end)
{
	while (p < end && (ctab[*p] & C_WS))
		p++;
	return p;
}

/* utf8_seq returns the length of the well-formed UTF-8 sequence at p (2..4), or 0. */
static inline int
utf8_seq(const uchar *p, const uchar *end)
{
	uchar c = p[0], lo = 0x80, hi = 0xBF;
	ptrdiff_t have = end - p;

	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		return have >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c < 0xF0) {
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;	/* no UTF-16 surrogates */
		if (have < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80)
			return 0;
		return 3;
	}
	if (c < 0xF5) {
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;	/* nothing past U+10FFFF */
		if (have < 4 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 ||
		    (p[3] & 0xC0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

static inline int
hexval(uchar c)
{
	if (c <= '9')
		return c - '0';
	return (c | 0x20) - 'a' + 10;
}

/* hex4 reads four hex digits at p (bounds checked by the caller); -1 when one is not a hex digit. */
static inline long
hex4(const uchar *p)
{
	if (!(ctab[p[0]] & ctab[p[1]] & ctab[p[2]] & ctab[p[3]] & C_HEX))
		return -1;
	return (long)hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 | hexval(p[3]);
}

/*
 * scan_escape validates the escape at p (p[0] == '\\') and returns the
 * byte after it, or NULL with the error set.  Like jansson, \u0000 and
 * unpaired UTF-16 surrogates are refused.
 */
static const uchar *
scan_escape(struct scan *s, const uchar *p)
{
	const uchar *end = s->end;
	long u, u2;

	if (end - p < 2)
		return fail(s, end, "premature end of file in a string");
	switch (p[1]) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
		return p + 2;
	case 'u':
		break;
	default:
		return fail(s, p, "invalid escape '\\%c'", p[1] >= 0x20 && p[1] < 0x7f ? p[1] : '?');
	}
	if (end - p < 6 || (u = hex4(p + 2)) < 0)
		return fail(s, p, "invalid \\u escape");
	if (u == 0)
		return fail(s, p, "\\u0000 is not allowed in a string");
	if (u >= 0xDC00 && u <= 0xDFFF)
		return fail(s, p, "invalid Unicode '\\u%04lX' (lone low surrogate)", u);
	if (u < 0xD800 || u > 0xDBFF)
		return p + 6;
	if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
		return fail(s, p, "invalid Unicode '\\u%04lX' (high surrogate without a low one)", u);
	if ((u2 = hex4(p + 8)) < 0)
		return fail(s, p + 6, "invalid \\u escape");
	if (u2 < 0xDC00 || u2 > 0xDFFF)
		return fail(s, p, "invalid Unicode '\\u%04lX\\u%04lX' (high surrogate without a low one)",
		    u, u2);
	return p + 12;
}

/*
 * scan_string validates a string whose opening quote is just before p and
 * returns the byte after its closing quote, or NULL.  *esc is set when the
 * string has escapes.  Plain ASCII runs go 16 bytes at a time: one SSE2
 * compare finds quotes, backslashes, control bytes and non-ASCII bytes
 * together (the signed compare with 0x20 catches both of the last two).
 */
static inline __attribute__((always_inline)) const uchar *
scan_string(struct scan *s, const uchar *p, int *esc)
{
	const uchar *end = s->end;
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(0x20);
	int n;

	for (;;) {
		while (end - p >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
			__m128i x = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)),
			    _mm_cmplt_epi8(v, sp));
			unsigned mask = (unsigned)_mm_movemask_epi8(x);
			if (mask != 0) {
				p += __builtin_ctz(mask);
				goto special;
			}
			p += 16;
		}
		while (p < end && !(ctab[*p] & C_STR))
			p++;
		if (p >= end)
			return fail(s, end, "premature end of file in a string");
special:
		if (*p == '"')
			return p + 1;
		if (*p == '\\') {
			*esc = 1;
			if ((p = scan_escape(s, p)) == NULL)
				return NULL;
		} else if (*p >= 0x80) {
			if ((n = utf8_seq(p, end)) == 0)
				return fail(s, p, "invalid UTF-8 byte 0x%02x", *p);
			p += n;
		} else if (*p == '\n')
			return fail(s, p, "unexpected newline in a string");
		else if (*p == '\0')
			return fail(s, p, "NUL byte in a string");
		else
			return fail(s, p, "control character 0x%02x in a string", *p);
	}
}

/* Number kinds found by scan_number. */
enum { N_INT, N_BIG, N_REAL };

static const char int64_max_digits[] = "9223372036854775807";
static const char int64_min_digits[] = "9223372036854775808";

/* real_overflows reports whether the number text at p rounds to an infinite double (jansson's "real number overflow"). */
static bool
real_overflows(struct buf *tmp, const uchar *p, size_t n)
{
	double d;

	buf_reset(tmp);
	buf_add(tmp, p, n);
	errno = 0;
	d = c_strtod(buf_cstr(tmp));
	return errno == ERANGE && isinf(d);
}

/*
 * scan_number validates a number at p and returns the byte after it, or
 * NULL.  *kind says whether it is an int64, an integer past int64, or a
 * real; a number beyond the range of a double is refused.
 */
static const uchar *
scan_number(struct scan *s, struct buf *tmp, const uchar *p, int *kind)
{
	const uchar *end = s->end, *start = p, *dig;
	size_t nint;
	long e = 0;
	bool eneg = false;

	if (*p == '-')
		p++;
	dig = p;
	if (p >= end)
		return fail(s, p, "invalid number: no digits after '-'");
	if (*p == '0') {
		p++;
		if (p < end && (ctab[*p] & C_DIG))
			return fail(s, dig, "invalid number: leading zero");
	} else if (ctab[*p] & C_DIG) {
		do
			p++;
		while (p < end && (ctab[*p] & C_DIG));
	} else
		return fail(s, p, "invalid number: expected a digit");
	nint = (size_t)(p - dig);
	*kind = N_INT;
	if (p < end && *p == '.') {
		p++;
		if (p >= end || !(ctab[*p] & C_DIG))
			return fail(s, p, "invalid number: expected a digit after '.'");
		do
			p++;
		while (p < end && (ctab[*p] & C_DIG));
		*kind = N_REAL;
	}
	if (p < end && (*p | 0x20) == 'e') {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p >= end || !(ctab[*p] & C_DIG))
			return fail(s, p, "invalid number: expected a digit in the exponent");
		do {
			if (e < 100000)
				e = e * 10 + (*p - '0');
			p++;
		} while (p < end && (ctab[*p] & C_DIG));
		*kind = N_REAL;
	}
	if (*kind == N_INT) {
		if (nint < 19)
			return p;
		if (nint == 19 && memcmp(dig, dig == start ? int64_max_digits : int64_min_digits, 19) <= 0)
			return p;
		*kind = N_BIG;
		if (nint <= 308 || !real_overflows(tmp, start, (size_t)(p - start)))
			return p;
		return fail(s, start, "number out of range");
	}
	/* The value is below 10^(nint + exponent): only a large one can overflow. */
	if ((long)nint + (eneg ? -e : e) > 308 && real_overflows(tmp, start, (size_t)(p - start)))
		return fail(s, start, "real number overflow");
	return p;
}

/* scan_literal checks true, false or null at p. */
static const uchar *
scan_literal(struct scan *s, const uchar *p, int *type)
{
	size_t have = (size_t)(s->end - p);

	if (*p == 't' && have >= 4 && memcmp(p, "true", 4) == 0) {
		*type = RT_BOOL;
		return p + 4;
	}
	if (*p == 'f' && have >= 5 && memcmp(p, "false", 5) == 0) {
		*type = RT_BOOL;
		return p + 5;
	}
	if (*p == 'n' && have >= 4 && memcmp(p, "null", 4) == 0) {
		*type = RT_NULL;
		return p + 4;
	}
	return NULL;
}

/* bad_value reports a byte that cannot start a value. */
static const uchar *
bad_value(struct scan *s, const uchar *p)
{
	if (p >= s->end)
		return fail(s, p, "a value expected near end of file");
	if (*p == '\0')
		return fail(s, p, "NUL byte where a value was expected");
	if (*p >= 0x80 && utf8_seq(p, s->end) == 0)
		return fail(s, p, "invalid UTF-8 byte 0x%02x", *p);
	if (*p >= 0x21 && *p < 0x7f)
		return fail(s, p, "invalid token: '%c' cannot start a value", *p);
	return fail(s, p, "invalid token: byte 0x%02x cannot start a value", *p);
}

/* bad_sep reports what was expected after a value or key, and what came instead. */
static const uchar *
bad_sep(struct scan *s, const uchar *p, const char *want)
{
	if (p >= s->end)
		return fail(s, p, "%s expected near end of file", want);
	if (*p == '\0')
		return fail(s, p, "NUL byte where %s was expected", want);
	if (*p >= 0x80 && utf8_seq(p, s->end) == 0)
		return fail(s, p, "invalid UTF-8 byte 0x%02x", *p);
	return fail(s, p, "%s expected", want);
}

/*
 * scan_container validates the object or array at p, a value at nesting
 * level `level` (the record is level 1), without recursion: stack[] holds
 * the open brackets.  Returns the byte after it, or NULL.
 */
static const uchar *
scan_container(struct scan *s, struct rec *r, const uchar *p, int level)
{
	const uchar *end = s->end, *q;
	uchar stack[REC_MAX_DEPTH + 1];
	int sp = 0, kind, type, esc;

open:	/* p is at '{' or '[', a value at level + sp, already depth-checked */
	stack[sp++] = *p++;
	p = skip_ws(p, end);
	if (stack[sp - 1] == '{') {
		if (p < end && *p == '}') {
			p++;
			goto close;
		}
		goto member;
	}
	if (p < end && *p == ']') {
		p++;
		goto close;
	}
	goto value;

member:
	if (p >= end || *p != '"')
		return bad_sep(s, p, "string or '}'");
	esc = 0;
	if ((p = scan_string(s, p + 1, &esc)) == NULL)
		return NULL;
	p = skip_ws(p, end);
	if (p >= end || *p != ':')
		return bad_sep(s, p, "':'");
	p = skip_ws(p + 1, end);

value:	/* an element at level + sp */
	if (level + sp > REC_MAX_DEPTH)
		return fail(s, p, "maximum nesting depth (%d) exceeded", REC_MAX_DEPTH);
	if (p >= end)
		return bad_value(s, p);
	switch (*p) {
	case '"':
		esc = 0;
		p = scan_string(s, p + 1, &esc);
		break;
	case '{': case '[':
		goto open;
	case 't': case 'f': case 'n':
		if ((q = scan_literal(s, p, &type)) == NULL)
			return fail(s, p, "invalid token: expected true, false or null");
		p = q;
		break;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		p = scan_number(s, &r->tmp, p, &kind);
		break;
	default:
		return bad_value(s, p);
	}
	if (p == NULL)
		return NULL;

after:
	p = skip_ws(p, end);
	if (stack[sp - 1] == '{') {
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			goto member;
		}
		if (p < end && *p == '}') {
			p++;
			goto close;
		}
		return bad_sep(s, p, "',' or '}'");
	}
	if (p < end && *p == ',') {
		p = skip_ws(p + 1, end);
		goto value;
	}
	if (p < end && *p == ']') {
		p++;
		goto close;
	}
	return bad_sep(s, p, "',' or ']'");

close:
	if (--sp == 0)
		return p;
	goto after;
}

static void
grow_members(struct rec *r)
{
	r->mcap = r->mcap ? 2 * r->mcap : 32;
	r->m = xrealloc(r->m, r->mcap * sizeof(*r->m));
}

/* scan_record validates the whole line as one object and fills r->m. */
static int
scan_record(struct scan *s, struct rec *r)
{
	const uchar *p = s->base, *end = s->end, *k, *v;
	struct member *m;
	int esc, kind, type;

	p = skip_ws(p, end);
	if (p >= end) {
		fail(s, p, p == s->base ? "empty line" : "blank line");
		return -1;
	}
	if (*p != '{') {
		if (*p == '[' || *p == '"' || *p == '-' || (ctab[*p] & C_DIG) ||
		    *p == 't' || *p == 'f' || *p == 'n')
			fail(s, p, "expected a JSON object, got %s", *p == '[' ? "an array" :
			    *p == '"' ? "a string" : *p == 't' || *p == 'f' ? "a boolean" :
			    *p == 'n' ? "null" : "a number");
		if (s->err != NULL && (*p == '[' || *p == '"' || *p == '-' || (ctab[*p] & C_DIG) ||
		    *p == 't' || *p == 'f' || *p == 'n'))
			s->err->not_object = true;
		else if (*p >= 0x80 && utf8_seq(p, end) == 0)
			fail(s, p, "invalid UTF-8 byte 0x%02x", *p);
		else if (end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
			fail(s, p, "byte order mark before the object");
		else
			fail(s, p, "'{' expected");
		return -1;
	}
	r->ostart = (size_t)(p - s->base);
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}') {
		p++;
		goto done;
	}
	for (;;) {
		if (p >= end || *p != '"') {
			bad_sep(s, p, "string or '}'");
			return -1;
		}
		k = p + 1;
		esc = 0;
		if ((p = scan_string(s, k, &esc)) == NULL)
			return -1;
		if (r->nm == r->mcap)
			grow_members(r);
		m = &r->m[r->nm];
		m->koff = (uint32_t)(k - s->base);
		m->klen = (uint32_t)(p - 1 - k);
		m->flags = esc ? MF_KEYESC : 0;
		r->kesc |= esc != 0;
		if (p < end && *p == ':')
			p++;
		else {
			p = skip_ws(p, end);
			if (p >= end || *p != ':') {
				bad_sep(s, p, "':'");
				return -1;
			}
			p++;
		}
		if (p < end && (ctab[*p] & C_WS))
			p = skip_ws(p, end);
		if (p >= end) {
			bad_value(s, p);
			return -1;
		}
		v = p;
		switch (*p) {
		case '"':
			esc = 0;
			p = scan_string(s, p + 1, &esc);
			m->type = RT_STRING;
			if (esc)
				m->flags |= MF_VALESC;
			break;
		case '{':
			p = scan_container(s, r, p, 2);
			m->type = RT_OBJECT;
			break;
		case '[':
			p = scan_container(s, r, p, 2);
			m->type = RT_ARRAY;
			break;
		case 't': case 'f': case 'n':
			if ((p = scan_literal(s, p, &type)) == NULL) {
				fail(s, v, "invalid token: expected true, false or null");
				return -1;
			}
			m->type = (uint8_t)type;
			break;
		case '-': case '0': case '1': case '2': case '3': case '4':
		case '5': case '6': case '7': case '8': case '9':
			p = scan_number(s, &r->tmp, p, &kind);
			m->type = kind == N_INT ? RT_INT : RT_REAL;
			break;
		default:
			bad_value(s, p);
			return -1;
		}
		if (p == NULL)
			return -1;
		m->voff = (uint32_t)(v - s->base);
		m->vlen = (uint32_t)(p - v);
		r->nm++;
		if (p < end && *p == ',') {
			p++;
			if (p < end && *p == '"')
				continue;
			p = skip_ws(p, end);
			continue;
		}
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}') {
			p++;
			break;
		}
		bad_sep(s, p, "',' or '}'");
		return -1;
	}
done:
	r->oend = (size_t)(p - s->base);
	p = skip_ws(p, end);
	if (p < end) {
		if (*p >= 0x80 && utf8_seq(p, end) == 0)
			fail(s, p, "invalid UTF-8 byte 0x%02x", *p);
		else if (*p == '\0')
			fail(s, p, "NUL byte after the object");
		else
			fail(s, p, "end of line expected after the object");
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* The record holder.                                               */

struct rec *
rec_new(void)
{
	pthread_once(&init_once, init_tables);
	return xcalloc(1, sizeof(struct rec));
}

void
rec_free(struct rec *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nblk; i++)
		free(r->blk[i].p);
	free(r->blk);
	free(r->m);
	free(r->cs);
	free(r->skip);
	buf_free(&r->tmp);
	buf_free(&r->out);
	free(r);
}

int
rec_parse(struct rec *r, const char *line, size_t len, struct rec_err *err)
{
	struct scan s;

	r->line = line;
	r->len = len;
	r->nm = 0;
	r->kesc = false;
	r->bi = 0;
	r->bused = 0;
	r->ok = false;
	s.base = (const uchar *)line;
	s.end = s.base + len;
	s.err = err;
	if (err != NULL)
		err->not_object = false;
	if (len > UINT32_MAX) {
		fail(&s, s.base, "line longer than 4 GiB");
		return -1;
	}
	if (scan_record(&s, r) != 0) {
		r->nm = 0;
		return -1;
	}
	r->ok = true;
	return 0;
}

const char *
rec_line(const struct rec *r, size_t *len)
{
	if (len != NULL)
		*len = r->len;
	return r->line;
}

size_t
rec_nfields(const struct rec *r)
{
	return r->nm;
}

/* arena_alloc returns n bytes that stay valid until the next rec_parse. */
static char *
arena_alloc(struct rec *r, size_t n)
{
	size_t cap;

	if (r->bi < r->nblk && r->blk[r->bi].cap - r->bused >= n) {
		r->bused += n;
		return r->blk[r->bi].p + r->bused - n;
	}
	if (r->bi < r->nblk && r->bused > 0)
		r->bi++;
	if (r->bi == r->nblk) {
		r->blk = xrealloc(r->blk, (r->nblk + 1) * sizeof(*r->blk));
		cap = r->nblk ? 2 * r->blk[r->nblk - 1].cap : 4096;
		r->blk[r->nblk].p = NULL;
		r->blk[r->nblk].cap = 0;
		r->nblk++;
	} else
		cap = r->blk[r->bi].cap;
	if (r->blk[r->bi].cap < n || r->blk[r->bi].p == NULL) {
		/* This block is not in use by the current record: growing it is safe. */
		while (cap < n)
			cap *= 2;
		free(r->blk[r->bi].p);
		r->blk[r->bi].p = xmalloc(cap);
		r->blk[r->bi].cap = cap;
	}
	r->bused = n;
	return r->blk[r->bi].p;
}

static inline void
put_utf8(char **o, unsigned long u)
{
	uchar *q = (uchar *)*o;

	if (u < 0x80)
		*q++ = (uchar)u;
	else if (u < 0x800) {
		*q++ = (uchar)(0xC0 | u >> 6);
		*q++ = (uchar)(0x80 | (u & 0x3F));
	} else if (u < 0x10000) {
		*q++ = (uchar)(0xE0 | u >> 12);
		*q++ = (uchar)(0x80 | (u >> 6 & 0x3F));
		*q++ = (uchar)(0x80 | (u & 0x3F));
	} else {
		*q++ = (uchar)(0xF0 | u >> 18);
		*q++ = (uchar)(0x80 | (u >> 12 & 0x3F));
		*q++ = (uchar)(0x80 | (u >> 6 & 0x3F));
		*q++ = (uchar)(0x80 | (u & 0x3F));
	}
	*o = (char *)q;
}

/*
 * unescape decodes the n raw bytes of a validated string (without quotes)
 * into out, which has room for n bytes (decoding never grows a string).
 * Returns the decoded length.
 */
static size_t
unescape(const uchar *p, size_t n, char *out)
{
	const uchar *end = p + n, *bs;
	char *o = out;
	unsigned long u, u2;

	while (p < end) {
		bs = memchr(p, '\\', (size_t)(end - p));
		if (bs == NULL)
			bs = end;
		memcpy(o, p, (size_t)(bs - p));
		o += bs - p;
		if (bs == end)
			break;
		p = bs + 2;
		switch (bs[1]) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			u = (unsigned long)hex4(bs + 2);
			p = bs + 6;
			if (u >= 0xD800 && u <= 0xDBFF) {
				u2 = (unsigned long)hex4(bs + 8);
				u = 0x10000 + ((u - 0xD800) << 10) + (u2 - 0xDC00);
				p = bs + 12;
			}
			put_utf8(&o, u);
			break;
		default:	/* '"', '\\', '/' */
			*o++ = (char)bs[1];
			break;
		}
	}
	return (size_t)(o - out);
}

/* ---------------------------------------------------------------- */
/* Walking validated bytes.                                          */

/* skip_string returns the byte after the closing quote of a valid string whose content starts at p. */
static const uchar *
skip_string(const uchar *p, const uchar *end)
{
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');

	for (;;) {
		while (end - p >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
			unsigned mask = (unsigned)_mm_movemask_epi8(
			    _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)));
			if (mask != 0) {
				p += __builtin_ctz(mask);
				goto found;
			}
			p += 16;
		}
		while (*p != '"' && *p != '\\')
			p++;
found:
		if (*p == '"')
			return p + 1;
		p += 2;
	}
}

/* skip_value returns the end of the valid value starting at p. */
static const uchar *
skip_value(const uchar *p, const uchar *end)
{
	long depth = 0;

	switch (*p) {
	case '"':
		return skip_string(p + 1, end);
	case '{': case '[':
		for (;;) {
			switch (*p) {
			case '"':
				p = skip_string(p + 1, end);
				continue;
			case '{': case '[':
				depth++;
				break;
			case '}': case ']':
				if (--depth == 0)
					return p + 1;
				break;
			}
			p++;
		}
	default:
		while (p < end && !(ctab[*p] & C_END))
			p++;
		return p;
	}
}

/* A cursor over the members or elements of a valid container. */
struct walk {
	const uchar	*p, *end;
	bool		 obj;
	const uchar	*k;	/* members: raw key bytes */
	size_t		 klen;
	bool		 kesc;
	const uchar	*v;
	size_t		 vlen;
};

static void
walk_init(struct walk *w, const uchar *raw, size_t rawlen)
{
	w->obj = raw[0] == '{';
	w->end = raw + rawlen;
	w->p = skip_ws(raw + 1, w->end);
	if (*w->p == '}' || *w->p == ']')
		w->p = NULL;
}

/* walk_next moves to the next member or element; false at the end. */
static bool
walk_next(struct walk *w)
{
	const uchar *p = w->p, *end = w->end;

	if (p == NULL)
		return false;
	if (w->obj) {
		w->k = p + 1;
		p = skip_string(p + 1, end);
		w->klen = (size_t)(p - 1 - w->k);
		w->kesc = memchr(w->k, '\\', w->klen) != NULL;
		p = skip_ws(p, end) + 1;	/* the colon */
		p = skip_ws(p, end);
	}
	w->v = p;
	p = skip_value(p, end);
	w->vlen = (size_t)(p - w->v);
	p = skip_ws(p, end);
	w->p = *p == ',' ? skip_ws(p + 1, end) : NULL;
	return true;
}

/* key_view returns a valid key's unescaped bytes (into r->tmp when escaped). */
static const char *
key_view(struct rec *r, const uchar *k, size_t klen, bool esc, size_t *len)
{
	if (!esc) {
		*len = klen;
		return (const char *)k;
	}
	buf_reset(&r->tmp);
	buf_reserve(&r->tmp, klen);
	*len = unescape(k, klen, r->tmp.p);
	return r->tmp.p;
}

static bool
key_eq(struct rec *r, const uchar *k, size_t klen, bool esc, const char *key, size_t keylen)
{
	const char *u;
	size_t ulen;

	if (!esc)
		return klen == keylen && memcmp(k, key, keylen) == 0;
	if (klen < keylen)
		return false;
	u = key_view(r, k, klen, esc, &ulen);
	return ulen == keylen && memcmp(u, key, keylen) == 0;
}

/* num_kind classifies valid number text. */
static int
num_kind(const uchar *p, size_t n)
{
	const uchar *dig = p[0] == '-' ? p + 1 : p;
	size_t i, nd = n - (size_t)(dig - p);

	for (i = 0; i < nd; i++)
		if (!(ctab[dig[i]] & C_DIG))
			return N_REAL;
	if (nd < 19)
		return N_INT;
	if (nd == 19 && memcmp(dig, dig == p ? int64_max_digits : int64_min_digits, 19) <= 0)
		return N_INT;
	return N_BIG;
}

static int64_t
parse_int(const uchar *p, size_t n)
{
	bool neg = p[0] == '-';
	uint64_t u = 0;
	size_t i;

	for (i = neg; i < n; i++)
		u = u * 10 + (uint64_t)(p[i] - '0');
	if (!neg)
		return (int64_t)u;
	return u == 0 ? 0 : -(int64_t)(u - 1) - 1;
}

static const double pow10tab[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/*
 * parse_real converts valid number text to the correctly rounded double.
 * When the significant digits fit 2^53 and the power of ten is at most
 * 22, one IEEE multiplication or division of two exact values is
 * correctly rounded (Clinger's fast path); anything else goes to
 * strtod_l in the C locale.
 */
static double
parse_real(struct buf *tmp, const uchar *p, size_t n)
{
	const uchar *q = p, *end = p + n, *frac;
	bool neg = false, eneg = false;
	uint64_t w = 0;
	int nd = 0;
	long e10 = 0, e = 0;
	double d;
	char small[64];
	const char *txt;

	if (*q == '-') {
		neg = true;
		q++;
	}
	/*
	 * nd counts the digits from the first non-zero one, whatever w holds:
	 * past 19 digits w has wrapped (0.00092233720368547758080 wraps it to
	 * exactly 0, a fuzzer finding) and is not used.
	 */
	for (; q < end && (unsigned)(*q - '0') < 10; q++) {
		w = w * 10 + (uint64_t)(*q - '0');
		nd += (nd | (*q - '0')) != 0;
	}
	if (q < end && *q == '.') {
		frac = ++q;
		for (; q < end && (unsigned)(*q - '0') < 10; q++) {
			w = w * 10 + (uint64_t)(*q - '0');
			nd += (nd | (*q - '0')) != 0;
		}
		e10 = -(long)(q - frac);
	}
	if (nd > 19)
		goto slow;
	if (q < end) {	/* the exponent */
		q++;
		if (*q == '+' || *q == '-')
			eneg = *q++ == '-';
		for (; q < end; q++)
			if (e < 100000)
				e = e * 10 + (*q - '0');
		e10 += eneg ? -e : e;
	}
	if (w == 0) {
		d = 0.0;
		return neg ? -d : d;
	}
	if (w > (UINT64_C(1) << 53) || e10 < -22 || e10 > 22)
		goto slow;
	d = (double)w;
	d = e10 < 0 ? d / pow10tab[-e10] : d * pow10tab[e10];
	return neg ? -d : d;
slow:
	if (n < sizeof(small)) {
		memcpy(small, p, n);
		small[n] = '\0';
		txt = small;
	} else {
		buf_reset(tmp);
		buf_add(tmp, p, n);
		txt = buf_cstr(tmp);
	}
	return c_strtod(txt);
}

static size_t
count_elems(const uchar *raw, size_t rawlen)
{
	struct walk w;
	size_t n = 0;

	walk_init(&w, raw, rawlen);
	while (walk_next(&w))
		n++;
	return n;
}

static enum rec_type
raw_type(const uchar *p, size_t n)
{
	switch (p[0]) {
	case '"': return RT_STRING;
	case '{': return RT_OBJECT;
	case '[': return RT_ARRAY;
	case 't': case 'f': return RT_BOOL;
	case 'n': return RT_NULL;
	default: return num_kind(p, n) == N_INT ? RT_INT : RT_REAL;
	}
}

enum rec_type
rec_number(const char *text, size_t len, struct rec_val *v)
{
	struct buf tmp = BUF_INIT;	/* only a number too long for parse_real's stack copy allocates */
	const uchar *p = (const uchar *)text;
	struct scan sc = { p, p + len, NULL };
	int kind;

	pthread_once(&init_once, init_tables);
	memset(v, 0, sizeof(*v));
	if (len == 0 || scan_number(&sc, &tmp, p, &kind) != p + len) {
		buf_free(&tmp);
		return v->type = RT_MISSING;
	}
	v->raw = text;
	v->rawlen = len;
	if (kind == N_INT) {
		v->type = RT_INT;
		v->i = parse_int(p, len);
		v->d = (double)v->i;
	} else {
		v->type = RT_REAL;
		v->d = parse_real(&tmp, p, len);
	}
	buf_free(&tmp);
	return v->type;
}

/* fill_val makes the view of a valid value; esc < 0 means "not known yet" for strings. */
static enum rec_type
fill_val(struct rec *r, enum rec_type t, const uchar *raw, size_t rawlen, int esc,
    struct rec_val *v)
{
	memset(v, 0, sizeof(*v));
	v->type = t;
	v->raw = (const char *)raw;
	v->rawlen = rawlen;
	switch (t) {
	case RT_BOOL:
		v->b = raw[0] == 't';
		break;
	case RT_INT:
		v->i = parse_int(raw, rawlen);
		v->d = (double)v->i;
		break;
	case RT_REAL:
		v->d = parse_real(&r->tmp, raw, rawlen);
		break;
	case RT_STRING:
		if (esc < 0)
			esc = memchr(raw + 1, '\\', rawlen - 2) != NULL;
		if (!esc) {
			v->s = (const char *)raw + 1;
			v->slen = rawlen - 2;
		} else {
			char *o = arena_alloc(r, rawlen - 2);
			v->slen = unescape(raw + 1, rawlen - 2, o);
			v->s = o;
		}
		break;
	case RT_ARRAY:
	case RT_OBJECT:
		v->n = count_elems(raw, rawlen);
		break;
	default:
		break;
	}
	return t;
}

static enum rec_type
fill_member(struct rec *r, const struct member *m, struct rec_val *v)
{
	return fill_val(r, (enum rec_type)m->type, (const uchar *)r->line + m->voff, m->vlen,
	    (m->flags & MF_VALESC) != 0, v);
}

static bool
member_key_eq(struct rec *r, const struct member *m, const char *key, size_t keylen)
{
	return key_eq(r, (const uchar *)r->line + m->koff, m->klen, (m->flags & MF_KEYESC) != 0,
	    key, keylen);
}

/* short_eq compares n <= 16 bytes with at most four overlapping loads. */
static inline bool
short_eq(const char *a, const char *b, size_t n)
{
	uint64_t x1, y1, x2, y2;
	uint32_t u1, v1, u2, v2;

	if (n >= 8) {
		memcpy(&x1, a, 8);
		memcpy(&y1, b, 8);
		memcpy(&x2, a + n - 8, 8);
		memcpy(&y2, b + n - 8, 8);
		return ((x1 ^ y1) | (x2 ^ y2)) == 0;
	}
	if (n >= 4) {
		memcpy(&u1, a, 4);
		memcpy(&v1, b, 4);
		memcpy(&u2, a + n - 4, 4);
		memcpy(&v2, b + n - 4, 4);
		return ((u1 ^ v1) | (u2 ^ v2)) == 0;
	}
	return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
}

/* find_member returns the last top-level member with that key, or NULL. */
static inline __attribute__((always_inline)) const struct member *
find_member(struct rec *r, const char *key, size_t keylen)
{
	const struct member *m;
	const char *k;
	size_t i;

	if (!r->kesc) {
		/* The usual case, keys as plain bytes: lengths first, short keys inline. */
		for (i = r->nm; i-- > 0;) {
			m = &r->m[i];
			if (m->klen != keylen)
				continue;
			k = r->line + m->koff;
			if (keylen <= 16 ? short_eq(k, key, keylen) : memcmp(k, key, keylen) == 0)
				return m;
		}
		return NULL;
	}
	for (i = r->nm; i-- > 0;) {
		m = &r->m[i];
		if (m->klen == keylen && !(m->flags & MF_KEYESC) &&
		    memcmp(r->line + m->koff, key, keylen) == 0)
			return m;
		if ((m->flags & MF_KEYESC) && member_key_eq(r, m, key, keylen))
			return m;
	}
	return NULL;
}

/*
 * find_member_at is find_member trying member *hint first.  With plain
 * keys, a match there is the answer when no later member has the same
 * key (the last one wins); any doubt falls back to find_member.  *hint
 * is updated to where the key was found.
 */
static inline __attribute__((always_inline)) const struct member *
find_member_at(struct rec *r, const char *key, size_t keylen, uint32_t *hint)
{
	const struct member *m;
	size_t i = *hint, j;

	if (!r->kesc && i < r->nm) {
		m = &r->m[i];
		if (m->klen == keylen && (keylen <= 16 ? short_eq(r->line + m->koff, key, keylen) :
		    memcmp(r->line + m->koff, key, keylen) == 0)) {
			for (j = i + 1; j < r->nm; j++)
				if (r->m[j].klen == keylen)
					break;
			if (j == r->nm)
				return m;
		}
	}
	if ((m = find_member(r, key, keylen)) != NULL && (size_t)(m - r->m) != i)
		*hint = (uint32_t)(m - r->m);
	return m;
}

enum rec_type
rec_get_key(struct rec *r, const char *key, size_t keylen, struct rec_val *v)
{
	const struct member *m;

	if (!r->ok || (m = find_member(r, key, keylen)) == NULL) {
		memset(v, 0, sizeof(*v));
		return RT_MISSING;
	}
	return fill_member(r, m, v);
}

void
rec_field(struct rec *r, size_t i, const char **key, size_t *keylen, struct rec_val *v)
{
	const struct member *m = &r->m[i];
	char *o;

	if (m->flags & MF_KEYESC) {
		o = arena_alloc(r, m->klen);
		*keylen = unescape((const uchar *)r->line + m->koff, m->klen, o);
		*key = o;
	} else {
		*key = r->line + m->koff;
		*keylen = m->klen;
	}
	fill_member(r, m, v);
}

/* ---------------------------------------------------------------- */
/* Paths.                                                           */

static struct rec_path *
path_fail(struct rec_err *err, size_t col, struct rec_path *p, const char *fmt, ...)
{
	va_list ap;
	size_t i;

	if (err != NULL) {
		va_start(ap, fmt);
		vsnprintf(err->text, sizeof(err->text), fmt, ap);
		va_end(ap);
		err->column = col;
	}
	if (p != NULL) {
		for (i = 0; i < p->n; i++)
			free(p->st[i].key);
		free(p->st);
		free(p->spec);
		free(p);
	}
	return NULL;
}

static bool
name_byte(uchar c)
{
	return c > ' ' && c != '.' && c != '[' && c != ']' && c != '"' && c != 0x7f;
}

static struct step *
add_step(struct rec_path *p)
{
	p->st = xrealloc(p->st, (p->n + 1) * sizeof(*p->st));
	memset(&p->st[p->n], 0, sizeof(*p->st));
	return &p->st[p->n++];
}

/*
 * quoted_name reads a quoted path segment (JSON string syntax) at s[i] ==
 * '"' into st.  Returns the index after it, or 0 with *e filled.
 */
static size_t
quoted_name(const char *s, size_t i, struct step *st, struct rec_err *e)
{
	struct scan sc;
	const uchar *start = (const uchar *)s + i + 1, *q;
	int esc = 0;
	size_t n = strlen(s);

	sc.base = (const uchar *)s;
	sc.end = (const uchar *)s + n;
	sc.err = e;
	if ((q = scan_string(&sc, start, &esc)) == NULL) {
		if (e->column > n) {
			snprintf(e->text, sizeof(e->text), "unterminated quoted field name");
			e->column = i + 1;
		}
		return 0;
	}
	st->key = xmalloc((size_t)(q - 1 - start) + 1);
	st->klen = unescape(start, (size_t)(q - 1 - start), st->key);
	return (size_t)(q - (const uchar *)s);
}

struct rec_path *
rec_path_compile(const char *spec, struct rec_err *err)
{
	struct rec_path *p;
	struct step *st;
	size_t i = 0, n = strlen(spec), j;
	bool plain = true;
	struct rec_err qe;
	uint64_t u;
	bool neg;
	uchar c;

	pthread_once(&init_once, init_tables);
	if (n == 0)
		return path_fail(err, 1, NULL, "empty field path");
	p = xcalloc(1, sizeof(*p));
	p->spec = xstrdup(spec);
	if (spec[0] == '.')
		i = 1;
	for (;;) {
		c = (uchar)spec[i];
		if (c == '[') {
			st = add_step(p);
			st->isidx = true;
			plain = false;
			j = ++i;
			neg = spec[i] == '-';
			if (neg)
				i++;
			if (!(ctab[(uchar)spec[i]] & C_DIG))
				return path_fail(err, j + 1, p, "expected an integer index and ']'");
			for (u = 0; ctab[(uchar)spec[i]] & C_DIG; i++) {
				u = u * 10 + (uint64_t)(spec[i] - '0');
				if (u > (uint64_t)INT64_MAX)
					return path_fail(err, j + 1, p, "index out of range");
			}
			st->idx = neg ? -(int64_t)u : (int64_t)u;
			if (spec[i] != ']')
				return path_fail(err, j + 1, p, "expected an integer index and ']'");
			i++;
		} else if (c == '"') {
			st = add_step(p);
			plain = false;
			if ((j = quoted_name(spec, i, st, &qe)) == 0)
				return path_fail(err, qe.column, p, "%s", qe.text);
			i = j;
		} else if (name_byte(c)) {
			st = add_step(p);
			for (j = i; name_byte((uchar)spec[i]); i++)
				;
			st->key = xstrndup(spec + j, i - j);
			st->klen = i - j;
		} else if (i > 0 && spec[i - 1] == '.')
			return path_fail(err, i + 1, p, "expected a field name after '.'");
		else
			return path_fail(err, i + 1, p, "expected a field name");
		/* After a segment: the end, a dot and a name, or an index. */
		c = (uchar)spec[i];
		if (c == '\0')
			break;
		if (c == '.')
			i++;
		else if (c != '[')
			return path_fail(err, i + 1, p, "expected '.' or '[' in field path");
	}
	if (plain && p->n >= 2) {
		p->flat = xstrdup(spec + (spec[0] == '.'));
		p->flatlen = strlen(p->flat);
	}
	return p;
}

void
rec_path_free(struct rec_path *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		free(p->st[i].key);
	free(p->st);
	free(p->spec);
	free(p->flat);
	free(p);
}

const char *
rec_path_str(const struct rec_path *p)
{
	return p->spec;
}

const char *
rec_path_top(const struct rec_path *p, size_t *len)
{
	if (p->n == 0 || p->st[0].isidx)
		return NULL;
	if (len != NULL)
		*len = p->st[0].klen;
	return p->st[0].key;
}

/* descend applies one step to a valid container; false when it finds nothing. */
static bool
descend(struct rec *r, const struct step *st, const uchar **raw, size_t *rawlen)
{
	struct walk w;
	const uchar *hit = NULL;
	size_t hitlen = 0;
	int64_t want, i = 0;

	if ((*raw)[0] != (st->isidx ? '[' : '{'))
		return false;
	want = st->idx;
	if (st->isidx && want < 0) {
		want += (int64_t)count_elems(*raw, *rawlen);
		if (want < 0)
			return false;
	}
	walk_init(&w, *raw, *rawlen);
	while (walk_next(&w)) {
		if (st->isidx) {
			if (i++ == want) {
				hit = w.v;
				hitlen = w.vlen;
				break;
			}
		} else if (key_eq(r, w.k, w.klen, w.kesc, st->key, st->klen)) {
			hit = w.v;	/* the last one wins */
			hitlen = w.vlen;
		}
	}
	if (hit == NULL)
		return false;
	*raw = hit;
	*rawlen = hitlen;
	return true;
}

enum rec_type
rec_get(struct rec *r, const struct rec_path *p, struct rec_val *v)
{
	const struct member *m;
	const uchar *raw;
	size_t rawlen, i;

	if (!r->ok)
		goto missing;
	if (p->st[0].isidx || (m = find_member_at(r, p->st[0].key, p->st[0].klen,
	    &((struct rec_path *)p)->hint)) == NULL)
		goto flat;
	if (p->n == 1)
		return fill_member(r, m, v);
	raw = (const uchar *)r->line + m->voff;
	rawlen = m->vlen;
	for (i = 1; i < p->n; i++)
		if (!descend(r, &p->st[i], &raw, &rawlen))
			goto flat;
	return fill_val(r, raw_type(raw, rawlen), raw, rawlen, -1, v);
flat:
	if (p->flat != NULL && (m = find_member_at(r, p->flat, p->flatlen,
	    &((struct rec_path *)p)->flathint)) != NULL)
		return fill_member(r, m, v);
missing:
	memset(v, 0, sizeof(*v));
	return RT_MISSING;
}

enum rec_type
rec_root(struct rec *r, struct rec_val *v)
{
	if (!r->ok) {
		memset(v, 0, sizeof(*v));
		return RT_MISSING;
	}
	memset(v, 0, sizeof(*v));
	v->type = RT_OBJECT;
	v->raw = r->line + r->ostart;
	v->rawlen = r->oend - r->ostart;
	v->n = r->nm;
	return RT_OBJECT;
}

/* ---------------------------------------------------------------- */
/* Watermarks, emission, canonical form.                            */

int
rec_is_watermark(struct rec *r, int64_t *t)
{
	static const char wm[] = "@watermark";
	static const struct tv_format iso = { TV_ISO, NULL };
	struct rec_val v;
	size_t i;

	if (!r->ok || r->nm == 0)
		return 0;
	/* Nearly every record: a first key that is plainly something else. */
	if (!(r->m[0].flags & MF_KEYESC) && (r->m[0].klen != sizeof(wm) - 1 || r->line[r->m[0].koff] != '@'))
		return 0;
	for (i = 0; i < r->nm; i++)
		if (!member_key_eq(r, &r->m[i], wm, sizeof(wm) - 1))
			return 0;
	if (t == NULL)
		return 1;
	fill_member(r, &r->m[r->nm - 1], &v);
	if (v.type != RT_STRING)
		return -1;
	if (v.slen == 4 && memcmp(v.s, "+inf", 4) == 0) {
		*t = TV_MAX;
		return 1;
	}
	return tv_parse(&iso, v.s, v.slen, t, NULL) == 0 ? 1 : -1;
}

/* edit_for returns the last edit naming member m's key, or NULL. */
static const struct rec_edit *
edit_for(struct rec *r, const struct member *m, const struct rec_edit *edits, size_t nedits)
{
	size_t i;

	for (i = nedits; i-- > 0;)
		if (member_key_eq(r, m, edits[i].key, edits[i].keylen))
			return &edits[i];
	return NULL;
}

/* edits_hit_from compares members from m on with each edit's key. */
static __attribute__((noinline)) bool
edits_hit_from(struct rec *r, const struct member *m, const struct rec_edit *edits, size_t nedits)
{
	const struct member *e = r->m + r->nm;
	size_t i;

	for (; m < e; m++)
		for (i = 0; i < nedits; i++) {
			if (!(m->flags & MF_KEYESC)) {
				if (m->klen == edits[i].keylen && (m->klen <= 16 ?
				    short_eq(r->line + m->koff, edits[i].key, m->klen) :
				    memcmp(r->line + m->koff, edits[i].key, m->klen) == 0))
					return true;
			} else if (member_key_eq(r, m, edits[i].key, edits[i].keylen))
				return true;
		}
	return false;
}

/*
 * edits_hit_members reports whether any edit names a member of the record.
 * With plain keys, a member can only match an edit key with the same
 * key_bit: a mask of the edits' bits rules out most members with one test.
 */
static bool
edits_hit_members(struct rec *r, const struct rec_edit *edits, size_t nedits)
{
	const struct member *m = r->m, *e = r->m + r->nm;
	const uchar *L = (const uchar *)r->line;
	uint64_t bits = 0;
	size_t i;

	if (r->kesc)
		return edits_hit_from(r, m, edits, nedits);
	for (i = 0; i < nedits; i++)
		bits |= key_bit(edits[i].key, edits[i].keylen);
	for (; m < e; m++)	/* key_bit of a key in the line: L[koff] is '"' when it is empty */
		if ((bits >> ((m->klen * 4 + L[m->koff]) & 63)) & 1)
			return edits_hit_from(r, m, edits, nedits);
	return false;
}

/* append_edits writes the new members; of two edits with the same key the later wins. */
static void
append_edits(struct buf *o, const struct rec_edit *edits, size_t nedits, bool first)
{
	size_t i, j;
	bool later;

	for (i = 0; i < nedits; i++) {
		if (edits[i].json == NULL)
			continue;
		later = false;
		for (j = i + 1; j < nedits && !later; j++)
			later = edits[j].keylen == edits[i].keylen &&
			    memcmp(edits[j].key, edits[i].key, edits[i].keylen) == 0;
		if (later)
			continue;
		if (!first)
			buf_addc(o, ',');
		jw_str(o, edits[i].key, edits[i].keylen);
		buf_addc(o, ':');
		buf_add(o, edits[i].json, edits[i].jsonlen);
		first = false;
	}
}

bool
rec_keys_plain(const struct rec *r)
{
	return !r->kesc;
}

bool
rec_has_any_key(struct rec *r, const struct rec_edit *edits, size_t nedits)
{
	return r->ok && edits_hit_members(r, edits, nedits);
}

void
rec_emit(struct rec *r, FILE *out, const struct rec_edit *edits, size_t nedits)
{
	const char *L = r->line;
	const struct member *m;
	const struct rec_edit *e;
	struct buf *o = &r->out;
	size_t i, j, last = 0;
	bool first = true, used;

	if (!r->ok) {	/* nothing to edit: the bytes as they came */
		fwrite_unlocked(L, 1, r->len, out);
		putc_unlocked('\n', out);
		return;
	}
	if (nedits == 0) {
		fwrite_unlocked(L + r->ostart, 1, r->oend - r->ostart, out);
		putc_unlocked('\n', out);
		return;
	}
	buf_reset(o);
	if (!edits_hit_members(r, edits, nedits)) {
		/*
		 * Every edit adds a new member (window's bounds, dedupe's count):
		 * the object's bytes up to its last member in one copy, the new
		 * members, then the bytes from there to the closing brace.
		 */
		size_t tail = r->nm ? r->m[r->nm - 1].voff + r->m[r->nm - 1].vlen : r->oend - 1;
		buf_add(o, L + r->ostart, tail - r->ostart);
		append_edits(o, edits, nedits, r->nm == 0);
		buf_add(o, L + tail, r->oend - tail);
		buf_addc(o, '\n');
		fwrite_unlocked(o->p, 1, o->len, out);
		return;
	}
	if (r->nm == 0)
		buf_add(o, L + r->ostart, r->oend - 1 - r->ostart);
	else
		buf_add(o, L + r->ostart, r->m[0].koff - 1 - r->ostart);
	for (i = 0; i < r->nm; i++) {
		m = &r->m[i];
		e = edit_for(r, m, edits, nedits);
		if (e != NULL && e->json == NULL)
			continue;
		if (!first)	/* the separator after the previous kept member */
			buf_add(o, L + r->m[last].voff + r->m[last].vlen,
			    r->m[last + 1].koff - 1 - (r->m[last].voff + r->m[last].vlen));
		buf_add(o, L + m->koff - 1, m->voff - (m->koff - 1));
		if (e != NULL)
			buf_add(o, e->json, e->jsonlen);
		else
			buf_add(o, L + m->voff, m->vlen);
		first = false;
		last = i;
	}
	for (i = 0; i < nedits; i++) {
		e = &edits[i];
		if (e->json == NULL)
			continue;
		used = false;
		for (j = i + 1; j < nedits && !used; j++)
			used = edits[j].keylen == e->keylen && memcmp(edits[j].key, e->key, e->keylen) == 0;
		for (j = 0; j < r->nm && !used; j++)
			used = member_key_eq(r, &r->m[j], e->key, e->keylen);
		if (used)
			continue;
		if (!first)
			buf_addc(o, ',');
		jw_str(o, e->key, e->keylen);
		buf_addc(o, ':');
		buf_add(o, e->json, e->jsonlen);
		first = false;
	}
	if (r->nm == 0)
		buf_addc(o, '}');
	else {
		m = &r->m[r->nm - 1];
		buf_add(o, L + m->voff + m->vlen, r->oend - (m->voff + m->vlen));
	}
	buf_addc(o, '\n');
	fwrite_unlocked(o->p, 1, o->len, out);
}

static int
centry_cmp(const void *a, const void *b)
{
	const struct centry *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->k, y->k, n);

	if (c != 0)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* put appends n bytes to out: the hot path's buf_add, inlined. */
static inline void
put(struct buf *out, const void *p, size_t n)
{
	if (out->cap - out->len <= n)
		buf_reserve(out, n);
	memcpy(out->p + out->len, p, n);
	out->len += n;
}

static inline void
putc1(struct buf *out, char c)
{
	if (out->cap - out->len <= 1)
		buf_reserve(out, 1);
	out->p[out->len++] = c;
}

/*
 * real_canonical finds the canonical form of the text of a valid
 * non-integer number when it is a prefix of the text, and returns its
 * length (0 when it is not): a plain decimal (no exponent) with at most
 * 15 significant digits and a magnitude of at least 1e-6, less the
 * trailing zeros of its fraction (and the point when nothing is left of
 * it).  Any decimal of at most 15 significant digits reads back from the
 * double nearest to it (DBL_DIG), so no shorter decimal names that double
 * and real_shortest finds these digits, written as a plain decimal from
 * 1e-6 up; a whole one (12.00) is canon's integer, and -0.0 is 0.
 */
static size_t
real_canonical(const uchar *p, size_t n)
{
	size_t i = p[0] == '-', dot, end, sig, lead;

	for (dot = i; dot < n && p[dot] != '.'; dot++)
		if (p[dot] < '0' || p[dot] > '9')
			return 0;
	if (dot == n)
		return 0;
	for (end = dot + 1; end < n; end++)
		if (p[end] < '0' || p[end] > '9')
			return 0;
	while (p[end - 1] == '0')
		end--;
	if (end == dot + 1) {
		/* Whole: the integer part, at most 15 digits so the double is exact; not -0. */
		if (dot - i > 15 || (dot - i == 1 && p[i] == '0' && i == 1))
			return 0;
		return dot;
	}
	if (dot - i == 1 && p[i] == '0') {
		/* 0.000ddd: the zeros after the point are not significant. */
		for (lead = dot + 1; p[lead] == '0'; lead++)
			;
		if (lead - (dot + 1) > 5)
			return 0;	/* under 1e-6: written with an exponent */
		sig = end - lead;
	} else
		sig = (dot - i) + (end - dot - 1);
	return sig <= 15 ? end : 0;
}

/*
 * canon_skipped reports whether the value at raw is one of the fields
 * rec_canon_without leaves out (the values its paths found, by address).
 */
static inline bool
canon_skipped(const struct rec *r, const uchar *raw)
{
	for (size_t i = 0; i < r->nskip; i++)
		if (r->skip[i] == raw)
			return true;
	return false;
}

/* member_cmp is centry_cmp that settles most pairs on their first key bytes without a call. */
static inline int
member_cmp(const struct centry *x, const struct centry *y)
{
	if (x->klen > 0 && y->klen > 0 && x->k[0] != y->k[0])
		return (uchar)x->k[0] < (uchar)y->k[0] ? -1 : 1;
	return centry_cmp(x, y);
}

/*
 * sort_members sorts the members cs[0..n) by key bytes, equal keys in
 * line order: an insertion sort for the few members of a usual object,
 * which are often in order already, qsort past that.
 */
static void
sort_members(struct centry *cs, size_t n)
{
	size_t i, j;
	struct centry t;

	if (n > 24) {
		qsort(cs, n, sizeof(*cs), centry_cmp);
		return;
	}
	for (i = 1; i < n; i++) {
		if (member_cmp(&cs[i - 1], &cs[i]) <= 0)
			continue;
		t = cs[i];
		for (j = i; j > 0 && member_cmp(&cs[j - 1], &t) > 0; j--)
			cs[j] = cs[j - 1];
		cs[j] = t;
	}
}

static void	canon(struct rec *, const uchar *, size_t, struct buf *);

/* put_key writes a member's key and its colon: a key without escapes as it is in the line. */
static inline void
put_key(struct buf *out, const struct centry *c)
{
	if (c->quoted)
		put(out, c->k - 1, c->klen + 2);
	else
		jw_str(out, c->k, c->klen);
	putc1(out, ':');
}

/* push_member puts one member on the stack canon sorts, its key unescaped when it has escapes. */
static void
push_member(struct rec *r, const uchar *k, size_t klen, bool kesc, size_t pos,
    const uchar *v, size_t vlen)
{
	struct centry *c;
	char *u;

	if (r->ncs == r->cscap) {
		r->cscap = r->cscap ? 2 * r->cscap : 64;
		r->cs = xrealloc(r->cs, r->cscap * sizeof(*r->cs));
	}
	c = &r->cs[r->ncs++];
	if (kesc) {
		u = arena_alloc(r, klen);
		c->klen = unescape(k, klen, u);
		c->k = u;
	} else {
		c->k = (const char *)k;
		c->klen = klen;
	}
	c->quoted = !kesc;
	c->pos = pos;
	c->v = v;
	c->vlen = vlen;
}

/* canon_members writes the object whose members are on the stack from base, sorted, and pops them. */
static void
canon_members(struct rec *r, size_t base, struct buf *out)
{
	size_t i, top = r->ncs;
	bool first = true;

	sort_members(r->cs + base, top - base);
	putc1(out, '{');
	for (i = base; i < top; i++) {
		/* Of equal keys only the last occurrence counts. */
		if (i + 1 < top && r->cs[i + 1].klen == r->cs[i].klen &&
		    memcmp(r->cs[i + 1].k, r->cs[i].k, r->cs[i].klen) == 0)
			continue;
		if (r->nskip > 0 && canon_skipped(r, r->cs[i].v))
			continue;
		if (!first)
			putc1(out, ',');
		first = false;
		put_key(out, &r->cs[i]);
		canon(r, r->cs[i].v, r->cs[i].vlen, out);
	}
	putc1(out, '}');
	r->ncs = base;
}

/* canon_number writes a valid number: integers and plain decimals as they are when that is their canonical form. */
static void
canon_number(struct rec *r, const uchar *raw, size_t rawlen, struct buf *out)
{
	double d;
	size_t n;

	switch (num_kind(raw, rawlen)) {
	case N_INT:
		/* JSON integers have no leading zeros or plus sign: only -0 is spelled otherwise. */
		if (rawlen == 2 && raw[0] == '-' && raw[1] == '0')
			putc1(out, '0');
		else
			put(out, raw, rawlen);
		break;
	case N_BIG:	/* its digits are already canonical */
		put(out, raw, rawlen);
		break;
	default:
		if ((n = real_canonical(raw, rawlen)) > 0) {
			put(out, raw, n);
			break;
		}
		d = parse_real(&r->tmp, raw, rawlen);
		/* 1.0 and 1 are the same JSON number. */
		if (d > -9.2e18 && d < 9.2e18 && d == (double)(int64_t)d)
			jw_int(out, (int64_t)d);
		else
			jw_real(out, d);
		break;
	}
}

/* canon writes the canonical JSON of one valid value. */
static void
canon(struct rec *r, const uchar *raw, size_t rawlen, struct buf *out)
{
	struct walk w;
	struct rec_val v;
	size_t base, pos;
	bool first;

	switch (raw[0]) {
	case '{':
		base = r->ncs;
		walk_init(&w, raw, rawlen);
		for (pos = 0; walk_next(&w); pos++)
			push_member(r, w.k, w.klen, w.kesc, pos, w.v, w.vlen);
		canon_members(r, base, out);
		break;
	case '[':
		putc1(out, '[');
		walk_init(&w, raw, rawlen);
		for (first = true; walk_next(&w);) {
			if (r->nskip > 0 && canon_skipped(r, w.v))
				continue;
			if (!first)
				putc1(out, ',');
			first = false;
			canon(r, w.v, w.vlen, out);
		}
		putc1(out, ']');
		break;
	case '"':
		/* Without escapes the raw string is already minimal: rec_parse checked its bytes. */
		if (memchr(raw + 1, '\\', rawlen - 2) == NULL) {
			put(out, raw, rawlen);
			break;
		}
		fill_val(r, RT_STRING, raw, rawlen, 1, &v);
		jw_str(out, v.s, v.slen);
		break;
	case 't':
		put(out, "true", 4);
		break;
	case 'f':
		put(out, "false", 5);
		break;
	case 'n':
		put(out, "null", 4);
		break;
	default:
		canon_number(r, raw, rawlen, out);
		break;
	}
}

/*
 * canon_root writes the whole record from the members rec_parse indexed,
 * without walking the line again; strings without escapes and integers
 * are copied, knowing their type already.
 */
static void
canon_root(struct rec *r, struct buf *out)
{
	const struct member *m;
	const uchar *L = (const uchar *)r->line, *v;
	size_t i, base = r->ncs;
	bool first = true;

	for (i = 0; i < r->nm; i++) {
		m = &r->m[i];
		push_member(r, L + m->koff, m->klen, (m->flags & MF_KEYESC) != 0, i,
		    L + m->voff, m->vlen);
	}
	sort_members(r->cs + base, r->nm);
	putc1(out, '{');
	for (i = base; i < r->ncs; i++) {
		const struct centry *c = &r->cs[i];

		if (i + 1 < r->ncs && r->cs[i + 1].klen == c->klen &&
		    memcmp(r->cs[i + 1].k, c->k, c->klen) == 0)
			continue;
		if (r->nskip > 0 && canon_skipped(r, c->v))
			continue;
		if (!first)
			putc1(out, ',');
		first = false;
		put_key(out, c);
		v = c->v;
		m = &r->m[c->pos];
		if ((m->type == RT_STRING && !(m->flags & MF_VALESC)) ||
		    (m->type == RT_INT && !(c->vlen == 2 && v[1] == '0')))
			put(out, v, c->vlen);
		else
			canon(r, v, c->vlen, out);
	}
	putc1(out, '}');
	r->ncs = base;
}

void
rec_val_canon(struct rec *r, const struct rec_val *v, struct buf *out)
{
	switch (v->type) {
	case RT_MISSING:
		put(out, "null", 4);
		break;
	default:
		if (r->ok && v->raw == r->line + r->ostart && v->rawlen == r->oend - r->ostart)
			canon_root(r, out);
		else
			canon(r, (const uchar *)v->raw, v->rawlen, out);
		break;
	}
}

void
rec_canon_without(struct rec *r, struct rec_path *const *paths, size_t npaths, struct buf *out)
{
	struct rec_val v;
	size_t i;

	if (!r->ok) {
		put(out, "null", 4);
		return;
	}
	if (npaths > r->skipcap) {
		r->skip = xrealloc(r->skip, npaths * sizeof(*r->skip));
		r->skipcap = npaths;
	}
	r->nskip = 0;
	for (i = 0; i < npaths; i++)
		if (rec_get(r, paths[i], &v) != RT_MISSING)
			r->skip[r->nskip++] = (const uchar *)v.raw;
	canon_root(r, out);
	r->nskip = 0;
}

const char *
rec_type_name(enum rec_type t)
{
	static const char *const names[] = {
		"missing", "null", "boolean", "integer", "number", "string", "array", "object"
	};

	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "missing";
}

/* ---------------------------------------------------------------- */
/* Comparing compiled paths.                                        */

bool
rec_path_same(const struct rec_path *a, const struct rec_path *b)
{
	size_t i;

	if (a->n != b->n || (a->flat == NULL) != (b->flat == NULL))
		return false;
	if (a->flat != NULL && (a->flatlen != b->flatlen || memcmp(a->flat, b->flat, a->flatlen) != 0))
		return false;
	for (i = 0; i < a->n; i++) {
		const struct step *x = &a->st[i], *y = &b->st[i];

		if (x->isidx != y->isidx)
			return false;
		if (x->isidx ? x->idx != y->idx :
		    x->klen != y->klen || (x->klen > 0 && memcmp(x->key, y->key, x->klen) != 0))
			return false;
	}
	return true;
}
