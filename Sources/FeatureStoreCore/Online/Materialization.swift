import Columnar
public import DataQuality
import FeatureComputation
import Foundation

/// Simple statistics of one feature over the rows a materialization wrote.
public struct FeatureStatistics: Sendable, Codable, Hashable {
    /// Rows whose value was null.
    public var nullCount: Int
    /// The smallest numeric value (nil: none, or not numeric).
    public var min: Double?
    /// The greatest numeric value.
    public var max: Double?
    /// The mean of the numeric values.
    public var mean: Double?
}

/// What one materialization of one view did.
public struct MaterializationReport: Sendable, Codable {
    /// The view materialized.
    public var view: String
    /// The window, in microseconds since the epoch: `start <= event_ts < end`.
    public var start: Int64
    /// The window's exclusive end.
    public var end: Int64
    /// Source rows in the window.
    public var rowsRead: Int
    /// Entities whose latest row was written (older than what was stored: not counted).
    public var rowsWritten: Int
    /// Entities with a row in the window (each one's latest row was offered to the store).
    public var entities: Int
    /// Wall time of the run.
    public var seconds: Double
    /// Statistics of the rows written, per feature name.
    public var features: [String: FeatureStatistics]
    /// The expectations' violations among the rows offered (nil: the view has no expectations).
    public var expectations: ExpectationTally?
    /// Rows not written because they broke an expectation under the `drop` policy.
    public var rowsDropped: Int?
    /// Profiles of the rows offered per feature (plain views; kept in the registry's profiles over time).
    public var profiles: [String: FeatureProfile]?
}

/// How far a materialization is.
public struct MaterializationProgress: Sendable {
    /// The view being materialized.
    public var view: String
    /// `reading`, `cluster` (a cluster engine's stages: `rows` done of `totalRows`) or `writing`.
    public var stage: String
    /// Rows done in this stage.
    public var rows: Int
    /// Rows to do in this stage (0 while unknown).
    public var totalRows: Int
}

extension FeatureStore {
    /// A cluster engine's stages done and stages, reported as the stage `cluster` of `view`.
    static func clusterProgress(_ view: FeatureView, _ progress: (@Sendable (MaterializationProgress) -> Void)?) -> (@Sendable (Int, Int) -> Void)? {
        guard let progress else { return nil }
        return { done, total in progress(MaterializationProgress(view: view.name, stage: "cluster", rows: done, totalRows: total)) }
    }

    /// Rows per write transaction: a crash loses at most one batch, which a rerun writes again.
    static let materializationBatch = 10_000

    /// Loads the latest row per entity of each online view (or of `views`) with `start <= event_ts < end` into the
    /// online store: the same meaning as `joinFeatures` at time `end` (ties: the greatest created time, then the
    /// greater encoded row). Writes are event-time ordered, so rerunning, or racing a stream, never makes data older.
    ///
    /// - Parameters:
    ///   - start: the window's start, microseconds since the epoch (inclusive; `Int64.min`: from the beginning).
    ///   - end: the window's end, microseconds since the epoch (exclusive).
    ///   - names: the views to load (nil: every online view).
    ///   - progress: called as each view is read and written.
    /// - Returns: one report per view: rows read and written, entities, per-feature statistics (also recorded in the
    ///   registry).
    public func materialize(start: Int64, end: Int64, views names: [String]? = nil,
                            progress: (@Sendable (MaterializationProgress) -> Void)? = nil) async throws(OnlineStoreError) -> [MaterializationReport] {
        let (views, registryStore) = try materializationSetup(names)
        var reports: [MaterializationReport] = []
        for view in views {
            let report = try await materialize(view, start: start, end: end, progress: progress)
            do {
                try registryStore.recordMaterialization(report)
            } catch {
                throw OnlineStoreError(.failed, "materialized '\(view.name)' but could not record it in the registry", cause: error)
            }
            reports.append(report)
        }
        return reports
    }

