import Codecs
import Columnar

/// Limits that keep corrupt files from causing unbounded allocations.
enum ReadLimits {
    /// The largest page (uncompressed) accepted.
    static let maxPageSize = 1 << 30
    /// The largest ratio of uncompressed to compressed page size accepted (zstd reaches a few thousand on zeros).
    static let maxCompressionRatio = 1 << 16
    /// The most values (levels) in one page: writers use 20k-1M; RLE lets a few bytes claim billions.
    static let maxPageValues = 1 << 24
    /// The most rows in one row group (pyarrow's maximum is 64M).
    static let maxRowGroupRows = 1 << 28
    /// Buffers are reserved up to this many rows ahead; past it they grow with the data actually decoded.
    static let maxReservation = 1 << 20
}

/// Decodes one column chunk (all its pages) into a ``Column``.
struct ColumnChunkReader {
    let descriptor: ColumnDescriptor
    let file: UnsafeRawBufferPointer
    let codec: Codec
    let rowCount: Int

    // Leaf values, in the buffer of the physical type (placeholders at null slots).
    private var bools: [Bool] = []
    private var ints32: [Int32] = []
    private var ints64: [Int64] = []
    private var floats: [Float] = []
    private var doubles: [Double] = []
    private var bytes = BytesBuffer()
    private var leafValidity: Bitmap
    private var leafCount = 0
    private var leafHasNulls = false
    // Lists: offsets and validity per row.
    private var listOffsets: [Int] = []
    private var listValidity: Bitmap
    private var listHasNulls = false
    private var rowsSeen = 0

    private var dictionary: ColumnValues?
    /// When set, a flat fixed-width column's values are written here (row `i` at `sink + i * stride`)
    /// instead of into the arrays: the final buffer, so values are copied once.
    private let sink: UnsafeMutableRawPointer?
    private let stride: Int
    /// Reused for dictionary indices and levels across pages.
    private var indexScratch: [UInt32] = []

    /// Whether a column can be decoded straight into a final buffer of `DirectValue`s.
    static func supportsSink(_ d: ColumnDescriptor) -> Bool {
        guard d.maxRepetitionLevel == 0 else { return false }
        switch d.physicalType {
        case .boolean, .int64, .float, .double: return true
        case .int32: return d.leafType != .uint32
        default: return false
        }
    }

    static func codec(_ raw: Int32) throws(DecodeError) -> Codec {
        switch raw {
        case 0: return .uncompressed
        case 1: return .snappy
        case 2: return .gzip
        case 6: return .zstd
        case 7: return .lz4Raw
        case 3: throw DecodeError("LZO compression is not supported")
        case 4: throw DecodeError("BROTLI compression is not supported")
        case 5: throw DecodeError("LZ4 (Hadoop framing) compression is not supported; files written with LZ4_RAW are")
        default: throw DecodeError("unknown compression codec \(raw)")
        }
    }

    init(descriptor: ColumnDescriptor, file: UnsafeRawBufferPointer, codec: Codec, rowCount: Int, sink: UnsafeMutableRawPointer? = nil) {
        self.descriptor = descriptor
        self.file = file
        self.codec = codec
        self.rowCount = rowCount
        self.sink = sink
        switch descriptor.physicalType {
        case .boolean: stride = MemoryLayout<Bool>.stride
        case .int32, .float: stride = 4
        default: stride = 8
        }
        let isList = descriptor.maxRepetitionLevel > 0
        // Validity grows page by page: nothing is allocated on the footer's word alone.
        leafValidity = Bitmap(count: 0, value: true)
        listValidity = Bitmap(count: 0, value: true)
        let reserve = sink == nil ? min(rowCount, ReadLimits.maxReservation) : 0
        if !isList {
            switch descriptor.physicalType {
            case .boolean: bools.reserveCapacity(reserve)
            case .int32: ints32.reserveCapacity(reserve)
            case .int64, .int96: ints64.reserveCapacity(reserve)
            case .float: floats.reserveCapacity(reserve)
            case .double: doubles.reserveCapacity(reserve)
            case .byteArray, .fixedLenByteArray: bytes.offsets.reserveCapacity(reserve + 1)
            }
        } else {
            listOffsets.reserveCapacity(reserve + 1)
        }
    }

