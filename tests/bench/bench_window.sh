#!/bin/sh
# window: tumbling (and, for reference, session) throughput against the ingest
# pass-through on the same 1M events, then peak memory at 1M and 10M events
# (streamed from build/gen through a pipe, so no 1.4 GB file is written).
set -eu
. tests/bench/lib.sh
W="--lateness 5s --late /dev/null"	# gen's disorder is under 2 s: nothing is late
echo "window against the ingest pass-through (ratio = ingest's time / window's):"
bench ingest   "ingest < '$BENCH_FILE' > /dev/null"
bench tumbling "window --tumbling 1m $W < '$BENCH_FILE' > /dev/null"
bench sliding  "window --sliding 1m --slide 20s $W < '$BENCH_FILE' > /dev/null"
bench session  "window --session 30s --key user_id $W < '$BENCH_FILE' > /dev/null"
report ingest ingest
report tumbling ingest
report sliding ingest
report session ingest

# peak N ARGS: the peak RSS (KiB) of window ARGS over N generated events.
peak() {
	n=$1; shift
	sh -c "build/gen $n 1 | /usr/bin/time -f %M -o '$BENCH_TMP/rss' window $* > /dev/null"
	cat "$BENCH_TMP/rss"
}
echo "window peak memory (one run each; flat means bounded by open windows, not input):"
for args in "--tumbling 1m $W" "--session 30s --key user_id $W"; do
	m1=$(peak 1000000 "$args")
	m10=$(peak 10000000 "$args")
	awk -v a="$args" -v m1="$m1" -v m10="$m10" 'BEGIN {
		printf "  %-44s 1M: %6.1f MiB   10M: %6.1f MiB\n", a, m1 / 1024, m10 / 1024 }'
done
