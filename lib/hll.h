/* hll: HyperLogLog distinct counting (2^14 registers, about 0.8% standard error), mergeable. */
#ifndef NDFLOW_HLL_H
#define NDFLOW_HLL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"

#define HLL_P	14
#define HLL_M	(1u << HLL_P)	/* registers: 16 KiB per sketch */

/*
 * A sketch starts empty (all zero, no registers allocated) and allocates
 * its registers on the first add.  Its estimate has a relative standard
 * error of 1.04/sqrt(2^14) = 0.81% over the whole range (Ertl's improved
 * estimator, no bias tables), and exactly 0 when empty.  Merging two
 * sketches gives the sketch of the union.
 */
struct hll {
	uint8_t	*reg;	/* HLL_M registers, or NULL while empty */
};

/* hll_add adds the item with the given 64-bit hash (hm_hash of its bytes). */
void	hll_add(struct hll *, uint64_t hash);
/* hll_merge makes dst the sketch of the union of dst and src. */
void	hll_merge(struct hll *dst, const struct hll *src);
/* hll_estimate returns the estimated number of distinct items. */
double	hll_estimate(const struct hll *);
/*
 * hll_save appends the sketch as a JSON value: null when empty; while at
 * most HLL_SPARSE registers are set, an array of index*64+value; else
 * the base64 string of all the registers.
 */
#define HLL_SPARSE	1024
void	hll_save(const struct hll *, struct buf *);
/* hll_load reads a saved sketch into an empty one; returns 0, or -1 when malformed. */
int	hll_load(struct hll *, json_t *);
void	hll_free(struct hll *);

#endif
