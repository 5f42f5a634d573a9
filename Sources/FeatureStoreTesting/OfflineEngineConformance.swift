public import FeatureStoreCore
import Columnar

/// The behaviour every ``OfflineEngine`` must have, as checks that any engine's tests run: the local Parquet engine's
/// today, a cluster engine's when it arrives, so training sets and materialization mean the same whatever computes them.
///
/// Each check gets a fresh engine over an empty place (a new repository folder for the local engine), writes its
/// data with the engine's own ``OfflineEngine/append(_:to:partition:)``, then reads it back through the join, the
/// latest rows and the schema. It throws ``ConformanceFailure`` naming what differed.
///
/// ```swift
/// @Test(arguments: OfflineEngineConformance.checks)
/// func conforms(_ check: OfflineEngineConformance.Check) async throws {
///     try await check.run { LocalOfflineEngine(repository: temporaryFolder()) }
/// }
/// ```
public enum OfflineEngineConformance {
    /// One named behaviour.
    public struct Check: Sendable, CustomStringConvertible {
        /// What the check proves, in a sentence.
        public let name: String
        let body: @Sendable (any OfflineEngine) async throws -> Void

        /// Runs the check against a fresh engine made by `makeEngine`.
        ///
        /// - Throws: ``ConformanceFailure`` when the engine behaves otherwise; the engine's own errors as they come.
        public func run(_ makeEngine: () throws -> any OfflineEngine) async throws {
            try await body(try makeEngine())
        }

        /// The check's ``name``.
        public var description: String { name }
    }

    /// Every check of the suite.
    public static let checks: [Check] = [
        Check(name: "a source without data has no schema; after an append it has the appended columns, and a second part keeps them", body: schemaAfterAppend),
        Check(name: "the join takes the latest row at or before each entity time, never a later one, within the ttl (both edges inclusive)", body: latestAtOrBefore),
        Check(name: "equal event times are broken by the greatest created time (null lowest), then by the greater encoded row, in any row order", body: tieBreaks),
        Check(name: "null entity times and keys, and source rows with a null key or event time, never match", body: nullsNeverMatch),
        Check(name: "composite keys match on every part; string keys byte for byte (empty, case, non-ASCII)", body: compositeAndStringKeys),
        Check(name: "latest rows: start inclusive, end exclusive, one row per entity by the join's rule, and the rows in the window counted", body: latestRowsWindow),
        Check(name: "the join at a time and the latest rows before it agree for every entity (one rule for training and serving)", body: joinAgreesWithLatestRows),
        Check(name: "a feature the data lacks is an error, not a column of nulls", body: missingColumnIsAnError),
    ]

    // MARK: Fixtures

    static let driver = [JoinKey(name: "driver_id", type: .int64)]
    static let source = DataSource(name: "events", kind: "parquet", settings: ["path": "conformance/events"], timestampField: "ts",
                                   createdTimestampField: "created")
    static let conv = Feature(name: "conv", type: .scalar(.float64))
    static func view(ttl seconds: Int64) -> FeatureView {
        FeatureView(name: "stats", entities: ["driver"], source: source.name, ttl: TimeSpan(seconds: seconds), features: [conv])
    }

    /// Source rows: (driver, event time us, created time us or nil, conv).
    static func events(_ rows: [(Int64?, Int64?, Int64?, Double?)]) throws -> Table {
        try Table([
            ("driver_id", Column(int64: rows.map(\.0))),
            ("ts", Column(timestamps: rows.map(\.1))),
            ("created", Column(timestamps: rows.map(\.2))),
            ("conv", Column(float64: rows.map(\.3))),
        ])
    }

    /// Joins `conv` of the stats view for entity rows (driver, time us).
    static func join(_ engine: any OfflineEngine, ttl: Int64, _ entities: [(Int64?, Int64?)]) async throws -> [OnlineValue] {
        let request = PointInTimeRequest(
            view: view(ttl: ttl), source: source, joinKeys: driver, features: [conv],
            entityKeys: [Column(int64: entities.map(\.0))],
            entityTimes: entities.map { $0.1 ?? 0 },
            entityTimesValid: Bitmap(entities.map { $0.1 != nil }))
        let columns = try await engine.pointInTimeJoin(request)
        try expect(columns.count, 1, "columns returned")
        try expect(columns[0].count, entities.count, "rows returned")
        return (0..<entities.count).map { columns[0].onlineValue(at: $0, as: conv.type) }
    }

