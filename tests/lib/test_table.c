/* Unit tests of lib/table: every format's exact output, sorting, --top, batches, late columns, escapes, widths, growth and write errors. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "table.h"
#include "tap.h"

/* The output of the table being tested goes to a memory stream. */
static FILE	*mf;
static char	*mem;
static size_t	 memlen;

static struct tb *
open_tb(const char *format)
{
	const struct tb_format *f = tb_format(format);

	if (f == NULL) {
		printf("Bail out! no format %s\n", format);
		exit(1);
	}
	mf = open_memstream(&mem, &memlen);
	return tb_new(f, mf);
}

/* close_tb ends the table and returns what it wrote (valid until the next call). */
static const char *
close_tb(struct tb *t)
{
	static struct buf b;

	if (tb_end(t) != 0)
		printf("# tb_end failed: %s\n", strerror(errno));
	tb_free(t);
	fclose(mf);
	buf_reset(&b);
	buf_add(&b, mem, memlen);
	free(mem);
	return buf_cstr(&b);
}

/* cell adds a cell from a C string of JSON text. */
static int
cell(struct tb *t, const char *col, const char *json)
{
	return tb_cell(t, col, json, strlen(json));
}

/* small fills the table every format is shown with. */
static void
small(struct tb *t)
{
	tb_row(t);
	cell(t, "page", "\"home\"");
	cell(t, "hits", "120");
	cell(t, "mean", "1.50");
	cell(t, "note", "null");
	tb_row(t);
	cell(t, "page", "\"checkout\"");
	cell(t, "hits", "7");
	cell(t, "mean", "32.807673915");
	cell(t, "note", "\"a,b\"");
	tb_row(t);
	cell(t, "page", "\"product\"");
	cell(t, "hits", "45");
	cell(t, "note", "\"say \\\"hi\\\"\"");
}

static const char *
format_small(const char *format)
{
	struct tb *t = open_tb(format);

	small(t);
	return close_tb(t);
}

static void
test_formats(void)
{
	is_str(format_small("ndjson"),
	    "{\"page\":\"home\",\"hits\":120,\"mean\":1.50,\"note\":null}\n"
	    "{\"page\":\"checkout\",\"hits\":7,\"mean\":32.807673915,\"note\":\"a,b\"}\n"
	    "{\"page\":\"product\",\"hits\":45,\"note\":\"say \\\"hi\\\"\"}\n",
	    "ndjson: keys in column order, absent cells absent, numbers' digits kept");
	is_str(format_small("json"),
	    "[\n"
	    "{\"page\":\"home\",\"hits\":120,\"mean\":1.50,\"note\":null},\n"
	    "{\"page\":\"checkout\",\"hits\":7,\"mean\":32.807673915,\"note\":\"a,b\"},\n"
	    "{\"page\":\"product\",\"hits\":45,\"note\":\"say \\\"hi\\\"\"}\n"
	    "]\n",
	    "json: one array document");
	is_str(format_small("csv"),
	    "page,hits,mean,note\n"
	    "home,120,1.50,\n"
	    "checkout,7,32.807673915,\"a,b\"\n"
	    "product,45,,\"say \"\"hi\"\"\"\n",
	    "csv: RFC 4180 quoting, null and absent empty");
	is_str(format_small("tsv"),
	    "page\thits\tmean\tnote\n"
	    "home\t120\t1.50\t\n"
	    "checkout\t7\t32.807673915\ta,b\n"
	    "product\t45\t\tsay \"hi\"\n",
	    "tsv");
	is_str(format_small("table"),
	    "page      hits          mean  note\n"
	    "home       120          1.50\n"
	    "checkout     7  32.807673915  a,b\n"
	    "product     45                say \"hi\"\n",
	    "table: aligned, numbers right, no trailing spaces");
	is_str(format_small("markdown"),
	    "| page | hits | mean | note |\n"
	    "| --- | ---: | ---: | --- |\n"
	    "| home | 120 | 1.50 |  |\n"
	    "| checkout | 7 | 32.807673915 | a,b |\n"
	    "| product | 45 |  | say \"hi\" |\n",
	    "markdown: a GitHub pipe table, numbers aligned right");
	is_str(format_small("html"),
	    "<table>\n<thead>\n"
	    "<tr><th>page</th><th class=\"num\">hits</th><th class=\"num\">mean</th><th>note</th></tr>\n"
	    "</thead>\n<tbody>\n"
	    "<tr><td>home</td><td class=\"num\">120</td><td class=\"num\">1.50</td><td></td></tr>\n"
	    "<tr><td>checkout</td><td class=\"num\">7</td><td class=\"num\">32.807673915</td><td>a,b</td></tr>\n"
	    "<tr><td>product</td><td class=\"num\">45</td><td></td><td>say &quot;hi&quot;</td></tr>\n"
	    "</tbody>\n</table>\n",
	    "html: a table fragment, cells escaped");
}

static void
test_lookup(void)
{
	const struct tb_format *f;
	const char *names[] = { "ndjson", "json", "csv", "tsv", "table", "markdown", "html" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		f = tb_format(names[i]);
		ok(f != NULL && strcmp(tb_format_name(f), names[i]) == 0, "format %s found by name", names[i]);
		ok(strstr(tb_format_names(), names[i]) != NULL, "format %s listed", names[i]);
	}
	ok(tb_format("xml") == NULL, "an unknown format is NULL");
	ok(tb_format("") == NULL, "an empty name is NULL");
}

