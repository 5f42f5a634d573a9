import Foundation
import Testing

/// The package root (three levels above this file).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The built products folder: where the test bundle runs from, or the default debug build folder.
let productsDirectory: URL = {
    let candidates = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
        Bundle.main.bundleURL,
        Bundle.main.bundleURL.deletingLastPathComponent(),
        packageRoot.appendingPathComponent(".build/debug"),
    ]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("featurectl").path) }
        ?? packageRoot.appendingPathComponent(".build/debug")
}()

struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the built `featurectl` with `arguments` in `directory`, waiting on this thread (for static initializers and
/// threads of their own; async tests call ``featurectl(_:in:)``).
func featurectlBlocking(_ arguments: [String], in directory: URL? = nil) throws -> RunResult {
    try runProcess(productsDirectory.appendingPathComponent("featurectl"), arguments, in: directory)
}

/// Runs the built `featurectl` with `arguments` in `directory`. The wait runs on a thread of its own, not on Swift's
/// cooperative pool: two cores make two pool threads, and a test blocking one for a long command starves every
/// other test of the suite (servers, lookups) until it ends.
func featurectl(_ arguments: [String], in directory: URL? = nil) async throws -> RunResult {
    try await offPool { try featurectlBlocking(arguments, in: directory) }
}

/// Runs `body` on a thread of its own and waits for it without holding a cooperative thread.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Runs `executable` with `arguments` in `directory` and collects its exit status and output. A process still running
/// after `timeout` seconds is killed and reported as an error (a hung command fails its test; it never hangs the suite).
func runProcess(_ executable: URL, _ arguments: [String], in directory: URL? = nil, timeout: TimeInterval = 300) throws -> RunResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    // Output goes to files, so a large output can never block the child on a full pipe.
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("featurectl-run-\(UUID().uuidString)")
    let outURL = scratch.appendingPathExtension("out"), errURL = scratch.appendingPathExtension("err")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw ProcessTimeout(command: ([executable.lastPathComponent] + arguments).joined(separator: " "), seconds: timeout)
    }
    process.waitUntilExit()
    return RunResult(status: process.terminationStatus,
                     stdout: try String(contentsOf: outURL, encoding: .utf8),
                     stderr: try String(contentsOf: errURL, encoding: .utf8))
}

struct ProcessTimeout: Error, CustomStringConvertible {
    var command: String
    var seconds: TimeInterval
    var description: String { "`\(command)` did not finish within \(Int(seconds)) s and was killed" }
}

/// A copy of the example repository in a fresh temporary folder (without generated data).
func copyOfExample() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("featurectl-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let example = packageRoot.appendingPathComponent("features")
    for name in try FileManager.default.contentsOfDirectory(atPath: example.path) where name != "data" {
        try FileManager.default.copyItem(at: example.appendingPathComponent(name), to: dir.appendingPathComponent(name))
    }
    return dir
}

