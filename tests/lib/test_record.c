/* test_record: lib/record's API: parse errors, paths, typed views, emission edits, watermarks, canonical form. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "record.h"
#include "tap.h"
#include "timeval.h"

static struct rec *r;

/* parse_err parses a bad line and returns "column: reason". */
static const char *
parse_err(const char *line)
{
	static char out[200];
	struct rec_err e;

	memset(&e, 0, sizeof(e));
	if (rec_parse(r, line, strlen(line), &e) == 0)
		return "accepted";
	snprintf(out, sizeof(out), "%zu: %s", e.column, e.text);
	return out;
}

static const char *
path_err(const char *spec)
{
	static char out[200];
	struct rec_err e;
	struct rec_path *p;

	if ((p = rec_path_compile(spec, &e)) != NULL) {
		rec_path_free(p);
		return "compiled";
	}
	snprintf(out, sizeof(out), "%zu: %s", e.column, e.text);
	return out;
}

/* get looks a path up in line and returns the value as text: type and contents. */
static const char *
get(const char *line, const char *spec)
{
	static char out[300];
	struct rec_path *p;
	struct rec_val v;

	if (rec_parse(r, line, strlen(line), NULL) != 0)
		return "parse error";
	if ((p = rec_path_compile(spec, NULL)) == NULL)
		return "path error";
	switch (rec_get(r, p, &v)) {
	case RT_STRING:
		snprintf(out, sizeof(out), "string %.*s", (int)v.slen, v.s);
		break;
	case RT_INT:
		snprintf(out, sizeof(out), "integer %lld", (long long)v.i);
		break;
	case RT_REAL:
		snprintf(out, sizeof(out), "number %.17g %.*s", v.d, (int)v.rawlen, v.raw);
		break;
	case RT_BOOL:
		snprintf(out, sizeof(out), "boolean %s", v.b ? "true" : "false");
		break;
	case RT_ARRAY: case RT_OBJECT:
		snprintf(out, sizeof(out), "%s %zu %.*s", rec_type_name(v.type), v.n, (int)v.rawlen, v.raw);
		break;
	default:
		snprintf(out, sizeof(out), "%s", rec_type_name(v.type));
		break;
	}
	rec_path_free(p);
	return out;
}

/* emit parses line and returns what rec_emit writes with the edits. */
static const char *
emit(const char *line, const struct rec_edit *e, size_t n)
{
	static char *out;
	size_t len;
	FILE *f;

	free(out);
	out = NULL;
	if (rec_parse(r, line, strlen(line), NULL) != 0)
		return "parse error";
	f = open_memstream(&out, &len);
	rec_emit(r, f, e, n);
	fclose(f);
	return out;
}

static const char *
canon(const char *line)
{
	static struct buf b;
	struct rec_val v;

	if (rec_parse(r, line, strlen(line), NULL) != 0)
		return "parse error";
	buf_reset(&b);
	rec_root(r, &v);
	rec_val_canon(r, &v, &b);
	return buf_cstr(&b);
}

