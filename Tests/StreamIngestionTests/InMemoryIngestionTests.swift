import FeatureStoreCore
import Foundation
import Kafka
import StreamIngestion
import Synchronization
import Testing
import TestKinds

/// The ingestion logic without a broker: an ``InMemoryStreamConsumer`` feeds the same ``StreamIngestor``.
@Suite("Stream ingestion logic on an in-memory consumer", .serialized, .timeLimit(.minutes(2)))
struct InMemoryIngestionTests {
    /// The stream fixture's repository without its mock cluster: kafka settings that are never dialled.
    static func repository() throws -> (URL, FeatureStore) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("in-memory-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "project: streaming\nkafka: {bootstrap_servers: 'unused:1', offline_roll_interval: 0}\n"
            .write(to: dir.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
        try StreamFixture.definitions.write(to: dir.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
        return (dir, try FeatureStore(repository: dir, kinds: testKinds))
    }

    @Test("events reach lookups, a bad message is counted and skipped, and offsets are committed after the write")
    func eventsBadMessagesAndOffsets() async throws {
        let (dir, store) = try Self.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let consumer = InMemoryStreamConsumer(topics: [StreamFixture.topic], partitions: 2)
        for i in 0..<10 {
            consumer.append(topic: StreamFixture.topic, partition: Int32(i % 2), value: Array(event(Int64(i % 3), trips: i, ts: "2025-01-01T00:0\(i):00Z").utf8))
        }
        consumer.append(topic: StreamFixture.topic, partition: 1, value: Array(#"{"driver_id": "x", "ts": "2025-01-01T00:00:00Z"}"#.utf8))
        let ingestor = try StreamIngestor(store: store, consumer: consumer)
        let report = await ingestor.runOnce()
        #expect(report.messages == 11 && report.bad == 1)
        let online = try await store.getOnlineFeatures(entities: ["driver_id": [.int(0), .int(1), .int(2)]],
                                                 features: .references([FeatureReference(view: "activity", feature: "trips_last_hour")]))
        #expect(online.columns[0].values == [.int(9), .int(7), .int(8)], "each driver's newest event")
        #expect(ingestor.statistics.snapshot.bad.values.reduce(0, +) == 1)
        #expect(try consumer.committed([StreamPartition(StreamFixture.topic, 0), StreamPartition(StreamFixture.topic, 1)], timeout: .seconds(1))
                == [StreamPartition(StreamFixture.topic, 0): 5, StreamPartition(StreamFixture.topic, 1): 6], "every offset, the bad message's too")
        #expect(ingestor.statistics.snapshot.offlineRows["activity_batch"] == 10, "the good events are in the offline copy")
    }

    @Test("an aggregated view on the stream is fed with the others, and can be named alone")
    func aggregatedViewsAreFed() async throws {
        let (dir, _) = try Self.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        try (StreamFixture.definitions + "  - {name: trip_counts, entities: [driver], source: activity_stream, aggregations: [{function: count, windows: [1h]}]}\n")
            .write(to: dir.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
        let store = try FeatureStore(repository: dir, kinds: testKinds)
        let consumer = InMemoryStreamConsumer(topics: [StreamFixture.topic], partitions: 1)
        consumer.append(topic: StreamFixture.topic, partition: 0, value: Array(event(1, trips: 4, ts: "2025-01-01T00:01:00Z").utf8))
        let ingestor = try StreamIngestor(store: store, consumer: consumer)
        #expect(ingestor.topicOfView.keys.sorted() == ["activity", "trip_counts"])
        let report = await ingestor.runOnce()
        #expect(report.messages == 1 && report.bad == 0)
        let alone = try StreamIngestor(store: store, views: ["trip_counts"], consumer: InMemoryStreamConsumer(topics: [StreamFixture.topic], partitions: 1))
        #expect(alone.topicOfView == ["trip_counts": StreamFixture.topic])
    }

    @Test("a restart resumes from the committed offsets: only events after them are read again")
    func restartResumesFromCommitted() async throws {
        let (dir, store) = try Self.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let consumer = InMemoryStreamConsumer(topics: [StreamFixture.topic])
        for i in 0..<4 { consumer.append(topic: StreamFixture.topic, value: Array(event(1, trips: i, ts: "2025-01-01T00:0\(i):00Z").utf8)) }
        let first = try StreamIngestor(store: store, consumer: consumer)
        #expect(await first.runOnce().messages == 4)
        for i in 4..<6 { consumer.append(topic: StreamFixture.topic, value: Array(event(1, trips: i, ts: "2025-01-01T00:0\(i):00Z").utf8)) }
        consumer.restartFromCommitted()
        let second = try StreamIngestor(store: store, consumer: consumer)
        #expect(await second.runOnce().messages == 2, "the four committed events are not read again")
        #expect(try await store.getOnlineFeatures(entities: ["driver_id": [.int(1)]], features: .references([FeatureReference(view: "activity")]))
                .columns[0].values == [.int(5)])
    }

    @Test("newly applied definitions are taken up between batches: a view added on the stream is ingested from then on")
    func adoptsNewDefinitions() async throws {
        let (dir, before) = try Self.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let served = Mutex((version: 0, store: before))
        let consumer = InMemoryStreamConsumer(topics: [StreamFixture.topic])
        let ingestor = try StreamIngestor(store: before, consumer: consumer, definitions: { served.withLock { $0 } })
        consumer.append(topic: StreamFixture.topic, value: Array(event(1, trips: 1, ts: "2025-01-01T00:00:00Z", speed: 2.5).utf8))
        await ingestor.runOnce()

        // Applied: a second view reads the stream; the server's snapshot moves on, sharing the open store.
        try (StreamFixture.definitions + "  - {name: speeds, entities: [driver], source: activity_stream, ttl: 0, features: [{name: speed, type: float64}]}\n")
            .write(to: dir.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
        let after = try FeatureStore(repository: dir, kinds: testKinds, reloading: before)
        #expect(after.sharesOnlineStore(with: before), "the open store survives the reload")
        served.withLock { $0 = (1, after) }
        consumer.append(topic: StreamFixture.topic, value: Array(event(1, trips: 2, ts: "2025-01-01T00:01:00Z", speed: 3.5).utf8))
        await ingestor.runOnce()
        #expect(ingestor.topicOfView["speeds"] == StreamFixture.topic)
        let online = try await after.getOnlineFeatures(entities: ["driver_id": [.int(1)]],
                                                 features: .references([FeatureReference(view: "speeds"), FeatureReference(view: "activity", feature: "trips_last_hour")]))
        #expect(online.columns.map(\.values) == [[.double(3.5)], [.int(2)]], "the new view is fed from the batch after the apply")
    }

    @Test("definitions that cannot be ingested are logged and the previous ones kept")
    func keepsDefinitionsThatWork() async throws {
        let (dir, before) = try Self.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let served = Mutex((version: 0, store: before))
        let consumer = InMemoryStreamConsumer(topics: [StreamFixture.topic])
        let ingestor = try StreamIngestor(store: before, views: ["activity"], consumer: consumer, definitions: { served.withLock { $0 } })
        // The view the ingester was asked for is gone from the new definitions.
        try StreamFixture.definitions.replacingOccurrences(of: "name: activity\n", with: "name: activity_renamed\n")
            .write(to: dir.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
        let renamed = try FeatureStore(repository: dir, kinds: testKinds, reloading: before)
        served.withLock { $0 = (1, renamed) }
        consumer.append(topic: StreamFixture.topic, value: Array(event(4, trips: 7, ts: "2025-01-01T00:00:00Z").utf8))
        #expect(await ingestor.runOnce().written == 1, "still ingesting with the previous definitions")
        #expect(ingestor.store.registry.featureView(named: "activity") != nil)
    }
}

@Suite("IngestionSupervisor: ingestion in step with the definitions", .serialized, .timeLimit(.minutes(2)))
struct IngestionSupervisorTests {
    @Test("a start that fails is tried again after the retry interval, without waiting for another apply, and then ingests")
    func failedStartIsRetried() async throws {
        let (dir, store) = try InMemoryIngestionTests.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let consumer = InMemoryStreamConsumer(topics: [StreamFixture.topic], partitions: 1)
        consumer.append(topic: StreamFixture.topic, partition: 0, value: Array(event(4, trips: 6, ts: "2025-01-01T00:00:00Z").utf8))
        let attempts = Mutex(0)
        let supervisor = IngestionSupervisor(definitions: { (1, store) }, interval: .milliseconds(20), retryAfter: .milliseconds(200)) { store throws(IngestionError) in
            let attempt = attempts.withLock { n in
                n += 1
                return n
            }
            // The brokers refuse the first two starts (a property they do not know, a broker down).
            if attempt <= 2 { throw IngestionError("refused, attempt \(attempt)") }
            return try StreamIngestor(store: store, consumer: consumer)
        }
        let running = Task { try await supervisor.run() }
        defer { running.cancel() }
        var found: [OnlineValue] = []
        let deadline = ContinuousClock.now + .seconds(90)  // generous: the whole suite shares the 2 cores
        while ContinuousClock.now < deadline {
            found = try await store.getOnlineFeatures(entities: ["driver_id": [.int(4)]],
                                                      features: .references([FeatureReference(view: "activity", feature: "trips_last_hour")])).columns[0].values
            if found == [.int(6)] { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(found == [.int(6)], "ingesting after the retries")
        #expect(attempts.withLock { $0 } == 3, "two refusals, one start: a failure is not retried every check")
    }
}
