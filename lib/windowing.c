/* windowing: event-time window assignment (tumbling, sliding, session merge) and watermark tracking, with Flink's semantics. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hashmap.h"
#include "timeval.h"
#include "windowing.h"

int64_t
win_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? TV_MAX : TV_MIN;
	return r;
}

/*
 * The offset is first reduced to [0, step) so that t - off cannot go
 * below t - step; the floor division then works for negative values.
 */
int64_t
win_floor(int64_t t, int64_t step, int64_t offset)
{
	int64_t off = offset % step, d;

	if (off < 0)
		off += step;
	if (__builtin_sub_overflow(t, off, &d))
		return TV_MIN;
	/* d - d mod step, with the mod taken toward negative infinity. */
	int64_t r = d % step;
	if (r < 0)
		r += step;
	if (__builtin_sub_overflow(d, r, &d))
		return TV_MIN;
	return win_add(off, d);
}

bool
win_writable(int64_t start, int64_t end)
{
	return start >= WIN_RFC3339_MIN && end <= WIN_RFC3339_MAX;
}

int
win_cal_parse(const char *arg, enum win_unit *unit, int64_t *n)
{
	static const struct { const char *name; enum win_unit unit; int64_t max; } units[] = {
		{ "d", WU_DAY, 3652425 }, { "w", WU_WEEK, 521775 }, { "mo", WU_MONTH, 120000 },
		{ "y", WU_YEAR, 10000 },
	};
	int64_t v = 0;
	const char *p = arg;

	while (*p >= '0' && *p <= '9') {
		if (v > INT64_C(1000000000))
			return -1;
		v = v * 10 + (*p++ - '0');
	}
	if (p == arg)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(p, units[i].name) == 0) {
			*unit = units[i].unit;
			*n = v;
			/* At most 10000 years, which keeps every bound's arithmetic in range. */
			return v > units[i].max ? -2 : 0;
		}
	return -1;
}

#define US_PER_DAY	(86400 * TV_US_PER_S)

/* cal_utc converts a local wall time in microseconds to UTC in the calendar's zone. */
static int64_t
cal_utc(const struct win_cal *c, int64_t local)
{
	int64_t s = tv_floor_div(local, TV_US_PER_S);

	if (c->zone == NULL)
		return local;
	return tv_zone_utc(c->zone, s) * TV_US_PER_S + (local - s * TV_US_PER_S);
}

/* cal_days returns the first local day of the window holding local day d, and its length in days in *len. */
static int64_t
cal_days(const struct win_cal *c, int64_t d, int64_t *len)
{
	int64_t y, i, first;
	int m, dd;

	switch (c->unit) {
	case WU_WEEK:
		first = 4 + c->week_start;	/* 1970-01-05 was a Monday */
		i = first + tv_floor_div(d - first, 7 * c->n) * 7 * c->n;
		*len = 7 * c->n;
		return i;
	case WU_MONTH:
		tv_civil_from_days(d, &y, &m, &dd);
		i = tv_floor_div(y * 12 + m - 1, c->n) * c->n;
		first = tv_days_from_civil(tv_floor_div(i, 12), (int)(i - tv_floor_div(i, 12) * 12) + 1, 1);
		i += c->n;
		*len = tv_days_from_civil(tv_floor_div(i, 12), (int)(i - tv_floor_div(i, 12) * 12) + 1, 1) -
		    first;
		return first;
	case WU_YEAR:
		tv_civil_from_days(d, &y, &m, &dd);
		y = tv_floor_div(y, c->n) * c->n;
		first = tv_days_from_civil(y, 1, 1);
		*len = tv_days_from_civil(y + c->n, 1, 1) - first;
		return first;
	default:
		*len = c->n;
		return tv_floor_div(d, c->n) * c->n;
	}
}

/* cal_once finds the window of the local day that the instant t falls on. */
static void
cal_once(const struct win_cal *c, int64_t t, int64_t *start, int64_t *end)
{
	int64_t off = c->zone ? tv_zone_offset(c->zone, tv_floor_div(t, TV_US_PER_S)) : 0;
	int64_t local = t + off * TV_US_PER_S - c->offset, len;
	int64_t d = cal_days(c, tv_floor_div(local, US_PER_DAY), &len);

	*start = cal_utc(c, d * US_PER_DAY + c->offset);
	*end = cal_utc(c, (d + len) * US_PER_DAY + c->offset);
}