    /// The latest rows of the stats view in [start, end), as driver -> (event time us, conv), and the rows counted.
    static func latest(_ engine: any OfflineEngine, _ start: Int64, _ end: Int64) async throws -> (rows: [Int64: (Int64, OnlineValue)], inWindow: Int) {
        let got = try await engine.latestRows(LatestRowsRequest(view: view(ttl: 0), source: source, joinKeys: driver, start: start, end: end))
        var out: [Int64: (Int64, OnlineValue)] = [:]
        for r in got.rows.map(Int.init) {
            guard case .int(let id) = got.keys[0].onlineValue(at: r, as: .scalar(.int64)) else {
                throw ConformanceFailure("latest rows: a null key was returned")
            }
            guard out[id] == nil else { throw ConformanceFailure("latest rows: driver \(id) returned twice") }
            out[id] = (got.eventTimes[r], got.features[0].onlineValue(at: r, as: conv.type))
        }
        return (out, got.rowsInWindow)
    }

    static func expect<T: Equatable>(_ got: T, _ want: T, _ what: String) throws {
        guard got == want else { throw ConformanceFailure("\(what): got \(got), expected \(want)") }
    }

    // MARK: Checks

    static func schemaAfterAppend(_ engine: any OfflineEngine) async throws {
        try expect(try engine.schema(of: source) == nil, true, "schema of a source without data")
        try expect(try engine.appendTarget(source) == nil, true, "existing schema of a source without data")
        let first = try await engine.append(try events([(1, 10, nil, 0.5)]), to: source, partition: "date=1970-01-01")
        try expect(first.rows, 1, "rows appended")
        guard let schema = try engine.schema(of: source) else { throw ConformanceFailure("no schema after an append") }
        for name in ["driver_id", "ts", "created", "conv"] where schema.field(named: name) == nil {
            throw ConformanceFailure("the schema after an append lacks '\(name)': \(schema.fields.map(\.name))")
        }
        guard let kept = try engine.appendTarget(source) else { throw ConformanceFailure("no existing schema after an append") }
        _ = try await engine.append(try events([(2, 20, 5, 0.25)]), to: source, partition: "date=1970-01-02")
        try expect(try await join(engine, ttl: 0, [(1, 100), (2, 100)]), [.double(0.5), .double(0.25)], "both parts read as one dataset")
        try expect(kept.fields.map(\.name).filter { ["driver_id", "ts", "created", "conv"].contains($0) }, ["driver_id", "ts", "created", "conv"], "kept columns")
    }

    static func latestAtOrBefore(_ engine: any OfflineEngine) async throws {
        // Driver 1 has rows at 10 s, 20 s and 30 s.
        _ = try await engine.append(try events([(1, 10_000_000, nil, 1), (1, 20_000_000, nil, 2), (1, 30_000_000, nil, 3)]),
                                    to: source, partition: "date=1970-01-01")
        try expect(try await join(engine, ttl: 0, [(1, 9_999_999), (1, 10_000_000), (1, 29_999_999), (1, 30_000_000), (1, 99_000_000)]),
                   [.null, .double(1), .double(2), .double(3), .double(3)], "latest at or before, never after")
        // ttl 5 s at 25 s: the row at 20 s (25 - 5) qualifies; at 25.000001 s it is 1 us too old.
        try expect(try await join(engine, ttl: 5, [(1, 25_000_000), (1, 25_000_001), (1, 35_000_000), (1, 35_000_001)]),
                   [.double(2), .null, .double(3), .null], "ttl edges")
    }

    static func tieBreaks(_ engine: any OfflineEngine) async throws {
        _ = try await engine.append(try events([
            (1, 100, 7, 0.1), (1, 100, 9, 0.9), (1, 100, 8, 0.8),          // the greatest created time wins
            (2, 100, nil, 0.1), (2, 100, 1, 0.2), (2, 100, nil, 0.3),      // null created is the lowest
            (3, 100, 5, 0.3), (3, 100, 5, 0.2), (3, 100, 5, 0.1),          // full ties: the greater encoded row
            (4, 100, 5, 0.1), (4, 100, 5, 0.3), (4, 100, 5, 0.2),          // in any order of the rows
        ]), to: source, partition: "date=1970-01-01")
        let greatest = [0.1, 0.2, 0.3].map { OnlineValue.double($0) }.max {
            OnlineEncoding.rowPrecedes(OnlineEncoding.encodeRow([$0]), OnlineEncoding.encodeRow([$1]))
        }!
        let want: [OnlineValue] = [.double(0.9), .double(0.2), greatest, greatest]
        try expect(try await join(engine, ttl: 0, [(1, 200), (2, 200), (3, 200), (4, 200)]), want, "join ties")
        let latest = try await latest(engine, 0, 1000)
        try expect([1, 2, 3, 4].map { latest.rows[$0]?.1 ?? .null }, want, "latest rows ties")
    }

    static func nullsNeverMatch(_ engine: any OfflineEngine) async throws {
        _ = try await engine.append(try events([(1, 100, nil, 0.1), (nil, 150, nil, 9), (1, nil, nil, 8), (2, 100, nil, nil)]),
                                    to: source, partition: "date=1970-01-01")
        try expect(try await join(engine, ttl: 0, [(1, 200), (nil, 200), (1, nil), (2, 200)]), [.double(0.1), .null, .null, .null],
                   "null entity key or time, null source key or time, null feature value")
        let latest = try await latest(engine, 0, 1000)
        try expect(latest.rows.keys.sorted(), [1, 2], "latest rows skip null keys and times")
    }

