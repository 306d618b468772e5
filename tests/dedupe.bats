#!/usr/bin/env bats
# dedupe: exact, per key, within an event-time horizon, LRU-bounded, approximate, across runs.

bats_require_minimum_version 1.5.0

setup() { load common-setup; _common_setup; }

# err_line N: line N (from 0) of the last run's stderr.
err_line() { sed -n "$(($1 + 1))p" <<<"$stderr"; }

# gen N [extra awk args]: generated events with many duplicates (tests/data/dedupe-gen.awk).
gen() {
	local n=$1; shift
	awk -v N="$n" -v S=42 "$@" -f "$DATA/dedupe-gen.awk"
}

# ---- whole records ----

@test "identical records after the first are dropped and the first passes byte-identical" {
	run -0 dedupe "$DATA/dedupe-events.ndjson"
	assert_output "$(head -6 "$DATA/dedupe-events.ndjson")"
}

@test "key order and whitespace variants of one object are duplicates" {
	run -0 dedupe "$DATA/dedupe-variants.ndjson"
	assert_output "$(sed -n '1p;4p;6p' "$DATA/dedupe-variants.ndjson")"
}

@test "1.0 and 1, and an escaped and a literal character, are the same JSON value" {
	run -0 dedupe "$DATA/dedupe-variants.ndjson"
	refute_line --partial '"x":1.0'
	refute_line --partial 'user_\u0031'
}

@test "array order and an extra null field make records different" {
	run -0 dedupe "$DATA/dedupe-variants.ndjson"
	assert_line --index 1 --partial '"tags":["b","a"]'
	assert_line --index 2 --partial '"extra":null'
}

@test "whole-record dedupe equals jq canonicalisation with awk '!seen[\$0]++', order included" {
	gen 3000 >"$T/in.ndjson"
	jq -c -S . "$T/in.ndjson" | awk '!seen[$0]++' >"$T/want"
	dedupe "$T/in.ndjson" | jq -c -S . >"$T/got"
	[ "$(wc -l <"$T/want")" -gt 100 ] && [ "$(wc -l <"$T/want")" -lt 2900 ]
	run diff "$T/want" "$T/got"
	assert_success
}

@test "whole records from a pipe, past many growths of the table, equal awk '!seen[\$0]++' on canonical lines" {
	# 50,000 lines of 20,000 distinct records, each already canonical (keys sorted, no spaces).
	awk 'BEGIN { srand(3); for (i = 0; i < 50000; i++) { k = i < 20000 ? i : int(rand() * 20000)
		printf "{\"a\":\"%s\",\"n\":%d,\"v\":%d.%d}\n", "x" (k % 97), k, k % 13, 1 + k % 9 } }' >"$T/in"
	awk '!seen[$0]++' "$T/in" >"$T/want"
	[ "$(wc -l <"$T/want")" -eq 20000 ]
	run -0 bash -c 'cat "$1" | dedupe' - "$T/in"
	assert_output "$(cat "$T/want")"
}

# ---- --ignore ----

# zeek N [awk args]: Zeek-DNS-like records, many repeated with only their times new (tests/data/dedupe-zeek.awk).
zeek() {
	local n=$1; shift
	awk -v N="$n" -v S=7 "$@" -f "$DATA/dedupe-zeek.awk"
}

# py_dedupe IN FIELDS KEPT DROPPED: the first record of each value of the record
# less FIELDS (comma-separated; a dotted name is a nested member, or else a
# top-level key spelled with the dots), by python3's json: kept and dropped lines.
py_dedupe() {
	python3 - "$@" <<'PY'
import json, sys
src, fields, kept, dropped = sys.argv[1:5]
seen = set()
with open(kept, "w") as k, open(dropped, "w") as d:
    for line in open(src):
        r = json.loads(line)
        for f in fields.split(","):
            parts, o = f.split("."), r
            for p in parts[:-1]:
                o = o.get(p) if isinstance(o, dict) else None
            if isinstance(o, dict) and parts[-1] in o:
                del o[parts[-1]]
            else:
                r.pop(f, None)
        c = json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        (d if c in seen else k).write(line)
        seen.add(c)
PY
}

@test "--ignore ts,_write_ts drops exactly the records python3 finds equal but for those fields" {
	zeek 3000 >"$T/in"
	py_dedupe "$T/in" ts,_write_ts "$T/want" "$T/want.dupes"
	# Sizes where the table has grown several times, and both outputs non-trivial.
	[ "$(wc -l <"$T/want")" -gt 1500 ] && [ "$(wc -l <"$T/want.dupes")" -gt 500 ]
	run -0 dedupe --ignore ts,_write_ts --dupes "$T/dupes" "$T/in"
	assert_output "$(cat "$T/want")"
	run diff "$T/want.dupes" "$T/dupes"
	assert_success
	# From a pipe, and with the option given twice, the same.
	run -0 bash -c 'cat "$1" | dedupe --ignore ts --ignore _write_ts' - "$T/in"
	assert_output "$(cat "$T/want")"
	# Without --ignore the times make every record distinct.
	run -0 bash -c 'dedupe "$1" | wc -l' - "$T/in"
	assert_output 3000
}

@test "--ignore takes nested paths and Zeek's dotted top-level names" {
	zeek 2000 -v NESTED=1 >"$T/in"
	py_dedupe "$T/in" ts,_write_ts,conn.ts,id.orig_p "$T/want" "$T/want.dupes"
	py_dedupe "$T/in" ts,_write_ts "$T/fewer" /dev/null
	[ "$(wc -l <"$T/want")" -lt "$(wc -l <"$T/fewer")" ]
	run -0 dedupe --ignore ts,_write_ts,conn.ts,id.orig_p "$T/in"
	assert_output "$(cat "$T/want")"
	# conn.ts leaves conn's other members compared: a record whose conn.proto differs stays.
	printf '%s\n' '{"conn":{"ts":1,"proto":"udp"},"q":1}' '{"conn":{"ts":2,"proto":"udp"},"q":1}' \
	    '{"conn":{"ts":3,"proto":"tcp"},"q":1}' '{"conn":{"proto":"udp"},"q":1}' >"$T/small"
	run -0 dedupe --ignore conn.ts "$T/small"
	assert_output '{"conn":{"ts":1,"proto":"udp"},"q":1}
{"conn":{"ts":3,"proto":"tcp"},"q":1}'
}

@test "--ignore of a field a record lacks leaves that record whole; an ignored field's value does not matter" {
	printf '%s\n' '{"a":1}' '{"a":1,"t":null}' '{"a":1,"t":[1,2]}' '{"a":2,"t":{"x":1}}' '{"t":5,"a":2}' >"$T/in"
	run -0 dedupe --ignore t "$T/in"
	assert_output '{"a":1}
{"a":2,"t":{"x":1}}'
	run -0 dedupe --ignore nosuch "$T/in"
	assert_output "$(cat "$T/in")"
}

