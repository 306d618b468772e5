/* Unit tests of lib/winfill: the step of tumbling and sliding windows, gaps, groups from their first window, revisions, and its errors. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "winfill.h"
#include "tap.h"

#define M	(60 * 1000000LL)	/* a minute in microseconds */

/* The rows filled, as "start/end/key " in minutes. */
static struct buf got;

static void
fill(void *ctx, int64_t start, int64_t end, const char *key, size_t keylen)
{
	char b[64];

	snprintf(b, sizeof(b), "%lld/%lld/%.*s ", (long long)(start / M), (long long)(end / M), (int)keylen, key);
	buf_adds(&got, b);
}

/* window writes window [s, e) (minutes) with rows for keys (a space-separated list). */
static void
window(struct wf *w, int64_t s, int64_t e, const char *keys)
{
	const char *why = NULL, *p, *q;

	ok(wf_begin(w, s * M, e * M, fill, NULL, &why) == 0, "wf_begin %lld", (long long)s);
	for (p = keys; *p; p = *q ? q + 1 : q) {
		q = p + strcspn(p, " ");
		wf_present(w, p, (size_t)(q - p));
	}
	wf_end(w, fill, NULL);
}

static const char *
take(void)
{
	static char b[4096];

	snprintf(b, sizeof(b), "%.*s", (int)got.len, got.p ? got.p : "");
	buf_reset(&got);
	return b;
}

static void
test_tumbling(void)
{
	struct wf *w = wf_new(1000);
	const char *why;

	ok(wf_note(w, 0, M, "a", 1, &why) == 0, "note a in [0,1)");
	ok(wf_note(w, 3 * M, 4 * M, "b", 1, &why) == 0, "note b in [3,4)");
	ok(wf_note(w, 3 * M, 4 * M, "a", 1, &why) == 0, "note a in [3,4)");
	is_int(wf_length(w), M, "the windows' length");
	window(w, 0, 1, "a");
	is_str(take(), "", "the first window: nothing missing");
	window(w, 3, 4, "b");
	is_str(take(), "1/2/a 2/3/a 3/4/a ", "the gap is filled for a only (b starts at 3); a is missing at 3");
	window(w, 3, 4, "a");
	is_str(take(), "", "a window not after the last one written (a revision) is not filled");
	ok(wf_note(w, 5 * M, 7 * M, "a", 1, &why) == -1 && strstr(why, "not as long") != NULL,
	    "a window of another length is refused: %s", why);
	wf_free(w);
}

static void
test_sliding(void)
{
	struct wf *w = wf_new(1000);
	const char *why;

	/* 10-minute windows every 5: one event at 1 is in [-5,5) and [0,10); one at 31 in [25,35) and [30,40). */
	wf_note(w, -5 * M, 5 * M, "x", 1, &why);
	wf_note(w, 0, 10 * M, "x", 1, &why);
	wf_note(w, 25 * M, 35 * M, "x", 1, &why);
	wf_note(w, 30 * M, 40 * M, "x", 1, &why);
	window(w, -5, 5, "x");
	window(w, 0, 10, "x");
	is_str(take(), "", "adjacent slides");
	window(w, 25, 35, "x");
	is_str(take(), "5/15/x 10/20/x 15/25/x 20/30/x ", "the gap steps by the slide, 5 minutes");
	wf_free(w);
}

static void
test_gap_limit(void)
{
	struct wf *w = wf_new(10);
	const char *why = NULL;

	wf_note(w, 0, M, "k", 1, &why);
	wf_note(w, 12 * M, 13 * M, "k", 1, &why);
	window(w, 0, 1, "k");
	ok(wf_begin(w, 12 * M, 13 * M, fill, NULL, &why) == -1 && strstr(why, "more than 10 windows") != NULL,
	    "11 empty windows with a limit of 10: %s", why);
	is_str(take(), "", "nothing was filled");
	wf_free(w);
	w = wf_new(11);
	wf_note(w, 0, M, "k", 1, &why);
	wf_note(w, 12 * M, 13 * M, "k", 1, &why);
	window(w, 0, 1, "k");
	window(w, 12, 13, "k");
	is_str(take(), "1/2/k 2/3/k 3/4/k 4/5/k 5/6/k 6/7/k 7/8/k 8/9/k 9/10/k 10/11/k 11/12/k ",
	    "with a limit of 11 they are filled");
	wf_free(NULL);
	wf_free(w);
}

static void
test_many_keys(void)
{
	struct wf *w = wf_new(1000);
	const char *why;
	char k[16];
	int i, n = 0;

	for (i = 0; i < 200; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		wf_note(w, 0, M, k, strlen(k), &why);
	}
	wf_note(w, 2 * M, 3 * M, "k7", 2, &why);
	window(w, 0, 1, "k0 k1");
	n = (int)got.len;
	ok(n > 0 && strncmp(got.p, "0/1/k2 0/1/k3 ", 14) == 0, "198 groups missing in the first window, in first-seen order");
	take();
	window(w, 2, 3, "k7");
	for (n = 0, i = 0; i < (int)got.len; i++)
		n += got.p[i] == ' ';
	is_int(n, 200 + 199, "past the group list's growth: all 200 in the empty window, 199 beside k7");
	take();
	wf_free(w);
}

int
main(void)
{
	test_tumbling();
	test_sliding();
	test_gap_limit();
	test_many_keys();
	buf_free(&got);
	return tap_done();
}
