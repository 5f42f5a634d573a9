import Columnar
import FeatureStoreCore
import FeatureStoreTesting
import Foundation
import Parquet
import SparkOfflineEngine
import TestKinds
import Synchronization
import Testing

/// Where the Spark tests find Spark: the project's venv (scripts/setup --spark puts pyspark there) and a Java 17.
enum SparkTestSetup {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var python: String { ProcessInfo.processInfo.environment["SPARK_TEST_PYTHON"] ?? root.appendingPathComponent(".venv/bin/python").path }

    /// Whether a Java is installed (the only reason the Spark tests may be skipped).
    static let javaInstalled: Bool = {
        if let home = ProcessInfo.processInfo.environment["JAVA_HOME"], FileManager.default.isExecutableFile(atPath: home + "/bin/java") { return true }
        return (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/java") }
    }()

    /// The engine's block in feature_store.yaml: local[2], three partitions, the venv's Python.
    static func yaml(_ extra: String = "") -> String {
        "offline_store: {kind: spark, master: \"local[2]\", partitions: 3, python: \"\(python)\"\(extra)}\n"
    }

    static func settings(_ extra: [String: String] = [:]) -> StoreSettings {
        StoreSettings(kind: "spark", values: ["master": "local[2]", "partitions": "3", "python": python].merging(extra) { $1 })
    }

    static func engine(_ folder: URL, _ extra: [String: String] = [:]) throws -> any OfflineEngine {
        try SparkOfflineEngineKind().open(settings(extra), repository: folder)
    }

    static func temporaryFolder(_ name: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("spark-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// The bytes of `table` written as Parquet: two tables are equal, bit for bit and type for type, when these are.
    static func bytes(_ table: Table) throws -> Data {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("spark-cmp-\(UUID().uuidString).parquet")
        defer { try? FileManager.default.removeItem(at: file) }
        try ParquetFileWriter.write(table, to: file.path)
        return try Data(contentsOf: file)
    }
}

private let skipReason: Comment = "Java is not installed here, so Spark cannot run (scripts/setup --spark installs openjdk-17-jre-headless)"

/// The Spark engine against the conformance suite every offline engine passes (one JVM for all checks).
@Suite("SparkOfflineEngine conforms to the offline engine suite", .serialized, .enabled(if: SparkTestSetup.javaInstalled, skipReason), .timeLimit(.minutes(10)))
struct SparkOfflineEngineConformanceTests {
    @Test(arguments: OfflineEngineConformance.checks)
    func conforms(_ check: OfflineEngineConformance.Check) async throws {
        let folder = try SparkTestSetup.temporaryFolder("conformance")
        defer { try? FileManager.default.removeItem(at: folder) }
        try await check.run { try SparkTestSetup.engine(folder) }
    }
}

/// The example repository on Spark and on the embedded engine.
@Suite("SparkOfflineEngine on the example repository", .serialized, .enabled(if: SparkTestSetup.javaInstalled, skipReason), .timeLimit(.minutes(10)))
struct SparkExampleTests {
    /// The example's data, written once per run by `featurectl sample-data` with a fixed end (features/data/ is
    /// generated, not committed: a fresh clone has none, and a developer's may be of any age).
    static let sampleData = SampleDataOnce()

    /// The sample data's last moment: tests materialize and look up at it, so nothing they compare follows the clock.
    static let sampleEnd = "2026-11-30T12:00:00Z"
    static let sampleEndMicros = Int64(ISO8601DateFormatter().date(from: sampleEnd)!.timeIntervalSince1970) * 1_000_000

    /// A copy of features/ (without its generated data/) holding the sample data, with the Spark engine (`spark`) or
    /// the local one.
    static func example(spark: Bool) async throws -> URL {
        let data = try await sampleData.folder()
        let folder = try SparkTestSetup.temporaryFolder("example")
        let repo = folder.appendingPathComponent("features")
        try copyDefinitions(to: repo)
        try FileManager.default.copyItem(at: data, to: repo.appendingPathComponent("data"))
        let yaml = repo.appendingPathComponent("feature_store.yaml")
        var text = try String(contentsOf: yaml, encoding: .utf8)
        if spark {
            text = text.replacingOccurrences(of: "offline_store:\n  kind: local\n  path: data\n", with: SparkTestSetup.yaml())
        }
        try text.write(to: yaml, atomically: true, encoding: .utf8)
        return repo
    }

    /// features/ without its generated data/ copied to `repo`.
    static func copyDefinitions(to repo: URL) throws {
        try FileManager.default.createDirectory(at: repo, withIntermediateDirectories: true)
        let source = SparkTestSetup.root.appendingPathComponent("features")
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path) where name != "data" {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: repo.appendingPathComponent(name))
        }
    }

    /// featurectl next to the test binary.
    static var featurectl: URL {
        Bundle.main.executableURL!.resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("featurectl")
    }

    /// Writes the sample data on first use into a scratch copy of features/ and hands out its data/ folder.
    actor SampleDataOnce {
        private var made: Task<URL, any Error>?

        func folder() async throws -> URL {
            if let made { return try await made.value }
            let task = Task<URL, any Error> {
                let folder = try SparkTestSetup.temporaryFolder("sample-data")
                let repo = folder.appendingPathComponent("features")
                try SparkExampleTests.copyDefinitions(to: repo)
                let run = try await SparkExampleTests.run(SparkExampleTests.featurectl,
                                                          ["sample-data", "--repo", repo.path, "--end", SparkExampleTests.sampleEnd])
                guard run.status == 0 else { throw SampleDataFailed(output: run.output) }
                return repo.appendingPathComponent("data")
            }
            made = task
            return try await task.value
        }
    }

    struct SampleDataFailed: Error, CustomStringConvertible {
        let output: String
        var description: String { "featurectl sample-data failed: \(output)" }
    }

    @Test("a training set on Spark equals the embedded engine's, bit for bit: plain, aggregated, derived and on-demand features")
    func trainingSetEqualsEmbedded() async throws {
        let local = try FeatureStore(repository: try await Self.example(spark: false), kinds: testKinds)
        let spark = try FeatureStore(repository: try await Self.example(spark: true), kinds: testKinds)
        #expect(spark.offlineEngineSettings.kind == "spark")
        var joined = 0
        for service in local.registry.featureServices.map(\.name) {
            let entities = EntityRows.parquet(local.repository.appendingPathComponent("data/entities.parquet").path)
            // Services over other entities (routes) need other entity rows: the embedded engine refuses them too.
            guard let expected = try? await local.joinFeatures(entities: entities, features: .service(service), options: JoinOptions(fullFeatureNames: true)) else { continue }
            joined += 1
            let stages = StageCounter()
            var options = JoinOptions(fullFeatureNames: true)
            options.progress = { p in if p.stage == .cluster { stages.saw(p.rows, p.totalRows) } }
            let got = try await spark.joinFeatures(entities: entities, features: .service(service), options: options)
            #expect(got.schema == expected.schema, "service \(service)")
            #expect(try SparkTestSetup.bytes(got) == SparkTestSetup.bytes(expected), "service \(service)")
            #expect(stages.reports > 0, "progress from Spark's status for service \(service)")
        }
        #expect(joined >= 1)
    }

    @Test("materialize on Spark leaves the online store as the embedded engine does: latest rows and tiles")
    func materializeEqualsEmbedded() async throws {
        let local = try FeatureStore(repository: try await Self.example(spark: false), kinds: testKinds)
        let spark = try FeatureStore(repository: try await Self.example(spark: true), kinds: testKinds)
        try await local.apply()
        try await spark.apply()
        // Up to the data's end, not the clock's: tile retention and the cut then follow `end`, the same for both runs
        // (with the clock they moved by an hour when one passed between the runs, and kept no tiles once the data aged).
        let start = Int64(1_700_000_000) * 1_000_000, end = Self.sampleEndMicros
        let a = try await local.materialize(start: start, end: end)
        let stages = StageCounter()
        let b = try await spark.materialize(start: start, end: end) { p in if p.stage == "cluster" { stages.saw(p.rows, p.totalRows) } }
        #expect(stages.reports > 0, "progress from Spark's status while materializing")
        #expect(a.allSatisfy { $0.rowsWritten > 0 }, "every view wrote rows: \(a.map(\.rowsWritten))")
        #expect(a.map(\.rowsWritten) == b.map(\.rowsWritten))
        #expect(a.map(\.rowsRead) == b.map(\.rowsRead))
        let entities = try ParquetDataset(path: local.repository.appendingPathComponent("data/entities.parquet").path).read()
        for service in local.registry.featureServices.map(\.name) {
            var keys: [String: [OnlineValue]] = [:]
            for name in ["driver_id", "customer_id"] {
                if let column = entities.column(named: name) { keys[name] = (0..<min(200, column.count)).map { column.onlineValue(at: $0, as: .scalar(.int64)) } }
            }
            guard let x = try? await local.getOnlineFeatures(entities: keys, features: .service(service), at: Self.sampleEndMicros) else { continue }
            let y = try await spark.getOnlineFeatures(entities: keys, features: .service(service), at: Self.sampleEndMicros)
            #expect(x.columns.contains { $0.statuses.contains(.present) }, "service \(service) found values")
            #expect(x.columns.map(\.values) == y.columns.map(\.values), "service \(service)")
            #expect(x.columns.map(\.statuses) == y.columns.map(\.statuses), "service \(service)")
        }
    }

    @Test("featurectl join --engine spark on the example writes the same training set file as the embedded engine, and --explain prints SQL")
    func featurectlJoinOnSpark() async throws {
        let repo = try await Self.example(spark: false)
        let bin = Self.featurectl
        let entities = repo.appendingPathComponent("data/entities.parquet").path
        let embedded = repo.appendingPathComponent("embedded.parquet").path, spark = repo.appendingPathComponent("spark.parquet").path
        let common = ["join", "--repo", repo.path, "--entities", entities, "--service", "driver_ranking_v1"]
        let a = try await Self.run(bin, common + ["--engine", "embedded", "--out", embedded])
        let b = try await Self.run(bin, common + ["--engine", "spark", "--out", spark])
        #expect(a.status == 0 && b.status == 0, "\(a.output) \(b.output)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: embedded)) == Data(contentsOf: URL(fileURLWithPath: spark)))
        let explain = try await Self.run(bin, common + ["--engine", "spark", "--explain"])
        #expect(explain.status == 0 && explain.output.contains("pmod(xxhash64(") && explain.output.contains("FROM featurestore_source_") && explain.output.contains(".parquet(\"file:"), "\(explain.output)")
        let wrong = try await Self.run(bin, common + ["--engine", "sparc", "--out", spark])
        #expect(wrong.status != 0 && wrong.output.contains("--engine 'sparc' must be spark or embedded"), "\(wrong.output)")
    }

    /// Runs `bin` with the venv's Python as PYSPARK_PYTHON, on a thread of its own; status and both outputs.
    static func run(_ bin: URL, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    let process = Process()
                    process.executableURL = bin
                    process.arguments = arguments
                    process.environment = ProcessInfo.processInfo.environment.merging(["PYSPARK_PYTHON": SparkTestSetup.python]) { $1 }
                    let log = FileManager.default.temporaryDirectory.appendingPathComponent("featurectl-spark-\(UUID().uuidString).txt")
                    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
                    defer { try? FileManager.default.removeItem(at: log) }
                    let handle = try FileHandle(forWritingTo: log)
                    process.standardOutput = handle
                    process.standardError = handle
                    try process.run()
                    process.waitUntilExit()
                    return (process.terminationStatus, try String(contentsOf: log, encoding: .utf8))
                })
            }.start()
        }
    }

    @Test("joins run at once share one Spark session, and each gets its own answer")
    func concurrentJoinsGetTheirOwnAnswers() async throws {
        let local = try FeatureStore(repository: try await Self.example(spark: false), kinds: testKinds)
        let spark = try FeatureStore(repository: try await Self.example(spark: true), kinds: testKinds)
        let entities = EntityRows.parquet(local.repository.appendingPathComponent("data/entities.parquet").path)
        let selections: [FeatureSelection] = [.service("driver_ranking_v1"), .references([FeatureReference(view: "driver_stats")]),
                                              .references([FeatureReference(view: "driver_trips")])]
        let got = try await withThrowingTaskGroup(of: (Int, Table).self) { group in
            for (i, selection) in selections.enumerated() {
                group.addTask { (i, try await spark.joinFeatures(entities: entities, features: selection)) }
            }
            var tables: [Int: Table] = [:]
            for try await (i, table) in group { tables[i] = table }
            return tables
        }
        for (i, selection) in selections.enumerated() {
            let expected = try await local.joinFeatures(entities: entities, features: selection)
            #expect(try SparkTestSetup.bytes(got[i]!) == SparkTestSetup.bytes(expected), "selection \(i)")
        }
    }

    @Test("explain prints the generated SQL of each view without running it")
    func explainPrintsSQL() async throws {
        let spark = try FeatureStore(repository: try await Self.example(spark: true), kinds: testKinds)
        let entities = EntityRows.parquet(spark.repository.appendingPathComponent("data/entities.parquet").path)
        let plans = try await spark.explainJoin(entities: entities, features: .service("driver_ranking_v1"))
        #expect(!plans.isEmpty)
        for (view, plan) in plans {
            let text = try #require(plan, "view \(view)")
            #expect(text.contains("SELECT") && text.contains("xxhash64") && text.contains("FROM featurestore_source_") && text.contains(".parquet(\"file:"), "view \(view)")
            #expect(!text.contains("CROSS JOIN") && !text.contains("row_number"), "no join-then-rank for view \(view)")
        }
    }
}

