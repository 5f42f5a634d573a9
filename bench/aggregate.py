"""Time-window aggregation benchmark: `featurectl join` of an aggregated view against DuckDB computing the same
values (the window rule floor_hop(t - w) <= ts < t as a range self-join with GROUP BY), from Parquet in to Parquet
out, on the same files, in one run.

Usage: .venv/bin/python bench/aggregate.py [small|medium|large] [--repeat 3]

Presets (entity rows x events, keys; 30 days of events, entity times spread over the same days):
  small:  10k x 100k, 2k drivers      medium: 100k x 1M, 20k drivers      large: 1M x 10M, 20k drivers
Features: count, sum(fare) and max(fare) over 1h (hop 5m), 1d (hop 1h) and 7d (hop 1h): 9 features.
Each engine runs in its own process under /usr/bin/time -v: wall time and peak memory (max RSS); medians of --repeat.
The outputs are compared: counts and maxima exactly, sums to 1e-9 relative (DuckDB's float sums round as they go;
ours are exact until one final rounding).
"""
import json
import os
import statistics
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from join import timed  # noqa: E402  (the same measurement as the join benchmark)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESETS = {"small": (10_000, 100_000, 2_000), "medium": (100_000, 1_000_000, 20_000), "large": (1_000_000, 10_000_000, 20_000)}
WINDOWS = [("1h", 3_600_000_000, 300_000_000), ("1d", 86_400_000_000, 3_600_000_000), ("7d", 604_800_000_000, 3_600_000_000)]
DAY_US = 86_400_000_000
START_US = 1_700_000_000_000_000 // 3_600_000_000 * 3_600_000_000


def generate(preset, out):
    entities, events, keys = PRESETS[preset]
    if os.path.exists(f"{out}/repo/feature_store.yaml"):
        return
    os.makedirs(f"{out}/repo", exist_ok=True)
    rng = np.random.default_rng(11)
    ts = START_US + rng.integers(0, 30 * DAY_US, events)
    order = np.argsort(ts, kind="stable")
    pq.write_table(pa.table({
        "driver_id": pa.array(rng.integers(1, keys + 1, events)[order]),
        "ts": pa.array(ts[order], pa.timestamp("us", tz="UTC")),
        "fare": pa.array(np.round(rng.random(events) * 80, 2)[order]),
    }), f"{out}/trips.parquet", row_group_size=1_000_000)
    pq.write_table(pa.table({
        "rid": pa.array(np.arange(entities)),
        "driver_id": pa.array(rng.integers(1, keys + 1, entities)),
        "event_timestamp": pa.array(START_US + rng.integers(0, 30 * DAY_US, entities), pa.timestamp("us", tz="UTC")),
        "label": pa.array(rng.integers(0, 2, entities)),
    }), f"{out}/entities.parquet")
    aggregations = "\n".join(
        f"      - {{function: count, windows: [{w}], hop: {h // 60_000_000}m}}\n"
        f"      - {{column: fare, function: sum, type: float64, windows: [{w}], hop: {h // 60_000_000}m}}\n"
        f"      - {{column: fare, function: max, type: float64, windows: [{w}], hop: {h // 60_000_000}m}}"
        for w, _, h in WINDOWS)
    with open(f"{out}/repo/feature_store.yaml", "w") as f:
        f.write("project: aggregate_bench\n")
    with open(f"{out}/repo/defs.yaml", "w") as f:
        f.write(f"""entities:
  - {{name: driver, join_keys: [{{name: driver_id, type: int64}}]}}
sources:
  - {{name: trips, kind: parquet, path: {out}/trips.parquet, timestamp_field: ts}}
feature_views:
  - name: trips
    entities: [driver]
    source: trips
    online: false
    aggregations:
{aggregations}
""")


