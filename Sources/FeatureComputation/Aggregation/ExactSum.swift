/// An exact, order-independent sum of doubles: adding the same values in any order, or merging partial sums in any
/// grouping, gives the same bits, the correctly rounded value of the exact sum (as Python's `math.fsum`).
///
/// This is what lets a sum computed offline over sorted events and the same sum merged online from tiles filled in
/// arrival order agree bit for bit. Each finite double is an integer multiple of 2^-1074; it is added, split into
/// 32-bit chunks, to a fixed-point accumulator of 64-bit limbs (carry-save, carries propagated every 2^30 additions),
/// so no rounding happens until ``value``. Infinities and NaN are counted apart and follow IEEE rules (inf + -inf is
/// NaN). A sum of zeros is +0.
public struct ExactSum: Sendable, Equatable {
    /// Limb `i` weighs 2^(32*i - 1074); 68 limbs cover every finite double and the carries of 2^31 of them.
    static let limbCount = 68
    /// The few values added so far (up to ``fewLimit``, as bit patterns), or the 68 limbs once more were added: a
    /// tile's sum usually holds a handful of values, and 544 bytes of limbs each cost a backfill gigabytes.
    var storage: [Int64]
    /// How many values are kept as they are before the limbs are made.
    static let fewLimit = 4
    /// Whether the limbs are made.
    var hasLimbs: Bool { storage.count == Self.limbCount }
    /// The limbs (made from the few values kept, on a copy, while there are no limbs; empty when nothing was summed).
    var limbs: [Int64] {
        if hasLimbs || storage.isEmpty { return storage }
        var copy = self
        copy.allocate()
        return copy.storage
    }
    /// Additions since the limbs were last normalised.
    var pending: Int64 = 0
    var positiveInfinities: Int64 = 0
    var negativeInfinities: Int64 = 0
    var nans: Int64 = 0

    /// Empty until the first finite non-zero value (states that never sum allocate nothing).
    public init() {
        storage = []
    }

    /// Makes the limbs (from the few values kept, if any).
    mutating func allocate() {
        if hasLimbs { return }
        let few = storage
        storage = Array(repeating: 0, count: Self.limbCount)
        for bits in few { addToLimbs(Double(bitPattern: UInt64(bitPattern: bits))) }
    }

    /// Equal when they hold the same exact sum (and the same infinities and NaNs), however it was reached.
    public static func == (a: ExactSum, b: ExactSum) -> Bool {
        var x = a, y = b
        x.allocate()
        y.allocate()
        x.normalize()
        y.normalize()
        return x.limbs == y.limbs && x.positiveInfinities == y.positiveInfinities
            && x.negativeInfinities == y.negativeInfinities && x.nans == y.nans
    }

    /// Adds `x` exactly (no rounding); zeros change nothing, infinities and NaN are counted apart.
    public mutating func add(_ x: Double) {
        guard x.isFinite else {
            if x.isNaN { nans += 1 } else if x > 0 { positiveInfinities += 1 } else { negativeInfinities += 1 }
            return
        }
        if x == 0 { return }
        if !hasLimbs {
            if storage.count < Self.fewLimit {
                storage.append(Int64(bitPattern: x.bitPattern))
                return
            }
            allocate()
        }
        addToLimbs(x)
    }

    /// Adds a finite non-zero `x` to the limbs, which are made.
    private mutating func addToLimbs(_ x: Double) {
        storage.withUnsafeMutableBufferPointer { Self.add(x, to: $0) }
        pending += 1
        if pending >= 1 << 30 { normalize() }
    }

    /// Adds a finite non-zero `x` to `limbs` (68 of them).
    private static func add(_ x: Double, to limbs: UnsafeMutableBufferPointer<Int64>) {
        // x = m * 2^(p - 1074) with m < 2^53 and p >= 0.
        let bits = x.bitPattern
        let biased = Int((bits >> 52) & 0x7FF)
        var m = bits & 0x000F_FFFF_FFFF_FFFF
        var p = 0
        if biased == 0 {
            p = 0  // subnormal: m * 2^-1074
        } else {
            m |= 1 << 52
            p = biased - 1
        }
        let limb = p / 32, offset = UInt64(p % 32)
        let low = m << offset
        let high = offset == 0 ? 0 : m >> (64 - offset)
        let c0 = Int64(low & 0xFFFF_FFFF), c1 = Int64(low >> 32), c2 = Int64(high)
        if x < 0 {
            limbs[limb] -= c0
            limbs[limb + 1] -= c1
            limbs[limb + 2] -= c2
        } else {
            limbs[limb] += c0
            limbs[limb + 1] += c1
            limbs[limb + 2] += c2
        }
    }

    /// Runs `body` on a copy of the limbs on the stack (made from the values kept while there are no limbs; not
    /// normalised): reading or writing a sum allocates nothing.
    func withLimbCopy<R>(_ body: (UnsafeMutableBufferPointer<Int64>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: Int64.self, capacity: Self.limbCount) { copy in
            if hasLimbs {
                _ = copy.initialize(from: storage)
            } else {
                copy.initialize(repeating: 0)
                for bits in storage { Self.add(Double(bitPattern: UInt64(bitPattern: bits)), to: copy) }
            }
            return body(copy)
        }
    }

