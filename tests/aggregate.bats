#!/usr/bin/env bats
# aggregate: group-by in batch, per window and running, with mergeable partial states.

bats_require_minimum_version 1.5.0

setup() { load common-setup; _common_setup; }

# gen N SEED: N events in 7 groups, values in quarters from -500 to 500 (many
# repeats) and now and then a large one with a fraction; TSV "group<TAB>value".
gen() {
	awk -v n="$1" -v seed="$2" 'BEGIN {
		srand(seed)
		for (i = 0; i < n; i++) {
			g = "g" int(rand() * 7)
			v = int(rand() * 4000 - 2000) / 4
			if (rand() < 0.1) v = v * 1000 + 0.125
			printf "%s\t%.3f\n", g, v
		}
	}'
}

tsv2json() { awk -F'\t' '{ printf "{\"g\":\"%s\",\"v\":%s}\n", $1, $2 }'; }

# close_enough A B: every numeric cell of the two sorted TSV files agrees within
# 1e-9 relative (values below 1 in magnitude: absolute).
close_enough() {
	awk -F'\t' '
	NR == FNR { for (i = 1; i <= NF; i++) a[FNR, i] = $i; rows = FNR; next }
	{
		if ($1 != a[FNR, 1]) { print "group differs on line " FNR ": " $1 " vs " a[FNR, 1]; bad = 1 }
		for (i = 2; i <= NF; i++) {
			x = a[FNR, i] + 0; y = $i + 0; d = x - y; if (d < 0) d = -d
			m = x < 0 ? -x : x; if (m < 1) m = 1
			if (d / m > 1e-9) { print $1 " column " i ": " a[FNR, i] " vs " $i; bad = 1 }
		}
	}
	END { if (FNR != rows) { print "row counts differ"; bad = 1 }; exit bad }' "$1" "$2"
}

@test "sum, mean, min, max, median, perc 90 and 99, sstdev and countunique agree with GNU datamash" {
	command -v datamash >/dev/null || skip "datamash is not installed"
	gen 6000 7 > "$T/in.tsv"
	tsv2json < "$T/in.tsv" > "$T/in.ndjson"
	datamash --format '%.17g' -s -g 1 sum 2 mean 2 min 2 max 2 median 2 perc:90 2 perc:99 2 \
	    sstdev 2 countunique 2 < "$T/in.tsv" > "$T/dm.tsv"
	aggregate -g g sum:v mean:v min:v max:v median:v p90:v p99:v stddev:v distinct:v < "$T/in.ndjson" |
	    jq -r '[.g, .v_sum, .v_mean, .v_min, .v_max, .v_median, .v_p90, .v_p99, .v_stddev, .v_distinct] | @tsv' |
	    sort > "$T/ag.tsv"
	[ "$(wc -l < "$T/dm.tsv")" -eq 7 ]
	run close_enough "$T/dm.tsv" "$T/ag.tsv"
	assert_success
	assert_output ""
}

@test "without -g one group holds every record" {
	run aggregate count sum:value < "$DATA/agg-events.ndjson"
	assert_success
	assert_output '{"count":6,"value_sum":125.5}'
}

@test "group fields come first, then the specs in order, with default and given names" {
	run aggregate -g page,action max:value count=n p99.9:value < "$DATA/agg-events.ndjson"
	assert_success
	assert_line --index 0 '{"page":"home","action":"click","value_max":10,"n":3,"value_p99.9":10.0}'
	assert_line --index 1 '{"page":"home","action":"view","value_max":2.5,"n":1,"value_p99.9":2.5}'
	assert_equal "${#lines[@]}" 4
}

@test "groups are keyed by JSON value: 1 and 1.0 are one group, the string \"1\" another" {
	printf '{"k":1}\n{"k":"1"}\n{"k":1.0}\n{"k":1}\n' > "$T/in"
	run aggregate -g k count < "$T/in"
	assert_success
	assert_output "$(printf '{"k":1,"count":3}\n{"k":"1","count":1}')"
}

@test "a nested group path is named by its path and a missing group field groups as null" {
	printf '{"u":{"id":"a"}}\n{"u":{"id":"a"}}\n{"u":{}}\n' > "$T/in"
	run aggregate -g u.id count < "$T/in"
	assert_success
	assert_output "$(printf '{"u.id":"a","count":2}\n{"u.id":null,"count":1}')"
}

@test "first, last, mode, distinct and topN keep values as JSON" {
	run aggregate -g page first:user_id last:user_id mode:user_id distinct:user_id top2:action \
	    approx_distinct:user_id < "$DATA/agg-events.ndjson"
	assert_success
	assert_line --index 0 '{"page":"home","user_id_first":"u1","user_id_last":"u1","user_id_mode":"u1","user_id_distinct":3,"action_top2":[{"value":"click","count":3},{"value":"view","count":1}],"user_id_approx_distinct":3}'
	assert_line --index 1 '{"page":"cart","user_id_first":"u1","user_id_last":"u2","user_id_mode":"u1","user_id_distinct":2,"action_top2":[{"value":"buy","count":1},{"value":"click","count":1}],"user_id_approx_distinct":2}'
}

