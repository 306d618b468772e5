/* Unit tests of lib/timeval: parsing every time form, formatting, durations. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "timeval.h"

#define ERR	INT64_MIN	/* in the table: the row must fail with the reason given */

static const struct prow {
	enum tv_kind	 kind;
	const char	*strp;
	const char	*in;
	int64_t		 want;
	const char	*why;
} prows[] = {
	/* RFC 3339 / ISO 8601 */
	{ TV_AUTO, 0, "2024-03-15T10:23:45.123456", 1710498225123456, 0 },
	{ TV_AUTO, 0, "2024-03-15T10:23:45.123456Z", 1710498225123456, 0 },
	{ TV_AUTO, 0, "2024-03-15t10:23:45.123456z", 1710498225123456, 0 },
	{ TV_AUTO, 0, "2024-03-15 10:23:45.123456", 1710498225123456, 0 },
	{ TV_AUTO, 0, "2024-03-15T10:23:45,123456Z", 1710498225123456, 0 },
	{ TV_AUTO, 0, "2024-03-15T10:23:45.123456+05:30", 1710478425123456, 0 },
	{ TV_AUTO, 0, "2024-03-15T10:23:45.123456+0530", 1710478425123456, 0 },
	{ TV_AUTO, 0, "2024-03-15T10:23:45-07:00", 1710523425000000, 0 },
	{ TV_AUTO, 0, "2024-03-15T10:23:45-07", 1710523425000000, 0 },
	{ TV_AUTO, 0, "2024-03-15T10:23:45-0700", 1710523425000000, 0 },
	{ TV_AUTO, 0, "2024-03-15T10:23:45+00:00", 1710498225000000, 0 },
	{ TV_AUTO, 0, "2024-03-15T10:23:45-00:00", 1710498225000000, 0 },
	{ TV_AUTO, 0, "2024-03-15T10:23+02:00", 1710490980000000, 0 },
	{ TV_AUTO, 0, "2024-12-31T23:59:59.999999-23:59", 1735775939999999, 0 },
	{ TV_AUTO, 0, "2024-03-15T10:23:45.1Z", 1710498225100000, 0 },
	{ TV_AUTO, 0, "2024-03-15T10:23:45.123Z", 1710498225123000, 0 },
	{ TV_AUTO, 0, "2024-03-15T10:23:45.1234569999Z", 1710498225123456, 0 },
	{ TV_AUTO, 0, "2024-03-15T10:23:45.000000001Z", 1710498225000000, 0 },
	{ TV_AUTO, 0, "1969-12-31T23:59:59.999999Z", -1, 0 },
	{ TV_AUTO, 0, "1969-12-31T23:59:59.9999999Z", -1, 0 },
	{ TV_AUTO, 0, "1960-06-01T12:00:00.5Z", -302443199500000, 0 },
	{ TV_AUTO, 0, "1970-01-01T00:00:00Z", 0, 0 },
	{ TV_AUTO, 0, "0001-01-01T00:00:00Z", -62135596800000000, 0 },
	{ TV_AUTO, 0, "9999-12-31T23:59:59.999999Z", 253402300799999999, 0 },
	{ TV_AUTO, 0, "2024-03-15", 1710460800000000, 0 },
	{ TV_AUTO, 0, "2024-02-29", 1709164800000000, 0 },
	{ TV_AUTO, 0, "2000-02-29T23:59:59Z", 951868799000000, 0 },
	{ TV_AUTO, 0, "2024-03-15T10:23:60Z", 1710498239999999, 0 },
	{ TV_ISO, 0, "2024-03-15T10:23:45Z", 1710498225000000, 0 },
	/* ISO: errors */
	{ TV_AUTO, 0, "2023-02-29", ERR, "day out of range" },
	{ TV_AUTO, 0, "1900-02-29", ERR, "day out of range" },
	{ TV_AUTO, 0, "2100-02-29T00:00:00Z", ERR, "day out of range" },
	{ TV_AUTO, 0, "2024-04-31", ERR, "day out of range" },
	{ TV_AUTO, 0, "2024-01-00", ERR, "day out of range" },
	{ TV_AUTO, 0, "2024-13-01", ERR, "month out of range" },
	{ TV_AUTO, 0, "2024-00-01", ERR, "month out of range" },
	{ TV_AUTO, 0, "2024-03-15T24:00:00Z", ERR, "hour out of range" },
	{ TV_AUTO, 0, "2024-03-15T10:60:00Z", ERR, "minute out of range" },
	{ TV_AUTO, 0, "2024-03-15T10:23:61Z", ERR, "second out of range" },
	{ TV_AUTO, 0, "2024-03-15T10:23:45+24:00", ERR, "offset out of range" },
	{ TV_AUTO, 0, "2024-03-15T10:23:45+05:60", ERR, "offset out of range" },
	{ TV_AUTO, 0, "2024-03-15T10:23:45+5", ERR, "bad offset" },
	{ TV_AUTO, 0, "2024-03-15T10:23:45+05:3", ERR, "bad offset" },
	{ TV_AUTO, 0, "2024-03-15T10:23:45UTC", ERR, "bad offset" },
	{ TV_AUTO, 0, "2024-03-15T10:23:45.Z", ERR, "bad fraction" },
	{ TV_AUTO, 0, "2024-03-15T10:23:45Zjunk", ERR, "trailing characters" },
	{ TV_AUTO, 0, "2024-03-15T10:23:45Z ", ERR, "trailing characters" },
	{ TV_AUTO, 0, "2024-03-15x", ERR, "trailing characters" },
	{ TV_AUTO, 0, "2024-03-15T", ERR, "bad time" },
	{ TV_AUTO, 0, "2024-03-15T10", ERR, "bad time" },
	{ TV_AUTO, 0, "2024-03-15T10:2", ERR, "bad time" },
	{ TV_AUTO, 0, "2024-03-15T1:23:45Z", ERR, "bad time" },
	{ TV_AUTO, 0, "2024-3-15", ERR, "bad date" },
	{ TV_AUTO, 0, "24-03-15", ERR, "bad date" },
	{ TV_AUTO, 0, "2024/03/15", ERR, "bad date" },
	{ TV_ISO, 0, "1521911720", ERR, "bad date" },
	{ TV_AUTO, 0, "", ERR, "empty" },
	{ TV_ISO, 0, "", ERR, "empty" },
	{ TV_AUTO, 0, "garbage", ERR, "not a time" },
	{ TV_AUTO, 0, " 2024-03-15", ERR, "not a time" },
	{ TV_AUTO, 0, "-", ERR, "not a time" },
	{ TV_AUTO, 0, "1e", ERR, "bad date" },
	/* epoch numbers by magnitude */
	{ TV_AUTO, 0, "0", 0, 0 },
	{ TV_AUTO, 0, "1521911720", 1521911720000000, 0 },
	{ TV_AUTO, 0, "1521911720.865716", 1521911720865716, 0 },
	{ TV_AUTO, 0, "1521911720.8657169", 1521911720865716, 0 },
	{ TV_AUTO, 0, "1521911720.", 1521911720000000, 0 },
	{ TV_AUTO, 0, "-1", -1000000, 0 },
	{ TV_AUTO, 0, "-1.5", -1500000, 0 },
	{ TV_AUTO, 0, "-0.0000001", -1, 0 },
	{ TV_AUTO, 0, "-1521911720.8657169", -1521911720865717, 0 },
	{ TV_AUTO, 0, "1.5e9", 1500000000000000, 0 },
	{ TV_AUTO, 0, "15E8", 1500000000000000, 0 },
	{ TV_AUTO, 0, "1.521911720865716e+9", 1521911720865716, 0 },
	{ TV_AUTO, 0, "99999999999", 99999999999000000, 0 },		/* < 1e11: s */
	{ TV_AUTO, 0, "100000000000", 100000000000000, 0 },		/* 1e11: ms */
	{ TV_AUTO, 0, "1521911720865", 1521911720865000, 0 },
	{ TV_AUTO, 0, "1521911720865.7", 1521911720865700, 0 },
	{ TV_AUTO, 0, "99999999999999", 99999999999999000, 0 },	/* < 1e14: ms */
	{ TV_AUTO, 0, "100000000000000", 100000000000000, 0 },		/* 1e14: us */
	{ TV_AUTO, 0, "1521911720865716", 1521911720865716, 0 },
	{ TV_AUTO, 0, "99999999999999999", 99999999999999999, 0 },	/* < 1e17: us */
	{ TV_AUTO, 0, "100000000000000000", 100000000000000, 0 },	/* 1e17: ns */
	{ TV_AUTO, 0, "1521911720865716999", 1521911720865716, 0 },
	{ TV_AUTO, 0, "-1521911720865716999", -1521911720865717, 0 },
	{ TV_AUTO, 0, "-99999999999", -99999999999000000, 0 },
	{ TV_AUTO, 0, "-100000000000", -100000000000000, 0 },
	{ TV_AUTO, 0, "99999999999999999999999", ERR, "out of range" },
	/* forced epoch units */
	{ TV_EPOCH_S, 0, "1521911720865", 1521911720865000000, 0 },
	{ TV_EPOCH_S, 0, "15219117208650", ERR, "out of range" },
	{ TV_EPOCH_S, 0, "9223372036854.775806", 9223372036854775806, 0 },
	{ TV_EPOCH_S, 0, "9223372036854.775807", ERR, "out of range" },
	{ TV_EPOCH_S, 0, "-9223372036854.775807", -9223372036854775807, 0 },
	{ TV_EPOCH_S, 0, "-9223372036854.775808", ERR, "out of range" },
	{ TV_EPOCH_S, 0, "1e300", ERR, "out of range" },
	{ TV_EPOCH_S, 0, "1e-300", 0, 0 },
	{ TV_EPOCH_S, 0, "-1e-300", -1, 0 },
	{ TV_EPOCH_S, 0, "12", 12000000, 0 },
	{ TV_EPOCH_MS, 0, "12", 12000, 0 },
	{ TV_EPOCH_MS, 0, "1521911720865.716", 1521911720865716, 0 },
	{ TV_EPOCH_US, 0, "12", 12, 0 },
	{ TV_EPOCH_US, 0, "12.9", 12, 0 },
	{ TV_EPOCH_US, 0, "-12.1", -13, 0 },
	{ TV_EPOCH_NS, 0, "12999", 12, 0 },
	{ TV_EPOCH_NS, 0, "-1", -1, 0 },
	{ TV_EPOCH_S, 0, "2024-03-15", ERR, "not a number" },
	{ TV_EPOCH_MS, 0, "12ms", ERR, "not a number" },
	{ TV_EPOCH_S, 0, "+12", ERR, "not a number" },
	{ TV_EPOCH_S, 0, ".", ERR, "not a number" },
	/* CLF */
	{ TV_AUTO, 0, "10/Oct/2000:13:55:36 -0700", 971211336000000, 0 },
	{ TV_AUTO, 0, "[10/Oct/2000:13:55:36 -0700]", 971211336000000, 0 },
	{ TV_CLF, 0, "10/oct/2000:20:55:36 +0000", 971211336000000, 0 },
	{ TV_CLF, 0, "[10/Oct/2000:20:55:36]", 971211336000000, 0 },
	{ TV_CLF, 0, "[10/Oct/2000:20:55:36.5 +00:00]", 971211336500000, 0 },
	{ TV_CLF, 0, "29/Feb/2000:23:59:59 +0000", 951868799000000, 0 },
	{ TV_CLF, 0, "29/Feb/2001:23:59:59 +0000", ERR, "day out of range" },
	{ TV_CLF, 0, "10/Foo/2000:13:55:36 -0700", ERR, "bad month name" },
	{ TV_CLF, 0, "[10/Oct/2000:13:55:36 -0700", ERR, "unbalanced bracket" },
	{ TV_CLF, 0, "10/Oct/2000:13:55:36 -0700]", ERR, "unbalanced bracket" },
	{ TV_CLF, 0, "10/Oct/2000 13:55:36 -0700", ERR, "bad time" },
	{ TV_CLF, 0, "10/Oct/2000:13:55:36 -2400", ERR, "offset out of range" },
	{ TV_CLF, 0, "10/Oct/2000:13:55:36 -0700 x", ERR, "trailing characters" },
	{ TV_CLF, 0, "2024-03-15", ERR, "bad date" },
	/* strptime */
	{ TV_STRPTIME, "%d/%m/%Y %H:%M:%S", "15/03/2024 10:23:45", 1710498225000000, 0 },
	{ TV_STRPTIME, "%Y-%m-%d %H:%M:%S %z", "2021-01-02 03:04:05 +0100", 1609553045000000, 0 },
	{ TV_STRPTIME, "%Y-%m-%d %H:%M:%S %z", "2021-01-02 03:04:05 -0100", 1609560245000000, 0 },
	{ TV_STRPTIME, "%H:%M", "01:02", 3720000000, 0 },
	{ TV_STRPTIME, "%d/%m/%Y", "29/02/2023", ERR, "day out of range" },
	{ TV_STRPTIME, "%d/%m/%Y", "2023-02-28", ERR, "does not match format" },
	{ TV_STRPTIME, "%d/%m/%Y", "28/02/2023 x", ERR, "trailing characters" },
	{ TV_STRPTIME, "%d/%m/%Y", "", ERR, "empty" },
	{ TV_STRPTIME, "%Y-%m-%d %H:%M:%S.%f", "2024-03-15 10:23:45.123456", 1710498225123456, 0 },
	{ TV_STRPTIME, "%Y-%m-%d %H:%M:%S.%f", "2024-03-15 10:23:45.5", 1710498225500000, 0 },
	{ TV_STRPTIME, "%Y-%m-%d %H:%M:%S.%f", "2024-03-15 10:23:45.1234569", 1710498225123456, 0 },
	{ TV_STRPTIME, "%Y-%m-%d %H:%M:%S.%f%z", "2024-03-15 10:23:45.25+0100", 1710494625250000, 0 },
	{ TV_STRPTIME, "%Y-%m-%d %H:%M:%S.%f", "2024-03-15 10:23:45.", ERR, "does not match format" },
	{ TV_STRPTIME, "%Y-%m-%d %H:%M:%S.%f", "2024-03-15 10:23:45", ERR, "does not match format" },
	/* glibc reads a %Z name and ignores it: only %z moves the time. */
	{ TV_STRPTIME, "%Y-%m-%d %H:%M:%S %Z", "2024-03-15 10:23:45 PST", 1710498225000000, 0 },
	{ TV_STRPTIME, "%%%Y", "%2024", 1704067200000000, 0 },
	{ TV_STRPTIME, "%s.%f", "1521911720.5", 1521911720500000, 0 },
	{ TV_STRPTIME, "%Y-%m-%dT%H:%M:%S", "2024-03-15T10:23:60", 1710498239999999, 0 },
};

