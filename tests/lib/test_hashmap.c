/* Unit tests of lib/hashmap: against a reference model, growth, deletion while iterating, the hash. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"
#include "tap.h"

/* rnd is a small deterministic generator (xorshift64*). */
static uint64_t rstate = 0x2545f4914f6cdd1d;

static uint64_t
rnd(void)
{
	rstate ^= rstate >> 12;
	rstate ^= rstate << 25;
	rstate ^= rstate >> 27;
	return rstate * UINT64_C(2685821657736338717);
}

struct val {
	uint64_t	id;
	char		pad[24];
};

/* mkkey writes the key of number i: varied lengths, some with NUL and high bytes. */
static size_t
mkkey(char *buf, size_t i)
{
	size_t n = (size_t)snprintf(buf, 64, "key-%zu", i);

	if (i % 3 == 1) {
		buf[n++] = '\0';
		buf[n++] = (char)(0x80 | (i & 0x7f));
	}
	if (i % 7 == 2) {
		memcpy(buf + n, "-a-longer-tail-for-some-keys", 28);
		n += 28;
	}
	return n;
}

static void
test_basic(void)
{
	struct hm *m = hm_new(sizeof(struct val));
	bool created = false;
	struct val *v, *w;
	size_t klen;
	const char *k;

	is_int(hm_count(m), 0, "a new map is empty");
	ok(hm_get(m, "a", 1) == NULL, "a missing key is NULL");
	v = hm_put(m, "a", 1, &created);
	ok(v != NULL && created, "put inserts a new key");
	ok(v->id == 0 && v->pad[23] == 0, "a new value is zeroed");
	ok(((uintptr_t)v & 15) == 0, "a value is 16-byte aligned");
	v->id = 42;
	w = hm_put(m, "a", 1, &created);
	ok(w == v && !created, "put of an existing key returns its value");
	ok(hm_get(m, "a", 1) == v, "get finds the value");
	k = hm_key(v, &klen);
	ok(klen == 1 && memcmp(k, "a", 1) == 0 && k[1] == '\0', "hm_key gives the key, NUL-terminated");
	ok(hm_put(m, "b", 1, NULL) != NULL, "created may be NULL");
	is_int(hm_count(m), 2, "two keys are counted");
	is_int(hm_del(m, "a", 1), 1, "del of a present key is 1");
	is_int(hm_del(m, "a", 1), 0, "del of an absent key is 0");
	ok(hm_get(m, "a", 1) == NULL, "a deleted key is gone");
	is_int(hm_count(m), 1, "the count drops on delete");
	hm_free(m);
	hm_free(NULL);

	m = hm_new(0);
	v = hm_put(m, "", 0, &created);
	ok(v != NULL && created, "the empty key can be inserted with a zero-size value");
	ok(hm_get(m, NULL, 0) == v, "the empty key is found with a NULL pointer");
	k = hm_key(v, &klen);
	ok(klen == 0 && k[0] == '\0', "the empty key's hm_key has length 0");
	hm_put(m, "a\0b", 3, NULL);
	hm_put(m, "a\0c", 3, NULL);
	hm_put(m, "a", 1, NULL);
	hm_put(m, "a\0", 2, NULL);
	is_int(hm_count(m), 5, "keys differing after a NUL are distinct");
	k = hm_key(hm_get(m, "a\0c", 3), &klen);
	ok(klen == 3 && memcmp(k, "a\0c", 3) == 0, "a key with a NUL comes back whole");
	is_int(hm_del(m, "a\0b", 3), 1, "a key with a NUL is deleted");
	ok(hm_get(m, "a\0c", 3) != NULL && hm_get(m, "a", 1) != NULL && hm_get(m, "a\0", 2) != NULL,
	    "its neighbours stay");
	hm_free(m);
}

