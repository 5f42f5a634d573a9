#!/usr/bin/env bash
# A/B two builds on materialization (the join benchmark's large preset into SQLite) and in-process lookups, and on
# stream ingestion throughput, alternating sides (machines drift):
#   bash bench/ab_online.sh OLD_RELEASE_DIR NEW_RELEASE_DIR [runs, default 2]
# where each directory holds release builds of featurectl, online-bench and ingest-bench (e.g. a worktree's
# .build/release). Prints each run and the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD="$1" NEW="$2" RUNS="${3:-2}"
DATA="bench/data/join-large"
[ -f "$DATA/repo/feature_store.yaml" ] || { echo "ab_online: run .venv/bin/python bench/join.py large first" >&2; exit 2; }
for run in $(seq "$RUNS"); do
  for side in OLD NEW; do
    dir="${!side}"
    rm -f "$DATA/online.db" "$DATA/online.db-wal" "$DATA/online.db-shm" "$DATA/registry.db"
    "$dir/featurectl" apply --repo "$DATA/repo" >/dev/null
    start=$(date +%s.%N)
    "$dir/featurectl" materialize 2023-01-01T00:00:00Z 2024-12-31T00:00:00Z --repo "$DATA/repo" >/dev/null
    end=$(date +%s.%N)
    echo "run $run $side materialize $(echo "$end - $start" | bc) s"
    "$dir/online-bench" "$DATA/repo" --iterations 20000 | sed "s/^/run $run $side lookup /"
    "$dir/ingest-bench" --mode throughput --events 200000 --partitions 51 2>/dev/null | grep -E '^RESULT' | sed "s/^/run $run $side ingest /"
  done
done
