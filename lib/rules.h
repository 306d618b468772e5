/* rules: alert's rule kinds as one table, the alert state machine per (rule, key), and the event-time engine that runs them. */
#ifndef NDFLOW_RULES_H
#define NDFLOW_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "record.h"

/*
 * A rule set is built option by option, the same way from the command
 * line and from a rules file: rl_begin starts a rule, rl_option sets one
 * member (its long option name without the dashes: "count", "within",
 * "keep-firing-for", ...), rl_end checks it and compiles its
 * expressions.  rl_load_file does the three for every rule of a file.
 *
 * The kinds (rules.c, rl_kinds[]) are rows of one table, selected by the
 * member that names them: threshold (when), rate (count, with within),
 * repetition (repeat, with field), absence (absent), anomaly (zscore,
 * with field and window or alpha), spike (spike, with within).  Every
 * kind takes by, where, for, keep-firing-for, cooldown, name, severity,
 * label and summary.  Each row has its whole lifecycle: check, init,
 * apply a record, the next instant its condition can change with no
 * record (due) and that change (tick), evidence, save, load and free.
 *
 * Errors are returned as -1 with an English reason in the caller's
 * buffer; nothing here prints or exits.
 */
struct rl_set;

/* rl_set_new returns an empty rule set; aborts on allocation failure. */
struct rl_set	*rl_set_new(void);
/* rl_set_free frees the set and its compiled expressions; NULL is allowed.  Free engines using it first. */
void		 rl_set_free(struct rl_set *);

/* rl_begin starts a new rule; rl_option and rl_end apply to it. */
void	rl_begin(struct rl_set *);
/*
 * rl_option sets member opt of the current rule from its command-line
 * text (arg is NULL for a flag: spike-down).  label may be given many
 * times ("K=V"); by is "F,F,...".  Returns 0, or -1 with a reason that
 * does not repeat the option name, for example
 *   duration must be positive: 0s
 *   must be a whole number from 1 to 1000000000: 0
 *   column 7: expected a value after '>'
 *   unknown option
 *   given twice
 * The caller writes "alert: --count: REASON".
 */
int	rl_option(struct rl_set *, const char *opt, const char *arg, char *why, size_t whylen);
/*
 * rl_end checks the current rule as a whole (exactly one kind, the
 * members its kind needs, no member its kind does not take, a unique
 * name) and completes it.  A rule without a name is named after its
 * kind.  Returns 0, or -1 with a reason such as
 *   rule 'bot': 'count' needs 'within'
 *   rule 'rate': 'field' does not apply to a rate rule
 *   a rule needs one of when, count, repeat, absent, zscore, spike
 *   duplicate rule name 'bot'
 * and the rule is discarded.
 */
int	rl_end(struct rl_set *, char *why, size_t whylen);

/*
 * rl_load_file reads the rules in path: a JSON array of objects, or one
 * object per line (blank lines skipped), members mirroring the long
 * options ({"name":"bot","count":101,"within":"10m",
 * "by":["user_id","session_id"],"cooldown":"10m"}).  Durations are
 * strings ("10m"); counts are whole numbers; by is an array of strings
 * (or one "F,F" string); label is an object of strings, a "K=V" string or
 * an array of them; spike-down is a boolean.  Rules are appended to the
 * set.  Returns 0, or -1 with one reason naming the file, the rule and
 * the member:
 *   rules.json: cannot open: No such file or directory
 *   rules.json: no rules                           (empty, or only blank lines, or [])
 *   rules.json:3:14: '}' expected near 'x'        (JSON syntax, line:column)
 *   rules.json: rule 2 (bot): unknown member 'cont'
 *   rules.json: rule 2 (bot): member 'count': must be a whole number, not a string
 *   rules.json: rule 1 (hot): member 'when': column 9: expected a value after '>'
 *   rules.json: rule 3 (bot): duplicate rule name 'bot'
 * After a failure the set holds the rules before the bad one (the caller
 * exits 2 anyway).
 */
int	rl_load_file(struct rl_set *, const char *path, char *why, size_t whylen);

/* rl_count returns the number of complete rules; rl_name and rl_kind_name describe rule i. */
size_t		 rl_count(const struct rl_set *);
const char	*rl_name(const struct rl_set *, size_t i);
const char	*rl_kind_name(const struct rl_set *, size_t i);

