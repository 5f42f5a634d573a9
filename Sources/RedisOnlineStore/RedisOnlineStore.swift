public import FeatureStoreCore
import FeatureComputation
import Foundation
public import Redis
import Synchronization

/// The online store on Redis, standalone or Redis Cluster: the same meaning as the embedded store
/// (`OnlineStoreConformance`), on a shared, replicated, sharded server.
///
/// Keys (`P` the key prefix, `p` the project, `T` a view's name and schema version, `E` an entity's encoded key in hex):
///
/// | key | type | what |
/// | --- | --- | --- |
/// | `P:p:T:{E}` | hash `t`, `c`, `v` | a plain view's latest row: event and created time (µs) and every feature in one field in the compact row encoding; the entity in the hash tag, so every view of an entity is on one node; `PEXPIREAT event + ttl + grace` (``RowExpiry``) |
/// | `P:p:T:stats`, `P:p:T:entities` | hash, HyperLogLog | newest event time; entities written (an estimate, exact for small counts) |
/// | `P:p:tables` | hash | the views and schema versions stored (for `dropStale`) |
/// | `P:p:T:{E}:H` | hash `start:origin` -> states | the backfill part of an aggregated view's tiles of one entity and hop, and their roll-ups (written by `materialize`): with the entity's rows |
/// | `{P:p:tiles}:T:E:H` | hash `start:origin` -> states | the stream part of those tiles (merged by ingesters) |
/// | `P:p:T:{ixB}:H`, `{P:p:tiles}:T:index:H:1` | sorted sets | per hop, the entities with backfill tiles (in 64 sets by entity) and with stream tiles, scored by the oldest start their key may hold (expiry without `SCAN`) |
/// | `{P:p:tiles}:cuts:T`, `{P:p:tiles}:positions:C` | hash | tile cuts per hop; a consumer's stream positions |
///
/// Rows are upserted by a Lua script (`EVALSHA`, loaded again after `NOSCRIPT`): a row replaces the stored one only
/// when its (event time, created time) is newer, atomically on the server, so batch loads and streams race safely.
/// One field for all features instead of one per feature: a read always wants the whole row of one schema, and
/// `HMGET` of three fields costs the same however wide the view.
///
/// Aggregated views keep each tile in two parts (``TileCuts``). The backfill part, most of what a lookup reads (every
/// tile before the cut), is sharded by entity like rows. The stream part, the cuts and the stream positions share one
/// hash slot (`{P:p:tiles}`), so a stream batch is checked and applied in one `WATCH`/`MULTI`/`EXEC` transaction,
/// exactly once as in the embedded store: that slot's node takes every ingester's tile writes and holds the tiles
/// since the last backfill's cut (run `materialize-incremental` regularly to keep that part small).
///
/// Differences that come from Redis: a batch of rows spread over several nodes is not one transaction (each row's
/// upsert is atomic and a rerun converges); Redis acknowledges a write before replicating it, so a failover can lose
/// the last writes: rerun `materialize` after one.
public final class RedisOnlineStore: StreamCheckpointStore {
    /// The client of the Redis servers; closed by ``stop()``.
    public let client: RedisClient
    let prefix: String
    let project: String
    /// The upsert script's digest, from `SCRIPT LOAD` at start (nil before: writes send the script itself).
    private let upsertSHA = Mutex<String?>(nil)

    /// A store on `client`'s servers, its keys under `prefix:project:`.
    public init(client: RedisClient, prefix: String, project: String) {
        self.client = client
        self.prefix = prefix
        self.project = project
    }

    // MARK: Lifecycle

    /// Checks that every primary answers `PING`, then loads the upsert script on each; see ``OnlineStore/start()``.
    public func start() async throws(OnlineStoreError) {
        if case .notServing(let why) = await health() { throw OnlineStoreError(.unavailable, why) }
        // Load the script on every primary (a node that restarts or a replica promoted later answers NOSCRIPT, and
        // the write sends the script itself).
        do throws(RedisError) {
            for node in try await client.primaries() {
                let reply = try await client.command([Array("SCRIPT".utf8), Array("LOAD".utf8), Array(Self.upsertScript.utf8)], on: node)
                guard let sha = reply.text else { throw RedisError(.server, node: node.description, "SCRIPT LOAD answered \(reply)") }
                upsertSHA.withLock { $0 = sha }
            }
        } catch {
            throw Self.error(error)
        }
    }

    /// Closes the client's connections; see ``OnlineStore/stop()``.
    public func stop() async { client.close() }

