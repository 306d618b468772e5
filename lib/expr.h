/* expr: the filter language (a subset of jq's expressions), compiled once and evaluated against a record. */
#ifndef NDFLOW_EXPR_H
#define NDFLOW_EXPR_H

#include <stdbool.h>

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
 * in jq).  Never fails: a missing field is null, and a comparison across
 * types is false.
 */
bool	expr_test(struct expr *, struct rec *);


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
