import Codecs
import Columnar
import Foundation
import Parquet
import Testing

@Suite("Parquet interoperability", .timeLimit(.minutes(5)))
struct InteropTests {
    @Test("every file written by pyarrow, DuckDB and polars reads back with every value equal")
    func readsFilesOfOtherWriters() throws {
        let dir = try interopDirectory.get()
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".parquet") }.sorted()
        #expect(files.count >= 89)
        var problems: [String] = []
        for name in files {
            let path = dir.appendingPathComponent(name).path
            do {
                let file = try ParquetFile(path: path)
                let table = try file.read()
                let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: String(path.dropLast(8)) + ".json")))
                let dump = (json as? [String: Any])?["columns"] as? [String: Any] ?? [:]
                #expect(table.schema.fields.count == dump.count, "\(name): \(table.schema.fields.count) columns read, \(dump.count) written")
                problems += differences(table, dump, label: name)
            } catch {
                problems.append("\(name): \(error)")
            }
        }
        #expect(problems.isEmpty, "\(problems.count) differences:\n\(problems.prefix(40).joined(separator: "\n"))")
    }

    @Test("files pyarrow writes carry the logical types it wrote")
    func logicalTypes() throws {
        let file = try ParquetFile(path: try interopDirectory.get().appendingPathComponent("pa-null-dict-snappy-v1.parquet").path)
        let types = Dictionary(uniqueKeysWithValues: file.schema.fields.map { ($0.name, $0.type) })
        #expect(types["ts_us"] == .timestamp(.microseconds, utc: true))
        #expect(types["ts_ms"] == .timestamp(.milliseconds, utc: true))
        #expect(types["ts_ns"] == .timestamp(.nanoseconds, utc: false))
        #expect(types["u32"] == .uint32)
        #expect(types["dec9"] == .decimal(precision: 9, scale: 2))
        #expect(types["fixed"] == .fixedBinary(4))
        #expect(types["ls"] == .list(.string))
        #expect(types["d"] == .date32)
        #expect(file.rowGroupCount == 3)
        let int96 = try ParquetFile(path: try interopDirectory.get().appendingPathComponent("pa-null-int96.parquet").path)
        #expect(int96.schema.field(named: "ts_ns")?.type == .timestamp(.nanoseconds, utc: false))
    }

    @Test("files we write are read back equal by pyarrow, DuckDB and polars, with usable statistics")
    func otherReadersReadOurFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parquet-ours-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let table = try sampleTable(rows: 3000)
        var paths: [String] = []
        for (codec, dictionary) in [(Codec.snappy, true), (.zstd, true), (.snappy, false), (.uncompressed, true), (.gzip, false), (.lz4Raw, true)] {
            var options = ParquetWriteOptions(codec: codec, rowGroupSize: 1000, dictionary: dictionary)
            options.pageSize = 2048
            let path = dir.appendingPathComponent("ours-\(codec.rawValue)-\(dictionary ? "dict" : "plain").parquet").path
            try ParquetFileWriter.write(table, to: path, options: options)
            paths.append(path)
            // And we read our own files back.
            #expect(differences(try ParquetFile(path: path).read(), try dumpOf(table), label: path).isEmpty)
        }
        let output = try runPython("read_back.py", paths)
        let results = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "read_back.py printed a JSON object")
        for path in paths {
            let perReader = try #require(results[path] as? [String: Any], "read_back.py reported on \(path)")
            for reader in ["pyarrow", "duckdb", "polars"] {
                guard let dump = perReader[reader] as? [String: Any] else {
                    Issue.record("\(reader) did not read \(path): \(perReader["\(reader)_error"] ?? "no result")")
                    continue
                }
                let diffs = differences(table, dump, label: "\(reader) \(path)")
                #expect(diffs.isEmpty, "\(diffs.prefix(10).joined(separator: "\n"))")
            }
            // Statistics: pyarrow and DuckDB see min/max of the first row group as we computed them.
            let stats = perReader["stats"] as? [String: [Any]] ?? [:]
            let file = try ParquetFile(path: path)
            for name in ["id", "score", "ts", "name"] {
                guard let ours = file.statistics(ofColumn: name, rowGroup: 0), let theirs = stats[name], theirs.count == 2 else {
                    Issue.record("no statistics for \(name) in \(path)")
                    continue
                }
                #expect("\(ours.min!)" == "\(theirs[0])" || Double("\(theirs[0])") == Double("\(ours.min!)"), "\(name) min in \(path)")
                #expect("\(ours.max!)" == "\(theirs[1])" || Double("\(theirs[1])") == Double("\(ours.max!)"), "\(name) max in \(path)")
            }
            // DuckDB reads the same statistics (it prunes row groups with them).
            let duck = perReader["duckdb_stats"] as? [String: [String]] ?? [:]
            for name in ["id", "name"] {
                guard let ours = file.statistics(ofColumn: name, rowGroup: 0) else { continue }
                #expect(duck[name] == ["\(ours.min!)", "\(ours.max!)"], "DuckDB statistics of \(name) in \(path): \(duck[name] ?? [])")
            }
        }
    }
}