    /// Reads the chunk appending its byte-array values to `buffer` (values of earlier row groups); the returned
    /// column carries only the validity. The buffer is moved in and out, never shared, so it is never copied.
    mutating func read(_ metadata: ColumnMetaData, appendingTo buffer: inout BytesBuffer) throws(ParquetError) -> Column {
        swap(&bytes, &buffer)
        defer { swap(&bytes, &buffer) }
        var column = try read(metadata)
        column.values = .bytes(BytesBuffer())
        return column
    }

    /// Reads every page of the chunk at `metadata` and returns the column. Errors carry the page offset.
    mutating func read(_ metadata: ColumnMetaData) throws(ParquetError) -> Column {
        var start = Int(metadata.dataPageOffset)
        if let d = metadata.dictionaryPageOffset, d > 0, d < start { start = Int(d) }
        let length = Int(metadata.totalCompressedSize)
        // A chunk of no values has no page to read (pyarrow writes an empty table's chunk with data page offset 0).
        guard start >= 4 || metadata.numValues == 0, length >= 0, start <= file.count, length <= file.count - start else {
            throw ParquetError("column chunk at offset \(start) with \(length) bytes lies outside the file (\(file.count) bytes)", at: ParquetLocation(file: "", offset: start))
        }
        let end = start + length
        var position = start
        var valuesSeen = 0
        let expected = Int(metadata.numValues)
        while valuesSeen < expected {
            guard position < end else {
                throw ParquetError("column chunk ends after \(valuesSeen) of \(expected) values", at: ParquetLocation(file: "", offset: position))
            }
            do {
                var reader = ThriftCompactReader(UnsafeRawBufferPointer(rebasing: file[position..<end]))
                let header = try reader.pageHeader()
                let bodyStart = position + reader.position
                let compressed = Int(header.compressedPageSize)
                guard compressed <= end - bodyStart else {
                    throw DecodeError("page of \(compressed) bytes runs past the end of its column chunk")
                }
                let body = UnsafeRawBufferPointer(rebasing: file[bodyStart..<(bodyStart + compressed)])
                let uncompressed = Int(header.uncompressedPageSize)
                guard uncompressed <= ReadLimits.maxPageSize,
                      uncompressed <= max(compressed, 64) * ReadLimits.maxCompressionRatio else {
                    throw DecodeError("page claims \(uncompressed) uncompressed bytes from \(compressed) bytes: not a plausible size")
                }
                switch header.type {
                case PageType.dictionaryPage.rawValue:
                    guard let d = header.dictionaryPage else { throw DecodeError("dictionary page without its header") }
                    try readDictionary(d, body: body, uncompressedSize: uncompressed)
                case PageType.dataPage.rawValue:
                    guard let d = header.dataPage else { throw DecodeError("data page without its header") }
                    valuesSeen += try readDataPageV1(d, body: body, uncompressedSize: uncompressed)
                case PageType.dataPageV2.rawValue:
                    guard let d = header.dataPageV2 else { throw DecodeError("data page v2 without its header") }
                    valuesSeen += try readDataPageV2(d, body: body, uncompressedSize: uncompressed)
                case PageType.indexPage.rawValue:
                    break
                default:
                    throw DecodeError("unknown page type \(header.type)")
                }
                position = bodyStart + compressed
            } catch let error as DecodeError {
                throw ParquetError(error.message, at: ParquetLocation(file: "", offset: position))
            } catch let error as CodecError {
                throw ParquetError("decompression failed", at: ParquetLocation(file: "", offset: position), cause: error)
            } catch {
                throw ParquetError("", at: ParquetLocation(file: "", offset: position), cause: error)
            }
        }
        return try finish()
    }

