import TestKinds
import Columnar
import FeatureComputation
import FeatureStoreCore
import Foundation
import Parquet
import Testing

/// Aggregations served from the online store's tiles equal the training set's values at the same time, exactly.
@Suite("Aggregations online = offline", .timeLimit(.minutes(3)))
struct AggregationOnlineTests {
    static let definitions = """
        entities:
          - {name: driver, join_keys: [{name: driver_id, type: int64}]}
        sources:
          - {name: trips, kind: parquet, path: data/trips, timestamp_field: ts}
        feature_views:
          - name: trips
            entities: [driver]
            source: trips
            aggregations:
              - {function: count, windows: [10m, 1h, 1d]}
              - {column: fare, function: sum, type: float64, windows: [1h, 1d]}
              - {column: fare, function: mean, windows: [1d]}
              - {column: fare, function: variance, windows: [1d]}
              - {column: fare, function: min, type: float64, windows: [1h]}
              - {column: fare, function: max, type: float64, windows: [1h]}
              - {column: fare, function: first, type: float64, windows: [1h]}
              - {column: seats, function: sum, type: int32, windows: [1d]}
              - {column: zone, function: last_n, type: string, n: 3, windows: [1h]}
              - {column: zone, function: last_distinct_n, type: string, n: 2, windows: [1d]}

        """

    /// Driver ids of any sign and size (integer keys are their own key codes).
    static func driver(_ i: Int) -> Int64 { Int64(i) * 1_000_000_000_007 - 20_000_000_000_000 }

    /// The `trips` view's features of `drivers` online at `t` and in the training set at `t`, and where they differ.
    static func compare(_ store: FeatureStore, drivers: [Int64], at t: Int64) async throws -> (OnlineFeatures, [String]) {
        let online = try await store.getOnlineFeatures(entities: ["driver_id": drivers.map { .int($0) }], features: .references([FeatureReference(view: "trips")]),
                                                       now: Date(timeIntervalSince1970: Double(t) / 1_000_000))
        let offline = try await store.joinFeatures(entities: .table(try Table([
            ("driver_id", Column(int64: drivers)), ("event_timestamp", Column(timestamps: drivers.map { _ in t })),
        ])), features: .references([FeatureReference(view: "trips")]))
        let view = try #require(store.registry.featureView(named: "trips"))
        var mismatches: [String] = []
        for column in online.columns {
            let feature = try #require(view.feature(named: column.feature))
            let trained = try #require(offline.column(named: column.name))
            for (i, value) in column.values.enumerated() where value != trained.onlineValue(at: i, as: feature.type) {
                mismatches.append("\(column.name) driver \(drivers[i]): online \(value), offline \(trained.onlineValue(at: i, as: feature.type))")
            }
        }
        return (online, mismatches)
    }

    @Test("after materialize up to t, lookups at t equal joinFeatures at t for every entity and feature, bit for bit", arguments: [1, 2])
    func onlineEqualsOffline(seed: UInt64) async throws {
        let dir = TemporaryDirectory()
        try dir.write("feature_store.yaml", "project: windows\n")
        try dir.write("defs.yaml", Self.definitions)
        // t: a time off every hop boundary; events over the two days before it and a few after it.
        let now: Int64 = 1_750_000_000_000_000 + 7 * 60_000_000 + 123_457
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let events = 5000, drivers = 40
        var ids: [Int64?] = [], times: [Int64?] = [], fares: [Double?] = [], seats: [Int32?] = [], zones: [String?] = []
        for _ in 0..<events {
            ids.append(Self.driver(next(drivers)))
            let offset = Int64(next(2 * 24 * 60)) * 60_000_000 + Int64(next(3)) - 1
            times.append(next(50) == 0 ? now + Int64(next(600)) * 1_000_000 : now - offset)
            fares.append(next(20) == 0 ? nil : Double(next(10_000)) / 7)
            seats.append(next(20) == 0 ? nil : Int32(next(6)))
            zones.append(next(20) == 0 ? nil : ["a", "b", "c", "zürich"][next(4)])
        }
        try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("data/trips"), withIntermediateDirectories: true)
        try ParquetFileWriter.write(try Table([
            ("driver_id", Column(int64: ids)), ("ts", Column(timestamps: times)), ("fare", Column(float64: fares)),
            ("seats", Column(int32: seats)), ("zone", Column(strings: zones)),
        ]), to: dir.url.appendingPathComponent("data/trips/part-0.parquet").path)

