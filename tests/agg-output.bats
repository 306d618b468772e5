#!/usr/bin/env bats
# aggregate's output control: --precision, --final with --sort/--top, final:false, --fill, file operands.
# Every expected output is worked out here by python3 (Decimal, Fraction) or jq, not by ndflow.

bats_require_minimum_version 1.5.0

setup() { load common-setup; _common_setup; }

# pyround N: each line of stdin is a decimal number; print it rounded to N
# digits after the point, half away from zero (Decimal's ROUND_HALF_UP),
# in fixed notation, a zero without its sign.
pyround() {
	python3 -c '
import sys
from decimal import Decimal, ROUND_HALF_UP, getcontext
getcontext().prec = 2000
n = int(sys.argv[1])
for line in sys.stdin:
    d = Decimal(line.strip()).quantize(Decimal(1).scaleb(-n), rounding=ROUND_HALF_UP)
    if d == 0:
        d = abs(d)
    print(format(d, "f"))
' "$1"
}

# ---- --precision ----

@test "--precision rounds a value's decimal text half away from zero, as python's Decimal ROUND_HALF_UP does" {
	# min of a one-value group is the value's text as it came: the rounding alone is under test.
	{
		printf '%s\n' 2.675 0.125 -0.125 1.005 -2.5 0.5 9.995 -9.995 99.5 0.0049 -0.004 1e-7 1.5e3 \
		    -2.5E-3 123456.785 0.000 -0.0 3.14159265358979 1e+21 7.0E+1 0.9999999999999999 \
		    99999999999999999999999999999999999999999999999999999999999999999999999.99999999999995 \
		    -0.000000000000000000000000000000000000000000000000000000000000000000000000000004999e74
		awk 'BEGIN { srand(11); for (i = 0; i < 400; i++)
			printf "%s%d.%0" int(1 + rand() * 8) "d\n", rand() < 0.3 ? "-" : "", int(rand() * 1000), int(rand() * 99999999) }'
	} > "$T/nums"
	awk '{ printf "{\"k\":%d,\"v\":%s}\n", NR, $1 }' "$T/nums" > "$T/in"
	for n in 0 1 2 3 6; do
		run -0 aggregate -g k --precision "$n" min:v < "$T/in"
		# The raw JSON text of the result, not a reparsed number (jq would reformat it).
		printf '%s\n' "$output" | sed 's/.*"v_min"://; s/}$//' > "$T/got"
		pyround "$n" < "$T/nums" > "$T/want"
		run diff "$T/want" "$T/got"
		assert_success
	done
}

@test "--precision N of a computed mean is the Decimal rounding of the correctly rounded mean" {
	# Integer values: the sum is exact, so the mean is sum/n rounded once, as python's float(Fraction) is.
	awk 'BEGIN { srand(5); for (i = 0; i < 3000; i++) printf "{\"g\":%d,\"v\":%d}\n", int(rand() * 300), int(rand() * 2000 - 1000) }' > "$T/in"
	for n in 0 1 2 4; do
		run -0 aggregate -g g --precision "$n" mean:v < "$T/in"
		printf '%s\n' "$output" | sed 's/{"g":\([0-9]*\),"v_mean":\(.*\)}/\1 \2/' | sort -n > "$T/got"
		python3 -c '
import sys, json
from fractions import Fraction
from decimal import Decimal, ROUND_HALF_UP
n = int(sys.argv[1]); s = {}; c = {}
for line in open(sys.argv[2]):
    r = json.loads(line); s[r["g"]] = s.get(r["g"], 0) + r["v"]; c[r["g"]] = c.get(r["g"], 0) + 1
for g in sorted(s):
    d = Decimal(repr(float(Fraction(s[g], c[g])))).quantize(Decimal(1).scaleb(-n), rounding=ROUND_HALF_UP)
    print(g, format(abs(d) if d == 0 else d, "f"))
' "$n" "$T/in" > "$T/want"
		run diff "$T/want" "$T/got"
		assert_success
	done
}

