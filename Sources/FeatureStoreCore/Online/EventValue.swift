public import ErrorChain
import Columnar
import Foundation

/// A value as a payload or a request gave it, before it is typed: what every stream format's decoder returns and what
/// JSON requests hold. ``onlineValue(as:field:)`` is the one rule that types it, for every format and both faces.
public enum EventValue: Sendable, Hashable {
    /// Absent or null.
    case null
    case bool(Bool)
    /// A whole number (JSON integers; Avro `int` and `long`).
    case int(Int64)
    /// A floating-point number (JSON numbers that are not whole; Avro `float`, `double`, and decimals).
    case double(Double)
    case string(String)
    /// Raw bytes (Avro `bytes` and `fixed`); text formats send bytes as base64 strings instead.
    case bytes([UInt8])
    /// A time the format itself marks as one (Avro `timestamp-millis`/`timestamp-micros`), in microseconds since the
    /// epoch: read exactly, never guessed from its magnitude.
    case timestamp(Int64)
    /// A list of values.
    case list([EventValue])
    /// A value of a kind a feature cannot hold (a record, a map), named for messages.
    case unsupported(String)

    /// The kind of value, for messages.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .bytes: return "bytes"
        case .timestamp: return "a timestamp"
        case .list: return "a list"
        case .unsupported(let what): return what
        }
    }

    /// The value as a typed online value, or a message starting with `field` saying why it does not fit.
    ///
    /// Integers for `int32`/`int64`; numbers (or "NaN", "Infinity", "-Infinity") for floats; strings; bytes, or base64
    /// strings, for `bytes`; timestamps, ISO-8601 strings or integer epoch microseconds for timestamps; lists for
    /// lists; null for a missing value.
    public func onlineValue(as type: ValueType, field: String) throws(ValueConversionError) -> OnlineValue {
        if case .null = self { return .null }
        switch (type, self) {
        case (.scalar(.bool), .bool(let b)): return .bool(b)
        case (.scalar(.int64), .int(let i)): return .int(i)
        case (.scalar(.int32), .int(let i)):
            guard Int64(Int32.min)...Int64(Int32.max) ~= i else { throw ValueConversionError("\(field): \(i) does not fit int32") }
            return .int(i)
        case (.scalar(.float32), _), (.scalar(.float64), _):
            guard let d = number else { break }
            return type == .scalar(.float32) ? .float(Float(d)) : .double(d)
        case (.scalar(.string), .string(let s)): return .string(s)
        case (.scalar(.bytes), .bytes(let b)): return .bytes(b)
        case (.scalar(.bytes), .string(let s)):
            guard let data = Data(base64Encoded: s) else { throw ValueConversionError("\(field): not base64 (bytes are sent as base64 strings)") }
            return .bytes(Array(data))
        case (.scalar(.timestamp), .timestamp(let micros)): return .timestamp(micros)
        case (.scalar(.timestamp), .int(let micros)): return .timestamp(micros)
        case (.scalar(.timestamp), .string(let s)):
            guard let micros = TimeParsing.iso8601Micros(s) else {
                throw ValueConversionError("\(field): '\(s)' is not an ISO-8601 time like 2025-01-31T12:00:00Z")
            }
            return .timestamp(micros)
        case (.list(let inner), .list(let items)):
            var out: [OnlineValue] = []
            out.reserveCapacity(items.count)
            for (k, item) in items.enumerated() {
                out.append(try item.onlineValue(as: .scalar(inner), field: "\(field)[\(k)]"))
            }
            return .list(out)
        default:
            break
        }
        throw ValueConversionError("\(field): \(kindName) for type \(type)")
    }

    private var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .string("NaN"): return .nan
        case .string("Infinity"): return .infinity
        case .string("-Infinity"): return -.infinity
        default: return nil
        }
    }
}

/// A value that does not fit its declared type, or malformed text; the message names the field.
public struct ValueConversionError: ChainedError, Equatable {
    /// What is wrong, naming the field.
    public var message: String
    /// An error saying `message`.
    public init(_ message: String) { self.message = message }
    /// `invalid_value`.
    public var errorCode: String { "invalid_value" }
    /// The message.
    public var description: String { ErrorChain.render(self) }
}
