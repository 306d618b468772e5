/* dedupe: drop repeated records, exactly, within an event-time horizon, in bounded memory, or approximately. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bloom.h"
#include "buf.h"
#include "cli.h"
#include "diag.h"
#include "expr.h"
#include "fpset.h"
#include "input.h"
#include "keyset.h"
#include "record.h"
#include "run.h"
#include "timeval.h"

enum {
	OPT_WITHIN = CLI_TOOL_BASE,
	OPT_MAX_KEYS,
	OPT_APPROX,
	OPT_ERROR,
	OPT_CAPACITY,
	OPT_KEEP,
	OPT_COUNT,
	OPT_DUPES,
	OPT_WHERE,
	OPT_STATE,
	OPT_MISSING,
	OPT_IGNORE
};

static const struct option longopts[] = {
	CLI_LONGOPTS,
	{ "key",	required_argument,	NULL, 'k' },
	{ "within",	required_argument,	NULL, OPT_WITHIN },
	{ "max-keys",	required_argument,	NULL, OPT_MAX_KEYS },
	{ "approx",	no_argument,		NULL, OPT_APPROX },
	{ "error",	required_argument,	NULL, OPT_ERROR },
	{ "capacity",	required_argument,	NULL, OPT_CAPACITY },
	{ "keep",	required_argument,	NULL, OPT_KEEP },
	{ "count",	no_argument,		NULL, OPT_COUNT },
	{ "dupes",	required_argument,	NULL, OPT_DUPES },
	{ "where",	required_argument,	NULL, OPT_WHERE },
	{ "state",	required_argument,	NULL, OPT_STATE },
	{ "missing",	required_argument,	NULL, OPT_MISSING },
	{ "ignore",	required_argument,	NULL, OPT_IGNORE },
	{ NULL, 0, NULL, 0 }
};

static const struct cli_help help = {
	"[options] [file ...]",
	"Drop repeated records: the first of each key passes, later ones are dropped.",
	"  -k, --key F,...          compare these fields (default: the whole record)\n"
	"      --ignore F,...       compare the whole record less these fields\n"
	"      --missing WHAT       a record without a key field is rejected (reject,\n"
	"                           the default) or has null for it (null)\n"
	"      --within D           a key repeats only within D of event time after its\n"
	"                           first occurrence; older keys leave memory\n"
	"      --max-keys N         remember at most N keys, forgetting the least\n"
	"                           recently seen (which then pass again)\n"
	"      --approx             remember keys in a Bloom filter of fixed memory\n"
	"      --error P            its false-positive rate (default 0.01)\n"
	"      --capacity N         the distinct keys it is sized for (default 1000000)\n"
	"      --keep first|last    write the first record of a key (default) or, with\n"
	"                           --within, the last when its horizon closes\n"
	"      --count              add dup_count, the key's records in its horizon,\n"
	"                           writing each when its horizon closes\n"
	"      --dupes FILE         append every dropped record to FILE\n"
	"      --where EXPR         deduplicate only the records EXPR selects\n"
	"      --state FILE         remember keys across runs in FILE\n",
	"Examples:\n"
	"  dedupe events.ndjson > unique.ndjson\n"
	"  dedupe -k user_id,session_id --within 10m --dupes repeats.ndjson events.ndjson\n"
	"  dedupe -k event_id --approx --capacity 10000000 --error 0.001 --stats\n"
	"  dedupe --ignore ts,_write_ts dns.ndjson\n"
};
/*
 * dedupe's part of the state of one key: its value in the keyset, whose
 * key is the key's canonical bytes when they are shorter than a
 * fingerprint (a short -k key, kept exactly), else their fingerprint
 * (every whole record).  The keyset holds the rest: the
 * key's timer is the event time of its first occurrence (--within, or 0
 * when records are held without it), so closing horizons as the
 * watermark advances takes only the keys that are due; its LRU list
 * bounds the keys (--max-keys).
 */
struct ent {
	uint64_t	 seq;		/* arrival order of the first occurrence: the state file's order */
	uint64_t	 count;		/* occurrences in this horizon */
	struct held	*h;		/* the record to emit when the horizon closes (--keep last, --count) */
};

/*
 * A held record.  Held records wait in the hold heap, ordered by event
 * time: one whose horizon has closed (ready) goes out once no earlier
 * record is held, so the output stays in event-time order, and the
 * watermark forwarded never passes the earliest record still held.
 * They are not keyset entries: a ready record outlives its key (which is
 * deleted, and may come back, when its horizon closes), so it has no key
 * to be filed under, and ties go by arrival, not by key bytes.
 */
struct held {
	int64_t		 t;		/* its event time (0 without --within: unknown) */
	uint64_t	 seq;		/* arrival order, for ties */
	uint64_t	 count;		/* dup_count, fixed when the horizon closes */
	size_t		 hidx;		/* index in the hold heap */
	bool		 ready;		/* its horizon closed */
	char		*p;
	size_t		 len, cap;
	struct diag_pos	 pos;
};

