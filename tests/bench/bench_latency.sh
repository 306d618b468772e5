#!/bin/sh
# One event across a live three-stage pipe: tools flush when their input has nothing more ready.
set -eu
cc -O2 -o "$BENCH_TMP/latency" tests/bench/latency.c
echo "latency of one event on a live pipe (1000 events, one at a time):"
set -- $("$BENCH_TMP/latency" 1000 'ingest | ingest | ingest')
echo "  ingest | ingest | ingest     median $1 ms, p99 $2 ms"
