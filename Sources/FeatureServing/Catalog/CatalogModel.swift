import Columnar
import DataQuality
import FeatureStoreCore
import Foundation

/// Live stream state of one view, for the catalog (supplied by the ingestion running in the same server).
public struct StreamViewStatus: Sendable {
    /// The topic the view's stream is ingested from.
    public var topic: String
    /// Newest event time written online by the stream (microseconds).
    public var newestEvent: Int64?
    /// Freshness (time written online - event time) of the recent rows, in milliseconds.
    public var freshnessP50Millis: Double?
    /// The 99th percentile of that freshness, in milliseconds.
    public var freshnessP99Millis: Double?
    /// Consumer lag per partition of the topic.
    public var lag: [Int32: Int64]
    /// Expectations the view's events broke since the ingester started, per `feature.rule` (written under warn,
    /// dead-lettered under drop and fail).
    public var violations: [String: Int]

    /// A view's status: newest event time in microseconds, freshness percentiles in milliseconds, lag per partition,
    /// expectations broken per `feature.rule`.
    public init(topic: String, newestEvent: Int64?, freshnessP50Millis: Double?, freshnessP99Millis: Double?, lag: [Int32: Int64],
                violations: [String: Int] = [:]) {
        self.topic = topic
        self.newestEvent = newestEvent
        self.freshnessP50Millis = freshnessP50Millis
        self.freshnessP99Millis = freshnessP99Millis
        self.lag = lag
        self.violations = violations
    }
}

/// Looks up the stream state of a view by name (nil: not ingested here).
public typealias StreamStatusProvider = @Sendable (String) -> StreamViewStatus?

/// The content of the catalog pages and of `/api/v1/catalog`, as plain JSON-shaped values (dictionaries, arrays,
/// strings, numbers, booleans), built per request from the served definitions, the registry (versions, history,
/// materializations) and the online store (rows, newest event). The HTML pages render exactly these values, so the
/// page and the API cannot disagree.
struct CatalogModel {
    typealias Object = [String: Any]

    let store: FeatureStore
    let registry: Registry
    let entries: [ObjectKey: CatalogEntry]
    let registryStore: RegistryStore?
    let streamStatus: StreamStatusProvider?
    let now: Date
    /// Online statistics of the online views, read once when the model is made (the store's calls are async).
    let onlineStatistics: [String: OnlineViewStatistics]
    /// The skew watch's counts per `view:feature` and its recent mismatches (nil: no watch in this server).
    var skew: (checked: [String: Int], mismatched: [String: Int], recent: [SkewWatch.Mismatch])? = nil

    /// A model of the repository as it is now, with the online store's statistics of every online view.
    static func current(store: FeatureStore, streamStatus: StreamStatusProvider?, skewWatch: SkewWatch? = nil, now: Date = Date()) async -> CatalogModel {
        var statistics: [String: OnlineViewStatistics] = [:]
        if store.onlineStoreExists, let online = try? await store.onlineStore() {
            for view in store.registry.featureViews where view.online {
                if let s = try? await online.statistics(of: store.onlineTable(of: view)) { statistics[view.name] = s }
            }
        }
        var model = CatalogModel(store: store, streamStatus: streamStatus, now: now, onlineStatistics: statistics)
        if let skewWatch {
            let counts = skewWatch.counts
            model.skew = (counts.checked, counts.mismatched, skewWatch.recentMismatches)
        }
        return model
    }

    init(store: FeatureStore, streamStatus: StreamStatusProvider?, now: Date = Date(), onlineStatistics: [String: OnlineViewStatistics]) {
        self.onlineStatistics = onlineStatistics
        self.store = store
        registry = store.registry
        self.streamStatus = streamStatus
        self.now = now
        let registryStore = FileManager.default.fileExists(atPath: store.registryURL.path) ? try? store.openRegistry(create: false) : nil
        self.registryStore = registryStore
        var entries: [ObjectKey: CatalogEntry] = [:]
        if let registryStore, let catalog = try? Catalog(store: registryStore) {
            for entry in catalog.entries { entries[ObjectKey(kind: entry.kind, name: entry.name)] = entry }
        }
        self.entries = entries
    }

