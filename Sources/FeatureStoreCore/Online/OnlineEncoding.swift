public import Columnar
import Foundation

/// A feature or key value as the online store holds it.
public enum OnlineValue: Sendable, Hashable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case float(Float)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    /// Microseconds since the epoch, UTC.
    case timestamp(Int64)
    case list([OnlineValue])

    /// Equal when they encode to the same bytes: strings by their UTF-8 bytes (not Swift's canonical equivalence, under
    /// which "é" and "e\u{301}" are equal: a key compares as bytes everywhere), floats by their bits (a NaN equals
    /// itself, -0.0 is not 0.0). What "training equals serving" means, and how entities are grouped.
    public static func == (a: OnlineValue, b: OnlineValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)), (.timestamp(let x), .timestamp(let y)): return x == y
        case (.float(let x), .float(let y)): return x.bitPattern == y.bitPattern
        case (.double(let x), .double(let y)): return x.bitPattern == y.bitPattern
        case (.string(let x), .string(let y)): return x.utf8.elementsEqual(y.utf8)
        case (.bytes(let x), .bytes(let y)): return x == y
        case (.list(let x), .list(let y)): return x == y
        default: return false
        }
    }

    /// Hashes what ``==`` compares: strings by their UTF-8 bytes, floats by their bits.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0 as UInt8)
        case .bool(let x): hasher.combine(1 as UInt8); hasher.combine(x)
        case .int(let x): hasher.combine(2 as UInt8); hasher.combine(x)
        case .float(let x): hasher.combine(3 as UInt8); hasher.combine(x.bitPattern)
        case .double(let x): hasher.combine(4 as UInt8); hasher.combine(x.bitPattern)
        case .string(let x):
            hasher.combine(5 as UInt8)
            var text = x
            text.withUTF8 { utf8 in
                hasher.combine(utf8.count)
                hasher.combine(bytes: UnsafeRawBufferPointer(utf8))
            }
        case .bytes(let x): hasher.combine(6 as UInt8); hasher.combine(x)
        case .timestamp(let x): hasher.combine(7 as UInt8); hasher.combine(x)
        case .list(let x): hasher.combine(8 as UInt8); hasher.combine(x)
        }
    }

    /// The value as text: strings as they are, bytes in hex, timestamps in microseconds with `us`, lists in brackets.
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .int(let i): return "\(i)"
        case .float(let f): return "\(f)"
        case .double(let d): return "\(d)"
        case .string(let s): return s
        case .bytes(let b): return b.map { String(format: "%02x", $0) }.joined()
        case .timestamp(let t): return "\(t)us"
        case .list(let l): return "[" + l.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

