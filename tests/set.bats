#!/usr/bin/env bats
# ingest --set and --del, and the functions they brought to lib/expr: every expected
# output is computed by jq 1.6 on the same input, in the test.

bats_require_minimum_version 1.5.0

setup_file() {
	# 2,000 generated records, rewritten by jq so that their bytes are jq's own
	# (then a record ingest leaves alone is byte-identical to what jq prints).
	awk -v n=2000 -v seed=7 -f "$BATS_TEST_DIRNAME/data/gen-set.awk" |
	    jq -c '.ts = (.t | floor | todate)' >"$BATS_FILE_TMPDIR/ev.ndjson"
}

setup() {
	load common-setup
	_common_setup
	EV="$BATS_FILE_TMPDIR/ev.ndjson"
}

# same_as_jq EXPR: ingest --set "v=EXPR" writes exactly what jq -c '.v = (EXPR)' writes for the
# records where jq succeeds, and rejects to the dead-letter exactly the records where jq fails.
# At least one record must succeed.
same_as_jq() {
	ingest --dead-letter "$T/dl" --set "v=$1" "$EV" >"$T/ours"
	jq -c "try (.v = ($1)) catch empty" "$EV" >"$T/jq"
	[ -s "$T/jq" ]
	run diff "$T/ours" "$T/jq"
	assert_success
	jq -c "select([try (.v = ($1))] | length == 0)" "$EV" >"$T/jqbad"
	if [ -s "$T/dl" ]; then jq -r .raw "$T/dl"; fi >"$T/ourbad"
	run diff "$T/ourbad" "$T/jqbad"
	assert_success
}

@test "the generated file has 2,000 records, and some on which jq's arithmetic fails" {
	[ "$(wc -l <"$EV")" -eq 2000 ]
	n=$(jq -c 'select([try (.price * .amount)] | length == 0)' "$EV" | wc -l)
	[ "$n" -gt 50 ]
}

# Arithmetic and the issue's examples
@test "--set notional=.price * .amount: as jq, and jq's failures rejected" { same_as_jq '.price * .amount'; }
@test "--set with the issue's status class: (.status / 100 | floor) * 100" { same_as_jq '(.status / 100 | floor) * 100'; }
@test "--set mb=.bytes / 1e6 prints reals as jq does" { same_as_jq '.bytes / 1e6'; }
@test "division giving repeating fractions prints as jq does" { same_as_jq '.bytes / 7 / 3'; }
@test "integer arithmetic past 2^53 and negative numbers" { same_as_jq '.bytes * .bytes * -1 + .status'; }
@test "modulo as jq, including negative operands" { same_as_jq '.amount % 7'; }
@test "string concatenation with +" { same_as_jq '.method + " " + .path'; }
@test "null + x is x, as in jq" { same_as_jq '.missing + .status'; }
@test "a string divided by a string splits it, as in jq" { same_as_jq '.ip / "."'; }
@test "array concatenation with +" { same_as_jq '(.ip / ".") + (.w / " ")'; }
@test "a value copied from the record keeps its bytes" { same_as_jq '.price'; }

# Math
@test "floor as jq" { same_as_jq '.price | floor'; }
@test "ceil as jq" { same_as_jq '.price | ceil'; }
@test "round as jq, halves away from zero" { same_as_jq '.price | round'; }
@test "round of negative halves as jq" { same_as_jq '.price - 100 | round'; }
@test "fabs as jq" { same_as_jq '.price - 250 | fabs'; }
@test "abs is fabs (jq 1.6 has no abs; jq 1.8 gives the same on numbers)" {
	ingest --set 'v=.amount | abs' --set 'u=.price - 250 | abs' --dead-letter "$T/dl" "$EV" >"$T/ours"
	jq -c 'try (.v = (.amount | fabs) | .u = (.price - 250 | fabs)) catch empty' "$EV" >"$T/jq"
	run diff "$T/ours" "$T/jq"
	assert_success
}
@test "sqrt as jq" { same_as_jq '.bytes | sqrt'; }
@test "type as jq" { same_as_jq '.price | type'; }

