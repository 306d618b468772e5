#!/bin/sh
# bench_scan: scan-and-extract of three fields (user_id, page, value) over the 1M-event file,
# lib/record's scanner against json_loadb, median of 3 runs each, with the ratio and peak RSS.
# Needs build/libndflow.a (make) and $BENCH_DIR/events-1m.ndjson (tests/bench/gen makes it).
set -u
cd "$(dirname "$0")/../.."
BENCH_DIR=${BENCH_DIR:-/tmp/ndflow-bench}
data=$BENCH_DIR/events-1m.ndjson
if [ ! -f "$data" ]; then
	mkdir -p "$BENCH_DIR"
	[ -x build/gen ] || { echo "bench_scan: build/gen missing: run make" >&2; exit 1; }
	build/gen 1000000 > "$data" || exit 1
fi
bin=build/bench/scanbench
mkdir -p build/bench
${CC:-cc} -std=c11 -O2 -D_GNU_SOURCE -Ilib -o "$bin" tests/bench/scanbench.c build/libndflow.a -ljansson -lz -lm || exit 1
cat "$data" > /dev/null	# into the page cache

# median3 prints the median of the first field of three lines.
median3() { sort -n | sed -n 2p; }

run() {	# run MODE: three timed runs; prints "median_MBps peak_rss_kB checksum"
	: > "$BENCH_DIR/scan.$1"
	for i in 1 2 3; do
		/usr/bin/time -f '%M' -o "$BENCH_DIR/rss.$1" "$bin" "$1" "$data" >> "$BENCH_DIR/scan.$1" || exit 1
	done
	mbps=$(awk '{print $2}' "$BENCH_DIR/scan.$1" | median3)
	sum=$(awk 'NR==1{print $5}' "$BENCH_DIR/scan.$1")
	echo "$mbps $(cat "$BENCH_DIR/rss.$1") $sum"
}

size=$(wc -c < "$data")
set -- $(run scan); s_mbps=$1 s_rss=$2 s_sum=$3
set -- $(run jansson); j_mbps=$1 j_rss=$2 j_sum=$3
[ "$s_sum" = "$j_sum" ] || echo "bench_scan: checksums differ: scanner $s_sum, jansson $j_sum" >&2
awk -v s="$s_mbps" -v j="$j_mbps" -v sr="$s_rss" -v jr="$j_rss" -v n="$size" 'BEGIN {
	printf "scan-and-extract (user_id, page, value) of %.0f MB, median of 3:\n", n / 1e6
	printf "  scanner  %7.1f MB/s  peak RSS %6.1f MiB\n", s, sr / 1024
	printf "  jansson  %7.1f MB/s  peak RSS %6.1f MiB\n", j, jr / 1024
	printf "  ratio    %7.2fx\n", s / j
}'
