#!/usr/bin/env bats
# Sizes where bugs hide: gzip files around lib/input's buffers for every tool and
# every way of giving input, lines at the buffer sizes, and 10^5 groups, sessions
# and keys against an independent count.  lib/input's sizes: the line buffer
# starts at 256 KiB and doubles, the zlib input buffer is 128 KiB, a pipe gives
# at most 64 KiB per read.

setup_file() {
	TESTS_DIR="$(cd "$(dirname "$BATS_TEST_FILENAME")" && pwd)"
	PATH="${NDFLOW_BIN:-$TESTS_DIR/../build/bin}:$PATH"
	export LC_ALL=C
	D="$BATS_FILE_TMPDIR"
	GEN="$TESTS_DIR/../build/gen"
	# Web events with a random "pad" so that gzip barely shrinks them (about
	# 520 bytes of gzip per line): the compressed sizes are easy to aim at.
	"$GEN" 42000 7 > "$D/ev"
	head -c 21000000 /dev/urandom | base64 -w 664 | head -n 42000 > "$D/pad"
	paste "$D/ev" "$D/pad" | sed 's/}\t/,"pad":"/; s/$/"}/' > "$D/all"
	head -n 200 "$D/all" | gzip -1 -n > "$D/sample.gz"
	per_line=$(( $(stat -c %s "$D/sample.gz") / 200 ))
	# sN.gz holds the first lines of all, gzip just under N KiB (129: just
	# over 128 KiB); sN.ndjson is the same uncompressed.  The small sizes are
	# aimed at in a few steps, the large ones to within a few percent.
	for kib in 1 127 129 1024 20480; do
		goal=$(( kib == 129 ? 128 * 1024 + per_line : kib * 1024 - per_line ))
		n=$(( goal / per_line )); [ "$n" -ge 1 ] || n=1
		for step in 1 2 3 4 5 6; do
			head -n "$n" "$D/all" > "$D/s$kib.ndjson"
			gzip -1 -n -c "$D/s$kib.ndjson" > "$D/s$kib.gz"
			size=$(stat -c %s "$D/s$kib.gz")
			[ "$kib" -ge 1024 ] && break
			if [ "$kib" = 129 ]; then
				[ "$size" -gt $(( 128 * 1024 )) ] && [ "$size" -le $(( 129 * 1024 )) ] && break
			else
				[ "$size" -le $(( kib * 1024 )) ] && [ "$size" -gt $(( kib * 1024 - 1024 )) ] && break
			fi
			n=$(( n + (goal - size) / per_line )); [ "$n" -ge 1 ] || n=1
		done
	done
	export D
}

setup() {
	load common-setup
	_common_setup
	D="$BATS_FILE_TMPDIR"
}

# Each tool with arguments that keep every record busy; window's lateness keeps the generator's disorder on time.
tool_args() {
	case $1 in
	ingest)		echo "ingest --require user_id" ;;
	window)		echo "window --tumbling 1m --lateness 5s" ;;
	aggregate)	echo "aggregate -g page,action count sum:value max:pad" ;;
	dedupe)		echo "dedupe -k user_id,page" ;;
	esac
}

# same_as_zcat TOOL GZ: the tool gives what zcat GZ | tool gives, whichever way it gets the file.
same_as_zcat() {
	local t=$1 gz=$2 cmd
	cmd=$(tool_args "$t")
	zcat "$gz" | $cmd > "$T/want" || return 1
	[ -s "$T/want" ] || { echo "$t gave nothing from a pipe"; return 1; }
	if [ "$t" = aggregate ]; then
		$cmd -i "$gz" > "$T/got" || { echo "$t -i $gz: status $?"; return 1; }
		cmp "$T/want" "$T/got" || { echo "$t -i $gz differs"; return 1; }
	else
		$cmd "$gz" > "$T/got" || { echo "$t $gz: status $?"; return 1; }
		cmp "$T/want" "$T/got" || { echo "$t $gz differs"; return 1; }
	fi
	$cmd < "$gz" > "$T/got" || { echo "$t < $gz: status $?"; return 1; }
	cmp "$T/want" "$T/got" || { echo "$t < $gz differs"; return 1; }
}

