import TestKinds
import Codecs
import Columnar
import Foundation
import Parquet
import Testing
@testable import FeatureStoreCore

/// A repository for join tests: drivers (int64 key), routes (two string keys), users (string key);
/// `stats` (ttl 1h, created timestamps), `daily` (ttl 0, a field mapping), `route_stats` (ttl 2h), `profile` (ttl 1d).
struct JoinFixture {
    let dir = TemporaryDirectory()

    static let definitions = """
        entities:
          - name: driver
            join_keys: [{name: driver_id, type: int64}]
          - name: route
            join_keys: [{name: origin, type: string}, {name: dest, type: string}]
          - name: user
            join_keys: [{name: user_id, type: string}]
        sources:
          - {name: stats_src, kind: parquet, path: data/stats.parquet, timestamp_field: event_ts, created_timestamp_field: created_ts}
          - {name: daily_src, kind: parquet, path: data/daily.parquet, timestamp_field: day_ts, field_mapping: {trips_raw: trips}}
          - {name: route_src, kind: parquet, path: data/route.parquet, timestamp_field: event_ts}
          - {name: profile_src, kind: parquet, path: data/profile.parquet, timestamp_field: event_ts}
        feature_views:
          - name: stats
            entities: [driver]
            source: stats_src
            ttl: 1h
            features: [{name: conv, type: float64}, {name: acc, type: float32}]
          - name: daily
            entities: [driver]
            source: daily_src
            ttl: 0
            features: [{name: trips, type: int64}, {name: conv, type: float64}]
          - name: route_stats
            entities: [route]
            source: route_src
            ttl: 2h
            features: [{name: minutes, type: float64}]
          - name: profile
            entities: [user]
            source: profile_src
            ttl: 1d
            features: [{name: tier, type: string}]

        """

    /// The kinds the fixture's store has (the tests' own, plus any a test adds).
    var kinds = testKinds

    /// Writes the definitions and the given source tables (file name -> table).
    init(_ data: [String: Table]) throws {
        try dir.write("feature_store.yaml", "project: join_test\n")
        try dir.write("defs.yaml", Self.definitions)
        try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("data"), withIntermediateDirectories: true)
        for (name, table) in data {
            try ParquetFileWriter.write(table, to: dir.url.appendingPathComponent("data/\(name).parquet").path)
        }
    }

    var store: FeatureStore { get throws { try FeatureStore(repository: dir.url, kinds: kinds) } }

    func join(_ entities: Table, _ features: String, fullNames: Bool = false) async throws -> Table {
        try await store.joinFeatures(entities: .table(entities), features: FeatureSelection(parsing: features)!,
                               options: JoinOptions(fullFeatureNames: fullNames))
    }
}

/// Seconds to microseconds.
func s(_ seconds: Int64) -> Int64 { seconds * 1_000_000 }

func statsTable(_ rows: [(id: Int64?, ts: Int64?, created: Int64?, conv: Double)]) throws -> Table {
    try Table([
        ("driver_id", Column(int64: rows.map(\.id))),
        ("event_ts", Column(timestamps: rows.map { $0.ts.map(s) })),
        ("created_ts", Column(timestamps: rows.map { $0.created.map(s) })),
        ("conv", Column(float64: rows.map(\.conv))),
        ("acc", Column(float32: rows.map { Float($0.conv / 2) })),
    ])
}

func entityTable(ids: [Int64?], times: [Int64?], extra: [(String, Column)] = []) throws -> Table {
    try Table([("driver_id", Column(int64: ids)), ("event_timestamp", Column(timestamps: times.map { $0.map(s) }))] + extra)
}

func doubles(_ table: Table, _ name: String) -> [Double?] {
    guard let c = table.column(named: name), case .float64(let v) = c.values else { return [] }
    return v.indices.map { c.isNull($0) ? nil : v[$0] }
}

@Suite("Point-in-time join", .timeLimit(.minutes(5)))
struct JoinTests {
    @Test("the upper bound is inclusive: a row at exactly the entity's time matches")
    func inclusiveUpperBound() async throws {
        let f = try JoinFixture(["stats": try statsTable([(1, 1000, 1000, 0.5), (1, 1001, 1001, 0.9)])])
        let out = try await f.join(try entityTable(ids: [1], times: [1000]), "stats:conv")
        #expect(doubles(out, "conv") == [0.5])
    }

