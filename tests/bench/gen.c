/* gen: a seeded generator of web-analytics events shaped like DESIGN's running example. */
/*
 * Usage: gen N [SEED] [START_EPOCH_S]
 * Writes N NDJSON events: 1,000 users, 5 pages, 4 actions, 10,000
 * sessions, values 0-100 with two decimals, timestamps advancing by
 * 0-200 ms with up to 2 s of disorder.  The same arguments always give the
 * same bytes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t state;

static uint64_t
rnd(void)
{
	/* xorshift64*: small, fast and good enough for test data. */
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * UINT64_C(2685821657736338717);
}

static unsigned
below(unsigned n)
{
	return (unsigned)((rnd() >> 32) % n);
}

int
main(int argc, char *argv[])
{
	static const char *pages[] = { "home", "products", "cart", "checkout", "search" };
	static const char *actions[] = { "view", "click", "add_to_cart", "purchase" };
	long long n, i;
	int64_t t, ev;
	time_t secs;
	struct tm tm;
	char day[32];

	if (argc < 2) {
		fprintf(stderr, "usage: gen N [SEED] [START_EPOCH_S]\n");
		return 2;
	}
	n = atoll(argv[1]);
	state = argc > 2 ? strtoull(argv[2], NULL, 10) * 0x9E3779B97F4A7C15ULL + 1 : 42;
	t = (argc > 3 ? atoll(argv[3]) : 1710460800) * INT64_C(1000000);	/* 2024-03-15 */
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	for (i = 0; i < n; i++) {
		t += below(200000);
		ev = t - (below(10) == 0 ? below(2000000) : 0);
		secs = (time_t)(ev / 1000000);
		gmtime_r(&secs, &tm);
		strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
		printf("{\"user_id\":\"user_%u\",\"page\":\"%s\",\"action\":\"%s\","
		    "\"timestamp\":\"%s.%06d\",\"session_id\":\"session_%u\",\"value\":%u.%02u}\n",
		    below(1000) + 1, pages[below(5)], actions[below(4)], day,
		    (int)(ev % 1000000), below(10000) + 1, below(100), below(100));
	}
	return fflush(stdout) != 0;
}
