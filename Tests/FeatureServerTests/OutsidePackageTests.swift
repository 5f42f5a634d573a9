import FeatureServingAPI
import Foundation
import SwiftProtobuf
import Testing

/// A Swift package outside this repository that depends on the `FeatureStoreClient` product by path, as a service
/// would, built with SwiftPM and run against a FeatureServer.
@Suite("FeatureStoreClient from a package of its own", .serialized, .timeLimit(.minutes(30)))
struct OutsidePackageTests {
    /// This repository's root (the package the outside one depends on).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("a package outside the repository builds against the FeatureStoreClient product by path and looks up features from a running FeatureServer")
    func outsidePackageLooksUp() async throws {
        let f = try await ServerFixture()
        let t = Int64(Date().timeIntervalSince1970 * 1_000_000) - 5_000_000
        try await f.withClient { client in
            _ = try await client.pushFeatures(.with {
                $0.featureView = "stats"
                $0.entities = ["driver_id": ints([42])]
                $0.eventTimestampsMicros = [t]
                $0.features = ["conv": .with { $0.values = [.with { $0.doubleValue = 0.25 }] }, "trips": .with { $0.values = [.with { $0.int64Value = 3 }] }]
            })
        }
        let package = FileManager.default.temporaryDirectory.appendingPathComponent("outside-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: package.appendingPathComponent("Sources/lookup"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: package) }
        // A path dependency's package identity is its folder's name.
        let identity = Self.root.lastPathComponent.lowercased()
        try """
            // swift-tools-version:6.0
            import PackageDescription

            let package = Package(
                name: "lookup",
                platforms: [.macOS(.v15)],
                dependencies: [.package(path: "\(Self.root.path)")],
                targets: [.executableTarget(name: "lookup", dependencies: [.product(name: "FeatureStoreClient", package: "\(identity)")])]
            )
            """.write(to: package.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        try """
            import FeatureStoreClient

            let port = Int(CommandLine.arguments[1])!
            let answer = try await withFeatureStoreClient(ClientConfiguration(endpoints: [.init(host: "127.0.0.1", port: port)], timeout: .seconds(30))) { client in
                try await client.onlineFeatures(.features(["stats:conv", "stats:trips"]), entities: .int64("driver_id", [42, 7]))
            }
            for column in answer.columns { print(column.name, column.values, column.statuses.map(\\.rawValue)) }
            """.write(to: package.appendingPathComponent("Sources/lookup/main.swift"), atomically: true, encoding: .utf8)
        // Its own build folder, kept between runs (a first build compiles gRPC, NIO and BoringSSL: minutes).
        let scratch = Self.root.appendingPathComponent(".build/outside-package").path
        let build = try await Self.run("/usr/bin/env", ["swift", "build", "--package-path", package.path, "--scratch-path", scratch, "--product", "lookup"])
        #expect(build.status == 0, "swift build failed:\n\(build.output.suffix(4000))")
        guard build.status == 0 else { return }
        let binary = try await Self.run("/usr/bin/env", ["swift", "build", "--package-path", package.path, "--scratch-path", scratch, "--show-bin-path"])
        let path = binary.output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").last.map(String.init) ?? ""
        let lookup = try await Self.run(path + "/lookup", ["\(f.port)"])
        #expect(lookup.status == 0, "\(lookup.output)")
        #expect(lookup.output.contains("conv [FeatureStoreClient.FeatureValue.double(0.25), FeatureStoreClient.FeatureValue.null] [\"PRESENT\", \"NOT_FOUND\"]"), "\(lookup.output)")
        #expect(lookup.output.contains("trips [FeatureStoreClient.FeatureValue.int(3), FeatureStoreClient.FeatureValue.null]"), "\(lookup.output)")
    }

    @Test("every Swift snippet in README.md compiles in a package of its own that depends on this one's products by path")
    func readmeSwiftSnippetsCompile() async throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let snippets = Self.swiftBlocks(in: readme)
        #expect(snippets.count >= 5, "README.md's Swift snippets: found \(snippets.count)")
        let package = FileManager.default.temporaryDirectory.appendingPathComponent("readme-\(UUID().uuidString)")
        let sources = package.appendingPathComponent("Sources/readme")
        try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: package) }
        let identity = Self.root.lastPathComponent.lowercased()
        let products = ["FeatureStore", "FeatureStoreCore", "FeatureStoreClient", "LocalOfflineEngine", "RedisOnlineStore", "KafkaTransport",
                        "AvroMessageFormat", "JSONMessageFormat", "Parquet", "Columnar"]
        try """
            // swift-tools-version:6.0
            import PackageDescription

            let package = Package(
                name: "readme",
                platforms: [.macOS(.v15)],
                dependencies: [.package(path: "\(Self.root.path)")],
                targets: [.target(name: "readme", dependencies: [\(products.map { ".product(name: \"\($0)\", package: \"\(identity)\")" }.joined(separator: ", "))],
                                  swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")])]
            )
            """.write(to: package.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        // Each snippet in a file of its own (its imports only, which MemberImportVisibility holds it to), its statements
        // the body of a function.
        for (i, snippet) in snippets.enumerated() {
            let lines = snippet.split(separator: "\n", omittingEmptySubsequences: false)
            let imports = lines.filter { $0.hasPrefix("import ") }
            let body = lines.filter { !$0.hasPrefix("import ") }
            try (imports.joined(separator: "\n") + "\n\nfunc readmeSnippet\(i + 1)() async throws {\n" + body.joined(separator: "\n") + "\n}\n")
                .write(to: sources.appendingPathComponent("Snippet\(i + 1).swift"), atomically: true, encoding: .utf8)
        }
        let scratch = Self.root.appendingPathComponent(".build/outside-package").path
        let build = try await Self.run("/usr/bin/env", ["swift", "build", "--package-path", package.path, "--scratch-path", scratch, "--target", "readme"])
        #expect(build.status == 0, "README.md's Swift snippets do not compile:\n\(build.output.suffix(6000))")
    }

    /// The contents of the ```swift blocks of a Markdown text.
    static func swiftBlocks(in markdown: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]? = nil
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```swift" {
                current = []
            } else if current != nil, line == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else if current != nil {
                current!.append(line)
            }
        }
        return blocks
    }

    /// Runs a program to its end (off the test's threads), its output and error together.
    static func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await Task.detached {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }.value
    }
}
