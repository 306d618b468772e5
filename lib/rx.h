/* rx: jq-style regular expressions on PCRE2 (UTF-8, Unicode classes, JIT), compiled once and matched with bounded work. */
#ifndef NDFLOW_RX_H
#define NDFLOW_RX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rx;

/* What jq's flags string asks for besides the pattern's own options. */
#define RX_GLOBAL	1u	/* "g": every match, not only the first */
#define RX_NOEMPTY	2u	/* "n": ignore empty matches */

/*
 * The work one match may do.  A pattern that backtracks catastrophically
 * ("(a+)+$" on a long run of a's) stops with an error after RX_MATCH_LIMIT
 * steps (a few milliseconds) instead of running for hours.
 */
#define RX_MATCH_LIMIT	1000000
#define RX_DEPTH_LIMIT	10000

/*
 * rx_compile compiles pat[0..len) (UTF-8; may hold NUL) with jq's flags
 * (NUL-terminated, or NULL for none): g global, i case-insensitive,
 * x extended (whitespace and # comments ignored), n ignore empty matches,
 * s single-line (^ and $ only at the ends, the default), p as s and .
 * matching a newline.  \d \w \s and POSIX classes are Unicode-aware, as
 * in jq.  Returns the regex, or NULL with a reason in why; *where is then
 * the byte offset of the problem in the pattern, or SIZE_MAX when the
 * problem is in the flags.
 */
struct rx	*rx_compile(const char *pat, size_t len, const char *flags, char *why, size_t whysz,
		    size_t *where);
void		 rx_free(struct rx *);
unsigned	 rx_flags(const struct rx *);

/*
 * rx_exec looks for the first match in s[0..len) at or after byte start
 * (s need not be NUL-terminated; it must be valid UTF-8 and start must be
 * at a character boundary).  notempty_at refuses an empty match at start
 * (for the step after an empty match).  Returns 1 on a match, its groups
 * then read with rx_group; 0 when there is none; -1 when the match limit
 * was hit, with the reason in why.
 */
int	rx_exec(struct rx *, const char *s, size_t len, size_t start, bool notempty_at,
	    char *why, size_t whysz);

/* rx_ngroups returns the number of capture groups (not counting the whole match, group 0). */
uint32_t	 rx_ngroups(const struct rx *);
/* rx_group returns whether group i took part in the last match and its byte range [*so, *eo). */
bool		 rx_group(const struct rx *, uint32_t i, size_t *so, size_t *eo);
/* rx_group_name returns the name of group i (1-based), or NULL when it has none. */
const char	*rx_group_name(const struct rx *, uint32_t i);

#endif
