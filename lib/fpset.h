/* fpset: 128-bit fingerprints of byte strings, and a compact set of them kept in arrival order. */
#ifndef NDFLOW_FPSET_H
#define NDFLOW_FPSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A fingerprint stands for a byte string (dedupe's canonical record) in
 * 16 bytes.  Two different strings have the same fingerprint with
 * probability about 2^-128 when the hash behaves as a random function,
 * so among n distinct strings some two collide with probability about
 * n^2 / 2^129 (the birthday bound): 1.5e-21 for a billion.  It is not a
 * cryptographic hash: input crafted against it can collide.
 */
#define FP_BYTES	16

struct fp {
	uint64_t	 lo, hi;
};

/* fp_of returns the fingerprint of p[0..n).  The same bytes give the same fingerprint on every machine and run. */
struct fp	 fp_of(const void *p, size_t n);
/* fp_bytes writes the fingerprint as 16 bytes (lo then hi, each little-endian): a key for a keyset. */
void		 fp_bytes(const struct fp *, unsigned char out[FP_BYTES]);
/* fp_from_bytes reads fp_bytes's form back. */
struct fp	 fp_from_bytes(const unsigned char in[FP_BYTES]);
/* fp_hex writes the 32 lowercase hex digits of fp_bytes's form, and a NUL, to out. */
void		 fp_hex(const struct fp *, char out[2 * FP_BYTES + 1]);
/* fp_parse_hex reads fp_hex's 32 digits (either case); returns -1 when s is not exactly that. */
int		 fp_parse_hex(const char *s, size_t n, struct fp *out);

/*
 * An fpset holds distinct fingerprints in the order they were added, in
 * about 24 to 40 bytes each: the fingerprints in one array, and an
 * open-addressing index of 8-byte slots (32 bits of the fingerprint and
 * an array position) at most three-quarters full.  It holds at most
 * FPS_MAX fingerprints.
 */
#define FPS_MAX	((size_t)UINT32_MAX - 1)

struct fpset;

/* fps_new returns an empty set; aborts on allocation failure. */
struct fpset	*fps_new(void);
/* fps_free frees the set; NULL is allowed. */
void		 fps_free(struct fpset *);
/* fps_count returns the number of fingerprints held. */
size_t		 fps_count(const struct fpset *);
/*
 * fps_add adds a fingerprint.  Returns 1 when it was new, 0 when the set
 * held it already, -1 when the set is full (FPS_MAX) and it was new.
 */
int		 fps_add(struct fpset *, const struct fp *);
/* fps_at returns the i-th fingerprint added, 0 <= i < fps_count. */
const struct fp	*fps_at(const struct fpset *, size_t i);

#endif