    /// Removes one value added before: a finite one by adding its negation, an infinity or a NaN by taking it off its
    /// count (adding the negation of a NaN would count a second NaN, and of an infinity the opposite infinity).
    public mutating func remove(_ x: Double) {
        guard x.isFinite else {
            if x.isNaN { nans -= 1 } else if x > 0 { positiveInfinities -= 1 } else { negativeInfinities -= 1 }
            return
        }
        add(-x)
    }

    /// Adds the values another sum holds.
    public mutating func merge(_ other: ExactSum) {
        if other.hasLimbs {
            allocate()
            for i in 0..<Self.limbCount { storage[i] += other.storage[i] }
            pending += other.pending
        } else {
            for bits in other.storage { add(Double(bitPattern: UInt64(bitPattern: bits))) }
        }
        positiveInfinities += other.positiveInfinities
        negativeInfinities += other.negativeInfinities
        nans += other.nans
        if pending >= 1 << 30 { normalize() }
    }

    /// Removes the values another sum holds (a sum over a window minus the part that left it).
    public mutating func subtract(_ other: ExactSum) {
        if other.hasLimbs {
            allocate()
            for i in 0..<Self.limbCount { storage[i] -= other.storage[i] }
            pending += other.pending
        } else {
            for bits in other.storage { add(-Double(bitPattern: UInt64(bitPattern: bits))) }
        }
        positiveInfinities -= other.positiveInfinities
        negativeInfinities -= other.negativeInfinities
        nans -= other.nans
        if pending >= 1 << 30 { normalize() }
    }

    /// Propagates carries: every limb but the top one in `0 ..< 2^32`, the top one carrying the sign.
    mutating func normalize() {
        pending = 0
        if !hasLimbs { return }
        storage.withUnsafeMutableBufferPointer { Self.propagate($0) }
    }

    static func propagate(_ limbs: UnsafeMutableBufferPointer<Int64>) {
        var carry: Int64 = 0
        for i in 0..<(limbCount - 1) {
            let v = limbs[i] + carry
            carry = v >> 32
            limbs[i] = v & 0xFFFF_FFFF
        }
        limbs[limbCount - 1] += carry
    }

    /// The exact sum, correctly rounded to the nearest double (ties to even). Rounds a copy of the limbs kept on the
    /// stack: reading a sum allocates nothing (the join reads one per entity row).
    public var value: Double {
        if nans > 0 || (positiveInfinities > 0 && negativeInfinities > 0) { return .nan }
        if positiveInfinities > 0 { return .infinity }
        if negativeInfinities > 0 { return -.infinity }
        if storage.isEmpty { return 0 }
        return withLimbCopy { copy in
            Self.propagate(copy)
            var negative = false
            if copy[Self.limbCount - 1] < 0 {
                negative = true
                for i in 0..<Self.limbCount { copy[i] = -copy[i] }
                Self.propagate(copy)
            }
            let magnitude = Self.rounded(UnsafeBufferPointer(copy))
            return negative ? -magnitude : magnitude
        }
    }

    /// The non-negative value of normalised limbs, correctly rounded.
    private static func rounded(_ limbs: UnsafeBufferPointer<Int64>) -> Double {
        guard let top = limbs.lastIndex(where: { $0 != 0 }) else { return 0 }
        // W: the top three limbs as a 96-bit integer (hi: the top 64 bits, lo: the next 32), weighing
        // 2^(32*(top-2) - 1074); sticky: whether anything below them is not zero. Limb `top` is not zero, so W has
        // 65 to 96 bits and is shifted right by 12 to 43 bits to keep 53.
        func limb(_ i: Int) -> UInt64 { i >= 0 ? UInt64(limbs[i]) : 0 }
        let hi = limb(top) << 32 | limb(top - 1)
        let lo = limb(top - 2)
        var sticky = top >= 3 && limbs[0..<(top - 2)].contains { $0 != 0 }
        let shift = 64 - hi.leadingZeroBitCount + 32 - 53
        var mantissa: UInt64
        if shift >= 32 {
            mantissa = hi >> (shift - 32)
            // The bits below the mantissa: the low shift-32 bits of hi, then lo.
            let roundBit: Bool, rest: Bool
            if shift == 32 {
                roundBit = lo & 0x8000_0000 != 0
                rest = lo & 0x7FFF_FFFF != 0
            } else {
                let droppedHi = hi & ((1 << UInt64(shift - 32)) - 1)
                let half: UInt64 = 1 << UInt64(shift - 33)
                roundBit = droppedHi & half != 0
                rest = (droppedHi & (half - 1)) != 0 || lo != 0
            }
            sticky = sticky || rest
            if roundBit && (sticky || mantissa & 1 == 1) { mantissa += 1 }
        } else {
            mantissa = hi << UInt64(32 - shift) | lo >> UInt64(shift)
            let dropped = lo & ((1 << UInt64(shift)) - 1)
            let half: UInt64 = 1 << UInt64(shift - 1)
            let roundBit = dropped & half != 0
            sticky = sticky || (dropped & (half - 1)) != 0
            if roundBit && (sticky || mantissa & 1 == 1) { mantissa += 1 }
        }
        return Double(sign: .plus, exponent: 32 * (top - 2) - 1074 + shift, significand: Double(mantissa))
    }
}
