public import DataQuality
import Columnar
import Foundation

/// The profiles of a view's features over a window: what serving holds at `end` (each entity's latest row in
/// `[start, end)`, as materialization writes it), profiled feature by feature.
public struct ViewProfile: Sendable, Codable {
    /// The view.
    public var view: String
    /// The window's start (microseconds; `Int64.min`: from the beginning).
    public var start: Int64
    /// The window's exclusive end.
    public var end: Int64
    /// Where it was computed: `materialize`, `profile` or `ingest`.
    public var origin: String
    /// Entities profiled (rows).
    public var rows: Int
    /// Per feature.
    public var features: [String: FeatureProfile]

    /// A view's profile.
    public init(view: String, start: Int64, end: Int64, origin: String, rows: Int, features: [String: FeatureProfile]) {
        self.view = view
        self.start = start
        self.end = end
        self.origin = origin
        self.rows = rows
        self.features = features
    }
}

extension FeatureStore {
    /// Profiles a plain view's features over `[start, end)`: each entity's latest row, by the rule of the join and
    /// materialization (the distribution serving holds at `end`). Recorded in the registry when `record` is set.
    public func profile(view name: String, start: Int64, end: Int64, record: Bool = true) async throws(OnlineStoreError) -> ViewProfile {
        let (view, latest) = try await latestRows(ofPlainView: name, start: start, end: end,
                                                  instead: "profile a training set of it (featurectl join, then featurectl profile FILE)")
        var features: [String: FeatureProfile] = [:]
        for (k, feature) in view.features.enumerated() where k < latest.features.count {
            features[feature.name] = FeatureProfile.of(latest.features[k].take(latest.rows))
        }
        let profile = ViewProfile(view: name, start: start, end: end, origin: "profile", rows: latest.rows.count, features: features)
        if record { try recordProfile(profile) }
        return profile
    }

    /// A plain view and each entity's latest row in `[start, end)` (what serving holds at `end`); an aggregated view is
    /// refused with `instead` as the way to go.
    func latestRows(ofPlainView name: String, start: Int64, end: Int64, instead: String) async throws(OnlineStoreError) -> (FeatureView, LatestSourceRows) {
        guard let view = registry.featureView(named: name) else {
            throw OnlineStoreError("no feature view '\(name)'\(Suggestion.hint(for: name, in: registry.featureViews.map(\.name)))", invalidRequest: true)
        }
        guard !view.isAggregated else { throw OnlineStoreError("feature view '\(name)' aggregates events: \(instead)", invalidRequest: true) }
        guard start < end else { throw OnlineStoreError("the window of '\(name)' is empty: start is not before end", invalidRequest: true) }
        guard let source = registry.batchSource(of: view) else { throw OnlineStoreError("feature view '\(name)' has no offline (table) source") }
        let latest = try await reading(view, source: source, path: whereabouts(of: source)) { engine in
            try await engine.latestRows(LatestRowsRequest(view: view, source: source, joinKeys: registry.joinKeys(of: view), start: start, end: end))
        }
        return (view, latest)
    }

    /// Keeps `profile` in the registry (the catalog shows the latest, and profiles over time).
    public func recordProfile(_ profile: ViewProfile) throws(OnlineStoreError) {
        do {
            try openRegistry().recordProfile(profile)
        } catch {
            throw OnlineStoreError(.failed, "cannot record the profile of '\(profile.view)' in the registry", cause: error)
        }
    }
}

extension FeatureProfile {
    /// Adds one row holding an online value: numbers to the numeric statistics (integers counted as values too),
    /// strings and booleans as values, lists and bytes counted only. The one way served values (aggregated views'
    /// lookups, the stream's rows) are profiled.
    public mutating func add(_ value: OnlineValue) {
        switch value {
        case .null: addNull()
        case .int(let i): add(number: Double(i), categorical: true)
        case .float(let f): add(number: Double(f), categorical: false)
        case .double(let d): add(number: d, categorical: false)
        case .string(let s): add(row: s)
        case .bool(let b): add(row: b ? "true" : "false")
        case .timestamp(let t): add(number: Double(t), categorical: false)
        case .bytes, .list: addOther()
        }
    }
}