/* ids writes the table's rows as ndjson and returns their "id" cells joined by commas. */
static const char *
ids(struct tb *t)
{
	static char res[512];
	const char *out = close_tb(t), *p = out;
	size_t n = 0;

	res[0] = '\0';
	while ((p = strstr(p, "\"id\":")) != NULL) {
		p += 5;
		n += (size_t)snprintf(res + n, sizeof(res) - n, "%s%ld", n ? "," : "", strtol(p, NULL, 10));
	}
	return res;
}

/* mixed fills the rows the sort tests use: ties, nulls and absent cells. */
static void
mixed(struct tb *t)
{
	tb_column(t, "id");
	tb_row(t); cell(t, "id", "1"); cell(t, "a", "\"x\""); cell(t, "b", "2");
	tb_row(t); cell(t, "id", "2"); cell(t, "a", "\"y\""); cell(t, "b", "null");
	tb_row(t); cell(t, "id", "3"); cell(t, "a", "\"x\""); cell(t, "b", "10");
	tb_row(t); cell(t, "id", "4"); cell(t, "b", "1");
	tb_row(t); cell(t, "id", "5"); cell(t, "a", "\"x\""); cell(t, "b", "2.0");
	tb_row(t); cell(t, "id", "6"); cell(t, "a", "null"); cell(t, "b", "5");
	tb_row(t); cell(t, "id", "7"); cell(t, "a", "\"y\""); cell(t, "b", "1.5");
}

static void
test_sort(void)
{
	struct tb *t;
	const char *why = NULL;
	bool desc = false;

	t = open_tb("ndjson");
	mixed(t);
	is_str(ids(t), "1,2,3,4,5,6,7", "no sort keys: rows in the order added");

	t = open_tb("ndjson");
	ok(tb_sort_spec(t, "a,b:desc", &why) == 0, "a,b:desc parses");
	mixed(t);
	is_str(ids(t), "3,1,5,7,2,6,4", "a then b descending: ties stable (1 before 5), nulls last in both keys");

	t = open_tb("ndjson");
	ok(tb_sort_spec(t, "-a,b", NULL) == 0, "-a,b parses");
	mixed(t);
	is_str(ids(t), "7,2,1,5,3,4,6", "a descending then b: nulls still last");

	t = open_tb("ndjson");
	tb_sort(t, "b", false);
	mixed(t);
	is_str(ids(t), "4,7,1,5,6,3,2", "numbers by value: 1 < 1.5 < 2 = 2.0 < 5 < 10, null last");

	t = open_tb("ndjson");
	tb_sort(t, "nosuch", true);
	mixed(t);
	is_str(ids(t), "1,2,3,4,5,6,7", "a key no row has: every row ties, order kept");

	/* Types: numbers, strings, booleans, arrays, objects, then null. */
	t = open_tb("ndjson");
	tb_sort(t, "v", false);
	tb_row(t); cell(t, "id", "1"); cell(t, "v", "{\"k\":1}");
	tb_row(t); cell(t, "id", "2"); cell(t, "v", "null");
	tb_row(t); cell(t, "id", "3"); cell(t, "v", "true");
	tb_row(t); cell(t, "id", "4"); cell(t, "v", "[1]");
	tb_row(t); cell(t, "id", "5"); cell(t, "v", "\"a\"");
	tb_row(t); cell(t, "id", "6"); cell(t, "v", "false");
	tb_row(t); cell(t, "id", "7"); cell(t, "v", "3");
	is_str(ids(t), "7,5,6,3,4,1,2", "types: number, string, false, true, array, object, null");

	/* Strings by their bytes after unescaping; integers past 2^53 exactly. */
	t = open_tb("ndjson");
	tb_sort(t, "s", false);
	tb_row(t); cell(t, "id", "1"); cell(t, "s", "\"a\"");
	tb_row(t); cell(t, "id", "2"); cell(t, "s", "\"B\"");
	tb_row(t); cell(t, "id", "3"); cell(t, "s", "\"\\u0041\"");
	tb_row(t); cell(t, "id", "4"); cell(t, "s", "\"ab\"");
	tb_row(t); cell(t, "id", "5"); cell(t, "s", "\"\xc3\xa9\"");
	tb_row(t); cell(t, "id", "6"); cell(t, "s", "\"z\"");
	tb_row(t); cell(t, "id", "7"); cell(t, "s", "\"\"");
	is_str(ids(t), "7,3,2,1,4,6,5", "strings bytewise: \"\" < \\u0041 (A) < B < a < ab < z < \xc3\xa9");

	t = open_tb("ndjson");
	tb_sort(t, "n", true);
	tb_row(t); cell(t, "id", "1"); cell(t, "n", "9223372036854775806");
	tb_row(t); cell(t, "id", "2"); cell(t, "n", "9223372036854775807");
	tb_row(t); cell(t, "id", "3"); cell(t, "n", "-9223372036854775808");
	tb_row(t); cell(t, "id", "4"); cell(t, "n", "1e300");
	tb_row(t); cell(t, "id", "5"); cell(t, "n", "-0.5");
	tb_row(t); cell(t, "id", "6"); cell(t, "n", "-1e-3");
	is_str(ids(t), "4,2,1,6,5,3", "descending numbers: int64 neighbours apart, reals by value");

	/* Typed cells sort by their values too; a NaN is written as null and sorts as one. */
	t = open_tb("ndjson");
	tb_sort(t, "r", false);
	tb_row(t); tb_cell_int(t, "id", 1); tb_cell_real(t, "r", NAN);
	tb_row(t); tb_cell_int(t, "id", 2); tb_cell_real(t, "r", 1.0);
	tb_row(t); tb_cell_int(t, "id", 3); tb_cell_int(t, "r", -1);
	tb_row(t); tb_cell_int(t, "id", 4); tb_cell_str(t, "r", "0", 1);
	tb_row(t); tb_cell_int(t, "id", 5); tb_cell_real(t, "r", 0.5);
	is_str(ids(t), "3,5,2,4,1", "typed cells: -1 < 0.5 < 1.0 < \"0\" (a string) < NaN (null)");

	/* The spec parser. */
	t = open_tb("ndjson");
	ok(tb_sort_spec(t, "a,b:desc,-c,+d,e:asc,f:x", &why) == 0, "a list of six keys parses");
	is_int(tb_nsort(t), 6, "six keys");
	ok(strcmp(tb_sort_key(t, 0, &desc), "a") == 0 && !desc, "key 1: a ascending");
	ok(strcmp(tb_sort_key(t, 1, &desc), "b") == 0 && desc, "key 2: b descending (:desc)");
	ok(strcmp(tb_sort_key(t, 2, &desc), "c") == 0 && desc, "key 3: c descending (-)");
	ok(strcmp(tb_sort_key(t, 3, &desc), "d") == 0 && !desc, "key 4: d ascending (+)");
	ok(strcmp(tb_sort_key(t, 4, &desc), "e") == 0 && !desc, "key 5: e ascending (:asc)");
	is_str(tb_sort_key(t, 5, NULL), "f:x", "key 6: a colon that is not a direction is part of the name");
	ok(tb_sort_key(t, 6, NULL) == NULL, "no key 7");
	why = NULL;
	errno = 0;
	ok(tb_sort_spec(t, "g,,h", &why) == -1 && errno == EINVAL, "an empty name fails with EINVAL");
	is_str(why, "empty column name", "and says why");
	is_int(tb_nsort(t), 6, "a failed list adds no key, not even the ones before the error");
	ok(tb_sort_spec(t, "-a:asc", &why) == -1, "-a:asc fails");
	is_str(why, "both a sign and a direction", "and says why");
	ok(tb_sort_spec(t, ":desc", &why) == -1, ":desc alone fails");
	is_str(why, "empty column name", "for its empty name");
	ok(tb_sort_spec(t, "", &why) == -1, "an empty list fails");
	is_int(tb_nsort(t), 6, "still six keys");
	close_tb(t);
}

