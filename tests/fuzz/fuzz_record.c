/* fuzz_record: libFuzzer target feeding the same bytes to lib/record's scanner and to jansson; aborts on any disagreement. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/record_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct oracle o;
	struct rec_val v;
	struct buf b = BUF_INIT;
	int64_t t;
	int acc;

	if (o.r == NULL)
		o.r = rec_new();
	/*
	 * data is exactly size bytes: ASan catches any read past the line.
	 * The oracle also checks rec_emit with and without edits.
	 */
	if (oracle_check(&o, (const char *)data, size, &acc) != 0) {
		fprintf(stderr, "fuzz_record: disagreement: %s\n", o.why);
		abort();
	}
	if (acc) {
		rec_root(o.r, &v);
		rec_val_canon(o.r, &v, &b);
		(void)rec_is_watermark(o.r, &t);
		buf_free(&b);
	}
	return 0;
}
