"""Random rows and the values DuckDB computes for SQL expressions, for the differential test of the expression
evaluator.

Usage: python expressions_expected.py OUT_DIR SEED CASES_JSON

OUT_DIR/data.parquet: 5,000 rows of (a int64, b int64, x float64, y float64, s string, t and u timestamp[us], u often
equal to t or one microsecond off, before 1970 too), with nulls,
zeros, negatives and equal values frequent. CASES_JSON: a file with [[name, sql], ...]. OUT_DIR/expected.json:
{name: [value per row]}: floats as repr strings, None for null.
"""
import json
import random
import sys

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

out, seed, cases_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = random.Random(seed)
N = 5000


def maybe(v, p=0.08):
    return None if r.random() < p else v


words = ["", "a", "ab", "abc", "Kafka", "zone_7", "b", "bab", "Hello World", "xyzzy"]
a = [maybe(r.choice([0, 1, -1, 2, 3, 5, 7, -7]) if r.random() < 0.3 else r.randint(-10_000, 10_000)) for _ in range(N)]
b = [maybe(r.choice([0, 1, -1, 3, 7]) if r.random() < 0.4 else r.randint(-100, 100)) for _ in range(N)]
x = [maybe(r.choice([0.0, -0.0, 1.5, -2.5, 0.5, 2.5]) if r.random() < 0.2 else r.uniform(-1e3, 1e3)) for _ in range(N)]
y = [maybe(r.choice([0.0, 1.0, -1.0, 3.0]) if r.random() < 0.2 else r.uniform(-50, 50)) for _ in range(N)]
s = [maybe(r.choice(words)) for _ in range(N)]
base = 1_700_000_000_000_000
t = [maybe(base + r.randint(-400 * 86_400, 400 * 86_400) * 1_000_000 + r.randint(0, 999_999)) for _ in range(N)]
u = [maybe(r.choice([v, v + 1, v - 1, -v]) if v is not None and r.random() < 0.5 else base + r.randint(-400 * 86_400, 400 * 86_400) * 1_000_000)
     for v in t]
table = pa.table({
    "a": pa.array(a, pa.int64()), "b": pa.array(b, pa.int64()),
    "x": pa.array(x, pa.float64()), "y": pa.array(y, pa.float64()),
    "s": pa.array(s, pa.string()), "t": pa.array(t, pa.timestamp("us", tz="UTC")),
    "u": pa.array(u, pa.timestamp("us", tz="UTC")),
})
pq.write_table(table, f"{out}/data.parquet")

cases = json.load(open(cases_path))
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
select = ", ".join(f"({sql}) AS \"{name}\"" for name, sql in cases)
rows = con.execute(f"SELECT {select} FROM read_parquet('{out}/data.parquet')").fetchall()
expected = {}
for i, (name, _) in enumerate(cases):
    column = []
    for row in rows:
        v = row[i]
        if isinstance(v, float):
            v = repr(v)
        column.append(v)
    expected[name] = column
json.dump(expected, open(f"{out}/expected.json", "w"))
