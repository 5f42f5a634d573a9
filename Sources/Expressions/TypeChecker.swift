public import ErrorChain
/// What a name in an expression refers to, as the definition around it says.
public enum NameLookup: Sendable {
    /// An input of this type.
    case found(ExpressionType)
    /// No such input: the message says why, with what exists ("no column 'fre' in source 'trips'; did you mean 'fare'?").
    case notFound(String)
}

/// Every mistake found in one expression, in text order.
public struct ExpressionErrors: ChainedError {
    /// The mistakes, in text order.
    public var errors: [ExpressionError]
    /// `expression`.
    public var errorCode: String { "expression" }
    /// Every mistake, with its offset.
    public var description: String { ErrorChain.render(self) }
    /// Every mistake, with its offset.
    public var message: String { errors.map(\.description).joined(separator: "; ") }
}

/// Checks and compiles expressions: parses the text, resolves every name through the caller's scope, types every
/// node, and resolves every operation for its operand types. All mistakes are reported at once, each at the place of
/// the offending token; a mistake inside an argument does not cause further messages about the call around it.
public enum ExpressionCompiler {
    /// Compiles `text`, resolving names with `lookup(qualifier, name)`.
    public static func compile(_ text: String, lookup: @escaping (String?, String) -> NameLookup) -> Result<CompiledExpression, ExpressionErrors> {
        let syntax: Expression
        do {
            syntax = try ExpressionParser.parse(text)
        } catch {
            return .failure(ExpressionErrors(errors: [error]))
        }
        var checker = Checker(lookup: lookup)
        let node = checker.check(syntax)
        if !checker.errors.isEmpty {
            return .failure(ExpressionErrors(errors: checker.errors.sorted { $0.range.lowerBound < $1.range.lowerBound }))
        }
        guard let node else { return .failure(ExpressionErrors(errors: [ExpressionError("the expression has no type", at: syntax.range)])) }
        return .success(CompiledExpression(text: text, type: node.type, inputs: checker.inputs, root: node))
    }

    /// The functions the language has, with their signatures, for documentation and "did you mean" hints.
    public static let functions: [(name: String, signature: String)] = [
        ("if", "if(condition, a, b)"), ("coalesce", "coalesce(a, b, ...)"), ("nullif", "nullif(a, b)"),
        ("abs", "abs(x)"), ("sqrt", "sqrt(x)"), ("ln", "ln(x)"), ("log", "log(x)"), ("exp", "exp(x)"), ("pow", "pow(x, y)"),
        ("round", "round(x) / round(x, digits)"), ("floor", "floor(x)"), ("ceil", "ceil(x)"),
        ("least", "least(a, b, ...)"), ("greatest", "greatest(a, b, ...)"), ("clamp", "clamp(x, low, high)"),
        ("haversine_km", "haversine_km(lat1, lon1, lat2, lon2)"),
        ("lower", "lower(s)"), ("upper", "upper(s)"), ("length", "length(s)"), ("concat", "concat(a, b, ...)"),
        ("substr", "substr(s, start) / substr(s, start, length)"), ("contains", "contains(s, part)"),
        ("starts_with", "starts_with(s, prefix)"), ("ends_with", "ends_with(s, suffix)"),
        ("year", "year(t)"), ("month", "month(t)"), ("day", "day(t)"), ("hour", "hour(t)"), ("minute", "minute(t)"),
        ("day_of_week", "day_of_week(t)"), ("epoch_seconds", "epoch_seconds(t)"),
    ]
}

private struct Checker {
    let lookup: (String?, String) -> NameLookup
    var errors: [ExpressionError] = []
    var inputs: [ExpressionInput] = []

    init(lookup: @escaping (String?, String) -> NameLookup) {
        self.lookup = lookup
    }

    mutating func error(_ message: String, _ range: Range<Int>) {
        errors.append(ExpressionError(message, at: range))
    }

