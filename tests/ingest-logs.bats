#!/usr/bin/env bats
# ingest --format regex, zeek, json, nginx-timed, apache-timed, and --lenient access logs.

bats_require_minimum_version 1.5.0

setup() { load common-setup; _common_setup; }

# --- regex -------------------------------------------------------------------

@test "regex makes each named group a field, in the order the groups open" {
	printf '2024-03-15 10:00|&|ab12|&|/x?y=1|&|200\n2024-03-15 10:01|&|cd34|&|/z|&|404\n' > "$T/in.log"
	run -0 ingest --format regex --pattern '^(?<ts>[^|]+)\|&\|(?<ip>\w+)\|&\|(?<path>[^|]*)\|&\|(?<status>\d+)$' "$T/in.log"
	assert_output - <<'OUT'
{"ts":"2024-03-15 10:00","ip":"ab12","path":"/x?y=1","status":"200"}
{"ts":"2024-03-15 10:01","ip":"cd34","path":"/z","status":"404"}
OUT
	# Names sort otherwise in PCRE2's table: the order is the pattern's.
	run -0 ingest --format regex --pattern '(?<z>\w)(?<a>\w)(?<m>\w)' <<< 'xyz'
	assert_output '{"z":"x","a":"y","m":"z"}'
}

@test "regex leaves out a group that took no part in the match, and keeps an empty capture" {
	printf 'a=1\na=2 u=bob\na= u=\n' > "$T/in.log"
	run -0 ingest --format regex --pattern '^a=(?<a>\d*)(?: u=(?<u>\w*))?$' "$T/in.log"
	assert_output $'{"a":"1"}\n{"a":"2","u":"bob"}\n{"a":"","u":""}'
}

@test "regex writes _int and _num groups as numbers under the name without the suffix" {
	printf '7 0.25 x\n-3 1e3 y\n' > "$T/in.log"
	run -0 ingest --format regex --pattern '(?<n_int>\S+) (?<r_num>\S+) (?<s>\S+)' "$T/in.log"
	assert_output $'{"n":7,"r":0.25,"s":"x"}\n{"n":-3,"r":1e3,"s":"y"}'
}

@test "regex rejects a line whose _int capture is not an integer, and one that does not match" {
	printf '7 a\n1.5 b\nnothing\n' > "$T/in.log"
	run -0 ingest --format regex --pattern '^(?<n_int>\S+) (?<s>\w)$' --dead-letter "$T/dl" "$T/in.log"
	assert_output '{"n":7,"s":"a"}'
	run -0 jq -c '[.line, .reason]' "$T/dl"
	assert_output $'[2,"field \'n\' is not an integer: \'1.5\'"]\n[3,"does not match --pattern"]'
}

@test "regex with --infer types the captures as csv --infer does" {
	run -0 ingest --format regex --infer --pattern '(?<a>\S*) (?<b>\S*) (?<c>\S*) (?<d>\S*)' <<< '12 true  007'
	assert_output '{"a":12,"b":true,"c":null,"d":"007"}'
}

@test "regex: a pattern without named groups, one that does not compile, and a missing pattern are usage errors" {
	run -2 --separate-stderr ingest --format regex --pattern '(\d+) (\w+)' /dev/null
	assert_equal "${stderr_lines[0]}" "ingest: --pattern: no named group: name the fields as in (?<name>...)"
	run -2 --separate-stderr ingest --format regex --pattern '(?<a>\d+' /dev/null
	assert_equal "${stderr_lines[0]}" "ingest: --pattern: at column 9: missing closing parenthesis"
	run -2 --separate-stderr ingest --format regex --pattern 'ab(?<1x>c)' /dev/null
	assert_equal "${stderr_lines[0]}" "ingest: --pattern: at column 6: subpattern name must start with a non-digit"
	run -2 --separate-stderr ingest --format regex /dev/null
	assert_equal "${stderr_lines[0]}" "ingest: --format regex needs --pattern"
	run -2 --separate-stderr ingest --format csv --pattern '(?<a>x)' /dev/null
	assert_equal "${stderr_lines[0]}" "ingest: --pattern: only with --format regex"
}

