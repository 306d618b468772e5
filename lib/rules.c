/* rules: alert's rule kinds as one table, their options and rules files, and the event-time engine with Prometheus's alert states. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "expr.h"
#include "keyset.h"
#include "record.h"
#include "rules.h"
#include "timeval.h"

/* ---- members: one bit and one row each ---- */

enum {
	M_NAME = 1u << 0, M_WHEN = 1u << 1, M_COUNT = 1u << 2, M_WITHIN = 1u << 3,
	M_REPEAT = 1u << 4, M_FIELD = 1u << 5, M_ABSENT = 1u << 6, M_ZSCORE = 1u << 7,
	M_WINDOW = 1u << 8, M_ALPHA = 1u << 9, M_WARMUP = 1u << 10, M_SPIKE = 1u << 11,
	M_SPIKEDOWN = 1u << 12, M_MINCOUNT = 1u << 13, M_BY = 1u << 14, M_WHERE = 1u << 15,
	M_FOR = 1u << 16, M_KEEP = 1u << 17, M_COOLDOWN = 1u << 18, M_SEVERITY = 1u << 19,
	M_LABEL = 1u << 20, M_SUMMARY = 1u << 21
};

#define M_COMMON (M_NAME | M_BY | M_WHERE | M_FOR | M_KEEP | M_COOLDOWN | M_SEVERITY | M_LABEL | M_SUMMARY)

/* How a member's value is written: the rules file checks the JSON type by this, both paths the range. */
enum otype { O_STR, O_EXPR, O_PATH, O_BY, O_LABEL, O_FLAG, O_DUR_POS, O_DUR, O_UINT, O_NUM };

struct member {
	const char	*name;
	unsigned	 bit;
	enum otype	 type;
	uint64_t	 lo, hi;	/* O_UINT range */
	bool		 semantic;	/* part of the definition a saved state must match */
};

static const struct member members[] = {
	{ "name",		M_NAME,		O_STR,	   0, 0, false },
	{ "when",		M_WHEN,		O_EXPR,	   0, 0, true },
	{ "count",		M_COUNT,	O_UINT,	   1, 1000000000, true },
	{ "within",		M_WITHIN,	O_DUR_POS, 0, 0, true },
	{ "repeat",		M_REPEAT,	O_UINT,	   2, 1000000000, true },
	{ "field",		M_FIELD,	O_PATH,	   0, 0, true },
	{ "absent",		M_ABSENT,	O_DUR_POS, 0, 0, true },
	{ "zscore",		M_ZSCORE,	O_NUM,	   0, 0, true },
	{ "window",		M_WINDOW,	O_UINT,	   2, 1000000, true },
	{ "alpha",		M_ALPHA,	O_NUM,	   0, 0, true },
	{ "warmup",		M_WARMUP,	O_UINT,	   1, 1000000000, true },
	{ "spike",		M_SPIKE,	O_NUM,	   0, 0, true },
	{ "spike-down",		M_SPIKEDOWN,	O_FLAG,	   0, 0, true },
	{ "min-count",		M_MINCOUNT,	O_UINT,	   1, 1000000000, true },
	{ "by",			M_BY,		O_BY,	   0, 0, true },
	{ "where",		M_WHERE,	O_EXPR,	   0, 0, true },
	{ "for",		M_FOR,		O_DUR,	   0, 0, true },
	{ "keep-firing-for",	M_KEEP,		O_DUR,	   0, 0, true },
	{ "cooldown",		M_COOLDOWN,	O_DUR,	   0, 0, true },
	{ "severity",		M_SEVERITY,	O_STR,	   0, 0, false },
	{ "label",		M_LABEL,	O_LABEL,   0, 0, false },
	{ "summary",		M_SUMMARY,	O_STR,	   0, 0, false },
};
#define NMEMBERS (sizeof(members) / sizeof(members[0]))

/* ---- rules ---- */

struct rl_kind;

struct rl_rule {
	char			*name;
	const struct rl_kind	*kind;
	unsigned		 set;		/* M_* given */
	struct expr		*when, *where;
	struct rec_path		**by;
	char			**byname;	/* the --by paths as written, without a leading dot */
	size_t			 nby;
	struct rec_path		*field;
	int64_t			 within, absent, for_, keep, cooldown;
	uint64_t		 count, repeat, window, warmup, min_count;
	double			 zscore, alpha, spike;
	bool			 spike_down;
	char			*severity, *summary;
	char			**lkey, **lval;
	size_t			 nlabels;
	json_t			*def;		/* the semantic members, normalised, for state checks */
};

struct rl_set {
	struct rl_rule	*rules;
	size_t		 n;		/* complete rules */
	bool		 open;		/* rules[n] is being built */
};

/* ---- the kinds' per-key state ---- */

struct tpair {
	int64_t		 t;
	uint64_t	 n;
};

/*
 * A window of record times, oldest first, equal times merged; [0, split)
 * is spike's previous window.  The first time is kept in the state itself
 * (p == &one, cap 1): most keys of a rate rule see one record in a window
 * and never allocate.  A state does not move (keyset values stay put).
 */
struct twin {
	struct tpair	*p;
	struct tpair	 one;
	size_t		 head, len, cap;	/* a ring; cap a power of two */
	size_t		 split;
	uint64_t	 prev, cur;
	int64_t		 first;		/* spike: the key's first record since it was last forgotten */
};

enum { S_INACTIVE, S_PENDING, S_FIRING };

struct rl_st {
	uint8_t		 state;
	bool		 cond;
	bool		 suppressed;	/* the current firing was suppressed by cooldown */
	bool		 has_fired;	/* last_fire is set */
	int64_t		 since;
	int64_t		 for_due, keep_due, kind_due, gc_due;	/* TV_MAX: none */
	int64_t		 last_fire;	/* the last firing notice written */
	uint64_t	 fq_pos;	/* 1 + the absolute index of the key's entry in the forget queue, or 0 */
	char		*val;		/* the last value's JSON text */
	size_t		 vallen, valcap;
	union {
		struct twin	w;
		struct {
			uint64_t run;
		} rep;
		struct {
			int64_t	 last;
		} abs;
		struct {
			double	*ring;
			size_t	 n, head;
			double	 m, v;		/* EWMA mean and variance */
			double	 x, z, mean, sd;	/* the last judgement */
			bool	 judged;
		} an;
	} k;
};

_Static_assert(sizeof(struct twin) <= sizeof(((struct rl_st *)0)->k.an), "the inline time costs a state no bytes");

/*
 * What a record brings to one rule, evaluated when it arrives.  The items
 * of one record have consecutive seqs and one time, so only the first is
 * held (queued or in the heap); the others follow it on next.
 */
struct item {
	int64_t		 t;
	uint64_t	 seq;
	size_t		 next;		/* the record's next item, or NO_ITEM */
	uint32_t	 rule;
	bool		 cond;
	bool		 hasval;
	double		 num;
	size_t		 keylen;	/* b holds the (rule, key) key, KP + the key's length, then the value's JSON text */
	struct buf	 b;
};

struct rl_kind {
	const char	*name;
	unsigned	 select;	/* the member that chooses this kind */
	unsigned	 needs;		/* members it cannot do without */
	unsigned	 takes;		/* members it takes besides M_COMMON and those it needs */
	bool		 needs_value;	/* a record without the field is counted and skipped */
	bool		 numeric;	/* the field must be a number */
	/* check returns 0, or -1 with a reason, for what the masks cannot say. */
	int	(*check)(const struct rl_rule *, char *why, size_t whylen);
	void	(*init)(const struct rl_rule *, struct rl_st *);
	/* apply folds a record in; returns true with *cond when the record judges the condition. */
	bool	(*apply)(const struct rl_rule *, struct rl_st *, const struct item *, bool *cond);
	/* due returns the next instant after now at which the condition can change with no record, or TV_MAX. */
	int64_t	(*due)(const struct rl_rule *, const struct rl_st *);
	/* tick moves the state to instant x (a due instant); returns true with *cond when it judges. */
	bool	(*tick)(const struct rl_rule *, struct rl_st *, int64_t x, bool *cond);
	/* idle reports whether the state is as init left it, so the key can be forgotten. */
	bool	(*idle)(const struct rl_rule *, const struct rl_st *);
	/* noop (may be NULL) reports whether a record would leave a new state idle, so none is made for it. */
	bool	(*noop)(const struct rl_rule *, const struct item *);
	/* evidence fills the notice's evidence as of instant at (windows are counted at that instant). */
	void	(*evidence)(const struct rl_rule *, const struct rl_st *, int64_t at, struct rl_notice *);
	void	(*save)(const struct rl_rule *, const struct rl_st *, json_t *obj);
	int	(*load)(const struct rl_rule *, struct rl_st *, json_t *obj);
	void	(*free)(struct rl_st *);
};

/* sat_add returns a + b saturated to [TV_MIN, TV_MAX]. */
static int64_t
sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? TV_MAX : TV_MIN;
	return r;
}

/* ---- the time window ---- */

static struct tpair *
tw_at(const struct twin *w, size_t i)
{
	return &w->p[(w->head + i) & (w->cap - 1)];
}

static void
tw_push(struct twin *w, int64_t t)
{
	if (w->len > 0 && tw_at(w, w->len - 1)->t == t && w->split < w->len) {
		tw_at(w, w->len - 1)->n++;
		w->cur++;
		return;
	}
	if (w->cap == 0) {
		w->p = &w->one;
		w->cap = 1;
		w->head = 0;
	} else if (w->len == w->cap) {
		size_t cap = w->cap > 1 ? 2 * w->cap : 4, i;
		struct tpair *p = xmalloc(cap * sizeof(*p));

		for (i = 0; i < w->len; i++)
			p[i] = *tw_at(w, i);
		if (w->p != &w->one)
			free(w->p);
		w->p = p;
		w->cap = cap;
		w->head = 0;
	}
	*tw_at(w, w->len) = (struct tpair){ t, 1 };
	w->len++;
	w->cur++;
}

/* tw_move brings the window to instant x: times <= x - d leave the current window, times <= x - 2d the previous one. */
static void
tw_move(struct twin *w, int64_t x, int64_t d, bool keep_prev)
{
	int64_t c1 = sat_add(x, -d), c2 = keep_prev ? sat_add(c1, -d) : c1;

	while (w->split < w->len && tw_at(w, w->split)->t <= c1) {
		w->prev += tw_at(w, w->split)->n;
		w->cur -= tw_at(w, w->split)->n;
		w->split++;
	}
	while (w->len > 0 && tw_at(w, 0)->t <= c2) {
		w->prev -= tw_at(w, 0)->n;
		w->head = (w->head + 1) & (w->cap - 1);
		w->len--;
		w->split--;
	}
}

/* tw_count returns the number of times in (from, to], without moving the window (for evidence). */
static uint64_t
tw_count(const struct twin *w, int64_t from, int64_t to)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < w->len; i++)
		if (tw_at(w, i)->t > from && tw_at(w, i)->t <= to)
			n += tw_at(w, i)->n;
	return n;
}

static void
tw_free(struct twin *w)
{
	if (w->p != &w->one)
		free(w->p);
	memset(w, 0, sizeof(*w));
}

static void
tw_save(const struct twin *w, json_t *obj)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < w->len; i++)
		json_array_append_new(a, json_pack("[IIb]", (json_int_t)tw_at(w, i)->t,
		    (json_int_t)tw_at(w, i)->n, i < w->split));
	json_object_set_new(obj, "times", a);
}

static int
tw_load(struct twin *w, json_t *obj)
{
	json_t *a = json_object_get(obj, "times"), *e;
	size_t i;

	if (!json_is_array(a))
		return -1;
	json_array_foreach(a, i, e) {
		json_int_t t, n;
		int prev;

		if (json_unpack(e, "[IIb]", &t, &n, &prev) == -1 || n < 1)
			return -1;
		tw_push(w, t);
		tw_at(w, w->len - 1)->n = (uint64_t)n;
		w->cur += (uint64_t)n - 1;
		if (prev) {
			if (w->split != w->len - 1)
				return -1;
			w->split++;
			w->cur -= (uint64_t)n;
			w->prev += (uint64_t)n;
		}
	}
	return 0;
}

static void w_free(struct rl_st *st) { tw_free(&st->k.w); }
static void w_save(const struct rl_rule *r, const struct rl_st *st, json_t *o) { tw_save(&st->k.w, o); }
static int w_load(const struct rl_rule *r, struct rl_st *st, json_t *o) { return tw_load(&st->k.w, o); }
static bool w_idle(const struct rl_rule *r, const struct rl_st *st) { return st->k.w.len == 0; }