    /// The typed node, or nil after reporting an error (callers then report nothing more about it).
    mutating func check(_ e: Expression) -> Node? {
        switch e.kind {
        case .literal(let literal):
            switch literal {
            case .null: return .constant(.null, .null)
            case .bool(let b): return .constant(.bool(b), .bool)
            case .int(let i): return .constant(.int64(i), .int64)
            case .double(let d): return .constant(.float64(d), .float64)
            case .string(let s): return .constant(.string(s), .string)
            }
        case .name(let qualifier, let name):
            switch lookup(qualifier, name) {
            case .notFound(let message):
                error(message, e.range)
                return nil
            case .found(let type):
                if let slot = inputs.firstIndex(where: { $0.qualifier == qualifier && $0.name == name }) {
                    return .input(slot, type)
                }
                inputs.append(ExpressionInput(qualifier: qualifier, name: name, type: type))
                return .input(inputs.count - 1, type)
            }
        case .unary(let op, let operand):
            guard let x = check(operand) else { return nil }
            switch op {
            case .negate:
                switch x.type {
                case .int64, .null: return .apply(.negateInt, [typed(x, .int64)], .int64)
                case .float64: return .apply(.negateFloat, [x], .float64)
                default:
                    error("'-' needs a number, but this is \(x.type)", operand.range)
                    return nil
                }
            case .not:
                guard expect(x, .bool, operand, "'not'") else { return nil }
                return .apply(.not, [typed(x, .bool)], .bool)
            }
        case .binary(let op, let left, let right):
            let a = check(left), b = check(right)
            guard let a, let b else { return nil }
            return binary(op, a, b, left, right, e)
        case .isNull(let operand, let negated):
            guard let x = check(operand) else { return nil }
            return .apply(.isNull(negated: negated), [x], .bool)
        case .call(let name, let arguments):
            let args = arguments.map { check($0) }
            return call(name.lowercased(), name, args, arguments, e)
        case .caseWhen(let clauses, let otherwise):
            var nodes: [Node] = []
            var valueType: ExpressionType = .null
            var failed = false
            var values: [(Node, Expression)] = []
            for clause in clauses {
                let c = check(clause.condition), v = check(clause.value)
                if let c { if !expect(c, .bool, clause.condition, "a 'when' condition") { failed = true } } else { failed = true }
                if let v {
                    if let unified = ExpressionType.unify(valueType, v.type) {
                        valueType = unified
                    } else {
                        error("this 'then' value is \(v.type), but earlier values are \(valueType)", clause.value.range)
                        failed = true
                    }
                    values.append((v, clause.value))
                } else { failed = true }
                if let c { nodes.append(typed(c, .bool)) }
                if let v { nodes.append(v) }
            }
            var elseNode: Node? = nil
            if let otherwise {
                if let v = check(otherwise) {
                    if let unified = ExpressionType.unify(valueType, v.type) { valueType = unified } else {
                        error("the 'else' value is \(v.type), but the 'then' values are \(valueType)", otherwise.range)
                        failed = true
                    }
                    elseNode = v
                } else { failed = true }
            }
            guard !failed else { return nil }
            var out: [Node] = []
            for i in stride(from: 0, to: nodes.count, by: 2) {
                out.append(nodes[i])
                out.append(convert(nodes[i + 1], to: valueType))
            }
            if let elseNode { out.append(convert(elseNode, to: valueType)) }
            return .apply(.caseWhen(hasElse: elseNode != nil), out, valueType)
        case .cast(let operand, let typeName):
            guard let target = CastTarget(rawValue: typeName.lowercased()) else {
                let names = CastTarget.allCases.map(\.rawValue)
                error("unknown type '\(typeName)' in cast\(hint(typeName, names)); types: \(names.joined(separator: ", "))", e.range)
                return nil
            }
            guard let x = check(operand) else { return nil }
            if x.type == .null { return .constant(.null, target.type) }
            let allowed: Bool
            switch (x.type, target) {
            case (.timestamp, .bool), (.timestamp, .float32), (.timestamp, .float64), (.bool, .timestamp), (.float64, .timestamp): allowed = false
            default: allowed = true
            }
            guard allowed else {
                error("cannot cast \(x.type) to \(target.rawValue)", e.range)
                return nil
            }
            return .apply(.cast(to: target), [x], target.type)
        }
    }

    /// Checks that `node` has `type` (null is fine), reporting at `syntax` otherwise.
    mutating func expect(_ node: Node, _ type: ExpressionType, _ syntax: Expression, _ what: String) -> Bool {
        if node.type == type || node.type == .null { return true }
        error("\(what) needs \(article(type)), but this is \(node.type)", syntax.range)
        return false
    }

    /// A null constant given a concrete type (other nodes unchanged).
    func typed(_ node: Node, _ type: ExpressionType) -> Node {
        if node.type == .null { return .constant(.null, type) }
        return node
    }

    /// `node` as `type`: int64 widened to float64, null typed.
    func convert(_ node: Node, to type: ExpressionType) -> Node {
        if node.type == type { return node }
        if node.type == .null { return .constant(.null, type) }
        if node.type == .int64 && type == .float64 {
            if case .constant(.int64(let i), _) = node { return .constant(.float64(Double(i)), .float64) }
            return .apply(.toFloat, [node], .float64)
        }
        return node
    }