/*
 * ---- The engine ----
 *
 * Event time only.  The watermark T is max(largest event time -
 * lateness, largest watermark given); it starts at -inf and never goes
 * down.  A record whose time is below T when it arrives is late: it
 * changes nothing (rl_record returns RL_LATE; the caller sends it to
 * --late).  Other records are held, one entry per rule that selects
 * them, until T reaches their time, then applied in order of (time,
 * arrival); with lateness 0 that is on arrival.  Sample and hold: a
 * key's condition is set by its latest applied record.
 *
 * States per (rule, key): inactive, pending (only with for), firing.
 * Notices are made for the change to firing and for firing -> resolved.
 * A decision that no record carries (the end of a for, of a keep-firing
 * period, a rate or spike window changing, an absence) is due at an
 * instant X; it is taken once T > X, stamped X, after every record
 * stamped X.  At one instant: records, then window changes, then the
 * ends of for and keep-firing periods; keys due at the same instant go in
 * order of rule, then key bytes.
 *
 * cooldown C: a firing notice at t0 is suppressed when t0 < L + C, L the
 * time of the last firing notice written for that (rule, key); the
 * resolved notice of a suppressed firing is suppressed too.  The state
 * machine does not see cooldowns.
 */
struct rl_engine;

/* Evidence members present in a notice. */
#define RL_EV_VALUE	0x01
#define RL_EV_COUNT	0x02
#define RL_EV_Z		0x04
#define RL_EV_RATIO	0x08	/* ratio may be +inf (previous count 0): written as null */
#define RL_EV_PREVIOUS	0x10
#define RL_EV_LAST	0x20
#define RL_EV_STATS	0x40	/* mean and sd */

/*
 * A notice, as the engine hands it to the callback.  Every pointer is
 * borrowed and valid only during the call.
 */
struct rl_notice {
	size_t		 rule;		/* index in the set */
	const char	*alert;		/* the rule's name */
	bool		 firing;	/* false: resolved */
	int64_t		 at;		/* when the transition happened (event time) */
	int64_t		 since;		/* when the condition became true (start of pending or firing) */
	/* The --by values: canonical JSON texts joined by 0x1f (no such byte can occur inside one). */
	const char	*key;
	size_t		 keylen;
	unsigned	 has;		/* RL_EV_* */
	const char	*value;		/* RL_EV_VALUE: JSON text */
	size_t		 valuelen;
	uint64_t	 count;		/* RL_EV_COUNT: records in the window or the run */
	uint64_t	 previous;	/* RL_EV_PREVIOUS: spike's count in the window before */
	double		 z;		/* RL_EV_Z */
	double		 ratio;		/* RL_EV_RATIO */
	double		 mean, sd;	/* RL_EV_STATS: of the previous values */
	int64_t		 last;		/* RL_EV_LAST: absence's last record */
};

typedef void	rl_notice_fn(void *ctx, const struct rl_notice *);

/* Counters for --stats; the caller reads them at any time. */
struct rl_stats {
	uint64_t	records;	/* records given to rl_record */
	uint64_t	late;		/* of which late */
	uint64_t	applied;	/* (rule, record) pairs applied */
	uint64_t	unselected;	/* (rule, record) pairs a where left out */
	uint64_t	no_key;		/* (rule, record) pairs missing a --by field */
	uint64_t	no_value;	/* missing or null --field (repetition, anomaly) */
	uint64_t	bad_value;	/* a non-numeric --field for anomaly */
	uint64_t	firing;		/* firing notices written */
	uint64_t	resolved;	/* resolved notices written */
	uint64_t	suppressed;	/* notices suppressed by cooldown, both kinds */
	uint64_t	evicted;	/* (rule, key) states evicted by max_keys */
	uint64_t	keys;		/* (rule, key) states held now */
	uint64_t	held;		/* records held for the watermark now */
};

/*
 * rl_engine_new returns an engine running the rules of set (borrowed:
 * it must outlive the engine and not change).  lateness >= 0.
 * max_keys 0 means no bound; otherwise at most that many (rule, key)
 * states are held and the least recently touched is forgotten.  fn is
 * called for each notice written.  Aborts on allocation failure.
 */
struct rl_engine	*rl_engine_new(const struct rl_set *, int64_t lateness, size_t max_keys,
			    rl_notice_fn *fn, void *ctx);
void			 rl_engine_free(struct rl_engine *);

