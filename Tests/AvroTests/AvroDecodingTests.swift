import Avro
import Foundation
import Testing

/// The canonical text of a decoded value (as Interop/avro_cases.py renders what it wrote).
func render(_ value: AvroValue) -> String {
    switch value {
    case .null: return "null"
    case .boolean(let b): return "boolean:\(b)"
    case .long(let i): return "long:\(i)"
    case .float(let f): return "float:" + hex(UInt64(f.bitPattern), width: 8)
    case .double(let d): return "double:" + hex(d.bitPattern, width: 16)
    case .string(let s): return "string:" + Array(s.utf8).map { hex(UInt64($0), width: 2) }.joined()
    case .bytes(let b): return "bytes:" + b.map { hex(UInt64($0), width: 2) }.joined()
    case .symbol(let s): return "symbol:" + s
    case .timestamp(let t): return "timestamp:\(t)"
    case .decimal(let unscaled, let scale): return "decimal:" + AvroValue.decimalText(unscaled: unscaled, scale: scale)
    case .array(let items): return "array:[" + items.map(render).joined(separator: ",") + "]"
    case .nested: return "nested"
    }
}

func hex(_ v: UInt64, width: Int) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, width - s.count)) + s
}

func bytes(hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var i = hex.startIndex
    while i < hex.endIndex {
        let j = hex.index(i, offsetBy: 2)
        out.append(UInt8(hex[i..<j], radix: 16)!)
        i = j
    }
    return out
}

func decode(_ decoder: AvroRecordDecoder, _ data: [UInt8]) throws(AvroError) -> [AvroValue] {
    let result: Result<[AvroValue], AvroError> = data.withUnsafeBytes { raw in Result { () throws(AvroError) in try decoder.decode(raw) } }
    return try result.get()
}

struct Case: Decodable {
    var name: String
    var writer: String
    var reader: String
    var fields: [String]
    var hex: String
    var expected: [String]
}

/// Runs Interop/avro_cases.py with the venv's Python, on a thread of its own.
func fastavroCases(seed: Int, count: Int) async throws -> [Case] {
    let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    let root = here.deletingLastPathComponent().deletingLastPathComponent()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["PYTHON"] ?? root.appendingPathComponent(".venv/bin/python").path)
    process.arguments = [here.appendingPathComponent("Interop/avro_cases.py").path, String(seed), String(count)]
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let (data, errors, status): (Data, Data, Int32) = await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            let o = out.fileHandleForReading.readDataToEndOfFile()
            let e = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            continuation.resume(returning: (o, e, process.terminationStatus))
        }
    }
    try #require(status == 0, "avro_cases.py: \(String(decoding: errors, as: UTF8.self))")
    return try JSONDecoder().decode([Case].self, from: data)
}

@Suite("Avro decoding", .timeLimit(.minutes(3)))
struct AvroDecodingTests {
    @Test("records written by fastavro decode to what was written: primitives, unions with null, logical types, enums, fixed, arrays; nested records and maps skipped; reader defaults for fields the writer lacks")
    func fastavroDifferential() async throws {
        for seed in 1...3 {
            for c in try await fastavroCases(seed: seed, count: 150) {
                let writer = try AvroSchema(parsing: c.writer)
                let reader = try AvroSchema(parsing: c.reader)
                let decoder = try AvroRecordDecoder(writer: writer, reader: reader, fields: c.fields)
                #expect(decoder.missing.isEmpty, "\(c.name)")
                let values = try decode(decoder, bytes(hex: c.hex))
                #expect(values.map(render) == c.expected, "\(c.name): \(c.writer)")
            }
        }
    }

    @Test("every prefix and every one-byte change of a record is decoded or refused with an error, never a crash")
    func hostileBytes() async throws {
        var random = SystemRandomNumberGenerator()
        for c in try await fastavroCases(seed: 7, count: 60) {
            let decoder = try AvroRecordDecoder(writer: try AvroSchema(parsing: c.writer), reader: nil, fields: c.fields)
            let data = bytes(hex: c.hex)
            for n in 0..<data.count {
                #expect(throws: AvroError.self, "\(c.name): a prefix of \(n) bytes") { _ = try decode(decoder, Array(data[..<n])) }
            }
            for i in data.indices {
                var changed = data
                changed[i] = UInt8.random(in: 0...255, using: &random)
                _ = try? decode(decoder, changed)
            }
            #expect(throws: AvroError.self) { _ = try decode(decoder, data + [0]) }
        }
    }

