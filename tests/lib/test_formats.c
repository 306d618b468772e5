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
	case FMT_COMMENT: return "COMMENT";
	case FMT_MORE:	return "MORE";
	case FMT_BAD:
		snprintf(res, sizeof res, "BAD: %s", fmt_why(r));
		break;
	}
	return res;
}

/* work runs text through a new reader of kind (split into lines, re-joined on FMT_MORE as ingest does) and returns its counters. */
static struct fmt_stats
work(enum fmt_kind kind, const char *text, const char **last)
{
	static struct buf out = BUF_INIT, acc = BUF_INIT;
	static char res[256];
	struct fmt_opts o = { .delim = "," };
	struct fmt_reader *r = fmt_new(kind, &o);
	struct fmt_stats st;
	const char *s = text, *e;
	enum fmt_result fr;

	res[0] = '\0';
	buf_reset(&acc);
	for (; *s != '\0'; s = *e ? e + 1 : e) {
		e = strchr(s, '\n');
		if (e == NULL)
			e = s + strlen(s);
		if (acc.len > 0)
			buf_addc(&acc, '\n');
		buf_add(&acc, s, (size_t)(e - s));
		fr = fmt_parse(r, acc.p, acc.len, &out);
		if (fr == FMT_MORE)
			continue;
		if (fr == FMT_RECORD)
			snprintf(res, sizeof res, "%.*s", (int)(out.len < 200 ? out.len : 200), out.p);
		else if (fr == FMT_BAD)
			snprintf(res, sizeof res, "BAD: %s", fmt_why(r));
		buf_reset(&acc);
	}
	fmt_stats(r, &st);
	fmt_free(r);
	if (last != NULL)
		*last = res;
	return st;
}

/* header_text makes a CSV header of n columns all named "a", then one row "1,1,...". */
static char *
header_text(size_t n)
{
	char *t = malloc(4 * n + 2), *p = t;
	size_t i;

	for (i = 0; i < n; i++) {
		*p++ = 'a';
		*p++ = i + 1 < n ? ',' : '\n';
	}
	for (i = 0; i < n; i++) {
		*p++ = '1';
		*p++ = i + 1 < n ? ',' : '\0';
	}
	return t;
}

/* open_quote_text makes a CSV header, then one record whose quoted field spans n lines of 20 bytes. */
static char *
open_quote_text(size_t n)
{
	char *t = malloc(21 * n + 32), *p = t;
	size_t i;

	p += sprintf(p, "a,b\n1,\"");
	for (i = 0; i < n; i++)
		p += sprintf(p, "line %014zu\n", i);
	sprintf(p, "end\"");
	return t;
}

/* logfmt_text makes one logfmt line of n distinct keys, then, with dup, one more key equal to the first. */
static char *
logfmt_text(size_t n, int dup)
{
	char *t = malloc(16 * n + 32), *p = t;
	size_t i;

	for (i = 0; i < n; i++)
		p += sprintf(p, "%sk%zu=%zu", i ? " " : "", i, i);
	if (dup)
		sprintf(p, " k0=x");
	return t;
}

/*
 * Issue 12.9-12.11: the work on a header of repeated names, a record with
 * an unclosed quote and a logfmt line of many keys grows linearly: n and
 * 8n are measured by the reader's own counters, never by time.
 */
static void
test_linear(void)
{
	struct fmt_stats a, b;
	const char *last;
	char *t, want[64];
	size_t n;

	/* 12.9: 500 and 4,000 columns all named "a" (the old scan made about n^3/6 comparisons). */
	n = 500;
	t = header_text(n);
	a = work(FMT_CSV, t, &last);
	ok(strncmp(last, "{\"a\":\"1\",\"a_2\":\"1\",\"a_3\":\"1\",", 28) == 0, "the keys are a, a_2, a_3, ...");
	free(t);
	t = header_text(8 * n);
	b = work(FMT_CSV, t, &last);
	free(t);
	ok(a.probes <= 2 * n, "a header of %zu equal names tries %llu names (at most 2n)", n, a.probes);
	ok(b.probes <= 8 * a.probes, "8x the columns try at most 8x the names (%llu, %llu)", a.probes,
	    b.probes);

	/* 12.10: an unclosed quote over 10,000 and 80,000 lines: each byte is scanned a bounded number of times. */
	n = 10000;
	t = open_quote_text(n);
	a = work(FMT_CSV, t, &last);
	snprintf(want, sizeof want, "{\"a\":\"1\",\"b\":\"line 00000000000000\\nline 0");
	ok(strncmp(last, want, strlen(want)) == 0, "the record of %zu lines is whole", n);
	ok(a.scanned <= 3 * strlen(t), "%zu lines: %llu bytes scanned for %zu bytes of text", n, a.scanned,
	    strlen(t));
	free(t);
	t = open_quote_text(8 * n);
	b = work(FMT_CSV, t, NULL);
	ok(b.scanned <= 3 * strlen(t), "%zu lines: %llu bytes scanned for %zu bytes of text", 8 * n,
	    b.scanned, strlen(t));
	ok(b.scanned <= 9 * a.scanned, "8x the lines scan at most about 8x the bytes (%llu, %llu)",
	    a.scanned, b.scanned);
	free(t);

	/* 12.11: 5,000 and 40,000 distinct logfmt keys, then one duplicate at the end. */
	n = 5000;
	t = logfmt_text(n, 0);
	a = work(FMT_LOGFMT, t, &last);
	ok(strncmp(last, "{\"k0\":\"0\",\"k1\":\"1\"", 18) == 0, "%zu distinct keys make a record", n);
	free(t);
	t = logfmt_text(8 * n, 1);
	b = work(FMT_LOGFMT, t, &last);
	is_str(last, "BAD: duplicate key 'k0'", "the duplicate after %zu keys is found", 8 * n);
	free(t);
	ok(a.probes <= 2 * n, "%zu keys: %llu key comparisons (at most 2n)", n, a.probes);
	ok(b.probes <= 9 * a.probes, "8x the keys make at most about 8x the comparisons (%llu, %llu)",
	    a.probes, b.probes);
}

