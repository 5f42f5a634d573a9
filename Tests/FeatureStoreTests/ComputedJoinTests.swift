import TestKinds
import Columnar
import FeatureStoreCore
import Foundation
import Parquet
import Testing

/// Training sets with computed features: on-demand features over the entity rows' request columns, and derived
/// columns read and aggregated like the data's own.
@Suite("Training sets with computed features", .timeLimit(.minutes(2)))
struct ComputedJoinTests {
    static let definitions = """
        entities:
          - {name: driver, join_keys: [{name: driver_id, type: int64}]}
        sources:
          - name: trips_src
            kind: parquet
            path: data/trips.parquet
            timestamp_field: ts
            columns: {km: float64}
            derived:
              - {name: fare_per_km, type: float64, expr: "fare / nullif(km, 0)"}
              - {name: long, type: int64, expr: "if(km > 10, 1, 0)"}
        feature_views:
          - name: last_trip
            entities: [driver]
            source: trips_src
            features: [{name: fare, type: float64}, {name: fare_per_km, type: float64}]
          - name: trip_windows
            entities: [driver]
            source: trips_src
            aggregations:
              - {column: long, type: int64, function: sum, windows: [1h]}
              - {column: fare_per_km, type: float64, function: max, windows: [1h]}
        on_demand_views:
          - name: quote
            request: [{name: km_asked, type: float64}, {name: tip, type: int64}]
            features:
              - {name: price, type: float64, expr: "last_trip.fare_per_km * km_asked + tip"}
              - {name: busy, type: bool, expr: "trip_windows.long_sum_1h >= 2"}

        """

    func store() throws -> (FeatureStore, TemporaryDirectory) {
        let dir = TemporaryDirectory()
        try dir.write("feature_store.yaml", "project: computed\n")
        try dir.write("defs.yaml", Self.definitions)
        try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("data"), withIntermediateDirectories: true)
        // Driver 1: trips of 5, 12 and 20 km at 10:00, 10:20, 10:40; driver 2: one trip of 0 km.
        let base = s(1_700_000_000)
        try ParquetFileWriter.write(try Table([
            ("driver_id", Column(int64: [1, 1, 1, 2])),
            ("ts", Column(timestamps: [base, base + s(1200), base + s(2400), base])),
            ("fare", Column(float64: [10, 24, 30, 7])),
            ("km", Column(float64: [5, 12, 20, 0])),
        ]), to: dir.url.appendingPathComponent("data/trips.parquet").path)
        return (try FeatureStore(repository: dir.url, kinds: testKinds), dir)
    }

    @Test("derived columns are features and aggregation inputs; on-demand features read request columns and both")
    func computedFeatures() async throws {
        let (store, dir) = try store()
        _ = dir
        let base: Int64 = 1_700_000_000
        let entities = try entityTable(ids: [1, 1, 2], times: [base + 2401, base + 1300, base + 10], extra: [
            ("km_asked", Column(float64: [3, 4, 5])), ("tip", Column(int64: [1, 2, nil])),
        ])
        let out = try await store.joinFeatures(entities: .table(entities), features: FeatureSelection(parsing: "last_trip,trip_windows,quote")!)
        // Windows hold the events before the entity time (ts < t): at 10:40:01 the 12 and 20 km trips are "long".
        #expect(doubles(out, "fare_per_km") == [1.5, 2, nil], "30/20, 24/12, and 7/0 is null")
        #expect(doubles(out, "fare_per_km_max_1h") == [2, 2, nil])
        #expect(doubles(out, "price") == [5.5, 10, nil], "1.5 * 3 + 1, 2 * 4 + 2, null fare_per_km and tip")
        let long = try #require(out.column(named: "long_sum_1h"))
        #expect((0..<3).map { long.onlineValue(at: $0, as: .scalar(.int64)) } == [.int(2), .int(1), .int(0)])
        let busy = try #require(out.column(named: "busy"))
        #expect((0..<3).map { busy.onlineValue(at: $0, as: .scalar(.bool)) } == [.bool(true), .bool(false), .bool(false)])
    }

    @Test("a request field missing from the entity rows, or of another type, is an error naming it")
    func missingRequestColumn() async throws {
        let (store, dir) = try store()
        _ = dir
        let entities = try entityTable(ids: [1], times: [1_700_000_000], extra: [("km_asked", Column(float64: [3]))])
        await #expect {
            _ = try await store.joinFeatures(entities: .table(entities), features: FeatureSelection(parsing: "quote:price")!)
        } throws: { error in
            "\(error)" == "the entity rows have no column 'tip' (request field of on-demand view 'quote', read by its feature 'price'); columns: driver_id, event_timestamp, km_asked"
        }
        let wrong = try entityTable(ids: [1], times: [1_700_000_000], extra: [("km_asked", Column(float64: [3])), ("tip", Column(strings: ["1"]))])
        await #expect {
            _ = try await store.joinFeatures(entities: .table(wrong), features: FeatureSelection(parsing: "quote:price")!)
        } throws: { error in
            "\(error)" == "entity column 'tip' is string, but request field 'tip' of on-demand view 'quote' is declared int64"
        }
        // Features that read no request field need none.
        let out = try await store.joinFeatures(entities: .table(try entityTable(ids: [1], times: [1_700_002_400])), features: FeatureSelection(parsing: "quote:busy")!)
        #expect(out.column(named: "busy") != nil)
    }
}
