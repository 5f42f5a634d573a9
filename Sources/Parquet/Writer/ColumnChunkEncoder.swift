import Codecs
import Columnar

/// The non-null leaf values of a column chunk, in the buffer of their physical type.
enum DenseValues {
    case bool([Bool])
    case int32([Int32])
    case int64([Int64])
    case float([Float])
    case double([Double])
    case bytes(BytesBuffer)

    var count: Int {
        switch self {
        case .bool(let v): return v.count
        case .int32(let v): return v.count
        case .int64(let v): return v.count
        case .float(let v): return v.count
        case .double(let v): return v.count
        case .bytes(let b): return b.count
        }
    }
}

/// Encodes one column of a row group: levels, values (dictionary or PLAIN), pages, compression, statistics.
struct ColumnChunkEncoder {
    let field: Field
    let column: Column
    let rows: Range<Int>
    let options: ParquetWriteOptions

    private var leafType: DataType
    private var physical: PhysicalType
    private var maxDef: Int
    private var maxRep: Int
    private var defs: [UInt32] = []
    private var reps: [UInt32] = []

    init(field: Field, column: Column, rows: Range<Int>, options: ParquetWriteOptions) {
        self.field = field
        self.column = column
        self.rows = rows
        self.options = options
        if case .list(let inner) = field.type {
            leafType = inner
            maxRep = 1
            maxDef = (field.nullable ? 1 : 0) + 2
        } else {
            leafType = field.type
            maxRep = 0
            maxDef = field.nullable ? 1 : 0
        }
        physical = (try? ParquetFileWriter.leafElement(name: "", type: leafType).type) ?? .byteArray
        if physical == .int32, leafType == .uint32 { physical = .int32 }
    }

