/* timeval: parse and format event times (int64 microseconds since the epoch, UTC) and durations. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeval.h"

/*
 * Every conversion here is done with integer arithmetic on the proleptic
 * Gregorian calendar, so nothing depends on the locale, on TZ or on the
 * C library's time functions (except strptime(3) for TV_STRPTIME, whose
 * fields are then converted the same way).  Time zones are read from the
 * TZif files of the system's tzdata by tv_zone_load, once.
 */

#define US_PER_MIN	(60 * TV_US_PER_S)
#define US_PER_DAY	(86400 * TV_US_PER_S)

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t y, int m)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/*
 * days_from_civil returns the number of days from 1970-01-01 to y-m-d.
 * Years are shifted to start in March so that the leap day is the last
 * day of a year, then counted in 400-year eras of 146097 days.
 */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;				/* [0, 399] */
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;	/* [0, 365] */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;	/* [0, 146096] */
	return era * 146097 + doe - 719468;
}

/* civil_from_days is the inverse of days_from_civil. */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int64_t
tv_days_from_civil(int64_t y, int m, int d)
{
	return days_from_civil(y, m, d);
}

void
tv_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
	civil_from_days(days, y, m, d);
}

/* The fields of a broken-down time as read from text, before checking. */
struct fields {
	int64_t	year;
	int	mon, day, hour, min, sec;
	int32_t	us;		/* [0, 999999] */
	int32_t	off;		/* seconds east of UTC */
	bool	naive;		/* no offset was written: off is not set */
};

/*
 * make_time checks the ranges of f and stores its instant in *out.
 * A leap second (sec 60) is mapped to hh:mm:59.999999 of the same minute:
 * it then sorts after every other instant of that minute and before the
 * next one, which is what ordering by event time needs, and it stays
 * inside the same minute for windowing.
 */
static int
check_fields(const struct fields *f, const char **why)
{
	int sec = f->sec;

	if (f->mon < 1 || f->mon > 12)
		return *why = "month out of range", -1;
	if (f->day < 1 || f->day > days_in_month(f->year, f->mon))
		return *why = "day out of range", -1;
	if (f->hour < 0 || f->hour > 23)
		return *why = "hour out of range", -1;
	if (f->min < 0 || f->min > 59)
		return *why = "minute out of range", -1;
	if (sec < 0 || sec > 60)
		return *why = "second out of range", -1;
	if (f->off <= -86400 || f->off >= 86400)
		return *why = "offset out of range", -1;
	return 0;
}

/* field_secs returns the seconds of checked fields as if they were UTC, ignoring the offset. */
static int64_t
field_secs(const struct fields *f)
{
	return days_from_civil(f->year, f->mon, f->day) * 86400 +
	    f->hour * 3600 + f->min * 60 + (f->sec == 60 ? 59 : f->sec);
}

static int
make_time(const struct fields *f, struct tv_zone *zone, int64_t *out, const char **why)
{
	int64_t secs;

	if (check_fields(f, why) < 0)
		return -1;
	secs = field_secs(f);
	secs = f->naive && zone != NULL ? tv_zone_utc(zone, secs) : secs - f->off;
	*out = secs * TV_US_PER_S + (f->sec == 60 ? 999999 : f->us);
	return 0;
}

/* num reads exactly n digits at *pp into *v; returns -1 if they are not there. */
static int
num(const char **pp, const char *e, int n, int *v)
{
	const char *p = *pp;
	int x = 0;

	if (e - p < n)
		return -1;
	for (int i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return -1;
		x = x * 10 + (p[i] - '0');
	}
	*v = x;
	*pp = p + n;
	return 0;
}

/*
 * frac reads an optional fraction of a second ('.' or ',' then digits),
 * keeping six digits: dropping the rest truncates a positive fraction,
 * which is the floor.
 */
static int
frac(const char **pp, const char *e, int32_t *us)
{
	const char *p = *pp;
	int32_t x = 0;
	int n = 0;

	*us = 0;
	if (p == e || (*p != '.' && *p != ','))
		return 0;
	p++;
	if (p == e || !is_digit(*p))
		return -1;
	for (; p < e && is_digit(*p); p++, n++)
		if (n < 6)
			x = x * 10 + (*p - '0');
	for (; n < 6; n++)
		x *= 10;
	*us = x;
	*pp = p;
	return 0;
}

/*
 * offset reads a UTC offset: Z or z, or a sign and HH, HHMM or HH:MM.
 * Returns 0, -1 for bad syntax, or -2 for a field out of range.
 */
static int
offset(const char **pp, const char *e, int32_t *off)
{
	const char *p = *pp;
	int sign, hh, mm = 0;

	if (p < e && (*p == 'Z' || *p == 'z')) {
		*off = 0;
		*pp = p + 1;
		return 0;
	}
	if (p == e || (*p != '+' && *p != '-'))
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (num(&p, e, 2, &hh) < 0)
		return -1;
	if (p < e && *p == ':') {
		p++;
		if (num(&p, e, 2, &mm) < 0)
			return -1;
	} else if (p < e && is_digit(*p) && num(&p, e, 2, &mm) < 0)
		return -1;
	if (hh > 23 || mm > 59)
		return -2;
	*off = sign * (hh * 3600 + mm * 60);
	*pp = p;
	return 0;
}

/* tz reads an offset at *pp and sets *why on failure. */
static int
tz(const char **pp, const char *e, int32_t *off, const char **why)
{
	switch (offset(pp, e, off)) {
	case 0:
		return 0;
	case -2:
		return *why = "offset out of range", -1;
	default:
		return *why = "bad offset", -1;
	}
}

/*
 * iso_time reads the time of day after the date: hh:mm[:ss[.frac]] in
 * the extended form, hhmm[ss[.frac]] in the basic one.
 */
