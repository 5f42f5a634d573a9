public import ErrorChain
/// A partial aggregate that cannot be read back: truncated, of an unknown version or function, or inconsistent.
public struct AggregateStateDecodingError: ChainedError {
    /// What is wrong with the bytes.
    public var message: String
    /// An error saying `message`.
    public init(message: String) { self.message = message }
    /// `aggregate_state`.
    public var errorCode: String { "aggregate_state" }
    /// What could not be done, then why.
    public var description: String { ErrorChain.render(self) }
    /// What could not be done, then why.
    public var headline: String { "cannot decode an aggregation state: \(message)" }
}

/// The binary form of partial aggregates, as the online store keeps them in tiles: compact (an exact sum keeps only
/// its non-zero limbs), versioned, and checked when read (bad bytes are an error, never a crash).
extension AggregateState {
    static let formatVersion: UInt8 = 1

    /// The state as bytes.
    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        write(to: &w)
        return w.bytes
    }

    /// States as one buffer: each state's bytes preceded by their length (a varint), in order. What a tile of the
    /// online store holds (``TileStates`` in the core reads it).
    public static func encode(_ states: [AggregateState]) -> [UInt8] {
        var out = ByteWriter()
        var scratch = ByteWriter()
        for state in states {
            scratch.bytes.removeAll(keepingCapacity: true)
            state.write(to: &scratch)
            out.varint(UInt64(scratch.bytes.count))
            out.bytes.append(contentsOf: scratch.bytes)
        }
        return out.bytes
    }

    /// The states of two buffers written by ``encode(_:)`` merged pairwise (the same functions, in the same order), as
    /// one such buffer: what a store merges when a stream adds to a tile it already holds.
    ///
    /// Raw events (``RawEvents``) of either buffer are kept, concatenated, after the states.
    public static func merge(encoded a: [UInt8], _ b: [UInt8]) throws(AggregateStateDecodingError) -> [UInt8] {
        var left = try slices(of: a), right = try slices(of: b)
        var raw = RawEvents()
        for slice in left + right where RawEvents.isRaw(slice) { raw.events += try RawEvents(decoding: slice).events }
        left.removeAll { RawEvents.isRaw($0) }
        right.removeAll { RawEvents.isRaw($0) }
        guard left.count == right.count else { throw AggregateStateDecodingError(message: "tiles of \(left.count) and \(right.count) states") }
        var out = ByteWriter()
        var scratch = ByteWriter()
        for (x, y) in zip(left, right) {
            var state = try AggregateState(decoding: Array(x))
            try state.merge(encoded: y)
            scratch.bytes.removeAll(keepingCapacity: true)
            state.write(to: &scratch)
            out.varint(UInt64(scratch.bytes.count))
            out.bytes.append(contentsOf: scratch.bytes)
        }
        if !raw.events.isEmpty {
            let bytes = raw.encodedSlice
            out.varint(UInt64(bytes.count))
            out.bytes.append(contentsOf: bytes)
        }
        return out.bytes
    }

    /// The states of a buffer written by ``encode(_:)``, in place (each one's bytes, in order).
    public static func slices(of bytes: [UInt8]) throws(AggregateStateDecodingError) -> [ArraySlice<UInt8>] {
        var reader = Sequence(bytes)
        var out: [ArraySlice<UInt8>] = []
        while let slice = try reader.next() { out.append(slice) }
        return out
    }

    /// Reads the states of a buffer written by ``encode(_:)`` one at a time, in place, allocating nothing.
    public struct Sequence {
        private var reader: ByteReader

        /// A reader at the start of `bytes`, a buffer written by ``encode(_:)``.
        public init(_ bytes: [UInt8]) {
            reader = ByteReader(bytes: bytes[...])
        }

        /// The next state's bytes; nil at the end.
        public mutating func next() throws(AggregateStateDecodingError) -> ArraySlice<UInt8>? {
            guard !reader.atEnd else { return nil }
            let length = try reader.varint()
            guard length <= UInt64(reader.bytes.endIndex - reader.offset) else { throw AggregateStateDecodingError(message: "a truncated state") }
            let start = reader.offset
            reader.offset += Int(length)
            return reader.bytes[start..<reader.offset]
        }
    }

    func write(to w: inout ByteWriter) {
        w.byte(Self.formatVersion)
        w.byte(UInt8(AggregateFunction.allCases.firstIndex(of: function)!))
        w.varint(UInt64(n))
        w.varint(UInt64(bitPattern: count))
        switch function {
        case .count:
            break
        case .sum, .mean, .variance, .stddev:
            w.int128(integerSum)
            w.byte(sawDouble ? 1 : 0)
            w.exactSum(floatSum)
            if function != .sum { w.exactSum(squareSum) }
        case .min, .max:
            w.byte(extreme == nil ? 0 : 1)
            if let extreme { w.value(extreme) }
        case .first, .last, .lastN, .lastDistinctN:
            w.varint(UInt64(timed.count))
            for item in timed {
                w.int64(item.time)
                w.value(item.value)
            }
        case .approxCountDistinct:
            sketch.write(to: &w)
        }
    }

    /// Reads a state written by ``encoded()``.
    public init(decoding bytes: [UInt8]) throws(AggregateStateDecodingError) {
        var r = ByteReader(bytes: bytes[...])
        guard try r.byte() == Self.formatVersion else { throw AggregateStateDecodingError(message: "unknown format version") }
        let index = Int(try r.byte())
        guard index < AggregateFunction.allCases.count else { throw AggregateStateDecodingError(message: "unknown function \(index)") }
        let function = AggregateFunction.allCases[index]
        let n = try r.varint()
        guard (1...1_000_000).contains(n) else { throw AggregateStateDecodingError(message: "n out of range") }
        self.init(function, n: Int(n))
        count = Int64(bitPattern: try r.varint())
        switch function {
        case .count:
            break
        case .sum, .mean, .variance, .stddev:
            integerSum = try r.int128()
            sawDouble = try r.byte() != 0
            floatSum = try r.exactSum()
            if function != .sum { squareSum = try r.exactSum() }
        case .min, .max:
            if try r.byte() != 0 { extreme = try r.value() }
        case .first, .last, .lastN, .lastDistinctN:
            let items = try r.varint()
            guard items <= UInt64(self.n) else { throw AggregateStateDecodingError(message: "more values than n") }
            for _ in 0..<items { timed.append(Timed(time: try r.int64(), value: try r.value())) }
            // Kept values are newest first (last_n may keep equal events).
            guard zip(timed, timed.dropFirst()).allSatisfy({ !$1.isNewer(than: $0) }) else {
                throw AggregateStateDecodingError(message: "values out of order")
            }
        case .approxCountDistinct:
            sketch = try HyperLogLog.read(from: &r)
        }
        guard r.atEnd else { throw AggregateStateDecodingError(message: "\(bytes.count - r.position) bytes after the state") }
    }
}

