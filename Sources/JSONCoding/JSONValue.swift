import Columnar
public import FeatureStoreCore
import Foundation
import ErrorChain

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

    /// Decodes any JSON value, trying integers (Int64) before other numbers.
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
        try eventValue.onlineValue(as: type, field: field)
    }

    /// The value as the feature store's untyped ``EventValue`` (objects are not values of features).
    public var eventValue: EventValue {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .array(let items): return .list(items.map(\.eventValue))
        case .object: return .unsupported("an object")
        }
    }
}
