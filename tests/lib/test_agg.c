/* test_agg: the aggregate function table, exact numbers, quantiles and the HLL and KLL sketches. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "hashmap.h"
#include "hll.h"
#include "kll.h"
#include "tap.h"

/* val makes a field value from JSON text (plain strings without escapes only). */
static struct rec_val
val(const char *json)
{
	struct rec_val v;
	size_t n = strlen(json);

	memset(&v, 0, sizeof(v));
	v.raw = json;
	v.rawlen = n;
	if (strcmp(json, "-") == 0)
		v.type = RT_MISSING;
	else if (strcmp(json, "null") == 0)
		v.type = RT_NULL;
	else if (strcmp(json, "true") == 0 || strcmp(json, "false") == 0) {
		v.type = RT_BOOL;
		v.b = json[0] == 't';
	} else if (json[0] == '"') {
		v.type = RT_STRING;
		v.s = json + 1;
		v.slen = n - 2;
	} else if (json[0] == '{')
		v.type = RT_OBJECT;
	else if (json[0] == '[')
		v.type = RT_ARRAY;
	else if (rec_number(json, n, &v) == RT_MISSING)
		v.type = RT_MISSING;	/* not a number: the tests never feed one */
	v.raw = json;
	v.rawlen = n;
	return v;
}

/* A tiny harness: one spec list over one field "v", blocks fed from JSON texts. */
struct h {
	struct aggs	 a;
	void		*blk;
	struct agg_cols	 c;
	char		 out[4096];
};

static void
h_new(struct h *h, const char *specs[], bool approx)
{
	char why[256];
	size_t i;

	memset(h, 0, sizeof(*h));
	aggs_init(&h->a);
	for (i = 0; specs[i]; i++)
		if (aggs_add(&h->a, specs[i], why, sizeof(why)) != 0)
			printf("# spec %s: %s\n", specs[i], why);
	aggs_finish(&h->a, approx);
	h->blk = xmalloc(h->a.size);
	aggs_state_init(&h->a, h->blk);
}

static int
h_feed(struct h *h, void *blk, const char *json)
{
	struct rec_val v[4];
	size_t f;

	for (f = 0; f < h->a.nfields; f++)
		v[f] = val(json);
	return aggs_update(&h->a, blk ? blk : h->blk, v);
}

/*
 * h_row renders the result columns as name=json pairs separated by
 * spaces.  Reals (values with '.' or an exponent) are shown with %.16g so
 * that the checks do not depend on jw_real's spelling of 5.0; integers
 * are shown as written (h_raw shows everything as written).
 */
static const char *
h_row_(struct h *h, void *blk, bool raw)
{
	size_t i, o = 0;
	char tmp[64], *end;
	const char *p;
	int len;
	double d;

	agg_cols_reset(&h->c);
	aggs_result(&h->a, blk ? blk : h->blk, &h->c);
	h->out[0] = '\0';
	for (i = 0; i < h->c.n; i++) {
		p = h->c.b.p + h->c.start[i];
		len = (int)h->c.len[i];
		if (!raw && len < 40) {
			memcpy(tmp, p, (size_t)len);
			tmp[len] = '\0';
			d = strtod(tmp, &end);
			if (strcspn(tmp, ".eE") == (size_t)len)
				end = tmp;
			if (*end == '\0') {
				snprintf(tmp, sizeof(tmp), "%.16g", d);
				p = tmp;
				len = (int)strlen(tmp);
			}
		}
		o += (size_t)snprintf(h->out + o, sizeof(h->out) - o, "%s%s=%.*s", i ? " " : "",
		    h->c.name[i], len, p);
	}
	return h->out;
}

static const char *h_row(struct h *h, void *blk) { return h_row_(h, blk, false); }
static const char *h_raw(struct h *h, void *blk) { return h_row_(h, blk, true); }

static void
h_free(struct h *h)
{
	aggs_state_free(&h->a, h->blk);
	free(h->blk);
	aggs_free(&h->a);
	agg_cols_free(&h->c);
}

