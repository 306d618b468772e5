/* test_record_diff: the scanner of lib/record against jansson on hand-picked and generated lines, valid and invalid. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record_oracle.h"
#include "tap.h"

/* Hand-picked lines: each byte of the grammar that jansson is strict about. */
static const struct {
	const char	*s;
	size_t		 n;	/* 0: strlen */
} cases[] = {
#define C(x) { x, sizeof(x) - 1 }
	C("{}"), C(" {} "), C("\t{\r\n}\n"), C("{\"a\":1}"), C("{ \"a\" : 1 , \"b\" : [ ] }"),
	C(""), C(" "), C("[]"), C("[1]"), C("1"), C("\"s\""), C("null"), C("true"),
	C("{"), C("}"), C("{\"a\"}"), C("{\"a\":}"), C("{\"a\":1,}"), C("{,}"), C("{\"a\" 1}"),
	C("{\"a\":1 \"b\":2}"), C("{\"a\":1}}"), C("{\"a\":1}{}"), C("{\"a\":1}x"), C("{\"a\":1} x"),
	C("{a:1}"), C("{'a':1}"), C("{\"a\":'x'}"), C("{\"a\":[1,]}"), C("{\"a\":[,1]}"),
	C("{\"a\":[1 2]}"), C("{\"a\":{\"b\"}}"), C("{\"a\":{\"b\":1,}}"), C("{\"a\":[}"),
	C("{\"a\":{]}"), C("{\"a\":[[[]]]}"), C("{\"a\":[{}]}"), C("{\"a\":[{\"b\":[{}]}]}"),
	/* literals */
	C("{\"a\":true}"), C("{\"a\":false}"), C("{\"a\":null}"), C("{\"a\":tru}"),
	C("{\"a\":truex}"), C("{\"a\":true1}"), C("{\"a\":nul}"), C("{\"a\":NULL}"),
	C("{\"a\":True}"), C("{\"a\":nan}"), C("{\"a\":NaN}"), C("{\"a\":Infinity}"),
	C("{\"a\":-Infinity}"), C("{\"a\":undefined}"), C("{\"a\":fals}"), C("{\"a\":t"),
	/* numbers */
	C("{\"a\":0}"), C("{\"a\":-0}"), C("{\"a\":-0.0}"), C("{\"a\":0.0}"), C("{\"a\":01}"),
	C("{\"a\":-01}"), C("{\"a\":00}"), C("{\"a\":1.}"), C("{\"a\":.5}"), C("{\"a\":-.5}"),
	C("{\"a\":1e}"), C("{\"a\":1e+}"), C("{\"a\":1e-}"), C("{\"a\":1E5}"), C("{\"a\":1e+5}"),
	C("{\"a\":1e-5}"), C("{\"a\":1.5e3}"), C("{\"a\":-}"), C("{\"a\":+1}"), C("{\"a\":--1}"),
	C("{\"a\":1.2.3}"), C("{\"a\":1e5e5}"), C("{\"a\":0x10}"), C("{\"a\":1_000}"),
	C("{\"a\":9223372036854775807}"), C("{\"a\":-9223372036854775808}"),
	C("{\"a\":9223372036854775808}"), C("{\"a\":-9223372036854775809}"),
	C("{\"a\":18446744073709551616}"), C("{\"a\":123456789012345678901234567890}"),
	C("{\"a\":1000000000000000000}"), C("{\"a\":999999999999999999}"),
	C("{\"a\":1e308}"), C("{\"a\":1e309}"), C("{\"a\":-1e309}"), C("{\"a\":1.7976931348623157e308}"),
	C("{\"a\":1.7976931348623158e308}"), C("{\"a\":1.7976931348623159e308}"),
	C("{\"a\":179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791}"),
	C("{\"a\":0.17976931348623159e309}"), C("{\"a\":0.0000000000000000000000001e333}"),
	C("{\"a\":1e-400}"), C("{\"a\":-1e-400}"), C("{\"a\":4.9e-324}"), C("{\"a\":2.4703282292062328e-324}"),
	C("{\"a\":2.2250738585072011e-308}"), C("{\"a\":0.1}"), C("{\"a\":0.30000000000000004}"),
	C("{\"a\":9007199254740993}"), C("{\"a\":9007199254740993.0}"), C("{\"a\":1e22}"),
	C("{\"a\":1e23}"), C("{\"a\":123456789e-22}"), C("{\"a\":8.988465674311579e307}"),
	C("{\"a\":1e99999999999999999999}"),
	C("{\"a\":10000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000e-30}"), C("{\"a\":10000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000e-60}"),
	C("{\"a\":0e0}"), C("{\"a\":0e-0}"), C("{\"a\":-0e+0}"), C("{\"a\":57.12}"),
	C("{\"a\":32.807673915}"), C("{\"a\":1.00000000000000000000000000001}"),
	/* strings and escapes */
	C("{\"a\":\"\"}"), C("{\"\":\"\"}"), C("{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}"),
	C("{\"a\":\"\\x\"}"), C("{\"a\":\"\\'\"}"), C("{\"a\":\"\\a\"}"), C("{\"a\":\"\\\"}"),
	C("{\"a\":\"\\u0041\"}"), C("{\"a\":\"\\u00e9\\u20AC\"}"), C("{\"a\":\"\\u12G4\"}"),
	C("{\"a\":\"\\u123\"}"), C("{\"a\":\"\\u\"}"), C("{\"a\":\"\\U0041\"}"),
	C("{\"a\":\"\\u0000\"}"), C("{\"\\u0000\":1}"), C("{\"a\\u0000b\":1}"),
	C("{\"a\":\"\\ud800\"}"), C("{\"a\":\"\\udc00\"}"), C("{\"a\":\"\\udfff\"}"),
	C("{\"a\":\"\\ud800\\udc00\"}"), C("{\"a\":\"\\uDBFF\\uDFFF\"}"), C("{\"a\":\"\\ud800\\u0041\"}"),
	C("{\"a\":\"\\ud800\\ud800\"}"), C("{\"a\":\"\\ud800\\\\\"}"), C("{\"a\":\"\\ud800x\"}"),
	C("{\"a\":\"\\ud800\\\"}"), C("{\"a\":\"\\ud800\\u12\"}"), C("{\"a\":\"\\udc00\\ud800\"}"),
	C("{\"a\":\"\\ud83d\\ude00 smile\"}"), C("{\"a\":\"\\uFFFF\\uFFFE\"}"),
	C("{\"a\":\"tab\there\"}"), C("{\"a\":\"nl\nhere\"}"), C("{\"a\":\"cr\rhere\"}"),
	C("{\"a\":\"\x1f\"}"), C("{\"a\":\"\x7f\"}"), C("{\"a\":\"\x01\"}"), C("{\"a\":\"unterminated}"),
	C("{\"a\":\"x"), C("{\"a"), C("{\"a\":\"\\"), C("{\"a\":\"\\u00"),
	C("{\"a\":\"0123456789abcdef0123456789abcdef\\n0123456789abcdef\"}"),
	C("{\"a\":\"0123456789abcdef0123456789abcde\x01\"}"),
	C("{\"a\":\"0123456789abcdef0123456789abcdef\xc3\xa9\"}"),
	/* UTF-8 */
	C("{\"a\":\"\xc3\xa9\"}"), C("{\"a\":\"\xe2\x82\xac\"}"), C("{\"a\":\"\xf0\x9f\x98\x80\"}"),
	C("{\"a\":\"\xf4\x8f\xbf\xbf\"}"), C("{\"a\":\"\xf4\x90\x80\x80\"}"), C("{\"a\":\"\xf5\x80\x80\x80\"}"),
	C("{\"a\":\"\xc0\x80\"}"), C("{\"a\":\"\xc1\xbf\"}"), C("{\"a\":\"\xc2\x80\"}"),
	C("{\"a\":\"\xe0\x80\x80\"}"), C("{\"a\":\"\xe0\x9f\xbf\"}"), C("{\"a\":\"\xe0\xa0\x80\"}"),
	C("{\"a\":\"\xed\x9f\xbf\"}"), C("{\"a\":\"\xed\xa0\x80\"}"), C("{\"a\":\"\xed\xbf\xbf\"}"),
	C("{\"a\":\"\xee\x80\x80\"}"), C("{\"a\":\"\xef\xbf\xbf\"}"), C("{\"a\":\"\xf0\x80\x80\x80\"}"),
	C("{\"a\":\"\xf0\x8f\xbf\xbf\"}"), C("{\"a\":\"\xf0\x90\x80\x80\"}"), C("{\"a\":\"\xe2\x82\"}"),
	C("{\"a\":\"\xe2\"}"), C("{\"a\":\"\xe2\x82\""), C("{\"a\":\"\xe2"), C("{\"a\":\"\x80\"}"),
	C("{\"a\":\"\xbf\"}"), C("{\"a\":\"\xfe\"}"), C("{\"a\":\"\xff\"}"), C("{\"a\":\"\xc3\xc3\"}"),
	C("{\"a\":\"\xc3\x28\"}"), C("{\"\xc3\xa9\":1}"), C("{\"\xc3\":1}"), C("{\"a\":1}\x80"),
	C("\xef\xbb\xbf{}"), C("{\"a\":1\xa0}"), C("{\"a\":\xc3\xa9}"), C("\xc3\xa9"),
	/* NUL bytes and other controls outside strings */
	{ "{\"a\":1}\0", 8 }, { "\0{}", 3 }, { "{\"a\":\"\0\"}", 9 }, { "{\"a\0\":1}", 9 },
	{ "{\"a\":1\0}", 9 }, { "{\0}", 3 }, C("\f{}"), C("{}\f"), C("{\"a\":1\x0b}"),
	{ "{\"a\":1\0}", 8 }, { "{\"a\":true\0}", 11 }, { "{\"a\":[1.5\0]}", 12 }, { "{\"a\":null\0 }", 12 },
	C("{\"a\f\":1}"), C("\v{}"), C("{\xa0}"), C("{\"a\":[1,\x01]}"),
	/* duplicates */
	C("{\"a\":1,\"a\":2}"), C("{\"a\":1,\"b\":2,\"a\":\"x\"}"), C("{\"a\":{\"b\":1,\"b\":[2]}}"),
	C("{\"\\u0061\":1,\"a\":2}"), C("{\"a\":1,\"\\u0061\":2}"),
	/* keys */
	C("{1:2}"), C("{null:1}"), C("{\"a\":1,2:3}"), C("{\"a\"::1}"), C("{\"a\":1:2}"),
	C("{\"a b\":1,\"c.d\":2,\"[0]\":3,\"\\\"\":4}"),
	/* the benchmark's shape */
	C("{\"user_id\":\"user_123\",\"page\":\"products\",\"action\":\"click\",\"timestamp\":\"2024-03-15T10:23:45.123456\",\"session_id\":\"session_4567\",\"value\":57.12}"),
	C("{\"@watermark\":\"2024-03-15T10:24:00Z\"}"),
	/* findings of the fuzzer */
#include "record_diff_fuzz.h"
#undef C
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static unsigned
pick(unsigned n)
{
	return (unsigned)(rng() % n);
}

static void
gen_ws(struct buf *b)
{
	static const char ws[] = " \t\r\n";

	if (pick(8) == 0) {
		unsigned n = 1 + pick(3);
		while (n-- > 0)
			buf_addc(b, ws[pick(4)]);
	}
}

static void
gen_string(struct buf *b)
{
	static const char *const pieces[] = {
		"a", "user_123", "products", "click", "x y", "\\\"", "\\\\", "\\/", "\\b", "\\f",
		"\\n", "\\r", "\\t", "\\u0041", "\\u00e9", "\\u20ac", "\\uFFFD", "\\ud83d\\ude00",
		"\\uD800\\uDC00", "\\udbff\\udfff", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
		"\xf4\x8f\xbf\xbf", "\xed\x9f\xbf", "\xee\x80\x80", "\x7f", "0123456789abcdef",
		"The quick brown fox jumps over the lazy dog", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
		"2024-03-15T10:23:45.123456", "'", "{", "}", "[", "]", ":", ",", "."
	};
	unsigned n = pick(6);

	buf_addc(b, '"');
	while (n-- > 0)
		buf_adds(b, pieces[pick(sizeof(pieces) / sizeof(pieces[0]))]);
	buf_addc(b, '"');
}

static void
gen_number(struct buf *b)
{
	static const char *const fixed[] = {
		"0", "-0", "1", "-1", "57.12", "0.1", "1e3", "1E-3", "-2.5e+10", "9223372036854775807",
		"-9223372036854775808", "9223372036854775806", "1e308", "1.7976931348623157e308",
		"4.9e-324", "1e-400", "123456789012345678", "0.30000000000000004", "1e22", "1e23",
		"9007199254740993", "2.2250738585072014e-308", "100", "1.0", "-0.0", "0e5",
		"12345678901234567890123", "1e400", "-9223372036854775809"
	};
	char t[64];
	int n;

	switch (pick(5)) {
	case 0:
		buf_adds(b, fixed[pick(sizeof(fixed) / sizeof(fixed[0]))]);
		break;
	case 1:
		n = snprintf(t, sizeof(t), "%lld", (long long)(rng() >> pick(64)) * (pick(2) ? 1 : -1));
		buf_add(b, t, (size_t)n);
		break;
	case 2:
		n = snprintf(t, sizeof(t), "%.*g", 1 + (int)pick(17), (double)(rng() >> 11) / (double)(1ULL << pick(60)));
		buf_add(b, t, (size_t)n);
		break;
	case 3:
		n = snprintf(t, sizeof(t), "%u.%0*u", pick(100000), 1 + (int)pick(6), pick(1000000));
		buf_add(b, t, (size_t)n);
		if (pick(2)) {
			n = snprintf(t, sizeof(t), "e%s%u", pick(2) ? "-" : "", pick(330));
			buf_add(b, t, (size_t)n);
		}
		break;
	default:
		n = snprintf(t, sizeof(t), "%u", pick(1000));
		buf_add(b, t, (size_t)n);
		break;
	}
}

static void gen_value(struct buf *, int);

static void
gen_container(struct buf *b, int depth, int obj)
{
	unsigned n = pick(depth > 3 ? 2 : 5), i;

	buf_addc(b, obj ? '{' : '[');
	gen_ws(b);
	for (i = 0; i < n; i++) {
		if (i > 0) {
			buf_addc(b, ',');
			gen_ws(b);
		}
		if (obj) {
			gen_string(b);
			gen_ws(b);
			buf_addc(b, ':');
			gen_ws(b);
		}
		gen_value(b, depth + 1);
		gen_ws(b);
	}
	buf_addc(b, obj ? '}' : ']');
}

static void
gen_value(struct buf *b, int depth)
{
	switch (pick(depth > 5 ? 6 : 9)) {
	case 0: case 1: case 2:
		gen_string(b);
		break;
	case 3: case 4:
		gen_number(b);
		break;
	case 5:
		buf_adds(b, pick(3) == 0 ? "null" : pick(2) ? "true" : "false");
		break;
	case 6: case 7:
		gen_container(b, depth, 1);
		break;
	default:
		gen_container(b, depth, 0);
		break;
	}
}

/* gen_record makes a valid object; flat ones look like the web events. */
static void
gen_record(struct buf *b)
{
	static const char *const keys[] = {
		"user_id", "page", "action", "timestamp", "session_id", "value", "a", "id.orig_h",
		"\\u0061", "a", "", "tags", "user", "caf\xc3\xa9", "x\\ny"
	};
	unsigned n = pick(8), i;

	gen_ws(b);
	buf_addc(b, '{');
	gen_ws(b);
	for (i = 0; i < n; i++) {
		if (i > 0) {
			buf_addc(b, ',');
			gen_ws(b);
		}
		buf_addc(b, '"');
		buf_adds(b, keys[pick(sizeof(keys) / sizeof(keys[0]))]);
		buf_addc(b, '"');
		gen_ws(b);
		buf_addc(b, ':');
		gen_ws(b);
		gen_value(b, 2);
		gen_ws(b);
	}
	buf_addc(b, '}');
	gen_ws(b);
}

/* mutate breaks (or not) a valid line the way real input breaks. */
static void
mutate(struct buf *b)
{
	static const char bytes[] = "\0\x01\x1f \"\\{}[],:.-+eE0u\x7f\x80\xbf\xc0\xc2\xe0\xed\xf0\xf4\xf5\xff\n\t";
	static const char *const tokens[] = {
		"\\u0000", "\\ud800", "\\udc00", "\\x", "01", "1.", ".5", "1e", "-", "tru", "nul",
		"\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", ",", "}", "]", "1e999",
		"99999999999999999999", "\"", "\\"
	};
	size_t pos = b->len ? pick((unsigned)b->len) : 0;
	unsigned k = pick(6);
	char c = bytes[pick(sizeof(bytes) - 1)];
	const char *t;

	switch (k) {
	case 0:	/* replace a byte */
		if (b->len)
			b->p[pos] = c;
		break;
	case 1:	/* insert a byte */
		buf_addc(b, 0);
		memmove(b->p + pos + 1, b->p + pos, b->len - 1 - pos);
		b->p[pos] = c;
		break;
	case 2:	/* delete a byte */
		if (b->len) {
			memmove(b->p + pos, b->p + pos + 1, b->len - pos - 1);
			b->len--;
		}
		break;
	case 3:	/* truncate */
		b->len = pos;
		break;
	default:	/* insert a token */
		t = tokens[pick(sizeof(tokens) / sizeof(tokens[0]))];
		buf_reserve(b, strlen(t));
		memmove(b->p + pos + strlen(t), b->p + pos, b->len - pos);
		memcpy(b->p + pos, t, strlen(t));
		b->len += strlen(t);
		break;
	}
}

/* gen_numtext writes a random number-like text: digits, fraction and exponent of any length, sometimes broken. */
static void
gen_numtext(struct buf *b)
{
	unsigned i, n;

	static const char *const wraps[] = {	/* multiples of 2^64 / 10^k wrap a 64-bit accumulator to 0 */
		"9223372036854775808", "18446744073709551616", "36893488147419103232", "1844674407370955161"
	};

	if (pick(4) == 0)
		buf_addc(b, '-');
	if (pick(8) == 0) {
		buf_adds(b, pick(2) ? "0." : "");
		buf_adds(b, pick(2) ? "000" : "");
		buf_adds(b, wraps[pick(sizeof(wraps) / sizeof(wraps[0]))]);
		for (n = pick(4); n > 0; n--)
			buf_addc(b, '0');
		return;
	}
	n = pick(4) == 0 ? 1 + pick(40) : 1 + pick(19);
	for (i = 0; i < n; i++)
		buf_addc(b, (char)('0' + (i == 0 && n > 1 && pick(20) != 0 ? 1 + pick(9) : pick(10))));
	if (pick(2)) {
		buf_addc(b, '.');
		n = pick(30) + (pick(40) != 0);
		for (i = 0; i < n; i++)
			buf_addc(b, (char)('0' + pick(10)));
	}
	if (pick(2)) {
		char t[16];
		buf_addc(b, pick(2) ? 'e' : 'E');
		if (pick(3) != 0)
			buf_addc(b, pick(2) ? '-' : '+');
		snprintf(t, sizeof(t), "%u", pick(3) == 0 ? pick(400) : pick(25));
		if (pick(40) != 0)
			buf_adds(b, t);
	}
}

/* gen_bytes writes a string of random bytes, biased towards the edges of UTF-8. */
static void
gen_bytes(struct buf *b)
{
	static const unsigned char edge[] = {
		0x00, 0x1f, 0x20, 0x22, 0x5c, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed,
		0xee, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x9f, 0xa0, 0x8f, 0x90
	};
	static const char *const seqs[] = {
		"\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbf",
		"\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "abcdefghijklmnop"
	};
	unsigned i, n = pick(40), odd = pick(3) == 0;	/* one string in three mostly broken */

	buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		switch (pick(odd ? 4 : 40)) {
		case 0:
			buf_addc(b, (char)edge[pick(sizeof(edge))]);
			break;
		case 1:
			buf_addc(b, (char)(0x80 + pick(0x80)));
			break;
		case 2: case 4: case 5: case 6: case 7: case 8: case 9: case 10: case 11:
			buf_adds(b, seqs[pick(sizeof(seqs) / sizeof(seqs[0]))]);
			break;
		default:
			buf_addc(b, (char)('a' + pick(26)));
			break;
		}
	}
	buf_addc(b, '"');
}