    /// Serving while every primary answers `PING` with `PONG`; see ``OnlineStore/health()``.
    public func health() async -> OnlineStoreHealth {
        do {
            for node in try await client.primaries() {
                let reply = try await client.command([Array("PING".utf8)], on: node)
                if reply != .status("PONG") { return .notServing("redis \(node): PING answered \(reply)") }
            }
            return .serving
        } catch {
            return .notServing(error.description)
        }
    }

    // MARK: Keys

    func table(_ online: OnlineTable) -> String { "\(online.name):\(online.schemaVersion)" }
    var tablesKey: String { "\(prefix):\(project):tables" }
    var tileTag: String { "{\(prefix):\(project):tiles}" }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    func rowKey(_ table: String, _ entity: String) -> String { "\(prefix):\(project):\(table):{\(entity)}" }
    /// The key of one entity's tiles of one hop: the backfill part (and the roll-ups) beside the entity's rows, the
    /// stream part in the tiles slot.
    func tileKey(_ table: String, _ entity: String, hop: Int64, origin: TileOrigin) -> String {
        origin != .stream ? "\(rowKey(table, entity)):\(hop)" : "\(tileTag):\(table):\(entity):\(hop)"
    }
    /// The index of one view's tile keys of one hop and origin: a sorted set of entities (hex), each scored with the
    /// oldest tile start its key may hold, so expiry visits only the keys holding tiles to delete (no `SCAN`). The
    /// backfill part's index is split in ``tileIndexBuckets`` sets by entity, spread over the cluster like the tiles;
    /// the stream part's lives in the tiles slot, beside its tiles.
    func tileIndexKey(_ table: String, hop: Int64, origin: TileOrigin, bucket: Int) -> String {
        origin != .stream ? "\(prefix):\(project):\(table):{ix\(bucket)}:\(hop)" : "\(tileTag):\(table):index:\(hop):\(origin.rawValue)"
    }
    /// How many sets the backfill part's index of a view and hop is split in.
    static let tileIndexBuckets = 64
    /// The index set of an entity's backfill tiles (the stream part's index has one set).
    static func tileIndexBucket(_ entity: String, origin: TileOrigin) -> Int {
        origin != .stream ? HashSlot.slot(of: entity) % tileIndexBuckets : 0
    }
    func cutsKey(_ table: String) -> String { "\(tileTag):cuts:\(table)" }
    func positionsKey(_ consumer: String) -> String { "\(tileTag):positions:\(consumer)" }

    static func error(_ error: RedisError) -> OnlineStoreError {
        OnlineStoreError(error.kind == .server || error.kind == .protocolError ? .failed : .unavailable, "", cause: error)
    }

    /// Runs commands; a command's error reply becomes an error naming `what`.
    func run(_ commands: [RedisCommand], _ what: String) async throws(OnlineStoreError) -> [RedisReply] {
        let replies: [RedisReply]
        do { replies = try await client.execute(commands) } catch { throw Self.error(error) }
        for (i, reply) in replies.enumerated() {
            if case .error(let e) = reply {
                let key = commands[i].key.map { String(decoding: $0, as: UTF8.self) } ?? "-"
                throw OnlineStoreError(.failed, "redis: \(what) failed at key '\(key)': \(e)")
            }
        }
        return replies
    }

    // MARK: Rows

    /// Replaces the stored row when it is newer by the rule every store keeps (``OnlineEncoding/replaces(event:created:row:stored:)``):
    /// a greater event time, then created time, then encoded row in byte order. Times are compared as decimal text,
    /// exactly (Lua's numbers are doubles: far-future microseconds would round), and rows byte by byte (Lua's `<` on
    /// strings follows the server's locale). Sets the expiry. Returns 1 when written.
    static let upsertScript = """
        local function bytes(a, b)
          if a == b then return 0 end
          local n = math.min(#a, #b)
          for i = 1, n do
            local x, y = string.byte(a, i), string.byte(b, i)
            if x ~= y then return x < y and -1 or 1 end
          end
          return #a < #b and -1 or 1
        end
        local function int(a, b)
          local na, nb = string.byte(a, 1) == 45, string.byte(b, 1) == 45
          if na ~= nb then return na and -1 or 1 end
          local r
          if #a ~= #b then r = #a < #b and -1 or 1 else r = bytes(a, b) end
          if na then return -r end
          return r
        end
        local function expire()
          if ARGV[4] == '0' then redis.call('PERSIST', KEYS[1]) else redis.call('PEXPIREAT', KEYS[1], ARGV[4], 'GT') end
        end
        local cur = redis.call('HMGET', KEYS[1], 't', 'c', 'v')
        if cur[1] then
          local order = int(ARGV[1], cur[1])
          if order == 0 then order = int(ARGV[2], cur[2]) end
          if order == 0 then order = bytes(ARGV[3], cur[3] or '') end
          if order <= 0 then
            -- Not newer; the kept row's expiry may still move later (a longer ttl, a rewrite by a later run).
            if order == 0 or ARGV[4] == '0' then expire() end
            return 0
          end
        end
        redis.call('HSET', KEYS[1], 't', ARGV[1], 'c', ARGV[2], 'v', ARGV[3])
        if ARGV[4] == '0' then redis.call('PERSIST', KEYS[1]) else redis.call('PEXPIREAT', KEYS[1], ARGV[4]) end
        return 1
        """