void
win_cal_window(struct win_cal *c, int64_t t, int64_t *start, int64_t *end)
{
	/* Far outside what RFC 3339 can write no arithmetic is needed: the window cannot be written. */
	const int64_t margin = 800 * US_PER_DAY;
	int64_t s, e;

	if (c->have && t >= c->start && t < c->end) {
		*start = c->start;
		*end = c->end;
		return;
	}
	if (t < WIN_RFC3339_MIN - margin || t > WIN_RFC3339_MAX + margin) {
		*start = TV_MIN;
		*end = TV_MAX;
		return;
	}
	cal_once(c, t, &s, &e);
	/*
	 * Where local midnight occurs twice or not at all, the local day of t
	 * and the instants of its midnights can disagree by the change: the
	 * neighbouring window then holds t.
	 */
	if (t >= e)
		cal_once(c, e, &s, &e);
	else if (t < s)
		cal_once(c, s - 1, &s, &e);
	c->have = true;
	c->start = *start = s;
	c->end = *end = e;
}

size_t
win_sliding_count(int64_t size, int64_t slide)
{
	return (size_t)(size / slide + (size % slide != 0));
}

/*
 * Flink's SlidingEventTimeWindows: the last window starts at the floor of
 * t on the slide grid, and earlier ones every slide before it while they
 * still contain t (start > t - size).
 */
size_t
win_sliding_assign(int64_t t, int64_t size, int64_t slide, int64_t offset,
    int64_t *starts, size_t max)
{
	int64_t last = win_floor(t, slide, offset), lo = win_add(t, -size), s;
	size_t n = 0, i;

	for (s = last; s > lo && n < max; s = win_add(s, -slide)) {
		if (win_add(s, size) <= t)	/* slide > size: t falls in a gap */
			break;
		starts[n++] = s;
		if (s == TV_MIN)
			break;
	}
	for (i = 0; i < n / 2; i++) {		/* oldest first */
		int64_t x = starts[i];
		starts[i] = starts[n - 1 - i];
		starts[n - 1 - i] = x;
	}
	return n;
}

void
wm_init(struct win_wm *w, int64_t lateness)
{
	w->lateness = lateness;
	w->max_event = TV_MIN;
	w->t = TV_MIN;
}

bool
wm_event(struct win_wm *w, int64_t t)
{
	if (t > w->max_event)
		w->max_event = t;
	return wm_raise(w, win_add(w->max_event, -w->lateness));
}

bool
wm_raise(struct win_wm *w, int64_t t)
{
	if (t <= w->t)
		return false;
	w->t = t;
	return true;
}

/* ---- open window ends: a binary min-heap, with a map to ignore duplicates ---- */

struct win_open {
	int64_t		*heap;
	size_t		 n, cap;
	struct hm	*seen;
	int64_t		 last;	/* the last end added */
	bool		 last_ok;	/* and it is still open */
};

struct win_open *
wo_new(void)
{
	struct win_open *o = xcalloc(1, sizeof *o);

	o->seen = hm_new(sizeof(uint64_t));
	return o;
}

void
wo_free(struct win_open *o)
{
	if (o == NULL)
		return;
	hm_free(o->seen);
	free(o->heap);
	free(o);
}

void
wo_add(struct win_open *o, int64_t end)
{
	bool created;
	size_t i;

	/* Consecutive events mostly share a window: skip the lookup then. */
	if (o->last_ok && end == o->last)
		return;
	o->last = end;
	o->last_ok = true;
	hm_put(o->seen, &end, sizeof end, &created);
	if (!created)
		return;
	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 16;
		o->heap = xrealloc(o->heap, o->cap * sizeof *o->heap);
	}
	for (i = o->n++; i > 0 && o->heap[(i - 1) / 2] > end; i = (i - 1) / 2)
		o->heap[i] = o->heap[(i - 1) / 2];
	o->heap[i] = end;
}

size_t
wo_close(struct win_open *o, int64_t t)
{
	size_t closed = 0;

	while (o->n > 0 && o->heap[0] <= t) {
		int64_t top = o->heap[0], last = o->heap[--o->n];
		size_t i = 0, c;

		hm_del(o->seen, &top, sizeof top);
		if (top == o->last)
			o->last_ok = false;
		while ((c = 2 * i + 1) < o->n) {
			if (c + 1 < o->n && o->heap[c + 1] < o->heap[c])
				c++;
			if (last <= o->heap[c])
				break;
			o->heap[i] = o->heap[c];
			i = c;
		}
		if (o->n > 0)
			o->heap[i] = last;
		closed++;
	}
	return closed;
}

