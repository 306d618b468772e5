/* record: one NDJSON line as a validated, indexed JSON object, its typed field views and byte-exact emission. */
#ifndef NDFLOW_RECORD_H
#define NDFLOW_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"

/*
 * The record hot path.  A tool keeps one struct rec for its whole run and
 * calls rec_parse() on each line: nothing is allocated per record once the
 * internal buffers have grown to the largest line seen.  Views returned by
 * rec_get() point into the line or into the record's scratch space and are
 * valid until the next rec_parse() or rec_free().
 *
 * What is accepted is exactly what jansson's json_loadb(line, len, 0, &e)
 * accepts when it returns an object: UTF-8 checked, depth at most 2048.
 * Duplicate keys are accepted and the last occurrence wins for lookups
 * (as in jansson and jq); rec_emit keeps the bytes as they were.
 */

enum rec_type {
	RT_MISSING = 0,	/* the path does not exist in the record */
	RT_NULL,
	RT_BOOL,
	RT_INT,		/* an integer that fits int64: .i exact, .d the same value as a double */
	RT_REAL,	/* any other number (fraction, exponent, or an integer past int64): .d */
	RT_STRING,	/* .s/.slen: the unescaped bytes (may contain NUL) */
	RT_ARRAY,
	RT_OBJECT
};

struct rec_val {
	enum rec_type	 type;
	const char	*raw;	/* the value's original bytes in the line (strings with their quotes) */
	size_t		 rawlen;
	bool		 b;	/* RT_BOOL */
	int64_t		 i;	/* RT_INT */
	double		 d;	/* RT_INT, RT_REAL */
	const char	*s;	/* RT_STRING */
	size_t		 slen;
	size_t		 n;	/* RT_ARRAY, RT_OBJECT: number of elements / members */
};

struct rec;
struct rec_path;

/* A parse failure: a reason in English and the 1-based byte column of the problem. */
struct rec_err {
	char	 text[160];
	size_t	 column;
	bool	 not_object;	/* the line is JSON, but not an object ("got an array") */
};

/* rec_new returns an empty record holder; aborts on allocation failure. */
struct rec	*rec_new(void);
void		 rec_free(struct rec *);

/*
 * rec_parse validates line[0..len) as exactly one JSON object (surrounding
 * JSON whitespace allowed) and indexes it.  The line is borrowed: it must
 * stay unchanged until the next rec_parse() on this record.
 * Returns 0 on success.  Returns -1 when the line is not one JSON object
 * and fills *err (reason and column) when err is not NULL; the record is
 * then empty.
 */
int	rec_parse(struct rec *, const char *line, size_t len, struct rec_err *err);

/* rec_line returns the bytes of the last parsed line. */
const char	*rec_line(const struct rec *, size_t *len);

/*
 * rec_path_compile compiles a field path: "user.id", ".user.id",
 * "tags[0]", "tags[-1]", ".\"odd key\".x", "a[2].b".  A leading dot is
 * optional.  A path made only of plain names separated by dots also
 * matches a top-level key spelled with those dots ("id.orig_h") when the
 * nested lookup finds nothing, so Zeek-style flat names work unquoted.
 * Returns a new path (free with rec_path_free), or NULL with a reason and
 * 1-based column in *err.
 */
struct rec_path	*rec_path_compile(const char *spec, struct rec_err *err);
void		 rec_path_free(struct rec_path *);
/* rec_path_str returns the spec the path was compiled from. */
const char	*rec_path_str(const struct rec_path *);
/* rec_path_top returns the top-level key a path starts with (its first name), or NULL for a path starting with an index. */
const char	*rec_path_top(const struct rec_path *, size_t *len);

/*
 * rec_get looks the path up in the last parsed record and fills *v.
 * Returns v->type (RT_MISSING when absent: a missing key, an index out of
 * range, or a path going through a non-container).
 */
enum rec_type	rec_get(struct rec *, const struct rec_path *, struct rec_val *v);

/* rec_get_key looks up one top-level key by its exact bytes. */
enum rec_type	rec_get_key(struct rec *, const char *key, size_t keylen, struct rec_val *v);

