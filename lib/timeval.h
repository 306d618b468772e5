/* timeval: event time (int64 microseconds since the Unix epoch, UTC) and durations. */
#ifndef NDFLOW_TIMEVAL_H
#define NDFLOW_TIMEVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TV_MIN	INT64_MIN	/* -infinity: used for "no watermark yet" */
#define TV_MAX	INT64_MAX	/* +infinity: the watermark at end of input */

#define TV_US_PER_S	INT64_C(1000000)

enum tv_kind {
	TV_AUTO = 0,	/* RFC 3339 / ISO 8601, date only, CLF, or a number (epoch unit by magnitude) */
	TV_EPOCH_S,	/* numbers and numeric strings are epoch seconds (fractions allowed) */
	TV_EPOCH_MS,
	TV_EPOCH_US,
	TV_EPOCH_NS,
	TV_ISO,		/* RFC 3339 / ISO 8601 only */
	TV_CLF,		/* 10/Oct/2000:13:55:36 -0700, optionally in [brackets] */
	TV_STRPTIME	/* a strptime(3) format; a naive result is UTC; %z is honoured */
};

struct tv_zone;
struct tv_cache;

struct tv_format {
	enum tv_kind	 kind;
	const char	*strp;	/* the strptime format when kind == TV_STRPTIME (borrowed) */
};

/*
 * tv_cache remembers the date-and-second prefixes of the last two ISO
 * times tv_parse_in read with it, so that records of the same second (in
 * a stream slightly out of order: of two neighbouring seconds) are not
 * converted again.  Zero it before use (and after changing the zone it is
 * used with); it owns nothing.
 */
struct tv_cache {
	struct tv_cache_slot {
		char	key[19];	/* "YYYY-MM-DDThh:mm:ss" as read (T, t or space) */
		bool	valid;
		bool	naive_ok;
		int64_t	day;		/* the date's seconds since the epoch (its midnight, as if UTC) */
		int64_t	local;		/* the prefix's seconds since the epoch, before any offset */
		int64_t	naive;		/* the UTC seconds of that local time in the zone (naive_ok) */
	}		slot[2];
	unsigned	next;		/* the slot the next new prefix replaces */
};

/*
 * tv_format_parse reads a --time-format argument: auto, iso, rfc3339,
 * epoch, epoch_s, epoch_ms, epoch_us, epoch_ns, clf, or anything with a '%'
 * (a strptime format, borrowed, must outlive the result).
 * Returns 0, or -1 when the name is unknown.
 */
int	tv_format_parse(const char *arg, struct tv_format *out);

/*
 * tv_parse parses the text of a time value held in a JSON string (already
 * unescaped).  With TV_AUTO or TV_ISO, ISO 8601's basic forms are read
 * too (20240315, 20240315T101500Z, 20240315T101500.123+0100, and
 * 20240315101500); a numeric string is epoch time only with a
 * TV_EPOCH_* kind, otherwise it is an error.  A naive time (no offset)
 * is local time in fmt->zone, or UTC.  len bytes, need
 * not be NUL-terminated.  On success stores microseconds since the epoch in
 * *out and returns 0.  On failure returns -1 and, when why is not NULL,
 * points *why at a static English reason ("month out of range", ...).
 * Fractions beyond microseconds are truncated toward negative infinity
 * (floor), so ordering is preserved.
 * Epoch by magnitude (TV_AUTO): |v| < 1e11 seconds, < 1e14 ms, < 1e17 us,
 * else ns.
 */
int	tv_parse(const struct tv_format *, const char *s, size_t len,
	    int64_t *out, const char **why);

/*
 * tv_parse_in is tv_parse reading naive times as local time in zone
 * (NULL: UTC), and reusing the date and second of the last time read
 * with cache (may be NULL) when they are the same bytes.
 */
int	tv_parse_in(const struct tv_format *, struct tv_zone *zone, struct tv_cache *cache,
	    const char *s, size_t len, int64_t *out, const char **why);

