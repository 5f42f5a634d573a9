public import Columnar
import Foundation

/// A feature whose served value differs from the training set's value at the same time.
public struct VerificationMismatch: Sendable, Codable, Hashable {
    /// The feature's name in its view.
    public var feature: String
    /// The entity: join key name -> value, as text.
    public var entity: [String: String]
    /// The value served online, and the value `joinFeatures` computes (as text; `null` for none).
    public var online: String
    /// The value `joinFeatures` computes, as text (`null` for none).
    public var offline: String
}

/// What ``FeatureStore/verify(views:sample:at:)`` found for one view.
public struct VerificationReport: Sendable, Codable {
    /// The view checked: a feature view or an on-demand view.
    public var view: String
    /// The time compared, microseconds since the epoch.
    public var at: Int64
    /// Entities and features compared.
    public var entities: Int
    /// Features compared per entity: all of the view's.
    public var features: Int
    /// Every difference found.
    public var mismatches: [VerificationMismatch]
}

extension FeatureStore {
    /// Proves training = serving on real data: takes up to `sample` entities that the view's source holds before
    /// `at`, reads their features online as at `at` (lookups at a given time, as ``getOnlineFeatures(entities:features:fullFeatureNames:now:)``
    /// does with `now`) and computes them with `joinFeatures` at `at`, and reports every value that differs.
    ///
    /// Values are compared exactly (floats bit for bit); a value withheld online (NOT_FOUND, OUTSIDE_MAX_AGE) is null.
    /// For the online store to agree, it must hold what the source holds before `at`: materialize up to `at` (or later,
    /// with no newer events for the entities; a plain view's store keeps only the newest row, so it cannot replay an
    /// earlier time once newer rows arrived).
    ///
    /// - Parameters:
    ///   - views: the online views to check (nil: all).
    ///   - sample: how many entities per view (a deterministic sample of those with events before `at`).
    ///   - at: the time, microseconds since the epoch.
    public func verify(views names: [String]? = nil, sample: Int = 100, at: Int64) async throws(OnlineStoreError) -> [VerificationReport] {
        var views: [FeatureView] = []
        if let names {
            for name in names where registry.onDemandView(named: name) == nil {
                guard let view = registry.featureView(named: name) else {
                    throw OnlineStoreError("no feature view '\(name)'\(Suggestion.hint(for: name, in: registry.featureViews.map(\.name)))", invalidRequest: true)
                }
                views.append(view)
            }
        } else {
            views = registry.featureViews.filter(\.online)
        }
        var reports: [VerificationReport] = []
        for view in views {
            guard view.online else { throw OnlineStoreError("feature view '\(view.name)' is not online (online: false)", invalidRequest: true) }
            reports.append(try await verify(view, sample: sample, at: at))
        }
        // On-demand views (all of them, or those named), over the entities of the views they read and request data
        // made up for the check (nulls, zeros, negatives, large values).
        let onDemand = names.map { n in registry.onDemandViews.filter { n.contains($0.name) } } ?? registry.onDemandViews
        for view in onDemand where registry.inputViews(of: view).allSatisfy({ registry.featureView(named: $0)?.online == true }) {
            reports.append(try await verifyOnDemand(view, sample: sample, at: at))
        }
        return reports
    }

    /// The request value row `i` of a verification uses for `field`: null first, then zeros, negatives and ordinary
    /// and large values, deterministic.
    static func verificationValue(_ field: RequestField, row i: Int, at: Int64) -> OnlineValue {
        if i % 17 == 0 { return .null }
        let k = Int64(i)
        switch field.type {
        case .bool: return .bool(i % 2 == 0)
        case .int32: return .int((k * 7919) % 2_000_001 - 1_000_000)
        case .int64: return .int(i % 13 == 1 ? Int64.max - k : (k * 104_729) % 20_001 - 10_000)
        case .float32, .float64: return .double(i % 11 == 1 ? 0 : (Double(k) * 0.37 - 11.5) * (i % 5 == 0 ? 1e6 : 1))
        case .string: return .string(["", "a", "abc", "Zürich", "x y"][i % 5])
        case .timestamp: return .timestamp(at - k * 3_599_999_999)
        case .bytes: return .null
        }
    }