/* rec_root describes the whole record as an RT_OBJECT value (for rec_val_canon of a whole record). */
enum rec_type	rec_root(struct rec *, struct rec_val *v);

/* rec_nfields returns the number of top-level members of the last parsed record. */
size_t	rec_nfields(const struct rec *);

/*
 * rec_field returns the i-th top-level member (in line order): its
 * unescaped key in *key and *keylen and its value in *v.  0 <= i < rec_nfields.
 */
void	rec_field(struct rec *, size_t i, const char **key, size_t *keylen, struct rec_val *v);

/*
 * rec_is_watermark reports whether the record is a watermark control
 * record: an object whose only key is "@watermark".  When it is and t is
 * not NULL, stores its time (RFC 3339, "+inf" = TV_MAX) in *t, or
 * returns -1 when the value is not a valid time.
 * Returns 1 for a watermark, 0 for an ordinary record, -1 for a watermark
 * with a bad time.
 */
int	rec_is_watermark(struct rec *, int64_t *t);

/*
 * An edit for rec_emit: set top-level key to a JSON value given as its
 * encoded bytes.  An existing key has its value bytes replaced in place;
 * a new key is appended before the closing brace.  json == NULL deletes
 * the key.
 */
struct rec_edit {
	const char	*key;
	size_t		 keylen;
	const char	*json;
	size_t		 jsonlen;
};

/*
 * rec_emit writes the last parsed line to out, byte-identical apart from
 * the edits, followed by '\n'.  Whitespace around the object is trimmed.
 * Write errors are left in ferror(out) for the caller's final check.
 */
void	rec_emit(struct rec *, FILE *out, const struct rec_edit *edits, size_t nedits);

/*
 * rec_has_any_key reports whether the last parsed record has a top-level
 * member named by the key of one of the edits (their values are not
 * looked at): one pass over the members for several names, e.g. to learn
 * that rec_emit would only append.  False after a failed parse.
 */
bool	rec_has_any_key(struct rec *, const struct rec_edit *edits, size_t nedits);

/*
 * rec_keys_plain reports whether no top-level key of the last parsed
 * record has a backslash escape: each key's bytes in the line are then
 * its name, and comparing raw bytes is a key comparison.
 */
bool	rec_keys_plain(const struct rec *);

/*
 * rec_val_canon appends a canonical JSON encoding of a value to out: object
 * keys sorted, no whitespace, numbers in their shortest form, strings
 * re-escaped minimally.  Two values that are equal as JSON have equal
 * canonical encodings (used by dedupe to compare whole records).
 */
void	rec_val_canon(struct rec *, const struct rec_val *, struct buf *out);

/*
 * rec_canon_without appends the canonical JSON of the whole last-parsed
 * record, as rec_root and rec_val_canon give it, leaving out the fields
 * the paths find (each the value rec_get would return: a top-level or
 * nested member, an array element, or a top-level key spelled with dots).
 * A path that finds nothing leaves nothing out.  For dedupe --ignore.
 */
void	rec_canon_without(struct rec *, struct rec_path *const *paths, size_t npaths,
	    struct buf *out);

/*
 * rec_number reads text[0..len) when it is exactly one JSON number (no
 * whitespace around it), the way rec_parse reads a number in a record:
 * RT_INT with .i for an integer that fits int64, RT_REAL with .d for any
 * other (an integer past int64 keeps its digits in .raw).  Returns
 * v->type, or RT_MISSING when the text is not a JSON number or lies
 * beyond the range of a double.  For numeric strings, CSV cells and
 * tonumber: one grammar for the whole project.
 */
enum rec_type	rec_number(const char *text, size_t len, struct rec_val *v);

/* rec_type_name returns "null", "boolean", "integer", "number", "string", "array", "object" or "missing". */
const char	*rec_type_name(enum rec_type);

/*
 * rec_path_same reports whether two compiled paths look up the same
 * thing, however they were spelled ("a.b", ".a.b", .["a"].b): rec_get
 * gives the same value for both in any record.
 */
bool	rec_path_same(const struct rec_path *, const struct rec_path *);

#endif