/* The run's settings and state: one of these, file-local, so helpers stay short. */
static struct {
	struct cli	 cli;
	struct rec_path	**keys;		/* -k; none: the whole record */
	size_t		 nkeys;
	struct rec_path	**ignore;	/* --ignore: fields the whole record is compared without */
	size_t		 nignore;
	bool		 missing_null;
	int64_t		 within;	/* -1: no horizon */
	uint64_t	 max_keys;	/* 0: no limit */
	bool		 approx;
	double		 error;
	uint64_t	 capacity;
	bool		 keep_last;
	bool		 count;
	bool		 hold;		/* records wait for their horizon to close (keep last, count) */
	bool		 timers;	/* keys have a timer, their first occurrence: --within or hold */
	const char	*dupes_path;
	struct expr	*where;
	const char	*state_path;

	struct ks	*ks;		/* keys with a horizon, a bound or a held record; short -k keys */
	struct fpset	*fps;		/* keys that need only "seen before?": fingerprints */
	struct bloom	*bloom;
	struct held	**hheap;	/* held records: min-heap on (t, seq) */
	size_t		 nhheap, caphheap;
	uint64_t	 hseq, hseq_next;
	int64_t		 in_wm;		/* the latest watermark record read, TV_MIN if none */
	int64_t		 fwd_wm;	/* the latest watermark written, TV_MIN if none */
	uint64_t	 seq;
	int64_t		 wm;		/* max event time and input watermarks seen */
	struct diag_side *dupes;
	struct rec	*rec;		/* the input record */
	struct rec	*out;		/* a held record being emitted */
	struct rec	*staterec;	/* a --state line being loaded */
	struct buf	 key, tmp;
	char		**names;	/* file names of held records' positions, interned */
	size_t		 nnames;
	const char	*intern_in, *intern_out;	/* the last name interned and its copy */

	uint64_t	*n_dupes, *n_expired, *n_evicted, *n_unselected, *n_keys, unused;
} D;

static void	 parse_options(int, char **);
static void	 check_options(bool, bool);
static void	 setup(void);
static json_t	*state_options(void);
static void	 on_event(void *, struct rec *, const struct in_line *);
static void	 on_watermark(void *, int64_t, struct rec *, const struct in_line *);
static void	 on_end(void *, bool);
static int	 state_save(void *, FILE *);
static int	 state_load(void *, const char *, size_t, char *, size_t);
static void	 state_header(void *, json_t *);
static int	 state_restore(void *, json_t *, char *, size_t);
static void	 advance(int64_t);
static ks_drop_fn	 on_evict;
static void	 finish(void *);

static const struct run_ops ops = {
	.event = on_event,
	.watermark = on_watermark,
	.end = on_end,
	.save = state_save,
	.load = state_load,
	.header = state_header,
	.restore = state_restore,
	.free = finish,
};

int
main(int argc, char **argv)
{
	struct run_spec spec = { .tool = "dedupe", .cli = &D.cli };

	diag_init(argv[0]);
	parse_options(argc, argv);
	D.out = rec_new();
	spec.paths = argv + optind;
	spec.npaths = argc - optind;
	spec.state_path = D.state_path;
	spec.options = state_options();
	return run_main(&spec, &ops, NULL);
}

/*
 * on_end: end of input is the watermark +inf, except that a --state run
 * leaves open horizons to the next run (lib/run saves them once the output
 * is written).
 */
static void
on_end(void *ctx, bool keep)
{
	if (!keep)
		advance(TV_MAX);
}

/* setup makes the key store the options ask for and the counters --stats shows. */
static void
setup(void)
{
	D.hold = D.keep_last || D.count;
	D.timers = D.within >= 0 || D.hold;

	if (D.approx) {
		uint64_t m;
		unsigned k;

		if (bloom_size(D.capacity, D.error, &m, &k) == -1)
			diag_usage_error("--capacity: a filter for %" PRIu64 " keys at --error %g is too large",
			    D.capacity, D.error);
		if ((D.bloom = bloom_new(D.capacity, D.error)) == NULL)
			diag_die(EX_IOERR, "--approx: cannot allocate %" PRIu64 " bytes", (m + 7) / 8);
	} else {
		/*
		 * When a key needs no more than "seen before?", a fingerprint
		 * in the fpset is all it takes: 16 bytes and an index slot.
		 * Short -k keys, kept exactly, still go to the keyset.
		 */
		if (D.within < 0 && D.max_keys == 0 && !D.hold)
			D.fps = fps_new();
		if (D.fps == NULL || D.nkeys > 0)
			D.ks = ks_new(sizeof(struct ent), (size_t)D.max_keys,
			    D.max_keys > 0 ? on_evict : NULL, NULL);
	}
	D.dupes = D.dupes_path != NULL ? diag_side_open(D.dupes_path, "duplicates", "duplicate") : NULL;
	/* --stats shows the counters that mean something for these options. */
	D.n_dupes = diag_counter("duplicates");
	/*
	 * keys is the number of distinct keys, which only a run that forgets
	 * nothing knows; a run that forgets (--within, --max-keys) counts
	 * horizons instead: a key forgotten and seen again counts again.
	 */
	D.n_keys = diag_counter(D.within >= 0 || D.max_keys > 0 ? "horizons" : "keys");
	D.n_expired = D.within >= 0 ? diag_counter("expired") : &D.unused;
	D.n_evicted = D.max_keys > 0 ? diag_counter("evicted") : &D.unused;
	D.n_unselected = D.where != NULL ? diag_counter("unselected") : &D.unused;
	D.wm = TV_MIN;
	D.in_wm = D.fwd_wm = TV_MIN;
}

