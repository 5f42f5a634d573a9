import FeatureStoreCore
import ErrorChain
import Foundation
import Hummingbird
import HummingbirdTLS
import JSONCoding
import JSONMessageFormat
public import Logging
import NIOCore
public import Prometheus
public import ServiceLifecycle
import Synchronization

/// The HTTP/JSON face of the feature store (Hummingbird), for tools, browsers and languages without gRPC:
///
/// - `POST /v1/online-features`: a lookup, with the meaning of gRPC `GetOnlineFeatures`.
/// - `POST /v1/push`: rows to a view's online table, with the meaning of gRPC `PushFeatures`.
/// - `GET /healthz`: liveness, 200 `{"status":"ALIVE"}` while the process answers.
/// - `GET /readyz`: readiness, 200 `{"status":"SERVING"}` while calls should be sent; 503 with the reason while the
///   online store cannot serve or once a graceful shutdown has begun (gRPC health and `featurestore_ready` agree).
/// - `GET /metrics`: Prometheus text exposition of the server's metrics.
///
/// The feature catalog has a server of its own (``CatalogServer``), on a port browsers open.
///
/// Errors are JSON `{"error": {"code": "INVALID_ARGUMENT", "message": "entities[driver_id][2]: ..."}}` with the
/// HTTP status of the code (400, 401, 403, 404, 413, 500).
public final class HTTPFeatureServer: Service, Sendable {
    /// The serving core the routes call.
    public let core: ServingCore
    private let metricsRegistry: PrometheusCollectorRegistry?
    private let host: String
    private let port: Int
    private let logger: Logger
    private let tls: ServerTLS?
    private let boundPort = Mutex<Int?>(nil)

    /// - Parameters:
    ///   - core: the serving core the routes call.
    ///   - host: the address to listen on.
    ///   - port: the port (0: any free port; see ``listeningPort``).
    ///   - metricsRegistry: the registry `GET /metrics` exposes (nil: 404).
    ///   - tls: HTTPS with these certificates (nil: plain HTTP).
    ///   - logger: where start-up and errors are logged.
    public init(core: ServingCore, host: String = "127.0.0.1", port: Int = 6566, metricsRegistry: PrometheusCollectorRegistry?,
                tls: ServerTLS? = nil, logger: Logger = Logger(label: "featurestore.http")) {
        self.core = core
        self.host = host
        self.port = port
        self.tls = tls
        self.metricsRegistry = metricsRegistry
        self.logger = logger
    }

    /// The bound port, once listening (port 0 picks a free port).
    public var listeningPort: Int? { boundPort.withLock { $0 } }

    /// Listens on `host:port` and serves the routes until a graceful shutdown (which marks the core NOT_SERVING first).
    public func run() async throws {
        let router = Router()
        let routes = HTTPRoutes(core: core, metricsRegistry: metricsRegistry)
        routes.register(on: router)
        try await runHTTPApplication(router: router, host: host, port: port, tls: tls, core: core, logger: logger,
                                     message: { _ in "HTTP listening" }) { [self] port in
            boundPort.withLock { $0 = port }
        }
    }
}

/// Runs a Hummingbird application on `host:port` (over TLS when `tls` is given) until a graceful shutdown, which turns
/// the core's health to NOT_SERVING first. Once listening it logs `message(port)` with the port and calls `bound(port)`.
func runHTTPApplication(router: Router<BasicRequestContext>, host: String, port: Int, tls: ServerTLS?, core: ServingCore, logger: Logger,
                        message: @escaping @Sendable (Int) -> Logger.Message, bound: @escaping @Sendable (Int) -> Void) async throws {
    let app = Application(
        router: router,
        server: try tls.map { try .tls(.http1(), tlsConfiguration: $0.httpConfiguration) } ?? .http1(),
        configuration: .init(address: .hostname(host, port: port), serverName: "FeatureServer"),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? -1
            bound(port)
            logger.info(message(port), metadata: ["port": "\(port)", "repository": "\(core.repository.url.path)"])
        },
        logger: logger)
    try await withGracefulShutdownHandler {
        try await app.run()
    } onGracefulShutdown: {
        core.health.markNotServing()
    }
}

/// The HTTP routes, over the shared core.
struct HTTPRoutes: Sendable {
    let core: ServingCore
    let metricsRegistry: PrometheusCollectorRegistry?

