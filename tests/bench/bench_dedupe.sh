#!/bin/sh
# dedupe against awk '!seen[$0]++' and Miller's head -g on the same data; the
# false-positive rate of --approx over 1M distinct keys; peak memory of
# --within over 10M events.  Run by tests/bench/run.sh; alone it makes its own data.
# Nothing here fails on a slow machine, only on an --approx rate past 2x its target.
set -eu
cd "$(dirname "$0")/../.."
if [ -z "${BENCH_TMP:-}" ]; then
	BENCH_TMP=$(mktemp -d); trap 'rm -rf "$BENCH_TMP"' EXIT INT TERM
	BENCH_FILE=${BENCH_FILE:-$BENCH_TMP/events-1m.ndjson}
	[ -s "$BENCH_FILE" ] || build/gen 1000000 1 > "$BENCH_FILE"
	PATH="$PWD/build/bin:$PATH"
fi
. tests/bench/lib.sh
W=$BENCH_TMP

# The issue's bar: 1M distinct events (gen's microsecond times make each one
# distinct), whole-record dedupe against mawk '!seen[$0]++' in the same run,
# both in time and in peak memory (dedupe keeps a fingerprint a record).
AWK=awk
command -v mawk > /dev/null && AWK=mawk
BENCH_BYTES=$(wc -c < "$BENCH_FILE")
echo "dedupe, whole record, $(wc -l < "$BENCH_FILE") distinct events ($((BENCH_BYTES / 1000000)) MB), against $AWK:"
bench awk_distinct     "$AWK '!seen[\$0]++' < '$BENCH_FILE' > /dev/null"
bench dedupe_distinct  "dedupe < '$BENCH_FILE' > /dev/null"
bench dedupe_ignore    "dedupe --ignore timestamp < '$BENCH_FILE' > /dev/null"
report dedupe_distinct awk_distinct
report dedupe_ignore awk_distinct
report awk_distinct awk_distinct
a_m=$(median < "$BENCH_TMP/awk_distinct.m")
d_m=$(median < "$BENCH_TMP/dedupe_distinct.m")
awk -v a="$a_m" -v d="$d_m" 'BEGIN { printf "  peak memory: dedupe %.1f MiB, %s %.1f MiB: %.2f of it (bar: 0.25)\n", d / 1024, "'"$AWK"'", a / 1024, d / a }'

# 1M events of which 300k repeat earlier ones byte for byte; the key user_id,page has 5,000 values.
D="$W/dedupe-dup.ndjson"
head -n 700000 "$BENCH_FILE" > "$D"
head -n 300000 "$BENCH_FILE" >> "$D"
BENCH_BYTES=$(wc -c < "$D")

echo "dedupe, whole record ($(wc -l < "$D") events, some repeated exactly, $((BENCH_BYTES / 1000000)) MB):"
bench awk          "awk '!seen[\$0]++' < '$D' > /dev/null"
bench dedupe       "dedupe < '$D' > /dev/null"
bench dedupe_approx "dedupe --approx < '$D' > /dev/null"
report dedupe awk
report dedupe_approx awk
report awk awk

echo "dedupe, first per key user_id,page:"
bench mlr_head     "mlr --ijsonl --ojsonl head -n 1 -g user_id,page < '$D' > /dev/null"
bench dedupe_k     "dedupe -k user_id,page < '$D' > /dev/null"
bench dedupe_within "dedupe -k user_id,page --within 10m < '$D' > /dev/null"
bench dedupe_lru   "dedupe -k user_id,page --max-keys 1000 < '$D' > /dev/null"
report dedupe_k mlr_head
report dedupe_within mlr_head
report dedupe_lru mlr_head
report mlr_head mlr_head
echo "  kept: dedupe $(dedupe -k user_id,page < "$D" | wc -l)," \
    "mlr $(mlr --ijsonl --ojsonl head -n 1 -g user_id,page < "$D" | wc -l)"

# Every key is distinct, so each dropped record is a false positive: while the
# filter fills to its capacity, and at capacity (100k new keys in batches of
# 10k, each batch against a copy of the full filter).
echo "dedupe --approx false-positive rate, --capacity 1000000:"
awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "{\"k\":%d}\n", i }' > "$W/keys"
awk -v d="$W" 'BEGIN { for (j = 0; j < 10; j++)
	for (i = 0; i < 10000; i++) printf "{\"k\":%d}\n", 1000000 + 10000 * j + i > (d "/probe" j) }'
status=0
for p in 0.01 0.001; do
	rm -f "$W/s" "$W/s.lock"
	dedupe -k k --approx --error "$p" --stats --state "$W/s" "$W/keys" 2> "$W/st" > /dev/null
	fill=$(jq .duplicates "$W/st")
	bytes=$(jq .bloom_bytes "$W/st")
	fp=0
	for j in 0 1 2 3 4 5 6 7 8 9; do
		cp "$W/s" "$W/p"
		dedupe -k k --approx --error "$p" --stats --state "$W/p" "$W/probe$j" 2> "$W/st" > /dev/null
		fp=$((fp + $(jq .duplicates "$W/st")))
	done
	line=$(awk -v p="$p" -v f="$fill" -v q="$fp" -v b="$bytes" 'BEGIN {
		r1 = f / 1e6; r2 = q / 1e5
		printf "  P=%-6s %8.2f MiB  filling 1M: %5d dropped (%.5f)  at capacity: %4d/100000 (%.5f = %.2fx P)%s",
		    p, b / 1048576, f, r1, q, r2, r2 / p, (r1 > 2 * p || r2 > 2 * p) ? "  OVER 2x P" : "" }')
	echo "$line"
	case $line in *"OVER 2x"*) status=1 ;; esac
done

# Memory with --within depends on the keys in one horizon, not on the stream's length.
echo "dedupe -k user_id,session_id --within 10m, events piped from gen:"
for n in 1000000 ${DEDUPE_BENCH_LONG:-10000000}; do
	build/gen "$n" 7 | /usr/bin/time -f '%e %M' -o "$W/t" dedupe -k user_id,session_id \
	    --within 10m --stats 2> "$W/st" > /dev/null
	awk -v n="$n" -v e="$(jq .expired "$W/st")" '{
		printf "  %9d events %7.1f s %8.1f MiB peak  (%d keys expired)\n", n, $1, $2 / 1024, e }' "$W/t"
done
build/gen 1000000 7 | /usr/bin/time -f '%e %M' -o "$W/t" dedupe -k user_id,session_id > /dev/null
awk '{ printf "  without --within, 1M events %8.1f MiB peak (every key kept)\n", $2 / 1024 }' "$W/t"
exit "$status"
