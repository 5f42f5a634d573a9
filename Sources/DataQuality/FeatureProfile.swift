public import Columnar

/// A value and how many times it occurred (a profile's top values).
public struct ValueCount: Sendable, Hashable, Codable {
    /// The value as text (strings as they are, integers and booleans written out).
    public var value: String
    /// Occurrences.
    public var count: Int
}

/// What a feature's values look like over a set of rows: counts, nulls, the numbers' range, mean and spread,
/// quantiles from a mergeable sketch, and for low-cardinality strings, booleans and integers the values with their
/// counts. Profiles of parts merge into the profile of the whole (materialization runs, the ingester's windows).
///
/// Numbers are the finite values: NaN and infinities are counted apart and left out of min, max, mean, spread and
/// quantiles. Strings are counted by their bytes (two Unicode spellings are two values).
public struct FeatureProfile: Sendable, Hashable, Codable {
    /// Rows profiled, nulls included.
    public var count = 0
    /// Null values.
    public var nullCount = 0
    /// NaN values (floats).
    public var nanCount = 0
    /// Infinite values (floats).
    public var infiniteCount = 0
    /// Finite numbers seen.
    public var numericCount = 0
    /// The smallest finite number.
    public var min: Double?
    /// The greatest finite number.
    public var max: Double?
    /// The mean of the finite numbers.
    public var mean: Double?
    /// Sum of squared deviations from the mean (Welford's M2), to merge and to give the spread.
    var m2 = 0.0
    /// Compensation of the running sum (Neumaier), so the mean is as exact as a double allows.
    var sum = 0.0
    var sumCompensation = 0.0
    /// Quantiles of the finite numbers (nil for strings and booleans).
    public var sketch: QuantileSketch?
    /// Value (its UTF-8 bytes: two Unicode spellings are two values) -> count for strings, booleans and integers
    /// while there are at most ``maxDistinct`` distinct values.
    public var distinct: [[UInt8]: Int]?
    /// Whether there were more distinct values than ``maxDistinct`` (top values are then not kept).
    public var highCardinality = false

    /// The most distinct values whose counts are kept exactly.
    public static let maxDistinct = 1000

    /// An empty profile.
    public init() {}

    /// The null rate (0 when there are no rows).
    public var nullRate: Double { count == 0 ? 0 : Double(nullCount) / Double(count) }

    /// The population standard deviation of the finite numbers (numpy's `std` with `ddof=0`).
    public var stddev: Double? { numericCount == 0 ? nil : (m2 / Double(numericCount)).squareRoot() }

