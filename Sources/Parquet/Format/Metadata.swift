import Columnar

// The Parquet format's Thrift structures (parquet.thrift), limited to the fields this library reads or writes.
// Field ids follow the format specification.

enum PhysicalType: Int32, Sendable, CustomStringConvertible {
    case boolean = 0, int32 = 1, int64 = 2, int96 = 3, float = 4, double = 5, byteArray = 6, fixedLenByteArray = 7

    /// The format specification's name.
    var description: String {
        switch self {
        case .boolean: return "BOOLEAN"
        case .int32: return "INT32"
        case .int64: return "INT64"
        case .int96: return "INT96"
        case .float: return "FLOAT"
        case .double: return "DOUBLE"
        case .byteArray: return "BYTE_ARRAY"
        case .fixedLenByteArray: return "FIXED_LEN_BYTE_ARRAY"
        }
    }
}

enum Repetition: Int32, Sendable {
    case required = 0, optional = 1, repeated = 2
}

/// Legacy converted types (ConvertedType), still written by many tools.
enum ConvertedType: Int32, Sendable {
    case utf8 = 0, map = 1, mapKeyValue = 2, list = 3, enumType = 4, decimal = 5, date = 6
    case timeMillis = 7, timeMicros = 8, timestampMillis = 9, timestampMicros = 10
    case uint8 = 11, uint16 = 12, uint32 = 13, uint64 = 14, int8 = 15, int16 = 16, int32 = 17, int64 = 18
    case json = 19, bson = 20, interval = 21
}

enum Encoding: Int32, Sendable {
    case plain = 0, plainDictionary = 2, rle = 3, bitPacked = 4, deltaBinaryPacked = 5
    case deltaLengthByteArray = 6, deltaByteArray = 7, rleDictionary = 8, byteStreamSplit = 9
}

enum PageType: Int32, Sendable {
    case dataPage = 0, indexPage = 1, dictionaryPage = 2, dataPageV2 = 3
}

/// The LogicalType union.
enum LogicalType: Sendable, Equatable {
    case string, map, list, enumType, decimal(scale: Int32, precision: Int32), date
    case time(utc: Bool, unit: TimeUnit), timestamp(utc: Bool, unit: TimeUnit)
    case integer(bitWidth: Int8, signed: Bool), unknown, json, bson, uuid, float16, other
}

struct SchemaElement: Sendable {
    var type: PhysicalType?
    var typeLength: Int32?
    var repetition: Repetition?
    var name: String
    var numChildren: Int32?
    var convertedType: ConvertedType?
    var scale: Int32?
    var precision: Int32?
    var logicalType: LogicalType?
}

struct Statistics: Sendable {
    var max: [UInt8]?
    var min: [UInt8]?
    var nullCount: Int64?
    var distinctCount: Int64?
    var maxValue: [UInt8]?
    var minValue: [UInt8]?
}

struct ColumnMetaData: Sendable {
    var type: PhysicalType
    var encodings: [Int32]
    var pathInSchema: [String]
    var codec: Int32
    var numValues: Int64
    var totalUncompressedSize: Int64
    var totalCompressedSize: Int64
    var dataPageOffset: Int64
    var indexPageOffset: Int64?
    var dictionaryPageOffset: Int64?
    var statistics: Statistics?
}

struct ColumnChunk: Sendable {
    var filePath: String?
    var fileOffset: Int64
    var metaData: ColumnMetaData?
}

struct RowGroup: Sendable {
    var columns: [ColumnChunk]
    var totalByteSize: Int64
    var numRows: Int64
}

struct KeyValue: Sendable {
    var key: String
    var value: String?
}

struct FileMetaData: Sendable {
    var version: Int32
    var schema: [SchemaElement]
    var numRows: Int64
    var rowGroups: [RowGroup]
    var keyValueMetadata: [KeyValue]
    var createdBy: String?
    /// Whether column orders are given (TYPE_ORDER): then min_value/max_value statistics are trustworthy.
    var hasColumnOrders: Bool
}