    /// Sets a hash field to the greater of its value and ARGV[2].
    static let maxScript = """
        local cur = redis.call('HGET', KEYS[1], ARGV[1])
        if (not cur) or tonumber(cur) < tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
        return 1
        """

    /// Checks every row, then upserts each atomically with the Lua script (5,000 per call; the batch is not one
    /// transaction across nodes); see ``OnlineStore/write(_:to:)``.
    @discardableResult
    public func write(_ rows: [OnlineRow], to online: OnlineTable) async throws(OnlineStoreError) -> Int {
        let view = online.view, keys = online.joinKeys
        guard !view.isAggregated else { throw OnlineStoreError("feature view '\(view.name)' aggregates events: write its tiles, not rows") }
        // Every row checked before anything is sent: a bad row refuses the batch whole.
        var encoded: [(entity: String, row: OnlineRow, value: [UInt8])] = []
        encoded.reserveCapacity(rows.count)
        for (i, row) in rows.enumerated() {
            guard row.key.count == keys.count else {
                throw OnlineStoreError("row \(i) for view '\(view.name)' has \(row.key.count) key values, the view has \(keys.count) join keys")
            }
            guard row.values.count == view.features.count else {
                throw OnlineStoreError("row \(i) for view '\(view.name)' has \(row.values.count) values, the view has \(view.features.count) features")
            }
            encoded.append((Self.hex(try OnlineEncoding.encodeKey(row.key)), row, OnlineEncoding.encodeRow(row.values)))
        }
        guard !encoded.isEmpty else { return 0 }
        let table = table(online)
        let ttl = view.ttl.seconds * 1_000_000
        let writtenAt = Int64(Date().timeIntervalSince1970 * 1000)
        let sha = upsertSHA.withLock { $0 }
        var written = 0
        for chunk in stride(from: 0, to: encoded.count, by: 5_000) {
            let part = encoded[chunk..<min(encoded.count, chunk + 5_000)]
            let commands = part.map { e -> RedisCommand in
                let key = Array(rowKey(table, e.entity).utf8)
                // Kept while a lookup can still see it (``RowExpiry``), in milliseconds rounded up, and at least a day
                // after it is written (a backfill of past days is still there for `verify --at` those days, as SQLite
                // keeps it).
                let expireAt = ttl > 0 ? Swift.max(writtenAt + RowExpiry.historicRetention / 1000,
                                                   RowExpiry.goneAt(event: e.row.eventTimestamp, ttl: ttl) / 1000 + (RowExpiry.clockMargin / 1000) + 1) : 0
                return RedisCommand(key: key, [Array((sha == nil ? "EVAL" : "EVALSHA").utf8), Array((sha ?? Self.upsertScript).utf8), Array("1".utf8), key,
                                               Array(String(e.row.eventTimestamp).utf8), Array(String(e.row.createdTimestamp).utf8), e.value,
                                               Array(String(expireAt).utf8)])
            }
            written += try await evalWithReload(commands, script: Self.upsertScript, what: "writing rows of '\(view.name)'")
                .reduce(0) { $0 + (($1 == .integer(1)) ? 1 : 0) }
        }
        // Statistics and the table registry (not part of a row's atomic write: they only describe).
        let statsKey = "\(prefix):\(project):\(table):stats", entitiesKey = "\(prefix):\(project):\(table):entities"
        let newest = rows.map(\.eventTimestamp).max()!
        var pfadd: [[UInt8]] = [Array("PFADD".utf8), Array(entitiesKey.utf8)]
        pfadd += Set(encoded.map(\.entity)).map { Array($0.utf8) }
        _ = try await run([
            RedisCommand(key: Array(entitiesKey.utf8), pfadd),
            RedisCommand(key: statsKey, ["EVAL", Self.maxScript, "1", statsKey, "newest", String(newest)]),
            RedisCommand(key: tablesKey, ["HSET", tablesKey, table, view.name]),
        ], "recording statistics of '\(view.name)'")
        return written
    }

