/* rx: jq-style regular expressions on PCRE2 (UTF-8, Unicode classes, JIT), compiled once and matched with bounded work. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rx.h"

#define RX_JIT_STACK_MAX	(1024 * 1024)

struct rx {
	pcre2_code		*code;
	pcre2_match_data	*md;		/* this regex's own: never shared between regexes */
	pcre2_match_context	*mctx;		/* the limits */
	pcre2_jit_stack		*jstack;
	unsigned		 flags;		/* RX_GLOBAL, RX_NOEMPTY */
	uint32_t		 ngroups;
	char			**names;	/* names[i]: group i's name or NULL (1..ngroups) */
	bool			 jit;
};

/* parse_flags turns jq's flags into PCRE2 options; returns the bad letter, or 0. */
static int
parse_flags(const char *f, uint32_t *opt, unsigned *fl)
{
	*opt = PCRE2_UTF | PCRE2_UCP;
	*fl = 0;
	for (; f != NULL && *f != '\0'; f++) {
		switch (*f) {
		case 'g': *fl |= RX_GLOBAL; break;
		case 'n': *fl |= RX_NOEMPTY; break;
		case 'i': *opt |= PCRE2_CASELESS; break;
		case 'x': *opt |= PCRE2_EXTENDED; break;
		case 's': break;	/* ^ and $ at the ends only: already so */
		case 'p': *opt |= PCRE2_DOTALL; break;
		default: return (unsigned char)*f;
		}
	}
	return 0;
}

/* names reads the name table into an array indexed by group number. */
static void
read_names(struct rx *r)
{
	uint32_t n = 0, size = 0, i;
	PCRE2_SPTR tab;

	r->names = xcalloc(r->ngroups + 1, sizeof *r->names);
	pcre2_pattern_info(r->code, PCRE2_INFO_NAMECOUNT, &n);
	if (n == 0)
		return;
	pcre2_pattern_info(r->code, PCRE2_INFO_NAMEENTRYSIZE, &size);
	pcre2_pattern_info(r->code, PCRE2_INFO_NAMETABLE, &tab);
	for (i = 0; i < n; i++) {
		const unsigned char *e = tab + (size_t)i * size;
		uint32_t g = ((uint32_t)e[0] << 8) | e[1];

		if (g <= r->ngroups && r->names[g] == NULL)
			r->names[g] = xstrdup((const char *)e + 2);
	}
}

struct rx *
rx_compile(const char *pat, size_t len, const char *flags, char *why, size_t whysz, size_t *where)
{
	struct rx *r;
	uint32_t opt;
	unsigned fl;
	int bad, ec;
	PCRE2_SIZE off;
	PCRE2_UCHAR msg[120];
	pcre2_code *code;

	if ((bad = parse_flags(flags, &opt, &fl)) != 0) {
		if (bad == 'l')
			snprintf(why, whysz, "the flag 'l' (longest match) is not supported");
		else if (bad >= 0x20 && bad < 0x7f)
			snprintf(why, whysz, "unknown flag '%c' (g i x n s p)", bad);
		else
			snprintf(why, whysz, "unknown flag (g i x n s p)");
		*where = SIZE_MAX;
		return NULL;
	}
	code = pcre2_compile((PCRE2_SPTR)(len ? pat : ""), len, opt, &ec, &off, NULL);
	if (code == NULL) {
		pcre2_get_error_message(ec, msg, sizeof msg);
		snprintf(why, whysz, "%s", (const char *)msg);
		*where = off;
		return NULL;
	}
	r = xcalloc(1, sizeof *r);
	r->code = code;
	r->flags = fl;
	pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &r->ngroups);
	read_names(r);
	r->md = pcre2_match_data_create_from_pattern(code, NULL);
	r->mctx = pcre2_match_context_create(NULL);
	if (r->md == NULL || r->mctx == NULL) {
		fputs("out of memory\n", stderr);
		abort();
	}
	pcre2_set_match_limit(r->mctx, RX_MATCH_LIMIT);
	pcre2_set_depth_limit(r->mctx, RX_DEPTH_LIMIT);
	/* JIT where the platform has it; the interpreter (same results) where not. */
	if (pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0) {
		r->jit = true;
		r->jstack = pcre2_jit_stack_create(32 * 1024, RX_JIT_STACK_MAX, NULL);
		if (r->jstack != NULL)
			pcre2_jit_stack_assign(r->mctx, NULL, r->jstack);
	}
	return r;
}

void
rx_free(struct rx *r)
{
	uint32_t i;

	if (r == NULL)
		return;
	for (i = 0; i <= r->ngroups; i++)
		free(r->names[i]);
	free(r->names);
	pcre2_match_data_free(r->md);
	pcre2_match_context_free(r->mctx);
	pcre2_jit_stack_free(r->jstack);
	pcre2_code_free(r->code);
	free(r);
}

unsigned
rx_flags(const struct rx *r)
{
	return r->flags;
}

int
rx_exec(struct rx *r, const char *s, size_t len, size_t start, bool notempty_at, char *why,
    size_t whysz)
{
	uint32_t opt = PCRE2_NO_UTF_CHECK;
	int rc;

	if (notempty_at)
		opt |= PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED;
	rc = pcre2_match(r->code, (PCRE2_SPTR)(len ? s : ""), len, start, opt, r->md, r->mctx);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL)
		return 0;
	switch (rc) {
	case PCRE2_ERROR_MATCHLIMIT:
	case PCRE2_ERROR_DEPTHLIMIT:
	case PCRE2_ERROR_HEAPLIMIT:
	case PCRE2_ERROR_JIT_STACKLIMIT:
		snprintf(why, whysz, "regular expression too costly on this value "
		    "(stopped after %d steps)", RX_MATCH_LIMIT);
		break;
	default: {
		PCRE2_UCHAR msg[120];

		pcre2_get_error_message(rc, msg, sizeof msg);
		snprintf(why, whysz, "regular expression: %s", (const char *)msg);
		break;
	}
	}
	return -1;
}

uint32_t
rx_ngroups(const struct rx *r)
{
	return r->ngroups;
}

bool
rx_group(const struct rx *r, uint32_t i, size_t *so, size_t *eo)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
	uint32_t n = pcre2_get_ovector_count(r->md);

	if (i >= n || ov[2 * i] == PCRE2_UNSET)
		return false;
	*so = ov[2 * i];
	*eo = ov[2 * i + 1];
	return true;
}

const char *
rx_group_name(const struct rx *r, uint32_t i)
{
	return i >= 1 && i <= r->ngroups ? r->names[i] : NULL;
}
