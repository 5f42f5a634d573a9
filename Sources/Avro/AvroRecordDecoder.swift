/// Reads the selected top-level fields of records written with one schema (the writer's), resolved against the
/// reader's schema (the subject's latest) the Avro way: fields are matched by name or alias; a field the writer lacks
/// takes the reader's default; fields the reader does not select are skipped without being built.
///
/// One decoder per writer schema, made once; ``decode(_:)`` is then one pass over the bytes.
public struct AvroRecordDecoder: Sendable {
    /// What to do with each field of the writer's record, in order.
    enum Step: Sendable {
        /// Decode into slot `slot`.
        case read(slot: Int, node: Int)
        /// Skip the value.
        case skip(node: Int)
    }

    let writer: AvroSchema
    let steps: [Step]
    /// The values of selected fields the writer lacks (reader defaults); nil: no default, see ``missing``.
    let defaults: [AvroValue?]
    /// The selected fields neither the writer nor a reader default gives, by name.
    public let missing: [String]

    /// A decoder of `fields` from records written with `writer`, with defaults from `reader`.
    ///
    /// - Throws: ``AvroError`` when the writer's schema is not a record.
    public init(writer: AvroSchema, reader: AvroSchema?, fields: [String]) throws(AvroError) {
        guard let writerFields = writer.recordFields else {
            throw AvroError("the writer's schema is not a record")
        }
        self.writer = writer
        let readerFields = reader?.recordFields ?? []
        var slotOfWriterField: [Int?] = Array(repeating: nil, count: writerFields.count)
        var defaults: [AvroValue?] = Array(repeating: nil, count: fields.count)
        var missing: [String] = []
        for (slot, name) in fields.enumerated() {
            if let w = Self.writerField(for: name, writerFields: writerFields, readerFields: readerFields) {
                if slotOfWriterField[w] == nil { slotOfWriterField[w] = slot }
                continue
            }
            // The writer lacks it: the reader's field of that name gives its default.
            if let readerField = readerFields.first(where: { $0.name == name }), let reader, let value = try? Self.value(of: readerField.defaultValue, node: readerField.type, in: reader) {
                defaults[slot] = value
            } else {
                missing.append(name)
            }
        }
        // A writer field read by two selected names (a name and an alias): the first slot reads it, others copy.
        steps = writerFields.enumerated().map { i, f in slotOfWriterField[i].map { .read(slot: $0, node: f.type) } ?? .skip(node: f.type) }
        self.defaults = defaults
        self.missing = missing
        // Slots read from no writer field and with no default stay null (and are in `missing`).
        _ = fields
        aliasCopies = fields.enumerated().compactMap { slot, name -> (Int, Int)? in
            guard let w = Self.writerField(for: name, writerFields: writerFields, readerFields: readerFields),
                  let first = slotOfWriterField[w], first != slot else { return nil }
            return (slot, first)
        }
        fieldCount = fields.count
    }

    /// The writer's field a selected name reads, as Avro resolves it: the field of that exact name, else one named
    /// by an alias of the reader's field of that name (writer aliases play no part).
    static func writerField(for name: String, writerFields: [AvroSchema.Field], readerFields: [AvroSchema.Field]) -> Int? {
        if let exact = writerFields.firstIndex(where: { $0.name == name }) { return exact }
        guard let aliases = readerFields.first(where: { $0.name == name })?.aliases else { return nil }
        return writerFields.firstIndex { aliases.contains($0.name) }
    }

    let aliasCopies: [(Int, Int)]
    let fieldCount: Int

    /// The selected fields' values of one record (the bytes after the wire format's header).
    ///
    /// - Throws: ``AvroError`` with the byte offset when the bytes do not decode (truncated, an invalid length or
    ///   branch, text that is not UTF-8, bytes left over).
    public func decode(_ bytes: UnsafeRawBufferPointer) throws(AvroError) -> [AvroValue] {
        var out = defaults.map { $0 ?? .null }
        var reader = AvroBinaryReader(bytes)
        for step in steps {
            switch step {
            case .read(let slot, let node): out[slot] = try reader.value(node, in: writer)
            case .skip(let node): try reader.skip(node, in: writer)
            }
        }
        guard reader.position == bytes.count else {
            throw AvroError("\(bytes.count - reader.position) bytes left after the record (at byte \(reader.position))")
        }
        for (slot, from) in aliasCopies { out[slot] = out[from] }
        return out
    }

    /// A default written in JSON as a value of `node` (for a union, of its first branch or the branch it fits).
    static func value(of json: AvroDefault?, node: Int, in schema: AvroSchema) throws(AvroError) -> AvroValue {
        guard let json = json?.json else { throw AvroError("no default") }
        return try value(json, node: node, in: schema, depth: 0)
    }

