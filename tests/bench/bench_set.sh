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
# falls on all three; the ratios are the medians of each round's ratios, of wall time and of
# CPU time (user + system, which a loaded machine disturbs less).
# one NAME CMD: one run, appending wall and CPU seconds and peak RSS to NAME.t, NAME.c, NAME.m.
one() {
	/usr/bin/time -f '%e %U %S %M' -o "$BENCH_TMP/time" sh -c "$2" || { echo "bench: $1 failed" >&2; return 1; }
	awk '{ print $1 }' "$BENCH_TMP/time" >> "$BENCH_TMP/$1.t"
	awk '{ print $2 + $3 }' "$BENCH_TMP/time" >> "$BENCH_TMP/$1.c"
	awk '{ print $4 }' "$BENCH_TMP/time" >> "$BENCH_TMP/$1.m"
}
last() { tail -1 "$BENCH_TMP/$1"; }
for n in jq mlr ingest rjw rmw rjc rmc; do : > "$BENCH_TMP/$n.t"; : > "$BENCH_TMP/$n.c"; : > "$BENCH_TMP/$n.m"; : > "$BENCH_TMP/$n"; done
r=0
while [ "$r" -lt "$BENCH_RUNS" ]; do
	one jq     "jq -c '.n = .price * .amount' < '$TRADES' > '$BENCH_TMP/jq.out'"
	one mlr    "mlr --ijson --ojson put '\$n = \$price * \$amount' < '$TRADES' > '$BENCH_TMP/mlr.out'"
	one ingest "ingest --set 'n=.price * .amount' < '$TRADES' > '$BENCH_TMP/ingest.out'"
	awk -v j="$(last jq.t)" -v m="$(last mlr.t)" -v i="$(last ingest.t)" -v jc="$(last jq.c)" \
	    -v mc="$(last mlr.c)" -v ic="$(last ingest.c)" -v d="$BENCH_TMP" 'BEGIN {
		if (i <= 0) i = 0.01; if (ic <= 0) ic = 0.01
		print j / i >> (d "/rjw"); print m / i >> (d "/rmw")
		print jc / ic >> (d "/rjc"); print mc / ic >> (d "/rmc") }'
	r=$((r + 1))
done
# The same values (jq is the reference; Miller prints JSON over several lines, so only count it).
a=$(jq -c .n "$BENCH_TMP/ingest.out" | md5sum); b=$(jq -c .n "$BENCH_TMP/jq.out" | md5sum)
[ "$a" = "$b" ] && echo "  values: ingest and jq agree on all $(wc -l < "$BENCH_TMP/ingest.out") records" ||
    echo "  values: ingest and jq DIFFER"
rm -f "$BENCH_TMP/ingest.out" "$BENCH_TMP/jq.out" "$BENCH_TMP/mlr.out"
report ingest jq
report ingest mlr
report jq jq
report mlr jq
awk -v jw="$(median < "$BENCH_TMP/rjw")" -v mw="$(median < "$BENCH_TMP/rmw")" -v jc="$(median < "$BENCH_TMP/rjc")" \
    -v mc="$(median < "$BENCH_TMP/rmc")" -v ic="$(median < "$BENCH_TMP/ingest.c")" 'BEGIN {
	printf "  median of the rounds, wall time: %.1fx jq (target 10x: %s), %.1fx mlr (target 20x: %s)\n", jw,
	    (jw >= 10) ? "met" : "NOT met", mw, (mw >= 20) ? "met" : "NOT met"
	printf "  median of the rounds, CPU time:  %.1fx jq (target 10x: %s), %.1fx mlr (target 20x: %s); ingest %.2f s CPU\n",
	    jc, (jc >= 10) ? "met" : "NOT met", mc, (mc >= 20) ? "met" : "NOT met", ic }'
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