/* json_number says whether s is spelled as a number: -?digits[.digits][e[+-]digits]. */
static bool
json_number(const char *s)
{
	bool digit = false;

	if (*s == '-')
		s++;
	for (; (*s >= '0' && *s <= '9') || *s == '.'; s++)
		digit |= *s != '.';
	if (digit && (*s == 'e' || *s == 'E')) {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return digit && *s == '\0';
}

static void
test_parse_table(void)
{
	size_t n = sizeof(prows) / sizeof(prows[0]);

	ok(n >= 60, "the tv_parse table has %zu rows", n);
	for (size_t i = 0; i < n; i++) {
		const struct prow *r = &prows[i];
		struct tv_format f = { r->kind, r->strp };
		int64_t got = 12345;
		const char *why = NULL;
		/* An auto row that is a number is the text of a JSON number: epoch time. */
		bool number = r->kind == TV_AUTO && json_number(r->in);
		int rc = number ? tv_parse_number(&f, NULL, r->in, strlen(r->in), &got, &why) :
		    tv_parse(&f, r->in, strlen(r->in), &got, &why);

		if (r->want == ERR) {
			ok(rc == -1, "'%s' (kind %d) is rejected", r->in, r->kind);
			is_str(why, r->why, "'%s' is rejected as \"%s\"", r->in, r->why);
		} else {
			ok(rc == 0, "'%s' (kind %d) parses%s%s", r->in, r->kind,
			    rc ? ": " : "", rc ? why : "");
			is_int(got, r->want, "'%s' is %lld", r->in, (long long)r->want);
		}
	}
}

static void
test_parse_misc(void)
{
	const char *s = "2024-03-15T10:23:45Zgarbage";
	int64_t t;
	const char *why;

	ok(tv_parse_number(NULL, NULL, "0", 1, &t, NULL) == 0 && t == 0, "a NULL format is auto");
	ok(tv_parse(NULL, s, 20, &t, NULL) == 0 && t == 1710498225000000,
	    "the text need not be NUL-terminated");
	ok(tv_parse(NULL, "x", 1, &t, NULL) == -1, "why may be NULL");
	ok(tv_parse(NULL, "2024-03-15\0Z", 12, &t, &why) == -1, "an embedded NUL is junk");
	is_str(why, "trailing characters", "an embedded NUL is reported as trailing characters");
}

static void
test_format(void)
{
	static const struct { int64_t t; const char *s; } rows[] = {
		{ 0, "1970-01-01T00:00:00Z" },
		{ 1710498225000000, "2024-03-15T10:23:45Z" },
		{ 1710498225120000, "2024-03-15T10:23:45.120Z" },
		{ 1710498225123000, "2024-03-15T10:23:45.123Z" },
		{ 1710498225123456, "2024-03-15T10:23:45.123456Z" },
		{ 1710498225000001, "2024-03-15T10:23:45.000001Z" },
		{ 1709164800000000, "2024-02-29T00:00:00Z" },
		{ -1, "1969-12-31T23:59:59.999999Z" },
		{ -1000, "1969-12-31T23:59:59.999Z" },
		{ -1000000, "1969-12-31T23:59:59Z" },
		{ -302443199500000, "1960-06-01T12:00:00.500Z" },
		{ -62135596800000000, "0001-01-01T00:00:00Z" },
		{ 253402300799999999, "9999-12-31T23:59:59.999999Z" },
		{ 253402300800000000, "+10000-01-01T00:00:00Z" },
		{ -62135596800000001, "0000-12-31T23:59:59.999999Z" },
		{ -62167219200000001, "-0001-12-31T23:59:59.999999Z" },
		{ TV_MAX, "+inf" },
		{ TV_MIN, "-inf" },
		{ TV_MAX - 1, "+294247-01-10T04:00:54.775806Z" },
		{ TV_MIN + 1, "-290308-12-21T19:59:05.224193Z" },
	};
	char buf[TV_BUFSZ];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n = tv_format_rfc3339(rows[i].t, buf);

		is_str(buf, rows[i].s, "%lld formats as %s", (long long)rows[i].t, rows[i].s);
		is_int(n, strlen(rows[i].s), "%s has the returned length", rows[i].s);
	}
}