static void
test_top(void)
{
	struct tb *t;
	int i;
	char v[16];

	t = open_tb("ndjson");
	tb_sort(t, "n", true);
	tb_top(t, 3);
	for (i = 1; i <= 10; i++) {
		tb_row(t);
		snprintf(v, sizeof v, "%d", i);
		cell(t, "id", v);
		snprintf(v, sizeof v, "%d", (i * 7) % 10);
		cell(t, "n", v);
	}
	/* n: 7 4 1 8 5 2 9 6 3 0 for ids 1..10 */
	ok(tb_flush(t) == 0, "a batch flushes");
	is_int(tb_written(t), 3, "top 3 of 10 rows written");
	for (i = 11; i <= 15; i++) {
		tb_row(t);
		snprintf(v, sizeof v, "%d", i);
		cell(t, "id", v);
		cell(t, "n", i == 13 ? "100" : "1");
	}
	is_str(ids(t), "7,4,1,13,11,12", "the first 3 of each batch after sorting: ties in order added");

	t = open_tb("csv");
	tb_top(t, 2);
	for (i = 1; i <= 4; i++) {
		tb_row(t);
		tb_cell_int(t, "i", i);
	}
	is_str(close_tb(t), "i\n1\n2\n", "top without sort keys keeps the first rows");

	t = open_tb("csv");
	tb_top(t, 10);
	tb_row(t);
	tb_cell_int(t, "i", 1);
	is_str(close_tb(t), "i\n1\n", "top larger than the batch keeps all");
}

/* three_batches writes the same three batches in a format. */
static const char *
three_batches(const char *format)
{
	struct tb *t = open_tb(format);

	tb_row(t); cell(t, "name", "\"ab\""); cell(t, "n", "1");
	tb_row(t); cell(t, "name", "\"abc\""); cell(t, "n", "22");
	tb_flush(t);
	tb_row(t); cell(t, "name", "\"abcdefg\""); cell(t, "n", "333");
	tb_flush(t);
	tb_flush(t);	/* an empty batch writes nothing */
	tb_row(t); cell(t, "name", "\"x\""); cell(t, "n", "4");
	tb_flush(t);
	return close_tb(t);
}

