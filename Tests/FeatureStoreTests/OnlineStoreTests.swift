import TestKinds
import Columnar
import Foundation
import Parquet
import Testing
@testable import FeatureStoreCore

/// Microseconds of a time `seconds` after a fixed origin.
private let origin: Int64 = 1_750_000_000_000_000
private func at(_ seconds: Int64) -> Int64 { origin + seconds * 1_000_000 }
private func date(_ micros: Int64) -> Date { Date(timeIntervalSince1970: Double(micros) / 1_000_000) }

@Suite("Online store", .timeLimit(.minutes(5)))
struct OnlineStoreTests {
    /// The fixture must stay alive while its store is used: it owns the temporary folder.
    func fixture(_ data: [String: Table] = [:]) throws -> (JoinFixture, FeatureStore, FeatureView, [JoinKey]) {
        let f = try JoinFixture(data)
        let store = try f.store
        let view = store.registry.featureView(named: "stats")!
        return (f, store, view, store.registry.joinKeys(of: view))
    }

    func conv(_ store: FeatureStore, _ ids: [Int64], now: Int64) async throws -> OnlineFeatureColumn {
        try await store.getOnlineFeatures(entities: ["driver_id": ids.map { .int($0) }], features: FeatureSelection(parsing: "stats:conv")!,
                                    now: date(now)).columns[0]
    }

    @Test("an older write after a newer one is ignored; equal event times are resolved by created time")
    func eventTimeOrdering() async throws {
        let (fixture, store, view, keys) = try fixture()
        defer { withExtendedLifetime(fixture) {} }
        let online = try await store.onlineStore()
        try await online.write([OnlineRow(key: [.int(1)], eventTimestamp: at(100), createdTimestamp: at(100), values: [.double(0.9), .float(1)])], to: OnlineTable(view: view, joinKeys: keys))
        let ignored = try await online.write([OnlineRow(key: [.int(1)], eventTimestamp: at(50), createdTimestamp: at(500), values: [.double(0.1), .float(1)])], to: OnlineTable(view: view, joinKeys: keys))
        #expect(ignored == 0)
        #expect(try await conv(store, [1], now: at(200)).values == [.double(0.9)])
        try await online.write([OnlineRow(key: [.int(1)], eventTimestamp: at(100), createdTimestamp: at(150), values: [.double(0.7), .float(1)])], to: OnlineTable(view: view, joinKeys: keys))
        #expect(try await conv(store, [1], now: at(200)).values == [.double(0.7)])
        let same = try await online.write([OnlineRow(key: [.int(1)], eventTimestamp: at(100), createdTimestamp: at(150), values: [.double(0.5), .float(1)])], to: OnlineTable(view: view, joinKeys: keys))
        #expect(same == 0, "an exact tie with a lesser encoded row is not a change")
        #expect(try await conv(store, [1], now: at(200)).values == [.double(0.7)])
    }

    @Test("materialize breaks exact ties of event and created time as the join does: the greater encoded row wins in any row order")
    func materializeExactTiesGreaterRowWins() async throws {
        let stats = try statsTable([(1, 1000, 1200, 0.1), (1, 1000, 1200, 0.2), (2, 1000, 1200, 0.2), (2, 1000, 1200, 0.1)])
        let (fixture, store, view, _) = try fixture(["stats": stats])
        defer { withExtendedLifetime(fixture) {} }
        _ = try await store.materialize(start: 0, end: s(2000), views: ["stats"])
        let online = try await conv(store, [1, 2], now: s(2000)).values
        let offline = try await store.joinFeatures(entities: .table(try entityTable(ids: [1, 2], times: [2000, 2000])), features: FeatureSelection(parsing: "stats:conv")!)
        // The winner by the rule, from the rows as the store encodes them (every feature of the view).
        let rows = try await store.onlineStore().read([[.int(1)], [.int(2)]], from: OnlineTable(view: view, joinKeys: store.registry.joinKeys(of: view)))
        let other = rows[0]!.values.dropFirst()
        let winner = [0.1, 0.2].max { OnlineEncoding.rowPrecedes(OnlineEncoding.encodeRow([.double($0)] + other), OnlineEncoding.encodeRow([.double($1)] + other)) }!
        #expect(online == [.double(winner), .double(winner)], "the same winner whichever row comes first")
        #expect(doubles(offline, "conv") == [winner, winner])
    }

