import Columnar
import FeatureComputation
import FeatureStoreCore
import Foundation
import Kafka
import StreamIngestion
import Testing
import TestKinds

/// Aggregated views fed by a stream: tiles updated exactly once, split from the backfill by the cut, late events
/// left to the backfill, old tiles expired. On an ``InMemoryStreamConsumer``; the Kafka and crash tests are elsewhere.
@Suite("Stream updates of aggregated views (in-memory consumer)", .serialized, .timeLimit(.minutes(3)))
struct StreamAggregationTests {
    static let view = """
          - name: trip_stats
            entities: [driver]
            source: activity_stream
            aggregations:
              - {function: count, windows: [1h, 1d]}
              - {column: trips_last_hour, type: int32, function: sum, windows: [1h]}
              - {column: speed, type: float64, function: max, windows: [1d]}
              - {column: speed, type: float64, function: approx_count_distinct, windows: [1d]}

        """

    static func repository(lateness: String = "1h") throws -> (URL, FeatureStore) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stream-agg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "project: streaming\nkafka: {bootstrap_servers: 'unused:1', offline_roll_interval: 0, allowed_lateness: \(lateness)}\n"
            .write(to: dir.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
        try (StreamFixture.definitions + view).write(to: dir.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
        return (dir, try FeatureStore(repository: dir, kinds: testKinds))
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }
    static let minute: Int64 = 60_000_000

    static func message(_ driver: Int64, trips: Int, speed: Double, at micros: Int64) -> [UInt8] {
        Array(#"{"driver_id": \#(driver), "trips": \#(trips), "is_online": true, "speed": \#(speed), "ts": \#(micros)}"#.utf8)
    }

    /// count_1h, trips_last_hour_sum_1h and speed_max_1d of each driver, online at `at`.
    static func online(_ store: FeatureStore, drivers: [Int64], at: Int64 = now) async throws -> [[OnlineValue]] {
        let got = try await store.getOnlineFeatures(
            entities: ["driver_id": drivers.map { .int($0) }],
            features: .references(["count_1h", "trips_last_hour_sum_1h", "speed_max_1d"].map { FeatureReference(view: "trip_stats", feature: $0) }),
            now: Date(timeIntervalSince1970: Double(at) / 1e6))
        return drivers.indices.map { i in got.columns.map { $0.values[i] } }
    }

    static func drain(_ ingestor: StreamIngestor) async {
        while await ingestor.runOnce().messages > 0 {}
    }

    @Test("stream events update the tiles once: a consumer that starts over (a redelivery) adds only the events not yet in the tiles")
    func redeliveryCountsNothingTwice() async throws {
        let (dir, store) = try Self.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let start = Self.now - 50 * Self.minute
        var messages: [(Int32, [UInt8])] = []
        for i in 0..<40 {
            let at = start + Int64(i) * 1_000_000
            messages.append((Int32(i % 2), Self.message(Int64(i % 4), trips: i, speed: Double(i) / 4, at: at)))
        }
        let consumer = InMemoryStreamConsumer(topics: [StreamFixture.topic], partitions: 2)
        for (p, m) in messages { consumer.append(topic: StreamFixture.topic, partition: p, value: m) }
        await Self.drain(try StreamIngestor(store: store, consumer: consumer, batchSize: 7))
        func expected(extra: Int = 0) -> [[OnlineValue]] {
            (0..<4).map { d in
                let mine = (0..<40).filter { $0 % 4 == d }
                return [.int(Int64(mine.count + (d == 0 ? extra : 0))), .int(Int64(mine.reduce(0, +) + (d == 0 ? extra * 100 : 0))),
                         .double(Double(mine.max()!) / 4)]
            }
        }
        let first = try await Self.online(store, drivers: [0, 1, 2, 3])
        #expect(first == expected(), "\(first)")

        // The same partitions consumed again from the start, plus one new event: the last batch holds both events
        // already in the tiles and the new one, and only the new one counts.
        let again = InMemoryStreamConsumer(topics: [StreamFixture.topic], partitions: 2)
        for (p, m) in messages { again.append(topic: StreamFixture.topic, partition: p, value: m) }
        again.append(topic: StreamFixture.topic, partition: 1, value: Self.message(0, trips: 100, speed: 0, at: Self.now - Self.minute))
        let second = try StreamIngestor(store: store, consumer: again, batchSize: 7)
        await Self.drain(second)
        #expect(try await Self.online(store, drivers: [0, 1, 2, 3]) == expected(extra: 1), "nothing counted twice, the new event once")
        #expect(second.statistics.snapshot.redelivered == 40)
    }

    @Test("events older than the allowed lateness are counted as late and left out of the tiles; the next backfill counts them")
    func lateEventsGoToTheNextBackfill() async throws {
        let (dir, store) = try Self.repository(lateness: "10m")
        defer { try? FileManager.default.removeItem(at: dir) }
        let consumer = InMemoryStreamConsumer(topics: [StreamFixture.topic], partitions: 1)
        let now = Self.now
        consumer.append(topic: StreamFixture.topic, value: Self.message(1, trips: 1, speed: 1, at: now - 5 * Self.minute))
        // Late by far more than the lateness: whatever the hour, the backfill's cut for 1h tiles passes it.
        consumer.append(topic: StreamFixture.topic, value: Self.message(1, trips: 2, speed: 9, at: now - 2 * 60 * Self.minute))
        let ingestor = try StreamIngestor(store: store, consumer: consumer)
        await Self.drain(ingestor)
        #expect(ingestor.statistics.snapshot.lateEvents == ["trip_stats": 1])
        #expect(try await Self.online(store, drivers: [1]) == [[.int(1), .int(1), .double(1)]], "only the event on time")
        // It is in the offline copy: a backfill moving the cut past it (to a boundary before now - 10m - roll - 1m)
        // counts it, and the stream's part of those tiles is handed to the backfill.
        _ = try await store.materialize(start: now - 2 * 24 * 60 * Self.minute, end: Self.now, views: ["trip_stats"])
        // The cut follows the clock when materialize runs, seconds after `now` on a busy machine: bound it by the clock after.
        let materialized = Self.now
        let cuts = try await store.fullOnlineStore().tileCuts(of: OnlineTable(view: store.registry.featureView(named: "trip_stats")!, joinKeys: [JoinKey(name: "driver_id", type: .int64)]))
        #expect(cuts.values.allSatisfy { $0 <= materialized - 11 * Self.minute }, "the cuts moved no later than the clock - lateness - roll - 1m: \(cuts)")
        #expect(cuts.values.allSatisfy { $0 > now - 2 * 60 * Self.minute }, "the cuts passed the late event: \(cuts)")
        let online = try await Self.online(store, drivers: [1])
        // The late event is 2 hours old: out of count_1h and the 1h sum, in the daily max.
        #expect(online == [[.int(1), .int(1), .double(9)]])
        let report = try await store.verify(views: ["trip_stats"], at: Self.now)
        #expect(report[0].mismatches.isEmpty, "online = offline after the backfill: \(report[0].mismatches)")
    }

    @Test("backfill before the cut, stream from it: each event counted once, and online equals the training join")
    func backfillThenStreamCountOnce() async throws {
        let (dir, store) = try Self.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let consumer = InMemoryStreamConsumer(topics: [StreamFixture.topic], partitions: 3)
        let now = Self.now
        // History first: events through the stream before anything aggregates (their offline copy is written).
        var rng = SystemRandomNumberGenerator()
        var sent: [(driver: Int64, at: Int64)] = []
        func send(_ count: Int, from: Int64, to: Int64) {
            for _ in 0..<count {
                let d = Int64.random(in: 0..<20, using: &rng), at = Int64.random(in: from..<to, using: &rng)
                consumer.append(topic: StreamFixture.topic, partition: Int32(d % 3), value: Self.message(d, trips: Int(d), speed: Double(at % 1000) / 7, at: at))
                sent.append((d, at))
            }
        }
        send(300, from: now - 20 * 60 * Self.minute, to: now - 40 * Self.minute)
        let plain = try StreamIngestor(store: store, views: ["activity"], consumer: consumer)
        await Self.drain(plain)
        // Backfill up to a cut, then stream events from it (some between the cut and now, within the lateness).
        let cut = now - 35 * Self.minute
        _ = try await store.materialize(start: now - 3 * 24 * 60 * Self.minute, end: cut, views: ["trip_stats"])
        send(200, from: cut, to: now)
        let ingestor = try StreamIngestor(store: store, views: ["trip_stats"], consumer: consumer)
        await Self.drain(ingestor)
        let at = Self.now
        // The 1h window hops by 5 minutes: it starts at the 5-minute boundary at or before at - 1h.
        let hop: Int64 = 5 * Self.minute
        let from = (at - 60 * Self.minute) / hop * hop
        var counts: [OnlineValue] = []
        for d in Int64(0)..<20 { counts.append(.int(Int64(sent.filter { $0.driver == d && $0.at >= from && $0.at < at }.count))) }
        let online = try await Self.online(store, drivers: (0..<20).map { Int64($0) }, at: at)
        #expect(online.map { $0[0] } == counts, "count_1h: every event once")
        let report = try await store.verify(views: ["trip_stats"], sample: 20, at: at)
        #expect(report[0].entities == 20 && report[0].mismatches.isEmpty, "online = offline: \(report[0].mismatches.prefix(3))")
    }

    @Test("a backfill that moves the cut takes over the tiles the stream held (whatever materialize-incremental's watermark): every event counted once")
    func movedCutTakesOverStreamTiles() async throws {
        let (dir, first) = try Self.repository(lateness: "4h")
        defer { try? FileManager.default.removeItem(at: dir) }
        let now = Self.now, view = first.registry.featureView(named: "trip_stats")!
        // An older event of another driver in the offline copy, so the source has data.
        let consumer = InMemoryStreamConsumer(topics: [StreamFixture.topic], partitions: 1)
        consumer.append(topic: StreamFixture.topic, value: Self.message(2, trips: 1, speed: 1, at: now - 600 * Self.minute))
        await Self.drain(try StreamIngestor(store: first, views: ["activity"], consumer: consumer))
        // A: the first backfill sets the cut 3 hours ago (and the watermark).
        _ = try await first.materializeIncremental(end: now - 180 * Self.minute, views: ["trip_stats"])
        // The stream merges 20 events after the cut (on time: the lateness is 4h); their offline copy is written too.
        for i in 0..<20 {
            consumer.append(topic: StreamFixture.topic, value: Self.message(1, trips: i, speed: Double(i), at: now - 170 * Self.minute + Int64(i) * Self.minute))
        }
        let ingestor = try StreamIngestor(store: first, consumer: consumer)
        await Self.drain(ingestor)
        #expect(ingestor.statistics.snapshot.rowsWritten["trip_stats"] == 20, "merged by the stream")
        // B: a backfill with the same lateness cannot move the cut yet; the watermark moves past the stream's events.
        _ = try await first.materializeIncremental(end: now - 140 * Self.minute, views: ["trip_stats"])
        // C: with a 10-minute lateness the cut moves to about now - 11m: the backfill takes the stream's tiles over.
        try "project: streaming\nkafka: {bootstrap_servers: 'unused:1', offline_roll_interval: 0, allowed_lateness: 10m}\n"
            .write(to: dir.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
        let later = try FeatureStore(repository: dir, kinds: testKinds)
        _ = try await later.materializeIncremental(end: Self.now, views: ["trip_stats"])
        func tiles() async throws -> [OnlineTile] {
            try await later.fullOnlineStore().readTiles([[.int(1)]], of: OnlineTable(view: view, joinKeys: [JoinKey(name: "driver_id", type: .int64)]),
                                                    from: [5 * Self.minute: 0, 60 * Self.minute: 0])[0]
        }
        // The stream's parts stay one run (a lookup may be reading them), hidden by the whole backfill parts.
        #expect(try await tiles().contains { $0.origin == .stream }, "the stream's parts are kept until the next run")
        let got = try await later.getOnlineFeatures(entities: ["driver_id": [.int(1)]],
                                                    features: .references([FeatureReference(view: "trip_stats", feature: "count_1d")]))
        #expect(got.columns[0].values == [.int(20)], "each event once, from the backfill now")
        _ = try await later.materializeIncremental(end: Self.now, views: ["trip_stats"])
        #expect(try await tiles().allSatisfy { $0.origin == .backfill }, "the next run deletes the stream's parts before the cut")
        let report = try await later.verify(views: ["trip_stats"], at: Self.now)
        #expect(report[0].mismatches.isEmpty, "\(report[0].mismatches)")
    }

    @Test("tiles no lookup from now - allowed lateness on can need are deleted by the ingester, and not written by materialize")
    func oldTilesExpire() async throws {
        let (dir, store) = try Self.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let consumer = InMemoryStreamConsumer(topics: [StreamFixture.topic], partitions: 1)
        let now = Self.now, day = 24 * 60 * Self.minute
        let view = store.registry.featureView(named: "trip_stats")!, keys = [JoinKey(name: "driver_id", type: .int64)]
        let hops: [Int64: Int64] = [5 * Self.minute: 0, 60 * Self.minute: 0]
        // Events 3 and 2 days old: a backfill has nothing to keep of them (the longest window is 1d, the lateness 1h).
        for days in [3, 2] { consumer.append(topic: StreamFixture.topic, value: Self.message(1, trips: 1, speed: 1, at: now - Int64(days) * day)) }
        await Self.drain(try StreamIngestor(store: store, views: ["activity"], consumer: consumer))
        _ = try await store.materialize(start: now - 5 * day, end: now, views: ["trip_stats"])
        #expect(try await store.fullOnlineStore().readTiles([[.int(1)]], of: OnlineTable(view: view, joinKeys: keys), from: hops)[0].isEmpty, "not written")
        // Old tiles left by an earlier run: the ingester deletes them.
        var old: [OnlineTile] = []
        for days in [3, 2] {
            for hop in hops.keys {
                let empty = TileStates.features(of: view, hop: hop).map { AggregateState($0.aggregation!.function, n: $0.aggregation!.n ?? 1) }
                old.append(OnlineTile(key: [.int(1)], hop: hop, start: (now - Int64(days) * day) / hop * hop, states: TileStates.encode(empty)))
            }
        }
        try await store.fullOnlineStore().writeTiles(old, to: OnlineTable(view: view, joinKeys: keys))
        consumer.append(topic: StreamFixture.topic, value: Self.message(1, trips: 1, speed: 1, at: Self.now))
        let ingestor = try StreamIngestor(store: store, consumer: consumer)
        await Self.drain(ingestor)
        #expect(ingestor.statistics.snapshot.expiredTiles == 4)
        let left = try await store.fullOnlineStore().readTiles([[.int(1)]], of: OnlineTable(view: view, joinKeys: keys), from: hops)[0]
        #expect(left.map(\.origin) == [.stream, .stream], "only the new event's tiles (one per hop)")
    }
}

@Suite("Aggregated views fed through Kafka (librdkafka mock cluster)", .serialized, .timeLimit(.minutes(5)))
struct KafkaAggregationTests {
    static let view = """
          - name: trip_stats
            entities: [driver]
            source: activity_stream
            aggregations:
              - {function: count, windows: [10m, 1h, 3h]}
              - {column: trips_last_hour, type: int32, function: sum, windows: [1h]}
              - {column: speed, type: float64, function: mean, windows: [1h]}
              - {column: speed, type: float64, function: stddev, windows: [1h]}
              - {column: speed, type: float64, function: min, windows: [10m]}
              - {column: speed, type: float64, function: max, windows: [1h, 2h]}
              - {column: trips_last_hour, type: int32, function: first, windows: [1h]}
              - {column: is_online, type: bool, function: last, windows: [1h]}
              - {column: trips_last_hour, type: int32, function: last_distinct_n, n: 3, windows: [1h]}
              - {column: speed, type: float64, function: approx_count_distinct, windows: [1h]}

        """

    @Test("a random stream through Kafka: online values (approx_count_distinct's too, and windows sharing a tile state) equal the training join's exactly, for every driver, at now and at hop boundaries")
    func onlineEqualsOfflineAfterAStream() async throws {
        let f = try StreamFixture(definitions: StreamFixture.definitions + Self.view)
        var rng = SeededGenerator(seed: 15)
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        // Times on a 10 s grid over the last 50 minutes (ties between a driver's events), nulls, negative values.
        var events: [String] = []
        var firstEvent: [Int64: Int64] = [:]
        for _ in 0..<2_000 {
            let d = Int64.random(in: 0..<50, using: &rng)
            let at = now - 50 * 60_000_000 + Int64.random(in: 0..<300, using: &rng) * 10_000_000
            firstEvent[d] = min(firstEvent[d] ?? .max, at)
            let speed = Int.random(in: 0..<10, using: &rng) == 0 ? "null" : "\(Double.random(in: -5...80, using: &rng))"
            let trips = Int.random(in: -3...40, using: &rng)
            events.append(#"{"driver_id": \#(d), "trips": \#(trips), "is_online": \#(Bool.random(using: &rng)), "speed": \#(speed), "ts": \#(at)}"#)
        }
        try f.send(events, key: { String($0.dropFirst(14).prefix { $0 != "," }) })
        let ingestor = try StreamIngestor(store: f.store, batchSize: 250)
        try await f.ingest(ingestor, until: events.count, timeout: .seconds(90))  // a rebalance under a loaded machine can pause a partition for seconds
        await ingestor.close()
        #expect(ingestor.statistics.snapshot.rowsWritten["trip_stats"] == events.count, "every event on time, merged once")
        let fiveMinutes: Int64 = 300_000_000
        let boundary = Int64(Date().timeIntervalSince1970 * 1_000_000) / fiveMinutes * fiveMinutes
        for at in [Int64(Date().timeIntervalSince1970 * 1_000_000), boundary, boundary - 2 * fiveMinutes, boundary - 5 * fiveMinutes] {
            let report = try await f.store.verify(views: ["trip_stats"], sample: 50, at: at)
            // verify compares the drivers with an event before `at` (all 50 at the present).
            let expected = min(50, firstEvent.values.filter { $0 < at }.count)
            #expect(expected > 0 && report[0].entities == expected, "drivers with an event before \(at) compared: \(report[0].entities) of \(expected)")
            #expect(report[0].mismatches.isEmpty, "at \(at): \(report[0].mismatches.prefix(3))")
        }
    }
}

/// A small deterministic generator (SplitMix64), so a failing stream can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension StreamAggregationTests {

    @Test("events stamped after the ingester's clock are kept whole: a lookup in their tile before their time does not count them, one after does (issue 24, case 7)")
    func futureEventsCountFromTheirTime() async throws {
        let (dir, store) = try Self.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A producer whose clock runs ahead: two events an hour or more ahead of now in one 5-minute tile (the 1h
        // window's hop), a lookup between them, and a past event.
        let hour = 60 * Self.minute
        let tile = (Self.now + 2 * hour) / hour * hour + 20 * Self.minute
        let consumer = InMemoryStreamConsumer(topics: [StreamFixture.topic], partitions: 1)
        for (i, at) in [Self.now - 10 * Self.minute, tile + Self.minute, tile + 3 * Self.minute].enumerated() {
            consumer.append(topic: StreamFixture.topic, value: Self.message(5, trips: i + 1, speed: Double(i), at: at))
        }
        await Self.drain(try StreamIngestor(store: store, consumer: consumer))
        for (at, count, trips) in [(tile + 2 * Self.minute, 1, 2), (tile + 3 * Self.minute, 1, 2), (tile + 3 * Self.minute + 1, 2, 5)] {
            let online = try await Self.online(store, drivers: [5], at: at)
            #expect(online[0][0] == .int(Int64(count)) && online[0][1] == .int(Int64(trips)), "at tile + \((at - tile) / Self.minute) min: \(online[0])")
        }
    }
}
