import Columnar
import Expressions
import Foundation
import Testing

/// Inputs of the tests' expressions: name -> (type, value).
typealias Inputs = [String: (ExpressionType, Value)]

func compile(_ text: String, _ inputs: Inputs = [:]) throws -> CompiledExpression {
    let result = ExpressionCompiler.compile(text) { qualifier, name in
        let key = qualifier.map { "\($0).\(name)" } ?? name
        guard let input = inputs[key] else { return .notFound("no input '\(key)'") }
        return .found(input.0)
    }
    switch result {
    case .success(let compiled): return compiled
    case .failure(let errors): throw errors
    }
}

/// A column of `n` copies of `value` as `type` (null: all null).
func column(_ value: Value, _ type: ExpressionType, rows n: Int) -> Column {
    switch (type, value) {
    case (.bool, .bool(let b)): return Column(bool: Array(repeating: b, count: n))
    case (.int64, .int64(let i)): return Column(int64: Array(repeating: i, count: n))
    case (.float64, .float64(let d)): return Column(float64: Array(repeating: d, count: n))
    case (.string, .string(let s)): return Column(strings: Array(repeating: s, count: n))
    case (.timestamp, .timestamp(let t)): return Column(timestamps: Array(repeating: t, count: n))
    case (.bool, _): return Column(bool: Array(repeating: nil, count: n))
    case (.float64, _): return Column(float64: Array(repeating: nil, count: n))
    case (.string, _): return Column(strings: Array(repeating: nil, count: n))
    case (.timestamp, _): return Column(timestamps: Array(repeating: nil, count: n))
    default: return Column(int64: Array(repeating: nil, count: n))
    }
}

/// A column's row `i` as a value of `type`.
func value(of column: Column, at i: Int, _ type: ExpressionType) -> Value {
    if column.isNull(i) { return .null }
    switch column.values {
    case .bool(let v): return .bool(v[i])
    case .int64(let v): return type == .timestamp ? .timestamp(v[i]) : .int64(v[i])
    case .int32(let v): return .int64(Int64(v[i]))
    case .float64(let v): return .float64(v[i])
    case .float32(let v): return .float64(Double(v[i]))
    case .bytes(let b): return .string(b.string(at: i))
    case .list: return .null
    }
}

/// The value of `text` per row, checked to be the same (bit for bit) from the column evaluator.
func evaluate(_ text: String, _ inputs: Inputs = [:]) throws -> Value {
    let compiled = try compile(text, inputs)
    let row = compiled.inputs.map { inputs[$0.description]!.1 }
    let perRow = compiled.evaluate(row)
    // The same over columns (3 rows, all alike) must give the same value in every row.
    let columns = compiled.inputs.map { column(inputs[$0.description]!.1, inputs[$0.description]!.0, rows: 3) }
    let output: OutputType
    switch compiled.type {
    case .bool: output = .bool
    case .float64: output = .float64
    case .string: output = .string
    case .timestamp: output = .timestamp
    default: output = .int64
    }
    let vector = compiled.evaluate(columns: columns, rowCount: 3, as: output)
    for i in 0..<3 {
        let v = value(of: vector, at: i, compiled.type == .null ? .int64 : compiled.type)
        #expect(v.isIdentical(to: perRow), "\(text): row evaluator \(perRow), column evaluator \(v)")
    }
    return perRow
}

func same(_ a: Value, _ b: Value) -> Bool { a.isIdentical(to: b) }

@Suite("Expression evaluation")
struct EvaluatorTests {
    static let x: Inputs = [
        "i": (.int64, .int64(7)), "j": (.int64, .int64(-2)), "zero": (.int64, .int64(0)), "big": (.int64, .int64(.max)),
        "small": (.int64, .int64(.min)), "f": (.float64, .float64(2.5)), "g": (.float64, .float64(-0.5)),
        "fz": (.float64, .float64(0)), "nan": (.float64, .float64(.nan)), "inf": (.float64, .float64(.infinity)),
        "s": (.string, .string("Hello")), "e": (.string, .string("")), "yes": (.bool, .bool(true)), "no": (.bool, .bool(false)),
        "ni": (.int64, .null), "nf": (.float64, .null), "ns": (.string, .null), "nb": (.bool, .null), "nt": (.timestamp, .null),
        // 2024-03-10T13:45:30.25Z, a Sunday.
        "t": (.timestamp, .timestamp(1_710_078_330_250_000)), "t0": (.timestamp, .timestamp(1_710_078_300_000_000)),
        "old": (.timestamp, .timestamp(-1)), "v.f": (.float64, .float64(1.25)),
    ]