    private func verifyOnDemand(_ view: OnDemandView, sample: Int, at: Int64) async throws(OnlineStoreError) -> VerificationReport {
        // Entities: a sample of those of each view read (the same row count for all).
        var entities: [String: [OnlineValue]] = [:]
        var count = max(0, sample)
        // Each key's column as the source holds it, and the sampled rows of it (the training set's key columns).
        var keyColumns: [String: (column: Column, rows: [Int])] = [:]
        for name in registry.inputViews(of: view) {
            guard let input = registry.featureView(named: name), let source = registry.batchSource(of: input) else { continue }
            let keys = registry.joinKeys(of: input)
            if keys.allSatisfy({ entities[$0.name] != nil }) { continue }
            guard let (latest, rows) = try await sampledKeys(input, source: source, keys: keys, at: at) else { count = 0; break }
            count = min(count, rows.count)
            for (k, key) in keys.enumerated() where entities[key.name] == nil {
                entities[key.name] = rows.map { latest.keys[k].onlineValue(at: $0, as: .scalar(key.type)) }
                keyColumns[key.name] = (latest.keys[k], rows)
            }
        }
        // A view of request data alone has no entities to look up with: nothing to compare.
        if registry.inputViews(of: view).isEmpty { count = 0 }
        for key in entities.keys { entities[key] = Array(entities[key]!.prefix(count)) }
        guard count > 0 else {
            return VerificationReport(view: view.name, at: at, entities: 0, features: view.features.count, mismatches: [])
        }
        var context: [String: [OnlineValue]] = [:]
        for field in view.request { context[field.name] = (0..<count).map { Self.verificationValue(field, row: $0, at: at) } }
        let selection = FeatureSelection.references([FeatureReference(view: view.name)])
        let online = try await getOnlineFeatures(entities: entities, features: selection, fullFeatureNames: true, requestContext: context, at: at)
        // The training set: keys and request data as columns of the entity rows.
        var columns: [(String, Column)] = []
        for (name, key) in keyColumns.sorted(by: { $0.key < $1.key }) {
            columns.append((name, key.column.take(key.rows.prefix(count).map { Int32($0) })))
        }
        columns.append(("event_timestamp", Column(timestamps: (0..<count).map { _ in at })))
        for field in view.request {
            let values = context[field.name]!
            let column: Column
            switch field.type {
            case .bool: column = Column(bool: values.map { if case .bool(let b) = $0 { return b } else { return nil } })
            case .int32: column = Column(.int32, int32: values.map { if case .int(let i) = $0 { return Int32(i) } else { return nil } })
            case .int64: column = Column(int64: values.map { if case .int(let i) = $0 { return i } else { return nil } })
            case .float32: column = Column(float32: values.map { if case .double(let d) = $0 { return Float(d) } else { return nil } })
            case .float64: column = Column(float64: values.map { if case .double(let d) = $0 { return d } else { return nil } })
            case .timestamp: column = Column(timestamps: values.map { if case .timestamp(let t) = $0 { return t } else { return nil } })
            default: column = Column(strings: values.map { if case .string(let s) = $0 { return s } else { return nil } })
            }
            columns.append((field.name, column))
        }
        let offline: Table
        do {
            offline = try await joinFeatures(entities: .table(try Table(columns)), features: selection, options: JoinOptions(fullFeatureNames: true))
        } catch {
            throw OnlineStoreError(.failed, "cannot compute the training set of '\(view.name)'", cause: error)
        }
        let mismatches = Self.mismatches(online: online, offline: offline, type: { view.feature(named: $0).map { .scalar($0.type) } }) { i in
            var entity: [String: String] = [:]
            for (name, values) in entities { entity[name] = "\(values[i])" }
            for field in view.request { entity[field.name] = "\(context[field.name]![i])" }
            return entity
        }
        return VerificationReport(view: view.name, at: at, entities: count, features: view.features.count, mismatches: mismatches)
    }