int64_t
wo_min(const struct win_open *o)
{
	return o->n > 0 ? o->heap[0] : TV_MAX;
}

uint64_t *
wo_counter(struct win_open *o, int64_t end)
{
	return hm_get(o->seen, &end, sizeof end);
}

size_t
wo_count(const struct win_open *o)
{
	return o->n;
}

int64_t
wo_get(const struct win_open *o, size_t i)
{
	return o->heap[i];
}

/* ---- sessions ---- */

/* How an event is stored in a session's byte buffer, followed by its bytes. */
struct ev_hdr {
	int64_t		t;
	uint64_t	seq;	/* arrival order, for ties */
	size_t		len;
};

/*
 * A session.  A key's sessions never overlap or touch (those merge), so
 * ordered by start they are ordered by end too: each key keeps them in a
 * treap by start, and an event finds the sessions it reaches by one
 * predecessor search, O(log n), however many sessions the key holds.
 * The events' bytes are packed in one buffer sized to fit; their order
 * is only built when the session is emitted or saved, as an array of
 * offsets after the events in the same buffer (sess_order).
 */
struct win_session {
	int64_t			 start, end;
	struct ws_keyent	*key;
	struct win_session	*left, *right;	/* the key's treap, by start */
	uint32_t		 prio;		/* treap priority (a hash of the creation number) */
	unsigned		 fired : 31;	/* how many times it has been emitted */
	unsigned		 dirty : 1;	/* it has events not emitted yet */
	size_t			 hidx;		/* position in the heap */
	char			*ev;		/* ev_hdr + bytes, repeated; then the order, once sorted */
	size_t			 evlen, evcap;
	size_t			 n;		/* events */
	int64_t			 fstart, fend;	/* the bounds it was last emitted with */
	size_t			 flen;		/* and evlen then: later events are the revision's */
};

/*
 * sess_order returns the event order sess_sort leaves after the events,
 * 8-byte aligned: the number of events in it, then their offsets.
 */
static size_t *
sess_order(const struct win_session *s)
{
	return (size_t *)(void *)(s->ev + ((s->evlen + 7) & ~(size_t)7));
}

/* The value of the key map: the root of the key's treap of sessions. */
struct ws_keyent {
	struct win_session	*root;
};

struct win_sessions {
	int64_t			  gap;
	int64_t			  allowed;	/* allowed lateness: how long a fired session is kept */
	struct hm		 *keys;
	struct win_session	**heap;	/* ordered by due time (sess_due), start, key */
	size_t			  n, cap;
	uint64_t		  seq;
	uint64_t		  made;		/* sessions created, for treap priorities */
	uint64_t		 *visits;	/* sessions looked at, when counted (ws_count_visits) */
	uint64_t		  novisits;
	struct buf		  scratch;
};

struct win_sessions *
ws_new(int64_t gap)
{
	struct win_sessions *w = xcalloc(1, sizeof *w);

	w->gap = gap;
	w->keys = hm_new(sizeof(struct ws_keyent));
	w->visits = &w->novisits;
	return w;
}

void
ws_count_visits(struct win_sessions *w, uint64_t *counter)
{
	w->visits = counter != NULL ? counter : &w->novisits;
}

static void
sess_free(struct win_session *s)
{
	free(s->ev);
	free(s);
}

void
ws_free(struct win_sessions *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->n; i++)
		sess_free(w->heap[i]);
	free(w->heap);
	hm_free(w->keys);
	buf_free(&w->scratch);
	free(w);
}

size_t
ws_count(const struct win_sessions *w)
{
	return w->n;
}

const void *
ws_key(const struct win_session *s, size_t *keylen)
{
	return hm_key(s->key, keylen);
}

int64_t	ws_start(const struct win_session *s) { return s->start; }
int64_t	ws_end(const struct win_session *s) { return s->end; }
size_t	ws_nevents(const struct win_session *s) { return sess_order(s)[0]; }
unsigned	ws_revision(const struct win_session *s) { return s->fired; }

void
ws_set_allowed_lateness(struct win_sessions *w, int64_t allowed)
{
	w->allowed = allowed;
}

