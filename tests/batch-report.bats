#!/usr/bin/env bats
# batch-report: every figure below is worked out a second way — jq, awk or
# datamash over the same fixture — or by the live pipe (window | aggregate).
# Fixtures: br-events.ndjson (2,000 web events from 2024-03-30T22:00Z over
# the Berlin DST change), br-ny.ndjson (every 10 minutes over New York's
# 2024-11-03), br-access.clf and br-access.combined (120 requests).

bats_require_minimum_version 1.5.0

setup() { load common-setup; _common_setup; EV="$DATA/br-events.ndjson"; }

# report ARGS: the JSON report of the arguments, status 0, stderr empty.
report() {
	run -0 --separate-stderr batch-report --format json "$@"
	assert_equal "$stderr" ""
	printf '%s\n' "$output" >"$T/r.json"
}

# ---- summary, top, dimensions, matrix ----

@test "summary: events, distinct entities, events per entity and first/last equal jq and datamash" {
	report "$EV"
	assert_equal "$(jq '.summary.events' "$T/r.json")" "$(wc -l <"$EV")"
	assert_equal "$(jq '.summary.entities' "$T/r.json")" "$(jq -s 'map(.user_id) | unique | length' "$EV")"
	jq -r .user_id "$EV" | sort | uniq -c | awk '{print $1}' >"$T/per"
	assert_equal "$(jq '.summary.events_per_entity_max' "$T/r.json")" "$(datamash max 1 <"$T/per")"
	assert_equal "$(jq '.summary.events_per_entity_median' "$T/r.json")" "$(datamash median 1 <"$T/per")"
	assert_equal "$(jq -r '.summary.first, .summary.last' "$T/r.json")" "2024-03-30T22:00:00Z
$(jq -rs 'map(.timestamp) | max + "Z"' "$EV")"
	assert_equal "$(jq '.summary.sessions' "$T/r.json")" "$(jq -s 'map(.session_id) | unique | length' "$EV")"
}

@test "top entities: counts by jq, ties broken by value, cut at --top" {
	report --top 5 --sections top "$EV"
	assert_equal "$(jq -c '[.top_entities[] | [.value, .count]]' "$T/r.json")" \
	    "$(jq -sc 'group_by(.user_id) | map([.[0].user_id, length]) | sort_by(-.[1], .[0]) | .[:5]' "$EV")"
	assert_equal "$(jq -c 'keys' "$T/r.json")" '["batch_report","fields","range","top_entities"]'
}

@test "dimensions: each value's count, share and metric sum equal jq's" {
	report --sections dimensions "$EV"
	for d in page action; do
		assert_equal "$(jq -c --arg d $d '[.dimensions[$d][] | [.value, .count, .share]]' "$T/r.json")" \
		    "$(jq -sc --arg d $d 'length as $n | group_by(.[$d]) | map([.[0][$d], length, length / $n]) | sort_by(-.[1], .[0])' "$EV")"
	done
	assert_equal "$(jq -r '.dimensions.page[] | "\(.value) \(.sum)"' "$T/r.json" | sort)" \
	    "$(jq -r '"\(.page) \(.value)"' "$EV" | sort | datamash -W -g 1 sum 2 | tr '\t' ' ' | sort)"
}

@test "matrix: page x action counts equal jq's" {
	report --sections matrix "$EV"
	jq -c '.matrix as $m | [range($m.row_values|length) as $i | range($m.column_values|length) as $j
	    | [$m.row_values[$i], $m.column_values[$j], $m.counts[$i][$j]]] | sort' "$T/r.json" >"$T/mine"
	jq -sc 'group_by([.page, .action]) | map([.[0].page, .[0].action, length]) | sort' "$EV" >"$T/theirs"
	assert_equal "$(cat "$T/mine")" "$(cat "$T/theirs")"
}