# Strings
@test "split on a string as jq" { same_as_jq '.path | split("/")'; }
@test "split on a separator of several characters" { same_as_jq '.w | split("a")'; }
@test "split into characters with an empty separator" { same_as_jq '.w | split("")'; }
@test "an element of split" { same_as_jq '.path | split("/") | .[1]'; }
@test "the length of split" { same_as_jq '.ip | split(".") | length'; }
@test "split with a regex and flags" { same_as_jq '.w | split("[ -]"; null)'; }
@test "ltrimstr as jq (non-strings unchanged)" { same_as_jq '.path | ltrimstr("/api")'; }
@test "rtrimstr as jq" { same_as_jq '.path | rtrimstr(".js")'; }
@test "ltrimstr on a number leaves it" { same_as_jq '.status | ltrimstr("2")'; }
@test "sub as jq" { same_as_jq '.path | sub("/v[0-9]+"; "/vN")'; }
@test "gsub as jq" { same_as_jq '.ip | gsub("\\d+"; "#")'; }
@test "gsub with the i flag" { same_as_jq '.w | gsub("[aé]"; "_"; "i")'; }
@test "sub with a replacement built from a named capture" { same_as_jq '.path | sub("^/(?<top>[a-z]+)"; "<" + .top + ">")'; }
@test "gsub replacing by a named capture" { same_as_jq '.ip | gsub("(?<d>\\d)(?<rest>\\d*)"; .d)'; }
@test "ascii_downcase and ascii_upcase leave non-ASCII letters" { same_as_jq '(.w | ascii_upcase) + (.method | ascii_downcase)'; }
@test "tostring of computed reals as jq" { same_as_jq '.price / 3 | tostring'; }
@test "tonumber as jq" { same_as_jq '.ip | split(".") | .[1] | tonumber'; }

# Times
@test "todate on epoch seconds, whole and fractional, as jq" { same_as_jq '.t | todate'; }
@test "fromdate on jq's ISO form as jq" { same_as_jq '.ts | fromdate'; }
@test "strftime with many conversions as jq" { same_as_jq '.t | strftime("%Y-%m-%d %H:%M:%S %a %b %j %U %w %y %e %I %p %%")'; }
@test "todate and fromdate round-trip as jq" { same_as_jq '.ts | fromdate | todate'; }
@test "a day bucket from epoch seconds" { same_as_jq '.t | floor | . - . % 86400 | todate'; }
@test "strftime and todate also take an ISO string (jq needs fromdate first)" {
	ingest --set 'v=.ts | strftime("%H:%M")' --set 'u=.ts | todate' "$EV" | jq -c '[.v, .u]' >"$T/ours"
	jq -c '[(.ts | fromdate | strftime("%H:%M")), (.ts | fromdate | todate)]' "$EV" >"$T/jq"
	run diff "$T/ours" "$T/jq"
	assert_success
}
@test "fromdate also reads fractions and offsets, which jq refuses" {
	printf '%s\n' '{"ts":"2024-03-15T10:00:00.250+01:00"}' '{"ts":"2024-03-15"}' >"$T/in"
	run -0 ingest --set 'e=.ts | fromdate' "$T/in"
	assert_output "$(printf '%s\n' '{"ts":"2024-03-15T10:00:00.250+01:00","e":1710493200.25}' \
	    '{"ts":"2024-03-15","e":1710460800}')"
	[ "$(TZ=UTC date -d '2024-03-15T09:00:00' +%s)" = 1710493200 ]
	[ "$(TZ=UTC date -d '2024-03-15T00:00:00' +%s)" = 1710460800 ]
}

# Conditionals and alternatives
@test "if then elif else end as jq" {
	same_as_jq 'if .status >= 500 then "server" elif .status >= 400 then "client" elif .status >= 300 then "redirect" else "ok" end'
}
@test "if on a computed condition" { same_as_jq 'if (.price | type) == "string" then 0 else .price * 2 end'; }
@test "nested if" { same_as_jq 'if .amount > 50 then (if .status > 300 then "hh" else "hl" end) else "l" end'; }
@test "// gives the right side for null and false, and an error stays one, as in jq" { same_as_jq '(.amount > 50 and .amount) // .nope // (.price - .amount)'; }
@test "// keeps a value that is neither null nor false" { same_as_jq '.amount // "none"'; }
@test "if without else is the input (jq 1.7's form)" {
	printf '%s\n' '{"a":5}' '{"a":1}' >"$T/in"
	run -0 ingest --set 'b=.a | if . > 3 then "big" end' "$T/in"
	assert_output "$(printf '%s\n' '{"a":5,"b":"big"}' '{"a":1,"b":1}')"
}