static int
iso_time(const char **pp, const char *e, bool basic, struct fields *f, const char **why)
{
	const char *p = *pp;

	if (num(&p, e, 2, &f->hour) < 0 || (!basic && (p == e || *p++ != ':')) ||
	    num(&p, e, 2, &f->min) < 0)
		return *why = "bad time", -1;
	if (p < e && (basic ? is_digit(*p) : *p == ':')) {
		if (!basic)
			p++;
		if (num(&p, e, 2, &f->sec) < 0)
			return *why = "bad time", -1;
		if (frac(&p, e, &f->us) < 0)
			return *why = "bad fraction", -1;
	}
	*pp = p;
	return 0;
}

/*
 * iso_hit finishes a time whose first 19 bytes are the cache's key: only
 * the fraction and the offset are left to read.  This is the path of
 * most records in a stream, so the fraction is read here in one loop.
 */
static int
iso_hit(const char *p, const char *e, struct tv_cache_slot *c, struct tv_zone *zone,
    int64_t *out, const char **why)
{
	static const int32_t scale[7] = { 1000000, 100000, 10000, 1000, 100, 10, 1 };
	int32_t us = 0, off = 0;
	int64_t secs;

	p += sizeof c->key;
	if (p < e && (*p == '.' || *p == ',')) {
		const char *q = ++p;

		if (e - p >= 6 && is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) &&
		    is_digit(p[3]) && is_digit(p[4]) && is_digit(p[5])) {
			/* microseconds, the common case: six digits at once */
			us = (((((p[0] - '0') * 10 + (p[1] - '0')) * 10 + (p[2] - '0')) * 10 +
			    (p[3] - '0')) * 10 + (p[4] - '0')) * 10 + (p[5] - '0');
			p += 6;
		} else {
			while (p < e && p - q < 6 && is_digit(*p))
				us = us * 10 + (*p++ - '0');
			if (p == q)
				return *why = "bad fraction", -1;
			us *= scale[p - q];
		}
		while (p < e && is_digit(*p))	/* past microseconds: truncated, the floor */
			p++;
	}
	if (p < e) {
		if (tz(&p, e, &off, why) < 0)
			return -1;
		if (p != e)
			return *why = "trailing characters", -1;
		secs = c->local - off;
	} else if (zone != NULL) {
		if (!c->naive_ok) {
			c->naive = tv_zone_utc(zone, c->local);
			c->naive_ok = true;
		}
		secs = c->naive;
	} else
		secs = c->local;
	*out = secs * TV_US_PER_S + us;
	return 0;
}

/* slot_hit says whether s begins with the slot's 19 bytes, in three loads. */
static inline bool
slot_hit(const struct tv_cache_slot *c, uint64_t a0, uint64_t a1, uint32_t a2)
{
	uint64_t b0, b1;
	uint32_t b2;

	memcpy(&b0, c->key, 8);
	memcpy(&b1, c->key + 8, 8);
	memcpy(&b2, c->key + 15, 4);
	return c->valid && ((a0 ^ b0) | (a1 ^ b1) | (a2 ^ b2)) == 0;
}

/* cache_hit returns the slot whose prefix s begins with, or NULL. */
static inline struct tv_cache_slot *
cache_hit(struct tv_cache *c, const char *s, size_t len)
{
	uint64_t a0, a1;
	uint32_t a2;

	if (c == NULL || len < sizeof c->slot[0].key)
		return NULL;
	memcpy(&a0, s, 8);
	memcpy(&a1, s + 8, 8);
	memcpy(&a2, s + 15, 4);
	if (slot_hit(&c->slot[0], a0, a1, a2))
		return &c->slot[0];
	if (slot_hit(&c->slot[1], a0, a1, a2))
		return &c->slot[1];
	return NULL;
}

/* two returns the value of two digits, or -1. */
static inline int
two(const char *p)
{
	return is_digit(p[0]) && is_digit(p[1]) ? (p[0] - '0') * 10 + (p[1] - '0') : -1;
}

/*
 * same_day handles a time whose second is not in the cache but whose date
 * is: "YYYY-MM-DDThh:mm:ss" with the date and separator of a slot.  Only
 * the time of day is read; the new prefix takes the older slot.  Returns
 * that slot, or NULL to leave the time to the full parse (which also
 * reports any error).
 */
static struct tv_cache_slot *
same_day(struct tv_cache *c, const char *p, size_t len)
{
	struct tv_cache_slot *old = NULL, *sl;
	int h, m, sec;
	int64_t day;

	if (c == NULL || len < sizeof c->slot[0].key || p[13] != ':' || p[16] != ':')
		return NULL;
	for (int i = 0; i < 2 && old == NULL; i++)
		if (c->slot[i].valid && memcmp(c->slot[i].key, p, 11) == 0)
			old = &c->slot[i];
	if (old == NULL || (h = two(p + 11)) < 0 || h > 23 || (m = two(p + 14)) < 0 || m > 59 ||
	    (sec = two(p + 17)) < 0 || sec > 59)
		return NULL;
	day = old->day;
	sl = &c->slot[c->next];
	c->next ^= 1;
	memcpy(sl->key, p, sizeof sl->key);
	sl->day = day;
	sl->local = day + h * 3600 + m * 60 + sec;
	sl->valid = true;
	sl->naive_ok = false;
	return sl;
}

/*
 * parse_iso reads YYYY-MM-DD or YYYYMMDD, optionally followed by T, t or a
 * space (or directly, in the basic form) and the time of day, then an
 * optional offset; a naive time is local time in the zone, or UTC.
 */