@test "the generated gzip files straddle the buffer sizes" {
	size() { stat -c %s "$D/s$1.gz"; }
	[ "$(size 1)" -le 1024 ]
	[ "$(size 127)" -le $(( 127 * 1024 )) ] && [ "$(size 127)" -gt $(( 126 * 1024 )) ]
	[ "$(size 129)" -gt $(( 128 * 1024 )) ] && [ "$(size 129)" -le $(( 129 * 1024 )) ]
	[ "$(size 1024)" -gt $(( 1000 * 1024 )) ] && [ "$(size 1024)" -le $(( 1048 * 1024 )) ]
	[ "$(size 20480)" -gt $(( 20000 * 1024 )) ] && [ "$(size 20480)" -le $(( 20960 * 1024 )) ]
}

@test "every tool reads 1 KiB and 127 KiB gzip files as zcat does, as operand, -i and < file" {
	for t in ingest window aggregate dedupe; do
		same_as_zcat $t "$D/s1.gz"
		same_as_zcat $t "$D/s127.gz"
	done
}

@test "every tool reads a 129 KiB gzip file as zcat does, as operand, -i and < file" {
	for t in ingest window aggregate dedupe; do
		same_as_zcat $t "$D/s129.gz"
	done
}

@test "every tool reads a 1 MiB gzip file as zcat does, as operand, -i and < file" {
	for t in ingest window aggregate dedupe; do
		same_as_zcat $t "$D/s1024.gz"
	done
}

@test "every tool reads a 20 MiB gzip file as zcat does, as operand, -i and < file" {
	for t in ingest window aggregate dedupe; do
		same_as_zcat $t "$D/s20480.gz"
	done
}

@test "a gzip file over 128 KiB passes through ingest byte-identical, with no message" {
	run -0 --separate-stderr ingest "$D/s129.gz"
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" "$(wc -l < "$D/s129.ndjson")"
	ingest "$D/s129.gz" | cmp - "$D/s129.ndjson"
}

@test "gzip delivered one byte first, then the rest, is still gzip" {
	# The writer waits until the reader has taken the first byte (FIONREAD on the pipe is 0),
	# so ingest's first read gets exactly one byte.
	run -0 --separate-stderr bash -c 'perl -e '\''
		open(my $f, "<:raw", $ARGV[0]) or die; local $/; my $d = <$f>; $| = 1; binmode STDOUT;
		print substr($d, 0, 1);
		for (;;) { my $n = pack("i", 0); ioctl(STDOUT, 0x541B, $n) or die "ioctl: $!";
			last if unpack("i", $n) == 0; select(undef, undef, undef, 0.005); }
		print substr($d, 1);'\'' "$1" | ingest | cmp - "$2"' _ "$D/s1.gz" "$D/s1.ndjson"
	assert_equal "$stderr" ""
}

@test "zero padding after a gzip stream is ignored, as gzip does" {
	{ cat "$D/s129.gz"; head -c 10240 /dev/zero; } > "$T/pad.gz"
	run -0 --separate-stderr ingest "$T/pad.gz"
	assert_equal "$stderr" ""
	ingest "$T/pad.gz" | cmp - "$D/s129.ndjson"
	ingest < "$T/pad.gz" | cmp - "$D/s129.ndjson"
	cat "$T/pad.gz" | ingest | cmp - "$D/s129.ndjson"
}

@test "bytes after the zero padding are an error, status 3, after every line before them" {
	{ cat "$D/s1.gz"; head -c 100 /dev/zero; printf 'x'; } > "$T/junk.gz"
	run -3 --separate-stderr ingest "$T/junk.gz"
	assert_equal "$stderr" "ingest: $T/junk.gz: gzip data is corrupt (bytes after the zero padding)"
	assert_output "$(cat "$D/s1.ndjson")"
}

@test "concatenated gzip members each over 128 KiB read as one stream" {
	cat "$D/s129.gz" "$D/s127.gz" "$D/s129.gz" > "$T/cat.gz"
	cat "$D/s129.ndjson" "$D/s127.ndjson" "$D/s129.ndjson" > "$T/cat.ndjson"
	run -0 --separate-stderr bash -c 'ingest "$1" | cmp - "$2" && ingest < "$1" | cmp - "$2" &&
	    aggregate -i "$1" count | grep -qx "{\"count\":$(wc -l < "$2")}"' _ "$T/cat.gz" "$T/cat.ndjson"
	assert_equal "$stderr" ""
}