static void nop_init(const struct rl_rule *r, struct rl_st *st) { }
static void nop_free(struct rl_st *st) { }
static void nop_save(const struct rl_rule *r, const struct rl_st *st, json_t *o) { }
static int nop_load(const struct rl_rule *r, struct rl_st *st, json_t *o) { return 0; }
static int64_t no_due(const struct rl_rule *r, const struct rl_st *st) { return TV_MAX; }
static bool no_tick(const struct rl_rule *r, struct rl_st *st, int64_t x, bool *c) { return false; }
static bool never_idle(const struct rl_rule *r, const struct rl_st *st) { return false; }
static int no_check(const struct rl_rule *r, char *why, size_t whylen) { return 0; }

/* ---- threshold: the condition is the record's when ---- */

static bool
th_apply(const struct rl_rule *r, struct rl_st *st, const struct item *it, bool *cond)
{
	*cond = it->cond;
	return true;
}

static bool th_idle(const struct rl_rule *r, const struct rl_st *st) { return !st->cond; }
static bool th_noop(const struct rl_rule *r, const struct item *it) { return !it->cond; }

static void
th_evidence(const struct rl_rule *r, const struct rl_st *st, int64_t at, struct rl_notice *n)
{
	if (st->vallen > 0) {
		n->has |= RL_EV_VALUE;
		n->value = st->val;
		n->valuelen = st->vallen;
	}
}

/* ---- rate: records of the key in (t - D, t] reach count ---- */

static bool
rate_apply(const struct rl_rule *r, struct rl_st *st, const struct item *it, bool *cond)
{
	tw_push(&st->k.w, it->t);
	tw_move(&st->k.w, it->t, r->within, false);
	*cond = st->k.w.cur >= r->count;
	return true;
}

/*
 * rate_due: while the count is at least N it drops below N when the
 * record that makes the N-th newest leaves, at its time + D; below N the
 * next change without a record is the window emptying (the key can then
 * be forgotten).
 */
static int64_t
rate_due(const struct rl_rule *r, const struct rl_st *st)
{
	const struct twin *w = &st->k.w;
	uint64_t left = w->cur;
	size_t i;

	if (w->len == 0)
		return TV_MAX;
	if (left < r->count)
		return sat_add(tw_at(w, w->len - 1)->t, r->within);
	for (i = 0; i < w->len; i++) {
		left -= tw_at(w, i)->n;
		if (left < r->count)
			return sat_add(tw_at(w, i)->t, r->within);
	}
	return TV_MAX;
}

static bool
rate_tick(const struct rl_rule *r, struct rl_st *st, int64_t x, bool *cond)
{
	tw_move(&st->k.w, x, r->within, false);
	*cond = st->k.w.cur >= r->count;
	return true;
}

static void
rate_evidence(const struct rl_rule *r, const struct rl_st *st, int64_t at, struct rl_notice *n)
{
	n->has |= RL_EV_COUNT;
	n->count = tw_count(&st->k.w, sat_add(at, -r->within), at);
}

/* ---- repetition: N consecutive equal values of the field ---- */

static bool
rep_apply(const struct rl_rule *r, struct rl_st *st, const struct item *it, bool *cond)
{
	/* The engine stored the new value in st->val and kept the old in the item comparison. */
	*cond = st->k.rep.run >= r->repeat;
	return true;
}

static void
rep_evidence(const struct rl_rule *r, const struct rl_st *st, int64_t at, struct rl_notice *n)
{
	n->has |= RL_EV_VALUE | RL_EV_COUNT;
	n->value = st->val;
	n->valuelen = st->vallen;
	n->count = st->k.rep.run;
}

static void
rep_save(const struct rl_rule *r, const struct rl_st *st, json_t *o)
{
	json_object_set_new(o, "run", json_integer((json_int_t)st->k.rep.run));
}

static int
rep_load(const struct rl_rule *r, struct rl_st *st, json_t *o)
{
	json_t *v = json_object_get(o, "run");

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	st->k.rep.run = (uint64_t)json_integer_value(v);
	return 0;
}

/* ---- absence: a key seen before has no record in (s, s + D] ---- */

static bool
abs_apply(const struct rl_rule *r, struct rl_st *st, const struct item *it, bool *cond)
{
	st->k.abs.last = it->t;
	*cond = false;
	return true;
}

static int64_t
abs_due(const struct rl_rule *r, const struct rl_st *st)
{
	return st->cond ? TV_MAX : sat_add(st->k.abs.last, r->absent);
}

static bool
abs_tick(const struct rl_rule *r, struct rl_st *st, int64_t x, bool *cond)
{
	*cond = true;
	return true;
}

static void
abs_evidence(const struct rl_rule *r, const struct rl_st *st, int64_t at, struct rl_notice *n)
{
	n->has |= RL_EV_LAST;
	n->last = st->k.abs.last;
}

static void
abs_save(const struct rl_rule *r, const struct rl_st *st, json_t *o)
{
	json_object_set_new(o, "last", json_integer(st->k.abs.last));
}

static int
abs_load(const struct rl_rule *r, struct rl_st *st, json_t *o)
{
	json_t *v = json_object_get(o, "last");

	if (!json_is_integer(v))
		return -1;
	st->k.abs.last = json_integer_value(v);
	return 0;
}

/* ---- anomaly: |z| > K against the key's previous values only ---- */

static int
an_check(const struct rl_rule *r, char *why, size_t whylen)
{
	if (!(r->set & (M_WINDOW | M_ALPHA)))
		return why_fail(why, whylen, "'zscore' needs 'window' or 'alpha'");
	if ((r->set & M_WINDOW) && (r->set & M_ALPHA))
		return why_fail(why, whylen, "'window' and 'alpha' cannot both be given");
	if ((r->set & M_WARMUP) && (r->set & M_WINDOW))
		return why_fail(why, whylen, "'warmup' goes with 'alpha'; with 'window' the window must be full");
	return 0;
}

static void
an_init(const struct rl_rule *r, struct rl_st *st)
{
	if (r->window > 0)
		st->k.an.ring = xcalloc(r->window, sizeof(double));
}

/*
 * add_sum adds a[0..n) to acc one by one, in order (so the result is the
 * plain loop's to the bit), four to a turn of the loop.
 */
static double
add_sum(double acc, const double *a, size_t n)
{
	size_t i = 0;

	for (; i + 4 <= n; i += 4) {
		acc += a[i];
		acc += a[i + 1];
		acc += a[i + 2];
		acc += a[i + 3];
	}
	for (; i < n; i++)
		acc += a[i];
	return acc;
}

/* add_sqdev adds (a[i] - mean)^2 for i in [0, n) to acc, in order, as add_sum does. */
static double
add_sqdev(double acc, const double *a, size_t n, double mean)
{
	size_t i = 0;

	for (; i + 4 <= n; i += 4) {
		acc += (a[i] - mean) * (a[i] - mean);
		acc += (a[i + 1] - mean) * (a[i + 1] - mean);
		acc += (a[i + 2] - mean) * (a[i + 2] - mean);
		acc += (a[i + 3] - mean) * (a[i + 3] - mean);
	}
	for (; i < n; i++)
		acc += (a[i] - mean) * (a[i] - mean);
	return acc;
}

/*
 * an_apply judges x against the previous values, then adds it.  With a
 * window: the mean and population standard deviation of the previous N
 * values, computed in two passes (the window is small, and this keeps
 * them exact).  With alpha: the EWMA mean and variance, updated after.
 */
static bool
an_apply(const struct rl_rule *r, struct rl_st *st, const struct item *it, bool *cond)
{
	double x = it->num, mean = 0, var = 0, sd;
	bool judged = false;

	if (r->window > 0) {
		const double *ring = st->k.an.ring;
		size_t head = st->k.an.head, w = r->window;

		if (st->k.an.n == w) {
			/*
			 * Oldest first from head, so a state saved and loaded (ring
			 * rotated to 0) sums alike to the bit: [head, w) then [0, head).
			 */
			mean = add_sum(add_sum(0, ring + head, w - head), ring, head) / (double)w;
			var = add_sqdev(add_sqdev(0, ring + head, w - head, mean), ring, head, mean) / (double)w;
			judged = true;
		}
		st->k.an.ring[head] = x;
		st->k.an.head = head + 1 == w ? 0 : head + 1;
		if (st->k.an.n < r->window)
			st->k.an.n++;
	} else {
		double d, inc;

		if (st->k.an.n >= r->warmup) {
			mean = st->k.an.m;
			var = st->k.an.v;
			judged = true;
		}
		if (st->k.an.n == 0) {
			st->k.an.m = x;
			st->k.an.v = 0;
		} else {
			d = x - st->k.an.m;
			inc = r->alpha * d;
			st->k.an.m += inc;
			st->k.an.v = (1 - r->alpha) * (st->k.an.v + d * inc);
		}
		if (st->k.an.n < UINT32_MAX)
			st->k.an.n++;
	}
	sd = sqrt(var);
	if (!judged || !(sd > 0) || !isfinite(sd))
		return false;
	st->k.an.x = x;
	st->k.an.mean = mean;
	st->k.an.sd = sd;
	st->k.an.z = (x - mean) / sd;
	st->k.an.judged = true;
	*cond = fabs(st->k.an.z) > r->zscore;
	return true;
}

static void
an_evidence(const struct rl_rule *r, const struct rl_st *st, int64_t at, struct rl_notice *n)
{
	n->has |= RL_EV_VALUE;
	n->value = st->val;
	n->valuelen = st->vallen;
	if (st->k.an.judged) {
		n->has |= RL_EV_Z | RL_EV_STATS;
		n->z = st->k.an.z;
		n->mean = st->k.an.mean;
		n->sd = st->k.an.sd;
	}
}

static void
an_free(struct rl_st *st)
{
	free(st->k.an.ring);
	st->k.an.ring = NULL;
}

static void
an_save(const struct rl_rule *r, const struct rl_st *st, json_t *o)
{
	json_t *a;
	size_t i;

	json_object_set_new(o, "n", json_integer((json_int_t)st->k.an.n));
	if (r->window > 0) {
		/* Oldest first, so the load is independent of the ring's position. */
		a = json_array();
		for (i = 0; i < st->k.an.n; i++) {
			size_t j = (st->k.an.head + r->window - st->k.an.n + i) % r->window;

			json_array_append_new(a, json_real(st->k.an.ring[j]));
		}
		json_object_set_new(o, "values", a);
	} else {
		json_object_set_new(o, "m", json_real(st->k.an.m));
		json_object_set_new(o, "v", json_real(st->k.an.v));
	}
	if (st->k.an.judged)
		json_object_set_new(o, "last", json_pack("[ffff]", st->k.an.x, st->k.an.z,
		    st->k.an.mean, st->k.an.sd));
}

static int
an_load(const struct rl_rule *r, struct rl_st *st, json_t *o)
{
	json_t *a, *e;
	json_int_t n;
	size_t i;

	if (json_unpack(o, "{s:I}", "n", &n) == -1 || n < 0)
		return -1;
	if (r->window > 0) {
		a = json_object_get(o, "values");
		if (!json_is_array(a) || json_array_size(a) > r->window || (json_int_t)json_array_size(a) != n)
			return -1;
		json_array_foreach(a, i, e) {
			if (!json_is_number(e))
				return -1;
			st->k.an.ring[i] = json_number_value(e);
		}
		st->k.an.n = (size_t)n;
		st->k.an.head = (size_t)n % r->window;
	} else {
		if (json_unpack(o, "{s:F,s:F}", "m", &st->k.an.m, "v", &st->k.an.v) == -1)
			return -1;
		st->k.an.n = (size_t)n;
	}
	if ((e = json_object_get(o, "last")) != NULL) {
		if (json_unpack(e, "[FFFF]", &st->k.an.x, &st->k.an.z, &st->k.an.mean, &st->k.an.sd) == -1)
			return -1;
		st->k.an.judged = true;
	}
	return 0;
}

/* ---- spike: the count in (t - D, t] against the count in (t - 2D, t - D] ---- */

static int
sp_check(const struct rl_rule *r, char *why, size_t whylen)
{
	if (!(r->spike >= 1))
		return why_fail(why, whylen, "'spike' must be at least 1");
	return 0;
}

static bool
sp_judge(const struct rl_rule *r, const struct twin *w)
{
	uint64_t m = r->min_count > 0 ? r->min_count : 1;

	if (r->spike_down)
		return w->prev >= m && (double)w->cur * r->spike <= (double)w->prev;
	return w->cur >= m && (double)w->cur >= r->spike * (double)w->prev;
}

/*
 * A previous window the key was not yet seen in is unknown, not empty:
 * no judgement until the key's first record is D old.
 */
static bool
sp_apply(const struct rl_rule *r, struct rl_st *st, const struct item *it, bool *cond)
{
	if (st->k.w.first == TV_MIN)
		st->k.w.first = it->t;
	tw_move(&st->k.w, it->t, r->within, true);
	tw_push(&st->k.w, it->t);
	if (sat_add(it->t, -r->within) < st->k.w.first)
		return false;
	*cond = sp_judge(r, &st->k.w);
	return true;
}

