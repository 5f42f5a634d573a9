public import Columnar
import DataQuality
import Foundation

/// How one feature's distribution moved between a baseline and a current data set (`featurectl drift`).
public struct FeatureDrift: Sendable, Codable {
    /// The column compared.
    public var column: String
    /// The view and feature the column is (nil when the name matches none, or several).
    public var view: String?
    /// The feature's name in its view.
    public var feature: String?
    /// `numeric` (PSI and KS) or `categorical` (PSI over values is not defined: Jensen-Shannon).
    public var kind: String
    /// The population stability index (numbers; nulls and NaN as one more bin).
    public var psi: Double?
    /// The Kolmogorov-Smirnov statistic (finite numbers).
    public var ks: Double?
    /// The Jensen-Shannon distance, base 2 (categories, null as one).
    public var js: Double?
    /// The PSI's inner bin edges (the baseline's deciles, duplicates removed).
    public var edges: [Double]?
    /// Rows and null rates of each side.
    public var baselineRows: Int
    /// Rows of the current side.
    public var currentRows: Int
    /// Null (and NaN) rate of the baseline.
    public var baselineNullRate: Double
    /// Null (and NaN) rate of the current side.
    public var currentNullRate: Double
    /// The thresholds that apply (the feature's, then its view's, then the defaults).
    public var thresholds: DriftThresholds
    /// The measures over their thresholds (`psi`, `ks`, `js`).
    public var breaches: [String]

    /// A feature's comparison, as ``FeatureStore/drift(baseline:current:columns:)`` makes it.
    public init(column: String, view: String?, feature: String?, kind: String, psi: Double?, ks: Double?, js: Double?, edges: [Double]?,
                baselineRows: Int, currentRows: Int, baselineNullRate: Double, currentNullRate: Double, thresholds: DriftThresholds,
                breaches: [String]) {
        self.column = column
        self.view = view
        self.feature = feature
        self.kind = kind
        self.psi = psi
        self.ks = ks
        self.js = js
        self.edges = edges
        self.baselineRows = baselineRows
        self.currentRows = currentRows
        self.baselineNullRate = baselineNullRate
        self.currentNullRate = currentNullRate
        self.thresholds = thresholds
        self.breaches = breaches
    }
}

extension FeatureStore {
    /// The thresholds for a column: the feature's (`expect: {drift: ...}`), then its view's (`expectations: {drift:
    /// ...}`), then ``DriftThresholds/defaults``; a column is a feature when its name is `view__feature`, or the
    /// name of a feature of exactly one view.
    public func driftThresholds(column: String) -> (view: String?, feature: String?, thresholds: DriftThresholds) {
        var matches: [(FeatureView, Feature)] = []
        if let range = column.range(of: "__"), let view = registry.featureView(named: String(column[..<range.lowerBound])),
           let feature = view.feature(named: String(column[range.upperBound...])) {
            matches = [(view, feature)]
        } else {
            for view in registry.featureViews { if let f = view.feature(named: column) { matches.append((view, f)) } }
        }
        guard matches.count == 1, let (view, feature) = matches.first else { return (nil, nil, .defaults) }
        let thresholds = (feature.expectations?.drift ?? DriftThresholds()).over(view.expectations?.drift ?? DriftThresholds()).over(.defaults)
        return (view.name, feature.name, thresholds)
    }