@test "var and stddev are sample statistics and null below two values" {
	printf '{"v":2}\n{"v":4}\n{"v":4}\n{"v":4}\n{"v":5}\n{"v":5}\n{"v":7}\n{"v":9}\n' > "$T/in"
	run aggregate var:v stddev:v < "$T/in"
	assert_output '{"v_var":4.571428571428571,"v_stddev":2.138089935299395}'
	echo '{"v":2}' | aggregate var:v stddev:v mean:v median:v > "$T/out"
	run cat "$T/out"
	assert_output '{"v_var":null,"v_stddev":null,"v_mean":2.0,"v_median":2.0}'
}

@test "quantiles interpolate linearly between order statistics (R type 7)" {
	printf '{"v":1}\n{"v":2}\n{"v":3}\n{"v":4}\n' > "$T/in"
	run aggregate median:v p90:v p0:v p100:v p25:v < "$T/in"
	assert_output '{"v_median":2.5,"v_p90":3.7,"v_p0":1.0,"v_p100":4.0,"v_p25":1.75}'
}

@test "integer sums stay exact past 2^53 and past int64 (128-bit integers)" {
	printf '{"v":9007199254740993}\n{"v":1}\n' > "$T/in"
	run aggregate sum:v < "$T/in"
	assert_output '{"v_sum":9007199254740994}'
	printf '{"v":9223372036854775807}\n{"v":1}\n' > "$T/in"
	run aggregate sum:v min:v max:v < "$T/in"
	assert_output '{"v_sum":9223372036854775808,"v_min":1,"v_max":9223372036854775807}'
}

@test "real sums are compensated" {
	for i in 1 2 3 4 5 6 7 8 9 10; do echo '{"v":0.1}'; done > "$T/in"
	printf '{"v":1e100}\n{"v":1}\n{"v":-1e100}\n' >> "$T/in"
	run aggregate sum:v < "$T/in"
	assert_output '{"v_sum":2.0}'
}

@test "numeric strings count as numbers; missing and null are skipped" {
	printf '{"v":"12"}\n{"v":"-2.5e1"}\n{"v":null}\n{}\n{"v":3}\n' > "$T/in"
	run aggregate count count:v sum:v < "$T/in"
	assert_success
	assert_output '{"count":5,"v_count":3,"v_sum":-10.0}'
}

@test "values that are not numbers are counted in FIELD_invalid and the run still succeeds" {
	printf '{"v":1}\n{"v":"abc"}\n{"v":true}\n{"v":[1]}\n' > "$T/in"
	run --separate-stderr aggregate count sum:v mean:v distinct:v < "$T/in"
	assert_success
	assert_output '{"count":4,"v_sum":1,"v_mean":1.0,"v_distinct":4,"v_invalid":3}'
	assert_equal "$stderr" ""
}

@test "with --dead-letter a record with an invalid number is also kept there" {
	printf '{"v":1}\n{"v":"abc"}\n' > "$T/in"
	run aggregate --dead-letter "$T/dl" sum:v < "$T/in"
	assert_success
	assert_output '{"v_sum":1,"v_invalid":1}'
	run cat "$T/dl"
	assert_output '{"file":"-","line":2,"offset":8,"reason":"field '"'"'v'"'"' is string, expected number","raw":"{\"v\":\"abc\"}"}'
}

@test "with --strict an invalid number stops the run with status 1" {
	printf '{"v":1}\n{"v":"abc"}\n{"v":2}\n' > "$T/in"
	run -1 --separate-stderr aggregate --strict sum:v < "$T/in"
	assert_equal "$stderr" "aggregate: -:2: field 'v' is string, expected number"
}

@test "a line that is not JSON is rejected with its position and status 1" {
	printf '{"v":1}\n{"v":\n{"v":2}\n' > "$T/in"
	run -1 --separate-stderr aggregate sum:v < "$T/in"
	assert_output '{"v_sum":3}'
	assert_equal "${stderr_lines[0]}" "aggregate: -:2: invalid JSON at column 6: a value expected near end of file"
}

# ---- bad specs and options ----