# --set and --del mechanics
@test "several --set run in order and later ones see earlier ones, as a jq pipeline" {
	ingest --dead-letter "$T/dl" --set 'n=.price * .amount' --set 'big=.n > 1000' --set 'n=.n + 1' "$EV" >"$T/ours"
	jq -c 'try (.n = (.price * .amount) | .big = (.n > 1000) | .n = (.n + 1)) catch empty' "$EV" >"$T/jq"
	run diff "$T/ours" "$T/jq"
	assert_success
}
@test "--del drops fields, the other bytes untouched" {
	ingest --del path,ip --del w "$EV" >"$T/ours"
	jq -c 'del(.path, .ip, .w)' "$EV" >"$T/jq"
	run diff "$T/ours" "$T/jq"
	assert_success
}
@test "--set reads fields that --del then drops" {
	ingest --dead-letter "$T/dl" --set 'notional=.price * .amount' --del price,amount "$EV" >"$T/ours"
	jq -c 'try (.notional = (.price * .amount) | del(.price, .amount)) catch empty' "$EV" >"$T/jq"
	run diff "$T/ours" "$T/jq"
	assert_success
}
@test "--set keeps the record's own bytes: spacing, escapes, number spellings" {
	printf '%s\n' '{ "a" : 1.50 , "s":"caf\u00e9", "b":[1, 2] }' >"$T/in"
	run -0 ingest --set 'a=.a * 2' --set 'c=.s + "!"' "$T/in"
	assert_output '{ "a" : 3 , "s":"caf\u00e9", "b":[1, 2],"c":"café!" }'
	run -0 jq -c '.a = (.a * 2) | .c = (.s + "!")' "$T/in"
	assert_output '{"a":3,"s":"café","b":[1,2],"c":"café!"}'
	run -0 jq -c . <<<'{ "a" : 3 , "s":"caf\u00e9", "b":[1, 2],"c":"café!" }'
	assert_output '{"a":3,"s":"café","b":[1,2],"c":"café!"}'
}
@test "--where and --check see the fields --set makes" {
	ingest --set 'n=.bytes / 1000' --where '.n > 2500' --check '.n < 4900' --dead-letter "$T/dl" "$EV" >"$T/ours"
	jq -c '.n = (.bytes / 1000) | select(.n < 4900) | select(.n > 2500)' "$EV" >"$T/jq"
	jq -c '.n = (.bytes / 1000) | select(.n >= 4900) | del(.n)' "$EV" >"$T/jqbad"
	[ -s "$T/jqbad" ]
	run diff <(jq -r .raw "$T/dl") "$T/jqbad"
	assert_success
	[ -s "$T/jq" ]
	run diff "$T/ours" "$T/jq"
	assert_success
}
@test "a quoted NAME sets a key with a dot, and a leading dot is allowed" {
	printf '%s\n' '{"a":{"b":1}}' >"$T/in"
	run -0 ingest --set '"a.b"=2' --set '.c=3' --set '."d e"=4' "$T/in"
	assert_output '{"a":{"b":1},"a.b":2,"c":3,"d e":4}'
	run -0 jq -c '.["a.b"] = 2 | .c = 3 | .["d e"] = 4' "$T/in"
	assert_output '{"a":{"b":1},"a.b":2,"c":3,"d e":4}'
}
@test "a record on which --set fails goes to the dead-letter with jq's reason" {
	printf '%s\n' '{"price":"x","amount":2}' '{"price":2,"amount":3}' '{"price":2}' >"$T/in"
	run -0 --separate-stderr ingest --stats --dead-letter "$T/dl" --set 'n=.price - .amount' "$T/in"
	assert_output '{"price":2,"amount":3,"n":-1}'
	[[ "$stderr" == '{"tool":"ingest","records_in":3,"records_out":1,"rejected":2,'* ]]
	run -0 jq -r .reason "$T/dl"
	assert_output "$(printf '%s\n' '--set n: string ("x") and number (2) cannot be subtracted' \
	    '--set n: number (2) and null (null) cannot be subtracted')"
	run -5 --separate-stderr jq -n '"x" - 2'
	[[ "$stderr" == *'string ("x") and number (2) cannot be subtracted'* ]]
	run -5 --separate-stderr jq -n '2 - null'
	[[ "$stderr" == *'number (2) and null (null) cannot be subtracted'* ]]
}
@test "a string times a number repeats it, as in jq" { same_as_jq '.method * (.amount / 10)'; }
@test "without a dead-letter a failing --set is reported and the exit status is 1" {
	printf '%s\n' '{"v":"x"}' >"$T/in"
	run -1 --separate-stderr ingest --set 'w=.v | floor' "$T/in"
	assert_output ''
	assert_equal "$stderr" "$(printf '%s\n' "ingest: $T/in:1: --set w: string (\"x\") number required" \
	    "ingest: 1 record rejected (use --dead-letter FILE to keep them)")"
}
@test "--set on CSV input: the time field kept as written, rewritten only with --normalize-time" {
	printf 'timestamp,price,amount\n2024-03-15 10:00:00,2.5,4\n' >"$T/in.csv"
	run -0 ingest --format csv --infer --set 'n=.price * .amount' "$T/in.csv"
	assert_output '{"timestamp":"2024-03-15 10:00:00","price":2.5,"amount":4,"n":10}'
	run -0 ingest --format csv --infer --normalize-time --set 'n=.price * .amount' "$T/in.csv"
	assert_output '{"timestamp":"2024-03-15T10:00:00Z","price":2.5,"amount":4,"n":10}'
}
@test "--set of the time field on CSV input: the set value is written" {
	printf 'timestamp,x\n2024-03-15 10:00:00,1\n' >"$T/in.csv"
	run -0 ingest --format csv --set 'timestamp=.timestamp + "Z"' "$T/in.csv"
	assert_output '{"timestamp":"2024-03-15 10:00:00Z","x":"1"}'
}
@test "--set across a growing record: 3,000 fields set on records past every buffer" {
	awk 'BEGIN { s = ""; for (i = 0; i < 5000; i++) s = s sprintf("\"k%d\":%d,", i, i); for (r = 0; r < 20; r++) printf "{%s\"r\":%d}\n", s, r }' >"$T/in"
	args=()
	for i in $(seq 0 2999); do args+=(--set "s$i=.k$i * 2 + .r"); done
	ingest "${args[@]}" "$T/in" | jq -c '[.s0, .s2999, .r, length]' >"$T/ours"
	jq -c '[.k0 * 2 + .r, .k2999 * 2 + .r, .r, length + 3000]' "$T/in" >"$T/jq"
	run diff "$T/ours" "$T/jq"
	assert_success
}
@test "a chain of 200 --set, each reading the one before, from a pipe" {
	args=(--set 'v0=.a')
	for i in $(seq 1 200); do args+=(--set "v$i=.v$((i - 1)) + 1"); done
	seq 1 300 | awk '{ printf "{\"a\":%d}\n", $1 }' | ingest "${args[@]}" | jq -c '[.a, .v200]' >"$T/ours"
	seq 1 300 | awk '{ printf "[%d,%d]\n", $1, $1 + 200 }' >"$T/want"
	run diff "$T/ours" "$T/want"
	assert_success
}