const char *
ws_event(const struct win_session *s, size_t i, size_t *len, int64_t *t)
{
	struct ev_hdr h;

	size_t o = sess_order(s)[i + 1];

	memcpy(&h, s->ev + o, sizeof h);
	*len = h.len;
	if (t != NULL)
		*t = h.t;
	return s->ev + o + sizeof h;
}

/* ---- the per-key treap, ordered by start (starts are distinct within a key) ---- */

static struct win_session *
rot_right(struct win_session *s)
{
	struct win_session *l = s->left;

	s->left = l->right;
	l->right = s;
	return l;
}

static struct win_session *
rot_left(struct win_session *s)
{
	struct win_session *r = s->right;

	s->right = r->left;
	r->left = s;
	return r;
}

static struct win_session *
t_insert(struct win_session *root, struct win_session *s)
{
	if (root == NULL) {
		s->left = s->right = NULL;
		return s;
	}
	if (s->start < root->start) {
		root->left = t_insert(root->left, s);
		if (root->left->prio > root->prio)
			root = rot_right(root);
	} else {
		root->right = t_insert(root->right, s);
		if (root->right->prio > root->prio)
			root = rot_left(root);
	}
	return root;
}

/* t_remove takes s (in the tree) out: it sinks by rotations to a leaf, then goes. */
static struct win_session *
t_remove(struct win_session *root, struct win_session *s)
{
	if (root == NULL)
		return NULL;
	if (root != s) {
		if (s->start < root->start)
			root->left = t_remove(root->left, s);
		else
			root->right = t_remove(root->right, s);
		return root;
	}
	if (root->left == NULL)
		return root->right;
	if (root->right == NULL)
		return root->left;
	if (root->left->prio > root->right->prio) {
		root = rot_right(root);
		root->right = t_remove(root->right, s);
	} else {
		root = rot_left(root);
		root->left = t_remove(root->left, s);
	}
	return root;
}

/* t_pred returns the session with the largest start <= x, or NULL. */
static struct win_session *
t_pred(struct win_sessions *w, struct win_session *root, int64_t x)
{
	struct win_session *best = NULL;

	while (root != NULL) {
		(*w->visits)++;
		if (root->start <= x) {
			best = root;
			root = root->right;
		} else
			root = root->left;
	}
	return best;
}

static uint32_t
mix32(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return (uint32_t)x;
}

/*
 * sess_due is when the watermark next acts on a session: at its end it is
 * emitted; once emitted with nothing new, it is kept until end + allowed
 * lateness and then dropped.
 */
static int64_t
sess_due(const struct win_sessions *w, const struct win_session *s)
{
	return s->fired > 0 && !s->dirty ? win_add(s->end, w->allowed) : s->end;
}

/* sess_cmp orders sessions by due time, then end, then start, then key bytes. */
static int
sess_cmp(const struct win_sessions *w, const struct win_session *a, const struct win_session *b)
{
	size_t la, lb;
	const void *ka, *kb;
	int64_t da = sess_due(w, a), db = sess_due(w, b);
	int c;

	if (da != db)
		return da < db ? -1 : 1;
	if (a->end != b->end)
		return a->end < b->end ? -1 : 1;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	ka = hm_key(a->key, &la);
	kb = hm_key(b->key, &lb);
	c = memcmp(ka, kb, la < lb ? la : lb);
	if (c != 0)
		return c;
	return la < lb ? -1 : la > lb;
}

static void
heap_set(struct win_sessions *w, size_t i, struct win_session *s)
{
	w->heap[i] = s;
	s->hidx = i;
}

static void
heap_up(struct win_sessions *w, size_t i)
{
	struct win_session *s = w->heap[i];

	while (i > 0 && sess_cmp(w, s, w->heap[(i - 1) / 2]) < 0) {
		heap_set(w, i, w->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(w, i, s);
}

static void
heap_down(struct win_sessions *w, size_t i)
{
	struct win_session *s = w->heap[i];
	size_t c;

	while ((c = 2 * i + 1) < w->n) {
		if (c + 1 < w->n && sess_cmp(w, w->heap[c + 1], w->heap[c]) < 0)
			c++;
		if (sess_cmp(w, s, w->heap[c]) <= 0)
			break;
		heap_set(w, i, w->heap[c]);
		i = c;
	}
	heap_set(w, i, s);
}

static void
heap_push(struct win_sessions *w, struct win_session *s)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 16;
		w->heap = xrealloc(w->heap, w->cap * sizeof *w->heap);
	}
	heap_set(w, w->n++, s);
	heap_up(w, s->hidx);
}

