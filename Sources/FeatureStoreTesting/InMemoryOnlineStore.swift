public import FeatureStoreCore
public import Foundation
import Synchronization

/// An online store in memory, for tests that need a store but not a real one (and as the smallest example of a
/// store kind: a type that keeps rows, a kind that reads its settings, a ``FeatureStoreCore/Kinds`` value).
///
/// It keeps the latest row per view, schema version and entity key with the same event-time ordering as every store,
/// and passes ``OnlineStoreConformance``. Its contents live as long as the process (one shared space per `name`).
public final class InMemoryOnlineStore: StreamCheckpointStore {
    private struct TableKey: Hashable { let view: String; let schema: String }
    private let tables = Mutex<[TableKey: [[UInt8]: StoredOnlineRow]]>([:])
    private struct TileKey: Hashable { let key: [UInt8]; let hop: Int64; let start: Int64; let origin: TileOrigin }
    private let tileTables = Mutex<[TableKey: [TileKey: OnlineTile]]>([:])
    /// Cuts per tile table and hop; stream positions per consumer.
    private let cuts = Mutex<[TableKey: [Int64: Int64]]>([:])
    private let positions = Mutex<[String: [StreamPartition: Int64]]>([:])
    private let state = Mutex<(health: OnlineStoreHealth, starts: Int, stops: Int)>((.serving, 0, 0))

    /// An empty store (``InMemoryOnlineStoreKind`` shares one per `name`).
    public init() {}

    /// Sets what ``health()`` answers, to test how a server reacts to a store that cannot serve.
    public func setHealth(_ health: OnlineStoreHealth) {
        state.withLock { $0.health = health }
    }

    /// How many times the store was started and stopped.
    public var lifecycleCalls: (starts: Int, stops: Int) {
        state.withLock { ($0.starts, $0.stops) }
    }

    /// Counts the start (see ``lifecycleCalls``); see ``OnlineStore/start()``.
    public func start() async throws(OnlineStoreError) {
        state.withLock { $0.starts += 1 }
    }

    /// Counts the stop (see ``lifecycleCalls``); the contents stay; see ``OnlineStore/stop()``.
    public func stop() async {
        state.withLock { $0.stops += 1 }
    }

    /// What ``setHealth(_:)`` last set (serving at first); see ``OnlineStore/health()``.
    public func health() async -> OnlineStoreHealth {
        state.withLock { $0.health }
    }

    private static func table(_ online: OnlineTable) -> TableKey {
        TableKey(view: online.name, schema: online.schemaVersion)
    }

    /// Replaces only older stored rows, under one lock; see ``OnlineStore/write(_:to:)``.
    public func write(_ rows: [OnlineRow], to online: OnlineTable) async throws(OnlineStoreError) -> Int {
        let view = online.view, keys = online.joinKeys
        guard !view.isAggregated else { throw OnlineStoreError("feature view '\(view.name)' is aggregated: it keeps tiles (writeTiles), not rows") }
        var encoded: [([UInt8], StoredOnlineRow)] = []
        for (i, row) in rows.enumerated() {
            guard row.key.count == keys.count, row.values.count == view.features.count else {
                throw OnlineStoreError("row \(i) for view '\(view.name)' has \(row.key.count) key values and \(row.values.count) values; the view has \(keys.count) join keys and \(view.features.count) features")
            }
            encoded.append((try OnlineEncoding.encodeKey(row.key),
                            StoredOnlineRow(eventTimestamp: row.eventTimestamp, createdTimestamp: row.createdTimestamp, values: row.values)))
        }
        let name = Self.table(online)
        return tables.withLock { tables in
            var table = tables[name] ?? [:]
            var changed = 0
            for (key, row) in encoded {
                if let current = table[key],
                   !OnlineEncoding.replaces(event: row.eventTimestamp, created: row.createdTimestamp, row: OnlineEncoding.encodeRow(row.values),
                                            stored: (current.eventTimestamp, current.createdTimestamp, OnlineEncoding.encodeRow(current.values))) { continue }
                table[key] = row
                changed += 1
            }
            tables[name] = table
            return changed
        }
    }

    /// Reads every request under one lock; see ``OnlineStore/read(_:)``.
    public func read(_ requests: [OnlineReadRequest]) async throws(OnlineStoreError) -> [[StoredOnlineRow?]] {
        var keys: [[[UInt8]]] = []
        for request in requests { keys.append(try request.keys.map { k throws(OnlineStoreError) in try OnlineEncoding.encodeKey(k) }) }
        return tables.withLock { tables in
            zip(requests, keys).map { request, keys in
                let table = tables[Self.table(request.table)]
                return keys.map { table?[$0] }
            }
        }
    }

