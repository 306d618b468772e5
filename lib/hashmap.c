/* hashmap: open addressing with linear probing and backward-shift deletion, keyed by byte strings. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"

/*
 * An entry is one allocation: a 16-byte header, the value (so it is
 * 16-byte aligned), then the key and a NUL after it (so a key without
 * NULs can be used as a C string).  hm_key finds the header just before
 * the value and the key just after it.  The header keeps the key's hash,
 * so hm_del_value finds the entry's slot without hashing the key again.
 */
#define HDR	16

struct ent {
	uint64_t	hash;
	uint32_t	klen;
	uint32_t	vsize;
};

_Static_assert(sizeof(struct ent) <= HDR, "entry header fits in 16 bytes");

/* A slot keeps the full hash so probing and growing never touch the entries. */
struct slot {
	uint64_t	 hash;
	struct ent	*e;		/* NULL when the slot is empty */
};

/*
 * Deleted entries of up to POOL_MAX bytes are kept for reuse, one list per
 * size in 16-byte steps, linked through their first word: a map whose keys
 * come and go (a key per session, forgotten when it ends) then does not
 * call malloc and free for each.  At most 64 + count / 8 are kept, so the
 * memory held beyond the live entries stays a small share of them.
 */
#define POOL_MAX	512
#define NPOOL		(POOL_MAX / 16 + 1)

struct hm {
	struct slot	*slots;
	size_t		 mask;		/* capacity - 1, capacity a power of two */
	size_t		 count;
	size_t		 vsize;
	void		*pool[NPOOL];
	size_t		 pooled;
};

#define MIN_CAP	8

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL)
		abort();
	return p;
}

struct hm *
hm_new(size_t valsize)
{
	struct hm *m = xcalloc(1, sizeof(*m));

	m->slots = xcalloc(MIN_CAP, sizeof(*m->slots));
	m->mask = MIN_CAP - 1;
	m->vsize = valsize;
	return m;
}

void
hm_free(struct hm *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i <= m->mask; i++)
		free(m->slots[i].e);
	for (size_t c = 0; c < NPOOL; c++)
		while (m->pool[c] != NULL) {
			void *next = *(void **)m->pool[c];

			free(m->pool[c]);
			m->pool[c] = next;
		}
	free(m->slots);
	free(m);
}

size_t
hm_count(const struct hm *m)
{
	return m->count;
}

/*
 * The hash reads the key 8 bytes at a time as little-endian words (so it
 * is the same on every machine, which matters for saved Bloom filters),
 * mixes each word with a multiply and an xorshift before folding it into
 * the state with a rotate and a multiply, and ends with a 64-bit avalanche
 * finalizer so that every output bit depends on every input bit.
 */
#define K1	UINT64_C(0x9e3779b97f4a7c15)
#define K2	UINT64_C(0xd6e8feb86659fd93)
#define K3	UINT64_C(0xa0761d6478bd642f)

static inline uint64_t
fold(uint64_t h, uint64_t w)
{
	w *= K1;
	w ^= w >> 32;
	h ^= w;
	return hm_rotl(h, 27) * K2 + K3;
}

static inline uint64_t
fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= UINT64_C(0xff51afd7ed558ccd);
	k ^= k >> 33;
	k *= UINT64_C(0xc4ceb9fe1a85ec53);
	k ^= k >> 33;
	return k;
}

static inline uint64_t
load32(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24;
}

/*
 * hash_from folds the key into the state h.  The last partial word is read
 * without a byte loop: for a key of 8 bytes or more, as the (overlapping)
 * last 8 bytes; for 4 to 7 bytes, as the first and the last 4; for 1 to 3,
 * as the first, middle and last byte.  For a given length each of these
 * is a one-to-one function of the bytes, and the length is mixed in.
 */
static inline uint64_t
hash_from(uint64_t h, const unsigned char *p, size_t len)
{
	size_t n = len;

	h ^= (uint64_t)len * K2;
	if (len >= 8) {
		for (; n > 8; n -= 8, p += 8)
			h = fold(h, hm_le64(p));
		h = fold(h, hm_le64(p + n - 8));
	} else if (len >= 4)
		h = fold(h, load32(p) | load32(p + len - 4) << 32);
	else if (len > 0)
		h = fold(h, (uint64_t)p[0] | (uint64_t)p[len / 2] << 8 |
		    (uint64_t)p[len - 1] << 16);
	return fmix64(h ^ (uint64_t)len);
}

uint64_t
hm_hash_seed(const void *key, size_t len, uint64_t seed)
{
	return hash_from(fmix64(seed + K3), key, len);
}

