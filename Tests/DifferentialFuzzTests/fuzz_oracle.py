"""The differential fuzzer's independent reference: what a training set and an online lookup must say, by brute force.

Usage: python fuzz_oracle.py CASE_DIR

Reads CASE_DIR/spec.json (join keys, the plain view's ttl and features, the aggregated view's features with their
windows and hops), CASE_DIR/events.parquet and CASE_DIR/entities.parquet, both written by the Swift fuzzer, and
writes CASE_DIR/expected.json. Nothing here shares code with the engines: exact sums (math.fsum), exact variances
(fractions), byte orders and the row encoding that breaks ties are written from their documented rules.

Values are written as strings that keep every bit: "n" (null), "d:<16 hex digits of the float's bits>",
"i:<decimal>", "t:<microseconds>", "b:0|1", "s:<hex of the UTF-8 bytes>"; a list is a JSON array of them.

The rules:
- plain view at t: among the key's rows with ts <= t (and ts >= t - ttl when ttl > 0), the greatest
  (ts, created (null lowest), encoded row in byte order); online status from the latest row with ts <= t: NOT_FOUND
  when none or t >= ts + ttl + min(ttl, 1 day), OUTSIDE_MAX_AGE when t - ttl > ts, else NULL_VALUE or PRESENT.
- aggregated feature (window w, hop h) at t: events with floor_h(t - w) <= ts < t; nulls skipped except by count.
"""
import json
import math
import struct
import sys
from fractions import Fraction

import pyarrow as pa
import pyarrow.parquet as pq


def rows(path):
    """A Parquet file's rows, timestamps as integers of microseconds (any year, no datetime conversion)."""
    table = pq.read_table(path)
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            assert field.type.unit == "us", field
            table = table.set_column(i, field.name, table.column(i).cast(pa.int64()))
    return table.to_pylist()


case = sys.argv[1]
spec = json.load(open(f"{case}/spec.json"))
events = rows(f"{case}/events.parquet")
entities = rows(f"{case}/entities.parquet")
key_names = [k["name"] for k in spec["keys"]]
DAY = 86_400_000_000


def key_of(row):
    parts = [row[k] for k in key_names]
    if any(p is None for p in parts):
        return None
    return tuple(p.encode("utf-8") if isinstance(p, str) else p for p in parts)


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def total_order(x):
    """IEEE 754 totalOrder as an unsigned key: -NaN < -inf < ... < -0 < +0 < ... < +inf < +NaN."""
    b = bits(x)
    return (~b) & 0xFFFF_FFFF_FFFF_FFFF if b >> 63 else b | (1 << 63)


def order_key(kind, v):
    if kind == "float64":
        return total_order(v)
    if kind == "string":
        return v.encode("utf-8")
    if kind == "bool":
        return int(v)
    return v


def encode(kind, v):
    if v is None:
        return "n"
    if kind == "float64":
        return "d:%016x" % bits(v)
    if kind in ("int64", "count"):
        return "i:%d" % v
    if kind == "timestamp":
        return "t:%d" % v
    if kind == "bool":
        return "b:%d" % int(v)
    if kind == "string":
        return "s:" + v.encode("utf-8").hex()
    raise ValueError(kind)


def varint(n):
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return out + bytes([n])


def row_bytes(values, kinds):
    """The online store's encoding of a row: per feature a tag and the value (little-endian)."""
    out = b""
    for v, kind in zip(values, kinds):
        if v is None:
            out += b"\x00"
        elif kind == "bool":
            out += b"\x01" + bytes([int(v)])
        elif kind == "int64":
            out += b"\x02" + struct.pack("<q", v)
        elif kind == "float64":
            out += b"\x04" + struct.pack("<d", v)
        elif kind == "string":
            data = v.encode("utf-8")
            out += b"\x05" + varint(len(data)) + data
        elif kind == "timestamp":
            out += b"\x07" + struct.pack("<q", v)
        else:
            raise ValueError(kind)
    return out


for row in events:
    row.setdefault("created", None)
    # The derived column dx = ax * 2 + an (float64; null when an input is null).
    row["dx"] = None if row["ax"] is None or row["an"] is None else row["ax"] * 2.0 + float(row["an"])

by_key = {}
for row in events:
    k = key_of(row)
    if k is None or row["ts"] is None:
        continue
    by_key.setdefault(k, []).append(row)

# The plain view.
plain = spec["plain"]
ttl = plain["ttl_us"]
grace = min(ttl, DAY) if ttl > 0 else 0
pf = plain["features"]
kinds = [f["type"] for f in pf]
for row in events:
    row["_enc"] = row_bytes([row[f["name"]] for f in pf], kinds)


def rank(row):
    created = row["created"] if spec["created"] and row["created"] is not None else -(1 << 64)
    return (row["ts"], created, row["_enc"])