    /// Materializes each online view from its watermark (first run, or a store holding nothing of the view's table:
    /// `end - ttl`, or everything for ttl 0) to `end`, and moves the watermark to `end` once the rows are written.
    ///
    /// - Parameters:
    ///   - end: the window's end, microseconds since the epoch (exclusive).
    ///   - names: the views to load (nil: every online view).
    ///   - progress: called as each view is read and written.
    /// - Returns: one report per view that had a window to load.
    public func materializeIncremental(end: Int64, views names: [String]? = nil,
                                       progress: (@Sendable (MaterializationProgress) -> Void)? = nil) async throws(OnlineStoreError) -> [MaterializationReport] {
        let (views, registryStore) = try materializationSetup(names)
        var reports: [MaterializationReport] = []
        for view in views {
            var watermark: Int64?
            do { watermark = try registryStore.watermark(of: view.name) } catch { throw OnlineStoreError(.failed, "", cause: error) }
            // The watermark is the registry's, the data the online store's: a store that holds nothing of the view's
            // table (a changed schema, which has a table of its own; another store; a wiped one) starts over.
            if watermark != nil {
                do {
                    if try await !onlineStore().holdsData(of: registeredTable(of: view)) { watermark = nil }
                } catch {
                    throw OnlineStoreError(error.code, "cannot tell whether the online store holds feature view '\(view.name)'", cause: error)
                }
            }
            // First run: every row a lookup at END can still report (within the ttl, or OUTSIDE_MAX_AGE in its grace).
            let ttl = view.ttl.seconds * 1_000_000
            let start = watermark ?? (ttl > 0 ? end - ttl - RowExpiry.grace(ttl: ttl) : Int64.min)
            guard start < end else { continue }
            let report = try await materialize(view, start: start, end: end, progress: progress)
            do {
                // Recorded only now: the rows are committed, so the watermark never runs ahead of the data.
                try registryStore.recordMaterialization(report)
                try registryStore.setWatermark(end, of: view.name)
            } catch {
                throw OnlineStoreError(.failed, "materialized '\(view.name)' but could not record it in the registry", cause: error)
            }
            reports.append(report)
        }
        return reports
    }

    /// The views to materialize and the registry that records the runs.
    private func materializationSetup(_ names: [String]?) throws(OnlineStoreError) -> ([FeatureView], RegistryStore) {
        let views = try onlineViews(names)
        do {
            return (views, try openRegistry())
        } catch {
            throw OnlineStoreError(.failed, "", cause: error)
        }
    }

    private func onlineViews(_ names: [String]?) throws(OnlineStoreError) -> [FeatureView] {
        guard let names else { return registry.featureViews.filter(\.online) }
        var out: [FeatureView] = []
        for name in names {
            guard let view = registry.featureView(named: name) else {
                throw OnlineStoreError("no feature view '\(name)'\(Suggestion.hint(for: name, in: registry.featureViews.map(\.name)))")
            }
            guard view.online else { throw OnlineStoreError("feature view '\(name)' is not online (online: false)") }
            out.append(view)
        }
        return out
    }

