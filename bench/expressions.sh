#!/usr/bin/env bash
# Expression evaluation: ten expressions over 10M rows, our column evaluator against DuckDB on the same file and SQL
# (one run of each, medians of 5), then the per-entity cost of ten on-demand expressions in a lookup.
# Usage: bash bench/expressions.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-10000000}"
DATA="bench/data/expressions-$ROWS"
swift build -c release --product expression-bench >/dev/null
ours=$(.build/release/expression-bench offline "$DATA" --rows "$ROWS" --runs 5)
echo "$ours"
mapfile -t SQL < <(.build/release/expression-bench sql x)
theirs=$(.venv/bin/python bench/expressions_peer.py "$DATA/data.parquet" 5 "${SQL[@]}")
echo "$theirs"
.venv/bin/python -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print(f'ratio DuckDB/ours: {b[\"median_seconds\"]/a[\"median_seconds\"]:.2f}x')" "$ours" "$theirs"
echo "in-process lookups with ten on-demand expressions (release build):"
.build/release/expression-bench online "$DATA/repo" --iterations 20000