    private func verify(_ view: FeatureView, sample: Int, at: Int64) async throws(OnlineStoreError) -> VerificationReport {
        guard let source = registry.batchSource(of: view) else {
            throw OnlineStoreError("feature view '\(view.name)' has no offline source to verify against")
        }
        let keys = registry.joinKeys(of: view)
        // The entities: a sample of the keys of the source's rows before `at`.
        guard let (latest, rows) = try await sampledKeys(view, source: source, keys: keys, at: at) else {
            return VerificationReport(view: view.name, at: at, entities: 0, features: view.features.count, mismatches: [])
        }
        let chosen = Array(rows.prefix(max(0, sample)))
        let entityValues = keys.enumerated().map { k, key in chosen.map { latest.keys[k].onlineValue(at: $0, as: .scalar(key.type)) } }
        guard !chosen.isEmpty else {
            return VerificationReport(view: view.name, at: at, entities: 0, features: view.features.count, mismatches: [])
        }
        var entities: [String: [OnlineValue]] = [:]
        for (key, values) in zip(keys, entityValues) { entities[key.name] = values }
        let selection = FeatureSelection.references([FeatureReference(view: view.name)])
        let online = try await getOnlineFeatures(entities: entities, features: selection, fullFeatureNames: true, at: at)
        // The training set at the same time: the keys as the source has them, one row per entity.
        var columns: [(String, Column)] = zip(keys, chosen.isEmpty ? [] : keys.indices.map { k in latest.keys[k].take(chosen.map { Int32($0) }) })
            .map { ($0.0.name, $0.1) }
        columns.append(("event_timestamp", Column(timestamps: chosen.map { _ in at })))
        let offline: Table
        do {
            offline = try await joinFeatures(entities: .table(try Table(columns)), features: selection,
                                             options: JoinOptions(fullFeatureNames: true))
        } catch {
            throw OnlineStoreError(.failed, "cannot compute the training set of '\(view.name)'", cause: error)
        }
        let mismatches = Self.mismatches(online: online, offline: offline, type: { view.feature(named: $0)?.type }) { i in
            var entity: [String: String] = [:]
            for (k, key) in keys.enumerated() { entity[key.name] = "\(entityValues[k][i])" }
            return entity
        }
        return VerificationReport(view: view.name, at: at, entities: chosen.count, features: view.features.count, mismatches: mismatches)
    }

    /// The keys of `view`'s source rows before `at` (the latest row of each, no feature read), in a deterministic
    /// sample order (by a hash of the key, each computed once); nil when the source has no data yet.
    private func sampledKeys(_ view: FeatureView, source: DataSource, keys: [JoinKey], at: Int64) async throws(OnlineStoreError)
        -> (latest: LatestSourceRows, rows: [Int])? {
        var keysOnly = view
        keysOnly.features = []
        let latest: LatestSourceRows
        do {
            let engine = try offlineEngine()
            guard try await engine.hasData(source) else { return nil }
            latest = try await engine.latestRows(LatestRowsRequest(view: keysOnly, source: source, joinKeys: keys, start: Int64.min, end: at))
        } catch {
            throw OnlineStoreError(.failed, "cannot read the entities of feature view '\(view.name)'", cause: error)
        }
        let hashed = latest.rows.map { row -> (hash: String, row: Int) in
            let r = Int(row)
            return (CanonicalSpec.hash(latest.keys.map { $0.text(at: r) }.joined(separator: "\u{1F}")), r)
        }
        return (latest, hashed.sorted { $0.hash < $1.hash }.map(\.row))
    }

    /// Every served value that differs from the training set's, feature by feature (types by `type`), each with the
    /// entity (and request values) of its row.
    static func mismatches(online: OnlineFeatures, offline: Table, type: (String) -> ValueType?,
                           entity: (Int) -> [String: String]) -> [VerificationMismatch] {
        var out: [VerificationMismatch] = []
        for column in online.columns {
            guard let featureType = type(column.feature), let trained = offline.column(named: column.name) else { continue }
            for (i, served) in column.values.enumerated() {
                let computed = trained.onlineValue(at: i, as: featureType)
                guard !sameValue(served, computed) else { continue }
                out.append(VerificationMismatch(feature: column.feature, entity: entity(i), online: "\(served)", offline: "\(computed)"))
            }
        }
        return out
    }

    /// Every value of a lookup's answer that differs from a training set's for the same entity rows and times (the
    /// training set from ``joinFeatures(entities:features:options:)`` of the same selection and feature names), with
    /// the view of each; floats compared bit for bit, withheld values as null: `verify`'s comparison.
    public static func servedMismatches(online: OnlineFeatures, offline: Table,
                                        entity: (Int) -> [String: String]) -> [(view: String, mismatch: VerificationMismatch)] {
        var out: [(String, VerificationMismatch)] = []
        for column in online.columns {
            guard let trained = offline.column(named: column.name) else { continue }
            for (i, served) in column.values.enumerated() {
                let computed = trained.onlineValue(at: i, as: column.type)
                guard !sameValue(served, computed) else { continue }
                out.append((column.view, VerificationMismatch(feature: column.feature, entity: entity(i), online: "\(served)", offline: "\(computed)")))
            }
        }
        return out
    }

    /// Equal values, floats by their bits (a NaN equals the same NaN).
    static func sameValue(_ a: OnlineValue, _ b: OnlineValue) -> Bool {
        switch (a, b) {
        case (.double(let x), .double(let y)): return x.bitPattern == y.bitPattern
        case (.float(let x), .float(let y)): return x.bitPattern == y.bitPattern
        case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy { sameValue($0, $1) }
        default: return a == b
        }
    }
}
