import Codecs
public import Columnar
import Dispatch
import Synchronization

/// A statistic value of a column chunk, in the column's own units.
public enum StatisticValue: Sendable, Hashable, CustomStringConvertible {
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case bytes([UInt8])

    /// The value as text (bytes decoded as UTF-8).
    public var description: String {
        switch self {
        case .bool(let b): return "\(b)"
        case .int(let i): return "\(i)"
        case .double(let d): return "\(d)"
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        }
    }
}

/// The statistics a writer recorded for one column of one row group.
public struct ColumnStatistics: Sendable, Hashable {
    /// The number of nulls, when recorded.
    public var nullCount: Int?
    /// The smallest value, when recorded in a usable order.
    public var min: StatisticValue?
    /// The largest value, when recorded in a usable order.
    public var max: StatisticValue?
}

/// A closed range on one column, for skipping row groups whose statistics lie entirely outside it.
///
/// Bounds are in the column's units (for timestamps: ticks of the column's unit); `timestampRange` converts.
public struct RangePredicate: Sendable, Hashable {
    /// The column's name.
    public var column: String
    /// The smallest value in range (inclusive); nil: no lower bound.
    public var lower: StatisticValue?
    /// The largest value in range (inclusive); nil: no upper bound.
    public var upper: StatisticValue?

    /// The range `lower ... upper` of `column`; a nil bound leaves that side open.
    public init(column: String, lower: StatisticValue?, upper: StatisticValue?) {
        self.column = column
        self.lower = lower
        self.upper = upper
    }
}

/// One Parquet file, memory-mapped, with its footer decoded and checked.
///
/// ```swift
/// let file = try ParquetFile(path: "data/driver_stats.parquet")
/// let table = try file.read(columns: ["driver_id", "conv_rate"])
/// ```
public final class ParquetFile: Sendable {
    /// The path it was opened from.
    public let path: String
    let mapped: MappedFile
    let metadata: FileMetaData
    let mapping: SchemaMapping
    /// The readable top-level columns.
    public let schema: Schema
    /// Columns this library cannot read (structs, maps, nested lists), with the reason.
    public let unsupportedColumns: [String: String]

