/* expr: the filter language (a subset of jq's expressions), compiled once into a tree and evaluated against a record. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "expr.h"
#include "record.h"
#include "rx.h"
#include "timeval.h"

/*
 * The tree.  Each node owns what it needs to evaluate without
 * allocating: a constant, a compiled path, a compiled regex, a literal
 * set, a scratch buffer for the strings it produces (lower, upper,
 * tostring) and, for a pipe, the slot holding its input value.
 * Values are struct rec_val views; RT_MISSING behaves as null except
 * in exists().
 *
 * A chain of one operator ("a or b or c", "a + b - c", "a | b | c") is
 * one node with a list of operands, evaluated in a loop, so its length
 * costs no stack.  Only nesting (parentheses, call arguments, prefix
 * "not" and "-") makes the tree deeper, and the parser refuses more than
 * EXPR_MAX_DEPTH levels of it: every child is built by a parser call
 * nested inside the one building its parent, so the evaluator and
 * node_free recurse no deeper than the parser did.
 */
#define EXPR_MAX_DEPTH	256

enum op {
	X_CONST, X_PATH, X_ROOT, X_INPUT, X_PIPE,
	X_OR, X_AND, X_NOT, X_ARITH,
	X_EQ, X_NE, X_LT, X_LE, X_GT, X_GE, X_MATCH, X_IN,
	X_ADD, X_SUB, X_MUL, X_DIV, X_MOD, X_NEG,
	X_EXISTS, X_LENGTH, X_LOWER, X_UPPER, X_STARTS, X_ENDS, X_CONTAINS,
	X_TONUMBER, X_TOSTRING,
	X_IF, X_ALT, X_VPATH, X_FLOOR, X_CEIL, X_ROUND, X_ABS, X_SQRT, X_TYPE,
	X_SPLIT, X_SPLITRE, X_RESUB, X_MATCHOBJ, X_CAPTURE, X_LTRIM, X_RTRIM,
	X_TODATE, X_FROMDATE, X_STRFTIME
};

struct node {
	enum op		 op;
	struct node	*a, *b;
	struct rec_val	 k;		/* X_CONST */
	char		*str;		/* X_CONST string bytes; X_PATH spec */
	struct rec_path	*path;		/* X_PATH */
	struct rx	*rx;		/* X_MATCH, X_RESUB, X_SPLITRE, X_MATCHOBJ, X_CAPTURE */
	bool		 strict;	/* test(): a value that is not a string is an error, as in jq (=~: false) */
	bool		 global;	/* X_RESUB: every match (gsub, or the flag g) */
	struct rec	*vr;		/* X_VPATH: the computed container, parsed */
	struct buf	 vbuf;		/* its text; X_RESUB: the captures object */
	struct node	**set;		/* X_IN: constants */
	size_t		 nset;
	struct node	*pipe;		/* X_INPUT: the pipe whose input this is */
	struct rec_val	 slot;		/* X_PIPE: the value of the stage before the one running */
	struct node	**kid;		/* X_OR, X_AND, X_ARITH, X_PIPE: the operands, in order */
	enum op		*kop;		/* X_ARITH: kop[i] combines the result so far with kid[i] (i > 0) */
	size_t		 nkid, capkid;
	struct buf	 scratch;	/* strings this node produces */
	struct buf	 scratch2;	/* X_ARITH: the other of two, so a result can be built from the last */
};

struct expr {
	char		*src;
	struct node	*root;
	struct buf	 ca, cb;	/* canonical forms for comparing arrays and objects */
	struct rec	*chk;		/* expr_eval: reads back a computed container */
	struct buf	 cbuf;
	int		 err;		/* the evaluation running failed: 1 as jq fails, 2 a regex limit */
	char		 why[200];	/* its reason */
};

/* ---------------------------------------------------------------- lexer */

enum tok {
	T_EOF, T_PATH, T_NUM, T_STR, T_IDENT,
	T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_MATCH,
	T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT,
	T_PIPE, T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_COMMA, T_SEMI, T_ALT
};

struct token {
	enum tok	 t;
	size_t		 off, len;	/* the token's bytes in the source */
	char		*val;		/* T_PATH: the spec for rec_path_compile ("" for "."); T_STR: the bytes */
	size_t		 vlen;
};

struct parser {
	const char	*src;
	struct token	*tk;
	size_t		 ntk, cap, pos;
	struct expr_err	*err;
	int		 failed;
	/* What "." means here: the record, a path, or the input slot of a pipe. */
	const char	*ctx_spec;	/* non-NULL: "." is this path ("" = the record) */
	struct node	*ctx_pipe;	/* non-NULL: "." is this pipe's input */
	size_t		 depth;		/* nesting levels open, at most EXPR_MAX_DEPTH */
};

/* column converts a byte offset into a 1-based column counted in characters. */
static size_t
column(const char *src, size_t off)
{
	size_t i, col = 1;

	for (i = 0; i < off && src[i] != '\0'; i++)
		if (((unsigned char)src[i] & 0xC0) != 0x80)
			col++;
	return col;
}

