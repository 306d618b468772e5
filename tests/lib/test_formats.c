/* Unit tests of lib/formats: number syntax, detection, and each reader's results and reasons. */
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "tap.h"

/* parse runs one reader over lines and returns the JSON or "BAD: reason", "SKIP", "MORE". */
static const char *
parse(struct fmt_reader *r, const char *text)
{
	static struct buf out = BUF_INIT;
	static char res[512];

	switch (fmt_parse(r, text, strlen(text), &out)) {
	case FMT_RECORD:
		snprintf(res, sizeof res, "%.*s", (int)out.len, out.p);
		break;
	case FMT_SKIP:	return "SKIP";
	case FMT_MORE:	return "MORE";
	case FMT_BAD:
		snprintf(res, sizeof res, "BAD: %s", fmt_why(r));
		break;
	}
	return res;
}

int
main(void)
{
	struct fmt_opts o = { ',', false, NULL }, oi = { ',', true, NULL }, oh = { ';', false, "x,y" };
	struct fmt_reader *r;
	enum fmt_kind k;

	ok(fmt_json_number("6.8581834E7", 11), "6.8581834E7 is a JSON number");
	ok(fmt_json_number("-0.5e-3", 7), "-0.5e-3 is a JSON number");
	ok(!fmt_json_number("007", 3), "007 is not");
	ok(!fmt_json_number("+1", 2), "+1 is not");
	ok(!fmt_json_number("1.", 2), "1. is not");
	ok(!fmt_json_number(".5", 2), ".5 is not");
	ok(!fmt_json_number("1e999", 5), "1e999 overflows a double");
	ok(!fmt_json_number("", 0), "the empty string is not");
	ok(fmt_json_number("-9223372036854775808", 20), "INT64_MIN is a JSON number");
	ok(!fmt_json_number("9223372036854775808", 19), "INT64_MAX + 1 is too big an integer");
	ok(fmt_json_number("9223372036854775808.0", 21), "but as a real it is fine");
	ok(!fmt_json_number("NaN", 3), "NaN is not");

#define DETECT(s, want) is_str(fmt_name(fmt_detect(s, strlen(s))), want, "detect %s", want)
	DETECT("{\"a\":1}", "ndjson");
	DETECT("::1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1 \"-\" \"ua\"", "combined");
	DETECT("h - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 -", "clf");
	DETECT("level=info msg=\"x\"", "logfmt");
	DETECT("a\tb", "tsv");
	DETECT("a,b,c", "csv");
	DETECT("time is=now, really", "csv");
	ok(fmt_by_name("combined", &k) == 0 && k == FMT_COMBINED, "fmt_by_name finds combined");
	ok(fmt_by_name("xml", &k) == -1, "fmt_by_name refuses xml");

	r = fmt_new(FMT_CSV, &o);
	is_str(parse(r, "a,b"), "SKIP", "the first CSV record is the header");
	is_str(parse(r, "1,\"x,y\""), "{\"a\":\"1\",\"b\":\"x,y\"}", "a quoted comma");
	is_str(parse(r, "1,\"open"), "MORE", "an open quote asks for more");
	is_str(parse(r, "1,\"open\nclosed\""), "{\"a\":\"1\",\"b\":\"open\\nclosed\"}", "the joined lines");
	is_str(parse(r, "1"), "BAD: expected 2 fields, got 1", "a short row");
	is_str(parse(r, "1,2,"), "BAD: expected 2 fields, got 3", "a trailing comma is one more field");
	is_str(parse(r, "\"a\"b,1"), "BAD: unexpected character after a closing quote in field 1",
	    "text after a closing quote");
	is_str(parse(r, "a\"b,\"\""), "{\"a\":\"a\\\"b\",\"b\":\"\"}", "a quote inside an unquoted field");
	is_str(parse(r, "\xff,1"), "BAD: not valid UTF-8", "bytes that are not UTF-8");
	fmt_start(r);
	is_str(parse(r, "c"), "SKIP", "a new file has its own header");
	is_str(parse(r, "3"), "{\"c\":\"3\"}", "keyed by the new header");
	fmt_free(r);

	r = fmt_new(FMT_CSV, &oi);
	parse(r, "a,b,c,d");
	is_str(parse(r, "1.50,TRUE,,x"), "{\"a\":1.50,\"b\":true,\"c\":null,\"d\":\"x\"}", "--infer");
	fmt_free(r);

	r = fmt_new(FMT_CSV, &oh);
	is_str(parse(r, "1;2"), "{\"x\":\"1\",\"y\":\"2\"}", "--header and --delimiter ;");
	fmt_free(r);

	r = fmt_new(FMT_TSV, &o);
	parse(r, "a\tb");
	is_str(parse(r, "x\\ty\t\\\\n"), "{\"a\":\"x\\ty\",\"b\":\"\\\\n\"}", "TSV escapes");
	fmt_free(r);

	r = fmt_new(FMT_LOGFMT, &o);
	is_str(parse(r, "a=1 b=\"x y\" c"), "{\"a\":\"1\",\"b\":\"x y\",\"c\":true}", "logfmt");
	is_str(parse(r, "a=\"x\"y"), "BAD: unexpected character after a closing quote at column 6",
	    "text after a quoted value");
	is_str(parse(r, "a\"b=1"), "BAD: unexpected quote in key at column 2", "a quote in a key");
	is_str(parse(r, "   "), "SKIP", "a blank logfmt line");
	fmt_free(r);

	r = fmt_new(FMT_CLF, &o);
	is_str(parse(r, "h - u [10/Oct/2000:13:55:36 -0700] \"POST /a b/c HTTP/1.1\" 201 0"),
	    "{\"host\":\"h\",\"ident\":null,\"user\":\"u\",\"timestamp\":\"2000-10-10T20:55:36Z\","
	    "\"method\":\"POST\",\"path\":\"/a b/c\",\"protocol\":\"HTTP/1.1\",\"status\":201,\"bytes\":0}",
	    "CLF with a space in the path");
	is_str(parse(r, "h - - [10/Oct/2000:13:55:36 -0700] \"get / HTTP/1.1\" 200 1"),
	    "BAD: malformed request line: not METHOD PATH [PROTOCOL]",
	    "a lower-case method does not split: the line is rejected");
	is_str(parse(r, "h - - 10/Oct/2000:13:55:36 -0700 \"GET /\" 200 1"),
	    "BAD: expected '[' before the timestamp", "a time without brackets");
	is_str(parse(r, "h - - [10/Oct/2000:13:55:36 -0700 \"GET /\" 200 1"),
	    "BAD: timestamp has no closing ']'", "a time without its closing bracket");
	is_str(parse(r, "h - - [10/Oct/2000:13:55:36 -0700] GET / 200 1"),
	    "BAD: expected '\"' before the request line", "an unquoted request");
	is_str(parse(r, "h - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200"),
	    "BAD: missing byte count", "a missing byte count");
	is_str(parse(r, "h - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 12x"),
	    "BAD: byte count is not a number: '12x'", "a bad byte count");
	is_str(parse(r, "h"), "BAD: missing ident and user fields", "a lone word");
	is_str(parse(r, "h -"), "BAD: missing user field", "two words");
	is_str(parse(r, "h - - [10/Oct/2000:13:55:36 -0700] \"GET /\""), "BAD: missing status",
	    "a missing status");
	fmt_free(r);

	r = fmt_new(FMT_COMBINED, &o);
#define LINE "h - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 1"
	is_str(parse(r, LINE " \"-"), "BAD: referrer has no closing quote", "an open referrer");
	is_str(parse(r, LINE " \"-\""), "BAD: missing user agent", "a missing user agent");
	is_str(parse(r, LINE " \"-\" \"ua\" extra"),
	    "BAD: unexpected text after the user agent at column 68", "text after the user agent");
	is_str(parse(r, LINE " \"r\\\"q\" \"ua\"  "),
	    "{\"host\":\"h\",\"ident\":null,\"user\":null,\"timestamp\":\"2000-10-10T20:55:36Z\","
	    "\"method\":\"GET\",\"path\":\"/\",\"protocol\":\"HTTP/1.1\",\"status\":200,\"bytes\":1,"
	    "\"referrer\":\"r\\\"q\",\"user_agent\":\"ua\"}", "an escaped quote and trailing spaces");
	fmt_free(r);
	return tap_done();
}
