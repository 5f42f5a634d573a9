import Foundation
import Testing

/// The Python SDK (`clients/python`, installed by scripts/setup into .venv-sdk as `pip install ./clients/python[pandas]`)
/// against a running FeatureServer and the real featurectl on the example repository.
@Suite("Python SDK", .serialized, .timeLimit(.minutes(10)))
struct PythonSDKTests {
    /// The Python of a venv scripts/setup makes.
    static func python(_ venv: String) throws -> URL {
        let python = packageRoot.appendingPathComponent("\(venv)/bin/python")
        try #require(FileManager.default.isExecutableFile(atPath: python.path), "no \(venv): run `bash scripts/setup`")
        return python
    }

    /// A copy of the example with its sample data, applied and materialized, served by FeatureServer.
    static func servedExample() async throws -> (URL, ServerProcess) {
        let repo = try copyOfExample()
        for step in [["sample-data", "--repo", repo.path], ["apply", "--repo", repo.path], ["materialize-incremental", "now", "--repo", repo.path]] {
            let result = try await featurectl(step)
            try #require(result.status == 0, "\(step): \(result.stderr)")
        }
        return (repo, try ServerProcess(repository: repo, extraArguments: ["--no-ingest"]))
    }

    static func stop(_ server: ServerProcess, _ repo: URL) {
        _ = server.terminate()
        try? FileManager.default.removeItem(at: repo)
    }

    @Test("the Python SDK and the README's Python example: training set equal to featurectl join's file, online values and statuses equal to featurectl get, push then lookup, errors raised with their messages, catalog, materialize and verify")
    func pythonSDK() async throws {
        let python = try Self.python(".venv-sdk")
        let (repo, server) = try await Self.servedExample()
        defer { Self.stop(server, repo) }
        let grpcPort = server.grpcPort
        let script = packageRoot.appendingPathComponent("clients/python/tests/check_sdk.py").path
        let result = try await offPool {
            try runProcess(python, [script, repo.path, "127.0.0.1:\(grpcPort)", productsDirectory.appendingPathComponent("featurectl").path])
        }
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        for part in ["historical: ok", "online: ok", "push: ok", "errors: ok", "catalog, materialize, verify: ok"] {
            #expect(result.stdout.contains(part), "\(result.stdout)")
        }
        // The README's Python example, run as shown (README.md holds the file's text verbatim).
        let example = packageRoot.appendingPathComponent("examples/python/sdk_example.py")
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("```python\n" + (try String(contentsOf: example, encoding: .utf8)) + "```"), "README.md's Python example is not examples/python/sdk_example.py")
        let featurectlPath = productsDirectory.appendingPathComponent("featurectl").path
        let ran = try await offPool {
            try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["REPO=\(repo.path)", "SERVER=127.0.0.1:\(grpcPort)", "FEATURECTL=\(featurectlPath)",
                                                                 python.path, example.path])
        }
        #expect(ran.status == 0, "\(ran.stdout)\n\(ran.stderr)")
        #expect(ran.stdout.contains("PRESENT") && ran.stdout.contains("'driver_id': [1001]"), "\(ran.stdout)")
    }

    @Test("Feast's own SDK (0.67) with a remote online store reads the example's driver_stats from FeatureServer's HTTP port, equal to featurectl get, and writes rows into it (write_to_online_store, its SDK's push); Feast's /push takes a push source's rows as that source's rows (derived columns computed), refusing what it cannot do")
    func feastReadsFromFeatureServer() async throws {
        let python = try Self.python(".venv-feast")
        let (repo, server) = try await Self.servedExample()
        defer { Self.stop(server, repo) }
        let httpPort = server.httpPort
        let script = packageRoot.appendingPathComponent("clients/python/tests/feast_remote.py").path
        let featurectlPath = productsDirectory.appendingPathComponent("featurectl").path
        let result = try await offPool { try runProcess(python, [script, repo.path, "\(httpPort)", featurectlPath]) }
        #expect(result.status == 0 && result.stdout.contains("feast remote: ok") && result.stdout.contains("feast write: ok")
                && result.stdout.contains("feast sdk push: ok") && result.stdout.contains("feast /push: ok"), "\(result.stdout)\n\(result.stderr)")
    }
}
