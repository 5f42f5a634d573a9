/// The sample variance from exact sums, correctly rounded: `(n·Σx² − (Σx)²) / (n·(n − 1))` computed in integers.
///
/// Why: the textbook `(Σx² − (Σx)²/n)/(n − 1)` in doubles cancels catastrophically (values 1e9 … 1e9+4 give 0, not
/// 2.5), and the stable one-pass forms (Welford's, Chan's merge) give bits that depend on the order of events and
/// merges, so tiles merged online would not equal the training set's value. Here both sums are exact
/// (``ExactSum``: each finite double is an integer multiple of 2^-1074, and a square enters as the two doubles of an
/// error-free product), so the numerator is an exact integer, and the one rounding at the end gives the same bits in
/// any order, grouping or engine.
///
/// Exact for squares that neither overflow nor fall below 2^-1022 in their low part (|x| between about 1e-146 and
/// 1e154); beyond that a square is rounded (an overflowing one makes the variance +inf).
enum ExactVariance {
    /// The sample variance of `count` values whose exact sum is `sum` and exact sum of squares `squares`; NaN when
    /// either holds a NaN or an infinity (as `inf - inf`).
    static func variance(count: Int64, sum: ExactSum, squares: ExactSum) -> Double {
        precondition(count > 1)
        if sum.nans > 0 || sum.positiveInfinities > 0 || sum.negativeInfinities > 0 { return .nan }
        if squares.nans > 0 || squares.negativeInfinities > 0 { return .nan }
        if squares.positiveInfinities > 0 { return .infinity }
        let n = UInt64(count)
        let s = Magnitude(sum).value, q = Magnitude(squares)
        // A negative sum of squares cannot come from real data (only from removing what was never added).
        guard !q.negative, !q.value.isZero else { return 0 }
        // n·Q − S² = 2^-2148 · (n·q·2^1074 − s²), with common factors of two taken out first.
        let tq = q.value.trailingZeroBits, ts = s.isZero ? Int.max / 4 : s.trailingZeroBits
        let base = min(tq + 1074, 2 * ts)
        var a = q.value.shiftedRight(tq)
        a.multiply(by: n)
        a.shiftLeft(tq + 1074 - base)
        var m = a
        if !s.isZero {
            let odd = s.shiftedRight(ts)
            var b = odd.squared()
            b.shiftLeft(2 * ts - base)
            guard !m.isLess(than: b) else { return 0 }
            m.subtract(b)
        }
        if m.isZero { return 0 }
        // m · 2^(base − 2148) / (n·(n − 1)): the quotient with 192 more bits, and whether anything was dropped.
        m.shiftLeft(192)
        var sticky = m.divide(by: n) != 0
        sticky = m.divide(by: n - 1) != 0 || sticky
        return m.rounded(sticky: sticky, exponent: base - 2148 - 192)
    }

    /// The magnitude of an exact sum as a big integer (in units of 2^-1074) and its sign.
    private struct Magnitude {
        var value: BigInteger
        var negative: Bool

        init(_ s: ExactSum) {
            var limbs = s.limbs.isEmpty ? [Int64](repeating: 0, count: ExactSum.limbCount) : s.limbs
            limbs.withUnsafeMutableBufferPointer { ExactSum.propagate($0) }
            negative = limbs[ExactSum.limbCount - 1] < 0
            if negative {
                for i in limbs.indices { limbs[i] = -limbs[i] }
                limbs.withUnsafeMutableBufferPointer { ExactSum.propagate($0) }
            }
            value = BigInteger()
            for (i, limb) in limbs.enumerated() where limb != 0 { value.add(UInt64(limb), atBit: 32 * i) }
        }
    }
}

/// A non-negative integer of 64-bit limbs (least significant first): what ``ExactVariance`` needs, no more.
struct BigInteger {
    var limbs: [UInt64] = []

    var isZero: Bool { limbs.allSatisfy { $0 == 0 } }

    var bitLength: Int {
        guard let top = limbs.lastIndex(where: { $0 != 0 }) else { return 0 }
        return 64 * top + 64 - limbs[top].leadingZeroBitCount
    }

    var trailingZeroBits: Int {
        guard let low = limbs.firstIndex(where: { $0 != 0 }) else { return 0 }
        return 64 * low + limbs[low].trailingZeroBitCount
    }

    /// Adds `x · 2^bit`.
    mutating func add(_ x: UInt64, atBit bit: Int) {
        let limb = bit / 64, shift = UInt64(bit % 64)
        let low = x << shift, high = shift == 0 ? 0 : x >> (64 - shift)
        if limbs.count < limb + 3 { limbs += [UInt64](repeating: 0, count: limb + 3 - limbs.count) }
        var carry: UInt64 = 0
        var (r, o) = limbs[limb].addingReportingOverflow(low)
        limbs[limb] = r
        carry = o ? 1 : 0
        (r, o) = limbs[limb + 1].addingReportingOverflow(high)
        let (r2, o2) = r.addingReportingOverflow(carry)
        limbs[limb + 1] = r2
        carry = (o ? 1 : 0) + (o2 ? 1 : 0)
        var i = limb + 2
        while carry != 0 {
            if i == limbs.count { limbs.append(0) }
            (limbs[i], o) = limbs[i].addingReportingOverflow(carry)
            carry = o ? 1 : 0
            i += 1
        }
    }

