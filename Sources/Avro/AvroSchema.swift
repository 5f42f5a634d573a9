import Foundation
public import ErrorChain

/// An Avro schema, parsed from its JSON form (the Avro 1.11 specification): primitive types, records, enums, arrays,
/// maps, unions and fixed, with logical types and named types referenced by their full names (recursion included).
///
/// Knows nothing of features: ``AvroRecordDecoder`` reads binary data written with a schema.
public struct AvroSchema: Sendable, Hashable {
    /// A node of the schema's tree; children are indices into ``nodes`` (so a named type can refer to itself).
    public indirect enum Node: Sendable, Hashable {
        case null, boolean, int, long, float, double, bytes, string
        /// A record: its full name and fields.
        case record(name: String, fields: [Field])
        /// An enum: its full name, symbols and the default symbol for a reader that lacks the writer's symbol.
        case enumeration(name: String, symbols: [String], defaultSymbol: String?)
        /// An array of the node at `items`.
        case array(items: Int)
        /// A map from strings to the node at `values`.
        case map(values: Int)
        /// A union of the nodes at these indices.
        case union([Int])
        /// Fixed-size bytes.
        case fixed(name: String, size: Int)
        /// The named type at this index, referred to by name (recursion, or a use after the definition).
        case reference(Int)
    }

    /// A logical type written on a node (`{"type": "long", "logicalType": "timestamp-millis"}`).
    public enum LogicalType: Sendable, Hashable {
        case timestampMillis, timestampMicros, timestampNanos
        case localTimestampMillis, localTimestampMicros, localTimestampNanos
        case date, timeMillis, timeMicros, uuid
        /// An exact decimal: the unscaled value in two's-complement big-endian bytes, times 10^-scale.
        case decimal(precision: Int, scale: Int)
    }

    /// A field of a record.
    public struct Field: Sendable, Hashable {
        /// The field's name.
        public var name: String
        /// Other names it had (a reader field matches a writer field by name or alias).
        public var aliases: [String]
        /// Its type: an index into ``AvroSchema/nodes``.
        public var type: Int
        /// Its default, as JSON, for a reader whose writer lacks the field.
        public var defaultValue: AvroDefault?
    }

    /// Every node; ``root`` is the top.
    public private(set) var nodes: [Node] = []
    /// The logical type of each node, where one is written (and valid for its node).
    public private(set) var logicalTypes: [Int: LogicalType] = [:]
    /// The index of the top node.
    public private(set) var root = 0

    /// The schema of `json`, the text of an Avro schema.
    ///
    /// - Throws: ``AvroError`` naming what is wrong (not JSON, an unknown type, a reference to an undefined name).
    public init(parsing json: String) throws(AvroError) {
        let object: AvroJSON
        do {
            object = try JSONDecoder().decode(AvroJSON.self, from: Data(json.utf8))
        } catch {
            throw AvroError("the schema is not JSON", cause: error)
        }
        var parser = Parser()
        root = try parser.parse(object, namespace: nil)
        try parser.checkReferences()
        nodes = parser.nodes
        logicalTypes = parser.logical
    }

    /// The top node.
    public var rootNode: Node { nodes[root] }

    /// The fields of the top record, or nil when the top is not a record.
    public var recordFields: [Field]? {
        if case .record(_, let fields) = nodes[root] { return fields }
        return nil
    }

    private struct Parser {
        var nodes: [Node] = []
        var logical: [Int: LogicalType] = [:]
        var named: [String: Int] = [:]
        /// Names referred to before their definition: resolved in `checkReferences` (placeholders until then).
        var pending: [(index: Int, name: String)] = []

        static let primitives: [String: Node] = [
            "null": .null, "boolean": .boolean, "int": .int, "long": .long, "float": .float, "double": .double,
            "bytes": .bytes, "string": .string,
        ]

        mutating func add(_ node: Node) -> Int {
            nodes.append(node)
            return nodes.count - 1
        }

        static func fullName(_ name: String, namespace: String?) -> String {
            if name.contains(".") || namespace == nil || namespace!.isEmpty { return name }
            return namespace! + "." + name
        }

        mutating func parse(_ value: AvroJSON, namespace: String?) throws(AvroError) -> Int {
            switch value {
            case .string(let name):
                if let p = Self.primitives[name] { return add(p) }
                let full = Self.fullName(name, namespace: namespace)
                if let index = named[full] ?? named[name] { return add(.reference(index)) }
                // A forward or recursive reference: filled in once every name is known.
                let index = add(.reference(-1))
                pending.append((index, full))
                return index
            case .array(let items):
                var branches: [Int] = []
                for item in items {
                    let branch = try parse(item, namespace: namespace)
                    if case .union = nodes[branch] { throw AvroError("a union cannot hold a union directly") }
                    branches.append(branch)
                }
                return add(.union(branches))
            case .object(let object):
                return try parseObject(object, namespace: namespace)
            default:
                throw AvroError("a schema must be a type name, an object or a union (a list)")
            }
        }