static int
parse_iso(const char *p, const char *e, struct tv_zone *zone, struct tv_cache *c, int64_t *out,
    const char **why)
{
	struct fields f = { .naive = true };
	struct tv_cache_slot *hit;
	const char *s = p;
	bool basic;
	int y;

	if ((hit = same_day(c, p, (size_t)(e - p))) != NULL)
		return iso_hit(p, e, hit, zone, out, why);
	if (num(&p, e, 4, &y) < 0)
		return *why = "bad date", -1;
	basic = p < e && *p != '-';
	if (basic ? num(&p, e, 2, &f.mon) < 0 || num(&p, e, 2, &f.day) < 0 :
	    p == e || *p++ != '-' || num(&p, e, 2, &f.mon) < 0 || p == e || *p++ != '-' ||
	    num(&p, e, 2, &f.day) < 0)
		return *why = "bad date", -1;
	f.year = y;
	if (p < e && (*p == 'T' || *p == 't' || *p == ' ' || (basic && is_digit(*p)))) {
		if (!is_digit(*p))
			p++;
		if (iso_time(&p, e, basic, &f, why) < 0)
			return -1;
		if (c != NULL && !basic && p - s >= (ptrdiff_t)sizeof hit->key && s[16] == ':' &&
		    f.sec != 60 && check_fields(&f, why) == 0) {
			hit = &c->slot[c->next];
			c->next ^= 1;
			memcpy(hit->key, s, sizeof hit->key);
			hit->local = field_secs(&f);
			hit->day = hit->local - (f.hour * 3600 + f.min * 60 + f.sec);
			hit->valid = true;
			hit->naive_ok = false;
		}
		if (p < e) {
			if (tz(&p, e, &f.off, why) < 0)
				return -1;
			f.naive = false;
		}
	}
	if (p != e)
		return *why = "trailing characters", -1;
	return make_time(&f, zone, out, why);
}

static int
month_name(const char *p, const char *e)
{
	static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	char lc[3];

	if (e - p < 3)
		return 0;
	for (int i = 0; i < 3; i++)
		lc[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
	for (int m = 0; m < 12; m++)
		if (memcmp(names + 3 * m, lc, 3) == 0)
			return m + 1;
	return 0;
}

/*
 * parse_clf reads the Common Log Format time, dd/Mon/yyyy:hh:mm:ss zone,
 * optionally in brackets; a fraction after the seconds is accepted and the
 * zone may be left out (UTC).
 */
static int
parse_clf(const char *p, const char *e, struct tv_zone *zone, int64_t *out, const char **why)
{
	struct fields f = { .naive = true };
	int y;

	if (p < e && *p == '[') {
		if (e[-1] != ']' || e - p < 2)
			return *why = "unbalanced bracket", -1;
		p++;
		e--;
	}
	if (e - p >= 2 && is_digit(p[0]) && p[1] == '/') {
		f.day = p[0] - '0';
		p++;
	} else if (num(&p, e, 2, &f.day) < 0)
		return *why = "bad date", -1;
	if (p == e || *p++ != '/')
		return *why = "bad date", -1;
	if ((f.mon = month_name(p, e)) == 0)
		return *why = "bad month name", -1;
	p += 3;
	if (p == e || *p++ != '/' || num(&p, e, 4, &y) < 0)
		return *why = "bad date", -1;
	f.year = y;
	if (p == e || *p++ != ':' || num(&p, e, 2, &f.hour) < 0 ||
	    p == e || *p++ != ':' || num(&p, e, 2, &f.min) < 0 ||
	    p == e || *p++ != ':' || num(&p, e, 2, &f.sec) < 0)
		return *why = "bad time", -1;
	if (frac(&p, e, &f.us) < 0)
		return *why = "bad fraction", -1;
	if (p < e && *p == ' ') {
		p++;
		if (tz(&p, e, &f.off, why) < 0)
			return -1;
		f.naive = false;
	}
	if (p != e)
		return *why = p < e && *p == ']' ? "unbalanced bracket" :
		    "trailing characters", -1;
	return make_time(&f, zone, out, why);
}

/* is_number says whether [p, e) is a decimal number: -?D*(.D*)?([eE][+-]?D+)? with a digit. */
static bool
is_number(const char *p, const char *e)
{
	bool any = false;

	if (p < e && *p == '-')
		p++;
	for (; p < e && is_digit(*p); p++)
		any = true;
	if (p < e && *p == '.')
		for (p++; p < e && is_digit(*p); p++)
			any = true;
	if (!any)
		return false;
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p == e || !is_digit(*p))
			return false;
		while (p < e && is_digit(*p))
			p++;
	}
	return p == e;
}

/*
 * parse_epoch converts a decimal number (checked by is_number) in the given
 * unit (TV_EPOCH_*, or TV_AUTO to choose by magnitude) to microseconds,
 * exactly: the digits are shifted, never converted through a double, and
 * sub-microsecond digits are dropped toward negative infinity.
 */
static int
parse_epoch(const char *p, const char *e, enum tv_kind unit, int64_t *out,
    const char **why)
{
	char dig[40];		/* significant digits, no leading zeros */
	int n = 0;		/* digits kept in dig */
	bool lost = false;	/* a nonzero digit did not fit in dig */
	int64_t pt = 0;		/* value = 0.dig * 10^pt */
	bool neg = false, seen_point = false;
	uint64_t u = 0;
	int64_t ex = 0, shift, i;

	if (*p == '-') {
		neg = true;
		p++;
	}
	for (; p < e && (is_digit(*p) || *p == '.'); p++) {
		if (*p == '.') {
			seen_point = true;
			continue;
		}
		if (n == 0 && *p == '0') {
			if (seen_point)
				pt--;
			continue;
		}
		if (n < (int)sizeof(dig))
			dig[n++] = *p;
		else if (*p != '0')
			lost = true;
		if (!seen_point)
			pt++;
	}
	if (p < e) {		/* an exponent: clamp it, beyond 1000 the result is 0 or too big */
		bool eneg = false;

		p++;
		if (*p == '+' || *p == '-')
			eneg = *p++ == '-';
		for (; p < e; p++)
			if (ex < 1000)
				ex = ex * 10 + (*p - '0');
		pt += eneg ? -ex : ex;
	}
	if (unit == TV_AUTO) {
		int64_t intdigits = n > 0 && pt > 0 ? pt : 0;

		unit = intdigits <= 11 ? TV_EPOCH_S : intdigits <= 14 ?
		    TV_EPOCH_MS : intdigits <= 17 ? TV_EPOCH_US : TV_EPOCH_NS;
	}
	shift = unit == TV_EPOCH_S ? 6 : unit == TV_EPOCH_MS ? 3 :
	    unit == TV_EPOCH_US ? 0 : -3;
	if (n > 0)
		pt += shift;
	if (n > 0 && pt > 19)
		return *why = "out of range", -1;
	for (i = 0; i < pt; i++) {
		unsigned d = i < n ? (unsigned)(dig[i] - '0') : 0;

		if (u > (UINT64_MAX - d) / 10)
			return *why = "out of range", -1;
		u = u * 10 + d;
	}
	for (i = pt > 0 ? pt : 0; i < n; i++)
		if (dig[i] != '0')
			lost = true;
	/* TV_MIN and TV_MAX are sentinels: data never produces them. */
	if (neg) {
		if (lost)
			u++;
		if (u > (uint64_t)INT64_MAX)
			return *why = "out of range", -1;
		*out = -(int64_t)u;
	} else {
		if (u >= (uint64_t)INT64_MAX)
			return *why = "out of range", -1;
		*out = (int64_t)u;
	}
	return 0;
}