@test "metric: count, sum, mean, min, max, stddev and percentiles equal datamash's" {
	report --sections metric "$EV"
	run -0 jq -r '.metric | [.count, .sum, .mean, .min, .max, .stddev, .p50, .p90, .p99] | map(. * 1e6 | round) | @tsv' "$T/r.json"
	mine=$output
	jq .value "$EV" | datamash count 1 sum 1 mean 1 min 1 max 1 sstdev 1 perc:50 1 perc:90 1 perc:99 1 >"$T/dm"
	run -0 awk -F '\t' '{ for (i = 1; i <= NF; i++) printf("%s%.0f", i > 1 ? "\t" : "", $i * 1e6); print "" }' "$T/dm"
	assert_equal "$mine" "$output"
	assert_equal "$(jq -r '.metric.by_field, (.metric.by | length), (.metric.histogram | map(.count) | add)' "$T/r.json")" "page
5
2000"
}

# ---- the two halves agree ----

@test "events per hour and metric statistics equal window --tumbling 1h | aggregate, digit for digit" {
	report --sections metric,hours "$EV"
	window --tumbling 1h "$EV" | aggregate count count:value sum:value mean:value min:value max:value \
	    stddev:value p50:value p90:value p99:value >"$T/live"
	assert_equal "$(jq -c '.per_hour[] | select(.count > 0) | [.hour, .count]' "$T/r.json")" \
	    "$(jq -c 'select(.count) | [.window_start, .count]' "$T/live")"
	aggregate count:value sum:value mean:value min:value max:value stddev:value p50:value p90:value p99:value \
	    -i "$EV" >"$T/all"
	# Compare the JSON text itself: the same functions print the same digits.
	assert_equal "$(jq -c '.metric | [.count, .sum, .mean, .min, .max, .stddev, .p50, .p90, .p99]' "$T/r.json")" \
	    "$(jq -c '[.value_count, .value_sum, .value_mean, .value_min, .value_max, .value_stddev, .value_p50, .value_p90, .value_p99]' "$T/all")"
	grep -o '"stddev": [0-9.e-]*' "$T/r.json" | head -1 | grep -qF "$(grep -o '"value_stddev":[0-9.e-]*' "$T/all" | cut -d: -f2)"
	grep -o '"p99": [0-9.e-]*' "$T/r.json" | head -1 | grep -qF "$(grep -o '"value_p99":[0-9.e-]*' "$T/all" | cut -d: -f2)"
}

# ---- hours, days, zones, ranges ----

@test "per hour in UTC equals an awk count of the timestamps' hours, empty hours included" {
	report --sections hours "$EV"
	assert_equal "$(jq -r '.per_hour[] | select(.count > 0) | "\(.hour[0:13]) \(.count)"' "$T/r.json")" \
	    "$(jq -r .timestamp "$EV" | awk '{h = substr($0, 1, 13); n[h]++; if (!(h in seen)) { seen[h] = 1; o[++k] = h } } END { for (i = 1; i <= k; i++) print o[i], n[o[i]] }')"
	assert_equal "$(jq '.per_hour | length' "$T/r.json")" 30
	assert_equal "$(jq -c '[.per_day[] | [.day, .count]]' "$T/r.json")" \
	    "$(jq -sc 'group_by(.timestamp[0:10]) | map([.[0].timestamp[0:10], length])' "$EV")"
}