/* test_model runs random puts, gets and deletes on 100k keys against a plain array. */
static void
test_model(void)
{
	enum { N = 100000, OPS = 1000000 };
	struct hm *m = hm_new(sizeof(struct val));
	struct val **ref = calloc(N, sizeof(*ref));
	unsigned char *seen = calloc(N, 1);
	size_t count = 0, bad = 0, moved = 0, visited = 0;
	char key[64];
	hm_iter it;
	struct val *v;

	for (size_t i = 0; i < N; i++) {
		size_t n = mkkey(key, i);
		bool created;

		v = hm_put(m, key, n, &created);
		if (!created || ((uintptr_t)v & 15) != 0)
			bad++;
		v->id = i;
		ref[i] = v;
		count++;
	}
	ok(bad == 0, "100000 keys are inserted, each new and aligned");
	is_int(hm_count(m), N, "the count is 100000");
	bad = 0;
	for (size_t i = 0; i < N; i++) {
		size_t n = mkkey(key, i), kl;
		const void *k;

		v = hm_get(m, key, n);
		if (v != ref[i])
			moved++;
		k = hm_key(v, &kl);
		if (v->id != i || kl != n || memcmp(k, key, n) != 0)
			bad++;
	}
	ok(moved == 0, "values did not move while the table grew");
	ok(bad == 0, "every key has its value and hm_key");

	bad = 0;
	for (size_t op = 0; op < OPS; op++) {
		size_t i = (size_t)(rnd() % N), n = mkkey(key, i);
		bool created;

		switch (rnd() % 3) {
		case 0:
			v = hm_put(m, key, n, &created);
			if (created != (ref[i] == NULL) || (ref[i] != NULL && v != ref[i]) ||
			    (created && v->id != 0))
				bad++;
			if (created) {
				v->id = i;
				ref[i] = v;
				count++;
			}
			break;
		case 1:
			if (hm_del(m, key, n) != (ref[i] != NULL))
				bad++;
			if (ref[i] != NULL)
				count--;
			ref[i] = NULL;
			break;
		default:
			if (hm_get(m, key, n) != ref[i])
				bad++;
			break;
		}
	}
	ok(bad == 0, "1000000 random put/del/get agree with the model");
	is_int(hm_count(m), count, "the count agrees with the model");

	bad = 0;
	for (v = hm_first(m, &it); v != NULL; v = hm_next(m, &it)) {
		if (v->id >= N || ref[v->id] != v || seen[v->id]++)
			bad++;
		visited++;
	}
	ok(bad == 0 && visited == count, "iteration visits each of the %zu keys once", count);
	ok(hm_next(m, &it) == NULL, "hm_next after the end stays at the end");

	for (size_t i = 0; i < N; i++)
		if (ref[i] != NULL)
			hm_del(m, key, mkkey(key, i));
	is_int(hm_count(m), 0, "deleting every key empties the map");
	ok(hm_first(m, &it) == NULL, "an empty map iterates over nothing");
	hm_free(m);
	free(ref);
	free(seen);
}

/*
 * test_del_value: hm_del_value deletes by the value pointer, finding its
 * slot from the hash kept in the entry.  Random puts, deletes by value
 * and by key and gets against a model, through bursts of inserts and
 * of deletes that grow the table and shrink it again.
 */