    @Test("arithmetic on integers stays integer; with a float it is float; '/' is always float division", arguments: [
        ("i + j", Value.int64(5)), ("i - j", .int64(9)), ("i * j", .int64(-14)), ("i % j", .int64(1)), ("-i", .int64(-7)),
        ("i / j", .float64(-3.5)), ("i + f", .float64(9.5)), ("f * g", .float64(-1.25)), ("f % 1", .float64(0.5)),
        ("j % i", .int64(-2)), ("1 + 2 * 3", .int64(7)), ("(1 + 2) * 3", .int64(9)), ("7 / 2", .float64(3.5)),
        ("v.f * 2", .float64(2.5)),
    ])
    func arithmetic(_ text: String, _ expected: Value) throws {
        #expect(same(try evaluate(text, Self.x), expected))
    }

    @Test("integer overflow and division or remainder by zero are null, never a trap", arguments: [
        "big + 1", "small - 1", "big * 2", "-small", "abs(small)", "i / zero", "f / fz", "i % zero", "f % fz", "i / 0.0",
    ])
    func definedFailures(_ text: String) throws {
        #expect(same(try evaluate(text, Self.x), .null))
    }

    @Test("Int64.min % -1 is 0 (not a trap)")
    func minRemainder() throws {
        #expect(same(try evaluate("small % -1", Self.x), .int64(0)))
    }

    @Test("null in, null out for operators and functions", arguments: [
        "ni + 1", "nf * 2", "-ni", "ni = 1", "ns < 'a'", "abs(nf)", "sqrt(nf)", "lower(ns)", "length(ns)", "concat(s, ns)",
        "hour(nt)", "least(i, ni)", "greatest(nf, f)", "clamp(ni, 1, 2)", "not nb", "cast(ni as string)", "nullif(ni, 1)",
        "substr(ns, 1)", "contains(ns, 'a')", "round(nf)", "pow(nf, 2)", "haversine_km(nf, 0, 0, 0)",
    ])
    func nullPropagation(_ text: String) throws {
        #expect(same(try evaluate(text, Self.x), .null))
    }

    @Test("and/or follow three-valued logic; is null, coalesce and if look at nulls", arguments: [
        ("nb and no", Value.bool(false)), ("nb and yes", .null), ("nb or yes", .bool(true)), ("nb or no", .null),
        ("no and nb", .bool(false)), ("yes or nb", .bool(true)), ("ni is null", .bool(true)), ("i is not null", .bool(true)),
        ("coalesce(ni, nf, 3)", .float64(3)), ("coalesce(ni, 4)", .int64(4)), ("coalesce(ns, 'x')", .string("x")),
        ("coalesce(ni, ni)", .null), ("if(nb, 1, 2)", .int64(2)), ("if(yes, 1, 2)", .int64(1)), ("if(no, 1, 2.5)", .float64(2.5)),
        ("case when nb then 'a' when i > 5 then 'b' end", .string("b")), ("case when no then 1 end", .null),
        ("case when no then 1 else 2 end", .int64(2)), ("nullif(i, 7)", .null), ("nullif(i, 8)", .int64(7)),
        ("nullif(i, ni)", .int64(7)),
    ])
    func nullAware(_ text: String, _ expected: Value) throws {
        #expect(same(try evaluate(text, Self.x), expected))
    }

    @Test("comparisons: numbers across int and float, strings by bytes, NaN equal to itself and above every number", arguments: [
        ("i > f", Value.bool(true)), ("i = 7.0", .bool(true)), ("s < 'hello'", .bool(true)), ("s = 'Hello'", .bool(true)),
        ("e < s", .bool(true)), ("nan = nan", .bool(true)), ("nan > inf", .bool(true)), ("nan < 1", .bool(false)),
        ("-0.0 = 0.0", .bool(true)), ("yes > no", .bool(true)), ("t > t0", .bool(true)), ("i != j", .bool(true)),
        ("greatest(f, nan)", .float64(.nan)), ("least(3, 1, 2)", .int64(1)), ("greatest('a', 'b')", .string("b")),
    ])
    func comparisons(_ text: String, _ expected: Value) throws {
        #expect(same(try evaluate(text, Self.x), expected))
    }

