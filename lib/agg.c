/* agg: the aggregate functions as one table (name, flags, init, update, merge, result, save, load, free). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "hashmap.h"
#include "hll.h"
#include "kll.h"

/* ---- count ---- */

struct count_st {
	uint64_t	n;
};

static void count_init(void *st) { ((struct count_st *)st)->n = 0; }
static void count_update(void *st, const struct agg_val *v) { ((struct count_st *)st)->n++; }
static void count_merge(void *d, const void *s) { ((struct count_st *)d)->n += ((const struct count_st *)s)->n; }
static int count_result(void *st, const struct agg_spec *sp, struct buf *b) { jw_uint(b, ((struct count_st *)st)->n); return 0; }
static void count_save(const void *st, struct buf *b) { jw_uint(b, ((const struct count_st *)st)->n); }

static int
count_load(void *st, json_t *v)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	((struct count_st *)st)->n = (uint64_t)json_integer_value(v);
	return 0;
}

static void nofree(void *st) { }

/*
 * ---- sum and mean: integers exact in 128 bits, everything else in a
 * Neumaier-compensated long double (so that a sum past the double range
 * is still finite here, and a mean of huge values is right) ----
 */

__extension__ typedef __int128 agg_i128;
__extension__ typedef unsigned __int128 agg_u128;
/* Group blocks align states to 8 bytes: the wide members of the state say so. */
__extension__ typedef __int128 agg_i128_a8 __attribute__((aligned(8)));
typedef long double agg_ld_a8 __attribute__((aligned(8)));

struct sum_st {
	uint64_t	n;
	agg_i128_a8	i;	/* the exact sum of the integers, while !iov */
	agg_ld_a8	s, c;	/* the compensated sum of everything else */
	bool		real;	/* a non-integer was added: the result is a real */
	bool		iov;	/* the integers left 128 bits: they went into s */
};

static void sum_init(void *st) { memset(st, 0, sizeof(struct sum_st)); }

static void
ld_neumaier(agg_ld_a8 *s, agg_ld_a8 *c, long double x)
{
	long double t = *s + x;

	if ((*s >= 0 ? *s : -*s) >= (x >= 0 ? x : -x))
		*c += (*s - t) + x;
	else
		*c += (x - t) + *s;
	*s = t;
}

static void
sum_addint(struct sum_st *s, agg_i128 x)
{
	agg_i128 r;

	if (s->iov || __builtin_add_overflow(s->i, x, &r)) {
		/* Past 128 bits (2^64 additions of int64 values at least): go inexact. */
		ld_neumaier(&s->s, &s->c, (long double)s->i);
		ld_neumaier(&s->s, &s->c, (long double)x);
		s->i = 0;
		s->iov = true;
	} else
		s->i = r;
}

static void
sum_update(void *st, const struct agg_val *v)
{
	struct sum_st *s = st;

	s->n++;
	if (v->isint)
		sum_addint(s, v->i);
	else {
		ld_neumaier(&s->s, &s->c, v->d);
		s->real = true;
	}
}

static void
sum_merge(void *dst, const void *src)
{
	struct sum_st *d = dst;
	const struct sum_st *s = src;

	d->n += s->n;
	if (s->iov) {
		ld_neumaier(&d->s, &d->c, (long double)d->i);
		d->i = 0;
		d->iov = true;
	}
	sum_addint(d, s->i);
	ld_neumaier(&d->s, &d->c, s->s);
	ld_neumaier(&d->s, &d->c, s->c);
	d->real = d->real || s->real;
}

static long double
sum_total(const struct sum_st *s)
{
	long double t = s->s, c = s->c;

	ld_neumaier(&t, &c, (long double)s->i);
	return t + c;
}

/* jw_i128 writes a 128-bit integer in decimal. */
static void
jw_i128(struct buf *b, agg_i128 v)
{
	char t[48];
	size_t n = sizeof t;
	agg_u128 u;

	u = v < 0 ? -(agg_u128)v : (agg_u128)v;
	do {
		t[--n] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u != 0);
	if (v < 0)
		t[--n] = '-';
	buf_add(b, t + n, sizeof t - n);
}

/*
 * put_real writes a computed real, or null when it is past the double
 * range; returns AGG_OVERFLOW then, so the tool counts and reports it.
 */
static int
put_real(struct buf *b, long double x)
{
	double d = (double)x;

	if (!isfinite(d)) {
		buf_adds(b, "null");
		return AGG_OVERFLOW;
	}
	jw_real(b, d);
	return 0;
}

static int
sum_result(void *st, const struct agg_spec *sp, struct buf *b)
{
	struct sum_st *s = st;

	if (s->real || s->iov)
		return put_real(b, sum_total(s));
	if (s->i >= INT64_MIN && s->i <= INT64_MAX)
		jw_int(b, (int64_t)s->i);
	else
		jw_i128(b, s->i);	/* exact: the sum of integers is an integer */
	return 0;
}

static int
mean_result(void *st, const struct agg_spec *sp, struct buf *b)
{
	struct sum_st *s = st;

	if (s->n == 0) {
		buf_adds(b, "null");
		return 0;
	}
	return put_real(b, sum_total(s) / (long double)s->n);
}

/* put_ld saves a long double: a JSON number when a double holds it exactly, else a string strtold reads back. */
static void
put_ld(struct buf *b, long double x)
{
	char t[64];

	if ((long double)(double)x == x && isfinite((double)x)) {
		jw_real(b, (double)x);
		return;
	}
	snprintf(t, sizeof t, "%La", x);
	jw_cstr(b, t);
}

static int
get_ld(json_t *v, agg_ld_a8 *x)
{
	char *end;

	if (json_is_number(v)) {
		*x = json_number_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -1;
	*x = strtold(json_string_value(v), &end);
	return *end == '\0' && end != json_string_value(v) ? 0 : -1;
}

/* The state is [n, integers, s, c, real] (integers a string past int64, then [n, "overflow", ...]). */
static void
sum_save(const void *st, struct buf *b)
{
	const struct sum_st *s = st;

	buf_adds(b, "[");
	jw_uint(b, s->n);
	buf_addc(b, ',');
	if (s->iov)
		buf_adds(b, "\"overflow\"");
	else if (s->i >= INT64_MIN && s->i <= INT64_MAX)
		jw_int(b, (int64_t)s->i);
	else {
		buf_addc(b, '"');
		jw_i128(b, s->i);
		buf_addc(b, '"');
	}
	buf_addc(b, ',');
	put_ld(b, s->s);
	buf_addc(b, ',');
	put_ld(b, s->c);
	buf_adds(b, s->real ? ",true]" : ",false]");
}

static int
sum_load(void *st, json_t *v)
{
	struct sum_st *s = st;
	json_t *iv = json_array_get(v, 1);

	if (!json_is_array(v) || json_array_size(v) != 5 ||
	    !json_is_integer(json_array_get(v, 0)) ||
	    !json_is_boolean(json_array_get(v, 4)) ||
	    get_ld(json_array_get(v, 2), &s->s) != 0 ||
	    get_ld(json_array_get(v, 3), &s->c) != 0)
		return -1;
	s->n = (uint64_t)json_integer_value(json_array_get(v, 0));
	s->real = json_is_true(json_array_get(v, 4));
	s->i = 0;
	s->iov = false;
	if (json_is_integer(iv))
		s->i = json_integer_value(iv);
	else if (json_is_string(iv) && strcmp(json_string_value(iv), "overflow") == 0)
		s->iov = true;
	else if (json_is_string(iv)) {
		const char *p = json_string_value(iv);
		bool neg = *p == '-';
		agg_i128 r = 0;

		p += neg;
		if (*p == '\0')
			return -1;
		for (; *p; p++) {
			if (*p < '0' || *p > '9' || __builtin_mul_overflow(r, 10, &r) ||
			    __builtin_add_overflow(r, neg ? -(*p - '0') : *p - '0', &r))
				return -1;
		}
		s->i = r;
	} else
		return -1;
	return 0;
}

/*
 * ---- min and max: a selection, not a computation: integers compare
 * exactly, and the chosen value prints with the digits it came with ----
 */

struct ext_st {
	bool	has, isint;
	int64_t	i;
	double	d;
	char	*txt;		/* !isint: the number's own digits */
	size_t	 txtlen, txtcap;
};

static void ext_init(void *st) { memset(st, 0, sizeof(struct ext_st)); }
static void ext_free(void *st) { free(((struct ext_st *)st)->txt); }

/* int_text reports whether a JSON number's text is an integer (no fraction, no exponent). */
static bool
int_text(const char *p, size_t len)
{
	return len > 0 && memchr(p, '.', len) == NULL && memchr(p, 'e', len) == NULL &&
	    memchr(p, 'E', len) == NULL;
}

/* inttxt_cmp compares two JSON integers given as text, exactly (JSON has no leading zeros). */
static int
inttxt_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	bool an = al > 0 && a[0] == '-', bn = bl > 0 && b[0] == '-';
	int r;

	if (an != bn)
		return an ? -1 : 1;
	a += an, al -= an, b += bn, bl -= bn;
	if (al != bl)
		r = al < bl ? -1 : 1;
	else
		r = memcmp(a, b, al);
	r = (r > 0) - (r < 0);
	return an ? -r : r;
}

/* ext_less reports whether a < b: exactly when both are integers, by value otherwise. */
static bool
ext_less(bool aint, int64_t ai, double ad, const char *at, size_t al,
    bool bint, int64_t bi, double bd, const char *bt, size_t bl)
{
	if (aint && bint)
		return ai < bi;
	if (ad != bd)
		return ad < bd;
	/* Equal as doubles: integers past int64 may still differ. */
	if (at != NULL && bt != NULL && int_text(at, al) && int_text(bt, bl))
		return inttxt_cmp(at, al, bt, bl) < 0;
	return false;
}

static void
ext_set(struct ext_st *s, bool isint, int64_t i, double d, const char *txt, size_t len)
{
	s->has = true;
	s->isint = isint;
	s->i = i;
	s->d = d;
	s->txtlen = 0;
	if (!isint && txt != NULL) {
		if (len > s->txtcap) {
			s->txtcap = len;
			s->txt = xrealloc(s->txt, len);
		}
		memcpy(s->txt, txt, len);
		s->txtlen = len;
	}
}

/* val_digits returns a numeric value's own digits: a JSON number's text, a numeric string's contents. */
static const char *
val_digits(const struct agg_val *v, size_t *len)
{
	if (v->raw == NULL)
		return *len = 0, NULL;
	if (v->rawlen >= 2 && v->raw[0] == '"')
		return *len = v->rawlen - 2, v->raw + 1;
	return *len = v->rawlen, v->raw;
}

#define EXT_A(s)	(s)->isint, (s)->i, (s)->d, (s)->txtlen ? (s)->txt : NULL, (s)->txtlen