@test "--precision: ties at .5 go away from zero, integers stay integers, and first/last/mode keep their digits" {
	printf '%s\n' '{"g":"a","v":1}' '{"g":"a","v":2}' '{"g":"b","v":-1}' '{"g":"b","v":-2}' '{"g":"c","v":2.25}' > "$T/in"
	run -0 aggregate -g g --precision 0 count sum:v mean:v min:v first:v mode:v < "$T/in"
	assert_output "$(printf '%s\n' \
		'{"g":"a","count":2,"v_sum":3,"v_mean":2,"v_min":1,"v_first":1,"v_mode":1}' \
		'{"g":"b","count":2,"v_sum":-3,"v_mean":-2,"v_min":-2,"v_first":-1,"v_mode":-2}' \
		'{"g":"c","count":1,"v_sum":2,"v_mean":2,"v_min":2,"v_first":2.25,"v_mode":2.25}')"
	run -0 aggregate -g g --round 3 mean:v stddev:v < "$T/in"
	assert_output "$(printf '%s\n' '{"g":"a","v_mean":1.500,"v_stddev":0.707}' \
		'{"g":"b","v_mean":-1.500,"v_stddev":0.707}' '{"g":"c","v_mean":2.250,"v_stddev":null}')"
}

@test "--precision writes the same digits in every format, and --sort ranks by the exact values" {
	# a's mean 1.01 and b's 1.04 are both 1.0 at one digit: sorted by the rounded value they would tie (a first).
	printf '%s\n' '{"g":"a","v":1.01}' '{"g":"b","v":1.04}' '{"g":"c","v":0.96}' > "$T/in"
	run -0 aggregate -g g --precision 1 --sort -v_mean mean:v < "$T/in"
	assert_output "$(printf '%s\n' '{"g":"b","v_mean":1.0}' '{"g":"a","v_mean":1.0}' '{"g":"c","v_mean":1.0}')"
	run -0 aggregate -g g --precision 1 --sort v_mean --format csv mean:v < "$T/in"
	assert_output "$(printf '%s\n' 'g,v_mean,v_invalid' 'c,1.0,0' 'a,1.0,0' 'b,1.0,0')"
	printf '{"g":"x","v":2.675}\n{"g":"x","v":2.675}\n' > "$T/in2"
	for f in csv tsv table markdown html json ndjson; do
		run -0 aggregate -g g --precision 2 --format "$f" mean:v < "$T/in2"
		assert_output --partial '2.68'
		refute_output --partial '2.675'
	done
	run -0 aggregate -g g --precision 2 --format table mean:v < "$T/in2"
	assert_output "$(printf '%s\n' 'g  v_mean' 'x    2.68')"
}

@test "--precision and --round out of range or not a number are usage errors naming the option" {
	run -2 --separate-stderr aggregate --precision 21 count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --precision: must be from 0 to 20: 21"
	run -2 --separate-stderr aggregate --round -1 count < /dev/null
	assert_equal "${stderr_lines[0]:0:18}" "aggregate: --round"
	run -2 --separate-stderr aggregate --precision two count < /dev/null
	assert_equal "${stderr_lines[0]:0:22}" "aggregate: --precision"
	run -2 --separate-stderr aggregate --partial --precision 2 count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --partial writes state records: --precision does not apply"
}

@test "--precision applies to the results of --merge, never to the states of --partial" {
	printf '%s\n' '{"v":0.1}' '{"v":0.2}' '{"v":0.3}' > "$T/in"
	run -0 aggregate --partial mean:v < "$T/in"
	refute_output --partial '"v_mean"'
	printf '%s\n' "$output" > "$T/st"
	run -0 aggregate --merge --precision 3 mean:v < "$T/st"
	assert_output '{"v_mean":0.200}'
}

# ---- --final with --sort and --top ----

# hours N SEED: events over N hours, a random number (1..30) in each, as TSV "hour<TAB>count" in $T/counts and events in $T/ev.
hours() {
	python3 -c '
import sys, random, datetime
n, seed = int(sys.argv[1]), int(sys.argv[2])
random.seed(seed)
base = datetime.datetime(2024, 3, 15, tzinfo=datetime.timezone.utc)
with open(sys.argv[3], "w") as ev, open(sys.argv[4], "w") as cnt:
    for h in range(n):
        k = random.randint(1, 30)
        t0 = base + datetime.timedelta(hours=h)
        cnt.write("%s\t%d\n" % (t0.strftime("%Y-%m-%dT%H:%M:%SZ"), k))
        for i in range(k):
            t = t0 + datetime.timedelta(seconds=random.randint(0, 3599))
            ev.write("{\"timestamp\":\"%s\",\"u\":\"u%d\"}\n" % (t.strftime("%Y-%m-%dT%H:%M:%SZ"), i % 3))
' "$1" "$2" "$T/ev" "$T/counts"
	sort -o "$T/ev" "$T/ev"
}

