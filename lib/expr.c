/* expr: the filter language (a subset of jq's expressions), compiled once into a tree and evaluated against a record. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "expr.h"
#include "record.h"

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

/*
 * A POSIX regcomp expands a bounded repetition by copying its operand,
 * and its cost grows faster than the result: "a{1,32767}" takes 20 s and
 * 6 GB, "a{1,1000}{1,1000}" 8 GB, 40,000 nested groups overflow its
 * stack.  Patterns are measured before compiling and refused past these
 * limits, where a compile stays under about 0.1 s and 100 MB.
 */
#define RE_MAX_COUNT	1000	/* the largest count in {m,n} */
#define RE_MAX_SIZE	10000	/* elements once every repetition is expanded */
#define RE_MAX_GROUPS	100	/* nesting of (...) */
enum op {
	X_CONST, X_PATH, X_ROOT, X_INPUT, X_PIPE,
	X_OR, X_AND, X_NOT, X_ARITH,
	X_EQ, X_NE, X_LT, X_LE, X_GT, X_GE, X_MATCH, X_IN,
	X_ADD, X_SUB, X_MUL, X_DIV, X_MOD, X_NEG,
	X_EXISTS, X_LENGTH, X_LOWER, X_UPPER, X_STARTS, X_ENDS, X_CONTAINS,
	X_TONUMBER, X_TOSTRING
};

struct node {
	enum op		 op;
	struct node	*a, *b;
	struct rec_val	 k;		/* X_CONST */
	char		*str;		/* X_CONST string bytes; X_PATH spec */
	struct rec_path	*path;		/* X_PATH */
	regex_t		 re;		/* X_MATCH */
	bool		 has_re;
	struct node	**set;		/* X_IN: constants */
	size_t		 nset;
	struct node	*pipe;		/* X_INPUT: the pipe whose input this is */
	struct rec_val	 slot;		/* X_PIPE: the value of the stage before the one running */
	struct node	**kid;		/* X_OR, X_AND, X_ARITH, X_PIPE: the operands, in order */
	enum op		*kop;		/* X_ARITH: kop[i] combines the result so far with kid[i] (i > 0) */
	size_t		 nkid, capkid;
	struct buf	 scratch;	/* strings this node produces */
};

struct expr {
	char		*src;
	struct node	*root;
	struct buf	 ca, cb;	/* canonical forms for comparing arrays and objects */
};

/* ---------------------------------------------------------------- lexer */

enum tok {
	T_EOF, T_PATH, T_NUM, T_STR, T_IDENT,
	T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_MATCH,
	T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT,
	T_PIPE, T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_COMMA, T_SEMI
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

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
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
		if ((h = hexval((unsigned char)s[i])) < 0)
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
	{ "==", T_EQ }, { "!=", T_NE }, { "<=", T_LE }, { ">=", T_GE }, { "=~", T_MATCH },
	{ "<", T_LT }, { ">", T_GT }, { "+", T_PLUS }, { "-", T_MINUS }, { "*", T_STAR },
	{ "/", T_SLASH }, { "%", T_PERCENT }, { "|", T_PIPE }, { "(", T_LPAREN },
	{ ")", T_RPAREN }, { "[", T_LBRACK }, { "]", T_RBRACK }, { ",", T_COMMA }, { ";", T_SEMI },
};

