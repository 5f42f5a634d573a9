"""Random point-in-time join cases, with the expected result computed by DuckDB.

Usage: python asof_expected.py OUT_DIR SEED SHAPE

SHAPE "simple": OUT_DIR/feat.parquet (driver_id, event_ts, created_ts, value) and OUT_DIR/entities.parquet
(rid, driver_id, event_timestamp), 3,000 entity rows. Times are whole seconds in a small range, so equal event times
(broken by created_ts) and rows exactly at the ttl edge are frequent. Some keys and times are null; some entity keys
never occur in the features.

SHAPE "composite": a composite key (region string, including an empty string and non-ASCII text, and driver_id),
a source column `val_raw` that the definitions map to the feature `value`, times in microseconds (entity times land
exactly on a feature time, one microsecond before or after it, or exactly at the ttl edge and one microsecond past),
equal (event_ts, created_ts) pairs (broken by the greater encoded row, as every online store breaks them: the
column `tie_key` holds the row's encoding, a tag byte then the float's little-endian bits, written here
independently of the Swift code), and 80,000 entity rows, so the join takes its multi-threaded path (65,536 rows and
more).

OUT_DIR/expected.json: {"ttl600": [...], "ttl0": [...]} indexed by rid, floats as repr strings.
"""
import json
import random
import struct
import sys

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

out, seed, shape = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = random.Random(seed)


def ts(values, unit=1_000_000):
    return pa.array([None if v is None else v * unit for v in values], pa.int64()).cast(pa.timestamp("us", tz="UTC"))


if shape == "simple":
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
    pq.write_table(pa.table({"driver_id": pa.array(feat["driver_id"], pa.int64()), "event_ts": ts(feat["event_ts"]),
                             "created_ts": ts(feat["created_ts"]), "value": pa.array(feat["value"], pa.float64())}),
                   f"{out}/feat.parquet", row_group_size=1000)
    pq.write_table(pa.table({"rid": pa.array(ent["rid"], pa.int64()), "driver_id": pa.array(ent["driver_id"], pa.int64()),
                             "event_timestamp": ts(ent["event_timestamp"])}), f"{out}/entities.parquet")
    keys_sql, value_col, file = "e.driver_id = f.driver_id", "value", "feat.parquet"
elif shape == "composite":
    n_feat, n_ent = 30_000, 80_000
    regions = ["north", "south", "", "zürich", "東京", "n0rth", "North"]
    second = 1_000_000
    feat = {"region": [], "driver_id": [], "event_ts": [], "created_ts": [], "val_raw": []}
    for _ in range(n_feat):
        feat["region"].append(None if r.random() < 0.01 else r.choice(regions))
        feat["driver_id"].append(r.randrange(40))
        grain = r.choice([1, 1_000, second])  # microsecond, millisecond or whole-second times
        t = None if r.random() < 0.01 else r.randrange(0, 3000 * second) // grain * grain
        feat["event_ts"].append(t)
        # created: often equal to the event time (a tie on both is then broken by the greater encoded row)
        feat["created_ts"].append(None if t is None else t + r.choice([0, 0, 1, second]))
        feat["val_raw"].append(None if r.random() < 0.02 else round(r.uniform(-1000, 1000), 6))
    # The online store's encoding of the view's one float64 feature: tag 0 for null, else tag 4 and the bits (LE).
    feat["tie_key"] = [b"\x00" if v is None else b"\x04" + struct.pack("<d", v) for v in feat["val_raw"]]
    ent = {"rid": list(range(n_ent)), "region": [], "driver_id": [], "event_timestamp": []}
    for _ in range(n_ent):
        base = feat["event_ts"][r.randrange(n_feat)] or 0
        ent["region"].append(None if r.random() < 0.005 else r.choice(regions + ["west"]))
        ent["driver_id"].append(r.randrange(44))
        ent["event_timestamp"].append(base + r.choice([0, 0, 1, -1, 600 * second, 600 * second + 1, r.randrange(0, 1200 * second)]))
    pq.write_table(pa.table({"region": pa.array(feat["region"], pa.string()), "driver_id": pa.array(feat["driver_id"], pa.int64()),
                             "event_ts": ts(feat["event_ts"], 1), "created_ts": ts(feat["created_ts"], 1),
                             "val_raw": pa.array(feat["val_raw"], pa.float64()), "tie_key": pa.array(feat["tie_key"], pa.binary())}),
                   f"{out}/feat2.parquet", row_group_size=4096)
    pq.write_table(pa.table({"rid": pa.array(ent["rid"], pa.int64()), "region": pa.array(ent["region"], pa.string()),
                             "driver_id": pa.array(ent["driver_id"], pa.int64()),
                             "event_timestamp": ts(ent["event_timestamp"], 1)}), f"{out}/entities.parquet")
    keys_sql, value_col, file = "e.region = f.region AND e.driver_id = f.driver_id", "val_raw", "feat2.parquet"
else:
    raise SystemExit(f"unknown shape {shape}")

key_columns = "driver_id" if shape == "simple" else "region, driver_id"
tie = "" if shape == "simple" else "tie_key DESC, "
con = duckdb.connect()
rows = con.execute(f"""
    WITH f AS (
        SELECT * FROM read_parquet('{out}/{file}', file_row_number = true)
        WHERE {' AND '.join(k + ' IS NOT NULL' for k in key_columns.split(', '))} AND event_ts IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY {key_columns}, event_ts ORDER BY created_ts DESC, {tie}file_row_number DESC) = 1
    )
    SELECT e.rid,
           CASE WHEN f.event_ts >= e.event_timestamp - INTERVAL 600 SECOND THEN f.{value_col} END AS ttl600,
           f.{value_col} AS ttl0
    FROM read_parquet('{out}/entities.parquet') e
    ASOF LEFT JOIN f ON {keys_sql} AND e.event_timestamp >= f.event_ts
    ORDER BY e.rid
""").fetchall()
json.dump({"ttl600": [repr(x[1]) if x[1] is not None else None for x in rows],
           "ttl0": [repr(x[2]) if x[2] is not None else None for x in rows]}, open(f"{out}/expected.json", "w"))