    func register(on router: Router<BasicRequestContext>) {
        // Liveness: the process answers (restart it when it does not). Readiness is /readyz.
        router.get("/healthz") { _, _ -> Response in
            Self.json(.ok, Array(#"{"status":"ALIVE"}"#.utf8))
        }
        // Readiness: whether to send it calls (the online store answers, no shutdown begun), with the reason.
        router.get("/readyz") { _, _ -> Response in
            let serving = core.health.isServing
            var w = JSONWriter()
            w.raw("{\"status\":\"\(serving ? "SERVING" : "NOT_SERVING")\"")
            if !serving, let reason = core.health.reason {
                w.raw(",\"reason\":")
                w.string(reason)
            }
            w.raw("}")
            return Self.json(serving ? .ok : .serviceUnavailable, w.bytes)
        }
        router.get("/metrics") { _, _ -> Response in
            guard let metricsRegistry else {
                return Self.error(ServingError(.notFound, "metrics are not collected by this server"))
            }
            var buffer = ByteBuffer()
            buffer.writeBytes(metricsRegistry.emitToBuffer())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: buffer))
        }
        router.post("/v1/online-features") { request, _ -> Response in
            await handle(request, .getOnlineFeatures) { body, authorization async throws(ServingError) in
                try await lookup(body, authorization: authorization)
            }
        }
        // Feast's path: its SDK's remote online store (`online_store: {type: remote, path: http://host:port}`) posts
        // lookups here, with Feast's request fields; the answer is the same shape.
        router.post("/get-online-features") { request, _ -> Response in
            await handle(request, .getOnlineFeatures) { body, authorization async throws(ServingError) in
                try await lookup(body, authorization: authorization, feast: true)
            }
        }
        // Feast's write path: its SDK's remote online store writes here (`feast materialize`, `write_to_online_store`).
        router.post("/write-to-online-store") { request, _ -> Response in
            await handle(request, .pushFeatures) { body, authorization async throws(ServingError) in
                try await feastWrite(body, authorization: authorization)
            }
        }
        // Feast's push path (its feature server's `/push`): a push source's rows, written to the views reading it.
        router.post("/push") { request, _ -> Response in
            await handle(request, .pushFeatures) { body, authorization async throws(ServingError) in
                try await feastPush(body, authorization: authorization)
            }
        }
        router.post("/v1/push") { request, _ -> Response in
            await handle(request, .pushFeatures) { body, authorization async throws(ServingError) in
                try await push(body, authorization: authorization)
            }
        }
    }

