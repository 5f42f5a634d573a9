import TestKinds
import Columnar
import Foundation
import Parquet
import Testing
@testable import FeatureStoreCore

@Suite("Point-in-time join against DuckDB", .timeLimit(.minutes(5)))
struct DifferentialJoinTests {
    static let definitions = """
        entities:
          - name: driver
            join_keys: [{name: driver_id, type: int64}]
          - name: zone_driver
            join_keys: [{name: region, type: string}, {name: driver_id, type: int64}]
        sources:
          - {name: feat, kind: parquet, path: data/feat.parquet, timestamp_field: event_ts, created_timestamp_field: created_ts}
          - name: feat2
            kind: parquet
            path: data/feat2.parquet
            timestamp_field: event_ts
            created_timestamp_field: created_ts
            field_mapping: {val_raw: value}
        feature_views:
          - {name: windowed, entities: [driver], source: feat, ttl: 10m, features: [{name: value, type: float64}]}
          - {name: unbounded, entities: [driver], source: feat, ttl: 0, features: [{name: value, type: float64}]}
          - {name: zone_windowed, entities: [zone_driver], source: feat2, ttl: 10m, features: [{name: value, type: float64}]}
          - {name: zone_unbounded, entities: [zone_driver], source: feat2, ttl: 0, features: [{name: value, type: float64}]}

        """

    @Test("random tables with ties, ttl edges and nulls join exactly as DuckDB's ASOF join with the tie-break", arguments: [1, 2, 3, 4, 5])
    func matchesDuckDB(seed: Int) async throws {
        try await compare(seed: seed, shape: "simple", views: ("windowed", "unbounded"))
    }

    @Test("composite string+int keys, a field mapping, microsecond times, (event, created) ties broken by the greater encoded row, and 80,000 entity rows (the multi-threaded path) join as DuckDB does", arguments: [11, 12])
    func compositeKeysMatchDuckDB(seed: Int) async throws {
        try await compare(seed: seed, shape: "composite", views: ("zone_windowed", "zone_unbounded"))
    }

    func compare(seed: Int, shape: String, views: (windowed: String, unbounded: String)) async throws {
        let dir = TemporaryDirectory()
        try dir.write("feature_store.yaml", "project: differential\n")
        try dir.write("defs.yaml", Self.definitions)
        let data = dir.url.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try runScript("Differential/asof_expected.py", [data.path, String(seed), shape])
        // The other shape's file is absent: only the views read here need data.
        let store = try FeatureStore(repository: dir.url, kinds: testKinds)
        let out = try await store.joinFeatures(entities: .parquet(data.appendingPathComponent("entities.parquet").path),
                                         features: .references([FeatureReference(view: views.windowed), FeatureReference(view: views.unbounded)]),
                                         options: JoinOptions(fullFeatureNames: true))
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: data.appendingPathComponent("expected.json"))) as? [String: [Any]])
        guard case .int64(let rids) = try #require(out.column(named: "rid")).values else {
            Issue.record("rid is not int64")
            return
        }
        for (column, key) in [("\(views.windowed)__value", "ttl600"), ("\(views.unbounded)__value", "ttl0")] {
            let got = doubles(out, column)
            let wantColumn = try #require(expected[key])
            var want: [Double?] = []
            for item in wantColumn {
                if item is NSNull { want.append(nil); continue }
                want.append(try #require((item as? String).flatMap(Double.init), "DuckDB's value \(item) is a float's repr"))
            }
            try #require(got.count == want.count && got.count == rids.count)
            var mismatches: [String] = []
            for (i, rid) in rids.enumerated() where got[i] != want[Int(rid)] {
                mismatches.append("rid \(rid): \(String(describing: got[i])) vs DuckDB \(String(describing: want[Int(rid)]))")
            }
            #expect(mismatches.isEmpty, "\(column), seed \(seed): \(mismatches.count) mismatches: \(mismatches.prefix(5))")
            #expect(got.contains { $0 != nil } && got.contains { $0 == nil }, "the case should have matches and misses")
        }
    }
}

/// Runs a Python script of this test folder with the test venv's Python.
func runScript(_ script: String, _ arguments: [String]) throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let python = ProcessInfo.processInfo.environment["FEATURESTORE_PYTHON"] ?? root.appendingPathComponent(".venv/bin/python").path
    guard FileManager.default.isExecutableFile(atPath: python) else {
        throw JoinError("no Python at \(python): run `bash scripts/setup` (it makes .venv with pyarrow and duckdb)")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [root.appendingPathComponent("Tests/FeatureStoreTests/\(script)").path] + arguments
    let err = Pipe()
    process.standardError = err
    try process.run()
    let message = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw JoinError("\(script) failed: \(String(decoding: message, as: UTF8.self))")
    }
}
