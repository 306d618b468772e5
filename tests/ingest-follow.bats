#!/usr/bin/env bats
# ingest --follow: appends, rename rotation and truncation, each line exactly once.

bats_require_minimum_version 1.5.0

setup() { load common-setup; _common_setup; }

teardown() {
	if [ -n "${PID:-}" ]; then
		kill -KILL "$PID" 2>/dev/null || true
	fi
}

# wait_lines N FILE waits (up to 20 s) until FILE has at least N lines.
wait_lines() {
	local i
	for i in $(seq 2000); do
		[ "$(wc -l < "$2")" -ge "$1" ] && return 0
		sleep 0.01
	done
	echo "timed out waiting for $1 lines in $2; have:" >&2
	cat "$2" >&2
	return 1
}

@test "follow sees appends, a rename rotation and a truncation, every line exactly once" {
	cd "$T"
	printf '{"n":1}\n' > app.log
	ingest --follow app.log > out 2> err &
	PID=$!
	wait_lines 1 out
	printf '{"n":2}\n' >> app.log
	wait_lines 2 out
	# rename rotation: the old file gets one more line after the rename
	mv app.log app.log.1
	printf '{"n":3}\n' >> app.log.1
	printf '{"n":4}\n' > app.log
	wait_lines 4 out
	printf '{"n":5}\n{"n":6}\n' >> app.log
	wait_lines 6 out
	# copytruncate: the file is emptied in place, then written again (shorter than before)
	: > app.log
	printf '{"n":7}\n' >> app.log
	wait_lines 7 out
	printf '{"n":8}' >> app.log
	printf '\n' >> app.log
	wait_lines 8 out
	kill -TERM "$PID"
	rc=0
	wait "$PID" || rc=$?
	assert_equal "$rc" 0
	PID=
	run -0 cat out
	assert_output "$(printf '{"n":%d}\n' 1 2 3 4 5 6 7 8)"
	run -0 cat err
	assert_output ''
}

@test "follow waits for a line's newline before emitting it" {
	cd "$T"
	printf '{"n":1}\n{"n":' > app.log
	ingest --follow app.log > out &
	PID=$!
	wait_lines 1 out
	printf '2}\n' >> app.log
	wait_lines 2 out
	kill -INT "$PID"
	rc=0
	wait "$PID" || rc=$?
	assert_equal "$rc" 0
	PID=
	run -0 cat out
	assert_output $'{"n":1}\n{"n":2}'
}

@test "follow waits for a file that does not exist yet" {
	cd "$T"
	ingest --follow --format csv later.csv > out &
	PID=$!
	printf 'a,b\n1,2\n' > later.csv
	wait_lines 1 out
	kill -TERM "$PID"
	rc=0
	wait "$PID" || rc=$?
	assert_equal "$rc" 0
	PID=
	run -0 cat out
	assert_output '{"a":"1","b":"2"}'
}

@test "follow reads earlier operands to their end and follows the last one" {
	cd "$T"
	printf '{"n":1}\n' > old.log
	printf '{"n":2}\n' > app.log
	ingest --follow old.log app.log > out &
	PID=$!
	wait_lines 2 out
	printf '{"n":3}\n' >> app.log
	wait_lines 3 out
	kill -TERM "$PID"
	rc=0
	wait "$PID" || rc=$?
	assert_equal "$rc" 0
	PID=
	run -0 cat out
	assert_output $'{"n":1}\n{"n":2}\n{"n":3}'
}

@test "follow on a pipe reads to its end and exits" {
	run -0 ingest --follow <<<'{"n":1}'
	assert_output '{"n":1}'
}
