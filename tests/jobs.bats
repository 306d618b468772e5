#!/usr/bin/env bats
# aggregate -j N: worker processes over byte ranges of the -i files, cut at line
# starts (lib/jobs), give what -j 1 gives, byte for byte: the output, the
# messages, the dead-letter records, the exit status and the --stats counts.
# The cut for worker w of N falls at byte floor(size * w / N); the fixtures put
# those bytes where cutting can go wrong.

bats_require_minimum_version 1.5.0

setup() { load common-setup; _common_setup; }

# same ARGS...: aggregate -j N ARGS gives -j 1's stdout, stderr and status for N = 2, 3, 4.
same() {
	run --separate-stderr aggregate -j 1 "$@"
	local st=$status out=$output err=$stderr j
	for j in 2 3 4; do
		run --separate-stderr aggregate -j "$j" "$@"
		assert_equal "$status" "$st"
		assert_equal "$output" "$out"
		assert_equal "$stderr" "$err"
	done
	status=$st output=$out stderr=$err
}

# cuts FILE: the bytes where -j 2, 3 and 4 cut FILE, one per line ("N W BYTE").
cuts() {
	python3 -c 'import os, sys
size = os.path.getsize(sys.argv[1])
for n in (2, 3, 4):
    for w in range(1, n):
        print(n, w, size * w // n)' "$1"
}

# events N SEED: N generated events (about 150 bytes each).
events() { "$NDFLOW_BIN/../gen" "$1" "$2"; }

@test "lines of one length, so that every cut of -j 2, 3 and 4 falls exactly on a line start" {
	# 1,200 lines of 60 bytes: size * w / N is a multiple of 60 for N up to 4.
	awk 'BEGIN { for (i = 0; i < 1200; i++) printf "{\"g\":\"%s\",\"v\":%d,\"pad\":\"%031d\"}\n", substr("abc", i % 3 + 1, 1), 10000 + (i * 7919) % 90000, i }' >"$T/in"
	assert_equal "$(awk '{ print length($0) + 1 }' "$T/in" | sort -u)" 60
	while read -r n w at; do [ $((at % 60)) -eq 0 ] || fail "cut $w of $n at $at is not a line start"; done < <(cuts "$T/in")
	same -i "$T/in" -g g count sum:v mean:v p50:v min:v max:v
	# The figures themselves, worked out by awk.
	assert_equal "$(jq -r '[.g, .count, .v_sum] | @tsv' <<<"$output")" "$(awk -F'"v":' '{
		g = substr($0, 7, 1); split($2, a, ","); n[g]++; s[g] += a[1] } END {
		for (g in n) printf "%s\t%d\t%d\n", g, n[g], s[g] }' "$T/in" | sort)"
}

@test "cuts inside multi-byte UTF-8 characters (2, 3 and 4 bytes): each moves to the next line start" {
	python3 - "$T/in" <<'EOF'
import sys
chars = ["é", "€", "😀"]
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for i in range(300):
        c = chars[i % 3]
        f.write('{"name":"%s","v":%d}\n' % (c * (40 + i % 17), i))
EOF
	# Check the fixture: some cut falls on a UTF-8 continuation byte, of each length of character.
	run python3 -c 'import sys
data = open(sys.argv[1], "rb").read()
inside = 0
for n in (2, 3, 4):
    for w in range(1, n):
        at = len(data) * w // n
        inside += 0x80 <= data[at] < 0xC0
print(inside)' "$T/in"
	[ "$output" -ge 3 ] || fail "only $output cuts inside a character"
	same -i "$T/in" -g name count sum:v first:v last:v distinct:v
	assert_equal "$(jq -s 'map(.count) | add' <<<"$output")" 300
	assert_equal "$(jq -s 'map(select(.name | startswith("€")) | .count) | add' <<<"$output")" "$(grep -c '"name":"€' "$T/in")"
}

@test "more cut points than lines: one huge line spans every range; a file of 2 lines with -j 4" {
	{ echo '{"g":"a","v":1}'; printf '{"g":"b","v":2,"big":"%s"}\n' "$(head -c 3000000 /dev/zero | tr '\0' x)"; echo '{"g":"a","v":3}'; } >"$T/in"
	same -i "$T/in" -g g count sum:v
	assert_output '{"g":"a","count":2,"v_sum":4}
{"g":"b","count":1,"v_sum":2}'
	printf '{"v":1}\n{"v":2}\n' >"$T/two"
	same -i "$T/two" count sum:v p50:v
	assert_output '{"count":2,"v_sum":3,"v_p50":1.5}'
	printf '{"v":5}' >"$T/one"		# no newline at the end
	same -i "$T/one" count sum:v
	assert_output '{"count":1,"v_sum":5}'
}

