#!/usr/bin/env bash
# Avro ingestion beside JSON: the same events (12 features over 3 views, a context field no view reads) as 1 KB JSON
# objects and as Avro records in the Confluent wire format (schema from a Schema Registry: the test's registry,
# Tests/StreamIngestionTests/Interop/schema_registry.py, on loopback), ingested online into SQLite and offline into
# Parquet, runs alternating. Prints each format's median events/s and the ratio.
# Usage: bash bench/ingest_avro.sh [events, default 200000] [runs, default 3]
#        (INGEST_BENCH=path/to/ingest-bench runs that binary instead of building one)
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS="${1:-200000}"
RUNS="${2:-3}"
if [ -z "${INGEST_BENCH:-}" ]; then
  swift build -c release --product ingest-bench >/dev/null
  INGEST_BENCH=.build/release/ingest-bench
fi
PARTITIONS=$(( (EVENTS / 4000) + 1 ))
REGISTRY_OUT=$(mktemp)
.venv/bin/python Tests/StreamIngestionTests/Interop/schema_registry.py bench:bench >"$REGISTRY_OUT" &
REGISTRY=$!
trap 'kill -9 $REGISTRY 2>/dev/null; rm -f "$REGISTRY_OUT"' EXIT
for _ in $(seq 100); do [ -s "$REGISTRY_OUT" ] && break; sleep 0.1; done
URL="http://127.0.0.1:$(head -1 "$REGISTRY_OUT")"
json=(); avro=()
for run in $(seq "$RUNS"); do
  for format in json avro; do
    out=$("$INGEST_BENCH" --mode throughput --events "$EVENTS" --partitions "$PARTITIONS" --format "$format" --registry "$URL" 2>/dev/null)
    echo "$out" | grep -E "^throughput"
    rate=$(echo "$out" | awk '/RESULT/ {print $3}')
    if [ "$format" = json ]; then json+=("$rate"); else avro+=("$rate"); fi
  done
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mj=$(median "${json[@]}"); ma=$(median "${avro[@]}")
echo "median of $RUNS: avro $ma events/s, json $mj events/s, avro/json $(awk -v a="$ma" -v b="$mj" 'BEGIN {printf "%.2f", a/b}')x"
