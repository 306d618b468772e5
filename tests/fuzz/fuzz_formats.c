/*
 * libFuzzer target for lib/formats: every reader on arbitrary bytes.  The
 * first byte picks the format, the second the options; the rest is split
 * into lines.  What a reader calls a record must be one JSON object
 * (jansson agrees), and a rejection must say why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "formats.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(struct fmt_reader *r, enum fmt_result res, const struct buf *out)
{
	json_t *j;

	if (res == FMT_RECORD) {
		j = json_loadb(out->p, out->len, 0, NULL);
		if (j == NULL || !json_is_object(j))
			abort();
		json_decref(j);
	} else if (res == FMT_BAD && fmt_why(r)[0] == '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum fmt_kind kinds[] = { FMT_CSV, FMT_TSV, FMT_LOGFMT, FMT_CLF, FMT_COMBINED,
	    FMT_NGINX_TIMED, FMT_APACHE_TIMED, FMT_ZEEK, FMT_JSON, FMT_REGEX };
	struct fmt_opts o = { .delim = "," };
	struct fmt_reader *r;
	struct buf out = BUF_INIT, acc = BUF_INIT;
	const char *s, *e, *end;
	enum fmt_result res;
	enum fmt_kind kind;
	struct fmt_doc d;

	if (size < 2)
		return 0;
	kind = kinds[data[0] % (sizeof kinds / sizeof kinds[0])];
	o.infer = data[1] & 1;
	o.delim = data[1] & 2 ? ";" : data[1] & 4 ? "|&|" : ",";
	o.header = data[1] & 8 ? "a,b,a," : NULL;
	o.ragged = data[1] & 16;
	o.skip_comments = data[1] & 32;
	o.lenient = data[1] & 64;
	o.pattern = data[1] & 128 ? "^(?<a>\\w*)(?:,(?<b_int>-?\\d+))?(?<c_num>[\\d.e]*)(?<d>.*)$" :
	    "(?<x>\\S+)\\s+(?<y>.)";
	r = fmt_new(kind, &o);
	(void)fmt_detect((const char *)data + 2, size - 2);
	end = (const char *)data + size;
	for (s = (const char *)data + 2; s < end; s = e + 1) {
		e = memchr(s, '\n', (size_t)(end - s));
		if (e == NULL)
			e = end;
		if (kind == FMT_JSON) {
			/* Documents, not lines: each line once, then what else it holds. */
			res = fmt_parse(r, s, (size_t)(e - s), &out);
			for (;;) {
				check(r, res, &out);
				fmt_doc(r, &d);
				if (!d.more)
					break;
				res = fmt_parse_more(r, &out);
			}
			continue;
		}
		if (acc.len > 0)
			buf_addc(&acc, '\n');
		buf_add(&acc, s, (size_t)(e - s));
		res = fmt_parse(r, acc.p, acc.len, &out);
		if (res == FMT_MORE)
			continue;
		check(r, res, &out);
		buf_reset(&acc);
	}
	fmt_free(r);
	buf_free(&out);
	buf_free(&acc);
	return 0;
}
