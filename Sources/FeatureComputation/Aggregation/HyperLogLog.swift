import Foundation

/// A HyperLogLog sketch of the distinct values of a set (`approx_count_distinct`): 2^12 registers, a standard error
/// of about 1.6%, mergeable (a register-wise maximum), and kept sparse (only the registers set) while few are.
///
/// The estimate depends only on the registers, never on how they were reached: the same values added in any order,
/// split into any tiles and merged in any grouping give the same registers and so the same estimate, bit for bit.
/// That is what lets the training join and the online tiles agree exactly on an approximate function. Values are
/// hashed with ``StableHash`` (the same on every machine and run, unlike Swift's `Hasher`).
public struct HyperLogLog: Sendable, Hashable {
    /// log2 of the register count.
    public static let precision = 12
    /// The number of registers: 2^``precision`` (4,096).
    public static let registerCount = 1 << precision
    /// The largest rank a register can hold (64 - precision + 1).
    static let maxRank = UInt8(64 - precision + 1)
    /// Registers set, as `index << 8 | rank`, sorted by index; while at most this many (then dense).
    static let sparseLimit = registerCount / 4

    private(set) var sparse: [UInt32] = []
    /// All registers (empty while sparse).
    private(set) var dense: [UInt8] = []

    /// An empty sketch: sparse, no register set.
    public init() {}

    /// Whether all registers are stored (once more than a quarter are set, or after merging a dense sketch) rather than
    /// only those set.
    public var isDense: Bool { !dense.isEmpty }

    /// Adds a value.
    public mutating func add(_ value: AggregateValue) {
        add(hash: StableHash.of(value))
    }

    /// Adds a hashed value: the top `precision` bits choose the register, the rank is one more than the number of
    /// leading zeros of the rest.
    public mutating func add(hash: UInt64) {
        let index = Int(hash >> UInt64(64 - Self.precision))
        let rest = hash << UInt64(Self.precision)
        let rank = UInt8(min(rest.leadingZeroBitCount + 1, Int(Self.maxRank)))
        set(index, rank)
    }

