public import FeatureStoreCore
import ErrorChain
import Foundation
import ServingSettings
import Synchronization

/// Limits on requests.
public struct ServingLimits: Sendable {
    /// The most entity rows (or pushed rows) in one request.
    public var maxBatch: Int = 10_000
    /// The largest HTTP request body, in bytes.
    public var maxBodyBytes: Int = 16 << 20
    /// Limits of `maxBatch` rows per request and `maxBodyBytes` per HTTP body (default 16 MiB).
    public init(maxBatch: Int = 10_000, maxBodyBytes: Int = 16 << 20) {
        self.maxBatch = maxBatch
        self.maxBodyBytes = maxBodyBytes
    }
}

/// Counts of calls, shared by both faces of one server (for shutdown, tests and metrics).
public final class ServingCounters: Sendable {
    private let inFlightCount = Atomic<Int>(0)
    private let totalCount = Atomic<Int>(0)

    /// Counters at zero.
    public init() {}

    /// Calls being handled now.
    public var inFlight: Int { inFlightCount.load(ordering: .relaxed) }
    /// Calls handled since start.
    public var total: Int { totalCount.load(ordering: .relaxed) }

    fileprivate func begin() {
        inFlightCount.add(1, ordering: .relaxed)
        totalCount.add(1, ordering: .relaxed)
    }

    fileprivate func end() {
        inFlightCount.subtract(1, ordering: .relaxed)
    }
}

/// Whether the server takes calls (readiness: `/readyz`, gRPC health, the `featurestore_ready` gauge): SERVING while
/// its online store can serve (``OnlineStoreService`` reports it), its stream consumer (when it ingests) has joined its
/// group, and until a graceful shutdown begins. Liveness
/// (`/healthz`) does not read it: a server that is up but not ready must not be restarted for it.
public final class ServingHealth: Sendable {
    private struct State {
        var shuttingDown = false
        var storeProblem: String?
        var streamProblem: String?
        var isServing: Bool { !shuttingDown && storeProblem == nil && streamProblem == nil }
        var reason: String? {
            if let storeProblem { return "online store: \(storeProblem)" }
            if let streamProblem { return "stream: \(streamProblem)" }
            return shuttingDown ? "shutting down" : nil
        }
    }
    private let state = Mutex(State())
    private let onChange: (@Sendable (Bool) -> Void)?
    /// Serving, until a store problem is reported or ``markNotServing()`` is called; `onChange` hears every change of
    /// readiness (and the first state at once), in order: it is called under the lock, so keep it short.
    public init(onChange: (@Sendable (Bool) -> Void)? = nil) {
        self.onChange = onChange
        onChange?(true)
    }
    /// Whether the server is serving: no shutdown begun, the online store's last report serving, the stream ready.
    public var isServing: Bool { state.withLock { $0.isServing } }
    /// Why the server is not serving: the store's problem, the stream's, or the shutdown (nil while serving).
    public var reason: String? { state.withLock { $0.reason } }
    /// Marks the server NOT_SERVING (at the start of a graceful shutdown, so load balancers stop sending).
    public func markNotServing() {
        change { $0.shuttingDown = true }
    }
    /// Records why stream ingestion is not ready (nil: it is).
    public func update(stream problem: String?) {
        change { $0.streamProblem = problem }
    }
    /// Records what the online store last said of its health.
    public func update(store health: OnlineStoreHealth) {
        change { state in
            switch health {
            case .serving: state.storeProblem = nil
            case .notServing(let why): state.storeProblem = why
            }
        }
    }
    /// Applies `update` and tells a change of readiness, both under the lock (two reporters never leave the gauge
    /// saying something else than `/readyz`).
    private func change(_ update: (inout State) -> Void) {
        state.withLock { state in
            let was = state.isServing
            update(&state)
            if state.isServing != was { onChange?(state.isServing) }
        }
    }
}

/// A column of values as a client sent them (protobuf or JSON), converted to a declared type on demand.
public protocol WireColumn {
    /// The number of values.
    var count: Int { get }
    /// Value `i` as `type`; `field` names it in errors (`entities[driver_id][3]`).
    func value(at i: Int, as type: ValueType, field: String) throws(ServingError) -> OnlineValue
}