@test "--tz Europe/Berlin: the spring-forward day has 23 hourly rows with the counts of its UTC hours" {
	report --tz Europe/Berlin --date 2024-03-31 --sections summary,hours,quality "$EV"
	assert_equal "$(jq '.per_hour | length' "$T/r.json")" 23
	assert_equal "$(jq -r '.range.note' "$T/r.json")" "2024-03-31 has 23 hours in Europe/Berlin (a daylight saving time change)"
	assert_equal "$(jq -r '.per_hour[1,2] | .hour' "$T/r.json")" "2024-03-31T01:00:00+01:00
2024-03-31T03:00:00+02:00"
	# The fixture's times are naive, so --tz reads them as Berlin time: Python's
	# zoneinfo gives their UTC instants.  The local day is
	# [2024-03-30T23:00Z, 2024-03-31T22:00Z): count its UTC hours with awk.
	jq -r .timestamp "$EV" | python3 -c 'import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo
for l in sys.stdin:
    print(datetime.fromisoformat(l.strip()).replace(tzinfo=ZoneInfo("Europe/Berlin")).astimezone(timezone.utc).isoformat())' >"$T/utc"
	assert_equal "$(jq -r '.per_hour[].count' "$T/r.json")" \
	    "$(awk '$0 >= "2024-03-30T23" && $0 < "2024-03-31T22" { n[substr($0, 1, 13)]++ }
	        END { for (h in n) print h, n[h] }' "$T/utc" | sort | awk '{print $2}')"
	assert_equal "$(jq '.summary.events' "$T/r.json")" "$(awk '$0 >= "2024-03-30T23" && $0 < "2024-03-31T22"' "$T/utc" | wc -l)"
	assert_equal "$(jq '.quality.out_of_range + .summary.events' "$T/r.json")" 2000
}

@test "--tz America/New_York: the fall-back day has 25 hourly rows, 1 a.m. twice" {
	report --tz America/New_York --date 2024-11-03 --sections hours "$DATA/br-ny.ndjson"
	assert_equal "$(jq '.per_hour | length' "$T/r.json")" 25
	assert_equal "$(jq -r '[.per_hour[1,2] | .hour] | join(" ")' "$T/r.json")" "2024-11-03T01:00:00-04:00 2024-11-03T01:00:00-05:00"
	# One event every 10 minutes: six in every hour of the 25.
	assert_equal "$(jq -c '[.per_hour[].count] | unique' "$T/r.json")" '[6]'
}

@test "an unknown --tz is status 2" {
	run -2 --separate-stderr batch-report --tz Mars/Olympus "$EV"
	assert_equal "${stderr_lines[0]}" "batch-report: --tz: unknown time zone: Mars/Olympus"
}

@test "--since is inclusive and --until exclusive; the rest is counted out of range" {
	report --since 2024-03-30T22:00:55.037 --until 2024-03-30T22:03:30.111 --sections summary,quality "$EV"
	assert_equal "$(jq -r '.summary.first, .summary.events, .quality.out_of_range' "$T/r.json")" \
	    "2024-03-30T22:00:55.037Z
3
1997"
	run -0 jq -r 'select(.timestamp >= "2024-03-30T22:00:55.037" and .timestamp < "2024-03-30T22:03:30.111") | .timestamp' "$EV"
	assert_equal "${#lines[@]}" 3
	run -2 --separate-stderr batch-report --since 2024-03-31 --until 2024-03-30 "$EV"
	assert_equal "${stderr_lines[0]}" "batch-report: --since must be before --until"
	run -2 --separate-stderr batch-report --date 2024-02-30x "$EV"
	assert_equal "${stderr_lines[0]}" "batch-report: --date: not a date YYYY-MM-DD: 2024-02-30x"
}

# ---- sessions ----

@test "sessions by field: count, single-event sessions and duration median equal jq's" {
	report --sections sessions "$EV"
	assert_equal "$(jq '.sessions.count' "$T/r.json")" "$(jq -s 'map(.session_id) | unique | length' "$EV")"
	assert_equal "$(jq '.sessions.single_event' "$T/r.json")" \
	    "$(jq -s 'group_by(.session_id) | map(select(length == 1)) | length' "$EV")"
	assert_equal "$(jq '.sessions.events_per_session_mean' "$T/r.json")" "$(jq -s 'length / (map(.session_id) | unique | length)' "$EV")"
}