/* check_options refuses combinations that have no meaning, named as the user wrote them. */
static void
check_options(bool have_error, bool have_capacity)
{
	if (D.keep_last && D.within < 0)
		diag_usage_error("--keep last needs --within");
	if (!D.approx && have_error)
		diag_usage_error("--error needs --approx");
	if (!D.approx && have_capacity)
		diag_usage_error("--capacity needs --approx");
	if (D.approx) {
		if (D.within >= 0)
			diag_usage_error("--approx cannot be used with --within");
		if (D.max_keys > 0)
			diag_usage_error("--approx cannot be used with --max-keys");
		if (D.keep_last)
			diag_usage_error("--approx cannot be used with --keep last");
		if (D.count)
			diag_usage_error("--approx cannot be used with --count");
	}
	if (D.count && D.state_path != NULL && D.within < 0)
		diag_usage_error("--count with --state needs --within");
	/* -k names exactly what is compared: there is nothing to leave out of it. */
	if (D.nignore > 0 && D.nkeys > 0)
		diag_usage_error("--ignore cannot be used with --key");
}

static void
parse_options(int argc, char **argv)
{
	const char *error_arg = NULL, *capacity_arg = NULL;
	int c;

	cli_init(&D.cli);
	D.within = -1;
	D.error = 0.01;
	D.capacity = 1000000;
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS "k:", longopts, NULL)) != -1) {
		if (cli_common(&D.cli, c, optarg, &help))
			continue;
		switch (c) {
		case 'k':		/* key fields, comma-separated, repeatable */
			cli_paths("--key", optarg, &D.keys, &D.nkeys);
			break;
		case OPT_IGNORE:	/* fields left out of the whole record, repeatable */
			cli_paths("--ignore", optarg, &D.ignore, &D.nignore);
			break;
		case OPT_MISSING:	/* what a record without a key field means */
			if (strcmp(optarg, "null") == 0)
				D.missing_null = true;
			else if (strcmp(optarg, "reject") == 0)
				D.missing_null = false;
			else
				diag_usage_error("--missing: must be reject or null: %s", optarg);
			break;
		case OPT_WITHIN:	/* event-time horizon */
			D.within = cli_duration("--within", optarg, CLI_DUR_ZERO_OK);
			break;
		case OPT_MAX_KEYS:	/* LRU bound */
			D.max_keys = cli_uint("--max-keys", optarg, 1, UINT64_C(1000000000000));
			break;
		case OPT_APPROX:	/* Bloom filter */
			D.approx = true;
			break;
		case OPT_ERROR:		/* Bloom false-positive rate, strictly between 0 and 1 */
			error_arg = optarg;
			D.error = cli_double("--error", optarg, 0.0, 1.0);
			if (D.error <= 0.0 || D.error >= 1.0)
				diag_usage_error("--error: must be greater than 0 and less than 1: %s", optarg);
			break;
		case OPT_CAPACITY:	/* Bloom sizing */
			capacity_arg = optarg;
			D.capacity = cli_uint("--capacity", optarg, 1, UINT64_C(1000000000000));
			break;
		case OPT_KEEP:		/* which record of a key to emit */
			if (strcmp(optarg, "last") == 0)
				D.keep_last = true;
			else if (strcmp(optarg, "first") == 0)
				D.keep_last = false;
			else
				diag_usage_error("--keep: must be first or last: %s", optarg);
			break;
		case OPT_COUNT:		/* add dup_count */
			D.count = true;
			break;
		case OPT_DUPES:		/* side output for dropped records */
			D.dupes_path = optarg;
			break;
		case OPT_WHERE:		/* only selected records are deduplicated */
			if (D.where != NULL)
				expr_free(D.where);
			D.where = cli_expr("--where", optarg);
			break;
		case OPT_STATE:		/* keys across runs */
			D.state_path = optarg;
			break;
		default:
			diag_usage_error("unknown option");
		}
	}

	check_options(error_arg != NULL, capacity_arg != NULL);
	setup();
}

/* ---- held records ---- */

/* intern keeps one copy of each file name, since a held record outlives its input line. */
static const char *
intern(const char *name)
{
	size_t i;

	/* The same name pointer comes back for every line of a file: skip the search. */
	if (name == D.intern_in)
		return D.intern_out;
	D.intern_in = name;
	for (i = D.nnames; i-- > 0;)
		if (strcmp(D.names[i], name) == 0)
			return D.intern_out = D.names[i];
	D.names = xrealloc(D.names, (D.nnames + 1) * sizeof(*D.names));
	return D.intern_out = D.names[D.nnames++] = xstrdup(name);
}

/* ---- the hold heap: held records ordered by (event time, arrival) ---- */

