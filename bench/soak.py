#!/usr/bin/env python3
"""Soak load for FeatureServer: mixed gRPC lookups, HTTP pushes and Kafka stream events at fixed rates.

Open loop: each kind of call has a fixed schedule (call k of a kind at start + k / rate), sent when due whatever the
answers before it did, and its latency is measured from its scheduled time, not from when it was sent, so a stalled
server shows as latency instead of thinning the load (no coordinated omission). One asyncio loop sends the lookups
(grpc.aio, one channel reused) and the pushes (keep-alive HTTP/1.1 connections); Kafka events go through one
confluent-kafka producer whose deliveries a thread of its own collects.

Kinds:
- lookup: GetOnlineFeatures over gRPC, half of driver_stats for one random driver, half of the feature service
  driver_ranking_v1 for one random customer and --candidates random drivers (fractions set by --service-share).
- push: POST /v1/push of one row of driver_stats (event time now) for a random driver.
- produce: JSON events to the topics of the example's stream sources, driver_activity (the plain view of the same
  name) and trips (the aggregated view driver_trips), --trips-share of them trips; latency until the broker acks.

Every --report-interval seconds one line: per kind the calls scheduled in the window that finished, errors, p50, p99
and max latency (ms), and the server's RSS (VmRSS of --server-pid) and CPU. After a warm-up (default
min(30, duration / 4)) the RSS is taken as the start; at the end: totals (latency totals after the warm-up), the RSS
at start and end and their ratio, the server's stream counters from /metrics, and a freshness check (the last
driver_activity event produced must be served by a lookup within 10 s). Exits 1 on any error, an RSS growth over
--max-rss-growth, bad stream messages on the server, or a failed freshness check.

    python bench/soak.py --grpc 127.0.0.1:6590 --http 127.0.0.1:6591 --kafka 127.0.0.1:PORT --server-pid PID

bench/soak.sh sets up the repository and the server and runs this. `--mock-broker TOPIC...` instead runs librdkafka's
mock cluster in this process (for SOAK_KAFKA=separate: the broker's in-memory log then stays out of the server's RSS).
"""
import argparse
import asyncio
import json
import math
import os
import random
import resource
import sys
import threading
import time
from array import array
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples" / "python"))
import generate_stubs  # noqa: E402

generate_stubs.ensure()

import grpc  # noqa: E402
from confluent_kafka import Producer  # noqa: E402
from featurestore.v1 import serving_pb2, serving_pb2_grpc  # noqa: E402

PRESENT = serving_pb2.FeatureStatus.PRESENT
NULL_VALUE = serving_pb2.FeatureStatus.NULL_VALUE
ZONES = [f"zone_{chr(65 + i)}" for i in range(26)]


# MARK: statistics

class Kind:
    """Latencies and errors of one kind of call: the current report window's, and the totals."""

    def __init__(self, name: str):
        self.name = name
        self.lock = threading.Lock()
        self.window = array("d")
        self.window_errors = 0
        self.measured = array("d")  # latencies of calls scheduled after the warm-up
        self.count = 0  # every finished call, warm-up included
        self.errors = 0
        self.error_samples: dict[str, int] = {}
        self.absent = 0  # lookups: values NOT_FOUND or OUTSIDE_MAX_AGE (not errors; reported)
        self.values = 0
        self.in_flight = 0

    def ok(self, latency_ms: float, after_warmup: bool) -> None:
        with self.lock:
            self.count += 1
            self.window.append(latency_ms)
            if after_warmup:
                self.measured.append(latency_ms)

    def fail(self, message: str) -> None:
        with self.lock:
            self.count += 1
            self.errors += 1
            self.window_errors += 1
            key = message[:200]
            if key in self.error_samples or len(self.error_samples) < 10:
                self.error_samples[key] = self.error_samples.get(key, 0) + 1

    def take_window(self):
        with self.lock:
            latencies, errors = self.window, self.window_errors
            self.window, self.window_errors = array("d"), 0
        return latencies, errors


def percentile(sorted_values, p: float) -> float:
    """Nearest-rank percentile of sorted values (nan when empty)."""
    if not sorted_values:
        return math.nan
    return sorted_values[max(0, math.ceil(p * len(sorted_values)) - 1)]


def summary(latencies, errors: int, extra: str = "") -> str:
    s = sorted(latencies)
    n = len(s) + errors
    if not s:
        return f"{n:6d} err {errors}{extra}"
    return (f"{n:6d} err {errors} p50 {percentile(s, .5):6.2f} p99 {percentile(s, .99):6.2f} "
            f"max {s[-1]:7.2f}{extra}")


