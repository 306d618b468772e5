#!/usr/bin/env bats
# Whole pipes: the stream protocol between tools (watermark hold-back, revisions), checked
# against totals worked out by hand.

bats_require_minimum_version 1.5.0

setup() { load common-setup; _common_setup; }

# ---- a tool that holds records holds back the watermark it forwards ----

# x at 1:05 and 1:10, y at 1:50 fall in [1:00, 2:00); z at 2:10 in [2:00, 3:00).
hold_input() {
	printf '%s\n' '{"id":"x","timestamp":"2024-01-01T00:01:05Z"}' \
	    '{"id":"x","timestamp":"2024-01-01T00:01:10Z"}' \
	    '{"id":"y","timestamp":"2024-01-01T00:01:50Z"}' \
	    '{"id":"z","timestamp":"2024-01-01T00:02:10Z"}' > "$T/in"
}

@test "window | dedupe --within --count | aggregate: one row per window, not two" {
	hold_input
	# z at 2:10 closes [1:00, 2:00) at window; dedupe still holds y (1:50, its horizon open until
	# 2:50), so it may forward no watermark past 1:50.  By hand: [1:00, 2:00) keeps x and y: 2.
	run -0 sh -c 'window --tumbling 1m < "$T/in" | dedupe -k id --within 60s --count | aggregate count'
	assert_output '{"@watermark":"2024-01-01T00:01:50Z"}
{"window_start":"2024-01-01T00:01:00Z","window_end":"2024-01-01T00:02:00Z","count":2}
{"window_start":"2024-01-01T00:02:00Z","window_end":"2024-01-01T00:03:00Z","count":1}
{"@watermark":"+inf"}'
}

@test "window | dedupe --within --keep last | aggregate: one row per window, not two" {
	hold_input
	run -0 sh -c 'window --tumbling 1m < "$T/in" | dedupe -k id --within 60s --keep last | aggregate count'
	assert_line --index 1 '{"window_start":"2024-01-01T00:01:00Z","window_end":"2024-01-01T00:02:00Z","count":2}'
	assert_equal "$(grep -c '"window_start":"2024-01-01T00:01:00Z"' <<<"$output")" 1
}

@test "dedupe --keep last | window on ordered input marks nothing late" {
	# a at 0:00 and 0:50, b at 0:10, c at 1:30, d at 2:30.  a's last record (0:50) is final at
	# 1:30 but b's (0:10) is still held: b goes first, so window sees times in order.
	printf '%s\n' '{"id":"a","timestamp":"2024-01-01T00:00:00Z"}' \
	    '{"id":"b","timestamp":"2024-01-01T00:00:10Z"}' \
	    '{"id":"a","timestamp":"2024-01-01T00:00:50Z"}' \
	    '{"id":"c","timestamp":"2024-01-01T00:01:30Z"}' \
	    '{"id":"d","timestamp":"2024-01-01T00:02:30Z"}' > "$T/in"
	run -0 --separate-stderr sh -c 'dedupe -k id --within 60s --keep last < "$T/in" | window --tumbling 10s --stats | jq -r "select(.id) | .timestamp[14:19]"'
	assert_output '00:10
00:50
01:30
02:30'
	run jq -c '{late}' <<<"$stderr"
	assert_output '{"late":0}'
}

# ---- window --allowed-lateness revisions, understood by aggregate ----

# v = 1, 2 in [0:00, 1:00); 4 at 1:10 closes it; 8 and 16 come late (0:30, 0:40); 32 at 2:10.
late_input() {
	printf '%s\n' '{"timestamp":"2024-01-01T00:00:10Z","v":1}' '{"timestamp":"2024-01-01T00:00:20Z","v":2}' \
	    '{"timestamp":"2024-01-01T00:01:10Z","v":4}' '{"timestamp":"2024-01-01T00:00:30Z","v":8}' \
	    '{"timestamp":"2024-01-01T00:00:40Z","v":16}' '{"timestamp":"2024-01-01T00:02:10Z","v":32}' > "$T/in"
}

