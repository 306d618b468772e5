/* offsets: where a cron micro-batch stopped in a log file, saved as pending and committed once the pipeline succeeded, with rotation detection. */
#ifndef NDFLOW_OFFSETS_H
#define NDFLOW_OFFSETS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The offset file F is a lib/state file of the tool "ingest" whose header
 * holds the position:
 *   {"ndflow_state":1,"tool":"ingest","file":"app.log","dev":..,"ino":..,
 *    "offset":N,"line":L,"head_len":H,"head_hash":"16 hex digits"}
 * A run reads from the committed position in F and, when it succeeded,
 * writes its end position to F.pending; "ingest --commit F" renames
 * F.pending over F once the whole pipeline succeeded.
 */
struct off_state {
	char		*file;		/* the path the position is for (owned) */
	uint64_t	 dev, ino;	/* the file it named at the time */
	uint64_t	 offset;	/* byte offset of the next unread line */
	uint64_t	 line;		/* lines read before it */
	uint64_t	 head_len;	/* its first head_len bytes ... */
	uint64_t	 head_hash;	/* ... hash to this (FNV-1a 64) */
};

/*
 * off_load reads the committed position from path.  Returns 1 with *st
 * filled, 0 when there is no offset file yet (start at the beginning), or
 * -1 with *why (static) when it cannot be read or is not an ingest offset
 * file.
 */
int	off_load(const char *path, struct off_state *st, const char **why);
void	off_state_free(struct off_state *);

/*
 * off_save_pending writes st to path.pending atomically (lib/state).
 * off_drop_pending removes a stale path.pending (a run that fails must not
 * leave an older one to commit).  off_commit renames path.pending over
 * path and makes it durable.  Each returns 0, or -1 with errno
 * (off_commit: ENOENT when there is nothing pending).
 */
int	off_save_pending(const char *path, const struct off_state *st);
int	off_drop_pending(const char *path);
int	off_commit(const char *path);

/*
 * off_mark fills st for file as it is now, read up to offset with line
 * lines: dev, ino and the hash of its first bytes (up to 1 KiB, at most
 * offset).  Returns 0, or -1 with errno when the file cannot be read.
 * file is copied.
 */
int	off_mark(struct off_state *st, const char *file, uint64_t offset, uint64_t line);

/*
 * off_same reports whether path is still the file st was taken from: the
 * same device and inode, at least st->offset bytes long, and the same
 * first bytes (a file deleted and made again may get the old inode).
 */
bool	off_same(const struct off_state *st, const char *path);

/* What a run must read, decided by off_plan. */
struct off_plan {
	char		*rotated;	/* the old file to finish first (owned), or NULL */
	uint64_t	 offset;	/* where to start in the first file read */
	uint64_t	 line;
	const char	*note;		/* why it starts where it does, for a warning, or NULL */
};

/*
 * off_plan compares the committed position st with file now.  The same
 * file (device, inode and first bytes) that has not shrunk resumes at
 * st->offset.  One that shrank (copytruncate) or whose first bytes
 * changed starts at 0.  When file is another file (rotated by rename),
 * file.1 or file.0 that still is the old one is finished first from
 * st->offset, then file is read from 0; when the old file is gone, the
 * plan says so in note and starts file at 0.
 * Returns 0 (plan->rotated owned by the caller: off_plan_free).
 */
int	off_plan(const struct off_state *st, const char *file, struct off_plan *plan);
void	off_plan_free(struct off_plan *);

#endif
