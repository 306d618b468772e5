/* keyset: per-key values in a hash map, an indexed min-heap of event-time timers and an LRU list with a bound. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hashmap.h"
#include "keyset.h"

/*
 * Each hash map value is this header followed by the caller's value, so
 * the caller's pointer is the header's address plus HDR.  The header is
 * padded to 32 bytes to keep the caller's value 16-byte aligned.
 */
struct kent {
	int64_t		 due;		/* valid when heap != NOHEAP */
	size_t		 heap;		/* index in the timer heap */
	struct kent	*newer, *older;	/* LRU list */
};

#define HDR	32
#define NOHEAP	SIZE_MAX

_Static_assert(sizeof(struct kent) <= HDR, "keyset header fits in 32 bytes");

/*
 * A heap slot carries its entry's due time, so sifting compares times
 * without touching the entries (each a cache miss in a large set); the
 * key bytes are read only to break a tie.
 */
struct hslot {
	int64_t		 due;
	struct kent	*e;
};

struct ks {
	struct hm	 *map;
	size_t		  valsize;
	size_t		  max;
	ks_drop_fn	 *drop;
	void		 *ctx;
	struct hslot	 *heap;
	size_t		  nheap, capheap;
	struct kent	 *newest, *oldest;
	uint64_t	  evictions;
};

static inline struct kent *
ent_of(const void *val)
{
	return (struct kent *)(void *)((char *)(uintptr_t)val - HDR);
}

static inline void *
val_of(const struct kent *e)
{
	return (char *)(uintptr_t)e + HDR;
}

struct ks *
ks_new(size_t valsize, size_t max_keys, ks_drop_fn *drop, void *ctx)
{
	struct ks *s = xcalloc(1, sizeof(*s));

	s->valsize = valsize;
	s->map = hm_new(HDR + valsize);
	s->max = max_keys;
	s->drop = drop;
	s->ctx = ctx;
	return s;
}

size_t
ks_count(const struct ks *s)
{
	return hm_count(s->map);
}

uint64_t
ks_evictions(const struct ks *s)
{
	return s->evictions;
}

size_t
ks_timers(const struct ks *s)
{
	return s->nheap;
}

const void *
ks_key(const void *val, size_t *len)
{
	return hm_key(ent_of(val), len);
}

/* ---- the timer heap: (due, key bytes) ---- */

static bool
before(const struct hslot *a, const struct hslot *b)
{
	const void *ka, *kb;
	size_t la, lb;
	int c;

	if (a->due != b->due)
		return a->due < b->due;
	ka = hm_key(a->e, &la);
	kb = hm_key(b->e, &lb);
	c = memcmp(ka, kb, la < lb ? la : lb);
	return c < 0 || (c == 0 && la < lb);
}

static inline void
heap_set(struct ks *s, size_t i, struct hslot h)
{
	s->heap[i] = h;
	h.e->heap = i;
}

/*
 * The heap is 4-ary: half the depth of a binary heap, so half the moves,
 * and each move writes the moved entry's index (a cache miss in a large
 * set); a node's four children share one cache line of slots.  The order
 * (due, key bytes) is total, so keys come out in the same order whatever
 * the heap's shape.
 */
#define ARITY	4
#define PARENT(i)	(((i) - 1) / ARITY)

static void
heap_up(struct ks *s, size_t i)
{
	struct hslot h = s->heap[i];

	while (i > 0 && before(&h, &s->heap[PARENT(i)])) {
		heap_set(s, i, s->heap[PARENT(i)]);
		i = PARENT(i);
	}
	heap_set(s, i, h);
}

static void
heap_down(struct ks *s, size_t i)
{
	struct hslot h = s->heap[i];
	size_t c, j, end;

	while ((c = ARITY * i + 1) < s->nheap) {
		end = c + ARITY < s->nheap ? c + ARITY : s->nheap;
		for (j = c + 1; j < end; j++)
			if (before(&s->heap[j], &s->heap[c]))
				c = j;
		if (!before(&s->heap[c], &h))
			break;
		heap_set(s, i, s->heap[c]);
		i = c;
	}
	heap_set(s, i, h);
}

/* heap_fix restores the heap after the entry at i changed its due time, up or down. */
static void
heap_fix(struct ks *s, size_t i)
{
	if (i > 0 && before(&s->heap[i], &s->heap[PARENT(i)]))
		heap_up(s, i);
	else
		heap_down(s, i);
}