static void
test_parse(void)
{
	ok(rec_parse(r, "{}", 2, NULL) == 0 && rec_nfields(r) == 0, "an empty object parses with no fields");
	ok(rec_parse(r, " \t{\"a\":1} \r", 11, NULL) == 0 && rec_nfields(r) == 1,
	    "JSON whitespace around the object is allowed");
	is_str(parse_err("{\"a\":1"), "7: ',' or '}' expected near end of file", "a truncated object");
	is_str(parse_err("{\"a\":1,}"), "8: string or '}' expected", "a trailing comma");
	is_str(parse_err("{\"a\" 1}"), "6: ':' expected", "a missing colon");
	is_str(parse_err("{\"a\":01}"), "6: invalid number: leading zero", "a leading zero");
	is_str(parse_err("{\"a\":1.}"), "8: invalid number: expected a digit after '.'", "a bare decimal point");
	is_str(parse_err("{\"a\":.5}"), "6: invalid token: '.' cannot start a value", "a number without its integer part");
	is_str(parse_err("{\"a\":1e}"), "8: invalid number: expected a digit in the exponent", "an empty exponent");
	is_str(parse_err("{\"a\":1e309}"), "6: real number overflow", "a real past the double range");
	is_str(parse_err("{\"a\":tru}"), "6: invalid token: expected true, false or null", "a cut literal");
	is_str(parse_err("{\"a\":\"\\x\"}"), "7: invalid escape '\\x'", "an unknown escape");
	is_str(parse_err("{\"a\":\"\\u12G4\"}"), "7: invalid \\u escape", "a bad \\u escape");
	is_str(parse_err("{\"a\":\"\\u0000\"}"), "7: \\u0000 is not allowed in a string", "\\u0000 is refused as jansson does");
	is_str(parse_err("{\"a\":\"\\ud800\"}"), "7: invalid Unicode '\\uD800' (high surrogate without a low one)",
	    "a lone high surrogate");
	is_str(parse_err("{\"a\":\"\\udc00\"}"), "7: invalid Unicode '\\uDC00' (lone low surrogate)", "a lone low surrogate");
	is_str(parse_err("{\"a\":\"x\ty\"}"), "8: control character 0x09 in a string", "a raw tab in a string");
	is_str(parse_err("{\"a\":\"\xc0\x80\"}"), "7: invalid UTF-8 byte 0xc0", "an overlong UTF-8 sequence");
	is_str(parse_err("{\"a\":\"\xed\xa0\x80\"}"), "7: invalid UTF-8 byte 0xed", "a UTF-8 encoded surrogate");
	is_str(parse_err("{\"a\":\"\xf4\x90\x80\x80\"}"), "7: invalid UTF-8 byte 0xf4", "a code point past U+10FFFF");
	is_str(parse_err("{\"a\":\"\xe2\x82\"}"), "7: invalid UTF-8 byte 0xe2", "a truncated UTF-8 sequence");
	is_str(parse_err("{\"a\":\"abc"), "10: premature end of file in a string", "an unterminated string");
	is_str(parse_err("{\"a\":1}x"), "8: end of line expected after the object", "trailing garbage");
	is_str(parse_err("{\"a\":1}{}"), "8: end of line expected after the object", "two objects on one line");
	is_str(parse_err("[1,2]"), "1: expected a JSON object, got an array", "an array");
	is_str(parse_err("  42"), "3: expected a JSON object, got a number", "a number, with the column after the spaces");
	is_str(parse_err("\"s\""), "1: expected a JSON object, got a string", "a string");
	is_str(parse_err("null"), "1: expected a JSON object, got null", "null");
	is_str(parse_err("hello"), "1: '{' expected", "a word");
	is_str(parse_err(""), "1: empty line", "an empty line");
	is_str(parse_err("\xef\xbb\xbf{}"), "1: byte order mark before the object", "a byte order mark");
	ok(rec_parse(r, "{\"a\":1}\0", 8, NULL) != 0, "a NUL byte after the object is refused");
	ok(rec_parse(r, "{\"a\":1\0}", 8, NULL) != 0, "a NUL byte after a number is refused (jansson skips it)");
	ok(rec_parse(r, "{\"a\":\"\0\"}", 9, NULL) != 0, "a raw NUL byte in a string is refused");
	ok(rec_parse(r, "{\"a\":9223372036854775808}", 25, NULL) == 0,
	    "an integer past int64 is accepted (deliberately, jansson says too big integer)");
	is_str(get("{\"a\":9223372036854775808}", "a"), "number 9.2233720368547758e+18 9223372036854775808",
	    "an integer past int64 is a number that keeps its digits");
	is_str(get("{\"a\":-9223372036854775808}", "a"), "integer -9223372036854775808", "INT64_MIN is an integer");
	is_str(get("{\"a\":9223372036854775807}", "a"), "integer 9223372036854775807", "INT64_MAX is an integer");
	is_str(get("{\"a\":-0}", "a"), "integer 0", "-0 is the integer 0");
	is_str(get("{\"a\":57.12}", "a"), "number 57.119999999999997 57.12", "a real keeps its bytes in raw");
	is_str(get("{\"a\":1E2}", "a"), "number 100 1E2", "an exponent makes a number");
	is_str(get("{\"a\":1e-400}", "a"), "number 0 1e-400", "underflow is zero, as in jansson");
	is_str(get("{\"a\":0.1e1}", "a"), "number 1 0.1e1", "fraction and exponent together");
	is_str(get("{\"a\":123456789012345678901234567890e-10}", "a"),
	    "number 1.2345678901234567e+19 123456789012345678901234567890e-10", "a long mantissa is correctly rounded");

	/* A failed parse leaves the record empty. */
	rec_parse(r, "{\"a\":1}", 7, NULL);
	ok(rec_parse(r, "{\"a\":", 5, NULL) != 0 && rec_nfields(r) == 0, "a failed parse empties the record");
	{
		struct rec_val v;
		ok(rec_get_key(r, "a", 1, &v) == RT_MISSING, "and its fields are missing");
	}
	{
		char deep[2 * 2048 + 16];
		size_t n = 0, i;
		for (i = 0; i < 2047; i++)
			deep[n++] = '[';
		for (i = 0; i < 2047; i++)
			deep[n++] = ']';
		memmove(deep + 5, deep, n);
		memcpy(deep, "{\"a\":", 5);
		n += 5;
		deep[n++] = '}';
		ok(rec_parse(r, deep, n, NULL) == 0, "2048 nested containers are accepted");
		memmove(deep + 6, deep + 5, n - 5);
		deep[5] = '[';
		deep[n] = '}';
		deep[n - 1] = ']';
		n++;
		{
			struct rec_err e;
			ok(rec_parse(r, deep, n, &e) != 0 && strcmp(e.text, "maximum nesting depth (2048) exceeded") == 0,
			    "2049 are refused: %s", e.text);
		}
	}
}

