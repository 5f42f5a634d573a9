import Foundation

/// One row to write to a view's online table.
public struct OnlineRow: Sendable {
    /// The join key values, in the view's join key order.
    public var key: [OnlineValue]
    /// Microseconds since the epoch.
    public var eventTimestamp: Int64
    /// Microseconds since the epoch; breaks ties between equal event times (``noCreatedTimestamp`` when the source
    /// has none or the row's is null: lower than any time, as the join orders a null created time).
    public var createdTimestamp: Int64
    /// The feature values, in the view's feature order.
    public var values: [OnlineValue]

    /// A row: key values, times in microseconds, feature values (each in the view's order).
    public init(key: [OnlineValue], eventTimestamp: Int64, createdTimestamp: Int64 = OnlineRow.noCreatedTimestamp, values: [OnlineValue]) {
        self.key = key
        self.eventTimestamp = eventTimestamp
        self.createdTimestamp = createdTimestamp
        self.values = values
    }

    /// The created time of a row without one (null, or a source without the field): below every real time, so a
    /// row with a created time wins a tie of event times over one without, offline and online alike.
    public static let noCreatedTimestamp = Int64.min
}

/// A view's table in the online store: the view, its join keys, and the schema version its rows are stored under,
/// resolved once (a repository keeps one per view, see ``FeatureStore/onlineTable(of:)``) instead of on every call.
public struct OnlineTable: Sendable, Hashable {
    /// The view.
    public let view: FeatureView
    /// Its join keys, in order.
    public let joinKeys: [JoinKey]
    /// The shape of stored rows (``FeatureView/schemaVersion(keys:)``): stores keep each version apart.
    public let schemaVersion: String

    /// The table of `view` with `joinKeys` (computes the schema version).
    public init(view: FeatureView, joinKeys: [JoinKey]) {
        self.view = view
        self.joinKeys = joinKeys
        self.schemaVersion = view.schemaVersion(keys: joinKeys)
    }

    /// The view's name.
    public var name: String { view.name }

    /// Equal when the view's name and schema version are (the schema version covers keys, features and types).
    public static func == (a: OnlineTable, b: OnlineTable) -> Bool { a.view.name == b.view.name && a.schemaVersion == b.schemaVersion }

    /// Hashes what ``==`` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(view.name)
        hasher.combine(schemaVersion)
    }
}

/// Entities to read from one view: key values in the view's join key order.
public struct OnlineReadRequest: Sendable {
    /// The view's table.
    public var table: OnlineTable
    /// The entities: one array of key values per entity, in join key order.
    public var keys: [[OnlineValue]]

    /// A read of `keys` from `table`.
    public init(table: OnlineTable, keys: [[OnlineValue]]) {
        self.table = table
        self.keys = keys
    }

    /// The view read.
    public var view: FeatureView { table.view }
    /// Its join keys, in order.
    public var joinKeys: [JoinKey] { table.joinKeys }
}

/// What a stored entity holds for a view.
public struct StoredOnlineRow: Sendable, Hashable {
    /// Microseconds since the epoch.
    public var eventTimestamp: Int64
    /// Microseconds since the epoch (0 when the row had none).
    public var createdTimestamp: Int64
    /// The feature values, in the view's feature order.
    public var values: [OnlineValue]

    /// A stored row: times in microseconds and the feature values in the view's order.
    public init(eventTimestamp: Int64, createdTimestamp: Int64, values: [OnlineValue]) {
        self.eventTimestamp = eventTimestamp
        self.createdTimestamp = createdTimestamp
        self.values = values
    }
}