static void
min_update(void *st, const struct agg_val *v)
{
	struct ext_st *s = st;
	size_t vl;
	const char *vt = val_digits(v, &vl);

	if (!s->has || ext_less(v->isint, v->i, v->d, vt, vl, EXT_A(s)))
		ext_set(s, v->isint, v->i, v->d, vt, vl);
}

static void
max_update(void *st, const struct agg_val *v)
{
	struct ext_st *s = st;
	size_t vl;
	const char *vt = val_digits(v, &vl);

	if (!s->has || ext_less(EXT_A(s), v->isint, v->i, v->d, vt, vl))
		ext_set(s, v->isint, v->i, v->d, vt, vl);
}

static void
min_merge(void *dst, const void *src)
{
	const struct ext_st *s = src;
	struct ext_st *d = dst;

	if (s->has && (!d->has || ext_less(EXT_A(s), EXT_A(d))))
		ext_set(d, s->isint, s->i, s->d, s->txt, s->txtlen);
}

static void
max_merge(void *dst, const void *src)
{
	const struct ext_st *s = src;
	struct ext_st *d = dst;

	if (s->has && (!d->has || ext_less(EXT_A(d), EXT_A(s))))
		ext_set(d, s->isint, s->i, s->d, s->txt, s->txtlen);
}

static int
ext_result(void *st, const struct agg_spec *sp, struct buf *b)
{
	struct ext_st *s = st;

	if (!s->has)
		buf_adds(b, "null");
	else if (s->isint)
		jw_int(b, s->i);
	else if (s->txtlen > 0)
		buf_add(b, s->txt, s->txtlen);
	else
		jw_real(b, s->d);
	return 0;
}

/* ext_save writes the value; digits that are not an int64 go as a string, which any JSON reader keeps exactly. */
static void
ext_save(const void *st, struct buf *b)
{
	const struct ext_st *s = st;

	if (s->has && !s->isint && s->txtlen > 0)
		jw_str(b, s->txt, s->txtlen);
	else
		ext_result((void *)(uintptr_t)st, NULL, b);
}

static int
ext_load(void *st, json_t *v)
{
	struct ext_st *s = st;
	struct rec_val n;

	s->has = false;
	if (json_is_null(v))
		return 0;
	if (json_is_integer(v))
		ext_set(s, true, json_integer_value(v), (double)json_integer_value(v), NULL, 0);
	else if (json_is_real(v))
		ext_set(s, false, 0, json_real_value(v), NULL, 0);
	else if (json_is_string(v) &&
	    rec_number(json_string_value(v), json_string_length(v), &n) != RT_MISSING)
		ext_set(s, n.type == RT_INT, n.i, n.d, json_string_value(v), json_string_length(v));
	else
		return -1;
	return 0;
}

/*
 * ---- var and stddev: exact sums of x and x^2, so that a merge gives
 * the state one run over all the values gives, whatever the split ----
 *
 * var = (n * Sx2 - Sx^2) / (n * (n - 1)) with Sx and Sx2 kept exactly:
 * integers in 128 bits (x) and 192 bits (x^2), every other number in an
 * exact fixed-point sum (struct xacc): a double is an integer M (53 bits)
 * times 2^E and its square M^2 times 2^2E, so both add into it without
 * rounding.  Adding is associative there, so any split of the input into
 * merged parts gives the same sums bit for bit, and the result, computed
 * from them once at the end, is the same to the last digit.
 */

/*
 * xacc: an exact sum.  Limb i holds a signed count of units of
 * 2^(32 * (lo + i)).  An add puts less than 2^32 into a limb, so the
 * carries are propagated (xacc_norm) only every 2^28 adds; after that
 * every limb but the top one is in [0, 2^32).
 */
struct xacc {
	int64_t		*l;
	int32_t		 lo;
	uint32_t	 len;
	uint32_t	 adds;
};

#define XACC_NORM_EVERY	(1u << 28)

/* xacc_span makes limbs kmin..kmax exist. */
static void
xacc_span(struct xacc *a, int32_t kmin, int32_t kmax)
{
	int32_t nlo, nhi;
	int64_t *nl;

	if (a->len > 0 && kmin >= a->lo && kmax < a->lo + (int32_t)a->len)
		return;
	nlo = a->len > 0 && a->lo < kmin ? a->lo : kmin;
	nhi = a->len > 0 && a->lo + (int32_t)a->len - 1 > kmax ? a->lo + (int32_t)a->len - 1 : kmax;
	nl = xcalloc((size_t)(nhi - nlo + 1), sizeof(int64_t));
	if (a->len > 0)
		memcpy(nl + (a->lo - nlo), a->l, a->len * sizeof(int64_t));
	free(a->l);
	a->l = nl;
	a->lo = nlo;
	a->len = (uint32_t)(nhi - nlo + 1);
}

/* xacc_norm propagates carries: limbs below the top in [0, 2^32), the top in [-2^31, 2^31). */
static void
xacc_norm(struct xacc *a)
{
	uint32_t i;
	int64_t c, top;

	a->adds = 0;
	for (;;) {
		for (i = 0; i + 1 < a->len; i++) {
			c = a->l[i] >> 32;	/* floor division: the compilers we build with shift arithmetically */
			a->l[i] -= (int64_t)((uint64_t)c << 32);
			a->l[i + 1] += c;
		}
		if (a->len == 0)
			return;
		top = a->l[a->len - 1];
		if (top >= -((int64_t)1 << 31) && top < ((int64_t)1 << 31))
			return;
		xacc_span(a, a->lo, a->lo + (int32_t)a->len);
	}
}

/* xacc_add adds (neg ? -m : m) * 2^e exactly. */
static void
xacc_add(struct xacc *a, agg_u128 m, bool neg, int e)
{
	uint64_t d[5];
	agg_u128 low;
	int32_t k, r, top, i;
	int64_t *l;

	if (m == 0)
		return;
	k = e >= 0 ? e / 32 : -((31 - e) / 32);
	r = e - 32 * k;
	low = m << r;
	d[0] = (uint64_t)low & 0xffffffffu;
	d[1] = (uint64_t)(low >> 32) & 0xffffffffu;
	d[2] = (uint64_t)(low >> 64) & 0xffffffffu;
	d[3] = (uint64_t)(low >> 96);
	d[4] = r ? (uint64_t)(m >> (128 - r)) : 0;
	for (top = 4; d[top] == 0; top--)
		;
	/* One limb more than the digits, for the carries of xacc_norm. */
	xacc_span(a, k, k + top + 1);
	l = a->l + (k - a->lo);
	for (i = 0; i <= top; i++)
		l[i] += neg ? -(int64_t)d[i] : (int64_t)d[i];
	if (++a->adds >= XACC_NORM_EVERY)
		xacc_norm(a);
}

/* xacc_merge adds s into d. */
static void
xacc_merge(struct xacc *d, const struct xacc *s)
{
	uint32_t i;
	int64_t *l;

	if (s->len == 0)
		return;
	xacc_span(d, s->lo, s->lo + (int32_t)s->len - 1);
	l = d->l + (s->lo - d->lo);
	for (i = 0; i < s->len; i++)
		l[i] += s->l[i];
	d->adds += s->adds + 1;
	if (d->adds >= XACC_NORM_EVERY)
		xacc_norm(d);
}

/* xacc_copy makes d (uninitialised) a copy of s. */
static void
xacc_copy(struct xacc *d, const struct xacc *s)
{
	*d = *s;
	d->l = NULL;
	if (s->len > 0) {
		d->l = xmalloc(s->len * sizeof(int64_t));
		memcpy(d->l, s->l, s->len * sizeof(int64_t));
	}
}

/* xacc_abs normalises a and makes it its absolute value; returns whether it was negative. */
static bool
xacc_abs(struct xacc *a)
{
	uint32_t i;

	xacc_norm(a);
	if (a->len == 0 || a->l[a->len - 1] >= 0)
		return false;
	for (i = 0; i < a->len; i++)
		a->l[i] = -a->l[i];
	xacc_norm(a);
	return true;
}

/* xacc_mul adds sign * x * y to out; x and y normalised and not negative (digits < 2^32). */
static void
xacc_mul(struct xacc *out, bool neg, const struct xacc *x, const struct xacc *y)
{
	uint64_t *p, t, c;
	uint32_t i, j, n;

	if (x->len == 0 || y->len == 0)
		return;
	n = x->len + y->len;
	p = xcalloc(n, sizeof(uint64_t));
	for (i = 0; i < x->len; i++) {
		c = 0;
		for (j = 0; j < y->len; j++) {
			t = (uint64_t)x->l[i] * (uint64_t)y->l[j] + p[i + j] + c;
			p[i + j] = t & 0xffffffffu;
			c = t >> 32;
		}
		p[i + y->len] = c;
	}
	xacc_span(out, x->lo + y->lo, x->lo + y->lo + (int32_t)n);
	for (i = 0; i < n; i++)
		out->l[x->lo + y->lo - out->lo + (int32_t)i] += neg ? -(int64_t)p[i] : (int64_t)p[i];
	free(p);
	xacc_norm(out);
}

/* xacc_ld returns the value (normalised a) as a long double, from its top 96 bits: a function of the value alone. */
static long double
xacc_ld(struct xacc *a)
{
	int32_t t;
	agg_u128 m;
	bool neg;

	neg = xacc_abs(a);
	for (t = (int32_t)a->len - 1; t >= 0 && a->l[t] == 0; t--)
		;
	if (t < 0)
		return 0;
	m = (agg_u128)(uint64_t)a->l[t] << 64;
	if (t >= 1)
		m |= (agg_u128)(uint64_t)a->l[t - 1] << 32;
	if (t >= 2)
		m |= (agg_u128)(uint64_t)a->l[t - 2];
	return (neg ? -1.0L : 1.0L) * ldexpl((long double)m, 32 * (a->lo + t - 2));
}

/* dsplit writes a finite double as (neg ? -1 : 1) * m * 2^e, m an integer below 2^53. */
static void
dsplit(double x, uint64_t *m, int *e, bool *neg)
{
	uint64_t b;
	int ex;

	memcpy(&b, &x, sizeof b);
	*neg = (b >> 63) != 0;
	ex = (int)((b >> 52) & 0x7ff);
	*m = b & (((uint64_t)1 << 52) - 1);
	if (ex == 0)
		*e = -1074;
	else {
		*m |= (uint64_t)1 << 52;
		*e = ex - 1075;
	}
}

/*
 * The reals go first into a fixed window: the values m * 2^e with e in
 * [base, base + VAR_WIN] (base set by the first real) add as m <<
 * (e - base) into a 192-bit signed sum, their squares into a 256-bit
 * sum at 2^(2 base), where neither can overflow in 2^64 adds; the
 * others, and the window itself when a state is merged or read, go to
 * the exact sums x[] (slower, but of any range).
 */
#define VAR_WIN	40

