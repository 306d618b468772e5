#!/usr/bin/env bats
# The filter language (lib/expr) through ingest --where and --check, and a differential test against jq.

bats_require_minimum_version 1.5.0

setup_file() {
	# 10,000 generated events, shared by the differential tests of this file.
	awk -v n=10000 -v seed=42 -f "$BATS_TEST_DIRNAME/data/gen-expr.awk" >"$BATS_FILE_TMPDIR/events.ndjson"
}

setup() {
	load common-setup
	_common_setup
	EV="$BATS_FILE_TMPDIR/events.ndjson"
}

# same_as_jq E: ingest --where E keeps exactly the records (by id) that jq -c 'select(E)' keeps.
same_as_jq() {
	ingest --where "$1" "$EV" | cut -d, -f1 >"$T/ours"
	jq -c "select($1)" "$EV" | cut -d, -f1 >"$T/jq"
	[ -s "$T/jq" ] || [ "${2:-}" = may-be-empty ]
	run diff "$T/ours" "$T/jq"
	assert_success
}

@test "the generated file has 10,000 records and jq accepts all of them" {
	run jq -c . "$EV"
	assert_success
	[ "$(wc -l <"$EV")" -eq 10000 ]
}

@test "a real greater-than selects what jq selects" { same_as_jq '.value > 50'; }
@test "greater-or-equal against a fraction selects what jq selects" { same_as_jq '.value >= 50.5'; }
@test "less-than selects what jq selects" { same_as_jq '.value < 10'; }
@test "less-or-equal selects what jq selects" { same_as_jq '.value <= 25.25'; }
@test "a real compared with an integer literal selects what jq selects" { same_as_jq '.value == 50'; }
@test "integer equality selects what jq selects" { same_as_jq '.n == 7'; }
@test "an integer field equals a real literal as jq says" { same_as_jq '.n == 7.0'; }
@test "inequality selects what jq selects" { same_as_jq '.n != 7'; }
@test "string equality selects what jq selects" { same_as_jq '.page == "checkout"'; }
@test "string inequality selects what jq selects" { same_as_jq '.page != "home"'; }
@test "string ordering is byte order as in jq" { same_as_jq '.page < "m"'; }
@test "string greater-or-equal selects what jq selects" { same_as_jq '.page >= "products"'; }
@test "and binds tighter than or, as in jq" { same_as_jq '.action == "click" or .action == "view" and .value > 90'; }
@test "parentheses group as in jq" { same_as_jq '.value > 50 and (.page == "home" or .page == "cart")'; }
@test "the filter not after a pipe negates as in jq" { same_as_jq '.value > 50 | not'; }
@test "modulo selects what jq selects" { same_as_jq '.n % 3 == 0'; }
@test "multiplication before addition, as in jq" { same_as_jq '.n * 2 + 1 > 15'; }
@test "subtraction of two fields selects what jq selects" { same_as_jq '.value - .n > 40'; }
@test "division selects what jq selects" { same_as_jq '.value / 2 < 10'; }
@test "unary minus selects what jq selects" { same_as_jq '-.value < -50'; }
@test "a nested path selects what jq selects" { same_as_jq '.user.id == "user_7"'; }
@test "a nested number compared with arithmetic on another field" { same_as_jq '.user.age > .n * 5'; }
@test "a three-level path selects what jq selects" { same_as_jq '.nested.a.b == 3'; }
@test "an array index selects what jq selects" { same_as_jq '.tags[0] == "a"'; }
@test "a negative array index selects what jq selects" { same_as_jq '.tags[-1] == "c"'; }
@test "an index past the end is null as in jq" { same_as_jq '.tags[2] == null'; }
@test "a quoted key selects what jq selects" { same_as_jq '."odd key" == 1'; }
@test "array length selects what jq selects" { same_as_jq '.tags | length == 2'; }
@test "string length selects what jq selects" { same_as_jq '.page | length > 4'; }
@test "startswith selects what jq selects" { same_as_jq '.page | startswith("pro")'; }
@test "endswith selects what jq selects" { same_as_jq '.page | endswith("out")'; }
@test "contains on strings selects what jq selects" { same_as_jq '.page | contains("ar")'; }
@test "ascii_downcase selects what jq selects" { same_as_jq '.page | ascii_downcase == "home"'; }
@test "ascii_upcase selects what jq selects" { same_as_jq '.page | ascii_upcase == "CART"'; }
@test "a boolean field alone selects what jq selects" { same_as_jq '.flag'; }
@test "a boolean compared with false selects what jq selects" { same_as_jq '.flag == false'; }
@test "test with a simple regex selects what jq selects" { same_as_jq '.session | test("^s_1[0-9]$")'; }
@test "IN over literals selects what jq selects" { same_as_jq '.page | IN("home", "cart", "search")'; }
@test "has selects what jq selects" { same_as_jq 'has("coupon")'; }
@test "a missing field equals null as in jq" { same_as_jq '.coupon == null'; }
@test "tonumber selects what jq selects" { same_as_jq '.svalue | tonumber > 50'; }
@test "tostring selects what jq selects" { same_as_jq '.n | tostring == "7"'; }
@test "a pipe into a path joins the paths as in jq" { same_as_jq '.user | .age > 60 and .id == "user_3"'; }
@test "a false literal selects nothing, as in jq" { same_as_jq 'false' may-be-empty; }

