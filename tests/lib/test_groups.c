/* test_groups: group tables as instances — keys, creation order past growth, deletion, and the @agg_state codec both ways. */
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "buf.h"
#include "groups.h"
#include "tap.h"

static void
specs(struct aggs *a, const char *s1, const char *s2)
{
	char why[256];

	aggs_init(a);
	aggs_add(a, s1, why, sizeof(why));
	if (s2 != NULL)
		aggs_add(a, s2, why, sizeof(why));
	aggs_finish(a, false);
}

/* num makes a numeric field value from its text. */
static struct rec_val
num(const char *text)
{
	struct rec_val v;

	memset(&v, 0, sizeof(v));
	v.raw = text;
	v.rawlen = strlen(text);
	v.type = strchr(text, '.') ? RT_REAL : RT_INT;
	v.d = strtod(text, NULL);
	v.i = (int64_t)v.d;
	return v;
}

/* result returns the output columns of a group as "name=json ..." (static buffer: a test helper). */
static const char *
result(const struct aggs *a, struct gr_group *g)
{
	static struct agg_cols c;
	static char out[512];
	size_t i;

	agg_cols_reset(&c);
	aggs_result(a, gr_block(g), &c);
	out[0] = '\0';
	for (i = 0; i < c.n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s=%.*s", i ? " " : "",
		    c.name[i], (int)c.len[i], c.b.p + c.start[i]);
	return out;
}

static void
test_order_and_growth(void)
{
	static const char *const names[] = { "k" };
	struct aggs a;
	struct groups *t;
	struct gr_group **l, *g;
	struct buf key = BUF_INIT;
	struct rec_val v = num("2.5");
	char k[32];
	size_t n, i;
	bool made;
	int bad = 0;

	specs(&a, "count", "sum:v");
	t = gr_new(&a, names, 1);
	for (i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "\"g%zu\"", (i * 7919) % 1000);
		gr_key_reset(&key);
		gr_key_add(&key, k, strlen(k));
		g = gr_get(t, key.p, key.len, &made);
		bad += !made;
		gr_update(t, g, &v);
	}
	is_int(bad, 0, "1000 distinct keys make 1000 groups");
	is_int(gr_count(t), 1000, "gr_count after the order array grew past 64 several times");
	gr_key_reset(&key);
	gr_key_add(&key, "\"g0\"", 4);
	g = gr_get(t, key.p, key.len, &made);
	ok(!made && g->seq == 0, "an existing key returns its group, first created");
	gr_update(t, g, &v);
	is_str(result(&a, g), "count=2 v_sum=5.0", "its block holds both updates");
	l = gr_list(t, &n);
	for (i = 1, bad = 0; i < n; i++)
		bad += l[i]->seq != l[i - 1]->seq + 1;
	is_int(bad, 0, "gr_list is in creation order");
	for (i = 0; i < n; i += 3)
		gr_del(t, l[i]);
	l = gr_list(t, &n);
	is_int(n, 666, "a third deleted: 666 left");
	for (i = 1, bad = 0; i < n; i++)
		bad += l[i]->seq <= l[i - 1]->seq || l[i]->seq % 3 == 0;
	is_int(bad, 0, "the rest keep their order");
	ok(gr_find(t, key.p, key.len) == NULL, "a deleted group is gone");
	gr_free(t);
	aggs_free(&a);
	buf_free(&key);
}

