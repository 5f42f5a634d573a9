import FeatureServingAPI
import FeatureStoreCore
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
public import Logging
public import ServiceLifecycle

/// The gRPC face of the feature store as a swift-service-lifecycle `Service`: serves `featurestore.v1.FeatureServing`
/// and `grpc.health.v1.Health` over HTTP/2 (plaintext, or TLS with ``ServerTLS``); on graceful shutdown marks itself NOT_SERVING and stops
/// accepting calls (streams in flight are left to the transport's quiescing).
public final class GRPCFeatureServer: Service, Sendable {
    /// The serving core the service calls.
    public let core: ServingCore
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let logger: Logger

    /// An HTTP/2 server of the feature and health services on `host:port` (IPv4; port 0: any free port, see
    /// ``listeningPort``), over TLS when `tls` is given, else plaintext.
    public init(core: ServingCore, host: String = "127.0.0.1", port: Int = 6570, tls: ServerTLS? = nil,
                logger: Logger = Logger(label: "featurestore.grpc")) throws {
        self.core = core
        self.logger = logger
        server = GRPCServer(
            transport: HTTP2ServerTransport.Posix(address: .ipv4(host: host, port: port), transportSecurity: try tls?.grpcSecurity ?? .plaintext),
            services: [ServingService(core: core), HealthService(health: core.health)])
    }

    /// The bound port, once listening (port 0 picks a free port).
    public var listeningPort: Int? {
        get async throws { try await server.listeningAddress?.ipv4?.port }
    }

    /// Serves until the server stops (a graceful shutdown calls ``shutdown()``); logs `gRPC listening` once bound.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.server.serve() }
                group.addTask {
                    if let port = try await self.listeningPort {
                        self.logger.info("gRPC listening", metadata: ["port": "\(port)", "repository": "\(self.core.repository.url.path)"])
                    }
                }
                try await group.waitForAll()
            }
        } onGracefulShutdown: {
            self.logger.info("graceful shutdown: no new gRPC calls")
            self.shutdown()
        }
    }

    /// Stops the server (as a graceful shutdown does); for embedding and tests.
    public func shutdown() {
        core.health.markNotServing()
        server.beginGracefulShutdown()
    }
}