static void
sp_init(const struct rl_rule *r, struct rl_st *st)
{
	st->k.w.first = TV_MIN;
}

static void
sp_save(const struct rl_rule *r, const struct rl_st *st, json_t *o)
{
	tw_save(&st->k.w, o);
	json_object_set_new(o, "first", json_integer(st->k.w.first));
}

static int
sp_load(const struct rl_rule *r, struct rl_st *st, json_t *o)
{
	json_t *v = json_object_get(o, "first");

	if (!json_is_integer(v))
		return -1;
	st->k.w.first = json_integer_value(v);
	return tw_load(&st->k.w, o);
}

/* sp_due: the next instant a time crosses from the current window to the previous one, or leaves. */
static int64_t
sp_due(const struct rl_rule *r, const struct rl_st *st)
{
	const struct twin *w = &st->k.w;
	int64_t a = TV_MAX, b = TV_MAX;

	if (w->split < w->len)
		a = sat_add(tw_at(w, w->split)->t, r->within);
	if (w->len > 0)
		b = sat_add(sat_add(tw_at(w, 0)->t, r->within), r->within);
	return a < b ? a : b;
}

static bool
sp_tick(const struct rl_rule *r, struct rl_st *st, int64_t x, bool *cond)
{
	tw_move(&st->k.w, x, r->within, true);
	if (sat_add(x, -r->within) < st->k.w.first)
		return false;
	*cond = sp_judge(r, &st->k.w);
	return true;
}

static void
sp_evidence(const struct rl_rule *r, const struct rl_st *st, int64_t at, struct rl_notice *n)
{
	n->has |= RL_EV_COUNT | RL_EV_PREVIOUS | RL_EV_RATIO;
	n->count = tw_count(&st->k.w, sat_add(at, -r->within), at);
	n->previous = tw_count(&st->k.w, sat_add(sat_add(at, -r->within), -r->within), sat_add(at, -r->within));
	n->ratio = n->previous > 0 ? (double)n->count / (double)n->previous : INFINITY;
}

/* ---- the table ---- */

static const struct rl_kind rl_kinds[] = {
	{ "threshold", M_WHEN, 0, M_FIELD, false, false, no_check,
	  nop_init, th_apply, no_due, no_tick, th_idle, th_noop, th_evidence, nop_save, nop_load, nop_free },
	{ "rate", M_COUNT, M_WITHIN, 0, false, false, no_check,
	  nop_init, rate_apply, rate_due, rate_tick, w_idle, NULL, rate_evidence, w_save, w_load, w_free },
	{ "repetition", M_REPEAT, M_FIELD, 0, true, false, no_check,
	  nop_init, rep_apply, no_due, no_tick, never_idle, NULL, rep_evidence, rep_save, rep_load, nop_free },
	{ "absence", M_ABSENT, 0, 0, false, false, no_check,
	  nop_init, abs_apply, abs_due, abs_tick, never_idle, NULL, abs_evidence, abs_save, abs_load, nop_free },
	{ "anomaly", M_ZSCORE, M_FIELD, M_WINDOW | M_ALPHA | M_WARMUP, true, true, an_check,
	  an_init, an_apply, no_due, no_tick, never_idle, NULL, an_evidence, an_save, an_load, an_free },
	{ "spike", M_SPIKE, M_WITHIN, M_MINCOUNT | M_SPIKEDOWN, false, false, sp_check,
	  sp_init, sp_apply, sp_due, sp_tick, w_idle, NULL, sp_evidence, sp_save, sp_load, w_free },
};
#define NKINDS (sizeof(rl_kinds) / sizeof(rl_kinds[0]))

/* ---- building rules ---- */

struct rl_set *
rl_set_new(void)
{
	return xcalloc(1, sizeof(struct rl_set));
}

static void
rule_free(struct rl_rule *r)
{
	size_t i;

	free(r->name);
	if (r->when)
		expr_free(r->when);
	if (r->where)
		expr_free(r->where);
	for (i = 0; i < r->nby; i++) {
		rec_path_free(r->by[i]);
		free(r->byname[i]);
	}
	free(r->by);
	free(r->byname);
	if (r->field)
		rec_path_free(r->field);
	free(r->severity);
	free(r->summary);
	for (i = 0; i < r->nlabels; i++) {
		free(r->lkey[i]);
		free(r->lval[i]);
	}
	free(r->lkey);
	free(r->lval);
	json_decref(r->def);
	memset(r, 0, sizeof(*r));
}

void
rl_set_free(struct rl_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n + (s->open ? 1 : 0); i++)
		rule_free(&s->rules[i]);
	free(s->rules);
	free(s);
}

size_t rl_count(const struct rl_set *s) { return s->n; }
const char *rl_name(const struct rl_set *s, size_t i) { return s->rules[i].name; }
const char *rl_kind_name(const struct rl_set *s, size_t i) { return s->rules[i].kind->name; }

void
rl_begin(struct rl_set *s)
{
	struct rl_rule *r;

	if (s->open)
		rule_free(&s->rules[s->n]);
	s->rules = xrealloc(s->rules, (s->n + 1) * sizeof(*s->rules));
	r = &s->rules[s->n];
	memset(r, 0, sizeof(*r));
	r->def = json_object();
	s->open = true;
}

static const struct member *
find_member(const char *name)
{
	size_t i;

	for (i = 0; i < NMEMBERS; i++)
		if (strcmp(members[i].name, name) == 0)
			return &members[i];
	return NULL;
}

/*
 * by_name returns the name a --by field goes by in notices: the path as
 * written without its leading dot, and a quoted key ("id.orig_h", for
 * Zeek's dotted names) without its quotes.
 */
static char *
by_name(const char *path)
{
	size_t n = strlen(path);
	json_t *v;
	char *name;

	if (n >= 2 && path[0] == '"' && path[n - 1] == '"' &&
	    (v = json_loads(path, JSON_DECODE_ANY, NULL)) != NULL) {
		name = json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v) ?
		    xstrdup(json_string_value(v)) : NULL;
		json_decref(v);
		if (name != NULL)
			return name;
	}
	return xstrdup(path);
}

static int
add_by(struct rl_rule *r, const char *spec, size_t len, char *why, size_t whylen)
{
	struct rec_err e;
	struct rec_path *p;
	char *s = xstrndup(spec, len);

	if (len == 0) {
		free(s);
		return why_fail(why, whylen, "empty field name");
	}
	if ((p = rec_path_compile(s, &e)) == NULL) {
		why_fail(why, whylen, "bad field '%s': %s", s, e.text);
		free(s);
		return -1;
	}
	r->by = xrealloc(r->by, (r->nby + 1) * sizeof(*r->by));
	r->byname = xrealloc(r->byname, (r->nby + 1) * sizeof(*r->byname));
	r->by[r->nby] = p;
	r->byname[r->nby] = by_name(s[0] == '.' ? s + 1 : s);
	r->nby++;
	json_array_append_new(json_object_get(r->def, "by"), json_string(s));
	free(s);
	return 0;
}

static int
add_label(struct rl_rule *r, const char *k, size_t klen, const char *v, char *why, size_t whylen)
{
	size_t i;

	if (klen == 0)
		return why_fail(why, whylen, "a label needs a name: K=V");
	for (i = 0; i < r->nlabels; i++)
		if (strlen(r->lkey[i]) == klen && memcmp(r->lkey[i], k, klen) == 0)
			return why_fail(why, whylen, "label '%.*s' given twice", (int)klen, k);
	r->lkey = xrealloc(r->lkey, (r->nlabels + 1) * sizeof(*r->lkey));
	r->lval = xrealloc(r->lval, (r->nlabels + 1) * sizeof(*r->lval));
	r->lkey[r->nlabels] = xstrndup(k, klen);
	r->lval[r->nlabels] = xstrdup(v);
	r->nlabels++;
	return 0;
}

/* parse_uint reads a whole number in [lo, hi]. */
static int
parse_uint(const struct member *m, const char *arg, uint64_t *out, char *why, size_t whylen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (arg[0] < '0' || arg[0] > '9')
		return why_fail(why, whylen, "must be a whole number from %" PRIu64 " to %" PRIu64 ": %s", m->lo, m->hi, arg);
	v = strtoull(arg, &end, 10);
	if (*end != '\0' || errno != 0 || v < m->lo || v > m->hi)
		return why_fail(why, whylen, "must be a whole number from %" PRIu64 " to %" PRIu64 ": %s", m->lo, m->hi, arg);
	*out = v;
	return 0;
}

static int
parse_num(const struct member *m, const char *arg, double *out, char *why, size_t whylen)
{
	struct rec_val v;

	if (rec_number(arg, strlen(arg), &v) == RT_MISSING || !isfinite(v.d))
		return why_fail(why, whylen, "must be a number: %s", arg);
	if (m->bit == M_ALPHA && !(v.d > 0 && v.d <= 1))
		return why_fail(why, whylen, "must be a number greater than 0 and at most 1: %s", arg);
	if (m->bit != M_ALPHA && !(v.d > 0))
		return why_fail(why, whylen, "must be a number greater than 0: %s", arg);
	*out = v.d;
	return 0;
}

static int
parse_dur(const struct member *m, const char *arg, int64_t *out, char *why, size_t whylen)
{
	const char *w;

	if (tv_duration(arg, out, &w) == -1)
		return why_fail(why, whylen, "bad duration '%s': %s", arg, w);
	if (*out < 0)
		return why_fail(why, whylen, "duration must not be negative: %s", arg);
	if (m->type == O_DUR_POS && *out == 0)
		return why_fail(why, whylen, "duration must be positive: %s", arg);
	return 0;
}

static int
set_expr(struct expr **slot, const char *arg, char *why, size_t whylen)
{
	struct expr_err e;

	if ((*slot = expr_compile(arg, &e)) == NULL)
		return why_fail(why, whylen, "column %zu: %s", e.column, e.text);
	return 0;
}

/* set_member applies one member's text to rule r; the member has not been set before (except label, by). */
static int
set_member(struct rl_rule *r, const struct member *m, const char *arg, char *why, size_t whylen)
{
	struct rec_err e;
	uint64_t u = 0;
	double d = 0;
	int64_t t = 0;
	const char *p, *q;

	if (m->type != O_FLAG && arg == NULL)
		return why_fail(why, whylen, "needs a value");
	switch (m->bit) {
	case M_NAME:
		if (arg[0] == '\0')
			return why_fail(why, whylen, "a name cannot be empty");
		r->name = xstrdup(arg);
		return 0;
	case M_SEVERITY:
		r->severity = xstrdup(arg);
		return 0;
	case M_SUMMARY:
		r->summary = xstrdup(arg);
		return 0;
	case M_WHEN:
		if (set_expr(&r->when, arg, why, whylen) == -1)
			return -1;
		break;
	case M_WHERE:
		if (set_expr(&r->where, arg, why, whylen) == -1)
			return -1;
		break;
	case M_FIELD:
		if ((r->field = rec_path_compile(arg, &e)) == NULL)
			return why_fail(why, whylen, "bad field '%s': column %zu: %s", arg, e.column, e.text);
		break;
	case M_BY:
		if (json_object_get(r->def, "by") == NULL)
			json_object_set_new(r->def, "by", json_array());
		for (p = arg;; p = q + 1) {
			q = strchr(p, ',');
			if (q == NULL)
				q = p + strlen(p);
			if (add_by(r, p, (size_t)(q - p), why, whylen) == -1)
				return -1;
			if (*q == '\0')
				break;
		}
		r->set |= m->bit;
		return 0;
	case M_LABEL:
		if ((p = strchr(arg, '=')) == NULL)
			return why_fail(why, whylen, "a label is K=V: %s", arg);
		if (add_label(r, arg, (size_t)(p - arg), p + 1, why, whylen) == -1)
			return -1;
		r->set |= m->bit;
		return 0;
	case M_SPIKEDOWN:
		if (arg != NULL)
			return why_fail(why, whylen, "takes no value");
		r->spike_down = true;
		break;
	default:
		break;
	}
	switch (m->type) {
	case O_UINT:
		if (parse_uint(m, arg, &u, why, whylen) == -1)
			return -1;
		if (m->bit == M_COUNT) r->count = u;
		else if (m->bit == M_REPEAT) r->repeat = u;
		else if (m->bit == M_WINDOW) r->window = u;
		else if (m->bit == M_WARMUP) r->warmup = u;
		else r->min_count = u;
		json_object_set_new(r->def, m->name, json_integer((json_int_t)u));
		break;
	case O_NUM:
		if (parse_num(m, arg, &d, why, whylen) == -1)
			return -1;
		if (m->bit == M_ZSCORE) r->zscore = d;
		else if (m->bit == M_ALPHA) r->alpha = d;
		else r->spike = d;
		json_object_set_new(r->def, m->name, json_real(d));
		break;
	case O_DUR:
	case O_DUR_POS:
		if (parse_dur(m, arg, &t, why, whylen) == -1)
			return -1;
		if (m->bit == M_WITHIN) r->within = t;
		else if (m->bit == M_ABSENT) r->absent = t;
		else if (m->bit == M_FOR) r->for_ = t;
		else if (m->bit == M_KEEP) r->keep = t;
		else r->cooldown = t;
		json_object_set_new(r->def, m->name, json_integer(t));
		break;
	case O_FLAG:
		json_object_set_new(r->def, m->name, json_true());
		break;
	default:
		json_object_set_new(r->def, m->name, json_string(arg));
		break;
	}
	r->set |= m->bit;
	return 0;
}