    static func value(_ json: AvroJSON, node: Int, in schema: AvroSchema, depth: Int) throws(AvroError) -> AvroValue {
        guard depth < 64 else { throw AvroError("default nested too deep") }
        let logical = schema.logicalTypes[node]
        switch (schema.nodes[node], json) {
        case (.reference(let target), _): return try value(json, node: target, in: schema, depth: depth + 1)
        case (.union(let branches), _):
            for branch in branches {
                if let v = try? value(json, node: branch, in: schema, depth: depth + 1) { return v }
            }
            throw AvroError("default fits no branch of the union")
        case (.null, .null): return .null
        case (.boolean, .bool(let b)): return .boolean(b)
        case (.int, .integer(let i)), (.long, .integer(let i)):
            return AvroBinaryReader.interpret(i, logical)
        case (.float, .integer(let i)): return .float(Float(i))
        case (.float, .number(let d)): return .float(Float(d))
        case (.double, .integer(let i)): return .double(Double(i))
        case (.double, .number(let d)): return .double(d)
        case (.string, .string(let s)): return .string(s)
        case (.bytes, .string(let s)), (.fixed, .string(let s)):
            // Bytes defaults are strings of code points 0-255.
            var bytes: [UInt8] = []
            for scalar in s.unicodeScalars {
                guard scalar.value < 256 else { throw AvroError("a bytes default must use code points 0-255") }
                bytes.append(UInt8(scalar.value))
            }
            if case .decimal(_, let scale)? = logical { return .decimal(unscaled: bytes, scale: scale) }
            return .bytes(bytes)
        case (.enumeration(_, let symbols, _), .string(let s)) where symbols.contains(s): return .symbol(s)
        case (.array(let items), .array(let list)):
            var out: [AvroValue] = []
            for item in list { out.append(try value(item, node: items, in: schema, depth: depth + 1)) }
            return .array(out)
        case (.record, .object): return .nested("a record")
        case (.map, .object): return .nested("a map")
        default:
            throw AvroError("the default does not fit its type")
        }
    }
}

/// The Avro binary encoding, read from a buffer: zig-zag varints, IEEE floats (little-endian), length-prefixed bytes
/// and strings, blocked arrays and maps, union branch indices.
struct AvroBinaryReader {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Arrays nest at most this deep (a recursive schema cannot make the decoder recurse without bound).
    static let maxDepth = 64

    mutating func long() throws(AvroError) -> Int64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = position
        while true {
            guard position < bytes.count else { throw AvroError("truncated: a number runs past the end (at byte \(start))") }
            let byte = bytes[position]
            position += 1
            guard shift < 64, !(shift == 63 && byte > 1) else { throw AvroError("a number longer than 64 bits (at byte \(start))") }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        return Int64(bitPattern: (result >> 1) ^ (0 &- (result & 1)))
    }

    mutating func int() throws(AvroError) -> Int64 {
        let start = position
        let v = try long()
        guard v >= Int64(Int32.min) && v <= Int64(Int32.max) else { throw AvroError("an int out of the 32-bit range (at byte \(start))") }
        return v
    }

    mutating func take(_ n: Int) throws(AvroError) -> UnsafeRawBufferPointer {
        guard n >= 0, n <= bytes.count - position else {
            throw AvroError("truncated: \(n) bytes wanted, \(bytes.count - position) left (at byte \(position))")
        }
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
    }

    mutating func length() throws(AvroError) -> Int {
        let start = position
        let n = try long()
        guard n >= 0 else { throw AvroError("a negative length of \(n) (at byte \(start))") }
        guard n <= Int64(bytes.count - position) else {
            throw AvroError("truncated: a length of \(n) bytes, with \(bytes.count - position) left (at byte \(start))")
        }
        return Int(n)
    }

    mutating func string() throws(AvroError) -> String {
        let start = position
        let raw = try take(try length())
        guard let text = String(validating: raw, as: UTF8.self) else { throw AvroError("a string that is not UTF-8 (at byte \(start))") }
        return text
    }

    mutating func branch(_ count: Int) throws(AvroError) -> Int {
        let start = position
        let index = try long()
        guard index >= 0, index < Int64(count) else {
            throw AvroError("union branch \(index) of \(count) (at byte \(start))")
        }
        return Int(index)
    }

    /// A whole number read as its logical type says.
    static func interpret(_ v: Int64, _ logical: AvroSchema.LogicalType?) -> AvroValue {
        switch logical {
        case .timestampMillis?, .localTimestampMillis?: return .timestamp(saturating(v, 1000))
        case .timestampMicros?, .localTimestampMicros?: return .timestamp(v)
        case .timestampNanos?, .localTimestampNanos?:
            let q = v / 1000
            return .timestamp(v % 1000 < 0 ? q - 1 : q)
        case .date?: return .timestamp(saturating(v, 86_400_000_000))
        default: return .long(v)
        }
    }

    static func saturating(_ v: Int64, _ factor: Int64) -> Int64 {
        let (product, overflow) = v.multipliedReportingOverflow(by: factor)
        return overflow ? (v < 0 ? .min : .max) : product
    }

