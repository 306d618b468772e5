#!/bin/sh
# bench_dedupe: dedupe's throughput against awk and Miller on the same data, the
# false-positive rate of --approx, and peak memory of --within on a long stream.
#
# Run by `make bench` (BENCH_DIR holds events-1m.ndjson from tests/bench/gen),
# or alone: sh tests/bench/bench_dedupe.sh.  RUNS (default 3) sets the runs
# per timing; each figure is the median.  Not a test: nothing here fails on a
# slow machine, except an --approx rate past twice its target.
set -eu
cd "$(dirname "$0")/../.."
B=${NDFLOW_BUILD:-build}
BIN="$PWD/$B/bin"
RUNS=${RUNS:-3}
BENCH_DIR=${BENCH_DIR:-$PWD/$B/bench}
mkdir -p "$BENCH_DIR"
EV="$BENCH_DIR/events-1m.ndjson"
[ -s "$EV" ] || "$B/gen" 1000000 >"$EV"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT INT TERM

# 1M records of which 300k repeat earlier ones byte for byte.
head -n 700000 "$EV" >"$W/dup.ndjson"
head -n 300000 "$EV" >>"$W/dup.ndjson"
MB=$(wc -c <"$W/dup.ndjson" | awk '{ printf "%.1f", $1 / 1048576 }')

# measure NAME CMD...: runs CMD (stdin from $IN, stdout discarded) RUNS times;
# prints the median wall time, MB/s, peak RSS, and sets $SECS.
measure() {
	name=$1; shift
	i=0
	: >"$W/times"
	while [ "$i" -lt "$RUNS" ]; do
		/usr/bin/time -f '%e %M' -o "$W/t" "$@" <"$IN" >/dev/null 2>"$W/err" || {
			echo "bench_dedupe: $name failed:" >&2; cat "$W/err" >&2; exit 1; }
		cat "$W/t" >>"$W/times"
		i=$((i + 1))
	done
	SECS=$(sort -n "$W/times" | awk -v n="$RUNS" 'NR == int((n + 1) / 2) { print $1 }')
	RSS=$(sort -n -k2,2 "$W/times" | tail -n 1 | awk '{ print $2 }')
	printf '  %-44s %7.2f s %8.1f MB/s %9d KB peak\n' "$name" "$SECS" \
	    "$(awk -v s="$SECS" -v m="$MB" 'BEGIN { print (s > 0 ? m / s : 0) }')" "$RSS"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }'; }

echo "dedupe: 1M web events, 300k exact repeats ($MB MB), median of $RUNS runs"
IN="$W/dup.ndjson"

echo "whole record:"
measure "awk '!seen[\$0]++' (bytes)" awk '!seen[$0]++'
t_awk=$SECS
measure "dedupe (JSON value)" "$BIN/dedupe"
t_dd=$SECS
measure "dedupe --approx (Bloom, 1M, 1%)" "$BIN/dedupe" --approx
t_ddap=$SECS
echo "  dedupe / awk time: $(ratio "$t_awk" "$t_dd")x; --approx / awk: $(ratio "$t_awk" "$t_ddap")x"

echo "per key (user_id,page):"
measure "mlr --ijsonl --ojsonl head -n 1 -g user_id,page" mlr --ijsonl --ojsonl head -n 1 -g user_id,page
t_mlr=$SECS
measure "dedupe -k user_id,page" "$BIN/dedupe" -k user_id,page
t_ddk=$SECS
measure "dedupe -k user_id,page --within 10m" "$BIN/dedupe" -k user_id,page --within 10m
measure "dedupe -k user_id,page --max-keys 1000" "$BIN/dedupe" -k user_id,page --max-keys 1000
echo "  dedupe -k / mlr time: $(ratio "$t_mlr" "$t_ddk")x (mlr is $(ratio "$t_ddk" "$t_mlr")x slower)"
a=$("$BIN/dedupe" -k user_id,page <"$IN" | wc -l)
b=$(mlr --ijsonl --ojsonl head -n 1 -g user_id,page <"$IN" | wc -l)
echo "  kept: dedupe $a, mlr $b"

# --approx false positives: every key is distinct, so each dropped record is one.
echo "--approx false-positive rate, 1M distinct keys, --capacity 1000000:"
awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "{\"k\":%d}\n", i }' >"$W/keys1m"
awk 'BEGIN { for (j = 0; j < 10; j++) { f = "'"$W"'/probe" j
	for (i = 0; i < 10000; i++) printf "{\"k\":%d}\n", 1000000 + 10000 * j + i > f } }'
status=0
for p in 0.01 0.001; do
	rm -f "$W/s" "$W/s.lock"
	"$BIN/dedupe" -k k --approx --error "$p" --stats --state "$W/s" "$W/keys1m" 2>"$W/st" >/dev/null
	fill=$(jq '.duplicates' "$W/st")
	bytes=$(jq '.bloom_bytes' "$W/st")
	# At capacity: 10 x 10k new keys, each batch against the full 1M-key filter.
	fp=0
	for j in 0 1 2 3 4 5 6 7 8 9; do
		cp "$W/s" "$W/p"
		"$BIN/dedupe" -k k --approx --error "$p" --stats --state "$W/p" "$W/probe$j" 2>"$W/st" >/dev/null
		fp=$((fp + $(jq '.duplicates' "$W/st")))
	done
	line=$(awk -v p="$p" -v f="$fill" -v q="$fp" -v b="$bytes" 'BEGIN {
		r1 = f / 1e6; r2 = q / 1e5
		printf "  P=%s: %d bytes; while filling 1M: %d wrong drops (%.5f); at capacity: %d of 100000 (%.5f, %.2fx P)%s",
		    p, b, f, r1, q, r2, r2 / p, (r1 > 2 * p || r2 > 2 * p) ? " OVER 2x" : "" }')
	echo "$line"
	case $line in *"OVER 2x"*) status=1 ;; esac
done

# Peak memory with --within on a long stream: flat in the stream's length.
echo "--within 10m -k user_id,session_id, events piped from gen (peak RSS):"
for n in 1000000 10000000; do
	"$B/gen" "$n" 7 | /usr/bin/time -f '%e %M' -o "$W/t" "$BIN/dedupe" -k user_id,session_id \
	    --within 10m --stats 2>"$W/st" >/dev/null
	printf '  %9d events: %7.1f s %8d KB peak, %s expired\n' "$n" \
	    "$(cut -d' ' -f1 "$W/t")" "$(cut -d' ' -f2 "$W/t")" "$(jq '.expired' "$W/st")"
done
"$B/gen" 1000000 7 | /usr/bin/time -f '%e %M' -o "$W/t" "$BIN/dedupe" -k user_id,session_id >/dev/null
printf '  without --within, 1M events: %8d KB peak (grows with the keys)\n' "$(cut -d' ' -f2 "$W/t")"
exit "$status"
