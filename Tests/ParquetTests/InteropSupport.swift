import Columnar
import Foundation
import Testing

/// The package root (three levels above this file).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The Python of the test venv (made by scripts/setup), or `FEATURESTORE_PYTHON`.
let python: String = ProcessInfo.processInfo.environment["FEATURESTORE_PYTHON"]
    ?? packageRoot.appendingPathComponent(".venv/bin/python").path

/// Runs a Python script of the test folder; returns its standard output. Fails the calling test on a non-zero exit.
func runPython(_ script: String, _ arguments: [String]) throws -> String {
    guard FileManager.default.isExecutableFile(atPath: python) else {
        throw InteropError("no Python at \(python): run `bash scripts/setup` (it makes .venv with pyarrow, duckdb and polars)")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [packageRoot.appendingPathComponent("Tests/ParquetTests/Interop/\(script)").path] + arguments
    let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("py-\(UUID().uuidString).out")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: outURL) }
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    let errPipe = Pipe()
    process.standardError = errPipe
    try process.run()
    let err = errPipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw InteropError("\(script) failed (\(process.terminationStatus)): \(String(decoding: err, as: UTF8.self))")
    }
    return try String(contentsOf: outURL, encoding: .utf8)
}

struct InteropError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// The files written by pyarrow, DuckDB and polars, generated once per test run.
let interopDirectory: Result<URL, InteropError> = {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parquet-interop-\(ProcessInfo.processInfo.processIdentifier)")
    do {
        _ = try runPython("generate.py", [dir.path])
        return .success(dir)
    } catch {
        return .failure(error as? InteropError ?? InteropError("\(error)"))
    }
}()

/// A value in the canonical form of the JSON dumps, for comparison.
indirect enum Canonical: Equatable, CustomStringConvertible {
    case null, bool(Bool), int(Int64), uint(UInt64), double(Double), string(String), list([Canonical])

    var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .int(let i): return "\(i)"
        case .uint(let u): return "\(u)"
        case .double(let d): return "\(d)"
        case .string(let s): return "\"\(s)\""
        case .list(let l): return "[" + l.map(\.description).joined(separator: ", ") + "]"
        }
    }

    /// A JSON value (from JSONSerialization) read as a value of `type`; nil when the JSON does not have the shape the
    /// type's dump has (so an unexpected dump is a difference, never a silent 0, false or placeholder).
    init?(json: Any, type: DataType) {
        if json is NSNull { self = .null; return }
        switch type {
        case .bool:
            guard let b = json as? Bool else { return nil }
            self = .bool(b)
        case .uint64:
            guard let n = json as? NSNumber else { return nil }
            self = .uint(n.uint64Value)
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .date32, .timestamp:
            guard let n = json as? NSNumber else { return nil }
            self = .int(n.int64Value)
        case .float32, .float64:
            // Floats are dumped as exact repr strings (Foundation's JSON number parsing is not exact on Linux).
            if let text = json as? String, let d = Double(text) { self = .double(d) } else { return nil }
        case .string, .binary, .fixedBinary, .decimal:
            guard let text = json as? String else { return nil }
            self = .string(text)
        case .list(let inner):
            guard let items = json as? [Any] else { return nil }
            var out: [Canonical] = []
            for item in items {
                guard let value = Canonical(json: item, type: inner) else { return nil }
                out.append(value)
            }
            self = .list(out)
        }
    }

    /// Row `i` of `column`.
    init(column: Column, row i: Int) {
        if column.isNull(i) { self = .null; return }
        switch (column.type, column.values) {
        case (.bool, .bool(let v)): self = .bool(v[i])
        case (.uint64, .int64(let v)): self = .uint(UInt64(bitPattern: v[i]))
        case (.decimal(_, let scale), .int32(let v)): self = .string(Canonical.decimal(Int64(v[i]), scale: scale))
        case (.decimal(_, let scale), .int64(let v)): self = .string(Canonical.decimal(v[i], scale: scale))
        case (.decimal(_, let scale), .bytes(let b)):
            var unscaled: Int64 = b.bytes(at: i).first.map { $0 & 0x80 != 0 ? -1 : 0 } ?? 0
            for byte in b.bytes(at: i) { unscaled = unscaled << 8 | Int64(byte) }
            self = .string(Canonical.decimal(unscaled, scale: scale))
        case (_, .int32(let v)): self = .int(Int64(v[i]))
        case (_, .int64(let v)): self = .int(v[i])
        case (_, .float32(let v)): self = .double(Double(v[i]))
        case (_, .float64(let v)): self = .double(v[i])
        case (.string, .bytes(let b)): self = .string(b.string(at: i))
        case (_, .bytes(let b)): self = .string(b.bytes(at: i).map { String(format: "%02x", $0) }.joined())
        case (_, .list(let offsets, let child)):
            self = .list((offsets[i]..<offsets[i + 1]).map { Canonical(column: child, row: $0) })
        default: self = .string("<unexpected \(column.type)>")
        }
    }

    static func decimal(_ unscaled: Int64, scale: Int) -> String {
        guard scale > 0 else { return String(unscaled) }
        let negative = unscaled < 0
        var digits = String(unscaled.magnitude)
        while digits.count <= scale { digits = "0" + digits }
        let point = digits.index(digits.endIndex, offsetBy: -scale)
        return (negative ? "-" : "") + digits[..<point] + "." + digits[point...]
    }
}

/// Compares a table with a JSON dump `{"columns": {name: [values]}}`; returns the differences (at most a few per column).
func differences(_ table: Table, _ dump: [String: Any], label: String) -> [String] {
    var out: [String] = []
    if Set(dump.keys) != Set(table.schema.fields.map(\.name)) {
        out.append("\(label): the dump has columns \(dump.keys.sorted()), the table \(table.schema.fields.map(\.name).sorted())")
    }
    for (field, column) in zip(table.schema.fields, table.columns) {
        guard let expected = dump[field.name] as? [Any] else {
            out.append("\(label): column \(field.name) missing from the dump")
            continue
        }
        guard expected.count == column.count else {
            out.append("\(label): column \(field.name) has \(column.count) rows, expected \(expected.count)")
            continue
        }
        var shown = 0
        for i in 0..<column.count {
            guard let want = Canonical(json: expected[i], type: field.type) else {
                out.append("\(label): \(field.name)[\(i)]: the dump's value \(expected[i]) is not a \(field.type) value")
                shown += 1
                continue
            }
            let got = Canonical(column: column, row: i)
            if want != got {
                shown += 1
                if shown <= 3 { out.append("\(label): \(field.name)[\(i)] = \(got), expected \(want)") }
            }
        }
    }
    return out
}
