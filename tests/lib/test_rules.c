/*
 * Unit tests of lib/rules: every rule kind and modifier against notices
 * worked out by hand, the boundaries of issue 14, lateness, watermarks,
 * the end of input, save/load equal to one run, max-keys, the notice
 * formats and the rules-file errors word for word.
 *
 * Records carry their event time as "t" in whole seconds.  Notices are
 * written in a short form, one per ';': F or R, at, (since), the key
 * when there is one, then n= (count) and v= (value) when present.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "expr.h"
#include "record.h"
#include "rules.h"
#include "tap.h"
#include "timeval.h"

#define S(x)	((int64_t)(x) * TV_US_PER_S)

struct run {
	struct rl_set		*set;
	struct rl_engine	*eng;
	struct rec		*rec;
	struct rec_path		*tpath;
	struct buf		 out;		/* short notices */
	struct buf		 json;		/* the last notice as JSON */
	struct buf		 am;		/* the last notice for Alertmanager */
	double			 z;		/* the last notice's z, or NAN */
	int			 late;
};

static void
on_notice(void *ctx, const struct rl_notice *n)
{
	struct run *r = ctx;
	char s[128];

	snprintf(s, sizeof(s), "%c%" PRId64 "(%" PRId64 ")", n->firing ? 'F' : 'R',
	    n->at / TV_US_PER_S, n->since / TV_US_PER_S);
	buf_adds(&r->out, s);
	if (n->keylen > 0) {
		buf_addc(&r->out, ' ');
		buf_add(&r->out, n->key, n->keylen);
	}
	if (n->has & RL_EV_COUNT) {
		snprintf(s, sizeof(s), " n=%" PRIu64, n->count);
		buf_adds(&r->out, s);
	}
	if (n->has & RL_EV_VALUE) {
		buf_adds(&r->out, " v=");
		buf_add(&r->out, n->value, n->valuelen);
	}
	buf_addc(&r->out, ';');
	r->z = (n->has & RL_EV_Z) ? n->z : NAN;
	buf_reset(&r->json);
	rl_notice_json(r->set, n, &r->json);
	buf_cstr(&r->json);
	buf_reset(&r->am);
	rl_notice_alertmanager(r->set, n, &r->am);
	buf_cstr(&r->am);
}

/* write_file puts text in a new temporary file and returns its name (static storage, one at a time). */
static const char *
write_file(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_rules.XXXXXX");
	fd = mkstemp(path);
	if (fd == -1 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror("mkstemp");
		exit(1);
	}
	close(fd);
	return path;
}

/* load_rules builds a set from rules-file text; returns NULL and prints the reason on failure. */
static struct rl_set *
load_rules(const char *text)
{
	struct rl_set *s = rl_set_new();
	const char *p = write_file(text);
	char why[512];

	if (rl_load_file(s, p, why, sizeof(why)) == -1) {
		printf("# %s\n", why);
		rl_set_free(s);
		s = NULL;
	}
	unlink(p);
	return s;
}

static void
start(struct run *r, const char *rules, int64_t lateness, size_t max_keys)
{
	struct rec_err e;

	memset(r, 0, sizeof(*r));
	r->set = load_rules(rules);
	if (r->set == NULL) {
		printf("Bail out! rules did not load: %s\n", rules);
		exit(1);
	}
	r->eng = rl_engine_new(r->set, lateness, max_keys, on_notice, r);
	r->rec = rec_new();
	r->tpath = rec_path_compile("t", &e);
	buf_cstr(&r->out);
}

/* feed gives one record; its time is its "t" in seconds. */
static void
feed(struct run *r, const char *line)
{
	struct rec_val v;

	if (rec_parse(r->rec, line, strlen(line), NULL) == -1 || rec_get(r->rec, r->tpath, &v) != RT_INT) {
		printf("Bail out! bad test record %s\n", line);
		exit(1);
	}
	if (rl_record(r->eng, r->rec, S(v.i)) == RL_LATE)
		r->late++;
}

static const char *
got(struct run *r)
{
	return buf_cstr(&r->out);
}

static void
stop(struct run *r)
{
	rl_engine_free(r->eng);
	rl_set_free(r->set);
	rec_free(r->rec);
	rec_path_free(r->tpath);
	buf_free(&r->out);
	buf_free(&r->json);
	buf_free(&r->am);
}

/* ---- threshold ---- */

static void
test_threshold(void)
{
	struct run r;

	start(&r, "{\"when\":\".v > 10\"}", 0, 0);
	feed(&r, "{\"t\":1,\"v\":5}");
	is_int(rl_stats(r.eng)->keys, 0, "threshold: a false record of a key with no state makes none");
	feed(&r, "{\"t\":2,\"v\":20}");
	is_int(rl_stats(r.eng)->keys, 1, "threshold: a firing key has a state");
	feed(&r, "{\"t\":3,\"v\":30}");
	feed(&r, "{\"t\":4,\"v\":1}");
	feed(&r, "{\"t\":5,\"v\":1}");
	is_str(got(&r), "F2(2);R4(2);", "threshold fires on a true record and resolves on a false one");
	is_int(rl_stats(r.eng)->keys, 0, "threshold: a resolved key without cooldown is forgotten");
	stop(&r);

	/* for 10s: a dip exactly at since + for stops the fire. */
	start(&r, "{\"when\":\".v > 10\",\"for\":\"10s\"}", 0, 0);
	feed(&r, "{\"t\":0,\"v\":20}");
	feed(&r, "{\"t\":5,\"v\":20}");
	feed(&r, "{\"t\":10,\"v\":5}");
	feed(&r, "{\"t\":20,\"v\":5}");
	is_str(got(&r), "", "for: a false record exactly at since + for cancels the pending alert silently");
	feed(&r, "{\"t\":21,\"v\":20}");
	feed(&r, "{\"t\":31,\"v\":20}");
	is_str(got(&r), "", "for: a true record exactly at since + for does not fire before T passes it");
	feed(&r, "{\"t\":32,\"v\":20}");
	is_str(got(&r), "F31(21);", "for: fires at since + for, stamped then, since the pending start");
	feed(&r, "{\"t\":33,\"v\":1}");
	is_str(got(&r), "F31(21);R33(21);", "for: resolves on the next false record");
	stop(&r);

	/* keep-firing-for 10s: a true record exactly at tf + K keeps it firing. */
	start(&r, "{\"when\":\".v > 10\",\"keep-firing-for\":\"10s\"}", 0, 0);
	feed(&r, "{\"t\":0,\"v\":20}");
	feed(&r, "{\"t\":5,\"v\":1}");
	feed(&r, "{\"t\":15,\"v\":20}");
	is_str(got(&r), "F0(0);", "keep-firing-for: a true record exactly at tf + K keeps it firing");
	feed(&r, "{\"t\":20,\"v\":1}");
	feed(&r, "{\"t\":25,\"v\":1}");
	feed(&r, "{\"t\":30,\"v\":1}");
	is_str(got(&r), "F0(0);", "keep-firing-for: later false records do not move tf, and tf + K waits for T to pass it");
	feed(&r, "{\"t\":31,\"v\":1}");
	is_str(got(&r), "F0(0);R30(0);", "keep-firing-for: resolves at tf + K");
	feed(&r, "{\"t\":40,\"v\":20}");
	feed(&r, "{\"t\":41,\"v\":1}");
	feed(&r, "{\"t\":52,\"v\":20}");
	is_str(got(&r), "F0(0);R30(0);F40(40);R51(40);F52(52);", "keep-firing-for: a true record after tf + K fires anew");
	stop(&r);

	/* for and keep-firing-for together. */
	start(&r, "{\"when\":\".v > 10\",\"for\":\"5s\",\"keep-firing-for\":\"5s\"}", 0, 0);
	feed(&r, "{\"t\":0,\"v\":20}");
	feed(&r, "{\"t\":7,\"v\":1}");
	feed(&r, "{\"t\":9,\"v\":20}");
	feed(&r, "{\"t\":10,\"v\":1}");
	feed(&r, "{\"t\":16,\"v\":1}");
	is_str(got(&r), "F5(0);R15(0);", "for then keep-firing-for: fires at 5, a dip at 7 is held over by 9, the dip at 10 resolves at 15");
	stop(&r);
}