struct var_st {
	uint64_t	n;
	agg_i128_a8	i1;		/* the exact sum of the integers */
	agg_i128_a8	i2;		/* the exact sum of their squares: i2 + i2hi * 2^128 (i2 as unsigned) */
	uint64_t	i2hi;
	agg_i128_a8	w1hi;		/* the window: sum of x = (w1hi * 2^64 + w1lo) * 2^base */
	uint64_t	w1lo;
	agg_i128_a8	w2lo, w2hi;	/* sum of x^2 = (w2hi * 2^128 + w2lo) * 2^(2 base), both unsigned */
	int32_t		base;
	bool		hasbase;
	bool		bad;		/* an infinite or NaN value: the result is null */
	struct xacc	*x;		/* x[0], x[1]: sums of the other reals and their squares, or NULL */
};

static void var_init(void *st) { memset(st, 0, sizeof(struct var_st)); }
static void var_free(void *st) { struct var_st *s = st; if (s->x) { free(s->x[0].l); free(s->x[1].l); free(s->x); } }

static struct xacc *
var_x(struct var_st *s)
{
	if (s->x == NULL)
		s->x = xcalloc(2, sizeof(struct xacc));
	return s->x;
}

static void
var_addi2(struct var_st *s, agg_u128 sq)
{
	agg_u128 lo = (agg_u128)s->i2;

	lo += sq;
	s->i2hi += lo < sq;
	s->i2 = (agg_i128)lo;
}

/* var_win_add adds (neg ? -m : m) * 2^sh to the window's sum and m^2 * 2^(2 sh) to its squares (sh <= VAR_WIN). */
static inline void
var_win_add(struct var_st *s, uint64_t m, bool neg, int sh)
{
	agg_u128 a = (agg_u128)m << sh, sq = (agg_u128)m * m, lo, hi;
	uint64_t t = s->w1lo;

	if (neg) {
		s->w1lo = t - (uint64_t)a;
		s->w1hi -= (agg_i128)(a >> 64) + (t < (uint64_t)a);
	} else {
		s->w1lo = t + (uint64_t)a;
		s->w1hi += (agg_i128)(a >> 64) + (s->w1lo < t);
	}
	/* 2 sh <= 80 < 128: the square shifted spans the two halves. */
	hi = sh ? sq >> (128 - 2 * sh) : 0;
	lo = (agg_u128)s->w2lo + (sq << (2 * sh));
	hi += lo < (sq << (2 * sh));
	s->w2lo = (agg_i128)lo;
	s->w2hi = (agg_i128)((agg_u128)s->w2hi + hi);
}

/* var_win_fold adds s's window to the exact sums x1 and x2 (the window is only read). */
static void
var_win_fold(const struct var_st *s, struct xacc *x1, struct xacc *x2)
{
	if (!s->hasbase)
		return;
	xacc_add(x1, s->w1lo, false, s->base);
	xacc_add(x1, s->w1hi < 0 ? -(agg_u128)s->w1hi : (agg_u128)s->w1hi, s->w1hi < 0, s->base + 64);
	xacc_add(x2, (agg_u128)s->w2lo, false, 2 * s->base);
	xacc_add(x2, (agg_u128)s->w2hi, false, 2 * s->base + 128);
}

static void
var_update(void *st, const struct agg_val *v)
{
	struct var_st *s = st;
	struct xacc *x;
	uint64_t m;
	int e;
	bool neg;

	s->n++;
	if (v->isint) {
		agg_u128 a = v->i < 0 ? -(agg_u128)v->i : (agg_u128)v->i;

		s->i1 += v->i;
		var_addi2(s, a * a);
		return;
	}
	if (!isfinite(v->d)) {
		s->bad = true;
		return;
	}
	dsplit(v->d, &m, &e, &neg);
	if (m == 0)
		return;
	if (!s->hasbase) {
		s->hasbase = true;
		s->base = e - VAR_WIN / 2;
	}
	if (e >= s->base && e - s->base <= VAR_WIN) {
		var_win_add(s, m, neg, e - s->base);
		return;
	}
	x = var_x(s);
	xacc_add(&x[0], m, neg, e);
	xacc_add(&x[1], (agg_u128)m * m, false, 2 * e);
}

static void
var_merge(void *dst, const void *src)
{
	struct var_st *d = dst;
	const struct var_st *s = src;
	struct xacc *x;

	d->n += s->n;
	d->i1 += s->i1;
	d->i2hi += s->i2hi;
	var_addi2(d, (agg_u128)s->i2);
	d->bad = d->bad || s->bad;
	if (s->hasbase) {
		x = var_x(d);
		var_win_fold(s, &x[0], &x[1]);
	}
	if (s->x != NULL) {
		x = var_x(d);
		xacc_merge(&x[0], &s->x[0]);
		xacc_merge(&x[1], &s->x[1]);
	}
}

/* var_sums fills s1 and s2 (uninitialised) with the exact sums of x and x^2, normalised. */
static void
var_sums(const struct var_st *s, struct xacc *s1, struct xacc *s2)
{
	static const struct xacc zero;

	xacc_copy(s1, s->x ? &s->x[0] : &zero);
	xacc_copy(s2, s->x ? &s->x[1] : &zero);
	xacc_add(s1, s->i1 < 0 ? -(agg_u128)s->i1 : (agg_u128)s->i1, s->i1 < 0, 0);
	xacc_add(s2, (agg_u128)s->i2, false, 0);
	xacc_add(s2, s->i2hi, false, 128);
	var_win_fold(s, s1, s2);
	xacc_norm(s1);
	xacc_norm(s2);
}

/* var_value returns the sample variance (n >= 2) from the exact sums: n*S2 - S1^2 exactly, one division. */
static long double
var_value(const struct var_st *s)
{
	struct xacc s1, s2, nn = { 0 }, num = { 0 };
	long double r;

	var_sums(s, &s1, &s2);
	xacc_add(&nn, s->n, false, 0);
	xacc_norm(&nn);
	xacc_abs(&s1);
	xacc_abs(&s2);
	xacc_mul(&num, false, &nn, &s2);
	xacc_mul(&num, true, &s1, &s1);
	r = xacc_ld(&num);
	free(s1.l);
	free(s2.l);
	free(nn.l);
	free(num.l);
	if (r < 0)
		r = 0;	/* cannot happen with exact sums; a hand-made state could */
	return r / ((long double)s->n * (long double)(s->n - 1));
}

static int
var_result(void *st, const struct agg_spec *sp, struct buf *b)
{
	struct var_st *s = st;

	if (s->n < 2) {
		buf_adds(b, "null");
		return 0;
	}
	if (s->bad) {
		buf_adds(b, "null");
		return AGG_OVERFLOW;
	}
	return put_real(b, var_value(s));
}

static int
stddev_result(void *st, const struct agg_spec *sp, struct buf *b)
{
	struct var_st *s = st;

	if (s->n < 2) {
		buf_adds(b, "null");
		return 0;
	}
	if (s->bad) {
		buf_adds(b, "null");
		return AGG_OVERFLOW;
	}
	return put_real(b, sqrtl(var_value(s)));
}

/* xacc_save writes a normalised exact sum as "0xHEXpE" (value HEX * 2^E, with a '-' first when negative), or 0. */
static void
xacc_save(struct buf *b, struct xacc *a)
{
	char t[32];
	int32_t hi, lo, i, e;
	bool neg;

	neg = xacc_abs(a);
	for (hi = (int32_t)a->len - 1; hi >= 0 && a->l[hi] == 0; hi--)
		;
	if (hi < 0) {
		buf_addc(b, '0');
		return;
	}
	for (lo = 0; a->l[lo] == 0; lo++)
		;
	buf_adds(b, neg ? "\"-0x" : "\"0x");
	snprintf(t, sizeof t, "%" PRIx64, (uint64_t)a->l[hi]);
	buf_adds(b, t);
	e = 32 * (a->lo + lo);
	for (i = hi - 1; i >= lo; i--) {
		snprintf(t, sizeof t, "%08" PRIx64, (uint64_t)a->l[i]);
		buf_adds(b, t);
	}
	/* No trailing zero digits: the exponent takes them. */
	while (b->len > 0 && b->p[b->len - 1] == '0' && b->p[b->len - 2] != 'x') {
		b->len--;
		e += 4;
	}
	snprintf(t, sizeof t, "p%" PRId32 "\"", e);
	buf_adds(b, t);
}

/* xacc_load adds a value written by xacc_save (a string, or the integer 0); 0, or -1 when malformed. */
static int
xacc_load(struct xacc *a, json_t *v)
{
	const char *p, *q, *h;
	long e;
	char *end;
	bool neg;
	int d;

	if (json_is_integer(v) && json_integer_value(v) == 0)
		return 0;
	if (!json_is_string(v))
		return -1;
	p = json_string_value(v);
	neg = *p == '-';
	p += neg;
	if (strncmp(p, "0x", 2) != 0 || (q = strchr(p, 'p')) == NULL || q == p + 2)
		return -1;
	errno = 0;
	e = strtol(q + 1, &end, 10);
	if (*end != '\0' || end == q + 1 || errno != 0 || e < -8192 || e > 8192 ||
	    (q - p - 2) > 2400)
		return -1;
	for (h = q - 1; h >= p + 2; h--, e += 4) {
		if (*h >= '0' && *h <= '9')
			d = *h - '0';
		else if (*h >= 'a' && *h <= 'f')
			d = *h - 'a' + 10;
		else
			return -1;
		xacc_add(a, (agg_u128)d, neg, (int)e);
	}
	return 0;
}

/* The state is ["sums", n, Sx, Sx2, bad]: the sums exact, as xacc_save writes them. */
static void
var_save(const void *st, struct buf *b)
{
	const struct var_st *s = st;
	struct xacc s1, s2;

	var_sums(s, &s1, &s2);
	buf_adds(b, "[\"sums\",");
	jw_uint(b, s->n);
	buf_addc(b, ',');
	xacc_save(b, &s1);
	buf_addc(b, ',');
	xacc_save(b, &s2);
	buf_adds(b, s->bad ? ",true]" : ",false]");
	free(s1.l);
	free(s2.l);
}

/*
 * var_load_welford converts a state of the releases before the exact
 * sums, [n, mean, m2]: Sx = n * mean and Sx2 = m2 + n * mean^2, computed
 * exactly from those doubles (so the state is as exact as it was).
 */
static int
var_load_welford(struct var_st *s, double mean, double m2)
{
	struct xacc *x = var_x(s);
	uint64_t m, mm;
	int e, ee;
	bool neg, neg2;
	agg_u128 nm;

	if (!isfinite(mean) || !isfinite(m2)) {
		s->bad = true;
		return 0;
	}
	dsplit(mean, &m, &e, &neg);
	nm = (agg_u128)s->n * m;	/* below 2^117 */
	xacc_add(&x[0], nm, neg, e);
	xacc_add(&x[1], (agg_u128)(uint64_t)nm * m, false, 2 * e);
	xacc_add(&x[1], (agg_u128)(uint64_t)(nm >> 64) * m, false, 2 * e + 64);
	dsplit(m2, &mm, &ee, &neg2);
	xacc_add(&x[1], mm, neg2, ee);
	return 0;
}

