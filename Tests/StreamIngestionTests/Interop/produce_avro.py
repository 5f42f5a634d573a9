"""Produces trips as Avro with confluent-kafka's AvroSerializer (schemas registered in the registry), two schema
versions interleaved, plus messages that must become dead letters. Prints one JSON line per good message sent (the
values a reader with the latest schema sees: v1 events get v2's defaults).

python produce_avro.py BOOTSTRAP TOPIC REGISTRY_URL USER:PASSWORD
"""
import json
import sys
from datetime import datetime, timezone, timedelta
from decimal import Decimal

from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

bootstrap, topic, url, auth = sys.argv[1:5]
registry = SchemaRegistryClient({"url": url, "basic.auth.user.info": auth})

v1 = {
    "type": "record", "name": "Trip", "namespace": "rides",
    "fields": [
        {"name": "driver_id", "type": "long"},
        {"name": "event_ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "trips", "type": "int"},
        {"name": "fare", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}
# v2: `note` removed, `rating` (a union with null) and `city` added with defaults, `trips` renamed `trip_count`
# with an alias... no: kept as `trips` (a feature reads it); `created` (timestamp-micros) added.
v2 = {
    "type": "record", "name": "Trip", "namespace": "rides",
    "fields": [
        {"name": "driver_id", "type": "long"},
        {"name": "event_ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "trips", "type": "int"},
        {"name": "fare", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
        {"name": "rating", "type": ["null", "double"], "default": None},
        {"name": "city", "type": "string", "default": "unknown"},
    ],
}
# Under another subject: lacks `trips`, which the reader schema (v2, the topic's latest) has without a default.
v3 = {
    "type": "record", "name": "Trip", "namespace": "rides",
    "fields": [
        {"name": "driver_id", "type": "long"},
        {"name": "event_ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "fare", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
    ],
}
ser1 = AvroSerializer(registry, json.dumps(v1))
ser2 = AvroSerializer(registry, json.dumps(v2))
ser3 = AvroSerializer(registry, json.dumps(v3), conf={"subject.name.strategy": lambda ctx, name: "other-value"})
context = SerializationContext(topic, MessageField.VALUE)

producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": False})
base = datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc)
good = []
payloads = []
for i in range(40):
    driver = 100 + i % 8
    at = base + timedelta(minutes=i)
    fare = Decimal(f"{-5 + i * 1.25:.2f}")
    if i % 2 == 0:
        record = {"driver_id": driver, "event_ts": at, "trips": i, "fare": fare, "note": "v1"}
        payloads.append(ser1(record, context))
        seen = {"rating": None, "city": "unknown"}
    else:
        rating = None if i % 3 == 0 else 3.5 + i / 100
        city = "Zürich" if i % 4 == 1 else "Lyon"
        record = {"driver_id": driver, "event_ts": at, "trips": i, "fare": fare, "rating": rating, "city": city}
        payloads.append(ser2(record, context))
        seen = {"rating": rating, "city": city}
    good.append({"driver_id": driver, "event_ts_micros": int((at - datetime(1970, 1, 1, tzinfo=timezone.utc)) / timedelta(microseconds=1)),
                 "trips": i, "fare": str(fare), **seen})
# The latest version of the topic's subject must be v2 (the reader schema): register v2 last.
registry.register_schema(f"{topic}-value", __import__("confluent_kafka.schema_registry", fromlist=["Schema"]).Schema(json.dumps(v2), "AVRO"))

bad = [
    bytes([0, 0, 0, 3, 231]) + payloads[1][5:],           # schema id 999: unknown
    b"hello",                                              # not the wire format
    payloads[1][:-3],                                      # truncated
    ser3({"driver_id": 1, "event_ts": base, "fare": Decimal("1.00")}, context),  # lacks a feature's field
]
for i, payload in enumerate(payloads):
    producer.produce(topic, value=payload)
    if i == 10:
        for b in bad:
            producer.produce(topic, value=b)
left = producer.flush(30)
if left:
    sys.exit(f"{left} messages not delivered")
for g in good:
    print(json.dumps(g))