/*
 * parse_strp runs strptime(3) on a NUL-terminated copy of the text.  Fields
 * the format does not set default to 1970-01-01 00:00:00; a result without
 * %z is UTC.  One %f (as in Python: digits of a fraction of a second,
 * truncated to microseconds) is handled here by running strptime on the
 * format before it and on the format after it.  Without %z in the format
 * the time is naive: local time in the zone, or UTC.
 */
static int
parse_strp(const char *fmt, struct tv_zone *zone, const char *s, size_t len, int64_t *out,
    const char **why)
{
	char buf[256], head[128];
	const char *rest = NULL, *p, *whole;
	struct tm tm;
	struct fields f;
	const char *end, *pf;
	int32_t us = 0;

	if (fmt == NULL)
		return *why = "no strptime format", -1;
	whole = fmt;
	if (len >= sizeof(buf))
		return *why = "too long", -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	for (pf = fmt; (pf = strchr(pf, '%')) != NULL; pf += 2) {
		if (pf[1] == 'f') {
			if ((size_t)(pf - fmt) >= sizeof(head))
				return *why = "strptime format too long", -1;
			memcpy(head, fmt, (size_t)(pf - fmt));
			head[pf - fmt] = '\0';
			rest = pf + 2;
			fmt = head;
			break;
		}
		if (pf[1] == '\0')
			break;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 70;
	tm.tm_mday = 1;
	tm.tm_gmtoff = 0;
	if ((end = strptime(buf, fmt, &tm)) == NULL)
		return *why = "does not match format", -1;
	if (rest != NULL) {
		int n = 0;

		if (!is_digit(*end))
			return *why = "does not match format", -1;
		for (p = end; is_digit(*p); p++, n++)
			if (n < 6)
				us = us * 10 + (*p - '0');
		for (; n < 6; n++)
			us *= 10;
		if ((end = strptime(p, rest, &tm)) == NULL)
			return *why = "does not match format", -1;
	}
	if (*end != '\0')
		return *why = "trailing characters", -1;
	if (tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		return *why = "year out of range", -1;
	f.year = (int64_t)tm.tm_year + 1900;
	f.mon = tm.tm_mon + 1;
	f.day = tm.tm_mday;
	f.hour = tm.tm_hour;
	f.min = tm.tm_min;
	f.sec = tm.tm_sec;
	f.us = us;
	if (tm.tm_gmtoff <= -86400 || tm.tm_gmtoff >= 86400)
		return *why = "offset out of range", -1;
	f.off = (int32_t)tm.tm_gmtoff;
	f.naive = strstr(whole, "%z") == NULL;
	return make_time(&f, zone, out, why);
}

/*
 * basic_digits says whether an all-digit string has the length of an ISO
 * 8601 basic date, or date and time: YYYYMMDD, YYYYMMDDhhmm, YYYYMMDDhhmmss.
 */
static bool
basic_digits(const char *s, size_t len)
{
	if (len != 8 && len != 12 && len != 14)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

int
tv_parse(const struct tv_format *fmt, const char *s, size_t len,
    int64_t *out, const char **why)
{
	return tv_parse_in(fmt, NULL, NULL, s, len, out, why);
}

int
tv_parse_in(const struct tv_format *fmt, struct tv_zone *zone, struct tv_cache *c,
    const char *s, size_t len, int64_t *out, const char **why)
{
	enum tv_kind kind = fmt != NULL ? fmt->kind : TV_AUTO;
	struct tv_cache_slot *hit;
	const char *e = s + len, *dummy;

	if (why == NULL)
		why = &dummy;
	/* The cache holds only what parse_iso filled it with, so it holds for auto and iso. */
	if ((kind == TV_AUTO || kind == TV_ISO) && (hit = cache_hit(c, s, len)) != NULL)
		return iso_hit(s, e, hit, zone, out, why);
	if (len == 0)
		return *why = "empty", -1;
	switch (kind) {
	case TV_AUTO:
		if (len >= 19 && s[4] == '-')
			return parse_iso(s, e, zone, c, out, why);
		if (is_number(s, e) && !basic_digits(s, len))
			return *why = "a number in a string (--time-format epoch_s, epoch_ms, "
			    "epoch_us or epoch_ns reads it as epoch time)", -1;
		if (s[0] == '[' || (len > 2 && (s[1] == '/' || s[2] == '/')))
			return parse_clf(s, e, zone, out, why);
		if (is_digit(s[0]))
			return parse_iso(s, e, zone, c, out, why);
		return *why = "not a time", -1;
	case TV_EPOCH_S:
	case TV_EPOCH_MS:
	case TV_EPOCH_US:
	case TV_EPOCH_NS:
		if (!is_number(s, e))
			return *why = "not a number", -1;
		return parse_epoch(s, e, kind, out, why);
	case TV_ISO:
		if (is_number(s, e) && !basic_digits(s, len))
			return *why = "bad date", -1;
		return parse_iso(s, e, zone, c, out, why);
	case TV_CLF:
		return parse_clf(s, e, zone, out, why);
	case TV_STRPTIME:
		return parse_strp(fmt->strp, zone, s, len, out, why);
	}
	return *why = "bad time format", -1;
}

int
tv_parse_number(const struct tv_format *fmt, struct tv_zone *zone, const char *s, size_t len,
    int64_t *out, const char **why)
{
	enum tv_kind kind = fmt != NULL ? fmt->kind : TV_AUTO;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	if (!is_number(s, s + len))
		return *why = "not a number", -1;
	/* An explicit format other than epoch reads the number's digits as its text. */
	if (kind == TV_ISO || kind == TV_CLF || kind == TV_STRPTIME)
		return tv_parse_in(fmt, zone, NULL, s, len, out, why);
	return parse_epoch(s, s + len, kind, out, why);
}

int
tv_format_parse(const char *arg, struct tv_format *out)
{
	static const struct {
		const char	*name;
		enum tv_kind	 kind;
	} names[] = {
		{ "auto", TV_AUTO },
		{ "iso", TV_ISO },
		{ "rfc3339", TV_ISO },
		{ "epoch", TV_EPOCH_S },
		{ "epoch_s", TV_EPOCH_S },
		{ "epoch_ms", TV_EPOCH_MS },
		{ "epoch_us", TV_EPOCH_US },
		{ "epoch_ns", TV_EPOCH_NS },
		{ "clf", TV_CLF },
	};

	if (arg == NULL)
		return -1;
	out->strp = NULL;
	/* glibc's %s goes through the local time zone; plain seconds need none. */
	if (strcmp(arg, "%s") == 0) {
		out->kind = TV_EPOCH_S;
		return 0;
	}
	if (strchr(arg, '%') != NULL) {
		out->kind = TV_STRPTIME;
		out->strp = arg;
		return 0;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(arg, names[i].name) == 0) {
			out->kind = names[i].kind;
			return 0;
		}
	return -1;
}

/* put_uint writes v with at least width digits, zero padded; returns the length. */
static size_t
put_uint(char *p, uint64_t v, int width)
{
	char tmp[24];
	size_t n = 0, len;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n < (size_t)width)
		tmp[n++] = '0';
	len = n;
	while (n > 0)
		*p++ = tmp[--n];
	return len;
}

/*
 * tv_format_rfc3339: years 0000-9999 are written with four digits as
 * RFC 3339 asks; years outside (before year 0 or after 9999, reachable
 * only from epoch numbers) use the ISO 8601 expanded form with a sign,
 * "-0001-12-31T00:00:00Z" or "+10000-01-01T00:00:00Z", which tv_parse
 * does not read back.
 */
size_t
tv_format_rfc3339(int64_t t, char buf[TV_BUFSZ])
{
	int64_t secs, days, rem, y;
	int32_t us;
	int mon, day;
	char *p = buf;

	if (t == TV_MAX || t == TV_MIN) {
		memcpy(buf, t == TV_MAX ? "+inf" : "-inf", 5);
		return 4;
	}
	secs = tv_floor_div(t, TV_US_PER_S);
	us = (int32_t)(t % TV_US_PER_S);
	if (us < 0)
		us += (int32_t)TV_US_PER_S;
	days = tv_floor_div(secs, 86400);
	rem = secs - days * 86400;
	civil_from_days(days, &y, &mon, &day);
	if (y < 0) {
		*p++ = '-';
		p += put_uint(p, (uint64_t)-y, 4);
	} else {
		if (y > 9999)
			*p++ = '+';
		p += put_uint(p, (uint64_t)y, 4);
	}
	*p++ = '-';
	p += put_uint(p, (uint64_t)mon, 2);
	*p++ = '-';
	p += put_uint(p, (uint64_t)day, 2);
	*p++ = 'T';
	p += put_uint(p, (uint64_t)(rem / 3600), 2);
	*p++ = ':';
	p += put_uint(p, (uint64_t)(rem / 60 % 60), 2);
	*p++ = ':';
	p += put_uint(p, (uint64_t)(rem % 60), 2);
	if (us != 0) {
		*p++ = '.';
		if (us % 1000 == 0)
			p += put_uint(p, (uint64_t)(us / 1000), 3);
		else
			p += put_uint(p, (uint64_t)us, 6);
	}
	*p++ = 'Z';
	*p = '\0';
	return (size_t)(p - buf);
}

/* Duration units, longest names first so "ms" is not read as "m". */
static const struct unit {
	const char	*name;
	size_t		 len;
	uint64_t	 ns;
} units[] = {
	{ "ns", 2, 1 },
	{ "us", 2, 1000 },
	{ "\xc2\xb5s", 3, 1000 },	/* µs */
	{ "ms", 2, 1000000 },
	{ "s", 1, UINT64_C(1000000000) },
	{ "m", 1, UINT64_C(60000000000) },
	{ "h", 1, UINT64_C(3600000000000) },
	{ "d", 1, UINT64_C(86400000000000) },
	{ "w", 1, UINT64_C(604800000000000) },
};

static bool
is_unit_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (unsigned char)c >= 0x80;
}

/* unknown_unit builds the reason naming a unit; valid until the next call in this thread. */
static const char *
unknown_unit(const char *p, size_t n)
{
	static _Thread_local char msg[48];

	if (n > 16)
		n = 16;
	snprintf(msg, sizeof(msg), "unknown unit '%.*s'", (int)n, p);
	return msg;
}

/*
 * tv_duration adds each part exactly: whole microseconds in us, leftover
 * nanoseconds in ns, so "1.5us" or "1us500ns" are 1us and "0.1w" is exact.
 * A fraction times a unit is computed digit by digit from the last one,
 * floor((d + x) / 10) at each step, which equals the exact floor.
 */
int
tv_duration(const char *s, int64_t *out, const char **why)
{
	const char *p = s, *dummy;
	uint64_t us = 0, ns = 0;
	bool neg = false;

	if (why == NULL)
		why = &dummy;
	if (s == NULL || *s == '\0')
		return *why = "empty duration", -1;
	if (*p == '-') {
		neg = true;
		p++;
	}
	if (p[0] == '0' && p[1] == '\0') {
		*out = 0;
		return 0;
	}
	if (*p == '\0')
		return *why = "missing number", -1;
	while (*p != '\0') {
		const char *ip = p, *fp = NULL, *fe = NULL, *up;
		const struct unit *u = NULL;
		uint64_t whole = 0, fns = 0;
		size_t ulen;

		while (is_digit(*p)) {
			if (whole > (UINT64_MAX - 9) / 10)
				return *why = "out of range", -1;
			whole = whole * 10 + (uint64_t)(*p++ - '0');
		}
		if (*p == '.') {
			fp = ++p;
			while (is_digit(*p))
				p++;
			fe = p;
		}
		if (p == ip && !is_unit_char(*p))
			return *why = "unexpected character", -1;
		if (p == ip || (fp != NULL && fe == fp && fp - 1 == ip))
			return *why = "missing number", -1;
		if (fp != NULL && fe == fp)
			return *why = "bad number", -1;
		for (up = p; is_unit_char(*p); p++)
			;
		ulen = (size_t)(p - up);
		if (ulen == 0)
			return *why = *p == '\0' ? "missing unit" :
			    "unexpected character", -1;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (units[i].len == ulen && memcmp(units[i].name, up, ulen) == 0)
				u = &units[i];
		if (u == NULL)
			return *why = unknown_unit(up, ulen), -1;
		for (const char *q = fe; fp != NULL && q > fp; q--)
			fns = ((uint64_t)(q[-1] - '0') * u->ns + fns) / 10;
		if (u->ns < 1000) {
			us += whole / 1000;
			ns += whole % 1000 * u->ns;
		} else {
			uint64_t per = u->ns / 1000;

			if (whole > (UINT64_MAX - us) / per)
				return *why = "out of range", -1;
			us += whole * per;
		}
		us += fns / 1000;
		ns += fns % 1000;
		if (us > (uint64_t)INT64_MAX || ns > UINT64_C(1) << 62)
			return *why = "out of range", -1;
	}
	us += ns / 1000;
	if (us > (uint64_t)INT64_MAX)
		return *why = "out of range", -1;
	*out = neg ? -(int64_t)us : (int64_t)us;
	return 0;
}

/*
 * tv_format_duration writes every nonzero unit from weeks down to
 * microseconds ("1w2d", "1h30m", "1s500ms"), which tv_duration reads back
 * to the same value; zero is "0s".
 */
size_t
tv_format_duration(int64_t d, char buf[TV_BUFSZ])
{
	static const struct { char name[3]; uint64_t us; } parts[] = {
		{ "w", UINT64_C(604800000000) }, { "d", UINT64_C(86400000000) },
		{ "h", UINT64_C(3600000000) }, { "m", UINT64_C(60000000) },
		{ "s", 1000000 }, { "ms", 1000 }, { "us", 1 },
	};
	uint64_t v = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
	char *p = buf;

	if (d == 0) {
		memcpy(buf, "0s", 3);
		return 2;
	}
	if (d < 0)
		*p++ = '-';
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		uint64_t n = v / parts[i].us;

		if (n == 0)
			continue;
		v -= n * parts[i].us;
		p += put_uint(p, n, 1);
		for (const char *q = parts[i].name; *q != '\0'; q++)
			*p++ = *q;
	}
	*p = '\0';
	return (size_t)(p - buf);
}

