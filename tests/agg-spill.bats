#!/usr/bin/env bats
# aggregate --max-memory: past the limit the groups go to sorted runs in
# $TMPDIR and come back merged at the end, with the results of a run that
# kept everything in memory; no run file outlives the process.

bats_require_minimum_version 1.5.0

setup() {
	load common-setup
	_common_setup
	mkdir "$T/tmp"
	export TMPDIR="$T/tmp"
}

SPECS="count sum:v p50:v distinct:u mode:u first:u last:v"

# groups N: N records over about 3N/4 groups, keys in a scattered order; a
# key is spelled as an integer early and as a real (1.0) later, so that the
# spellings of one group meet across runs.
groups() {
	awk -v n="$1" 'BEGIN { m = int(n * 3 / 4); for (i = 0; i < n; i++) {
		k = (i * 7919) % m
		printf (i < n / 2 ? "{\"k\":%d," : "{\"k\":%d.0,"), k
		printf "\"v\":%d.%d,\"u\":\"u%d\"}\n", i % 1000, i % 7, i % 5 } }'
}

# spill_runs: the spill_runs counter of --stats in $1.
spill_runs() { grep -o '"spill_runs":[0-9]*' "$1" | tail -n 1 | cut -d: -f2; }

@test "200k records past --max-memory 4M: several runs, the same output as in memory, no file left" {
	groups 200000 > "$T/in"
	aggregate -g k $SPECS < "$T/in" > "$T/want"
	run --separate-stderr aggregate --stats --max-memory 4M -g k $SPECS < "$T/in"
	assert_success
	[ "$(spill_runs <(echo "$stderr"))" -ge 3 ]
	assert_equal "$output" "$(cat "$T/want")"
	# Independently of aggregate: the groups, their counts and first spellings (awk).
	run awk -F'[:,]' '{ k = $2 + 0; if (!(k in n)) { first[k] = $2; order[++m] = k } n[k]++ }
	    END { for (i = 1; i <= m; i++) printf "{\"k\":%s,\"count\":%d\n", first[order[i]], n[order[i]] }' "$T/in"
	assert_equal "$output" "$(sed 's/,"v_sum".*//' "$T/want")"
	run ls -A "$T/tmp"
	assert_output ""
}

@test "--partial and --merge past --max-memory write and read the same states as in memory" {
	groups 60000 > "$T/in"
	aggregate --partial -g k $SPECS < "$T/in" > "$T/want"
	run --separate-stderr aggregate --stats --partial --max-memory 1M -g k $SPECS < "$T/in"
	assert_success
	[ "$(spill_runs <(echo "$stderr"))" -ge 2 ]
	assert_equal "$output" "$(cat "$T/want")"
	# States of one group in several runs of the merge itself: a third of them twice.
	{ head -n 20000 "$T/want"; cat "$T/want"; } > "$T/twice"
	aggregate --merge -g k $SPECS < "$T/twice" > "$T/want.merged"
	run --separate-stderr aggregate --stats --merge --max-memory 1M -g k $SPECS < "$T/twice"
	assert_success
	[ "$(spill_runs <(echo "$stderr"))" -ge 2 ]
	assert_equal "$output" "$(cat "$T/want.merged")"
	run ls -A "$T/tmp"
	assert_output ""
}

@test "groups of windows stay in memory and close on watermarks; the others spill around them" {
	awk 'BEGIN { for (i = 0; i < 40000; i++) {
		if (i % 10 == 0) printf "{\"window_start\":\"2024-03-15T10:%02d:00Z\",\"window_end\":\"2024-03-15T10:%02d:00Z\",\"k\":%d,\"v\":%d}\n", i / 1000, i / 1000 + 1, i % 3, i
		else printf "{\"k\":%d,\"v\":%d}\n", (i * 7919) % 30000, i
		if (i % 5000 == 4999) printf "{\"@watermark\":\"2024-03-15T10:%02d:00Z\"}\n", (i + 1) / 1000 } }' > "$T/in"
	aggregate -g k count sum:v p90:v < "$T/in" > "$T/want"
	run --separate-stderr aggregate --stats --max-memory 256K -g k count sum:v p90:v < "$T/in"
	assert_success
	[ "$(spill_runs <(echo "$stderr"))" -ge 2 ]
	assert_equal "$output" "$(cat "$T/want")"
}

@test "past 64 runs the runs are merged into one as they come: still the same output" {
	groups 60000 > "$T/in"
	aggregate -g k count sum:v first:u p50:v < "$T/in" > "$T/want"
	run --separate-stderr aggregate --stats --max-memory 64K -g k count sum:v first:u p50:v < "$T/in"
	assert_success
	[ "$(spill_runs <(echo "$stderr"))" -gt 128 ]
	assert_equal "$output" "$(cat "$T/want")"
}