/* next is a small deterministic generator for the round-trip test. */
static uint64_t
next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void
test_roundtrip(void)
{
	const int64_t lo = -62135596800000000, hi = 253402300799999999;
	uint64_t x = 88172645463325252u;
	int bad = 0;
	char buf[TV_BUFSZ];

	for (int i = 0; i < 200000; i++) {
		int64_t t, back = 0;
		size_t n;

		switch (i % 4) {
		case 0:	t = lo + (int64_t)(next(&x) % (uint64_t)(hi - lo)); break;
		case 1:	t = (int64_t)(next(&x) % 4000000000000000) - 2000000000000000; break;
		case 2:	t = ((int64_t)(next(&x) % 4000000000) - 2000000000) * 1000000; break;
		default: t = ((int64_t)(next(&x) % 4000000000000) - 2000000000000) * 1000; break;
		}
		n = tv_format_rfc3339(t, buf);
		if (tv_parse(NULL, buf, n, &back, NULL) != 0 || back != t) {
			if (bad++ < 5)
				printf("# round trip: %lld -> %s -> %lld\n", (long long)t, buf,
				    (long long)back);
		}
	}
	ok(bad == 0, "200000 random times in 0001-9999 round-trip through RFC 3339");

	/* Every day of 1999-2001 and 1899-1901 (leap and non-leap centuries). */
	bad = 0;
	for (int64_t d = -26000; d < 12000; d++) {
		int64_t t = d * 86400 * TV_US_PER_S + 45296789000, back;
		size_t n = tv_format_rfc3339(t, buf);

		if (tv_parse(NULL, buf, n, &back, NULL) != 0 || back != t)
			bad++;
	}
	ok(bad == 0, "every day from 1898 to 2002 round-trips");
}

