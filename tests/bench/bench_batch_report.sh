#!/bin/sh
# batch-report: the default report over 1M events with -j 1 and -j 2, against the
# same figures made by aggregate runs (one per section) and by Miller; then an
# access log of 200,000 lines (the Elastic sample repeated; ../shared/data is for
# benchmarks only) against GoAccess's JSON report.  batch-report must be at
# least 4x faster than GoAccess with -j 1.
#
# Figures (2 cores, 1M events of build/gen 1000000 1, 141 MB; CPU seconds from
# perf samples per process, since the machine ran at a load average of 16 and
# wall times varied 2x between runs):
#                        -j 1 CPU   -j 2: worker + worker, merge   critical path
#   before (main 61e4e2f) 1.59 s    1.47 + 1.37, 0.88 s             2.35 s
#   after                 1.43 s    0.83 + 0.79, 0.23 s             1.06 s
# Before, a worker printed every metric value (twice: overall and per page) as
# the shortest decimal (printf + strtod probing) and the merger read them back
# through jansson and sorted them again; now a quantile state is the values
# sorted, as IEEE 754 bits in one hex string that gr_load takes out of the line
# before jansson, and the merger joins sorted runs.  The rest of a worker's time
# is its half of the reading and grouping, plus counting the lines before its
# piece (for line numbers in diagnostics).  -j 2 output is -j 1's byte for byte.
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
