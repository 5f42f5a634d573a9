/// A packed bit set: bit `i` is word `i / 64`, bit `i % 64` (least significant first).
public struct Bitmap: Sendable, Hashable {
    /// The bits, 64 per word (least significant first); the last word's bits past ``count`` are zero.
    public private(set) var words: [UInt64]
    /// The number of bits.
    public private(set) var count: Int

    /// `count` bits, all set to `value`.
    public init(count: Int, value: Bool) {
        self.count = count
        let n = (count + 63) >> 6
        words = [UInt64](repeating: value ? ~0 : 0, count: n)
        if value, count & 63 != 0 { words[n - 1] = (1 << UInt64(count & 63)) - 1 }
    }

    /// A bitmap holding `bits`, in order.
    public init(_ bits: [Bool]) {
        self.init(count: bits.count, value: false)
        for (i, b) in bits.enumerated() where b { set(i) }
    }

    /// Bit `i`; `i` must be below ``count``.
    @inline(__always)
    public subscript(i: Int) -> Bool {
        get { (words[i >> 6] >> UInt64(i & 63)) & 1 == 1 }
        set { if newValue { set(i) } else { clear(i) } }
    }

    /// Sets bit `i` (below ``count``).
    @inline(__always)
    public mutating func set(_ i: Int) { words[i >> 6] |= 1 << UInt64(i & 63) }

    /// Clears bit `i` (below ``count``).
    @inline(__always)
    public mutating func clear(_ i: Int) { words[i >> 6] &= ~(1 << UInt64(i & 63)) }

    /// The number of set bits.
    public var setCount: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Appends `n` set bits.
    public mutating func appendOnes(_ n: Int) {
        guard n > 0 else { return }
        let newCount = count + n
        let needed = (newCount + 63) >> 6
        if words.count < needed { words.append(contentsOf: repeatElement(0, count: needed - words.count)) }
        var i = count
        // Bit by bit up to a word boundary, then whole words.
        while i < newCount && i & 63 != 0 { set(i); i += 1 }
        while i + 64 <= newCount { words[i >> 6] = ~0; i += 64 }
        while i < newCount { set(i); i += 1 }
        count = newCount
    }

    /// Appends `other`'s bits after this bitmap's.
    public mutating func append(_ other: Bitmap) {
        let base = count
        let newCount = count + other.count
        let needed = (newCount + 63) >> 6
        if words.count < needed { words.append(contentsOf: repeatElement(0, count: needed - words.count)) }
        count = newCount
        if base & 63 == 0 {
            for (k, w) in other.words.enumerated() { words[(base >> 6) + k] = w }
        } else {
            for i in 0..<other.count where other[i] { set(base + i) }
        }
    }
}
