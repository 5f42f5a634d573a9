"""The Python SDK's training sets against featurectl join itself, on the join benchmark's data, in one run.

Usage: .venv-sdk/bin/python bench/sdk_join.py [small|medium|large] [--repeat 5]   (FEATURECTL: the release featurectl)

Both build the same training set (3 views, full feature names) from the same entity rows: `featurectl join` from the
entity file on disk, and `FeatureStore.get_historical_features(entity_table, ...).to_arrow()` from the rows in memory
(as a notebook holds them), which writes them to Parquet, runs featurectl join and reads its output back. Runs
alternate; medians and the SDK's overhead are printed. The two outputs are checked to be equal.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

import pyarrow.parquet as pq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import join  # noqa: E402  (the join benchmark's data generator)
from featurestore import FeatureStore  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    preset = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "medium"
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 5
    featurectl = os.environ.get("FEATURECTL", os.path.join(ROOT, ".build-release/release/featurectl"))
    data = os.path.join(ROOT, "bench", "data", f"join-{preset}")
    join.generate(preset, data)
    features = [v["name"] for v in join.VIEWS]
    entities = pq.read_table(f"{data}/entities.parquet")
    store = FeatureStore(repo_path=f"{data}/repo", featurectl=featurectl)
    direct, sdk = [], []
    with tempfile.TemporaryDirectory() as folder:
        out = f"{folder}/direct.parquet"
        for _ in range(repeat):
            t0 = time.perf_counter()
            subprocess.run([featurectl, "join", "--repo", f"{data}/repo", "--entities", f"{data}/entities.parquet", "--features", ",".join(features),
                            "--full-feature-names", "--out", out], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            direct.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            table = store.get_historical_features(entities, features=features, full_feature_names=True).to_arrow()
            sdk.append(time.perf_counter() - t0)
        assert table.equals(pq.read_table(out)), "the SDK's training set differs from featurectl join's"
    d, s = statistics.median(direct), statistics.median(sdk)
    print(f"preset={preset} rows={entities.num_rows} featurectl_join_s={d:.3f} sdk_s={s:.3f} overhead={100 * (s / d - 1):+.1f}% "
          f"(runs: direct {', '.join(f'{x:.2f}' for x in direct)}; sdk {', '.join(f'{x:.2f}' for x in sdk)})")


if __name__ == "__main__":
    main()