# top_hours N: the N busiest hours of $T/counts, ties in time order, as "start count".
top_hours() {
	python3 -c '
import sys
rows = [l.split("\t") for l in open(sys.argv[2])]
rows.sort(key=lambda r: -int(r[1]))	# stable: ties keep time order
for r in rows[:int(sys.argv[1])]:
    print(r[0], int(r[1]))
' "$1" "$T/counts"
}

@test "--final --sort -count --top 10: the ten busiest hours of a day in one ranking, not ten per window" {
	hours 24 3
	top_hours 10 > "$T/want"
	window --tumbling 1h < "$T/ev" > "$T/win"
	grep -q '@watermark' "$T/win"	# watermarks close the windows one by one on the way
	run -0 aggregate --final --sort -count --top 10 count < "$T/win"
	printf '%s\n' "$output" | jq -r 'select(.window_start) | "\(.window_start) \(.count)"' > "$T/got"
	run diff "$T/want" "$T/got"
	assert_success
	# The last watermark comes once, after the results.
	run -0 aggregate --final --sort -count --top 10 count < "$T/win"
	assert_line --index 10 '{"@watermark":"+inf"}'
	assert_equal "${#lines[@]}" 11
	# Without --final, --top cuts each window's batch: a row per hour.
	run -0 aggregate --sort -count --top 10 count < "$T/win"
	assert_equal "$(printf '%s\n' "$output" | grep -c window_start)" 24
}

@test "--final --top ranks 20000 windows past the table's compaction, with -g, as a full sort would" {
	hours 20000 9
	window --tumbling 1h < "$T/ev" > "$T/win"
	python3 -c '
import sys, json, collections
c = collections.OrderedDict()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "window_start" in r:
        k = (r["window_end"], r["u"]); c[k] = c.get(k, 0) + 1
# rows come in window order, then first record of the group in it: python keeps insertion per window
rows = []
for (we, u), n in c.items():
    rows.append((we, u, n))
order = {}
for we, u, n in rows:
    order.setdefault(we, []).append((u, n))
flat = [(we, u, n) for we in sorted(order) for u, n in order[we]]
flat.sort(key=lambda r: -r[2])
for we, u, n in flat[:25]:
    print(we, u, n)
' "$T/win" > "$T/want"
	run -0 aggregate -g u --final --sort -count --top 25 count < "$T/win"
	printf '%s\n' "$output" | jq -r 'select(.window_end) | "\(.window_end) \(.u) \(.count)"' > "$T/got"
	run diff "$T/want" "$T/got"
	assert_success
}

@test "--final writes one table with one header, in csv and table formats too" {
	hours 6 4
	top_hours 3 > "$T/want"
	window --tumbling 1h < "$T/ev" > "$T/win"
	run -0 aggregate --final --sort -count --top 3 --format csv count < "$T/win"
	assert_equal "${#lines[@]}" 4
	assert_line --index 0 'window_start,window_end,count'
	printf '%s\n' "$output" | awk -F, 'NR > 1 { print $1, $3 }' > "$T/got"
	run diff "$T/want" "$T/got"
	assert_success
	run -0 aggregate --final --sort -count --top 3 --format table count < "$T/win"
	assert_equal "${#lines[@]}" 4
	assert_equal "$(printf '%s\n' "$output" | grep -c window_start)" 1
	printf '%s\n' "$output" | awk 'NR > 1 { print $1, $3 }' > "$T/got"
	run diff "$T/want" "$T/got"
	assert_success
}

@test "--final cannot be combined with --every, --state, --allowed-lateness or --partial" {
	run -2 --separate-stderr aggregate --final --every 5 count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --final and --every cannot be combined"
	run -2 --separate-stderr aggregate --final --state "$T/s" count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --final and --state cannot be combined"
	run -2 --separate-stderr aggregate --final --allowed-lateness 1m count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --final and --allowed-lateness cannot be combined: a revised window would be ranked twice"
	run -2 --separate-stderr aggregate --final --partial count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --partial writes state records: use --final on the --merge run"
}

