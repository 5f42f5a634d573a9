import FeatureComputation
import FeatureStoreCore
import Foundation

/// The stream's side of aggregated views: a batch's events folded into one partial aggregate per entity, hop and
/// tile, merged into the stream part of the tiles together with the partitions' positions, exactly once.
///
/// The online store holds the truth (``StreamCheckpointStore/applyStreamTiles(_:)``): which offsets of each partition are in the
/// tiles, and the cuts that split events between backfill and stream (``TileCuts``). This writer keeps a copy of
/// both, skips events already in the tiles (a redelivery after a crash or a rebalance), and when the store says the
/// copy is stale (another ingester took the partition, a backfill moved a cut) reloads it and folds the batch again.
struct StreamTileWriter {
    /// One event for an aggregated view: its row (key, time, the columns the aggregations read) and where it came from.
    struct Event {
        /// The view: its position in the `views` given to ``apply(_:next:views:store:now:)``.
        var view: Int
        var row: OnlineRow
        var partition: StreamPartition
        var offset: Int64
    }

    /// What a batch did, per view.
    struct Outcome {
        /// Events merged into tiles.
        var applied: [String: Int] = [:]
        /// Events older than the allowed lateness: left to the next backfill.
        var late: [String: Int] = [:]
        /// Events before a view's cut (for some hop) that arrived after it was set: left to the next backfill.
        var beforeCut: [String: Int] = [:]
        /// Events already in the tiles (a redelivery), skipped.
        var redelivered = 0
    }

    let consumer: String
    /// Microseconds.
    let allowedLateness: Int64
    private var positions: [StreamPartition: Int64]?
    private var cuts: [String: [Int64: Int64]] = [:]

    init(consumer: String, allowedLateness: TimeSpan) {
        self.consumer = consumer
        self.allowedLateness = allowedLateness.seconds * 1_000_000
    }

    /// Forgets the copies of positions and cuts (the partitions assigned changed: another ingester may have moved them).
    mutating func reload() {
        positions = nil
        cuts = [:]
    }

    /// Merges `events` into their tiles and records `next` (the position after the batch of every partition that
    /// feeds an aggregated view, bad messages included) as one store transaction.
    ///
    /// - Parameter now: the ingester's clock (microseconds): events before `now - allowed lateness` are late.
    mutating func apply(_ events: [Event], next: [StreamPartition: Int64], views: [EventMapper], store: any OnlineStore,
               now: Int64) async throws(OnlineStoreError) -> Outcome {
        guard let first = views.first else { return Outcome(redelivered: events.count) }
        let store = try store.checkpoints(for: first.table)
        for attempt in 1...5 {
            if positions == nil { positions = try await store.streamPositions(consumer: consumer) }
            for mapper in views where cuts[mapper.view.name] == nil {
                // A view the stream meets before any backfill: the stream owns every event (on time) until a backfill
                // moves the cut.
                let start = Dictionary(uniqueKeysWithValues: TileCuts.hops(of: mapper.view).map { ($0, Int64.min) })
                cuts[mapper.view.name] = try await store.setTileCuts(start, of: mapper.table, onlyMissing: true)
            }
            let stored = positions ?? [:]
            var moved: [StreamPartition: Int64] = [:], expected: [StreamPartition: Int64] = [:]
            for (partition, offset) in next where offset > (stored[partition] ?? Int64.min) {
                moved[partition] = offset
                expected[partition] = stored[partition]
            }
            guard !moved.isEmpty else { return Outcome(redelivered: events.count) }
            var outcome = Outcome()
            var applied = views.map { _ in 0 }, late = applied, beforeCut = applied
            var folds = views.map(TileFold.init)
            let viewCuts = views.map { cuts[$0.view.name] ?? [:] }
            let lateBefore = now - allowedLateness
            for event in events {
                if let done = stored[event.partition], event.offset < done {
                    outcome.redelivered += 1
                    continue
                }
                if event.row.eventTimestamp < lateBefore {
                    late[event.view] += 1
                } else if folds[event.view].add(event.row, cuts: viewCuts[event.view], now: now) {
                    applied[event.view] += 1
                } else {
                    beforeCut[event.view] += 1
                }
            }
            for (i, mapper) in views.enumerated() {
                if applied[i] > 0 { outcome.applied[mapper.view.name] = applied[i] }
                if late[i] > 0 { outcome.late[mapper.view.name] = late[i] }
                if beforeCut[i] > 0 { outcome.beforeCut[mapper.view.name] = beforeCut[i] }
            }
            let updates = zip(views, folds).map { mapper, fold in
                StreamTileBatch.ViewUpdate(table: mapper.table, tiles: fold.onlineTiles, cuts: cuts[mapper.view.name] ?? [:])
            }
            let batch = StreamTileBatch(consumer: consumer, expected: expected, next: moved, updates: updates)
            switch try await store.applyStreamTiles(batch) {
            case .applied:
                for (partition, offset) in moved { positions?[partition] = offset }
                return outcome
            case .conflict(let why):
                reload()
                if attempt == 5 { throw OnlineStoreError(.failed, "stream tiles: the store's positions or cuts keep changing (\(why))") }
            }
        }
        throw OnlineStoreError(.failed, "stream tiles: unreachable")
    }