/// A tile of an aggregated view: the partial aggregates of one entity's events in `[start, start + hop)`, for the
/// view's features with that hop (their encoded states, see ``TileStates``).
///
/// A tile has two parts kept apart, so backfill and stream never count the same event (see ``TileCuts``): what
/// `materialize` computed from the offline events (``TileOrigin/backfill``) and what the stream ingester added
/// (``TileOrigin/stream``). Lookups merge both.
public struct OnlineTile: Sendable, Hashable {
    /// The join key values, in the view's join key order.
    public var key: [OnlineValue]
    /// The hop and the tile's start, microseconds (the start is a multiple of the hop).
    public var hop: Int64
    /// The tile's start, microseconds since the epoch (a multiple of ``hop``).
    public var start: Int64
    /// The encoded partial aggregates.
    public var states: [UInt8]
    /// Which part of the tile this is.
    public var origin: TileOrigin

    /// The `origin` part of `key`'s tile of `hop` starting at `start` (microseconds), holding `states`.
    public init(key: [OnlineValue], hop: Int64, start: Int64, states: [UInt8], origin: TileOrigin = .backfill) {
        self.key = key
        self.hop = hop
        self.start = start
        self.states = states
        self.origin = origin
    }
}

/// Which part of a tile: the backfill's (written whole by `materialize`) or the stream's (merged into by the ingester);
/// or a roll-up standing for a run of backfill parts (``TileRollups``).
public enum TileOrigin: Int, Sendable, Hashable, Codable, CaseIterable {
    case backfill = 0
    case stream = 1
    /// The backfill parts of one entity's tiles of a hop over a whole roll-up span (an hour or a day) merged into one
    /// (``TileRollups``): its `start` is the span's, its `hop` the tiles'.
    case rollup = 2
}

/// Per-view statistics of the online store.
public struct OnlineViewStatistics: Sendable, Hashable, Codable {
    /// Entities stored (exact, or an estimate when ``approximate``).
    public var rows: Int
    /// The newest event time stored (microseconds), if any row is.
    public var newestEventTimestamp: Int64?
    /// Whether ``rows`` is an estimate (a networked store that would need a scan to count).
    public var approximate: Bool

    /// Statistics of a view: entities stored and the newest event time (microseconds).
    public init(rows: Int, newestEventTimestamp: Int64?, approximate: Bool = false) {
        self.rows = rows
        self.newestEventTimestamp = newestEventTimestamp
        self.approximate = approximate
    }

    enum CodingKeys: String, CodingKey { case rows, newestEventTimestamp, approximate }

    /// Decodes the statistics; an absent `approximate` is false.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rows = try c.decode(Int.self, forKey: .rows)
        newestEventTimestamp = try c.decodeIfPresent(Int64.self, forKey: .newestEventTimestamp)
        approximate = try c.decodeIfPresent(Bool.self, forKey: .approximate) ?? false
    }
}

/// Whether an online store can serve now.
public enum OnlineStoreHealth: Sendable, Hashable {
    case serving
    /// It cannot serve, and why (a node that refuses connections, a file that cannot be opened).
    case notServing(String)
}

