import Codecs
import Columnar
import Foundation
import Testing
@testable import Parquet

/// A scratch folder for one test.
struct Scratch {
    let dir: URL
    init() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("parquet-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }
}

/// Builds a one-column (required INT32 `x`) file from hand-made pages, to reach error paths writers never produce.
func craftedFile(pages: [(PageHeader, [UInt8])], rows: Int, codec: Int32 = 0, chunkLength: Int? = nil,
                 dataPageOffset: Int? = nil) -> [UInt8] {
    var bytes = Array("PAR1".utf8)
    var firstData: Int? = nil
    var dictionary: Int? = nil
    for (header, body) in pages {
        if header.type == PageType.dictionaryPage.rawValue { dictionary = bytes.count } else if firstData == nil { firstData = bytes.count }
        var w = ThriftCompactWriter()
        w.write(header)
        bytes += w.bytes + body
    }
    let meta = ColumnMetaData(type: .int32, encodings: [0, 3, 8], pathInSchema: ["x"], codec: codec, numValues: Int64(rows),
                              totalUncompressedSize: Int64(bytes.count - 4), totalCompressedSize: Int64(chunkLength ?? bytes.count - 4),
                              dataPageOffset: Int64(dataPageOffset ?? firstData ?? 4), dictionaryPageOffset: dictionary.map(Int64.init))
    let file = FileMetaData(version: 1, schema: [SchemaElement(name: "schema", numChildren: 1),
                                                 SchemaElement(type: .int32, repetition: .required, name: "x")],
                            numRows: Int64(rows),
                            rowGroups: [RowGroup(columns: [ColumnChunk(fileOffset: 4, metaData: meta)], totalByteSize: 0, numRows: Int64(rows))],
                            keyValueMetadata: [], createdBy: "test", hasColumnOrders: false)
    var w = ThriftCompactWriter()
    w.write(file)
    var length = UInt32(w.bytes.count).littleEndian
    bytes += w.bytes
    withUnsafeBytes(of: &length) { bytes += $0 }
    return bytes + Array("PAR1".utf8)
}

func dataPage(values: Int, encoding: Encoding, body: [UInt8], uncompressed: Int? = nil, compressed: Int? = nil) -> (PageHeader, [UInt8]) {
    var h = PageHeader(type: PageType.dataPage.rawValue, uncompressedPageSize: Int32(uncompressed ?? body.count),
                       compressedPageSize: Int32(compressed ?? body.count))
    h.dataPage = DataPageHeader(numValues: Int32(values), encoding: encoding.rawValue, definitionLevelEncoding: 3, repetitionLevelEncoding: 3)
    return (h, body)
}

func plainInt32(_ values: [Int32]) -> [UInt8] {
    values.withUnsafeBytes { Array($0) }
}

/// The error thrown by reading the whole file at `path`.
func readError(_ path: String) -> ParquetError? {
    do {
        _ = try ParquetFile(path: path).read()
        return nil
    } catch {
        return error
    }
}

@Suite("Parquet bad input", .timeLimit(.minutes(5)))
struct ErrorTests {
    let scratch = Scratch()

    func validFile(codec: Codec = .snappy) throws -> String {
        let path = scratch.path("valid-\(codec.rawValue).parquet")
        try ParquetFileWriter.write(try sampleTable(rows: 500), to: path, options: ParquetWriteOptions(codec: codec, rowGroupSize: 200))
        return path
    }

