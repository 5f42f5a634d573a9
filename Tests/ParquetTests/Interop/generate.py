"""Writes a matrix of Parquet files with pyarrow, DuckDB and polars, each with a JSON dump of its values.

Usage: python generate.py OUT_DIR
Every file F.parquet gets F.json: {"columns": {name: [values...]}} in a canonical form that the Swift
tests compare value by value: integers as numbers, floats as numbers, bytes as hex, timestamps and dates
as integers in their unit, floats and decimals as strings (floats by repr, exact), lists as arrays, nulls as null.
"""
import datetime
import decimal
import json
import os
import random
import sys

import pyarrow as pa
import pyarrow.parquet as pq

ROWS = 2500
random.seed(7)


def maybe_null(values, nullable, every=7):
    return [None if nullable and i % every == 3 else v for i, v in enumerate(values)]


def columns(nullable):
    n = ROWS
    r = random.Random(11)
    ints = [r.randint(-(2**31), 2**31 - 1) for _ in range(n)]
    words = ["alpha", "beta", "gamma", "delta", "", "épsilon", "zeta-long-value-" * 3]
    base_ts = 1_700_000_000_000_000
    cols = {
        "b": (pa.bool_(), [r.random() < 0.5 for _ in range(n)]),
        "i8": (pa.int8(), [r.randint(-128, 127) for _ in range(n)]),
        "i16": (pa.int16(), [r.randint(-32768, 32767) for _ in range(n)]),
        "i32": (pa.int32(), ints),
        "i64": (pa.int64(), [r.randint(-(2**63), 2**63 - 1) for _ in range(n)]),
        "u8": (pa.uint8(), [r.randint(0, 255) for _ in range(n)]),
        "u16": (pa.uint16(), [r.randint(0, 65535) for _ in range(n)]),
        "u32": (pa.uint32(), [r.randint(0, 2**32 - 1) for _ in range(n)]),
        "u64": (pa.uint64(), [r.randint(0, 2**63 - 1) for _ in range(n)]),
        "f32": (pa.float32(), [float(pa.scalar(r.uniform(-1e6, 1e6), pa.float32()).as_py()) for _ in range(n)]),
        "f64": (pa.float64(), [r.uniform(-1e12, 1e12) for _ in range(n)]),
        "s": (pa.string(), [words[r.randrange(len(words))] + str(r.randrange(50)) for _ in range(n)]),
        "bin": (pa.binary(), [bytes(r.randrange(256) for _ in range(r.randrange(6))) for _ in range(n)]),
        "fixed": (pa.binary(4), [bytes(r.randrange(256) for _ in range(4)) for _ in range(n)]),
        "d": (pa.date32(), [datetime.date(2020, 1, 1) + datetime.timedelta(days=r.randrange(2000)) for _ in range(n)]),
        "ts_ms": (pa.timestamp("ms", tz="UTC"), [(base_ts + r.randrange(10**12)) // 1000 for _ in range(n)]),
        "ts_us": (pa.timestamp("us", tz="UTC"), [base_ts + r.randrange(10**12) for _ in range(n)]),
        "ts_ns": (pa.timestamp("ns"), [(base_ts + r.randrange(10**12)) * 1000 + r.randrange(1000) for _ in range(n)]),
        "dec9": (pa.decimal128(9, 2), [decimal.Decimal(r.randint(-10**8, 10**8)) / 100 for _ in range(n)]),
        "dec18": (pa.decimal128(18, 3), [decimal.Decimal(r.randint(-10**17, 10**17)) / 1000 for _ in range(n)]),
        "li": (pa.list_(pa.int64()), [[r.randint(-5, 5) for _ in range(r.randrange(4))] for _ in range(n)]),
        "ls": (pa.list_(pa.string()), [[words[r.randrange(len(words))] for _ in range(r.randrange(3))] for _ in range(n)]),
    }
    arrays, fields = [], []
    for name, (typ, values) in cols.items():
        vals = maybe_null(values, nullable)
        if name in ("li", "ls") and nullable:
            # null elements inside lists, and empty lists
            vals = [None if v is None else ([None] + v if i % 5 == 0 else v) for i, v in enumerate(vals)]
        if typ in (pa.timestamp("ms", tz="UTC"), pa.timestamp("us", tz="UTC"), pa.timestamp("ns")):
            arrays.append(pa.array(vals, pa.int64()).cast(typ))
        else:
            arrays.append(pa.array(vals, typ))
        fields.append(pa.field(name, typ, nullable=nullable))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def canonical(value, typ):
    if value is None:
        return None
    if pa.types.is_list(typ):
        return [canonical(v, typ.value_type) for v in value]
    if pa.types.is_binary(typ) or pa.types.is_fixed_size_binary(typ):
        return value.hex()
    if pa.types.is_decimal(typ):
        return str(value)
    if pa.types.is_date32(typ):
        return (value - datetime.date(1970, 1, 1)).days
    if pa.types.is_timestamp(typ):
        return value
    if pa.types.is_floating(typ):
        # Exact: JSON number parsing differs between libraries; repr round-trips.
        return repr(float(value))
    return value


def dump(table, path):
    out = {}
    for name, col in zip(table.column_names, table.columns):
        typ = col.type
        if pa.types.is_timestamp(typ):
            values = col.cast(pa.int64()).to_pylist()
        else:
            values = [canonical(v, typ) for v in col.to_pylist()]
        out[name] = values
    with open(path, "w") as f:
        json.dump({"columns": out}, f)


ENCODINGS = {
    "dict": None,
    "plain": {},
    "delta": {"i32": "DELTA_BINARY_PACKED", "i64": "DELTA_BINARY_PACKED", "i8": "DELTA_BINARY_PACKED",
              "u32": "DELTA_BINARY_PACKED", "ts_us": "DELTA_BINARY_PACKED", "d": "DELTA_BINARY_PACKED",
              "s": "DELTA_BYTE_ARRAY", "bin": "DELTA_LENGTH_BYTE_ARRAY", "fixed": "DELTA_BYTE_ARRAY",
              "li": "DELTA_BINARY_PACKED", "ls": "DELTA_LENGTH_BYTE_ARRAY"},
    "bss": {"f32": "BYTE_STREAM_SPLIT", "f64": "BYTE_STREAM_SPLIT", "i32": "BYTE_STREAM_SPLIT",
            "i64": "BYTE_STREAM_SPLIT", "fixed": "BYTE_STREAM_SPLIT"},
}
COMPRESSIONS = ["none", "snappy", "gzip", "zstd", "lz4"]


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    made = 0
    for nullable in (True, False):
        table = columns(nullable)
        tag = "null" if nullable else "req"
        for enc, column_encoding in ENCODINGS.items():
            for comp in COMPRESSIONS:
                for page in ("1.0", "2.0"):
                    name = f"pa-{tag}-{enc}-{comp}-v{page[0]}"
                    kwargs = dict(compression=comp, data_page_version=page, row_group_size=1000,
                                  data_page_size=4096, write_statistics=True)
                    if column_encoding is None:
                        kwargs["use_dictionary"] = True
                    else:
                        kwargs["use_dictionary"] = False
                        if column_encoding:
                            kwargs["column_encoding"] = column_encoding
                    pq.write_table(table, os.path.join(out_dir, name + ".parquet"), **kwargs)
                    dump(table, os.path.join(out_dir, name + ".json"))
                    made += 1
        # Legacy Spark timestamps (INT96).
        name = f"pa-{tag}-int96"
        t96 = table.select(["ts_ns", "i64"])
        pq.write_table(t96, os.path.join(out_dir, name + ".parquet"), use_deprecated_int96_timestamps=True)
        dump(t96, os.path.join(out_dir, name + ".json"))
        made += 1

    # An empty table: pyarrow writes one row group of no rows whose chunks say data page offset 0.
    empty = columns(True).slice(0, 0)
    pq.write_table(empty, os.path.join(out_dir, "pa-empty.parquet"))
    dump(empty, os.path.join(out_dir, "pa-empty.json"))
    made += 1

    # DuckDB's and polars' own writers (flat columns they round-trip exactly).
    flat = columns(True).select(["b", "i32", "i64", "f32", "f64", "s", "d", "ts_us", "li"])
    import duckdb
    con = duckdb.connect()
    con.register("t", flat)
    for comp in ("snappy", "zstd", "uncompressed"):
        path = os.path.join(out_dir, f"duckdb-{comp}.parquet")
        con.execute(f"COPY (SELECT * FROM t) TO '{path}' (FORMAT PARQUET, COMPRESSION {comp}, ROW_GROUP_SIZE 1000)")
        dump(flat, path[:-8] + ".json")
        made += 1
    import polars as pl
    df = pl.from_arrow(flat)
    for comp in ("snappy", "zstd", "lz4", "uncompressed"):
        path = os.path.join(out_dir, f"polars-{comp}.parquet")
        df.write_parquet(path, compression=comp, row_group_size=1000)
        dump(flat, path[:-8] + ".json")
        made += 1
    print(f"wrote {made} files to {out_dir}")


if __name__ == "__main__":
    main(sys.argv[1])
