public import FeatureStoreCore
public import JSONCoding
public import StreamIngestion

/// `format: json` (the default): one JSON object per message; the ingester's fields are its keys.
///
/// Numbers keep their exact form (integers as integers), times are ISO-8601 strings or epoch milliseconds or
/// microseconds, bytes are base64 strings. The format has no settings.
public struct JSONMessageFormat: MessageFormatKind {
    /// `json`; see ``PayloadFormatKind/name``.
    public let name = "json"

    /// The format (programs add ``FeatureStoreCore/Kinds/json`` to their kinds).
    public init() {}

    /// Allows no settings; see ``PayloadFormatKind/validate(_:)``.
    public func validate(_ settings: inout StoreSettings) {
        settings.rejectUnknown(allowing: [])
    }

    /// A ``JSONMessageDecoder`` of `fields`; see ``MessageFormatKind/decoder(settings:fields:context:)``.
    public func decoder(settings: StoreSettings, fields: FieldSelection, context: FormatContext) throws(StreamError) -> any MessageDecoder {
        JSONMessageDecoder(fields)
    }
}

/// Decodes JSON objects, building only the selected fields' values (the others are checked for syntax only).
public struct JSONMessageDecoder: MessageDecoder {
    let selection: JSONFieldSelection

    /// A decoder of `fields`.
    public init(_ fields: FieldSelection) {
        selection = JSONFieldSelection(fields.names)
    }

    /// The selected fields' values (null for an absent field, unsupported for an object); a payload that is not a JSON
    /// object is `malformed`; see ``MessageDecoder/values(of:)``.
    public func values(of message: StreamMessage) throws(BadMessage) -> [EventValue] {
        let values: [JSONValue]?
        do {
            values = try JSONValue.parseObject(message.value, selecting: selection)
        } catch {
            throw BadMessage(.malformed, "payload", cause: error)
        }
        guard let values else {
            // Not an object: the full parse says what it is.
            let whole: JSONValue
            do { whole = try JSONValue.parse(message.value) } catch { throw BadMessage(.malformed, "payload", cause: error) }
            throw BadMessage(.malformed, "payload: expected a JSON object, found \(whole.kindName)")
        }
        return values.map(Self.eventValue)
    }

    /// A JSON value as a stream event's value: the one reading of JSON rows of a source (streams, Feast's `/push`).
    public static func eventValue(_ value: JSONValue) -> EventValue {
        switch value {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .array(let items): return .list(items.map(eventValue))
        case .object: return .unsupported("an object")
        }
    }
}

extension Kinds {
    /// The JSON payload format (the default `format` of stream sources).
    public static let json = Kinds(formats: [JSONMessageFormat()])
}
