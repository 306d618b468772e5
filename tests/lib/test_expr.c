/* test_expr: the filter language: syntax, precedence, null semantics, every function, compile errors. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "record.h"
#include "tap.h"

static struct rec *R;

/* The record most cases run against. */
static const char *REC =
    "{\"value\":57.12,\"n\":3,\"page\":\"products\",\"action\":\"click\","
    "\"user\":{\"id\":\"user_123\",\"age\":41,\"tags\":[\"a\",\"b\"]},"
    "\"tags\":[\"x\",\"y\",\"z\"],\"empty\":\"\",\"nul\":null,\"t\":true,\"f\":false,"
    "\"big\":9007199254740993,\"big2\":9007199254740992,\"neg\":-7,"
    "\"odd key\":1,\"q\\\"k\":2,\"s5\":\"5\",\"s57\":\"57.12\",\"mixed\":\"AbC\","
    "\"uni\":\"h\\u00e9llo\",\"arr\":[1,[2,3],{\"k\":\"v\"}],\"obj\":{\"b\":1,\"a\":[2]},"
    "\"obj2\":{\"a\":[2],\"b\":1.0},\"id.orig_h\":\"10.0.0.1\",\"huge\":1e300,"
    "\"maxi\":9223372036854775807,\"mini\":-9223372036854775808,\"path\":\"/a/b.html\"}";

/* check compiles src, runs it on json, and compares its truth with want. */
static void
check(const char *json, const char *src, int want)
{
	struct expr_err err;
	struct expr *x;
	int got;

	if (rec_parse(R, json, strlen(json), NULL) != 0) {
		ok(0, "record parses for %s", src);
		return;
	}
	x = expr_compile(src, &err);
	if (x == NULL) {
		ok(0, "%s compiles (column %zu: %s)", src, err.column, err.text);
		return;
	}
	got = expr_test(x, R);
	ok(got == want, "%s is %s", src, want ? "true" : "false");
	/* A second evaluation on the same record gives the same answer (scratch reuse). */
	if (expr_test(x, R) != got)
		ok(0, "%s is stable across evaluations", src);
	expr_free(x);
}

#define T(src) check(REC, src, 1)
#define F(src) check(REC, src, 0)

/* bad checks that src fails to compile with exactly this column and text. */
static void
bad(const char *src, size_t col, const char *text)
{
	struct expr_err err;
	struct expr *x = expr_compile(src, &err);
	char got[200], want[200];

	if (x != NULL) {
		expr_free(x);
		ok(0, "%s fails to compile", src);
		return;
	}
	snprintf(got, sizeof got, "column %zu: %s", err.column, err.text);
	snprintf(want, sizeof want, "column %zu: %s", col, text);
	is_str(got, want, "error for %s", src);
}

static void
test_paths(void)
{
	T(".n == 3");
	T(".user.id == \"user_123\"");
	T(".user.age == 41");
	T(".tags[0] == \"x\"");
	T(".tags[2] == \"z\"");
	T(".tags[-1] == \"z\"");
	T(".tags[3] == null");
	T(".user.tags[1] == \"b\"");
	T(".arr[1][0] == 2");
	T(".arr[2].k == \"v\"");
	T(".arr.[2].k == \"v\"");
	T("._missing == null");
	T(".\"odd key\" == 1");
	T(".[\"odd key\"] == 1");
	T(".user[\"id\"] == \"user_123\"");
	T(".\"q\\\"k\" == 2");
	T(".user.\"id\" == \"user_123\"");
	T(".id.orig_h == \"10.0.0.1\"");
	T(".a.b.c == null");
	T(".n.x == null");
	T(".tags.x == null");
	T(". | .n == 3");
	T(".user | .id == \"user_123\"");
	T(".user | .tags | .[0] == \"a\"");
	T(".user | . == .");
	T("(.n | .) == 3");
	T("exists(.)");
	T(".[0] == null");
}

