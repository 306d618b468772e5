#!/bin/sh
# bench_aggregate: aggregate against Miller and a jq reduce on the same group-by, in one run;
# then peak memory on 1M events in 1,000 groups with and without exact quantiles.
# Prints the median of RUNS runs of each command, ratios to aggregate, and peak RSS.
# Environment: BENCH_DIR (data), NDFLOW_BIN (the tools), RUNS (default 3),
# BENCH_JQ=0 to leave jq out (it takes minutes on 1M events).
set -eu
cd "$(dirname "$0")/../.."
BIN=${NDFLOW_BIN:-$PWD/build/bin}
BENCH_DIR=${BENCH_DIR:-/tmp/ndflow-bench}
RUNS=${RUNS:-3}
EV="$BENCH_DIR/events-1m.ndjson"
mkdir -p "$BENCH_DIR"
if [ ! -s "$EV" ]; then
	echo "# generating $EV" >&2
	build/gen 1000000 1 > "$EV"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# measure NAME CMD...: runs CMD RUNS times on $EV, keeps "seconds maxrss_kb" per run.
measure() {
	name=$1
	shift
	: > "$tmp/$name"
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		/usr/bin/time -f '%e %M' -o "$tmp/t" "$@" < "$EV" > "$tmp/out.$name"
		cat "$tmp/t" >> "$tmp/$name"
		i=$((i + 1))
	done
}

# median COLUMN NAME: the median of a column of the runs.
median() {
	cut -d' ' -f"$1" "$tmp/$2" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

report() {
	s=$(median 1 "$1")
	m=$(median 2 "$1")
	printf '%-28s %8.2f s %8.1f MiB RSS' "$1" "$s" "$(awk -v m="$m" 'BEGIN { print m / 1024 }')"
	if [ -n "${2:-}" ]; then
		printf '   %5.2fx aggregate' "$(awk -v a="$s" -v b="$(median 1 "$2")" 'BEGIN { print a / b }')"
	fi
	printf '\n'
}

echo "# group-by page: count sum mean p50 p99 on $(wc -l < "$EV") events, median of $RUNS runs"
measure aggregate "$BIN/aggregate" -g page count sum:value mean:value p50:value p99:value
measure mlr mlr --ijsonl --ojsonl stats1 -a count,sum,mean,p50,p99 -f value -g page
if [ "${BENCH_JQ:-1}" != 0 ]; then
	measure jq jq -n -c '
	    def q($v; p): ($v | length) as $n | (($n - 1) * p) as $h | ($h | floor) as $l
	        | $v[$l] + ($h - $l) * ($v[[$l + 1, $n - 1] | min] - $v[$l]);
	    reduce inputs as $e ({}; .[$e.page] |= ((. // {n: 0, s: 0, v: []})
	        | .n += 1 | .s += $e.value | .v += [$e.value]))
	    | to_entries[] | (.value.v | sort) as $v
	    | {page: .key, count: .value.n, sum: .value.s, mean: (.value.s / .value.n),
	       p50: q($v; 0.5), p99: q($v; 0.99)}'
fi
report aggregate
report mlr aggregate
[ "${BENCH_JQ:-1}" != 0 ] && report jq aggregate

echo "# memory: 1M events in 1,000 groups (-g user_id), median of $RUNS runs"
measure no-quantiles "$BIN/aggregate" -g user_id count sum:value mean:value stddev:value
measure exact-p50-p99 "$BIN/aggregate" -g user_id count sum:value mean:value p50:value p99:value
measure approx-p50-p99 "$BIN/aggregate" --approx -g user_id count sum:value mean:value p50:value p99:value
measure distinct-sessions "$BIN/aggregate" -g user_id distinct:session_id approx_distinct:session_id
report no-quantiles
report exact-p50-p99 no-quantiles
report approx-p50-p99 no-quantiles
report distinct-sessions no-quantiles
