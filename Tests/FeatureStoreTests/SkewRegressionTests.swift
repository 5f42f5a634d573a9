import TestKinds
import Columnar
import FeatureComputation
import Foundation
import Parquet
import Testing
@testable import FeatureStoreCore

/// The cases of issue 24 where training and serving disagreed on hostile data, each kept as a test that failed before
/// its fix: the training set (`joinFeatures`) and the online lookup after `materialize` must give the same values and
/// statuses, bit for bit, and the right ones.
@Suite("Training = serving on hostile data (regressions)", .timeLimit(.minutes(3)))
struct SkewRegressionTests {
    /// A repository with one source `events` (Parquet at data/events) and the views of `views` (YAML list items).
    struct Repo {
        let dir = TemporaryDirectory()
        let store: FeatureStore

        init(views: String, keyType: String = "int64", created: Bool = false, data: Table) throws {
            try dir.write("feature_store.yaml", "project: skew\n")
            try dir.write("defs.yaml", """
                entities:
                  - {name: driver, join_keys: [{name: driver_id, type: \(keyType)}]}
                sources:
                  - {name: events, kind: parquet, path: data/events, timestamp_field: ts\(created ? ", created_timestamp_field: created" : "")}
                feature_views:
                \(views)

                """)
            try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("data/events"), withIntermediateDirectories: true)
            try ParquetFileWriter.write(data, to: dir.url.appendingPathComponent("data/events/part-0.parquet").path)
            store = try FeatureStore(repository: dir.url, kinds: testKinds)
        }

        /// The training set's values of `features` (`view:feature`) for `keys` at `times` (microseconds).
        func offline(_ features: String, keys: [OnlineValue], at times: [Int64]) async throws -> Table {
            let keyColumn: Column
            if case .string = keys.first { keyColumn = Column(strings: keys.map { if case .string(let s) = $0 { s } else { nil } }) }
            else { keyColumn = Column(int64: keys.map { if case .int(let i) = $0 { i } else { nil } }) }
            return try await store.joinFeatures(entities: .table(try Table([("driver_id", keyColumn), ("event_timestamp", Column(timestamps: times))])),
                                                features: FeatureSelection(parsing: features)!)
        }

        /// The online lookup of `features` for `keys` at `now` (microseconds).
        func online(_ features: String, keys: [OnlineValue], at now: Int64) async throws -> OnlineFeatures {
            try await store.getOnlineFeatures(entities: ["driver_id": keys], features: FeatureSelection(parsing: features)!,
                                              now: Date(timeIntervalSince1970: Double(now) / 1_000_000))
        }