@test "--format csv and --sort past --max-memory: the same table as in memory" {
	groups 30000 > "$T/in"
	aggregate -g k --format csv --sort -v_sum,k count sum:v < "$T/in" > "$T/want"
	run aggregate --max-memory 256K -g k --format csv --sort -v_sum,k count sum:v < "$T/in"
	assert_success
	assert_equal "$output" "$(cat "$T/want")"
}

@test "SIGTERM ends a spilling run as end of input would; SIGKILL leaves no file either" {
	groups 50000 > "$T/in"
	aggregate -g k count sum:v < "$T/in" > "$T/want"
	mkfifo "$T/fifo"
	aggregate --stats --max-memory 256K -g k count sum:v < "$T/fifo" > "$T/out" 2> "$T/err" 3>&- &
	pid=$!
	exec 4> "$T/fifo"
	cat "$T/in" >&4
	# Wait until every record is folded in (records_in of --stats on SIGUSR1), past several spills by then.
	for i in $(seq 1 3000); do
		kill -USR1 "$pid"
		sleep 0.02
		tail -n 1 "$T/err" | grep -q '"records_in":50000,' && break
	done
	run ls -A "$T/tmp"
	assert_output ""
	kill -TERM "$pid"
	wait "$pid" || status=$?
	exec 4>&-
	assert_equal "${status:-0}" 0
	run cmp "$T/out" "$T/want"
	assert_success
	[ "$(spill_runs "$T/err")" -ge 2 ]
	run ls -A "$T/tmp"
	assert_output ""
	# SIGKILL: nothing to finish, and still nothing left.
	aggregate --max-memory 64K -g k count sum:v < "$T/fifo" > /dev/null 3>&- &
	pid=$!
	exec 4> "$T/fifo"
	cat "$T/in" >&4
	kill -KILL "$pid"
	wait "$pid" || true
	exec 4>&-
	run ls -A "$T/tmp"
	assert_output ""
}

@test "--max-memory: sizes, combinations and an unwritable TMPDIR are clear errors" {
	run aggregate --max-memory 10 count < /dev/null
	assert_failure 2
	assert_line --index 0 "aggregate: --max-memory: must be from 65536 to 1125899906842624 bytes: 10"
	run aggregate --max-memory 1X count < /dev/null
	assert_failure 2
	assert_line --index 0 "aggregate: --max-memory: not a size: 1X"
	run aggregate --max-memory 1M --every 5 count < /dev/null
	assert_failure 2
	assert_line --index 0 "aggregate: --max-memory and --every cannot be combined"
	run aggregate --max-memory 1M --state "$T/st" count < /dev/null
	assert_failure 2
	assert_line --index 0 "aggregate: --max-memory and --state cannot be combined"
	groups 20000 > "$T/in"
	TMPDIR="$T/none" run aggregate --max-memory 64K -g k count < "$T/in"
	assert_failure 3
	assert_output "aggregate: --max-memory: cannot make a spill file in $T/none: No such file or directory"
}

@test "5M distinct groups under --max-memory 64M: peak RSS under 128 MiB, every group's result right" {
	# Under ASan the heap is shadowed and quarantined, so the RSS bound means nothing
	# there: the sanitized run checks the same at 500,000 groups under 8M.
	local n=5000000 lim=64M
	case $NDFLOW_BIN in */san/*) n=500000 lim=8M ;; esac
	# k = i * 7919 mod n visits every key once (7919 is prime to n): each group
	# has one record, so count is 1 and sum and p50 are its v, in input order.
	awk -v n=$n 'BEGIN { for (i = 0; i < n; i++) printf "{\"k\":%d,\"v\":%d}\n", (i * 7919) % n, i % 1000 }' > "$T/in"
	awk -F'[:,}]' '{ printf "{\"k\":%s,\"count\":1,\"v_sum\":%s,\"v_p50\":%s.0}\n", $2, $4, $4 }' "$T/in" | md5sum > "$T/want"
	/usr/bin/time -f '%M' -o "$T/rss" aggregate --max-memory $lim --stats -g k count sum:v p50:v < "$T/in" 2> "$T/err" | md5sum > "$T/got"
	assert_equal "$(cat "$T/got")" "$(cat "$T/want")"
	grep -q '"spill_runs":[1-9]' "$T/err" || { cat "$T/err"; false; }
	case $NDFLOW_BIN in */san/*) ;; *)
		[ "$(cat "$T/rss")" -lt $((128 * 1024)) ] || { echo "peak RSS $(cat "$T/rss") KiB"; false; } ;;
	esac
	run ls -A "$T/tmp"
	assert_output ""
}