extension AggregateState {
    /// Merges the state written in `bytes` (by ``encoded()``, of the same function and `n`) into this one, reading
    /// it in place: the same result as `merge(AggregateState(decoding:))` without building the other state (a lookup
    /// merges a tile per hop of its window this way).
    public mutating func merge(encoded bytes: ArraySlice<UInt8>) throws(AggregateStateDecodingError) {
        var r = ByteReader(bytes: bytes)
        guard try r.byte() == Self.formatVersion else { throw AggregateStateDecodingError(message: "unknown format version") }
        let index = Int(try r.byte())
        guard index < AggregateFunction.allCases.count, AggregateFunction.allCases[index] == function else {
            throw AggregateStateDecodingError(message: "a state of another function than \(function.rawValue)")
        }
        guard try r.varint() == UInt64(n) else { throw AggregateStateDecodingError(message: "a state with another n") }
        let added = Int64(bitPattern: try r.varint())
        switch function {
        case .count:
            break
        case .sum, .mean, .variance, .stddev:
            integerSum += try r.int128()
            if try r.byte() != 0 { sawDouble = true }
            try floatSum.merge(reading: &r)
            if function != .sum { try squareSum.merge(reading: &r) }
        case .min, .max:
            if try r.byte() != 0 {
                let e = try r.value()
                if extreme.map({ function == .min ? e < $0 : e > $0 }) ?? true { extreme = e }
            }
        case .first, .last, .lastN, .lastDistinctN:
            let items = try r.varint()
            guard items <= UInt64(n) else { throw AggregateStateDecodingError(message: "more values than n") }
            var previous: Timed?
            for _ in 0..<items {
                let item = Timed(time: try r.int64(), value: try r.value())
                if let previous, item.isNewer(than: previous) { throw AggregateStateDecodingError(message: "values out of order") }
                previous = item
                insertMerged(item)
            }
        case .approxCountDistinct:
            try sketch.merge(reading: &r)
        }
        guard r.atEnd else { throw AggregateStateDecodingError(message: "bytes after the state") }
        count += added
    }
}

extension ExactSum {
    /// Adds a sum written by `ByteWriter.exactSum` (normalised limbs: each adds less than one addition can).
    mutating func merge(reading r: inout ByteReader) throws(AggregateStateDecodingError) {
        positiveInfinities += Int64(bitPattern: try r.varint())
        negativeInfinities += Int64(bitPattern: try r.varint())
        nans += Int64(bitPattern: try r.varint())
        let count = try r.varint()
        guard count <= UInt64(Self.limbCount) else { throw AggregateStateDecodingError(message: "too many limbs") }
        guard count > 0 else { return }
        allocate()
        for _ in 0..<count {
            let i = Int(try r.byte())
            guard i < Self.limbCount else { throw AggregateStateDecodingError(message: "limb \(i) out of range") }
            let v = try r.int64()
            guard i == Self.limbCount - 1 || (0..<(1 << 32)).contains(v) else { throw AggregateStateDecodingError(message: "limb \(i) out of range") }
            storage[i] += v
        }
        pending += 1
        if pending >= 1 << 30 { normalize() }
    }
}

struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func byte(_ b: UInt8) { bytes.append(b) }
    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }
    mutating func int64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func int128(_ v: Int128) {
        int64(Int64(truncatingIfNeeded: v))
        int64(Int64(truncatingIfNeeded: v >> 64))
    }
    /// The normalised non-zero limbs of a sum (none while nothing was summed), carried on a stack copy.
    mutating func exactSum(_ s: ExactSum) {
        varint(UInt64(bitPattern: s.positiveInfinities))
        varint(UInt64(bitPattern: s.negativeInfinities))
        varint(UInt64(bitPattern: s.nans))
        guard !s.storage.isEmpty else {
            varint(0)
            return
        }
        s.withLimbCopy { copy in
            ExactSum.propagate(copy)
            var nonZero = 0
            for i in 0..<ExactSum.limbCount where copy[i] != 0 { nonZero += 1 }
            varint(UInt64(nonZero))
            for i in 0..<ExactSum.limbCount where copy[i] != 0 {
                byte(UInt8(i))
                int64(copy[i])
            }
        }
    }
    mutating func value(_ v: AggregateValue) {
        switch v {
        case .bool(let x): byte(0); byte(x ? 1 : 0)
        case .int(let x): byte(1); int64(x)
        case .double(let x): byte(2); int64(Int64(bitPattern: x.bitPattern))
        case .string(let x): byte(3); varint(UInt64(x.utf8.count)); bytes.append(contentsOf: x.utf8)
        case .bytes(let x): byte(4); varint(UInt64(x.count)); bytes.append(contentsOf: x)
        case .timestamp(let x): byte(5); int64(x)
        }
    }
}

/// Reads the binary form from a slice of bytes (no copy: a tile's states are read in place).
struct ByteReader {
    let bytes: ArraySlice<UInt8>
    var offset: Int
    var atEnd: Bool { offset == bytes.endIndex }

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        offset = bytes.startIndex
    }

    /// The position in the slice, for messages.
    var position: Int { offset - bytes.startIndex }

    mutating func byte() throws(AggregateStateDecodingError) -> UInt8 {
        guard offset < bytes.endIndex else { throw AggregateStateDecodingError(message: "truncated at byte \(position)") }
        defer { offset += 1 }
        return bytes[offset]
    }
    mutating func varint() throws(AggregateStateDecodingError) -> UInt64 {
        var v: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            let b = try byte()
            guard shift < 63 || b <= 1 else { throw AggregateStateDecodingError(message: "varint too long at byte \(position)") }
            v |= UInt64(b & 0x7F) << UInt64(shift)
            if b & 0x80 == 0 { return v }
        }
        throw AggregateStateDecodingError(message: "varint too long at byte \(position)")
    }
    mutating func int64() throws(AggregateStateDecodingError) -> Int64 {
        guard bytes.endIndex - offset >= 8 else { throw AggregateStateDecodingError(message: "truncated at byte \(position)") }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[offset + i]) << UInt64(8 * i) }
        offset += 8
        return Int64(bitPattern: v)
    }
    mutating func int128() throws(AggregateStateDecodingError) -> Int128 {
        let low = try int64(), high = try int64()
        return Int128(high) << 64 | Int128(UInt64(bitPattern: low))
    }
    mutating func exactSum() throws(AggregateStateDecodingError) -> ExactSum {
        var s = ExactSum()
        s.storage = Array(repeating: 0, count: ExactSum.limbCount)
        s.positiveInfinities = Int64(bitPattern: try varint())
        s.negativeInfinities = Int64(bitPattern: try varint())
        s.nans = Int64(bitPattern: try varint())
        let limbs = try varint()
        guard limbs <= UInt64(ExactSum.limbCount) else { throw AggregateStateDecodingError(message: "too many limbs") }
        for _ in 0..<limbs {
            let i = Int(try byte())
            guard i < ExactSum.limbCount else { throw AggregateStateDecodingError(message: "limb \(i) out of range") }
            let v = try int64()
            guard i == ExactSum.limbCount - 1 || (0..<(1 << 32)).contains(v) else {
                throw AggregateStateDecodingError(message: "limb \(i) out of range")
            }
            s.storage[i] = v
        }
        return s
    }
    mutating func value() throws(AggregateStateDecodingError) -> AggregateValue {
        switch try byte() {
        case 0: return .bool(try byte() != 0)
        case 1: return .int(try int64())
        case 2: return .double(Double(bitPattern: UInt64(bitPattern: try int64())))
        case 3, 4:
            let tag = bytes[offset - 1]
            let length = try varint()
            guard length <= UInt64(bytes.endIndex - offset) else { throw AggregateStateDecodingError(message: "truncated value at byte \(position)") }
            let data = Array(bytes[offset..<(offset + Int(length))])
            offset += Int(length)
            if tag == 4 { return .bytes(data) }
            guard let text = String(validating: data, as: UTF8.self) else { throw AggregateStateDecodingError(message: "a string that is not UTF-8") }
            return .string(text)
        case 5: return .timestamp(try int64())
        case let tag: throw AggregateStateDecodingError(message: "unknown value tag \(tag)")
        }
    }
}
