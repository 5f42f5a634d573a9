/// The settings of a feature repository, read from its `feature_store.yaml`.
///
/// ```yaml
/// project: ride_hailing
/// offline_store:
///   kind: local             # the offline engine (default: local, Parquet read in this process)
///   path: data              # where offline data lives; source paths are relative to the repository
/// online_store:
///   kind: sqlite
///   path: data/online.db
/// registry:
///   path: data/registry.db
/// kafka:                    # optional: a section of the Kafka transport (see ConfigSectionKind)
///   bootstrap_servers: localhost:9092
/// auth:                     # optional: bearer tokens for FeatureServer (a section of the serving, see ServingSettings)
///   tokens:
///     - name: ranking_model
///       scopes: ["read:*"]
///       env: RANKING_MODEL_TOKEN     # the secret comes from the environment...
///     - name: trip_events
///       scopes: ["write:driver_hourly_stats"]
///       file: secrets/trip_events.token   # ...or from a file, never from this YAML
/// ```
public struct RepositoryConfig: Sendable, Hashable, Codable {
    /// The project name: an identifier; the registry belongs to one project.
    public var project: String
    /// The folder of offline data, relative to the repository.
    public var offlineStorePath: String
    /// The offline engine (nil: the default, `local`).
    public var offlineStore: OfflineStoreConfig?
    /// The online store.
    public var onlineStore: OnlineStoreConfig
    /// The registry (catalog) file, relative to the repository.
    public var registryPath: String
    /// The blocks that belong to ``ConfigSectionKind``s (`kafka`), by key, as their kinds read them.
    public var sections: [String: StoreSettings]
    /// How streams and backfills share work (from a stream transport's block; the defaults otherwise).
    public var streams: StreamSettings

    /// The settings of `project`, the others defaulting as in a `feature_store.yaml` without them (offline data in
    /// `data`, the SQLite online store, the registry `data/registry.db`, no authentication).
    public init(project: String, offlineStorePath: String = "data", onlineStore: OnlineStoreConfig = OnlineStoreConfig(),
                registryPath: String = "data/registry.db", sections: [String: StoreSettings] = [:],
                streams: StreamSettings = StreamSettings()) {
        self.project = project
        self.offlineStorePath = offlineStorePath
        self.onlineStore = onlineStore
        self.registryPath = registryPath
        self.sections = sections
        self.streams = streams
    }

    enum CodingKeys: String, CodingKey {
        case project, offlineStorePath, offlineStore, onlineStore, registryPath, sections, streams
    }

    /// Registries written before sections existed hold no `sections` (their `kafka` is dropped: the next `apply`
    /// writes the block again).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        project = try c.decode(String.self, forKey: .project)
        offlineStorePath = try c.decodeIfPresent(String.self, forKey: .offlineStorePath) ?? "data"
        offlineStore = try c.decodeIfPresent(OfflineStoreConfig.self, forKey: .offlineStore)
        onlineStore = try c.decodeIfPresent(OnlineStoreConfig.self, forKey: .onlineStore) ?? OnlineStoreConfig()
        registryPath = try c.decodeIfPresent(String.self, forKey: .registryPath) ?? "data/registry.db"
        sections = try c.decodeIfPresent([String: StoreSettings].self, forKey: .sections) ?? [:]
        streams = try c.decodeIfPresent(StreamSettings.self, forKey: .streams) ?? StreamSettings()
    }
}

/// A block of `feature_store.yaml` that names a kind and its settings (`online_store`, `offline_store`): the kind
/// reads and checks the settings itself. Coded flat: `{"kind": "sqlite", "path": "data/online.db"}` (what registries
/// applied before kinds existed hold), with the default kind when none is written.
public protocol KindConfig: Sendable, Hashable, Codable {
    /// The kind used when the block names none.
    static var defaultKind: String { get }
    /// The kind and its settings as written.
    var settings: StoreSettings { get set }
    init(settings: StoreSettings)
}

extension KindConfig {
    /// The kind's name.
    public var kind: String { settings.kind }

    /// A configuration of `kind` (default: ``defaultKind``) with `values` (settings as written in YAML).
    public init(kind: String? = nil, values: [String: String] = [:]) {
        self.init(settings: StoreSettings(kind: kind ?? Self.defaultKind, values: values))
    }

    /// Decodes the flat form; a block without `kind` has ``defaultKind``.
    public init(from decoder: any Decoder) throws {
        var settings = try StoreSettings(from: decoder)
        if settings.kind.isEmpty { settings.kind = Self.defaultKind }
        self.init(settings: settings)
    }

    /// Encodes the flat form: the settings beside `kind`.
    public func encode(to encoder: any Encoder) throws {
        try settings.encode(to: encoder)
    }
}

/// Which online store holds serving data: a kind (one of the program's ``Kinds``) and its
/// settings.
///
/// ```yaml
/// online_store: {kind: sqlite, path: data/online.db}     # the default
/// ```
public struct OnlineStoreConfig: KindConfig {
    /// The kind used when `feature_store.yaml` has no `online_store`: the embedded SQLite store.
    public static let defaultKind = "sqlite"
    /// The kind and its settings as written.
    public var settings: StoreSettings
    /// A configuration of `settings`.
    public init(settings: StoreSettings) { self.settings = settings }
}

/// Which offline engine reads the batch sources: a kind (one of the program's ``Kinds``) and
/// its settings. `path` (the folder of offline data) is the repository's.
///
/// ```yaml
/// offline_store: {kind: local, path: data}     # the default
/// ```
public struct OfflineStoreConfig: KindConfig {
    /// The kind used when `feature_store.yaml` names none: Parquet read in this process.
    public static let defaultKind = "local"
    /// The kind and its settings as written (without `path`, which is ``RepositoryConfig/offlineStorePath``).
    public var settings: StoreSettings
    /// A configuration of `settings`.
    public init(settings: StoreSettings) { self.settings = settings }
}

extension RepositoryConfig {
    /// The offline engine's settings (the default kind when the settings name none).
    public var offlineEngine: OfflineStoreConfig { offlineStore ?? OfflineStoreConfig() }
}
