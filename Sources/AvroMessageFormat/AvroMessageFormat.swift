import Avro
public import FeatureStoreCore
import Foundation
public import StreamIngestion
import Synchronization

/// `format: {kind: avro, schema_registry: {url: ...}}`: Avro records in the Confluent wire format (a zero byte, the
/// writer schema's id as 4 big-endian bytes, then the record in Avro's binary encoding), with schemas from a Schema
/// Registry.
///
/// ```yaml
/// format:
///   kind: avro
///   subject: trips-value                      # the reader schema: its latest version (default: TOPIC-value)
///   schema_registry:
///     url: http://registry:8081
///     basic_auth_user_info_env: REGISTRY_AUTH   # "user:password" from the environment...
///     # basic_auth_user_info_file: secrets/registry   ...or from a file, never from this YAML
///     timeout: 10s
/// ```
///
/// Each writer schema is fetched once by id and resolved against the subject's latest schema (the reader's): fields
/// are matched by name or alias, fields the writer lacks take the reader's defaults, unions with null give null,
/// `timestamp-millis`/`-micros`/`-nanos` and `date` are event times, decimals are numbers (for a float feature).
/// A message whose schema id is unknown, whose bytes do not decode, or whose schema lacks a field the views read (with
/// no default) is a bad message: counted and sent to the dead-letter topic with the reason. An unreachable registry
/// is not a bad message: the batch waits and is retried.
///
/// Decoded by hand rather than with Avro C (`libavro-dev`): only top-level fields are built, the rest skipped in one
/// pass, with no per-message allocation of a generic value tree and no C library to install or wrap.
public struct AvroMessageFormat: MessageFormatKind {
    /// `avro`; see ``PayloadFormatKind/name``.
    public let name = "avro"

    /// The format (programs add ``FeatureStoreCore/Kinds/avro`` to their kinds).
    public init() {}

    /// Requires an http or https `schema_registry.url`, and checks that the credentials come from one place, the
    /// timeout is positive and `subject` is not empty; see ``PayloadFormatKind/validate(_:)``.
    public func validate(_ settings: inout StoreSettings) {
        settings.rejectUnknown(allowing: ["subject", "schema_registry.url", "schema_registry.basic_auth_user_info_env",
                                          "schema_registry.basic_auth_user_info_file", "schema_registry.timeout"])
        if let url = settings.string("schema_registry.url", required: true) {
            if let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), ["http", "https"].contains(scheme), parsed.host != nil {
                // fine
            } else {
                settings.problem("schema_registry.url", "'schema_registry.url' must be an http:// or https:// URL, found '\(url)'")
            }
        }
        if settings.values["schema_registry.basic_auth_user_info_env"] != nil && settings.values["schema_registry.basic_auth_user_info_file"] != nil {
            settings.problem("schema_registry.basic_auth_user_info_file", "name the registry's credentials once: an environment variable or a file, not both")
        }
        let timeout = settings.duration("schema_registry.timeout", default: TimeSpan(seconds: 10))
        if timeout.seconds <= 0 { settings.problem("schema_registry.timeout", "'schema_registry.timeout' must be positive") }
        if let subject = settings.values["subject"], subject.isEmpty { settings.problem("subject", "'subject' must not be empty") }
    }

    /// A decoder fetching schemas from the registry, with the credentials read now (a relative file path is relative to
    /// the repository) and the subject `TOPIC-value` unless set; throws when the credentials cannot be read; see
    /// ``MessageFormatKind/decoder(settings:fields:context:)``.
    public func decoder(settings: StoreSettings, fields: FieldSelection, context: FormatContext) throws(StreamError) -> any MessageDecoder {
        var settings = settings
        guard let text = settings.string("schema_registry.url"), let url = URL(string: text) else {
            throw StreamError("the avro format needs 'schema_registry.url'")
        }
        var userInfo: String? = nil
        if let variable = settings.values["schema_registry.basic_auth_user_info_env"] {
            guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
                throw StreamError("the schema registry's credentials: environment variable \(variable) is not set")
            }
            userInfo = value
        } else if let path = settings.values["schema_registry.basic_auth_user_info_file"] {
            let file = path.hasPrefix("/") ? URL(fileURLWithPath: path) : context.repository.appendingPathComponent(path)
            do {
                userInfo = try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw StreamError("the schema registry's credentials: cannot read \(file.path)", cause: error)
            }
        }
        let timeout = settings.duration("schema_registry.timeout", default: TimeSpan(seconds: 10))
        let client = SchemaRegistryClient(url: url, userInfo: userInfo, timeout: TimeInterval(timeout.seconds))
        return AvroMessageDecoder(client: client, subject: settings.values["subject"] ?? "\(context.topic)-value", fields: fields)
    }
}

