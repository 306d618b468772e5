#!/usr/bin/env bats
# Durability: -o and --state written in the right order and only whole,
# full disks, closed pipes, planted symlinks and damaged or crafted states.

setup() {
	load common-setup
	_common_setup
	SHIM="${NDFLOW_BIN:-$TESTS_DIR/../build/bin}/../tests/killrename.so"
	# An ASan build wants its runtime first; the shim loads beside it.
	PRELOAD_ASAN="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
}

# events FROM TO: web events with ids FROM..TO, one second apart from 2024-03-01T00:00:00Z, 7 users.
events() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		for (i = a; i <= b; i++)
			printf "{\"id\":%d,\"user\":\"u%d\",\"value\":%d,\"timestamp\":\"2024-03-%02dT%02d:%02d:%02dZ\"}\n",
			    i, i % 7, i % 100, 1 + int(i / 86400), int(i / 3600) % 24, int(i / 60) % 60, i % 60
	}'
}

# whole_lines FILE: every line of FILE is a JSON object and the file ends with a newline.
whole_lines() {
	[ -s "$1" ]
	[ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ]
	ingest --strict <"$1" >/dev/null
}

# ---- item 4: -o is replaced only when the run succeeds, never emptied by a refused run ----

@test "dedupe: a run refused by the state lock leaves the first run's -o file alone" {
	events 1 100 >"$T/in"
	echo '{"kept":1}' >"$T/out"
	flock "$T/st.lock" -c "dedupe --state '$T/st' -o '$T/out' '$T/in' 2>'$T/err'; echo \$? >'$T/rc'"
	assert_equal "$(cat "$T/rc")" 3
	assert_equal "$(cat "$T/err")" "dedupe: state file $T/st is locked by another run"
	assert_equal "$(cat "$T/out")" '{"kept":1}'
	run -0 ls "$T"
	refute_output --partial ".tmp."
}

@test "aggregate: a run refused by the state lock leaves the first run's -o file alone" {
	events 1 100 >"$T/in"
	echo '{"kept":1}' >"$T/out"
	flock "$T/st.lock" -c "aggregate --state '$T/st' -o '$T/out' -i '$T/in' count 2>'$T/err'; echo \$? >'$T/rc'"
	assert_equal "$(cat "$T/rc")" 3
	assert_equal "$(cat "$T/err")" "aggregate: state file $T/st is locked by another run"
	assert_equal "$(cat "$T/out")" '{"kept":1}'
}

@test "ingest --offset-file: a run refused by the lock leaves the first run's -o file alone" {
	events 1 100 >"$T/log"
	echo '{"kept":1}' >"$T/out"
	flock "$T/off.lock" -c "ingest --offset-file '$T/off' -o '$T/out' '$T/log' 2>'$T/err'; echo \$? >'$T/rc'"
	assert_equal "$(cat "$T/rc")" 3
	assert_equal "$(cat "$T/err")" "ingest: offset file $T/off is locked by another run"
	assert_equal "$(cat "$T/out")" '{"kept":1}'
}

@test "-o naming an input is refused with status 2 and the input is kept" {
	events 1 50 >"$T/in"
	cp "$T/in" "$T/orig"
	run -2 --separate-stderr dedupe -o "$T/in" "$T/in"
	assert_equal "$stderr" "dedupe: --output: $T/in is also an input"
	run -2 --separate-stderr window --tumbling 1m -o "$T/in" <"$T/in"
	assert_equal "$stderr" "window: --output: $T/in is also an input"
	run -2 --separate-stderr aggregate -i "$T/in" -o "$T/in" count
	assert_equal "$stderr" "aggregate: --output: $T/in is also an input"
	ln "$T/in" "$T/hardlink"
	run -2 --separate-stderr ingest --offset-file "$T/off" -o "$T/hardlink" "$T/in"
	assert_equal "$stderr" "ingest: --output: $T/hardlink is also an input"
	cmp "$T/in" "$T/orig"
}

@test "-o FILE is left as it was when the run fails" {
	echo '{"old":1}' >"$T/out"
	run -3 --separate-stderr dedupe -o "$T/out" "$T/missing"
	assert_equal "$(cat "$T/out")" '{"old":1}'
	run -0 ls "$T"
	refute_output --partial ".tmp."
}

@test "-o FILE keeps the permissions of the file it replaces and follows a symlink" {
	events 1 5 >"$T/in"
	echo old >"$T/out"
	chmod 640 "$T/out"
	ln -s out "$T/link"
	run -0 dedupe -o "$T/link" "$T/in"
	assert_equal "$(stat -c %a "$T/out")" 640
	[ -L "$T/link" ]
	cmp "$T/out" "$T/in"
}