/// A table of every writable type, with nulls, lists and repeated strings (to exercise dictionaries).
func sampleTable(rows: Int) throws -> Table {
    var rng = SplitMix(seed: 42)
    let words = ["north", "south", "east", "west", "centre", "ünïcode", ""]
    let ids: [Int64?] = (0..<rows).map { Int64($0) * 3 - 1000 }
    let scores: [Double?] = (0..<rows).map { $0 % 11 == 5 ? nil : Double(rng.next() % 100_000) / 7 }
    let rates: [Float?] = (0..<rows).map { $0 % 13 == 2 ? nil : Float(rng.next() % 1000) / 8 }
    let small: [Int32?] = (0..<rows).map { $0 % 17 == 0 ? nil : Int32(Int(rng.next() % 200) - 100) }
    let flags: [Bool?] = (0..<rows).map { $0 % 19 == 1 ? nil : rng.next() % 2 == 0 }
    let names: [String?] = (0..<rows).map { $0 % 23 == 4 ? nil : words[Int(rng.next() % UInt64(words.count))] }
    let ts: [Int64?] = (0..<rows).map { 1_700_000_000_000_000 + Int64($0) * 60_000_000 }
    let blobs: [[UInt8]?] = (0..<rows).map { (r: Int) -> [UInt8]? in
        if r % 29 == 7 { return nil }
        let low = UInt8(r % 256), high = UInt8((r / 256) % 256)
        return [low, high]
    }
    var listOffsets = [0]
    var listValues: [Int64?] = []
    var listValidity: [Bool] = []
    for r in 0..<rows {
        listValidity.append(r % 31 != 3)
        if r % 31 != 3 {
            for k in 0..<(r % 4) { listValues.append(k == 2 ? nil : Int64(r * 10 + k)) }
        }
        listOffsets.append(listValues.count)
    }
    let elements = Column(int64: listValues)
    let listValues2 = ColumnValues.list(offsets: listOffsets, values: elements)
    let list = Column(type: .list(.int64), values: listValues2, validity: Bitmap(listValidity))
    return try Table([
        ("id", Column(int64: ids)),
        ("score", Column(float64: scores)),
        ("rate", Column(float32: rates)),
        ("small", Column(.int32, int32: small)),
        ("flag", Column(bool: flags)),
        ("name", Column(strings: names)),
        ("ts", Column(timestamps: ts)),
        ("blob", Column(binary: blobs)),
        ("day", Column(.date32, int32: (0..<rows).map { Int32(19_000 + $0 % 400) })),
        ("tags", list),
    ])
}

/// The JSON-dump form of a table, to compare with other readers' dumps.
func dumpOf(_ table: Table) throws -> [String: Any] {
    var out: [String: Any] = [:]
    for (field, column) in zip(table.schema.fields, table.columns) {
        out[field.name] = (0..<column.count).map { jsonValue(Canonical(column: column, row: $0)) }
    }
    return out
}

private func jsonValue(_ c: Canonical) -> Any {
    switch c {
    case .null: return NSNull()
    case .bool(let b): return NSNumber(value: b)
    case .int(let i): return NSNumber(value: i)
    case .uint(let u): return NSNumber(value: u)
    case .double(let d): return "\(d)"  // as the Python dumps write floats: an exact text
    case .string(let s): return s
    case .list(let l): return l.map(jsonValue)
    }
}

/// A small deterministic generator (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