    static func compositeAndStringKeys(_ engine: any OfflineEngine) async throws {
        let keys = [JoinKey(name: "origin", type: .string), JoinKey(name: "zone", type: .int32)]
        let routes = DataSource(name: "routes", kind: "parquet", settings: ["path": "conformance/routes"], timestampField: "ts")
        let minutes = Feature(name: "minutes", type: .scalar(.float64))
        let view = FeatureView(name: "routes", entities: ["route"], source: routes.name, ttl: .zero, features: [minutes])
        let origins: [String?] = ["a", "a", "A", "", "zürich", "zu\u{0308}rich"]
        _ = try await engine.append(try Table([
            ("origin", Column(strings: origins)),
            ("zone", Column(int32: [1, 2, 1, 1, 1, 1])),
            ("ts", Column(timestamps: [10, 10, 10, 10, 10, 10])),
            ("minutes", Column(float64: [1, 2, 3, 4, 5, 6])),
        ]), to: routes, partition: "date=1970-01-01")
        let asked: [(String, Int32)] = [("a", 2), ("a", 1), ("A", 1), ("", 1), ("zürich", 1), ("zu\u{0308}rich", 1), ("a", 3), ("b", 1)]
        let columns = try await engine.pointInTimeJoin(PointInTimeRequest(
            view: view, source: routes, joinKeys: keys, features: [minutes],
            entityKeys: [Column(strings: asked.map(\.0)), Column(int32: asked.map(\.1))],
            entityTimes: asked.map { _ in 100 }, entityTimesValid: nil))
        try expect((0..<asked.count).map { columns[0].onlineValue(at: $0, as: minutes.type) },
                   [.double(2), .double(1), .double(3), .double(4), .double(5), .double(6), .null, .null], "composite and string keys")
    }

    static func latestRowsWindow(_ engine: any OfflineEngine) async throws {
        _ = try await engine.append(try events([
            (1, 100, nil, 0.1), (1, 200, nil, 0.2), (1, 300, nil, 0.3),
            (2, 99, nil, 9), (2, 150, nil, 1.5),
            (3, 300, nil, 3),
        ]), to: source, partition: "date=1970-01-01")
        let window = try await latest(engine, 100, 300)
        try expect(window.inWindow, 3, "rows with 100 <= ts < 300")
        try expect(window.rows.keys.sorted(), [1, 2], "entities with a row in the window")
        try expect(window.rows[1]?.0, 200, "driver 1's latest event time before the end")
        try expect(window.rows[1]?.1, .double(0.2), "driver 1's value")
        try expect(window.rows[2]?.1, .double(1.5), "driver 2's value (its row at 99 is before the start)")
        let all = try await latest(engine, Int64.min, 1000)
        try expect(all.inWindow, 6, "rows from the beginning")
        try expect(all.rows[1]?.1, .double(0.3), "driver 1's latest of all")
    }

    static func joinAgreesWithLatestRows(_ engine: any OfflineEngine) async throws {
        // A fixed pseudo-random history: 50 drivers, 1,000 rows, 10 event times and 4 created times (many ties).
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int64) -> Int64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int64((state >> 33) % UInt64(bound))
        }
        var rows: [(Int64?, Int64?, Int64?, Double?)] = []
        for i in 0..<1000 {
            rows.append((next(50), next(10) * 100, next(3) == 0 ? nil : next(4), Double(i)))
        }
        _ = try await engine.append(try events(rows), to: source, partition: "date=1970-01-01")
        for end in [Int64(1), 505, 1000] {
            let latest = try await latest(engine, Int64.min, end)
            let joined = try await join(engine, ttl: 0, (0..<50).map { (Int64($0), end - 1) })
            for driver in 0..<50 {
                try expect(joined[driver], latest.rows[Int64(driver)]?.1 ?? .null, "driver \(driver) joined at \(end - 1) us vs latest before \(end) us")
            }
        }
    }

    static func missingColumnIsAnError(_ engine: any OfflineEngine) async throws {
        _ = try await engine.append(try events([(1, 10, nil, 0.5)]), to: source, partition: "date=1970-01-01")
        let absent = Feature(name: "absent", type: .scalar(.float64))
        do {
            _ = try await engine.pointInTimeJoin(PointInTimeRequest(
                view: FeatureView(name: "stats", entities: ["driver"], source: source.name, ttl: .zero, features: [absent]),
                source: source, joinKeys: driver, features: [absent], entityKeys: [Column(int64: [1])], entityTimes: [100],
                entityTimesValid: nil))
        } catch {
            return
        }
        throw ConformanceFailure("joining a feature the data lacks succeeded")
    }
}
