public import FeatureStoreCore
import FeatureComputation
import Foundation
public import ErrorChain

/// The behaviour every ``OnlineStore`` must have, as checks that any store's tests run: the embedded SQLite store's
/// today, a networked store's when it arrives, so stores cannot drift apart in meaning.
///
/// Each check gets a fresh, empty store from the factory and throws ``ConformanceFailure`` naming what differed.
/// The suite needs no test framework: a test target runs every check as a parameterised test.
///
/// ```swift
/// @Test(arguments: OnlineStoreConformance.checks)
/// func conforms(_ check: OnlineStoreConformance.Check) async throws {
///     try await check.run { try SQLiteOnlineStore(path: temporaryPath()) }
/// }
/// ```
public enum OnlineStoreConformance {
    /// One named behaviour.
    public struct Check: Sendable, CustomStringConvertible {
        /// What the check proves, in a sentence.
        public let name: String
        let body: @Sendable (() throws -> any OnlineStore) async throws -> Void

        /// Runs the check against a fresh store made by `makeStore`: started, checked, stopped.
        ///
        /// - Throws: ``ConformanceFailure`` when the store behaves otherwise; the store's own errors as they come.
        public func run(_ makeStore: () throws -> any OnlineStore) async throws {
            let store = try makeStore()
            try await store.start()
            do {
                try await body { store }
            } catch {
                await store.stop()
                throw error
            }
            await store.stop()
        }

        /// The check's ``name``.
        public var description: String { name }
    }

    /// Every check of the suite: ``rowChecks``, ``tileChecks`` and ``checkpointChecks``, for a store that implements
    /// every part (``OnlineStore``, ``OnlineTileStore``, ``StreamCheckpointStore``).
    public static var checks: [Check] { rowChecks + tileChecks + checkpointChecks }

    /// The checks of an ``OnlineStore``'s own part, latest rows: what a store that keeps rows only must pass.
    public static let rowChecks: [Check] = [
        Check(name: "a newer event replaces the stored row; an older one is ignored and not counted", body: newerEventWins),
        Check(name: "equal event times are broken by created time (none is the lowest); a replay of the same row changes nothing", body: createdTimeBreaksTies),
        Check(name: "exact ties of event and created time go to the greater encoded row in any order, alone or in a batch; far-future times compare exactly", body: exactTiesGoToTheGreaterRow),
        Check(name: "composite keys match on every part; string keys byte for byte (empty, case, non-ASCII)", body: compositeAndStringKeys),
        Check(name: "every value type round-trips: nulls, booleans, Int64 bounds, NaN and infinities, strings, bytes, times, lists", body: valuesRoundTrip),
        Check(name: "one read serves many views and keys, nil where nothing is stored", body: manyViewsInOneRead),
        Check(name: "statistics count rows and give the newest event time", body: statistics),
        Check(name: "a view whose schema changed never reads rows of the old schema, and dropStale removes them by view name", body: schemaVersions),
        Check(name: "deleteAll empties one view and leaves the others", body: deleteAll),
        Check(name: "a batch with a bad row is refused whole: nothing of it is written", body: batchesAreWhole),
    ]

    /// The checks of an ``OnlineTileStore``'s part: tiles of aggregated views.
    public static let tileChecks: [Check] = [
        Check(name: "tiles of an aggregated view: replaced by key, hop and start; read per hop from a start, ordered by hop and start; composite keys", body: tilesRoundTrip),
        Check(name: "tiles: statistics count entities and give the newest tile; deleteAll and a changed recipe (dropStale) remove them", body: tilesLifecycle),
        Check(name: "a tile's backfill and stream parts are apart: each replaced alone, both read; deleteTiles by hop, start and origin", body: tileOrigins),
        Check(name: "roll-ups are kept beside their tiles and read with them; a read plan leaves out no tile a complete roll-up does not stand for; deleteTiles removes them with every origin", body: rollups),
    ]

    /// The checks of a ``StreamCheckpointStore``'s part: stream batches with their positions, exactly once.
    public static let checkpointChecks: [Check] = [
        Check(name: "a stream batch merges into the stream part of its tiles and records its positions at once; a batch from other positions or cuts changes nothing", body: streamBatches),
        Check(name: "cuts are kept per view and recipe, set where missing or replaced; positions per consumer", body: cutsAndPositions),
        Check(name: "a stream batch as large as an ingester's (10,000 entities) is applied in one call, with the backfill parts of the same tiles", body: largeStreamBatch),
    ]

    // MARK: Fixtures

    /// The store as the part a check is about, or a failure saying it does not implement it.
    static func part<P>(_ store: any OnlineStore, as: P.Type) throws -> P {
        guard let part = store as? P else { throw ConformanceFailure("\(type(of: store)) does not implement \(P.self); run only the checks of the parts it implements") }
        return part
    }