static void
test_literals(void)
{
	T("1 == 1");
	T("1 == 1.0");
	T("1.5e1 == 15");
	T(".5 == 0.5");
	T("1. == 1");
	T("\"a\\tb\" != \"a b\"");
	T("\"\\u00e9\" == \"\xc3\xa9\"");
	T("\"\\ud83d\\ude00\" == \"\xf0\x9f\x98\x80\"");
	T("\"\\/\" == \"/\"");
	T("true");
	F("false");
	F("null");
	T("null == null");
	T("true != false");
	T("-9223372036854775808 == .mini");
	T("9223372036854775807 == .maxi");
	T("1");
	T("0");
	T("\"\"");
	T(".");
}

static void
test_null_semantics(void)
{
	F(".missing");
	F(".nul");
	T(".empty == \"\"");
	T(".missing == .nul");
	T(".missing == null");
	F(".missing != null");
	F(".missing > 1");
	F(".missing < 1");
	F(".missing <= .nul");
	F(".nul >= .nul");
	F(".missing == 0");
	F(".missing == false");
	T(".missing + 1 == 1");
	T("1 + .missing == 1");
	T("-.missing == null");
	T("not .missing");
	T("(.missing | length) == 0");
	T(".missing in [null]");
	F(".missing in [0, false, \"\"]");
}

static void
test_comparisons(void)
{
	T(".value > 50");
	F(".value > 57.12");
	T(".value >= 57.12");
	T(".value < 60 and .value <= 57.12");
	T(".n != 4");
	T(".page == \"products\"");
	T(".page > \"apple\"");
	T(".page < \"zebra\"");
	T("\"a\" < \"b\"");
	T("\"ab\" > \"a\"");
	T("\"B\" < \"a\"");
	T(".uni > \"hz\"");
	F(".s5 == 5");
	F(".s5 > 4");
	F(".s5 < 6");
	T(".s5 != 5");
	F(".t > 0");
	T(".t > .f");
	T("false < true");
	F(".t == 1");
	F(".tags > 1");
	F(".tags < .obj");
	T(".tags == .tags");
	T(".obj == .obj2");
	F(".obj == .tags");
	T(".user.tags != .tags");
	T(".big > .big2");
	T(".big != .big2");
	T(".big == 9007199254740993");
	F(".big == 9007199254740992");
	T(".big > 9007199254740992.0");
	F(".big2 > 9007199254740992.0");
	T(".big2 == 9007199254740992.0");
	T(".maxi > 9223372036854775806");
	T(".maxi < 9223372036854775808.0");
	T(".mini > -9223372036854775809.0 or .mini == -9223372036854775808.0");
	T(".huge > .maxi");
	T("3 > 2.5 and 2.5 < 3 and -1 < -0.5");
	T("0.1 + 0.2 != 0.3");
}

static void
test_precedence(void)
{
	T("1 + 2 * 3 == 7");
	T("(1 + 2) * 3 == 9");
	T("10 - 2 - 3 == 5");
	T("12 / 2 / 3 == 2");
	T("-2 * 3 == -6");
	T("- .n == -3");
	T("--3 == 3");
	T("true or false and false");
	F("(true or false) and false");
	T("not false and true");
	F("not true and true");
	T("not .n == 4");
	T("not not true");
	T(".n == 3 and .page == \"products\" or false");
	T("false or .n > 2 and .n < 4");
	T("1 + 1 == 2 and 2 * 2 == 4");
	T("7 % 3 + 1 == 2");
	T("2 + 3 * 4 - 6 / 2 == 11");
}

