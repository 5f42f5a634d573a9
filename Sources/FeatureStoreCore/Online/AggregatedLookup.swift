import Columnar
public import FeatureComputation

/// The bytes of a tile: the encoded partial aggregate of each feature of the view with the tile's hop, in feature
/// order, each preceded by its length.
public enum TileStates {
    /// What a tile of `hop` (microseconds) holds a state for: the features of `view` with that hop, one per recipe
    /// (function, column, type, n), in view order. Features that differ only by window share a state (`sum(fare)`
    /// over 1d and over 7d, both hopping by the hour, read the same hourly sums).
    public static func features(of view: FeatureView, hop: Int64) -> [Feature] {
        var seen = Set<Recipe>()
        return view.features.filter { feature in
            guard let a = feature.aggregation, a.computation.hop == hop else { return false }
            return seen.insert(Recipe(a)).inserted
        }
    }

    /// What makes two features' tile states the same.
    struct Recipe: Hashable {
        var function: AggregateFunction
        var column: String?
        var type: ScalarType?
        var n: Int
        init(_ a: FeatureAggregation) {
            function = a.function
            column = a.column
            type = a.inputType
            n = max(1, a.n ?? 1)
        }
    }

    /// A tile's bytes: `states` (those ``features(of:hop:)`` lists, in order), each preceded by its length, with no
    /// coverage (see ``encodeBackfill(_:coverage:raw:)``).
    public static func encode(_ states: [AggregateState]) -> [UInt8] {
        AggregateState.encode(states)
    }

    /// A backfill part's bytes: its states, then its *coverage*, one more state (the `max` of a timestamp): the part
    /// holds every event of the tile before that time that the offline files held. A part whose coverage reaches the
    /// tile's end is *whole*, and a lookup reads it alone, without the tile's stream part: the stream's events of
    /// that tile are in the backfill part too. So a backfill that moves the cut is handed over tile by tile, each
    /// tile's backfill part written at once, and a lookup during it (or after a crash in the middle) never counts an
    /// event twice, whatever the store (no transaction across its nodes needed).
    public static func encodeBackfill(_ states: [AggregateState], coverage: Int64, raw: RawEvents? = nil) -> [UInt8] {
        var marker = AggregateState(.max)
        marker.add(.timestamp(coverage), at: coverage)
        return AggregateState.encode(states + [marker], raw: raw)
    }

    /// The raw events of a tile part (``RawEvents``), empty when it keeps none.
    static func raw(of bytes: [UInt8]) throws(AggregateStateDecodingError) -> RawEvents {
        var out = RawEvents()
        for slice in try AggregateState.slices(of: bytes) where RawEvents.isRaw(slice) { out.events += try RawEvents(decoding: slice).events }
        return out
    }

    /// The coverage of a backfill part written by ``encodeBackfill(_:coverage:)`` whose hop has `features` states (nil
    /// for a part written without one, read as not whole).
    static func coverage(of bytes: [UInt8], features: Int) throws(AggregateStateDecodingError) -> Int64? {
        var sequence = AggregateState.Sequence(bytes)
        var position = 0
        var last: ArraySlice<UInt8>?
        while let slice = try sequence.next() {
            if RawEvents.isRaw(slice) { continue }
            position += 1
            last = slice
        }
        guard position == features + 1, let last else { return nil }
        return try Self.coverage(last)
    }

    /// The coverage a trailing state holds, or an error when it is not a coverage.
    static func coverage(_ slice: ArraySlice<UInt8>) throws(AggregateStateDecodingError) -> Int64 {
        var state = AggregateState(.max)
        try state.merge(encoded: slice)
        guard case .value(.timestamp(let t))? = state.result else {
            throw AggregateStateDecodingError(message: "a backfill part's last state is not its coverage")
        }
        return t
    }

    /// The states of a tile of `view` with `hop`, checked against the features' functions and `n`.
    public static func decode(_ bytes: [UInt8], view: FeatureView, hop: Int64) throws(OnlineStoreError) -> [AggregateState] {
        try decode(bytes, view: view, features: features(of: view, hop: hop))
    }

    /// The states of a tile holding `features` (those of one hop, in view order).
    static func decode(_ bytes: [UInt8], view: FeatureView, features: [Feature]) throws(OnlineStoreError) -> [AggregateState] {
        let slices = try states(of: bytes, view: view, count: features.count)
        var states: [AggregateState] = []
        for (feature, slice) in zip(features, slices) {
            let state: AggregateState
            do {
                state = try AggregateState(decoding: Array(slice))
            } catch {
                throw OnlineStoreError(.corrupt, "a tile of '\(view.name)'", cause: error)
            }
            guard let a = feature.aggregation, state.function == a.function, state.n == max(1, a.n ?? 1) else {
                throw OnlineStoreError(.corrupt, "a tile of '\(view.name)' holds a state of another function than '\(feature.name)'")
            }
            states.append(state)
        }
        return states
    }