@test "regex reads Perl's classes and UTF-8 text, and 5,000 lines from a pipe" {
	awk 'BEGIN { for (i = 0; i < 5000; i++) printf "user%d\tcafé\t%d\n", i, i * 7 }' |
	    ingest --format regex --pattern '^(?<user>\w+)\t(?<word>\S+)\t(?<n_int>\d+)$' > "$T/out"
	run -0 jq -s -c '[length, .[4999], (map(.n) | add)]' "$T/out"
	assert_output '[5000,{"user":"user4999","word":"café","n":34993},87482500]'
}

@test "batch-report --input-format regex --pattern reads the same fields" {
	printf '2024-03-15T10:00:00Z u1|5\n2024-03-15T11:00:00Z u2|7\n2024-03-15T11:30:00Z u1|1\n' > "$T/in.log"
	run -0 batch-report --input-format regex --pattern '^(?<timestamp>\S+) (?<user_id>\w+)\|(?<value_num>\d+)$' \
	    --format json --sections summary "$T/in.log"
	run -0 jq -c '.summary | [.events, .entities]' <<< "$output"
	assert_output '[3,2]'
	run -2 --separate-stderr batch-report --input-format regex /dev/null
	assert_equal "${stderr_lines[0]}" "batch-report: --input-format regex needs --pattern"
}

# --- zeek --------------------------------------------------------------------

@test "zeek gives the records of Zeek's JSON log of the same events, _write_ts apart" {
	ingest --format zeek "$DATA/ingest-zeek-dns.log" > "$T/got"
	python3 - "$T/got" "$DATA/ingest-zeek-dns.ndjson" <<'PY'
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
want = [json.loads(l) for l in open(sys.argv[2])]
assert len(got) == len(want) == 34, (len(got), len(want))
def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= 5e-7    # the TSV log rounds intervals to microseconds
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(same, a, b))
    return type(a) == type(b) and a == b
for i, (g, w) in enumerate(zip(got, want)):
    del w["_write_ts"]
    assert list(g) == list(w), (i, list(g), list(w))
    assert all(same(g[k], w[k]) for k in w), (i, g, w)
PY
}

@test "zeek reads its own separators, (empty) and unset markers, sets, vectors and escapes" {
	printf '%s\n' '#separator \x7c' '#set_separator|;' '#empty_field|EMPTY' '#unset_field|NONE' \
	    '#path|conn' '#open|2024-01-01-00-00-00' \
	    '#fields|ts|id.orig_p|ok|names|ttls|note|dur' \
	    '#types|time|port|bool|set[string]|vector[interval]|string|interval' \
	    '1700000000.5|80|T|a;b|1.5;NONE;2|caf\xc3\xa9 \x7c pipe|0.25' \
	    '1700000001.000001|NONE|F|EMPTY|EMPTY|EMPTY|NONE' \
	    '1700000002|443|T|x|3|bad \xff byte|1' \
	    '#close|2024-01-01-00-00-01' > "$T/conn.log"
	run -0 ingest --format zeek "$T/conn.log"
	assert_output - <<'OUT'
{"_path":"conn","ts":"2023-11-14T22:13:20.500000Z","id.orig_p":80,"ok":true,"names":["a","b"],"ttls":[1.5,null,2],"note":"café | pipe","dur":0.25}
{"_path":"conn","ts":"2023-11-14T22:13:21.000001Z","ok":false,"names":[],"ttls":[],"note":""}
{"_path":"conn","ts":"2023-11-14T22:13:22.000000Z","id.orig_p":443,"ok":true,"names":["x"],"ttls":[3],"note":"bad \\xff byte","dur":1}
OUT
}