@test "--ignore with -k is a usage error" {
	run -2 --separate-stderr dedupe -k a --ignore b /dev/null
	assert_equal "$(err_line 0)" "dedupe: --ignore cannot be used with --key"
	run -2 --separate-stderr dedupe --ignore 'a[' /dev/null
	assert_equal "$(cut -d: -f1-2 <<<"$(err_line 0)")" "dedupe: --ignore"
}

@test "--ignore works with --within, --max-keys, --count and --approx" {
	zeek 1500 >"$T/in"
	py_dedupe "$T/in" ts,_write_ts "$T/want" /dev/null
	# A horizon longer than the stream and a bound above its keys forget nothing.
	jq -c '. + {timestamp: 1700000000}' "$T/in" >"$T/timed"
	py_dedupe "$T/timed" ts,_write_ts,timestamp "$T/want.timed" /dev/null
	run -0 dedupe --ignore ts,_write_ts --within 1h "$T/timed"
	assert_output "$(cat "$T/want.timed")"
	run -0 dedupe --ignore ts,_write_ts --max-keys 100000 "$T/in"
	assert_output "$(cat "$T/want")"
	run -0 dedupe --ignore ts,_write_ts --approx --error 0.000001 "$T/in"
	assert_output "$(cat "$T/want")"
	# --count: each kept record with its number of repeats, as python3 counts them.
	python3 -c '
import json, sys
n, first = {}, {}
for line in open(sys.argv[1]):
    r = json.loads(line); r.pop("ts"); r.pop("_write_ts")
    c = json.dumps(r, sort_keys=True)
    n[c] = n.get(c, 0) + 1
    first.setdefault(c, line.rstrip("\n"))
for c in first:
    print(n[c])' "$T/in" >"$T/want.counts"
	run -0 bash -c 'dedupe --ignore ts,_write_ts --count "$1" | jq .dup_count' - "$T/in"
	assert_output "$(cat "$T/want.counts")"
}

# ---- -k keys ----

@test "-k keeps the first record of each key" {
	run -0 dedupe -k user_id "$DATA/dedupe-events.ndjson"
	assert_output "$(sed -n '1,2p;5p' "$DATA/dedupe-events.ndjson")"
}

@test "-k with two fields keeps the first record of each pair" {
	run -0 dedupe -k user_id,page "$DATA/dedupe-events.ndjson"
	assert_output "$(sed -n '1,3p;5p' "$DATA/dedupe-events.ndjson")"
}

@test "-k may be repeated and --key is its long form" {
	run -0 dedupe -k user_id --key page "$DATA/dedupe-events.ndjson"
	assert_output "$(sed -n '1,3p;5p' "$DATA/dedupe-events.ndjson")"
}

@test "-k per-key dedupe equals jq key extraction with awk, order included" {
	gen 3000 >"$T/in.ndjson"
	jq -c '[.user_id,.page]' "$T/in.ndjson" | paste - "$T/in.ndjson" |
		awk -F '\t' '!seen[$1]++ { print $2 }' >"$T/want"
	dedupe -k user_id,page "$T/in.ndjson" >"$T/got"
	[ "$(wc -l <"$T/want")" -eq 45 ]
	run diff "$T/want" "$T/got"
	assert_success
}

@test "key values are delimited: (\"a,b\",\"c\") and (\"a\",\"b,c\") are different keys" {
	printf '%s\n' '{"u":"a,b","v":"c"}' '{"u":"a","v":"b,c"}' '{"u":"a","v":"b,c"}' >"$T/in"
	run -0 dedupe -k u,v "$T/in"
	assert_output "$(head -2 "$T/in")"
}

@test "a key value compares as JSON: the string \"1\" and the number 1 differ, 1 and 1.0 do not" {
	printf '%s\n' '{"u":1}' '{"u":"1"}' '{"u":1.0}' '{"u":{"b":1,"a":2}}' '{"u":{"a":2,"b":1}}' >"$T/in"
	run -0 dedupe -k u "$T/in"
	assert_output "$(sed -n '1,2p;4p' "$T/in")"
}

@test "-k takes nested paths" {
	printf '%s\n' '{"user":{"id":7},"n":1}' '{"user":{"id":7},"n":2}' '{"user":{"id":8},"n":3}' >"$T/in"
	run -0 dedupe -k user.id "$T/in"
	assert_output "$(sed -n '1p;3p' "$T/in")"
}

@test "a record missing a key field is rejected with its reason and status 1" {
	printf '%s\n' '{"u":1}' '{"v":1}' '{"u":1}' >"$T/in"
	run -1 --separate-stderr dedupe -k u "$T/in"
	assert_output '{"u":1}'
	assert_equal "$stderr" "dedupe: $T/in:2: missing key field 'u'
dedupe: 1 record rejected (use --dead-letter FILE to keep them)"
}

@test "a record missing a key field goes to --dead-letter whole, and the run succeeds" {
	printf '%s\n' '{"u":1}' '{"v":1}' >"$T/in"
	run -0 dedupe -k u --dead-letter "$T/dl" "$T/in"
	assert_output '{"u":1}'
	run jq -r '.reason + " " + .raw' "$T/dl"
	assert_output "missing key field 'u' {\"v\":1}"
}

@test "--missing null treats a missing key field as null" {
	printf '%s\n' '{"u":1}' '{"v":1}' '{"u":null}' '{"w":2}' >"$T/in"
	run -0 dedupe -k u --missing null "$T/in"
	assert_output "$(head -2 "$T/in")"
}

@test "--missing reject is the default" {
	printf '%s\n' '{"v":1}' >"$T/in"
	run -1 dedupe -k u --missing reject "$T/in"
	assert_output --partial "missing key field 'u'"
}

# ---- bad input ----

@test "a line that is not JSON, or not an object, is rejected with its reason and the rest goes on" {
	printf '%s\n' '{"u":1}' '{"u":' '{"u":1}' '[1]' >"$T/in"
	run -1 --separate-stderr dedupe "$T/in"
	assert_output '{"u":1}'
	assert_equal "$(err_line 0 | sed 's/column [0-9]*: .*/column N/')" "dedupe: $T/in:2: invalid JSON at column N"
	assert_equal "$(err_line 1)" "dedupe: $T/in:4: expected a JSON object, got an array"
}

@test "blank lines are skipped and counted" {
	printf '%s\n' '{"u":1}' '' '  ' '{"u":1}' >"$T/in"
	run -0 --separate-stderr dedupe --stats "$T/in"
	assert_output '{"u":1}'
	run jq -c '{blank_lines, duplicates}' <<<"$stderr"
	assert_output '{"blank_lines":2,"duplicates":1}'
}

@test "CRLF line ends, a BOM and a missing final newline do not make duplicates different" {
	printf '\357\273\277{"u":1}\r\n{"u":1}\n{"u":2}\r\n{"u":2}' >"$T/in"
	run -0 dedupe "$T/in"
	assert_output "$(printf '%s\n' '{"u":1}' '{"u":2}')"
}