        /// The training set's column `name` read as the online store would give it.
        func trained(_ table: Table, _ name: String, view: String) throws -> [OnlineValue] {
            let feature = try #require(store.registry.featureView(named: view)?.feature(named: name))
            let column = try #require(table.column(named: name))
            return (0..<column.count).map { column.onlineValue(at: $0, as: feature.type) }
        }
    }

    static let minute: Int64 = 60_000_000
    /// 2025-06-15T10:00:00Z in microseconds.
    static let ten: Int64 = 1_749_981_600_000_000

    @Test("a NaN or an infinity that leaves a sliding window leaves the training set's sum and mean too (case 1)")
    func nonFiniteValuesLeaveTheWindow() async throws {
        let times = [Self.ten, Self.ten + 90 * Self.minute, Self.ten + 120 * Self.minute]
        let repo = try Repo(views: """
              - name: trips
                entities: [driver]
                source: events
                aggregations:
                  - {column: fare, function: sum, type: float64, windows: [1h], hop: 5m}
                  - {column: fare, function: mean, windows: [1h], hop: 5m}
            """, data: try Table([("driver_id", Column(int64: [1, 1, 1])), ("ts", Column(timestamps: times)),
                                  ("fare", Column(float64: [.nan, .infinity, 5.0]))]))
        let at = [Self.ten + 160 * Self.minute, Self.ten + 180 * Self.minute]
        let offline = try await repo.offline("trips:fare_sum_1h,trips:fare_mean_1h", keys: [.int(1), .int(1)], at: at)
        #expect(try repo.trained(offline, "fare_sum_1h", view: "trips") == [.double(5), .double(5)])
        #expect(try repo.trained(offline, "fare_mean_1h", view: "trips") == [.double(5), .double(5)])
        _ = try await repo.store.materialize(start: Self.ten - 60 * Self.minute, end: at[1])
        let online = try await repo.online("trips:fare_sum_1h,trips:fare_mean_1h", keys: [.int(1)], at: at[1])
        #expect(online.columns.map { $0.values } == [[.double(5)], [.double(5)]])
    }

    @Test("materialize with an END in the future keeps the windowed features of the present (case 2)")
    func futureEndKeepsTheWindow() async throws {
        let now = FeatureStore.clockMicros()
        let times = (1...12).map { now - Int64($0) * 4 * Self.minute }
        let repo = try Repo(views: """
              - name: trips
                entities: [driver]
                source: events
                aggregations:
                  - {function: count, windows: [1h], hop: 5m}
            """, data: try Table([("driver_id", Column(int64: times.map { _ in 7 })), ("ts", Column(timestamps: times))]))
        _ = try await repo.store.materialize(start: now - 86_400_000_000, end: now + 86_400_000_000)
        let at = FeatureStore.clockMicros()
        let online = try await repo.online("trips:count_1h", keys: [.int(7)], at: at)
        let offline = try await repo.offline("trips:count_1h", keys: [.int(7)], at: [at])
        #expect(online.columns[0].values == [.int(Int64(times.filter { $0 >= at - 60 * Self.minute }.count))])
        #expect(online.columns[0].values == (try repo.trained(offline, "count_1h", view: "trips")))
    }

    @Test("a lookup in the middle of a tile counts only the tile's events before its time, after a materialize whose END is later (case 7)")
    func eventsAfterTheLookupInItsTile() async throws {
        // Events in the future (after the materialize's clock) and a lookup between two of them in one hourly tile.
        let hour = 60 * Self.minute
        let tile = (FeatureStore.clockMicros() + 3 * hour) / hour * hour
        let times = [tile - 30 * Self.minute, tile + 10 * Self.minute, tile + 20 * Self.minute, tile + 50 * Self.minute]
        let repo = try Repo(views: """
              - name: trips
                entities: [driver]
                source: events
                aggregations:
                  - {function: count, windows: [1d], hop: 1h}
                  - {column: fare, function: sum, type: float64, windows: [1d], hop: 1h}
                  - {column: fare, function: last, type: float64, windows: [1d], hop: 1h}
            """, data: try Table([("driver_id", Column(int64: times.map { _ in 3 })), ("ts", Column(timestamps: times)),
                                  ("fare", Column(float64: [1, 2, 4, 8]))]))
        _ = try await repo.store.materialize(start: tile - 86_400_000_000, end: tile + 2 * hour)
        for at in [tile + 15 * Self.minute, tile + 20 * Self.minute, tile + 20 * Self.minute + 1, tile + 2 * hour] {
            let features = "trips:count_1d,trips:fare_sum_1d,trips:fare_last_1d"
            let online = try await repo.online(features, keys: [.int(3)], at: at)
            let offline = try await repo.offline(features, keys: [.int(3)], at: [at])
            let trained = try ["count_1d", "fare_sum_1d", "fare_last_1d"].map { try repo.trained(offline, $0, view: "trips")[0] }
            #expect(online.columns.map { $0.values[0] } == trained, "at tile + \((at - tile) / Self.minute) min")
        }
    }

    @Test("variance and stddev are exact at large magnitudes (1e9 + 0..4: 2.5; epoch seconds 1.7e9 + 0..3: 5/3) and NaN with a NaN or an infinity, offline and online (case 4)")
    func varianceAtLargeMagnitudes() async throws {
        let cases: [(Int64, [Double], Double)] = [
            (1, [1e9, 1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4], 2.5),
            (2, [1.7e9, 1.7e9 + 1, 1.7e9 + 2, 1.7e9 + 3], 5.0 / 3.0),
            (3, [1, .nan, 3], .nan),
            (4, [1, .infinity, 3], .nan),
            (5, [-1e15, -1e15 + 2], 2),
        ]
        var ids: [Int64] = [], times: [Int64] = [], values: [Double] = []
        for (id, xs, _) in cases {
            for (i, x) in xs.enumerated() {
                ids.append(id)
                times.append(Self.ten + Int64(i) * Self.minute)
                values.append(x)
            }
        }
        let repo = try Repo(views: """
              - name: stats
                entities: [driver]
                source: events
                aggregations:
                  - {column: x, function: variance, windows: [1d], hop: 1h}
                  - {column: x, function: stddev, windows: [1d], hop: 1h}
            """, data: try Table([("driver_id", Column(int64: ids)), ("ts", Column(timestamps: times)), ("x", Column(float64: values))]))
        let keys = cases.map { OnlineValue.int($0.0) }
        let at = Self.ten + 120 * Self.minute
        let offline = try await repo.offline("stats:x_variance_1d,stats:x_stddev_1d", keys: keys, at: keys.map { _ in at })
        let variance = try repo.trained(offline, "x_variance_1d", view: "stats")
        for ((_, _, want), got) in zip(cases, variance) {
            guard case .double(let v) = got else { Issue.record("variance \(got)"); continue }
            #expect(want.isNaN ? v.isNaN : v == want, "variance \(v), expected \(want)")
        }
        #expect(try repo.trained(offline, "x_stddev_1d", view: "stats")[0] == .double(2.5.squareRoot()))
        _ = try await repo.store.materialize(start: Self.ten - 86_400_000_000, end: at)
        let online = try await repo.online("stats:x_variance_1d,stats:x_stddev_1d", keys: keys, at: at)
        #expect(online.columns[0].values == variance)
        #expect(online.columns[1].values == (try repo.trained(offline, "x_stddev_1d", view: "stats")))
    }

    @Test("integer inputs beyond 2^53 are not rounded on their way into mean and variance")
    func largeIntegerInputs() {
        var mean = AggregateState(.mean), variance = AggregateState(.variance)
        for (i, x) in [Int64.max, Int64.max - 1, Int64.max - 2].enumerated() {
            mean.add(.int(x), at: Int64(i))
            variance.add(.int(x), at: Int64(i))
        }
        #expect(mean.result == .double(Double(Int64.max - 1)))
        #expect(variance.result == .double(1))
    }

    @Test("one key spelled twice in Unicode (NFC and NFD) is two keys to the stream's fold, as to the join and the stores (case 5)")
    func unicodeSpellingsAreDistinctKeys() {
        let nfc = OnlineValue.string("Jos\u{E9}"), nfd = OnlineValue.string("Jose\u{301}")
        #expect(nfc != nfd)
        #expect(Set([[nfc], [nfd]]).count == 2)
        #expect(Dictionary([([nfc], 1), ([nfd], 2)], uniquingKeysWith: +).count == 2)
        #expect(OnlineValue.double(.nan) == .double(.nan), "a NaN is the same value as itself")
        #expect(OnlineValue.double(-0.0) != .double(0.0), "-0.0 and 0.0 are two values")
    }

    @Test("a row is OUTSIDE_MAX_AGE after its ttl and NOT_FOUND only after a grace (as a store that expired it says), on every store (case 8)")
    func statusesAfterTheTtl() async throws {
        let repo = try Repo(views: """
              - name: stats
                entities: [driver]
                source: events
                ttl: 1h
                features: [{name: x, type: float64}]
            """, data: try Table([("driver_id", Column(int64: [1])), ("ts", Column(timestamps: [Self.ten])), ("x", Column(float64: [1]))]))
        _ = try await repo.store.materialize(start: Self.ten - 1, end: Self.ten + 1)
        let hour = 60 * Self.minute
        for (at, status) in [(Self.ten + hour, FeatureStatus.present), (Self.ten + hour + 1, .outsideMaxAge),
                             (Self.ten + 2 * hour - 1, .outsideMaxAge), (Self.ten + 2 * hour, .notFound)] {
            let got = try await repo.online("stats:x", keys: [.int(1)], at: at).columns[0]
            #expect(got.statuses == [status], "at ttl + \(at - Self.ten - hour) us")
        }
        #expect(RowExpiry.goneAt(event: Self.ten, ttl: hour) == Self.ten + 2 * hour)
        #expect(RowExpiry.grace(ttl: 30 * 86_400_000_000) == 86_400_000_000, "the grace is at most a day")
    }

    @Test("nanosecond times before 1970 round down to the microsecond in the join and in materialize alike (case 9)")
    func nanosecondsBefore1970() async throws {
        // -1,500 ns is -2 us (rounded down), not -1 us (truncated).
        let ns = Column(type: .timestamp(.nanoseconds, utc: true), values: .int64([-1_500, -3_000_500]), validity: nil)
        let repo = try Repo(views: """
              - name: stats
                entities: [driver]
                source: events
                features: [{name: x, type: float64}]
            """, data: try Table([("driver_id", Column(int64: [1, 2])), ("ts", ns), ("x", Column(float64: [1, 2]))]))
        #expect(EventTime.microseconds(fromNanoseconds: -1_500) == -2)
        #expect(EventTime.microseconds(fromNanoseconds: -1_000) == -1)
        #expect(EventTime.microseconds(fromNanoseconds: 1_999) == 1)
        let offline = try await repo.offline("stats:x", keys: [.int(1), .int(1), .int(2)], at: [-2, -3, -3_001])
        #expect(try repo.trained(offline, "x", view: "stats") == [.double(1), .null, .double(2)])
        _ = try await repo.store.materialize(start: -10_000, end: 0)
        let rows = try await repo.store.onlineStore().read([[.int(1)], [.int(2)]], from: OnlineTable(view: try #require(repo.store.registry.featureView(named: "stats")),
                                                                                       joinKeys: [JoinKey(name: "driver_id", type: .int64)]))
        #expect(rows.map { $0?.eventTimestamp } == [-2, -3_001])
    }

    @Test("microsecond times past 2262 (beyond nanoseconds' range) are read without overflow")
    func farFutureMicroseconds() async throws {
        let year3000: Int64 = 32_503_680_000_000_000
        let repo = try Repo(views: """
              - name: stats
                entities: [driver]
                source: events
                features: [{name: x, type: float64}]
            """, data: try Table([("driver_id", Column(int64: [1])), ("ts", Column(timestamps: [year3000])), ("x", Column(float64: [3]))]))
        let offline = try await repo.offline("stats:x", keys: [.int(1), .int(1)], at: [year3000 - 1, year3000])
        #expect(try repo.trained(offline, "x", view: "stats") == [.null, .double(3)])
        _ = try await repo.store.materialize(start: year3000 - 1, end: year3000 + 1)
        #expect(try await repo.online("stats:x", keys: [.int(1)], at: year3000).columns[0].values == [.double(3)])
    }
}