/* ---- rate ---- */

static void
test_rate(void)
{
	struct run r;

	start(&r, "{\"count\":3,\"within\":\"10s\"}", 0, 0);
	feed(&r, "{\"t\":0}");
	feed(&r, "{\"t\":5}");
	feed(&r, "{\"t\":10}");
	is_str(got(&r), "", "rate: a record exactly D before t is outside (t - D, t]");
	feed(&r, "{\"t\":11}");
	is_str(got(&r), "F11(11) n=3;", "rate: the record that brings the count to N fires");
	feed(&r, "{\"t\":15}");
	is_str(got(&r), "F11(11) n=3;", "rate: a record at the instant the count would drop is applied first");
	feed(&r, "{\"t\":25}");
	is_str(got(&r), "F11(11) n=3;R20(11) n=2;", "rate: resolves when the window empties below N, stamped then");
	rl_finish(r.eng);
	is_str(got(&r), "F11(11) n=3;R20(11) n=2;", "rate: the end of input takes nothing beyond the largest time");
	stop(&r);

	/* Per key, with for: the condition must hold over the whole for. */
	start(&r, "{\"count\":2,\"within\":\"10s\",\"by\":[\"k\"],\"for\":\"5s\"}", 0, 0);
	feed(&r, "{\"t\":0,\"k\":\"a\"}");
	feed(&r, "{\"t\":1,\"k\":\"b\"}");
	feed(&r, "{\"t\":2,\"k\":\"a\"}");
	feed(&r, "{\"t\":8,\"k\":\"b\"}");
	feed(&r, "{\"t\":9,\"k\":\"b\"}");
	feed(&r, "{\"t\":20,\"k\":\"c\"}");
	is_str(got(&r), "F7(2) \"a\" n=2;R10(2) \"a\" n=1;F13(8) \"b\" n=2;R18(8) \"b\" n=1;",
	    "rate per key with for: timers of two keys in time order, counts as of each notice");
	stop(&r);
}


/* ---- repetition ---- */

static void
test_repetition(void)
{
	struct run r;

	start(&r, "{\"repeat\":3,\"field\":\"page\",\"by\":\"u\"}", 0, 0);
	feed(&r, "{\"t\":1,\"u\":\"u1\",\"page\":\"a\"}");
	feed(&r, "{\"t\":2,\"u\":\"u1\",\"page\":\"a\"}");
	feed(&r, "{\"t\":3,\"u\":\"u1\"}");
	feed(&r, "{\"t\":4,\"u\":\"u2\",\"page\":\"a\"}");
	is_str(got(&r), "", "repetition: a record without the field neither extends nor breaks the run");
	feed(&r, "{\"t\":5,\"u\":\"u1\",\"page\":\"a\"}");
	is_str(got(&r), "F5(5) \"u1\" n=3 v=\"a\";", "repetition: the third equal value of a key fires, other keys apart");
	feed(&r, "{\"t\":6,\"u\":\"u1\",\"page\":\"a\"}");
	feed(&r, "{\"t\":7,\"u\":\"u1\",\"page\":\"b\"}");
	is_str(got(&r), "F5(5) \"u1\" n=3 v=\"a\";R7(5) \"u1\" n=1 v=\"b\";", "repetition: the first other value resolves");
	is_int(rl_stats(r.eng)->no_value, 1, "repetition: the record without the field is counted");
	stop(&r);

	/* Values compare as JSON values: 1 and 1.0 differ in text but "a" in two spellings is one value. */
	start(&r, "{\"repeat\":2,\"field\":\"v\"}", 0, 0);
	feed(&r, "{\"t\":1,\"v\":\"a\"}");
	feed(&r, "{\"t\":2,\"v\":\"\\u0061\"}");
	is_str(got(&r), "F2(2) n=2 v=\"a\";", "repetition: \"a\" and \"\\u0061\" are the same JSON value");
	feed(&r, "{\"t\":3,\"v\":{\"x\":1,\"y\":2}}");
	feed(&r, "{\"t\":4,\"v\":{\"y\":2, \"x\":1}}");
	is_str(got(&r), "F2(2) n=2 v=\"a\";R3(2) n=1 v={\"x\":1,\"y\":2};F4(4) n=2 v={\"x\":1,\"y\":2};",
	    "repetition: objects with members in another order are equal");
	stop(&r);
}

/* ---- absence ---- */

