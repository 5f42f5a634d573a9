import FeatureServingAPI
import GRPCCore
import Synchronization

/// The standard `grpc.health.v1.Health` service: SERVING while the server runs, NOT_SERVING once it shuts down.
/// Known service names: "" (the whole server) and `featurestore.v1.FeatureServing`.
public final class HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol, Sendable {
    public static let servingServiceName = "featurestore.v1.FeatureServing"
    private let serving = Mutex(true)

    public init() {}

    /// Marks the server NOT_SERVING (at the start of a graceful shutdown, so load balancers stop sending).
    public func markNotServing() {
        serving.withLock { $0 = false }
    }

    private func status(of service: String) throws(RPCError) -> Grpc_Health_V1_HealthCheckResponse.ServingStatus {
        guard service.isEmpty || service == Self.servingServiceName else {
            throw RPCError(code: .notFound, message: "service: unknown service '\(service)'")
        }
        return serving.withLock { $0 } ? .serving : .notServing
    }

    public func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws -> Grpc_Health_V1_HealthCheckResponse {
        let current = try status(of: request.service)
        return .with { $0.status = current }
    }

    public func watch(request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
                      context: ServerContext) async throws {
        var last: Grpc_Health_V1_HealthCheckResponse.ServingStatus? = nil
        while !Task.isCancelled {
            let now = (try? status(of: request.service)) ?? .serviceUnknown
            if now != last {
                try await response.write(.with { $0.status = now })
                last = now
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
