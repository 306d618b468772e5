/*
 * libFuzzer target for lib/expr: compile arbitrary bytes as a filter
 * expression and, when they compile, evaluate them against a few records.
 * Checks that a failure always carries a reason and a column inside the
 * source, that a success keeps its source, and that expr_eval (--set)
 * either writes JSON that parses or gives a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "expr.h"
#include "record.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const recs[] = {
		"{\"value\":57.12,\"n\":3,\"page\":\"products\",\"user\":{\"id\":\"u1\",\"tags\":[\"a\",1,null]}}",
		"{\"value\":\"x\",\"n\":9223372036854775807,\"page\":null,\"a\":[[],{}],\"b\":-1e308}",
		"{}",
	};
	static struct rec *r, *w;
	struct buf out = BUF_INIT;
	const char *why;
	struct expr_err err;
	struct expr *x;
	char *src;
	size_t i, chars = 0;

	if (r == NULL) {
		r = rec_new();
		w = rec_new();
	}
	src = malloc(size + 1);
	memcpy(src, data, size);
	src[size] = '\0';
	for (i = 0; src[i] != '\0'; i++)
		if (((unsigned char)src[i] & 0xC0) != 0x80)
			chars++;
	x = expr_compile(src, &err);
	if (x == NULL) {
		if (err.text[0] == '\0' || err.column < 1 || err.column > chars + 1)
			abort();
	} else {
		if (strcmp(expr_src(x), src) != 0)
			abort();
		for (i = 0; i < sizeof recs / sizeof recs[0]; i++) {
			if (rec_parse(r, recs[i], strlen(recs[i]), NULL) != 0)
				abort();
			if (expr_test(x, r) != expr_test(x, r))
				abort();
			/* The value --set would write is one JSON value: {"v":VALUE} parses. */
			buf_reset(&out);
			buf_adds(&out, "{\"v\":");
			if (expr_eval(x, r, &out, &why) == 0) {
				buf_addc(&out, '}');
				if (rec_parse(w, out.p, out.len, NULL) != 0)
					abort();
			} else if (why == NULL || why[0] == '\0')
				abort();
		}
		expr_free(x);
	}
	buf_free(&out);
	free(src);
	return 0;
}