@test "bad specs are rejected with a message and status 2" {
	while IFS='|' read -r spec msg; do
		run -2 --separate-stderr aggregate $spec < /dev/null
		assert_equal "${stderr_lines[0]}" "aggregate: $msg"
		assert_equal "${stderr_lines[1]}" "Try 'aggregate --help' for more information."
	done <<'EOF'
frob:v|unknown function 'frob' in spec 'frob:v'
pxx:v|unknown function 'pxx' in spec 'pxx:v'
:v|missing function in spec ':v'
sum|function 'sum' needs a field: 'sum:FIELD'
median|function 'median' needs a field: 'median:FIELD'
p101:v|percentile must be from 0 to 100 in spec 'p101:v'
top0:page|top needs a whole count from 1 to 1000000 in spec 'top0:page'
top2.5:page|top needs a whole count from 1 to 1000000 in spec 'top2.5:page'
sum:|empty field in spec 'sum:'
sum:v=|empty name in spec 'sum:v='
sum:v sum:v|duplicate output name 'v_sum' in spec 'sum:v'
count count:x=count|duplicate output name 'count' in spec 'count:x=count'
sum:a[|bad field 'a[' in spec 'sum:a[': expected an integer index and ']'
EOF
}

@test "no spec at all is a usage error" {
	run -2 --separate-stderr aggregate < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: no aggregate given (for example: count, sum:value, p99:value)"
}

@test "a bad -g field is a usage error naming the option and column" {
	run -2 --separate-stderr aggregate -g 'page,a[' count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --group-by: column 3: expected an integer index and ']': a["
}

@test "bad option values are usage errors" {
	run -2 --separate-stderr aggregate --format xml count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --format: unknown format 'xml' (ndjson, json, csv, tsv, table, markdown, html)"
	run -2 --separate-stderr aggregate --top 0 count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --top: must be from 1 to 1000000000: 0"
	run -2 --separate-stderr aggregate --every 0 count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --every: must be from 1 to 1000000000: 0"
	run -2 --separate-stderr aggregate --every 5x count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --every: unknown unit 'x': 5x"
	run -2 --separate-stderr aggregate --sort nope count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --sort: no output column 'nope'"
	run -2 --separate-stderr aggregate --sort , count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --sort: empty column name in list: ,"
	run -2 --separate-stderr aggregate --partial --format csv count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --partial writes state records: --format, --sort and --top do not apply"
	run -2 --separate-stderr aggregate --partial --every 5 count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --partial and --every cannot be combined"
	run -2 --separate-stderr aggregate --merge --every 5 count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --merge and --every cannot be combined"
}

# ---- windowed mode ----

@test "records with window fields are grouped per window and emitted when a watermark reaches window_end" {
	run aggregate -g page count sum:value < "$DATA/agg-windows.ndjson"
	assert_success
	assert_output "$(cat <<'EOF'
{"window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T10:01:00Z","page":"home","count":2,"value_sum":4}
{"window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T10:01:00Z","page":"cart","count":1,"value_sum":2}
{"@watermark":"2024-03-15T10:01:00Z"}
{"window_start":"2024-03-15T10:01:00Z","window_end":"2024-03-15T10:02:00Z","page":"home","count":2,"value_sum":9}
{"@watermark":"2024-03-15T10:02:30Z"}
{"window_start":"2024-03-15T10:02:00Z","window_end":"2024-03-15T10:03:00Z","page":"cart","count":2,"value_sum":13}
EOF
)"
}

@test "--no-watermarks drops the watermarks from the output" {
	run aggregate --no-watermarks count < "$DATA/agg-windows.ndjson"
	assert_success
	refute_output --partial '@watermark'
	assert_equal "${#lines[@]}" 3
}

@test "a watermark with a bad time and a window without window_end are rejected" {
	printf '{"@watermark":"yesterday"}\n{"window_start":"2024-03-15T10:00:00Z","v":1}\n{"window_start":"a","window_end":"b"}\n' > "$T/in"
	run -1 --separate-stderr aggregate count < "$T/in"
	assert_equal "${stderr_lines[0]}" "aggregate: -:1: bad watermark: not an RFC 3339 time or \"+inf\""
	assert_equal "${stderr_lines[1]}" "aggregate: -:2: missing field 'window_end'"
	assert_equal "${stderr_lines[2]}" "aggregate: -:3: field 'window_end' is not a valid time"
}

@test "window | aggregate gives per-window results" {
	command -v window >/dev/null || skip "window is not built yet"
	printf '{"timestamp":"2024-03-15T10:00:10Z","page":"a"}\n{"timestamp":"2024-03-15T10:00:50Z","page":"a"}\n{"timestamp":"2024-03-15T10:01:10Z","page":"a"}\n' > "$T/in"
	window --tumbling 1m < "$T/in" > "$T/windowed"
	run aggregate -g page count < "$T/windowed"
	assert_success
	assert_output "$(cat <<'EOF'
{"window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T10:01:00Z","page":"a","count":2}
{"@watermark":"2024-03-15T10:01:10Z"}
{"window_start":"2024-03-15T10:01:00Z","window_end":"2024-03-15T10:02:00Z","page":"a","count":1}
{"@watermark":"+inf"}
EOF
)"
}

@test "on a live pipe a window's result comes out before the input ends" {
	mkfifo "$T/fifo"
	aggregate -g page count < "$T/fifo" > "$T/out" 3>&- &
	pid=$!
	exec 4> "$T/fifo"
	echo '{"window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T10:01:00Z","page":"home"}' >&4
	echo '{"@watermark":"2024-03-15T10:01:00Z"}' >&4
	for i in $(seq 1 200); do
		grep -q '@watermark' "$T/out" && break
		sleep 0.05
	done
	run cat "$T/out"
	exec 4>&-
	wait "$pid"
	assert_output "$(printf '%s\n%s' '{"window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T10:01:00Z","page":"home","count":1}' '{"@watermark":"2024-03-15T10:01:00Z"}')"
}

# ---- partial and merge ----

# parts N: split $T/all.ndjson into N files $T/part.*
parts() { rm -f "$T"/part.*; split -n "l/$1" -d "$T/all.ndjson" "$T/part."; }