    static let driver = [JoinKey(name: "driver_id", type: .int64)]
    static let route = [JoinKey(name: "origin", type: .string), JoinKey(name: "zone", type: .int32)]
    static let stats = FeatureView(name: "stats", entities: ["driver"], source: "s", ttl: .zero,
                                   features: [Feature(name: "conv", type: .scalar(.float64)), Feature(name: "trips", type: .scalar(.int64))])
    static let routes = FeatureView(name: "routes", entities: ["route"], source: "r", ttl: .zero,
                                    features: [Feature(name: "minutes", type: .scalar(.float64))])

    static func row(_ id: Int64, _ event: Int64, created: Int64 = OnlineRow.noCreatedTimestamp, conv: Double) -> OnlineRow {
        OnlineRow(key: [.int(id)], eventTimestamp: event, createdTimestamp: created, values: [.double(conv), .int(id)])
    }

    static func expect<T: Equatable>(_ got: T, _ want: T, _ what: String) throws {
        guard got == want else { throw ConformanceFailure("\(what): got \(got), expected \(want)") }
    }

    static let tripCounts = FeatureView(name: "trip_counts", entities: ["route"], source: "t", ttl: .zero, features: [
        Feature(name: "count_1h", type: .scalar(.int64), aggregation: FeatureAggregation(function: .count, column: nil, window: TimeSpan(seconds: 3600), hop: TimeSpan(seconds: 300))),
    ])

    // MARK: Checks

    static func newerEventWins(_ make: () throws -> any OnlineStore) async throws {
        let store = try make()
        try expect(try await store.write([row(1, 100, conv: 0.1)], to: OnlineTable(view: stats, joinKeys: driver)), 1, "first write")
        try expect(try await store.write([row(1, 200, conv: 0.2)], to: OnlineTable(view: stats, joinKeys: driver)), 1, "newer write")
        try expect(try await store.write([row(1, 150, conv: 0.15)], to: OnlineTable(view: stats, joinKeys: driver)), 0, "older write")
        let got = try await store.read([[.int(1)]], from: OnlineTable(view: stats, joinKeys: driver))
        try expect(got.first??.values, [.double(0.2), .int(1)], "stored values")
        try expect(got.first??.eventTimestamp, 200, "stored event time")
        // Within one batch too: the newest of a key's rows wins whatever their order.
        try await store.write([row(2, 30, conv: 3), row(2, 10, conv: 1), row(2, 20, conv: 2)], to: OnlineTable(view: stats, joinKeys: driver))
        try expect(try await store.read([[.int(2)]], from: OnlineTable(view: stats, joinKeys: driver)).first??.values.first, .double(3), "newest of a batch")
    }

    static func createdTimeBreaksTies(_ make: () throws -> any OnlineStore) async throws {
        let store = try make()
        try await store.write([row(1, 100, created: 5, conv: 0.5)], to: OnlineTable(view: stats, joinKeys: driver))
        try expect(try await store.write([row(1, 100, created: 4, conv: 0.4)], to: OnlineTable(view: stats, joinKeys: driver)), 0, "an older created time")
        try expect(try await store.write([row(1, 100, created: 6, conv: 0.6)], to: OnlineTable(view: stats, joinKeys: driver)), 1, "a newer created time")
        try expect(try await store.write([row(1, 100, created: 6, conv: 0.6)], to: OnlineTable(view: stats, joinKeys: driver)), 0, "a replay of the same row")
        let got = try await store.read([[.int(1)]], from: OnlineTable(view: stats, joinKeys: driver)).first ?? nil
        try expect(got?.values.first, .double(0.6), "value after ties")
        try expect(got?.createdTimestamp, 6, "stored created time")
        // A row without a created time is below any created time, one before 1970 too.
        try await store.write([row(3, 100, created: -5, conv: 0.1)], to: OnlineTable(view: stats, joinKeys: driver))
        try expect(try await store.write([row(3, 100, created: OnlineRow.noCreatedTimestamp, conv: 0.2)], to: OnlineTable(view: stats, joinKeys: driver)), 0,
                   "no created time against one before 1970")
    }

