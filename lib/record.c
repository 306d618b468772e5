/* record: one NDJSON line as a validated, indexed JSON object, its typed field views and byte-exact emission. */
/*
 * This first implementation validates with jansson (into an arena that is
 * reset per line, so steady state allocates nothing) and indexes the
 * top-level members' byte spans with a light scan over the validated
 * bytes.  The zero-copy scanner replaces the inside behind the same API.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "record.h"
#include "timeval.h"

/* The arena jansson allocates from while a line is parsed. */
struct chunk {
	struct chunk	*next;
	size_t		 size, used;
	max_align_t	 data[];
};

static struct chunk	*arena;		/* newest first */
static int		 arena_on;	/* allocate from the arena (only inside rec_parse) */
static int		 hooks_set;

static int
in_arena(const void *p)
{
	const struct chunk *c;

	for (c = arena; c != NULL; c = c->next)
		if ((const char *)p >= (const char *)c->data &&
		    (const char *)p < (const char *)c->data + c->size)
			return 1;
	return 0;
}

static void *
arena_malloc(size_t n)
{
	struct chunk *c;
	size_t size;

	if (!arena_on)
		return malloc(n);
	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (arena == NULL || arena->size - arena->used < n) {
		size = arena ? arena->size * 2 : 64 * 1024;
		while (size < n)
			size *= 2;
		c = xmalloc(sizeof *c + size);
		c->size = size;
		c->used = 0;
		c->next = arena;
		arena = c;
	}
	c = arena;
	c->used += n;
	return (char *)c->data + c->used - n;
}

static void
arena_free(void *p)
{
	if (p != NULL && !in_arena(p))
		free(p);
}

/* arena_reset keeps only the largest chunk, emptied. */
static void
arena_reset(void)
{
	struct chunk *c, *next;

	if (arena == NULL)
		return;
	for (c = arena->next; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	arena->next = NULL;
	arena->used = 0;
}

struct member {
	size_t	 kstart, klen;		/* key bytes inside the quotes */
	size_t	 vstart, vend;		/* value bytes */
	size_t	 sep;			/* where the separator before the key starts */
	int	 kesc;			/* the key has escapes */
};

struct rec {
	const char	*line;
	size_t		 len;
	size_t		 ostart, oend;	/* '{' and '}' */
	json_t		*root;		/* in the arena */
	struct member	*m;
	size_t		 nm, capm;
	struct buf	 emit;		/* rec_emit's output line */
	struct buf	 key;		/* one unescaped key, for comparisons */
};

enum step_kind { STEP_KEY, STEP_INDEX };

struct step {
	enum step_kind	 kind;
	char		*name;
	size_t		 len;
	long long	 index;
};

struct rec_path {
	char		*spec;
	struct step	*steps;
	size_t		 n;
	char		*flat;		/* the dotted spelling for the flat-key fallback, or NULL */
	size_t		 flatlen;
};

struct rec *
rec_new(void)
{
	struct rec *r = xcalloc(1, sizeof *r);

	if (!hooks_set) {
		json_set_alloc_funcs(arena_malloc, arena_free);
		hooks_set = 1;
	}
	return r;
}

void
rec_free(struct rec *r)
{
	if (r == NULL)
		return;
	free(r->m);
	buf_free(&r->emit);
	buf_free(&r->key);
	free(r);
}

static size_t
skip_ws(const char *s, size_t i, size_t n)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* skip_string returns the index after the closing quote of the string starting at s[i] == '"'. */
static size_t
skip_string(const char *s, size_t i, size_t n, int *esc)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\') {
			i++;
			if (esc)
				*esc = 1;
		} else if (s[i] == '"')
			return i + 1;
	}
	return n;
}