@test "--where keeps the records for which the expression is true, byte for byte" {
	printf '%s\n' '{"v": 1}' '{"v":60.50, "p":"x"}' '{"v":51}' >"$T/in"
	run -0 --separate-stderr ingest --where '.v > 50' "$T/in"
	assert_output "$(printf '%s\n' '{"v":60.50, "p":"x"}' '{"v":51}')"
	assert_equal "$stderr" ""
}

@test "--where counts dropped records as filtered, not rejected, and exits 0" {
	printf '%s\n' '{"v":1}' '{"v":60}' '{"w":70}' '{"v":"99"}' >"$T/in"
	run -0 --separate-stderr ingest --stats --where '.v > 50' "$T/in"
	assert_output '{"v":60}'
	[[ "$stderr" == '{"tool":"ingest","records_in":4,"records_out":1,"rejected":0,"filtered":3,'* ]]
}

@test "--where drops a record whose field is missing or of another type" {
	printf '%s\n' '{"v":"60"}' '{}' '{"v":null}' '{"v":[60]}' '{"v":60}' >"$T/in"
	run -0 ingest --where '.v > 50' "$T/in"
	assert_output '{"v":60}'
}

@test "--where passes watermarks through untouched" {
	printf '%s\n' '{"@watermark":"2024-03-15T10:00:00Z"}' '{"v":1}' >"$T/in"
	run -0 ingest --where '.v > 50' "$T/in"
	assert_output '{"@watermark":"2024-03-15T10:00:00Z"}'
}

@test "--where with a regular expression and a function" {
	printf '%s\n' '{"p":"/a/b.html"}' '{"p":"/a/b.css"}' '{"p":"/A/C.HTML"}' >"$T/in"
	run -0 ingest --where '.p | lower =~ "\\.html$"' "$T/in"
	assert_output "$(printf '%s\n' '{"p":"/a/b.html"}' '{"p":"/A/C.HTML"}')"
}

@test "--where with in keeps the records whose field is one of the literals" {
	printf '%s\n' '{"page":"home"}' '{"page":"cart"}' '{"page":"checkout"}' >"$T/in"
	run -0 ingest --where '.page in ["home", "checkout"]' "$T/in"
	assert_output "$(printf '%s\n' '{"page":"home"}' '{"page":"checkout"}')"
}

@test "--where given twice uses the last expression" {
	printf '%s\n' '{"v":1}' '{"v":60}' >"$T/in"
	run -0 ingest --where '.v > 50' --where '.v < 50' "$T/in"
	assert_output '{"v":1}'
}

@test "--check rejects failing records to the dead-letter with the expression in the reason" {
	printf '%s\n' '{"v":60}' '{"v":1}' '{"v":70}' >"$T/in"
	run -0 --separate-stderr ingest --dead-letter "$T/dl" --check '.v > 50' "$T/in"
	assert_output "$(printf '%s\n' '{"v":60}' '{"v":70}')"
	assert_equal "$stderr" ""
	assert_equal "$(cat "$T/dl")" \
	    "{\"file\":\"$T/in\",\"line\":2,\"offset\":9,\"reason\":\"check failed: .v > 50\",\"raw\":\"{\\\"v\\\":1}\"}"
}

