/* winfill: the windows without events in a stream of closed windows, and the groups each of them lacks (aggregate --fill). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hashmap.h"
#include "timeval.h"
#include "winfill.h"

/* A group key: where it was first seen, and the window that last had a row for it. */
struct wf_key {
	int64_t		 first;		/* the least window start it was seen in */
	uint64_t	 gen;		/* the window (wf->gen) it last had a row in */
	size_t		 idx;		/* its place in wf->order */
};

struct wf {
	struct hm	 *keys;		/* key -> struct wf_key */
	struct wf_key	**order;	/* in order of first sight */
	size_t		  n, cap;
	bool		  any;		/* a window has been noted */
	int64_t		  size;		/* the windows' length */
	int64_t		  first;	/* the first window's start */
	uint64_t	  gcd;		/* of the distances between starts; 0 while they are all equal */
	bool		  writing;	/* a window is open between wf_begin and wf_end (and is after the last) */
	bool		  wrote;	/* a window has been written */
	int64_t		  last;		/* the start of the last window written */
	int64_t		  cur, cur_end;
	uint64_t	  gen;
	uint64_t	  max_gap;
	char		  why[256];
};

struct wf *
wf_new(uint64_t max_gap)
{
	struct wf *w = xcalloc(1, sizeof(*w));

	w->keys = hm_new(sizeof(struct wf_key));
	w->max_gap = max_gap;
	return w;
}

void
wf_free(struct wf *w)
{
	if (w == NULL)
		return;
	hm_free(w->keys);
	free(w->order);
	free(w);
}

static uint64_t
gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t r = a % b;
		a = b;
		b = r;
	}
	return a;
}

/* step is the distance from one window's start to the next one's (see winfill.h). */
static int64_t
step(const struct wf *w)
{
	if (w->gcd == 0)
		return w->size;
	if (w->gcd < (uint64_t)w->size)
		return (int64_t)w->gcd;	/* overlapping windows: the slide */
	return (int64_t)gcd(w->gcd, (uint64_t)w->size);
}

int
wf_note(struct wf *w, int64_t start, int64_t end, const char *key, size_t keylen, const char **why)
{
	struct wf_key *k;
	char a[TV_BUFSZ], b[TV_BUFSZ];
	bool created;
	uint64_t d;

	if (!w->any) {
		w->any = true;
		w->size = end - start;
		w->first = start;
	} else if (end - start != w->size) {
		tv_format_rfc3339(start, a);
		tv_format_rfc3339(end, b);
		snprintf(w->why, sizeof(w->why), "window %s to %s is not as long as the first one: "
		    "only windows of one length can be filled", a, b);
		*why = w->why;
		return -1;
	}
	d = start >= w->first ? (uint64_t)start - (uint64_t)w->first : (uint64_t)w->first - (uint64_t)start;
	w->gcd = gcd(w->gcd, d);
	k = hm_put(w->keys, key, keylen, &created);
	if (created) {
		if (w->n == w->cap) {
			w->cap = w->cap ? 2 * w->cap : 64;
			w->order = xrealloc(w->order, w->cap * sizeof(*w->order));
		}
		k->first = start;
		k->gen = 0;
		k->idx = w->n;
		w->order[w->n++] = k;
	} else if (start < k->first)
		k->first = start;
	return 0;
}

/* fill_window calls fill for every group seen by start that has no row in the current generation. */
static void
fill_window(struct wf *w, int64_t start, int64_t end, wf_fill_fn *fill, void *ctx)
{
	const void *key;
	size_t i, klen;

	for (i = 0; i < w->n; i++)
		if (w->order[i]->first <= start && w->order[i]->gen != w->gen) {
			key = hm_key(w->order[i], &klen);
			fill(ctx, start, end, key, klen);
		}
}

int
wf_begin(struct wf *w, int64_t start, int64_t end, wf_fill_fn *fill, void *ctx, const char **why)
{
	int64_t s, st = step(w);
	char a[TV_BUFSZ], b[TV_BUFSZ];

	w->writing = !w->wrote || start > w->last;
	if (!w->writing)
		return 0;
	if (w->wrote && st > 0 && (uint64_t)((start - w->last) / st) > w->max_gap + 1) {
		tv_format_rfc3339(w->last, a);
		tv_format_rfc3339(start, b);
		snprintf(w->why, sizeof(w->why), "more than %llu windows without events between %s and %s",
		    (unsigned long long)w->max_gap, a, b);
		*why = w->why;
		w->writing = false;
		return -1;
	}
	if (w->wrote && st > 0)
		for (s = w->last + st; s < start; s += st) {
			w->gen++;
			fill_window(w, s, s + w->size, fill, ctx);
		}
	w->gen++;
	w->cur = start;
	w->cur_end = end;
	return 0;
}

void
wf_present(struct wf *w, const char *key, size_t keylen)
{
	struct wf_key *k;

	if (w->writing && (k = hm_get(w->keys, key, keylen)) != NULL)
		k->gen = w->gen;
}

void
wf_end(struct wf *w, wf_fill_fn *fill, void *ctx)
{
	if (!w->writing)
		return;
	fill_window(w, w->cur, w->cur_end, fill, ctx);
	w->wrote = true;
	w->last = w->cur;
	w->writing = false;
}

int64_t
wf_length(const struct wf *w)
{
	return w->size;
}
