/* groups: a group table as an instance — groups by key, one aggregate block each, creation order, and the @agg_state codec. */
#ifndef NDFLOW_GROUPS_H
#define NDFLOW_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "agg.h"
#include "buf.h"

/*
 * A group table holds groups of one aggregate set (struct aggs, borrowed:
 * it must outlive the table).  A group is named by the JSON texts of its
 * group values, one per group column given to gr_new; a value may be
 * absent (an empty text), so that one table can hold windowed groups
 * (window_start, window_end, then the keys) beside batch groups (the keys
 * alone), as aggregate does.  Many tables live in one process: nothing
 * here is static.
 *
 * The key of a group is its values' texts, each followed by a NUL byte
 * (JSON text never holds one): build it with gr_key_reset and gr_key_add
 * into a buffer the caller owns and reuses, so a record costs no
 * allocation once its group exists.
 *
 * The state codec is aggregate --partial's record, one line per group:
 *   {"@agg_state":1,"group":{NAME:VALUE,...},"specs":["count",...],
 *    "approx":true (only when so),"states":[...],"invalid":[...]}
 * gr_save writes it and gr_load reads it back (merging into the group of
 * that key): this is the one codec of the format, for aggregate
 * (--partial, --merge, --state) and batch-report's workers alike.
 */

/*
 * The header of a group; the aggregate block follows it (gr_block), then
 * the caller's payload (gr_payload), when the table has one.
 */
struct gr_group {
	uint64_t	seq;		/* creation order, from 0, never reused by the table */
	int64_t		wend;		/* a window's end (windowed tables: from window_end), or INT64_MAX */
	size_t		slot;		/* the table's: its place in the creation order */
	bool		aliased;	/* the table's: its key (first spelling) is not its canonical key */
};

struct groups;

/* What a table is beyond its aggregates and columns (gr_new_opts). */
struct gr_opts {
	/* Bytes of caller data per group (gr_payload), zeroed when the group is made. */
	size_t		 payload;
	/*
	 * The first two columns are window_start and window_end, both present
	 * or both absent (aggregate's groups of windows and of no window);
	 * gr_load sets wend from window_end, a time in ISO 8601.
	 */
	bool		 windowed;
	/* The group-by as the user wrote it, for gr_load's messages; NULL: the column names with ','. */
	const char	*by;
};

/*
 * gr_new makes an empty table over aggs (finished with aggs_finish) with
 * ncols group columns named names[] (copied).  Aborts on allocation
 * failure only.  gr_new_opts is gr_new with options (NULL: none).
 */
struct groups	*gr_new(const struct aggs *aggs, const char *const *names, size_t ncols);
struct groups	*gr_new_opts(const struct aggs *aggs, const char *const *names, size_t ncols,
		    const struct gr_opts *);
/* gr_free frees every group's aggregate state and the table.  NULL is allowed. */
void		 gr_free(struct groups *);

/* gr_key_reset empties a key; gr_key_add appends one group value's JSON text (len 0: absent). */
static inline void
gr_key_reset(struct buf *key)
{
	key->len = 0;
}

static inline void
gr_key_add(struct buf *key, const char *json, size_t len)
{
	if (key->cap - key->len <= len + 1)
		buf_reserve(key, len + 1);
	if (len)
		memcpy(key->p + key->len, json, len);
	key->p[key->len + len] = '\0';
	key->len += len + 1;
}

/*
 * gr_get returns the group of key, creating it (with an initialised
 * block, wend INT64_MAX) when absent; *created (if not NULL) says which.
 * The pointer stays valid until the group is deleted or the table freed.
 * Group values are compared as JSON values (agg.h, "Equal values"): a
 * group is keyed by its first spelling, which gr_value and gr_save give,
 * and a first spelling that is not canonical also gets an alias by its
 * canonical key, through which other spellings find it.  A key seen
 * before costs one lookup, as with bytes; only a key not seen before is
 * looked at further.
 */
struct gr_group	*gr_get(struct groups *, const void *key, size_t len, bool *created);
/* gr_find returns the group of key (compared as gr_get does), or NULL. */
struct gr_group	*gr_find(struct groups *, const void *key, size_t len);
/*
 * gr_canon_key returns a group's canonical key: equal for groups of equal
 * values, the same in every run.  The bytes are the table's, valid until
 * the next call on it.
 */
const void	*gr_canon_key(struct groups *, const struct gr_group *, size_t *len);
/*
 * gr_del frees a group's aggregate state and removes it.  The creation
 * order drops its deleted slots once they are half of it, so a table
 * that makes and deletes groups forever stays the size of what it holds.
 */