# MARK: the server process

class ServerProcess:
    """RSS and CPU of the server from /proc (nothing when no pid is given)."""

    def __init__(self, pid):
        self.pid = pid
        self.ticks = os.sysconf("SC_CLK_TCK")

    def rss_mib(self):
        if not self.pid:
            return None
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def cpu_seconds(self):
        if not self.pid:
            return None
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / self.ticks  # utime, stime (fields 14 and 15)
        except (OSError, IndexError, ValueError):
            return None


def mib(value) -> str:
    return "n/a" if value is None else f"{value:.1f} MiB"


# MARK: HTTP/1.1 keep-alive client

class HTTPPool:
    """A few keep-alive HTTP/1.1 connections to one host, for small JSON requests (no dependency beyond asyncio)."""

    def __init__(self, host: str, port: int, size: int):
        self.host, self.port = host, port
        self.idle: list = []
        self.slots = asyncio.Semaphore(size)

    async def request(self, method: str, path: str, body: bytes = b"", timeout: float = 5.0):
        async with self.slots:
            conn = self.idle.pop() if self.idle else None
            try:
                if conn is None:
                    conn = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), timeout)
                status, data = await asyncio.wait_for(self._exchange(conn, method, path, body), timeout)
            except BaseException:
                if conn is not None:
                    conn[1].close()
                raise
            self.idle.append(conn)
            return status, data

    async def _exchange(self, conn, method, path, body):
        reader, writer = conn
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        writer.write(head + body)
        await writer.drain()
        lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            data = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        else:
            raise RuntimeError(f"HTTP {status} without a length")
        if headers.get("connection", "").lower() == "close":
            raise ConnectionResetError("server closed the connection")  # not reused (the caller closes it)
        return status, data

    def close(self):
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


# MARK: the soak