/// The key-value store that serves features: the latest row per entity and view. The parts beyond it are protocols
/// of their own that a store may also implement: ``OnlineTileStore`` (the tiles of aggregated views) and
/// ``StreamCheckpointStore`` (exactly-once stream updates of tiles). A store with rows only serves every view that
/// is not aggregated; using an aggregated view with it is an error that says so.
///
/// Writes are event-time ordered: a row replaces what is stored only when its `(event_ts, created_ts, encoded row)` is
/// greater (``OnlineEncoding/replaces(event:created:row:stored:)``), so batch materialization, pushes and streams can race
/// on the same keys in any order and the same row wins. Every store passes
/// `OnlineStoreConformance` (target `FeatureStoreTesting`) for the parts it implements.
///
/// Calls are `async`: a networked store waits on the network without holding a thread; an embedded one does its
/// short work inline. A store that blocks (a C client) must do so off Swift's cooperative pool.
public protocol OnlineStore: Sendable {
    /// Opens connections and checks the store can serve; called once before use (default: nothing to do).
    func start() async throws(OnlineStoreError)
    /// Closes connections once calls in flight are done (default: nothing to do).
    func stop() async
    /// Whether the store can serve now (default: serving).
    func health() async -> OnlineStoreHealth
    /// Writes rows of a view's table; returns how many replaced or added a stored row (older rows are ignored). A
    /// batch is written whole or not at all.
    @discardableResult
    func write(_ rows: [OnlineRow], to table: OnlineTable) async throws(OnlineStoreError) -> Int
    /// Reads many entities of many views in one call: for each request, the stored row per key (nil where none).
    func read(_ requests: [OnlineReadRequest]) async throws(OnlineStoreError) -> [[StoredOnlineRow?]]
    /// Deletes every entity of a view (its tiles too, in a store that keeps them).
    func deleteAll(of table: OnlineTable) async throws(OnlineStoreError)
    /// Entity count and newest event time of a view. For an aggregated view, in a store that keeps tiles: entities
    /// with tiles and the newest tile's start.
    func statistics(of table: OnlineTable) async throws(OnlineStoreError) -> OnlineViewStatistics
    /// Whether the store holds anything of a view's table (rows or tiles). The default asks ``statistics(of:)``; a
    /// store whose statistics scan may answer from the first row.
    func holdsData(of table: OnlineTable) async throws(OnlineStoreError) -> Bool
    /// Drops stored data (rows, and tiles and cuts where kept) of views that no longer exist or whose schema changed;
    /// returns the names of those views, sorted.
    @discardableResult
    func dropStale(keeping tables: [OnlineTable]) async throws(OnlineStoreError) -> [String]
}

/// The part of a store that keeps the tiles of aggregated views (partial aggregates per entity, hop and start) and the
/// cuts between the backfill's and the stream's parts (see ``TileCuts``).
public protocol OnlineTileStore: OnlineStore {
    /// Writes tiles of an aggregated view, each replacing the stored tile of the same key, hop, start and origin; a
    /// batch is written whole or not at all. (Aggregated views keep tiles instead of a latest row;
    /// ``OnlineStore/write(_:to:)`` and ``OnlineStore/read(_:)`` are for the other views.)
    func writeTiles(_ tiles: [OnlineTile], to table: OnlineTable) async throws(OnlineStoreError)

    /// For each entity, its tiles (every origin, roll-ups too) of the hops in `from` whose start is at or after that
    /// hop's entry (hop -> first start), ordered by hop, then start, then origin.
    func readTiles(_ entities: [[OnlineValue]], of table: OnlineTable, from: [Int64: Int64]) async throws(OnlineStoreError) -> [[OnlineTile]]

    /// What ``readTiles(_:of:from:)`` returns for each plan's `from`, except that a store may leave out the tiles a
    /// roll-up stands for in the lookup (``TileReadPlan``): a lookup reads the fewer rows. The default reads them all.
    func readTiles(_ entities: [[OnlineValue]], of table: OnlineTable, plans: [Int64: TileReadPlan]) async throws(OnlineStoreError) -> [[OnlineTile]]

    /// Deletes the tiles of a view whose start is before `before[hop]` (hops not listed: none), of one origin or of
    /// every origin (nil: roll-ups too); returns how many. Used to expire old tiles and to hand tiles from the stream
    /// to the backfill.
    @discardableResult
    func deleteTiles(of table: OnlineTable, before: [Int64: Int64], origin: TileOrigin?) async throws(OnlineStoreError) -> Int

    /// The cuts of an aggregated view (hop -> event time; empty when none is set). See ``TileCuts``.
    func tileCuts(of table: OnlineTable) async throws(OnlineStoreError) -> [Int64: Int64]

    /// Sets the cuts of an aggregated view for the hops in `cuts` (with `onlyMissing`, only for hops that have none)
    /// and returns every cut stored after.
    @discardableResult
    func setTileCuts(_ cuts: [Int64: Int64], of table: OnlineTable, onlyMissing: Bool) async throws(OnlineStoreError) -> [Int64: Int64]
}

