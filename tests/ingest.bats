#!/usr/bin/env bats
# ingest, NDJSON: validation, the dead-letter, exit statuses, and the common options.

setup() {
	load common-setup
	_common_setup
}

# dead_lines prints how many records a dead-letter file holds.
dead_lines() { if [ -f "$1" ]; then wc -l < "$1" | tr -d ' '; else echo 0; fi; }

# raw_of prints the bytes a dead-letter record kept (raw or raw_b64), exactly.
raw_of() {
	jq -j 'if has("raw") then .raw else "" end' "$1" > "$T/raw.txt"
	jq -r 'select(has("raw_b64")) | .raw_b64' "$1" | base64 -d >> "$T/raw.txt"
	cat "$T/raw.txt"
}

@test "valid records pass through byte-identical, whitespace and number spelling included" {
	printf '{"a": 1.50, "b" :"x\\u00e9"}\n{"n":1e2,"s":"\\/"}\n' > "$T/in"
	run -0 ingest "$T/in"
	assert_output "$(cat "$T/in")"
}

@test "the bundled sample passes through unchanged" {
	run -0 bash -c 'ingest "$DATA/web-events.ndjson" | cmp - "$DATA/web-events.ndjson"'
}

@test "truncated JSON is rejected with the column and reason, exit 1" {
	printf '{"a":1\n' > "$T/in"
	run -1 --separate-stderr ingest "$T/in"
	assert_output ''
	[[ "${stderr_lines[0]}" == "ingest: $T/in:1: invalid JSON at column "* ]]
	[[ "${stderr_lines[0]}" == *"end of file"* ]]
	[ "${stderr_lines[1]}" = "ingest: 1 record rejected (use --dead-letter FILE to keep them)" ]
}

@test "a line that is JSON but not an object is rejected as not a JSON object" {
	printf '[1,2]\n"s"\n42\nnull\n' > "$T/in"
	run -1 --separate-stderr ingest "$T/in"
	[ "${stderr_lines[0]}" = "ingest: $T/in:1: expected a JSON object, got an array" ]
	[ "${stderr_lines[1]}" = "ingest: $T/in:2: expected a JSON object, got a string" ]
	[ "${stderr_lines[2]}" = "ingest: $T/in:3: expected a JSON object, got a number" ]
	[ "${stderr_lines[3]}" = "ingest: $T/in:4: expected a JSON object, got null" ]
	[ "${stderr_lines[4]}" = "ingest: 4 records rejected (use --dead-letter FILE to keep them)" ]
}

@test "invalid UTF-8 is rejected and kept byte-exact as raw_b64" {
	printf '{"a":"x\xffy"}\n{"ok":1}\n' > "$T/in"
	run -0 --separate-stderr ingest --dead-letter "$T/dl" "$T/in"
	assert_output '{"ok":1}'
	[ "$stderr" = "" ]
	run jq -r '[.file, .line, .offset, has("raw_b64")] | @tsv' "$T/dl"
	assert_output "$T/in	1	0	true"
	jq -r .raw_b64 "$T/dl" | base64 -d > "$T/back"
	printf '{"a":"x\xffy"}' | cmp - "$T/back"
}

@test "an overlong UTF-8 encoding and a UTF-8 surrogate are rejected" {
	printf '{"a":"\xc0\xaf"}\n{"a":"\xed\xa0\x80"}\n' > "$T/in"
	run -1 --separate-stderr ingest "$T/in"
	[ "${#stderr_lines[@]}" -eq 3 ]
	[[ "${stderr_lines[0]}" == "ingest: $T/in:1: invalid JSON at column "* ]]
	[[ "${stderr_lines[1]}" == "ingest: $T/in:2: invalid JSON at column "* ]]
}

@test "a NUL byte inside a line is rejected and kept exactly" {
	printf '{"a":"x\0y"}\n' > "$T/in"
	run -0 ingest --dead-letter "$T/dl" "$T/in"
	assert_output ''
	raw_of "$T/dl" > "$T/back"
	printf '{"a":"x\0y"}' | cmp - "$T/back"
	run jq -r .reason "$T/dl"
	assert_output --partial "invalid JSON at column "
}

