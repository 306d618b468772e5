/* bloom: a Bloom filter of fixed memory, sized from a capacity and a false-positive rate. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bloom.h"
#include "hashmap.h"

/* A fixed seed, so a filter saved by one run answers the same in the next. */
#define BLOOM_SEED	UINT64_C(0x6e64666c6f77626c)	/* "ndflowbl" */

struct bloom {
	uint64_t	 m;	/* bits */
	unsigned	 k;	/* hash functions */
	size_t		 nbytes;
	uint8_t		*bits;
};

int
bloom_size(uint64_t n, double p, uint64_t *bits, unsigned *k)
{
	double ln2 = log(2.0), m, kk;

	if (n < 1 || !(p > 0.0 && p < 1.0))
		return -1;
	m = ceil(-(double)n * log(p) / (ln2 * ln2));
	if (!(m <= (double)BLOOM_MAX_BITS))
		return -1;
	if (m < 1.0)
		m = 1.0;
	kk = round(m / (double)n * ln2);
	if (kk < 1.0)
		kk = 1.0;
	*bits = (uint64_t)m;
	*k = (unsigned)kk;
	return 0;
}

struct bloom *
bloom_new(uint64_t n, double p)
{
	struct bloom *b;
	uint64_t m;
	unsigned k;

	if (bloom_size(n, p, &m, &k) == -1) {
		errno = EINVAL;
		return NULL;
	}
	if ((b = malloc(sizeof(*b))) == NULL)
		return NULL;
	b->m = m;
	b->k = k;
	b->nbytes = (size_t)((m + 7) / 8);
	if ((b->bits = calloc(b->nbytes, 1)) == NULL) {
		free(b);
		errno = ENOMEM;
		return NULL;
	}
	return b;
}

void
bloom_free(struct bloom *b)
{
	if (b == NULL)
		return;
	free(b->bits);
	free(b);
}

/* A bijective 64-bit finaliser (splitmix64's), to derive the second hash from the first. */
static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

/*
 * probe visits the k bit positions of a key by enhanced double hashing
 * (Dillinger and Manolios): x = h1, then x += y, y += i, all mod m.  The
 * cubic term keeps two keys that share h1 and h2 mod m from sharing all k
 * positions, which plain double hashing would.  With set, it sets each bit;
 * it returns whether every bit was already set.
 */
static bool
probe(const struct bloom *b, const void *key, size_t len, bool set)
{
	uint64_t h = hm_hash_seed(key, len, BLOOM_SEED);
	uint64_t m = b->m, x = h % m, y = mix64(h) % m;
	bool all = true;
	unsigned i;

	for (i = 0; i < b->k; i++) {
		uint8_t bit = (uint8_t)(1u << (x & 7));
		uint8_t *byte = &b->bits[x >> 3];

		if ((*byte & bit) == 0) {
			all = false;
			if (!set)
				return false;
			*byte |= bit;
		}
		/* x, y < m and i < k < m (bloom_size makes m >= k), so one subtraction reduces. */
		x += y;
		if (x >= m)
			x -= m;
		y += i;
		if (y >= m)
			y -= m;
	}
	return all;
}

bool
bloom_add(struct bloom *b, const void *key, size_t len)
{
	return probe(b, key, len, true);
}

bool
bloom_test(const struct bloom *b, const void *key, size_t len)
{
	return probe(b, key, len, false);
}

uint64_t
bloom_bits(const struct bloom *b)
{
	return b->m;
}

unsigned
bloom_hashes(const struct bloom *b)
{
	return b->k;
}

size_t
bloom_bytes(const struct bloom *b)
{
	return b->nbytes;
}

uint64_t
bloom_set_bits(const struct bloom *b)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < b->nbytes; i++)
		n += (uint64_t)__builtin_popcount(b->bits[i]);
	return n;
}

const uint8_t *
bloom_data(const struct bloom *b)
{
	return b->bits;
}

int
bloom_load(struct bloom *b, const void *data, size_t len)
{
	if (len != b->nbytes)
		return -1;
	memcpy(b->bits, data, len);
	/* Bits past m in the last byte never take part; keep them clear so saved filters compare equal. */
	if (b->m % 8 != 0)
		b->bits[b->nbytes - 1] &= (uint8_t)((1u << (b->m % 8)) - 1);
	return 0;
}

int
bloom_merge(struct bloom *dst, const struct bloom *src)
{
	size_t i;

	if (dst->m != src->m || dst->k != src->k)
		return -1;
	for (i = 0; i < dst->nbytes; i++)
		dst->bits[i] |= src->bits[i];
	return 0;
}