/* roundtrip saves a block and loads it into a fresh one, which it returns. */
static void *
roundtrip(struct h *h, void *blk)
{
	struct buf b = BUF_INIT;
	json_t *st, *inv;
	void *n = xmalloc(h->a.size);
	json_error_t e;

	aggs_state_init(&h->a, n);
	aggs_save(&h->a, blk, &b);
	st = json_loadb(b.p, b.len, 0, &e);
	buf_reset(&b);
	aggs_save_invalid(&h->a, blk, &b);
	inv = json_loadb(b.p, b.len, 0, &e);
	ok(st && inv && aggs_load(&h->a, n, st, inv) == 0, "a saved state loads back");
	json_decref(st);
	json_decref(inv);
	buf_free(&b);
	return n;
}

static void
test_functions(void)
{
	const char *specs[] = { "count", "count:v=n", "sum:v", "mean:v", "min:v", "max:v", "var:v",
	    "stddev:v", "median:v", "p90:v", "first:v", "last:v", "mode:v", "distinct:v",
	    "top2:v", "approx_distinct:v", NULL };
	const char *in[] = { "2", "4", "4", "4", "5", "5", "7", "9", "null", "-", NULL };
	const char *want = "count=10 n=8 v_sum=40 v_mean=5 v_min=2 v_max=9 "
	    "v_var=4.571428571428571 v_stddev=2.138089935299395 v_median=4.5 v_p90=7.6 "
	    "v_first=2 v_last=9 v_mode=4 v_distinct=5 "
	    "v_top2=[{\"value\":4,\"count\":3},{\"value\":5,\"count\":2}] v_approx_distinct=5";
	struct h h;
	void *b2, *b3, *rt;
	size_t i;

	h_new(&h, specs, false);
	is_str(h_row(&h, NULL), "count=0 n=0 v_sum=0 v_mean=null v_min=null v_max=null v_var=null "
	    "v_stddev=null v_median=null v_p90=null v_first=null v_last=null v_mode=null v_distinct=0 "
	    "v_top2=[] v_approx_distinct=0", "every function has a result for an empty group");
	for (i = 0; in[i]; i++)
		h_feed(&h, NULL, in[i]);
	is_str(h_row(&h, NULL), want, "every function over 2 4 4 4 5 5 7 9, null and missing");
	ok(strncmp(h_raw(&h, NULL), "count=10 n=8 v_sum=40 ", 22) == 0, "a sum of integers is written as an integer");

	/* The same values split in two blocks, merged, give the same row. */
	b2 = xmalloc(h.a.size);
	b3 = xmalloc(h.a.size);
	aggs_state_init(&h.a, b2);
	aggs_state_init(&h.a, b3);
	for (i = 0; in[i]; i++)
		h_feed(&h, i < 3 ? b2 : b3, in[i]);
	aggs_merge(&h.a, b2, b3);
	is_str(h_row(&h, b2), want, "merging two partial states equals one run");

	rt = roundtrip(&h, b2);
	is_str(h_row(&h, rt), want, "save then load keeps every state");
	aggs_state_free(&h.a, rt);
	free(rt);
	aggs_state_free(&h.a, b2);
	aggs_state_free(&h.a, b3);
	free(b2);
	free(b3);
	h_free(&h);
}

static void
test_sharing(void)
{
	const char *specs[] = { "sum:v", "mean:v", "p50:v", "p99:v", "median:v", "var:v", "stddev:v", NULL };
	struct h h;

	h_new(&h, specs, false);
	ok(!h.a.specs[1].owner && h.a.specs[1].off == h.a.specs[0].off, "mean shares sum's state");
	ok(!h.a.specs[3].owner && !h.a.specs[4].owner && h.a.specs[3].off == h.a.specs[2].off,
	    "every quantile of a field shares one store of values");
	ok(h.a.specs[5].owner && !h.a.specs[6].owner, "stddev shares var's Welford state");
	h_feed(&h, NULL, "1");
	h_feed(&h, NULL, "3");
	is_str(h_row(&h, NULL), "v_sum=4 v_mean=2 v_p50=2 v_p99=2.98 v_median=2 v_var=2 "
	    "v_stddev=1.414213562373095", "shared states give each spec its result");
	h_free(&h);
}