static void
test_paths(void)
{
	const char *ev = "{\"user\":{\"id\":\"u1\",\"tags\":[\"a\",\"b\",\"c\"]},\"tags\":[10,20,30],"
	    "\"odd key\":{\"x\":true},\"id.orig_h\":\"10.0.0.1\",\"a\":[{\"b\":1},{\"b\":2},{\"b\":{\"c\":null}}],"
	    "\"e\\u0301\":\"escaped key\",\"s\":\"tab\\there \\u00e9 \\ud83d\\ude00\"}";
	struct rec_path *p;
	size_t len;

	is_str(get(ev, "user.id"), "string u1", "user.id");
	is_str(get(ev, ".user.id"), "string u1", ".user.id with a leading dot");
	is_str(get(ev, "tags[0]"), "integer 10", "tags[0]");
	is_str(get(ev, "tags[-1]"), "integer 30", "tags[-1]");
	is_str(get(ev, "tags[-3]"), "integer 10", "tags[-3]");
	is_str(get(ev, "tags[3]"), "missing", "an index past the end is missing");
	is_str(get(ev, "tags[-4]"), "missing", "a negative index past the start is missing");
	is_str(get(ev, "user.tags[1]"), "string b", "user.tags[1]");
	is_str(get(ev, ".\"odd key\".x"), "boolean true", "a quoted name with a space");
	is_str(get(ev, "\"odd key\""), "object 1 {\"x\":true}", "an object view counts its members");
	is_str(get(ev, "a[2].b.c"), "null", "a[2].b.c");
	is_str(get(ev, "a[1].b"), "integer 2", "a[1].b");
	is_str(get(ev, "a"), "array 3 [{\"b\":1},{\"b\":2},{\"b\":{\"c\":null}}]", "an array view counts its elements");
	is_str(get(ev, "id.orig_h"), "string 10.0.0.1", "a dotted name falls back to a flat key (Zeek style)");
	is_str(get(ev, ".id.orig_h"), "string 10.0.0.1", "the fallback works with a leading dot");
	is_str(get(ev, "\"e\\u0301\""), "string escaped key", "a quoted name with a \\u escape matches an escaped key");
	is_str(get(ev, "\"e\xcc\x81\""), "string escaped key", "the same key spelled in UTF-8");
	is_str(get(ev, "s"), "string tab\there \xc3\xa9 \xf0\x9f\x98\x80", "escapes are decoded, surrogate pairs joined");
	is_str(get(ev, "user.id.x"), "missing", "a path through a string is missing");
	is_str(get(ev, "tags.x"), "missing", "a name applied to an array is missing");
	is_str(get(ev, "user[0]"), "missing", "an index applied to an object is missing");
	is_str(get(ev, "nope"), "missing", "an absent key is missing");
	is_str(get("{\"id\":{\"orig_h\":\"nested\"},\"id.orig_h\":\"flat\"}", "id.orig_h"), "string nested",
	    "the nested lookup wins over the flat key");
	is_str(get("{\"id\":5,\"id.orig_h\":\"flat\"}", "id.orig_h"), "string flat",
	    "the fallback applies when the nested lookup goes through a number");
	is_str(get("{\"a\":1,\"a\":2}", "a"), "integer 2", "duplicate keys: the last one wins");
	is_str(get("{\"o\":{\"k\":1,\"k\":\"last\"}}", "o.k"), "string last", "nested duplicate keys: the last one wins");
	is_str(get("{\"\\u0061\":1,\"a\":2,\"\\u0061\":3}", "a"), "integer 3", "escaped spellings are the same key");
	is_str(get("{\"@timestamp\":\"t\"}", "@timestamp"), "string t", "a name may start with '@'");
	is_str(get("{\"a\": { \"b\" : [ 1 , 2 ] } }", "a.b[1]"), "integer 2", "paths walk through whitespace");

	is_str(path_err(""), "1: empty field path", "an empty path");
	is_str(path_err("."), "2: expected a field name after '.'", "a lone dot");
	is_str(path_err("a..b"), "3: expected a field name after '.'", "two dots");
	is_str(path_err("a."), "3: expected a field name after '.'", "a trailing dot");
	is_str(path_err("a[x]"), "3: expected an integer index and ']'", "a non-numeric index");
	is_str(path_err("a[1"), "3: expected an integer index and ']'", "an unclosed index");
	is_str(path_err("a[]"), "3: expected an integer index and ']'", "an empty index");
	is_str(path_err("a[99999999999999999999]"), "3: index out of range", "a huge index");
	is_str(path_err("\"abc"), "1: unterminated quoted field name", "an unterminated quoted name");
	is_str(path_err("\"a\\qb\""), "3: invalid escape '\\q'", "a bad escape in a quoted name");
	is_str(path_err("a b"), "2: expected '.' or '[' in field path", "a space after a name");
	is_str(path_err("a]"), "2: expected '.' or '[' in field path", "a stray bracket");
	is_str(path_err("]"), "1: expected a field name", "a path starting with a bracket");
	is_str(path_err("a\"b\""), "2: expected '.' or '[' in field path", "a quote right after a name");
	is_str(path_err(".[0]"), "compiled", ".[0] compiles");

	p = rec_path_compile(".user.id", NULL);
	is_str(rec_path_str(p), ".user.id", "rec_path_str returns the spec");
	ok(rec_path_top(p, &len) != NULL && len == 4 && memcmp(rec_path_top(p, &len), "user", 4) == 0,
	    "rec_path_top returns the first name");
	rec_path_free(p);
	p = rec_path_compile("[0].a", NULL);
	ok(p != NULL && rec_path_top(p, &len) == NULL, "rec_path_top is NULL for a path starting with an index");
	rec_path_free(p);
	p = rec_path_compile("\"x y\"[2]", NULL);
	ok(p != NULL && rec_path_top(p, &len) != NULL && len == 3, "rec_path_top unescapes a quoted first name");
	rec_path_free(p);
}

