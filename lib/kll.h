/* kll: the KLL quantile sketch (Karnin, Lang, Liberty 2016) over doubles, mergeable, for aggregate --approx. */
#ifndef NDFLOW_KLL_H
#define NDFLOW_KLL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"

#define KLL_K	200
/*
 * A sketch counts at most KLL_MAX_N values (INT64_MAX: the largest count
 * a state file can carry as a JSON integer), so an item's weight is at
 * most 2^62 and a sketch has at most KLL_MAX_LEVELS levels.
 */
#define KLL_MAX_N	INT64_MAX
#define KLL_MAX_LEVELS	63

/*
 * A sketch keeps at most about 3*KLL_K values in levels of compactors
 * (level h holds items of weight 2^h); when full, a level is sorted and
 * every other item is promoted.  With k = 200 the rank error of a
 * quantile is below 1.5% of n with high probability (the bound of the
 * KLL paper and Apache DataSketches for k = 200 is about 1.3% at 99%
 * confidence), whatever n is and however sketches were merged; the unit
 * tests check 1.5% on 10^5 values.  The minimum and maximum are exact.
 * The random choices come from a fixed-seed generator, so a run is
 * reproducible.  A zeroed struct is an empty sketch.
 */
struct kll {
	double		**lv;	/* lv[h]: the items of level h */
	uint32_t	 *len;
	uint32_t	 *cap;	/* allocated sizes */
	uint32_t	  nlv;
	uint64_t	  n;
	double		  min, max;
	uint64_t	  rng;
};

void	kll_add(struct kll *, double);
/*
 * kll_merge makes dst the sketch of the union of both inputs.  Returns 0,
 * or -1 with dst unchanged when the union would count more than KLL_MAX_N
 * values (only states crafted or corrupted to claim such counts get there).
 */
int	kll_merge(struct kll *dst, const struct kll *src);
/* kll_quantile returns the approximate p-quantile (0 <= p <= 1) of a non-empty sketch: an item held by it (or min/max). */
double	kll_quantile(struct kll *, double p);
/*
 * kll_save appends {"n":N,"min":x,"max":y,"levels":[[...],...]}; kll_load
 * reads it back: 0, or -1 when it is malformed or not a sketch this code
 * could have written (more than KLL_MAX_LEVELS levels, n negative or past
 * KLL_MAX_N, item weights that do not add up to n exactly, a value that
 * is not finite).  Everything kll_save writes, kll_load accepts.
 */
void	kll_save(const struct kll *, struct buf *);
int	kll_load(struct kll *, json_t *);
void	kll_free(struct kll *);

#endif
