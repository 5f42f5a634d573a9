public import ErrorChain
/// Variable-length values (strings, binary) in one contiguous byte buffer with `count + 1` offsets.
public struct BytesBuffer: Sendable, Hashable {
    /// `offsets[i]..<offsets[i+1]` is value `i` in `data`.
    public var offsets: [Int]
    /// The values' bytes, back to back.
    public var data: [UInt8]

    /// A buffer of `offsets` into `data`; by default empty (no values).
    public init(offsets: [Int] = [0], data: [UInt8] = []) {
        self.offsets = offsets
        self.data = data
    }

    /// The number of values.
    public var count: Int { offsets.count - 1 }

    /// Appends a value made of `bytes`.
    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        data.append(contentsOf: bytes)
        offsets.append(data.count)
    }

    /// Appends a value made of `string`'s UTF-8 bytes.
    public mutating func append(_ string: String) {
        var s = string
        s.withUTF8 { data.append(contentsOf: $0) }
        offsets.append(data.count)
    }

    /// Appends an empty value (the slot of a null).
    public mutating func appendEmpty() {
        offsets.append(data.count)
    }

    /// The bytes of value `i`.
    @inline(__always)
    public func bytes(at i: Int) -> ArraySlice<UInt8> { data[offsets[i]..<offsets[i + 1]] }

    /// Value `i` decoded as UTF-8 (invalid sequences repaired).
    public func string(at i: Int) -> String {
        let start = offsets[i], end = offsets[i + 1]
        return data.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[start..<end]), as: UTF8.self) }
    }

    /// Calls `body` with value `i`'s bytes, without copying.
    @inline(__always)
    public func withBytes<R>(at i: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let start = offsets[i], end = offsets[i + 1]
        return try data.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
    }
}

/// The physical buffer of a column. Null slots hold a placeholder (zero, empty), so buffers stay dense.
public indirect enum ColumnValues: Sendable {
    case bool([Bool])
    /// int8, int16, int32, uint8, uint16, date32, and decimals stored as INT32.
    case int32([Int32])
    /// int64, uint32, uint64 (bit pattern), timestamps, and decimals stored as INT64.
    case int64([Int64])
    case float32([Float])
    case float64([Double])
    /// string, binary, fixed_binary, and decimals stored as bytes.
    case bytes(BytesBuffer)
    /// Lists: `offsets[i]..<offsets[i+1]` are row `i`'s elements in `values`.
    case list(offsets: [Int], values: Column)

    /// The number of values; for a list, the number of rows (not of elements).
    public var count: Int {
        switch self {
        case .bool(let v): return v.count
        case .int32(let v): return v.count
        case .int64(let v): return v.count
        case .float32(let v): return v.count
        case .float64(let v): return v.count
        case .bytes(let b): return b.count
        case .list(let offsets, _): return offsets.count - 1
        }
    }
}

/// One typed column: a dense buffer of values and an optional validity bitmap (`nil`: no nulls).
public struct Column: Sendable {
    /// The logical type of the values.
    public var type: DataType
    /// The values, one per row (null rows hold a placeholder).
    public var values: ColumnValues
    /// Bit `i` set when row `i` holds a value; `nil` when every row does.
    public var validity: Bitmap?

    /// A column of `type` holding `values`, with `validity` (nil: no nulls); lengths are not checked.
    public init(type: DataType, values: ColumnValues, validity: Bitmap? = nil) {
        self.type = type
        self.values = values
        self.validity = validity
    }

    /// The number of rows.
    public var count: Int { values.count }

    /// Whether row `i` is null.
    @inline(__always)
    public func isNull(_ i: Int) -> Bool { validity.map { !$0[i] } ?? false }

    /// The number of null rows (0 without a validity bitmap).
    public var nullCount: Int { validity.map { count - $0.setCount } ?? 0 }
}

// MARK: Building columns from Swift values (tests, sample data, small tables)

extension Column {
    private static func validity<T>(_ values: [T?]) -> Bitmap? {
        guard values.contains(where: { $0 == nil }) else { return nil }
        var bitmap = Bitmap(count: values.count, value: false)
        for (i, v) in values.enumerated() where v != nil { bitmap.set(i) }
        return bitmap
    }

