public import Columnar
import Dispatch
import Synchronization

/// One aggregated feature to compute offline: the function, its window and the event values it reads.
public struct WindowFeature: Sendable {
    /// The aggregate function.
    public var function: AggregateFunction
    /// The window it aggregates over (its length and hop).
    public var window: AggregationWindow
    /// How many values `last_n` and `last_distinct_n` keep.
    public var n: Int
    /// The aggregated column, one value per event row (nil for `count`).
    public var values: Column?
    /// The column's name: features naming the same column share its values, read once.
    public var valuesName: String?

    /// A feature computing `function` over `window` from `values` (nil for `count`), keeping `n` values for `last_n`
    /// and `last_distinct_n`.
    public init(function: AggregateFunction, window: AggregationWindow, n: Int = 1, values: Column?, valuesName: String? = nil) {
        self.function = function
        self.window = window
        self.n = n
        self.values = values
        self.valuesName = valuesName
    }
}

/// Time-window aggregations for a training set: for each entity row (key, time `t`), each feature's aggregate over
/// the events of its key with `floor_hop(t - window) <= event_ts < t` (``AggregationWindow``), with the partial
/// aggregates the online path uses (``AggregateState``), so both give the same values.
///
/// Events are grouped by key and sorted by time once; entity rows are visited per key in time order, so each
/// window's edges only move forward: `count`, `sum`, `mean`, `variance` and `stddev` add the events entering and
/// remove those leaving; `min`, `max`, `first` and `last` keep a ``MonotoneWindow`` of the events that can still be
/// the extreme; the others keep the window in a ``SlidingWindow`` (two stacks of partial aggregates), so every event
/// is merged a constant number of times (amortized) however long the window: linear in events plus entity rows.
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
        // Key codes made dense (0 ..< keyCount; -1: a null part, or a key without events): integer keys are their
        // own codes, of any size or sign.
        let (eventCodes, entityCodes, keyCount) = Self.denseCodes(events: encoder.encode(eventKeys, insert: true),
                                                                  entities: { encoder.encode(entityKeys, insert: false) })
        // Events grouped by key, each group by time, source order among equals; entity rows the same way (rows
        // without a key or time, or whose key has no events, get empty windows).
        let (events, groups) = Self.grouped(codes: eventCodes, times: eventTimes, valid: eventTimesValid, keyCount: keyCount)
        let (rows, rowGroups) = Self.grouped(codes: entityCodes, times: entityTimes, valid: entityTimesValid, keyCount: keyCount)
        // Times (and below, values) in that order: the sweeps read them sequentially, not through the row indexes.
        let sortedTimes = events.map { eventTimes[$0] }
        let sortedEntityTimes = rows.map { entityTimes[$0] }
        // Each column's values in key-and-time order, converted once (features naming the same column share them).
        var read: [String: [AggregateValue?]] = [:]
        var valuesOf: [[AggregateValue?]] = []
        for feature in features {
            guard let column = feature.values else { valuesOf.append([]); continue }
            if let name = feature.valuesName, let known = read[name] {
                valuesOf.append(known)
            } else {
                let values = events.map { AggregateValue(column: column, row: $0) }
                if let name = feature.valuesName { read[name] = values }
                valuesOf.append(values)
            }
        }
        let columnValues = valuesOf
        // Features are independent: computed on every core.
        let results = Mutex([[AggregateResult?]](repeating: [], count: features.count))
        DispatchQueue.concurrentPerform(iterations: features.count) { index in
            let feature = features[index], values = columnValues[index]
            let empty = AggregateState(feature.function, n: feature.n).result
            var out = [AggregateResult?](repeating: empty, count: entityCodes.count)
            let hasValues = feature.values != nil
            // `value(i)`: the value of the i-th event in key-and-time order.
            let value: (Int) -> AggregateValue? = { i in hasValues ? values[i] : nil }
            for code in 0..<keyCount {
                let group = groups[code], entityGroup = rowGroups[code]
                guard !group.isEmpty, !entityGroup.isEmpty else { continue }
                var state = AggregateState(feature.function, n: feature.n)
                var queue = SlidingWindow(feature.function, n: feature.n)
                var extremes = MonotoneWindow()
                var lo = group.lowerBound, hi = group.lowerBound
                for position in entityGroup {
                    let row = rows[position], t = sortedEntityTimes[position]
                    let windowStart = feature.window.start(at: t)
                    if state.canSubtract {
                        while hi < group.upperBound && sortedTimes[hi] < t {
                            state.add(value(hi), at: sortedTimes[hi])
                            hi += 1
                        }
                        while lo < hi && sortedTimes[lo] < windowStart {
                            state.remove(value(lo), at: sortedTimes[lo])
                            lo += 1
                        }
                        out[row] = state.result
                    } else if let order = MonotoneWindow.Order(feature.function) {
                        // min, max, first, last: the window's extreme, kept by a monotone queue of positions.
                        while hi < group.upperBound && sortedTimes[hi] < t {
                            if let v = value(hi) { extremes.push(hi, v, at: sortedTimes[hi], order) }
                            hi += 1
                        }
                        while lo < hi && sortedTimes[lo] < windowStart { lo += 1 }
                        extremes.drop(before: lo)
                        out[row] = extremes.front.map { .value($0) }
                    } else {
                        while hi < group.upperBound && sortedTimes[hi] < t {
                            queue.push(value(hi), at: sortedTimes[hi])
                            hi += 1
                        }
                        while lo < hi && sortedTimes[lo] < windowStart {
                            queue.pop()
                            lo += 1
                        }
                        out[row] = queue.result
                    }
                }
            }
            results.withLock { $0[index] = out }
        }
        return results.withLock { $0 }
    }
}