static void
test_batches(void)
{
	is_str(three_batches("table"),
	    "name   n\n"
	    "ab     1\n"
	    "abc   22\n"
	    "abcdefg  333\n"
	    "x          4\n",
	    "table: one header; widths from batch 1, widened by batch 2, kept for batch 3");
	is_str(three_batches("csv"), "name,n\nab,1\nabc,22\nabcdefg,333\nx,4\n", "csv: one header over 3 batches");
	is_str(three_batches("tsv"), "name\tn\nab\t1\nabc\t22\nabcdefg\t333\nx\t4\n", "tsv: one header over 3 batches");
	is_str(three_batches("markdown"),
	    "| name | n |\n| --- | ---: |\n| ab | 1 |\n| abc | 22 |\n| abcdefg | 333 |\n| x | 4 |\n",
	    "markdown: one header over 3 batches");
	is_str(three_batches("html"),
	    "<table>\n<thead>\n<tr><th>name</th><th class=\"num\">n</th></tr>\n</thead>\n<tbody>\n"
	    "<tr><td>ab</td><td class=\"num\">1</td></tr>\n"
	    "<tr><td>abc</td><td class=\"num\">22</td></tr>\n"
	    "<tr><td>abcdefg</td><td class=\"num\">333</td></tr>\n"
	    "<tr><td>x</td><td class=\"num\">4</td></tr>\n"
	    "</tbody>\n</table>\n",
	    "html: one table over 3 batches");
	is_str(three_batches("json"),
	    "[\n{\"name\":\"ab\",\"n\":1},\n{\"name\":\"abc\",\"n\":22},\n"
	    "{\"name\":\"abcdefg\",\"n\":333},\n{\"name\":\"x\",\"n\":4}\n]\n",
	    "json: one document over 3 batches");
	is_str(three_batches("ndjson"),
	    "{\"name\":\"ab\",\"n\":1}\n{\"name\":\"abc\",\"n\":22}\n"
	    "{\"name\":\"abcdefg\",\"n\":333}\n{\"name\":\"x\",\"n\":4}\n",
	    "ndjson over 3 batches");
}

/* late writes a batch with column a, then one where b appears. */
static const char *
late(const char *format)
{
	struct tb *t = open_tb(format);

	tb_row(t); cell(t, "a", "1");
	tb_flush(t);
	tb_row(t); cell(t, "a", "2"); cell(t, "b", "\"x\"");
	tb_row(t); cell(t, "a", "3");
	return close_tb(t);
}

static void
test_late_column(void)
{
	is_str(late("ndjson"), "{\"a\":1}\n{\"a\":2,\"b\":\"x\"}\n{\"a\":3}\n", "ndjson: a late column is a key");
	is_str(late("json"), "[\n{\"a\":1},\n{\"a\":2,\"b\":\"x\"},\n{\"a\":3}\n]\n", "json: a late column is a key");
	is_str(late("csv"), "a\n1\n\na,b\n2,x\n3,\n", "csv: a late column starts a new header block");
	is_str(late("tsv"), "a\n1\n\na\tb\n2\tx\n3\t\n", "tsv: a late column starts a new header block");
	is_str(late("table"), "a\n1\n\na  b\n2  x\n3\n", "table: a late column starts a new header block");
	is_str(late("markdown"),
	    "| a |\n| ---: |\n| 1 |\n\n| a | b |\n| ---: | --- |\n| 2 | x |\n| 3 |  |\n",
	    "markdown: a late column starts a new table");
	is_str(late("html"),
	    "<table>\n<thead>\n<tr><th class=\"num\">a</th></tr>\n</thead>\n<tbody>\n"
	    "<tr><td class=\"num\">1</td></tr>\n"
	    "</tbody>\n<tbody>\n<tr><th class=\"num\">a</th><th>b</th></tr>\n"
	    "<tr><td class=\"num\">2</td><td>x</td></tr>\n"
	    "<tr><td class=\"num\">3</td><td></td></tr>\n"
	    "</tbody>\n</table>\n",
	    "html: a late column starts a new tbody with a header row");
}

/* ctl writes one cell (and a column name) full of control characters in a format. */
static const char *
ctl(const char *format)
{
	struct tb *t = open_tb(format);

	tb_row(t);
	cell(t, "c\x1b" "ol", "\"\\u001b[31mred\\u001b[0m\\t\\u0007\\u007f\\u009b|\\u202e\\n\"");
	return close_tb(t);
}

static void
test_control(void)
{
	const char *fmts[] = { "table", "markdown", "html" };
	const char *out;
	size_t i, j;
	int raw;

	is_str(ctl("table"),
	    "c\\u001bol\n"
	    "\\u001b[31mred\\u001b[0m\\t\\u0007\\u007f\\u009b|\\u202e\\n\n",
	    "table: ESC, TAB, BEL, DEL, C1 CSI, RLO and LF escaped, in names too");
	is_str(ctl("markdown"),
	    "| c\\u001bol |\n| --- |\n"
	    "| \\u001b\\[31mred\\u001b\\[0m\\t\\u0007\\u007f\\u009b\\|\\u202e\\n |\n",
	    "markdown: the same escapes, and [ ] | escaped");
	is_str(ctl("html"),
	    "<table>\n<thead>\n<tr><th>c\\u001bol</th></tr>\n</thead>\n<tbody>\n"
	    "<tr><td>\\u001b[31mred\\u001b[0m\\t\\u0007\\u007f\\u009b|\\u202e\\n</td></tr>\n"
	    "</tbody>\n</table>\n",
	    "html: the same escapes");
	for (i = 0; i < 3; i++) {
		out = ctl(fmts[i]);
		raw = 0;
		for (j = 0; out[j]; j++)
			if (((unsigned char)out[j] < 0x20 && out[j] != '\n') || out[j] == 0x7f ||
			    (unsigned char)out[j] == 0xc2 || (unsigned char)out[j] == 0xe2)
				raw = 1;
		ok(!raw, "%s: no control byte, C1 or bidi override reaches the output", fmts[i]);
	}
	/* Machine formats keep the data: CSV quotes the line break, TSV escapes it. */
	is_str(ctl("tsv"),
	    "c\x1bol\n\x1b[31mred\x1b[0m\\t\x07\x7f\xc2\x9b|\xe2\x80\xae\\n\n",
	    "tsv: tab and line feed escaped, other bytes kept");
	is_str(ctl("csv"),
	    "c\x1bol\n\"\x1b[31mred\x1b[0m\t\x07\x7f\xc2\x9b|\xe2\x80\xae\n\"\n",
	    "csv: the field with a line feed is quoted, bytes kept");
}