/* nest makes depth values nested: arrays, or objects around a scalar. */
static void
nest(struct buf *b, int depth, int objects)
{
	int i;

	buf_reset(b);
	if (objects) {
		for (i = 0; i < depth - 1; i++)
			buf_adds(b, "{\"k\":");
		buf_addc(b, '1');
		for (i = 0; i < depth - 1; i++)
			buf_addc(b, '}');
	} else {
		buf_addc(b, '{');
		buf_adds(b, "\"k\":");
		for (i = 0; i < depth - 1; i++)
			buf_addc(b, '[');
		for (i = 0; i < depth - 1; i++)
			buf_addc(b, ']');
		buf_addc(b, '}');
	}
}

/* show prints a disagreement with the line as a C string literal, ready to become a test row. */
static void
show(const char *line, size_t len, const char *why)
{
	size_t i;

	printf("# disagreement: %s\n# line (%zu bytes): \"", why, len);
	for (i = 0; i < len && i < 400; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x\"\"", c);
		else
			putchar(c);
	}
	printf("\"\n");
}

int
main(void)
{
	struct oracle o;
	struct buf b = BUF_INIT;
	size_t i, nfail = 0, nacc = 0, nrej = 0, total = 0;
	int acc, d, kind;
	const int ngen = 6000;

	memset(&o, 0, sizeof(o));
	o.r = rec_new();

#define CHECK(line, len) do { \
	total++; \
	if (oracle_check(&o, (line), (len), &acc) != 0) { \
		if (nfail++ < 20) \
			show(line, len, o.why); \
	} else if (acc) \
		nacc++; \
	else \
		nrej++; \
} while (0)

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(cases[i].s, cases[i].n);
	ok(nfail == 0, "%zu hand-picked lines: scanner and jansson agree (%zu accepted, %zu refused)",
	    total, nacc, nrej);

	for (d = 2045; d <= 2051; d++)
		for (kind = 0; kind < 2; kind++) {
			nest(&b, d, kind);
			CHECK(b.p, b.len);
		}
	ok(nfail == 0, "nesting around the 2048 limit: scanner and jansson agree");

	nacc = nrej = 0;
	for (i = 0; i < (size_t)ngen; i++) {
		buf_reset(&b);
		gen_record(&b);
		if (i % 2 == 1) {
			mutate(&b);
			if (pick(3) == 0)
				mutate(&b);
		}
		CHECK(b.p, b.len);
	}
	ok(nfail == 0, "%d generated lines: scanner and jansson agree (%zu accepted, %zu refused)",
	    ngen, nacc, nrej);
	ok(nacc > 3000 && nrej > 1000, "the generated lines mix valid and invalid ones");

	nacc = nrej = 0;
	for (i = 0; i < 3000; i++) {
		buf_reset(&b);
		buf_adds(&b, "{\"n\":");
		gen_numtext(&b);
		buf_adds(&b, pick(2) ? "}" : ",\"m\":[0]}");
		CHECK(b.p, b.len);
	}
	ok(nfail == 0, "3000 random numbers: same verdict and bit-identical doubles (%zu accepted, %zu refused)",
	    nacc, nrej);

	nacc = nrej = 0;
	for (i = 0; i < 3000; i++) {
		buf_reset(&b);
		buf_adds(&b, "{\"s\":");
		gen_bytes(&b);
		buf_addc(&b, '}');
		CHECK(b.p, b.len);
	}
	ok(nfail == 0, "3000 strings of random bytes: same UTF-8 verdict and bytes (%zu accepted, %zu refused)",
	    nacc, nrej);

	buf_free(&b);
	buf_free(&o.a);
	buf_free(&o.b);
	rec_free(o.r);
	return tap_done();
}