@test "--session-gap: events exactly the gap apart stay in one session, a microsecond more splits it" {
	printf '%s\n' '{"user_id":"a","timestamp":"2024-01-01T00:00:00Z"}' '{"user_id":"a","timestamp":"2024-01-01T00:10:00Z"}' \
	    '{"user_id":"a","timestamp":"2024-01-01T00:20:00.000001Z"}' '{"user_id":"b","timestamp":"2024-01-01T00:05:00Z"}' \
	    '{"user_id":"a","timestamp":"2024-01-01T00:05:00Z"}' >"$T/in"
	report --session-gap 10m --sections sessions "$T/in"
	assert_equal "$(jq -c '.sessions | [.count, .single_event, .duration_median, .rule]' "$T/r.json")" \
	    '[3,2,0,"per user_id, ended by 600 s without events"]'
	window --session 10m --key user_id --lateness 1h "$T/in" | jq -c 'select(.window_start) | [.user_id, .window_start]' | sort -u | wc -l >"$T/n"
	assert_equal "$(cat "$T/n")" 3
}

# ---- data quality and bad input ----

@test "data quality: lines, rejects by reason, duplicates and missing fields per field" {
	{ head -5 "$EV"; head -2 "$EV"; echo '{"user_id":"x","timestamp":"nope"}'; echo 'not json'; echo;
	  echo '{"timestamp":"2024-03-30T23:00:00Z","page":"home"}'; } >"$T/in"
	run -1 --separate-stderr batch-report --format json --sections quality "$T/in"
	assert_equal "$(jq -c '.quality' <<<"$output")" \
	    '{"lines":11,"records":9,"blank":1,"rejected":2,"rejected_by_reason":{"bad time in '"'"'timestamp'"'"'":1,"expected a JSON object, got null":1},"out_of_range":0,"duplicates":2,"missing":{"user_id":1,"page":0,"action":1,"value":1,"session_id":1}}'
	run -0 --separate-stderr batch-report -j 2 --format json --sections quality --dead-letter "$T/dl" "$T/in"
	assert_equal "$(jq -c '.quality.rejected_by_reason' <<<"$output")" '{"bad time in '"'"'timestamp'"'"'":1,"expected a JSON object, got null":1}'
	assert_equal "$(jq -r .reason "$T/dl" | sort)" "bad time in 'timestamp': not a time: nope
expected a JSON object, got null"
	run -1 --separate-stderr batch-report --format json --sections quality "$T/in"
	assert_equal "${stderr_lines[0]}" "batch-report: $T/in:8: bad time in 'timestamp': not a time: nope"
}

@test "a field missing in every record: the section says so instead of failing" {
	report --metric price --entity who --sections summary,metric "$EV"
	assert_equal "$(jq -r '.metric.note, .metric.count, .summary.note' "$T/r.json")" "no numeric values of field 'price'
0
field 'who' is missing in every record"
	run -0 batch-report --format text --metric price --sections metric "$EV"
	assert_output --partial "no numeric values of field 'price'"
}

@test "empty input: a report that says no events" {
	: >"$T/empty"
	report "$T/empty"
	assert_equal "$(jq -c '[.summary.events, .summary.note, .per_hour, .sessions.count]' "$T/r.json")" '[0,"no events",[],0]'
	run -0 batch-report --format text "$T/empty"
	assert_line "no events"
}

@test "an unknown section is status 2, naming the sections there are" {
	run -2 --separate-stderr batch-report --sections summary,bogus "$EV"
	assert_equal "${stderr_lines[0]}" "batch-report: --sections: unknown section 'bogus' (summary, top, dimensions, matrix, metric, hours, sessions, quality)"
}

@test "an unreadable file among several: status 3, named, and the others still reported" {
	head -10 "$EV" >"$T/a"
	head -20 "$EV" | tail -10 >"$T/c"
	run -3 --separate-stderr batch-report --format json "$T/a" "$T/missing" "$T/c"
	assert_equal "$(jq '.summary.events' <<<"$output")" 20
	assert_equal "${stderr_lines[0]}" "batch-report: $T/missing: No such file or directory"
}

@test "a quoted glob is expanded, and gzip files are read" {
	cp "$EV" "$T/day-1.ndjson"
	gzip -c "$EV" >"$T/day-2.ndjson.gz"
	report --sections summary "$T/day-*"
	assert_equal "$(jq .summary.events "$T/r.json")" 4000
}

# ---- access logs ----

