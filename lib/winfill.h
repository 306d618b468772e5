/* winfill: the windows without events in a stream of closed windows, and the groups each of them lacks (aggregate --fill). */
#ifndef NDFLOW_WINFILL_H
#define NDFLOW_WINFILL_H

#include <stddef.h>
#include <stdint.h>

/*
 * The windows are found from the ones seen: their common length, and
 * the grid their starts lie on.  The step from one window to the next
 * is the window's length when no two windows seen overlap (tumbling
 * windows), and otherwise the greatest common divisor of the distances
 * between window starts (sliding windows: the slide).  Windows of
 * different lengths (sessions, calendar months) cannot be filled.
 *
 * A group (its key: the -g values' JSON text, as the caller builds it)
 * is filled from the first window it was seen in, by start, to the last
 * window written: never before its first event, so the rows written do
 * not depend on when the watermarks came.
 *
 * Use: wf_note for each window group as it is created; then, writing
 * the closed windows in order of end, wf_begin before the first row of
 * a window, wf_present for each group it has a row for, and wf_end
 * after its last row.  wf_begin and wf_end call back once per missing
 * (window, group) pair, in window order, then in the order the groups
 * were first seen.  Memory: one entry per group key; nothing per window.
 */
struct wf;

/* wf_fill_fn is called for a row to fill: the window [start, end) and the group's key (borrowed, valid for the call). */
typedef void	wf_fill_fn(void *ctx, int64_t start, int64_t end, const char *key, size_t keylen);

/* wf_new makes an empty filler; max_gap is the most empty windows one gap may hold (see wf_begin).  Aborts on allocation failure only. */
struct wf	*wf_new(uint64_t max_gap);
void		 wf_free(struct wf *);

/*
 * wf_note records a window [start, end) and a group seen in it.  Returns
 * 0, or -1 with *why pointing to an English reason (owned by the filler,
 * valid until the next call) when the window's length differs from the
 * first window's.
 */
int	wf_note(struct wf *, int64_t start, int64_t end, const char *key, size_t keylen, const char **why);

/*
 * wf_begin starts writing window [start, end): first it calls fill for
 * every group of every empty window between the last window written and
 * this one.  Returns 0, or -1 with *why set (nothing called back) when
 * that gap holds more than max_gap windows.  A window that is not after
 * the last one written (a revision of it) is not filled: wf_begin and
 * wf_end then call nothing.
 */
int	wf_begin(struct wf *, int64_t start, int64_t end, wf_fill_fn *fill, void *ctx, const char **why);
/* wf_length returns the windows' length (0 before the first wf_note). */
int64_t	wf_length(const struct wf *);
/* wf_present says the window being written has a row for the group key. */
void	wf_present(struct wf *, const char *key, size_t keylen);
/* wf_end calls fill for each group seen by this window's start that has no row in it. */
void	wf_end(struct wf *, wf_fill_fn *fill, void *ctx);

#endif