@test "zeek rejects a record before #fields and one of another width, and each file has its own header" {
	printf '1\t2\n#fields\ta\tb\n#types\tcount\tcount\n1\t2\n1\t2\t3\n' > "$T/a.log"
	printf '#fields\tx\n#types\tstring\n9\n' > "$T/b.log"
	run -0 ingest --format zeek --dead-letter "$T/dl" "$T/a.log" "$T/b.log"
	assert_output $'{"a":1,"b":2}\n{"x":"9"}'
	run -0 jq -c '[.line, .reason]' "$T/dl"
	assert_output $'[1,"a record before the #fields line"]\n[5,"more fields than #fields names (2)"]'
}

@test "auto detects a zeek log by its #separator line" {
	run -0 --separate-stderr ingest --format auto --stats "$DATA/ingest-zeek-dns.log"
	assert_equal "${#lines[@]}" 34
	run -0 jq -r .format <<< "$stderr"
	assert_output zeek
}

# --- json --------------------------------------------------------------------

@test "json reads an array of objects, objects side by side, and pretty-printed ones" {
	printf '[\n  {"a": 1, "b": [1, 2]},\n  {"a": 2,\n   "s": "x y"}\n]\n{"c":3}{"c":4}\n\n{\n  "d": {"e": "}"}\n}\n[{"f":1},{"f":2}] {"g":"\\"]"}\n' > "$T/in.json"
	run -0 ingest --format json "$T/in.json"
	assert_output - <<'OUT'
{"a":1,"b":[1,2]}
{"a":2,"s":"x y"}
{"c":3}
{"c":4}
{"d":{"e":"}"}}
{"f":1}
{"f":2}
{"g":"\"]"}
OUT
	# Each record is what jq makes of the documents.
	jq -c 'if type == "array" then .[] else . end' "$T/in.json" > "$T/want"
	ingest --format json "$T/in.json" | jq -c . > "$T/got"
	cmp "$T/want" "$T/got"
}

@test "json rejects a bad document whole at the line it begins on, and goes on" {
	printf '{"a":1}\n5\n{"a":\n  tru}\n{"ok":1}\n{"open":\n  2\n' > "$T/in.json"
	run -0 ingest --format json --dead-letter "$T/dl" "$T/in.json"
	assert_output $'{"a":1}\n{"ok":1}'
	run -0 jq -c '[.line, .reason, .raw]' "$T/dl"
	assert_output - <<'OUT'
[2,"expected a JSON object or an array of objects at column 1","5"]
[3,"invalid JSON in the document at column 1: invalid token: expected true, false or null","{\"a\":\n  tru}"]
[6,"JSON document not closed at the end of the file","{\"open\":\n  2"]
OUT
}

@test "json reads a 200,000-element document spanning 200,000 lines, from a pipe" {
	awk 'BEGIN { print "[{\"v\": ["; for (i = 0; i < 200000; i++) print i (i < 199999 ? "," : ""); print "]}, {\"n\": 1}]" }' |
	    ingest --format json > "$T/out"
	run -0 jq -c '[(.v // [] | length), (.v // [] | add), .n]' "$T/out"
	assert_output $'[200000,19999900000,null]\n[0,null,1]'
}

# --- nginx-timed, apache-timed -------------------------------------------------

