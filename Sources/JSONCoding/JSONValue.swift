import Columnar
public import FeatureStore
import Foundation
public import ErrorChain

/// A JSON document as a client or a producer sent it (HTTP request bodies, stream messages). Numbers keep their exact
/// form: integers as `Int64`, others as the nearest `Double`.
public enum JSONValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    /// Parses JSON text (``JSONParser``); the error says where it is malformed.
    public static func parse(_ bytes: some Collection<UInt8>) throws(ValueConversionError) -> JSONValue {
        guard !bytes.isEmpty else { throw ValueConversionError("empty; expected a JSON object") }
        let result: Result<JSONValue, ValueConversionError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(ValueConversionError) in try JSONParser.parse(buffer) }
        }
        if let result { return try result.get() }
        return try Array(bytes).withUnsafeBufferPointer { buffer throws(ValueConversionError) in try JSONParser.parse(buffer) }
    }

    /// The values of the selected fields of a JSON object, in the selection's order (`.null` when absent; nil when
    /// the text is JSON but not an object); the values of other fields are checked for syntax but not built.
    public static func parseObject(_ bytes: [UInt8], selecting selection: JSONFieldSelection) throws(ValueConversionError) -> [JSONValue]? {
        guard !bytes.isEmpty else { throw ValueConversionError("empty; expected a JSON object") }
        return try bytes.withUnsafeBufferPointer { buffer throws(ValueConversionError) in try JSONParser.parseObject(buffer, selecting: selection) }
    }

    /// The kind of value, for messages.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// The value as a typed online value.
    ///
    /// Integers for `int32`/`int64`; numbers (or "NaN", "Infinity", "-Infinity") for floats; strings; base64 strings
    /// for `bytes`; ISO-8601 strings or integer epoch microseconds for timestamps; arrays for lists; null for a
    /// missing value. The error message starts with `field`.
    public func onlineValue(as type: ValueType, field: String) throws(ValueConversionError) -> OnlineValue {
        if self == .null { return .null }
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
        case (.scalar(.bytes), .string(let s)):
            guard let data = Data(base64Encoded: s) else { throw ValueConversionError("\(field): not base64 (bytes are sent as base64 strings)") }
            return .bytes(Array(data))
        case (.scalar(.timestamp), .int(let micros)): return .timestamp(micros)
        case (.scalar(.timestamp), .string(let s)):
            guard let micros = TimeParsing.iso8601Micros(s) else {
                throw ValueConversionError("\(field): '\(s)' is not an ISO-8601 time like 2025-01-31T12:00:00Z")
            }
            return .timestamp(micros)
        case (.list(let inner), .array(let items)):
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

/// A value that does not fit its declared type, or malformed JSON; the message names the field.
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
