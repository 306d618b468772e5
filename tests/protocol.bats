#!/usr/bin/env bats
# The stream protocol (ndflow(7)) is the same in every tool: one table of
# cases, each run against every tool, with its exact stderr and status.
# A new tool joins by adding a line to TOOLS (and, if it keeps state, to STATEFUL).

setup() {
	load common-setup
	_common_setup
}

# Each tool with the least options that make it run (alert with --pass, so
# that its output is its input); aggregate and alert read -i files.
TOOLS=(
	"ingest"
	"window --tumbling 1m"
	"aggregate count"
	"dedupe"
	"alert --pass --when false"
	"batch-report --format json"
)
STATEFUL=(
	"window --tumbling 1m"
	"aggregate -g page count"
	"dedupe -k id"
	"alert --when .id==1 --by id"
)

EV='{"timestamp":"2024-01-01T00:00:00Z","id":1,"page":"a"}'

# input_args TOOL FILE: how TOOL reads FILE (an operand, or -i for aggregate).
input_args() {
	case $1 in
	aggregate*|alert*) echo "-i $2" ;;
	*) echo "$2" ;;
	esac
}

name() { echo "${1%% *}"; }

@test "a blank line is skipped and counted, not rejected, in every tool" {
	printf '%s\n\n   \n\t\n' "$EV" >"$T/in"
	for t in "${TOOLS[@]}"; do
		echo "tool: $t"
		run -0 --separate-stderr $t --stats $(input_args "$t" "$T/in")
		assert_equal "$(jq -r '[.records_in, .rejected, .blank_lines] | @tsv' <<<"$stderr")" "1	0	3"
	done
}

@test "a line that is not JSON gets one message, with its column, in every tool" {
	printf '{"a":\n' >"$T/in"
	for t in "${TOOLS[@]}"; do
		echo "tool: $t"
		run -1 --separate-stderr $t $(input_args "$t" "$T/in")
		assert_equal "$stderr" "$(name "$t"): $T/in:1: invalid JSON at column 6: a value expected near end of file
$(name "$t"): 1 record rejected (use --dead-letter FILE to keep them)"
	done
}

@test "JSON that is not an object gets one message in every tool" {
	printf '[1]\n"s"\n' >"$T/in"
	for t in "${TOOLS[@]}"; do
		echo "tool: $t"
		run -1 --separate-stderr $t $(input_args "$t" "$T/in")
		assert_equal "$stderr" "$(name "$t"): $T/in:1: expected a JSON object, got an array
$(name "$t"): $T/in:2: expected a JSON object, got a string
$(name "$t"): 2 records rejected (use --dead-letter FILE to keep them)"
	done
}

@test "a watermark with a bad time gets one message in every tool, ingest included" {
	printf '%s\n' '{"@watermark":"nope"}' >"$T/in"
	for t in "${TOOLS[@]}"; do
		echo "tool: $t"
		run -1 --separate-stderr $t $(input_args "$t" "$T/in")
		assert_equal "$stderr" "$(name "$t"): $T/in:1: bad watermark: not an RFC 3339 time or \"+inf\"
$(name "$t"): 1 record rejected (use --dead-letter FILE to keep them)"
	done
}

@test "a rejected line is kept whole in the dead-letter, and the run exits 0, in every tool" {
	printf '%s\n' '{"@watermark":"nope"}' '[1]' >"$T/in"
	for t in "${TOOLS[@]}"; do
		rm -f "$T/dl"
		run -0 --separate-stderr $t --dead-letter "$T/dl" $(input_args "$t" "$T/in")
		assert_equal "$stderr" ""
		assert_equal "$(jq -c '[.line, .raw, .reason]' "$T/dl")" '[1,"{\"@watermark\":\"nope\"}","bad watermark: not an RFC 3339 time or \"+inf\""]
[2,"[1]","expected a JSON object, got an array"]'
	done
}

@test "a watermark is recognised by its key whatever its spacing, and never counts as a record out" {
	printf '%s\n' "$EV" '{ "@watermark" : "2024-01-01T00:05:00Z" }' >"$T/in"
	for t in "${TOOLS[@]}"; do
		echo "tool: $t"
		# A report is a sink: it writes no records, so it forwards no watermark.
		[[ $t == batch-report* ]] && continue
		run -0 --separate-stderr $t --stats $(input_args "$t" "$T/in")
		assert_equal "$(jq -c 'select(has("@watermark")) | .["@watermark"]' <<<"$output" | head -1)" '"2024-01-01T00:05:00Z"'
		assert_equal "$(jq -r '[.records_in, .records_out, .rejected] | @tsv' <<<"$stderr")" "2	1	0"
	done
}

@test "ingest and dedupe pass a watermark on byte for byte" {
	printf '%s\n' '{ "@watermark" : "2024-01-01T00:00:00Z" }' >"$T/in"
	for t in ingest dedupe; do
		run -0 $t "$T/in"
		assert_output '{ "@watermark" : "2024-01-01T00:00:00Z" }'
	done
}

