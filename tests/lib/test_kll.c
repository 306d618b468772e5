/* Unit tests of lib/kll's state: what kll_save writes kll_load accepts, and what it could not have written it refuses. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kll.h"
#include "tap.h"

/* load parses text and loads it into s; returns kll_load's result (or -2 when the JSON is bad). */
static int
load(struct kll *s, const char *text)
{
	json_t *v = json_loads(text, 0, NULL);
	int rc;

	if (v == NULL)
		return -2;
	rc = kll_load(s, v);
	json_decref(v);
	return rc;
}

/* levels writes a state with nlv levels, top holding ntop items at the top level and one item at level 0. */
static char *
levels(unsigned nlv, unsigned ntop, const char *n)
{
	struct buf b = BUF_INIT;
	unsigned h, i;

	buf_adds(&b, "{\"n\":");
	buf_adds(&b, n);
	buf_adds(&b, ",\"min\":0,\"max\":1,\"levels\":[[0.5]");
	for (h = 1; h < nlv; h++) {
		buf_adds(&b, ",[");
		for (i = 0; h + 1 == nlv && i < ntop; i++)
			buf_adds(&b, i ? ",1" : "1");
		buf_addc(&b, ']');
	}
	buf_adds(&b, "]}");
	return buf_cstr(&b);	/* b.p: the caller frees it */
}

/* roundtrip saves s, loads the text into a new sketch and saves that: both texts must be equal. */
static void
roundtrip(const struct kll *s, const char *what)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct kll t = { 0 };

	kll_save(s, &a);
	ok(load(&t, buf_cstr(&a)) == 0, "%s: the saved state loads", what);
	kll_save(&t, &b);
	is_str(buf_cstr(&b), buf_cstr(&a), "%s: and saves the same", what);
	kll_free(&t);
	buf_free(&a);
	buf_free(&b);
}

int
main(void)
{
	struct kll s = { 0 }, t = { 0 };
	char *text, n[32];
	size_t i, fails;

	/* Issue 11.3: 64 levels loaded, then compacted into a 65th (weight 2^64: a shift by 64). */
	text = levels(64, 200, "1");
	ok(load(&s, text) == -1, "a state of 64 levels is refused (the most a sketch can have is 63)");
	free(text);
	kll_add(&s, 1);
	ok(s.nlv == 1 && s.n == 1, "a refused load leaves an empty sketch that works");
	kll_free(&s);
	text = levels(64, 0, "1");
	ok(load(&s, text) == -1, "64 levels, the top ones empty: refused");
	free(text);

	/* The heaviest state that fits: one item of weight 2^62 at level 62, and one of weight 1. */
	snprintf(n, sizeof n, "%" PRIu64, ((uint64_t)1 << 62) + 1);
	text = levels(63, 1, n);
	ok(load(&s, text) == 0, "63 levels with n = 2^62 + 1 loads");
	free(text);
	ok(kll_quantile(&s, 0.25) == 1, "its quantiles weigh the heavy item");
	roundtrip(&s, "2^62 + 1 values");
	for (i = 0; i < 1000; i++)
		kll_add(&s, (double)i);
	ok(s.nlv <= KLL_MAX_LEVELS, "adding to it keeps at most 63 levels (%u)", s.nlv);
	roundtrip(&s, "2^62 + 1001 values");
	ok(load(&t, "{\"n\":0,\"min\":0,\"max\":0,\"levels\":[]}") == 0, "an empty state loads");
	kll_free(&t);
	snprintf(n, sizeof n, "%" PRIu64, ((uint64_t)1 << 62) + 1);
	text = levels(63, 1, n);
	load(&t, text);
	free(text);
	ok(kll_merge(&t, &s) == -1, "a merge that would count past INT64_MAX is refused");
	ok(t.n == ((uint64_t)1 << 62) + 1, "and leaves the destination as it was");
	roundtrip(&t, "after a refused merge");
	kll_free(&t);
	kll_free(&s);

	/* Weights that cannot add up to n, or wrap around to it. */
	snprintf(n, sizeof n, "%" PRIu64, ((uint64_t)1 << 63) - 1);
	text = levels(63, 2, n);
	ok(load(&s, text) == -1, "two items of weight 2^62 and one of 1 are not INT64_MAX: refused");
	free(text);
	text = levels(63, 4, "1");
	ok(load(&s, text) == -1, "four items of weight 2^62 (2^64, wrapping to 0) plus 1 are not n = 1");
	free(text);
	ok(load(&s, "{\"n\":-1,\"min\":0,\"max\":0,\"levels\":[]}") == -1, "a negative n is refused");
	ok(load(&s, "{\"n\":2,\"min\":0,\"max\":1,\"levels\":[[0.5]]}") == -1, "weights short of n are refused");
	ok(load(&s, "{\"n\":1,\"min\":0,\"max\":1,\"levels\":[[0.5,0.7]]}") == -1, "weights past n are refused");
	ok(load(&s, "{\"n\":1,\"min\":0,\"max\":1,\"levels\":[[null]]}") == -1, "a null item is refused");

	/* Ordinary sketches: 10^5 values, merged from pieces, round-trip exactly. */
	for (i = 0; i < 100000; i++)
		kll_add(&s, (double)((i * 7919) % 100003));
	roundtrip(&s, "10^5 values");
	for (i = 0, fails = 0; i < 50; i++) {
		struct kll p = { 0 };
		size_t j;

		for (j = 0; j < 2000; j++)
			kll_add(&p, (double)(i * 2000 + j));
		fails += kll_merge(&t, &p) != 0;
		kll_free(&p);
	}
	ok(fails == 0 && t.n == 100000, "50 merged pieces count 10^5 values");
	roundtrip(&t, "50 merged pieces");
	kll_free(&s);
	kll_free(&t);
	return tap_done();
}
