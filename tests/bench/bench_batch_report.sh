#!/bin/sh
# batch-report: the default report over 1M events with -j 1 and -j 2, against the
# same figures made by aggregate runs (one per section) and by Miller; then an
# access log of 200,000 lines (the Elastic sample repeated; ../shared/data is for
# benchmarks only) against GoAccess's JSON report.  batch-report must be at
# least 4x faster than GoAccess with -j 1.
set -eu
. tests/bench/lib.sh
F=$BENCH_FILE
echo "batch-report, default report (every section) over 1M events:"
bench br-j1 "batch-report --format json -j 1 '$F' > /dev/null"
bench br-j2 "batch-report --format json -j 2 '$F' > /dev/null"
bench br-j1-approx "batch-report --approx --format json -j 1 '$F' > /dev/null"
bench br-j2-approx "batch-report --approx --format json -j 2 '$F' > /dev/null"
bench aggregate-runs "aggregate count distinct:user_id < '$F' > /dev/null;
    aggregate -g user_id count < '$F' > /dev/null;
    aggregate -g page count sum:value < '$F' > /dev/null;
    aggregate -g action count sum:value < '$F' > /dev/null;
    aggregate -g page,action count < '$F' > /dev/null;
    aggregate count:value sum:value mean:value min:value max:value stddev:value p50:value p90:value p99:value < '$F' > /dev/null;
    aggregate -g page count:value sum:value mean:value min:value max:value stddev:value p50:value p90:value p99:value < '$F' > /dev/null;
    window --tumbling 1h --lateness 2s < '$F' 2>/dev/null | aggregate count > /dev/null;
    aggregate -g session_id count < '$F' > /dev/null"
# Miller takes about 40 s a pass over 1M events here, so it makes one figure only:
# the metric statistics per page (the report's heaviest section).
bench mlr "mlr --ijsonl --ojsonl stats1 -a count,sum,mean,min,max,stddev,p50,p90,p99 -f value -g page < '$F' > /dev/null"
report br-j1 br-j1
report br-j2 br-j1
report br-j1-approx br-j1
report br-j2-approx br-j1
report aggregate-runs br-j1
report mlr br-j1

command -v goaccess >/dev/null || {
	[ "$(id -u)" -eq 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq goaccess >/dev/null; }
LOG=${BENCH_ACCESS_LOG:-}
for d in ../shared ../../shared; do
	[ -z "$LOG" ] && [ -r "$d/data/elastic_apache_logs_combined.log" ] && LOG=$d/data/elastic_apache_logs_combined.log
done
if [ ! -r "$LOG" ] || ! command -v goaccess >/dev/null; then
	echo "batch-report vs GoAccess: skipped (no $LOG or no goaccess)"
	exit 0
fi
A="$BENCH_DIR/access-200k.log"
if [ ! -s "$A" ]; then
	while [ "$(cat "$A" 2>/dev/null | wc -l)" -lt 200000 ]; do cat "$LOG" >> "$A"; done
	head -200000 "$A" > "$A.tmp" && mv "$A.tmp" "$A"
fi
BENCH_BYTES=$(wc -c < "$A")
echo "batch-report vs GoAccess, 200,000 combined log lines:"
bench br-log-j1 "batch-report --input-format combined --format json -j 1 '$A' > /dev/null 2>&1 || true"
bench br-log-j2 "batch-report --input-format combined --format json -j 2 '$A' > /dev/null 2>&1 || true"
bench goaccess "goaccess --log-format=COMBINED -o '$BENCH_TMP/report.json' '$A' > /dev/null 2>&1"
report br-log-j1 goaccess
report br-log-j2 goaccess
report goaccess goaccess
