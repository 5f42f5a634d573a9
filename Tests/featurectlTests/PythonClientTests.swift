import Foundation
import Testing

/// The built FeatureServer, run as a child process on free ports (read from its log), stopped with SIGTERM.
final class ServerProcess {
    let process = Process()
    let logURL: URL
    private(set) var grpcPort = 0
    private(set) var httpPort = 0
    private(set) var catalogPort = 0

    /// - Parameter catalogPort: the `--catalog-port` to pass (nil: the server's default; 0: any free port).
    init(repository: URL, extraArguments: [String] = [], environment: [String: String] = [:], catalogPort requestedCatalogPort: Int? = 0) throws {
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("server-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        process.executableURL = productsDirectory.appendingPathComponent("FeatureServer")
        process.arguments = ["--repo", repository.path, "--grpc-port", "0", "--http-port", "0"]
            + (requestedCatalogPort.map { ["--catalog-port", String($0)] } ?? []) + extraArguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardError = try FileHandle(forWritingTo: logURL)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while grpcPort == 0 || httpPort == 0 || catalogPort == 0 {
            guard process.isRunning, Date() < deadline else {
                // A server that did not come up is not left behind holding its ports.
                if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
                throw ServerProcessError(log: log)
            }
            grpcPort = Self.port(in: log, of: "gRPC listening") ?? 0
            httpPort = Self.port(in: log, of: "HTTP listening") ?? 0
            catalogPort = Self.port(in: log, of: "catalog listening at") ?? 0
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// The port of a `port=N ... <message>` log line.
    private static func port(in log: String, of message: String) -> Int? {
        for line in log.split(separator: "\n") where line.contains(message) {
            if let range = line.range(of: "port=") {
                return Int(line[range.upperBound...].prefix { $0.isNumber })
            }
        }
        return nil
    }

    /// Kills the process with SIGKILL (no shutdown of any kind) and waits.
    func killHard() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Sends SIGTERM and waits; returns the exit status.
    func terminate() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: logURL)
        return process.terminationStatus
    }
}

struct ServerProcessError: Error, CustomStringConvertible {
    var log: String
    var description: String { "FeatureServer did not start listening:\n\(log)" }
}

/// Runs the test venv's Python (made by scripts/setup) with `arguments`.
/// ``runPythonBlocking(_:)`` waited for off the cooperative pool.
func runPython(_ arguments: [String]) async throws -> RunResult {
    try await offPool { try runPythonBlocking(arguments) }
}

func runPythonBlocking(_ arguments: [String]) throws -> RunResult {
    let python = ProcessInfo.processInfo.environment["FEATURESTORE_PYTHON"] ?? packageRoot.appendingPathComponent(".venv/bin/python").path
    guard FileManager.default.isExecutableFile(atPath: python) else {
        throw ServerProcessError(log: "no Python at \(python): run `bash scripts/setup` (it makes .venv with grpcio and grpcio-tools)")
    }
    return try runProcess(URL(fileURLWithPath: python), arguments)
}

@Suite("Python client example", .serialized, .timeLimit(.minutes(10)))
struct PythonClientTests {
    /// The same value as the client prints it and as featurectl does: numbers (a float32 widened by Python compared as
    /// float32), text, lists element by element, null; times as either's text of the same instant are not compared.
    static func same(_ a: Any?, _ b: Any?) -> Bool {
        switch (a, b) {
        case (nil, nil), (is NSNull, is NSNull), (nil, is NSNull), (is NSNull, nil): return true
        case let (x as NSNumber, y as NSNumber): return x.doubleValue == y.doubleValue || Float(x.doubleValue) == Float(y.doubleValue)
        case let (x as String, y as String): return x == y || x.contains(":") && y.contains(":")
        case let (x as [Any], y as [Any]): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        default: return false
        }
    }