void		 gr_del(struct groups *, struct gr_group *);
/* gr_count returns the number of groups. */
size_t		 gr_count(const struct groups *);

/* GR_HDR is the bytes of a group's header: its aggregate block follows. */
#define GR_HDR		((sizeof(struct gr_group) + 15) & ~(size_t)15)

/* gr_block returns a group's aggregate block (aggs->size bytes), for aggs_update and aggs_result. */
static inline void *
gr_block(struct gr_group *g)
{
	return (char *)g + GR_HDR;
}

/*
 * gr_payload returns a group's caller data (gr_opts.payload bytes, 16-byte
 * aligned); it is gr_payload_off(t) bytes from the group, the same for
 * every group of a table, so a caller may keep the offset.
 */
void	*gr_payload(const struct groups *, const struct gr_group *);
size_t	 gr_payload_off(const struct groups *);

/*
 * gr_value returns the JSON text of group column i of g in *json and its
 * length (0 when the value is absent).  The text is the table's.
 */
size_t	gr_value(const struct gr_group *, size_t i, const char **json);

/*
 * gr_list returns the groups in creation order: an array of gr_count()
 * pointers owned by the table, valid until the next gr_get, gr_del or
 * gr_list.
 */
struct gr_group	**gr_list(struct groups *, size_t *n);

/*
 * gr_update folds one record's values (vals[i] for aggs->fields[i]) into
 * g.  Returns aggs_update's result: the first invalid field, or -1.
 */
int	gr_update(struct groups *, struct gr_group *, const struct rec_val *vals);

/* gr_save appends g's @agg_state line, newline included, to out. */
void	gr_save(const struct groups *, struct gr_group *, struct buf *out);

/* gr_load's failures: a damaged state, or one made by a run set up otherwise (a usage matter). */
#define GR_DAMAGED	(-1)
#define GR_OTHER	(-2)

/*
 * gr_load merges one @agg_state line (len bytes, no newline needed; the
 * bytes are borrowed for the call) into the group it names, creating it.
 * Returns 0, or GR_DAMAGED or GR_OTHER with an English reason in why,
 * the table unchanged.  GR_DAMAGED:
 *   not an aggregate state record
 *   unsupported aggregate state version V
 *   malformed aggregate state record
 * GR_OTHER (the state is sound, but not of this run's kind):
 *   state record was made with --approx, this run is without it
 *   state record groups by 'a,b', this run by 'c'
 *   state record has aggregates 'x y', this run 'count=count'
 * The checks run in that order: version, members, --approx, group, specs,
 * states.  When g is not NULL it gets the group merged into.  gr_load_rec
 * is gr_load of a line the caller has parsed already (rec's last line);
 * *created (if not NULL) says whether the group was made.
 */
int	gr_load(struct groups *, const char *line, size_t len, struct gr_group **g,
	    char *why, size_t whysz);
int	gr_load_rec(struct groups *, struct rec *rec, struct gr_group **g, bool *created,
	    char *why, size_t whysz);

/*
 * Past memory: a table's groups written out as sorted runs and merged
 * back.  gr_spill writes the groups pick() chooses as one run, in order
 * of canonical key, each as its @agg_state line (gr_save) with its
 * creation number, and deletes them from the table.  A run is a temporary
 * file in $TMPDIR (or /tmp), unlinked as soon as it is made: it is gone
 * when the process ends, however it ends.  Runs past 64 are merged into
 * one as they come, so a few files stay open.
 *
 * gr_runs_merge merges every run: the parts of one group (equal
 * canonical keys, in the order they were spilled, so a first spelling or
 * a first value stays first) are loaded into t, an empty table like the
 * spilled one, then put back in creation order (sorted in memory up to
 * mem bytes, through more runs past that), and each is given to
 * emit(t, g, line, len, arg) with its merged @agg_state line, then
 * deleted.  Returns 0, or -1 with a reason in why (a read or write
 * error, a run damaged under us).
 */
struct gr_runs;

struct gr_runs	*gr_runs_new(void);
void		 gr_runs_free(struct gr_runs *);
/* gr_runs_count returns the number of runs written so far (merges included). */
uint64_t	 gr_runs_count(const struct gr_runs *);
int		 gr_spill(struct groups *, struct gr_runs *,
		    bool (*pick)(const struct gr_group *, void *), void *arg, char *why, size_t whysz);
int		 gr_runs_merge(struct gr_runs *, struct groups *t, size_t mem,
		    void (*emit)(struct groups *, struct gr_group *, const char *line, size_t len, void *),
		    void *arg, char *why, size_t whysz);

#endif