    @Test("the ttl edge is inclusive: a row exactly ttl old matches, one second older does not")
    func ttlEdge() async throws {
        let f = try JoinFixture(["stats": try statsTable([(1, 1000, 1000, 0.5)])])
        let out = try await f.join(try entityTable(ids: [1, 1], times: [1000 + 3600, 1000 + 3601]), "stats:conv")
        #expect(doubles(out, "conv") == [0.5, nil])
    }

    @Test("equal event times are broken by the greatest created time, whatever the file order")
    func createdTieBreak() async throws {
        let f = try JoinFixture(["stats": try statsTable([(1, 1000, 1300, 0.3), (1, 1000, 1200, 0.2), (1, 1000, 1100, 0.1)])])
        let out = try await f.join(try entityTable(ids: [1], times: [2000]), "stats:conv")
        #expect(doubles(out, "conv") == [0.3])
        let reversed = try JoinFixture(["stats": try statsTable([(1, 1000, 1100, 0.1), (1, 1000, 1300, 0.3), (1, 1000, 1200, 0.2)])])
        #expect(doubles(try await reversed.join(try entityTable(ids: [1], times: [2000]), "stats:conv"), "conv") == [0.3])
    }

    @Test("without created times, equal event times are broken by the greater encoded row, in any row order")
    func noCreatedTimeTieBreak() async throws {
        let rows: [(Int64, Double)] = [(5, 0.1), (7, 0.2)]
        for order in [rows, rows.reversed()] {
            let daily = try Table([("driver_id", Column(int64: [1, 1])), ("day_ts", Column(timestamps: [s(100), s(100)])),
                                   ("trips_raw", Column(int64: order.map(\.0))), ("conv", Column(float64: order.map(\.1)))])
            let f = try JoinFixture(["daily": daily])
            // The view's row (trips, conv) as the online store encodes it, for each of the two source rows.
            func encoded(_ row: (Int64, Double)) -> [UInt8] { OnlineEncoding.encodeRow([.int(row.0), .double(row.1)]) }
            let winner = rows.max { OnlineEncoding.rowPrecedes(encoded($0), encoded($1)) }!
            #expect(doubles(try await f.join(try entityTable(ids: [1], times: [200]), "daily:conv"), "conv") == [winner.1])
        }
    }

    @Test("equal event and created times are broken by the greater encoded row, in any row order")
    func fullTieGreaterRowWins() async throws {
        let f = try JoinFixture(["stats": try statsTable([(1, 1000, 1200, 0.1), (1, 1000, 1200, 0.2), (2, 1000, 1200, 0.2), (2, 1000, 1200, 0.1)])])
        let got = doubles(try await f.join(try entityTable(ids: [1, 2], times: [2000, 2000]), "stats:conv"), "conv")
        #expect(got[0] == got[1], "the same winner whichever row comes first")
    }

    @Test("timestamps without a time zone are read as UTC, on both sides")
    func naiveTimestampsAreUTC() async throws {
        let naive = try Table([
            ("driver_id", Column(int64: [1, 1])),
            ("event_ts", Column(timestamps: [s(1000), s(5000)], utc: false)),
            ("created_ts", Column(timestamps: [s(1000), s(5000)], utc: false)),
            ("conv", Column(float64: [0.1, 0.5])),
            ("acc", Column(float32: [0, 0])),
        ])
        let f = try JoinFixture(["stats": naive])
        // At 4,600 s the 1,000 s row is exactly the ttl (1 h) old; at 4,601 s it is past it.
        let utcEntities = try entityTable(ids: [1, 1, 1], times: [4600, 5000, 4601])
        let naiveEntities = try Table([("driver_id", Column(int64: [1, 1, 1])),
                                       ("event_timestamp", Column(timestamps: [s(4600), s(5000), s(4601)], utc: false))])
        #expect(doubles(try await f.join(utcEntities, "stats:conv"), "conv") == [0.1, 0.5, nil])
        #expect(doubles(try await f.join(naiveEntities, "stats:conv"), "conv") == [0.1, 0.5, nil])
        // Milliseconds without a zone, as pandas often writes them, mean the same instants.
        let millis = try Table([("driver_id", Column(int64: [1])), ("event_timestamp", Column(timestamps: [5_000_000], unit: .milliseconds, utc: false))])
        #expect(doubles(try await f.join(millis, "stats:conv"), "conv") == [0.5])
    }