static void
heap_remove(struct ks *s, struct kent *e)
{
	size_t i = e->heap;
	struct hslot last = s->heap[--s->nheap];

	e->heap = NOHEAP;
	if (i == s->nheap)
		return;
	heap_set(s, i, last);
	heap_fix(s, i);
}

void
ks_timer_set(struct ks *s, void *val, int64_t due)
{
	struct kent *e = ent_of(val);

	if (e->heap != NOHEAP && e->due == due)
		return;		/* the common re-arm at the same instant: the heap is already right */
	e->due = due;
	if (e->heap != NOHEAP) {
		s->heap[e->heap].due = due;
		heap_fix(s, e->heap);
		return;
	}
	if (s->nheap == s->capheap) {
		s->capheap = s->capheap ? 2 * s->capheap : 64;
		s->heap = xrealloc(s->heap, s->capheap * sizeof(*s->heap));
	}
	heap_set(s, s->nheap++, (struct hslot){ due, e });
	heap_up(s, e->heap);
}

void
ks_timer_cancel(struct ks *s, void *val)
{
	struct kent *e = ent_of(val);

	if (e->heap != NOHEAP)
		heap_remove(s, e);
}

bool
ks_timer_get(const struct ks *s, const void *val, int64_t *due)
{
	const struct kent *e = ent_of(val);

	if (e->heap == NOHEAP)
		return false;
	if (due != NULL)
		*due = e->due;
	return true;
}

void *
ks_next_due(const struct ks *s, int64_t t, int64_t *due)
{
	if (s->nheap == 0 || s->heap[0].due > t)
		return NULL;
	if (due != NULL)
		*due = s->heap[0].due;
	return val_of(s->heap[0].e);
}

void *
ks_pop_due(struct ks *s, int64_t t, int64_t *due)
{
	void *v = ks_next_due(s, t, due);

	if (v != NULL)
		heap_remove(s, s->heap[0].e);
	return v;
}

/* ---- the LRU list, newest first ---- */

static void
lru_unlink(struct ks *s, struct kent *e)
{
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		s->newest = e->older;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		s->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void
lru_push(struct ks *s, struct kent *e)
{
	e->newer = NULL;
	e->older = s->newest;
	if (s->newest != NULL)
		s->newest->newer = e;
	s->newest = e;
	if (s->oldest == NULL)
		s->oldest = e;
}

void
ks_touch(struct ks *s, void *val)
{
	struct kent *e = ent_of(val);

	if (s->newest == e)
		return;
	lru_unlink(s, e);
	lru_push(s, e);
}

/* ---- keys ---- */

void *
ks_get(const struct ks *s, const void *key, size_t len)
{
	struct kent *e = hm_get(s->map, key, len);

	return e != NULL ? val_of(e) : NULL;
}

/* unlink_ent takes e off the heap and the list and deletes it from the map. */
static void
unlink_ent(struct ks *s, struct kent *e)
{
	if (e->heap != NOHEAP)
		heap_remove(s, e);
	lru_unlink(s, e);
	hm_del_value(s->map, e);
}

void *
ks_put(struct ks *s, const void *key, size_t len, bool *created)
{
	bool c;
	struct kent *e = hm_put(s->map, key, len, &c);

	if (created != NULL)
		*created = c;
	if (!c) {
		ks_touch(s, val_of(e));
		return val_of(e);
	}
	e->heap = NOHEAP;
	lru_push(s, e);
	if (s->max > 0 && hm_count(s->map) > s->max) {
		struct kent *old = s->oldest;
		const void *k;
		size_t klen;

		/* The new key is the newest, so with max >= 1 the oldest is another key. */
		k = hm_key(old, &klen);
		if (s->drop != NULL)
			s->drop(s->ctx, k, klen, val_of(old));
		unlink_ent(s, old);
		s->evictions++;
	}
	return val_of(e);
}

void
ks_del(struct ks *s, void *val)
{
	unlink_ent(s, ent_of(val));
}

void *
ks_first(const struct ks *s)
{
	return s->oldest != NULL ? val_of(s->oldest) : NULL;
}

void *
ks_next(const struct ks *s, const void *val)
{
	const struct kent *e = ent_of(val);

	return e->newer != NULL ? val_of(e->newer) : NULL;
}

void
ks_free(struct ks *s)
{
	struct kent *e;

	if (s == NULL)
		return;
	if (s->drop != NULL)
		for (e = s->oldest; e != NULL; e = e->newer) {
			const void *k;
			size_t klen;

			k = hm_key(e, &klen);
			s->drop(s->ctx, k, klen, val_of(e));
		}
	hm_free(s->map);
	free(s->heap);
	free(s);
}