static void
test_format_parse(void)
{
	static const struct { const char *arg; int rc; enum tv_kind kind; } rows[] = {
		{ "auto", 0, TV_AUTO }, { "iso", 0, TV_ISO }, { "rfc3339", 0, TV_ISO },
		{ "epoch", 0, TV_EPOCH_S }, { "epoch_s", 0, TV_EPOCH_S },
		{ "epoch_ms", 0, TV_EPOCH_MS }, { "epoch_us", 0, TV_EPOCH_US },
		{ "epoch_ns", 0, TV_EPOCH_NS }, { "clf", 0, TV_CLF },
		{ "%Y-%m-%d", 0, TV_STRPTIME }, { "%s", 0, TV_EPOCH_S },
		{ "ISO", -1, TV_AUTO }, { "", -1, TV_AUTO }, { "epoch_m", -1, TV_AUTO },
	};
	struct tv_format f;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = tv_format_parse(rows[i].arg, &f);

		is_int(rc, rows[i].rc, "--time-format '%s' gives %d", rows[i].arg, rows[i].rc);
		if (rc == 0)
			is_int(f.kind, rows[i].kind, "--time-format '%s' is kind %d",
			    rows[i].arg, rows[i].kind);
	}
	tv_format_parse("%d", &f);
	ok(f.strp != NULL && strcmp(f.strp, "%d") == 0, "a strptime format is kept");
	ok(tv_format_parse(NULL, &f) == -1, "a NULL name is unknown");
}