    private func materialize(_ view: FeatureView, start: Int64, end: Int64,
                             progress: (@Sendable (MaterializationProgress) -> Void)?) async throws(OnlineStoreError) -> MaterializationReport {
        let began = Date()
        guard start < end else {
            throw OnlineStoreError("the window of '\(view.name)' is empty: start (\(start) us) is not before end (\(end) us)")
        }
        guard let source = registry.batchSource(of: view) else {
            throw OnlineStoreError("feature view '\(view.name)' has no offline (table) source")
        }
        let path = whereabouts(of: source)
        let keys = registry.joinKeys(of: view)
        progress?(MaterializationProgress(view: view.name, stage: "reading", rows: 0, totalRows: 0))
        if view.isAggregated {
            return try await materializeTiles(view, source: source, path: path, keys: keys, start: start, end: end, began: began, progress: progress)
        }
        // Each entity's latest row in [start, end), by the rule the join uses (the same code in the local engine).
        let latest = try await reading(view, source: source, path: path) { engine in
            var request = LatestRowsRequest(view: view, source: source, joinKeys: keys, start: start, end: end)
            request.progress = Self.clusterProgress(view, progress)
            return try await engine.latestRows(request)
        }
        guard latest.keys.count == keys.count, latest.features.count == view.features.count else {
            throw OnlineStoreError("the offline engine returned \(latest.keys.count) key and \(latest.features.count) feature columns for feature view '\(view.name)'")
        }
        let best = latest.rows
        let rowsRead = latest.rowsInWindow
        let times = latest.eventTimes, created = latest.createdTimes, createdValid = latest.createdValid
        let keyData = latest.keys, featureData = latest.features
        // Expectations first, over every row offered: under `fail` a violation stops the view before anything of it
        // is written; under `drop` the rows that break a rule are left out.
        let checker = ExpectationChecker(view: view)
        var tally: ExpectationTally? = nil
        var dropped: [Bool] = []
        if !checker.isEmpty {
            var t = ExpectationTally()
            if view.violationPolicy == .drop { dropped = Array(repeating: false, count: best.count) }
            for (n, row) in best.enumerated() {
                let r = Int(row)
                let values = view.features.enumerated().map { k, feature in featureData[k].onlineValue(at: r, as: feature.type) }
                let violations = checker.violations(values)
                t.add(values, violations: violations, checker: checker)
                if !violations.isEmpty, !dropped.isEmpty { dropped[n] = true }
            }
            t.finish(checker)
            if view.violationPolicy == .fail, t.total > 0 {
                throw OnlineStoreError(.invalidRequest, "feature view '\(view.name)' breaks its expectations (policy fail), so nothing of it was written: \(t.summary)")
            }
            tally = t
        }
        progress?(MaterializationProgress(view: view.name, stage: "writing", rows: 0, totalRows: best.count))
        let store = try await onlineStore()
        let table = registeredTable(of: view)
        var written = 0
        var stats = view.features.map { _ in RunningStatistics() }
        var batch: [OnlineRow] = []
        batch.reserveCapacity(Self.materializationBatch)
        for (n, row) in best.enumerated() {
            let r = Int(row)
            if !dropped.isEmpty, dropped[n] {
                if n == best.count - 1, !batch.isEmpty {
                    written += try await store.write(batch, to: table)
                    batch.removeAll(keepingCapacity: true)
                }
                continue
            }
            let key = zip(keys, keyData).map { key, column in column.onlineValue(at: r, as: .scalar(key.type)) }
            var values: [OnlineValue] = []
            for (k, feature) in view.features.enumerated() {
                let v = featureData[k].onlineValue(at: r, as: feature.type)
                values.append(v)
                switch v {
                case .null: stats[k].nulls += 1
                case .int(let i): stats[k].add(Double(i))
                case .float(let f): stats[k].add(Double(f))
                case .double(let d): stats[k].add(d)
                default: break
                }
            }
            let createdMicros = created.map { createdValid?[r] == false ? OnlineRow.noCreatedTimestamp : $0[r] } ?? OnlineRow.noCreatedTimestamp
            batch.append(OnlineRow(key: key, eventTimestamp: times[r], createdTimestamp: createdMicros, values: values))
            if batch.count == Self.materializationBatch || n == best.count - 1 {
                written += try await store.write(batch, to: table)
                batch.removeAll(keepingCapacity: true)
                progress?(MaterializationProgress(view: view.name, stage: "writing", rows: n + 1, totalRows: best.count))
            }
        }
        var featureStats: [String: FeatureStatistics] = [:]
        for (k, feature) in view.features.enumerated() { featureStats[feature.name] = stats[k].result }
        // Profiles of what the run wrote (under drop, without the rows it left out): what serving holds for these entities.
        let kept = dropped.isEmpty ? best : best.enumerated().filter { !dropped[$0.offset] }.map(\.element)
        var profiles: [String: FeatureProfile] = [:]
        for (k, feature) in view.features.enumerated() { profiles[feature.name] = FeatureProfile.of(featureData[k].take(kept)) }
        return MaterializationReport(view: view.name, start: start, end: end, rowsRead: rowsRead, rowsWritten: written,
                                     entities: best.count, seconds: Date().timeIntervalSince(began), features: featureStats,
                                     expectations: tally, rowsDropped: dropped.isEmpty ? nil : dropped.lazy.filter { $0 }.count,
                                     profiles: profiles)
    }
}