static void
test_escapes(void)
{
	struct tb *t;

	t = open_tb("csv");
	tb_row(t);
	cell(t, "e", "\"\"");
	cell(t, "n", "null");
	cell(t, "s", "\" pad\"");
	cell(t, "q", "\"x\\\"y\"");
	cell(t, "o", "{\"k\":[1,2]}");
	cell(t, "b", "true");
	cell(t, "r", "\"a\\r\\nb\"");
	is_str(close_tb(t),
	    "e,n,s,q,o,b,r\n\"\",,\" pad\",\"x\"\"y\",\"{\"\"k\"\":[1,2]}\",true,\"a\r\nb\"\n",
	    "csv: \"\" for the empty string, empty for null, spaces and CRLF quoted, objects as JSON");

	t = open_tb("tsv");
	tb_row(t);
	cell(t, "a\tb", "\"back\\\\slash\\ttab\"");
	cell(t, "n", "null");
	is_str(close_tb(t), "a\\tb\tn\nback\\\\slash\\ttab\t\n", "tsv: \\ and tab escaped in names and cells");

	t = open_tb("markdown");
	tb_row(t);
	cell(t, "snake_case", "\"a|b *c* `d` <e> [f] ~g~ &h _i_ j_k x\\\\y\"");
	is_str(close_tb(t),
	    "| snake_case |\n| --- |\n"
	    "| a\\|b \\*c\\* \\`d\\` \\<e\\> \\[f\\] \\~g\\~ \\&h \\_i\\_ j_k x\\\\y |\n",
	    "markdown: | and emphasis escaped; an _ inside a word kept");

	t = open_tb("html");
	tb_row(t);
	cell(t, "<b>", "\"<script>alert('x') & \\\"y\\\"</script>\"");
	is_str(close_tb(t),
	    "<table>\n<thead>\n<tr><th>&lt;b&gt;</th></tr>\n</thead>\n<tbody>\n"
	    "<tr><td>&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;</td></tr>\n"
	    "</tbody>\n</table>\n",
	    "html: & < > \" ' escaped in names and cells");

	t = open_tb("table");
	tb_row(t);
	cell(t, "s", "\"\\ud83d\\ude00 \\ud800 x\\/y\"");
	cell(t, "bad", "\"\xff\"");
	is_str(close_tb(t), "s         bad\n\xf0\x9f\x98\x80 \xef\xbf\xbd x/y  \\xff\n",
	    "table: a surrogate pair decoded, a lone one U+FFFD, a stray byte \\xff");
}

