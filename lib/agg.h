/* agg: the aggregate functions as one table, and the per-group state of a list of aggregate specs. */
#ifndef NDFLOW_AGG_H
#define NDFLOW_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "record.h"

/*
 * A spec is FUNC[:FIELD][=NAME]: "count", "sum:value", "p99.9:latency=slow",
 * "top5:page".  The functions live in one table (agg.c, agg_funcs[]): each
 * row has a name, flags and the lifecycle init -> update -> merge ->
 * result -> save/load -> free.  Adding a function is adding a row.
 *
 * The states of all specs of one group live in one block of memory of
 * aggs->size bytes (the tool keeps it in its group table).  Specs whose
 * functions keep the same kind of state over the same field share it:
 * sum and mean share one compensated sum, var and stddev one state of
 * exact sums of x and x^2, median and every pN one sorted-values store, mode, distinct and
 * topN one table of counts.
 */

/*
 * Equal values.  Values are compared as JSON values, as dedupe does: 1,
 * 1.0 and 1e0 are one value, "ab" and "a\u0062" are one value, objects
 * whatever the order of their members.  A value's canonical key is the
 * bytes two values share exactly when they are equal: lib/record's
 * canonical JSON (rec_val_canon), except that a number that is not an
 * integer is keyed by its double's bits ("#" and 16 hex digits), which is
 * the same equality without the cost of printing it shortest.  Most
 * values are their own key (a string without a backslash, an integer,
 * true, false, null): agg_canon_fast and agg_canon_text_fast say so
 * without looking further, and such values cost nothing.
 */
struct agg_canon {
	struct rec	*rec;	/* parses a value that needs it, made when first needed */
	struct buf	 wrap;	/* that value inside an object, for rec_parse */
	struct buf	 key;	/* a canonical key, the caller's to use between calls */
};

/* agg_canon_fast reports whether a present value (not RT_MISSING) is its own canonical key. */
static inline bool
agg_canon_fast(const struct rec_val *v)
{
	switch (v->type) {
	case RT_STRING:
		return v->slen + 2 == v->rawlen;	/* no escape in it */
	case RT_INT:
		return !(v->rawlen == 2 && v->raw[0] == '-');	/* -0 is 0 */
	case RT_NULL:
	case RT_BOOL:
		return true;
	default:
		return false;
	}
}

/* agg_canon_text_fast is agg_canon_fast for a value's JSON text alone (n > 0). */
bool	agg_canon_text_fast(const char *p, size_t n);
/* agg_canon_val appends the canonical key of a present value to out. */
void	agg_canon_val(struct agg_canon *, const struct rec_val *, struct buf *out);
/* agg_canon_text appends the canonical key of a value given as its JSON text (one valid value). */
void	agg_canon_text(struct agg_canon *, const char *p, size_t n, struct buf *out);
/* agg_canon_free frees what a scratch holds (it may be used again). */
void	agg_canon_free(struct agg_canon *);

/* What a function's update sees: the value's JSON bytes and, for numeric functions, the number. */
struct agg_val {
	const char	*raw;	/* the value's JSON text */
	size_t		 rawlen;
	bool		 isint;	/* numeric: an integer that fits int64 */
	int64_t		 i;	/* numeric, isint */
	double		 d;	/* numeric: the value as a double (always set) */
	const struct rec_val	*val;	/* non-numeric: the value itself */
	struct agg_canon	*canon;	/* non-numeric: scratch for its canonical key */
};

struct agg_spec;

/* Row flags. */
#define AGG_NUMERIC	0x01	/* takes numbers; other values are invalid */
#define AGG_FIELD	0x02	/* needs a field */
#define AGG_OPTFIELD	0x04	/* a field is optional (count) */
#define AGG_PCT		0x08	/* the name is followed by a percentage: p99.9 */
#define AGG_NUM		0x10	/* the name is followed by a positive integer: top5 */
#define AGG_SHARE	0x20	/* specs with the same state kind and field share one state */
#define AGG_HIDDEN	0x40	/* not selectable by name (an --approx variant) */

/* What a result function returns when its value overflowed the double range. */
#define AGG_OVERFLOW	1

