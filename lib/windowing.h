/* windowing: event-time window assignment (tumbling, sliding, session merge) and watermark tracking, with Flink's semantics. */
#ifndef NDFLOW_WINDOWING_H
#define NDFLOW_WINDOWING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Times and durations are int64 microseconds (timeval.h).  A window is the
 * half-open interval [start, end).  Arithmetic saturates at TV_MIN/TV_MAX
 * instead of overflowing.
 */

/* win_add returns a + b, saturated to the int64 range. */
int64_t	win_add(int64_t a, int64_t b);

/*
 * win_floor returns the start of the cell of the grid offset + k*step
 * (k any integer) that contains t: the largest offset + k*step <= t.
 * step > 0; offset may be any value, negative included (only its residue
 * modulo step matters).  Correct for negative t.  This is Flink's
 * TimeWindow.getWindowStartWithOffset.
 */
int64_t	win_floor(int64_t t, int64_t step, int64_t offset);

/*
 * win_sliding_assign stores in starts[] the start of every window
 * [s, s + size) of the grid offset + k*slide that contains t, oldest
 * first, and returns how many there are (at most max; size > 0,
 * slide > 0).  When slide divides size that is size/slide windows;
 * otherwise it is ceil(size/slide) or one less, depending on t.
 * Tumbling windows are the case slide == size (always one window).
 * With slide > size an event can belong to no window (returns 0).
 */
size_t	win_sliding_assign(int64_t t, int64_t size, int64_t slide, int64_t offset,
	    int64_t *starts, size_t max);

/*
 * The times RFC 3339 can write: 0000-01-01T00:00:00Z to
 * 9999-12-31T23:59:59.999999Z.  win_writable reports whether a window's
 * bounds both lie in that range, so that its window_start and window_end
 * can be written and read back.
 */
#define WIN_RFC3339_MIN	INT64_C(-62167219200000000)
#define WIN_RFC3339_MAX	INT64_C(253402300799999999)
bool	win_writable(int64_t start, int64_t end);

/*
 * Calendar windows: days, weeks, months and years of a time zone's
 * calendar, each from local midnight (plus an offset) to the next, so
 * that a day is 23 or 25 hours long when the clocks change, a month and
 * a year have their real lengths, and a week starts on a chosen weekday.
 * N units are counted from 1970-01-01 local (days), the first week-start
 * day on or after it (weeks), January 1970 (months: 3mo are quarters)
 * and year 0 (years: 10y are decades).
 */
enum win_unit { WU_NONE, WU_DAY, WU_WEEK, WU_MONTH, WU_YEAR };

struct tv_zone;

struct win_cal {
	enum win_unit	 unit;
	int64_t		 n;		/* the number of units per window, >= 1 */
	int		 week_start;	/* 0 Monday ... 6 Sunday */
	int64_t		 offset;	/* added to local midnight, microseconds */
	struct tv_zone	*zone;		/* borrowed; NULL: UTC */
	bool		 have;		/* start and end hold the last window */
	int64_t		 start, end;
};

/*
 * win_cal_parse reads a calendar window length: a whole number and d, w,
 * mo or y ("1d", "2w", "3mo", "1y").  Returns 0 with *unit and *n, -1
 * when arg is not one (it may still be a duration, such as "36h"), or -2
 * when it is longer than 10000 years.
 */
int	win_cal_parse(const char *arg, enum win_unit *unit, int64_t *n);

/*
 * win_cal_window stores the calendar window [*start, *end) that holds t,
 * in microseconds; the last window found is kept in c, so events of one
 * window cost two comparisons.  A window that cannot be written in RFC
 * 3339 (see win_writable) has *start TV_MIN or *end TV_MAX.
 */
void	win_cal_window(struct win_cal *c, int64_t t, int64_t *start, int64_t *end);

/* win_sliding_count returns the largest number of windows an event can belong to: ceil(size/slide). */
size_t	win_sliding_count(int64_t size, int64_t slide);

/*
 * The watermark of bounded out-of-orderness: T = max event time seen -
 * lateness, never going down; raised directly by watermark records.
 * Every event with time < T is taken to have arrived; a window [s, e)
 * is closed when T >= e.  T starts at TV_MIN (no watermark yet).
 */
struct win_wm {
	int64_t	lateness;
	int64_t	max_event;	/* TV_MIN before the first event */
	int64_t	t;		/* the watermark T */
};

void	wm_init(struct win_wm *, int64_t lateness);
/* wm_event notes an event time; returns true when T went up. */
bool	wm_event(struct win_wm *, int64_t t);
/* wm_raise raises T to at least t (a watermark record, idle time, end of input); returns true when T went up. */
bool	wm_raise(struct win_wm *, int64_t t);

/*
 * win_open: a set of window ends, each with a counter, for tumbling and
 * sliding windows: the windows that received events and are not closed
 * yet (so that a watermark can be emitted when one of them closes), or
 * the closed windows kept for allowed lateness (with their revision
 * counts).  Memory is one entry per window in the set.
 */