static void
test_views(void)
{
	const char *line = "{\"a\":\"x\\ny\",\"b\":\"p\\u0041q\",\"k\\\"ey\":3,\"plain\":\"zz\"}";
	struct rec_val v1, v2, v3;
	const char *k;
	size_t kl, i;
	int same = 1;

	rec_parse(r, line, strlen(line), NULL);
	rec_get_key(r, "a", 1, &v1);
	rec_get_key(r, "b", 1, &v2);
	rec_get_key(r, "plain", 5, &v3);
	ok(v1.slen == 3 && memcmp(v1.s, "x\ny", 3) == 0 && v2.slen == 3 && memcmp(v2.s, "pAq", 3) == 0,
	    "two unescaped strings stay valid together");
	ok(v3.s == line + strlen(line) - 4 && v3.slen == 2, "a string without escapes points into the line");
	ok(v1.raw == line + 5 && v1.rawlen == 6, "raw holds the original bytes with the quotes");
	is_int(rec_nfields(r), 4, "rec_nfields counts the members");
	rec_field(r, 2, &k, &kl, &v1);
	ok(kl == 4 && memcmp(k, "k\"ey", 4) == 0 && v1.type == RT_INT && v1.i == 3,
	    "rec_field unescapes the key");
	rec_field(r, 0, &k, &kl, &v1);
	ok(kl == 1 && *k == 'a' && v1.type == RT_STRING, "rec_field goes in line order");
	ok(rec_get_key(r, "k\"ey", 4, &v1) == RT_INT, "rec_get_key matches an escaped key by its bytes");

	/* Many escaped strings in one record: views from the arena never move. */
	{
		struct buf b = BUF_INIT;
		struct rec_val *vs = xcalloc(300, sizeof(*vs));
		char key[16];

		buf_addc(&b, '{');
		for (i = 0; i < 300; i++) {
			if (i)
				buf_addc(&b, ',');
			snprintf(key, sizeof(key), "\"k%zu\":", i);
			buf_adds(&b, key);
			buf_adds(&b, "\"\\u00e9 0123456789abcdef0123456789abcdef0123456789\"");
		}
		buf_addc(&b, '}');
		ok(rec_parse(r, b.p, b.len, NULL) == 0, "a wide record parses");
		for (i = 0; i < 300; i++) {
			snprintf(key, sizeof(key), "k%zu", i);
			rec_get_key(r, key, strlen(key), &vs[i]);
		}
		for (i = 0; i < 300; i++)
			same &= vs[i].slen == 45 && memcmp(vs[i].s, "\xc3\xa9 0123456789abcdef", 19) == 0;
		ok(same, "300 unescaped views are all still intact");
		free(vs);
		buf_free(&b);
	}
	{
		struct rec_val v;
		rec_parse(r, " {\"a\":1, \"b\":[2]} ", 18, NULL);
		ok(rec_root(r, &v) == RT_OBJECT && v.n == 2 && v.rawlen == 16 && v.raw[0] == '{',
		    "rec_root views the whole object, trimmed");
		rec_parse(r, "[]", 2, NULL);
		ok(rec_root(r, &v) == RT_MISSING, "rec_root after a failed parse is missing");
	}
	is_str(rec_type_name(RT_REAL), "number", "rec_type_name(RT_REAL)");
	is_str(rec_type_name(RT_MISSING), "missing", "rec_type_name(RT_MISSING)");
}

