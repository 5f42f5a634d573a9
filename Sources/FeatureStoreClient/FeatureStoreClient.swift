public import GRPCCore
import FeatureServingAPI
import SwiftProtobuf
import Foundation
import GRPCNIOTransportHTTP2
import Synchronization

/// A failed call: the gRPC status the server (or the transport) gave, its message, and the address tried last.
public struct FeatureStoreClientError: Error, Sendable, CustomStringConvertible {
    /// The gRPC status code (`INVALID_ARGUMENT` for a bad request, `UNAVAILABLE` when no server could take it, ...).
    public var code: RPCError.Code
    /// The server's message: for a bad request it names the field (`entities.driver_id`, `features`).
    public var message: String
    /// The server tried last.
    public var endpoint: ClientConfiguration.Endpoint?
    /// Attempts made.
    public var attempts: Int
    /// The underlying error.
    public var cause: (any Error & Sendable)?

    /// `code: message (at endpoint, after n attempts)`.
    public var description: String {
        var text = "\(code): \(message)"
        if let endpoint { text += " (\(endpoint)\(attempts > 1 ? ", after \(attempts) attempts" : ""))" }
        return text
    }
}

/// A client of FeatureServer's gRPC API: typed lookups by feature service or feature list, request context for
/// on-demand views, pushes, and the streaming lookup for high-rate callers; several servers round-robin, a server
/// that answers `UNAVAILABLE` left out for a while, such calls retried with jittered back-off, per-attempt
/// deadlines, TLS and bearer tokens.
///
/// Run its connections for as long as it is used, most simply with ``withFeatureStoreClient(_:_:)``:
///
/// ```swift
/// try await withFeatureStoreClient(ClientConfiguration(host: "127.0.0.1", port: 6566)) { client in
///     let features = try await client.onlineFeatures(.service("driver_ranking_v1"),
///                                                     entities: .int64("driver_id", [1001, 1002]).with("customer_id", .int64([5001, 5002])))
///     print(features["driver_stats__conv_rate"]?.values ?? [])
/// }
/// ```
public final class FeatureStoreClient: Sendable {
    /// The configuration it was made with.
    public let configuration: ClientConfiguration
    private let clients: [GRPCClient<HTTP2ClientTransport.Posix>]
    private let stubs: [Featurestore_V1_FeatureServing.Client<HTTP2ClientTransport.Posix>]
    private let state: Mutex<State>

    private struct State {
        var next = 0
        var ejectedUntil: [ContinuousClock.Instant?]
        var shutDown = false
    }

    /// A client for `configuration` (connections start with ``run()``). Throws when an address or a TLS file is
    /// unusable.
    public init(_ configuration: ClientConfiguration) throws {
        guard !configuration.endpoints.isEmpty else {
            throw FeatureStoreClientError(code: .invalidArgument, message: "no FeatureServer address given", attempts: 0)
        }
        self.configuration = configuration
        let security: HTTP2ClientTransport.Posix.TransportSecurity
        switch configuration.security {
        case .plaintext:
            security = .plaintext
        case .tls(let ca, let certificate, let key):
            if let certificate, let key {
                security = .mTLS(certificateChain: [.file(path: certificate, format: .pem)], privateKey: .file(path: key, format: .pem)) { tls in
                    if let ca { tls.trustRoots = .certificates([.file(path: ca, format: .pem)]) }
                }
            } else {
                security = .tls { tls in
                    if let ca { tls.trustRoots = .certificates([.file(path: ca, format: .pem)]) }
                }
            }
        }
        clients = try configuration.endpoints.map { endpoint in
            GRPCClient(transport: try .http2NIOPosix(target: .dns(host: endpoint.host, port: endpoint.port), transportSecurity: security))
        }
        stubs = clients.map { Featurestore_V1_FeatureServing.Client(wrapping: $0) }
        state = Mutex(State(ejectedUntil: Array(repeating: nil, count: configuration.endpoints.count)))
    }