static void
test_numbers(void)
{
	const char *specs[] = { "sum:v", "mean:v", NULL };
	struct h h;
	int i;

	h_new(&h, specs, false);
	h_feed(&h, NULL, "1e100");
	h_feed(&h, NULL, "1.0");
	h_feed(&h, NULL, "-1e100");
	is_str(h_row(&h, NULL), "v_sum=1 v_mean=0.3333333333333333", "Neumaier keeps 1 in 1e100 + 1 - 1e100");
	h_free(&h);

	h_new(&h, specs, false);
	for (i = 0; i < 10; i++)
		h_feed(&h, NULL, "0.1");
	is_str(h_row(&h, NULL), "v_sum=1 v_mean=0.1", "ten times 0.1 sums to exactly 1");
	ok(strchr(h_raw(&h, NULL), '.') != NULL, "a sum of reals is written as a real");
	h_free(&h);

	h_new(&h, specs, false);
	h_feed(&h, NULL, "9007199254740993");
	h_feed(&h, NULL, "1");
	is_str(h_row(&h, NULL), "v_sum=9007199254740994 v_mean=4503599627370497",
	    "integer sums are exact past 2^53");
	h_feed(&h, NULL, "9223372036854775000");
	/* 9007199254740994 + 9223372036854775000, and that over 3 by python3's exact int/int. */
	is_str(h_raw(&h, NULL), "v_sum=9232379236109515994 v_mean=3.0774597453698386e+18",
	    "a sum past int64 stays an exact integer (128 bits)");
	h_free(&h);

	h_new(&h, specs, false);
	h_feed(&h, NULL, "9223372036854775807");
	h_feed(&h, NULL, "9223372036854775807");
	h_feed(&h, NULL, "-9223372036854775807");
	is_str(h_raw(&h, NULL), "v_sum=9223372036854775807 v_mean=3.0744573456182584e+18",
	    "an int64 overflow midway comes back to an exact int64 when the total fits");
	h_free(&h);

	h_new(&h, specs, false);
	h_feed(&h, NULL, "1e308");
	h_feed(&h, NULL, "1e308");
	agg_cols_reset(&h.c);
	is_int((long long)aggs_result(&h.a, h.blk, &h.c), 1, "a sum past the double range is reported as one overflow");
	is_str(h_raw(&h, NULL), "v_sum=null v_mean=1e+308", "its mean is still exact");
	h_free(&h);

	h_new(&h, specs, false);
	is_int(h_feed(&h, NULL, "\"12\""), -1, "a numeric string is a number");
	is_int(h_feed(&h, NULL, "\"-1.5e1\""), -1, "a numeric string with an exponent is a number");
	is_int(h_feed(&h, NULL, "\"abc\""), 0, "a non-numeric string is invalid");
	is_int(h_feed(&h, NULL, "\" 1\""), 0, "a string with spaces is not a number");
	is_int(h_feed(&h, NULL, "true"), 0, "a boolean is invalid");
	is_int(h_feed(&h, NULL, "[1]"), 0, "an array is invalid");
	is_int(h_feed(&h, NULL, "null"), -1, "null is skipped, not invalid");
	is_int(h_feed(&h, NULL, "-"), -1, "a missing field is skipped, not invalid");
	is_str(h_row(&h, NULL), "v_sum=-3 v_mean=-1.5 v_invalid=4", "invalid values are counted once per field");
	ok(strstr(h_raw(&h, NULL), "v_sum=-3 ") == NULL, "a numeric string with an exponent makes the sum real");
	h_free(&h);
}

