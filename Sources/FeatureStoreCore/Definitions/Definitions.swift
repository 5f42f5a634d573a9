import Foundation

/// A place in a definition file: the file (relative to the repository) and a 1-based line and column.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    /// The file, relative to the repository.
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int

    /// A place in a definition file.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`.
    public var description: String { "\(file):\(line):\(column)" }

    /// File order: by file, then line, then column.
    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}

/// The kinds of object a feature repository defines.
public enum ObjectKind: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case entity
    case source
    case featureView = "feature_view"
    case onDemandView = "on_demand_view"
    case featureService = "feature_service"

    /// The raw value (`feature_view`).
    public var description: String { rawValue }

    /// The plural key under which objects of this kind are listed in a definition file.
    public var listKey: String {
        switch self {
        case .entity: return "entities"
        case .source: return "sources"
        case .featureView: return "feature_views"
        case .onDemandView: return "on_demand_views"
        case .featureService: return "feature_services"
        }
    }

    /// Parses the spellings people use on the command line (`view`, `feature_view`, `services`, ...).
    public init?(userSpelling: String) {
        switch userSpelling.lowercased() {
        case "entity", "entities": self = .entity
        case "source", "sources", "data_source": self = .source
        case "view", "views", "feature_view", "feature_views", "featureview": self = .featureView
        case "on_demand_view", "on_demand_views", "on-demand", "ondemand", "odfv": self = .onDemandView
        case "service", "services", "feature_service", "feature_services", "featureservice": self = .featureService
        default: return nil
        }
    }
}

/// What every registered object has: a name, documentation, ownership, tags and where it was defined.
public protocol Definition: Sendable, Codable, Hashable {
    static var kind: ObjectKind { get }
    var name: String { get }
    var description: String { get }
    var owner: String { get }
    var tags: [String: String] { get }
    /// Where the object is defined (not part of its content: moving it does not change it).
    var location: SourceLocation? { get }
}

/// A join key of an entity: a column name and its type.
public struct JoinKey: Sendable, Hashable, Codable {
    /// The key's name: an identifier, unique in its entity; a source column of that name (or mapped to it) holds the
    /// key.
    public var name: String
    /// The key's type: one that ``ScalarType/canBeJoinKey`` (int32, int64, string, bytes).
    public var type: ScalarType

    /// A join key `name` of `type`.
    public init(name: String, type: ScalarType) {
        self.name = name
        self.type = type
    }
}

/// Something features describe (a driver, a customer, a route); identified by one or more join keys.
public struct Entity: Definition {
    /// ``ObjectKind/entity``.
    public static let kind = ObjectKind.entity
    /// The entity's name: an identifier, unique among entities.
    public var name: String
    /// The keys that identify one instance; several keys make a composite entity.
    public var joinKeys: [JoinKey]
    /// What the entity is, for people (empty when not written).
    public var description: String
    /// Who owns it, as written (empty when not written).
    public var owner: String
    /// Free-form labels, as written.
    public var tags: [String: String]
    /// Where the entity is defined (nil when made in code or read back from the catalog).
    public var location: SourceLocation?

    /// An entity identified by `joinKeys` (in order).
    public init(name: String, joinKeys: [JoinKey], description: String = "", owner: String = "",
                tags: [String: String] = [:], location: SourceLocation? = nil) {
        self.name = name
        self.joinKeys = joinKeys
        self.description = description
        self.owner = owner
        self.tags = tags
        self.location = location
    }

    enum CodingKeys: String, CodingKey { case name, joinKeys = "join_keys", description, owner, tags }
}

