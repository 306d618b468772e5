#!/bin/sh
# Build each libFuzzer target tests/fuzz/fuzz_*.c with clang (fuzzer, ASan, UBSan) against
# the lib/ sources and jansson, and run each for FUZZ_SECONDS (default 60).
# Corpora live in build/fuzz/<target>/, seeded from tests/fuzz/seeds/<target>/ and tests/data.
# A crash or disagreement leaves crash-* files in build/fuzz/<target>/ and makes this fail.
# FUZZ_ONLY=record runs only fuzz_record.
set -u
cd "$(dirname "$0")/../.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
CLANG=${CLANG:-clang}
command -v "$CLANG" >/dev/null 2>&1 || { echo "fuzz: $CLANG not found" >&2; exit 1; }
status=0
for src in tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	[ -n "${FUZZ_ONLY:-}" ] && [ "$t" != "fuzz_${FUZZ_ONLY}" ] && continue
	d=build/fuzz/$t
	mkdir -p "$d/corpus"
	echo "fuzz: building $t"
	$CLANG -std=c11 -O1 -g -D_GNU_SOURCE -Ilib -Itests/lib \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o "$d/$t" "$src" lib/*.c -ljansson -lpcre2-8 -lz -lm || { status=1; continue; }
	[ -d "tests/fuzz/seeds/$t" ] && cp -n tests/fuzz/seeds/$t/* "$d/corpus/" 2>/dev/null
	if [ ! -f "$d/corpus/.seeded" ] && [ -f tests/data/web-events.ndjson ]; then
		# One seed file per line of the sample events.
		split -l 1 -a 4 tests/data/web-events.ndjson "$d/corpus/web-"
		touch "$d/corpus/.seeded"
	fi
	dict=""
	[ -f tests/fuzz/json.dict ] && dict="-dict=$PWD/tests/fuzz/json.dict"
	echo "fuzz: running $t for ${FUZZ_SECONDS}s"
	(cd "$d" && ASAN_OPTIONS=detect_leaks=1 ./"$t" $dict -max_total_time="$FUZZ_SECONDS" \
	    -max_len=4096 -print_final_stats=1 corpus 2>fuzz.log) || status=1
	cat "$d/fuzz.log" | grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|==|fuzz_record:|SUMMARY)' | sed "s/^/fuzz: $t: /"
	ls "$d"/crash-* "$d"/leak-* "$d"/timeout-* "$d"/oom-* 2>/dev/null | sed "s/^/fuzz: $t: finding: /"
done
exit $status