uint64_t
hm_hash(const void *key, size_t len)
{
	return hash_from(fmix64(K3), key, len);
}

/* key_eq compares n bytes; keys of 4 to 16 bytes with two overlapping loads of each, inline. */
static inline bool
key_eq(const char *a, const char *b, size_t n)
{
	uint64_t x1, y1, x2, y2;
	uint32_t u1, v1, u2, v2;

	if (n >= 8 && n <= 16) {
		memcpy(&x1, a, 8);
		memcpy(&y1, b, 8);
		memcpy(&x2, a + n - 8, 8);
		memcpy(&y2, b + n - 8, 8);
		return ((x1 ^ y1) | (x2 ^ y2)) == 0;
	}
	if (n >= 4 && n < 8) {
		memcpy(&u1, a, 4);
		memcpy(&v1, b, 4);
		memcpy(&u2, a + n - 4, 4);
		memcpy(&v2, b + n - 4, 4);
		return ((u1 ^ v1) | (u2 ^ v2)) == 0;
	}
	return n == 0 || memcmp(a, b, n) == 0;
}

static inline bool
same(const struct slot *s, uint64_t h, const void *key, size_t len)
{
	return s->hash == h && s->e->klen == len &&
	    key_eq((const char *)s->e + HDR + s->e->vsize, key, len);
}

/* find returns the slot holding key, or the empty slot where it would go. */
static size_t
find(const struct hm *m, uint64_t h, const void *key, size_t len)
{
	size_t i = (size_t)h & m->mask;

	while (m->slots[i].e != NULL && !same(&m->slots[i], h, key, len))
		i = (i + 1) & m->mask;
	return i;
}

void *
hm_get(const struct hm *m, const void *key, size_t len)
{
	size_t i = find(m, hm_hash(key, len), key, len);

	return m->slots[i].e != NULL ? (char *)m->slots[i].e + HDR : NULL;
}

/* resize rehashes the slots into a table of cap slots; entries do not move, only their slots. */
static void
resize(struct hm *m, size_t cap)
{
	size_t oldcap = m->mask + 1;
	struct slot *old = m->slots;

	if (cap > SIZE_MAX / sizeof(*old))
		abort();
	m->slots = xcalloc(cap, sizeof(*m->slots));
	m->mask = cap - 1;
	for (size_t i = 0; i < oldcap; i++) {
		size_t j;

		if (old[i].e == NULL)
			continue;
		for (j = (size_t)old[i].hash & m->mask; m->slots[j].e != NULL;
		    j = (j + 1) & m->mask)
			;
		m->slots[j] = old[i];
	}
	free(old);
}

/* ent_size is the allocation size of an entry with a key of len bytes (aligned_alloc wants a multiple of 16). */
static inline size_t
ent_size(size_t vsize, size_t len)
{
	return (HDR + vsize + len + 1 + 15) & ~(size_t)15;
}

static struct ent *
ent_alloc(struct hm *m, size_t len)
{
	size_t sz = ent_size(m->vsize, len);
	void *p;

	if (sz <= POOL_MAX && (p = m->pool[sz / 16]) != NULL) {
		m->pool[sz / 16] = *(void **)p;
		m->pooled--;
		return p;
	}
	if ((p = aligned_alloc(16, sz)) == NULL)
		abort();
	return p;
}

static void
ent_free(struct hm *m, struct ent *e)
{
	size_t sz = ent_size(e->vsize, e->klen);

	if (sz <= POOL_MAX && m->pooled < 64 + m->count / 8) {
		*(void **)e = m->pool[sz / 16];
		m->pool[sz / 16] = e;
		m->pooled++;
	} else
		free(e);
}

void *
hm_put(struct hm *m, const void *key, size_t len, bool *created)
{
	uint64_t h = hm_hash(key, len);
	size_t i = find(m, h, key, len), vs;
	struct ent *e;

	if (m->slots[i].e != NULL) {
		if (created != NULL)
			*created = false;
		return (char *)m->slots[i].e + HDR;
	}
	/* Keep the load at most 3/4 so probes stay short and an empty slot always exists. */
	if ((m->count + 1) > (m->mask + 1) / 4 * 3) {
		resize(m, (m->mask + 1) * 2);
		i = find(m, h, key, len);
	}
	vs = m->vsize;
	if (len > UINT32_MAX || vs > UINT32_MAX)
		abort();
	e = ent_alloc(m, len);
	e->hash = h;
	e->klen = (uint32_t)len;
	e->vsize = (uint32_t)vs;
	memset((char *)e + HDR, 0, vs);
	if (len > 0)
		memcpy((char *)e + HDR + vs, key, len);
	((char *)e)[HDR + vs + len] = '\0';
	m->slots[i].hash = h;
	m->slots[i].e = e;
	m->count++;
	if (created != NULL)
		*created = true;
	return (char *)e + HDR;
}

