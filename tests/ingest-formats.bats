#!/usr/bin/env bats
# ingest --format: CSV, TSV, logfmt, CLF and combined access logs, and auto-detection.

bats_require_minimum_version 1.5.0

setup() { load common-setup; _common_setup; }

# --- CSV ---------------------------------------------------------------------

@test "csv turns each row into an object keyed by the header, all strings without --infer" {
	printf 'a,b\n1,x\n2,\n' > "$T/in.csv"
	run -0 ingest --format csv "$T/in.csv"
	assert_output $'{"a":"1","b":"x"}\n{"a":"2","b":""}'
}

@test "csv handles quotes, doubled quotes, embedded newlines, CRLF and a missing final newline" {
	run -1 --separate-stderr ingest --format csv --infer "$DATA/ingest-quotes.csv"
	assert_output - <<'OUT'
{"id":1,"name":"Smith, Jane","score":6.8581834E7,"active":true,"note":null}
{"id":2,"name":"She said \"hi\"","score":"007","active":false,"note":"line one\nline two"}
{"id":3,"name":"Bob","score":-1.5,"active":null,"note":"x"}
{"id":5,"name":"trailing","score":2,"active":false,"note":"no final newline"}
OUT
}

@test "csv sends a ragged row to the dead-letter with both field counts" {
	run -0 ingest --format csv --infer --dead-letter "$T/dl" "$DATA/ingest-quotes.csv"
	run -0 cat "$T/dl"
	assert_output '{"file":"'"$DATA"'/ingest-quotes.csv","line":6,"offset":129,"reason":"expected 5 fields, got 4","raw":"4,ragged,1,true"}'
}

@test "csv reports a ragged row on stderr with its line when there is no dead-letter" {
	run -1 --separate-stderr ingest --format csv "$DATA/ingest-quotes.csv"
	assert_equal "${stderr_lines[0]}" "ingest: $DATA/ingest-quotes.csv:6: expected 5 fields, got 4"
}

@test "csv --infer keeps number text as written and leaves non-JSON numbers as strings" {
	printf 'n\n6.8581834E7\n-0.50\n007\n+1\n1.\n1e999\n0\n' > "$T/in.csv"
	run -0 ingest --format csv --infer "$T/in.csv"
	assert_output $'{"n":6.8581834E7}\n{"n":-0.50}\n{"n":"007"}\n{"n":"+1"}\n{"n":"1."}\n{"n":"1e999"}\n{"n":0}'
}

@test "csv --infer keeps integers past 64 bits as strings, since JSON parsers refuse them" {
	printf 'n\n9223372036854775807\n9223372036854775808\n' > "$T/in.csv"
	run -0 ingest --format csv --infer "$T/in.csv"
	assert_output $'{"n":9223372036854775807}\n{"n":"9223372036854775808"}'
}

@test "csv rejects a row holding a NUL byte" {
	printf 'a,b\n1,x\0y\n' > "$T/in.csv"
	run -1 --separate-stderr ingest --format csv "$T/in.csv"
	assert_equal "${stderr_lines[0]}" "ingest: $T/in.csv:2: NUL byte at column 4"
}

@test "csv --infer turns true, false and empty fields into JSON booleans and null" {
	printf 'a,b,c,d\nTRUE,false,,yes\n' > "$T/in.csv"
	run -0 ingest --format csv --infer "$T/in.csv"
	assert_output '{"a":true,"b":false,"c":null,"d":"yes"}'
}

@test "csv keeps a record spanning lines at its first line and puts all its lines in the dead-letter" {
	run -0 ingest --format csv --dead-letter "$T/dl" "$DATA/ingest-unclosed.csv"
	assert_output ''
	run -0 cat "$T/dl"
	assert_output '{"file":"'"$DATA"'/ingest-unclosed.csv","line":2,"offset":4,"reason":"quoted field not closed at the end of the file","raw":"1,\"open quote\n2,3"}'
}

@test "csv rejects text after a closing quote" {
	printf 'a,b\n"x"y,2\n' > "$T/in.csv"
	run -1 --separate-stderr ingest --format csv "$T/in.csv"
	assert_equal "${stderr_lines[0]}" "ingest: $T/in.csv:2: unexpected character after a closing quote in field 1"
}