/* The resumed CSV record: only its own continuation resumes; any other text starts over. */
static void
test_resume(void)
{
	struct fmt_opts o = { .delim = "," };
	struct fmt_reader *r = fmt_new(FMT_CSV, &o);

	parse(r, "a,b");
	is_str(parse(r, "1,\"x"), "MORE", "an open quote");
	is_str(parse(r, "1,\"x\n\"\"y"), "MORE", "an escaped quote in the next line: still open");
	is_str(parse(r, "1,\"x\n\"\"y\n\"\"\""), "{\"a\":\"1\",\"b\":\"x\\n\\\"y\\n\\\"\"}",
	    "closed on the third line, escapes across the lines kept");
	is_str(parse(r, "1,\"x"), "MORE", "open again");
	is_str(parse(r, "2,3"), "{\"a\":\"2\",\"b\":\"3\"}", "a shorter text is a new record");
	is_str(parse(r, "1,\"abc"), "MORE", "open again");
	is_str(parse(r, "9,\"abc\nd\",\"e\""), "BAD: expected 2 fields, got 3",
	    "a text that begins otherwise is a new record");
	is_str(parse(r, "1,\"abc"), "MORE", "open again");
	is_str(parse(r, "1,\"abc\n\xff\""), "BAD: not valid UTF-8", "bad bytes in a continuation line");
	is_str(parse(r, "1,\"abc\nd\""), "{\"a\":\"1\",\"b\":\"abc\\nd\"}",
	    "after a rejection nothing resumes: the text is parsed whole");
	is_str(parse(r, "1,\"abc"), "MORE", "open again");
	fmt_start(r);
	is_str(parse(r, "1,\"abc\nd\""), "SKIP", "a new file forgets the open record: this is its header");
	fmt_free(r);
}

/* Issue 11.3: an empty text may come as a NULL pointer with length 0. */
static void
test_empty(void)
{
	static const enum fmt_kind kinds[] = { FMT_NDJSON, FMT_CSV, FMT_TSV, FMT_LOGFMT, FMT_CLF, FMT_COMBINED };
	struct fmt_opts o = { .delim = ",", .infer = true };
	struct buf out = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		struct fmt_reader *r = fmt_new(kinds[i], &o);
		enum fmt_result res = fmt_parse(r, NULL, 0, &out);

		ok(res == (kinds[i] == FMT_NDJSON ? FMT_RECORD : FMT_SKIP), "%s: an empty NULL text",
		    fmt_name(kinds[i]));
		fmt_free(r);
	}
	ok(!fmt_json_number(NULL, 0), "fmt_json_number(NULL, 0) is not a number");

	/* Found by fuzz_formats: a header of empty names split into an empty (NULL) buffer. */
	{
		struct fmt_opts oc = { .delim = "," };
		struct fmt_reader *r = fmt_new(FMT_CSV, &oc);

		is_str(parse(r, ","), "SKIP", "a header of two empty names");
		is_str(parse(r, "x,"), "{\"1\":\"x\",\"2\":\"\"}", "its columns are named by number");
		fmt_free(r);
	}
	buf_free(&out);
}

int
main(void)
{
	struct fmt_opts o = { .delim = "," }, oi = { .delim = ",", .infer = true }, oh = { .delim = ";", .header = "x,y" };
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

	test_linear();
	test_resume();
	test_empty();
	return tap_done();
}