int64_t
tv_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * TV_US_PER_S + ts.tv_nsec / 1000;
}

/* ---- time zones: TZif files (RFC 8536) and their POSIX TZ rule ---- */

/* One change of a POSIX TZ rule: Mm.w.d, Jn or n, at a local time of day. */
struct rule_date {
	char	kind;		/* 'M', 'J' or 'n' */
	int	m, w, d;	/* M: month, week 1-5 (5 = last), weekday 0-6 (Sunday 0); J and n: day in d */
	int32_t	at;		/* seconds after local midnight, may be negative or past 24h */
};

struct tv_zone {
	char		*name;
	int64_t		*at;	/* transition instants, UTC seconds, ascending */
	int32_t		*off;	/* the offset from at[i] on */
	size_t		 n;
	int32_t		 off0;	/* before the first transition */
	bool		 rule, dst;	/* a POSIX rule for times after at[n-1]; does it have DST */
	int32_t		 std, dstoff;	/* offsets east of UTC */
	struct rule_date start, end;
	int64_t		 lo, hi;	/* the last answer of tv_zone_offset holds in [lo, hi) */
	int32_t		 coff;
};

static uint64_t
be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* rule_num reads [+-]hh[:mm[:ss]] into seconds; returns -1 on bad syntax. */
static int
rule_num(const char **pp, int32_t *out)
{
	const char *p = *pp;
	int32_t sign = 1, v = 0, part;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (int i = 0; i < 3; i++) {
		if (!is_digit(*p))
			return -1;
		for (part = 0; is_digit(*p) && part < 1000; p++)
			part = part * 10 + (*p - '0');
		v += part * (i == 0 ? 3600 : i == 1 ? 60 : 1);
		if (*p != ':' || i == 2)
			break;
		p++;
	}
	*out = sign * v;
	*pp = p;
	return 0;
}

