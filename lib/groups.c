/* groups: a group table as an instance — groups by key, one aggregate block each, creation order, and the @agg_state codec. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "groups.h"
#include "hashmap.h"
#include "record.h"

/* A group's value in the hash map: its header, then the aggregate block at GR_HDR. */
#define GR_HDR		((sizeof(struct gr_group) + 15) & ~(size_t)15)

struct groups {
	const struct aggs	*aggs;
	char			**names;
	size_t			 ncols;
	struct hm		*map;
	uint64_t		 seq;
	struct gr_group		**order;	/* creation order; NULL where deleted */
	size_t			 norder, caporder, ndeleted;
	struct buf		 specs;		/* the specs array as --partial writes it */
	struct rec		*line, *grp;	/* gr_load's parsers */
	struct buf		 key;		/* gr_load's key */
	void			*scratch;	/* gr_load's block */
	struct agg_text		 text;		/* gr_load's states text, packed strings taken out */
};

struct groups *
gr_new(const struct aggs *aggs, const char *const *names, size_t ncols)
{
	struct groups *t = xcalloc(1, sizeof(*t));
	size_t i;

	t->aggs = aggs;
	t->ncols = ncols;
	t->names = xcalloc(ncols ? ncols : 1, sizeof(*t->names));
	for (i = 0; i < ncols; i++)
		t->names[i] = xstrdup(names[i]);
	t->map = hm_new(GR_HDR + aggs->size);
	buf_addc(&t->specs, '[');
	for (i = 0; i < aggs->nspecs; i++) {
		if (i)
			buf_addc(&t->specs, ',');
		jw_cstr(&t->specs, aggs->specs[i].text);
	}
	buf_addc(&t->specs, ']');
	return t;
}

void
gr_free(struct groups *t)
{
	hm_iter it;
	void *v;
	size_t i;

	if (t == NULL)
		return;
	for (v = hm_first(t->map, &it); v; v = hm_next(t->map, &it))
		aggs_state_free(t->aggs, (char *)v + GR_HDR);
	hm_free(t->map);
	for (i = 0; i < t->ncols; i++)
		free(t->names[i]);
	free(t->names);
	free(t->order);
	buf_free(&t->specs);
	buf_free(&t->key);
	rec_free(t->line);
	rec_free(t->grp);
	free(t->scratch);
	agg_text_free(&t->text);
	free(t);
}

void
gr_key_reset(struct buf *key)
{
	buf_reset(key);
}

void
gr_key_add(struct buf *key, const char *json, size_t len)
{
	buf_add(key, json, len);
	buf_addc(key, '\0');
}

struct gr_group *
gr_get(struct groups *t, const void *key, size_t len, bool *created)
{
	struct gr_group *g;
	bool made;

	g = hm_put(t->map, key, len, &made);
	if (made) {
		g->seq = t->seq++;
		g->wend = INT64_MAX;
		g->closed = false;
		aggs_state_init(t->aggs, (char *)g + GR_HDR);
		if (t->norder == t->caporder) {
			t->caporder = t->caporder ? 2 * t->caporder : 64;
			t->order = xrealloc(t->order, t->caporder * sizeof(*t->order));
		}
		g->slot = t->norder;
		t->order[t->norder++] = g;
	}
	if (created != NULL)
		*created = made;
	return g;
}

struct gr_group *
gr_find(const struct groups *t, const void *key, size_t len)
{
	return hm_get(t->map, key, len);
}

void
gr_del(struct groups *t, struct gr_group *g)
{
	const void *k;
	size_t klen;

	t->order[g->slot] = NULL;
	t->ndeleted++;
	aggs_state_free(t->aggs, (char *)g + GR_HDR);
	k = hm_key(g, &klen);
	hm_del(t->map, k, klen);
}

size_t
gr_count(const struct groups *t)
{
	return hm_count(t->map);
}

void *
gr_block(struct gr_group *g)
{
	return (char *)g + GR_HDR;
}

size_t
gr_value(const struct gr_group *g, size_t i, const char **json)
{
	size_t klen, n;
	const char *k = hm_key(g, &klen), *end = k + klen;

	for (; i > 0 && k < end; i--)
		k += strlen(k) + 1;
	n = k < end ? strlen(k) : 0;
	*json = k;
	return n;
}

struct gr_group **
gr_list(struct groups *t, size_t *n)
{
	size_t i, j;

	if (t->ndeleted) {
		for (i = j = 0; i < t->norder; i++)
			if (t->order[i] != NULL) {
				t->order[i]->slot = j;
				t->order[j++] = t->order[i];
			}
		t->norder = j;
		t->ndeleted = 0;
	}
	*n = t->norder;
	return t->order;
}

int
gr_update(struct groups *t, struct gr_group *g, const struct rec_val *vals)
{
	return aggs_update(t->aggs, (char *)g + GR_HDR, vals);
}

void
gr_save(const struct groups *t, struct gr_group *g, struct buf *out)
{
	const char *v;
	size_t i, n;
	bool any = false;

	buf_adds(out, "{\"@agg_state\":1,\"group\":{");
	for (i = 0; i < t->ncols; i++) {
		if ((n = gr_value(g, i, &v)) == 0)
			continue;
		if (any)
			buf_addc(out, ',');
		any = true;
		jw_cstr(out, t->names[i]);
		buf_addc(out, ':');
		buf_add(out, v, n);
	}
	buf_adds(out, "},\"specs\":");
	buf_add(out, t->specs.p, t->specs.len);
	buf_addc(out, ',');
	if (t->aggs->approx)
		buf_adds(out, "\"approx\":true,");
	buf_adds(out, "\"states\":");
	aggs_save(t->aggs, (char *)g + GR_HDR, out);
	buf_adds(out, ",\"invalid\":");
	aggs_save_invalid(t->aggs, (char *)g + GR_HDR, out);
	buf_adds(out, "}\n");
}

