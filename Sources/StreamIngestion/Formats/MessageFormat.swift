public import FeatureStoreCore
public import Foundation
public import Logging
public import ErrorChain

/// Why a message could not be ingested; each reason is counted separately.
public enum BadMessageReason: String, Sendable, CaseIterable, Hashable {
    /// The payload is not in the source's format (for `json`: not JSON, or not an object; for `avro`: bytes that do
    /// not decode with the writer's schema).
    case malformed
    /// The payload names a schema the registry does not have (or cannot be asked for now).
    case unknownSchema = "unknown_schema"
    /// A join key is missing or null.
    case missingKey = "missing_key"
    /// The event time is missing or null.
    case missingTimestamp = "missing_timestamp"
    /// The event time is not ISO-8601 or epoch milliseconds/microseconds.
    case badTimestamp = "bad_timestamp"
    /// A key or feature has a value of the wrong type, or the message's schema lacks a field a feature reads.
    case wrongType = "wrong_type"
    /// No feature view reads the message's topic (the definitions changed under a running consumer).
    case unknownView = "unknown_view"
    /// A value breaks an expectation of its view, whose policy is `drop` or `fail` (the rule is in the dead letter's
    /// `x-featurestore-rule` header).
    case expectation
}

/// A message that cannot be ingested: the reason (for counting) and a message naming the field.
public struct BadMessage: ChainedError {
    /// Why, for counting and for the dead letter's `x-featurestore-reason` header.
    public var reason: BadMessageReason
    /// What is wrong, naming the field (the dead letter's `x-featurestore-error` header).
    public var message: String

    /// The decoder's error behind it (an `AvroError` with its byte offset), if any.
    public var cause: (any Error & Sendable)?

    /// For ``BadMessageReason/expectation``: the rule broken, as `view.feature.rule` (the dead letter's
    /// `x-featurestore-rule` header).
    public var rule: String?
    /// For ``BadMessageReason/expectation``: every rule the row broke (each counted).
    public var violations: [Violation] = []

    /// A bad message for `reason`, described by `message`, caused by `cause`.
    public init(_ reason: BadMessageReason, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.reason = reason
        self.message = message
        self.cause = cause
    }

    /// `bad_message.` and the reason (`bad_message.wrong_type`).
    public var errorCode: String { "bad_message.\(reason.rawValue)" }

    /// The reason and the message chain.
    public var description: String { "\(reason.rawValue): \(ErrorChain.render(self))" }
}

/// The fields an ingester reads from a topic's messages, in a fixed order: what a decoder extracts.
public struct FieldSelection: Sendable, Hashable {
    /// The field names, each once, in the order given.
    public let names: [String]

    /// The selection of `names` (repeats dropped).
    public init(_ names: [String]) {
        var unique: [String] = []
        var seen: Set<String> = []
        for name in names where seen.insert(name).inserted { unique.append(name) }
        self.names = unique
    }

    /// The position of `name` in ``names``.
    public func index(of name: String) -> Int? { names.firstIndex(of: name) }
}

/// Turns the payload of one message into the values of the selected fields. Made by its format's kind for one topic's
/// selection, so it can prepare (field positions, resolved schemas) once.
public protocol MessageDecoder: Sendable {
    /// Gets ready to decode `messages` (a batch, before ``values(of:)`` is called on them): fetches what they name and
    /// the decoder has not seen (writer schemas from a registry). Throws when that cannot be done now (a registry
    /// unreachable): the ingester retries the batch later instead of treating good messages as bad.
    func prepare(_ messages: [StreamMessage]) async throws(StreamError)

    /// Whether ``prepare(_:)`` has work to do (false: the ingester skips it, and the grouping of a batch by topic).
    var needsPreparation: Bool { get }

    /// The values of the selected fields, in the selection's order (`.null` for an absent field the format allows to
    /// be absent).
    func values(of message: StreamMessage) throws(BadMessage) -> [EventValue]
}

extension MessageDecoder {
    /// Nothing to fetch.
    public func prepare(_ messages: [StreamMessage]) async throws(StreamError) {}

    /// No preparation.
    public var needsPreparation: Bool { false }
}

/// What a format needs besides its settings to make a decoder.
public struct FormatContext: Sendable {
    /// The repository (relative paths in settings, such as a credentials file, are relative to it).
    public var repository: URL
    /// The topic the decoder is for.
    public var topic: String
    /// Where the decoder logs (schemas fetched, for example).
    public var logger: Logger

    /// The context of a decoder for `topic` of the repository at `repository`.
    public init(repository: URL, topic: String, logger: Logger) {
        self.repository = repository
        self.topic = topic
        self.logger = logger
    }
}

/// A payload format the ingester can decode: a ``PayloadFormatKind`` (checked at compile time) that makes decoders.
///
/// Each format is a target of its own (`JSONMessageFormat`, `AvroMessageFormat`) bringing a ``Kinds`` value
/// (`Kinds.json`, `Kinds.avro`); a source chooses one with `format:`. A new format touches no file of the ingester.
public protocol MessageFormatKind: PayloadFormatKind {
    /// A decoder of `fields` for messages of a source whose `format` block is `settings` (already validated).
    func decoder(settings: StoreSettings, fields: FieldSelection, context: FormatContext) throws(StreamError) -> any MessageDecoder
}