/* skip_value returns the index after the (already validated) value starting at s[i]. */
static size_t
skip_value(const char *s, size_t i, size_t n)
{
	size_t depth = 0;

	if (s[i] != '{' && s[i] != '[') {
		if (s[i] == '"')
			return skip_string(s, i, n, NULL);
		while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' &&
		    s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			i++;
		return i;
	}
	for (; i < n; i++) {
		if (s[i] == '"')
			i = skip_string(s, i, n, NULL) - 1;
		else if (s[i] == '{' || s[i] == '[')
			depth++;
		else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
			return i + 1;
	}
	return n;
}

static void
index_members(struct rec *r)
{
	const char *s = r->line;
	size_t n = r->len, i, sep;
	struct member *m;

	r->nm = 0;
	i = skip_ws(s, 0, n);
	r->ostart = i;
	i++;
	sep = i;
	for (;;) {
		i = skip_ws(s, i, n);
		if (s[i] == ',')
			i = skip_ws(s, i + 1, n);
		if (s[i] == '}')
			break;
		if (r->nm == r->capm) {
			r->capm = r->capm ? r->capm * 2 : 16;
			r->m = xrealloc(r->m, r->capm * sizeof *r->m);
		}
		m = &r->m[r->nm++];
		m->sep = sep;
		m->kesc = 0;
		m->kstart = i + 1;
		i = skip_string(s, i, n, &m->kesc);
		m->klen = i - 1 - m->kstart;
		i = skip_ws(s, i, n) + 1;	/* the ':' */
		i = skip_ws(s, i, n);
		m->vstart = i;
		i = skip_value(s, i, n);
		m->vend = i;
		sep = i;
	}
	r->oend = i;
}

int
rec_parse(struct rec *r, const char *line, size_t len, struct rec_err *err)
{
	json_error_t je;
	json_t *root;

	arena_reset();
	r->root = NULL;
	r->nm = 0;
	r->line = line;
	r->len = len;
	arena_on = 1;
	root = json_loadb(line, len, JSON_DECODE_ANY, &je);
	arena_on = 0;
	if (root == NULL) {
		if (err) {
			snprintf(err->text, sizeof err->text, "%s", je.text);
			err->column = je.column > 0 ? (size_t)je.column : 1;
		}
		r->len = 0;
		return -1;
	}
	if (!json_is_object(root)) {
		if (err) {
			snprintf(err->text, sizeof err->text, "expected a JSON object, got %s",
			    json_is_array(root) ? "an array" : json_is_string(root) ? "a string" :
			    json_is_number(root) ? "a number" : json_is_boolean(root) ? "a boolean" : "null");
			err->column = skip_ws(line, 0, len) + 1;
		}
		r->len = 0;
		return -1;
	}
	r->root = root;
	index_members(r);
	return 0;
}

const char *
rec_line(const struct rec *r, size_t *len)
{
	*len = r->len;
	return r->line;
}

/* unescape appends the unescaped contents of a validated JSON string body to b. */
static void
unescape(struct buf *b, const char *s, size_t n)
{
	size_t i;
	unsigned long cp, lo;

	for (i = 0; i < n; i++) {
		if (s[i] != '\\') {
			buf_addc(b, s[i]);
			continue;
		}
		switch (s[++i]) {
		case 'n': buf_addc(b, '\n'); break;
		case 't': buf_addc(b, '\t'); break;
		case 'r': buf_addc(b, '\r'); break;
		case 'b': buf_addc(b, '\b'); break;
		case 'f': buf_addc(b, '\f'); break;
		case 'u':
			cp = strtoul((char[5]){ s[i + 1], s[i + 2], s[i + 3], s[i + 4], 0 }, NULL, 16);
			i += 4;
			if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < n + 1 && s[i + 1] == '\\' && s[i + 2] == 'u') {
				lo = strtoul((char[5]){ s[i + 3], s[i + 4], s[i + 5], s[i + 6], 0 }, NULL, 16);
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				i += 6;
			}
			if (cp < 0x80)
				buf_addc(b, (char)cp);
			else if (cp < 0x800) {
				buf_addc(b, (char)(0xC0 | cp >> 6));
				buf_addc(b, (char)(0x80 | (cp & 63)));
			} else if (cp < 0x10000) {
				buf_addc(b, (char)(0xE0 | cp >> 12));
				buf_addc(b, (char)(0x80 | ((cp >> 6) & 63)));
				buf_addc(b, (char)(0x80 | (cp & 63)));
			} else {
				buf_addc(b, (char)(0xF0 | cp >> 18));
				buf_addc(b, (char)(0x80 | ((cp >> 12) & 63)));
				buf_addc(b, (char)(0x80 | ((cp >> 6) & 63)));
				buf_addc(b, (char)(0x80 | (cp & 63)));
			}
			break;
		default: buf_addc(b, s[i]); break;	/* " \ / */
		}
	}
}

