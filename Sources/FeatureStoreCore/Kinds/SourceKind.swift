/// What a source is to the engines.
public enum SourceRole: String, Sendable, Hashable {
    /// Rows at rest (files, tables) that offline engines read: training data and materialization's input.
    case table
    /// Events arriving on a stream; the source names the table source holding the same events offline
    /// (`batch_source`) and the payload format of its messages (`format`).
    case stream
}

/// A kind of source that `kind: NAME` in a source definition can name (`parquet`, `kafka`, ...).
///
/// Each kind lives in a target of its own (the Parquet source beside the engines that read it, the Kafka source with
/// the Kafka transport) and brings itself; a program lists the kinds it links in its ``Kinds`` (an
/// offline engine kind brings the source kinds it reads). The compiler reads a source's common keys (`name`,
/// `timestamp_field`, `field_mapping`, `batch_source`, `format`, ...) and hands the rest to its kind, which checks
/// them as its own settings, so adding a source kind never edits the core.
public protocol SourceKind: Sendable {
    /// The name written after `kind:`.
    var name: String { get }

    /// A table (read by offline engines) or a stream (ingested, with a batch source).
    var role: SourceRole { get }

    /// Reads and checks the kind's settings (the source's keys other than the common ones; nested mappings as dotted
    /// keys); report each problem with ``StoreSettings/problem(_:_:)`` and unknown keys with
    /// ``StoreSettings/rejectUnknown(allowing:)``: they become `file:line:column` diagnostics.
    func validate(_ settings: inout StoreSettings)

    /// A short description of where a source's rows are, for the catalog and `featurectl list` (`data/trips`,
    /// `topic trips`).
    func describe(_ settings: [String: String]) -> String
}

extension SourceKind {
    /// By default, every setting as `key value`, sorted by key and joined with `, `; see ``SourceKind/describe(_:)``.
    public func describe(_ settings: [String: String]) -> String {
        settings.keys.sorted().map { "\($0) \(settings[$0]!)" }.joined(separator: ", ")
    }
}

/// A kind of payload format that `format:` on a stream source can name (`json`, `avro`, ...): written as the name
/// alone (`format: json`) or as a block with the format's settings (`format: {kind: avro, schema_registry: {...}}`).
///
/// The core only checks the block (so a mistake is a `file:line:column` diagnostic at compile time); the stream
/// ingestion's `MessageFormatKind` refines this with the decoder.
public protocol PayloadFormatKind: Sendable {
    /// The name written after `format:` (or its `kind:`).
    var name: String { get }

    /// Reads and checks the format's settings, like ``SourceKind/validate(_:)``.
    func validate(_ settings: inout StoreSettings)
}
