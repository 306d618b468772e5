#!/bin/sh
# The peers table: ndflow against DuckDB, jq, Miller, mawk and datamash on the
# same work, one row per work: ndflow's MB/s and peak memory, and each peer's
# wall time as a multiple of ndflow's (2.00x: the peer takes twice as long)
# with its peak memory.  Run by tests/bench/run.sh first; alone it makes its
# own data.
#
# Paired runs: each repetition runs ndflow and the fast peers (DuckDB, mawk,
# datamash) back to back, in alternating order, and a ratio is the median of
# the repetitions' ratios, so that load from other processes hits both sides
# of a pair alike.  jq and Miller take 10-60 s a pass here: they run once,
# paired with the repetition before (BENCH_SLOW=0 leaves them out).
# DuckDB runs through its Node.js package, installed with npm into
# build/duckdb-node once (never into the repository); without npm its column
# says "-" and a line says why.  Peak memory is the largest resident set of
# any one process of the command (/usr/bin/time's %M), DuckDB's with node's.
set -eu
cd "$(dirname "$0")/../.."
if [ -z "${BENCH_TMP:-}" ]; then
	BENCH_TMP=$(mktemp -d); trap 'rm -rf "$BENCH_TMP"' EXIT INT TERM
	BENCH_FILE=${BENCH_FILE:-$BENCH_TMP/events-1m.ndjson}
	[ -s "$BENCH_FILE" ] || build/gen 1000000 1 > "$BENCH_FILE"
	PATH="$PWD/build/bin:$PATH"
fi
. tests/bench/lib.sh
R=${BENCH_PAIRED_RUNS:-5}
W=$BENCH_TMP/peers
mkdir -p "$W"
F=$BENCH_FILE

# ---- inputs made from the same events (not timed) ----
# gen's lines are regular: the fields are the even pieces between double quotes.
awk -F'"' '{ v = substr($23, 2, length($23) - 2); print $8 "\t" v }' "$F" > "$W/page-value.tsv"
awk -F'"' 'BEGIN { print "user_id,page,action,timestamp,session_id,value" }
    { printf "%s,%s,%s,%s,%s,%s\n", $4, $8, $12, $16, $20, substr($23, 2, length($23) - 2) }' "$F" > "$W/events.csv"
# 1M events of which 300k repeat earlier ones byte for byte (as bench_dedupe.sh).
{ head -n 700000 "$F"; head -n 300000 "$F"; } > "$W/dup.ndjson"

# ---- DuckDB, through npm ----
DUCK=""
if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
	DD=$PWD/build/duckdb-node
	if [ ! -f "$DD/node_modules/@duckdb/node-api/package.json" ]; then
		echo "bench: installing @duckdb/node-api ${DUCKDB_NODE_VERSION:-1.5.6-r.1} into build/duckdb-node (once)" >&2
		mkdir -p "$DD"
		[ -f "$DD/package.json" ] || echo '{"private":true}' > "$DD/package.json"
		(cd "$DD" && npm install --silent --no-audit --no-fund "@duckdb/node-api@${DUCKDB_NODE_VERSION:-1.5.6-r.1}") >&2 ||
		    echo "bench: npm install failed: the DuckDB column is skipped" >&2
	fi
	if [ -f "$DD/node_modules/@duckdb/node-api/package.json" ]; then
		cp tests/bench/duckdb.mjs "$DD/run.mjs"
		DUCK="node '$DD/run.mjs'"
	fi
else
	echo "bench: no npm: the DuckDB column is skipped (install Node.js and npm to fill it)"
fi
rj() { printf "read_json('%s', format='newline_delimited')" "$1"; }

# ---- the works ----
# work KEY BYTES LABEL: starts a row; ndf/peer add its commands (stdin and stdout inside them).
: > "$W/rows"
work() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$W/rows"; KEY=$1; }
ndf() { printf '%s\n' "$1" > "$W/$KEY.ndflow"; }
peer() { printf '%s\n' "$2" > "$W/$KEY.$1"; }
duck() { [ -z "$DUCK" ] || peer duckdb "$DUCK \"$1\" > /dev/null"; }

SZ=$(wc -c < "$F")
work groupby "$SZ" "aggregate -g page count sum mean p50"
ndf "aggregate -g page count sum:value mean:value p50:value -i '$F' > /dev/null"
duck "SELECT page, count(*), sum(value), avg(value), quantile_cont(value, 0.5) FROM $(rj "$F") GROUP BY page"
peer jq "jq -n -c '[inputs | [.page, .value]] | group_by(.[0]) | .[] | (map(.[1]) | sort) as \$v
    | (\$v | length) as \$n | ((\$n - 1) / 2) as \$h | (\$h | floor) as \$l
    | {page: .[0][0], count: \$n, sum: (\$v | add), mean: ((\$v | add) / \$n),
       p50: (\$v[\$l] + (\$h - \$l) * (\$v[[\$l + 1, \$n - 1] | min] - \$v[\$l]))}' < '$F' > /dev/null"
