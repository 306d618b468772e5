#!/usr/bin/env bats
# ingest --offset-file / --commit: cron micro-batches that are never lost nor doubled.

bats_require_minimum_version 1.5.0

setup() { load common-setup; _common_setup; }

# append FROM TO adds the events FROM..TO to app.log, one per line.
append() {
	seq "$1" "$2" | awk '{ printf "{\"n\":%d,\"pad\":\"%s\"}\n", $1, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" }' >> "$T/app.log"
}

# batch I runs one cron micro-batch; its output counts only when the pipeline and the commit succeeded.
batch() {
	ingest --offset-file "$T/off" "$T/app.log" | cat > "$T/out.$1" &&
	    ingest --commit "$T/off" && cat "$T/out.$1" >> "$T/committed"
}

@test "five cron runs over a growing file, one killed mid-pipeline, commit every line exactly once" {
	: > "$T/committed"
	append 1 100
	batch 1
	append 101 250
	printf '{"n":251,"pad":"half a line' >> "$T/app.log"
	batch 2
	printf '"}\n' >> "$T/app.log"
	# run 3 has far more than a pipe holds, so ingest is still writing when it is killed
	append 252 6000
	run ! bash -c '
		sh -c "echo \$\$ > \"$1/pid\"; exec ingest --offset-file \"$1/off\" \"$1/app.log\"" |
		    { IFS= read -r first; kill -KILL "$(cat "$1/pid")"; cat > /dev/null; } &&
		    ingest --commit "$1/off"' _ "$T"
	assert_output --partial 'ingest: --commit: '"$T"'/off.pending: nothing to commit (the run did not finish)'
	batch 4
	append 6001 6010
	batch 5
	run -0 diff <(cat "$T/app.log") "$T/committed"
	run -0 bash -c "sort '$T/committed' | uniq -d | wc -l"
	assert_output 0
}

@test "a failed pipeline leaves the committed offset alone, so the next run reads the lines again" {
	append 1 3
	ingest --offset-file "$T/off" "$T/app.log" > /dev/null
	run -0 ingest --offset-file "$T/off" "$T/app.log"
	assert_equal "${#lines[@]}" 3
	run -0 ingest --commit "$T/off"
	run -0 ingest --offset-file "$T/off" "$T/app.log"
	assert_output ''
}

@test "an unfinished last line is left for the next run" {
	printf '{"n":1}\n{"n":' > "$T/app.log"
	run -0 ingest --offset-file "$T/off" "$T/app.log"
	assert_output '{"n":1}'
	ingest --commit "$T/off"
	printf '2}\n' >> "$T/app.log"
	run -0 ingest --offset-file "$T/off" "$T/app.log"
	assert_output '{"n":2}'
}

@test "after a rename rotation the rest of the old file is read first" {
	printf '{"n":1}\n' > "$T/app.log"
	ingest --offset-file "$T/off" "$T/app.log" > /dev/null && ingest --commit "$T/off"
	printf '{"n":2}\n' >> "$T/app.log"
	mv "$T/app.log" "$T/app.log.1"
	printf '{"n":3}\n' > "$T/app.log"
	run -0 --separate-stderr ingest --offset-file "$T/off" "$T/app.log"
	assert_output $'{"n":2}\n{"n":3}'
	assert_equal "$stderr" ''
}

@test "a truncated file is read from the start with a warning" {
	printf '{"n":1}\n{"n":2}\n' > "$T/app.log"
	ingest --offset-file "$T/off" "$T/app.log" > /dev/null && ingest --commit "$T/off"
	printf '{"n":3}\n' > "$T/app.log"
	run -0 --separate-stderr ingest --offset-file "$T/off" "$T/app.log"
	assert_output '{"n":3}'
	assert_equal "$stderr" "ingest: $T/app.log: the file is shorter than the saved offset (truncated); reading it from the start"
}

