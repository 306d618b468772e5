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
