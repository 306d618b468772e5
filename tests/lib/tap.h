/* tap: a tiny TAP producer for the C unit tests of lib/ (one "ok N - name" line per check). */
#ifndef NDFLOW_TAP_H
#define NDFLOW_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

/* ok reports one check; name is printf-style. */
#define ok(cond, ...) do { \
	int ok_c_ = (cond) ? 1 : 0; \
	printf("%sok %d - ", ok_c_ ? "" : "not ", ++tap_n); \
	printf(__VA_ARGS__); \
	printf("\n"); \
	if (!ok_c_) { tap_failed++; printf("#   at %s:%d\n", __FILE__, __LINE__); } \
} while (0)

/* is_str compares two C strings (NULL-safe) and shows both when they differ. */
#define is_str(got, want, ...) do { \
	const char *g_ = (got), *w_ = (want); \
	int same_ = (g_ == NULL && w_ == NULL) || (g_ && w_ && strcmp(g_, w_) == 0); \
	ok(same_, __VA_ARGS__); \
	if (!same_) printf("#   got:  '%s'\n#   want: '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

#define is_int(got, want, ...) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	ok(g_ == w_, __VA_ARGS__); \
	if (g_ != w_) printf("#   got:  %lld\n#   want: %lld\n", g_, w_); \
} while (0)

static inline int tap_done(void) { printf("1..%d\n", tap_n); return tap_failed != 0; }

#endif
