public import FeatureStoreCore
import FeatureComputation
import Foundation
import Redis

/// Aggregated views' tiles, cuts and stream positions. The backfill part of tiles lives beside the entity's rows
/// (sharded); the stream part, the cuts and the stream positions in one hash slot (`{P:p:tiles}`), so that a stream
/// batch is checked and applied in one transaction.
extension RedisOnlineStore {
    static func field(start: Int64, origin: TileOrigin) -> String { "\(start):\(origin.rawValue)" }

    /// A tile field's name, `start:origin` in ASCII digits (start may be negative), read from its bytes.
    static func parseField(_ bytes: [UInt8]) -> (start: Int64, origin: TileOrigin)? {
        var i = 0, negative = false
        if bytes.first == UInt8(ascii: "-") { negative = true; i = 1 }
        var magnitude: UInt64 = 0
        let digitsStart = i
        while i < bytes.count, bytes[i] != UInt8(ascii: ":") {
            let d = bytes[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            let (times, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(d))
            guard !o1, !o2 else { return nil }
            magnitude = sum
            i += 1
        }
        guard i > digitsStart, i + 1 < bytes.count else { return nil }
        let start: Int64
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            start = magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)
        } else {
            guard magnitude <= UInt64(Int64.max) else { return nil }
            start = Int64(magnitude)
        }
        var raw = 0
        for b in bytes[(i + 1)...] {
            let d = b &- UInt8(ascii: "0")
            guard d < 10, raw < 1_000 else { return nil }
            raw = raw * 10 + Int(d)
        }
        guard let origin = TileOrigin(rawValue: raw) else { return nil }
        return (start, origin)
    }

    static func partitionField(_ p: StreamPartition) -> String { "\(p.topic)\u{1F}\(p.partition)" }

    static func parsePartition(_ text: String) -> StreamPartition? {
        let parts = text.split(separator: "\u{1F}", omittingEmptySubsequences: false)
        guard parts.count == 2, let partition = Int32(parts[1]) else { return nil }
        return StreamPartition(String(parts[0]), partition)
    }

    /// A hash reply (`HGETALL`) as field -> value pairs.
    static func pairs(_ reply: RedisReply, _ key: String) throws(RedisError) -> [(String, RedisReply)] {
        if case .error(let e) = reply { throw RedisError(.server, node: "-", e) }
        guard case .array(let items) = reply, items.count % 2 == 0 else { throw RedisError(.protocolError, node: "-", "key '\(key)' answered \(reply) to HGETALL") }
        return stride(from: 0, to: items.count, by: 2).compactMap { i in items[i].text.map { ($0, items[i + 1]) } }
    }

    /// Reads a reply of a command sent inside a `withConnection` body: a redirect or another error is thrown (the body
    /// runs again after a redirect).
    static func checked(_ reply: RedisReply, node: RedisEndpoint) throws(RedisError) -> RedisReply {
        if case .error(let e) = reply { throw RedisError(.server, node: node.description, e) }
        return reply
    }

    func validateTiles(_ tiles: [OnlineTile], view: FeatureView, keys: [JoinKey]) throws(OnlineStoreError) {
        guard view.isAggregated else { throw OnlineStoreError("feature view '\(view.name)' is not aggregated: it has no tiles") }
        for (i, tile) in tiles.enumerated() where tile.key.count != keys.count {
            throw OnlineStoreError("tile \(i) for view '\(view.name)' has \(tile.key.count) key values, the view has \(keys.count) join keys")
        }
    }

    /// Backfill parts and roll-ups go to their entities' nodes, pipelined (each tile replaced whole; a batch spread over nodes is
    /// not one transaction, and a rerun of `materialize` rewrites it); stream parts, in one transaction on the tiles
    /// slot. Bad input is refused before anything is written.
    public func writeTiles(_ tiles: [OnlineTile], to online: OnlineTable) async throws(OnlineStoreError) {
        let view = online.view, keys = online.joinKeys
        try validateTiles(tiles, view: view, keys: keys)
        guard !tiles.isEmpty else { return }
        let table = table(online)
        var backfill: [RedisCommand] = []
        var stream: [[[UInt8]]] = []
        var entities: Set<String> = []
        var indexed: [IndexedTile] = []
        indexed.reserveCapacity(tiles.count)
        for tile in tiles {
            let entity = Self.hex(try OnlineEncoding.encodeKey(tile.key))
            entities.insert(entity)
            // Roll-ups share the backfill part's key, and so its index.
            indexed.append(IndexedTile(entity: entity, hop: tile.hop, start: tile.start, origin: tile.origin == .stream ? .stream : .backfill))
            let key = Array(tileKey(table, entity, hop: tile.hop, origin: tile.origin).utf8)
            let command = [Array("HSET".utf8), key, Array(Self.field(start: tile.start, origin: tile.origin).utf8), tile.states]
            if tile.origin != .stream { backfill.append(RedisCommand(key: key, command)) } else { stream.append(command) }
        }
        // The index first: a key it names without the tile (a failed write) costs expiry one visit, while a tile it
        // does not name would never expire.
        _ = try await run(indexUpdates(table, indexed), "indexing tiles of '\(view.name)'")
        if !backfill.isEmpty { _ = try await run(backfill, "writing tiles of '\(view.name)'") }
        if !stream.isEmpty {
            let transaction = stream
            do {
                try await client.withConnection(forKey: Array(tileTag.utf8)) { connection throws(RedisError) in
                    let replies = try connection.pipeline([[Array("MULTI".utf8)]] + transaction + [[Array("EXEC".utf8)]])
                    for reply in replies { _ = try Self.checked(reply, node: connection.endpoint) }
                }
            } catch {
                throw Self.error(error)
            }
        }
        try await recordTileStatistics(table: table, view: view, entities: entities, newest: tiles.map(\.start).max()!)
    }

    /// A tile as the index sees it: its entity (hex), hop, start and part.
    struct IndexedTile {
        var entity: String
        var hop: Int64
        var start: Int64
        var origin: TileOrigin
    }

    /// `ZADD LT` commands (in pieces of 1,000 entities) lowering each entity's score in the index of its tiles' hop
    /// and origin to the oldest start written (adding entities not yet indexed).
    func indexUpdates(_ table: String, _ tiles: [IndexedTile]) -> [RedisCommand] {
        struct Group: Hashable { var hop: Int64; var origin: TileOrigin; var bucket: Int }
        var oldest: [Group: [String: Int64]] = [:]
        for tile in tiles {
            let group = Group(hop: tile.hop, origin: tile.origin, bucket: Self.tileIndexBucket(tile.entity, origin: tile.origin))
            oldest[group, default: [:]][tile.entity] = min(oldest[group]?[tile.entity] ?? .max, tile.start)
        }
        var commands: [RedisCommand] = []
        for (group, entities) in oldest {
            let key = tileIndexKey(table, hop: group.hop, origin: group.origin, bucket: group.bucket)
            let pairs = Array(entities)
            for chunk in stride(from: 0, to: pairs.count, by: 1_000) {
                var args = [Array("ZADD".utf8), Array(key.utf8), Array("LT".utf8)]
                for (entity, start) in pairs[chunk..<min(pairs.count, chunk + 1_000)] {
                    args.append(Array(String(start).utf8))
                    args.append(Array(entity.utf8))
                }
                commands.append(RedisCommand(key: Array(key.utf8), args))
            }
        }
        return commands
    }

    func recordTileStatistics(table: String, view: FeatureView, entities: Set<String>, newest: Int64) async throws(OnlineStoreError) {
        let statsKey = "\(prefix):\(project):\(table):stats", entitiesKey = "\(prefix):\(project):\(table):entities"
        _ = try await run([
            RedisCommand(key: Array(entitiesKey.utf8), [Array("PFADD".utf8), Array(entitiesKey.utf8)] + entities.map { Array($0.utf8) }),
            RedisCommand(key: statsKey, ["EVAL", Self.maxScript, "1", statsKey, "newest", String(newest)]),
            RedisCommand(key: tablesKey, ["HSET", tablesKey, table, view.name]),
        ], "recording statistics of '\(view.name)'")
    }

    /// Per entity and hop, the backfill part and the roll-ups (on the entity's node) and the stream part (on the tiles
    /// slot's node): all of them one pipeline per node, sent to every node before any reply is read.
    public func readTiles(_ entities: [[OnlineValue]], of online: OnlineTable, from: [Int64: Int64]) async throws(OnlineStoreError) -> [[OnlineTile]] {
        let view = online.view
        let table = table(online)
        let hops = from.keys.sorted()
        let origins: [TileOrigin] = [.backfill, .stream]
        var commands: [RedisCommand] = []
        commands.reserveCapacity(entities.count * hops.count * 2)
        for entity in entities {
            let hex = Self.hex(try OnlineEncoding.encodeKey(entity))
            for hop in hops {
                for origin in origins {
                    let key = Array(tileKey(table, hex, hop: hop, origin: origin).utf8)
                    commands.append(RedisCommand(key: key, [Array("HGETALL".utf8), key]))
                }
            }
        }
        let replies = try await run(commands, "reading tiles of '\(view.name)'")
        var out: [[OnlineTile]] = []
        out.reserveCapacity(entities.count)
        var r = 0
        for entity in entities {
            var tiles: [OnlineTile] = []
            for hop in hops {
                let first = tiles.count
                let bound = from[hop]!
                for _ in origins {
                    let reply = replies[r]
                    let key = commands[r].key ?? []
                    r += 1
                    guard case .array(let items) = reply, items.count % 2 == 0 else {
                        throw OnlineStoreError(.corrupt, "redis: key '\(String(decoding: key, as: UTF8.self))' answered \(reply) to HGETALL")
                    }
                    for i in stride(from: 0, to: items.count, by: 2) {
                        guard let name = items[i].bytes, let (start, origin) = Self.parseField(name), let states = items[i + 1].bytes else {
                            throw OnlineStoreError(.corrupt, "redis: key '\(String(decoding: key, as: UTF8.self))' has a field '\(items[i].text ?? "?")' that is not a tile")
                        }
                        if start >= bound { tiles.append(OnlineTile(key: entity, hop: hop, start: start, states: states, origin: origin)) }
                    }
                }
                tiles[first...].sort { ($0.start, $0.origin.rawValue) < ($1.start, $1.origin.rawValue) }
            }
            out.append(tiles)
        }
        return out
    }

    /// Deletes the fields of one tile hash whose start is before ARGV[1] and whose origin is ARGV[2] (-1: any);
    /// returns how many, whether any field is left, and the oldest start left. (Lua numbers are doubles: exact for
    /// starts within 2^53 microseconds of 1970, about 285,000 years.)
    static let deleteTilesScript = """
        local n, left, oldest = 0, 0, 0
        for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
          local s, o = string.match(f, '^(-?%d+):(%d+)$')
          if s and tonumber(s) < tonumber(ARGV[1]) and (ARGV[2] == '-1' or o == ARGV[2]) then
            redis.call('HDEL', KEYS[1], f)
            n = n + 1
          elseif s and (left == 0 or tonumber(s) < oldest) then
            left, oldest = 1, tonumber(s)
          end
        end
        return {n, left, oldest}
        """

    /// Visits, per hop and origin, only the entities whose index score says their key holds a tile before the bound
    /// (no `SCAN`): each key's old fields are deleted on its own node, then its score is raised to the oldest start
    /// left, or it leaves the index when nothing is left. The index sets are read together, a page of up to 1,000
    /// entities each per round.
    ///
    /// Pruning a key and updating its index entry are two steps on two nodes. A writer that indexes and writes a
    /// tile between them (a backfill reviving an entity whose tiles had all expired) can leave that key out of the
    /// index: its tiles then outlive their windows (memory, never a wrong value: lookups read from a start) until
    /// the entity's next tile indexes it again, or the view is deleted.
    @discardableResult
    public func deleteTiles(of online: OnlineTable, before: [Int64: Int64], origin: TileOrigin?) async throws(OnlineStoreError) -> Int {
        let view = online.view
        let table = table(online)
        var deleted = 0
        for (hop, bound) in before.sorted(by: { $0.key < $1.key }) {
            // Per key: the backfill part's (its roll-ups too, unless one origin is asked for) and the stream part's.
            for part in origin.map({ [$0] }) ?? [.backfill, .stream] {
                let which = origin == nil ? "-1" : String(part.rawValue)
                var indexes = (0..<(part != .stream ? Self.tileIndexBuckets : 1)).map { tileIndexKey(table, hop: hop, origin: part, bucket: $0) }
                var visited: Set<String> = []
                while !indexes.isEmpty {
                    let pages = try await run(indexes.map { RedisCommand(key: $0, ["ZRANGEBYSCORE", $0, "-inf", "(\(bound)", "LIMIT", "0", "1000"]) },
                                              "reading the tile index of '\(view.name)'")
                    var found: [(index: String, entity: String)] = []
                    var active: [String] = []
                    for (index, page) in zip(indexes, pages) {
                        guard case .array(let items) = page else { throw OnlineStoreError(.corrupt, "redis: '\(index)' answered \(page) to ZRANGEBYSCORE") }
                        // An entity seen again in this pass was written anew meanwhile: the next expiry takes it.
                        let fresh = items.compactMap(\.text).filter { !visited.contains($0) }
                        if !fresh.isEmpty { active.append(index) }
                        found += fresh.map { (index, $0) }
                    }
                    indexes = active
                    guard !found.isEmpty else { break }
                    visited.formUnion(found.map(\.entity))
                    let commands = found.map { item -> RedisCommand in
                        let key = tileKey(table, item.entity, hop: hop, origin: part)
                        return RedisCommand(key: key, ["EVAL", Self.deleteTilesScript, "1", key, String(bound), which])
                    }
                    let replies = try await run(commands, "deleting tiles of '\(view.name)'")
                    var updates: [RedisCommand] = []
                    for (item, reply) in zip(found, replies) {
                        guard case .array(let parts) = reply, parts.count == 3, case .integer(let n) = parts[0], case .integer(let left) = parts[1],
                              case .integer(let oldest) = parts[2] else {
                            throw OnlineStoreError(.failed, "redis: deleting tiles of '\(view.name)' answered \(reply)")
                        }
                        deleted += Int(n)
                        updates.append(left == 0 ? RedisCommand(key: item.index, ["ZREM", item.index, item.entity])
                                                 : RedisCommand(key: item.index, ["ZADD", item.index, "XX", String(oldest), item.entity]))
                    }
                    _ = try await run(updates, "updating the tile index of '\(view.name)'")
                }
            }
        }
        return deleted
    }

    /// Reads the view's cuts hash; see ``OnlineTileStore/tileCuts(of:)``.
    public func tileCuts(of online: OnlineTable) async throws(OnlineStoreError) -> [Int64: Int64] {
        let view = online.view
        let key = cutsKey(table(online))
        let reply = try await run([RedisCommand(key: key, ["HGETALL", key])], "reading the cuts of '\(view.name)'")[0]
        return try Self.cuts(reply, key)
    }

    static func cuts(_ reply: RedisReply, _ key: String) throws(OnlineStoreError) -> [Int64: Int64] {
        var out: [Int64: Int64] = [:]
        let fields: [(String, RedisReply)]
        do { fields = try pairs(reply, key) } catch { throw OnlineStoreError(.corrupt, "redis", cause: error) }
        for (hop, cut) in fields {
            guard let h = Int64(hop), let c = cut.text.flatMap({ Int64($0) }) else { throw OnlineStoreError(.corrupt, "redis: key '\(key)' has a cut that does not decode") }
            out[h] = c
        }
        return out
    }

    /// Sets the cuts with `HSET` (`HSETNX` with `onlyMissing`) and records the view in the `tables` registry; see
    /// ``OnlineTileStore/setTileCuts(_:of:onlyMissing:)``.
    @discardableResult
    public func setTileCuts(_ cuts: [Int64: Int64], of online: OnlineTable, onlyMissing: Bool) async throws(OnlineStoreError) -> [Int64: Int64] {
        let view = online.view
        let table = table(online)
        let key = cutsKey(table)
        var commands = cuts.sorted { $0.key < $1.key }.map { RedisCommand(key: key, [onlyMissing ? "HSETNX" : "HSET", key, String($0.key), String($0.value)]) }
        commands.append(RedisCommand(key: tablesKey, ["HSET", tablesKey, table, view.name]))
        commands.append(RedisCommand(key: key, ["HGETALL", key]))
        let replies = try await run(commands, "setting the cuts of '\(view.name)'")
        return try Self.cuts(replies.last!, key)
    }

    /// Reads the consumer's positions hash; see ``StreamCheckpointStore/streamPositions(consumer:)``.
    public func streamPositions(consumer: String) async throws(OnlineStoreError) -> [StreamPartition: Int64] {
        let key = positionsKey(consumer)
        let reply = try await run([RedisCommand(key: key, ["HGETALL", key])], "reading stream positions")[0]
        return try Self.positions(reply, key)
    }

    static func positions(_ reply: RedisReply, _ key: String) throws(OnlineStoreError) -> [StreamPartition: Int64] {
        var out: [StreamPartition: Int64] = [:]
        let fields: [(String, RedisReply)]
        do { fields = try pairs(reply, key) } catch { throw OnlineStoreError(.corrupt, "redis", cause: error) }
        for (name, value) in fields {
            guard let partition = parsePartition(name), let next = value.text.flatMap({ Int64($0) }) else {
                throw OnlineStoreError(.corrupt, "redis: key '\(key)' has a position that does not decode")
            }
            out[partition] = next
        }
        return out
    }

    /// Checks and merges the batch in one `WATCH`/`MULTI`/`EXEC` transaction on the tiles slot's node; see
    /// ``StreamCheckpointStore/applyStreamTiles(_:)``.
    public func applyStreamTiles(_ batch: StreamTileBatch) async throws(OnlineStoreError) -> StreamTileOutcome {
        for update in batch.updates { try validateTiles(update.tiles, view: update.view, keys: update.joinKeys) }
        // What the transaction touches, named once.
        struct Planned: Sendable {
            var view: FeatureView
            var table: String
            var cutsKey: String
            var expectedCuts: [Int64: Int64]
            var tiles: [(key: String, field: String, hop: Int64, states: [UInt8])]
            var entities: Set<String>
            var newest: Int64
        }
        var planned: [Planned] = []
        var indexCommands: [RedisCommand] = []
        for update in batch.updates {
            let table = table(update.table)
            var tiles: [(key: String, field: String, hop: Int64, states: [UInt8])] = []
            var entities: Set<String> = []
            var indexed: [IndexedTile] = []
            for tile in update.tiles {
                let entity = Self.hex(try OnlineEncoding.encodeKey(tile.key))
                entities.insert(entity)
                indexed.append(IndexedTile(entity: entity, hop: tile.hop, start: tile.start, origin: .stream))
                tiles.append((tileKey(table, entity, hop: tile.hop, origin: .stream), Self.field(start: tile.start, origin: .stream), tile.hop, tile.states))
            }
            // The stream parts' index, in the same slot: updated in the batch's transaction.
            indexCommands += indexUpdates(table, indexed)
            planned.append(Planned(view: update.view, table: table, cutsKey: cutsKey(table), expectedCuts: update.cuts, tiles: tiles,
                                   entities: entities, newest: update.tiles.map(\.start).max() ?? .min))
        }
        let positionsKey = positionsKey(batch.consumer)
        let plan = planned
        let indexing = indexCommands
        let result: Result<StreamTileOutcome, OnlineStoreError>
        do {
            result = try await client.withConnection(forKey: Array(tileTag.utf8)) { c throws(RedisError) -> Result<StreamTileOutcome, OnlineStoreError> in
                let node = c.endpoint
                func run(_ args: [String]) throws(RedisError) -> RedisReply { try Self.checked(c.command(args.map { Array($0.utf8) }), node: node) }
                // Watch the positions and the cuts, then check them as the batch expects them. Every writer of
                // stream parts records positions in the same hash, so watching it serializes them; a backfill moves
                // a cut before it deletes stream parts, so watching the cuts catches it; other changes to tile keys
                // touch backfill parts (other fields) or tiles past retention. Watching the tile keys too would cost
                // more than the batch: the server checks each new watched key against the connection's list of
                // watched keys, quadratic in their number (20,000 tiles took seconds).
                _ = try run(["WATCH", positionsKey] + plan.map(\.cutsKey))
                // However the body ends (EXEC, a conflict, an error), the pooled connection watches nothing after it.
                defer { _ = try? c.command([Array("UNWATCH".utf8)]) }
                // The reads in one pipeline: a batch costs a few round trips, not one per tile.
                var reads: [[[UInt8]]] = [["HGETALL", positionsKey].map { Array($0.utf8) }]
                reads += plan.map { p in ["HGETALL", p.cutsKey].map { Array($0.utf8) } }
                for p in plan { reads += p.tiles.map { tile in ["HGET", tile.key, tile.field].map { Array($0.utf8) } } }
                let readReplies = try c.pipeline(reads)
                for reply in readReplies { _ = try Self.checked(reply, node: node) }
                let stored: [StreamPartition: Int64]
                var cutsOf: [String: [Int64: Int64]] = [:]
                do throws(OnlineStoreError) {
                    stored = try Self.positions(readReplies[0], positionsKey)
                    for (i, p) in plan.enumerated() { cutsOf[p.table] = try Self.cuts(readReplies[1 + i], p.cutsKey) }
                } catch {
                    return .failure(error)
                }
                let tables = Dictionary(plan.map { ($0.view.name, $0.table) }, uniquingKeysWith: { a, _ in a })
                if let conflict = batch.conflict(positions: stored, cuts: { cutsOf[tables[$0.view.name]!] ?? [:] }) {
                    return .success(.conflict(conflict))
                }
                // The stream parts merged with what is stored, in Swift (the shared computation library).
                var writes: [[[UInt8]]] = []
                var replyIndex = 1 + plan.count
                for p in plan {
                    for tile in p.tiles {
                        var states = tile.states
                        if let current = readReplies[replyIndex].bytes {
                            do throws(OnlineStoreError) {
                                states = try TileStates.merge(current, tile.states, view: p.view, hop: tile.hop)
                            } catch {
                                return .failure(OnlineStoreError(.corrupt, "redis: key '\(tile.key)' field '\(tile.field)'", cause: error))
                            }
                        }
                        replyIndex += 1
                        writes.append([Array("HSET".utf8), Array(tile.key.utf8), Array(tile.field.utf8), states])
                    }
                }
                writes += indexing.map(\.args)
                for (partition, next) in batch.next.sorted(by: { $0.key < $1.key }) {
                    writes.append(["HSET", positionsKey, Self.partitionField(partition), String(next)].map { Array($0.utf8) })
                }
                let replies = try c.pipeline([[Array("MULTI".utf8)]] + writes + [[Array("EXEC".utf8)]])
                for reply in replies.dropLast() { _ = try Self.checked(reply, node: node) }
                guard case .array = replies.last! else {
                    // EXEC answered nil: a watched key changed in between; nothing was written.
                    return .success(.conflict("another writer changed the positions, cuts or tiles during the batch"))
                }
                return .success(.applied)
            }
        } catch {
            throw Self.error(error)
        }
        let outcome = try result.get()
        if outcome == .applied {
            for p in planned where !p.tiles.isEmpty {
                try await recordTileStatistics(table: p.table, view: p.view, entities: p.entities, newest: p.newest)
            }
        }
        return outcome
    }
}
