/*
 * libFuzzer target for lib/timeval: every time format and the duration
 * parser on arbitrary bytes, checking the properties the tools rely on.
 * The first byte picks the format.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "timeval.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fmts[] = {
		"auto", "iso", "epoch_s", "epoch_ms", "epoch_us", "epoch_ns", "clf",
		"%Y-%m-%d %H:%M:%S.%f%z", "%d/%b/%Y:%H:%M:%S %z",
	};
	struct tv_format f;
	const char *s = (const char *)data + 1, *why = NULL;
	char buf[TV_BUFSZ], z[256];
	int64_t t, back, d;
	size_t n;

	if (size == 0)
		return 0;
	tv_format_parse(fmts[data[0] % (sizeof(fmts) / sizeof(fmts[0]))], &f);
	if (tv_parse(&f, s, size - 1, &t, &why) == 0) {
		if (t == TV_MIN || t == TV_MAX)
			abort();
		/* Every time that formats in 0000-9999 reads back as itself. */
		n = tv_format_rfc3339(t, buf);
		if (buf[0] >= '0' && buf[0] <= '9' &&
		    (tv_parse(NULL, buf, n, &back, NULL) != 0 || back != t))
			abort();
	} else if (why == NULL || why[0] == '\0')
		abort();
	if (size - 1 < sizeof(z)) {
		memcpy(z, s, size - 1);
		z[size - 1] = '\0';
		why = NULL;
		if (tv_duration(z, &d, &why) == 0) {
			/* A parsed duration formats to text that parses to the same value. */
			tv_format_duration(d, buf);
			if (tv_duration(buf, &back, NULL) != 0 || back != d)
				abort();
		} else if (why == NULL || why[0] == '\0')
			abort();
	}
	return 0;
}