/// Cases the differential fuzzer found, each kept as a named test (the seed that found it in the name).
@Suite("Fuzzer findings (regressions)", .timeLimit(.minutes(3)))
struct FuzzFindingTests {
    @Test("fuzz seed 48: integer keys Int64.min and Int64.min + 1 (the key codes' sentinels) match in the training set as online, alone and in composite keys")
    func sentinelIntegerKeys() async throws {
        for keys in [[Int64.min, Int64.min + 1, 5], [Int64.min + 1]] {
            let repo = try SkewRegressionTests.Repo(views: """
                  - name: stats
                    entities: [driver]
                    source: events
                    features: [{name: x, type: float64}]
                  - name: agg
                    entities: [driver]
                    source: events
                    aggregations:
                      - {function: count, windows: [2h], hop: 1h}
                """, data: try Table([("driver_id", Column(int64: keys)), ("ts", Column(timestamps: keys.map { _ in -999_997_200_000_000 })),
                                      ("x", Column(float64: keys.map { Double($0) }))]))
            let at: Int64 = -999_989_100_000_000
            let asked = keys.map { OnlineValue.int($0) } + [.int(Int64.min + 2)]
            let offline = try await repo.offline("stats:x,agg:count_2h", keys: asked, at: asked.map { _ in at })
            #expect(try repo.trained(offline, "x", view: "stats") == keys.map { .double(Double($0)) } + [.null])
            #expect(try repo.trained(offline, "count_2h", view: "agg") == keys.map { _ in .int(1) } + [.int(0)])
            _ = try await repo.store.materialize(start: Int64.min, end: at)
            let online = try await repo.online("stats:x,agg:count_2h", keys: asked, at: at)
            #expect(online.columns[0].values == keys.map { .double(Double($0)) } + [.null])
            #expect(online.columns[1].values == keys.map { _ in .int(1) } + [.int(0)])
            // Entity keys given as int32 (accepted for an int64 key) are coded as the source's interned keys are.
            let narrow = try await repo.store.joinFeatures(entities: .table(try Table([
                ("driver_id", Column(int32: [0, 1, 5])), ("event_timestamp", Column(timestamps: [at, at, at])),
            ])), features: FeatureSelection(parsing: "stats:x")!)
            let want: [OnlineValue] = [0, 1, 5].map { k in keys.contains(Int64(k)) ? .double(Double(k)) : .null }
            #expect(try repo.trained(narrow, "x", view: "stats") == want, "int32 entity keys \(keys)")
        }
    }
}