    /// Rows of equal event and created times: the greater encoded row wins (``OnlineEncoding/replaces(event:created:row:stored:)``),
    /// whatever order they arrive in, one at a time or in one batch; far-future times compare exactly.
    static func exactTiesGoToTheGreaterRow(_ make: () throws -> any OnlineStore) async throws {
        let store = try make()
        let values = [0.1, 0.2, 0.3, -0.0, 0.0, .nan, .infinity, 1e300]
        let greatest = values.max { OnlineEncoding.rowPrecedes(OnlineEncoding.encodeRow([.double($0), .int(1)]), OnlineEncoding.encodeRow([.double($1), .int(1)])) }!
        let far = Int64.max - 1
        for (id, order) in [values, values.reversed(), values.sorted { $0.bitPattern < $1.bitPattern }].enumerated() {
            let key = Int64(10 + id)
            for v in order { try await store.write([row(key, far, created: far, conv: v)], to: OnlineTable(view: stats, joinKeys: driver)) }
            let got = try await store.read([[.int(key)]], from: OnlineTable(view: stats, joinKeys: driver)).first ?? nil
            try expect(got?.values.first.map { "\($0)" }, "\(OnlineValue.double(greatest))", "the greater row of exact ties, one write at a time (order \(id))")
            try await store.write(order.map { row(key + 100, 7, created: -3, conv: $0) }, to: OnlineTable(view: stats, joinKeys: driver))
            let batch = try await store.read([[.int(key + 100)]], from: OnlineTable(view: stats, joinKeys: driver)).first ?? nil
            try expect(batch?.values.first.map { "\($0)" }, "\(OnlineValue.double(greatest))", "the greater row of exact ties in one batch (order \(id))")
        }
        // Far-future times one microsecond apart are told apart (Redis's Lua numbers are doubles).
        try await store.write([row(20, far - 1, conv: 1)], to: OnlineTable(view: stats, joinKeys: driver))
        try expect(try await store.write([row(20, far, conv: 2)], to: OnlineTable(view: stats, joinKeys: driver)), 1, "a far-future event 1 us newer")
        try expect(try await store.write([row(20, far - 1, conv: 3)], to: OnlineTable(view: stats, joinKeys: driver)), 0, "a far-future event 1 us older")
    }

    static func compositeAndStringKeys(_ make: () throws -> any OnlineStore) async throws {
        let store = try make()
        let keys: [[OnlineValue]] = [[.string("a"), .int(1)], [.string("a"), .int(2)], [.string("A"), .int(1)], [.string(""), .int(1)],
                                     [.string("zürich"), .int(1)], [.string("zu\u{308}rich"), .int(1)], [.string("a\u{0}b"), .int(1)]]
        let rows = keys.enumerated().map { i, key in OnlineRow(key: key, eventTimestamp: 1, values: [.double(Double(i))]) }
        try expect(try await store.write(rows, to: OnlineTable(view: routes, joinKeys: route)), keys.count, "distinct keys written")
        let got = try await store.read(keys + [[.string("b"), .int(1)], [.string("a"), .int(3)]], from: OnlineTable(view: routes, joinKeys: route))
        try expect(got.map { $0?.values.first }, keys.indices.map { OnlineValue.double(Double($0)) } + [nil, nil], "values by key")
    }

    static func valuesRoundTrip(_ make: () throws -> any OnlineStore) async throws {
        let store = try make()
        let kinds = FeatureView(name: "kinds", entities: ["driver"], source: "s", ttl: .zero, features: [
            Feature(name: "b", type: .scalar(.bool)), Feature(name: "i", type: .scalar(.int64)), Feature(name: "i32", type: .scalar(.int32)),
            Feature(name: "f", type: .scalar(.float32)), Feature(name: "d", type: .scalar(.float64)), Feature(name: "s", type: .scalar(.string)),
            Feature(name: "y", type: .scalar(.bytes)), Feature(name: "t", type: .scalar(.timestamp)), Feature(name: "l", type: .list(.string)),
        ])
        let rows: [[OnlineValue]] = [
            [.bool(true), .int(.max), .int(Int64(Int32.min)), .float(.infinity), .double(-0.0), .string("é\"\\\n"), .bytes([0, 255]), .timestamp(-1), .list([.string("x"), .null])],
            [.bool(false), .int(.min), .int(0), .float(-.infinity), .double(.leastNonzeroMagnitude), .string(""), .bytes([]), .timestamp(.max), .list([])],
            Array(repeating: .null, count: 9),
        ]
        try await store.write(rows.enumerated().map { OnlineRow(key: [.int(Int64($0))], eventTimestamp: 1, values: $1) }, to: OnlineTable(view: kinds, joinKeys: driver))
        let got = try await store.read([[.int(0)], [.int(1)], [.int(2)]], from: OnlineTable(view: kinds, joinKeys: driver))
        for (i, want) in rows.enumerated() {
            try expect(got[i]?.values, want, "row \(i)")
        }
        // NaN is not equal to itself: checked by its bits.
        try await store.write([OnlineRow(key: [.int(9)], eventTimestamp: 1, values: [.null, .null, .null, .float(.nan), .double(.nan), .null, .null, .null, .null])], to: OnlineTable(view: kinds, joinKeys: driver))
        let nan = try await store.read([[.int(9)]], from: OnlineTable(view: kinds, joinKeys: driver)).first ?? nil
        guard case .float(let f)? = nan?.values[3], f.isNaN, case .double(let d)? = nan?.values[4], d.isNaN else {
            throw ConformanceFailure("NaN did not round-trip: \(String(describing: nan?.values))")
        }
    }

