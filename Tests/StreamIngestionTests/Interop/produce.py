"""Produces driver events to a topic with confluent-kafka (its own bundled librdkafka 2.16), for the interoperability
test: python produce.py BOOTSTRAP TOPIC COUNT"""
import json
import sys

from confluent_kafka import Producer

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
# librdkafka 2.0.2's mock cluster answers older request versions only; confluent-kafka negotiates them itself.
producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": False})
for i in range(count):
    event = {"driver_id": 500 + i, "trips": i, "is_online": i % 2 == 0, "speed": i / 8, "ts": f"2025-03-01T10:{i % 60:02d}:00Z"}
    producer.produce(topic, key=str(500 + i), value=json.dumps(event))
left = producer.flush(30)
if left:
    sys.exit(f"{left} messages not delivered")
print(count)