static void
test_arithmetic(void)
{
	T(".n + 1 == 4");
	T(".n - 5 == -2");
	T(".n * .n == 9");
	T(".n / 2 == 1.5");
	T("6 / 3 == 2");
	T(".value * 100 > 5711");
	T("7 % 3 == 1");
	T("-7 % 3 == -1");
	T("7.9 % 3 == 1");
	T("(.n / 0) == null");
	T("(.n % 0) == null");
	T("(.page + 1) == null");
	T("(\"a\" + \"b\") == \"ab\"");
	T("(.page + null) == .page");
	T("(.t * 2) == null");
	T("-.page == null");
	T(".maxi + 1 > .maxi");
	T(".mini - 1 < -9223372036854775807");
	T(".mini - 1 == .mini");
	T(".maxi * 2 > .maxi");
	T("-.mini > 0");
	T(".mini / -1 > 0");
	T(".mini % -1 == 0");
}

static void
test_regex(void)
{
	T(".page =~ \"^prod\"");
	T(".page =~ \"ucts$\"");
	F(".page =~ \"^ucts\"");
	T(".path =~ \"\\\\.html$\"");
	T(".page =~ \"p(ro|ri)d\"");
	T(".page =~ \"^[a-z]+$\"");
	F(".mixed =~ \"^[a-z]+$\"");
	F(".n =~ \"3\"");
	F(".missing =~ \"\"");
	T(".empty =~ \"^$\"");
	T(".page | test(\"duc\")");
	F(".page | test(\"x\")");
	T(".user.id | test(\"_[0-9]{3}$\")");
	T("not (.action =~ \"view\")");
}

static void
test_in(void)
{
	T(".page in [\"home\", \"products\"]");
	F(".page in [\"home\", \"cart\"]");
	F(".page in []");
	T(".n in [1, 2, 3]");
	T(".n in [3.0]");
	F(".s5 in [5]");
	T(".neg in [-7]");
	T(".t in [true]");
	T(".nul in [null]");
	T(".page | IN(\"home\", \"products\")");
	F(".n | IN(\"3\")");
	T("not (.page in [\"home\"])");
	T(".page in [\"x\"] or .n in [3]");
}

static void
test_functions(void)
{
	T("exists(.page)");
	T("exists(.nul)");
	F("exists(.missing)");
	T("exists(.user.id)");
	F("exists(.user.nope)");
	T("exists(.tags[2])");
	F("exists(.tags[3])");
	T(".user | exists(.age)");
	T("has(\"page\")");
	F("has(\"nope\")");
	T(".user | has(\"tags\")");
	T(".page | length == 8");
	T("length(.page) == 8");
	T(".uni | length == 5");
	T(".tags | length == 3");
	T(".user | length == 3");
	T(".nul | length == 0");
	T(".neg | length == 7");
	T("(.t | length) == null");
	T("length > 20");
	T(".mixed | lower == \"abc\"");
	T("lower(.mixed) == \"abc\"");
	T(".mixed | upper == \"ABC\"");
	T("upper(.mixed) == \"ABC\"");
	T(".mixed | ascii_downcase == \"abc\"");
	T(".mixed | ascii_upcase == \"ABC\"");
	T("lower(.page) == .page");
	T("lower(.mixed) != upper(.mixed)");
	T("(.n | lower) == null");
	T(".page | startswith(\"prod\")");
	F(".page | startswith(\"rod\")");
	T(".page | startswith(\"\")");
	F(".empty | startswith(\"a\")");
	T(".page | endswith(\"ucts\")");
	F(".page | endswith(\"prod\")");
	T(".page | contains(\"duct\")");
	F(".page | contains(\"dust\")");
	T("(.n | startswith(\"3\")) == null");
	T("(.page | startswith(3)) == null");
	T(".user.id | startswith(\"user\") and endswith(\"123\")");
	T(".s5 | tonumber == 5");
	T(".s57 | tonumber == 57.12");
	T("tonumber(.s5) + 1 == 6");
	T(".n | tonumber == 3");
	T("(.page | tonumber) == null");
	T("(\" 5\" | tonumber) == null");
	T("(\"05\" | tonumber) == null");
	T("(\"1e2\" | tonumber) == 100");
	T("(\"-0.5\" | tonumber) == -0.5");
	T("(.t | tonumber) == null");
	T(".n | tostring == \"3\"");
	T("tostring(.value) == \"57.12\"");
	T("(.s5 | tostring) == \"5\"");
	T("(.t | tostring) == \"true\"");
	T("(.nul | tostring) == \"null\"");
	T("(.missing | tostring) == \"null\"");
	T("(.tags | tostring) == \"[\\\"x\\\",\\\"y\\\",\\\"z\\\"]\"");
	T("(1.0 | tostring) == \"1\"");
	T("(0.1 + 0.2 | tostring) == \"0.30000000000000004\"");
	T(".t | not | not");
	F("not");
	T(".f | not");
	T("(.n | not) == false");
	T("(.n > 2 | not) == false");
	T("(.page | length) + 1 == 9");
	T("(.page | lower | upper | length) == 8");
	T("(.n + 1 | . * 2) == 8");
	T("(.n + 1 | .x) == null");
	T("(.n + 1 | exists(.x)) == false");
}

