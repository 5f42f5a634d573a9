import datetime as dt
import os

import pandas as pd
from featurestore import FeatureStore

store = FeatureStore(repo_path=os.environ.get("REPO", "features"), server=os.environ.get("SERVER", "127.0.0.1:6570"))

# A training set: point-in-time-correct features for each entity row (runs featurectl join).
now = dt.datetime.now(dt.timezone.utc)
entity_df = pd.DataFrame({
    "driver_id": [1001, 1002, 1003],
    "customer_id": [5001, 5002, 5003],
    "event_timestamp": [now - dt.timedelta(hours=h) for h in (1, 2, 3)],
    "trip_distance_km": [3.5, 12.0, 25.0],
    "pickup_time": [now, now, now],
})
training = store.get_historical_features(entity_df, service="driver_ranking_v1").to_df()
print(training[["driver_id", "conv_rate", "count_1h"]].to_string(index=False))

# Online features for a model at request time, with statuses.
online = store.get_online_features(
    service="driver_ranking_v1",
    entity_rows=[{"driver_id": 1001, "customer_id": 5001}, {"driver_id": 1002, "customer_id": 5002}],
)
print(online.to_df(include_statuses=True)[["driver_id", "conv_rate", "conv_rate__status"]].to_string(index=False))

# Push a fresher row, then read it back.
store.push("driver_stats", pd.DataFrame({"driver_id": [1001], "event_timestamp": [now], "conv_rate": [0.9], "acc_rate": [0.8],
                                         "avg_daily_trips": [12]}))
print(store.get_online_features(features=["driver_stats:conv_rate"], entity_rows={"driver_id": [1001]}).to_dict())
