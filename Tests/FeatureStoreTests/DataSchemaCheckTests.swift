import TestKinds
import Columnar
import Foundation
import Parquet
import Testing
@testable import FeatureStoreCore

@Suite("Definitions checked against their data", .timeLimit(.minutes(5)))
struct DataSchemaCheckTests {
    /// A repository with `base` definitions and, when given, a data file for `stats_source`.
    func repository(data: Table?) throws -> TemporaryDirectory {
        let dir = TemporaryDirectory()
        try dir.write("feature_store.yaml", "project: demo\n")
        try dir.write("defs.yaml", base)
        if let data {
            try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("data"), withIntermediateDirectories: true)
            try ParquetFileWriter.write(data, to: dir.url.appendingPathComponent("data/stats.parquet").path)
        }
        return dir
    }

    func compileErrors(_ dir: TemporaryDirectory) -> [String] {
        do {
            _ = try DefinitionCompiler.compile(repository: dir.url, kinds: testKinds)
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    @Test("data that matches the definitions compiles")
    func matchingData() throws {
        let dir = try repository(data: try Table([
            ("driver_id", Column(int64: [1, 2])),
            ("event_timestamp", Column(timestamps: [10, 20])),
            ("conv_rate", Column(float32: [0.5, 0.25])),
        ]))
        #expect(compileErrors(dir).isEmpty)
        let registry = try DefinitionCompiler.compile(repository: dir.url, kinds: testKinds)
        #expect(DefinitionCompiler.sourcesWithoutData(registry, repository: dir.url, kinds: testKinds).isEmpty)
    }

    @Test("a source without data yet is not checked, and is listed as such")
    func missingData() throws {
        let dir = try repository(data: nil)
        let registry = try DefinitionCompiler.compile(repository: dir.url, kinds: testKinds)
        #expect(DefinitionCompiler.sourcesWithoutData(registry, repository: dir.url, kinds: testKinds) == ["stats_source"])
    }

    @Test("a missing timestamp column, a missing join key and a feature of the wrong type are reported where they are defined")
    func mismatchedData() throws {
        let dir = try repository(data: try Table([
            ("driver", Column(int64: [1, 2])),
            ("ts", Column(timestamps: [10, 20])),
            ("conv_rate", Column(strings: ["a", "b"])),
        ]))
        #expect(compileErrors(dir) == [
            "defs.yaml:10:22: error: source 'stats_source' has no column 'event_timestamp' in data/stats.parquet; its columns: driver, ts, conv_rate",
            "defs.yaml:14:13: error: join key 'driver_id' of feature view 'stats' is not a column of source 'stats_source' (data/stats.parquet); did you mean 'driver'?; its columns: driver, ts, conv_rate",
            "defs.yaml:17:15: error: feature 'conv_rate' of feature view 'stats' is declared float32, but column 'conv_rate' of source 'stats_source' is string",
        ])
    }

    @Test("a field mapping renames source columns to features")
    func fieldMapping() throws {
        let dir = try repository(data: try Table([
            ("driver_id", Column(int64: [1])),
            ("event_timestamp", Column(timestamps: [10])),
            ("conversion", Column(float32: [0.5])),
        ]))
        #expect(compileErrors(dir).count == 1)
        try dir.write("defs.yaml", base.replacingOccurrences(of: "    timestamp_field: event_timestamp\n", with: "    timestamp_field: event_timestamp\n    field_mapping: {conversion: conv_rate}\n"))
        #expect(compileErrors(dir).isEmpty)
    }
}
