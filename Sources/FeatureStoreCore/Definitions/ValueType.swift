public import Columnar
import Expressions

/// The scalar value types a feature or a join key can have.
public enum ScalarType: String, Sendable, Hashable, Codable, CaseIterable {
    case bool, int32, int64, float32, float64, string, bytes, timestamp

    /// Whether values of this type have an order and a mean (statistics, min/max).
    public var isNumeric: Bool {
        switch self {
        case .int32, .int64, .float32, .float64: return true
        default: return false
        }
    }

    /// Whether this type can be an entity join key (exact equality on a stable encoding).
    public var canBeJoinKey: Bool {
        switch self {
        case .int32, .int64, .string, .bytes: return true
        default: return false
        }
    }
}

/// The type of a feature: a scalar, or a list of scalars (`list<float32>`).
public enum ValueType: Sendable, Hashable, CustomStringConvertible {
    case scalar(ScalarType)
    case list(ScalarType)

    /// Parses `int64`, `list<float32>`; `nil` when the text names no type.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let scalar = ScalarType(rawValue: t) {
            self = .scalar(scalar)
        } else if t.hasPrefix("list<"), t.hasSuffix(">"),
                  let inner = ScalarType(rawValue: String(t.dropFirst(5).dropLast()).trimmingCharacters(in: .whitespaces)) {
            self = .list(inner)
        } else {
            return nil
        }
    }

    /// `int64` or `list<float32>`: the spelling ``init(parsing:)`` reads.
    public var description: String {
        switch self {
        case .scalar(let s): return s.rawValue
        case .list(let s): return "list<\(s.rawValue)>"
        }
    }

    /// The element type (the type itself for a scalar).
    public var scalarType: ScalarType {
        switch self {
        case .scalar(let s), .list(let s): return s
        }
    }

    /// Every spelling the compiler accepts, for "did you mean" hints.
    static var allSpellings: [String] {
        ScalarType.allCases.map(\.rawValue) + ScalarType.allCases.map { "list<\($0.rawValue)>" }
    }
}

extension ValueType: Codable {
    /// Decodes a type written as text; throws for text that names none.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = ValueType(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown type '\(text)'"))
        }
        self = parsed
    }

    /// Encodes ``description``.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

import Foundation

extension ScalarType {
    /// The columnar type of values of this type (timestamps: microseconds, UTC).
    public var columnType: DataType {
        // One table: the type expressions store values of this type as (``outputType``), binary for bytes.
        outputType?.columnType ?? .binary
    }
}

extension ValueType {
    /// The columnar type of values of this type (lists of the scalar's type).
    public var columnType: DataType {
        switch self {
        case .scalar(let s): return s.columnType
        case .list(let s): return .list(s.columnType)
        }
    }
}