    static func manyViewsInOneRead(_ make: () throws -> any OnlineStore) async throws {
        let store = try make()
        try await store.write([row(1, 1, conv: 0.1), row(2, 1, conv: 0.2)], to: OnlineTable(view: stats, joinKeys: driver))
        try await store.write([OnlineRow(key: [.string("a"), .int(1)], eventTimestamp: 1, values: [.double(9)])], to: OnlineTable(view: routes, joinKeys: route))
        let got = try await store.read([
            OnlineReadRequest(table: OnlineTable(view: stats, joinKeys: driver), keys: [[.int(2)], [.int(3)], [.int(1)]]),
            OnlineReadRequest(table: OnlineTable(view: routes, joinKeys: route), keys: [[.string("a"), .int(1)]]),
        ])
        try expect(got.map { $0.map { $0?.values.first } }, [[.double(0.2), nil, .double(0.1)], [.double(9)]], "values per request")
    }

    static func statistics(_ make: () throws -> any OnlineStore) async throws {
        let store = try make()
        let empty = try await store.statistics(of: OnlineTable(view: stats, joinKeys: driver))
        try expect(empty.rows, 0, "rows of an empty view")
        try expect(empty.newestEventTimestamp, nil, "newest event of an empty view")
        try await store.write([row(1, 50, conv: 0), row(2, 70, conv: 0), row(3, 60, conv: 0), row(2, 10, conv: 0)], to: OnlineTable(view: stats, joinKeys: driver))
        let three = try await store.statistics(of: OnlineTable(view: stats, joinKeys: driver))
        try expect(three.rows, 3, "rows of three entities")
        try expect(three.newestEventTimestamp, 70, "newest event time")
    }

    static func schemaVersions(_ make: () throws -> any OnlineStore) async throws {
        let store = try make()
        try await store.write([row(1, 1, conv: 0.5)], to: OnlineTable(view: stats, joinKeys: driver))
        var changed = stats
        changed.features[1] = Feature(name: "trips", type: .scalar(.string))
        try expect(try await store.read([[.int(1)]], from: OnlineTable(view: changed, joinKeys: driver)), [nil], "the new schema does not see old rows")
        try await store.write([OnlineRow(key: [.int(1)], eventTimestamp: 1, values: [.double(0.7), .string("x")])], to: OnlineTable(view: changed, joinKeys: driver))
        try await store.write([OnlineRow(key: [.string("a"), .int(1)], eventTimestamp: 1, values: [.double(9)])], to: OnlineTable(view: routes, joinKeys: route))
        try expect(try await store.dropStale(keeping: [OnlineTable(view: changed, joinKeys: driver), OnlineTable(view: routes, joinKeys: route)]), ["stats"], "dropped views")
        try expect(try await store.read([[.int(1)]], from: OnlineTable(view: changed, joinKeys: driver)).first??.values, [.double(0.7), .string("x")], "the new schema's row")
        try expect(try await store.read([[.int(1)]], from: OnlineTable(view: stats, joinKeys: driver)), [nil], "old rows gone")
        try expect(try await store.dropStale(keeping: [OnlineTable(view: changed, joinKeys: driver)]), ["routes"], "a removed view")
    }

    static func deleteAll(_ make: () throws -> any OnlineStore) async throws {
        let store = try make()
        try await store.write([row(1, 1, conv: 0.1)], to: OnlineTable(view: stats, joinKeys: driver))
        try await store.write([OnlineRow(key: [.string("a"), .int(1)], eventTimestamp: 1, values: [.double(9)])], to: OnlineTable(view: routes, joinKeys: route))
        try await store.deleteAll(of: OnlineTable(view: stats, joinKeys: driver))
        try expect(try await store.read([[.int(1)]], from: OnlineTable(view: stats, joinKeys: driver)), [nil], "deleted view")
        try expect(try await store.statistics(of: OnlineTable(view: routes, joinKeys: route)).rows, 1, "other view")
    }

    static func batchesAreWhole(_ make: () throws -> any OnlineStore) async throws {
        let store = try make()
        let bad = OnlineRow(key: [.int(3)], eventTimestamp: 1, values: [.double(1)])  // one value for two features
        do {
            try await store.write([row(1, 1, conv: 0.1), row(2, 1, conv: 0.2), bad], to: OnlineTable(view: stats, joinKeys: driver))
            throw ConformanceFailure("a row with the wrong number of values was accepted")
        } catch is OnlineStoreError {
            // refused, as it must be
        }
        try expect(try await store.read([[.int(1)], [.int(2)]], from: OnlineTable(view: stats, joinKeys: driver)), [nil, nil], "nothing of the batch")
    }
}