    /// The bytes of each state of a tile of `view`, which must hold `count` states (a backfill part may hold its
    /// coverage after them, which is checked and left out).
    static func states(of bytes: [UInt8], view: FeatureView, count: Int) throws(OnlineStoreError) -> [ArraySlice<UInt8>] {
        var slices: [ArraySlice<UInt8>]
        do {
            slices = try AggregateState.slices(of: bytes)
            slices.removeAll { RawEvents.isRaw($0) }
            if slices.count == count + 1 {
                _ = try coverage(slices[count])
                slices.removeLast()
            }
        } catch {
            throw OnlineStoreError(.corrupt, "a tile of '\(view.name)' is truncated or damaged", cause: error)
        }
        guard slices.count == count else {
            throw OnlineStoreError(.corrupt, "a tile of '\(view.name)' has \(slices.count) states, not \(count)")
        }
        return slices
    }

    /// Where a lookup finds each requested feature in a view's tiles: its hop and its position among the states of
    /// that hop's tiles. Worked out once per lookup, not per entity or tile.
    struct Layout {
        let view: FeatureView
        let requested: [(feature: Feature, aggregation: FeatureAggregation, hop: Int64, position: Int)]
        /// The features with each hop, in view order (what a tile of that hop holds).
        let byHop: [Int64: [Feature]]
        /// Per hop, per state position in its tiles: the requested features (indexes in `requested`) read from it.
        let readers: [Int64: [[Int]]]
        /// Per hop with roll-ups, their span (``TileRollups``).
        let spans: [Int64: Int64]

        init(view: FeatureView, requested features: [Feature]) {
            self.view = view
            var byHop: [Int64: [Feature]] = [:]
            var spans: [Int64: Int64] = [:]
            for hop in TileCuts.hops(of: view) {
                byHop[hop] = TileStates.features(of: view, hop: hop)
                spans[hop] = TileRollups.span(of: view, hop: hop)
            }
            self.byHop = byHop
            self.spans = spans
            requested = features.compactMap { feature in
                guard let a = feature.aggregation else { return nil }
                let hop = a.computation.hop, recipe = Recipe(a)
                return (feature, a, hop, byHop[hop]!.firstIndex { Recipe($0.aggregation!) == recipe }!)
            }
            var readers = byHop.mapValues { Array(repeating: [Int](), count: $0.count) }
            for (i, item) in requested.enumerated() { readers[item.hop]![item.position].append(i) }
            self.readers = readers
        }

        /// How a lookup at `now` reads each hop's tiles: from the oldest window start of the requested features of
        /// that hop, leaving out what complete roll-ups stand for (``TileReadPlan``).
        func plans(at now: Int64) -> [Int64: TileReadPlan] {
            var starts: [Int64: [Int64]] = [:]
            for item in requested { starts[item.hop, default: []].append(item.aggregation.computation.start(at: now)) }
            return starts.reduce(into: [:]) { plans, entry in
                plans[entry.key] = TileReadPlan(from: entry.value.min()!, span: spans[entry.key], until: now, windowStarts: entry.value)
            }
        }
    }