static void
test_absence(void)
{
	struct run r;

	start(&r, "{\"absent\":\"10s\",\"by\":[\"h\"]}", 0, 0);
	feed(&r, "{\"t\":0,\"h\":\"h1\"}");
	feed(&r, "{\"t\":10,\"h\":\"h1\"}");
	feed(&r, "{\"t\":12,\"h\":\"h2\"}");
	feed(&r, "{\"t\":20,\"h\":\"h2\"}");
	is_str(got(&r), "", "absence: a record exactly at s + D is not an absence");
	feed(&r, "{\"t\":31,\"h\":\"h2\"}");
	is_str(got(&r), "F20(20) \"h1\";F30(30) \"h2\";R31(30) \"h2\";",
	    "absence: fires at s + D once T passes it, keys in time order, and the key's next record resolves");
	rl_finish(r.eng);
	is_str(got(&r), "F20(20) \"h1\";F30(30) \"h2\";R31(30) \"h2\";", "absence: the end of input resolves nothing");
	stop(&r);

	/* Watermarks release timers: a decision due at X is taken once T > X. */
	start(&r, "{\"absent\":\"10s\"}", 0, 0);
	feed(&r, "{\"t\":0}");
	rl_watermark(r.eng, S(5));
	rl_watermark(r.eng, S(10));
	is_str(got(&r), "", "absence: a watermark at s + D releases nothing yet");
	rl_watermark(r.eng, S(10) + 1);
	is_str(got(&r), "F10(10);", "absence: a watermark past s + D fires it, stamped s + D");
	is_int(rl_watermark_now(r.eng), S(10) + 1, "the watermark is what was given");
	feed(&r, "{\"t\":9}");
	is_int(r.late, 1, "a record below the watermark is late");
	is_str(got(&r), "F10(10);", "a late record changes nothing");
	stop(&r);

	/* End of input takes decisions due at X <= the largest time seen, not beyond. */
	start(&r, "{\"absent\":\"10s\",\"by\":\"k\"}", 0, 0);
	feed(&r, "{\"t\":0,\"k\":\"a\"}");
	feed(&r, "{\"t\":10,\"k\":\"b\"}");
	is_str(got(&r), "", "absence: nothing before the end");
	rl_finish(r.eng);
	is_str(got(&r), "F10(10) \"a\";", "end of input: the decision at exactly the largest time is taken, the later one not");
	stop(&r);

	/* absence with for: pending from s + D, fires at s + D + for unless a record comes. */
	start(&r, "{\"absent\":\"10s\",\"for\":\"5s\"}", 0, 0);
	feed(&r, "{\"t\":0}");
	feed(&r, "{\"t\":15}");
	feed(&r, "{\"t\":40}");
	is_str(got(&r), "F30(25);R40(25);", "absence with for: a record at s + D + for cancels; the next gap fires at s + D + for, since s + D");
	stop(&r);
}

/* ---- anomaly ---- */

static void
test_anomaly(void)
{
	struct run r;

	/* Previous values only: with the current value in the window, z of 30 would be 1.41 and nothing would fire. */
	start(&r, "{\"zscore\":2,\"field\":\"v\",\"window\":3}", 0, 0);
	feed(&r, "{\"t\":1,\"v\":10}");
	feed(&r, "{\"t\":2,\"v\":12}");
	feed(&r, "{\"t\":3,\"v\":14}");
	feed(&r, "{\"t\":4,\"v\":12}");
	is_str(got(&r), "", "anomaly: no judgement before the window is full, then z = 0");
	feed(&r, "{\"t\":5,\"v\":30}");
	is_str(got(&r), "F5(5) v=30;", "anomaly: z against the previous 3 values fires");
	ok(fabs(r.z - 26 / sqrt(2)) < 1e-9, "anomaly: z = (30 - 38/3) / sqrt(8/9) = 18.3848 (got %g)", r.z);
	feed(&r, "{\"t\":6,\"v\":13}");
	is_str(got(&r), "F5(5) v=30;R6(5) v=13;", "anomaly: the next record with |z| <= K resolves");
	feed(&r, "{\"t\":7,\"v\":\"abc\"}");
	feed(&r, "{\"t\":8}");
	feed(&r, "{\"t\":9,\"v\":null}");
	is_int(rl_stats(r.eng)->bad_value, 1, "anomaly: a non-numeric value is counted");
	is_int(rl_stats(r.eng)->no_value, 2, "anomaly: a missing or null value is counted");
	feed(&r, "{\"t\":10,\"v\":\"1000\"}");
	is_str(got(&r), "F5(5) v=30;R6(5) v=13;F10(10) v=1000;", "anomaly: a numeric string counts as its number");
	stop(&r);

	start(&r, "{\"zscore\":2,\"field\":\"v\",\"window\":3}", 0, 0);
	feed(&r, "{\"t\":1,\"v\":5}");
	feed(&r, "{\"t\":2,\"v\":5}");
	feed(&r, "{\"t\":3,\"v\":5}");
	feed(&r, "{\"t\":4,\"v\":50}");
	feed(&r, "{\"t\":5,\"v\":5}");
	is_str(got(&r), "", "anomaly: no judgement while the deviation is 0");
	stop(&r);

	/* EWMA, alpha 0.5, warmup 2: m, v = 10, 0; 11, 1; 11, 0.5 (z 0); 20 judged with sd sqrt(0.5). */
	start(&r, "{\"zscore\":3,\"field\":\"v\",\"alpha\":0.5,\"warmup\":2}", 0, 0);
	feed(&r, "{\"t\":1,\"v\":10}");
	feed(&r, "{\"t\":2,\"v\":12}");
	feed(&r, "{\"t\":3,\"v\":11}");
	feed(&r, "{\"t\":4,\"v\":20}");
	is_str(got(&r), "F4(4) v=20;", "anomaly with alpha: judged against the EWMA before the update");
	ok(fabs(r.z - 9 / sqrt(0.5)) < 1e-9, "anomaly with alpha: z = 9 / sqrt(0.5) (got %g)", r.z);
	feed(&r, "{\"t\":5,\"v\":11}");
	ok(fabs(r.z - (-4.5 / sqrt(20.5))) < 1e-9, "anomaly with alpha: updated after judging, m 15.5, v 20.5 (got %g)", r.z);
	is_str(got(&r), "F4(4) v=20;R5(4) v=11;", "anomaly with alpha: resolves when |z| <= K");
	stop(&r);
}

/* ---- spike ---- */

