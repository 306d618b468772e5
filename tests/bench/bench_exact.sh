#!/bin/sh
# Issue 12's quadratic paths, at the sizes where the old code took seconds:
# sessions in one stream with every session open (12), 10^6 open sessions'
# peak memory (12), and aggregate after a burst of 300k groups followed by
# 20k watermarks (13).  Each row prints the median wall time and peak memory,
# with the work counter from --stats that the tests check at n and 8n.
set -eu
. tests/bench/lib.sh
D="$BENCH_TMP/exact"
mkdir -p "$D"
awk 'BEGIN { for (i = 0; i < 40000; i++) printf "{\"u\":\"user_%d\",\"timestamp\":%d}\n", i % 1000, 1700000000 + i * 10 }' > "$D/s40k"
awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "{\"user_id\":\"user_%07d\",\"page\":\"home\",\"timestamp\":%d}\n", i, 1700000000 + i }' > "$D/s1m"
awk 'BEGIN {
	for (i = 0; i < 300000; i++)
		printf "{\"window_start\":\"2024-01-01T00:00:00Z\",\"window_end\":\"2024-01-01T00:01:00Z\",\"g\":%d}\n", i
	for (j = 0; j < 20000; j++)
		printf "{\"@watermark\":\"2024-01-01T%02d:%02d:%02dZ\"}\n", 1 + int(j / 3600) % 24, int(j / 60) % 60, j % 60
}' > "$D/burst"

# row NAME FILE CMD COUNTER: bench CMD (reading FILE), then print time, memory and COUNTER from --stats.
row() {
	name=$1 file=$2 cmd=$3 counter=$4
	BENCH_BYTES=$(wc -c < "$file")
	bench "$name" "$cmd < '$file' > /dev/null"
	sh -c "$cmd --stats < '$file' 2> '$D/stats' > /dev/null"
	t=$(median < "$BENCH_TMP/$name.t")
	m=$(median < "$BENCH_TMP/$name.m")
	awk -v n="$name" -v t="$t" -v m="$m" -v in_b="$BENCH_BYTES" -v c="$counter" \
	    -v v="$(jq ".$counter" "$D/stats")" 'BEGIN {
		printf "  %-34s %7.2f s %8.1f MiB peak (%4.1fx input)  %s %s\n", n, t, m / 1024, m * 1024 / in_b, c, v }'
}

echo "issue 12 (quadratic paths; old code: 40k sessions 4.8 s CPU, 10^6 sessions 527 MB, burst 6.5 s CPU):"
row "session 40k, one stream, all open" "$D/s40k" "window --session 1s --lateness 1000d --time-format epoch_s" sessions_visited
row "session 10^6 open, --key" "$D/s1m" "window --session 1h --key user_id --lateness 1000d --time-format epoch_s" sessions_visited
row "aggregate 300k burst, 20k wm" "$D/burst" "aggregate -g g count" groups_visited
