"""Parquet read benchmark: our reader against pyarrow, on the same files, in one run.

Usage: .venv/bin/python bench/parquet_read.py [--rows 10000000] [--repeat 5]

Writes (once, cached under bench/data/) a file of N rows x 6 columns with pyarrow, snappy, 1M-row row groups:
id int64, ts timestamp[us], value float64, rate float32, count int32, name string (1,000 distinct values,
dictionary-encoded as pyarrow writes it). Then times a full read of all columns, single-threaded and with
all cores, with `parquet-bench` (release build) and `pyarrow.parquet.read_table`, and prints medians and ratios.
Builds the Swift side first (swift build -c release --product parquet-bench).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_file(path, rows):
    if os.path.exists(path):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = np.random.default_rng(42)
    names = np.array([f"name_{i:04d}" for i in range(1000)])
    table = pa.table({
        "id": pa.array(np.arange(rows, dtype=np.int64) * 7 + rng.integers(0, 5, rows)),
        "ts": pa.array(1_700_000_000_000_000 + np.sort(rng.integers(0, 30 * 86_400_000_000, rows)), pa.timestamp("us", tz="UTC")),
        "value": pa.array(rng.normal(100, 25, rows)),
        "rate": pa.array(rng.random(rows, dtype=np.float32)),
        "count": pa.array(rng.integers(0, 1000, rows, dtype=np.int32)),
        "name": pa.array(names[rng.integers(0, 1000, rows)]),
    })
    pq.write_table(table, path + ".tmp", compression="snappy", row_group_size=1_000_000)
    os.rename(path + ".tmp", path)


def time_ours(path, threads, repeat, columns=None):
    cmd = [os.path.join(ROOT, ".build/release/parquet-bench"), path, "--threads", str(threads), "--repeat", str(repeat)]
    if columns:
        cmd += ["--columns", ",".join(columns)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)["median"]


def time_pyarrow(path, threads, repeat, columns=None):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        pq.read_table(path, columns=columns, use_threads=threads > 1)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    subprocess.run(["swift", "build", "-c", "release", "--product", "parquet-bench"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    path = os.path.join(ROOT, "bench", "data", f"read-{args.rows}.parquet")
    make_file(path, args.rows)
    size_mb = os.path.getsize(path) / 1e6
    print(f"file: {path} ({args.rows:,} rows x 6 columns, snappy, {size_mb:.0f} MB); pyarrow {pa.__version__}; "
          f"median of {args.repeat} runs")
    print(f"{'case':<28}{'ours (s)':>10}{'pyarrow (s)':>13}{'ours Mrows/s':>14}{'ratio':>8}")
    cases = [("all columns, 1 thread", None, 1), ("all columns, 2 threads", None, 2)]
    for col in ("id", "value", "name"):
        cases.append((f"{col} only, 1 thread", [col], 1))
    for label, columns, threads in cases:
        ours = time_ours(path, threads, args.repeat, columns)
        theirs = time_pyarrow(path, threads, args.repeat, columns)
        print(f"{label:<28}{ours:>10.3f}{theirs:>13.3f}{args.rows / ours / 1e6:>14.1f}{theirs / ours:>7.2f}x")
    print("ratio = pyarrow time / our time (above 1: we are faster)")


if __name__ == "__main__":
    sys.exit(main())
