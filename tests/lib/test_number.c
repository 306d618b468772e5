/* Unit tests of rec_number: the one JSON number grammar the tools share. */
#include <math.h>

#include "record.h"
#include "tap.h"

static enum rec_type
num(const char *s, struct rec_val *v)
{
	return rec_number(s, strlen(s), v);
}

int
main(void)
{
	struct rec_val v;

	is_int(num("42", &v), RT_INT, "an integer");
	is_int(v.i, 42, "its value");
	is_int(num("-9223372036854775808", &v), RT_INT, "INT64_MIN is an int");
	ok(v.i == INT64_MIN, "exactly");
	is_int(num("9223372036854775808", &v), RT_REAL, "past int64 is a real");
	ok(v.d == 9223372036854775808.0 && v.rawlen == 19, "with its digits kept in raw");
	is_int(num("57.12", &v), RT_REAL, "a fraction");
	ok(v.d == 57.12, "correctly rounded");
	is_int(num("6.8581834E7", &v), RT_REAL, "an exponent");
	ok(v.d == 68581834.0, "its value");
	is_int(num("-0.5e-3", &v), RT_REAL, "negative with a negative exponent");
	ok(v.d == -0.0005, "its value");
	is_int(num("1e-400", &v), RT_REAL, "underflow is zero, as in a record");
	ok(v.d == 0.0, "zero");
	is_int(num("1e400", &v), RT_MISSING, "overflow is refused, as in a record");
	is_int(num("", &v), RT_MISSING, "empty");
	is_int(num("007", &v), RT_MISSING, "leading zero");
	is_int(num("+1", &v), RT_MISSING, "a plus sign");
	is_int(num("1.", &v), RT_MISSING, "no digit after the point");
	is_int(num(".5", &v), RT_MISSING, "no digit before the point");
	is_int(num(" 5", &v), RT_MISSING, "leading space");
	is_int(num("5 ", &v), RT_MISSING, "trailing space");
	is_int(num("1e", &v), RT_MISSING, "an empty exponent");
	is_int(num("0x10", &v), RT_MISSING, "hex");
	is_int(num("NaN", &v), RT_MISSING, "NaN");
	is_int(num("\"5\"", &v), RT_MISSING, "a JSON string is not a number");
	is_int(rec_number("12345", 3, &v), RT_INT, "only len bytes are read");
	is_int(v.i, 123, "123");
	return tap_done();
}
