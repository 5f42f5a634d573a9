"""Avro records written by fastavro (schemaless_writer), with the values a reader should see, for the decoder's
differential test. Prints a JSON list of cases: {name, writer, reader, fields, hex, expected}; `expected` renders each
selected field as the test renders decoded values (type:value, floats by their bits, text by its UTF-8 bytes).

python avro_cases.py SEED COUNT
"""
import io
import json
import math
import random
import struct
import sys
import unicodedata
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import fastavro

seed, count = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def bits64(d):
    return "%016x" % struct.unpack("<Q", struct.pack("<d", d))[0]


def bits32(f):
    return "%08x" % struct.unpack("<I", struct.pack("<f", f))[0]


def render(kind, value):
    """The canonical text of a decoded value of a writer type."""
    if value is None:
        return "null"
    if kind in ("int", "long", "time-millis", "time-micros"):
        return f"long:{value}"
    if kind == "boolean":
        return f"boolean:{'true' if value else 'false'}"
    if kind == "float":
        return f"float:{bits32(value)}"
    if kind == "double":
        return f"double:{bits64(value)}"
    if kind == "string":
        return "string:" + value.encode().hex()
    if kind in ("bytes", "fixed"):
        return "bytes:" + bytes(value).hex()
    if kind == "enum":
        return "symbol:" + value
    if kind == "timestamp-millis":
        return f"timestamp:{value * 1000}"
    if kind == "timestamp-micros":
        return f"timestamp:{value}"
    if kind == "date":
        return f"timestamp:{value * 86400000000}"
    if kind == "decimal":
        return f"decimal:{value:f}"
    if kind == "uuid":
        return "string:" + str(value).encode().hex()
    raise ValueError(kind)


def random_string():
    choices = ["", "a", "é", unicodedata.normalize("NFD", "é"), "Zürich", "日本", "\U0001F600", "x" * rng.randint(0, 300), "\x00"]
    return rng.choice(choices)


def random_value(kind):
    if kind == "int":
        return rng.choice([0, -1, 1, 2**31 - 1, -2**31, rng.randint(-1000, 1000)])
    if kind == "long":
        return rng.choice([0, -1, 2**63 - 1, -2**63, rng.randint(-2**40, 2**40)])
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "float":
        return rng.choice([0.0, -0.0, 1.5, float("inf"), float("-inf"), struct.unpack("<f", struct.pack("<f", rng.uniform(-1e6, 1e6)))[0]])
    if kind == "double":
        return rng.choice([0.0, -0.0, 1e308, 5e-324, float("inf"), float("-inf"), rng.uniform(-1e9, 1e9)])
    if kind == "string":
        return random_string()
    if kind == "bytes":
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 20)))
    raise ValueError(kind)


# Logical types: (schema, python value, raw value for rendering, render kind)
def logical():
    which = rng.choice(["ts-ms", "ts-us", "date", "decimal-bytes", "decimal-fixed", "uuid", "time-ms"])
    if which == "ts-ms":
        ms = rng.choice([0, -1, -86400000 * 365 * 100, 4102444800000, rng.randint(-2**40, 2**40)])
        return {"type": "long", "logicalType": "timestamp-millis"}, EPOCH + timedelta(milliseconds=ms), ms, "timestamp-millis"
    if which == "ts-us":
        us = rng.choice([0, -1, -3155760000000000, rng.randint(-2**50, 2**50)])
        return {"type": "long", "logicalType": "timestamp-micros"}, EPOCH + timedelta(microseconds=us), us, "timestamp-micros"
    if which == "date":
        days = rng.randint(-100000, 100000)
        return {"type": "int", "logicalType": "date"}, date(1970, 1, 1) + timedelta(days=days), days, "date"
    if which == "time-ms":
        ms = rng.randint(0, 86399999)
        t = (datetime(2000, 1, 1) + timedelta(milliseconds=ms)).time()
        return {"type": "int", "logicalType": "time-millis"}, t, ms, "time-millis"
    if which.startswith("decimal"):
        scale = rng.randint(0, 6)
        precision = 18
        unscaled = rng.randint(-10**17, 10**17)
        d = Decimal(unscaled).scaleb(-scale)
        if which == "decimal-bytes":
            return {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}, d, d, "decimal"
        return {"type": "fixed", "name": f"dec{rng.randrange(10**9)}", "size": 8, "logicalType": "decimal", "precision": precision, "scale": scale}, d, d, "decimal"
    u = uuid.UUID(int=rng.getrandbits(128))
    return {"type": "string", "logicalType": "uuid"}, u, u, "uuid"