static void
test_spike(void)
{
	struct run r;
	int i;
	char line[64];

	start(&r, "{\"spike\":3,\"within\":\"10s\"}", 0, 0);
	feed(&r, "{\"t\":1}");
	feed(&r, "{\"t\":2}");
	is_str(got(&r), "", "spike: no judgement before the key's first record is D old");
	for (i = 11; i <= 15; i++) {
		snprintf(line, sizeof(line), "{\"t\":%d}", i);
		feed(&r, line);
	}
	is_str(got(&r), "", "spike: 5 in (5, 15] against 2 in (-5, 5] is under 3 times");
	feed(&r, "{\"t\":16}");
	is_str(got(&r), "F16(16) n=6;", "spike: 6 in (6, 16] against 2 is 3 times: fires");
	feed(&r, "{\"t\":30}");
	is_str(got(&r), "F16(16) n=6;R21(16) n=5;", "spike: resolves at 21, when 11 crosses into the previous window (5 against 2)");
	stop(&r);

	/* spike-down: 10 records at 0..9, then silence; the ratio is judged as times cross windows. */
	start(&r, "{\"spike\":2,\"within\":\"10s\",\"spike-down\":true}", 0, 0);
	for (i = 0; i <= 9; i++) {
		snprintf(line, sizeof(line), "{\"t\":%d}", i);
		feed(&r, line);
	}
	rl_watermark(r.eng, S(100));
	is_str(got(&r), "F16(16) n=3;R29(16) n=0;",
	    "spike-down: 3 in (6, 16] is at most half of 7 in (-4, 6]; resolves at 29 when the previous window empties");
	is_int(rl_stats(r.eng)->keys, 0, "spike: a key whose windows are empty is forgotten");
	stop(&r);

	/* min-count: a spike needs at least M in the current window. */
	start(&r, "{\"spike\":2,\"within\":\"10s\",\"min-count\":3}", 0, 0);
	feed(&r, "{\"t\":0}");
	feed(&r, "{\"t\":12}");
	feed(&r, "{\"t\":13}");
	is_str(got(&r), "", "spike with min-count 3: 2 against 1 is twice but under the minimum");
	feed(&r, "{\"t\":14}");
	is_str(got(&r), "F14(14) n=3;", "spike with min-count 3: the third record fires");
	stop(&r);
}

/* ---- cooldown ---- */

static void
test_cooldown(void)
{
	struct run r;

	start(&r, "{\"when\":\".v > 10\",\"by\":\"k\",\"cooldown\":\"60s\"}", 0, 0);
	feed(&r, "{\"t\":0,\"k\":\"a\",\"v\":20}");
	feed(&r, "{\"t\":1,\"k\":\"a\",\"v\":1}");
	feed(&r, "{\"t\":30,\"k\":\"a\",\"v\":20}");
	feed(&r, "{\"t\":30,\"k\":\"b\",\"v\":20}");
	feed(&r, "{\"t\":31,\"k\":\"a\",\"v\":1}");
	feed(&r, "{\"t\":59,\"k\":\"a\",\"v\":20}");
	feed(&r, "{\"t\":59,\"k\":\"a\",\"v\":1}");
	feed(&r, "{\"t\":60,\"k\":\"a\",\"v\":20}");
	is_str(got(&r), "F0(0) \"a\";R1(0) \"a\";F30(30) \"b\";F60(60) \"a\";",
	    "cooldown: re-fires within C of the last written one are suppressed with their resolves, per key; one exactly C after is written");
	is_int(rl_stats(r.eng)->suppressed, 4, "cooldown: four notices suppressed");
	is_int(rl_stats(r.eng)->firing, 3, "cooldown: three firing notices written");
	stop(&r);

	/* An idle key in its cooldown is kept until the cooldown ends, then forgotten. */
	start(&r, "{\"when\":\".v > 10\",\"cooldown\":\"60s\"}", 0, 0);
	feed(&r, "{\"t\":0,\"v\":20}");
	feed(&r, "{\"t\":1,\"v\":1}");
	is_int(rl_stats(r.eng)->keys, 1, "cooldown: the key is kept while its cooldown runs");
	rl_watermark(r.eng, S(61));
	is_int(rl_stats(r.eng)->keys, 0, "cooldown: then forgotten");
	feed(&r, "{\"t\":61,\"v\":20}");
	is_str(got(&r), "F0(0);R1(0);F61(61);", "cooldown: a fire after it is written");
	stop(&r);
}

/* ---- lateness ---- */

static void
test_lateness(void)
{
	struct run r;

	start(&r, "{\"count\":2,\"within\":\"10s\"}", S(5), 0);
	feed(&r, "{\"t\":10}");
	feed(&r, "{\"t\":8}");
	is_str(got(&r), "", "lateness: records wait for the watermark");
	is_int(rl_stats(r.eng)->held, 2, "lateness: two records held");
	feed(&r, "{\"t\":3}");
	is_int(r.late, 1, "lateness: a record below T = 10 - 5 is late");
	feed(&r, "{\"t\":20}");
	is_str(got(&r), "F10(10) n=2;", "lateness: out-of-order records are applied in event-time order");
	rl_finish(r.eng);
	is_str(got(&r), "F10(10) n=2;R18(10) n=1;", "lateness: the end applies what is held, after the window change at 18");
	is_int(rl_stats(r.eng)->late, 1, "lateness: the late count");
	stop(&r);
}

/* ---- save and load ---- */

static uint64_t rstate = 0x2545f4914f6cdd1d;

static uint64_t
rnd(void)
{
	rstate ^= rstate >> 12;
	rstate ^= rstate << 25;
	rstate ^= rstate >> 27;
	return rstate * UINT64_C(2685821657736338717);
}

static const char *mixed_rules =
    "[{\"name\":\"hot\",\"when\":\".v > 80\",\"by\":\"k\",\"for\":\"3s\",\"keep-firing-for\":\"4s\",\"cooldown\":\"20s\"},\n"
    " {\"name\":\"busy\",\"count\":4,\"within\":\"10s\",\"by\":[\"k\"]},\n"
    " {\"name\":\"same\",\"repeat\":3,\"field\":\"p\",\"by\":\"k\"},\n"
    " {\"name\":\"quiet\",\"absent\":\"15s\",\"by\":\"k\",\"keep-firing-for\":\"2s\"},\n"
    " {\"name\":\"odd\",\"zscore\":1.5,\"field\":\"v\",\"window\":5,\"by\":\"k\"},\n"
    " {\"name\":\"ewma\",\"zscore\":1.5,\"field\":\"v\",\"alpha\":0.3,\"by\":\"k\"},\n"
    " {\"name\":\"burst\",\"spike\":2,\"within\":\"8s\",\"min-count\":2}]";

static int load_failures;

