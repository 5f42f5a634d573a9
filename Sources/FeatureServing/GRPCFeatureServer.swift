import FeatureServingAPI
import FeatureStore
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ServiceLifecycle

/// The gRPC face of the feature store as a swift-service-lifecycle `Service`: serves `featurestore.v1.FeatureServing`
/// and `grpc.health.v1.Health`, reloads the repository after `apply`, and on graceful shutdown marks itself
/// NOT_SERVING and stops accepting calls (streams in flight are left to the transport's quiescing).
public final class GRPCFeatureServer: Service, Sendable {
    public let repository: ServedRepository
    public let health = HealthService()
    /// Calls in flight and handled.
    public let counters = ServingCounters()
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let logger: Logger
    private let reloadInterval: Duration

    public init(repository: ServedRepository, host: String = "127.0.0.1", port: Int = 6570, limits: ServingLimits = ServingLimits(),
                reloadInterval: Duration = .seconds(2), logger: Logger = Logger(label: "featurestore.grpc")) {
        self.repository = repository
        self.logger = logger
        self.reloadInterval = reloadInterval
        server = GRPCServer(
            transport: HTTP2ServerTransport.Posix(address: .ipv4(host: host, port: port), transportSecurity: .plaintext),
            services: [ServingService(repository: repository, limits: limits, counters: counters), health])
    }

    /// The bound address, once listening (port 0 picks a free port).
    public var listeningPort: Int? {
        get async throws { try await server.listeningAddress?.ipv4?.port }
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await self.server.serve()
                }
                group.addTask {
                    if let port = try await self.listeningPort {
                        self.logger.info("gRPC listening", metadata: ["port": "\(port)", "repository": "\(self.repository.url.path)"])
                    }
                    // Reload after `apply`, until the server stops (then this task is cancelled).
                    while !Task.isCancelled {
                        try? await Task.sleep(for: self.reloadInterval)
                        if Task.isCancelled { break }
                        self.repository.reloadIfApplied()
                    }
                }
                // The first task to end is serve() (after a shutdown, or with an error): stop the rest.
                defer { group.cancelAll() }
                try await group.next()
            }
        } onGracefulShutdown: {
            self.logger.info("graceful shutdown: no new calls")
            self.health.markNotServing()
            self.server.beginGracefulShutdown()
        }
    }

    /// Stops the server (as a graceful shutdown does); for embedding and tests.
    public func shutdown() {
        health.markNotServing()
        server.beginGracefulShutdown()
    }
}