    @Test("statuses: PRESENT, NULL_VALUE, NOT_FOUND, and OUTSIDE_MAX_AGE one second past the ttl")
    func statusesAtTheEdge() async throws {
        let (fixture, store, view, keys) = try fixture()
        defer { withExtendedLifetime(fixture) {} }
        try await store.onlineStore().write([
            OnlineRow(key: [.int(1)], eventTimestamp: at(0), values: [.double(0.5), .float(1)]),
            OnlineRow(key: [.int(2)], eventTimestamp: at(0), values: [.null, .float(1)]),
        ], to: OnlineTable(view: view, joinKeys: keys))
        let edge = try await conv(store, [1, 2, 3], now: at(3600))
        #expect(edge.statuses == [.present, .nullValue, .notFound])
        #expect(edge.values == [.double(0.5), .null, .null])
        #expect(edge.eventTimestamps == [at(0), at(0), nil])
        let past = try await conv(store, [1, 2], now: at(3601))
        #expect(past.statuses == [.outsideMaxAge, .outsideMaxAge])
        #expect(past.values == [.null, .null])
    }

    @Test("composite and string keys, several views in one lookup, with full feature names")
    func compositeKeysAndManyViews() async throws {
        let (fixture, store, _, _) = try fixture()
        defer { withExtendedLifetime(fixture) {} }
        let online = try await store.onlineStore()
        let route = store.registry.featureView(named: "route_stats")!
        let profile = store.registry.featureView(named: "profile")!
        try await online.write([OnlineRow(key: [.string("A"), .string("B")], eventTimestamp: at(0), values: [.double(12)])],
                         to: OnlineTable(view: route, joinKeys: store.registry.joinKeys(of: route)))
        try await online.write([OnlineRow(key: [.string("ann")], eventTimestamp: at(0), values: [.string("plus")])],
                         to: OnlineTable(view: profile, joinKeys: store.registry.joinKeys(of: profile)))
        let result = try await store.getOnlineFeatures(
            entities: ["origin": [.string("A"), .string("B")], "dest": [.string("B"), .string("A")], "user_id": [.string("ann"), .string("bob")]],
            features: FeatureSelection(parsing: "route_stats,profile:tier")!, fullFeatureNames: true, now: date(at(60)))
        #expect(result.columns.map(\.name) == ["route_stats__minutes", "profile__tier"])
        #expect(result.columns[0].values == [.double(12), .null])
        #expect(result.columns[0].statuses == [.present, .notFound])
        #expect(result.columns[1].values == [.string("plus"), .null])
    }

    @Test("a missing join key or a value of the wrong type is an error naming the key")
    func badLookups() async throws {
        let (fixture, store, _, _) = try fixture()
        defer { withExtendedLifetime(fixture) {} }
        await #expect { try await store.getOnlineFeatures(entities: ["driver": [.int(1)]], features: .references([FeatureReference(view: "stats")])) }
            throws: { "\($0)" == "missing join key 'driver_id' (needed by feature view 'stats'); given: driver" }
        await #expect { try await store.getOnlineFeatures(entities: ["driver_id": [.string("1")]], features: .references([FeatureReference(view: "stats")])) }
            throws: { "\($0)" == "join key 'driver_id' value 0 is 1, expected int64" }
    }

    @Test("a schema change never serves values decoded with the old schema: the new schema has its own table")
    func schemaChange() async throws {
        let (f, store, view, keys) = try fixture()
        try await store.onlineStore().write([OnlineRow(key: [.int(1)], eventTimestamp: at(0), values: [.double(0.5), .float(1)])], to: OnlineTable(view: view, joinKeys: keys))
        try f.dir.write("defs.yaml", JoinFixture.definitions.replacingOccurrences(of: "{name: acc, type: float32}", with: "{name: acc, type: string}"))
        let changed = try f.store
        let result = try await changed.getOnlineFeatures(entities: ["driver_id": [.int(1)]], features: FeatureSelection(parsing: "stats")!, now: date(at(10)))
        #expect(result.columns.map(\.statuses) == [[.notFound], [.notFound]])
        let views = changed.registry.featureViews.map(changed.onlineTable(of:))
        let dropped = try await changed.onlineStore().dropStale(keeping: views)
        #expect(dropped == [view.name], "the view is named, not its internal table")
    }

