import Columnar

extension CompiledExpression {
    /// The value for one row (a request): `inputs` holds one value per ``inputs`` entry, in order, each of that
    /// input's type or null. Never throws, never traps: what SQL would reject at run time is null (see ``Kernels``).
    public func evaluate(_ inputs: [Value]) -> Value {
        root.evaluate(inputs)
    }
}

extension Node {
    func evaluate(_ inputs: [Value]) -> Value {
        switch self {
        case .constant(let v, _): return v
        case .input(let slot, _): return inputs[slot]
        case .apply(let op, let args, let type):
            switch op {
            // Operations that look at nulls themselves.
            case .and:
                let a = args[0].evaluate(inputs), b = args[1].evaluate(inputs)
                if case .bool(false) = a { return .bool(false) }
                if case .bool(false) = b { return .bool(false) }
                if a.isNull || b.isNull { return .null }
                return .bool(true)
            case .or:
                let a = args[0].evaluate(inputs), b = args[1].evaluate(inputs)
                if case .bool(true) = a { return .bool(true) }
                if case .bool(true) = b { return .bool(true) }
                if a.isNull || b.isNull { return .null }
                return .bool(false)
            case .isNull(let negated):
                return .bool(args[0].evaluate(inputs).isNull != negated)
            case .coalesce:
                for arg in args {
                    let v = arg.evaluate(inputs)
                    if !v.isNull { return v }
                }
                return .null
            case .ifThenElse:
                if case .bool(true) = args[0].evaluate(inputs) { return args[1].evaluate(inputs) }
                return args[2].evaluate(inputs)
            case .caseWhen(let hasElse):
                var i = 0
                while i + 1 < args.count {
                    if case .bool(true) = args[i].evaluate(inputs) { return args[i + 1].evaluate(inputs) }
                    i += 2
                }
                return hasElse ? args[args.count - 1].evaluate(inputs) : .null
            case .nullIf:
                let a = args[0].evaluate(inputs), b = args[1].evaluate(inputs)
                if a.isNull { return .null }
                if b.isNull { return a }
                return Scalar.order(a, b) == 0 ? .null : a
            case .addInt, .subtractInt, .multiplyInt, .remainderInt, .addFloat, .subtractFloat, .multiplyFloat, .divide,
                 .remainderFloat, .compare:
                // The common binary operations without an argument array (the same kernels as below).
                let a = args[0].evaluate(inputs)
                if a.isNull { return .null }
                let b = args[1].evaluate(inputs)
                if b.isNull { return .null }
                return Scalar.binary(op, a, b)
            case .toFloat:
                if case .int64(let i) = args[0].evaluate(inputs) { return .float64(Double(i)) }
                return .null
            default:
                // Everything else: null in, null out. Up to four arguments without an array.
                if args.count <= 4 {
                    var values = SmallValues()
                    for arg in args {
                        let v = arg.evaluate(inputs)
                        if v.isNull { return .null }
                        values.append(v)
                    }
                    return Scalar.apply(op, values, type)
                }
                var values: [Value] = []
                values.reserveCapacity(args.count)
                for arg in args {
                    let v = arg.evaluate(inputs)
                    if v.isNull { return .null }
                    values.append(v)
                }
                return Scalar.apply(op, values, type)
            }
        }
    }
}

/// The strict operations on non-null values (`nil` results are null), through ``Kernels``.
enum Scalar {
    /// The common binary operations on two non-null values: what ``apply(_:_:_:)`` does for them.
    @inline(__always)
    static func binary(_ op: Operation, _ a: Value, _ b: Value) -> Value {
        switch (op, a, b) {
        case (.addInt, .int64(let x), .int64(let y)): return Kernels.add(x, y).map(Value.int64) ?? .null
        case (.subtractInt, .int64(let x), .int64(let y)): return Kernels.subtract(x, y).map(Value.int64) ?? .null
        case (.multiplyInt, .int64(let x), .int64(let y)): return Kernels.multiply(x, y).map(Value.int64) ?? .null
        case (.remainderInt, .int64(let x), .int64(let y)): return Kernels.remainder(x, y).map(Value.int64) ?? .null
        case (.addFloat, .float64(let x), .float64(let y)): return .float64(Kernels.add(x, y))
        case (.subtractFloat, .float64(let x), .float64(let y)): return .float64(Kernels.subtract(x, y))
        case (.multiplyFloat, .float64(let x), .float64(let y)): return .float64(Kernels.multiply(x, y))
        case (.divide, .float64(let x), .float64(let y)): return Kernels.divide(x, y).map(Value.float64) ?? .null
        case (.remainderFloat, .float64(let x), .float64(let y)): return Kernels.remainder(x, y).map(Value.float64) ?? .null
        case (.compare(let c), _, _): return .bool(c.holds(order(a, b)))
        default:
            var values = SmallValues()
            values.append(a)
            values.append(b)
            return apply(op, values, .null)
        }
    }

