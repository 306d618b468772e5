/* keyset: per-key state keyed by bytes, with an event-time timer heap and an LRU bound. */
#ifndef NDFLOW_KEYSET_H
#define NDFLOW_KEYSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A keyset maps keys (any bytes) to a value blob of the size given to
 * ks_new, zeroed when the key is created.  A value pointer stays valid
 * until its key is deleted or evicted or the set is freed.
 *
 * Each key has at most one timer: a due time in event time (int64
 * microseconds).  The timers form an indexed min-heap, so setting,
 * changing and cancelling a key's timer is O(log n) and the due keys
 * come out in order of due time; keys due at the same time come out in
 * order of their key bytes (memcmp, a shorter prefix first), so the order
 * never depends on hashing or on the history of the set.
 *
 * Every key is on an LRU list ordered by when it was last touched
 * (created by ks_put, or ks_touch).  With a bound of max_keys, creating a
 * key beyond it evicts the least recently touched other key: its timer is
 * cancelled, the drop callback sees it, and it is deleted.  Iteration
 * walks the LRU list from the least recently touched key, so re-creating
 * the keys in iteration order rebuilds the same list (for saving state).
 *
 * dedupe's --within horizons and --max-keys, and alert's per-(rule, key)
 * states, cooldowns and timers are keysets.
 */
struct ks;

/*
 * ks_drop_fn is called for a key the set removes by itself: an evicted
 * key, and every key still held at ks_free.  It must free what the value
 * points to and must not call back into the set.  The key and value are
 * valid only during the call.
 */
typedef void	ks_drop_fn(void *ctx, const void *key, size_t keylen, void *val);

/*
 * ks_new returns an empty keyset whose values have valsize bytes (16-byte
 * aligned).  max_keys 0 means no bound.  drop may be NULL when values
 * own nothing.  Aborts on allocation failure, like every allocation here.
 */
struct ks	*ks_new(size_t valsize, size_t max_keys, ks_drop_fn *drop, void *ctx);
/* ks_free calls drop for every key (least recently touched first) and frees the set; NULL is allowed. */
void		 ks_free(struct ks *);

/* ks_count returns the number of keys held. */
size_t		 ks_count(const struct ks *);
/* ks_evictions returns how many keys the LRU bound has evicted since ks_new. */
uint64_t	 ks_evictions(const struct ks *);
/* ks_timers returns how many keys have a timer set. */
size_t		 ks_timers(const struct ks *);

/* ks_get returns the value of key, or NULL when absent.  It does not touch the key. */
void	*ks_get(const struct ks *, const void *key, size_t len);
/*
 * ks_put returns the value of key, creating it (zeroed, no timer) when
 * absent; *created (if not NULL) says which.  The key becomes the most
 * recently touched.  Creating a key past the bound evicts the least
 * recently touched other key (through drop), never the one returned.
 */
void	*ks_put(struct ks *, const void *key, size_t len, bool *created);
/* ks_touch makes the key of val the most recently touched. */
void	 ks_touch(struct ks *, void *val);
/*
 * ks_del deletes the key of val: its timer is cancelled and the entry
 * freed.  drop is not called (the caller holds the value and frees what
 * it owns first).
 */
void	 ks_del(struct ks *, void *val);
/* ks_key returns the key bytes of val (valid while the key is held) and its length in *len. */
const void	*ks_key(const void *val, size_t *len);

/* ks_timer_set sets or moves the timer of val's key to due.  O(log n). */
void	 ks_timer_set(struct ks *, void *val, int64_t due);
/* ks_timer_cancel removes the timer of val's key, if any.  O(log n). */
void	 ks_timer_cancel(struct ks *, void *val);
/* ks_timer_get reports whether val's key has a timer, storing its due time in *due (may be NULL). */
bool	 ks_timer_get(const struct ks *, const void *val, int64_t *due);

/*
 * ks_next_due returns the value with the earliest timer (ties by key
 * bytes) when its due time is <= t, storing the due time in *due; NULL
 * when no timer is due by t.  The timer stays set.
 */
void	*ks_next_due(const struct ks *, int64_t t, int64_t *due);
/*
 * ks_pop_due is ks_next_due that also cancels the timer it returns, so a
 * loop `while ((v = ks_pop_due(s, t, &d)) != NULL)` takes every key due
 * by t in order; the caller may set a new timer on v (or on any key)
 * inside the loop, and a timer set due <= t is taken in its turn.
 */
void	*ks_pop_due(struct ks *, int64_t t, int64_t *due);

/*
 * Iteration from the least recently touched key to the most recent:
 * for (v = ks_first(s); v != NULL; v = ks_next(s, v)).  The set must not
 * change during the walk, except ks_del of the current value after
 * ks_next has been taken from it.
 */
void	*ks_first(const struct ks *);
void	*ks_next(const struct ks *, const void *val);

#endif
