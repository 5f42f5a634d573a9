"""Random time-window aggregation cases, with the expected result computed by DuckDB.

Usage: python window_expected.py OUT_DIR SEED

OUT_DIR/events/part.parquet: (driver_id int64, ts timestamp[us], fare float64, seats int32, zone string, rider int64,
epoch float64 (seconds since the epoch now: large magnitudes for variance), seen timestamp[us] (before 1970 too)), 6,000
events over 60 keys; times are whole minutes (six hours of them) plus a few microseconds, so equal times, events
exactly at a window's snapped start or at the entity time, and one microsecond either side are frequent. Some keys,
times and values are null. OUT_DIR/entities.parquet: (rid, driver_id, event_timestamp), 2,000 rows, many placed
exactly on an event's time, on a hop boundary, or one microsecond off.

The windows (the view's definitions must match): 10m with 5m hops, 1h with 5m hops, 1d with 1h hops.
DuckDB evaluates the rule floor_hop(t - w) <= ts < t with a self-join and GROUP BY, the functions as SQL has them:
count(*), sum, avg, min, max, var_samp, stddev_samp, first/last as arg_min/arg_max over (ts, value), and the exact
count(DISTINCT) that approx_count_distinct estimates; the variance of `epoch` exactly, in rational arithmetic; min, max, first and last of integers, strings and timestamps,
last_n as list(... ORDER BY ts DESC, value DESC)[1:3] and last_distinct_n as the distinct values ordered by their newest
(ts, value), the first 2.

OUT_DIR/expected.json: {feature: [value per rid]}, floats as repr strings, None for null.
"""
import json
import math
import random
import sys
from fractions import Fraction

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import os

out, seed = sys.argv[1], int(sys.argv[2])
r = random.Random(seed)
MIN = 60_000_000
BASE = 1_700_000_000_000_000 // (3600 * 1_000_000) * (3600 * 1_000_000)  # an hour boundary


def some_time():
    t = BASE + r.randrange(0, 6 * 60) * MIN
    return t + r.choice([0, 0, 0, 1, -1, 5])