    /// Static on purpose: an instance method would hold a copy of `self` (and of its buffers) while `use` mutates
    /// them, making every append copy the whole buffer.
    private static func decompress(_ codec: Codec, _ body: UnsafeRawBufferPointer, uncompressedSize: Int,
                                   _ use: (UnsafeRawBufferPointer) throws -> Void) throws {
        if codec == .uncompressed {
            guard body.count == uncompressedSize else {
                throw DecodeError("uncompressed page is \(body.count) bytes, its header says \(uncompressedSize)")
            }
            try use(body)
        } else {
            let data = try codec.decompress(body, uncompressedSize: uncompressedSize)
            try data.withUnsafeBytes { try use($0) }
        }
    }

    private mutating func readDictionary(_ header: DictionaryPageHeader, body: UnsafeRawBufferPointer, uncompressedSize: Int) throws {
        guard header.encoding == Encoding.plain.rawValue || header.encoding == Encoding.plainDictionary.rawValue else {
            throw DecodeError("dictionary page encoding \(header.encoding) is not PLAIN")
        }
        let count = Int(header.numValues)
        guard count >= 0, count <= uncompressedSize * 8 + 1 else { throw DecodeError("dictionary page claims \(count) values") }
        try Self.decompress(codec, body, uncompressedSize: uncompressedSize) { data in
            dictionary = try decodePlain(data, count: count)
        }
    }

    private mutating func readDataPageV1(_ header: DataPageHeader, body: UnsafeRawBufferPointer, uncompressedSize: Int) throws -> Int {
        let count = try checkedValueCount(header.numValues)
        try Self.decompress(codec, body, uncompressedSize: uncompressedSize) { data in
            var pos = 0
            var rep: [UInt32] = []
            var def: [UInt32] = []
            func levels(_ maxLevel: Int, _ encoding: Int32) throws -> [UInt32] {
                guard maxLevel > 0 else { return [] }
                let width = RLEHybrid.bitWidth(for: UInt32(maxLevel))
                var out = [UInt32](repeating: 0, count: count)
                if encoding == Encoding.bitPacked.rawValue {
                    let bytes = (count * width + 7) / 8
                    guard pos + bytes <= data.count else { throw DecodeError("BIT_PACKED levels run past the end of the page") }
                    out.withUnsafeMutableBufferPointer { o in
                        RLEHybrid.unpackBigEndian(UnsafeRawBufferPointer(rebasing: data[pos..<(pos + bytes)]), bitWidth: width, count: count, into: o)
                    }
                    pos += bytes
                    return out
                }
                guard pos + 4 <= data.count else { throw DecodeError("levels length runs past the end of the page") }
                let length = Int(data.loadUnaligned(fromByteOffset: pos, as: UInt32.self).littleEndian)
                pos += 4
                guard length <= data.count - pos else { throw DecodeError("levels of \(length) bytes run past the end of the page") }
                _ = try out.withUnsafeMutableBufferPointer { o in
                    try RLEHybrid.decode(UnsafeRawBufferPointer(rebasing: data[pos..<(pos + length)]), bitWidth: width, count: count, into: o)
                }
                pos += length
                return out
            }
            rep = try levels(descriptor.maxRepetitionLevel, header.repetitionLevelEncoding)
            def = try levels(descriptor.maxDefinitionLevel, header.definitionLevelEncoding)
            try appendPage(encoding: header.encoding, values: UnsafeRawBufferPointer(rebasing: data[pos...]), count: count, rep: rep, def: def)
        }
        return count
    }

