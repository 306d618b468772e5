#!/bin/sh
# ingest --set against jq and Miller computing the same derived field on 1M trades, and
# --where with a PCRE2 regex against the POSIX one of an older build (BENCH_OLD_INGEST).
set -eu
. tests/bench/lib.sh
TRADES="$BENCH_DIR/trades-1m.ndjson"
if [ ! -s "$TRADES" ]; then
	echo "bench: generating 1M trades (seed 1)" >&2
	awk -v n=1000000 'BEGIN { srand(1); for (i = 0; i < n; i++)
	    printf "{\"ts\":%d,\"sym\":\"S%03d\",\"price\":%d.%02d,\"amount\":%d,\"side\":\"%s\"}\n",
	        1700000000 + i, int(rand() * 500), int(rand() * 1000), int(rand() * 100),
	        1 + int(rand() * 1000), rand() < 0.5 ? "buy" : "sell" }' >"$TRADES"
fi
SAVED_BYTES=$BENCH_BYTES
BENCH_BYTES=$(wc -c < "$TRADES")
echo "ingest --set 'n=.price * .amount' (a derived field on 1M trades):"
bench jq     "jq -c '.n = .price * .amount' < '$TRADES' > '$BENCH_TMP/jq.out'"
bench mlr    "mlr --ijson --ojson put '\$n = \$price * \$amount' < '$TRADES' > '$BENCH_TMP/mlr.out'"
bench ingest "ingest --set 'n=.price * .amount' < '$TRADES' > '$BENCH_TMP/ingest.out'"
# The same values (jq is the reference; Miller prints JSON over several lines, so only count it).
a=$(jq -c .n "$BENCH_TMP/ingest.out" | md5sum); b=$(jq -c .n "$BENCH_TMP/jq.out" | md5sum)
[ "$a" = "$b" ] && echo "  values: ingest and jq agree on all $(wc -l < "$BENCH_TMP/ingest.out") records" ||
    echo "  values: ingest and jq DIFFER"
rm -f "$BENCH_TMP/ingest.out" "$BENCH_TMP/jq.out" "$BENCH_TMP/mlr.out"
report ingest jq
report ingest mlr
report jq jq
report mlr jq
awk -v j="$(median < "$BENCH_TMP/jq.t")" -v m="$(median < "$BENCH_TMP/mlr.t")" -v i="$(median < "$BENCH_TMP/ingest.t")" 'BEGIN {
	if (i <= 0) i = 0.01
	printf "  target >= 10x jq: %s (%.1fx); >= 20x mlr: %s (%.1fx)\n", (j / i >= 10) ? "met" : "NOT met", j / i,
	    (m / i >= 20) ? "met" : "NOT met", m / i }'
BENCH_BYTES=$SAVED_BYTES

# --where with a regex: PCRE2 (JIT) here against POSIX regexec in an older build, in
# paired runs (old, new, old, new, ...) so both see the same machine load.
OLD=${BENCH_OLD_INGEST:-}
if [ -z "$OLD" ] || [ ! -x "$OLD" ]; then
	echo "ingest --where regex, PCRE2 vs POSIX: skipped (set BENCH_OLD_INGEST to a build before PCRE2)"
	exit 0
fi
RE='.session_id =~ "^session_1[0-9]*5$" or .page =~ "^(ch|se)[a-z]+t$"'
echo "ingest --where '$RE' (PCRE2 here, POSIX regexec in $OLD):"
: > "$BENCH_TMP/old.t"; : > "$BENCH_TMP/old.m"; : > "$BENCH_TMP/new.t"; : > "$BENCH_TMP/new.m"
r=0
while [ "$r" -lt "$BENCH_RUNS" ]; do
	BENCH_RUNS_SAVED=$BENCH_RUNS; BENCH_RUNS=1
	bench old1 "'$OLD' --where '$RE' < '$BENCH_FILE' > '$BENCH_TMP/old.out'"
	bench new1 "ingest --where '$RE' < '$BENCH_FILE' > '$BENCH_TMP/new.out'"
	BENCH_RUNS=$BENCH_RUNS_SAVED
	cat "$BENCH_TMP/old1.t" >> "$BENCH_TMP/old.t"; cat "$BENCH_TMP/old1.m" >> "$BENCH_TMP/old.m"
	cat "$BENCH_TMP/new1.t" >> "$BENCH_TMP/new.t"; cat "$BENCH_TMP/new1.m" >> "$BENCH_TMP/new.m"
	r=$((r + 1))
done
cmp -s "$BENCH_TMP/old.out" "$BENCH_TMP/new.out" && echo "  output: identical ($(wc -l < "$BENCH_TMP/new.out") records kept)" ||
    echo "  output: DIFFERS"
rm -f "$BENCH_TMP/old.out" "$BENCH_TMP/new.out"
report new old
report old old