    // MARK: Shared pieces

    static func iso(_ date: Date) -> String { iso(micros: Int64(date.timeIntervalSince1970 * 1_000_000)) }
    static func iso(micros: Int64) -> String { Column.isoTimestamp(micros, unit: .microseconds, utc: true) }

    /// "3 min ago", "2 h ago", "5 d ago".
    static func age(seconds: Double) -> String {
        switch seconds {
        case ..<0: return "in the future"
        case ..<90: return "\(Int(seconds)) s ago"
        case ..<5400: return "\(Int(seconds / 60)) min ago"
        case ..<172_800: return "\(Int(seconds / 3600)) h ago"
        default: return "\(Int(seconds / 86400)) d ago"
        }
    }

    static func path(_ kind: ObjectKind, _ name: String) -> String {
        "/\(segment(kind))/\(name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? name)"
    }

    /// The URL segment of a kind: views, entities, sources, services.
    static func segment(_ kind: ObjectKind) -> String {
        switch kind {
        case .entity: return "entities"
        case .source: return "sources"
        case .featureView: return "views"
        case .onDemandView: return "on-demand"
        case .featureService: return "services"
        }
    }

    static func kindLabel(_ kind: ObjectKind) -> String {
        switch kind {
        case .entity: return "entity"
        case .source: return "source"
        case .featureView: return "feature view"
        case .onDemandView: return "on-demand view"
        case .featureService: return "feature service"
        }
    }

