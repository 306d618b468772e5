#!/bin/sh
# Files run in parallel, tests within a file in order (parallel tests within a
# file cost more in GNU parallel start-up than they save).
# Run the C unit tests of lib/ and the bats suites; end with "N passed, N failed".
# NDFLOW_BUILD selects the build (build, or build/san for the sanitizers).
set -u
cd "$(dirname "$0")/.."
B=${NDFLOW_BUILD:-build}
export NDFLOW_BIN="$PWD/$B/bin"
out="$B/tests.tap"	# kept: the whole TAP stream of the last run, for what the summary leaves out
mkdir -p "$B"; : >"$out"
status=0
for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	echo "# unit: $(basename "$t")" >>"$out"
	"$t" >>"$out" 2>&1 || status=1
done
jobs=""
command -v parallel >/dev/null 2>&1 && jobs="--jobs 4 --no-parallelize-within-files"
bats --tap $jobs tests/*.bats >>"$out" 2>&1 || status=1
passed=$(grep '^ok ' "$out" | grep -vc '# skip')
skipped=$(grep '^ok ' "$out" | grep -c '# skip')
failed=$(grep -c '^not ok ' "$out")
# Show every failure with its diagnostics; a passing run stays short.
if [ "$failed" -gt 0 ] || [ "$status" -ne 0 ]; then
	awk '/^not ok /{p=1; print; next} /^(ok |# unit:)/{p=0} p' "$out"
fi
if [ "$failed" -eq 0 ] && [ "$status" -ne 0 ]; then
	echo "# a test program failed outside a check (the whole output: $out):"
	grep -n '^# bats warning\|^# unit: .*\|^bats: ' "$out" | grep -v '^[0-9]*:# unit: ' || true
	tail -20 "$out"
	failed=1
fi
if [ "$skipped" -gt 0 ]; then
	grep '^ok .*# skip' "$out"
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
