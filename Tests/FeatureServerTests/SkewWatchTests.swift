import Columnar
@testable import FeatureServing
import FeatureStoreCore
import Foundation
import Parquet
import Prometheus
import Testing

/// The skew watch: sampled lookups computed again offline at their time, every differing value reported.
@Suite("Skew watch while serving", .serialized, .timeLimit(.minutes(3)))
struct SkewWatchTests {
    static let definitions = """
        sources:
          - {name: skew_src, kind: parquet, path: data/skew.parquet, timestamp_field: ts}
        feature_views:
          - {name: skewed, entities: [driver], source: skew_src, ttl: 0, features: [{name: conv, type: float64}, {name: trips, type: int64}]}
        feature_services:
          - name: watched
            features: [skewed]
            skew_watch: {sample_rate: 1, delay: 0s}

        """

    @Test("an untouched store reports no mismatch over many sampled lookups (with and without full feature names); a row written straight into the store is reported with its entity and both values")
    func reportsRowsChangedBehindTheServer() async throws {
        let registry = PrometheusCollectorRegistry()
        let watch = SkewWatch(interval: .seconds(3600), metrics: ServingMetrics.prometheusFactory(registry: registry))
        let f = try await ServerFixture(extraDefinitions: Self.definitions, skewWatch: watch)
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        try FileManager.default.createDirectory(at: f.dir.appendingPathComponent("data"), withIntermediateDirectories: true)
        try ParquetFileWriter.write(try Table([
            ("driver_id", Column(int64: [1, 2, 1])),
            ("ts", Column(timestamps: [now - 120_000_000, now - 120_000_000, now - 300_000_000])),
            ("conv", Column(float64: [0.5, .nan, 0.1])),
            ("trips", Column(int64: [3, nil, 9])),
        ]), to: f.dir.appendingPathComponent("data/skew.parquet").path)
        let store = f.core.repository.store
        _ = try await store.materialize(start: Int64.min, end: now, views: ["skewed"])
        for _ in 0..<20 {
            let r = try await f.http("POST", "/v1/online-features", json: #"{"feature_service": "watched", "entities": {"driver_id": [1, 2, 3]}}"#)
            try #require(r.status == 200, "\(r.body)")
        }
        // With full feature names the training set is joined with them too, so these values are compared as well.
        for _ in 0..<5 {
            let r = try await f.http("POST", "/v1/online-features", json: #"{"feature_service": "watched", "entities": {"driver_id": [1, 2, 3]}, "full_feature_names": true}"#)
            try #require(r.status == 200, "\(r.body)")
        }
        #expect(await watch.check(all: true).isEmpty, "training = serving on an untouched store (NaN, null and unknown entities included)")
        #expect(watch.counts.checked == ["skewed:conv": 75, "skewed:trips": 75] && watch.counts.mismatched.isEmpty && watch.failures == 0)
        // Behind the server's back: driver 1's row replaced in the store (newer, so it wins), not in the source.
        let view = try #require(store.registry.featureView(named: "skewed"))
        _ = try await store.onlineStore().write([OnlineRow(key: [.int(1)], eventTimestamp: now - 60_000_000, values: [.double(0.75), .int(3)])],
                                                to: store.onlineTable(of: view))
        let r = try await f.http("POST", "/v1/online-features", json: #"{"feature_service": "watched", "entities": {"driver_id": [2, 1]}}"#)
        try #require(r.status == 200)
        let found = await watch.check(all: true)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.view == "skewed" && found.first?.feature == "conv" && found.first?.entity == ["driver_id": "1"], "\(found)")
        #expect(found.first?.served == "0.75" && found.first?.offline == "0.5", "\(found)")
        #expect(watch.counts.mismatched == ["skewed:conv": 1])
        let page = try await f.catalogPage("/views/skewed")
        #expect(page.body.contains("skew: 1 of 77 served values differ from the offline engine"), "\(page.body)")
        #expect(page.body.contains("driver_id=1: served 0.75, offline 0.5"), "the entity and both values")
        let home = try await f.catalogPage("/")
        #expect(home.body.contains("1 served values differ from the offline engine (skew watch)"), "\(home.body)")
        let metrics = String(decoding: registry.emitToBuffer(), as: UTF8.self)
        #expect(metrics.contains(#"featurestore_skew_mismatches_total{view="skewed",feature="conv"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"featurestore_skew_checked_total{view="skewed",feature="trips"} 77"#), "\(metrics)")
        try await f.stop()
    }

    @Test("lookups by feature list, and services without skew_watch, are not checked")
    func onlyWatchedServices() async throws {
        let watch = SkewWatch(interval: .seconds(3600))
        let f = try await ServerFixture(extraDefinitions: Self.definitions, skewWatch: watch)
        _ = try await f.http("POST", "/v1/online-features", json: #"{"features": ["skewed:conv"], "entities": {"driver_id": [1]}}"#)
        #expect(await watch.check(all: true).isEmpty && watch.counts.checked.isEmpty)
        try await f.stop()
    }
}