@test "nginx-timed adds request_time and upstream_response_time, a list of upstream times kept as text" {
	printf '%s\n' '10.0.0.1 - alice [10/Oct/2024:13:55:36 +0000] "GET /x HTTP/1.1" 200 512 "-" "curl/8.5.0" 0.012 0.010' \
	    '10.0.0.2 - - [10/Oct/2024:13:55:37 +0000] "GET /s.css HTTP/1.1" 304 0 "https://e.com/" "Mozilla/5.0" 0.000 -' \
	    '10.0.0.3 - - [10/Oct/2024:13:55:38 +0000] "POST /y HTTP/1.1" 502 157 "-" "Go" 3.004 3.000, 0.001' > "$T/in.log"
	run -0 ingest --format nginx-timed "$T/in.log"
	assert_output - <<'OUT'
{"host":"10.0.0.1","ident":null,"user":"alice","timestamp":"2024-10-10T13:55:36Z","method":"GET","path":"/x","protocol":"HTTP/1.1","status":200,"bytes":512,"referrer":null,"user_agent":"curl/8.5.0","request_time":0.012,"upstream_response_time":0.010}
{"host":"10.0.0.2","ident":null,"user":null,"timestamp":"2024-10-10T13:55:37Z","method":"GET","path":"/s.css","protocol":"HTTP/1.1","status":304,"bytes":0,"referrer":"https://e.com/","user_agent":"Mozilla/5.0","request_time":0.000,"upstream_response_time":null}
{"host":"10.0.0.3","ident":null,"user":null,"timestamp":"2024-10-10T13:55:38Z","method":"POST","path":"/y","protocol":"HTTP/1.1","status":502,"bytes":157,"referrer":null,"user_agent":"Go","request_time":3.004,"upstream_response_time":"3.000, 0.001"}
OUT
	run -0 --separate-stderr ingest --format auto --stats "$T/in.log"
	run -0 jq -r .format <<< "$stderr"
	assert_output nginx-timed
}

@test "apache-timed writes %D microseconds as request_time in seconds, and rejects a time that is not a number" {
	printf '%s\n' '1.2.3.4 - - [10/Oct/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 512 "-" "curl" 1234' \
	    '1.2.3.4 - - [10/Oct/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 512 "-" "curl" 2000000' \
	    '1.2.3.4 - - [10/Oct/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 512 "-" "curl" 1.5' > "$T/in.log"
	run -0 ingest --format apache-timed --dead-letter "$T/dl" "$T/in.log"
	run -0 jq -c .request_time <<< "$output"
	assert_output $'0.001234\n2'
	run -0 jq -r .reason "$T/dl"
	assert_output "request time (%D) is not a number of microseconds: '1.5'"
	run -1 --separate-stderr ingest --format auto --stats "$T/in.log"
	run -0 jq -r .format <<< "${stderr_lines[-1]}"
	assert_output apache-timed
}

# --- --lenient -----------------------------------------------------------------

@test "--lenient keeps a line with a malformed request, its request fields null, with a _malformed reason" {
	printf '%s\n' '1.2.3.4 - - [01/Aug/1995:00:00:01 -0400] "\x16\x03\x01" 400 226' \
	    '1.2.3.4 - - [01/Aug/1995:00:00:02 -0400] "-" 408 -' \
	    '1.2.3.4 - - [01/Aug/1995:00:00:03 -0400] "get /" 400 0' \
	    '1.2.3.4 - - [01/Aug/1995:00:00:04 -0400] "GET / HTTP/1.0" 200 10' > "$T/in.log"
	run -0 ingest --format clf --lenient "$T/in.log"
	assert_output - <<'OUT'
{"host":"1.2.3.4","ident":null,"user":null,"timestamp":"1995-08-01T04:00:01Z","method":null,"path":null,"protocol":null,"request":"\\x16\\x03\\x01","status":400,"bytes":226,"_malformed":"request line is not METHOD PATH [PROTOCOL]"}
{"host":"1.2.3.4","ident":null,"user":null,"timestamp":"1995-08-01T04:00:02Z","method":null,"path":null,"protocol":null,"status":408,"bytes":null}
{"host":"1.2.3.4","ident":null,"user":null,"timestamp":"1995-08-01T04:00:03Z","method":null,"path":null,"protocol":null,"request":"get /","status":400,"bytes":0,"_malformed":"request line is not METHOD PATH [PROTOCOL]"}
{"host":"1.2.3.4","ident":null,"user":null,"timestamp":"1995-08-01T04:00:04Z","method":"GET","path":"/","protocol":"HTTP/1.0","status":200,"bytes":10}
OUT
	run -0 ingest --format clf --dead-letter "$T/dl" "$T/in.log"
	assert_equal "${#lines[@]}" 2
	run -0 jq -c '[.line, .reason]' "$T/dl"
	assert_output $'[1,"malformed request line: not METHOD PATH [PROTOCOL]"]\n[3,"malformed request line: not METHOD PATH [PROTOCOL]"]'
}