    @Test("row groups outside [min(t) - ttl, max(t)] are never read: a damaged old row group does not stop the join")
    func rowGroupPruningSkipsOldGroups() async throws {
        // Time-sorted: row group 0 holds times 0-999 s, the last ones 9,000-9,999 s.
        let n = 10_000
        let ids = (0..<n).map { Int64($0 % 10) }, times = (0..<n).map { Int64($0) }
        let f = try JoinFixture([:])
        let path = f.dir.url.appendingPathComponent("data/stats.parquet").path
        try ParquetFileWriter.write(try Table([
            ("driver_id", Column(int64: ids)),
            ("event_ts", Column(timestamps: times.map(s))),
            ("created_ts", Column(timestamps: times.map(s))),
            ("conv", Column(float64: times.map { Double($0) })),
            ("acc", Column(float32: times.map { Float($0) })),
        ]), to: path, options: ParquetWriteOptions(codec: .uncompressed, rowGroupSize: 1_000, dictionary: false))
        #expect(try ParquetFile(path: path).rowGroupCount == 10)
        // Damage the start of row group 0 (its first page header follows the 4-byte magic).
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        for i in 4..<40 { bytes[i] = 0xFF }
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        // The view's ttl is 1 h: entity times 9,500-9,999 s need rows from 5,900 s on, never row group 0.
        let late = try await f.join(try entityTable(ids: [1, 2], times: [9_991, 9_500]), "stats:conv")
        #expect(doubles(late, "conv") == [9_991, 9_492])
        // A time whose window reaches row group 0 must read it, and the damage is reported, not skipped.
        await #expect(throws: JoinError.self) { try await f.join(try entityTable(ids: [1], times: [500]), "stats:conv") }
    }

    @Test("no candidate, an entity time before all data, and an unknown key give nulls")
    func noCandidate() async throws {
        let f = try JoinFixture(["stats": try statsTable([(1, 1000, 1000, 0.5), (2, 5000, 5000, 0.7)])])
        let out = try await f.join(try entityTable(ids: [1, 2, 3], times: [10_000, 4999, 5000]), "stats:conv")
        #expect(doubles(out, "conv") == [nil, nil, nil])
    }

    @Test("every entity row appears once, in input order, duplicates kept, with its columns unchanged")
    func rowsKeptInOrder() async throws {
        let f = try JoinFixture(["stats": try statsTable([(1, 1000, 1000, 0.5), (2, 1000, 1000, 0.7), (1, 2000, 2000, 0.6)])])
        let labels = Column(strings: ["a", "b", "c", "d"])
        let entities = try entityTable(ids: [2, 1, 1, 2], times: [1500, 2500, 1500, 1500], extra: [("label", labels)])
        let out = try await f.join(entities, "stats:conv")
        #expect(out.schema.fields.map(\.name) == ["driver_id", "event_timestamp", "label", "conv"])
        #expect(doubles(out, "conv") == [0.7, 0.6, 0.5, 0.7])
        guard case .bytes(let b) = out.column(named: "label")!.values else { Issue.record("labels"); return }
        #expect((0..<4).map { b.string(at: $0) } == ["a", "b", "c", "d"])
    }

    @Test("composite keys match on every part")
    func compositeKeys() async throws {
        let route = try Table([("origin", Column(strings: ["A", "A", "B"])), ("dest", Column(strings: ["B", "C", "A"])),
                               ("event_ts", Column(timestamps: [s(100), s(100), s(100)])), ("minutes", Column(float64: [1, 2, 3]))])
        let f = try JoinFixture(["route": route])
        let entities = try Table([("origin", Column(strings: ["A", "B", "A", "C"])), ("dest", Column(strings: ["C", "A", "A", "A"])),
                                  ("event_timestamp", Column(timestamps: [s(200), s(200), s(200), s(200)]))])
        #expect(doubles(try await f.join(entities, "route_stats"), "minutes") == [2, 3, nil, nil])
    }

    @Test("string keys match by their bytes")
    func stringKeys() async throws {
        let profile = try Table([("user_id", Column(strings: ["ann", "bob", "ann"])), ("event_ts", Column(timestamps: [s(1), s(1), s(5)])),
                                 ("tier", Column(strings: ["basic", "plus", "premium"]))])
        let f = try JoinFixture(["profile": profile])
        let entities = try Table([("user_id", Column(strings: ["bob", "ann", "ann", "zed"])),
                                  ("event_timestamp", Column(timestamps: [s(10), s(3), s(10), s(10)]))])
        let out = try await f.join(entities, "profile")
        guard let c = out.column(named: "tier"), case .bytes(let b) = c.values else { Issue.record("tier"); return }
        #expect((0..<4).map { c.isNull($0) ? nil : b.string(at: $0) } == ["plus", "basic", "premium", nil])
    }

