/// The partial aggregate of one function over a set of events: what a tile of the online store holds and what the
/// offline engine accumulates. States of disjoint sets merge into the state of their union, in any order and grouping,
/// with the same result (merge is associative and commutative, and so is adding an event); `count`, `sum`, `mean`,
/// `variance` and `stddev` also subtract.
public struct AggregateState: Sendable {
    /// The function aggregated.
    public let function: AggregateFunction
    /// How many values `last_n` and `last_distinct_n` keep.
    public let n: Int

    /// Non-null values added (events, for `count`).
    public internal(set) var count: Int64 = 0
    /// Integer sums, exact (overflowing Int64 is reported at the result).
    var integerSum: Int128 = 0
    /// Floating sums and sums of squares, exact until rounded.
    var floatSum = ExactSum()
    var squareSum = ExactSum()
    /// Whether a floating-point value was added (the sum's output is then float64).
    var sawDouble = false
    /// min, max: the extreme value.
    var extreme: AggregateValue?
    /// first, last, last_n, last_distinct_n: (event time, value), the kept ones, newest first.
    var timed: [Timed] = []
    /// approx_count_distinct: the sketch of the values.
    var sketch = HyperLogLog()

    struct Timed: Sendable, Hashable {
        var time: Int64
        var value: AggregateValue
        /// Newer: a later time, or the same time and a greater value.
        func isNewer(than other: Timed) -> Bool { (time, value) > (other.time, other.value) }
    }

    /// An empty state of `function` (`n`: how many values the `last_*` functions keep).
    public init(_ function: AggregateFunction, n: Int = 1) {
        self.function = function
        self.n = Swift.max(1, n)
    }

    /// Adds one event: its time (microseconds) and its value (nil: a null, skipped except by `count`).
    public mutating func add(_ value: AggregateValue?, at time: Int64) {
        if function == .count {
            count += 1
            return
        }
        guard let value else { return }
        count += 1
        switch function {
        case .count:
            break
        case .sum, .mean, .variance, .stddev:
            switch value {
            case .int(let x):
                integerSum += Int128(x)
                Self.addInteger(x, to: &floatSum, sign: 1)
                if function != .sum { Self.addIntegerSquare(x, to: &squareSum, sign: 1) }
            case .double(let x):
                sawDouble = true
                floatSum.add(x)
                if function != .sum { Self.addSquare(x, to: &squareSum, sign: 1) }
            default:
                count -= 1  // not a number: the compiler rejects such definitions; skipped here
            }
        case .min:
            if extreme.map({ value < $0 }) ?? true { extreme = value }
        case .max:
            if extreme.map({ value > $0 }) ?? true { extreme = value }
        case .first, .last, .lastN, .lastDistinctN:
            insert(Timed(time: time, value: value))
        case .approxCountDistinct:
            sketch.add(value)
        }
    }

    /// ``insert(_:)`` for merges from bytes.
    mutating func insertMerged(_ item: Timed) { insert(item) }

    /// Keeps the timed values the function needs: the newest `n` (distinct values for `last_distinct_n`), or for
    /// `first` the oldest one.
    private mutating func insert(_ item: Timed) {
        switch function {
        case .first:
            if let current = timed.first, !current.isNewer(than: item) { return }
            timed = [item]
        case .last:
            if let current = timed.first, !item.isNewer(than: current) { return }
            timed = [item]
        case .lastDistinctN:
            if let i = timed.firstIndex(where: { $0.value == item.value }) {
                guard item.isNewer(than: timed[i]) else { return }
                timed.remove(at: i)
            }
            fallthrough
        default:
            let position = timed.firstIndex { item.isNewer(than: $0) } ?? timed.count
            guard position < n else { return }
            timed.insert(item, at: position)
            if timed.count > n { timed.removeLast() }
        }
    }

    /// Removes one event added before (`count`, `sum`, `mean`, `variance`, `stddev` only): the sliding window's
    /// leaving edge. Exact: a finite float leaves the sum by adding its negation, a NaN or an infinity by
    /// leaving its count (``ExactSum/remove(_:)``).
    public mutating func remove(_ value: AggregateValue?, at time: Int64) {
        precondition(canSubtract, "\(function) cannot remove events")
        if function == .count {
            count -= 1
            return
        }
        guard let value else { return }
        switch value {
        case .int(let x):
            count -= 1
            integerSum -= Int128(x)
            Self.addInteger(x, to: &floatSum, sign: -1)
            if function != .sum { Self.addIntegerSquare(x, to: &squareSum, sign: -1) }
        case .double(let x):
            count -= 1
            floatSum.remove(x)
            if function != .sum { Self.addSquare(x, to: &squareSum, sign: -1) }
        default:
            break
        }
    }

    /// Adds (`sign` 1) or removes (-1) `x * x` exactly: the rounded product and its error (an error-free product,
    /// exact unless the square overflows or its low part falls below the smallest normal double).
    @inline(__always)
    static func addSquare(_ x: Double, to squares: inout ExactSum, sign: Double) {
        let p = x * x
        guard p.isFinite else {
            if sign > 0 { squares.add(p) } else { squares.remove(p) }
            return
        }
        let e = (-p).addingProduct(x, x)  // fma: x*x - p, exactly
        if sign > 0 {
            squares.add(p)
            squares.add(e)
        } else {
            squares.add(-p)
            squares.add(-e)
        }
    }