DUCKDB = """
import duckdb, sys
out, result = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET threads = 2")
selects = []
for name, w, h in {windows}:
    selects.append(f'''count(v.ts) FILTER (WHERE v.ts >= ((e.t - {{w}}) // {{h}}) * {{h}}) AS count_{{name}},
        sum(v.fare) FILTER (WHERE v.ts >= ((e.t - {{w}}) // {{h}}) * {{h}}) AS fare_sum_{{name}},
        max(v.fare) FILTER (WHERE v.ts >= ((e.t - {{w}}) // {{h}}) * {{h}}) AS fare_max_{{name}}''')
widest = max(w + h for _, w, h in {windows})
con.execute(f'''COPY (
    WITH e AS (SELECT rid, driver_id, epoch_us(event_timestamp) AS t, label FROM '{{out}}/entities.parquet'),
         v AS (SELECT driver_id, epoch_us(ts) AS ts, fare FROM '{{out}}/trips.parquet')
    SELECT e.rid, {{", ".join(selects)}}
    FROM e LEFT JOIN v ON v.driver_id = e.driver_id AND v.ts < e.t AND v.ts >= e.t - {{widest}}
    GROUP BY e.rid ORDER BY e.rid) TO '{{result}}' (FORMAT PARQUET)''')
""".format(windows=[(n, w, h) for n, w, h in WINDOWS])


def main():
    preset = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else "medium"
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    out = os.path.join(ROOT, "bench", "data", f"aggregate-{preset}")
    generate(preset, out)
    subprocess.run(["swift", "build", "-c", "release", "--product", "featurectl"], cwd=ROOT, check=True, capture_output=True)
    featurectl = os.path.join(ROOT, ".build", "release", "featurectl")
    script = os.path.join(out, "duckdb_query.py")
    with open(script, "w") as f:
        f.write(DUCKDB)
    ours, peer = [], []
    for _ in range(repeat):
        ours.append(timed([featurectl, "join", "--repo", f"{out}/repo", "--entities", f"{out}/entities.parquet",
                           "--features", "trips", "--out", f"{out}/ours.parquet"]))
        peer.append(timed([sys.executable, script, out, f"{out}/duckdb.parquet"]))
    a = pq.read_table(f"{out}/ours.parquet").sort_by("rid")
    b = pq.read_table(f"{out}/duckdb.parquet").sort_by("rid")
    worst = 0.0
    for name, _, _ in WINDOWS:
        x = a.column(f"count_{name}").to_numpy(zero_copy_only=False)
        y = b.column(f"count_{name}").to_numpy(zero_copy_only=False)
        assert (x == y).all(), f"count_{name} differs"
        for feature in (f"fare_sum_{name}", f"fare_max_{name}"):
            x = np.array(a.column(feature).to_pylist(), dtype=float)
            y = np.array(b.column(feature).to_pylist(), dtype=float)
            assert (np.isnan(x) == np.isnan(y)).all(), f"{feature}: nulls differ"
            both = ~np.isnan(x)
            if "max" in feature:
                assert (x[both] == y[both]).all(), f"{feature} differs"
            else:
                worst = max(worst, float(np.max(np.abs(x[both] - y[both]) / np.maximum(1, np.abs(y[both])), initial=0)))
    assert worst <= 1e-9, f"sums differ by {worst}"
    entities, events, keys = PRESETS[preset]
    mo, mp = statistics.median(w for w, _ in ours), statistics.median(w for w, _ in peer)
    ro, rp = statistics.median(r for _, r in ours), statistics.median(r for _, r in peer)
    print(f"preset {preset}: {entities:,} entity rows x {events:,} events, {keys:,} drivers, 9 features; median of {repeat} runs, 2 cores")
    print(f"engine      wall (s)  peak RSS (MiB)  time vs ours")
    print(f"ours        {mo:8.2f}  {ro:14.0f}  {1:11.2f}x")
    print(f"duckdb      {mp:8.2f}  {rp:14.0f}  {mp / mo:11.2f}x")
    print(f"same values: yes (counts and maxima exact, sums within {worst:.1e} relative)")


if __name__ == "__main__":
    main()