peer mlr "mlr --ijsonl --ojsonl stats1 -a count,sum,mean,p50 -f value -g page < '$F' > /dev/null"
peer mawk "mawk -F'\t' '{ n[\$1]++; s[\$1] += \$2 } END { for (k in n) print k, n[k], s[k], s[k] / n[k] }' < '$W/page-value.tsv' > /dev/null"
peer datamash "datamash -s -g 1 count 2 sum 2 mean 2 median 2 < '$W/page-value.tsv' > /dev/null"

work groupby-j2 "$SZ" "  the same, aggregate -j 2"
ndf "aggregate -j 2 -g page count sum:value mean:value p50:value -i '$F' > /dev/null"
duck "SELECT page, count(*), sum(value), avg(value), quantile_cont(value, 0.5) FROM $(rj "$F") GROUP BY page"

work filter "$SZ" "ingest --where '.value > 50'"
ndf "ingest --where '.value > 50' '$F' > /dev/null"
duck "COPY (SELECT * FROM $(rj "$F") WHERE value > 50) TO '/dev/null' (FORMAT json)"
peer jq "jq -c 'select(.value > 50)' < '$F' > /dev/null"
peer mlr "mlr --ijsonl --ojsonl filter '\$value > 50' < '$F' > /dev/null"
peer mawk "mawk -F'\"value\":' '\$2 + 0 > 50' < '$F' > /dev/null"

CSZ=$(wc -c < "$W/events.csv")
work csv "$CSZ" "ingest --format csv --infer (CSV to NDJSON)"
ndf "ingest --format csv --infer '$W/events.csv' > /dev/null"
duck "COPY (SELECT * FROM read_csv('$W/events.csv')) TO '/dev/null' (FORMAT json)"
peer mlr "mlr --icsv --ojsonl cat < '$W/events.csv' > /dev/null"

DSZ=$(wc -c < "$W/dup.ndjson")
work distinct "$DSZ" "dedupe (whole record, 300k repeats)"
ndf "dedupe < '$W/dup.ndjson' > /dev/null"
duck "COPY (SELECT DISTINCT * FROM $(rj "$W/dup.ndjson")) TO '/dev/null' (FORMAT json)"
peer mlr "mlr --ijsonl --ojsonl uniq -a < '$W/dup.ndjson' > /dev/null"
peer mawk "mawk '!seen[\$0]++' < '$W/dup.ndjson' > /dev/null"

work ingest "$SZ" "ingest (pass-through, every line checked)"
ndf "ingest '$F' > /dev/null"
duck "COPY (SELECT * FROM $(rj "$F")) TO '/dev/null' (FORMAT json)"
peer jq "jq -c . < '$F' > /dev/null"
peer mlr "mlr --ijsonl --ojsonl cat < '$F' > /dev/null"

work window "$SZ" "window --tumbling 1m"
ndf "window --tumbling 1m --lateness 5s --late /dev/null '$F' > /dev/null"
peer ingest "ingest '$F' > /dev/null"

# ---- the runs ----
FAST="duckdb mawk datamash ingest"
SLOW="jq mlr"
[ "${BENCH_SLOW:-1}" != 0 ] || SLOW=""
# pair KEY TOOL REP: one run of KEY's TOOL command, and of ndflow's, in the order REP says; the ratio goes to KEY.TOOL.r.
pair() {
	if [ $(($3 % 2)) -eq 1 ]; then
		measure "$1.ndflow.p" "$(cat "$W/$1.ndflow")"
		measure "$1.$2" "$(cat "$W/$1.$2")"
	else
		measure "$1.$2" "$(cat "$W/$1.$2")"
		measure "$1.ndflow.p" "$(cat "$W/$1.ndflow")"
	fi
	awk -v a="$(tail -1 "$BENCH_TMP/$1.$2.t")" -v b="$(tail -1 "$BENCH_TMP/$1.ndflow.p.t")" \
	    'BEGIN { print a / (b > 0 ? b : 0.01) }' >> "$BENCH_TMP/$1.$2.r"
}
keys=$(cut -f1 "$W/rows")
rep=1
while [ "$rep" -le "$R" ]; do
	for k in $keys; do
		measure "$k.ndflow" "$(cat "$W/$k.ndflow")"
		for p in $FAST; do
			[ -f "$W/$k.$p" ] && pair "$k" "$p" "$rep"
		done
	done
	rep=$((rep + 1))
