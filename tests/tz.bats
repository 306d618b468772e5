#!/usr/bin/env bats
# --tz and calendar windows; ISO 8601 basic forms and numeric strings.
# Every expected window below is worked out by Python's zoneinfo (or
# `TZ=... date`) in the test, never by ndflow.

bats_require_minimum_version 1.5.0

setup() { load common-setup; _common_setup; }

# expect ZONE UNIT N WEEKSTART FROM TO STEP: writes $T/in, one event every
# STEP minutes from FROM to TO (UTC, written with Z), and $T/want, one line
# "start end hours count" per calendar window (ZONE "-" is UTC), from Python.
expect() {
	python3 - "$@" <<-'EOF'
	import sys, os
	from datetime import datetime, timedelta, timezone, time
	from zoneinfo import ZoneInfo
	zone, unit, n, ws, frm, to, step = sys.argv[1:8]
	n, ws, step = int(n), int(ws), int(step)
	z = timezone.utc if zone == "-" else ZoneInfo(zone)
	T = os.environ["T"]
	def iso(ts):
	    if zone == "-":
	        return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
	    return datetime.fromtimestamp(ts, z).isoformat()
	def midnight(d):	# the instant of local midnight (a missing one: as zoneinfo's fold=0)
	    return datetime.combine(d, time(0), tzinfo=z).timestamp()
	def window(d):
	    if unit == "d":
	        k = (d - datetime(1970, 1, 1).date()).days // n * n
	        s = datetime(1970, 1, 1).date() + timedelta(days=k)
	        return s, s + timedelta(days=n)
	    if unit == "w":
	        s = d - timedelta(days=(d.weekday() - ws) % 7)
	        return s, s + timedelta(days=7)
	    if unit == "mo":
	        i = (d.year * 12 + d.month - 1) // n * n
	        j = i + n
	        return d.replace(year=i // 12, month=i % 12 + 1, day=1), d.replace(year=j // 12, month=j % 12 + 1, day=1)
	    i = d.year // n * n
	    return d.replace(year=i, month=1, day=1), d.replace(year=i + n, month=1, day=1)
	t = datetime.fromisoformat(frm).replace(tzinfo=timezone.utc).timestamp()
	end = datetime.fromisoformat(to).replace(tzinfo=timezone.utc).timestamp()
	counts = {}
	with open(T + "/in", "w") as f:
	    while t < end:
	        f.write('{"timestamp":"%s"}\n' % datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
	        s, e = window(datetime.fromtimestamp(t, z).date())
	        key = (midnight(s), midnight(e))
	        counts[key] = counts.get(key, 0) + 1
	        t += step * 60
	with open(T + "/want", "w") as f:
	    for (s, e), c in sorted(counts.items()):
	        f.write("%s %s %g %d\n" % (iso(s), iso(e), (e - s) / 3600, c))
	EOF
}

# got ARGS...: runs window ARGS on $T/in and summarizes its windows as $T/want does.
got() {
	window --lateness 10000d "$@" "$T/in" >"$T/out"
	jq -r 'select(.window_start) | [.window_start, .window_end] | @tsv' "$T/out" |
	    sort | uniq -c | while read -r c s e; do
		h=$(( ($(date -d "$e" +%s) - $(date -d "$s" +%s)) / 3600 ))
		echo "$s $e $h $c"
	done
}

@test "Europe/Berlin: the spring day has 23 hours, the autumn day 25, each with its events" {
	expect Europe/Berlin d 1 0 2024-03-29T00:00:00 2024-04-02T00:00:00 15
	grep -q '^2024-03-31T00:00:00+01:00 2024-04-01T00:00:00+02:00 23 92$' "$T/want"
	run -0 got --tumbling 1d --tz Europe/Berlin
	assert_output "$(cat "$T/want")"
	expect Europe/Berlin d 1 0 2024-10-25T00:00:00 2024-10-29T00:00:00 15
	grep -q '^2024-10-27T00:00:00+02:00 2024-10-28T00:00:00+01:00 25 100$' "$T/want"
	run -0 got --tumbling 1d --tz Europe/Berlin
	assert_output "$(cat "$T/want")"
}

@test "America/New_York: 23- and 25-hour days in both directions" {
	expect America/New_York d 1 0 2024-03-08T00:00:00 2024-03-12T00:00:00 10
	grep -q '^2024-03-10T00:00:00-05:00 2024-03-11T00:00:00-04:00 23 138$' "$T/want"
	run -0 got --tumbling 1d --tz America/New_York
	assert_output "$(cat "$T/want")"
	expect America/New_York d 1 0 2024-11-01T00:00:00 2024-11-05T00:00:00 10
	grep -q '^2024-11-03T00:00:00-04:00 2024-11-04T00:00:00-05:00 25 150$' "$T/want"
	run -0 got --tumbling 1d --tz America/New_York
	assert_output "$(cat "$T/want")"
}

@test "a zone whose clocks skip midnight (America/Havana) still tiles time, every event in its window" {
	expect America/Havana d 1 0 2024-03-08T00:00:00 2024-03-12T00:00:00 20
	run -0 got --tumbling 1d --tz America/Havana
	assert_output "$(cat "$T/want")"
	# Every event lies in its window: start <= t < end, by date(1).
	jq -r 'select(.window_start) | [.timestamp, .window_start, .window_end] | @tsv' "$T/out" |
	    while IFS=$'\t' read -r t s e; do
		[ "$(date -d "$s" +%s)" -le "$(date -d "$t" +%s)" ] &&
		    [ "$(date -d "$t" +%s)" -lt "$(date -d "$e" +%s)" ] || echo "outside: $t $s $e"
	done >"$T/bad"
	assert_equal "$(cat "$T/bad")" ""
}

@test "week windows start on Monday, in UTC and in a zone, and --week-start moves them" {
	# 2024-03-04 was a Monday: date says so, and the windows must agree.
	[ "$(date -u -d 2024-03-04 +%A)" = Monday ]
	expect - w 1 0 2024-02-20T00:00:00 2024-03-20T00:00:00 60
	grep -q '^2024-03-04T00:00:00Z 2024-03-11T00:00:00Z 168 168$' "$T/want"
	run -0 got --tumbling 1w
	assert_output "$(cat "$T/want")"
	expect Europe/Berlin w 1 0 2024-03-15T00:00:00 2024-04-10T00:00:00 60
	grep -q '^2024-03-25T00:00:00+01:00 2024-04-01T00:00:00+02:00 167 167$' "$T/want"
	run -0 got --tumbling 1w --tz Europe/Berlin
	assert_output "$(cat "$T/want")"
	expect America/New_York w 1 6 2024-02-20T00:00:00 2024-03-20T00:00:00 60
	run -0 got --tumbling 1w --tz America/New_York --week-start sunday
	assert_output "$(cat "$T/want")"
	run -0 got --tumbling 1w --tz America/New_York --week-start Sun
	assert_output "$(cat "$T/want")"
}

@test "month windows have their real length: a leap February, and March with its DST change" {
	expect - mo 1 0 2024-01-15T00:00:00 2024-04-15T00:00:00 120
	grep -q '^2024-02-01T00:00:00Z 2024-03-01T00:00:00Z 696 348$' "$T/want"
	run -0 got --tumbling 1mo
	assert_output "$(cat "$T/want")"
	expect Europe/Berlin mo 1 0 2023-12-20T00:00:00 2024-04-15T00:00:00 120
	grep -q '^2024-03-01T00:00:00+01:00 2024-04-01T00:00:00+02:00 743 ' "$T/want"
	run -0 got --tumbling 1mo --tz Europe/Berlin
	assert_output "$(cat "$T/want")"
}

@test "two years of months, quarters and years in New York match zoneinfo, every window" {
	expect America/New_York mo 1 0 2023-01-01T00:00:00 2025-01-10T00:00:00 180
	[ "$(wc -l < "$T/want")" -eq 26 ]
	run -0 got --tumbling 1mo --tz America/New_York
	assert_output "$(cat "$T/want")"
	expect America/New_York mo 3 0 2023-01-01T00:00:00 2025-01-10T00:00:00 180
	run -0 got --tumbling 3mo --tz America/New_York
	assert_output "$(cat "$T/want")"
	expect America/New_York y 1 0 2023-01-01T00:00:00 2025-01-10T00:00:00 180
	grep -q '^2024-01-01T00:00:00-05:00 2025-01-01T00:00:00-05:00 8784 ' "$T/want"
	run -0 got --tumbling 1y --tz America/New_York
	assert_output "$(cat "$T/want")"
	expect Europe/Berlin d 7 0 2024-03-01T00:00:00 2024-05-01T00:00:00 180
	run -0 got --tumbling 7d --tz Europe/Berlin
	assert_output "$(cat "$T/want")"
}

@test "--offset shifts calendar days: days from 06:00 local, 23 hours long in spring" {
	printf '{"timestamp":"2024-03-31T03:59:59Z"}\n{"timestamp":"2024-03-31T04:00:00Z"}\n' >"$T/in"
	# 06:00 in Berlin: 05:00Z on the 30th (CET), 04:00Z on the 31st (CEST).
	[ "$(TZ=Europe/Berlin date -d @$(date -d 2024-03-31T04:00:00Z +%s) +%H:%M%z)" = 06:00+0200 ]
	run -0 window --tumbling 1d --offset 6h --tz Europe/Berlin --lateness 1d "$T/in"
	assert_line -n 0 '{"timestamp":"2024-03-31T03:59:59Z","window_start":"2024-03-30T06:00:00+01:00","window_end":"2024-03-31T06:00:00+02:00"}'
	assert_line -n 1 '{"timestamp":"2024-03-31T04:00:00Z","window_start":"2024-03-31T06:00:00+02:00","window_end":"2024-04-01T06:00:00+02:00"}'
}

@test "naive timestamps are read in --tz: a skipped time moves forward, a repeated one is its first" {
	# Python's zoneinfo with fold=0, as ndflow(7) says.
	for ts in 2024-03-10T02:30:00 2024-11-03T01:30:00 2024-07-01T12:00:00.25; do
		printf '{"timestamp":"%s"}\n' "$ts"
	done >"$T/in"
	python3 -c '
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo
for l in ["2024-03-10T02:30:00", "2024-11-03T01:30:00", "2024-07-01T12:00:00.25"]:
    t = datetime.fromisoformat(l).replace(tzinfo=ZoneInfo("America/New_York")).astimezone(timezone.utc)
    print(t.strftime("%Y-%m-%dT%H:%M:%S") + (".250" if t.microsecond else "") + "Z")' >"$T/want"
	run -0 ingest --normalize-time --tz America/New_York "$T/in"
	assert_equal "$(jq -r .timestamp <<<"$output")" "$(cat "$T/want")"
	# An offset in the text wins over --tz.
	printf '{"timestamp":"2024-07-01T12:00:00+02:00"}\n' | {
		run -0 ingest --normalize-time --tz America/New_York
		assert_output '{"timestamp":"2024-07-01T10:00:00Z"}'
	}
}

@test "--tz reads naive CLF and strptime times in the zone too; %z in the format wins" {
	printf '{"t":"15/Mar/2024:10:00:00"}\n' >"$T/in"
	run -0 ingest --normalize-time -t t --time-format clf --tz Asia/Kolkata "$T/in"
	assert_output '{"t":"2024-03-15T04:30:00Z"}'
	printf '{"t":"15.03.2024 10:00"}\n' >"$T/in"
	run -0 ingest --normalize-time -t t --time-format '%d.%m.%Y %H:%M' --tz Asia/Kolkata "$T/in"
	assert_output '{"t":"2024-03-15T04:30:00Z"}'
	printf '{"t":"15.03.2024 10:00 +0000"}\n' >"$T/in"
	run -0 ingest --normalize-time -t t --time-format '%d.%m.%Y %H:%M %z' --tz Asia/Kolkata "$T/in"
	assert_output '{"t":"2024-03-15T10:00:00Z"}'
}

@test "session and sliding bounds are written with the zone's offset; watermarks stay UTC" {
	printf '{"timestamp":"2024-01-15T12:00:00Z"}\n' >"$T/in"
	run -0 window --session 30m --tz Asia/Kolkata "$T/in"
	assert_output - <<-EOF
	{"timestamp":"2024-01-15T12:00:00Z","window_start":"2024-01-15T17:30:00+05:30","window_end":"2024-01-15T18:00:00+05:30"}
	{"@watermark":"+inf"}
	EOF
	run -0 window --sliding 1h --slide 30m --tz America/New_York "$T/in"
	assert_line -n 0 '{"timestamp":"2024-01-15T12:00:00Z","window_start":"2024-01-15T06:30:00-05:00","window_end":"2024-01-15T07:30:00-05:00"}'
	printf '{"timestamp":"2024-01-15T12:00:00Z"}\n{"timestamp":"2024-01-17T12:00:00Z"}\n' >"$T/in"
	run -0 window --tumbling 1d --tz Asia/Kolkata "$T/in"
	assert_line -n 2 '{"@watermark":"2024-01-17T12:00:00Z"}'
}

@test "aggregate groups by windows written with offsets" {
	expect Europe/Berlin d 1 0 2024-10-26T00:00:00 2024-10-29T00:00:00 30
	window --tumbling 1d --tz Europe/Berlin "$T/in" | aggregate count >"$T/agg"
	run -0 jq -r 'select(.window_start) | "\(.window_start) \(.window_end) \(.count)"' "$T/agg"
	assert_output "$(awk '{ print $1, $2, $4 }' "$T/want")"
}

@test "an unknown zone is a usage error on every tool" {
	for tool in ingest window aggregate dedupe alert batch-report; do
		run -2 --separate-stderr "$tool" --tz Mars/Olympus_Mons </dev/null
		assert_equal "${stderr_lines[0]}" "$tool: --tz: unknown time zone: Mars/Olympus_Mons"
	done
	run -2 --separate-stderr window --tumbling 1d --tz ../../etc/passwd </dev/null
	assert_equal "${stderr_lines[0]}" "window: --tz: unknown time zone: ../../etc/passwd"
}

@test "calendar options that mean nothing are usage errors" {
	run -2 --separate-stderr window --tumbling 1h --week-start monday </dev/null
	assert_equal "${stderr_lines[0]}" "window: --week-start needs week windows (--tumbling Nw)"
	run -2 --separate-stderr window --tumbling 1w --week-start funday </dev/null
	assert_equal "${stderr_lines[0]}" "window: --week-start: not a day of the week (monday ... sunday): funday"
	run -2 --separate-stderr window --sliding 1mo --slide 1d </dev/null
	assert_equal "${stderr_lines[0]}" "window: --sliding: months and years are calendar units, for --tumbling only: 1mo"
	run -2 --separate-stderr window --session 1y </dev/null
	assert_equal "${stderr_lines[0]}" "window: --session: months and years are calendar units, for --tumbling only: 1y"
	run -2 --separate-stderr window --tumbling 0mo </dev/null
	assert_equal "${stderr_lines[0]}" "window: --tumbling: duration must be positive: 0mo"
	run -2 --separate-stderr window --tumbling 10001y </dev/null
	assert_equal "${stderr_lines[0]}" "window: --tumbling: longer than 10000 years: 10001y"
	run -2 --separate-stderr window --tumbling 1d --offset 400d </dev/null
	assert_equal "${stderr_lines[0]}" "window: --offset: a calendar window's offset must be within a year: 1d"
}

@test "a calendar window ending after 9999 goes to the dead-letter with its reason" {
	printf '{"timestamp":"9999-12-30T12:00:00Z"}\n{"timestamp":"9999-06-01T00:00:00Z"}\n' >"$T/in"
	run -0 --separate-stderr window --tumbling 1mo --dead-letter "$T/dl" "$T/in"
	assert_output '{"timestamp":"9999-06-01T00:00:00Z","window_start":"9999-06-01T00:00:00Z","window_end":"9999-07-01T00:00:00Z"}
{"@watermark":"+inf"}'
	run -0 jq -r '[.line, .reason, .raw] | @tsv' "$T/dl"
	assert_output "$(printf '1\tits window would end after 9999-12-31T23:59:59.999999Z or start before year 0000, which RFC 3339 cannot write\t{"timestamp":"9999-12-30T12:00:00Z"}')"
}

# ---- times that were silently misread ----

@test "ISO 8601 basic forms are read as dates and times, not as epoch numbers" {
	printf '%s\n' '{"timestamp":"20240315"}' '{"timestamp":"20240315T101500Z"}' \
	    '{"timestamp":"20240315T101500.123+0100"}' '{"timestamp":"20240315101500"}' >"$T/in"
	# date(1) reads the same times independently.
	want=$(for d in 2024-03-15T00:00:00Z 2024-03-15T10:15:00Z 2024-03-15T09:15:00.123Z 2024-03-15T10:15:00Z; do
		date -u -d "$d" +%Y-%m-%dT%H:%M:%S.%3NZ | sed 's/\.000Z$/Z/'
	done)
	run -0 ingest --normalize-time "$T/in"
	assert_equal "$(jq -r .timestamp <<<"$output")" "$want"
}

@test "a numeric string is epoch time only under --time-format epoch*; a JSON number stays epoch" {
	printf '%s\n' '{"timestamp":"1710497700"}' >"$T/in"
	run -1 --separate-stderr window --tumbling 1h "$T/in"
	assert_equal "${stderr_lines[0]}" "window: $T/in:1: bad time in 'timestamp': a number in a string (--time-format epoch_s, epoch_ms, epoch_us or epoch_ns reads it as epoch time): 1710497700"
	run -0 window --tumbling 1h --time-format epoch_s "$T/in"
	assert_line -n 0 '{"timestamp":"1710497700","window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T11:00:00Z"}'
	printf '%s\n' '{"timestamp":1710497700}' '{"timestamp":1710497700123}' >"$T/in"
	run -0 window --tumbling 1h "$T/in"
	assert_line -n 0 '{"timestamp":1710497700,"window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T11:00:00Z"}'
	assert_line -n 1 '{"timestamp":1710497700123,"window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T11:00:00Z"}'
}

@test "ingest leaves a CSV, TSV or logfmt time column as it was unless --normalize-time asks" {
	printf 'ts,n\n20240315,1\n2024-03-15 10:00:00,2\n' >"$T/in.csv"
	run -0 ingest --format csv -t ts "$T/in.csv"
	assert_output - <<-'EOF'
	{"ts":"20240315","n":"1"}
	{"ts":"2024-03-15 10:00:00","n":"2"}
	EOF
	printf 'ts\tn\n20240315\t1\n' >"$T/in.tsv"
	run -0 ingest --format tsv -t ts "$T/in.tsv"
	assert_output '{"ts":"20240315","n":"1"}'
	printf 'ts=20240315T101500Z n=1\n' >"$T/in.log"
	run -0 ingest --format logfmt -t ts "$T/in.log"
	assert_output '{"ts":"20240315T101500Z","n":"1"}'
	run -0 ingest --format csv -t ts --normalize-time --tz Europe/Berlin "$T/in.csv"
	assert_output - <<-'EOF'
	{"ts":"2024-03-14T23:00:00Z","n":"1"}
	{"ts":"2024-03-15T09:00:00Z","n":"2"}
	EOF
}

@test "one cache of seconds across many records and days gives what a fresh parse gives" {
	# 5000 records over three days, out of order by up to 3 s: each time is
	# checked against Python's reading of it.
	python3 - <<-'EOF'
	import os, random
	from datetime import datetime, timedelta, timezone
	from zoneinfo import ZoneInfo
	random.seed(7)
	z = ZoneInfo("Europe/Berlin")
	t0 = datetime(2024, 3, 30, 23, 0, 0)
	T = os.environ["T"]
	with open(T + "/in", "w") as f, open(T + "/want", "w") as g:
	    for i in range(5000):
	        l = t0 + timedelta(seconds=i * 50 + random.randint(-3, 3), microseconds=random.randint(0, 999999))
	        s = l.strftime("%Y-%m-%dT%H:%M:%S.%f")
	        f.write('{"timestamp":"%s"}\n' % s)
	        u = l.replace(tzinfo=z).astimezone(timezone.utc)
	        g.write("%d%06d\n" % (int(u.replace(microsecond=0).timestamp()), u.microsecond))
	EOF
	run -0 ingest --normalize-time --tz Europe/Berlin "$T/in"
	jq -r '.timestamp' <<<"$output" | while read -r ts; do
		s=$(date -d "$(sed 's/\.[0-9]*Z$/Z/' <<<"$ts")" +%s)
		f=$(sed -n 's/.*\.\([0-9]*\)Z$/\1/p' <<<"$ts")
		printf '%d%-6s\n' "$s" "$f" | tr ' ' 0
	done >"$T/got"
	run diff "$T/want" "$T/got"
	assert_success
}

@test "two runs with --state give the output of one run (calendar months in a zone)" {
	expect Europe/Berlin mo 1 0 2024-01-20T00:00:00 2024-04-10T00:00:00 600
	window --tumbling 1mo --tz Europe/Berlin "$T/in" >"$T/one"
	n=$(wc -l <"$T/in")
	head -n $((n / 2)) "$T/in" | window --tumbling 1mo --tz Europe/Berlin --state "$T/st" >"$T/two"
	{ tail -n +$((n / 2 + 1)) "$T/in"; echo '{"@watermark":"+inf"}'; } |
	    window --tumbling 1mo --tz Europe/Berlin --state "$T/st" >>"$T/two"
	run diff "$T/one" "$T/two"
	assert_success
	# Another zone or week start cuts other windows: the state is refused.
	run -2 --separate-stderr window --tumbling 1mo --tz America/New_York --state "$T/st" </dev/null
	assert_equal "$stderr" "window: state file $T/st: it was saved by a run with --tz Europe/Berlin; this run has --tz America/New_York"
}

@test "a state saved with one week start is refused by a run with another" {
	printf '{"timestamp":"2024-03-06T12:00:00Z"}\n' | window --tumbling 1w --week-start sun --state "$T/st" >/dev/null
	run -2 --separate-stderr window --tumbling 1w --state "$T/st" </dev/null
	assert_equal "$stderr" "window: state file $T/st: it was saved by a run with --week-start sunday; this run has none"
}