extension OnlineStoreConformance {
    static func tilesRoundTrip(_ make: () throws -> any OnlineStore) async throws {
        let store = try part(make(), as: (any OnlineTileStore).self)
        let a: [OnlineValue] = [.string("zürich"), .int(1)], b: [OnlineValue] = [.string(""), .int(1)]
        try await store.writeTiles([
            OnlineTile(key: a, hop: 300, start: 600, states: [1]),
            OnlineTile(key: a, hop: 300, start: 300, states: [2]),
            OnlineTile(key: a, hop: 60, start: 900, states: [3]),
            OnlineTile(key: b, hop: 300, start: 300, states: [4]),
        ], to: OnlineTable(view: tripCounts, joinKeys: route))
        try await store.writeTiles([OnlineTile(key: a, hop: 300, start: 600, states: [5, 6])], to: OnlineTable(view: tripCounts, joinKeys: route))
        let got = try await store.readTiles([a, b, [.string("x"), .int(1)]], of: OnlineTable(view: tripCounts, joinKeys: route), from: [60: 300, 300: 300])
        try expect(got.map { $0.map { [$0.hop, $0.start] } }, [[[60, 900], [300, 300], [300, 600]], [[300, 300]], []], "tiles by hop, then start")
        try expect(got[0].map(\.states), [[3], [2], [5, 6]], "a tile replaced by the later write")
        try expect(got[0].allSatisfy { $0.key == a }, true, "tiles carry their key")
        let later = try await store.readTiles([a], of: OnlineTable(view: tripCounts, joinKeys: route), from: [60: 301, 300: 301])
        try expect(later[0].map(\.start), [900, 600], "only tiles from the start given")
        let perHop = try await store.readTiles([a], of: OnlineTable(view: tripCounts, joinKeys: route), from: [60: 1000, 300: 0])
        try expect(perHop[0].map { [$0.hop, $0.start] }, [[300, 300], [300, 600]], "each hop from its own start; hops not asked for are not read")
        // Events before 1970 have negative tile starts, down to the smallest a hop can have.
        let c: [OnlineValue] = [.string("old"), .int(-1)]
        let oldest = Int64.min - Int64.min % 300 + 300
        try await store.writeTiles([OnlineTile(key: c, hop: 300, start: -600, states: [7]),
                                    OnlineTile(key: c, hop: 300, start: oldest, states: [8]),
                                    OnlineTile(key: c, hop: 300, start: 0, states: [9], origin: .stream)], to: OnlineTable(view: tripCounts, joinKeys: route))
        let early = try await store.readTiles([c], of: OnlineTable(view: tripCounts, joinKeys: route), from: [300: Int64.min])[0]
        try expect(early.map { "\($0.start)/\($0.origin)" }, ["\(oldest)/backfill", "-600/backfill", "0/stream"], "negative starts, ordered")
        try expect(early.map(\.states), [[8], [7], [9]], "their states")
    }

    static func tilesLifecycle(_ make: () throws -> any OnlineStore) async throws {
        let store = try part(make(), as: (any OnlineTileStore).self)
        try await store.writeTiles([OnlineTile(key: [.string("a"), .int(1)], hop: 300, start: 600, states: [1]),
                                    OnlineTile(key: [.string("a"), .int(1)], hop: 300, start: 900, states: [1]),
                                    OnlineTile(key: [.string("b"), .int(2)], hop: 300, start: 300, states: [1])], to: OnlineTable(view: tripCounts, joinKeys: route))
        let tileStatistics = try await store.statistics(of: OnlineTable(view: tripCounts, joinKeys: route))
        try expect(tileStatistics.rows, 2, "entities with tiles")
        try expect(tileStatistics.newestEventTimestamp, 900, "newest tile")
        var changed = tripCounts
        changed.features[0].aggregation?.hop = TimeSpan(seconds: 600)
        try expect(changed.schemaVersion(keys: route) != tripCounts.schemaVersion(keys: route), true, "another hop is another schema")
        try expect(try await store.readTiles([[.string("a"), .int(1)]], of: OnlineTable(view: changed, joinKeys: route), from: [h: 0, 600_000_000: 0]), [[]], "no tiles of the old recipe")
        try expect(try await store.dropStale(keeping: [OnlineTable(view: changed, joinKeys: route)]), ["trip_counts"], "the old recipe's tiles are stale")
        try expect(try await store.readTiles([[.string("a"), .int(1)]], of: OnlineTable(view: tripCounts, joinKeys: route), from: [h: 0, 600_000_000: 0]), [[]], "dropped")
        try await store.writeTiles([OnlineTile(key: [.string("a"), .int(1)], hop: 600, start: 600, states: [1])], to: OnlineTable(view: changed, joinKeys: route))
        try await store.deleteAll(of: OnlineTable(view: changed, joinKeys: route))
        try expect(try await store.statistics(of: OnlineTable(view: changed, joinKeys: route)).rows, 0, "deleteAll removes tiles")
    }
}

