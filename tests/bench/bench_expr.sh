#!/bin/sh
# ingest --where against jq select() and Miller's filter on the same 1M events, same predicate.
set -eu
. tests/bench/lib.sh
echo "ingest --where '.value > 50' (filter on a numeric field):"
bench jq     "jq -c 'select(.value > 50)' < '$BENCH_FILE' > '$BENCH_TMP/jq.out'"
bench mlr    "mlr --ijsonl --ojsonl filter '\$value > 50' < '$BENCH_FILE' > '$BENCH_TMP/mlr.out'"
bench ingest "ingest --where '.value > 50' < '$BENCH_FILE' > '$BENCH_TMP/ingest.out'"
# The three agree on which records pass (counted, since jq and Miller rewrite the bytes).
a=$(wc -l < "$BENCH_TMP/ingest.out"); b=$(wc -l < "$BENCH_TMP/jq.out"); c=$(wc -l < "$BENCH_TMP/mlr.out")
echo "  records kept: ingest $a, jq $b, mlr $c"
rm -f "$BENCH_TMP/ingest.out" "$BENCH_TMP/jq.out" "$BENCH_TMP/mlr.out"
report ingest jq
report ingest mlr
report jq jq
report mlr jq
