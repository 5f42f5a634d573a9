"""Point-in-time join benchmark: our `featurectl join` against DuckDB's ASOF join and polars' join_asof,
end to end from Parquet in to Parquet out, on the same files, in one run.

Usage: .venv/bin/python bench/join.py [small|medium|large] [--repeat 3]

Presets (entity rows x views x rows per view; 30 days of data; about 5% duplicate (key, event_ts) rows
with a later created_ts; one string feature):
  small:  10k x 3 x 100k, 2k drivers      medium: 100k x 3 x 1M, 20k drivers      large: 1M x 3 x 10M, 20k drivers
Data is generated once into bench/data/join-PRESET/ (with a feature repository for featurectl).
Each engine runs in its own process under /usr/bin/time -v: wall time and peak memory (max RSS); medians of --repeat.
The three outputs are checked to hold the same values.
"""
import json
import os
import statistics
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESETS = {"small": (10_000, 100_000, 2_000), "medium": (100_000, 1_000_000, 20_000), "large": (1_000_000, 10_000_000, 20_000)}
VIEWS = [
    {"name": "driver_hourly", "ttl_seconds": 7_200, "features": ["conv_rate", "trips"]},
    {"name": "driver_daily", "ttl_seconds": 86_400, "features": ["rating", "city"]},
    {"name": "driver_weekly", "ttl_seconds": 604_800, "features": ["earnings"]},
]
DAY_US = 86_400_000_000
START_US = 1_700_000_000_000_000