extension OnlineStoreConformance {
    static let a: [OnlineValue] = [.string("a"), .int(1)]
    /// The hop of ``tripCounts``, microseconds.
    static let h: Int64 = 300_000_000

    /// The encoded state of a tile of ``tripCounts`` counting `n` events.
    static func counted(_ n: Int) -> [UInt8] {
        var state = AggregateState(.count)
        for i in 0..<n { state.add(nil, at: Int64(i)) }
        return TileStates.encode([state])
    }

    static func count(_ tiles: [OnlineTile]) throws -> [Int64] {
        try tiles.map { tile in
            guard case .int(let n)? = try TileStates.decode(tile.states, view: tripCounts, hop: tile.hop)[0].result else {
                throw ConformanceFailure("a tile holds no count")
            }
            return n
        }
    }

    static func tileOrigins(_ make: () throws -> any OnlineStore) async throws {
        let store = try part(make(), as: (any OnlineTileStore).self)
        try await store.writeTiles([OnlineTile(key: a, hop: h, start: 600, states: counted(1)),
                                    OnlineTile(key: a, hop: h, start: 600, states: counted(2), origin: .stream),
                                    OnlineTile(key: a, hop: h, start: 900, states: counted(3), origin: .stream)], to: OnlineTable(view: tripCounts, joinKeys: route))
        try await store.writeTiles([OnlineTile(key: a, hop: h, start: 600, states: counted(4))], to: OnlineTable(view: tripCounts, joinKeys: route))
        var got = try await store.readTiles([a], of: OnlineTable(view: tripCounts, joinKeys: route), from: [h: 0, 600_000_000: 0])[0]
        try expect(got.map { "\($0.start)/\($0.origin)" }, ["600/backfill", "600/stream", "900/stream"], "both parts, by start")
        try expect(try count(got), [4, 2, 3], "the backfill part replaced alone")
        try expect(try await store.deleteTiles(of: OnlineTable(view: tripCounts, joinKeys: route), before: [h: 900], origin: .stream), 1, "one stream part before 900")
        got = try await store.readTiles([a], of: OnlineTable(view: tripCounts, joinKeys: route), from: [h: 0, 600_000_000: 0])[0]
        try expect(got.map { "\($0.start)/\($0.origin)" }, ["600/backfill", "900/stream"], "the backfill part stays")
        try expect(try await store.deleteTiles(of: OnlineTable(view: tripCounts, joinKeys: route), before: [60: 10_000], origin: nil), 0, "another hop: nothing")
        try expect(try await store.deleteTiles(of: OnlineTable(view: tripCounts, joinKeys: route), before: [h: 901], origin: nil), 2, "both origins")
        try expect(try await store.readTiles([a], of: OnlineTable(view: tripCounts, joinKeys: route), from: [h: 0, 600_000_000: 0]), [[]], "all gone")
    }

    static func streamBatches(_ make: () throws -> any OnlineStore) async throws {
        let store = try part(make(), as: (any StreamCheckpointStore).self)
        let p0 = StreamPartition("trips", 0), p1 = StreamPartition("trips", 1)
        try await store.writeTiles([OnlineTile(key: a, hop: h, start: 600, states: counted(10))], to: OnlineTable(view: tripCounts, joinKeys: route))
        let cuts = try await store.setTileCuts([h: 600], of: OnlineTable(view: tripCounts, joinKeys: route), onlyMissing: true)
        func batch(expected: [StreamPartition: Int64], next: [StreamPartition: Int64], events: Int, cuts: [Int64: Int64]) -> StreamTileBatch {
            StreamTileBatch(consumer: "g", expected: expected, next: next, updates: [
                .init(table: OnlineTable(view: tripCounts, joinKeys: route), tiles: [OnlineTile(key: a, hop: h, start: 600, states: counted(events), origin: .stream)], cuts: cuts)])
        }
        try expect(try await store.applyStreamTiles(batch(expected: [:], next: [p0: 5, p1: 2], events: 2, cuts: cuts)), .applied, "first batch")
        try expect(try await store.applyStreamTiles(batch(expected: [p0: 5, p1: 2], next: [p0: 9, p1: 2], events: 3, cuts: cuts)), .applied, "second batch")
        var got = try await store.readTiles([a], of: OnlineTable(view: tripCounts, joinKeys: route), from: [h: 0, 600_000_000: 0])[0]
        try expect(try count(got), [10, 5], "merged into the stream part; the backfill part untouched")
        try expect(try await store.streamPositions(consumer: "g"), [p0: 9, p1: 2], "positions recorded")
        // A replay of the second batch (computed from the positions before it) is refused.
        let replay = try await store.applyStreamTiles(batch(expected: [p0: 5, p1: 2], next: [p0: 9, p1: 2], events: 3, cuts: cuts))
        guard case .conflict = replay else { throw ConformanceFailure("a replayed batch was applied: \(replay)") }
        // So is a batch split by other cuts.
        let moved = try await store.applyStreamTiles(batch(expected: [p0: 9, p1: 2], next: [p0: 10], events: 1, cuts: [h: 300]))
        guard case .conflict = moved else { throw ConformanceFailure("a batch split by other cuts was applied: \(moved)") }
        got = try await store.readTiles([a], of: OnlineTable(view: tripCounts, joinKeys: route), from: [h: 0, 600_000_000: 0])[0]
        try expect(try count(got), [10, 5], "refused batches change no tile")
        try expect(try await store.streamPositions(consumer: "g"), [p0: 9, p1: 2], "nor any position")
        try expect(try await store.streamPositions(consumer: "other"), [:], "positions are per consumer")
    }