static const char *
member_name(unsigned bit)
{
	size_t i;

	for (i = 0; i < NMEMBERS; i++)
		if (members[i].bit == bit)
			return members[i].name;
	return "?";
}

int
rl_option(struct rl_set *s, const char *opt, const char *arg, char *why, size_t whylen)
{
	const struct member *m = find_member(opt);
	struct rl_rule *r;

	if (!s->open)
		rl_begin(s);
	r = &s->rules[s->n];
	if (m == NULL)
		return why_fail(why, whylen, "unknown option");
	if ((r->set & m->bit) && m->type != O_LABEL && m->type != O_BY)
		return why_fail(why, whylen, "given twice");
	return set_member(r, m, arg, why, whylen);
}

/* The notice members a summary may name besides the --by fields. */
static const char *const notice_members[] = {
	"alert", "state", "at", "since", "value", "count", "previous", "ratio", "z",
	"mean", "sd", "last_seen", "severity", NULL
};

/* check_summary refuses a placeholder that no notice of the rule could fill. */
static int
check_summary(const struct rl_rule *r, char *why, size_t whylen)
{
	const char *p = r->summary, *q, *b, *e;
	size_t i, n;

	while (p != NULL && (p = strstr(p, "{{")) != NULL) {
		if ((q = strstr(p + 2, "}}")) == NULL)
			return why_fail(why, whylen, "'summary': '{{' without '}}'");
		for (b = p + 2; *b == ' '; b++)
			;
		for (e = q; e > b && e[-1] == ' '; e--)
			;
		n = (size_t)(e - b);
		if (n == 5 && memcmp(b, "value", 5) == 0)
			goto next;
		if (n < 2 || b[0] != '.')
			return why_fail(why, whylen, "'summary': unknown placeholder {{%.*s}}: use {{value}} or {{.FIELD}}", (int)n, b);
		for (i = 0; notice_members[i] != NULL; i++)
			if (strlen(notice_members[i]) == n - 1 && memcmp(notice_members[i], b + 1, n - 1) == 0)
				goto next;
		for (i = 0; i < r->nby; i++)
			if (strlen(r->byname[i]) == n - 1 && memcmp(r->byname[i], b + 1, n - 1) == 0)
				goto next;
		return why_fail(why, whylen, "'summary': {{%.*s}} is neither a 'by' field nor a notice member", (int)n, b);
next:
		p = q + 2;
	}
	return 0;
}

int
rl_end(struct rl_set *s, char *why, size_t whylen)
{
	struct rl_rule *r;
	const struct rl_kind *k = NULL;
	size_t i;
	int rc = 0;
	char pre[160];

	if (!s->open)
		rl_begin(s);
	r = &s->rules[s->n];
	for (i = 0; i < NKINDS; i++)
		if (r->set & rl_kinds[i].select) {
			if (k != NULL) {
				rc = why_fail(why, whylen, "'%s' and '%s' choose different kinds (%s, %s); give one",
				    member_name(k->select), member_name(rl_kinds[i].select), k->name, rl_kinds[i].name);
				goto out;
			}
			k = &rl_kinds[i];
		}
	if (k == NULL) {
		rc = why_fail(why, whylen, "a rule needs one of when, count, repeat, absent, zscore, spike");
		goto out;
	}
	r->kind = k;
	if (r->name == NULL)
		r->name = xstrdup(k->name);
	snprintf(pre, sizeof(pre), "rule '%s': ", r->name);
	for (i = 0; i < NMEMBERS; i++) {
		unsigned b = members[i].bit;

		if ((k->needs & b) && !(r->set & b)) {
			rc = why_fail(why, whylen, "%s'%s' needs '%s'", pre, member_name(k->select), members[i].name);
			goto out;
		}
		if ((r->set & b) && !(b & (M_COMMON | k->select | k->needs | k->takes))) {
			rc = why_fail(why, whylen, "%s'%s' does not apply to a %s rule", pre, members[i].name, k->name);
			goto out;
		}
	}
	if (k->check(r, why, whylen) == -1) {
		char tmp[256];

		snprintf(tmp, sizeof(tmp), "%s", why);
		rc = why_fail(why, whylen, "%s%s", pre, tmp);
		goto out;
	}
	if (r->window == 0 && r->warmup == 0)
		r->warmup = 10;
	if (check_summary(r, why, whylen) == -1) {
		char tmp[256];

		snprintf(tmp, sizeof(tmp), "%s", why);
		rc = why_fail(why, whylen, "%s%s", pre, tmp);
		goto out;
	}
	for (i = 0; i < s->n; i++)
		if (strcmp(s->rules[i].name, r->name) == 0) {
			rc = why_fail(why, whylen, "duplicate rule name '%s'", r->name);
			goto out;
		}
	json_object_set_new(r->def, "kind", json_string(k->name));
	s->n++;
	s->open = false;
	return 0;
out:
	rule_free(r);
	s->open = false;
	return rc;
}

/* ---- rules files ---- */

