/* Unit tests for lib/windowing: grid floor, sliding assignment, watermark, open ends, session merging. */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "tap.h"
#include "timeval.h"
#include "windowing.h"

/* A ws_close_fn that writes "key[start,end):e1,e2;" per session into a buf. */
static void
collect(void *ctx, const struct win_session *s)
{
	struct buf *b = ctx;
	char tmp[128];
	size_t kl, i, len;
	const char *k = ws_key(s, &kl);

	buf_add(b, k, kl);
	if (ws_revision(s) > 0) {
		snprintf(tmp, sizeof tmp, "#%u", ws_revision(s));
		buf_adds(b, tmp);
	}
	snprintf(tmp, sizeof tmp, "[%lld,%lld):", (long long)ws_start(s), (long long)ws_end(s));
	buf_adds(b, tmp);
	for (i = 0; i < ws_nevents(s); i++) {
		int64_t t;
		const char *p = ws_event(s, i, &len, &t);
		if (i > 0)
			buf_addc(b, ',');
		buf_add(b, p, len);
	}
	buf_addc(b, ';');
}

static void
add(struct win_sessions *w, const char *key, int64_t t, const char *payload, int64_t wm, int want)
{
	int r = ws_add(w, key, strlen(key), t, payload, strlen(payload), wm);
	is_int(r, want, "ws_add %s t=%lld wm=%lld %s", key, (long long)t, (long long)wm,
	    want ? "is late" : "is accepted");
}

static const char *
close_all(struct win_sessions *w, int64_t wm, struct buf *b)
{
	buf_reset(b);
	ws_close(w, wm, collect, b);
	return buf_cstr(b);
}

static void
test_floor(void)
{
	is_int(win_floor(7, 5, 0), 5, "floor 7 on a grid of 5");
	is_int(win_floor(5, 5, 0), 5, "a time on the grid is its own start");
	is_int(win_floor(0, 5, 0), 0, "zero is on the grid");
	is_int(win_floor(-1, 5, 0), -5, "floor -1 goes down to -5, not up to 0");
	is_int(win_floor(-5, 5, 0), -5, "floor -5 is -5");
	is_int(win_floor(-6, 5, 0), -10, "floor -6 is -10");
	is_int(win_floor(1, 5, 2), -3, "offset 2: 1 is in [-3,2)");
	is_int(win_floor(2, 5, 2), 2, "offset 2: 2 starts a window");
	is_int(win_floor(-4, 5, 2), -8, "offset 2: -4 is in [-8,-3)");
	is_int(win_floor(1, 5, -2), -2, "offset -2: 1 is in [-2,3)");
	is_int(win_floor(3, 5, -2), 3, "offset -2 is the grid of offset 3");
	is_int(win_floor(13, 5, 12), 12, "an offset larger than the step counts modulo it");
	/* An hour grid shifted by 15 minutes, in microseconds. */
	int64_t h = 3600 * TV_US_PER_S, q = 900 * TV_US_PER_S;
	is_int(win_floor(10 * h, h, q), 9 * h + q, "10:00 is in the hour window from 09:15");
	is_int(win_floor(-h, h, -q), -h - q, "an hour before the epoch with offset -15m starts at 22:45 the day before");
	is_int(win_floor(TV_MIN, 5, 0), TV_MIN, "the floor of TV_MIN saturates");
}

static void
test_add(void)
{
	is_int(win_add(1, 2), 3, "win_add adds");
	is_int(win_add(TV_MAX, 1), TV_MAX, "win_add saturates up");
	is_int(win_add(TV_MIN, -1), TV_MIN, "win_add saturates down");
}