    static func order(_ a: Value, _ b: Value) -> Int {
        switch (a, b) {
        case (.int64(let x), .int64(let y)), (.timestamp(let x), .timestamp(let y)): return Kernels.order(x, y)
        case (.float64(let x), .float64(let y)): return Kernels.order(x, y)
        case (.bool(let x), .bool(let y)): return Kernels.order(x, y)
        case (.string(let x), .string(let y)): return Kernels.order(x, y)
        default: return 0 // the checker gives compared operands one type
        }
    }

    static func apply<Arguments: ValueArguments>(_ op: Operation, _ v: Arguments, _ type: ExpressionType) -> Value {
        func int(_ i: Int) -> Int64 {
            switch v[i] { case .int64(let x), .timestamp(let x): return x; default: return 0 }
        }
        func double(_ i: Int) -> Double {
            if case .float64(let x) = v[i] { return x }
            return 0
        }
        func string(_ i: Int) -> String {
            if case .string(let s) = v[i] { return s }
            return ""
        }
        func optional(_ x: Int64?) -> Value { x.map { .int64($0) } ?? .null }
        func optional(_ x: Double?) -> Value { x.map { .float64($0) } ?? .null }
        switch op {
        case .negateInt: return optional(Kernels.negate(int(0)))
        case .negateFloat: return .float64(-double(0))
        case .addInt: return optional(Kernels.add(int(0), int(1)))
        case .addFloat: return .float64(Kernels.add(double(0), double(1)))
        case .subtractInt: return optional(Kernels.subtract(int(0), int(1)))
        case .subtractFloat: return .float64(Kernels.subtract(double(0), double(1)))
        case .multiplyInt: return optional(Kernels.multiply(int(0), int(1)))
        case .multiplyFloat: return .float64(Kernels.multiply(double(0), double(1)))
        case .divide: return optional(Kernels.divide(double(0), double(1)))
        case .remainderInt: return optional(Kernels.remainder(int(0), int(1)))
        case .remainderFloat: return optional(Kernels.remainder(double(0), double(1)))
        case .secondsBetween: return .float64(Kernels.secondsBetween(int(0), int(1)))
        case .not:
            if case .bool(let b) = v[0] { return .bool(!b) }
            return .null
        case .compare(let c): return .bool(c.holds(order(v[0], v[1])))
        case .toFloat: return .float64(Double(int(0)))
        case .absInt: return optional(Kernels.abs(int(0)))
        case .absFloat: return .float64(Swift.abs(double(0)))
        case .sqrt: return optional(Kernels.sqrt(double(0)))
        case .ln: return optional(Kernels.ln(double(0)))
        case .log10: return optional(Kernels.log10(double(0)))
        case .exp: return .float64(Kernels.exp(double(0)))
        case .pow: return optional(Kernels.pow(double(0), double(1)))
        case .roundFloat: return .float64(Kernels.round(double(0)))
        case .roundDigits: return .float64(Kernels.round(double(0), digits: int(1)))
        case .floor: return .float64(Kernels.floor(double(0)))
        case .ceil: return .float64(Kernels.ceil(double(0)))
        case .least, .greatest:
            var best = v[0]
            for k in 1..<v.count {
                let x = v[k]
                let o = order(x, best)
                if op == .least ? o < 0 : o > 0 { best = x }
            }
            return best
        case .clamp:
            // least(greatest(x, low), high)
            let raised = order(v[1], v[0]) > 0 ? v[1] : v[0]
            return order(v[2], raised) < 0 ? v[2] : raised
        case .haversineKm: return .float64(Kernels.haversineKm(double(0), double(1), double(2), double(3)))
        case .lower: return .string(string(0).lowercased())
        case .upper: return .string(string(0).uppercased())
        case .length: return .int64(Kernels.length(string(0)))
        case .concat: return .string((0..<v.count).map(string).joined())
        case .substring: return Kernels.substring(string(0), start: int(1), length: v.count > 2 ? int(2) : nil).map { .string($0) } ?? .null
        case .contains: return .bool(Kernels.contains(string(0), string(1)))
        case .startsWith: return .bool(Kernels.startsWith(string(0), string(1)))
        case .endsWith: return .bool(Kernels.endsWith(string(0), string(1)))
        case .year: return .int64(Kernels.civil(days: Kernels.days(int(0))).year)
        case .month: return .int64(Kernels.civil(days: Kernels.days(int(0))).month)
        case .day: return .int64(Kernels.civil(days: Kernels.days(int(0))).day)
        case .hour: return .int64(Kernels.hour(int(0)))
        case .minute: return .int64(Kernels.minute(int(0)))
        case .dayOfWeek: return .int64(Kernels.dayOfWeek(int(0)))
        case .epochSeconds: return .int64(Kernels.epochSeconds(int(0)))
        case .cast(let target): return cast(v[0], to: target)
        case .and, .or, .isNull, .coalesce, .ifThenElse, .caseWhen, .nullIf:
            return .null // handled before (they look at nulls)
        }
    }

