"""Python online lookups per second, through each SDK and store:

    .venv-sdk/bin/python bench/sdk_online.py ours REPO GRPC_ADDRESS [--seconds 10]        our SDK -> FeatureServer (gRPC)
    .venv-feast/bin/python bench/sdk_online.py feast REPO [--seconds 10]                  Feast's SDK -> its SQLite file, in process
    .venv-feast/bin/python bench/sdk_online.py feast-served REPO [--seconds 10]           Feast's SDK (remote store) -> `feast serve` (HTTP) -> SQLite
    .venv-feast/bin/python bench/sdk_online.py feast-ours REPO HTTP_ADDRESS [--seconds 10] Feast's SDK (remote store) -> FeatureServer (HTTP)

(REPO: the example repository, materialized.) Each looks up the 3 features of driver_stats for one random driver per
call, one caller, after a 1 s warm-up. The Feast sides build a Feast repository mirroring driver_stats over the same
Parquet file; `feast` and `feast-served` also `feast apply` and `feast materialize` into SQLite first (once per run).
bench/sdk_online.sh runs them all in one run and prints the ratios.
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
    import urllib.request

    here = os.path.dirname(os.path.abspath(__file__))
    os.environ["EXAMPLE_REPO"] = os.path.abspath(repo)
    folder = tempfile.mkdtemp(prefix="feast-bench-")

    def feast_repository(name: str, online_store: str) -> str:
        path = os.path.join(folder, name)
        shutil.copytree(os.path.join(here, "..", "clients/python/tests/feast_repo"), path)
        with open(os.path.join(path, "feature_store.yaml"), "w") as f:
            f.write(f"project: ride_hailing\nregistry: {folder}/{name}-registry.db\nprovider: local\n"
                    f"online_store:\n{online_store}offline_store:\n  type: file\nentity_key_serialization_version: 3\n")
        subprocess.run([sys.executable, "-m", "feast.cli.cli", "apply"], cwd=path, check=True, capture_output=True)
        return path

    from feast import FeatureStore

    server = None
    try:
        if mode in ("feast", "feast-served"):
            sqlite_repo = feast_repository("feast_sqlite", f"  type: sqlite\n  path: {folder}/online.db\n")
            now = datetime.now(timezone.utc)
            FeatureStore(repo_path=sqlite_repo).materialize(now - timedelta(days=2), now)
        if mode == "feast":
            store = FeatureStore(repo_path=sqlite_repo)
        else:
            if mode == "feast-served":
                # Feast's own feature server over the SQLite store, on a port of its own.
                address = "127.0.0.1:6597"
                server = subprocess.Popen([sys.executable, "-m", "feast.cli.cli", "serve", "-h", "127.0.0.1", "-p", "6597", "--no-access-log"],
                                          cwd=sqlite_repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for _ in range(300):
                    try:
                        urllib.request.urlopen(f"http://{address}/health", timeout=1)
                        break
                    except OSError:
                        time.sleep(0.1)
            else:
                address = sys.argv[3]
            store = FeatureStore(repo_path=feast_repository("feast_remote", f"  type: remote\n  path: http://{address}\n"))
        measure(lambda d: store.get_online_features(features=FEATURES, entity_rows=[{"driver_id": d}]).to_dict())
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(folder, ignore_errors=True)