static void
fail(struct parser *p, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
fail(struct parser *p, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = 1;
	va_start(ap, fmt);
	vsnprintf(p->err->text, sizeof p->err->text, fmt, ap);
	va_end(ap);
	p->err->column = column(p->src, off);
}

static int
is_ident_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
is_ident(int c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static void
add_utf8(struct buf *b, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	buf_add(b, u, n);
}

/* hex4 reads four hex digits at s, or returns -1. */
static long
hex4(const char *s)
{
	long v = 0;
	int i, h;

	for (i = 0; i < 4; i++) {
		if ((h = hex_digit((unsigned char)s[i])) < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/*
 * lex_string reads a JSON string literal starting at the quote at *i into
 * out (unescaped).  Returns 0 and moves *i past the closing quote, or -1
 * after reporting the error.
 */
static int
lex_string(struct parser *p, size_t *i, struct buf *out)
{
	const char *s = p->src;
	size_t start = *i, j = *i + 1;

	buf_reset(out);
	for (;;) {
		unsigned char c = (unsigned char)s[j];

		if (c == '\0') {
			fail(p, start, "unterminated string");
			return -1;
		}
		if (c == '"')
			break;
		if (c != '\\') {
			buf_addc(out, (char)c);
			j++;
			continue;
		}
		switch (s[j + 1]) {
		case '"': buf_addc(out, '"'); break;
		case '\\': buf_addc(out, '\\'); break;
		case '/': buf_addc(out, '/'); break;
		case 'b': buf_addc(out, '\b'); break;
		case 'f': buf_addc(out, '\f'); break;
		case 'n': buf_addc(out, '\n'); break;
		case 'r': buf_addc(out, '\r'); break;
		case 't': buf_addc(out, '\t'); break;
		case 'u': {
			long hi = hex4(s + j + 2), lo;

			if (hi < 0) {
				fail(p, j, "invalid \\u escape in string");
				return -1;
			}
			if (hi >= 0xD800 && hi <= 0xDBFF) {
				if (s[j + 6] != '\\' || s[j + 7] != 'u' ||
				    (lo = hex4(s + j + 8)) < 0xDC00 || lo > 0xDFFF) {
					fail(p, j, "invalid \\u escape in string: unpaired surrogate");
					return -1;
				}
				add_utf8(out, 0x10000 + (((unsigned long)hi - 0xD800) << 10) +
				    ((unsigned long)lo - 0xDC00));
				j += 6;
			} else if (hi >= 0xDC00 && hi <= 0xDFFF) {
				fail(p, j, "invalid \\u escape in string: unpaired surrogate");
				return -1;
			} else
				add_utf8(out, (unsigned long)hi);
			j += 4;
			break;
		}
		case '(':
			fail(p, j, "string interpolation is not supported");
			return -1;
		default:
			fail(p, j, "invalid escape in string");
			return -1;
		}
		j += 2;
	}
	*i = j + 1;
	return 0;
}

/* lex_number scans a jq number literal at *i: digits, fraction, exponent, or ".5". */
static int
lex_number(struct parser *p, size_t *i)
{
	const char *s = p->src;
	size_t j = *i, start = *i;

	while (isdigit((unsigned char)s[j]))
		j++;
	if (s[j] == '.') {
		j++;
		while (isdigit((unsigned char)s[j]))
			j++;
	}
	if (s[j] == 'e' || s[j] == 'E') {
		size_t e = j + 1;
		if (s[e] == '+' || s[e] == '-')
			e++;
		if (!isdigit((unsigned char)s[e])) {
			fail(p, start, "invalid number '%.*s'", (int)(e - start), s + start);
			return -1;
		}
		while (isdigit((unsigned char)s[e]))
			e++;
		j = e;
	}
	if (is_ident(s[j]) || s[j] == '.') {
		while (is_ident(s[j]) || s[j] == '.')
			j++;
		fail(p, start, "invalid number '%.*s'", (int)(j - start), s + start);
		return -1;
	}
	*i = j;
	return 0;
}

/* has_nul reports whether s[0..n) holds a NUL; s may be NULL when n is 0 (an empty buffer). */
static int
has_nul(const char *s, size_t n)
{
	return n > 0 && memchr(s, '\0', n) != NULL;
}

/* add_key appends a quoted key segment to a path spec, escaped as rec_path_compile reads it. */
static void
add_key(struct buf *spec, const char *k, size_t n)
{
	size_t i;

	buf_adds(spec, ".\"");
	for (i = 0; i < n; i++) {
		if (k[i] == '"' || k[i] == '\\')
			buf_addc(spec, '\\');
		buf_addc(spec, k[i]);
	}
	buf_addc(spec, '"');
}

/*
 * lex_path reads a path at the '.' at *i: ".", ".a.b", ".a[0]", ."k",
 * .["k"], .a.[1].  Builds the spec for rec_path_compile in spec.
 */
static int
lex_path(struct parser *p, size_t *i, struct buf *spec)
{
	const char *s = p->src;
	size_t j = *i + 1, segs = 0;
	struct buf str = BUF_INIT;
	int dot = 1;	/* a '.' was just read */

	buf_reset(spec);
	for (;;) {
		if (dot && is_ident_start(s[j])) {
			size_t st = j;
			while (is_ident(s[j]))
				j++;
			buf_addc(spec, '.');
			buf_add(spec, s + st, j - st);
		} else if (dot && s[j] == '"') {
			if (lex_string(p, &j, &str) < 0)
				goto bad;
			if (has_nul(str.p, str.len)) {
				fail(p, *i, "a field name cannot contain NUL");
				goto bad;
			}
			add_key(spec, str.p, str.len);
		} else if (s[j] == '[') {
			size_t st = j;
			j++;
			while (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r')
				j++;
			if (s[j] == '"') {
				if (lex_string(p, &j, &str) < 0)
					goto bad;
				if (has_nul(str.p, str.len)) {
					fail(p, st, "a field name cannot contain NUL");
					goto bad;
				}
				add_key(spec, str.p, str.len);
			} else if (s[j] == '-' || isdigit((unsigned char)s[j])) {
				size_t ds = j;
				char *end;
				long long ix;

				errno = 0;
				ix = strtoll(s + ds, &end, 10);
				j = (size_t)(end - s);
				if (j == ds || errno != 0 || s[j] == '.' || s[j] == 'e' || s[j] == 'E') {
					fail(p, ds, "expected an integer index");
					goto bad;
				}
				buf_addc(spec, '[');
				jw_int(spec, ix);
				buf_addc(spec, ']');
			} else if (s[j] == ']') {
				fail(p, st, "iteration '[]' is not supported");
				goto bad;
			} else {
				fail(p, j, "expected an integer index or a quoted name in '[...]'");
				goto bad;
			}
			while (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r')
				j++;
			if (s[j] == ':') {
				fail(p, j, "slices are not supported");
				goto bad;
			}
			if (s[j] != ']') {
				fail(p, j, "expected ']'");
				goto bad;
			}
			j++;
		} else if (dot && segs > 0) {
			fail(p, j, "expected a field name after '.'");
			goto bad;
		} else if (dot && s[j] == '.') {
			fail(p, *i, "recursive descent '..' is not supported");
			goto bad;
		} else
			break;
		segs++;
		dot = 0;
		if (s[j] == '.' && !isdigit((unsigned char)s[j + 1])) {
			dot = 1;
			j++;
		} else if (s[j] != '[')
			break;
	}
	if (s[j] == '?') {
		fail(p, j, "the optional operator '?' is not supported");
		goto bad;
	}
	buf_free(&str);
	*i = j;
	return 0;
bad:
	buf_free(&str);
	return -1;
}

static void
push(struct parser *p, enum tok t, size_t off, size_t len, const struct buf *v)
{
	struct token *k;

	if (p->ntk == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->tk = xrealloc(p->tk, p->cap * sizeof *p->tk);
	}
	k = &p->tk[p->ntk++];
	k->t = t;
	k->off = off;
	k->len = len;
	k->val = NULL;
	k->vlen = 0;
	if (v != NULL) {
		k->val = xmalloc(v->len + 1);
		if (v->len)
			memcpy(k->val, v->p, v->len);
		k->val[v->len] = '\0';
		k->vlen = v->len;
	}
}

static const struct { const char *s; enum tok t; } ops[] = {
	{ "//", T_ALT }, { "==", T_EQ }, { "!=", T_NE }, { "<=", T_LE }, { ">=", T_GE }, { "=~", T_MATCH },
	{ "<", T_LT }, { ">", T_GT }, { "+", T_PLUS }, { "-", T_MINUS }, { "*", T_STAR },
	{ "/", T_SLASH }, { "%", T_PERCENT }, { "|", T_PIPE }, { "(", T_LPAREN },
	{ ")", T_RPAREN }, { "[", T_LBRACK }, { "]", T_RBRACK }, { ",", T_COMMA }, { ";", T_SEMI },
};

/* Operators of other languages, refused with a hint. */
static const struct { const char *s; const char *msg; } foreign[] = {
	{ "&&", "use 'and' instead of '&&'" },
	{ "||", "use 'or' instead of '||'" },
	{ "!", "use 'not' instead of '!'" },
	{ "=", "use '==' to compare" },
	{ "$", "variables are not supported" },
	{ "{", "object construction is not supported" },
	{ "?", "the optional operator '?' is not supported" },
};

static int
lex(struct parser *p)
{
	const char *s = p->src;
	size_t i = 0, k;
	struct buf v = BUF_INIT;

	for (;;) {
		while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
			i++;
		if (s[i] == '\0') {
			push(p, T_EOF, i, 0, NULL);
			break;
		}
		size_t st = i;
		if (s[i] == '#') {
			fail(p, i, "comments are not supported");
			goto bad;
		}
		if (s[i] == '.' && !isdigit((unsigned char)s[i + 1])) {
			if (lex_path(p, &i, &v) < 0)
				goto bad;
			push(p, T_PATH, st, i - st, &v);
			continue;
		}
		if (isdigit((unsigned char)s[i]) || s[i] == '.') {
			if (lex_number(p, &i) < 0)
				goto bad;
			push(p, T_NUM, st, i - st, NULL);
			continue;
		}
		if (s[i] == '"') {
			if (lex_string(p, &i, &v) < 0)
				goto bad;
			push(p, T_STR, st, i - st, &v);
			continue;
		}
		if (is_ident_start(s[i])) {
			while (is_ident(s[i]))
				i++;
			push(p, T_IDENT, st, i - st, NULL);
			continue;
		}
		for (k = 0; k < sizeof ops / sizeof ops[0]; k++)
			if (strncmp(s + i, ops[k].s, strlen(ops[k].s)) == 0)
				break;
		/* "||" must not lex as two pipes. */
		if (k < sizeof ops / sizeof ops[0] && !(s[i] == '|' && s[i + 1] == '|')) {
			i += strlen(ops[k].s);
			push(p, ops[k].t, st, i - st, NULL);
			continue;
		}
		for (k = 0; k < sizeof foreign / sizeof foreign[0]; k++)
			if (strncmp(s + i, foreign[k].s, strlen(foreign[k].s)) == 0) {
				fail(p, i, "%s", foreign[k].msg);
				goto bad;
			}
		if ((unsigned char)s[i] >= 0x80)
			fail(p, i, "unexpected non-ASCII character; quote such field names: .\"name\"");
		else if (iscntrl((unsigned char)s[i])) {
			fail(p, i, "unexpected byte 0x%02x", (unsigned char)s[i]);
		} else
			fail(p, i, "unexpected character '%c'", s[i]);
		goto bad;
	}
	buf_free(&v);
	return 0;
bad:
	buf_free(&v);
	return -1;
}

/* --------------------------------------------------------------- parser */

static struct node *
mknode(enum op op, struct node *a, struct node *b)
{
	struct node *n = xcalloc(1, sizeof *n);

	n->op = op;
	n->a = a;
	n->b = b;
	return n;
}

/* kid_add appends an operand to a chain node; op is how it combines (X_ARITH only). */
static void
kid_add(struct node *n, enum op op, struct node *k)
{
	if (n->nkid == n->capkid) {
		n->capkid = n->capkid ? 2 * n->capkid : 4;
		n->kid = xrealloc(n->kid, n->capkid * sizeof *n->kid);
		n->kop = xrealloc(n->kop, n->capkid * sizeof *n->kop);
	}
	n->kop[n->nkid] = op;
	n->kid[n->nkid++] = k;
}

/* chain returns the node for "l OP ...": l itself when it is the chain being built, else a new chain holding l. */
static struct node *
chain(struct node *l, struct node **ch, enum op op)
{
	if (*ch == NULL || l != *ch) {
		*ch = mknode(op, NULL, NULL);
		kid_add(*ch, op, l);
	}
	return *ch;
}

static void
node_free(struct node *n)
{
	size_t i;

	if (n == NULL)
		return;
	node_free(n->a);
	node_free(n->b);
	for (i = 0; i < n->nkid; i++)
		node_free(n->kid[i]);
	free(n->kid);
	free(n->kop);
	for (i = 0; i < n->nset; i++)
		node_free(n->set[i]);
	free(n->set);
	free(n->str);
	rec_path_free(n->path);
	rx_free(n->rx);
	if (n->vr != NULL)
		rec_free(n->vr);
	buf_free(&n->vbuf);
	buf_free(&n->scratch);
	buf_free(&n->scratch2);
	free(n);
}

static struct token *
cur(struct parser *p)
{
	return &p->tk[p->pos];
}

static int
is_kw(const struct parser *p, const struct token *t, const char *kw)
{
	return t->t == T_IDENT && t->len == strlen(kw) && strncmp(p->src + t->off, kw, t->len) == 0;
}

/* can_start reports whether a token can begin an operand. */
static int
can_start(const struct parser *p, const struct token *t)
{
	switch (t->t) {
	case T_PATH: case T_NUM: case T_STR: case T_LPAREN: case T_MINUS: case T_LBRACK:
		return 1;
	case T_IDENT:
		return !is_kw(p, t, "and") && !is_kw(p, t, "or") && !is_kw(p, t, "in") &&
		    !is_kw(p, t, "then") && !is_kw(p, t, "elif") && !is_kw(p, t, "else") &&
		    !is_kw(p, t, "end");
	default:
		return 0;
	}
}

/* tokname writes a token's text for a message: "'>'" or "the end". */
static const char *
tokname(const struct parser *p, const struct token *t, char *out, size_t outsz)
{
	if (t->t == T_EOF)
		snprintf(out, outsz, "the end");
	else
		snprintf(out, outsz, "'%.*s'", t->len > 24 ? 24 : (int)t->len, p->src + t->off);
	return out;
}

/* expected_value reports a missing operand at the current token, naming the token before it. */
static void
expected_value(struct parser *p)
{
	struct token *t = cur(p);
	char a[40];

	if (p->pos == 0) {
		if (t->t == T_EOF)
			fail(p, t->off, "empty expression");
		else
			fail(p, t->off, "unexpected %s", tokname(p, t, a, sizeof a));
		return;
	}
	fail(p, t->off, "expected a value after %s", tokname(p, &p->tk[p->pos - 1], a, sizeof a));
}

/*
 * enter opens one level of nesting at the token at off: a parenthesis, a
 * call's argument list, a prefix "not" or "-".  Returns 0, or -1 after
 * reporting that the expression nests too deeply; leave closes a level
 * entered successfully.
 */
static int
enter(struct parser *p, size_t off)
{
	if (p->depth >= EXPR_MAX_DEPTH) {
		fail(p, off, "expression nested more than %d levels deep", EXPR_MAX_DEPTH);
		return -1;
	}
	p->depth++;
	return 0;
}

static void
leave(struct parser *p)
{
	p->depth--;
}

static struct node *
mkpath(struct parser *p, const char *spec, size_t off)
{
	struct node *n;
	struct rec_err re;

	if (spec[0] == '\0')
		return mknode(X_ROOT, NULL, NULL);
	n = mknode(X_PATH, NULL, NULL);
	n->str = xstrdup(spec);
	n->path = rec_path_compile(spec, &re);
	if (n->path == NULL)
		fail(p, off, "invalid path: %s", re.text);
	return n;
}

/* dot returns the node for "." in the current context. */
static struct node *
dot(struct parser *p, size_t off)
{
	struct node *n;

	if (p->ctx_pipe != NULL) {
		n = mknode(X_INPUT, NULL, NULL);
		n->pipe = p->ctx_pipe;
		return n;
	}
	return mkpath(p, p->ctx_spec, off);
}

/* path returns the node for a path token: relative to the context's path, or missing after a pipe from a non-path. */
static struct node *
path(struct parser *p, const struct token *t)
{
	struct node *n;
	struct buf spec = BUF_INIT;

	if (t->vlen == 0)
		return dot(p, t->off);
	if (p->ctx_pipe != NULL) {
		/* Indexing a computed value: the path runs on it, parsed when it is a container. */
		n = mknode(X_VPATH, dot(p, t->off), NULL);
		buf_adds(&spec, ".\"\"");
		buf_add(&spec, t->val, t->vlen);
		n->str = xstrdup(buf_cstr(&spec));
		struct rec_err re;
		n->path = rec_path_compile(n->str, &re);
		if (n->path == NULL)
			fail(p, t->off, "invalid path: %s", re.text);
		buf_free(&spec);
		return n;
	}
	buf_adds(&spec, p->ctx_spec);
	buf_add(&spec, t->val, t->vlen);
	n = mkpath(p, buf_cstr(&spec), t->off);
	buf_free(&spec);
	return n;
}

/* number converts a number literal (with an optional leading '-') into a constant. */
static struct node *
number(const char *s, size_t len, int neg)
{
	struct node *n = mknode(X_CONST, NULL, NULL);
	char tmp[128];
	char *end;
	size_t i;
	int integer = 1;

	for (i = 0; i < len; i++)
		if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
			integer = 0;
	if (len + 2 > sizeof tmp) {
		n->str = xmalloc(len + 2);
		snprintf(n->str, len + 2, "%s%.*s", neg ? "-" : "", (int)len, s);
		s = n->str;
	} else {
		snprintf(tmp, sizeof tmp, "%s%.*s", neg ? "-" : "", (int)len, s);
		s = tmp;
	}
	if (integer) {
		errno = 0;
		long long v = strtoll(s, &end, 10);
		if (errno == 0) {
			n->k.type = RT_INT;
			n->k.i = v;
			n->k.d = (double)v;
			return n;
		}
	}
	n->k.type = RT_REAL;
	n->k.d = strtod(s, &end);
	return n;
}

static struct node *
string_const(const struct token *t)
{
	struct node *n = mknode(X_CONST, NULL, NULL);

	n->str = xmalloc(t->vlen + 1);
	memcpy(n->str, t->val, t->vlen + 1);
	n->k.type = RT_STRING;
	n->k.s = n->str;
	n->k.slen = t->vlen;
	return n;
}

/* literal parses one scalar literal (for array literals after 'in' and IN(...)). */
static struct node *
literal(struct parser *p)
{
	struct token *t = cur(p);
	struct node *n;

	if (t->t == T_STR) {
		p->pos++;
		return string_const(t);
	}
	if (t->t == T_NUM) {
		p->pos++;
		return number(p->src + t->off, t->len, 0);
	}
	if (t->t == T_MINUS && p->tk[p->pos + 1].t == T_NUM) {
		p->pos += 2;
		return number(p->src + t[1].off, t[1].len, 1);
	}
	if (is_kw(p, t, "true") || is_kw(p, t, "false") || is_kw(p, t, "null")) {
		p->pos++;
		n = mknode(X_CONST, NULL, NULL);
		n->k.type = is_kw(p, t, "null") ? RT_NULL : RT_BOOL;
		n->k.b = is_kw(p, t, "true");
		return n;
	}
	fail(p, t->off, "expected a literal (string, number, true, false or null)");
	return NULL;
}

static void
add_set(struct node *n, struct node *k)
{
	/* Grow by doubling (a power of two holds exactly nset): a long list costs linear time. */
	if ((n->nset & (n->nset - 1)) == 0)
		n->set = xrealloc(n->set, (n->nset ? 2 * n->nset : 1) * sizeof *n->set);
	n->set[n->nset++] = k;
}

/* set_list parses literals separated by sep up to close into n's set. */
static void
set_list(struct parser *p, struct node *n, enum tok sep, enum tok close)
{
	struct node *k;

	if (cur(p)->t == close && close == T_RBRACK) {
		p->pos++;
		return;
	}
	for (;;) {
		if ((k = literal(p)) == NULL)
			return;
		add_set(n, k);
		if (cur(p)->t == sep) {
			p->pos++;
			continue;
		}
		if (cur(p)->t == close) {
			p->pos++;
			return;
		}
		fail(p, cur(p)->off, close == T_RBRACK ? "expected ',' or ']' in the array" :
		    "expected ',' or ')'");
		return;
	}
}

static struct node *parse_pipe(struct parser *);
static struct node *parse_not(struct parser *);
static struct node *parse_if(struct parser *);

/*
 * lit_offset maps a byte offset in the unescaped value of the string
 * literal t back to the offset in the source where that byte is written.
 */
static size_t
lit_offset(const struct parser *p, const struct token *t, size_t want)
{
	const char *s = p->src;
	size_t j = t->off + 1, got = 0;

	while (got < want && s[j] != '\0' && s[j] != '"') {
		if (s[j] != '\\') {
			j++;
			got++;
		} else if (s[j + 1] == 'u') {
			long cp = hex4(s + j + 2);

			j += 6;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				j += 6;
				got += 4;
			} else
				got += cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
		} else {
			j += 2;
			got++;
		}
	}
	return j;
}

/*
 * regex compiles the pattern literal pt, with the flags literal ft (or
 * none when NULL), into n: once, here, never per record.
 */
static void
regex(struct parser *p, struct node *n, const struct token *pt, const struct token *ft)
{
	char why[160];
	size_t where;

	if (ft != NULL && has_nul(ft->val, ft->vlen)) {
		fail(p, ft->off, "invalid regular expression flags: contains NUL");
		return;
	}
	n->rx = rx_compile(pt->val, pt->vlen, ft != NULL ? ft->val : NULL, why, sizeof why, &where);
	if (n->rx != NULL)
		return;
	if (where == SIZE_MAX)
		fail(p, ft->off, "invalid regular expression flags: %s", why);
	else
		fail(p, lit_offset(p, pt, where), "invalid regular expression: %s", why);
}

/* str_lit takes the string literal at the current token for what, or reports its absence. */
static const struct token *
str_lit(struct parser *p, const char *what)
{
	const struct token *t = cur(p);

	if (t->t != T_STR) {
		fail(p, t->off, "expected a string literal (%s)", what);
		return NULL;
	}
	if (!utf8_valid(t->val, t->vlen)) {
		fail(p, t->off, "invalid UTF-8 in the string");
		return NULL;
	}
	p->pos++;
	return t;
}

/* semi_lit takes "; LITERAL" when the next token is a ';' (NULL when it is not, or the literal is null, as jq allows for flags). */
static const struct token *
semi_lit(struct parser *p, const char *what)
{
	if (p->failed || cur(p)->t != T_SEMI)
		return NULL;
	p->pos++;
	if (is_kw(p, cur(p), "null")) {
		p->pos++;
		return NULL;
	}
	return str_lit(p, what);
}

/* The built-in functions, one row each. */
enum fkind {
	F_FILTER,	/* applies to ".": "X | f", or f(X) for X | f */
	F_ARG,		/* applies to "." with one argument: "X | f(Y)" */
	F_REGEX,	/* test("re"): like =~ */
	F_PATH,		/* exists(PATH) */
	F_HAS,		/* has("key"): exists(."key") */
	F_IN,		/* IN(lit, ...): "X | IN(...)" is "X in [...]" */
	F_SUB,		/* sub("re"; REPLACEMENT), sub("re"; REPLACEMENT; "flags") */
	F_SPLIT		/* split(STR), or split("re"; "flags") */
};

static const struct fn {
	const char	*name;
	enum op		 op;
	enum fkind	 kind;
} fns[] = {
	{ "length",		X_LENGTH,	F_FILTER },
	{ "lower",		X_LOWER,	F_FILTER },
	{ "ascii_downcase",	X_LOWER,	F_FILTER },
	{ "upper",		X_UPPER,	F_FILTER },
	{ "ascii_upcase",	X_UPPER,	F_FILTER },
	{ "tonumber",		X_TONUMBER,	F_FILTER },
	{ "tostring",		X_TOSTRING,	F_FILTER },
	{ "not",		X_NOT,		F_FILTER },
	{ "startswith",		X_STARTS,	F_ARG },
	{ "endswith",		X_ENDS,		F_ARG },
	{ "contains",		X_CONTAINS,	F_ARG },
	{ "test",		X_MATCH,	F_REGEX },
	{ "match",		X_MATCHOBJ,	F_REGEX },
	{ "capture",		X_CAPTURE,	F_REGEX },
	{ "sub",		X_RESUB,	F_SUB },
	{ "gsub",		X_RESUB,	F_SUB },
	{ "split",		X_SPLIT,	F_SPLIT },
	{ "ltrimstr",		X_LTRIM,	F_ARG },
	{ "rtrimstr",		X_RTRIM,	F_ARG },
	{ "floor",		X_FLOOR,	F_FILTER },
	{ "ceil",		X_CEIL,		F_FILTER },
	{ "round",		X_ROUND,	F_FILTER },
	{ "abs",		X_ABS,		F_FILTER },
	{ "fabs",		X_ABS,		F_FILTER },
	{ "sqrt",		X_SQRT,		F_FILTER },
	{ "type",		X_TYPE,		F_FILTER },
	{ "todate",		X_TODATE,	F_FILTER },
	{ "todateiso8601",	X_TODATE,	F_FILTER },
	{ "fromdate",		X_FROMDATE,	F_FILTER },
	{ "fromdateiso8601",	X_FROMDATE,	F_FILTER },
	{ "strftime",		X_STRFTIME,	F_ARG },
	{ "exists",		X_EXISTS,	F_PATH },
	{ "has",		X_EXISTS,	F_HAS },
	{ "IN",			X_IN,		F_IN },
};

static struct node *
expect_rparen(struct parser *p, struct node *n, size_t lparen)
{
	char a[40];

	if (p->failed)
		return n;
	if (cur(p)->t == T_EOF)
		fail(p, cur(p)->off, "missing ')' for the '(' at column %zu", column(p->src, lparen));
	else if (cur(p)->t != T_RPAREN)
		fail(p, cur(p)->off, "expected ')', found %s", tokname(p, cur(p), a, sizeof a));
	else
		p->pos++;
	return n;
}

static struct node *call_args(struct parser *, const struct fn *, const struct token *, struct node *);

static struct node *
call(struct parser *p, const struct fn *f, const struct token *name)
{
	struct node *n = mknode(f->op, NULL, NULL);
	int paren = cur(p)->t == T_LPAREN;
	size_t lp = cur(p)->off;

	if (!paren) {
		if (f->kind != F_FILTER) {
			fail(p, name->off, "%s needs an argument: %s(...)", f->name, f->name);
			return n;
		}
		n->a = dot(p, name->off);
		return n;
	}
	p->pos++;
	if (cur(p)->t == T_RPAREN) {
		fail(p, cur(p)->off, "expected an argument for %s", f->name);
		return n;
	}
	if (enter(p, lp) < 0)
		return n;
	n = call_args(p, f, name, n);
	leave(p);
	if (p->failed)
		return n;
	return expect_rparen(p, n, lp);
}

/* call_args parses the arguments of f after its '(' into n. */
static struct node *
call_args(struct parser *p, const struct fn *f, const struct token *name, struct node *n)
{
	switch (f->kind) {
	case F_FILTER:
		n->a = parse_pipe(p);
		break;
	case F_ARG:
		n->a = dot(p, name->off);
		n->b = parse_pipe(p);
		break;
	case F_REGEX: {
		const struct token *pt, *ft;

		n->a = dot(p, name->off);
		n->strict = true;
		if ((pt = str_lit(p, "the regular expression")) == NULL)
			return n;
		ft = semi_lit(p, "the flags");
		if (p->failed)
			return n;
		regex(p, n, pt, ft);
		if (!p->failed && f->op != X_MATCH && (rx_flags(n->rx) & RX_GLOBAL))
			fail(p, ft->off, "%s with the flag 'g' gives several values, which is not supported",
			    f->name);
		break;
	}
	case F_SUB: {
		const struct token *pt, *ft;
		const char *spec0 = p->ctx_spec;
		struct node *pipe0 = p->ctx_pipe;

		n->a = dot(p, name->off);
		n->global = name->len == 4;	/* gsub: every match */
		if ((pt = str_lit(p, "the regular expression")) == NULL)
			return n;
		if (cur(p)->t != T_SEMI) {
			fail(p, cur(p)->off, "%s needs a replacement: %s(\"re\"; \"new\")", f->name, f->name);
			return n;
		}
		p->pos++;
		if (!can_start(p, cur(p))) {
			expected_value(p);
			return n;
		}
		/* In the replacement "." is the match's named captures, as in jq. */
		p->ctx_pipe = n;
		n->b = parse_pipe(p);
		p->ctx_pipe = pipe0;
		p->ctx_spec = spec0;
		ft = semi_lit(p, "the flags");
		if (!p->failed)
			regex(p, n, pt, ft);
		if (!p->failed && (rx_flags(n->rx) & RX_GLOBAL))
			n->global = true;
		break;
	}
	case F_SPLIT:
		n->a = dot(p, name->off);
		if (cur(p)->t == T_STR && p->tk[p->pos + 1].t == T_SEMI) {
			const struct token *pt = str_lit(p, "the regular expression"), *ft;

			n->op = X_SPLITRE;
			ft = semi_lit(p, "the flags");
			if (!p->failed)
				regex(p, n, pt, ft);
			break;
		}
		n->b = parse_pipe(p);
		break;
	case F_PATH:
		if (cur(p)->t != T_PATH) {
			fail(p, cur(p)->off, "exists needs a path: exists(.field)");
			return n;
		}
		n->a = path(p, cur(p));
		p->pos++;
		break;
	case F_HAS: {
		struct token *t = cur(p);
		struct buf spec = BUF_INIT;

		if (t->t != T_STR) {
			fail(p, t->off, "has needs a string literal: has(\"field\")");
			return n;
		}
		p->pos++;
		if (has_nul(t->val, t->vlen)) {
			fail(p, t->off, "a field name cannot contain NUL");
			return n;
		}
		add_key(&spec, t->val, t->vlen);
		if (p->ctx_pipe != NULL) {
			n->a = mknode(X_CONST, NULL, NULL);
			n->a->k.type = RT_MISSING;
		} else {
			char *full = xmalloc(strlen(p->ctx_spec) + spec.len + 1);
			memcpy(full, p->ctx_spec, strlen(p->ctx_spec));
			memcpy(full + strlen(p->ctx_spec), spec.p, spec.len);
			full[strlen(p->ctx_spec) + spec.len] = '\0';
			n->a = mkpath(p, full, t->off);
			free(full);
		}
		buf_free(&spec);
		break;
	}
	case F_IN:
		n->a = dot(p, name->off);
		set_list(p, n, T_COMMA, T_RPAREN);
		p->pos--;	/* set_list took the ')': give it back to the caller */
		return n;
	}
	if (!p->failed && cur(p)->t == T_SEMI)
		fail(p, cur(p)->off, "%s takes one argument", f->name);
	return n;
}

/* expect_kw takes the keyword kw or reports what is there instead. */
static int
expect_kw(struct parser *p, const char *kw, const struct token *opener)
{
	char a[40];

	if (p->failed)
		return -1;
	if (is_kw(p, cur(p), kw)) {
		p->pos++;
		return 0;
	}
	fail(p, cur(p)->off, "expected '%s' for the 'if' at column %zu, found %s", kw,
	    column(p->src, opener->off), tokname(p, cur(p), a, sizeof a));
	return -1;
}

/* operand parses a whole expression where one must follow, within one level of nesting. */
static struct node *
operand(struct parser *p, size_t off)
{
	struct node *n;

	if (!can_start(p, cur(p))) {
		expected_value(p);
		return NULL;
	}
	if (enter(p, off) < 0)
		return NULL;
	n = parse_pipe(p);
	leave(p);
	return n;
}

/*
 * if C then A elif C2 then B else D end: kid holds C, A, C2, B, ... and b
 * the else branch (".", the input, when there is none, as in jq 1.7).
 */
static struct node *
parse_if(struct parser *p)
{
	const struct token *t = cur(p);
	struct node *n = mknode(X_IF, NULL, NULL);

	p->pos++;
	for (;;) {
		kid_add(n, X_IF, operand(p, t->off));
		if (expect_kw(p, "then", t) < 0)
			return n;
		kid_add(n, X_IF, operand(p, t->off));
		if (p->failed)
			return n;
		if (is_kw(p, cur(p), "elif")) {
			p->pos++;
			continue;
		}
		break;
	}
	if (is_kw(p, cur(p), "else")) {
		p->pos++;
		n->b = operand(p, t->off);
	} else
		n->b = dot(p, t->off);
	expect_kw(p, "end", t);
	return n;
}

static struct node *
parse_primary(struct parser *p)
{
	struct token *t = cur(p);
	struct node *n;
	size_t i;

	switch (t->t) {
	case T_PATH:
		p->pos++;
		return path(p, t);
	case T_NUM:
		p->pos++;
		return number(p->src + t->off, t->len, 0);
	case T_STR:
		p->pos++;
		return string_const(t);
	case T_LPAREN:
		p->pos++;
		if (!can_start(p, cur(p))) {
			expected_value(p);
			return NULL;
		}
		if (enter(p, t->off) < 0)
			return NULL;
		n = parse_pipe(p);
		leave(p);
		return expect_rparen(p, n, t->off);
	case T_LBRACK:
		fail(p, t->off, "array literals are only allowed after 'in'");
		return NULL;
	case T_IDENT:
		if (is_kw(p, t, "true") || is_kw(p, t, "false") || is_kw(p, t, "null"))
			return literal(p);
		if (is_kw(p, t, "if"))
			return parse_if(p);
		p->pos++;
		for (i = 0; i < sizeof fns / sizeof fns[0]; i++)
			if (t->len == strlen(fns[i].name) &&
			    strncmp(p->src + t->off, fns[i].name, t->len) == 0)
				return call(p, &fns[i], t);
		if (cur(p)->t == T_LPAREN)
			fail(p, t->off, "unknown function '%.*s'", (int)t->len, p->src + t->off);
		else
			fail(p, t->off, "unknown name '%.*s' (a field is written .%.*s)",
			    (int)t->len, p->src + t->off, (int)t->len, p->src + t->off);
		return NULL;
	default:
		expected_value(p);
		return NULL;
	}
}

static struct node *
parse_unary(struct parser *p)
{
	struct node *n;

	if (cur(p)->t == T_MINUS) {
		struct token *t = cur(p);
		p->pos++;
		if (cur(p)->t == T_NUM && cur(p)->off == t->off + 1) {
			/* "-9223372036854775808" is an int64. */
			p->pos++;
			return number(p->src + t[1].off, t[1].len, 1);
		}
		if (!can_start(p, cur(p))) {
			expected_value(p);
			return NULL;
		}
		if (enter(p, t->off) < 0)
			return NULL;
		n = parse_unary(p);
		leave(p);
		return mknode(X_NEG, n, NULL);
	}
	return parse_primary(p);
}

/*
 * binary parses a left-associative level: operands from sub, operators
 * from the table.  "a + b - c" becomes one X_ARITH node with the operands
 * a, b, c and the operators +, -.
 */
static struct node *
binary(struct parser *p, struct node *(*sub)(struct parser *), const enum tok *tk, const enum op *op, size_t n)
{
	struct node *l = sub(p), *ch = NULL;
	size_t i;

	while (!p->failed) {
		for (i = 0; i < n; i++)
			if (cur(p)->t == tk[i])
				break;
		if (i == n)
			break;
		p->pos++;
		if (!can_start(p, cur(p))) {
			expected_value(p);
			break;
		}
		l = chain(l, &ch, X_ARITH);
		kid_add(l, op[i], sub(p));
	}
	return l;
}

static struct node *
parse_mul(struct parser *p)
{
	static const enum tok tk[] = { T_STAR, T_SLASH, T_PERCENT };
	static const enum op op[] = { X_MUL, X_DIV, X_MOD };

	return binary(p, parse_unary, tk, op, 3);
}

static struct node *
parse_add(struct parser *p)
{
	static const enum tok tk[] = { T_PLUS, T_MINUS };
	static const enum op op[] = { X_ADD, X_SUB };

	return binary(p, parse_mul, tk, op, 2);
}

static int
cmp_tok(const struct parser *p, const struct token *t, enum op *op)
{
	switch (t->t) {
	case T_EQ: *op = X_EQ; return 1;
	case T_NE: *op = X_NE; return 1;
	case T_LT: *op = X_LT; return 1;
	case T_LE: *op = X_LE; return 1;
	case T_GT: *op = X_GT; return 1;
	case T_GE: *op = X_GE; return 1;
	case T_MATCH: *op = X_MATCH; return 1;
	default:
		if (is_kw(p, t, "in")) {
			*op = X_IN;
			return 1;
		}
		return 0;
	}
}

/* Comparisons do not chain, as in jq: "1 < .a < 3" is an error. */
static struct node *
parse_cmp(struct parser *p)
{
	struct node *l = parse_add(p), *n;
	struct token *t = cur(p);
	enum op op;
	char a[40];

	if (p->failed || !cmp_tok(p, t, &op))
		return l;
	p->pos++;
	n = mknode(op, l, NULL);
	if (op == X_MATCH) {
		const struct token *pt = cur(p);

		if (pt->t != T_STR)
			fail(p, pt->off, "expected a string literal (the regular expression) after '=~'");
		else if ((pt = str_lit(p, "the regular expression")) != NULL)
			regex(p, n, pt, NULL);
	} else if (op == X_IN) {
		if (cur(p)->t != T_LBRACK) {
			fail(p, cur(p)->off, "expected an array of literals after 'in'");
			return n;
		}
		p->pos++;
		set_list(p, n, T_COMMA, T_RBRACK);
	} else {
		if (!can_start(p, cur(p))) {
			expected_value(p);
			return n;
		}
		n->b = parse_add(p);
	}
	if (!p->failed && cmp_tok(p, cur(p), &op))
		fail(p, cur(p)->off, "comparisons do not chain: add parentheses before %s",
		    tokname(p, cur(p), a, sizeof a));
	return n;
}

static struct node *
parse_not(struct parser *p)
{
	struct token *t = cur(p);

	/* Prefix "not X"; a "not" that nothing follows is jq's filter "not" on ".". */
	if (is_kw(p, t, "not") && can_start(p, &p->tk[p->pos + 1])) {
		struct node *n;

		if (enter(p, t->off) < 0)
			return NULL;
		p->pos++;
		n = mknode(X_NOT, parse_not(p), NULL);
		leave(p);
		return n;
	}
	return parse_cmp(p);
}

static struct node *
parse_and(struct parser *p)
{
	struct node *l = parse_not(p), *ch = NULL;

	while (!p->failed && is_kw(p, cur(p), "and")) {
		p->pos++;
		if (!can_start(p, cur(p))) {
			expected_value(p);
			break;
		}
		l = chain(l, &ch, X_AND);
		kid_add(l, X_AND, parse_not(p));
	}
	return l;
}

static struct node *
parse_or(struct parser *p)
{
	struct node *l = parse_and(p), *ch = NULL;

	while (!p->failed && is_kw(p, cur(p), "or")) {
		p->pos++;
		if (!can_start(p, cur(p))) {
			expected_value(p);
			break;
		}
		l = chain(l, &ch, X_OR);
		kid_add(l, X_OR, parse_and(p));
	}
	return l;
}

/*
 * A // B // C: the first of A, B that is neither false nor null, else C.  One chain node, as jq's right-associative operator
 * means the same.
 */
static struct node *
parse_alt(struct parser *p)
{
	struct node *l = parse_or(p), *ch = NULL;

	while (!p->failed && cur(p)->t == T_ALT) {
		p->pos++;
		if (!can_start(p, cur(p))) {
			expected_value(p);
			break;
		}
		l = chain(l, &ch, X_ALT);
		kid_add(l, X_ALT, parse_or(p));
	}
	return l;
}

/*
 * A | B evaluates B with "." bound to A's value.  When A is a path, B's
 * paths are joined onto it at compile time (".user | .id" is ".user.id"),
 * so no pipe node remains; otherwise a pipe node holds A's value in its
 * slot for B's "." to read, and each further stage reads the one before.
 */
static struct node *
parse_pipe(struct parser *p)
{
	const char *spec0 = p->ctx_spec;
	struct node *pipe0 = p->ctx_pipe;
	struct node *l = parse_alt(p), *r, *ch = NULL;
	char *spec = NULL;

	while (!p->failed && cur(p)->t == T_PIPE) {
		p->pos++;
		if (!can_start(p, cur(p))) {
			expected_value(p);
			break;
		}
		if (l->op == X_PATH || l->op == X_ROOT) {
			free(spec);
			spec = xstrdup(l->op == X_PATH ? l->str : "");
			p->ctx_spec = spec;
			p->ctx_pipe = NULL;
			r = parse_alt(p);
			node_free(l);
			l = r;
		} else {
			/* "A | B | C" is one pipe of three stages sharing one slot. */
			l = chain(l, &ch, X_PIPE);
			p->ctx_pipe = l;
			kid_add(l, X_PIPE, parse_alt(p));
		}
	}
	p->ctx_spec = spec0;
	p->ctx_pipe = pipe0;
	free(spec);
	return l;
}

struct expr *
expr_compile(const char *src, struct expr_err *err)
{
	struct parser p;
	struct expr *x;
	struct node *n;
	size_t i;
	char a[40];

	memset(&p, 0, sizeof p);
	p.src = src;
	p.err = err;
	p.ctx_spec = "";
	err->text[0] = '\0';
	err->column = 0;
	n = NULL;
	if (lex(&p) == 0) {
		n = parse_pipe(&p);
		if (!p.failed && cur(&p)->t != T_EOF)
			fail(&p, cur(&p)->off, cur(&p)->t == T_RPAREN ? "unmatched ')'" :
			    "unexpected %s", tokname(&p, cur(&p), a, sizeof a));
	}
	for (i = 0; i < p.ntk; i++)
		free(p.tk[i].val);
	free(p.tk);
	if (p.failed) {
		node_free(n);
		return NULL;
	}
	x = xcalloc(1, sizeof *x);
	x->src = xstrdup(src);
	x->root = n;
	return x;
}

void
expr_free(struct expr *x)
{
	if (x == NULL)
		return;
	node_free(x->root);
	buf_free(&x->ca);
	buf_free(&x->cb);
	buf_free(&x->cbuf);
	if (x->chk != NULL)
		rec_free(x->chk);
	free(x->src);
	free(x);
}

const char *
expr_src(const struct expr *x)
{
	return x->src;
}

/* ----------------------------------------------------------- evaluation */

static bool
truthy(const struct rec_val *v)
{
	switch (v->type) {
	case RT_MISSING: case RT_NULL: return false;
	case RT_BOOL: return v->b;
	default: return true;
	}
}

static bool
isnum(const struct rec_val *v)
{
	return v->type == RT_INT || v->type == RT_REAL;
}

static void
set_bool(struct rec_val *o, bool b)
{
	memset(o, 0, sizeof *o);
	o->type = RT_BOOL;
	o->b = b;
}

static void
set_null(struct rec_val *o)
{
	memset(o, 0, sizeof *o);
	o->type = RT_NULL;
}

static void
set_int(struct rec_val *o, int64_t i)
{
	memset(o, 0, sizeof *o);
	o->type = RT_INT;
	o->i = i;
	o->d = (double)i;
}

static void
set_real(struct rec_val *o, double d)
{
	memset(o, 0, sizeof *o);
	o->type = RT_REAL;
	o->d = d;
}

static void
set_str(struct rec_val *o, const char *s, size_t n)
{
	memset(o, 0, sizeof *o);
	o->type = RT_STRING;
	o->s = s;
	o->slen = n;
}

/* cmp_int_real compares an int64 with a double exactly: -1, 0, 1, or 2 when d is NaN. */
static int
cmp_int_real(int64_t i, double d)
{
	int64_t t;
	double frac;

	if (isnan(d))
		return 2;
	if (d >= 9223372036854775808.0)
		return -1;
	if (d < -9223372036854775808.0)
		return 1;
	t = (int64_t)d;
	if (i != t)
		return i < t ? -1 : 1;
	frac = d - (double)t;
	return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

/* numcmp compares two numbers: int64 exactly, mixed exactly, reals as doubles; 2 when unordered. */
static int
numcmp(const struct rec_val *a, const struct rec_val *b)
{
	if (a->type == RT_INT && b->type == RT_INT)
		return a->i < b->i ? -1 : a->i > b->i;
	if (a->type == RT_INT)
		return cmp_int_real(a->i, b->d);
	if (b->type == RT_INT) {
		int c = cmp_int_real(b->i, a->d);
		return c == 2 ? 2 : -c;
	}
	if (a->d < b->d)
		return -1;
	if (a->d > b->d)
		return 1;
	return a->d == b->d ? 0 : 2;
}

static int
strcmp_n(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	if (c != 0)
		return c < 0 ? -1 : 1;
	return an < bn ? -1 : an > bn;
}

static enum rec_type
norm(enum rec_type t)
{
	return t == RT_MISSING ? RT_NULL : t;
}

/* equal is JSON equality: numbers by value, containers by their canonical forms. */
static bool
equal(struct expr *x, struct rec *r, const struct rec_val *a, const struct rec_val *b)
{
	if (isnum(a) && isnum(b))
		return numcmp(a, b) == 0;
	if (norm(a->type) != norm(b->type))
		return false;
	switch (norm(a->type)) {
	case RT_NULL:
		return true;
	case RT_BOOL:
		return a->b == b->b;
	case RT_STRING:
		return a->slen == b->slen && (a->slen == 0 || memcmp(a->s, b->s, a->slen) == 0);
	case RT_ARRAY:
	case RT_OBJECT:
		if (a->n != b->n)
			return false;
		buf_reset(&x->ca);
		buf_reset(&x->cb);
		rec_val_canon(r, a, &x->ca);
		rec_val_canon(r, b, &x->cb);
		return x->ca.len == x->cb.len && memcmp(x->ca.p, x->cb.p, x->ca.len) == 0;
	default:
		return false;
	}
}

/* order compares two values of one orderable type (numbers, strings, booleans) into *c. */
static bool
order(const struct rec_val *a, const struct rec_val *b, int *c)
{
	if (isnum(a) && isnum(b)) {
		*c = numcmp(a, b);
		return *c != 2;
	}
	if (a->type != b->type)
		return false;
	if (a->type == RT_STRING) {
		*c = strcmp_n(a->s, a->slen, b->s, b->slen);
		return true;
	}
	if (a->type == RT_BOOL) {
		*c = (int)a->b - (int)b->b;
		return true;
	}
	return false;
}

static void ev(struct expr *, struct node *, struct rec *, struct rec_val *);

/*
 * Errors.  Where jq stops with an error (a string multiplied by a number,
 * floor of a string) the evaluation notes the first reason in x->why and
 * goes on with null: expr_test reads that null as false, as --where always
 * has; expr_eval reports the reason.  A regex stopped at its match limit
 * is noted as a limit (err 2), which expr_limit reports.
 */
static void
ev_fail(struct expr *x, int kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
ev_fail(struct expr *x, int kind, const char *fmt, ...)
{
	va_list ap;

	if (x->err != 0)
		return;
	x->err = kind;
	va_start(ap, fmt);
	vsnprintf(x->why, sizeof x->why, fmt, ap);
	va_end(ap);
}

/* jq_type names a value's type as jq does. */
static const char *
jq_type(const struct rec_val *v)
{
	switch (v->type) {
	case RT_BOOL: return "boolean";
	case RT_INT: case RT_REAL: return "number";
	case RT_STRING: return "string";
	case RT_ARRAY: return "array";
	case RT_OBJECT: return "object";
	default: return "null";
	}
}

__extension__ typedef unsigned __int128 u128;	/* GCC and Clang have it on every 64-bit target */

static const uint64_t p10_64[20] = {
	UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000), UINT64_C(10000), UINT64_C(100000),
	UINT64_C(1000000), UINT64_C(10000000), UINT64_C(100000000), UINT64_C(1000000000),
	UINT64_C(10000000000), UINT64_C(100000000000), UINT64_C(1000000000000),
	UINT64_C(10000000000000), UINT64_C(100000000000000), UINT64_C(1000000000000000),
	UINT64_C(10000000000000000), UINT64_C(100000000000000000), UINT64_C(1000000000000000000),
	UINT64_C(10000000000000000000)
};

/* pow10_128 is 10^k for 0 <= k <= 38. */
static u128
pow10_128(int k)
{
	return k <= 19 ? p10_64[k] : (u128)p10_64[19] * p10_64[k - 19];
}

/*
 * reads_back reports whether the decimal c * 10^-kk is nearer to d = m /
 * 2^s than to its neighbours, so that strtod gives d back (a tie goes to
 * the even m, as strtod rounds).  Exact, in 128-bit integers: for the
 * range exact_digits works on, every product fits.
 */
static bool
reads_back(uint64_t c, int kk, uint64_t m, int s)
{
	u128 p10 = pow10_128(kk), a = (u128)c << (s + 2), b = ((u128)m * p10) << 2, diff;
	/* d's neighbour below is half as far when m is a power of two. */
	u128 lim = (a < b && m == (UINT64_C(1) << 52)) ? p10 : p10 << 1;

	diff = a > b ? a - b : b - a;
	return diff < lim || (diff == lim && (m & 1) == 0);
}

/*
 * exact_digits finds the shortest digits (15 to 17, where printf would be
 * needed) of d in [1e-4, 1e15) with 128-bit integer arithmetic: d = m /
 * 2^s exactly, its first 19 digits and whether any follow, then each
 * length rounded (half to even on an exact tie, as dtoa) and checked to
 * read back.  Returns the count, or 0 when d is outside the range.
 */
static int
exact_digits(double d, char dig[32], int *decpt)
{
	int ex, s, k, p, dp, n, i;
	uint64_t m, c = 0;
	u128 num, q;
	bool rest;

	if (!(d >= 1e-4 && d < 1e15))
		return 0;
	m = (uint64_t)ldexp(frexp(d, &ex), 53);
	s = 53 - ex;
	dp = (int)floor(log10(d)) + 1;
	for (;;) {
		k = 19 - dp;
		num = (u128)m * pow10_128(k);
		q = num >> s;
		if (q >= p10_64[19])
			dp++;
		else if (q < p10_64[18])
			dp--;
		else
			break;
	}
	rest = (num & (((u128)1 << s) - 1)) != 0;
	for (p = 15; p <= 17; p++) {
		/* q < 10^19 fits 64 bits: the rounding is in plain integers. */
		uint64_t unit = p10_64[19 - p], q64 = (uint64_t)q, r = q64 % unit, half = unit / 2;

		c = q64 / unit;
		if (r > half || (r == half && (rest || (c & 1))))
			c++;
		*decpt = dp;
		if (c == p10_64[p]) {
			c /= 10;
			(*decpt)++;
		}
		if (p == 17 || reads_back(c, p - *decpt, m, s))
			break;
	}
	for (n = 0, i = p; i > 0; i--) {
		dig[i - 1] = (char)('0' + c % 10);
		c /= 10;
		n++;
	}
	while (n > 1 && dig[n - 1] == '0')
		n--;
	return n;
}

/*
 * shortest finds the shortest decimal digits that read back as d (> 0,
 * finite): the digits in dig (no leading or trailing zeros) and their
 * count, and the decimal point's position decpt (d = 0.DIGITS * 10^decpt).
 * First a fixed-point guess with a few multiplications (a price times an
 * amount needs no more), else printf's %e with 15, 16, then 17 digits, the
 * first that reads back being the shortest and nearest, as dtoa's.
 */
static int
shortest(double d, char dig[32], int *decpt)
{
	static const double p10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8 };
	char tmp[40], *e;
	double r;
	int k, n = 0, i, p;
	uint64_t u;

	if (d >= 1e-4 && d < 1e15) {
		for (k = 1; k <= 8; k++) {
			r = round(d * p10[k]);
			if (r >= 9007199254740992.0)
				break;
			if (r / p10[k] == d) {
				char rev[24];
				int m = 0;

				for (u = (uint64_t)r; u > 0; u /= 10)
					rev[m++] = (char)('0' + u % 10);
				*decpt = m - k;
				while (m > 0)
					dig[n++] = rev[--m];
				while (n > 1 && dig[n - 1] == '0')
					n--;
				return n;
			}
		}
	}
	if ((n = exact_digits(d, dig, decpt)) > 0)
		return n;
	/*
	 * One printf for 25 correctly rounded digits; 15, 16 and 17 digits
	 * (which always read back) are those rounded, the first that reads
	 * back being the shortest, a tie going to the even digit as dtoa's.
	 * Rounding 25 digits again rounds as d would but where they end in
	 * 5000... and d's digits do not: one value in a billion may then get a
	 * neighbour of jq's last digit, which still reads back as d.
	 */
	char all[40];
	int na = 0;

	snprintf(tmp, sizeof tmp, "%.24e", d);
	for (i = 0; tmp[i] != 'e'; i++)
		if (tmp[i] >= '0' && tmp[i] <= '9')
			all[na++] = tmp[i];
	*decpt = (int)strtol(tmp + i + 1, &e, 10) + 1;
	for (p = 15; p <= 17; p++) {
		char txt[48];
		int dp = *decpt, j;

		memcpy(dig, all, (size_t)p);
		/* Half to even on a tie, as dtoa: 1217500973594331.25 is ...331.2. */
		for (j = p + 1; j < na && all[j] == '0'; j++)
			;
		if (all[p] > '5' || (all[p] == '5' && (j < na || (dig[p - 1] - '0') % 2 == 1))) {
			for (j = p - 1; j >= 0 && dig[j] == '9'; j--)
				dig[j] = '0';
			if (j >= 0)
				dig[j]++;
			else {
				memmove(dig + 1, dig, (size_t)p - 1);
				dig[0] = '1';
				dp++;
			}
		}
		snprintf(txt, sizeof txt, "0.%.*se%d", p, dig, dp);
		if (p == 17 || strtod(txt, NULL) == d) {
			n = p;
			*decpt = dp;
			break;
		}
	}
	while (n > 1 && dig[n - 1] == '0')
		n--;
	return n;
}

/*
 * num_json writes a computed number as jq writes it: the shortest digits
 * that read back, in plain notation unless the point is 4 or more places
 * left of the first digit or more than 15 right of the last ("1e-05",
 * "1e+17", but "186606891500877380"), NaN as null and the infinities as
 * the largest doubles.
 */
static void
num_json(struct buf *b, double d)
{
	char dig[32];
	int n, decpt, i;

	if (isnan(d)) {
		buf_adds(b, "null");
		return;
	}
	if (isinf(d))
		d = d > 0 ? 1.7976931348623157e308 : -1.7976931348623157e308;
	if (signbit(d))
		buf_addc(b, '-');
	d = fabs(d);
	if (d == 0) {
		buf_addc(b, '0');
		return;
	}
	n = shortest(d, dig, &decpt);
	if (decpt <= -4 || decpt > n + 15) {
		buf_addc(b, dig[0]);
		if (n > 1) {
			buf_addc(b, '.');
			buf_add(b, dig + 1, (size_t)n - 1);
		}
		decpt--;
		buf_addc(b, 'e');
		buf_addc(b, decpt < 0 ? '-' : '+');
		if (decpt < 0)
			decpt = -decpt;
		if (decpt < 10)
			buf_addc(b, '0');
		jw_int(b, decpt);
		return;
	}
	if (decpt <= 0) {
		buf_adds(b, "0.");
		for (i = decpt; i < 0; i++)
			buf_addc(b, '0');
		buf_add(b, dig, (size_t)n);
	} else if (decpt >= n) {
		buf_add(b, dig, (size_t)n);
		for (i = n; i < decpt; i++)
			buf_addc(b, '0');
	} else {
		buf_add(b, dig, (size_t)decpt);
		buf_addc(b, '.');
		buf_add(b, dig + decpt, (size_t)(n - decpt));
	}
}

/* value_json appends a value as JSON: its own bytes when it has them, else encoded. */
static void
value_json(const struct rec_val *v, struct buf *b)
{
	if (v->raw != NULL && v->type != RT_MISSING) {
		buf_add(b, v->raw, v->rawlen);
		return;
	}
	switch (v->type) {
	case RT_BOOL: buf_adds(b, v->b ? "true" : "false"); break;
	case RT_INT: jw_int(b, v->i); break;
	case RT_REAL: num_json(b, v->d); break;
	case RT_STRING: jw_str(b, v->s, v->slen); break;
	default: buf_adds(b, "null"); break;
	}
}

/* describe writes "type (value)" for a message, the value cut to 11 bytes as jq cuts it. */
static const char *
describe(const struct rec_val *v, char *out, size_t outsz)
{
	struct buf b = BUF_INIT;

	value_json(v, &b);
	if (b.len > 11)
		snprintf(out, outsz, "%s (%.11s...)", jq_type(v), b.p);
	else
		snprintf(out, outsz, "%s (%.*s)", jq_type(v), (int)b.len, b.p ? b.p : "");
	buf_free(&b);
	return out;
}

static void
type_fail(struct expr *x, const struct rec_val *a, const char *what)
{
	char d[40];

	ev_fail(x, 1, "%s %s", describe(a, d, sizeof d), what);
}

static void
pair_fail(struct expr *x, const struct rec_val *a, const struct rec_val *b, const char *what)
{
	char d1[40], d2[40];

	ev_fail(x, 1, "%s and %s %s", describe(a, d1, sizeof d1), describe(b, d2, sizeof d2), what);
}

/* outbuf picks the node buffer not holding prev (a result being built from the last one). */
static struct buf *
outbuf(struct node *n, const char *prev)
{
	struct buf *b = prev != NULL && prev == n->scratch.p ? &n->scratch2 : &n->scratch;

	buf_reset(b);
	return b;
}

static void
set_container(struct rec_val *o, enum rec_type t, struct buf *b, size_t count)
{
	memset(o, 0, sizeof *o);
	o->type = t;
	o->raw = b->p;
	o->rawlen = b->len;
	o->n = count;
}

/* inner appends the elements of a JSON array text, without its brackets. */
static size_t
inner(struct buf *b, const char *raw, size_t len)
{
	size_t i = 0, j = len;

	while (i < j && raw[i] != '[')
		i++;
	while (j > i && raw[j - 1] != ']')
		j--;
	i++;
	j--;
	while (i < j && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r'))
		i++;
	while (j > i && (raw[j - 1] == ' ' || raw[j - 1] == '\t' || raw[j - 1] == '\n' || raw[j - 1] == '\r'))
		j--;
	if (j > i)
		buf_add(b, raw + i, j - i);
	return j - i;
}

/*
 * split_str builds the JSON array of the pieces of s between the
 * occurrences of sep, as jq's split/1: "" gives [], an empty separator
 * gives the characters.
 */
static void
split_str(struct node *n, const char *s, size_t len, const char *sep, size_t seplen, struct rec_val *o)
{
	struct buf *b = outbuf(n, s);
	size_t i = 0, count = 0;
	const char *hit;

	buf_addc(b, '[');
	while (i < len) {
		size_t end;

		if (seplen == 0) {
			end = i + 1;
			while (end < len && ((unsigned char)s[end] & 0xC0) == 0x80)
				end++;
		} else {
			hit = memmem(s + i, len - i, sep, seplen);
			end = hit != NULL ? (size_t)(hit - s) : len;
		}
		if (count++ > 0)
			buf_addc(b, ',');
		jw_str(b, s + i, end - i);
		if (seplen == 0) {
			i = end;
			continue;
		}
		if (end + seplen == len) {
			buf_adds(b, ",\"\"");
			count++;
		}
		i = end + seplen;
	}
	buf_addc(b, ']');
	set_container(o, RT_ARRAY, b, count);
}

/* int_arith does + - * / on two integers when the result is an exact int64; returns whether it did. */
static bool
int_arith(enum op op, int64_t a, int64_t b, struct rec_val *o)
{
	int64_t r;

	switch (op) {
	case X_ADD:
		if (__builtin_add_overflow(a, b, &r))
			return false;
		break;
	case X_SUB:
		if (__builtin_sub_overflow(a, b, &r))
			return false;
		break;
	case X_MUL:
		if (__builtin_mul_overflow(a, b, &r))
			return false;
		if (r == 0 && (a < 0 || b < 0) && !(a < 0 && b < 0)) {
			set_real(o, -0.0);	/* as jq's doubles: 0 * -3 is -0 */
			return true;
		}
		break;
	case X_DIV:
		if (b == 0 || (a == INT64_MIN && b == -1) || a % b != 0)
			return false;
		r = a / b;
		break;
	default:
		return false;
	}
	set_int(o, r);
	return true;
}

/* to_int64 truncates a number for %, as jq does; false when it is out of range. */
static bool
to_int64(const struct rec_val *v, int64_t *out)
{
	if (v->type == RT_INT) {
		*out = v->i;
		return true;
	}
	if (!isfinite(v->d) || v->d <= -9223372036854775808.0 || v->d >= 9223372036854775808.0)
		return false;
	*out = (int64_t)v->d;
	return true;
}

static void
num_arith(struct expr *x, enum op op, const struct rec_val *a, const struct rec_val *b, struct rec_val *o)
{
	double p, q;
	int64_t m, k;

	if (a->type == RT_INT && b->type == RT_INT && op != X_MOD && int_arith(op, a->i, b->i, o))
		return;
	p = a->type == RT_INT ? (double)a->i : a->d;
	q = b->type == RT_INT ? (double)b->i : b->d;
	switch (op) {
	case X_ADD: set_real(o, p + q); return;
	case X_SUB: set_real(o, p - q); return;
	case X_MUL: set_real(o, p * q); return;
	case X_DIV:
		if (q == 0)
			break;
		set_real(o, p / q);
		return;
	default:
		/* As in jq, both sides of % are truncated to integers. */
		if (!to_int64(a, &m) || !to_int64(b, &k)) {
			set_null(o);
			return;
		}
		if (k == 0)
			break;
		set_int(o, k == -1 ? 0 : m % k);
		return;
	}
	pair_fail(x, a, b, "cannot be divided because the divisor is zero");
	set_null(o);
}

/*
 * repeat is jq's string times number: the string repeated, a count below
 * 1 rounding up to one copy, and null for a count of 0 or less.  A result
 * past EXPR_MAX_STRING bytes is an error rather than a gigabyte.
 */
#define EXPR_MAX_STRING	(64u << 20)

static void
repeat(struct expr *x, struct node *n, const struct rec_val *str, const struct rec_val *num, struct rec_val *o)
{
	double d = num->type == RT_INT ? (double)num->i : num->d, copies;
	struct buf *out;

	if (!(d > 0)) {
		set_null(o);
		return;
	}
	copies = d < 2 ? 1 : floor(d - 1) + 1;
	if (copies * (double)str->slen > EXPR_MAX_STRING) {
		ev_fail(x, 1, "string repeated %.0f times is longer than %u bytes", copies, EXPR_MAX_STRING);
		set_null(o);
		return;
	}
	out = outbuf(n, str->s);
	for (; copies > 0; copies--)
		buf_add(out, str->s, str->slen);
	set_str(o, out->p ? out->p : "", out->len);
}

static bool
isnull(const struct rec_val *v)
{
	return v->type == RT_NULL || v->type == RT_MISSING;
}

/*
 * arith combines two values as jq does: numbers; + also adds null (the
 * other side), strings and arrays; / splits a string by a string.
 * Anything else is jq's error, and null.
 */
static void
arith(struct expr *x, struct node *n, enum op op, const struct rec_val *a, const struct rec_val *b,
    struct rec_val *o)
{
	static const char *const verb[] = { "cannot be added", "cannot be subtracted",
	    "cannot be multiplied", "cannot be divided", "cannot be divided" };
	struct buf *out;

	if (isnum(a) && isnum(b)) {
		num_arith(x, op, a, b, o);
		return;
	}
	if (op == X_ADD && isnull(a)) {
		*o = isnull(b) ? (struct rec_val){ .type = RT_NULL } : *b;
		return;
	}
	if (op == X_ADD && isnull(b)) {
		*o = *a;
		return;
	}
	if (op == X_ADD && a->type == RT_STRING && b->type == RT_STRING) {
		out = outbuf(n, a->s);
		buf_add(out, a->s, a->slen);
		buf_add(out, b->s, b->slen);
		set_str(o, out->p ? out->p : "", out->len);
		return;
	}
	if (op == X_ADD && a->type == RT_ARRAY && b->type == RT_ARRAY) {
		size_t k;

		out = outbuf(n, a->raw);
		buf_addc(out, '[');
		k = inner(out, a->raw, a->rawlen);
		if (k > 0 && b->n > 0)
			buf_addc(out, ',');
		inner(out, b->raw, b->rawlen);
		buf_addc(out, ']');
		set_container(o, RT_ARRAY, out, a->n + b->n);
		return;
	}
	if (op == X_DIV && a->type == RT_STRING && b->type == RT_STRING) {
		split_str(n, a->s, a->slen, b->s, b->slen, o);
		return;
	}
	if (op == X_MUL && ((a->type == RT_STRING && isnum(b)) || (isnum(a) && b->type == RT_STRING))) {
		repeat(x, n, a->type == RT_STRING ? a : b, a->type == RT_STRING ? b : a, o);
		return;
	}
	pair_fail(x, a, b, verb[op - X_ADD]);
	set_null(o);
}

/* compact appends a JSON text without its insignificant whitespace. */
static void
compact(struct buf *out, const char *s, size_t n)
{
	size_t i;
	int instr = 0;

	for (i = 0; i < n; i++) {
		char c = s[i];
		if (instr) {
			buf_addc(out, c);
			if (c == '\\' && i + 1 < n)
				buf_addc(out, s[++i]);
			else if (c == '"')
				instr = 0;
		} else if (c == '"') {
			instr = 1;
			buf_addc(out, c);
		} else if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			buf_addc(out, c);
	}
}

static void
tostring(struct node *n, const struct rec_val *a, struct rec_val *o)
{
	struct buf *b = &n->scratch;

	buf_reset(b);
	switch (a->type) {
	case RT_STRING:
		*o = *a;
		return;
	case RT_INT:
		jw_int(b, a->i);
		break;
	case RT_REAL:
		num_json(b, a->d);
		break;
	case RT_BOOL:
		buf_adds(b, a->b ? "true" : "false");
		break;
	case RT_ARRAY:
	case RT_OBJECT:
		compact(b, a->raw, a->rawlen);
		break;
	default:
		buf_adds(b, "null");
		break;
	}
	set_str(o, b->p ? b->p : "", b->len);
}

static void
changecase(struct expr *x, struct node *n, const struct rec_val *a, struct rec_val *o, int upper)
{
	size_t i;
	struct buf *b = &n->scratch;

	if (a->type != RT_STRING) {
		type_fail(x, a, "cannot be case-converted, as it is not a string");
		set_null(o);
		return;
	}
	for (i = 0; i < a->slen; i++)
		if (upper ? (a->s[i] >= 'a' && a->s[i] <= 'z') : (a->s[i] >= 'A' && a->s[i] <= 'Z'))
			break;
	if (i == a->slen) {
		*o = *a;
		return;
	}
	buf_reset(b);
	buf_add(b, a->s, a->slen);
	for (; i < b->len; i++) {
		if (upper && b->p[i] >= 'a' && b->p[i] <= 'z')
			b->p[i] = (char)(b->p[i] - 'a' + 'A');
		else if (!upper && b->p[i] >= 'A' && b->p[i] <= 'Z')
			b->p[i] = (char)(b->p[i] - 'A' + 'a');
	}
	set_str(o, b->p, b->len);
}

/* ---------------------------------------------------------------- regex */

/* rx_run runs n's regex on s from start; 1 match, 0 none, -1 the match limit (noted in x). */
static int
rx_run(struct expr *x, struct node *n, const char *s, size_t len, size_t start, bool notempty)
{
	char why[160];
	int rc = rx_exec(n->rx, s, len, start, notempty, why, sizeof why);

	if (rc < 0)
		ev_fail(x, 2, "%s", why);
	return rc;
}

/*
 * rx_next finds the next match for a global scan at *pos, the way every
 * regex engine steps past an empty match: first a non-empty one at the
 * same place, else the search resumes one character on.  With the flag n
 * empty matches are skipped.  Returns as rx_run; on a match *pos is where
 * the next search starts and *empty whether it must not be empty there.
 */
static int
rx_next(struct expr *x, struct node *n, const char *s, size_t len, size_t *pos, bool *empty)
{
	size_t so, eo;
	int rc;

	for (;;) {
		if (*pos > len)
			return 0;
		rc = rx_run(x, n, s, len, *pos, *empty);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			if (!*empty || *pos >= len)
				return 0;
			/* No non-empty match here: one character on. */
			(*pos)++;
			while (*pos < len && ((unsigned char)s[*pos] & 0xC0) == 0x80)
				(*pos)++;
			*empty = false;
			continue;
		}
		rx_group(n->rx, 0, &so, &eo);
		if (so == eo && (rx_flags(n->rx) & RX_NOEMPTY)) {
			*pos = so;
			*empty = true;
			continue;
		}
		*pos = eo;
		*empty = so == eo;
		return 1;
	}
}

static bool
regex_input(struct expr *x, struct node *n, const struct rec_val *a, struct rec_val *o)
{
	if (a->type == RT_STRING)
		return true;
	if (n->strict || n->op != X_MATCH)
		type_fail(x, a, "cannot be matched, as it is not a string");
	if (n->op == X_MATCH)
		set_bool(o, false);
	else
		set_null(o);
	return false;
}

/* cpos counts the characters in s[0..off), for jq's offsets. */
static size_t
cpos(const char *s, size_t off)
{
	size_t i, n = 0;

	for (i = 0; i < off; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/* add_match appends the object jq's match gives for the last match. */
static void
add_match(struct buf *b, const struct rx *re, const char *s)
{
	size_t so, eo;
	uint32_t i, ng = rx_ngroups(re);
	const char *name;

	rx_group(re, 0, &so, &eo);
	buf_adds(b, "{\"offset\":");
	jw_uint(b, cpos(s, so));
	buf_adds(b, ",\"length\":");
	jw_uint(b, cpos(s + so, eo - so));
	buf_adds(b, ",\"string\":");
	jw_str(b, s + so, eo - so);
	buf_adds(b, ",\"captures\":[");
	for (i = 1; i <= ng; i++) {
		if (i > 1)
			buf_addc(b, ',');
		if (rx_group(re, i, &so, &eo)) {
			buf_adds(b, "{\"offset\":");
			jw_uint(b, cpos(s, so));
			buf_adds(b, ",\"length\":");
			jw_uint(b, cpos(s + so, eo - so));
			buf_adds(b, ",\"string\":");
			jw_str(b, s + so, eo - so);
		} else
			buf_adds(b, "{\"offset\":-1,\"length\":0,\"string\":null");
		buf_adds(b, ",\"name\":");
		if ((name = rx_group_name(re, i)) != NULL)
			jw_cstr(b, name);
		else
			buf_adds(b, "null");
		buf_addc(b, '}');
	}
	buf_adds(b, "]}");
}

/* add_captures appends the object of the named groups of the last match; returns its size. */
static size_t
add_captures(struct buf *b, const struct rx *re, const char *s)
{
	size_t so, eo, count = 0;
	uint32_t i, ng = rx_ngroups(re);
	const char *name;

	buf_addc(b, '{');
	for (i = 1; i <= ng; i++) {
		if ((name = rx_group_name(re, i)) == NULL)
			continue;
		if (count++ > 0)
			buf_addc(b, ',');
		jw_cstr(b, name);
		buf_addc(b, ':');
		if (rx_group(re, i, &so, &eo))
			jw_str(b, s + so, eo - so);
		else
			buf_adds(b, "null");
	}
	buf_addc(b, '}');
	return count;
}

/* replacement evaluates sub's replacement for the last match into out (its "." the captures). */
static int
replacement(struct expr *x, struct node *n, struct rec *r, const char *s, struct buf *out)
{
	struct rec_val v;
	char d[40];

	if (n->b->op != X_CONST) {
		size_t k;

		buf_reset(&n->vbuf);
		k = add_captures(&n->vbuf, n->rx, s);
		set_container(&n->slot, RT_OBJECT, &n->vbuf, k);
	}
	ev(x, n->b, r, &v);
	if (v.type != RT_STRING) {
		ev_fail(x, 1, "string and %s cannot be added (a replacement must be a string)",
		    describe(&v, d, sizeof d));
		return -1;
	}
	buf_add(out, v.s, v.slen);
	return 0;
}

/* regex_eval does test, match, capture, sub, gsub and the regex split on a string. */
static void
regex_eval(struct expr *x, struct node *n, struct rec *r, const struct rec_val *a, struct rec_val *o)
{
	struct buf *b;
	size_t pos = 0, last = 0, so, eo, count = 0;
	bool empty = false, global = n->op == X_SPLITRE || (n->op == X_RESUB && n->global);
	int rc;

	if (!regex_input(x, n, a, o))
		return;
	if (!global) {
		if ((rc = rx_run(x, n, a->s, a->slen, 0, false)) <= 0) {
			if (n->op == X_MATCH)
				set_bool(o, false);
			else if (n->op == X_RESUB && rc == 0)
				*o = *a;
			else
				set_null(o);
			return;
		}
		if (n->op == X_MATCH) {
			set_bool(o, true);
			return;
		}
	}
	b = outbuf(n, a->s);
	if (n->op == X_MATCHOBJ || n->op == X_CAPTURE) {
		if (n->op == X_MATCHOBJ)
			add_match(b, n->rx, a->s);
		else
			count = add_captures(b, n->rx, a->s);
		set_container(o, RT_OBJECT, b, n->op == X_MATCHOBJ ? 4 : count);
		return;
	}
	if (n->op == X_SPLITRE)
		buf_addc(b, '[');
	for (;;) {
		if (global && (rc = rx_next(x, n, a->s, a->slen, &pos, &empty)) <= 0) {
			if (rc < 0) {
				set_null(o);
				return;
			}
			break;
		}
		rx_group(n->rx, 0, &so, &eo);
		if (n->op == X_SPLITRE) {
			if (count++ > 0)
				buf_addc(b, ',');
			jw_str(b, a->s + last, so - last);
		} else {
			buf_add(b, a->s + last, so - last);
			if (replacement(x, n, r, a->s, b) < 0) {
				set_null(o);
				return;
			}
		}
		last = eo;
		if (!global)
			break;
	}
	if (n->op == X_SPLITRE) {
		if (count++ > 0)
			buf_addc(b, ',');
		jw_str(b, a->s + last, a->slen - last);
		buf_addc(b, ']');
		set_container(o, RT_ARRAY, b, count);
		return;
	}
	buf_add(b, a->s + last, a->slen - last);
	set_str(o, b->p ? b->p : "", b->len);
}

static void
strfn(struct expr *x, enum op op, const struct rec_val *a, const struct rec_val *b, struct rec_val *o)
{
	static const char *const name[] = { "startswith", "endswith", "contains" };

	if (a->type != RT_STRING || b->type != RT_STRING) {
		if (op == X_CONTAINS)
			pair_fail(x, a, b, "cannot have their containment checked (only strings here)");
		else
			ev_fail(x, 1, "%s() requires string inputs", name[op - X_STARTS]);
		set_null(o);
		return;
	}
	if (b->slen > a->slen) {
		set_bool(o, false);
		return;
	}
	if (b->slen == 0) {
		set_bool(o, true);
		return;
	}
	switch (op) {
	case X_STARTS:
		set_bool(o, memcmp(a->s, b->s, b->slen) == 0);
		break;
	case X_ENDS:
		set_bool(o, memcmp(a->s + a->slen - b->slen, b->s, b->slen) == 0);
		break;
	default:
		set_bool(o, memmem(a->s, a->slen, b->s, b->slen) != NULL);
		break;
	}
}

/* trim is ltrimstr and rtrimstr: the input without the prefix or suffix b, else unchanged. */
static void
trim(enum op op, const struct rec_val *a, const struct rec_val *b, struct rec_val *o)
{
	*o = *a;
	if (a->type != RT_STRING || b->type != RT_STRING || b->slen > a->slen)
		return;
	if (op == X_LTRIM && memcmp(a->s, b->s, b->slen) == 0)
		set_str(o, a->s + b->slen, a->slen - b->slen);
	else if (op == X_RTRIM && memcmp(a->s + a->slen - b->slen, b->s, b->slen) == 0)
		set_str(o, a->s, a->slen - b->slen);
}

static void
length(struct expr *x, const struct rec_val *a, struct rec_val *o)
{
	size_t i, n = 0;

	switch (a->type) {
	case RT_STRING:
		for (i = 0; i < a->slen; i++)
			if (((unsigned char)a->s[i] & 0xC0) != 0x80)
				n++;
		set_int(o, (int64_t)n);
		break;
	case RT_ARRAY:
	case RT_OBJECT:
		set_int(o, (int64_t)a->n);
		break;
	case RT_INT:
		if (a->i == INT64_MIN)
			set_real(o, -(double)a->i);
		else
			set_int(o, a->i < 0 ? -a->i : a->i);
		break;
	case RT_REAL:
		set_real(o, fabs(a->d));
		break;
	case RT_BOOL:
		type_fail(x, a, "has no length");
		set_null(o);
		break;
	default:
		set_int(o, 0);
		break;
	}
}

/* set_whole sets a whole double: an integer when it fits exactly. */
static void
set_whole(struct rec_val *o, double d)
{
	if (d > -9007199254740992.0 && d < 9007199254740992.0 && !(d == 0 && signbit(d)))
		set_int(o, (int64_t)d);
	else
		set_real(o, d);
}

/* mathfn is floor, ceil, round (half away from zero), abs and sqrt of a number. */
static void
mathfn(struct expr *x, enum op op, const struct rec_val *a, struct rec_val *o)
{
	if (!isnum(a)) {
		type_fail(x, a, op == X_ABS ? "has no absolute value" : "number required");
		set_null(o);
		return;
	}
	if (a->type == RT_INT && op != X_SQRT) {
		if (op != X_ABS || a->i >= 0)
			*o = *a;
		else if (a->i == INT64_MIN)
			set_real(o, -(double)a->i);
		else
			set_int(o, -a->i);
		return;
	}
	switch (op) {
	case X_FLOOR: set_whole(o, floor(a->d)); break;
	case X_CEIL: set_whole(o, ceil(a->d)); break;
	case X_ROUND: set_whole(o, round(a->d)); break;
	case X_ABS: set_real(o, fabs(a->d)); break;
	default: set_real(o, sqrt(a->d)); break;
	}
}

/*
 * epoch reads a time for todate and strftime: a number of seconds since
 * the epoch (truncated, as jq does) or an ISO 8601 string.  Returns 0 and
 * the broken-down UTC time, or -1 after noting why.
 */
static int
epoch(struct expr *x, const struct rec_val *a, const char *fn, struct tm *tm)
{
	static const struct tv_format iso = { TV_ISO, NULL };
	int64_t us;
	time_t t;
	const char *why;

	if (isnum(a)) {
		double d = a->type == RT_INT ? (double)a->i : a->d;

		if (!(d > -1e13 && d < 1e13)) {
			type_fail(x, a, "is out of range for a time");
			return -1;
		}
		t = (time_t)d;
	} else if (a->type == RT_STRING) {
		if (tv_parse(&iso, a->s, a->slen, &us, &why) != 0) {
			ev_fail(x, 1, "%s: \"%.*s\" is not a time: %s", fn, a->slen > 40 ? 40 : (int)a->slen,
			    a->s, why);
			return -1;
		}
		t = (time_t)tv_floor_div(us, TV_US_PER_S);
	} else {
		ev_fail(x, 1, "%s requires a number (epoch seconds) or an ISO 8601 string", fn);
		return -1;
	}
	if (gmtime_r(&t, tm) == NULL) {
		type_fail(x, a, "is out of range for a time");
		return -1;
	}
	return 0;
}

static void
timefn(struct expr *x, struct node *n, const struct rec_val *a, const struct rec_val *f, struct rec_val *o)
{
	static const struct tv_format iso = { TV_ISO, NULL };
	const char *fmt = "%Y-%m-%dT%H:%M:%SZ", *why;
	struct tm tm;
	int64_t us;
	char out[512];
	size_t len;

	set_null(o);
	if (n->op == X_FROMDATE) {
		if (a->type != RT_STRING) {
			type_fail(x, a, "cannot be parsed as a date: fromdate requires a string");
			return;
		}
		if (tv_parse(&iso, a->s, a->slen, &us, &why) != 0) {
			ev_fail(x, 1, "date \"%.*s\" is not an ISO 8601 time: %s",
			    a->slen > 40 ? 40 : (int)a->slen, a->s, why);
			return;
		}
		if (us % TV_US_PER_S == 0)
			set_int(o, us / TV_US_PER_S);
		else
			set_real(o, (double)us / 1e6);
		return;
	}
	if (n->op == X_STRFTIME) {
		if (f->type != RT_STRING) {
			ev_fail(x, 1, "strftime requires a string format");
			return;
		}
		buf_reset(&n->scratch2);
		buf_add(&n->scratch2, f->s, f->slen);
		fmt = buf_cstr(&n->scratch2);
	}
	if (epoch(x, a, n->op == X_STRFTIME ? "strftime" : "todate", &tm) < 0)
		return;
	len = fmt[0] == '\0' ? 0 : strftime(out, sizeof out, fmt, &tm);
	if (len == 0 && fmt[0] != '\0') {
		ev_fail(x, 1, "strftime: the result is empty or longer than %zu bytes", sizeof out - 1);
		return;
	}
	buf_reset(&n->scratch);
	buf_add(&n->scratch, out, len);
	set_str(o, n->scratch.p ? n->scratch.p : "", len);
}

/* vpath runs a path on a computed value: a container is parsed into the node's own record. */
static void
vpath(struct expr *x, struct node *n, const struct rec_val *a, struct rec_val *o)
{
	if (a->type == RT_ARRAY || a->type == RT_OBJECT) {
		buf_reset(&n->vbuf);
		buf_adds(&n->vbuf, "{\"\":");
		buf_add(&n->vbuf, a->raw, a->rawlen);
		buf_addc(&n->vbuf, '}');
		if (n->vr == NULL)
			n->vr = rec_new();
		if (rec_parse(n->vr, n->vbuf.p, n->vbuf.len, NULL) == 0) {
			rec_get(n->vr, n->path, o);
			return;
		}
	} else if (!isnull(a))
		type_fail(x, a, "cannot be indexed");
	memset(o, 0, sizeof *o);
	o->type = RT_MISSING;
}

/* alt is A // B // C: the first value that is neither false nor null, else the last; errors are errors, as in jq 1.6. */
static void
alt(struct expr *x, struct node *n, struct rec *r, struct rec_val *o)
{
	size_t i;

	for (i = 0; i + 1 < n->nkid; i++) {
		ev(x, n->kid[i], r, o);
		if (truthy(o))
			return;
	}
	ev(x, n->kid[i], r, o);
}

static void
ev_if(struct expr *x, struct node *n, struct rec *r, struct rec_val *o)
{
	struct rec_val c;
	size_t i;

	for (i = 0; i + 1 < n->nkid; i += 2) {
		ev(x, n->kid[i], r, &c);
		if (truthy(&c)) {
			ev(x, n->kid[i + 1], r, o);
			return;
		}
	}
	ev(x, n->b, r, o);
}

static void
ev_tonumber(struct expr *x, const struct rec_val *a, struct rec_val *o)
{
	if (isnum(a)) {
		*o = *a;
		return;
	}
	if (a->type != RT_STRING) {
		type_fail(x, a, "cannot be parsed as a number");
		set_null(o);
	} else if (rec_number(a->s, a->slen, o) == RT_MISSING) {
		ev_fail(x, 1, "cannot parse '%.*s' as a number", a->slen > 40 ? 40 : (int)a->slen, a->s);
		set_null(o);
	} else {
		/* A computed value has no bytes of its own, as set_int and set_real make it. */
		o->raw = NULL;
		o->rawlen = 0;
	}
}

/* ev_fn evaluates the functions of one input (and one argument). */
static void
ev_fn(struct expr *x, struct node *n, struct rec *r, struct rec_val *o)
{
	struct rec_val a, b;

	ev(x, n->a, r, &a);
	switch (n->op) {
	case X_EXISTS:
		set_bool(o, a.type != RT_MISSING);
		return;
	case X_LENGTH:
		length(x, &a, o);
		return;
	case X_LOWER:
	case X_UPPER:
		changecase(x, n, &a, o, n->op == X_UPPER);
		return;
	case X_TONUMBER:
		ev_tonumber(x, &a, o);
		return;
	case X_TOSTRING:
		tostring(n, &a, o);
		return;
	case X_FLOOR: case X_CEIL: case X_ROUND: case X_ABS: case X_SQRT:
		mathfn(x, n->op, &a, o);
		return;
	case X_TYPE:
		set_str(o, jq_type(&a), strlen(jq_type(&a)));
		return;
	case X_TODATE: case X_FROMDATE:
		timefn(x, n, &a, NULL, o);
		return;
	case X_MATCH: case X_MATCHOBJ: case X_CAPTURE: case X_RESUB: case X_SPLITRE:
		regex_eval(x, n, r, &a, o);
		return;
	case X_VPATH:
		vpath(x, n, &a, o);
		return;
	default:
		break;
	}
	ev(x, n->b, r, &b);
	switch (n->op) {
	case X_STARTS: case X_ENDS: case X_CONTAINS:
		strfn(x, n->op, &a, &b, o);
		return;
	case X_LTRIM: case X_RTRIM:
		trim(n->op, &a, &b, o);
		return;
	case X_STRFTIME:
		timefn(x, n, &a, &b, o);
		return;
	case X_SPLIT:
		if (a.type != RT_STRING || b.type != RT_STRING) {
			ev_fail(x, 1, "split input and separator must be strings");
			set_null(o);
			return;
		}
		split_str(n, a.s, a.slen, b.s, b.slen, o);
		return;
	default:
		set_null(o);
		return;
	}
}

static void
ev(struct expr *x, struct node *n, struct rec *r, struct rec_val *o)
{
	struct rec_val a, b, c2;
	size_t i;
	int c;

	switch (n->op) {
	case X_CONST:
		*o = n->k;
		return;
	case X_PATH:
		rec_get(r, n->path, o);
		return;
	case X_ROOT:
		rec_root(r, o);
		return;
	case X_INPUT:
		*o = n->pipe->slot;
		return;
	case X_PIPE:
		ev(x, n->kid[0], r, &n->slot);
		for (i = 1; i < n->nkid; i++) {
			ev(x, n->kid[i], r, &a);
			n->slot = a;
		}
		*o = n->slot;
		return;
	case X_OR:
	case X_AND:
		/* Short-circuit: the first operand that decides the chain ends it. */
		for (i = 0; i < n->nkid; i++) {
			ev(x, n->kid[i], r, &a);
			if (truthy(&a) == (n->op == X_OR)) {
				set_bool(o, n->op == X_OR);
				return;
			}
		}
		set_bool(o, n->op == X_AND);
		return;
	case X_ALT:
		alt(x, n, r, o);
		return;
	case X_IF:
		ev_if(x, n, r, o);
		return;
	case X_ARITH:
		ev(x, n->kid[0], r, &a);
		for (i = 1; i < n->nkid; i++) {
			ev(x, n->kid[i], r, &b);
			arith(x, n, n->kop[i], &a, &b, &c2);
			a = c2;
		}
		*o = a;
		return;
	case X_NOT:
		ev(x, n->a, r, &a);
		set_bool(o, !truthy(&a));
		return;
	case X_EQ:
	case X_NE:
		ev(x, n->a, r, &a);
		ev(x, n->b, r, &b);
		set_bool(o, equal(x, r, &a, &b) == (n->op == X_EQ));
		return;
	case X_LT:
	case X_LE:
	case X_GT:
	case X_GE:
		ev(x, n->a, r, &a);
		ev(x, n->b, r, &b);
		if (!order(&a, &b, &c))
			set_bool(o, false);
		else
			set_bool(o, n->op == X_LT ? c < 0 : n->op == X_LE ? c <= 0 :
			    n->op == X_GT ? c > 0 : c >= 0);
		return;
	case X_IN:
		ev(x, n->a, r, &a);
		for (i = 0; i < n->nset; i++)
			if (equal(x, r, &a, &n->set[i]->k)) {
				set_bool(o, true);
				return;
			}
		set_bool(o, false);
		return;
	case X_NEG:
		ev(x, n->a, r, &a);
		if (a.type == RT_INT && a.i != INT64_MIN)
			set_int(o, -a.i);
		else if (isnum(&a))
			set_real(o, -a.d);
		else {
			type_fail(x, &a, "cannot be negated");
			set_null(o);
		}
		return;
	case X_ADD:
	case X_SUB:
	case X_MUL:
	case X_DIV:
	case X_MOD:
		break;	/* operators inside an X_ARITH chain, never a node's own */
	default:
		ev_fn(x, n, r, o);
		return;
	}
	set_null(o);
}

bool
expr_test(struct expr *x, struct rec *r)
{
	struct rec_val v;

	x->err = 0;
	ev(x, x->root, r, &v);
	return truthy(&v);
}

/* ------------------------------------------ one path, looked up by the caller */

/*
 * single_cmp returns the expression's root when it is one comparison of
 * a path with a constant (either side), with the path side in *pside
 * (0: a, 1: b); NULL otherwise.
 */
static const struct node *
single_cmp(const struct expr *x, int *pside)
{
	const struct node *n = x->root;

	switch (n->op) {
	case X_EQ: case X_NE: case X_LT: case X_LE: case X_GT: case X_GE:
		break;
	default:
		return NULL;
	}
	if (n->a == NULL || n->b == NULL)
		return NULL;
	if (n->a->op == X_PATH && n->b->op == X_CONST)
		*pside = 0;
	else if (n->a->op == X_CONST && n->b->op == X_PATH)
		*pside = 1;
	else
		return NULL;
	return n;
}

const struct rec_path *
expr_one_path(const struct expr *x)
{
	const struct node *n;
	int side;

	if (x->root->op == X_EXISTS && x->root->a != NULL && x->root->a->op == X_PATH)
		return x->root->a->path;
	if ((n = single_cmp(x, &side)) == NULL)
		return NULL;
	return side == 0 ? n->a->path : n->b->path;
}

bool
expr_test_one(struct expr *x, struct rec *r, const struct rec_val *v)
{
	const struct node *n;
	const struct rec_val *a, *b;
	int side = 0, c;

	if (x->root->op == X_EXISTS)
		return v->type != RT_MISSING;
	n = single_cmp(x, &side);
	a = side == 0 ? v : &n->a->k;
	b = side == 0 ? &n->b->k : v;
	if (n->op == X_EQ || n->op == X_NE)
		return equal(x, r, a, b) == (n->op == X_EQ);
	if (!order(a, b, &c))
		return false;
	return n->op == X_LT ? c < 0 : n->op == X_LE ? c <= 0 : n->op == X_GT ? c > 0 : c >= 0;
}

int
expr_eval(struct expr *x, struct rec *r, struct buf *out, const char **why)
{
	struct rec_val v;

	x->err = 0;
	ev(x, x->root, r, &v);
	if (x->err == 0 && v.type == RT_STRING && v.raw == NULL && has_nul(v.s, v.slen))
		ev_fail(x, 1, "a string holding NUL (\\u0000) cannot be written: records cannot hold it");
	if (x->err == 0 && (v.type == RT_ARRAY || v.type == RT_OBJECT)) {
		/* A container built here may hold a string with NUL (from a literal): read it back as a record would. */
		if (x->chk == NULL)
			x->chk = rec_new();
		buf_reset(&x->cbuf);
		buf_adds(&x->cbuf, "{\"\":");
		value_json(&v, &x->cbuf);
		buf_addc(&x->cbuf, '}');
		if (rec_parse(x->chk, x->cbuf.p, x->cbuf.len, NULL) != 0)
			ev_fail(x, 1, "the value cannot be written as a record's field (a string holding NUL?)");
	}
	if (x->err != 0) {
		*why = x->why;
		return -1;
	}
	value_json(&v, out);
	return 0;
}

const char *
expr_limit(const struct expr *x)
{
	return x->err == 2 ? x->why : NULL;
}

/* reads reports whether a node may read the top-level key k. */
static bool
reads(const struct node *n, const char *k, size_t klen)
{
	const char *top;
	size_t i, tlen;

	if (n == NULL)
		return false;
	if (n->op == X_ROOT)
		return true;
	if (n->op == X_PATH) {
		top = rec_path_top(n->path, &tlen);
		/* Conservative: a path naming the key anywhere (a flat "a.b" name) counts. */
		if (top == NULL || (tlen == klen && memcmp(top, k, klen) == 0) ||
		    (klen > 0 && memmem(n->str, strlen(n->str), k, klen) != NULL))
			return true;
	}
	if (reads(n->a, k, klen) || reads(n->b, k, klen))
		return true;
	for (i = 0; i < n->nkid; i++)
		if (reads(n->kid[i], k, klen))
			return true;
	return false;
}

bool
expr_reads(const struct expr *x, const char *key, size_t keylen)
{
	return reads(x->root, key, keylen);
}
