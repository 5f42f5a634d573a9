import FeatureServing
import FeatureServingAPI
import FeatureStoreCore
import Foundation
import ServingSettings
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Prometheus
import ServiceLifecycle
import SwiftProtobuf
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
import TestKinds
#endif

/// A repository with drivers (int64 key) and routes (two string keys), served as FeatureServer serves it: gRPC, HTTP
/// and the reloader in one ServiceGroup, on free loopback ports.
final class ServerFixture: Sendable {
    let dir: URL
    let core: ServingCore
    let grpc: GRPCFeatureServer
    let http: HTTPFeatureServer
    let catalog: CatalogServer
    let metrics: PrometheusCollectorRegistry
    let group: ServiceGroup
    let port: Int
    let httpPort: Int
    let catalogPort: Int
    let task: Task<Void, any Error>

    static let definitions = """
        entities:
          - {name: driver, join_keys: [{name: driver_id, type: int64}]}
          - {name: route, join_keys: [{name: origin, type: string}, {name: dest, type: string}]}
        sources:
          - {name: stats_src, kind: parquet, path: data/stats.parquet, timestamp_field: ts}
          - {name: route_src, kind: parquet, path: data/route.parquet, timestamp_field: ts}
        feature_views:
          - name: stats
            description: "Driver stats <script>document.title='pwned'</script> & more"
            owner: mobility@example.com
            tags: {team: "<b>supply</b>"}
            entities: [driver]
            source: stats_src
            ttl: 1h
            features:
              - {name: conv, type: float64, description: Share of offers converted into trips}
              - {name: trips, type: int64}
              - {name: tags, type: list<string>}
          - {name: route_stats, entities: [route], source: route_src, ttl: 0, features: [{name: minutes, type: float64}]}
        feature_services:
          - {name: ranking, features: [stats, route_stats]}

        """

    /// Secrets of the tokens the fixture configures when `auth` is on.
    static let readerToken = "reader-0123456789abcdef"
    static let statsWriterToken = "stats-writer-0123456789"
    static let routeReaderToken = "route-reader-0123456789"
    static let writerAllToken = "writer-all-0123456789ab"

    /// The `auth` section used when `auth` is on: a reader of everything (secret from the environment), a writer of
    /// `stats` (secret from a file), a reader of `route_stats` only and a writer of every view.
    static let authSection = """
        auth:
          tokens:
            - {name: reader, scopes: ["read:*"], env: FIXTURE_READER_TOKEN}
            - {name: stats_writer, scopes: ["write:stats"], file: secrets/stats_writer.token}
            - {name: route_reader, scopes: ["read:route_stats"], file: secrets/route_reader.token}
            - {name: writer_all, scopes: ["write:*"], file: secrets/writer_all.token}

        """