        let store = try FeatureStore(repository: dir.url, kinds: testKinds)
        let reports = try await store.materialize(start: now - 3 * 86_400_000_000, end: now)
        #expect(reports.first?.entities == drivers)
        let asked = (0..<(drivers + 2)).map { Self.driver($0) }  // two drivers without events
        let (online, mismatches) = try await Self.compare(store, drivers: asked, at: now)
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches: \(mismatches.prefix(8).joined(separator: "; "))")
        let counts = try #require(online.columns.first { $0.name == "count_1d" })
        #expect(counts.values.suffix(2) == [.int(0), .int(0)] && counts.statuses.suffix(2) == [.present, .present], "no events: a count of 0")
        #expect(counts.values.prefix(drivers).allSatisfy { $0 != .int(0) }, "every driver has events in a day")

        // verify agrees at t; an event the online store has not seen (not materialized) is reported with both values.
        let clean = try await store.verify(sample: 100, at: now)
        #expect(clean.map(\.entities) == [drivers] && clean[0].mismatches.isEmpty, "\(clean.first?.mismatches.prefix(3) ?? [])")
        try ParquetFileWriter.write(try Table([
            ("driver_id", Column(int64: [Self.driver(3)])), ("ts", Column(timestamps: [now - 60_000_000])), ("fare", Column(float64: [1])),
            ("seats", Column(int32: [1])), ("zone", Column(strings: ["late"])),
        ]), to: dir.url.appendingPathComponent("data/trips/part-1.parquet").path)
        let stale = try await FeatureStore(repository: dir.url, kinds: testKinds).verify(sample: 100, at: now)
        let counted = stale[0].mismatches.first { $0.feature == "count_10m" }
        #expect(counted?.entity == ["driver_id": "\(Self.driver(3))"], "\(stale[0].mismatches)")
        #expect(stale[0].mismatches.contains { $0.feature == "zone_last_n_1h" && $0.offline.contains("late") })
    }

    @Test("roll-ups: over a week of hourly and 5-minute tiles, lookups after each materialize (reruns from inside a day, late events) equal joinFeatures bit for bit, and SQLite reads the rolled-up days as one tile each")
    func rollupsServeTheSameBits() async throws {
        let dir = TemporaryDirectory()
        try dir.write("feature_store.yaml", "project: rollups\n")
        try dir.write("defs.yaml", """
            entities:
              - {name: driver, join_keys: [{name: driver_id, type: int64}]}
            sources:
              - {name: trips, kind: parquet, path: data/trips, timestamp_field: ts}
            feature_views:
              - name: trips
                entities: [driver]
                source: trips
                aggregations:
                  - {function: count, windows: [1d, 7d]}
                  - {column: fare, function: sum, type: float64, windows: [7d]}
                  - {column: fare, function: variance, windows: [7d]}
                  - {column: fare, function: min, type: float64, windows: [7d]}
                  - {column: zone, function: last_n, type: string, n: 3, windows: [7d]}
                  - {column: zone, function: approx_count_distinct, type: string, windows: [7d]}
                  - {column: fare, function: max, type: float64, windows: [2h], hop: 5m}

            """)
        let day: Int64 = 86_400_000_000, hour: Int64 = 3_600_000_000
        let start: Int64 = 1_750_000_000_000_000 / day * day - 9 * day
        var state: UInt64 = 0x5EED
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        func events(_ n: Int, from: Int64, span: Int64) throws -> Table {
            var ids: [Int64?] = [], times: [Int64?] = [], fares: [Double?] = [], zones: [String?] = []
            for _ in 0..<n {
                ids.append(Self.driver(next(12)))
                times.append(from + Int64(next(Int(span / 1_000_000))) * 1_000_000 + Int64(next(3)) - 1)
                fares.append(next(15) == 0 ? nil : [Double.nan, -0.0, 0.0, 1e9 + 1, -2.25, Double.infinity][next(6)] + (next(2) == 0 ? 0 : Double(next(1000)) / 8))
                zones.append(next(15) == 0 ? nil : ["a", "b", "Jos\u{E9}", "Jose\u{301}"][next(4)])
            }
            return try Table([("driver_id", Column(int64: ids)), ("ts", Column(timestamps: times)), ("fare", Column(float64: fares)), ("zone", Column(strings: zones))])
        }
        try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("data/trips"), withIntermediateDirectories: true)
        try ParquetFileWriter.write(try events(4000, from: start, span: 9 * day), to: dir.url.appendingPathComponent("data/trips/part-0.parquet").path)
        let asked = (0..<13).map { Self.driver($0) }
        func check(at t: Int64, _ what: String) async throws {
            let (_, mismatches) = try await Self.compare(try FeatureStore(repository: dir.url, kinds: testKinds), drivers: asked, at: t)
            #expect(mismatches.isEmpty, "\(what): \(mismatches.count) mismatches: \(mismatches.prefix(6).joined(separator: "; "))")
        }
        // Materialized up to each lookup time in turn (incrementally, from inside a day), looked up there.
        var materialized = Int64.min
        for t in [start + 3 * day + 5 * hour + 7, start + 8 * day + 13 * hour + 59_999_999, start + 9 * day - 1] {
            _ = try await FeatureStore(repository: dir.url, kinds: testKinds).materialize(start: materialized, end: t + 1)
            materialized = t + 1
            try await check(at: t, "at \((t - start) / hour) h")
        }
        // Late events in days already rolled up; a rerun from inside one of them rewrites its tiles and roll-ups.
        try ParquetFileWriter.write(try events(300, from: start + 4 * day, span: 2 * day), to: dir.url.appendingPathComponent("data/trips/part-1.parquet").path)
        _ = try await FeatureStore(repository: dir.url, kinds: testKinds).materialize(start: start + 4 * day + 10 * hour + 1, end: start + 9 * day)
        try await check(at: start + 9 * day - 1, "after late events and a rerun")

        // The planned read leaves out the tiles of the whole days (the 7d features' hourly tiles), reading their roll-ups.
        let store = try FeatureStore(repository: dir.url, kinds: testKinds)
        let view = try #require(store.registry.featureView(named: "trips"))
        let tiles = try await store.onlineStore().tiles(for: store.onlineTable(of: view))
        let t = start + 9 * day - 1
        let plan = TileReadPlan(from: (t - 7 * day) / hour * hour, span: day, until: t, windowStarts: [(t - 7 * day) / hour * hour, (t - day) / hour * hour])
        let planned = try await tiles.readTiles([[.int(Self.driver(1))]], of: store.onlineTable(of: view), plans: [hour: plan])[0]
        let all = try await tiles.readTiles([[.int(Self.driver(1))]], of: store.onlineTable(of: view), from: [hour: plan.from])[0]
        #expect(planned.filter { $0.origin == .rollup }.count >= 6, "a roll-up per whole day")
        #expect(all.count - planned.count >= 5 * 20, "the whole days' tiles are not read: \(planned.count) of \(all.count)")
    }

    @Test("a damaged tile is a corrupt-data error on lookup, never a crash or a silent value; a tile of a hop no feature has is not read")
    func damagedTilesAreErrors() async throws {
        let dir = TemporaryDirectory()
        try dir.write("feature_store.yaml", "project: windows\n")
        try dir.write("defs.yaml", Self.definitions)
        let store = try FeatureStore(repository: dir.url, kinds: testKinds)
        let view = try #require(store.registry.featureView(named: "trips"))
        let keys = store.registry.joinKeys(of: view)
        let now: Int64 = 1_750_000_000_000_000
        let at = Date(timeIntervalSince1970: Double(now) / 1_000_000)
        try await store.fullOnlineStore().writeTiles([OnlineTile(key: [.int(1)], hop: 60_000_000, start: now - 60_000_000, states: [1, 2, 3])], to: OnlineTable(view: view, joinKeys: keys))
        do {
            _ = try await store.getOnlineFeatures(entities: ["driver_id": [.int(1)]], features: .references([FeatureReference(view: "trips")]), now: at)
            Issue.record("a damaged tile was served")
        } catch {
            #expect(error.code == .corrupt, "\(error)")
        }
        // A tile with more states than its hop's features (valid ones): refused too.
        let states = TileStates.features(of: view, hop: 60_000_000).map { AggregateState($0.aggregation!.function, n: $0.aggregation!.n ?? 1) }
        try await store.fullOnlineStore().writeTiles([OnlineTile(key: [.int(1)], hop: 60_000_000, start: now - 60_000_000,
                                                             states: TileStates.encode(states + states))], to: OnlineTable(view: view, joinKeys: keys))
        do {
            _ = try await store.getOnlineFeatures(entities: ["driver_id": [.int(1)]], features: .references([FeatureReference(view: "trips")]), now: at)
            Issue.record("a tile with extra states was served")
        } catch {
            #expect(error.code == .corrupt, "\(error)")
        }
        try await store.onlineStore().deleteAll(of: OnlineTable(view: view, joinKeys: keys))
        try await store.fullOnlineStore().writeTiles([OnlineTile(key: [.int(1)], hop: 7_000_000, start: now - 7_000_000, states: [])], to: OnlineTable(view: view, joinKeys: keys))
        let got = try await store.getOnlineFeatures(entities: ["driver_id": [.int(1)]], features: .references([FeatureReference(view: "trips", feature: "count_10m")]), now: at)
        #expect(got.columns[0].values == [.int(0)], "lookups read the hops their features have")
    }
}