    @Test("math functions, with out-of-domain inputs null", arguments: [
        ("abs(j)", Value.int64(2)), ("abs(g)", .float64(0.5)), ("sqrt(16)", .float64(4)), ("sqrt(-1)", .null),
        ("ln(1)", .float64(0)), ("ln(0)", .null), ("log(1000)", .float64(3)), ("log(-5)", .null), ("exp(0)", .float64(1)),
        ("pow(2, 10)", .float64(1024)), ("pow(-8, 0.5)", .null), ("round(2.5)", .float64(3)), ("round(-2.5)", .float64(-3)),
        ("round(1.2345, 2)", .float64(1.23)), ("round(i)", .int64(7)), ("floor(-0.5)", .float64(-1)), ("ceil(g)", .float64(-0.0)),
        ("clamp(i, 0, 5)", .int64(5)), ("clamp(f, 3, 5)", .float64(3)), ("clamp(j, -5, 5)", .int64(-2)),
        ("haversine_km(0, 0, 0, 0)", .float64(0)),
    ])
    func math(_ text: String, _ expected: Value) throws {
        #expect(same(try evaluate(text, Self.x), expected))
    }

    @Test("haversine_km: Paris to London is about 343.5 km")
    func haversine() throws {
        guard case .float64(let km) = try evaluate("haversine_km(48.8566, 2.3522, 51.5074, -0.1278)") else { Issue.record("not a float"); return }
        #expect(abs(km - 343.56) < 0.5)
    }

    @Test("string functions", arguments: [
        ("lower(s)", Value.string("hello")), ("upper(s)", .string("HELLO")), ("length(s)", .int64(5)), ("length('héllo')", .int64(5)),
        ("concat(s, ', ', 'world')", .string("Hello, world")), ("substr(s, 2, 3)", .string("ell")), ("substr(s, 4)", .string("lo")),
        ("substr(s, 0, 2)", .string("H")), ("substr(s, 2, -1)", .null), ("contains(s, 'ell')", .bool(true)),
        ("contains(s, '')", .bool(true)), ("contains(e, 'x')", .bool(false)), ("starts_with(s, 'He')", .bool(true)),
        ("ends_with(s, 'lo')", .bool(true)), ("ends_with(s, 'He')", .bool(false)),
    ])
    func strings(_ text: String, _ expected: Value) throws {
        #expect(same(try evaluate(text, Self.x), expected))
    }

    @Test("time functions in UTC; the difference of two timestamps is in seconds", arguments: [
        ("hour(t)", Value.int64(13)), ("minute(t)", .int64(45)), ("day(t)", .int64(10)), ("month(t)", .int64(3)),
        ("year(t)", .int64(2024)), ("day_of_week(t)", .int64(0)), ("epoch_seconds(t)", .int64(1_710_078_330)),
        ("t - t0", .float64(30.25)), ("hour(old)", .int64(23)), ("epoch_seconds(old)", .int64(-1)), ("year(old)", .int64(1969)),
        ("day_of_week(old)", .int64(3)),
    ])
    func time(_ text: String, _ expected: Value) throws {
        #expect(same(try evaluate(text, Self.x), expected))
    }

    @Test("casts: out of range or unparsable is null", arguments: [
        ("cast(f as int64)", Value.int64(3)), ("cast(g as int64)", .int64(-1)), ("cast(nan as int64)", .null),
        ("cast(inf as int64)", .null), ("cast(big as int32)", .null), ("cast(i as int32)", .int64(7)),
        ("cast('42' as int64)", .int64(42)), ("cast('4x' as int64)", .null), ("cast('2.5' as float64)", .float64(2.5)),
        ("cast(i as string)", .string("7")), ("cast(f as string)", .string("2.5")), ("cast(yes as int64)", .int64(1)),
        ("cast('true' as bool)", .bool(true)), ("cast(0 as bool)", .bool(false)), ("cast(0.1 as float32)", .float64(Double(Float(0.1)))),
        ("cast(t as string)", .string("2024-03-10T13:45:30.250000Z")), ("cast('2024-03-10T13:45:30.25Z' as timestamp)", .timestamp(1_710_078_330_250_000)),
        ("cast(t as int64)", .int64(1_710_078_330_250_000)), ("cast(nan as string)", .string("nan")),
    ])
    func casts(_ text: String, _ expected: Value) throws {
        #expect(same(try evaluate(text, Self.x), expected))
    }