    /// - Parameter extraDefinitions: more YAML objects appended to ``definitions`` (list items under their own keys).
    init(maxBatch: Int = 10_000, auth: Bool = false, extraDefinitions: String = "", featureLog: FeatureLogger? = nil,
         skewWatch: SkewWatch? = nil) async throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("secrets"), withIntermediateDirectories: true)
        try ("project: serving\n" + (auth ? Self.authSection : "")).write(to: dir.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
        try Self.definitions.write(to: dir.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
        if !extraDefinitions.isEmpty {
            try extraDefinitions.write(to: dir.appendingPathComponent("extra.yaml"), atomically: true, encoding: .utf8)
        }
        try (Self.statsWriterToken + "\n").write(to: dir.appendingPathComponent("secrets/stats_writer.token"), atomically: true, encoding: .utf8)
        try Self.routeReaderToken.write(to: dir.appendingPathComponent("secrets/route_reader.token"), atomically: true, encoding: .utf8)
        try Self.writerAllToken.write(to: dir.appendingPathComponent("secrets/writer_all.token"), atomically: true, encoding: .utf8)
        let repository = try ServedRepository(url: dir, kinds: testKinds)
        let access = try AccessPolicy(config: repository.store.config.auth, repository: dir,
                                      environment: ["FIXTURE_READER_TOKEN": Self.readerToken])
        metrics = PrometheusCollectorRegistry()
        core = ServingCore(repository: repository, limits: ServingLimits(maxBatch: maxBatch, maxBodyBytes: 1 << 20), access: access,
                           metrics: ServingMetrics(factory: ServingMetrics.prometheusFactory(registry: metrics)), featureLog: featureLog,
                           skewWatch: skewWatch)
        grpc = try GRPCFeatureServer(core: core, port: 0)
        http = HTTPFeatureServer(core: core, port: 0, metricsRegistry: metrics)
        catalog = CatalogServer(core: core, port: 0)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        group = ServiceGroup(configuration: .init(services: [
            .init(service: grpc), .init(service: http), .init(service: catalog),
            .init(service: RepositoryReloader(repository: repository, interval: .milliseconds(100))),
        ], logger: logger))
        let group = self.group
        task = Task { try await group.run() }
        var found: (Int?, Int?, Int?) = (nil, nil, nil)
        for _ in 0..<500 where found.0 == nil || found.1 == nil || found.2 == nil {
            found = (try await grpc.listeningPort, http.listeningPort, catalog.listeningPort)
            if found.0 == nil || found.1 == nil || found.2 == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        port = try #require(found.0)
        httpPort = try #require(found.1)
        catalogPort = try #require(found.2)
    }

    /// Runs `body` with a client of the serving API on a fresh connection.
    func withClient<T: Sendable>(_ body: @Sendable (Featurestore_V1_FeatureServing.Client<HTTP2ClientTransport.Posix>) async throws -> T) async throws -> T {
        try await withGRPCClient(transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)) { client in
            try await body(Featurestore_V1_FeatureServing.Client(wrapping: client))
        }
    }

    /// One HTTP request to the fixture's HTTP API port.
    func http(_ method: String, _ path: String, json: String? = nil, token: String? = nil) async throws -> HTTPResult {
        try await request(port: httpPort, method, path, json: json, token: token)
    }

    /// One HTTP request to the fixture's catalog port.
    func catalogPage(_ path: String, token: String? = nil, cookie: String? = nil) async throws -> HTTPResult {
        try await request(port: catalogPort, "GET", path, token: token, cookie: cookie)
    }

    func request(port: Int, _ method: String, _ path: String, json: String? = nil, token: String? = nil, cookie: String? = nil) async throws -> HTTPResult {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        if let cookie { request.setValue(cookie, forHTTPHeaderField: "Cookie") }
        request.httpMethod = method
        if let json {
            request.httpBody = Data(json.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        return HTTPResult(status: http.statusCode, contentType: http.value(forHTTPHeaderField: "Content-Type") ?? "",
                          body: String(decoding: data, as: UTF8.self))
    }

    /// Stops every service as SIGTERM does, waits for them to end and removes the repository.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
        try? FileManager.default.removeItem(at: dir)
    }
}

/// An HTTP response as the tests see it.
struct HTTPResult: Sendable {
    var status: Int
    var contentType: String
    var body: String

    /// The body parsed as a JSON object.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
    }
}

/// Call options that send a bearer token.
func bearer(_ token: String) -> Metadata { ["authorization": "Bearer \(token)"] }

func ints(_ values: [Int64]) -> Featurestore_V1_KeyColumn { .with { $0.int64Values = .with { $0.values = values } } }
func strings(_ values: [String]) -> Featurestore_V1_KeyColumn { .with { $0.stringValues = .with { $0.values = values } } }
func doubleValue(_ d: Double) -> Featurestore_V1_Value { .with { $0.doubleValue = d } }

/// Pushes driver rows (id, event time in seconds from now, conv) to `stats`.
func push(_ client: Featurestore_V1_FeatureServing.Client<HTTP2ClientTransport.Posix>, ids: [Int64], agesSeconds: [Int64], conv: [Double?]) async throws -> Featurestore_V1_PushFeaturesResponse {
    let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
    return try await client.pushFeatures(.with {
        $0.featureView = "stats"
        $0.entities = ["driver_id": ints(ids)]
        $0.eventTimestampsMicros = agesSeconds.map { now - $0 * 1_000_000 }
        $0.features = ["conv": .with { $0.values = conv.map { $0.map(doubleValue) ?? Featurestore_V1_Value() } }]
    })
}


/// Polls `condition` every millisecond until it holds; throws after `timeout`, so a wait that never ends fails
/// the test instead of hanging the suite.
func waitUntil(_ what: String, timeout: Duration = .seconds(30), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw WaitTimeout(what: what, timeout: timeout) }
        try await Task.sleep(for: .milliseconds(1))
    }
}

struct WaitTimeout: Error, CustomStringConvertible {
    var what: String
    var timeout: Duration
    var description: String { "waited \(timeout) for \(what)" }
}
