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
bench tumbling_tz "window --tumbling 1m --tz Europe/Berlin $W < '$BENCH_FILE' > /dev/null"
bench day_tz   "window --tumbling 1d --tz Europe/Berlin $W < '$BENCH_FILE' > /dev/null"
bench sliding  "window --sliding 1m --slide 20s $W < '$BENCH_FILE' > /dev/null"
bench session  "window --session 30s --key user_id $W < '$BENCH_FILE' > /dev/null"
report ingest ingest
report tumbling ingest
report tumbling_tz ingest
report day_tz ingest
report sliding ingest
report session ingest
echo "  (the bar: window --tumbling 1m within 1.3x the pass-through's time, a ratio of 0.77 or more)"

# Wall times on a shared machine wander; instruction counts do not.  On the
# first 100k events: window's instructions over the pass-through's.
if command -v valgrind >/dev/null 2>&1; then
	head -n 100000 "$BENCH_FILE" > "$BENCH_TMP/100k"
	irefs() {
		valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" < "$BENCH_TMP/100k" 2>&1 >/dev/null |
		    sed -n 's/.*refs: *//p' | tr -d ,
	}
	base=$(irefs "$NDFLOW_BIN/ingest")
	for args in "--tumbling 1m" "--tumbling 1m --tz Europe/Berlin" "--tumbling 1d --tz Europe/Berlin"; do
		n=$(irefs "$NDFLOW_BIN/window" $args $W)
		awk -v a="$args" -v n="$n" -v b="$base" 'BEGIN {
			printf "  instructions, window %-34s %5.2fx ingest pass-through\n", a, n / b }'
	done
fi

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
