import TestKinds
import Columnar
import FeatureStoreCore
import Foundation
import Parquet
import Testing

/// Time-window aggregations in training sets against DuckDB evaluating the same window rule with a self-join: random
/// events with ties, nulls and times exactly on window edges (and one microsecond off), three windows, 25 features: every
/// function, on floats (large magnitudes for variance), integers, strings and timestamps.
@Suite("Window aggregations agree with DuckDB", .serialized, .timeLimit(.minutes(5)))
struct DifferentialWindowTests {
    static func definitions(_ window: String, hop: String) -> String {
        """
              - {function: count, windows: [\(window)], hop: \(hop)}
              - {column: fare, function: sum, type: float64, windows: [\(window)], hop: \(hop)}
              - {column: fare, function: mean, windows: [\(window)], hop: \(hop)}
              - {column: fare, function: min, type: float64, windows: [\(window)], hop: \(hop)}
              - {column: fare, function: max, type: float64, windows: [\(window)], hop: \(hop)}
              - {column: fare, function: variance, windows: [\(window)], hop: \(hop)}
              - {column: fare, function: stddev, windows: [\(window)], hop: \(hop)}
              - {column: seats, function: sum, type: int32, windows: [\(window)], hop: \(hop)}
              - {column: zone, function: min, type: string, windows: [\(window)], hop: \(hop)}
              - {column: fare, function: first, type: float64, windows: [\(window)], hop: \(hop)}
              - {column: zone, function: last, type: string, windows: [\(window)], hop: \(hop)}
              - {column: rider, function: approx_count_distinct, type: int64, windows: [\(window)], hop: \(hop)}
              - {column: epoch, function: variance, windows: [\(window)], hop: \(hop)}
              - {column: epoch, function: stddev, windows: [\(window)], hop: \(hop)}
              - {column: seats, function: min, type: int32, windows: [\(window)], hop: \(hop)}
              - {column: seats, function: max, type: int32, windows: [\(window)], hop: \(hop)}
              - {column: seats, function: first, type: int32, windows: [\(window)], hop: \(hop)}
              - {column: seats, function: last, type: int32, windows: [\(window)], hop: \(hop)}
              - {column: zone, function: max, type: string, windows: [\(window)], hop: \(hop)}
              - {column: zone, function: first, type: string, windows: [\(window)], hop: \(hop)}
              - {column: seen, function: min, type: timestamp, windows: [\(window)], hop: \(hop)}
              - {column: seen, function: max, type: timestamp, windows: [\(window)], hop: \(hop)}
              - {column: seen, function: last, type: timestamp, windows: [\(window)], hop: \(hop)}
              - {column: zone, function: last_n, type: string, n: 3, windows: [\(window)], hop: \(hop)}
              - {column: zone, function: last_distinct_n, type: string, n: 2, windows: [\(window)], hop: \(hop)}

        """
    }

    @Test("every function and window equals DuckDB's value: exactly for counts, integers, strings, timestamps, lists, min, max, first and last; floats to 1e-9; the variance of values near 1.7e9 exactly (rational arithmetic, one rounding); distinct counts within the sketch's error", arguments: [1, 2, 3])
    func matchesDuckDB(seed: Int) async throws {
        let dir = TemporaryDirectory()
        try dir.write("feature_store.yaml", "project: windows\n")
        try dir.write("defs.yaml", """
            entities:
              - {name: driver, join_keys: [{name: driver_id, type: int64}]}
            sources:
              - {name: trips, kind: parquet, path: data/events, timestamp_field: ts}
            feature_views:
              - name: trips
                entities: [driver]
                source: trips
                online: false
                aggregations:

            """ + Self.definitions("10m", hop: "5m") + Self.definitions("1h", hop: "5m") + Self.definitions("1d", hop: "1h"))
        let data = dir.url.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try runScript("Differential/window_expected.py", [data.path, String(seed)])
        let store = try FeatureStore(repository: dir.url, kinds: testKinds)
        let out = try await store.joinFeatures(entities: .parquet(data.appendingPathComponent("entities.parquet").path),
                                               features: .references([FeatureReference(view: "trips")]))
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: data.appendingPathComponent("expected.json"))) as? [String: [Any]])
        try #require(expected.count == 75)
        var mismatches: [String] = []
        for (feature, want) in expected.sorted(by: { $0.key < $1.key }) {
            let column = try #require(out.column(named: feature), "no output column \(feature)")
            if feature.contains("_last_n_") || feature.contains("_last_distinct_n_") || feature.hasPrefix("seen_") {
                // Lists of strings, and timestamps (DuckDB gives microseconds): compared as the values served.
                let type: ValueType = feature.hasPrefix("seen_") ? .scalar(.timestamp) : .list(.string)
                for row in 0..<out.rowCount {
                    let got = column.onlineValue(at: row, as: type)
                    let wanted: OnlineValue
                    switch want[row] {
                    case let list as [String]: wanted = .list(list.map { .string($0) })
                    case let micros as NSNumber: wanted = .timestamp(micros.int64Value)
                    default: wanted = .null
                    }
                    if got != wanted { mismatches.append("\(feature) row \(row): ours \(got), DuckDB \(wanted)") }
                }
                continue
            }
            for row in 0..<out.rowCount {
                let got = column.isNull(row) ? nil : column.text(at: row)
                let wanted: String? = want[row] is NSNull ? nil : "\(want[row])"
                let equal: Bool
                if got != nil, let wanted, case .float64(let values) = column.values, let w = Double(wanted) {
                    let g = values[row]
                    equal = feature.contains("_min_") || feature.contains("_max_") || feature.contains("_first_") || feature.hasPrefix("epoch_")
                        ? g == w : abs(g - w) <= 1e-9 * max(1, abs(w))
                } else if feature.contains("_approx_count_distinct_"), let g = got.flatMap({ Int($0) }), let w = wanted.flatMap({ Int($0) }) {
                    // A sketch: within its error of the exact distinct count (at most 300 riders here: the
                    // linear-counting range, where it is within a few units).
                    equal = abs(g - w) <= max(2, w / 20)
                } else {
                    equal = got == wanted
                }
                if !equal { mismatches.append("\(feature) row \(row): ours \(got ?? "null"), DuckDB \(wanted ?? "null")") }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(10).joined(separator: "; "))")
    }
}