static void
test_del_value(void)
{
	enum { N = 20000, OPS = 400000 };
	struct hm *m = hm_new(sizeof(struct val));
	struct val **ref = calloc(N, sizeof(*ref));
	size_t count = 0, bad = 0, byval = 0, peak = 0;
	char key[64];

	for (size_t op = 0; op < OPS; op++) {
		/* A burst of inserts, then of deletes, so the table grows and shrinks again. */
		size_t i = (size_t)(rnd() % N), n = mkkey(key, i), r = rnd() % 8;
		bool created, grow = (op / 50000) % 2 == 0;
		struct val *v;

		if (r < (grow ? 5u : 1u)) {
			v = hm_put(m, key, n, &created);
			if (created != (ref[i] == NULL) || (!created && v != ref[i]) ||
			    (created && (v->id != 0 || v->pad[23] != 0)))
				bad++;
			if (created) {
				v->id = i;
				v->pad[23] = 1;	/* a reused entry must come back zeroed */
				ref[i] = v;
				count++;
			}
		} else if (r < 7 && ref[i] != NULL) {
			if (r % 2 == 0) {
				hm_del_value(m, ref[i]);
				byval++;
			} else if (hm_del(m, key, n) != 1)
				bad++;
			ref[i] = NULL;
			count--;
		} else if (hm_get(m, key, n) != ref[i])
			bad++;
		if (count > peak)
			peak = count;
	}
	for (size_t i = 0; i < N; i++) {
		struct val *v = hm_get(m, key, mkkey(key, i));

		if (v != ref[i] || (v != NULL && v->id != i))
			bad++;
	}
	ok(bad == 0 && byval > 10000,
	    "random put, get, hm_del and hm_del_value (%zu) agree with the model; reused entries come back zeroed", byval);
	is_int(hm_count(m), count, "the count agrees with the model after hm_del_value");
	ok(peak > 10000, "the map grew past 10000 keys (%zu) and shrank again", peak);
	for (size_t i = 0; i < N; i++)
		if (ref[i] != NULL)
			hm_del_value(m, ref[i]);
	is_int(hm_count(m), 0, "deleting every value by pointer empties the map");
	hm_free(m);
	free(ref);
}

/*
 * iter_delete fills a map with n keys (drawn from the keys whose home slot
 * is listed in homes when homes is not NULL, to build clusters that wrap
 * around the end of the table), then iterates deleting each entry with
 * probability pct%, and checks that every key was visited exactly once and
 * that the survivors are exactly the ones not deleted.
 */
static int
iter_delete(size_t n, int pct, size_t cap, size_t nhomes)
{
	struct hm *m = hm_new(sizeof(struct val));
	size_t *ids = malloc(n * sizeof(*ids));
	unsigned char *visits = calloc(n, 1), *deleted = calloc(n, 1);
	char key[64];
	size_t got = 0, kept = 0, cand = rnd() % 1000000;
	hm_iter it;
	struct val *v;
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		size_t kl;

		/* With nhomes, choose keys whose home is one of the last nhomes slots. */
		do
			kl = mkkey(key, cand++);
		while (nhomes > 0 && (hm_hash(key, kl) & (cap - 1)) < cap - nhomes);
		ids[i] = cand - 1;
		v = hm_put(m, key, kl, NULL);
		v->id = i;
	}
	for (v = hm_first(m, &it); v != NULL; v = hm_next(m, &it)) {
		if (v->id >= n || visits[v->id]++ != 0)
			bad++;
		got++;
		if ((int)(rnd() % 100) < pct) {
			deleted[v->id] = 1;
			hm_del_iter(m, &it);
		}
	}
	if (got != n)
		bad++;
	for (size_t i = 0; i < n; i++) {
		size_t kl = mkkey(key, ids[i]);

		v = hm_get(m, key, kl);
		if ((v == NULL) != deleted[i] || (v != NULL && v->id != i))
			bad++;
		kept += !deleted[i];
	}
	if (hm_count(m) != kept)
		bad++;
	got = 0;
	for (v = hm_first(m, &it); v != NULL; v = hm_next(m, &it))
		got++;
	if (got != kept)
		bad++;
	hm_free(m);
	free(ids);
	free(visits);
	free(deleted);
	return bad;
}

