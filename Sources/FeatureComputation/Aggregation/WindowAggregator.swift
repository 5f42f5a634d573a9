public import Columnar

/// One aggregated feature to compute offline: the function, its window and the event values it reads.
public struct WindowFeature: Sendable {
    public var function: AggregateFunction
    public var window: AggregationWindow
    /// How many values `last_n` and `last_distinct_n` keep.
    public var n: Int
    /// The aggregated column, one value per event row (nil for `count`).
    public var values: Column?

    public init(function: AggregateFunction, window: AggregationWindow, n: Int = 1, values: Column?) {
        self.function = function
        self.window = window
        self.n = n
        self.values = values
    }
}

/// Time-window aggregations for a training set: for each entity row (key, time `t`), each feature's aggregate over
/// the events of its key with `floor_hop(t - window) <= event_ts < t` (``AggregationWindow``), with the partial
/// aggregates the online path uses (``AggregateState``), so both give the same values.
///
/// Events are grouped by key and sorted by time once; entity rows are visited per key in time order, so each
/// window's edges only move forward: `count`, `sum`, `mean`, `variance` and `stddev` add the events entering and
/// remove those leaving (linear in events plus entity rows); the other functions fold the window's events.
/// Times are microseconds since the epoch.
public enum WindowAggregator {
    /// - Parameters:
    ///   - eventKeys: the events' key columns (one per key part) and `eventTimes` their times; events with a null key
    ///     part or time never count.
    ///   - features: what to compute.
    ///   - entityKeys: the entity rows' key columns, in the same order and encoding as `eventKeys`, and their times.
    /// - Returns: per feature, one result per entity row (nil: null).
    public static func aggregate(eventKeys: [Column], eventTimes: [Int64], eventTimesValid: Bitmap?, features: [WindowFeature],
                                 entityKeys: [Column], entityTimes: [Int64], entityTimesValid: Bitmap?) -> [[AggregateResult?]] {
        var encoder = KeyEncoder(parts: eventKeys.count)
        let eventCodes = encoder.encode(eventKeys, insert: true)
        let entityCodes = encoder.encode(entityKeys, insert: false)
        // Events by (key, time), keeping source order among equals.
        let events = (0..<eventCodes.count).filter { eventCodes[$0] >= 0 && (eventTimesValid?[$0] ?? true) }
            .sorted { (eventCodes[$0], eventTimes[$0], $0) < (eventCodes[$1], eventTimes[$1], $1) }
        var groups: [Int64: Range<Int>] = [:]
        var start = 0
        for i in 0..<events.count where i == events.count - 1 || eventCodes[events[i + 1]] != eventCodes[events[i]] {
            groups[eventCodes[events[i]]] = start..<(i + 1)
            start = i + 1
        }
        // Entity rows by (key, time); rows without a key or time, or whose key has no events, get empty windows.
        let rows = (0..<entityCodes.count).filter { entityCodes[$0] >= 0 && (entityTimesValid?[$0] ?? true) }
            .sorted { (entityCodes[$0], entityTimes[$0], $0) < (entityCodes[$1], entityTimes[$1], $1) }
        var results: [[AggregateResult?]] = []
        for feature in features {
            let empty = AggregateState(feature.function, n: feature.n).result
            var out = [AggregateResult?](repeating: empty, count: entityCodes.count)
            let value: (Int) -> AggregateValue? = { row in feature.values.flatMap { AggregateValue(column: $0, row: row) } }
            var r = 0
            while r < rows.count {
                let code = entityCodes[rows[r]]
                var end = r
                while end < rows.count && entityCodes[rows[end]] == code { end += 1 }
                if let group = groups[code] {
                    var state = AggregateState(feature.function, n: feature.n)
                    var lo = group.lowerBound, hi = group.lowerBound
                    for row in rows[r..<end] {
                        let t = entityTimes[row]
                        let windowStart = feature.window.start(at: t)
                        if state.canSubtract {
                            while hi < group.upperBound && eventTimes[events[hi]] < t {
                                state.add(value(events[hi]), at: eventTimes[events[hi]])
                                hi += 1
                            }
                            while lo < hi && eventTimes[events[lo]] < windowStart {
                                state.remove(value(events[lo]), at: eventTimes[events[lo]])
                                lo += 1
                            }
                            out[row] = state.result
                        } else {
                            while hi < group.upperBound && eventTimes[events[hi]] < t { hi += 1 }
                            while lo < hi && eventTimes[events[lo]] < windowStart { lo += 1 }
                            var window = AggregateState(feature.function, n: feature.n)
                            for e in events[lo..<hi] { window.add(value(e), at: eventTimes[e]) }
                            out[row] = window.result
                        }
                    }
                }
                r = end
            }
            results.append(out)
        }
        return results
    }
}

extension AggregateValue {
    /// Row `row` of `column` (nil when null or of a type aggregations do not read: lists). Timestamps become
    /// microseconds (rounding down), dates midnight UTC.
    public init?(column: Column, row: Int) {
        if column.isNull(row) { return nil }
        switch (column.type, column.values) {
        case (.bool, .bool(let v)): self = .bool(v[row])
        case (.timestamp(let unit, _), .int64(let v)):
            let perMicro = unit.perSecond / 1_000_000
            if unit.perSecond >= 1_000_000 {
                let t = v[row]
                self = .timestamp(t >= 0 ? t / perMicro : (t - perMicro + 1) / perMicro)
            } else {
                self = .timestamp(v[row] &* (1_000_000 / unit.perSecond))
            }
        case (.date32, .int32(let v)): self = .timestamp(Int64(v[row]) &* 86_400_000_000)
        case (_, .int32(let v)): self = .int(Int64(v[row]))
        case (_, .int64(let v)): self = .int(v[row])
        case (_, .float32(let v)): self = .double(Double(v[row]))
        case (_, .float64(let v)): self = .double(v[row])
        case (.string, .bytes(let b)): self = .string(b.string(at: row))
        case (_, .bytes(let b)): self = .bytes(Array(b.bytes(at: row)))
        default: return nil
        }
    }
}