static int
rule_name(const char **pp)
{
	const char *p = *pp;

	if (*p == '<') {
		while (*p != '\0' && *p != '>')
			p++;
		if (*p++ != '>')
			return -1;
	} else {
		while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
			p++;
		if (p - *pp < 3)
			return -1;
	}
	*pp = p;
	return 0;
}

static int
rule_date(const char **pp, struct rule_date *r)
{
	const char *p = *pp;

	r->at = 7200;
	r->kind = *p == 'M' || *p == 'J' ? *p++ : 'n';
	r->m = r->w = r->d = 0;
	if (!is_digit(*p))
		return -1;
	if (r->kind == 'M') {
		r->m = (int)strtol(p, (char **)&p, 10);
		if (*p++ != '.' || !is_digit(*p))
			return -1;
		r->w = (int)strtol(p, (char **)&p, 10);
		if (*p++ != '.' || !is_digit(*p))
			return -1;
		r->d = (int)strtol(p, (char **)&p, 10);
		if (r->m < 1 || r->m > 12 || r->w < 1 || r->w > 5 || r->d > 6)
			return -1;
	} else
		r->d = (int)strtol(p, (char **)&p, 10);
	if (*p == '/' && (p++, rule_num(&p, &r->at) < 0))
		return -1;
	*pp = p;
	return 0;
}

