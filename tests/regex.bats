#!/usr/bin/env bats
# Regular expressions as jq users write them (PCRE2 here, Oniguruma in jq): test, match,
# capture and gsub on 32 strings, for 44 patterns and flags, each compared with jq 1.6 on the
# same input in the test.

bats_require_minimum_version 1.5.0

setup() {
	load common-setup
	_common_setup
	S="$DATA/regex-strings.ndjson"
}

# same_re RE [FLAGS]: test, match (the first, or null) and, for a pattern with named groups,
# capture give what jq gives on every string; RE is written as inside a JSON string.
same_re() {
	local arg="\"$1\""
	[ $# -lt 2 ] || arg="\"$1\"; \"$2\""
	ingest --set "t=.s | test($arg)" --set "m=.s | match($arg)" "$S" | jq -S -c '[.t, .m]' >"$T/ours"
	jq -S -c "[(.s | test($arg)), ([.s | match($arg)] | .[0])]" "$S" >"$T/jq"
	run diff "$T/ours" "$T/jq"
	assert_success
	# At least one string matches and one does not: the pattern is exercised both ways.
	grep -q '^\[true' "$T/jq"
	grep -q '^\[false' "$T/jq"
	case "$1" in *'(?<'*)
		ingest --set "c=.s | capture($arg)" "$S" | jq -S -c .c >"$T/ours"
		jq -S -c "[.s | capture($arg)] | .[0]" "$S" >"$T/jq"
		run diff "$T/ours" "$T/jq"
		assert_success
	esac
}

