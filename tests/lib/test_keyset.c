/* Unit tests of lib/keyset: values, timers against a sorted reference past growth, ties, LRU eviction, iteration. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyset.h"
#include "tap.h"

static uint64_t rstate = 0x9e3779b97f4a7c15;

static uint64_t
rnd(void)
{
	rstate ^= rstate >> 12;
	rstate ^= rstate << 25;
	rstate ^= rstate >> 27;
	return rstate * UINT64_C(2685821657736338717);
}

struct val {
	uint64_t	 id;
	char		*owned;		/* something drop must free */
};

struct dropped {
	size_t		 n;
	char		 last[32];
};

static void
drop(void *ctx, const void *key, size_t len, void *v)
{
	struct dropped *d = ctx;
	struct val *x = v;

	d->n++;
	if (len < sizeof(d->last)) {
		memcpy(d->last, key, len);
		d->last[len] = '\0';
	}
	free(x->owned);
	x->owned = NULL;
}

static void
test_basic(void)
{
	struct dropped d = { 0, "" };
	struct ks *s = ks_new(sizeof(struct val), 0, drop, &d);
	struct val *a, *b;
	bool created;
	const char *k;
	size_t klen;
	int64_t due = 0;

	is_int(ks_count(s), 0, "a new keyset is empty");
	ok(ks_get(s, "a", 1) == NULL, "a missing key is NULL");
	a = ks_put(s, "a", 1, &created);
	ok(a != NULL && created && a->id == 0, "put creates a zeroed value");
	ok(((uintptr_t)a & 15) == 0, "a value is 16-byte aligned");
	a->id = 7;
	a->owned = strdup("x");
	b = ks_put(s, "a", 1, &created);
	ok(b == a && !created, "put of an existing key returns its value");
	ok(ks_get(s, "a", 1) == a, "get finds it");
	k = ks_key(a, &klen);
	ok(klen == 1 && k[0] == 'a', "ks_key gives the key");
	ok(!ks_timer_get(s, a, &due), "a new key has no timer");
	ks_timer_set(s, a, 100);
	ok(ks_timer_get(s, a, &due) && due == 100, "a timer is set");
	is_int(ks_timers(s), 1, "one timer");
	ok(ks_next_due(s, 99, NULL) == NULL, "nothing is due before 100");
	ok(ks_next_due(s, 100, &due) == a && due == 100, "due at 100 exactly");
	ks_timer_set(s, a, 50);
	ok(ks_timer_get(s, a, &due) && due == 50, "a timer moves earlier");
	ks_timer_cancel(s, a);
	ok(!ks_timer_get(s, a, NULL) && ks_timers(s) == 0, "a timer is cancelled");
	ks_timer_cancel(s, a);
	is_int(ks_timers(s), 0, "cancelling twice is harmless");
	b = ks_put(s, "b", 1, NULL);
	ks_timer_set(s, b, 5);
	free(a->owned);
	a->owned = NULL;
	ks_del(s, a);
	ok(ks_get(s, "a", 1) == NULL && ks_count(s) == 1, "del removes a key");
	is_int(d.n, 0, "del does not call drop");
	ok(ks_pop_due(s, 10, &due) == b && due == 5 && ks_timers(s) == 0, "pop takes the due key and cancels its timer");
	b->owned = strdup("y");
	ks_free(s);
	is_int(d.n, 1, "free drops every key left");
	ks_free(NULL);
}

