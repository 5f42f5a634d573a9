import Columnar
@testable import FeatureServing
import FeatureStoreCore
import Foundation
import Prometheus
import Parquet
import Testing

/// FeatureServer's feature logging: what a service with `logging:` serves is written as Parquet, off the request path.
@Suite("Feature logging", .serialized, .timeLimit(.minutes(3)))
struct FeatureLoggingTests {
    static let service = """
        feature_services:
          - name: logged
            features: [stats:conv, stats:trips]
            logging: {sample_rate: 1, path: logs/logged}

        """

    @Test("lookups of a logged service are written day-partitioned with request id and time, entity keys, and each feature's value, status and event time, equal to what was served")
    func loggedLookupsEqualWhatWasServed() async throws {
        let log = FeatureLogger(interval: .seconds(3600))
        let f = try await ServerFixture(extraDefinitions: Self.service, featureLog: log)
        let t = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-5))
        let pushed = try await f.http("POST", "/v1/push", json: #"{"feature_view": "stats", "entities": {"driver_id": [1, 2]}, "event_timestamps": ["\#(t)", "\#(t)"], "features": {"conv": [0.25, null], "trips": [3, 4]}}"#)
        try #require(pushed.status == 200, "\(pushed.body)")
        var served: [[String: Any]] = []
        for _ in 0..<10 {
            let r = try await f.http("POST", "/v1/online-features", json: #"{"feature_service": "logged", "entities": {"driver_id": [1, 2, 99]}}"#)
            try #require(r.status == 200, "\(r.body)")
            served.append(r.json)
        }
        // Full feature names and an extra join key do not change the log's schema (one readable folder per service).
        let full = try await f.http("POST", "/v1/online-features", json: #"{"feature_service": "logged", "entities": {"driver_id": [1], "origin": ["A"]}, "full_feature_names": true}"#)
        try #require(full.status == 200, "\(full.body)")
        // A lookup by feature list is not a service's, so it is not logged.
        _ = try await f.http("POST", "/v1/online-features", json: #"{"features": ["stats:conv"], "entities": {"driver_id": [1]}}"#)
        let files = log.flush()
        #expect(files.count == 1 && files[0].contains("/logs/logged/date="), "\(files)")
        #expect(log.counts.written == ["logged": 31] && log.counts.dropped.isEmpty && log.counts.offered == ["logged": 31])
        let table = try ParquetDataset(path: f.dir.appendingPathComponent("logs/logged").path).read()
        #expect(table.schema.fields.map(\.name) == ["request_id", "request_time", "driver_id", "conv", "conv__status", "conv__event_timestamp",
                                                    "trips", "trips__status", "trips__event_timestamp", "date"], "the day is the Hive partition folder")
        #expect(table.rowCount == 31)
        let ids = (0..<31).map { Self.text(table.column(named: "request_id")!, $0) }
        #expect(Set(ids).count == 11, "one request id per lookup")
        try Self.expectLogged(table, equals: served, rows: 30)
        try await f.stop()
    }

    @Test("a full queue drops lookups from the log and counts them: every offered row is written or counted as dropped")
    func fullQueueDropsAndCounts() async throws {
        let log = FeatureLogger(maxQueuedRows: 7, interval: .seconds(3600))
        let f = try await ServerFixture(extraDefinitions: Self.service, featureLog: log)
        for _ in 0..<10 {
            let r = try await f.http("POST", "/v1/online-features", json: #"{"feature_service": "logged", "entities": {"driver_id": [1, 2]}}"#)
            try #require(r.status == 200)
        }
        log.flush()
        let c = log.counts
        #expect(c.offered == ["logged": 20] && c.written == ["logged": 6] && c.dropped == ["logged": 14], "\(c)")
        #expect(c.written["logged", default: 0] + c.dropped["logged", default: 0] == c.offered["logged"])
        try await f.stop()
    }

    @Test("rows the writer has taken and not yet encoded count against the bound: a lookup offered meanwhile is dropped")
    func takenRowsCountAgainstTheBound() async throws {
        let log = FeatureLogger(maxQueuedRows: 4, interval: .seconds(3600))
        let f = try await ServerFixture(extraDefinitions: Self.service, featureLog: log)
        let store = f.core.repository.store
        let service = try #require(store.registry.featureService(named: "logged"))
        let keys: [String: [OnlineValue]] = ["driver_id": [.int(1), .int(2)]]
        let served = try await store.getOnlineFeatures(entities: keys, features: .service("logged"))
        func offer() { log.offer(service: service, store: store, entities: keys, keyTypes: ["driver_id": .int64], result: served) }
        offer()
        offer()
        let (taken, sequence) = log.take()
        offer()
        #expect(log.counts.dropped == ["logged": 2], "the 4 taken rows fill the bound: \(log.counts)")
        log.record(log.encode(taken, sequence: sequence, writeFiles: true))
        offer()
        log.flush()
        #expect(log.counts.written == ["logged": 6] && log.counts.dropped == ["logged": 2] && log.encodedRows == 0, "\(log.counts)")
        try await f.stop()
    }

    static func text(_ c: Column, _ i: Int) -> String? { if case .string(let s) = c.onlineValue(at: i, as: .scalar(.string)) { s } else { nil } }

    /// The first `rows` logged rows against the served answers of lookups of drivers 1, 2 and 99 (three rows each):
    /// the key, conv's value or null and its status, trips null for driver 99.
    static func expectLogged(_ table: Table, equals served: [[String: Any]], rows: Int) throws {
        let conv = table.column(named: "conv")!, status = table.column(named: "conv__status")!, trips = table.column(named: "trips")!
        let driver = table.column(named: "driver_id")!
        for row in 0..<rows {
            let results = try #require(served[row / 3]["results"] as? [[String: Any]])
            let values = results[0]["values"] as! [Any], statuses = results[0]["statuses"] as! [String]
            #expect(driver.onlineValue(at: row, as: .scalar(.int64)) == .int([1, 2, 99][row % 3]))
            #expect(text(status, row) == statuses[row % 3])
            if let v = values[row % 3] as? Double { #expect(conv.onlineValue(at: row, as: .scalar(.float64)) == .double(v)) } else { #expect(conv.isNull(row)) }
            #expect(trips.isNull(row) == (row % 3 == 2))
        }
    }

    /// Polls `done` every 25 ms for up to a minute (the writer runs at the lowest scheduling class: on a busy machine
    /// it may wait for an idle core).
    static func eventually(_ done: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !done() && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(25)) }
    }

    @Test("the queue is encoded into columns every encode interval and written as one file per interval, so answers are not held until the file is written")
    func encodedOftenWrittenPerInterval() async throws {
        let log = FeatureLogger(interval: .seconds(3600), encodeInterval: .milliseconds(50))
        let f = try await ServerFixture(extraDefinitions: Self.service, featureLog: log)
        let t = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-5))
        let pushed = try await f.http("POST", "/v1/push", json: #"{"feature_view": "stats", "entities": {"driver_id": [1, 2]}, "event_timestamps": ["\#(t)", "\#(t)"], "features": {"conv": [0.25, null], "trips": [3, 4]}}"#)
        try #require(pushed.status == 200, "\(pushed.body)")
        let writer = Task { try await log.run() }
        var served: [[String: Any]] = []
        func lookups(_ n: Int) async throws {
            for _ in 0..<n {
                let r = try await f.http("POST", "/v1/online-features", json: #"{"feature_service": "logged", "entities": {"driver_id": [1, 2, 99]}}"#)
                try #require(r.status == 200, "\(r.body)")
                served.append(r.json)
            }
        }
        func waitEncoded(_ rows: Int) async throws {
            try await Self.eventually { log.encodedRows == rows && log.queuedRows == 0 }
            #expect(log.encodedRows == rows && log.queuedRows == 0, "encoded \(log.encodedRows), queued \(log.queuedRows)")
        }
        let folder = f.dir.appendingPathComponent("logs/logged")
        try await lookups(5)
        try await waitEncoded(15)
        try await lookups(4)
        try await waitEncoded(27)
        #expect(!FileManager.default.fileExists(atPath: folder.path), "no file before the interval")
        #expect(log.counts.written.isEmpty)
        writer.cancel()
        try await writer.value
        #expect(log.encodedRows == 0)
        #expect(log.counts.written == ["logged": 27] && log.counts.files == ["logged": 1] && log.counts.offered == ["logged": 27], "\(log.counts)")
        // The parts joined in order, values and nulls as served.
        let table = try ParquetDataset(path: folder.path).read()
        try #require(table.rowCount == 27)
        try Self.expectLogged(table, equals: served, rows: 27)
        try await f.stop()
    }

    @Test("files are written every interval while the server runs, with every logged row")
    func filesWrittenEveryInterval() async throws {
        let log = FeatureLogger(interval: .milliseconds(300), encodeInterval: .milliseconds(50))
        let f = try await ServerFixture(extraDefinitions: Self.service, featureLog: log)
        let writer = Task { try await log.run() }
        for _ in 0..<6 {
            let r = try await f.http("POST", "/v1/online-features", json: #"{"feature_service": "logged", "entities": {"driver_id": [1, 2]}}"#)
            try #require(r.status == 200, "\(r.body)")
        }
        try await Self.eventually { log.counts.written["logged"] == 12 }
        #expect(log.counts.written == ["logged": 12] && log.counts.dropped.isEmpty, "\(log.counts)")
        #expect(try ParquetDataset(path: f.dir.appendingPathComponent("logs/logged").path).read().rowCount == 12)
        writer.cancel()
        try await writer.value
        try await f.stop()
    }

    @Test("a part giving a column another type (definitions changed) starts a new file, and the rows before it are written")
    func typeChangeStartsNewFile() async throws {
        let log = FeatureLogger(interval: .seconds(3600), encodeInterval: .milliseconds(50))
        let f = try await ServerFixture(extraDefinitions: Self.service, featureLog: log)
        let store = f.core.repository.store
        let service = try #require(store.registry.featureService(named: "logged"))
        let keys: [String: [OnlineValue]] = ["driver_id": [.int(1)]]
        let served = try await store.getOnlineFeatures(entities: keys, features: .service("logged"))
        var changed = served
        changed.columns[0].type = .scalar(.string)
        changed.columns[0].values = [.string("x")]
        let writer = Task { try await log.run() }
        // Both at one time: the clock could pass midnight between them and put them in two day folders.
        let at = Int64(1_780_000_000) * 1_000_000
        log.offer(service: service, store: store, entities: keys, keyTypes: ["driver_id": .int64], result: served, requestTime: at)
        try await Self.eventually { log.encodedRows == 1 }
        log.offer(service: service, store: store, entities: keys, keyTypes: ["driver_id": .int64], result: changed, requestTime: at)
        try await Self.eventually { log.counts.files["logged"] == 1 && log.queuedRows == 0 }
        #expect(log.counts.written == ["logged": 1] && log.encodedRows == 1, "\(log.counts)")
        writer.cancel()
        try await writer.value
        #expect(log.counts.files == ["logged": 2] && log.counts.written == ["logged": 2] && log.counts.dropped.isEmpty, "\(log.counts)")
        try await f.stop()
    }

    @Test("parts with other columns join in one file, each missing column null")
    func partsWithOtherColumnsJoin() throws {
        let a = try Table([("request_id", Column(strings: ["a"])), ("driver_id", Column(int64: [1])), ("conv", Column(float64: [0.5]))])
        let b = try Table([("request_id", Column(strings: ["b", "c"])), ("driver_id", Column(int64: [2, 3])), ("origin", Column(strings: ["X", nil])),
                           ("conv", Column(float64: [nil, 0.25]))])
        let joined = try FeatureLogger.concatenate([a, b])
        #expect(joined.schema.fields.map(\.name) == ["request_id", "driver_id", "conv", "origin"])
        #expect(joined.rowCount == 3)
        let origin = joined.column(named: "origin")!, conv = joined.column(named: "conv")!
        #expect(origin.isNull(0) && origin.onlineValue(at: 1, as: .scalar(.string)) == .string("X") && origin.isNull(2))
        #expect(conv.onlineValue(at: 0, as: .scalar(.float64)) == .double(0.5) && conv.isNull(1) && conv.onlineValue(at: 2, as: .scalar(.float64)) == .double(0.25))
    }

    @Test("sampling logs about the configured share of lookups")
    func samplingShare() {
        let log = FeatureLogger()
        let kept = (0..<100_000).filter { _ in log.sampled(0.1) }.count
        #expect(abs(kept - 10_000) < 500, "\(kept)")
        #expect((0..<1000).allSatisfy { _ in log.sampled(1) })
    }

    @Test("the newest drift scores in the registry are exported as gauges per view, feature and measure, with whether they breach, and shown in the catalog")
    func driftGauges() async throws {
        let f = try await ServerFixture()
        let registry = try f.core.repository.store.openRegistry()
        func drift(_ psi: Double, breaches: [String]) -> FeatureDrift {
            FeatureDrift(column: "conv", view: "stats", feature: "conv", kind: "numeric", psi: psi, ks: 0.05, js: nil, edges: [0.5],
                         baselineRows: 10, currentRows: 10, baselineNullRate: 0, currentNullRate: 0, thresholds: .defaults, breaches: breaches)
        }
        try registry.recordDrift([drift(0.1, breaches: [])], baseline: "a.parquet", current: "b.parquet", at: Date(timeIntervalSince1970: 1000))
        try registry.recordDrift([drift(0.75, breaches: ["psi"])], baseline: "a.parquet", current: "c.parquet", at: Date(timeIntervalSince1970: 2000))
        let gauges = DriftGauges(repository: f.core.repository, factory: ServingMetrics.prometheusFactory(registry: f.metrics))
        #expect(gauges.update() == 1, "one feature, its newest comparison")
        let text = String(decoding: f.metrics.emitToBuffer(), as: UTF8.self)
        #expect(text.contains(#"featurestore_feature_drift{view="stats",feature="conv",metric="psi"} 0.75"#), "\(text)")
        #expect(text.contains(#"featurestore_feature_drift{view="stats",feature="conv",metric="ks"} 0.05"#), "\(text)")
        #expect(text.contains(#"featurestore_feature_drift_breached{view="stats",feature="conv"} 1"#), "\(text)")
        // The catalog shows the newest scores per feature, and the view among those with problems.
        let page = try await f.catalogPage("/views/stats")
        #expect(page.body.contains("drift: PSI 0.750 · KS 0.050"), "\(page.body)")
        let home = try await f.catalogPage("/")
        #expect(home.body.contains("drift over threshold: conv"), "\(home.body)")
        try await f.stop()
    }
}