    /// Reads the body, runs the call through the core (counted and timed), and renders the result or the error.
    private func handle(_ request: Request, _ method: ServingMetrics.Method,
                        _ body: ([UInt8], String?) async throws(ServingError) -> [UInt8]) async -> Response {
        let authorization = request.headers[.authorization]
        let bytes: [UInt8]
        do {
            var buffer = try await request.body.collect(upTo: core.limits.maxBodyBytes)
            bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch is NIOTooManyBytesError {
            return Self.json(.contentTooLarge, Self.errorBody(code: "INVALID_ARGUMENT", message: "body: over the limit of \(core.limits.maxBodyBytes) bytes"))
        } catch {
            return Self.error(ServingError(.invalidArgument, "body: could not be read", cause: error))
        }
        do {
            let out = try await core.call(method, .http) { () async throws(ServingError) in try await body(bytes, authorization) }
            return Self.json(.ok, out)
        } catch {
            return Self.error(error)
        }
    }

    // MARK: Lookups

    static let lookupFields = ["feature_service", "features", "entities", "full_feature_names", "request_context"]
    /// What Feast's SDK (0.67) also sends to `/get-online-features`.
    static let feastLookupFields = lookupFields + ["include_feature_view_version_metadata"]

    private func lookup(_ bytes: [UInt8], authorization: String?, feast: Bool = false) async throws(ServingError) -> [UInt8] {
        let body = try JSONObject(JSONValue.parseBody(bytes), path: "", allowed: feast ? Self.feastLookupFields : Self.lookupFields)
        if feast, try body.bool("include_feature_view_version_metadata") == true {
            // Feast's per-view version metadata has no counterpart here: refused rather than answered without it.
            throw .invalid("include_feature_view_version_metadata: true is not supported (feature views are not versioned here); send false")
        }
        let service = try body.string("feature_service")
        let refs = try body.array("features")
        var selection: FeatureSelection? = nil
        switch (service, refs) {
        case (_?, _?):
            throw .invalid("feature_service, features: give one, not both")
        case (let name?, nil):
            selection = .service(name)
        case (nil, let refs?):
            guard !refs.isEmpty else { throw .invalid("features: empty (name at least one feature)") }
            var parsed: [FeatureReference] = []
            for (i, item) in refs.enumerated() {
                guard case .string(let text) = item, let ref = FeatureReference(parsing: text) else {
                    throw .invalid("features[\(i)]: expected 'view' or 'view:feature', found \(item.kindName)")
                }
                parsed.append(ref)
            }
            selection = .references(parsed)
        case (nil, nil):
            selection = nil
        }
        guard let entities = try body.columns("entities") else { throw .invalid("entities: missing (join key name -> array of values)") }
        let result = try await core.lookup(entities: entities, requestContext: try body.columns("request_context") ?? [:], selection: selection,
                                           fullFeatureNames: try body.bool("full_feature_names") ?? false, authorization: authorization, fields: .json)
        // Feast's SDK parses every event time it reads as text: a value without one gets the epoch, as from Feast's server.
        return Self.render(result, missingEventTime: feast ? "1970-01-01T00:00:00Z" : nil)
    }

    /// `{"metadata": {"feature_names": [...]}, "entity_count": n, "results": [{"values", "statuses", "event_timestamps"}]}`,
    /// one result per feature, in the order of `feature_names` (Feast's response shape).
    static func render(_ result: OnlineFeatures, missingEventTime: String? = nil) -> [UInt8] {
        var w = JSONWriter(capacity: 128 + result.columns.count * result.entityCount * 40)
        w.raw("{\"metadata\":{\"feature_names\":")
        w.array(result.columns) { w, c in w.string(c.name) }
        w.raw("},\"entity_count\":\(result.entityCount),\"results\":")
        w.array(result.columns) { w, column in
            w.raw("{\"values\":")
            w.array(column.values) { w, v in w.value(v) }
            w.raw(",\"statuses\":")
            w.array(column.statuses) { w, s in w.string(s.protoName) }
            w.raw(",\"event_timestamps\":")
            w.array(column.eventTimestamps) { w, t in
                if let t { w.timestamp(micros: t) } else if let missingEventTime { w.string(missingEventTime) } else { w.raw("null") }
            }
            w.raw("}")
        }
        w.raw("}")
        return w.bytes
    }

    // MARK: Pushes

    static let pushFields = ["feature_view", "entities", "event_timestamps", "created_timestamps", "features"]

    private func push(_ bytes: [UInt8], authorization: String?) async throws(ServingError) -> [UInt8] {
        let body = try JSONObject(JSONValue.parseBody(bytes), path: "", allowed: Self.pushFields)
        guard let view = try body.string("feature_view") else { throw .invalid("feature_view: missing") }
        let events = try Self.timestamps(body.array("event_timestamps") ?? [], field: "event_timestamps")
        let created = try Self.timestamps(body.array("created_timestamps") ?? [], field: "created_timestamps")
        let result = try await core.push(view: view, entities: body.columns("entities") ?? [:], eventTimestamps: events,
                                   createdTimestamps: created, features: body.columns("features") ?? [:],
                                   authorization: authorization, fields: .json)
        return Array("{\"rows_received\":\(result.received),\"rows_written\":\(result.written)}".utf8)
    }

    /// What Feast's SDK (0.67) sends to `/write-to-online-store`: a view's rows as columns, join keys and features
    /// side by side, with `event_timestamp` and `created` (naive ISO-8601, UTC; `created` null when unknown).
    static let feastWriteFields = ["feature_view_name", "df", "allow_registry_cache"]

    private func feastWrite(_ bytes: [UInt8], authorization: String?) async throws(ServingError) -> [UInt8] {
        let body = try JSONObject(JSONValue.parseBody(bytes), path: "", allowed: Self.feastWriteFields)
        guard let view = try body.string("feature_view_name") else { throw .invalid("feature_view_name: missing") }
        guard var df = try body.columns("df") else { throw .invalid("df: missing (column name -> array of values)") }
        guard let events = df.removeValue(forKey: "event_timestamp") else { throw .invalid("df.event_timestamp: missing (the rows' event times)") }
        let createdColumn = df.removeValue(forKey: "created")
        var created: [Int64] = []
        if let createdColumn, createdColumn.values.contains(where: { if case .null = $0 { false } else { true } }) {
            // Feast sends null for a row without a created time: that row has none, the others theirs.
            for (i, value) in createdColumn.values.enumerated() {
                if case .null = value { created.append(OnlineRow.noCreatedTimestamp); continue }
                created += try Self.timestamps([value], field: "df.created[\(i)]")
            }
        }
        // Join keys and features apart by the view's join keys (an unknown view is reported by the push itself).
        let registry = core.repository.store.registry
        let keyNames = registry.featureView(named: view).map { Set(registry.joinKeys(of: $0).map(\.name)) } ?? []
        let result = try await core.push(view: view, entities: df.filter { keyNames.contains($0.key) },
                                         eventTimestamps: try Self.timestamps(events.values, field: "df.event_timestamp"), createdTimestamps: created,
                                         features: df.filter { !keyNames.contains($0.key) }, authorization: authorization, fields: .json)
        return Array("{\"rows_received\":\(result.received),\"rows_written\":\(result.written)}".utf8)
    }

    /// What Feast's `/push` takes (its `PushFeaturesRequest`): the push source's name, its rows as columns (the
    /// source's column names), where to write, and two flags without a meaning here.
    static let feastPushFields = ["push_source_name", "df", "to", "allow_registry_cache", "transform_on_write"]

    private func feastPush(_ bytes: [UInt8], authorization: String?) async throws(ServingError) -> [UInt8] {
        let body = try JSONObject(JSONValue.parseBody(bytes), path: "", allowed: Self.feastPushFields)
        guard let source = try body.string("push_source_name") else { throw .invalid("push_source_name: missing") }
        let to = try body.string("to") ?? "online"
        guard to == "online" else {
            // The offline copy of pushed rows is the source's files, which FeatureServer does not write.
            throw .invalid("to: '\(to)' is not supported: FeatureServer writes pushed rows to the online store only (\"online\"); add them to the source's files for training")
        }
        guard let df = try body.columns("df") else { throw .invalid("df: missing (column name -> array of values)") }
        guard let n = df.values.first?.values.count else { throw .invalid("df: no columns") }
        for (name, column) in df where column.values.count != n {
            throw .invalid("df[\(name)]: \(column.values.count) values where other columns have \(n)")
        }
        let names = Array(df.keys)
        let columns = names.map { df[$0]!.values }
        let rows: [[String: EventValue]] = (0..<n).map { i in
            var row: [String: EventValue] = [:]
            row.reserveCapacity(names.count)
            for (k, name) in names.enumerated() { row[name] = JSONMessageDecoder.eventValue(columns[k][i]) }
            return row
        }
        let result = try await core.pushSourceRows(source: source, rows: rows, authorization: authorization)
        // An object of view -> count or reason, keys sorted.
        func object(_ entries: [String: String], into w: inout JSONWriter, quoted: Bool) {
            w.raw("{")
            for (i, (view, value)) in entries.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { w.raw(",") }
                w.string(view)
                w.raw(":")
                if quoted { w.string(value) } else { w.raw(value) }
            }
            w.raw("}")
        }
        var w = JSONWriter()
        w.raw("{\"rows_received\":\(result.received),\"rows_written\":")
        object(result.written.mapValues(String.init), into: &w, quoted: false)
        w.raw(",\"skipped\":")
        object(result.skipped, into: &w, quoted: true)
        if !result.dropped.isEmpty {
            w.raw(",\"dropped\":")
            object(result.dropped.mapValues(String.init), into: &w, quoted: false)
        }
        w.raw("}")
        return w.bytes
    }

