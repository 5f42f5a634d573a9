#!/usr/bin/env bash
# gRPC (unary and LookupStream) beside HTTP/JSON, one lookup of one driver of driver_stats, in one run against one
# FeatureServer (release) on the large sample data: serving-bench for gRPC, wrk for HTTP, both on this machine.
# Usage: bash bench/grpc_vs_http.sh [seconds per run, default 8]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-8}"
SCRATCH="${SCRATCH:-.build-release}"
DATA="bench/data/serving"
for product in FeatureServer featurectl serving-bench; do swift build -c release --scratch-path "$SCRATCH" --product "$product" >/dev/null; done
BIN="$SCRATCH/release"
command -v wrk >/dev/null || { echo "grpc_vs_http: needs wrk (apt-get install wrk)" >&2; exit 1; }
if [ ! -f "$DATA/repo/data/online.db" ]; then
  rm -rf "$DATA" && mkdir -p "$DATA/repo"
  cp features/*.yaml "$DATA/repo/"
  "$BIN/featurectl" sample-data --size large --repo "$DATA/repo" >/dev/null
  "$BIN/featurectl" apply --repo "$DATA/repo" >/dev/null
  "$BIN/featurectl" materialize-incremental now --repo "$DATA/repo" >/dev/null
fi
"$BIN/FeatureServer" --repo "$DATA/repo" --no-ingest --grpc-port 6580 --http-port 6581 --catalog-port 6582 2>"$DATA/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "HTTP listening" "$DATA/server.log" && break; sleep 0.1; done
echo "FeatureServer, serving-bench and wrk share $(nproc) cores; ${SECONDS_PER_RUN}s per run"
cpu() { awk '{print $14+$15}' "/proc/$SERVER/stat"; }
run() {  # command...
  local before after
  before=$(cpu)
  local out; out=$("$@" | tail -1)
  after=$(cpu)
  echo "$out server_cpu_s=$(awk "BEGIN {print ($after - $before) / 100}")"
}
run "$BIN/serving-bench" --port 6580 --duration "$SECONDS_PER_RUN" --scenario 1x1 --concurrency 1
run "$BIN/serving-bench" --port 6580 --duration "$SECONDS_PER_RUN" --scenario 1x1 --concurrency 64
run "$BIN/serving-bench" --port 6580 --duration "$SECONDS_PER_RUN" --scenario 1x1 --mode stream --concurrency 1 --depth 1
run "$BIN/serving-bench" --port 6580 --duration "$SECONDS_PER_RUN" --scenario 1x1 --mode stream --concurrency 2 --depth 16
run wrk -t1 -c1 "-d${SECONDS_PER_RUN}s" -s bench/wrk_lookup.lua http://127.0.0.1:6581
run wrk -t1 -c64 "-d${SECONDS_PER_RUN}s" -s bench/wrk_lookup.lua http://127.0.0.1:6581