/*
 * tv_parse_number parses the raw text of a JSON number: epoch time, in
 * the unit of a TV_EPOCH_* kind or chosen by magnitude with TV_AUTO; an
 * explicit iso, clf or strptime format reads the digits as its text
 * (naive times in zone, NULL: UTC).  Returns as tv_parse does.
 */
int	tv_parse_number(const struct tv_format *, struct tv_zone *zone, const char *s, size_t len,
	    int64_t *out, const char **why);

/*
 * tv_zone_load reads the IANA zone name (Europe/Berlin, UTC) from the
 * system's tzdata: $TZDIR or /usr/share/zoneinfo, a TZif file, version 2
 * or later, and its POSIX TZ rule for times past its last transition.
 * Returns a zone the caller frees with tv_zone_free, or NULL with *why
 * set ("unknown time zone", "not a TZif file").
 */
struct tv_zone	*tv_zone_load(const char *name, const char **why);
void		 tv_zone_free(struct tv_zone *);
const char	*tv_zone_name(const struct tv_zone *);

/*
 * tv_zone_offset returns the offset from UTC, in seconds east, in force
 * at the instant secs (seconds since the epoch).  The interval around the
 * last answer is kept in the zone, so nearby instants cost a comparison.
 */
int32_t		 tv_zone_offset(struct tv_zone *, int64_t secs);

/*
 * tv_zone_utc converts a local time in the zone (seconds since the epoch
 * as if the zone were UTC) to UTC seconds.  A local time that occurs
 * twice (clocks set back) is its first occurrence; one that does not
 * occur (clocks set forward) is read with the offset before the change,
 * so it lands as far after the change as it was after it on the old
 * clock (as Python's zoneinfo does with fold=0).
 */
int64_t		 tv_zone_utc(struct tv_zone *, int64_t local);

/*
 * tv_days_from_civil returns the days from 1970-01-01 to y-m-d
 * (proleptic Gregorian; m 1-12, d 1-31); tv_civil_from_days is its inverse.
 */
int64_t	tv_days_from_civil(int64_t y, int m, int d);
void	tv_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* TV_BUFSZ is enough for any tv_format_rfc3339 output plus NUL. */
#define TV_BUFSZ	40

/*
 * tv_format_rfc3339 writes t as RFC 3339 UTC ("2024-03-15T10:23:45Z"),
 * with a fraction of 3 or 6 digits only when needed
 * ("...45.120Z", "...45.123456Z").  TV_MAX and TV_MIN are written as
 * "+inf" and "-inf".  Returns the length written (NUL-terminated).
 */
size_t	tv_format_rfc3339(int64_t t, char buf[TV_BUFSZ]);

/*
 * tv_format_local writes t as RFC 3339 in the zone's local time with its
 * offset ("2024-03-31T00:00:00+01:00"); a NULL zone writes UTC with Z as
 * tv_format_rfc3339 does.  An offset with seconds (local mean time
 * before 1900) is written to the minute below, with the local time to
 * match, so the text still names t.
 */
size_t	tv_format_local(int64_t t, struct tv_zone *, char buf[TV_BUFSZ]);

/*
 * tv_duration parses a duration: one or more <number><unit> parts,
 * units ns us ms s m h d w ("250ms", "30s", "1h30m", "1.5s", "1w"),
 * optionally with a leading '-'.  A bare "0" is zero.  Stores
 * microseconds (ns are rounded toward zero) and returns 0, or returns -1
 * with *why set ("missing unit", "unknown unit 'x'", "out of range").
 */
int	tv_duration(const char *s, int64_t *out, const char **why);

/* tv_format_duration writes a duration in the shortest unit form ("1h30m", "250ms", "0s"). */
size_t	tv_format_duration(int64_t us, char buf[TV_BUFSZ]);

/* tv_floor_div returns floor(a / b) for b > 0, correct for negative a. */
static inline int64_t
tv_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* tv_now returns the wall-clock time in microseconds. */
int64_t	tv_now(void);

#endif
