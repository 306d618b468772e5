/*
 * libFuzzer target for lib/formats: every reader on arbitrary bytes.  The
 * first byte picks the format and the options; the rest is split into
 * lines.  What a reader calls a record must be one JSON object (jansson
 * agrees), and a rejection must say why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "formats.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum fmt_kind kinds[] = { FMT_CSV, FMT_TSV, FMT_LOGFMT, FMT_CLF, FMT_COMBINED };
	struct fmt_opts o = { .delim = "," };
	struct fmt_reader *r;
	struct buf out = BUF_INIT, acc = BUF_INIT;
	const char *s, *e, *end;
	enum fmt_result res;
	json_t *j;

	if (size == 0)
		return 0;
	o.infer = data[0] & 8;
	o.delim = data[0] & 16 ? ";" : data[0] & 64 ? "|&|" : ",";
	o.header = data[0] & 32 ? "a,b,a," : NULL;
	r = fmt_new(kinds[data[0] % 5], &o);
	(void)fmt_detect((const char *)data + 1, size - 1);
	end = (const char *)data + size;
	for (s = (const char *)data + 1; s < end; s = e + 1) {
		e = memchr(s, '\n', (size_t)(end - s));
		if (e == NULL)
			e = end;
		if (acc.len > 0)
			buf_addc(&acc, '\n');
		buf_add(&acc, s, (size_t)(e - s));
		res = fmt_parse(r, acc.p, acc.len, &out);
		if (res == FMT_MORE)
			continue;
		if (res == FMT_RECORD) {
			j = json_loadb(out.p, out.len, 0, NULL);
			if (j == NULL || !json_is_object(j))
				abort();
			json_decref(j);
		} else if (res == FMT_BAD && fmt_why(r)[0] == '\0')
			abort();
		buf_reset(&acc);
	}
	fmt_free(r);
	buf_free(&out);
	buf_free(&acc);
	return 0;
}
