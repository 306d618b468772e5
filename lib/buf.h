/* buf: a growable byte buffer and the JSON value writers every tool uses to build output. */
#ifndef NDFLOW_BUF_H
#define NDFLOW_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	char	*p;	/* bytes; not NUL-terminated unless buf_cstr() was called */
	size_t	 len;
	size_t	 cap;
};

#define BUF_INIT { NULL, 0, 0 }

/*
 * buf_reserve makes room for n more bytes.  It aborts the process on
 * allocation failure (like xmalloc): there is no sensible recovery in a
 * filter, and every caller would otherwise need the same check.
 */
void	 buf_reserve(struct buf *, size_t n);
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_addc(struct buf *, char);
void	 buf_adds(struct buf *, const char *);	/* NUL-terminated */
/* buf_cstr NUL-terminates the contents (not counted in len) and returns them. */
char	*buf_cstr(struct buf *);
static inline void buf_reset(struct buf *b) { b->len = 0; }

/* hex_digit returns the value of hex digit c (either case), or -1. */
static inline int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
void	 buf_free(struct buf *);

/* xmalloc and friends abort with a message on failure. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);

/*
 * JSON writers.  Each appends one JSON value to the buffer.
 * jw_str escapes the bytes as a JSON string; bytes that are not valid UTF-8
 * are written as U+FFFD (use jw_b64 to keep them exactly).
 * jw_real writes the shortest decimal that reads back as the same double
 * (0.1, not 0.10000000000000001); NaN and infinities are written as null.
 * jw_time writes an RFC 3339 UTC string (see timeval.h).
 */
void	 jw_str(struct buf *, const char *, size_t);
void	 jw_cstr(struct buf *, const char *);
void	 jw_int(struct buf *, int64_t);
void	 jw_uint(struct buf *, uint64_t);
void	 jw_real(struct buf *, double);
void	 jw_time(struct buf *, int64_t us);
/* jw_b64 appends the standard base64 of the bytes as a JSON string. */
void	 jw_b64(struct buf *, const void *, size_t);
/*
 * b64_decode decodes standard base64 (the text of a jw_b64 string) into
 * out, which has room for at least len * 3 / 4 bytes.  Returns the number
 * of bytes, or -1 when s holds a byte that is not base64.
 */
long	 b64_decode(const char *s, size_t len, uint8_t *out);

/* utf8_valid reports whether the bytes are well-formed UTF-8 (no overlongs, no surrogates). */
int	 utf8_valid(const char *, size_t);

/*
 * real_shortest writes the shortest decimal form of d that reads back as d
 * into out (at least 48 bytes); plain notation between 1e-6 and 1e17,
 * exponent notation outside; a whole number keeps ".0".  Returns its length.
 */
size_t	 real_shortest(char *out, double d);

/*
 * why_fail writes a reason into the caller's buffer why (whylen bytes,
 * printf-style) and returns -1: the one way lib/ modules that return a
 * code and a reason the caller owns say why they failed.
 */
int	 why_fail(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
