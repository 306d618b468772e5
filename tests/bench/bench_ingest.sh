#!/bin/sh
# ingest pass-through against jq -c . and Miller's cat on the same 1M events.
set -eu
. tests/bench/lib.sh
echo "ingest pass-through (validate every line, write the bytes back):"
bench jq     "jq -c . < '$BENCH_FILE' > /dev/null"
bench mlr    "mlr --ijsonl --ojsonl cat < '$BENCH_FILE' > /dev/null"
bench ingest "ingest < '$BENCH_FILE' > /dev/null"
report ingest jq
report ingest mlr
report jq jq
report mlr jq