# Usage errors
@test "an invalid --set expression is a usage error with its column in NAME=EXPR" {
	run -2 --separate-stderr ingest --set 'n=.price * ' </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --set: column 12: expected a value after '*'" \
	    "Try 'ingest --help' for more information.")"
	run -2 --separate-stderr ingest --set 'é=1' </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --set: 'é' is not a field name: a plain name (letters, digits, _) or a quoted one, \"a.b\"=EXPR; only top-level fields can be set" \
	    "Try 'ingest --help' for more information.")"
	run -2 --separate-stderr ingest --set '"é"=.x | test("(")' </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --set: column 17: invalid regular expression: missing closing parenthesis" \
	    "Try 'ingest --help' for more information.")"
}
@test "a NAME that is a path, empty, or missing '=' is a usage error" {
	run -2 --separate-stderr ingest --set 'a.b=1' </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --set: 'a.b' is not a field name: a plain name (letters, digits, _) or a quoted one, \"a.b\"=EXPR; only top-level fields can be set" \
	    "Try 'ingest --help' for more information.")"
	run -2 --separate-stderr ingest --set '=1' </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --set: '' is not a field name: a plain name (letters, digits, _) or a quoted one, \"a.b\"=EXPR; only top-level fields can be set" \
	    "Try 'ingest --help' for more information.")"
	run -2 --separate-stderr ingest --set 'n' </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --set: expected NAME=EXPR: n" \
	    "Try 'ingest --help' for more information.")"
	run -2 --separate-stderr ingest --del 'a,b.c' </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --del: expected top-level field names separated by commas (quote other names: \"a.b\"): a,b.c" \
	    "Try 'ingest --help' for more information.")"
}
@test "a field both set and deleted, and reserved @ names, are usage errors" {
	run -2 --separate-stderr ingest --set 'a=1' --del b,a </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --set a and --del a: a field cannot be both set and deleted" \
	    "Try 'ingest --help' for more information.")"
	run -2 --separate-stderr ingest --set '"@watermark"=1' </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --set: '@watermark': names starting with '@' are reserved for control records" \
	    "Try 'ingest --help' for more information.")"
	run -2 --separate-stderr ingest --del '"@x"' </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --del: '@x': names starting with '@' are reserved for control records" \
	    "Try 'ingest --help' for more information.")"
}
@test "--normalize-time with --set or --del of the time field is a usage error" {
	run -2 --separate-stderr ingest --normalize-time --set 'timestamp=1' </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --normalize-time: the time field timestamp is also named by --set or --del" \
	    "Try 'ingest --help' for more information.")"
	run -2 ingest --normalize-time -t ts --del ts </dev/null
}
@test "watermarks pass --set and --del untouched" {
	printf '%s\n' '{"@watermark":"2024-03-15T10:00:00Z"}' '{"a":1}' >"$T/in"
	run -0 ingest --set 'b=.a + 1' --del a "$T/in"
	assert_output "$(printf '%s\n' '{"@watermark":"2024-03-15T10:00:00Z"}' '{"b":2}')"
}
@test "--help and the man page show --set and --del with an example" {
	run -0 ingest --help
	assert_output --partial '--set NAME=EXPR'
	assert_output --partial '--del F,...'
	assert_output --partial "ingest --set 'notional=.price * .amount'"
	run -0 grep -c 'Fl \\-set\|Fl \\-del' "$TESTS_DIR/../man/man1/ingest.1"
}

