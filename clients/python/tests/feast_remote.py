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

    # Feast's SDK push (a push source's rows through the remote store's write path).
    store.push("driver_stats_push", pd.DataFrame({"driver_id": [777778], "conv_rate": [0.75], "acc_rate": [0.5], "avg_daily_trips": [6],
                                                  "event_timestamp": [now], "created": [now]}))

    def get(driver: int) -> dict:
        return json.loads(subprocess.run([featurectl, "get", "--features", "driver_stats", "--entity", f"driver_id={driver}", "--json", "--repo", example],
                                         capture_output=True, text=True, check=True).stdout)[0]["features"]

    pushed = get(777778)
    assert pushed["conv_rate"]["value"] == 0.75 and pushed["avg_daily_trips"]["value"] == 6, pushed
    print("feast sdk push: ok")

    # Feast's feature server /push, as its docs call it over HTTP: the push source's name is our source's name and its
    # rows are that source's rows, so the source's derived column (reliability) is computed as for a stream event.
    import urllib.error
    import urllib.request

    def post(path: str, body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(f"http://127.0.0.1:{http_port}{path}", data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    status, answer = post("/push", {"push_source_name": "driver_stats_source", "to": "online",
                                    "df": {"driver_id": [777779], "event_timestamp": [stamp], "created": [stamp],
                                           "conv_rate": [0.25], "acc_rate": [0.5], "avg_daily_trips": [7]}})
    assert status == 200 and answer["rows_received"] == 1 and answer["rows_written"] == {"driver_stats": 1}, (status, answer)
    pushed = get(777779)
    assert pushed["conv_rate"]["value"] == 0.25 and pushed["avg_daily_trips"]["value"] == 7, pushed
    assert pushed["reliability"]["value"] == 12.5, pushed  # round(0.5 * 0.25 * 100, 1), the source's derived column
    status, answer = post("/push", {"push_source_name": "driver_stats_source", "to": "offline", "df": {"driver_id": [1]}})
    assert status == 400 and answer["error"]["message"].startswith("to: 'offline' is not supported"), (status, answer)
    status, answer = post("/push", {"push_source_name": "driver_stats_sourc", "df": {"driver_id": [1]}})
    assert status == 400 and "push_source_name: no source 'driver_stats_sourc'" in answer["error"]["message"], (status, answer)
    status, answer = post("/push", {"push_source_name": "driver_stats_source",
                                    "df": {"driver_id": [777780, 777781], "event_timestamp": [stamp, "yesterday"], "conv_rate": [0.1, 0.2],
                                           "acc_rate": [0.5, 0.5], "avg_daily_trips": [1, 2]}})
    assert status == 400 and "df row 1: event_timestamp: 'yesterday' is not an ISO-8601 time" in answer["error"]["message"], (status, answer)
    assert get(777780)["conv_rate"]["status"] == "NOT_FOUND"  # nothing of the push was written
    status, answer = post("/push", {"push_source_name": "driver_stats_source",
                                    "df": {"driver_id": [777782], "event_timestamp": [stamp], "conv_rat": [0.9], "acc_rate": [0.5], "avg_daily_trips": [1]}})
    assert status == 400 and "df[conv_rate]: missing (feature view 'driver_stats' reads it)" in answer["error"]["message"], (status, answer)
    status, answer = post("/push", {"push_source_name": "driver_activity_source", "df": {"driver_id": [1]}})
    assert status == 400 and "push to that name" in answer["error"]["message"], (status, answer)
    print("feast /push: ok")