    private mutating func readDataPageV2(_ header: DataPageHeaderV2, body: UnsafeRawBufferPointer, uncompressedSize: Int) throws -> Int {
        let count = try checkedValueCount(header.numValues)
        let repLength = Int(header.repetitionLevelsByteLength), defLength = Int(header.definitionLevelsByteLength)
        guard count >= 0, repLength >= 0, defLength >= 0, repLength + defLength <= body.count,
              repLength + defLength <= uncompressedSize else {
            throw DecodeError("data page v2 level lengths (\(repLength) + \(defLength)) exceed the page (\(body.count) bytes)")
        }
        func levels(_ maxLevel: Int, _ slice: UnsafeRawBufferPointer) throws -> [UInt32] {
            guard maxLevel > 0 else { return [] }
            var out = [UInt32](repeating: 0, count: count)
            _ = try out.withUnsafeMutableBufferPointer { o in
                try RLEHybrid.decode(slice, bitWidth: RLEHybrid.bitWidth(for: UInt32(maxLevel)), count: count, into: o)
            }
            return out
        }
        let rep = try levels(descriptor.maxRepetitionLevel, UnsafeRawBufferPointer(rebasing: body[0..<repLength]))
        let def = try levels(descriptor.maxDefinitionLevel, UnsafeRawBufferPointer(rebasing: body[repLength..<(repLength + defLength)]))
        let valuesBody = UnsafeRawBufferPointer(rebasing: body[(repLength + defLength)...])
        let valuesSize = uncompressedSize - repLength - defLength
        if header.isCompressed && codec != .uncompressed {
            let data = try codec.decompress(valuesBody, uncompressedSize: valuesSize)
            try data.withUnsafeBytes { try appendPage(encoding: header.encoding, values: $0, count: count, rep: rep, def: def) }
        } else {
            try appendPage(encoding: header.encoding, values: valuesBody, count: count, rep: rep, def: def)
        }
        return count
    }

    /// A page's value count, checked: not negative, not absurd, and (flat columns) within the rows left.
    private func checkedValueCount(_ raw: Int32) throws -> Int {
        let count = Int(raw)
        guard count >= 0, count <= ReadLimits.maxPageValues else { throw DecodeError("page claims \(raw) values") }
        if descriptor.maxRepetitionLevel == 0, count > rowCount - leafCount {
            throw DecodeError("page of \(count) values overflows its row group (\(rowCount - leafCount) rows left)")
        }
        return count
    }

    /// Decodes a page's values and places them by their levels.
    private mutating func appendPage(encoding: Int32, values: UnsafeRawBufferPointer, count: Int,
                                     rep: [UInt32], def: [UInt32]) throws {
        let maxDef = UInt32(descriptor.maxDefinitionLevel)
        var present = count
        if maxDef > 0 {
            present = 0
            for d in def {
                guard d <= maxDef else { throw DecodeError("definition level \(d) above the maximum \(maxDef)") }
                if d == maxDef { present += 1 }
            }
        }
        if descriptor.maxRepetitionLevel == 0, let sink {
            leafValidity.appendOnes(count)
            try decodeIntoSink(sink + leafCount * stride, encoding: encoding, data: values, count: count, present: present, def: def, maxDef: maxDef)
            leafCount += count
            return
        }
        if descriptor.maxRepetitionLevel == 0, descriptor.physicalType == .byteArray || descriptor.physicalType == .fixedLenByteArray,
           encoding == Encoding.plainDictionary.rawValue || encoding == Encoding.rleDictionary.rawValue {
            leafValidity.appendOnes(count)
            try gatherBytes(encoding: encoding, data: values, count: count, present: present, def: def, maxDef: maxDef)
            leafCount += count
            return
        }
        let dense = try decodeValues(encoding: encoding, data: values, count: present)
        if descriptor.maxRepetitionLevel == 0 {
            leafValidity.appendOnes(count)
            try place(dense, def: def, maxDef: maxDef, slots: count, rowBase: leafCount)
            leafCount += count
            return
        }
        // Lists: rep 0 starts a row; def decides null list, empty list, null element or element.
        let listDef = UInt32(descriptor.listDefinitionLevel)
        var elementDefs: [UInt32] = []
        elementDefs.reserveCapacity(count)
        for i in 0..<count {
            let d = def.isEmpty ? maxDef : def[i]
            if rep[i] == 0 {
                listOffsets.append(leafCount + elementDefs.count)
                guard rowsSeen < rowCount else { throw DecodeError("column chunk holds more lists than its row group's \(rowCount) rows") }
                listValidity.appendOnes(1)
                if d < listDef {
                    listValidity.clear(rowsSeen)
                    listHasNulls = true
                }
                rowsSeen += 1
            } else if rowsSeen == 0 {
                throw DecodeError("the first value of a column chunk continues a list (repetition level \(rep[i]))")
            }
            if d > listDef { elementDefs.append(d) }
        }
        let elements = elementDefs.count
        leafValidity.appendOnes(elements)
        try place(dense, def: elementDefs, maxDef: maxDef, slots: elements, rowBase: leafCount)
        leafCount += elements
    }