@test "an empty file, and empty files among others" {
	: >"$T/empty"
	same -i "$T/empty" count sum:v
	assert_output '{"count":0,"v_sum":0}'
	same -i "$T/empty" -g g count
	assert_output ''
	events 3000 5 >"$T/ev"
	same -i "$T/empty" -i "$T/ev" -i "$T/empty" -i "$T/ev" -g page count sum:value p50:value p99:value
	assert_equal "$(jq -s 'map(.count) | add' <<<"$output")" 6000
}

@test "several files: cuts across file boundaries, groups in order of first appearance" {
	events 5000 1 >"$T/a"
	events 700 2 >"$T/b"
	events 9000 3 >"$T/c"
	same -i "$T/a" -i "$T/b" -i "$T/c" -g page,action count sum:value mean:value stddev:value p50:value p90:value first:user_id last:user_id
	# One -j 1 run over the three files concatenated is the same too.
	cat "$T/a" "$T/b" "$T/c" >"$T/all"
	run -0 aggregate -i "$T/all" -g page,action count sum:value mean:value stddev:value p50:value p90:value first:user_id last:user_id
	assert_equal "$(wc -l <<<"$output")" "$(jq -r '[.page, .action] | @tsv' "$T/all" | sort -u | wc -l)"
	assert_equal "$(jq -r '.user_id' "$T/c" | tail -1)" "$(jq -r 'select(.page == "'"$(jq -r .page "$T/c" | tail -1)"'" and .action == "'"$(jq -r .action "$T/c" | tail -1)"'") | .user_id_last' <<<"$output")"
}