@test "CLF: status counts, top paths with hits and bytes, distinct hosts and per-hour counts equal awk" {
	run -1 --separate-stderr batch-report --input-format clf --format json "$DATA/br-access.clf"
	printf '%s\n' "$output" >"$T/r.json"
	assert_equal "${stderr_lines[0]}" "batch-report: $DATA/br-access.clf:121: status is not a number: 'OK'"
	good() { awk '$9 ~ /^[0-9]+$/' "$DATA/br-access.clf"; }
	assert_equal "$(jq -r '.dimensions.status[] | "\(.value) \(.count)"' "$T/r.json" | sort)" \
	    "$(good | awk '{n[$9]++} END {for (s in n) print s, n[s]}' | sort)"
	assert_equal "$(jq -r '.dimensions.path[] | "\(.value) \(.count) \(.sum)"' "$T/r.json" | sort)" \
	    "$(good | awk '{n[$7]++; if ($10 != "-") b[$7] += $10} END {for (p in n) print p, n[p], b[p] + 0}' | sort)"
	assert_equal "$(jq '.summary.entities' "$T/r.json")" "$(good | awk '{print $1}' | sort -u | wc -l)"
	# [01/Jul/1995:08:00:00 -0400] is 12:00 UTC: shift the hour by four.
	assert_equal "$(jq -r '.per_hour[] | "\(.hour[11:13]) \(.count)"' "$T/r.json")" \
	    "$(good | awk '{split($4, t, ":"); n[sprintf("%02d", t[2] + 4)]++} END {for (h in n) print h, n[h]}' | sort)"
	assert_equal "$(jq -r '.fields | [.entity, (.dimensions | join(",")), .metric, .session_gap_seconds] | @tsv' "$T/r.json")" \
	    "host	path,status,method	bytes	1800"
	assert_equal "$(jq '.quality.missing.bytes' "$T/r.json")" "$(good | awk '$10 == "-"' | wc -l)"
}

@test "combined: the same figures from the combined form, and auto detects it" {
	report --input-format combined "$DATA/br-access.combined"
	cp "$T/r.json" "$T/comb.json"
	report --input-format auto "$DATA/br-access.combined"
	assert_equal "$(cat "$T/r.json")" "$(cat "$T/comb.json")"
	assert_equal "$(jq -r '.dimensions.method[] | "\(.value) \(.count)"' "$T/r.json" | sort)" \
	    "$(awk '{sub(/^"/, "", $6); n[$6]++} END {for (m in n) print m, n[m]}' "$DATA/br-access.combined" | sort)"
	assert_equal "$(jq '.top_entities[0] | [.value, .count] | @tsv' -r "$T/r.json")" \
	    "$(awk '{print $1}' "$DATA/br-access.combined" | sort | uniq -c | sort -k1,1nr -k2,2 | head -1 | awk '{print $2 "\t" $1}')"
	assert_equal "$(jq '.sessions.count' "$T/r.json")" 6
}

# ---- formats ----

@test "text: aligned tables under titles, and a bar per hour in block characters" {
	run -0 batch-report --format text --sections summary,hours "$EV"
	assert_line "Summary"
	assert_line --regexp '^events +2000$'
	assert_line --partial "2024-03-31T05:00:00Z     68  ████████████████████████████████████"
	refute_output --partial "Top entities"
}

@test "markdown: pipe tables with right-aligned numbers under ## titles" {
	run -0 batch-report --format markdown --sections top "$EV"
	assert_line "## Top entities"
	assert_line --regexp '^\| value +\| count \| share \|$'
	assert_line --regexp '^\| -+ \| -+: \| -+: \|$'
}

@test "csv: one table per section, each row with its section" {
	run -0 batch-report --format csv --sections summary,dimensions "$EV"
	assert_line "section,figure,value"
	assert_line "summary,events,2000"
	assert_line "section,value,count,share,sum"
	assert_equal "$(grep -c '^dimensions,' <<<"$output")" 9
}