/// Layouts and types real lakes hold, written by pyarrow: each view's training set on Spark equals the embedded
/// engine's, bit for bit.
@Suite("SparkOfflineEngine on data written by pyarrow", .serialized, .enabled(if: SparkTestSetup.javaInstalled, skipReason), .timeLimit(.minutes(10)))
struct SparkLayoutTests {
    static let generator = #"""
import os, sys
import pyarrow as pa, pyarrow.parquet as pq
root = sys.argv[1]
os.makedirs(root + "/data", exist_ok=True)
us = [-86_400_000_000 * 400, 0, 1_000_000, 1_000_000, 3_600_000_000, 86_400_000_000 * 20_000]
keys = [1, 2, 1, 1, 2, 3]
vals = [0.5, float("nan"), -0.0, 2.5, float("inf"), None]
def table(ts):
    return pa.table({"k": pa.array(keys, pa.uint32()), "ts": ts, "x": pa.array(vals, pa.float64()),
                     "ms": pa.array([u // 1000 for u in us], pa.timestamp("ms", tz="UTC"))})
pq.write_table(table(pa.array([u * 1000 for u in us[:5]] + [None], pa.timestamp("ns", tz="UTC"))), root + "/data/nanos.parquet")
pq.write_table(table(pa.array([u * 1000 for u in us[:5]] + [None], pa.timestamp("ns"))), root + "/data/int96.parquet", use_deprecated_int96_timestamps=True)
pq.write_table(table(pa.array(us, pa.timestamp("us"))), root + "/data/naive.parquet")
pq.write_table(table(pa.array(us, pa.timestamp("us", tz="UTC"))), root + "/data/single.pq")  # a file named without .parquet
pq.write_table(table(pa.array([u // 86_400_000_000 for u in us], pa.date32())), root + "/data/dates.parquet")
for zone in ["01234", "1.50"]:
    os.makedirs(f"{root}/data/hive/zone={zone}", exist_ok=True)
    pq.write_table(table(pa.array(us, pa.timestamp("us", tz="UTC"))), f"{root}/data/hive/zone={zone}/part-0.parquet")
    # A file the local engine does not read (no .parquet name), which Spark would read too unless told.
    pq.write_table(table(pa.array(us, pa.timestamp("us", tz="UTC"))).slice(0, 1), f"{root}/data/hive/zone={zone}/000000_0")
pq.write_table(pa.table({"k": pa.array([1, 2, 3, 1, None], pa.uint32()),
                         "event_timestamp": pa.array([2_000_000, 4_000_000_000, 86_400_000_000 * 20_001, -86_400_000_000 * 300, 5], pa.timestamp("us", tz="UTC"))}),
                root + "/data/entities.parquet")
views = ["nanos", "int96", "naive", "dates", "single"]
named = {"single": "data/single.pq"}
with open(root + "/defs.yaml", "w") as f:
    f.write("entities:\n  - {name: e, join_keys: [{name: k, type: int64}]}\nsources:\n")
    for v in views:
        f.write(f"  - {{name: {v}_src, kind: parquet, path: {named.get(v, 'data/' + v + '.parquet')}, timestamp_field: ts}}\n")
    f.write("  - {name: hive_src, kind: parquet, path: data/hive, timestamp_field: ts}\n")
    f.write("feature_views:\n")
    for v in views:
        f.write(f"  - {{name: {v}, entities: [e], source: {v}_src, ttl: 0s, features: [{{name: x, type: float64}}, {{name: ms, type: timestamp}}]}}\n")
    f.write("  - {name: hive, entities: [e], source: hive_src, ttl: 0s, features: [{name: x, type: float64}, {name: zone, type: string}]}\n")
    f.write("  - name: hive_agg\n    entities: [e]\n    source: hive_src\n    aggregations:\n")
    f.write("      - {function: sum, column: x, type: float64, windows: [1d, 3650d]}\n      - {function: approx_count_distinct, column: zone, type: string, windows: [3650d]}\n")
"""#

    @Test("nanosecond, INT96, zone-less, date and millisecond times, unsigned keys, Hive partitions, stray files and a file named without .parquet: Spark's training set equals the embedded engine's (read as local files, and as Spark reads remote ones)",
          arguments: [false, true])
    func layoutsAgree(asRemote: Bool) async throws {
        let folder = try SparkTestSetup.temporaryFolder("layouts")
        let script = folder.appendingPathComponent("generate.py")
        try Self.generator.write(to: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: SparkTestSetup.python)
        process.arguments = [script.path, folder.path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        var stores: [FeatureStore] = []
        for spark in [false, true] {
            // A session zone west of UTC in conf: ours stays UTC (dates and zone-less times are compared as UTC).
            let remote = asRemote ? ", conf: {spark.featurestore.localAsRemote: \"true\", spark.sql.session.timeZone: America/Los_Angeles}" : ""
            try "project: layouts\n\(spark ? SparkTestSetup.yaml(remote) : "")".write(to: folder.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
            stores.append(try FeatureStore(repository: folder, kinds: testKinds))
        }
        let entities = EntityRows.parquet(folder.appendingPathComponent("data/entities.parquet").path)
        for view in ["nanos", "int96", "naive", "dates", "single", "hive", "hive_agg"] {
            let selection = FeatureSelection.references([FeatureReference(view: view)])
            let expected = try await stores[0].joinFeatures(entities: entities, features: selection)
            let got = try await stores[1].joinFeatures(entities: entities, features: selection)
            #expect(got.schema == expected.schema, "view \(view): \(got.schema) vs \(expected.schema)")
            #expect(try SparkTestSetup.bytes(got) == SparkTestSetup.bytes(expected), "view \(view)")
        }
        // No entity rows: the same empty, typed columns.
        let none = try Table([("k", Column(.uint32, int64: [])), ("event_timestamp", Column(timestamps: []))])
        for view in ["nanos", "int96", "hive"] {
            let selection = FeatureSelection.references([FeatureReference(view: view)])
            let expected = try await stores[0].joinFeatures(entities: .table(none), features: selection)
            let got = try await stores[1].joinFeatures(entities: .table(none), features: selection)
            #expect(got.schema == expected.schema, "no entity rows, view \(view): \(got.schema) vs \(expected.schema)")
        }
        // Whether a source has data is asked of Spark for a remote path.
        let engine = try stores[1].offlineEngine()
        let source = try #require(stores[1].registry.sources.first { $0.name == "nanos_src" })
        #expect(try await engine.hasData(source))
        var missing = source
        missing.settings["path"] = "data/nothing-here"
        #expect(try await engine.hasData(missing) == false)
    }
}

final class StageCounter: Sendable {
    private let count = Mutex(0)
    func saw(_ done: Int, _ total: Int) { if total > 0 && done <= total { count.withLock { $0 += 1 } } }
    var reports: Int { count.withLock { $0 } }
}

/// What a user sees when Spark cannot run or a job fails: what to install, or the job's own error.
@Suite("SparkOfflineEngine errors", .serialized, .enabled(if: SparkTestSetup.javaInstalled, skipReason), .timeLimit(.minutes(10)))
struct SparkErrorTests {
    static let view = FeatureView(name: "stats", entities: ["driver"], source: "events", ttl: TimeSpan(seconds: 0),
                                  features: [Feature(name: "conv", type: .scalar(.float64))])
    static let source = DataSource(name: "events", kind: "parquet", settings: ["path": "events.parquet"], timestampField: "ts")

    static func join(_ engine: any OfflineEngine) async throws -> [Column] {
        try await engine.pointInTimeJoin(PointInTimeRequest(
            view: view, source: source, joinKeys: [JoinKey(name: "driver_id", type: .int64)], features: view.features,
            entityKeys: [Column(int64: [1, 2])], entityTimes: [2_000_000, 3_000_000], entityTimesValid: nil))
    }

    static func message(_ body: () async throws -> Void) async -> String {
        do {
            try await body()
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test("no Java: the error says to install openjdk-17-jre-headless or set JAVA_HOME")
    func missingJavaSaysWhatToInstall() async throws {
        let folder = try SparkTestSetup.temporaryFolder("nojava")
        let text = await Self.message { _ = try await Self.join(try SparkTestSetup.engine(folder, ["java_home": "/nonexistent/jdk"])) }
        #expect(text.contains("openjdk-17-jre-headless") && text.contains("JAVA_HOME"), "\(text)")
    }

    @Test("a Python without pyspark: the error names it and the pip command")
    func missingPySparkSaysWhatToInstall() async throws {
        let folder = try SparkTestSetup.temporaryFolder("nopyspark")
        // A Python that sees no site-packages.
        let wrapper = folder.appendingPathComponent("python-bare")
        try "#!/bin/sh\nexec /usr/bin/python3 -S \"$@\"\n".write(to: wrapper, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper.path)
        let text = await Self.message { _ = try await Self.join(try SparkTestSetup.engine(folder, ["python": wrapper.path])) }
        #expect(text.contains("pip install pyspark"), "\(text)")
    }

    @Test("a damaged source file: the job's own error, without the JVM's stack")
    func failedJobShowsItsError() async throws {
        let folder = try SparkTestSetup.temporaryFolder("damaged")
        try Data("PAR1 this is not a parquet file PAR1".utf8).write(to: folder.appendingPathComponent("events.parquet"))
        let text = await Self.message { _ = try await Self.join(try SparkTestSetup.engine(folder)) }
        #expect(!text.isEmpty)
        #expect(!text.contains("\tat ") && !text.contains("at org.apache"), "\(text)")
        #expect(text.count < 2_500, "\(text)")
    }

    @Test("a partition's fold that fails: its error (the column and feature), not a stack")
    func failedFoldShowsItsError() async throws {
        let folder = try SparkTestSetup.temporaryFolder("fold")
        try ParquetFileWriter.write(try Table([
            ("driver_id", Column(int64: [1, 2])), ("ts", Column(timestamps: [1_000_000, 1_000_000])), ("conv", Column(strings: ["a", "b"])),
        ]), to: folder.appendingPathComponent("events.parquet").path)
        let text = await Self.message { _ = try await Self.join(try SparkTestSetup.engine(folder)) }
        #expect(text.contains("featurestore-fold failed on a partition") && text.contains("conv"), "\(text)")
    }
}