/// What both faces of the server (gRPC and HTTP/JSON) do, in one place: the same checks, access control, metrics
/// and store calls, so a lookup or a push means the same whichever protocol carries it.
public final class ServingCore: Sendable {
    /// The repository served (reloaded after `featurectl apply`).
    public let repository: ServedRepository
    /// The request limits.
    public let limits: ServingLimits
    /// Who may do what (``AccessPolicy/open``: every call is allowed).
    public let access: AccessPolicy
    /// Where calls are measured.
    public let metrics: ServingMetrics
    /// Calls in flight and handled, across both faces.
    public let counters = ServingCounters()
    /// Whether the server is ready, for `/readyz`, gRPC health and the `featurestore_ready` gauge.
    public let health: ServingHealth
    /// Where lookups of services with `logging:` are logged (nil: not logged).
    public let featureLog: FeatureLogger?
    /// Where lookups of services with `skew_watch:` are checked against the offline engine (nil: not checked).
    public let skewWatch: SkewWatch?

    /// The core of a server of `repository` (by default: the default limits, no authentication, metrics discarded,
    /// no feature logging, no skew watch).
    public init(repository: ServedRepository, limits: ServingLimits = ServingLimits(), access: AccessPolicy = .open,
                metrics: ServingMetrics = .discarding(), featureLog: FeatureLogger? = nil, skewWatch: SkewWatch? = nil) {
        self.repository = repository
        self.limits = limits
        self.access = access
        self.metrics = metrics
        self.featureLog = featureLog
        self.skewWatch = skewWatch
        health = ServingHealth(onChange: { [metrics] ready in metrics.ready(ready) })
    }

    /// Runs one call: counts it, times it and records its outcome by code.
    public func call<T>(_ method: ServingMetrics.Method, _ transport: ServingMetrics.Transport,
                        _ body: () async throws(ServingError) -> T) async throws(ServingError) -> T {
        counters.begin()
        metrics.started()
        let start = ContinuousClock.now
        var code = ServingError.Code.ok
        defer {
            let elapsed = ContinuousClock.now - start
            metrics.finished(method, transport, code: code, nanoseconds: elapsed.nanoseconds)
            counters.end()
        }
        do {
            return try await body()
        } catch {
            code = error.code
            throw error
        }
    }

    // MARK: Lookups

    /// The latest values of `selection` for the entity rows in `entities` (join key name -> one value per row).
    public func lookup<Column: WireColumn>(entities: [String: Column], selection: FeatureSelection?, fullFeatureNames: Bool,
                                           authorization: String?, fields: LookupFields = .protobuf) async throws(ServingError) -> OnlineFeatures {
        try await lookup(entities: entities, requestContext: [String: Column](), selection: selection, fullFeatureNames: fullFeatureNames,
                         authorization: authorization, fields: fields)
    }

    /// The latest values of `selection` for the entity rows in `entities`, with `requestContext` (request field name
    /// -> one value per row, or one for all) feeding its on-demand features.
    public func lookup<Column: WireColumn, Request: WireColumn>(
        entities: [String: Column], requestContext: [String: Request], selection: FeatureSelection?, fullFeatureNames: Bool,
        authorization: String?, fields: LookupFields = .protobuf
    ) async throws(ServingError) -> OnlineFeatures {
        let principal = try access.authenticate(authorization)
        return try await lookup(entities: entities, requestContext: requestContext, selection: selection, fullFeatureNames: fullFeatureNames,
                                principal: principal, fields: fields)
    }

