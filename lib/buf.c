/* buf: a growable byte buffer and the JSON value writers every tool uses to build output. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "timeval.h"

static void
oom(void)
{
	fputs("ndflow: out of memory\n", stderr);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
buf_reserve(struct buf *b, size_t n)
{
	size_t cap;

	if (b->cap - b->len > n)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len <= n) {
		if (cap > SIZE_MAX / 2)
			oom();
		cap *= 2;
	}
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	buf_reserve(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void
buf_addc(struct buf *b, char c)
{
	buf_reserve(b, 1);
	b->p[b->len++] = c;
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

char *
buf_cstr(struct buf *b)
{
	buf_reserve(b, 1);
	b->p[b->len] = '\0';
	return b->p;
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/*
 * utf8_seq returns the length of the well-formed UTF-8 sequence at s
 * (1 to 4), or 0 when the bytes there are not one.
 */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if (c < 0xC2 || c > 0xF4)
		return 0;
	if (c < 0xE0) {
		if (n < 2 || (s[1] & 0xC0) != 0x80)
			return 0;
		return 2;
	}
	if (c < 0xF0) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[1] < 0xA0)
			return 0;	/* overlong */
		if (c == 0xED && s[1] >= 0xA0)
			return 0;	/* surrogate */
		return 3;
	}
	if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
	    (s[3] & 0xC0) != 0x80)
		return 0;
	if (c == 0xF0 && s[1] < 0x90)
		return 0;	/* overlong */
	if (c == 0xF4 && s[1] >= 0x90)
		return 0;	/* past U+10FFFF */
	return 4;
}

int
utf8_valid(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0, k;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = utf8_seq(s + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

static const char hexd[] = "0123456789abcdef";

void
jw_str(struct buf *b, const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0, run, k;

	buf_reserve(b, n + 2);
	b->p[b->len++] = '"';
	while (i < n) {
		/* Copy the longest run that needs no escaping in one go. */
		run = i;
		while (run < n && s[run] >= 0x20 && s[run] != '"' && s[run] != '\\' &&
		    s[run] < 0x80)
			run++;
		buf_add(b, s + i, run - i);
		i = run;
		if (i >= n)
			break;
		if (s[i] >= 0x80) {
			if ((k = utf8_seq(s + i, n - i)) == 0) {
				buf_add(b, "\xEF\xBF\xBD", 3);
				i++;
			} else {
				buf_add(b, s + i, k);
				i += k;
			}
			continue;
		}
		switch (s[i]) {
		case '"':  buf_add(b, "\\\"", 2); break;
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		case '\b': buf_add(b, "\\b", 2); break;
		case '\f': buf_add(b, "\\f", 2); break;
		default: {
			char e[6] = { '\\', 'u', '0', '0', hexd[s[i] >> 4], hexd[s[i] & 15] };
			buf_add(b, e, 6);
		}
		}
		i++;
	}
	buf_addc(b, '"');
}

void
jw_cstr(struct buf *b, const char *s)
{
	jw_str(b, s, strlen(s));
}

void
jw_int(struct buf *b, int64_t v)
{
	char t[24];
	int n = snprintf(t, sizeof t, "%lld", (long long)v);
	buf_add(b, t, (size_t)n);
}

void
jw_uint(struct buf *b, uint64_t v)
{
	char t[24];
	int n = snprintf(t, sizeof t, "%llu", (unsigned long long)v);
	buf_add(b, t, (size_t)n);
}

size_t
real_shortest(char *out, double d)
{
	int prec, n = 0;

	if (!isfinite(d)) {
		memcpy(out, "null", 5);
		return 4;
	}
	if (d == 0) {
		memcpy(out, signbit(d) ? "-0.0" : "0.0", signbit(d) ? 5 : 4);
		return signbit(d) ? 4 : 3;
	}
	/* The shortest precision that reads back as the same double. */
	for (prec = 1; prec <= 17; prec++) {
		n = snprintf(out, 32, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			break;
	}
	/*
	 * In the ordinary range write plain decimals, as jq and JavaScript do
	 * (117530, not 1.1753e+05): the fewest fraction digits that round-trip.
	 */
	if (strchr(out, 'e') != NULL && fabs(d) >= 1e-6 && fabs(d) < 1e17) {
		for (prec = 0; prec <= 24; prec++) {
			n = snprintf(out, 48, "%.*f", prec, d);
			if (strtod(out, NULL) == d)
				break;
		}
		if (prec > 24)
			n = snprintf(out, 48, "%.17g", d);
	}
	/* A whole number stays a real on output: 3.0, not 3 (jq prints 3; we keep the type). */
	if (strpbrk(out, ".eEn") == NULL) {
		memcpy(out + n, ".0", 3);
		n += 2;
	}
	return (size_t)n;
}

void
jw_real(struct buf *b, double d)
{
	char t[48];
	size_t n = real_shortest(t, d);
	buf_add(b, t, n);
}

void
jw_time(struct buf *b, int64_t us)
{
	char t[TV_BUFSZ];
	size_t n = tv_format_rfc3339(us, t);

	buf_reserve(b, n + 2);
	b->p[b->len++] = '"';
	buf_add(b, t, n);
	b->p[b->len++] = '"';
}

void
jw_b64(struct buf *b, const void *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = p;
	size_t i;
	char *o;

	buf_reserve(b, (n + 2) / 3 * 4 + 2);
	o = b->p + b->len;
	*o++ = '"';
	for (i = 0; i + 3 <= n; i += 3) {
		unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)s[i] << 16;
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = '=';
		*o++ = '=';
	} else if (n - i == 2) {
		unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8;
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = '=';
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
}

/* b64_decode decodes standard base64 into out (at least len*3/4 bytes); returns the length or -1. */
long
b64_decode(const char *s, size_t len, uint8_t *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t acc = 0;
	size_t i, n = 0;
	int bits = 0;
	const char *c;

	for (i = 0; i < len && s[i] != '='; i++) {
		if (s[i] == '\0' || (c = strchr(tab, s[i])) == NULL)
			return -1;
		acc = (acc << 6) | (uint32_t)(c - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return (long)n;
}

int
why_fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}
