/// Reads an expression's text into its syntax tree (``Expression``), or says precisely where it is wrong.
///
/// The grammar, loosest first: `or`; `and`; `not`; comparisons (`= == != <> < <= > >=`, `is [not] null`, not
/// chained); `+ -`; `* / %`; unary `-`; then literals (integers, decimals with `.` or an exponent, `'strings'`,
/// `true`, `false`, `null`), names (`fare`, `driver_stats.acc_rate`), calls (`f(a, b)`), `case when ... end`,
/// `cast(x as type)` and parentheses. Keywords are case-insensitive.
public enum ExpressionParser {
    /// How deep expressions may nest (parentheses, operators, calls): deeper is an error, never a stack overflow.
    public static let maximumDepth = 128

    /// Parses `text` into its syntax tree; throws an ``ExpressionError`` at the first mistake (nesting deeper than
    /// ``maximumDepth`` is one).
    public static func parse(_ text: String) throws(ExpressionError) -> Expression {
        var parser = Parser(tokens: try Lexer.tokens(text))
        let expression = try parser.expression(depth: 0)
        let next = parser.peek
        guard case .end = next.kind else {
            throw ExpressionError("unexpected \(Parser.describe(next)) after a complete expression", at: next.range)
        }
        return expression
    }
}

private struct Parser {
    let tokens: [Token]
    var position = 0

    init(tokens: [Token]) { self.tokens = tokens }

    var peek: Token { tokens[position] }