static int
var_load(void *st, json_t *v)
{
	struct var_st *s = st;
	json_t *n = json_array_get(v, json_is_string(json_array_get(v, 0)) ? 1 : 0);

	if (!json_is_array(v) || !json_is_integer(n) || json_integer_value(n) < 0)
		return -1;
	s->n = (uint64_t)json_integer_value(n);
	if (json_array_size(v) == 3 && json_is_number(json_array_get(v, 1)) &&
	    json_is_number(json_array_get(v, 2)))
		return var_load_welford(s, json_number_value(json_array_get(v, 1)),
		    json_number_value(json_array_get(v, 2)));
	if (json_array_size(v) != 5 || !json_is_string(json_array_get(v, 0)) ||
	    strcmp(json_string_value(json_array_get(v, 0)), "sums") != 0 ||
	    !json_is_boolean(json_array_get(v, 4)))
		return -1;
	s->bad = json_is_true(json_array_get(v, 4));
	if (xacc_load(&var_x(s)[0], json_array_get(v, 2)) != 0 ||
	    xacc_load(&var_x(s)[1], json_array_get(v, 3)) != 0)
		return -1;
	return 0;
}

/* ---- median and pN, exact: every value kept, sorted once per result ---- */

struct vals_st {
	double	*v;
	size_t	 n, cap;
	bool	 sorted;
};

static void vals_init(void *st) { memset(st, 0, sizeof(struct vals_st)); }

static void
vals_push(struct vals_st *s, double x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = xrealloc(s->v, s->cap * sizeof(double));
	}
	s->v[s->n++] = x;
	s->sorted = false;
}

/* dkey maps a double (not NaN) to an unsigned key of the same order, -0 below +0. */
static inline uint64_t
dkey(double d)
{
	uint64_t x;

	memcpy(&x, &d, sizeof x);
	return (x >> 63) ? ~x : x | (uint64_t)1 << 63;
}

static inline double
dunkey(uint64_t x)
{
	double d;

	x = (x >> 63) ? x & ~((uint64_t)1 << 63) : ~x;
	memcpy(&d, &x, sizeof d);
	return d;
}

static void vals_update(void *st, const struct agg_val *v) { vals_push(st, v->d); }

/* vals_merge appends src's values; when both are sorted, it merges the two runs and dst stays sorted. */
static void
vals_merge(void *dst, const void *src)
{
	struct vals_st *d = dst;
	const struct vals_st *s = src;
	double *m;
	size_t i, j, k;

	if (s->n == 0)
		return;
	if ((d->n == 0 || d->sorted) && s->sorted) {
		m = xmalloc((d->n + s->n) * sizeof(double));
		for (i = j = k = 0; i < d->n && j < s->n;)
			m[k++] = dkey(s->v[j]) < dkey(d->v[i]) ? s->v[j++] : d->v[i++];
		if (i < d->n)	/* d->v is NULL when d is empty */
			memcpy(m + k, d->v + i, (d->n - i) * sizeof(double));
		k += d->n - i;
		memcpy(m + k, s->v + j, (s->n - j) * sizeof(double));
		free(d->v);
		d->v = m;
		d->n = d->cap = d->n + s->n;
		d->sorted = true;
		return;
	}
	for (i = 0; i < s->n; i++)
		vals_push(dst, s->v[i]);
}

/*
 * sort_doubles sorts n doubles (no NaN) ascending, -0 before +0, so that
 * the order never depends on the order of arrival: an LSD radix sort of
 * the keys, 11 bits a pass, skipping a pass whose digit is the same in
 * every key; an insertion sort for a few values.
 */
static void
sort_doubles(double *v, size_t n)
{
	enum { BITS = 11, R = 1 << BITS, PASSES = (64 + BITS - 1) / BITS };
	uint64_t *a, *tmp, *sw, k;
	size_t (*cnt)[R], i, j, sum, c;
	int p;

	if (n < 64) {
		for (i = 1; i < n; i++) {
			double x = v[i];
			k = dkey(x);
			for (j = i; j > 0 && dkey(v[j - 1]) > k; j--)
				v[j] = v[j - 1];
			v[j] = x;
		}
		return;
	}
	a = xmalloc(n * sizeof(uint64_t));
	tmp = xmalloc(n * sizeof(uint64_t));
	cnt = xcalloc(PASSES, sizeof(*cnt));
	for (i = 0; i < n; i++) {
		a[i] = k = dkey(v[i]);
		for (p = 0; p < PASSES; p++)
			cnt[p][(k >> (p * BITS)) & (R - 1)]++;
	}
	for (p = 0; p < PASSES; p++) {
		if (cnt[p][(a[0] >> (p * BITS)) & (R - 1)] == n)
			continue;	/* one digit in every key: the pass would move nothing */
		for (i = sum = 0; i < R; i++) {
			c = cnt[p][i];
			cnt[p][i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			tmp[cnt[p][(a[i] >> (p * BITS)) & (R - 1)]++] = a[i];
		sw = a, a = tmp, tmp = sw;
	}
	for (i = 0; i < n; i++)
		v[i] = dunkey(a[i]);
	free(cnt);
	free(tmp);
	free(a);
}

static void
vals_sort(struct vals_st *s)
{
	if (!s->sorted) {
		sort_doubles(s->v, s->n);
		s->sorted = true;
	}
}

double
agg_quantile(const double *v, size_t n, double p)
{
	double h = p * (double)(n - 1), lo = floor(h);
	size_t i = (size_t)lo;

	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (h - lo) * (v[i + 1] - v[i]);
}

/*
 * The rank h = (n - 1) * num / den is split exactly into its whole part
 * and the fraction rem / den, so p33.3 of 1001 values is exactly the
 * 334th; only the interpolation itself rounds, once, from long double.
 */
double
agg_quantile_frac(const double *v, size_t n, uint64_t num, uint64_t den)
{
	agg_u128 h;
	uint64_t lo, rem;
	long double f;

	h = (agg_u128)(n - 1) * num;
	lo = (uint64_t)(h / den);
	rem = (uint64_t)(h % den);
	if (lo + 1 >= n)
		return v[n - 1];
	if (rem == 0 || v[lo] == v[lo + 1])
		return v[lo];
	f = (long double)rem / (long double)den;
	return (double)((long double)v[lo] + f * ((long double)v[lo + 1] - (long double)v[lo]));
}

static int
vals_result(void *st, const struct agg_spec *sp, struct buf *b)
{
	struct vals_st *s = st;

	if (s->n == 0) {
		buf_adds(b, "null");
		return 0;
	}
	vals_sort(s);
	if (sp->pden != 0)
		jw_real(b, agg_quantile_frac(s->v, s->n, sp->pnum, sp->pden));
	else
		jw_real(b, agg_quantile(s->v, s->n, sp->param));
	return 0;
}

/*
 * The state is the values sorted, packed in one string: "f64s:" and 16
 * hexadecimal digits per value, its IEEE 754 bits, most significant
 * first.  Exact, and cheap to write and read: no decimal conversion,
 * and a merger of sorted runs need not sort again.  vals_load also
 * reads the earlier form, a JSON array of numbers.
 */
/* hex8_put writes x as 8 lowercase hex digits, 8 bytes at a time (hex8's inverse). */
static void
hex8_put(char *p, uint32_t x)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t n = x;

	/* One nibble a byte, the last digit in the lowest byte. */
	n = ((n & 0xFFFF0000ULL) << 16) | (n & 0xFFFFULL);
	n = ((n & 0x0000FF000000FF00ULL) << 8) | (n & 0x000000FF000000FFULL);
	n = ((n & 0x00F000F000F000F0ULL) << 4) | (n & 0x000F000F000F000FULL);
	n += 0x30 * ones + (((n + 6 * ones) >> 4) & ones) * 0x27;
	n = __builtin_bswap64(n);
	memcpy(p, &n, 8);
}

static void
vals_save(const void *st, struct buf *b)
{
	struct vals_st *s = (struct vals_st *)(uintptr_t)st;	/* sorting reorders, as a result may */
	uint64_t x;
	size_t i;
	char *p;

	vals_sort(s);
	buf_adds(b, "\"f64s:");
	buf_reserve(b, s->n * 16 + 1);
	p = b->p + b->len;
	for (i = 0; i < s->n; i++) {
		memcpy(&x, &s->v[i], sizeof x);
		hex8_put(p, (uint32_t)(x >> 32));
		hex8_put(p + 8, (uint32_t)x);
		p += 16;
	}
	b->len += s->n * 16;
	buf_addc(b, '"');
}

/*
 * The side table: gr_load takes the long packed strings out of a state
 * line before jansson reads it (jansson reads a string a byte at a time,
 * through calls), leaving "f64s#K" in their place; K indexes the table.
 */
static _Thread_local struct {
	const char	*const *p;
	const size_t	*len;
	size_t		 n;
} side;

void
agg_side_set(const char *const *p, const size_t *len, size_t n)
{
	side.p = p;
	side.len = len;
	side.n = n;
}

/*
 * hex8 decodes 8 lowercase hex digits (as jw writes them) into *out, 8
 * bytes at a time: each byte's nibble is (c & 15) + 9 for a letter, and
 * re-encoding the nibbles must give the bytes back.  Returns 0, or -1
 * when a byte is not one of 0-9a-f.
 */
static int
hex8(const char *p, uint32_t *out)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t c, n, e;

	memcpy(&c, p, 8);
	c = __builtin_bswap64(c);	/* the first digit in the top byte */
	n = (c & 15 * ones) + ((c >> 6) & ones) * 9;
	/* 0-9 -> '0'-'9', 10-15 -> 'a'-'f': add 0x30, and 0x27 more where n >= 10. */
	e = n + 0x30 * ones + (((n + 6 * ones) >> 4) & ones) * 0x27;
	if (e != c || (n & 0xF0F0F0F0F0F0F0F0ULL) != 0)
		return -1;
	n = (n | n >> 4) & 0x00FF00FF00FF00FFULL;
	n = (n | n >> 8) & 0x0000FFFF0000FFFFULL;
	*out = (uint32_t)(n | n >> 16);
	return 0;
}

/* vals_load_hex appends len bytes of packed values (after "f64s:"); 0, or -1 when malformed. */
static int
vals_load_hex(struct vals_st *s, const char *p, size_t len)
{
	uint32_t hi, lo;
	uint64_t x;
	size_t i, n;
	double d;

	if (len % 16 != 0)
		return -1;
	n = len / 16;
	if (s->n + n > s->cap) {
		s->cap = s->n + n;
		s->v = xrealloc(s->v, s->cap * sizeof(double));
	}
	for (i = 0; i < n; i++, p += 16) {
		if (hex8(p, &hi) != 0 || hex8(p + 8, &lo) != 0)
			return -1;	/* not a hex digit */
		x = (uint64_t)hi << 32 | lo;
		memcpy(&d, &x, sizeof d);
		if (isnan(d) || (s->n > 0 && dkey(d) < dkey(s->v[s->n - 1])))
			return -1;	/* not sorted, or not a number */
		s->v[s->n++] = d;
	}
	s->sorted = true;
	return 0;
}