@test "tumbling: a late firing updates its window's totals, marked with the revision" {
	late_input
	# By hand: [0:00, 1:00) is 1 + 2 = 3 when 1:10 closes it, then 1 + 2 + 8 + 16 = 27 (2 late
	# events: revision 2); [1:00, 2:00) is 4; [2:00, 3:00) is 32.
	run -0 sh -c 'window --tumbling 1m --allowed-lateness 5m < "$T/in" | aggregate --allowed-lateness 5m --no-watermarks count sum:v'
	assert_output '{"window_start":"2024-01-01T00:00:00Z","window_end":"2024-01-01T00:01:00Z","count":2,"v_sum":3}
{"window_start":"2024-01-01T00:00:00Z","window_end":"2024-01-01T00:01:00Z","count":4,"v_sum":27,"revision":2}
{"window_start":"2024-01-01T00:01:00Z","window_end":"2024-01-01T00:02:00Z","count":1,"v_sum":4}
{"window_start":"2024-01-01T00:02:00Z","window_end":"2024-01-01T00:03:00Z","count":1,"v_sum":32}'
}

@test "sliding: a late firing updates the closed window, the open one counts it once" {
	late_input
	# Windows of 2m every 1m.  [-1:00, 1:00): 3, then 27 (revision 2).  [0:00, 2:00) was open
	# when 8 and 16 came: 1 + 2 + 4 + 8 + 16 = 31.  [1:00, 3:00): 4 + 32 = 36.  [2:00, 4:00): 32.
	run -0 sh -c 'window --sliding 2m --slide 1m --allowed-lateness 5m < "$T/in" | aggregate --allowed-lateness 5m --no-watermarks count sum:v'
	assert_output '{"window_start":"2023-12-31T23:59:00Z","window_end":"2024-01-01T00:01:00Z","count":2,"v_sum":3}
{"window_start":"2023-12-31T23:59:00Z","window_end":"2024-01-01T00:01:00Z","count":4,"v_sum":27,"revision":2}
{"window_start":"2024-01-01T00:00:00Z","window_end":"2024-01-01T00:02:00Z","count":5,"v_sum":31}
{"window_start":"2024-01-01T00:01:00Z","window_end":"2024-01-01T00:03:00Z","count":2,"v_sum":36}
{"window_start":"2024-01-01T00:02:00Z","window_end":"2024-01-01T00:04:00Z","count":1,"v_sum":32}'
}

@test "session: a late update is a revision of the session, not a second session" {
	# Gap 30s: 0:00 and 0:10 make [0:00, 0:40) (sum 3), closed by 1:30.  0:20 comes late and
	# stretches it to [0:00, 0:50): revision 1, sent whole; 0:05 comes late inside it: revision 2,
	# only the new event.  Final: 1 + 2 + 8 + 16 = 27 over 4 events.  1:30 and 3:00 are sessions
	# of their own.
	printf '%s\n' '{"timestamp":"2024-01-01T00:00:00Z","v":1}' '{"timestamp":"2024-01-01T00:00:10Z","v":2}' \
	    '{"timestamp":"2024-01-01T00:01:30Z","v":4}' '{"timestamp":"2024-01-01T00:00:20Z","v":8}' \
	    '{"timestamp":"2024-01-01T00:00:05Z","v":16}' '{"timestamp":"2024-01-01T00:03:00Z","v":32}' > "$T/in"
	run -0 sh -c 'window --session 30s --allowed-lateness 5m < "$T/in" | aggregate --allowed-lateness 5m --no-watermarks count sum:v'
	assert_output '{"window_start":"2024-01-01T00:00:00Z","window_end":"2024-01-01T00:00:40Z","count":2,"v_sum":3}
{"window_start":"2024-01-01T00:00:00Z","window_end":"2024-01-01T00:00:50Z","count":4,"v_sum":27,"revision":2}
{"window_start":"2024-01-01T00:01:30Z","window_end":"2024-01-01T00:02:00Z","count":1,"v_sum":4}
{"window_start":"2024-01-01T00:03:00Z","window_end":"2024-01-01T00:03:30Z","count":1,"v_sum":32}'
}

@test "a revision record without aggregate --allowed-lateness is warned about" {
	late_input
	run -0 --separate-stderr sh -c 'window --tumbling 1m --allowed-lateness 5m < "$T/in" | aggregate count'
	assert_equal "${stderr_lines[0]}" 'aggregate: a "revision" record needs --allowed-lateness as given to window: without it a revised window'"'"'s totals hold only what came late'
}
