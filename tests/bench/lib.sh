# Shared by tests/bench/bench_*.sh: timing with medians, peak memory, ratios.
# bench NAME CMD...   runs CMD (a shell string, stdin/stdout set up inside it)
#                     $BENCH_RUNS times (default 3) and records the median wall
#                     time and the median peak RSS under NAME.
# report NAME BASE    prints NAME's median, MB/s over $BENCH_BYTES, peak RSS and
#                     the throughput ratio against BASE measured in the same run.
BENCH_RUNS=${BENCH_RUNS:-3}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

bench() {
	name=$1; shift
	: > "$BENCH_TMP/$name.t"
	: > "$BENCH_TMP/$name.m"
	i=0
	while [ "$i" -lt "$BENCH_RUNS" ]; do
		/usr/bin/time -f '%e %M' -o "$BENCH_TMP/time" sh -c "$1" || {
			echo "bench: $name failed: $1" >&2; return 1; }
		awk '{ print $1 }' "$BENCH_TMP/time" >> "$BENCH_TMP/$name.t"
		awk '{ print $2 }' "$BENCH_TMP/time" >> "$BENCH_TMP/$name.m"
		i=$((i + 1))
	done
}

report() {
	t=$(median < "$BENCH_TMP/$1.t")
	m=$(median < "$BENCH_TMP/$1.m")
	b=$(median < "$BENCH_TMP/$2.t")
	awk -v n="$1" -v t="$t" -v m="$m" -v b="$b" -v base="$2" -v bytes="$BENCH_BYTES" 'BEGIN {
		if (t <= 0) t = 0.01
		if (b <= 0) b = 0.01
		printf "  %-28s %7.2f s %8.1f MB/s %8.1f MiB peak  %6.2fx %s\n",
		    n, t, bytes / t / 1e6, m / 1024, b / t, base
	}'
}

# measure NAME CMD    runs CMD once and appends its wall time and peak RSS to
#                     NAME's lists (as bench does), for runs paired by the caller.
measure() {
	/usr/bin/time -f '%e %M' -o "$BENCH_TMP/time" sh -c "$2" || {
		echo "bench: $1 failed: $2" >&2; return 1; }
	awk 'END { print $1 }' "$BENCH_TMP/time" >> "$BENCH_TMP/$1.t"
	awk 'END { print $2 }' "$BENCH_TMP/time" >> "$BENCH_TMP/$1.m"
}
