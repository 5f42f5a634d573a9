public import Columnar
import Expressions
import FeatureComputation
public import Foundation
import Synchronization

/// The status of one served value.
public enum FeatureStatus: String, Sendable, Codable {
    /// A value is stored and fresh.
    case present = "PRESENT"
    /// A row is stored and fresh, but this feature is null in it.
    case nullValue = "NULL_VALUE"
    /// No row is stored for the entity.
    case notFound = "NOT_FOUND"
    /// The stored row is older than the view's ttl, measured from now: the value is withheld (null).
    case outsideMaxAge = "OUTSIDE_MAX_AGE"
}

/// One served feature over all requested entities: values, statuses and event times, column-wise.
public struct OnlineFeatureColumn: Sendable {
    /// The output name (`feature`, or `view__feature`).
    public var name: String
    /// The feature view it comes from.
    public var view: String
    /// The feature's name in its view.
    public var feature: String
    /// The declared type.
    public var type: ValueType
    /// One value per requested entity, null where withheld or absent (see `statuses`).
    public var values: [OnlineValue]
    /// One status per requested entity.
    public var statuses: [FeatureStatus]
    /// Event times in microseconds since the epoch (nil when nothing was found).
    public var eventTimestamps: [Int64?]
}

/// The answer to an online lookup: one column per feature, one row per requested entity.
public struct OnlineFeatures: Sendable {
    /// The number of entities requested.
    public var entityCount: Int
    /// One column per feature, in the order requested.
    public var columns: [OnlineFeatureColumn]
}

/// Opens the online store on first use, starts it, and keeps it open. The opening runs in the caller's task (no task
/// is spawned); when two first uses race, the first store kept wins and the other is stopped. A failed opening is
/// tried again by the next use.
final class OnlineStoreHandle: Sendable {
    private let state = Mutex<(any OnlineStore)?>(nil)

    func get(_ open: () async throws(OnlineStoreError) -> any OnlineStore) async throws(OnlineStoreError) -> any OnlineStore {
        if let current = state.withLock({ $0 }) { return current }
        let opened = try await open()
        let (kept, won) = state.withLock { current -> (any OnlineStore, Bool) in
            if let current { return (current, false) }
            current = opened
            return (opened, true)
        }
        if !won { await opened.stop() }
        return kept
    }
}

extension FeatureStore {
    /// The online store named in the settings: opened and started once, then shared by every use (and by the
    /// definitions reloaded from these, see ``init(repository:reloading:)``).
    public func onlineStore() async throws(OnlineStoreError) -> any OnlineStore {
        let settings = config.onlineStore.settings, repository = self.repository, project = config.project
        let kinds = self.kinds
        return try await onlineHandle.get { () async throws(OnlineStoreError) -> any OnlineStore in
            // Only when the store is opened (every lookup asks for it).
            guard let kind = kinds.onlineStores[settings.kind] else {
                throw OnlineStoreError(settings.located(kinds.unknownOnlineStore(settings.kind)))
            }
            var checked = settings
            kind.validate(&checked)
            if let problem = checked.problems.first { throw OnlineStoreError("online_store: \(problem)") }
            checked.project = project
            let store = try kind.open(checked, repository: repository)
            try await store.start()
            return store
        }
    }

    /// Whether the online store exists yet: read-only tools (the catalog, `apply`'s clean-up) do not create one just
    /// to find it empty. False when this program has no such store kind.
    public var onlineStoreExists: Bool {
        guard let kind = kinds.onlineStores[config.onlineStore.kind] else { return false }
        return kind.exists(config.onlineStore.settings, repository: repository)
    }

    /// The names of the feature views a selection reads (for access checks), with the errors a lookup would give.
    public func featureViewNames(for selection: FeatureSelection) throws(OnlineStoreError) -> [String] {
        do {
            return try resolve(selection, fullNames: true).views.map(\.view.name)
        } catch {
            throw OnlineStoreError(error.message, invalidRequest: true)
        }
    }

