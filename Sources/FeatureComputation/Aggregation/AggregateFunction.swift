/// The functions a feature view can aggregate over a time window.
///
/// | function | input | output | empty window |
/// | --- | --- | --- | --- |
/// | `count` | none (every event) | int64 | 0 |
/// | `sum` | int32, int64, float32, float64 | int64 (null on overflow) or float64 | null |
/// | `mean` | numbers | float64 | null |
/// | `min`, `max` | numbers, strings, timestamps | the input's type | null |
/// | `variance`, `stddev` | numbers | float64, the sample statistic (n - 1) | null (also for one value) |
/// | `first`, `last` | any scalar | the input's type | null |
/// | `last_n`, `last_distinct_n` | any scalar | a list of the input's type, newest first | null |
/// | `approx_count_distinct` | any scalar | int64, a ``HyperLogLog`` estimate (about 1.6% standard error) | 0 |
///
/// Null inputs are skipped (they are not counted by `count` of a column either: `count` counts events). Floating-point
/// sums are exact until their final rounding (``ExactSum``), so every engine gets the same bits in any order.
/// Events of equal time are ordered by their value (``AggregateValue`` order) for `first`, `last` and the `last_*`
/// functions, so the result never depends on arrival order.
public enum AggregateFunction: String, Sendable, Hashable, CaseIterable {
    case count, sum, mean, min, max, variance, stddev, first, last
    case lastN = "last_n"
    case lastDistinctN = "last_distinct_n"
    /// Listed last: the binary form of states numbers functions by their position here.
    case approxCountDistinct = "approx_count_distinct"

    /// Whether the function reads a column (every one but `count`).
    public var readsColumn: Bool { self != .count }

    /// Whether the function needs `n:` (how many values it keeps).
    public var needsN: Bool { self == .lastN || self == .lastDistinctN }

    /// The name of the feature it makes of `column` over a window written `window` (`fare_sum_1h`, `count_10m`).
    public func featureName(column: String?, window: String) -> String {
        [column, rawValue, window].compactMap { $0 }.joined(separator: "_")
    }
}

/// One input value of an aggregation, as the engines hand it over (times in microseconds since the epoch).
///
/// Values are totally ordered (by kind, then value; doubles by IEEE total order), which breaks ties between events of
/// the same time in an order that does not depend on how they arrived.
public enum AggregateValue: Sendable, Hashable, Comparable {
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case timestamp(Int64)

    private var rank: Int {
        switch self {
        case .bool: return 0
        case .int: return 1
        case .double: return 2
        case .string: return 3
        case .bytes: return 4
        case .timestamp: return 5
        }
    }

    /// Orders by kind (bool, int, double, string, bytes, timestamp), then by value: `false` before `true`, doubles by
    /// IEEE total order, strings by their UTF-8 bytes.
    public static func < (a: AggregateValue, b: AggregateValue) -> Bool {
        switch (a, b) {
        case (.bool(let x), .bool(let y)): return !x && y
        case (.int(let x), .int(let y)), (.timestamp(let x), .timestamp(let y)): return x < y
        case (.double(let x), .double(let y)): return x.isTotallyOrdered(belowOrEqualTo: y) && x.bitPattern != y.bitPattern
        case (.string(let x), .string(let y)): return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
        case (.bytes(let x), .bytes(let y)): return x.lexicographicallyPrecedes(y)
        default: return a.rank < b.rank
        }
    }

    /// Equal when of the same kind with the same value: doubles bit for bit, strings by their UTF-8 bytes.
    public static func == (a: AggregateValue, b: AggregateValue) -> Bool {
        switch (a, b) {
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)), (.timestamp(let x), .timestamp(let y)): return x == y
        case (.double(let x), .double(let y)): return x.bitPattern == y.bitPattern
        case (.string(let x), .string(let y)): return Array(x.utf8) == Array(y.utf8)
        case (.bytes(let x), .bytes(let y)): return x == y
        default: return false
        }
    }

    /// Hashes the kind and the value, consistently with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(rank)
        switch self {
        case .bool(let x): hasher.combine(x)
        case .int(let x), .timestamp(let x): hasher.combine(x)
        case .double(let x): hasher.combine(x.bitPattern)
        case .string(let x): hasher.combine(Array(x.utf8))
        case .bytes(let x): hasher.combine(x)
        }
    }

    /// The value as a double, for the numeric functions (nil for the other kinds).
    var number: Double? {
        switch self {
        case .int(let x): return Double(x)
        case .double(let x): return x
        default: return nil
        }
    }
}

extension AggregateFunction: Codable {}
