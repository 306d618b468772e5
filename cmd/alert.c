/* alert: threshold, rate, repetition, absence, anomaly and spike rules in event time, with Prometheus's alert states and safe notification. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cli.h"
#include "diag.h"
#include "input.h"
#include "notify.h"
#include "record.h"
#include "rules.h"
#include "run.h"
#include "timeval.h"

enum {
	OPT_RULE = CLI_TOOL_BASE,	/* a member of the command line's rule: its name is the long option's */
	OPT_RULES,
	OPT_LATENESS,
	OPT_LATE,
	OPT_PASS,
	OPT_ALERTS,
	OPT_FORMAT,
	OPT_EXEC,
	OPT_EXEC_TIMEOUT,
	OPT_EXEC_RETRIES,
	OPT_FAILED,
	OPT_STATE,
	OPT_IDLE,
	OPT_MAX_KEYS
};

static const struct option longopts[] = {
	CLI_LONGOPTS,
	{ "input",		required_argument,	NULL, 'i' },
	{ "when",		required_argument,	NULL, OPT_RULE },
	{ "count",		required_argument,	NULL, OPT_RULE },
	{ "within",		required_argument,	NULL, OPT_RULE },
	{ "repeat",		required_argument,	NULL, OPT_RULE },
	{ "field",		required_argument,	NULL, OPT_RULE },
	{ "absent",		required_argument,	NULL, OPT_RULE },
	{ "zscore",		required_argument,	NULL, OPT_RULE },
	{ "window",		required_argument,	NULL, OPT_RULE },
	{ "alpha",		required_argument,	NULL, OPT_RULE },
	{ "warmup",		required_argument,	NULL, OPT_RULE },
	{ "spike",		required_argument,	NULL, OPT_RULE },
	{ "spike-down",		no_argument,		NULL, OPT_RULE },
	{ "min-count",		required_argument,	NULL, OPT_RULE },
	{ "by",			required_argument,	NULL, OPT_RULE },
	{ "where",		required_argument,	NULL, OPT_RULE },
	{ "for",		required_argument,	NULL, OPT_RULE },
	{ "keep-firing-for",	required_argument,	NULL, OPT_RULE },
	{ "cooldown",		required_argument,	NULL, OPT_RULE },
	{ "name",		required_argument,	NULL, OPT_RULE },
	{ "severity",		required_argument,	NULL, OPT_RULE },
	{ "label",		required_argument,	NULL, OPT_RULE },
	{ "summary",		required_argument,	NULL, OPT_RULE },
	{ "rules",		required_argument,	NULL, OPT_RULES },
	{ "lateness",		required_argument,	NULL, OPT_LATENESS },
	{ "late",		required_argument,	NULL, OPT_LATE },
	{ "pass",		no_argument,		NULL, OPT_PASS },
	{ "alerts",		required_argument,	NULL, OPT_ALERTS },
	{ "format",		required_argument,	NULL, OPT_FORMAT },
	{ "exec",		required_argument,	NULL, OPT_EXEC },
	{ "exec-timeout",	required_argument,	NULL, OPT_EXEC_TIMEOUT },
	{ "exec-retries",	required_argument,	NULL, OPT_EXEC_RETRIES },
	{ "failed",		required_argument,	NULL, OPT_FAILED },
	{ "state",		required_argument,	NULL, OPT_STATE },
	{ "idle",		required_argument,	NULL, OPT_IDLE },
	{ "max-keys",		required_argument,	NULL, OPT_MAX_KEYS },
	{ NULL, 0, NULL, 0 }
};

