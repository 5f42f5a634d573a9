"""Feast's own SDK (feast 0.67) reading online features from FeatureServer: a Feast repository whose online store is
`{type: remote, path: http://host:port}` (FeatureServer's HTTP port), compared with `featurectl get --json`.

    python feast_remote.py EXAMPLE_REPO HTTP_PORT FEATURECTL
"""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

example, http_port, featurectl = sys.argv[1:4]
os.environ["EXAMPLE_REPO"] = example
here = os.path.dirname(os.path.abspath(__file__))
with tempfile.TemporaryDirectory() as folder:
    repo = os.path.join(folder, "feast_repo")
    shutil.copytree(os.path.join(here, "feast_repo"), repo)
    with open(os.path.join(repo, "feature_store.yaml"), "w") as f:
        f.write(f"""project: ride_hailing
registry: {folder}/registry.db
provider: local
online_store:
  type: remote
  path: http://127.0.0.1:{http_port}
offline_store:
  type: file
entity_key_serialization_version: 3
""")
    subprocess.run([sys.executable, "-m", "feast.cli.cli", "apply"], cwd=repo, check=True, capture_output=True)

    from feast import FeatureStore

    store = FeatureStore(repo_path=repo)
    drivers = [1001, 1002, 999999]
    got = store.get_online_features(features=["driver_stats:conv_rate", "driver_stats:acc_rate", "driver_stats:avg_daily_trips"],
                                    entity_rows=[{"driver_id": d} for d in drivers]).to_dict()
    golden = json.loads(subprocess.run([featurectl, "get", "--features", "driver_stats:conv_rate,driver_stats:acc_rate,driver_stats:avg_daily_trips",
                                        "--entity", "driver_id=" + ",".join(map(str, drivers)), "--json", "--repo", example],
                                       capture_output=True, text=True, check=True).stdout)
    assert all(len(got[name]) == len(drivers) for name in ("conv_rate", "acc_rate", "avg_daily_trips")), got
    compared = 0
    for i, g in enumerate(golden):
        for name, want in g["features"].items():
            value = got[name][i]
            if want["status"] != "PRESENT":
                assert value is None, (name, i, value, want)
            else:
                assert value == want["value"] or math.isclose(value, want["value"], rel_tol=1e-6), (name, i, value, want)
            compared += 1
    print(f"feast remote: ok, {compared} values equal to featurectl get")

    # Feast's write path: write_to_online_store through the remote store lands in FeatureServer's online store.
    import pandas as pd
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc) - timedelta(seconds=5)
    store.write_to_online_store("driver_stats", pd.DataFrame({"driver_id": [777777], "conv_rate": [0.25], "acc_rate": [0.5],
                                                               "avg_daily_trips": [4], "event_timestamp": [now], "created": [now]}))
    written = json.loads(subprocess.run([featurectl, "get", "--features", "driver_stats:conv_rate,driver_stats:avg_daily_trips", "--entity", "driver_id=777777",
                                         "--json", "--repo", example], capture_output=True, text=True, check=True).stdout)
    assert written[0]["features"]["conv_rate"]["value"] == 0.25 and written[0]["features"]["avg_daily_trips"]["value"] == 4, written
    print("feast write: ok")
