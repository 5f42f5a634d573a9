#!/usr/bin/env bash
# FeatureServer load benchmark: the example repository with the large sample data (10,000 drivers, 100,000
# customers) materialized into SQLite, FeatureServer built in release, and bench/ServingBench (the generated Swift
# gRPC client) driving GetOnlineFeatures (and LookupStream for the 100-entity scenario) from the same machine for each
# scenario and concurrency. An existing repository is brought up to date first (apply, materialize-incremental).
# Usage: bash bench/serving.sh [seconds per run, default 10]   (SCRATCH: the release build's scratch path)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-10}"
SCRATCH="${SCRATCH:-.build-release}"
DATA="bench/data/serving"
for product in FeatureServer featurectl serving-bench; do swift build -c release --scratch-path "$SCRATCH" --product "$product" >/dev/null; done
BIN="$SCRATCH/release"

if [ ! -f "$DATA/repo/data/online.db" ]; then
  rm -rf "$DATA" && mkdir -p "$DATA/repo"
  cp features/*.yaml "$DATA/repo/"
  # Serving alone: the example's feature logging and skew watch are measured by bench/feature_logging.sh.
  sed -i '/^    logging:/d; /^    skew_watch:/d' "$DATA/repo/services.yaml"
  "$BIN/featurectl" sample-data --size large --repo "$DATA/repo" >/dev/null
  "$BIN/featurectl" apply --repo "$DATA/repo" >/dev/null
  "$BIN/featurectl" materialize-incremental now --repo "$DATA/repo" >/dev/null
else
  # Tables of a newer layout (or changed definitions) are filled whole; the others from their watermark.
  "$BIN/featurectl" apply --repo "$DATA/repo" >/dev/null
  "$BIN/featurectl" materialize-incremental now --repo "$DATA/repo" >/dev/null
fi

"$BIN/FeatureServer" --repo "$DATA/repo" --no-ingest --grpc-port 6580 --http-port 6581 2>"$DATA/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "gRPC listening" "$DATA/server.log" && break; sleep 0.1; done

run() { "$BIN/serving-bench" --port 6580 --duration "$SECONDS_PER_RUN" "$@"; }
echo "FeatureServer (release) and the load generator share this machine's $(nproc) cores; ${SECONDS_PER_RUN}s per run after 2s warm-up."
for c in 1 4 16 64; do run --scenario 1x1 --concurrency "$c"; done
for c in 1 16 64; do run --scenario 1xservice --concurrency "$c"; done
for c in 1 4 16; do run --scenario 100xservice --concurrency "$c"; done
for c in 1 4; do run --scenario 100xservice --mode stream --concurrency "$c" --depth 1; done
