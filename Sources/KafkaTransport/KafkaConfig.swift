public import FeatureStoreCore

/// The `kafka` block of `feature_store.yaml`: how to reach Kafka for stream sources, where bad messages go, and the
/// stream settings every transport shares (lateness, the offline copy's roll).
///
/// ```yaml
/// kafka:
///   bootstrap_servers: localhost:9092      # or `embedded`: librdkafka's mock cluster in the ingesting process
///   consumer_group: featurestore-rides     # default: featurestore-<project>
///   dead_letter_topic: rides_dead
///   properties: {security.protocol: SASL_SSL}   # librdkafka properties, passed as they are
///   offline_roll_interval: 60s
///   offline_roll_size_mb: 64
///   allowed_lateness: 1h
/// ```
public struct KafkaConfig: Sendable, Hashable {
    /// Comma-separated `host:port` list, or `embedded` (an in-process mock cluster, for demos).
    public var bootstrapServers: String
    /// The consumer group; by default `featurestore-<project>`.
    public var consumerGroup: String?
    /// The topic bad messages are sent to (nil: counted and logged only).
    public var deadLetterTopic: String?
    /// Extra librdkafka properties (`security.protocol`, `sasl.mechanisms`, ...), passed as they are.
    public var properties: [String: String]

    /// Kafka settings made in code.
    public init(bootstrapServers: String, consumerGroup: String? = nil, deadLetterTopic: String? = nil, properties: [String: String] = [:]) {
        self.bootstrapServers = bootstrapServers
        self.consumerGroup = consumerGroup
        self.deadLetterTopic = deadLetterTopic
        self.properties = properties
    }

    /// The `kafka` block of `config`, or nil when it has none.
    public init?(_ config: RepositoryConfig) {
        guard let settings = config.sections[KafkaSection.key] else { return nil }
        self.init(settings: settings)
    }

    /// The block's settings, already validated by ``KafkaSection``.
    init(settings: StoreSettings) {
        var properties: [String: String] = [:]
        for (key, value) in settings.values where key.hasPrefix("properties.") { properties[String(key.dropFirst(11))] = value }
        self.init(bootstrapServers: settings.values["bootstrap_servers"] ?? "", consumerGroup: settings.values["consumer_group"],
                  deadLetterTopic: settings.values["dead_letter_topic"], properties: properties)
    }

    /// `bootstrap_servers: embedded` runs librdkafka's mock cluster inside the ingesting process (demos, tests).
    public static let embedded = "embedded"

    /// The consumer group of `project`.
    public func group(project: String) -> String { consumerGroup ?? "featurestore-\(project)" }
}

/// The `kafka` section: in ``FeatureStoreCore/Kinds/kafka`` beside the source kind.
public struct KafkaSection: ConfigSectionKind {
    /// The block's key.
    public static let key = "kafka"
    /// `kafka`; see ``ConfigSectionKind/name``.
    public let name = KafkaSection.key

    /// The section (in ``FeatureStoreCore/Kinds/kafka``).
    public init() {}

    /// Requires `bootstrap_servers`, passes `properties.*` through, and checks `offline_roll_interval` (a time span, 0:
    /// every batch), `allowed_lateness` (positive) and `offline_roll_size_mb` (1 to 4096); see
    /// ``ConfigSectionKind/validate(_:)``.
    public func validate(_ settings: inout StoreSettings) {
        let known = ["bootstrap_servers", "consumer_group", "dead_letter_topic", "offline_roll_interval", "offline_roll_size_mb", "allowed_lateness"]
        let properties = settings.values.keys.filter { $0.hasPrefix("properties.") }
        settings.rejectUnknown(allowing: known + properties.sorted())
        _ = settings.string("bootstrap_servers", required: true)
        if let text = settings.values["offline_roll_interval"], TimeSpan(parsing: text) == nil {
            settings.problem("offline_roll_interval", "'offline_roll_interval' must be a time span like 30s, 5m or 0 (after every batch), found '\(text)'")
        }
        if let text = settings.values["allowed_lateness"], (TimeSpan(parsing: text)?.seconds ?? 0) <= 0 {
            settings.problem("allowed_lateness", "'allowed_lateness' must be a positive time span like 10m or 1h, found '\(text)'")
        }
        if settings.values["properties.group.instance.id"] != nil {
            // One feature_store.yaml serves every instance: one id for all would let the broker fence all but one.
            settings.problem("properties.group.instance.id", "'group.instance.id' identifies one instance and feature_store.yaml is shared by all: give each instance its own with FeatureServer --instance-id (or featurectl ingest --instance-id)")
        }
        if let text = settings.values["offline_roll_size_mb"], !(Int(text).map { $0 > 0 && $0 <= 4096 } ?? false) {
            settings.problem("offline_roll_size_mb", "'offline_roll_size_mb' must be a whole number of megabytes from 1 to 4096, found '\(text)'")
        }
    }

    /// The block's `allowed_lateness` and offline roll settings over the defaults of ``StreamSettings`` (an invalid
    /// value keeps the default); see ``ConfigSectionKind/streamSettings(_:)``.
    public func streamSettings(_ settings: StoreSettings) -> StreamSettings? {
        var streams = StreamSettings()
        if let text = settings.values["offline_roll_interval"], let span = TimeSpan(parsing: text) { streams.offlineRollInterval = span }
        if let text = settings.values["allowed_lateness"], let span = TimeSpan(parsing: text), span.seconds > 0 { streams.allowedLateness = span }
        if let text = settings.values["offline_roll_size_mb"], let mb = Int(text), mb > 0, mb <= 4096 { streams.offlineRollBytes = mb << 20 }
        return streams
    }
}