/// The extreme of a sliding window of events for `min`, `max`, `first` and `last` (nulls skipped): a queue of the
/// events that can still become the extreme, monotone in the function's order, so each event enters and leaves once.
/// `first` is the least (time, value) and `last` the greatest, the same order ``AggregateState`` keeps.
struct MonotoneWindow {
    enum Order {
        case min, max, first, last
        init?(_ function: AggregateFunction) {
            switch function {
            case .min: self = .min
            case .max: self = .max
            case .first: self = .first
            case .last: self = .last
            default: return nil
            }
        }
    }
    private var positions: [Int] = []
    private var values: [AggregateValue] = []
    private var times: [Int64] = []
    private var head = 0

    /// Whether `a` (time, value) stays before `b` in the queue: it is strictly better for the order.
    private static func beats(_ a: (Int64, AggregateValue), _ b: (Int64, AggregateValue), _ order: Order) -> Bool {
        switch order {
        case .min: return a.1 < b.1
        case .max: return a.1 > b.1
        case .first: return a < b
        case .last: return a > b
        }
    }

    /// Adds the event at `position` (events come in time order). Events it beats, or that it ties and is newer than,
    /// leave: they can never be the extreme while it is in the window.
    mutating func push(_ position: Int, _ value: AggregateValue, at time: Int64, _ order: Order) {
        while positions.count > head, !Self.beats((times[times.count - 1], values[values.count - 1]), (time, value), order) {
            positions.removeLast()
            values.removeLast()
            times.removeLast()
        }
        positions.append(position)
        values.append(value)
        times.append(time)
    }

    /// Drops the events before `position` (they left the window).
    mutating func drop(before position: Int) {
        while head < positions.count && positions[head] < position { head += 1 }
        if head > 1024 && head * 2 > positions.count {
            positions.removeFirst(head)
            values.removeFirst(head)
            times.removeFirst(head)
            head = 0
        }
    }

    var front: AggregateValue? { head < positions.count ? values[head] : nil }
}

/// A first-in-first-out window of events for functions that cannot remove an event (min, max, first, last, the
/// `last_*` functions, approx_count_distinct): the classic two-stack queue. New events are added to a running state
/// (the back); when the oldest event leaves and the front is empty, the back's events are moved to the front as
/// suffix states (each event merged with every newer one), so the window's state is always one merge of the
/// front's oldest suffix and the back. Each event is added or merged a constant number of times, amortized.
struct SlidingWindow {
    private let function: AggregateFunction
    private let n: Int
    /// Front: suffix states, the oldest event's last (it covers every front event).
    private var front: [AggregateState] = []
    /// Back: the events pushed since the last move, oldest first, and their state.
    private var backEvents: [(value: AggregateValue?, time: Int64)] = []
    private var back: AggregateState