done
for k in $keys; do
	for p in $SLOW; do
		[ -f "$W/$k.$p" ] && pair "$k" "$p" 1
	done
done

# ---- the table ----
med() { [ -s "$BENCH_TMP/$1" ] && median < "$BENCH_TMP/$1" || echo -; }
# cell KEY TOOL: "RATIOx MiB", or "-" when the peer did not run that work.
cell() {
	if [ -s "$BENCH_TMP/$1.$2.r" ]; then
		awk -v r="$(med "$1.$2.r")" -v m="$(med "$1.$2.m")" 'BEGIN { printf "%6.2fx %4.0fM", r, m / 1024 }'
	else
		echo -
	fi
}
# bar KEY: the issue's bar for the row, and whether this run met it.
bar() {
	mbs=$(awk -v b="$2" -v t="$(med "$1.ndflow.t")" 'BEGIN { printf "%.0f", b / (t > 0 ? t : 0.01) / 1e6 }')
	case $1 in
	groupby) awk -v m="$mbs" 'BEGIN { printf ">= 600 MB/s: %s", (m >= 600 ? "met" : "not met") }' ;;
	groupby-j2) [ -s "$BENCH_TMP/$1.duckdb.r" ] && awk -v r="$(med "$1.duckdb.r")" \
	    'BEGIN { printf "< 0.5 of DuckDB'"'"'s time: %s (%.2f)", (r > 2 ? "met" : "not met"), 1 / r }' ;;
	csv) awk -v m="$mbs" -v r="$(med "$1.duckdb.r")" 'BEGIN {
		printf ">= 200 MB/s: %s; >= 2x DuckDB: %s", (m >= 200 ? "met" : "not met"),
		    (r == "-" ? "no DuckDB" : r >= 2 ? "met" : "not met") }' ;;
	distinct) awk -v r="$(med "$1.mawk.r")" -v m="$(med "$1.ndflow.m")" -v am="$(med "$1.mawk.m")" 'BEGIN {
		printf ">= 2x mawk: %s; <= 1/4 of its memory: %s", (r >= 2 ? "met" : "not met"),
		    (m * 4 <= am ? "met" : "not met") }' ;;
	window) awk -v r="$(med "$1.ingest.r")" 'BEGIN {
		printf "%.2fx ingest'"'"'s time; bar <= 1.3x: %s", 1 / r, (1 / r <= 1.3 ? "met" : "not met") }' ;;
	esac
}
echo "ndflow and its peers on the same work ($(nproc) cores; medians of $R paired runs; jq and Miller one run;"
echo "a peer's figure is its wall time as a multiple of ndflow's, then its peak memory):"
printf '  %-44s %7s %6s  %-13s  %-13s  %-13s  %-13s  %-13s  %s\n' work "MB/s" MiB "   DuckDB" "   jq" "   Miller" "   mawk" "   datamash" "bar (issue 17)"
while IFS="$(printf '\t')" read -r k bytes label; do
	t=$(med "$k.ndflow.t")
	m=$(med "$k.ndflow.m")
	printf '  %-44s %7.1f %6.1f  %13s  %13s  %13s  %13s  %13s  %s\n' "$label" \
	    "$(awk -v b="$bytes" -v t="$t" 'BEGIN { print b / (t > 0 ? t : 0.01) / 1e6 }')" \
	    "$(awk -v m="$m" 'BEGIN { print m / 1024 }')" \
	    "$(cell "$k" duckdb)" "$(cell "$k" jq)" "$(cell "$k" mlr)" "$(cell "$k" mawk)" "$(cell "$k" datamash)" \
	    "$(bar "$k" "$bytes")"
done < "$W/rows"
if [ -n "$DUCK" ]; then
	/usr/bin/time -f %M -o "$W/node.m" sh -c "$DUCK 'SELECT 1' > /dev/null"
	echo "  DuckDB $(node -e "console.log(require('$DD/node_modules/@duckdb/node-api/package.json').version)") on ${DUCKDB_THREADS:-2} threads, in node $(node --version):" \
	    "node with DuckDB loaded, running SELECT 1, peaks at $(awk '{ printf "%.0f", $1 / 1024 }' "$W/node.m") MiB."
fi
echo "  mawk and datamash group TSV (page, value: $(($(wc -c < "$W/page-value.tsv") / 1000000)) MB), cut from the same events; mawk computes no p50."