@test "json: the document follows the schema in batch-report(1)" {
	report --compare /dev/null 2>/dev/null || true
	report "$EV"
	run -0 jq -e '
	    (.batch_report == 1) and
	    (.summary | (.events|type) == "number" and (.entities|type) == "number" and has("events_per_entity_mean")
	        and has("sessions") and has("first") and has("last")) and
	    (.top_entities | type == "array" and all(has("value") and (.count|type) == "number")) and
	    (.dimensions | to_entries | all(.value | all(has("value") and has("count") and has("share")))) and
	    (.matrix | has("rows") and has("columns") and (.counts|type) == "array") and
	    (.metric | all(.count, .sum, .mean, .min, .max, .stddev, .p50, .p90, .p99; type == "number")) and
	    (.per_hour | all(.hour | test("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:00:00(Z|[+-]\\d\\d:\\d\\d)$"))) and
	    (.sessions | (.count|type) == "number") and
	    (.quality | (.lines|type) == "number" and (.rejected|type) == "number")' "$T/r.json"
}

@test "html: self-contained, inline CSS and SVG charts, no script, nothing fetched" {
	run -0 batch-report --format html "$EV"
	printf '%s\n' "$output" >"$T/r.html"
	assert_output --partial "<style>"
	assert_equal "$(grep -c '<svg' "$T/r.html")" 7
	run grep -Eic 'https?:|src=|<script|<link|@import|url\(' "$T/r.html"
	assert_output 0
}

@test "html in headless Chromium: a screenshot that is not blank, the figures in the DOM, no network request" {
	command -v chromium >/dev/null || skip "chromium cannot be installed here"
	batch-report --format html -o "$T/r.html" --tz Europe/Berlin --date 2024-03-31 "$EV"
	flags="--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update
	    --disable-sync --no-first-run --user-data-dir=$T/profile --enable-logging=stderr --v=1"
	# unshare -n: no network namespace, so any request would fail loudly in the log.
	net=""; unshare -n true 2>/dev/null && net="unshare -n"
	$net timeout 120 chromium $flags --window-size=1000,1600 --screenshot="$T/shot.png" "file://$T/r.html" 2>"$T/log" || true
	[ -s "$T/shot.png" ]
	# Not blank: a blank page compresses to a few kB; this one has charts and tables.
	[ "$(stat -c %s "$T/shot.png")" -gt 30000 ]
	$net timeout 120 chromium $flags --dump-dom "file://$T/r.html" >"$T/dom" 2>>"$T/log" || true
	# The fixture's times are naive, read as Berlin time: the day's events are those dated 2024-03-31.
	grep -q "<td class=\"num\">$(jq -r .timestamp "$EV" | grep -c '^2024-03-31')</td>" "$T/dom"
	grep -q '2024-03-31 has 23 hours in Europe/Berlin' "$T/dom"
	# Chromium asks its own update and time services even so (blocked by unshare -n); the page asks nothing.
	run sh -c "grep -Eo 'https?://[^/ \"]*' '$T/log' | grep -Ev '^https?://([a-z0-9-]+[.])*(google[.]com|googleapis[.]com|gvt1[.]com)\$'"
	assert_output ""
}

# ---- compare, -o, -j, progress, approx, help ----

@test "--compare: previous value and change for summary figures, rank changes in top lists" {
	report --until 2024-03-31T00:00:00Z "$EV"
	mv "$T/r.json" "$T/yesterday.json"
	report --compare "$T/yesterday.json" "$EV"
	assert_equal "$(jq -c '.compare.summary.events' "$T/r.json")" \
	    "$(jq -c --slurpfile y "$T/yesterday.json" '{previous: $y[0].summary.events, change: (.summary.events - $y[0].summary.events),
	        change_pct: ((.summary.events - $y[0].summary.events) / $y[0].summary.events * 100)}' "$T/r.json")"
	run -0 jq -r '.top_entities[] | .rank_change' "$T/r.json"
	for l in "${lines[@]}"; do [[ $l =~ ^(new|=|[+-][0-9]+)$ ]]; done
	run -0 batch-report --format text --compare "$T/yesterday.json" --sections summary "$EV"
	assert_line --regexp '^figure +value +previous +change +change_pct$'
	echo '{"not":"a report"}' >"$T/bad.json"
	run -2 --separate-stderr batch-report --compare "$T/bad.json" "$EV"
	assert_equal "$stderr" "batch-report: --compare: $T/bad.json: not a batch-report JSON report"
}

