#!/bin/sh
# Peak memory of the streaming tools at 1M and at 10M events: window, dedupe
# --within, aggregate without quantiles and alert hold state bounded by their
# windows and keys, not by the stream's length, so each figure should stay flat.
# The events are streamed from build/gen through one pipe into all four at once
# (tee into FIFOs), so no 1.5 GB file is written and the events are made once
# per size.  One run each: a peak resident set is not a timing.
set -eu
cd "$(dirname "$0")/../.."
if [ -z "${BENCH_TMP:-}" ]; then
	BENCH_TMP=$(mktemp -d); trap 'rm -rf "$BENCH_TMP"' EXIT INT TERM
	PATH="$PWD/build/bin:$PATH"
fi
W=$BENCH_TMP/flat
mkdir -p "$W"
LONG=${FLAT_BENCH_LONG:-10000000}

# The commands, as the per-tool benchmarks run them (gen's disorder is under 2 s: nothing is late).
set -- \
    "window" "window --tumbling 1m --lateness 5s --late /dev/null" \
    "dedupe --within" "dedupe -k user_id,session_id --within 10m" \
    "aggregate, no quantiles" "aggregate -g user_id count sum:value mean:value stddev:value min:value max:value" \
    "alert (six rules)" "alert --rules tests/bench/alert-rules.json --lateness 10s"

# run N: every tool over the same N events; tool i's peak RSS (KiB) in $W/N.i.
run() {
	n=$1; shift
	i=0 fifos=""
	while [ $# -gt 0 ]; do
		i=$((i + 1))
		rm -f "$W/in$i"
		mkfifo "$W/in$i"
		/usr/bin/time -f %M -o "$W/$n.$i" sh -c "$2 < '$W/in$i' > /dev/null 2>&1" &
		fifos="$fifos $W/in$i"
		shift 2
	done
	# shellcheck disable=SC2086
	build/gen "$n" 7 | tee $fifos > /dev/null
	wait
}
start=$(date +%s)
run 1000000 "$@"
run "$LONG" "$@"
echo "peak memory, the same events piped into each tool ($(($(date +%s) - start)) s for both sizes):"
printf '  %-26s %10s %10s\n' tool "1M events" "$((LONG / 1000000))M events"
i=0
while [ $# -gt 0 ]; do
	i=$((i + 1))
	awk -v t="$1" -v a="$(cat "$W/1000000.$i")" -v b="$(cat "$W/$LONG.$i")" 'BEGIN {
		printf "  %-26s %6.1f MiB %6.1f MiB  %s\n", t, a / 1024, b / 1024,
		    b <= a * 1.25 + 2048 ? "flat" : sprintf("grows %.1fx", b / a) }'
	shift 2
done
