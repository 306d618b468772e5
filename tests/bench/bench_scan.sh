#!/bin/sh
# lib/record's scanner against json_loadb: parse each line and extract user_id, page and value.
# Run by make bench (tests/bench/run.sh sets BENCH_FILE, BENCH_BYTES, BENCH_TMP); needs build/libndflow.a.
set -eu
. tests/bench/lib.sh
bin=build/bench/scanbench
mkdir -p build/bench
${CC:-cc} -std=c11 -O2 -D_GNU_SOURCE -Ilib -o "$bin" tests/bench/scanbench.c build/libndflow.a -ljansson -lz -lm
# Both must see the same values: the checksums of one run each agree.
s=$("$bin" scan "$BENCH_FILE" | awk '{ print $4, $5, $6 }')
j=$("$bin" jansson "$BENCH_FILE" | awk '{ print $4, $5, $6 }')
[ "$s" = "$j" ] || { echo "bench_scan: scanner and jansson disagree: $s / $j" >&2; exit 1; }
echo "record scan-and-extract (rec_parse + 3 x rec_get vs json_loadb + 3 x json_object_get):"
bench jansson "'$bin' jansson '$BENCH_FILE' > /dev/null"
bench scanner "'$bin' scan '$BENCH_FILE' > /dev/null"
report scanner jansson
report jansson jansson
# On a shared machine the wall clock also counts other processes: the CPU-time rate, median of 3, too.
cpu() { for i in 1 2 3; do "$bin" "$1" "$BENCH_FILE" | awk '{ print $7 }'; done | median; }
sc=$(cpu scan); jc=$(cpu jansson)
awk -v s="$sc" -v j="$jc" 'BEGIN { printf "  by CPU time: scanner %.1f MB/s, jansson %.1f MB/s, %.2fx\n", s, j, s / j }'