static const struct cli_help help = {
	"RULE-OPTIONS | --rules FILE [options]",
	"Watch an event stream for rules in event time; write a notice when an alert fires or resolves.",
	"  -i, --input FILE         read FILE (repeatable; default standard input)\n"
	"A rule's kind (one of):\n"
	"      --when EXPR          threshold: the record's EXPR is true\n"
	"      --count N            rate: N or more records in --within D\n"
	"      --within D           the window of --count and --spike: (t - D, t]\n"
	"      --repeat N           repetition: N consecutive equal values of --field\n"
	"      --absent D           absence: a key seen before has no record for D\n"
	"      --zscore K           anomaly: |z| of --field against the key's previous\n"
	"                           values is above K\n"
	"      --window N           ... over the previous N values (population sd)\n"
	"      --alpha A            ... or an EWMA mean and variance with weight A\n"
	"      --warmup M           with --alpha, judge only after M values (default 10)\n"
	"      --spike R            spike: the count in --within D is R times the one before\n"
	"      --spike-down         ... or at most 1/R of it\n"
	"      --min-count M        a spike needs M records in the window that has more\n"
	"      --field F            the value --repeat and --zscore look at\n"
	"Every rule:\n"
	"      --by F,...           one alert per value of these fields (default: one)\n"
	"      --where EXPR         the rule sees only the records EXPR holds for\n"
	"      --for D              the condition must hold for D before firing\n"
	"      --keep-firing-for D  keep firing for D after the condition ends\n"
	"      --cooldown D         no firing notice within D of the last one per key\n"
	"      --name NAME          the alert's name (default: the kind)\n"
	"      --severity S         the notice's severity\n"
	"      --label K=V          a label on the notice (repeatable)\n"
	"      --summary TEXT       a summary with {{value}} and {{.FIELD}} filled in\n"
	"      --rules FILE         more rules: a JSON array, or one object per line,\n"
	"                           members named like these options (repeatable)\n"
	"Time and output:\n"
	"      --lateness D         watermark = max event time - D (default 0)\n"
	"      --late FILE          append late records to FILE (default: report them)\n"
	"      --pass               pass the input on, with the notices interleaved\n"
	"      --alerts FILE        append notices to FILE instead of standard output\n"
	"      --format F           notices as ndjson (default) or alertmanager\n"
	"      --exec CMD           run CMD (no shell) per notice, the notice on stdin\n"
	"      --exec-timeout D     kill a notifier after D (default 10s)\n"
	"      --exec-retries N     retry a failed notifier N times (default 3)\n"
	"      --failed FILE        append notices no notifier took to FILE\n"
	"      --state FILE         keep alerts, windows and timers across runs\n"
	"      --idle D             when input is idle for D, let event time follow the\n"
	"                           wall clock (so an absence fires on a dead source)\n"
	"      --max-keys N         hold at most N (rule, key) states, forgetting the\n"
	"                           least recently seen\n",
	"Examples:\n"
	"  alert --when '.value > 500' --by user_id --severity page -i events.ndjson\n"
	"  alert --count 101 --within 30m --by user_id,session_id --name bot\n"
	"  alert --absent 5m --by host --idle 30s --format alertmanager --exec ./notify.sh\n"
};

/* The run's settings and state. */
static struct {
	struct cli	 cli;
	struct rl_set	*set;
	bool		 cmdline_rule;	/* a rule member was given on the command line */
	char		**inputs;
	int		 ninputs;
	int64_t		 lateness, idle;
	uint64_t	 max_keys;
	bool		 pass, alertmanager;
	const char	*late_path, *alerts_path, *state_path;
	struct nt_opts	 ntopts;
	bool		 have_timeout, have_retries;

	struct rl_engine *eng;
	struct nt	*nt;
	struct diag_side *late;
	FILE		*alerts;	/* --alerts FILE; NULL: standard output */
	json_t		*loaded;	/* a --state being read, taken by on_begin */
	struct buf	 notice;	/* the notice being written */
	struct buf	 after;		/* --pass: notices stamped with the record's time, written after it */
	bool		 in_record;
	int64_t		 rec_t;
	int64_t		 last_input, base_wm, base_wall;	/* --idle */
	/*
	 * The minute of the last record whose time was an ISO date and time
	 * to the second with at most a fraction after it: records of the same
	 * minute only add their seconds (most records share their minute).
	 */
	bool		 tc_on, tc_ok;
	char		 tc_min[16];
	int64_t		 tc_base;
	uint64_t	 lost;
	uint64_t	*c_firing, *c_resolved, *c_suppressed, *c_keys, *c_held, *c_evicted,
			*c_unselected, *c_no_key, *c_no_value, *c_bad_value;
} A;