extension OnlineTileStore {
    /// Reads every tile from each plan's `from` (``readTiles(_:of:from:)``): correct for any store, as the lookup
    /// itself leaves out the tiles a roll-up stands for.
    public func readTiles(_ entities: [[OnlineValue]], of table: OnlineTable, plans: [Int64: TileReadPlan]) async throws(OnlineStoreError) -> [[OnlineTile]] {
        try await readTiles(entities, of: table, from: plans.mapValues(\.from))
    }
}

/// The part of a store that takes the stream's part of tiles exactly once: a batch's tiles and the stream positions
/// after it, in one transaction.
public protocol StreamCheckpointStore: OnlineTileStore {
    /// The stream positions a consumer recorded with ``applyStreamTiles(_:)``: per partition, the next offset whose
    /// event is not yet in any tile.
    func streamPositions(consumer: String) async throws(OnlineStoreError) -> [StreamPartition: Int64]

    /// Merges a stream batch into the stream part of its tiles and records its positions, in one transaction; or,
    /// when the store's positions or cuts are not the ones the batch was computed from (another ingester or a
    /// backfill moved them), changes nothing and says so.
    func applyStreamTiles(_ batch: StreamTileBatch) async throws(OnlineStoreError) -> StreamTileOutcome
}

extension OnlineStore {
    /// Whether ``statistics(of:)`` counts any entity.
    public func holdsData(of table: OnlineTable) async throws(OnlineStoreError) -> Bool {
        try await statistics(of: table).rows > 0
    }

    /// Nothing to open.
    public func start() async throws(OnlineStoreError) {}
    /// Nothing to close.
    public func stop() async {}
    /// Always serving.
    public func health() async -> OnlineStoreHealth { .serving }

    /// Reads many entities of one view.
    public func read(_ keys: [[OnlineValue]], from table: OnlineTable) async throws(OnlineStoreError) -> [StoredOnlineRow?] {
        try await read([OnlineReadRequest(table: table, keys: keys)])[0]
    }

    /// This store's tiles, or an error saying that `table`'s aggregated view cannot be kept in it.
    public func tiles(for table: OnlineTable) throws(OnlineStoreError) -> any OnlineTileStore {
        guard let tiles = self as? any OnlineTileStore else {
            throw OnlineStoreError("feature view '\(table.name)' is aggregated, and this online store (\(type(of: self))) keeps latest rows only, not the tiles aggregated views need")
        }
        return tiles
    }

    /// This store's stream checkpoints, or an error saying that stream updates of `table`'s aggregated view need them.
    public func checkpoints(for table: OnlineTable) throws(OnlineStoreError) -> any StreamCheckpointStore {
        guard let store = self as? any StreamCheckpointStore else {
            throw OnlineStoreError("feature view '\(table.name)' is aggregated and fed by a stream, and this online store (\(type(of: self))) does not record stream positions with its tiles (StreamCheckpointStore), which exactly-once updates need")
        }
        return store
    }
}

extension FeatureView {
    /// Identifies the shape of stored rows: join keys and features with their types (12 hex digits). Stores keep rows
    /// of each schema version apart, so values are never decoded with another schema.
    public func schemaVersion(keys: [JoinKey]) -> String {
        // An aggregated feature adds its recipe: another window, hop, function or n means other tiles.
        let text = keys.map { "\($0.name):\($0.type.rawValue)" }.joined(separator: ",") + "|"
            + features.map { "\($0.name):\($0.type)" + ($0.aggregation.map { "=\($0.summary)" } ?? "") }.joined(separator: ",")
            // Tiles: a backfill part and a stream part, one state per recipe, backfill parts ending with their coverage,
            // exact squares for variance (v4), roll-ups (v5): older servers cannot read them, so they live in tables
            // of their own.
            + (isAggregated ? "|tiles:5" : "")
        return String(CanonicalSpec.hash(text).prefix(12))
    }
}