/// A source of feature rows: a table of rows at rest (Parquet files, ...) that offline engines read, or a stream of
/// events (a Kafka topic, ...) that names the table source holding the same events offline (`batch_source`).
///
/// What the rows are and where they live is the business of the source's kind (``SourceKind``, in the
/// target that brings it): the core keeps the kind's own settings as written and knows only its role.
public struct DataSource: Definition {
    /// ``ObjectKind/source``.
    public static let kind = ObjectKind.source
    /// The source's name: an identifier, unique among sources.
    public var name: String
    /// The source kind (`parquet`, `kafka`, ...): a ``SourceKind`` of the program's ``Kinds``.
    public var kind: String
    /// The kind's own settings, as written (`path` for parquet; `topic` for kafka), nested keys joined with dots.
    public var settings: [String: String]
    /// For a stream source: the table source that holds the same events offline (its training data).
    public var batchSource: String?
    /// For a stream source: the payload format of its messages (`json` when not written) with the format's settings.
    public var format: StoreSettings?
    /// The column (or message field) holding each row's event time.
    public var timestampField: String
    /// An optional column with the time a row was written: breaks ties between equal event times.
    public var createdTimestampField: String?
    /// Renames: source column name -> feature or join key name.
    public var fieldMapping: [String: String]
    /// Columns computed from the source's other columns by expressions: they behave like columns of the data (views
    /// read and aggregate them), and every engine computes them with the same compiled expression.
    public var derived: [DerivedColumn]
    /// Declared types of data columns that derived columns read and no feature or join key types already.
    public var columns: [String: ScalarType]
    /// What the source holds, for people (empty when not written).
    public var description: String
    /// Who owns it, as written (empty when not written).
    public var owner: String
    /// Free-form labels, as written.
    public var tags: [String: String]
    /// Where the source is defined (nil when made in code or read back from the catalog).
    public var location: SourceLocation?

    /// A source of rows of kind `kind` with the kind's `settings`: which column holds their event time and,
    /// optionally, their created time. A stream source names its `batchSource` and its payload `format`.
    public init(name: String, kind: String, settings: [String: String] = [:], batchSource: String? = nil,
                format: StoreSettings? = nil, timestampField: String, createdTimestampField: String? = nil,
                fieldMapping: [String: String] = [:], derived: [DerivedColumn] = [], columns: [String: ScalarType] = [:],
                description: String = "", owner: String = "", tags: [String: String] = [:], location: SourceLocation? = nil) {
        self.name = name
        self.kind = kind
        self.settings = settings
        self.batchSource = batchSource
        self.format = format
        self.timestampField = timestampField
        self.createdTimestampField = createdTimestampField
        self.fieldMapping = fieldMapping
        self.derived = derived
        self.columns = columns
        self.description = description
        self.owner = owner
        self.tags = tags
        self.location = location
    }

    /// Whether this is a stream source (it names a batch source).
    public var isStream: Bool { batchSource != nil }

    /// The name of the offline source that holds this source's data (itself for a table source).
    public var batchSourceName: String { batchSource ?? name }