n_events, n_entities, keys = 6000, 2000, 60
event_times = [None if r.random() < 0.01 else some_time() for _ in range(n_events)]
events = pa.table({
    "driver_id": pa.array([None if r.random() < 0.01 else r.randrange(keys) for _ in range(n_events)], pa.int64()),
    "ts": pa.array(event_times, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
    "fare": pa.array([None if r.random() < 0.05 else r.choice([r.uniform(-50, 50), float(r.randrange(20)), 1e15 * r.random()]) for _ in range(n_events)], pa.float64()),
    "seats": pa.array([None if r.random() < 0.05 else r.randrange(-3, 8) for _ in range(n_events)], pa.int32()),
    "zone": pa.array([None if r.random() < 0.05 else r.choice(["a", "b", "c", "", "zürich", "Z"]) for _ in range(n_events)], pa.string()),
    "rider": pa.array([None if r.random() < 0.05 else r.randrange(300) for _ in range(n_events)], pa.int64()),
    "epoch": pa.array([None if r.random() < 0.05 else 1.7e9 + r.randrange(0, 100) for _ in range(n_events)], pa.float64()),
    "seen": pa.array([None if r.random() < 0.05 else r.randrange(-10**15, 2 * 10**15) for _ in range(n_events)], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
})
os.makedirs(f"{out}/events", exist_ok=True)
pq.write_table(events, f"{out}/events/part.parquet", row_group_size=1000)

known = [t for t in event_times if t is not None]
entity_times = []
for _ in range(n_entities):
    kind = r.random()
    if kind < 0.3:
        t = r.choice(known) + r.choice([0, 1, -1])
    elif kind < 0.5:
        t = BASE + r.randrange(0, 8 * 12) * 5 * MIN + r.choice([0, 1, -1])
    else:
        t = some_time() + r.randrange(0, MIN)
    entity_times.append(None if r.random() < 0.01 else t)
entities = pa.table({
    "rid": pa.array(range(n_entities), pa.int64()),
    "driver_id": pa.array([None if r.random() < 0.01 else r.randrange(keys + 10) for _ in range(n_entities)], pa.int64()),
    "event_timestamp": pa.array(entity_times, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
})
pq.write_table(entities, f"{out}/entities.parquet")

def exact_variance(xs):
    xs = [Fraction(x) for x in xs]
    n = len(xs)
    return (n * sum(x * x for x in xs) - sum(xs) ** 2) / (n * (n - 1))


con = duckdb.connect()
con.execute("SET threads = 2")
con.register("ev", events)
con.register("en", entities)
windows = {"10m": (10 * MIN, 5 * MIN), "1h": (60 * MIN, 5 * MIN), "1d": (24 * 60 * MIN, 60 * MIN)}
expected = {}
for name, (w, h) in windows.items():
    rows = con.execute(f"""
        WITH e AS (SELECT rid, driver_id, epoch_us(event_timestamp) AS t FROM en),
             v AS (SELECT driver_id, epoch_us(ts) AS ts, fare, seats, zone, rider, epoch, epoch_us(seen) AS seen
                   FROM ev WHERE driver_id IS NOT NULL AND ts IS NOT NULL)
        SELECT e.rid,
               count(v.ts),
               sum(v.fare), avg(v.fare), min(v.fare), max(v.fare), var_samp(v.fare), stddev_samp(v.fare),
               sum(v.seats), min(v.zone),
               arg_min(v.fare, (v.ts, v.fare)) FILTER (WHERE v.fare IS NOT NULL),
               arg_max(v.zone, (v.ts, v.zone)) FILTER (WHERE v.zone IS NOT NULL),
               count(DISTINCT v.rider),
               list(v.epoch) FILTER (WHERE v.epoch IS NOT NULL), NULL,
               min(v.seats), max(v.seats),
               arg_min(v.seats, (v.ts, v.seats)) FILTER (WHERE v.seats IS NOT NULL),
               arg_max(v.seats, (v.ts, v.seats)) FILTER (WHERE v.seats IS NOT NULL),
               max(v.zone), arg_min(v.zone, (v.ts, v.zone)) FILTER (WHERE v.zone IS NOT NULL),
               min(v.seen), max(v.seen), arg_max(v.seen, (v.ts, v.seen)) FILTER (WHERE v.seen IS NOT NULL),
               CASE WHEN count(v.zone) > 0 THEN (list(v.zone ORDER BY v.ts DESC, v.zone DESC) FILTER (WHERE v.zone IS NOT NULL))[1:3] END
        FROM e LEFT JOIN v
          ON v.driver_id = e.driver_id
         AND v.ts >= ((e.t - {w}) // {h}) * {h} - (CASE WHEN (e.t - {w}) % {h} < 0 THEN {h} ELSE 0 END)
         AND v.ts < e.t
        GROUP BY e.rid ORDER BY e.rid
        """).fetchall()
    names = [f"count_{name}", f"fare_sum_{name}", f"fare_mean_{name}", f"fare_min_{name}", f"fare_max_{name}",
             f"fare_variance_{name}", f"fare_stddev_{name}", f"seats_sum_{name}", f"zone_min_{name}",
             f"fare_first_{name}", f"zone_last_{name}", f"rider_approx_count_distinct_{name}",
             f"epoch_variance_{name}", f"epoch_stddev_{name}", f"seats_min_{name}", f"seats_max_{name}",
             f"seats_first_{name}", f"seats_last_{name}", f"zone_max_{name}", f"zone_first_{name}",
             f"seen_min_{name}", f"seen_max_{name}", f"seen_last_{name}", f"zone_last_n_{name}"]
    for i, feature in enumerate(names):
        values = [row[i + 1] for row in rows]
        if feature.startswith("epoch_"):
            # The exact sample variance (rational arithmetic), rounded once; stddev its square root. DuckDB's own
            # var_samp/stddev_samp are off in the 9th digit at these magnitudes, so it is not the oracle here.
            column = names.index(f"epoch_variance_{name}") + 1
            variances = [None if not row[column] or len(row[column]) < 2 else float(exact_variance(row[column])) for row in rows]
            values = variances if feature.startswith("epoch_variance") else [None if v is None else math.sqrt(v) for v in variances]
        expected[feature] = [repr(v) if isinstance(v, float) else v for v in values]
    # last_distinct_n (n = 2): each distinct value at its newest (ts, value), newest first.
    distinct = dict(con.execute(f"""
        WITH e AS (SELECT rid, driver_id, epoch_us(event_timestamp) AS t FROM en),
             v AS (SELECT driver_id, epoch_us(ts) AS ts, zone FROM ev WHERE driver_id IS NOT NULL AND ts IS NOT NULL AND zone IS NOT NULL),
             j AS (SELECT e.rid, v.zone, max(v.ts) AS newest FROM e JOIN v
                     ON v.driver_id = e.driver_id
                    AND v.ts >= ((e.t - {w}) // {h}) * {h} - (CASE WHEN (e.t - {w}) % {h} < 0 THEN {h} ELSE 0 END)
                    AND v.ts < e.t
                   GROUP BY e.rid, v.zone)
        SELECT rid, list(zone ORDER BY newest DESC, zone DESC)[1:2] FROM j GROUP BY rid
        """).fetchall())
    expected[f"zone_last_distinct_n_{name}"] = [distinct.get(rid) for rid in range(n_entities)]
with open(f"{out}/expected.json", "w") as f:
    json.dump(expected, f)
