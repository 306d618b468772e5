/* test_canon: lib/record's canonical form — the record's own fast path against the generic one, numbers copied as they are, and rec_canon_without. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "record.h"
#include "tap.h"

static struct rec *r;
static struct buf b, line;

/* root canonicalises a whole record (the path that reads rec_parse's member index). */
static const char *
root(const char *s)
{
	struct rec_val v;

	if (rec_parse(r, s, strlen(s), NULL) != 0)
		return "parse error";
	buf_reset(&b);
	rec_root(r, &v);
	rec_val_canon(r, &v, &b);
	return buf_cstr(&b);
}

/* nested canonicalises the record as the element of an array (the generic walk), brackets taken off. */
static const char *
nested(const char *s)
{
	struct rec_val v;
	struct rec_err e;
	struct rec_path *p = rec_path_compile("a[0]", &e);

	buf_reset(&line);
	buf_adds(&line, "{\"a\":[");
	buf_adds(&line, s);
	buf_adds(&line, "]}");
	if (rec_parse(r, line.p, line.len, NULL) != 0)
		return "parse error";
	buf_reset(&b);
	rec_get(r, p, &v);
	rec_val_canon(r, &v, &b);
	rec_path_free(p);
	return buf_cstr(&b);
}

/* without canonicalises s less the comma-separated paths. */
static const char *
without(const char *s, const char *paths)
{
	struct rec_path *p[8];
	struct rec_err e;
	char spec[256], *tok, *save;
	size_t n = 0;

	snprintf(spec, sizeof(spec), "%s", paths);
	for (tok = strtok_r(spec, ",", &save); tok != NULL && n < 8; tok = strtok_r(NULL, ",", &save))
		p[n++] = rec_path_compile(tok, &e);
	if (rec_parse(r, s, strlen(s), NULL) != 0)
		return "parse error";
	buf_reset(&b);
	rec_canon_without(r, p, n, &b);
	while (n > 0)
		rec_path_free(p[--n]);
	return buf_cstr(&b);
}

/* Numbers: the ones copied as they are, the ones that are not, at each edge. */
static void
test_numbers(void)
{
	static const char *const cases[][2] = {
		{ "12.30", "12.3" }, { "12.00", "12" }, { "-12.0", "-12" }, { "-0.00", "0" },
		{ "0.0", "0" }, { "-0", "0" }, { "-7", "-7" }, { "0.5", "0.5" }, { "-0.5", "-0.5" },
		{ "0.10", "0.1" }, { "100.000", "100" }, { "0.000001", "0.000001" },
		{ "0.00000100", "0.000001" }, { "0.0000001", "1e-07" }, { "0.00001234", "0.00001234" },
		{ "123456789012345.0", "123456789012345" }, { "1234567890123456.0", "1234567890123456" },
		{ "12345678901234.5", "12345678901234.5" }, { "0.123456789012345", "0.123456789012345" },
		{ "0.1234567890123456", "0.1234567890123456" }, { "1E2", "100" }, { "2.5e-1", "0.25" },
		{ "0.30000000000000004", "0.30000000000000004" }, { "9007199254740993", "9007199254740993" },
		{ "99999999999999999999", "99999999999999999999" },
	};
	char in[128], want[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(in, sizeof(in), "{\"n\":%s,\"m\":[%s]}", cases[i][0], cases[i][0]);
		snprintf(want, sizeof(want), "{\"m\":[%s],\"n\":%s}", cases[i][1], cases[i][1]);
		is_str(root(in), want, "%s is written %s", cases[i][0], cases[i][1]);
	}
}

static unsigned long long rs = 88172645463325252ULL;

static unsigned
rnd(unsigned n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (unsigned)(rs % n);
}

static void gen_value(struct buf *, int depth);

static void
gen_object(struct buf *o, int depth)
{
	static const char *const keys[] = {
		"a", "b", "ab", "a\\u0062", "\\u00e9", "\xc3\xa9", "z", "", "k1", "k\\u0031", "B", "a b"
	};
	unsigned n = rnd(depth == 0 ? 30 : 5);

	buf_addc(o, '{');
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			buf_adds(o, rnd(4) ? "," : " , ");
		buf_addc(o, '"');
		buf_adds(o, keys[rnd(sizeof(keys) / sizeof(keys[0]))]);
		buf_adds(o, rnd(4) ? "\":" : "\" : ");
		gen_value(o, depth + 1);
	}
	buf_addc(o, '}');
}