static void
test_minmax(void)
{
	const char *specs[] = { "min:v", "max:v", NULL };
	struct h h;

	h_new(&h, specs, false);
	h_feed(&h, NULL, "9223372036854775807");
	h_feed(&h, NULL, "9223372036854775806");
	h_feed(&h, NULL, "-2.5");
	is_str(h_row(&h, NULL), "v_min=-2.5 v_max=9223372036854775807", "min and max keep integers exact");
	h_free(&h);

	h_new(&h, specs, false);
	h_feed(&h, NULL, "123456789012345678901234567890");
	h_feed(&h, NULL, "123456789012345678901234567891");
	h_feed(&h, NULL, "\"-123456789012345678901234567891\"");
	h_feed(&h, NULL, "5");
	is_str(h_raw(&h, NULL), "v_min=-123456789012345678901234567891 v_max=123456789012345678901234567891",
	    "min and max select integers past 64 bits exactly and keep their digits");
	h_free(&h);

	h_new(&h, specs, false);
	h_feed(&h, NULL, "1.50");
	h_feed(&h, NULL, "2.0e0");
	is_str(h_raw(&h, NULL), "v_min=1.50 v_max=2.0e0", "a selected real keeps the digits it came with");
	h_free(&h);
}

static void
test_quantiles(void)
{
	double v[] = { 1, 2, 3, 4 }, one[] = { 7 };

	ok(agg_quantile(v, 4, 0.5) == 2.5, "R-7 median of 1 2 3 4 is 2.5");
	ok(fabs(agg_quantile(v, 4, 0.9) - 3.7) < 1e-12, "R-7 p90 of 1 2 3 4 is 3.7");
	ok(agg_quantile(v, 4, 0) == 1 && agg_quantile(v, 4, 1) == 4, "p0 and p100 are min and max");
	ok(fabs(agg_quantile(v, 4, 0.999) - 3.997) < 1e-12, "R-7 p99.9 interpolates");
	ok(agg_quantile(one, 1, 0.5) == 7, "a single value is every quantile");

	/* R: quantile(0:1000, c(.333, .999, .12345, .001), type = 7) is 333, 999, 123.45, 1. */
	double *k = xmalloc(1001 * sizeof(*k));
	for (size_t i = 0; i <= 1000; i++)
		k[i] = (double)i;
	ok(agg_quantile_frac(k, 1001, 333, 1000) == 333, "p33.3 of 0..1000 is exactly 333");
	ok(agg_quantile_frac(k, 1001, 999, 1000) == 999, "p99.9 of 0..1000 is exactly 999");
	ok(agg_quantile_frac(k, 1001, 12345, 100000) == 123.45, "p12.345 of 0..1000 is 123.45, rounded once");
	ok(agg_quantile_frac(k, 1001, 1, 1000) == 1, "p0.1 of 0..1000 is 1");
	ok(agg_quantile_frac(v, 4, 9, 10) == 3.7, "p90 of 1 2 3 4 is 3.7 to the last digit");
	free(k);
}