/* member_key returns the unescaped key of member m (in r->key when it had escapes). */
static const char *
member_key(struct rec *r, const struct member *m, size_t *len)
{
	if (!m->kesc) {
		*len = m->klen;
		return r->line + m->kstart;
	}
	buf_reset(&r->key);
	unescape(&r->key, r->line + m->kstart, m->klen);
	*len = r->key.len;
	return r->key.p;
}

/* stable_copy copies bytes into the arena, where they stay put until the next rec_parse. */
static const char *
stable_copy(const char *p, size_t n)
{
	char *d;

	arena_on = 1;
	d = arena_malloc(n + 1);
	arena_on = 0;
	memcpy(d, p, n);
	d[n] = '\0';
	return d;
}

/* fill_val describes json value j; raw/rawlen must be set by the caller or are computed. */
static enum rec_type
fill_val(struct rec *r, json_t *j, struct rec_val *v, const char *raw, size_t rawlen)
{
	memset(v, 0, sizeof *v);
	if (j == NULL)
		return v->type = RT_MISSING;
	if (raw == NULL) {
		/* A nested value: its canonical compact bytes stand in for the original. */
		size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
		char *d;

		arena_on = 1;
		d = arena_malloc(n + 1);
		arena_on = 0;
		json_dumpb(j, d, n, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
		raw = d;
		rawlen = n;
	}
	v->raw = raw;
	v->rawlen = rawlen;
	switch (json_typeof(j)) {
	case JSON_NULL: v->type = RT_NULL; break;
	case JSON_TRUE: v->type = RT_BOOL; v->b = true; break;
	case JSON_FALSE: v->type = RT_BOOL; v->b = false; break;
	case JSON_INTEGER:
		v->type = RT_INT;
		v->i = json_integer_value(j);
		v->d = (double)v->i;
		break;
	case JSON_REAL: v->type = RT_REAL; v->d = json_real_value(j); break;
	case JSON_STRING:
		v->type = RT_STRING;
		v->s = json_string_value(j);
		v->slen = json_string_length(j);
		break;
	case JSON_ARRAY: v->type = RT_ARRAY; v->n = json_array_size(j); break;
	case JSON_OBJECT: v->type = RT_OBJECT; v->n = json_object_size(j); break;
	}
	return v->type;
}

/* find_member returns the last top-level member named key, or NULL. */
static const struct member *
find_member(struct rec *r, const char *key, size_t len)
{
	size_t i, kl;
	const char *k;

	for (i = r->nm; i-- > 0;) {
		k = member_key(r, &r->m[i], &kl);
		if (kl == len && memcmp(k, key, len) == 0)
			return &r->m[i];
	}
	return NULL;
}

enum rec_type
rec_get_key(struct rec *r, const char *key, size_t len, struct rec_val *v)
{
	const struct member *m;

	if (r->root == NULL || (m = find_member(r, key, len)) == NULL) {
		memset(v, 0, sizeof *v);
		return RT_MISSING;
	}
	return fill_val(r, json_object_getn(r->root, key, len), v,
	    r->line + m->vstart, m->vend - m->vstart);
}

size_t
rec_nfields(const struct rec *r)
{
	return r->nm;
}

void
rec_field(struct rec *r, size_t i, const char **key, size_t *keylen, struct rec_val *v)
{
	const struct member *m = &r->m[i];
	const char *k = member_key(r, m, keylen);
	json_t *j;

	if (m->kesc)
		k = stable_copy(k, *keylen);	/* r->key is reused by the next lookup */
	j = json_object_getn(r->root, k, *keylen);
	*key = k;
	fill_val(r, j, v, r->line + m->vstart, m->vend - m->vstart);
}

static void
path_fail(struct rec_err *err, size_t col, const char *msg)
{
	if (err) {
		snprintf(err->text, sizeof err->text, "%s", msg);
		err->column = col;
	}
}

struct rec_path *
rec_path_compile(const char *spec, struct rec_err *err)
{
	struct rec_path *p = xcalloc(1, sizeof *p);
	size_t i = 0, n = strlen(spec), cap = 0, start;
	int plain = 1;
	struct buf name = BUF_INIT;

	p->spec = xstrdup(spec);
	if (n == 0) {
		path_fail(err, 1, "empty field path");
		goto fail;
	}
	if (spec[0] == '.')
		i++;
	if (n == 1 && spec[0] == '.') {
		path_fail(err, 2, "expected a field name after '.'");
		goto fail;
	}
	while (i < n) {
		struct step st = { STEP_KEY, NULL, 0, 0 };

		if (spec[i] == '[') {
			char *end;
			plain = 0;
			start = i + 1;
			errno = 0;
			st.kind = STEP_INDEX;
			st.index = strtoll(spec + start, &end, 10);
			if (end == spec + start || *end != ']' || errno != 0 ||
			    spec[start] == '+' || spec[start] == ' ') {
				path_fail(err, start + 1, "expected an integer index and ']'");
				goto fail;
			}
			i = (size_t)(end - spec) + 1;
		} else if (spec[i] == '"') {
			plain = 0;
			buf_reset(&name);
			for (i++; i < n && spec[i] != '"'; i++) {
				if (spec[i] == '\\' && i + 1 < n)
					i++;
				buf_addc(&name, spec[i]);
			}
			if (i >= n) {
				path_fail(err, n + 1, "unterminated quoted field name");
				goto fail;
			}
			i++;
			st.name = xstrndup(name.p ? name.p : "", name.len);
			st.len = name.len;
		} else {
			start = i;
			while (i < n && spec[i] != '.' && spec[i] != '[' && spec[i] != '"' &&
			    spec[i] != ']' && (unsigned char)spec[i] > ' ')
				i++;
			if (i == start) {
				path_fail(err, i + 1, p->n ? "expected a field name after '.'" :
				    "expected a field name");
				goto fail;
			}
			st.name = xstrndup(spec + start, i - start);
			st.len = i - start;
		}
		if (p->n == cap) {
			cap = cap ? cap * 2 : 4;
			p->steps = xrealloc(p->steps, cap * sizeof *p->steps);
		}
		p->steps[p->n++] = st;
		if (i < n) {
			if (spec[i] == '.') {
				i++;
				if (i >= n) {
					path_fail(err, i + 1, "expected a field name after '.'");
					goto fail;
				}
			} else if (spec[i] != '[') {
				path_fail(err, i + 1, "expected '.' or '[' in field path");
				goto fail;
			}
		}
	}
	if (plain && p->n > 1) {
		p->flat = xstrdup(spec[0] == '.' ? spec + 1 : spec);
		p->flatlen = strlen(p->flat);
	}
	buf_free(&name);
	return p;
fail:
	buf_free(&name);
	rec_path_free(p);
	return NULL;
}

void
rec_path_free(struct rec_path *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		free(p->steps[i].name);
	free(p->steps);
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
	if (p->n == 0 || p->steps[0].kind != STEP_KEY)
		return NULL;
	*len = p->steps[0].len;
	return p->steps[0].name;
}

enum rec_type
rec_get(struct rec *r, const struct rec_path *p, struct rec_val *v)
{
	json_t *j;
	size_t i;
	const struct member *m;

	memset(v, 0, sizeof *v);
	if (r->root == NULL)
		return RT_MISSING;
	if (p->steps[0].kind != STEP_KEY)
		return RT_MISSING;
	m = find_member(r, p->steps[0].name, p->steps[0].len);
	if (m == NULL)
		goto flat;
	if (p->n == 1)
		return fill_val(r, json_object_getn(r->root, p->steps[0].name, p->steps[0].len),
		    v, r->line + m->vstart, m->vend - m->vstart);
	j = json_object_getn(r->root, p->steps[0].name, p->steps[0].len);
	for (i = 1; i < p->n && j != NULL; i++) {
		const struct step *st = &p->steps[i];
		if (st->kind == STEP_KEY)
			j = json_is_object(j) ? json_object_getn(j, st->name, st->len) : NULL;
		else if (json_is_array(j)) {
			long long ix = st->index, sz = (long long)json_array_size(j);
			if (ix < 0)
				ix += sz;
			j = ix >= 0 && ix < sz ? json_array_get(j, (size_t)ix) : NULL;
		} else
			j = NULL;
	}
	if (j != NULL)
		return fill_val(r, j, v, NULL, 0);
flat:
	if (p->flat != NULL)
		return rec_get_key(r, p->flat, p->flatlen, v);
	return RT_MISSING;
}

enum rec_type
rec_root(struct rec *r, struct rec_val *v)
{
	if (r->root == NULL) {
		memset(v, 0, sizeof *v);
		return RT_MISSING;
	}
	return fill_val(r, r->root, v, r->line + r->ostart, r->oend + 1 - r->ostart);
}

int
rec_is_watermark(struct rec *r, int64_t *t)
{
	static const struct tv_format iso = { TV_ISO, NULL };
	const struct member *m;
	json_t *j;

	if (r->nm != 1)
		return 0;
	m = &r->m[0];
	if (m->klen != 10 || memcmp(r->line + m->kstart, "@watermark", 10) != 0)
		return 0;
	if (t == NULL)
		return 1;
	j = json_object_get(r->root, "@watermark");
	if (!json_is_string(j))
		return -1;
	if (strcmp(json_string_value(j), "+inf") == 0) {
		*t = TV_MAX;
		return 1;
	}
	if (tv_parse(&iso, json_string_value(j), json_string_length(j), t, NULL) != 0)
		return -1;
	return 1;
}

/* edit_for returns the edit that names member m's key, or NULL. */
static const struct rec_edit *
edit_for(struct rec *r, const struct member *m, const struct rec_edit *e, size_t n, unsigned *used)
{
	size_t i, kl;
	const char *k;

	if (n == 0)
		return NULL;
	k = member_key(r, m, &kl);
	for (i = 0; i < n; i++)
		if (e[i].keylen == kl && memcmp(e[i].key, k, kl) == 0) {
			*used |= 1u << i;
			return &e[i];
		}
	return NULL;
}

void
rec_emit(struct rec *r, FILE *out, const struct rec_edit *edits, size_t nedits)
{
	const char *s = r->line;
	size_t i, j, at;
	unsigned used = 0;
	int any = 0;
	const struct rec_edit *e;
	struct buf *b = &r->emit;

	if (nedits == 0) {
		fwrite_unlocked(s + r->ostart, 1, r->oend + 1 - r->ostart, out);
		putc_unlocked('\n', out);
		return;
	}
	b->len = 0;
	buf_addc(b, '{');
	for (i = 0; i < r->nm; i++) {
		const struct member *m = &r->m[i];
		e = edit_for(r, m, edits, nedits < 32 ? nedits : 32, &used);
		if (e != NULL && e->json == NULL)
			continue;	/* deleted, with its separator */
		/* The separator: whitespace and the comma, the comma only after an emitted member. */
		for (j = m->sep; j < m->kstart - 1; j++)
			if (s[j] != ',' || any)
				buf_addc(b, s[j]);
		if (e != NULL) {
			buf_add(b, s + m->kstart - 1, m->vstart - (m->kstart - 1));
			buf_add(b, e->json, e->jsonlen);
		} else
			buf_add(b, s + m->kstart - 1, m->vend - (m->kstart - 1));
		any = 1;
	}
	at = r->nm ? r->m[r->nm - 1].vend : r->ostart + 1;
	buf_add(b, s + at, r->oend - at);
	for (i = 0; i < nedits; i++) {
		if ((i < 32 && (used & (1u << i))) || edits[i].json == NULL)
			continue;
		if (any)
			buf_addc(b, ',');
		jw_str(b, edits[i].key, edits[i].keylen);
		buf_addc(b, ':');
		buf_add(b, edits[i].json, edits[i].jsonlen);
		any = 1;
	}
	buf_add(b, "}\n", 2);
	fwrite_unlocked(b->p, 1, b->len, out);
}

static int
keycmp(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;
	return strcmp(*x, *y);
}

static void
canon(json_t *j, struct buf *out)
{
	char t[48];
	size_t n, i;

	switch (json_typeof(j)) {
	case JSON_NULL: buf_add(out, "null", 4); break;
	case JSON_TRUE: buf_add(out, "true", 4); break;
	case JSON_FALSE: buf_add(out, "false", 5); break;
	case JSON_INTEGER: jw_int(out, json_integer_value(j)); break;
	case JSON_REAL: {
		double d = json_real_value(j);
		/* 1.0 and 1 are the same JSON number. */
		if (d == (double)(int64_t)d && d > -9.2e18 && d < 9.2e18)
			jw_int(out, (int64_t)d);
		else {
			n = fmt_real(t, d);
			buf_add(out, t, n);
		}
		break;
	}
	case JSON_STRING: jw_str(out, json_string_value(j), json_string_length(j)); break;
	case JSON_ARRAY:
		buf_addc(out, '[');
		for (i = 0; i < json_array_size(j); i++) {
			if (i)
				buf_addc(out, ',');
			canon(json_array_get(j, i), out);
		}
		buf_addc(out, ']');
		break;
	case JSON_OBJECT: {
		const char **keys;
		const char *k;
		json_t *v;
		n = json_object_size(j);
		keys = xmalloc((n ? n : 1) * sizeof *keys);
		i = 0;
		json_object_foreach(j, k, v)
			keys[i++] = k;
		qsort(keys, n, sizeof *keys, keycmp);
		buf_addc(out, '{');
		for (i = 0; i < n; i++) {
			if (i)
				buf_addc(out, ',');
			jw_cstr(out, keys[i]);
			buf_addc(out, ':');
			canon(json_object_get(j, keys[i]), out);
		}
		buf_addc(out, '}');
		free(keys);
		break;
	}
	}
}

void
rec_val_canon(struct rec *r, const struct rec_val *v, struct buf *out)
{
	json_t *j;

	if (v->type == RT_MISSING) {
		buf_add(out, "null", 4);
		return;
	}
	if (v->raw == r->line + r->ostart && v->type == RT_OBJECT) {
		canon(r->root, out);
		return;
	}
	arena_on = 1;
	j = json_loadb(v->raw, v->rawlen, JSON_DECODE_ANY, NULL);
	arena_on = 0;
	if (j != NULL)
		canon(j, out);
	else
		buf_add(out, v->raw, v->rawlen);
}

const char *
rec_type_name(enum rec_type t)
{
	static const char *names[] = { "missing", "null", "boolean", "integer", "number",
	    "string", "array", "object" };
	return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}