static void
test_errors(void)
{
	bad(".value > 50 and .page >", 24, "expected a value after '>'");
	bad(".value >", 9, "expected a value after '>'");
	bad("", 1, "empty expression");
	bad("   ", 4, "empty expression");
	bad(".a == )", 7, "expected a value after '=='");
	bad(".a and", 7, "expected a value after 'and'");
	bad(".a or or .b", 7, "expected a value after 'or'");
	bad("(.a", 4, "missing ')' for the '(' at column 1");
	bad("(.a .b)", 5, "expected ')', found '.b'");
	bad(".a)", 3, "unmatched ')'");
	bad(".a .b", 4, "unexpected '.b'");
	bad(".a == 1 2", 9, "unexpected '2'");
	bad("1 < .a < 3", 8, "comparisons do not chain: add parentheses before '<'");
	bad(".a = 1", 4, "use '==' to compare");
	bad(".a && .b", 4, "use 'and' instead of '&&'");
	bad(".a || .b", 4, "use 'or' instead of '||'");
	bad("!.a", 1, "use 'not' instead of '!'");
	bad(".a // ", 7, "expected a value after '//'");
	bad("$x", 1, "variables are not supported");
	bad(".a | {}", 6, "object construction is not supported");
	bad(".a?", 3, "the optional operator '?' is not supported");
	bad(".a @ 1", 4, "unexpected character '@'");
	bad("\"abc", 1, "unterminated string");
	bad("\"a\\qb\"", 3, "invalid escape in string");
	bad("\"\\u12\"", 2, "invalid \\u escape in string");
	bad("\"\\ud800\"", 2, "invalid \\u escape in string: unpaired surrogate");
	bad("\"\\(.a)\"", 2, "string interpolation is not supported");
	bad("1e", 1, "invalid number '1e'");
	bad("12abc", 1, "invalid number '12abc'");
	bad(".a.", 4, "expected a field name after '.'");
	bad("..", 1, "recursive descent '..' is not supported");
	bad(".a[]", 3, "iteration '[]' is not supported");
	bad(".a[1:2]", 5, "slices are not supported");
	bad(".a[x]", 4, "expected an integer index or a quoted name in '[...]'");
	bad(".a[1.5]", 4, "expected an integer index");
	bad(".a[1", 5, "expected ']'");
	bad("value > 3", 1, "unknown name 'value' (a field is written .value)");
	bad("foo(.a)", 1, "unknown function 'foo'");
	bad(".a =~ .b", 7, "expected a string literal (the regular expression) after '=~'");
	bad(".a =~ \"(\"", 9, "invalid regular expression: missing closing parenthesis");
	bad(".a =~ \"ab[c\"", 12, "invalid regular expression: missing terminating ] for character class");
	bad(".a =~ \"\\\\d+(?<n>x\"", 18, "invalid regular expression: missing closing parenthesis");
	bad(".a =~ \"\\u00e9(\"", 15, "invalid regular expression: missing closing parenthesis");
	bad(".a | test(\"a)b\")", 13, "invalid regular expression: unmatched closing parenthesis");
	bad(".a | test(.b)", 11, "expected a string literal (the regular expression)");
	bad(".a | test(\"x\"; \"q\")", 16, "invalid regular expression flags: unknown flag 'q' (g i x n s p)");
	bad(".a | test(\"x\"; \"l\")", 16,
	    "invalid regular expression flags: the flag 'l' (longest match) is not supported");
	bad(".a | match(\"x\"; \"g\")", 17, "match with the flag 'g' gives several values, which is not supported");
	bad(".a | sub(\"x\")", 13, "sub needs a replacement: sub(\"re\"; \"new\")");
	bad("if .a then 1", 13, "expected 'end' for the 'if' at column 1, found the end");
	bad("if .a else 1 end", 7, "expected 'then' for the 'if' at column 1, found 'else'");
	bad("if .a then else 1 end", 12, "expected a value after 'then'");
	bad(".a in .b", 7, "expected an array of literals after 'in'");
	bad(".a in [.b]", 8, "expected a literal (string, number, true, false or null)");
	bad(".a in [1 2]", 10, "expected ',' or ']' in the array");
	bad("[1] == .a", 1, "array literals are only allowed after 'in'");
	bad("exists(\"a\")", 8, "exists needs a path: exists(.field)");
	bad("exists", 1, "exists needs an argument: exists(...)");
	bad(".a | startswith", 6, "startswith needs an argument: startswith(...)");
	bad("length()", 8, "expected an argument for length");
	bad(".a | startswith(\"x\"; \"y\")", 20, "startswith takes one argument");
	bad("has(.a)", 5, "has needs a string literal: has(\"field\")");
	bad(".a | IN(1, .b)", 12, "expected a literal (string, number, true, false or null)");
	bad("- ", 3, "expected a value after '-'");
	bad(".a |", 5, "expected a value after '|'");
	bad("# c", 1, "comments are not supported");
	bad("\"h\xc3\xa9\" == .a and >", 16, "expected a value after 'and'");
	bad(".a == \"\xc3\xa9\" \x01", 11, "unexpected byte 0x01");
}

