import ServingSettings
public import FeatureServingAPI
public import GRPCCore
import SwiftProtobuf

/// The standard `grpc.health.v1.Health` service: SERVING while the server runs and its online store can serve,
/// NOT_SERVING otherwise (the store down, or a shutdown begun).
/// Known service names: "" (the whole server) and `featurestore.v1.FeatureServing`.
public struct HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
    /// The feature service's name, which calls may ask about besides "" (the whole server).
    public static let servingServiceName = "featurestore.v1.FeatureServing"
    let health: ServingHealth

    /// A health service that reports `health`.
    public init(health: ServingHealth) {
        self.health = health
    }

    private func status(of service: String) throws(RPCError) -> Grpc_Health_V1_HealthCheckResponse.ServingStatus {
        guard service.isEmpty || service == Self.servingServiceName else {
            throw RPCError(code: .notFound, message: "service: unknown service '\(service)'")
        }
        return health.isServing ? .serving : .notServing
    }

    /// The status of `request.service` now; NOT_FOUND for an unknown service name.
    public func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws -> Grpc_Health_V1_HealthCheckResponse {
        let current = try status(of: request.service)
        return .with { $0.status = current }
    }

    /// Sends the status of `request.service`, then each change (checked every 200 ms) until the call is cancelled;
    /// SERVICE_UNKNOWN for an unknown service name.
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