    mutating func advance() -> Token {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    static let keywords: Set<String> = ["and", "or", "not", "is", "null", "true", "false", "case", "when", "then", "else", "end", "cast", "as"]

    static func describe(_ token: Token) -> String {
        switch token.kind {
        case .end: return "end of the expression"
        case .integer(let v): return "number \(v)"
        case .number(let v): return "number \(v)"
        case .string: return "string"
        case .word(let w): return keywords.contains(w.lowercased()) ? "'\(w)'" : "name '\(w)'"
        case .symbol(let s): return "'\(s)'"
        }
    }

    func isSymbol(_ s: String) -> Bool {
        if case .symbol(s) = peek.kind { return true }
        return false
    }

    func isKeyword(_ k: String) -> Bool { peek.keyword == k }

    mutating func expect(symbol s: String, _ what: String) throws(ExpressionError) -> Token {
        guard isSymbol(s) else { throw ExpressionError("expected '\(s)' \(what), found \(Self.describe(peek))", at: peek.range) }
        return advance()
    }

    mutating func expect(keyword k: String, _ what: String) throws(ExpressionError) -> Token {
        guard isKeyword(k) else { throw ExpressionError("expected '\(k)' \(what), found \(Self.describe(peek))", at: peek.range) }
        return advance()
    }

    func checkDepth(_ depth: Int) throws(ExpressionError) {
        guard depth < ExpressionParser.maximumDepth else {
            throw ExpressionError("the expression nests more than \(ExpressionParser.maximumDepth) levels deep", at: peek.range)
        }
    }

    /// A binary operator at the current token, if any.
    func binaryOperator() -> BinaryOperator? {
        switch peek.kind {
        case .word(let w):
            switch w.lowercased() {
            case "and": return .and
            case "or": return .or
            default: return nil
            }
        case .symbol(let s):
            switch s {
            case "=", "==": return .equal
            case "!=", "<>": return .notEqual
            case "<": return .less
            case "<=": return .lessOrEqual
            case ">": return .greater
            case ">=": return .greaterOrEqual
            case "+": return .add
            case "-": return .subtract
            case "*": return .multiply
            case "/": return .divide
            case "%": return .remainder
            default: return nil
            }
        default: return nil
        }
    }

    mutating func expression(depth: Int, minimum: Int = 1) throws(ExpressionError) -> Expression {
        try checkDepth(depth)
        var left = try prefix(depth: depth)
        while true {
            if isKeyword("is") {
                // `is [not] null` binds as a comparison.
                guard minimum <= 4 else { break }
                _ = advance()
                let negated = isKeyword("not")
                if negated { _ = advance() }
                let null = try expect(keyword: "null", "after 'is\(negated ? " not" : "")'")
                left = Expression(.isNull(left, negated: negated), left.range.lowerBound..<null.range.upperBound)
                continue
            }
            guard let op = binaryOperator(), op.precedence >= minimum else { break }
            _ = advance()
            let right = try expression(depth: depth + 1, minimum: op.precedence + 1)
            if op.precedence == 4, let next = binaryOperator(), next.precedence == 4 {
                throw ExpressionError("comparisons do not chain: write (a < b) and (b < c)", at: peek.range)
            }
            left = Expression(.binary(op, left, right), left.range.lowerBound..<right.range.upperBound)
        }
        return left
    }

    mutating func prefix(depth: Int) throws(ExpressionError) -> Expression {
        try checkDepth(depth)
        let token = peek
        switch token.kind {
        case .symbol("-"):
            _ = advance()
            let operand = try expression(depth: depth + 1, minimum: 7)
            // A negative literal is a literal (so -9223372036854775808 cannot be written, but its neighbours can).
            if case .literal(.int(let v)) = operand.kind, v != Int64.min {
                return Expression(.literal(.int(-v)), token.range.lowerBound..<operand.range.upperBound)
            }
            if case .literal(.double(let v)) = operand.kind {
                return Expression(.literal(.double(-v)), token.range.lowerBound..<operand.range.upperBound)
            }
            return Expression(.unary(.negate, operand), token.range.lowerBound..<operand.range.upperBound)
        case .symbol("("):
            _ = advance()
            let inner = try expression(depth: depth + 1)
            let close = try expect(symbol: ")", "to close the '(' at offset \(token.range.lowerBound)")
            return Expression(inner.kind, token.range.lowerBound..<close.range.upperBound)
        case .integer(let v):
            _ = advance()
            return Expression(.literal(.int(v)), token.range)
        case .number(let v):
            _ = advance()
            return Expression(.literal(.double(v)), token.range)
        case .string(let s):
            _ = advance()
            return Expression(.literal(.string(s)), token.range)
        case .word(let w):
            switch w.lowercased() {
            case "null":
                _ = advance()
                return Expression(.literal(.null), token.range)
            case "true", "false":
                _ = advance()
                return Expression(.literal(.bool(w.lowercased() == "true")), token.range)
            case "not":
                _ = advance()
                // `not` binds looser than comparisons: `not a = b` is `not (a = b)`.
                let operand = try expression(depth: depth + 1, minimum: 3)
                return Expression(.unary(.not, operand), token.range.lowerBound..<operand.range.upperBound)
            case "case":
                return try caseWhen(depth: depth)
            case "cast":
                return try cast(depth: depth)
            default:
                if Self.keywords.contains(w.lowercased()) {
                    throw ExpressionError("expected a value, found \(Self.describe(token))", at: token.range)
                }
                _ = advance()
                if isSymbol("(") { return try call(w, start: token.range.lowerBound, depth: depth) }
                if isSymbol(".") {
                    _ = advance()
                    let field = peek
                    guard case .word(let name) = field.kind, !Self.keywords.contains(name.lowercased()) else {
                        throw ExpressionError("expected a feature name after '\(w).', found \(Self.describe(field))", at: field.range)
                    }
                    _ = advance()
                    return Expression(.name(qualifier: w, name: name), token.range.lowerBound..<field.range.upperBound)
                }
                return Expression(.name(qualifier: nil, name: w), token.range)
            }
        default:
            throw ExpressionError("expected a value, found \(Self.describe(token))", at: token.range)
        }
    }

    mutating func call(_ name: String, start: Int, depth: Int) throws(ExpressionError) -> Expression {
        let open = advance()
        var arguments: [Expression] = []
        if !isSymbol(")") {
            while true {
                arguments.append(try expression(depth: depth + 1))
                if isSymbol(",") { _ = advance(); continue }
                break
            }
        }
        let close = try expect(symbol: ")", "to close the call of \(name) opened at offset \(open.range.lowerBound)")
        return Expression(.call(name, arguments), start..<close.range.upperBound)
    }

    mutating func caseWhen(depth: Int) throws(ExpressionError) -> Expression {
        let start = advance()
        var clauses: [Expression.WhenClause] = []
        while isKeyword("when") {
            _ = advance()
            let condition = try expression(depth: depth + 1)
            _ = try expect(keyword: "then", "after the condition of 'when'")
            let value = try expression(depth: depth + 1)
            clauses.append(Expression.WhenClause(condition: condition, value: value))
        }
        guard !clauses.isEmpty else { throw ExpressionError("'case' needs at least one 'when ... then ...'", at: peek.range) }
        var otherwise: Expression?
        if isKeyword("else") {
            _ = advance()
            otherwise = try expression(depth: depth + 1)
        }
        let end = try expect(keyword: "end", "to close the 'case' at offset \(start.range.lowerBound)")
        return Expression(.caseWhen(clauses, otherwise: otherwise), start.range.lowerBound..<end.range.upperBound)
    }

    mutating func cast(depth: Int) throws(ExpressionError) -> Expression {
        let start = advance()
        _ = try expect(symbol: "(", "after 'cast'")
        let value = try expression(depth: depth + 1)
        _ = try expect(keyword: "as", "in cast(value as type)")
        let typeToken = peek
        guard case .word(let type) = typeToken.kind else {
            throw ExpressionError("expected a type after 'as', found \(Self.describe(typeToken))", at: typeToken.range)
        }
        _ = advance()
        let close = try expect(symbol: ")", "to close 'cast'")
        return Expression(.cast(value, type: type), start.range.lowerBound..<close.range.upperBound)
    }
}
