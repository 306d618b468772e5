/* cli: the options every tool shares, range-checked option values, and one --help layout. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "expr.h"
#include "diag.h"

#ifndef NDFLOW_VERSION
#define NDFLOW_VERSION "0.1.0"
#endif

static const char common_help[] =
"Common options:\n"
"  -t, --time-field PATH    event time field (default: timestamp)\n"
"      --time-format FMT    auto, iso, epoch_s, epoch_ms, epoch_us, epoch_ns, clf,\n"
"                           or a strptime format such as '%d/%m/%Y %H:%M:%S'\n"
"      --tz ZONE            read times without an offset as local time in ZONE\n"
"                           (IANA name, such as Europe/Berlin; default UTC)\n"
"      --dead-letter FILE   append rejected lines to FILE as JSON records\n"
"      --strict             stop at the first rejected line (exit status 1)\n"
"      --stats              print one JSON line of counters to stderr at exit\n"
"                           (also at any time on SIGUSR1)\n"
"  -o, --output FILE        write to FILE instead of standard output\n"
"      --max-line-bytes N   reject longer lines (default 16M; K, M, G suffixes)\n"
"      --no-watermarks      drop watermark records from the output\n"
"  -h, --help               show this help and exit\n"
"  -V, --version            show the version and exit\n"
"\n"
"Exit status: 0 all input accounted for, 1 records rejected and not kept,\n"
"2 usage error, 3 I/O or system error.  See ndflow(7).\n";

void
cli_init(struct cli *c)
{
	memset(c, 0, sizeof *c);
	c->time_field = "timestamp";
	c->max_line = ((size_t)16 << 20);
}

void
cli_print_help(FILE *f, const struct cli_help *h)
{
	fprintf(f, "Usage: %s %s\n%s\n\n", diag_prog(), h->synopsis, h->summary);
	if (h->options && *h->options)
		fprintf(f, "Options:\n%s\n", h->options);
	fputs(common_help, f);
	if (h->footer)
		fprintf(f, "\n%s", h->footer);
}

int
cli_common(struct cli *c, int opt, const char *arg, const struct cli_help *h)
{
	switch (opt) {
	case 'h':
		cli_print_help(stdout, h);
		exit(fflush(stdout) == 0 ? 0 : EX_IOERR);
	case 'V':
		printf("%s (ndflow) %s\n", diag_prog(), NDFLOW_VERSION);
		exit(fflush(stdout) == 0 ? 0 : EX_IOERR);
	case 't':
		c->time_field = arg;
		return 1;
	case CLI_TIME_FORMAT:
		if (tv_format_parse(arg, &c->time_format) != 0)
			diag_usage_error("--time-format: unknown format: %s", arg);
		return 1;
	case CLI_TZ: {
		const char *why;

		tv_zone_free(c->tz);
		if ((c->tz = tv_zone_load(arg, &why)) == NULL)
			diag_usage_error("--tz: %s: %s", why, arg);
		memset(&c->time_cache, 0, sizeof c->time_cache);
		return 1;
	}
	case CLI_DEAD_LETTER:
		c->dead_letter = arg;
		return 1;
	case CLI_STRICT:
		c->strict = true;
		return 1;
	case CLI_STATS:
		c->stats = true;
		return 1;
	case 'o':
		c->output = arg;
		return 1;
	case CLI_MAX_LINE:
		c->max_line = (size_t)cli_size("--max-line-bytes", arg, 2, (uint64_t)1 << 40);
		return 1;
	case CLI_NO_WATERMARKS:
		c->no_watermarks = true;
		return 1;
	case '?':
	case ':':
		/* getopt_long has printed what was wrong. */
		fprintf(stderr, "Try '%s --help' for more information.\n", diag_prog());
		exit(EX_USAGE);
	}
	return 0;
}

void
cli_finish(struct cli *c)
{
	c->time_path = cli_path("--time-field", c->time_field);
	if (c->dead_letter)
		diag_set_dead_letter(c->dead_letter);
	diag_set_strict(c->strict);
	diag_set_stats(c->stats);
	diag_set_output(c->output, c->inputs, c->ninputs, c->output_direct);
}

void
cli_free(struct cli *c)
{
	rec_path_free(c->time_path);
	c->time_path = NULL;
	tv_zone_free(c->tz);
	c->tz = NULL;
}

