"""Python online lookups per second: our SDK against FeatureServer, or Feast's SDK against its own SQLite online store.

    .venv-sdk/bin/python bench/sdk_online.py ours REPO GRPC_ADDRESS [--seconds 10]
    .venv-feast/bin/python bench/sdk_online.py feast REPO [--seconds 10]     (REPO: the example repository, materialized)

Both look up the 3 features of driver_stats for one random driver per call, one caller, after a 1 s warm-up. The
Feast side builds a Feast repository mirroring driver_stats over the same Parquet file, `feast apply` and
`feast materialize` into SQLite first (once per run). bench/sdk_online.sh runs both in one run and prints the ratio.
"""
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

mode, repo = sys.argv[1], sys.argv[2]
seconds = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 10.0
FEATURES = ["driver_stats:conv_rate", "driver_stats:acc_rate", "driver_stats:avg_daily_trips"]


def measure(lookup) -> None:
    random.seed(7)
    end_warmup = time.perf_counter() + 1
    while time.perf_counter() < end_warmup:
        lookup(1001 + random.randrange(10_000))
    latencies = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        lookup(1001 + random.randrange(10_000))
        latencies.append(time.perf_counter() - t0)
    latencies.sort()
    print(f"{mode}: lookups_per_s={len(latencies) / seconds:.0f} p50_ms={statistics.median(latencies) * 1e3:.3f} "
          f"p99_ms={latencies[int(len(latencies) * 0.99)] * 1e3:.3f} calls={len(latencies)}")


if mode == "ours":
    from featurestore import FeatureStore

    store = FeatureStore(repo_path=repo, server=sys.argv[3])
    measure(lambda d: store.get_online_features(features=FEATURES, entity_rows={"driver_id": [d]}).to_dict())
else:
    from datetime import datetime, timedelta, timezone

    here = os.path.dirname(os.path.abspath(__file__))
    os.environ["EXAMPLE_REPO"] = os.path.abspath(repo)
    folder = tempfile.mkdtemp(prefix="feast-bench-")
    feast_repo = os.path.join(folder, "feast_repo")
    shutil.copytree(os.path.join(here, "..", "clients/python/tests/feast_repo"), feast_repo)
    with open(os.path.join(feast_repo, "feature_store.yaml"), "w") as f:
        f.write(f"project: ride_hailing\nregistry: {folder}/registry.db\nprovider: local\n"
                f"online_store:\n  type: sqlite\n  path: {folder}/online.db\noffline_store:\n  type: file\nentity_key_serialization_version: 3\n")
    subprocess.run([sys.executable, "-m", "feast.cli.cli", "apply"], cwd=feast_repo, check=True, capture_output=True)
    from feast import FeatureStore

    store = FeatureStore(repo_path=feast_repo)
    now = datetime.now(timezone.utc)
    store.materialize(now - timedelta(days=2), now)
    measure(lambda d: store.get_online_features(features=FEATURES, entity_rows=[{"driver_id": d}]).to_dict())
    shutil.rmtree(folder, ignore_errors=True)
