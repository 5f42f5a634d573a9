/// An expression checked and compiled: a typed tree whose every operation is resolved for its operand types (no
/// names, no strings to interpret at evaluation time), and the inputs it reads, in slot order.
///
/// The same compiled form feeds both evaluators: ``evaluate(_:)`` per row (serving) and ``evaluate(columns:rows:)``
/// over columns (training sets, materialization, streams). Both run the operations of ``Kernels``, so they return the
/// same values, bit for bit.
public struct CompiledExpression: Sendable {
    /// The text it was compiled from.
    public let text: String
    /// The type of its values (``ExpressionType/null`` only for an expression that is always null).
    public let type: ExpressionType
    /// The inputs it reads (columns, request fields, features of other views), each once, in slot order: evaluators
    /// take their values in this order.
    public let inputs: [ExpressionInput]
    let root: Node
}

/// A name an expression reads: `fare` (a column or request field) or `driver_stats.acc_rate` (a feature of a view).
public struct ExpressionInput: Sendable, Hashable, CustomStringConvertible {
    /// The view, for `view.feature`.
    public var qualifier: String?
    /// The column, request field or feature, without the view.
    public var name: String
    /// Its type inside the expression.
    public var type: ExpressionType

    /// An input named `name` (of view `qualifier`, when not nil) with type `type`.
    public init(qualifier: String?, name: String, type: ExpressionType) {
        self.qualifier = qualifier
        self.name = name
        self.type = type
    }

    /// `view.feature`, or the name alone.
    public var description: String { qualifier.map { "\($0).\(name)" } ?? name }
}

/// A node of the compiled tree.
indirect enum Node: Sendable {
    case constant(Value, ExpressionType)
    case input(Int, ExpressionType)
    case apply(Operation, [Node], ExpressionType)

    var type: ExpressionType {
        switch self {
        case .constant(_, let t), .input(_, let t), .apply(_, _, let t): return t
        }
    }
}

/// How two values of one type compare.
enum Comparison: Sendable {
    case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual

    init?(_ op: BinaryOperator) {
        switch op {
        case .equal: self = .equal
        case .notEqual: self = .notEqual
        case .less: self = .less
        case .lessOrEqual: self = .lessOrEqual
        case .greater: self = .greater
        case .greaterOrEqual: self = .greaterOrEqual
        default: return nil
        }
    }

    /// The answer for an ordering (-1, 0, 1).
    @inline(__always)
    func holds(_ order: Int) -> Bool {
        switch self {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .less: return order < 0
        case .lessOrEqual: return order <= 0
        case .greater: return order > 0
        case .greaterOrEqual: return order >= 0
        }
    }
}

/// Every operation, resolved for its operand types. Integer operands are int64 (timestamps are int64 microseconds);
/// where an integer meets a float, the checker has inserted ``toFloat`` first.
enum Operation: Sendable, Hashable {
    // Arithmetic.
    case negateInt, negateFloat
    case addInt, addFloat, subtractInt, subtractFloat, multiplyInt, multiplyFloat
    /// `/`: always float division.
    case divide
    case remainderInt, remainderFloat
    /// `timestamp - timestamp`: seconds, as float64.
    case secondsBetween
    // Logic and comparison.
    case not, and, or
    case isNull(negated: Bool)
    case compare(Comparison)
    // Conditionals.
    /// `if(c, a, b)`.
    case ifThenElse
    /// `case`: condition, value pairs, then an `else` value when `hasElse`.
    case caseWhen(hasElse: Bool)
    case coalesce
    case nullIf
    // Conversions.
    case toFloat
    case cast(to: CastTarget)
    // Math.
    case absInt, absFloat, sqrt, ln, log10, exp, pow
    case roundFloat, roundDigits, floor, ceil
    case least, greatest, clamp
    case haversineKm
    // Strings.
    case lower, upper, length, concat, substring, contains, startsWith, endsWith
    // Time (UTC).
    case year, month, day, hour, minute, dayOfWeek, epochSeconds
}

/// What `cast(x as T)` converts to.
enum CastTarget: String, Sendable, Hashable, CaseIterable {
    case bool, int32, int64, float32, float64, string, timestamp

    var type: ExpressionType {
        switch self {
        case .bool: return .bool
        case .int32, .int64: return .int64
        case .float32, .float64: return .float64
        case .string: return .string
        case .timestamp: return .timestamp
        }
    }
}
