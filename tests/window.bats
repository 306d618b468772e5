#!/usr/bin/env bats
# window: event-time windows, watermarks, late data.  Every expected output
# below was worked out by hand from the fixture and the rules in window(1).

bats_require_minimum_version 1.5.0

setup() { load common-setup; _common_setup; }

# w START END: the window fields window splices into an event of 2024-03-15.
w() { printf '"window_start":"2024-03-15T%sZ","window_end":"2024-03-15T%sZ"}' "$1" "$2"; }
wm() { printf '{"@watermark":"2024-03-15T%sZ"}' "$1"; }
INF='{"@watermark":"+inf"}'

# ---- tumbling ----

@test "tumbling windows annotate each event and close with a watermark when the next window starts" {
	run -0 --separate-stderr window --tumbling 1m "$DATA/window-tumbling.ndjson"
	assert_output - <<-EOF
	{"id":1,"timestamp":"2024-03-15T10:00:10Z",$(w 10:00:00 10:01:00)
	{"id":2,"timestamp":"2024-03-15T10:00:20Z",$(w 10:00:00 10:01:00)
	{"id":3,"timestamp":"2024-03-15T10:01:05Z",$(w 10:01:00 10:02:00)
	$(wm 10:01:05)
	{"id":4,"timestamp":"2024-03-15T10:02:30Z",$(w 10:02:00 10:03:00)
	$(wm 10:02:30)
	$INF
	EOF
	assert_equal "$stderr" ""
}

@test "a positive offset shifts the tumbling grid to :15" {
	run -0 window --tumbling 1m --offset 15s "$DATA/window-tumbling.ndjson"
	assert_output - <<-EOF
	{"id":1,"timestamp":"2024-03-15T10:00:10Z",$(w 09:59:15 10:00:15)
	{"id":2,"timestamp":"2024-03-15T10:00:20Z",$(w 10:00:15 10:01:15)
	$(wm 10:00:20)
	{"id":3,"timestamp":"2024-03-15T10:01:05Z",$(w 10:00:15 10:01:15)
	{"id":4,"timestamp":"2024-03-15T10:02:30Z",$(w 10:02:15 10:03:15)
	$(wm 10:02:30)
	$INF
	EOF
}

@test "a negative offset shifts the tumbling grid to :45" {
	run -0 window --tumbling 1m --offset -15s "$DATA/window-tumbling.ndjson"
	assert_output - <<-EOF
	{"id":1,"timestamp":"2024-03-15T10:00:10Z",$(w 09:59:45 10:00:45)
	{"id":2,"timestamp":"2024-03-15T10:00:20Z",$(w 09:59:45 10:00:45)
	{"id":3,"timestamp":"2024-03-15T10:01:05Z",$(w 10:00:45 10:01:45)
	$(wm 10:01:05)
	{"id":4,"timestamp":"2024-03-15T10:02:30Z",$(w 10:01:45 10:02:45)
	$(wm 10:02:30)
	$INF
	EOF
}

@test "an offset longer than the window counts modulo the window" {
	run -0 window --tumbling 1m --offset 1m15s "$DATA/window-tumbling.ndjson"
	assert_line -n 0 "{\"id\":1,\"timestamp\":\"2024-03-15T10:00:10Z\",$(w 09:59:15 10:00:15)"
}

@test "times before 1970 fall in the window below them, not above" {
	run -0 window --tumbling 1m --lateness 1m "$DATA/window-negative.ndjson"
	assert_output - <<-'EOF'
	{"id":1,"timestamp":"1969-12-31T23:59:30Z","window_start":"1969-12-31T23:59:00Z","window_end":"1970-01-01T00:00:00Z"}
	{"id":2,"timestamp":-90,"window_start":"1969-12-31T23:58:00Z","window_end":"1969-12-31T23:59:00Z"}
	{"@watermark":"+inf"}
	EOF
}

@test "negative times with a positive offset use the grid at :15 before 1970" {
	run -0 window --tumbling 1h --offset 15m --lateness 1m "$DATA/window-negative.ndjson"
	assert_output - <<-'EOF'
	{"id":1,"timestamp":"1969-12-31T23:59:30Z","window_start":"1969-12-31T23:15:00Z","window_end":"1970-01-01T00:15:00Z"}
	{"id":2,"timestamp":-90,"window_start":"1969-12-31T23:15:00Z","window_end":"1970-01-01T00:15:00Z"}
	{"@watermark":"+inf"}
	EOF
}

@test "negative times with a negative offset use the grid at :45 across the epoch" {
	run -0 window --tumbling 1h --offset -15m --lateness 1m "$DATA/window-negative.ndjson"
	assert_output - <<-'EOF'
	{"id":1,"timestamp":"1969-12-31T23:59:30Z","window_start":"1969-12-31T23:45:00Z","window_end":"1970-01-01T00:45:00Z"}
	{"id":2,"timestamp":-90,"window_start":"1969-12-31T23:45:00Z","window_end":"1970-01-01T00:45:00Z"}
	{"@watermark":"+inf"}
	EOF
}

# ---- sliding ----

@test "a sliding window whose slide does not divide the size puts each event in 3 or 4 windows" {
	# Size 10s, slide 3s: starts on the 3s grid; 10:00:10 is in the windows starting at
	# :03 :06 :09, 10:00:12 also in :12, 10:00:17 in :09 :12 :15.  T=:17 closes :13 and :16.
	run -0 window --sliding 10s --slide 3s "$DATA/window-sliding.ndjson"
	assert_output - <<-EOF
	{"id":1,"timestamp":"2024-03-15T10:00:10Z",$(w 10:00:03 10:00:13)
	{"id":1,"timestamp":"2024-03-15T10:00:10Z",$(w 10:00:06 10:00:16)
	{"id":1,"timestamp":"2024-03-15T10:00:10Z",$(w 10:00:09 10:00:19)
	{"id":2,"timestamp":"2024-03-15T10:00:12Z",$(w 10:00:03 10:00:13)
	{"id":2,"timestamp":"2024-03-15T10:00:12Z",$(w 10:00:06 10:00:16)
	{"id":2,"timestamp":"2024-03-15T10:00:12Z",$(w 10:00:09 10:00:19)
	{"id":2,"timestamp":"2024-03-15T10:00:12Z",$(w 10:00:12 10:00:22)
	{"id":3,"timestamp":"2024-03-15T10:00:17Z",$(w 10:00:09 10:00:19)
	{"id":3,"timestamp":"2024-03-15T10:00:17Z",$(w 10:00:12 10:00:22)
	{"id":3,"timestamp":"2024-03-15T10:00:17Z",$(w 10:00:15 10:00:25)
	$(wm 10:00:17)
	$INF
	EOF
}

@test "a sliding window with a slide dividing the size gives size/slide copies" {
	run -0 window --sliding 1m --slide 30s "$DATA/window-tumbling.ndjson"
	assert_line -n 0 "{\"id\":1,\"timestamp\":\"2024-03-15T10:00:10Z\",$(w 09:59:30 10:00:30)"
	assert_line -n 1 "{\"id\":1,\"timestamp\":\"2024-03-15T10:00:10Z\",$(w 10:00:00 10:01:00)"
	assert_line -n 2 "{\"id\":2,\"timestamp\":\"2024-03-15T10:00:20Z\",$(w 09:59:30 10:00:30)"
}

@test "sliding windows take an offset" {
	run -0 window --sliding 1m --slide 30s --offset 10s "$DATA/window-tumbling.ndjson"
	assert_line -n 0 "{\"id\":1,\"timestamp\":\"2024-03-15T10:00:10Z\",$(w 09:59:40 10:00:40)"
	assert_line -n 1 "{\"id\":1,\"timestamp\":\"2024-03-15T10:00:10Z\",$(w 10:00:10 10:01:10)"
}

@test "a sliding event with one window still open is not late and goes only to that window" {
	# [10:00:30,10:01:30) closes at T=10:01:40; event 3 (10:01:20) still has [10:01,10:02).
	# Event 4 (10:00:50) belongs to [10:00,10:01) and [10:00:30,10:01:30): both closed.
	run -0 --separate-stderr window --sliding 1m --slide 30s --late "$T/late" "$DATA/window-partial.ndjson"
	assert_output - <<-EOF
	{"id":1,"timestamp":"2024-03-15T10:01:10Z",$(w 10:00:30 10:01:30)
	{"id":1,"timestamp":"2024-03-15T10:01:10Z",$(w 10:01:00 10:02:00)
	{"id":2,"timestamp":"2024-03-15T10:01:40Z",$(w 10:01:00 10:02:00)
	{"id":2,"timestamp":"2024-03-15T10:01:40Z",$(w 10:01:30 10:02:30)
	$(wm 10:01:40)
	{"id":3,"timestamp":"2024-03-15T10:01:20Z",$(w 10:01:00 10:02:00)
	$INF
	EOF
	assert_equal "$(cat "$T/late")" '{"id":4,"timestamp":"2024-03-15T10:00:50Z"}'
	assert_equal "$stderr" ""
}

# ---- sessions ----

@test "sessions that touch merge, and a session closes when the watermark reaches its end" {
	# 10:00:00 and 10:00:10 with gap 10s: [00,10) and [10,20) touch -> [00,20).
	# 10:00:30 raises T to :30, which closes [00,20).
	run -0 window --session 10s "$DATA/window-touching.ndjson"
	assert_output - <<-EOF
	{"id":1,"timestamp":"2024-03-15T10:00:00Z",$(w 10:00:00 10:00:20)
	{"id":2,"timestamp":"2024-03-15T10:00:10Z",$(w 10:00:00 10:00:20)
	$(wm 10:00:30)
	{"id":3,"timestamp":"2024-03-15T10:00:30Z",$(w 10:00:30 10:00:40)
	$INF
	EOF
}

@test "an out-of-order event within the lateness bridges two sessions into one" {
	# [00,10) and [18,28) are apart; 10:00:08 makes [08,18), which overlaps the first
	# and touches the second: one session [00,28), its events in time order.
	run -0 window --session 10s --lateness 30s "$DATA/window-bridging.ndjson"
	assert_output - <<-EOF
	{"id":1,"timestamp":"2024-03-15T10:00:00Z",$(w 10:00:00 10:00:28)
	{"id":3,"timestamp":"2024-03-15T10:00:08Z",$(w 10:00:00 10:00:28)
	{"id":2,"timestamp":"2024-03-15T10:00:18Z",$(w 10:00:00 10:00:28)
	$INF
	EOF
}

@test "an event whose own window has closed joins the open session it touches" {
	# No lateness: 10:00:18 closes [00,10).  10:00:08 makes [08,18): closed on its own,
	# but it touches the open [18,28), so it is not late and the session becomes [08,28).
	run -0 --separate-stderr window --session 10s "$DATA/window-bridging.ndjson"
	assert_output - <<-EOF
	{"id":1,"timestamp":"2024-03-15T10:00:00Z",$(w 10:00:00 10:00:10)
	$(wm 10:00:18)
	{"id":3,"timestamp":"2024-03-15T10:00:08Z",$(w 10:00:08 10:00:28)
	{"id":2,"timestamp":"2024-03-15T10:00:18Z",$(w 10:00:08 10:00:28)
	$INF
	EOF
	assert_equal "$stderr" ""
}

@test "sessions are kept per key and close in order of their end" {
	# a: [00,10)+[08,18) -> [00,18); b: [03,13).  b's 10:00:20 sets T=:20: b's [03,13)
	# closes first, then a's [00,18).  At the end b [20,30) before a [21,31).
	run -0 window --session 10s --key user "$DATA/window-keyed.ndjson"
	assert_output - <<-EOF
	{"user":"b","timestamp":"2024-03-15T10:00:03Z",$(w 10:00:03 10:00:13)
	{"user":"a","timestamp":"2024-03-15T10:00:00Z",$(w 10:00:00 10:00:18)
	{"user":"a","timestamp":"2024-03-15T10:00:08Z",$(w 10:00:00 10:00:18)
	$(wm 10:00:20)
	{"user":"b","timestamp":"2024-03-15T10:00:20Z",$(w 10:00:20 10:00:30)
	{"user":"a","timestamp":"2024-03-15T10:00:21Z",$(w 10:00:21 10:00:31)
	$INF
	EOF
}

@test "without --key all events share one session stream" {
	# 00 03 08 -> [00,18); 20 and 21 -> a new session [20,31) since 18 < 20.
	run -0 window --session 10s "$DATA/window-keyed.ndjson"
	assert_output - <<-EOF
	{"user":"a","timestamp":"2024-03-15T10:00:00Z",$(w 10:00:00 10:00:18)
	{"user":"b","timestamp":"2024-03-15T10:00:03Z",$(w 10:00:00 10:00:18)
	{"user":"a","timestamp":"2024-03-15T10:00:08Z",$(w 10:00:00 10:00:18)
	$(wm 10:00:20)
	{"user":"b","timestamp":"2024-03-15T10:00:20Z",$(w 10:00:20 10:00:31)
	{"user":"a","timestamp":"2024-03-15T10:00:21Z",$(w 10:00:20 10:00:31)
	$INF
	EOF
}

@test "--key takes several fields and a missing key field groups as null" {
	printf '%s\n' '{"u":"a","p":1,"timestamp":"2024-03-15T10:00:00Z"}' \
	    '{"u":"a","p":2,"timestamp":"2024-03-15T10:00:01Z"}' \
	    '{"timestamp":"2024-03-15T10:00:02Z"}' \
	    '{"u":"a","p":1,"timestamp":"2024-03-15T10:00:03Z"}' >"$T/in"
	# Keys ["a",1] [00,13), ["a",2] [01,11), [null,null] [02,12): closed in order of end.
	run -0 window --session 10s --key u,p "$T/in"
	assert_output - <<-EOF
	{"u":"a","p":2,"timestamp":"2024-03-15T10:00:01Z",$(w 10:00:01 10:00:11)
	{"timestamp":"2024-03-15T10:00:02Z",$(w 10:00:02 10:00:12)
	{"u":"a","p":1,"timestamp":"2024-03-15T10:00:00Z",$(w 10:00:00 10:00:13)
	{"u":"a","p":1,"timestamp":"2024-03-15T10:00:03Z",$(w 10:00:00 10:00:13)
	$INF
	EOF
}

@test "session events keep their bytes, spacing included, and existing window fields are replaced in place" {
	printf '%s\n' '  { "a" : 1 , "timestamp":"2024-03-15T10:00:00Z"  }  ' \
	    '{"window_end":"x","timestamp":"2024-03-15T10:00:01Z"}' >"$T/in"
	run -0 window --session 10s "$T/in"
	assert_output - <<-EOF
	{ "a" : 1 , "timestamp":"2024-03-15T10:00:00Z"  ,$(w 10:00:00 10:00:11)
	{"window_end":"2024-03-15T10:00:11Z","timestamp":"2024-03-15T10:00:01Z","window_start":"2024-03-15T10:00:00Z"}
	$INF
	EOF
}

@test "an empty object gets the window fields without a comma" {
	printf '%s\n' '{}' '{ }' >"$T/in"
	run -0 window --session 1h --processing-time "$T/in"
	assert_line -n 0 --regexp '^\{"window_start":"[^"]+","window_end":"[^"]+"\}$'
	assert_line -n 1 --regexp '^\{ "window_start":"[^"]+","window_end":"[^"]+"\}$'
}

# ---- lateness and late events ----

@test "out-of-order events within the lateness are kept; a later one is late and reported" {
	# T = max - 30s.  10:00:45 arrives at T=:40, its window [10:00,10:01) is open.
	# 10:01:40 sets T=10:01:10 and closes [10:00,10:01); 10:00:59 is then late.
	run -0 --separate-stderr window --tumbling 1m --lateness 30s "$DATA/window-ooo.ndjson"
	assert_output - <<-EOF
	{"id":1,"timestamp":"2024-03-15T10:00:50Z",$(w 10:00:00 10:01:00)
	{"id":2,"timestamp":"2024-03-15T10:01:10Z",$(w 10:01:00 10:02:00)
	{"id":3,"timestamp":"2024-03-15T10:00:45Z",$(w 10:00:00 10:01:00)
	{"id":4,"timestamp":"2024-03-15T10:01:40Z",$(w 10:01:00 10:02:00)
	$(wm 10:01:10)
	$INF
	EOF
	assert_equal "$stderr" "window: $DATA/window-ooo.ndjson:5: late event
window: 1 late event"
}

@test "late events go whole to --late FILE and the run exits 0" {
	run -0 --separate-stderr window --tumbling 1m --lateness 30s --late "$T/late" "$DATA/window-ooo.ndjson"
	assert_equal "$stderr" ""
	assert_equal "$(cat "$T/late")" '{"id":5,"timestamp":"2024-03-15T10:00:59Z"}'
	assert_equal "$(grep -c id "$T/late")" 1
}

@test "without lateness the same out-of-order event is late at once" {
	run -0 window --tumbling 1m --late "$T/late" "$DATA/window-ooo.ndjson"
	# T=10:01:10 after event 2 closes [10:00,10:01): events 3 and 5 are late.
	assert_equal "$(cat "$T/late")" '{"id":3,"timestamp":"2024-03-15T10:00:45Z"}
{"id":5,"timestamp":"2024-03-15T10:00:59Z"}'
}

@test "a late session event that joins no open session goes to --late" {
	printf '%s\n' '{"timestamp":"2024-03-15T10:00:30Z"}' '{"timestamp":"2024-03-15T10:00:05Z"}' >"$T/in"
	run -0 window --session 10s --late "$T/late" "$T/in"
	assert_equal "$(cat "$T/late")" '{"timestamp":"2024-03-15T10:00:05Z"}'
	assert_line -n 0 "{\"timestamp\":\"2024-03-15T10:00:30Z\",$(w 10:00:30 10:00:40)"
}

# ---- allowed lateness (Flink's late firings) ----

@test "--allowed-lateness passes late tumbling events on as revisions of their closed window" {
	# T=10:01:10 closes [10:00,10:01), which is kept until 10:02: events 3 and 5 are its
	# first and second late updates instead of late events.
	run -0 --separate-stderr window --tumbling 1m --allowed-lateness 1m "$DATA/window-ooo.ndjson"
	assert_output - <<-EOF
	{"id":1,"timestamp":"2024-03-15T10:00:50Z",$(w 10:00:00 10:01:00)
	{"id":2,"timestamp":"2024-03-15T10:01:10Z",$(w 10:01:00 10:02:00)
	$(wm 10:01:10)
	{"id":3,"timestamp":"2024-03-15T10:00:45Z",$(w 10:00:00 10:01:00 | sed 's/}$/,"revision":1}/')
	{"id":4,"timestamp":"2024-03-15T10:01:40Z",$(w 10:01:00 10:02:00)
	{"id":5,"timestamp":"2024-03-15T10:00:59Z",$(w 10:00:00 10:01:00 | sed 's/}$/,"revision":2}/')
	$INF
	EOF
	assert_equal "$stderr" ""
}

@test "--allowed-lateness gives a sliding event only the windows still kept" {
	# Event 4 (10:00:50): [10:00,10:01) ended at 10:01, +30s <= T=10:01:40, gone;
	# [10:00:30,10:01:30) is kept until 10:02 and gets its second revision.
	run -0 window --sliding 1m --slide 30s --allowed-lateness 30s "$DATA/window-partial.ndjson"
	assert_line -n 5 "{\"id\":3,\"timestamp\":\"2024-03-15T10:01:20Z\",$(w 10:00:30 10:01:30 | sed 's/}$/,"revision":1}/')"
	assert_line -n 6 "{\"id\":3,\"timestamp\":\"2024-03-15T10:01:20Z\",$(w 10:01:00 10:02:00)"
	assert_line -n 7 "{\"id\":4,\"timestamp\":\"2024-03-15T10:00:50Z\",$(w 10:00:30 10:01:30 | sed 's/}$/,"revision":2}/')"
	assert_equal "${#lines[@]}" 9
}

@test "--allowed-lateness re-fires a kept session whole when a late event joins it" {
	# [00,10) fires at T=:30 and is kept until :40; 10:00:05 joins it: [00,15) fires again,
	# both events, as revision 1.  09:59:00 is past even the allowed lateness: late.
	run -0 --separate-stderr window --session 10s --allowed-lateness 30s --late "$T/late" "$DATA/window-allowed.ndjson"
	assert_output - <<-EOF
	{"id":1,"timestamp":"2024-03-15T10:00:00Z",$(w 10:00:00 10:00:10)
	$(wm 10:00:30)
	{"id":1,"timestamp":"2024-03-15T10:00:00Z",$(w 10:00:00 10:00:15 | sed 's/}$/,"revision":1}/')
	{"id":3,"timestamp":"2024-03-15T10:00:05Z",$(w 10:00:00 10:00:15 | sed 's/}$/,"revision":1}/')
	{"id":2,"timestamp":"2024-03-15T10:00:30Z",$(w 10:00:30 10:00:40)
	$INF
	EOF
	assert_equal "$(cat "$T/late")" '{"id":4,"timestamp":"2024-03-15T09:59:00Z"}'
}

@test "a negative --allowed-lateness is refused" {
	run -2 --separate-stderr window --session 10s --allowed-lateness -1s
	[[ "$stderr" == "window: --allowed-lateness: duration must not be negative: -1s"* ]]
}

@test "two runs with --state and --allowed-lateness give the output of one run (sessions)" {
	window --session 10s --allowed-lateness 30s --late "$T/late1" "$DATA/window-allowed.ndjson" >"$T/one"
	head -2 "$DATA/window-allowed.ndjson" | window --session 10s --allowed-lateness 30s --state "$T/st" >"$T/two"
	{ tail -2 "$DATA/window-allowed.ndjson"; echo '{"@watermark":"+inf"}'; } |
	    window --session 10s --allowed-lateness 30s --late "$T/late2" --state "$T/st" >>"$T/two"
	run diff "$T/one" "$T/two"
	assert_success
	run diff "$T/late1" "$T/late2"
	assert_success
}

@test "two runs with --state and --allowed-lateness give the output of one run (tumbling revisions)" {
	window --tumbling 1m --allowed-lateness 1m "$DATA/window-ooo.ndjson" >"$T/one"
	head -3 "$DATA/window-ooo.ndjson" | window --tumbling 1m --allowed-lateness 1m --state "$T/st" >"$T/two"
	{ tail -2 "$DATA/window-ooo.ndjson"; echo '{"@watermark":"+inf"}'; } |
	    window --tumbling 1m --allowed-lateness 1m --state "$T/st" >>"$T/two"
	run diff "$T/one" "$T/two"
	assert_success
	run grep -c revision "$T/two"
	assert_output 2
}

# ---- watermarks ----

@test "watermark records in the input advance the watermark; a lower one is ignored; +inf closes all once" {
	run -0 --separate-stderr window --tumbling 1m --late "$T/late" "$DATA/window-watermarks.ndjson"
	assert_output - <<-EOF
	{"id":1,"timestamp":"2024-03-15T10:00:10Z",$(w 10:00:00 10:01:00)
	$(wm 10:01:00)
	{"id":3,"timestamp":"2024-03-15T10:01:30Z",$(w 10:01:00 10:02:00)
	$INF
	EOF
	assert_equal "$(cat "$T/late")" '{"id":2,"timestamp":"2024-03-15T10:00:50Z"}'
}

@test "a watermark record that closes nothing is not repeated" {
	printf '%s\n' '{"timestamp":"2024-03-15T10:00:10Z"}' '{"@watermark":"2024-03-15T10:00:30Z"}' >"$T/in"
	run -0 window --tumbling 1m "$T/in"
	assert_output - <<-EOF
	{"timestamp":"2024-03-15T10:00:10Z",$(w 10:00:00 10:01:00)
	$INF
	EOF
}

@test "--no-watermarks drops the watermark records from the output" {
	run -0 window --tumbling 1m --no-watermarks "$DATA/window-tumbling.ndjson"
	refute_output --partial '@watermark'
	assert_equal "${#lines[@]}" 4
}

@test "an empty input gives just the final watermark" {
	run -0 window --tumbling 1m </dev/null
	assert_output "$INF"
}

# ---- time ----

@test "-t and --time-format read another field as epoch milliseconds" {
	printf '%s\n' '{"ts":1710496810000}' '{"ts":1710496870000}' >"$T/in"
	run -0 window --tumbling 1m -t ts --time-format epoch_ms "$T/in"
	assert_output - <<-EOF
	{"ts":1710496810000,$(w 10:00:00 10:01:00)
	{"ts":1710496870000,$(w 10:01:00 10:02:00)
	$(wm 10:01:10)
	$INF
	EOF
}

@test "--time-field is the long form of -t" {
	printf '%s\n' '{"at":"2024-03-15T10:00:10Z"}' >"$T/in"
	run -0 window --tumbling 1m --time-field at "$T/in"
	assert_line -n 0 "{\"at\":\"2024-03-15T10:00:10Z\",$(w 10:00:00 10:01:00)"
}

@test "--processing-time stamps events with their arrival time" {
	# A 10000-week window from the first Monday, 1970-01-05, holds any arrival time this century.
	printf '%s\n' '{"id":1}' '{"id":2}' >"$T/in"
	end=$(date -u -d @$(((4 + 10000 * 7) * 86400)) +%Y-%m-%dT%H:%M:%SZ)
	run -0 window --tumbling 10000w --processing-time "$T/in"
	assert_output - <<-EOF
	{"id":1,"window_start":"1970-01-05T00:00:00Z","window_end":"$end"}
	{"id":2,"window_start":"1970-01-05T00:00:00Z","window_end":"$end"}
	$INF
	EOF
}

@test "window fields already in a record are replaced in place" {
	printf '%s\n' '{"window_start":"x","timestamp":"2024-03-15T10:00:10Z","window_end":"y"}' >"$T/in"
	run -0 window --tumbling 1m "$T/in"
	assert_line -n 0 '{"window_start":"2024-03-15T10:00:00Z","timestamp":"2024-03-15T10:00:10Z","window_end":"2024-03-15T10:01:00Z"}'
}

# ---- bad input ----

@test "records without a usable time, bad JSON and bad watermarks are rejected with a reason" {
	run -1 --separate-stderr window --tumbling 1m "$DATA/window-bad.ndjson"
	assert_output - <<-EOF
	{"id":1,"timestamp":"2024-03-15T10:00:10Z",$(w 10:00:00 10:01:00)
	{"id":5,"timestamp":"2024-03-15T10:00:20Z",$(w 10:00:00 10:01:00)
	$INF
	EOF
	assert_equal "$stderr" "window: $DATA/window-bad.ndjson:2: missing time field 'timestamp'
window: $DATA/window-bad.ndjson:3: bad time in 'timestamp': month out of range: 2024-13-01T00:00:00Z
window: $DATA/window-bad.ndjson:4: invalid JSON at column 21: a value expected near end of file
window: $DATA/window-bad.ndjson:5: bad watermark: not an RFC 3339 time or \"+inf\"
window: 4 records rejected (use --dead-letter FILE to keep them)"
}

@test "every class of bad line is rejected with its reason; BOM, CRLF and a last line without newline are fine" {
	printf '\xef\xbb\xbf{"timestamp":"2024-03-15T10:00:10Z"}\r\n[1,2]\n{"timestamp":true}\n{"timestamp":"2024-03-15T10:00:1\xff"}\n{"a":"\x00"}\n{"timestamp":"tomorrow"}\n{"timestamp":"2024-03-15T10:00:20Z"}' >"$T/in"
	run -1 --separate-stderr window --tumbling 1m "$T/in"
	assert_output - <<-EOF
	{"timestamp":"2024-03-15T10:00:10Z",$(w 10:00:00 10:01:00)
	{"timestamp":"2024-03-15T10:00:20Z",$(w 10:00:00 10:01:00)
	$INF
	EOF
	assert_equal "$stderr" "window: $T/in:2: expected a JSON object, got an array
window: $T/in:3: time field 'timestamp' is boolean, not a time
window: $T/in:4: invalid JSON at column 33: invalid UTF-8 byte 0xff
window: $T/in:5: invalid JSON at column 7: NUL byte in a string
window: $T/in:6: bad time in 'timestamp': not a time: tomorrow
window: 5 records rejected (use --dead-letter FILE to keep them)"
}

@test "--dead-letter keeps the rejected lines and the run exits 0" {
	run -0 window --tumbling 1m --dead-letter "$T/dead" "$DATA/window-bad.ndjson"
	assert_equal "$(wc -l <"$T/dead")" 4
	assert_equal "$(head -1 "$T/dead")" "{\"file\":\"$DATA/window-bad.ndjson\",\"line\":2,\"offset\":44,\"reason\":\"missing time field 'timestamp'\",\"raw\":\"{\\\"id\\\":2}\"}"
}

@test "--strict stops at the first rejected record with status 1" {
	run -1 --separate-stderr window --tumbling 1m --strict "$DATA/window-bad.ndjson"
	assert_output "{\"id\":1,\"timestamp\":\"2024-03-15T10:00:10Z\",$(w 10:00:00 10:01:00)"
}

@test "--max-line-bytes rejects a longer line" {
	printf '%s\n' '{"timestamp":"2024-03-15T10:00:10Z","pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}' >"$T/in"
	run -1 --separate-stderr window --tumbling 1m --max-line-bytes 64 "$T/in"
	assert_output "$INF"
	assert_equal "$stderr" "window: $T/in:1: line longer than 64 bytes (--max-line-bytes)
window: 1 record rejected (use --dead-letter FILE to keep them)"
}

# ---- output and stats ----

@test "-o writes the output to a file" {
	run -0 window --tumbling 1m -o "$T/out" "$DATA/window-tumbling.ndjson"
	assert_output ""
	assert_equal "$(wc -l <"$T/out")" 7
}

@test "--output is the long form of -o" {
	run -0 window --tumbling 1m --output "$T/out" "$DATA/window-tumbling.ndjson"
	assert_equal "$(tail -1 "$T/out")" "$INF"
}

@test "--stats counts records in and out and late events" {
	run -0 --separate-stderr window --tumbling 1m --lateness 30s --late "$T/late" --stats "$DATA/window-ooo.ndjson"
	[[ "$stderr" == '{"tool":"window","records_in":5,"records_out":4,"rejected":0,"late":1,'* ]]
}

@test "reading standard input and - work like a file" {
	run -0 window --tumbling 1m - <"$DATA/window-tumbling.ndjson"
	assert_equal "${#lines[@]}" 7
	run -0 window --tumbling 1m <"$DATA/window-tumbling.ndjson"
	assert_equal "${#lines[@]}" 7
}

@test "a full disk is an I/O error" {
	run -3 --separate-stderr window --tumbling 1m "$DATA/window-tumbling.ndjson" -o /dev/full
	assert_equal "$stderr" "window: write error: No space left on device"
}

# ---- --idle on a live pipe ----

@test "--idle closes the window on a live pipe with no more input" {
	mkfifo "$T/fifo"
	timeout 30 window --tumbling 1s --idle 1s <"$T/fifo" >"$T/out" &
	pid=$!
	exec 7>"$T/fifo"
	echo '{"timestamp":"2024-03-15T10:00:00.500Z"}' >&7
	# Poll for the watermark while the writer keeps the pipe open.
	for _ in $(seq 100); do
		grep -q '@watermark' "$T/out" && break
		sleep 0.1
	done
	run cat "$T/out"
	exec 7>&-
	wait "$pid"
	assert_line -n 0 "{\"timestamp\":\"2024-03-15T10:00:00.500Z\",$(w 10:00:00 10:00:01)"
	assert_line -n 1 --regexp '^\{"@watermark":"2024-03-15T10:00:[0-9.]+Z"\}$'
	assert_equal "${#lines[@]}" 2
	assert_equal "$(tail -1 "$T/out")" "$INF"
}

@test "--idle also closes windows restored from --state before any new input" {
	echo '{"timestamp":"2024-03-15T10:00:00.500Z"}' | window --tumbling 1s --state "$T/st" >/dev/null
	mkfifo "$T/fifo"
	timeout 30 window --tumbling 1s --idle 1s --state "$T/st" <"$T/fifo" >"$T/out" &
	pid=$!
	exec 7>"$T/fifo"
	for _ in $(seq 100); do
		grep -q '@watermark' "$T/out" && break
		sleep 0.1
	done
	run cat "$T/out"
	exec 7>&-
	wait "$pid"
	assert_output --regexp '^\{"@watermark":"2024-03-15T10:00:[0-9.]+Z"\}$'
}

@test "without --idle a quiet pipe keeps the window open" {
	mkfifo "$T/fifo"
	timeout 30 window --tumbling 1s <"$T/fifo" >"$T/out" &
	pid=$!
	exec 7>"$T/fifo"
	echo '{"timestamp":"2024-03-15T10:00:00.500Z"}' >&7
	for _ in $(seq 100); do
		[ -s "$T/out" ] && break
		sleep 0.1
	done
	sleep 1.5
	run cat "$T/out"
	exec 7>&-
	wait "$pid"
	assert_equal "${#lines[@]}" 1
}

# ---- --state ----

@test "two runs with --state give the output of one run (sessions)" {
	window --session 10s --key user "$DATA/window-keyed.ndjson" >"$T/one"
	head -3 "$DATA/window-keyed.ndjson" | window --session 10s --key user --state "$T/st" >"$T/two"
	{ tail -2 "$DATA/window-keyed.ndjson"; echo '{"@watermark":"+inf"}'; } |
	    window --session 10s --key user --state "$T/st" >>"$T/two"
	run diff "$T/one" "$T/two"
	assert_success
}

@test "two runs with --state give the output of one run (tumbling, with lateness)" {
	window --tumbling 1m --lateness 30s --late "$T/late1" "$DATA/window-ooo.ndjson" >"$T/one"
	head -2 "$DATA/window-ooo.ndjson" | window --tumbling 1m --lateness 30s --late "$T/late2" --state "$T/st" >"$T/two"
	{ tail -3 "$DATA/window-ooo.ndjson"; echo '{"@watermark":"+inf"}'; } |
	    window --tumbling 1m --lateness 30s --late "$T/late2" --state "$T/st" >>"$T/two"
	run diff "$T/one" "$T/two"
	assert_success
	run diff "$T/late1" "$T/late2"
	assert_success
}

@test "a run with --state keeps open sessions at the end of input instead of closing them" {
	head -1 "$DATA/window-keyed.ndjson" | window --session 10s --state "$T/st" >"$T/out"
	assert_equal "$(cat "$T/out")" ""
	run grep -c '"event"' "$T/st"
	assert_output 1
}

@test "a state saved for other windows is refused" {
	head -1 "$DATA/window-keyed.ndjson" | window --session 10s --state "$T/st"
	run -2 --separate-stderr window --session 20s --state "$T/st" </dev/null
	assert_equal "$stderr" "window: state file $T/st: it was saved by a run with --session 10s; this run has --session 20s"
}

@test "a state file that is not a window state is an error with status 3" {
	echo 'garbage' >"$T/st"
	run -3 --separate-stderr window --tumbling 1m --state "$T/st" </dev/null
	assert_equal "$stderr" "window: state file $T/st: not an ndflow state file"
	printf '{"ndflow_state":1,"tool":"dedupe"}\n' >"$T/st2"
	run -3 --separate-stderr window --tumbling 1m --state "$T/st2" </dev/null
	assert_equal "$stderr" "window: state file $T/st2: it belongs to another tool"
}

@test "a state file in a missing directory is an error with status 3" {
	run -3 --separate-stderr window --tumbling 1m --state "$T/no/st" </dev/null
	assert_equal "$stderr" "window: state file $T/no/st: No such file or directory"
}

@test "a second run on a state in use is refused with status 3" {
	mkfifo "$T/fifo"
	timeout --foreground 30 window --tumbling 1m --state "$T/st" <"$T/fifo" >"$T/out" &
	pid=$!
	exec 7>"$T/fifo"
	echo '{"timestamp":"2024-03-15T10:00:00Z"}' >&7
	for _ in $(seq 100); do
		[ -s "$T/out" ] && break
		sleep 0.1
	done
	run -3 --separate-stderr window --tumbling 1m --state "$T/st" </dev/null
	exec 7>&-
	wait "$pid"
	assert_equal "$stderr" "window: state file $T/st is locked by another run"
	assert_output ""
}

@test "SIGTERM saves the state and a later run resumes from its watermark and open windows" {
	mkfifo "$T/fifo"
	# --foreground: timeout passes a TERM on once; without it, it also signals its
	# process group, and a second TERM ends window at once (status 143), by design.
	timeout --foreground 30 window --tumbling 1m --state "$T/st" <"$T/fifo" >"$T/out" &
	pid=$!
	exec 7>"$T/fifo"
	echo '{"id":1,"timestamp":"2024-03-15T10:00:30Z"}' >&7
	for _ in $(seq 100); do
		[ -s "$T/out" ] && break
		sleep 0.1
	done
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	exec 7>&-
	assert_equal "$rc" 0
	assert_equal "$(cat "$T/out")" "{\"id\":1,\"timestamp\":\"2024-03-15T10:00:30Z\",$(w 10:00:00 10:01:00)"
	# The saved T is 10:00:30, so 09:59:50 is late; the saved open window [10:00,10:01)
	# closes at 10:01:05 and brings a watermark although this run gave it no event.
	run -0 --separate-stderr window --tumbling 1m --state "$T/st" --late "$T/late" <<-'EOF'
	{"id":2,"timestamp":"2024-03-15T09:59:50Z"}
	{"id":3,"timestamp":"2024-03-15T10:01:05Z"}
	EOF
	assert_output - <<-EOF
	{"id":3,"timestamp":"2024-03-15T10:01:05Z",$(w 10:01:00 10:02:00)
	$(wm 10:01:05)
	EOF
	assert_equal "$(cat "$T/late")" '{"id":2,"timestamp":"2024-03-15T09:59:50Z"}'
}

@test "without --state SIGTERM closes every window as at the end of input" {
	mkfifo "$T/fifo"
	# --foreground: timeout passes a TERM on once; without it, it also signals its
	# process group, and a second TERM ends window at once (status 143), by design.
	timeout --foreground 30 window --session 10s <"$T/fifo" >"$T/out" &
	pid=$!
	exec 7>"$T/fifo"
	echo '{"id":1,"timestamp":"2024-03-15T10:00:00Z"}' >&7
	echo '{"@watermark":"2024-03-15T09:00:00Z"}' >&7
	sleep 0.5
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	exec 7>&-
	assert_equal "$rc" 0
	assert_equal "$(tail -1 "$T/out")" "$INF"
}

@test "--checkpoint-every saves the state while the input is still open" {
	mkfifo "$T/fifo"
	timeout 30 window --session 10s --state "$T/st" --checkpoint-every 100ms <"$T/fifo" >"$T/out" &
	pid=$!
	exec 7>"$T/fifo"
	echo '{"id":1,"timestamp":"2024-03-15T10:00:00Z"}' >&7
	for _ in $(seq 100); do
		grep -q '"event"' "$T/st" 2>/dev/null && break
		sleep 0.1
	done
	run grep -c '"event"' "$T/st"
	exec 7>&-
	wait "$pid"
	assert_output 1
}

# ---- options ----

@test "a window option is required" {
	run -2 --separate-stderr window
	assert_equal "$stderr" "window: one of --tumbling, --sliding or --session is required
Try 'window --help' for more information."
}

@test "a zero duration is refused" {
	run -2 --separate-stderr window --tumbling 0s
	assert_equal "$stderr" "window: --tumbling: duration must be positive: 0s
Try 'window --help' for more information."
}

@test "a duration without a unit is refused" {
	run -2 --separate-stderr window --session 10
	[[ "$stderr" == "window: --session: missing unit: 10"* ]]
}

@test "an unknown unit is refused" {
	run -2 --separate-stderr window --sliding 1x --slide 1s
	[[ "$stderr" == "window: --sliding: unknown unit 'x': 1x"* ]]
}

@test "a negative lateness is refused" {
	run -2 --separate-stderr window --tumbling 1m --lateness -5s
	[[ "$stderr" == "window: --lateness: duration must not be negative: -5s"* ]]
}

@test "bad --idle, --slide, --offset and --checkpoint-every values are refused" {
	run -2 --separate-stderr window --tumbling 1m --idle 0
	[[ "$stderr" == "window: --idle: duration must be positive: 0"* ]]
	run -2 --separate-stderr window --sliding 1m --slide 0s
	[[ "$stderr" == "window: --slide: duration must be positive: 0s"* ]]
	run -2 --separate-stderr window --tumbling 1m --offset soon
	[[ "$stderr" == "window: --offset: missing number: soon"* ]]
	run -2 --separate-stderr window --tumbling 1m --state "$T/st" --checkpoint-every -1s
	[[ "$stderr" == "window: --checkpoint-every: duration must not be negative: -1s"* ]]
}

@test "two window kinds cannot be combined" {
	run -2 --separate-stderr window --tumbling 1m --session 10s
	assert_equal "$stderr" "window: --tumbling and --session cannot be used together
Try 'window --help' for more information."
}

@test "--sliding needs --slide and --slide needs --sliding" {
	run -2 --separate-stderr window --sliding 1m
	assert_equal "$stderr" "window: --sliding needs --slide
Try 'window --help' for more information."
	run -2 --separate-stderr window --tumbling 1m --slide 10s
	assert_equal "$stderr" "window: --slide needs --sliding
Try 'window --help' for more information."
}

@test "a slide longer than the window is refused" {
	run -2 --separate-stderr window --sliding 1m --slide 2m
	assert_equal "$stderr" "window: --slide 2m is longer than the window (--sliding 1m)
Try 'window --help' for more information."
}

@test "a slide that puts an event in too many windows is refused" {
	run -2 --separate-stderr window --sliding 1d --slide 1s
	assert_equal "$stderr" "window: --sliding 1d --slide 1s puts each event in more than 10000 windows
Try 'window --help' for more information."
}

@test "--key needs --session" {
	run -2 --separate-stderr window --tumbling 1m --key user
	assert_equal "$stderr" "window: --key needs --session
Try 'window --help' for more information."
}

@test "--offset cannot be used with --session" {
	run -2 --separate-stderr window --session 10s --offset 5s
	assert_equal "$stderr" "window: --offset cannot be used with --session
Try 'window --help' for more information."
}

@test "--checkpoint-every needs --state" {
	run -2 --separate-stderr window --session 10s --checkpoint-every 1m
	assert_equal "$stderr" "window: --checkpoint-every needs --state
Try 'window --help' for more information."
}

@test "an unknown option is a usage error" {
	run -2 --separate-stderr window --tumbling 1m --bogus
	[[ "$stderr" == *"Try 'window --help' for more information."* ]]
}

@test "--help prints the usage and every option" {
	run -0 window --help
	assert_line -n 0 "Usage: window (--tumbling D | --sliding D --slide D | --session GAP) [options] [file ...]"
	for o in --tumbling --sliding --slide --session --offset --key --processing-time --lateness \
	    --late --allowed-lateness --idle --state --checkpoint-every --no-watermarks; do
		assert_output --partial -- "$o"
	done
	run -0 window -h
}

@test "--version prints the version" {
	run -0 window --version
	assert_output --regexp '^window \(ndflow\) '
	run -0 window -V
}

@test "an unreadable input file is an I/O error" {
	run -3 --separate-stderr window --tumbling 1m "$T/nope"
	assert_output "$INF"
	assert_equal "$stderr" "window: $T/nope: No such file or directory"
}

@test "an event whose window would end after 9999-12-31 is rejected with its reason, not written as +10000" {
	# [9999-12-31T23:59:00Z, 10000-01-01T00:00:00Z) has an end RFC 3339 cannot write; the window before it can.
	printf '{"timestamp":"9999-12-31T23:59:30Z"}\n{"timestamp":"9999-12-31T23:58:30Z"}\n' > "$T/in"
	run -0 window --tumbling 1m --dead-letter "$T/dl" < "$T/in"
	assert_output '{"timestamp":"9999-12-31T23:58:30Z","window_start":"9999-12-31T23:58:00Z","window_end":"9999-12-31T23:59:00Z"}
{"@watermark":"+inf"}'
	run jq -r '.line, .reason' "$T/dl"
	assert_output '1
its window would end after 9999-12-31T23:59:59.999999Z or start before year 0000, which RFC 3339 cannot write'
	run -1 --separate-stderr window --session 1m < <(head -1 "$T/in")
	assert_output '{"@watermark":"+inf"}'
	[[ "${stderr_lines[0]}" == 'window: -:1: its window would end after'* ]]
}

@test "sessions are placed in O(log n): sessions visited at n and 8n grow as n log n, not n squared" {
	# n events 10 s apart, gap 1 s, a lateness that keeps every session open, one stream (no
	# --key): each event starts a session among all the others.  A scan of the key's sessions
	# visits n(n-1)/2 in all (about 500k at n = 1000, 32M at 8n); a search, O(log n) each.
	for n in 1000 8000; do
		awk -v n=$n 'BEGIN { for (i = 0; i < n; i++) printf "{\"timestamp\":%d}\n", 1700000000 + 10 * i }' > "$T/in.$n"
		run -0 --separate-stderr window --session 1s --lateness 1000d --time-format epoch_s --stats < "$T/in.$n"
		assert_equal "$(grep -c window_start <<<"$output")" "$n"
		jq '.sessions_visited' <<<"$stderr" > "$T/v.$n"
	done
	v1=$(cat "$T/v.1000") v8=$(cat "$T/v.8000")
	echo "visited: $v1 at n, $v8 at 8n"
	# Within 8 * log2(8n) / log2(n) * 1.5 of linear growth, and far below a scan.
	[ "$v1" -lt $((1000 * 40)) ]
	[ "$v8" -lt $((v1 * 8 * 13 / 10 * 3 / 2)) ]
}

@test "a session revision with unchanged bounds carries only the new events; with new bounds, all of them" {
	printf '%s\n' '{"timestamp":"2024-01-01T00:00:00Z","v":1}' '{"timestamp":"2024-01-01T00:00:10Z","v":2}' \
	    '{"timestamp":"2024-01-01T00:01:30Z","v":4}' '{"timestamp":"2024-01-01T00:00:20Z","v":8}' \
	    '{"timestamp":"2024-01-01T00:00:05Z","v":16}' > "$T/in"
	run -0 sh -c 'window --session 30s --allowed-lateness 5m < "$T/in" | jq -c "select(.revision) | [.revision, .v, .window_end[14:19]]"'
	# 0:20 stretches [0:00, 0:40) to 0:50: revision 1 resends 1, 2 and 8; 0:05 fits: revision 2 is 16 alone.
	assert_output '[1,1,"00:50"]
[1,2,"00:50"]
[1,8,"00:50"]
[2,16,"00:50"]'
}

@test "a state line with a member of the wrong type is refused whole, with its line and member" {
	echo '{"timestamp":"2024-01-01T00:00:00Z"}' | window --tumbling 1m --state "$T/st" >/dev/null
	echo '{"open":"x"}' >>"$T/st"
	cp "$T/st" "$T/st.before"
	run -3 --separate-stderr window --tumbling 1m --state "$T/st" <<<'{"timestamp":"2024-01-01T00:00:30Z"}'
	assert_equal "$stderr" "window: state file $T/st:3: member 'open' is not an integer"
	cmp "$T/st" "$T/st.before"
	printf '%s\n' '{"kept":1}' >"$T/st2" && head -1 "$T/st" | cat - "$T/st2" >"$T/st3"
	run -3 --separate-stderr window --tumbling 1m --state "$T/st3" </dev/null
	assert_equal "$stderr" "window: state file $T/st3:2: member 'n' is missing"
}