        mutating func parseObject(_ o: [String: AvroJSON], namespace: String?) throws(AvroError) -> Int {
            guard let type = o["type"] else { throw AvroError("a schema object needs 'type'") }
            guard case .string(let typeName) = type else { return try parse(type, namespace: namespace) }
            let ns = o["namespace"]?.string ?? namespace
            var index: Int
            switch typeName {
            case "record", "error":
                guard let name = o["name"]?.string else { throw AvroError("a record needs a 'name'") }
                let full = Self.fullName(name, namespace: ns)
                let innerNamespace = full.contains(".") ? String(full[..<full.lastIndex(of: ".")!]) : ns
                guard named[full] == nil else { throw AvroError("type '\(full)' is defined twice") }
                index = add(.record(name: full, fields: []))
                named[full] = index
                guard case .array(let list)? = o["fields"] else { throw AvroError("record '\(full)' needs a list of 'fields'") }
                var fields: [Field] = []
                for item in list {
                    guard case .object(let f) = item, let fieldName = f["name"]?.string, let fieldType = f["type"] else {
                        throw AvroError("each field of record '\(full)' needs a 'name' and a 'type'")
                    }
                    let t = try parse(fieldType, namespace: innerNamespace)
                    let aliases = f["aliases"]?.strings ?? []
                    fields.append(Field(name: fieldName, aliases: aliases, type: t, defaultValue: f["default"].map(AvroDefault.init(json:))))
                }
                nodes[index] = .record(name: full, fields: fields)
            case "enum":
                guard let name = o["name"]?.string, let symbols = o["symbols"]?.strings else {
                    throw AvroError("an enum needs a 'name' and a list of 'symbols'")
                }
                let full = Self.fullName(name, namespace: ns)
                guard named[full] == nil else { throw AvroError("type '\(full)' is defined twice") }
                index = add(.enumeration(name: full, symbols: symbols, defaultSymbol: o["default"]?.string))
                named[full] = index
            case "array":
                guard let items = o["items"] else { throw AvroError("an array needs 'items'") }
                let placeholder = add(.null)
                nodes[placeholder] = .array(items: try parse(items, namespace: ns))
                index = placeholder
            case "map":
                guard let values = o["values"] else { throw AvroError("a map needs 'values'") }
                let placeholder = add(.null)
                nodes[placeholder] = .map(values: try parse(values, namespace: ns))
                index = placeholder
            case "fixed":
                guard let name = o["name"]?.string, case .integer(let size64)? = o["size"], let size = Int(exactly: size64), size >= 0 else {
                    throw AvroError("a fixed needs a 'name' and a 'size'")
                }
                let full = Self.fullName(name, namespace: ns)
                guard named[full] == nil else { throw AvroError("type '\(full)' is defined twice") }
                guard size <= 1 << 30 else { throw AvroError("fixed '\(full)' of \(size) bytes is too large") }
                index = add(.fixed(name: full, size: size))
                named[full] = index
            default:
                guard let p = Self.primitives[typeName] else {
                    // A named type written as {"type": "Name"}.
                    return try parse(.string(typeName), namespace: ns)
                }
                index = add(p)
            }
            if let logicalName = o["logicalType"]?.string, let lt = Self.logicalType(logicalName, o, nodes[index]) {
                logical[index] = lt
            }
            return index
        }

        /// A logical type valid for its node; an invalid one is ignored, as the specification says.
        static func logicalType(_ name: String, _ o: [String: AvroJSON], _ node: Node) -> LogicalType? {
            switch (name, node) {
            case ("timestamp-millis", .long): return .timestampMillis
            case ("timestamp-micros", .long): return .timestampMicros
            case ("timestamp-nanos", .long): return .timestampNanos
            case ("local-timestamp-millis", .long): return .localTimestampMillis
            case ("local-timestamp-micros", .long): return .localTimestampMicros
            case ("local-timestamp-nanos", .long): return .localTimestampNanos
            case ("date", .int): return .date
            case ("time-millis", .int): return .timeMillis
            case ("time-micros", .long): return .timeMicros
            case ("uuid", .string), ("uuid", .fixed): return .uuid
            case ("decimal", .bytes), ("decimal", .fixed):
                guard case .integer(let p)? = o["precision"], let precision = Int(exactly: p), precision > 0 else { return nil }
                var scale = 0
                if case .integer(let sc)? = o["scale"] { scale = Int(exactly: sc) ?? -1 }
                guard scale >= 0, scale <= precision else { return nil }
                // At most 76 digits (what 32 bytes hold), and what a fixed's bytes hold.
                guard precision <= 76 else { return nil }
                if case .fixed(_, let size) = node, Double(precision) > ((Double(size) * 8 - 1) * log10(2.0)).rounded(.down) { return nil }
                return .decimal(precision: precision, scale: scale)
            default: return nil
            }
        }

        mutating func checkReferences() throws(AvroError) {
            for (index, name) in pending {
                guard let target = named[name] else {
                    throw AvroError("unknown type '\(name)'")
                }
                nodes[index] = .reference(target)
            }
        }
    }
}

/// JSON as a schema is written (parsed with Foundation's decoder; numbers keep whether they were whole).
public enum AvroJSON: Sendable, Hashable, Decodable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([AvroJSON])
    case object([String: AvroJSON])

    /// Decodes any JSON value, trying whole numbers (Int64) before other numbers.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .integer(i) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([AvroJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: AvroJSON].self)) }
    }

    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var strings: [String]? {
        guard case .array(let items) = self else { return nil }
        let out = items.compactMap(\.string)
        return out.count == items.count ? out : nil
    }
}

/// A field's default value, as written in the schema's JSON.
public struct AvroDefault: Sendable, Hashable {
    /// The JSON value.
    public var json: AvroJSON
}

/// A schema that cannot be parsed, or data that does not decode with its schema.
public struct AvroError: ChainedError {
    /// What is wrong, with the byte offset for data.
    public var message: String
    /// The error that caused it (JSON parsing of a schema).
    public var cause: (any Error & Sendable)?

    /// An error described by `message`, caused by `cause`.
    public init(_ message: String, cause: (any Error & Sendable)? = nil) {
        self.message = message
        self.cause = cause
    }

    /// `avro`.
    public var errorCode: String { "avro" }
    /// The chain: the message, then the cause's.
    public var description: String { ErrorChain.render(self) }
}