    /// The `k` most frequent values, most frequent first (ties: by value), when counts were kept.
    public func topValues(_ k: Int = 10) -> [ValueCount] {
        guard let distinct else { return [] }
        return distinct.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.lexicographicallyPrecedes($1.key) }.prefix(k)
            .map { ValueCount(value: String(decoding: $0.key, as: UTF8.self), count: $0.value) }
    }

    /// The `q` quantile of the finite numbers (within the sketch's relative accuracy).
    public func quantile(_ q: Double) -> Double? { sketch?.quantile(q) }

    /// Adds one row that holds `value`, a number; with `categorical` its text is counted as a value too (integers).
    public mutating func add(number value: Double, categorical: Bool) {
        add(number: value)
        if categorical { add(category: value == value.rounded() && abs(value) < 1e18 ? String(Int64(value)) : String(value)) }
    }

    /// Adds one row that holds a category (a string or boolean as text).
    public mutating func add(row category: String) {
        count += 1
        add(category: category)
    }

    /// Adds one row with a value that is neither a number nor a category (a list, bytes): counted only.
    public mutating func addOther() { count += 1 }

    /// Adds one null row.
    public mutating func addNull() {
        count += 1
        nullCount += 1
    }

    mutating func add(number x: Double) {
        count += 1
        guard x.isFinite else {
            if x.isNaN { nanCount += 1 } else { infiniteCount += 1 }
            return
        }
        numericCount += 1
        min = Swift.min(min ?? x, x)
        max = Swift.max(max ?? x, x)
        // Neumaier's compensated sum for the mean; Welford for the spread.
        let t = sum + x
        sumCompensation += abs(sum) >= abs(x) ? (sum - t) + x : (x - t) + sum
        sum = t
        let previous = mean ?? 0
        let delta = x - previous
        let next = previous + delta / Double(numericCount)
        m2 += delta * (x - next)
        mean = (sum + sumCompensation) / Double(numericCount)
        if sketch == nil { sketch = QuantileSketch() }
        sketch!.add(x)
    }

    mutating func add(category value: String) {
        add(category: Array(value.utf8))
    }

    mutating func add(category value: [UInt8]) {
        if highCardinality { return }
        if distinct == nil { distinct = [:] }
        distinct![value, default: 0] += 1  // in place: no copy of the counts per value
        if distinct!.count > Self.maxDistinct {
            distinct = nil
            highCardinality = true
        }
    }

    /// Adds `other`'s rows (Chan's parallel formula for the spread).
    public mutating func merge(_ other: FeatureProfile) {
        let n1 = Double(numericCount), n2 = Double(other.numericCount)
        if other.numericCount > 0 {
            if numericCount == 0 {
                m2 = other.m2
            } else {
                let delta = (other.mean ?? 0) - (mean ?? 0)
                m2 += other.m2 + delta * delta * n1 * n2 / (n1 + n2)
            }
            min = Swift.min(min ?? other.min!, other.min!)
            max = Swift.max(max ?? other.max!, other.max!)
            let t = sum + other.sum
            sumCompensation += (abs(sum) >= abs(other.sum) ? (sum - t) + other.sum : (other.sum - t) + sum) + other.sumCompensation
            sum = t
            numericCount += other.numericCount
            mean = (sum + sumCompensation) / Double(numericCount)
            if sketch == nil { sketch = other.sketch } else if let s = other.sketch { sketch!.merge(s) }
        }
        count += other.count
        nullCount += other.nullCount
        nanCount += other.nanCount
        infiniteCount += other.infiniteCount
        if highCardinality || other.highCardinality {
            distinct = nil
            highCardinality = true
        } else if let theirs = other.distinct {
            var counts = distinct ?? [:]
            for (v, n) in theirs { counts[v, default: 0] += n }
            if counts.count > Self.maxDistinct { distinct = nil; highCardinality = true } else { distinct = counts }
        }
    }

    /// The profile of a column: numbers (integers, floats, timestamps as their integer value) go to the numeric
    /// statistics; strings, booleans and integers to the value counts; lists by their elements.
    public static func of(_ column: Column) -> FeatureProfile {
        var p = FeatureProfile()
        p.add(column)
        return p
    }

    /// Adds a column's rows.
    public mutating func add(_ column: Column) {
        let n = column.count
        switch column.values {
        case .bool(let v):
            for i in 0..<n { if column.isNull(i) { addNull() } else { count += 1; add(category: v[i] ? "true" : "false") } }
        case .int32(let v):
            for i in 0..<n { if column.isNull(i) { addNull() } else { add(number: Double(v[i])); add(category: String(v[i])) } }
        case .int64(let v):
            let categorical = !Self.isTime(column.type)
            for i in 0..<n {
                if column.isNull(i) { addNull(); continue }
                add(number: Double(v[i]))
                if categorical { add(category: String(v[i])) }
            }
        case .float32(let v):
            for i in 0..<n { if column.isNull(i) { addNull() } else { add(number: Double(v[i])) } }
        case .float64(let v):
            for i in 0..<n { if column.isNull(i) { addNull() } else { add(number: v[i]) } }
        case .bytes(let b):
            for i in 0..<n { if column.isNull(i) { addNull() } else { count += 1; add(category: Array(b.bytes(at: i))) } }
        case .list(let offsets, let child):
            // Rows count here; the elements' values feed the statistics.
            var elements = FeatureProfile()
            elements.add(child)
            _ = offsets
            for i in 0..<n where column.isNull(i) { nullCount += 1 }
            let nulls = nullCount
            self.merge(elements)
            count = count - elements.count + n
            nullCount = nulls
        }
    }

    private static func isTime(_ type: DataType) -> Bool {
        if case .timestamp = type { return true }
        return false
    }
}