cases = []
for n in range(count):
    fields, record, expected_all = [], {}, {}
    for k in range(rng.randint(1, 8)):
        name = f"f{k}"
        shape = rng.choice(["prim", "prim", "union", "logical", "enum", "array", "nested", "map", "fixed"])
        if shape == "prim":
            kind = rng.choice(["int", "long", "boolean", "float", "double", "string", "bytes"])
            v = random_value(kind)
            fields.append({"name": name, "type": kind})
            record[name], expected_all[name] = v, render(kind, v)
        elif shape == "union":
            kind = rng.choice(["long", "double", "string"])
            v = None if rng.random() < 0.4 else random_value(kind)
            fields.append({"name": name, "type": ["null", kind]})
            record[name], expected_all[name] = v, render(kind, v)
        elif shape == "logical":
            schema, v, raw, kind = logical()
            fields.append({"name": name, "type": schema})
            record[name], expected_all[name] = v, render(kind, raw)
        elif shape == "enum":
            symbols = ["A", "B", "C_D"]
            v = rng.choice(symbols)
            fields.append({"name": name, "type": {"type": "enum", "name": f"E{n}_{k}", "symbols": symbols}})
            record[name], expected_all[name] = v, render("enum", v)
        elif shape == "fixed":
            v = bytes(rng.randrange(256) for _ in range(4))
            fields.append({"name": name, "type": {"type": "fixed", "name": f"F{n}_{k}", "size": 4}})
            record[name], expected_all[name] = v, render("fixed", v)
        elif shape == "array":
            v = [rng.randint(-5, 5) for _ in range(rng.randint(0, 5))]
            fields.append({"name": name, "type": {"type": "array", "items": "long"}})
            record[name], expected_all[name] = v, "array:[" + ",".join(render("long", x) for x in v) + "]"
        elif shape == "nested":
            v = {"a": rng.randint(0, 9), "b": random_string(), "next": None if rng.random() < 0.5 else {"a": 1, "b": "x", "next": None}}
            fields.append({"name": name, "type": {"type": "record", "name": f"Node{n}_{k}", "fields": [
                {"name": "a", "type": "int"}, {"name": "b", "type": "string"}, {"name": "next", "type": ["null", f"Node{n}_{k}"]}]}})
            record[name], expected_all[name] = v, "nested"
        else:
            v = {random_string(): rng.randint(0, 9) for _ in range(rng.randint(0, 3))}
            fields.append({"name": name, "type": {"type": "map", "values": "int"}})
            record[name], expected_all[name] = v, "nested"
    writer = {"type": "record", "name": f"R{n}", "fields": fields}
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(writer), record)
    # The reader selects some fields (some skipped), and one the writer lacks, with a default from a reader schema.
    names = [f["name"] for f in fields]
    selected = [x for x in names if rng.random() < 0.7]
    reader_fields = [f for f in fields if f["name"] in selected]
    expected = [expected_all[x] for x in selected]
    if rng.random() < 0.5:
        reader_fields.append({"name": "added", "type": "long", "default": 42})
        selected.append("added")
        expected.append("long:42")
    reader = {"type": "record", "name": f"R{n}", "fields": reader_fields}
    cases.append({"name": f"case {n} (seed {seed})", "writer": json.dumps(writer), "reader": json.dumps(reader),
                  "fields": selected, "hex": out.getvalue().hex(), "expected": expected})
json.dump(cases, sys.stdout)