static void
test_nul_and_utf8(void)
{
	/* Records cannot hold NUL (jansson refuses \\u0000), but literals can. */
	const char *j = "{\"u\":\"\u00e9t\u00e9\"}";

	check(j, "(\"a\\u0000b\" | length) == 3", 1);
	check(j, "\"a\\u0000b\" =~ \"b$\"", 1);
	check(j, "\"a\\u0000b\" =~ \"^a$\"", 0);
	check(j, "\"a\\u0000b\" | contains(\"b\")", 1);
	check(j, "\"a\\u0000b\" != \"a\"", 1);
	check(j, ".u | length == 3", 1);
	check(j, ".u | upper == \"\u00e9T\u00e9\"", 1);
	check(j, ".u =~ \"^.t.$\"", 1);	/* PCRE2 in UTF mode: . is a character, as in jq */
	check(j, ".u =~ \"^\u00e9t\"", 1);
	bad(".\"a\\u0000b\" == 1", 1, "a field name cannot contain NUL");
	bad(".caf\xc3\xa9 == 1", 5, "unexpected non-ASCII character; quote such field names: .\"name\"");
}

/* Evaluating again allocates nothing: the heap in use is the same after a thousand runs. */
static void
test_no_allocation(void)
{
	static const char *const srcs[] = {
		".value > 50 and .page == \"products\"",
		".user.age + 1 > 40 or .tags[1] in [\"y\", \"q\"]",
		".mixed | lower == \"abc\" and (.page | startswith(\"pro\"))",
		"(.n | tostring) == \"3\" and .s57 | tonumber > 57",
		".path =~ \"\\\\.html$\" and (.value * 2 | . > 100)",
	};
	struct expr_err err;
	size_t i, k;

	rec_parse(R, REC, strlen(REC), NULL);
	for (i = 0; i < sizeof srcs / sizeof srcs[0]; i++) {
		struct expr *x = expr_compile(srcs[i], &err);
		size_t before;
		int t = 0;

		if (x == NULL) {
			ok(0, "%s compiles: %s", srcs[i], err.text);
			continue;
		}
		t += expr_test(x, R);
		before = mallinfo2().uordblks;
		for (k = 0; k < 1000; k++)
			t += expr_test(x, R);
		is_int(mallinfo2().uordblks, before, "%s allocates nothing per evaluation", srcs[i]);
		ok(t == 0 || t == 1001, "%s gives the same answer every time", srcs[i]);
		expr_free(x);
	}
}

