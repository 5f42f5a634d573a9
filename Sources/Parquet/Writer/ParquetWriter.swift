public import Codecs
public import Columnar
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a file is written.
public struct ParquetWriteOptions: Sendable {
    /// The compression of pages (default snappy, as pyarrow and Spark).
    public var codec: Codec = .snappy
    /// The zstd or gzip level; nil for the codec's default.
    public var compressionLevel: Int32? = nil
    /// The most rows per row group.
    public var rowGroupSize: Int = 1 << 20
    /// The target size of a data page, in bytes of values.
    public var pageSize: Int = 1 << 20
    /// Try dictionary encoding first (falling back to PLAIN when the dictionary would be large).
    public var dictionary: Bool = true
    /// The largest dictionary kept, in bytes; over it the column chunk is written PLAIN.
    public var dictionaryPageSizeLimit: Int = 1 << 20
    /// Key/value metadata stored in the footer.
    public var metadata: [String: String] = [:]

    /// Options with `codec`, `rowGroupSize` and `dictionary`; the others keep their defaults.
    public init(codec: Codec = .snappy, rowGroupSize: Int = 1 << 20, dictionary: Bool = true) {
        self.codec = codec
        self.rowGroupSize = rowGroupSize
        self.dictionary = dictionary
    }
}

/// Writes tables into one Parquet file: rows are appended in row groups, and `close()` writes the footer.
///
/// The file is written under a temporary name beside `path` and renamed into place by `close()`,
/// so a reader never sees a half-written file.
public final class ParquetFileWriter {
    /// Where the file appears once closed.
    public let path: String
    /// The columns every table written must have, in order.
    public let schema: Schema
    /// How the file is written.
    public let options: ParquetWriteOptions
    private let temporaryPath: String
    private var fd: Int32
    private var offset: Int = 0
    private var rowGroups: [RowGroup] = []
    private let elements: [SchemaElement]
    private var closed = false