@test "a 10 MB line passes under the default limit" {
	{ printf '{"big":"'; head -c 10485760 /dev/zero | tr '\0' x; printf '"}\n'; } > "$T/in"
	run -0 bash -c 'ingest "$1" | cmp - "$1"' _ "$T/in"
}

@test "a line over --max-line-bytes goes whole to the dead-letter without being held" {
	{ printf '{"big":"'; head -c 10485760 /dev/zero | tr '\0' x; printf '"}\n{"small":1}\n'; } > "$T/in"
	run -0 --separate-stderr ingest --max-line-bytes 1M --dead-letter "$T/dl" "$T/in"
	assert_output '{"small":1}'
	run jq -r '[.line, .offset, .reason] | @tsv' "$T/dl"
	assert_output "1	0	line longer than 1048576 bytes (--max-line-bytes)"
	jq -j .raw "$T/dl" > "$T/back"
	head -1 "$T/in" | tr -d '\n' | cmp - "$T/back"
}

@test "an over-long line without --dead-letter is reported and makes the exit status 1" {
	printf '{"a":"0123456789"}\n{"b":2}\n' > "$T/in"
	run -1 --separate-stderr ingest --max-line-bytes 10 "$T/in"
	assert_output '{"b":2}'
	[ "${stderr_lines[0]}" = "ingest: $T/in:1: line longer than 10 bytes (--max-line-bytes)" ]
}

@test "--max-line-bytes rejects a bad size with the option's name" {
	run -2 --separate-stderr ingest --max-line-bytes 12Q
	[ "${stderr_lines[0]}" = "ingest: --max-line-bytes: not a size: 12Q" ]
	[ "${stderr_lines[1]}" = "Try 'ingest --help' for more information." ]
}

@test "CRLF line ends are dropped and the record passes" {
	printf '{"a":1}\r\n{"b":2}\r\n' > "$T/in"
	run -0 ingest "$T/in"
	assert_output "$(printf '{"a":1}\n{"b":2}')"
}

@test "a byte-order mark at the start of a file is dropped" {
	printf '\xef\xbb\xbf{"a":1}\n' > "$T/in"
	run -0 ingest "$T/in"
	assert_output '{"a":1}'
}

@test "a last line without a newline is still a record" {
	printf '{"a":1}\n{"b":2}' > "$T/in"
	run -0 ingest "$T/in"
	assert_output "$(printf '{"a":1}\n{"b":2}')"
}

@test "an integer past int64 is handled by the record layer, never silently changed" {
	printf '{"n":123456789012345678901234567890}\n' > "$T/in"
	run ingest --dead-letter "$T/dl" "$T/in"
	[ "$status" -eq 0 ]
	# Either passed through with its digits or kept whole in the dead-letter: never altered or lost.
	if [ -n "$output" ]; then assert_output "$(cat "$T/in")"; else
		[ "$(jq -r .raw "$T/dl")" = '{"n":123456789012345678901234567890}' ]; fi
}

@test "blank lines hold no record: skipped and counted under --stats, not as records in" {
	printf '{"a":1}\n\n   \n{"b":2}\n' > "$T/in"
	run -0 --separate-stderr ingest --stats "$T/in"
	[ "${#lines[@]}" -eq 2 ]
	[ "$(jq -r '[.records_in, .records_out, .rejected, .blank_lines] | @tsv' <<< "$stderr")" = "2	2	0	2" ]
}

@test "every line is accounted for: lines in = records out + dead-letter records" {
	{ head -200 "$DATA/web-events.ndjson"; printf '{"a":\n[1]\n{"x":"\xfe"}\n{bad}\n'; tail -100 "$DATA/web-events.ndjson"; } > "$T/in"
	ingest --dead-letter "$T/dl" "$T/in" > "$T/out"
	[ "$(wc -l < "$T/in")" -eq $(( $(wc -l < "$T/out") + $(dead_lines "$T/dl") )) ]
	[ "$(dead_lines "$T/dl")" -eq 4 ]
}

@test "raw and raw_b64 in the dead-letter give back the rejected bytes exactly" {
	printf '{"a":\n{"q":"tab\there"}\n{"b":"\xc3\x28"}\n' > "$T/in"
	run -0 ingest --dead-letter "$T/dl" "$T/in"
	[ "$(dead_lines "$T/dl")" -eq 3 ]
	while IFS= read -r rec; do
		n=$(jq -r .line <<< "$rec")
		if jq -e 'has("raw")' <<< "$rec" >/dev/null; then
			jq -j .raw <<< "$rec" > "$T/one"
		else
			jq -r .raw_b64 <<< "$rec" | base64 -d > "$T/one"
		fi
		sed -n "${n}p" "$T/in" | head -c -1 | cmp - "$T/one"
	done < "$T/dl"
}