    private mutating func set(_ index: Int, _ rank: UInt8) {
        if isDense {
            if dense[index] < rank { dense[index] = rank }
            return
        }
        let key = UInt32(index) << 8
        var lo = 0, hi = sparse.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sparse[mid] & ~0xFF < key { lo = mid + 1 } else { hi = mid }
        }
        if lo < sparse.count && sparse[lo] & ~0xFF == key {
            if UInt8(sparse[lo] & 0xFF) < rank { sparse[lo] = key | UInt32(rank) }
            return
        }
        sparse.insert(key | UInt32(rank), at: lo)
        if sparse.count > Self.sparseLimit { densify() }
    }

    private mutating func densify() {
        var registers = [UInt8](repeating: 0, count: Self.registerCount)
        for entry in sparse { registers[Int(entry >> 8)] = UInt8(entry & 0xFF) }
        dense = registers
        sparse = []
    }

    /// Adds the values another sketch holds.
    public mutating func merge(_ other: HyperLogLog) {
        if other.isDense {
            if !isDense { densify() }
            for i in 0..<Self.registerCount where dense[i] < other.dense[i] { dense[i] = other.dense[i] }
        } else {
            for entry in other.sparse { set(Int(entry >> 8), UInt8(entry & 0xFF)) }
        }
    }

    /// The estimated number of distinct values: the raw HyperLogLog estimate, or linear counting while it is below
    /// 2.5 times the register count and some register is empty. The harmonic sum is taken over a histogram of the
    /// ranks, in rank order, so the estimate is the same bits however the registers are stored or were reached.
    public var estimate: Int64 {
        var histogram = [Int](repeating: 0, count: Int(Self.maxRank) + 1)
        var set = 0
        if isDense {
            for rank in dense where rank != 0 { histogram[Int(rank)] += 1; set += 1 }
        } else {
            for entry in sparse { histogram[Int(entry & 0xFF)] += 1 }
            set = sparse.count
        }
        let zeros = Self.registerCount - set
        histogram[0] = zeros
        var harmonic = 0.0
        for (rank, count) in histogram.enumerated() where count > 0 {
            harmonic += Double(count) * Double(sign: .plus, exponent: -rank, significand: 1)
        }
        let m = Double(Self.registerCount)
        let alpha = 0.7213 / (1 + 1.079 / m)
        let raw = alpha * m * m / harmonic
        if raw <= 2.5 * m && zeros > 0 {
            return Int64((m * log(m / Double(zeros))).rounded())
        }
        return Int64(raw.rounded())
    }

    // MARK: Binary form

    func write(to w: inout ByteWriter) {
        if isDense {
            w.byte(1)
            w.bytes.append(contentsOf: dense)
        } else {
            w.byte(0)
            w.varint(UInt64(sparse.count))
            for entry in sparse {
                w.byte(UInt8(entry >> 16))
                w.byte(UInt8((entry >> 8) & 0xFF))
                w.byte(UInt8(entry & 0xFF))
            }
        }
    }

    /// Merges a sketch written by ``write(to:)`` without building it: a sparse one by one pass over both sorted
    /// lists (not a search and an insert per register), a dense one by a register-wise maximum over its bytes.
    mutating func merge(reading r: inout ByteReader) throws(AggregateStateDecodingError) {
        switch try r.byte() {
        case 0:
            let count = try r.varint()
            guard count <= UInt64(Self.sparseLimit) else { throw AggregateStateDecodingError(message: "a sparse sketch with too many registers") }
            guard r.bytes.endIndex - r.offset >= Int(count) * 3 else { throw AggregateStateDecodingError(message: "truncated at byte \(r.position)") }
            var incoming: [UInt32] = []
            incoming.reserveCapacity(Int(count))
            var previous = -1
            for _ in 0..<count {
                let index = Int(r.bytes[r.offset]) << 8 | Int(r.bytes[r.offset + 1])
                let rank = r.bytes[r.offset + 2]
                r.offset += 3
                guard index < Self.registerCount, index > previous, (1...Self.maxRank).contains(rank) else {
                    throw AggregateStateDecodingError(message: "a sketch register out of range or order")
                }
                previous = index
                incoming.append(UInt32(index) << 8 | UInt32(rank))
            }
            if isDense {
                for entry in incoming where dense[Int(entry >> 8)] < UInt8(entry & 0xFF) { dense[Int(entry >> 8)] = UInt8(entry & 0xFF) }
                return
            }
            // Both sorted by register: one merge pass, the greater rank where both set a register.
            var merged: [UInt32] = []
            merged.reserveCapacity(sparse.count + incoming.count)
            var i = 0, j = 0
            while i < sparse.count, j < incoming.count {
                let a = sparse[i] >> 8, b = incoming[j] >> 8
                if a < b { merged.append(sparse[i]); i += 1 } else if b < a { merged.append(incoming[j]); j += 1 } else {
                    merged.append(max(sparse[i], incoming[j]))  // same register: the greater rank (low byte)
                    i += 1
                    j += 1
                }
            }
            merged.append(contentsOf: sparse[i...])
            merged.append(contentsOf: incoming[j...])
            sparse = merged
            if sparse.count > Self.sparseLimit { densify() }
        case 1:
            guard r.bytes.endIndex - r.offset >= Self.registerCount else { throw AggregateStateDecodingError(message: "truncated at byte \(r.position)") }
            if !isDense { densify() }
            var highest: UInt8 = 0
            let start = r.offset
            r.bytes.withUnsafeBufferPointer { source in
                let from = start - r.bytes.startIndex
                dense.withUnsafeMutableBufferPointer { registers in
                    for k in 0..<Self.registerCount {
                        let rank = source[from + k]
                        highest = max(highest, rank)
                        registers[k] = max(registers[k], rank)
                    }
                }
            }
            guard highest <= Self.maxRank else { throw AggregateStateDecodingError(message: "a sketch register out of range") }
            r.offset += Self.registerCount
        case let tag:
            throw AggregateStateDecodingError(message: "unknown sketch form \(tag)")
        }
    }

    static func read(from r: inout ByteReader) throws(AggregateStateDecodingError) -> HyperLogLog {
        var sketch = HyperLogLog()
        switch try r.byte() {
        case 0:
            let count = try r.varint()
            guard count <= UInt64(sparseLimit) else { throw AggregateStateDecodingError(message: "a sparse sketch with too many registers") }
            var previous = -1
            for _ in 0..<count {
                let index = Int(try r.byte()) << 8 | Int(try r.byte())
                let rank = try r.byte()
                guard index < registerCount, index > previous, (1...maxRank).contains(rank) else {
                    throw AggregateStateDecodingError(message: "a sketch register out of range or order")
                }
                previous = index
                sketch.sparse.append(UInt32(index) << 8 | UInt32(rank))
            }
        case 1:
            var registers = [UInt8](repeating: 0, count: registerCount)
            for i in 0..<registerCount {
                let rank = try r.byte()
                guard rank <= maxRank else { throw AggregateStateDecodingError(message: "a sketch register out of range") }
                registers[i] = rank
            }
            sketch.dense = registers
        case let tag:
            throw AggregateStateDecodingError(message: "unknown sketch form \(tag)")
        }
        return sketch
    }
}

/// A 64-bit hash of values that is the same on every machine, process and run (sketches are stored and merged
/// across processes): the value's kind and bytes, mixed 8 bytes at a time and finished with MurmurHash3's
/// avalanche step.
public enum StableHash {
    /// The hash of `value`: of its kind and its bytes (strings as UTF-8), the same on every machine and run.
    public static func of(_ value: AggregateValue) -> UInt64 {
        switch value {
        case .bool(let x): return mix(1, x ? 1 : 0)
        case .int(let x): return mix(2, UInt64(bitPattern: x))
        case .double(let x): return mix(3, x.bitPattern)
        case .timestamp(let x): return mix(6, UInt64(bitPattern: x))
        case .string(let x): return bytes(4, Array(x.utf8))
        case .bytes(let x): return bytes(5, x)
        }
    }

    static func mix(_ kind: UInt64, _ v: UInt64) -> UInt64 {
        finish((kind &* 0x9E37_79B9_7F4A_7C15) ^ v &* 0xC2B2_AE3D_27D4_EB4F)
    }

    static func bytes(_ kind: UInt64, _ data: [UInt8]) -> UInt64 {
        var h = (kind &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(data.count)
        var i = 0
        while i + 8 <= data.count {
            var chunk: UInt64 = 0
            for j in 0..<8 { chunk |= UInt64(data[i + j]) << UInt64(8 * j) }
            h = (h ^ (chunk &* 0x87C3_7B91_1142_53D5)).rotatedLeft(27) &* 0x4CF5_AD43_2745_937F &+ 0x52DC_E729
            i += 8
        }
        var tail: UInt64 = 0
        for j in 0..<(data.count - i) { tail |= UInt64(data[i + j]) << UInt64(8 * j) }
        h ^= tail &* 0x87C3_7B91_1142_53D5
        return finish(h)
    }

    static func finish(_ x: UInt64) -> UInt64 {
        var h = x
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(_ n: UInt64) -> UInt64 { (self << n) | (self >> (64 - n)) }
}