static void	 parse_options(int, char **);
static void	 load_rules(char **files, size_t n);
static const char *as_options(const char *, char *, size_t);
static void	 check_options(void);
static void	 setup(void);
static json_t	*state_options(void);
static void	 on_notice(void *, const struct rl_notice *);
static void	 on_report(void *, enum nt_event, const char *);
static void	 on_begin(void *);
static void	 on_event(void *, struct rec *, const struct in_line *);
static void	 on_watermark(void *, int64_t, struct rec *, const struct in_line *);
static void	 on_tick(void *, int64_t);
static void	 on_end(void *, bool);
static int	 state_save(void *, FILE *);
static int	 state_load(void *, const char *, size_t, char *, size_t);
static void	 finish(void *);
static int	 after(void *, int);
static void	 sync_stats(void);
static void	 put_line(FILE *, const char *, size_t);
static int	 event_time(struct rec *, int64_t *, const char **);

static const struct run_ops ops = {
	.begin = on_begin,
	.event = on_event,
	.watermark = on_watermark,
	.tick = on_tick,
	.end = on_end,
	.save = state_save,
	.load = state_load,
	.free = finish,
	.after = after,
};

int
main(int argc, char **argv)
{
	struct run_spec spec = { .tool = "alert", .cli = &A.cli };

	diag_init(argv[0]);
	parse_options(argc, argv);
	setup();
	spec.paths = A.inputs;
	spec.npaths = A.ninputs;
	spec.state_path = A.state_path;
	spec.options = state_options();
	/*
	 * The tick drives --idle (once idle, event time moves on every second,
	 * not only every D) and, with --exec, feeds and reaps notifiers while
	 * the input is quiet.
	 */
	spec.tick_us = A.idle > 1000000 ? 1000000 : A.idle;
	if (A.nt != NULL && (spec.tick_us == 0 || spec.tick_us > 50000))
		spec.tick_us = 50000;
	return run_main(&spec, &ops, NULL);
}

/* parse_options reads the command line into A; a bad or meaningless option exits 2. */
static void
parse_options(int argc, char **argv)
{
	char **files = NULL, why[512];
	size_t nfiles = 0;
	int c, idx;

	cli_init(&A.cli);
	nt_opts_init(&A.ntopts);
	A.set = rl_set_new();
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS "i:", longopts, &idx)) != -1) {
		if (cli_common(&A.cli, c, optarg, &help))
			continue;
		switch (c) {
		case OPT_RULE:		/* a member of the command line's rule, named as its option */
			if (rl_option(A.set, longopts[idx].name, optarg, why, sizeof(why)) == -1)
				diag_usage_error("--%s: %s", longopts[idx].name, why);
			A.cmdline_rule = true;
			break;
		case 'i':		/* an input file, in order */
			A.inputs = xrealloc(A.inputs, (size_t)(A.ninputs + 1) * sizeof(*A.inputs));
			A.inputs[A.ninputs++] = optarg;
			break;
		case OPT_RULES:		/* rules files, loaded after the command line's rule */
			files = xrealloc(files, ++nfiles * sizeof(*files));
			files[nfiles - 1] = optarg;
			break;
		case OPT_LATENESS:	/* bounded out-of-orderness */
			A.lateness = cli_duration("--lateness", optarg, CLI_DUR_ZERO_OK);
			break;
		case OPT_LATE:		/* side output for late records */
			A.late_path = optarg;
			break;
		case OPT_PASS:		/* the input goes on, notices interleaved */
			A.pass = true;
			break;
		case OPT_ALERTS:
			A.alerts_path = optarg;
			break;
		case OPT_FORMAT:	/* ndjson or alertmanager */
			if (strcmp(optarg, "alertmanager") != 0 && strcmp(optarg, "ndjson") != 0)
				diag_usage_error("--format: must be ndjson or alertmanager: %s", optarg);
			A.alertmanager = optarg[0] == 'a';
			break;
		case OPT_EXEC:
			A.ntopts.cmd = optarg;
			break;
		case OPT_EXEC_TIMEOUT:
			A.ntopts.timeout_us = cli_duration("--exec-timeout", optarg, CLI_DUR_POSITIVE);
			A.have_timeout = true;
			break;
		case OPT_EXEC_RETRIES:
			A.ntopts.retries = (unsigned)cli_uint("--exec-retries", optarg, 0, 100);
			A.have_retries = true;
			break;
		case OPT_FAILED:
			A.ntopts.failed_path = optarg;
			break;
		case OPT_STATE:
			A.state_path = optarg;
			break;
		case OPT_IDLE:
			A.idle = cli_duration("--idle", optarg, CLI_DUR_POSITIVE);
			break;
		case OPT_MAX_KEYS:
			A.max_keys = cli_uint("--max-keys", optarg, 1, UINT64_C(1000000000000));
			break;
		default:
			diag_usage_error("unknown option");
		}
	}
	if (optind < argc)
		diag_usage_error("unexpected operand '%s' (read files with -i FILE, rules with --rules FILE)",
		    argv[optind]);
	load_rules(files, nfiles);
	free(files);
	check_options();
}