    /// The keys every source has; the others are its kind's settings.
    static let commonKeys: Set<String> = ["name", "kind", "batch_source", "format", "timestamp_field", "created_timestamp_field",
                                          "field_mapping", "derived", "columns", "description", "owner", "tags"]

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    // Coded flat, as written: the common keys and the kind's settings side by side (`{"kind": "parquet", "path": ...}`),
    // so the canonical form (and version) of a source is what its YAML says.
    /// Decodes the flat form: the common keys, and every other key as a setting of the kind.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        name = try c.decode(String.self, forKey: Key("name"))
        kind = try c.decode(String.self, forKey: Key("kind"))
        batchSource = try c.decodeIfPresent(String.self, forKey: Key("batch_source"))
        if c.contains(Key("format")) {
            if let plain = try? c.decode(String.self, forKey: Key("format")) {
                format = StoreSettings(kind: plain)
            } else {
                format = try c.decode(StoreSettings.self, forKey: Key("format"))
            }
        }
        timestampField = try c.decode(String.self, forKey: Key("timestamp_field"))
        createdTimestampField = try c.decodeIfPresent(String.self, forKey: Key("created_timestamp_field"))
        fieldMapping = try c.decodeIfPresent([String: String].self, forKey: Key("field_mapping")) ?? [:]
        derived = try c.decodeIfPresent([DerivedColumn].self, forKey: Key("derived")) ?? []
        columns = try c.decodeIfPresent([String: ScalarType].self, forKey: Key("columns")) ?? [:]
        description = try c.decodeIfPresent(String.self, forKey: Key("description")) ?? ""
        owner = try c.decodeIfPresent(String.self, forKey: Key("owner")) ?? ""
        tags = try c.decodeIfPresent([String: String].self, forKey: Key("tags")) ?? [:]
        var settings: [String: String] = [:]
        for key in c.allKeys where !Self.commonKeys.contains(key.stringValue) {
            settings[key.stringValue] = try c.decode(String.self, forKey: key)
        }
        self.settings = settings
        location = nil
    }

    /// Encodes the flat form, as written: the kind's settings beside the common keys.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(name, forKey: Key("name"))
        try c.encode(kind, forKey: Key("kind"))
        for (key, value) in settings { try c.encode(value, forKey: Key(key)) }
        if let batchSource { try c.encode(batchSource, forKey: Key("batch_source")) }
        if let format {
            // A format without settings is its name (`"format": "json"`), as written.
            if format.values.isEmpty { try c.encode(format.kind, forKey: Key("format")) } else { try c.encode(format, forKey: Key("format")) }
        }
        try c.encode(timestampField, forKey: Key("timestamp_field"))
        try c.encodeIfPresent(createdTimestampField, forKey: Key("created_timestamp_field"))
        try c.encode(fieldMapping, forKey: Key("field_mapping"))
        // Absent when empty, so sources without them keep the content (and version) they had.
        if !derived.isEmpty { try c.encode(derived, forKey: Key("derived")) }
        if !columns.isEmpty { try c.encode(columns, forKey: Key("columns")) }
        try c.encode(description, forKey: Key("description"))
        try c.encode(owner, forKey: Key("owner"))
        try c.encode(tags, forKey: Key("tags"))
    }
}

/// A column of a source computed by an expression over its other columns (`fare / nullif(distance_km, 0)`).
public struct DerivedColumn: Sendable, Hashable, Codable {
    /// The column's name: an identifier, unique among the source's derived columns.
    public var name: String
    /// The declared type of its values (a scalar other than bytes).
    public var type: ScalarType
    /// The expression, in the language of the `Expressions` module.
    public var expression: String

    /// A column `name` of `type` computed by `expression`.
    public init(name: String, type: ScalarType, expression: String) {
        self.name = name
        self.type = type
        self.expression = expression
    }

    enum CodingKeys: String, CodingKey { case name, type, expression = "expr" }
}

/// One feature of a view: a name, a type and what it means.
public struct Feature: Sendable, Hashable, Codable {
    /// The feature's name: an identifier, unique in its view and not one of the view's join keys.
    public var name: String
    /// The type of its values.
    public var type: ValueType
    /// What the feature means, for people (empty when not written).
    public var description: String
    /// How the feature is computed from events, for a feature of a view's `aggregations` (nil: a plain feature, the
    /// value of the source column of the same name in the latest row).
    public var aggregation: FeatureAggregation?
    /// The rules its values are expected to follow (its `expect:` block; nil: none).
    public var expectations: FeatureExpectations?

    /// A feature `name` of `type`.
    public init(name: String, type: ValueType, description: String = "", aggregation: FeatureAggregation? = nil,
                expectations: FeatureExpectations? = nil) {
        self.name = name
        self.type = type
        self.description = description
        self.aggregation = aggregation
        self.expectations = expectations
    }

    enum CodingKeys: String, CodingKey { case name, type, description, aggregation, expectations = "expect" }
}