    @Test("incremental materialization moves the watermark run by run and never loses or repeats a window")
    func incrementalWatermarks() async throws {
        let stats = try statsTable([(1, 1000, 1000, 0.1), (1, 5000, 5000, 0.2), (2, 9000, 9000, 0.3)])
        let (fixture, store, _, _) = try fixture(["stats": stats])
        defer { withExtendedLifetime(fixture) {} }
        let first = try await store.materializeIncremental(end: s(3000), views: ["stats"])
        // The first run reaches back the ttl and its grace (1h each): every row a lookup at the end can still report.
        #expect(first.map { [$0.start, $0.end, Int64($0.rowsRead)] } == [[s(3000) - 2 * s(3600), s(3000), 1]])
        let second = try await store.materializeIncremental(end: s(8000), views: ["stats"])
        #expect(second.map { [$0.start, $0.end, Int64($0.rowsRead), Int64($0.rowsWritten)] } == [[s(3000), s(8000), 1, 1]])
        #expect(try await store.materializeIncremental(end: s(8000), views: ["stats"]).isEmpty, "nothing new up to the same end")
        _ = try await store.materializeIncremental(end: s(10_000), views: ["stats"])
        #expect(try store.openRegistry().watermark(of: "stats") == s(10_000))
        let online = try await conv(store, [1, 2], now: s(9500))
        #expect(online.values == [.null, .double(0.3)])
        #expect(online.statuses == [.outsideMaxAge, .present])
        let record = try #require(try store.openRegistry().lastMaterialization(of: "stats"))
        #expect(record.report.features["conv"] == FeatureStatistics(nullCount: 0, min: 0.3, max: 0.3, mean: 0.3))
    }

    @Test("incremental materialization starts over when the online store holds nothing of the view's table: a wiped store, a changed schema (its own table)")
    func incrementalStartsOverOnAnEmptyTable() async throws {
        let stats = try statsTable([(1, 5000, 5000, 0.1), (2, 5500, 5500, 0.2)])
        let (fixture, store, view, keys) = try fixture(["stats": stats])
        defer { withExtendedLifetime(fixture) {} }
        _ = try await store.materializeIncremental(end: s(6000), views: ["stats"])
        try await store.onlineStore().deleteAll(of: OnlineTable(view: view, joinKeys: keys))
        let again = try await store.materializeIncremental(end: s(6500), views: ["stats"])
        #expect(again.map { [$0.start, Int64($0.rowsWritten)] } == [[s(6500) - 2 * s(3600), 2]], "from the ttl and its grace again, not from the watermark")
        #expect(try await conv(store, [1, 2], now: s(6500)).values == [.double(0.1), .double(0.2)])
        try fixture.dir.write("defs.yaml", JoinFixture.definitions.replacingOccurrences(of: "{name: acc, type: float32}", with: "{name: acc, type: float64}"))
        let changed = try fixture.store
        let fresh = try await changed.materializeIncremental(end: s(7000), views: ["stats"])
        #expect(fresh.map { [$0.start, Int64($0.rowsWritten)] } == [[s(7000) - 2 * s(3600), 2]], "a new schema's table is filled whole")
        #expect(try await conv(changed, [1, 2], now: s(7000)).values == [.double(0.1), .double(0.2)])
    }