static void
test_codec(void)
{
	static const char *const names[] = { "page" };
	static const char aggline[] =
	    "{\"@agg_state\":1,\"group\":{\"page\":\"cart\"},\"specs\":[\"count=count\",\"sum:value=value_sum\"],"
	    "\"states\":[2,[2,0,117.68,-7.105427357601002e-15,true]],\"invalid\":[0]}";
	struct aggs a, other;
	struct groups *t, *u, *w;
	struct gr_group *g, *h;
	struct buf key = BUF_INIT, out = BUF_INIT;
	struct rec_val v = num("10.5");
	const char *txt;
	char why[512];
	size_t n;

	specs(&a, "count", "sum:value");
	t = gr_new(&a, names, 1);
	ok(gr_load(t, aggline, strlen(aggline), &g, why, sizeof(why)) == 0, "aggregate --partial's line loads");
	n = gr_value(g, 0, &txt);
	ok(n == 6 && memcmp(txt, "\"cart\"", 6) == 0, "into the group its values name");
	gr_key_reset(&key);
	gr_key_add(&key, "\"cart\"", 6);
	h = gr_get(t, key.p, key.len, NULL);
	ok(h == g, "the key an event of that group builds finds it");
	gr_update(t, h, &v);
	is_str(result(&a, g), "count=3 value_sum=128.18", "and events add to the loaded state");
	gr_save(t, g, &out);
	buf_cstr(&out);
	/* The states are lib/agg's to spell; the frame around them is aggregate --partial's. */
	ok(strncmp(out.p, "{\"@agg_state\":1,\"group\":{\"page\":\"cart\"},\"specs\":[\"count=count\",\"sum:value=value_sum\"],"
	    "\"states\":[3,", 98) == 0 && strstr(out.p, "],\"invalid\":[0]}\n") != NULL,
	    "gr_save writes aggregate --partial's line");
	u = gr_new(&a, names, 1);
	ok(gr_load(u, out.p, out.len - 1, NULL, why, sizeof(why)) == 0 &&
	    gr_load(u, out.p, out.len - 1, &h, why, sizeof(why)) == 0, "a saved line loads back, twice");
	is_str(result(&a, h), "count=6 value_sum=256.36", "and merges");

	ok(gr_load(u, "{\"a\":1}", 7, NULL, why, sizeof(why)) == -1, "a record that is no state is refused");
	is_str(why, "not an aggregate state record", "with its reason");
	gr_load(u, "{\"@agg_state\":2}", 16, NULL, why, sizeof(why));
	is_str(why, "unsupported aggregate state version 2", "a newer version");
	w = gr_new(&a, (const char *const[]){ "user" }, 1);
	gr_load(w, aggline, strlen(aggline), NULL, why, sizeof(why));
	is_str(why, "state record groups by 'page', this run by 'user'", "other group columns");
	is_int(gr_count(w), 0, "leave the table unchanged");
	specs(&other, "count", NULL);
	gr_free(w);
	w = gr_new(&other, names, 1);
	gr_load(w, aggline, strlen(aggline), NULL, why, sizeof(why));
	is_str(why, "state record has aggregates 'count=count sum:value=value_sum', this run 'count=count'",
	    "other aggregates");
	txt = "{\"@agg_state\":1,\"group\":{},\"specs\":[\"count=count\"],\"approx\":true,\"states\":[1],\"invalid\":[]}";
	gr_load(w, txt, strlen(txt), NULL, why, sizeof(why));
	is_str(why, "state record was made with --approx, this run is without it", "another --approx");
	txt = "{\"@agg_state\":1,\"group\":{\"page\":1},\"specs\":[\"count=count\"],\"states\":[\"x\"],\"invalid\":[]}";
	gr_load(w, txt, strlen(txt), NULL, why, sizeof(why));
	is_str(why, "malformed aggregate state record", "a state that does not load");
	is_int(gr_count(w), 0, "and nothing was created");
	gr_free(t);
	gr_free(u);
	gr_free(w);
	aggs_free(&a);
	aggs_free(&other);
	buf_free(&key);
	buf_free(&out);
}

static void
test_equal(void)
{
	static const char *const names[] = { "k", "j" };
	struct aggs a;
	struct groups *t;
	struct gr_group *g, *h;
	struct buf key = BUF_INIT;
	const char *txt;
	const void *ck;
	size_t n;
	bool made;

	specs(&a, "count", NULL);
	t = gr_new(&a, names, 2);
	gr_key_reset(&key);
	gr_key_add(&key, "1.0", 3);
	gr_key_add(&key, "\"a\\u0062\"", 9);
	g = gr_get(t, key.p, key.len, &made);
	ok(made, "a first spelling makes a group");
	gr_key_reset(&key);
	gr_key_add(&key, "1", 1);
	gr_key_add(&key, "\"ab\"", 4);
	h = gr_get(t, key.p, key.len, &made);
	ok(h == g && !made, "its canonical spelling finds it through the alias");
	ok(gr_find(t, key.p, key.len) == g, "gr_find too");
	n = gr_value(g, 0, &txt);
	ok(n == 3 && memcmp(txt, "1.0", 3) == 0, "the group keeps its first spelling");
	ck = gr_canon_key(t, g, &n);
	ok(n == 7 && memcmp(ck, "1\0\"ab\"\0", 7) == 0, "gr_canon_key is the canonical key");
	gr_key_reset(&key);
	gr_key_add(&key, "1e0", 3);
	gr_key_add(&key, "\"\\u0061b\"", 9);
	ok(gr_get(t, key.p, key.len, NULL) == g, "a third spelling finds it too");
	gr_del(t, g);
	gr_key_reset(&key);
	gr_key_add(&key, "1", 1);
	gr_key_add(&key, "\"ab\"", 4);
	ok(gr_find(t, key.p, key.len) == NULL, "a deleted group's alias goes with it");
	g = gr_get(t, key.p, key.len, &made);
	n = gr_value(g, 0, &txt);
	ok(made && n == 1 && txt[0] == '1', "and the next spelling is the new group's first");
	gr_free(t);
	aggs_free(&a);
	buf_free(&key);
}

int
main(void)
{
	test_order_and_growth();
	test_equal();
	test_codec();
	return tap_done();
}