    init(_ function: AggregateFunction, n: Int) {
        self.function = function
        self.n = n
        back = AggregateState(function, n: n)
    }

    mutating func push(_ value: AggregateValue?, at time: Int64) {
        backEvents.append((value, time))
        back.add(value, at: time)
    }

    /// Removes the oldest event (the window must hold one).
    mutating func pop() {
        if front.isEmpty {
            var suffix = AggregateState(function, n: n)
            front.reserveCapacity(backEvents.count)
            for event in backEvents.reversed() {
                suffix.add(event.value, at: event.time)
                front.append(suffix)
            }
            backEvents.removeAll(keepingCapacity: true)
            back = AggregateState(function, n: n)
        }
        front.removeLast()
    }

    var result: AggregateResult? {
        guard var state = front.last else { return back.result }
        state.merge(back)
        return state.result
    }
}

extension WindowAggregator {
    /// Row indexes with a valid code and time, grouped by code (a counting sort), each group sorted by time with
    /// row order among equals; and each code's range in them.
    /// Dense codes for events (every valid key gets the next number) and entities (their key's number, or -1).
    static func denseCodes(events: [Int64], entities: () -> [Int64]) -> (events: [Int64], entities: [Int64], keyCount: Int) {
        var table = Int64Table(capacity: 1024)
        var next: Int32 = 0
        var eventCodes = [Int64](repeating: -1, count: events.count)
        for (row, code) in events.enumerated() where code != KeyCode.null && code != KeyCode.absent {
            eventCodes[row] = Int64(table.insert(code) { defer { next += 1 }; return next })
        }
        let entityCodes = entities().map { code -> Int64 in
            guard code != KeyCode.null && code != KeyCode.absent else { return -1 }
            return table.find(code).map(Int64.init) ?? -1
        }
        return (eventCodes, entityCodes, Int(next))
    }

    static func grouped(codes: [Int64], times: [Int64], valid: Bitmap?, keyCount: Int) -> (rows: [Int], groups: [Range<Int>]) {
        var counts = [Int](repeating: 0, count: keyCount + 1)
        for (row, code) in codes.enumerated() where code >= 0 && code < keyCount && (valid?[row] ?? true) { counts[Int(code) + 1] += 1 }
        for k in 0..<keyCount { counts[k + 1] += counts[k] }
        var rows = [Int](repeating: 0, count: counts[keyCount])
        var next = counts
        for (row, code) in codes.enumerated() where code >= 0 && code < keyCount && (valid?[row] ?? true) {
            rows[next[Int(code)]] = row
            next[Int(code)] += 1
        }
        var groups: [Range<Int>] = []
        groups.reserveCapacity(keyCount)
        for k in 0..<keyCount {
            let range = counts[k]..<counts[k + 1]
            groups.append(range)
            // Rows are in source order within the group; a stable sort by time keeps it among equal times.
            var sorted = true
            for i in range.dropFirst() where times[rows[i - 1]] > times[rows[i]] { sorted = false; break }
            if !sorted {
                let slice = rows[range].enumerated().sorted { (times[$0.element], $0.offset) < (times[$1.element], $1.offset) }.map(\.element)
                rows.replaceSubrange(range, with: slice)
            }
        }
        return (rows, groups)
    }
}

extension AggregateValue {
    /// Row `row` of `column` (nil when null or of a type aggregations do not read: lists). Timestamps become
    /// microseconds (rounding down), dates midnight UTC.
    public init?(column: Column, row: Int) {
        if column.isNull(row) { return nil }
        switch (column.type, column.values) {
        case (.bool, .bool(let v)): self = .bool(v[row])
        case (.timestamp(let unit, _), .int64(let v)): self = .timestamp(EventTime.microseconds(v[row], unit: unit))
        case (.date32, .int32(let v)): self = .timestamp(EventTime.microseconds(days: v[row]))
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