    /// Empties the view's rows and tiles; see ``OnlineStore/deleteAll(of:)``.
    public func deleteAll(of online: OnlineTable) async throws(OnlineStoreError) {
        tables.withLock { $0[Self.table(online)] = [:] }
        tileTables.withLock { $0[Self.table(online)] = [:] }
    }

    /// Exact counts; see ``OnlineStore/statistics(of:)``.
    public func statistics(of online: OnlineTable) async throws(OnlineStoreError) -> OnlineViewStatistics {
        let view = online.view
        if view.isAggregated {
            let tiles = tileTables.withLock { $0[Self.table(online)] ?? [:] }
            return OnlineViewStatistics(rows: Set(tiles.keys.map(\.key)).count, newestEventTimestamp: tiles.keys.map(\.start).max())
        }
        return tables.withLock { tables in
            let table = tables[Self.table(online)] ?? [:]
            return OnlineViewStatistics(rows: table.count, newestEventTimestamp: table.values.map(\.eventTimestamp).max())
        }
    }

    /// Drops the rows, tiles and cuts of other views and schema versions; see ``OnlineStore/dropStale(keeping:)``.
    public func dropStale(keeping kept: [OnlineTable]) async throws(OnlineStoreError) -> [String] {
        let keep = Set(kept.map(Self.table))
        let staleTiles = tileTables.withLock { tables in
            let stale = tables.keys.filter { !keep.contains($0) }
            for key in stale { tables[key] = nil }
            return stale.map(\.view)
        }
        cuts.withLock { cuts in for key in cuts.keys where !keep.contains(key) { cuts[key] = nil } }
        return tables.withLock { tables in
            let stale = tables.keys.filter { !keep.contains($0) }
            for key in stale { tables[key] = nil }
            return Array(Set(stale.map(\.view) + staleTiles)).sorted()
        }
    }

    /// Replaces the tiles under one lock; see ``OnlineTileStore/writeTiles(_:to:)``.
    public func writeTiles(_ tiles: [OnlineTile], to online: OnlineTable) async throws(OnlineStoreError) {
        let view = online.view, keys = online.joinKeys
        guard view.isAggregated else { throw OnlineStoreError("feature view '\(view.name)' is not aggregated: it keeps rows, not tiles") }
        var encoded: [(TileKey, OnlineTile)] = []
        for (i, tile) in tiles.enumerated() {
            guard tile.key.count == keys.count else {
                throw OnlineStoreError("tile \(i) for view '\(view.name)' has \(tile.key.count) key values, the view has \(keys.count) join keys")
            }
            encoded.append((TileKey(key: try OnlineEncoding.encodeKey(tile.key), hop: tile.hop, start: tile.start, origin: tile.origin), tile))
        }
        let name = Self.table(online)
        tileTables.withLock { tables in
            for (key, tile) in encoded { tables[name, default: [:]][key] = tile }
        }
    }

    /// The view's stored tiles, per entity; see ``OnlineTileStore/readTiles(_:of:from:)``.
    public func readTiles(_ entities: [[OnlineValue]], of online: OnlineTable, from: [Int64: Int64]) async throws(OnlineStoreError) -> [[OnlineTile]] {
        let keys = try entities.map { k throws(OnlineStoreError) in try OnlineEncoding.encodeKey(k) }
        let table = tileTables.withLock { $0[Self.table(online)] ?? [:] }
        return zip(keys, entities).map { key, values in
            table.filter { entry in entry.key.key == key && from[entry.key.hop].map { entry.key.start >= $0 } ?? false }
                .sorted { ($0.key.hop, $0.key.start, $0.key.origin.rawValue) < ($1.key.hop, $1.key.start, $1.key.origin.rawValue) }
                .map { OnlineTile(key: values, hop: $0.key.hop, start: $0.key.start, states: $0.value.states, origin: $0.key.origin) }
        }
    }

    /// Deletes the tiles under one lock; see ``OnlineTileStore/deleteTiles(of:before:origin:)``.
    public func deleteTiles(of online: OnlineTable, before: [Int64: Int64], origin: TileOrigin?) async throws(OnlineStoreError) -> Int {
        let view = online.view
        guard view.isAggregated else { throw OnlineStoreError("feature view '\(view.name)' is not aggregated: it keeps rows, not tiles") }
        let name = Self.table(online)
        return tileTables.withLock { tables in
            let doomed = (tables[name] ?? [:]).keys.filter { key in
                guard let limit = before[key.hop] else { return false }
                return key.start < limit && (origin == nil || key.origin == origin)
            }
            for key in doomed { tables[name]?[key] = nil }
            return doomed.count
        }
    }

    /// The view's cuts; see ``OnlineTileStore/tileCuts(of:)``.
    public func tileCuts(of online: OnlineTable) async throws(OnlineStoreError) -> [Int64: Int64] {
        cuts.withLock { $0[Self.table(online)] ?? [:] }
    }

