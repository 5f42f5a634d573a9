public import Columnar
public import FeatureComputation
public import ErrorChain

/// The engine that reads and computes over a repository's offline data (its batch sources): the point-in-time join
/// behind ``FeatureStore/joinFeatures(entities:features:options:)``, the latest rows behind materialization, the
/// schema checks of the compiler, and the stream's offline copy.
///
/// The core decides *what* to compute (which views, features, keys and times; names, order, errors); an engine
/// decides *how* and where: `LocalOfflineEngine` (kind `local`, the default) reads Parquet in this process with the
/// shared computation library, and `SparkOfflineEngine` (kind `spark`) partitions the rows by key on Spark and runs
/// the same library on each partition. Every engine must give the same answers: `OfflineEngineConformance` (target
/// `FeatureStoreTesting`) checks the rules, and the join has a differential test against DuckDB.
///
/// Calls that read data are `async`, so an engine that waits on a cluster holds no thread; the local engine does its
/// work where it is called. ``schema(of:)`` is synchronous: the compiler calls it, and it reads metadata only.
/// Requirements throw ``OfflineEngineError``s or any error of the engine's own; callers wrap the latter.
public protocol OfflineEngine: Sendable {
    /// The source kinds this engine reads (`parquet` for the local engine): the join, materialization, the schema check
    /// and the stream's offline copy use batch sources of these kinds only, and say so for others.
    var sourceKinds: [String] { get }

    /// The columns a batch source's data has, or nil when it has no data yet (no such path, an empty folder, a glob
    /// that matches nothing): data often comes after the definitions.
    func schema(of source: DataSource) throws -> Schema?

    /// Reads a table the user names by location (the entity rows of a join): for the local engine, a Parquet file,
    /// folder or glob relative to the working directory.
    func readTable(at location: String) async throws -> Table

    /// For each entity row, the view's features as they were known at its time: see ``PointInTimeRequest`` for the rule.
    /// Returns one column per requested feature, one value per entity row (null where no row qualifies), typed as
    /// ``FeatureStore/outputType(_:data:)`` says.
    func pointInTimeJoin(_ request: PointInTimeRequest) async throws -> [Column]

    /// Each entity's latest source row with `start <= event_ts < end`, by the rule the join uses.
    func latestRows(_ request: LatestRowsRequest) async throws -> LatestSourceRows

    /// The tiles of an aggregated view from its source's events with `event_ts < end`: for each entity and hop, one
    /// partial aggregate per tile, each tile whole from `floor_hop(start)` (materialization's backfill). A tile's
    /// states are those ``TileStates/features(of:hop:)`` lists, in that order.
    func aggregateTiles(_ request: LatestRowsRequest) async throws -> EventTiles

    /// Checks that `source` can receive appended parts (the stream's offline copy) and returns the schema of the data
    /// it already holds (nil when none): new parts must keep it, so the data stays readable as one dataset.
    func appendTarget(_ source: DataSource) throws -> Schema?

    /// Adds `table` to `source`'s data as one new part under `partition` (a Hive partition such as
    /// `date=2026-11-30`), visible to readers only once complete and durable once this returns.
    func append(_ table: Table, to source: DataSource, partition: String) async throws -> AppendedPart

    /// Whether a batch source holds data yet (materialization and `verify` skip or refuse a source without). By default
    /// whether ``schema(of:)`` finds one; an engine that cannot read a source's metadata here (a Spark engine over
    /// `s3a:` paths) asks where it can.
    func hasData(_ source: DataSource) async throws -> Bool

    /// What the engine would run for `request`, in its own terms (Spark SQL for the Spark engine), or nil when it
    /// computes in this process and has nothing to show (the local engine). `featurectl join --explain` prints it.
    func explain(_ request: PointInTimeRequest) -> String?
}

extension OfflineEngine {
    /// Whether ``schema(of:)`` finds data.
    public func hasData(_ source: DataSource) async throws -> Bool { try schema(of: source) != nil }

    /// Nil: an engine computing in this process has no plan to show.
    public func explain(_ request: PointInTimeRequest) -> String? { nil }
}

/// A failure of an offline engine: what kind, a message naming the view, source, column or file, and its cause.
public struct OfflineEngineError: ChainedError {
    /// The kind of failure.
    public enum Code: String, Sendable, Hashable {
        /// The data does not fit the definitions or the request (a missing column, a wrong type).
        case invalidData
        /// The data cannot be read or written (a damaged file, a missing folder, a full disk).
        case unreadable
    }

