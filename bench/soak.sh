#!/usr/bin/env bash
# Soak (issue 26): FeatureServer (release) on the example repository with the sample data, ingesting its two Kafka
# streams from librdkafka's mock cluster (in a process of its own by default), under a fixed mix for a bounded time: gRPC lookups, HTTP pushes and stream
# events at fixed rates, open loop (bench/soak.py). Prints errors (expected 0), latency percentiles per 30 s window,
# the server's RSS after the warm-up and at the end (expected flat within 10%), a freshness check of the stream, and
# the server's exit status after SIGTERM. Exits non-zero when any of those fails.
# Usage: bash bench/soak.sh [seconds, default 600]
#   SOAK_SIZE=large   the large sample data (10,000 drivers, 100,000 customers; minutes to generate, kept 6 h)
#   SOAK_ARGS="..."   more options for bench/soak.py (rates, shares; see python bench/soak.py --help)
#   SOAK_KAFKA=embedded   the server's embedded mock cluster (kafka: {bootstrap_servers: embedded}) instead of one in
#                     a process of its own (bench/soak.py --mock-broker, the default): the embedded broker's in-memory
#                     log of every produced event (about 5 MB per partition) then counts in the server's RSS
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-600}"
SIZE="${SOAK_SIZE:-small}"
SCRATCH="${SCRATCH:-.build-release}"
BIN="$SCRATCH/release"
PY="${PYTHON:-.venv/bin/python}"
DATA="bench/data/soak"
BASE="$DATA/base-$SIZE"
REPO="$DATA/repo"
LOG="$DATA/server.log"
GRPC_PORT="${SOAK_GRPC_PORT:-6590}"
HTTP_PORT="${SOAK_HTTP_PORT:-6591}"
CATALOG_PORT="${SOAK_CATALOG_PORT:-6592}"
KAFKA_MODE="${SOAK_KAFKA:-separate}"
[ "$KAFKA_MODE" = embedded ] || [ "$KAFKA_MODE" = separate ] || { echo "soak: SOAK_KAFKA must be embedded or separate" >&2; exit 2; }
case "$SIZE" in
  small) DRIVERS=50; CUSTOMERS=200 ;;
  large) DRIVERS=10000; CUSTOMERS=100000 ;;
  *) echo "soak: SOAK_SIZE must be small or large" >&2; exit 2 ;;
esac

for product in FeatureServer featurectl; do
  [ -x "$BIN/$product" ] || swift build -c release --scratch-path "$SCRATCH" --product "$product" >/dev/null
done
"$PY" -c 'import grpc, grpc_tools, confluent_kafka' 2>/dev/null || {
  echo "soak: $PY needs grpcio, grpcio-tools and confluent-kafka (bash scripts/setup installs them)" >&2; exit 1; }

# The sample data, generated once per size (kept 6 hours: its newest rows are then still within the views' ttl).
if [ ! -f "$BASE/.ready" ] || [ -n "$(find "$BASE/.ready" -mmin +360)" ]; then
  rm -rf "$BASE" && mkdir -p "$BASE"
  cp features/*.yaml "$BASE/"
  "$BIN/featurectl" sample-data --size "$SIZE" --repo "$BASE" >/dev/null
  touch "$BASE/.ready"
fi
# A fresh repository for every run: the definitions, the sample files hard-linked (Parquet files are never rewritten;
# the ingester adds new ones), a new registry and online store (the embedded cluster starts empty at every run, so
# stream positions recorded by an earlier run must not be kept).
rm -rf "$REPO" && mkdir -p "$REPO/data"
cp features/*.yaml "$REPO/"
cp -al "$BASE/data/." "$REPO/data/"
grep -q '^kafka:' "$REPO/feature_store.yaml" || printf 'kafka:\n  bootstrap_servers: embedded\n' >>"$REPO/feature_store.yaml"
BROKER=""
cleanup() {
  [ -z "${SERVER:-}" ] || { kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true; }
  [ -z "$BROKER" ] || { kill $BROKER 2>/dev/null; wait $BROKER 2>/dev/null || true; }
}
trap cleanup EXIT
if [ "$KAFKA_MODE" = separate ]; then
  "$PY" bench/soak.py --mock-broker driver_activity trips >"$DATA/broker.out" 2>"$DATA/broker.log" &
  BROKER=$!
  for _ in $(seq 100); do [ -s "$DATA/broker.out" ] && break; sleep 0.2; done
  KAFKA=$(head -1 "$DATA/broker.out")
  [ -n "$KAFKA" ] || { echo "soak: the mock broker did not start; its log:" >&2; cat "$DATA/broker.log" >&2; exit 1; }
  sed -i "s/^\( *bootstrap_servers:\).*/\1 $KAFKA/" "$REPO/feature_store.yaml"
fi
"$BIN/featurectl" apply --repo "$REPO" >/dev/null
"$BIN/featurectl" materialize-incremental now --repo "$REPO" >/dev/null

"$BIN/FeatureServer" --repo "$REPO" --grpc-port "$GRPC_PORT" --http-port "$HTTP_PORT" --catalog-port "$CATALOG_PORT" 2>"$LOG" &
SERVER=$!
ready() { "$PY" - "$HTTP_PORT" <<'EOF'
import sys, urllib.request
try:
    sys.exit(0 if urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=1).status == 200 else 1)
except Exception:
    sys.exit(1)
EOF
}
for _ in $(seq 120); do
  kill -0 $SERVER 2>/dev/null || { echo "soak: FeatureServer exited; its log:" >&2; cat "$LOG" >&2; exit 1; }
  ready && break
  sleep 0.5
done
ready || { echo "soak: FeatureServer not ready after 60 s; its log:" >&2; cat "$LOG" >&2; exit 1; }
if [ "$KAFKA_MODE" = embedded ]; then
  # With bootstrap_servers: embedded the cluster lives in the server; its address is in the log.
  KAFKA=$(grep -o 'bootstrap_servers=[0-9.:]*' "$LOG" | head -1 | cut -d= -f2)
  [ -n "$KAFKA" ] || { echo "soak: no 'embedded Kafka ... listening bootstrap_servers=' in $LOG" >&2; exit 1; }
fi
echo "FeatureServer (release, pid $SERVER) on the example with the $SIZE sample data; gRPC :$GRPC_PORT, HTTP :$HTTP_PORT," \
  "$KAFKA_MODE Kafka mock at $KAFKA; server and load generator share $(nproc) cores"

STATUS=0
# shellcheck disable=SC2086
"$PY" bench/soak.py --duration "$DURATION" --grpc "127.0.0.1:$GRPC_PORT" --http "127.0.0.1:$HTTP_PORT" --kafka "$KAFKA" \
  --server-pid "$SERVER" --drivers "$DRIVERS" --customers "$CUSTOMERS" ${SOAK_ARGS:-} || STATUS=$?

kill -TERM $SERVER
for _ in $(seq 300); do kill -0 $SERVER 2>/dev/null || break; sleep 0.1; done
if kill -0 $SERVER 2>/dev/null; then
  echo "FeatureServer did not stop within 30 s of SIGTERM (log: $LOG)"
  kill -KILL $SERVER; STATUS=1
fi
SERVER_STATUS=0
wait $SERVER || SERVER_STATUS=$?
SERVER=""
echo "FeatureServer exit status after SIGTERM: $SERVER_STATUS"
ERRORS=$(grep -c -E ' (error|critical) ' "$LOG" || true)
echo "server log: $LOG ($(wc -l <"$LOG") lines, $ERRORS at level error or critical)"
[ "$SERVER_STATUS" -eq 0 ] || STATUS=1
exit "$STATUS"