static void
heap_remove(struct win_sessions *w, struct win_session *s)
{
	size_t i = s->hidx;
	struct win_session *last = w->heap[--w->n];

	if (i == w->n)
		return;
	heap_set(w, i, last);
	heap_up(w, i);
	heap_down(w, last->hidx);
}

/* ev_reserve makes room for n more bytes: exactly, for the first event, then by half again. */
static void
ev_reserve(struct win_session *s, size_t n)
{
	size_t cap;

	if (s->evcap - s->evlen >= n)
		return;
	cap = s->evcap + s->evcap / 2;
	if (cap < s->evlen + n)
		cap = s->evlen + n;
	s->ev = xrealloc(s->ev, cap);
	s->evcap = cap;
}

static void
sess_append(struct win_session *s, int64_t t, uint64_t seq, const void *p, size_t len)
{
	struct ev_hdr h = { t, seq, len };

	ev_reserve(s, sizeof h + len);
	memcpy(s->ev + s->evlen, &h, sizeof h);
	memcpy(s->ev + s->evlen + sizeof h, p, len);
	s->evlen += sizeof h + len;
	s->n++;
}

/*
 * sess_absorb moves every event of b into a (b is left to be freed).  The
 * larger buffer is kept and the smaller copied into it, so merging costs
 * the smaller session, and a session grown by many merges is not copied
 * again each time.
 */
static void
sess_absorb(struct win_session *a, struct win_session *b)
{
	if (b->evlen > a->evlen) {
		char *p = a->ev;
		size_t len = a->evlen, cap = a->evcap;

		a->ev = b->ev, a->evlen = b->evlen, a->evcap = b->evcap;
		b->ev = p, b->evlen = len, b->evcap = cap;
	}
	ev_reserve(a, b->evlen);
	if (b->evlen > 0)
		memcpy(a->ev + a->evlen, b->ev, b->evlen);
	a->evlen += b->evlen;
	a->n += b->n;
	if (b->start < a->start)
		a->start = b->start;
	if (b->end > a->end)
		a->end = b->end;
	if (b->fired > a->fired)
		a->fired = b->fired;
}

/* sess_add is ws_add, returning the session the event went into, or NULL when it is late. */
static struct win_session *
sess_add(struct win_sessions *w, const void *key, size_t keylen, int64_t t,
    const void *payload, size_t len, int64_t wm)
{
	int64_t end = win_add(t, w->gap), keep = win_add(end, w->allowed), lo;
	struct ws_keyent *k = hm_get(w->keys, key, keylen);
	struct win_session *s, *into;

	if (k == NULL && keep <= wm)
		return NULL;
	if (k == NULL)
		k = hm_put(w->keys, key, keylen, NULL);
	/*
	 * The sessions [t, end] reaches are those with start <= end and
	 * end >= t: the one with the largest start <= end, and those before
	 * it while they still reach.  Every session still held has
	 * end + allowed > wm, so joining one is never late.
	 */
	s = t_pred(w, k->root, end);
	if (s == NULL || s->end < t) {
		if (keep <= wm) {
			if (k->root == NULL)
				hm_del(w->keys, key, keylen);
			return NULL;
		}
		into = xcalloc(1, sizeof *into);
		into->start = t;
		into->end = end;
		into->key = k;
		into->dirty = true;
		into->prio = mix32(w->made++);
		sess_append(into, t, w->seq++, payload, len);
		k->root = t_insert(k->root, into);
		heap_push(w, into);
		return into;
	}
	into = s;
	k->root = t_remove(k->root, into);
	heap_remove(w, into);
	lo = t < into->start ? t : into->start;
	/* The grown session may reach earlier sessions of the key: absorb them while they touch it. */
	while ((s = t_pred(w, k->root, end)) != NULL && s->end >= lo) {
		k->root = t_remove(k->root, s);
		heap_remove(w, s);
		sess_absorb(into, s);
		sess_free(s);
		lo = into->start < lo ? into->start : lo;
	}
	into->dirty = true;
	sess_append(into, t, w->seq++, payload, len);
	if (t < into->start)
		into->start = t;
	if (end > into->end)
		into->end = end;
	k->root = t_insert(k->root, into);
	heap_push(w, into);
	return into;
}

