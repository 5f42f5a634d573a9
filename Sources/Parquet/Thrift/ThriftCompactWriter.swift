/// Writes the Thrift compact protocol.
struct ThriftCompactWriter {
    typealias FieldType = ThriftCompactReader.FieldType

    private(set) var bytes: [UInt8] = []
    private var lastID: [Int16] = [0]

    init() {}

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func zigzag(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func writeHeader(_ id: Int16, _ type: FieldType) {
        let delta = id - lastID[lastID.count - 1]
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            zigzag(Int64(id))
        }
        lastID[lastID.count - 1] = id
    }

    mutating func i32(_ id: Int16, _ value: Int32) {
        writeHeader(id, .i32)
        zigzag(Int64(value))
    }

    mutating func i64(_ id: Int16, _ value: Int64) {
        writeHeader(id, .i64)
        zigzag(value)
    }

    mutating func bool(_ id: Int16, _ value: Bool) {
        writeHeader(id, value ? .boolTrue : .boolFalse)
    }

    mutating func binary(_ id: Int16, _ value: [UInt8]) {
        writeHeader(id, .binary)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func string(_ id: Int16, _ value: String) {
        binary(id, Array(value.utf8))
    }

    /// A nested struct field; `body` writes its fields.
    mutating func structure(_ id: Int16, _ body: (inout ThriftCompactWriter) -> Void) {
        writeHeader(id, .structure)
        lastID.append(0)
        body(&self)
        stop()
        lastID.removeLast()
    }

    /// A list field of `count` elements of `type`; `body` writes the elements (use the element writers).
    mutating func list(_ id: Int16, _ type: FieldType, count: Int, _ body: (inout ThriftCompactWriter) -> Void) {
        writeHeader(id, .list)
        if count < 15 {
            bytes.append(UInt8(count) << 4 | type.rawValue)
        } else {
            bytes.append(0xf0 | type.rawValue)
            varint(UInt64(count))
        }
        body(&self)
    }

    /// A struct as a list element.
    mutating func element(_ body: (inout ThriftCompactWriter) -> Void) {
        lastID.append(0)
        body(&self)
        stop()
        lastID.removeLast()
    }

    mutating func appendRaw(_ byte: UInt8) {
        bytes.append(byte)
    }

    mutating func appendRaw(_ data: [UInt8]) {
        bytes.append(contentsOf: data)
    }

    mutating func elementI32(_ value: Int32) { zigzag(Int64(value)) }

    mutating func elementString(_ value: String) {
        varint(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    /// Ends the current struct.
    mutating func stop() {
        bytes.append(0)
    }
}