@test "-o: the report replaces the file by rename, and a run killed before its end leaves the old one" {
	echo old >"$T/out.json"
	mkfifo "$T/fifo"
	{ head -100 "$EV"; sleep 10; } >"$T/fifo" & writer=$!
	batch-report -o "$T/out.json" "$T/fifo" & pid=$!
	sleep 0.5
	kill -KILL $pid
	wait $pid || true
	kill $writer 2>/dev/null || true
	assert_equal "$(cat "$T/out.json")" old
	ino=$(stat -c %i "$T/out.json")
	run -0 batch-report -o "$T/out.json" "$EV"
	assert_equal "$(jq .summary.events "$T/out.json")" 2000
	[ "$(stat -c %i "$T/out.json")" != "$ino" ]
	run ls "$T"
	refute_output --partial "out.json."
}

@test "-o on a device writes it in place (never renames over it), and a full one is status 3" {
	run -3 --separate-stderr batch-report -o /dev/full "$DATA/br-ny.ndjson"
	assert_equal "$stderr" "batch-report: -o: /dev/full: No space left on device"
	[ -c /dev/full ]
}

@test "-j 2, 3 and 5 give the report -j 1 gives to the last digit, stddev included, over files cut at line starts" {
	# No normalisation: the workers' states merge exactly (var and stddev from exact sums).
	norm() { jq -S . ; }
	run -0 batch-report --format json "$EV" "$DATA/br-ny.ndjson"
	one=$(norm <<<"$output")
	run -0 batch-report -j 2 --format json "$EV" "$DATA/br-ny.ndjson"
	assert_equal "$(norm <<<"$output")" "$one"
	# Bad lines around every cut: each is reported once, by its own file and line.
	{ head -1000 "$EV"; echo; echo 'bad line'; echo '{"@watermark":"2024-01-01T00:00:00Z"}'; echo '[1]'; tail -1000 "$EV"; } >"$T/mixed"
	run -1 --separate-stderr batch-report --format json "$T/mixed"
	one=$(norm <<<"$output")
	grep -q '"stddev": [0-9]' <<<"$one"
	for j in 2 3 5; do
		run -1 --separate-stderr batch-report -j $j --format json "$T/mixed"
		assert_equal "$(norm <<<"$output")" "$one"
		assert_equal "$stderr" "batch-report: $T/mixed:1002: invalid JSON at column 1: '{' expected
batch-report: $T/mixed:1004: expected a JSON object, got an array
batch-report: 2 records rejected (use --dead-letter FILE to keep them)"
	done
	run -1 --separate-stderr batch-report -j 3 --input-format clf --format json "$DATA/br-access.clf"
	two=$(norm <<<"$output")
	run -1 --separate-stderr batch-report --input-format clf --format json "$DATA/br-access.clf"
	assert_equal "$two" "$(norm <<<"$output")"
}

@test "progress: a line on a terminal's stderr, nothing on a pipe, --progress and --no-progress force it" {
	run -0 script -qec "batch-report --format json -o $T/o.json $EV" /dev/null
	assert_output --partial "batch-report: 2000 records"
	run -0 --separate-stderr batch-report --format json "$EV"
	assert_equal "$stderr" ""
	run -0 --separate-stderr batch-report --progress --format json "$EV"
	[[ $stderr == *"batch-report: 2000 records, 0.3 MB"* ]]
	run -0 script -qec "batch-report --no-progress --format json -o $T/o.json $EV" /dev/null
	assert_output ""
}

@test "--approx: distinct entities from HyperLogLog within 2% of exact" {
	report --approx --sections summary "$EV"
	run jq '.summary.entities' "$T/r.json"
	[ "$output" -ge 95 ] && [ "$output" -le 99 ]
}