@test "--lenient keeps a combined line whose user agent has no closing quote" {
	printf '%s\n' '1.2.3.4 - - [20/May/2015:12:05:17 +0000] "GET /a HTTP/1.1" 200 235 "-" "Mozilla/5.0 (compatible; +http://x' > "$T/in.log"
	run -0 ingest --format combined --lenient "$T/in.log"
	run -0 jq -c '[.user_agent, ._malformed, .status]' <<< "$output"
	assert_output '["Mozilla/5.0 (compatible; +http://x","user agent has no closing quote",200]'
	run -1 --separate-stderr ingest --format combined "$T/in.log"
	assert_equal "${stderr_lines[0]}" "ingest: $T/in.log:1: user agent has no closing quote"
}

@test "batch-report --lenient counts the 400s of malformed requests in the status counts" {
	printf '%s\n' '1.2.3.4 - - [01/Aug/1995:00:00:01 -0400] "\x16\x03\x01" 400 226' \
	    '1.2.3.5 - - [01/Aug/1995:00:00:02 -0400] "GET / HTTP/1.0" 200 10' > "$T/in.log"
	run -0 batch-report --input-format clf --lenient --format json --sections dimensions "$T/in.log"
	run -0 jq -c '[.dimensions.status[] | [.value, .count]]' <<< "$output"
	assert_output '[[200,1],[400,1]]'
}

# --- across files and runs -----------------------------------------------------

@test "regex reads every file with the same pattern, and zeek each file with its own header under --skip-comments" {
	printf 'a 1\n' > "$T/1.log"
	printf 'b 2\n' > "$T/2.log"
	run -0 ingest --format regex --pattern '(?<k>\w) (?<v_int>\d)' "$T/1.log" "$T/2.log"
	assert_output $'{"k":"a","v":1}\n{"k":"b","v":2}'
	printf '#fields\tx\n#types\tcount\n1\n' > "$T/a.zeek"
	run -0 ingest --format zeek --skip-comments "$T/a.zeek"
	assert_output '{"x":1}'
}

@test "--offset-file resumes a Zeek log with the names and types of its header" {
	printf '#separator \\x09\n#fields\tn\ts\n#types\tcount\tset[string]\n1\ta,b\n' > "$T/z.log"
	run -0 ingest --format zeek --offset-file "$T/off" "$T/z.log"
	assert_output '{"n":1,"s":["a","b"]}'
	run -0 ingest --commit "$T/off"
	printf '2\t(empty)\n' >> "$T/z.log"
	run -0 ingest --format zeek --offset-file "$T/off" "$T/z.log"
	assert_output '{"n":2,"s":[]}'
}

@test "json rejects a document longer than --max-line-bytes, keeping its start, and reads on" {
	awk 'BEGIN { print "{\"v\": ["; for (i = 0; i < 1000; i++) print i ","; print "0]}"; print "{\"ok\":1}" }' > "$T/in.json"
	run -0 ingest --format json --max-line-bytes 100 --dead-letter "$T/dl" "$T/in.json"
	assert_output '{"ok":1}'
	run -0 jq -c '[.line, .reason, (.raw | length), (.raw | startswith("{\"v\": [\n0,\n1,"))]' "$T/dl"
	assert_output '[1,"record longer than 100 bytes (--max-line-bytes)",100,true]'
}
