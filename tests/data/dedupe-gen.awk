# Generate N web events with many duplicates, deterministically (seed S):
# whole-record repeats, repeats with the keys in another order or spaced out,
# and per-key repeats; "timestamp" is epoch seconds, nearly in order
# (-v T=1: every record has one).
# awk -v N=3000 -v S=42 [-v T=1] -f dedupe-gen.awk
BEGIN {
	srand(S)
	t = 1710496800
	for (i = 0; i < N; i++) {
		t += int(rand() * 20)
		u = "user_" int(rand() * 15)
		p = substr("home  cart  search", 1 + 6 * int(rand() * 3), 6); sub(/ +$/, "", p)
		a = (rand() < 0.5) ? "view" : "click"
		v = int(rand() * 4) / 2
		ts = t - int(rand() * 5)
		r = rand()
		if (T)
			printf "{\"user_id\":\"%s\",\"page\":\"%s\",\"action\":\"%s\",\"timestamp\":%d,\"value\":%s}\n", u, p, a, ts, v
		else if (r < 0.45)
			printf "{\"user_id\":\"%s\",\"page\":\"%s\",\"action\":\"%s\",\"value\":%s}\n", u, p, a, v
		else if (r < 0.6)
			printf "{ \"action\": \"%s\", \"value\": %s, \"user_id\": \"%s\", \"page\": \"%s\" }\n", a, v, u, p
		else
			printf "{\"user_id\":\"%s\",\"page\":\"%s\",\"action\":\"%s\",\"timestamp\":%d,\"value\":%s}\n", u, p, a, ts, v
	}
}