/* load_rules completes the command line's rule, then appends the rules files' rules. */
static void
load_rules(char **files, size_t n)
{
	char why[512], say[600];
	size_t i;

	if (A.cmdline_rule && rl_end(A.set, why, sizeof(why)) == -1)
		diag_usage_error("%s", as_options(why, say, sizeof(say)));
	for (i = 0; i < n; i++)
		if (rl_load_file(A.set, files[i], why, sizeof(why)) == -1)
			diag_die(EX_USAGE, "--rules: %s", why);
	if (rl_count(A.set) == 0)
		diag_usage_error("no rule: give one of --when, --count, --repeat, --absent, --zscore, --spike, or --rules FILE");
}

/*
 * as_options words a reason about the command line's rule as the user
 * wrote it: "rule 'rate': 'count' needs 'within'" becomes "--count needs
 * --within".  Quoted words that are not rule options stay as they are.
 */
static const char *
as_options(const char *why, char *out, size_t outsz)
{
	const char *p = why, *q, *e;
	size_t n = 0, i;

	if (strncmp(p, "rule '", 6) == 0 && (q = strstr(p, "': ")) != NULL)
		p = q + 3;
	while (*p != '\0' && n + 3 < outsz) {
		if (*p == '\'' && (e = strchr(p + 1, '\'')) != NULL) {
			for (i = 0; longopts[i].name != NULL; i++)
				if (longopts[i].val == OPT_RULE && strlen(longopts[i].name) == (size_t)(e - p - 1) &&
				    memcmp(longopts[i].name, p + 1, (size_t)(e - p - 1)) == 0)
					break;
			if (longopts[i].name != NULL) {
				n += (size_t)snprintf(out + n, outsz - n, "--%s", longopts[i].name);
				p = e + 1;
				continue;
			}
		}
		out[n++] = *p++;
	}
	out[n < outsz ? n : outsz - 1] = '\0';
	return out;
}

/* check_options refuses combinations that have no meaning, named as the user wrote them. */
static void
check_options(void)
{
	if (A.ntopts.cmd == NULL) {
		if (A.have_timeout)
			diag_usage_error("--exec-timeout needs --exec");
		if (A.have_retries)
			diag_usage_error("--exec-retries needs --exec");
		if (A.ntopts.failed_path != NULL)
			diag_usage_error("--failed needs --exec");
	}
}

/* setup makes the engine, the notifier and the --stats counters. */
static void
setup(void)
{
	char why[256];

	A.eng = rl_engine_new(A.set, A.lateness, (size_t)A.max_keys, on_notice, NULL);
	if (A.ntopts.cmd != NULL) {
		A.ntopts.report = on_report;
		if ((A.nt = nt_new(&A.ntopts, why, sizeof(why))) == NULL)
			diag_usage_error("--exec: %s", why);
	}
	A.c_firing = diag_counter("firing");
	A.c_resolved = diag_counter("resolved");
	A.c_suppressed = diag_counter("suppressed");
	A.c_keys = diag_counter("keys");
	A.c_held = diag_counter("held");
	A.c_unselected = diag_counter("unselected");
	A.c_no_key = diag_counter("no_key");
	A.c_no_value = diag_counter("no_value");
	A.c_bad_value = diag_counter("bad_value");
	A.c_evicted = A.max_keys > 0 ? diag_counter("evicted") : NULL;
	A.base_wm = TV_MIN;
	/* The minute cache assumes a minute maps to instants linearly: true in UTC, not across an LMT offset with seconds. */
	A.tc_on = (A.cli.time_format.kind == TV_AUTO || A.cli.time_format.kind == TV_ISO) && A.cli.tz == NULL;
}