static void
test_wide(void)
{
	struct tb *t;

	is_int(tb_text_width("abc", 3), 3, "ASCII: one column each");
	is_int(tb_text_width("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 9), 6, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e: CJK ideographs are wide");
	is_int(tb_text_width("e\xcc\x81", 3), 1, "e + U+0301: a combining acute adds nothing");
	is_int(tb_text_width("\xef\xbc\xa1", 3), 2, "U+FF21 fullwidth A is wide");
	is_int(tb_text_width("\xef\xbd\xb1", 3), 1, "U+FF71 halfwidth katakana is narrow");
	is_int(tb_text_width("\xed\x95\x9c", 3), 2, "U+D55C Hangul syllable is wide");
	is_int(tb_text_width("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab", 9), 2, "conjoining jamo: only the initial takes room");
	is_int(tb_text_width("\xe2\x80\x8b", 3), 0, "U+200B zero width space");
	is_int(tb_text_width("\xef\xb8\x8f", 3), 0, "U+FE0F variation selector");
	is_int(tb_text_width("\xc2\xad", 2), 1, "U+00AD soft hyphen shows");
	is_int(tb_text_width("\xf0\x9f\x98\x80", 4), 2, "U+1F600 emoji is wide");
	is_int(tb_text_width("\xe2\x96\x88", 3), 1, "U+2588 full block (ambiguous) is narrow");
	is_int(tb_text_width("\xe3\x80\x80", 3), 2, "U+3000 ideographic space is fullwidth");
	is_int(tb_text_width("\xe4\xb7\x80", 3), 1, "U+4DC0 hexagram (between CJK blocks) is narrow");
	is_int(tb_text_width("\xf0\xa0\x80\x80", 4), 2, "U+20000 (plane 2) is wide");
	is_int(tb_text_width("\xe3\x82\x99", 3), 0, "U+3099 combining kana mark inside a wide block is zero");
	is_int(tb_text_width("\xff" "a", 2), 2, "a stray byte counts 1");
	is_int(tb_text_width("\xe6\x97", 2), 2, "a truncated sequence counts a column per byte");
	is_int(tb_text_width("\xc0\xaf", 2), 2, "an overlong form is not UTF-8");
	is_int(tb_text_width("\xed\xa0\x80", 3), 3, "a surrogate is not UTF-8");

	t = open_tb("table");
	tb_row(t); cell(t, "name", "\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\""); tb_cell_int(t, "n", 1);
	tb_row(t); cell(t, "name", "\"e\xcc\x81\""); tb_cell_int(t, "n", 2);
	tb_row(t); cell(t, "name", "\"\xef\xbc\xa1\xef\xbc\xa2\""); tb_cell_int(t, "n", 3);
	tb_row(t); cell(t, "name", "\"\xed\x95\x9c\xea\xb5\xad\""); tb_cell_int(t, "n", 4);
	tb_row(t); cell(t, "name", "\"abc\""); tb_cell_int(t, "n", 5);
	tb_row(t); cell(t, "name", "\"a\\u200bb\""); tb_cell_int(t, "n", 6);
	tb_row(t); cell(t, "name", "\"x\""); cell(t, "\xe5\x90\x8d", "\"\xe5\x80\xa4\"");
	is_str(close_tb(t),
	    /* The widest name, 日本語, takes 6 columns. */
	    "name    n  \xe5\x90\x8d\n"
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e  1\n"
	    "e\xcc\x81       2\n"
	    "\xef\xbc\xa1\xef\xbc\xa2    3\n"
	    "\xed\x95\x9c\xea\xb5\xad    4\n"
	    "abc     5\n"
	    "a\xe2\x80\x8b" "b      6\n"
	    "x          \xe5\x80\xa4\n",
	    "table: CJK, fullwidth, Hangul, combining and zero-width text aligned");
}

static void
test_cells(void)
{
	struct tb *t;
	const char *bad[] = { "", "01", "1 ", " 1", "+1", "1.", "abc", "\"abc", "\"a\\\"", "nul",
	    "nulls", "tru", "[1", "{", "-", "1e", "NaN" };
	size_t i;

	t = open_tb("ndjson");
	tb_row(t);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ok(tb_cell(t, "bad", bad[i], strlen(bad[i])) == -1 && errno == EINVAL,
		    "'%s' is not a cell's JSON text: EINVAL", bad[i]);
	}
	is_int(tb_ncolumns(t), 0, "a rejected cell adds no column");
	ok(cell(t, "ok", "\"a\\\\\"") == 0, "a string ending in an escaped backslash is fine");
	ok(cell(t, "neg", "-0.0e+1") == 0, "a number with sign, fraction and exponent is fine");
	tb_cell_str(t, "s", "caf\xc3\xa9 \xff\"", 8);
	tb_cell_int(t, "i", INT64_MIN);
	tb_cell_real(t, "r", 0.1);
	tb_cell_real(t, "nan", NAN);
	tb_cell_null(t, "z");
	cell(t, "ok", "2");	/* a second cell of a column replaces the first */
	is_int(tb_ncolumns(t), 7, "seven columns");
	is_str(tb_column_name(t, 2), "s", "column 3 is s");
	ok(tb_column_name(t, 7) == NULL, "no column 8");
	is_int(tb_pending(t), 1, "one row pending");
	is_str(close_tb(t),
	    "{\"ok\":2,\"neg\":-0.0e+1,\"s\":\"caf\xc3\xa9 \xef\xbf\xbd\\\"\",\"i\":-9223372036854775808,"
	    "\"r\":0.1,\"nan\":null,\"z\":null}\n",
	    "typed cells: strings escaped, bad bytes U+FFFD, shortest reals, NaN null; the last cell of a column wins");

	/* ndjson without sort keys or top writes a row once the next one starts; with a key it waits. */
	t = open_tb("ndjson");
	tb_cell_int(t, "a", 1);
	tb_cell_int(t, "a", 2);
	tb_row(t);
	tb_cell_int(t, "a", 3);
	tb_row(t);
	is_int(tb_written(t), 2, "ndjson streams: two rows written when the third starts");
	is_int(tb_pending(t), 1, "and only the new row is pending");
	fflush(mf);
	is_int(memlen, 0, "still in the table's buffer, not yet handed to out");
	tb_cell_int(t, "a", 4);
	ok(tb_flush(t) == 0, "a flush");
	fflush(mf);
	is_int(memlen, 24, "hands every row to out before returning");
	is_str(close_tb(t), "{\"a\":2}\n{\"a\":3}\n{\"a\":4}\n", "the rows as they came, the last cell of a column winning");
	t = open_tb("ndjson");
	tb_sort(t, "a", true);
	tb_cell_int(t, "a", 1);
	tb_row(t);
	tb_cell_int(t, "a", 2);
	tb_row(t);
	is_int(tb_written(t), 0, "with a sort key nothing is written before the flush");
	is_int(tb_pending(t), 3, "three rows pending");
	is_str(close_tb(t), "{\"a\":2}\n{\"a\":1}\n{}\n", "sorted; the empty row (no cell: null) last");

	/* A cell without tb_row starts a row; so does one after a flush. */
	t = open_tb("csv");
	tb_cell_int(t, "a", 1);
	tb_flush(t);
	tb_cell_int(t, "a", 2);
	tb_row(t);
	tb_row(t);
	tb_cell_int(t, "a", 3);
	is_str(close_tb(t), "a\n1\n2\n\n3\n", "cells open rows; an empty row is an empty line");

	/* Declared columns keep their place and head an empty table. */
	t = open_tb("csv");
	is_int(tb_column(t, "x"), 0, "x is column 0");
	is_int(tb_column(t, "y"), 1, "y is column 1");
	is_int(tb_column(t, "x"), 0, "declaring x again finds it");
	is_str(close_tb(t), "x,y\n", "csv: an empty table with declared columns is its header");
	t = open_tb("table");
	tb_column(t, "x");
	tb_column(t, "yy");
	is_str(close_tb(t), "x  yy\n", "table: the same");
	t = open_tb("markdown");
	tb_column(t, "x");
	is_str(close_tb(t), "| x |\n| --- |\n", "markdown: the same");
	t = open_tb("csv");
	tb_column(t, "b");
	tb_row(t); cell(t, "a", "1"); cell(t, "b", "2");
	is_str(close_tb(t), "b,a\n2,1\n", "a declared column comes first");
	t = open_tb("json");
	is_str(close_tb(t), "[]\n", "json: an empty table is []");
	t = open_tb("html");
	is_str(close_tb(t), "<table>\n<tbody>\n</tbody>\n</table>\n", "html: an empty table is an empty <table>");
	t = open_tb("csv");
	is_str(close_tb(t), "", "csv: no columns, no rows, no output");
	t = open_tb("ndjson");
	is_str(close_tb(t), "", "ndjson: nothing");

	/* tb_end twice. */
	t = open_tb("json");
	ok(tb_end(t) == 0, "tb_end succeeds");
	ok(tb_end(t) == 0, "a second tb_end returns the same");
	is_str(close_tb(t), "[]\n", "and writes nothing more");
}