    /// Serves the latest values of `features` for a batch of entities.
    ///
    /// `entities` is column-wise: each join key name maps to one value per entity row (all of equal length).
    /// A value older than its view's ttl (from `now`) comes back null with ``FeatureStatus/outsideMaxAge``.
    ///
    /// - Parameters:
    ///   - entities: join key name -> one value per entity row.
    ///   - features: a feature service, or `view` / `view:feature` references.
    ///   - fullFeatureNames: name columns `view__feature` instead of `feature`.
    ///   - requestContext: the request fields of on-demand views: field name -> one value per entity row (or a single
    ///     value for all of them); timestamps as ISO 8601 text or microseconds since the epoch.
    ///   - now: the time ttls are measured from (tests and replays pass their own).
    /// - Returns: one column per feature with a value, status and event time per entity row: the views' features in
    ///   the order requested, then the on-demand features (PRESENT, or NULL_VALUE when the expression is null).
    /// - Throws: ``OnlineStoreError``: ``OnlineStoreError/Code/invalidRequest`` for a wrong request (unknown feature,
    ///   missing or mistyped key or request field), another code when the store fails.
    public func getOnlineFeatures(entities: [String: [OnlineValue]], features: FeatureSelection,
                                  fullFeatureNames: Bool = false, requestContext: [String: [OnlineValue]] = [:],
                                  now: Date = Date()) async throws(OnlineStoreError) -> OnlineFeatures {
        // To the nearest microsecond: a time given in microseconds and made a Date comes back as itself.
        try await getOnlineFeatures(entities: entities, features: features, fullFeatureNames: fullFeatureNames, requestContext: requestContext,
                                    at: Int64((now.timeIntervalSince1970 * 1_000_000).rounded()))
    }

    /// ``getOnlineFeatures(entities:features:fullFeatureNames:requestContext:now:)`` at a time given exactly, in
    /// microseconds since the epoch (what `verify` and replays compare with training sets at the same time).
    public func getOnlineFeatures(entities: [String: [OnlineValue]], features: FeatureSelection,
                                  fullFeatureNames: Bool = false, requestContext: [String: [OnlineValue]] = [:],
                                  at nowMicros: Int64) async throws(OnlineStoreError) -> OnlineFeatures {
        let resolved: ResolvedSelection
        do {
            resolved = try resolve(features, fullNames: fullFeatureNames)
        } catch {
            throw OnlineStoreError(error.message, invalidRequest: true)
        }
        let requests = resolved.views
        let counts = Set(entities.values.map(\.count))
        guard counts.count <= 1 else {
            throw OnlineStoreError("entity key columns have different lengths: \(entities.map { "\($0.key)=\($0.value.count)" }.sorted().joined(separator: ", "))", invalidRequest: true)
        }
        let n = counts.first ?? 0
        if let (name, _) = resolved.duplicate {
            throw OnlineStoreError("feature name '\(name)' appears twice; use full feature names (view__feature)", invalidRequest: true)
        }
        let requestInputs = try Self.requestInputs(resolved.onDemand, context: requestContext, count: n)
        let store = try await onlineStore()
        // Every view's keys first, then one read for all views.
        var reads: [OnlineReadRequest] = []
        for request in requests {
            let view = request.view
            guard view.online else { throw OnlineStoreError("feature view '\(view.name)' is not online (online: false)", invalidRequest: true) }
            let table = registeredTable(of: view)
            let keys = table.joinKeys
            var rows = [[OnlineValue]](repeating: [], count: n)
            for key in keys {
                guard let values = entities[key.name] else {
                    throw OnlineStoreError("missing join key '\(key.name)' (needed by feature view '\(view.name)'); given: \(entities.keys.sorted().joined(separator: ", "))", invalidRequest: true)
                }
                for (i, v) in values.enumerated() {
                    guard Self.keyValueMatches(v, key.type) else {
                        throw OnlineStoreError("join key '\(key.name)' value \(i) is \(v), expected \(key.type.rawValue)", invalidRequest: true)
                    }
                    rows[i].append(v)
                }
            }
            reads.append(OnlineReadRequest(table: table, keys: rows))
        }
        // Views of latest rows in one read; aggregated views from their tiles.
        let plain = reads.filter { !$0.view.isAggregated }
        var plainStored = try await store.read(plain)[...]
        var columns: [OnlineFeatureColumn] = []
        for (request, read) in zip(requests, reads) {
            let view = request.view
            if view.isAggregated {
                columns += try await aggregatedColumns(request, read, store: store, now: nowMicros)
                continue
            }
            columns += plainColumns(request, stored: plainStored.removeFirst(), count: n, now: nowMicros)
        }
        guard !resolved.onDemand.isEmpty else { return OnlineFeatures(entityCount: n, columns: columns) }
        var visible: [OnlineFeatureColumn] = []
        var c = 0
        for request in requests {
            for f in request.features.indices {
                if request.visible[f] { visible.append(columns[c]) }
                c += 1
            }
        }
        visible += Self.onDemandColumns(resolved, viewColumns: columns, request: requestInputs, count: n)
        return OnlineFeatures(entityCount: n, columns: visible)
    }

