#!/usr/bin/env bash
# A/B two featurectl binaries on the join and aggregation benchmarks' data, alternating runs (machines drift):
#   bash bench/ab.sh OLD_FEATURECTL NEW_FEATURECTL [PRESET] [RUNS]
# e.g. a release build of an earlier commit in a worktree (git worktree add /tmp/base COMMIT; cd /tmp/base;
# swift build -c release --product featurectl) against this tree's. The data comes from bench/join.py and
# bench/aggregate.py (run each once for PRESET first). Prints each run's wall time and the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD="$1" NEW="$2" PRESET="${3:-large}" RUNS="${4:-3}"
for bench in ${BENCHES:-join aggregate}; do
  DATA="bench/data/$bench-$PRESET"
  [ -d "$DATA/repo" ] || { echo "ab: no $DATA: run .venv/bin/python bench/$bench.py $PRESET first" >&2; exit 2; }
  if [ "$bench" = join ]; then FEATURES="driver_hourly,driver_daily,driver_weekly"; EXTRA="--full-feature-names"; else FEATURES="trips"; EXTRA=""; fi
  for side in OLD NEW; do : > "/tmp/ab-$bench-$side"; done
  for _ in $(seq "$RUNS"); do
    for side in OLD NEW; do
      bin="${!side}"
      start=$(date +%s.%N)
      "$bin" join --repo "$DATA/repo" --entities "$DATA/entities.parquet" --features "$FEATURES" $EXTRA --out "/tmp/ab-$bench.parquet" >/dev/null
      end=$(date +%s.%N)
      echo "$end - $start" | bc >> "/tmp/ab-$bench-$side"
    done
  done
  for side in OLD NEW; do
    echo "$bench $PRESET $side: $(tr '\n' ' ' < "/tmp/ab-$bench-$side")median $(sort -n "/tmp/ab-$bench-$side" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') s"
  done
done