extension FeatureStore {
    /// An aggregated view's backfill: the backfill part of its tiles from the source's events before `end`, each tile
    /// whole from its hop's boundary at or before `start`, replacing what the store holds for those tiles.
    ///
    /// For a view fed by a stream, `end` is per hop the cut between backfill and stream (``TileCuts``): set to `end`
    /// the first time, moved forward to a safe hop boundary later. Each backfill part records its coverage (the cut),
    /// so a tile whose backfill part is whole is read from it alone the moment it is written: the hand-over is atomic
    /// for readers tile by tile, during the run and after a crash in it. Stream parts that no lookup reads any more
    /// are deleted one run later, only to free space.
    fileprivate func materializeTiles(_ view: FeatureView, source: DataSource, path: String, keys: [JoinKey], start: Int64, end: Int64,
                                      began: Date, progress: (@Sendable (MaterializationProgress) -> Void)?) async throws(OnlineStoreError) -> MaterializationReport {
        let table = registeredTable(of: view)
        let store = try await onlineStore().tiles(for: table)
        let hops = TileCuts.hops(of: view)
        var ends = Dictionary(uniqueKeysWithValues: hops.map { ($0, end) })
        var handOver: [Int64: Int64] = [:]
        var start = start
        let fed = registry.source(named: view.source)?.isStream ?? false
        if let fed = registry.source(named: view.source), fed.isStream {
            // The cuts depend on the stream's settings (allowed lateness, roll), which the transport's section reads: a
            // program without the transport's kind would move them with the defaults.
            guard kinds.sources[fed.kind] != nil else {
                throw OnlineStoreError("feature view '\(view.name)' is fed by the \(fed.kind) stream '\(fed.name)', and this program lacks the \(fed.kind) kind: its stream settings (allowed lateness, offline roll) are unknown here; materialize it with a program that has the kind (featurectl)")
            }
            // Stream parts are deleted one run late: those before the cut as it was when this run began, whose tiles
            // an earlier run made whole. Deleting the ones this run hands over would race with a lookup that read a
            // tile's backfill part before its rewrite and its stream part after the delete (two nodes on Redis).
            let previous = try await store.tileCuts(of: table)
            ends = try await backfillCuts(table, hops: hops, end: end, store: store)
            for (hop, cut) in previous where cut > Int64.min && ends[hop] != nil {
                handOver[hop] = AggregationWindow(length: hop, hop: hop)!.floorToHop(cut)
            }
            // The backfill owns every tile before the cut, the ones the stream held until now too: it rewrites all
            // of them (from the oldest a lookup can need), whatever START says (materialize-incremental's watermark).
            start = Int64.min
        }
        // Tiles no lookup from `min(end, now) - allowed lateness` on can need are neither written nor kept: an END in
        // the future keeps what lookups need now (retention at END would delete the tiles of the present).
        let lateness = config.streams.allowedLateness.seconds * 1_000_000
        let clock = Self.clockMicros()
        let kept = TileCuts.retention(of: view, at: min(end, clock), allowedLateness: lateness)
        // Roll-ups are built from this run's tiles, so the run rebuilds whole spans: from the span at or before START.
        let spans = Dictionary(uniqueKeysWithValues: hops.compactMap { hop in TileRollups.span(of: view, hop: hop).map { (hop, $0) } })
        let rebuiltFrom = TileRollups.largestSpan(of: view).map { start == Int64.min ? start : TileRollups.spanStart(of: start, span: $0) } ?? start
        // A roll-up stands for its tiles when they hold only this run's events before the clock: before the cut, and
        // for a stream-fed view also before the cut this run began with (the stream parts after it, which the tiles'
        // whole backfill parts hide but a roll-up could not, are deleted only by the next run).
        var coverage = ends.mapValues { min($0, clock) }
        if fed { for hop in hops { coverage[hop] = min(coverage[hop]!, handOver[hop] ?? Int64.min) } }
        var rollups = RollupBuilder(view: view, spans: spans, from: rebuiltFrom, kept: kept, coverage: coverage)
        var events = 0
        var entities = Set<[OnlineValue]>()
        // Tiles are encoded and written a batch at a time as they are read: the encoded form of every tile is never
        // held at once (a large backfill's tiles take gigabytes).
        var batch: [OnlineTile] = []
        batch.reserveCapacity(Self.materializationBatch)
        var written = 0, total = 0
        // One read per distinct end (usually one): a tile of a hop holds exactly the events before that hop's end.
        for cut in Set(ends.values).sorted() where rebuiltFrom < cut {
            var built = try await reading(view, source: source, path: path) { engine in
                var request = LatestRowsRequest(view: view, source: source, joinKeys: keys, start: rebuiltFrom, end: cut, firstTiles: kept)
                // Events at or after now are kept whole: a lookup in their tile before them must not count them.
                request.rawFrom = clock
                request.progress = Self.clusterProgress(view, progress)
                return try await engine.aggregateTiles(request)
            }
            events = max(events, built.events)
            total += built.tiles.count { ends[$0.hop] == cut && $0.start >= kept[$0.hop] ?? Int64.min }
            progress?(MaterializationProgress(view: view.name, stage: "writing", rows: written, totalRows: total))
            // Before any tile of a span is rewritten, its roll-up (an older run's, maybe complete) is replaced by an
            // incomplete one: lookups read the span from its tiles until this run's roll-up is written, after a crash
            // too, never from a roll-up of other events than the tiles'.
            let invalidated = rollups.invalidate(built.tiles, where: { ends[$0.hop] == cut && $0.start >= kept[$0.hop] ?? Int64.min }) { tile in
                zip(keys, built.keys).map { key, column in column.onlineValue(at: tile.row, as: .scalar(key.type)) }
            }
            for first in stride(from: 0, to: invalidated.count, by: Self.materializationBatch) {
                try await store.writeTiles(Array(invalidated[first..<min(invalidated.count, first + Self.materializationBatch)]), to: table)
            }
            for i in built.tiles.indices {
                let tile = built.tiles[i]
                guard ends[tile.hop] == cut, tile.start >= kept[tile.hop] ?? Int64.min else { continue }
                let key = zip(keys, built.keys).map { key, column in column.onlineValue(at: tile.row, as: .scalar(key.type)) }
                entities.insert(key)
                // Its coverage: the events before the cut (whole when the tile ends at or before it).
                batch.append(OnlineTile(key: key, hop: tile.hop, start: tile.start, states: TileStates.encodeBackfill(tile.states, coverage: cut, raw: tile.raw)))
                rollups.add(tile, key: key)
                built.tiles[i].states = []  // its memory goes back as soon as it is encoded
                if batch.count == Self.materializationBatch {
                    try await store.writeTiles(batch, to: table)
                    written += batch.count
                    batch.removeAll(keepingCapacity: true)
                    progress?(MaterializationProgress(view: view.name, stage: "writing", rows: written, totalRows: total))
                }
            }
        }
        if !batch.isEmpty {
            try await store.writeTiles(batch, to: table)
            written += batch.count
            progress?(MaterializationProgress(view: view.name, stage: "writing", rows: written, totalRows: total))
        }
        if !handOver.isEmpty {
            // An earlier backfill made these tiles whole: lookups read their backfill parts alone; this frees the space.
            try await store.deleteTiles(of: table, before: handOver, origin: .stream)
        }
        // The roll-ups last, once the tiles they stand for are written (a lookup meanwhile reads each span from its
        // old roll-up or from its tiles).
        for first in stride(from: 0, to: rollups.count, by: Self.materializationBatch) {
            // Encoded a batch at a time, each batch's states freed once written.
            try await store.writeTiles(rollups.take(first..<min(rollups.count, first + Self.materializationBatch)), to: table)
        }
        try await store.deleteTiles(of: table, before: kept, origin: nil)
        let reportEnd = ends.values.max() ?? end
        let profiles = try await profileAggregated(view, entities: Array(entities), keys: keys, at: min(reportEnd, clock))
        return MaterializationReport(view: view.name, start: start, end: reportEnd, rowsRead: events, rowsWritten: written,
                                     entities: entities.count, seconds: Date().timeIntervalSince(began), features: [:], profiles: profiles)
    }