    /// Sets the cuts under one lock; see ``OnlineTileStore/setTileCuts(_:of:onlyMissing:)``.
    public func setTileCuts(_ new: [Int64: Int64], of online: OnlineTable, onlyMissing: Bool) async throws(OnlineStoreError) -> [Int64: Int64] {
        let view = online.view
        guard view.isAggregated else { throw OnlineStoreError("feature view '\(view.name)' is not aggregated: it has no tiles to cut") }
        let name = Self.table(online)
        return cuts.withLock { cuts in
            for (hop, cut) in new where !onlyMissing || cuts[name]?[hop] == nil { cuts[name, default: [:]][hop] = cut }
            return cuts[name] ?? [:]
        }
    }

    /// The consumer's positions; see ``StreamCheckpointStore/streamPositions(consumer:)``.
    public func streamPositions(consumer: String) async throws(OnlineStoreError) -> [StreamPartition: Int64] {
        positions.withLock { $0[consumer] ?? [:] }
    }

    /// Checks and merges the batch while holding the positions, cuts and tiles locks; see
    /// ``StreamCheckpointStore/applyStreamTiles(_:)``.
    public func applyStreamTiles(_ batch: StreamTileBatch) async throws(OnlineStoreError) -> StreamTileOutcome {
        var encoded: [[(TileKey, OnlineTile)]] = []
        for update in batch.updates {
            guard update.view.isAggregated else { throw OnlineStoreError("feature view '\(update.view.name)' is not aggregated: it has no tiles") }
            var tiles: [(TileKey, OnlineTile)] = []
            for (i, tile) in update.tiles.enumerated() {
                guard tile.key.count == update.joinKeys.count else {
                    throw OnlineStoreError("tile \(i) for view '\(update.view.name)' has \(tile.key.count) key values, the view has \(update.joinKeys.count) join keys")
                }
                tiles.append((TileKey(key: try OnlineEncoding.encodeKey(tile.key), hop: tile.hop, start: tile.start, origin: .stream), tile))
            }
            encoded.append(tiles)
        }
        // One lock order (positions, cuts, tiles) held across check and writes: the batch is atomic.
        return try positions.withLock { positions throws(OnlineStoreError) -> StreamTileOutcome in
            try cuts.withLock { cuts throws(OnlineStoreError) -> StreamTileOutcome in
                if let conflict = batch.conflict(positions: positions[batch.consumer] ?? [:], cuts: { cuts[Self.table($0.table)] ?? [:] }) {
                    return .conflict(conflict)
                }
                try tileTables.withLock { tables throws(OnlineStoreError) in
                    var merged: [TableKey: [TileKey: OnlineTile]] = [:]
                    for (update, tiles) in zip(batch.updates, encoded) {
                        let name = Self.table(update.table)
                        var table = merged[name] ?? tables[name] ?? [:]
                        for (key, tile) in tiles {
                            var stored = tile
                            stored.origin = .stream
                            if let current = table[key] {
                                stored.states = try TileStates.merge(current.states, tile.states, view: update.view, hop: tile.hop)
                            }
                            table[key] = stored
                        }
                        merged[name] = table
                    }
                    for (name, table) in merged { tables[name] = table }
                }
                for (partition, next) in batch.next { positions[batch.consumer, default: [:]][partition] = next }
                return .applied
            }
        }
    }
}

/// `online_store: {kind: memory, name: NAME}`: an ``InMemoryOnlineStore``; repositories naming the same `name` share
/// one store for the life of the process.
public struct InMemoryOnlineStoreKind: OnlineStoreKind {
    /// `memory`.
    public let name = "memory"
    private static let stores = Mutex<[String: InMemoryOnlineStore]>([:])

    /// The kind (tests add ``FeatureStoreCore/Kinds/inMemory`` to their kinds).
    public init() {}

    /// Allows `name` only; see ``OnlineStoreKind/validate(_:)``.
    public func validate(_ settings: inout StoreSettings) {
        settings.rejectUnknown(allowing: ["name"])
    }

    /// The process-wide store of `name` (default: the repository's path), made on first use; see
    /// ``OnlineStoreKind/open(_:repository:)``.
    public func open(_ settings: StoreSettings, repository: URL) throws(OnlineStoreError) -> any OnlineStore {
        let name = settings.values["name"] ?? repository.path
        return Self.stores.withLock { stores in
            if let store = stores[name] { return store }
            let store = InMemoryOnlineStore()
            stores[name] = store
            return store
        }
    }
}

extension Kinds {
    /// The in-memory online store (kind `memory`), for tests.
    public static let inMemory = Kinds(onlineStores: [InMemoryOnlineStoreKind()])
}
