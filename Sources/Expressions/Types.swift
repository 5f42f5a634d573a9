/// The types an expression computes with. Inputs of narrower types widen on the way in (int32 to int64, float32 to
/// float64, exactly); results narrow on the way out to the type a definition declares (see ``OutputType``).
public enum ExpressionType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case bool, int64, float64, string, timestamp
    /// The type of the literal `null`, before it meets another type (`coalesce(x, null)`).
    case null

    /// The type's name (`int64`, `timestamp`, ...).
    public var description: String { rawValue }

    var isNumeric: Bool { self == .int64 || self == .float64 }

    /// The type two branches or arguments share (`if`, `case`, `coalesce`, `least`): equal types, null with
    /// anything, or int64 with float64 as float64.
    static func unify(_ a: ExpressionType, _ b: ExpressionType) -> ExpressionType? {
        if a == b { return a }
        if a == .null { return b }
        if b == .null { return a }
        if a.isNumeric && b.isNumeric { return .float64 }
        return nil
    }
}

/// The type a definition declares for an expression's result, the one its values are stored and served as.
public enum OutputType: String, Sendable, Hashable, CaseIterable {
    case bool, int32, int64, float32, float64, string, timestamp

    /// Whether a value the expression computes as `type` can be stored as this type: the same type; int64 as int32
    /// (a value out of int32's range becomes null) or as either float; float64 as float32 (rounded to nearest);
    /// null as anything.
    public func accepts(_ type: ExpressionType) -> Bool {
        switch (self, type) {
        case (_, .null): return true
        case (.bool, .bool), (.string, .string), (.timestamp, .timestamp): return true
        case (.int32, .int64), (.int64, .int64): return true
        case (.float32, .int64), (.float32, .float64), (.float64, .int64), (.float64, .float64): return true
        default: return false
        }
    }

    /// The type an input of this type has inside expressions.
    public var expressionType: ExpressionType {
        switch self {
        case .bool: return .bool
        case .int32, .int64: return .int64
        case .float32, .float64: return .float64
        case .string: return .string
        case .timestamp: return .timestamp
        }
    }
}

/// One value inside the per-request evaluator: a typed scalar or null. Timestamps are microseconds since the epoch
/// (UTC).
public enum Value: Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int64(Int64)
    case float64(Double)
    case string(String)
    case timestamp(Int64)

    /// Whether the value is null.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value for messages: `null`, `true`, `42`, `'text'` (in quotes), `timestamp(N us)`.
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .int64(let i): return "\(i)"
        case .float64(let d): return "\(d)"
        case .string(let s): return "'\(s)'"
        case .timestamp(let t): return "timestamp(\(t) us)"
        }
    }

    /// Whether two values are the same value: bit for bit for floats (NaN equals NaN, -0.0 differs from 0.0).
    public func isIdentical(to other: Value) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int64(let a), .int64(let b)), (.timestamp(let a), .timestamp(let b)): return a == b
        case (.float64(let a), .float64(let b)): return a.bitPattern == b.bitPattern
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        default: return false
        }
    }
}
