import Columnar
import FeatureComputation
public import FeatureStoreCore

extension LocalOfflineEngine {
    /// The point-in-time lookup of an aggregated view: each entity row's aggregates over the events of its key in
    /// each feature's window (``WindowAggregator``). Reads the row groups that can hold events of some window:
    /// `[min(t) - longest window - its hop, max(t)]`.
    func aggregatedJoin(_ request: PointInTimeRequest) throws -> [Column] {
        let view = request.view, source = request.source
        let inputs = AggregationInputs(source: source, keys: request.joinKeys, features: request.features)
        let range = request.timeRange
        let reach = request.features.compactMap { $0.aggregation.map { ($0.window.seconds + $0.hop.seconds) * 1_000_000 } }.max() ?? 0
        request.progress?(.reading, 0, 0)
        let data = try read(source, view: view, columns: inputs.columns, from: EventTime.before(range.lowerBound, by: reach), to: range.upperBound)
        request.progress?(.indexing, data.rowCount, data.rowCount)
        let keys = try inputs.keys(of: data, view: view)
        let (times, timesValid) = try Self.eventTimes(data, source)
        let windowFeatures = try inputs.windowFeatures(of: data, view: view)
        let entityCount = request.entityTimes.count
        request.progress?(.joining, 0, entityCount)
        let results = WindowAggregator.aggregate(
            eventKeys: keys, eventTimes: times, eventTimesValid: timesValid,
            features: windowFeatures, entityKeys: request.entityKeys, entityTimes: request.entityTimes,
            entityTimesValid: request.entityTimesValid)
        request.progress?(.joining, entityCount, entityCount)
        return zip(request.features, results).map { feature, values in Self.column(values, as: feature.type) }
    }

    /// A column of `type` from aggregation results (nil: null).
    static func column(_ results: [AggregateResult?], as type: ValueType) -> Column {
        switch type {
        case .scalar(let s):
            return scalarColumn(results.map { result -> AggregateValue? in
                switch result {
                case .int(let x)?: return .int(x)
                case .double(let x)?: return .double(x)
                case .value(let v)?: return v
                default: return nil
                }
            }, as: s)
        case .list(let s):
            var offsets = [0], flat: [AggregateValue?] = [], valid: [Bool] = []
            for result in results {
                if case .list(let items)? = result {
                    flat.append(contentsOf: items.map { $0 })
                    valid.append(true)
                } else {
                    valid.append(false)
                }
                offsets.append(flat.count)
            }
            return Column(type: .list(s.columnType), values: .list(offsets: offsets, values: scalarColumn(flat, as: s)),
                          validity: valid.allSatisfy { $0 } ? nil : Bitmap(valid))
        }
    }

    static func scalarColumn(_ values: [AggregateValue?], as type: ScalarType) -> Column {
        func ints() -> [Int64?] { values.map { if case .int(let x)? = $0 { return x } else { return nil } } }
        func doubles() -> [Double?] {
            values.map { v -> Double? in
                switch v {
                case .double(let x)?: return x
                case .int(let x)?: return Double(x)
                default: return nil
                }
            }
        }
        switch type {
        case .bool: return Column(bool: values.map { if case .bool(let x)? = $0 { return x } else { return nil } })
        case .int32: return Column(int32: ints().map { $0.map { Int32(truncatingIfNeeded: $0) } })
        case .int64: return Column(int64: ints())
        case .float32: return Column(float32: doubles().map { $0.map { Float($0) } })
        case .float64: return Column(float64: doubles())
        case .string: return Column(strings: values.map { if case .string(let x)? = $0 { return x } else { return nil } })
        case .bytes: return Column(binary: values.map { if case .bytes(let x)? = $0 { return x } else { return nil } })
        case .timestamp: return Column(timestamps: values.map { if case .timestamp(let x)? = $0 { return x } else { return nil } }, unit: .microseconds, utc: true)
        }
    }
}

extension LocalOfflineEngine {
    /// Reads the row groups with events from the earliest tile asked for up to `end` and builds the tiles in one pass
    /// (``TileBuilder``); see ``OfflineEngine/aggregateTiles(_:)``.
    public func aggregateTiles(_ request: LatestRowsRequest) async throws -> EventTiles {
        let view = request.view, source = request.source
        // The states tiles hold: per hop, one per recipe (TileStates.features), in that order.
        let tileFeatures = TileCuts.hops(of: view).flatMap { TileStates.features(of: view, hop: $0) }
        let inputs = AggregationInputs(source: source, keys: request.joinKeys, features: tileFeatures)
        // Per hop, the first event counted: floor_hop(start), or the first tile asked for when later.
        var starts: [Int64: Int64] = [:]
        for hop in TileCuts.hops(of: view) {
            let window = AggregationWindow(length: hop, hop: hop)!
            let fromStart = request.start == Int64.min ? Int64.min : window.floorToHop(request.start)
            starts[hop] = max(fromStart, request.firstTiles[hop].map(window.floorToHop) ?? Int64.min)
        }
        let earliest = starts.values.min() ?? Int64.min
        let data = try read(source, view: view, columns: inputs.columns, from: earliest == Int64.min ? nil : earliest, to: request.end)
        let keys = try inputs.keys(of: data, view: view)
        let (times, timesValid) = try Self.eventTimes(data, source)
        let features = try inputs.windowFeatures(of: data, view: view)
        let built = TileBuilder.tiles(eventKeys: keys, eventTimes: times, eventTimesValid: timesValid,
                                      features: features, starts: starts, end: request.end, rawFrom: request.rawFrom)
        return EventTiles(keys: keys, tiles: built.tiles, events: built.events)
    }
}