#define DERR	INT64_MIN

static const struct drow {
	const char	*in;
	int64_t		 want;
	const char	*why;
} drows[] = {
	{ "0", 0, 0 },
	{ "-0", 0, 0 },
	{ "0s", 0, 0 },
	{ "250ms", 250000, 0 },
	{ "30s", 30000000, 0 },
	{ "5m", 300000000, 0 },
	{ "1h", 3600000000, 0 },
	{ "1h30m", 5400000000, 0 },
	{ "1d", 86400000000, 0 },
	{ "1w", 604800000000, 0 },
	{ "1.5s", 1500000, 0 },
	{ ".5s", 500000, 0 },
	{ "-1.5s", -1500000, 0 },
	{ "-1h30m", -5400000000, 0 },
	{ "1500ns", 1, 0 },
	{ "-1500ns", -1, 0 },
	{ "999ns", 0, 0 },
	{ "1us500ns", 1, 0 },
	{ "500ns500ns", 1, 0 },
	{ "1.9us", 1, 0 },
	{ "7us", 7, 0 },
	{ "7\xc2\xb5s", 7, 0 },
	{ "0.1w", 60480000000, 0 },
	{ "0.0000001h", 360, 0 },
	{ "1w2d3h4m5s6ms7us", 788645006007, 0 },
	{ "1h1h", 7200000000, 0 },
	{ "9223372036854775807us", INT64_MAX, 0 },
	{ "-9223372036854775807us", -INT64_MAX, 0 },
	{ "106751991d", 9223372022400000000, 0 },
	{ "9223372036854775808us", DERR, "out of range" },
	{ "106751992d", DERR, "out of range" },
	{ "99999999999999999999999s", DERR, "out of range" },
	{ "", DERR, "empty duration" },
	{ "-", DERR, "missing number" },
	{ "s", DERR, "missing number" },
	{ "1h-30m", DERR, "unexpected character" },
	{ "5", DERR, "missing unit" },
	{ "1h30", DERR, "missing unit" },
	{ "00", DERR, "missing unit" },
	{ "5x", DERR, "unknown unit 'x'" },
	{ "5days", DERR, "unknown unit 'days'" },
	{ "5S", DERR, "unknown unit 'S'" },
	{ "1.s", DERR, "bad number" },
	{ ".s", DERR, "missing number" },
	{ "1 h", DERR, "unexpected character" },
	{ " 1h", DERR, "unexpected character" },
	{ "+1h", DERR, "unexpected character" },
};