    /// Runs the connections to every server until ``shutDown()`` (or the task is cancelled).
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for client in clients { group.addTask { try await client.runConnections() } }
        }
    }

    /// Ends the connections once the calls in flight are answered.
    public func shutDown() {
        state.withLock { $0.shutDown = true }
        for client in clients { client.beginGracefulShutdown() }
    }

    /// Whether ``shutDown()`` was called.
    var isShutDown: Bool { state.withLock { $0.shutDown } }

    // MARK: Calls

    /// The features of `selection` for each entity row of `entities`, at the server's clock.
    /// - Parameters:
    ///   - requestContext: per request field of on-demand views, one value per entity row.
    ///   - fullFeatureNames: name columns `view__feature` rather than `feature`.
    public func onlineFeatures(_ selection: FeatureSelection, entities: EntityKeys, requestContext: [String: [FeatureValue]] = [:],
                               fullFeatureNames: Bool = false) async throws(FeatureStoreClientError) -> OnlineFeatures {
        let request = Self.request(selection, entities: entities, requestContext: requestContext, fullFeatureNames: fullFeatureNames)
        return OnlineFeatures(try await call { stub, metadata, options in
            try await stub.getOnlineFeatures(request, metadata: metadata, options: options)
        })
    }

    /// Writes rows to a plain view's online table (event-time ordered: an older row never replaces a newer one, so
    /// a retried push changes nothing). `features`: per feature name, one value per entity row.
    /// - Returns: rows received and rows written (newer than what was stored).
    @discardableResult
    public func push(view: String, entities: EntityKeys, eventTimestamps: [Int64], createdTimestamps: [Int64] = [],
                     features: [String: [FeatureValue]]) async throws(FeatureStoreClientError) -> (received: Int, written: Int) {
        let request = Featurestore_V1_PushFeaturesRequest.with {
            $0.featureView = view
            $0.entities = entities.proto
            $0.eventTimestampsMicros = eventTimestamps
            $0.createdTimestampsMicros = createdTimestamps
            $0.features = features.mapValues { values in .with { $0.values = values.map(\.proto) } }
        }
        let response = try await call { stub, metadata, options in try await stub.pushFeatures(request, metadata: metadata, options: options) }
        return (Int(response.rowsReceived), Int(response.rowsWritten))
    }

    static func request(_ selection: FeatureSelection, entities: EntityKeys, requestContext: [String: [FeatureValue]],
                        fullFeatureNames: Bool) -> Featurestore_V1_GetOnlineFeaturesRequest {
        .with {
            $0.entities = entities.proto
            switch selection {
            case .service(let name): $0.featureService = name
            case .features(let refs): $0.featureRefs = .with { $0.refs = refs }
            }
            $0.fullFeatureNames = fullFeatureNames
            $0.requestContext = requestContext.mapValues { values in .with { $0.values = values.map(\.proto) } }
        }
    }

    var metadata: Metadata {
        var metadata: Metadata = [:]
        if let token = configuration.token { metadata.addString("Bearer \(token)", forKey: "authorization") }
        return metadata
    }

    var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = configuration.timeout
        return options
    }

    /// The server to call next: round-robin over those not ejected (all ejected: the one back soonest).
    func pick() -> Int {
        state.withLock { state in
            let now = ContinuousClock.now
            let n = state.ejectedUntil.count
            for step in 0..<n {
                let i = (state.next + step) % n
                if let until = state.ejectedUntil[i], until > now { continue }
                state.next = i + 1
                return i
            }
            let soonest = state.ejectedUntil.indices.min { (state.ejectedUntil[$0] ?? now) < (state.ejectedUntil[$1] ?? now) } ?? 0
            state.next = soonest + 1
            return soonest
        }
    }

    func eject(_ i: Int) {
        let until = ContinuousClock.now + configuration.ejection
        state.withLock { $0.ejectedUntil[i] = until }
    }

    /// `body` on the next server, retried on the others after `UNAVAILABLE` with jittered back-off.
    func call<T: Sendable>(_ body: (Featurestore_V1_FeatureServing.Client<HTTP2ClientTransport.Posix>, Metadata, CallOptions) async throws -> T)
        async throws(FeatureStoreClientError) -> T {
        let policy = configuration.retry
        var backoff = policy.initialBackoff
        var attempt = 0
        while true {
            attempt += 1
            let i = pick()
            do {
                return try await body(stubs[i], metadata, options)
            } catch let error as RPCError {
                guard error.code == .unavailable else {
                    throw FeatureStoreClientError(code: error.code, message: error.message, endpoint: configuration.endpoints[i], attempts: attempt, cause: error)
                }
                eject(i)
                guard attempt < policy.maxAttempts else {
                    throw FeatureStoreClientError(code: .unavailable, message: error.message, endpoint: configuration.endpoints[i], attempts: attempt, cause: error)
                }
            } catch {
                throw FeatureStoreClientError(code: .unknown, message: "\(error)", endpoint: configuration.endpoints[i], attempts: attempt, cause: error)
            }
            let wait = Double.random(in: 0...1) * (Double(backoff.components.seconds) + Double(backoff.components.attoseconds) / 1e18)
            do { try await Task.sleep(for: .seconds(wait)) } catch {
                throw FeatureStoreClientError(code: .cancelled, message: "cancelled while waiting to retry", attempts: attempt, cause: error)
            }
            backoff = min(backoff * 2, policy.maxBackoff)
        }
    }

    func stub(_ i: Int) -> Featurestore_V1_FeatureServing.Client<HTTP2ClientTransport.Posix> { stubs[i] }
}

/// Runs `body` with a ``FeatureStoreClient`` for `configuration` whose connections run meanwhile, then shuts it down.
public func withFeatureStoreClient<Result: Sendable>(_ configuration: ClientConfiguration,
                                                     _ body: @Sendable (FeatureStoreClient) async throws -> Result) async throws -> Result {
    let client = try FeatureStoreClient(configuration)
    return try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask {
            do {
                try await client.run()
            } catch where client.isShutDown {
                // Shut down before its connections started (a body that returned at once): nothing was lost.
            }
            return nil
        }
        defer { client.shutDown() }
        let result = try await body(client)
        client.shutDown()
        while let next = try await group.next() { if let next { return next } }
        return result
    }
}