class Soak:
    def __init__(self, args):
        self.args = args
        self.kinds = {name: Kind(name) for name in ("lookup", "push", "produce")}
        self.server = ServerProcess(args.server_pid)
        self.rng = random.Random(args.seed)
        self.drivers = range(1001, 1001 + args.drivers)
        self.customers = range(5001, 5001 + args.customers)
        self.tasks: set = set()
        self.last_micros = 0
        self.produced_bytes = 0
        self.sequence = 0
        self.trips_credit = 0.0
        self.last_activity = None  # (driver, minutes_online_today, event micros, monotonic time produced)
        self.delivery_lock = threading.Lock()

    def event_micros(self) -> int:
        """Now in epoch microseconds, strictly increasing over the run (so the last event of a key is the newest)."""
        self.last_micros = max(self.last_micros + 1, time.time_ns() // 1000)
        return self.last_micros

    def spawn(self, kind: Kind, coroutine_function, scheduled: float) -> None:
        if kind.in_flight >= self.args.max_in_flight:
            kind.fail(f"client overload: over {self.args.max_in_flight} calls in flight")
            return
        kind.in_flight += 1
        task = asyncio.get_running_loop().create_task(coroutine_function(scheduled))
        self.tasks.add(task)

        def done(t, kind=kind):
            kind.in_flight -= 1
            self.tasks.discard(t)
        task.add_done_callback(done)

    # Lookups

    async def lookup(self, scheduled: float) -> None:
        kind, a = self.kinds["lookup"], self.args
        request = serving_pb2.GetOnlineFeaturesRequest()
        if self.rng.random() < a.service_share:
            request.feature_service = "driver_ranking_v1"
            rows = a.candidates
            request.entities["driver_id"].int64_values.values.extend(self.rng.sample(self.drivers, rows))
            request.entities["customer_id"].int64_values.values.extend([self.rng.choice(self.customers)] * rows)
        else:
            request.feature_refs.refs.append("driver_stats")
            rows = 1
            request.entities["driver_id"].int64_values.values.append(self.rng.choice(self.drivers))
        try:
            response = await self.stub.GetOnlineFeatures(request, timeout=a.timeout)
        except grpc.RpcError as error:
            kind.fail(f"{error.code().name}: {error.details()}")
            return
        except Exception as error:  # noqa: BLE001
            kind.fail(f"{type(error).__name__}: {error}")
            return
        latency = (time.monotonic() - scheduled) * 1000
        if response.entity_count != rows or not response.features or any(
                len(c.values) != rows or len(c.statuses) != rows for c in response.features):
            kind.fail(f"malformed answer: entity_count {response.entity_count} for {rows} rows")
            return
        absent = sum(1 for c in response.features for s in c.statuses if s != PRESENT and s != NULL_VALUE)
        kind.absent += absent
        kind.values += rows * len(response.features)
        kind.ok(latency, scheduled >= self.warm_end)

    # Pushes

    async def push(self, scheduled: float) -> None:
        kind, a = self.kinds["push"], self.args
        conv, acc = round(self.rng.random(), 4), round(self.rng.random(), 4)
        body = json.dumps({
            "feature_view": "driver_stats",
            "entities": {"driver_id": [self.rng.choice(self.drivers)]},
            "event_timestamps": [self.event_micros()],
            "features": {"conv_rate": [conv], "acc_rate": [acc], "avg_daily_trips": [self.rng.randrange(40)],
                         "reliability": [round(conv * acc * 100, 1)]},
        }, separators=(",", ":")).encode()
        try:
            status, data = await self.http.request("POST", "/v1/push", body, timeout=a.timeout)
        except Exception as error:  # noqa: BLE001
            kind.fail(f"{type(error).__name__}: {error}")
            return
        latency = (time.monotonic() - scheduled) * 1000
        if status != 200:
            kind.fail(f"HTTP {status}: {data[:300].decode('utf-8', 'replace')}")
            return
        try:
            if json.loads(data).get("rows_received") != 1:
                raise ValueError(data[:200])
        except ValueError as error:
            kind.fail(f"unexpected answer: {error}")
            return
        kind.ok(latency, scheduled >= self.warm_end)

    # Stream events

    def produce(self, scheduled: float) -> None:
        kind, a = self.kinds["produce"], self.args
        self.sequence += 1
        self.trips_credit += a.trips_share
        driver = self.rng.choice(self.drivers)
        micros = self.event_micros()
        if self.trips_credit >= 1:
            self.trips_credit -= 1
            topic = "trips"
            event = {"driver_id": driver, "rider_id": self.rng.choice(self.customers),
                     "fare": round(4 + self.rng.random() * 36, 2), "dropoff_zone": self.rng.choice(ZONES),
                     "event_time": micros}
            activity = None
        else:
            topic = "driver_activity"
            minutes = self.sequence / 1000  # unique per event: the freshness check recognises the last one
            event = {"driver_id": driver, "trips_last_hour": self.rng.randrange(6), "is_online": self.rng.random() < .8,
                     "minutes_online_today": minutes, "event_time": micros}
            activity = (driver, minutes, micros)
        payload = json.dumps(event, separators=(",", ":")).encode()
        after_warmup = scheduled >= self.warm_end

        def delivered(err, _msg, scheduled=scheduled, after_warmup=after_warmup):
            if err is not None:
                kind.fail(f"delivery: {err}")
            else:
                kind.ok((time.monotonic() - scheduled) * 1000, after_warmup)
        try:
            self.producer.produce(topic, value=payload, key=str(driver).encode(), on_delivery=delivered)
        except (BufferError, Exception) as error:  # noqa: BLE001
            kind.fail(f"produce: {type(error).__name__}: {error}")
            return
        self.produced_bytes += len(payload)
        if activity:
            self.last_activity = (*activity, time.monotonic())

    def poll_deliveries(self) -> None:
        while not self.stop_polling.is_set():
            self.producer.poll(0.05)

    # Scheduling

    async def schedule(self, rate: float, fire) -> None:
        """Calls fire(scheduled time) at start + k / rate for every k with that time before the end."""
        if rate <= 0:
            return
        k = 0
        while True:
            t = self.start + k / rate
            if t >= self.end:
                return
            delay = t - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            now = time.monotonic()
            while t <= now and t < self.end:
                fire(t)
                k += 1
                t = self.start + k / rate

    async def report(self) -> None:
        """Prints a line at every report interval before the end (run() prints the last window once calls drain)."""
        a = self.args
        n = 1
        self.last_cpu, self.last_at = self.server.cpu_seconds(), time.monotonic()
        warm_done = False
        while True:
            at = min(self.start + n * a.report_interval, self.end)
            if not warm_done and self.warm_end <= at:
                await asyncio.sleep(max(0, self.warm_end - time.monotonic()))
                self.rss_start = self.server.rss_mib()
                warm_done = True
                print(f"{self.warm_end - self.start:6.1f}s  warm-up done: server RSS {mib(self.rss_start)} (the start)",
                      flush=True)
            if at >= self.end:
                return
            await asyncio.sleep(max(0, at - time.monotonic()))
            self.print_window(at)
            n += 1

    def print_window(self, at: float) -> None:
        cpu, now = self.server.cpu_seconds(), time.monotonic()
        cpu_text = ""
        if cpu is not None and self.last_cpu is not None and now > self.last_at:
            cpu_text = f" cpu {100 * (cpu - self.last_cpu) / (now - self.last_at):3.0f}%"
        self.last_cpu, self.last_at = cpu, now
        parts = []
        for kind in self.kinds.values():
            latencies, errors = kind.take_window()
            parts.append(f"{kind.name} {summary(latencies, errors)}")
        rss = self.server.rss_mib()
        self.rss_samples.append(rss)
        print(f"{at - self.start:6.1f}s  " + " | ".join(parts) + f" | rss {mib(rss)}{cpu_text}", flush=True)

    # Checks after the load

    async def freshness(self) -> tuple[bool, str]:
        """The last driver_activity event produced is served by a lookup (polled for up to 10 s)."""
        if self.last_activity is None:
            return True, "no driver_activity event produced"
        driver, minutes, micros, produced_at = self.last_activity
        request = serving_pb2.GetOnlineFeaturesRequest()
        request.feature_refs.refs.append("driver_activity:minutes_online_today")
        request.entities["driver_id"].int64_values.values.append(driver)
        deadline = time.monotonic() + self.args.freshness_timeout
        seen = None
        while True:
            try:
                response = await self.stub.GetOnlineFeatures(request, timeout=self.args.timeout)
                column = response.features[0]
                seen = (column.values[0].double_value, column.event_timestamps_micros[0])
                if seen == (minutes, micros):
                    waited = (time.monotonic() - produced_at) * 1000
                    return True, (f"the last driver_activity event (driver {driver}, minutes_online_today {minutes}) "
                                  f"served {waited:.0f} ms after it was produced")
            except grpc.RpcError as error:
                seen = f"{error.code().name}: {error.details()}"
            if time.monotonic() > deadline:
                return False, (f"the last driver_activity event (driver {driver}, minutes_online_today {minutes}, "
                               f"event time {micros}) is not served after {self.args.freshness_timeout:.0f} s; "
                               f"the lookup says {seen}")
            await asyncio.sleep(0.05)

    async def server_metrics(self) -> dict:
        """Sums of the server's stream and error counters from /metrics, by metric and labels."""
        try:
            status, data = await self.http.request("GET", "/metrics", timeout=self.args.timeout)
        except Exception as error:  # noqa: BLE001
            return {"error": f"{type(error).__name__}: {error}"}
        if status != 200:
            return {"error": f"HTTP {status}"}
        wanted = ("featurestore_stream_messages_total", "featurestore_stream_bad_messages_total",
                  "featurestore_stream_late_events_total", "featurestore_stream_before_cut_events_total",
                  "featurestore_stream_rows_written_total", "featurestore_request_errors_total")
        out: dict = {}
        for line in data.decode().splitlines():
            if line.startswith("#"):
                continue
            name = line.split("{", 1)[0].split(" ", 1)[0]
            if name in wanted:
                labels = line[len(name):].rsplit(" ", 1)[0]
                out.setdefault(name, {})[labels or "{}"] = float(line.rsplit(" ", 1)[1])
        return out

    # The run

    async def run(self) -> int:
        a = self.args
        host, port = a.http.rsplit(":", 1)
        self.http = HTTPPool(host, int(port), a.http_connections)
        self.producer = Producer({"bootstrap.servers": a.kafka, "linger.ms": 5, "client.id": "soak"})
        self.stop_polling = threading.Event()
        poller = threading.Thread(target=self.poll_deliveries, name="kafka-deliveries", daemon=True)
        poller.start()
        self.rss_samples: list = []
        self.rss_start = None
        warmup = a.warmup if a.warmup is not None else min(30.0, a.duration / 4)
        print(f"soak: {a.duration:.0f} s (warm-up {warmup:.1f} s) against gRPC {a.grpc}, HTTP {a.http}, Kafka {a.kafka}, "
              f"server pid {a.server_pid or 'n/a'}; lookups {a.lookup_rate:g}/s ({a.service_share:.0%} driver_ranking_v1 "
              f"x{a.candidates}, else driver_stats x1), pushes {a.push_rate:g}/s (driver_stats), events {a.produce_rate:g}/s "
              f"({a.trips_share:.0%} trips, else driver_activity); {a.drivers} drivers, {a.customers} customers", flush=True)
        print(f"{'':8s}per kind over each {a.report_interval:g} s window: calls, errors, latency p50/p99/max in ms "
              f"from the scheduled time", flush=True)
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        async with grpc.aio.insecure_channel(a.grpc) as channel:
            self.stub = serving_pb2_grpc.FeatureServingStub(channel)
            await channel.channel_ready()
            self.start = time.monotonic() + 0.2
            self.end = self.start + a.duration
            self.warm_end = self.start + warmup
            reporter = asyncio.create_task(self.report())
            await asyncio.gather(
                self.schedule(a.lookup_rate, lambda t: self.spawn(self.kinds["lookup"], self.lookup, t)),
                self.schedule(a.push_rate, lambda t: self.spawn(self.kinds["push"], self.push, t)),
                self.schedule(a.produce_rate, self.produce),
            )
            # Calls still in flight finish (or time out) and land in the last window.
            if self.tasks:
                await asyncio.wait(list(self.tasks), timeout=a.timeout + 1)
            left = await asyncio.get_running_loop().run_in_executor(None, self.producer.flush, 10)
            if left:
                for _ in range(left):
                    self.kinds["produce"].fail("not delivered 10 s after the end")
            await reporter
            self.print_window(self.end)  # the last window, with the calls that finished after the end
            rss_end = self.server.rss_mib()
            fresh, fresh_text = await self.freshness()
            await asyncio.sleep(1)  # the ingester's counters catch up with the last events
            metrics = await self.server_metrics()
        self.stop_polling.set()
        poller.join()
        self.http.close()
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        return self.finish(warmup, rss_end, fresh, fresh_text, metrics,
                           (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime))

    def finish(self, warmup, rss_end, fresh, fresh_text, metrics, own_cpu) -> int:
        a = self.args
        failures = []
        print(f"totals over {a.duration:.0f} s (latency after the {warmup:.1f} s warm-up, ms from the scheduled time):")
        for kind in self.kinds.values():
            s = sorted(kind.measured)
            extra = ""
            if kind.name == "lookup" and kind.values:
                extra = f"; values NOT_FOUND/OUTSIDE_MAX_AGE {kind.absent} of {kind.values}"
            if kind.name == "produce":
                extra = f"; {self.produced_bytes / 2**20:.1f} MiB of JSON"
            rate = kind.count / a.duration
            print(f"  {kind.name:8s} {kind.count} calls ({rate:.1f}/s), errors {kind.errors}; p50 {percentile(s, .5):.2f} "
                  f"p99 {percentile(s, .99):.2f} p99.9 {percentile(s, .999):.2f} max {s[-1] if s else math.nan:.2f}{extra}")
            for message, count in kind.error_samples.items():
                print(f"      {count} x {message}")
            if kind.errors:
                failures.append(f"{kind.errors} {kind.name} errors")
        if "error" in metrics:
            print(f"  server /metrics: {metrics['error']}")
            failures.append("server /metrics unreadable")
        else:
            def total(name):
                return sum(metrics.get(name, {}).values())
            by_topic = ", ".join(f"{labels} {value:.0f}" for labels, value in
                                 sorted(metrics.get("featurestore_stream_messages_total", {}).items()))
            bad = total("featurestore_stream_bad_messages_total")
            print(f"  server: stream messages {by_topic or 'none'}; rows written online "
                  f"{total('featurestore_stream_rows_written_total'):.0f}; bad messages {bad:.0f}; late events "
                  f"{total('featurestore_stream_late_events_total'):.0f}; before-cut events "
                  f"{total('featurestore_stream_before_cut_events_total'):.0f}; request errors "
                  f"{total('featurestore_request_errors_total'):.0f}")
            if bad:
                failures.append(f"{bad:.0f} bad stream messages on the server")
        print(f"  freshness: {'ok' if fresh else 'FAILED'}: {fresh_text}")
        if not fresh:
            failures.append("freshness")
        peak = max((r for r in self.rss_samples if r is not None), default=None)
        if self.rss_start and rss_end:
            ratio = rss_end / self.rss_start
            print(f"  server RSS: start {mib(self.rss_start)} (after the warm-up), end {mib(rss_end)}, "
                  f"end/start {ratio:.3f} (limit {1 + a.max_rss_growth:.2f}); highest sample {mib(peak)}")
            if ratio > 1 + a.max_rss_growth:
                failures.append(f"RSS grew {100 * (ratio - 1):.1f}% (over {100 * a.max_rss_growth:.0f}%)")
        else:
            print("  server RSS: not measured (no --server-pid, or the process is gone)")
            if a.server_pid:
                failures.append("server RSS unreadable")
        print(f"  load generator CPU: {own_cpu:.1f} s ({100 * own_cpu / a.duration:.0f}% of one core)")
        if failures:
            print("soak: FAILED: " + "; ".join(failures))
            return 1
        print("soak: ok")
        return 0


def serve_mock_broker(topics: list[str]) -> None:
    """librdkafka's mock cluster in this process (it lives as long as the producer that made it): the topics are
    created (the mock's default of 4 partitions) by a metadata request, the bootstrap address printed, and the
    cluster kept until SIGTERM or SIGINT. For a soak whose broker is outside the server's process."""
    import logging
    import re
    import signal

    found: list = []

    class Notice(logging.Handler):
        def emit(self, record):
            m = re.search(r"replaced with (\S+)", record.getMessage())
            if m:
                found.append(m.group(1))
    logger = logging.getLogger("mock-broker")
    logger.addHandler(Notice())
    logger.setLevel(logging.DEBUG)
    holder = Producer({"test.mock.num.brokers": 1, "bootstrap.servers": "unused:1", "logger": logger})
    deadline = time.monotonic() + 10
    while not found and time.monotonic() < deadline:
        holder.poll(0.1)
    if not found:
        sys.exit("mock broker: librdkafka did not report the mock cluster's address")
    address = found[0]
    client = Producer({"bootstrap.servers": address})
    for topic in topics:
        client.list_topics(topic=topic, timeout=10)  # the mock creates a topic a producer asks about
    print(address, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        holder.poll(0.5)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--grpc", default="127.0.0.1:6570", help="FeatureServer's gRPC address")
    p.add_argument("--http", default="127.0.0.1:6566", help="FeatureServer's HTTP address")
    p.add_argument("--kafka", help="bootstrap servers of the stream sources' topics (required for a soak)")
    p.add_argument("--server-pid", type=int, help="FeatureServer's pid (RSS and CPU from /proc)")
    p.add_argument("--duration", type=float, default=600, help="seconds of load")
    p.add_argument("--warmup", type=float, help="seconds before the start RSS is taken (default min(30, duration/4))")
    p.add_argument("--report-interval", type=float, default=30, help="seconds per report line")
    p.add_argument("--lookup-rate", type=float, default=200, help="gRPC lookups per second")
    p.add_argument("--push-rate", type=float, default=50, help="HTTP pushes per second")
    p.add_argument("--produce-rate", type=float, default=200, help="Kafka events per second")
    p.add_argument("--service-share", type=float, default=0.5, help="share of lookups of driver_ranking_v1")
    p.add_argument("--candidates", type=int, default=5, help="drivers per driver_ranking_v1 lookup")
    p.add_argument("--trips-share", type=float, default=0.25, help="share of events to trips (else driver_activity)")
    p.add_argument("--drivers", type=int, default=50, help="driver ids 1001.. (small sample data: 50, large: 10000)")
    p.add_argument("--customers", type=int, default=200, help="customer ids 5001.. (small: 200, large: 100000)")
    p.add_argument("--timeout", type=float, default=5, help="seconds per call")
    p.add_argument("--max-in-flight", type=int, default=2000, help="per kind; beyond it a due call is an error")
    p.add_argument("--http-connections", type=int, default=8, help="keep-alive connections for pushes")
    p.add_argument("--max-rss-growth", type=float, default=0.10, help="largest allowed end/start - 1")
    p.add_argument("--freshness-timeout", type=float, default=10, help="seconds to wait for the last event")
    p.add_argument("--seed", type=int, default=26)
    p.add_argument("--mock-broker", nargs="+", metavar="TOPIC",
                   help="no soak: run librdkafka's mock cluster in this process with these topics, print its address "
                        "and keep it until SIGTERM (a broker outside the server; see bench/soak.sh SOAK_KAFKA=separate)")
    args = p.parse_args()
    if args.mock_broker:
        serve_mock_broker(args.mock_broker)
        return
    if not args.kafka:
        p.error("--kafka is required")
    if args.candidates > args.drivers:
        p.error("--candidates is larger than --drivers")
    sys.exit(asyncio.run(Soak(args).run()))


if __name__ == "__main__":
    main()
