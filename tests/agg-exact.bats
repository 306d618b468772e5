#!/usr/bin/env bats
# var and stddev merge exactly: aggregate --partial | aggregate --merge over any
# split of the input gives one run's figures to the last digit.

bats_require_minimum_version 1.5.0

setup() { load common-setup; _common_setup; }

# hard: values near 1e6 with three decimals in two groups, where a merge of
# floating-point (n, mean, M2) states rounds differently for each split.
hard() {
	awk 'BEGIN { for (i = 1; i <= 700; i++)
		printf "{\"g\":\"%s\",\"v\":%.3f}\n", i % 3 ? "b" : "a",
		    1000000 + ((i * 7919) % 1000) / 1000 * 37.1 - 0.5 * (i % 5) }'
}

# naive K: Welford per part of hard's values of group b, Chan's merge of the parts,
# in doubles (what aggregate did before the exact sums); prints the variance.
naive() {
	hard | awk -v k="$1" -v total=700 -F'[:,}]' '$2 == "\"b\"" {
		p = int((NR - 1) * k / total); x = $4 + 0
		n[p]++; d = x - m[p]; m[p] += d / n[p]; s[p] += d * (x - m[p]) }
	END { for (p = 0; p < k; p++) {
		if (!N) { N = n[p]; M = m[p]; S = s[p]; continue }
		t = N + n[p]; d = m[p] - M; M += d * n[p] / t; S += s[p] + d * d * N * n[p] / t; N = t }
		printf "%.17g\n", S / (N - 1) }'
}

@test "the data is hard: a floating-point merge of 1 and of 7 parts disagrees" {
	one=$(naive 1)
	seven=$(naive 7)
	[ -n "$one" ] && [ -n "$seven" ]
	[ "$one" != "$seven" ]
}

@test "--partial then --merge in 1, 2 and 7 parts gives one run's var and stddev byte for byte" {
	hard >"$T/in"
	run -0 aggregate -g g count var:v stddev:v mean:v -i "$T/in"
	one=$output
	assert_equal "$(wc -l <<<"$one")" 2
	# The figures are the exact ones, rounded once (worked out with rationals).
	assert_line '{"g":"b","count":467,"v_var":115.15652214706438,"v_stddev":10.731100695970772,"v_mean":1000017.5976616702}'
	for k in 1 2 7; do
		rm -f "$T"/part.*
		split -n l/$k "$T/in" "$T/part."
		assert_equal "$(ls "$T"/part.* | wc -l)" $k
		for f in "$T"/part.*; do aggregate --partial -g g count var:v stddev:v mean:v -i "$f"; done >"$T/states"
		run -0 aggregate --merge -g g count var:v stddev:v mean:v -i "$T/states"
		assert_equal "$output" "$one"
		# Merged in another order, states of states: still the same bytes.
		tac "$T/states" | aggregate --merge --partial -g g count var:v stddev:v mean:v >"$T/s2"
		run -0 aggregate --merge -g g count var:v stddev:v mean:v -i "$T/s2"
		assert_equal "$(sort <<<"$output")" "$(sort <<<"$one")"
	done
}

@test "var and stddev are exact for integers past 2^53 and for reals of any range" {
	printf '{"v":9007199254740993}\n{"v":9007199254740995}\n{"v":9007199254740997}\n' >"$T/big"
	run -0 aggregate var:v stddev:v -i "$T/big"
	assert_output '{"v_var":4.0,"v_stddev":2.0}'
	printf '{"v":1e-300}\n{"v":3e-300}\n{"v":1}\n{"v":3}\n' >"$T/wide"
	run -0 aggregate var:v -i "$T/wide"
	# The squares of 1e-300 are below the double range; the exact sums keep them.
	assert_output '{"v_var":2.0}'
	printf '{"v":0.1}\n{"v":0.2}\n{"v":0.3}\n' >"$T/tenths"
	run -0 aggregate var:v -i "$T/tenths"
	# The doubles nearest 0.1, 0.2, 0.3 have a variance whose nearest double is this (worked out with rationals).
	assert_output '{"v_var":0.009999999999999998}'
}

@test "the state is [\"sums\", n, Sx, Sx2, bad] with exact hexadecimal sums" {
	printf '{"v":1}\n{"v":2}\n{"v":3.5}\n{"v":-4}\n' >"$T/in"
	run -0 aggregate --partial var:v stddev:v -i "$T/in"
	assert_output '{"@agg_state":1,"group":{},"specs":["var:v=v_var","stddev:v=v_stddev"],"states":[["sums",4,"0x28p-4","0x214p-4",false],null],"invalid":[0]}'
	run -0 aggregate --merge var:v stddev:v <<<"$output"
	assert_output '{"v_var":10.5625,"v_stddev":3.25}'
}