@test "csv drops a byte-order mark; the time field is rewritten to RFC 3339 UTC only with --normalize-time" {
	run -0 ingest --format csv --infer "$DATA/ingest-bom.csv"
	assert_output $'{"timestamp":"2014-07-01 00:00:00","value":10844}\n{"timestamp":1404172800,"value":8127}'
	run -0 ingest --format csv --infer --normalize-time "$DATA/ingest-bom.csv"
	assert_output $'{"timestamp":"2014-07-01T00:00:00Z","value":10844}\n{"timestamp":"2014-07-01T00:00:00Z","value":8127}'
}

@test "csv leaves a time field that does not parse as it is unless --normalize-time" {
	printf 'timestamp,v\nsoon,1\n' > "$T/in.csv"
	run -0 ingest --format csv "$T/in.csv"
	assert_output '{"timestamp":"soon","v":"1"}'
	run -1 --separate-stderr ingest --format csv --normalize-time "$T/in.csv"
	assert_equal "$stderr_lines" "ingest: $T/in.csv:2: bad time in 'timestamp': not a time: soon"
}

@test "csv --header names the columns of a file without a header row" {
	printf '1,2\n3,4\n' > "$T/in.csv"
	run -0 ingest --format csv --header x,y --infer "$T/in.csv"
	assert_output $'{"x":1,"y":2}\n{"x":3,"y":4}'
}

@test "csv makes empty and repeated header names distinct" {
	printf 'a,,a,a_2\n1,2,3,4\n' > "$T/in.csv"
	run -0 ingest --format csv "$T/in.csv"
	assert_output '{"a":"1","2":"2","a_2":"3","a_2_2":"4"}'
}

@test "csv skips blank lines" {
	printf 'a\n\n1\n\n' > "$T/in.csv"
	run -0 ingest --format csv "$T/in.csv"
	assert_output '{"a":"1"}'
}

@test "csv reads each file's own header" {
	printf 'a,b\n1,2\n' > "$T/1.csv"
	printf 'c\n3\n' > "$T/2.csv"
	run -0 ingest --format csv "$T/1.csv" "$T/2.csv"
	assert_output $'{"a":"1","b":"2"}\n{"c":"3"}'
}

@test "csv --delimiter reads other separators" {
	printf 'a;b\n1;"x;y"\n' > "$T/in.csv"
	run -0 ingest --format csv --delimiter ';' "$T/in.csv"
	assert_output '{"a":"1","b":"x;y"}'
}

@test "csv --delimiter tab reads tab-separated fields with CSV quoting" {
	printf 'a\tb\n1\t"x\ty"\n' > "$T/in.csv"
	run -0 ingest --format csv --delimiter tab "$T/in.csv"
	assert_output '{"a":"1","b":"x\ty"}'
}

@test "csv --delimiter refuses a quote, and takes several characters as one separator" {
	run -2 --separate-stderr ingest --format csv --delimiter '"'
	assert_equal "${stderr_lines[0]}" "ingest: --delimiter: expected one or more characters, no quote or newline: '\"'"
	printf 'xabyab\n1ab2a3ab\n' > "$T/in.csv"
	run -0 ingest --format csv --delimiter ab "$T/in.csv"
	assert_output '{"x":"1","y":"2a3","3":""}'
}

@test "csv rejects a row that is not UTF-8" {
	printf 'a\n\xff\n' > "$T/in.csv"
	run -1 --separate-stderr ingest --format csv "$T/in.csv"
	assert_equal "${stderr_lines[0]}" "ingest: $T/in.csv:2: not valid UTF-8"
}

@test "csv records go through --require and --type like NDJSON" {
	printf 'a,b\n1,x\n,y\n' > "$T/in.csv"
	run -1 --separate-stderr ingest --format csv --infer --type a=number "$T/in.csv"
	assert_output '{"a":1,"b":"x"}'
	assert_equal "${stderr_lines[0]}" "ingest: $T/in.csv:3: field 'a' is null, expected number"
}

@test "csv records go through --where and --check, and the dead-letter keeps the CSV row" {
	printf 'a,b\n1,2\n3,4\n5,6\n' > "$T/in.csv"
	run -0 ingest --format csv --infer --where '.a > 1' --check '.b != 4' --dead-letter "$T/dl" "$T/in.csv"
	assert_output '{"a":5,"b":6}'
	run -0 jq -c '[.line, .reason, .raw]' "$T/dl"
	assert_output '[3,"check failed: .b != 4","3,4"]'
}