static void
test_compile_api(void)
{
	struct expr_err err;
	struct expr *x = expr_compile(".value > 90 and .page == \"checkout\"", &err);

	ok(x != NULL, "a valid expression compiles");
	is_str(expr_src(x), ".value > 90 and .page == \"checkout\"", "expr_src returns the source");
	expr_free(x);
	expr_free(NULL);
	ok(1, "expr_free(NULL) is a no-op");

	/* A record that is not parsed yet, then a second record: the same expression works on both. */
	x = expr_compile(".v > 1", &err);
	check("{\"v\":2}", ".v > 1", 1);
	check("{\"v\":0}", ".v > 1", 0);
	check("{}", ".v > 1", 0);
	check("{\"v\":\"2\"}", ".v > 1", 0);
	expr_free(x);
}

/* repeat returns head, then mid n times, then tail, as one new string. */
static char *
repeat(const char *head, const char *mid, size_t n, const char *tail)
{
	size_t hl = strlen(head), ml = strlen(mid), tl = strlen(tail), i;
	char *s = malloc(hl + ml * n + tl + 1), *p = s;

	memcpy(p, head, hl);
	p += hl;
	for (i = 0; i < n; i++, p += ml)
		memcpy(p, mid, ml);
	memcpy(p, tail, tl + 1);
	return s;
}

/* Issue 11.2: nesting is bounded at 256 levels; chains of any length evaluate in a loop. */
static void
test_depth_and_chains(void)
{
	char *s, *open, *close;
	size_t i;

	/* 100,000-term chains, far past what recursion per term survives. */
	s = repeat("", ".nul or ", 99999, ".n == 3");
	T(s);
	free(s);
	s = repeat("", ".nul or ", 99999, ".n == 4");
	F(s);
	free(s);
	s = repeat("", "true and ", 99999, ".n == 3");
	T(s);
	free(s);
	s = repeat("", "true and ", 99999, ".nul");
	F(s);
	free(s);
	s = repeat("", ".n+", 99999, ".n == 300000");
	T(s);
	free(s);
	s = repeat("0", "-1+2", 100000, " == 100000");
	T(s);
	free(s);
	s = repeat("1", "*2/2", 100000, " == 1");
	T(s);
	free(s);
	s = repeat(".n", " | . + 1", 100000, " | . == 100003");
	T(s);
	free(s);
	s = repeat(".value | tostring", " | length | tostring", 99999, " | length == 1");
	T(s);
	free(s);

	/* 256 levels of each kind of nesting compile and run; the 257th is refused at its column. */
	open = repeat("", "(", 256, "");
	close = repeat("", ")", 256, "");
	s = malloc(strlen(open) + strlen(close) + 16);
	sprintf(s, "%s.n == 3%s", open, close);
	T(s);
	sprintf(s, "(%s.n == 3%s)", open, close);
	bad(s, 257, "expression nested more than 256 levels deep");
	free(s);
	free(open);
	free(close);
	s = repeat("", "not ", 256, ".f");
	F(s);
	free(s);
	s = repeat("", "not ", 255, ".f");
	T(s);
	free(s);
	s = repeat("", "not ", 257, ".f");
	bad(s, 1025, "expression nested more than 256 levels deep");
	free(s);
	s = repeat("", "-", 256, ".n == 3");
	T(s);
	free(s);
	s = repeat("", "- ", 257, ".n");
	bad(s, 513, "expression nested more than 256 levels deep");
	free(s);
	s = repeat("", "length(", 256, ".page");
	open = malloc(strlen(s) + 300);
	strcpy(open, s);
	for (i = 0; i < 256; i++)
		strcat(open, ")");
	strcat(open, " == 8");
	T(open);
	free(open);
	free(s);
	s = repeat("", "tostring(", 257, ".page");
	bad(s, 2313, "expression nested more than 256 levels deep");
	free(s);
	/* Mixed nesting counts every level: 128 parentheses around 128 nots reach 256. */
	s = repeat("", "(not ", 128, ".t");
	open = repeat(s, "", 0, "");
	free(s);
	s = malloc(strlen(open) + 200);
	strcpy(s, open);
	for (i = 0; i < 128; i++)
		strcat(s, ")");
	T(s);
	free(s);
	free(open);
	s = repeat("", "(not ", 129, ".t");
	bad(s, 641, "expression nested more than 256 levels deep");
	free(s);
	/* Far past the bound: refused, and the parser itself did not recurse into it. */
	s = repeat("", "(", 1000000, ".n");
	bad(s, 257, "expression nested more than 256 levels deep");
	free(s);
}