    /// What kind of failure it is.
    public var code: Code
    /// What went wrong, for people; complete (callers pass it on as it is).
    public var message: String
    /// The error that caused it (a `ParquetError` with its file and offset, for example).
    public var cause: (any Error & Sendable)?

    /// A failure of kind `code`, described by `message`, caused by `cause`.
    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// `offline_engine.` and the code (`offline_engine.invalidData`).
    public var errorCode: String { "offline_engine.\(code.rawValue)" }
    /// The chain: the message, then the cause's.
    public var description: String { ErrorChain.render(self) }
}

/// The source columns a view reads, named as the source names them (its field mapping applied in reverse): join keys,
/// event time, features, created time.
public struct SourceColumns: Sendable {
    /// The join key columns, in join key order.
    public let keys: [String]
    /// The feature columns, in the order of the features given.
    public let features: [String]
    /// Every needed column once, in order: keys, event time, features, created time.
    public let all: [String]

    /// The columns of `source` holding `keys` and `features`, after its field mapping.
    public init(source: DataSource, keys: [JoinKey], features: [Feature]) {
        var column: [String: String] = [:]
        for (from, to) in source.fieldMapping { column[to] = from }
        self.keys = keys.map { column[$0.name] ?? $0.name }
        self.features = features.map { column[$0.name] ?? $0.name }
        var all: [String] = []
        for c in self.keys + [source.timestampField] + self.features + [source.createdTimestampField].compactMap({ $0 }) where !all.contains(c) {
            all.append(c)
        }
        self.all = all
    }
}

/// One view's part of a point-in-time join.
///
/// | rule | meaning |
/// | --- | --- |
/// | candidates | source rows with the entity row's join key values and `t - ttl <= event_ts <= t` (ttl 0: no lower bound) |
/// | winner | the greatest `event_ts`; ties: the greatest `created_ts` (null lowest), then the greater encoded row of the view's features (``OnlineEncoding/rowPrecedes(_:_:)``) |
/// | no candidate | the features are null |
/// | nulls | an entity row with a null time or key part, and a source row with a null key part or event time, never match |
public struct PointInTimeRequest: Sendable {
    /// The view, its batch source and join keys.
    public var view: FeatureView
    /// The view's batch source.
    public var source: DataSource
    /// The view's join keys, in order.
    public var joinKeys: [JoinKey]
    /// The features wanted, in output order.
    public var features: [Feature]
    /// The entity rows' key columns, in join key order (their types already checked against the join keys).
    public var entityKeys: [Column]
    /// The entity rows' times, microseconds since the epoch (``EventTime``: finer times rounded down).
    public var entityTimes: [Int64]
    /// Which entity times are valid (nil: all).
    public var entityTimesValid: Bitmap?
    /// Called as work advances: stage, rows done, rows to do.
    public var progress: (@Sendable (JoinProgress.Stage, Int, Int) -> Void)?

    /// A point-in-time lookup of `features` of `view` for the entity rows given by their keys and times.
    public init(view: FeatureView, source: DataSource, joinKeys: [JoinKey], features: [Feature], entityKeys: [Column],
                entityTimes: [Int64], entityTimesValid: Bitmap?, progress: (@Sendable (JoinProgress.Stage, Int, Int) -> Void)? = nil) {
        self.view = view
        self.source = source
        self.joinKeys = joinKeys
        self.features = features
        self.entityKeys = entityKeys
        self.entityTimes = entityTimes
        self.entityTimesValid = entityTimesValid
        self.progress = progress
    }

    /// The smallest and greatest valid entity time (0 when none is valid).
    public var timeRange: ClosedRange<Int64> {
        var lo = Int64.max, hi = Int64.min
        for (i, t) in entityTimes.enumerated() where entityTimesValid?[i] ?? true {
            lo = min(lo, t)
            hi = max(hi, t)
        }
        return lo <= hi ? lo...hi : 0...0
    }
}