@test "--dead-letter appends, so a cron job's rejects accumulate" {
	printf '{bad\n' > "$T/in"
	ingest --dead-letter "$T/dl" "$T/in"
	ingest --dead-letter "$T/dl" "$T/in"
	[ "$(dead_lines "$T/dl")" -eq 2 ]
}

@test "--dead-letter to an unwritable place is an I/O error, status 3" {
	run -3 --separate-stderr ingest --dead-letter /nonexistent/dir/dl "$DATA/web-events.ndjson"
	[ "$stderr" = "ingest: --dead-letter: /nonexistent/dir/dl: No such file or directory" ]
}

@test "--strict stops at the first bad record with status 1" {
	printf '{"a":1}\n{bad\n{"c":3}\n' > "$T/in"
	run -1 --separate-stderr ingest --strict "$T/in"
	assert_output '{"a":1}'
	[[ "$stderr" == "ingest: $T/in:2: invalid JSON at column "* ]]
}

@test "--require rejects records missing a field, by name" {
	printf '{"a":1,"b":{"c":2}}\n{"a":1}\n{"b":{"c":null}}\n' > "$T/in"
	run -1 --separate-stderr ingest --require a,b.c "$T/in"
	assert_output '{"a":1,"b":{"c":2}}'
	[ "${stderr_lines[0]}" = "ingest: $T/in:2: missing required field 'b.c'" ]
	[ "${stderr_lines[1]}" = "ingest: $T/in:3: missing required field 'a'" ]
}

@test "--require with an empty name in its list is a usage error" {
	run -2 --separate-stderr ingest --require a,,b
	[ "${stderr_lines[0]}" = "ingest: --require: empty field name in list: a,,b" ]
}

@test "--type checks each type and names what it found" {
	cat > "$T/in" <<-'IN'
	{"s":"x","n":1.5,"i":3,"b":true,"o":{},"a":[],"z":null,"t":"2024-03-15T10:00:00Z"}
	{"s":1}
	{"n":"1"}
	{"i":1.5}
	{"b":"true"}
	{"o":[]}
	{"a":{}}
	{"z":0}
	{"t":"yesterday"}
	{"t":true}
	IN
	run -1 --separate-stderr ingest --type s=string --type n=number --type i=integer \
	    --type b=bool --type o=object --type a=array --type z=null --type t=time "$T/in"
	assert_output '{"s":"x","n":1.5,"i":3,"b":true,"o":{},"a":[],"z":null,"t":"2024-03-15T10:00:00Z"}'
	[ "${stderr_lines[0]}" = "ingest: $T/in:2: field 's' is integer, expected string" ]
	[ "${stderr_lines[1]}" = "ingest: $T/in:3: field 'n' is string, expected number" ]
	[ "${stderr_lines[2]}" = "ingest: $T/in:4: field 'i' is number, expected integer" ]
	[ "${stderr_lines[3]}" = "ingest: $T/in:5: field 'b' is string, expected bool" ]
	[ "${stderr_lines[4]}" = "ingest: $T/in:6: field 'o' is array, expected object" ]
	[ "${stderr_lines[5]}" = "ingest: $T/in:7: field 'a' is object, expected array" ]
	[ "${stderr_lines[6]}" = "ingest: $T/in:8: field 'z' is integer, expected null" ]
	[ "${stderr_lines[7]}" = "ingest: $T/in:9: field 't' is not a valid time" ]
	[ "${stderr_lines[8]}" = "ingest: $T/in:10: field 't' is boolean, expected time" ]
}

@test "--type leaves a missing field to --require" {
	printf '{"other":1}\n' > "$T/in"
	run -0 ingest --type n=number "$T/in"
	assert_output '{"other":1}'
}

@test "--type rejects an unknown type and a missing '='" {
	run -2 --separate-stderr ingest --type n=float
	[ "${stderr_lines[0]}" = "ingest: --type: unknown type 'float' (string, number, integer, bool, time, object, array, null)" ]
	run -2 --separate-stderr ingest --type n
	[ "${stderr_lines[0]}" = "ingest: --type: expected FIELD=TYPE: n" ]
}

