#!/usr/bin/env bats
# Crash safety, measured: each stateful tool's cron recipe is killed with
# SIGKILL at random moments and rerun.  Two kinds of random kill: the
# killrename shim raises SIGKILL at a random fwrite() of the run (uniform
# over the writes an unkilled run makes: records, side files and state
# lines alike), which lands every kill in the middle of the output whatever
# the machine's load; and kill -9 from outside after a random delay.  Also a
# kill right after a rename (-o put in place, the state put in place).
# After every kill the state is the old one or the new one, never torn; at
# the end the committed output equals a run that was never killed.  Kill
# counts go to the TAP stream as comments.
#
# The recipe a cron job follows: run the batch; when the run did not exit 0
# and its state (or committed offset) is unchanged, run it again; a changed
# state means the run finished its work (the output is put in place before
# the state) and was killed on its way out.  window --checkpoint-every
# instead reruns the same command until it exits 0: it resumes at its last
# checkpoint and cuts back what the killed run wrote after it.

setup() {
	load common-setup
	_common_setup
	SHIM="${NDFLOW_BIN:-$TESTS_DIR/../build/bin}/../tests/killrename.so"
	MIN_KILLS=50		# random kills per tool, at least
	MIN_BATCHES=4		# batches per tool, at least (each also killed right after a rename)
	MAX_BATCHES=25
	WRITE_KILLS=12		# kills at a random write per batch, then a kill from outside
	# Under the sanitizers every process start costs ~20x: fewer kills there, all 50 in the normal build.
	case ${NDFLOW_BIN:-} in */san/*) MIN_KILLS=12 MIN_BATCHES=2 WRITE_KILLS=5 ;; esac
	# Every run goes through the shim; fsync returns at once (a SIGKILL keeps the page cache).
	export LD_PRELOAD="$SHIM" NDFLOW_SHIM_NOSYNC=1
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	RANDOM=$((BATS_SUITE_TEST_NUMBER * 7919))
}

# events FROM TO: web events with ids FROM..TO, one second apart, 97 users.
events() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		for (i = a; i <= b; i++)
			printf "{\"id\":%d,\"user\":\"u%d\",\"value\":%d,\"timestamp\":\"2024-03-%02dT%02d:%02d:%02dZ\"}\n",
			    i, i % 97, i % 100, 1 + int(i / 86400), int(i / 3600) % 24, int(i / 60) % 60, i % 60
	}'
}

# now_ms: the wall clock, to scale the random kill delays to how long a run takes.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# timed CMD: runs CMD (a shell command line); sets dur to its wall time in ms (at least 10).
timed() {
	local t0
	t0=$(now_ms)
	bash -c "$*"
	dur=$(($(now_ms) - t0))
	[ "$dur" -ge 10 ] || dur=10
}

# killed_run MAX_MS CMD: runs CMD (a shell command line, in its own process
# group) and kills the group with SIGKILL after a random delay between a
# tenth and seven tenths of MAX_MS (the time an unkilled run took; starting
# sleep(1) adds a little); sets rc to its exit status (137 when killed).
killed_run() {
	local max=$1 d pid
	shift
	d=$((max / 10 + RANDOM % (max * 6 / 10)))
	setsid bash -c "$*" 2>>"$T/stderr" &
	pid=$!
	sleep "$((d / 1000)).$(printf '%03d' $((d % 1000)))"
	kill -9 -- "-$pid" 2>/dev/null || true
	rc=0
	{ wait "$pid"; } 2>/dev/null || rc=$?
	# The tool is bash's child: wait until it is gone too (and its lock with it).
	while kill -0 -- "-$pid" 2>/dev/null; do
		sleep 0.01
	done
}

# shim_run N CMD: runs CMD killed right after its N-th rename; sets rc.
shim_run() {
	local n=$1
	shift
	rc=0
	{ NDFLOW_SHIM_KILL_RENAME=$n bash -c "exec $*"; } 2>>"$T/stderr" || rc=$?
}

# writes_of CMD: runs CMD unkilled, counting its writes; sets nw (at least 1) and dur.
writes_of() {
	rm -f "$T/nw"
	timed "NDFLOW_SHIM_COUNT='$T/nw' $*"
	nw=$(cat "$T/nw")
	[ "$nw" -ge 1 ]
}

# write_kill MAX CMD: runs CMD killed at a random one of its first MAX writes; sets rc.
write_kill() {
	local max=$1
	shift
	rc=0
	{ NDFLOW_SHIM_KILL_WRITE=$(((RANDOM * 32768 + RANDOM) % max + 1)) bash -c "exec $*"; } \
	    2>>"$T/stderr" || rc=$?
}

# valid_state FILE: every line is a JSON object and the header is a state's (never torn).
valid_state() {
	[ -s "$1" ]
	[ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ]
	head -1 "$1" | jq -e '.ndflow_state == 1' >/dev/null
	ingest --strict <"$1" >/dev/null
}

# same_or_absent A B: A and B have the same contents, or both are absent.
same_or_absent() {
	if [ -e "$1" ]; then cmp -s "$1" "$2"; else [ ! -e "$2" ]; fi
}

# report NAME: the counts, as a TAP comment, and the minimums.
report() {
	echo "# $1: $kills random kills ($midwrite with a state temp file left), $renamekills right after a rename, $2 batches" >&3
	[ "$kills" -ge "$MIN_KILLS" ]
	[ "$renamekills" -ge "$MIN_BATCHES" ]
}

# after_kill I: checks the state after a kill in batch I: old or new, never
# torn; sets done_ when it is the new one (the run had finished its work).
after_kill() {
	! ls "$T"/st.tmp.* >/dev/null 2>&1 || midwrite=$((midwrite + 1))
	if [ -e "$T/st" ]; then valid_state "$T/st"; fi
	if same_or_absent "$T/old" "$T/st"; then
		:
	elif cmp -s "$T/st" "$T/ref.st.$1"; then
		done_=1
	else
		echo "batch $1: the state is neither the old nor the new one" >&2
		return 1
	fi
}

# stateful_recipe CMD MAKE_BATCH: the cron recipe of a tool with --state
# $T/st and -o $T/out.I; MAKE_BATCH I writes batch I to $T/bI.  Each batch
# runs once unkilled for the reference, then is killed right after -o's
# rename, at random moments until a run gets through, and (every other
# batch) right after the state's rename.
stateful_recipe() {
	local cmd=$1 mk=$2 i=0 k cur
	kills=0 midwrite=0 renamekills=0
	while [ "$i" -lt "$MIN_BATCHES" ] || [ "$kills" -lt "$MIN_KILLS" ]; do
		i=$((i + 1))
		[ "$i" -le "$MAX_BATCHES" ]
		$mk "$i"
		writes_of "$cmd '$T/b$i' --state '$T/ref.st' -o '$T/ref.$i'"
		cp "$T/ref.st" "$T/ref.st.$i"
		rm -f "$T/old"
		[ ! -e "$T/st" ] || cp "$T/st" "$T/old"
		cur="$cmd '$T/b$i' --state '$T/st' -o '$T/out.$i'"
		done_=
		shim_run 1 "$cur"
		[ "$rc" -eq 137 ] && renamekills=$((renamekills + 1))
		after_kill "$i"
		for k in $(seq 0 "$WRITE_KILLS"); do
			[ -z "$done_" ] || break
			if [ "$k" -lt "$WRITE_KILLS" ]; then
				write_kill "$nw" "$cur"
			else
				killed_run "$dur" "$cur"
			fi
			if [ "$rc" -eq 137 ]; then
				kills=$((kills + 1))
				after_kill "$i"
			else
				[ "$rc" -eq 0 ]
				done_=1
			fi
		done
		[ -n "$done_" ] || bash -c "$cur"
		cmp "$T/out.$i" "$T/ref.$i"
		cmp "$T/st" "$T/ref.st.$i"
		# Every other batch, a kill right after the state's rename: the next run must see it done.
		if [ $((i % 2)) -eq 0 ]; then
			cp "$T/old" "$T/st" 2>/dev/null || rm -f "$T/st"
			done_=
			shim_run 2 "$cur"
			[ "$rc" -eq 137 ] && renamekills=$((renamekills + 1))
			after_kill "$i"
			[ -n "$done_" ]
			cmp "$T/out.$i" "$T/ref.$i"
		fi
	done
	nb=$i
}

# The batch makers: $T/bI for batch I.
plain_batch() {
	events $((($1 - 1) * 12000 + 1)) $(($1 * 12000)) >"$T/b$1"
}

# windowed_batch: events already windowed (by a window run of its own), for aggregate.
windowed_batch() {
	events $((($1 - 1) * 12000 + 1)) $(($1 * 12000)) | window --tumbling 10m --state "$T/w.st" >"$T/b$1"
}

# overlapping_batch: each batch repeats half of the ids of the one before, for dedupe.
overlapping_batch() {
	events $((($1 - 1) * 10000 + 1)) $(($1 * 10000 + 10000)) >"$T/b$1"
}

@test "window --tumbling --state: SIGKILL at random moments loses and doubles nothing" {
	stateful_recipe "window --tumbling 1m --lateness 30s" plain_batch
	report "window --tumbling --state" "$nb"
}

@test "window --session --state: SIGKILL at random moments loses and doubles nothing" {
	stateful_recipe "window --session 5m --key user" plain_batch
	report "window --session --state" "$nb"
}

@test "aggregate --state: SIGKILL at random moments loses and doubles nothing" {
	stateful_recipe "aggregate -g user count sum:value p90:value first:id last:id -i" windowed_batch
	report "aggregate --state" "$nb"
}

@test "dedupe --state: SIGKILL at random moments loses and doubles nothing" {
	stateful_recipe "dedupe -k id --within 1d" overlapping_batch
	report "dedupe --state" "$nb"
}

@test "window --checkpoint-every: SIGKILL at random moments loses and doubles nothing" {
	local i=0 n cmd cur
	kills=0 midwrite=0 renamekills=0
	cmd="window --session 5s --key user --lateness 10s --late '$T/late' --dead-letter '$T/dl'"
	while [ "$i" -lt "$MIN_BATCHES" ] || [ "$kills" -lt "$MIN_KILLS" ]; do
		i=$((i + 1))
		[ "$i" -le "$MAX_BATCHES" ]
		# Every 50th line is broken, for the dead-letter; the reference goes to other files.
		plain_batch "$i"
		awk '{ print } NR % 50 == 0 { print "{broken" }' "$T/b$i" >"$T/c$i"
		rm -f "$T/st.before"
		[ ! -e "$T/st" ] || cp "$T/st" "$T/st.before"
		for f in out late dl; do
			touch "$T/$f"
			stat -c %s "$T/$f" >"$T/$f.len"
		done
		timed "${cmd//$T\//$T/ref.} --state '$T/ref.st' '$T/c$i' >>'$T/ref'"
		# The same command every time, killed or not: it resumes at its last checkpoint.
		cur="$cmd --checkpoint-every 1ms --state '$T/st' '$T/c$i' >>'$T/out'"
		writes_of "$cur"
		# That run went through unkilled: start the batch again from the state before it.
		cp "$T/st.before" "$T/st" 2>/dev/null || rm -f "$T/st"
		truncate -s "$(cat "$T/out.len")" "$T/out"
		truncate -s "$(cat "$T/late.len")" "$T/late"
		truncate -s "$(cat "$T/dl.len")" "$T/dl"
		shim_run $((RANDOM % 5 + 1)) "$cur"
		[ "$rc" -eq 137 ] && renamekills=$((renamekills + 1))
		for n in $(seq 0 "$WRITE_KILLS"); do
			if [ "$n" -lt "$WRITE_KILLS" ]; then
				# A resumed run has only the rest of the batch to write: kill it early enough.
				write_kill $((nw / 6 + 1)) "$cur"
			else
				killed_run "$dur" "$cur"
			fi
			[ "$rc" -eq 0 ] || [ "$rc" -eq 137 ]
			if [ "$rc" -eq 137 ]; then
				kills=$((kills + 1))
				! ls "$T"/st.tmp.* >/dev/null 2>&1 || midwrite=$((midwrite + 1))
			fi
			if [ -e "$T/st" ]; then valid_state "$T/st"; fi
		done
		bash -c "$cur"
		cmp "$T/out" "$T/ref"
	done
	cmp "$T/late" "$T/ref.late"
	cmp "$T/dl" "$T/ref.dl"
	report "window --checkpoint-every" "$i"
}

@test "ingest --offset-file: SIGKILL at random moments loses and doubles nothing" {
	local i=0 k old off cur commit_killed
	kills=0 midwrite=0 renamekills=0
	while [ "$i" -lt "$MIN_BATCHES" ] || [ "$kills" -lt "$MIN_KILLS" ]; do
		i=$((i + 1))
		[ "$i" -le "$MAX_BATCHES" ]
		plain_batch "$i"
		cat "$T/b$i" >>"$T/log"
		cat "$T/b$i" >>"$T/ref"
		writes_of "ingest --offset-file '$T/ref.off' '$T/log' -o '$T/ref.$i'"
		ingest --commit "$T/ref.off"
		old=$(jq -c '.offset' "$T/off" 2>/dev/null || echo none)
		cur="ingest --offset-file '$T/off' '$T/log' -o '$T/out.$i' && ingest --commit '$T/off'"
		done_= commit_killed=
		# Killed right after -o's rename, then right after the pending offset's.
		shim_run 1 "ingest --offset-file '$T/off' '$T/log' -o '$T/out.$i'"
		[ "$rc" -eq 137 ] && renamekills=$((renamekills + 1))
		shim_run 2 "ingest --offset-file '$T/off' '$T/log' -o '$T/out.$i'"
		[ "$rc" -eq 137 ] && renamekills=$((renamekills + 1))
		for k in $(seq 1 "$WRITE_KILLS"); do
			write_kill "$nw" "ingest --offset-file '$T/off' '$T/log' -o '$T/out.$i'"
			[ "$rc" -eq 137 ] || [ "$rc" -eq 0 ]
			[ "$rc" -ne 137 ] || kills=$((kills + 1))
			if [ -e "$T/off" ]; then valid_state "$T/off"; fi
			# Nothing is committed before --commit.
			assert_equal "$(jq -c '.offset' "$T/off" 2>/dev/null || echo none)" "$old"
		done
		while [ -z "$done_" ]; do
			if [ $((i % 2)) -eq 0 ] && [ -z "$commit_killed" ]; then
				commit_killed=1
				# Sometimes the commit is killed right after its rename: the offset moved.
				ingest --offset-file "$T/off" "$T/log" -o "$T/out.$i"
				shim_run 1 "ingest --commit '$T/off'"
				[ "$rc" -eq 137 ] && renamekills=$((renamekills + 1))
			else
				killed_run "$dur" "$cur"
				[ "$rc" -ne 137 ] || kills=$((kills + 1))
			fi
			[ "$rc" -eq 0 ] || [ "$rc" -eq 137 ]
			if [ -e "$T/off" ]; then valid_state "$T/off"; fi
			off=$(jq -c '.offset' "$T/off" 2>/dev/null || echo none)
			if [ "$rc" -eq 0 ] || [ "$off" != "$old" ]; then
				# Committed: the whole batch and nothing else.
				assert_equal "$off" "$(stat -c %s "$T/log")"
				done_=1
			fi
		done
		cmp "$T/out.$i" "$T/ref.$i"
	done
	cat $(seq -f "$T/out.%g" 1 "$i") | cmp - "$T/ref"
	report "ingest --offset-file" "$i"
}
