#!/bin/sh
# aggregate against Miller's stats1 and jq on the same group-by, then peak memory
# on 1M events in 1,000 groups with and without exact quantiles.
# jq 1.6 appends to an array in a reduce in quadratic time (27 s for 100k events),
# so jq runs twice: a reduce for count/sum/mean, and a slurp + group_by for all five.
# BENCH_JQ=0 leaves jq out.
set -eu
. tests/bench/lib.sh
echo "aggregate -g page count sum mean p50 p99 (exact quantiles):"
bench aggregate "aggregate -g page count sum:value mean:value p50:value p99:value < '$BENCH_FILE' > /dev/null"
bench aggregate-no-quantiles "aggregate -g page count sum:value mean:value < '$BENCH_FILE' > /dev/null"
bench mlr "mlr --ijsonl --ojsonl stats1 -a count,sum,mean,p50,p99 -f value -g page < '$BENCH_FILE' > /dev/null"
if [ "${BENCH_JQ:-1}" != 0 ]; then
	bench jq-reduce "jq -n -c 'reduce inputs as \$e ({}; .[\$e.page].n += 1 | .[\$e.page].s += \$e.value)
	    | to_entries[] | {page: .key, count: .value.n, sum: .value.s, mean: (.value.s / .value.n)}' \
	    < '$BENCH_FILE' > /dev/null"
	bench jq-group-by "jq -n -c '
	    def q(\$v; p): (\$v | length) as \$n | ((\$n - 1) * p) as \$h | (\$h | floor) as \$l
	        | \$v[\$l] + (\$h - \$l) * (\$v[[\$l + 1, \$n - 1] | min] - \$v[\$l]);
	    [inputs | [.page, .value]] | group_by(.[0]) | .[] | (map(.[1]) | sort) as \$v
	    | {page: .[0][0], count: (\$v | length), sum: (\$v | add), mean: ((\$v | add) / (\$v | length)),
	       p50: q(\$v; 0.5), p99: q(\$v; 0.99)}' < '$BENCH_FILE' > /dev/null"
fi
report aggregate mlr
report mlr mlr
if [ "${BENCH_JQ:-1}" != 0 ]; then
	report aggregate jq-group-by
	report jq-group-by jq-group-by
	report aggregate-no-quantiles jq-reduce
	report jq-reduce jq-reduce
fi

echo "aggregate memory, 1M events in 1,000 groups (-g user_id):"
bench no-quantiles "aggregate -g user_id count sum:value mean:value stddev:value < '$BENCH_FILE' > /dev/null"
bench exact-p50-p99 "aggregate -g user_id count sum:value mean:value p50:value p99:value < '$BENCH_FILE' > /dev/null"
bench approx-p50-p99 "aggregate --approx -g user_id count sum:value mean:value p50:value p99:value < '$BENCH_FILE' > /dev/null"
bench exact-distinct "aggregate -g user_id distinct:session_id < '$BENCH_FILE' > /dev/null"
bench approx-distinct "aggregate -g user_id approx_distinct:session_id < '$BENCH_FILE' > /dev/null"
report no-quantiles no-quantiles
report exact-p50-p99 no-quantiles
report approx-p50-p99 no-quantiles
report exact-distinct no-quantiles
report approx-distinct no-quantiles