/* run_split runs the records through one engine, or through two with a save and load between at split. */
static void
run_split(char **lines, size_t n, size_t split, int64_t lateness, struct buf *out)
{
	struct run r;
	json_t *saved;
	char *text, why[256];

	start(&r, mixed_rules, lateness, 0);
	for (size_t i = 0; i < n; i++) {
		if (i == split) {
			saved = rl_save(r.eng);
			text = json_dumps(saved, JSON_COMPACT);
			json_decref(saved);
			rl_engine_free(r.eng);
			r.eng = rl_engine_new(r.set, lateness, 0, on_notice, &r);
			saved = json_loads(text, 0, NULL);
			if (saved == NULL || rl_load(r.eng, saved, why, sizeof(why)) == -1)
				printf("# load failed: %s\n", why), load_failures++;
			json_decref(saved);
			free(text);
		}
		feed(&r, lines[i]);
	}
	rl_finish(r.eng);
	buf_add(out, r.out.p, r.out.len);
	stop(&r);
}

static void
test_save_load(void)
{
	enum { N = 400 };
	char *lines[N];
	struct buf one = BUF_INIT, two = BUF_INIT;
	size_t i, splits[] = { 1, 57, 200, 333, 399 }, si;
	bool same = true;
	int64_t t = 0;
	int lat;

	for (i = 0; i < N; i++) {
		char l[160];

		/* Mostly forward in time, sometimes back by up to 4 s; gaps that let absences fire. */
		t += (int64_t)(rnd() % 3);
		if (rnd() % 40 == 0)
			t += 20;
		snprintf(l, sizeof(l), "{\"t\":%" PRId64 ",\"k\":\"k%d\",\"v\":%d,\"p\":\"%c\"}",
		    t - (int64_t)(rnd() % 5), (int)(rnd() % 4), (int)(rnd() % 100), (char)('a' + rnd() % 2));
		lines[i] = strdup(l);
	}
	for (lat = 0; lat <= 5; lat += 5) {
		buf_reset(&one);
		run_split(lines, N, N, S(lat), &one);
		buf_cstr(&one);
		ok(one.len > 200, "save/load: the mixed run writes notices (lateness %d: %zu bytes)", lat, one.len);
		for (si = 0; si < sizeof(splits) / sizeof(splits[0]); si++) {
			buf_reset(&two);
			run_split(lines, N, splits[si], S(lat), &two);
			buf_cstr(&two);
			if (strcmp(one.p, two.p) != 0) {
				same = false;
				printf("# split %zu lateness %d differs\n#  one: %.300s\n#  two: %.300s\n", splits[si], lat, one.p, two.p);
			}
		}
		ok(same, "save/load: two runs split anywhere equal one run (lateness %d)", lat);
		is_int(load_failures, 0, "save/load: every saved state loads (lateness %d)", lat);
	}
	for (i = 0; i < N; i++)
		free(lines[i]);
	buf_free(&one);
	buf_free(&two);
}

static void
test_load_refused(void)
{
	struct run r;
	struct rl_set *other;
	struct rl_engine *e;
	json_t *saved;
	char why[256];

	start(&r, "{\"name\":\"busy\",\"count\":2,\"within\":\"10s\"}", 0, 0);
	feed(&r, "{\"t\":1}");
	saved = rl_save(r.eng);
	other = load_rules("{\"name\":\"busy\",\"count\":3,\"within\":\"10s\"}");
	e = rl_engine_new(other, 0, 0, on_notice, &r);
	ok(rl_load(e, saved, why, sizeof(why)) == -1, "load: a rule defined another way is refused");
	is_str(why, "rule 'busy' is not defined the same way as when the state was saved", "load: the reason");
	rl_engine_free(e);
	rl_set_free(other);
	other = load_rules("{\"name\":\"other\",\"count\":2,\"within\":\"10s\"}");
	e = rl_engine_new(other, 0, 0, on_notice, &r);
	ok(rl_load(e, saved, why, sizeof(why)) == -1, "load: a state of an unknown rule is refused");
	is_str(why, "the state has rule 'busy', which is not among the rules", "load: the reason");
	rl_engine_free(e);
	rl_set_free(other);
	json_object_set_new(saved, "keys", json_string("x"));
	e = rl_engine_new(r.set, 0, 0, on_notice, &r);
	ok(rl_load(e, saved, why, sizeof(why)) == -1, "load: a malformed state is refused");
	is_str(why, "malformed state", "load: the reason");
	rl_engine_free(e);
	json_decref(saved);
	stop(&r);
}

/* ---- max-keys ---- */

static void
test_max_keys(void)
{
	struct run r;

	start(&r, "{\"repeat\":2,\"field\":\"p\",\"by\":\"k\"}", 0, 2);
	feed(&r, "{\"t\":1,\"k\":\"a\",\"p\":1}");
	feed(&r, "{\"t\":2,\"k\":\"b\",\"p\":1}");
	feed(&r, "{\"t\":3,\"k\":\"c\",\"p\":1}");
	is_int(rl_stats(r.eng)->evicted, 1, "max-keys: the third key evicts one");
	is_int(rl_stats(r.eng)->keys, 2, "max-keys: two keys are held");
	feed(&r, "{\"t\":4,\"k\":\"a\",\"p\":1}");
	is_str(got(&r), "", "max-keys: the evicted key starts again, so its run is 1");
	feed(&r, "{\"t\":5,\"k\":\"c\",\"p\":1}");
	is_str(got(&r), "F5(5) \"c\" n=2 v=1;", "max-keys: a held key continues");
	is_int(rl_stats(r.eng)->evicted, 2, "max-keys: evictions are counted");
	stop(&r);
}

/* ---- notices ---- */

