public import Columnar

/// Codes of join keys: the feature side builds them, the entity side looks them up, so equal keys get equal codes
/// and there are no false matches (strings are compared byte for byte, never by hash alone).
public enum KeyCode {
    /// A row whose key has a null part: it never matches.
    public static let null = Int64.min
    /// An entity key the feature side never saw: it never matches.
    public static let absent = Int64.min + 1
}

/// An open-addressing hash table from Int64 to Int32 (no deletions), for key codes and groups.
struct Int64Table: Sendable {
    private var keys: [Int64]
    private var values: [Int32]
    private var mask: Int
    private(set) var count = 0
    private static let empty = Int64.min

    init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [Int64](repeating: Self.empty, count: size)
        values = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    @inline(__always)
    private static func slot(_ key: Int64, _ mask: Int) -> Int {
        // Fibonacci hashing: good spread for sequential ids.
        Int(truncatingIfNeeded: (UInt64(bitPattern: key) &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    /// The value for `key`, inserting `next()` when absent.
    @inline(__always)
    mutating func insert(_ key: Int64, _ make: () -> Int32) -> Int32 {
        if (count + 1) * 2 > keys.count { grow() }
        var i = Self.slot(key, mask)
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == Self.empty {
                let v = make()
                keys[i] = key
                values[i] = v
                count += 1
                return v
            }
            i = (i + 1) & mask
        }
    }

    @inline(__always)
    func find(_ key: Int64) -> Int32? {
        var i = Self.slot(key, mask)
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == Self.empty { return nil }
            i = (i + 1) & mask
        }
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = [Int64](repeating: Self.empty, count: oldKeys.count * 2)
        values = [Int32](repeating: -1, count: oldKeys.count * 2)
        mask = keys.count - 1
        count = 0
        for (k, v) in zip(oldKeys, oldValues) where k != Self.empty {
            _ = insert(k) { v }
        }
    }
}

/// Interns byte strings (string and binary keys) to dense ids, comparing bytes exactly.
struct BytesInterner: Sendable {
    private var store = BytesBuffer()
    private var slots: [Int32]
    private var hashes: [UInt64] = []
    private var mask: Int

    init() {
        slots = [Int32](repeating: -1, count: 1024)
        mask = 1023
    }

    var count: Int { store.count }

    @inline(__always)
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h ^ (h >> 29)
    }

    private func equal(_ id: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
        store.withBytes(at: id) { $0.elementsEqual(bytes) }
    }

    /// The id of `bytes`, adding it when `insert` is set; nil when absent and not inserted.
    mutating func id(of bytes: UnsafeRawBufferPointer, insert: Bool) -> Int64? {
        let h = Self.hash(bytes)
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slots[i]
            if s < 0 {
                guard insert else { return nil }
                let id = Int32(store.count)
                store.append(bytes)
                hashes.append(h)
                slots[i] = id
                if store.count * 2 > slots.count { rehash() }
                return Int64(id)
            }
            if hashes[Int(s)] == h, equal(Int(s), bytes) { return Int64(s) }
            i = (i + 1) & mask
        }
    }

    private mutating func rehash() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        mask = slots.count - 1
        for (id, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = Int32(id)
        }
    }
}

/// Builds key codes for the rows of one side, column by column; composite keys pair the codes of their parts.
///
/// Integer keys are their own codes (interned instead when the feature side holds Int64.min or Int64.min + 1, the
/// sentinels' values); string and binary keys are interned byte for byte; a composite key's code pairs the codes of
/// its parts. A key with a null part gets ``KeyCode/null``.
public struct KeyEncoder: Sendable {
    private var interners: [BytesInterner]
    /// One table per extra key part: (code so far, next part) -> combined code.
    private var pairs: [[PairKey: Int64]]
    /// Per part: whether its 64-bit integers are interned (their bytes) rather than their own codes, decided by the
    /// first `insert` call: when the feature side holds one of the two sentinel values (``KeyCode``), so that
    /// Int64.min and Int64.min + 1 are keys like any other (the online store encodes them like any other).
    private var internsIntegers: [Bool?]

    /// An encoder for keys of `parts` columns.
    public init(parts: Int) {
        interners = Array(repeating: BytesInterner(), count: parts)
        pairs = Array(repeating: [:], count: max(0, parts - 1))
        internsIntegers = Array(repeating: nil, count: parts)
    }

