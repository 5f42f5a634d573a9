public import FeatureComputation

/// How an aggregated feature is computed: a function of a source column over a time window, by the window rule of
/// ``AggregationWindow`` (`floor_hop(t - window) <= event_ts < t`). Features of a view's `aggregations` carry one; the
/// engines compute it from the source's events, offline for training sets and online from tiles.
public struct FeatureAggregation: Sendable, Hashable, Codable {
    /// The function.
    public var function: AggregateFunction
    /// The source column aggregated, as the view names it (the source's field mapping applies); nil for `count`.
    public var column: String?
    /// The window's length and hop (whole seconds; the hop divides the window).
    public var window: TimeSpan
    /// How far the window moves at each step (whole seconds; divides ``window``).
    public var hop: TimeSpan
    /// How many values `last_n` and `last_distinct_n` keep.
    public var n: Int?
    /// The column's declared type (nil: not declared; only `count`, `mean`, `variance` and `stddev` allow that).
    public var inputType: ScalarType?

    /// An aggregation by `function` of `column` over `window`, moving by `hop` (`n` for `last_n` and `last_distinct_n`;
    /// `inputType`: the column's declared type).
    public init(function: AggregateFunction, column: String?, window: TimeSpan, hop: TimeSpan, n: Int? = nil, inputType: ScalarType? = nil) {
        self.function = function
        self.column = column
        self.window = window
        self.hop = hop
        self.n = n
        self.inputType = inputType
    }

    /// The window in microseconds, as the engines compute with it.
    public var computation: AggregationWindow {
        // The compiler admits only positive windows that are whole numbers of positive hops.
        AggregationWindow(length: window.seconds * 1_000_000, hop: hop.seconds * 1_000_000)!
    }

    /// The type of the feature `function` makes of a column of type `input` (nil: the function does not take it).
    public static func outputType(of function: AggregateFunction, input: ScalarType?) -> ValueType? {
        let numeric: Set<ScalarType> = [.int32, .int64, .float32, .float64]
        switch function {
        case .count:
            return .scalar(.int64)
        case .mean, .variance, .stddev:
            guard let input else { return .scalar(.float64) }
            return numeric.contains(input) ? .scalar(.float64) : nil
        case .sum:
            guard let input, numeric.contains(input) else { return nil }
            return input == .int32 || input == .int64 ? .scalar(.int64) : .scalar(.float64)
        case .min, .max:
            guard let input, numeric.contains(input) || input == .string || input == .timestamp else { return nil }
            return .scalar(input)
        case .first, .last:
            return input.map { .scalar($0) }
        case .lastN, .lastDistinctN:
            return input.map { .list($0) }
        case .approxCountDistinct:
            // The column's type must be declared: the sketch hashes values by type, so both engines must read the
            // same type.
            return input.map { _ in .scalar(.int64) }
        }
    }

    /// The function's name as definitions write it (`sum`, `last_n`).
    public var functionName: String { function.rawValue }

    /// How the feature is computed, for people: `sum(fare) over 1h, hop 5m`, `count over 10m, hop 1m`,
    /// `last_n(zone, 5) over 1d, hop 1h`.
    public var summary: String {
        let arguments = [column, n.map(String.init)].compactMap { $0 }
        let call = arguments.isEmpty ? function.rawValue : "\(function.rawValue)(\(arguments.joined(separator: ", ")))"
        return "\(call) over \(window), hop \(hop)"
    }

    /// The input types `function` takes, for messages.
    static func acceptedInputs(of function: AggregateFunction) -> String {
        switch function {
        case .count: return "none"
        case .sum, .mean, .variance, .stddev: return "int32, int64, float32, float64"
        case .min, .max: return "int32, int64, float32, float64, string, timestamp"
        default: return "any scalar type"
        }
    }
}

extension FeatureView {
    /// The columns of its source's events this view reads, in order, with their types: its features for a plain
    /// view; for an aggregated view, the distinct columns its aggregations read (a column whose type is declared
    /// nowhere, read only by `mean`, `variance` or `stddev`, is taken as float64).
    public var eventColumns: [(name: String, type: ValueType)] {
        guard isAggregated else { return features.map { ($0.name, $0.type) } }
        var out: [(name: String, type: ValueType)] = []
        for a in features.compactMap(\.aggregation) {
            guard let column = a.column else { continue }
            if let i = out.firstIndex(where: { $0.name == column }) {
                if let t = a.inputType { out[i].type = .scalar(t) }
            } else {
                out.append((column, .scalar(a.inputType ?? .float64)))
            }
        }
        return out
    }

    /// Why rows cannot be pushed to this view (nil: they can): an aggregated view counts events, and a push has no
    /// offset that would let a retried request be recognised, so pushes could count an event twice; its events go
    /// through its stream (exactly once) or its offline source (backfill).
    public var pushUnsupportedReason: String? {
        isAggregated ? "feature view '\(name)' aggregates events over time windows: send its events to its stream (each counted exactly once) or to its offline source, not as pushes" : nil
    }
}
