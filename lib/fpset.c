/* fpset: a two-lane 128-bit hash built on folded 64x64-bit multiplies, and an index of fingerprints in arrival order. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hashmap.h"
#include "fpset.h"

/*
 * The hash.  Two 64-bit lanes read the string 16 bytes at a time as two
 * little-endian words w0, w1.  Each lane first scrambles its state with a
 * bijection (rotate, multiply by an odd constant), so no block can erase
 * what came before, then adds a folded multiply of the two words, each
 * masked with a lane's constant: the high and low halves of the 128-bit
 * product xored, so every bit of both words reaches every output bit.
 * The lanes take the words in opposite roles with different constants,
 * so a block that loses one word in one lane's product (a word equal to
 * the lane's mask makes the product 0) keeps it in the other.  The
 * length enters both lanes first, so zero padding of the last block is
 * unambiguous, and each lane ends with a 64-bit avalanche finalizer.
 * The constants are odd random numbers drawn for this file.
 */
#define C0	UINT64_C(0x239eed24c2c063ff)
#define C1	UINT64_C(0xf768064f958507ad)
#define C2	UINT64_C(0x55113dc30e9a8df5)
#define C3	UINT64_C(0x5966eb44e0c67745)
#define C4	UINT64_C(0x4ca82984fcb042d9)
#define C5	UINT64_C(0xb9c48cb01720800f)
#define C6	UINT64_C(0xd6c93f01a9f18631)
#define C7	UINT64_C(0xa83c546dbc4d13dd)
#define C8	UINT64_C(0xa3966023df2d5c05)
#define C9	UINT64_C(0xace970fccddba417)

__extension__ typedef unsigned __int128 u128;	/* GCC and Clang on 64-bit targets */

static inline uint64_t
fold(uint64_t a, uint64_t b)
{
	u128 m = (u128)a * b;

	return (uint64_t)m ^ (uint64_t)(m >> 64);
}

static inline uint64_t
avalanche(uint64_t x)
{
	x ^= x >> 31;
	x *= C8;
	x ^= x >> 29;
	x *= C9;
	x ^= x >> 32;
	return x;
}

static inline void
block(uint64_t *a, uint64_t *b, uint64_t w0, uint64_t w1)
{
	*a = hm_rotl(*a, 29) * C2 + fold(w0 ^ C3, w1 ^ C4);
	*b = hm_rotl(*b, 41) * C5 + fold(w1 ^ C6, w0 ^ C7);
}

struct fp
fp_of(const void *p, size_t n)
{
	const unsigned char *s = p;
	unsigned char tail[16];
	uint64_t a = C0 ^ (uint64_t)n, b = C1 + (uint64_t)n * C2;
	size_t rest;

	for (; n >= 16; s += 16, n -= 16)
		block(&a, &b, hm_le64(s), hm_le64(s + 8));
	rest = n;
	if (rest > 0) {
		memset(tail, 0, sizeof(tail));
		memcpy(tail, s, rest);
		block(&a, &b, hm_le64(tail), hm_le64(tail + 8));
	}
	return (struct fp){ avalanche(a), avalanche(b ^ C0) };
}

void
fp_bytes(const struct fp *f, unsigned char out[FP_BYTES])
{
	for (int i = 0; i < 8; i++) {
		out[i] = (unsigned char)(f->lo >> (8 * i));
		out[8 + i] = (unsigned char)(f->hi >> (8 * i));
	}
}

struct fp
fp_from_bytes(const unsigned char in[FP_BYTES])
{
	return (struct fp){ hm_le64(in), hm_le64(in + 8) };
}

void
fp_hex(const struct fp *f, char out[2 * FP_BYTES + 1])
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char b[FP_BYTES];

	fp_bytes(f, b);
	for (int i = 0; i < FP_BYTES; i++) {
		out[2 * i] = hexd[b[i] >> 4];
		out[2 * i + 1] = hexd[b[i] & 15];
	}
	out[2 * FP_BYTES] = '\0';
}

int
fp_parse_hex(const char *s, size_t n, struct fp *out)
{
	unsigned char b[FP_BYTES];
	int hi, lo;

	if (n != 2 * FP_BYTES)
		return -1;
	for (int i = 0; i < FP_BYTES; i++) {
		if ((hi = hex_digit(s[2 * i])) < 0 || (lo = hex_digit(s[2 * i + 1])) < 0)
			return -1;
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	*out = fp_from_bytes(b);
	return 0;
}

/* ---- the set ---- */

/*
 * A slot is 0 when empty, else the fingerprint's high 32 bits (a tag that
 * spares reading the array on a miss) over its array position plus one.
 * The slot position comes from lo, already well mixed.
 */
struct fpset {
	struct fp	*arr;
	size_t		 n, cap;
	uint64_t	*slots;
	size_t		 mask;
};

#define MIN_SLOTS	1024

struct fpset *
fps_new(void)
{
	struct fpset *s = xcalloc(1, sizeof(*s));

	s->slots = xcalloc(MIN_SLOTS, sizeof(*s->slots));
	s->mask = MIN_SLOTS - 1;
	return s;
}

void
fps_free(struct fpset *s)
{
	if (s == NULL)
		return;
	free(s->arr);
	free(s->slots);
	free(s);
}

size_t
fps_count(const struct fpset *s)
{
	return s->n;
}

const struct fp *
fps_at(const struct fpset *s, size_t i)
{
	return &s->arr[i];
}

static inline uint64_t
tag_of(const struct fp *f)
{
	return f->hi >> 32 << 32;
}

/* grow doubles the index and places every fingerprint again. */
static void
grow(struct fpset *s)
{
	size_t cap = 2 * (s->mask + 1), i, j;
	uint64_t *slots = xcalloc(cap, sizeof(*slots));

	for (i = 0; i < s->n; i++) {
		for (j = s->arr[i].lo & (cap - 1); slots[j] != 0; j = (j + 1) & (cap - 1))
			;
		slots[j] = tag_of(&s->arr[i]) | (uint64_t)(i + 1);
	}
	free(s->slots);
	s->slots = slots;
	s->mask = cap - 1;
}

int
fps_add(struct fpset *s, const struct fp *f)
{
	uint64_t tag = tag_of(f), v;
	size_t j;

	for (j = f->lo & s->mask; (v = s->slots[j]) != 0; j = (j + 1) & s->mask) {
		if ((v >> 32 << 32) == tag) {
			const struct fp *g = &s->arr[(v & UINT32_MAX) - 1];

			if (g->lo == f->lo && g->hi == f->hi)
				return 0;
		}
	}
	if (s->n >= FPS_MAX)
		return -1;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->arr = xrealloc(s->arr, s->cap * sizeof(*s->arr));
	}
	s->arr[s->n++] = *f;
	s->slots[j] = tag | (uint64_t)s->n;
	if (4 * s->n > 3 * (s->mask + 1))
		grow(s);
	return 1;
}