    @Test("fields are matched by name or alias; a field neither the writer nor a reader default gives is reported missing")
    func resolution() throws {
        let writer = try AvroSchema(parsing: #"{"type":"record","name":"T","fields":[{"name":"old","type":"long"},{"name":"x","type":"string"}]}"#)
        let reader = try AvroSchema(parsing: #"{"type":"record","name":"T","fields":[{"name":"new","type":"long","aliases":["old"]},{"name":"d","type":["null","double"],"default":null},{"name":"e","type":"string","default":"z"},{"name":"t","type":{"type":"long","logicalType":"timestamp-millis"},"default":5}]}"#)
        let decoder = try AvroRecordDecoder(writer: writer, reader: reader, fields: ["new", "d", "e", "t", "gone"])
        #expect(decoder.missing == ["gone"])
        // old = 3 (zig-zag 6), x = "hi"
        #expect(try decode(decoder, [6, 4, 0x68, 0x69]) == [.long(3), .null, .string("z"), .timestamp(5000), .null])
    }

    @Test("timestamps in nanoseconds floor to microseconds, before 1970 too; dates are midnights; out-of-range times saturate")
    func logicalTimes() throws {
        let writer = try AvroSchema(parsing: #"{"type":"record","name":"T","fields":[{"name":"n","type":{"type":"long","logicalType":"timestamp-nanos"}},{"name":"d","type":{"type":"int","logicalType":"date"}},{"name":"m","type":{"type":"long","logicalType":"timestamp-millis"}}]}"#)
        let decoder = try AvroRecordDecoder(writer: writer, reader: nil, fields: ["n", "d", "m"])
        func zigzag(_ v: Int64) -> [UInt8] {
            var n = UInt64(bitPattern: (v << 1) ^ (v >> 63))
            var out: [UInt8] = []
            while n >= 0x80 { out.append(UInt8(n & 0x7f) | 0x80); n >>= 7 }
            return out + [UInt8(n)]
        }
        #expect(try decode(decoder, zigzag(-1) + zigzag(-1) + zigzag(.max)) == [.timestamp(-1), .timestamp(-86_400_000_000), .timestamp(.max)])
        #expect(try decode(decoder, zigzag(1_999) + zigzag(0) + zigzag(.min)) == [.timestamp(1), .timestamp(0), .timestamp(.min)])
    }

    @Test("bad schemas are refused with what is wrong")
    func badSchemas() {
        let cases: [(String, String)] = [
            ("{", "the schema is not JSON"),
            (#"{"type":"record","name":"T","fields":[{"name":"a","type":"Missing"}]}"#, "unknown type 'Missing'"),
            (#"{"type":"record","fields":[]}"#, "a record needs a 'name'"),
            (#"[["null","long"]]"#, "a union cannot hold a union directly"),
            (#"{"type":"enum","name":"E"}"#, "an enum needs a 'name' and a list of 'symbols'"),
        ]
        for (text, message) in cases {
            #expect(throws: AvroError.self, "\(text)") { _ = try AvroSchema(parsing: text) }
            do { _ = try AvroSchema(parsing: text) } catch { #expect(error.message == message, "\(text)") }
        }
    }

    @Test("a recursive schema decodes and skips nested values, bounded in depth")
    func recursion() throws {
        let writer = try AvroSchema(parsing: #"{"type":"record","name":"L","fields":[{"name":"v","type":"long"},{"name":"next","type":["null","L"]}]}"#)
        let decoder = try AvroRecordDecoder(writer: writer, reader: nil, fields: ["v"])
        // v=1, next -> {v=2, next=null}
        #expect(try decode(decoder, [2, 2, 4, 0]) == [.long(1)])
        // 10,000 levels: refused, not a stack overflow.
        let deep: [UInt8] = Array([[UInt8]](repeating: [2, 2], count: 10_000).joined()) + [2, 0]
        #expect(throws: AvroError.self) { _ = try decode(decoder, deep) }
    }

    @Test("decimals render exactly: negative, scaled, wider than 64 bits")
    func decimals() {
        #expect(AvroValue.decimalText(unscaled: [0xff, 0x38], scale: 2) == "-2.00")
        #expect(AvroValue.decimalText(unscaled: [0x01], scale: 3) == "0.001")
        #expect(AvroValue.decimalText(unscaled: [UInt8(0x7f)] + [UInt8](repeating: 0xff, count: 15), scale: 0) == "170141183460469231731687303715884105727")
        #expect(AvroValue.decimalText(unscaled: [UInt8(0x80)] + [UInt8](repeating: 0, count: 15), scale: 5) == "-1701411834604692317316873037158841.05728")
        #expect(AvroValue.double(unscaled: [0x04, 0xd2], scale: 2) == 12.34)
    }

    @Test("hostile schemas and data are refused without a crash or unbounded work: huge fixed decimals, zero-byte items without end, long decimals, names defined twice")
    func hostileSchemas() throws {
        // A fixed decimal whose size would overflow the precision check: the logical type is ignored, not a trap.
        let huge = try AvroSchema(parsing: #"{"type":"record","name":"T","fields":[{"name":"f","type":{"type":"fixed","name":"F","size":1000,"logicalType":"decimal","precision":5}}]}"#)
        #expect(huge.recordFields?.count == 1)
        #expect(throws: AvroError.self) { _ = try AvroSchema(parsing: #"{"type":"fixed","name":"F","size":1152921504606846976}"#) }
        #expect(throws: AvroError.self) { _ = try AvroSchema(parsing: #"{"type":"record","name":"T","fields":[{"name":"a","type":{"type":"enum","name":"T","symbols":["x"]}}]}"#) }
        // Blocks of nulls claiming 2^24 items each: refused once past the bound, quickly.
        let nulls = try AvroRecordDecoder(writer: try AvroSchema(parsing: #"{"type":"record","name":"T","fields":[{"name":"a","type":{"type":"array","items":"null"}}]}"#), reader: nil, fields: ["a"])
        func zigzag(_ v: Int64) -> [UInt8] {
            var n = UInt64(bitPattern: (v << 1) ^ (v >> 63))
            var out: [UInt8] = []
            while n >= 0x80 { out.append(UInt8(n & 0x7f) | 0x80); n >>= 7 }
            return out + [UInt8(n)]
        }
        let blocks = Array([[UInt8]](repeating: zigzag(1 << 23), count: 1000).joined()) + [0]
        #expect(throws: AvroError.self) { _ = try decode(nulls, blocks) }
        // Arrays of empty records (zero bytes each), as fastavro writes five of them: 0a 00.
        let empties = try AvroRecordDecoder(writer: try AvroSchema(parsing: #"{"type":"record","name":"T","fields":[{"name":"a","type":{"type":"array","items":{"type":"record","name":"E","fields":[]}}}]}"#), reader: nil, fields: ["a"])
        #expect(try decode(empties, [0x0a, 0x00]) == [.array(Array(repeating: .nested("a record"), count: 5))])
        // A decimal of 40 bytes: more digits than any precision allows.
        let decimals = try AvroRecordDecoder(writer: try AvroSchema(parsing: #"{"type":"record","name":"T","fields":[{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}}]}"#), reader: nil, fields: ["d"])
        #expect(throws: AvroError.self) { _ = try decode(decimals, zigzag(40) + [UInt8](repeating: 1, count: 40)) }
    }

    @Test("a reader field reads the writer field of its exact name before one its aliases name")
    func exactNameBeforeAlias() throws {
        let writer = try AvroSchema(parsing: #"{"type":"record","name":"T","fields":[{"name":"amount","type":"long"},{"name":"amount_cents","type":"long"}]}"#)
        let reader = try AvroSchema(parsing: #"{"type":"record","name":"T","fields":[{"name":"amount_cents","type":"long","aliases":["amount"]}]}"#)
        let decoder = try AvroRecordDecoder(writer: writer, reader: reader, fields: ["amount_cents"])
        #expect(try decode(decoder, [2, 200, 1]) == [.long(100)])
    }
}