/* ---- 10^5 rows against qsort of an independent copy ---- */

struct mirror {
	long	id;
	int	k1kind;		/* 0 absent, 1 null, 2 number */
	long	k1;
	int	k2kind;		/* 0 absent, 1 string */
	char	k2[8];
	double	k3;
};

/* mcmp is the order "k1:desc,k2,k3" written again from the contract: nulls last, ties by id. */
static int
mcmp(const void *pa, const void *pb)
{
	const struct mirror *a = pa, *b = pb;
	int r;

	if ((a->k1kind == 2) != (b->k1kind == 2))
		return a->k1kind == 2 ? -1 : 1;
	if (a->k1kind == 2 && a->k1 != b->k1)
		return a->k1 > b->k1 ? -1 : 1;
	if (a->k2kind != b->k2kind)
		return a->k2kind ? -1 : 1;
	if (a->k2kind && (r = strcmp(a->k2, b->k2)) != 0)
		return r;
	if (a->k3 != b->k3)
		return a->k3 < b->k3 ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

static void
test_big(void)
{
	enum { N = 100000 };
	struct mirror *m = xcalloc(N, sizeof(*m));
	struct tb *t;
	const char *out, *p;
	char v[64];
	size_t i, bad = 0, lines = 0;
	unsigned long long x = 88172645463325252ULL;

	t = open_tb("ndjson");
	ok(tb_sort_spec(t, "k1:desc,k2,k3", NULL) == 0, "three sort keys");
	tb_column(t, "id");
	for (i = 0; i < N; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		m[i].id = (long)i;
		m[i].k1kind = (int)(x % 7 == 0 ? 0 : x % 7 == 1 ? 1 : 2);
		m[i].k1 = (long)((x >> 8) % 50) - 25;
		m[i].k2kind = (x >> 20) % 5 != 0;
		snprintf(m[i].k2, sizeof m[i].k2, "%c%c", 'a' + (int)((x >> 24) % 26), 'a' + (int)((x >> 30) % 3));
		m[i].k3 = (double)((x >> 34) % 1000) / 8.0;
		tb_row(t);
		tb_cell_int(t, "id", m[i].id);
		if (m[i].k1kind == 1)
			tb_cell_null(t, "k1");
		else if (m[i].k1kind == 2)
			tb_cell_int(t, "k1", m[i].k1);
		if (m[i].k2kind)
			tb_cell_str(t, "k2", m[i].k2, strlen(m[i].k2));
		tb_cell_real(t, "k3", m[i].k3);
		snprintf(v, sizeof v, "\"padding to grow the byte buffer %zu\"", i);
		cell(t, "pad", v);
	}
	is_int(tb_pending(t), N, "10^5 rows pending");
	qsort(m, N, sizeof(*m), mcmp);
	out = close_tb(t);
	for (p = out, i = 0; *p; i++) {
		if (strncmp(p, "{\"id\":", 6) != 0 || i >= N || strtol(p + 6, NULL, 10) != m[i].id)
			bad++;
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
		lines++;
	}
	is_int(lines, N, "10^5 lines written");
	is_int(bad, 0, "every row where qsort of the independent copy puts it");
	free(m);

	/* The same size through the aligned writer: widths over the whole batch. */
	t = open_tb("table");
	for (i = 0; i < N; i++) {
		tb_row(t);
		tb_cell_int(t, "n", (int64_t)i);
	}
	out = close_tb(t);
	is_int(strlen(out), 6 * (N + 1), "table: 10^5 numbers padded to the widest (99999), one header");
	ok(strncmp(out, "    n\n    0\n    1\n", 18) == 0, "right-aligned under the name");
}

static void
test_write_errors(void)
{
	struct tb *t;
	FILE *f;
	int i, r;

	if ((f = fopen("/dev/full", "w")) == NULL) {
		ok(1, "# skip no /dev/full");
		return;
	}
	t = tb_new(tb_format("csv"), f);
	tb_row(t);
	cell(t, "a", "1");
	ok(tb_flush(t) == 0, "a small batch fits stdio's buffer");
	ok(tb_end(t) == 0, "so does its end: tb_end does not flush a stream it borrows");
	errno = 0;
	r = fflush(f);
	ok(r == EOF && errno == ENOSPC && ferror(f), "the owner's final fflush reports ENOSPC");
	tb_free(t);
	fclose(f);

	f = fopen("/dev/full", "w");
	t = tb_new(tb_format("table"), f);
	for (i = 0; i < 20000; i++) {
		tb_row(t);
		tb_cell_int(t, "n", i);
	}
	errno = 0;
	r = tb_flush(t);
	ok(r == -1 && errno == ENOSPC, "tb_flush of a large batch on /dev/full: -1 with ENOSPC (got %d, %s)",
	    r, strerror(errno));
	ok(ferror(f), "the error is also in ferror");
	tb_row(t);
	tb_cell_int(t, "n", 1);
	errno = 0;
	ok(tb_flush(t) == -1 && errno == ENOSPC, "the error is sticky for later batches");
	is_int(tb_pending(t), 0, "their rows are dropped");
	errno = 0;
	ok(tb_end(t) == -1 && errno == ENOSPC, "and for tb_end");
	errno = 0;
	ok(tb_end(t) == -1 && errno == ENOSPC, "and for a second tb_end");
	tb_free(t);
	fclose(f);
}

/* rounded returns tb_round_text's text for s at n digits, or "ERR". */
static const char *
rounded(const char *s, unsigned n)
{
	static struct buf b;

	buf_reset(&b);
	if (tb_round_text(&b, s, strlen(s), n) != 0)
		return "ERR";
	return buf_cstr(&b);
}

static void
test_round(void)
{
	struct tb *t;

	is_str(rounded("2.675", 2), "2.68", "2.675 is 2.68: the decimal text is rounded, not the double below it");
	is_str(rounded("0.125", 2), "0.13", "a tie goes away from zero");
	is_str(rounded("-0.125", 2), "-0.13", "also below zero");
	is_str(rounded("9.995", 2), "10.00", "a carry adds a digit");
	is_str(rounded("-0.004", 2), "0.00", "a zero result has no sign");
	is_str(rounded("0.5", 0), "1", "0 digits: no point");
	is_str(rounded("0.49999", 0), "0", "0.49999 is 0");
	is_str(rounded("1.5e-7", 8), "0.00000015", "an exponent below");
	is_str(rounded("1.5E+3", 1), "1500.0", "an exponent above");
	is_str(rounded("12", 2), "12.00", "an integer text is padded (tb_round keeps integers as they are)");
	is_str(rounded("1e+2000", 2), "1e+2000", "a number past 10^1000 is kept");
	is_str(rounded("\"1.5\"", 2), "ERR", "a string is not a number");
	is_str(rounded("1.5x", 2), "ERR", "nor is 1.5x");
	is_str(rounded("1e", 2), "ERR", "nor 1e");
	is_str(rounded("1.5", 1001), "ERR", "more than 1000 digits is refused");
	is_str(rounded("0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000005", 86),
	    "0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000001",
	    "a text longer than the small buffer");

	t = open_tb("ndjson");
	tb_round(t, "m", 1);
	tb_sort(t, "m", true);
	tb_row(t); cell(t, "k", "1.25"); cell(t, "m", "1.25"); cell(t, "n", "0.5");
	tb_row(t); cell(t, "k", "2"); cell(t, "m", "2"); cell(t, "n", "7");
	tb_row(t); cell(t, "k", "3"); cell(t, "m", "1.26"); cell(t, "n", "0.5");
	is_str(close_tb(t), "{\"k\":2,\"m\":2,\"n\":7}\n{\"k\":3,\"m\":1.3,\"n\":0.5}\n"
	    "{\"k\":1.25,\"m\":1.3,\"n\":0.5}\n",
	    "tb_round: only its column's reals are rounded, and rows sort by the exact values");
	t = open_tb("csv");
	tb_round(t, "m", 2);
	tb_row(t); cell(t, "m", "-0.001"); cell(t, "n", "-0.001");
	is_str(close_tb(t), "m,n\n0.00,-0.001\n", "tb_round in csv");
}

int
main(void)
{
	test_lookup();
	test_formats();
	test_sort();
	test_top();
	test_batches();
	test_late_column();
	test_control();
	test_escapes();
	test_wide();
	test_cells();
	test_big();
	test_write_errors();
	test_round();
	tb_free(NULL);
	return tap_done();
}