struct DataPageHeader: Sendable {
    var numValues: Int32
    var encoding: Int32
    var definitionLevelEncoding: Int32
    var repetitionLevelEncoding: Int32
}

struct DictionaryPageHeader: Sendable {
    var numValues: Int32
    var encoding: Int32
}

struct DataPageHeaderV2: Sendable {
    var numValues: Int32
    var numNulls: Int32
    var numRows: Int32
    var encoding: Int32
    var definitionLevelsByteLength: Int32
    var repetitionLevelsByteLength: Int32
    var isCompressed: Bool
}

struct PageHeader: Sendable {
    var type: Int32
    var uncompressedPageSize: Int32
    var compressedPageSize: Int32
    var dataPage: DataPageHeader?
    var dictionaryPage: DictionaryPageHeader?
    var dataPageV2: DataPageHeaderV2?
}

// MARK: Decoding

extension ThriftCompactReader {
    private mutating func enumValue<E: RawRepresentable>(_ type: E.Type, _ what: String) throws(DecodeError) -> E where E.RawValue == Int32 {
        let raw = try i32()
        guard let value = E(rawValue: raw) else { throw DecodeError("unknown \(what) \(raw)") }
        return value
    }

    private mutating func timeUnit() throws(DecodeError) -> TimeUnit {
        var unit: TimeUnit? = nil
        try readStruct { r, id, type throws(DecodeError) in
            guard type == .structure else { return false }
            switch id {
            case 1: unit = .milliseconds
            case 2: unit = .microseconds
            case 3: unit = .nanoseconds
            default: return false
            }
            try r.skip(type)
            return true
        }
        guard let unit else { throw DecodeError("time unit without a unit") }
        return unit
    }

    mutating func logicalType() throws(DecodeError) -> LogicalType {
        var result: LogicalType = .other
        try readStruct { r, id, type throws(DecodeError) in
            guard type == .structure else { return false }
            switch id {
            case 1: result = .string
            case 2: result = .map
            case 3: result = .list
            case 4: result = .enumType
            case 5:
                var scale: Int32 = 0, precision: Int32 = 0
                try r.readStruct { r, id, _ throws(DecodeError) in
                    switch id {
                    case 1: scale = try r.i32()
                    case 2: precision = try r.i32()
                    default: return false
                    }
                    return true
                }
                result = .decimal(scale: scale, precision: precision)
                return true
            case 6: result = .date
            case 7, 8:
                var utc = false
                var unit = TimeUnit.milliseconds
                try r.readStruct { r, fid, ftype throws(DecodeError) in
                    switch fid {
                    case 1: utc = try r.bool(ftype)
                    case 2: unit = try r.timeUnit()
                    default: return false
                    }
                    return true
                }
                result = id == 7 ? .time(utc: utc, unit: unit) : .timestamp(utc: utc, unit: unit)
                return true
            case 10:
                var width: Int8 = 64, signed = true
                try r.readStruct { r, fid, ftype throws(DecodeError) in
                    switch fid {
                    case 1: width = Int8(truncatingIfNeeded: Int8(bitPattern: try r.byte()))
                    case 2: signed = try r.bool(ftype)
                    default: return false
                    }
                    return true
                }
                result = .integer(bitWidth: width, signed: signed)
                return true
            case 11: result = .unknown
            case 12: result = .json
            case 13: result = .bson
            case 14: result = .uuid
            case 15: result = .float16
            default: result = .other
            }
            try r.skip(type)
            return true
        }
        return result
    }