@test "invalid UTF-8 and NUL bytes are rejected, and kept whole in the dead letter" {
	printf '{"k":"a\377"}\n{"k":"a\000b"}\n{"k":"ok"}\n' >"$T/in"
	run -0 dedupe -k k --dead-letter "$T/dl" "$T/in"
	assert_output '{"k":"ok"}'
	run jq -c '.raw_b64 // .raw' "$T/dl"
	assert_line --index 0 "\"$(head -c 10 "$T/in" | base64)\""
	assert_line --index 1 '"{\"k\":\"a\u0000b\"}"'
	assert_equal "${#lines[@]}" 2
}

@test "a line longer than --max-line-bytes is rejected and the next line still counts" {
	awk 'BEGIN { s = ""; for (i = 0; i < 2000; i++) s = s "x"; printf "{\"k\":\"%s\"}\n{\"k\":1}\n{\"k\":1}\n", s }' >"$T/in"
	run -1 --separate-stderr dedupe --max-line-bytes 1K "$T/in"
	assert_output '{"k":1}'
	assert_equal "$(err_line 0)" "dedupe: $T/in:1: line longer than 1024 bytes (--max-line-bytes)"
}

@test "integers past int64 are never merged with a different number" {
	printf '%s\n' '{"k":12345678901234567890}' '{"k":12345678901234567891}' >"$T/in"
	run dedupe -k k --dead-letter "$T/dl" "$T/in"
	assert_success
	# Either kept or dead-lettered, each line is accounted for on its own.
	run sh -c "cat '$T/dl' 2>/dev/null | jq -r .raw; dedupe -k k --dead-letter /dev/null '$T/in'"
	assert_line '{"k":12345678901234567890}'
	assert_line '{"k":12345678901234567891}'
}

@test "a key field of any JSON type is a key: objects, arrays, booleans, null" {
	printf '%s\n' '{"k":{"a":[1,2]}}' '{"k":[1,2]}' '{"k":true}' '{"k":null}' '{"k":{"a":[1,2]}}' \
		'{"k":[1,2]}' '{"k":true}' '{"k":null}' '{"k":false}' >"$T/in"
	run -0 dedupe -k k "$T/in"
	assert_output "$(sed -n '1,4p;9p' "$T/in")"
}

@test "--strict stops at the first rejected record with status 1" {
	printf '%s\n' '{"u":1}' 'nope' '{"u":2}' >"$T/in"
	run -1 --separate-stderr dedupe --strict "$T/in"
	assert_output '{"u":1}'
}

# ---- --within ----

@test "--within: a key seen again within D of its first occurrence is a duplicate, past D it is new" {
	run -0 dedupe -k id --within 10m "$DATA/dedupe-within.ndjson"
	assert_output "$(sed -n '1,2p;5p;7,8p' "$DATA/dedupe-within.ndjson")"
}

@test "--within measures from the first occurrence, not the latest, and exactly D is still a duplicate" {
	# a at 10:00, 10:06 and 10:10 (exactly 10m) are one; 10:11 is new though only 5m after 10:06.
	run -0 dedupe -k id --within 10m --no-watermarks "$DATA/dedupe-within.ndjson"
	assert_line --index 2 --partial '"n":5'
	refute_line --partial '"n":4'
}

@test "--within 0 drops only repeats with the same event time" {
	printf '%s\n' '{"k":1,"timestamp":10}' '{"k":1,"timestamp":10}' '{"k":1,"timestamp":11}' >"$T/in"
	run -0 dedupe -k k --within 0 "$T/in"
	assert_output "$(sed -n '1p;3p' "$T/in")"
}

@test "--within reads event time from -t" {
	printf '%s\n' '{"k":1,"at":"2024-01-01T00:00:00Z"}' '{"k":1,"at":"2024-01-01T00:00:30Z"}' \
		'{"k":1,"at":"2024-01-01T00:01:01Z"}' >"$T/in"
	run -0 dedupe -k k --within 1m -t at "$T/in"
	assert_output "$(sed -n '1p;3p' "$T/in")"
}

@test "--within reads event time in --time-format" {
	printf '%s\n' '{"k":1,"ts":"1710000000000"}' '{"k":1,"ts":"1710000059000"}' '{"k":1,"ts":"1710000061000"}' >"$T/in"
	run -0 dedupe -k k --within 1m -t ts --time-format epoch_ms "$T/in"
	assert_output "$(sed -n '1p;3p' "$T/in")"
}

@test "--within rejects a record without an event time, with the reason" {
	printf '%s\n' '{"k":1,"timestamp":10}' '{"k":1}' '{"k":1,"timestamp":"soon"}' >"$T/in"
	run -1 --separate-stderr dedupe -k k --within 1m "$T/in"
	assert_output '{"k":1,"timestamp":10}'
	assert_equal "$(err_line 0)" "dedupe: $T/in:2: missing time field 'timestamp'"
	assert_equal "$(echo "$stderr" | sed -n 2p | cut -d: -f1-4)" "dedupe: $T/in:3: bad time in 'timestamp'"
}

@test "--within forgets keys as the watermark passes their horizon (--stats expired)" {
	run -0 --separate-stderr dedupe -k id --within 10m --stats "$DATA/dedupe-within.ndjson"
	run jq -c '{duplicates, keys, horizons, expired}' <<<"$stderr"
	# 3 distinct ids (a, b, c); a's horizon closes and reopens once: 4 horizons, and no "keys",
	# since a run that forgets cannot know how many keys are distinct.
	assert_output '{"duplicates":3,"keys":null,"horizons":4,"expired":3}'
}

@test "--within keeps memory bounded: after the watermark passes, no key is left" {
	# 2000 distinct keys, one a second; with --within 10s at most ~11 are alive at once.
	awk 'BEGIN { for (i = 0; i < 2000; i++) printf "{\"k\":%d,\"timestamp\":%d}\n", i, 1700000000 + i }' >"$T/in"
	run -0 --separate-stderr dedupe -k k --within 10s --stats "$T/in"
	run jq -c '{horizons, expired}' <<<"$stderr"
	assert_output '{"horizons":2000,"expired":1989}'
}

@test "--within equals an independent awk model of the horizon on generated data" {
	gen 3000 -v T=1 >"$T/in.ndjson"
	jq -c '[.user_id,.page]' "$T/in.ndjson" >"$T/keys"
	jq '.timestamp' "$T/in.ndjson" >"$T/times"
	# The model: the watermark is the largest time seen; a key expires once the
	# watermark is more than D past its first occurrence; an unexpired key is a duplicate.
	paste "$T/keys" "$T/times" "$T/in.ndjson" | awk -F '\t' -v D=120 '
		{ if ($2 > wm) wm = $2
		  if (($1 in first) && wm - first[$1] > D) delete first[$1]
		  if (!($1 in first)) { first[$1] = $2; print $3 } }' >"$T/want"
	dedupe -k user_id,page --within 2m "$T/in.ndjson" >"$T/got"
	[ "$(wc -l <"$T/want")" -gt 500 ]
	run diff "$T/want" "$T/got"
	assert_success
}