@test "a state of the Welford format [n, mean, M2] is still read, and one past the double range gives null" {
	run -0 aggregate --merge var:v stddev:v <<<'{"@agg_state":1,"group":{},"specs":["var:v=v_var","stddev:v=v_stddev"],"states":[[4,0.625,31.6875],null],"invalid":[0]}'
	assert_output '{"v_var":10.5625,"v_stddev":3.25}'
	run -0 --separate-stderr aggregate --merge var:v <<<'{"@agg_state":1,"group":{},"specs":["var:v=v_var"],"states":[["sums",2,"0x1p2000","0x1p4000",false]],"invalid":[0]}'
	assert_output '{"v_var":null}'
	assert_equal "$stderr" "aggregate: a result is past the range of a double and is written as null"
	run -1 --separate-stderr aggregate --merge var:v <<<'{"@agg_state":1,"group":{},"specs":["var:v=v_var"],"states":[["sums",2,"0x1zp0","0x1p0",false]],"invalid":[0]}'
	assert_output ''
	[[ "$stderr" == *"-:1: malformed aggregate state record"* ]]
}

@test "quantile states are the sorted values packed as IEEE 754 hex; the earlier array form is still read" {
	printf '{"v":3}\n{"v":-0.5}\n{"v":1e300}\n{"v":2}\n' >"$T/in"
	run -0 aggregate --partial median:v p100:v -i "$T/in"
	# -0.5 is bf e0 00..., 2 is 40 00..., 3 is 40 08..., 1e300 is 7e 37 e4 3c 88 00 75 9c.
	assert_output '{"@agg_state":1,"group":{},"specs":["median:v=v_median","p100:v=v_p100"],"states":["f64s:bfe0000000000000400000000000000040080000000000007e37e43c8800759c",null],"invalid":[0]}'
	run -0 aggregate --merge median:v p100:v <<<"$output"
	assert_output '{"v_median":2.5,"v_p100":1e+300}'
	run -0 aggregate --merge median:v p100:v <<<'{"@agg_state":1,"group":{},"specs":["median:v=v_median","p100:v=v_p100"],"states":[[3,-0.5,1e300,2],null],"invalid":[0]}'
	assert_output '{"v_median":2.5,"v_p100":1e+300}'
	# Values out of order, or a length that is not whole values, are refused.
	run -1 --separate-stderr aggregate --merge median:v <<<'{"@agg_state":1,"group":{},"specs":["median:v=v_median"],"states":["f64s:40000000000000003ff0000000000000"],"invalid":[0]}'
	[[ "$stderr" == *"malformed aggregate state record"* ]]
	run -1 --separate-stderr aggregate --merge median:v <<<'{"@agg_state":1,"group":{},"specs":["median:v=v_median"],"states":["f64s:4000"],"invalid":[0]}'
	[[ "$stderr" == *"malformed aggregate state record"* ]]
	# The merger's own placeholder for a packed string it took out is not accepted from input.
	run -1 --separate-stderr aggregate --merge median:v <<<'{"@agg_state":1,"group":{},"specs":["median:v=v_median"],"states":["f64s#0"],"invalid":[0]}'
	[[ "$stderr" == *"malformed aggregate state record"* ]]
}

@test "quantiles from states merged in 1, 2 and 7 parts equal one run's, zeros of both signs included" {
	awk 'BEGIN { for (i = 1; i <= 1000; i++) printf "{\"g\":%d,\"v\":%s}\n", i % 2, i % 7 == 0 ? "-0.0" : i % 5 == 0 ? "0.0" : sprintf("%.2f", (i * 37 % 101) - 50) }' >"$T/in"
	run -0 aggregate -g g median:v p10:v p90:v p99.9:v -i "$T/in"
	one=$output
	for k in 1 2 7; do
		rm -f "$T"/part.*
		split -n l/$k "$T/in" "$T/part."
		for f in "$T"/part.*; do aggregate --partial -g g median:v p10:v p90:v p99.9:v -i "$f"; done >"$T/states"
		run -0 aggregate --merge -g g median:v p10:v p90:v p99.9:v -i "$T/states"
		assert_equal "$output" "$one"
	done
}