static void
test_specs(void)
{
	struct {
		const char *spec, *why;
	} bad[] = {
		{ "frob:v", "unknown function 'frob' in spec 'frob:v'" },
		{ ":v", "missing function in spec ':v'" },
		{ "sum", "function 'sum' needs a field: 'sum:FIELD'" },
		{ "p101:v", "percentile must be from 0 to 100 in spec 'p101:v'" },
		{ "top0:v", "top needs a whole count from 1 to 1000000 in spec 'top0:v'" },
		{ "top1.5:v", "top needs a whole count from 1 to 1000000 in spec 'top1.5:v'" },
		{ "pfoo:v", "unknown function 'pfoo' in spec 'pfoo:v'" },
		{ "sum:", "empty field in spec 'sum:'" },
		{ "sum:v=", "empty name in spec 'sum:v='" },
		{ "sum:v", "duplicate output name 'v_sum' in spec 'sum:v'" },
	};
	struct aggs a;
	char why[256];
	size_t i;

	aggs_init(&a);
	ok(aggs_add(&a, "sum:v", why, sizeof(why)) == 0, "sum:v is a spec");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		ok(aggs_add(&a, bad[i].spec, why, sizeof(why)) == -1, "'%s' is rejected", bad[i].spec);
		is_str(why, bad[i].why, "with its reason");
	}
	ok(aggs_add(&a, "p99.9:v", why, sizeof(why)) == 0, "p99.9 is a spec");
	is_str(a.specs[1].name, "v_p99.9", "named FIELD_pN");
	ok(fabs(a.specs[1].param - 0.999) < 1e-15, "with the fraction 0.999");
	ok(a.specs[1].pnum == 999 && a.specs[1].pden == 1000, "read exactly as 999/1000");
	ok(aggs_add(&a, "top5:page", why, sizeof(why)) == 0, "top5:page is a spec");
	is_str(a.specs[2].name, "page_top5", "named page_top5");
	ok(aggs_add(&a, "count=events", why, sizeof(why)) == 0, "count=events renames count");
	is_str(a.specs[3].text, "count=events", "canonical text of a renamed count");
	ok(aggs_add(&a, "max:.\"a=b\"", why, sizeof(why)) == 0, "an '=' inside a quoted key is part of the field");
	is_str(a.specs[4].field, ".\"a=b\"", "the field keeps its quotes");
	ok(aggs_add(&a, "min:x=lo", why, sizeof(why)) == 0, "min:x=lo is a spec");
	is_str(a.specs[5].text, "min:x=lo", "canonical text FUNC:FIELD=NAME");
	aggs_finish(&a, false);
	is_int(a.nfields, 4, "fields are collected once each");
	aggs_free(&a);
}

static void
test_hll(void)
{
	struct hll h = { 0 }, h1 = { 0 }, h2 = { 0 }, r = { 0 }, s1 = { 0 };
	json_t *j;
	struct buf b = BUF_INIT;
	char key[32];
	double e;
	int i, n;

	ok(hll_estimate(&h) == 0, "an empty HLL estimates 0");
	for (i = 0; i < 100000; i++) {
		n = snprintf(key, sizeof(key), "user_%d", i);
		hll_add(&h, hm_hash(key, (size_t)n));
		hll_add(&h, hm_hash(key, (size_t)n));
		hll_add(i % 2 ? &h1 : &h2, hm_hash(key, (size_t)n));
	}
	e = hll_estimate(&h);
	ok(fabs(e - 1e5) / 1e5 < 0.03, "HLL estimates 1e5 distinct within 3%% (got %.0f)", e);
	hll_merge(&h1, &h2);
	ok(hll_estimate(&h1) == e, "merging two halves gives the same sketch");
	hll_save(&h, &b);
	j = json_loadb(b.p, b.len, JSON_DECODE_ANY, NULL);
	ok(b.p[0] == '"' && hll_load(&r, j) == 0 && hll_estimate(&r) == e, "a dense HLL saves as base64 and loads back");
	json_decref(j);
	j = json_string("AAAA");
	ok(hll_load(&r, j) == -1, "a short HLL state is rejected");
	json_decref(j);
	hll_free(&r);
	for (i = 0; i < 500; i++)
		hll_add(&s1, hm_hash(&i, sizeof(i)));
	buf_reset(&b);
	hll_save(&s1, &b);
	j = json_loadb(b.p, b.len, JSON_DECODE_ANY, NULL);
	ok(b.p[0] == '[' && hll_load(&r, j) == 0 && hll_estimate(&r) == hll_estimate(&s1),
	    "a small HLL saves sparse and loads back");
	json_decref(j);
	j = json_loads("[64000000]", 0, NULL);
	ok(hll_load(&r, j) == -1, "a sparse register out of range is rejected");
	json_decref(j);
	hll_free(&s1);
	for (n = 0, i = 0; i < 1000; i++) {
		struct hll s = { 0 };
		int jj;
		for (jj = 0; jj < 100; jj++) {
			char k2[32];
			int l = snprintf(k2, sizeof(k2), "%d:%d", i, jj);
			hll_add(&s, hm_hash(k2, (size_t)l));
		}
		n += labs(llround(hll_estimate(&s)) - 100) <= 3;
		hll_free(&s);
	}
	ok(n == 1000, "small cardinalities are nearly exact (%d of 1000 within 3 of 100)", n);
	buf_free(&b);
	hll_free(&h);
	hll_free(&h1);
	hll_free(&h2);
	hll_free(&r);
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* rank_err returns |rank(q) - p*n| / n of an approximate quantile q in sorted v. */
static double
rank_err(const double *v, size_t n, double q, double p)
{
	size_t lo = 0, hi = n, r;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v[mid] < q)
			lo = mid + 1;
		else
			hi = mid;
	}
	r = lo;
	return fabs((double)r - p * (double)(n - 1)) / (double)n;
}

