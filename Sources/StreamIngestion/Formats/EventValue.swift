public import FeatureStore
import Columnar
import Foundation

/// The value of one field of a decoded message, as its payload format gave it: what every ``MessageDecoder`` returns
/// and ``EventMapper`` turns into typed online values, one rule for every format.
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
    public func onlineValue(as type: ValueType, field: String) throws(BadMessage) -> OnlineValue {
        if case .null = self { return .null }
        switch (type, self) {
        case (.scalar(.bool), .bool(let b)): return .bool(b)
        case (.scalar(.int64), .int(let i)): return .int(i)
        case (.scalar(.int32), .int(let i)):
            guard Int64(Int32.min)...Int64(Int32.max) ~= i else { throw BadMessage(.wrongType, "\(field): \(i) does not fit int32") }
            return .int(i)
        case (.scalar(.float32), _), (.scalar(.float64), _):
            guard let d = number else { break }
            return type == .scalar(.float32) ? .float(Float(d)) : .double(d)
        case (.scalar(.string), .string(let s)): return .string(s)
        case (.scalar(.bytes), .bytes(let b)): return .bytes(b)
        case (.scalar(.bytes), .string(let s)):
            guard let data = Data(base64Encoded: s) else { throw BadMessage(.wrongType, "\(field): not base64 (bytes are sent as base64 strings)") }
            return .bytes(Array(data))
        case (.scalar(.timestamp), .timestamp(let micros)): return .timestamp(micros)
        case (.scalar(.timestamp), .int(let micros)): return .timestamp(micros)
        case (.scalar(.timestamp), .string(let s)):
            guard let micros = TimeParsing.iso8601Micros(s) else {
                throw BadMessage(.wrongType, "\(field): '\(s)' is not an ISO-8601 time like 2025-01-31T12:00:00Z")
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
        throw BadMessage(.wrongType, "\(field): \(kindName) for type \(type)")
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

    /// Numbers below 10^14 are epoch milliseconds (10^14 ms is the year 5138); larger ones epoch microseconds.
    static let millisecondsBelow: Double = 1e14

    /// Microseconds since the epoch of an event time: a timestamp, an ISO-8601 string, or epoch milliseconds or
    /// microseconds.
    func eventTime(field: String) throws(BadMessage) -> Int64 {
        switch self {
        case .timestamp(let micros):
            return micros
        case .string(let s):
            guard let micros = TimeParsing.iso8601Micros(s) else {
                throw BadMessage(.badTimestamp, "\(field): '\(s)' is not an ISO-8601 time like 2025-01-31T12:00:00Z")
            }
            return micros
        case .int(let n):
            return abs(Double(n)) < Self.millisecondsBelow ? n &* 1000 : n
        case .double(let d) where d.isFinite && abs(d) < 9e15:
            return abs(d) < Self.millisecondsBelow ? Int64((d * 1000).rounded(.down)) : Int64(d)
        default:
            throw BadMessage(.badTimestamp, "\(field): \(kindName) is not a time (ISO-8601 or epoch milliseconds/microseconds)")
        }
    }
}