@test "an input watermark passes through after the horizons it closes, and --no-watermarks drops it" {
	run -0 dedupe -k id --within 10m --keep last "$DATA/dedupe-within.ndjson"
	assert_line --index 3 '{"@watermark":"2024-03-15T10:30:00Z"}'
	run -0 dedupe -k id --within 10m --no-watermarks "$DATA/dedupe-within.ndjson"
	refute_line --partial '@watermark'
}

@test "a watermark with a bad time is rejected" {
	printf '%s\n' '{"@watermark":"yesterday"}' '{"k":1,"timestamp":1}' >"$T/in"
	run -1 --separate-stderr dedupe -k k --within 1m "$T/in"
	assert_output '{"k":1,"timestamp":1}'
	assert_equal "$(err_line 0)" "dedupe: $T/in:1: bad watermark: not an RFC 3339 time or \"+inf\""
}

# ---- --keep ----

@test "--keep last emits the last record of each key when its horizon closes" {
	run -0 dedupe -k id --within 10m --keep last "$DATA/dedupe-within.ndjson"
	# a (first 10:00) closes when 10:11 arrives, holding its 10:10 record; that waits behind b's
	# record (10:01, then 10:05), still held.  At the watermark b closes too: out go b 10:05,
	# a 10:10 and a 10:11 in event-time order, then the watermark, then b 10:31 at the end.
	assert_output "$(sed -n '6p;4p' "$DATA/dedupe-within.ndjson" | sort -t'"' -k8; sed -n '5p;7p;8p' "$DATA/dedupe-within.ndjson")"
}

@test "--keep last over one horizon equals awk's last-per-key, in the event-time order of the records kept" {
	gen 3000 -v T=1 >"$T/in.ndjson"
	# Held records go out in order of their own event time, ties in arrival order.
	jq -c '[.user_id,.page]' "$T/in.ndjson" >"$T/keys"
	jq '.timestamp' "$T/in.ndjson" >"$T/times"
	paste "$T/keys" "$T/times" "$T/in.ndjson" |
		awk -F '\t' '!($1 in last) { order[++n] = $1 } { last[$1] = $3; lt[$1] = $2; ln[$1] = NR }
			END { for (i = 1; i <= n; i++) print lt[order[i]] "\t" ln[order[i]] "\t" last[order[i]] }' |
		sort -k1,1n -k2,2n | cut -f3 >"$T/want"
	dedupe -k user_id,page --within 1000d --keep last "$T/in.ndjson" >"$T/got"
	run diff "$T/want" "$T/got"
	assert_success
}

@test "--keep first is the default" {
	run -0 dedupe -k id --within 10m --keep first "$DATA/dedupe-within.ndjson"
	assert_output "$(dedupe -k id --within 10m "$DATA/dedupe-within.ndjson")"
}

@test "--keep last without --within is a usage error" {
	run -2 --separate-stderr dedupe --keep last "$DATA/dedupe-events.ndjson"
	assert_output ''
	assert_equal "$stderr" "dedupe: --keep last needs --within
Try 'dedupe --help' for more information."
}

@test "--keep with another word is a usage error" {
	run -2 --separate-stderr dedupe --keep middle
	assert_equal "$(err_line 0)" "dedupe: --keep: must be first or last: middle"
}

# ---- --count ----

@test "--count adds dup_count to each kept record when its horizon closes" {
	run -0 dedupe -k id --within 10m --count "$DATA/dedupe-within.ndjson"
	assert_output '{"id":"a","timestamp":"2024-03-15T10:00:00Z","n":1,"dup_count":3}
{"id":"b","timestamp":"2024-03-15T10:01:00Z","n":2,"dup_count":2}
{"id":"a","timestamp":"2024-03-15T10:11:00Z","n":5,"dup_count":1}
{"@watermark":"2024-03-15T10:30:00Z"}
{"id":"b","timestamp":"2024-03-15T10:31:00Z","n":7,"dup_count":1}'
}

@test "--count with --keep last counts the same and keeps the last record" {
	run -0 dedupe -k id --within 10m --keep last --count "$DATA/dedupe-within.ndjson"
	assert_line --index 0 '{"id":"b","timestamp":"2024-03-15T10:05:00Z","n":6,"dup_count":2}'
	assert_line --index 1 '{"id":"a","timestamp":"2024-03-15T10:10:00Z","n":4,"dup_count":3}'
}

@test "--count without --within emits at end of input, counts equal to awk's" {
	gen 3000 >"$T/in.ndjson"
	jq -c '[.user_id,.page]' "$T/in.ndjson" |
		awk '!($0 in c) { order[++n] = $0 } { c[$0]++ } END { for (i = 1; i <= n; i++) print order[i] "\t" c[order[i]] }' >"$T/want"
	dedupe -k user_id,page --count "$T/in.ndjson" | jq -r '([.user_id,.page] | tojson) + "\t" + (.dup_count | tostring)' >"$T/got"
	run diff "$T/want" "$T/got"
	assert_success
}

@test "--count replaces a dup_count the record already has" {
	printf '%s\n' '{"k":1,"dup_count":9}' '{"k":1,"dup_count":9}' >"$T/in"
	run -0 dedupe --count "$T/in"
	assert_output '{"k":1,"dup_count":2}'
}

# ---- --max-keys ----

@test "--max-keys forgets the least recently seen key, and an evicted key seen again passes" {
	printf '{"k":"%s"}\n' a b a c b a >"$T/in"
	# max 2: a b; a (hit, a most recent); c evicts b; b passes and evicts a; a passes.
	run -0 --separate-stderr dedupe -k k --max-keys 2 --stats "$T/in"
	assert_output "$(printf '{"k":"%s"}\n' a b c b a)"
	run jq -c '{duplicates, evicted}' <<<"$stderr"
	assert_output '{"duplicates":1,"evicted":3}'
}

@test "--max-keys equals an awk model of least-recently-seen eviction on generated data" {
	gen 3000 >"$T/in.ndjson"
	jq -c '[.user_id,.page]' "$T/in.ndjson" | paste - "$T/in.ndjson" | awk -F '\t' -v N=20 '
		{ tick++ }
		$1 in last { last[$1] = tick; next }
		{ print $2; last[$1] = tick
		  if (++n > N) { old = ""; for (x in last) if (old == "" || last[x] < last[old]) old = x
		                 delete last[old]; n-- } }' >"$T/want"
	dedupe -k user_id,page --max-keys 20 "$T/in.ndjson" >"$T/got"
	[ "$(wc -l <"$T/want")" -gt 300 ]
	run diff "$T/want" "$T/got"
	assert_success
}