# ---- "final" on --every's running results ----

@test "--every marks running results final:false and the windows watermarks close final:true; without it no member" {
	printf '%s\n' \
		'{"window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T10:01:00Z","v":1}' \
		'{"window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T10:01:00Z","v":2}' \
		'{"@watermark":"2024-03-15T10:01:00Z"}' \
		'{"window_start":"2024-03-15T10:01:00Z","window_end":"2024-03-15T10:02:00Z","v":4}' > "$T/in"
	run -0 aggregate --every 1 count < "$T/in"
	assert_output "$(printf '%s\n' \
		'{"window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T10:01:00Z","count":1,"final":false}' \
		'{"window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T10:01:00Z","count":2,"final":false}' \
		'{"window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T10:01:00Z","count":2,"final":true}' \
		'{"@watermark":"2024-03-15T10:01:00Z"}' \
		'{"window_start":"2024-03-15T10:01:00Z","window_end":"2024-03-15T10:02:00Z","count":1,"final":false}' \
		'{"window_start":"2024-03-15T10:01:00Z","window_end":"2024-03-15T10:02:00Z","count":1,"final":true}')"
	# A reader keeps the final ones with jq: exactly the rows a run without --every writes.
	printf '%s\n' "$output" | jq -c 'select(.final != false) | del(.final)' > "$T/kept"
	run -0 aggregate count < "$T/in"
	assert_equal "$(cat "$T/kept")" "$output"
	refute_output --partial '"final"'
}

# ---- --fill ----

# fill_expect FILE [STEP_MIN SIZE_MIN]: the rows --fill should give for window's
# output in FILE, per group u from its first window to the last, as
# "start end u count" in window order, present groups first (first-record
# order), then missing ones in first-seen order.
fill_expect() {
	python3 -c '
import sys, json, datetime
rows = [json.loads(l) for l in open(sys.argv[1])]
rows = [r for r in rows if "window_start" in r]
grouped = "u" in (rows[0] if rows else {})
fmt = "%Y-%m-%dT%H:%M:%SZ"
P = lambda s: datetime.datetime.strptime(s, fmt)
counts, first_rec, first_win = {}, {}, {}
for i, r in enumerate(rows):
    key = (r["window_start"], r["window_end"]); u = r.get("u")
    counts.setdefault(key, {}); counts[key][u] = counts[key].get(u, 0) + 1
    first_win[u] = min(first_win.get(u, r["window_start"]), r["window_start"])
    first_rec.setdefault(u, i)
seen_order = sorted(first_win, key=lambda u: (first_win[u], first_rec[u]))
step = datetime.timedelta(minutes=int(sys.argv[2])); size = datetime.timedelta(minutes=int(sys.argv[3]))
starts = sorted({P(k[0]) for k in counts})
s = starts[0]
while s <= starts[-1]:
    ws, we = s.strftime(fmt), (s + size).strftime(fmt)
    present = counts.get((ws, we), {})
    for u in present:
        print(ws, we, u, present[u])
    for u in seen_order:
        if u not in present and first_win[u] <= ws:
            print(ws, we, u, 0)
    s += step
' "$1" "${2:-1}" "${3:-1}"
}

@test "--fill -g: each group gets a count-0 row in every window from its first one to the last, as python counts" {
	python3 -c '
import random, datetime
random.seed(21)
base = datetime.datetime(2024, 3, 15, 10, tzinfo=datetime.timezone.utc)
for m in range(300):
    if random.random() < 0.4: continue
    for i in range(random.randint(1, 4)):
        u = random.choice(["a", "b", "c"] if m > 40 else ["a"])
        t = base + datetime.timedelta(minutes=m, seconds=random.randint(0, 59))
        print("{\"timestamp\":\"%s\",\"u\":\"%s\"}" % (t.strftime("%Y-%m-%dT%H:%M:%SZ"), u))
' | sort > "$T/ev"
	window --tumbling 1m < "$T/ev" > "$T/win"
	fill_expect "$T/win" > "$T/want"
	# The per-window order of present groups is the order of their first record in the window.
	run -0 aggregate -g u --fill count mean:x < "$T/win"
	printf '%s\n' "$output" | jq -r 'select(.window_start) | "\(.window_start) \(.window_end) \(.u) \(.count)"' > "$T/got"
	run diff "$T/want" "$T/got"
	assert_success
	# Filled rows have null statistics.
	printf '%s\n' "$output" | jq -e 'select(.count == 0) | .x_mean == null' > /dev/null
	# The same rows whether the windows close one watermark at a time or all at the end.
	run -0 aggregate -g u --fill count mean:x < <(grep -v '@watermark' "$T/win")
	printf '%s\n' "$output" | jq -r 'select(.window_start) | "\(.window_start) \(.window_end) \(.u) \(.count)"' > "$T/got2"
	run diff "$T/want" "$T/got2"
	assert_success
}

