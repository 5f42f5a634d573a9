#!/usr/bin/env bash
# Stream ingestion benchmark: sustained rate (1 KB JSON events, 3 views, into SQLite online and Parquet offline)
# against a Python peer (confluent-kafka + json + sqlite3) reading the same topic of the same mock cluster, then
# freshness at a steady 10,000 events/s. librdkafka's mock cluster runs inside the benchmark process and shares
# the machine's cores with the ingester (a real deployment has the brokers elsewhere).
# Usage: bash bench/ingest.sh [events, default 200000] [runs, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS="${1:-200000}"
RUNS="${2:-3}"
swift build -c release --product ingest-bench >/dev/null
# The mock keeps about 5 MB per partition: 48 partitions hold 200,000 1 KB events.
PARTITIONS=$(( (EVENTS / 4000) + 1 ))
ours=(); peers=()
for run in $(seq "$RUNS"); do
  handshake=$(mktemp -u)
  .build/release/ingest-bench --mode throughput --events "$EVENTS" --partitions "$PARTITIONS" --export "$handshake" >/tmp/ingest-bench.out 2>/dev/null &
  BENCH=$!
  for _ in $(seq 600); do [ -f "$handshake" ] && break; sleep 0.1; done
  grep -E "^throughput" /tmp/ingest-bench.out
  ours+=("$(grep RESULT /tmp/ingest-bench.out | awk '{print $3}')")
  peer=$(.venv/bin/python bench/ingest_peer.py "$(cat "$handshake")" "$EVENTS" 2>/dev/null)
  echo "$peer" | head -1
  DRAIN_ONLY=1 .venv/bin/python bench/ingest_peer.py "$(cat "$handshake")" "$EVENTS" 2>/dev/null | head -1
  peers+=("$(echo "$peer" | awk '/RESULT/ {print $3}')")
  rm -f "$handshake"; wait $BENCH
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mo=$(median "${ours[@]}"); mp=$(median "${peers[@]}")
echo "median of $RUNS: ours $mo events/s, python peer $mp events/s, ratio $(awk -v a="$mo" -v b="$mp" 'BEGIN {printf "%.2f", a/b}')x"
.build/release/ingest-bench --mode freshness --rate 10000 --seconds 20 --partitions 6 2>/dev/null | grep -E "^freshness"