    private static func timestamps(_ values: [JSONValue], field: String) throws(ServingError) -> [Int64] {
        var out: [Int64] = []
        out.reserveCapacity(values.count)
        for (i, v) in values.enumerated() {
            guard case .timestamp(let micros) = try JSONColumn.convert(v, as: .scalar(.timestamp), field: "\(field)[\(i)]") else {
                throw .invalid("\(field)[\(i)]: a time is required (ISO-8601 or epoch microseconds)")
            }
            out.append(micros)
        }
        return out
    }

    // MARK: Responses

    static func json(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    static func errorBody(code: String, message: String) -> [UInt8] {
        var w = JSONWriter()
        w.raw("{\"error\":{\"code\":")
        w.string(code)
        w.raw(",\"message\":")
        w.string(message)
        w.raw("}}")
        return w.bytes
    }

    static func error(_ error: ServingError) -> Response {
        json(HTTPResponse.Status(code: error.code.httpStatus), errorBody(code: error.code.rawValue, message: ErrorChain.render(error)))
    }
}

extension FeatureStatus {
    /// The status's name in the API (as in the protobuf enum).
    var protoName: String {
        switch self {
        case .present: return "PRESENT"
        case .nullValue: return "NULL_VALUE"
        case .notFound: return "NOT_FOUND"
        case .outsideMaxAge: return "OUTSIDE_MAX_AGE"
        }
    }
}