/* Operators of other languages, refused with a hint. */
static const struct { const char *s; const char *msg; } foreign[] = {
	{ "&&", "use 'and' instead of '&&'" },
	{ "||", "use 'or' instead of '||'" },
	{ "//", "the alternative operator '//' is not supported" },
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
		/* "//" and "||" must not lex as two operators. */
		if (k < sizeof ops / sizeof ops[0] && !(s[i] == '/' && s[i + 1] == '/') &&
		    !(s[i] == '|' && s[i + 1] == '|')) {
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
	if (n->has_re)
		regfree(&n->re);
	buf_free(&n->scratch);
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
		return !is_kw(p, t, "and") && !is_kw(p, t, "or") && !is_kw(p, t, "in");
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
		/* Indexing a computed scalar: always null, as no expression builds containers. */
		n = mknode(X_CONST, NULL, NULL);
		n->k.type = RT_MISSING;
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

/* A group being measured by re_cost: the sizes of its finished branches, its current branch and the last atom in it. */
struct re_group {
	uint64_t	done, branch, last;
};

/* sat_add and sat_mul keep a size from wrapping: anything past RE_MAX_SIZE is simply too large. */
static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a + b > RE_MAX_SIZE ? RE_MAX_SIZE + 1 : a + b;
}

static uint64_t
sat_mul(uint64_t a, uint64_t b)
{
	return b != 0 && a > (RE_MAX_SIZE + 1) / b ? RE_MAX_SIZE + 1 : a * b;
}

/*
 * re_count reads the interval "{m}", "{m,}", "{m,n}" or "{,n}" at s[*i]
 * (the '{').  Returns 1 and moves *i past the '}' with the number of
 * copies regcomp makes of the operand in *copies (n, or m + 1 when
 * unbounded) and the largest count written in *count; 0 when the brace
 * does not open an interval (regcomp decides what it is).
 */
static int
re_count(const char *s, size_t len, size_t *i, uint64_t *copies, uint64_t *count)
{
	uint64_t v[2] = { 0, 0 };
	int have[2] = { 0, 0 }, k = 0;
	size_t j = *i + 1;

	for (; j < len; j++) {
		if (s[j] >= '0' && s[j] <= '9') {
			v[k] = v[k] > UINT32_MAX ? v[k] : v[k] * 10 + (uint64_t)(s[j] - '0');
			have[k] = 1;
		} else if (s[j] == ',' && k == 0)
			k = 1;
		else
			break;
	}
	if (j == len || s[j] != '}' || (!have[0] && !have[1]))
		return 0;
	*i = j + 1;
	*count = v[0] > v[1] ? v[0] : v[1];
	if (k == 0)
		*copies = v[0];
	else if (have[1])
		*copies = v[1] > v[0] ? v[1] : v[0];
	else
		*copies = v[0] + 1;
	if (*copies == 0)
		*copies = 1;
	return 1;
}

/*
 * re_cost measures a POSIX extended regular expression before regcomp
 * sees it: the number of elements once every repetition is expanded
 * (each atom 1, a group its contents plus 1, an interval multiplies its
 * operand by its upper count, '+' by 2 as regcomp copies it), the largest
 * interval count and the nesting of groups.
 * Returns NULL when the pattern is within the limits, else the reason,
 * written into why.
 */
static const char *
re_cost(const char *s, size_t len, char *why, size_t whysz)
{
	struct re_group st[RE_MAX_GROUPS + 1], *g = st;
	uint64_t copies, count;
	size_t i = 0, brace, stacked = 0;

	memset(g, 0, sizeof *g);
	while (i < len) {
		char c = s[i];

		if (c == '(') {
			if (g == st + RE_MAX_GROUPS) {
				snprintf(why, whysz, "groups nested more than %d deep", RE_MAX_GROUPS);
				return why;
			}
			memset(++g, 0, sizeof *g);
			i++;
			continue;
		}
		if (c == ')' && g > st) {
			uint64_t size = sat_add(sat_add(g->done, g->branch), 1);

			stacked = 0;
			g--;
			g->last = size;
			g->branch = sat_add(g->branch, size);
			i++;
			continue;
		}
		if (c == '|') {
			g->done = sat_add(g->done, g->branch);
			g->branch = g->last = 0;
			i++;
			continue;
		}
		/*
		 * Quantifiers stacked on one operand ("a+*+") mean no more than two
		 * would, yet regcomp's memory grows with each: 1.2 GB for "a+*" and
		 * twelve '+' (found by fuzzing).  More than two in a row are refused.
		 */
		if (c == '*' || c == '?' || c == '+' || (c == '{' && i + 1 < len && s[i + 1] >= '0' &&
		    s[i + 1] <= '9') || (c == '{' && i + 1 < len && s[i + 1] == ',')) {
			if (++stacked > 2) {
				snprintf(why, whysz, "more than two repetitions in a row at '%.*s'",
				    (int)(len - i > 20 ? 20 : len - i), s + i);
				return why;
			}
		} else if (c != ')')
			stacked = 0;
		if ((c == '{' && (brace = i, re_count(s, len, &i, &copies, &count))) || c == '+') {
			if (c == '{' && count > RE_MAX_COUNT) {
				snprintf(why, whysz, "repetition count over %d in '%.*s'", RE_MAX_COUNT,
				    (int)(i - brace > 40 ? 40 : i - brace), s + brace);
				return why;
			}
			/* regcomp reads "a+" as "aa*": two copies, so "a++++" is sixteen. */
			if (c == '+') {
				copies = 2;
				i++;
			}
			/* The operand is the last atom; a repeated repetition multiplies again. */
			g->branch -= g->last;
			g->last = sat_mul(g->last ? g->last : 1, copies);
			g->branch = sat_add(g->branch, g->last);
		} else if (c == '*' || c == '?') {
			i++;
			continue;	/* no copies: the operand is used once */
		} else {
			size_t j = i + 1;

			if (c == '\\' && j < len)
				j++;
			else if (c == '[') {
				/* A bracket expression: ']' first is literal, [:x:] [.x.] [=x=] nest. */
				if (j < len && s[j] == '^')
					j++;
				if (j < len && s[j] == ']')
					j++;
				while (j < len && s[j] != ']') {
					if (s[j] == '[' && j + 1 < len &&
					    (s[j + 1] == ':' || s[j + 1] == '.' || s[j + 1] == '=')) {
						char e = s[j + 1];

						j += 2;
						while (j + 1 < len && !(s[j] == e && s[j + 1] == ']'))
							j++;
						j += 2;
						continue;
					}
					j++;
				}
				if (j < len)
					j++;
			}
			g->last = 1;
			g->branch = sat_add(g->branch, 1);
			i = j;
		}
		if (sat_add(g->done, g->branch) > RE_MAX_SIZE)
			break;
	}
	/* Groups left open are regcomp's error to report; close them to total the size. */
	while (g > st) {
		uint64_t size = sat_add(sat_add(g->done, g->branch), 1);
		g--;
		g->branch = sat_add(g->branch, size);
	}
	if (sat_add(g->done, g->branch) > RE_MAX_SIZE) {
		snprintf(why, whysz, "too large (over %d elements once repetitions are expanded)",
		    RE_MAX_SIZE);
		return why;
	}
	return NULL;
}

/* regex compiles the string literal at the current token into n. */
static void
regex(struct parser *p, struct node *n, const char *what)
{
	struct token *t = cur(p);
	const char *why;
	char buf[100];
	int rc;

	if (t->t != T_STR) {
		fail(p, t->off, "expected a string literal (the regular expression) after %s", what);
		return;
	}
	if (has_nul(t->val, t->vlen)) {
		fail(p, t->off, "invalid regular expression: contains NUL");
		return;
	}
	p->pos++;
	if ((why = re_cost(t->val, t->vlen, buf, sizeof buf)) != NULL) {
		fail(p, t->off, "invalid regular expression: %s", why);
		return;
	}
	if ((rc = regcomp(&n->re, t->val, REG_EXTENDED | REG_NOSUB)) != 0) {
		char msg[100];
		regerror(rc, &n->re, msg, sizeof msg);
		fail(p, t->off, "invalid regular expression: %s", msg);
		return;
	}
	n->has_re = 1;
}

/* The built-in functions, one row each. */
enum fkind {
	F_FILTER,	/* applies to ".": "X | f", or f(X) for X | f */
	F_ARG,		/* applies to "." with one argument: "X | f(Y)" */
	F_REGEX,	/* test("re"): like =~ */
	F_PATH,		/* exists(PATH) */
	F_HAS,		/* has("key"): exists(."key") */
	F_IN		/* IN(lit, ...): "X | IN(...)" is "X in [...]" */
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
	char a[40];

	switch (f->kind) {
	case F_FILTER:
		n->a = parse_pipe(p);
		break;
	case F_ARG:
		n->a = dot(p, name->off);
		n->b = parse_pipe(p);
		break;
	case F_REGEX:
		n->a = dot(p, name->off);
		snprintf(a, sizeof a, "'%s('", f->name);
		regex(p, n, a);
		if (!p->failed && cur(p)->t == T_SEMI) {
			fail(p, cur(p)->off, "regular expression flags are not supported");
			return n;
		}
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
		regex(p, n, "'=~'");
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
	struct node *l = parse_or(p), *r, *ch = NULL;
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
			r = parse_or(p);
			node_free(l);
			l = r;
		} else {
			/* "A | B | C" is one pipe of three stages sharing one slot. */
			l = chain(l, &ch, X_PIPE);
			p->ctx_pipe = l;
			kid_add(l, X_PIPE, parse_or(p));
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

static void
arith(enum op op, const struct rec_val *a, const struct rec_val *b, struct rec_val *o)
{
	int64_t r;
	double x, y;

	if (!isnum(a) || !isnum(b)) {
		set_null(o);
		return;
	}
	if (a->type == RT_INT && b->type == RT_INT) {
		switch (op) {
		case X_ADD:
			if (!__builtin_add_overflow(a->i, b->i, &r)) {
				set_int(o, r);
				return;
			}
			break;
		case X_SUB:
			if (!__builtin_sub_overflow(a->i, b->i, &r)) {
				set_int(o, r);
				return;
			}
			break;
		case X_MUL:
			if (!__builtin_mul_overflow(a->i, b->i, &r)) {
				set_int(o, r);
				return;
			}
			break;
		case X_DIV:
			if (b->i == 0) {
				set_null(o);
				return;
			}
			if (!(a->i == INT64_MIN && b->i == -1) && a->i % b->i == 0) {
				set_int(o, a->i / b->i);
				return;
			}
			break;
		default:
			break;
		}
	}
	x = a->type == RT_INT ? (double)a->i : a->d;
	y = b->type == RT_INT ? (double)b->i : b->d;
	switch (op) {
	case X_ADD: set_real(o, x + y); break;
	case X_SUB: set_real(o, x - y); break;
	case X_MUL: set_real(o, x * y); break;
	case X_DIV:
		if (y == 0)
			set_null(o);
		else
			set_real(o, x / y);
		break;
	case X_MOD: {
		/* As in jq, both sides are truncated to integers. */
		int64_t m, n;

		if (a->type == RT_INT)
			m = a->i;
		else if (isfinite(x) && x > -9223372036854775808.0 && x < 9223372036854775808.0)
			m = (int64_t)x;
		else {
			set_null(o);
			return;
		}
		if (b->type == RT_INT)
			n = b->i;
		else if (isfinite(y) && y > -9223372036854775808.0 && y < 9223372036854775808.0)
			n = (int64_t)y;
		else {
			set_null(o);
			return;
		}
		if (n == 0)
			set_null(o);
		else if (n == -1)
			set_int(o, 0);
		else
			set_int(o, m % n);
		break;
	}
	default:
		set_null(o);
	}
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
		/* Whole numbers print without ".0", as jq prints them. */
		if (a->d == floor(a->d) && fabs(a->d) < 9007199254740992.0)
			jw_int(b, (int64_t)a->d);
		else
			jw_real(b, a->d);
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
changecase(struct node *n, const struct rec_val *a, struct rec_val *o, int upper)
{
	size_t i;
	struct buf *b = &n->scratch;

	if (a->type != RT_STRING) {
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

/*
 * match runs the regex on a string value.  The bytes are copied into the
 * node's scratch buffer to be NUL-terminated (views into a record need not
 * be); REG_STARTEND, where available, still lets a string holding a NUL
 * match on all its bytes.
 */
static bool
match(struct node *n, const struct rec_val *a)
{
	const char *s;

	if (a->type != RT_STRING)
		return false;
	buf_reset(&n->scratch);
	buf_add(&n->scratch, a->s, a->slen);
	s = buf_cstr(&n->scratch);
#ifdef REG_STARTEND
	regmatch_t m[1];
	m[0].rm_so = 0;
	m[0].rm_eo = (regoff_t)a->slen;
	return regexec(&n->re, s, 1, m, REG_STARTEND) == 0;
#else
	return regexec(&n->re, s, 0, NULL, 0) == 0;
#endif
}

static void
strfn(enum op op, const struct rec_val *a, const struct rec_val *b, struct rec_val *o)
{
	if (a->type != RT_STRING || b->type != RT_STRING) {
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

static void
length(const struct rec_val *a, struct rec_val *o)
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
		set_null(o);
		break;
	default:
		set_int(o, 0);
		break;
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
	case X_ARITH:
		ev(x, n->kid[0], r, &a);
		for (i = 1; i < n->nkid; i++) {
			ev(x, n->kid[i], r, &b);
			arith(n->kop[i], &a, &b, &c2);
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
	case X_MATCH:
		ev(x, n->a, r, &a);
		set_bool(o, match(n, &a));
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
		else
			set_null(o);
		return;
	case X_EXISTS:
		ev(x, n->a, r, &a);
		set_bool(o, a.type != RT_MISSING);
		return;
	case X_LENGTH:
		ev(x, n->a, r, &a);
		length(&a, o);
		return;
	case X_LOWER:
	case X_UPPER:
		ev(x, n->a, r, &a);
		changecase(n, &a, o, n->op == X_UPPER);
		return;
	case X_STARTS:
	case X_ENDS:
	case X_CONTAINS:
		ev(x, n->a, r, &a);
		ev(x, n->b, r, &b);
		strfn(n->op, &a, &b, o);
		return;
	case X_TONUMBER:
		ev(x, n->a, r, &a);
		if (isnum(&a))
			*o = a;
		else if (a.type != RT_STRING || rec_number(a.s, a.slen, o) == RT_MISSING)
			set_null(o);
		else {
			/* A computed value has no bytes of its own, as set_int and set_real make it. */
			o->raw = NULL;
			o->rawlen = 0;
		}
		return;
	case X_TOSTRING:
		ev(x, n->a, r, &a);
		tostring(n, &a, o);
		return;
	case X_ADD:
	case X_SUB:
	case X_MUL:
	case X_DIV:
	case X_MOD:
		break;	/* operators inside an X_ARITH chain, never a node's own */
	}
	set_null(o);
}

bool
expr_test(struct expr *x, struct rec *r)
{
	struct rec_val v;

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
