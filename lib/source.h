/* source: the format-aware record reader over lib/input — NDJSON, CSV, TSV, logfmt and access logs, records spanning lines, a header per file. */
#ifndef NDFLOW_SOURCE_H
#define NDFLOW_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "formats.h"
#include "input.h"

/* One record as read: the input text with its position (its first line's), and the JSON object made of it. */
struct src_record {
	struct in_line	 text;		/* the input text and its position, for the dead-letter */
	const char	*json;		/* one JSON object (raw itself for NDJSON) */
	size_t		 jsonlen;
	bool		 built;		/* made by a format reader, not read as NDJSON */
};

struct source;

/*
 * src_new reads records of format kind (FMT_AUTO: detected per file from
 * its first non-blank line) from in, which stays the caller's.  A record
 * longer than max bytes is rejected.  opts is copied (opts->header must
 * stay valid).  Aborts on allocation failure only.
 */
struct source	*src_new(struct input *in, enum fmt_kind kind, const struct fmt_opts *opts, size_t max);
void		 src_free(struct source *);

/*
 * src_next reads lines until it has a record.  Returns 1 with *r filled
 * (valid until the next call), or 0 at the end of the input.  Blank lines
 * are skipped and counted under "blank_lines"; malformed records are
 * rejected through lib/diag with their reason; each record read counts in
 * records_in.
 */
int	src_next(struct source *, struct src_record *r);

/*
 * src_hold_open(src, true) leaves a record still open at the end of the
 * input (a CSV quoted field its writer has not closed yet) unrejected, for
 * a later run to read whole (--offset-file).
 */
void	src_hold_open(struct source *, bool);

/*
 * src_resume readies the reader for the file path resumed after line
 * `line` (--offset-file): --format auto detects from the file's first line,
 * and CSV and TSV read their header from its first record, as a run from
 * the start would have.
 */
void	src_resume(struct source *, char *path, size_t max_line, uint64_t line);

/* src_pending reports whether a record is still open, and where it starts. */
bool	src_pending(const struct source *, struct diag_pos *start);

/* src_kind is the format of the file being read. */
enum fmt_kind	src_kind(const struct source *);

#endif
