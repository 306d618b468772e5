/* Unit tests for lib/bloom: sizing, no false negatives, the false-positive rate, save/load and merge. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bloom.h"
#include "tap.h"

#define NKEYS	100000

/* keyname writes a distinct key for each (set, i): set 0 is added, set 1 only probed. */
static size_t
keyname(char *out, size_t cap, int set, unsigned i)
{
	return (size_t)snprintf(out, cap, "%s-%u", set ? "absent" : "user", i);
}

/* fp_rate adds NKEYS keys to a filter of capacity NKEYS and rate p, checks them all, and measures false positives on NKEYS other keys. */
static void
fp_rate(double p)
{
	struct bloom *b = bloom_new(NKEYS, p);
	char key[64];
	unsigned i, missed = 0, fp = 0;
	size_t len;
	double rate;

	for (i = 0; i < NKEYS; i++) {
		len = keyname(key, sizeof(key), 0, i);
		bloom_add(b, key, len);
	}
	for (i = 0; i < NKEYS; i++) {
		len = keyname(key, sizeof(key), 0, i);
		if (!bloom_test(b, key, len))
			missed++;
	}
	is_int(missed, 0, "p=%g: every added key is found (no false negatives)", p);
	for (i = 0; i < NKEYS; i++) {
		len = keyname(key, sizeof(key), 1, i);
		if (bloom_test(b, key, len))
			fp++;
	}
	rate = (double)fp / NKEYS;
	printf("# p=%g: %u false positives in %d, rate %.5f\n", p, fp, NKEYS, rate);
	ok(rate <= 2 * p, "p=%g: false-positive rate %.5f is within 2x of p", p, rate);
	ok(rate >= p / 2, "p=%g: false-positive rate %.5f is not suspiciously below p/2", p, rate);
	bloom_free(b);
}

static void
test_sizing(void)
{
	uint64_t m;
	unsigned k;
	struct bloom *b;

	ok(bloom_size(1000000, 0.01, &m, &k) == 0, "1M keys at 1%% can be sized");
	/* -1e6 ln 0.01 / ln(2)^2 = 9585058.4 bits; k = round(9.585 * 0.693) = 7. */
	is_int(m, 9585059, "1M keys at 1%% take 9585059 bits");
	is_int(k, 7, "1M keys at 1%% take 7 hashes");
	ok(bloom_size(1000000, 0.001, &m, &k) == 0, "1M keys at 0.1%% can be sized");
	is_int(k, 10, "1M keys at 0.1%% take 10 hashes");
	ok(bloom_size(0, 0.01, &m, &k) == -1, "capacity 0 is refused");
	ok(bloom_size(10, 0.0, &m, &k) == -1, "rate 0 is refused");
	ok(bloom_size(10, 1.0, &m, &k) == -1, "rate 1 is refused");
	ok(bloom_size(10, NAN, &m, &k) == -1, "rate NaN is refused");
	ok(bloom_size(UINT64_MAX, 1e-9, &m, &k) == -1, "a filter past BLOOM_MAX_BITS is refused");
	errno = 0;
	ok(bloom_new(0, 0.5) == NULL && errno == EINVAL, "bloom_new refuses capacity 0 with EINVAL");
	ok(bloom_size(1, 0.5, &m, &k) == 0 && k >= 1 && m >= k, "the smallest filter has at least one hash and m >= k");

	b = bloom_new(1000000, 0.01);
	ok(b != NULL, "a 1M/1%% filter is made");
	is_int(bloom_bits(b), 9585059, "bloom_bits reports m");
	is_int(bloom_hashes(b), 7, "bloom_hashes reports k");
	is_int(bloom_bytes(b), (9585059 + 7) / 8, "bloom_bytes is m/8 rounded up");
	is_int(bloom_set_bits(b), 0, "a new filter has no bit set");
	bloom_free(b);
	bloom_free(NULL);
}

static void
test_add(void)
{
	struct bloom *b = bloom_new(100, 0.01);

	ok(!bloom_test(b, "a", 1), "an empty filter does not hold 'a'");
	ok(!bloom_add(b, "a", 1), "adding 'a' the first time reports it new");
	ok(bloom_add(b, "a", 1), "adding 'a' again reports it present");
	ok(bloom_test(b, "a", 1), "'a' is then found");
	ok(!bloom_test(b, "b", 1), "'b' is not found");
	ok(!bloom_add(b, "", 0), "the empty key can be added");
	ok(bloom_test(b, "", 0), "the empty key is then found");
	ok(bloom_set_bits(b) >= 1 && bloom_set_bits(b) <= 2 * bloom_hashes(b),
	    "two keys set between 1 and 2k bits");
	bloom_free(b);
}

static void
test_save_merge(void)
{
	struct bloom *a = bloom_new(1000, 0.01), *b = bloom_new(1000, 0.01);
	struct bloom *c = bloom_new(1000, 0.001), *d = bloom_new(1000, 0.01);
	unsigned char junk[3] = { 0 };

	bloom_add(a, "left", 4);
	bloom_add(b, "right", 5);
	ok(bloom_merge(a, b) == 0, "filters of one shape merge");
	ok(bloom_test(a, "left", 4) && bloom_test(a, "right", 5), "the merged filter holds both keys");
	ok(bloom_merge(a, c) == -1, "filters of different shapes do not merge");

	ok(bloom_load(d, bloom_data(a), bloom_bytes(a)) == 0, "saved bits load into a filter of the same shape");
	ok(bloom_test(d, "left", 4) && bloom_test(d, "right", 5), "the loaded filter holds the saved keys");
	ok(memcmp(bloom_data(d), bloom_data(a), bloom_bytes(a)) == 0, "the loaded bits equal the saved bits");
	ok(bloom_load(d, junk, sizeof(junk)) == -1, "bits of another length are refused");
	ok(bloom_test(d, "left", 4), "a refused load leaves the filter unchanged");
	bloom_free(a);
	bloom_free(b);
	bloom_free(c);
	bloom_free(d);
}

int
main(void)
{
	test_sizing();
	test_add();
	test_save_merge();
	fp_rate(0.01);
	fp_rate(0.001);
	return tap_done();
}
