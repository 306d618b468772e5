/* hashmap: an open-addressing hash table keyed by byte strings, holding fixed-size values. */
#ifndef NDFLOW_HASHMAP_H
#define NDFLOW_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Each entry is one allocation holding its key and a value of the size
 * given to hm_new, so a value pointer stays valid until its entry is
 * deleted or the map freed (growing the table does not move entries).
 * Values start zeroed.  Deletion is tombstone-free (backward shift).
 */
struct hm;

/*
 * hm_le64 reads 8 bytes as a little-endian word (the same on every machine:
 * saved Bloom filters and fingerprints depend on it); hm_rotl rotates left.
 * The building blocks of the hashes here and in lib/fpset.
 */
static inline uint64_t
hm_le64(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	    (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static inline uint64_t
hm_rotl(uint64_t x, int r)
{
	return x << r | x >> (64 - r);
}

struct hm	*hm_new(size_t valsize);
/* hm_free frees the table and every entry; free what values point to first (hm_foreach). */
void		 hm_free(struct hm *);
size_t		 hm_count(const struct hm *);

/* hm_hash is the 64-bit hash the table uses; also good for sketches (well mixed in every bit). */
uint64_t	 hm_hash(const void *key, size_t len);
/* hm_hash_seed is the same hash with a seed, for the k hashes of a Bloom filter. */
uint64_t	 hm_hash_seed(const void *key, size_t len, uint64_t seed);

/* hm_get returns the value for key, or NULL when absent. */
void	*hm_get(const struct hm *, const void *key, size_t len);
/*
 * hm_put returns the value for key, inserting a zeroed one when absent;
 * *created (if not NULL) says which.  Aborts on allocation failure, and
 * on a key (or value) of 4 GiB or more.
 */
void	*hm_put(struct hm *, const void *key, size_t len, bool *created);
/*
 * hm_del removes key; returns 1 if it was there.  The table shrinks when
 * it is under 1/8 full (iteration order then changes; hm_del_iter never
 * shrinks, so iterating and deleting stays safe).
 */
int	 hm_del(struct hm *, const void *key, size_t len);
/*
 * hm_del_value removes the entry whose value is v (a pointer from
 * hm_get/hm_put/iteration, still in the map), without hashing or
 * comparing its key; it shrinks the table as hm_del does.
 */
void	 hm_del_value(struct hm *, void *v);

/* hm_key returns the key of the entry whose value is v (a pointer from hm_get/hm_put/iteration). */
const void	*hm_key(const void *v, size_t *len);

/*
 * Iteration, in table order (unspecified, stable while the map is not
 * changed).  for (v = hm_first(m, &it); v; v = hm_next(m, &it)).
 * hm_del_iter deletes the current entry during iteration; the next
 * hm_next continues correctly.
 */
typedef size_t hm_iter;
void	*hm_first(const struct hm *, hm_iter *);
void	*hm_next(const struct hm *, hm_iter *);
void	 hm_del_iter(struct hm *, hm_iter *);

#endif