    mutating func binary(_ op: BinaryOperator, _ a: Node, _ b: Node, _ left: Expression, _ right: Expression, _ e: Expression) -> Node? {
        switch op {
        case .and, .or:
            let okA = expect(a, .bool, left, "'\(op.rawValue)'"), okB = expect(b, .bool, right, "'\(op.rawValue)'")
            guard okA && okB else { return nil }
            return .apply(op == .and ? .and : .or, [typed(a, .bool), typed(b, .bool)], .bool)
        case .add, .subtract, .multiply, .divide, .remainder:
            if op == .subtract && a.type == .timestamp && b.type == .timestamp {
                return .apply(.secondsBetween, [a, b], .float64)
            }
            var ok = true
            for (node, syntax) in [(a, left), (b, right)] where !(node.type.isNumeric || node.type == .null) {
                let extra = node.type == .timestamp ? " (the difference of two timestamps, 't1 - t2', is in seconds)" : node.type == .string && op == .add ? " (join strings with concat(a, b))" : ""
                error("'\(op.rawValue)' needs numbers, but this is \(node.type)\(extra)", syntax.range)
                ok = false
            }
            guard ok else { return nil }
            let isFloat = op == .divide || a.type == .float64 || b.type == .float64
            let t: ExpressionType = isFloat ? .float64 : .int64
            let args = [convert(a, to: t), convert(b, to: t)]
            let operation: Operation
            switch op {
            case .add: operation = isFloat ? .addFloat : .addInt
            case .subtract: operation = isFloat ? .subtractFloat : .subtractInt
            case .multiply: operation = isFloat ? .multiplyFloat : .multiplyInt
            case .divide: operation = .divide
            default: operation = isFloat ? .remainderFloat : .remainderInt
            }
            return .apply(operation, args, t)
        default:
            let comparison = Comparison(op)!
            guard let t = comparable(a, b, left, right, "'\(op.rawValue)'") else { return nil }
            if t == .bool && comparison != .equal && comparison != .notEqual {
                // Booleans are ordered (false < true), as in SQL.
            }
            return .apply(.compare(comparison), [convert(a, to: t), convert(b, to: t)], .bool)
        }
    }

    /// The common type of two compared operands (numbers compare as float64 when either is a float).
    mutating func comparable(_ a: Node, _ b: Node, _ left: Expression, _ right: Expression, _ what: String) -> ExpressionType? {
        guard let t = ExpressionType.unify(a.type, b.type) else {
            error("\(what) compares \(a.type) with \(b.type): convert one with cast(x as type)", left.range.lowerBound..<right.range.upperBound)
            return nil
        }
        return t == .null ? .int64 : t
    }