static void
test_sliding(void)
{
	int64_t s[8];
	size_t n;

	n = win_sliding_assign(10, 10, 3, 0, s, 8);
	is_int(n, 3, "size 10 slide 3: t=10 is in 3 windows");
	ok(n == 3 && s[0] == 3 && s[1] == 6 && s[2] == 9, "they start at 3, 6, 9");
	n = win_sliding_assign(12, 10, 3, 0, s, 8);
	is_int(n, 4, "size 10 slide 3: t=12 is in 4 windows");
	ok(n == 4 && s[0] == 3 && s[1] == 6 && s[2] == 9 && s[3] == 12, "they start at 3, 6, 9, 12");
	is_int(win_sliding_count(10, 3), 4, "at most ceil(10/3) = 4 windows");
	is_int(win_sliding_count(10, 5), 2, "slide dividing size: 2 windows");
	n = win_sliding_assign(-1, 10, 5, 0, s, 8);
	ok(n == 2 && s[0] == -10 && s[1] == -5, "t=-1 is in [-10,0) and [-5,5)");
	n = win_sliding_assign(7, 10, 5, 1, s, 8);
	ok(n == 2 && s[0] == 1 && s[1] == 6, "offset 1: t=7 is in [1,11) and [6,16)");
	n = win_sliding_assign(3, 2, 5, 0, s, 8);
	is_int(n, 0, "slide 5 > size 2: t=3 falls in a gap");
	n = win_sliding_assign(1, 2, 5, 0, s, 8);
	ok(n == 1 && s[0] == 0, "slide 5 > size 2: t=1 is in [0,2)");
	n = win_sliding_assign(7, 5, 5, 0, s, 8);
	ok(n == 1 && s[0] == 5, "slide == size is tumbling");
}

static void
test_wm(void)
{
	struct win_wm w;

	wm_init(&w, 5);
	is_int(w.t, TV_MIN, "no watermark before the first event");
	ok(wm_event(&w, 100), "the first event raises T");
	is_int(w.t, 95, "T = max - lateness");
	ok(!wm_event(&w, 90), "an out-of-order event does not move T");
	is_int(w.t, 95, "T stays 95");
	ok(wm_raise(&w, 200), "a watermark record raises T");
	ok(!wm_event(&w, 150), "an event below T does not lower it");
	is_int(w.t, 200, "T stays 200");
	ok(!wm_raise(&w, 100), "a lower watermark record is ignored");
	wm_init(&w, 10);
	wm_event(&w, TV_MIN + 3);
	is_int(w.t, TV_MIN, "T saturates at TV_MIN");
}

static void
test_open(void)
{
	struct win_open *o = wo_new();

	wo_add(o, 10);
	wo_add(o, 20);
	wo_add(o, 10);
	wo_add(o, 5);
	is_int(wo_count(o), 3, "duplicate ends are kept once");
	is_int(wo_close(o, 9), 1, "T=9 closes the window ending at 5");
	is_int(wo_close(o, 9), 0, "closing again closes nothing");
	is_int(wo_close(o, 10), 1, "T=10 closes the window ending at 10 (T >= end)");
	is_int(wo_count(o), 1, "one window is still open");
	is_int(wo_get(o, 0), 20, "it ends at 20");
	wo_add(o, 10);
	is_int(wo_count(o), 2, "an end can be added again after it closed");
	is_int(wo_close(o, TV_MAX), 2, "T=+inf closes everything");
	wo_add(o, 30);
	wo_add(o, 40);
	wo_add(o, 30);
	is_int(wo_close(o, 35), 1, "T=35 closes 30");
	wo_add(o, 40);
	wo_add(o, 30);
	is_int(wo_count(o), 2, "30 is open again after it closed, 40 once");
	wo_add(o, 30);
	is_int(wo_count(o), 2, "and adding 30 again changes nothing");
	wo_free(o);
}

