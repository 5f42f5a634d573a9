/// Reads the Thrift compact protocol (the encoding of Parquet's footer and page headers).
///
/// Every read is bounds-checked, container sizes are checked against the bytes left, and nesting is limited,
/// so corrupt input throws instead of trapping or allocating without bound.
struct ThriftCompactReader {
    enum FieldType: UInt8 {
        case stop = 0, boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, double = 7
        case binary = 8, list = 9, set = 10, map = 11, structure = 12
    }

    let buffer: UnsafeRawBufferPointer
    private(set) var position: Int
    private var depth = 0
    private static let maxDepth = 64

    init(_ buffer: UnsafeRawBufferPointer, position: Int = 0) {
        self.buffer = buffer
        self.position = position
    }

    var remaining: Int { buffer.count - position }

    mutating func byte() throws(DecodeError) -> UInt8 {
        guard position < buffer.count else { throw DecodeError("Thrift data ends unexpectedly at byte \(position)") }
        defer { position += 1 }
        return buffer[position]
    }

    mutating func varint() throws(DecodeError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift >= 64 { throw DecodeError("Thrift varint longer than 10 bytes at byte \(position)") }
        }
    }

    mutating func zigzag() throws(DecodeError) -> Int64 {
        let v = try varint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    mutating func i32() throws(DecodeError) -> Int32 {
        let v = try zigzag()
        guard let r = Int32(exactly: v) else { throw DecodeError("Thrift i32 out of range (\(v)) at byte \(position)") }
        return r
    }

    mutating func i64() throws(DecodeError) -> Int64 { try zigzag() }

    mutating func double() throws(DecodeError) -> Double {
        guard remaining >= 8 else { throw DecodeError("Thrift data ends inside a double at byte \(position)") }
        var bits: UInt64 = 0
        for i in 0..<8 { bits |= UInt64(buffer[position + i]) << (8 * UInt64(i)) }
        position += 8
        return Double(bitPattern: bits)
    }

    mutating func binary() throws(DecodeError) -> [UInt8] {
        let n = try varint()
        guard n <= UInt64(remaining) else {
            throw DecodeError("Thrift binary of \(n) bytes runs past the end of its data (\(remaining) bytes left) at byte \(position)")
        }
        let start = position
        position += Int(n)
        return Array(buffer[start..<position])
    }

    mutating func string() throws(DecodeError) -> String {
        String(decoding: try binary(), as: UTF8.self)
    }

    /// A boolean field's value, carried by its type code.
    func bool(_ type: FieldType) throws(DecodeError) -> Bool {
        switch type {
        case .boolTrue: return true
        case .boolFalse: return false
        default: throw DecodeError("Thrift field of type \(type) where a boolean was expected")
        }
    }

    /// Reads a struct: `body` is called for each field with its id and type, and returns whether it consumed
    /// the value; unconsumed (unknown) fields are skipped.
    mutating func readStruct(_ body: (inout ThriftCompactReader, Int16, FieldType) throws(DecodeError) -> Bool) throws(DecodeError) {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw DecodeError("Thrift structures nested deeper than \(Self.maxDepth)") }
        var lastID: Int16 = 0
        while true {
            let header = try byte()
            guard let type = FieldType(rawValue: header & 0x0f) else {
                throw DecodeError("unknown Thrift field type \(header & 0x0f) at byte \(position - 1)")
            }
            if type == .stop { return }
            let delta = Int16(header >> 4)
            let id: Int16
            if delta == 0 {
                let raw = try zigzag()
                guard let v = Int16(exactly: raw) else { throw DecodeError("Thrift field id out of range at byte \(position)") }
                id = v
            } else {
                id = lastID &+ delta
            }
            lastID = id
            if try !body(&self, id, type) { try skip(type) }
        }
    }

    /// A list header: the element type and count (checked against the bytes left: each element takes at least one byte,
    /// except booleans and empty structs, bounded the same way).
    mutating func listHeader() throws(DecodeError) -> (FieldType, Int) {
        let header = try byte()
        guard let type = FieldType(rawValue: header & 0x0f) else { throw DecodeError("unknown Thrift list element type at byte \(position - 1)") }
        var count = Int(header >> 4)
        if count == 15 {
            let n = try varint()
            guard n <= UInt64(remaining) else { throw DecodeError("Thrift list of \(n) elements is larger than its data at byte \(position)") }
            count = Int(n)
        }
        guard count <= remaining else { throw DecodeError("Thrift list of \(count) elements is larger than its data at byte \(position)") }
        return (type, count)
    }

    mutating func list<T>(_ element: (inout ThriftCompactReader, FieldType) throws(DecodeError) -> T) throws(DecodeError) -> [T] {
        let (type, count) = try listHeader()
        var out: [T] = []
        out.reserveCapacity(count)
        for _ in 0..<count { out.append(try element(&self, type)) }
        return out
    }

    /// Skips a value of `type`.
    mutating func skip(_ type: FieldType) throws(DecodeError) {
        switch type {
        case .stop, .boolTrue, .boolFalse: return
        case .byte: _ = try byte()
        case .i16, .i32, .i64: _ = try varint()
        case .double:
            guard remaining >= 8 else { throw DecodeError("Thrift data ends inside a double") }
            position += 8
        case .binary:
            let n = try varint()
            guard n <= UInt64(remaining) else { throw DecodeError("Thrift binary runs past the end of its data at byte \(position)") }
            position += Int(n)
        case .list, .set:
            let (elementType, count) = try listHeader()
            for _ in 0..<count {
                // Booleans in lists take one byte each.
                if elementType == .boolTrue || elementType == .boolFalse { _ = try byte() } else { try skip(elementType) }
            }
        case .map:
            let n = try varint()
            guard n <= UInt64(remaining) else { throw DecodeError("Thrift map larger than its data at byte \(position)") }
            if n == 0 { return }
            let types = try byte()
            guard let k = FieldType(rawValue: types >> 4), let v = FieldType(rawValue: types & 0x0f) else {
                throw DecodeError("unknown Thrift map types at byte \(position - 1)")
            }
            for _ in 0..<n {
                try skip(k)
                try skip(v)
            }
        case .structure:
            try readStruct { _, _, _ throws(DecodeError) in false }
        }
    }
}
