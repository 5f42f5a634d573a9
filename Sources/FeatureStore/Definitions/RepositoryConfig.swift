/// The settings of a feature repository, read from its `feature_store.yaml`.
///
/// ```yaml
/// project: ride_hailing
/// offline_store:
///   path: data              # where offline data lives; source paths are relative to the repository
/// online_store:
///   kind: sqlite
///   path: data/online.db
/// registry:
///   path: data/registry.db
/// kafka:                    # optional
///   bootstrap_servers: localhost:9092
/// ```
public struct RepositoryConfig: Sendable, Hashable, Codable {
    /// The project name: an identifier; the registry belongs to one project.
    public var project: String
    /// The folder of offline data, relative to the repository.
    public var offlineStorePath: String
    /// The online store.
    public var onlineStore: OnlineStoreConfig
    /// The registry (catalog) file, relative to the repository.
    public var registryPath: String
    /// Kafka settings, when the repository has stream sources.
    public var kafka: KafkaConfig?

    public init(project: String, offlineStorePath: String = "data", onlineStore: OnlineStoreConfig = .init(),
                registryPath: String = "data/registry.db", kafka: KafkaConfig? = nil) {
        self.project = project
        self.offlineStorePath = offlineStorePath
        self.onlineStore = onlineStore
        self.registryPath = registryPath
        self.kafka = kafka
    }
}

/// Which online store holds serving data.
public struct OnlineStoreConfig: Sendable, Hashable, Codable {
    /// The kinds of online store.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// An embedded SQLite file (the default).
        case sqlite
    }

    public var kind: Kind
    /// The database file, relative to the repository.
    public var path: String

    public init(kind: Kind = .sqlite, path: String = "data/online.db") {
        self.kind = kind
        self.path = path
    }
}

/// How to reach Kafka for stream sources.
public struct KafkaConfig: Sendable, Hashable, Codable {
    /// Comma-separated `host:port` list.
    public var bootstrapServers: String
    /// The consumer group; by default `featurestore-<project>`.
    public var consumerGroup: String?

    public init(bootstrapServers: String, consumerGroup: String? = nil) {
        self.bootstrapServers = bootstrapServers
        self.consumerGroup = consumerGroup
    }
}