static int
vals_load(void *st, json_t *v)
{
	struct vals_st *s = st;
	const char *p;
	char *end;
	unsigned long k;
	size_t i, len;
	json_t *e;

	if (json_is_string(v)) {
		p = json_string_value(v);
		len = json_string_length(v);
		if (len > 5 && memcmp(p, "f64s#", 5) == 0) {
			k = strtoul(p + 5, &end, 10);
			if (*end != '\0' || k >= side.n)
				return -1;
			return vals_load_hex(s, side.p[k], side.len[k]);
		}
		if (len < 5 || memcmp(p, "f64s:", 5) != 0)
			return -1;
		return vals_load_hex(s, p + 5, len - 5);
	}
	if (!json_is_array(v))
		return -1;
	json_array_foreach(v, i, e) {
		if (!json_is_number(e))
			return -1;
		vals_push(st, json_number_value(e));
	}
	return 0;
}

static void vals_free(void *st) { free(((struct vals_st *)st)->v); }

/* ---- median and pN with --approx: a KLL sketch ---- */

static void kq_init(void *st) { memset(st, 0, sizeof(struct kll)); }
static void kq_update(void *st, const struct agg_val *v) { kll_add(st, v->d); }
static void kq_merge(void *d, const void *s) { kll_merge(d, s); }
static void kq_save(const void *st, struct buf *b) { kll_save(st, b); }
static int kq_load(void *st, json_t *v) { return kll_load(st, v); }
static void kq_free(void *st) { kll_free(st); }

static int
kq_result(void *st, const struct agg_spec *sp, struct buf *b)
{
	struct kll *s = st;

	if (s->n == 0)
		buf_adds(b, "null");
	else
		jw_real(b, kll_quantile(s, sp->param));
	return 0;
}

/* ---- first and last: the value's JSON bytes ---- */

struct raw_st {
	char	*p;
	size_t	 len, cap;
	bool	 has;
};

static void raw_init(void *st) { memset(st, 0, sizeof(struct raw_st)); }

static void
raw_set(struct raw_st *s, const char *p, size_t len)
{
	if (len > s->cap) {
		s->cap = len;
		s->p = xrealloc(s->p, len);
	}
	memcpy(s->p, p, len);
	s->len = len;
	s->has = true;
}

static void
first_update(void *st, const struct agg_val *v)
{
	struct raw_st *s = st;

	if (!s->has)
		raw_set(s, v->raw, v->rawlen);
}

static void last_update(void *st, const struct agg_val *v) { raw_set(st, v->raw, v->rawlen); }

/* first_merge keeps dst's first when it has one: merge states in input order. */
static void
first_merge(void *dst, const void *src)
{
	struct raw_st *d = dst;
	const struct raw_st *s = src;

	if (!d->has && s->has)
		raw_set(d, s->p, s->len);
}

static void
last_merge(void *dst, const void *src)
{
	const struct raw_st *s = src;

	if (s->has)
		raw_set(dst, s->p, s->len);
}

static int
raw_result(void *st, const struct agg_spec *sp, struct buf *b)
{
	struct raw_st *s = st;

	if (s->has)
		buf_add(b, s->p, s->len);
	else
		buf_adds(b, "null");
	return 0;
}

/* raw_save writes the JSON text as a JSON string, so that merging keeps the bytes exactly. */
static void
raw_save(const void *st, struct buf *b)
{
	const struct raw_st *s = st;

	if (s->has)
		jw_str(b, s->p, s->len);
	else
		buf_adds(b, "null");
}

/*
 * json_text_ok reports whether a saved value's text is one JSON value
 * with no line break or surrounding space: the result writes it into a
 * record as it is, so anything else in a state would inject fields or
 * lines into the output.
 */
static bool
json_text_ok(const char *p, size_t len)
{
	json_t *j;

	if (len == 0 || memchr(p, '\n', len) != NULL || memchr(p, '\r', len) != NULL ||
	    p[0] == ' ' || p[0] == '\t' || p[len - 1] == ' ' || p[len - 1] == '\t')
		return false;
	if ((j = json_loadb(p, len, JSON_DECODE_ANY, NULL)) == NULL)
		return false;
	json_decref(j);
	return true;
}

static int
raw_load(void *st, json_t *v)
{
	if (json_is_null(v))
		return 0;
	if (!json_is_string(v) || !json_text_ok(json_string_value(v), json_string_length(v)))
		return -1;
	raw_set(st, json_string_value(v), json_string_length(v));
	return 0;
}

static void raw_free(void *st) { free(((struct raw_st *)st)->p); }

/* ---- equal values: canonical keys ---- */

bool
agg_canon_text_fast(const char *p, size_t n)
{
	size_t i;

	switch (p[0]) {
	case '"':
		return memchr(p + 1, '\\', n - 1) == NULL;
	case 't':
	case 'f':
	case 'n':
		return true;
	case '-':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		/* An integer of up to 18 digits fits int64: its text is its key, but for -0. */
		i = p[0] == '-';
		if (n - i > 18 || n == i || (p[i] == '0' && (n - i > 1 || i)))
			return false;
		for (; i < n; i++)
			if (p[i] < '0' || p[i] > '9')
				return false;
		return true;
	default:
		return false;
	}
}

/* canon_num appends the key of a number, as rec_val_canon would key it (see agg.h). */
static void
canon_num(const struct rec_val *v, struct buf *out)
{
	uint64_t bits;
	double d = v->d;
	char hex[17];
	int i;

	if (v->type == RT_INT) {
		jw_int(out, v->i);
		return;
	}
	if (memchr(v->raw, '.', v->rawlen) == NULL && memchr(v->raw, 'e', v->rawlen) == NULL &&
	    memchr(v->raw, 'E', v->rawlen) == NULL) {
		buf_add(out, v->raw, v->rawlen);	/* an integer past int64: its digits */
		return;
	}
	if (d > -9.2e18 && d < 9.2e18 && d == (double)(int64_t)d) {
		jw_int(out, (int64_t)d);	/* 1.0 is 1, -0.0 is 0 */
		return;
	}
	memcpy(&bits, &d, sizeof(bits));
	hex[0] = '#';
	for (i = 16; i > 0; i--, bits >>= 4)
		hex[i] = "0123456789abcdef"[bits & 15];
	buf_add(out, hex, 17);
}

void
agg_canon_val(struct agg_canon *c, const struct rec_val *v, struct buf *out)
{
	switch (v->type) {
	case RT_STRING:
		jw_str(out, v->s, v->slen);
		break;
	case RT_INT:
	case RT_REAL:
		canon_num(v, out);
		break;
	case RT_NULL:
	case RT_BOOL:
		buf_add(out, v->raw, v->rawlen);
		break;
	default:
		agg_canon_text(c, v->raw, v->rawlen, out);
	}
}

void
agg_canon_text(struct agg_canon *c, const char *p, size_t n, struct buf *out)
{
	struct rec_val v;

	if (agg_canon_text_fast(p, n)) {
		buf_add(out, p, n);
		return;
	}
	if (p[0] == '-' || (p[0] >= '0' && p[0] <= '9')) {
		if (rec_number(p, n, &v) != RT_MISSING) {
			v.raw = p;
			v.rawlen = n;
			canon_num(&v, out);
			return;
		}
	}
	if (c->rec == NULL)
		c->rec = rec_new();
	buf_reset(&c->wrap);
	buf_adds(&c->wrap, "{\"\":");
	buf_add(&c->wrap, p, n);
	buf_addc(&c->wrap, '}');
	if (rec_parse(c->rec, c->wrap.p, c->wrap.len, NULL) != 0 ||
	    rec_get_key(c->rec, "", 0, &v) == RT_MISSING) {
		buf_add(out, p, n);	/* not one value: it is only equal to itself */
		return;
	}
	if (v.type == RT_OBJECT || v.type == RT_ARRAY)
		rec_val_canon(c->rec, &v, out);
	else
		agg_canon_val(c, &v, out);
}

void
agg_canon_free(struct agg_canon *c)
{
	rec_free(c->rec);
	c->rec = NULL;
	buf_free(&c->wrap);
	buf_free(&c->key);
}

/* ---- mode, distinct, topN: a table of counts keyed by the value ---- */

/*
 * A value's entry is keyed by its first spelling (what the results
 * show); one first spelled otherwise than its canonical key also has an
 * alias by that key, through which other spellings find it (as in
 * lib/groups).  The entry's count has CNT_ALIASED set then.
 */
#define CNT_ALIASED	((uint64_t)1 << 63)

struct cnt_st {
	struct hm	*m;	/* first spelling -> uint64_t count (| CNT_ALIASED) */
	struct hm	*alias;	/* canonical key -> uint64_t * (the entry in m) */
	size_t		 bytes;	/* the heap both hold, about (aggs_heap) */
};

/* CNT_ENTRY is what a hash-map entry costs beside its key: header, value, malloc's and the slots'. */
#define CNT_ENTRY	(16 + 8 + 16 + 32)

static void cnt_init(void *st) { memset(st, 0, sizeof(struct cnt_st)); }

/*
 * cnt_add adds k to the count of the value spelled p (its rec_val val when
 * known, else its text), made when new.  c is scratch for its canonical key.
 */
static void
cnt_add(struct cnt_st *s, const char *p, size_t len, uint64_t k, struct agg_canon *c,
    const struct rec_val *val)
{
	uint64_t *e, **a = NULL;
	bool canon;

	if (s->m == NULL)
		s->m = hm_new(sizeof(uint64_t));
	if ((e = hm_get(s->m, p, len)) != NULL) {
		*e += k;
		return;
	}
	canon = val != NULL ? agg_canon_fast(val) : agg_canon_text_fast(p, len);
	if (!canon) {
		buf_reset(&c->key);
		if (val != NULL)
			agg_canon_val(c, val, &c->key);
		else
			agg_canon_text(c, p, len, &c->key);
		canon = c->key.len == len && memcmp(c->key.p, p, len) == 0;
	}
	if (!canon && (e = hm_get(s->m, c->key.p, c->key.len)) != NULL) {
		*e += k;
		return;
	}
	if (s->alias != NULL && hm_count(s->alias) > 0)
		a = canon ? hm_get(s->alias, p, len) : hm_get(s->alias, c->key.p, c->key.len);
	if (a != NULL) {
		**a += k;
		return;
	}
	e = hm_put(s->m, p, len, NULL);
	*e = k;
	s->bytes += len + CNT_ENTRY;
	if (!canon) {
		s->bytes += c->key.len + CNT_ENTRY;
		if (s->alias == NULL)
			s->alias = hm_new(sizeof(uint64_t *));
		*(uint64_t **)hm_put(s->alias, c->key.p, c->key.len, NULL) = e;
		*e |= CNT_ALIASED;
	}
}