@test "an unknown format is a usage error that lists the formats" {
	run -2 --separate-stderr ingest --format xml
	assert_equal "${stderr_lines[0]}" "ingest: --format: unknown format 'xml' (ndjson, csv, tsv, logfmt, clf, combined, nginx-timed, apache-timed, zeek, json, regex, auto)"
}

# --- TSV ---------------------------------------------------------------------

@test "tsv splits on tabs and undoes the backslash escapes" {
	run -1 --separate-stderr ingest --format tsv "$DATA/ingest-escapes.tsv"
	assert_output $'{"host":"10.0.0.1","path":"/a\\tb","note":"line\\nbreak"}\n{"host":"10.0.0.2","path":"/c","note":"back\\\\slash"}'
	assert_equal "${stderr_lines[0]}" "ingest: $DATA/ingest-escapes.tsv:4: expected 3 fields, got 2"
}

@test "tsv keeps quotes as ordinary characters and reads empty fields" {
	printf 'a\tb\n"x"\t\n' > "$T/in.tsv"
	run -0 ingest --format tsv "$T/in.tsv"
	assert_output '{"a":"\"x\"","b":""}'
}

# --- logfmt ------------------------------------------------------------------

@test "logfmt reads pairs, quoted values with escapes and bare keys" {
	run -1 --separate-stderr ingest --format logfmt --infer -t time "$DATA/ingest-app.logfmt"
	assert_output - <<'OUT'
{"time":"2024-03-15T10:23:45+02:00","level":"info","msg":"user logged in","user":"alice","latency_ms":12.5,"cached":true}
{"time":"2024-03-15T10:23:46Z","level":"warn","msg":"quote \"inside\" and \\ backslash","user":null,"retries":3}
OUT
	assert_equal "${stderr_lines[0]}" "ingest: $DATA/ingest-app.logfmt:4: quoted value of 'msg' has no closing quote"
	assert_equal "${stderr_lines[1]}" "ingest: $DATA/ingest-app.logfmt:5: duplicate key 'level'"
}

@test "logfmt without --infer keeps every value a string and an empty value empty" {
	printf 'a=1 b= c\n' > "$T/in.log"
	run -0 ingest --format logfmt "$T/in.log"
	assert_output '{"a":"1","b":"","c":true}'
}

@test "logfmt rejects a value without a key" {
	printf 'a=1 =2\n' > "$T/in.log"
	run -1 --separate-stderr ingest --format logfmt "$T/in.log"
	assert_equal "${stderr_lines[0]}" "ingest: $T/in.log:1: expected a key at column 5"
}

# --- access logs -------------------------------------------------------------

@test "clf gives host ident user timestamp method path protocol status bytes with - as null" {
	run -0 ingest --format clf --dead-letter "$T/dl" "$DATA/ingest-access.clf"
	assert_output - <<'OUT'
{"host":"in24.inetnebr.com","ident":null,"user":null,"timestamp":"1995-08-01T04:00:01Z","method":"GET","path":"/shuttle/missions/sts-68/news/sts-68-mcc-05.txt","protocol":"HTTP/1.0","status":200,"bytes":1839}
{"host":"2001:db8::1","ident":null,"user":"frank","timestamp":"2000-10-10T20:55:36Z","method":"GET","path":"/apache pb.gif","protocol":"HTTP/1.0","status":200,"bytes":2326}
{"host":"columbia.acc.brad.ac.uk","ident":null,"user":null,"timestamp":"1995-08-01T04:34:55Z","method":"GET","path":"/ksc.html","protocol":null,"status":200,"bytes":7280}
{"host":"192.0.2.7","ident":null,"user":null,"timestamp":"1995-08-01T04:35:00Z","method":null,"path":null,"protocol":null,"status":408,"bytes":null}
OUT
}

@test "clf sends a malformed request line, no closing quote, a bad status or a bad date to the dead-letter with its reason" {
	run -0 ingest --format clf --dead-letter "$T/dl" "$DATA/ingest-access.clf"
	run -0 jq -r '"\(.line): \(.reason)"' "$T/dl"
	assert_output - <<'OUT'
5: malformed request line: not METHOD PATH [PROTOCOL]
6: request line has no closing quote
7: status is not a number: 'OK'
8: bad timestamp '32/Aug/1995:00:35:03 -0400': day out of range
OUT
}