    static func largeStreamBatch(_ make: () throws -> any OnlineStore) async throws {
        let store = try part(make(), as: (any StreamCheckpointStore).self)
        let entities: [[OnlineValue]] = (0..<10_000).map { [.string("zone-\($0 % 97)"), .int(Int64($0))] }
        try await store.writeTiles(entities.map { OnlineTile(key: $0, hop: h, start: 600, states: counted(1)) }, to: OnlineTable(view: tripCounts, joinKeys: route))
        let cuts = try await store.setTileCuts([h: 600], of: OnlineTable(view: tripCounts, joinKeys: route), onlyMissing: true)
        let p0 = StreamPartition("trips", 0)
        for (round, events) in [2, 3].enumerated() {
            let tiles = entities.map { OnlineTile(key: $0, hop: h, start: 600, states: counted(events), origin: .stream) }
            let batch = StreamTileBatch(consumer: "g", expected: round == 0 ? [:] : [p0: 10_000], next: [p0: 10_000 * Int64(round + 1)],
                                        updates: [.init(table: OnlineTable(view: tripCounts, joinKeys: route), tiles: tiles, cuts: cuts)])
            try expect(try await store.applyStreamTiles(batch), .applied, "batch \(round + 1)")
        }
        let sample = [entities[0], entities[4_321], entities[9_999]]
        for tiles in try await store.readTiles(sample, of: OnlineTable(view: tripCounts, joinKeys: route), from: [h: 0]) {
            try expect(try count(tiles), [1, 5], "each entity's backfill part and its merged stream part")
        }
        try expect(try await store.streamPositions(consumer: "g"), [p0: 20_000], "positions recorded")
    }

    static func cutsAndPositions(_ make: () throws -> any OnlineStore) async throws {
        let store = try part(make(), as: (any StreamCheckpointStore).self)
        try expect(try await store.tileCuts(of: OnlineTable(view: tripCounts, joinKeys: route)), [:], "no cuts at first")
        try expect(try await store.setTileCuts([h: 900], of: OnlineTable(view: tripCounts, joinKeys: route), onlyMissing: true), [h: 900], "set")
        try expect(try await store.setTileCuts([h: 600, 60: 60], of: OnlineTable(view: tripCounts, joinKeys: route), onlyMissing: true), [h: 900, 60: 60], "only where missing")
        try expect(try await store.setTileCuts([h: 1200], of: OnlineTable(view: tripCounts, joinKeys: route), onlyMissing: false), [h: 1200, 60: 60], "replaced")
        try expect(try await store.tileCuts(of: OnlineTable(view: tripCounts, joinKeys: route)), [h: 1200, 60: 60], "read back")
        var changed = tripCounts
        changed.features[0].aggregation?.window = TimeSpan(seconds: 7200)
        try expect(try await store.tileCuts(of: OnlineTable(view: changed, joinKeys: route)), [:], "another recipe has its own cuts")
        try await store.dropStale(keeping: [OnlineTable(view: changed, joinKeys: route)])
        try expect(try await store.tileCuts(of: OnlineTable(view: tripCounts, joinKeys: route)), [:], "dropStale removes the cuts of what it drops")
    }
}

/// A store that does not behave as the ``OnlineStoreConformance`` suite requires.
public struct ConformanceFailure: ChainedError {
    /// What differed.
    public var message: String
    /// A failure saying `message`.
    public init(_ message: String) { self.message = message }
    /// `conformance`.
    public var errorCode: String { "conformance" }
    /// The message.
    public var description: String { ErrorChain.render(self) }
}

extension OnlineStoreConformance {
    /// A view whose hourly tiles roll up by day (a 2-day window).
    static let dailyCounts = FeatureView(name: "daily_counts", entities: ["route"], source: "t", ttl: .zero, features: [
        Feature(name: "count_2d", type: .scalar(.int64), aggregation: FeatureAggregation(function: .count, column: nil, window: TimeSpan(seconds: 2 * 86_400), hop: TimeSpan(seconds: 3_600))),
    ])