static const char *
jtype(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "a whole number";
	case JSON_REAL: return "a number";
	case JSON_TRUE: case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* file_member applies one JSON member through the command-line setter, after checking its JSON type. */
static int
file_member(struct rl_set *s, const struct member *m, json_t *v, char *why, size_t whylen)
{
	struct rl_rule *r = &s->rules[s->n];
	char num[64];
	size_t i;
	json_t *e;
	const char *k;

	switch (m->type) {
	case O_STR: case O_EXPR: case O_PATH: case O_DUR: case O_DUR_POS:
		if (!json_is_string(v))
			return why_fail(why, whylen, "must be a string%s, not %s",
			    m->type == O_DUR || m->type == O_DUR_POS ? " duration like \"10m\"" : "", jtype(v));
		if (strlen(json_string_value(v)) != json_string_length(v))
			return why_fail(why, whylen, "must not contain a NUL character");
		return set_member(r, m, json_string_value(v), why, whylen);
	case O_UINT:
		if (!json_is_integer(v))
			return why_fail(why, whylen, "must be a whole number, not %s", jtype(v));
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return set_member(r, m, num, why, whylen);
	case O_NUM:
		if (!json_is_number(v))
			return why_fail(why, whylen, "must be a number, not %s", jtype(v));
		snprintf(num, sizeof(num), "%.17g", json_number_value(v));
		return set_member(r, m, num, why, whylen);
	case O_FLAG:
		if (!json_is_boolean(v))
			return why_fail(why, whylen, "must be true or false, not %s", jtype(v));
		return json_is_true(v) ? set_member(r, m, NULL, why, whylen) : 0;
	case O_BY:
		if (json_is_string(v))
			return set_member(r, m, json_string_value(v), why, whylen);
		if (!json_is_array(v))
			return why_fail(why, whylen, "must be an array of field names, not %s", jtype(v));
		json_object_set_new(r->def, "by", json_array());
		json_array_foreach(v, i, e) {
			if (!json_is_string(e))
				return why_fail(why, whylen, "element %zu must be a string, not %s", i + 1, jtype(e));
			if (add_by(r, json_string_value(e), strlen(json_string_value(e)), why, whylen) == -1)
				return -1;
		}
		r->set |= m->bit;
		return 0;
	case O_LABEL:
		if (json_is_string(v))
			return set_member(r, m, json_string_value(v), why, whylen);
		if (json_is_array(v)) {
			json_array_foreach(v, i, e) {
				if (!json_is_string(e))
					return why_fail(why, whylen, "element %zu must be a \"K=V\" string, not %s", i + 1, jtype(e));
				if (set_member(r, m, json_string_value(e), why, whylen) == -1)
					return -1;
			}
			return 0;
		}
		if (!json_is_object(v))
			return why_fail(why, whylen, "must be an object of strings, not %s", jtype(v));
		json_object_foreach(v, k, e) {
			if (!json_is_string(e))
				return why_fail(why, whylen, "label '%s' must be a string, not %s", k, jtype(e));
			if (add_label(r, k, strlen(k), json_string_value(e), why, whylen) == -1)
				return -1;
		}
		r->set |= m->bit;
		return 0;
	}
	return 0;
}

/* file_rule builds rule number idx (1-based) from one JSON value of path. */
static int
file_rule(struct rl_set *s, const char *path, size_t idx, json_t *obj, char *why, size_t whylen)
{
	char inner[256], rname[128];
	const char *k;
	json_t *v, *nm;
	const struct member *m;

	nm = json_is_object(obj) ? json_object_get(obj, "name") : NULL;
	if (json_is_string(nm))
		snprintf(rname, sizeof(rname), " (%s)", json_string_value(nm));
	else
		rname[0] = '\0';
	if (!json_is_object(obj))
		return why_fail(why, whylen, "%s: rule %zu: must be an object, not %s", path, idx, jtype(obj));
	rl_begin(s);
	json_object_foreach(obj, k, v) {
		if ((m = find_member(k)) == NULL) {
			why_fail(why, whylen, "%s: rule %zu%s: unknown member '%s'", path, idx, rname, k);
			goto bad;
		}
		if (file_member(s, m, v, inner, sizeof(inner)) == -1) {
			why_fail(why, whylen, "%s: rule %zu%s: member '%s': %s", path, idx, rname, k, inner);
			goto bad;
		}
	}
	if (rl_end(s, inner, sizeof(inner)) == -1)
		return why_fail(why, whylen, "%s: rule %zu%s: %s", path, idx, rname,
		    strncmp(inner, "rule '", 6) == 0 && strstr(inner, "': ") ? strstr(inner, "': ") + 3 : inner);
	return 0;
bad:
	rule_free(&s->rules[s->n]);
	s->open = false;
	return -1;
}

int
rl_load_file(struct rl_set *s, const char *path, char *why, size_t whylen)
{
	FILE *f = fopen(path, "r");
	struct buf b = BUF_INIT;
	char chunk[8192];
	size_t n, i, idx = 0, line = 1, start;
	json_error_t je;
	json_t *doc, *e;
	int rc = 0;
	size_t before = s->n;

	if (f == NULL)
		return why_fail(why, whylen, "%s: cannot open: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	if (ferror(f)) {
		rc = why_fail(why, whylen, "%s: read error: %s", path, strerror(errno));
		fclose(f);
		buf_free(&b);
		return rc;
	}
	fclose(f);
	for (i = 0; i < b.len && strchr(" \t\r\n", b.p[i]) != NULL; i++)
		;
	if (i < b.len && b.p[i] == '[') {
		doc = json_loadb(b.p, b.len, JSON_REJECT_DUPLICATES, &je);
		if (doc == NULL) {
			rc = why_fail(why, whylen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
			goto done;
		}
		json_array_foreach(doc, i, e)
			if ((rc = file_rule(s, path, i + 1, e, why, whylen)) == -1)
				break;
		json_decref(doc);
		goto done;
	}
	/* One object per line. */
	for (start = 0; start < b.len; start = i + 1, line++) {
		size_t j;

		for (i = start; i < b.len && b.p[i] != '\n'; i++)
			;
		for (j = start; j < i && strchr(" \t\r", b.p[j]) != NULL; j++)
			;
		if (j == i)
			continue;
		doc = json_loadb(b.p + start, i - start, JSON_REJECT_DUPLICATES, &je);
		if (doc == NULL) {
			rc = why_fail(why, whylen, "%s:%zu:%d: %s", path, line, je.column, je.text);
			goto done;
		}
		rc = file_rule(s, path, ++idx, doc, why, whylen);
		json_decref(doc);
		if (rc == -1)
			break;
	}
done:
	buf_free(&b);
	if (rc == 0 && s->n == before)
		rc = why_fail(why, whylen, "%s: no rules", path);
	return rc;
}

/* ---- the engine ---- */

struct rl_engine {
	const struct rl_set	*set;
	int64_t			 lateness;
	rl_notice_fn		*fn;
	void			*ctx;
	struct ks		*ks;
	int64_t			 T, maxt, wm;
	uint64_t		 seq;
	struct item		*items;		/* a pool: held items and free slots */
	size_t			 nitems;
	size_t			*freel, nfree;
	size_t			*heap, nheap;	/* held items that came out of order, by (t, seq) */
	size_t			*q, qhead, qlen, qcap;	/* held items that came in order: a ring, sorted by (t, seq) */
	size_t			 nheld;		/* held items, with those that follow others */
	struct buf		 kb;		/* a (rule, key) key being built */
	/*
	 * The distinct field paths of all rules (--by and --field), so a
	 * record looks each up once and writes each key part's canonical
	 * JSON once, however many rules share it.  look[] is valid for the
	 * record whose generation is gen.
	 */
	const struct rec_path	**paths;
	size_t			 npaths;
	uint32_t		**byslot;	/* per rule: the slot of each --by path */
	uint32_t		*fslot;		/* per rule: the slot of --field, or NOSLOT */
	uint32_t		*wslot, *cslot;	/* per rule: the one path --where or --when reads (expr_one_path), or NOSLOT */
	struct look		*look;
	uint64_t		 gen;
	struct buf		 cb;		/* the record's canonical key parts */
	/*
	 * The forget queue: timers of rate keys whose only decision left is
	 * the window emptying (then the key is forgotten; no notice can come
	 * of it).  Records are applied in time order, so these come in order
	 * of due and a ring does what the heap would, without a sift on
	 * either end.  A timer due before the tail goes to the heap.  fq[i]
	 * is the entry of absolute index i (& fqcap - 1); fqbase is the head.
	 */
	struct fq_ent {
		int64_t		 due;
		struct rl_st	*st;	/* NULL: the key left the queue */
	}			*fq;
	uint64_t		 fqbase;
	size_t			 fqlen, fqcap;
	struct rl_stats		 stats;
	size_t			 max_keys;
	bool			 freeing;	/* drops are not evictions */
};

/* A path looked up in the current record, and its canonical JSON in cb once wanted. */
struct look {
	uint64_t	 gen;
	enum rec_type	 type;
	struct rec_val	 v;
	size_t		 off, len;	/* len SIZE_MAX: no canonical text yet */
};

#define NOSLOT	UINT32_MAX
#define NO_ITEM	SIZE_MAX
#define KP	4	/* the rule index that prefixes a (rule, key) key */

/* path_slot returns the slot of a path that looks up what p does (however spelled), adding it when new. */
static uint32_t
path_slot(struct rl_engine *e, const struct rec_path *p)
{
	size_t i;

	for (i = 0; i < e->npaths; i++)
		if (rec_path_same(e->paths[i], p))
			return (uint32_t)i;
	e->paths = xrealloc(e->paths, (e->npaths + 1) * sizeof(*e->paths));
	e->paths[e->npaths] = p;
	return (uint32_t)e->npaths++;
}

/* rule_index reads the rule index that prefixes a (rule, key) key, big-endian. */
static uint32_t
rule_index(const void *key)
{
	const unsigned char *p = key;

	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* fq_unqueue takes the key out of the forget queue, if it is there (its entry stays, emptied). */
static void
fq_unqueue(struct rl_engine *e, struct rl_st *st)
{
	if (st->fq_pos != 0) {
		e->fq[(st->fq_pos - 1) & (e->fqcap - 1)].st = NULL;
		st->fq_pos = 0;
	}
}

/* fq_push queues the key's timer at due, which is not before the tail's. */
static void
fq_push(struct rl_engine *e, struct rl_st *st, int64_t due)
{
	uint64_t abs;

	if (e->fqlen == e->fqcap) {
		size_t cap = e->fqcap ? 2 * e->fqcap : 64, i;
		struct fq_ent *q = xmalloc(cap * sizeof(*q));

		for (i = 0; i < e->fqlen; i++)
			q[(e->fqbase + i) & (cap - 1)] = e->fq[(e->fqbase + i) & (e->fqcap - 1)];
		free(e->fq);
		e->fq = q;
		e->fqcap = cap;
	}
	abs = e->fqbase + e->fqlen++;
	e->fq[abs & (e->fqcap - 1)] = (struct fq_ent){ due, st };
	st->fq_pos = abs + 1;
}

/* fq_front returns the head of the forget queue, dropping emptied entries, or NULL. */
static struct fq_ent *
fq_front(struct rl_engine *e)
{
	while (e->fqlen > 0) {
		struct fq_ent *f = &e->fq[e->fqbase & (e->fqcap - 1)];

		if (f->st != NULL)
			return f;
		e->fqbase++;
		e->fqlen--;
	}
	return NULL;
}

/* fq_pop removes the head, which fq_front returned. */
static void
fq_pop(struct rl_engine *e)
{
	e->fq[e->fqbase & (e->fqcap - 1)].st->fq_pos = 0;
	e->fqbase++;
	e->fqlen--;
}

static void
st_drop(void *ctx, const void *key, size_t len, void *val)
{
	struct rl_engine *e = ctx;
	struct rl_st *st = val;
	uint32_t ri;

	fq_unqueue(e, st);
	ri = rule_index(key);
	e->set->rules[ri].kind->free(st);
	free(st->val);
	st->val = NULL;
	if (!e->freeing)
		e->stats.evicted++;
}

struct rl_engine *
rl_engine_new(const struct rl_set *set, int64_t lateness, size_t max_keys, rl_notice_fn *fn, void *ctx)
{
	struct rl_engine *e = xcalloc(1, sizeof(*e));
	size_t i, j;

	e->set = set;
	e->lateness = lateness;
	e->fn = fn;
	e->ctx = ctx;
	e->ks = ks_new(sizeof(struct rl_st), max_keys, st_drop, e);
	e->max_keys = max_keys;
	e->T = e->maxt = e->wm = TV_MIN;
	e->byslot = xcalloc(set->n + 1, sizeof(*e->byslot));
	e->fslot = xcalloc(set->n + 1, sizeof(*e->fslot));
	for (i = 0; i < set->n; i++) {
		const struct rl_rule *r = &set->rules[i];

		e->byslot[i] = xcalloc(r->nby + 1, sizeof(**e->byslot));
		for (j = 0; j < r->nby; j++)
			e->byslot[i][j] = path_slot(e, r->by[j]);
		e->fslot[i] = r->field != NULL ? path_slot(e, r->field) : NOSLOT;
	}
	/* An expression that reads one path shares its lookup with the rules' fields. */
	e->wslot = xcalloc(set->n + 1, sizeof(*e->wslot));
	e->cslot = xcalloc(set->n + 1, sizeof(*e->cslot));
	for (i = 0; i < set->n; i++) {
		const struct rl_rule *r = &set->rules[i];
		const struct rec_path *p;

		e->wslot[i] = r->where != NULL && (p = expr_one_path(r->where)) != NULL ? path_slot(e, p) : NOSLOT;
		e->cslot[i] = r->when != NULL && (p = expr_one_path(r->when)) != NULL ? path_slot(e, p) : NOSLOT;
	}
	e->look = xcalloc(e->npaths + 1, sizeof(*e->look));
	return e;
}

static void
items_clear(struct rl_engine *e)
{
	size_t i;

	for (i = 0; i < e->nitems; i++)
		buf_free(&e->items[i].b);
	free(e->items);
	free(e->freel);
	free(e->heap);
	free(e->q);
	e->items = NULL;
	e->freel = e->heap = e->q = NULL;
	e->nitems = e->nfree = e->nheap = e->nheld = 0;
	e->qhead = e->qlen = e->qcap = 0;
}

void
rl_engine_free(struct rl_engine *e)
{
	size_t i;

	if (e == NULL)
		return;
	e->freeing = true;
	ks_free(e->ks);
	free(e->fq);
	items_clear(e);
	buf_free(&e->kb);
	for (i = 0; i < e->set->n; i++)
		free(e->byslot[i]);
	free(e->byslot);
	free(e->fslot);
	free(e->wslot);
	free(e->cslot);
	free(e->paths);
	free(e->look);
	buf_free(&e->cb);
	free(e);
}

int64_t rl_watermark_now(const struct rl_engine *e) { return e->T; }
int64_t rl_max_time(const struct rl_engine *e) { return e->maxt; }

const struct rl_stats *
rl_stats(struct rl_engine *e)
{
	e->stats.keys = ks_count(e->ks);
	e->stats.held = e->nheld;
	return &e->stats;
}

/* -- the held items -- */

static bool
item_before(const struct rl_engine *e, size_t a, size_t b)
{
	const struct item *x = &e->items[a], *y = &e->items[b];

	return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

static void
iheap_push(struct rl_engine *e, size_t idx)
{
	size_t i = e->nheap++;

	while (i > 0 && item_before(e, idx, e->heap[(i - 1) / 2])) {
		e->heap[i] = e->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	e->heap[i] = idx;
}

static size_t
iheap_pop(struct rl_engine *e)
{
	size_t top = e->heap[0], last = e->heap[--e->nheap], i = 0, c;

	while ((c = 2 * i + 1) < e->nheap) {
		if (c + 1 < e->nheap && item_before(e, e->heap[c + 1], e->heap[c]))
			c++;
		if (!item_before(e, e->heap[c], last))
			break;
		e->heap[i] = e->heap[c];
		i = c;
	}
	if (e->nheap > 0)
		e->heap[i] = last;
	return top;
}

/*
 * hold keeps a held item (with those that follow it) until T reaches it.  Most records come in time
 * order, and so do their items: those join the tail of the queue, which
 * stays sorted by (t, seq) at no cost; only the others go through the heap.
 */
static void
hold(struct rl_engine *e, size_t idx)
{
	if (e->qlen > 0 && item_before(e, idx, e->q[(e->qhead + e->qlen - 1) & (e->qcap - 1)])) {
		iheap_push(e, idx);
		return;
	}
	if (e->qlen == e->qcap) {
		size_t cap = e->qcap ? 2 * e->qcap : 16, i, *q = xmalloc(cap * sizeof(*q));

		for (i = 0; i < e->qlen; i++)
			q[i] = e->q[(e->qhead + i) & (e->qcap - 1)];
		free(e->q);
		e->q = q;
		e->qcap = cap;
		e->qhead = 0;
	}
	e->q[(e->qhead + e->qlen++) & (e->qcap - 1)] = idx;
}

/* held_first returns the earliest held item by (t, seq), or NO_ITEM. */
static size_t
held_first(const struct rl_engine *e)
{
	size_t a = e->qlen > 0 ? e->q[e->qhead] : NO_ITEM, b = e->nheap > 0 ? e->heap[0] : NO_ITEM;

	if (a == NO_ITEM)
		return b;
	if (b == NO_ITEM)
		return a;
	return item_before(e, b, a) ? b : a;
}

/* held_take removes idx, which held_first returned. */
static void
held_take(struct rl_engine *e, size_t idx)
{
	if (e->qlen > 0 && e->q[e->qhead] == idx) {
		e->qhead = (e->qhead + 1) & (e->qcap - 1);
		e->qlen--;
	} else
		iheap_pop(e);
}

/* item_new returns a free slot of the pool (its buffer kept from earlier use), growing the pool when none is free. */
static struct item *
item_new(struct rl_engine *e, size_t *idx)
{
	if (e->nfree == 0) {
		size_t n = e->nitems ? 2 * e->nitems : 16, i;

		e->items = xrealloc(e->items, n * sizeof(*e->items));
		e->freel = xrealloc(e->freel, n * sizeof(*e->freel));
		e->heap = xrealloc(e->heap, n * sizeof(*e->heap));
		for (i = e->nitems; i < n; i++) {
			memset(&e->items[i], 0, sizeof(e->items[i]));
			e->freel[e->nfree++] = n - 1 - (i - e->nitems);
		}
		e->nitems = n;
	}
	*idx = e->freel[--e->nfree];
	buf_reset(&e->items[*idx].b);
	e->items[*idx].next = NO_ITEM;
	return &e->items[*idx];
}

/* item_rule sets the item's rule and starts its buffer with the rule index, big-endian, as keyset keys begin. */
static void
item_rule(struct item *it, uint32_t ri)
{
	unsigned char be[KP] = { (unsigned char)(ri >> 24), (unsigned char)(ri >> 16),
	    (unsigned char)(ri >> 8), (unsigned char)ri };

	it->rule = ri;
	buf_add(&it->b, be, KP);
}

/* -- the state machine -- */

/* rule_of returns the rule of a (rule, key) state from its key's 4-byte prefix. */
static const struct rl_rule *
rule_of(const struct rl_engine *e, const struct rl_st *st, size_t *idx)
{
	size_t len;
	uint32_t ri;

	ri = rule_index(ks_key(st, &len));
	if (idx != NULL)
		*idx = ri;
	return &e->set->rules[ri];
}

static void
notify(struct rl_engine *e, struct rl_st *st, bool firing, int64_t at)
{
	struct rl_notice n;
	const struct rl_rule *r;
	const char *k;
	size_t len;

	if (firing) {
		r = rule_of(e, st, NULL);
		if (r->cooldown > 0 && st->has_fired && at < sat_add(st->last_fire, r->cooldown)) {
			st->suppressed = true;
			e->stats.suppressed++;
			return;
		}
		st->suppressed = false;
		st->has_fired = true;
		st->last_fire = at;
	} else if (st->suppressed) {
		st->suppressed = false;
		e->stats.suppressed++;
		return;
	}
	memset(&n, 0, sizeof(n));
	r = rule_of(e, st, &n.rule);
	k = ks_key(st, &len);
	n.alert = r->name;
	n.firing = firing;
	n.at = at;
	n.since = st->since;
	n.key = k + 4;
	n.keylen = len - 4;
	r->kind->evidence(r, st, at, &n);
	if (firing)
		e->stats.firing++;
	else
		e->stats.resolved++;
	e->fn(e->ctx, &n);
}

/* on_cond moves the machine for a condition judged at instant t. */
static void
on_cond(struct rl_engine *e, const struct rl_rule *r, struct rl_st *st, int64_t t, bool c)
{
	st->cond = c;
	switch (st->state) {
	case S_INACTIVE:
		if (!c)
			break;
		st->since = t;
		if (r->for_ > 0) {
			st->state = S_PENDING;
			st->for_due = sat_add(t, r->for_);
		} else {
			st->state = S_FIRING;
			notify(e, st, true, t);
		}
		break;
	case S_PENDING:
		if (!c) {
			st->state = S_INACTIVE;
			st->for_due = TV_MAX;
		}
		break;
	case S_FIRING:
		if (c)
			st->keep_due = TV_MAX;
		else if (r->keep > 0) {
			if (st->keep_due == TV_MAX)
				st->keep_due = sat_add(t, r->keep);
		} else {
			st->state = S_INACTIVE;
			notify(e, st, false, t);
		}
		break;
	}
}

static void
st_free(const struct rl_rule *r, struct rl_st *st)
{
	r->kind->free(st);
	free(st->val);
	st->val = NULL;
}

/*
 * settle sets the key's timer to its earliest due instant, or forgets
 * the key when it holds nothing a fresh state would not (inactive, no
 * timer, the kind idle, no cooldown still running at now).  fired: the
 * key's timer is the one being taken (due now): it is moved, not kept.
 */
static void
settle(struct rl_engine *e, const struct rl_rule *r, struct rl_st *st, int64_t now, bool fired)
{
	int64_t due, cur;

	st->kind_due = r->kind->due(r, st);
	st->gc_due = TV_MAX;
	due = st->kind_due;
	if (st->for_due < due)
		due = st->for_due;
	if (st->keep_due < due)
		due = st->keep_due;
	if (due == TV_MAX && st->state == S_INACTIVE && r->kind->idle(r, st)) {
		if (r->cooldown > 0 && st->has_fired && sat_add(st->last_fire, r->cooldown) > now)
			due = st->gc_due = sat_add(st->last_fire, r->cooldown);
		else {
			fq_unqueue(e, st);
			st_free(r, st);
			ks_del(e->ks, st);
			return;
		}
	}
	/*
	 * A rate key below its count, inactive, with no for or keep-firing
	 * period running, has one decision left: its window empties at due
	 * and it is forgotten, with no notice.  Its timer goes to the forget
	 * queue when that keeps the queue in order.
	 */
	if (due != TV_MAX && due == st->kind_due && r->kind->select == M_COUNT &&
	    st->state == S_INACTIVE && st->for_due == TV_MAX && st->keep_due == TV_MAX &&
	    st->k.w.cur < r->count &&
	    (e->fqlen == 0 || due >= e->fq[(e->fqbase + e->fqlen - 1) & (e->fqcap - 1)].due)) {
		if (st->fq_pos == 0 || e->fq[(st->fq_pos - 1) & (e->fqcap - 1)].due != due) {
			fq_unqueue(e, st);
			fq_push(e, st, due);
		}
		ks_timer_cancel(e->ks, st);
		return;
	}
	fq_unqueue(e, st);
	/*
	 * A timer already set at or before due is left where it is: it wakes
	 * the key early, fire_timer finds nothing due then and settles it
	 * again.  Moving it later would cost a sift down the heap on every
	 * record of a busy key (an absence's or a rate's due moves on with
	 * each record); an early wake costs one per period at most.  The
	 * timer being taken is moved to its next instant in one sift down
	 * from the top, not taken out and put back.
	 */
	if (due == TV_MAX)
		ks_timer_cancel(e->ks, st);
	else if (fired || !ks_timer_get(e->ks, st, &cur) || cur > due)
		ks_timer_set(e->ks, st, due);
}

/* make_key builds the keyset key of (rule, key) in e->kb: the rule index big-endian (so keys due at one instant go in rule order), then the key. */
static void
make_key(struct rl_engine *e, uint32_t ri, const char *key, size_t keylen)
{
	unsigned char be[4] = { (unsigned char)(ri >> 24), (unsigned char)(ri >> 16),
	    (unsigned char)(ri >> 8), (unsigned char)ri };

	buf_reset(&e->kb);
	buf_add(&e->kb, be, sizeof(be));
	buf_add(&e->kb, key, keylen);
}

/* state_get returns the state of the (rule, key) key k (the rule index, then the key), making it when new. */
static struct rl_st *
state_get(struct rl_engine *e, uint32_t ri, const char *k, size_t klen)
{
	const struct rl_rule *r = &e->set->rules[ri];
	struct rl_st *st;
	bool created;

	st = ks_put(e->ks, k, klen, &created);
	if (created) {
		st->for_due = st->keep_due = st->kind_due = st->gc_due = TV_MAX;
		r->kind->init(r, st);
	}
	return st;
}

static void
set_val(struct rl_st *st, const char *p, size_t len)
{
	if (len > st->valcap) {
		st->valcap = len;
		st->val = xrealloc(st->val, len);
	}
	if (len > 0)
		memcpy(st->val, p, len);
	st->vallen = len;
}

static void
apply_item(struct rl_engine *e, struct item *it)
{
	const struct rl_rule *r = &e->set->rules[it->rule];
	struct rl_st *st;
	const char *v = it->b.p + it->keylen;
	size_t vlen = it->b.len - it->keylen;
	bool c;

	e->stats.applied++;
	/* The common false record of a key with no state: nothing to make, nothing to free. */
	if (r->kind->noop != NULL && r->kind->noop(r, it) && ks_get(e->ks, it->b.p, it->keylen) == NULL)
		return;
	st = state_get(e, it->rule, it->b.p, it->keylen);

	if (r->kind->select == M_REPEAT) {
		if (st->k.rep.run > 0 && vlen == st->vallen && memcmp(v, st->val, vlen) == 0)
			st->k.rep.run++;
		else
			st->k.rep.run = 1;
	}
	if (it->hasval)
		set_val(st, v, vlen);
	else
		st->vallen = 0;
	if (r->kind->apply(r, st, it, &c))
		on_cond(e, r, st, it->t, c);
	settle(e, r, st, it->t, false);
}

/* fire_timer takes the decisions of a key due at x, in their fixed order; its timer (at x) is still set. */
static void
fire_timer(struct rl_engine *e, struct rl_st *st, int64_t x)
{
	const struct rl_rule *r = rule_of(e, st, NULL);
	bool c;

	if (st->kind_due == x) {
		st->kind_due = TV_MAX;
		if (r->kind->tick(r, st, x, &c))
			on_cond(e, r, st, x, c);
	}
	if (st->for_due == x) {
		st->for_due = TV_MAX;
		if (st->state == S_PENDING) {
			st->state = S_FIRING;
			notify(e, st, true, x);
		}
	}
	if (st->keep_due == x) {
		st->keep_due = TV_MAX;
		if (st->state == S_FIRING) {
			st->state = S_INACTIVE;
			notify(e, st, false, x);
		}
	}
	settle(e, r, st, x, true);
}

/* next_timer returns the key with the earliest timer due by t, from the heap or the forget queue (whose keys have no heap timer), or NULL. */
static struct rl_st *
next_timer(struct rl_engine *e, int64_t t, int64_t *due)
{
	struct rl_st *st = ks_next_due(e->ks, t, due);
	struct fq_ent *f = fq_front(e);

	if (f != NULL && f->due <= t && (st == NULL || f->due < *due)) {
		*due = f->due;
		return f->st;
	}
	return st;
}

/*
 * advance applies held records with time <= rec_to and takes decisions
 * due at <= timer_to, merged in time order, records first at an equal
 * instant.
 */
static void
advance(struct rl_engine *e, int64_t rec_to, int64_t timer_to, bool timers)
{
	for (;;) {
		size_t first = held_first(e);
		struct item *top = first != NO_ITEM ? &e->items[first] : NULL;
		struct rl_st *st;
		int64_t due = 0;

		if (top != NULL && top->t > rec_to)
			top = NULL;
		st = timers ? next_timer(e, timer_to, &due) : NULL;
		if (top != NULL && (st == NULL || top->t <= due)) {
			size_t idx, next;

			held_take(e, first);
			for (idx = first; idx != NO_ITEM; idx = next) {
				next = e->items[idx].next;
				apply_item(e, &e->items[idx]);
				e->freel[e->nfree++] = idx;
				e->nheld--;
			}
		} else if (st != NULL) {
			if (st->fq_pos != 0)
				fq_pop(e);
			fire_timer(e, st, due);
		} else
			break;
	}
}

/* raise moves T up to t and takes what T releases: records <= T, decisions < T. */
static void
raise_to(struct rl_engine *e, int64_t t)
{
	if (t > e->T)
		e->T = t;
	if (e->T == TV_MIN)
		return;
	advance(e, e->T, e->T - 1, true);
}

/*
 * canon_add appends a value's canonical JSON.  The common cases skip
 * rec_val_canon's general path: a string without escapes is canonical as
 * written (the scanner validated its UTF-8), and so are literals; an
 * integer is written from its value.
 */
static void
canon_add(struct rec *rec, const struct rec_val *v, struct buf *b)
{
	switch (v->type) {
	case RT_STRING:
		if (memchr(v->raw, '\\', v->rawlen) == NULL) {
			buf_add(b, v->raw, v->rawlen);
			return;
		}
		break;
	case RT_INT:
		jw_int(b, v->i);
		return;
	case RT_BOOL:
		buf_adds(b, v->b ? "true" : "false");
		return;
	case RT_NULL:
		buf_add(b, "null", 4);
		return;
	default:
		break;
	}
	rec_val_canon(rec, v, b);
}

/* look_up returns the value of slot sl in the current record, looking it up on first use. */
static const struct look *
look_up(struct rl_engine *e, struct rec *rec, uint32_t sl)
{
	struct look *l = &e->look[sl];

	if (l->gen != e->gen) {
		l->gen = e->gen;
		l->type = rec_get(rec, e->paths[sl], &l->v);
		l->len = SIZE_MAX;
	}
	return l;
}

/*
 * canon returns the canonical JSON of slot sl (looked up already), made
 * once per record: a string without escapes (its view is the line's bytes
 * inside the quotes) is canonical as written and stays in the line;
 * anything else is written to cb.
 */
static inline __attribute__((always_inline)) const char *
canon(struct rl_engine *e, struct rec *rec, uint32_t sl, size_t *len)
{
	struct look *l = &e->look[sl];

	if (l->len == SIZE_MAX) {
		if (l->v.type == RT_STRING && l->v.s == l->v.raw + 1) {
			l->off = SIZE_MAX;
			l->len = l->v.rawlen;
		} else {
			l->off = e->cb.len;
			canon_add(rec, &l->v, &e->cb);
			l->len = e->cb.len - l->off;
		}
	}
	*len = l->len;
	return l->off == SIZE_MAX ? l->v.raw : e->cb.p + l->off;
}

/* bput appends n bytes the caller has reserved room for; key parts are short, copied inline with overlapping words. */
static inline void
bput(struct buf *b, const void *p, size_t n)
{
	char *d = b->p + b->len;
	const char *s = p;

	if (n >= 8 && n <= 16) {
		memcpy(d, s, 8);
		memcpy(d + n - 8, s + n - 8, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(d, s, 4);
		memcpy(d + n - 4, s + n - 4, 4);
	} else if (n > 0 && n < 4) {
		d[0] = s[0];
		d[n / 2] = s[n / 2];
		d[n - 1] = s[n - 1];
	} else if (n > 16)
		memcpy(d, s, n);
	b->len += n;
}

/*
 * item_fill writes the item's (rule, key) key, the rule index and the
 * --by values' canonical JSON joined by 0x1f, then its value's text: for
 * anomaly the number as written (or the numeric string's contents), for
 * repetition the canonical JSON (compared as JSON values), otherwise as
 * written (shown only).  One reservation for the whole.
 */
static void
item_fill(struct rl_engine *e, struct item *it, const struct rl_rule *r, const uint32_t *bys,
    struct rec *rec, const struct look *f)
{
	const char *val = NULL, *p;
	size_t vlen = 0, need = KP, n, j;
	unsigned char be[KP] = { (unsigned char)(it->rule >> 24), (unsigned char)(it->rule >> 16),
	    (unsigned char)(it->rule >> 8), (unsigned char)it->rule };

	for (j = 0; j < r->nby; j++) {
		canon(e, rec, bys[j], &n);
		need += n + (j > 0);
	}
	if (f != NULL && f->type != RT_MISSING) {
		if (r->kind->numeric && f->type == RT_STRING)
			val = f->v.s, vlen = f->v.slen;
		else if (!r->kind->numeric && r->kind->select == M_REPEAT)
			val = canon(e, rec, e->fslot[it->rule], &vlen);
		else
			val = f->v.raw, vlen = f->v.rawlen;
	}
	buf_reserve(&it->b, need + vlen);
	bput(&it->b, be, KP);
	for (j = 0; j < r->nby; j++) {
		p = canon(e, rec, bys[j], &n);
		if (j > 0)
			bput(&it->b, "\x1f", 1);
		bput(&it->b, p, n);
	}
	it->keylen = it->b.len;
	if (val != NULL)
		bput(&it->b, val, vlen);
}

/* eval_rule evaluates rule ri on the record; returns its new item, or NO_ITEM when the rule does not take it. */
static size_t
eval_rule(struct rl_engine *e, uint32_t ri, struct rec *rec, int64_t t)
{
	const struct rl_rule *r = &e->set->rules[ri];
	const uint32_t *bys = e->byslot[ri];
	const struct look *f = NULL;
	struct rec_val n;
	struct item *it;
	size_t idx, j;
	enum rec_type ty = RT_MISSING;

	if (r->where != NULL && !(e->wslot[ri] != NOSLOT ?
	    expr_test_one(r->where, rec, &look_up(e, rec, e->wslot[ri])->v) : expr_test(r->where, rec))) {
		e->stats.unselected++;
		return NO_ITEM;
	}
	for (j = 0; j < r->nby; j++)
		if (look_up(e, rec, bys[j])->type == RT_MISSING) {
			e->stats.no_key++;
			return NO_ITEM;
		}
	if (e->fslot[ri] != NOSLOT) {
		f = look_up(e, rec, e->fslot[ri]);
		ty = f->type;
	}
	if (r->kind->needs_value && (ty == RT_MISSING || ty == RT_NULL)) {
		e->stats.no_value++;
		return NO_ITEM;
	}
	if (r->kind->numeric) {
		if (ty == RT_STRING) {
			if (rec_number(f->v.s, f->v.slen, &n) == RT_MISSING) {
				e->stats.bad_value++;
				return NO_ITEM;
			}
		} else if (ty != RT_INT && ty != RT_REAL) {
			e->stats.bad_value++;
			return NO_ITEM;
		}
	}
	it = item_new(e, &idx);
	it->t = t;
	it->seq = e->seq++;
	it->rule = ri;
	it->cond = r->when != NULL && (e->cslot[ri] != NOSLOT ?
	    expr_test_one(r->when, rec, &look_up(e, rec, e->cslot[ri])->v) : expr_test(r->when, rec));
	item_fill(e, it, r, bys, rec, f);
	it->hasval = f != NULL && ty != RT_MISSING;
	it->num = !it->hasval || !r->kind->numeric ? 0 : ty == RT_STRING ? n.d : f->v.d;
	return idx;
}

int
rl_input(struct rl_engine *e, size_t rule, int64_t t, const struct rl_input *in)
{
	const struct rl_rule *r = &e->set->rules[rule];
	struct item *it;
	size_t idx;

	if (t < e->T) {
		e->stats.late++;
		return RL_LATE;
	}
	if (r->kind->needs_value && !in->hasval) {
		e->stats.no_value++;
		return RL_OK;
	}
	it = item_new(e, &idx);
	it->t = t;
	it->seq = e->seq++;
	item_rule(it, (uint32_t)rule);
	it->cond = in->cond;
	buf_add(&it->b, in->key, in->keylen);
	it->keylen = it->b.len;
	it->hasval = in->hasval;
	it->num = in->num;
	if (in->hasval)
		buf_add(&it->b, in->value, in->valuelen);
	hold(e, idx);
	e->nheld++;
	if (t > e->maxt)
		e->maxt = t;
	raise_to(e, sat_add(e->maxt, -e->lateness));
	return RL_OK;
}

int
rl_record(struct rl_engine *e, struct rec *rec, int64_t t)
{
	size_t head = NO_ITEM, tail = NO_ITEM, idx;
	uint32_t ri;

	e->stats.records++;
	if (t < e->T) {
		e->stats.late++;
		return RL_LATE;
	}
	e->gen++;
	buf_reset(&e->cb);
	/* The record's items are held as one: the first, the others following it in rule order. */
	for (ri = 0; ri < e->set->n; ri++) {
		if ((idx = eval_rule(e, ri, rec, t)) == NO_ITEM)
			continue;
		if (head == NO_ITEM)
			head = idx;
		else
			e->items[tail].next = idx;
		tail = idx;
		e->nheld++;
	}
	if (head != NO_ITEM)
		hold(e, head);
	if (t > e->maxt)
		e->maxt = t;
	raise_to(e, sat_add(e->maxt, -e->lateness));
	return RL_OK;
}

void
rl_watermark(struct rl_engine *e, int64_t wm)
{
	if (wm > e->wm)
		e->wm = wm;
	if (wm == TV_MAX) {
		e->T = TV_MAX;
		advance(e, TV_MAX, TV_MAX, true);
		return;
	}
	raise_to(e, wm);
}

void
rl_finish(struct rl_engine *e)
{
	advance(e, TV_MAX, e->maxt, e->maxt != TV_MIN);
	if (e->maxt > e->T)
		e->T = e->maxt;
}

/* ---- saving ---- */

static const char *const state_names[] = { "inactive", "pending", "firing" };

static json_t *
jtime(int64_t t)
{
	return t == TV_MAX || t == TV_MIN ? json_null() : json_integer(t);
}

static int
untime(json_t *v, int64_t *t, int64_t none)
{
	if (v == NULL || json_is_null(v)) {
		*t = none;
		return 0;
	}
	if (!json_is_integer(v))
		return -1;
	*t = json_integer_value(v);
	return 0;
}

/* held_json returns a held item as saved. */
static json_t *
held_json(const struct rl_engine *e, const struct item *it)
{
	json_t *h = json_object();

	json_object_set_new(h, "rule", json_string(e->set->rules[it->rule].name));
	json_object_set_new(h, "t", json_integer(it->t));
	json_object_set_new(h, "seq", json_integer((json_int_t)it->seq));
	json_object_set_new(h, "key", json_stringn(it->b.p + KP, it->keylen - KP));
	json_object_set_new(h, "cond", json_boolean(it->cond));
	if (it->hasval) {
		json_object_set_new(h, "value", json_stringn(it->b.p + it->keylen, it->b.len - it->keylen));
		json_object_set_new(h, "num", json_real(it->num));
	}
	return h;
}

json_t *
rl_save(const struct rl_engine *e)
{
	json_t *o = json_object(), *rules = json_object(), *held = json_array(), *keys = json_array();
	size_t i, idx, *order;
	struct rl_st *st;

	for (i = 0; i < e->set->n; i++)
		json_object_set(rules, e->set->rules[i].name, e->set->rules[i].def);
	json_object_set_new(o, "rules", rules);
	json_object_set_new(o, "T", jtime(e->T));
	json_object_set_new(o, "max", jtime(e->maxt));
	json_object_set_new(o, "wm", jtime(e->wm));
	json_object_set_new(o, "seq", json_integer((json_int_t)e->seq));
	/*
	 * Held items in (t, seq) order: the queue (sorted) and the heap, sorted
	 * together, each followed by the items of its record.
	 */
	order = xmalloc((e->qlen + e->nheap + 1) * sizeof(*order));
	for (i = 0; i < e->qlen; i++)
		order[i] = e->q[(e->qhead + i) & (e->qcap - 1)];
	if (e->nheap > 0)
		memcpy(order + e->qlen, e->heap, e->nheap * sizeof(*order));
	for (i = 1; i < e->qlen + e->nheap; i++) {
		size_t j = i, x = order[i];

		for (; j > 0 && item_before(e, x, order[j - 1]); j--)
			order[j] = order[j - 1];
		order[j] = x;
	}
	for (i = 0; i < e->qlen + e->nheap; i++)
		for (idx = order[i]; idx != NO_ITEM; idx = e->items[idx].next)
			json_array_append_new(held, held_json(e, &e->items[idx]));
	free(order);
	json_object_set_new(o, "held", held);
	for (st = ks_first(e->ks); st != NULL; st = ks_next(e->ks, st)) {
		const struct rl_rule *r = rule_of(e, st, NULL);
		json_t *k = json_object(), *ks = json_object();
		size_t len;
		const char *key = ks_key(st, &len);

		json_object_set_new(k, "rule", json_string(r->name));
		json_object_set_new(k, "key", json_stringn(key + 4, len - 4));
		json_object_set_new(k, "state", json_string(state_names[st->state]));
		json_object_set_new(k, "cond", json_boolean(st->cond));
		json_object_set_new(k, "since", json_integer(st->since));
		json_object_set_new(k, "for_due", jtime(st->for_due));
		json_object_set_new(k, "keep_due", jtime(st->keep_due));
		json_object_set_new(k, "gc_due", jtime(st->gc_due));
		if (st->has_fired)
			json_object_set_new(k, "last_fire", json_integer(st->last_fire));
		json_object_set_new(k, "suppressed", json_boolean(st->suppressed));
		if (st->val != NULL)
			json_object_set_new(k, "value", json_stringn(st->val, st->vallen));
		r->kind->save(r, st, ks);
		json_object_set_new(k, "kind", ks);
		json_array_append_new(keys, k);
	}
	json_object_set_new(o, "keys", keys);
	return o;
}

static int
find_rule(const struct rl_engine *e, json_t *name, uint32_t *ri)
{
	size_t i;

	if (!json_is_string(name))
		return -1;
	for (i = 0; i < e->set->n; i++)
		if (strcmp(e->set->rules[i].name, json_string_value(name)) == 0) {
			*ri = (uint32_t)i;
			return 0;
		}
	return -1;
}

static int
load_held(struct rl_engine *e, json_t *h)
{
	json_t *key = json_object_get(h, "key"), *val = json_object_get(h, "value");
	json_int_t t, seq;
	int cond;
	uint32_t ri;
	struct item *it;
	size_t idx;

	if (find_rule(e, json_object_get(h, "rule"), &ri) == -1 || !json_is_string(key) ||
	    json_unpack(h, "{s:I,s:I,s:b}", "t", &t, "seq", &seq, "cond", &cond) == -1)
		return -1;
	it = item_new(e, &idx);
	it->t = t;
	it->seq = (uint64_t)seq;
	item_rule(it, ri);
	it->cond = cond;
	buf_add(&it->b, json_string_value(key), json_string_length(key));
	it->keylen = it->b.len;
	it->hasval = val != NULL;
	it->num = 0;
	if (val != NULL) {
		if (!json_is_string(val) || json_unpack(h, "{s:F}", "num", &it->num) == -1) {
			e->freel[e->nfree++] = idx;
			return -1;
		}
		buf_add(&it->b, json_string_value(val), json_string_length(val));
	}
	hold(e, idx);
	e->nheld++;
	return 0;
}

static int
load_key(struct rl_engine *e, json_t *k)
{
	json_t *key = json_object_get(k, "key"), *sn = json_object_get(k, "state"), *v;
	const struct rl_rule *r;
	struct rl_st *st;
	uint32_t ri;
	json_int_t since;
	int cond, supp, s;
	int64_t due;

	if (find_rule(e, json_object_get(k, "rule"), &ri) == -1 || !json_is_string(key) || !json_is_string(sn) ||
	    json_unpack(k, "{s:b,s:I,s:b}", "cond", &cond, "since", &since, "suppressed", &supp) == -1)
		return -1;
	for (s = 0; s < 3 && strcmp(state_names[s], json_string_value(sn)) != 0; s++)
		;
	if (s == 3)
		return -1;
	r = &e->set->rules[ri];
	make_key(e, ri, json_string_value(key), json_string_length(key));
	st = state_get(e, ri, e->kb.p, e->kb.len);
	st->state = (uint8_t)s;
	st->cond = cond;
	st->since = since;
	st->suppressed = supp;
	if (untime(json_object_get(k, "for_due"), &st->for_due, TV_MAX) == -1 ||
	    untime(json_object_get(k, "keep_due"), &st->keep_due, TV_MAX) == -1 ||
	    untime(json_object_get(k, "gc_due"), &st->gc_due, TV_MAX) == -1)
		return -1;
	if ((v = json_object_get(k, "last_fire")) != NULL) {
		if (!json_is_integer(v))
			return -1;
		st->has_fired = true;
		st->last_fire = json_integer_value(v);
	}
	if ((v = json_object_get(k, "value")) != NULL) {
		if (!json_is_string(v))
			return -1;
		set_val(st, json_string_value(v), json_string_length(v));
	}
	v = json_object_get(k, "kind");
	if (!json_is_object(v) || r->kind->load(r, st, v) == -1)
		return -1;
	st->kind_due = r->kind->due(r, st);
	due = st->kind_due;
	if (st->for_due < due) due = st->for_due;
	if (st->keep_due < due) due = st->keep_due;
	if (st->gc_due < due) due = st->gc_due;
	if (due != TV_MAX)
		ks_timer_set(e->ks, st, due);
	return 0;
}

int
rl_load(struct rl_engine *e, json_t *o, char *why, size_t whylen)
{
	json_t *rules = json_object_get(o, "rules"), *a, *v, *def;
	const char *name;
	size_t i;
	json_int_t seq;
	char what[64] = "";

	if (!json_is_object(o) || !json_is_object(rules))
		return why_fail(why, whylen, "malformed state: no rules");
	json_object_foreach(rules, name, def) {
		for (i = 0; i < e->set->n && strcmp(e->set->rules[i].name, name) != 0; i++)
			;
		if (i == e->set->n)
			return why_fail(why, whylen, "the state has rule '%s', which is not among the rules", name);
		if (!json_equal(def, e->set->rules[i].def))
			return why_fail(why, whylen, "rule '%s' is not defined the same way as when the state was saved", name);
	}
	if (untime(json_object_get(o, "T"), &e->T, TV_MIN) == -1 ||
	    untime(json_object_get(o, "max"), &e->maxt, TV_MIN) == -1 ||
	    untime(json_object_get(o, "wm"), &e->wm, TV_MIN) == -1 ||
	    json_unpack(o, "{s:I}", "seq", &seq) == -1)
		goto bad;
	e->seq = (uint64_t)seq;
	a = json_object_get(o, "held");
	if (!json_is_array(a))
		goto bad;
	json_array_foreach(a, i, v)
		if (load_held(e, v) == -1) {
			snprintf(what, sizeof(what), "held record %zu", i + 1);
			goto bad;
		}
	a = json_object_get(o, "keys");
	if (!json_is_array(a))
		goto bad;
	json_array_foreach(a, i, v)
		if (load_key(e, v) == -1) {
			snprintf(what, sizeof(what), "key %zu", i + 1);
			goto bad;
		}
	return 0;
bad:
	e->freeing = true;
	ks_free(e->ks);
	e->freeing = false;
	e->fqbase = 0;
	e->fqlen = 0;
	e->ks = ks_new(sizeof(struct rl_st), e->max_keys, st_drop, e);
	items_clear(e);
	e->T = e->maxt = e->wm = TV_MIN;
	e->seq = 0;
	return what[0] ? why_fail(why, whylen, "malformed state: %s", what) : why_fail(why, whylen, "malformed state");
}

/* ---- notices ---- */

/* add_plain appends a JSON text as plain text: a string's contents, anything else as written. */
static void
add_plain(struct buf *out, const char *json, size_t len)
{
	json_t *v;

	if (len > 0 && json[0] == '"' && (v = json_loadb(json, len, JSON_DECODE_ANY, NULL)) != NULL) {
		if (json_is_string(v))
			buf_add(out, json_string_value(v), json_string_length(v));
		json_decref(v);
		return;
	}
	buf_add(out, json, len);
}

/* key_part finds the i-th --by value of a notice's key. */
static const char *
key_part(const struct rl_notice *n, size_t i, size_t *len)
{
	const char *p = n->key, *end = n->key + n->keylen, *q;

	for (;;) {
		q = memchr(p, '\x1f', (size_t)(end - p));
		if (q == NULL)
			q = end;
		if (i == 0) {
			*len = (size_t)(q - p);
			return p;
		}
		if (q == end)
			return NULL;
		p = q + 1;
		i--;
	}
}

static void
add_real_text(struct buf *out, double d)
{
	char s[64];

	buf_add(out, s, real_shortest(s, d));
}

/* member_text appends notice member name (or --by field) as plain text; unknown or absent members add nothing. */
static void
member_text(const struct rl_rule *r, const struct rl_notice *n, const char *name, size_t len, struct buf *out)
{
	char t[TV_BUFSZ];
	const char *p;
	size_t i, plen;

#define IS(s) (len == strlen(s) && memcmp(name, s, len) == 0)
	for (i = 0; i < r->nby; i++)
		if (strlen(r->byname[i]) == len && memcmp(r->byname[i], name, len) == 0) {
			if ((p = key_part(n, i, &plen)) != NULL)
				add_plain(out, p, plen);
			return;
		}
	if (IS("alert"))
		buf_adds(out, r->name);
	else if (IS("state"))
		buf_adds(out, n->firing ? "firing" : "resolved");
	else if (IS("at"))
		buf_add(out, t, tv_format_rfc3339(n->at, t));
	else if (IS("since"))
		buf_add(out, t, tv_format_rfc3339(n->since, t));
	else if (IS("severity") && r->severity != NULL)
		buf_adds(out, r->severity);
	else if (IS("value") && (n->has & RL_EV_VALUE))
		add_plain(out, n->value, n->valuelen);
	else if (IS("count") && (n->has & RL_EV_COUNT))
		jw_uint(out, n->count);
	else if (IS("previous") && (n->has & RL_EV_PREVIOUS))
		jw_uint(out, n->previous);
	else if (IS("ratio") && (n->has & RL_EV_RATIO)) {
		if (isinf(n->ratio))
			buf_adds(out, "inf");
		else
			add_real_text(out, n->ratio);
	} else if (IS("z") && (n->has & RL_EV_Z))
		add_real_text(out, n->z);
	else if (IS("mean") && (n->has & RL_EV_STATS))
		add_real_text(out, n->mean);
	else if (IS("sd") && (n->has & RL_EV_STATS))
		add_real_text(out, n->sd);
	else if (IS("last_seen") && (n->has & RL_EV_LAST))
		buf_add(out, t, tv_format_rfc3339(n->last, t));
#undef IS
}

/*
 * expand_summary appends the rule's summary with placeholders filled.
 * {{value}} is the notice's main evidence: its value, else its ratio,
 * else its count, else the last time seen.
 */
static void
expand_summary(const struct rl_rule *r, const struct rl_notice *n, struct buf *out)
{
	const char *p = r->summary, *q, *b, *e;

	while ((q = strstr(p, "{{")) != NULL && strstr(q + 2, "}}") != NULL) {
		buf_add(out, p, (size_t)(q - p));
		for (b = q + 2; *b == ' '; b++)
			;
		e = strstr(q + 2, "}}");
		p = e + 2;
		while (e > b && e[-1] == ' ')
			e--;
		if (*b == '.')
			member_text(r, n, b + 1, (size_t)(e - b - 1), out);
		else if (n->has & RL_EV_VALUE)
			member_text(r, n, "value", 5, out);
		else if (n->has & RL_EV_RATIO)
			member_text(r, n, "ratio", 5, out);
		else if (n->has & RL_EV_COUNT)
			member_text(r, n, "count", 5, out);
		else
			member_text(r, n, "last_seen", 9, out);
	}
	buf_adds(out, p);
}

static void
add_key(struct buf *out, const char *k)
{
	buf_addc(out, ',');
	jw_cstr(out, k);
	buf_addc(out, ':');
}

/* ADD_LIT appends a string literal (a constant member name with its comma and colon). */
#define ADD_LIT(out, lit)	buf_add((out), (lit), sizeof(lit) - 1)

/* add_uint appends v in decimal (jw_uint's text, without its snprintf). */
static void
add_uint(struct buf *out, uint64_t v)
{
	char t[20], *p = t + sizeof(t);

	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	buf_add(out, p, (size_t)(t + sizeof(t) - p));
}

/* add_time appends an RFC 3339 time as a JSON string (jw_time's text) and keeps its text in tc, so a second time equal to it is copied. */
struct tcache {
	int64_t	 t;
	size_t	 len;
	char	 s[TV_BUFSZ];
};

static void
add_time(struct buf *out, int64_t t, struct tcache *tc)
{
	if (tc->len == 0 || tc->t != t) {
		tc->t = t;
		tc->len = tv_format_rfc3339(t, tc->s);
	}
	buf_reserve(out, tc->len + 2);
	out->p[out->len++] = '"';
	memcpy(out->p + out->len, tc->s, tc->len);
	out->len += tc->len;
	out->p[out->len++] = '"';
}

void
rl_notice_json(const struct rl_set *s, const struct rl_notice *n, struct buf *out)
{
	const struct rl_rule *r = &s->rules[n->rule];
	struct buf sum = BUF_INIT;
	const char *p;
	size_t i, len;

	struct tcache tc = { .len = 0 };

	ADD_LIT(out, "{\"alert\":");
	jw_cstr(out, r->name);
	if (n->firing)
		ADD_LIT(out, ",\"state\":\"firing\",\"at\":");
	else
		ADD_LIT(out, ",\"state\":\"resolved\",\"at\":");
	add_time(out, n->at, &tc);
	ADD_LIT(out, ",\"since\":");
	add_time(out, n->since, &tc);
	for (i = 0; i < r->nby; i++)
		if ((p = key_part(n, i, &len)) != NULL) {
			add_key(out, r->byname[i]);
			buf_add(out, p, len);
		}
	if (n->has & RL_EV_VALUE) {
		ADD_LIT(out, ",\"value\":");
		buf_add(out, n->value, n->valuelen);
	}
	if (n->has & RL_EV_COUNT) {
		ADD_LIT(out, ",\"count\":");
		add_uint(out, n->count);
	}
	if (n->has & RL_EV_PREVIOUS) {
		ADD_LIT(out, ",\"previous\":");
		add_uint(out, n->previous);
	}
	if (n->has & RL_EV_RATIO) {
		ADD_LIT(out, ",\"ratio\":");
		jw_real(out, n->ratio);
	}
	if (n->has & RL_EV_Z) {
		ADD_LIT(out, ",\"z\":");
		jw_real(out, n->z);
	}
	if (n->has & RL_EV_STATS) {
		ADD_LIT(out, ",\"mean\":");
		jw_real(out, n->mean);
		ADD_LIT(out, ",\"sd\":");
		jw_real(out, n->sd);
	}
	if (n->has & RL_EV_LAST) {
		ADD_LIT(out, ",\"last_seen\":");
		add_time(out, n->last, &tc);
	}
	if (r->severity != NULL) {
		ADD_LIT(out, ",\"severity\":");
		jw_cstr(out, r->severity);
	}
	if (r->nlabels > 0) {
		ADD_LIT(out, ",\"labels\":");
		buf_addc(out, '{');
		for (i = 0; i < r->nlabels; i++) {
			if (i > 0)
				buf_addc(out, ',');
			jw_cstr(out, r->lkey[i]);
			buf_addc(out, ':');
			jw_cstr(out, r->lval[i]);
		}
		buf_addc(out, '}');
	}
	if (r->summary != NULL) {
		expand_summary(r, n, &sum);
		ADD_LIT(out, ",\"summary\":");
		jw_str(out, sum.p != NULL ? sum.p : "", sum.len);
	}
	buf_addc(out, '}');
	buf_free(&sum);
}

void
rl_notice_alertmanager(const struct rl_set *s, const struct rl_notice *n, struct buf *out)
{
	const struct rl_rule *r = &s->rules[n->rule];
	struct buf v = BUF_INIT;
	const char *p;
	size_t i, len;

	buf_adds(out, "[{\"labels\":{\"alertname\":");
	jw_cstr(out, r->name);
	for (i = 0; i < r->nby; i++)
		if ((p = key_part(n, i, &len)) != NULL) {
			add_key(out, r->byname[i]);
			buf_reset(&v);
			add_plain(&v, p, len);
			jw_str(out, v.p != NULL ? v.p : "", v.len);
		}
	if (r->severity != NULL) {
		add_key(out, "severity");
		jw_cstr(out, r->severity);
	}
	for (i = 0; i < r->nlabels; i++) {
		add_key(out, r->lkey[i]);
		jw_cstr(out, r->lval[i]);
	}
	buf_adds(out, "},\"annotations\":{");
	if (r->summary != NULL) {
		buf_reset(&v);
		expand_summary(r, n, &v);
		buf_adds(out, "\"summary\":");
		jw_str(out, v.p != NULL ? v.p : "", v.len);
	}
	buf_adds(out, "},\"startsAt\":");
	jw_time(out, n->since);
	if (!n->firing) {
		buf_adds(out, ",\"endsAt\":");
		jw_time(out, n->at);
	}
	buf_adds(out, "}]");
	buf_free(&v);
}