    @Test("stored as a narrower type: int64 out of int32's range is null, float64 rounds to float32")
    func narrowing() {
        #expect(same(OutputType.int32.narrow(.int64(3_000_000_000)), .null))
        #expect(same(OutputType.int32.narrow(.int64(-5)), .int64(-5)))
        #expect(same(OutputType.float32.narrow(.float64(0.1)), .float64(Double(Float(0.1)))))
        #expect(same(OutputType.float64.narrow(.int64(3)), .float64(3)))
    }

    @Test("type errors, unknown names and wrong argument counts are all reported, each at its offset")
    func typeErrors() throws {
        let result = ExpressionCompiler.compile("fare + 'a' > 1 and lenght(zone) = 2 and pow(fare)") { _, name in
            name == "fare" ? .found(.float64) : .notFound("no column '\(name)'")
        }
        guard case .failure(let failure) = result else { Issue.record("compiled"); return }
        let found = failure.errors.map { "\($0.range.lowerBound): \($0.message)" }
        #expect(found == [
            "7: '+' needs numbers, but this is string (join strings with concat(a, b))",
            "19: unknown function 'lenght'; did you mean 'length'?; functions: " + ExpressionCompiler.functions.map(\.name).joined(separator: ", "),
            "26: no column 'zone'",
            "40: pow() takes 2 arguments (pow(x, y)), but 1 was given",
        ])
    }

    @Test("an unknown name is reported at the name, with the scope's message")
    func unknownName() throws {
        let result = ExpressionCompiler.compile("1 + driver_stats.acc_rat") { q, n in .notFound("no feature '\(q ?? "").\(n)'") }
        guard case .failure(let failure) = result else { Issue.record("compiled"); return }
        #expect(failure.errors.map(\.range) == [4..<24])
        #expect(failure.errors.first?.message == "no feature 'driver_stats.acc_rat'")
    }

    @Test("branches of if, case and coalesce must share a type; conditions must be bool", arguments: [
        ("if(1, 2, 3)", "argument 1 of if() must be a bool condition, but it is int64"),
        ("if(true, 'a', 2)", "argument 3 of if() is int64, but the arguments before it are string"),
        ("case when 1 then 2 end", "a 'when' condition needs a bool, but this is int64"),
        ("coalesce(1, 'a')", "argument 2 of coalesce() is string, but the arguments before it are int64"),
        ("'a' = 1", "'=' compares string with int64: convert one with cast(x as type)"),
        ("not 1", "'not' needs a bool, but this is int64"),
        ("cast(1 as money)", "unknown type 'money' in cast; types: bool, int32, int64, float32, float64, string, timestamp"),
    ])
    func typeRules(_ text: String, _ message: String) {
        guard case .failure(let failure) = ExpressionCompiler.compile(text, lookup: { _, _ in .notFound("none") }) else {
            Issue.record("compiled"); return
        }
        #expect(failure.errors.map(\.message) == [message])
    }

    @Test("the column evaluator splits work in chunks and keeps row order and nulls")
    func chunks() throws {
        let n = 100_003
        let compiled = try compile("if(a % 3 = 0, null, a * 2)", ["a": (.int64, .null)])
        let a = Column(int64: (0..<n).map { Int64($0) })
        let out = compiled.evaluate(columns: [a], rowCount: n, as: .int64)
        #expect(out.count == n)
        for i in [0, 1, 2, 16_383, 16_384, 50_000, 100_002] {
            let expected: Value = i % 3 == 0 ? .null : .int64(Int64(i) * 2)
            #expect(same(value(of: out, at: i, .int64), expected), "row \(i)")
        }
    }
}
