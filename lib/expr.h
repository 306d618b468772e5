/* expr: the filter language (a subset of jq's expressions), compiled once and evaluated against a record. */
#ifndef NDFLOW_EXPR_H
#define NDFLOW_EXPR_H

#include <stdbool.h>

#include "buf.h"
#include "record.h"

struct expr;

struct expr_err {
	char	 text[160];	/* "expected a value after '>'" */
	size_t	 column;	/* 1-based column in the source */
};

/*
 * expr_compile compiles src once.  Returns the expression, or NULL with
 * the reason and column in *err.  Regular expressions are compiled here,
 * never per record.
 */
struct expr	*expr_compile(const char *src, struct expr_err *err);
void		 expr_free(struct expr *);
const char	*expr_src(const struct expr *);

/*
 * expr_test evaluates the expression against the last parsed record and
 * returns its truth (false and null are false, everything else true, as
 * in jq).  Never fails: a missing field is null, a comparison across
 * types is false, and what jq reports as an error (a string times a
 * number, floor of a string) is null.
 */
bool	expr_test(struct expr *, struct rec *);

/*
 * expr_eval evaluates the expression against the last parsed record and
 * appends its value to out as JSON (a value taken from the record keeps
 * its bytes; a computed one is written as jq writes it).  Returns 0, or
 * -1 with the reason in *why (owned by the expression, valid until its
 * next evaluation) when the evaluation fails where jq's would: a type
 * error ("string (\"x\") and number (2) cannot be multiplied"), a
 * division by zero, a regex stopped at its match limit.
 */
int	expr_eval(struct expr *, struct rec *, struct buf *out, const char **why);

/*
 * expr_limit returns the reason when the last evaluation stopped a regex
 * at its match limit (the value then read as null), else NULL.
 */
const char	*expr_limit(const struct expr *);

/*
 * expr_reads reports whether the expression may read the top-level field
 * key (conservatively: "." reads every field).
 */
bool	expr_reads(const struct expr *, const char *key, size_t keylen);


/*
 * expr_one_path returns the path of an expression that reads one path
 * and nothing else of the record (PATH OP CONST or CONST OP PATH with
 * OP one of == != < <= > >=, or exists(PATH)); NULL for any other.
 * expr_test_one is then expr_test given that path's value v, as rec_get
 * returned it for the same record: callers that look the path up anyway
 * (alert's --field and --by) evaluate the expression without a second
 * lookup.
 */
const struct rec_path	*expr_one_path(const struct expr *);
bool			 expr_test_one(struct expr *, struct rec *, const struct rec_val *v);

#endif