static void
test_emit(void)
{
	struct rec_edit rep = { "page", 4, "\"home\"", 6 };
	struct rec_edit add = { "n", 1, "42", 2 };
	struct rec_edit del = { "page", 4, NULL, 0 };
	struct rec_edit dela = { "a", 1, NULL, 0 };
	struct rec_edit two[2] = { { "page", 4, "1", 1 }, { "x", 1, "true", 4 } };
	struct rec_edit esc = { "we\"ird", 6, "null", 4 };

	is_str(emit("  {\"a\": 1.50 , \"page\":\"p\"}\t", NULL, 0), "{\"a\": 1.50 , \"page\":\"p\"}\n",
	    "without edits the bytes pass through, trimmed");
	is_str(emit("{\"a\":1,\"page\":\"p\",\"b\":2}", &rep, 1), "{\"a\":1,\"page\":\"home\",\"b\":2}\n",
	    "an existing key has its value replaced in place");
	is_str(emit("{\"a\":1, \"page\" : \"p\" }", &rep, 1), "{\"a\":1, \"page\" : \"home\" }\n",
	    "replacing keeps the spacing around the value");
	is_str(emit("{\"a\":1}", &add, 1), "{\"a\":1,\"n\":42}\n", "a new key is appended before the brace");
	is_str(emit("{}", &add, 1), "{\"n\":42}\n", "a new key in an empty object");
	is_str(emit("{\"a\":1,\"page\":\"p\",\"b\":2}", &del, 1), "{\"a\":1,\"b\":2}\n", "deleting a middle key");
	is_str(emit("{\"a\":1,\"page\":\"p\"}", &del, 1), "{\"a\":1}\n", "deleting the last key");
	is_str(emit("{\"a\":1,\"page\":\"p\"}", &dela, 1), "{\"page\":\"p\"}\n", "deleting the first key");
	is_str(emit("{\"a\":1}", &dela, 1), "{}\n", "deleting the only key");
	is_str(emit("{\"a\":1}", &del, 1), "{\"a\":1}\n", "deleting an absent key changes nothing");
	is_str(emit("{\"a\":1,\"page\":2,\"page\":3}", &rep, 1), "{\"a\":1,\"page\":\"home\",\"page\":\"home\"}\n",
	    "every occurrence of a duplicate key is replaced");
	is_str(emit("{\"page\":1,\"a\":2,\"page\":3}", &del, 1), "{\"a\":2}\n",
	    "every occurrence of a duplicate key is deleted");
	is_str(emit("{\"p\\u0061ge\":\"p\"}", &rep, 1), "{\"p\\u0061ge\":\"home\"}\n",
	    "an escaped spelling of the key is matched and kept");
	is_str(emit("{\"a\":1,\"page\":0}", two, 2), "{\"a\":1,\"page\":1,\"x\":true}\n",
	    "a replacement and an addition together");
	{
		struct rec_edit mix[2] = { { "a", 1, NULL, 0 }, { "n", 1, "42", 2 } };
		is_str(emit("{\"a\":1}", mix, 2), "{\"n\":42}\n", "delete the only key and add one");
	}
	is_str(emit("{}", &esc, 1), "{\"we\\\"ird\":null}\n", "an added key is escaped as a JSON string");
}

