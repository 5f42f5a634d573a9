import Foundation
import Testing

/// The README's shell examples of the serving API (`curl` and `grpcurl` blocks), run against the served example.
@Suite("README's curl and grpcurl examples", .serialized, .timeLimit(.minutes(5)))
struct ReadmeExampleTests {
    /// The ```sh blocks of README.md whose first command is `program`.
    static func shellBlocks(running program: String) throws -> [String] {
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        var blocks: [String] = []
        var current: [Substring]? = nil
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```sh" {
                current = []
            } else if let lines = current, line == "```" {
                if lines.first?.hasPrefix(program + " ") == true { blocks.append(lines.joined(separator: "\n")) }
                current = nil
            } else if current != nil {
                current!.append(line)
            }
        }
        return blocks
    }

    @Test("README's curl examples answer without an error from FeatureServer serving the example (lookups, pushes, Feast's /push)")
    func curlExamples() async throws {
        let blocks = try Self.shellBlocks(running: "curl")
        #expect(blocks.count >= 2, "README's curl blocks: \(blocks.count)")
        let (repo, server) = try await PythonSDKTests.servedExample()
        defer { PythonSDKTests.stop(server, repo) }
        let port = server.httpPort
        for block in blocks {
            let script = block.replacingOccurrences(of: "localhost:6566", with: "127.0.0.1:\(port)")
            let ran = try await offPool { try runProcess(URL(fileURLWithPath: "/bin/bash"), ["-c", "set -e\n" + script.replacingOccurrences(of: "curl -s ", with: "curl -sS --fail-with-body ")]) }
            #expect(ran.status == 0, "\(block)\n-> \(ran.stdout)\n\(ran.stderr)")
            #expect(!ran.stdout.contains("\"error\"") && (ran.stdout.contains("\"results\"") || ran.stdout.contains("\"rows_written\"")), "\(block)\n-> \(ran.stdout)")
            if block.contains("/v1/online-features") { #expect(ran.stdout.contains("\"PRESENT\""), "\(ran.stdout)") }
            if block.contains(":6566/push ") { #expect(ran.stdout.contains("\"rows_written\":{\"driver_stats\":1}"), "\(ran.stdout)") }
        }
    }

    @Test("README's grpcurl example names the API's proto file and method, and its body is answered by FeatureServer serving the example")
    func grpcurlExample() async throws {
        let blocks = try Self.shellBlocks(running: "grpcurl")
        #expect(blocks.count >= 1, "README's grpcurl blocks: \(blocks.count)")
        let python = try PythonSDKTests.python(".venv-sdk")
        let (repo, server) = try await PythonSDKTests.servedExample()
        defer { PythonSDKTests.stop(server, repo) }
        let address = "127.0.0.1:\(server.grpcPort)"
        let script = packageRoot.appendingPathComponent("clients/python/tests/grpcurl_example.py").path
        for block in blocks {
            let ran = try await offPool { try runProcess(python, [script, packageRoot.path, address, block]) }
            #expect(ran.status == 0, "\(block)\n-> \(ran.stdout)\n\(ran.stderr)")
            #expect(ran.stdout.contains("\"PRESENT\"") && ran.stdout.contains("\"featureNames\""), "\(ran.stdout)")
        }
    }
}