static void
test_duration(void)
{
	size_t n = sizeof(drows) / sizeof(drows[0]);

	ok(n >= 20, "the duration table has %zu rows", n);
	for (size_t i = 0; i < n; i++) {
		const struct drow *r = &drows[i];
		int64_t got = 12345;
		const char *why = NULL;
		int rc = tv_duration(r->in, &got, &why);

		if (r->want == DERR) {
			ok(rc == -1, "duration '%s' is rejected", r->in);
			is_str(why, r->why, "duration '%s' is rejected as \"%s\"", r->in, r->why);
		} else {
			ok(rc == 0, "duration '%s' parses%s%s", r->in, rc ? ": " : "",
			    rc ? why : "");
			is_int(got, r->want, "duration '%s' is %lld us", r->in,
			    (long long)r->want);
		}
	}
}

static void
test_format_duration(void)
{
	static const struct { int64_t d; const char *s; } rows[] = {
		{ 0, "0s" }, { 1, "1us" }, { 250000, "250ms" }, { 1500000, "1s500ms" },
		{ 5400000000, "1h30m" }, { 86400000000, "1d" }, { 604800000000, "1w" },
		{ -5400000000, "-1h30m" }, { 788645006007, "1w2d3h4m5s6ms7us" },
		{ INT64_MAX, "15250284w3d4h54s775ms807us" },
		{ INT64_MIN, "-15250284w3d4h54s775ms808us" },
	};
	char buf[TV_BUFSZ];
	uint64_t x = 1234567;
	int bad = 0;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n = tv_format_duration(rows[i].d, buf);

		is_str(buf, rows[i].s, "%lld us formats as %s", (long long)rows[i].d, rows[i].s);
		is_int(n, strlen(rows[i].s), "%s has the returned length", rows[i].s);
	}
	for (int i = 0; i < 100000; i++) {
		int64_t d = (int64_t)next(&x), back;

		if (i % 2)
			d %= 100000000000;
		if (d == INT64_MIN)
			continue;
		tv_format_duration(d, buf);
		if (tv_duration(buf, &back, NULL) != 0 || back != d)
			bad++;
	}
	ok(bad == 0, "100000 random durations round-trip");
}

