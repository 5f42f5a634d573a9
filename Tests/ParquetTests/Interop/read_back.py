"""Reads Parquet files written by the Swift writer with pyarrow, DuckDB and polars.

Usage: python read_back.py FILE...
Prints one JSON object: {FILE: {"pyarrow": dump, "duckdb": dump, "polars": dump,
"stats": {column: [min, max]} (row group 0, as pyarrow reports them),
"duckdb_stats": {column: [min, max]} as DuckDB reads them }}.
"""
import json
import sys

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from generate import canonical  # noqa: E402


def dump(table):
    out = {}
    for name, col in zip(table.column_names, table.columns):
        if pa.types.is_timestamp(col.type):
            out[name] = col.cast(pa.int64()).to_pylist()
        else:
            out[name] = [canonical(v, col.type) for v in col.to_pylist()]
    return out


def stat_value(v):
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if hasattr(v, "timestamp"):
        return int(pa.scalar(v).cast(pa.int64()).as_py()) if hasattr(v, "tzinfo") else str(v)
    return v


results = {}
con = duckdb.connect()
for path in sys.argv[1:]:
    r = {}
    for reader in ("pyarrow", "duckdb", "polars"):
        try:
            if reader == "pyarrow":
                t = pq.read_table(path)
            elif reader == "duckdb":
                t = con.execute(f"SELECT * FROM read_parquet('{path}')").to_arrow_table()
            else:
                t = pl.read_parquet(path).to_arrow()
            r[reader] = dump(t)
        except Exception as e:  # reported to the Swift test
            r[reader + "_error"] = repr(e)
    meta = pq.ParquetFile(path).metadata
    stats = {}
    rg = meta.row_group(0)
    for i in range(rg.num_columns):
        c = rg.column(i)
        s = c.statistics
        if s is not None and s.has_min_max:
            mn, mx = s.min, s.max
            if c.path_in_schema == "ts":
                mn = int(pa.scalar(mn, pa.timestamp("us", tz="UTC")).cast(pa.int64()).as_py())
                mx = int(pa.scalar(mx, pa.timestamp("us", tz="UTC")).cast(pa.int64()).as_py())
            stats[c.path_in_schema] = [stat_value(mn), stat_value(mx)]
    r["stats"] = stats
    # The statistics DuckDB reads (and prunes row groups with).
    rows = con.execute(
        f"SELECT path_in_schema, stats_min_value, stats_max_value FROM parquet_metadata('{path}') WHERE row_group_id = 0"
    ).fetchall()
    r["duckdb_stats"] = {p: [mn, mx] for p, mn, mx in rows if mn is not None}
    results[path] = r
print(json.dumps(results, default=lambda o: o.hex() if isinstance(o, bytes) else str(o)))