/// How long a plain view's row stays visible to lookups, one rule for every store.
///
/// A row of age `<= ttl` is served (PRESENT or NULL_VALUE); of age in `(ttl, ttl + grace)` it is OUTSIDE_MAX_AGE; older,
/// it is NOT_FOUND, as if it were gone, whether or not the store still holds it. Stores may delete a row once it is
/// older than `ttl + grace` (Redis sets each key to expire then, plus ``clockMargin``), never before: so SQLite, which
/// keeps rows, and Redis, which expires them, give the same statuses. The grace is the ttl itself, at most one day.
public enum RowExpiry {
    /// The grace after the ttl during which a row is OUTSIDE_MAX_AGE (microseconds; 0 for ttl 0: rows never age).
    public static func grace(ttl: Int64) -> Int64 { ttl <= 0 ? 0 : min(ttl, 86_400_000_000) }

    /// How far a store's clock may run ahead of a lookup's before it deletes a row the lookup still reports
    /// (microseconds).
    public static let clockMargin: Int64 = 60_000_000

    /// How long a store that expires rows keeps one after writing it, at least (microseconds): a day, so lookups at
    /// past times right after a backfill of those times (`verify --at`) see what a store that keeps rows sees.
    public static let historicRetention: Int64 = 86_400_000_000

    /// The first time (microseconds) at which a row of `event` is NOT_FOUND under `ttl` (microseconds, > 0):
    /// `event + ttl + grace`, saturating.
    public static func goneAt(event: Int64, ttl: Int64) -> Int64 {
        let (sum, overflow) = event.addingReportingOverflow(ttl + grace(ttl: ttl))
        return overflow ? (event < 0 ? Int64.min : Int64.max) : sum
    }
}

/// A group of features computed from one source for one or more entities, valid for `ttl` after their event time.
public struct FeatureView: Definition {
    /// ``ObjectKind/featureView``.
    public static let kind = ObjectKind.featureView
    /// The feature view's name: an identifier, unique among feature views and on-demand views.
    public var name: String
    /// The entities, by name; their join keys together identify a row.
    public var entities: [String]
    /// The source, by name.
    public var source: String
    /// How long a value stays valid after its event time; zero means forever.
    public var ttl: TimeSpan
    /// Its features, in order: those of its `features` (latest values), or one per aggregation and window of its
    /// `aggregations`.
    public var features: [Feature]
    /// Whether the view is materialized into the online store.
    public var online: Bool
    /// What the view holds, for people (empty when not written).
    public var description: String
    /// Who owns it, as written (empty when not written).
    public var owner: String
    /// Free-form labels, as written.
    public var tags: [String: String]
    /// Where the view is defined (nil when made in code or read back from the catalog).
    public var location: SourceLocation?
    /// Its data-quality settings (its `expectations:` block; nil: none, violations of its features' `expect:` rules
    /// are warned about).
    public var expectations: ViewExpectations?

    /// The policy for data breaking its features' expectations (``ViolationPolicy/warn`` unless set).
    public var violationPolicy: ViolationPolicy { expectations?.policy ?? .warn }

    /// Whether any of its features has expectations.
    public var hasExpectations: Bool { features.contains { $0.expectations != nil } }

    /// A feature view over the rows of `source`, keyed by `entities` (names), serving values up to `ttl` old (0: no limit).
    public init(name: String, entities: [String], source: String, ttl: TimeSpan, features: [Feature], online: Bool = true,
                description: String = "", owner: String = "", tags: [String: String] = [:], location: SourceLocation? = nil,
                expectations: ViewExpectations? = nil) {
        self.name = name
        self.entities = entities
        self.source = source
        self.ttl = ttl
        self.features = features
        self.online = online
        self.description = description
        self.owner = owner
        self.tags = tags
        self.location = location
        self.expectations = expectations
    }

    enum CodingKeys: String, CodingKey { case name, entities, source, ttl, features, online, description, owner, tags, expectations }

    /// The feature named `name`, if the view has one.
    public func feature(named name: String) -> Feature? { features.first { $0.name == name } }

    /// Whether the view's features are time-window aggregations of its source's events (its `aggregations`) rather
    /// than the values of the latest row.
    public var isAggregated: Bool { features.contains { $0.aggregation != nil } }
}