    mutating func schemaElement() throws(DecodeError) -> SchemaElement {
        var e = SchemaElement(name: "")
        var hasName = false
        try readStruct { r, id, type throws(DecodeError) in
            switch id {
            case 1: e.type = try r.enumValue(PhysicalType.self, "physical type")
            case 2: e.typeLength = try r.i32()
            case 3: e.repetition = try r.enumValue(Repetition.self, "repetition type")
            case 4: e.name = try r.string(); hasName = true
            case 5: e.numChildren = try r.i32()
            case 6: e.convertedType = ConvertedType(rawValue: try r.i32())
            case 7: e.scale = try r.i32()
            case 8: e.precision = try r.i32()
            case 10: e.logicalType = try r.logicalType()
            default: return false
            }
            return true
        }
        guard hasName else { throw DecodeError("schema element without a name") }
        return e
    }

    mutating func statistics() throws(DecodeError) -> Statistics {
        var s = Statistics()
        try readStruct { r, id, _ throws(DecodeError) in
            switch id {
            case 1: s.max = try r.binary()
            case 2: s.min = try r.binary()
            case 3: s.nullCount = try r.i64()
            case 4: s.distinctCount = try r.i64()
            case 5: s.maxValue = try r.binary()
            case 6: s.minValue = try r.binary()
            default: return false
            }
            return true
        }
        return s
    }

    mutating func columnMetaData() throws(DecodeError) -> ColumnMetaData {
        var m = ColumnMetaData(type: .int32, encodings: [], pathInSchema: [], codec: 0, numValues: 0,
                               totalUncompressedSize: 0, totalCompressedSize: 0, dataPageOffset: -1)
        var seen = Set<Int16>()
        try readStruct { r, id, _ throws(DecodeError) in
            switch id {
            case 1: m.type = try r.enumValue(PhysicalType.self, "physical type")
            case 2: m.encodings = try r.list { r, _ throws(DecodeError) in try r.i32() }
            case 3: m.pathInSchema = try r.list { r, _ throws(DecodeError) in try r.string() }
            case 4: m.codec = try r.i32()
            case 5: m.numValues = try r.i64()
            case 6: m.totalUncompressedSize = try r.i64()
            case 7: m.totalCompressedSize = try r.i64()
            case 9: m.dataPageOffset = try r.i64()
            case 10: m.indexPageOffset = try r.i64()
            case 11: m.dictionaryPageOffset = try r.i64()
            case 12: m.statistics = try r.statistics()
            default: return false
            }
            seen.insert(id)
            return true
        }
        for (id, name) in [(1, "type"), (4, "codec"), (5, "num_values"), (9, "data_page_offset")] where !seen.contains(Int16(id)) {
            throw DecodeError("column metadata without its required field '\(name)'")
        }
        return m
    }

    mutating func columnChunk() throws(DecodeError) -> ColumnChunk {
        var c = ColumnChunk(fileOffset: 0)
        try readStruct { r, id, _ throws(DecodeError) in
            switch id {
            case 1: c.filePath = try r.string()
            case 2: c.fileOffset = try r.i64()
            case 3: c.metaData = try r.columnMetaData()
            default: return false
            }
            return true
        }
        return c
    }

    mutating func rowGroup() throws(DecodeError) -> RowGroup {
        var g = RowGroup(columns: [], totalByteSize: 0, numRows: 0)
        try readStruct { r, id, _ throws(DecodeError) in
            switch id {
            case 1: g.columns = try r.list { r, _ throws(DecodeError) in try r.columnChunk() }
            case 2: g.totalByteSize = try r.i64()
            case 3: g.numRows = try r.i64()
            default: return false
            }
            return true
        }
        return g
    }