@test "clf refuses a combined line and says which format to use" {
	head -1 "$DATA/ingest-access.combined" > "$T/in.log"
	run -1 --separate-stderr ingest --format clf "$T/in.log"
	assert_equal "${stderr_lines[0]}" "ingest: $T/in.log:1: unexpected text after the byte count at column 138 (combined log? try --format combined)"
}

@test "combined adds referrer and user_agent, unescapes quotes and takes an IPv6 host" {
	run -1 --separate-stderr ingest --format combined "$DATA/ingest-access.combined"
	assert_line --index 1 '{"host":"::1","ident":null,"user":null,"timestamp":"2015-05-20T12:05:25Z","method":"GET","path":"/robots.txt","protocol":"HTTP/1.1","status":200,"bytes":null,"referrer":null,"user_agent":"agent with \"quotes\""}'
	assert_equal "${#lines[@]}" 2
}

@test "combined rejects a user agent with no closing quote" {
	run -1 --separate-stderr ingest --format combined "$DATA/ingest-access.combined"
	assert_equal "${stderr_lines[0]}" "ingest: $DATA/ingest-access.combined:3: user agent has no closing quote"
}

@test "combined refuses a CLF line and says which format to use" {
	head -1 "$DATA/ingest-access.clf" > "$T/in.log"
	run -1 --separate-stderr ingest --format combined "$T/in.log"
	assert_equal "${stderr_lines[0]}" "ingest: $T/in.log:1: missing referrer (a CLF line? try --format clf)"
}

@test "access logs keep CRLF line ends and a missing final newline out of the fields" {
	printf '::1 - - [01/Aug/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 1\r\n::2 - - [01/Aug/1995:00:00:02 -0400] "GET / HTTP/1.0" 200 2' > "$T/in.log"
	run -0 ingest --format clf "$T/in.log"
	assert_output - <<'OUT'
{"host":"::1","ident":null,"user":null,"timestamp":"1995-08-01T04:00:01Z","method":"GET","path":"/","protocol":"HTTP/1.0","status":200,"bytes":1}
{"host":"::2","ident":null,"user":null,"timestamp":"1995-08-01T04:00:02Z","method":"GET","path":"/","protocol":"HTTP/1.0","status":200,"bytes":2}
OUT
}

# --- auto --------------------------------------------------------------------

@test "auto detects each file's format and says which under --stats" {
	printf '{"a":1}\n' > "$T/in.ndjson"
	run -1 --separate-stderr ingest --format auto --stats "$T/in.ndjson" "$DATA/ingest-access.clf" \
	    "$DATA/ingest-access.combined" "$DATA/ingest-app.logfmt" "$DATA/ingest-escapes.tsv" "$DATA/ingest-bom.csv"
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 13
	run -0 jq -r .format <<<"${stderr_lines[-1]}"
	assert_output 'ndjson,clf,combined,logfmt,tsv,csv'
}

@test "auto reads NDJSON byte-identical" {
	printf '{"b": 2,  "a":1}\n' > "$T/in"
	run -0 ingest --format auto "$T/in"
	assert_output '{"b": 2,  "a":1}'
}

@test "the format is ndjson by default and reported under --stats" {
	printf 'a,b\n' > "$T/in"
	run -1 --separate-stderr ingest --stats "$T/in"
	assert_equal "${stderr_lines[0]}" "ingest: $T/in:1: invalid JSON at column 1: '{' expected"
	run -0 jq -r .format <<<"${stderr_lines[-1]}"
	assert_output ndjson
}

# --- inputs that were quadratic (12.9-12.11); the linear-work checks are in tests/lib/test_formats.c ---