    @Test("a crafted file with a dictionary reads (the crafting itself is sound)")
    func craftedFileReads() throws {
        var dictHeader = PageHeader(type: PageType.dictionaryPage.rawValue, uncompressedPageSize: 8, compressedPageSize: 8)
        dictHeader.dictionaryPage = DictionaryPageHeader(numValues: 2, encoding: 0)
        var indices: [UInt8] = [1]
        [UInt32](arrayLiteral: 0, 1, 1, 0).withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: 1, into: &indices) }
        let path = try scratch.write("ok.parquet", craftedFile(pages: [(dictHeader, plainInt32([7, 9])), dataPage(values: 4, encoding: .rleDictionary, body: indices)], rows: 4))
        let table = try ParquetFile(path: path).read()
        guard case .int32(let v) = table.columns[0].values else { Issue.record("not int32"); return }
        #expect(v == [7, 9, 9, 7])
    }

    @Test("a truncated file is reported with its place, not read")
    func truncatedFile() throws {
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: validFile())))
        let path = try scratch.write("truncated.parquet", Array(bytes.dropLast(100)))
        let error = readError(path)
        #expect(error?.message == "not a Parquet file, or truncated: wrong magic number at the end")
        #expect(error?.location == ParquetLocation(file: path, offset: bytes.count - 104))
    }

    @Test("a wrong magic number at the start is rejected")
    func wrongMagic() throws {
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: validFile())))
        bytes[0] = UInt8(ascii: "X")
        let path = try scratch.write("magic.parquet", bytes)
        #expect(readError(path)?.description == "\(path), offset 0: not a Parquet file: wrong magic number at the start")
    }

    @Test("a file too small to be Parquet is rejected")
    func tooSmall() throws {
        let path = try scratch.write("small.parquet", Array("PAR1x".utf8))
        #expect(readError(path)?.description == "\(path): file is 5 bytes, too small to be Parquet (at least 12)")
    }

    @Test("a footer length past the start of the file is rejected")
    func footerLengthTooLarge() throws {
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: validFile())))
        let at = bytes.count - 8
        bytes[at] = 0xff; bytes[at + 1] = 0xff; bytes[at + 2] = 0xff; bytes[at + 3] = 0x7f
        let path = try scratch.write("footer.parquet", bytes)
        #expect(readError(path)?.message == "footer length 2147483647 exceeds the file (\(bytes.count) bytes): truncated or corrupt")
    }

    @Test("corrupt Thrift in the footer is rejected with the footer's offset")
    func corruptThrift() throws {
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: validFile())))
        let length = Int(bytes[bytes.count - 8]) | Int(bytes[bytes.count - 7]) << 8 | Int(bytes[bytes.count - 6]) << 16
        let start = bytes.count - 8 - length
        for i in start..<(start + 16) { bytes[i] = 0xff }
        let path = try scratch.write("thrift.parquet", bytes)
        let error = readError(path)
        #expect(error?.message.hasPrefix("corrupt footer: ") == true, "\(String(describing: error))")
        #expect(error?.location?.offset == start)
    }

    @Test("a column chunk pointing past the end of the file is rejected")
    func chunkPastEnd() throws {
        let path = try scratch.write("past.parquet", craftedFile(pages: [dataPage(values: 2, encoding: .plain, body: plainInt32([1, 2]))],
                                                                 rows: 2, dataPageOffset: 1_000_000))
        let error = readError(path)
        #expect(error?.message.hasPrefix("column chunk at offset 1000000 with") == true, "\(String(describing: error))")
        #expect(error?.location?.rowGroup == 0)
        #expect(error?.location?.column == "x")
    }

    @Test("a page running past the end of its column chunk is rejected")
    func pagePastChunk() throws {
        let path = try scratch.write("page.parquet", craftedFile(pages: [dataPage(values: 2, encoding: .plain, body: plainInt32([1, 2]), compressed: 500)], rows: 2))
        let error = readError(path)
        #expect(error?.message == "page of 500 bytes runs past the end of its column chunk")
        #expect(error?.location == ParquetLocation(file: path, rowGroup: 0, column: "x", offset: 4))
    }

    @Test("a dictionary index out of range is rejected")
    func dictionaryIndexOutOfRange() throws {
        var dictHeader = PageHeader(type: PageType.dictionaryPage.rawValue, uncompressedPageSize: 8, compressedPageSize: 8)
        dictHeader.dictionaryPage = DictionaryPageHeader(numValues: 2, encoding: 0)
        var indices: [UInt8] = [3]
        [UInt32](arrayLiteral: 0, 5).withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: 3, into: &indices) }
        let path = try scratch.write("dict.parquet", craftedFile(pages: [(dictHeader, plainInt32([7, 9])), dataPage(values: 2, encoding: .rleDictionary, body: indices)], rows: 2))
        let error = readError(path)
        #expect(error?.message == "dictionary index 5 out of range (the dictionary has 2 values)")
        #expect(error?.location?.column == "x")
        #expect(error?.location?.offset != nil)
    }

    @Test("a decompression failure is reported with the page")
    func decompressionFailure() throws {
        let valid = try validFile()
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: valid)))
        let file = try ParquetFile(path: valid)
        let meta = try #require(file.metadata.rowGroups[0].columns[0].metaData)
        let pageStart = Int(meta.dictionaryPageOffset ?? meta.dataPageOffset)
        var reader = ThriftCompactReader(UnsafeRawBufferPointer(start: nil, count: 0))
        let headerLength = try bytes.withUnsafeBytes { raw in
            reader = ThriftCompactReader(UnsafeRawBufferPointer(rebasing: raw[pageStart...]))
            _ = try reader.pageHeader()
            return reader.position
        }
        for i in (pageStart + headerLength)..<(pageStart + headerLength + 8) { bytes[i] = 0xff }
        let path = try scratch.write("snappy.parquet", bytes)
        let error = readError(path)
        #expect(error?.description.contains("decompression failed: snappy") == true, "\(String(describing: error))")
        #expect(error?.location == ParquetLocation(file: path, rowGroup: 0, column: "id", offset: pageStart))
    }

    @Test("an absurd page size is rejected before anything is allocated")
    func absurdSize() throws {
        let path = try scratch.write("absurd.parquet", craftedFile(pages: [dataPage(values: 2, encoding: .plain, body: plainInt32([1, 2]), uncompressed: 1 << 30 + 5)], rows: 2, codec: 1))
        #expect(readError(path)?.message == "page claims 1073741829 uncompressed bytes from 8 bytes: not a plausible size")
        let many = try scratch.write("many.parquet", craftedFile(pages: [dataPage(values: 1 << 30, encoding: .plain, body: plainInt32([1, 2]))], rows: 2))
        #expect(readError(many)?.message == "page claims 1073741824 values")
    }

    @Test("a column that is not in the file is named in the error with the columns that are")
    func unknownColumn() throws {
        let path = try validFile()
        let error = try #require(throws: ParquetError.self) { try ParquetFile(path: path).read(columns: ["nope"]) }
        #expect(error.message.hasPrefix("no column 'nope'; the file has: id, score"))
    }

    @Test("randomly mutated files never crash the reader: each throws a ParquetError or reads a table consistent with its footer, of bounded size")
    func mutationFuzz() throws {
        let iterations = Int(ProcessInfo.processInfo.environment["PARQUET_FUZZ_ITERATIONS"] ?? "") ?? 1500
        var seeds: [[UInt8]] = []
        for codec in [Codec.snappy, .uncompressed, .zstd] {
            seeds.append(try Array(Data(contentsOf: URL(fileURLWithPath: validFile(codec: codec)))))
        }
        var rng = SplitMix(seed: 2024)
        let path = scratch.path("mutant.parquet")
        var outcomes = (read: 0, rejected: 0)
        var inconsistent: [String] = []
        for i in 0..<iterations {
            var bytes = seeds[i % seeds.count]
            switch rng.next() % 4 {
            case 0: // flip a few bytes anywhere
                for _ in 0..<(1 + rng.next() % 8) { bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
            case 1: // set bytes in the footer (most structure lives there)
                let footer = max(4, bytes.count - 400)
                for _ in 0..<(1 + rng.next() % 4) { bytes[footer + Int(rng.next() % UInt64(bytes.count - footer - 8))] = UInt8(truncatingIfNeeded: rng.next()) }
            case 2: // truncate and restore the tail magic
                let cut = Int(rng.next() % UInt64(bytes.count - 12))
                bytes = Array(bytes[0..<cut]) + Array(bytes[(bytes.count - 8)...])
            default: // extreme values in the footer
                let footer = max(4, bytes.count - 400)
                let at = footer + Int(rng.next() % UInt64(bytes.count - footer - 12))
                for k in 0..<4 { bytes[at + k] = [0xff, 0x7f, 0x80, 0x00][Int(rng.next() % 4)] }
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let file: ParquetFile
            let table: Table
            do {
                file = try ParquetFile(path: path)
                table = try file.read(parallel: false)
            } catch {
                outcomes.rejected += 1
                continue
            }
            outcomes.read += 1
            // What a mutant that reads returns must be what its footer says, and no larger than its bytes allow
            // (the seeds hold 500 rows; a value costs at least a bit, or a run of an RLE-encoded level).
            var problems: [String] = []
            if table.schema.fields.map(\.name) != file.schema.fields.map(\.name) { problems.append("columns \(table.schema.fields.map(\.name)) vs footer \(file.schema.fields.map(\.name))") }
            if table.rowCount != file.rowCount { problems.append("\(table.rowCount) rows vs footer \(file.rowCount)") }
            for (k, column) in table.columns.enumerated() where column.count != table.rowCount {
                problems.append("column \(k) has \(column.count) values for \(table.rowCount) rows")
            }
            for (k, column) in table.columns.enumerated() where column.type != table.schema.fields[k].type {
                problems.append("column \(k) is \(column.type), its field \(table.schema.fields[k].type)")
            }
            if table.rowCount > 8 * bytes.count { problems.append("\(table.rowCount) rows from \(bytes.count) bytes") }
            if !problems.isEmpty && inconsistent.count < 5 { inconsistent.append("mutant \(i): " + problems.joined(separator: "; ")) }
        }
        #expect(inconsistent.isEmpty, "\(inconsistent)")
        #expect(outcomes.read > 0, "some mutants (in values, not structure) still read: \(outcomes)")
        #expect(outcomes.rejected > iterations / 4, "most mutations should be detected: \(outcomes)")
    }
}