@test "--help names every option; bad values name the option" {
	run -0 batch-report --help
	assert_line --partial "--session-gap D"
	run -2 --separate-stderr batch-report --format pdf "$EV"
	assert_equal "${stderr_lines[0]}" "batch-report: --format: unknown format 'pdf' (text, markdown, json, csv, html)"
	run -2 --separate-stderr batch-report --top 0 "$EV"
	[[ ${stderr_lines[0]} == "batch-report: --top: "* ]]
}

# ---- --precision ----

@test "--precision 2: every real of the JSON report is the unrounded one rounded half away from zero, by python's Decimal" {
	run -0 batch-report --format json "$EV"
	printf '%s\n' "$output" > "$T/exact.json"
	run -0 batch-report --format json --precision 2 "$EV"
	printf '%s\n' "$output" > "$T/r2.json"
	run -0 python3 -c '
import sys, json
from decimal import Decimal, ROUND_HALF_UP
# Parse reals as their text: the exact report as Decimals, the rounded one as written.
a = json.load(open(sys.argv[1]), parse_float=Decimal)
b = json.load(open(sys.argv[2]), parse_float=lambda s: ("real", s))
reals = 0
def walk(x, y, path):
    global reals
    if isinstance(x, dict):
        assert isinstance(y, dict) and list(x) == list(y), path
        for k in x: walk(x[k], y[k], path + "." + k)
    elif isinstance(x, list):
        assert isinstance(y, list) and len(x) == len(y), path
        for i, (p, q) in enumerate(zip(x, y)): walk(p, q, "%s[%d]" % (path, i))
    elif isinstance(x, Decimal):
        want = x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        want = format(abs(want) if want == 0 else want, "f")
        assert y == ("real", want), (path, x, y, want)
        reals += 1
    else:
        assert x == y, (path, x, y)
walk(a, b, "")
print(reals)
' "$T/exact.json" "$T/r2.json"
	(( output > 50 ))	# means, shares, quantiles, histogram bounds: many reals were compared
}

@test "--precision N gives N digits after the point in csv, text, markdown and html; integers stay integers" {
	run -0 batch-report --format json --precision 1 --sections metric "$EV"
	mean=$(printf '%s\n' "$output" | jq -r '.metric.mean')
	count=$(printf '%s\n' "$output" | jq -r '.metric.count')
	run -0 batch-report --format json --sections metric "$EV"
	want=$(printf '%s\n' "$output" | jq -r '.metric.mean' | python3 -c '
import sys
from decimal import Decimal, ROUND_HALF_UP
print(Decimal(sys.stdin.read().strip()).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))')
	assert_equal "$mean" "$want"
	run -0 batch-report --format csv --precision 1 --sections metric "$EV"
	assert_line "metric,mean,$want"
	assert_line "metric,count,$count"
	# Every real cell of the csv has one digit after the point.
	run -0 bash -c "batch-report --format csv --precision 1 --sections metric '$EV' | tr ',' '\n' |
	    awk '/^-?[0-9]+\\.[0-9]+\$/ { n++; if (\$0 !~ /\\.[0-9]\$/) bad++ } END { print n + 0, bad + 0 }'"
	assert_output --regexp '^[1-9][0-9]* 0$'
	run -0 batch-report --format text --precision 1 --sections metric "$EV"
	assert_line --regexp "^mean +$want\$"
	run -0 batch-report --format markdown --precision 1 --sections metric "$EV"
	assert_line "| mean | $want |"
	run -0 batch-report --format html --precision 1 --sections metric "$EV"
	assert_output --partial "<td class=\"num\">$want</td>"
}

@test "--precision and --round out of range are usage errors naming the option" {
	run -2 --separate-stderr batch-report --precision 21 "$EV"
	assert_equal "${stderr_lines[0]}" "batch-report: --precision: must be from 0 to 20: 21"
	run -2 --separate-stderr batch-report --round x "$EV"
	assert_equal "${stderr_lines[0]:0:21}" "batch-report: --round"
}
