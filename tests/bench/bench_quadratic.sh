#!/bin/sh
# The three input shapes that were quadratic or worse in lib/formats (issue 12.9-12.11),
# each at n and 8n: a CSV header of 4,000 equal names, a CSV record whose quoted field
# stays open for 80,000 lines, a logfmt line of 40,000 keys.  Linear code takes about
# 8x as long at 8n; the old code took 21 s, 23 s and 1.5 s at the larger sizes.
set -eu
. tests/bench/lib.sh
D=$BENCH_TMP/quadratic
mkdir -p "$D"
# header N: N columns all named "a", then one row.
header() {
	awk -v n="$1" 'BEGIN {
		for (i = 1; i <= n; i++) printf "a%s", i < n ? "," : "\n"
		for (i = 1; i <= n; i++) printf "%d%s", i, i < n ? "," : "\n"
	}'
}
# open_quote N: a record whose second field opens a quote and closes it N lines later.
open_quote() {
	awk -v n="$1" 'BEGIN {
		print "a,b"; printf "1,\""
		for (i = 0; i < n; i++) printf "line %09d\n", i
		print "end\""
	}'
}
# logfmt N: one line of N distinct keys.
logfmt() {
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "%sk%d=%d", i ? " " : "", i, i; print "" }'
}
header 500 > "$D/h1"; header 4000 > "$D/h8"
open_quote 10000 > "$D/q1"; open_quote 80000 > "$D/q8"
logfmt 5000 > "$D/l1"; logfmt 40000 > "$D/l8"
# row NAME N1 N8: the medians at n and 8n and their ratio (8 is linear, 64 quadratic).
row() {
	t1=$(median < "$BENCH_TMP/$1_1.t")
	t8=$(median < "$BENCH_TMP/$1_8.t")
	m8=$(median < "$BENCH_TMP/$1_8.m")
	awk -v n="$1" -v a="$2" -v b="$3" -v t1="$t1" -v t8="$t8" -v m="$m8" 'BEGIN {
		printf "  %-22s n=%-6d %6.2f s   8n=%-6d %6.2f s %8.1f MiB peak  8n/n %s\n", n, a, t1, b, t8,
		    m / 1024, (t1 > 0.02 ? sprintf("%.1fx", t8 / t1) : "(n too fast to divide)")
	}'
}
echo "ingest on inputs that were quadratic (12.9-12.11), wall time at n and 8n:"
for s in 1 8; do
	bench "header_$s" "ingest --format csv < '$D/h$s' > /dev/null"
	bench "open_quote_$s" "ingest --format csv < '$D/q$s' > /dev/null"
	bench "logfmt_keys_$s" "ingest --format logfmt < '$D/l$s' > /dev/null"
done
row header 500 4000
row open_quote 10000 80000
row logfmt_keys 5000 40000