    /// An integer as the double nearest it and the rest: `x == high + low` exactly (`low` fits in 11 bits, since
    /// `high` is within half an ulp of `x`; taken in Int128, as `high` may be 2^63 for `x` near Int64.max).
    @inline(__always)
    static func parts(_ x: Int64) -> (high: Double, low: Double) {
        let high = Double(x)
        return (high, Double(Int128(x) - Int128(high)))
    }

    /// Adds (`sign` 1) or removes (-1) an integer exactly: an int64 beyond 2^53 is not rounded on the way.
    @inline(__always)
    static func addInteger(_ x: Int64, to sum: inout ExactSum, sign: Double) {
        let (high, low) = parts(x)
        sum.add(sign * high)
        if low != 0 { sum.add(sign * low) }
    }

    /// Adds (`sign` 1) or removes (-1) the square of an integer exactly: `high² + 2·high·low + low²`, each an exact
    /// product of doubles.
    @inline(__always)
    static func addIntegerSquare(_ x: Int64, to squares: inout ExactSum, sign: Double) {
        let (high, low) = parts(x)
        addSquare(high, to: &squares, sign: sign)
        if low != 0 {
            addProduct(2 * high, low, to: &squares, sign: sign)
            addSquare(low, to: &squares, sign: sign)
        }
    }

    @inline(__always)
    static func addProduct(_ a: Double, _ b: Double, to sums: inout ExactSum, sign: Double) {
        let p = a * b
        let e = (-p).addingProduct(a, b)
        sums.add(sign * p)
        sums.add(sign * e)
    }

    /// Adds the events another state of the same function holds.
    public mutating func merge(_ other: AggregateState) {
        precondition(other.function == function && other.n == n, "merging states of different functions")
        count += other.count
        integerSum += other.integerSum
        floatSum.merge(other.floatSum)
        squareSum.merge(other.squareSum)
        sawDouble = sawDouble || other.sawDouble
        if let e = other.extreme {
            switch function {
            case .min: if extreme.map({ e < $0 }) ?? true { extreme = e }
            case .max: if extreme.map({ e > $0 }) ?? true { extreme = e }
            default: break
            }
        }
        for item in other.timed { insert(item) }
        if function == .approxCountDistinct { sketch.merge(other.sketch) }
    }

    /// Whether ``subtract(_:)`` exists for this function.
    public var canSubtract: Bool {
        switch function {
        case .count, .sum, .mean, .variance, .stddev: return true
        default: return false
        }
    }

    /// Removes the events another state holds (they must be a subset of this state's events).
    public mutating func subtract(_ other: AggregateState) {
        precondition(canSubtract && other.function == function, "\(function) cannot subtract")
        count -= other.count
        integerSum -= other.integerSum
        floatSum.subtract(other.floatSum)
        squareSum.subtract(other.squareSum)
    }

    /// The feature's value: see ``AggregateFunction`` for types and empty windows (nil: null).
    public var result: AggregateResult? {
        switch function {
        case .count:
            return .int(count)
        case .sum:
            guard count > 0 else { return nil }
            if sawDouble { return .double(floatSum.value) }
            guard let exact = Int64(exactly: integerSum) else { return nil }
            return .int(exact)
        case .mean:
            guard count > 0 else { return nil }
            return .double(floatSum.value / Double(count))
        case .variance, .stddev:
            guard count > 1 else { return nil }
            let variance = ExactVariance.variance(count: count, sum: floatSum, squares: squareSum)
            return .double(function == .variance ? variance : variance.squareRoot())
        case .min, .max:
            return extreme.map { .value($0) }
        case .first, .last:
            return timed.first.map { .value($0.value) }
        case .lastN, .lastDistinctN:
            return timed.isEmpty ? nil : .list(timed.map(\.value))
        case .approxCountDistinct:
            return .int(count == 0 ? 0 : sketch.estimate)
        }
    }
}

/// What an aggregation yields for a window. Equal when the same bits (a NaN equals a NaN of the same payload): what
/// "training equals serving" means for floats.
public enum AggregateResult: Sendable, Hashable {
    case int(Int64)
    case double(Double)
    case value(AggregateValue)
    case list([AggregateValue])

    /// Equal when the same case holds the same bits (doubles compared by bit pattern).
    public static func == (a: AggregateResult, b: AggregateResult) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x.bitPattern == y.bitPattern
        case (.value(let x), .value(let y)): return x == y
        case (.list(let x), .list(let y)): return x == y
        default: return false
        }
    }

    /// Hashes the case and the bits, consistently with `==`.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .int(let x): hasher.combine(0); hasher.combine(x)
        case .double(let x): hasher.combine(1); hasher.combine(x.bitPattern)
        case .value(let x): hasher.combine(2); hasher.combine(x)
        case .list(let x): hasher.combine(3); hasher.combine(x)
        }
    }
}