/* on_begin opens the side outputs (after lib/run has taken the --state lock) and restores the state read. */
static void
on_begin(void *ctx)
{
	char why[512];

	A.late = diag_side_open(A.late_path, "late", "late record");
	if (A.alerts_path != NULL) {
		if ((A.alerts = fopen(A.alerts_path, "a")) == NULL)
			diag_die(EX_IOERR, "--alerts: %s: %s", A.alerts_path, strerror(errno));
		diag_add_flush(A.alerts);
	}
	if (A.loaded != NULL) {
		if (rl_load(A.eng, A.loaded, why, sizeof(why)) == -1)
			diag_die(EX_IOERR, "state file %s: %s", A.state_path, why);
		json_decref(A.loaded);
		A.loaded = NULL;
	}
	A.base_wm = rl_watermark_now(A.eng);
	A.base_wall = A.last_input = tv_now();
}

/* ---- the record loop ---- */

static void
on_event(void *ctx, struct rec *rec, const struct in_line *ln)
{
	const char *why;
	int64_t t;
	int rc;

	if (event_time(rec, &t, &why) == -1) {
		diag_reject(&ln->pos, ln->data, ln->len, "%s", why);
		return;
	}
	/* Notices stamped t wait for the line; those the record's watermark released go before it. */
	A.in_record = A.pass;
	A.rec_t = t;
	rc = rl_record(A.eng, rec, t);
	A.in_record = false;
	if (rc == RL_LATE)
		diag_side_write(A.late, &ln->pos, ln->data, ln->len);
	if (A.pass) {
		put_line(stdout, ln->data, ln->len);
		diag_out++;
		if (A.after.len > 0) {
			fwrite(A.after.p, 1, A.after.len, stdout);
			buf_reset(&A.after);
		}
	}
	if (A.nt != NULL && nt_pending(A.nt) > 0)
		nt_poll(A.nt, 0);
	if (A.idle > 0) {
		A.base_wm = rl_watermark_now(A.eng);
		A.base_wall = A.last_input = tv_now();
	}
	sync_stats();
}

/*
 * iso_seconds reads what follows the minute of an ISO time when it is
 * ":SS" (not a leap second), then nothing or a '.' and digits: the
 * microseconds into the minute, the fraction's first six digits as
 * tv_parse reads them.  Returns false for anything else.
 */
static bool
iso_seconds(const char *s, size_t len, int64_t *us)
{
	unsigned d1, d2, x = 0;
	size_t i;
	int n = 0;

	if (len < 3 || len == 4 || s[0] != ':' || (d1 = (unsigned)(s[1] - '0')) > 5 ||
	    (d2 = (unsigned)(s[2] - '0')) > 9 || (len > 3 && s[3] != '.'))
		return false;
	for (i = 4; i < len; i++, n++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9)
			return false;
		if (n < 6)
			x = x * 10 + d;
	}
	for (; n < 6; n++)
		x *= 10;
	*us = (int64_t)(d1 * 10 + d2) * TV_US_PER_S + x;
	return true;
}

/* iso_minute reports whether s is YYYY-MM-DDTHH:MM (T, t or a space) followed by what iso_seconds reads. */
static bool
iso_minute(const char *s, size_t len, int64_t *us)
{
	static const char shape[] = "dddd-dd-ddTdd:dd";
	size_t i;

	if (len < sizeof(shape) - 1)
		return false;
	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? (unsigned)(s[i] - '0') > 9 :
		    shape[i] == 'T' ? s[i] != 'T' && s[i] != 't' && s[i] != ' ' : s[i] != shape[i])
			return false;
	return iso_seconds(s + sizeof(shape) - 1, len - (sizeof(shape) - 1), us);
}

/*
 * event_time is cli_time with a cache: a time in the same minute as the
 * last one parsed (the same 16 bytes, then only seconds and a fraction)
 * is that minute plus its seconds.  Everything else, and every error, is
 * cli_time's.
 */
static int
event_time(struct rec *rec, int64_t *t, const char **why)
{
	struct rec_val v;
	int64_t us;
	bool str;

	if (!A.tc_on)
		return cli_time(&A.cli, rec, t, why);
	str = rec_get(rec, A.cli.time_path, &v) == RT_STRING;
	if (str && A.tc_ok && v.slen >= sizeof(A.tc_min) && memcmp(v.s, A.tc_min, sizeof(A.tc_min)) == 0 &&
	    iso_seconds(v.s + sizeof(A.tc_min), v.slen - sizeof(A.tc_min), &us)) {
		*t = A.tc_base + us;
		return 0;
	}
	if (cli_time(&A.cli, rec, t, why) == -1)
		return -1;
	if (str && iso_minute(v.s, v.slen, &us)) {
		memcpy(A.tc_min, v.s, sizeof(A.tc_min));
		A.tc_base = *t - us;
		A.tc_ok = true;
	}
	return 0;
}

