/* formats: the input formats ingest reads (CSV, TSV, logfmt, access logs) as a table, each turning a record's text into one JSON object line. */
#ifndef NDFLOW_FORMATS_H
#define NDFLOW_FORMATS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum fmt_kind {
	FMT_NDJSON,	/* passed through as it is: the caller parses it */
	FMT_CSV,
	FMT_TSV,
	FMT_LOGFMT,
	FMT_CLF,
	FMT_COMBINED,
	FMT_NGINX_TIMED,	/* combined + nginx's $request_time $upstream_response_time */
	FMT_APACHE_TIMED,	/* combined + Apache's %D */
	FMT_JSON,	/* JSON documents, one per object: arrays of them, concatenated, pretty-printed */
	FMT_ZEEK,	/* Zeek's TSV logs, their # header lines giving names and types */
	FMT_REGEX,	/* a line matched by a PCRE2 pattern: each named group a field */
	FMT_AUTO	/* detected per input file by fmt_detect */
};

/* What fmt_parse made of a record's text. */
enum fmt_result {
	FMT_RECORD,	/* *out holds one JSON object (no newline) */
	FMT_SKIP,	/* not a record: a header row or a blank line */
	FMT_MORE,	/* a quoted field runs past the end: append "\n" and the next line, call again */
	FMT_BAD,	/* the text is malformed: fmt_why() says why */
	FMT_COMMENT	/* a line starting with '#' under skip_comments: skipped, and counted */
};

struct fmt_opts {
	const char	*delim;		/* CSV field separator, one or more bytes ("|&|"); NULL means "," */
	bool		 infer;		/* numbers, true/false and empty fields become JSON numbers, booleans, null */
	const char	*header;	/* "a,b,c": the column names when the files have no header row */
	bool		 ragged;	/* CSV/TSV rows of fewer fields lack the rest; more: the rest in "_extra" */
	bool		 skip_comments;	/* all but NDJSON and Zeek: lines starting with '#' are FMT_COMMENT */
	bool		 lenient;	/* access logs: a malformed request gives nulls and "_malformed" */
	const char	*pattern;	/* FMT_REGEX: a PCRE2 pattern with named groups */
	size_t		 max_record;	/* FMT_JSON: a longer document is FMT_BAD (kept in part); 0: no limit */
};

struct fmt_reader;

/*
 * fmt_by_name looks a format up by its --format name ("csv", "auto", ...).
 * Returns 0 and stores the kind, or -1 when the name is unknown.
 * fmt_name is the reverse; fmt_names lists them all ("ndjson, csv, ...").
 */
int		 fmt_by_name(const char *name, enum fmt_kind *kind);
const char	*fmt_name(enum fmt_kind);
const char	*fmt_names(void);

/*
 * fmt_detect guesses the format of an input from its first non-blank line:
 * NDJSON when it starts with "{", combined or CLF by the access-log shape,
 * logfmt when it is made of key=value pairs, TSV when it has a tab, else
 * CSV.  Never returns FMT_AUTO.
 */
enum fmt_kind	 fmt_detect(const char *line, size_t len);

/* fmt_is_access_log reports whether k is CLF, combined or a timed variant of combined (their records carry RFC 3339 times). */
bool		 fmt_is_access_log(enum fmt_kind k);

/*
 * fmt_check checks the options for a format before any reader is made:
 * FMT_REGEX needs a pattern that compiles and has named groups.  Returns
 * 0, or -1 with a reason in why ("--pattern: at column 4: missing closing
 * parenthesis") for a usage error.
 */
int		 fmt_check(enum fmt_kind, const struct fmt_opts *, char *why, size_t whylen);

/*
 * fmt_new makes a reader for one format (not FMT_AUTO: detect first, then
 * fmt_set_kind).  opts is copied; opts->header must stay valid.  Aborts on
 * allocation failure, and on options fmt_check refuses.
 */
struct fmt_reader	*fmt_new(enum fmt_kind, const struct fmt_opts *);
void		 fmt_free(struct fmt_reader *);
/* fmt_set_kind switches the reader to another format and forgets the header (auto, per file). */
void		 fmt_set_kind(struct fmt_reader *, enum fmt_kind);
enum fmt_kind	 fmt_kind(const struct fmt_reader *);

/*
 * fmt_start tells the reader that a new input file begins: CSV and TSV
 * read its first record as the header again (unless opts->header was
 * given).
 */
void		 fmt_start(struct fmt_reader *);

/*
 * fmt_parse turns the text of one record (a line without its newline, or
 * for FMT_MORE several lines joined by "\n") into a JSON object appended
 * to out (cleared first).  Returns one of enum fmt_result.  On FMT_BAD,
 * fmt_why() gives the reason ("expected 5 fields, got 4"), valid until the
 * next call.  Text that is not UTF-8 or holds a NUL byte is FMT_BAD.  For FMT_NDJSON the text
 * is copied to out unchanged.
 */
enum fmt_result	 fmt_parse(struct fmt_reader *, const char *text, size_t len, struct buf *out);
const char	*fmt_why(const struct fmt_reader *);

/*
 * FMT_JSON reads documents, not lines: fmt_parse is given each line on
 * its own (never the lines joined), and keeps a document that spans lines
 * itself, answering FMT_MORE until it closes.  After FMT_RECORD, when
 * fmt_doc says the line holds more, fmt_parse_more goes on in the same
 * line (which must be unchanged).  fmt_doc tells where the documents are:
 * whether the last result's document began in the current line, whether
 * one is still open (and began in this line), and the text of the last
 * (or open) document, for a dead-letter; valid until the next call.
 */
struct fmt_doc {
	bool		 more;		/* the line holds more: call fmt_parse_more */
	bool		 began_here;	/* the last result's document began in the current line */
	bool		 open;		/* a document is open at the end of the line */
	bool		 open_here;	/* and it began in the current line */
	const char	*text;		/* the last or open document's text */
	size_t		 len;
};
enum fmt_result	 fmt_parse_more(struct fmt_reader *, struct buf *out);
void		 fmt_doc(const struct fmt_reader *, struct fmt_doc *);

/*
 * After FMT_MORE the reader remembers where it stopped: the next call,
 * given the same text with "\n" and the next line appended, scans only the
 * new bytes, so a record of n lines costs O(n), not O(n^2).  A call with
 * any other text (a new record after the caller gave one up) starts over.
 */

/*
 * The work a reader has done since fmt_new, for tests that check it grows
 * linearly with its input (a deterministic count, unlike time).
 */
struct fmt_stats {
	unsigned long long	scanned;	/* bytes examined: validation, splitting, resumed records */
	unsigned long long	probes;		/* key comparisons: header names, logfmt duplicate keys */
};
void		 fmt_stats(const struct fmt_reader *, struct fmt_stats *);

/*
 * fmt_json_number reports whether --infer writes s[0..len) as a number:
 * a JSON number (as rec_number reads it) that is an integer within int64
 * or any other number within a double.  So "6.8581834E7" passes and
 * "007", "1e999", "+1" and "99999999999999999999" (an id, more likely
 * than a quantity) stay text.
 */
bool		 fmt_json_number(const char *s, size_t len);

#endif