@test "--max-keys large enough changes nothing" {
	gen 2000 >"$T/in.ndjson"
	run -0 dedupe -k user_id,page --max-keys 45 "$T/in.ndjson"
	assert_output "$(dedupe -k user_id,page "$T/in.ndjson")"
}

@test "--max-keys with --count emits an evicted key's record with its count" {
	printf '{"k":"%s"}\n' a a b c >"$T/in"
	run -0 dedupe -k k --max-keys 1 --count "$T/in"
	assert_output "$(printf '%s\n' '{"k":"a","dup_count":2}' '{"k":"b","dup_count":1}' '{"k":"c","dup_count":1}')"
}

@test "--within and --max-keys together: each alone decides when the other is too loose" {
	gen 3000 -v T=1 >"$T/in.ndjson"
	run -0 dedupe -k user_id,page --within 1000d --max-keys 20 "$T/in.ndjson"
	assert_output "$(dedupe -k user_id,page --max-keys 20 "$T/in.ndjson")"
	run -0 dedupe -k user_id,page --within 2m --max-keys 1000 "$T/in.ndjson"
	assert_output "$(dedupe -k user_id,page --within 2m "$T/in.ndjson")"
}

@test "--keep last with --max-keys writes an evicted key's last record" {
	printf '%s\n' '{"k":"a","n":1,"timestamp":1}' '{"k":"a","n":2,"timestamp":2}' '{"k":"b","n":3,"timestamp":3}' >"$T/in"
	run -0 dedupe -k k --within 1h --keep last --max-keys 1 "$T/in"
	assert_output "$(sed -n '2,3p' "$T/in")"
}

@test "two runs with --state, --within and --max-keys equal one run" {
	gen 2000 -v T=1 >"$T/in.ndjson"
	head -n 777 "$T/in.ndjson" >"$T/a"
	tail -n +778 "$T/in.ndjson" >"$T/b"
	{ dedupe -k user_id,page --within 3m --max-keys 15 --state "$T/s" "$T/a"
	  dedupe -k user_id,page --within 3m --max-keys 15 --state "$T/s" "$T/b"; } >"$T/two"
	dedupe -k user_id,page --within 3m --max-keys 15 "$T/in.ndjson" >"$T/one"
	run diff "$T/one" "$T/two"
	assert_success
}

@test "--max-keys 0 is a usage error" {
	run -2 --separate-stderr dedupe --max-keys 0
	assert_equal "$stderr" "dedupe: --max-keys: must be from 1 to 1000000000000: 0
Try 'dedupe --help' for more information."
}

# ---- --approx ----

@test "--approx drops the same duplicates as the exact mode on small data" {
	gen 3000 >"$T/in.ndjson"
	run -0 dedupe --approx --error 0.0001 "$T/in.ndjson"
	assert_output "$(dedupe "$T/in.ndjson")"
}

@test "--approx with -k compares keys the same way" {
	run -0 dedupe --approx -k user_id,page "$DATA/dedupe-events.ndjson"
	assert_output "$(dedupe -k user_id,page "$DATA/dedupe-events.ndjson")"
}

@test "--approx reports the filter's fixed memory in --stats" {
	run -0 --separate-stderr dedupe --approx --capacity 1000000 --error 0.01 --stats "$DATA/dedupe-events.ndjson"
	run jq -c '{bloom_bytes, bloom_hashes, bloom_error}' <<<"$stderr"
	assert_output '{"bloom_bytes":1198133,"bloom_hashes":7,"bloom_error":0.01}'
	run jq '.bloom_fill | type == "number" and . < 0.001' <<<"$stderr"
	assert_output true
}

@test "--stats bloom_fill is the share of bits set" {
	awk 'BEGIN { for (i = 0; i < 1000; i++) printf "{\"k\":%d}\n", i }' >"$T/in"
	run -0 --separate-stderr dedupe --approx --capacity 1000 --stats "$T/in"
	run jq '.bloom_fill | . > 0.45 and . < 0.55' <<<"$stderr"
	assert_output true
}

@test "--approx warns when more distinct keys than --capacity were seen" {
	printf '{"k":%d}\n' 1 2 3 >"$T/in"
	run -0 --separate-stderr dedupe --approx --capacity 2 "$T/in"
	assert_equal "$stderr" "dedupe: --approx: 3 distinct keys exceed --capacity 2: the false-positive rate is above 0.01"
}

@test "--error 0 and --error 1 are usage errors" {
	run -2 --separate-stderr dedupe --approx --error 0
	assert_equal "$stderr" "dedupe: --error: must be greater than 0 and less than 1: 0
Try 'dedupe --help' for more information."
	run -2 --separate-stderr dedupe --approx --error 1
	assert_equal "$(err_line 0)" "dedupe: --error: must be greater than 0 and less than 1: 1"
	run -2 --separate-stderr dedupe --approx --error lots
	assert_equal "$(err_line 0)" "dedupe: --error: not a number: lots"
}

@test "--capacity 0 and a filter too large to make are usage errors" {
	run -2 --separate-stderr dedupe --approx --capacity 0
	assert_equal "$(err_line 0)" "dedupe: --capacity: must be from 1 to 1000000000000: 0"
	run -2 --separate-stderr dedupe --approx --capacity 1000000000000 --error 1e-9
	assert_equal "$(err_line 0)" "dedupe: --capacity: a filter for 1000000000000 keys at --error 1e-09 is too large"
}

@test "--error and --capacity without --approx are usage errors" {
	run -2 --separate-stderr dedupe --error 0.1
	assert_equal "$(err_line 0)" "dedupe: --error needs --approx"
	run -2 --separate-stderr dedupe --capacity 10
	assert_equal "$(err_line 0)" "dedupe: --capacity needs --approx"
}

@test "--approx cannot be combined with the options that need per-key state" {
	run -2 --separate-stderr dedupe --approx --within 1m
	assert_equal "$(err_line 0)" "dedupe: --approx cannot be used with --within"
	run -2 --separate-stderr dedupe --approx --max-keys 5
	assert_equal "$(err_line 0)" "dedupe: --approx cannot be used with --max-keys"
	run -2 --separate-stderr dedupe --approx --count
	assert_equal "$(err_line 0)" "dedupe: --approx cannot be used with --count"
}

# ---- --dupes ----

@test "--dupes keeps every dropped record whole, in input order" {
	run -0 dedupe -k user_id --dupes "$T/dupes" "$DATA/dedupe-events.ndjson"
	run cat "$T/dupes"
	assert_output "$(sed -n '3,4p;6,7p' "$DATA/dedupe-events.ndjson")"
}

