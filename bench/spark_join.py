"""Training sets on Spark: our generated plan (`featurectl join --engine spark`: rows hashed by key, each partition
folded by featurestore-fold) against Feast's Spark-style join-then-rank SQL, on the same Spark (pyspark from .venv,
master local[2]) and the join benchmark's data, in one run.

Usage: .venv/bin/python bench/spark_join.py [medium|large] [--repeat 3] [--timeout SECONDS]

Feast's query is written here from its documented semantics (the Spark offline store's point-in-time template): per
view, join the entity rows to the source rows of the same key within [t - ttl, t] (every pair of the key), keep
the greatest created time per (entity row, event time), rank by event time and created time descending and keep
row 1, then join each view's winners back to the entity rows. Both write Parquet and run in their own process
(JVM start included); wall time and the peak of the whole process tree's memory (sampled every 0.2 s) are medians
of --repeat. The outputs are checked to hold the same values.
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import join as join_bench  # noqa: E402

import pyarrow.parquet as pq  # noqa: E402

ROOT = join_bench.ROOT
CONF = {"spark.driver.memory": "3g", "spark.sql.shuffle.partitions": "8"}

FEAST_STYLE = r'''
import sys, json
from pyspark.sql import SparkSession
data, out, conf = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
views = json.load(open(data + "/views.json"))
b = SparkSession.builder.master("local[2]").appName("feast-style")
for k, v in conf.items():
    b = b.config(k, v)
spark = b.config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
spark.read.parquet(data + "/entities.parquet").createOrReplaceTempView("entity_rows")
spark.sql("SELECT *, monotonically_increasing_id() AS entity_row_unique_id FROM entity_rows").createOrReplaceTempView("entity_df")
ctes, joins, selects = [], [], []
for v in views:
    n, ttl, fs = v["name"], v["ttl_seconds"], v["features"]
    spark.read.parquet(f"{data}/{n}.parquet").createOrReplaceTempView(f"{n}_src")
    feats = ", ".join(f"s.{f} AS {n}__{f}" for f in fs)
    ctes.append(f"""
{n}__subquery AS (
  SELECT driver_id, event_ts, created_ts, {", ".join(fs)} FROM {n}_src
  WHERE event_ts <= (SELECT max(event_timestamp) FROM entity_df)
    AND event_ts >= (SELECT min(event_timestamp) FROM entity_df) - INTERVAL {ttl} SECONDS
),
{n}__base AS (
  SELECT e.entity_row_unique_id, s.event_ts, s.created_ts, {feats}
  FROM entity_df e JOIN {n}__subquery s
    ON e.driver_id = s.driver_id AND s.event_ts <= e.event_timestamp
   AND s.event_ts >= e.event_timestamp - INTERVAL {ttl} SECONDS
),
{n}__dedup AS (
  SELECT entity_row_unique_id, event_ts, max(created_ts) AS created_ts FROM {n}__base GROUP BY entity_row_unique_id, event_ts
),
{n}__latest AS (
  SELECT entity_row_unique_id, event_ts, created_ts FROM (
    SELECT *, row_number() OVER (PARTITION BY entity_row_unique_id ORDER BY event_ts DESC, created_ts DESC) AS row_number
    FROM {n}__dedup) WHERE row_number = 1
),
{n}__cleaned AS (
  SELECT b.* FROM {n}__base b JOIN {n}__latest l
    ON b.entity_row_unique_id = l.entity_row_unique_id AND b.event_ts = l.event_ts AND b.created_ts = l.created_ts
)""")
    joins.append(f"LEFT JOIN {n}__cleaned ON e.entity_row_unique_id = {n}__cleaned.entity_row_unique_id")
    selects += [f"{n}__cleaned.{n}__{f}" for f in fs]
query = "WITH " + ",".join(ctes) + f"\nSELECT e.driver_id, e.event_timestamp, e.label, {', '.join(selects)} FROM entity_df e " + " ".join(joins) + " ORDER BY e.entity_row_unique_id"
spark.sql(query).write.mode("overwrite").parquet(out)
spark.stop()
'''


def tree_rss(pid):
    """Resident memory of pid and all its descendants, MiB."""
    children = {}
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(parts[1]), []).append(int(entry))
        except OSError:
            continue
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
        stack += children.get(p, [])
    return total / 2**20


def timed(cmd, env, timeout):
    """Wall seconds and peak tree RSS (MiB) of cmd, or (None, peak) after timeout."""
    began = time.time()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        if time.time() - began > timeout:
            subprocess.run(["pkill", "-KILL", "-P", str(proc.pid)])
            proc.kill()
            proc.wait()
            return None, peak
        time.sleep(0.2)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr.read().decode()[-3000:]}")
    return time.time() - began, peak


def main():
    preset = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "medium"
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    timeout = float(sys.argv[sys.argv.index("--timeout") + 1]) if "--timeout" in sys.argv else 1800
    build = os.path.join(ROOT, ".build-release")
    for product in ("featurectl", "featurestore-fold"):
        subprocess.run(["swift", "build", "-c", "release", "--scratch-path", build, "--product", product], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    data = os.path.join(ROOT, "bench", "data", f"join-{preset}")
    join_bench.generate(preset, data)
    # A copy of the benchmark's repository on the Spark engine.
    repo = f"{data}/repo-spark"
    os.makedirs(repo, exist_ok=True)
    shutil.copy(f"{data}/repo/defs.yaml", repo)
    conf = ", ".join(f'"{k}": "{v}"' for k, v in CONF.items())
    with open(f"{repo}/feature_store.yaml", "w") as f:
        f.write("project: join_bench\nregistry: {path: ../registry.db}\nonline_store: {kind: sqlite, path: ../online.db}\n"
                f'offline_store: {{kind: spark, master: "local[2]", python: "{sys.executable}", conf: {{{conf}}}}}\n')
    script = f"{data}/feast_style.py"
    with open(script, "w") as f:
        f.write(FEAST_STYLE)
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable)
    feats = ",".join(v["name"] for v in join_bench.VIEWS)
    outs = {"ours": f"{data}/out-spark-ours.parquet", "feast": f"{data}/out-spark-feast"}
    import json
    cmds = {
        "ours": [os.path.join(build, "release", "featurectl"), "join", "--repo", repo, "--entities", f"{data}/entities.parquet",
                 "--features", feats, "--full-feature-names", "--out", outs["ours"]],
        "feast": [sys.executable, script, data, outs["feast"], json.dumps(CONF)],
    }
    results = {e: [] for e in cmds}
    for _ in range(repeat):
        for e, cmd in cmds.items():
            results[e].append(timed(cmd, env, timeout))
    e_rows, v_rows, keys = join_bench.PRESETS[preset]
    print(f"preset {preset}: {e_rows:,} entity rows x {len(join_bench.VIEWS)} views x {v_rows:,} rows, {keys:,} drivers; "
          f"Spark local[2] ({', '.join(f'{k}={v}' for k, v in CONF.items())}); median of {repeat} runs, 2 cores")
    print(f"{'plan':<34}{'wall (s)':>10}{'peak RSS (MiB)':>16}{'time vs ours':>14}")
    ours = statistics.median(w for w, _ in results["ours"] if w is not None) if any(w for w, _ in results["ours"]) else None
    for e, label in (("ours", "ours (hash by key, fold)"), ("feast", "Feast-style join-then-rank")):
        walls = [w for w, _ in results[e] if w is not None]
        rss = statistics.median(r for _, r in results[e])
        if not walls:
            print(f"{label:<34}{'> %.0f' % timeout:>10}{rss:>16.0f}{'':>14}  (did not finish)")
            continue
        wall = statistics.median(walls)
        print(f"{label:<34}{wall:>10.2f}{rss:>16.0f}{(wall / ours if ours else float('nan')):>13.2f}x")
    if all(w is not None for e in results for w, _ in results[e]):
        a = pq.read_table(outs["ours"])
        b = pq.read_table(outs["feast"])
        same = a.num_rows == b.num_rows
        for v in join_bench.VIEWS:
            for f in v["features"]:
                name = f"{v['name']}__{f}"
                same = same and a.column(name).to_pylist() == b.column(name).to_pylist()
        print("same values in both outputs:", "yes" if same else "NO")


if __name__ == "__main__":
    main()
