#!/usr/bin/env bash
# Python online lookups, one driver of driver_stats per call, one caller, on the example repository with the small
# sample data, in one run: our SDK -> FeatureServer (release, gRPC); Feast's SDK -> its SQLite file in process; and
# served against served: Feast's SDK (remote online store) -> `feast serve`, and -> FeatureServer (HTTP).
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
served=$(.venv-feast/bin/python bench/sdk_online.py feast-served "$REPO" --seconds "$SECONDS_PER_RUN" 2>/dev/null | tail -1)
bridged=$(.venv-feast/bin/python bench/sdk_online.py feast-ours "$REPO" 127.0.0.1:6595 --seconds "$SECONDS_PER_RUN" 2>/dev/null | tail -1)
printf '%s\n' "$ours" "$feast" "$served" "$bridged"
python3 - "$ours" "$feast" "$served" "$bridged" <<'EOF'
import re, sys
rate = lambda line: float(re.search(r"lookups_per_s=(\d+)", line).group(1))
ours, feast, served, bridged = map(rate, sys.argv[1:5])
print(f"served vs served: our SDK -> FeatureServer / Feast's SDK -> feast serve: {ours / served:.1f}x lookups per second")
print(f"Feast's SDK -> FeatureServer / Feast's SDK -> feast serve: {bridged / served:.1f}x")
print(f"our SDK -> FeatureServer / Feast's SDK in process (not like for like): {ours / feast:.1f}x")
EOF