static void
test_sessions(void)
{
	struct win_sessions *w = ws_new(10);
	struct buf b = BUF_INIT;

	add(w, "a", 0, "e0", TV_MIN, 0);
	add(w, "a", 5, "e5", TV_MIN, 0);
	is_int(ws_count(w), 1, "0 and 5 with gap 10 are one session");
	add(w, "a", 25, "e25", TV_MIN, 0);
	is_int(ws_count(w), 2, "25 starts a second session");
	add(w, "a", 15, "e15", TV_MIN, 0);
	is_int(ws_count(w), 1, "15 touches [0,15) and [25,35): all merge");
	is_str(close_all(w, 34, &b), "", "T=34 closes nothing");
	is_str(close_all(w, 35, &b), "a[0,35):e0,e5,e15,e25;", "T=35 closes the merged session, events in time order");
	is_int(ws_count(w), 0, "nothing is open");

	add(w, "a", 100, "x", TV_MIN, 0);
	add(w, "a", 110, "y", TV_MIN, 0);
	is_int(ws_count(w), 1, "[100,110) and [110,120) touch and merge");
	add(w, "a", 131, "z", TV_MIN, 0);
	is_int(ws_count(w), 2, "[131,141) does not touch [100,120)");
	add(w, "b", 105, "p", TV_MIN, 0);
	add(w, "b", 102, "q", TV_MIN, 0);
	is_int(ws_count(w), 3, "key b has its own session");
	is_str(close_all(w, 120, &b), "b[102,115):q,p;a[100,120):x,y;", "T=120 closes the sessions ending by 120, in order of end");
	is_str(close_all(w, 200, &b), "a[131,141):z;", "T=200 closes the last one");

	/* Lateness: T = 50. */
	add(w, "c", 30, "late", 50, 1);
	is_int(ws_count(w), 0, "a late event opens nothing");
	add(w, "c", 45, "open", 50, 0);
	add(w, "c", 38, "joins", 50, 0);
	is_int(ws_count(w), 1, "an event whose own window closed but that joins an open session is accepted");
	add(w, "d", 52, "d1", 50, 0);
	add(w, "c", 52, "c1", 50, 0);
	is_str(close_all(w, 70, &b), "c[38,62):joins,open,c1;d[52,62):d1;", "equal ends close in key order");

	/* A late-but-accepted event bridging two sessions. */
	add(w, "e", 100, "e100", 90, 0);
	add(w, "e", 115, "e115", 90, 0);
	is_int(ws_count(w), 2, "[100,110) and [115,125) are two sessions for e");
	add(w, "e", 106, "e106", 107, 0);
	is_int(ws_count(w), 1, "106, below T=107 but in an open window, bridges them");
	is_str(close_all(w, TV_MAX, &b), "e[100,125):e100,e106,e115;", "the bridged session holds all three");

	/* Equal times keep arrival order. */
	add(w, "f", 7, "first", TV_MIN, 0);
	add(w, "f", 7, "second", TV_MIN, 0);
	add(w, "f", 3, "third", TV_MIN, 0);
	is_str(close_all(w, TV_MAX, &b), "f[3,17):third,first,second;", "ties keep arrival order");

	/* ws_foreach sees the open sessions in close order and keeps them. */
	add(w, "g", 50, "g", TV_MIN, 0);
	add(w, "h", 10, "h", TV_MIN, 0);
	buf_reset(&b);
	ws_foreach(w, collect, &b);
	is_str(buf_cstr(&b), "h[10,20):h;g[50,60):g;", "ws_foreach lists open sessions in order");
	is_int(ws_count(w), 2, "ws_foreach keeps them open");
	ws_free(w);
	buf_free(&b);
}