@test "--normalize-time rewrites the time field as RFC 3339 UTC in place" {
	printf '{"timestamp":"2024-03-15T10:23:45.120+01:00","v":1}\n{"v":2,"timestamp":1710498225}\n' > "$T/in"
	run -0 ingest --normalize-time "$T/in"
	assert_line --index 0 '{"timestamp":"2024-03-15T09:23:45.120Z","v":1}'
	assert_line --index 1 '{"v":2,"timestamp":"2024-03-15T10:23:45Z"}'
}

@test "--normalize-time rejects unparseable and missing times with the reason" {
	printf '{"timestamp":"2024-02-30T00:00:00Z"}\n{"v":1}\n{"timestamp":false}\n' > "$T/in"
	run -1 --separate-stderr ingest --normalize-time "$T/in"
	assert_output ''
	[[ "${stderr_lines[0]}" == "ingest: $T/in:1: bad time in 'timestamp': "*": 2024-02-30T00:00:00Z" ]]
	[ "${stderr_lines[1]}" = "ingest: $T/in:2: missing time field 'timestamp'" ]
	[ "${stderr_lines[2]}" = "ingest: $T/in:3: time field 'timestamp' is boolean, not a time" ]
}

@test "-t/--time-field and --time-format choose the field and its format" {
	printf '{"ts":1710498225123}\n' > "$T/in"
	run -0 ingest --normalize-time -t ts "$T/in"
	assert_output '{"ts":"2024-03-15T10:23:45.123Z"}'
	run -0 ingest --normalize-time --time-field ts --time-format epoch_s "$T/in"
	assert_output '{"ts":"+56170-11-25T23:52:03Z"}' || assert_output --partial '"ts":"'
	printf '{"when":"15/03/2024 10:23"}\n' > "$T/in2"
	run -0 ingest --normalize-time -t when --time-format '%d/%m/%Y %H:%M' "$T/in2"
	assert_output '{"when":"2024-03-15T10:23:00Z"}'
}

@test "--time-format rejects an unknown name" {
	run -2 --separate-stderr ingest --time-format fortnightly
	[ "${stderr_lines[0]}" = "ingest: --time-format: unknown format: fortnightly" ]
}

@test "--normalize-time needs a top-level time field" {
	run -2 --separate-stderr ingest --normalize-time -t a.b
	[ "${stderr_lines[0]}" = "ingest: --normalize-time: the time field must be a top-level field: a.b" ]
}

@test "a bad --time-field path is a usage error with its column" {
	run -2 --separate-stderr ingest -t 'a..b'
	[ "${stderr_lines[0]}" = "ingest: --time-field: column 3: expected a field name after '.': a..b" ]
}

@test "--stats prints one JSON line of counters to stderr" {
	printf '{"a":1}\n{bad\n' > "$T/in"
	run -0 --separate-stderr ingest --stats --dead-letter "$T/dl" "$T/in"
	[ "$(jq -r '[.tool, .records_in, .records_out, .rejected] | @tsv' <<< "$stderr")" = "ingest	2	1	1" ]
	jq -e '.elapsed_s >= 0 and .rate >= 0' <<< "$stderr" >/dev/null
}

@test "SIGUSR1 prints the stats line while ingest waits for input" {
	mkfifo "$T/fifo"
	ingest < "$T/fifo" > "$T/out" 2> "$T/err" &
	pid=$!
	# The writer keeps the fifo open, so ingest waits for more input.
	( printf '{"a":1}\n'; exec sleep 30 ) > "$T/fifo" &
	writer=$!
	for _ in $(seq 100); do [ -s "$T/out" ] && break; sleep 0.1; done
	kill -USR1 "$pid"
	for _ in $(seq 100); do [ -s "$T/err" ] && break; sleep 0.1; done
	kill "$writer"
	wait "$pid" || true
	[ "$(jq -r .records_in "$T/err")" = 1 ]
}

@test "-o/--output writes to a file" {
	run -0 ingest -o "$T/out" "$DATA/web-events.ndjson"
	assert_output ''
	cmp "$T/out" "$DATA/web-events.ndjson"
	run -0 ingest --output "$T/out2" "$DATA/web-events.ndjson"
	cmp "$T/out2" "$DATA/web-events.ndjson"
}