    /// A plain view's features from its stored latest rows: values older than the ttl withheld (``RowExpiry``).
    private func plainColumns(_ request: ViewRequest, stored: [StoredOnlineRow?], count n: Int, now nowMicros: Int64) -> [OnlineFeatureColumn] {
        let view = request.view
        var columns: [OnlineFeatureColumn] = []
        let ttl = view.ttl.seconds * 1_000_000
        let positions = request.features.map { f in view.features.firstIndex { $0.name == f.name }! }
        for (feature, (name, position)) in zip(request.features, zip(request.outputNames, positions)) {
            var values = [OnlineValue](repeating: .null, count: n)
            var statuses = [FeatureStatus](repeating: .notFound, count: n)
            var times = [Int64?](repeating: nil, count: n)
            for i in 0..<n {
                guard let row = stored[i] else { continue }
                if ttl > 0 && nowMicros >= RowExpiry.goneAt(event: row.eventTimestamp, ttl: ttl) { continue }  // as if expired
                times[i] = row.eventTimestamp
                if ttl > 0 && EventTime.before(nowMicros, by: ttl) > row.eventTimestamp {
                    statuses[i] = .outsideMaxAge
                    continue
                }
                let v = row.values[position]
                values[i] = v
                statuses[i] = v == .null ? .nullValue : .present
            }
            columns.append(OnlineFeatureColumn(name: name, view: view.name, feature: feature.name, type: feature.type,
                                               values: values, statuses: statuses, eventTimestamps: times))
        }
        return columns
    }

    /// An aggregated view's features at `now`: each entity's tiles in the features' windows merged. A value is
    /// PRESENT (a count of 0 too) or NULL_VALUE (an empty window of a function other than count); aggregates have no
    /// single event time (nil).
    private func aggregatedColumns(_ request: ViewRequest, _ read: OnlineReadRequest, store: any OnlineStore, now: Int64) async throws(OnlineStoreError) -> [OnlineFeatureColumn] {
        let view = request.view
        // Per hop, the oldest tile a requested feature's window reaches (a 1h window's 5-minute tiles are read for the
        // last hour only, not for the 7 days a 7d feature's hourly tiles cover), and the roll-ups that stand for tiles.
        let layout = TileStates.Layout(view: view, requested: request.features)
        let tiles = try await store.tiles(for: read.table).readTiles(read.keys, of: read.table, plans: layout.plans(at: now))
        var perEntity: [[OnlineValue]] = []
        for entityTiles in tiles {
            perEntity.append(try TileStates.values(layout, tiles: entityTiles, now: now))
        }
        return request.features.enumerated().map { f, feature in
            let values = perEntity.map { $0[f] }
            return OnlineFeatureColumn(name: request.outputNames[f], view: view.name, feature: feature.name, type: feature.type,
                                       values: values, statuses: values.map { $0 == .null ? .nullValue : .present },
                                       eventTimestamps: values.map { _ in nil })
        }
    }

    /// The request fields on-demand features read, checked: field name -> one value per entity row.
    static func requestInputs(_ requests: [OnDemandRequest], context: [String: [OnlineValue]], count n: Int) throws(OnlineStoreError) -> [String: [Value]] {
        var out: [String: [Value]] = [:]
        for request in requests {
            for feature in request.features {
                for case .request(let field) in feature.bindings where out[field.name] == nil {
                    guard let given = context[field.name] else {
                        let names = context.keys.sorted()
                        throw OnlineStoreError("missing request field '\(field.name)' (\(field.type.rawValue), read by on-demand feature '\(request.view.view.name):\(feature.definition.name)'); the request context has: \(names.isEmpty ? "nothing" : names.joined(separator: ", "))", invalidRequest: true)
                    }
                    guard given.count == n || given.count == 1 else {
                        throw OnlineStoreError("request field '\(field.name)' has \(given.count) values for \(n) entities: give one per entity, or one for all", invalidRequest: true)
                    }
                    var values: [Value] = []
                    values.reserveCapacity(n)
                    for i in 0..<n {
                        let v = given[given.count == 1 ? 0 : i]
                        guard field.accepts(v) else {
                            throw OnlineStoreError("request field '\(field.name)' value \(i) is \(v), expected \(field.type.rawValue)", invalidRequest: true)
                        }
                        values.append(field.expressionValue(v))
                    }
                    out[field.name] = values
                }
            }
        }
        return out
    }

