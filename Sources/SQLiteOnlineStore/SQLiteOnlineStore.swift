public import FeatureStoreCore
import FeatureComputation
import Foundation
import SQLite
import Synchronization

/// A connection used by one task at a time: the pool hands it out and takes it back.
final class PooledConnection: @unchecked Sendable {
    // Only used while checked out of its pool (exclusive), never concurrently.
    let connection: Connection
    private var statements: [String: Statement] = [:]

    init(_ connection: Connection) {
        self.connection = connection
    }

    /// A prepared statement, cached for reuse.
    func statement(_ sql: String) throws(SQLiteError) -> Statement {
        if let s = statements[sql] { return s }
        let s = try connection.prepare(sql)
        statements[sql] = s
        return s
    }

    func forget() {
        statements.removeAll()
    }
}

/// The embedded online store: SQLite in WAL mode, one table per feature view and schema version, one row per entity
/// holding the whole feature row in a compact binary encoding, with `event_ts` and `created_ts`.
///
/// One writer connection (writes are serialised), a pool of reader connections (reads run in parallel with
/// each other and with the writer, as WAL allows). Prepared statements are reused.
public final class SQLiteOnlineStore: StreamCheckpointStore {
    /// The path of the database file.
    public let path: String
    private let writer: Mutex<PooledConnection>
    private let readers: Mutex<[PooledConnection]>
    private let readerCount: Int