/// A reference to features of a view: `view` (all its features) or `view:feature`.
public struct FeatureReference: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The view's name.
    public var view: String
    /// The feature, or `nil` for all features of the view.
    public var feature: String?

    /// A reference to `feature` of `view`, or to all its features when `feature` is nil.
    public init(view: String, feature: String? = nil) {
        self.view = view
        self.feature = feature
    }

    /// Parses `view` or `view:feature`; `nil` for anything else (`a:b:c`, `:x`, `x:`).
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1 where !parts[0].isEmpty: self.init(view: parts[0])
        case 2 where !parts[0].isEmpty && !parts[1].isEmpty: self.init(view: parts[0], feature: parts[1])
        default: return nil
        }
    }

    /// `view:feature`, or `view`.
    public var description: String { feature.map { "\(view):\($0)" } ?? view }

    /// Decodes `view` or `view:feature` from a string; throws for anything else.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let ref = FeatureReference(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad reference '\(text)'"))
        }
        self = ref
    }

    /// Encodes ``description``: `view:feature` or `view`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// A named set of features that a model consumes, served together.
public struct FeatureService: Definition {
    /// ``ObjectKind/featureService``.
    public static let kind = ObjectKind.featureService
    /// The service's name: an identifier, unique among feature services.
    public var name: String
    /// The features served, in order: all of a view's, or one feature of a view.
    public var features: [FeatureReference]
    /// What the service is for, for people (empty when not written).
    public var description: String
    /// Who owns it, as written (empty when not written).
    public var owner: String
    /// Free-form labels, as written.
    public var tags: [String: String]
    /// Where the service is defined (nil when made in code or read back from the catalog).
    public var location: SourceLocation?
    /// Whether FeatureServer logs the feature vectors it serves for this service (its `logging:` block).
    public var logging: FeatureLogging?
    /// Whether FeatureServer checks a share of this service's lookups against the offline engine (its `skew_watch:`).
    public var skewWatch: SkewWatchSettings?

    /// A named set of features, as a model consumes them.
    public init(name: String, features: [FeatureReference], description: String = "", owner: String = "",
                tags: [String: String] = [:], location: SourceLocation? = nil, logging: FeatureLogging? = nil,
                skewWatch: SkewWatchSettings? = nil) {
        self.name = name
        self.features = features
        self.description = description
        self.owner = owner
        self.tags = tags
        self.location = location
        self.logging = logging
        self.skewWatch = skewWatch
    }

    enum CodingKeys: String, CodingKey { case name, features, description, owner, tags, logging, skewWatch = "skew_watch" }
}

/// The skew watch of a service: the share of its lookups FeatureServer computes again with the offline engine at the
/// same time, `delay` after serving them (time for the offline data of that moment to land).
public struct SkewWatchSettings: Sendable, Hashable, Codable {
    /// The share of lookups checked, in (0, 1].
    public var sampleRate: Double
    /// How long after a lookup it is checked.
    public var delay: TimeSpan

    /// Checks of `sampleRate` of the lookups, `delay` after each.
    public init(sampleRate: Double, delay: TimeSpan) {
        self.sampleRate = sampleRate
        self.delay = delay
    }

    enum CodingKeys: String, CodingKey { case sampleRate = "sample_rate", delay }
}

/// Feature logging of a service: a share of its lookups, written by FeatureServer as Parquet (request id and time,
/// entity keys, and per feature its value, status and event time), day-partitioned, for skew checks and for training
/// on exactly what was served.
public struct FeatureLogging: Sendable, Hashable, Codable {
    /// The share of lookups logged, in (0, 1].
    public var sampleRate: Double
    /// Where the files go (relative to the repository; nil: `feature_logs/SERVICE` under the offline store's path).
    public var path: String?

    /// Logging of `sampleRate` of the lookups to `path`.
    public init(sampleRate: Double, path: String? = nil) {
        self.sampleRate = sampleRate
        self.path = path
    }

    enum CodingKeys: String, CodingKey { case sampleRate = "sample_rate", path }
}