@test "--fill with 150 groups (past the first growth of the group list) over sparse windows" {
	python3 -c '
import random, datetime
random.seed(8)
base = datetime.datetime(2024, 3, 15, 10, tzinfo=datetime.timezone.utc)
for m in range(60):
    for i in range(random.randint(0, 12)):
        t = base + datetime.timedelta(minutes=m, seconds=random.randint(0, 59))
        print("{\"timestamp\":\"%s\",\"u\":\"g%d\"}" % (t.strftime("%Y-%m-%dT%H:%M:%SZ"), random.randint(0, 149)))
' | sort > "$T/ev"
	window --tumbling 1m < "$T/ev" > "$T/win"
	fill_expect "$T/win" > "$T/want"
	(( $(wc -l < "$T/want") > 3000 ))
	run -0 aggregate -g u --fill count < "$T/win"
	printf '%s\n' "$output" | jq -r 'select(.window_start) | "\(.window_start) \(.window_end) \(.u) \(.count)"' > "$T/got"
	run diff "$T/want" "$T/got"
	assert_success
}

@test "--fill without -g: one row per window with no events, count 0" {
	printf '%s\n' 2024-03-15T10:00:05Z 2024-03-15T10:00:50Z 2024-03-15T10:04:10Z 2024-03-15T10:05:59Z |
		awk '{ printf "{\"timestamp\":\"%s\"}\n", $1 }' | window --tumbling 1m > "$T/win"
	run -0 aggregate --fill count < "$T/win"
	printf '%s\n' "$output" | jq -r 'select(.window_start) | "\(.window_start) \(.count)"' > "$T/got"
	python3 -c '
for m, c in [(0, 2), (1, 0), (2, 0), (3, 0), (4, 1), (5, 1)]:
    print("2024-03-15T10:%02d:00Z %d" % (m, c))' > "$T/want"
	run diff "$T/want" "$T/got"
	assert_success
}

@test "--fill after sliding windows steps by the slide" {
	printf '%s\n' 2024-03-15T10:00:05Z 2024-03-15T10:31:00Z |
		awk '{ printf "{\"timestamp\":\"%s\"}\n", $1 }' | window --sliding 10m --slide 5m > "$T/win"
	fill_expect "$T/win" 5 10 | awk '{ print $1, $2, $4 }' > "$T/want"
	run -0 aggregate --fill count < "$T/win"
	printf '%s\n' "$output" | jq -r 'select(.window_start) | "\(.window_start) \(.window_end) \(.count)"' > "$T/got"
	run diff "$T/want" "$T/got"
	assert_success
	assert_equal "$(wc -l < "$T/got")" 8	# 09:55 to 10:30 every 5 minutes
}

@test "--fill with --final ranks the empty windows too" {
	printf '%s\n' 2024-03-15T10:00:05Z 2024-03-15T10:00:06Z 2024-03-15T10:03:00Z |
		awk '{ printf "{\"timestamp\":\"%s\"}\n", $1 }' | window --tumbling 1m > "$T/win"
	run -0 aggregate --fill --final --sort count --top 2 count < "$T/win"
	assert_output "$(printf '%s\n' \
		'{"window_start":"2024-03-15T10:01:00Z","window_end":"2024-03-15T10:02:00Z","count":0}' \
		'{"window_start":"2024-03-15T10:02:00Z","window_end":"2024-03-15T10:03:00Z","count":0}' \
		'{"@watermark":"+inf"}')"
}