@test "--check without a dead-letter reports the record and exits 1" {
	printf '%s\n' '{"v":60}' '{"v":1}' >"$T/in"
	run -1 --separate-stderr ingest --check '.v > 50' "$T/in"
	assert_output '{"v":60}'
	assert_equal "$stderr" "$(printf '%s\n' "ingest: $T/in:2: check failed: .v > 50" \
	    "ingest: 1 record rejected (use --dead-letter FILE to keep them)")"
}

@test "--check counts rejected records in --stats" {
	printf '%s\n' '{"v":60}' '{"v":1}' '{}' >"$T/in"
	run -0 --separate-stderr ingest --stats --dead-letter "$T/dl" --check 'exists(.v)' "$T/in"
	assert_output '{"v":60}
{"v":1}'
	[[ "$stderr" == '{"tool":"ingest","records_in":3,"records_out":2,"rejected":1,'* ]]
}

@test "--check runs before --where, so a bad record is rejected even when --where would drop it" {
	printf '%s\n' '{"v":60,"ok":true}' '{"v":1,"ok":false}' '{"v":2,"ok":true}' >"$T/in"
	run -0 --separate-stderr ingest --stats --dead-letter "$T/dl" --check '.ok' --where '.v > 50' "$T/in"
	assert_output '{"v":60,"ok":true}'
	[[ "$stderr" == *'"records_in":3,"records_out":1,"rejected":1,"filtered":1,'* ]]
	run -0 jq -r .reason "$T/dl"
	assert_output 'check failed: .ok'
}

@test "--check with --strict stops at the first failing record with status 1" {
	printf '%s\n' '{"v":60}' '{"v":1}' '{"v":70}' >"$T/in"
	run -1 --separate-stderr ingest --strict --check '.v > 50' "$T/in"
	assert_output '{"v":60}'
	[[ "$stderr" == "ingest: $T/in:2: check failed: .v > 50"* ]]
}

@test "a --where syntax error names the option and the column and exits 2" {
	run -2 --separate-stderr ingest --where '.value > 50 and .page >' </dev/null
	assert_output ''
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --where: column 24: expected a value after '>'" \
	    "Try 'ingest --help' for more information.")"
}

@test "a --check syntax error names the option and the column and exits 2" {
	run -2 --separate-stderr ingest --check 'exists(.a) and value > 3' </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --check: column 16: unknown name 'value' (a field is written .value)" \
	    "Try 'ingest --help' for more information.")"
}

@test "a bad regular expression is a compile error with status 2 and the column of the problem" {
	run -2 --separate-stderr ingest --where '.p =~ "a(2"' </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --where: column 11: invalid regular expression: missing closing parenthesis" \
	    "Try 'ingest --help' for more information.")"
}

@test "--help lists --where and --check" {
	run -0 ingest --help
	assert_output --partial '--where EXPR'
	assert_output --partial '--check EXPR'
}

# Issue 11.2: nesting is bounded with a usage error, and long chains cost no stack.

# rep S N writes S N times.
rep() {
	awk -v s="$1" -v n="$2" 'BEGIN { for (i = 0; i < n; i++) printf "%s", s }'
}

@test "257 nested parentheses are refused at the 257th with status 2, not a crash" {
	deep="$(rep '(' 257).a$(rep ')' 257)"
	run -2 --separate-stderr ingest --where "$deep" </dev/null
	assert_output ''
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --where: column 257: expression nested more than 256 levels deep" \
	    "Try 'ingest --help' for more information.")"
}

@test "256 nested parentheses still compile and select" {
	deep="$(rep '(' 256).a == 1$(rep ')' 256)"
	printf '%s\n' '{"a":1}' '{"a":2}' >"$T/in"
	run -0 ingest --where "$deep" "$T/in"
	assert_output '{"a":1}'
}

@test "60,000 nested parentheses in --check are a usage error with status 2" {
	deep="$(rep '(' 60000).a$(rep ')' 60000)"
	run -2 --separate-stderr ingest --check "$deep" </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --check: column 257: expression nested more than 256 levels deep" \
	    "Try 'ingest --help' for more information.")"
}