    /// Deletes tiles no lookup can need any more: per hop, those starting before the oldest window start of a lookup
    /// at `now - allowed lateness` (tiles a late event can still change stay, and so does what lookups and `verify`
    /// at those times read).
    func expire(_ views: [EventMapper], store: any OnlineStore, now: Int64) async throws(OnlineStoreError) -> Int {
        var deleted = 0
        for mapper in views {
            let store = try store.tiles(for: mapper.table)
            let before = TileCuts.retention(of: mapper.view, at: now, allowedLateness: allowedLateness)
            deleted += try await store.deleteTiles(of: mapper.table, before: before, origin: nil)
        }
        return deleted
    }
}

/// The partial aggregates of one view's events in a batch: one state per feature, per entity, hop and tile start.
struct TileFold {
    private struct Key: Hashable {
        var entity: Int
        var hop: Int64
        var start: Int64
    }
    /// The entities met, by number.
    private var entities: [[OnlineValue]] = []
    private var entityNumbers: [[OnlineValue]: Int] = [:]
    /// Per hop: the view's features with that hop (in view order, as tiles hold them), with the column each reads.
    private let byHop: [(hop: Int64, window: AggregationWindow, features: [(function: AggregateFunction, n: Int, column: Int?)])]
    /// The tiles folded so far, their keys, and each key's position.
    private var tiles: [[AggregateState]] = []
    /// Per tile: its events at or after the ingester's clock, kept whole (``RawEvents``).
    private var raw: [RawEvents] = []
    private var keys: [Key] = []
    private var positions: [Key: Int] = [:]

    init(_ mapper: EventMapper) {
        byHop = TileCuts.hops(of: mapper.view).map { hop in
            let features = TileStates.features(of: mapper.view, hop: hop).map { feature in
                let a = feature.aggregation!
                return (a.function, max(1, a.n ?? 1), a.column.flatMap { c in mapper.columns.firstIndex { $0.name == c } })
            }
            return (hop, AggregationWindow(length: hop, hop: hop)!, features)
        }
    }

    /// Folds in an event for every hop whose cut it is not before; false when it is before some hop's cut. An event at or
    /// after `now` (the ingester's clock: a producer's clock ahead of ours) is kept whole in its tile, so that a lookup
    /// in that tile before the event's time does not count it.
    mutating func add(_ row: OnlineRow, cuts: [Int64: Int64], now: Int64) -> Bool {
        var whole = true
        // The entity's number: its key is hashed once per event, not once per hop.
        let entity: Int
        if let known = entityNumbers[row.key] {
            entity = known
        } else {
            entity = entities.count
            entityNumbers[row.key] = entity
            entities.append(row.key)
        }
        for (hop, window, features) in byHop {
            guard row.eventTimestamp >= (cuts[hop] ?? Int64.min) else {
                whole = false
                continue
            }
            let key = Key(entity: entity, hop: hop, start: window.tile(of: row.eventTimestamp))
            let index: Int
            if let known = positions[key] {
                index = known
            } else {
                index = tiles.count
                positions[key] = index
                keys.append(key)
                tiles.append(features.map { AggregateState($0.function, n: $0.n) })
                raw.append(RawEvents())
            }
            if row.eventTimestamp >= now {
                raw[index].events.append(RawEvents.Event(time: row.eventTimestamp,
                                                         values: features.map { f in f.column.flatMap { AggregateValue(row.values[$0]) } }))
                continue
            }
            for (i, feature) in features.enumerated() {
                tiles[index][i].add(feature.column.flatMap { AggregateValue(row.values[$0]) }, at: row.eventTimestamp)
            }
        }
        return whole
    }

    var onlineTiles: [OnlineTile] {
        keys.indices.map { i in
            OnlineTile(key: entities[keys[i].entity], hop: keys[i].hop, start: keys[i].start,
                       states: AggregateState.encode(tiles[i], raw: raw[i]), origin: .stream)
        }
    }
}
