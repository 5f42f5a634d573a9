#!/usr/bin/env bash
# Python online lookups: our SDK (FeatureServer, release, gRPC) against Feast's SDK (its own SQLite store), one
# driver of driver_stats per call, one caller, on the example repository with the small sample data, in one run.
# Usage: bash bench/sdk_online.sh [seconds per run, default 10]   (after bash scripts/setup; SCRATCH: release build)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-10}"
SCRATCH="${SCRATCH:-.build-release}"
for product in FeatureServer featurectl; do swift build -c release --scratch-path "$SCRATCH" --product "$product" >/dev/null; done
BIN="$SCRATCH/release"
REPO=$(mktemp -d)/repo
cp -r features "$REPO"
"$BIN/featurectl" sample-data --repo "$REPO" >/dev/null
"$BIN/featurectl" apply --repo "$REPO" >/dev/null
"$BIN/featurectl" materialize-incremental now --repo "$REPO" >/dev/null
"$BIN/FeatureServer" --repo "$REPO" --no-ingest --grpc-port 6594 --http-port 6595 --catalog-port 6596 2>"$REPO/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true; rm -rf "$(dirname "$REPO")"' EXIT
for _ in $(seq 100); do grep -q "gRPC listening" "$REPO/server.log" && break; sleep 0.1; done
ours=$(.venv-sdk/bin/python bench/sdk_online.py ours "$REPO" 127.0.0.1:6594 --seconds "$SECONDS_PER_RUN")
feast=$(.venv-feast/bin/python bench/sdk_online.py feast "$REPO" --seconds "$SECONDS_PER_RUN" 2>/dev/null | tail -1)
echo "$ours"
echo "$feast"
python3 -c "import re,sys; a=float(re.search(r'lookups_per_s=(\d+)', sys.argv[1]).group(1)); b=float(re.search(r'lookups_per_s=(\d+)', sys.argv[2]).group(1)); print(f'ours / feast: {a / b:.1f}x lookups per second')" "$ours" "$feast"