static bool
held_before(const struct held *a, const struct held *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void
hheap_set(size_t i, struct held *h)
{
	D.hheap[i] = h;
	h->hidx = i;
}

static void
hheap_up(size_t i)
{
	struct held *h = D.hheap[i];

	while (i > 0 && held_before(h, D.hheap[(i - 1) / 2])) {
		hheap_set(i, D.hheap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	hheap_set(i, h);
}

static void
hheap_down(size_t i)
{
	struct held *h = D.hheap[i];
	size_t c;

	while ((c = 2 * i + 1) < D.nhheap) {
		if (c + 1 < D.nhheap && held_before(D.hheap[c + 1], D.hheap[c]))
			c++;
		if (!held_before(D.hheap[c], h))
			break;
		hheap_set(i, D.hheap[c]);
		i = c;
	}
	hheap_set(i, h);
}

static void
hheap_push(struct held *h)
{
	if (D.nhheap == D.caphheap) {
		D.caphheap = D.caphheap ? 2 * D.caphheap : 1024;
		D.hheap = xrealloc(D.hheap, D.caphheap * sizeof(*D.hheap));
	}
	hheap_set(D.nhheap++, h);
	hheap_up(h->hidx);
}

static void
hheap_remove(struct held *h)
{
	size_t i = h->hidx;
	struct held *last = D.hheap[--D.nhheap];

	if (i == D.nhheap)
		return;
	hheap_set(i, last);
	if (i > 0 && held_before(last, D.hheap[(i - 1) / 2]))
		hheap_up(i);
	else
		hheap_down(i);
}

/* hold makes the record at t the one a key holds, replacing the one it held. */
static void
hold(struct ent *e, const char *p, size_t len, const struct diag_pos *pos, int64_t t)
{
	struct held *h = e->h;

	if (h == NULL)
		h = e->h = xcalloc(1, sizeof(*h));
	else
		hheap_remove(h);
	if (len > h->cap) {
		h->cap = len;
		h->p = xrealloc(h->p, len);
	}
	memcpy(h->p, p, len);
	h->len = len;
	h->pos = *pos;
	h->pos.file = intern(pos->file);
	h->t = t;
	h->seq = D.hseq++;
	hheap_push(h);
}

static void
held_free(struct held *h)
{
	if (h == NULL)
		return;
	free(h->p);
	free(h);
}

/* emit_held writes a held record, with dup_count when --count. */
static void
emit_held(const struct held *h)
{
	struct rec_edit ed;
	char num[24];

	if (rec_parse(D.out, h->p, h->len, NULL) == -1)
		return;		/* it parsed when it was held; cannot happen */
	ed.key = "dup_count";
	ed.keylen = 9;
	ed.json = num;
	ed.jsonlen = (size_t)snprintf(num, sizeof(num), "%" PRIu64, h->count);
	rec_emit(D.out, stdout, &ed, D.count ? 1 : 0);
	diag_out++;
}

/*
 * forward_wm writes the watermark downstream, held back to the earliest
 * record still held (ndflow(7): a watermark never overtakes the events
 * it covers).  Without --within a held record's time is unknown, so
 * nothing is forwarded while one is held.  from_input: the current
 * record is the watermark read, written byte for byte when not held back.
 */
static void
forward_wm(bool from_input)
{
	int64_t target = D.in_wm;
	struct buf b = BUF_INIT;

	if (D.in_wm == TV_MIN || D.cli.no_watermarks)
		return;
	if (D.nhheap > 0) {
		if (D.within < 0)
			return;
		if (D.hheap[0]->t < target)
			target = D.hheap[0]->t;
	}
	if (target <= D.fwd_wm)
		return;
	D.fwd_wm = target;
	if (from_input && target == D.in_wm) {
		rec_emit(D.rec, stdout, NULL, 0);
	} else {
		buf_adds(&b, "{\"@watermark\":");
		jw_time(&b, target);
		buf_adds(&b, "}\n");
		fwrite(b.p, 1, b.len, stdout);
		buf_free(&b);
	}
}

/* release writes the ready held records that no earlier held record holds back. */
static void
release(void)
{
	while (D.nhheap > 0 && D.hheap[0]->ready) {
		struct held *h = D.hheap[0];

		hheap_remove(h);
		emit_held(h);
		held_free(h);
	}
}

/*
 * close_held makes the record a key holds final: it goes out once no
 * earlier record is held (release).  The key itself is left to the caller.
 */
static void
close_held(struct ent *e)
{
	if (e->h != NULL) {
		e->h->count = e->count;
		e->h->ready = true;
		e->h = NULL;
	}
}

/* close_ent ends a key's horizon: finishes its held record and deletes the key. */
static void
close_ent(struct ent *e)
{
	close_held(e);
	ks_del(D.ks, e);
}

/*
 * on_evict is the keyset's drop callback: a key the --max-keys bound
 * forgets closes as if its horizon ended.  The keyset deletes the key
 * and counts it (note_evictions).
 */
static void
on_evict(void *ctx, const void *key, size_t keylen, void *val)
{
	(void)ctx;
	(void)key;
	(void)keylen;
	close_held(val);
}

/*
 * note_evictions brings the evicted counter up to the keyset's and
 * reports whether keys were evicted since it was last called.
 */
static bool
note_evictions(void)
{
	uint64_t n = ks_evictions(D.ks);

	if (n == *D.n_evicted)
		return false;
	*D.n_evicted = n;
	return true;
}

/*
 * closed_by returns in *edge the latest first occurrence whose horizon
 * the watermark has passed, or false when no horizon has closed: a key
 * first seen at f is past once wm - f > within, that is f <= wm - within
 * - 1.  The watermark +inf closes every key, with or without --within.
 */
static bool
closed_by(int64_t *edge)
{
	int64_t x;

	if (D.wm == TV_MAX) {
		*edge = TV_MAX;
		return true;
	}
	if (D.within < 0 || __builtin_sub_overflow(D.wm, D.within, &x) || x == INT64_MIN)
		return false;
	*edge = x - 1;
	return true;
}

/*
 * advance moves the watermark to t (if later) and closes every horizon it
 * has passed: a key first seen at f is forgotten once the watermark is
 * past f + within, since any event still to come (time >= watermark) would
 * be more than within after f.  The watermark +inf closes every key.
 */
static void
advance(int64_t t)
{
	struct ent *e;
	int64_t edge;

	if (t > D.wm)
		D.wm = t;
	if (!D.timers || !closed_by(&edge))
		return;
	while ((e = ks_pop_due(D.ks, edge, NULL)) != NULL) {
		if (D.wm != TV_MAX)
			(*D.n_expired)++;
		close_ent(e);
	}
	if (D.hold) {
		release();
		forward_wm(false);
	}
}

/* ---- keys ---- */

/*
 * canon_val appends a key value's canonical JSON to D.key.  Strings,
 * integers and literals are written here as rec_val_canon would write them,
 * without its re-parse of the value; other numbers and containers go
 * through it.
 */
static void
canon_val(const struct rec_val *v)
{
	switch (v->type) {
	case RT_MISSING:
	case RT_NULL:
		buf_add(&D.key, "null", 4);
		break;
	case RT_BOOL:
		buf_adds(&D.key, v->b ? "true" : "false");
		break;
	case RT_INT:
		jw_int(&D.key, v->i);
		break;
	case RT_STRING:
		jw_str(&D.key, v->s, v->slen);
		break;
	default:
		rec_val_canon(D.rec, v, &D.key);
	}
}

/*
 * make_key builds the key of the current record in D.key: the canonical
 * JSON of the whole record, or with -k the JSON array of the canonical key
 * values, so ("a,b","c") and ("a","b,c") are different keys (each value
 * is delimited by the JSON grammar).  Returns -1 after rejecting a record
 * that lacks a key field.
 */
static int
make_key(const struct in_line *ln)
{
	struct rec_val v;
	size_t i;

	buf_reset(&D.key);
	if (D.nkeys == 0) {
		if (D.nignore > 0)
			rec_canon_without(D.rec, D.ignore, D.nignore, &D.key);
		else {
			rec_root(D.rec, &v);
			rec_val_canon(D.rec, &v, &D.key);
		}
		return 0;
	}
	buf_addc(&D.key, '[');
	for (i = 0; i < D.nkeys; i++) {
		if (i > 0)
			buf_addc(&D.key, ',');
		if (rec_get(D.rec, D.keys[i], &v) == RT_MISSING && !D.missing_null) {
			diag_reject(&ln->pos, ln->data, ln->len, "missing key field '%s'",
			    rec_path_str(D.keys[i]));
			return -1;
		}
		canon_val(&v);
	}
	buf_addc(&D.key, ']');
	return 0;
}

/*
 * store_key returns the bytes a key is stored under in the keyset, and
 * their length in *len: its canonical bytes p[0..n) when they are a -k
 * key shorter than a fingerprint, else their fingerprint, written to fpb.
 * The two never meet: a fingerprint is longer than any key kept as it is.
 */
static const void *
store_key(const char *p, size_t n, unsigned char fpb[FP_BYTES], size_t *len)
{
	struct fp f;

	if (D.nkeys > 0 && n < FP_BYTES) {
		*len = n;
		return p;
	}
	f = fp_of(p, n);
	fp_bytes(&f, fpb);
	*len = FP_BYTES;
	return fpb;
}

/* drop sends a duplicate to --dupes, or only counts it. */
static void
drop(const struct diag_pos *pos, const char *p, size_t len)
{
	if (D.dupes != NULL)
		diag_side_write(D.dupes, pos, p, len);
	else
		(*D.n_dupes)++;
}

/* ---- the record loop ---- */

/* first_fp passes the first record of each fingerprint and drops the others (only fingerprints kept). */
static void
first_fp(const struct in_line *ln)
{
	struct fp f = fp_of(D.key.p, D.key.len);

	switch (fps_add(D.fps, &f)) {
	case 0:
		drop(&ln->pos, ln->data, ln->len);
		return;
	case -1:
		diag_die(EX_IOERR, "more than %zu distinct records: use --within, --max-keys or --approx",
		    (size_t)FPS_MAX);
	}
	rec_emit(D.rec, stdout, NULL, 0);
	diag_out++;
	(*D.n_keys)++;
	D.seq++;
}

/* on_watermark closes what the watermark passes before passing it on, so everything it covers precedes it. */
static void
on_watermark(void *ctx, int64_t wt, struct rec *rec, const struct in_line *ln)
{
	D.rec = rec;
	if (D.hold) {
		/* Held records hold the watermark back: it never overtakes them. */
		if (wt > D.in_wm)
			D.in_wm = wt;
		advance(wt);
		forward_wm(true);
		return;
	}
	advance(wt);
	if (!D.cli.no_watermarks)
		rec_emit(rec, stdout, NULL, 0);
}

static void
on_event(void *ctx, struct rec *rec, const struct in_line *ln)
{
	struct ent *e;
	int64_t t = 0;
	const char *why;
	bool created;
	unsigned char fpb[FP_BYTES];
	const void *k;
	size_t klen;

	D.rec = rec;
	if (D.where != NULL && !expr_test(D.where, D.rec)) {
		rec_emit(D.rec, stdout, NULL, 0);
		diag_out++;
		(*D.n_unselected)++;
		return;
	}
	if (D.within >= 0 && cli_time(&D.cli, D.rec, &t, &why) == -1) {
		diag_reject(&ln->pos, ln->data, ln->len, "%s", why);
		return;
	}
	if (make_key(ln) == -1)
		return;

	if (D.bloom != NULL) {
		if (bloom_add(D.bloom, D.key.p, D.key.len))
			drop(&ln->pos, ln->data, ln->len);
		else {
			rec_emit(D.rec, stdout, NULL, 0);
			diag_out++;
			(*D.n_keys)++;
		}
		return;
	}
	if (D.fps != NULL && (D.nkeys == 0 || D.key.len >= FP_BYTES)) {
		first_fp(ln);	/* a key stored as its fingerprint (store_key) */
		return;
	}

	/* Close the horizons this event's time passes first: a key they held is then new. */
	if (D.within >= 0)
		advance(t);
	k = store_key(D.key.p, D.key.len, fpb, &klen);
	e = ks_put(D.ks, k, klen, &created);
	if (!created) {
		e->count++;
		if (D.keep_last) {
			drop(&e->h->pos, e->h->p, e->h->len);
			hold(e, ln->data, ln->len, &ln->pos, t);
		} else
			drop(&ln->pos, ln->data, ln->len);
		return;
	}

	e->seq = D.seq++;
	e->count = 1;
	(*D.n_keys)++;
	if (D.timers)
		ks_timer_set(D.ks, e, t);
	if (D.hold)
		hold(e, ln->data, ln->len, &ln->pos, t);
	else {
		rec_emit(D.rec, stdout, NULL, 0);
		diag_out++;
	}
	/* Creating the key may have evicted another (on_evict): its record may go out now. */
	if (D.max_keys > 0 && note_evictions() && D.hold) {
		release();
		forward_wm(false);
	}
}

/* ---- --state ---- */

/*
 * state_options names the options a state depends on, for its header: keys
 * remembered under other -k fields, or a filter of another size, mean
 * nothing to this run, and held records would be lost on a run that does
 * not hold them.  The --within value may change between runs; whether
 * there is one may not.
 */
static json_t *
state_options(void)
{
	struct buf b = BUF_INIT;
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < D.nkeys; i++) {
		if (i > 0)
			buf_addc(&b, ',');
		buf_adds(&b, rec_path_str(D.keys[i]));
	}
	json_object_set_new(o, "--key", json_string(D.nkeys ? buf_cstr(&b) : "(the whole record)"));
	/* Only when given, so states of runs before --ignore existed still load. */
	if (D.nignore > 0) {
		buf_reset(&b);
		for (i = 0; i < D.nignore; i++) {
			if (i > 0)
				buf_addc(&b, ',');
			buf_adds(&b, rec_path_str(D.ignore[i]));
		}
		json_object_set_new(o, "--ignore", json_string(buf_cstr(&b)));
	}
	json_object_set_new(o, "--within", json_string(D.within >= 0 ? "(given)" : "(not given)"));
	json_object_set_new(o, "--keep", json_string(D.keep_last ? "last" : "first"));
	json_object_set_new(o, "--count", json_string(D.count ? "(given)" : "(not given)"));
	buf_reset(&b);
	if (D.approx) {
		char t[80];

		snprintf(t, sizeof(t), "--capacity %" PRIu64 " --error %g", D.capacity, D.error);
		buf_adds(&b, t);
	}
	json_object_set_new(o, "--approx", json_string(D.approx ? buf_cstr(&b) : "(not given)"));
	buf_free(&b);
	return o;
}

/*
 * state_held reads a held record's saved time (def when absent, as in
 * states of older runs: the key's first, no later than the record, so
 * holding back more is safe) and sets D.hseq so that the record hold
 * gives it next keeps its saved place among ties (state_load moves D.hseq
 * past them all at the end).
 */
static int64_t
state_held(struct rec *r, int64_t def)
{
	struct rec_val v;

	if (rec_get_key(r, "held_seq", 8, &v) == RT_INT && v.i >= 0)
		D.hseq = (uint64_t)v.i;
	return rec_get_key(r, "held_t", 6, &v) == RT_INT ? v.i : def;
}

/* state_restore reads the header's watermark and arrival counter. */
static int
state_restore(void *ctx, json_t *hdr, char *why, size_t whysz)
{
	json_t *j;

	if ((j = json_object_get(hdr, "watermark")) != NULL) {
		if (!json_is_integer(j)) {
			snprintf(why, whysz, "watermark: not an integer");
			return -1;
		}
		D.wm = json_integer_value(j);
	}
	if ((j = json_object_get(hdr, "seq")) != NULL) {
		if (!json_is_integer(j) || json_integer_value(j) < 0) {
			snprintf(why, whysz, "seq: not a count");
			return -1;
		}
		D.seq = (uint64_t)json_integer_value(j);
	}
	return 0;
}

/*
 * loaded_held keeps the arrival counter of held records past every one
 * loaded, so records of this run come after them among ties.
 */
static void
loaded_held(const struct held *h)
{
	if (h->seq >= D.hseq_next)
		D.hseq_next = h->seq + 1;
	D.hseq = D.hseq_next;
}

/*
 * state_key reads the key of a state line: "fp", the 32 hex digits of a
 * fingerprint, or "key", canonical JSON, as every key was saved before
 * fingerprints (and short -k keys still are), stored as a new key with
 * those bytes would be (store_key).  Returns NULL with a reason in why.
 */
static const void *
state_key(unsigned char fpb[FP_BYTES], size_t *len, char *why, size_t whysz)
{
	struct rec_val v;
	struct fp f;

	if (rec_get_key(D.staterec, "fp", 2, &v) != RT_MISSING) {
		if (v.type != RT_STRING || fp_parse_hex(v.s, v.slen, &f) == -1) {
			snprintf(why, whysz, "fp: not a fingerprint of 32 hex digits");
			return NULL;
		}
		fp_bytes(&f, fpb);
		*len = FP_BYTES;
		return fpb;
	}
	if (rec_get_key(D.staterec, "key", 3, &v) == RT_MISSING) {
		snprintf(why, whysz, "no key");
		return NULL;
	}
	buf_reset(&D.key);
	buf_add(&D.key, v.raw, v.rawlen);
	return store_key(D.key.p, D.key.len, fpb, len);
}

/*
 * state_load loads one key a previous run left: a line
 * {"key":K,"seq":N,"count":N[,"first":T][,"record":{...}]} (or "fp":F for
 * "key":K, see state_key), a line {"fp":F} when only fingerprints are
 * kept, or one {"bloom":"<base64>"} line with --approx.
 */
static int
state_load(void *ctx, const char *line, size_t n, char *why, size_t whysz)
{
	struct rec_val v;
	struct rec_err err;
	struct diag_pos pos;
	struct ent *e;
	int64_t first;
	bool created;
	long got;
	unsigned char fpb[FP_BYTES];
	const void *k;
	size_t klen;

	if (D.staterec == NULL)
		D.staterec = rec_new();
	if (rec_parse(D.staterec, line, n, &err) == -1) {
		snprintf(why, whysz, "%s", err.text);
		return -1;
	}
	if (D.bloom != NULL) {
		if (rec_get_key(D.staterec, "bloom", 5, &v) != RT_STRING) {
			snprintf(why, whysz, "no Bloom filter");
			return -1;
		}
		buf_reset(&D.tmp);
		buf_reserve(&D.tmp, v.slen);
		if ((got = b64_decode(v.s, v.slen, (uint8_t *)D.tmp.p)) < 0 ||
		    bloom_load(D.bloom, D.tmp.p, (size_t)got) == -1) {
			snprintf(why, whysz, "the Bloom filter is damaged");
			return -1;
		}
		return 0;
	}
	pos.file = D.state_path;
	pos.line = 0;
	pos.offset = 0;
	if (rec_get_key(D.staterec, "ready", 5, &v) == RT_OBJECT) {
		/* A record whose horizon closed, waiting behind earlier held ones. */
		struct ent tmp = { 0 };

		hold(&tmp, v.raw, v.rawlen, &pos, state_held(D.staterec, 0));
		tmp.h->ready = true;
		tmp.h->count = rec_get_key(D.staterec, "count", 5, &v) == RT_INT && v.i > 0 ?
		    (uint64_t)v.i : 1;
		loaded_held(tmp.h);
		return 0;
	}
	if ((k = state_key(fpb, &klen, why, whysz)) == NULL)
		return -1;
	if (D.fps != NULL && klen == FP_BYTES) {
		struct fp f = fp_from_bytes(k);

		if (fps_add(D.fps, &f) != 1) {
			snprintf(why, whysz, "a key is there twice");
			return -1;
		}
		return 0;
	}
	e = ks_put(D.ks, k, klen, &created);
	if (!created) {
		snprintf(why, whysz, "a key is there twice");
		return -1;
	}
	e->count = rec_get_key(D.staterec, "count", 5, &v) == RT_INT && v.i > 0 ? (uint64_t)v.i : 1;
	e->seq = rec_get_key(D.staterec, "seq", 3, &v) == RT_INT && v.i >= 0 ? (uint64_t)v.i : D.seq;
	if (e->seq >= D.seq)
		D.seq = e->seq + 1;
	first = rec_get_key(D.staterec, "first", 5, &v) == RT_INT ? v.i : 0;
	if (rec_get_key(D.staterec, "record", 6, &v) == RT_OBJECT) {
		hold(e, v.raw, v.rawlen, &pos, state_held(D.staterec, first));
		loaded_held(e->h);
	}
	if (D.timers)
		ks_timer_set(D.ks, e, first);
	/* A smaller --max-keys than the last run's forgets the least recently seen keys (ks_put). */
	if (D.max_keys > 0)
		note_evictions();
	return 0;
}

static int
seq_cmp(const void *a, const void *b)
{
	const struct ent *x = *(struct ent *const *)a, *y = *(struct ent *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* state_line writes one key's line. */
static void
state_line(FILE *f, struct buf *b, const struct ent *e)
{
	const void *k;
	size_t klen;
	int64_t first;
	char hex[2 * FP_BYTES + 1];

	buf_reset(b);
	k = ks_key(e, &klen);
	if (klen == FP_BYTES) {	/* a fingerprint (store_key) */
		struct fp fk = fp_from_bytes(k);

		fp_hex(&fk, hex);
		buf_adds(b, "{\"fp\":\"");
		buf_adds(b, hex);
		buf_addc(b, '"');
	} else {
		buf_adds(b, "{\"key\":");
		buf_add(b, k, klen);
	}
	buf_adds(b, ",\"seq\":");
	jw_uint(b, e->seq);
	buf_adds(b, ",\"count\":");
	jw_uint(b, e->count);
	if (D.within >= 0 && ks_timer_get(D.ks, e, &first)) {
		buf_adds(b, ",\"first\":");
		jw_int(b, first);
	}
	if (e->h != NULL) {
		buf_adds(b, ",\"held_t\":");
		jw_int(b, e->h->t);
		buf_adds(b, ",\"held_seq\":");
		jw_uint(b, e->h->seq);
		buf_adds(b, ",\"record\":");
		buf_add(b, e->h->p, e->h->len);
	}
	buf_adds(b, "}\n");
	fwrite(b->p, 1, b->len, f);
}

/* state_header records the watermark and the arrival counter. */
static void
state_header(void *ctx, json_t *hdr)
{
	/* After a watermark of +inf the stream has ended: the next run starts a new one. */
	if (D.wm != TV_MIN && D.wm != TV_MAX)
		json_object_set_new(hdr, "watermark", json_integer(D.wm));
	json_object_set_new(hdr, "seq", json_integer((json_int_t)D.seq));
}

/*
 * state_save writes the keys still open.  With --max-keys they go least
 * recently seen first, so loading them in order rebuilds the LRU list;
 * otherwise in order of first occurrence.
 */
static int
state_save(void *ctx, FILE *f)
{
	struct buf b = BUF_INIT;

	if (D.bloom != NULL) {
		buf_adds(&b, "{\"bloom\":");
		jw_b64(&b, bloom_data(D.bloom), bloom_bytes(D.bloom));
		buf_adds(&b, "}\n");
		fwrite(b.p, 1, b.len, f);
	} else if (D.max_keys > 0) {
		struct ent *e;

		for (e = ks_first(D.ks); e != NULL; e = ks_next(D.ks, e))
			state_line(f, &b, e);
	} else if (D.ks != NULL) {
		struct ent **all = xmalloc((ks_count(D.ks) + 1) * sizeof(*all));
		struct ent *e;
		size_t i, n = 0;

		for (e = ks_first(D.ks); e != NULL; e = ks_next(D.ks, e))
			all[n++] = e;
		qsort(all, n, sizeof(*all), seq_cmp);
		for (i = 0; i < n; i++)
			state_line(f, &b, all[i]);
		free(all);
	}
	/* The keys kept as fingerprints alone, in order of first occurrence (after the short -k keys). */
	if (D.fps != NULL) {
		char hex[2 * FP_BYTES + 1];

		for (size_t i = 0; i < fps_count(D.fps); i++) {
			fp_hex(fps_at(D.fps, i), hex);
			fprintf(f, "{\"fp\":\"%s\"}\n", hex);
		}
	}
	/* Records whose horizon closed but that wait behind earlier held ones (release). */
	for (size_t i = 0; i < D.nhheap; i++) {
		const struct held *h = D.hheap[i];

		if (!h->ready)
			continue;
		buf_reset(&b);
		buf_adds(&b, "{\"ready\":");
		buf_add(&b, h->p, h->len);
		buf_adds(&b, ",\"held_t\":");
		jw_int(&b, h->t);
		buf_adds(&b, ",\"held_seq\":");
		jw_uint(&b, h->seq);
		buf_adds(&b, ",\"count\":");
		jw_uint(&b, h->count);
		buf_adds(&b, "}\n");
		fwrite(b.p, 1, b.len, f);
	}
	buf_free(&b);
	return ferror(f) ? -1 : 0;
}

/* finish reports --stats extras and frees everything, so the sanitizers see no leak. */
static void
finish(void *ctx)
{
	size_t i;

	if (D.bloom != NULL) {
		*diag_counter("bloom_bytes") = bloom_bytes(D.bloom);
		*diag_counter("bloom_hashes") = bloom_hashes(D.bloom);
		diag_stat_real("bloom_error", D.error);
		/* The share of bits set: about 0.5 at capacity; past it the filter is overfull. */
		diag_stat_real("bloom_fill", (double)bloom_set_bits(D.bloom) / (double)bloom_bits(D.bloom));
		if (*D.n_keys > D.capacity)
			diag_warn("--approx: %" PRIu64 " distinct keys exceed --capacity %" PRIu64
			    ": the false-positive rate is above %g", *D.n_keys, D.capacity, D.error);
		bloom_free(D.bloom);
	}
	/* The held records are all in the hold heap: on_evict only marks them, before they are freed. */
	ks_free(D.ks);
	fps_free(D.fps);
	for (i = 0; i < D.nignore; i++)
		rec_path_free(D.ignore[i]);
	free(D.ignore);
	while (D.nhheap > 0)
		held_free(D.hheap[--D.nhheap]);
	free(D.hheap);
	for (i = 0; i < D.nkeys; i++)
		rec_path_free(D.keys[i]);
	free(D.keys);
	for (i = 0; i < D.nnames; i++)
		free(D.names[i]);
	free(D.names);
	if (D.where != NULL)
		expr_free(D.where);
	buf_free(&D.key);
	buf_free(&D.tmp);
	rec_free(D.out);
	rec_free(D.staterec);
}