@test "csv names 2,000 repeated header columns a, a_3, a_4, ... around a literal a_2, an empty one by its number" {
	awk 'BEGIN { printf "a_2"; for (i = 0; i < 2000; i++) printf ",a"; printf ",,1\n";
	    printf "x"; for (i = 0; i < 2000; i++) printf ",%d", i; printf ",e,f\n" }' > "$T/in.csv"
	run -0 ingest --format csv "$T/in.csv"
	# The second "a" skips a_2 (taken by the first column): a_3, a_4, ... a_2001.
	want=$(awk 'BEGIN { printf "{\"a_2\":\"x\",\"a\":\"0\""
	    for (i = 1; i < 2000; i++) printf ",\"a_%d\":\"%d\"", i + 2, i
	    printf ",\"2002\":\"e\",\"1\":\"f\"}" }')
	assert_output "$want"
}

@test "csv with a quote left open for 20,000 lines is one record when it closes, or dead-lettered at the end" {
	awk 'BEGIN { print "a,b"; printf "1,\""; for (i = 0; i < 20000; i++) print "l" i; print "end\""; print "2,x" }' > "$T/in.csv"
	run -0 ingest --format csv "$T/in.csv"
	assert_equal "${#lines[@]}" 2
	assert_equal "${lines[1]}" '{"a":"2","b":"x"}'
	[[ "${lines[0]}" == '{"a":"1","b":"l0\nl1\nl2\n'* ]]
	[[ "${lines[0]}" == *'\nl19999\nend"}' ]]
	awk 'BEGIN { print "a,b"; printf "1,\""; for (i = 0; i < 20000; i++) print "l" i }' > "$T/open.csv"
	run -1 --separate-stderr ingest --format csv "$T/open.csv"
	assert_output ''
	[[ "$stderr" == "ingest: $T/open.csv:2: quoted field not closed at the end of the file"* ]]
}

@test "logfmt with 20,000 keys is one record, and a duplicate at its end is found" {
	awk 'BEGIN { for (i = 0; i < 20000; i++) printf "%sk%d=%d", i ? " " : "", i, i; print "" }' > "$T/in.log"
	run -0 ingest --format logfmt "$T/in.log"
	[[ "$output" == '{"k0":"0","k1":"1",'*',"k19999":"19999"}' ]]
	awk 'BEGIN { for (i = 0; i < 20000; i++) printf "k%d=%d ", i, i; print "k19998=x" }' > "$T/dup.log"
	run -1 --separate-stderr ingest --format logfmt "$T/dup.log"
	assert_output ''
	assert_equal "${stderr_lines[0]}" "ingest: $T/dup.log:1: duplicate key 'k19998'"
}

# --- the record written straight from the cells ------------------------------