/* on_watermark raises T: what it releases goes out before the watermark line (--pass). */
static void
on_watermark(void *ctx, int64_t t, struct rec *rec, const struct in_line *ln)
{
	rl_watermark(A.eng, t);
	if (A.pass && !A.cli.no_watermarks)
		put_line(stdout, ln->data, ln->len);
	if (A.idle > 0) {
		A.base_wm = rl_watermark_now(A.eng);
		A.base_wall = A.last_input = tv_now();
	}
	sync_stats();
}

/*
 * on_tick runs while the input is quiet: notifiers make progress, and with
 * --idle D, once nothing has arrived for D, event time moves with the wall
 * clock from the last input on (T = T then + wall time since).
 */
static void
on_tick(void *ctx, int64_t now)
{
	int64_t t;

	if (A.nt != NULL)
		nt_poll(A.nt, 0);
	if (A.idle > 0 && A.base_wm != TV_MIN && now - A.last_input >= A.idle) {
		if (__builtin_add_overflow(A.base_wm, now - A.base_wall, &t) || t == TV_MAX)
			t = TV_MAX - 1;
		rl_watermark(A.eng, t);
		sync_stats();
	}
}

/*
 * on_end: without --state, end of input takes what the largest time seen
 * decides; with it, everything waits for the next run, so two runs equal
 * one.  Either way the notifiers get their chance to finish.
 */
static void
on_end(void *ctx, bool keep)
{
	if (!keep)
		rl_finish(A.eng);
	if (A.nt != NULL)
		nt_drain(A.nt);
	sync_stats();
}

/* on_notice writes one notice: to the output (or --alerts), and to --exec. */
static void
on_notice(void *ctx, const struct rl_notice *n)
{
	FILE *out = A.alerts != NULL ? A.alerts : stdout;

	buf_reset(&A.notice);
	if (A.alertmanager)
		rl_notice_alertmanager(A.set, n, &A.notice);
	else
		rl_notice_json(A.set, n, &A.notice);
	if (A.nt != NULL)
		nt_send(A.nt, A.notice.p, A.notice.len);
	if (A.in_record && out == stdout && n->at >= A.rec_t) {
		buf_add(&A.after, A.notice.p, A.notice.len);
		buf_addc(&A.after, '\n');
	} else
		put_line(out, A.notice.p, A.notice.len);
	if (out == stdout)
		diag_out++;
}

/* on_report prints what the notifier says: a retry, a notice kept in --failed, or one lost. */
static void
on_report(void *ctx, enum nt_event ev, const char *reason)
{
	diag_warn("--exec: %s", reason);
}

static void
put_line(FILE *f, const char *p, size_t len)
{
	fwrite(p, 1, len, f);
	putc('\n', f);
}

/* sync_stats copies the engine's counters to --stats (SIGUSR1 may print them at any time). */
static void
sync_stats(void)
{
	const struct rl_stats *s = rl_stats(A.eng);

	*A.c_firing = s->firing;
	*A.c_resolved = s->resolved;
	*A.c_suppressed = s->suppressed;
	*A.c_keys = s->keys;
	*A.c_held = s->held;
	*A.c_unselected = s->unselected;
	*A.c_no_key = s->no_key;
	*A.c_no_value = s->no_value;
	*A.c_bad_value = s->bad_value;
	if (A.c_evicted != NULL)
		*A.c_evicted = s->evicted;
}

/* ---- --state: the engine's state as lines: one "engine" line, then "held" records and "key" states ---- */

/* state_options names what a state depends on: each rule's definition, so a changed rule refuses it. */
static json_t *
state_options(void)
{
	json_t *saved = rl_save(A.eng), *o = json_object(), *def;
	const char *name;
	char key[300];

	json_object_foreach(json_object_get(saved, "rules"), name, def) {
		char *text = json_dumps(def, JSON_COMPACT | JSON_SORT_KEYS);

		snprintf(key, sizeof(key), "rule '%s'", name);
		json_object_set_new(o, key, json_string(text));
		free(text);
	}
	json_decref(saved);
	return o;
}