    /// Runs `EVALSHA` commands; those answered `NOSCRIPT` (a node that restarted or failed over) run again as `EVAL`.
    func evalWithReload(_ commands: [RedisCommand], script: String, what: String) async throws(OnlineStoreError) -> [RedisReply] {
        var replies: [RedisReply]
        do { replies = try await client.execute(commands) } catch { throw Self.error(error) }
        let missing = replies.indices.filter { replies[$0].errorMessage?.hasPrefix("NOSCRIPT") == true }
        if !missing.isEmpty {
            let again = missing.map { i -> RedisCommand in
                var c = commands[i]
                c.args[0] = Array("EVAL".utf8)
                c.args[1] = Array(script.utf8)
                return c
            }
            let more: [RedisReply]
            do { more = try await client.execute(again) } catch { throw Self.error(error) }
            for (i, reply) in zip(missing, more) { replies[i] = reply }
        }
        for (i, reply) in replies.enumerated() {
            if case .error(let e) = reply {
                throw OnlineStoreError(.failed, "redis: \(what) failed at key '\(String(decoding: commands[i].key ?? [], as: UTF8.self))': \(e)")
            }
        }
        return replies
    }

    /// Reads each entity's row with one `HMGET`, all sent in one call to the client; see ``OnlineStore/read(_:)``.
    public func read(_ requests: [OnlineReadRequest]) async throws(OnlineStoreError) -> [[StoredOnlineRow?]] {
        var commands: [RedisCommand] = []
        var tables: [String] = []
        for request in requests {
            let table = table(request.table)
            tables.append(table)
            for key in request.keys {
                let k = Array(rowKey(table, Self.hex(try OnlineEncoding.encodeKey(key))).utf8)
                commands.append(RedisCommand(key: k, [Array("HMGET".utf8), k, Array("t".utf8), Array("c".utf8), Array("v".utf8)]))
            }
        }
        let replies = try await run(commands, "reading rows")
        var out: [[StoredOnlineRow?]] = []
        var r = 0
        for request in requests {
            var rows: [StoredOnlineRow?] = []
            rows.reserveCapacity(request.keys.count)
            for _ in request.keys {
                let reply = replies[r]
                let key = String(decoding: commands[r].key ?? [], as: UTF8.self)
                r += 1
                guard case .array(let fields) = reply, fields.count == 3 else {
                    throw OnlineStoreError(.corrupt, "redis: key '\(key)' answered \(reply) to HMGET")
                }
                guard let t = fields[0].text else { rows.append(nil); continue }
                guard let event = Int64(t), let created = Int64(fields[1].text ?? ""), let value = fields[2].bytes else {
                    throw OnlineStoreError(.corrupt, "redis: key '\(key)' holds a row that does not decode (t=\(fields[0]), c=\(fields[1]))")
                }
                do {
                    rows.append(StoredOnlineRow(eventTimestamp: event, createdTimestamp: created,
                                                values: try OnlineEncoding.decodeRow(value, count: request.view.features.count)))
                } catch {
                    throw OnlineStoreError(.corrupt, "redis: key '\(key)' holds a value that does not decode", cause: error)
                }
            }
            out.append(rows)
        }
        return out
    }

    // MARK: Whole views

    /// Calls `body` with the keys matching `pattern` on `nodes` (every primary when nil), a `SCAN` page (about
    /// 1,000 keys) at a time.
    func scanKeys(matching pattern: String, on nodes: [RedisEndpoint]? = nil,
                  _ body: ([[UInt8]]) async throws(OnlineStoreError) -> Void) async throws(OnlineStoreError) {
        let targets: [RedisEndpoint]
        if let nodes { targets = nodes } else { do { targets = try await client.primaries() } catch { throw Self.error(error) } }
        for node in targets {
            var cursor = "0"
            repeat {
                let reply: RedisReply
                do { reply = try await client.command(["SCAN", cursor, "MATCH", pattern, "COUNT", "1000"].map { Array($0.utf8) }, on: node) } catch { throw Self.error(error) }
                guard case .array(let parts) = reply, parts.count == 2, let next = parts[0].text, case .array(let keys) = parts[1] else {
                    throw OnlineStoreError(.failed, "redis \(node): SCAN answered \(reply)")
                }
                cursor = next
                let names = keys.compactMap(\.bytes)
                if !names.isEmpty { try await body(names) }
            } while cursor != "0"
        }
    }

