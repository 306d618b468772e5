/* record_oracle: checks lib/record's scanner against jansson on one line (shared by the differential test and the fuzzer). */
#ifndef NDFLOW_RECORD_ORACLE_H
#define NDFLOW_RECORD_ORACLE_H

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "record.h"

/*
 * The deliberate differences: jansson refuses an integer past int64
 * ("too big integer"); the scanner accepts it as a number.  For such a
 * line the oracle is json_loadb with JSON_DECODE_INT_AS_REAL, and numbers
 * are compared by type class only.  jansson 2.14 skips a NUL byte that
 * directly follows a number or literal; the scanner refuses any raw NUL.
 */

struct oracle {
	struct rec	*r;
	struct buf	 a, b;
	char		 why[512];
	int		 loose;		/* the line has an integer past int64 */
};

static void
oracle_fail(struct oracle *o, const char *fmt, ...)
{
	va_list ap;

	if (o->why[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(o->why, sizeof(o->why), fmt, ap);
	va_end(ap);
}

static int
oracle_keycmp(const void *x, const void *y)
{
	const char *a = *(const char *const *)x, *b = *(const char *const *)y;

	return strcmp(a, b);	/* keys never hold NUL: both sides refuse \u0000 */
}

/* oracle_jcanon writes jansson's value in rec_val_canon's canonical form. */
static void
oracle_jcanon(const json_t *j, struct buf *out)
{
	const char *k, **keys;
	json_t *v;
	size_t i, n;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		n = json_object_size(j);
		keys = xcalloc(n + 1, sizeof(*keys));
		i = 0;
		json_object_foreach((json_t *)j, k, v)
			keys[i++] = k;
		qsort(keys, n, sizeof(*keys), oracle_keycmp);
		buf_addc(out, '{');
		for (i = 0; i < n; i++) {
			if (i > 0)
				buf_addc(out, ',');
			jw_str(out, keys[i], strlen(keys[i]));
			buf_addc(out, ':');
			oracle_jcanon(json_object_get(j, keys[i]), out);
		}
		buf_addc(out, '}');
		free(keys);
		break;
	case JSON_ARRAY:
		buf_addc(out, '[');
		for (i = 0; i < json_array_size(j); i++) {
			if (i > 0)
				buf_addc(out, ',');
			oracle_jcanon(json_array_get(j, i), out);
		}
		buf_addc(out, ']');
		break;
	case JSON_STRING:
		jw_str(out, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		jw_int(out, json_integer_value(j));
		break;
	case JSON_REAL:
		if (json_real_value(j) > -9.2e18 && json_real_value(j) < 9.2e18 &&
		    json_real_value(j) == (double)(int64_t)json_real_value(j))
			jw_int(out, (int64_t)json_real_value(j));
		else
			jw_real(out, json_real_value(j));
		break;
	case JSON_TRUE:
		buf_adds(out, "true");
		break;
	case JSON_FALSE:
		buf_adds(out, "false");
		break;
	case JSON_NULL:
		buf_adds(out, "null");
		break;
	}
}

/* oracle_val compares one value found by the scanner with jansson's; where names it. */
static void
oracle_val(struct oracle *o, const json_t *j, const struct rec_val *v, const char *where)
{
	enum rec_type want;
	size_t n;

	switch (json_typeof(j)) {
	case JSON_OBJECT: want = RT_OBJECT; break;
	case JSON_ARRAY: want = RT_ARRAY; break;
	case JSON_STRING: want = RT_STRING; break;
	case JSON_INTEGER: want = RT_INT; break;
	case JSON_REAL: want = RT_REAL; break;
	case JSON_TRUE: case JSON_FALSE: want = RT_BOOL; break;
	default: want = RT_NULL; break;
	}
	if (o->loose && (want == RT_INT || want == RT_REAL)) {
		if (v->type != RT_INT && v->type != RT_REAL)
			oracle_fail(o, "%s: type %s, jansson says a number", where, rec_type_name(v->type));
		return;
	}
	if (v->type != want) {
		oracle_fail(o, "%s: type %s, jansson says %s", where, rec_type_name(v->type),
		    rec_type_name(want));
		return;
	}
	switch (want) {
	case RT_STRING:
		n = json_string_length(j);
		if (v->slen != n || memcmp(v->s, json_string_value(j), n) != 0)
			oracle_fail(o, "%s: string differs", where);
		break;
	case RT_INT:
		if (v->i != json_integer_value(j) || v->d != (double)json_integer_value(j))
			oracle_fail(o, "%s: integer %lld, jansson %lld", where, (long long)v->i,
			    (long long)json_integer_value(j));
		break;
	case RT_REAL:
		if (memcmp(&v->d, &(double){ json_real_value(j) }, sizeof(double)) != 0)
			oracle_fail(o, "%s: real %.17g, jansson %.17g", where, v->d, json_real_value(j));
		break;
	case RT_BOOL:
		if (v->b != json_is_true(j))
			oracle_fail(o, "%s: boolean differs", where);
		break;
	case RT_ARRAY:
		if (v->n != json_array_size(j))
			oracle_fail(o, "%s: %zu elements, jansson %zu", where, v->n, json_array_size(j));
		break;
	default:
		break;
	}
	if ((want == RT_OBJECT || want == RT_ARRAY) && !o->loose) {
		buf_reset(&o->a);
		buf_reset(&o->b);
		rec_val_canon(o->r, v, &o->a);
		oracle_jcanon(j, &o->b);
		if (o->a.len != o->b.len || memcmp(o->a.p, o->b.p, o->a.len) != 0)
			oracle_fail(o, "%s: canonical form differs: %.*s vs %.*s", where,
			    (int)(o->a.len > 100 ? 100 : o->a.len), o->a.p,
			    (int)(o->b.len > 100 ? 100 : o->b.len), o->b.p);
	}
}

/* oracle_paths follows compiled paths into nested values, a few levels deep. */
static void
oracle_paths(struct oracle *o, const json_t *j, struct buf *path, int depth)
{
	struct rec_path *p;
	struct rec_err e;
	struct rec_val v;
	const char *k;
	json_t *c;
	size_t keep = path->len, i, n;
	char num[32];

	if (depth > 3 || o->why[0] != '\0')
		return;
	if (json_is_object(j)) {
		n = 0;
		json_object_foreach((json_t *)j, k, c) {
			if (n++ >= 8)
				break;
			path->len = keep;
			buf_addc(path, '.');
			jw_str(path, k, strlen(k));
			if ((p = rec_path_compile(buf_cstr(path), &e)) == NULL) {
				oracle_fail(o, "path %s: %s", path->p, e.text);
				return;
			}
			rec_get(o->r, p, &v);
			oracle_val(o, c, &v, path->p);
			rec_path_free(p);
			oracle_paths(o, c, path, depth + 1);
		}
	} else if (json_is_array(j)) {
		n = json_array_size(j);
		for (i = 0; i < n && i < 4; i++) {
			path->len = keep;
			snprintf(num, sizeof(num), "[%zu]", i);
			buf_adds(path, num);
			if ((p = rec_path_compile(buf_cstr(path), &e)) == NULL) {
				oracle_fail(o, "path %s: %s", path->p, e.text);
				return;
			}
			rec_get(o->r, p, &v);
			oracle_val(o, json_array_get(j, i), &v, path->p);
			rec_path_free(p);
			oracle_paths(o, json_array_get(j, i), path, depth + 1);
		}
		if (n > 0) {	/* and from the end */
			path->len = keep;
			buf_adds(path, "[-1]");
			p = rec_path_compile(buf_cstr(path), &e);
			rec_get(o->r, p, &v);
			oracle_val(o, json_array_get(j, n - 1), &v, path->p);
			rec_path_free(p);
		}
	}
	path->len = keep;
}

/*
 * oracle_emit checks rec_emit: without edits the trimmed line comes back;
 * with edits (replace "page", delete "a", add "new") jansson reads the
 * output as the original object with exactly those changes.
 */
static void
oracle_emit(struct oracle *o, const char *line, size_t len, json_t *orig, size_t flags)
{
	static const struct rec_edit edits[] = {
		{ "page", 4, "\"x\"", 3 },
		{ "a", 1, NULL, 0 },
		{ "new", 3, "[1,{\"b\":null}]", 14 }
	};
	char *out = NULL;
	size_t outlen = 0, b = 0, e = len;
	FILE *f;
	json_t *want, *got;
	json_error_t je;

	while (b < len && strchr(" \t\r\n", line[b]) != NULL)
		b++;
	while (e > b && strchr(" \t\r\n", line[e - 1]) != NULL)
		e--;
	f = open_memstream(&out, &outlen);
	rec_emit(o->r, f, NULL, 0);
	fclose(f);
	if (outlen != e - b + 1 || memcmp(out, line + b, e - b) != 0 || out[outlen - 1] != '\n')
		oracle_fail(o, "rec_emit without edits changed the bytes");
	free(out);
	out = NULL;
	f = open_memstream(&out, &outlen);
	rec_emit(o->r, f, edits, 3);
	fclose(f);
	want = json_deep_copy(orig);
	json_object_set_new(want, "page", json_string("x"));
	json_object_del(want, "a");
	json_object_set_new(want, "new", json_loads("[1,{\"b\":null}]", flags, NULL));
	got = json_loadb(out, outlen, flags, &je);
	if (got == NULL)
		oracle_fail(o, "rec_emit with edits wrote bad JSON (%s): %.*s", je.text,
		    (int)(outlen > 200 ? 200 : outlen), out);
	else if (!json_equal(got, want))
		oracle_fail(o, "rec_emit with edits: wrong result: %.*s", (int)(outlen > 200 ? 200 : outlen), out);
	json_decref(got);
	json_decref(want);
	free(out);
}

/*
 * oracle_check feeds one line to both parsers.  Returns 0 when they agree
 * on accept/reject and on every value, else -1 with o->why saying how.
 * *accepted tells what the scanner did.
 */
static int
oracle_check(struct oracle *o, const char *line, size_t len, int *accepted)
{
	json_error_t je;
	json_t *j, *jv;
	struct rec_err e;
	struct rec_val v;
	const char *k;
	size_t i, nkeys, kl, m;
	int ok, jok;
	struct buf path = BUF_INIT;

	o->why[0] = '\0';
	o->loose = 0;
	j = json_loadb(line, len, 0, &je);
	if (j == NULL && json_error_code(&je) == json_error_numeric_overflow &&
	    strstr(je.text, "too big") != NULL) {
		o->loose = 1;
		j = json_loadb(line, len, JSON_DECODE_INT_AS_REAL, &je);
	}
	jok = j != NULL && json_is_object(j);
	/* jansson skips a NUL byte right after a number or literal; the scanner refuses every NUL. */
	if (memchr(line, '\0', len) != NULL)
		jok = 0;
	memset(&e, 0, sizeof(e));
	ok = rec_parse(o->r, line, len, &e) == 0;
	*accepted = ok;
	if (ok != jok) {
		oracle_fail(o, ok ? "scanner accepts, jansson refuses: %s" :
		    "scanner refuses (%s, column %zu), jansson accepts", ok ? je.text : e.text, e.column);
		json_decref(j);
		return -1;
	}
	if (!ok) {
		if (e.text[0] == '\0' || e.column == 0 || e.column > len + 1)
			oracle_fail(o, "refused without a reason or column (%zu)", e.column);
		json_decref(j);
		return o->why[0] ? -1 : 0;
	}
	/* Every key jansson has, with its value (the last occurrence wins). */
	json_object_foreach(j, k, jv) {
		if (rec_get_key(o->r, k, strlen(k), &v) == RT_MISSING) {
			oracle_fail(o, "key \"%s\" missing", k);
			break;
		}
		oracle_val(o, jv, &v, k);
	}
	/* The scanner's members in line order: the same set of distinct keys. */
	nkeys = 0;
	for (i = 0; i < rec_nfields(o->r) && o->why[0] == '\0'; i++) {
		rec_field(o->r, i, &k, &kl, &v);
		if (memchr(k, '\0', kl) != NULL || json_object_getn(j, k, kl) == NULL) {
			oracle_fail(o, "field %zu's key is not in jansson's object", i);
			break;
		}
		for (m = i + 1; m < rec_nfields(o->r); m++) {
			const char *k2;
			size_t kl2;
			struct rec_val v2;

			rec_field(o->r, m, &k2, &kl2, &v2);
			if (kl2 == kl && memcmp(k2, k, kl) == 0)
				break;
		}
		nkeys += m == rec_nfields(o->r);
	}
	if (o->why[0] == '\0' && nkeys != json_object_size(j))
		oracle_fail(o, "%zu distinct keys, jansson %zu", nkeys, json_object_size(j));
	if (!o->loose)
		oracle_paths(o, j, &path, 0);
	if (o->why[0] == '\0')
		oracle_emit(o, line, len, j, o->loose ? JSON_DECODE_INT_AS_REAL : 0);
	buf_free(&path);
	json_decref(j);
	return o->why[0] ? -1 : 0;
}

#endif