/* Keys with the same due time come out in key-byte order, shorter prefix first. */
static void
test_ties(void)
{
	struct ks *s = ks_new(sizeof(struct val), 0, NULL, NULL);
	const char *keys[] = { "b", "ab", "a", "a\0", "c", "" };
	const size_t lens[] = { 1, 2, 1, 2, 1, 0 };
	const char *want[] = { "", "a", "a\0", "ab", "b", "c" };
	const size_t wlens[] = { 0, 1, 2, 2, 1, 1 };
	struct val *v;
	size_t i, n = 0, klen;
	int64_t due;
	bool good = true;

	for (i = 0; i < 6; i++)
		ks_timer_set(s, ks_put(s, keys[i], lens[i], NULL), 42);
	ks_timer_set(s, ks_put(s, "z", 1, NULL), 41);
	v = ks_pop_due(s, 100, &due);
	ok(v != NULL && due == 41 && memcmp(ks_key(v, &klen), "z", 1) == 0, "the earliest due comes first whatever its key");
	while ((v = ks_pop_due(s, 100, &due)) != NULL) {
		const char *k = ks_key(v, &klen);

		if (n >= 6 || klen != wlens[n] || memcmp(k, want[n], klen) != 0 || due != 42)
			good = false;
		n++;
	}
	ok(good && n == 6, "ties come out in key-byte order");
	ks_free(s);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* 10^5 keys with random timers, some moved, some cancelled, then taken in order and checked against a sort. */
static void
test_heap_big(void)
{
	enum { N = 100000 };
	struct ks *s = ks_new(sizeof(struct val), 0, NULL, NULL);
	int64_t *want = malloc(N * sizeof(*want)), due, prev = INT64_MIN;
	size_t i, nwant = 0, got = 0;
	bool ordered = true, matches = true;
	char k[32];

	for (i = 0; i < N; i++) {
		struct val *v = ks_put(s, k, (size_t)snprintf(k, sizeof(k), "k%zu", i), NULL);

		v->id = i;
		ks_timer_set(s, v, (int64_t)(rnd() % 1000) - 500);
	}
	is_int(ks_count(s), N, "10^5 keys are held");
	for (i = 0; i < N; i++) {
		struct val *v = ks_get(s, k, (size_t)snprintf(k, sizeof(k), "k%zu", i));

		if (i % 3 == 0)
			ks_timer_set(s, v, (int64_t)(rnd() % 100000));
		else if (i % 7 == 0)
			ks_timer_cancel(s, v);
		if (ks_timer_get(s, v, &due))
			want[nwant++] = due;
	}
	is_int(ks_timers(s), nwant, "the timer count follows sets and cancels");
	qsort(want, nwant, sizeof(*want), cmp_i64);
	/* Take them in two rounds, the first up to a middle time. */
	while (ks_pop_due(s, 0, &due) != NULL) {
		if (due < prev || due > 0)
			ordered = false;
		if (got >= nwant || want[got] != due)
			matches = false;
		prev = due;
		got++;
	}
	ok(ordered, "the first round comes out in due order, all <= its bound");
	while (ks_pop_due(s, INT64_MAX, &due) != NULL) {
		if (due < prev)
			ordered = false;
		if (got >= nwant || want[got] != due)
			matches = false;
		prev = due;
		got++;
	}
	ok(ordered && matches && got == nwant, "every timer comes out in the order of a sort of the due times");
	is_int(ks_timers(s), 0, "no timer is left");
	ks_free(s);
	free(want);
}

/* A timer set inside the pop loop, due within the bound, is taken in its turn. */
static void
test_reschedule(void)
{
	struct ks *s = ks_new(sizeof(struct val), 0, NULL, NULL);
	struct val *a = ks_put(s, "a", 1, NULL), *v;
	int64_t due, seen[8];
	size_t n = 0;

	ks_timer_set(s, a, 10);
	ks_timer_set(s, ks_put(s, "b", 1, NULL), 15);
	while ((v = ks_pop_due(s, 30, &due)) != NULL && n < 8) {
		seen[n++] = due;
		if (v == a && due <= 30)
			ks_timer_set(s, a, due + 10);
	}
	ok(n == 4 && seen[0] == 10 && seen[1] == 15 && seen[2] == 20 && seen[3] == 30,
	    "re-armed timers interleave in time order: 10 15 20 30");
	ok(ks_timer_get(s, a, &due) && due == 40, "the timer re-armed past the bound stays");
	ks_free(s);
}

static void
test_lru(void)
{
	struct dropped d = { 0, "" };
	struct ks *s = ks_new(sizeof(struct val), 3, drop, &d);
	struct val *v;
	char names[8];
	size_t n, klen;
	bool created;

	ks_put(s, "a", 1, NULL);
	ks_timer_set(s, ks_put(s, "b", 1, NULL), 5);
	ks_put(s, "c", 1, NULL);
	ks_put(s, "a", 1, &created);	/* touch a: b is now the oldest */
	ok(!created, "a is touched, not created");
	v = ks_put(s, "d", 1, &created);
	ok(created && v != NULL, "d is created past the bound");
	is_int(ks_count(s), 3, "the bound holds");
	is_int(ks_evictions(s), 1, "one eviction is counted");
	is_str(d.last, "b", "the least recently touched key was evicted");
	ok(ks_get(s, "b", 1) == NULL && ks_timers(s) == 0, "its timer went with it");
	ks_touch(s, ks_get(s, "c", 1));
	n = 0;
	for (v = ks_first(s); v != NULL; v = ks_next(s, v))
		names[n++] = *(const char *)ks_key(v, &klen);
	names[n] = '\0';
	is_str(names, "adc", "iteration runs from the least recently touched");
	ks_put(s, "e", 1, NULL);
	is_str(d.last, "a", "the next eviction takes the oldest again");
	is_int(ks_evictions(s), 2, "two evictions");
	/* Deleting during iteration, after taking next. */
	for (v = ks_first(s); v != NULL;) {
		struct val *next = ks_next(s, v);

		ks_del(s, v);
		v = next;
	}
	is_int(ks_count(s), 0, "every key deleted while iterating");
	ks_free(s);

	s = ks_new(sizeof(struct val), 1, drop, &d);
	ks_put(s, "x", 1, NULL);
	v = ks_put(s, "y", 1, NULL);
	ok(v != NULL && ks_get(s, "y", 1) == v && ks_count(s) == 1, "a bound of one keeps the new key");
	ks_free(s);
}

/* Many keys with the bound far past the table's first growth: the bound and the drop count agree. */
static void
test_lru_big(void)
{
	struct dropped d = { 0, "" };
	struct ks *s = ks_new(sizeof(struct val), 5000, drop, &d);
	size_t i, n = 0;
	char k[32];
	struct val *v;
	bool order = true;

	for (i = 0; i < 20000; i++)
		((struct val *)ks_put(s, k, (size_t)snprintf(k, sizeof(k), "%zu", i), NULL))->id = i;
	is_int(ks_count(s), 5000, "the bound holds past growth");
	is_int(ks_evictions(s), 15000, "every eviction is counted");
	is_int(d.n, 15000, "drop saw every eviction");
	for (v = ks_first(s); v != NULL; v = ks_next(s, v), n++)
		if (v->id != 15000 + n)
			order = false;
	ok(order && n == 5000, "the survivors are the newest, oldest first");
	ks_free(s);
}

int
main(void)
{
	test_basic();
	test_ties();
	test_heap_big();
	test_reschedule();
	test_lru();
	test_lru_big();
	return tap_done();
}