static void
test_notice_formats(void)
{
	struct run r;

	ok(load_rules("{\"count\":2,\"within\":\"1m\",\"summary\":\"{{.nope}}\"}") == NULL,
	    "a summary placeholder that no notice has is refused");
	start(&r, "{\"name\":\"bot\",\"count\":2,\"within\":\"1m\",\"by\":[\"user_id\",\"session_id\"],"
	    "\"severity\":\"page\",\"label\":{\"team\":\"web\"},"
	    "\"summary\":\"{{.user_id}} made {{value}} actions in {{ .session_id }} ({{.alert}})\"}", 0, 0);
	feed(&r, "{\"t\":1,\"user_id\":\"u1\",\"session_id\":7}");
	feed(&r, "{\"t\":2,\"user_id\":\"u1\",\"session_id\":7}");
	is_str(r.json.p, "{\"alert\":\"bot\",\"state\":\"firing\",\"at\":\"1970-01-01T00:00:02Z\","
	    "\"since\":\"1970-01-01T00:00:02Z\",\"user_id\":\"u1\",\"session_id\":7,\"count\":2,"
	    "\"severity\":\"page\",\"labels\":{\"team\":\"web\"},\"summary\":\"u1 made 2 actions in 7 (bot)\"}",
	    "the notice as JSON, field by field");
	is_str(r.am.p, "[{\"labels\":{\"alertname\":\"bot\",\"user_id\":\"u1\",\"session_id\":\"7\",\"severity\":\"page\","
	    "\"team\":\"web\"},\"annotations\":{\"summary\":\"u1 made 2 actions in 7 (bot)\"},"
	    "\"startsAt\":\"1970-01-01T00:00:02Z\"}]", "the notice for Alertmanager, firing");
	feed(&r, "{\"t\":70,\"user_id\":\"u2\",\"session_id\":7}");
	is_str(r.am.p, "[{\"labels\":{\"alertname\":\"bot\",\"user_id\":\"u1\",\"session_id\":\"7\",\"severity\":\"page\","
	    "\"team\":\"web\"},\"annotations\":{\"summary\":\"u1 made 1 actions in 7 (bot)\"},"
	    "\"startsAt\":\"1970-01-01T00:00:02Z\",\"endsAt\":\"1970-01-01T00:01:01Z\"}]", "the notice for Alertmanager, resolved");
	stop(&r);

	start(&r, "{\"name\":\"cold\",\"absent\":\"1m\",\"by\":\"h\",\"summary\":\"{{.h}} silent since {{value}}\"}", 0, 0);
	feed(&r, "{\"t\":0,\"h\":\"db\\\"1\"}");
	rl_finish(r.eng);
	rl_watermark(r.eng, S(61));
	is_str(r.json.p, "{\"alert\":\"cold\",\"state\":\"firing\",\"at\":\"1970-01-01T00:01:00Z\","
	    "\"since\":\"1970-01-01T00:01:00Z\",\"h\":\"db\\\"1\",\"last_seen\":\"1970-01-01T00:00:00Z\","
	    "\"summary\":\"db\\\"1 silent since 1970-01-01T00:00:00Z\"}", "an absence notice, a key with a quote");
	stop(&r);

	start(&r, "{\"name\":\"up\",\"spike\":2,\"within\":\"10s\",\"summary\":\"x{{value}}\"}", 0, 0);
	feed(&r, "{\"t\":0}");
	feed(&r, "{\"t\":10}");
	feed(&r, "{\"t\":11}");
	is_str(r.json.p, "{\"alert\":\"up\",\"state\":\"firing\",\"at\":\"1970-01-01T00:00:11Z\","
	    "\"since\":\"1970-01-01T00:00:11Z\",\"count\":2,\"previous\":1,\"ratio\":2.0,\"summary\":\"x2.0\"}",
	    "a spike notice: count, previous, ratio");
	stop(&r);
}

/* ---- rules files and options ---- */

/* file_error loads text as a rules file and returns the reason with the temporary file's name replaced by F. */
static const char *
file_error(const char *text)
{
	static char out[512];
	struct rl_set *s = rl_set_new();
	const char *p = write_file(text);
	char why[512], *at;
	size_t plen = strlen(p);

	out[0] = '\0';
	if (rl_load_file(s, p, why, sizeof(why)) == -1) {
		at = strstr(why, p);
		if (at != NULL)
			snprintf(out, sizeof(out), "%.*sF%s", (int)(at - why), why, at + plen);
		else
			snprintf(out, sizeof(out), "%s", why);
	}
	unlink(p);
	rl_set_free(s);
	return out;
}

