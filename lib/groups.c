/* groups: a group table as an instance — groups by key, one aggregate block each, creation order, and the @agg_state codec. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "groups.h"
#include "hashmap.h"
#include "record.h"
#include "timeval.h"


/* A group's value in the hash map: its header, the aggregate block at GR_HDR, then the payload. */
struct groups {
	const struct aggs	*aggs;
	char			**names;
	size_t			 ncols;
	char			*by;		/* the group-by for messages */
	struct gr_opts		 opts;		/* as given (by: the copy above), for a table like this one */
	bool			 windowed;	/* columns 0 and 1 are a window's bounds */
	size_t			 poff;		/* the payload's offset in a group */
	struct hm		*map;		/* first spelling -> group */
	struct hm		*alias;		/* canonical key -> group, for groups first spelled otherwise */
	uint64_t		 seq;
	struct gr_group		**order;	/* creation order; NULL where deleted */
	size_t			 norder, caporder, ndeleted;
	struct buf		 specs;		/* the specs array as --partial writes it */
	struct rec		*line, *grp;	/* gr_load's parsers */
	struct buf		 key;		/* gr_load's key */
	struct buf		 ckey;		/* gr_get's canonical key */
	struct agg_canon	 canon;		/* its scratch */
	void			*scratch;	/* gr_load's block */
	struct agg_text		 text;		/* gr_load's states text, packed strings taken out */
};

struct groups *
gr_new(const struct aggs *aggs, const char *const *names, size_t ncols)
{
	return gr_new_opts(aggs, names, ncols, NULL);
}

struct groups *
gr_new_opts(const struct aggs *aggs, const char *const *names, size_t ncols,
    const struct gr_opts *o)
{
	struct groups *t = xcalloc(1, sizeof(*t));
	struct buf by = BUF_INIT;
	size_t i;

	t->aggs = aggs;
	t->ncols = ncols;
	t->names = xcalloc(ncols ? ncols : 1, sizeof(*t->names));
	for (i = 0; i < ncols; i++)
		t->names[i] = xstrdup(names[i]);
	t->windowed = o != NULL && o->windowed && ncols >= 2;
	if (o != NULL && o->by != NULL)
		buf_adds(&by, o->by);
	else
		for (i = t->windowed ? 2 : 0; i < ncols; i++) {
			if (by.len)
				buf_addc(&by, ',');
			buf_adds(&by, names[i]);
		}
	t->by = xstrdup(buf_cstr(&by));
	buf_free(&by);
	if (o != NULL)
		t->opts = *o;
	t->opts.by = t->by;
	t->poff = GR_HDR + ((aggs->size + 15) & ~(size_t)15);
	t->map = hm_new(t->poff + (o != NULL ? o->payload : 0));
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
	if (t->alias != NULL)
		hm_free(t->alias);
	for (i = 0; i < t->ncols; i++)
		free(t->names[i]);
	free(t->names);
	free(t->by);
	free(t->order);
	buf_free(&t->specs);
	buf_free(&t->key);
	buf_free(&t->ckey);
	agg_canon_free(&t->canon);
	rec_free(t->line);
	rec_free(t->grp);
	free(t->scratch);
	agg_text_free(&t->text);
	free(t);
}

/* key_fast reports whether every value of a key is its own canonical key. */
static bool
key_fast(const char *k, size_t len)
{
	const char *end = k + len, *q;

	for (; k < end; k = q + 1) {
		q = memchr(k, '\0', (size_t)(end - k));
		if (q == NULL)
			q = end;
		if (q > k && !agg_canon_text_fast(k, (size_t)(q - k)))
			return false;
	}
	return true;
}

/* canon_key writes the canonical key of a key into t->ckey. */
static void
canon_key(struct groups *t, const char *k, size_t len)
{
	const char *end = k + len, *q;

	buf_reset(&t->ckey);
	for (; k < end; k = q + 1) {
		q = memchr(k, '\0', (size_t)(end - k));
		if (q == NULL)
			q = end;
		if (q > k)
			agg_canon_text(&t->canon, k, (size_t)(q - k), &t->ckey);
		buf_addc(&t->ckey, '\0');
	}
}