/* Issue 11.3: an empty field name or regex is an empty buffer, never memchr(NULL, ...). */
static void
test_empty_names(void)
{
	check("{\"\":1}", ".\"\" == 1", 1);
	check("{\"\":1}", ".[\"\"] == 1", 1);
	check("{\"a\":1}", ".\"\" == 1", 0);
	check("{\"\":1}", "has(\"\")", 1);
	check("{\"s\":\"x\"}", ".s =~ \"\"", 1);
	check("{\"s\":\"x\"}", ".s | test(\"\")", 1);
}

/*
 * PCRE2 compiles big patterns quickly and refuses those past its limits;
 * matching is bounded: a catastrophic pattern stops at the match limit
 * (read as no match, reported by expr_limit) instead of running for hours.
 */
static void
test_regex_limits(void)
{
	struct expr_err err;
	struct expr *x;
	char rec[200];

	bad(".s =~ \"((ab){1,50}c){1,100}\"", 28, "invalid regular expression: regular expression is too large");
	check("{\"s\":\"aaa\"}", ".s =~ \"^(a{1,1000}){1,1000}$\"", 1);
	bad(".s =~ \"a++++\"", 11, "invalid regular expression: quantifier does not follow a repeatable item");
	check("{\"s\":\"aaa\"}", ".s =~ \"^a{1,65535}$\"", 1);
	check("{\"s\":\"aaa\"}", ".s =~ \"^((a+)+)+$\"", 1);
	snprintf(rec, sizeof rec, "{\"s\":\"%s\"}", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
	x = expr_compile(".s | test(\"^(a+)+$\")", &err);
	if (x == NULL || rec_parse(R, rec, strlen(rec), NULL) != 0) {
		ok(0, "catastrophic pattern compiles");
		return;
	}
	ok(!expr_test(x, R), "a catastrophic match is false");
	ok(expr_limit(x) != NULL && strstr(expr_limit(x), "too costly") != NULL,
	    "and expr_limit says why: %s", expr_limit(x) ? expr_limit(x) : "(null)");
	rec_parse(R, "{\"s\":\"ab\"}", 10, NULL);
	ok(!expr_test(x, R) && expr_limit(x) == NULL, "the next record starts afresh");
	expr_free(x);
}

/* eval checks expr_eval's JSON for src on json, or its error. */
static void
eval(const char *json, const char *src, const char *want)
{
	struct expr_err err;
	struct expr *x;
	struct buf b = BUF_INIT;
	const char *why;

	if (rec_parse(R, json, strlen(json), NULL) != 0 || (x = expr_compile(src, &err)) == NULL) {
		ok(0, "%s compiles", src);
		return;
	}
	if (expr_eval(x, R, &b, &why) == 0)
		is_str(buf_cstr(&b), want, "%s", src);
	else
		is_str(why, want, "error of %s", src);
	expr_free(x);
	buf_free(&b);
}

static void
test_eval(void)
{
	const char *j = "{\"p\":2.5,\"a\":4,\"s\":\"x\",\"t\":\" 1.50 \",\"big\":12345678901234567890}";

	eval(j, ".p * .a", "10");
	eval(j, ".p", "2.5");
	eval(j, ".big", "12345678901234567890");
	eval(j, ".s", "\"x\"");
	eval(j, ".s + \"\\n\"", "\"x\\n\"");
	eval(j, ".s * .a", "\"xxxx\"");
	eval(j, ".s * 0", "null");
	eval(j, "0.5 * .s", "\"x\"");
	eval(j, ".s * 1e9", "string repeated 1000000000 times is longer than 67108864 bytes");
	eval(j, ".s - .a", "string (\"x\") and number (4) cannot be subtracted");
	eval(j, "-0.4 | round", "-0");
	eval(j, "\"a\\u0000b\"", "a string holding NUL (\\u0000) cannot be written: records cannot hold it");
	eval(j, "\"a\\u0000b\" | split(\"x\")", "the value cannot be written as a record's field (a string holding NUL?)");
	eval(j, "\"a\\u0000b\" | length", "3");
	eval(j, ".a / 0", "number (4) and number (0) cannot be divided because the divisor is zero");
	eval(j, ".a % 0", "number (4) and number (0) cannot be divided because the divisor is zero");
	eval(j, ".s | floor", "string (\"x\") number required");
	eval(j, ".nope | floor", "null (null) number required");
	eval(j, ".s | tonumber", "cannot parse 'x' as a number");
	eval(j, ".a | test(\"4\")", "number (4) cannot be matched, as it is not a string");
	eval(j, ".a =~ \"4\"", "false");
	eval(j, ".nope // \"dflt\"", "\"dflt\"");
	eval(j, "false // .nope // 7", "7");
	eval(j, "(.s | floor) // 7", "string (\"x\") number required");	/* as jq 1.6 */
	eval(j, ".a | if . > 3 then \"big\" end", "\"big\"");
	eval(j, ".a | if . > 9 then \"big\" end", "4");
	eval(j, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\" | test(\"^(a|aa)+$\")",
	    "regular expression too costly on this value (stopped after 1000000 steps)");
	eval(j, ".t | ltrimstr(\" \") | rtrimstr(\" \") | tonumber", "1.5");
	eval(j, "1e1000", "1.7976931348623157e+308");
	eval(j, "-1 | sqrt", "null");
	eval(j, ".s | split(\"\") | .[0]", "\"x\"");
	eval(j, "(.s | capture(\"(?<c>.)\")) | .c", "\"x\"");
	eval(j, ".s | .[0]", "null");	/* a path into the record: missing, as --where has always read it */
	eval(j, "(.s + \"y\") | .[0]", "string (\"xy\") cannot be indexed");
}

int
main(void)
{
	R = rec_new();
	test_paths();
	test_literals();
	test_null_semantics();
	test_comparisons();
	test_precedence();
	test_arithmetic();
	test_regex();
	test_in();
	test_functions();
	test_errors();
	test_nul_and_utf8();
	test_no_allocation();
	test_compile_api();
	test_depth_and_chains();
	test_empty_names();
	test_regex_limits();
	test_eval();
	rec_free(R);
	return tap_done();
}
