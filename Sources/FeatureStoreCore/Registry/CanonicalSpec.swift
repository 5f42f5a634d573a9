import Foundation

/// The canonical form of an object's content: sorted-key JSON without its location, and a content hash of it.
///
/// Two definitions with the same content have the same spec wherever and however they are written,
/// so moving an object to another file or reordering keys is not a change.
enum CanonicalSpec {
    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Profiles and run statistics can hold NaN and infinities (a spread that overflows): kept as strings, never
        // lost (definitions hold none, so their canonical form is unchanged).
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        // Encoding plain value types into JSON cannot fail.
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func json(of definition: any Definition) -> String {
        json(definition)
    }

    /// 64-bit FNV-1a of the canonical JSON, as 16 hex digits: identifies a version's content (not a security hash).
    static func hash(_ json: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in json.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func decode<T: Decodable>(_ type: T.Type, from json: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try decoder.decode(type, from: Data(json.utf8))
    }

    /// Flattens a spec into `path -> rendered value` leaves, for field-level diffs.
    /// Lists of named objects are keyed by name (`features[conv_rate].type`) so reordering is not a change.
    /// `elements` holds each named list element (`features[conv_rate]`) rendered whole, so that an element
    /// added or removed is one change rather than one per field.
    static func leaves(_ json: String) -> (leaves: [String: String], elements: [String: String]) {
        guard let value = try? JSONDecoder().decode(CanonicalJSON.self, from: Data(json.utf8)) else { return ([:], [:]) }
        var out: [String: String] = [:]
        var elements: [String: String] = [:]
        flatten(value, path: "", into: &out, elements: &elements)
        return (out, elements)
    }

    private static func flatten(_ value: CanonicalJSON, path: String, into out: inout [String: String], elements: inout [String: String]) {
        switch value {
        case .object(let dict):
            if dict.isEmpty { out[path] = "{}" }
            for (k, v) in dict { flatten(v, path: path.isEmpty ? k : "\(path).\(k)", into: &out, elements: &elements) }
        case .array(let array):
            let named = array.compactMap { item -> String? in
                if case .object(let d) = item, case .string(let name)? = d["name"] { return name }
                return nil
            }
            if !array.isEmpty, named.count == array.count, Set(named).count == named.count {
                for (item, name) in zip(array, named) {
                    let itemPath = "\(path)[\(name)]"
                    if case .object(let fields) = item {
                        elements[itemPath] = fields.keys.sorted().filter { $0 != "name" }.compactMap { key in
                            let text = fields[key]!.rendered
                            return text.isEmpty ? nil : "\(key)=\(text)"
                        }.joined(separator: ", ")
                    }
                    flatten(item, path: itemPath, into: &out, elements: &elements)
                }
            } else {
                out[path] = value.rendered
            }
        default:
            out[path] = value.rendered
        }
    }
}

/// A JSON document as a value, for diffs of canonical specs.
enum CanonicalJSON: Decodable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([CanonicalJSON]), object([String: CanonicalJSON])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([CanonicalJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: CanonicalJSON].self)) }
    }

    var rendered: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .string(let s): return s
        case .array(let a): return "[" + a.map(\.rendered).joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.keys.sorted().map { "\($0): \(o[$0]!.rendered)" }.joined(separator: ", ") + "}"
        }
    }
}
