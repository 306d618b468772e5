/* groups: a group table as an instance — groups by key, one aggregate block each, creation order, and the @agg_state codec. */
#ifndef NDFLOW_GROUPS_H
#define NDFLOW_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
 * gr_load reads it back (merging into the group of that key), so states
 * written by aggregate --partial and by this module are interchangeable.
 */

/* The header of a group; the aggregate block follows it (gr_block). */
struct gr_group {
	uint64_t	seq;		/* creation order, from 0 */
	int64_t		wend;		/* the caller's: a window's end, or INT64_MAX */
	bool		closed;		/* the caller's: emitted and waiting to be deleted */
	size_t		slot;		/* the table's: its place in the creation order */
};

struct groups;

/*
 * gr_new makes an empty table over aggs (finished with aggs_finish) with
 * ncols group columns named names[] (copied).  Aborts on allocation
 * failure only.
 */
struct groups	*gr_new(const struct aggs *aggs, const char *const *names, size_t ncols);
/* gr_free frees every group's aggregate state and the table.  NULL is allowed. */
void		 gr_free(struct groups *);

/* gr_key_reset empties a key; gr_key_add appends one group value's JSON text (len 0: absent). */
void	gr_key_reset(struct buf *key);
void	gr_key_add(struct buf *key, const char *json, size_t len);

/*
 * gr_get returns the group of key, creating it (with an initialised
 * block, wend INT64_MAX) when absent; *created (if not NULL) says which.
 * The pointer stays valid until the group is deleted or the table freed.
 */
struct gr_group	*gr_get(struct groups *, const void *key, size_t len, bool *created);
/* gr_find returns the group of key, or NULL. */
struct gr_group	*gr_find(const struct groups *, const void *key, size_t len);
/* gr_del frees a group's aggregate state and removes it. */
void		 gr_del(struct groups *, struct gr_group *);
/* gr_count returns the number of groups. */
size_t		 gr_count(const struct groups *);

/* gr_block returns a group's aggregate block (aggs->size bytes), for aggs_update and aggs_result. */
void	*gr_block(struct gr_group *);

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

/*
 * gr_load merges one @agg_state line (len bytes, no newline needed; the
 * bytes are borrowed for the call) into the group it names, creating it.
 * Returns 0, or -1 with an English reason in why, the table unchanged:
 *   not an aggregate state record
 *   unsupported aggregate state version V
 *   state record groups by 'a,b', this table by 'c'
 *   state record has aggregates 'x y', this table 'count'
 *   state record was made with --approx, this table is without it
 *   malformed aggregate state record
 * When g is not NULL it gets the group merged into.
 */
int	gr_load(struct groups *, const char *line, size_t len, struct gr_group **g,
	    char *why, size_t whysz);

#endif
