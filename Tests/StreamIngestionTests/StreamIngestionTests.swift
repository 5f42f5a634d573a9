import Columnar
import FeatureStoreCore
import Foundation
import Kafka
import Parquet
import StreamIngestion
import Testing
import TestKinds

/// A repository with one stream view (`activity`, fed by topic `driver_events`) on librdkafka's mock cluster.
final class StreamFixture: @unchecked Sendable {
    let dir: URL
    let cluster: KafkaMockCluster
    let store: FeatureStore
    let producer: KafkaProducer
    static let topic = "driver_events"
    static let deadLetters = "driver_events_dead"

    // librdkafka 2.0.2's mock ignores LeaveGroup: a member that closed is dropped only after its session timeout,
    // so the tests use 6 s instead of Kafka's default 45 s before a restarted consumer gets partitions.
    static let definitions = """
        entities:
          - {name: driver, join_keys: [{name: driver_id, type: int64}]}
        sources:
          - {name: activity_batch, kind: parquet, path: data/activity, timestamp_field: ts}
          - name: activity_stream
            kind: kafka
            topic: driver_events
            format: json
            batch_source: activity_batch
            timestamp_field: ts
            field_mapping: {trips: trips_last_hour}
        feature_views:
          - name: activity
            entities: [driver]
            source: activity_stream
            ttl: 0
            features:
              - {name: trips_last_hour, type: int32}
              - {name: is_online, type: bool}
              - {name: speed, type: float64}

        """