extension FuzzFindingTests {
    @Test("string keys that are not UTF-8 match nothing in the training set and are not materialized, as online (where they become U+FFFD) they cannot be asked for")
    func invalidUTF8Keys() async throws {
        let raw = Column(binary: [Array("a".utf8), [0xFF], [0xFE], Array("\u{FFFD}".utf8)])
        let keys = Column(type: .string, values: raw.values, validity: nil)
        let repo = try SkewRegressionTests.Repo(views: """
              - name: stats
                entities: [driver]
                source: events
                features: [{name: x, type: float64}]
            """, keyType: "string", data: try Table([("driver_id", keys), ("ts", Column(timestamps: [1, 2, 3, 4])), ("x", Column(float64: [1, 2, 3, 4]))]))
        let entities = try Table([("driver_id", keys), ("event_timestamp", Column(timestamps: [10, 10, 10, 10]))])
        let offline = try await repo.store.joinFeatures(entities: .table(entities), features: FeatureSelection(parsing: "stats:x")!)
        #expect(try repo.trained(offline, "x", view: "stats") == [.double(1), .null, .null, .double(4)])
        _ = try await repo.store.materialize(start: Int64.min, end: 11)
        let online = try await repo.online("stats:x", keys: [.string("a"), .string("\u{FFFD}")], at: 10)
        #expect(online.columns[0].values == [.double(1), .double(4)], "the real U+FFFD key keeps its own row")
    }
}
