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
	feed(&r, "{\"t\":2,\"v\":20}");
	feed(&r, "{\"t\":3,\"v\":30}");
	feed(&r, "{\"t\":4,\"v\":1}");
	feed(&r, "{\"t\":5,\"v\":1}");
	is_str(got(&r), "F2(2);R4(2);", "threshold fires on a true record and resolves on a false one");
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

int
main(void)
{
	test_threshold();
	test_rate();
	return tap_done();
}