    init(partitions: Int = 3, deadLetterTopic: Bool = true, offlineRollInterval: String = "0", definitions: String = StreamFixture.definitions) throws {
        cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic(Self.topic, partitions: partitions)
        try cluster.createTopic(Self.deadLetters, partitions: 1)
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let kafka = "kafka: {offline_roll_interval: \(offlineRollInterval), properties: {session.timeout.ms: '6000', heartbeat.interval.ms: '500'}, bootstrap_servers: \"\(cluster.bootstrapServers)\"\(deadLetterTopic ? ", dead_letter_topic: \(Self.deadLetters)" : "")}\n"
        try ("project: streaming\n" + kafka).write(to: dir.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
        try definitions.write(to: dir.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
        store = try FeatureStore(repository: dir, kinds: testKinds)
        producer = try KafkaProducer(properties: ["bootstrap.servers": cluster.bootstrapServers])
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// Produces JSON events (keyed by driver, so a driver's events share a partition) and waits for delivery.
    func send(_ events: [String], key: (String) -> String? = { _ in nil }) throws {
        for event in events {
            try producer.produce(topic: Self.topic, key: key(event).map { Array($0.utf8) }, value: Array(event.utf8))
        }
        try producer.flush()
    }

    /// Runs `ingestor` until it has consumed `count` messages in all (the first batches wait for the group join, which
    /// takes seconds on the mock cluster and longer while the whole suite loads both cores).
    func ingest(_ ingestor: StreamIngestor, until count: Int, timeout: Duration = .seconds(90)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ingestor.statistics.snapshot.messages < count {
            guard ContinuousClock.now < deadline else {
                throw IngestionError("consumed \(ingestor.statistics.snapshot.messages) of \(count) messages in \(timeout)")
            }
            await ingestor.runOnce()
        }
    }

    /// Reads `count` messages of the dead-letter topic as a new consumer group (a 6 s session like the ingester's, so
    /// a join retried on a loaded machine waits 6 s for its abandoned member, not 45 s), giving up after `timeout`.
    func deadLetters(count: Int, group: String, timeout: Duration = .seconds(90)) throws -> [KafkaMessage] {
        let reader = try KafkaConsumer(properties: ["bootstrap.servers": cluster.bootstrapServers, "group.id": group,
                                                    "session.timeout.ms": "6000", "heartbeat.interval.ms": "500"])
        try reader.subscribe([Self.deadLetters])
        var dead: [KafkaMessage] = []
        let deadline = ContinuousClock.now + timeout
        while dead.count < count && ContinuousClock.now < deadline { dead += reader.poll(max: 100, timeout: .milliseconds(200)).messages }
        return dead
    }

    func lookup(_ ids: [Int64]) async throws -> OnlineFeatures {
        try await store.getOnlineFeatures(entities: ["driver_id": ids.map { .int($0) }], features: .references([FeatureReference(view: "activity")]))
    }
}

func event(_ driver: Int64, trips: Int, ts: String, online: Bool = true, speed: Double = 1.5) -> String {
    #"{"driver_id": \#(driver), "trips": \#(trips), "is_online": \#(online), "speed": \#(speed), "ts": "\#(ts)"}"#
}

@Suite("Stream ingestion from Kafka (librdkafka mock cluster)", .serialized, .timeLimit(.minutes(10)))
struct StreamIngestionTests {
    @Test("events reach online lookups, mapped through the source's field mapping, latest per driver")
    func eventsReachLookups() async throws {
        let f = try StreamFixture()
        var events: [String] = []
        for i in 0..<300 {
            let driver = Int64(1000 + i % 30)
            events.append(event(driver, trips: i, ts: "2025-01-01T00:\(String(format: "%02d", i / 30)):00Z", speed: Double(i) / 4))
        }
        // Keyed by driver: a driver's events share a partition, so they arrive in time order.
        try f.send(events, key: { String($0.dropFirst(14).prefix(4)) })
        let ingestor = try StreamIngestor(store: f.store)
        try await f.ingest(ingestor, until: 300)
        let online = try await f.lookup([1000, 1029, 5])
        #expect(online.columns.map(\.name) == ["trips_last_hour", "is_online", "speed"])
        #expect(online.columns[0].values == [.int(270), .int(299), .null])
        #expect(online.columns[2].values == [.double(67.5), .double(74.75), .null])
        #expect(online.columns[0].statuses == [.present, .present, .notFound])
        #expect(online.columns[0].eventTimestamps[0] == isoMicros("2025-01-01T00:09:00Z"))
        #expect(ingestor.statistics.snapshot.rowsReceived["activity"] == 300)
        #expect(ingestor.statistics.snapshot.rowsWritten["activity"] == 300, "each event was newer than the stored row when written")
        #expect(ingestor.statistics.snapshot.committed.values.reduce(0, +) == 300, "offsets committed after the write")
    }

    @Test("rows written count exactly the events newer than the stored row: late and replayed events are not written")
    func rowsWrittenCountsNewerEvents() async throws {
        let f = try StreamFixture(partitions: 1)
        // In order on one partition: 10:00 (written), 09:00 (late), 11:00 (written), 10:30 (late), the 11:00 event
        // again (a replay: the same row, not newer), 12:00 (written); driver 8: one event (written).
        try f.send([("10:00", 0), ("09:00", 1), ("11:00", 2), ("10:30", 3), ("11:00", 2), ("12:00", 5)].map { t, trips in event(7, trips: trips, ts: "2025-01-01T\(t):00Z") }
                   + [event(8, trips: 1, ts: "2025-01-01T00:00:00Z")])
        let ingestor = try StreamIngestor(store: f.store)
        try await f.ingest(ingestor, until: 7)
        #expect(ingestor.statistics.snapshot.rowsReceived["activity"] == 7)
        #expect(ingestor.statistics.snapshot.rowsWritten["activity"] == 4)
        #expect(try await f.lookup([7]).columns[0].values == [.int(5)])
    }

    @Test("a late event never overwrites a newer value")
    func lateEvent() async throws {
        let f = try StreamFixture(partitions: 1)
        try f.send([event(7, trips: 9, ts: "2025-01-01T10:00:00Z"), event(7, trips: 1, ts: "2025-01-01T09:00:00Z")])
        let ingestor = try StreamIngestor(store: f.store)
        try await f.ingest(ingestor, until: 2)
        try f.send([event(7, trips: 2, ts: "2025-01-01T09:30:00Z")])
        try await f.ingest(ingestor, until: 3)
        #expect(try await f.lookup([7]).columns[0].values == [.int(9)])
        #expect(ingestor.statistics.snapshot.rowsWritten["activity"] == 1)
    }

    @Test("bad messages are counted by reason and dead-lettered with the reason, and the good ones around them are written")
    func badMessages() async throws {
        let f = try StreamFixture(partitions: 1)
        try f.send([
            event(1, trips: 1, ts: "2025-01-01T00:00:00Z"),
            "not json",
            "[1, 2]",
            #"{"trips": 3, "ts": "2025-01-01T00:00:00Z"}"#,
            #"{"driver_id": 2, "trips": 3}"#,
            #"{"driver_id": 2, "trips": 3, "ts": "yesterday"}"#,
            #"{"driver_id": 2, "trips": "three", "ts": "2025-01-01T00:00:00Z"}"#,
            event(3, trips: 3, ts: "2025-01-01T00:00:00Z"),
        ])
        let ingestor = try StreamIngestor(store: f.store)
        try await f.ingest(ingestor, until: 8)
        let stats = ingestor.statistics.snapshot
        #expect(stats.bad == [.malformed: 2, .missingKey: 1, .missingTimestamp: 1, .badTimestamp: 1, .wrongType: 1])
        #expect(stats.deadLettered == 6)
        #expect(try await f.lookup([1, 2, 3]).columns[0].values == [.int(1), .null, .int(3)])
        #expect(stats.committed[StreamPartition(StreamFixture.topic, 0)] == 8, "bad messages never block the partition")

        let dead = try f.deadLetters(count: 6, group: "dlq-reader")
        try #require(dead.count == 6, "dead letters within 90 s: \(dead.count)")
        #expect(dead.map { String(decoding: $0.value, as: UTF8.self) }[1] == "[1, 2]")
        #expect(dead.compactMap { $0.header("x-featurestore-reason") } == ["malformed", "malformed", "missing_key", "missing_timestamp", "bad_timestamp", "wrong_type"])
        #expect(dead[5].header("x-featurestore-error") == "trips: a string for type int32")
        #expect(dead[0].header("x-featurestore-source") == "driver_events/0/1")
    }

    @Test("a restarted consumer resumes from the committed offsets: nothing is read twice after a clean stop")
    func resumesFromCommittedOffsets() async throws {
        let f = try StreamFixture(partitions: 2)
        try f.send((0..<20).map { event(Int64($0), trips: $0, ts: "2025-01-01T00:00:00Z") })
        do {
            let first = try StreamIngestor(store: f.store)
            try await f.ingest(first, until: 20)
            await first.close()
        }
        try f.send((20..<25).map { event(Int64($0), trips: $0, ts: "2025-01-01T00:00:00Z") })
        let second = try StreamIngestor(store: f.store)
        try await f.ingest(second, until: 5)
        for _ in 0..<5 { await second.runOnce() }
        #expect(second.statistics.snapshot.messages == 5)
        let lag = await second.lag()
        #expect(lag.values.allSatisfy { $0 == 0 }, "\(lag)")
        #expect(try await f.lookup([0, 19, 24]).columns[0].values == [.int(0), .int(19), .int(24)])
    }

    @Test("event times are ISO-8601, epoch milliseconds or epoch microseconds")
    func eventTimeForms() async throws {
        let f = try StreamFixture(partitions: 1)
        try f.send([
            #"{"driver_id": 1, "trips": 1, "ts": "2025-01-01T00:00:00.5+01:00"}"#,
            #"{"driver_id": 2, "trips": 1, "ts": 1735689600000}"#,
            #"{"driver_id": 3, "trips": 1, "ts": 1735689600000123}"#,
        ])
        let ingestor = try StreamIngestor(store: f.store)
        try await f.ingest(ingestor, until: 3)
        #expect(try await f.lookup([1, 2, 3]).columns[0].eventTimestamps == [1_735_686_000_500_000, 1_735_689_600_000_000, 1_735_689_600_000_123])
    }

    @Test("events produced by an external client (Python confluent-kafka) are ingested")
    func externalProducer() async throws {
        let f = try StreamFixture(partitions: 3)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let python = ProcessInfo.processInfo.environment["FEATURESTORE_PYTHON"]
            ?? root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".venv/bin/python").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [root.appendingPathComponent("Interop/produce.py").path, f.cluster.bootstrapServers, StreamFixture.topic, "200"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "produce.py failed: \(stderr)")
        let ingestor = try StreamIngestor(store: f.store)
        try await f.ingest(ingestor, until: 200)
        let online = try await f.lookup([500, 699])
        #expect(online.columns[0].values == [.int(0), .int(199)])
        #expect(online.columns[1].values == [.bool(true), .bool(false)])
        #expect(ingestor.statistics.snapshot.bad.isEmpty)
    }

    @Test("ingested events land offline as day-partitioned Parquet files, and the join reads what was served")
    func offlineCopy() async throws {
        let f = try StreamFixture(partitions: 2)
        var events: [String] = []
        var newest: [Int64: (ts: String, trips: Int)] = [:]  // the oracle: each driver's newest event as sent
        for i in 0..<100 {
            let day = i < 60 ? "2025-01-01" : "2025-01-02"
            let ts = "\(day)T\(String(format: "%02d", i % 24)):00:00Z"
            events.append(event(Int64(i % 10), trips: i, ts: ts, online: i % 3 == 0, speed: Double(i) / 8))
            if ts > newest[Int64(i % 10)]?.ts ?? "" { newest[Int64(i % 10)] = (ts, i) }
        }
        try f.send(events, key: { String($0.dropFirst(14).prefix(2)) })
        let ingestor = try StreamIngestor(store: f.store)
        try await f.ingest(ingestor, until: 100)
        let root = f.dir.appendingPathComponent("data/activity")
        let folders = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
        #expect(folders == ["date=2025-01-01", "date=2025-01-02"])
        let names = try folders.flatMap { try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent($0).path) }
        #expect(names.allSatisfy { $0.hasPrefix("part-") && $0.hasSuffix(".parquet") }, "no temporary files left: \(names)")
        let dataset = try ParquetDataset(path: root.path)
        #expect(dataset.files[0].schema.fields.map(\.name) == ["driver_id", "ts", "trips_last_hour", "is_online", "speed"])
        let table = try dataset.read()
        #expect(table.rowCount == 100)
        #expect(ingestor.statistics.snapshot.offlineRows == ["activity_batch": 100])

        // Training sees what serving saw: the join at a time after the last event returns the online values.
        let drivers = (0..<10).map { Int64($0) }
        let entities = try Table([("driver_id", Column(int64: drivers)),
                                  ("event_timestamp", Column(timestamps: drivers.map { _ in isoMicros("2025-01-03T00:00:00Z")! }))])
        let joined = try await f.store.joinFeatures(entities: .table(entities), features: .references([FeatureReference(view: "activity")]))
        let online = try await f.lookup(drivers)
        let expected = drivers.map { Int64(newest[$0]!.trips) }
        #expect(online.columns[0].values == expected.map { .int($0) }, "serving has each driver's newest event as sent")
        #expect(integers(try #require(joined.column(named: "trips_last_hour"))) == expected, "training has the same")
        #expect(expected.first == 70, "driver 0's latest event is i = 70 (day 2, 22:00)")
    }

    @Test("offsets wait for the offline roll: nothing is committed before the events' file is written")
    func offsetsWaitForOfflineRoll() async throws {
        // The roll is 10 s: the checks before it hold even when a loaded machine takes seconds between batches.
        let f = try StreamFixture(partitions: 1, offlineRollInterval: "10s")
        try f.send((0..<10).map { event(Int64($0), trips: $0, ts: "2025-01-01T00:00:00Z") })
        let ingestor = try StreamIngestor(store: f.store)
        try await f.ingest(ingestor, until: 10)
        #expect(try await f.lookup([9]).columns[0].values == [.int(9)], "online at once")
        #expect(ingestor.statistics.snapshot.committed.isEmpty)
        #expect(ingestor.statistics.snapshot.offlineFiles == 0)
        #expect(await ingestor.lag().values.reduce(0, +) == 0, "lag counts what is online")
        let deadline = ContinuousClock.now + .seconds(60)
        while ingestor.statistics.snapshot.offlineFiles == 0 && ContinuousClock.now < deadline { await ingestor.runOnce() }
        #expect(ingestor.statistics.snapshot.offlineFiles == 1)
        #expect(ingestor.statistics.snapshot.committed[StreamPartition(StreamFixture.topic, 0)] == 10)
    }

    @Test("stream files follow the schema of the batch source's existing files")
    func offlineFollowsExistingSchema() async throws {
        let f = try StreamFixture(partitions: 1)
        // An existing day written elsewhere: millisecond times, float32 speed, and a column the stream does not have.
        let folder = f.dir.appendingPathComponent("data/activity/date=2024-12-31")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let existing = try Table([
            ("driver_id", Column(int64: [1])),
            ("ts", Column(timestamps: [1_735_603_200_000], unit: .milliseconds)),
            ("trips_last_hour", Column(int32: [5])),
            ("is_online", Column(bool: [true])),
            ("speed", Column(float64: [2.5])),
            ("note", Column(strings: ["backfill"])),
        ])
        try ParquetFileWriter.write(existing, to: folder.appendingPathComponent("part-0.parquet").path)
        try f.send([event(1, trips: 7, ts: "2025-01-01T00:00:00.123456Z")])
        let ingestor = try StreamIngestor(store: f.store)
        try await f.ingest(ingestor, until: 1)
        let table = try ParquetDataset(path: f.dir.appendingPathComponent("data/activity").path).read()
        #expect(table.rowCount == 2)
        #expect(table.column(named: "ts")!.type == .timestamp(.milliseconds, utc: true))
        #expect(table.column(named: "ts")!.timestampNanoseconds()!.last == 1_735_689_600_123_000_000)
        #expect(table.column(named: "note")!.nullCount == 1)
    }

    @Test("two consumers in one group split the partitions and together ingest every event once")
    func twoConsumersSplitPartitions() async throws {
        let f = try StreamFixture(partitions: 4)
        let a = try StreamIngestor(store: f.store)
        let b = try StreamIngestor(store: f.store)
        // Both join the group before any event is produced, so neither takes all partitions for itself.
        let deadline = ContinuousClock.now + .seconds(90)
        while (a.assignment.isEmpty || b.assignment.isEmpty || a.assignment.count + b.assignment.count != 4) && ContinuousClock.now < deadline {
            await a.runOnce()
            await b.runOnce()
        }
        #expect(a.assignment.count == 2 && b.assignment.count == 2, "\(a.assignment) \(b.assignment)")
        #expect(Set(a.assignment).isDisjoint(with: Set(b.assignment)))
        try f.send((0..<400).map { event(Int64($0), trips: $0, ts: "2025-01-01T00:00:00Z") }, key: { String($0.dropFirst(14).prefix(3)) })
        while a.statistics.snapshot.messages + b.statistics.snapshot.messages < 400 && ContinuousClock.now < deadline + .seconds(30) {
            await a.runOnce()
            await b.runOnce()
        }
        let (na, nb) = (a.statistics.snapshot.messages, b.statistics.snapshot.messages)
        #expect(na + nb == 400)
        #expect(na > 0 && nb > 0, "both consumed: \(na) + \(nb)")
        #expect(try await f.lookup([0, 123, 399]).columns[0].values == [.int(0), .int(123), .int(399)])
        await a.close()
        await b.close()
    }

    @Test("ingestion refuses a misspelled view with a suggestion, and a view that does not read a stream")
    func unknownOrBatchView() throws {
        let f = try StreamFixture()
        #expect(throws: IngestionError("no feature view 'activty'; did you mean 'activity'?")) { _ = try StreamIngestor(store: f.store, views: ["activty"]) }
        try (StreamFixture.definitions + """
              - {name: batch_only, entities: [driver], source: activity_batch, ttl: 0, features: [{name: speed, type: float64}]}

            """).write(to: f.dir.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
        let store = try FeatureStore(repository: f.dir, kinds: testKinds)
        #expect(throws: IngestionError("feature view 'batch_only' does not read a stream source (its source is 'activity_batch')")) {
            _ = try StreamIngestor(store: store, views: ["batch_only"])
        }
    }

    @Test("ingestion refuses to start without kafka settings, naming the section to add")
    func noKafkaSettings() throws {
        let f = try StreamFixture()
        try "project: streaming\n".write(to: f.dir.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
        let store = try FeatureStore(repository: f.dir, kinds: testKinds)
        let error = #expect(throws: IngestionError.self) { _ = try StreamIngestor(store: store) }
        #expect(error?.description == "cannot connect to kafka: feature_store.yaml has no 'kafka' section (kafka: {bootstrap_servers: host:port})")
    }

    @Test("ingestion refuses to start when no online view reads a stream: nothing to ingest")
    func noStreamViews() throws {
        let f = try StreamFixture()
        try StreamFixture.definitions.replacingOccurrences(of: "source: activity_stream", with: "source: activity_batch")
            .write(to: f.dir.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
        let store = try FeatureStore(repository: f.dir, kinds: testKinds)
        #expect(throws: IngestionError("no online feature view reads a stream source: nothing to ingest")) { _ = try StreamIngestor(store: store) }
    }
}

func isoMicros(_ text: String) -> Int64? {
    let f = ISO8601DateFormatter()
    return f.date(from: text).map { Int64($0.timeIntervalSince1970) * 1_000_000 }
}

/// The values of an integer column (nil for nulls).
func integers(_ column: Column) -> [Int64?] {
    switch column.values {
    case .int32(let v): return v.indices.map { column.isNull($0) ? nil : Int64(v[$0]) }
    case .int64(let v): return v.indices.map { column.isNull($0) ? nil : v[$0] }
    default: return []
    }
}