    mutating func fileMetaData() throws(DecodeError) -> FileMetaData {
        var f = FileMetaData(version: 1, schema: [], numRows: 0, rowGroups: [], keyValueMetadata: [], createdBy: nil, hasColumnOrders: false)
        try readStruct { r, id, type throws(DecodeError) in
            switch id {
            case 1: f.version = try r.i32()
            case 2: f.schema = try r.list { r, _ throws(DecodeError) in try r.schemaElement() }
            case 3: f.numRows = try r.i64()
            case 4: f.rowGroups = try r.list { r, _ throws(DecodeError) in try r.rowGroup() }
            case 5:
                f.keyValueMetadata = try r.list { r, _ throws(DecodeError) in
                    var kv = KeyValue(key: "", value: nil)
                    try r.readStruct { r, id, _ throws(DecodeError) in
                        switch id {
                        case 1: kv.key = try r.string()
                        case 2: kv.value = try r.string()
                        default: return false
                        }
                        return true
                    }
                    return kv
                }
            case 6: f.createdBy = try r.string()
            case 7:
                f.hasColumnOrders = true
                try r.skip(type)
            default: return false
            }
            return true
        }
        guard !f.schema.isEmpty else { throw DecodeError("file metadata without a schema") }
        return f
    }

    mutating func pageHeader() throws(DecodeError) -> PageHeader {
        var h = PageHeader(type: -1, uncompressedPageSize: -1, compressedPageSize: -1)
        try readStruct { r, id, _ throws(DecodeError) in
            switch id {
            case 1: h.type = try r.i32()
            case 2: h.uncompressedPageSize = try r.i32()
            case 3: h.compressedPageSize = try r.i32()
            case 5:
                var d = DataPageHeader(numValues: 0, encoding: 0, definitionLevelEncoding: 3, repetitionLevelEncoding: 3)
                try r.readStruct { r, id, _ throws(DecodeError) in
                    switch id {
                    case 1: d.numValues = try r.i32()
                    case 2: d.encoding = try r.i32()
                    case 3: d.definitionLevelEncoding = try r.i32()
                    case 4: d.repetitionLevelEncoding = try r.i32()
                    default: return false
                    }
                    return true
                }
                h.dataPage = d
            case 7:
                var d = DictionaryPageHeader(numValues: 0, encoding: 0)
                try r.readStruct { r, id, _ throws(DecodeError) in
                    switch id {
                    case 1: d.numValues = try r.i32()
                    case 2: d.encoding = try r.i32()
                    default: return false
                    }
                    return true
                }
                h.dictionaryPage = d
            case 8:
                var d = DataPageHeaderV2(numValues: 0, numNulls: 0, numRows: 0, encoding: 0, definitionLevelsByteLength: 0,
                                         repetitionLevelsByteLength: 0, isCompressed: true)
                try r.readStruct { r, id, type throws(DecodeError) in
                    switch id {
                    case 1: d.numValues = try r.i32()
                    case 2: d.numNulls = try r.i32()
                    case 3: d.numRows = try r.i32()
                    case 4: d.encoding = try r.i32()
                    case 5: d.definitionLevelsByteLength = try r.i32()
                    case 6: d.repetitionLevelsByteLength = try r.i32()
                    case 7: d.isCompressed = try r.bool(type)
                    default: return false
                    }
                    return true
                }
                h.dataPageV2 = d
            default: return false
            }
            return true
        }
        guard h.type >= 0, h.uncompressedPageSize >= 0, h.compressedPageSize >= 0 else {
            throw DecodeError("page header without a type or with a negative size")
        }
        return h
    }
}

// MARK: Encoding

extension ThriftCompactWriter {
    mutating func write(_ e: SchemaElement) {
        if let t = e.type { i32(1, t.rawValue) }
        if let l = e.typeLength { i32(2, l) }
        if let r = e.repetition { i32(3, r.rawValue) }
        string(4, e.name)
        if let n = e.numChildren { i32(5, n) }
        if let c = e.convertedType { i32(6, c.rawValue) }
        if let s = e.scale { i32(7, s) }
        if let p = e.precision { i32(8, p) }
        if let logical = e.logicalType {
            structure(10) { w in
                func unit(_ w: inout ThriftCompactWriter, _ u: TimeUnit) {
                    w.structure(2) { w in
                        switch u {
                        case .milliseconds: w.structure(1) { _ in }
                        case .microseconds: w.structure(2) { _ in }
                        case .nanoseconds: w.structure(3) { _ in }
                        }
                    }
                }
                switch logical {
                case .string: w.structure(1) { _ in }
                case .list: w.structure(3) { _ in }
                case .decimal(let scale, let precision):
                    w.structure(5) { w in
                        w.i32(1, scale)
                        w.i32(2, precision)
                    }
                case .date: w.structure(6) { _ in }
                case .timestamp(let utc, let u):
                    w.structure(8) { w in
                        w.bool(1, utc)
                        unit(&w, u)
                    }
                case .integer(let width, let signed):
                    w.structure(10) { w in
                        // i8 field: header then one raw byte.
                        w.byteField(1, UInt8(bitPattern: width))
                        w.bool(2, signed)
                    }
                default: break
                }
            }
        }
    }