    private func common(_ d: any Definition, kind: ObjectKind) -> Object {
        var o: Object = [
            "kind": Self.kindLabel(kind), "name": d.name, "description": d.description, "owner": d.owner,
            "tags": d.tags.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] as Object },
            "url": Self.path(kind, d.name),
        ]
        if let entry = entries[ObjectKey(kind: kind, name: d.name)] {
            o["version"] = entry.version
            o["changed_at"] = Self.iso(entry.changedAt)
        }
        if let at = d.location { o["defined_at"] = "\(at)" }
        return o
    }

    private func link(_ kind: ObjectKind, _ name: String) -> Object { ["name": name, "url": Self.path(kind, name)] }

    /// Online state of a view: rows, newest event, and whether that is older than its ttl.
    func freshness(of view: FeatureView) -> Object? {
        guard view.online, let stats = onlineStatistics[view.name] else { return nil }
        var o: Object = ["rows": stats.rows, "rows_approximate": stats.approximate]
        var newest = stats.newestEventTimestamp
        if let stream = streamStatus?(view.name), let streamed = stream.newestEvent { newest = max(newest ?? .min, streamed) }
        if let newest {
            let ageSeconds = now.timeIntervalSince1970 - Double(newest) / 1e6
            o["newest_event"] = Self.iso(micros: newest)
            o["age_seconds"] = Int(ageSeconds)
            o["age"] = Self.age(seconds: ageSeconds)
            o["stale"] = view.ttl.seconds > 0 && ageSeconds > Double(view.ttl.seconds)
            if let slo = view.expectations?.maxStaleness {
                o["slo_breached"] = ageSeconds > Double(slo.seconds)
                o["max_staleness"] = slo.description
            }
        } else {
            o["stale"] = false
        }
        return o
    }

    // MARK: Pages

    func summary() -> Object {
        let recent = entries.values.sorted { ($0.changedAt, $0.name) > ($1.changedAt, $1.name) }.prefix(8).map { e -> Object in
            ["kind": Self.kindLabel(e.kind), "name": e.name, "url": Self.path(e.kind, e.name), "version": e.version,
             "changed_at": Self.iso(e.changedAt)]
        }
        var stale: [Object] = []
        for view in registry.featureViews {
            guard let f = freshness(of: view), f["stale"] as? Bool == true else { continue }
            stale.append(["name": view.name, "url": Self.path(.featureView, view.name), "ttl": view.ttl.description,
                          "newest_event": f["newest_event"] ?? "-", "age": f["age"] ?? "never"])
        }
        // Views that break their expectations (in their last materialization) or their freshness goal.
        var quality: [Object] = []
        let latestDrift = (try? registryStore?.latestDrift()) ?? []  // read once, not once per view
        for view in registry.featureViews {
            var problems: [String] = []
            if let report = (try? registryStore?.lastMaterialization(of: view.name)).flatMap({ $0 })?.report, let tally = report.expectations, tally.total > 0 {
                problems.append("\(tally.total) expectation violations in the last materialization (\(tally.counts.keys.sorted().joined(separator: ", ")))")
            }
            if let stream = streamStatus?(view.name), !stream.violations.isEmpty {
                let total = stream.violations.values.reduce(0, +)
                problems.append("\(total) stream events broke expectations (\(stream.violations.keys.sorted().joined(separator: ", ")))")
            }
            let drifted = latestDrift.filter { $0.drift.view == view.name && !$0.drift.breaches.isEmpty }
            if !drifted.isEmpty {
                problems.append("drift over threshold: \(drifted.compactMap(\.drift.feature).sorted().joined(separator: ", "))")
            }
            if let skew {
                let differing = view.features.reduce(0) { $0 + (skew.mismatched["\(view.name):\($1.name)"] ?? 0) }
                if differing > 0 { problems.append("\(differing) served values differ from the offline engine (skew watch)") }
            }
            if let f = freshness(of: view), f["slo_breached"] as? Bool == true {
                problems.append("newest event \(f["age"] ?? "") old, over max_staleness \(f["max_staleness"] ?? "")")
            }
            if !problems.isEmpty {
                quality.append(["name": view.name, "url": Self.path(.featureView, view.name), "problems": problems.joined(separator: "; ")])
            }
        }
        return [
            "quality_problems": quality,
            "has_quality_problems": !quality.isEmpty,
            "project": store.config.project,
            "counts": ["entities": registry.entities.count, "sources": registry.sources.count,
                       "feature_views": registry.featureViews.count, "feature_services": registry.featureServices.count,
                       "features": registry.featureViews.reduce(0) { $0 + $1.features.count }] as Object,
            "recently_changed": Array(recent),
            "stale_views": stale,
            "has_stale_views": !stale.isEmpty,
            "applied_at": (try? registryStore?.lastApplied()).flatMap { $0 }.map(Self.iso) ?? "",
        ]
    }

    func viewRow(_ view: FeatureView) -> Object {
        var o = common(view, kind: .featureView)
        o["entities"] = view.entities.map { link(.entity, $0) }
        o["source"] = link(.source, view.source)
        o["ttl"] = view.ttl.seconds == 0 ? "0 (no limit)" : view.ttl.description
        o["ttl_seconds"] = Int(view.ttl.seconds)
        o["feature_count"] = view.features.count
        o["online"] = view.online
        if let f = freshness(of: view) { o["freshness"] = f }
        return o
    }

    func views() -> [Object] { registry.featureViews.map(viewRow) }

    func view(_ name: String) -> Object? {
        guard let view = registry.featureView(named: name) else { return nil }
        var o = viewRow(view)
        let materialization = (try? registryStore?.lastMaterialization(of: view.name)).flatMap { $0 }
        let stats = materialization?.report.features ?? [:]
        // Profiles kept over time: the newest is "current", the oldest kept the baseline it is drawn against.
        let ends = (try? registryStore?.profileEnds(of: view.name))
        let current = ends?.newest, baseline = ends?.oldest
        let violations = materialization?.report.expectations
        // The newest drift scores of this view's features (featurectl drift keeps them in the registry).
        let drift = Dictionary(((try? registryStore?.latestDrift()) ?? []).filter { $0.drift.view == view.name }.map { ($0.drift.feature ?? "", $0) }) { a, _ in a }
        func number(_ d: Double?) -> Any { d.map { String(format: "%.4g", $0) } ?? "" }
        o["features"] = view.features.map { f -> Object in
            var row: Object = ["name": f.name, "type": f.type.description, "description": f.description]
            if let e = f.expectations { row["expect"] = e.rules.map(\.text).joined(separator: ", ") }
            var broken: [String] = []
            if let counts = violations?.counts[f.name], !counts.isEmpty {
                broken += counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) (materialization)" }
                row["violation_example"] = counts.keys.sorted().compactMap { violations?.examples["\(f.name).\($0)"] }.first ?? ""
            }
            for (key, n) in streamStatus?(view.name)?.violations.sorted(by: { $0.key < $1.key }) ?? [] where key.hasPrefix(f.name + ".") {
                broken.append("\(key.dropFirst(f.name.count + 1)) \(n) (stream)")
            }
            if !broken.isEmpty { row["violations"] = broken.joined(separator: ", ") }
            if let (d, at) = drift[f.name] {
                let scores = [("PSI", d.psi), ("KS", d.ks), ("JS", d.js)].compactMap { name, v in v.map { "\(name) \(String(format: "%.3f", $0))" } }
                row["drift"] = scores.joined(separator: " · ") + " (\(Self.iso(at)))"
                if !d.breaches.isEmpty { row["drift_breached"] = true }
            }
            if let skew, let checked = skew.checked["\(view.name):\(f.name)"], checked > 0 {
                let differing = skew.mismatched["\(view.name):\(f.name)"] ?? 0
                row["skew"] = "\(differing) of \(checked) served values differ from the offline engine"
                if differing > 0 {
                    row["skew_breached"] = true
                    if let last = skew.recent.last(where: { $0.view == view.name && $0.feature == f.name }) {
                        row["skew_example"] = "\(last.entity.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")): served \(last.served), offline \(last.offline)"
                    }
                }
            }
            if let profile = current?.profile.features[f.name] {
                row["null_count"] = profile.nullCount
                row["null_rate"] = String(format: "%.1f%%", profile.nullRate * 100)
                row["min"] = number(profile.min)
                row["max"] = number(profile.max)
                row["mean"] = number(profile.mean)
                if let svg = HistogramSVG.svg(feature: f.name, current: profile, baseline: baseline?.profile.features[f.name]) { row["histogram_svg"] = svg }
            }
            if let a = f.aggregation {
                row["computed"] = a.summary
                var aggregation: Object = ["function": a.functionName, "window": "\(a.window)", "hop": "\(a.hop)"]
                if let column = a.column { aggregation["column"] = column }
                if let n = a.n { aggregation["n"] = n }
                row["aggregation"] = aggregation
            }
            if row["null_count"] == nil, let s = stats[f.name] {
                row["null_count"] = s.nullCount
                row["min"] = number(s.min)
                row["max"] = number(s.max)
                row["mean"] = number(s.mean)
            }
            return row
        }
        if let current {
            o["profile"] = ["at": Self.iso(current.at), "origin": current.profile.origin, "rows": current.profile.rows,
                            "baseline_at": baseline.map { Self.iso($0.at) } ?? ""] as Object
        }
        if let e = view.expectations {
            o["policy"] = e.policy.rawValue
            if let s = e.maxStaleness { o["max_staleness"] = s.description }
        }
        if let v = violations, v.total > 0 {
            o["violations_total"] = v.total
            if let dropped = materialization?.report.rowsDropped { o["rows_dropped"] = dropped }
        }
        o["join_keys"] = registry.joinKeys(of: view).map { ["name": $0.name, "type": $0.type.rawValue] as Object }
        o["services"] = registry.services(using: view.name).map { link(.featureService, $0.name) }
        if let m = materialization {
            o["last_materialization"] = [
                "at": Self.iso(m.at), "rows_read": m.report.rowsRead, "rows_written": m.report.rowsWritten,
                "entities": m.report.entities, "seconds": String(format: "%.2f", m.report.seconds),
                "window": "\(m.report.start == Int64.min ? "(beginning)" : Self.iso(micros: m.report.start)) .. \(Self.iso(micros: m.report.end))",
            ] as Object
        }
        if let source = registry.source(named: view.source), let batch = source.batchSource {
            var stream: Object = ["location": store.whereabouts(of: source), "batch_source": link(.source, batch), "ingested_here": false]
            if let status = streamStatus?(view.name) {
                stream["ingested_here"] = true
                if let newest = status.newestEvent { stream["newest_event"] = Self.iso(micros: newest) }
                if let p50 = status.freshnessP50Millis { stream["freshness_p50_ms"] = String(format: "%.1f", p50) }
                if let p99 = status.freshnessP99Millis { stream["freshness_p99_ms"] = String(format: "%.1f", p99) }
                stream["lag"] = status.lag.sorted { $0.key < $1.key }.map { ["partition": Int($0.key), "lag": Int($0.value)] as Object }
                stream["total_lag"] = Int(status.lag.values.reduce(0, +))
            }
            o["stream"] = stream
        }
        o["history"] = history(.featureView, view.name)
        o["lineage_svg"] = LineageGraph.svg(for: ObjectKey(kind: .featureView, name: view.name), registry: registry)
        return o
    }

    func onDemandView(_ name: String) -> Object? {
        guard let view = registry.onDemandView(named: name) else { return nil }
        var o = common(view, kind: .onDemandView)
        o["request"] = view.request.map { ["name": $0.name, "type": $0.type.rawValue] as Object }
        let inputs = registry.inputViews(of: view)
        o["inputs"] = inputs.map { link(.featureView, $0) }
        o["features"] = view.features.map { f -> Object in
            ["name": f.name, "type": f.type.rawValue, "expression": f.expression, "description": f.description,
             "inputs": registry.expressionInputs(of: f)]
        }
        o["services"] = registry.services(using: view.name).map { link(.featureService, $0.name) }
        o["history"] = history(.onDemandView, view.name)
        o["lineage_svg"] = LineageGraph.svg(for: ObjectKey(kind: .onDemandView, name: view.name), registry: registry)
        return o
    }

    func history(_ kind: ObjectKind, _ name: String) -> [Object] {
        let versions = (try? registryStore?.history(of: ObjectKey(kind: kind, name: name))).flatMap { $0 } ?? []
        return versions.reversed().map { v -> Object in
            ["version": v.version, "action": v.action.rawValue, "at": Self.iso(v.changedAt),
             "changes": v.fields.map { ["field": $0.path, "old": $0.old ?? "(none)", "new": $0.new ?? "(none)"] as Object }]
        }
    }

    func entities() -> [Object] {
        registry.entities.map { e -> Object in
            var o = common(e, kind: .entity)
            o["join_keys"] = e.joinKeys.map { ["name": $0.name, "type": $0.type.rawValue] as Object }
            o["views"] = registry.featureViews.filter { $0.entities.contains(e.name) }.map { link(.featureView, $0.name) }
            return o
        }
    }

    func entity(_ name: String) -> Object? {
        guard var o = entities().first(where: { $0["name"] as? String == name }) else { return nil }
        o["history"] = history(.entity, name)
        o["lineage_svg"] = LineageGraph.svg(for: ObjectKey(kind: .entity, name: name), registry: registry)
        return o
    }

    func sources() -> [Object] {
        registry.sources.map { s -> Object in
            var o = common(s, kind: .source)
            o["source_kind"] = s.kind
            o["location"] = store.whereabouts(of: s)
            o["settings"] = s.settings.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] as Object }
            if let format = s.format { o["format"] = format.kind }
            if let batch = s.batchSource { o["batch_source"] = link(.source, batch) }
            o["timestamp_field"] = s.timestampField
            if let created = s.createdTimestampField { o["created_timestamp_field"] = created }
            o["has_field_mapping"] = !s.fieldMapping.isEmpty
            o["field_mapping"] = s.fieldMapping.sorted { $0.key < $1.key }.map { ["from": $0.key, "to": $0.value] as Object }
            o["views"] = registry.views(readingFrom: s.name).map { link(.featureView, $0.name) }
            return o
        }
    }

    func source(_ name: String) -> Object? {
        guard var o = sources().first(where: { $0["name"] as? String == name }) else { return nil }
        o["derived"] = (registry.source(named: name)?.derived ?? []).map { ["name": $0.name, "type": $0.type.rawValue, "expression": $0.expression] as Object }
        o["history"] = history(.source, name)
        o["lineage_svg"] = LineageGraph.svg(for: ObjectKey(kind: .source, name: name), registry: registry)
        return o
    }

    func services() -> [Object] {
        registry.featureServices.map { s -> Object in
            var o = common(s, kind: .featureService)
            var features: [Object] = []
            for ref in s.features {
                if let odv = registry.onDemandView(named: ref.view) {
                    for f in ref.feature.flatMap(odv.feature(named:)).map({ [$0] }) ?? odv.features {
                        features.append(["view": link(.onDemandView, odv.name), "name": f.name, "type": f.type.rawValue, "description": f.description])
                    }
                    continue
                }
                guard let view = registry.featureView(named: ref.view) else { continue }
                let chosen = ref.feature.flatMap(view.feature(named:)).map { [$0] } ?? view.features
                for f in chosen {
                    features.append(["view": link(.featureView, view.name), "name": f.name, "type": f.type.description, "description": f.description])
                }
            }
            o["features"] = features
            o["feature_count"] = features.count
            var views: [String] = []
            for ref in s.features where !views.contains(ref.view) { views.append(ref.view) }
            o["views"] = views.map { link(.featureView, $0) }
            return o
        }
    }

    func service(_ name: String) -> Object? {
        guard var o = services().first(where: { $0["name"] as? String == name }) else { return nil }
        o["history"] = history(.featureService, name)
        o["lineage_svg"] = LineageGraph.svg(for: ObjectKey(kind: .featureService, name: name), registry: registry)
        return o
    }

    // MARK: Search

    /// Objects and features whose name, description, owner or tags contain every word of `query` (case-insensitive),
    /// grouped by kind; features are found through their view.
    func search(_ query: String) -> Object {
        let words = query.lowercased().split(whereSeparator: \.isWhitespace).map(String.init)
        func matches(_ texts: [String]) -> Bool {
            let haystack = texts.joined(separator: "\n").lowercased()
            return !words.isEmpty && words.allSatisfy { haystack.contains($0) }
        }
        func texts(_ d: any Definition) -> [String] {
            [d.name, d.description, d.owner] + d.tags.flatMap { [$0.key, $0.value, "\($0.key)=\($0.value)"] }
        }
        func hit(_ kind: ObjectKind, _ d: any Definition) -> Object {
            ["name": d.name, "url": Self.path(kind, d.name), "description": d.description, "owner": d.owner]
        }
        var features: [Object] = []
        for view in registry.featureViews {
            for f in view.features where matches([f.name, f.description, view.owner] + view.tags.flatMap { [$0.key, $0.value] }) {
                features.append(["name": f.name, "type": f.type.description, "description": f.description, "owner": view.owner,
                                 "view": link(.featureView, view.name), "url": Self.path(.featureView, view.name) + "#feature-\(f.name)"])
            }
        }
        let groups: [Object] = [
            ["kind": "feature views", "key": "feature_views", "items": registry.featureViews.filter { matches(texts($0)) }.map { hit(.featureView, $0) }],
            ["kind": "features", "key": "features", "items": features],
            ["kind": "entities", "key": "entities", "items": registry.entities.filter { matches(texts($0)) }.map { hit(.entity, $0) }],
            ["kind": "sources", "key": "sources", "items": registry.sources.filter { matches(texts($0)) }.map { hit(.source, $0) }],
            ["kind": "feature services", "key": "feature_services", "items": registry.featureServices.filter { matches(texts($0)) }.map { hit(.featureService, $0) }],
        ]
        let total = groups.reduce(0) { $0 + (($1["items"] as? [Object])?.count ?? 0) }
        return ["query": query, "total": total, "groups": groups.filter { !(($0["items"] as? [Object]) ?? []).isEmpty }]
    }
}