    /// Profiles of an aggregated view's features as lookups see them at `at` for `entities` (the values serving
    /// gives, merged from the tiles just written), read 1,000 entities at a time.
    private func profileAggregated(_ view: FeatureView, entities: [[OnlineValue]], keys: [JoinKey], at: Int64) async throws(OnlineStoreError) -> [String: FeatureProfile] {
        var profiles = Dictionary(uniqueKeysWithValues: view.features.map { ($0.name, FeatureProfile()) })
        for first in stride(from: 0, to: entities.count, by: 1_000) {
            let part = entities[first..<min(entities.count, first + 1_000)]
            var columns: [String: [OnlineValue]] = [:]
            for (k, key) in keys.enumerated() { columns[key.name] = part.map { $0[k] } }
            let answer = try await getOnlineFeatures(entities: columns, features: .references([FeatureReference(view: view.name)]), at: at)
            for column in answer.columns {
                for value in column.values { profiles[column.feature]?.add(value) }
            }
        }
        return profiles
    }

    /// The cuts of a stream-fed aggregated view after this backfill (``TileCuts``): `end` (or now, when earlier) for
    /// hops that have none yet; otherwise moved forward to the hop boundary at or before `min(end, now - allowed lateness - offline roll
    /// interval - 1 minute)` when that is later.
    private func backfillCuts(_ table: OnlineTable, hops: [Int64], end: Int64, store: any OnlineTileStore) async throws(OnlineStoreError) -> [Int64: Int64] {
        let streams = config.streams
        let now = Self.clockMicros()
        // A first cut never lies in the future: the stream owns what has not happened yet.
        let first = min(end, now)
        var cuts = try await store.setTileCuts(Dictionary(uniqueKeysWithValues: hops.map { ($0, first) }), of: table, onlyMissing: true)
        var moved: [Int64: Int64] = [:]
        for hop in hops {
            let current = cuts[hop] ?? first
            let next = TileCuts.movedCut(current: current, hop: hop, end: end, now: now, allowedLateness: streams.allowedLateness.seconds * 1_000_000,
                                         rollInterval: streams.offlineRollInterval.seconds * 1_000_000)
            if next > current { moved[hop] = next }
        }
        if !moved.isEmpty { cuts = try await store.setTileCuts(moved, of: table, onlyMissing: false) }
        return Dictionary(uniqueKeysWithValues: hops.map { ($0, cuts[$0] ?? first) })
    }
}