    mutating func byteField(_ id: Int16, _ value: UInt8) {
        // Written through the generic header path with the byte type.
        writeHeader(id, .byte)
        appendRaw(value)
    }

    mutating func write(_ s: Statistics) {
        if let v = s.max { binary(1, v) }
        if let v = s.min { binary(2, v) }
        if let v = s.nullCount { i64(3, v) }
        if let v = s.maxValue { binary(5, v) }
        if let v = s.minValue { binary(6, v) }
    }

    mutating func write(_ m: ColumnMetaData) {
        i32(1, m.type.rawValue)
        list(2, .i32, count: m.encodings.count) { w in for e in m.encodings { w.elementI32(e) } }
        list(3, .binary, count: m.pathInSchema.count) { w in for p in m.pathInSchema { w.elementString(p) } }
        i32(4, m.codec)
        i64(5, m.numValues)
        i64(6, m.totalUncompressedSize)
        i64(7, m.totalCompressedSize)
        i64(9, m.dataPageOffset)
        if let d = m.dictionaryPageOffset { i64(11, d) }
        if let s = m.statistics { structure(12) { w in w.write(s) } }
    }

    mutating func write(_ f: FileMetaData) {
        i32(1, f.version)
        list(2, .structure, count: f.schema.count) { w in for e in f.schema { w.element { w in w.write(e) } } }
        i64(3, f.numRows)
        list(4, .structure, count: f.rowGroups.count) { w in
            for g in f.rowGroups {
                w.element { w in
                    w.list(1, .structure, count: g.columns.count) { w in
                        for c in g.columns {
                            w.element { w in
                                if let p = c.filePath { w.string(1, p) }
                                w.i64(2, c.fileOffset)
                                if let m = c.metaData { w.structure(3) { w in w.write(m) } }
                            }
                        }
                    }
                    w.i64(2, g.totalByteSize)
                    w.i64(3, g.numRows)
                }
            }
        }
        if !f.keyValueMetadata.isEmpty {
            list(5, .structure, count: f.keyValueMetadata.count) { w in
                for kv in f.keyValueMetadata {
                    w.element { w in
                        w.string(1, kv.key)
                        if let v = kv.value { w.string(2, v) }
                    }
                }
            }
        }
        if let c = f.createdBy { string(6, c) }
        if f.hasColumnOrders {
            // One TYPE_ORDER per leaf column: min_value/max_value follow each type's sort order.
            let leaves = f.schema.filter { $0.numChildren == nil }.count
            list(7, .structure, count: leaves) { w in
                for _ in 0..<leaves { w.element { w in w.structure(1) { _ in } } }
            }
        }
        stop()
    }

    mutating func write(_ h: PageHeader) {
        i32(1, h.type)
        i32(2, h.uncompressedPageSize)
        i32(3, h.compressedPageSize)
        if let d = h.dataPage {
            structure(5) { w in
                w.i32(1, d.numValues)
                w.i32(2, d.encoding)
                w.i32(3, d.definitionLevelEncoding)
                w.i32(4, d.repetitionLevelEncoding)
            }
        }
        if let d = h.dictionaryPage {
            structure(7) { w in
                w.i32(1, d.numValues)
                w.i32(2, d.encoding)
            }
        }
        stop()
    }
}