static void
test_rules_file(void)
{
	struct rl_set *s;
	char why[256];

	s = load_rules("[{\"name\":\"bot\",\"count\":101,\"within\":\"10m\",\"by\":[\"user_id\",\"session_id\"],\"cooldown\":\"10m\"},\n"
	    " {\"name\":\"same\",\"repeat\":3,\"field\":\"page\",\"by\":\"user_id,session_id\"}]");
	ok(s != NULL && rl_count(s) == 2, "a JSON array of rules loads");
	if (s != NULL) {
		is_str(rl_name(s, 0), "bot", "the first rule's name");
		is_str(rl_kind_name(s, 1), "repetition", "the second rule's kind");
		rl_set_free(s);
	}
	s = load_rules("{\"name\":\"a\",\"when\":\".v > 1\"}\n\n  \n{\"name\":\"b\",\"absent\":\"5m\",\"label\":[\"team=web\",\"env=prod\"]}\n");
	ok(s != NULL && rl_count(s) == 2, "one object per line loads, blank lines skipped");
	rl_set_free(s);

	is_str(file_error("[{\"name\":\"bot\",\"count\": }]"), "F:1:25: unexpected token near '}'",
	    "a syntax error names the file, line and column");
	is_str(file_error("{\"name\":\"a\",\"when\":\"true\"}\n{\"name\":\"b\" \"count\":1}\n"),
	    "F:2:19: '}' expected near '\"count\"'", "a syntax error in the second line names line 2");
	is_str(file_error("{\"name\":\"bot\",\"cont\":5}"), "F: rule 1 (bot): unknown member 'cont'",
	    "an unknown member is refused");
	is_str(file_error("[{\"when\":\"true\"},{\"name\":\"bot\",\"count\":\"5\",\"within\":\"1m\"}]"),
	    "F: rule 2 (bot): member 'count': must be a whole number, not a string", "a wrong type is refused");
	is_str(file_error("{\"name\":\"bot\",\"count\":5,\"within\":60}"),
	    "F: rule 1 (bot): member 'within': must be a string duration like \"10m\", not a whole number",
	    "a duration must be a string");
	is_str(file_error("{\"name\":\"bot\",\"count\":0,\"within\":\"1m\"}"),
	    "F: rule 1 (bot): member 'count': must be a whole number from 1 to 1000000000: 0", "a count out of range is refused");
	is_str(file_error("{\"name\":\"bot\",\"count\":5,\"within\":\"0s\"}"),
	    "F: rule 1 (bot): member 'within': duration must be positive: 0s", "a zero window is refused");
	is_str(file_error("{\"name\":\"bot\",\"count\":5,\"within\":\"1m\"}\n{\"name\":\"bot\",\"when\":\"true\"}"),
	    "F: rule 2 (bot): duplicate rule name 'bot'", "a duplicate name is refused");
	is_str(file_error("{\"count\":5,\"within\":\"1m\"}\n{\"count\":6,\"within\":\"1m\"}"),
	    "F: rule 2: duplicate rule name 'rate'", "two unnamed rules of one kind collide on the kind's name");
	is_str(file_error("{\"name\":\"hot\",\"when\":\".v > \"}"),
	    "F: rule 1 (hot): member 'when': column 6: expected a value after '>'", "an expression that does not compile gives its column");
	is_str(file_error("{\"name\":\"hot\",\"when\":\"true\",\"where\":\".a ==\"}"),
	    "F: rule 1 (hot): member 'where': column 6: expected a value after '=='", "a where that does not compile gives its column");
	is_str(file_error("{\"name\":\"r\",\"count\":5}"), "F: rule 1 (r): 'count' needs 'within'", "a rate needs within");
	is_str(file_error("{\"name\":\"r\",\"repeat\":3}"), "F: rule 1 (r): 'repeat' needs 'field'", "a repetition needs field");
	is_str(file_error("{\"name\":\"z\",\"zscore\":3,\"field\":\"v\"}"), "F: rule 1 (z): 'zscore' needs 'window' or 'alpha'",
	    "an anomaly needs window or alpha");
	is_str(file_error("{\"count\":5,\"within\":\"1m\",\"field\":\"x\"}"), "F: rule 1: 'field' does not apply to a rate rule",
	    "a member the kind does not take is refused");
	is_str(file_error("{\"count\":5,\"within\":\"1m\",\"when\":\"true\"}"),
	    "F: rule 1: 'when' and 'count' choose different kinds (threshold, rate); give one", "two kinds in one rule are refused");
	is_str(file_error("{\"name\":\"x\",\"severity\":\"page\"}"),
	    "F: rule 1 (x): a rule needs one of when, count, repeat, absent, zscore, spike", "a rule without a kind is refused");
	is_str(file_error(""), "F: no rules", "an empty rules file is refused");
	is_str(file_error("[]"), "F: no rules", "an empty array of rules is refused");
	is_str(file_error("\n  \n"), "F: no rules", "a rules file of blank lines is refused");
	is_str(file_error("[1]"), "F: rule 1: must be an object, not a whole number", "a rule that is not an object is refused");
	is_str(file_error("{\"name\":\"a\",\"name\":\"b\",\"when\":\"true\"}"),
	    "F:1:18: duplicate object key near '\"name\"'", "a member given twice is refused");
	is_str(file_error("{\"when\":\"true\",\"label\":{\"team\":1}}"),
	    "F: rule 1: member 'label': label 'team' must be a string, not a whole number", "label values must be strings");

	s = rl_set_new();
	ok(rl_load_file(s, "/nonexistent/rules.json", why, sizeof(why)) == -1, "a missing rules file fails");
	is_str(why, "/nonexistent/rules.json: cannot open: No such file or directory", "with errno text");
	rl_set_free(s);

	/* The command-line path: the same members through rl_option. */
	s = rl_set_new();
	rl_begin(s);
	ok(rl_option(s, "count", "101", why, sizeof(why)) == 0, "option count");
	ok(rl_option(s, "count", "5", why, sizeof(why)) == -1, "an option given twice is refused");
	is_str(why, "given twice", "its reason");
	ok(rl_option(s, "within", "5", why, sizeof(why)) == -1, "a duration without unit is refused");
	is_str(why, "bad duration '5': missing unit", "its reason");
	ok(rl_option(s, "cout", "5", why, sizeof(why)) == -1, "an unknown option is refused");
	ok(rl_option(s, "within", "10m", why, sizeof(why)) == 0 && rl_option(s, "by", "user_id,session_id", why, sizeof(why)) == 0,
	    "options within and by");
	ok(rl_option(s, "label", "team", why, sizeof(why)) == -1, "a label without = is refused");
	is_str(why, "a label is K=V: team", "its reason");
	ok(rl_option(s, "alpha", "0.5", why, sizeof(why)) == 0, "alpha is parsed (its kind is checked at the end)");
	ok(rl_end(s, why, sizeof(why)) == -1, "alpha on a rate rule is refused at the end");
	is_str(why, "rule 'rate': 'alpha' does not apply to a rate rule", "its reason");
	rl_begin(s);
	rl_option(s, "zscore", "3", why, sizeof(why));
	ok(rl_option(s, "alpha", "1.5", why, sizeof(why)) == -1, "alpha above 1 is refused");
	is_str(why, "must be a number greater than 0 and at most 1: 1.5", "its reason");
	ok(rl_option(s, "spike-down", NULL, why, sizeof(why)) == 0, "a flag takes no value");
	rl_option(s, "field", "temp", why, sizeof(why));
	rl_option(s, "window", "30", why, sizeof(why));
	ok(rl_end(s, why, sizeof(why)) == -1, "spike-down on an anomaly rule is refused");
	rl_begin(s);
	rl_option(s, "zscore", "3", why, sizeof(why));
	rl_option(s, "field", "temp", why, sizeof(why));
	rl_option(s, "window", "30", why, sizeof(why));
	ok(rl_end(s, why, sizeof(why)) == 0 && rl_count(s) == 1, "a complete anomaly rule ends");
	is_str(rl_name(s, 0), "anomaly", "an unnamed rule is named after its kind");
	rl_set_free(s);
}

/* rl_input: the same engine fed with inputs the caller evaluated. */
static void
test_input(void)
{
	struct run r;
	struct rl_input in;

	start(&r, "{\"repeat\":2,\"field\":\"p\",\"by\":\"u\"}", 0, 0);
	memset(&in, 0, sizeof(in));
	in.key = "\"u1\"";
	in.keylen = 4;
	in.hasval = true;
	in.value = "\"home\"";
	in.valuelen = 6;
	is_int(rl_input(r.eng, 0, S(1), &in), RL_OK, "input: taken");
	rl_input(r.eng, 0, S(2), &in);
	is_str(got(&r), "F2(2) \"u1\" n=2 v=\"home\";", "input: two equal values fire");
	is_int(rl_input(r.eng, 0, S(1), &in), RL_LATE, "input: a time below T is late");
	in.hasval = false;
	rl_input(r.eng, 0, S(3), &in);
	is_int(rl_stats(r.eng)->no_value, 1, "input: a missing value is counted");
	stop(&r);
}

/* Keys due at one instant go in rule order, past 256 rules too, then by key bytes. */
static size_t order_rules[600], norder;

static void
on_order(void *ctx, const struct rl_notice *n)
{
	if (norder < 600)
		order_rules[norder++] = n->rule;
}