@test "--fill without windows, with sessions, --state or --partial is a usage error with status 2" {
	printf '{"v":1}\n' > "$T/plain"
	run -2 --separate-stderr aggregate --fill count "$T/plain"
	assert_equal "${stderr_lines[0]}" "aggregate: $T/plain:1: --fill needs windows, and this record has no window_start and window_end: pipe the input through window(1) first"
	assert_output ''
	printf '%s\n' '{"timestamp":"2024-03-15T10:00:00Z"}' '{"timestamp":"2024-03-15T10:00:20Z"}' '{"timestamp":"2024-03-15T11:00:00Z"}' |
		window --session 1m > "$T/sess"
	run -2 --separate-stderr aggregate --fill count < "$T/sess"
	assert_equal "${stderr_lines[0]}" "aggregate: --fill: window 2024-03-15T11:00:00Z to 2024-03-15T11:01:00Z is not as long as the first one: only windows of one length can be filled"
	run -2 --separate-stderr aggregate --fill --state "$T/st" count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --fill and --state cannot be combined"
	run -2 --separate-stderr aggregate --fill --partial count < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: --partial writes state records: use --fill on the --merge run"
}

@test "--fill refuses a gap of more than ten million windows as a wrong time, with status 1" {
	printf '%s\n' \
		'{"window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T10:00:01Z"}' \
		'{"window_start":"2025-03-15T10:00:00Z","window_end":"2025-03-15T10:00:01Z"}' > "$T/in"
	run -1 --separate-stderr aggregate --fill count < "$T/in"
	assert_equal "${stderr_lines[0]}" "aggregate: --fill: more than 10000000 windows without events between 2024-03-15T10:00:00Z and 2025-03-15T10:00:00Z; is a time wrong?"
}

@test "--fill after --merge fills the merged windows" {
	printf '%s\n' \
		'{"window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T10:01:00Z","u":"a"}' \
		'{"window_start":"2024-03-15T10:02:00Z","window_end":"2024-03-15T10:03:00Z","u":"a"}' > "$T/in"
	aggregate -g u --partial count < "$T/in" > "$T/st"
	run -0 aggregate -g u --merge --fill count < "$T/st"
	assert_output "$(printf '%s\n' \
		'{"window_start":"2024-03-15T10:00:00Z","window_end":"2024-03-15T10:01:00Z","u":"a","count":1}' \
		'{"window_start":"2024-03-15T10:01:00Z","window_end":"2024-03-15T10:02:00Z","u":"a","count":0}' \
		'{"window_start":"2024-03-15T10:02:00Z","window_end":"2024-03-15T10:03:00Z","u":"a","count":1}')"
}

# ---- file operands ----

@test "an operand that is not a spec is an input file: aggregate -g page count data.ndjson" {
	printf '%s\n' '{"page":"a"}' '{"page":"b"}' '{"page":"a"}' > "$T/data.ndjson"
	cd "$T"
	run -0 aggregate -g page count data.ndjson
	assert_output "$(printf '%s\n' '{"page":"a","count":2}' '{"page":"b","count":1}')"
	# Files and specs in any order; -i files first, then operands; - is standard input.
	printf '{"page":"c"}\n' > "$T/more.ndjson"
	run -0 aggregate -g page data.ndjson count -i more.ndjson - < "$T/more.ndjson"
	assert_output "$(printf '%s\n' '{"page":"c","count":2}' '{"page":"a","count":2}' '{"page":"b","count":1}')"
}

@test "a function's name is a spec even when a file of that name exists; ./name reads the file" {
	cd "$T"
	printf '{"v":1}\n{"v":2}\n' > count
	run -0 aggregate count < /dev/null
	assert_output '{"count":0}'
	run -0 aggregate count ./count
	assert_output '{"count":2}'
	# An operand with ':' or '=' is always a spec.
	run -2 --separate-stderr aggregate frob:v < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: unknown function 'frob' in spec 'frob:v'"
}

@test "an operand that is neither a spec nor a file says so, with status 2" {
	run -2 --separate-stderr aggregate -g page cuont < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: 'cuont' is neither a file nor an aggregate (unknown function 'cuont')"
	# A path (with '/' or '.') is a file, and a missing one is reported as for -i, with status 3.
	run -3 --separate-stderr aggregate count "$T/nothing.ndjson" < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: $T/nothing.ndjson: No such file or directory"
	printf '{}\n' > "$T/x.ndjson"
	run -2 --separate-stderr aggregate "$T/x.ndjson" < /dev/null
	assert_equal "${stderr_lines[0]}" "aggregate: no aggregate given (for example: count, sum:value, p99:value)"
}