static void
test_kll(void)
{
	struct kll k = { 0 }, a = { 0 }, b = { 0 }, r = { 0 };
	double *v, ps[] = { 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99 }, worst = 0, worstm = 0, e;
	struct buf buf = BUF_INIT;
	json_t *j;
	size_t n = 100000, i;
	uint64_t x = 88172645463325252ULL;

	v = xmalloc(n * sizeof(double));
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v[i] = (double)(x % 1000000) / 7.0 - 50000;
		kll_add(&k, v[i]);
		kll_add(i < n / 3 ? &a : &b, v[i]);
	}
	kll_merge(&a, &b);
	qsort(v, n, sizeof(double), cmpd);
	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		e = rank_err(v, n, kll_quantile(&k, ps[i]), ps[i]);
		worst = e > worst ? e : worst;
		e = rank_err(v, n, kll_quantile(&a, ps[i]), ps[i]);
		worstm = e > worstm ? e : worstm;
	}
	ok(worst < 0.015, "KLL rank error on 1e5 values is below 1.5%% (%.4f%%)", worst * 100);
	ok(worstm < 0.015, "KLL rank error after a merge is below 1.5%% (%.4f%%)", worstm * 100);
	ok(kll_quantile(&k, 0) == v[0] && kll_quantile(&k, 1) == v[n - 1], "KLL min and max are exact");
	ok(k.n == n && a.n == n, "KLL counts every value");
	kll_save(&k, &buf);
	j = json_loadb(buf.p, buf.len, 0, NULL);
	ok(j && kll_load(&r, j) == 0 && kll_quantile(&r, 0.5) == kll_quantile(&k, 0.5), "a KLL saves and loads back");
	json_decref(j);
	buf_free(&buf);
	free(v);
	kll_free(&k);
	kll_free(&a);
	kll_free(&b);
	kll_free(&r);
}

static void
test_approx(void)
{
	const char *specs[] = { "median:v", "p99:v", "distinct:v", NULL };
	struct h h;
	char num[32];
	int i;
	void *rt;

	h_new(&h, specs, true);
	is_str(h.a.specs[0].fn->name, "median~", "--approx selects the KLL median");
	is_str(h.a.specs[2].fn->name, "approx_distinct", "--approx selects HLL for distinct");
	for (i = 1; i <= 100; i++) {
		snprintf(num, sizeof(num), "%d", i);
		h_feed(&h, NULL, num);
	}
	is_str(h_row(&h, NULL), "v_median=50 v_p99=99 v_distinct=100", "a small sketch is exact");
	rt = roundtrip(&h, h.blk);
	is_str(h_row(&h, rt), "v_median=50 v_p99=99 v_distinct=100", "approximate states save and load");
	aggs_state_free(&h.a, rt);
	free(rt);
	h_free(&h);
}

int
main(void)
{
	test_functions();
	test_sharing();
	test_numbers();
	test_minmax();
	test_quantiles();
	test_specs();
	test_hll();
	test_kll();
	test_approx();
	return tap_done();
}