struct win_open;

struct win_open	*wo_new(void);
void		 wo_free(struct win_open *);
/* wo_add notes that the window ending at end received an event (duplicates are ignored). */
void		 wo_add(struct win_open *, int64_t end);
/* wo_close removes every end <= t and returns how many were removed. */
size_t		 wo_close(struct win_open *, int64_t t);
size_t		 wo_count(const struct win_open *);
/* wo_counter returns a counter (starting at 0) kept with an end in the set, or NULL when the end is not in it. */
uint64_t	*wo_counter(struct win_open *, int64_t end);
/* wo_min returns the smallest end in the set, or TV_MAX (INT64_MAX) when it is empty. */
int64_t		 wo_min(const struct win_open *);
/* wo_get returns the i-th end of the set, in no particular order (0 <= i < wo_count). */
int64_t		 wo_get(const struct win_open *, size_t i);

/*
 * win_sessions: session windows per key, with the events they hold.
 * A session is [first event, last event + gap); an event at t is the
 * window [t, t + gap), and windows of one key that overlap or touch
 * merge (Flink's TimeWindow.intersects), so one event can bridge two
 * sessions into one.  Each session keeps a copy of its events' bytes:
 * memory is bounded by the sessions held, not by the input.
 */
struct win_sessions;
struct win_session;

struct win_sessions	*ws_new(int64_t gap);
/*
 * ws_set_allowed_lateness keeps each session for allowed after it is
 * emitted (Flink's allowed lateness): an event that joins a kept session
 * is not late, and the session is emitted again, whole, at the next
 * ws_close, with ws_revision one higher.  The default is 0: a session is
 * freed once emitted.
 */
void			 ws_set_allowed_lateness(struct win_sessions *, int64_t allowed);
/*
 * ws_count_visits makes the set count, in *counter, the sessions it looks
 * at to place events (a measure of its work for tests and --stats:
 * O(log n) per event); NULL stops counting.
 */
void			 ws_count_visits(struct win_sessions *, uint64_t *counter);
/* ws_free frees every session held and its events. */
void			 ws_free(struct win_sessions *);
/* ws_count returns the number of sessions held, open or kept (over all keys). */
size_t			 ws_count(const struct win_sessions *);

/*
 * ws_add adds an event at time t under key (keylen bytes, any bytes),
 * copying payload[0..len).  wm is the current watermark: the event is
 * late when its own window [t, t + gap) is closed for good
 * (t + gap + allowed lateness <= wm) and it joins no session held for its
 * key; then nothing changes and ws_add returns 1.  Otherwise the event
 * is added, sessions are merged as needed, and ws_add returns 0.
 * Aborts on allocation failure.
 */
int	ws_add(struct win_sessions *, const void *key, size_t keylen, int64_t t,
	    const void *payload, size_t len, int64_t wm);

/*
 * ws_restore adds an event saved from a session (ws_foreach) back into
 * the set, with the session's ws_revision and ws_pending, so that a
 * later run continues where the saving one stopped.  Never late.
 */
void	ws_restore(struct win_sessions *, const void *key, size_t keylen, int64_t t,
	    const void *payload, size_t len, unsigned fired, bool pending);

/*
 * ws_close emits every session with end <= wm that has events not
 * emitted yet, in order of end, then start, then key bytes (so the output
 * does not depend on hashing): for each one it calls fn.  A revision
 * (ws_revision > 0) of a session whose bounds are those it was last
 * emitted with holds only the events added since (ws_nevents counts
 * them); a revision with new bounds (it grew or merged) holds them all.  A session is
 * then freed, or kept while end + allowed lateness > wm.  Returns how
 * many were emitted.  fn must not call back into the set.
 */
typedef void	ws_close_fn(void *ctx, const struct win_session *);
size_t	ws_close(struct win_sessions *, int64_t wm, ws_close_fn *fn, void *ctx);

/* ws_foreach calls fn for every session held, with all its events, in the order ws_close uses (for saving state). */
void	ws_foreach(struct win_sessions *, ws_close_fn *fn, void *ctx);

/* The fields of a session, for ws_close_fn callbacks. */
const void	*ws_key(const struct win_session *, size_t *keylen);
int64_t		 ws_start(const struct win_session *);
int64_t		 ws_end(const struct win_session *);
size_t		 ws_nevents(const struct win_session *);
/* ws_revision returns how many times the session was emitted before (0 the first time). */
unsigned	 ws_revision(const struct win_session *);
/* ws_pending reports whether the session has events not emitted yet (always, before its first emission). */
bool		 ws_pending(const struct win_session *);

/*
 * ws_event returns the i-th event of a session in event-time order (ties
 * in arrival order): its payload bytes, their length in *len and its time
 * in *t.  The bytes are valid until the session is closed or changed.
 * 0 <= i < ws_nevents.
 */
const char	*ws_event(const struct win_session *, size_t i, size_t *len, int64_t *t);

#endif
