/* state: checkpoint files, written atomically (temp + fsync + rename) and locked against a second run; atomic output files. */
#ifndef NDFLOW_STATE_H
#define NDFLOW_STATE_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

/*
 * A state file is NDJSON: a header line
 *   {"ndflow_state":1,"tool":"window","...":...}
 * then tool-defined lines.  The tool writes the lines; this module makes
 * the write atomic and the file exclusive.
 *
 * Every temporary file is made by mkstemp(3) beside its target, named
 * "TARGET.tmp.XXXXXX", opened O_EXCL with mode 0600 (so a planted
 * symlink or a directory in the way is never written through), and
 * renamed over the target only once it is complete and on disk.
 */

/*
 * st_lock takes an exclusive lock on PATH.lock (created if needed, never
 * through a symlink) for the life of the process.  Returns 0, or -1 with
 * errno (EWOULDBLOCK when another run holds it, ELOOP when PATH.lock is a
 * symlink).  Tools exit 3: "state file PATH is locked by another run".
 * Once the lock is held, temporary files a killed run left beside PATH
 * are removed.
 */
int	st_lock(const char *path);

/*
 * st_begin opens a temporary file beside path for writing the new state
 * and writes the header line with the tool name and the header's extra
 * members (hdr may be NULL; borrowed).  Returns the stream, or NULL with
 * errno.  The stream must go to st_commit or st_abort.
 */
FILE	*st_begin(const char *path, const char *tool, json_t *hdr);
/*
 * st_commit flushes, fsyncs and closes the stream, renames it over path
 * and fsyncs the directory.  Returns 0, or -1 with errno (the temporary
 * file is removed and the old state is untouched).
 */
int	st_commit(FILE *, const char *path);
/* st_abort discards a state being written. */
void	st_abort(FILE *, const char *path);

/*
 * st_open reads the header of an existing state file.  Returns the stream
 * positioned after the header and stores the header (new reference) in
 * *hdr; returns NULL with errno ENOENT when there is no state yet, or NULL
 * with errno EINVAL and a reason in *why when the file is not a state of
 * this tool or of a newer version.
 */
FILE	*st_open(const char *path, const char *tool, json_t **hdr, const char **why);

/*
 * An atomic output file (-o FILE): written to a temporary file beside
 * path and renamed over it by st_out_commit, so that readers see the old
 * file or the whole new one, and a run that fails leaves the old one.
 * The new file gets the old one's permission bits, or 0666 less the umask.
 *
 * st_out_open creates the temporary file and returns a descriptor for it
 * (the caller may dup2 it and close it).  Returns -1 with errno.  Only
 * one atomic output per process.
 */
int	st_out_open(const char *path);
/*
 * st_out_commit fsyncs fd (the descriptor the output was written
 * through), renames the temporary file over the path given to
 * st_out_open and fsyncs the directory.  Returns 0, or -1 with errno (the
 * temporary file is removed).
 */
int	st_out_commit(int fd);
/* st_out_abort removes the temporary file, if any (async-signal-safe). */
void	st_out_abort(void);
/* st_out_pending reports whether an atomic output is open and not yet committed. */
bool	st_out_pending(void);

/*
 * st_same_file reports whether path names the file open as fd, or the
 * same file as path b (device and inode); a path that does not exist is
 * no file.  fd < 0 or b NULL skips that comparison.
 */
bool	st_same_file(const char *path, int fd, const char *b);

/*
 * Type-checked getters for a state line's members: st_int and st_str
 * store the value of member key of o (borrowed) and return 0, or return
 * -1 with a reason in why ("member 'open' is missing", "member 't' is not
 * an integer") for the caller to report with the file and line.
 */
int	st_int(json_t *o, const char *key, int64_t *v, char *why, size_t whysz);
int	st_str(json_t *o, const char *key, const char **s, size_t *len, char *why, size_t whysz);

#endif
