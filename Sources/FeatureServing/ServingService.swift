import FeatureServingAPI
import FeatureStore
import Foundation
import GRPCCore
import Logging
import Synchronization

/// The repository being served. After `featurectl apply` (the registry's apply time changes) the definitions are
/// compiled again and swapped in: no restart needed. A reload that fails keeps serving the previous definitions.
public final class ServedRepository: Sendable {
    public let url: URL
    private let state: Mutex<(store: FeatureStore, appliedAt: Date?)>
    private let logger: Logger

    public init(url: URL, logger: Logger = Logger(label: "featurestore.server")) throws(CompileError) {
        self.url = url
        self.logger = logger
        let store = try FeatureStore(repository: url)
        state = Mutex((store, Self.appliedAt(store)))
    }

    /// The definitions being served.
    public var store: FeatureStore { state.withLock { $0.store } }

    private static func appliedAt(_ store: FeatureStore) -> Date? {
        guard FileManager.default.fileExists(atPath: store.registryURL.path) else { return nil }
        return try? store.openRegistry(create: false).lastApplied()
    }

    /// Reloads when the registry was applied since the last load; returns whether it did.
    @discardableResult
    public func reloadIfApplied() -> Bool {
        let current = store
        let applied = Self.appliedAt(current)
        guard applied != nil, applied != state.withLock({ $0.appliedAt }) else { return false }
        do {
            let fresh = try FeatureStore(repository: url)
            state.withLock { $0 = (fresh, applied) }
            logger.info("reloaded the repository after apply", metadata: ["views": "\(fresh.registry.featureViews.count)"])
            return true
        } catch {
            logger.error("the repository changed but does not compile; still serving the previous definitions", metadata: ["error": "\(error)"])
            state.withLock { $0.appliedAt = applied }
            return false
        }
    }
}

/// Counts of calls, shared by the services of one server (for shutdown, tests and metrics).
public final class ServingCounters: Sendable {
    private let inFlightCount = Atomic<Int>(0)
    private let totalCount = Atomic<Int>(0)

    public init() {}

    /// Calls being handled now.
    public var inFlight: Int { inFlightCount.load(ordering: .relaxed) }
    /// Calls handled since start.
    public var total: Int { totalCount.load(ordering: .relaxed) }

    func track<T>(_ body: () async throws -> T) async rethrows -> T {
        inFlightCount.add(1, ordering: .relaxed)
        totalCount.add(1, ordering: .relaxed)
        defer { inFlightCount.subtract(1, ordering: .relaxed) }
        return try await body()
    }
}

/// Limits on requests.
public struct ServingLimits: Sendable {
    /// The most entity rows (or pushed rows) in one request.
    public var maxBatch: Int = 10_000
    public init(maxBatch: Int = 10_000) { self.maxBatch = maxBatch }
}

/// The `featurestore.v1.FeatureServing` gRPC service.
public struct ServingService: Featurestore_V1_FeatureServing.SimpleServiceProtocol {
    let repository: ServedRepository
    let limits: ServingLimits
    let counters: ServingCounters

    public init(repository: ServedRepository, limits: ServingLimits = ServingLimits(), counters: ServingCounters = ServingCounters()) {
        self.repository = repository
        self.limits = limits
        self.counters = counters
    }

    public func getOnlineFeatures(request: Featurestore_V1_GetOnlineFeaturesRequest,
                                  context: ServerContext) async throws -> Featurestore_V1_GetOnlineFeaturesResponse {
        try await counters.track { try lookup(request) }
    }

    private func lookup(_ request: Featurestore_V1_GetOnlineFeaturesRequest) throws -> Featurestore_V1_GetOnlineFeaturesResponse {
        var entities: [String: [OnlineValue]] = [:]
        for (name, column) in request.entities {
            entities[name] = try column.onlineValues(field: "entities[\(name)]")
        }
        let rows = entities.values.first?.count ?? 0
        guard rows > 0 else { throw invalidArgument("entities: empty batch (give at least one entity row)") }
        guard rows <= limits.maxBatch else { throw invalidArgument("entities: \(rows) rows, over the limit of \(limits.maxBatch)") }
        let selection: FeatureSelection
        switch request.features {
        case .featureService(let name):
            selection = .service(name)
        case .featureRefs(let refs):
            var parsed: [FeatureReference] = []
            for (i, text) in refs.refs.enumerated() {
                guard let ref = FeatureReference(parsing: text) else {
                    throw invalidArgument("feature_refs.refs[\(i)]: '\(text)' is not 'view' or 'view:feature'")
                }
                parsed.append(ref)
            }
            guard !parsed.isEmpty else { throw invalidArgument("feature_refs: empty (name at least one feature)") }
            selection = .references(parsed)
        case nil:
            throw invalidArgument("features: set feature_service or feature_refs")
        }
        let result: OnlineFeatures
        do {
            result = try repository.store.getOnlineFeatures(entities: entities, features: selection, fullFeatureNames: request.fullFeatureNames)
        } catch {
            if error.invalidRequest { throw invalidArgument(error.message) }
            throw RPCError(code: .internalError, message: error.message)
        }
        var response = Featurestore_V1_GetOnlineFeaturesResponse()
        response.entityCount = Int32(result.entityCount)
        response.featureNames = result.columns.map(\.name)
        response.features = result.columns.map { column in
            var out = Featurestore_V1_FeatureColumn()
            out.name = column.name
            out.values = column.values.map(\.proto)
            out.statuses = column.statuses.map(\.proto)
            out.eventTimestampsMicros = column.eventTimestamps.map { $0 ?? 0 }
            return out
        }
        return response
    }

