import Columnar
import Expressions
import Foundation
import Parquet
import Testing

/// The vectorized evaluator against DuckDB evaluating the same expressions written in SQL, on random rows with
/// nulls, zeros and negatives. Where the language defines what SQL would reject (division by zero, the domain of ln,
/// the nulls of least), the SQL spells our rule out, so every row is compared.
@Suite("Expressions against DuckDB")
struct DifferentialTests {
    /// (name, our expression, DuckDB's SQL, result type).
    static let cases: [(String, String, String, OutputType)] = [
        ("int_arith", "a + b * 3 - a % 7", "a + b * 3 - a % 7", .int64),
        ("division", "x / y", "CASE WHEN y = 0 THEN NULL ELSE x / y END", .float64),
        ("int_division", "a / b", "CASE WHEN b = 0 THEN NULL ELSE a / b END", .float64),
        ("remainder", "a % b", "CASE WHEN b = 0 THEN NULL ELSE a % b END", .int64),
        ("mixed", "a * x + y", "a * x + y", .float64),
        ("logic", "x > y and a < 10 or s = 'ab'", "x > y AND a < 10 OR s = 'ab'", .bool),
        ("not_logic", "not (a > b) or x is null", "NOT (a > b) OR x IS NULL", .bool),
        ("coalesce", "coalesce(x, y, 0.5)", "coalesce(x, y, 0.5)", .float64),
        ("if", "if(a > b, x, y)", "CASE WHEN a > b THEN x ELSE y END", .float64),
        ("case", "case when a > 5 then 'big' when a > 0 then 'small' else 'neg' end",
         "CASE WHEN a > 5 THEN 'big' WHEN a > 0 THEN 'small' ELSE 'neg' END", .string),
        ("abs_sqrt", "abs(x) + sqrt(abs(y))", "abs(x) + sqrt(abs(y))", .float64),
        ("round", "round(x * 10)", "round(x * 10)", .float64),
        ("floor_ceil", "floor(x) + ceil(y)", "floor(x) + ceil(y)", .float64),
        ("ln", "ln(x)", "CASE WHEN x > 0 THEN ln(x) END", .float64),
        ("pow", "pow(y, 2)", "pow(y, 2)", .float64),
        ("least", "least(x, y)", "CASE WHEN x IS NULL OR y IS NULL THEN NULL ELSE least(x, y) END", .float64),
        ("greatest_int", "greatest(a, b, 3)", "CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE greatest(a, b, 3) END", .int64),
        ("nullif", "nullif(b, 3)", "nullif(b, 3)", .int64),
        ("concat", "concat(lower(s), upper(s))", "lower(s) || upper(s)", .string),
        ("length", "length(s)", "length(s)", .int64),
        ("substr", "substr(s, 2, 3)", "substr(s, 2, 3)", .string),
        ("contains", "contains(s, 'b')", "contains(s, 'b')", .bool),
        ("starts_with", "starts_with(s, 'a')", "starts_with(s, 'a')", .bool),
        ("hour", "hour(t)", "hour(t)", .int64),
        ("day_of_week", "day_of_week(t)", "dayofweek(t)", .int64),
        ("month_day", "month(t) * 100 + day(t)", "month(t) * 100 + day(t)", .int64),
        ("year", "year(t)", "year(t)", .int64),
        ("epoch", "epoch_seconds(t)", "CAST(floor(epoch_us(t) / 1000000.0) AS BIGINT)", .int64),
        ("cast_double", "cast(a as float64) / 7", "CAST(a AS DOUBLE) / 7", .float64),
        ("compare_mixed", "a >= x", "a >= x", .bool),
        ("is_null", "s is null or t is not null", "s IS NULL OR t IS NOT NULL", .bool),
        ("less_or_equal", "a <= b", "a <= b", .bool),
        ("float_le_ne", "x <= y or x != y", "x <= y OR x <> y", .bool),
        ("timestamp_le", "t <= u", "t <= u", .bool),
        ("timestamp_lt_eq", "t < u or t = u", "t < u OR t = u", .bool),
        ("timestamp_gt", "u > t and u >= t", "u > t AND u >= t", .bool),
        ("greatest_float", "greatest(x, y, 0.5)", "CASE WHEN x IS NULL OR y IS NULL THEN NULL ELSE greatest(x, y, 0.5) END", .float64),
        ("least_int", "least(a, b)", "CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE least(a, b) END", .int64),
    ]

