public import FeatureComputation

/// A partition of a stream's topic.
public struct StreamPartition: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The topic's name.
    public var topic: String
    /// The partition's number in the topic, from 0.
    public var partition: Int32

    /// Partition `partition` of `topic`.
    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// By topic, then partition number.
    public static func < (a: Self, b: Self) -> Bool { (a.topic, a.partition) < (b.topic, b.partition) }
    /// `topic/partition`.
    public var description: String { "\(topic)/\(partition)" }
}

/// How backfill and stream share the tiles of an aggregated view fed by a stream, so that every event is counted
/// once.
///
/// For each hop `h` of the view, the online store keeps a *cut* `c_h`, an event time. The backfill (`materialize`)
/// owns the events before the cut: it writes the backfill part of each tile from the offline events with
/// `event_ts < c_h`, replacing what was there. The stream owns the events from the cut on: the ingester merges
/// events with `event_ts >= c_h` into the stream part of their tiles, recording the partitions' offsets in the same
/// transaction (``StreamCheckpointStore/applyStreamTiles(_:)``), so a redelivered event is never merged twice. The two parts
/// hold disjoint events; lookups merge both.
///
/// - The first cut is set by whichever comes first: `materialize` (the window's end, at most now), or an ingester feeding the view
///   (the earliest time: the stream owns every event it sees on time, until a backfill moves the cut).
/// - A later `materialize` moves the cut forward to a hop boundary
///   (``movedCut(current:hop:end:now:allowedLateness:rollInterval:)``) no later than `now - allowed lateness - offline
///   roll interval - 1 minute`: every event the stream merged before that point was on time, so it has reached the
///   offline files since, and the backfill rewrites those tiles whole from them and deletes their stream parts.
/// - An event older than `now - allowed lateness` when the ingester reads it is *late*: it is counted in a metric and
///   kept only in the offline files, where the next backfill that moves the cut past it counts it.
public enum TileCuts {
    /// The cut a backfill at `end` moves a hop's cut to: the hop boundary at or before
    /// `min(end, now - allowedLateness - rollInterval - 1 minute)`, or `current` when that is not later.
    public static func movedCut(current: Int64, hop: Int64, end: Int64, now: Int64, allowedLateness: Int64, rollInterval: Int64) -> Int64 {
        let safe = min(end, now - allowedLateness - rollInterval - 60_000_000)
        let aligned = AggregationWindow(length: hop, hop: hop)?.floorToHop(safe) ?? safe
        return max(current, aligned)
    }

    /// The hops of an aggregated view's features, sorted.
    public static func hops(of view: FeatureView) -> [Int64] {
        Array(Set(view.features.compactMap { $0.aggregation?.computation.hop })).sorted()
    }

    /// The start of the oldest tile of `hop` a lookup can still need at `now`: `floor_hop(now - longest window of
    /// that hop)`.
    public static func oldestNeeded(by view: FeatureView, hop: Int64, now: Int64) -> Int64 {
        view.features.compactMap { $0.aggregation?.computation }.filter { $0.hop == hop }.map { $0.start(at: now) }.min() ?? now
    }

    /// Tiles kept, per hop of `view`: those a lookup at `at - allowedLateness` or later can need (the tiles a late
    /// event can still change, and what lookups and `verify` at those times read). Older ones are deleted by the
    /// ingester (every 5 minutes) and by `materialize`, which does not write them either.
    public static func retention(of view: FeatureView, at: Int64, allowedLateness: Int64) -> [Int64: Int64] {
        Dictionary(uniqueKeysWithValues: hops(of: view).map { ($0, oldestNeeded(by: view, hop: $0, now: at - allowedLateness)) })
    }
}

