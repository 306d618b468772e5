/* cli: the options every tool shares, range-checked option values, and one --help layout. */
#ifndef NDFLOW_CLI_H
#define NDFLOW_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "expr.h"
#include "record.h"
#include "timeval.h"

/* Long-only option codes for the common options; tools number their own from CLI_TOOL_BASE. */
enum {
	CLI_TIME_FORMAT = 0x1000,
	CLI_DEAD_LETTER,
	CLI_STRICT,
	CLI_STATS,
	CLI_MAX_LINE,
	CLI_NO_WATERMARKS,
	CLI_TZ,
	CLI_TOOL_BASE = 0x1100
};

/* Put these in a tool's option table and short-option string. */
#define CLI_LONGOPTS \
	{ "help",		no_argument,		NULL, 'h' }, \
	{ "version",		no_argument,		NULL, 'V' }, \
	{ "time-field",		required_argument,	NULL, 't' }, \
	{ "time-format",	required_argument,	NULL, CLI_TIME_FORMAT }, \
	{ "dead-letter",	required_argument,	NULL, CLI_DEAD_LETTER }, \
	{ "strict",		no_argument,		NULL, CLI_STRICT }, \
	{ "stats",		no_argument,		NULL, CLI_STATS }, \
	{ "output",		required_argument,	NULL, 'o' }, \
	{ "max-line-bytes",	required_argument,	NULL, CLI_MAX_LINE }, \
	{ "no-watermarks",	no_argument,		NULL, CLI_NO_WATERMARKS }, \
	{ "tz",			required_argument,	NULL, CLI_TZ }
#define CLI_SHORTOPTS	"hVt:o:"

struct cli {
	const char		*time_field;	/* default "timestamp" */
	struct rec_path		*time_path;	/* compiled time_field */
	struct tv_format	 time_format;
	struct tv_zone		*tz;		/* --tz ZONE: naive times are local there; NULL: UTC */
	struct tv_cache		 time_cache;	/* the last date and second cli_time read */
	const char		*dead_letter;
	const char		*output;	/* -o FILE, or NULL for stdout */
	char *const		*inputs;	/* the input files, for -o's same-file check (set before cli_finish) */
	size_t			 ninputs;	/* 0: standard input */
	bool			 output_direct;	/* -o FILE is written as the run goes, not renamed at its end */
	size_t			 max_line;
	bool			 strict;
	bool			 stats;
	bool			 no_watermarks;
	char			 why[256];	/* the reason cli_time gives */
};

/* The help text of a tool: cli_help prints it, then the common options, in one layout. */
struct cli_help {
	const char	*synopsis;	/* "[options] [file ...]" */
	const char	*summary;	/* one sentence */
	const char	*options;	/* the tool's own options, one per line, "  -x, --xx ARG  text" */
	const char	*footer;	/* examples or notes, may be NULL */
};

void	cli_init(struct cli *);

/*
 * cli_common handles one getopt_long result if it is a common option and
 * returns 1; returns 0 for any other option.  -h prints the help and exits
 * 0; -V prints the version and exits 0; '?' exits 2.  A bad value exits 2
 * with a message naming the option.
 */
int	cli_common(struct cli *, int opt, const char *arg, const struct cli_help *);

/*
 * cli_finish applies the common options after parsing: compiles the time
 * path, opens --dead-letter, sets --strict and --stats, and redirects
 * stdout to -o FILE (diag_set_output: atomic, refused when it is one of
 * inputs).  A tool with a --state calls it once the state is locked.
 * Exits 2 or 3 with a message on failure.
 */
void	cli_finish(struct cli *);
void	cli_free(struct cli *);

void	cli_print_help(FILE *, const struct cli_help *);

/*
 * Option values, range-checked.  On a bad value each prints
 * "prog: --opt: reason: value" and exits 2.
 * cli_duration: flags say whether zero and negative values are allowed.
 */
#define CLI_DUR_POSITIVE	0
#define CLI_DUR_ZERO_OK		1
#define CLI_DUR_NEGATIVE_OK	2
int64_t		 cli_duration(const char *opt, const char *arg, int flags);
uint64_t	 cli_uint(const char *opt, const char *arg, uint64_t min, uint64_t max);
double		 cli_double(const char *opt, const char *arg, double min, double max);
/* cli_size accepts a byte count with an optional K, M, G suffix (powers of 1024). */
uint64_t	 cli_size(const char *opt, const char *arg, uint64_t min, uint64_t max);
/* cli_expr compiles an option's expression or exits 2 with "prog: --opt: column N: reason". */
struct expr	*cli_expr(const char *opt, const char *arg);
/* cli_path compiles one field path or exits 2 with the column. */
struct rec_path	*cli_path(const char *opt, const char *arg);

/*
 * cli_paths compiles a comma-separated list of field paths ("a,b.c").
 * Appends to *paths and *n (realloc'd); commas inside quotes or brackets do
 * not split.  Exits 2 on a bad path.
 */
void	cli_paths(const char *opt, const char *arg, struct rec_path ***paths, size_t *n);

/*
 * cli_time gets the event time of the last parsed record through the
 * --time-field path: a JSON number is epoch time, a string is read by
 * --time-format, a naive one in --tz.  Returns 0 with *t, or -1 with *why ("missing time
 * field 'timestamp'", "bad time in ...") pointing into the cli's own
 * buffer, valid until the next call.
 */
int	cli_time(struct cli *, struct rec *, int64_t *t, const char **why);

#endif