static void
test_iter_delete(void)
{
	int bad = 0, trials = 0;

	/* Sizes at and just under each growth point, so tables are as full as they get. */
	for (size_t n = 1; n <= 200; n++)
		for (int pct = 0; pct <= 100; pct += 25, trials++)
			bad += iter_delete(n, pct, 0, 0) != 0;
	ok(bad == 0, "deleting while iterating visits each key once (%d trials, 1-200 keys)", trials);

	bad = 0;
	trials = 0;
	/* 6 keys fill a table of 8 to 3/4; 12 of 16; 24 of 32; 48 of 64. */
	for (size_t cap = 8; cap <= 64; cap *= 2)
		for (size_t nhomes = 1; nhomes <= 3; nhomes++)
			for (int rep = 0; rep < 200; rep++, trials++)
				bad += iter_delete(cap / 4 * 3, (int)(rnd() % 101), cap, nhomes) != 0;
	ok(bad == 0, "clusters wrapping past the end survive deletion while iterating (%d trials)",
	    trials);

	bad = iter_delete(100000, 50, 0, 0);
	ok(bad == 0, "deleting half of 100000 keys while iterating visits each once");
	bad = iter_delete(50000, 100, 0, 0);
	ok(bad == 0, "deleting every key while iterating visits each once");
}