    static func rollups(_ make: () throws -> any OnlineStore) async throws {
        let store = try part(make(), as: (any OnlineTileStore).self)
        let table = OnlineTable(view: dailyCounts, joinKeys: route)
        let hour: Int64 = 3_600_000_000, day = 24 * hour
        try expect(TileRollups.span(of: dailyCounts, hop: hour), day, "hourly tiles of a 2-day window roll up by day")
        func counts(_ n: Int64, coverage: Int64) -> [UInt8] {
            var state = AggregateState(.count)
            for i in 0..<n { state.add(nil, at: i) }
            return TileRollups.encode([state], coverage: coverage)
        }
        // Day -1 (before 1970) and day 0 whole, with complete roll-ups; day 1 begun, its roll-up incomplete; a stream part.
        var tiles: [OnlineTile] = []
        for start in stride(from: -day, to: day + 3 * hour, by: Int(hour)) { tiles.append(OnlineTile(key: a, hop: hour, start: start, states: counted(1))) }
        tiles.append(OnlineTile(key: a, hop: hour, start: -day, states: counts(24, coverage: day + 3 * hour), origin: .rollup))
        tiles.append(OnlineTile(key: a, hop: hour, start: 0, states: counts(24, coverage: day + 3 * hour), origin: .rollup))
        tiles.append(OnlineTile(key: a, hop: hour, start: day, states: counts(3, coverage: day + 3 * hour), origin: .rollup))
        tiles.append(OnlineTile(key: a, hop: hour, start: day + 3 * hour, states: counted(1), origin: .stream))
        try await store.writeTiles(tiles, to: table)
        func spots(_ tiles: [OnlineTile]) -> [String] { tiles.map { "\($0.start / hour)h/\($0.origin)" } }
        let all = try await store.readTiles([a], of: table, from: [hour: -day])[0]
        try expect(all.count, 48 + 3 + 3 + 1, "every tile, roll-ups and the stream part too")
        try expect(spots(all.filter { $0.origin == .rollup }), ["-24h/rollup", "0h/rollup", "24h/rollup"], "roll-ups by start")
        try expect(spots(all) == spots(all.sorted { ($0.start, $0.origin.rawValue) < ($1.start, $1.origin.rawValue) }), true, "ordered by start, then origin")
        try expect(spots(try await store.readTiles([a], of: table, from: [hour: 0])[0].filter { $0.origin == .rollup }), ["0h/rollup", "24h/rollup"], "roll-ups from the start given")
        // A plan: what a store returns is what the full read returns, less at most the tiles complete roll-ups stand for.
        func checkPlan(_ plan: TileReadPlan, _ what: String) async throws {
            let got = try await store.readTiles([a], of: table, plans: [hour: plan])[0]
            let full = try await store.readTiles([a], of: table, from: [hour: plan.from])[0]
            try expect(Set(spots(got)).isSubset(of: Set(spots(full))), true, "\(what): only stored tiles")
            let complete = full.filter { $0.origin == .rollup && TileRollups.isComplete($0, span: day) }.map(\.start)
            for tile in full where !got.contains(tile) {
                let rollup = TileRollups.spanStart(of: tile.start, span: day)
                guard tile.origin != .rollup, complete.contains(rollup), plan.mayOmit(tile: tile.start, rollup: rollup) else {
                    throw ConformanceFailure("\(what): left out \(tile.start / hour)h/\(tile.origin), which no complete roll-up stands for")
                }
            }
            try expect(spots(got) == spots(got.sorted { ($0.start, $0.origin.rawValue) < ($1.start, $1.origin.rawValue) }), true, "\(what): ordered")
        }
        try await checkPlan(TileReadPlan(from: -day, span: day, until: day + 3 * hour, windowStarts: [-day]), "a window holding both whole days")
        try await checkPlan(TileReadPlan(from: -day, span: day, until: day + 3 * hour, windowStarts: [-day, 5 * hour]), "a second window starting inside day 0")
        try await checkPlan(TileReadPlan(from: -day, span: day, until: day - 1, windowStarts: [-day]), "a lookup before day 0 ends")
        try await checkPlan(TileReadPlan(from: -day + 2 * hour, span: day, until: day + 3 * hour, windowStarts: [-day + 2 * hour]), "a window starting inside day -1")
        try await checkPlan(TileReadPlan(from: -day, span: nil, until: day + 3 * hour, windowStarts: [-day]), "no span")
        try expect(try await store.deleteTiles(of: table, before: [hour: 0], origin: .backfill), 24, "the backfill parts of day -1, not its roll-up")
        try expect(try await store.deleteTiles(of: table, before: [hour: day], origin: nil), 24 + 2, "day 0's tiles and both roll-ups")
        try expect(spots(try await store.readTiles([a], of: table, from: [hour: Int64.min])[0]),
                   ["24h/backfill", "24h/rollup", "25h/backfill", "26h/backfill", "27h/stream"], "what is left")
    }
}
