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
echo "ingest --set 'n=.price * .amount' (a derived field on 1M trades; rounds of jq, mlr, ingest in turn):"
# Paired: each round runs the three one after the other, so a change in the machine's load
# falls on all three; the ratios are the medians of each round's ratios.
: > "$BENCH_TMP/rj"; : > "$BENCH_TMP/rm"
for n in jq mlr ingest; do : > "$BENCH_TMP/$n.t"; : > "$BENCH_TMP/$n.m"; done
r=0
RUNS=$BENCH_RUNS
while [ "$r" -lt "$RUNS" ]; do
	BENCH_RUNS=1
	bench jq1     "jq -c '.n = .price * .amount' < '$TRADES' > '$BENCH_TMP/jq.out'"
	bench mlr1    "mlr --ijson --ojson put '\$n = \$price * \$amount' < '$TRADES' > '$BENCH_TMP/mlr.out'"
	bench ingest1 "ingest --set 'n=.price * .amount' < '$TRADES' > '$BENCH_TMP/ingest.out'"
	for n in jq mlr ingest; do
		cat "$BENCH_TMP/${n}1.t" >> "$BENCH_TMP/$n.t"; cat "$BENCH_TMP/${n}1.m" >> "$BENCH_TMP/$n.m"
	done
	awk -v j="$(cat "$BENCH_TMP/jq1.t")" -v i="$(cat "$BENCH_TMP/ingest1.t")" 'BEGIN { print j / (i > 0 ? i : 0.01) }' >> "$BENCH_TMP/rj"
	awk -v m="$(cat "$BENCH_TMP/mlr1.t")" -v i="$(cat "$BENCH_TMP/ingest1.t")" 'BEGIN { print m / (i > 0 ? i : 0.01) }' >> "$BENCH_TMP/rm"
	r=$((r + 1))
done
BENCH_RUNS=$RUNS
# The same values (jq is the reference; Miller prints JSON over several lines, so only count it).
a=$(jq -c .n "$BENCH_TMP/ingest.out" | md5sum); b=$(jq -c .n "$BENCH_TMP/jq.out" | md5sum)
[ "$a" = "$b" ] && echo "  values: ingest and jq agree on all $(wc -l < "$BENCH_TMP/ingest.out") records" ||
    echo "  values: ingest and jq DIFFER"
rm -f "$BENCH_TMP/ingest.out" "$BENCH_TMP/jq.out" "$BENCH_TMP/mlr.out"
report ingest jq
report ingest mlr
report jq jq
report mlr jq
awk -v j="$(median < "$BENCH_TMP/rj")" -v m="$(median < "$BENCH_TMP/rm")" 'BEGIN {
	printf "  median of the rounds: %.1fx jq (target 10x: %s), %.1fx mlr (target 20x: %s)\n", j,
	    (j >= 10) ? "met" : "NOT met", m, (m >= 20) ? "met" : "NOT met" }'
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