# csv_oracle FILE [infer]: what ingest --format csv must write, worked out by Python's csv and json.
csv_oracle() {
	python3 - "$@" <<'PY'
import csv, json, re, sys
infer = len(sys.argv) > 2
def num(s):
    if not re.fullmatch(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?", s):
        return False
    if re.search(r"[.eE]", s):
        return abs(float(s)) != float("inf")
    return -2**63 <= int(s) < 2**63
def val(s):
    if not infer:
        return json.dumps(s, ensure_ascii=False)
    if s == "":
        return "null"
    if s in ("true", "True", "TRUE"):
        return "true"
    if s in ("false", "False", "FALSE"):
        return "false"
    return s if num(s) else json.dumps(s, ensure_ascii=False)
with open(sys.argv[1], newline="") as f:
    rows = list(csv.reader(f))
for row in rows[1:]:
    print("{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + val(v) for k, v in zip(rows[0], row)) + "}")
PY
}

@test "csv cells are written as Python's csv and json modules write them, past the buffers' first growth" {
	python3 - "$T/in.csv" <<'PY'
import csv, random, sys
random.seed(7)
alphabet = ['a', 'Z', ' ', ',', '"', '\\', '\t', '\x01', '\x1f', '\x7f', 'é', '€', '😀', '\n', '0', '-', '.']
with open(sys.argv[1], "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["id", "text", "n", "flag", "long"])
    for i in range(5000):
        text = "".join(random.choice(alphabet) for _ in range(random.randint(0, 40)))
        n = random.choice(["12", "-3.25", "007", "1e5", "", "0", "-0.5", "123456789012345678"])
        flag = random.choice(["true", "FALSE", "x", ""])
        w.writerow([i, text, n, flag, "y" * random.choice([0, 7, 8, 9, 300, 5000])])
PY
	csv_oracle "$T/in.csv" > "$T/want"
	ingest --format csv -t x.y "$T/in.csv" > "$T/got"
	cmp "$T/want" "$T/got"
	csv_oracle "$T/in.csv" infer > "$T/want"
	ingest --format csv --infer -t x.y "$T/in.csv" > "$T/got"
	cmp "$T/want" "$T/got"
	# A check that needs the parsed record gives the same bytes.
	ingest --format csv --infer -t x.y --require id "$T/in.csv" > "$T/parsed"
	cmp "$T/want" "$T/parsed"
}

# --- several-byte delimiters, ragged rows, comments --------------------------

@test "csv --delimiter takes a separator of several bytes, quotes still working around it" {
	printf 'a|&|b|&|c\n1|&|x|y&z|&|\n"q|&|q"|&|"2"|&|3|&\n' > "$T/in.csv"
	run -0 ingest --format csv --delimiter '|&|' "$T/in.csv"
	assert_output - <<'OUT'
{"a":"1","b":"x|y&z","c":""}
{"a":"q|&|q","b":"2","c":"3|&"}
OUT
}

@test "csv --delimiter refuses an empty separator and one with a quote, with status 2" {
	run -2 --separate-stderr ingest --format csv --delimiter '' /dev/null
	assert_equal "${stderr_lines[0]}" "ingest: --delimiter: expected one or more characters, no quote or newline: ''"
	run -2 --separate-stderr ingest --format csv --delimiter 'a"' /dev/null
	assert_equal "${stderr_lines[0]}" "ingest: --delimiter: expected one or more characters, no quote or newline: 'a\"'"
}

@test "csv --ragged leaves out the fields a short row lacks and keeps a long row's extra fields in _extra" {
	printf 'a,b,c\n1,2\n1,2,3,4,\n1\n,,\n' > "$T/in.csv"
	run -0 ingest --format csv --ragged --infer "$T/in.csv"
	assert_output - <<'OUT'
{"a":1,"b":2}
{"a":1,"b":2,"c":3,"_extra":[4,null]}
{"a":1}
{"a":null,"b":null,"c":null}
OUT
	printf 'a\tb\n1\t2\t3\n' > "$T/in.tsv"
	run -0 ingest --format tsv --ragged "$T/in.tsv"
	assert_output '{"a":"1","b":"2","_extra":["3"]}'
}

@test "csv --ragged with --header: the header is the width; without --ragged the rows go to the dead-letter" {
	printf '1|&|2\n1|&|2|&|3\n' > "$T/in.log"
	run -0 ingest --format csv --delimiter '|&|' --header x,y --ragged "$T/in.log"
	assert_output $'{"x":"1","y":"2"}\n{"x":"1","y":"2","_extra":["3"]}'
	run -0 ingest --format csv --delimiter '|&|' --header x,y --dead-letter "$T/dl" "$T/in.log"
	assert_output '{"x":"1","y":"2"}'
	run -0 jq -r .reason "$T/dl"
	assert_output 'expected 2 fields, got 3'
}

@test "--skip-comments skips lines starting with # before and after the header, and counts them" {
	printf '# exported 2024-03-15\na,b\n#note\n1,"x\n# not a comment"\n 2,y\n' > "$T/in.csv"
	run -0 --separate-stderr ingest --format csv --skip-comments --stats "$T/in.csv"
	assert_output $'{"a":"1","b":"x\\n# not a comment"}\n{"a":" 2","b":"y"}'
	run -0 jq -c '{records_in, records_out, comment_lines}' <<< "$stderr"
	assert_output '{"records_in":2,"records_out":2,"comment_lines":2}'
	# Without it, the first comment line is the header.
	run -0 ingest --format csv --dead-letter "$T/dl" "$T/in.csv"
	run -0 jq -r .reason "$T/dl"
	assert_output $'expected 1 field, got 2\nexpected 1 field, got 2\nexpected 1 field, got 2'
}

@test "--skip-comments works for logfmt and access logs too" {
	printf '#x\na=1\n' | ingest --format logfmt --skip-comments > "$T/out"
	run -0 cat "$T/out"
	assert_output '{"a":"1"}'
	printf '# nginx\n1.2.3.4 - - [10/Oct/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 5\n' |
	    ingest --format clf --skip-comments > "$T/out"
	run -0 jq -c '[.host, .status]' "$T/out"
	assert_output '["1.2.3.4",200]'
}
