/* kll: the KLL quantile sketch with capacities k*(2/3)^depth, lazy compaction and a fixed-seed coin. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kll.h"

/* levelcap is the capacity of level h when there are nlv levels: k*(2/3)^(nlv-1-h), at least 2. */
static uint32_t
levelcap(uint32_t h, uint32_t nlv)
{
	double c = KLL_K * pow(2.0 / 3.0, (double)(nlv - 1 - h));
	uint32_t u = (uint32_t)ceil(c);
	return u < 2 ? 2 : u;
}

static void
push(struct kll *s, uint32_t h, double x)
{
	if (s->len[h] == s->cap[h]) {
		s->cap[h] = s->cap[h] ? s->cap[h] * 2 : 16;
		s->lv[h] = xrealloc(s->lv[h], s->cap[h] * sizeof(double));
	}
	s->lv[h][s->len[h]++] = x;
}

static void
addlevel(struct kll *s)
{
	s->lv = xrealloc(s->lv, (s->nlv + 1) * sizeof(*s->lv));
	s->len = xrealloc(s->len, (s->nlv + 1) * sizeof(*s->len));
	s->cap = xrealloc(s->cap, (s->nlv + 1) * sizeof(*s->cap));
	s->lv[s->nlv] = NULL;
	s->len[s->nlv] = s->cap[s->nlv] = 0;
	s->nlv++;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* coin returns 0 or 1 from a xorshift64 generator with a fixed seed. */
static uint32_t
coin(struct kll *s)
{
	if (s->rng == 0)
		s->rng = 0x9e3779b97f4a7c15ULL;
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return (uint32_t)(s->rng >> 63);
}

/* compress compacts the lowest full level until every level is within its capacity. */
static void
compress(struct kll *s)
{
	uint32_t h, i, j, keep, off;

	for (h = 0; h < s->nlv; h++) {
		if (s->len[h] < levelcap(h, s->nlv))
			continue;
		/*
		 * The top level never compacts: its items weigh 2^62, and two of
		 * them would count past KLL_MAX_N, so a valid sketch holds at most
		 * one there.  (Compacting it made a level whose weight 2^63 did not
		 * fit, then 2^64: a shift by 64 and a state kll_load refused.)
		 */
		if (h + 1 == KLL_MAX_LEVELS)
			continue;
		if (h + 1 == s->nlv)
			addlevel(s);
		qsort(s->lv[h], s->len[h], sizeof(double), cmpd);
		/* An odd item out stays at this level; the rest halve into the next. */
		keep = s->len[h] & 1;
		off = coin(s);
		for (i = keep + off; i < s->len[h]; i += 2)
			push(s, h + 1, s->lv[h][i]);
		s->len[h] = keep;
		/* Capacities shrink as levels are added: start over from the bottom. */
		for (j = 0; j <= h; j++)
			if (s->len[j] >= levelcap(j, s->nlv))
				break;
		if (j <= h)
			h = (uint32_t)-1;
	}
}

void
kll_add(struct kll *s, double x)
{
	if (s->nlv == 0)
		addlevel(s);
	if (s->n == 0 || x < s->min)
		s->min = x;
	if (s->n == 0 || x > s->max)
		s->max = x;
	s->n++;
	push(s, 0, x);
	if (s->len[0] >= levelcap(0, s->nlv))
		compress(s);
}

int
kll_merge(struct kll *d, const struct kll *s)
{
	uint32_t h, i;

	if (s->n == 0)
		return 0;
	if (s->n > KLL_MAX_N - d->n)
		return -1;
	while (d->nlv < s->nlv)
		addlevel(d);
	for (h = 0; h < s->nlv; h++)
		for (i = 0; i < s->len[h]; i++)
			push(d, h, s->lv[h][i]);
	if (d->n == 0 || s->min < d->min)
		d->min = s->min;
	if (d->n == 0 || s->max > d->max)
		d->max = s->max;
	d->n += s->n;
	compress(d);
	return 0;
}

struct witem {
	double		x;
	uint64_t	w;
};

static int
cmpw(const void *a, const void *b)
{
	return cmpd(&((const struct witem *)a)->x, &((const struct witem *)b)->x);
}

double
kll_quantile(struct kll *s, double p)
{
	struct witem	*it;
	size_t		 n = 0, k;
	uint32_t	 h, i;
	uint64_t	 total = 0, cum = 0;
	double		 target, r;

	if (p <= 0)
		return s->min;
	if (p >= 1)
		return s->max;
	for (h = 0; h < s->nlv; h++)
		n += s->len[h];
	it = xmalloc(n * sizeof(*it));
	for (h = 0, k = 0; h < s->nlv; h++)
		for (i = 0; i < s->len[h]; i++) {
			it[k].x = s->lv[h][i];
			it[k].w = (uint64_t)1 << h;
			total += it[k++].w;
		}
	qsort(it, n, sizeof(*it), cmpw);
	/* The item whose weight covers the 0-based rank p*(total-1), as R type 7 would look it up. */
	target = p * (double)(total - 1);
	r = s->max;
	for (k = 0; k < n; k++) {
		cum += it[k].w;
		if ((double)cum > target) {
			r = it[k].x;
			break;
		}
	}
	free(it);
	return r;
}

void
kll_save(const struct kll *s, struct buf *b)
{
	uint32_t h, i;

	buf_adds(b, "{\"n\":");
	jw_uint(b, s->n);
	buf_adds(b, ",\"min\":");
	jw_real(b, s->min);
	buf_adds(b, ",\"max\":");
	jw_real(b, s->max);
	buf_adds(b, ",\"levels\":[");
	for (h = 0; h < s->nlv; h++) {
		buf_adds(b, h ? ",[" : "[");
		for (i = 0; i < s->len[h]; i++) {
			if (i)
				buf_addc(b, ',');
			jw_real(b, s->lv[h][i]);
		}
		buf_addc(b, ']');
	}
	buf_adds(b, "]}");
}

int
kll_load(struct kll *s, json_t *v)
{
	json_t	*lv, *a, *x;
	size_t	 h, i;
	uint64_t weight = 0;
	json_int_t n;

	kll_free(s);
	lv = json_object_get(v, "levels");
	if (!json_is_object(v) || !json_is_integer(json_object_get(v, "n")) ||
	    !json_is_number(json_object_get(v, "min")) ||
	    !json_is_number(json_object_get(v, "max")) || !json_is_array(lv) ||
	    json_array_size(lv) > KLL_MAX_LEVELS)
		return -1;
	n = json_integer_value(json_object_get(v, "n"));
	if (n < 0 || (uint64_t)n > KLL_MAX_N)
		return -1;
	s->n = (uint64_t)n;
	s->min = json_number_value(json_object_get(v, "min"));
	s->max = json_number_value(json_object_get(v, "max"));
	if (!isfinite(s->min) || !isfinite(s->max))
		goto bad;
	json_array_foreach(lv, h, a) {
		addlevel(s);
		if (!json_is_array(a))
			goto bad;
		json_array_foreach(a, i, x) {
			if (!json_is_number(x) || !isfinite(json_number_value(x)))
				goto bad;
			/* h < 63: the shift is defined; the sum must not pass n (nor wrap). */
			if (((uint64_t)1 << h) > s->n - weight)
				goto bad;
			push(s, (uint32_t)h, json_number_value(x));
			weight += (uint64_t)1 << h;
		}
	}
	if (weight != s->n)
		goto bad;
	return 0;
bad:
	kll_free(s);
	return -1;
}

void
kll_free(struct kll *s)
{
	uint32_t h;

	for (h = 0; h < s->nlv; h++)
		free(s->lv[h]);
	free(s->lv);
	free(s->len);
	free(s->cap);
	memset(s, 0, sizeof(*s));
}