# ---- item 5 and the full disk: the state moves only when the output is written ----

@test "stdout on /dev/full leaves every stateful tool's state unchanged" {
	events 1 300 >"$T/a"
	events 1001 1300 >"$T/b"
	window --tumbling 1m --state "$T/w" "$T/a" >/dev/null
	window --session 30s --key user --state "$T/ws" "$T/a" >/dev/null
	aggregate --state "$T/ag" -i "$T/a" -g user count sum:value >/dev/null
	window --tumbling 1m "$T/a" | aggregate --state "$T/agw" count >/dev/null
	dedupe --state "$T/d" -k user --within 1m "$T/a" >/dev/null
	for f in w ws ag agw d; do cp "$T/$f" "$T/$f.before"; done

	run -3 --separate-stderr window --tumbling 1m --state "$T/w" "$T/b" -o /dev/full
	assert_equal "$stderr" "window: write error: No space left on device"
	run -3 --separate-stderr window --session 30s --key user --state "$T/ws" "$T/b" -o /dev/full
	run -3 --separate-stderr aggregate --state "$T/ag" -i "$T/b" -g user count sum:value -o /dev/full
	assert_equal "$stderr" "aggregate: write error: No space left on device"
	window --tumbling 1m "$T/b" >"$T/bw"
	run -3 --separate-stderr aggregate --state "$T/agw" count -i "$T/bw" -o /dev/full
	run -3 --separate-stderr dedupe --state "$T/d" -k user --within 1m "$T/b" -o /dev/full
	assert_equal "$stderr" "dedupe: write error: No space left on device"
	for f in w ws ag agw d; do cmp "$T/$f" "$T/$f.before"; done
}

@test "ingest --offset-file on /dev/full leaves no pending offset" {
	events 1 300 >"$T/log"
	run -3 --separate-stderr ingest --offset-file "$T/off" "$T/log" -o /dev/full
	assert_equal "$stderr" "ingest: write error: No space left on device"
	[ ! -e "$T/off.pending" ]
}

@test "a --late side file on /dev/full leaves window's state unchanged" {
	events 100 200 >"$T/a"
	events 1 50 >"$T/b"
	window --tumbling 1m --state "$T/w" "$T/a" >/dev/null
	cp "$T/w" "$T/w.before"
	run -3 --separate-stderr window --tumbling 1m --state "$T/w" --late /dev/full "$T/b"
	assert_equal "$stderr" "window: /dev/full: write error: No space left on device"
	cmp "$T/w" "$T/w.before"
}

@test "a kill right after -o is renamed leaves the old state: the rerun writes the same output" {
	events 1 400 >"$T/a"
	events 401 800 >"$T/b"
	for tool in "window --tumbling 1m" "dedupe -k user --within 1m" "aggregate -g user count -i"; do
		rm -f "$T"/st* "$T"/out*
		$tool "$T/a" --state "$T/st" >/dev/null
		$tool "$T/b" --state "$T/st" -o "$T/out.ref"
		cp "$T/st" "$T/st.ref"
		rm -f "$T"/st "$T/st.lock"
		$tool "$T/a" --state "$T/st" >/dev/null
		cp "$T/st" "$T/st.old"
		# The first rename is -o's: the state is not renamed yet.
		run -137 env LD_PRELOAD="$SHIM" ASAN_OPTIONS="$PRELOAD_ASAN" NDFLOW_SHIM_KILL_RENAME=1 \
		    $tool "$T/b" --state "$T/st" -o "$T/out"
		cmp "$T/st" "$T/st.old"
		cmp "$T/out" "$T/out.ref"
		run -0 $tool "$T/b" --state "$T/st" -o "$T/out"
		cmp "$T/out" "$T/out.ref"
		cmp "$T/st" "$T/st.ref"
	done
}

# ---- items 6 and 7: window --checkpoint-every ----

@test "window: a checkpoint counts only output already written, and a killed run resumes from it exactly" {
	events 1 20000 >"$T/in"
	window --session 5s --key user --lateness 5s "$T/in" --state "$T/ref.st" >"$T/ref"
	# Kill right after the 3rd checkpoint's rename, then resume with the same command.
	rc=0
	LD_PRELOAD="$SHIM" ASAN_OPTIONS="$PRELOAD_ASAN" NDFLOW_SHIM_KILL_RENAME=3 NDFLOW_SHIM_FSYNC_MS=2 \
	    window --session 5s --key user --lateness 5s --state "$T/st" --checkpoint-every 1ms \
	    "$T/in" >>"$T/out" || rc=$?
	assert_equal "$rc" 137
	size=$(head -1 "$T/st" | jq '.outputs[0].size')
	[ "$size" -gt 0 ]
	[ "$(head -1 "$T/st" | jq '.resume.line')" -gt 0 ]
	# Everything the checkpoint counts is in the output.
	[ "$(stat -c %s "$T/out")" -ge "$size" ]
	window --session 5s --key user --lateness 5s --state "$T/st" --checkpoint-every 1h "$T/in" >>"$T/out"
	cmp "$T/out" "$T/ref"
}