    static func cast(_ x: Value, to target: CastTarget) -> Value {
        switch (x, target) {
        case (.null, _): return .null
        case (.bool(let b), .bool): return .bool(b)
        case (.int64(let i), .bool): return .bool(i != 0)
        case (.float64(let d), .bool): return .bool(d != 0)
        case (.string(let s), .bool): return Kernels.bool(s).map { .bool($0) } ?? .null
        case (.bool(let b), .int64), (.bool(let b), .int32): return .int64(b ? 1 : 0)
        case (.int64(let i), .int64), (.timestamp(let i), .int64): return .int64(i)
        case (.int64(let i), .int32), (.timestamp(let i), .int32): return Kernels.int32Range(i).map { .int64($0) } ?? .null
        case (.float64(let d), .int64): return Kernels.int(d).map { .int64($0) } ?? .null
        case (.float64(let d), .int32): return Kernels.int(d).flatMap(Kernels.int32Range).map { .int64($0) } ?? .null
        case (.string(let s), .int64): return Kernels.int(s).map { .int64($0) } ?? .null
        case (.string(let s), .int32): return Kernels.int(s).flatMap(Kernels.int32Range).map { .int64($0) } ?? .null
        case (.bool(let b), .float64): return .float64(b ? 1 : 0)
        case (.bool(let b), .float32): return .float64(b ? 1 : 0)
        case (.int64(let i), .float64): return .float64(Double(i))
        case (.int64(let i), .float32): return .float64(Kernels.float32(Double(i)))
        case (.float64(let d), .float64): return .float64(d)
        case (.float64(let d), .float32): return .float64(Kernels.float32(d))
        case (.string(let s), .float64): return Kernels.double(s).map { .float64($0) } ?? .null
        case (.string(let s), .float32): return Kernels.double(s).map { .float64(Kernels.float32($0)) } ?? .null
        case (.bool(let b), .string): return .string(b ? "true" : "false")
        case (.int64(let i), .string): return .string(String(i))
        case (.float64(let d), .string): return .string(Kernels.text(d))
        case (.string(let s), .string): return .string(s)
        case (.timestamp(let t), .string): return .string(Kernels.text(timestamp: t))
        case (.timestamp(let t), .timestamp): return .timestamp(t)
        case (.int64(let i), .timestamp): return .timestamp(i)
        case (.string(let s), .timestamp): return TimeParsing.iso8601Micros(s).map { .timestamp($0) } ?? .null
        default: return .null
        }
    }
}

/// Arguments of an operation: an array, or up to four values kept inline (no allocation per evaluation).
protocol ValueArguments {
    var count: Int { get }
    subscript(i: Int) -> Value { get }
}

extension Array: ValueArguments where Element == Value {}

struct SmallValues: ValueArguments {
    private var a: Value = .null, b: Value = .null, c: Value = .null, d: Value = .null
    private(set) var count = 0

    mutating func append(_ v: Value) {
        switch count {
        case 0: a = v
        case 1: b = v
        case 2: c = v
        default: d = v
        }
        count += 1
    }

    subscript(i: Int) -> Value {
        switch i {
        case 0: return a
        case 1: return b
        case 2: return c
        default: return d
        }
    }
}
