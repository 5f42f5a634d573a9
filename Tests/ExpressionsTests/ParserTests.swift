import Expressions
import Testing

/// The tree as text, fully parenthesised: what the parser understood.
func show(_ e: Expression) -> String {
    switch e.kind {
    case .literal(let l):
        switch l {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .int(let i): return "\(i)"
        case .double(let d): return "\(d)"
        case .string(let s): return "'\(s)'"
        }
    case .name(let q, let n): return q.map { "\($0).\(n)" } ?? n
    case .unary(let op, let x): return "(\(op.rawValue) \(show(x)))"
    case .binary(let op, let a, let b): return "(\(show(a)) \(op.rawValue) \(show(b)))"
    case .isNull(let x, let negated): return "(\(show(x)) is \(negated ? "not " : "")null)"
    case .call(let f, let args): return "\(f)(\(args.map(show).joined(separator: ", ")))"
    case .caseWhen(let clauses, let otherwise):
        return "case" + clauses.map { " when \(show($0.condition)) then \(show($0.value))" }.joined() + (otherwise.map { " else \(show($0))" } ?? "") + " end"
    case .cast(let x, let type): return "cast(\(show(x)) as \(type))"
    }
}

@Suite("Expression syntax")
struct ParserTests {
    @Test("precedence: or < and < not < comparison < + - < * / % < unary minus; left to right within a level", arguments: [
        ("a or b and c", "(a or (b and c))"),
        ("not a = b and c", "((not (a = b)) and c)"),
        ("1 + 2 * 3 - 4", "((1 + (2 * 3)) - 4)"),
        ("a - b - c", "((a - b) - c)"),
        ("a / b % c", "((a / b) % c)"),
        ("-a * b", "((- a) * b)"),
        ("-3 * x", "(-3 * x)"),
        ("(1 + 2) * 3", "((1 + 2) * 3)"),
        ("a <> b or a == b", "((a != b) or (a = b))"),
        ("x is null and y is not null", "((x is null) and (y is not null))"),
    ])
    func precedence(_ text: String, _ expected: String) throws {
        #expect(show(try ExpressionParser.parse(text)) == expected)
    }

    @Test("literals, names, qualified names, calls, case and cast")
    func forms() throws {
        #expect(show(try ExpressionParser.parse("coalesce(route_stats.avg_fare_per_km, 1.8) * trip_distance_km"))
                == "(coalesce(route_stats.avg_fare_per_km, 1.8) * trip_distance_km)")
        #expect(show(try ExpressionParser.parse("CASE WHEN x > 20 THEN 'long' WHEN x > 5 THEN 'mid' ELSE 'short' END"))
                == "case when (x > 20) then 'long' when (x > 5) then 'mid' else 'short' end")
        #expect(show(try ExpressionParser.parse("cast(hour(pickup_time) as int32)")) == "cast(hour(pickup_time) as int32)")
        #expect(show(try ExpressionParser.parse("'it''s' = name and TRUE and not False")) == "((('it's' = name) and true) and (not false))")
        #expect(show(try ExpressionParser.parse("now()")) == "now()")
        #expect(show(try ExpressionParser.parse("1e3 + .5 + 2.5E-1 + 9223372036854775807")) == "(((1000.0 + 0.5) + 0.25) + 9223372036854775807)")
        #expect(show(try ExpressionParser.parse("a -- a comment\n + b")) == "(a + b)")
    }

    @Test("every node knows its place in the text")
    func ranges() throws {
        let e = try ExpressionParser.parse("fare / nullif(distance_km, 0)")
        #expect(e.range == 0..<29)
        guard case .binary(_, let left, let right) = e.kind, case .call(_, let args) = right.kind else {
            Issue.record("unexpected tree \(show(e))")
            return
        }
        #expect(left.range == 0..<4 && right.range == 7..<29 && args[0].range == 14..<25 && args[1].range == 27..<28)
        // Offsets count UTF-8 bytes.
        let s = try ExpressionParser.parse("'zürich' = x")
        guard case .binary(_, _, let x) = s.kind else { return }
        #expect(x.range == 12..<13)
    }

    @Test("mistakes are errors at the exact place, with what was expected", arguments: [
        ("fare +", "expected a value, found end of the expression", 6),
        ("fare * (a + b", "expected ')' to close the '(' at offset 7, found end of the expression", 13),
        ("f(a, b", "expected ')' to close the call of f opened at offset 1, found end of the expression", 6),
        ("a b", "unexpected name 'b' after a complete expression", 2),
        ("a < b < c", "comparisons do not chain: write (a < b) and (b < c)", 6),
        ("x is nul", "expected 'null' after 'is', found name 'nul'", 5),
        ("\"text\"", "strings are written in single quotes: 'text'", 0),
        ("'open", "a string is not closed: end it with '", 0),
        ("12abc", "a number cannot run into a name: put a space or an operator between them", 0),
        ("99999999999999999999", "the integer 99999999999999999999 does not fit in int64 (write it with a fraction, like 99999999999999999999.0, for a float64)", 0),
        ("case else 1 end", "'case' needs at least one 'when ... then ...'", 5),
        ("case when a then 1", "expected 'end' to close the 'case' at offset 0, found end of the expression", 18),
        ("cast(x int32)", "expected 'as' in cast(value as type), found name 'int32'", 7),
        ("stats.", "expected a feature name after 'stats.', found end of the expression", 6),
        ("a ≥ b", "unexpected character '≥'", 2),
        ("and", "expected a value, found 'and'", 0),
    ])
    func errors(_ text: String, _ message: String, _ offset: Int) {
        do {
            let e = try ExpressionParser.parse(text)
            Issue.record("parsed as \(show(e))")
        } catch {
            #expect(error.message == message)
            #expect(error.range.lowerBound == offset, "\(error)")
        }
    }

    @Test("deep nesting is an error, not a stack overflow")
    func depth() {
        let deep = String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000)
        #expect(throws: ExpressionError.self) { try ExpressionParser.parse(deep) }
        let long = (0..<5_000).map { "a\($0)" }.joined(separator: " + ")
        #expect((try? ExpressionParser.parse(long)) != nil, "a long flat sum is fine")
        let negations = String(repeating: "-", count: 10_000) + "1"
        #expect(throws: ExpressionError.self) { try ExpressionParser.parse(negations) }
    }

    @Test("fuzzing: random token soups and byte strings parse or fail with an error inside the text, never crash")
    func fuzz() {
        var state: UInt64 = 0x5EED
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let pieces = ["a", "b.c", "1", "2.5", "'s'", "''", "(", ")", ",", "+", "-", "*", "/", "%", "=", "<", "<=", "<>", "!=",
                      "and", "or", "not", "is", "null", "true", "case", "when", "then", "else", "end", "cast", "as", "f(", " ", "--", "\n", "é", "\"", "1e", "."]
        for _ in 0..<20_000 {
            let count = Int(next() % 24)
            let text = (0..<count).map { _ in pieces[Int(next() % UInt64(pieces.count))] }.joined(separator: next() % 2 == 0 ? " " : "")
            do {
                _ = try ExpressionParser.parse(text)
            } catch {
                #expect(error.range.lowerBound >= 0 && error.range.upperBound <= text.utf8.count, "\(text): \(error)")
            }
        }
        for _ in 0..<5_000 {
            let bytes = (0..<Int(next() % 32)).map { _ in UInt8(truncatingIfNeeded: next()) }
            let text = String(decoding: bytes, as: UTF8.self)
            do { _ = try ExpressionParser.parse(text) } catch {
                #expect(error.range.upperBound <= text.utf8.count, "\(error)")
            }
        }
    }
}