    /// Decodes a dictionary-encoded page's indices (a bit-width byte, then RLE/bit-packed) into `indexScratch`.
    private mutating func decodeIndices(_ data: UnsafeRawBufferPointer, count: Int) throws {
        if indexScratch.count < count { indexScratch = [UInt32](repeating: 0, count: count) }
        guard count > 0 else { return }
        guard data.count >= 1 else { throw DecodeError("dictionary-encoded page without its bit width") }
        let width = Int(data[0])
        guard width <= 32 else { throw DecodeError("dictionary index bit width \(width) over 32") }
        _ = try indexScratch.withUnsafeMutableBufferPointer { o in
            try RLEHybrid.decode(UnsafeRawBufferPointer(rebasing: data[1...]), bitWidth: width, count: count, into: o)
        }
    }

    /// Gathers a dictionary-encoded page of byte arrays straight into the column's buffer.
    private mutating func gatherBytes(encoding: Int32, data: UnsafeRawBufferPointer, count: Int, present: Int,
                                      def: [UInt32], maxDef: UInt32) throws {
        guard case .bytes(let dict)? = dictionary else { throw DecodeError("dictionary-encoded page without a dictionary page") }
        let allPresent = present == count
        if !allPresent {
            leafHasNulls = true
            let base = leafCount
            for i in 0..<count where def[i] != maxDef { leafValidity.clear(base + i) }
        }
        try decodeIndices(data, count: present)
        let size = dict.count
        var total = 0
        for j in 0..<present {
            let k = Int(indexScratch[j])
            guard k < size else { throw DecodeError("dictionary index \(k) out of range (the dictionary has \(size) values)") }
            total += dict.offsets[k + 1] - dict.offsets[k]
        }
        // Work on local buffers (moved out of self, so nothing is shared or copied), then move them back.
        var data: [UInt8] = []
        var offsets: [Int] = []
        swap(&data, &bytes.data)
        swap(&offsets, &bytes.offsets)
        defer {
            swap(&data, &bytes.data)
            swap(&offsets, &bytes.offsets)
        }
        // No reserveCapacity here: it reallocates to the exact size, which repeated per page is quadratic.
        let start = data.count
        if data.capacity < start + total { data.reserveCapacity(max(start + total, data.capacity * 2)) }
        if offsets.capacity < offsets.count + count { offsets.reserveCapacity(max(offsets.count + count, offsets.capacity * 2)) }
        data.append(contentsOf: repeatElement(0, count: total))
        var position = start
        data.withUnsafeMutableBufferPointer { out in
            dict.data.withUnsafeBufferPointer { src in
                dict.offsets.withUnsafeBufferPointer { offs in
                    indexScratch.withUnsafeBufferPointer { idx in
                        var j = 0
                        for i in 0..<count {
                            if allPresent || def[i] == maxDef {
                                let k = Int(idx[j])
                                j += 1
                                let a = offs[k], n = offs[k + 1] - a
                                if n > 0 { (out.baseAddress! + position).update(from: src.baseAddress! + a, count: n) }
                                position += n
                            }
                            offsets.append(position)
                        }
                    }
                }
            }
        }
    }

