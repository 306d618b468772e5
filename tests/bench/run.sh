#!/bin/sh
# make bench: generate the data once, then the peers table (peers.sh), the
# memory at 1M and 10M events (flat.sh), and every tests/bench/bench_*.sh.
# Each prints medians of $BENCH_RUNS runs and ratios against peers measured in the same run.
# BENCH_ONLY=NAME runs only peers, flat, or bench_NAME*.
set -eu
cd "$(dirname "$0")/../.."
missing=""
for p in jq miller time mawk datamash; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$missing >/dev/null
	else
		echo "bench: missing packages:$missing (sudo apt-get install$missing)" >&2; exit 1
	fi
fi
export BENCH_DIR=${BENCH_DIR:-$PWD/tests/bench/out}
export NDFLOW_BIN=$PWD/build/bin
export PATH="$NDFLOW_BIN:$PATH"
mkdir -p "$BENCH_DIR"
BENCH_TMP=$(mktemp -d); export BENCH_TMP
trap 'rm -rf "$BENCH_TMP"' EXIT
if [ ! -s "$BENCH_DIR/events-1m.ndjson" ]; then
	echo "bench: generating 1M events (seed 1)" >&2
	build/gen 1000000 1 > "$BENCH_DIR/events-1m.ndjson"
fi
BENCH_FILE="$BENCH_DIR/events-1m.ndjson"
BENCH_BYTES=$(wc -c < "$BENCH_FILE")
export BENCH_FILE BENCH_BYTES
echo "ndflow bench: $(nproc) cores, $(wc -l < "$BENCH_FILE") events, $((BENCH_BYTES / 1000000)) MB, median of ${BENCH_RUNS:-3} runs; ratio = peer's time / ours"
start=$(date +%s)
for b in tests/bench/peers.sh tests/bench/flat.sh tests/bench/bench_*.sh; do
	[ -f "$b" ] || continue
	n=$(basename "$b" .sh)
	if [ -n "${BENCH_ONLY:-}" ] && [ "$n" != "$BENCH_ONLY" ] && [ "${n#bench_"$BENCH_ONLY"}" = "$n" ]; then continue; fi
	sh "$b"
done
echo "ndflow bench: $(($(date +%s) - start)) s in all"
