#!/usr/bin/env bats
# One notion of equal: aggregate's -g, distinct, mode and topN, and
# batch-report's groups, compare values as JSON values (1 and 1.0,
# "ab" and "a\u0062" are one), and write a group or value as first spelled.
# Expected outputs come from tests/agg-equal.py (json.loads), not from ndflow.

bats_require_minimum_version 1.5.0

setup() { load common-setup; _common_setup; }

ORACLE="$BATS_TEST_DIRNAME/agg-equal.py"

# spellings writes records {"k":K,"v":V} whose keys and values are one
# JSON value written in several ways, interleaved with different values.
spellings() {
	cat <<'X'
{"k":1,"v":"ab"}
{"k":1.0,"v":"a\u0062"}
{"k":"1","v":"ab"}
{"k":1e0,"v":"\u0061b"}
{"k":10E-1,"v":"ac"}
{"k":-0,"v":2.50}
{"k":0.0,"v":2.5}
{"k":0,"v":25e-1}
{"k":"ab","v":true}
{"k":"a\u0062","v":1}
{"k":"\u0061\u0062","v":true}
{"k":{"x":1,"y":[1,"a"]},"v":null}
{"k":{"y":[1.0,"\u0061"],"x":1e0},"v":{"b":1,"a":2}}
{"k":{ "x" : 1 , "y" : [ 1 , "a" ] },"v":{"a":2.0,"b":1}}
{"k":[1,2],"v":[]}
{"k":[2,1],"v":[ ]}
{"k":true,"v":1}
{"k":"é","v":"x"}
{"k":"\u00e9","v":"\u0078"}
{"k":0.5,"v":1}
{"k":5e-1,"v":1.0}
{"k":0.50,"v":1.00}
{"k":12345678901234567890,"v":1}
{"k":1.5e300,"v":"a"}
{"k":15e299,"v":"b"}
X
}

@test "-g groups by JSON value and writes each group as first spelled (oracle: json.loads)" {
	spellings > "$T/in"
	python3 "$ORACLE" < "$T/in" > "$T/want"
	run aggregate -g k count distinct:v < "$T/in"
	assert_success
	assert_output "$(cat "$T/want")"
	# Not the bytes: four spellings of the number 1 in the input, one group.
	assert_line --index 0 '{"k":1,"count":4,"v_distinct":2}'
}

@test "mode, topN and distinct see one value in many spellings, written as first seen" {
	printf '%s\n' '{"k":"g","v":"a\u0062"}' '{"k":"g","v":"ab"}' '{"k":"g","v":"\u0061b"}' \
	    '{"k":"g","v":1.0}' '{"k":"g","v":1}' '{"k":"g","v":"x"}' '{"k":"g","v":{"b":1,"a":[2]}}' \
	    '{"k":"g","v":{"a":[2.0],"b":1}}' > "$T/in"
	python3 "$ORACLE" mode < "$T/in" > "$T/want"
	run aggregate -g k count distinct:v mode:v < "$T/in"
	assert_success
	assert_output "$(cat "$T/want")"
	run aggregate top2:v approx_distinct:v < "$T/in"
	assert_success
	assert_output '{"v_top2":[{"value":"a\u0062","count":3},{"value":1.0,"count":2}],"v_approx_distinct":4}'
}

@test "equal spellings meet past the tables' growth: 3000 numbers in three spellings each" {
	awk 'BEGIN { for (r = 0; r < 3; r++) for (i = 0; i < 3000; i++) {
		j = (i * 7919) % 3000
		if (r == 0) printf "{\"k\":%d,\"v\":%d.0}\n", j, j % 7
		else if (r == 1) printf "{\"k\":%d.0,\"v\":%de0}\n", j, j % 7
		else printf "{\"k\":%de0,\"v\":%d}\n", j, j % 7 } }' > "$T/in"
	python3 "$ORACLE" < "$T/in" > "$T/want"
	run aggregate -g k count distinct:v < "$T/in"
	assert_success
	assert_equal "${#lines[@]}" 3000
	assert_output "$(cat "$T/want")"
}

@test "--partial and --merge: spellings from different runs meet; the first state's spelling is written" {
	spellings > "$T/in"
	head -n 9 "$T/in" > "$T/a"
	tail -n +10 "$T/in" > "$T/b"
	# Reversed order of spellings in the second part: the merge must still meet them.
	printf '%s\n' '{"k":1.00,"v":"a\u0062"}' '{"k":"\u0061b","v":"ab"}' >> "$T/b"
	cat "$T/a" "$T/b" | python3 "$ORACLE" > "$T/want"
	{ aggregate --partial -g k count distinct:v < "$T/a"; aggregate --partial -g k count distinct:v < "$T/b"; } > "$T/states"
	run aggregate --merge -g k count distinct:v < "$T/states"
	assert_success
	assert_output "$(cat "$T/want")"
}

@test "--state: a group saved under one spelling takes events of another" {
	printf '%s\n' '{"k":2.0,"v":"a"}' '{"k":"x\u0079","v":1}' > "$T/a"
	printf '%s\n' '{"k":2,"v":"\u0061"}' '{"k":"xy","v":1.0}' '{"k":2e0,"v":"b"}' > "$T/b"
	cat "$T/a" "$T/b" | python3 "$ORACLE" > "$T/want"
	aggregate --state "$T/st" -g k count distinct:v < "$T/a" > /dev/null
	run aggregate --state "$T/st" -g k count distinct:v < "$T/b"
	assert_success
	assert_output "$(cat "$T/want")"
}

@test "batch-report counts a dimension's and an entity's values by JSON value too" {
	printf '%s\n' '{"timestamp":"2024-01-01T00:00:00Z","user_id":"u1","page":1}' \
	    '{"timestamp":"2024-01-01T00:00:01Z","user_id":"u\u0031","page":1.0}' \
	    '{"timestamp":"2024-01-01T00:00:02Z","user_id":"u2","page":"1"}' \
	    '{"timestamp":"2024-01-01T00:00:03Z","user_id":"u2","page":1e0}' > "$T/in"
	run batch-report --sections summary,top,dimensions --dimension page --format json "$T/in"
	assert_success
	python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["summary"]["entities"] == 2, r["summary"]
assert [(e["value"], e["count"]) for e in r["top_entities"]] == [("u1", 2), ("u2", 2)], r["top_entities"]
assert [(e["value"], e["count"]) for e in r["dimensions"]["page"]] == [(1, 3), ("1", 1)], r["dimensions"]
' "$output"
}