    /// Decodes a flat page straight into the final buffer: PLAIN pages without nulls are one copy, dictionary pages
    /// one gather; other encodings decode to a scratch array first.
    private mutating func decodeIntoSink(_ out: UnsafeMutableRawPointer, encoding: Int32, data: UnsafeRawBufferPointer,
                                         count: Int, present: Int, def: [UInt32], maxDef: UInt32) throws {
        let allPresent = present == count
        if !allPresent {
            leafHasNulls = true
            let base = leafCount
            for i in 0..<count where def[i] != maxDef { leafValidity.clear(base + i) }
        }
        if encoding == Encoding.plain.rawValue, allPresent, descriptor.physicalType != .boolean {
            let bytes = count * stride
            guard bytes <= data.count else { throw DecodeError("PLAIN data holds \(data.count / stride) values of \(stride) bytes, \(count) expected") }
            if bytes > 0, let source = data.baseAddress { out.copyMemory(from: source, byteCount: bytes) }
            return
        }
        if (encoding == Encoding.plainDictionary.rawValue || encoding == Encoding.rleDictionary.rawValue), let dictionary {
            try decodeIndices(data, count: present)
            func gather<T>(_ dict: [T], _ zero: T) throws {
                let typed = out.assumingMemoryBound(to: T.self)
                try dict.withUnsafeBufferPointer { d in
                    try indexScratch.withUnsafeBufferPointer { idx in
                        var bad = false
                        if allPresent {
                            for i in 0..<count {
                                let k = Int(idx[i])
                                if k >= d.count { bad = true; break }
                                typed[i] = d[k]
                            }
                        } else {
                            var j = 0
                            for i in 0..<count where def[i] == maxDef {
                                let k = Int(idx[j])
                                if k >= d.count { bad = true; break }
                                typed[i] = d[k]
                                j += 1
                            }
                        }
                        if bad {
                            let first = idx[0..<present].first { Int($0) >= d.count } ?? 0
                            throw DecodeError("dictionary index \(first) out of range (the dictionary has \(d.count) values)")
                        }
                    }
                }
                if !allPresent { for i in 0..<count where def[i] != maxDef { typed[i] = zero } }
            }
            switch dictionary {
            case .int32(let d): try gather(d, 0)
            case .int64(let d): try gather(d, 0)
            case .float32(let d): try gather(d, 0)
            case .float64(let d): try gather(d, 0)
            case .bool(let d): try gather(d, false)
            default: throw DecodeError("dictionary of another type than its column")
            }
            return
        }
        let dense = try decodeValues(encoding: encoding, data: data, count: present)
        func scatter<T>(_ values: [T], zero: T) {
            let typed = out.assumingMemoryBound(to: T.self)
            if allPresent {
                values.withUnsafeBufferPointer { typed.update(from: $0.baseAddress!, count: count) }
                return
            }
            var k = 0
            for i in 0..<count {
                if def[i] == maxDef { typed[i] = values[k]; k += 1 } else { typed[i] = zero }
            }
        }
        switch dense {
        case .bool(let v): scatter(v, zero: false)
        case .int32(let v): scatter(v, zero: 0)
        case .int64(let v): scatter(v, zero: 0)
        case .float32(let v): scatter(v, zero: 0)
        case .float64(let v): scatter(v, zero: 0)
        default: throw DecodeError("values of another type than their column")
        }
    }

    /// Appends `slots` values: dense values where the definition level is the maximum, placeholders elsewhere.
    private mutating func place(_ dense: ColumnValues, def: [UInt32], maxDef: UInt32, slots: Int, rowBase: Int) throws {
        let allPresent = maxDef == 0 || dense.count == slots
        if !allPresent {
            leafHasNulls = true
            for i in 0..<slots where def[i] != maxDef { leafValidity.clear(rowBase + i) }
        }
        func scatter<T>(_ values: [T], zero: T, into out: inout [T]) {
            if allPresent {
                out.append(contentsOf: values)
                return
            }
            var k = 0
            for i in 0..<slots {
                if def[i] == maxDef {
                    out.append(values[k])
                    k += 1
                } else {
                    out.append(zero)
                }
            }
        }
        switch dense {
        case .bool(let v): scatter(v, zero: false, into: &bools)
        case .int32(let v): scatter(v, zero: 0, into: &ints32)
        case .int64(let v): scatter(v, zero: 0, into: &ints64)
        case .float32(let v): scatter(v, zero: 0, into: &floats)
        case .float64(let v): scatter(v, zero: 0, into: &doubles)
        case .bytes(let b):
            if allPresent && bytes.count == 0 && bytes.data.isEmpty {
                bytes = b
                return
            }
            let base = bytes.data.count
            bytes.data.append(contentsOf: b.data)
            if allPresent {
                for k in 1..<b.offsets.count { bytes.offsets.append(b.offsets[k] + base) }
            } else {
                var k = 0
                for i in 0..<slots {
                    if def[i] == maxDef { k += 1 }
                    bytes.offsets.append(b.offsets[k] + base)
                }
            }
        case .list:
            throw DecodeError("nested lists are not supported")
        }
    }