@test "a deep chain of prefix not and minus is refused at its column" {
	run -2 --separate-stderr ingest --where "$(rep 'not ' 30000).a" </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --where: column 1025: expression nested more than 256 levels deep" \
	    "Try 'ingest --help' for more information.")"
	run -2 --separate-stderr ingest --where "$(rep '-' 60000)1 > 0" </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --where: column 257: expression nested more than 256 levels deep" \
	    "Try 'ingest --help' for more information.")"
}

@test "a flat sum of 42,000 terms evaluates without recursing per term" {
	printf '%s\n' '{"a":1}' '{"a":2}' >"$T/in"
	run -0 ingest --where "$(rep '.a+' 41999).a == 42000" "$T/in"
	assert_output '{"a":1}'
}

@test "flat or, and and pipe chains as long as a command line allows evaluate" {
	printf '%s\n' '{"a":1}' '{"a":2}' >"$T/in"
	run -0 ingest --where "$(rep '.z or ' 20000).a == 2" "$T/in"
	assert_output '{"a":2}'
	run -0 ingest --where "1 $(rep 'and 1 ' 20000)and .a == 2" "$T/in"
	assert_output '{"a":2}'
	run -0 ingest --where ".a$(rep '|.+1' 25000)|.==25001" "$T/in"
	assert_output '{"a":1}'
}

@test "an empty quoted field name compiles and is a missing field (11.3)" {
	printf '%s\n' '{"":1}' '{"a":1}' >"$T/in"
	run -0 ingest --where '."" == 1' "$T/in"
	assert_output '{"":1}'
	run -0 ingest --where '.[""] == 1' "$T/in"
	assert_output '{"":1}'
}

# Issue 11.13, now on PCRE2: a pattern past PCRE2's limits is refused at compile time; a
# catastrophic one stops at the match limit instead of hanging.

@test "a repetition count past PCRE2's limit is refused at its column" {
	run -2 --separate-stderr ingest --check '.s =~ "x[0-9]{1,99999}"' </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --check: column 22: invalid regular expression: number too big in {} quantifier" \
	    "Try 'ingest --help' for more information.")"
}

@test "stacked repetitions are refused at the first one PCRE2 cannot take" {
	run -2 --separate-stderr ingest --where '.s =~ "a+*++++++++++++"' </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --where: column 10: invalid regular expression: quantifier does not follow a repeatable item" \
	    "Try 'ingest --help' for more information.")"
}

@test "groups nested 40,000 deep are refused instead of overflowing a stack" {
	run -2 --separate-stderr ingest --where ".s =~ \"$(rep '(' 40000)a$(rep ')' 40000)\"" </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --where: column 259: invalid regular expression: parentheses are too deeply nested" \
	    "Try 'ingest --help' for more information.")"
}

@test "ordinary bounded repetitions still match" {
	printf '%s\n' '{"s":"2024-03-15"}' '{"s":"24-3-15"}' '{"s":"aaa"}' >"$T/in"
	run -0 ingest --where '.s =~ "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" or .s =~ "^(a{1,500}){1,10}$"' "$T/in"
	assert_output "$(printf '%s\n' '{"s":"2024-03-15"}' '{"s":"aaa"}')"
}

@test "a catastrophic regex on 200 records stops at the match limit: --where rejects them with the reason" {
	awk 'BEGIN { for (i = 0; i < 200; i++) { s = ""; for (j = 0; j < 30 + i % 5; j++) s = s "a"; printf "{\"i\":%d,\"s\":\"%sb\"}\n", i, s } }' >"$T/in"
	printf '%s\n' '{"i":-1,"s":"aaaa"}' >>"$T/in"
	run -0 --separate-stderr ingest --stats --dead-letter "$T/dl" --where '.s | test("^(a|aa)+$")' "$T/in"
	assert_output '{"i":-1,"s":"aaaa"}'
	[[ "$stderr" == '{"tool":"ingest","records_in":201,"records_out":1,"rejected":200,"filtered":0,'* ]]
	run -0 jq -r .reason "$T/dl"
	[ "${#lines[@]}" -eq 200 ]
	[ "$(printf '%s\n' "${lines[@]}" | sort -u)" = "--where: regular expression too costly on this value (stopped after 1000000 steps)" ]
}