struct agg_func {
	const char	*name;
	unsigned	 flags;
	size_t		 size;	/* bytes of state */
	/* kind names the state layout; specs share a state only when kinds are equal. */
	const char	*kind;
	void	(*init)(void *st);
	void	(*update)(void *st, const struct agg_val *);
	/* merge folds src into dst; src is left valid (free it separately). */
	void	(*merge)(void *dst, const void *src);
	/*
	 * result appends the JSON value of the result; may reorder the state
	 * (sorting) but not change it.  Returns 0, or AGG_OVERFLOW when the
	 * result is past the double range and null was written instead.
	 */
	int	(*result)(void *st, const struct agg_spec *, struct buf *out);
	/* save appends the state as one JSON value; load reads it back (0, or -1 when malformed). */
	void	(*save)(const void *st, struct buf *out);
	int	(*load)(void *st, json_t *);
	void	(*free)(void *st);
	const char	*approx;	/* the row --approx uses instead, or NULL */
	double		 param;		/* the parameter when the name has none (median: 0.5) */
};

struct agg_spec {
	const struct agg_func	*fn;
	char		*text;		/* canonical form FUNC[:FIELD]=NAME, for --partial/--merge */
	char		*func;		/* the function as written: "p99.9", "top5", "sum" */
	char		*field;		/* the field path as written, or NULL */
	char		*name;		/* the output name */
	double		 param;		/* AGG_PCT: the fraction 0..1; AGG_NUM: N */
	uint64_t	 pnum, pden;	/* AGG_PCT and median: the fraction exactly, pnum/pden (pden 0: use param) */
	int		 fidx;		/* index into aggs->fields, or -1 */
	size_t		 off;		/* the offset of its state in a group's block */
	bool		 owner;		/* this spec owns the (possibly shared) state at off */
};

struct aggs {
	struct agg_spec	*specs;
	size_t		 nspecs;
	char		**fields;	/* distinct field paths used by the specs, in first-use order */
	size_t		 nfields;
	bool		*numeric;	/* per field: some spec takes it as a number */
	char		**invalid_name;	/* per field: "FIELD_invalid" */
	size_t		 inv_off;	/* offset of the per-field uint64 invalid counters */
	size_t		 size;		/* bytes of one group's block */
	bool		 approx;
	bool		 done;
	unsigned char	*ustate;	/* aggs_update's scratch, one per field */
	struct agg_val	*unum;
	struct agg_canon *canon;	/* aggs_update's scratch for canonical keys */
};

/* aggs_init prepares an empty spec list. */
void	aggs_init(struct aggs *);

/*
 * aggs_add parses one spec and appends it.  Returns 0, or -1 with an
 * English reason in why (the caller adds the program name):
 *   missing function in spec ':v'
 *   unknown function 'x' in spec 'x:f'
 *   function 'sum' needs a field: 'sum:FIELD'
 *   percentile must be from 0 to 100 in spec 'p101:v'
 *   top needs a whole count from 1 to 1000000 in spec 'top0:v'
 *   empty field in spec 'sum:'
 *   empty name in spec 'sum:v='
 *   bad field 'x[' in spec 'sum:x[': reason
 *   duplicate output name 'v_sum' in spec 'sum:v'
 * A field is everything between the first ':' and the last '=' outside
 * quotes and brackets, so ".\"a=b\"" is a field, not a name.
 */
int	aggs_add(struct aggs *, const char *spec, char *why, size_t whylen);

/* aggs_finish lays out the group block (selecting --approx rows when approx); call once after the last aggs_add. */
void	aggs_finish(struct aggs *, bool approx);
void	aggs_free(struct aggs *);

/* aggs_state_init initialises a group's block (aggs->size bytes, any contents). */
void	aggs_state_init(const struct aggs *, void *block);

/*
 * aggs_update folds one record into a group's block.  vals[i] is the
 * value of aggs->fields[i] in the record.  A missing field or JSON null is
 * skipped (as SQL does with NULL).  For numeric functions, numbers and
 * strings holding a JSON number count as numbers; any other value is
 * counted as invalid for that field and skipped by the numeric functions
 * (the others still see it).  Returns the index of the first field with
 * an invalid value, or -1.
 */
int	aggs_update(const struct aggs *, void *block, const struct rec_val *vals);

/* aggs_merge folds the block src into dst (same aggs). */
void	aggs_merge(const struct aggs *, void *dst, const void *src);

/*
 * aggs_result appends the output columns of a group: one per spec in
 * order, then FIELD_invalid for each field with invalid values.  Returns
 * how many columns overflowed the double range (written as null).
 */
