/* Unit tests of lib/fpset: fingerprints (spread, length, byte forms) and the set past many growths. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpset.h"
#include "tap.h"

static int
popcount64(uint64_t x)
{
	return __builtin_popcountll(x);
}

static int
fp_cmp(const void *a, const void *b)
{
	const struct fp *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

/* distinct_halves counts the fingerprints whose lo (or hi) another one shares. */
static size_t
shared(struct fp *f, size_t n, int half)
{
	size_t i, same = 0;

	for (i = 0; i < n; i++)
		if (half)
			f[i] = (struct fp){ f[i].hi, f[i].lo };
	qsort(f, n, sizeof(*f), fp_cmp);
	for (i = 1; i < n; i++)
		same += f[i].lo == f[i - 1].lo;
	return same;
}

/* Strings that differ little (a counter in text, zeros of every length, one bit) get unrelated fingerprints. */
static void
test_spread(void)
{
	enum { N = 400000 };
	struct fp *f = malloc(2 * N * sizeof(*f));
	unsigned char zeros[64] = { 0 }, one[64];
	char t[32];
	size_t i, n = 0;
	long flips = 0, trials = 0;

	for (i = 0; i < N; i++)
		f[n++] = fp_of(t, (size_t)snprintf(t, sizeof(t), "{\"id\":%zu}", i));
	for (i = 0; i < 64; i++)
		f[n++] = fp_of(zeros, i);	/* the length alone tells them apart */
	/* Every single-bit string of 1 to 48 bytes. */
	for (size_t len = 1; len <= 48 && n < 2 * N; len++)
		for (size_t bit = 0; bit < 8 * len; bit++) {
			memset(one, 0, sizeof(one));
			one[bit / 8] = (unsigned char)(1u << (bit % 8));
			f[n++] = fp_of(one, len);
		}
	is_int(shared(f, n, 0), 0, "no two of %zu near-identical strings share the low 64 bits", n);
	is_int(shared(f, n, 1), 0, "nor the high 64 bits");
	/* Avalanche: one flipped input bit flips about half of the 128 output bits. */
	for (i = 0; i < 2000; i++) {
		unsigned char b[40];
		struct fp x, y;

		for (size_t k = 0; k < sizeof(b); k++)
			b[k] = (unsigned char)(i * 131 + k * 7);
		x = fp_of(b, sizeof(b));
		b[i % sizeof(b)] ^= (unsigned char)(1u << (i % 8));
		y = fp_of(b, sizeof(b));
		flips += popcount64(x.lo ^ y.lo) + popcount64(x.hi ^ y.hi);
		trials++;
	}
	ok(flips > 62 * trials && flips < 66 * trials, "a one-bit change flips %.2f of 128 bits on average",
	    (double)flips / (double)trials);
	free(f);
}

static void
test_forms(void)
{
	struct fp f = fp_of("hello", 5), g;
	unsigned char b[FP_BYTES];
	char hex[2 * FP_BYTES + 1], up[2 * FP_BYTES + 1];

	ok(fp_of("hello", 5).lo == f.lo && fp_of("hello", 5).hi == f.hi, "the same bytes, the same fingerprint");
	fp_bytes(&f, b);
	g = fp_from_bytes(b);
	ok(g.lo == f.lo && g.hi == f.hi, "bytes read back");
	ok((b[0] == (f.lo & 0xff)) && b[8] == (f.hi & 0xff), "bytes are little-endian lo then hi");
	fp_hex(&f, hex);
	is_int(strlen(hex), 32, "32 hex digits");
	ok(fp_parse_hex(hex, 32, &g) == 0 && g.lo == f.lo && g.hi == f.hi, "hex reads back");
	for (int i = 0; i < 33; i++)
		up[i] = hex[i] >= 'a' && hex[i] <= 'f' ? (char)(hex[i] - 32) : hex[i];
	ok(fp_parse_hex(up, 32, &g) == 0 && g.lo == f.lo, "upper-case hex reads too");
	ok(fp_parse_hex(hex, 31, &g) == -1, "31 digits are refused");
	hex[5] = 'g';
	ok(fp_parse_hex(hex, 32, &g) == -1, "a non-hex digit is refused");
}

/* The set: 300k fingerprints through many growths, each added once, then all again; order of arrival kept. */
static void
test_set(void)
{
	enum { N = 300000 };
	struct fpset *s = fps_new();
	struct fp f;
	char t[32];
	size_t i, fresh = 0, again = 0, inorder = 0;

	for (i = 0; i < N; i++) {
		f = fp_of(t, (size_t)snprintf(t, sizeof(t), "k%zu", i));
		fresh += fps_add(s, &f) == 1;
		if (i % 3 == 0)	/* repeats while it grows */
			again += fps_add(s, &f) == 0;
	}
	is_int(fresh, N, "every new fingerprint is new");
	is_int(again, (N + 2) / 3, "every repeat during growth is found");
	is_int(fps_count(s), N, "count");
	for (i = 0, again = 0; i < N; i++) {
		f = fp_of(t, (size_t)snprintf(t, sizeof(t), "k%zu", i));
		again += fps_add(s, &f) == 0;
		inorder += fps_at(s, i)->lo == f.lo && fps_at(s, i)->hi == f.hi;
	}
	is_int(again, N, "all found after the last growth");
	is_int(inorder, N, "fps_at gives them in arrival order");
	/* A fingerprint that shares lo (the slot) and the tag but not the rest is another one. */
	f = *fps_at(s, 7);
	f.hi ^= 1;
	is_int(fps_add(s, &f), 1, "same slot and tag, other low bits of hi: new");
	fps_free(s);
	fps_free(NULL);
}

int
main(void)
{
	test_spread();
	test_forms();
	test_set();
	return tap_done();
}