def generate(preset, out):
    entities, rows, keys = PRESETS[preset]
    if os.path.exists(f"{out}/repo/feature_store.yaml"):
        return
    os.makedirs(f"{out}/repo", exist_ok=True)
    rng = np.random.default_rng(7)
    cities = np.array(["amsterdam", "berlin", "chicago", "delhi", "edinburgh", "frankfurt", "glasgow", "houston"])
    for v in VIEWS:
        base = rows - rows // 20
        key = rng.integers(1, keys + 1, base)
        ts = START_US + rng.integers(0, 30 * DAY_US // 1_000_000, base) * 1_000_000
        dup = rng.integers(0, base, rows - base)  # ~5% rows repeat a (key, ts) with a later created_ts
        key = np.concatenate([key, key[dup]])
        ts = np.concatenate([ts, ts[dup]])
        created = ts + rng.integers(0, 3_600_000_000, rows)
        created[base:] += 3_600_000_000
        order = np.argsort(ts, kind="stable")
        cols = {"driver_id": pa.array(key[order]), "event_ts": pa.array(ts[order], pa.timestamp("us", tz="UTC")),
                "created_ts": pa.array(created[order], pa.timestamp("us", tz="UTC"))}
        for f in v["features"]:
            if f == "city":
                cols[f] = pa.array(cities[rng.integers(0, len(cities), rows)][order])
            elif f == "trips":
                cols[f] = pa.array(rng.integers(0, 40, rows)[order])
            else:
                cols[f] = pa.array(rng.random(rows)[order])
        pq.write_table(pa.table(cols), f"{out}/{v['name']}.parquet", row_group_size=1_000_000)
    pq.write_table(pa.table({
        "driver_id": pa.array(rng.integers(1, keys + 1, entities)),
        "event_timestamp": pa.array(START_US + rng.integers(0, 30 * DAY_US, entities), pa.timestamp("us", tz="UTC")),
        "label": pa.array(rng.integers(0, 2, entities)),
    }), f"{out}/entities.parquet")
    json.dump(VIEWS, open(f"{out}/views.json", "w"))
    types = {"conv_rate": "float64", "trips": "int64", "rating": "float64", "city": "string", "earnings": "float64"}
    with open(f"{out}/repo/feature_store.yaml", "w") as f:
        f.write("project: join_bench\nregistry: {path: ../registry.db}\nonline_store: {kind: sqlite, path: ../online.db}\n")
    with open(f"{out}/repo/defs.yaml", "w") as f:
        f.write("entities:\n  - {name: driver, join_keys: [{name: driver_id, type: int64}]}\nsources:\n")
        for v in VIEWS:
            f.write(f"  - {{name: {v['name']}_src, kind: parquet, path: ../{v['name']}.parquet, "
                    f"timestamp_field: event_ts, created_timestamp_field: created_ts}}\n")
        f.write("feature_views:\n")
        for v in VIEWS:
            feats = ", ".join(f"{{name: {x}, type: {types[x]}}}" for x in v["features"])
            f.write(f"  - {{name: {v['name']}, entities: [driver], source: {v['name']}_src, ttl: {v['ttl_seconds']}s, "
                    f"features: [{feats}]}}\n")


def timed(cmd):
    """Runs cmd under /usr/bin/time -v; returns (wall seconds, peak RSS MiB)."""
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    wall = rss = None
    for line in r.stderr.splitlines():
        line = line.strip()
        if line.startswith("Elapsed (wall clock) time"):
            t = line.split(": ")[-1].split(":")
            wall = float(t[-1]) + 60 * float(t[-2]) + (3600 * float(t[-3]) if len(t) > 2 else 0)
        if line.startswith("Maximum resident set size"):
            rss = int(line.split(": ")[-1]) / 1024
    return wall, rss


def check(paths):
    """The three outputs hold the same feature values (order: entity rows as given)."""
    tables = [pq.read_table(p) for p in paths]
    names = [f"{v['name']}__{f}" for v in VIEWS for f in v["features"]]
    for name in names:
        cols = [t.column(name).to_pylist() for t in tables]
        for other, label in zip(cols[1:], ("duckdb", "polars")):
            diff = sum(1 for a, b in zip(cols[0], other) if a != b and not (a is not None and b is not None and abs(a - b) < 1e-9 if isinstance(a, float) else False))
            if diff:
                print(f"  MISMATCH {name}: {diff} rows differ between ours and {label}")
                return False
    return True


def main():
    preset = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "medium"
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    data = os.path.join(ROOT, "bench", "data", f"join-{preset}")
    subprocess.run(["swift", "build", "-c", "release", "--product", "featurectl"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    generate(preset, data)
    py = sys.executable
    feats = ",".join(v["name"] for v in VIEWS)
    outs = {e: f"{data}/out-{e}.parquet" for e in ("ours", "duckdb", "polars")}
    cmds = {
        "ours": [os.path.join(ROOT, ".build/release/featurectl"), "join", "--repo", f"{data}/repo", "--entities",
                 f"{data}/entities.parquet", "--features", feats, "--full-feature-names", "--out", outs["ours"]],
        "duckdb": [py, os.path.join(ROOT, "bench/join_peers.py"), "duckdb", data, outs["duckdb"]],
        "polars": [py, os.path.join(ROOT, "bench/join_peers.py"), "polars", data, outs["polars"]],
    }
    results = {e: [] for e in cmds}
    for _ in range(repeat):
        for e, cmd in cmds.items():
            results[e].append(timed(cmd))
    e_rows, v_rows, keys = PRESETS[preset]
    print(f"preset {preset}: {e_rows:,} entity rows x {len(VIEWS)} views x {v_rows:,} rows, {keys:,} drivers; "
          f"median of {repeat} runs, 2 cores")
    print(f"{'engine':<10}{'wall (s)':>10}{'peak RSS (MiB)':>16}{'speed vs ours':>15}")
    ours = statistics.median(w for w, _ in results["ours"])
    for e, runs in results.items():
        wall = statistics.median(w for w, _ in runs)
        rss = statistics.median(r for _, r in runs)
        print(f"{e:<10}{wall:>10.2f}{rss:>16.0f}{wall / ours:>14.2f}x")
    print("same values in all three outputs:", "yes" if check([outs["ours"], outs["duckdb"], outs["polars"]]) else "NO")


if __name__ == "__main__":
    main()
