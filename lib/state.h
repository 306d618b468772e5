/* state: checkpoint files, written atomically (temp + fsync + rename) and locked against a second run. */
#ifndef NDFLOW_STATE_H
#define NDFLOW_STATE_H

#include <stdio.h>

#include <jansson.h>

/*
 * A state file is NDJSON: a header line
 *   {"ndflow_state":1,"tool":"window","...":...}
 * then tool-defined lines.  The tool writes the lines; this module makes
 * the write atomic and the file exclusive.
 */

/*
 * st_lock takes an exclusive lock on PATH.lock (created if needed) for the
 * life of the process.  Returns 0, or -1 with errno (EWOULDBLOCK when
 * another run holds it).  Tools exit 3: "state file PATH is locked by
 * another run".
 */
int	st_lock(const char *path);

/*
 * st_begin opens a temporary file beside path for writing the new state
 * and writes the header line with the tool name and the header's extra
 * members (hdr may be NULL; borrowed).  Returns the stream, or NULL with
 * errno.
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

#endif
