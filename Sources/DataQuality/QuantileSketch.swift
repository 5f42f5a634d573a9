import Foundation

/// A mergeable quantile sketch with a relative error bound (the DDSketch construction): each finite value falls in a
/// logarithmic bucket `ceil(log_γ |x|)` with `γ = (1 + α) / (1 - α)`, one store for positive values, one for negative,
/// and a count of values too small to index (zeros, subnormals). A quantile's estimate is within `α` of the true
/// value in relative terms (`|estimate - x| <= α |x|`), whatever the data's range and order; two sketches of the same
/// accuracy merge by adding counts, so profiles of time windows merge into a profile of their union.
public struct QuantileSketch: Sendable, Hashable, Codable {
    /// The relative accuracy `α` (0.01: quantiles within 1%).
    public let relativeAccuracy: Double
    /// Values counted (finite ones only: NaN and infinities are counted by the profile, not here).
    public private(set) var count: Int = 0
    /// The smallest and greatest values added (estimates are clamped to them).
    public private(set) var min: Double = .infinity
    /// The greatest value added.
    public private(set) var max: Double = -.infinity
    /// Bucket index -> count, for positive values.
    private var positive: [Int32: Int] = [:]
    /// Bucket index -> count, for the magnitudes of negative values.
    private var negative: [Int32: Int] = [:]
    /// Values with `|x| <` ``smallest`` (zeros among them).
    private var zeros: Int = 0

    /// Magnitudes below this are counted as zero (their relative error is not bounded; they are below 1e-300).
    public static let smallest = 1e-300
    /// Buckets kept per store: beyond it the lowest buckets are merged (their values lose the bound, the rest keep it).
    public static let maxBuckets = 4096

    /// An empty sketch with relative accuracy `relativeAccuracy` (0 < α < 1).
    public init(relativeAccuracy: Double = 0.01) {
        precondition(relativeAccuracy > 0 && relativeAccuracy < 1)
        self.relativeAccuracy = relativeAccuracy
    }

    private var logGamma: Double { log((1 + relativeAccuracy) / (1 - relativeAccuracy)) }

    private func index(_ magnitude: Double) -> Int32 { Int32((log(magnitude) / logGamma).rounded(.up)) }

    /// The value a bucket stands for: the point whose relative distance to both of its edges is `α`.
    private func value(_ index: Int32) -> Double {
        let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
        return 2 * exp(Double(index) * logGamma) / (gamma + 1)
    }

    /// Adds a finite value (NaN and infinities are ignored: the caller counts them).
    public mutating func add(_ x: Double) {
        guard x.isFinite else { return }
        count += 1
        if x < min { min = x }
        if x > max { max = x }
        let m = abs(x)
        if m < Self.smallest {
            zeros += 1
        } else if x > 0 {
            positive[index(m), default: 0] += 1
            if positive.count > Self.maxBuckets { Self.collapse(&positive) }
        } else {
            negative[index(m), default: 0] += 1
            if negative.count > Self.maxBuckets { Self.collapse(&negative) }
        }
    }

    /// Merges the lowest buckets into one, keeping ``maxBuckets``.
    private static func collapse(_ store: inout [Int32: Int]) {
        let keys = store.keys.sorted()
        let excess = keys.count - maxBuckets
        guard excess > 0 else { return }
        var moved = 0
        for k in keys[..<excess] { moved += store.removeValue(forKey: k)! }
        store[keys[excess], default: 0] += moved
    }

    /// Adds `other`'s counts (the same accuracy is required; another is a programming error).
    public mutating func merge(_ other: QuantileSketch) {
        precondition(other.relativeAccuracy == relativeAccuracy, "sketches of different accuracies do not merge")
        count += other.count
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
        zeros += other.zeros
        for (k, n) in other.positive { positive[k, default: 0] += n }
        for (k, n) in other.negative { negative[k, default: 0] += n }
        if positive.count > Self.maxBuckets { Self.collapse(&positive) }
        if negative.count > Self.maxBuckets { Self.collapse(&negative) }
    }

    /// The `q`-quantile (0...1) estimate: the value of rank `q (count - 1)` (the lower one, as numpy's "lower"
    /// method), within the relative accuracy; nil when empty.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0, q >= 0, q <= 1 else { return nil }
        if q == 0 { return min }
        if q == 1 { return max }
        let rank = Int((q * Double(count - 1)).rounded(.down))
        var seen = 0
        for k in negative.keys.sorted(by: >) {
            seen += negative[k]!
            if seen > rank { return clamp(-value(k)) }
        }
        seen += zeros
        if seen > rank { return clamp(0) }
        for k in positive.keys.sorted() {
            seen += positive[k]!
            if seen > rank { return clamp(value(k)) }
        }
        return max
    }

    private func clamp(_ x: Double) -> Double { Swift.min(Swift.max(x, min), max) }

    /// The values' distribution as `(value, count)` pairs in ascending order: each bucket at the value it stands for
    /// (for histograms and distances between sketches).
    public var buckets: [(value: Double, count: Int)] {
        var out: [(Double, Int)] = []
        for k in negative.keys.sorted(by: >) { out.append((clamp(-value(k)), negative[k]!)) }
        if zeros > 0 { out.append((clamp(0), zeros)) }
        for k in positive.keys.sorted() { out.append((clamp(value(k)), positive[k]!)) }
        return out
    }
}
