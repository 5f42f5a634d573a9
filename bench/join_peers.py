"""The same point-in-time join as `featurectl join`, with DuckDB or polars (run by bench/join.py).

Usage: python join_peers.py duckdb|polars DATA_DIR OUT_FILE
Semantics (Feast's): per view, rows with equal (key, event_ts) keep the greatest created_ts; each entity row
takes the latest row with event_ts <= its time, if not older than the view's ttl; nulls otherwise.
"""
import json
import sys

engine, data, out = sys.argv[1], sys.argv[2], sys.argv[3]
views = json.load(open(f"{data}/views.json"))  # [{"name", "ttl_seconds", "features": [...]}]

if engine == "duckdb":
    import duckdb
    con = duckdb.connect()
    con.execute("PRAGMA threads=2")
    select = ["e.* EXCLUDE (__row)"]
    joins = []
    for i, v in enumerate(views):
        a = f"v{i}"
        feats = ", ".join(v["features"])
        con.execute(f"""
            CREATE TEMP TABLE {a} AS SELECT driver_id, event_ts, {feats} FROM read_parquet('{data}/{v['name']}.parquet')
            QUALIFY row_number() OVER (PARTITION BY driver_id, event_ts ORDER BY created_ts DESC) = 1""")
        for f in v["features"]:
            select.append(f"CASE WHEN {a}.event_ts >= e.event_timestamp - INTERVAL {v['ttl_seconds']} SECOND THEN {a}.{f} END AS {v['name']}__{f}")
        joins.append(f"ASOF LEFT JOIN {a} ON e.driver_id = {a}.driver_id AND e.event_timestamp >= {a}.event_ts")
    # ASOF joins do not keep the input order: number the entity rows and sort back.
    con.execute(f"""COPY (SELECT {', '.join(select)}
                          FROM (SELECT row_number() OVER () AS __row, * FROM read_parquet('{data}/entities.parquet')) e
                          {' '.join(joins)} ORDER BY e.__row)
                    TO '{out}' (FORMAT PARQUET)""")
elif engine == "polars":
    import polars as pl
    ent = pl.read_parquet(f"{data}/entities.parquet").with_row_index("__row")
    result = ent.sort("event_timestamp")
    for v in views:
        f = (pl.read_parquet(f"{data}/{v['name']}.parquet", columns=["driver_id", "event_ts", "created_ts"] + v["features"])
             .sort(["driver_id", "event_ts", "created_ts"])
             .unique(subset=["driver_id", "event_ts"], keep="last", maintain_order=True)
             .sort("event_ts")
             .rename({x: f"{v['name']}__{x}" for x in v["features"]}))
        result = result.join_asof(f, left_on="event_timestamp", right_on="event_ts", by="driver_id", strategy="backward",
                                  tolerance=f"{v['ttl_seconds']}s").drop(["event_ts", "created_ts"])
    result.sort("__row").drop("__row").write_parquet(out)
else:
    sys.exit(f"unknown engine {engine}")
