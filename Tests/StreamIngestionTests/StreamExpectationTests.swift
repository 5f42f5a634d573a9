import DataQuality
import FeatureStoreCore
import Foundation
import Kafka
import StreamIngestion
import Testing
import TestKinds

/// The stream fixture's view with expectations on its features, under `policy`.
private func definitions(policy: String) -> String {
    StreamFixture.definitions
        .replacingOccurrences(of: "    ttl: 0\n", with: "    ttl: 0\n    expectations: {policy: \(policy)}\n")
        .replacingOccurrences(of: "{name: trips_last_hour, type: int32}", with: "{name: trips_last_hour, type: int32, expect: {min: 0, max: 60}}")
        .replacingOccurrences(of: "{name: speed, type: float64}", with: "{name: speed, type: float64, expect: {not_null: true}}")
}

@Suite("Expectations on the stream", .serialized, .timeLimit(.minutes(10)))
struct StreamExpectationTests {
    @Test("under drop, a violating event goes to the dead-letter topic with the rule in x-featurestore-rule, is counted by view, feature and rule, and the good events around it are written")
    func dropDeadLettersWithTheRule() async throws {
        let f = try StreamFixture(partitions: 1, definitions: definitions(policy: "drop"))
        try f.send([
            event(1, trips: 5, ts: "2025-01-01T00:00:00Z"),
            event(2, trips: 61, ts: "2025-01-01T00:00:00Z"),
            event(3, trips: -1, ts: "2025-01-01T00:00:00Z"),
            #"{"driver_id": 4, "trips": 2, "is_online": true, "ts": "2025-01-01T00:00:00Z"}"#,
            event(5, trips: 60, ts: "2025-01-01T00:00:00Z"),
        ])
        let ingestor = try StreamIngestor(store: f.store)
        try await f.ingest(ingestor, until: 5)
        let stats = ingestor.statistics.snapshot
        #expect(stats.bad == [.expectation: 3])
        #expect(stats.violations == ["activity.trips_last_hour.max": 1, "activity.trips_last_hour.min": 1, "activity.speed.not_null": 1])
        #expect(try await f.lookup([1, 2, 3, 4, 5]).columns[0].values == [.int(5), .null, .null, .null, .int(60)])

        let dead = try f.deadLetters(count: 3, group: "dlq-reader")
        try #require(dead.count == 3, "dead letters within 90 s: \(dead.count)")
        #expect(dead.compactMap { $0.header("x-featurestore-reason") } == ["expectation", "expectation", "expectation"])
        #expect(dead.compactMap { $0.header("x-featurestore-rule") } == ["activity.trips_last_hour.max", "activity.trips_last_hour.min", "activity.speed.not_null"])
        #expect(dead[0].header("x-featurestore-error") == "trips_last_hour: 61 is above max 60 (feature view 'activity', policy drop)")
    }

    @Test("under warn, violating events are written, counted and profiled (per hour, kept in the registry); under fail they are dead-lettered like drop (a stream does not stop for one event)")
    func warnWritesAndFailDeadLetters() async throws {
        for policy in ["warn", "fail"] {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("expect-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            try "project: streaming\nkafka: {bootstrap_servers: 'unused:1', offline_roll_interval: 0}\n"
                .write(to: dir.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
            try definitions(policy: policy).write(to: dir.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
            let store = try FeatureStore(repository: dir, kinds: testKinds)
            let consumer = InMemoryStreamConsumer(topics: [StreamFixture.topic], partitions: 1)
            for (driver, trips) in [(1, 5), (2, 99)] {
                consumer.append(topic: StreamFixture.topic, partition: 0, value: Array(event(Int64(driver), trips: trips, ts: "2025-01-01T00:00:00Z").utf8))
            }
            let ingestor = try StreamIngestor(store: store, consumer: consumer)
            let report = await ingestor.runOnce()
            let online = try await store.getOnlineFeatures(entities: ["driver_id": [.int(1), .int(2)]],
                                                           features: .references([FeatureReference(view: "activity", feature: "trips_last_hour")]))
            #expect(ingestor.statistics.snapshot.violations == ["activity.trips_last_hour.max": 1], "\(policy)")
            if policy == "warn" {
                #expect(report.bad == 0 && online.columns[0].values == [.int(5), .int(99)])
                // What was written is profiled per hour of event time and kept in the registry at the offline roll.
                await ingestor.close()
                let profiles = try store.openRegistry().profiles(of: "activity")
                let profile = try #require(profiles.first?.profile, "an ingest profile")
                #expect(profile.origin == "ingest" && profile.rows == 2 && profile.start == 1_735_689_600_000_000)
                #expect(profile.features["trips_last_hour"]?.max == 99 && profile.features["trips_last_hour"]?.min == 5)
            } else {
                #expect(report.bad == 1 && online.columns[0].values == [.int(5), .null])
            }
        }
    }
}
