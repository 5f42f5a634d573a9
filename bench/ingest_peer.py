"""The peer for bench/ingest.sh: what a Python feature pipeline does with the same stream (Feast's stream ingestion
is Python pushing into its online store): confluent-kafka consumer, json.loads, one SQLite upsert per view per batch
(newer event time wins), offsets committed after each batch. Online only: no offline copy (ours also writes Parquet).

Usage: ingest_peer.py BOOTSTRAP EVENTS
"""
import json
import os
import sqlite3
import sys
import tempfile
import time

from confluent_kafka import Consumer

VIEWS = {
    "clicks": ["clicks_1m", "clicks_1h", "ctr_1h", "last_page"],
    "sessions": ["session_seconds", "pages_in_session", "is_mobile", "country"],
    "purchases": ["cart_value", "items_in_cart", "purchases_7d", "last_category"],
}


# DRAIN_ONLY=1: consume and drop (the ceiling the broker and the client set on this machine).
DRAIN_ONLY = os.environ.get("DRAIN_ONLY") == "1"


def main():
    bootstrap, total = sys.argv[1], int(sys.argv[2])
    path = os.path.join(tempfile.mkdtemp(), "online.db")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    for view in VIEWS:
        db.execute(f"CREATE TABLE {view} (entity_key INTEGER PRIMARY KEY, event_ts INTEGER, value TEXT)")
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "python-peer-drain" if DRAIN_ONLY else "python-peer", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "fetch.wait.max.ms": 20})
    consumer.subscribe(["events"])
    seen, start = 0, None
    while seen < total:
        messages = consumer.consume(10000, timeout=0.1)
        if not messages:
            continue
        if start is None:
            start = time.perf_counter()
        if DRAIN_ONLY:
            seen += len(messages)
            continue
        rows = {view: [] for view in VIEWS}
        for m in messages:
            if m.error():
                continue
            event = json.loads(m.value())
            for view, features in VIEWS.items():
                rows[view].append((event["user_id"], event["ts"], json.dumps([event.get(f) for f in features])))
        db.execute("BEGIN")
        for view, batch in rows.items():
            db.executemany(f"INSERT INTO {view} VALUES (?, ?, ?) ON CONFLICT (entity_key) DO UPDATE SET "
                           f"event_ts = excluded.event_ts, value = excluded.value WHERE excluded.event_ts > event_ts", batch)
        db.execute("COMMIT")
        consumer.commit(asynchronous=False)
        seen += len(messages)
    elapsed = time.perf_counter() - start
    consumer.close()
    what = "consume only, no processing" if DRAIN_ONLY else "confluent-kafka + json + sqlite3, online only"
    print(f"python peer ({what}): {seen} events in {elapsed:.2f} s = {seen / elapsed:.0f} events/s")
    print(f"RESULT peer_events_per_s {seen / elapsed:.0f}")


if __name__ == "__main__":
    main()
