"""DuckDB computing the SQL of bench/ExpressionBench's ten expressions over the same Parquet file.

Usage: python expressions_peer.py DATA.parquet RUNS "SQL1" "SQL2" ...

The data is loaded into an in-memory table first (as ours is read into memory first); each run materializes the ten
result columns into a temporary table, on all the machine's cores. Prints the median wall time as JSON.
"""
import json
import sys
import time

import duckdb

path, runs, sqls = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{path}')")
select = ", ".join(f"({s}) AS e{i}" for i, s in enumerate(sqls))
times = []
for _ in range(runs):
    began = time.perf_counter()
    con.execute(f"CREATE OR REPLACE TEMP TABLE out AS SELECT {select} FROM t")
    times.append(time.perf_counter() - began)
times.sort()
rows = con.execute("SELECT count(*) FROM out").fetchone()[0]
print(json.dumps({"engine": "duckdb", "version": duckdb.__version__, "rows": rows, "expressions": len(sqls),
                  "median_seconds": round(times[len(times) // 2], 3), "threads": con.execute("SELECT current_setting('threads')").fetchone()[0]}))