@test "window: a state checkpointed in the middle of another file is refused" {
	events 1 20000 >"$T/in"
	events 1 10 >"$T/other"
	rc=0
	LD_PRELOAD="$SHIM" ASAN_OPTIONS="$PRELOAD_ASAN" NDFLOW_SHIM_KILL_RENAME=2 NDFLOW_SHIM_FSYNC_MS=2 \
	    window --tumbling 1m --state "$T/st" --checkpoint-every 1ms "$T/in" >>"$T/out" || rc=$?
	assert_equal "$rc" 137
	run -3 --separate-stderr window --tumbling 1m --state "$T/st" --checkpoint-every 1ms "$T/other"
	assert_equal "$stderr" "window: state file $T/st: a checkpoint taken in the middle of another input file: run again on that file to finish it"
}

@test "window --checkpoint-every cannot be used with -o" {
	run -2 --separate-stderr window --tumbling 1m --state "$T/st" --checkpoint-every 1s -o "$T/out"
	assert_equal "$stderr" "window: --checkpoint-every cannot be used with -o: append standard output to the file (>> FILE)
Try 'window --help' for more information."
}

@test "window: a save slower than --checkpoint-every does not make every event save" {
	# Each save takes 2 x 60 ms (two fsyncs); checkpoints are due every 30 ms.
	# Standard output is a pipe, so a save syncs nothing else first.
	mkfifo "$T/fifo"
	LD_PRELOAD="$SHIM" ASAN_OPTIONS="$PRELOAD_ASAN" NDFLOW_SHIM_FSYNC_MS=60 NDFLOW_SHIM_LOG="$T/log" \
	    timeout 60 window --tumbling 1m --state "$T/st" --checkpoint-every 30ms <"$T/fifo" | cat >"$T/out" &
	exec 7>"$T/fifo"
	for i in $(seq 1 40); do
		events "$i" "$i" >&7
		sleep 0.01
	done
	exec 7>&-
	wait
	# Each checkpoint after the first starts no sooner than 30 ms after the save before
	# ended (the last save, at the end of the input, is not a checkpoint).
	run awk '$1 == "fsync-end" { end = $2 } $1 == "tmpopen" && end { gap[++n] = $2 - end }
	    END { for (i = 1; i < n; i++) if (gap[i] < 30000) bad++; print (n > 1 ? bad + 0 : "no saves") }' "$T/log"
	assert_output 0
	[ "$(grep -c tmpopen "$T/log")" -ge 2 ]
	run -0 grep -c '"window_start"' "$T/out"
	assert_output 40
}

# ---- item 8: closed pipes and failing side outputs ----

@test "| head -1 leaves --dupes, --dead-letter and --late with whole records only" {
	events 1 60000 >"$T/a"
	awk '{ print; print }' "$T/a" >"$T/dup"
	dedupe --dupes "$T/dupes" "$T/dup" | head -1 >/dev/null
	whole_lines "$T/dupes"
	awk '{ print } NR % 3 == 0 { print "{broken" }' "$T/a" >"$T/bad"
	ingest --dead-letter "$T/dl" "$T/bad" | head -1 >/dev/null
	whole_lines "$T/dl"
	# After the first event every other one is late.
	paste -d '\n' <(events 50000 90000) <(events 1 40000) >"$T/late"
	window --tumbling 1m --late "$T/lt" "$T/late" | head -1 >/dev/null
	whole_lines "$T/lt"
}

@test "| head -1 ends the run with status 0 and saves no state" {
	events 1 60000 >"$T/a"
	run -0 bash -c "set -o pipefail; dedupe --state '$T/st' '$T/a' | head -1"
	[ ! -e "$T/st" ]
}

@test "--dead-letter - with a failing standard error is status 3" {
	printf '%s\n' '{"ok":1}' '{broken' >"$T/bad"
	run -3 bash -c "ingest --dead-letter - '$T/bad' 2>/dev/full >/dev/null"
	run -3 bash -c "dedupe --dupes - '$T/bad' '$T/bad' --dead-letter - 2>/dev/full >/dev/null"
}

# ---- item 9: a damaged aggregate state is refused whole ----