    @Test("ttl 0 means no lower bound, and a field mapping renames source columns")
    func unboundedTTLAndFieldMapping() async throws {
        let daily = try Table([("driver_id", Column(int64: [1])), ("day_ts", Column(timestamps: [s(0)])),
                               ("trips_raw", Column(int64: [42])), ("conv", Column(float64: [0.4]))])
        let f = try JoinFixture(["daily": daily])
        let out = try await f.join(try entityTable(ids: [1], times: [100_000_000]), "daily:trips")
        guard let c = out.column(named: "trips"), case .int64(let v) = c.values else { Issue.record("trips"); return }
        #expect(v == [42] && c.validity == nil)
    }

    @Test("several views with different ttls each apply their own window")
    func severalViews() async throws {
        let daily = try Table([("driver_id", Column(int64: [1])), ("day_ts", Column(timestamps: [s(0)])),
                               ("trips_raw", Column(int64: [9])), ("conv", Column(float64: [0.4]))])
        let f = try JoinFixture(["stats": try statsTable([(1, 0, 0, 0.5)]), "daily": daily])
        let out = try await f.join(try entityTable(ids: [1, 1], times: [3600, 7200]), "stats:conv,daily:trips", fullNames: true)
        #expect(doubles(out, "stats__conv") == [0.5, nil])
        guard case .int64(let trips) = out.column(named: "daily__trips")!.values else { Issue.record("trips"); return }
        #expect(trips == [9, 9])
    }

    @Test("null keys and null event times never match, on either side")
    func nullsNeverMatch() async throws {
        let f = try JoinFixture(["stats": try statsTable([(nil, 100, 100, 0.1), (2, nil, 100, 0.2), (3, 100, 100, 0.3)])])
        let out = try await f.join(try entityTable(ids: [nil, 2, 3], times: [200, 200, nil]), "stats:conv")
        #expect(doubles(out, "conv") == [nil, nil, nil])
    }

    @Test("a feature name clash without full names is an error that says so")
    func nameClash() async throws {
        let f = try JoinFixture(["stats": try statsTable([(1, 1, 1, 0.1)])])
        await #expect {
            try await f.join(try entityTable(ids: [1], times: [2]), "stats:conv,daily:conv")
        } throws: { error in
            "\(error)" == "output column 'conv' would appear twice (feature 'conv' of feature view 'daily' clashes with another column); use full feature names (view__feature) to tell them apart"
        }
    }

    @Test("an entity key of the wrong type is an error naming the column")
    func keyTypeMismatch() async throws {
        let f = try JoinFixture(["stats": try statsTable([(1, 1, 1, 0.1)])])
        let entities = try Table([("driver_id", Column(strings: ["1"])), ("event_timestamp", Column(timestamps: [s(2)]))])
        await #expect {
            try await f.join(entities, "stats:conv")
        } throws: { error in
            "\(error)" == "entity column 'driver_id' is string, but its join key is declared int64 (feature view 'stats')"
        }
    }

    @Test("unknown services, views and features are errors with the closest name")
    func unknownNames() async throws {
        let f = try JoinFixture(["stats": try statsTable([(1, 1, 1, 0.1)])])
        let entities = try entityTable(ids: [1], times: [2])
        await #expect { try await f.join(entities, "stat:conv") } throws: { "\($0)".hasPrefix("no feature view 'stat'; did you mean 'stats'?") }
        await #expect { try await f.join(entities, "stats:conf") } throws: { "\($0)".hasPrefix("feature view 'stats' has no feature 'conf'; did you mean 'conv'?") }
        await #expect {
            try await f.store.joinFeatures(entities: .table(entities), features: .service("ranking"))
        } throws: { "\($0)".hasPrefix("no feature service 'ranking'") }
    }

    @Test("a missing entity time column is an error naming it")
    func missingTimestamp() async throws {
        let f = try JoinFixture(["stats": try statsTable([(1, 1, 1, 0.1)])])
        let entities = try Table([("driver_id", Column(int64: [1])), ("ts", Column(timestamps: [s(2)]))])
        await #expect { try await f.join(entities, "stats:conv") } throws: {
            "\($0)" == "the entity rows have no column 'event_timestamp' (their event time); columns: driver_id, ts"
        }
        let out = try await f.store.joinFeatures(entities: .table(entities), features: FeatureSelection(parsing: "stats:conv")!,
                                           options: JoinOptions(timestampColumn: "ts"))
        #expect(doubles(out, "conv") == [0.1])
    }
}
