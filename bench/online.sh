#!/usr/bin/env bash
# Online store benchmarks: materialize the join benchmark's large preset (3 views x 10M rows, 20k drivers)
# into SQLite and time it, then measure in-process lookup latency (p50/p99/p999) for three request shapes.
# Usage: bash bench/online.sh [small|medium|large]   (generates the data with bench/join.py first if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${1:-large}"
DATA="bench/data/join-$PRESET"
[ -f "$DATA/repo/feature_store.yaml" ] || .venv/bin/python -c "import sys; sys.argv=['x','$PRESET']; sys.path.insert(0,'bench'); import join; join.generate('$PRESET', '$DATA')"
swift build -c release --product featurectl >/dev/null
swift build -c release --product online-bench >/dev/null
rm -f "$DATA/online.db" "$DATA/online.db-wal" "$DATA/online.db-shm" "$DATA/registry.db"
.build/release/featurectl apply --repo "$DATA/repo" >/dev/null
echo "materialize ($PRESET preset, 3 views, release build):"
/usr/bin/time -f "  wall %e s, peak RSS %M KiB" .build/release/featurectl materialize 2023-01-01T00:00:00Z 2024-12-31T00:00:00Z --repo "$DATA/repo"
echo "in-process lookups (release build, 20,000 requests per case, random existing drivers):"
.build/release/online-bench "$DATA/repo" --iterations 20000