# long_line N: a JSON object line of exactly N bytes before its newline.
long_line() {
	printf '{"s":"'
	head -c $(( $1 - 8 )) /dev/zero | tr '\0' x
	printf '"}\n'
}

@test "lines one under, at and one over 64, 128, 256 and 512 KiB read whole from files, pipes and gzip" {
	for kib in 64 128 256 512; do
		for d in -1 0 1; do
			n=$(( kib * 1024 + d ))
			{ echo '{"a":1}'; long_line $n; echo '{"b":2}'; } > "$T/in"
			gzip -c "$T/in" > "$T/in.gz"
			ingest "$T/in" | cmp - "$T/in" || { echo "file, $n"; false; }
			cat "$T/in" | ingest | cmp - "$T/in" || { echo "pipe, $n"; false; }
			ingest "$T/in.gz" | cmp - "$T/in" || { echo "gzip, $n"; false; }
			cat "$T/in.gz" | ingest | cmp - "$T/in" || { echo "gzip pipe, $n"; false; }
			# A line that starts the file: it alone fills the first read.
			long_line $n > "$T/first"
			ingest "$T/first" | cmp - "$T/first" || { echo "first line, $n"; false; }
		done
	done
}

@test "--max-line-bytes at the line buffer's size: one under and at it pass, one over is rejected in place" {
	for how in file pipe gzip; do
		{ long_line 262143; long_line 262144; long_line 262145; printf '{bad\n'; } > "$T/in"
		case $how in
		file)	run -1 --separate-stderr ingest --max-line-bytes 256K "$T/in"; f="$T/in" ;;
		pipe)	run -1 --separate-stderr bash -c 'cat "$1" | ingest --max-line-bytes 256K' _ "$T/in"; f=- ;;
		gzip)	gzip "$T/in"; run -1 --separate-stderr ingest --max-line-bytes 256K "$T/in.gz"; f="$T/in.gz" ;;
		esac
		assert_equal "${#lines[@]}" 2
		assert_equal "$stderr" "ingest: $f:3: line longer than 262144 bytes (--max-line-bytes)
ingest: $f:4: invalid JSON at column 2: string or '}' expected
ingest: 2 records rejected (use --dead-letter FILE to keep them)"
		rm -f "$T/in" "$T/in.gz"
	done
}

@test "after a streamed over-long line, later lines keep their numbers in messages" {
	{ echo '{"a":1}'; long_line 300000; printf '{bad\n{"b":2}\n'; } > "$T/in"
	run -1 --separate-stderr ingest --max-line-bytes 1K "$T/in"
	assert_output '{"a":1}
{"b":2}'
	assert_equal "$stderr" "ingest: $T/in:2: line longer than 1024 bytes (--max-line-bytes)
ingest: $T/in:3: invalid JSON at column 2: string or '}' expected
ingest: 2 records rejected (use --dead-letter FILE to keep them)"
}

@test "after a streamed over-long line, the dead-letter, records_in and the offset file count it once" {
	{ echo '{"a":1}'; long_line 300000; printf '{bad\n{"b":2}\n'; } > "$T/in"
	run -0 --separate-stderr ingest --max-line-bytes 1K --dead-letter "$T/dl" --stats --offset-file "$T/off" "$T/in"
	assert_output '{"a":1}
{"b":2}'
	assert_equal "$(jq -c '.records_in' <<< "$stderr")" 4
	run jq -r '[.line, .offset, (has("raw") | tostring), .reason] | @tsv' "$T/dl"
	assert_output "2	8	true	line longer than 1024 bytes (--max-line-bytes)
3	300009	true	invalid JSON at column 2: string or '}' expected"
	jq -j .raw "$T/dl" | head -c 300000 | cmp - <(sed -n 2p "$T/in" | tr -d '\n')
	run jq -r 'select(.tool == "ingest") | [.line, .offset] | @tsv' "$T/off.pending"
	assert_output "4	$(stat -c %s "$T/in")"
}