    /// Starts the file under a temporary name beside `path`; throws when it cannot be created.
    public init(path: String, schema: Schema, options: ParquetWriteOptions = ParquetWriteOptions()) throws(ParquetError) {
        self.path = path
        self.schema = schema
        self.options = options
        elements = try Self.schemaElements(schema)
        temporaryPath = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ParquetError("cannot create: \(String(cString: strerror(errno)))", at: ParquetLocation(file: path)) }
        try writeBytes(Array("PAR1".utf8))
    }

    deinit {
        if !closed {
            Glibc.close(fd)
            unlink(temporaryPath)
        }
    }

    /// Writes `table` (whose schema must equal the writer's) as one or more row groups.
    public func write(_ table: Table) throws(ParquetError) {
        guard !closed else { throw ParquetError("the writer is closed", at: ParquetLocation(file: path)) }
        guard table.schema.fields.map({ $0.type }) == schema.fields.map(\.type),
              table.schema.fields.map(\.name) == schema.fields.map(\.name) else {
            throw ParquetError("table schema differs from the file's", at: ParquetLocation(file: path))
        }
        var start = 0
        let rows = table.rowCount
        repeat {
            let n = min(options.rowGroupSize, rows - start)
            try writeRowGroup(table, rows: start..<(start + n))
            start += n
        } while start < rows
    }

    /// Writes the footer and moves the file into place.
    public func close() throws(ParquetError) {
        guard !closed else { return }
        var meta = FileMetaData(version: 1, schema: elements, numRows: rowGroups.reduce(0) { $0 + $1.numRows },
                                rowGroups: rowGroups, keyValueMetadata: options.metadata.sorted { $0.key < $1.key }.map { KeyValue(key: $0.key, value: $0.value) },
                                createdBy: "featurestore-swift version 0.1.0", hasColumnOrders: true)
        if meta.rowGroups.isEmpty { meta.numRows = 0 }
        var w = ThriftCompactWriter()
        w.write(meta)
        let footer = w.bytes
        var tail = footer
        var length = UInt32(footer.count).littleEndian
        withUnsafeBytes(of: &length) { tail.append(contentsOf: $0) }
        tail.append(contentsOf: Array("PAR1".utf8))
        try writeBytes(tail)
        closed = true
        guard fsync(fd) == 0, Glibc.close(fd) == 0 else {
            unlink(temporaryPath)
            throw ParquetError("cannot finish writing: \(String(cString: strerror(errno)))", at: ParquetLocation(file: path))
        }
        guard rename(temporaryPath, path) == 0 else {
            unlink(temporaryPath)
            throw ParquetError("cannot move the file into place: \(String(cString: strerror(errno)))", at: ParquetLocation(file: path))
        }
    }

    /// Writes a whole table to `path` in one call.
    public static func write(_ table: Table, to path: String, options: ParquetWriteOptions = ParquetWriteOptions()) throws(ParquetError) {
        let writer = try ParquetFileWriter(path: path, schema: table.schema, options: options)
        try writer.write(table)
        try writer.close()
    }

    private func writeBytes(_ bytes: [UInt8]) throws(ParquetError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            guard n > 0 else { throw ParquetError("write failed: \(String(cString: strerror(errno)))", at: ParquetLocation(file: path, offset: offset)) }
            done += n
        }
        offset += bytes.count
    }

    private func writeRowGroup(_ table: Table, rows: Range<Int>) throws(ParquetError) {
        var chunks: [ColumnChunk] = []
        var total: Int64 = 0
        for (field, column) in zip(table.schema.fields, table.columns) {
            let at = ParquetLocation(file: path, rowGroup: rowGroups.count, column: field.name)
            do {
                var encoder = ColumnChunkEncoder(field: field, column: column, rows: rows, options: options)
                let encoded = try encoder.encode(startingAt: offset)
                try writeBytes(encoded.bytes)
                total += encoded.metadata.totalUncompressedSize
                chunks.append(ColumnChunk(filePath: nil, fileOffset: encoded.metadata.dictionaryPageOffset ?? encoded.metadata.dataPageOffset,
                                          metaData: encoded.metadata))
            } catch let error as ParquetError {
                throw error.located(at)
            } catch let error as CodecError {
                throw ParquetError("compression failed", at: at, cause: error)
            } catch {
                throw ParquetError("", at: at, cause: error)
            }
        }
        rowGroups.append(RowGroup(columns: chunks, totalByteSize: total, numRows: Int64(rows.count)))
    }

    /// The Parquet schema of a table: a root and one element per flat column, three per list column.
    static func schemaElements(_ schema: Schema) throws(ParquetError) -> [SchemaElement] {
        var out = [SchemaElement(name: "schema", numChildren: Int32(schema.fields.count))]
        for field in schema.fields {
            if case .list(let inner) = field.type {
                out.append(SchemaElement(repetition: field.nullable ? .optional : .required, name: field.name, numChildren: 1,
                                         convertedType: .list, logicalType: .list))
                out.append(SchemaElement(repetition: .repeated, name: "list", numChildren: 1))
                var element = try leafElement(name: "element", type: inner)
                element.repetition = .optional
                out.append(element)
            } else {
                var element = try leafElement(name: field.name, type: field.type)
                element.repetition = field.nullable ? .optional : .required
                out.append(element)
            }
        }
        return out
    }

    static func leafElement(name: String, type: DataType) throws(ParquetError) -> SchemaElement {
        var e = SchemaElement(name: name)
        switch type {
        case .bool: e.type = .boolean
        case .int8: e.type = .int32; e.convertedType = .int8; e.logicalType = .integer(bitWidth: 8, signed: true)
        case .int16: e.type = .int32; e.convertedType = .int16; e.logicalType = .integer(bitWidth: 16, signed: true)
        case .int32: e.type = .int32
        case .int64: e.type = .int64
        case .uint8: e.type = .int32; e.convertedType = .uint8; e.logicalType = .integer(bitWidth: 8, signed: false)
        case .uint16: e.type = .int32; e.convertedType = .uint16; e.logicalType = .integer(bitWidth: 16, signed: false)
        case .uint32: e.type = .int32; e.convertedType = .uint32; e.logicalType = .integer(bitWidth: 32, signed: false)
        case .uint64: e.type = .int64; e.convertedType = .uint64; e.logicalType = .integer(bitWidth: 64, signed: false)
        case .float32: e.type = .float
        case .float64: e.type = .double
        case .string: e.type = .byteArray; e.convertedType = .utf8; e.logicalType = .string
        case .binary: e.type = .byteArray
        case .fixedBinary(let n): e.type = .fixedLenByteArray; e.typeLength = Int32(n)
        case .date32: e.type = .int32; e.convertedType = .date; e.logicalType = .date
        case .timestamp(let unit, let utc):
            e.type = .int64
            e.logicalType = .timestamp(utc: utc, unit: unit)
            if utc && unit == .milliseconds { e.convertedType = .timestampMillis }
            if utc && unit == .microseconds { e.convertedType = .timestampMicros }
        case .decimal(let p, let s):
            e.type = p <= 9 ? .int32 : .int64
            guard p <= 18 else { throw ParquetError("writing decimals of precision over 18 is not supported") }
            e.convertedType = .decimal
            e.scale = Int32(s)
            e.precision = Int32(p)
            e.logicalType = .decimal(scale: Int32(s), precision: Int32(p))
        case .list:
            throw ParquetError("lists of lists are not supported")
        }
        return e
    }
}