static void
test_watermark(void)
{
	int64_t t = 0;

	rec_parse(r, "{\"@watermark\":\"+inf\"}", 21, NULL);
	ok(rec_is_watermark(r, &t) == 1 && t == TV_MAX, "+inf is the end-of-input watermark");
	rec_parse(r, " { \"@watermark\" : \"2024-03-15T10:24:00Z\" } ", 43, NULL);
	ok(rec_is_watermark(r, &t) == 1 && t == INT64_C(1710498240000000),
	    "a watermark with spacing is recognised and its time read");
	ok(rec_is_watermark(r, NULL) == 1, "without t it only recognises");
	rec_parse(r, "{\"@watermark\":\"yesterday\"}", 26, NULL);
	ok(rec_is_watermark(r, &t) == -1, "a watermark with a bad time is -1");
	ok(rec_is_watermark(r, NULL) == 1, "but it is still a watermark");
	rec_parse(r, "{\"@watermark\":12}", 17, NULL);
	ok(rec_is_watermark(r, &t) == -1, "a watermark whose time is not a string is -1");
	rec_parse(r, "{\"@watermark\":\"+inf\",\"x\":1}", 27, NULL);
	ok(rec_is_watermark(r, &t) == 0, "another key makes an ordinary record");
	rec_parse(r, "{}", 2, NULL);
	ok(rec_is_watermark(r, &t) == 0, "an empty object is not a watermark");
	rec_parse(r, "{\"watermark\":\"+inf\"}", 20, NULL);
	ok(rec_is_watermark(r, &t) == 0, "the key must be exactly @watermark");
}

static void
test_canon(void)
{
	char first[200];

	snprintf(first, sizeof(first), "%s", canon("{\"b\":1,\"a\":{\"y\":[1,2.50,\"s\"],\"x\":null}}"));
	is_str(first, "{\"a\":{\"x\":null,\"y\":[1,2.5,\"s\"]},\"b\":1}", "keys are sorted at every level");
	is_str(canon(" { \"a\" : { \"x\" : null , \"y\" : [ 1 , 25e-1 , \"\\u0073\" ] } , \"b\" : 1 } "), first,
	    "key order, whitespace, number spelling and escapes do not matter");
	is_str(canon("{\"a\":1,\"a\":2}"), "{\"a\":2}", "of duplicate keys the last counts");
	is_str(canon("{\"a\":1.0,\"b\":1e2,\"c\":-0.0}"), "{\"a\":1,\"b\":100,\"c\":0}",
	    "a whole real is the same number as the integer");
	is_str(canon("{\"s\":\"\\/\\u00e9\\t\"}"), "{\"s\":\"/\xc3\xa9\\t\"}", "strings are re-escaped minimally");
	is_str(canon("{\"big\":123456789012345678901234567890}"), "{\"big\":123456789012345678901234567890}",
	    "integers past int64 keep their digits");
	snprintf(first, sizeof(first), "%s", canon("{\"a\":1}"));
	ok(strcmp(first, canon("{\"a\":\"1\"}")) != 0, "a number and a string differ");
	snprintf(first, sizeof(first), "%s", canon("{\"a\":[1,2]}"));
	ok(strcmp(first, canon("{\"a\":[2,1]}")) != 0, "array order matters");
}

/* same compiles two paths and reports rec_path_same. */
static bool
same(const char *a, const char *b)
{
	struct rec_err e;
	struct rec_path *x = rec_path_compile(a, &e), *y = rec_path_compile(b, &e);
	bool res;

	if (x == NULL || y == NULL) {
		fprintf(stderr, "# cannot compile %s or %s\n", a, b);
		exit(1);
	}
	res = rec_path_same(x, y);
	rec_path_free(x);
	rec_path_free(y);
	return res;
}

static void
test_path_same(void)
{
	ok(same("value", ".value"), "a leading dot is the same path");
	ok(same("\"odd key\".x", ".\"odd key\".x"), "a quoted name with and without a leading dot");
	ok(!same("user.id", "\"user\".id"), "a quoted name has no flat fallback, so it is another path");
	ok(same("a[2].b", ".a[2].b"), "indexes compare by value");
	ok(same("\"e\\u0301\"", "\"e\xcc\x81\""), "an escape and its UTF-8 are the same name");
	ok(!same("value", "values"), "different names");
	ok(!same("a.b", "a"), "a prefix is another path");
	ok(!same("a[1]", "a[-1]"), "different indexes");
	ok(!same("a[0]", "a.0"), "an index is not a name");
	ok(!same("id.orig_h", "\"id.orig_h\""), "a dotted path (with its flat fallback) is not one quoted name");
	ok(!same("id.orig_h", "id.orig"), "names of different lengths");
}