# The other tools' --where gets the new functions through lib/expr
@test "aggregate --where with a PCRE2 regex and floor counts what jq counts" {
	aggregate --where '.path | test("^/api/v\\d+/")' -g method count <"$EV" | jq -S -c . | sort >"$T/ours"
	jq -c 'select(.path | test("^/api/v\\d+/")) | .method' "$EV" | sort | uniq -c |
	    awk '{ printf "{\"count\":%d,\"method\":%s}\n", $1, $2 }' | sort >"$T/jq"
	run diff "$T/ours" "$T/jq"
	assert_success
}
@test "dedupe --where with gsub and if dedupes the records jq selects, passing the others" {
	w='if (.ip | gsub("\\d"; "") | length) == 3 then .status < 400 else false end'
	dedupe -k method --where "$w" <"$EV" >"$T/ours"
	# Expected: every record jq does not select, and the first selected one of each method.
	jq -r "[($w), .method] | @tsv" "$EV" |
	    awk -F '\t' '$1 == "false" || !seen[$2]++ { print NR }' >"$T/keep"
	awk 'NR == FNR { keep[$1]; next } FNR in keep' "$T/keep" "$EV" >"$T/want"
	[ "$(wc -l <"$T/want")" -lt 1990 ]
	run diff "$T/ours" "$T/want"
	assert_success
}