#define RL_OK	0
#define RL_LATE	1

/*
 * rl_record takes one parsed record (borrowed, read only during the
 * call) with event time t: every rule's where, by, field and when are
 * evaluated now, the result held or applied, T raised, and everything
 * T releases taken (notices through the callback, in time order).
 * Returns RL_OK, or RL_LATE when t < T (nothing changes except the
 * late counter).
 *
 * For --pass: every notice made during the call has at <= t.  Those
 * with at < t were released by the watermark this record raised and go
 * before its line; those with at == t (lateness 0: caused by this
 * record, or by another record stamped t) go after it.
 */
int	rl_record(struct rl_engine *, struct rec *, int64_t t);
/*
 * What one record brings to one rule, for callers that evaluate the
 * record themselves: the key (the --by values' canonical JSON joined by
 * 0x1f, or empty), the truth of --when (threshold), and the --field
 * value as JSON text with, for anomaly, its number.  Borrowed.
 */
struct rl_input {
	const char	*key;
	size_t		 keylen;
	bool		 cond;
	bool		 hasval;
	const char	*value;
	size_t		 valuelen;
	double		 num;
};

/*
 * rl_input is rl_record for one rule whose where already selected the
 * record: the input is copied and held or applied, T raised, and what T
 * releases taken.  Returns RL_OK or RL_LATE as rl_record does; a rule
 * that needs a value and has none counts it in no_value.  The records
 * counter is the caller's (it is rl_record's alone).
 */
int	rl_input(struct rl_engine *, size_t rule, int64_t t, const struct rl_input *);
/*
 * rl_watermark raises T to at least wm (a {"@watermark"} record, or the
 * wall clock of --idle) and takes what that releases.  A watermark of
 * TV_MAX is the end of a stream: it releases every record and every
 * timer, as window does; alert calls rl_finish at end of input instead.
 */
void	rl_watermark(struct rl_engine *, int64_t wm);
/*
 * rl_finish is the end of input: every held record is applied and every
 * decision due at X <= the largest event time seen is taken; nothing
 * beyond that fires or resolves.  The engine stays usable, but records
 * after it with times below that largest time are late.  For --state,
 * save before finishing (or instead of it) to make two runs equal one.
 */
void	rl_finish(struct rl_engine *);
/* rl_watermark_now returns T (TV_MIN before any); rl_max_time the largest event time seen (TV_MIN before any). */
int64_t	rl_watermark_now(const struct rl_engine *);
int64_t	rl_max_time(const struct rl_engine *);
/* rl_stats returns the engine's counters (keys, held and evicted are refreshed on each call). */
const struct rl_stats	*rl_stats(struct rl_engine *);

/*
 * rl_save returns the engine's whole state as a new JSON object: T, the
 * largest time, the held records, and every (rule, key) state with its
 * timers and cooldown (least recently touched first), rules named by
 * name with their definition, so a load with changed rules is refused.
 * Counters are not saved.
 */
json_t	*rl_save(const struct rl_engine *);
/*
 * rl_load replaces a new engine's state with a saved one (borrowed).
 * Returns 0, or -1 with a reason ("rule 'bot' is not defined the same
 * way as when the state was saved", "malformed state: ...") and the
 * engine is then empty again.
 */
int	rl_load(struct rl_engine *, json_t *, char *why, size_t whylen);

/*
 * rl_notice_json appends the notice as one compact JSON object (no
 * newline): alert, state, at, since, the --by fields under their names,
 * the evidence, severity, labels (an object), summary (placeholders
 * expanded).  Field by field:
 *   alert, state ("firing" or "resolved"), at and since (RFC 3339),
 *   each --by field, value, count, previous, ratio, z, mean, sd,
 *   last_seen (RFC 3339), severity, labels, summary.
 * In a summary {{value}} is the notice's value (strings without quotes)
 * and {{.F}} its member F or --by field F.
 */
void	rl_notice_json(const struct rl_set *, const struct rl_notice *, struct buf *out);
/*
 * rl_notice_alertmanager appends the notice as the JSON array Alertmanager's
 * POST /api/v2/alerts takes: one alert with labels (alertname, the --by
 * fields as strings, severity, the rule's labels), annotations.summary,
 * startsAt (since) and, when resolved, endsAt (at).
 */
void	rl_notice_alertmanager(const struct rl_set *, const struct rl_notice *, struct buf *out);

#endif
