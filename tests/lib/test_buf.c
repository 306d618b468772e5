/* Unit tests of lib/buf: the JSON writers, shortest reals, UTF-8 checks and base64. */
#include <math.h>
#include <stdlib.h>

#include "buf.h"
#include "tap.h"

static const char *
real(double d)
{
	static char t[48];
	real_shortest(t, d);
	return t;
}

static const char *
str(const char *s, size_t n)
{
	static struct buf b;
	buf_reset(&b);
	jw_str(&b, s, n);
	return buf_cstr(&b);
}

static const char *
b64(const char *s, size_t n)
{
	static struct buf b;
	buf_reset(&b);
	jw_b64(&b, s, n);
	return buf_cstr(&b);
}

int
main(void)
{
	struct buf b = BUF_INIT;
	int i;
	double d;

	/* b64_decode gives back what jw_b64 wrote, for every length modulo 3 and every byte. */
	{
		unsigned char in[300], out[300];
		size_t n;
		long got;
		int same = 1;

		for (n = 0; n < sizeof(in); n++)
			in[n] = (unsigned char)(n * 37 + 11);
		for (n = 0; n <= 256 && same; n++) {
			buf_reset(&b);
			jw_b64(&b, in, n);
			/* jw_b64 writes a JSON string: decode what is between the quotes. */
			got = b64_decode(b.p + 1, b.len - 2, out);
			same = got == (long)n && memcmp(in, out, n) == 0;
		}
		ok(same, "b64_decode inverts jw_b64 for 0..256 bytes");
		is_int(b64_decode("ab$d", 4, out), -1, "b64_decode refuses a byte that is not base64");
		is_int(b64_decode("YQ==", 4, out), 1, "padding ends the data");
		buf_reset(&b);
	}
	is_str(real(0.1), "0.1", "0.1 is written shortest");
	is_str(real(1.0 / 3), "0.3333333333333333", "1/3 needs 16 digits");
	is_str(real(32.807673915), "32.807673915", "a value keeps its digits");
	is_str(real(3), "3.0", "a whole real keeps .0");
	is_str(real(-2.5), "-2.5", "negative");
	is_str(real(117530), "117530.0", "plain notation for ordinary magnitudes");
	is_str(real(1e21), "1e+21", "exponent past 1e17");
	is_str(real(1.5e-7), "1.5e-07", "exponent below 1e-6");
	is_str(real(0.000123), "0.000123", "small plain");
	is_str(real(0), "0.0", "zero");
	is_str(real(-0.0), "-0.0", "negative zero");
	is_str(real(NAN), "null", "NaN is null");
	is_str(real(INFINITY), "null", "infinity is null");
	is_str(real(1e16 + 2), "10000000000000002.0", "large integral double");
	is_str(real(5e-324), "5e-324", "smallest subnormal");
	is_str(real(1.7976931348623157e308), "1.7976931348623157e+308", "largest double");
	/* Every written real reads back as the same double. */
	srand(7);
	for (i = 0; i < 100000; i++) {
		unsigned long long bits = ((unsigned long long)rand() << 42) ^
		    ((unsigned long long)rand() << 21) ^ (unsigned long long)rand();
		memcpy(&d, &bits, sizeof d);
		if (!isfinite(d))
			continue;
		if (strtod(real(d), NULL) != d)
			break;
	}
	is_int(i, 100000, "100000 random doubles round-trip");

	is_str(str("plain", 5), "\"plain\"", "plain string");
	is_str(str("a\"b\\c", 5), "\"a\\\"b\\\\c\"", "quote and backslash");
	is_str(str("\n\t\r\b\f", 5), "\"\\n\\t\\r\\b\\f\"", "short escapes");
	is_str(str("\x01\x1f", 2), "\"\\u0001\\u001f\"", "control bytes as \\u");
	is_str(str("x\0y", 3), "\"x\\u0000y\"", "NUL as \\u0000");
	is_str(str("caf\xc3\xa9", 5), "\"caf\xc3\xa9\"", "UTF-8 kept as is");
	is_str(str("a\xffz", 3), "\"a\xef\xbf\xbdz\"", "a bad byte becomes U+FFFD");

	ok(utf8_valid("caf\xc3\xa9", 5), "valid UTF-8");
	ok(!utf8_valid("\xc0\xaf", 2), "overlong rejected");
	ok(!utf8_valid("\xed\xa0\x80", 3), "surrogate rejected");
	ok(!utf8_valid("\xf4\x90\x80\x80", 4), "past U+10FFFF rejected");
	ok(!utf8_valid("\xe2\x82", 2), "truncated rejected");
	ok(utf8_valid("\xf0\x9f\x98\x80", 4), "4-byte emoji accepted");

	is_str(b64("", 0), "\"\"", "base64 of nothing");
	is_str(b64("f", 1), "\"Zg==\"", "base64 1 byte");
	is_str(b64("fo", 2), "\"Zm8=\"", "base64 2 bytes");
	is_str(b64("foo", 3), "\"Zm9v\"", "base64 3 bytes");
	is_str(b64("\xff\xfe{}", 4), "\"//57fQ==\"", "base64 binary");

	jw_int(&b, INT64_MIN);
	buf_addc(&b, ' ');
	jw_uint(&b, UINT64_MAX);
	is_str(buf_cstr(&b), "-9223372036854775808 18446744073709551615", "integer extremes");
	buf_reset(&b);
	jw_time(&b, 1710498225123000);
	is_str(buf_cstr(&b), "\"2024-03-15T10:23:45.123Z\"", "jw_time writes RFC 3339");
	buf_free(&b);
	return tap_done();
}
