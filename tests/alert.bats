#!/usr/bin/env bats
# alert: every rule kind and modifier through the binary, with the notices worked out by hand.
# Times are seconds after 2024-01-01T00:00:00Z; a notice is shown as "STATE AT SINCE" (mm:ss).

setup() {
	load common-setup
	_common_setup
}

teardown() {
	if [ -n "${AM_PID:-}" ]; then
		kill "$AM_PID" 2>/dev/null || true
		wait "$AM_PID" 2>/dev/null || true
	fi
}

# r SECONDS [MEMBERS]: one record at that time; wm SECONDS: a watermark.
ts() { printf '2024-01-01T00:%02d:%02dZ' $(($1 / 60)) $(($1 % 60)); }
r() { printf '{"timestamp":"%s"%s}\n' "$(ts "$1")" "${2:+,$2}"; }
wm() { printf '{"@watermark":"%s"}\n' "$(ts "$1")"; }
# brief: each notice as "STATE AT SINCE", with the key k when there is one.
brief() { jq -r '(if .k then .k + " " else "" end) + "\(.state) \(.at[14:19]) \(.since[14:19])"'; }

# ---- the kinds ----

@test "threshold: fires on a true record, resolves on a false one, one alert per key" {
	{ r 0 '"k":"a","v":1'; r 1 '"k":"b","v":9'; r 2 '"k":"a","v":9'; r 3 '"k":"b","v":9'; r 4 '"k":"a","v":1'; } >"$T/in"
	run -0 --separate-stderr alert --when '.v > 5' --by k -i "$T/in"
	assert_equal "$(brief <<<"$output")" "b firing 00:01 00:01
a firing 00:02 00:02
a resolved 00:04 00:02"
}

@test "threshold: a false record of a key never seen makes no state and no notice" {
	{ r 0 '"k":"a","v":1'; r 1 '"k":"b","v":1'; } >"$T/in"
	run -0 --separate-stderr alert --when '.v > 5' --by k --stats -i "$T/in"
	assert_output ""
	assert_equal "$(jq -r '.keys' <<<"$stderr")" 0
}

@test "threshold: --field puts the value in the notice and in the summary" {
	r 0 '"user":"u1","value":750.5' >"$T/in"
	run -0 alert --when '.value > 500' --by user --field value --severity page --label team=shop \
	    --label tier=1 --summary '{{.user}} spent {{value}}' --name big -i "$T/in"
	assert_output '{"alert":"big","state":"firing","at":"2024-01-01T00:00:00Z","since":"2024-01-01T00:00:00Z","user":"u1","value":750.5,"severity":"page","labels":{"team":"shop","tier":"1"},"summary":"u1 spent 750.5"}'
}

@test "rate: an event exactly D before t is outside the window (t - D, t]" {
	# --count 3 --within 10s: at 10 the window (0, 10] holds 5 and 10, so 2;
	# at 12, (2, 12] holds 5, 10, 12: fires.  At 15 the record of 5 leaves:
	# (5, 15] holds 10, 12: resolved at 15, once T is past 15 (the record at 30).
	{ r 0; r 5; r 10; r 12; r 30; } >"$T/in"
	run -0 alert --count 3 --within 10s -i "$T/in"
	assert_equal "$(brief <<<"$output")" "firing 00:12 00:12
resolved 00:15 00:12"
	assert_equal "$(jq -c '.count' <<<"$output" | paste -sd' ')" "3 2"
}