int
ws_add(struct win_sessions *w, const void *key, size_t keylen, int64_t t,
    const void *payload, size_t len, int64_t wm)
{
	return sess_add(w, key, keylen, t, payload, len, wm) == NULL;
}

void
ws_restore(struct win_sessions *w, const void *key, size_t keylen, int64_t t,
    const void *payload, size_t len, unsigned fired, bool pending)
{
	struct win_session *s = sess_add(w, key, keylen, t, payload, len, TV_MIN);

	heap_remove(w, s);
	s->fired = fired;
	s->dirty = pending;
	heap_push(w, s);
}

bool
ws_pending(const struct win_session *s)
{
	return s->dirty;
}

static const struct win_session *cmp_sess;

static int
ev_cmp(const void *a, const void *b)
{
	struct ev_hdr ha, hb;

	memcpy(&ha, cmp_sess->ev + *(const size_t *)a, sizeof ha);
	memcpy(&hb, cmp_sess->ev + *(const size_t *)b, sizeof hb);
	if (ha.t != hb.t)
		return ha.t < hb.t ? -1 : 1;
	return ha.seq < hb.seq ? -1 : ha.seq > hb.seq;
}

/*
 * sess_sort builds the session's event order (sess_order) of the events
 * stored from byte from on (0: all of them): by time, ties in arrival order.
 */
static void
sess_sort(struct win_session *s, size_t from)
{
	size_t i, o = 0, k = 0, *off;
	size_t need = ((s->evlen + 7) & ~(size_t)7) - s->evlen + (s->n + 1) * sizeof(size_t);
	struct ev_hdr h;

	ev_reserve(s, need);
	off = sess_order(s) + 1;
	for (i = 0; i < s->n; i++) {
		if (o >= from)
			off[k++] = o;
		memcpy(&h, s->ev + o, sizeof h);
		o += sizeof h + h.len;
	}
	off[-1] = k;
	cmp_sess = s;
	qsort(off, k, sizeof *off, ev_cmp);
	cmp_sess = NULL;
}

/* sess_drop takes a session out of its key (dropping the key when it was the last) and frees it. */
static void
sess_drop(struct win_sessions *w, struct win_session *s)
{
	struct ws_keyent *k = s->key;

	k->root = t_remove(k->root, s);
	if (k->root == NULL) {
		size_t kl;
		const void *kb = hm_key(k, &kl);

		/* Copy the key: it lives in the entry being deleted. */
		buf_reset(&w->scratch);
		buf_add(&w->scratch, kb, kl);
		hm_del(w->keys, w->scratch.p, kl);
	}
	sess_free(s);
}

size_t
ws_close(struct win_sessions *w, int64_t wm, ws_close_fn *fn, void *ctx)
{
	size_t closed = 0;

	while (w->n > 0 && sess_due(w, w->heap[0]) <= wm) {
		struct win_session *s = w->heap[0];

		heap_remove(w, s);
		if (s->fired == 0 || s->dirty) {
			/*
			 * A revision with the bounds of the last emission carries only
			 * the new events (a consumer adds them to what it has); one
			 * with new bounds is a window never seen, sent whole.
			 */
			bool same = s->fired > 0 && s->start == s->fstart && s->end == s->fend;

			sess_sort(s, same ? s->flen : 0);
			fn(ctx, s);
			s->fstart = s->start;
			s->fend = s->end;
			s->flen = s->evlen;
			s->fired++;
			s->dirty = false;
			closed++;
			if (win_add(s->end, w->allowed) > wm) {
				/* Kept for late events: its order is rebuilt when it fires again. */
				heap_push(w, s);
				continue;
			}
		}
		sess_drop(w, s);
	}
	return closed;
}

static const struct win_sessions *cmp_set;

static int
sessp_cmp(const void *a, const void *b)
{
	return sess_cmp(cmp_set, *(struct win_session *const *)a, *(struct win_session *const *)b);
}

void
ws_foreach(struct win_sessions *w, ws_close_fn *fn, void *ctx)
{
	struct win_session **v;
	size_t i;

	if (w->n == 0)
		return;
	v = xmalloc(w->n * sizeof *v);
	memcpy(v, w->heap, w->n * sizeof *v);
	cmp_set = w;
	qsort(v, w->n, sizeof *v, sessp_cmp);
	cmp_set = NULL;
	for (i = 0; i < w->n; i++) {
		sess_sort(v[i], 0);
		fn(ctx, v[i]);
	}
	free(v);
}