    /// Codes for the rows of `columns` (one per key part). With `insert` (the feature side) new keys get codes;
    /// without (the entity side), unseen keys get ``KeyCode/absent``.
    ///
    /// - Parameters:
    ///   - columns: one column per key part, in the join keys' order (int32, int64, string or binary).
    ///   - insert: whether keys not seen before get new codes.
    /// - Returns: one code per row.
    public mutating func encode(_ columns: [Column], insert: Bool) -> [Int64] {
        let rows = columns.first?.count ?? 0
        var codes = [Int64](repeating: 0, count: rows)
        for (part, column) in columns.enumerated() {
            let partCodes = code(column, part: part, insert: insert)
            if part == 0 {
                codes = partCodes
                continue
            }
            for r in 0..<rows {
                let a = codes[r], b = partCodes[r]
                if a == KeyCode.null || b == KeyCode.null { codes[r] = KeyCode.null; continue }
                if a == KeyCode.absent || b == KeyCode.absent { codes[r] = KeyCode.absent; continue }
                codes[r] = combine(a, b, level: part - 1, insert: insert)
            }
        }
        return codes
    }

    private mutating func combine(_ a: Int64, _ b: Int64, level: Int, insert: Bool) -> Int64 {
        let key = PairKey(a, b)
        if let c = pairs[level][key] { return c }
        guard insert else { return KeyCode.absent }
        let c = Int64(pairs[level].count)
        pairs[level][key] = c
        return c
    }

    /// Whether `bytes` are valid UTF-8 (ASCII without allocating).
    static func isUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if !bytes.contains(where: { $0 >= 0x80 }) { return true }
        return String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) != nil
    }

    private mutating func code(_ column: Column, part: Int, insert: Bool) -> [Int64] {
        let rows = column.count
        var out = [Int64](repeating: 0, count: rows)
        switch column.values {
        case .int32(let v):
            // Never a sentinel; interned (as their int64 bytes) when the part's 64-bit keys are, to get the same codes.
            if internsIntegers[part] == true {
                for r in 0..<rows {
                    var value = Int64(v[r]).bigEndian
                    out[r] = withUnsafeBytes(of: &value) { interners[part].id(of: $0, insert: insert) } ?? KeyCode.absent
                }
            } else {
                if insert, internsIntegers[part] == nil { internsIntegers[part] = false }
                for r in 0..<rows { out[r] = Int64(v[r]) }
            }
        case .int64(let v):
            let valid = column.validity
            if insert, internsIntegers[part] == nil {
                internsIntegers[part] = v.indices.contains { (v[$0] == KeyCode.null || v[$0] == KeyCode.absent) && (valid?[$0] ?? true) }
            }
            if internsIntegers[part] == true {
                for r in 0..<rows {
                    var value = v[r].bigEndian
                    out[r] = withUnsafeBytes(of: &value) { interners[part].id(of: $0, insert: insert) } ?? KeyCode.absent
                }
            } else {
                out = v
                // Not interned: the feature side holds neither sentinel value, so an entity key equal to one is absent.
                if !insert {
                    for r in 0..<rows where v[r] == KeyCode.null || v[r] == KeyCode.absent { out[r] = KeyCode.absent }
                }
            }
        case .bytes(let b):
            // A string key that is not UTF-8 is no key (as a null part): the online store keys strings as text, where
            // such bytes cannot be written, so training must not match them either.
            let text = column.type == .string
            for r in 0..<rows {
                out[r] = b.withBytes(at: r) { bytes -> Int64? in
                    if text, !Self.isUTF8(bytes) { return KeyCode.null }
                    return interners[part].id(of: bytes, insert: insert)
                } ?? KeyCode.absent
            }
        default:
            // Other types are rejected before encoding; nothing matches.
            for r in 0..<rows { out[r] = KeyCode.absent }
        }
        if let validity = column.validity {
            for r in 0..<rows where !validity[r] { out[r] = KeyCode.null }
        }
        return out
    }
}

/// Two key codes as one dictionary key.
struct PairKey: Hashable, Sendable {
    let a: Int64, b: Int64
    init(_ a: Int64, _ b: Int64) { self.a = a; self.b = b }
}