int64_t
cli_duration(const char *opt, const char *arg, int flags)
{
	int64_t v;
	const char *why;

	if (tv_duration(arg, &v, &why) != 0)
		diag_usage_error("%s: %s: %s", opt, why, arg);
	if (v < 0 && !(flags & CLI_DUR_NEGATIVE_OK))
		diag_usage_error("%s: duration must not be negative: %s", opt, arg);
	if (v == 0 && !(flags & (CLI_DUR_ZERO_OK | CLI_DUR_NEGATIVE_OK)))
		diag_usage_error("%s: duration must be positive: %s", opt, arg);
	return v;
}

uint64_t
cli_uint(const char *opt, const char *arg, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*arg == '-' || *arg == '+' || *arg == ' ' || *arg == '\0')
		diag_usage_error("%s: not a whole number: %s", opt, arg);
	v = strtoull(arg, &end, 10);
	if (*end != '\0' || end == arg)
		diag_usage_error("%s: not a whole number: %s", opt, arg);
	if (errno == ERANGE || v < min || v > max)
		diag_usage_error("%s: must be from %llu to %llu: %s", opt,
		    (unsigned long long)min, (unsigned long long)max, arg);
	return v;
}

double
cli_double(const char *opt, const char *arg, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (*end != '\0' || end == arg || isnan(v))
		diag_usage_error("%s: not a number: %s", opt, arg);
	if (errno == ERANGE || v < min || v > max)
		diag_usage_error("%s: must be from %g to %g: %s", opt, min, max, arg);
	return v;
}

uint64_t
cli_size(const char *opt, const char *arg, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	if (*arg < '0' || *arg > '9')
		diag_usage_error("%s: not a size: %s", opt, arg);
	v = strtoull(arg, &end, 10);
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0')
		diag_usage_error("%s: not a size: %s", opt, arg);
	if (errno == ERANGE || v > (max >> shift) || (v << shift) < min)
		diag_usage_error("%s: must be from %llu to %llu bytes: %s", opt,
		    (unsigned long long)min, (unsigned long long)max, arg);
	return v << shift;
}

struct rec_path *
cli_path(const char *opt, const char *arg)
{
	struct rec_err e;
	struct rec_path *p = rec_path_compile(arg, &e);

	if (p == NULL)
		diag_usage_error("%s: column %zu: %s: %s", opt, e.column, e.text, arg);
	return p;
}

void
cli_paths(const char *opt, const char *arg, struct rec_path ***paths, size_t *n)
{
	const char *s = arg, *start = arg;
	int inq = 0, inb = 0;
	char *one;

	for (;; s++) {
		if (*s == '\\' && inq && s[1] != '\0') {
			s++;
			continue;
		}
		if (*s == '"')
			inq = !inq;
		else if (!inq && *s == '[')
			inb = 1;
		else if (!inq && *s == ']')
			inb = 0;
		if (*s == '\0' || (*s == ',' && !inq && !inb)) {
			if (s == start)
				diag_usage_error("%s: empty field name in list: %s", opt, arg);
			one = xstrndup(start, (size_t)(s - start));
			*paths = xrealloc(*paths, (*n + 1) * sizeof **paths);
			(*paths)[(*n)++] = cli_path(opt, one);
			free(one);
			if (*s == '\0')
				break;
			start = s + 1;
		}
	}
}

int
cli_time(struct cli *c, struct rec *r, int64_t *t, const char **why)
{
	char *msg = c->why;
	struct rec_val v;
	const char *text, *reason;
	size_t len;
	int rc;

	switch (rec_get(r, c->time_path, &v)) {
	case RT_MISSING:
		snprintf(msg, sizeof c->why, "missing time field '%s'", c->time_field);
		*why = msg;
		return -1;
	case RT_STRING:
		text = v.s;
		len = v.slen;
		rc = tv_parse_in(&c->time_format, c->tz, &c->time_cache, text, len, t, &reason);
		break;
	case RT_INT:
	case RT_REAL:
		text = v.raw;
		len = v.rawlen;
		rc = tv_parse_number(&c->time_format, c->tz, text, len, t, &reason);
		break;
	default:
		snprintf(msg, sizeof c->why, "time field '%s' is %s, not a time", c->time_field,
		    rec_type_name(v.type) );
		*why = msg;
		return -1;
	}
	if (rc != 0) {
		snprintf(msg, sizeof c->why, "bad time in '%s': %s: %.*s", c->time_field, reason,
		    (int)(len > 64 ? 64 : len), text);
		*why = msg;
		return -1;
	}
	return 0;
}

struct expr *
cli_expr(const char *opt, const char *arg)
{
	struct expr_err err;
	struct expr *x = expr_compile(arg, &err);

	if (x == NULL)
		diag_usage_error("%s: column %zu: %s", opt, err.column, err.text);
	return x;
}