static void
test_tie_order(void)
{
	struct buf text = BUF_INIT;
	struct rl_set *s;
	struct rl_engine *e;
	struct rec *rec = rec_new();
	char line[96];
	size_t i;
	bool inorder = true;
	const char *recs[] = { "{\"k\":\"b\"}", "{\"k\":\"a\"}" };

	for (i = 0; i < 300; i++) {
		snprintf(line, sizeof(line), "{\"name\":\"r%zu\",\"absent\":\"10s\",\"by\":\"k\"}\n", i);
		buf_adds(&text, line);
	}
	s = load_rules(buf_cstr(&text));
	e = rl_engine_new(s, 0, 0, on_order, NULL);
	for (i = 0; i < 2; i++) {
		rec_parse(rec, recs[i], strlen(recs[i]), NULL);
		rl_record(e, rec, 0);
	}
	rl_watermark(e, S(11));
	for (i = 0; i < norder; i++)
		if (order_rules[i] != i / 2)
			inorder = false;
	ok(norder == 600 && inorder, "600 decisions due at one instant come in rule order (rule 256 after rule 1)");
	rl_engine_free(e);
	rl_set_free(s);
	rec_free(rec);
	buf_free(&text);
}

/*
 * test_one_path: an expression that reads one path is evaluated by the
 * engine against the value the rules looked up already (expr_one_path,
 * expr_test_one); it must agree with expr_test on every record, across
 * types, escapes, missing and null.
 */
static void
test_one_path(void)
{
	static const char *const one[] = {
		".v > 99", "99 < .v", ".v == 100", ".v != 100", ".v <= 99.5", ".v >= \"1\"",
		".v == null", ".a == \"click\"", "\"click\" != .a", "exists(.v)",
		".v < true", ".[\"v\"] > 99",
	};
	static const char *const many[] = {
		".v > 99 and .v < 200", ".v + 1 > 2", ".v > .w", ".v", "not", "length > 1", ". == 1",
	};
	static const char *const recs[] = {
		"{\"v\":100}", "{\"v\":99.5}", "{\"v\":99}", "{\"v\":1e2}", "{\"v\":\"100\"}",
		"{\"v\":null}", "{}", "{\"v\":[1]}", "{\"v\":false}", "{\"a\":\"click\"}",
		"{\"a\":\"cl\\u0069ck\"}", "{\"a\":\"clicks\"}", "{\"v\":{\"x\":1}}", "{\"v\":100,\"v\":1}",
	};
	/* Worked out by hand for .v > 99 and .a == "click", in the order of recs. */
	static const bool gt99[] = { 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const bool click[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0 };
	struct rec *rec = rec_new();
	struct expr_err err;
	size_t i, j, bad;

	for (i = 0; i < sizeof(many) / sizeof(many[0]); i++) {
		struct expr *x = expr_compile(many[i], &err);

		ok(x != NULL && expr_one_path(x) == NULL, "%s reads more than one path's value", many[i]);
		expr_free(x);
	}
	for (i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		struct expr *x = expr_compile(one[i], &err);
		const struct rec_path *p = x != NULL ? expr_one_path(x) : NULL;

		ok(p != NULL, "%s reads one path", one[i]);
		if (p == NULL)
			continue;
		for (j = 0, bad = 0; j < sizeof(recs) / sizeof(recs[0]); j++) {
			struct rec_err re;
			struct rec_val v;
			bool got, want;

			if (rec_parse(rec, recs[j], strlen(recs[j]), &re) != 0)
				abort();
			rec_get(rec, p, &v);
			got = expr_test_one(x, rec, &v);
			want = expr_test(x, rec);
			if (got != want) {
				fprintf(stderr, "# %s on %s: %d, expr_test %d\n", one[i], recs[j], got, want);
				bad++;
			}
			if (i == 0 && got != gt99[j])
				bad++;
			if (i == 7 && got != click[j])
				bad++;
		}
		ok(bad == 0, "%s: the looked-up value gives expr_test's truth on every record", one[i]);
		expr_free(x);
	}
	rec_free(rec);
}

/*
 * test_forget_queue: rate keys below their count wait for their window to
 * empty in a queue of their own (in time order), not in the timer heap.
 * Two rates with different windows interleave in it (those that would
 * break its order go to the heap); a key that fires leaves it and comes
 * back; evicted keys leave it; the queue grows past its first size.
 */
static void
test_forget_queue(void)
{
	struct run r;
	char line[64];
	int i;

	start(&r, "[{\"name\":\"a\",\"count\":2,\"within\":\"10s\",\"by\":[\"k\"]},"
	    "{\"name\":\"b\",\"count\":2,\"within\":\"3s\",\"by\":[\"k\"]}]", 0, 0);
	for (i = 0; i < 200; i++) {
		snprintf(line, sizeof(line), "{\"t\":%d,\"k\":\"k%d\"}", i, i);
		feed(&r, line);
	}
	/* T = 199; a window ending at X is taken once T > X: a keeps t + 10 > 198, b keeps t + 3 > 198. */
	is_int(rl_stats(r.eng)->keys, 11 + 4, "forget queue: keys are forgotten when their windows empty");
	feed(&r, "{\"t\":200,\"k\":\"x\"}");
	feed(&r, "{\"t\":201,\"k\":\"x\"}");
	feed(&r, "{\"t\":230,\"k\":\"y\"}");
	is_str(got(&r), "F201(201) \"x\" n=2;F201(201) \"x\" n=2;R203(201) \"x\" n=1;R210(201) \"x\" n=1;",
	    "forget queue: a queued key that reaches its count fires and resolves in time");
	is_int(rl_stats(r.eng)->keys, 2, "forget queue: after resolving, the key is forgotten when its window empties");
	rl_finish(r.eng);
	is_int(rl_stats(r.eng)->keys, 2, "forget queue: the end of input forgets nothing beyond the largest time");
	stop(&r);

	start(&r, "{\"count\":2,\"within\":\"100s\",\"by\":[\"k\"]}", 0, 5);
	for (i = 0; i < 50; i++) {
		snprintf(line, sizeof(line), "{\"t\":%d,\"k\":\"k%d\"}", i, i);
		feed(&r, line);
	}
	is_int(rl_stats(r.eng)->evicted, 45, "forget queue: keys evicted by max-keys");
	is_int(rl_stats(r.eng)->keys, 5, "forget queue: max-keys keys held");
	feed(&r, "{\"t\":1000,\"k\":\"z\"}");
	is_int(rl_stats(r.eng)->keys, 1, "forget queue: the evicted keys' entries are skipped, the others forgotten");
	is_str(got(&r), "", "forget queue: no notice comes of forgetting");
	stop(&r);
}

int
main(void)
{
	test_threshold();
	test_rate();
	test_repetition();
	test_absence();
	test_anomaly();
	test_spike();
	test_cooldown();
	test_lateness();
	test_save_load();
	test_load_refused();
	test_max_keys();
	test_notice_formats();
	test_rules_file();
	test_input();
	test_tie_order();
	test_one_path();
	test_forget_queue();
	return tap_done();
}