/* parse parses a C string into the record. */
static int
parse(const char *line)
{
	return rec_parse(r, line, strlen(line), NULL);
}

/* pget looks a compiled path up in line (the path keeps its hint between calls) and returns the string or type. */
static const char *
pget(const char *line, const struct rec_path *p)
{
	static char out[200];
	struct rec_val v;

	if (rec_parse(r, line, strlen(line), NULL) != 0)
		return "parse error";
	if (rec_get(r, p, &v) == RT_STRING)
		snprintf(out, sizeof(out), "%.*s", (int)v.slen, v.s);
	else if (v.type == RT_INT)
		snprintf(out, sizeof(out), "%lld", (long long)v.i);
	else
		snprintf(out, sizeof(out), "%s", rec_type_name(v.type));
	return out;
}

/*
 * The member index a path remembers is only a guess: each of these looks
 * up with one path across records whose layout changes under it.
 */
static void
test_path_hint(void)
{
	struct rec_path *p = rec_path_compile("ts", NULL), *f = rec_path_compile("id.orig_h", NULL);

	is_str(pget("{\"a\":1,\"ts\":\"t1\",\"b\":2}", p), "t1", "hint: first lookup finds the key");
	is_str(pget("{\"a\":3,\"ts\":\"t2\",\"b\":4}", p), "t2", "hint: same schema, the remembered index hits");
	is_str(pget("{\"ts\":\"t3\",\"a\":5}", p), "t3", "hint: the key moved to an earlier index");
	is_str(pget("{\"a\":5,\"b\":6,\"c\":7,\"ts\":\"t4\"}", p), "t4", "hint: the key moved past the old index");
	is_str(pget("{\"a\":5}", p), "missing", "hint: index past the members of a shorter record");
	is_str(pget("{\"a\":5,\"tx\":\"no\"}", p), "missing", "hint: same length, other key at the index");
	is_str(pget("{}", p), "missing", "hint: an empty record");
	is_str(pget("{\"a\":1,\"ts\":\"t5\",\"b\":2}", p), "t5", "hint: back to the first schema");
	/* Duplicates: the last one wins, whether the hint points at the first, the last or neither. */
	is_str(pget("{\"a\":1,\"ts\":\"first\",\"ts\":\"last\"}", p), "last",
	    "hint at the first of two duplicates: the last still wins");
	is_str(pget("{\"a\":1,\"ts\":\"first\",\"ts\":\"last\"}", p), "last",
	    "hint at the last of two duplicates: the last wins");
	is_str(pget("{\"a\":1,\"ts\":\"first\",\"b\":2}", p), "first", "after duplicates, a record with one");
	is_str(pget("{\"a\":1,\"ts\":\"first\",\"zz\":0,\"ts\":\"last\"}", p), "last",
	    "hint hits the first duplicate, a same-length key between, the last wins");
	is_str(pget("{\"a\":1,\"ts\":\"x\",\"tt\":\"y\"}", p), "x",
	    "a later key of the same length but another name does not hide the hit");
	/* Escaped keys: the index holds a key whose raw bytes differ from its name. */
	is_str(pget("{\"a\":1,\"t\\u0073\":\"esc\"}", p), "esc", "an escaped spelling of the key is found");
	is_str(pget("{\"a\":1,\"t\\u0073\":\"esc\"}", p), "esc", "... again with the hint at it");
	is_str(pget("{\"a\":1,\"ts\":\"plain\",\"t\\u0073\":\"esc\"}", p), "esc",
	    "a plain key and a later escaped duplicate: the escaped one is last and wins");
	is_str(pget("{\"a\":1,\"t\\u0073\":\"esc\",\"ts\":\"plain\"}", p), "plain",
	    "an escaped key and a later plain duplicate: the plain one wins");
	is_str(pget("{\"a\":1,\"ts\":\"t6\"}", p), "t6", "plain keys again after escaped ones");
	/* The flat-name fallback has its own hint. */
	is_str(pget("{\"x\":1,\"id.orig_h\":\"h1\"}", f), "h1", "flat name: found");
	is_str(pget("{\"x\":2,\"id.orig_h\":\"h2\"}", f), "h2", "flat name: the hint hits");
	is_str(pget("{\"id.orig_h\":\"h3\",\"x\":2,\"id.orig_h\":\"h4\"}", f), "h4", "flat name: duplicates, the last wins");
	is_str(pget("{\"id\":{\"orig_h\":\"nested\"},\"id.orig_h\":\"flat\"}", f), "nested",
	    "flat name: the nested member still comes first");
	rec_path_free(p);
	rec_path_free(f);
}

