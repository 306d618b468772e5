#!/bin/sh
# make demo: a small pipeline over the bundled sample (3,000 web events and a few bad lines).
set -eu
cd "$(dirname "$0")/.."
PATH="$PWD/build/bin:$PATH"
DATA=tests/data
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
have() { [ -x "build/bin/$1" ]; }
if [ -t 1 ]; then bold=$(printf '\033[1m'); off=$(printf '\033[0m'); else bold=; off=; fi
show() { printf '\n%s$ %s%s\n' "$bold" "$1" "$off"; }

echo "ndflow demo: 3,000 web events (user, page, action, timestamp, session, value)"
echo "in $DATA/web-events.ndjson, plus 5 bad lines in $DATA/web-events-dirty.ndjson."
head -1 "$DATA/web-events.ndjson"

echo
echo "1. ingest validates every line; bad ones go to a dead-letter file, never lost."
show "ingest --require user_id --type value=number --dead-letter bad.ndjson --stats web-events*.ndjson > good.ndjson"
ingest --require user_id --type value=number --dead-letter "$tmp/bad.ndjson" --stats \
    "$DATA/web-events.ndjson" "$DATA/web-events-dirty.ndjson" > "$tmp/good.ndjson" 2> "$tmp/stats"
echo "   stats: $(cat "$tmp/stats")"
echo "   $(wc -l < "$tmp/good.ndjson") good records; $(wc -l < "$tmp/bad.ndjson") kept in bad.ndjson, with the reasons:"
jq -r '"   \(.file | split("/") | last):\(.line): \(.reason)"' "$tmp/bad.ndjson" 2>/dev/null ||
    cat "$tmp/bad.ndjson"

if have window && have aggregate; then
	echo
	echo "2. The real-time half: events per page per minute of event time, each minute emitted"
	echo "   as soon as the watermark (latest time seen - 1s of allowed disorder) passes its end."
	echo "   Events later than that are kept in late.ndjson, never dropped."
	show "window --tumbling 1m --lateness 1s --late late.ndjson < good.ndjson | aggregate -g page count mean:value --sort page --format table | head -13"
	window --tumbling 1m --lateness 1s --late "$tmp/late.ndjson" < "$tmp/good.ndjson" |
	    aggregate -g page count mean:value --sort page --format table | head -13
	echo "   ($(wc -l < "$tmp/late.ndjson") late events kept in late.ndjson)"
fi

if have aggregate; then
	echo
	echo "3. The batch half: the whole sample per page, same functions, same numbers."
	show "aggregate -g page count distinct:user_id mean:value p90:value --sort -count --format table < good.ndjson"
	aggregate -g page count distinct:user_id mean:value p90:value --sort -count --format table \
	    < "$tmp/good.ndjson"
fi

if have dedupe; then
	echo
	echo "4. dedupe: the first visit of each user to each page; the repeats are counted."
	show "dedupe -k user_id,page --stats < good.ndjson | wc -l"
	dedupe -k user_id,page --stats < "$tmp/good.ndjson" 2> "$tmp/stats" | wc -l | sed 's/^/   /'
	echo "   stats: $(cat "$tmp/stats")"
fi
if have alert; then
	echo
	echo "5. alert: the same page three times in a row by one user, in event time"
	echo "   (records up to 2s out of order are put back in order; later ones are kept aside)."
	show "alert --repeat 3 --field page --by user_id --name same-page --lateness 2s --late late2.ndjson -i good.ndjson | head -3"
	alert --repeat 3 --field page --by user_id --name same-page --lateness 2s \
	    --late "$tmp/late2.ndjson" -i "$tmp/good.ndjson" | head -3
fi

if have batch-report; then
	echo
	echo "6. batch-report: the nightly report, with the numbers of the live pipe (summary and pages)."
	show "batch-report --sections summary,dimensions --top 5 good.ndjson"
	batch-report --no-progress --sections summary,dimensions --top 5 "$tmp/good.ndjson" | head -40
fi
echo
echo "Next: man ./man/man7/ndflow.7, or any tool's --help."