static void
test_allowed_lateness(void)
{
	struct win_sessions *w = ws_new(10);
	struct buf b = BUF_INIT;

	ws_set_allowed_lateness(w, 20);
	add(w, "a", 0, "a0", TV_MIN, 0);
	is_str(close_all(w, 10, &b), "a[0,10):a0;", "the session is emitted when T reaches its end");
	is_int(ws_count(w), 1, "and kept for the allowed lateness");
	add(w, "a", 5, "a5", 15, 0);
	is_str(close_all(w, 15, &b), "a#1[0,15):a0,a5;", "a late event re-fires the whole session as revision 1");
	add(w, "a", -30, "old", 15, 1);
	is_str(close_all(w, 34, &b), "", "nothing new: nothing is emitted");
	is_int(ws_count(w), 1, "kept until end + allowed lateness");
	is_str(close_all(w, 35, &b), "", "dropping a kept session emits nothing");
	is_int(ws_count(w), 0, "at T = end + allowed lateness it is dropped");

	add(w, "b", 0, "b0", TV_MIN, 0);
	is_str(close_all(w, 10, &b), "b[0,10):b0;", "b fires");
	add(w, "b", 12, "b12", 11, 0);
	add(w, "b", 9, "b9", 11, 0);
	is_int(ws_count(w), 1, "9 joins the kept [0,10) and the open [12,22)");
	is_str(close_all(w, 21, &b), "", "the merged session is open until 22");
	is_str(close_all(w, 22, &b), "b#1[0,22):b0,b9,b12;", "then fires as revision 1");
	size_t before = ws_count(w);
	ws_restore(w, "r", 1, 0, "r0", 2, 1, false);
	ws_restore(w, "r", 1, 5, "r5", 2, 1, false);
	is_int(ws_count(w) - before, 1, "restored events of one session make one session");
	is_str(close_all(w, 30, &b), "", "a restored session already emitted is not emitted again");
	ws_restore(w, "s", 1, 0, "s0", 2, 1, true);
	is_str(close_all(w, 30, &b), "s#1[0,10):s0;", "a restored pending session fires with its revision");
	add(w, "c", 0, "c0", 15, 0);
	is_str(close_all(w, 15, &b), "c[0,10):c0;", "an event whose window closed within the allowed lateness fires at once");
	ws_free(w);
	buf_free(&b);
}

/* Calendar windows; the expected bounds are from Python's zoneinfo. */
static void
test_calendar(void)
{
	static const struct {
		const char	*len, *zone;
		int		 week_start;
		int64_t		 t, start, end;	/* seconds */
	} rows[] = {
		{ "1mo", NULL, 0, 1708000000, 1706745600, 1709251200 },		/* February 2024: 29 days */
		{ "1d", "Europe/Berlin", 0, 1711880000, 1711839600, 1711922400 },	/* 23 hours */
		{ "1w", NULL, 0, 1709900000, 1709510400, 1710115200 },		/* from Monday */
		{ "3mo", "America/New_York", 0, 1710000000, 1704085200, 1711944000 },	/* a quarter */
		{ "1w", NULL, 0, 0, -259200, 345600 },				/* before and after the epoch */
		{ "100y", NULL, 0, 0, -2208988800, 946684800 },			/* a century, from year 0 */
	};
	enum win_unit unit;
	int64_t n, s, e;

	ok(win_cal_parse("1mo", &unit, &n) == 0 && unit == WU_MONTH && n == 1, "1mo is a month");
	ok(win_cal_parse("12w", &unit, &n) == 0 && unit == WU_WEEK && n == 12, "12w is 12 weeks");
	ok(win_cal_parse("36h", &unit, &n) == -1, "36h is a duration, not a calendar window");
	ok(win_cal_parse("1d12h", &unit, &n) == -1, "1d12h is a duration");
	ok(win_cal_parse("d", &unit, &n) == -1, "a unit needs a number");
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct win_cal c = { 0 };
		struct tv_zone *z = rows[i].zone ? tv_zone_load(rows[i].zone, NULL) : NULL;

		ok(rows[i].zone == NULL || z != NULL, "%s loads", rows[i].zone ? rows[i].zone : "UTC");
		ok(win_cal_parse(rows[i].len, &c.unit, &c.n) == 0, "%s parses", rows[i].len);
		c.zone = z;
		c.week_start = rows[i].week_start;
		/* Twice: the second answer comes from the window kept in c. */
		for (int k = 0; k < 2; k++) {
			win_cal_window(&c, rows[i].t * 1000000 + 1, &s, &e);
			is_int(s, rows[i].start * 1000000, "%s window of %lld starts at %lld", rows[i].len,
			    (long long)rows[i].t, (long long)rows[i].start);
			is_int(e, rows[i].end * 1000000, "%s window of %lld ends at %lld", rows[i].len,
			    (long long)rows[i].t, (long long)rows[i].end);
		}
		tv_zone_free(z);
	}
}

int
main(void)
{
	test_add();
	test_floor();
	test_sliding();
	test_wm();
	test_open();
	test_sessions();
	test_allowed_lateness();
	test_calendar();
	return tap_done();
}