static void
test_now(void)
{
	int64_t a = tv_now(), b = tv_now();

	ok(a > 1700000000 * TV_US_PER_S && b >= a, "tv_now is after 2023 and does not go back");
}

static void
test_floor_div(void)
{
	is_int(tv_floor_div(-1, 1000000), -1, "floor(-1 / 1e6) is -1");
	is_int(tv_floor_div(-1000000, 1000000), -1, "floor(-1e6 / 1e6) is -1");
	is_int(tv_floor_div(999999, 1000000), 0, "floor(999999 / 1e6) is 0");
}

/* The ISO 8601 basic forms, and numeric strings that are not epoch time unless asked. */
static void
test_basic_forms(void)
{
	/* Expected values from Python: datetime(..., tzinfo=...).timestamp(). */
	static const struct { const char *in; int64_t want; } rows[] = {
		{ "20240315", 1710460800000000 },
		{ "20240315T101500Z", 1710497700000000 },
		{ "20240315t101500z", 1710497700000000 },
		{ "20240315T101500.123+0100", 1710494100123000 },
		{ "20240315T101500.123+01:00", 1710494100123000 },
		{ "20240315101500", 1710497700000000 },
		{ "202403151015", 1710497700000000 },
		{ "20240315T1015", 1710497700000000 },
	};
	static const struct { enum tv_kind kind; const char *in, *why; } bad[] = {
		{ TV_AUTO, "1710000000", "a number in a string (--time-format epoch_s, epoch_ms, "
		    "epoch_us or epoch_ns reads it as epoch time)" },
		{ TV_AUTO, "1710000000.5", "a number in a string (--time-format epoch_s, epoch_ms, "
		    "epoch_us or epoch_ns reads it as epoch time)" },
		{ TV_AUTO, "-1", "a number in a string (--time-format epoch_s, epoch_ms, "
		    "epoch_us or epoch_ns reads it as epoch time)" },
		{ TV_AUTO, "20241315", "month out of range" },
		{ TV_AUTO, "20240230T101500Z", "day out of range" },
		{ TV_AUTO, "20240315T10:15:00Z", "bad time" },
		{ TV_AUTO, "20240315T1015001", "bad offset" },
		{ TV_ISO, "1710000000", "bad date" },
	};
	struct tv_format auto_ = { TV_AUTO, NULL }, es = { TV_EPOCH_S, NULL };
	int64_t t;
	const char *why;

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		t = 12345;
		ok(tv_parse(&auto_, rows[i].in, strlen(rows[i].in), &t, &why) == 0, "'%s' parses",
		    rows[i].in);
		is_int(t, rows[i].want, "'%s' is its ISO 8601 basic reading", rows[i].in);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct tv_format f = { bad[i].kind, NULL };

		why = NULL;
		ok(tv_parse(&f, bad[i].in, strlen(bad[i].in), &t, &why) == -1, "'%s' is refused",
		    bad[i].in);
		is_str(why, bad[i].why, "'%s': %s", bad[i].in, bad[i].why);
	}
	ok(tv_parse(&es, "1710000000", 10, &t, NULL) == 0 && t == 1710000000000000,
	    "a numeric string is epoch seconds under --time-format epoch_s");
	ok(tv_parse_number(&auto_, NULL, "20240315", 8, &t, NULL) == 0 && t == 20240315000000,
	    "a JSON number is epoch time by magnitude, even with 8 digits");
}

