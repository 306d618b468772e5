/* hll: HyperLogLog distinct counting with Ertl's improved estimator, mergeable. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hll.h"

#define HLL_Q	(64 - HLL_P)	/* register values are 0..HLL_Q+1 */

void
hll_add(struct hll *h, uint64_t hash)
{
	uint64_t	 w;
	uint8_t		 r;
	size_t		 idx;

	if (h->reg == NULL)
		h->reg = xcalloc(HLL_M, 1);
	idx = (size_t)(hash >> HLL_Q);
	w = hash << HLL_P;
	r = w == 0 ? HLL_Q + 1 : (uint8_t)(__builtin_clzll(w) + 1);
	if (r > h->reg[idx])
		h->reg[idx] = r;
}

void
hll_merge(struct hll *dst, const struct hll *src)
{
	size_t i;

	if (src->reg == NULL)
		return;
	if (dst->reg == NULL)
		dst->reg = xcalloc(HLL_M, 1);
	for (i = 0; i < HLL_M; i++)
		if (src->reg[i] > dst->reg[i])
			dst->reg[i] = src->reg[i];
}

/* sigma and tau are the series of Ertl, "New cardinality estimation algorithms for HyperLogLog sketches" (2017). */
static double
sigma(double x)
{
	double y = 1, z = x, zp;

	if (x == 1)
		return INFINITY;
	do {
		x *= x;
		zp = z;
		z += x * y;
		y += y;
	} while (z != zp);
	return z;
}

static double
tau(double x)
{
	double y = 1, z, zp;

	if (x == 0 || x == 1)
		return 0;
	z = 1 - x;
	do {
		x = sqrt(x);
		zp = z;
		y *= 0.5;
		z -= (1 - x) * (1 - x) * y;
	} while (z != zp);
	return z / 3;
}

double
hll_estimate(const struct hll *h)
{
	unsigned	 c[HLL_Q + 2] = { 0 };
	double		 m = HLL_M, z;
	size_t		 i;
	int		 k;

	if (h->reg == NULL)
		return 0;
	for (i = 0; i < HLL_M; i++)
		c[h->reg[i]]++;
	if (c[0] == HLL_M)
		return 0;
	z = m * tau(1 - c[HLL_Q + 1] / m);
	for (k = HLL_Q; k >= 1; k--)
		z = 0.5 * (z + c[k]);
	z += m * sigma(c[0] / m);
	return m * m / (2 * log(2)) / z;
}

void
hll_save(const struct hll *h, struct buf *out)
{
	size_t i, set = 0;

	if (h->reg == NULL) {
		buf_adds(out, "null");
		return;
	}
	for (i = 0; i < HLL_M; i++)
		set += h->reg[i] != 0;
	if (set > HLL_SPARSE) {
		jw_b64(out, h->reg, HLL_M);
		return;
	}
	buf_addc(out, '[');
	for (i = 0, set = 0; i < HLL_M; i++)
		if (h->reg[i]) {
			if (set++)
				buf_addc(out, ',');
			jw_uint(out, (uint64_t)i * 64 + h->reg[i]);
		}
	buf_addc(out, ']');
}

static int
b64val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z') return ch - 'A';
	if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9') return ch - '0' + 52;
	if (ch == '+') return 62;
	if (ch == '/') return 63;
	return -1;
}

static int
load_sparse(struct hll *h, json_t *a)
{
	json_t *x;
	size_t i;
	json_int_t v;

	h->reg = xcalloc(HLL_M, 1);
	json_array_foreach(a, i, x) {
		v = json_integer_value(x);
		if (!json_is_integer(x) || v < 0 || v / 64 >= HLL_M || v % 64 == 0 || v % 64 > HLL_Q + 1)
			return -1;
		h->reg[v / 64] = (uint8_t)(v % 64);
	}
	return 0;
}

int
hll_load(struct hll *h, json_t *j)
{
	uint8_t		*reg;
	const char	*s;
	size_t		 i, o = 0, len;
	uint32_t	 acc = 0;
	int		 bits = 0, v;

	hll_free(h);
	if (json_is_null(j))
		return 0;
	if (json_is_array(j))
		return load_sparse(h, j);
	if (!json_is_string(j))
		return -1;
	s = json_string_value(j);
	len = json_string_length(j);
	while (len > 0 && s[len - 1] == '=')
		len--;
	if ((len * 6) / 8 != HLL_M)
		return -1;
	reg = xmalloc(HLL_M);
	for (i = 0; i < len; i++) {
		if ((v = b64val((unsigned char)s[i])) < 0)
			goto bad;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o < HLL_M)
				reg[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	for (i = 0; i < HLL_M; i++)
		if (reg[i] > HLL_Q + 1)
			goto bad;
	h->reg = reg;
	return 0;
bad:
	free(reg);
	return -1;
}

void
hll_free(struct hll *h)
{
	free(h->reg);
	h->reg = NULL;
}