@test "partial then merge equals one run, for the input in 1, 2 and 7 parts merged in any order" {
	gen 3000 11 | awk -F'\t' '{ printf "{\"g\":\"%s\",\"v\":%d,\"u\":\"u%d\"}\n", $1, $2, NR % 97 }' > "$T/all.ndjson"
	specs="count sum:v mean:v min:v max:v median:v p90:v distinct:u mode:u top3:u approx_distinct:u"
	aggregate -g g $specs < "$T/all.ndjson" | sort > "$T/one"
	aggregate -g g var:v stddev:v < "$T/all.ndjson" | sort > "$T/one.var"
	for n in 1 2 7; do
		parts $n
		for f in "$T"/part.*; do aggregate -g g --partial $specs < "$f" > "$f.st"; done
		ls "$T"/part.*.st > "$T/order"
		for order in cat "sort -r" "awk '{ a[NR] = \$0 } END { for (i = 1; i <= NR; i += 2) print a[i]; for (i = 2; i <= NR; i += 2) print a[i] }'"; do
			sh -c "$order" < "$T/order" | while read -r f; do cat "$f"; done |
			    aggregate -g g --merge $specs | sort > "$T/merged"
			run diff "$T/one" "$T/merged"
			assert_success
		done
		for f in "$T"/part.*[0-9]; do aggregate -g g --partial var:v stddev:v < "$f"; done |
		    aggregate -g g --merge var:v stddev:v | sort > "$T/merged.var"
		run close_enough <(jq -r '[.g, .v_var, .v_stddev] | @tsv' "$T/one.var") \
		    <(jq -r '[.g, .v_var, .v_stddev] | @tsv' "$T/merged.var")
		assert_success
	done
}

@test "merging merged states again (a tree of reducers) still equals one run" {
	gen 2000 5 | tsv2json > "$T/all.ndjson"
	aggregate -g g count sum:v p99:v < "$T/all.ndjson" | sort > "$T/one"
	parts 4
	( aggregate -g g --partial count sum:v p99:v -i "$T/part.00" -i "$T/part.01" | aggregate -g g --merge --partial count sum:v p99:v
	  for f in "$T/part.02" "$T/part.03"; do aggregate -g g --partial count sum:v p99:v -i "$f"; done ) |
	    aggregate -g g --merge count sum:v p99:v | sort > "$T/merged"
	run close_enough <(jq -r '[.g, .count, .v_sum, .v_p99] | @tsv' "$T/one") <(jq -r '[.g, .count, .v_sum, .v_p99] | @tsv' "$T/merged")
	assert_success
}

@test "parallel --pipe with aggregate --partial as mapper and --merge as reducer equals one run" {
	command -v parallel >/dev/null || skip "GNU parallel is not installed"
	gen 5000 3 | awk -F'\t' '{ printf "{\"g\":\"%s\",\"v\":%d}\n", $1, $2 }' > "$T/all.ndjson"
	aggregate -g g count sum:v median:v distinct:v < "$T/all.ndjson" | sort > "$T/one"
	parallel --pipe --block 20k -j 2 aggregate -g g --partial count sum:v median:v distinct:v < "$T/all.ndjson" |
	    aggregate -g g --merge count sum:v median:v distinct:v | sort > "$T/merged"
	run diff "$T/one" "$T/merged"
	assert_success
}

@test "windowed partial states keep their windows and merge per window" {
	aggregate -g page --partial count sum:value < "$DATA/agg-windows.ndjson" > "$T/st"
	run aggregate -g page --merge --no-watermarks count sum:value < "$T/st"
	assert_success
	assert_line --index 0 '{"window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T10:01:00Z","page":"home","count":2,"value_sum":4}'
	assert_equal "${#lines[@]}" 4
}

@test "a state record is versioned and names its group, specs and states" {
	printf '{"g":"a","v":1}\n{"g":"a","v":"x"}\n' > "$T/in"
	run aggregate -g g --partial count sum:v < "$T/in"
	assert_output '{"@agg_state":1,"group":{"g":"a"},"specs":["count=count","sum:v=v_sum"],"states":[2,[1,1,0.0,0.0,false]],"invalid":[1]}'
}

@test "merging states of other group fields, specs or --approx is refused with status 2" {
	printf '{"g":"a","h":1,"v":1}\n' > "$T/in"
	aggregate -g g --partial count sum:v < "$T/in" > "$T/st"
	run -2 --separate-stderr aggregate -g g,h --merge count sum:v < "$T/st"
	assert_equal "$stderr" "aggregate: -:1: state record groups by 'g', this run by 'g,h'"
	run -2 --separate-stderr aggregate -g g --merge count mean:v < "$T/st"
	assert_equal "$stderr" "aggregate: -:1: state record has aggregates 'count=count sum:v=v_sum', this run 'count=count mean:v=v_mean'"
	run -2 --separate-stderr aggregate -g g --merge --approx count sum:v < "$T/st"
	assert_equal "$stderr" "aggregate: -:1: state record was made without --approx, this run is with it"
	run -2 --separate-stderr aggregate --merge count sum:v < "$T/st"
	assert_equal "$stderr" "aggregate: -:1: state record groups by 'g', this run by ''"
}