/// What an aggregated view reads from its source, for the join and for the tiles alike: the key columns, the event
/// time and the aggregated columns (named as the source names them), and the features to compute from them.
struct AggregationInputs {
    let source: DataSource
    let joinKeys: [JoinKey]
    let features: [Feature]
    /// Source column of each name the view uses (the field mapping reversed).
    let columnOf: [String: String]
    /// The join key columns, in join key order.
    let keyColumns: [String]
    /// Every column to read, once.
    let columns: [String]

    init(source: DataSource, keys: [JoinKey], features: [Feature]) {
        self.source = source
        self.joinKeys = keys
        self.features = features
        var columnOf: [String: String] = [:]
        for (from, to) in source.fieldMapping { columnOf[to] = from }
        self.columnOf = columnOf
        keyColumns = SourceColumns(source: source, keys: keys, features: []).keys
        var columns = keyColumns + [source.timestampField]
        for feature in features {
            if let column = feature.aggregation?.column.map({ columnOf[$0] ?? $0 }), !columns.contains(column) { columns.append(column) }
        }
        self.columns = columns
    }

    /// The key columns of the data read, checked against the join keys' types.
    func keys(of data: Table, view: FeatureView) throws(OfflineEngineError) -> [Column] {
        var out: [Column] = []
        for (key, name) in zip(joinKeys, keyColumns) {
            guard let column = data.column(named: name) else {
                throw OfflineEngineError(.invalidData, "source '\(source.name)' has no column '\(name)' (a join key of feature view '\(view.name)')")
            }
            guard FeatureStore.keyTypeMatches(column.type, key.type) else {
                throw OfflineEngineError(.invalidData, "column '\(name)' of source '\(source.name)' is \(column.type), but join key '\(key.name)' is declared \(key.type.rawValue)")
            }
            out.append(column)
        }
        return out
    }

    /// One ``WindowFeature`` per feature, reading its column from the data read.
    func windowFeatures(of data: Table, view: FeatureView) throws(OfflineEngineError) -> [WindowFeature] {
        var out: [WindowFeature] = []
        for feature in features {
            guard let aggregation = feature.aggregation else {
                throw OfflineEngineError(.invalidData, "feature '\(feature.name)' of aggregated view '\(view.name)' has no aggregation")
            }
            var values: Column? = nil
            var valuesName: String? = nil
            if let wanted = aggregation.column {
                let name = columnOf[wanted] ?? wanted
                guard let column = data.column(named: name) else {
                    throw OfflineEngineError(.invalidData, "column '\(wanted)' aggregated by feature view '\(view.name)' is not a column of source '\(source.name)'")
                }
                values = column
                valuesName = name
            }
            out.append(WindowFeature(function: aggregation.function, window: aggregation.computation, n: aggregation.n ?? 1,
                                     values: values, valuesName: valuesName))
        }
        return out
    }
}

extension LocalOfflineEngine {
    /// What the engine's computations read.
    public enum Reading: Sendable {
        /// ``pointInTimeJoin(_:)`` of these features.
        case join([Feature])
        /// ``latestRows(_:)``.
        case latestRows
        /// ``aggregateTiles(_:)``.
        case tiles
    }

    /// The data columns of `source` that a computation over `view` reads, named as the source names them, derived
    /// columns replaced by the data columns they are computed from: what an engine that ships a source's rows to
    /// where this engine computes (the Spark engine's partitions) must ship.
    public static func dataColumns(_ reading: Reading, view: FeatureView, source: DataSource, joinKeys: [JoinKey]) -> [String] {
        let columns: [String]
        switch reading {
        case .join(let features) where view.isAggregated:
            columns = AggregationInputs(source: source, keys: joinKeys, features: features).columns
        case .tiles:
            let tileFeatures = TileCuts.hops(of: view).flatMap { TileStates.features(of: view, hop: $0) }
            columns = AggregationInputs(source: source, keys: joinKeys, features: tileFeatures).columns
        case .join, .latestRows:
            columns = SourceColumns(source: source, keys: joinKeys, features: view.features).all
        }
        return source.derived.isEmpty ? columns : DerivedColumns(source).dataColumns(for: columns)
    }
}