    /// Opens the database at `path` in WAL mode, creating the file and its folder if needed; up to `readers` reader
    /// connections are kept open for reuse (more are opened while lookups need them).
    ///
    /// - Throws: ``OnlineStoreError`` `unavailable` when the database cannot be created or opened.
    public init(path: String, readers: Int = 4) throws(OnlineStoreError) {
        self.path = path
        self.readerCount = readers
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let w = try Connection(path: path)
            // The stream merges its partial aggregates into a stored tile inside SQLite, in one upsert.
            try w.defineBlobFunction("merge_tile_states", arguments: 2) { arguments in
                guard let stored = arguments[0], let added = arguments[1] else { throw OnlineStoreError(.corrupt, "a null tile") }
                return try AggregateState.merge(encoded: stored, added)
            }
            try w.execute("""
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
                CREATE TABLE IF NOT EXISTS online_tables (
                    table_name TEXT PRIMARY KEY, view TEXT NOT NULL, schema_version TEXT NOT NULL, created_at REAL NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS tile_cuts (
                    table_name TEXT NOT NULL, hop INTEGER NOT NULL, cut INTEGER NOT NULL, PRIMARY KEY (table_name, hop)
                ) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS stream_positions (
                    consumer TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
                    PRIMARY KEY (consumer, topic, partition)
                ) WITHOUT ROWID;
                """)
            writer = Mutex(PooledConnection(w))
            self.readers = Mutex([])
        } catch {
            throw OnlineStoreError(.unavailable, "cannot open the online store \(path)", cause: error)
        }
    }

    private func withReader<T>(_ body: (PooledConnection) throws -> T) throws(OnlineStoreError) -> T {
        let pooled: PooledConnection
        do {
            if let c = readers.withLock({ $0.popLast() }) {
                pooled = c
            } else {
                let c = try Connection(path: path, mode: .readWrite)
                // Pages are read through a memory map (no read() call per page) and kept in a larger cache.
                try c.execute("PRAGMA query_only = ON; PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -65536;")
                pooled = PooledConnection(c)
            }
        } catch {
            throw OnlineStoreError(.unavailable, "cannot open a reader on \(path)", cause: error)
        }
        defer {
            readers.withLock { pool in if pool.count < readerCount { pool.append(pooled) } }
        }
        do {
            return try body(pooled)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// `body` on a pooled reader inside one read transaction (one snapshot, file locks taken once).
    private func withReadTransaction<T>(_ body: (PooledConnection) throws -> T) throws(OnlineStoreError) -> T {
        try withReader { c in
            let begin = try c.statement("BEGIN"), commit = try c.statement("COMMIT")
            _ = try begin.step()
            begin.reset()
            defer {
                if (try? commit.step()) == nil { try? c.connection.execute("ROLLBACK") }
                commit.reset()
            }
            return try body(c)
        }
    }

    private func withWriter<T>(_ body: (PooledConnection) throws -> T) throws(OnlineStoreError) -> T {
        do {
            return try writer.withLock { try body($0) }
        } catch {
            throw Self.storeError(error)
        }
    }

    /// A failure inside a store call, with SQLite's error kept as the cause.
    private static func storeError(_ error: any Error) -> OnlineStoreError {
        if let error = error as? OnlineStoreError { return error }
        return OnlineStoreError(.failed, "", cause: error)
    }

    private static func quoted(_ name: String) -> String { "\"\(name)\"" }

    /// Creates the view's table if needed (the writer only).
    private func ensureTable(_ online: OnlineTable, on c: PooledConnection) throws {
        let view = online.view, table = online.sqlTableName
        let exists = try c.statement("SELECT 1 FROM online_tables WHERE table_name = ?").rows([.text(table)])
        if !exists.isEmpty { return }
        // An aggregated view keeps tiles (partial aggregates per entity, hop, tile start and origin: backfill or
        // stream), indexed by start too so that expiry does not scan; the others keep the latest row.
        try c.connection.execute(view.isAggregated ? """
            CREATE TABLE IF NOT EXISTS \(Self.quoted(table)) (
                entity_key BLOB NOT NULL, hop INTEGER NOT NULL, tile INTEGER NOT NULL, origin INTEGER NOT NULL, state BLOB NOT NULL,
                PRIMARY KEY (entity_key, hop, tile, origin)
            ) WITHOUT ROWID;

            """ : """
            CREATE TABLE IF NOT EXISTS \(Self.quoted(table)) (
                entity_key BLOB PRIMARY KEY, event_ts INTEGER NOT NULL, created_ts INTEGER NOT NULL, value BLOB NOT NULL
            ) WITHOUT ROWID;
            """)
        try c.statement("INSERT OR IGNORE INTO online_tables (table_name, view, schema_version, created_at) VALUES (?, ?, ?, ?)")
            .run([.text(table), .text(view.name), .text(online.schemaVersion), .real(Date().timeIntervalSince1970)])
    }

    /// Upserts the rows in one SQLite transaction, replacing only older stored rows; see
    /// ``OnlineStore/write(_:to:)``.
    @discardableResult
    public func write(_ rows: [OnlineRow], to online: OnlineTable) async throws(OnlineStoreError) -> Int {
        let view = online.view, keys = online.joinKeys
        guard !rows.isEmpty else { return 0 }
        guard !view.isAggregated else { throw OnlineStoreError("feature view '\(view.name)' is aggregated: it keeps tiles (writeTiles), not rows") }
        for (i, row) in rows.enumerated() {
            guard row.key.count == keys.count else {
                throw OnlineStoreError("row \(i) for view '\(view.name)' has \(row.key.count) key values, the view has \(keys.count) join keys")
            }
            guard row.values.count == view.features.count else {
                throw OnlineStoreError("row \(i) for view '\(view.name)' has \(row.values.count) values, the view has \(view.features.count) features")
            }
        }
        let table = Self.quoted(online.sqlTableName)
        return try withWriter { c in
            try ensureTable(online, on: c)
            let upsert = try c.statement("""
                INSERT INTO \(table) (entity_key, event_ts, created_ts, value) VALUES (?, ?, ?, ?)
                ON CONFLICT (entity_key) DO UPDATE SET
                    event_ts = excluded.event_ts, created_ts = excluded.created_ts, value = excluded.value
                WHERE (excluded.event_ts, excluded.created_ts, excluded.value) > (event_ts, created_ts, value)
                """)
            return try c.connection.transaction {
                var changed = 0
                for row in rows {
                    let key = try OnlineEncoding.encodeKey(row.key)
                    try upsert.run([.blob(key), .integer(row.eventTimestamp), .integer(row.createdTimestamp),
                                    .blob(OnlineEncoding.encodeRow(row.values))])
                    changed += c.connection.changes
                }
                return changed
            }
        }
    }

    /// Reads every request on one pooled reader in one read transaction (one snapshot); see ``OnlineStore/read(_:)``.
    public func read(_ requests: [OnlineReadRequest]) async throws(OnlineStoreError) -> [[StoredOnlineRow?]] {
        if let view = requests.first(where: { $0.view.isAggregated })?.view {
            throw OnlineStoreError("feature view '\(view.name)' is aggregated: read its tiles (readTiles), not rows")
        }
        var encoded: [[[UInt8]]] = []
        for request in requests {
            encoded.append(try request.keys.map { k throws(OnlineStoreError) in try OnlineEncoding.encodeKey(k) })
        }
        // One reader and one read transaction for the whole lookup: every view is read from the same snapshot, and
        // the file locks SQLite takes per transaction are taken once, not once per key.
        return try withReadTransaction { c in
            var out: [[StoredOnlineRow?]] = []
            for (request, keys) in zip(requests, encoded) {
                let tableName = request.table.sqlTableName
                let known = try c.statement("SELECT 1 FROM online_tables WHERE table_name = ?").rows([.text(tableName)])
                if known.isEmpty {
                    out.append(Array(repeating: nil, count: keys.count))
                    continue
                }
                let select = try c.statement("SELECT event_ts, created_ts, value FROM \(Self.quoted(tableName)) WHERE entity_key = ?")
                var rows: [StoredOnlineRow?] = []
                rows.reserveCapacity(keys.count)
                for key in keys {
                    try select.bind([.blob(key)])
                    defer { select.reset() }
                    if try select.step() {
                        let values = try OnlineEncoding.decodeRow(select.blob(at: 2), count: request.view.features.count)
                        rows.append(StoredOnlineRow(eventTimestamp: select.int64(at: 0), createdTimestamp: select.int64(at: 1), values: values))
                    } else {
                        rows.append(nil)
                    }
                }
                out.append(rows)
            }
            return out
        }
    }

    /// Deletes every row (or tile) of the view's table; see ``OnlineStore/deleteAll(of:)``.
    public func deleteAll(of online: OnlineTable) async throws(OnlineStoreError) {
        let table = online.sqlTableName
        try withWriter { c in
            try ensureTable(online, on: c)
            try c.connection.execute("DELETE FROM \(Self.quoted(table))")
        }
    }

    /// Exact counts, from the view's table; see ``OnlineStore/statistics(of:)``.
    public func statistics(of online: OnlineTable) async throws(OnlineStoreError) -> OnlineViewStatistics {
        let view = online.view, table = online.sqlTableName
        return try withReader { c in
            let known = try c.statement("SELECT 1 FROM online_tables WHERE table_name = ?").rows([.text(table)])
            if known.isEmpty { return OnlineViewStatistics(rows: 0, newestEventTimestamp: nil) }
            let sql = view.isAggregated ? "SELECT count(DISTINCT entity_key), max(tile) FROM \(Self.quoted(table))"
                : "SELECT count(*), max(event_ts) FROM \(Self.quoted(table))"
            let row = try c.connection.prepare(sql).rows().first
            return OnlineViewStatistics(rows: Int(row?[0].intValue ?? 0), newestEventTimestamp: row?[1].intValue)
        }
    }

    /// Whether the view's table exists and has a row, from its first row (no scan); see ``OnlineStore/holdsData(of:)``.
    public func holdsData(of online: OnlineTable) async throws(OnlineStoreError) -> Bool {
        let table = online.sqlTableName
        return try withReader { c in
            let known = try c.statement("SELECT 1 FROM online_tables WHERE table_name = ?").rows([.text(table)])
            if known.isEmpty { return false }
            return try !c.connection.prepare("SELECT 1 FROM \(Self.quoted(table)) LIMIT 1").rows().isEmpty
        }
    }

    /// Drops the tables and tile cuts of other views and schema versions in one transaction; see
    /// ``OnlineStore/dropStale(keeping:)``.
    @discardableResult
    public func dropStale(keeping tables: [OnlineTable]) async throws(OnlineStoreError) -> [String] {
        let keep = Set(tables.map(\.sqlTableName))
        let dropped: [(table: String, view: String)] = try withWriter { c in
            let all = try c.statement("SELECT table_name, view FROM online_tables").rows().compactMap { row -> (String, String)? in
                guard let table = row.first?.stringValue else { return nil }
                return (table, row.count > 1 ? row[1].stringValue ?? table : table)
            }
            let stale = all.filter { !keep.contains($0.0) }
            try c.connection.transaction {
                for (table, _) in stale {
                    try c.connection.execute("DROP TABLE IF EXISTS \(Self.quoted(table))")
                    try c.statement("DELETE FROM online_tables WHERE table_name = ?").run([.text(table)])
                    try c.statement("DELETE FROM tile_cuts WHERE table_name = ?").run([.text(table)])
                }
            }
            c.forget()
            return stale.map { (table: $0.0, view: $0.1) }
        }
        if !dropped.isEmpty {
            // Readers may hold statements on dropped tables.
            readers.withLock { pool in pool.forEach { $0.forget() } }
        }
        return Array(Set(dropped.map(\.view))).sorted()
    }
}

extension SQLiteOnlineStore {
    /// Replaces the tiles in one SQLite transaction; see ``OnlineTileStore/writeTiles(_:to:)``.
    public func writeTiles(_ tiles: [OnlineTile], to online: OnlineTable) async throws(OnlineStoreError) {
        let view = online.view, keys = online.joinKeys
        guard view.isAggregated else { throw OnlineStoreError("feature view '\(view.name)' is not aggregated: it keeps rows, not tiles") }
        guard !tiles.isEmpty else { return }
        for (i, tile) in tiles.enumerated() where tile.key.count != keys.count {
            throw OnlineStoreError("tile \(i) for view '\(view.name)' has \(tile.key.count) key values, the view has \(keys.count) join keys")
        }
        let table = Self.quoted(online.sqlTableName)
        try withWriter { c in
            try ensureTable(online, on: c)
            let upsert = try c.statement("INSERT OR REPLACE INTO \(table) (entity_key, hop, tile, origin, state) VALUES (?, ?, ?, ?, ?)")
            try c.connection.transaction {
                for tile in tiles {
                    try upsert.run([.blob(try OnlineEncoding.encodeKey(tile.key)), .integer(Self.storedHop(tile.hop, origin: tile.origin)),
                                    .integer(tile.start), .integer(Int64(tile.origin.rawValue)), .blob(tile.states)])
                }
            }
        }
    }

    /// The `hop` column of a tile: its hop, negated for a roll-up, so that an entity's roll-ups of a hop form an
    /// index range of their own (read apart from the tiles they stand for).
    static func storedHop(_ hop: Int64, origin: TileOrigin) -> Int64 { origin == .rollup ? -hop : hop }

    /// Reads the tiles in one read transaction (one snapshot); see ``OnlineTileStore/readTiles(_:of:from:)``.
    public func readTiles(_ entities: [[OnlineValue]], of online: OnlineTable, from: [Int64: Int64]) async throws(OnlineStoreError) -> [[OnlineTile]] {
        try await readTiles(entities, of: online, plans: from.mapValues { TileReadPlan(from: $0, span: nil, until: Int64.min, windowStarts: []) })
    }

    /// Reads the tiles in one read transaction (one snapshot), per entity and hop: its roll-ups, then only the index
    /// ranges of tiles no complete roll-up stands for; see ``OnlineTileStore/readTiles(_:of:plans:)``.
    public func readTiles(_ entities: [[OnlineValue]], of online: OnlineTable, plans: [Int64: TileReadPlan]) async throws(OnlineStoreError) -> [[OnlineTile]] {
        let encoded = try entities.map { k throws(OnlineStoreError) in try OnlineEncoding.encodeKey(k) }
        let tableName = online.sqlTableName
        let hops = plans.sorted { $0.key < $1.key }
        return try withReadTransaction { c in
            let known = try c.statement("SELECT 1 FROM online_tables WHERE table_name = ?").rows([.text(tableName)])
            if known.isEmpty { return entities.map { _ in [] } }
            // Index ranges (the primary key starts with entity, hop, tile).
            let select = try c.statement("SELECT tile, origin, state FROM \(Self.quoted(tableName)) WHERE entity_key = ? AND hop = ? AND tile >= ? AND tile <= ? ORDER BY tile, origin")
            func read(_ key: [UInt8], _ values: [OnlineValue], hop: Int64, rollups: Bool, _ range: ClosedRange<Int64>, into tiles: inout [OnlineTile]) throws {
                try select.bind([.blob(key), .integer(Self.storedHop(hop, origin: rollups ? .rollup : .backfill)), .integer(range.lowerBound), .integer(range.upperBound)])
                defer { select.reset() }
                while try select.step() {
                    let origin = select.int64(at: 1)
                    guard let origin = TileOrigin(rawValue: Int(truncatingIfNeeded: origin)), (origin == .rollup) == rollups else {
                        throw OnlineStoreError(.corrupt, "a tile of '\(online.view.name)' has origin \(origin)")
                    }
                    tiles.append(OnlineTile(key: values, hop: hop, start: select.int64(at: 0), states: select.blob(at: 2), origin: origin))
                }
            }
            var out: [[OnlineTile]] = []
            out.reserveCapacity(entities.count)
            for (key, values) in zip(encoded, entities) {
                var tiles: [OnlineTile] = []
                for (hop, plan) in hops {
                    let first = tiles.count
                    var rollups: [OnlineTile] = []
                    try read(key, values, hop: hop, rollups: true, plan.from...Int64.max, into: &rollups)
                    // The tiles between the spans that complete roll-ups stand for in this lookup.
                    var next: Int64? = plan.from
                    if let span = plan.span {
                        for rollup in rollups where TileRollups.isComplete(rollup, span: span) {
                            let omitted = plan.omitted(rollup: rollup.start)
                            guard let from = next, !omitted.isEmpty, omitted.upperBound > from else { continue }
                            if from < omitted.lowerBound { try read(key, values, hop: hop, rollups: false, from...(omitted.lowerBound - 1), into: &tiles) }
                            next = omitted.upperBound
                        }
                    }
                    if let from = next { try read(key, values, hop: hop, rollups: false, from...Int64.max, into: &tiles) }
                    tiles += rollups
                    tiles[first...].sort { ($0.start, $0.origin.rawValue) < ($1.start, $1.origin.rawValue) }
                }
                out.append(tiles)
            }
            return out
        }
    }
}

extension SQLiteOnlineStore {
    /// Deletes the tiles in one SQLite transaction; see ``OnlineTileStore/deleteTiles(of:before:origin:)``.
    public func deleteTiles(of online: OnlineTable, before: [Int64: Int64], origin: TileOrigin?) async throws(OnlineStoreError) -> Int {
        let view = online.view
        guard view.isAggregated else { throw OnlineStoreError("feature view '\(view.name)' is not aggregated: it keeps rows, not tiles") }
        let table = online.sqlTableName
        return try withWriter { c in
            try ensureTable(online, on: c)
            let delete = try c.statement("DELETE FROM \(Self.quoted(table)) WHERE hop = ? AND tile < ? AND (? < 0 OR origin = ?)")
            let which = Int64(origin?.rawValue ?? -1)
            // Roll-ups live under the negated hop.
            let stored: [TileOrigin] = origin.map { [$0] } ?? [.backfill, .rollup]
            return try c.connection.transaction {
                var deleted = 0
                for (hop, start) in before.sorted(by: { $0.key < $1.key }) {
                    for hop in Set(stored.map { Self.storedHop(hop, origin: $0) }).sorted() {
                        try delete.run([.integer(hop), .integer(start), .integer(which), .integer(which)])
                        deleted += c.connection.changes
                    }
                }
                return deleted
            }
        }
    }

    /// Reads the view's cuts from the `tile_cuts` table; see ``OnlineTileStore/tileCuts(of:)``.
    public func tileCuts(of online: OnlineTable) async throws(OnlineStoreError) -> [Int64: Int64] {
        let table = online.sqlTableName
        return try withReader { c in try Self.cuts(table, on: c) }
    }

    private static func cuts(_ table: String, on c: PooledConnection) throws -> [Int64: Int64] {
        var out: [Int64: Int64] = [:]
        for row in try c.statement("SELECT hop, cut FROM tile_cuts WHERE table_name = ?").rows([.text(table)]) {
            if let hop = row[0].intValue, let cut = row[1].intValue { out[hop] = cut }
        }
        return out
    }

    /// Sets the cuts in one SQLite transaction; see ``OnlineTileStore/setTileCuts(_:of:onlyMissing:)``.
    public func setTileCuts(_ cuts: [Int64: Int64], of online: OnlineTable, onlyMissing: Bool) async throws(OnlineStoreError) -> [Int64: Int64] {
        let view = online.view
        guard view.isAggregated else { throw OnlineStoreError("feature view '\(view.name)' is not aggregated: it has no tiles to cut") }
        let table = online.sqlTableName
        return try withWriter { c in
            try ensureTable(online, on: c)
            let set = try c.statement(onlyMissing ? "INSERT OR IGNORE INTO tile_cuts (table_name, hop, cut) VALUES (?, ?, ?)"
                                      : "INSERT OR REPLACE INTO tile_cuts (table_name, hop, cut) VALUES (?, ?, ?)")
            return try c.connection.transaction {
                for (hop, cut) in cuts { try set.run([.text(table), .integer(hop), .integer(cut)]) }
                return try Self.cuts(table, on: c)
            }
        }
    }

    /// Reads the consumer's positions from the `stream_positions` table; see
    /// ``StreamCheckpointStore/streamPositions(consumer:)``.
    public func streamPositions(consumer: String) async throws(OnlineStoreError) -> [StreamPartition: Int64] {
        try withReader { c in try Self.positions(consumer, on: c) }
    }

    private static func positions(_ consumer: String, on c: PooledConnection) throws -> [StreamPartition: Int64] {
        var out: [StreamPartition: Int64] = [:]
        for row in try c.statement("SELECT topic, partition, next_offset FROM stream_positions WHERE consumer = ?").rows([.text(consumer)]) {
            if let topic = row[0].stringValue, let partition = row[1].intValue, let next = row[2].intValue {
                out[StreamPartition(topic, Int32(truncatingIfNeeded: partition))] = next
            }
        }
        return out
    }

    /// Checks the positions and cuts and merges the tiles in one SQLite write transaction; see
    /// ``StreamCheckpointStore/applyStreamTiles(_:)``.
    public func applyStreamTiles(_ batch: StreamTileBatch) async throws(OnlineStoreError) -> StreamTileOutcome {
        for update in batch.updates {
            guard update.view.isAggregated else { throw OnlineStoreError("feature view '\(update.view.name)' is not aggregated: it has no tiles") }
            for (i, tile) in update.tiles.enumerated() where tile.key.count != update.joinKeys.count {
                throw OnlineStoreError("tile \(i) for view '\(update.view.name)' has \(tile.key.count) key values, the view has \(update.joinKeys.count) join keys")
            }
        }
        return try withWriter { c in
            for update in batch.updates { try ensureTable(update.table, on: c) }
            return try c.connection.transaction { () throws -> StreamTileOutcome in
                // The check and the writes in one write transaction: nobody moves positions or cuts in between.
                let positions = try Self.positions(batch.consumer, on: c)
                var cutsOf: [String: [Int64: Int64]] = [:]
                for update in batch.updates {
                    let table = update.table.sqlTableName
                    cutsOf[table] = try Self.cuts(table, on: c)
                }
                if let conflict = batch.conflict(positions: positions, cuts: { cutsOf[$0.table.sqlTableName] ?? [:] }) {
                    return .conflict(conflict)
                }
                for update in batch.updates {
                    let table = Self.quoted(update.table.sqlTableName)
                    // A new tile is inserted; a stored one gets the batch's states merged into it (merge_tile_states).
                    let upsert = try c.statement("""
                        INSERT INTO \(table) (entity_key, hop, tile, origin, state) VALUES (?, ?, ?, 1, ?)
                        ON CONFLICT (entity_key, hop, tile, origin) DO UPDATE SET state = merge_tile_states(state, excluded.state)
                        """)
                    for tile in update.tiles {
                        try upsert.run([.blob(try OnlineEncoding.encodeKey(tile.key)), .integer(tile.hop), .integer(tile.start), .blob(tile.states)])
                    }
                }
                let record = try c.statement("INSERT OR REPLACE INTO stream_positions (consumer, topic, partition, next_offset) VALUES (?, ?, ?, ?)")
                for (partition, next) in batch.next {
                    try record.run([.text(batch.consumer), .text(partition.topic), .integer(Int64(partition.partition)), .integer(next)])
                }
                return .applied
            }
        }
    }
}

extension OnlineTable {
    /// The SQL table of the view's online rows: its (validated) name and schema version.
    var sqlTableName: String {
        "fv_\(view.name)_\(schemaVersion)"
    }
}