@Suite("featurectl end to end", .serialized, .timeLimit(.minutes(10)))
struct FeatureCtlTests {
    @Test("validate, plan, apply, catalog list and show work on the example repository")
    func exampleRepositoryWorkflow() async throws {
        let repo = try copyOfExample()
        defer { try? FileManager.default.removeItem(at: repo) }

        let validate = try await featurectl(["validate", "--repo", repo.path])
        #expect(validate.status == 0)
        #expect(validate.stdout == """
            'ride_hailing' is valid: 3 entities, 7 sources, 5 feature views, 2 feature services.
            Not checked against data (none yet): customer_profile_source, driver_activity_source, driver_stats_source, route_stats_source, trips_log.

            """)

        let plan = try await featurectl(["plan", "--repo", repo.path])
        #expect(plan.status == 0)
        #expect(plan.stdout.contains("  + feature_view driver_stats\n"))
        #expect(plan.stdout.hasSuffix("18 to add, 0 to change, 0 to remove.\n"))

        #expect(try await featurectl(["apply", "--repo", repo.path]).status == 0)
        let again = try await featurectl(["apply", "--repo", repo.path])
        #expect(again.stdout == "Nothing to apply: the catalog of 'ride_hailing' matches the definitions.\n")

        let list = try await featurectl(["catalog", "list", "--kind", "view", "--repo", repo.path])
        #expect(list.status == 0)
        let names = list.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: " ")[1] }
        #expect(names == ["customer_profile", "driver_activity", "driver_stats", "driver_trips", "route_stats"])

        let show = try await featurectl(["catalog", "show", "driver_stats", "--repo", repo.path])
        #expect(show.status == 0)
        #expect(show.stdout.contains("acc_rate         float32  Acceptance rate"))
        #expect(show.stdout.contains("used by      driver_ranking_v1, trip_eta_v1"))
        #expect(show.stdout.contains("HISTORY"))
    }

    @Test("read commands print JSON with --json")
    func jsonOutput() async throws {
        let repo = try copyOfExample()
        defer { try? FileManager.default.removeItem(at: repo) }
        let plan = try await featurectl(["plan", "--json", "--repo", repo.path])
        let planObject = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any]
        #expect((planObject?["changes"] as? [Any])?.count == 18)
        _ = try await featurectl(["apply", "--repo", repo.path])

        let list = try await featurectl(["catalog", "list", "--json", "--search", "acceptance", "--repo", repo.path])
        let rows = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.map { $0["name"] as? String } == ["driver_stats", "trip_request"], "the view, and the on-demand view whose feature reads the acceptance rate")

        let show = try await featurectl(["catalog", "show", "route", "--json", "--repo", repo.path])
        let object = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any]
        #expect(object?["kind"] as? String == "entity")
        #expect(((object?["definition"] as? [String: Any])?["join_keys"] as? [Any])?.count == 2)
        #expect((object?["history"] as? [Any])?.count == 1)

        let validate = try await featurectl(["validate", "--json", "--repo", repo.path])
        let report = try JSONSerialization.jsonObject(with: Data(validate.stdout.utf8)) as? [String: Any]
        #expect(report?["valid"] as? Bool == true)
    }

    @Test("a misspelled reference is reported with its file and line, and every command exits 1")
    func misspelledReference() async throws {
        let repo = try copyOfExample()
        defer { try? FileManager.default.removeItem(at: repo) }
        let file = repo.appendingPathComponent("services.yaml")
        let text = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: "- route_stats\n", with: "- route_stat\n")
        try text.write(to: file, atomically: true, encoding: .utf8)
        for command in [["validate"], ["plan"], ["apply"]] {
            let result = try await featurectl(command + ["--repo", repo.path])
            #expect(result.status == 1)
            #expect(result.stderr == """
                services.yaml:27:9: error: unknown feature view 'route_stat' in feature service 'trip_eta_v1'; did you mean 'route_stats'?
                1 error found

                """)
        }
        let json = try await featurectl(["validate", "--json", "--repo", repo.path])
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let first = (report?["errors"] as? [[String: Any]])?.first
        #expect(first?["file"] as? String == "services.yaml")
        #expect(first?["line"] as? Int == 27)
    }

    @Test("init scaffolds a repository that validates, applies and lists")
    func initScaffold() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("featurectl-init-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let created = try await featurectl(["init", "churn"], in: dir)
        #expect(created.status == 0)
        let repo = dir.appendingPathComponent("churn")
        #expect(try await featurectl(["validate", "--repo", repo.path]).status == 0)
        #expect(try await featurectl(["apply", "--repo", repo.path]).status == 0)
        let list = try await featurectl(["catalog", "list", "--repo", repo.path])
        #expect(list.stdout.contains("churn_model_v1"))

        let again = try await featurectl(["init", "churn"], in: dir)
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists and is not empty"))
        let bad = try await featurectl(["init", "my-project"], in: dir)
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("'my-project' is not a valid project name"))
    }

    @Test("catalog commands before apply and on unknown names explain what to do")
    func catalogErrors() async throws {
        let repo = try copyOfExample()
        defer { try? FileManager.default.removeItem(at: repo) }
        let before = try await featurectl(["catalog", "list", "--repo", repo.path])
        #expect(before.status == 1)
        #expect(before.stderr.contains("run `featurectl apply` first"))
        _ = try await featurectl(["apply", "--repo", repo.path])
        let unknown = try await featurectl(["catalog", "show", "driver_stat", "--repo", repo.path])
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "error: no object named 'driver_stat' in the catalog; did you mean 'driver_stats'?\n")
        let missingRepo = try await featurectl(["validate", "--repo", "/nonexistent/repo"])
        #expect(missingRepo.status == 1)
        #expect(missingRepo.stderr.contains("no feature_store.yaml in /nonexistent/repo"))
    }
}

@Suite("featurectl sample data and parquet views", .serialized, .timeLimit(.minutes(10)))
struct SampleDataTests {
    @Test("sample-data writes the example's files deterministically, and parquet schema/head show them")
    func sampleDataAndParquetViews() async throws {
        let repo = try copyOfExample()
        defer { try? FileManager.default.removeItem(at: repo) }
        let run = try await featurectl(["sample-data", "--repo", repo.path, "--end", "2025-01-31T00:00:00Z"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("data/driver_activity/date=2025-01-24/part-0.parquet  7200 rows"))
        let stats = repo.appendingPathComponent("data/driver_stats.parquet")
        let first = try Data(contentsOf: stats)
        _ = try await featurectl(["sample-data", "--repo", repo.path, "--end", "2025-01-31T00:00:00Z"])
        #expect(try Data(contentsOf: stats) == first, "the same --end must give the same bytes")

        let schema = try await featurectl(["parquet", "schema", repo.appendingPathComponent("data/driver_activity").path])
        #expect(schema.stdout.contains("50400 rows in 7 row groups across 7 files"))
        #expect(schema.stdout.contains("date                  string              yes       partition folder"))

        let head = try await featurectl(["parquet", "head", stats.path, "-n", "2", "--json"])
        let rows = try JSONSerialization.jsonObject(with: Data(head.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.count == 2)
        #expect(rows?.first?["event_timestamp"] as? String == "2025-01-24T00:00:00Z")
        #expect(rows?.first?["driver_id"] as? Int == 1001)

        let missing = try await featurectl(["parquet", "head", "/nonexistent.parquet"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "error: /nonexistent.parquet: no such file or folder\n")
    }
}
