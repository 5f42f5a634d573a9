import ArgumentParser
import Columnar
import FeatureServing
import FeatureStore
import Foundation
import Logging
import ServiceLifecycle

/// The serving process: gRPC lookups and pushes over the repository's online store.
@main
struct FeatureServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "FeatureServer",
        abstract: "Serve a feature repository's online features over gRPC.",
        discussion: "Stops gracefully on SIGTERM or SIGINT: health turns NOT_SERVING and no new calls are taken.")

    @Option(help: "The feature repository folder.")
    var repo: String = "."

    @Option(help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "The gRPC port (0: any free port).")
    var grpcPort: Int = 6570

    @Option(help: "The most entity rows in one request.")
    var maxBatch: Int = 10_000

    func run() async throws {
        MemoryPolicy.retainFreedMemory()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "featurestore.server")
        let repository: ServedRepository
        do {
            repository = try ServedRepository(url: URL(fileURLWithPath: repo), logger: logger)
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
        let server = GRPCFeatureServer(repository: repository, host: host, port: grpcPort,
                                       limits: ServingLimits(maxBatch: maxBatch), logger: logger)
        let group = ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}
