public import ErrorChain
/// The syntax of the expression language (derived columns and request-time features): what the parser reads, with
/// the place of every node in the expression's text, so the compiler can name the exact `file:line:column` of a
/// mistake.
///
/// Positions are offsets in the expression's UTF-8 bytes (`Range<Int>`); the definitions compiler adds where the
/// expression starts in its YAML file.
public struct Expression: Sendable, Hashable {
    /// What a node is: a literal, a name, an operation, a call, a `case` or a `cast`, with its operands.
    public indirect enum Kind: Sendable, Hashable {
        case literal(Literal)
        /// A column of the source or the request (`fare`), or a feature of another view (`driver_stats.acc_rate`).
        case name(qualifier: String?, name: String)
        case unary(UnaryOperator, Expression)
        case binary(BinaryOperator, Expression, Expression)
        /// `x is null` (`negated`: `x is not null`).
        case isNull(Expression, negated: Bool)
        /// `f(a, b)`: a function of the language (names are case-insensitive, kept as written).
        case call(String, [Expression])
        /// `case when c1 then v1 [when c2 then v2 ...] [else v] end`.
        case caseWhen([WhenClause], otherwise: Expression?)
        /// `cast(x as type)`, the type as written.
        case cast(Expression, type: String)
    }

    /// One `when condition then value` of a `case`.
    public struct WhenClause: Sendable, Hashable {
        /// The condition, after `when`.
        public var condition: Expression
        /// The value when the condition holds, after `then`.
        public var value: Expression
    }

    /// What the node is, with its operands.
    public var kind: Kind
    /// Where it is in the text (UTF-8 offsets).
    public var range: Range<Int>

    /// A node of `kind` at `range` (UTF-8 offsets in the text).
    public init(_ kind: Kind, _ range: Range<Int>) {
        self.kind = kind
        self.range = range
    }
}

/// A constant written in an expression.
public enum Literal: Sendable, Hashable {
    case null
    case bool(Bool)
    /// An integer literal (it fits in Int64; a larger one is an error).
    case int(Int64)
    /// A number with a fraction or an exponent.
    case double(Double)
    /// `'text'` (a quote inside is written twice: `'it''s'`).
    case string(String)
}

/// A prefix operator: `-` (negation) or `not`.
public enum UnaryOperator: String, Sendable, Hashable {
    case negate = "-"
    case not
}

/// An infix operator, spelled by its raw value (`==` is read as `=`, `<>` as `!=`).
public enum BinaryOperator: String, Sendable, Hashable, CaseIterable {
    case or, and
    case equal = "=", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case add = "+", subtract = "-", multiply = "*", divide = "/", remainder = "%"

    /// Binding strength: higher binds tighter.
    var precedence: Int {
        switch self {
        case .or: return 1
        case .and: return 2
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: return 4
        case .add, .subtract: return 5
        case .multiply, .divide, .remainder: return 6
        }
    }
}

/// A mistake in an expression's text: what is wrong and where (UTF-8 offsets in the expression).
public struct ExpressionError: ChainedError, Hashable {
    /// What is wrong.
    public var message: String
    /// Where, in UTF-8 offsets of the expression.
    public var range: Range<Int>
    /// `expression`.
    public var errorCode: String { "expression" }
    /// The message with the offset.
    public var headline: String { "\(message) (at offset \(range.lowerBound))" }

    /// An error saying `message` about the text at `range` (UTF-8 offsets).
    public init(_ message: String, at range: Range<Int>) {
        self.message = message
        self.range = range
    }

    /// The message with the offset (``headline``).
    public var description: String { headline }
}