    /// Decodes `count` present values of the page in `encoding`, in the buffer of the physical type.
    private func decodeValues(encoding: Int32, data: UnsafeRawBufferPointer, count: Int) throws -> ColumnValues {
        switch encoding {
        case Encoding.plain.rawValue:
            return try decodePlain(data, count: count)
        case Encoding.plainDictionary.rawValue, Encoding.rleDictionary.rawValue:
            guard let dictionary else { throw DecodeError("dictionary-encoded page without a dictionary page") }
            if count == 0 { return try decodePlain(UnsafeRawBufferPointer(start: nil, count: 0), count: 0) }
            guard data.count >= 1 else { throw DecodeError("dictionary-encoded page without its bit width") }
            let width = Int(data[0])
            guard width <= 32 else { throw DecodeError("dictionary index bit width \(width) over 32") }
            var indices = [UInt32](repeating: 0, count: count)
            _ = try indices.withUnsafeMutableBufferPointer { o in
                try RLEHybrid.decode(UnsafeRawBufferPointer(rebasing: data[1...]), bitWidth: width, count: count, into: o)
            }
            return try gather(dictionary, indices)
        case Encoding.rle.rawValue:
            guard descriptor.physicalType == .boolean else { throw DecodeError("RLE encoding for values of type \(descriptor.physicalType)") }
            guard data.count >= 4 else { throw DecodeError("RLE boolean data without its length") }
            let length = Int(data.loadUnaligned(fromByteOffset: 0, as: UInt32.self).littleEndian)
            guard length <= data.count - 4 else { throw DecodeError("RLE boolean data of \(length) bytes runs past the end of the page") }
            var bits = [UInt32](repeating: 0, count: count)
            _ = try bits.withUnsafeMutableBufferPointer { o in
                try RLEHybrid.decode(UnsafeRawBufferPointer(rebasing: data[4..<(4 + length)]), bitWidth: 1, count: count, into: o)
            }
            return .bool(bits.map { $0 == 1 })
        case Encoding.deltaBinaryPacked.rawValue:
            let values = try Delta.decodeInts(data, count: count).values
            switch descriptor.physicalType {
            case .int32: return .int32(values.prefix(count).map { Int32(truncatingIfNeeded: $0) })
            case .int64: return .int64(Array(values.prefix(count)))
            default: throw DecodeError("DELTA_BINARY_PACKED encoding for values of type \(descriptor.physicalType)")
            }
        case Encoding.deltaLengthByteArray.rawValue:
            guard descriptor.physicalType == .byteArray else { throw DecodeError("DELTA_LENGTH_BYTE_ARRAY for values of type \(descriptor.physicalType)") }
            var out = BytesBuffer()
            try Delta.decodeLengthByteArrays(data, count: count, into: &out)
            return .bytes(out)
        case Encoding.deltaByteArray.rawValue:
            guard descriptor.physicalType == .byteArray || descriptor.physicalType == .fixedLenByteArray else {
                throw DecodeError("DELTA_BYTE_ARRAY for values of type \(descriptor.physicalType)")
            }
            var out = BytesBuffer()
            try Delta.decodeByteArrays(data, count: count, into: &out)
            return .bytes(out)
        case Encoding.byteStreamSplit.rawValue:
            switch descriptor.physicalType {
            case .float: var o: [Float] = []; try ByteStreamSplit.decode(data, count: count, into: &o); return .float32(o)
            case .double: var o: [Double] = []; try ByteStreamSplit.decode(data, count: count, into: &o); return .float64(o)
            case .int32: var o: [Int32] = []; try ByteStreamSplit.decode(data, count: count, into: &o); return .int32(o)
            case .int64: var o: [Int64] = []; try ByteStreamSplit.decode(data, count: count, into: &o); return .int64(o)
            case .fixedLenByteArray:
                var out = BytesBuffer()
                try ByteStreamSplit.decodeFixed(data, width: descriptor.typeLength, count: count, into: &out)
                return .bytes(out)
            default: throw DecodeError("BYTE_STREAM_SPLIT for values of type \(descriptor.physicalType)")
            }
        default:
            throw DecodeError("unsupported value encoding \(encoding)")
        }
    }