/* Zones from the system's tzdata: offsets, naive local times, and the POSIX rule past 2037. */
static void
test_zone(void)
{
	/* Expected values from Python's zoneinfo (datetime(..., tzinfo=ZoneInfo(z)).timestamp()). */
	static const struct { const char *zone, *local; int64_t want; } naive[] = {
		{ "Europe/Berlin", "2024-07-01T12:00:00", 1719828000 },
		{ "Europe/Berlin", "2024-03-31T02:30:00", 1711848600 },	/* in the gap */
		{ "Europe/Berlin", "2024-10-27T02:30:00", 1729989000 },	/* twice: the first */
		{ "America/New_York", "2024-03-10T02:30:00", 1710055800 },
		{ "America/New_York", "2024-11-03T01:30:00", 1730611800 },
		{ "America/New_York", "2060-07-01T12:00:00", 2855923200 },	/* past the table: the rule */
		{ "Europe/Berlin", "2100-01-01T00:00:00", 4102441200 },
		{ "UTC", "2024-07-01T12:00:00", 1719835200 },
	};
	static const struct { const char *zone; int64_t t; int32_t off; const char *text; } offs[] = {
		{ "Europe/Berlin", 1711846799, 3600, "2024-03-31T01:59:59+01:00" },
		{ "Europe/Berlin", 1711846800, 7200, "2024-03-31T03:00:00+02:00" },
		{ "Europe/Berlin", 1729990799, 7200, "2024-10-27T02:59:59+02:00" },
		{ "Europe/Berlin", 1729990800, 3600, "2024-10-27T02:00:00+01:00" },
		{ "America/New_York", 2855000000, -14400, "2060-06-20T19:33:20-04:00" },
		{ "Europe/Berlin", 4102444800, 3600, "2100-01-01T01:00:00+01:00" },
	};
	struct tv_format iso = { TV_ISO, NULL };
	struct tv_cache cache = { 0 };
	char buf[TV_BUFSZ];
	const char *why;
	int64_t t;

	for (size_t i = 0; i < sizeof naive / sizeof naive[0]; i++) {
		struct tv_zone *z = tv_zone_load(naive[i].zone, &why);

		ok(z != NULL, "%s loads", naive[i].zone);
		if (z == NULL)
			continue;
		/* Twice through one cache: the second read comes from it. */
		for (int k = 0; k < 2; k++) {
			t = 0;
			ok(tv_parse_in(&iso, z, &cache, naive[i].local, strlen(naive[i].local), &t,
			    NULL) == 0 && t == naive[i].want * 1000000, "%s in %s is %lld (read %d)",
			    naive[i].local, naive[i].zone, (long long)naive[i].want, k + 1);
		}
		memset(&cache, 0, sizeof cache);
		tv_zone_free(z);
	}
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		struct tv_zone *z = tv_zone_load(offs[i].zone, NULL);

		ok(z != NULL, "%s loads", offs[i].zone);
		if (z == NULL)
			continue;
		is_int(tv_zone_offset(z, offs[i].t), offs[i].off, "%s at %lld", offs[i].zone,
		    (long long)offs[i].t);
		tv_format_local(offs[i].t * 1000000, z, buf);
		is_str(buf, offs[i].text, "%lld written in %s", (long long)offs[i].t, offs[i].zone);
		tv_zone_free(z);
	}
	ok(tv_zone_load("Nowhere/City", &why) == NULL, "an unknown zone is refused");
	is_str(why, "unknown time zone", "with its reason");
	ok(tv_zone_load("../../etc/passwd", &why) == NULL, "a path is not a zone");
	ok(tv_zone_load("/etc/localtime", &why) == NULL, "an absolute path is not a zone");
	ok(tv_zone_load("", &why) == NULL, "an empty name is not a zone");
	tv_format_local(0, NULL, buf);
	is_str(buf, "1970-01-01T00:00:00Z", "no zone writes UTC");
}

int
main(void)
{
	/* A zone with a half-hour offset: nothing may depend on TZ. */
	setenv("TZ", "America/St_Johns", 1);
	tzset();
	test_parse_table();
	test_parse_misc();
	test_format();
	test_roundtrip();
	test_format_parse();
	test_duration();
	test_format_duration();
	test_now();
	test_floor_div();
	test_basic_forms();
	test_zone();
	return tap_done();
}