    public func pushFeatures(request: Featurestore_V1_PushFeaturesRequest,
                             context: ServerContext) async throws -> Featurestore_V1_PushFeaturesResponse {
        try await counters.track { try push(request) }
    }

    private func push(_ request: Featurestore_V1_PushFeaturesRequest) throws -> Featurestore_V1_PushFeaturesResponse {
        let store = repository.store
        guard let view = store.registry.featureView(named: request.featureView) else {
            throw invalidArgument("feature_view: no feature view '\(request.featureView)'")
        }
        guard view.online else { throw invalidArgument("feature_view: '\(view.name)' is not online (online: false)") }
        let n = request.eventTimestampsMicros.count
        guard n > 0 else { throw invalidArgument("event_timestamps_micros: empty batch (one time per row)") }
        guard n <= limits.maxBatch else { throw invalidArgument("event_timestamps_micros: \(n) rows, over the limit of \(limits.maxBatch)") }
        guard request.createdTimestampsMicros.isEmpty || request.createdTimestampsMicros.count == n else {
            throw invalidArgument("created_timestamps_micros: \(request.createdTimestampsMicros.count) values for \(n) rows")
        }
        let keys = store.registry.joinKeys(of: view)
        var keyColumns: [[OnlineValue]] = []
        for key in keys {
            guard let column = request.entities[key.name] else { throw invalidArgument("entities: missing join key '\(key.name)'") }
            let values = try column.onlineValues(field: "entities[\(key.name)]")
            guard values.count == n else { throw invalidArgument("entities[\(key.name)]: \(values.count) values for \(n) rows") }
            for (i, v) in values.enumerated() {
                let fits: Bool
                switch (v, key.type) {
                case (.int(let x), .int32): fits = Int64(Int32.min)...Int64(Int32.max) ~= x
                case (.int, .int64), (.string, .string), (.bytes, .bytes): fits = true
                default: fits = false
                }
                guard fits else { throw invalidArgument("entities[\(key.name)][\(i)]: \(v) is not a \(key.type.rawValue)") }
            }
            keyColumns.append(values)
        }
        for name in request.features.keys where view.feature(named: name) == nil {
            throw invalidArgument("features[\(name)]: feature view '\(view.name)' has no feature '\(name)'")
        }
        var featureColumns: [[OnlineValue]] = []
        for feature in view.features {
            guard let list = request.features[feature.name] else {
                featureColumns.append(Array(repeating: .null, count: n))
                continue
            }
            guard list.values.count == n else { throw invalidArgument("features[\(feature.name)]: \(list.values.count) values for \(n) rows") }
            var values: [OnlineValue] = []
            for (i, v) in list.values.enumerated() {
                values.append(try OnlineValue(v, as: feature.type, field: "features[\(feature.name)][\(i)]"))
            }
            featureColumns.append(values)
        }
        let rows = (0..<n).map { i in
            OnlineRow(key: keyColumns.map { $0[i] }, eventTimestamp: request.eventTimestampsMicros[i],
                      createdTimestamp: request.createdTimestampsMicros.isEmpty ? 0 : request.createdTimestampsMicros[i],
                      values: featureColumns.map { $0[i] })
        }
        let written: Int
        do {
            written = try store.onlineStore().write(rows, to: view, keys: keys)
        } catch {
            throw RPCError(code: .internalError, message: error.message)
        }
        return .with {
            $0.rowsReceived = Int32(n)
            $0.rowsWritten = Int32(written)
        }
    }

    public func listFeatureViews(request: Featurestore_V1_ListFeatureViewsRequest,
                                 context: ServerContext) async throws -> Featurestore_V1_ListFeatureViewsResponse {
        let registry = repository.store.registry
        return .with { $0.featureViews = registry.featureViews.map { Featurestore_V1_FeatureViewSpec($0, registry: registry) } }
    }

    public func getFeatureView(request: Featurestore_V1_GetFeatureViewRequest,
                               context: ServerContext) async throws -> Featurestore_V1_FeatureViewSpec {
        let registry = repository.store.registry
        guard let view = registry.featureView(named: request.name) else {
            throw RPCError(code: .notFound, message: "name: no feature view '\(request.name)'")
        }
        return Featurestore_V1_FeatureViewSpec(view, registry: registry)
    }

    public func listFeatureServices(request: Featurestore_V1_ListFeatureServicesRequest,
                                    context: ServerContext) async throws -> Featurestore_V1_ListFeatureServicesResponse {
        let registry = repository.store.registry
        return .with {
            $0.featureServices = registry.featureServices.map { service in
                .with {
                    $0.name = service.name
                    $0.features = service.features.map(\.description)
                    $0.description_p = service.description
                    $0.owner = service.owner
                    $0.tags = service.tags
                }
            }
        }
    }
}