static void
cnt_update(void *st, const struct agg_val *v)
{
	cnt_add(st, v->raw, v->rawlen, 1, v->canon, v->val);
}

static void
cnt_merge(void *dst, const void *src)
{
	const struct cnt_st *s = src;
	struct agg_canon c = { 0 };
	hm_iter it;
	uint64_t *e;
	const void *k;
	size_t len;

	if (s->m == NULL)
		return;
	for (e = hm_first(s->m, &it); e; e = hm_next(s->m, &it)) {
		k = hm_key(e, &len);
		cnt_add(dst, k, len, *e & ~CNT_ALIASED, &c, NULL);
	}
	agg_canon_free(&c);
}

/* key_number reads a canonical key as a number: an integer's text, or "#" and a double's bits. */
static bool
key_number(const char *p, size_t len, double *d)
{
	struct rec_val v;
	uint64_t bits = 0;
	size_t i;

	if (len == 17 && p[0] == '#') {
		for (i = 1; i < 17; i++)
			bits = bits << 4 | (uint64_t)(p[i] <= '9' ? p[i] - '0' : p[i] - 'a' + 10);
		memcpy(d, &bits, sizeof(*d));
		return true;
	}
	if (rec_number(p, len, &v) == RT_MISSING)
		return false;
	*d = v.d;
	return true;
}

/*
 * valcmp orders canonical keys independently of arrival order, so that
 * ties (mode, topN) break the same way in one run and in any merge:
 * numbers first, by value, then everything else bytewise.
 */
static int
valcmp(const char *a, size_t alen, const char *b, size_t blen)
{
	struct rec_val x, y;
	bool an = key_number(a, alen, &x.d), bn = key_number(b, blen, &y.d);
	int r;

	if (an != bn)
		return an ? -1 : 1;
	if (an && x.d != y.d)
		return x.d < y.d ? -1 : 1;
	r = memcmp(a, b, alen < blen ? alen : blen);
	if (r != 0)
		return r;
	return (alen > blen) - (alen < blen);
}

struct centry {
	const char	*k;	/* the canonical key, for the order */
	size_t		 len;
	const char	*sp;	/* the first spelling, for the output */
	size_t		 splen;
	uint64_t	 n;
};

/* cent_cmp sorts by count, descending, then by valcmp. */
static int
cent_cmp(const void *a, const void *b)
{
	const struct centry *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return valcmp(x->k, x->len, y->k, y->len);
}

/* cnt_sorted returns the entries sorted by cent_cmp, *n of them; the caller frees it and keys. */
static struct centry *
cnt_sorted(const struct cnt_st *s, size_t *n, struct buf *keys)
{
	struct centry *e;
	struct agg_canon c = { 0 };
	hm_iter it;
	uint64_t *v;
	size_t i = 0, naliased = 0;

	*n = s->m ? hm_count(s->m) : 0;
	e = xmalloc((*n ? *n : 1) * sizeof(*e));
	if (s->m)
		for (v = hm_first(s->m, &it); v; v = hm_next(s->m, &it)) {
			e[i].sp = hm_key(v, &e[i].splen);
			e[i].k = e[i].sp;
			e[i].len = e[i].splen;
			e[i].n = *v & ~CNT_ALIASED;
			/* An aliased entry is ordered by its canonical key (its offset in c.key for now). */
			if (*v & CNT_ALIASED) {
				e[i].k = NULL;
				e[i].len = c.key.len;
				agg_canon_text(&c, e[i].sp, e[i].splen, &c.key);
				buf_addc(&c.key, '\0');	/* canonical keys hold no NUL */
				e[i].n |= CNT_ALIASED;
				naliased++;
			}
			i++;
		}
	for (i = 0; naliased && i < *n; i++)
		if (e[i].n & CNT_ALIASED) {
			e[i].k = c.key.p + e[i].len;
			e[i].len = strlen(e[i].k);
			e[i].n &= ~CNT_ALIASED;
		}
	qsort(e, *n, sizeof(*e), cent_cmp);
	*keys = c.key;	/* the caller's, with e */
	c.key = (struct buf)BUF_INIT;
	agg_canon_free(&c);
	return e;
}

static int
mode_result(void *st, const struct agg_spec *sp, struct buf *b)
{
	struct centry *e;
	struct buf keys = BUF_INIT;
	size_t n;

	e = cnt_sorted(st, &n, &keys);
	if (n == 0)
		buf_adds(b, "null");
	else
		buf_add(b, e[0].sp, e[0].splen);
	free(e);
	buf_free(&keys);
	return 0;
}