/// The compact, stable binary encodings of the online store.
///
/// - Entity key: for each join key in order, its value: int keys as 8 bytes big-endian with the sign bit flipped
///   (so byte order is numeric order), strings and bytes as a varint length and the bytes. The same key always
///   encodes to the same bytes, in any process, on any machine.
/// - Feature row: for each feature of the view in order, a tag byte (0 null, else the value's kind) and the value.
public enum OnlineEncoding {
    /// The entity key of `values` (the join key values in the view's join key order) as stable bytes.
    ///
    /// - Throws: ``OnlineStoreError`` for a value that cannot be a key part (a float, a list).
    public static func encodeKey(_ values: [OnlineValue]) throws(OnlineStoreError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 9)
        for v in values {
            switch v {
            case .int(let i):
                var be = (UInt64(bitPattern: i) ^ (1 << 63)).bigEndian
                withUnsafeBytes(of: &be) { out.append(contentsOf: $0) }
            case .string(let s):
                varint(UInt64(s.utf8.count), &out)
                out.append(contentsOf: s.utf8)
            case .bytes(let b):
                varint(UInt64(b.count), &out)
                out.append(contentsOf: b)
            default:
                throw OnlineStoreError(.invalidRequest, "a join key value must be an integer, a string or bytes, not \(v)")
            }
        }
        return out
    }

    static func varint(_ value: UInt64, _ out: inout [UInt8]) {
        var v = value
        while v >= 0x80 { out.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        out.append(UInt8(v))
    }

    private enum Tag: UInt8 { case null = 0, bool = 1, int = 2, float = 3, double = 4, string = 5, bytes = 6, timestamp = 7, list = 8 }

    /// A feature row (values in the view's feature order) in the store's compact binary encoding.
    public static func encodeRow(_ values: [OnlineValue]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 9)
        for v in values { encode(v, &out) }
        return out
    }

    /// The tie rule of rows (one rule for the join, materialize, streams, pushes and every store): of two rows of one
    /// entity with equal event and created times, the one whose encoded row (``encodeRow(_:)``) is greater in byte
    /// order wins. Whether `a`'s encoded row orders below `b`'s.
    public static func rowPrecedes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.lexicographicallyPrecedes(b)
    }

    /// Whether a row replaces the one a store holds for its entity: a greater event time, or the same and a greater
    /// created time, or both the same and a greater encoded row (``rowPrecedes(_:_:)``). Every store keeps this rule
    /// (SQLite in its upsert, Redis in its script), so the same rows give the same row in any order of arrival.
    public static func replaces(event: Int64, created: Int64, row: [UInt8], stored: (event: Int64, created: Int64, row: [UInt8])) -> Bool {
        if event != stored.event { return event > stored.event }
        if created != stored.created { return created > stored.created }
        return rowPrecedes(stored.row, row)
    }

    /// ``rowPrecedes(_:_:)`` for rows `a` and `b` of feature columns (the view's features, in order, read as the
    /// online store would store them): what an offline engine hands ``LatestRowIndex`` as `contentPrecedes`.
    public static func rowOrder(features: [Column], types: [ValueType]) -> (Int, Int) -> Bool {
        { a, b in
            let x = encodeRow(zip(features, types).map { $0.onlineValue(at: a, as: $1) })
            let y = encodeRow(zip(features, types).map { $0.onlineValue(at: b, as: $1) })
            return rowPrecedes(x, y)
        }
    }

    private static func encode(_ v: OnlineValue, _ out: inout [UInt8]) {
        func raw<T>(_ x: T) { withUnsafeBytes(of: x) { out.append(contentsOf: $0) } }
        switch v {
        case .null: out.append(Tag.null.rawValue)
        case .bool(let b): out.append(Tag.bool.rawValue); out.append(b ? 1 : 0)
        case .int(let i): out.append(Tag.int.rawValue); raw(i.littleEndian)
        case .float(let f): out.append(Tag.float.rawValue); raw(f.bitPattern.littleEndian)
        case .double(let d): out.append(Tag.double.rawValue); raw(d.bitPattern.littleEndian)
        case .string(let s): out.append(Tag.string.rawValue); varint(UInt64(s.utf8.count), &out); out.append(contentsOf: s.utf8)
        case .bytes(let b): out.append(Tag.bytes.rawValue); varint(UInt64(b.count), &out); out.append(contentsOf: b)
        case .timestamp(let t): out.append(Tag.timestamp.rawValue); raw(t.littleEndian)
        case .list(let l):
            out.append(Tag.list.rawValue)
            varint(UInt64(l.count), &out)
            for e in l { encode(e, &out) }
        }
    }

    /// Decodes `count` values; throws on bytes that are not a row of this encoding.
    /// The `count` values of a row written by ``encodeRow(_:)``.
    ///
    /// - Throws: ``OnlineStoreError`` naming what is wrong when the bytes are not such a row (truncated, corrupt).
    public static func decodeRow(_ bytes: [UInt8], count: Int) throws(OnlineStoreError) -> [OnlineValue] {
        var pos = 0
        var out: [OnlineValue] = []
        out.reserveCapacity(count)
        for _ in 0..<count { out.append(try decode(bytes, &pos, depth: 0)) }
        guard pos == bytes.count else { throw OnlineStoreError(.corrupt, "stored row has \(bytes.count - pos) bytes left over: the view's schema changed without migration") }
        return out
    }

    private static func decode(_ b: [UInt8], _ pos: inout Int, depth: Int) throws(OnlineStoreError) -> OnlineValue {
        func need(_ n: Int) throws(OnlineStoreError) {
            guard n >= 0, pos + n <= b.count else { throw OnlineStoreError(.corrupt, "stored row is truncated") }
        }
        func load<T: FixedWidthInteger>(_ type: T.Type) throws(OnlineStoreError) -> T {
            try need(MemoryLayout<T>.size)
            var v: T = 0
            for i in 0..<MemoryLayout<T>.size { v |= T(b[pos + i]) << (8 * i) }
            pos += MemoryLayout<T>.size
            return v
        }
        func length() throws(OnlineStoreError) -> Int {
            var v: UInt64 = 0, shift: UInt64 = 0
            while true {
                try need(1)
                let byte = b[pos]; pos += 1
                v |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { break }
                shift += 7
                guard shift < 64 else { throw OnlineStoreError(.corrupt, "stored row has a bad length") }
            }
            guard v <= UInt64(b.count) else { throw OnlineStoreError(.corrupt, "stored row has a bad length") }
            return Int(v)
        }
        try need(1)
        let tag = b[pos]
        pos += 1
        switch Tag(rawValue: tag) {
        case .null: return .null
        case .bool: try need(1); defer { pos += 1 }; return .bool(b[pos] != 0)
        case .int: return .int(Int64(bitPattern: try load(UInt64.self)))
        case .float: return .float(Float(bitPattern: try load(UInt32.self)))
        case .double: return .double(Double(bitPattern: try load(UInt64.self)))
        case .string:
            let n = try length(); try need(n)
            defer { pos += n }
            return .string(String(decoding: b[pos..<(pos + n)], as: UTF8.self))
        case .bytes:
            let n = try length(); try need(n)
            defer { pos += n }
            return .bytes(Array(b[pos..<(pos + n)]))
        case .timestamp: return .timestamp(Int64(bitPattern: try load(UInt64.self)))
        case .list:
            guard depth < 4 else { throw OnlineStoreError(.corrupt, "stored row nests lists too deeply") }
            let n = try length()
            var items: [OnlineValue] = []
            for _ in 0..<n { items.append(try decode(b, &pos, depth: depth + 1)) }
            return .list(items)
        case nil: throw OnlineStoreError(.corrupt, "stored row has an unknown value tag \(tag)")
        }
    }
}