@test "kept and dropped records together are the input" {
	gen 1000 >"$T/in.ndjson"
	dedupe -k user_id --dupes "$T/dupes" "$T/in.ndjson" >"$T/kept"
	run diff <(sort "$T/in.ndjson") <(sort "$T/kept" "$T/dupes")
	assert_success
}

@test "--dupes with --keep last keeps the records that were replaced" {
	run -0 dedupe -k id --within 10m --keep last --dupes "$T/dupes" "$DATA/dedupe-within.ndjson"
	run cat "$T/dupes"
	assert_output "$(sed -n 1p "$DATA/dedupe-within.ndjson"; sed -n 3p "$DATA/dedupe-within.ndjson"
		sed -n 2p "$DATA/dedupe-within.ndjson")"
}

@test "without --dupes duplicates are dropped silently and counted in --stats" {
	run -0 --separate-stderr dedupe -k user_id --stats "$DATA/dedupe-events.ndjson"
	run jq -c '{records_in, records_out, duplicates}' <<<"$stderr"
	assert_output '{"records_in":7,"records_out":3,"duplicates":4}'
}

@test "--dupes to a file that cannot be opened is an I/O error" {
	run -3 --separate-stderr dedupe --dupes "$T/no/such/dir" "$DATA/dedupe-events.ndjson"
	assert_output ''
}

# ---- --where ----

@test "--where deduplicates only the records it selects; the others pass untouched" {
	printf '%s\n' '{"k":1,"page":"a"}' '{"k":1,"page":"b"}' '{"k":1,"page":"a"}' '{"k":1,"page":"b"}' >"$T/in"
	run -0 --separate-stderr dedupe -k k --where '.page == "a"' --stats "$T/in"
	assert_output "$(sed -n '1,2p;4p' "$T/in")"
	run jq -c '{duplicates, unselected}' <<<"$stderr"
	assert_output '{"duplicates":1,"unselected":2}'
}

@test "a record --where does not select leaves no key behind" {
	printf '%s\n' '{"k":1,"v":0}' '{"k":1,"v":5}' '{"k":1,"v":6}' >"$T/in"
	run -0 dedupe -k k --where '.v > 1' "$T/in"
	assert_output "$(sed -n '1,2p' "$T/in")"
}

@test "--where with a bad expression is a usage error that points at the column" {
	run -2 --separate-stderr dedupe --where '.x >'
	assert_equal "$stderr" "dedupe: --where: column 5: expected a value after '>'
Try 'dedupe --help' for more information."
}

# ---- --state ----

@test "two runs with --state equal one run" {
	gen 2000 >"$T/in.ndjson"
	head -n 900 "$T/in.ndjson" >"$T/a"
	tail -n +901 "$T/in.ndjson" >"$T/b"
	{ dedupe --state "$T/s" "$T/a"; dedupe --state "$T/s" "$T/b"; } >"$T/two"
	dedupe "$T/in.ndjson" >"$T/one"
	run diff "$T/one" "$T/two"
	assert_success
}

@test "two runs with --state and -k --within equal one run, and expired keys are not saved" {
	gen 2000 -v T=1 >"$T/in.ndjson"
	head -n 1100 "$T/in.ndjson" >"$T/a"
	tail -n +1101 "$T/in.ndjson" >"$T/b"
	{ dedupe -k user_id,page --within 2m --state "$T/s" "$T/a"
	  dedupe -k user_id,page --within 2m --state "$T/s" "$T/b"; } >"$T/two"
	dedupe -k user_id,page --within 2m "$T/in.ndjson" >"$T/one"
	run diff "$T/one" "$T/two"
	assert_success
	# Every saved key is within 2m of the saved watermark.
	run jq -s '.[0].watermark as $w | [.[1:][] | select($w - .first > 120000000)] | length' "$T/s"
	assert_output 0
	[ "$(wc -l <"$T/s")" -lt 46 ]
}

@test "two runs with --state and --keep last --count equal one run with --state" {
	gen 2000 -v T=1 >"$T/in.ndjson"
	head -n 1000 "$T/in.ndjson" >"$T/a"
	tail -n +1001 "$T/in.ndjson" >"$T/b"
	{ dedupe -k user_id --within 5m --keep last --count --state "$T/s" "$T/a"
	  dedupe -k user_id --within 5m --keep last --count --state "$T/s" "$T/b"; } >"$T/two"
	dedupe -k user_id --within 5m --keep last --count --state "$T/one.s" "$T/in.ndjson" >"$T/one"
	run diff "$T/one" "$T/two"
	assert_success
	run diff "$T/one.s" "$T/s"
	assert_success
}

@test "--state holds open horizons to the next run, and a watermark of +inf flushes them" {
	printf '%s\n' '{"k":1,"timestamp":1}' '{"k":1,"timestamp":2}' >"$T/a"
	run -0 dedupe -k k --within 1m --count --state "$T/s" "$T/a"
	assert_output ''
	run -0 dedupe -k k --within 1m --count --state "$T/s" <<<'{"@watermark":"+inf"}'
	assert_output '{"k":1,"timestamp":1,"dup_count":2}
{"@watermark":"+inf"}'
}

@test "--count with --state needs --within" {
	run -2 --separate-stderr dedupe --count --state "$T/s"
	assert_equal "$(err_line 0)" "dedupe: --count with --state needs --within"
}

@test "two runs with --state and --max-keys equal one run" {
	gen 2000 >"$T/in.ndjson"
	head -n 1000 "$T/in.ndjson" >"$T/a"
	tail -n +1001 "$T/in.ndjson" >"$T/b"
	{ dedupe -k user_id,page --max-keys 20 --state "$T/s" "$T/a"
	  dedupe -k user_id,page --max-keys 20 --state "$T/s" "$T/b"; } >"$T/two"
	dedupe -k user_id,page --max-keys 20 "$T/in.ndjson" >"$T/one"
	run diff "$T/one" "$T/two"
	assert_success
}

@test "a whole-record state keeps 32-hex-digit fingerprints; a short -k key is kept as it is" {
	gen 300 >"$T/in"
	dedupe --state "$T/s" "$T/in" >"$T/out"
	run -0 bash -c 'tail -n +2 "$1" | jq -r "keys_unsorted | join(\",\")" | sort -u' - "$T/s"
	assert_output 'fp'
	run -0 bash -c 'tail -n +2 "$1" | jq -r .fp | grep -c "^[0-9a-f]\{32\}$"' - "$T/s"
	assert_output "$(wc -l <"$T/out")"
	printf '%s\n' '{"k":1}' '{"k":"a long key, longer than a fingerprint"}' >"$T/k"
	dedupe -k k --state "$T/sk" "$T/k" >/dev/null
	run -0 jq -c 'del(.seq, .count)' <(tail -n +2 "$T/sk")
	assert_line --index 0 '{"key":[1]}'
	assert_line --index 1 --regexp '^\{"fp":"[0-9a-f]{32}"\}$'
}