    /// On-demand features for every entity: each expression evaluated on its request fields and view features
    /// (each input converted to expression values once, however many features read it).
    static func onDemandColumns(_ resolved: ResolvedSelection, viewColumns: [OnlineFeatureColumn], request: [String: [Value]], count n: Int) -> [OnlineFeatureColumn] {
        var table: [[Value]] = []
        table.reserveCapacity(resolved.onDemandInputs.count)
        for input in resolved.onDemandInputs {
            switch input {
            case .request(let field): table.append(request[field.name] ?? [Value](repeating: .null, count: n))
            case .feature(let column, let type): table.append(viewColumns[column].values.map { $0.expressionValue(type) })
            }
        }
        var columns: [OnlineFeatureColumn] = []
        let noTimes = [Int64?](repeating: nil, count: n)
        // One row buffer for every expression (each reads its first slots.count entries).
        var row = [Value](repeating: .null, count: resolved.onDemand.flatMap(\.slots).map(\.count).max() ?? 0)
        for r in resolved.onDemand {
            for (k, (feature, name)) in zip(r.features, r.outputNames).enumerated() {
                let slots = r.slots[k]
                var values = [OnlineValue](repeating: .null, count: n)
                var statuses = [FeatureStatus](repeating: .nullValue, count: n)
                for i in 0..<n {
                    for j in 0..<slots.count { row[j] = table[slots[j]][i] }
                    let value = OnlineValue(feature.expression.evaluate(row), as: feature.output)
                    if value != .null {
                        values[i] = value
                        statuses[i] = .present
                    }
                }
                columns.append(OnlineFeatureColumn(name: name, view: r.view.view.name, feature: feature.definition.name,
                                                   type: .scalar(feature.definition.type), values: values, statuses: statuses,
                                                   eventTimestamps: noTimes))
            }
        }
        return columns
    }

    static func keyValueMatches(_ v: OnlineValue, _ type: ScalarType) -> Bool {
        switch (v, type) {
        case (.int(let i), .int32): return Int64(Int32.min)...Int64(Int32.max) ~= i
        case (.int, .int64), (.string, .string), (.bytes, .bytes): return true
        default: return false
        }
    }
}

extension Column {
    /// Row `i` as an online value of the declared feature type (timestamps in microseconds); null where the column
    /// is null or cannot hold the type.
    public func onlineValue(at i: Int, as type: ValueType) -> OnlineValue {
        if isNull(i) { return .null }
        switch (type, values) {
        case (.list(let inner), .list(let offsets, let child)):
            return .list((offsets[i]..<offsets[i + 1]).map { child.onlineValue(at: $0, as: .scalar(inner)) })
        case (.scalar(.timestamp), .int64(let v)):
            guard case .timestamp(let unit, _) = self.type else { return .null }
            // To microseconds by the one conversion (no per-row allocation: this runs for every materialized row).
            return .timestamp(EventTime.microseconds(v[i], unit: unit))
        case (.scalar(.timestamp), .int32(let v)) where self.type == .date32:
            return .timestamp(EventTime.microseconds(days: v[i]))
        case (.scalar(.bool), .bool(let v)): return .bool(v[i])
        case (.scalar(.float32), .float32(let v)): return .float(v[i])
        case (.scalar(.float64), .float64(let v)): return .double(v[i])
        case (.scalar(.float64), .float32(let v)): return .double(Double(v[i]))
        case (.scalar(.string), .bytes(let b)): return .string(b.string(at: i))
        case (.scalar(.bytes), .bytes(let b)): return .bytes(Array(b.bytes(at: i)))
        case (_, .int32(let v)): return .int(Int64(v[i]))
        case (_, .int64(let v)): return .int(v[i])
        default: return .null
        }
    }
}