    /// Compares each column of `current` with the column of the same name in `baseline` (or only `columns`): numbers
    /// (integers and floats, not times) by PSI and KS, strings and booleans by Jensen-Shannon, with the thresholds of
    /// the feature each column is. Columns of only one side, the entities' join keys, times and lists are left out.
    public func drift(baseline: Table, current: Table, columns: [String]? = nil) -> [FeatureDrift] {
        // Join keys say who the rows are about, not what they are: left out unless asked for.
        let keys = Set(registry.entities.flatMap { $0.joinKeys.map(\.name) })
        let names = columns ?? current.schema.fields.map(\.name).filter { baseline.column(named: $0) != nil && !keys.contains($0) }
        var out: [FeatureDrift] = []
        for name in names {
            guard let b = baseline.column(named: name), let c = current.column(named: name) else { continue }
            let (view, feature, thresholds) = driftThresholds(column: name)
            guard let measured = Self.measure(b, c) else { continue }
            var d = FeatureDrift(column: name, view: view, feature: feature, kind: measured.kind, psi: measured.psi, ks: measured.ks,
                                 js: measured.js, edges: measured.edges, baselineRows: b.count, currentRows: c.count,
                                 baselineNullRate: measured.baselineMissing, currentNullRate: measured.currentMissing,
                                 thresholds: thresholds, breaches: [])
            if let v = d.psi, let t = thresholds.psi, v > t { d.breaches.append("psi") }
            if let v = d.ks, let t = thresholds.ks, v > t { d.breaches.append("ks") }
            if let v = d.js, let t = thresholds.js, v > t { d.breaches.append("js") }
            out.append(d)
        }
        return out
    }

    private static func isTime(_ type: DataType) -> Bool {
        switch type {
        case .timestamp, .date32: return true
        default: return false
        }
    }

    /// The numbers of a numeric column (nil for other columns) and how many are missing (null or NaN).
    static func numbers(_ column: Column) -> (values: [Double], missing: Int)? {
        guard !isTime(column.type) else { return nil }
        var values: [Double] = []
        var missing = 0
        func add(_ i: Int, _ x: Double) { if column.isNull(i) || x.isNaN { missing += 1 } else { values.append(x) } }
        switch column.values {
        case .int32(let v): for i in v.indices { add(i, Double(v[i])) }
        case .int64(let v): for i in v.indices { add(i, Double(v[i])) }
        case .float32(let v): for i in v.indices { add(i, Double(v[i])) }
        case .float64(let v): for i in v.indices { add(i, v[i]) }
        default: return nil
        }
        return (values, missing)
    }

    /// The values of a categorical column by their bytes (nil: null), or nil for other columns.
    static func categories(_ column: Column) -> [[UInt8]?: Int]? {
        var counts: [[UInt8]?: Int] = [:]
        switch column.values {
        case .bool(let v): for i in v.indices { counts[column.isNull(i) ? nil : Array((v[i] ? "true" : "false").utf8), default: 0] += 1 }
        case .bytes(let b): for i in 0..<b.count { counts[column.isNull(i) ? nil : Array(b.bytes(at: i)), default: 0] += 1 }
        default: return nil
        }
        return counts
    }

    private static func measure(_ b: Column, _ c: Column) -> (kind: String, psi: Double?, ks: Double?, js: Double?, edges: [Double]?,
                                                            baselineMissing: Double, currentMissing: Double)? {
        if let nb = numbers(b), let nc = numbers(c) {
            let psi = Drift.psi(baseline: nb.values, current: nc.values, baselineMissing: nb.missing, currentMissing: nc.missing)
            return ("numeric", psi?.psi, Drift.ks(baseline: nb.values, current: nc.values), nil, psi?.edges,
                    b.count == 0 ? 0 : Double(nb.missing) / Double(b.count), c.count == 0 ? 0 : Double(nc.missing) / Double(c.count))
        }
        if let cb = categories(b), let cc = categories(c) {
            return ("categorical", nil, nil, Drift.jensenShannon(baseline: cb, current: cc), nil,
                    b.count == 0 ? 0 : Double(cb[nil] ?? 0) / Double(b.count), c.count == 0 ? 0 : Double(cc[nil] ?? 0) / Double(c.count))
        }
        return nil
    }

    /// A plain view's features over `[start, end)` as a table: each entity's latest row (what serving holds at `end`),
    /// one column per feature; for `featurectl drift VIEW@START..END`.
    public func viewTable(_ name: String, start: Int64, end: Int64) async throws(OnlineStoreError) -> Table {
        let (view, latest) = try await latestRows(ofPlainView: name, start: start, end: end, instead: "compare training sets of it (featurectl join) instead")
        do {
            return try Table(zip(view.features, latest.features).map { ($0.name, $1.take(latest.rows)) })
        } catch {
            throw OnlineStoreError(.failed, "the rows of '\(name)' do not form a table", cause: error)
        }
    }
}