/// Decodes Confluent-framed Avro records: one resolved ``AvroRecordDecoder`` per writer schema id, made when a batch
/// first names the id (``prepare(_:)``), then used without waiting.
final class AvroMessageDecoder: MessageDecoder {
    let client: SchemaRegistryClient
    let subject: String
    let fields: FieldSelection

    enum Entry: Sendable {
        case decoder(AvroRecordDecoder, missingMessage: String?)
        /// Why the id cannot be used, and when that was found: asked again after ``recheckAfter`` (a registry
        /// replica may lag behind the one the producer registered with).
        case unusable(String, since: ContinuousClock.Instant)
    }

    /// How long an id the registry did not give stays refused before it is asked for again.
    static let recheckAfter: Duration = .seconds(60)

    private let entries = Mutex<[Int32: Entry]>([:])

    init(client: SchemaRegistryClient, subject: String, fields: FieldSelection) {
        self.client = client
        self.subject = subject
        self.fields = fields
    }

    /// The writer schema id of a Confluent-framed payload, or nil when it is not one.
    static func schemaID(_ payload: [UInt8]) -> Int32? {
        guard payload.count >= 5, payload[0] == 0 else { return nil }
        return Int32(bitPattern: UInt32(payload[1]) << 24 | UInt32(payload[2]) << 16 | UInt32(payload[3]) << 8 | UInt32(payload[4]))
    }

    /// Writer schemas are fetched before a batch is decoded.
    var needsPreparation: Bool { true }

    func prepare(_ messages: [StreamMessage]) async throws(StreamError) {
        var wanted: Set<Int32> = []
        let now = ContinuousClock.now
        let known = entries.withLock { entries in
            Set(entries.compactMap { id, entry -> Int32? in
                if case .unusable(_, let since) = entry, now - since >= Self.recheckAfter { return nil }
                return id
            })
        }
        for message in messages {
            if let id = Self.schemaID(message.value), !known.contains(id) { wanted.insert(id) }
        }
        guard !wanted.isEmpty else { return }
        do {
            // New writer schemas often come with a new latest version: the reader schema is asked for again.
            let reader = try await client.latest(subject: subject)
            for id in wanted.sorted() {
                let entry: Entry
                switch try await client.schema(id: id) {
                case .unusable(let why):
                    entry = .unusable(why, since: .now)
                case .schema(let writer):
                    do {
                        let decoder = try AvroRecordDecoder(writer: writer, reader: reader, fields: fields.names)
                        let missing = decoder.missing.isEmpty ? nil
                            : "schema id \(id) has no field \(decoder.missing.map { "'\($0)'" }.joined(separator: ", ")) and the reader schema (subject \(subject)) gives no default"
                        entry = .decoder(decoder, missingMessage: missing)
                    } catch {
                        entry = .unusable("schema id \(id): \(error.message)", since: .now)
                    }
                }
                entries.withLock { $0[id] = entry }
            }
        } catch {
            throw StreamError("the schema registry", cause: error)
        }
    }

    func values(of message: StreamMessage) throws(BadMessage) -> [EventValue] {
        let payload = message.value
        guard let id = Self.schemaID(payload) else {
            throw BadMessage(.malformed, payload.isEmpty ? "payload: empty" : payload[0] != 0
                ? "payload: not in the schema registry's wire format (its first byte is \(payload[0]), not 0)"
                : "payload: \(payload.count) bytes, shorter than the wire format's 5-byte header")
        }
        guard let entry = entries.withLock({ $0[id] }) else {
            throw BadMessage(.unknownSchema, "schema id \(id) was not fetched")
        }
        switch entry {
        case .unusable(let why, _):
            throw BadMessage(.unknownSchema, why)
        case .decoder(let decoder, let missing):
            if let missing { throw BadMessage(.wrongType, missing) }
            let result: Result<[AvroValue], AvroError> = payload.withUnsafeBytes { raw in
                Result { () throws(AvroError) in try decoder.decode(UnsafeRawBufferPointer(rebasing: raw[5...])) }
            }
            switch result {
            case .success(let values): return values.map(Self.eventValue)
            case .failure(let error): throw BadMessage(.malformed, "payload (schema id \(id))", cause: error)
            }
        }
    }

    static func eventValue(_ value: AvroValue) -> EventValue {
        switch value {
        case .null: return .null
        case .boolean(let b): return .bool(b)
        case .long(let i): return .int(i)
        case .float(let f): return .double(Double(f))
        case .double(let d): return .double(d)
        case .bytes(let b): return .bytes(b)
        case .string(let s), .symbol(let s): return .string(s)
        case .timestamp(let micros): return .timestamp(micros)
        case .decimal(let unscaled, let scale): return .double(AvroValue.double(unscaled: unscaled, scale: scale))
        case .array(let items): return .list(items.map(eventValue))
        case .nested(let what): return .unsupported(what)
        }
    }
}

extension Kinds {
    /// The Avro payload format (Confluent wire format with a Schema Registry).
    public static let avro = Kinds(formats: [AvroMessageFormat()])
}