/// A stream ingester's update of aggregated views: partial aggregates to merge into the stream part of tiles, and
/// the positions the stream reached, applied together or not at all.
public struct StreamTileBatch: Sendable {
    /// The tiles of one view.
    public struct ViewUpdate: Sendable {
        /// The aggregated view's table.
        public var table: OnlineTable
        /// Partial aggregates of the batch's events, one per entity, hop and tile start (origin ``TileOrigin/stream``).
        public var tiles: [OnlineTile]
        /// The cuts the events were split by; the batch is refused when the store's differ.
        public var cuts: [Int64: Int64]

        /// The `tiles` of `table`'s view, its events split by `cuts` (hop -> cut, both in microseconds).
        public init(table: OnlineTable, tiles: [OnlineTile], cuts: [Int64: Int64]) {
            self.table = table
            self.tiles = tiles
            self.cuts = cuts
        }

        /// The aggregated view.
        public var view: FeatureView { table.view }
        /// The view's join keys, in order.
        public var joinKeys: [JoinKey] { table.joinKeys }
    }

    /// Who consumes (the consumer group): positions are kept per consumer.
    public var consumer: String
    /// The positions the batch starts from, for every partition in ``next`` (absent: none recorded); the batch is
    /// refused when the store's differ.
    public var expected: [StreamPartition: Int64]
    /// The positions after the batch.
    public var next: [StreamPartition: Int64]
    /// The tiles to merge, per view.
    public var updates: [ViewUpdate]

    /// A batch of `consumer` moving its positions from `expected` to `next`, with the tiles of `updates`.
    public init(consumer: String, expected: [StreamPartition: Int64], next: [StreamPartition: Int64], updates: [ViewUpdate]) {
        self.consumer = consumer
        self.expected = expected
        self.next = next
        self.updates = updates
    }

    /// Why `stored` positions and cuts are not the ones this batch was computed from (nil: they are).
    public func conflict(positions stored: [StreamPartition: Int64], cuts: (ViewUpdate) -> [Int64: Int64]) -> String? {
        for partition in next.keys.sorted() where stored[partition] != expected[partition] {
            return "the position of \(partition) is \(stored[partition].map(String.init) ?? "unset"), not \(expected[partition].map(String.init) ?? "unset")"
        }
        for update in updates where cuts(update) != update.cuts {
            return "the cuts of '\(update.view.name)' moved"
        }
        return nil
    }
}

/// What ``StreamCheckpointStore/applyStreamTiles(_:)`` did.
public enum StreamTileOutcome: Sendable, Hashable {
    /// Tiles merged and positions recorded.
    case applied
    /// Nothing changed: the stored positions or cuts are not the ones expected (why).
    case conflict(String)
}

extension TileStates {
    /// `stored` with `delta` merged into it (both tiles of `view` with `hop`).
    public static func merge(_ stored: [UInt8], _ delta: [UInt8], view: FeatureView, hop: Int64) throws(OnlineStoreError) -> [UInt8] {
        let features = features(of: view, hop: hop)
        var states = try decode(stored, view: view, features: features)
        let more = try decode(delta, view: view, features: features)
        for i in states.indices { states[i].merge(more[i]) }
        do {
            // Raw events of both (``RawEvents``), kept after the states.
            return AggregateState.encode(states, raw: RawEvents(try raw(of: stored).events + raw(of: delta).events))
        } catch {
            throw OnlineStoreError(.corrupt, "a tile of '\(view.name)'", cause: error)
        }
    }
}

extension AggregateValue {
    /// An event's value as aggregations take it: the same value the offline engine reads from a column of the same
    /// type (float32 widened to a double, timestamps in microseconds); nil for null.
    public init?(_ value: OnlineValue) {
        switch value {
        case .null: return nil
        case .bool(let x): self = .bool(x)
        case .int(let x): self = .int(x)
        case .float(let x): self = .double(Double(x))
        case .double(let x): self = .double(x)
        case .string(let x): self = .string(x)
        case .bytes(let x): self = .bytes(x)
        case .timestamp(let x): self = .timestamp(x)
        case .list: return nil
        }
    }
}