static int
top_result(void *st, const struct agg_spec *sp, struct buf *b)
{
	struct centry *e;
	struct buf keys = BUF_INIT;
	size_t n, i;

	e = cnt_sorted(st, &n, &keys);
	buf_addc(b, '[');
	for (i = 0; i < n && i < (size_t)sp->param; i++) {
		buf_adds(b, i ? ",{\"value\":" : "{\"value\":");
		buf_add(b, e[i].sp, e[i].splen);
		buf_adds(b, ",\"count\":");
		jw_uint(b, e[i].n);
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
	free(e);
	buf_free(&keys);
	return 0;
}

static int
distinct_result(void *st, const struct agg_spec *sp, struct buf *b)
{
	struct cnt_st *s = st;

	jw_uint(b, s->m ? hm_count(s->m) : 0);
	return 0;
}

/* cnt_save writes [[text,count],...] sorted, the text as a JSON string to keep its bytes. */
static void
cnt_save(const void *st, struct buf *b)
{
	struct centry *e;
	struct buf keys = BUF_INIT;
	size_t n, i;

	e = cnt_sorted(st, &n, &keys);
	buf_addc(b, '[');
	for (i = 0; i < n; i++) {
		buf_adds(b, i ? ",[" : "[");
		jw_str(b, e[i].sp, e[i].splen);
		buf_addc(b, ',');
		jw_uint(b, e[i].n);
		buf_addc(b, ']');
	}
	buf_addc(b, ']');
	free(e);
	buf_free(&keys);
}

/* cnt_load reads [[text,count],...]; a text is a first spelling, keyed again here. */
static int
cnt_load(void *st, json_t *v)
{
	struct agg_canon c = { 0 };
	json_t *x;
	size_t i, kl;
	const char *kp;
	int rc = 0;

	if (!json_is_array(v))
		return -1;
	json_array_foreach(v, i, x) {
		json_t *k = json_array_get(x, 0), *n = json_array_get(x, 1);
		if (!json_is_array(x) || json_array_size(x) != 2 ||
		    !json_is_string(k) || !json_is_integer(n) || json_integer_value(n) < 1 ||
		    !json_text_ok(json_string_value(k), json_string_length(k))) {
			rc = -1;
			break;
		}
		kp = json_string_value(k);
		kl = json_string_length(k);
		cnt_add(st, kp, kl, (uint64_t)json_integer_value(n), &c, NULL);
	}
	agg_canon_free(&c);
	return rc;
}

static void
cnt_free(void *st)
{
	struct cnt_st *s = st;

	if (s->m)
		hm_free(s->m);
	if (s->alias)
		hm_free(s->alias);
	s->m = NULL;
	s->alias = NULL;
	s->bytes = 0;
}

/* ---- approx_distinct: HyperLogLog ---- */

static void hll_init_st(void *st) { memset(st, 0, sizeof(struct hll)); }
/* hll_update_st hashes a value's canonical key, so that equal values count once, as in distinct. */
static void
hll_update_st(void *st, const struct agg_val *v)
{
	struct buf *key;

	if (v->val == NULL || agg_canon_fast(v->val)) {
		hll_add(st, hm_hash(v->raw, v->rawlen));
		return;
	}
	key = &v->canon->key;
	buf_reset(key);
	agg_canon_val(v->canon, v->val, key);
	hll_add(st, hm_hash(key->p, key->len));
}
static void hll_merge_st(void *d, const void *s) { hll_merge(d, s); }
static void hll_save_st(const void *st, struct buf *b) { hll_save(st, b); }
static void hll_free_st(void *st) { hll_free(st); }

static int
hll_result_st(void *st, const struct agg_spec *sp, struct buf *b)
{
	jw_uint(b, (uint64_t)llround(hll_estimate(st)));
	return 0;
}

static int hll_load_st(void *st, json_t *v) { return hll_load(st, v); }

/* ---- the table ---- */

#define ROW(name, flags, type, kind, init, upd, merge, res, save, load, fr, approx) \
	{ name, flags, sizeof(type), kind, init, upd, merge, res, save, load, fr, approx, 0 }
#define ROWP(name, flags, type, kind, init, upd, merge, res, save, load, fr, approx, param) \
	{ name, flags, sizeof(type), kind, init, upd, merge, res, save, load, fr, approx, param }

const struct agg_func agg_funcs[] = {
	ROW("count", AGG_OPTFIELD, struct count_st, "count",
	    count_init, count_update, count_merge, count_result, count_save, count_load, nofree, NULL),
	ROW("sum", AGG_FIELD | AGG_NUMERIC | AGG_SHARE, struct sum_st, "sum",
	    sum_init, sum_update, sum_merge, sum_result, sum_save, sum_load, nofree, NULL),
	ROW("mean", AGG_FIELD | AGG_NUMERIC | AGG_SHARE, struct sum_st, "sum",
	    sum_init, sum_update, sum_merge, mean_result, sum_save, sum_load, nofree, NULL),
	ROW("min", AGG_FIELD | AGG_NUMERIC, struct ext_st, "min",
	    ext_init, min_update, min_merge, ext_result, ext_save, ext_load, ext_free, NULL),
	ROW("max", AGG_FIELD | AGG_NUMERIC, struct ext_st, "max",
	    ext_init, max_update, max_merge, ext_result, ext_save, ext_load, ext_free, NULL),
	ROW("var", AGG_FIELD | AGG_NUMERIC | AGG_SHARE, struct var_st, "sums2",
	    var_init, var_update, var_merge, var_result, var_save, var_load, var_free, NULL),
	ROW("stddev", AGG_FIELD | AGG_NUMERIC | AGG_SHARE, struct var_st, "sums2",
	    var_init, var_update, var_merge, stddev_result, var_save, var_load, var_free, NULL),
	ROWP("median", AGG_FIELD | AGG_NUMERIC | AGG_SHARE, struct vals_st, "values",
	    vals_init, vals_update, vals_merge, vals_result, vals_save, vals_load, vals_free, "median~", 0.5),
	ROW("p", AGG_FIELD | AGG_NUMERIC | AGG_SHARE | AGG_PCT, struct vals_st, "values",
	    vals_init, vals_update, vals_merge, vals_result, vals_save, vals_load, vals_free, "p~"),
	ROW("first", AGG_FIELD, struct raw_st, "first",
	    raw_init, first_update, first_merge, raw_result, raw_save, raw_load, raw_free, NULL),
	ROW("last", AGG_FIELD, struct raw_st, "last",
	    raw_init, last_update, last_merge, raw_result, raw_save, raw_load, raw_free, NULL),
	ROW("mode", AGG_FIELD | AGG_SHARE, struct cnt_st, "counts",
	    cnt_init, cnt_update, cnt_merge, mode_result, cnt_save, cnt_load, cnt_free, NULL),
	ROW("distinct", AGG_FIELD | AGG_SHARE, struct cnt_st, "counts",
	    cnt_init, cnt_update, cnt_merge, distinct_result, cnt_save, cnt_load, cnt_free, "approx_distinct"),
	ROW("top", AGG_FIELD | AGG_SHARE | AGG_NUM, struct cnt_st, "counts",
	    cnt_init, cnt_update, cnt_merge, top_result, cnt_save, cnt_load, cnt_free, NULL),
	ROW("approx_distinct", AGG_FIELD | AGG_SHARE, struct hll, "hll",
	    hll_init_st, hll_update_st, hll_merge_st, hll_result_st, hll_save_st, hll_load_st, hll_free_st, NULL),
	ROWP("median~", AGG_FIELD | AGG_NUMERIC | AGG_SHARE | AGG_HIDDEN, struct kll, "kll",
	    kq_init, kq_update, kq_merge, kq_result, kq_save, kq_load, kq_free, NULL, 0.5),
	ROW("p~", AGG_FIELD | AGG_NUMERIC | AGG_SHARE | AGG_PCT | AGG_HIDDEN, struct kll, "kll",
	    kq_init, kq_update, kq_merge, kq_result, kq_save, kq_load, kq_free, NULL),
};
const size_t agg_nfuncs = sizeof(agg_funcs) / sizeof(agg_funcs[0]);

/* ---- memory ---- */

/* state_heap returns the heap bytes a state holds beside its block, about. */
static size_t
state_heap(const struct agg_func *fn, const void *st)
{
	size_t n = 0;
	uint32_t h;

	if (fn->update == vals_update)
		return ((const struct vals_st *)st)->cap * sizeof(double);
	if (fn->update == cnt_update)
		return ((const struct cnt_st *)st)->bytes;
	if (fn->update == first_update || fn->update == last_update)
		return ((const struct raw_st *)st)->cap;
	if (fn->update == min_update || fn->update == max_update)
		return ((const struct ext_st *)st)->txtcap;
	if (fn->update == hll_update_st)
		return ((const struct hll *)st)->reg ? HLL_M : 0;
	if (fn->update == kq_update) {
		const struct kll *k = st;
		for (h = 0; h < k->nlv; h++)
			n += k->cap[h] * sizeof(double) + 16;
		return n;
	}
	if (fn->update == var_update) {
		const struct var_st *v = st;
		return v->x ? 2 * sizeof(*v->x) + (v->x[0].len + v->x[1].len) * sizeof(int64_t) : 0;
	}
	return 0;
}

size_t
aggs_heap(const struct aggs *a, const void *block)
{
	const char *b = block;
	size_t i, n = 0;

	for (i = 0; i < a->nspecs; i++)
		if (a->specs[i].owner)
			n += state_heap(a->specs[i].fn, b + a->specs[i].off);
	return n;
}

/* ---- numbers ---- */

int
agg_number(const struct rec_val *v, struct agg_val *out)
{
	struct rec_val n;

	out->raw = v->raw;
	out->rawlen = v->rawlen;
	switch (v->type) {
	case RT_MISSING:
	case RT_NULL:
		return -1;
	case RT_INT:
		out->isint = true;
		out->i = v->i;
		out->d = v->d;
		return 1;
	case RT_REAL:
		out->isint = false;
		out->d = v->d;
		return 1;
	case RT_STRING:
		/* A numeric string counts as its number, read by the JSON grammar. */
		if (rec_number(v->s, v->slen, &n) == RT_MISSING)
			return 0;
		out->isint = n.type == RT_INT;
		out->i = n.i;
		out->d = n.d;
		return 1;
	default:
		return 0;
	}
}

/* ---- spec lists ---- */

void
aggs_init(struct aggs *a)
{
	memset(a, 0, sizeof(*a));
}

/*
 * pct_decimal reads a percentage written as digits[.digits] as the exact
 * fraction *num / *den of 1 (99.9 is 999/1000); anything else, or more
 * digits than 64 bits hold, leaves *den 0 (the double is used then).
 */
static void
pct_decimal(const char *s, uint64_t *num, uint64_t *den)
{
	uint64_t n = 0, d = 100;
	bool dot = false;

	*num = *den = 0;
	for (; *s; s++) {
		if (*s == '.' && !dot) {
			dot = true;
			continue;
		}
		if (*s < '0' || *s > '9' || n > UINT64_MAX / 10 || (dot && d > UINT64_MAX / 10))
			return;
		n = n * 10 + (uint64_t)(*s - '0');
		if (dot)
			d *= 10;
	}
	*num = n;
	*den = d;
}

/* findfunc matches the function part of a spec against the table; *param gets its number, *pnum / *pden a percentage exactly. */
static const struct agg_func *
findfunc(const char *f, size_t len, double *param, uint64_t *pnum, uint64_t *pden, int *badparam)
{
	const struct agg_func	*fn;
	size_t			 i, nl;
	char			 num[32], *end;

	*badparam = 0;
	*pnum = *pden = 0;
	for (i = 0; i < agg_nfuncs; i++) {
		fn = &agg_funcs[i];
		if (fn->flags & AGG_HIDDEN)
			continue;
		nl = strlen(fn->name);
		if (!(fn->flags & (AGG_PCT | AGG_NUM))) {
			if (nl == len && memcmp(f, fn->name, len) == 0)
				return fn;
			continue;
		}
		if (len <= nl || memcmp(f, fn->name, nl) != 0)
			continue;
		if (len - nl >= sizeof(num) || !(f[nl] >= '0' && f[nl] <= '9'))
			continue;
		memcpy(num, f + nl, len - nl);
		num[len - nl] = '\0';
		errno = 0;
		*param = strtod(num, &end);
		if (*end != '\0' || errno != 0)
			continue;
		if (fn->flags & AGG_PCT) {
			if (*param > 100)
				*badparam = 1;
			*param /= 100;
			pct_decimal(num, pnum, pden);
		} else if (strchr(num, '.') || *param < 1 || *param > 1000000)
			*badparam = 1;
		return fn;
	}
	return NULL;
}

int
aggs_add(struct aggs *a, const char *spec, char *why, size_t whylen)
{
	const struct agg_func	*fn;
	struct agg_spec		*sp;
	struct rec_path		*path;
	struct rec_err		 perr;
	const char		*colon, *eq, *p, *fend;
	char			*field = NULL, *name, *func;
	double			 param = 0;
	uint64_t		 pnum = 0, pden = 0;
	int			 bad, quote = 0, depth = 0;
	size_t			 i;

	/* FUNC ends at the first ':' or '='; NAME starts after the last '=' outside quotes and brackets. */
	fend = spec + strcspn(spec, ":=");
	colon = *fend == ':' ? fend : NULL;
	eq = *fend == '=' ? fend : NULL;
	if (colon)
		for (p = colon + 1; *p; p++) {
			if (*p == '\\' && quote && p[1])
				p++;
			else if (*p == '"')
				quote = !quote;
			else if (!quote && *p == '[')
				depth++;
			else if (!quote && *p == ']')
				depth--;
			else if (!quote && depth <= 0 && *p == '=')
				eq = p;
		}
	if (fend == spec)
		return why_fail(why, whylen, "missing function in spec '%s'", spec);
	fn = findfunc(spec, (size_t)(fend - spec), &param, &pnum, &pden, &bad);
	if (fn != NULL && !(fn->flags & (AGG_PCT | AGG_NUM)))
		param = fn->param;
	if (fn != NULL && fn->param == 0.5) {
		pnum = 1;	/* median */
		pden = 2;
	}
	if (fn == NULL)
		return why_fail(why, whylen, "unknown function '%.*s' in spec '%s'", (int)(fend - spec), spec, spec);
	if (bad && (fn->flags & AGG_PCT))
		return why_fail(why, whylen, "percentile must be from 0 to 100 in spec '%s'", spec);
	if (bad)
		return why_fail(why, whylen, "top needs a whole count from 1 to 1000000 in spec '%s'", spec);
	if (colon) {
		field = xstrndup(colon + 1, (size_t)((eq ? eq : colon + 1 + strlen(colon + 1)) - colon - 1));
		if (*field == '\0') {
			free(field);
			return why_fail(why, whylen, "empty field in spec '%s'", spec);
		}
		if ((path = rec_path_compile(field, &perr)) == NULL) {
			why_fail(why, whylen, "bad field '%s' in spec '%s': %s", field, spec, perr.text);
			free(field);
			return -1;
		}
		rec_path_free(path);
	} else if (fn->flags & AGG_FIELD)
		return why_fail(why, whylen, "function '%s' needs a field: '%s:FIELD'", fn->name, spec);
	if (eq && eq[1] == '\0') {
		free(field);
		return why_fail(why, whylen, "empty name in spec '%s'", spec);
	}
	func = xstrndup(spec, (size_t)(fend - spec));
	if (eq)
		name = xstrdup(eq + 1);
	else if (field) {
		name = xmalloc(strlen(field) + strlen(func) + 2);
		sprintf(name, "%s_%s", field, func);
	} else
		name = xstrdup(func);
	for (i = 0; i < a->nspecs; i++)
		if (strcmp(a->specs[i].name, name) == 0) {
			why_fail(why, whylen, "duplicate output name '%s' in spec '%s'", name, spec);
			free(name);
			free(field);
			free(func);
			return -1;
		}
	a->specs = xrealloc(a->specs, (a->nspecs + 1) * sizeof(*a->specs));
	sp = &a->specs[a->nspecs++];
	memset(sp, 0, sizeof(*sp));
	sp->fn = fn;
	sp->func = func;
	sp->field = field;
	sp->name = name;
	sp->param = param;
	sp->pnum = pnum;
	sp->pden = pden;
	sp->fidx = -1;
	sp->text = xmalloc(strlen(func) + (field ? strlen(field) : 0) + strlen(name) + 3);
	sprintf(sp->text, "%s%s%s=%s", func, field ? ":" : "", field ? field : "", name);
	return 0;
}

static const struct agg_func *
byname(const char *name)
{
	size_t i;

	for (i = 0; i < agg_nfuncs; i++)
		if (strcmp(agg_funcs[i].name, name) == 0)
			return &agg_funcs[i];
	return NULL;
}

static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

void
aggs_finish(struct aggs *a, bool approx)
{
	struct agg_spec	*sp, *o;
	size_t		 i, j, f;

	a->approx = approx;
	a->size = 0;
	for (i = 0; i < a->nspecs; i++) {
		sp = &a->specs[i];
		if (approx && sp->fn->approx)
			sp->fn = byname(sp->fn->approx);
		if (sp->field) {
			for (f = 0; f < a->nfields; f++)
				if (strcmp(a->fields[f], sp->field) == 0)
					break;
			if (f == a->nfields) {
				a->fields = xrealloc(a->fields, (f + 1) * sizeof(*a->fields));
				a->numeric = xrealloc(a->numeric, (f + 1) * sizeof(*a->numeric));
				a->invalid_name = xrealloc(a->invalid_name, (f + 1) * sizeof(*a->invalid_name));
				a->fields[f] = sp->field;
				a->numeric[f] = false;
				a->invalid_name[f] = xmalloc(strlen(sp->field) + 9);
				sprintf(a->invalid_name[f], "%s_invalid", sp->field);
				a->nfields++;
			}
			sp->fidx = (int)f;
			if (sp->fn->flags & AGG_NUMERIC)
				a->numeric[f] = true;
		}
		/* Share the state of an earlier spec of the same kind over the same field. */
		sp->owner = true;
		if (sp->fn->flags & AGG_SHARE)
			for (j = 0; j < i; j++) {
				o = &a->specs[j];
				if (o->owner && o->fidx == sp->fidx &&
				    strcmp(o->fn->kind, sp->fn->kind) == 0) {
					sp->owner = false;
					sp->off = o->off;
					break;
				}
			}
		if (sp->owner) {
			sp->off = a->size;
			a->size += align8(sp->fn->size);
		}
	}
	a->inv_off = a->size;
	a->size += a->nfields * sizeof(uint64_t);
	a->ustate = xcalloc(a->nfields + 1, 1);
	a->unum = xcalloc(a->nfields + 1, sizeof(*a->unum));
	a->canon = xcalloc(1, sizeof(*a->canon));
	if (a->size == 0)
		a->size = 8;
	a->done = true;
}

void
aggs_free(struct aggs *a)
{
	size_t i;

	for (i = 0; i < a->nspecs; i++) {
		free(a->specs[i].text);
		free(a->specs[i].func);
		free(a->specs[i].field);
		free(a->specs[i].name);
	}
	for (i = 0; i < a->nfields; i++)
		free(a->invalid_name[i]);
	free(a->specs);
	free(a->fields);
	free(a->numeric);
	free(a->invalid_name);
	free(a->ustate);
	free(a->unum);
	if (a->canon != NULL)
		agg_canon_free(a->canon);
	free(a->canon);
	memset(a, 0, sizeof(*a));
}

void
aggs_state_init(const struct aggs *a, void *block)
{
	char *b = block;
	size_t i;

	for (i = 0; i < a->nspecs; i++)
		if (a->specs[i].owner)
			a->specs[i].fn->init(b + a->specs[i].off);
	memset(b + a->inv_off, 0, a->nfields * sizeof(uint64_t));
}

int
aggs_update(const struct aggs *a, void *block, const struct rec_val *vals)
{
	/* Per field: 0 not looked at, 1 a number, 2 skipped (missing/null), 3 invalid. */
	unsigned char	*state = a->ustate;
	struct agg_val	*num = a->unum;
	struct agg_val	 rv;
	const struct agg_spec *sp;
	char		*b = block;
	int		 first_bad = -1, r;
	size_t		 i;
	int		 f;

	memset(state, 0, a->nfields);
	for (i = 0; i < a->nspecs; i++) {
		sp = &a->specs[i];
		if (!sp->owner)
			continue;
		f = sp->fidx;
		if (f < 0) {
			sp->fn->update(b + sp->off, NULL);
			continue;
		}
		if (sp->fn->flags & AGG_NUMERIC) {
			if (state[f] == 0) {
				r = agg_number(&vals[f], &num[f]);
				state[f] = r == 1 ? 1 : r < 0 ? 2 : 3;
				if (state[f] == 3) {
					((uint64_t *)(void *)(b + a->inv_off))[f]++;
					if (first_bad < 0)
						first_bad = f;
				}
			}
			if (state[f] == 1)
				sp->fn->update(b + sp->off, &num[f]);
		} else {
			if (vals[f].type == RT_MISSING || vals[f].type == RT_NULL)
				continue;
			rv.raw = vals[f].raw;
			rv.rawlen = vals[f].rawlen;
			rv.isint = false;
			rv.i = 0;
			rv.d = 0;
			rv.val = &vals[f];
			rv.canon = a->canon;
			sp->fn->update(b + sp->off, &rv);
		}
	}
	return first_bad;
}

void
aggs_merge(const struct aggs *a, void *dst, const void *src)
{
	char *d = dst;
	const char *s = src;
	size_t i;

	for (i = 0; i < a->nspecs; i++)
		if (a->specs[i].owner)
			a->specs[i].fn->merge(d + a->specs[i].off, s + a->specs[i].off);
	for (i = 0; i < a->nfields; i++)
		((uint64_t *)(void *)(d + a->inv_off))[i] += ((const uint64_t *)(const void *)(s + a->inv_off))[i];
}

size_t
aggs_result(const struct aggs *a, void *block, struct agg_cols *c)
{
	char *b = block;
	uint64_t inv;
	size_t i, over = 0;

	for (i = 0; i < a->nspecs; i++) {
		agg_cols_begin(c, a->specs[i].name);
		if (a->specs[i].fn->result(b + a->specs[i].off, &a->specs[i], &c->b) == AGG_OVERFLOW)
			over++;
		agg_cols_end(c);
	}
	for (i = 0; i < a->nfields; i++) {
		inv = ((uint64_t *)(void *)(b + a->inv_off))[i];
		if (inv == 0)
			continue;
		agg_cols_begin(c, a->invalid_name[i]);
		jw_uint(&c->b, inv);
		agg_cols_end(c);
	}
	return over;
}

void
aggs_save(const struct aggs *a, const void *block, struct buf *out)
{
	const char *b = block;
	size_t i;

	buf_addc(out, '[');
	for (i = 0; i < a->nspecs; i++) {
		if (i)
			buf_addc(out, ',');
		if (a->specs[i].owner)
			a->specs[i].fn->save(b + a->specs[i].off, out);
		else
			buf_adds(out, "null");
	}
	buf_addc(out, ']');
}

void
aggs_save_invalid(const struct aggs *a, const void *block, struct buf *out)
{
	const char *b = block;
	size_t i;

	buf_addc(out, '[');
	for (i = 0; i < a->nfields; i++) {
		if (i)
			buf_addc(out, ',');
		jw_uint(out, ((const uint64_t *)(const void *)(b + a->inv_off))[i]);
	}
	buf_addc(out, ']');
}

json_t *
agg_states_parse(struct agg_text *t, const char *p, size_t len)
{
	static const char tag[] = "\"f64s:";
	struct buf *b = &t->b;
	size_t i = 0, j, from = 0;
	bool in = false;
	char num[32];

	t->n = 0;
	if (len < 1 << 12)
		return json_loadb(p, len, 0, NULL);
	buf_reset(b);
	while (i < len) {
		if (in) {
			if (p[i] == '\\')
				i += 2;
			else
				in = p[i++] != '"';
			continue;
		}
		if (p[i] != '"') {
			i++;
			continue;
		}
		if (len - i > sizeof tag - 1 && memcmp(p + i, tag, sizeof tag - 1) == 0) {
			/* The end of the string; its bytes are checked as hex digits when loaded. */
			const char *q = memchr(p + i + sizeof tag - 1, '"', len - i - (sizeof tag - 1));

			j = q != NULL ? (size_t)(q - p) : len;
			if (q != NULL && memchr(p + i, '\\', j - i) == NULL) {
				if (t->n == t->cap) {
					t->cap = t->cap ? 2 * t->cap : 8;
					t->p = xrealloc(t->p, t->cap * sizeof(*t->p));
					t->len = xrealloc(t->len, t->cap * sizeof(*t->len));
				}
				t->p[t->n] = p + i + sizeof tag - 1;
				t->len[t->n] = j - (i + sizeof tag - 1);
				buf_add(b, p + from, i - from);
				snprintf(num, sizeof num, "\"f64s#%zu\"", t->n++);
				buf_adds(b, num);
				i = from = j + 1;
				continue;
			}
		}
		in = true;
		i++;
	}
	buf_add(b, p + from, len - from);
	agg_side_set((const char *const *)t->p, t->len, t->n);
	return json_loadb(b->p, b->len, 0, NULL);
}

void
agg_text_free(struct agg_text *t)
{
	buf_free(&t->b);
	free(t->p);
	free(t->len);
	memset(t, 0, sizeof(*t));
}

int
aggs_load(const struct aggs *a, void *block, json_t *states, json_t *inv)
{
	char *b = block;
	json_t *x;
	size_t i;
	int bad = 0;

	if (!json_is_array(states) || json_array_size(states) != a->nspecs)
		bad = -1;
	for (i = 0; bad == 0 && i < a->nspecs; i++)
		if (a->specs[i].owner &&
		    a->specs[i].fn->load(b + a->specs[i].off, json_array_get(states, i)) != 0)
			bad = -1;
	agg_side_set(NULL, NULL, 0);	/* the side table serves one load */
	if (bad != 0)
		return -1;
	if (inv == NULL)
		return 0;
	if (!json_is_array(inv) || json_array_size(inv) != a->nfields)
		return -1;
	for (i = 0; i < a->nfields; i++) {
		x = json_array_get(inv, i);
		if (!json_is_integer(x) || json_integer_value(x) < 0)
			return -1;
		((uint64_t *)(void *)(b + a->inv_off))[i] = (uint64_t)json_integer_value(x);
	}
	return 0;
}

void
aggs_state_free(const struct aggs *a, void *block)
{
	char *b = block;
	size_t i;

	for (i = 0; i < a->nspecs; i++)
		if (a->specs[i].owner)
			a->specs[i].fn->free(b + a->specs[i].off);
}

/* ---- output columns ---- */

void
agg_cols_reset(struct agg_cols *c)
{
	c->n = 0;
	buf_reset(&c->b);
}

void
agg_cols_begin(struct agg_cols *c, const char *name)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->name = xrealloc(c->name, c->cap * sizeof(*c->name));
		c->start = xrealloc(c->start, c->cap * sizeof(*c->start));
		c->len = xrealloc(c->len, c->cap * sizeof(*c->len));
	}
	c->name[c->n] = name;
	c->start[c->n] = c->b.len;
}

void
agg_cols_end(struct agg_cols *c)
{
	c->len[c->n] = c->b.len - c->start[c->n];
	c->n++;
}

void
agg_cols_add(struct agg_cols *c, const char *name, const char *json, size_t len)
{
	agg_cols_begin(c, name);
	buf_add(&c->b, json, len);
	agg_cols_end(c);
}

void
agg_cols_free(struct agg_cols *c)
{
	buf_free(&c->b);
	free(c->name);
	free(c->start);
	free(c->len);
	memset(c, 0, sizeof(*c));
}