plain_values = {f["name"]: [] for f in pf}
plain_status = {f["name"]: [] for f in pf}
# The on-demand view od over the plain view's values at t: xn = x + n (float64), big = n > 40 or s = 'Z' (SQL's
# three-valued logic: null or true is true, null or false is null).
on_demand = {"xn": [], "big": []}
for e in entities:
    t = e["event_timestamp"]
    rows = [r for r in by_key.get(key_of(e), []) if r["ts"] <= t]
    latest = max(rows, key=rank) if rows else None
    in_ttl = [r for r in rows if ttl == 0 or r["ts"] >= t - ttl]
    winner = max(in_ttl, key=rank) if in_ttl else None
    x, n, s = (None, None, None) if winner is None else (winner["x"], winner["n"], winner["s"])
    on_demand["xn"].append(encode("float64", None if x is None or n is None else x + float(n)))
    left = None if n is None else n > 40
    right = None if s is None else s == "Z"
    big = True if (left is True or right is True) else (None if left is None or right is None else False)
    on_demand["big"].append(encode("bool", big))
    for f in pf:
        value = None if winner is None else winner[f["name"]]
        plain_values[f["name"]].append(encode(f["type"], value))
        if latest is None or (ttl > 0 and t >= latest["ts"] + ttl + grace):
            status = "NOT_FOUND"
        elif ttl > 0 and t - ttl > latest["ts"]:
            status = "OUTSIDE_MAX_AGE"
        else:
            status = "NULL_VALUE" if latest[f["name"]] is None else "PRESENT"
        plain_status[f["name"]].append(status)


def float_sum(xs):
    if any(math.isnan(x) for x in xs) or (math.inf in xs and -math.inf in xs):
        return math.nan
    if math.inf in xs:
        return math.inf
    if -math.inf in xs:
        return -math.inf
    exact = sum((Fraction(x) for x in xs), Fraction(0))
    try:
        return float(exact) + 0.0  # a sum of zeros is +0
    except OverflowError:
        return math.inf if exact > 0 else -math.inf


def aggregate(function, kind, n, rows, column):
    if function == "count":
        return "count", len(rows)
    values = [(r["ts"], r[column]) for r in rows if r[column] is not None]
    xs = [v for _, v in values]
    if function == "approx_count_distinct":
        return "count", len({bits(x) if kind == "float64" else x for x in xs})
    if not xs:
        return kind, None
    if function == "sum":
        if kind == "int64":
            s = sum(xs)
            return "int64", s if -(1 << 63) <= s < (1 << 63) else None
        return "float64", float_sum(xs)
    if function == "mean":
        s = float(sum(xs)) if kind == "int64" else float_sum(xs)
        return "float64", s / len(xs)
    if function in ("min", "max"):
        pick = min if function == "min" else max
        return kind, pick(xs, key=lambda v: order_key(kind, v))
    if function in ("variance", "stddev"):
        if len(xs) < 2:
            return "float64", None
        if kind == "float64":
            if any(math.isnan(x) or math.isinf(x) for x in xs):
                return "float64", math.nan
            if any(math.isinf(x * x) for x in xs):
                return "float64", math.inf
        fs = [Fraction(x) for x in xs]
        count = len(fs)
        var = float((count * sum(x * x for x in fs) - sum(fs) ** 2) / (count * (count - 1)))
        return "float64", var if function == "variance" else math.sqrt(var)
    timed = sorted(values, key=lambda tv: (tv[0], order_key(kind, tv[1])))
    if function == "first":
        return kind, timed[0][1]
    if function == "last":
        return kind, timed[-1][1]
    if function == "last_n":
        return "list:" + kind, [v for _, v in reversed(timed)][:n]
    if function == "last_distinct_n":
        newest = {}
        for t, v in timed:
            newest[order_key(kind, v)] = (t, v)
        ordered = sorted(newest.values(), key=lambda tv: (tv[0], order_key(kind, tv[1])), reverse=True)
        return "list:" + kind, [v for _, v in ordered][:n]
    raise ValueError(function)


agg_values = {}
for f in spec["aggregated"]["features"]:
    out = []
    w, h = f["window_us"], f["hop_us"]
    for e in entities:
        t = e["event_timestamp"]
        start = ((t - w) // h) * h
        rows = [r for r in by_key.get(key_of(e), []) if start <= r["ts"] < t]
        kind, value = aggregate(f["function"], f["input"], f.get("n", 1), rows, f.get("column"))
        if kind.startswith("list:"):
            out.append(None if value is None else [encode(kind[5:], v) for v in value])
        else:
            out.append(encode("int64" if kind == "count" else kind, value))
    agg_values[f["name"]] = out

json.dump({"plain": plain_values, "plain_status": plain_status, "aggregated": agg_values, "on_demand": on_demand}, open(f"{case}/expected.json", "w"))