/* parse_rule reads a TZif footer: std offset [dst [offset] [,start[/time],end[/time]]]. */
static int
parse_rule(struct tv_zone *z, const char *p)
{
	int32_t v;

	if (rule_name(&p) < 0 || rule_num(&p, &v) < 0)
		return -1;
	z->std = -v;
	z->dstoff = z->std + 3600;
	z->dst = *p != '\0';
	if (!z->dst)
		return 0;
	if (rule_name(&p) < 0)
		return -1;
	if (*p != ',' && *p != '\0') {
		if (rule_num(&p, &v) < 0)
			return -1;
		z->dstoff = -v;
	}
	if (*p != ',') {	/* no dates: the US rules of 2007 (POSIX's default) */
		z->start = (struct rule_date){ 'M', 3, 2, 0, 7200 };
		z->end = (struct rule_date){ 'M', 11, 1, 0, 7200 };
		return *p == '\0' ? 0 : -1;
	}
	p++;
	if (rule_date(&p, &z->start) < 0 || *p++ != ',' || rule_date(&p, &z->end) < 0)
		return -1;
	return *p == '\0' ? 0 : -1;
}

/* rule_day returns the local midnight (seconds) of a rule date in year y. */
static int64_t
rule_day(const struct rule_date *r, int64_t y)
{
	int64_t d;

	switch (r->kind) {
	case 'J':	/* 1-365, February 29 never counted */
		d = days_from_civil(y, 1, 1) + r->d - 1;
		if (is_leap(y) && r->d >= 60)
			d++;
		break;
	case 'n':	/* 0-365 */
		d = days_from_civil(y, 1, 1) + r->d;
		break;
	default: {
		int64_t first = days_from_civil(y, r->m, 1);
		int wd = (int)(((first + 4) % 7 + 7) % 7);	/* 1970-01-01 was a Thursday (4) */

		d = first + (r->d - wd + 7) % 7 + (int64_t)(r->w - 1) * 7;
		while (d >= first + days_in_month(y, r->m))
			d -= 7;
	}
	}
	return d * 86400;
}

/* rule_offset answers tv_zone_offset from the POSIX rule, setting the interval it holds in. */
static int32_t
rule_offset(struct tv_zone *z, int64_t t)
{
	int64_t y, c[6], lo = INT64_MIN, hi = INT64_MAX;
	int32_t co[6], off = z->std;
	int mm, dd, n = 0;

	if (!z->dst) {
		z->lo = INT64_MIN;
		z->hi = INT64_MAX;
		return z->std;
	}
	civil_from_days(tv_floor_div(t + z->std, 86400), &y, &mm, &dd);
	for (int64_t yy = y - 1; yy <= y + 1; yy++) {
		c[n] = rule_day(&z->start, yy) + z->start.at - z->std;
		co[n++] = z->dstoff;
		c[n] = rule_day(&z->end, yy) + z->end.at - z->dstoff;
		co[n++] = z->std;
	}
	/* The latest change at or before t gives the offset; the next one after t ends it. */
	for (int i = 0; i < n; i++) {
		if (c[i] <= t && (lo == INT64_MIN || c[i] > lo)) {
			lo = c[i];
			off = co[i];
		}
		if (c[i] > t && c[i] < hi)
			hi = c[i];
	}
	if (lo == INT64_MIN)	/* not reached for real rules: years are far longer than their changes' spread */
		off = z->std;
	z->lo = lo;
	z->hi = hi;
	return off;
}

int32_t
tv_zone_offset(struct tv_zone *z, int64_t t)
{
	size_t a, b;
	int32_t off;

	if (t >= z->lo && t < z->hi)
		return z->coff;
	if (z->n == 0 || t < z->at[0]) {
		if (z->n == 0 && z->rule)
			return z->coff = rule_offset(z, t);
		z->lo = INT64_MIN;
		z->hi = z->n ? z->at[0] : INT64_MAX;
		return z->coff = z->off0;
	}
	if (t >= z->at[z->n - 1]) {
		if (!z->rule) {
			z->lo = z->at[z->n - 1];
			z->hi = INT64_MAX;
			return z->coff = z->off[z->n - 1];
		}
		/* The rule takes over from the last transition, whose offset holds until its first change. */
		off = rule_offset(z, t);
		if (z->lo < z->at[z->n - 1]) {
			z->lo = z->at[z->n - 1];
			off = z->off[z->n - 1];
		}
		return z->coff = off;
	}
	/* at[a] <= t < at[b] */
	for (a = 0, b = z->n - 1; b - a > 1;) {
		size_t m = a + (b - a) / 2;

		if (z->at[m] <= t)
			a = m;
		else
			b = m;
	}
	z->lo = z->at[a];
	z->hi = z->at[b];
	return z->coff = z->off[a];
}

