public import FeatureStoreCore
public import Logging
public import StreamIngestion
import Kafka

/// `kind: kafka`: a stream source reading a Kafka topic; its offline copy goes to its `batch_source`.
///
/// ```yaml
/// - name: trip_events
///   kind: kafka
///   topic: trips              # the kind's one setting
///   format: json              # or {kind: avro, schema_registry: {url: ...}}
///   batch_source: trips       # a table source holding the same events offline
///   timestamp_field: event_ts
/// ```
///
/// The brokers, the consumer group and the dead-letter topic come from the `kafka` block of `feature_store.yaml`.
/// Programs that ingest (featurectl, FeatureServer) add ``FeatureStoreCore/Kinds/kafka`` (the kind and its section)
/// to their kinds.
public struct KafkaSourceKind: StreamSourceKind {
    /// `kafka`; see ``SourceKind/name``.
    public let name = "kafka"
    /// A stream; see ``SourceKind/role``.
    public let role = SourceRole.stream

    /// The kind (``FeatureStoreCore/Kinds/kafka`` has it with its `kafka` section).
    public init() {}

    /// Requires `topic`, a Kafka topic name (1 to 249 letters, digits, `.`, `_` and `-`), and allows no other setting;
    /// see ``SourceKind/validate(_:)``.
    public func validate(_ settings: inout StoreSettings) {
        settings.rejectUnknown(allowing: ["topic"])
        if let topic = settings.string("topic", required: true), !Self.isValidTopic(topic) {
            settings.problem("topic", "'\(topic)' is not a Kafka topic name: use 1 to 249 letters, digits, '.', '_' and '-'")
        }
    }

    /// `topic` and the topic's name (`topic trips`); see ``SourceKind/describe(_:)``.
    public func describe(_ settings: [String: String]) -> String { "topic \(settings["topic"] ?? "")" }

    /// The source's `topic` (empty when absent); see ``StreamSourceKind/topic(of:)``.
    public func topic(of source: DataSource) -> String { source.settings["topic"] ?? "" }

    /// Connects through the repository's `kafka` block (the options' address, when given, replacing its
    /// `bootstrap_servers`; their instance id becoming `group.instance.id`); throws when there is no such block; see
    /// ``StreamSourceKind/connect(store:topics:options:logger:)``.
    public func connect(store: FeatureStore, topics: [String], options: StreamConnectOptions, logger: Logger) throws(StreamError) -> StreamConnection {
        guard let kafka = KafkaConfig(store.config) else {
            throw StreamError("feature_store.yaml has no 'kafka' section (kafka: {bootstrap_servers: host:port})")
        }
        let connection = try KafkaConnection(kafka: kafka, project: store.config.project, topics: topics,
                                             bootstrapServers: options.address, instanceID: options.instanceID, logger: logger)
        return StreamConnection(consumer: connection.consumer, deadLetters: connection.deadLetters,
                                deadLetterTopic: kafka.deadLetterTopic, consumerName: kafka.group(project: store.config.project),
                                resources: connection.embeddedCluster.map { [$0] } ?? [],
                                embeddedAddress: connection.embeddedCluster?.bootstrapServers)
    }

    /// The `kafka` block's settings; see ``StreamSourceKind/connectionSettings(_:)``.
    public func connectionSettings(_ config: RepositoryConfig) -> [String: String] {
        config.sections[KafkaSection.key]?.values ?? [:]
    }

    /// Whether `feature_store.yaml` has a `kafka` block; see ``StreamSourceKind/isConfigured(_:)``.
    public func isConfigured(_ config: RepositoryConfig) -> Bool { KafkaConfig(config) != nil }

    /// Kafka's rule for topic names.
    static func isValidTopic(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 249 && name != "." && name != ".."
            && name.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2e || c == 0x5f || c == 0x2d
            }
    }
}

extension Kinds {
    /// The Kafka source kind (a stream transport) with the `kafka` block of `feature_store.yaml`.
    public static let kafka = Kinds(sources: [KafkaSourceKind()], sections: [KafkaSection()])
}