    /// Opens and checks `path`. Throws a ``ParquetError`` for anything that is not a readable Parquet file.
    public init(path: String) throws(ParquetError) {
        self.path = path
        mapped = try MappedFile(path: path)
        let bytes = mapped.bytes
        let here = ParquetLocation(file: path)
        guard bytes.count >= 12 else {
            throw ParquetError("file is \(bytes.count) bytes, too small to be Parquet (at least 12)", at: here)
        }
        let magic = Array("PAR1".utf8)
        let tail = Array(bytes[(bytes.count - 4)...])
        if tail == Array("PARE".utf8) { throw ParquetError("encrypted Parquet files are not supported", at: here) }
        guard Array(bytes[0..<4]) == magic else { throw ParquetError("not a Parquet file: wrong magic number at the start", at: ParquetLocation(file: path, offset: 0)) }
        guard tail == magic else { throw ParquetError("not a Parquet file, or truncated: wrong magic number at the end", at: ParquetLocation(file: path, offset: bytes.count - 4)) }
        let footerLength = Int(bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt32.self).littleEndian)
        guard footerLength <= bytes.count - 12 else {
            throw ParquetError("footer length \(footerLength) exceeds the file (\(bytes.count) bytes): truncated or corrupt", at: ParquetLocation(file: path, offset: bytes.count - 8))
        }
        let footerStart = bytes.count - 8 - footerLength
        do {
            var reader = ThriftCompactReader(UnsafeRawBufferPointer(rebasing: bytes[footerStart..<(bytes.count - 8)]))
            metadata = try reader.fileMetaData()
            mapping = try SchemaMapping(metadata.schema)
        } catch {
            throw ParquetError("corrupt footer: \(error.message)", at: ParquetLocation(file: path, offset: footerStart))
        }
        for (i, group) in metadata.rowGroups.enumerated() {
            let at = ParquetLocation(file: path, rowGroup: i)
            guard group.columns.count == mapping.leafCount else {
                throw ParquetError("row group has \(group.columns.count) column chunks, the schema has \(mapping.leafCount) columns", at: at)
            }
            guard group.numRows >= 0, group.numRows <= Int64(ReadLimits.maxRowGroupRows) else { throw ParquetError("row group claims \(group.numRows) rows", at: at) }
            for chunk in group.columns {
                guard chunk.metaData != nil else { throw ParquetError("column chunk metadata is stored outside the footer (not supported)", at: at) }
                if chunk.filePath != nil { throw ParquetError("column chunk stored in another file (\(chunk.filePath!)) is not supported", at: at) }
            }
        }
        schema = Schema(mapping.columns.map { Field($0.name, $0.type, nullable: $0.nullable) })
        unsupportedColumns = Dictionary(mapping.unsupported.map { ($0.name, $0.reason) }, uniquingKeysWith: { a, _ in a })
    }

    /// The number of rows, from the footer.
    public var rowCount: Int { metadata.rowGroups.reduce(0) { $0 + Int($1.numRows) } }
    /// The number of row groups.
    public var rowGroupCount: Int { metadata.rowGroups.count }
    /// The number of rows of row group `i` (0-based, below ``rowGroupCount``).
    public func rowCount(ofRowGroup i: Int) -> Int { Int(metadata.rowGroups[i].numRows) }
    /// The writer that made the file (`parquet-cpp-arrow version 17.0.0`, ...).
    public var createdBy: String? { metadata.createdBy }
    /// The file's key/value metadata (pandas and Arrow schemas among others).
    public var keyValueMetadata: [String: String] {
        Dictionary(metadata.keyValueMetadata.map { ($0.key, $0.value ?? "") }, uniquingKeysWith: { a, _ in a })
    }

    /// The physical type, encodings and codec of a column, for display.
    public func physicalDescription(of column: String) -> String? {
        guard let d = mapping.columns.first(where: { $0.name == column }) else { return nil }
        let codec = metadata.rowGroups.first?.columns[d.leafIndex].metaData.map { (try? ColumnChunkReader.codec($0.codec))?.rawValue ?? "codec \($0.codec)" }
        var text = d.physicalType.description
        if d.physicalType == .fixedLenByteArray { text += "(\(d.typeLength))" }
        return text + (codec.map { ", \($0)" } ?? "")
    }

    private func descriptors(_ names: [String]?) throws(ParquetError) -> [ColumnDescriptor] {
        guard let names else { return mapping.columns }
        var out: [ColumnDescriptor] = []
        for name in names {
            guard let d = mapping.columns.first(where: { $0.name == name }) else {
                if let reason = unsupportedColumns[name] {
                    throw ParquetError("column '\(name)' cannot be read: \(reason)", at: ParquetLocation(file: path, column: name))
                }
                throw ParquetError("no column '\(name)'; the file has: \(schema.fields.map(\.name).joined(separator: ", "))", at: ParquetLocation(file: path))
            }
            out.append(d)
        }
        return out
    }

    /// Reads `columns` (all readable columns when nil) of `rowGroups` (all when nil) into one table.
    /// Column chunks are decoded in parallel on all cores when `parallel` is set.
    public func read(columns: [String]? = nil, rowGroups: [Int]? = nil, parallel: Bool = true) throws(ParquetError) -> Table {
        let wanted = try descriptors(columns)
        let groups = rowGroups ?? Array(0..<rowGroupCount)
        for g in groups where g < 0 || g >= rowGroupCount {
            throw ParquetError("row group \(g) does not exist (the file has \(rowGroupCount))", at: ParquetLocation(file: path))
        }
        if groups.isEmpty {
            var empty: [Column] = []
            for d in wanted { empty.append(try Self.emptyColumn(d)) }
            return try Self.table(wanted, empty, path)
        }
        let columns = try ChunkAssembler.read(columns: wanted.map(\.name), fragments: groups.map { Fragment(file: self, rowGroup: $0) },
                                              parallel: parallel)
        return try Self.table(wanted, columns, path)
    }

    private static func table(_ wanted: [ColumnDescriptor], _ columns: [Column], _ path: String) throws(ParquetError) -> Table {
        do {
            return try Table(schema: Schema(wanted.map { Field($0.name, $0.type, nullable: $0.nullable) }), columns: columns)
        } catch {
            throw ParquetError("", at: ParquetLocation(file: path), cause: error)
        }
    }

    static func emptyColumn(_ d: ColumnDescriptor) throws(ParquetError) -> Column {
        func leaf(_ type: DataType, _ physical: PhysicalType) -> ColumnValues {
            switch physical {
            case .boolean: return .bool([])
            case .int32: return type == .uint32 ? .int64([]) : .int32([])
            case .int64, .int96: return .int64([])
            case .float: return .float32([])
            case .double: return .float64([])
            case .byteArray, .fixedLenByteArray: return .bytes(BytesBuffer())
            }
        }
        let values = leaf(d.leafType, d.physicalType)
        if d.maxRepetitionLevel > 0 {
            return Column(type: d.type, values: .list(offsets: [0], values: Column(type: d.leafType, values: values)))
        }
        return Column(type: d.type, values: values)
    }

    /// Reads one column chunk. With a `sink`, a flat fixed-width column's values are written there and the
    /// returned column carries only the validity.
    func readChunk(rowGroup: Int, descriptor: ColumnDescriptor, sink: UnsafeMutableRawPointer? = nil) throws(ParquetError) -> Column {
        var unused = BytesBuffer()
        return try readChunk(rowGroup: rowGroup, descriptor: descriptor, sink: sink, bytes: &unused, appending: false)
    }

    /// Reads a byte-array column chunk, appending its values to `bytes` (a column over many row groups is built in
    /// one buffer); the returned column carries only the validity.
    func readChunk(rowGroup: Int, descriptor: ColumnDescriptor, appendingTo bytes: inout BytesBuffer) throws(ParquetError) -> Column {
        try readChunk(rowGroup: rowGroup, descriptor: descriptor, sink: nil, bytes: &bytes, appending: true)
    }

    private func readChunk(rowGroup: Int, descriptor: ColumnDescriptor, sink: UnsafeMutableRawPointer?,
                           bytes: inout BytesBuffer, appending: Bool) throws(ParquetError) -> Column {
        let at = ParquetLocation(file: path, rowGroup: rowGroup, column: descriptor.name)
        let group = metadata.rowGroups[rowGroup]
        guard let meta = group.columns[descriptor.leafIndex].metaData else { throw ParquetError("missing column metadata", at: at) }
        guard meta.type == descriptor.physicalType else {
            throw ParquetError("column chunk type \(meta.type) differs from the schema's \(descriptor.physicalType)", at: at)
        }
        let codec: Codec
        do {
            codec = try ColumnChunkReader.codec(meta.codec)
        } catch {
            throw ParquetError(error.message, at: at)
        }
        var reader = ColumnChunkReader(descriptor: descriptor, file: mapped.bytes, codec: codec, rowCount: Int(group.numRows), sink: sink)
        do {
            return appending ? try reader.read(meta, appendingTo: &bytes) : try reader.read(meta)
        } catch {
            throw error.located(at)
        }
    }

    /// The statistics of `column` in `rowGroup`, decoded to the column's units; nil when absent.
    public func statistics(ofColumn column: String, rowGroup: Int) -> ColumnStatistics? {
        guard let d = mapping.columns.first(where: { $0.name == column }), d.maxRepetitionLevel == 0,
              rowGroup < rowGroupCount,
              let stats = metadata.rowGroups[rowGroup].columns[d.leafIndex].metaData?.statistics else { return nil }
        // min_value/max_value follow the type's order; the deprecated min/max are signed byte-wise,
        // which is right only for signed integers and floating point.
        let signedOrderOK: Bool
        switch d.leafType {
        case .int8, .int16, .int32, .int64, .float32, .float64, .timestamp, .date32: signedOrderOK = true
        default: signedOrderOK = false
        }
        let minBytes = stats.minValue ?? (signedOrderOK ? stats.min : nil)
        let maxBytes = stats.maxValue ?? (signedOrderOK ? stats.max : nil)
        return ColumnStatistics(nullCount: stats.nullCount.map(Int.init),
                                min: minBytes.flatMap { decodeStatistic($0, d) },
                                max: maxBytes.flatMap { decodeStatistic($0, d) })
    }

    private func decodeStatistic(_ bytes: [UInt8], _ d: ColumnDescriptor) -> StatisticValue? {
        func load<T>(_ type: T.Type) -> T? {
            guard bytes.count == MemoryLayout<T>.size else { return nil }
            return bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
        }
        switch d.physicalType {
        case .boolean: return bytes.first.map { .bool($0 != 0) }
        case .int32:
            guard let v = load(Int32.self) else { return nil }
            switch d.leafType {
            case .uint8, .uint16, .uint32: return .int(Int64(UInt32(bitPattern: v)))
            default: return .int(Int64(v))
            }
        case .int64:
            guard let v = load(Int64.self) else { return nil }
            if d.leafType == .uint64, v < 0 { return nil }
            return .int(v)
        case .float: return load(Float.self).map { .double(Double($0)) }
        case .double: return load(Double.self).map { .double($0) }
        case .int96: return nil
        case .byteArray, .fixedLenByteArray: return .bytes(bytes)
        }
    }

    /// The row groups that may hold rows in the predicate's range: those without usable statistics are kept.
    public func rowGroups(matching predicate: RangePredicate) -> [Int] {
        (0..<rowGroupCount).filter { g in
            guard let stats = statistics(ofColumn: predicate.column, rowGroup: g), let min = stats.min, let max = stats.max else { return true }
            if let upper = predicate.upper, Self.less(upper, min) { return false }
            if let lower = predicate.lower, Self.less(max, lower) { return false }
            return true
        }
    }

    static func less(_ a: StatisticValue, _ b: StatisticValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y
        case (.double(let x), .double(let y)): return x < y
        case (.int(let x), .double(let y)): return Double(x) < y
        case (.double(let x), .int(let y)): return x < Double(y)
        case (.bytes(let x), .bytes(let y)): return x.lexicographicallyPrecedes(y)
        case (.bool(let x), .bool(let y)): return !x && y
        default: return false
        }
    }

    /// The unit of a timestamp column, for converting predicate bounds.
    public func timestampUnit(of column: String) -> TimeUnit? {
        if case .timestamp(let unit, _)? = schema.field(named: column)?.type { return unit }
        return nil
    }
}

/// Slots written once each from concurrent tasks, read after they all finished.
final class ResultSlots<T: Sendable>: Sendable {
    private let slots: Mutex<[Result<T, ParquetError>?]>

    init(count: Int) {
        slots = Mutex(Array(repeating: nil, count: count))
    }

    func set(_ i: Int, _ value: Result<T, ParquetError>) {
        slots.withLock { $0[i] = value }
    }

    func get(_ i: Int) -> Result<T, ParquetError> {
        slots.withLock { $0[i] } ?? .failure(ParquetError("internal: result \(i) missing"))
    }
}