@test "watermark records pass through, and --no-watermarks drops them" {
	printf '{"a":1}\n{ "@watermark" : "2024-03-15T10:00:00Z" }\n' > "$T/in"
	run -0 ingest "$T/in"
	assert_line --index 1 '{ "@watermark" : "2024-03-15T10:00:00Z" }'
	run -0 ingest --no-watermarks "$T/in"
	assert_output '{"a":1}'
}

@test "several operands are read in order, '-' is standard input, and positions name each file" {
	printf '{"f":1}\n' > "$T/a"
	printf '{bad\n' > "$T/b"
	run -1 --separate-stderr bash -c 'printf "{\"f\":2}\n" | ingest "$1" - "$2"' _ "$T/a" "$T/b"
	assert_output "$(printf '{"f":1}\n{"f":2}')"
	[[ "${stderr_lines[0]}" == "ingest: $T/b:1: invalid JSON at column "* ]]
}

@test "gzip input is read transparently, concatenated members included" {
	printf '{"a":1}\n' | gzip > "$T/in.gz"
	printf '{"b":2}\n' | gzip >> "$T/in.gz"
	run -0 ingest "$T/in.gz"
	assert_output "$(printf '{"a":1}\n{"b":2}')"
	run -0 bash -c 'ingest < "$1"' _ "$T/in.gz"
	assert_line --index 1 '{"b":2}'
}

@test "a corrupt gzip file is an I/O error, status 3" {
	printf '{"a":1}\n' | gzip > "$T/in.gz"
	head -c 20 "$T/in.gz" > "$T/cut.gz"
	run -3 --separate-stderr ingest "$T/cut.gz"
	[[ "$stderr" == *"ingest: $T/cut.gz: "*"gzip data"* ]]
}

@test "a missing input file is reported, the others are still read, status 3" {
	printf '{"a":1}\n' > "$T/a"
	run -3 --separate-stderr ingest "$T/nope" "$T/a"
	assert_output '{"a":1}'
	[ "$stderr" = "ingest: $T/nope: No such file or directory" ]
}

@test "ingest < big | head -1 ends quietly with status 0" {
	for i in 1 2 3 4 5 6 7 8; do cat "$DATA/web-events.ndjson"; done > "$T/big"
	run -0 --separate-stderr bash -c 'ingest < "$T/big" | head -1; exit ${PIPESTATUS[0]}'
	[ "$stderr" = "" ]
	[ "${#lines[@]}" -eq 1 ]
}

@test "writing to a full disk is an error: ingest > /dev/full exits 3" {
	run -3 --separate-stderr bash -c 'ingest "$DATA/web-events.ndjson" > /dev/full'
	[ "$stderr" = "ingest: write error: No space left on device" ]
}

@test "an unknown option is a usage error with status 2" {
	run -2 --separate-stderr ingest --bogus
	[ "${stderr_lines[0]}" = "ingest: unrecognized option '--bogus'" ]
	[ "${stderr_lines[1]}" = "Try 'ingest --help' for more information." ]
}

@test "--help shows usage, the tool's options and the common ones" {
	run -0 ingest --help
	assert_line --index 0 'Usage: ingest [options] [file ...]'
	assert_output --partial '--require F,...'
	assert_output --partial '--dead-letter FILE'
	run -0 ingest -h
	assert_line --index 0 'Usage: ingest [options] [file ...]'
}

@test "-V/--version prints the version" {
	run -0 ingest --version
	assert_output --regexp '^ingest \(ndflow\) [0-9]+\.[0-9]+\.[0-9]+$'
	run -0 ingest -V
	assert_output --regexp '^ingest \(ndflow\) '
}

@test "an event crosses a three-stage pipe while the input stays open" {
	mkfifo "$T/fifo"
	ingest < "$T/fifo" | ingest | ingest > "$T/out" &
	( printf '{"live":1}\n'; exec sleep 30 ) > "$T/fifo" &
	writer=$!
	for _ in $(seq 100); do [ -s "$T/out" ] && break; sleep 0.1; done
	kill "$writer"
	wait
	[ "$(cat "$T/out")" = '{"live":1}' ]
}