@test "a rotated file whose old copy is gone is read from the start with a warning" {
	printf '{"n":1}\n' > "$T/app.log"
	ingest --offset-file "$T/off" "$T/app.log" > /dev/null && ingest --commit "$T/off"
	printf '{"n":2}\n{"n":3}\n' > "$T/app.log.new"
	mv "$T/app.log.new" "$T/app.log"
	run -0 --separate-stderr ingest --offset-file "$T/off" "$T/app.log"
	assert_output $'{"n":2}\n{"n":3}'
	assert_equal "$stderr" "ingest: $T/app.log: the file was replaced and the old one is not found as FILE.1 or FILE.0; reading the new one from the start"
}

@test "a resumed CSV file keeps its header and auto keeps its format" {
	printf 'a,b\n1,2\n' > "$T/app.csv"
	ingest --format auto --offset-file "$T/off" "$T/app.csv" > /dev/null && ingest --commit "$T/off"
	printf '3,4\n' >> "$T/app.csv"
	run -0 ingest --format auto --offset-file "$T/off" "$T/app.csv"
	assert_output '{"a":"3","b":"4"}'
}

@test "a run with rejected records not kept leaves nothing to commit" {
	printf '{"n":1}\nnot json\n' > "$T/app.log"
	run -1 --separate-stderr ingest --offset-file "$T/off" "$T/app.log"
	run -3 --separate-stderr ingest --commit "$T/off"
	assert_equal "$stderr" "ingest: --commit: $T/off.pending: nothing to commit (the run did not finish)"
}

@test "--offset-file needs exactly one file and refuses another file's offset" {
	run -2 --separate-stderr ingest --offset-file "$T/off"
	assert_equal "${stderr_lines[0]}" "ingest: --offset-file: expected exactly one file operand, not standard input"
	printf '{"n":1}\n' > "$T/a.log"
	cp "$T/a.log" "$T/b.log"
	ingest --offset-file "$T/off" "$T/a.log" > /dev/null && ingest --commit "$T/off"
	run -2 --separate-stderr ingest --offset-file "$T/off" "$T/b.log"
	assert_equal "${stderr_lines[0]}" "ingest: --offset-file: $T/off holds the position in $T/a.log, not $T/b.log"
}

@test "--offset-file refuses a file that is not an offset file" {
	printf '{"n":1}\n' > "$T/a.log"
	printf 'hello\n' > "$T/off"
	run -3 --separate-stderr ingest --offset-file "$T/off" "$T/a.log"
	assert_equal "$stderr" "ingest: $T/off: not an ndflow state file"
}

@test "--commit takes no operands" {
	run -2 --separate-stderr ingest --commit "$T/off" x.log
	assert_equal "${stderr_lines[0]}" "ingest: --commit: takes no file operands and no other run options"
}

@test "--offset-file refuses a compressed file" {
	printf '{"n":1}\n' | gzip > "$T/a.log"
	run -2 --separate-stderr ingest --offset-file "$T/off" "$T/a.log"
	assert_equal "${stderr_lines[0]}" "ingest: --offset-file: cannot resume a compressed file: $T/a.log"
}

@test "--offset-file and --follow cannot be used together" {
	printf '{"n":1}\n' > "$T/a.log"
	run -2 --separate-stderr ingest --follow --offset-file "$T/off" "$T/a.log"
	assert_equal "${stderr_lines[0]}" "ingest: --offset-file and --follow cannot be used together"
}

@test "a CSV record still open at the end of a run is read whole by the next run" {
	printf 'a,b\n1,"x\n' > "$T/app.csv"
	run -0 --separate-stderr ingest --format csv --offset-file "$T/off" "$T/app.csv"
	assert_output ''
	assert_equal "$stderr" ''
	ingest --commit "$T/off"
	printf 'y"\n2,z\n' >> "$T/app.csv"
	run -0 ingest --format csv --offset-file "$T/off" "$T/app.csv"
	assert_output $'{"a":"1","b":"x\\ny"}\n{"a":"2","b":"z"}'
}