    /// Each requested feature's value for one entity at `now` (microseconds): its tiles with
    /// `start(now) <= tile start < now` merged (the head tile holds the events up to now). Each tile's states are
    /// merged straight from its bytes, and only those of requested features whose window holds the tile.
    ///
    /// A tile whose backfill part is whole (``encodeBackfill(_:coverage:)``) is read from that part alone. A complete
    /// roll-up whose span ends at or before `now` is read instead of its span's tiles for each feature whose window
    /// starts at or before the span (``TileRollups``); tiles a store left out by the lookup's plan are exactly those.
    static func values(_ layout: Layout, tiles: [OnlineTile], now: Int64) throws(OnlineStoreError) -> [OnlineValue] {
        var states = layout.requested.map { AggregateState($0.aggregation.function, n: $0.aggregation.n ?? 1) }
        let starts = layout.requested.map { $0.aggregation.computation.start(at: now) }
        // The tiles (hop, start) whose backfill part is whole: their stream parts are not read. The spans (hop, start)
        // with a complete roll-up ending by now: their tiles are read from it, where a window holds the whole span.
        // Both are found only when the entity has stream parts, or roll-ups (a few: searched in a list).
        var whole: Set<TileSpot> = []
        var rolled: [TileSpot] = []
        var hasStream = false
        for i in tiles.indices {
            switch tiles[i].origin {
            case .stream: hasStream = true
            case .rollup:
                guard let span = layout.spans[tiles[i].hop], let end = TileRollups.spanEnd(tiles[i].start, span: span), end <= now,
                      tiles[i].start < now else { continue }
                let complete: Bool
                do {
                    complete = try TileRollups.completeness(tiles[i], span: span)
                } catch {
                    throw OnlineStoreError(.corrupt, "a roll-up of '\(layout.view.name)'", cause: error)
                }
                if complete { rolled.append(TileSpot(hop: tiles[i].hop, start: tiles[i].start)) }
            case .backfill: break
            }
        }
        if hasStream {
            for tile in tiles where tile.origin == .backfill && tile.start < now {
                guard let readers = layout.readers[tile.hop] else { continue }  // refused below
                let covered: Int64?
                do {
                    covered = try coverage(of: tile.states, features: readers.count)
                } catch {
                    throw OnlineStoreError(.corrupt, "a tile of '\(layout.view.name)'", cause: error)
                }
                if let covered, covered >= tile.start &+ tile.hop { whole.insert(TileSpot(hop: tile.hop, start: tile.start)) }
            }
        }
        for tile in tiles where tile.start < now {
            guard let readers = layout.readers[tile.hop] else {
                throw OnlineStoreError(.corrupt, "a tile of '\(layout.view.name)' has hop \(tile.hop) us, which no feature has")
            }
            if tile.origin == .stream, !whole.isEmpty, whole.contains(TileSpot(hop: tile.hop, start: tile.start)) { continue }
            // A roll-up counts for the features whose window holds its span; a tile of a rolled-up span only for the
            // others (whose window starts inside the span). Neither: the tile counts where its window holds it.
            let rollup: Int64?
            if tile.origin == .rollup {
                guard rolled.contains(TileSpot(hop: tile.hop, start: tile.start)) else { continue }
                rollup = tile.start
            } else if !rolled.isEmpty, let span = layout.spans[tile.hop],
                      case let spanStart = TileRollups.spanStart(of: tile.start, span: span),
                      rolled.contains(TileSpot(hop: tile.hop, start: spanStart)) {
                rollup = spanStart
            } else {
                rollup = nil
            }
            @inline(__always) func counts(_ i: Int) -> Bool {
                guard let rollup else { return tile.start >= starts[i] }
                return tile.origin == .rollup ? rollup >= starts[i] : tile.start >= starts[i] && rollup < starts[i]
            }
            // Its states read in place, one at a time (no allocation per tile).
            var sequence = AggregateState.Sequence(tile.states)
            var position = 0
            do {
                while let slice = try sequence.next() {
                    if RawEvents.isRaw(slice) {
                        // Events kept whole: those before the lookup's time count (``RawEvents``).
                        for event in try RawEvents(decoding: slice).events where event.time < now {
                            guard event.values.count == readers.count else {
                                throw AggregateStateDecodingError(message: "raw events with \(event.values.count) values, not \(readers.count)")
                            }
                            for (j, value) in event.values.enumerated() {
                                for i in readers[j] where counts(i) { states[i].add(value, at: event.time) }
                            }
                        }
                        continue
                    }
                    // One more state than the tile's hop has features is counted and refused below.
                    if position < readers.count {
                        for i in readers[position] where counts(i) { try states[i].merge(encoded: slice) }
                    } else if position == readers.count, tile.origin != .stream {
                        _ = try coverage(slice)  // a backfill part's or roll-up's coverage, or damage
                    }
                    position += 1
                }
            } catch {
                throw OnlineStoreError(.corrupt, "a tile of '\(layout.view.name)'", cause: error)
            }
            // A backfill part may end with its coverage (read and checked once, in the first pass); a roll-up does.
            let expected = tile.origin == .rollup || tile.origin == .backfill && position == readers.count + 1 ? readers.count + 1 : readers.count
            guard position == expected else {
                throw OnlineStoreError(.corrupt, "a tile of '\(layout.view.name)' holds more or fewer than its \(readers.count) states")
            }
        }
        return zip(layout.requested, states).map { item, state in OnlineValue(state.result, as: item.feature.type) }
    }
}

/// A tile's place: its hop and start.
struct TileSpot: Hashable {
    var hop: Int64
    var start: Int64
}

extension OnlineValue {
    /// An aggregation's result as a value of the feature's declared type (null for nil).
    init(_ result: AggregateResult?, as type: ValueType) {
        func scalar(_ v: AggregateValue, _ s: ScalarType) -> OnlineValue {
            switch (v, s) {
            case (.bool(let x), _): return .bool(x)
            case (.int(let x), _): return .int(x)
            case (.double(let x), .float32): return .float(Float(x))
            case (.double(let x), _): return .double(x)
            case (.string(let x), _): return .string(x)
            case (.bytes(let x), _): return .bytes(x)
            case (.timestamp(let x), _): return .timestamp(x)
            }
        }
        switch (result, type) {
        case (nil, _): self = .null
        case (.int(let x)?, _): self = .int(x)
        case (.double(let x)?, .scalar(.float32)): self = .float(Float(x))
        case (.double(let x)?, _): self = .double(x)
        case (.value(let v)?, .scalar(let s)): self = scalar(v, s)
        case (.list(let items)?, .list(let s)): self = .list(items.map { scalar($0, s) })
        default: self = .null
        }
    }
}
