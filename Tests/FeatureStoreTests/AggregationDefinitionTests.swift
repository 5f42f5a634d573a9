import FeatureComputation
import Foundation
import Testing
@testable import FeatureStoreCore
import TestKinds

/// `aggregations:` in feature views: the features they make, and every mistake reported at its place.
@Suite("Aggregation definitions")
struct AggregationDefinitionTests {
    static let head = """
        entities:
          - {name: driver, join_keys: [{name: driver_id, type: int64}]}
        sources:
          - {name: trips, kind: parquet, path: data/trips, timestamp_field: ts}
        feature_views:
          - name: driver_trips
            entities: [driver]
            source: trips
            aggregations:

        """

    static func compile(_ aggregations: String) throws -> FeatureView {
        let registry = try DefinitionCompiler.compile(config: .init(name: "feature_store.yaml", text: "project: demo\n"),
                                                      definitions: [.init(name: "defs.yaml", text: head + aggregations)], kinds: testKinds)
        return registry.featureView(named: "driver_trips")!
    }

    @Test("features get stable names and typed outputs, one per window; name: overrides; hops come from the ladder or hop:")
    func namesAndTypes() throws {
        let view = try Self.compile("""
                  - {column: fare, function: sum, type: float64, windows: [1h, 1d, 7d]}
                  - {column: fare, function: mean, windows: [1d]}
                  - {function: count, windows: [10m]}
                  - {column: seats, function: sum, type: int32, windows: [1h], hop: 10m}
                  - {column: zone, function: last_n, type: string, n: 5, windows: [1d], name: recent_zones}
                  - {column: fare, function: max, type: float32, windows: [90s]}

            """)
        #expect(view.features.map(\.name) == ["fare_sum_1h", "fare_sum_1d", "fare_sum_7d", "fare_mean_1d", "count_10m", "seats_sum_1h", "recent_zones", "fare_max_1m30s"])
        #expect(view.features.map(\.type) == [.scalar(.float64), .scalar(.float64), .scalar(.float64), .scalar(.float64), .scalar(.int64), .scalar(.int64), .list(.string), .scalar(.float32)])
        #expect(view.features.map { $0.aggregation!.hop.seconds } == [300, 3600, 3600, 3600, 60, 600, 3600, 1])
        #expect(view.features[4].aggregation == FeatureAggregation(function: .count, column: nil, window: TimeSpan(seconds: 600), hop: TimeSpan(seconds: 60)))
        #expect(view.isAggregated && view.pushUnsupportedReason != nil)
    }

    @Test("every mistake is an error at its file:line:column, all at once")
    func mistakes() {
        let errors = diagnostics(Self.head + """
                  - {column: fare, function: summ, windows: [1h]}
                  - {column: fare, function: sum, type: float64, windows: [90m], hop: 1h}
                  - {column: zone, function: mean, type: string, windows: [1h]}
                  - {column: zone, function: last_n, type: string, windows: [1h]}
                  - {column: fare, function: sum, windows: [1h]}
                  - {column: fare, function: count, windows: [1h]}
                  - {column: fare, function: mean, windows: [1h, 1d], name: avg}
                  - {column: fare, function: min, type: float64, windows: [0s, 2x]}
                  - {column: fare, function: first, type: float64, n: 3, windows: [1h]}

            """)
        #expect(errors == [
            "defs.yaml:10:34: error: unknown aggregation function 'summ'; did you mean 'sum'?; functions: count, sum, mean, min, max, variance, stddev, first, last, last_n, last_distinct_n, approx_count_distinct",
            "defs.yaml:11:64: error: window '90m' is not a whole number of hops of 1h; choose a window that is, or another hop",
            "defs.yaml:12:46: error: 'mean' does not take a string column; it takes int32, int64, float32, float64",
            "defs.yaml:13:34: error: 'last_n' keeps the n latest values: add 'n:' (for example n: 5)",
            "defs.yaml:14:34: error: 'sum' gives a feature of its column's type: declare the column's type with 'type:' (for example type: float64)",
            "defs.yaml:15:18: error: 'count' counts events and takes no column (nulls of a column are skipped by the other functions)",
            "defs.yaml:16:65: error: 'name' names one feature, but this aggregation has 2 windows: write one aggregation per window to name each",
            "defs.yaml:17:64: error: bad window '0s': write a positive duration like 10m, 1h, 7d",
            "defs.yaml:17:68: error: bad window '2x': write a positive duration like 10m, 1h, 7d",
            "defs.yaml:18:59: error: 'n' is for last_n and last_distinct_n, not 'first'",
        ], "\(errors.joined(separator: "\n"))")
    }

    @Test("a view has features or aggregations, not both; an aggregated view has no ttl")
    func viewShape() {
        let errors = diagnostics("""
            entities:
              - {name: driver, join_keys: [{name: driver_id, type: int64}]}
            sources:
              - {name: trips, kind: parquet, path: data/trips, timestamp_field: ts}
            feature_views:
              - name: driver_trips
                entities: [driver]
                source: trips
                ttl: 1d
                features: [{name: fare, type: float64}]
                aggregations: [{function: count, windows: [1h]}]

            """)
        #expect(errors == [
            "defs.yaml:9:5: error: feature view 'driver_trips' aggregates events over windows, which say how old an event may be: remove 'ttl'",
            "defs.yaml:10:5: error: feature view 'driver_trips' has both 'features' and 'aggregations': a view either serves its source's latest values or aggregates its events; split it in two",
        ], "\(errors.joined(separator: "\n"))")
    }

    @Test("apply stores aggregated views whole: read back from the registry, they equal the compiled ones, and a changed window is a planned change")
    func registryRoundTrip() async throws {
        let dir = TemporaryDirectory()
        try dir.write("feature_store.yaml", "project: demo\n")
        try dir.write("defs.yaml", Self.head + """
                  - {column: fare, function: sum, type: float64, windows: [1h, 1d]}
                  - {column: zone, function: last_distinct_n, type: string, n: 3, windows: [1d], hop: 2h}

            """)
        let store = try FeatureStore(repository: dir.url, kinds: testKinds)
        try await store.apply()
        let stored = try #require(try store.openRegistry().registry())
        #expect(stored.featureView(named: "driver_trips")?.features == store.registry.featureView(named: "driver_trips")?.features)
        try dir.write("defs.yaml", Self.head + """
                  - {column: fare, function: sum, type: float64, windows: [1h, 1d]}
                  - {column: zone, function: last_distinct_n, type: string, n: 3, windows: [1d], hop: 1h}

            """)
        let plan = try FeatureStore(repository: dir.url, kinds: testKinds).plan()
        #expect(plan.changes.map(\.name) == ["driver_trips"], "\(plan.changes)")
    }
}
