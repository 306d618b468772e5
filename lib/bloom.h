/* bloom: a Bloom filter of fixed memory, sized from a capacity and a false-positive rate. */
#ifndef NDFLOW_BLOOM_H
#define NDFLOW_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * For capacity N and false-positive rate P the filter has
 * m = ceil(-N ln P / (ln 2)^2) bits and k = round(m / N * ln 2) hash
 * functions (at least 1), the sizes that make the rate P when N distinct
 * keys have been added.  The k bit positions of a key come from one
 * hm_hash_seed() by enhanced double hashing, so a lookup costs one hash of
 * the key whatever k is.  Memory is fixed at creation: adding never
 * allocates, and past N keys the rate simply rises.
 */
struct bloom;

/* The largest filter bloom_new will make: 2^40 bits (128 GiB). */
#define BLOOM_MAX_BITS	(UINT64_C(1) << 40)

/*
 * bloom_size computes the bits and hash count for capacity n (>= 1) and
 * rate p (0 < p < 1) without allocating.  Returns 0, or -1 when the
 * arguments are out of range or m would exceed BLOOM_MAX_BITS.
 */
int	bloom_size(uint64_t n, double p, uint64_t *bits, unsigned *k);

/*
 * bloom_new returns an empty filter for capacity n and rate p.  Returns
 * NULL with errno EINVAL when bloom_size() refuses the arguments, or
 * ENOMEM when the bits cannot be allocated.
 */
struct bloom	*bloom_new(uint64_t n, double p);
void		 bloom_free(struct bloom *);

/*
 * bloom_add adds a key and reports whether it was (probably) there
 * already: returns true when all k bits were set before, so a true answer
 * is wrong with probability about P and a false answer is always right.
 */
bool	bloom_add(struct bloom *, const void *key, size_t len);
/* bloom_test reports whether the key is (probably) in the filter, without adding it. */
bool	bloom_test(const struct bloom *, const void *key, size_t len);

/* The filter's shape: bits m, hashes k, and the bytes the bit array takes. */
uint64_t	 bloom_bits(const struct bloom *);
unsigned	 bloom_hashes(const struct bloom *);
size_t		 bloom_bytes(const struct bloom *);
/* bloom_set_bits returns the number of bits set (for the fill ratio; costs a scan). */
uint64_t	 bloom_set_bits(const struct bloom *);

/*
 * The bit array as bytes, for saving a filter: bloom_data returns
 * bloom_bytes() bytes (bit i is bit i%8 of byte i/8, whatever the host's
 * byte order).  bloom_load replaces the bits with len bytes saved from a
 * filter of the same shape; returns 0, or -1 when len differs (the
 * filter is unchanged).
 */
const uint8_t	*bloom_data(const struct bloom *);
int		 bloom_load(struct bloom *, const void *data, size_t len);

/*
 * bloom_merge ORs src into dst, so dst holds the union of both sets.
 * Returns 0, or -1 when the filters have different shapes (dst unchanged).
 */
int	bloom_merge(struct bloom *dst, const struct bloom *src);

#endif
