#!/usr/bin/env bash
# Feature logging under load: FeatureServer (release) serving the large example (bench/serving.sh's repository) with
# driver_ranking_v1 logged at 100% against the same server without logging, alternating, the load generator
# saturating it from the same machine. Prints each run's p50/p99, the median p99 ratio (logged / not logged) per
# scenario, and the logger's counts (rows written and dropped: every logged lookup is written or counted as dropped).
# Usage: bash bench/feature_logging.sh [seconds per run, default 10] [rounds, default 3]   (after bash bench/serving.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-10}"
ROUNDS="${2:-3}"
SCRATCH="${SCRATCH:-.build-release}"
DATA="bench/data/serving"
for product in FeatureServer featurectl serving-bench; do swift build -c release --scratch-path "$SCRATCH" --product "$product" >/dev/null; done
BIN="$SCRATCH/release"
[ -f "$DATA/repo/data/online.db" ] || { echo "run bash bench/serving.sh first (it builds the large example's online store)"; exit 1; }
# The same definitions and data; the logged copy adds logging to driver_ranking_v1 (files in a folder of its own).
LOGGED="$DATA/logged"
LOGS=$(mktemp -d)
rm -rf "$LOGGED" && mkdir -p "$LOGGED"
for f in "$DATA"/repo/*.yaml; do cp "$f" "$LOGGED/"; done
ln -s "$(cd "$DATA/repo/data" && pwd)" "$LOGGED/data"
sed -i '/^feature_services:/,$ s/^\(  - name: driver_ranking_v1\)$/\1\n    logging: {sample_rate: 1.0, path: '"${LOGS//\//\\/}"'}/' "$LOGGED/services.yaml"
grep -q "logging: {sample_rate: 1.0" "$LOGGED/services.yaml"
sed -i '/^feature_services:/,$ {/^    logging:/d}' "$DATA/repo/services.yaml"   # the plain repository logs nothing
sed -i '/^    skew_watch:/d' "$DATA/repo/services.yaml" "$LOGGED/services.yaml"   # logging alone is measured
trap 'rm -rf "$LOGS" "$LOGGED"' EXIT

serve() {  # repo, then runs the scenarios; prints one line per run
  "$BIN/FeatureServer" --repo "$1" --no-ingest --no-catalog --grpc-port 6582 --http-port 6583 2>"$DATA/logging-server.log" &
  local server=$!
  for _ in $(seq 100); do grep -q "gRPC listening" "$DATA/logging-server.log" && break; sleep 0.1; done
  "$BIN/serving-bench" --port 6582 --duration "$SECONDS_PER_RUN" --scenario 1xservice --concurrency 16 | sed "s/^/$2 /"
  "$BIN/serving-bench" --port 6582 --duration "$SECONDS_PER_RUN" --scenario 100xservice --concurrency 4 | sed "s/^/$2 /"
  curl -s http://127.0.0.1:6583/metrics | grep -E '^featurestore_feature_log_(rows|dropped|files)_total' | sed "s/^/$2 metrics /" || true
  kill -TERM $server; wait $server 2>/dev/null || true
}
OUT=$(mktemp)
echo "FeatureServer (release) and the load generator share this machine's $(nproc) cores; ${SECONDS_PER_RUN}s per run, $ROUNDS rounds alternating."
for round in $(seq "$ROUNDS"); do
  serve "$DATA/repo" off | tee -a "$OUT"
  serve "$LOGGED" on | tee -a "$OUT"
done
echo "Rows in the log files: $(find "$LOGS" -name '*.parquet' | wc -l) files"
python3 - "$OUT" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    m = re.match(r"(on|off) .*scenario=(\S+).*p50_ms=([\d.]+) p99_ms=([\d.]+).*calls=(\d+)", line)
    if m:
        runs.setdefault((m[2], m[1]), []).append((float(m[3]), float(m[4]), int(m[5])))
for scenario in sorted({k[0] for k in runs}):
    off, on = runs.get((scenario, "off"), []), runs.get((scenario, "on"), [])
    if off and on:
        p99_off, p99_on = statistics.median(r[1] for r in off), statistics.median(r[1] for r in on)
        calls_off, calls_on = statistics.median(r[2] for r in off), statistics.median(r[2] for r in on)
        print(f"{scenario}: p99 off {p99_off:.3f} ms, on {p99_on:.3f} ms (x{p99_on / p99_off:.2f}); calls off {calls_off:.0f}, on {calls_on:.0f}")
PY