@test "rate: the resolution waits for the watermark to pass the instant the count drops" {
	{ r 0; r 1; wm 11; wm 12; } >"$T/in"
	run -0 alert --count 2 --within 10s --pass -i "$T/in"
	# The record of 0 leaves at 10 (taken once T > 10, by the watermark of 11, before its line).
	assert_output "$(r 0)
$(r 1)
{\"alert\":\"rate\",\"state\":\"firing\",\"at\":\"$(ts 1)\",\"since\":\"$(ts 1)\",\"count\":2}
{\"alert\":\"rate\",\"state\":\"resolved\",\"at\":\"$(ts 10)\",\"since\":\"$(ts 1)\",\"count\":1}
$(wm 11)
$(wm 12)"
}

@test "repetition: N equal values in a row fire; a record without the field neither extends nor breaks the run" {
	{ r 0 '"p":"a"'; r 1 '"p":"a"'; r 2; r 3 '"p":"a"'; r 4 '"p":"b"'; r 5 '"p":"b"'; } >"$T/in"
	run -0 --separate-stderr alert --repeat 3 --field p -i "$T/in"
	assert_equal "$(brief <<<"$output")" "firing 00:03 00:03
resolved 00:04 00:03"
	assert_equal "$(jq -c '[.value, .count]' <<<"$output" | paste -sd' ')" '["a",3] ["b",1]'
	assert_equal "$stderr" "alert: skipped 1 record without a --field value (no_value)"
}

@test "repetition: values are compared as JSON values, not as bytes" {
	{ r 0 '"p":1'; r 1 '"p":1.0'; r 2 '"p":1e0'; r 3 '"p":"1"'; } >"$T/in"
	run -0 alert --repeat 3 --field p -i "$T/in"
	assert_equal "$(brief <<<"$output")" "firing 00:02 00:02
resolved 00:03 00:02"
}

@test "absence: a record exactly at s + D is not an absence; the notice is stamped s + D" {
	# --absent 10s: 10 comes exactly at 0 + 10 (no absence); nothing in (10, 20]: fires at 20; 25 resolves.
	{ r 0; r 10; r 25; } >"$T/in"
	run -0 alert --absent 10s -i "$T/in"
	assert_equal "$(brief <<<"$output")" "firing 00:20 00:20
resolved 00:25 00:20"
	assert_equal "$(jq -r '.last_seen' <<<"$output" | paste -sd' ')" "$(ts 10) $(ts 25)"
}

@test "absence: end of input fires nothing past the largest time seen" {
	# a's absence is due at 15 (<= 30, the largest time): taken; b's at 40: not.
	{ r 5 '"k":"a"'; r 30 '"k":"b"'; } >"$T/in"
	run -0 alert --absent 10s --by k -i "$T/in"
	assert_equal "$(brief <<<"$output")" "a firing 00:15 00:15"
}

@test "anomaly: z uses only the previous values, over a full window, never while sd is 0" {
	# --window 3: 10, 11, 12 fill it; 30 against them: mean 11, sd sqrt(2/3), z = 23.27 > 3: fires.
	# 12 against 11, 12, 30: mean 17.67, sd 8.73, z = -0.65: resolves.
	# Key b: 5, 5, 5 then 50: sd 0, not judged.
	{ r 0 '"k":"a","v":10'; r 1 '"k":"a","v":11'; r 2 '"k":"a","v":12'; r 3 '"k":"a","v":30'
	  r 4 '"k":"a","v":12'; r 5 '"k":"b","v":5'; r 6 '"k":"b","v":5'; r 7 '"k":"b","v":5'; r 8 '"k":"b","v":50'; } >"$T/in"
	run -0 alert --zscore 3 --field v --window 3 --by k -i "$T/in"
	assert_equal "$(brief <<<"$output")" "a firing 00:03 00:03
a resolved 00:04 00:03"
	assert_equal "$(jq -r '"\(.value) \(.z * 100 | round) \(.mean * 100 | round) \(.sd * 100 | round)"' <<<"$output" | paste -sd' ' -)" \
	    "30 2327 1100 82 12 -65 1767 873"
}

@test "anomaly: --alpha judges against the EWMA after --warmup values" {
	# --alpha 0.5 --warmup 2: m, v after 10: 10, 0; after 12: 11, 1.  14: z = 3 > 2.5: fires.
	{ r 0 '"v":10'; r 1 '"v":12'; r 2 '"v":14'; } >"$T/in"
	run -0 alert --zscore 2.5 --field v --alpha 0.5 --warmup 2 -i "$T/in"
	assert_equal "$(jq -c '[.state, .z, .mean, .sd]' <<<"$output")" '["firing",3,11,1]'
}

@test "anomaly: a value that is not a number is counted, not fatal; a numeric string is a number" {
	{ r 0 '"v":"abc"'; r 1 '"v":"12"'; r 2 '"v":true'; r 3; } >"$T/in"
	run -0 --separate-stderr alert --zscore 3 --field v --window 2 --stats -i "$T/in"
	assert_output ""
	assert_equal "$(tail -1 <<<"$stderr" | jq -c '[.bad_value, .no_value, .keys]')" "[2,1,1]"
	assert_equal "$(head -2 <<<"$stderr")" "alert: skipped 1 record without a --field value (no_value)
alert: skipped 2 records with a --field value that is not a number (bad_value)"
}

@test "spike: the count in (t - D, t] against (t - 2D, t - D], judged once the key's first record is D old" {
	# --spike 2 --within 10s.  At 5: 5 - 10 < 0, the first record: no judgement.
	# At 12: (2, 12] holds 5, 12 = 2; (-8, 2] holds 0 = 1: ratio 2, fires.
	# At 22 the record of 12 moves back: (12, 22] = 13, 14, 15; (2, 12] = 5, 12: 1.5, resolved.
	{ r 0; r 5; r 12; r 13; r 14; r 15; r 40; } >"$T/in"
	run -0 alert --spike 2 --within 10s -i "$T/in"
	assert_equal "$(brief <<<"$output")" "firing 00:12 00:12
resolved 00:22 00:12"
	assert_equal "$(jq -c '[.count, .previous, .ratio]' <<<"$output" | paste -sd' ')" "[2,1,2] [3,2,1.5]"
}

@test "spike: --min-count holds back a small spike, and --spike-down fires on a drop" {
	{ r 0; r 5; r 12; r 13; r 14; r 15; r 40; } >"$T/in"
	run -0 alert --spike 2 --within 10s --min-count 4 -i "$T/in"
	# At 13, (3, 13] holds 5, 12, 13: 3 < 4.  At 14, (4, 14] holds 5, 12, 13, 14 against (-6, 4] = 0: fires.
	assert_equal "$(brief <<<"$output")" "firing 00:14 00:14
resolved 00:22 00:14"
	{ r 0; r 1; r 2; r 3; r 12; r 30; } >"$T/in"
	run -0 alert --spike 3 --spike-down --within 10s -i "$T/in"
	# At 12: (2, 12] = 3, 12 = 2 against (-8, 2] = 0, 1, 2 = 3: not a third.  At 13, with no record,
	# 3 moves back: (3, 13] = 12 = 1 against (-7, 3] = 0..3 = 4: 1 <= 4/3, fires at 13.
	assert_equal "$(brief <<<"$output" | head -1)" "firing 00:13 00:13"
}

# ---- the modifiers ----

@test "--for: pending from the first true record, firing at since + D when nothing false came" {
	{ r 0 '"v":1'; r 5 '"v":1'; wm 11; } >"$T/in"
	run -0 alert --when '.v == 1' --for 10s -i "$T/in"
	assert_equal "$(brief <<<"$output")" "firing 00:10 00:00"
}

@test "--for: a dip exactly at since + D stops the fire, silently" {
	{ r 0 '"v":1'; r 10 '"v":0'; wm 30; } >"$T/in"
	run -0 alert --when '.v == 1' --for 10s -i "$T/in"
	assert_output ""
}

@test "--for: the fire waits for the watermark to pass since + D" {
	{ r 0 '"v":1'; wm 10; } >"$T/in"
	run -0 alert --when '.v == 1' --for 10s -i "$T/in"
	assert_output ""
	{ r 0 '"v":1'; wm 10; r 10 '"v":1'; } >"$T/in"
	run -0 alert --when '.v == 1' --for 10s -i "$T/in"
	# End of input takes decisions due at the largest time seen, 10.
	assert_equal "$(brief <<<"$output")" "firing 00:10 00:00"
}

@test "--keep-firing-for: a true record exactly at tf + K keeps it firing" {
	# Fires at 0; false at 5: keeps firing until 15; true at 15 comes first.  False at 20: resolves at 30.
	{ r 0 '"v":1'; r 5 '"v":0'; r 15 '"v":1'; r 20 '"v":0'; wm 31; } >"$T/in"
	run -0 alert --when '.v == 1' --keep-firing-for 10s -i "$T/in"
	assert_equal "$(brief <<<"$output")" "firing 00:00 00:00
resolved 00:30 00:00"
}

@test "--keep-firing-for: without a true record the alert resolves at tf + K" {
	{ r 0 '"v":1'; r 5 '"v":0'; r 16 '"v":1'; } >"$T/in"
	run -0 alert --when '.v == 1' --keep-firing-for 10s -i "$T/in"
	assert_equal "$(brief <<<"$output")" "firing 00:00 00:00
resolved 00:15 00:00
firing 00:16 00:16"
}

@test "--cooldown: per key, not across keys; a re-fire exactly C after the last one is written" {
	{ r 0 '"k":"a","v":1'; r 5 '"k":"a","v":0'; r 30 '"k":"a","v":1'; r 30 '"k":"b","v":1'
	  r 35 '"k":"a","v":0'; r 60 '"k":"a","v":1'; } >"$T/in"
	run -0 --separate-stderr alert --when '.v == 1' --by k --cooldown 60s --stats -i "$T/in"
	# a's fire at 30 and its resolve at 35 are suppressed; b fires at 30; a fires again at 60 = 0 + 60.
	assert_equal "$(brief <<<"$output")" "a firing 00:00 00:00
a resolved 00:05 00:00
b firing 00:30 00:30
a firing 01:00 01:00"
	assert_equal "$(jq -c '[.firing, .resolved, .suppressed]' <<<"$stderr")" "[3,1,2]"
}

@test "--where: a rule sees only the records it selects" {
	{ r 0 '"a":"click"'; r 1 '"a":"view"'; r 2 '"a":"click"'; } >"$T/in"
	run -0 --separate-stderr alert --count 2 --within 1m --where '.a == "click"' --stats -i "$T/in"
	assert_equal "$(brief <<<"$output")" "firing 00:02 00:02"
	assert_equal "$(jq -c '.unselected' <<<"$stderr")" 1
}

@test "--by: several fields key the alert; a record without one is counted, not fatal" {
	{ r 0 '"u":"x","s":1'; r 1 '"u":"x","s":1'; r 2 '"u":"x","s":2'; r 3 '"u":"x"'; } >"$T/in"
	run -0 --separate-stderr alert --count 2 --within 1m --by u,s --stats -i "$T/in"
	assert_equal "$(jq -c '[.u, .s, .count]' <<<"$output")" '["x",1,2]'
	assert_equal "$(head -1 <<<"$stderr")" "alert: skipped 1 record without a --by field (no_key)"
	assert_equal "$(tail -1 <<<"$stderr" | jq -c '.no_key')" 1
}

@test "--by: a quoted key with a dot in its name (Zeek's id.orig_h) goes by its name in the notice" {
	{ r 0 '"id.orig_h":"10.0.0.1"'; r 1 '"id.orig_h":"10.0.0.1"'; } >"$T/in"
	run -0 alert --count 2 --within 1m --by '"id.orig_h"' --summary '{{.id.orig_h}}: {{value}}' -i "$T/in"
	assert_equal "$(jq -c '[.["id.orig_h"], .summary]' <<<"$output")" '["10.0.0.1","10.0.0.1: 2"]'
}

# ---- time ----

@test "--lateness: out-of-order records within it are applied in time order; older ones are late" {
	# lateness 10s: 5 arrives after 10 but is applied first; 3 arrives when T = 20: late.
	{ r 10 '"v":1'; r 5 '"v":0'; r 12 '"v":0'; r 30 '"v":0'; r 3 '"v":1'; } >"$T/in"
	run -0 --separate-stderr alert --when '.v == 1' --lateness 10s --late "$T/late" --stats -i "$T/in"
	assert_equal "$(brief <<<"$output")" "firing 00:10 00:10
resolved 00:12 00:10"
	assert_equal "$(cat "$T/late")" "$(r 3 '"v":1')"
	assert_equal "$(jq -c '.late' <<<"$stderr")" 1
}

@test "--lateness: a stream shuffled within it gives the notices of the stream in order" {
	# Each second's records move together by 0 to 4 s (their order within the second is kept),
	# so thousands of records wait, some in time order and some not.
	awk -f "$DATA/alert-gen.awk" >"$T/sorted"
	awk -F'"timestamp":"' '{ x = substr($2, 12, 2) * 3600 + substr($2, 15, 2) * 60 + substr($2, 18, 2)
		print x + (x * 7919) % 5 "\t" NR "\t" $0 }' "$T/sorted" | sort -n -k1,1 -k2,2 | cut -f3- >"$T/shuffled"
	! cmp -s "$T/sorted" "$T/shuffled"
	run -0 --separate-stderr alert --rules "$DATA/alert-scenarios.json" --stats -i "$T/sorted"
	sorted=$output
	run -0 --separate-stderr alert --rules "$DATA/alert-scenarios.json" --lateness 10s --stats -i "$T/shuffled"
	assert_equal "$output" "$sorted"
	assert_equal "$(jq -c '.late' <<<"$stderr")" 0
}

@test "a late record without --late is reported with a count, and the run still exits 0" {
	{ r 10 '"v":1'; r 3 '"v":1'; } >"$T/in"
	run -0 --separate-stderr alert --when '.v == 1' -i "$T/in"
	assert_equal "$stderr" "alert: $T/in:2: late record
alert: 1 late record"
}

@test "watermarks release timers: an absence fires on a watermark alone" {
	{ r 0 '"h":"a"'; wm 5; wm 11; } >"$T/in"
	run -0 alert --absent 10s --by h --pass -i "$T/in"
	assert_output "$(r 0 '"h":"a"')
$(wm 5)
{\"alert\":\"absence\",\"state\":\"firing\",\"at\":\"$(ts 10)\",\"since\":\"$(ts 10)\",\"h\":\"a\",\"last_seen\":\"$(ts 0)\"}
$(wm 11)"
}

@test "a watermark of +inf takes every timer" {
	{ r 0 '"h":"a"'; echo '{"@watermark":"+inf"}'; } >"$T/in"
	run -0 alert --absent 10s --by h -i "$T/in"
	assert_equal "$(brief <<<"$output")" "firing 00:10 00:10"
}

@test "--idle: on a quiet live pipe event time follows the wall clock, so an absence fires when the source dies" {
	mkfifo "$T/fifo"
	alert --absent 1s --by h --idle 100ms -i "$T/fifo" >"$T/out" 2>"$T/err" &
	pid=$!
	exec 5>"$T/fifo"
	r 0 '"h":"a"' >&5
	# Nothing more comes; the notice appears once about a second of wall clock has passed.
	for i in $(seq 200); do
		[ -s "$T/out" ] && break
		sleep 0.05
	done
	exec 5>&-
	wait "$pid"
	assert_equal "$(brief <"$T/out")" "firing 00:01 00:01"
	assert_equal "$(cat "$T/err")" ""
}

# ---- --pass ----

@test "--pass: the input byte for byte, a notice caused by a record after it, one a watermark released before it" {
	# --lateness 3s: the record of 0 is applied when 5 raises T to 2 (before line 5);
	# 5's resolve is released by the watermark of 20 (before it); 21's fire at end of input.
	{ r 0 '"v":1'; echo ' {"timestamp":"2024-01-01T00:00:05Z",  "v":0} '; wm 20; r 21 '"v":1'; } >"$T/in"
	run -0 alert --when '.v == 1' --pass --lateness 3s -i "$T/in"
	assert_output "$(r 0 '"v":1')
{\"alert\":\"threshold\",\"state\":\"firing\",\"at\":\"$(ts 0)\",\"since\":\"$(ts 0)\"}
 {\"timestamp\":\"2024-01-01T00:00:05Z\",  \"v\":0} 
{\"alert\":\"threshold\",\"state\":\"resolved\",\"at\":\"$(ts 5)\",\"since\":\"$(ts 0)\"}
$(wm 20)
$(r 21 '"v":1')
{\"alert\":\"threshold\",\"state\":\"firing\",\"at\":\"$(ts 21)\",\"since\":\"$(ts 21)\"}"
}

@test "--pass with lateness 0: each notice follows the record that caused it" {
	{ r 0 '"v":1'; r 1 '"v":0'; } >"$T/in"
	run -0 alert --when '.v == 1' --pass -i "$T/in"
	assert_equal "$(jq -r 'if .alert then .state else "rec " + .timestamp[17:19] end' <<<"$output" | paste -sd' ')" \
	    "rec 00 firing rec 01 resolved"
}

@test "--alerts FILE takes the notices; --pass output is then the input alone" {
	{ r 0 '"v":1'; r 1 '"v":0'; } >"$T/in"
	run -0 alert --when '.v == 1' --pass --alerts "$T/alerts" -i "$T/in"
	assert_output "$(cat "$T/in")"
	assert_equal "$(brief <"$T/alerts")" "firing 00:00 00:00
resolved 00:01 00:00"
}

@test "--no-watermarks with --pass drops watermark lines; without --pass none are written" {
	{ r 0; wm 5; } >"$T/in"
	run -0 alert --when true --pass --no-watermarks -i "$T/in"
	refute_output --partial '@watermark'
	run -0 alert --when true -i "$T/in"
	refute_output --partial '@watermark'
	assert_equal "${#lines[@]}" 1
}

# ---- --state ----

@test "--state: two runs give the notices of one run, with records held across the cut" {
	awk -f "$DATA/alert-gen.awk" >"$T/all"
	cp "$DATA/alert-scenarios.json" "$T/rules.json"
	run -0 alert --rules "$T/rules.json" --lateness 30s --state "$T/one" -i "$T/all"
	one=$output
	for cut in 1 2999 4800 8000; do
		rm -f "$T/two"
		head -n "$cut" "$T/all" >"$T/a"
		tail -n +"$((cut + 1))" "$T/all" >"$T/b"
		alert --rules "$T/rules.json" --lateness 30s --state "$T/two" -i "$T/a" >"$T/out"
		alert --rules "$T/rules.json" --lateness 30s --state "$T/two" -i "$T/b" >>"$T/out"
		assert_equal "$(cat "$T/out")" "$one"
		assert_equal "$(tail -n +2 "$T/two")" "$(tail -n +2 "$T/one")"
	done
	[ "$(echo "$one" | wc -l)" -eq 10 ]
}

@test "--state: a pending --for and a running cooldown carry over to the next run" {
	r 0 '"v":1' >"$T/a"
	{ r 5 '"v":1'; r 11 '"v":0'; r 20 '"v":1'; } >"$T/b"
	alert --when '.v == 1' --for 10s --cooldown 1m --state "$T/s" -i "$T/a" >"$T/out"
	[ ! -s "$T/out" ]
	run -0 alert --when '.v == 1' --for 10s --cooldown 1m --state "$T/s" -i "$T/b"
	# Fires at 10 (0 + 10), resolves at 11; the fire due at 30 is within the cooldown, and not yet due anyway.
	assert_equal "$(brief <<<"$output")" "firing 00:10 00:00
resolved 00:11 00:00"
}

@test "--state: a state saved under other rules is refused with status 2" {
	r 0 >"$T/in"
	alert --count 2 --within 1m --state "$T/s" -i "$T/in"
	run -2 --separate-stderr alert --count 3 --within 1m --state "$T/s" -i "$T/in"
	assert_equal "$stderr" "alert: state file $T/s: it was saved by a run with rule 'rate' {\"count\":2,\"kind\":\"rate\",\"within\":60000000}; this run has rule 'rate' {\"count\":3,\"kind\":\"rate\",\"within\":60000000}"
}

@test "--state: a damaged state line is refused with its line number and status 3" {
	r 0 >"$T/in"
	alert --count 2 --within 1m --state "$T/s" -i "$T/in"
	echo '{"nonsense":{}}' >>"$T/s"
	n=$(wc -l <"$T/s")
	run -3 --separate-stderr alert --count 2 --within 1m --state "$T/s" -i "$T/in"
	assert_equal "$stderr" "alert: state file $T/s:$n: not a state line of alert"
}

@test "--max-keys bounds the states held and counts evictions" {
	for i in $(seq 1 20); do r "$i" "\"k\":$i"; done >"$T/in"
	run -0 --separate-stderr alert --absent 1h --by k --max-keys 5 --stats -i "$T/in"
	assert_equal "$(jq -c '[.keys, .evicted]' <<<"$stderr")" "[5,15]"
}

# ---- rules files ----

@test "--rules: many rules at once, one object per line, after the command line's rule; at one instant in rule order" {
	{ r 0 '"v":9,"p":"a"'; r 1 '"v":9,"p":"a"'; } >"$T/in"
	printf '{"name":"two","repeat":2,"field":"p"}\n\n{"name":"hot","when":".v > 5","for":"1s"}\n' >"$T/rules"
	run -0 alert --count 2 --within 1m --rules "$T/rules" -i "$T/in"
	assert_equal "$(jq -r '"\(.alert) \(.state) \(.at[17:19])"' <<<"$output" | paste -sd, -)" \
	    "rate firing 01,two firing 01,hot firing 01"
}

@test "--rules: the seeds' scenarios find every planted case, and nothing else" {
	awk -f "$DATA/alert-gen.awk" >"$T/all"
	run -0 --separate-stderr alert --rules "$DATA/alert-scenarios.json" -i "$T/all"
	assert_equal "$stderr" ""
	assert_equal "$(jq -r '[.alert, .state, .at[11:19], (.user_id // .host // .sensor // "-")] | join(" ")' <<<"$output")" \
	    "same-page firing 10:30:03 user_rep
same-page resolved 10:30:04 user_rep
click-burst firing 10:50:29 -
click-burst resolved 10:51:35 -
bot firing 11:03:20 user_bot
silent-host firing 11:04:58 web3
temperature firing 11:06:40 s1
temperature resolved 11:06:50 s1
big-purchase firing 11:20:00 user_big
big-purchase resolved 11:20:05 user_big"
}

@test "--rules: a syntax error names the file, line and column; status 2" {
	printf '[{"name":"a","when":".x > 1"},\n {"name":"b" "count":3}]\n' >"$T/r.json"
	run -2 --separate-stderr alert --rules "$T/r.json"
	assert_equal "$stderr" "alert: --rules: $T/r.json:2:20: '}' expected near '\"count\"'"
}

@test "--rules: an unknown member, a wrong type, a duplicate name, a bad expression" {
	printf '{"name":"bot","cont":3}\n' >"$T/r"
	run -2 --separate-stderr alert --rules "$T/r"
	assert_equal "$stderr" "alert: --rules: $T/r: rule 1 (bot): unknown member 'cont'"
	printf '{"name":"bot","count":"3","within":"1m"}\n' >"$T/r"
	run -2 --separate-stderr alert --rules "$T/r"
	assert_equal "$stderr" "alert: --rules: $T/r: rule 1 (bot): member 'count': must be a whole number, not a string"
	printf '{"name":"bot","count":3,"within":"1m"}\n{"name":"bot","absent":"1m"}\n' >"$T/r"
	run -2 --separate-stderr alert --rules "$T/r"
	assert_equal "$stderr" "alert: --rules: $T/r: rule 2 (bot): duplicate rule name 'bot'"
	printf '{"name":"hot","when":".v > "}\n' >"$T/r"
	run -2 --separate-stderr alert --rules "$T/r"
	assert_equal "$stderr" "alert: --rules: $T/r: rule 1 (hot): member 'when': column 6: expected a value after '>'"
	printf '{"name":"hot","count":3}\n' >"$T/r"
	run -2 --separate-stderr alert --rules "$T/r"
	assert_equal "$stderr" "alert: --rules: $T/r: rule 1 (hot): 'count' needs 'within'"
}

@test "--rules: a missing or empty file is status 2" {
	run -2 --separate-stderr alert --rules "$T/nope"
	assert_equal "$stderr" "alert: --rules: $T/nope: cannot open: No such file or directory"
	: >"$T/empty"
	run -2 --separate-stderr alert --rules "$T/empty"
	assert_equal "$stderr" "alert: --rules: $T/empty: no rules"
}

# ---- usage ----

@test "usage errors name the options as the user wrote them; status 2" {
	run -2 --separate-stderr alert
	assert_equal "${stderr_lines[0]}" "alert: no rule: give one of --when, --count, --repeat, --absent, --zscore, --spike, or --rules FILE"
	run -2 --separate-stderr alert --count 3
	assert_equal "${stderr_lines[0]}" "alert: --count needs --within"
	run -2 --separate-stderr alert --when true --count 3
	assert_equal "${stderr_lines[0]}" "alert: --when and --count choose different kinds (threshold, rate); give one"
	run -2 --separate-stderr alert --zscore 3 --field v
	assert_equal "${stderr_lines[0]}" "alert: --zscore needs --window or --alpha"
	run -2 --separate-stderr alert --count 3 --within 1s --field x
	assert_equal "${stderr_lines[0]}" "alert: --field does not apply to a rate rule"
	run -2 --separate-stderr alert --count 0 --within 1s
	assert_equal "${stderr_lines[0]}" "alert: --count: must be a whole number from 1 to 1000000000: 0"
	run -2 --separate-stderr alert --when '.v >'
	assert_equal "${stderr_lines[0]}" "alert: --when: column 5: expected a value after '>'"
	run -2 --separate-stderr alert --absent 0s
	assert_equal "${stderr_lines[0]}" "alert: --absent: duration must be positive: 0s"
	run -2 --separate-stderr alert --when true --exec-timeout 1s
	assert_equal "${stderr_lines[0]}" "alert: --exec-timeout needs --exec"
	run -2 --separate-stderr alert --when true --failed f
	assert_equal "${stderr_lines[0]}" "alert: --failed needs --exec"
	run -2 --separate-stderr alert --when true --format xml
	assert_equal "${stderr_lines[0]}" "alert: --format: must be ndjson or alertmanager: xml"
	run -2 --separate-stderr alert --when true events.ndjson
	assert_equal "${stderr_lines[0]}" "alert: unexpected operand 'events.ndjson' (read files with -i FILE, rules with --rules FILE)"
	run -2 --separate-stderr alert --when true --exec 'notify | tee log'
	assert_equal "${stderr_lines[0]}" "alert: --exec: '|' would need a shell: quote it, or put the pipeline in a script"
}

@test "--help shows the rule options and --version the version" {
	run -0 alert --help
	assert_line --index 0 "Usage: alert RULE-OPTIONS | --rules FILE [options]"
	assert_output --partial "--keep-firing-for D"
	run -0 alert --version
	assert_output --regexp '^alert \(ndflow\) '
}

@test "a record without a time is rejected like in every tool" {
	printf '{"v":1}\n' >"$T/in"
	run -1 --separate-stderr alert --when true -i "$T/in"
	assert_equal "$stderr" "alert: $T/in:1: missing time field 'timestamp'
alert: 1 record rejected (use --dead-letter FILE to keep them)"
}

# ---- --exec ----

@test "--exec: each notice on the notifier's standard input, no shell, words split like a shell's" {
	{ r 0 '"v":1'; r 1 '"v":0'; } >"$T/in"
	run -0 alert --when '.v == 1' --exec "sh -c 'cat >>\"\$0\"' '$T/got'" -i "$T/in"
	# Notifiers run side by side (up to 4), so the file may have the notices in either order.
	assert_equal "$(sort "$T/got")" "$(sort <<<"$output")"
	assert_equal "$(wc -l <"$T/got")" 2
}

@test "--exec: a missing program is reported per notice and lost without --failed: status 1" {
	r 0 >"$T/in"
	run -1 --separate-stderr alert --when true --exec 'no-such-notifier-x' --exec-retries 0 -i "$T/in"
	assert_equal "$stderr" "alert: --exec: cannot run 'no-such-notifier-x': No such file or directory; not kept: no failed-notice file"
	run -0 --separate-stderr alert --when true --exec 'no-such-notifier-x' --failed "$T/failed" -i "$T/in"
	assert_equal "$stderr" "alert: --exec: cannot run 'no-such-notifier-x': No such file or directory; kept in $T/failed"
	assert_equal "$(cat "$T/failed")" "$output"
}

@test "--exec: a notifier that exits non-zero is retried, then kept in --failed" {
	r 0 >"$T/in"
	run -0 --separate-stderr alert --when true --exec "sh -c 'echo x >>\"\$0\"; exit 3' '$T/tries'" \
	    --exec-retries 1 --failed "$T/failed" --stats -i "$T/in"
	assert_equal "$(head -2 <<<"$stderr")" "alert: --exec: attempt 1 of 2: exited with status 3; retrying in 200ms
alert: --exec: attempt 2 of 2: exited with status 3; kept in $T/failed"
	assert_equal "$(wc -l <"$T/tries")" 2
	assert_equal "$(tail -1 <<<"$stderr" | jq -c '[.exec_attempts, .exec_retries, .exec_failed, .exec_lost]')" "[2,1,1,0]"
	assert_equal "$(cat "$T/failed")" "$output"
}

@test "--exec: a notifier that hangs is killed at --exec-timeout" {
	r 0 >"$T/in"
	run -1 --separate-stderr alert --when true --exec 'sleep 60' --exec-timeout 100ms --exec-retries 0 -i "$T/in"
	assert_equal "$stderr" "alert: --exec: attempt 1 of 1: timed out after 100ms; not kept: no failed-notice file"
}

@test "--exec: a notifier that closes its stdin early is judged by its exit status alone" {
	{ r 0 '"v":1'; r 1 '"v":0'; } >"$T/in"
	run -0 --separate-stderr alert --when '.v == 1' --exec 'head -c 0' --stats -i "$T/in"
	assert_equal "$(jq -c '[.exec_delivered, .exec_lost]' <<<"$stderr")" "[2,0]"
}

# ---- Alertmanager, the real one ----

@test "--format alertmanager: the array Alertmanager's API takes" {
	{ r 1 '"host":"web1","v":900'; r 3 '"host":"web1","v":10'; } >"$T/in"
	run -0 alert --when '.v > 500' --by host --field v --name HighValue --severity page --label team=web \
	    --summary '{{.host}} at {{value}}' --format alertmanager -i "$T/in"
	assert_output '[{"labels":{"alertname":"HighValue","host":"web1","severity":"page","team":"web"},"annotations":{"summary":"web1 at 900"},"startsAt":"2024-01-01T00:00:01Z"}]
[{"labels":{"alertname":"HighValue","host":"web1","severity":"page","team":"web"},"annotations":{"summary":"web1 at 10"},"startsAt":"2024-01-01T00:00:01Z","endsAt":"2024-01-01T00:00:03Z"}]'
}

@test "a real Alertmanager takes firing and resolved notices through --exec curl, and amtool reads them back" {
	command -v prometheus-alertmanager >/dev/null || skip "prometheus-alertmanager is not installed (make deps)"
	command -v amtool >/dev/null && command -v curl >/dev/null || skip "amtool or curl is not installed (make deps)"
	mkdir "$T/am"
	printf 'route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n' >"$T/am/am.yml"
	port=$(free_port)
	prometheus-alertmanager --config.file="$T/am/am.yml" --storage.path="$T/am/data" \
	    --web.listen-address="127.0.0.1:$port" --cluster.listen-address= >"$T/am/log" 2>&1 &
	AM_PID=$!
	for i in $(seq 200); do
		curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null && break
		kill -0 "$AM_PID" || { cat "$T/am/log"; false; }
		sleep 0.1
	done
	curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null
	url="http://127.0.0.1:$port"
	send="curl -sS -f -X POST -H \"Content-Type: application/json\" --data-binary @- $url/api/v2/alerts"
	rule=(--when '.v > 500' --by host --field v --name HighValue --severity page --label team=web --summary '{{.host}} at {{value}}')

	{ r 1 '"host":"web1","v":900'; r 2 '"host":"web2","v":950'; } >"$T/a"
	run -0 alert "${rule[@]}" --format alertmanager --exec "$send" --exec-retries 0 --state "$T/s" -i "$T/a"
	run -0 amtool --alertmanager.url="$url" alert query -o json
	assert_equal "$(jq -c 'sort_by(.labels.host) | .[] | [.labels, .annotations.summary, .status.state]' <<<"$output")" \
	    '[{"alertname":"HighValue","host":"web1","severity":"page","team":"web"},"web1 at 900","active"]
[{"alertname":"HighValue","host":"web2","severity":"page","team":"web"},"web2 at 950","active"]'

	r 3 '"host":"web1","v":10' >"$T/b"
	run -0 alert "${rule[@]}" --format alertmanager --exec "$send" --exec-retries 0 --state "$T/s" -i "$T/b"
	run -0 amtool --alertmanager.url="$url" alert query -o json
	assert_equal "$(jq -r '.[].labels.host' <<<"$output")" "web2"
	run -0 curl -sf "$url/api/v2/alerts?active=true&silenced=true&inhibited=true"
	assert_equal "$(jq -r '.[].labels.host' <<<"$output")" "web2"
}

# free_port asks the kernel for a port nobody listens on.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
	    echo $((20000 + RANDOM % 20000))
}

@test "event time: times in one minute, with and without a fraction, a zone, a leap second or a bad fraction, read as when parsed whole" {
	# alert parses a minute once and adds the seconds of the records in it:
	# each time below must come out as if parsed on its own (worked out by hand).
	t=(2024-03-15T10:20:30.5 2024-03-15T10:20:31 2024-03-15T10:20:31.1234567 2024-03-15T10:20:32-01:00
	   '2024-03-15 10:20:33.25' 2024-03-15T10:20:35,5 2024-03-15T10:20:36.5Z '2024-03-15T10:20:37\u002e5'
	   2024-03-15T10:20:34. 2024-03-15T10:20:59.999999 2024-12-31T23:59:58.5 2024-12-31T23:59:60.25
	   2024-12-31T23:59:59.75 2024-03-15T10:21:00.000001)
	for i in "${!t[@]}"; do printf '{"timestamp":"%s","k":%d}\n' "${t[$i]}" "$i"; done >"$T/in"
	run -1 --separate-stderr alert --when true --by k --lateness 400d -i "$T/in"
	assert_equal "$(jq -r '"\(.k) \(.at)"' <<<"$output" | sort -n)" "0 2024-03-15T10:20:30.500Z
1 2024-03-15T10:20:31Z
2 2024-03-15T10:20:31.123456Z
3 2024-03-15T11:20:32Z
4 2024-03-15T10:20:33.250Z
5 2024-03-15T10:20:35.500Z
6 2024-03-15T10:20:36.500Z
7 2024-03-15T10:20:37.500Z
9 2024-03-15T10:20:59.999999Z
10 2024-12-31T23:59:58.500Z
11 2024-12-31T23:59:59.999999Z
12 2024-12-31T23:59:59.750Z
13 2024-03-15T10:21:00.000001Z"
	assert_equal "$stderr" "alert: $T/in:9: bad time in 'timestamp': bad fraction: 2024-03-15T10:20:34.
alert: 1 record rejected (use --dead-letter FILE to keep them)"
}
