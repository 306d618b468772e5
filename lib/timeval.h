/* timeval: event time (int64 microseconds since the Unix epoch, UTC) and durations. */
#ifndef NDFLOW_TIMEVAL_H
#define NDFLOW_TIMEVAL_H

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

struct tv_format {
	enum tv_kind	 kind;
	const char	*strp;	/* the strptime format when kind == TV_STRPTIME (borrowed) */
};

/*
 * tv_format_parse reads a --time-format argument: auto, iso, rfc3339,
 * epoch, epoch_s, epoch_ms, epoch_us, epoch_ns, clf, or anything with a '%'
 * (a strptime format, borrowed, must outlive the result).
 * Returns 0, or -1 when the name is unknown.
 */
int	tv_format_parse(const char *arg, struct tv_format *out);

/*
 * tv_parse parses the text of a time value: the contents of a JSON string
 * (already unescaped) or the raw text of a JSON number.  len bytes, need
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