/* chi2 returns the chi-square statistic of nb buckets of n items. */
static double
chi2(const unsigned *b, size_t nb, size_t n)
{
	double e = (double)n / (double)nb, x = 0;

	for (size_t i = 0; i < nb; i++)
		x += ((double)b[i] - e) * ((double)b[i] - e) / e;
	return x;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A burst of keys that leaves shrinks the table: what stays is still found, iteration sees it all. */
static void
test_shrink(void)
{
	struct hm *m = hm_new(sizeof(uint64_t));
	uint64_t i, *v, seen = 0, sum = 0;
	hm_iter it;
	int found = 1;

	for (i = 0; i < 100000; i++)
		*(uint64_t *)hm_put(m, &i, sizeof i, NULL) = i;
	for (i = 0; i < 100000; i++)
		if (i % 10000 != 7)
			hm_del(m, &i, sizeof i);
	is_int((long long)hm_count(m), 10, "10 of 100000 keys left after deleting the rest");
	for (i = 7; i < 100000; i += 10000)
		if ((v = hm_get(m, &i, sizeof i)) == NULL || *v != i)
			found = 0;
	ok(found, "every key left is found after the table shrank");
	for (v = hm_first(m, &it); v != NULL; v = hm_next(m, &it)) {
		seen++;
		sum += *v;
	}
	ok(seen == 10 && sum == 10 * 7 + 10000 * 45, "iteration sees exactly the keys left");
	for (i = 0; i < 1000; i++)
		*(uint64_t *)hm_put(m, &i, sizeof i, NULL) = i;
	is_int((long long)hm_count(m), 1009, "it grows again after shrinking");
	hm_free(m);
}

static void
test_hash(void)
{
	enum { NB = 1024, NK = 1000000 };
	static unsigned lo[NB], hi[NB], mid[NB], seq[NB];
	/* Loose: the 1023-degree statistic has mean 1023 and sd 45. */
	const double bound = 1023 + 8 * sqrt(2 * 1023.0);
	char key[32];
	double xlo, xhi, xmid, xseq, worst = 0;
	int bad;

	for (size_t i = 0; i < NK; i++) {
		int n = snprintf(key, sizeof(key), "user_%zu", i);
		uint64_t h = hm_hash(key, (size_t)n), w = i;
		unsigned char b8[8];

		lo[h % NB]++;
		hi[h >> 54]++;
		mid[(h >> 27) % NB]++;
		for (int j = 0; j < 8; j++)
			b8[j] = (unsigned char)(w >> (8 * j));
		seq[hm_hash(b8, 8) % NB]++;
	}
	xlo = chi2(lo, NB, NK);
	xhi = chi2(hi, NB, NK);
	xmid = chi2(mid, NB, NK);
	xseq = chi2(seq, NB, NK);
	ok(xlo < bound, "low bits of 1M string keys spread evenly (chi2 %.0f < %.0f)", xlo, bound);
	ok(xhi < bound, "high bits spread evenly (chi2 %.0f)", xhi);
	ok(xmid < bound, "middle bits spread evenly (chi2 %.0f)", xmid);
	ok(xseq < bound, "sequential 8-byte integers spread evenly (chi2 %.0f)", xseq);

	/* Avalanche: flipping any input bit flips each output bit about half the time. */
	/* One-byte keys are left out: 256 keys are too few to measure a bias. */
	for (size_t len = 2; len <= 24; len += (len < 9 ? 1 : 7)) {
		static unsigned flips[24 * 8][64];
		enum { S = 400 };
		unsigned char k[24];

		memset(flips, 0, sizeof(flips));
		for (int s = 0; s < S; s++) {
			uint64_t h0;

			for (size_t j = 0; j < len; j++)
				k[j] = (unsigned char)rnd();
			h0 = hm_hash(k, len);
			for (size_t bit = 0; bit < len * 8; bit++) {
				uint64_t d;

				k[bit / 8] ^= (unsigned char)(1u << (bit % 8));
				d = h0 ^ hm_hash(k, len);
				k[bit / 8] ^= (unsigned char)(1u << (bit % 8));
				for (int o = 0; o < 64; o++)
					flips[bit][o] += (unsigned)(d >> o & 1);
			}
		}
		for (size_t bit = 0; bit < len * 8; bit++)
			for (int o = 0; o < 64; o++) {
				double p = flips[bit][o] / (double)S;

				if (fabs(p - 0.5) > worst)
					worst = fabs(p - 0.5);
			}
	}
	/* 400 samples: sd 0.025, so 0.15 is 6 sd. */
	ok(worst < 0.15, "every input bit flips every output bit about half the time (worst bias %.3f)",
	    worst);

	bad = 0;
	for (uint64_t s = 0; s < 64; s++)
		if (hm_hash_seed("abc", 3, s) == hm_hash_seed("abc", 3, s + 1))
			bad++;
	ok(bad == 0, "different seeds give different hashes");
	ok(hm_hash("abc", 3) == hm_hash_seed("abc", 3, 0), "hm_hash is seed 0");
	ok(hm_hash("", 0) != hm_hash("\0", 1) && hm_hash("\0", 1) != hm_hash("\0\0", 2),
	    "keys of NULs differ by length");
	ok(hm_hash("abcdefgh", 8) != hm_hash("abcdefgh\0", 9), "a trailing NUL after a word changes the hash");
	bad = 0;
	{
		/* Keys of up to 8 bytes and one length map one-to-one: no two 2-byte keys collide. */
		static uint64_t hs[65536 + 256];
		size_t n = 0;

		for (unsigned i = 0; i < 65536; i++) {
			unsigned char k2[2] = { (unsigned char)i, (unsigned char)(i >> 8) };

			hs[n++] = hm_hash(k2, 2);
		}
		for (unsigned i = 0; i < 256; i++) {
			unsigned char k1 = (unsigned char)i;

			hs[n++] = hm_hash(&k1, 1);
		}
		qsort(hs, n, sizeof(hs[0]), cmp_u64);
		for (size_t i = 1; i < n; i++)
			bad += hs[i] == hs[i - 1];
	}
	ok(bad == 0, "all 1- and 2-byte keys have distinct hashes");
	/* Saved Bloom filters depend on these: the hash must not change across versions or machines. */
	is_int((long long)hm_hash("ndflow", 6), -3611366880828148819LL, "hm_hash(\"ndflow\") is pinned");
	is_int((long long)hm_hash_seed("user_123 page", 13, 7), 7353905285244780665LL,
	    "hm_hash_seed(\"user_123 page\", 7) is pinned");
}

int
main(void)
{
	test_basic();
	test_model();
	test_del_value();
	test_iter_delete();
	test_shrink();
	test_hash();
	return tap_done();
}