    @Test("the column evaluator and the per-row evaluator (lookups, streams) agree with DuckDB row for row", arguments: [1, 2])
    func agreesWithDuckDB(seed: Int) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("expr-diff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let casesFile = dir.appendingPathComponent("cases.json")
        try JSONSerialization.data(withJSONObject: Self.cases.map { [$0.0, $0.2] }).write(to: casesFile)
        try runPython("Differential/expressions_expected.py", [dir.path, String(seed), casesFile.path])
        let table = try ParquetFile(path: dir.appendingPathComponent("data.parquet").path).read()
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("expected.json"))) as? [String: [Any]])
        var types: [String: ExpressionType] = [:]
        for field in table.schema.fields { types[field.name] = ExpressionType(columnType: field.type) }
        for (name, text, _, output) in Self.cases {
            let compiled: CompiledExpression
            switch ExpressionCompiler.compile(text, lookup: { _, n in types[n].map(NameLookup.found) ?? .notFound(n) }) {
            case .success(let c): compiled = c
            case .failure(let e): Issue.record("\(name): \(e)"); continue
            }
            let inputs = compiled.inputs.map { table.column(named: $0.name)! }
            let got = compiled.evaluate(columns: inputs, rowCount: table.rowCount, as: output)
            let want = try #require(expected[name])
            var mismatches: [String] = []
            for i in 0..<table.rowCount {
                let ours = ExpressionsTests.value(of: got, at: i, output.expressionType)
                let theirs = Self.value(want[i], output.expressionType)
                if !ours.isIdentical(to: theirs) && !Self.bothZero(ours, theirs) { mismatches.append("row \(i): \(ours) vs DuckDB \(theirs)") }
                // The per-row evaluator, on the same row's values.
                let row = compiled.evaluate(zip(inputs, compiled.inputs).map { ExpressionsTests.value(of: $0, at: i, $1.type) })
                let perRow = Self.stored(row, as: output)
                if !perRow.isIdentical(to: theirs) && !Self.bothZero(perRow, theirs) { mismatches.append("row \(i) per row: \(perRow) vs DuckDB \(theirs)") }
            }
            #expect(mismatches.isEmpty, "\(name) (\(text)), seed \(seed): \(mismatches.count) mismatches: \(mismatches.prefix(4))")
        }
    }

    static func value(_ any: Any, _ type: ExpressionType) -> Value {
        if any is NSNull { return .null }
        switch type {
        case .float64: return (any as? String).flatMap(Double.init).map(Value.float64) ?? .null
        case .int64: return (any as? NSNumber).map { .int64($0.int64Value) } ?? .null
        case .bool: return (any as? NSNumber).map { .bool($0.boolValue) } ?? .null
        case .string: return (any as? String).map(Value.string) ?? .null
        default: return .null
        }
    }

    /// A per-row result as the column evaluator stores it for `output` (an int64 result of a float64 column, say).
    static func stored(_ v: Value, as output: OutputType) -> Value {
        switch (v, output.expressionType) {
        case (.int64(let i), .float64): return .float64(Double(i))
        default: return v
        }
    }

    /// DuckDB normalizes -0.0 to 0.0 in places (SQL does not tell them apart): the same number.
    static func bothZero(_ a: Value, _ b: Value) -> Bool {
        if case .float64(let x) = a, case .float64(let y) = b { return x == 0 && y == 0 }
        return false
    }
}

/// Runs a Python script of this test folder with the test venv's Python.
func runPython(_ script: String, _ arguments: [String]) throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let python = ProcessInfo.processInfo.environment["FEATURESTORE_PYTHON"] ?? root.appendingPathComponent(".venv/bin/python").path
    guard FileManager.default.isExecutableFile(atPath: python) else {
        throw ExpressionError("no Python at \(python): run `bash scripts/setup` (it makes .venv with pyarrow and duckdb)", at: 0..<0)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [root.appendingPathComponent("Tests/ExpressionsTests/\(script)").path] + arguments
    let err = Pipe()
    process.standardError = err
    try process.run()
    let message = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ExpressionError("\(script) failed: \(String(decoding: message, as: UTF8.self))", at: 0..<0)
    }
}
