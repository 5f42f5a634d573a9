import Columnar
public import FeatureStoreCore
import Foundation
public import JSONCoding

extension JSONValue {
    /// Parses a request body.
    static func parseBody(_ bytes: some Collection<UInt8>) throws(ServingError) -> JSONValue {
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw ServingError(.invalidArgument, "body", cause: error)
        }
    }
}

/// The fields of a JSON object, read one by one with errors that name the field; unknown fields are rejected.
struct JSONObject {
    let fields: [String: JSONValue]
    let path: String

    init(_ value: JSONValue, path: String, allowed: [String]) throws(ServingError) {
        guard case .object(let fields) = value else {
            throw .invalid("\(path.isEmpty ? "body" : path): expected a JSON object, found \(value.kindName)")
        }
        for key in fields.keys.sorted() where !allowed.contains(key) {
            throw .invalid("\(path.isEmpty ? "" : path + ".")\(key): unknown field\(Suggestion.hint(for: key, in: allowed)); fields: \(allowed.joined(separator: ", "))")
        }
        self.fields = fields
        self.path = path
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func value(_ key: String) -> JSONValue? {
        guard let v = fields[key], v != .null else { return nil }
        return v
    }

    func string(_ key: String) throws(ServingError) -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else { throw .invalid("\(name(key)): expected a string, found \(v.kindName)") }
        return s
    }

    func bool(_ key: String) throws(ServingError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw .invalid("\(name(key)): expected true or false, found \(v.kindName)") }
        return b
    }

    func array(_ key: String) throws(ServingError) -> [JSONValue]? {
        guard let v = value(key) else { return nil }
        guard case .array(let a) = v else { throw .invalid("\(name(key)): expected an array, found \(v.kindName)") }
        return a
    }

    /// An object of arrays (`{"driver_id": [1, 2]}`): column-wise values.
    func columns(_ key: String) throws(ServingError) -> [String: JSONColumn]? {
        guard let v = value(key) else { return nil }
        guard case .object(let o) = v else { throw .invalid("\(name(key)): expected an object of arrays, found \(v.kindName)") }
        var out: [String: JSONColumn] = [:]
        for (column, values) in o {
            guard case .array(let a) = values else { throw .invalid("\(name(key))[\(column)]: expected an array, found \(values.kindName)") }
            out[column] = JSONColumn(values: a)
        }
        return out
    }
}

/// A JSON array of values for one column, converted to the declared type on demand.
///
/// Integers for `int32`/`int64`; numbers (or "NaN", "Infinity", "-Infinity") for floats; strings; base64 strings for
/// `bytes`; ISO-8601 strings or integer epoch microseconds for timestamps; arrays for lists; null for a missing value.
public struct JSONColumn: WireColumn, Sendable {
    /// The values, one per row.
    public var values: [JSONValue]

    /// The number of values.
    public var count: Int { values.count }

    /// Value `i` as `type` (in one of the forms above); `field` names it in errors.
    public func value(at i: Int, as type: ValueType, field: String) throws(ServingError) -> OnlineValue {
        try Self.convert(values[i], as: type, field: field)
    }

    static func convert(_ value: JSONValue, as type: ValueType, field: String) throws(ServingError) -> OnlineValue {
        do {
            return try value.onlineValue(as: type, field: field)
        } catch {
            throw .invalid(error.message)
        }
    }
}