    @Test("after materializing, online values and statuses equal those computed from the rows, and joinFeatures at the same time agrees", arguments: [7, 8, 9])
    func onlineMatchesOffline(seed: UInt64) async throws {
        var rng = SeededGenerator(seed: seed)
        var rows: [(id: Int64?, ts: Int64?, created: Int64?, conv: Double)] = []
        for i in 0..<2000 {
            // Few distinct times and created times: equal (event, created) pairs are common, and the later row wins.
            // Every fifth driver stops reporting at 5,000 s: its newest row is past the ttl at the end.
            let id = Int64(i % 97)
            let ts = Int64.random(in: 0..<(id % 5 == 0 ? 5_000 : 10_000), using: &rng) / 50 * 50
            rows.append((id, ts, ts + Int64.random(in: 0..<3, using: &rng), Double(i) / 7))
        }
        let (fixture, store, _, _) = try fixture(["stats": try statsTable(rows)])
        defer { withExtendedLifetime(fixture) {} }
        let end: Int64 = 10_000
        _ = try await store.materialize(start: 0, end: s(end), views: ["stats"])
        let ids = (0..<100).map { Int64($0) }
        let now = end - 1
        let online = try await conv(store, ids, now: s(now))

        // The oracle, from the rows themselves: per id the greatest (event, created, row index) with event < end;
        // present when within the view's ttl (1h) of now, else withheld; ids 97-99 have no rows.
        var expectedValues: [OnlineValue] = [], expectedStatuses: [FeatureStatus] = [], expectedTimes: [Int64?] = []
        for id in ids {
            let best = rows.indices.filter { rows[$0].id == id && rows[$0].ts! < end }
                .max { (rows[$0].ts!, rows[$0].created!, $0) < (rows[$1].ts!, rows[$1].created!, $1) }
            guard let best else {
                expectedValues.append(.null); expectedStatuses.append(.notFound); expectedTimes.append(nil)
                continue
            }
            let fresh = rows[best].ts! >= now - 3600
            expectedValues.append(fresh ? .double(rows[best].conv) : .null)
            expectedStatuses.append(fresh ? .present : .outsideMaxAge)
            expectedTimes.append(s(rows[best].ts!))
        }
        #expect(expectedStatuses.contains(.present) && expectedStatuses.contains(.outsideMaxAge) && expectedStatuses.contains(.notFound))
        #expect(online.values == expectedValues)
        #expect(online.statuses == expectedStatuses)
        #expect(online.eventTimestamps == expectedTimes)

        // Training at the same time sees the same values (withheld and missing ones as nulls).
        let offline = try await store.joinFeatures(entities: .table(try entityTable(ids: ids, times: ids.map { _ in now })),
                                             features: FeatureSelection(parsing: "stats:conv")!)
        #expect(doubles(offline, "conv") == expectedValues.map { v -> Double? in if case .double(let d) = v { return d } else { return nil } })
    }

    @Test("timestamp features are served in microseconds from any unit, rounding down, and dates at midnight")
    func timestampValues() {
        let ms = Column(timestamps: [1_500, -1_500], unit: .milliseconds)
        let ns = Column(timestamps: [1_999, -1], unit: .nanoseconds)
        let us = Column(timestamps: [42], unit: .microseconds)
        let day = Column(.date32, int32: [1])
        #expect((0..<2).map { ms.onlineValue(at: $0, as: .scalar(.timestamp)) } == [.timestamp(1_500_000), .timestamp(-1_500_000)])
        #expect((0..<2).map { ns.onlineValue(at: $0, as: .scalar(.timestamp)) } == [.timestamp(1), .timestamp(-1)])
        #expect(us.onlineValue(at: 0, as: .scalar(.timestamp)) == .timestamp(42))
        #expect(day.onlineValue(at: 0, as: .scalar(.timestamp)) == .timestamp(86_400_000_000))
    }
}

/// A seeded SplitMix64 generator: the same cases on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Online store errors", .timeLimit(.minutes(3)))
struct OnlineStoreErrorTests {
    @Test("errors carry a code and their cause: a store that cannot be opened is unavailable, with SQLite's error inside")
    func codesAndCauses() async throws {
        let dir = TemporaryDirectory()
        try dir.write("feature_store.yaml", "project: p\nonline_store: {kind: sqlite, path: /proc/no-such-dir/online.db}\n")
        try dir.write("defs.yaml", "entities: []\n")
        let store = try FeatureStore(repository: dir.url, kinds: testKinds)
        do {
            _ = try await store.onlineStore()
            Issue.record("an unreachable store opened")
        } catch {
            #expect(error.code == .unavailable)
            #expect(error.cause != nil, "the cause is kept, not only its text")
            #expect(error.message.contains("/proc/no-such-dir/online.db"))
        }
        // Bytes that are not a stored row are corrupt data, never a crash.
        #expect(throws: OnlineStoreError.self) { _ = try OnlineEncoding.decodeRow([200, 1, 2], count: 1) }
        let corrupt = try #require(throws: OnlineStoreError.self) { _ = try OnlineEncoding.decodeRow([200], count: 1) }
        #expect(corrupt.code == .corrupt)
        // A float is no key: the request is wrong.
        let bad = try #require(throws: OnlineStoreError.self) { _ = try OnlineEncoding.encodeKey([.double(1)]) }
        #expect(bad.code == .invalidRequest)
    }
}
