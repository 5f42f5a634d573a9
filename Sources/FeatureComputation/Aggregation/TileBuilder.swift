public import Columnar

/// The partial aggregates of one entity's events in one tile `[start, start + hop)`, for the features with that hop.
public struct BuiltTile: Sendable {
    /// An event row of the entity (to read its key from the event columns).
    public var row: Int
    /// The tile's length in microseconds: the hop of the features it serves.
    public var hop: Int64
    /// The tile's first time, in microseconds since the epoch (a multiple of `hop`).
    public var start: Int64
    /// One state per feature with this hop, in the order the features were given.
    public var states: [AggregateState]
    /// Events at or after `rawFrom`, kept whole (``RawEvents``): a lookup adds those before its time.
    public var raw = RawEvents()

    /// The tile `[start, start + hop)` of the entity at event row `row`, holding `states` and `raw` events.
    public init(row: Int, hop: Int64, start: Int64, states: [AggregateState], raw: RawEvents = RawEvents()) {
        self.row = row
        self.hop = hop
        self.start = start
        self.states = states
        self.raw = raw
    }
}

/// Tiles for the online store from events (materialization's backfill): for each entity and each hop the features
/// use, one partial aggregate per tile holding events, built with the states lookups merge.
public enum TileBuilder {
    /// - Parameters:
    ///   - eventKeys, eventTimes (microseconds), eventTimesValid: the events; a null key part or time never counts.
    ///   - features: the view's features (their windows give the hops).
    ///   - starts: per hop, the first event time counted (a tile boundary, so every tile built is whole up to `end`;
    ///     `Int64.min` or absent: from the first event).
    ///   - end: events count before `end`.
    ///   - rawFrom: events at or after it (the writer's clock) are kept whole rather than folded into the states.
    /// - Returns: the tiles, and the events counted in some tile.
    public static func tiles(eventKeys: [Column], eventTimes: [Int64], eventTimesValid: Bitmap?, features: [WindowFeature],
                             starts: [Int64: Int64], end: Int64, rawFrom: Int64 = Int64.max) -> (tiles: [BuiltTile], events: Int) {
        var encoder = KeyEncoder(parts: eventKeys.count)
        // Any code but the null one is a key (integer keys are their own codes, negative ones included).
        let codes = encoder.encode(eventKeys, insert: true)
        let hops = Array(Set(features.map(\.window.hop))).sorted()
        let windows = hops.map { hop in features.first { $0.window.hop == hop }!.window }
        var index: [TileKey: Int] = [:]
        var tiles: [BuiltTile] = []
        var counted = 0
        for row in 0..<codes.count where codes[row] != KeyCode.null && codes[row] != KeyCode.absent && (eventTimesValid?[row] ?? true) {
            let t = eventTimes[row]
            guard t < end else { continue }
            var countedHere = false
            for (h, hop) in hops.enumerated() {
                let window = windows[h]
                guard t >= (starts[hop] ?? Int64.min) else { continue }
                countedHere = true
                let key = TileKey(code: codes[row], hop: hop, start: window.tile(of: t))
                let i: Int
                if let known = index[key] {
                    i = known
                } else {
                    i = tiles.count
                    index[key] = i
                    tiles.append(BuiltTile(row: row, hop: hop, start: key.start,
                                           states: features.filter { $0.window.hop == hop }.map { AggregateState($0.function, n: $0.n) }))
                }
                if t >= rawFrom {
                    let values = features.filter { $0.window.hop == hop }.map { f in f.values.flatMap { AggregateValue(column: $0, row: row) } }
                    tiles[i].raw.events.append(RawEvents.Event(time: t, values: values))
                    continue
                }
                var f = 0
                for feature in features where feature.window.hop == hop {
                    tiles[i].states[f].add(feature.values.flatMap { AggregateValue(column: $0, row: row) }, at: t)
                    f += 1
                }
            }
            if countedHere { counted += 1 }
        }
        return (tiles, counted)
    }

    private struct TileKey: Hashable {
        let code: Int64
        let hop: Int64
        let start: Int64
    }
}