    /// A lookup for a caller already authenticated (``AccessPolicy/authenticate(_:)``: `nil` when authentication is
    /// off): streams authenticate once, then look up many times.
    public func lookup<Column: WireColumn, Request: WireColumn>(
        entities: [String: Column], requestContext: [String: Request], selection: FeatureSelection?, fullFeatureNames: Bool,
        principal: AccessPolicy.Principal?, fields: LookupFields = .protobuf
    ) async throws(ServingError) -> OnlineFeatures {
        let snapshot = repository.snapshot
        guard let selection else { throw .invalid("\(fields.features): give a feature service or feature references") }
        if access.isEnabled {
            let views: [String]
            do { views = try snapshot.store.featureViewNames(for: selection) } catch { throw Self.servingError(error) }
            try access.authorize(principal, .read, views: views)
        }
        var rows: Int? = nil
        var converted: [String: [OnlineValue]] = [:]
        for (name, column) in entities {
            guard let type = snapshot.joinKeyTypes[name] else {
                throw .invalid("\(fields.entities)[\(name)]: no entity has the join key '\(name)'\(Self.hint(name, snapshot.joinKeyTypes.keys))")
            }
            if let rows, rows != column.count {
                throw .invalid("\(fields.entities)[\(name)]: \(column.count) values, but other join keys have \(rows)")
            }
            rows = column.count
            var values: [OnlineValue] = []
            values.reserveCapacity(column.count)
            for i in 0..<column.count {
                let v = try column.value(at: i, as: .scalar(type), field: "\(fields.entities)[\(name)][\(i)]")
                if v == .null { throw .invalid("\(fields.entities)[\(name)][\(i)]: a join key cannot be null") }
                values.append(v)
            }
            converted[name] = values
        }
        guard let rows, rows > 0 else { throw .invalid("\(fields.entities): empty batch (give at least one entity row)") }
        guard rows <= limits.maxBatch else { throw .invalid("\(fields.entities): \(rows) rows, over the limit of \(limits.maxBatch)") }
        var context: [String: [OnlineValue]] = [:]
        if !requestContext.isEmpty {
            let declared = snapshot.store.registry.onDemandViews.flatMap(\.request)
            for (name, column) in requestContext {
                guard let field = declared.first(where: { $0.name == name }) else {
                    throw .invalid("\(fields.requestContext)[\(name)]: no on-demand view has the request field '\(name)'\(Self.hint(name, declared.map(\.name)))")
                }
                guard column.count == rows || column.count == 1 else {
                    throw .invalid("\(fields.requestContext)[\(name)]: \(column.count) values for \(rows) entity rows (give one per row, or one for all)")
                }
                var values: [OnlineValue] = []
                values.reserveCapacity(column.count)
                for i in 0..<column.count {
                    values.append(try column.value(at: i, as: .scalar(field.type), field: "\(fields.requestContext)[\(name)][\(i)]"))
                }
                context[name] = values
            }
        }
        let start = ContinuousClock.now
        // The lookup's time, given to the store and to the skew watch, so a check recomputes the same instant.
        let at = Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down))
        let result: OnlineFeatures
        do {
            result = try await snapshot.store.getOnlineFeatures(entities: converted, features: selection, fullFeatureNames: fullFeatureNames,
                                                                requestContext: context, at: at)
        } catch {
            throw Self.servingError(error)
        }
        metrics.storeRead(nanoseconds: (ContinuousClock.now - start).nanoseconds)
        metrics.entityRows(.getOnlineFeatures, rows)
        if case .service(let name) = selection, let service = snapshot.store.registry.featureService(named: name) {
            if let featureLog, service.logging != nil {
                featureLog.offer(service: service, store: snapshot.store, entities: converted, keyTypes: snapshot.joinKeyTypes, result: result)
            }
            if let skewWatch, service.skewWatch != nil {
                skewWatch.offer(service: service, store: snapshot.store, entities: converted, keyTypes: snapshot.joinKeyTypes, context: context,
                                result: result, at: at, fullFeatureNames: fullFeatureNames)
            }
        }
        return result
    }

    // MARK: Pushes

    /// Writes rows to a view's online table through the event-time-ordered upsert; returns rows written
    /// (rows older than what is stored are received but not written).
    public func push<Keys: WireColumn, Features: WireColumn>(
        view name: String, entities: [String: Keys], eventTimestamps: [Int64], createdTimestamps: [Int64],
        features: [String: Features], authorization: String?, fields: PushFields = .protobuf
    ) async throws(ServingError) -> (received: Int, written: Int) {
        let principal = try access.authenticate(authorization)
        let store = repository.store
        let registry = store.registry
        guard let view = registry.featureView(named: name) else {
            throw .invalid("\(fields.featureView): no feature view '\(name)'\(Self.hint(name, registry.featureViews.map(\.name)))")
        }
        try access.authorize(principal, .write, views: [view.name])
        guard view.online else { throw .invalid("\(fields.featureView): '\(view.name)' is not online (online: false)") }
        if let reason = view.pushUnsupportedReason { throw .invalid("\(fields.featureView): \(reason)") }
        let n = eventTimestamps.count
        guard n > 0 else { throw .invalid("\(fields.eventTimestamps): empty batch (one time per row)") }
        guard n <= limits.maxBatch else { throw .invalid("\(fields.eventTimestamps): \(n) rows, over the limit of \(limits.maxBatch)") }
        guard createdTimestamps.isEmpty || createdTimestamps.count == n else {
            throw .invalid("\(fields.createdTimestamps): \(createdTimestamps.count) values for \(n) rows")
        }
        let keys = registry.joinKeys(of: view)
        for given in entities.keys where !keys.contains(where: { $0.name == given }) {
            throw .invalid("\(fields.entities)[\(given)]: feature view '\(view.name)' has no join key '\(given)'; its keys: \(keys.map(\.name).joined(separator: ", "))")
        }
        var keyColumns: [[OnlineValue]] = []
        for key in keys {
            guard let column = entities[key.name] else { throw .invalid("\(fields.entities): missing join key '\(key.name)'") }
            guard column.count == n else { throw .invalid("\(fields.entities)[\(key.name)]: \(column.count) values for \(n) rows") }
            var values: [OnlineValue] = []
            for i in 0..<n {
                let v = try column.value(at: i, as: .scalar(key.type), field: "\(fields.entities)[\(key.name)][\(i)]")
                if v == .null { throw .invalid("\(fields.entities)[\(key.name)][\(i)]: a join key cannot be null") }
                values.append(v)
            }
            keyColumns.append(values)
        }
        for given in features.keys where view.feature(named: given) == nil {
            throw .invalid("\(fields.features)[\(given)]: feature view '\(view.name)' has no feature '\(given)'\(Self.hint(given, view.features.map(\.name)))")
        }
        var featureColumns: [[OnlineValue]] = []
        for feature in view.features {
            guard let column = features[feature.name] else {
                featureColumns.append(Array(repeating: .null, count: n))
                continue
            }
            guard column.count == n else { throw .invalid("\(fields.features)[\(feature.name)]: \(column.count) values for \(n) rows") }
            var values: [OnlineValue] = []
            for i in 0..<n {
                values.append(try column.value(at: i, as: feature.type, field: "\(fields.features)[\(feature.name)][\(i)]"))
            }
            featureColumns.append(values)
        }
        var rows = (0..<n).map { i in
            OnlineRow(key: keyColumns.map { $0[i] }, eventTimestamp: eventTimestamps[i],
                      createdTimestamp: createdTimestamps.isEmpty ? OnlineRow.noCreatedTimestamp : createdTimestamps[i],
                      values: featureColumns.map { $0[i] })
        }
        // The view's expectations, as on every path: under fail the push is refused naming the row and rule, under
        // drop violating rows are left out (received, not written), under warn they are written.
        let checker = ExpectationChecker(view: view)
        if !checker.isEmpty, view.violationPolicy != .warn {
            var kept: [OnlineRow] = []
            for (i, row) in rows.enumerated() {
                guard let v = checker.firstViolation(row.values) else { kept.append(row); continue }
                if view.violationPolicy == .fail {
                    throw .invalid("\(fields.features)[\(v.feature)][\(i)]: \(v.message) (expectation \(v.rule.rawValue) of feature view '\(view.name)', policy fail)")
                }
            }
            rows = kept
        }
        let written: Int
        do { written = try await store.onlineStore().write(rows, to: store.onlineTable(of: view)) } catch { throw Self.servingError(error) }
        metrics.entityRows(.pushFeatures, n)
        return (n, written)
    }

    // MARK: Catalog

    /// The registry, for catalog calls (after the catalog access check).
    public func catalog(authorization: String?) throws(ServingError) -> Registry {
        try access.authorizeCatalog(authorization)
        return repository.store.registry
    }

    // MARK: Helpers

    /// The status of a store failure: the request's fault, the store's absence, or an internal error.
    static func servingError(_ error: OnlineStoreError) -> ServingError {
        // The store's error is the cause; the faces render the chain (ErrorChain), so its text is not copied here.
        switch error.code {
        case .invalidRequest: return ServingError(.invalidArgument, "", cause: error)
        case .unavailable: return ServingError(.unavailable, "", cause: error)
        case .corrupt, .failed, .badInput: return ServingError(.internal, "", cause: error)
        }
    }

    static func hint(_ name: String, _ candidates: some Sequence<String>) -> String {
        Suggestion.hint(for: name, in: candidates)
    }
}

/// The request field names used in messages, which differ slightly between the protobuf and JSON forms.
public struct LookupFields: Sendable {
    /// The name of the entity rows' field.
    public var entities: String
    /// The name of the feature selection's field.
    public var features: String
    /// The name of the request data's field (on-demand views).
    public var requestContext = "request_context"
    /// The protobuf names.
    public static let protobuf = LookupFields(entities: "entities", features: "features")
    /// The JSON names.
    public static let json = LookupFields(entities: "entities", features: "feature_service or features")
}

/// The push request field names used in messages.
public struct PushFields: Sendable {
    /// The name of the feature view's field.
    public var featureView = "feature_view"
    /// The name of the join key columns' field.
    public var entities = "entities"
    /// The name of the event times' field.
    public var eventTimestamps: String
    /// The name of the created times' field.
    public var createdTimestamps: String
    /// The name of the feature columns' field.
    public var features = "features"
    /// The protobuf names (times in `..._micros` fields).
    public static let protobuf = PushFields(eventTimestamps: "event_timestamps_micros", createdTimestamps: "created_timestamps_micros")
    /// The JSON names.
    public static let json = PushFields(eventTimestamps: "event_timestamps", createdTimestamps: "created_timestamps")
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