    /// The chunk's bytes (pages with their headers) and its metadata, for a chunk starting at file offset `start`.
    mutating func encode(startingAt start: Int) throws -> (bytes: [UInt8], metadata: ColumnMetaData) {
        if !field.nullable, column.nullCount > 0 {
            throw ParquetError("column is declared non-nullable but holds \(column.nullCount) nulls")
        }
        let dense = try levelsAndValues()
        var out: [UInt8] = []
        var dictionaryOffset: Int? = nil
        var encodings: [Int32] = [Encoding.rle.rawValue]
        var uncompressedTotal = 0

        // Dictionary attempt.
        var indices: [UInt32]? = nil
        if options.dictionary, physical != .boolean, let (dict, idx) = buildDictionary(dense) {
            let page = plain(dict)
            let compressed = try compress(page)
            var header = PageHeader(type: PageType.dictionaryPage.rawValue, uncompressedPageSize: Int32(page.count),
                                    compressedPageSize: Int32(compressed.count))
            header.dictionaryPage = DictionaryPageHeader(numValues: Int32(dict.count), encoding: Encoding.plain.rawValue)
            var w = ThriftCompactWriter()
            w.write(header)
            dictionaryOffset = start
            uncompressedTotal += w.bytes.count + page.count
            out += w.bytes
            out += compressed
            indices = idx
            encodings += [Encoding.plain.rawValue, Encoding.rleDictionary.rawValue]
        } else {
            encodings.append(Encoding.plain.rawValue)
        }
        let dataOffset = start + out.count

        // Data pages, split at row boundaries.
        let entries = defs.isEmpty ? dense.count : defs.count
        let bytesPerValue = max(1, estimatedSize(dense) / max(dense.count, 1))
        let target = max(1, options.pageSize / (indices != nil ? 4 : bytesPerValue))
        var entryStart = 0
        var valueStart = 0
        repeat {
            var entryEnd = min(entries, entryStart + target)
            if maxRep > 0 { while entryEnd < entries && reps[entryEnd] != 0 { entryEnd += 1 } }
            var present = entryEnd - entryStart
            if maxDef > 0 { present = defs[entryStart..<entryEnd].reduce(0) { $0 + ($1 == UInt32(maxDef) ? 1 : 0) } }
            var body: [UInt8] = []
            if maxRep > 0 { levels(reps[entryStart..<entryEnd], maxLevel: maxRep, into: &body) }
            if maxDef > 0 { levels(defs[entryStart..<entryEnd], maxLevel: maxDef, into: &body) }
            if let indices {
                let slice = Array(indices[valueStart..<(valueStart + present)])
                let width = RLEHybrid.bitWidth(for: UInt32(max(0, (indices.max() ?? 0))))
                body.append(UInt8(width))
                slice.withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: width, into: &body) }
            } else {
                body += plain(dense, range: valueStart..<(valueStart + present))
            }
            let compressed = try compress(body)
            var header = PageHeader(type: PageType.dataPage.rawValue, uncompressedPageSize: Int32(body.count),
                                    compressedPageSize: Int32(compressed.count))
            header.dataPage = DataPageHeader(numValues: Int32(entryEnd - entryStart),
                                             encoding: indices != nil ? Encoding.rleDictionary.rawValue : Encoding.plain.rawValue,
                                             definitionLevelEncoding: Encoding.rle.rawValue, repetitionLevelEncoding: Encoding.rle.rawValue)
            var w = ThriftCompactWriter()
            w.write(header)
            uncompressedTotal += w.bytes.count + body.count
            out += w.bytes
            out += compressed
            entryStart = entryEnd
            valueStart += present
        } while entryStart < entries

        let codec: Int32
        switch options.codec {
        case .uncompressed: codec = 0
        case .snappy: codec = 1
        case .gzip: codec = 2
        case .zstd: codec = 6
        case .lz4Raw: codec = 7
        }
        let meta = ColumnMetaData(type: physical, encodings: encodings, pathInSchema: maxRep > 0 ? [field.name, "list", "element"] : [field.name],
                                  codec: codec, numValues: Int64(entries), totalUncompressedSize: Int64(uncompressedTotal),
                                  totalCompressedSize: Int64(out.count), dataPageOffset: Int64(dataOffset),
                                  dictionaryPageOffset: dictionaryOffset.map(Int64.init), statistics: statistics(dense))
        return (out, meta)
    }

    private func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        try bytes.withUnsafeBytes { try options.codec.compress($0, level: options.compressionLevel) }
    }

    private func levels(_ values: ArraySlice<UInt32>, maxLevel: Int, into out: inout [UInt8]) {
        var encoded: [UInt8] = []
        Array(values).withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: RLEHybrid.bitWidth(for: UInt32(maxLevel)), into: &encoded) }
        var length = UInt32(encoded.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out += encoded
    }

    /// Computes the levels and gathers the non-null leaf values.
    private mutating func levelsAndValues() throws -> DenseValues {
        var leaf = column
        var leafRows: [Int] = []
        if maxRep > 0 {
            guard case .list(let offsets, let child) = column.values else { throw ParquetError("a list column without list values") }
            leaf = child
            let listDef = UInt32(field.nullable ? 1 : 0)
            for r in rows {
                if column.isNull(r) {
                    reps.append(0); defs.append(0)
                    continue
                }
                let range = offsets[r]..<offsets[r + 1]
                if range.isEmpty {
                    reps.append(0); defs.append(listDef)
                    continue
                }
                for (j, e) in range.enumerated() {
                    reps.append(j == 0 ? 0 : 1)
                    defs.append(child.isNull(e) ? UInt32(maxDef - 1) : UInt32(maxDef))
                    if !child.isNull(e) { leafRows.append(e) }
                }
            }
        } else if maxDef > 0 {
            defs.reserveCapacity(rows.count)
            if column.validity == nil {
                defs.append(contentsOf: repeatElement(1, count: rows.count))
            } else {
                for r in rows {
                    let valid = !column.isNull(r)
                    defs.append(valid ? 1 : 0)
                    if valid { leafRows.append(r) }
                }
            }
        }
        let selectAll = maxRep == 0 && (maxDef == 0 || column.validity == nil)
        func pick<T>(_ v: [T]) -> [T] {
            selectAll ? Array(v[rows]) : leafRows.map { v[$0] }
        }
        switch (physical, leaf.values) {
        case (.boolean, .bool(let v)): return .bool(pick(v))
        case (.int32, .int32(let v)): return .int32(pick(v))
        case (.int32, .int64(let v)) where leafType == .uint32: return .int32(pick(v).map { Int32(truncatingIfNeeded: $0) })
        case (.int64, .int64(let v)): return .int64(pick(v))
        case (.float, .float32(let v)): return .float(pick(v))
        case (.double, .float64(let v)): return .double(pick(v))
        case (.byteArray, .bytes(let b)), (.fixedLenByteArray, .bytes(let b)):
            var out = BytesBuffer()
            let chosen = selectAll ? Array(rows) : leafRows
            out.offsets.reserveCapacity(chosen.count + 1)
            for i in chosen {
                if case .fixedBinary(let n) = leafType, b.offsets[i + 1] - b.offsets[i] != n {
                    throw ParquetError("value \(i) has \(b.offsets[i + 1] - b.offsets[i]) bytes, the column's fixed length is \(n)")
                }
                b.withBytes(at: i) { out.append($0) }
            }
            return .bytes(out)
        default:
            throw ParquetError("column type \(leafType) does not match its values")
        }
    }

    private func estimatedSize(_ dense: DenseValues) -> Int {
        switch dense {
        case .bool(let v): return v.count / 8
        case .int32(let v): return v.count * 4
        case .int64(let v): return v.count * 8
        case .float(let v): return v.count * 4
        case .double(let v): return v.count * 8
        case .bytes(let b): return b.data.count + 4 * b.count
        }
    }

    /// Builds a dictionary when it stays under the size limit: the unique values and each value's index.
    private func buildDictionary(_ dense: DenseValues) -> (DenseValues, [UInt32])? {
        func build<K: Hashable>(_ keys: [K], size: Int) -> ([Int], [UInt32])? {
            var map: [K: UInt32] = [:]
            var firsts: [Int] = []
            var indices = [UInt32]()
            indices.reserveCapacity(keys.count)
            let maxEntries = max(1, options.dictionaryPageSizeLimit / max(size, 1))
            for (i, k) in keys.enumerated() {
                if let idx = map[k] {
                    indices.append(idx)
                } else {
                    guard firsts.count < maxEntries else { return nil }
                    let idx = UInt32(firsts.count)
                    map[k] = idx
                    firsts.append(i)
                    indices.append(idx)
                }
            }
            return (firsts, indices)
        }
        switch dense {
        case .bool: return nil
        case .int32(let v): return build(v, size: 4).map { (.int32($0.0.map { v[$0] }), $0.1) }
        case .int64(let v): return build(v, size: 8).map { (.int64($0.0.map { v[$0] }), $0.1) }
        case .float(let v): return build(v.map(\.bitPattern), size: 4).map { (.float($0.0.map { v[$0] }), $0.1) }
        case .double(let v): return build(v.map(\.bitPattern), size: 8).map { (.double($0.0.map { v[$0] }), $0.1) }
        case .bytes(let b):
            let average = b.count == 0 ? 8 : b.data.count / b.count + 4
            let keys = (0..<b.count).map { b.bytes(at: $0) }
            guard let (firsts, indices) = build(keys, size: average) else { return nil }
            var dict = BytesBuffer()
            for i in firsts { b.withBytes(at: i) { dict.append($0) } }
            return (.bytes(dict), indices)
        }
    }

    /// PLAIN encoding of `range` of the values (all when nil).
    private func plain(_ dense: DenseValues, range: Range<Int>? = nil) -> [UInt8] {
        let r = range ?? 0..<dense.count
        func raw<T>(_ v: [T]) -> [UInt8] {
            v[r].withUnsafeBytes { Array($0) }
        }
        switch dense {
        case .bool(let v):
            var out = [UInt8](repeating: 0, count: (r.count + 7) / 8)
            for (k, i) in r.enumerated() where v[i] { out[k >> 3] |= 1 << UInt8(k & 7) }
            return out
        case .int32(let v): return raw(v)
        case .int64(let v): return raw(v)
        case .float(let v): return raw(v)
        case .double(let v): return raw(v)
        case .bytes(let b):
            var out: [UInt8] = []
            out.reserveCapacity(b.offsets[r.upperBound] - b.offsets[r.lowerBound] + 4 * r.count)
            for i in r {
                if physical == .byteArray {
                    var n = UInt32(b.offsets[i + 1] - b.offsets[i]).littleEndian
                    withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
                }
                out.append(contentsOf: b.bytes(at: i))
            }
            return out
        }
    }

    /// min/max (in the type's order) and the null count.
    private func statistics(_ dense: DenseValues) -> Statistics? {
        if maxRep > 0 { return Statistics(nullCount: Int64(column.nullCount)) }
        var s = Statistics(nullCount: Int64(rows.count - dense.count))
        func bytes<T>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v) { Array($0) } }
        switch dense {
        case .bool(let v):
            if let lo = v.min(by: { !$0 && $1 }), let hi = v.max(by: { !$0 && $1 }) { s.minValue = [lo ? 1 : 0]; s.maxValue = [hi ? 1 : 0] }
        case .int32(let v):
            if [.uint8, .uint16, .uint32].contains(leafType) {
                let u = v.map { UInt32(bitPattern: $0) }
                if let lo = u.min(), let hi = u.max() { s.minValue = bytes(lo); s.maxValue = bytes(hi) }
            } else if let lo = v.min(), let hi = v.max() { s.minValue = bytes(lo); s.maxValue = bytes(hi) }
        case .int64(let v):
            if leafType == .uint64 {
                let u = v.map { UInt64(bitPattern: $0) }
                if let lo = u.min(), let hi = u.max() { s.minValue = bytes(lo); s.maxValue = bytes(hi) }
            } else if let lo = v.min(), let hi = v.max() { s.minValue = bytes(lo); s.maxValue = bytes(hi) }
        case .float(let v):
            let finite = v.filter { !$0.isNaN }
            if let lo = finite.min(), let hi = finite.max() {
                s.minValue = bytes(lo == 0 ? -Float(0) : lo)
                s.maxValue = bytes(hi == 0 ? Float(0) : hi)
            }
        case .double(let v):
            let finite = v.filter { !$0.isNaN }
            if let lo = finite.min(), let hi = finite.max() {
                s.minValue = bytes(lo == 0 ? -Double(0) : lo)
                s.maxValue = bytes(hi == 0 ? Double(0) : hi)
            }
        case .bytes(let b):
            if case .decimal = leafType { break }
            guard b.count > 0 else { break }
            var lo = 0, hi = 0
            for i in 1..<b.count {
                if b.bytes(at: i).lexicographicallyPrecedes(b.bytes(at: lo)) { lo = i }
                if b.bytes(at: hi).lexicographicallyPrecedes(b.bytes(at: i)) { hi = i }
            }
            s.minValue = Array(b.bytes(at: lo))
            s.maxValue = Array(b.bytes(at: hi))
        }
        return s
    }
}
