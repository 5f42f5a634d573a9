/// Distances between a baseline distribution and a current one, per feature: the population stability index (PSI)
/// binned on the baseline's quantiles, the two-sample Kolmogorov-Smirnov statistic for numbers, and the
/// Jensen-Shannon distance for categories. Each is 0 for identical distributions.
public enum Drift {
    /// The population stability index of `current` against `baseline` (finite numbers), over `bins` bins whose inner
    /// edges are the baseline's quantiles `k / bins` (linear interpolation, numpy's default), duplicates removed. A
    /// value `x` falls in bin `i` when `edges[i-1] <= x < edges[i]` (numpy's `searchsorted(..., side="right")`).
    /// Infinities fall in the outer bins. Missing values (nulls, NaN; `baselineMissing`, `currentMissing`) form one
    /// more bin when either side has any,
    /// so a null spike scores. Empty bins count as `epsilon` of their side, so values appearing from nothing score
    /// high, not infinite. nil when a side has no rows.
    public static func psi(baseline: [Double], current: [Double], baselineMissing: Int = 0, currentMissing: Int = 0,
                           bins: Int = 10, epsilon: Double = 1e-4) -> (psi: Double, edges: [Double])? {
        // Infinities are values (in the outer bins); NaN is missing (the caller counts it).
        let b = baseline.filter { !$0.isNaN }.sorted(), c = current.filter { !$0.isNaN }.sorted()
        guard b.count + baselineMissing > 0, c.count + currentMissing > 0, bins >= 2 else { return nil }
        // Edges from the baseline's finite values (none: one bin for every number, beside the missing one).
        let finite = b.filter(\.isFinite)
        var edges: [Double] = []
        for k in 1..<bins where !finite.isEmpty {
            let q = quantile(sorted: finite, Double(k) / Double(bins))
            if edges.last != q { edges.append(q) }
        }
        var pb = counts(b, edges: edges).map(Double.init), pc = counts(c, edges: edges).map(Double.init)
        if baselineMissing + currentMissing > 0 {
            pb.append(Double(baselineMissing))
            pc.append(Double(currentMissing))
        }
        let nb = Double(b.count + baselineMissing), nc = Double(c.count + currentMissing)
        return (psi(pb.map { $0 / nb }, pc.map { $0 / nc }, epsilon: epsilon), edges)
    }

    /// PSI between two lists of proportions (each summing to 1), empty bins taken as `epsilon`.
    public static func psi(_ expected: [Double], _ actual: [Double], epsilon: Double = 1e-4) -> Double {
        var total = 0.0
        for (e, a) in zip(expected, actual) {
            let e = Swift.max(e, epsilon), a = Swift.max(a, epsilon)
            total += (a - e) * log(a / e)
        }
        return total
    }

    /// How many `sorted` values fall in each bin of `edges` (`edges.count + 1` bins).
    static func counts(_ sorted: [Double], edges: [Double]) -> [Int] {
        var counts = [Int](repeating: 0, count: edges.count + 1)
        for x in sorted { counts[upperBound(edges, x)] += 1 }
        return counts
    }

    /// The index of the first edge greater than `x` (numpy `searchsorted(edges, x, side="right")`).
    static func upperBound(_ edges: [Double], _ x: Double) -> Int {
        var lo = 0, hi = edges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if edges[mid] <= x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The `q` quantile of sorted values with linear interpolation between ranks (numpy's default method).
    public static func quantile(sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }

    /// The two-sample Kolmogorov-Smirnov statistic: the greatest distance between the two empirical distribution
    /// functions (scipy's `ks_2samp(...).statistic`, infinities included, NaN left out); nil when a side has no numbers.
    public static func ks(baseline: [Double], current: [Double]) -> Double? {
        let a = baseline.filter { !$0.isNaN }.sorted(), b = current.filter { !$0.isNaN }.sorted()
        guard !a.isEmpty, !b.isEmpty else { return nil }
        var i = 0, j = 0, d = 0.0
        let n = Double(a.count), m = Double(b.count)
        while i < a.count && j < b.count {
            let x = Swift.min(a[i], b[j])
            while i < a.count && a[i] <= x { i += 1 }
            while j < b.count && b[j] <= x { j += 1 }
            d = Swift.max(d, abs(Double(i) / n - Double(j) / m))
        }
        return d
    }

    /// The Jensen-Shannon distance (base 2, from 0 to 1) between two categorical distributions given as counts:
    /// the square root of the divergence, as scipy's `jensenshannon(p, q, base=2)`; nil when either side is empty.
    public static func jensenShannon<Key: Hashable>(baseline: [Key: Int], current: [Key: Int]) -> Double? {
        let nb = Double(baseline.values.reduce(0, +)), nc = Double(current.values.reduce(0, +))
        guard nb > 0, nc > 0 else { return nil }
        var divergence = 0.0
        for key in Set(baseline.keys).union(current.keys) {
            let p = Double(baseline[key] ?? 0) / nb, q = Double(current[key] ?? 0) / nc
            let m = (p + q) / 2
            if p > 0 { divergence += 0.5 * p * log2(p / m) }
            if q > 0 { divergence += 0.5 * q * log2(q / m) }
        }
        return Swift.max(0, divergence).squareRoot()
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