    mutating func value(_ node: Int, in schema: AvroSchema, depth: Int = 0) throws(AvroError) -> AvroValue {
        guard depth < Self.maxDepth else { throw AvroError("values nested more than \(Self.maxDepth) deep") }
        let logical = schema.logicalTypes[node]
        switch schema.nodes[node] {
        case .null: return .null
        case .boolean:
            let b = try take(1)[0]
            guard b <= 1 else { throw AvroError("a boolean byte of \(b) (at byte \(position - 1))") }
            return .boolean(b == 1)
        case .int: return Self.interpret(try int(), logical)
        case .long: return Self.interpret(try long(), logical)
        case .float:
            let raw = try take(4)
            return .float(Float(bitPattern: UInt32(raw[0]) | UInt32(raw[1]) << 8 | UInt32(raw[2]) << 16 | UInt32(raw[3]) << 24))
        case .double:
            let raw = try take(8)
            var bits: UInt64 = 0
            for k in 0..<8 { bits |= UInt64(raw[k]) << (8 * UInt64(k)) }
            return .double(Double(bitPattern: bits))
        case .bytes:
            let raw = Array(try take(try length()))
            if case .decimal(_, let scale)? = logical {
                guard raw.count <= 32 else { throw AvroError("a decimal of \(raw.count) bytes, more than 76 digits hold (at byte \(position - raw.count))") }
                return .decimal(unscaled: raw, scale: scale)
            }
            return .bytes(raw)
        case .string:
            return .string(try string())
        case .fixed(_, let size):
            let raw = Array(try take(size))
            if case .decimal(_, let scale)? = logical { return .decimal(unscaled: raw, scale: scale) }
            if case .uuid? = logical { return .string(Self.uuidText(raw)) }
            return .bytes(raw)
        case .enumeration(_, let symbols, _):
            return .symbol(symbols[try branch(symbols.count)])
        case .union(let branches):
            return try value(branches[try branch(branches.count)], in: schema, depth: depth + 1)
        case .reference(let target):
            return try value(target, in: schema, depth: depth + 1)
        case .array(let items):
            var out: [AvroValue] = []
            while true {
                var count = try long()
                if count == 0 { break }
                if count < 0 {
                    count = count == .min ? .max : -count
                    _ = try long()  // the block's size in bytes
                }
                // Items past the end fail as they are read; items of no bytes (nulls, empty records) are bounded here.
                guard count <= Self.maxItems - Int64(out.count) else {
                    throw AvroError("an array of more than \(Self.maxItems) items (at byte \(position))")
                }
                for _ in 0..<count { out.append(try value(items, in: schema, depth: depth + 1)) }
            }
            return .array(out)
        case .record:
            try skip(node, in: schema, depth: depth)
            return .nested("a record")
        case .map:
            try skip(node, in: schema, depth: depth)
            return .nested("a map")
        }
    }

    /// The most items an array or map may hold (its blocks together): bounds the work of items that take no bytes.
    static let maxItems: Int64 = 1 << 24

    mutating func skip(_ node: Int, in schema: AvroSchema, depth: Int = 0) throws(AvroError) {
        guard depth < Self.maxDepth else { throw AvroError("values nested more than \(Self.maxDepth) deep") }
        switch schema.nodes[node] {
        case .null: return
        case .boolean: _ = try take(1)
        case .int: _ = try int()
        case .long: _ = try long()
        case .float: _ = try take(4)
        case .double: _ = try take(8)
        case .bytes, .string: _ = try take(try length())
        case .fixed(_, let size): _ = try take(size)
        case .enumeration(_, let symbols, _): _ = try branch(symbols.count)
        case .union(let branches): try skip(branches[try branch(branches.count)], in: schema, depth: depth + 1)
        case .reference(let target): try skip(target, in: schema, depth: depth + 1)
        case .record(_, let fields):
            for f in fields { try skip(f.type, in: schema, depth: depth + 1) }
        case .array(let items), .map(let items):
            let isMap: Bool
            if case .map = schema.nodes[node] { isMap = true } else { isMap = false }
            var total: Int64 = 0
            while true {
                var count = try long()
                if count == 0 { break }
                if count < 0 {
                    let size = try long()
                    // A block with its size can be skipped whole.
                    guard size >= 0 else { throw AvroError("a negative block size (at byte \(position))") }
                    _ = try take(Int(clamping: size))
                    continue
                }
                total += count
                guard total <= Self.maxItems else { throw AvroError("more than \(Self.maxItems) items (at byte \(position))") }
                while count > 0 {
                    if isMap { _ = try take(try length()) }
                    try skip(items, in: schema, depth: depth + 1)
                    count -= 1
                }
            }
        }
    }

    static func uuidText(_ raw: [UInt8]) -> String {
        let hex = raw.map { b -> String in
            let s = String(b, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
        guard hex.count == 32 else { return hex }
        let c = Array(hex)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
    }
}