@test "a state of an older ndflow, with canonical keys, is read: its keys are still known" {
	gen 400 >"$T/in"
	dedupe --state "$T/new" "$T/in" >/dev/null
	# The older form: the same header, each key as its canonical JSON (jq -cS here:
	# strings, integers and halves, which jq writes as canonically as dedupe did).
	head -n 1 "$T/new" >"$T/old"
	jq -c -S . "$T/in" | awk '!seen[$0]++ { printf "{\"key\":%s,\"seq\":%d,\"count\":1}\n", $0, n++ }' >>"$T/old"
	run -0 --separate-stderr dedupe --stats --state "$T/old" "$T/in"
	assert_output ''
	assert_equal "$(jq .duplicates <<<"$stderr")" 400
	# -k keys of both lengths, with --within.
	printf '%s\n' '{"u":"a very long user name indeed","timestamp":10}' '{"u":"b","timestamp":11}' \
	    '{"u":"c","timestamp":12}' >"$T/k"
	dedupe -k u --within 1h --state "$T/knew" "$T/k" >/dev/null
	head -n 1 "$T/knew" >"$T/kold"
	printf '%s\n' '{"key":["a very long user name indeed"],"seq":0,"count":1,"first":10000000}' \
	    '{"key":["b"],"seq":1,"count":1,"first":11000000}' >>"$T/kold"
	run -0 dedupe -k u --within 1h --state "$T/kold" "$T/k"
	assert_output '{"u":"c","timestamp":12}'
}

@test "two runs with --state and --ignore equal one run; a state of other --ignore fields is refused" {
	zeek 2000 >"$T/in"
	head -n 1100 "$T/in" >"$T/a"
	tail -n +1101 "$T/in" >"$T/b"
	{ dedupe --ignore ts,_write_ts --state "$T/s" "$T/a"
	  dedupe --ignore ts,_write_ts --state "$T/s" "$T/b"; } >"$T/two"
	dedupe --ignore ts,_write_ts "$T/in" >"$T/one"
	run diff "$T/one" "$T/two"
	assert_success
	run -2 --separate-stderr dedupe --ignore ts --state "$T/s" "$T/b"
	assert_equal "$stderr" "dedupe: state file $T/s: it was saved by a run with --ignore ts,_write_ts; this run has --ignore ts"
	run -2 --separate-stderr dedupe --state "$T/s" "$T/b"
	assert_equal "$stderr" "dedupe: state file $T/s: it was saved by a run with --ignore ts,_write_ts; this run has none"
}

@test "a damaged fingerprint in a state is an I/O error at its line" {
	printf '%s\n' '{"k":1}' >"$T/in"
	dedupe --state "$T/s" "$T/in" >/dev/null
	echo '{"fp":"0123"}' >>"$T/s"
	run -3 --separate-stderr dedupe --state "$T/s" "$T/in"
	assert_equal "$stderr" "dedupe: state file $T/s:3: fp: not a fingerprint of 32 hex digits"
	sed -i '$d' "$T/s"
	tail -n 1 "$T/s" >>"$T/s"
	run -3 --separate-stderr dedupe --state "$T/s" "$T/in"
	assert_equal "$stderr" "dedupe: state file $T/s:3: a key is there twice"
}

@test "a state of a plain run and of a --max-keys run carry on in each other, whole records and -k keys" {
	gen 2000 >"$T/in.ndjson"
	head -n 900 "$T/in.ndjson" >"$T/a"
	tail -n +901 "$T/in.ndjson" >"$T/b"
	dedupe "$T/in.ndjson" >"$T/one"
	{ dedupe --state "$T/s1" "$T/a"; dedupe --max-keys 100000 --state "$T/s1" "$T/b"; } >"$T/two"
	run diff "$T/one" "$T/two"
	assert_success
	{ dedupe --max-keys 100000 --state "$T/s2" "$T/a"; dedupe --state "$T/s2" "$T/b"; } >"$T/two"
	run diff "$T/one" "$T/two"
	assert_success
	# -k keys, short ones kept exactly and long ones as fingerprints, both ways too.
	awk 'BEGIN { srand(5); for (i = 0; i < 2000; i++) { k = int(rand() * 300)
		printf "{\"id\":\"%s%d\",\"n\":%d}\n", k % 3 ? "u" : "a long user name, user ", k, i } }' >"$T/k.ndjson"
	head -n 900 "$T/k.ndjson" >"$T/ka"
	tail -n +901 "$T/k.ndjson" >"$T/kb"
	dedupe -k id "$T/k.ndjson" >"$T/one"
	[ "$(grep -c 'a long user' "$T/one")" -gt 5 ] && [ "$(grep -vc 'a long user' "$T/one")" -gt 5 ]
	awk -F'"' '!seen[$4]++' "$T/k.ndjson" >"$T/want"
	run diff "$T/want" "$T/one"
	assert_success
	{ dedupe -k id --state "$T/s3" "$T/ka"; dedupe -k id --max-keys 100000 --state "$T/s3" "$T/kb"; } >"$T/two"
	run diff "$T/one" "$T/two"
	assert_success
	{ dedupe -k id --max-keys 100000 --state "$T/s4" "$T/ka"; dedupe -k id --state "$T/s4" "$T/kb"; } >"$T/two"
	run diff "$T/one" "$T/two"
	assert_success
	{ dedupe -k id --state "$T/s5" "$T/ka"; dedupe -k id --state "$T/s5" "$T/kb"; } >"$T/two"
	run diff "$T/one" "$T/two"
	assert_success
}

@test "two runs with --state and --approx equal one run" {
	gen 2000 >"$T/in.ndjson"
	head -n 1000 "$T/in.ndjson" >"$T/a"
	tail -n +1001 "$T/in.ndjson" >"$T/b"
	{ dedupe --approx --capacity 10000 --state "$T/s" "$T/a"
	  dedupe --approx --capacity 10000 --state "$T/s" "$T/b"; } >"$T/two"
	dedupe --approx --capacity 10000 "$T/in.ndjson" >"$T/one"
	run diff "$T/one" "$T/two"
	assert_success
}

@test "a state written with other keys is refused with status 2" {
	printf '%s\n' '{"k":1,"j":2}' >"$T/in"
	dedupe -k k --state "$T/s" "$T/in" >/dev/null
	run -2 --separate-stderr dedupe -k j --state "$T/s" "$T/in"
	assert_equal "$stderr" "dedupe: state file $T/s: it was saved by a run with --key k; this run has --key j"
	run -2 --separate-stderr dedupe --approx --state "$T/s" "$T/in"
	assert_equal "$stderr" "dedupe: state file $T/s: it was saved by a run with --key k; this run has --key (the whole record)"
}

