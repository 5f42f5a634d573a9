/// The unit of a timestamp's integer value.
public enum TimeUnit: String, Sendable, Hashable, Codable {
    case milliseconds = "ms", microseconds = "us", nanoseconds = "ns"

    /// Ticks per second.
    public var perSecond: Int64 {
        switch self {
        case .milliseconds: return 1_000
        case .microseconds: return 1_000_000
        case .nanoseconds: return 1_000_000_000
        }
    }
}

/// The logical type of a column. Each maps to one physical buffer kind (see ``ColumnValues``).
public indirect enum DataType: Sendable, Hashable, CustomStringConvertible {
    case bool
    case int8, int16, int32, int64
    case uint8, uint16, uint32, uint64
    case float32, float64
    /// UTF-8 text.
    case string
    /// Variable-length bytes.
    case binary
    /// Bytes of a fixed length.
    case fixedBinary(Int)
    /// Days since 1970-01-01.
    case date32
    /// Ticks of `unit` since 1970-01-01T00:00:00; `utc` false means a local (zone-less) time.
    case timestamp(TimeUnit, utc: Bool)
    /// A decimal as stored: unscaled integers (int32/int64 buffers) or big-endian two's complement bytes.
    case decimal(precision: Int, scale: Int)
    /// A list of values of the element type.
    case list(DataType)

    /// The type as displayed: `int64`, `timestamp[us, UTC]`, `decimal(10, 2)`, `list<string>`.
    public var description: String {
        switch self {
        case .bool: return "bool"
        case .int8: return "int8"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .uint8: return "uint8"
        case .uint16: return "uint16"
        case .uint32: return "uint32"
        case .uint64: return "uint64"
        case .float32: return "float32"
        case .float64: return "float64"
        case .string: return "string"
        case .binary: return "binary"
        case .fixedBinary(let n): return "fixed_binary(\(n))"
        case .date32: return "date32"
        case .timestamp(let unit, let utc): return "timestamp[\(unit.rawValue)\(utc ? ", UTC" : "")]"
        case .decimal(let p, let s): return "decimal(\(p), \(s))"
        case .list(let inner): return "list<\(inner)>"
        }
    }

    /// Whether values are ordered numbers (statistics, range predicates).
    public var isNumeric: Bool {
        switch self {
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64, .float32, .float64: return true
        default: return false
        }
    }
}

/// A named, typed column slot of a schema.
public struct Field: Sendable, Hashable {
    /// The column's name.
    public var name: String
    /// The column's logical type.
    public var type: DataType
    /// Whether the column may hold nulls.
    public var nullable: Bool

    /// A field named `name` of `type`, nullable unless told otherwise.
    public init(_ name: String, _ type: DataType, nullable: Bool = true) {
        self.name = name
        self.type = type
        self.nullable = nullable
    }
}

/// The fields of a table, in order.
public struct Schema: Sendable, Hashable {
    /// The fields, in column order.
    public var fields: [Field]

    /// A schema of `fields`, in order (names are not checked for duplicates).
    public init(_ fields: [Field]) {
        self.fields = fields
    }

    /// The index of the field named `name`.
    public func index(of name: String) -> Int? { fields.firstIndex { $0.name == name } }
    /// The first field named `name`; nil when there is none.
    public func field(named name: String) -> Field? { fields.first { $0.name == name } }
}