@test "--merge rejects lines that are not state records" {
	printf '{"g":"a"}\n{"@agg_state":2}\n{"@agg_state":1,"group":{},"specs":["count=count"],"states":["x"],"invalid":[]}\n' > "$T/in"
	run -1 --separate-stderr aggregate --merge count < "$T/in"
	assert_output ""
	assert_equal "${stderr_lines[0]}" "aggregate: -:1: not an aggregate state record"
	assert_equal "${stderr_lines[1]}" "aggregate: -:2: unsupported aggregate state version 2"
	assert_equal "${stderr_lines[2]}" "aggregate: -:3: malformed aggregate state record"
}

# ---- sort, top, format ----

@test "--sort orders each batch by output columns, - for descending" {
	run aggregate -g page,action --sort -count,action count < "$DATA/agg-events.ndjson"
	assert_success
	assert_output "$(cat <<'EOF'
{"page":"home","action":"click","count":3}
{"page":"cart","action":"buy","count":1}
{"page":"cart","action":"click","count":1}
{"page":"home","action":"view","count":1}
EOF
)"
}

@test "--top N keeps the first N of a sorted batch, and alone ranks by the first aggregate" {
	run aggregate -g user_id --sort user_id --top 2 count < "$DATA/agg-events.ndjson"
	assert_output "$(printf '%s\n%s' '{"user_id":"u1","count":3}' '{"user_id":"u2","count":2}')"
	run aggregate -g user_id --top 1 sum:value < "$DATA/agg-events.ndjson"
	assert_output '{"user_id":"u2","value_sum":102.5}'
}

@test "--format table aligns columns, numbers to the right" {
	run aggregate -g page --format table count sum:value < "$DATA/agg-events.ndjson"
	assert_success
	assert_output "$(cat <<'EOF'
page  count  value_sum
home      4       18.5
cart      2        107
EOF
)"
}