struct agg_cols;
size_t	aggs_result(const struct aggs *, void *block, struct agg_cols *);

/* aggs_save appends the JSON array of the specs' states (null for a shared state's followers), then ",\"invalid\":[...]" is the caller's. */
void	aggs_save(const struct aggs *, const void *block, struct buf *out);
/* aggs_save_invalid appends the JSON array of per-field invalid counts. */
void	aggs_save_invalid(const struct aggs *, const void *block, struct buf *out);
/*
 * aggs_load fills an initialised block from a saved states array and
 * invalid-count array (inv may be NULL).  Returns 0, or -1 when a state
 * is malformed (the block is then still safe to free).
 */
int	aggs_load(const struct aggs *, void *block, json_t *states, json_t *inv);

/*
 * agg_side_set gives the loads of the next aggs_load the packed strings
 * (the bytes after "f64s:") that the caller took out of the states text,
 * leaving "f64s#K" for the K-th; n 0 clears it.  gr_load's.
 */
void	agg_side_set(const char *const *p, const size_t *len, size_t n);

/*
 * agg_states_parse parses a saved states array's JSON text, taking each
 * string "f64s:HEX" (a packed quantile state, megabytes long) out first
 * and leaving "f64s#K" (jansson would read it a byte at a time); the
 * strings go to the next aggs_load through agg_side_set, pointing into
 * p, which must stay until then.  Returns the array (the caller's), or
 * NULL when the text is not JSON.  t holds reused buffers: zero it
 * first, agg_text_free at the end.
 */
struct agg_text {
	struct buf	 b;
	const char	**p;
	size_t		*len, n, cap;
};
json_t	*agg_states_parse(struct agg_text *t, const char *p, size_t len);
void	 agg_text_free(struct agg_text *t);

/*
 * aggs_heap returns about how many bytes of heap a group's block holds
 * beside itself (stored values, tables of counts, sketches): what a
 * group table bounded in memory counts.
 */
size_t	aggs_heap(const struct aggs *, const void *block);

/* aggs_state_free frees what a group's block points to. */
void	aggs_state_free(const struct aggs *, void *block);

/*
 * agg_number reads a value as a number: a JSON number, or a string whose
 * contents are exactly a JSON number.  Returns 1 and fills *out, 0 when
 * the value is not a number, -1 when it is missing or null.
 */
int	agg_number(const struct rec_val *, struct agg_val *out);

/*
 * agg_quantile returns the R type 7 quantile (linear interpolation between
 * order statistics, as numpy's default and datamash's perc) of the n
 * sorted values for p in [0, 1].  n must be > 0.
 */
double	agg_quantile(const double *sorted, size_t n, double p);

/*
 * agg_quantile_frac is agg_quantile for p = num / den exactly (den > 0,
 * num <= den): the rank is computed without rounding, so a decimal
 * percentage gives R's quantile(type = 7) value rounded once.
 */
double	agg_quantile_frac(const double *sorted, size_t n, uint64_t num, uint64_t den);

/*
 * Neumaier-compensated summation: s is the running sum, c the
 * compensation; the sum is s + c.
 */
static inline void
agg_neumaier(double *s, double *c, double x)
{
	double t = *s + x;
	if ((*s >= 0 ? *s : -*s) >= (x >= 0 ? x : -x))
		*c += (*s - t) + x;
	else
		*c += (x - t) + *s;
	*s = t;
}

/*
 * Output columns: names and encoded JSON values, back to back in one
 * buffer.  A tool keeps one and resets it per row.
 */
struct agg_cols {
	struct buf	  b;
	size_t		  n, cap;
	const char	**name;		/* borrowed */
	size_t		 *start;
	size_t		 *len;
};

void	agg_cols_reset(struct agg_cols *);
/* agg_cols_begin starts a column whose value the caller appends to c->b; agg_cols_end closes it. */
void	agg_cols_begin(struct agg_cols *, const char *name);
void	agg_cols_end(struct agg_cols *);
void	agg_cols_add(struct agg_cols *, const char *name, const char *json, size_t len);
void	agg_cols_free(struct agg_cols *);

/* agg_funcs is the table; agg_nfuncs its length. */
extern const struct agg_func	agg_funcs[];
extern const size_t		agg_nfuncs;

#endif