@test "a state that holds records is refused by a run that would not write them" {
	printf '%s\n' '{"k":1,"timestamp":1}' >"$T/in"
	dedupe -k k --within 1m --count --state "$T/s" "$T/in" >/dev/null
	run -2 --separate-stderr dedupe -k k --within 1m --state "$T/s" "$T/in"
	assert_equal "$stderr" "dedupe: state file $T/s: it was saved by a run with --count (given); this run has --count (not given)"
	run -0 dedupe -k k --within 2m --count --state "$T/s" "$T/in"
}

@test "a state file of another tool or of garbage is an I/O error" {
	echo 'not a state' >"$T/s"
	run -3 --separate-stderr dedupe --state "$T/s" "$DATA/dedupe-events.ndjson"
	assert_equal "$stderr" "dedupe: state file $T/s: not an ndflow state file"
	rm "$T/s"
	dedupe --state "$T/s" </dev/null
	echo '{"key":' >>"$T/s"
	run -3 --separate-stderr dedupe --state "$T/s" "$DATA/dedupe-events.ndjson"
	assert_equal "$(cut -d: -f1-3 <<<"$stderr")" "dedupe: state file $T/s:2"
}

@test "a run whose output fails keeps the old state, so the next run passes its records again" {
	printf '%s\n' '{"k":1}' >"$T/a"
	printf '%s\n' '{"k":2}' >"$T/b"
	dedupe -k k --state "$T/s" "$T/a" >/dev/null
	cp "$T/s" "$T/s.before"
	run -3 bash -c 'dedupe -k k --state "$1" "$2" >/dev/full' - "$T/s" "$T/b"
	run diff "$T/s.before" "$T/s"
	assert_success
	run -0 dedupe -k k --state "$T/s" "$T/b"
	assert_output '{"k":2}'
}

@test "a state file locked by another run is status 3" {
	run -3 --separate-stderr flock "$T/s.lock" dedupe --state "$T/s" "$DATA/dedupe-events.ndjson"
	assert_output ''
	assert_equal "$stderr" "dedupe: state file $T/s is locked by another run"
}

@test "SIGTERM on a live pipe ends the run as end of input would, saving the state" {
	mkfifo "$T/fifo"
	dedupe -k k --within 1h --count --state "$T/s" <"$T/fifo" >"$T/out" &
	pid=$!
	exec 7>"$T/fifo"
	printf '%s\n' '{"k":1,"timestamp":1}' '{"k":1,"timestamp":2}' '{"@watermark":"1970-01-01T00:00:01Z"}' >&7
	# Wait for the watermark to come through: dedupe flushes when its input is idle.
	for i in $(seq 400); do [ -s "$T/out" ] && break; sleep 0.05; done
	kill -TERM "$pid"
	rc=0; wait "$pid" || rc=$?
	exec 7>&-
	assert_equal "$rc" 0
	run jq -c 'select(.key) | {key, count}' "$T/s"
	assert_output '{"key":[1],"count":2}'
}

# same_instant: keys c, b, a first seen at one instant, c and b seen again, in that order.
same_instant() {
	local r
	for r in c:1 b:2 a:3 c:4 b:5; do
		printf '{"k":"%s","timestamp":"2024-01-01T00:00:00Z","n":%s}\n' "${r%:*}" "${r#*:}"
	done
}

@test "keys first seen at the same instant are saved in arrival order, and close in it in the next run" {
	same_instant >"$T/in"
	run -0 dedupe -k k --within 1m --count --state "$T/st" "$T/in"
	assert_output ''
	# Not in key order (a, b, c), nor in order of last sight (a, c, b).
	run -0 jq -c '[.key[0], .seq, .count]' <(tail -n +2 "$T/st")
	assert_output '["c",0,2]
["b",1,2]
["a",2,1]'
	echo '{"@watermark":"2024-01-01T01:00:00Z"}' >"$T/wm"
	run -0 dedupe -k k --within 1m --count --state "$T/st" "$T/wm"
	assert_output '{"k":"c","timestamp":"2024-01-01T00:00:00Z","n":1,"dup_count":2}
{"k":"b","timestamp":"2024-01-01T00:00:00Z","n":2,"dup_count":2}
{"k":"a","timestamp":"2024-01-01T00:00:00Z","n":3,"dup_count":1}
{"@watermark":"2024-01-01T01:00:00Z"}'
}

@test "with --max-keys the state keeps keys least recently seen first, ties at one instant included" {
	same_instant >"$T/in"
	run -0 dedupe -k k --within 1m --max-keys 10 --state "$T/st" "$T/in"
	assert_output "$(sed -n '1,3p' "$T/in")"
	run -0 jq -c '.key[0]' <(tail -n +2 "$T/st")
	assert_output '"a"
"c"
"b"'
}

@test "--keep last held at one instant goes out in the arrival order of the records kept" {
	same_instant >"$T/in"
	run -0 dedupe -k k --within 1m --keep last "$T/in"
	assert_output "$(sed -n '3,5p' "$T/in")"
}

# ---- output, stats, help ----

@test "-o writes the kept records to a file" {
	run -0 dedupe -k user_id -o "$T/out" "$DATA/dedupe-events.ndjson"
	assert_output ''
	run cat "$T/out"
	assert_output "$(sed -n '1,2p;5p' "$DATA/dedupe-events.ndjson")"
}

@test "reads several files and standard input as one stream" {
	run -0 dedupe -k user_id "$DATA/dedupe-events.ndjson" - <<<'{"user_id":"user_9"}'
	assert_line --index 3 '{"user_id":"user_9"}'
	assert_equal "${#lines[@]}" 4
}

@test "a write error on standard output is status 3" {
	run -3 bash -c 'dedupe "$1" >/dev/full' - "$DATA/dedupe-events.ndjson"
}

@test "--help shows the usage and the options" {
	run -0 dedupe --help
	assert_line --index 0 'Usage: dedupe [options] [file ...]'
	assert_output --partial '--within D'
	assert_output --partial '--approx'
}

@test "--version names the tool" {
	run -0 dedupe --version
	assert_output --regexp '^dedupe \(ndflow\) [0-9]'
}

@test "an unknown option is a usage error" {
	run -2 --separate-stderr dedupe --frobnicate
	assert_equal "$(err_line 1)" "Try 'dedupe --help' for more information."
}

@test "--stats keys are distinct keys; Bloom figures are numbers" {
	# 100 records, a = i % 50: 50 distinct keys, 50 duplicates (by hand).
	seq 1 100 | awk '{ printf "{\"a\":%d}\n", $1 % 50 }' > "$T/in"
	run -0 --separate-stderr dedupe -k a --stats "$T/in"
	run jq -c '{keys, duplicates}' <<<"$stderr"
	assert_output '{"keys":50,"duplicates":50}'
	run -0 --separate-stderr dedupe -k a --approx --error 0.01 --stats "$T/in"
	run jq -c '[(.bloom_error | type), .bloom_error, (.bloom_fill | type), (.bloom_fill > 0 and .bloom_fill < 1)]' <<<"$stderr"
	assert_output '["number",0.01,"number",true]'
}
