"""Checks the SDK against a running FeatureServer and the real featurectl on the example repository (run by the Swift
suite: Tests/featurectlTests/PythonSDKTests.swift).

    python check_sdk.py REPO SERVER FEATURECTL
"""
import datetime as dt
import json
import math
import subprocess
import sys
import tempfile

import pandas as pd
import pyarrow.parquet as pq

from featurestore import FeatureStore, FeatureStoreError

repo, server, featurectl = sys.argv[1:4]
store = FeatureStore(repo_path=repo, server=server, featurectl=featurectl)


def ctl(*args: str) -> str:
    done = subprocess.run([featurectl, *args, "--repo", repo], capture_output=True, text=True, check=True)
    return done.stdout


# 1. A training set from pandas entity rows equals featurectl join's file on the same rows.
entities = pq.read_table(f"{repo}/data/entities.parquet").slice(0, 200)
entity_df = entities.to_pandas()
training = store.get_historical_features(entity_df, service="driver_ranking_v1", full_feature_names=True).to_arrow()
with tempfile.TemporaryDirectory() as folder:
    pq.write_table(entities, f"{folder}/entities.parquet")
    ctl("join", "--entities", f"{folder}/entities.parquet", "--service", "driver_ranking_v1", "--full-feature-names", "--out", f"{folder}/out.parquet")
    expected = pq.read_table(f"{folder}/out.parquet")
assert training.column_names == expected.column_names, (training.column_names, expected.column_names)
assert training.equals(expected), "the training set differs from featurectl join's"
assert isinstance(store.get_historical_features(entity_df, features=["driver_stats:conv_rate"]).to_df(), pd.DataFrame)
print("historical: ok", training.num_rows, "rows", training.num_columns, "columns")

# 2. Online values and statuses equal featurectl get --json (plain views' values; every status).
rows = [{"driver_id": 1001, "customer_id": 5001}, {"driver_id": 1002, "customer_id": 5002}, {"driver_id": 999999, "customer_id": 5001}]
online = store.get_online_features(service="driver_ranking_v1", entity_rows=rows, full_feature_names=True)
golden = json.loads(ctl("get", "--service", "driver_ranking_v1", "--entity", "driver_id=1001,1002,999999", "--entity", "customer_id=5001,5002,5001",
                        "--full-feature-names", "--json"))
for i, g in enumerate(golden):
    for name, want in g["features"].items():
        assert online.statuses[name][i] == want["status"], (name, i, online.statuses[name][i], want)
        if name.startswith("driver_stats__") and isinstance(want["value"], (int, float, str)) and not isinstance(want["value"], bool):
            got = online.values[name][i]
            assert got == want["value"] or (isinstance(got, float) and math.isclose(got, want["value"], rel_tol=1e-6)), (name, i, got, want)
table = online.to_dict()
assert table["driver_id"] == [1001, 1002, 999999] and "driver_stats__conv_rate" in table
assert list(online.to_df(include_statuses=True).columns).count("driver_stats__conv_rate__status") == 1
print("online: ok", len(online.feature_names), "features")

# 3. Push, then look up what was pushed.
view = store.get_feature_view("driver_stats")
now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
pushed_row = {key["name"]: [424242] for key in view["join_keys"]}
pushed_row["event_timestamp"] = [now]
pushed_row["conv_rate"] = [0.125]
result = store.push("driver_stats", pd.DataFrame(pushed_row))
assert result == {"rows_received": 1, "rows_written": 1}, result
back = store.get_online_features(features=["driver_stats:conv_rate"], entity_rows={"driver_id": [424242]})
assert back.values["conv_rate"] == [0.125] and back.statuses["conv_rate"] == ["PRESENT"], (back.values, back.statuses)
print("push: ok")

# 4. Errors come back as exceptions with the server's and featurectl's messages.
try:
    store.get_online_features(features=["driver_stats:no_such_feature"], entity_rows={"driver_id": [1001]})
    raise AssertionError("an unknown feature was answered")
except FeatureStoreError as error:
    assert error.code == "INVALID_ARGUMENT" and "no_such_feature" in str(error), str(error)
try:
    store.get_historical_features(entity_df, features=["driver_stats:no_such_feature"]).to_arrow()
    raise AssertionError("featurectl joined an unknown feature")
except FeatureStoreError as error:
    assert "no_such_feature" in str(error), str(error)
try:
    store.push("driver_stats", pd.DataFrame({"driver_id": [424242], "event_timestamp": [now], "avg_daily_trip": [3]}))
    raise AssertionError("a push with a misspelt feature column was taken")
except FeatureStoreError as error:
    assert error.code == "INVALID_ARGUMENT" and "avg_daily_trip" in str(error), str(error)
import numpy as np  # noqa: E402
numpy_keys = store.get_online_features(features=["driver_stats:conv_rate"], entity_rows={"driver_id": np.array([424242], dtype=np.int64)})
assert numpy_keys.statuses["conv_rate"] == ["PRESENT"], numpy_keys.statuses
print("errors: ok")

# 5. The catalog, materialize and verify.
assert "driver_stats" in [v["name"] for v in store.list_feature_views()]
assert store.get_feature_view("driver_stats")["join_keys"][0]["name"] == "driver_id"
store.materialize_incremental("now")
report = store.verify(views=["driver_stats"], sample=20)
print("catalog, materialize, verify: ok", json.dumps(report)[:200])