@test "--no-watermarks drops every watermark from the output of every tool" {
	printf '%s\n' "$EV" '{"@watermark":"2024-01-01T00:05:00Z"}' >"$T/in"
	for t in "${TOOLS[@]}"; do
		echo "tool: $t"
		run -0 --separate-stderr $t --no-watermarks $(input_args "$t" "$T/in")
		refute_output --partial '@watermark'
		[ -n "$output" ]
	done
}

@test "| head -1 ends every tool quietly with status 0" {
	awk 'BEGIN { for (i = 0; i < 200000; i++)
		printf "{\"timestamp\":\"2024-01-01T00:%02d:%02dZ\",\"id\":%d,\"page\":\"p%d\"}\n", i / 60 % 60, i % 60, i, i }' >"$T/in"
	for t in "${TOOLS[@]}"; do
		[ "$(name "$t")" = aggregate ] && t="aggregate -g id count"
		$t $(input_args "$t" "$T/in") 2>"$T/err" | head -1 >"$T/out"
		assert_equal "${PIPESTATUS[0]}" 0
		assert_equal "$(cat "$T/err")" ""
		assert_equal "$(wc -l <"$T/out")" 1
	done
}

@test "a full disk on standard output is status 3 with the reason, in every tool" {
	printf '%s\n' "$EV" >"$T/in"
	for t in "${TOOLS[@]}"; do
		echo "tool: $t"
		run -3 --separate-stderr sh -c "$t $(input_args "$t" "$T/in") >/dev/full"
		assert_equal "$stderr" "$(name "$t"): write error: No space left on device"
	done
}

@test "an unknown option is status 2 with a pointer to --help, in every tool" {
	for t in "${TOOLS[@]}"; do
		echo "tool: $t"
		run -2 --separate-stderr $t --bogus
		assert_equal "$stderr" "$(name "$t"): unrecognized option '--bogus'
Try '$(name "$t") --help' for more information."
	done
}

@test "a missing input file is status 3, named, in every tool" {
	for t in "${TOOLS[@]}"; do
		echo "tool: $t"
		run -3 --separate-stderr $t $(input_args "$t" "$T/nope")
		assert_equal "$stderr" "$(name "$t"): $T/nope: No such file or directory"
	done
}

@test "a directory given as input is status 3, named, in every tool" {
	mkdir "$T/dir"
	for t in "${TOOLS[@]}"; do
		echo "tool: $t"
		run -3 --separate-stderr $t $(input_args "$t" "$T/dir")
		assert_equal "$stderr" "$(name "$t"): $T/dir: Is a directory"
	done
}

@test "a state locked by another run is status 3 and changes nothing, -o included, in every stateful tool" {
	printf '%s\n' "$EV" >"$T/in"
	for t in "${STATEFUL[@]}"; do
		echo "tool: $t"
		rm -f "$T/s" "$T/s.lock"
		echo 'keep me' >"$T/out"
		flock "$T/s.lock" sh -c "$t --state '$T/s' -o '$T/out' $(input_args "$t" "$T/in") 2>'$T/err'; echo \$? >'$T/rc'"
		assert_equal "$(cat "$T/rc")" 3
		assert_equal "$(cat "$T/err")" "$(name "$t"): state file $T/s is locked by another run"
		assert_equal "$(cat "$T/out")" "keep me"
		[ ! -e "$T/s" ]
	done
}

@test "SIGTERM on a live pipe ends the run as end of input would and saves the state, in every stateful tool" {
	for t in "${STATEFUL[@]}"; do
		echo "tool: $t"
		rm -f "$T/s" "$T/fifo"
		mkfifo "$T/fifo"
		$t --state "$T/s" $(input_args "$t" "$T/fifo") >"$T/out" 2>"$T/err" &
		pid=$!
		exec 5<>"$T/fifo"	# read-write: never blocks, even if the tool died before opening it
		printf "%s\n" "$EV" >&5
		# Signals are for a tool that is reading: wait until it has the fifo open.
		for i in $(seq 200); do
			ls -l /proc/$pid/fd 2>/dev/null | grep -q "$T/fifo" && break
			sleep 0.05
		done
		# The record is in once the tool has read it: SIGUSR1 makes it print its counters.
		for i in $(seq 100); do
			kill -USR1 $pid
			grep -q '"records_in":1' "$T/err" && break
			sleep 0.05
		done
		kill -TERM $pid
		rc=0
		wait $pid || rc=$?
		exec 5>&-
		assert_equal "$rc" 0
		# The next run continues from the saved state: the one record is there.
		[ -s "$T/s" ]
		run -0 jq -s 'length' "$T/s"
		[ "$output" -ge 2 ]
	done
}
