#!/bin/sh
# ingest CSV -> NDJSON against Miller's CSV -> JSON Lines on the same generated 1M-row CSV.
set -eu
. tests/bench/lib.sh
CSV="$BENCH_DIR/events-1m.csv"
if [ ! -s "$CSV" ]; then
	echo "bench: generating a 1M-row CSV (seed 1)" >&2
	awk 'BEGIN {
		srand(1)
		split("home products cart checkout about", page, " ")
		split("view click scroll purchase", action, " ")
		print "user_id,page,action,timestamp,session_id,value,note"
		for (i = 0; i < 1000000; i++) {
			note = rand() < 0.1 ? "\"said \"\"hi\"\", then left\"" : (rand() < 0.5 ? "" : "ok")
			printf "user_%d,%s,%s,2024-03-15T%02d:%02d:%02d.%06dZ,session_%d,%.2f,%s\n",
			    int(rand() * 1000), page[int(rand() * 5) + 1], action[int(rand() * 4) + 1],
			    int(i / 360000) % 24, int(i / 6000) % 60, int(i / 100) % 60, (i % 100) * 10000,
			    int(rand() * 10000), rand() * 100, note
		}
	}' > "$CSV"
fi
BENCH_BYTES=$(wc -c < "$CSV")
echo "ingest --format csv (1M rows, $((BENCH_BYTES / 1000000)) MB; both infer numbers):"
bench mlr    "mlr --icsv --ojsonl cat < '$CSV' > /dev/null"
bench ingest "ingest --format csv --infer < '$CSV' > /dev/null"
bench ingest_strings "ingest --format csv < '$CSV' > /dev/null"
report ingest mlr
report ingest_strings mlr
report mlr mlr
# Trades as QuestDB exports them: every string quoted, numbers bare, an RFC 3339 time.
TRADES="$BENCH_DIR/trades-1m.csv"
if [ ! -s "$TRADES" ]; then
	echo "bench: generating a 1M-row trades CSV (seed 1)" >&2
	awk 'BEGIN {
		srand(1)
		split("BTC-USD ETH-USD SOL-USD AVAX-USD", sym, " ")
		print "\"symbol\",\"side\",\"price\",\"amount\",\"timestamp\""
		for (i = 0; i < 1000000; i++)
			printf "\"%s\",\"%s\",%.2f,%.8f,\"2023-09-05T16:%02d:%02d.%06dZ\"\n",
			    sym[int(rand() * 4) + 1], rand() < 0.5 ? "buy" : "sell", 25000 + rand() * 1000,
			    rand() / 10, int(i / 16667) % 60, int(i / 278) % 60, (i * 3607) % 1000000
	}' > "$TRADES"
fi
BENCH_BYTES=$(wc -c < "$TRADES")
echo "ingest --format csv, quoted strings (1M trades, $((BENCH_BYTES / 1000000)) MB; both infer numbers):"
bench mlr_trades "mlr --icsv --ojsonl cat < '$TRADES' > /dev/null"
# -t x.y: no top-level time field to rewrite, so the records are written from the cells.
bench ingest_trades "ingest --format csv --infer -t x.y < '$TRADES' > /dev/null"
bench ingest_trades_parsed "ingest --format csv --infer -t x.y --require symbol < '$TRADES' > /dev/null"
report ingest_trades mlr_trades
report ingest_trades_parsed mlr_trades
echo "ingest --format regex (the same trades, five named groups) against the CSV reader:"
tail -n +2 "$TRADES" > "$BENCH_TMP/trades.noheader"
bench ingest_regex "ingest --format regex -t x.y --pattern '^\"(?<symbol>[^\"]*)\",\"(?<side>[^\"]*)\",(?<price_num>[^,]*),(?<amount_num>[^,]*),\"(?<timestamp>[^\"]*)\"\$' < '$BENCH_TMP/trades.noheader' > /dev/null"
report ingest_regex ingest_trades
cc -O2 -o "$BENCH_TMP/follow_latency" tests/bench/follow_latency.c
echo "ingest --follow: a line appended to the file until it comes out (500 lines):"
set -- $("$BENCH_TMP/follow_latency" 500 "$BENCH_TMP/follow.log")
echo "  median $1 ms, p99 $2 ms, max $3 ms"