    private func decodePlain(_ data: UnsafeRawBufferPointer, count: Int) throws -> ColumnValues {
        switch descriptor.physicalType {
        case .boolean: var o: [Bool] = []; try Plain.decodeBools(data, count: count, into: &o); return .bool(o)
        case .int32: var o: [Int32] = []; try Plain.decode(data, count: count, into: &o); return .int32(o)
        case .int64: var o: [Int64] = []; try Plain.decode(data, count: count, into: &o); return .int64(o)
        case .int96: var o: [Int64] = []; try Plain.decodeInt96(data, count: count, into: &o); return .int64(o)
        case .float: var o: [Float] = []; try Plain.decode(data, count: count, into: &o); return .float32(o)
        case .double: var o: [Double] = []; try Plain.decode(data, count: count, into: &o); return .float64(o)
        case .byteArray:
            var o = BytesBuffer()
            o.offsets.reserveCapacity(count + 1)
            o.data.reserveCapacity(max(0, data.count - 4 * count))
            try Plain.decodeByteArrays(data, count: count, into: &o)
            return .bytes(o)
        case .fixedLenByteArray:
            var o = BytesBuffer()
            try Plain.decodeFixedByteArrays(data, width: descriptor.typeLength, count: count, into: &o)
            return .bytes(o)
        }
    }

    private func gather(_ dictionary: ColumnValues, _ indices: [UInt32]) throws -> ColumnValues {
        let size = dictionary.count
        if let bad = indices.first(where: { Int($0) >= size }) {
            throw DecodeError("dictionary index \(bad) out of range (the dictionary has \(size) values)")
        }
        func take<T>(_ d: [T]) -> [T] {
            d.withUnsafeBufferPointer { dict in indices.map { dict[Int($0)] } }
        }
        switch dictionary {
        case .bool(let d): return .bool(take(d))
        case .int32(let d): return .int32(take(d))
        case .int64(let d): return .int64(take(d))
        case .float32(let d): return .float32(take(d))
        case .float64(let d): return .float64(take(d))
        case .bytes(let d):
            var out = BytesBuffer()
            out.offsets.reserveCapacity(indices.count + 1)
            var total = 0
            for i in indices { total += d.offsets[Int(i) + 1] - d.offsets[Int(i)] }
            out.data.reserveCapacity(total)
            d.data.withUnsafeBufferPointer { src in
                for i in indices {
                    out.data.append(contentsOf: UnsafeBufferPointer(rebasing: src[d.offsets[Int(i)]..<d.offsets[Int(i) + 1]]))
                    out.offsets.append(out.data.count)
                }
            }
            return .bytes(out)
        case .list:
            throw DecodeError("dictionary of lists")
        }
    }

    /// The column, with the physical buffer converted to the logical type where they differ.
    private mutating func finish() throws(ParquetError) -> Column {
        let isList = descriptor.maxRepetitionLevel > 0
        if !isList, leafCount != rowCount {
            throw ParquetError("column chunk holds \(leafCount) values for \(rowCount) rows")
        }
        if isList {
            guard rowsSeen == rowCount else { throw ParquetError("column chunk holds \(rowsSeen) lists for \(rowCount) rows") }
            listOffsets.append(leafCount)
        }
        let leafType = descriptor.leafType
        var values: ColumnValues
        switch descriptor.physicalType {
        case .boolean: values = .bool(bools)
        case .int32:
            // uint32 does not fit Int32: widen.
            values = leafType == .uint32 ? .int64(ints32.map { Int64(UInt32(bitPattern: $0)) }) : .int32(ints32)
        case .int64, .int96: values = .int64(ints64)
        case .float: values = .float32(floats)
        case .double: values = .float64(doubles)
        case .byteArray, .fixedLenByteArray: values = .bytes(bytes)
        }
        let leaf = Column(type: leafType, values: values, validity: leafHasNulls ? leafValidity : nil)
        if !isList { return leaf }
        return Column(type: descriptor.type, values: .list(offsets: listOffsets, values: leaf), validity: listHasNulls ? listValidity : nil)
    }
}