    mutating func multiply(by x: UInt64) {
        var carry: UInt64 = 0
        for i in limbs.indices {
            let (high, low) = limbs[i].multipliedFullWidth(by: x)
            let (sum, overflow) = low.addingReportingOverflow(carry)
            limbs[i] = sum
            carry = high &+ (overflow ? 1 : 0)
        }
        if carry != 0 { limbs.append(carry) }
    }

    func squared() -> BigInteger {
        let n = limbs.count
        var out = [UInt64](repeating: 0, count: 2 * n + 1)
        for i in 0..<n where limbs[i] != 0 {
            var carry: UInt64 = 0
            for j in 0..<n {
                let (high, low) = limbs[i].multipliedFullWidth(by: limbs[j])
                let (s1, o1) = out[i + j].addingReportingOverflow(low)
                let (s2, o2) = s1.addingReportingOverflow(carry)
                out[i + j] = s2
                carry = high &+ (o1 ? 1 : 0) &+ (o2 ? 1 : 0)
            }
            var k = i + n
            while carry != 0 {
                let (s, o) = out[k].addingReportingOverflow(carry)
                out[k] = s
                carry = o ? 1 : 0
                k += 1
            }
        }
        return BigInteger(limbs: out)
    }

    mutating func shiftLeft(_ bits: Int) {
        guard bits > 0 else { return }
        let whole = bits / 64, part = UInt64(bits % 64)
        var out = [UInt64](repeating: 0, count: limbs.count + whole + 1)
        for (i, limb) in limbs.enumerated() {
            out[i + whole] |= limb << part
            if part != 0 { out[i + whole + 1] |= limb >> (64 - part) }
        }
        limbs = out
    }

    func shiftedRight(_ bits: Int) -> BigInteger {
        let whole = bits / 64, part = UInt64(bits % 64)
        guard whole < limbs.count else { return BigInteger() }
        var out = [UInt64](repeating: 0, count: limbs.count - whole)
        for i in out.indices {
            out[i] = limbs[i + whole] >> part
            if part != 0, i + whole + 1 < limbs.count { out[i] |= limbs[i + whole + 1] << (64 - part) }
        }
        return BigInteger(limbs: out)
    }

    func isLess(than other: BigInteger) -> Bool {
        let count = max(limbs.count, other.limbs.count)
        for i in stride(from: count - 1, through: 0, by: -1) {
            let a = i < limbs.count ? limbs[i] : 0, b = i < other.limbs.count ? other.limbs[i] : 0
            if a != b { return a < b }
        }
        return false
    }

    /// Subtracts a value that is not greater.
    mutating func subtract(_ other: BigInteger) {
        var borrow: UInt64 = 0
        for i in limbs.indices {
            let b = i < other.limbs.count ? other.limbs[i] : 0
            let (d1, o1) = limbs[i].subtractingReportingOverflow(b)
            let (d2, o2) = d1.subtractingReportingOverflow(borrow)
            limbs[i] = d2
            borrow = (o1 ? 1 : 0) + (o2 ? 1 : 0)
        }
    }

    /// Divides in place, rounding down; returns the remainder.
    mutating func divide(by divisor: UInt64) -> UInt64 {
        var remainder: UInt64 = 0
        for i in stride(from: limbs.count - 1, through: 0, by: -1) {
            (limbs[i], remainder) = divisor.dividingFullWidth((high: remainder, low: limbs[i]))
        }
        return remainder
    }

    /// `self · 2^exponent` correctly rounded to a double (ties to even), `sticky` telling whether a non-zero part
    /// below `self` was dropped.
    func rounded(sticky: Bool, exponent: Int) -> Double {
        let length = bitLength
        guard length > 0 else { return 0 }
        // The top 64 bits, and whether any bit below them is set.
        let drop = max(0, length - 64)
        let top = shiftedRight(drop).limbs.first ?? 0
        let below = sticky || (drop > 0 && trailingZeroBits < drop)
        let width = min(64, length)
        // Keep 53 bits of `top` (which has `width` bits).
        let cut = max(0, width - 53)
        var mantissa = cut == 0 ? top : top >> UInt64(cut)
        if cut > 0 {
            let half: UInt64 = 1 << UInt64(cut - 1)
            let rest = top & ((1 << UInt64(cut)) - 1)
            if rest > half || (rest == half && (below || mantissa & 1 == 1)) { mantissa += 1 }
        }
        return Double(sign: .plus, exponent: exponent + drop + cut, significand: Double(mantissa))
    }
}
