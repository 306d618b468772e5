#!/bin/sh
# alert with the six rule kinds at once against ingest's pass-through on the
# same data; peak memory at 1M and 10M events (bounded by the keys, not the
# stream); the latency of a record that fires on a live ingest | alert pipe.
# Run by tests/bench/run.sh; alone it makes its own data.  Nothing here fails on a slow machine.
set -eu
cd "$(dirname "$0")/../.."
if [ -z "${BENCH_TMP:-}" ]; then
	BENCH_TMP=$(mktemp -d); trap 'rm -rf "$BENCH_TMP"' EXIT INT TERM
	BENCH_FILE=${BENCH_FILE:-$BENCH_TMP/events-1m.ndjson}
	[ -s "$BENCH_FILE" ] || build/gen 1000000 1 > "$BENCH_FILE"
	BENCH_BYTES=$(wc -c < "$BENCH_FILE")
	PATH="$PWD/build/bin:$PATH"
fi
. tests/bench/lib.sh
W=$BENCH_TMP
R=tests/bench/alert-rules.json
# gen's events arrive up to a few seconds out of order: 10s of lateness holds them, so none is late.
A="alert --rules $R --lateness 10s"

echo "alert, six rules (threshold, rate, repetition, absence, anomaly, spike) at once ($((BENCH_BYTES / 1000000)) MB):"
bench ingest "ingest < '$BENCH_FILE' > /dev/null"
bench alert  "$A -i '$BENCH_FILE' > /dev/null"
report alert ingest
report ingest ingest
$A --stats -i "$BENCH_FILE" 2> "$W/st" > /dev/null
jq -r '"  notices: \(.firing) firing, \(.resolved) resolved; \(.keys) alert states held at the end, \(.late) late"' "$W/st"

# Memory depends on the keys and the windows, not on the stream's length.
echo "alert, six rules, events piped from gen:"
for n in 1000000 ${ALERT_BENCH_LONG:-10000000}; do
	build/gen "$n" 7 | /usr/bin/time -f '%e %M' -o "$W/t" $A --stats 2> "$W/st" > /dev/null
	awk -v n="$n" -v k="$(jq .keys "$W/st")" '{
		printf "  %9d events %7.1f s %8.1f MiB peak  (%d alert states at the end)\n", n, $1, $2 / 1024, k }' "$W/t"
done

cc -O2 -o "$W/latency" tests/bench/latency.c
echo "latency of a record that fires, on a live pipe (1000 events, one at a time, each a new key):"
set -- $("$W/latency" 1000 "ingest | alert --when '.value >= 0' --by value")
echo "  ingest | alert               median $1 ms, p99 $2 ms"