extension FeatureStore {
    /// The wall clock in microseconds (what "now" is for cuts and tile retention).
    static func clockMicros() -> Int64 { Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down)) }

    /// Runs `body` with the offline engine on a source that has data, turning the engine's errors into the store's.
    func reading<T>(_ view: FeatureView, source: DataSource, path: String,
                                _ body: (any OfflineEngine) async throws -> T) async throws(OnlineStoreError) -> T {
        do {
            let engine = try offlineEngine()
            guard engine.sourceKinds.contains(source.kind) else {
                throw OnlineStoreError("feature view '\(view.name)': the offline engine '\(offlineEngineSettings.kind)' does not read \(source.kind) sources like '\(source.name)'; it reads: \(engine.sourceKinds.joined(separator: ", "))")
            }
            guard try await engine.hasData(source) else {
                throw OnlineStoreError("feature view '\(view.name)': source '\(source.name)' has no data at \(path) yet")
            }
            return try await body(engine)
        } catch let error as OnlineStoreError {
            throw error
        } catch let error as OfflineEngineError {
            // The input, not the store: the engine's error names the file, row group and column.
            throw OnlineStoreError(.badInput, "cannot read the source of feature view '\(view.name)' (\(source.name))", cause: error)
        } catch {
            throw OnlineStoreError(.failed, "cannot read the source of feature view '\(view.name)'", cause: error)
        }
    }
}

/// Null count, min, max and mean of numeric values, accumulated one value at a time.
struct RunningStatistics {
    var nulls = 0
    var min = Double.infinity
    var max = -Double.infinity
    var sum = 0.0
    var count = 0

    mutating func add(_ v: Double) {
        min = Swift.min(min, v)
        max = Swift.max(max, v)
        sum += v
        count += 1
    }