/*
 * unlink_at frees the entry in slot i and closes the gap by shifting back
 * every following entry of the cluster whose probe path passes over the
 * gap (its home is not cyclically within (gap, j]).  Entries only move
 * toward their home, from later slots of the cluster into earlier ones.
 */
static void
unlink_at(struct hm *m, size_t i)
{
	size_t j = i;

	ent_free(m, m->slots[i].e);
	m->count--;
	for (;;) {
		size_t home;

		j = (j + 1) & m->mask;
		if (m->slots[j].e == NULL)
			break;
		home = (size_t)m->slots[j].hash & m->mask;
		if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].e = NULL;
	m->slots[i].hash = 0;
}

/*
 * del_slot deletes the entry in slot i, then shrinks the table below 1/8
 * full, to half: the load is then under 1/4, far from the 3/4 that grows
 * it, so a burst of keys that leaves costs its table too, and iterating
 * stays proportional to what is held.
 */
static void
del_slot(struct hm *m, size_t i)
{
	unlink_at(m, i);
	if (m->mask + 1 > MIN_CAP && m->count < (m->mask + 1) / 8)
		resize(m, (m->mask + 1) / 2);
}

int
hm_del(struct hm *m, const void *key, size_t len)
{
	size_t i = find(m, hm_hash(key, len), key, len);

	if (m->slots[i].e == NULL)
		return 0;
	del_slot(m, i);
	return 1;
}

void
hm_del_value(struct hm *m, void *v)
{
	struct ent *e = (struct ent *)(void *)((char *)v - HDR);
	size_t i = (size_t)e->hash & m->mask;

	/* The entry is in the table, so its probe path from home reaches it. */
	while (m->slots[i].e != e)
		i = (i + 1) & m->mask;
	del_slot(m, i);
}

const void *
hm_key(const void *v, size_t *len)
{
	const struct ent *e = (const struct ent *)(const void *)((const char *)v - HDR);

	if (len != NULL)
		*len = e->klen;
	return (const char *)v + e->vsize;
}

/*
 * Iteration must survive hm_del_iter, whose backward shift moves later
 * entries of the cluster into the freed slot, and the cluster that runs
 * off the end of the table continues at slot 0.  So the walk has two
 * passes over positions L = 0, 1, ...: for L < capacity it visits slot L
 * unless its entry wrapped (home > L, it sits at the start of the table
 * but belongs to the cluster at the end); for L >= capacity it visits the
 * wrapped entries of slot L - capacity, stopping at the first empty slot.
 * After hm_del_iter the walk looks at the same position again.
 *
 * This visits every entry exactly once: a shift only moves an entry to an
 * earlier slot of its cluster, at or after the current position, except
 * that an entry in the wrapped head may move into the tail, where it is
 * then seen as an ordinary entry that is not yet visited; and an entry
 * moved inside the head keeps its kind (a wrapped one still has home > slot,
 * an unwrapped one still has home <= slot), so it is seen in its own pass.
 * The iterator holds L - 1 before hm_next; SIZE_MAX is "before the start".
 */
void *
hm_next(const struct hm *m, hm_iter *it)
{
	size_t cap = m->mask + 1, l = *it + 1;

	for (; l < cap; l++) {
		const struct slot *s = &m->slots[l];

		if (s->e != NULL && ((size_t)s->hash & m->mask) <= l) {
			*it = l;
			return (char *)s->e + HDR;
		}
	}
	for (; l - cap < cap; l++) {
		const struct slot *s = &m->slots[l - cap];

		if (s->e == NULL)
			break;
		if (((size_t)s->hash & m->mask) > l - cap) {
			*it = l;
			return (char *)s->e + HDR;
		}
	}
	*it = 2 * cap - 1;	/* the next hm_next starts past the end again */
	return NULL;
}

void *
hm_first(const struct hm *m, hm_iter *it)
{
	*it = SIZE_MAX;
	return hm_next(m, it);
}

void
hm_del_iter(struct hm *m, hm_iter *it)
{
	size_t cap = m->mask + 1, l = *it;

	unlink_at(m, l < cap ? l : l - cap);
	*it = l - 1;	/* look at this slot again: a later entry may have moved in */
}