    /// Deletes every key matching `pattern` on every primary (`SCAN` + `UNLINK`, 1,000 at a time); returns how many.
    @discardableResult
    func deleteKeys(matching pattern: String) async throws(OnlineStoreError) -> Int {
        var deleted = 0
        try await scanKeys(matching: pattern) { names throws(OnlineStoreError) in
            // Keys one by one: in a cluster, a multi-key UNLINK must stay in one slot.
            let replies = try await run(names.map { RedisCommand(key: $0, [Array("UNLINK".utf8), $0]) }, "deleting keys \(pattern)")
            deleted += replies.reduce(0) { if case .integer(let n) = $1 { return $0 + Int(n) } else { return $0 } }
        }
        return deleted
    }

    /// Glob-escapes text for `SCAN MATCH`.
    static func glob(_ text: String) -> String {
        var out = ""
        for ch in text {
            if "*?[]\\{}".contains(ch) { out.append("\\") }
            out.append(ch)
        }
        return out
    }

    func deleteTable(_ table: String) async throws(OnlineStoreError) {
        let base = "\(prefix):\(project):\(table)"
        try await deleteKeys(matching: Self.glob(base + ":{") + "*")
        try await deleteKeys(matching: Self.glob("\(tileTag):\(table):") + "*")
        _ = try await run([RedisCommand(key: base + ":stats", ["DEL", base + ":stats"]),
                           RedisCommand(key: base + ":entities", ["DEL", base + ":entities"]),
                           RedisCommand(key: cutsKey(table), ["DEL", cutsKey(table)])], "deleting '\(table)'")
    }

    /// Deletes the view's keys on every primary (`SCAN` + `UNLINK`) and its statistics; see
    /// ``OnlineStore/deleteAll(of:)``.
    public func deleteAll(of online: OnlineTable) async throws(OnlineStoreError) {
        let view = online.view
        let table = table(online)
        let base = "\(prefix):\(project):\(table)"
        try await deleteKeys(matching: Self.glob(base + ":{") + "*")
        try await deleteKeys(matching: Self.glob("\(tileTag):\(table):") + "*")
        _ = try await run([RedisCommand(key: base + ":stats", ["DEL", base + ":stats"]),
                           RedisCommand(key: base + ":entities", ["DEL", base + ":entities"])], "deleting '\(view.name)'")
    }

    /// Entities written, a HyperLogLog estimate (``OnlineViewStatistics/approximate``; expired rows still count); see
    /// ``OnlineStore/statistics(of:)``.
    public func statistics(of online: OnlineTable) async throws(OnlineStoreError) -> OnlineViewStatistics {
        let view = online.view
        let base = "\(prefix):\(project):\(table(online))"
        let replies = try await run([RedisCommand(key: base + ":entities", ["PFCOUNT", base + ":entities"]),
                                     RedisCommand(key: base + ":stats", ["HGET", base + ":stats", "newest"])], "reading statistics of '\(view.name)'")
        guard case .integer(let count) = replies[0] else { throw OnlineStoreError(.corrupt, "redis: PFCOUNT of '\(base):entities' answered \(replies[0])") }
        return OnlineViewStatistics(rows: Int(count), newestEventTimestamp: replies[1].text.flatMap { Int64($0) }, approximate: true)
    }

    /// Deletes the keys, statistics and cuts of the views in the `tables` registry that are not kept; see
    /// ``OnlineStore/dropStale(keeping:)``.
    @discardableResult
    public func dropStale(keeping tables: [OnlineTable]) async throws(OnlineStoreError) -> [String] {
        let kept = Set(tables.map(table))
        let reply = try await run([RedisCommand(key: tablesKey, ["HGETALL", tablesKey])], "reading the stored views")[0]
        guard case .array(let items) = reply, items.count % 2 == 0 else { throw OnlineStoreError(.corrupt, "redis: '\(tablesKey)' answered \(reply)") }
        var dropped: Set<String> = []
        for i in stride(from: 0, to: items.count, by: 2) {
            guard let table = items[i].text, let view = items[i + 1].text, !kept.contains(table) else { continue }
            try await deleteTable(table)
            _ = try await run([RedisCommand(key: tablesKey, ["HDEL", tablesKey, table])], "forgetting '\(table)'")
            dropped.insert(view)
        }
        return dropped.sorted()
    }
}