    var result: FeatureStatistics {
        FeatureStatistics(nullCount: nulls, min: count > 0 ? min : nil, max: count > 0 ? max : nil, mean: count > 0 ? sum / Double(count) : nil)
    }
}

/// The roll-ups of a backfill (``TileRollups``), merged from its tiles as they are written: one per entity, hop with
/// roll-ups and whole span the run rebuilds (at or after `from` and the oldest tile kept), complete when the span ends
/// by the hop's coverage (`min(cut, now)`), else written empty and incomplete (it replaces an older roll-up of tiles
/// this run rewrote). Before the run rewrites a span's tiles, ``invalidate(_:key:)`` gives the incomplete roll-ups
/// that replace the older ones.
struct RollupBuilder {
    let spans: [Int64: Int64]
    let from: Int64
    let kept: [Int64: Int64]
    let coverage: [Int64: Int64]
    let features: [Int64: [Feature]]
    private var index: [Spot: Int] = [:]
    private var built: [(spot: Spot, states: [AggregateState]?)] = []

    struct Spot: Hashable {
        var key: [OnlineValue]
        var hop: Int64
        var start: Int64
    }

    init(view: FeatureView, spans: [Int64: Int64], from: Int64, kept: [Int64: Int64], coverage: [Int64: Int64]) {
        self.spans = spans
        self.from = from
        self.kept = kept
        self.coverage = coverage
        features = Dictionary(uniqueKeysWithValues: spans.keys.map { ($0, TileStates.features(of: view, hop: $0)) })
    }

    /// How many roll-ups the run writes.
    var count: Int { built.count }

    /// The whole span a tile's roll-up covers, if it gets one, and whether that roll-up is complete.
    private func spot(_ tile: BuiltTile, key: [OnlineValue]) -> (spot: Spot, complete: Bool)? {
        guard let span = spans[tile.hop], let coverage = coverage[tile.hop] else { return nil }
        let start = TileRollups.spanStart(of: tile.start, span: span)
        guard TileRollups.isSpanStart(start, span: span), start >= from, start >= kept[tile.hop] ?? Int64.min else { return nil }
        return (Spot(key: key, hop: tile.hop, start: start), TileRollups.spanEnd(start, span: span).map { $0 <= coverage } ?? false)
    }

    /// The incomplete roll-ups replacing the stored ones of the spans of the `tiles` the run writes (`written`) not
    /// seen yet (keys from `key`).
    mutating func invalidate(_ tiles: [BuiltTile], where written: (BuiltTile) -> Bool, key: (BuiltTile) -> [OnlineValue]) -> [OnlineTile] {
        var out: [OnlineTile] = []
        for tile in tiles where spans[tile.hop] != nil && written(tile) {
            guard let (spot, _) = spot(tile, key: key(tile)), index[spot] == nil else { continue }
            index[spot] = built.count
            built.append((spot, nil))
            out.append(encoded(spot, states: nil, coverage: Int64.min))
        }
        return out
    }

    /// Adds a tile the run writes (its states still there).
    mutating func add(_ tile: BuiltTile, key: [OnlineValue]) {
        guard let (spot, complete) = spot(tile, key: key) else { return }
        let i: Int
        if let known = index[spot] {
            i = known
        } else {
            i = built.count
            index[spot] = i
            built.append((spot, nil))
        }
        guard complete else { return }
        if built[i].states == nil {
            built[i].states = tile.states
        } else {
            for f in tile.states.indices { built[i].states![f].merge(tile.states[f]) }
        }
    }

    /// The roll-ups at `range`, encoded; their states are freed.
    mutating func take(_ range: Range<Int>) -> [OnlineTile] {
        range.map { i in
            defer { built[i].states = nil }
            return encoded(built[i].spot, states: built[i].states, coverage: coverage[built[i].spot.hop]!)
        }
    }

    private func encoded(_ spot: Spot, states: [AggregateState]?, coverage: Int64) -> OnlineTile {
        let empty = features[spot.hop]!.map { AggregateState($0.aggregation!.function, n: $0.aggregation!.n ?? 1) }
        return OnlineTile(key: spot.key, hop: spot.hop, start: spot.start, states: TileRollups.encode(states ?? empty, coverage: coverage), origin: .rollup)
    }
}