static void
gen_value(struct buf *o, int depth)
{
	static const char *const leaves[] = {
		"1", "-0", "1.0", "1.50", "0.000001", "1e-7", "-2.5E3", "123456789012345678", "1e300",
		"12345678901234567890", "0.1", "3.14159265358979", "\"x\"", "\"x\\u0041\\n\\/\"",
		"\"\xe2\x82\xac\"", "\"\\ud83d\\ude00\"", "true", "false", "null", "\"\"", "\"\\\\\\\"\"",
	};

	switch (depth < 3 ? rnd(6) : 5) {
	case 0:
		gen_object(o, depth);
		break;
	case 1: {
		unsigned n = rnd(4);

		buf_addc(o, '[');
		for (unsigned i = 0; i < n; i++) {
			if (i > 0)
				buf_addc(o, ',');
			gen_value(o, depth + 1);
		}
		buf_addc(o, ']');
		break;
	}
	default:
		buf_adds(o, leaves[rnd(sizeof(leaves) / sizeof(leaves[0]))]);
	}
}

/* The record's own path and the generic walk write the same bytes for 5,000 generated records. */
static void
test_paths_agree(void)
{
	struct buf o = BUF_INIT;
	char *a;
	size_t same = 0, i;

	for (i = 0; i < 5000; i++) {
		buf_reset(&o);
		gen_object(&o, 0);
		buf_cstr(&o);
		a = xstrdup(root(o.p));
		if (strcmp(a, nested(o.p)) == 0 && strcmp(a, "parse error") != 0)
			same++;
		else if (same + 1 == i)	/* the first difference only */
			printf("# differ: %s\n#   root %s\n#   nested %s\n", o.p, a, nested(o.p));
		free(a);
	}
	is_int(same, 5000, "the whole-record path and the generic one agree on generated records");
	buf_free(&o);
}

/* Keys and strings, worked out by hand: escapes undone and redone minimally, the last of equal keys kept. */
static void
test_strings(void)
{
	is_str(root("{\"a\\u0062\":1,\"k\\u0031\":2,\"k1\":3,\"\\u00e9\":4}"),
	    "{\"ab\":1,\"k1\":3,\"\xc3\xa9\":4}", "escaped keys are unescaped, sorted and merged");
	is_str(nested("{\"a\\u0062\":1,\"k\\u0031\":2,\"k1\":3}"), "{\"ab\":1,\"k1\":3}",
	    "the same in a nested object");
	is_str(root("{\"q\\\"\":\"a\\u0022\\\\\\/\\u001f\"}"), "{\"q\\\"\":\"a\\\"\\\\/\\u001f\"}",
	    "quotes, backslashes and controls stay escaped, a solidus does not");
	is_str(root("{\"s\":\"\\ud83d\\ude00 \xe2\x82\xac\"}"), "{\"s\":\"\xf0\x9f\x98\x80 \xe2\x82\xac\"}",
	    "a surrogate pair becomes UTF-8; UTF-8 is copied");
}

static void
test_without(void)
{
	const char *rec = "{\"_write_ts\":\"x\",\"ts\":1,\"id.orig_h\":\"h\",\"conn\":{\"ts\":2,\"p\":\"udp\"},"
	    "\"tags\":[\"a\",\"b\"],\"q\":1}";

	is_str(without(rec, "ts,_write_ts"),
	    "{\"conn\":{\"p\":\"udp\",\"ts\":2},\"id.orig_h\":\"h\",\"q\":1,\"tags\":[\"a\",\"b\"]}",
	    "top-level fields left out");
	is_str(without(rec, "conn.ts,id.orig_h"),
	    "{\"_write_ts\":\"x\",\"conn\":{\"p\":\"udp\"},\"q\":1,\"tags\":[\"a\",\"b\"],\"ts\":1}",
	    "a nested member and a dotted top-level name");
	is_str(without(rec, "tags[0],nosuch,conn.nosuch"),
	    "{\"_write_ts\":\"x\",\"conn\":{\"p\":\"udp\",\"ts\":2},\"id.orig_h\":\"h\",\"q\":1,\"tags\":[\"b\"],\"ts\":1}",
	    "an array element; paths that find nothing leave nothing out");
	is_str(without("{\"a\":1,\"b\":2,\"a\":3}", "a"), "{\"b\":2}", "a duplicated key goes with its last occurrence");
	is_str(without("{\"a\":1}", "a"), "{}", "everything left out");
	is_str(without("{\"b\":1,\"a\":2}", ""), "{\"a\":2,\"b\":1}", "no paths: the whole record");
	is_str(root("{\"ts\":1,\"a\":2}"), "{\"a\":2,\"ts\":1}", "the next canonical form is whole again");
}

int
main(void)
{
	r = rec_new();
	test_numbers();
	test_paths_agree();
	test_strings();
	test_without();
	rec_free(r);
	buf_free(&b);
	buf_free(&line);
	return tap_done();
}