# same_gsub RE [FLAGS]: gsub with a fixed replacement, and sub, give what jq gives (for
# patterns that cannot match the empty string, where jq 1.6's gsub loops).
same_gsub() {
	local re="\"$1\"" fl=""
	[ $# -lt 2 ] || fl="; \"$2\""
	ingest --set "g=.s | gsub($re; \"<>\"$fl)" --set "u=.s | sub($re; \"[]\"$fl)" "$S" |
	    jq -c '[.g, .u]' >"$T/ours"
	jq -c "[(.s | gsub($re; \"<>\"$fl)), (.s | sub($re; \"[]\"$fl))]" "$S" >"$T/jq"
	run diff "$T/ours" "$T/jq"
	assert_success
}

@test "regex \\d+ (digits)" { same_re '\\d+'; same_gsub '\\d+'; }
@test "regex \\d matches Unicode digits, as Oniguruma does" { same_re '^\\d'; }
@test "regex \\w+ (word characters, Unicode letters included)" { same_re '\\w+\\s'; same_gsub '\\w+'; }
@test "regex \\s+ (white space)" { same_re '\\s+'; same_gsub '\\s+'; }
@test "regex \\S+$ (anchored at the end)" { same_re '\\S+$'; }
@test "regex ^\\d+$ (whole string)" { same_re '^\\d+$'; }
@test "regex [a-z]+ (a class)" { same_re '[a-z]+'; same_gsub '[a-z]+'; }
@test "regex [^a-z ]+ (a negated class)" { same_re '[^a-z ]+'; same_gsub '[^a-z ]+'; }
@test "regex [[:alpha:]]+ (a POSIX class, Unicode-aware)" { same_re '[[:alpha:]]{5}'; same_gsub '[[:alpha:]]+'; }
@test "regex [[:digit:]]{2,} (a bounded repetition)" { same_re '[[:digit:]]{2,}'; same_gsub '[[:digit:]]{2,}'; }
@test "regex [[:upper:]]+" { same_re '[[:upper:]]+'; same_gsub '[[:upper:]]+'; }
@test "regex ^[A-Z] (anchor at the start)" { same_re '^[A-Z]'; }
@test "regex \\d$ (anchor at the end)" { same_re '\\d$'; }
@test "regex ^$ (the empty string)" { same_re '^$'; }
@test "regex cat|café|World (alternation)" { same_re 'cat|café|World'; same_gsub 'cat|café|World'; }
@test "regex (GET|POST) (\\S+) (groups)" { same_re '(GET|POST) (\\S+)'; same_gsub '(GET|POST) (\\S+)'; }
@test "regex a.*?b (non-greedy)" { same_re 'a.*?b'; same_gsub 'a.*?b'; }
@test "regex a.*b (greedy)" { same_re 'a.*b'; same_gsub 'a.*b'; }
@test "regex \\(.*?\\) (escaped parentheses, non-greedy)" { same_re '\\(.*?\\)'; same_gsub '\\(.*?\\)'; }
@test "regex with named captures user@domain" { same_re '(?<user>[^@ ]+)@(?<domain>.+)'; }
@test "regex with named captures for a date" { same_re '(?<y>\\d{4})-(?<m>\\d{2})-(?<d>\\d{2})'; same_gsub '(?<y>\\d{4})-(?<m>\\d{2})'; }
@test "regex with an optional named group that does not take part" { same_re '(?<a>a)(?<x>X)?(?<b>b)'; }
@test "regex \\bab\\b (word boundaries)" { same_re '\\bab\\b'; same_gsub '\\bab\\b'; }
@test "regex (ss)+ (a repeated group)" { same_re '(ss)+'; same_gsub '(ss)+'; }
@test "regex [0-9]+\\.[0-9]+ (an escaped dot)" { same_re '[0-9]+\\.[0-9]+'; same_gsub '[0-9]+\\.[0-9]+'; }
@test "regex x=(\\d+);y=(\\d+) (two groups)" { same_re 'x=(\\d+);y=(\\d+)'; }
@test "regex (?i)hello (an inline flag)" { same_re '(?i)hello'; same_gsub '(?i)hello'; }
@test "regex hello with the flag i" { same_re 'hello' i; same_gsub 'hello' i; }
@test "regex with the flags x and i: white space and comments ignored" { same_re 'h e l l o  # a comment' xi; same_gsub 'w o r l d' xi; }
@test "regex \\d+ # comment with the flag x" { same_re '\\d+ # digits' x; }
@test "regex é with the flag i matches É (Unicode case folding)" { same_re 'école' i; same_gsub 'é' i; }
@test "regex \\p{L}+ (a Unicode property)" { same_re '^\\p{Lu}\\p{Ll}+'; same_gsub '\\p{L}+'; }
@test "regex . matches one character of a multi-byte string" { same_re '^...$'; same_gsub '語.'; }
@test "regex (?<w>\\w+) \\k<w> (a named back-reference)" { same_re '(?<w>\\w+) \\k<w>'; same_gsub '(?<w>\\w+) \\k<w>'; }
@test "regex \\A\\w and \\z" { same_re '\\A\\w'; same_re '\\w\\z'; }
@test "regex [\\d.]+ (an escape inside a class)" { same_re '[\\d.]{3,}'; same_gsub '[\\d.]+'; }
@test "regex (?:ab)+ (a non-capturing group)" { same_re '(?:ab ?)+'; same_gsub '(?:ab ?)+'; }
@test "regex a{2,3} (a bounded count)" { same_re 'a{2,3}'; same_gsub 'a{2,3}'; }
@test "regex colou?r (an optional letter)" { same_re 'colou?r'; same_gsub 'colou?r'; }
@test "regex \\$\\d+ (an escaped dollar)" { same_re '\\$\\d+'; same_gsub '\\$\\d+'; }
@test "regex a\\nb and line ends: . does not match a newline" { same_re 'a.b'; same_re '1$'; same_re 'line2$'; }
@test "regex X+ with the flag g in test, which ignores it" {
	ingest --set 't=.s | test("X+"; "g")' "$S" | jq -c .t >"$T/ours"
	jq -c '.s | test("X+"; "g")' "$S" >"$T/jq"
	run diff "$T/ours" "$T/jq"
	assert_success
	grep -q true "$T/jq"
}
@test "regex gsub with the flag g and i together" { same_gsub 'x' gi; }
@test "regex sub replaces the first match only, gsub all" {
	ingest --set 'v=.s | sub("[aeiou]"; "_")' "$S" | jq -c .v >"$T/ours"
	jq -c '.s | sub("[aeiou]"; "_")' "$S" >"$T/jq"
	run diff "$T/ours" "$T/jq"
	assert_success
}
@test "regex split with a pattern" {
	ingest --set 'v=.s | split("[ ;=]+"; null)' "$S" | jq -c .v >"$T/ours"
	jq -c '.s | split("[ ;=]+"; null)' "$S" >"$T/jq"
	run diff "$T/ours" "$T/jq"
	assert_success
}

@test "=~ and test select the same records, and what jq selects, with --where" {
	run -0 ingest --where '.s =~ "\\d{2}"' "$S"
	ours="$output"
	run -0 jq -c 'select(.s | test("\\d{2}"))' "$S"
	assert_equal "$ours" "$output"
	[ -n "$output" ]
}

@test "match, capture and sub with no match: null, null and the input" {
	printf '%s\n' '{"s":"abc"}' >"$T/in"
	run -0 ingest --set 'm=.s | match("x")' --set 'c=.s | capture("(?<n>x)")' --set 'u=.s | sub("x"; "y")' "$T/in"
	assert_output '{"s":"abc","m":null,"c":null,"u":"abc"}'
}

@test "a regex that fails to compile is a usage error with its column, in every regex function" {
	for f in test match capture split; do
		run -2 --separate-stderr ingest --where ".s | $f(\"a(b\"; null)" </dev/null
		assert_equal "$stderr" "$(printf '%s\n' "ingest: --where: column $((${#f} + 11)): invalid regular expression: missing closing parenthesis" \
		    "Try 'ingest --help' for more information.")"
	done
	run -2 --separate-stderr ingest --set 'v=.s | gsub("[z-a]"; "")' </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --set: column 17: invalid regular expression: range out of order in character class" \
	    "Try 'ingest --help' for more information.")"
	run -2 --separate-stderr ingest --where '.s | test("a"; "gz")' </dev/null
	assert_equal "$stderr" "$(printf '%s\n' "ingest: --where: column 16: invalid regular expression flags: unknown flag 'z' (g i x n s p)" \
	    "Try 'ingest --help' for more information.")"
}

@test "a regex matches past a NUL in the subject, as jq" {
	printf '%s\n' '{"x":1}' >"$T/in"
	run -0 ingest --set 'a="a\u0000b" | test("b$")' --set 'b="a\u0000b" | test("^a$")' \
	    --set 'c="a\u0000b" | test("a\u0000b")' "$T/in"
	assert_output '{"x":1,"a":true,"b":false,"c":true}'
	run -0 jq -c '.a = ("a\u0000b" | test("b$")) | .b = ("a\u0000b" | test("^a$")) | .c = ("a\u0000b" | test("a\u0000b"))' "$T/in"
	assert_output '{"x":1,"a":true,"b":false,"c":true}'
}