/// The rows materialization loads for one view: each entity's latest source row in a window.
public struct LatestRowsRequest: Sendable {
    /// The view to materialize.
    public var view: FeatureView
    /// The view's offline source (``Registry/batchSource(of:)``: for a stream source, its batch source).
    public var source: DataSource
    /// The view's join keys, in order (``Registry/joinKeys(of:)``).
    public var joinKeys: [JoinKey]
    /// The window in microseconds since the epoch, `start <= event_ts < end` (`Int64.min`: from the beginning).
    public var start: Int64
    /// The window's exclusive end (microseconds).
    public var end: Int64
    /// For ``OfflineEngine/aggregateTiles(_:)``: per hop, the start of the first tile wanted when it is later than
    /// `floor_hop(start)` (tiles no lookup can need are not built: a month of one-minute tiles would not fit in memory).
    public var firstTiles: [Int64: Int64]
    /// For ``OfflineEngine/aggregateTiles(_:)``: events at or after this time (the writer's clock) are kept whole in
    /// their tiles (``RawEvents``), not folded into the states (`Int64.max`: none).
    public var rawFrom: Int64 = Int64.max
    /// Called by an engine that runs on a cluster with its stages done and its stages so far (the Spark engine, from
    /// Spark's status); engines computing in this process do not call it.
    public var progress: (@Sendable (Int, Int) -> Void)? = nil

    /// The latest rows of `view` with `start <= event_ts < end` (microseconds).
    public init(view: FeatureView, source: DataSource, joinKeys: [JoinKey], start: Int64, end: Int64, firstTiles: [Int64: Int64] = [:]) {
        self.view = view
        self.source = source
        self.joinKeys = joinKeys
        self.start = start
        self.end = end
        self.firstTiles = firstTiles
    }
}

/// Each entity's latest row: columns of the rows read, and the row that wins per entity.
public struct LatestSourceRows: Sendable {
    /// Join key columns, in join key order.
    public var keys: [Column]
    /// Feature columns, in the view's feature order.
    public var features: [Column]
    /// Event times, microseconds since the epoch (``EventTime``).
    public var eventTimes: [Int64]
    /// Created times in microseconds, when the source has them.
    public var createdTimes: [Int64]?
    /// Which created times are valid (nil: all).
    public var createdValid: Bitmap?
    /// One row index per entity (into the columns above): its latest row in the window.
    public var rows: [Int32]
    /// Source rows in the window (all entities).
    public var rowsInWindow: Int

    /// The rows read and the winning row per entity.
    public init(keys: [Column], features: [Column], eventTimes: [Int64], createdTimes: [Int64]?, createdValid: Bitmap?,
                rows: [Int32], rowsInWindow: Int) {
        self.keys = keys
        self.features = features
        self.eventTimes = eventTimes
        self.createdTimes = createdTimes
        self.createdValid = createdValid
        self.rows = rows
        self.rowsInWindow = rowsInWindow
    }
}

/// Tiles built from a source's events (``OfflineEngine/aggregateTiles(_:)``).
public struct EventTiles: Sendable {
    /// Key columns of the events read; each tile names a row of them.
    public var keys: [Column]
    /// The tiles.
    public var tiles: [BuiltTile]
    /// Events counted.
    public var events: Int

    /// The tiles `tiles` over the key columns `keys`, built from `events` events.
    public init(keys: [Column], tiles: [BuiltTile], events: Int) {
        self.keys = keys
        self.tiles = tiles
        self.events = events
    }
}

/// A part added to a source's data.
public struct AppendedPart: Sendable, Hashable {
    /// Where it is (a file path for the local engine).
    public var location: String
    /// Rows in the part.
    public var rows: Int

    /// A part at `location` holding `rows` rows.
    public init(location: String, rows: Int) {
        self.location = location
        self.rows = rows
    }
}

extension FeatureStore {
    /// The columnar type a feature of `type` has in joined output: the declared type's column type, except that
    /// timestamps keep the source's unit and zone.
    public static func outputType(_ type: ValueType, data: DataType) -> DataType {
        func scalar(_ s: ScalarType) -> DataType {
            if s == .timestamp, case .timestamp = data { return data }
            return s.columnType
        }
        switch type {
        case .scalar(let s): return scalar(s)
        case .list(let s):
            if case .list(let inner) = data, s == .timestamp, case .timestamp = inner { return data }
            return .list(scalar(s))
        }
    }

    /// Whether a column of type `data` can hold join key values of type `key`.
    public static func keyTypeMatches(_ data: DataType, _ key: ScalarType) -> Bool {
        switch key {
        case .int32, .int64: return [.int8, .int16, .int32, .int64, .uint8, .uint16, .uint32].contains(data)
        case .string: return data == .string
        case .bytes:
            if case .fixedBinary = data { return true }
            return data == .binary
        default: return false
        }
    }
}