    @Test("the Python example fetches a model's features from a running FeatureServer, which stops cleanly on SIGTERM")
    func pythonClientFetchesFeatures() async throws {
        let repo = try copyOfExample()
        defer { try? FileManager.default.removeItem(at: repo) }
        for step in [["sample-data", "--repo", repo.path], ["apply", "--repo", repo.path], ["materialize-incremental", "now", "--repo", repo.path]] {
            let result = try await featurectl(step)
            try #require(result.status == 0, "\(step): \(result.stderr)")
        }
        let server = try ServerProcess(repository: repo)
        // Windowed features move when a hop boundary passes: the same lookup through featurectl just before and just
        // after the client's, and the client must agree with one of them.
        let getArguments = ["get", "--service", "driver_ranking_v1", "--entity", "driver_id=1001,1002,999999",
                            "--entity", "customer_id=5001,5001,5001", "--full-feature-names", "--json", "--repo", repo.path]
        let before = try await featurectl(getArguments)
        let client = try await runPython([packageRoot.appendingPathComponent("examples/python/client.py").path,
                                    "--target", "127.0.0.1:\(server.grpcPort)", "--customer", "5001",
                                    "--drivers", "1001,1002,999999", "--json"])
        // The same lookup through featurectl on the same store: the client must print the same values and statuses.
        let after = try await featurectl(getArguments)
        let status = server.terminate()
        #expect(client.status == 0, "\(client.stderr)")
        let rows = client.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(rows.count == 3, "\(client.stdout)")
        let byDriver = Dictionary(uniqueKeysWithValues: rows.map { (($0["driver_id"] as? Int) ?? 0, $0) })
        let known = try #require(byDriver[1001]?["features"] as? [String: Any])
        #expect(known["driver_stats__conv_rate"] is Double, "\(known)")
        #expect(known["customer_profile__tier"] is String, "\(known)")
        let unknown = try #require(byDriver[999999]?["missing"] as? [String])
        #expect(unknown.contains("driver_stats__conv_rate=NOT_FOUND"), "\(unknown)")
        #expect(status == 0, "FeatureServer exits 0 after SIGTERM")

        try #require(before.status == 0 && after.status == 0, "\(before.stderr)\(after.stderr)")
        let goldenBefore = try #require(try JSONSerialization.jsonObject(with: Data(before.stdout.utf8)) as? [[String: Any]])
        let goldenAfter = try #require(try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [[String: Any]])
        try #require(goldenBefore.count == 3 && goldenAfter.count == 3)
        func matches(_ golden: [[String: Any]]) -> Bool {
            golden.allSatisfy { g in
                guard let id = (g["entity"] as? [String: Any])?["driver_id"] as? Int, let got = byDriver[id]?["features"] as? [String: Any],
                      let want = g["features"] as? [String: [String: Any]] else { return false }
                return want.allSatisfy { name, w in Self.same(got[name], w["value"]) }
            }
        }
        let golden = matches(goldenBefore) || !matches(goldenAfter) ? goldenBefore : goldenAfter
        for g in golden {
            let id = try #require((g["entity"] as? [String: Any])?["driver_id"] as? Int)
            let row = try #require(byDriver[id], "driver \(id) is in the client's output")
            let want = try #require(g["features"] as? [String: [String: Any]])
            let got = try #require(row["features"] as? [String: Any])
            #expect(Set(got.keys) == Set(want.keys), "driver \(id): the same features")
            for (name, w) in want {
                #expect(Self.same(got[name], w["value"]), "driver \(id) \(name): client \(got[name] ?? "nil"), featurectl \(w["value"] ?? "nil")")
            }
            let missing = want.compactMap { name, w in (w["status"] as? String).flatMap { $0 == "PRESENT" ? nil : "\(name)=\($0)" } }
            #expect(Set(row["missing"] as? [String] ?? []) == Set(missing), "driver \(id): the same statuses")
        }
        #expect(golden.contains { ($0["features"] as? [String: [String: Any]])?.values.contains { $0["status"] as? String == "PRESENT" } == true },
                "some values are present, so the comparison compares values")
    }
}