/* load_key builds the key of a state record's group object into t->key; -1 when it names other columns. */
static int
load_key(struct groups *t, const struct rec_val *gv, char *why, size_t whysz)
{
	struct rec_val v;
	struct buf names = BUF_INIT;
	const char *k;
	size_t i, j, kl, nf, found = 0;

	if (t->grp == NULL)
		t->grp = rec_new();
	if (rec_parse(t->grp, gv->raw, gv->rawlen, NULL) != 0)
		return snprintf(why, whysz, "malformed aggregate state record"), -1;
	nf = rec_nfields(t->grp);
	gr_key_reset(&t->key);
	for (i = 0; i < t->ncols; i++) {
		if (rec_get_key(t->grp, t->names[i], strlen(t->names[i]), &v) == RT_MISSING) {
			gr_key_add(&t->key, "", 0);
			continue;
		}
		found++;
		gr_key_add(&t->key, v.raw, v.rawlen);
	}
	if (found == nf)
		return 0;
	for (j = 0; j < nf; j++) {
		rec_field(t->grp, j, &k, &kl, &v);
		if (j)
			buf_addc(&names, ',');
		buf_add(&names, k, kl);
	}
	buf_cstr(&names);
	snprintf(why, whysz, "state record groups by '%s', this table by '", names.len ? names.p : "");
	for (i = 0; i < t->ncols; i++)
		snprintf(why + strlen(why), whysz - strlen(why), "%s%s", i ? "," : "", t->names[i]);
	snprintf(why + strlen(why), whysz - strlen(why), "'");
	buf_free(&names);
	return -1;
}

/* load_check checks the version, the specs and --approx of a parsed state record. */
static int
load_check(struct groups *t, char *why, size_t whysz)
{
	struct rec_val ver, sv, av;
	bool approx;
	size_t i;

	if (rec_get_key(t->line, "@agg_state", 10, &ver) == RT_MISSING)
		return snprintf(why, whysz, "not an aggregate state record"), -1;
	if (ver.type != RT_INT || ver.i != 1)
		return snprintf(why, whysz, "unsupported aggregate state version %.*s",
		    (int)ver.rawlen, ver.raw), -1;
	if (rec_get_key(t->line, "specs", 5, &sv) != RT_ARRAY)
		return snprintf(why, whysz, "malformed aggregate state record"), -1;
	if (sv.rawlen != t->specs.len || memcmp(sv.raw, t->specs.p, sv.rawlen) != 0) {
		snprintf(why, whysz, "state record has aggregates '%.*s', this table '",
		    (int)sv.rawlen, sv.raw);
		for (i = 0; i < t->aggs->nspecs; i++)
			snprintf(why + strlen(why), whysz - strlen(why), "%s%s", i ? " " : "",
			    t->aggs->specs[i].text);
		snprintf(why + strlen(why), whysz - strlen(why), "'");
		return -1;
	}
	approx = rec_get_key(t->line, "approx", 6, &av) == RT_BOOL && av.b;
	if (approx != t->aggs->approx)
		return snprintf(why, whysz, "state record was made %s --approx, this table is %s it",
		    approx ? "with" : "without", t->aggs->approx ? "with" : "without"), -1;
	return 0;
}

int
gr_load(struct groups *t, const char *line, size_t len, struct gr_group **gp,
    char *why, size_t whysz)
{
	struct rec_val gv, stv, iv;
	json_t *states = NULL, *inv = NULL;
	int rc = -1;

	if (t->line == NULL)
		t->line = rec_new();
	if (rec_parse(t->line, line, len, NULL) != 0) {
		snprintf(why, whysz, "malformed aggregate state record");
		return -1;
	}
	if (load_check(t, why, whysz) != 0)
		return -1;
	if (rec_get_key(t->line, "group", 5, &gv) != RT_OBJECT ||
	    rec_get_key(t->line, "states", 6, &stv) != RT_ARRAY ||
	    rec_get_key(t->line, "invalid", 7, &iv) != RT_ARRAY) {
		snprintf(why, whysz, "malformed aggregate state record");
		return -1;
	}
	if (load_key(t, &gv, why, whysz) != 0)
		return -1;
	states = agg_states_parse(&t->text, stv.raw, stv.rawlen);
	inv = json_loadb(iv.raw, iv.rawlen, 0, NULL);
	if (t->scratch == NULL)
		t->scratch = xmalloc(t->aggs->size ? t->aggs->size : 1);
	aggs_state_init(t->aggs, t->scratch);
	if (states != NULL && inv != NULL && aggs_load(t->aggs, t->scratch, states, inv) == 0) {
		struct gr_group *g = gr_get(t, t->key.p, t->key.len, NULL);
		aggs_merge(t->aggs, (char *)g + GR_HDR, t->scratch);
		if (gp != NULL)
			*gp = g;
		rc = 0;
	} else
		snprintf(why, whysz, "malformed aggregate state record");
	agg_side_set(NULL, NULL, 0);
	aggs_state_free(t->aggs, t->scratch);
	json_decref(states);
	json_decref(inv);
	return rc;
}