@test "aggregate refuses a damaged --state line with status 3 and does not rewrite the state" {
	events 1 100 >"$T/a"
	aggregate --state "$T/st" -i "$T/a" -g user count >/dev/null
	sed -i '3s/"states":\[[0-9]*\]/"states":["x"]/' "$T/st"
	cp "$T/st" "$T/st.bad"
	run -3 --separate-stderr aggregate --state "$T/st" -i "$T/a" -g user count
	assert_equal "$stderr" "aggregate: state file $T/st:3: malformed aggregate state record"
	assert_equal "$output" ""
	cmp "$T/st" "$T/st.bad"
}

# ---- item 11: temporary files and locks ----

@test "a symlink planted at a state's temporary or lock name is not written through" {
	events 1 20 >"$T/a"
	echo secret >"$T/victim"
	ln -s victim "$T/st.tmp"
	ln -s victim "$T/off.pending.tmp"
	run -0 dedupe --state "$T/st" "$T/a"
	run -0 ingest --offset-file "$T/off" "$T/a"
	assert_equal "$(cat "$T/victim")" secret
	head -1 "$T/st" | grep -q '"tool":"dedupe"'
	head -1 "$T/off.pending" | grep -q '"tool":"ingest"'
	ln -s nowhere "$T/st2.lock"
	run -3 --separate-stderr dedupe --state "$T/st2" "$T/a"
	assert_equal "$stderr" "dedupe: state file $T/st2: Too many levels of symbolic links"
	[ ! -e "$T/nowhere" ]
}

@test "a directory at a state's old temporary name does not block saving" {
	events 1 20 >"$T/a"
	mkdir "$T/st.tmp" "$T/w.tmp" "$T/ag.tmp"
	run -0 dedupe --state "$T/st" "$T/a"
	run -0 window --tumbling 1m --state "$T/w" "$T/a"
	run -0 aggregate --state "$T/ag" -i "$T/a" count
	head -1 "$T/st" | grep -q '"tool":"dedupe"'
	head -1 "$T/w" | grep -q '"tool":"window"'
	head -1 "$T/ag" | grep -q '"tool":"aggregate"'
}

@test "temporary files a killed run left are removed by the next run that holds the lock" {
	events 1 20 >"$T/a"
	touch "$T/st.tmp.AbC123" "$T/st.pending.tmp.xyz789" "$T/stx.tmp.AbC123"
	run -0 dedupe --state "$T/st" "$T/a"
	[ ! -e "$T/st.tmp.AbC123" ]
	[ ! -e "$T/st.pending.tmp.xyz789" ]
	[ -e "$T/stx.tmp.AbC123" ]
}

# ---- item 12: state values are JSON values, or the state is refused ----

@test "aggregate --merge rejects a state whose first, last, mode or top text is not one JSON value" {
	good='{"@agg_state":1,"group":{"k":"a"},"specs":["first:v=v_first","mode:v=v_mode","top2:v=v_top2"],"states":["1",[["1",1]],null],"invalid":[0]}'
	bad1='{"@agg_state":1,"group":{"k":"b"},"specs":["first:v=v_first","mode:v=v_mode","top2:v=v_top2"],"states":["1,\"admin\":true",[["1",1]],null],"invalid":[0]}'
	bad2='{"@agg_state":1,"group":{"k":"c"},"specs":["first:v=v_first","mode:v=v_mode","top2:v=v_top2"],"states":["1",[["1}\n{\"injected\":1",1]],null],"invalid":[0]}'
	printf '%s\n' "$good" "$bad1" "$bad2" >"$T/states"
	run -1 --separate-stderr aggregate --merge -g k first:v mode:v top2:v -i "$T/states"
	assert_equal "$output" '{"k":"a","v_first":1,"v_mode":1,"v_top2":[{"value":1,"count":1}]}'
	assert_equal "$stderr" "aggregate: $T/states:2: malformed aggregate state record
aggregate: $T/states:3: malformed aggregate state record
aggregate: 2 records rejected (use --dead-letter FILE to keep them)"
}

@test "aggregate --state refuses a crafted first value with status 3" {
	printf '%s\n' '{"k":"a","v":1}' >"$T/a"
	aggregate --state "$T/st" -g k first:v -i "$T/a" >/dev/null
	sed -i '2s/"states":\["1"\]/"states":["1,\\"admin\\":true"]/' "$T/st"
	grep -q admin "$T/st"
	run -3 --separate-stderr aggregate --state "$T/st" -g k first:v -i /dev/null
	assert_equal "$stderr" "aggregate: state file $T/st:2: malformed aggregate state record"
	refute_output --partial admin
}