int64_t
tv_zone_utc(struct tv_zone *z, int64_t local)
{
	int32_t oa = tv_zone_offset(z, local - 86400 * 2), ob = tv_zone_offset(z, local + 86400 * 2);
	int64_t ua = local - oa, ub = local - ob;
	bool va = tv_zone_offset(z, ua) == oa, vb = tv_zone_offset(z, ub) == ob;

	if (va && vb)
		return ua < ub ? ua : ub;
	if (vb)
		return ub;
	return ua;	/* valid, or in a gap: the offset before the change */
}

/* zone_read loads a whole TZif file, at most 1 MiB; returns its length or -1. */
static long
zone_read(const char *name, unsigned char **data)
{
	const char *dir = getenv("TZDIR");
	char path[4096];
	FILE *f;
	long n;

	if (dir == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
		return -1;
	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	*data = malloc(1 << 20);
	n = *data == NULL ? -1 : (long)fread(*data, 1, 1 << 20, f);
	fclose(f);
	return n;
}

/* zone_parse reads TZif data (version 2 or later: its 64-bit part and footer) into z. */
static int
zone_parse(struct tv_zone *z, const unsigned char *d, long len, const char **why)
{
	const unsigned char *p = d, *e = d + len, *types;
	uint64_t isut, isstd, leap, timecnt, typecnt, charcnt;
	char footer[256];
	size_t fl = 0;

	if (len < 44 || memcmp(d, "TZif", 4) != 0)
		return *why = "not a TZif file", -1;
	if (d[4] < '2')
		return *why = "a TZif file of version 1, which has no 64-bit data", -1;
	/* skip the 32-bit part */
	isut = be(p + 20, 4), isstd = be(p + 24, 4), leap = be(p + 28, 4);
	timecnt = be(p + 32, 4), typecnt = be(p + 36, 4), charcnt = be(p + 40, 4);
	p += 44 + timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut;
	if (e - p < 44 || memcmp(p, "TZif", 4) != 0)
		return *why = "truncated TZif file", -1;
	isut = be(p + 20, 4), isstd = be(p + 24, 4), leap = be(p + 28, 4);
	timecnt = be(p + 32, 4), typecnt = be(p + 36, 4), charcnt = be(p + 40, 4);
	p += 44;
	if (typecnt == 0 || timecnt > 100000 || typecnt > 256 ||
	    (uint64_t)(e - p) < timecnt * 9 + typecnt * 6 + charcnt + leap * 12 + isstd + isut)
		return *why = "truncated TZif file", -1;
	types = p + timecnt * 9;
	z->at = malloc((timecnt + 1) * sizeof *z->at);
	z->off = malloc((timecnt + 1) * sizeof *z->off);
	if (z->at == NULL || z->off == NULL)
		return *why = "out of memory", -1;
	for (uint64_t i = 0; i < timecnt; i++) {
		unsigned ti = p[timecnt * 8 + i];

		if (ti >= typecnt)
			return *why = "bad TZif file", -1;
		z->at[i] = (int64_t)be(p + i * 8, 8);
		z->off[i] = (int32_t)be(types + ti * 6, 4);
		if (i > 0 && z->at[i] <= z->at[i - 1])
			return *why = "bad TZif file", -1;
	}
	z->n = timecnt;
	z->off0 = (int32_t)be(types, 4);
	p = types + typecnt * 6 + charcnt + leap * 12 + isstd + isut;
	if (p < e && *p == '\n') {
		for (p++; p < e && *p != '\n' && fl < sizeof footer - 1; p++)
			footer[fl++] = (char)*p;
		footer[fl] = '\0';
		if (fl > 0 && parse_rule(z, footer) != 0)
			return *why = "bad TZ rule in the TZif file", -1;
		z->rule = fl > 0;
	}
	return 0;
}

struct tv_zone *
tv_zone_load(const char *name, const char **why)
{
	struct tv_zone *z;
	unsigned char *data = NULL;
	long len;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	/* A name, not a path: no absolute path, no "..", nothing that is not a zone's spelling. */
	if (name == NULL || *name == '\0' || *name == '/' || strstr(name, "..") != NULL ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") !=
	    strlen(name))
		return *why = "unknown time zone", NULL;
	if ((len = zone_read(name, &data)) < 0) {
		free(data);
		return *why = errno == ENOMEM ? "out of memory" : "unknown time zone", NULL;
	}
	if ((z = calloc(1, sizeof *z)) == NULL || (z->name = strdup(name)) == NULL) {
		free(z);
		free(data);
		return *why = "out of memory", NULL;
	}
	if (zone_parse(z, data, len, why) != 0) {
		if (len < 4 || memcmp(data, "TZif", 4) != 0)
			*why = "unknown time zone";
		free(data);
		tv_zone_free(z);
		return NULL;
	}
	free(data);
	z->lo = z->hi = 0;	/* an empty interval: the first lookup fills it */
	return z;
}

void
tv_zone_free(struct tv_zone *z)
{
	if (z == NULL)
		return;
	free(z->name);
	free(z->at);
	free(z->off);
	free(z);
}

const char *
tv_zone_name(const struct tv_zone *z)
{
	return z->name;
}

size_t
tv_format_local(int64_t t, struct tv_zone *z, char buf[TV_BUFSZ])
{
	int32_t off, a;
	size_t n;

	if (z == NULL || t == TV_MAX || t == TV_MIN)
		return tv_format_rfc3339(t, buf);
	off = tv_zone_offset(z, tv_floor_div(t, TV_US_PER_S));
	off = (int32_t)tv_floor_div(off, 60) * 60;
	n = tv_format_rfc3339(t + (int64_t)off * TV_US_PER_S, buf) - 1;	/* drop the Z */
	a = off < 0 ? -off : off;
	buf[n++] = off < 0 ? '-' : '+';
	n += put_uint(buf + n, (uint64_t)(a / 3600), 2);
	buf[n++] = ':';
	n += put_uint(buf + n, (uint64_t)(a / 60 % 60), 2);
	buf[n] = '\0';
	return n;
}