/* has_any parses line and asks rec_has_any_key about window's three names. */
static int
has_any(const char *line, size_t n)
{
	static const struct rec_edit names[] = {
		{ "window_start", 12, NULL, 0 }, { "window_end", 10, NULL, 0 }, { "revision", 8, NULL, 0 }
	};

	if (rec_parse(r, line, strlen(line), NULL) != 0)
		return -1;
	return rec_has_any_key(r, names, n);
}

static void
test_has_any_key(void)
{
	static const struct rec_edit empty[] = { { "", 0, NULL, 0 } };

	is_int(has_any("{\"a\":1,\"session_id\":\"window_end\"}", 2), 0,
	    "no member named so (a value spelling the name and a key of the same length do not count)");
	is_int(has_any("{\"a\":1,\"window_end\":2}", 2), 1, "the second name");
	is_int(has_any("{\"window_start\":1}", 2), 1, "the first name");
	is_int(has_any("{\"revision\":1}", 2), 0, "a name not asked about");
	is_int(has_any("{\"revision\":1}", 3), 1, "... and asked about");
	is_int(has_any("{\"window_\\u0065nd\":2}", 2), 1, "an escaped key with the name");
	is_int(has_any("{\"window_\\u0065nx\":2}", 2), 0, "an escaped key with another name");
	is_int(has_any("{}", 3), 0, "an empty record");
	is_int(has_any("{\"window_start\":1,\"window_start\":2}", 2), 1, "duplicate keys");
	ok(rec_parse(r, "[1]", 3, NULL) != 0 && !rec_has_any_key(r, empty, 1), "false after a failed parse");
	ok(rec_parse(r, "{\"\":1}", 6, NULL) == 0, "parses");
	ok(rec_has_any_key(r, empty, 1), "the empty key");
	ok(rec_parse(r, "{\"a\":1}", 7, NULL) == 0, "parses");
	ok(!rec_has_any_key(r, empty, 1), "no empty key");
}

static void
test_keys_plain(void)
{
	ok(parse("{\"a\":\"x\\ny\",\"b\":1}") == 0, "parses: %s", "{\"a\":\"x\\ny\",\"b\":1}");
	ok(rec_keys_plain(r), "keys plain: an escape in a value does not count");
	ok(parse("{\"a\":1,\"b\\u0063\":1}") == 0, "parses: %s", "{\"a\":1,\"b\\u0063\":1}");
	ok(!rec_keys_plain(r), "keys plain: an escape in a key");
	ok(parse("{\"a\":{\"b\\u0063\":1}}") == 0, "parses: %s", "{\"a\":{\"b\\u0063\":1}}");
	ok(rec_keys_plain(r), "keys plain: only top-level keys count");
	ok(parse("{}") == 0, "parses: %s", "{}");
	ok(rec_keys_plain(r), "keys plain: an empty record");
}

/* rec_is_watermark's quick rejection on the first key must not reject a real watermark. */
static void
test_watermark_first_key(void)
{
	int64_t t;

	ok(parse("{\"@watermarx\":\"2024-01-01T00:00:00Z\"}") == 0, "parses: %s", "{\"@watermarx\":\"2024-01-01T00:00:00Z\"}");
	is_int(rec_is_watermark(r, &t), 0, "a key of the same length that is not @watermark");
	ok(parse("{\"\\u0040watermark\":\"+inf\"}") == 0, "parses: %s", "{\"\\u0040watermark\":\"+inf\"}");
	is_int(rec_is_watermark(r, &t), 1, "an escaped @watermark key is a watermark");
	ok(parse("{\"@watermark\":\"+inf\",\"@watermark\":\"+inf\"}") == 0, "parses: %s", "{\"@watermark\":\"+inf\",\"@watermark\":\"+inf\"}");
	is_int(rec_is_watermark(r, &t), 1, "duplicate @watermark keys");
	ok(parse("{\"@watermark\":\"+inf\",\"a\":1}") == 0, "parses: %s", "{\"@watermark\":\"+inf\",\"a\":1}");
	is_int(rec_is_watermark(r, &t), 0, "@watermark with another key");
}

int
main(void)
{
	r = rec_new();
	test_parse();
	test_paths();
	test_views();
	test_emit();
	test_watermark();
	test_canon();
	test_path_same();
	test_path_hint();
	test_has_any_key();
	test_keys_plain();
	test_watermark_first_key();
	rec_free(r);
	return tap_done();
}