    mutating func call(_ name: String, _ written: String, _ args: [Node?], _ syntax: [Expression], _ e: Expression) -> Node? {
        let count = args.count
        func arity(_ range: ClosedRange<Int>, _ signature: String) -> Bool {
            if range.contains(count) { return true }
            let wanted = range.lowerBound == range.upperBound ? "\(range.lowerBound) argument\(range.lowerBound == 1 ? "" : "s")"
                : range.upperBound == Int.max ? "at least \(range.lowerBound) arguments" : "\(range.lowerBound) to \(range.upperBound) arguments"
            error("\(written)() takes \(wanted) (\(signature)), but \(count) \(count == 1 ? "was" : "were") given", e.range)
            return false
        }
        let signature = ExpressionCompiler.functions.first { $0.name == name }?.signature ?? name
        guard ExpressionCompiler.functions.contains(where: { $0.name == name }) else {
            let names = ExpressionCompiler.functions.map(\.name)
            error("unknown function '\(written)'\(hint(name, names)); functions: \(names.joined(separator: ", "))", e.range)
            return nil
        }
        let many = Int.max
        let range: ClosedRange<Int>
        switch name {
        case "if", "clamp": range = 3...3
        case "coalesce", "concat": range = 1...many
        case "least", "greatest": range = 2...many
        case "nullif", "pow", "contains", "starts_with", "ends_with": range = 2...2
        case "round": range = 1...2
        case "substr": range = 2...3
        case "haversine_km": range = 4...4
        default: range = 1...1
        }
        guard arity(range, signature) else { return nil }
        guard args.allSatisfy({ $0 != nil }) else { return nil }
        let a = args.map { $0! }

        /// Checks argument `i` is of one of `types` (null accepted), reporting otherwise.
        func need(_ i: Int, _ types: [ExpressionType], _ what: String) -> Bool {
            if types.contains(a[i].type) || a[i].type == .null { return true }
            error("argument \(i + 1) of \(written)() must be \(what), but it is \(a[i].type)", syntax[i].range)
            return false
        }
        func allNeed(_ types: [ExpressionType], _ what: String) -> Bool {
            var ok = true
            for i in a.indices where !need(i, types, what) { ok = false }
            return ok
        }
        func unified(_ indices: Range<Int>) -> ExpressionType? {
            var t: ExpressionType = .null
            for i in indices {
                guard let u = ExpressionType.unify(t, a[i].type) else {
                    error("argument \(i + 1) of \(written)() is \(a[i].type), but the arguments before it are \(t)", syntax[i].range)
                    return nil
                }
                t = u
            }
            return t
        }
        let numeric: [ExpressionType] = [.int64, .float64]
        func floats(_ op: Operation) -> Node? {
            guard allNeed(numeric, "a number") else { return nil }
            return .apply(op, a.map { convert($0, to: .float64) }, .float64)
        }
        func time(_ op: Operation) -> Node? {
            guard need(0, [.timestamp], "a timestamp") else { return nil }
            return .apply(op, [typed(a[0], .timestamp)], .int64)
        }

        switch name {
        case "if":
            guard need(0, [.bool], "a bool condition") else { return nil }
            guard let t = unified(1..<3) else { return nil }
            return .apply(.ifThenElse, [typed(a[0], .bool), convert(a[1], to: t), convert(a[2], to: t)], t)
        case "coalesce":
            guard let t = unified(0..<count) else { return nil }
            return .apply(.coalesce, a.map { convert($0, to: t) }, t)
        case "nullif":
            guard let t = comparable(a[0], a[1], syntax[0], syntax[1], "nullif()") else { return nil }
            let resultType = a[0].type == .null ? a[1].type : (a[0].type == .int64 && t == .float64 ? .float64 : t)
            return .apply(.nullIf, [convert(a[0], to: t), convert(a[1], to: t)], resultType == .null ? .int64 : resultType)
        case "abs":
            guard need(0, numeric, "a number") else { return nil }
            return a[0].type == .float64 ? .apply(.absFloat, a, .float64) : .apply(.absInt, [typed(a[0], .int64)], .int64)
        case "sqrt": return floats(.sqrt)
        case "ln": return floats(.ln)
        case "log": return floats(.log10)
        case "exp": return floats(.exp)
        case "pow": return floats(.pow)
        case "round", "floor", "ceil":
            guard need(0, numeric, "a number") else { return nil }
            if count == 2 {
                guard need(1, [.int64], "an integer number of digits") else { return nil }
                return .apply(.roundDigits, [convert(a[0], to: .float64), typed(a[1], .int64)], .float64)
            }
            // Integers are whole already.
            if a[0].type != .float64 { return typed(a[0], .int64) }
            return .apply(name == "round" ? .roundFloat : name == "floor" ? .floor : .ceil, a, .float64)
        case "least", "greatest", "clamp":
            guard allNeed([.int64, .float64, .string, .timestamp], "a number, string or timestamp") else { return nil }
            guard var t = unified(0..<count) else { return nil }
            if t == .null { t = .int64 }
            if name == "clamp" && !(t.isNumeric) {
                error("clamp() needs numbers, but these are \(t)", e.range)
                return nil
            }
            let op: Operation = name == "least" ? .least : name == "greatest" ? .greatest : .clamp
            return .apply(op, a.map { convert($0, to: t) }, t)
        case "haversine_km": return floats(.haversineKm)
        case "lower", "upper":
            guard need(0, [.string], "a string") else { return nil }
            return .apply(name == "lower" ? .lower : .upper, [typed(a[0], .string)], .string)
        case "length":
            guard need(0, [.string], "a string") else { return nil }
            return .apply(.length, [typed(a[0], .string)], .int64)
        case "concat":
            guard allNeed([.string], "a string (convert others with cast(x as string))") else { return nil }
            return .apply(.concat, a.map { typed($0, .string) }, .string)
        case "substr":
            var ok = need(0, [.string], "a string")
            for i in 1..<count where !need(i, [.int64], "an integer") { ok = false }
            guard ok else { return nil }
            return .apply(.substring, [typed(a[0], .string)] + a.dropFirst().map { typed($0, .int64) }, .string)
        case "contains", "starts_with", "ends_with":
            guard allNeed([.string], "a string") else { return nil }
            let op: Operation = name == "contains" ? .contains : name == "starts_with" ? .startsWith : .endsWith
            return .apply(op, a.map { typed($0, .string) }, .bool)
        case "year": return time(.year)
        case "month": return time(.month)
        case "day": return time(.day)
        case "hour": return time(.hour)
        case "minute": return time(.minute)
        case "day_of_week": return time(.dayOfWeek)
        case "epoch_seconds": return time(.epochSeconds)
        default:
            error("unknown function '\(written)'", e.range)
            return nil
        }
    }

    func article(_ t: ExpressionType) -> String {
        switch t {
        case .int64: return "an int64"
        default: return "a \(t)"
        }
    }

    func hint(_ name: String, _ candidates: [String]) -> String {
        ExpressionSuggestion.hint(for: name, in: candidates)
    }
}

/// "did you mean" hints for names and functions: ``DidYouMean``'s one rule.
public enum ExpressionSuggestion {
    /// `; did you mean 'x'?` when a candidate is close, else empty.
    public static func hint(for name: String, in candidates: [String]) -> String {
        DidYouMean.hint(for: name, in: candidates)
    }
}