    /// A column of `type`, one stored in an int64 buffer (see ``ColumnValues/int64(_:)``), from `values`; nil is null.
    public init(_ type: DataType = .int64, int64 values: [Int64?]) {
        self.init(type: type, values: .int64(values.map { $0 ?? 0 }), validity: Self.validity(values))
    }

    /// A column of `type`, one stored in an int32 buffer (see ``ColumnValues/int32(_:)``), from `values`; nil is null.
    public init(_ type: DataType = .int32, int32 values: [Int32?]) {
        self.init(type: type, values: .int32(values.map { $0 ?? 0 }), validity: Self.validity(values))
    }

    /// A float64 column of `values`; nil is null.
    public init(float64 values: [Double?]) {
        self.init(type: .float64, values: .float64(values.map { $0 ?? 0 }), validity: Self.validity(values))
    }

    /// A float32 column of `values`; nil is null.
    public init(float32 values: [Float?]) {
        self.init(type: .float32, values: .float32(values.map { $0 ?? 0 }), validity: Self.validity(values))
    }

    /// A bool column of `values`; nil is null.
    public init(bool values: [Bool?]) {
        self.init(type: .bool, values: .bool(values.map { $0 ?? false }), validity: Self.validity(values))
    }

    /// A string column of `values`, stored as UTF-8; nil is null.
    public init(strings values: [String?]) {
        var buffer = BytesBuffer()
        buffer.data.reserveCapacity(values.reduce(0) { $0 + ($1?.utf8.count ?? 0) })
        for v in values {
            if let v { buffer.append(v) } else { buffer.appendEmpty() }
        }
        self.init(type: .string, values: .bytes(buffer), validity: Self.validity(values))
    }

    /// A binary column of `values`; nil is null.
    public init(binary values: [[UInt8]?]) {
        var buffer = BytesBuffer()
        for v in values {
            if let v { buffer.append(v) } else { buffer.appendEmpty() }
        }
        self.init(type: .binary, values: .bytes(buffer), validity: Self.validity(values))
    }

    /// Timestamps in `unit` since the epoch.
    public init(timestamps values: [Int64?], unit: TimeUnit = .microseconds, utc: Bool = true) {
        self.init(.timestamp(unit, utc: utc), int64: values)
    }
}

/// Named columns of equal length.
public struct Table: Sendable {
    /// The name, type and nullability of each column, in order.
    public var schema: Schema
    /// The columns, in schema order, all of the same length.
    public var columns: [Column]

    /// A table; every column must have `rowCount` rows (checked).
    public init(schema: Schema, columns: [Column]) throws(ColumnarError) {
        guard schema.fields.count == columns.count else {
            throw .shape("schema has \(schema.fields.count) fields but \(columns.count) columns were given")
        }
        let rows = columns.first?.count ?? 0
        for (field, column) in zip(schema.fields, columns) where column.count != rows {
            throw .shape("column '\(field.name)' has \(column.count) rows, expected \(rows)")
        }
        self.schema = schema
        self.columns = columns
    }

    /// A table from named columns (each field nullable when its column has nulls).
    public init(_ named: [(String, Column)]) throws(ColumnarError) {
        try self.init(schema: Schema(named.map { Field($0.0, $0.1.type, nullable: true) }), columns: named.map(\.1))
    }

    /// The number of rows (0 for a table without columns).
    public var rowCount: Int { columns.first?.count ?? 0 }

    /// The first column named `name`; nil when there is none.
    public func column(named name: String) -> Column? { schema.index(of: name).map { columns[$0] } }
}

/// Errors building columnar values.
public enum ColumnarError: ChainedError {
    /// Columns of different lengths, or a count that does not fit.
    case shape(String)
    /// A value or column of the wrong type.
    case type(String)

    /// What is wrong.
    public var description: String { ErrorChain.render(self) }

    /// `columnar.shape` or `columnar.type`.
    public var errorCode: String {
        switch self {
        case .shape: return "columnar.shape"
        case .type: return "columnar.type"
        }
    }

    /// What is wrong.
    public var message: String {
        switch self {
        case .shape(let m), .type(let m): return m
        }
    }
}