@test "exact quantiles over 200,000 values (past the input buffer and the state's first growth) are identical" {
	events 200000 9 >"$T/ev"
	same -i "$T/ev" -g page count p50:value p99:value median:value
	# p50 of one page, worked out by python3 (linear interpolation between closest ranks).
	want=$(python3 -c 'import json, sys
v = sorted(json.loads(l)["value"] for l in open(sys.argv[1]) if json.loads(l)["page"] == "cart")
h = (len(v) - 1) * 0.5; lo = int(h)
print(repr(v[lo] + (h - lo) * (v[min(lo + 1, len(v) - 1)] - v[lo])))' "$T/ev")
	assert_equal "$(jq -r 'select(.page == "cart") | .value_p50' <<<"$output")" "$want"
	same -i "$T/ev" count sum:value mean:value var:value p50:value distinct:user_id mode:page top3:page
}

@test "bad lines, blank lines and CRLF at the cuts: each reported once, with its file and line, in order" {
	events 400 4 >"$T/ev"
	{ head -100 "$T/ev"; echo; echo 'not json'; head -200 "$T/ev" | tail -100 | sed 's/$/\r/';
	  echo '{"page":"x","value":"ten"}'; echo '[1]'; echo; tail -200 "$T/ev"; printf '\xff\xfe bad bytes\n'; } >"$T/in"
	same -i "$T/in" -g page count sum:value
	assert_equal "$status" 1
	assert_equal "$stderr" "aggregate: $T/in:102: expected a JSON object, got null
aggregate: $T/in:204: expected a JSON object, got an array
aggregate: $T/in:406: invalid JSON at column 1: invalid UTF-8 byte 0xff
aggregate: 3 records rejected (use --dead-letter FILE to keep them)"
	# The dead-letter file gets the same records, in the same order, bytes included.
	aggregate -j 1 -i "$T/in" -g page count --dead-letter "$T/dl1" >/dev/null
	for j in 2 3 4; do
		rm -f "$T/dl"
		run -0 aggregate -j "$j" -i "$T/in" -g page count --dead-letter "$T/dl"
		assert_equal "$(cat "$T/dl")" "$(cat "$T/dl1")"
	done
	assert_equal "$(jq -r .line "$T/dl1" | paste -sd,)" "102,204,406"
	# --strict stops at the first, as one process does.
	same --strict -i "$T/in" -g page count
	assert_equal "$status" 1
	# --dead-letter with --strict and invalid numbers (--dead-letter makes them rejects).
	same --dead-letter - -i "$T/in" -g page sum:value
}

@test "--stats counts what the workers read: records_in, blank lines, filtered, groups" {
	events 3000 6 >"$T/ev"
	{ cat "$T/ev"; echo; echo; cat "$T/ev"; } >"$T/in"
	for j in 1 3; do
		run -0 --separate-stderr aggregate -j "$j" --stats --where '.value > 50' -i "$T/in" -g page count
		assert_equal "$(jq -c '{records_in, records_out, rejected, groups, blank_lines, filtered}' <<<"$stderr")" \
		    "{\"records_in\":6000,\"records_out\":5,\"rejected\":0,\"groups\":5,\"blank_lines\":2,\"filtered\":$(jq -s 'map(select(.value <= 50)) | length' "$T/in")}"
	done
}

@test "--partial, --merge, --approx distinct and output formats with -j" {
	events 20000 7 >"$T/ev"
	# State records may write a sum's parts differently; merged, they give the same figures.
	aggregate -j 1 -i "$T/ev" -g page --partial count sum:value p50:value >"$T/part"
	for j in 2 3; do
		run -0 sh -c "aggregate -j $j -i '$T/ev' -g page --partial count sum:value p50:value | aggregate --merge -g page count sum:value p50:value"
		assert_output "$(aggregate --merge -g page -i "$T/part" count sum:value p50:value)"
	done
	same --merge -i "$T/part" -i "$T/part" -g page count sum:value p50:value
	same --approx -i "$T/ev" -g page approx_distinct:user_id count
	same --format csv --sort -count --top 3 -i "$T/ev" -g action count sum:value
	assert_line --index 0 --partial "action,count,value_sum"
	run -0 aggregate -j 3 -o "$T/out.json" --format json -i "$T/ev" -g page count
	assert_equal "$(jq length "$T/out.json")" 5
}

@test "windowed records: a file with watermarks is read by one process, and gives one process's output" {
	events 5000 8 >"$T/ev"
	window --tumbling 1m --lateness 5s <"$T/ev" >"$T/w" 2>/dev/null
	grep -q '@watermark' "$T/w"
	same -i "$T/w" -g page count sum:value
	grep -v '@watermark' "$T/w" >"$T/nowm"
	same -i "$T/nowm" -g page count sum:value
	assert_equal "$(jq -s 'map(.count) | add' <<<"$output")" 5000
}

@test "standard input, a FIFO and a gzip file are read by one process, with the same results" {
	events 5000 10 >"$T/ev"
	run -0 aggregate -i "$T/ev" -g page count sum:value p50:value
	one=$output
	run -0 aggregate -j 4 -g page count sum:value p50:value <"$T/ev"
	assert_output "$one"
	gzip -c "$T/ev" >"$T/ev.gz"
	run -0 aggregate -j 4 -i "$T/ev.gz" -g page count sum:value p50:value
	assert_output "$one"
	mkfifo "$T/fifo"
	cat "$T/ev" >"$T/fifo" &
	run -0 aggregate -j 4 -i "$T/fifo" -g page count sum:value p50:value
	assert_output "$one"
	run -0 aggregate -j 4 -i "$T/ev" -i - -g page count sum:value p50:value </dev/null
	assert_output "$one"
}

@test "-j: bad values and combinations that mean nothing" {
	run -2 --separate-stderr aggregate -j 0 count
	assert_equal "${stderr_lines[0]}" "aggregate: --jobs: must be from 1 to 64: 0"
	run -2 --separate-stderr aggregate -j 65 count
	assert_equal "${stderr_lines[0]}" "aggregate: --jobs: must be from 1 to 64: 65"
	run -2 --separate-stderr aggregate -j 2 --every 10 count
	assert_equal "${stderr_lines[0]}" "aggregate: -j and --every cannot be combined (running results follow the input's order)"
	run -2 --separate-stderr aggregate -j 2 --state "$T/s" count
	assert_equal "${stderr_lines[0]}" "aggregate: -j and --state cannot be combined"
	# -o naming an input is refused as without -j.
	events 100 1 >"$T/ev"
	run -2 --separate-stderr aggregate -j 2 -i "$T/ev" -o "$T/ev" count
	[[ $stderr == *"is also an input"* ]] || fail "$stderr"
	# A state record of other groups ends the run with 2, as one process does.
	aggregate -i "$T/ev" -g page --partial count >"$T/part"
	same --merge -g action -i "$T/part" count
	assert_equal "$status" 2
}

@test "no temporary file is left behind, also after a failed run" {
	events 2000 11 >"$T/ev"
	mkdir "$T/tmp"
	TMPDIR="$T/tmp" run -0 aggregate -j 3 -i "$T/ev" -g page count p50:value
	{ cat "$T/ev"; echo 'not json'; cat "$T/ev"; } >"$T/bad"
	TMPDIR="$T/tmp" run -1 aggregate -j 3 --strict -i "$T/bad" count
	aggregate -i "$T/ev" -g page --partial count >"$T/part"
	TMPDIR="$T/tmp" run -2 aggregate -j 3 --merge -g action -i "$T/part" count
	assert_equal "$(ls -A "$T/tmp")" ""
}

@test "output options belong to the merging run: --precision, --sort and --top, and file operands with -j" {
	events 30000 4 >"$T/ev"
	same -i "$T/ev" -g page --precision 2 mean:value stddev:value p50:value
	# every mean has exactly two digits after the point, from the unrounded -j 1 run rounded by python3
	want=$(aggregate -g page mean:value -i "$T/ev" | python3 -c 'import json, sys
from decimal import Decimal, ROUND_HALF_UP
for l in sys.stdin:
    r = json.loads(l, parse_float=Decimal)
    print(r["page"], r["value_mean"].quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))')
	assert_equal "$(jq -r '"\(.page) \(.value_mean)"' <<<"$output")" "$want"
	same -g page --sort -count --top 2 --format csv count "$T/ev"
	assert_equal "${#lines[@]}" 3
}