@test "--format csv writes a header and quotes where needed" {
	printf '{"p":"a,b","v":1}\n{"p":"say \\"hi\\"","v":2}\n{"p":null,"v":3}\n' > "$T/in"
	run aggregate -g p --format csv sum:v top1:p < "$T/in"
	assert_success
	assert_output "$(cat <<'EOF'
p,v_sum,p_top1,v_invalid
"a,b",1,"[{""value"":""a,b"",""count"":1}]",0
"say ""hi""",2,"[{""value"":""say \""hi\"""",""count"":1}]",0
,3,[],0
EOF
)"
}

@test "window | aggregate --format table writes its header once, with the same widths for every window" {
	printf '%s\n' '{"timestamp":"2024-03-15T10:00:10Z","v":1}' '{"timestamp":"2024-03-15T10:01:10Z","v":12345}' \
	    '{"timestamp":"2024-03-15T10:02:10Z","v":2}' > "$T/in"
	window --tumbling 1m < "$T/in" > "$T/windowed"
	# Three windows, so three batches: one header, then rows that line up with it.
	run -0 aggregate --format table count sum:v < "$T/windowed"
	assert_output "$(cat <<'EOF'
window_start          window_end            count  v_sum
2024-03-15T10:00:00Z  2024-03-15T10:01:00Z      1      1
2024-03-15T10:01:00Z  2024-03-15T10:02:00Z      1  12345
2024-03-15T10:02:00Z  2024-03-15T10:03:00Z      1      2
EOF
)"
}

@test "--format table escapes control characters in cells, so none reaches the terminal" {
	printf '%s\n' '{"p":"a\u001b[31mb\tc"}' > "$T/in"
	run -0 aggregate -g p --format table count < "$T/in"
	assert_output "$(printf '%s\n%s' 'p                count' 'a\u001b[31mb\tc      1')"
	refute_output --partial "$(printf '\033')"
}

@test "--format takes every format of lib/table: json, tsv, markdown and html too" {
	run -0 aggregate -g page --format json count < "$DATA/agg-events.ndjson"
	assert_output "$(printf '%s\n' '[' '{"page":"home","count":4},' '{"page":"cart","count":2}' ']')"
	run -0 aggregate -g page --format tsv count < "$DATA/agg-events.ndjson"
	assert_output "$(printf 'page\tcount\nhome\t4\ncart\t2')"
	run -0 aggregate -g page --format markdown count < "$DATA/agg-events.ndjson"
	assert_line --index 0 '| page | count |'
	run -0 aggregate -g page --format html count < "$DATA/agg-events.ndjson"
	assert_line --index 0 '<table>'
	# --partial writes NDJSON state records: naming that format is allowed.
	run -0 aggregate --partial --format ndjson count < /dev/null
	assert_output '{"@agg_state":1,"group":{},"specs":["count=count"],"states":[0],"invalid":[]}'
}

# ---- running results ----

@test "--every N emits running results every N records, marked final:false, and the final ones at the end" {
	printf '{"v":1}\n{"v":2}\n{"v":3}\n{"v":4}\n{"v":5}\n' > "$T/in"
	run aggregate --every 2 count sum:v < "$T/in"
	assert_output "$(printf '%s\n' '{"count":2,"v_sum":3,"final":false}' '{"count":4,"v_sum":10,"final":false}' '{"count":5,"v_sum":15,"final":true}')"
	run aggregate --every 5 count < "$T/in"
	assert_output "$(printf '%s\n' '{"count":5,"final":false}' '{"count":5,"final":true}')"
}

@test "--every DURATION emits running results each time event time crosses a boundary" {
	printf '{"timestamp":"2024-03-15T10:00:10Z","v":1}\n{"timestamp":"2024-03-15T10:00:50Z","v":2}\n{"timestamp":"2024-03-15T10:01:05Z","v":3}\n{"timestamp":"2024-03-15T10:03:00Z","v":4}\n{"v":9}\n' > "$T/in"
	run -1 --separate-stderr aggregate --every 1m sum:v < "$T/in"
	assert_output "$(printf '%s\n' '{"v_sum":3,"final":false}' '{"v_sum":6,"final":false}' '{"v_sum":10,"final":true}')"
	assert_equal "${stderr_lines[0]}" "aggregate: -:5: missing time field 'timestamp'"
}

@test "--every DURATION reads the time from --time-field" {
	printf '{"ts":1710496810,"v":1}\n{"ts":1710496870,"v":2}\n' > "$T/in"
	run aggregate -t ts --time-format epoch_s --every 1m sum:v < "$T/in"
	assert_output "$(printf '%s\n' '{"v_sum":1,"final":false}' '{"v_sum":3,"final":true}')"
}

# ---- --approx ----

@test "--approx uses sketches within their error bounds" {
	awk 'BEGIN { for (i = 1; i <= 20000; i++) printf "{\"v\":%d,\"u\":\"user%d\"}\n", i, i }' > "$T/in"
	run aggregate --approx median:v p99:v distinct:u approx_distinct:u < "$T/in"
	assert_success
	echo "$output" | jq -e '(.v_median - 10000 | fabs) < 300 and (.v_p99 - 19800 | fabs) < 300
	    and (.u_distinct - 20000 | fabs) < 600 and .u_distinct == .u_approx_distinct' >/dev/null
}

@test "--approx states merge, and a run without --approx reads the same sketch" {
	awk 'BEGIN { for (i = 1; i <= 5000; i++) printf "{\"v\":%d}\n", i }' > "$T/all.ndjson"
	parts 3
	for f in "$T"/part.*; do aggregate --approx --partial p50:v approx_distinct:v < "$f"; done > "$T/st"
	run aggregate --approx --merge p50:v approx_distinct:v < "$T/st"
	assert_success
	echo "$output" | jq -e '(.v_p50 - 2500 | fabs) < 75 and (.v_approx_distinct - 5000 | fabs) < 150' >/dev/null
}

# ---- --state ----

@test "--state keeps open windows between runs and emits them once a watermark closes them" {
	w1='{"window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T10:01:00Z","v":1}'
	w2='{"window_start":"2024-03-15T10:01:00Z","window_end":"2024-03-15T10:02:00Z","v":5}'
	printf '%s\n%s\n' "$w1" "$w2" > "$T/run1"
	run aggregate --state "$T/st" count sum:v < "$T/run1"
	assert_success
	assert_output ""
	printf '%s\n{"@watermark":"2024-03-15T10:01:00Z"}\n' "$w1" > "$T/run2"
	run aggregate --state "$T/st" --no-watermarks count sum:v < "$T/run2"
	assert_output '{"window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T10:01:00Z","count":2,"v_sum":2}'
	run aggregate --state "$T/st" count sum:v < /dev/null
	assert_output ""
	run aggregate --state "$T/st" --no-watermarks count sum:v <<< '{"@watermark":"+inf"}'
	assert_output '{"window_start":"2024-03-15T10:01:00Z","window_end":"2024-03-15T10:02:00Z","count":1,"v_sum":5}'
}

@test "--state continues running totals of groups without windows" {
	run aggregate --state "$T/st" -g g count <<< '{"g":"a"}'
	assert_output '{"g":"a","count":1}'
	run aggregate --state "$T/st" -g g count <<< '{"g":"a"}'
	assert_output '{"g":"a","count":2}'
}

@test "--state of other specs is refused with status 2" {
	aggregate --state "$T/st" -g g count <<< '{"g":"a"}'
	run -2 --separate-stderr aggregate --state "$T/st" -g g count sum:v < /dev/null
	assert_equal "$stderr" "aggregate: state file $T/st: it was saved by a run with aggregates count=count; this run has aggregates count=count sum:v=v_sum"
}

@test "a state file locked by another run is an I/O error" {
	command -v flock >/dev/null || skip "flock is not installed"
	touch "$T/st.lock"
	run -3 --separate-stderr flock "$T/st.lock" aggregate --state "$T/st" count < /dev/null
	assert_equal "$stderr" "aggregate: state file $T/st is locked by another run"
}

# ---- common options ----

@test "-i reads files in order, - being standard input" {
	printf '{"v":1}\n' > "$T/a"
	printf '{"v":2}\n' > "$T/b"
	run aggregate -i "$T/a" -i - -i "$T/b" sum:v <<< '{"v":10}'
	assert_output '{"v_sum":13}'
}

@test "an unreadable -i file is an I/O error" {
	run -3 --separate-stderr aggregate -i "$T/nope" count
	assert_output '{"count":0}'
	assert_equal "${stderr_lines[0]}" "aggregate: $T/nope: No such file or directory"
}

@test "-o writes the results to a file" {
	run aggregate -o "$T/out" count < "$DATA/agg-events.ndjson"
	assert_success
	assert_output ""
	run cat "$T/out"
	assert_output '{"count":6}'
}

@test "--stats reports records and groups" {
	run --separate-stderr aggregate --stats -g page count < "$DATA/agg-events.ndjson"
	assert_success
	echo "$stderr" | jq -e '.records_in == 6 and .records_out == 2 and .groups == 2' >/dev/null
}

@test "--help shows the usage and -V the version" {
	run aggregate --help
	assert_success
	assert_line --index 0 'Usage: aggregate [options] SPEC ... [FILE ...]'
	assert_output --partial '--partial'
	run aggregate -V
	assert_success
	assert_output --regexp '^aggregate \(ndflow\) '
}

@test "a write error is status 3" {
	[ -w /dev/full ] || skip "no /dev/full"
	run -3 --separate-stderr sh -c 'aggregate count < "$1" > /dev/full' sh "$DATA/agg-events.ndjson"
	assert_equal "$stderr" "aggregate: write error: No space left on device"
}

@test "an empty input gives one row without -g and none with it" {
	run aggregate count sum:v mean:v < /dev/null
	assert_output '{"count":0,"v_sum":0,"v_mean":null}'
	run aggregate -g g count < /dev/null
	assert_output ""
}

@test "--format ndjson is the default format" {
	run aggregate --format ndjson -g page count < "$DATA/agg-events.ndjson"
	assert_output "$(printf '%s\n%s' '{"page":"home","count":4}' '{"page":"cart","count":2}')"
}

@test "--max-line-bytes rejects a longer line and goes on" {
	printf '{"v":1}\n{"v":2,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}\n{"v":3}\n' > "$T/in"
	run -1 --separate-stderr aggregate --max-line-bytes 32 sum:v < "$T/in"
	assert_output '{"v_sum":4}'
	assert_equal "${stderr_lines[0]}" "aggregate: -:2: line longer than 32 bytes (--max-line-bytes)"
}

@test "mode and top break ties the same way whatever the input order" {
	printf '{"v":"b"}\n{"v":10}\n{"v":"a"}\n{"v":9}\n' > "$T/in"
	run aggregate mode:v top4:v < "$T/in"
	assert_output '{"v_mode":9,"v_top4":[{"value":9,"count":1},{"value":10,"count":1},{"value":"a","count":1},{"value":"b","count":1}]}'
	tac "$T/in" > "$T/rev"
	run aggregate mode:v top4:v < "$T/rev"
	assert_output '{"v_mode":9,"v_top4":[{"value":9,"count":1},{"value":10,"count":1},{"value":"a","count":1},{"value":"b","count":1}]}'
}

@test "--where aggregates only the records the expression holds for, and counts the others as filtered" {
	run --separate-stderr aggregate -g page --where '.action == "click" and .value > 0' --stats count sum:value < "$DATA/agg-events.ndjson"
	assert_success
	assert_output '{"page":"home","count":2,"value_sum":20}'
	echo "$stderr" | jq -e '.filtered == 4 and .records_in == 6' >/dev/null
}

@test "--where keeps watermarks and refuses a bad expression or --merge" {
	run aggregate --where '.page == "cart"' --no-watermarks count < "$DATA/agg-windows.ndjson"
	assert_success
	assert_output "$(printf '%s\n%s' '{"window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T10:01:00Z","count":1}' '{"window_start":"2024-03-15T10:02:00Z","window_end":"2024-03-15T10:03:00Z","count":2}')"
	run -2 --separate-stderr aggregate --where '.value >' count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --where: column 9: expected a value after '>'"
	run -2 --separate-stderr aggregate --merge --where '.x' count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --where does not apply to --merge: filter the --partial runs"
}

@test "a windowed table or CSV leaves the watermarks out" {
	run aggregate --format csv count sum:value < "$DATA/agg-windows.ndjson"
	assert_success
	assert_output "$(cat <<'EOF'
window_start,window_end,count,value_sum,value_invalid
2024-03-15T10:00:00Z,2024-03-15T10:01:00Z,3,6,0
2024-03-15T10:01:00Z,2024-03-15T10:02:00Z,2,9,0
2024-03-15T10:02:00Z,2024-03-15T10:03:00Z,2,13,0
EOF
)"
}

@test "--sort compares numbers by value, whatever column follows" {
	printf '{"g":"a","v":9,"w":99}\n{"g":"b","v":10,"w":1}\n{"g":"c","v":2,"w":1}\n' > "$T/in"
	run aggregate -g g --sort -v_max max:v sum:w < "$T/in"
	assert_output "$(printf '%s\n' '{"g":"b","v_max":10,"w_sum":1}' '{"g":"a","v_max":9,"w_sum":99}' '{"g":"c","v_max":2,"w_sum":1}')"
	printf '{"g":"a","v":9}\n{"g":"b","v":10}\n{"g":"b","v":1}\n{"g":"c","v":2}\n' > "$T/in"
	run aggregate -g g --sort count,-g count max:v < "$T/in"
	assert_output "$(printf '%s\n' '{"g":"c","count":1,"v_max":2}' '{"g":"a","count":1,"v_max":9}' '{"g":"b","count":2,"v_max":10}')"
}

# ---- issue 12: exact answers ----

@test "fractional percentiles equal R's quantile(type = 7): p33.3 of 0..1000 is 333, p99.9 is 999" {
	# By hand: h = 1000 * 0.333 = 333 and 1000 * 0.999 = 999 exactly, whole ranks, no interpolation;
	# p12.345: h = 123.45, so 123 + 0.45 * (124 - 123) = 123.45.
	seq 0 1000 | awk '{ printf "{\"v\":%d}\n", $1 }' > "$T/in"
	run -0 aggregate p33.3:v p99.9:v p12.345:v p0.1:v < "$T/in"
	assert_output '{"v_p33.3":333.0,"v_p99.9":999.0,"v_p12.345":123.45,"v_p0.1":1.0}'
}

@test "a sum past the double range is reported, counted and null, and its mean stays exact" {
	printf '{"v":1e308}\n{"v":1e308}\n' > "$T/in"
	run -0 --separate-stderr aggregate --stats sum:v mean:v < "$T/in"
	assert_output '{"v_sum":null,"v_mean":1e+308}'
	[[ "${stderr_lines[0]}" == 'aggregate: a result is past the range of a double and is written as null' ]]
	[[ "${stderr_lines[1]}" == *'"overflows":1,'* ]]
}

@test "an int64 sum that overflows midway is exact when the total fits" {
	printf '{"v":9223372036854775807}\n{"v":9223372036854775807}\n{"v":-9223372036854775807}\n' > "$T/in"
	run -0 aggregate sum:v < "$T/in"
	assert_output '{"v_sum":9223372036854775807}'
}

@test "min and max of integers past 64 bits select exactly and keep their digits, through --partial too" {
	printf '{"v":123456789012345678901234567890}\n{"v":123456789012345678901234567891}\n{"v":7}\n' > "$T/in"
	run -0 aggregate min:v max:v < "$T/in"
	assert_output '{"v_min":7,"v_max":123456789012345678901234567891}'
	aggregate --partial min:v max:v < "$T/in" > "$T/part"
	run -0 aggregate --merge min:v max:v < "$T/part"
	assert_output '{"v_min":7,"v_max":123456789012345678901234567891}'
}

@test "an output name that is a group field is refused like any duplicate name" {
	run -2 --separate-stderr aggregate -g a count=a < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: duplicate output name 'a' in spec 'count=a'"
}

@test "--format csv keeps a FIELD_invalid column that first appears in a later batch" {
	# Window 1 has a number, window 2 a string: v_invalid is 0 then 1 (by hand), never dropped.
	printf '%s\n' '{"window_start":"2024-01-01T00:00:00Z","window_end":"2024-01-01T00:01:00Z","v":1}' \
	    '{"@watermark":"2024-01-01T00:01:00Z"}' \
	    '{"window_start":"2024-01-01T00:01:00Z","window_end":"2024-01-01T00:02:00Z","v":"x"}' > "$T/in"
	run -0 aggregate --format csv count sum:v < "$T/in"
	assert_output 'window_start,window_end,count,v_sum,v_invalid
2024-01-01T00:00:00Z,2024-01-01T00:01:00Z,1,1,0
2024-01-01T00:01:00Z,2024-01-01T00:02:00Z,1,0,1'
}

@test "--format csv stops with status 1 when a later batch has a column the header lacks" {
	# Running results of a record without windows fix the header; a windowed batch cannot fit it.
	printf '%s\n' '{"v":1}' '{"window_start":"2024-01-01T00:00:00Z","window_end":"2024-01-01T00:01:00Z","v":2}' > "$T/in"
	run -1 --separate-stderr aggregate --format csv --every 1 count < "$T/in"
	assert_equal "${stderr_lines[0]}" "aggregate: --format csv: column 'window_start' first appears after the header was written; use --format ndjson"
}

@test "--every on empty input still writes the zero row that a run without --every writes" {
	run -0 aggregate count < /dev/null
	assert_output '{"count":0}'
	run -0 aggregate --every 1m count < /dev/null
	assert_output '{"count":0,"final":true}'
}

# burst N: N groups in one window, the watermark that closes it, then N-1 later watermarks.
burst() {
	awk -v n="$1" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "{\"window_start\":\"2024-01-01T00:00:00Z\",\"window_end\":\"2024-01-01T00:01:00Z\",\"g\":%d}\n", i
		for (j = 0; j < n; j++)
			printf "{\"@watermark\":\"2024-01-01T%02d:%02d:%02dZ\"}\n", 1 + int(j / 3600), int(j / 60) % 60, j % 60
	}'
}

@test "closing windows costs what closes: groups visited grow linearly (n and 8n), not with table size" {
	# The first watermark closes the n groups (n visited, plus the one it stops at); each later
	# one looks at one group only: 2n in all.  Scanning the table would be about n * n.
	for n in 1000 8000; do
		burst $n > "$T/in"
		run -0 --separate-stderr aggregate -g g --stats count < "$T/in"
		assert_equal "$(grep -c '"count":1}' <<<"$output")" "$n"
		assert_equal "$(jq '.groups_visited' <<<"$stderr")" "$((2 * n))"
	done
}