static int
save_line(FILE *f, const char *what, json_t *v)
{
	json_t *line = json_pack("{sO}", what, v);
	int rc = json_dumpf(line, f, JSON_COMPACT);

	json_decref(line);
	if (rc == 0 && putc('\n', f) == EOF)
		rc = -1;
	return rc;
}

static int
state_save(void *ctx, FILE *f)
{
	json_t *o = rl_save(A.eng), *held, *keys, *v;
	size_t i;
	int rc;

	held = json_incref(json_object_get(o, "held"));
	keys = json_incref(json_object_get(o, "keys"));
	json_object_del(o, "held");
	json_object_del(o, "keys");
	rc = save_line(f, "engine", o);
	json_array_foreach(held, i, v)
		if (rc == 0)
			rc = save_line(f, "held", v);
	json_array_foreach(keys, i, v)
		if (rc == 0)
			rc = save_line(f, "key", v);
	json_decref(held);
	json_decref(keys);
	json_decref(o);
	return rc;
}

/* state_load gathers the lines into one object; on_begin hands it to the engine. */
static int
state_load(void *ctx, const char *line, size_t len, char *why, size_t whysz)
{
	json_error_t je;
	json_t *o, *v;
	const char *what = NULL;

	if ((o = json_loadb(line, len, 0, &je)) == NULL) {
		snprintf(why, whysz, "%s", je.text);
		return -1;
	}
	if (json_object_size(o) == 1)
		json_object_foreach(o, what, v)
			break;
	if (what == NULL || !json_is_object(v) ||
	    (strcmp(what, "engine") != 0 && A.loaded == NULL)) {
		json_decref(o);
		snprintf(why, whysz, "not a state line of alert");
		return -1;
	}
	if (strcmp(what, "engine") == 0) {
		if (A.loaded != NULL) {
			json_decref(o);
			snprintf(why, whysz, "a second engine line");
			return -1;
		}
		A.loaded = json_incref(v);
		json_object_set_new(A.loaded, "held", json_array());
		json_object_set_new(A.loaded, "keys", json_array());
	} else if (strcmp(what, "held") == 0 || strcmp(what, "key") == 0) {
		json_array_append(json_object_get(A.loaded, what[0] == 'h' ? "held" : "keys"), v);
	} else {
		json_decref(o);
		snprintf(why, whysz, "not a state line of alert");
		return -1;
	}
	json_decref(o);
	return 0;
}

/* ---- the end ---- */

/* finish reports what was skipped, ends the notifier and frees everything. */
static void
finish(void *ctx)
{
	const struct rl_stats *s = rl_stats(A.eng);

	sync_stats();
	if (s->no_key > 0)
		diag_warn("skipped %" PRIu64 " record%s without a --by field (no_key)", s->no_key,
		    s->no_key == 1 ? "" : "s");
	if (s->no_value > 0)
		diag_warn("skipped %" PRIu64 " record%s without a --field value (no_value)", s->no_value,
		    s->no_value == 1 ? "" : "s");
	if (s->bad_value > 0)
		diag_warn("skipped %" PRIu64 " record%s with a --field value that is not a number (bad_value)",
		    s->bad_value, s->bad_value == 1 ? "" : "s");
	if (A.nt != NULL) {
		const struct nt_stats *ns = nt_stats(A.nt);

		*diag_counter("exec_delivered") = ns->delivered;
		*diag_counter("exec_attempts") = ns->attempts;
		*diag_counter("exec_retries") = ns->retries;
		*diag_counter("exec_timeouts") = ns->timeouts;
		*diag_counter("exec_failed") = ns->failed;
		*diag_counter("exec_lost") = A.lost = ns->lost;
		nt_free(A.nt);
		A.nt = NULL;
	}
	rl_engine_free(A.eng);
	rl_set_free(A.set);
	json_decref(A.loaded);
	if (A.alerts != NULL && fclose(A.alerts) != 0) {
		diag_err("--alerts: %s", A.alerts_path);
		diag_note_ioerr();
	}
	buf_free(&A.notice);
	buf_free(&A.after);
	free(A.inputs);
}

/* after: a notice that no notifier took and no --failed file kept is lost, and the run says so. */
static int
after(void *ctx, int status)
{
	if (A.lost > 0 && status == EX_OK_ALL)
		return EX_REJECTED;
	return status;
}