@test "a streamed over-long line that is not UTF-8 is kept as raw_b64, byte-exact" {
	{ printf '{"s":"\xff'; long_line 300000; } > "$T/in"
	run -0 --separate-stderr ingest --max-line-bytes 1K --dead-letter "$T/dl" "$T/in"
	run jq -r 'has("raw_b64")' "$T/dl"
	assert_output true
	jq -r .raw_b64 "$T/dl" | base64 -d | cmp - <(head -c -1 "$T/in")
}

@test "10^5 groups: aggregate -g agrees with awk" {
	awk 'BEGIN { for (i = 0; i < 200000; i++) printf "{\"g\":\"k%d\",\"v\":%d}\n", (i * 7919) % 100000, i % 13 }' > "$T/in"
	gzip -c "$T/in" > "$T/in.gz"
	aggregate -g g -i "$T/in.gz" count sum:v > "$T/out"
	head -1 "$T/out" | grep -Eqx '\{"g":"k[0-9]+","count":[0-9]+,"v_sum":[0-9]+\}'
	awk -F'[":,}]+' '{ print $3 "\t" $5 "\t" $7 }' "$T/out" | sort > "$T/got"
	awk -F'"' '{ split($7, a, /[:}]/); n[$4]++; s[$4] += a[2] } END { for (k in n) printf "%s\t%d\t%d\n", k, n[k], s[k] }' "$T/in" | sort > "$T/want"
	assert_equal "$(wc -l < "$T/want")" 100000
	cmp "$T/want" "$T/got"
}

@test "10^5 sessions: window --session with --key agrees with awk" {
	# Key k has events at minutes 0, 1 and 3 (plus k % 30 s): with a 90 s gap, two sessions each.
	awk 'BEGIN {
		for (r = 0; r < 3; r++) for (k = 0; k < 50000; k++)
			printf "{\"u\":\"u%d\",\"timestamp\":%d}\n", k, 1710460800 + (r == 2 ? 180 : r * 60) + k % 30
	}' > "$T/in"
	window --session 90s --key u "$T/in" > "$T/out" 2> "$T/err"
	assert_equal "$(cat "$T/err")" ""
	# Every event is on 2024-03-15 (epoch 1710460800 at midnight): times to epoch by hand, not by jq, for speed.
	grep '"u"' "$T/out" | awk -F'"' '
		function ep(t) { return 1710460800 + substr(t, 12, 2) * 3600 + substr(t, 15, 2) * 60 + substr(t, 18, 2) }
		{ print $4 "\t" ep($10) "\t" ep($14) }' | sort | uniq -c | awk '{ printf "%s\t%s\t%s\t%s\n", $2, $3, $4, $1 }' > "$T/got"
	assert_equal "$(head -1 "$T/got")" "$(printf 'u0\t1710460800\t1710460950\t2')"
	# Sessions by hand: sort each key's times; a gap over 90 s starts a new one (touching ones merge).
	awk -F'[":,}]+' '{ print $3 "\t" $5 }' "$T/in" | sort -t "$(printf '\t')" -k1,1 -k2,2n | awk -F'\t' '
		function out() { if (n) printf "%s\t%d\t%d\t%d\n", key, s, e + 90, n }
		$1 != key || $2 > e + 90 { out(); key = $1; s = $2; n = 0 }
		{ e = $2; n++ }
		END { out() }' | sort > "$T/want"
	assert_equal "$(wc -l < "$T/want")" 100000
	cmp "$T/want" "$T/got"
}

@test "10^5 keys: dedupe -k agrees with sort -u" {
	awk 'BEGIN { for (i = 0; i < 250000; i++) printf "{\"k\":\"x%d\",\"i\":%d}\n", (i * 104729) % 100000, i }' > "$T/in"
	dedupe -k k "$T/in" > "$T/got"
	assert_equal "$(wc -l < "$T/got")" 100000
	# The first record of each key: awk's first-seen, in input order.
	awk -F'"' '!seen[$4]++' "$T/in" | cmp - "$T/got"
	jq -r .k "$T/got" | sort -u | wc -l | grep -qx 100000
}