/*
 * find looks a key up: as spelled (a group's first spelling), else by its
 * canonical key, directly or through an alias.  *canon says whether the
 * key is its own canonical key; t->ckey holds the canonical key when not.
 */
static struct gr_group *
find(struct groups *t, const void *key, size_t len, bool *canon)
{
	struct gr_group *g, **a;

	*canon = true;
	if ((g = hm_get(t->map, key, len)) != NULL)
		return g;
	if (!key_fast(key, len)) {
		canon_key(t, key, len);
		*canon = t->ckey.len == len && memcmp(t->ckey.p, key, len) == 0;
	}
	if (!*canon && (g = hm_get(t->map, t->ckey.p, t->ckey.len)) != NULL)
		return g;
	if (t->alias == NULL || hm_count(t->alias) == 0)
		return NULL;
	if (*canon)
		a = hm_get(t->alias, key, len);
	else
		a = hm_get(t->alias, t->ckey.p, t->ckey.len);
	return a ? *a : NULL;
}

struct gr_group *
gr_get(struct groups *t, const void *key, size_t len, bool *created)
{
	struct gr_group *g;
	bool made, canon;

	if ((g = find(t, key, len, &canon)) != NULL) {
		if (created != NULL)
			*created = false;
		return g;
	}
	g = hm_put(t->map, key, len, &made);
	if (!canon) {
		if (t->alias == NULL)
			t->alias = hm_new(sizeof(struct gr_group *));
		*(struct gr_group **)hm_put(t->alias, t->ckey.p, t->ckey.len, NULL) = g;
		g->aliased = true;
	}
	if (made) {
		g->seq = t->seq++;
		g->wend = INT64_MAX;
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
gr_find(struct groups *t, const void *key, size_t len)
{
	bool canon;

	return find(t, key, len, &canon);
}

const void *
gr_canon_key(struct groups *t, const struct gr_group *g, size_t *len)
{
	const char *k = hm_key(g, len);

	if (!g->aliased)
		return k;
	canon_key(t, k, *len);
	*len = t->ckey.len;
	return t->ckey.p;
}

/* compact drops the deleted slots of the creation order. */
static void
compact(struct groups *t)
{
	size_t i, j;

	for (i = j = 0; i < t->norder; i++)
		if (t->order[i] != NULL) {
			t->order[i]->slot = j;
			t->order[j++] = t->order[i];
		}
	t->norder = j;
	t->ndeleted = 0;
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
	if (g->aliased) {
		canon_key(t, k, klen);
		hm_del(t->alias, t->ckey.p, t->ckey.len);
	}
	hm_del(t->map, k, klen);
	if (t->ndeleted >= 64 && t->ndeleted > t->norder / 2)
		compact(t);
}

size_t
gr_count(const struct groups *t)
{
	return hm_count(t->map);
}

void *
gr_payload(const struct groups *t, const struct gr_group *g)
{
	return (char *)(uintptr_t)g + t->poff;
}

size_t
gr_payload_off(const struct groups *t)
{
	return t->poff;
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
	if (t->ndeleted)
		compact(t);
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

/* load_names writes a state record's group column names (not a window's) into why's message. */
static void
load_names(struct groups *t, char *why, size_t whysz)
{
	struct buf names = BUF_INIT;
	struct rec_val v;
	const char *k;
	size_t j, kl, nf = rec_nfields(t->grp);

	for (j = 0; j < nf; j++) {
		rec_field(t->grp, j, &k, &kl, &v);
		if (t->windowed && ((kl == 12 && memcmp(k, "window_start", 12) == 0) ||
		    (kl == 10 && memcmp(k, "window_end", 10) == 0)))
			continue;
		if (names.len)
			buf_addc(&names, ',');
		buf_add(&names, k, kl);
	}
	buf_cstr(&names);
	snprintf(why, whysz, "state record groups by '%s', this run by '%s'",
	    names.len ? names.p : "", t->by);
	buf_free(&names);
}

/*
 * load_key builds the key of a state record's group object into t->key
 * and its window's end into *wend.  Every column must be there (a
 * windowed table's window bounds both or neither), and nothing else.
 * Returns 0, GR_OTHER for other group columns, GR_DAMAGED for a window
 * end that is not a time.
 */
static int
load_key(struct groups *t, const struct rec_val *gv, int64_t *wend, char *why, size_t whysz)
{
	static const struct tv_format iso = { TV_ISO, NULL };
	struct rec_val v, ws, we;
	size_t i, want;
	bool win = false;

	if (t->grp == NULL)
		t->grp = rec_new();
	if (rec_parse(t->grp, gv->raw, gv->rawlen, NULL) != 0)
		return snprintf(why, whysz, "malformed aggregate state record"), GR_DAMAGED;
	gr_key_reset(&t->key);
	i = 0;
	*wend = INT64_MAX;
	if (t->windowed) {
		win = rec_get_key(t->grp, t->names[0], strlen(t->names[0]), &ws) != RT_MISSING &&
		    rec_get_key(t->grp, t->names[1], strlen(t->names[1]), &we) != RT_MISSING;
		gr_key_add(&t->key, win ? ws.raw : "", win ? ws.rawlen : 0);
		gr_key_add(&t->key, win ? we.raw : "", win ? we.rawlen : 0);
		i = 2;
	}
	want = t->ncols - i + (win ? 2 : 0);
	for (; i < t->ncols; i++) {
		if (rec_get_key(t->grp, t->names[i], strlen(t->names[i]), &v) == RT_MISSING)
			break;
		gr_key_add(&t->key, v.raw, v.rawlen);
	}
	if (i < t->ncols || rec_nfields(t->grp) != want) {
		load_names(t, why, whysz);
		return GR_OTHER;
	}
	if (win && (we.type != RT_STRING || tv_parse(&iso, we.s, we.slen, wend, NULL) != 0))
		return snprintf(why, whysz, "malformed aggregate state record"), GR_DAMAGED;
	return 0;
}

/* load_specs checks a state record's specs against the table's: byte for byte, or else as JSON strings. */
static int
load_specs(struct groups *t, const struct rec_val *sv, char *why, size_t whysz)
{
	struct buf names = BUF_INIT;
	json_t *a;
	size_t i, n;
	bool same;

	if (sv->rawlen == t->specs.len && memcmp(sv->raw, t->specs.p, sv->rawlen) == 0)
		return 0;
	a = json_loadb(sv->raw, sv->rawlen, 0, NULL);
	n = json_array_size(a);
	same = n == t->aggs->nspecs;
	for (i = 0; i < n; i++) {
		json_t *x = json_array_get(a, i);
		if (!json_is_string(x) || (same && strcmp(json_string_value(x), t->aggs->specs[i].text) != 0))
			same = false;
		if (i)
			buf_addc(&names, ' ');
		if (json_is_string(x))
			buf_adds(&names, json_string_value(x));
	}
	json_decref(a);
	if (same) {
		buf_free(&names);
		return 0;
	}
	snprintf(why, whysz, "state record has aggregates '%s', this run '", buf_cstr(&names));
	for (i = 0; i < t->aggs->nspecs; i++)
		snprintf(why + strlen(why), whysz - strlen(why), "%s%s", i ? " " : "",
		    t->aggs->specs[i].text);
	snprintf(why + strlen(why), whysz - strlen(why), "'");
	buf_free(&names);
	return GR_OTHER;
}

/* load_check checks the version, the members and --approx of a parsed state record. */
static int
load_check(struct groups *t, struct rec *r, struct rec_val *gv, struct rec_val *sv,
    struct rec_val *stv, struct rec_val *iv, char *why, size_t whysz)
{
	struct rec_val ver, av;
	bool approx;

	if (rec_get_key(r, "@agg_state", 10, &ver) == RT_MISSING)
		return snprintf(why, whysz, "not an aggregate state record"), GR_DAMAGED;
	if (ver.type != RT_INT || ver.i != 1)
		return snprintf(why, whysz, "unsupported aggregate state version %.*s",
		    ver.rawlen > 40 ? 40 : (int)ver.rawlen, ver.raw), GR_DAMAGED;
	if (rec_get_key(r, "group", 5, gv) != RT_OBJECT ||
	    rec_get_key(r, "specs", 5, sv) != RT_ARRAY ||
	    rec_get_key(r, "states", 6, stv) != RT_ARRAY ||
	    rec_get_key(r, "invalid", 7, iv) != RT_ARRAY)
		return snprintf(why, whysz, "malformed aggregate state record"), GR_DAMAGED;
	approx = rec_get_key(r, "approx", 6, &av) == RT_BOOL && av.b;
	if (approx != t->aggs->approx)
		return snprintf(why, whysz, "state record was made %s --approx, this run is %s it",
		    approx ? "with" : "without", t->aggs->approx ? "with" : "without"), GR_OTHER;
	return 0;
}

int
gr_load(struct groups *t, const char *line, size_t len, struct gr_group **gp,
    char *why, size_t whysz)
{
	if (t->line == NULL)
		t->line = rec_new();
	if (rec_parse(t->line, line, len, NULL) != 0) {
		snprintf(why, whysz, "malformed aggregate state record");
		return GR_DAMAGED;
	}
	return gr_load_rec(t, t->line, gp, NULL, why, whysz);
}

int
gr_load_rec(struct groups *t, struct rec *r, struct gr_group **gp, bool *created,
    char *why, size_t whysz)
{
	struct rec_val gv, sv, stv, iv;
	json_t *states = NULL, *inv = NULL;
	struct gr_group *g;
	int64_t wend;
	int rc;

	if ((rc = load_check(t, r, &gv, &sv, &stv, &iv, why, whysz)) != 0 ||
	    (rc = load_key(t, &gv, &wend, why, whysz)) != 0 ||
	    (rc = load_specs(t, &sv, why, whysz)) != 0)
		return rc;
	states = agg_states_parse(&t->text, stv.raw, stv.rawlen);
	inv = json_loadb(iv.raw, iv.rawlen, 0, NULL);
	if (t->scratch == NULL)
		t->scratch = xmalloc(t->aggs->size ? t->aggs->size : 1);
	aggs_state_init(t->aggs, t->scratch);
	rc = GR_DAMAGED;
	if (states != NULL && inv != NULL && aggs_load(t->aggs, t->scratch, states, inv) == 0) {
		g = gr_get(t, t->key.p, t->key.len, created);
		g->wend = wend;
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

/* ---- past memory: sorted runs ---- */

#define RUNS_MAX	64	/* runs kept open before they are merged into one */

struct gr_runs {
	FILE		**f;
	size_t		  n, cap;
	uint64_t	  total;
};

/* A run's record: creation number, canonical key (empty in creation-ordered runs), @agg_state line. */
struct cursor {
	FILE		*f;
	size_t		 idx;		/* the run's place: earlier runs first among equal keys */
	uint64_t	 seq;
	struct buf	 key, line;
};

struct gr_runs *
gr_runs_new(void)
{
	return xcalloc(1, sizeof(struct gr_runs));
}

void
gr_runs_free(struct gr_runs *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		fclose(r->f[i]);
	free(r->f);
	free(r);
}

uint64_t
gr_runs_count(const struct gr_runs *r)
{
	return r->total;
}

/*
 * run_open makes a temporary file in $TMPDIR without a name (O_TMPFILE),
 * or, where the file system cannot, names it and unlinks it at once.
 */
static FILE *
run_open(char *why, size_t whysz)
{
	const char *d = getenv("TMPDIR");
	struct buf path = BUF_INIT;
	FILE *f = NULL;
	int fd = -1;

	buf_adds(&path, d != NULL && *d ? d : "/tmp");
#ifdef O_TMPFILE
	fd = open(buf_cstr(&path), O_TMPFILE | O_RDWR, 0600);
	if (fd >= 0) {
		if ((f = fdopen(fd, "w+b")) == NULL) {
			snprintf(why, whysz, "cannot make a spill file: %s", strerror(errno));
			close(fd);
		}
		buf_free(&path);
		return f;
	}
#endif
	buf_adds(&path, "/ndflow-spill.XXXXXX");
	if ((fd = mkstemp(buf_cstr(&path))) < 0)
		snprintf(why, whysz, "cannot make a spill file in %s: %s", d != NULL && *d ? d : "/tmp",
		    strerror(errno));
	else {
		unlink(path.p);
		if ((f = fdopen(fd, "w+b")) == NULL) {
			snprintf(why, whysz, "cannot make a spill file: %s", strerror(errno));
			close(fd);
		}
	}
	buf_free(&path);
	return f;
}

static void
run_put(FILE *f, uint64_t seq, const void *key, size_t klen, const void *line, size_t llen)
{
	uint32_t kl = (uint32_t)klen, ll = (uint32_t)llen;

	fwrite(&seq, sizeof(seq), 1, f);
	fwrite(&kl, sizeof(kl), 1, f);
	fwrite(&ll, sizeof(ll), 1, f);
	fwrite(key, 1, klen, f);
	fwrite(line, 1, llen, f);
}

/* cur_next reads a cursor's next record: 1, 0 at the end, -1 when the run is damaged or unreadable. */
static int
cur_next(struct cursor *c)
{
	uint32_t kl, ll;

	if (fread(&c->seq, sizeof(c->seq), 1, c->f) != 1)
		return ferror(c->f) ? -1 : 0;
	if (fread(&kl, sizeof(kl), 1, c->f) != 1 || fread(&ll, sizeof(ll), 1, c->f) != 1)
		return -1;
	buf_reset(&c->key);
	buf_reset(&c->line);
	buf_reserve(&c->key, kl);
	buf_reserve(&c->line, ll);
	if (fread(c->key.p, 1, kl, c->f) != kl || fread(c->line.p, 1, ll, c->f) != ll)
		return -1;
	c->key.len = kl;
	c->line.len = ll;
	return 1;
}

/* cur_before orders cursors by key, then run; by_seq: by creation number. */
static bool
cur_before(const struct cursor *a, const struct cursor *b, bool by_seq)
{
	size_t n = a->key.len < b->key.len ? a->key.len : b->key.len;
	int c;

	if (by_seq)
		return a->seq < b->seq;
	if ((c = memcmp(a->key.p, b->key.p, n)) != 0)
		return c < 0;
	if (a->key.len != b->key.len)
		return a->key.len < b->key.len;
	return a->idx < b->idx;
}

/* heap_down restores a heap of n cursors from place i down. */
static void
heap_down(struct cursor **h, size_t n, size_t i, bool by_seq)
{
	struct cursor *x = h[i];
	size_t c;

	while ((c = 2 * i + 1) < n) {
		if (c + 1 < n && cur_before(h[c + 1], h[c], by_seq))
			c++;
		if (!cur_before(h[c], x, by_seq))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

/* A merge: the runs' cursors as a heap. */
struct merge {
	struct cursor	*c;
	struct cursor	**h;
	size_t		 n;
	bool		 by_seq;
};

/* merge_open rewinds n runs and reads their first records into a heap. */
static int
merge_open(struct merge *m, FILE **f, size_t n, bool by_seq, char *why, size_t whysz)
{
	size_t i;
	int rc;

	m->c = xcalloc(n ? n : 1, sizeof(*m->c));
	m->h = xcalloc(n ? n : 1, sizeof(*m->h));
	m->n = 0;
	m->by_seq = by_seq;
	for (i = 0; i < n; i++) {
		m->c[i].f = f[i];
		m->c[i].idx = i;
		if (fflush(f[i]) != 0 || ferror(f[i]) || fseek(f[i], 0, SEEK_SET) != 0)
			return snprintf(why, whysz, "writing a spill file: %s", strerror(errno)), -1;
		if ((rc = cur_next(&m->c[i])) < 0)
			return snprintf(why, whysz, "reading a spill file: damaged or unreadable"), -1;
		if (rc > 0)
			m->h[m->n++] = &m->c[i];
	}
	for (i = m->n / 2; i-- > 0;)
		heap_down(m->h, m->n, i, by_seq);
	return 0;
}

/* merge_step moves the heap's least cursor on: -1 on a damaged run. */
static int
merge_step(struct merge *m)
{
	int rc = cur_next(m->h[0]);

	if (rc < 0)
		return -1;
	if (rc == 0)
		m->h[0] = m->h[--m->n];
	if (m->n > 0)
		heap_down(m->h, m->n, 0, m->by_seq);
	return 0;
}

static void
merge_close(struct merge *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		buf_free(&m->c[i].key);
		buf_free(&m->c[i].line);
	}
	free(m->c);
	free(m->h);
}

/* A key's group once its parts are merged goes to a sink: another run, or the ordering by creation. */
struct sink {
	FILE		*run;		/* merged runs: the run written */
	size_t		 mem;		/* ordering: the bytes held before a run is written */
	struct buf	 text;		/* ordering: the lines held */
	struct {
		uint64_t	seq;
		size_t		off, len;
	}		*e;
	size_t		 ne, cape;
	FILE		**runs;		/* ordering: runs written */
	size_t		 nruns;
	struct buf	 line;
};

static int
cmp_seq(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* sink_flush writes the lines held by the ordering sink as one run in creation order. */
static int
sink_flush(struct sink *k, char *why, size_t whysz)
{
	FILE *f;
	size_t i;

	qsort(k->e, k->ne, sizeof(*k->e), cmp_seq);
	if ((f = run_open(why, whysz)) == NULL)
		return -1;
	for (i = 0; i < k->ne; i++)
		run_put(f, k->e[i].seq, "", 0, k->text.p + k->e[i].off, k->e[i].len);
	k->runs = xrealloc(k->runs, (k->nruns + 1) * sizeof(*k->runs));
	k->runs[k->nruns++] = f;
	k->ne = 0;
	buf_reset(&k->text);
	return 0;
}

/* sink_put gives a merged group (key, first creation number) to the sink. */
static int
sink_put(struct sink *k, struct groups *t, struct gr_group *g, uint64_t seq, const struct buf *key,
    char *why, size_t whysz)
{
	buf_reset(&k->line);
	gr_save(t, g, &k->line);
	if (k->run != NULL) {
		run_put(k->run, seq, key->p, key->len, k->line.p, k->line.len);
		return 0;
	}
	if (k->ne == k->cape) {
		k->cape = k->cape ? 2 * k->cape : 1024;
		k->e = xrealloc(k->e, k->cape * sizeof(*k->e));
	}
	k->e[k->ne].seq = seq;
	k->e[k->ne].off = k->text.len;
	k->e[k->ne++].len = k->line.len;
	buf_add(&k->text, k->line.p, k->line.len);
	if (k->text.len + k->ne * sizeof(*k->e) > k->mem)
		return sink_flush(k, why, whysz);
	return 0;
}

/* merge_keys merges runs by key: each key's parts loaded into t (empty), then given to the sink. */
static int
merge_keys(FILE **f, size_t n, struct groups *t, struct sink *k, char *why, size_t whysz)
{
	struct merge m;
	struct buf key = BUF_INIT;
	struct gr_group *g = NULL;
	uint64_t seq;
	int rc = merge_open(&m, f, n, false, why, whysz);

	while (rc == 0 && m.n > 0) {
		buf_reset(&key);
		buf_add(&key, m.h[0]->key.p, m.h[0]->key.len);
		seq = m.h[0]->seq;
		do {
			if (gr_load(t, m.h[0]->line.p, m.h[0]->line.len, &g, why, whysz) != 0 ||
			    merge_step(&m) != 0) {
				snprintf(why, whysz, "reading a spill file: damaged or unreadable");
				rc = -1;
				break;
			}
		} while (m.n > 0 && m.h[0]->key.len == key.len && memcmp(m.h[0]->key.p, key.p, key.len) == 0);
		if (rc == 0) {
			rc = sink_put(k, t, g, seq, &key, why, whysz);
			gr_del(t, g);
		}
	}
	merge_close(&m, n);
	buf_free(&key);
	return rc;
}

/* runs_compact merges all runs into one. */
static int
runs_compact(struct gr_runs *r, struct groups *like, char *why, size_t whysz)
{
	struct sink k = { 0 };
	struct groups *t;
	size_t i;
	int rc;

	if ((k.run = run_open(why, whysz)) == NULL)
		return -1;
	t = gr_new_opts(like->aggs, (const char *const *)like->names, like->ncols, &like->opts);
	rc = merge_keys(r->f, r->n, t, &k, why, whysz);
	gr_free(t);
	buf_free(&k.line);
	for (i = 0; i < r->n; i++)
		fclose(r->f[i]);
	r->f[0] = k.run;
	r->n = 1;
	r->total++;
	return rc;
}

/* A group and its canonical key, for the order of a run. */
struct spilled {
	const char		*k;
	size_t			 len;
	struct gr_group		*g;
};

static int
cmp_spilled(const void *a, const void *b)
{
	const struct spilled *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->k, y->k, n);

	if (c != 0)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

int
gr_spill(struct groups *t, struct gr_runs *r, bool (*pick)(const struct gr_group *, void *), void *arg,
    char *why, size_t whysz)
{
	struct gr_group **l;
	struct spilled *s;
	struct buf ckeys = BUF_INIT, line = BUF_INIT;
	const void *k;
	size_t n, i, ns = 0;
	FILE *f;

	l = gr_list(t, &n);
	s = xmalloc((n ? n : 1) * sizeof(*s));
	for (i = 0; i < n; i++) {
		if (!pick(l[i], arg))
			continue;
		s[ns].g = l[i];
		k = gr_canon_key(t, l[i], &s[ns].len);
		/* An aliased group's key is made in the table's buffer: keep its offset for now. */
		s[ns].k = l[i]->aliased ? NULL : k;
		if (l[i]->aliased) {
			s[ns].k = (const char *)(uintptr_t)ckeys.len;
			buf_add(&ckeys, k, s[ns].len);
		}
		ns++;
	}
	for (i = 0; i < ns; i++)
		if (s[i].g->aliased)
			s[i].k = ckeys.p + (uintptr_t)s[i].k;
	qsort(s, ns, sizeof(*s), cmp_spilled);
	if ((f = run_open(why, whysz)) == NULL) {
		free(s);
		buf_free(&ckeys);
		return -1;
	}
	for (i = 0; i < ns; i++) {
		buf_reset(&line);
		gr_save(t, s[i].g, &line);
		run_put(f, s[i].g->seq, s[i].k, s[i].len, line.p, line.len);
	}
	for (i = 0; i < ns; i++)
		gr_del(t, s[i].g);
	free(s);
	buf_free(&ckeys);
	buf_free(&line);
	if (ferror(f) || fflush(f) != 0) {
		snprintf(why, whysz, "writing a spill file: %s", strerror(errno));
		fclose(f);
		return -1;
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->f = xrealloc(r->f, r->cap * sizeof(*r->f));
	}
	r->f[r->n++] = f;
	r->total++;
	return r->n >= RUNS_MAX ? runs_compact(r, t, why, whysz) : 0;
}

/* emit_one loads one merged line into t and gives it to emit, then deletes it. */
static int
emit_one(struct groups *t, const char *line, size_t len,
    void (*emit)(struct groups *, struct gr_group *, const char *, size_t, void *), void *arg,
    char *why, size_t whysz)
{
	struct gr_group *g;

	if (gr_load(t, line, len, &g, why, whysz) != 0)
		return -1;
	emit(t, g, line, len, arg);
	gr_del(t, g);
	return 0;
}

int
gr_runs_merge(struct gr_runs *r, struct groups *t, size_t mem,
    void (*emit)(struct groups *, struct gr_group *, const char *, size_t, void *), void *arg,
    char *why, size_t whysz)
{
	struct sink k = { .mem = mem / 2 };
	struct merge m;
	size_t i;
	int rc;

	rc = merge_keys(r->f, r->n, t, &k, why, whysz);
	if (rc == 0 && k.nruns == 0) {
		qsort(k.e, k.ne, sizeof(*k.e), cmp_seq);
		for (i = 0; rc == 0 && i < k.ne; i++)
			rc = emit_one(t, k.text.p + k.e[i].off, k.e[i].len, emit, arg, why, whysz);
	} else if (rc == 0 && (k.ne == 0 || (rc = sink_flush(&k, why, whysz)) == 0)) {
		rc = merge_open(&m, k.runs, k.nruns, true, why, whysz);
		while (rc == 0 && m.n > 0) {
			rc = emit_one(t, m.h[0]->line.p, m.h[0]->line.len, emit, arg, why, whysz);
			if (rc == 0 && merge_step(&m) != 0) {
				snprintf(why, whysz, "reading a spill file: damaged or unreadable");
				rc = -1;
			}
		}
		merge_close(&m, k.nruns);
	}
	for (i = 0; i < k.nruns; i++)
		fclose(k.runs[i]);
	free(k.runs);
	free(k.e);
	buf_free(&k.text);
	buf_free(&k.line);
	return rc;
}
