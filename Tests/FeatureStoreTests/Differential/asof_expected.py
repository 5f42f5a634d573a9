"""Random point-in-time join cases, with the expected result computed by DuckDB.

Usage: python asof_expected.py OUT_DIR SEED
Writes OUT_DIR/feat.parquet (driver_id, event_ts, created_ts, value), OUT_DIR/entities.parquet
(rid, driver_id, event_timestamp) and OUT_DIR/expected.json: {"ttl600": [...], "ttl0": [...]} indexed by rid.
Times are whole seconds in a small range, so equal event times (broken by created_ts) and rows exactly at
the ttl edge are frequent. Some keys and times are null; some entity keys never occur in the features.
"""
import json
import random
import sys

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

out, seed = sys.argv[1], int(sys.argv[2])
r = random.Random(seed)
n_feat, n_ent, keys = 4000, 3000, 150
created = list(range(n_feat))
r.shuffle(created)  # unique: no tie on (event_ts, created_ts)
feat = {
    "driver_id": [None if r.random() < 0.01 else r.randrange(keys) for _ in range(n_feat)],
    "event_ts": [None if r.random() < 0.01 else r.randrange(0, 5000) for _ in range(n_feat)],
    "created_ts": created,
    "value": [round(r.uniform(-100, 100), 3) for _ in range(n_feat)],
}
# Entity times often land exactly on a feature time or exactly ttl after one.
ent_times = []
for _ in range(n_ent):
    base = feat["event_ts"][r.randrange(n_feat)] or 0
    ent_times.append(None if r.random() < 0.01 else base + r.choice([0, 0, 1, 600, 601, r.randrange(0, 1200)]))
ent = {
    "rid": list(range(n_ent)),
    "driver_id": [None if r.random() < 0.01 else r.randrange(keys + 20) for _ in range(n_ent)],
    "event_timestamp": ent_times,
}


def ts(values):
    return pa.array([None if v is None else v * 1_000_000 for v in values], pa.int64()).cast(pa.timestamp("us", tz="UTC"))


pq.write_table(pa.table({"driver_id": pa.array(feat["driver_id"], pa.int64()), "event_ts": ts(feat["event_ts"]),
                         "created_ts": ts(feat["created_ts"]), "value": pa.array(feat["value"], pa.float64())}),
               f"{out}/feat.parquet", row_group_size=1000)
pq.write_table(pa.table({"rid": pa.array(ent["rid"], pa.int64()), "driver_id": pa.array(ent["driver_id"], pa.int64()),
                         "event_timestamp": ts(ent["event_timestamp"])}), f"{out}/entities.parquet")

con = duckdb.connect()
rows = con.execute(f"""
    WITH f AS (
        SELECT * FROM read_parquet('{out}/feat.parquet')
        WHERE driver_id IS NOT NULL AND event_ts IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY driver_id, event_ts ORDER BY created_ts DESC) = 1
    )
    SELECT e.rid,
           CASE WHEN f.event_ts >= e.event_timestamp - INTERVAL 600 SECOND THEN f.value END AS ttl600,
           f.value AS ttl0
    FROM read_parquet('{out}/entities.parquet') e
    ASOF LEFT JOIN f ON e.driver_id = f.driver_id AND e.event_timestamp >= f.event_ts
    ORDER BY e.rid
""").fetchall()
json.dump({"ttl600": [repr(x[1]) if x[1] is not None else None for x in rows],
           "ttl0": [repr(x[2]) if x[2] is not None else None for x in rows]}, open(f"{out}/expected.json", "w"))
