import Columnar
import DataQuality
import Foundation
import Parquet
import Testing
import TestKinds
@testable import FeatureStoreCore

/// A repository with one view over `stats.parquet` whose features carry expectations, under `policy`.
private struct ExpectationFixture {
    let dir = TemporaryDirectory()

    init(policy: String, rows: [(id: Int64, ts: Int64, conv: Double?, tier: String?)]) throws {
        try dir.write("feature_store.yaml", "project: quality\n")
        try dir.write("defs.yaml", """
            entities:
              - {name: driver, join_keys: [{name: driver_id, type: int64}]}
            sources:
              - {name: stats_src, kind: parquet, path: data/stats.parquet, timestamp_field: event_ts}
            feature_views:
              - name: stats
                entities: [driver]
                source: stats_src
                ttl: 0
                expectations: {policy: \(policy), max_staleness: 2h}
                features:
                  - {name: conv, type: float64, expect: {not_null: true, min: 0, max: 1}}
                  - {name: tier, type: string, expect: {allowed: [basic, plus], max_null_rate: 0.5}}
            """)
        try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("data"), withIntermediateDirectories: true)
        try write(rows)
    }

    func write(_ rows: [(id: Int64, ts: Int64, conv: Double?, tier: String?)]) throws {
        let table = try Table([
            ("driver_id", Column(int64: rows.map { Optional($0.id) })),
            ("event_ts", Column(timestamps: rows.map { Optional(s($0.ts)) })),
            ("conv", Column(float64: rows.map(\.conv))),
            ("tier", Column(strings: rows.map(\.tier))),
        ])
        try ParquetFileWriter.write(table, to: dir.url.appendingPathComponent("data/stats.parquet").path)
    }

    var store: FeatureStore { get throws { try FeatureStore(repository: dir.url, kinds: testKinds) } }
}

private func conv(_ store: FeatureStore, _ ids: [Int64]) async throws -> [OnlineValue] {
    try await store.getOnlineFeatures(entities: ["driver_id": ids.map { .int($0) }], features: FeatureSelection(parsing: "stats:conv")!,
                                      now: Date(timeIntervalSince1970: 10_000)).columns[0].values
}

/// The good rows and bad ones: driver 2's conv is above max, driver 3's is null (not_null), driver 4's tier is not
/// allowed; driver 1 and 5 are good.
private let mixed: [(id: Int64, ts: Int64, conv: Double?, tier: String?)] = [
    (1, 100, 0.5, "basic"), (2, 100, 1.5, "plus"), (3, 100, nil, "plus"), (4, 100, 0.25, "gold"), (5, 100, 1.0, nil),
]

@Suite("Expectations", .timeLimit(.minutes(5)))
struct ExpectationTests {
    // MARK: Definitions

    @Test("expectations compile into the view's features and its policy, and keep their canonical form")
    func expectationsCompile() throws {
        let f = try ExpectationFixture(policy: "drop", rows: mixed)
        let view = try #require(try f.store.registry.featureView(named: "stats"))
        #expect(view.violationPolicy == .drop)
        #expect(view.expectations?.maxStaleness == TimeSpan(seconds: 7200))
        #expect(view.features[0].expectations == FeatureExpectations(notNull: true, min: .int(0), max: .int(1)))
        #expect(view.features[1].expectations == FeatureExpectations(allowed: [.string("basic"), .string("plus")], maxNullRate: 0.5))
        let json = CanonicalSpec.json(view)
        #expect(json.contains(#""expect":{"max":1,"min":0,"not_null":true}"#), "\(json)")
        let back = try CanonicalSpec.decode(FeatureView.self, from: json)
        #expect(back.features == view.features && back.expectations == view.expectations)
    }

    @Test("bad expectations are compile errors at file:line:column naming the rule and the feature")
    func badExpectationsAreErrors() {
        func errors(_ feature: String, view: String = "") -> [String] {
            diagnostics("""
                entities:
                  - {name: driver, join_keys: [{name: driver_id, type: int64}]}
                sources:
                  - {name: s, kind: parquet, path: data/s.parquet, timestamp_field: ts}
                feature_views:
                  - name: v
                    entities: [driver]
                    source: s
                \(view)
                    features:
                      - \(feature)
                """)
        }
        #expect(errors("{name: x, type: string, expect: {min: 0}}").contains { $0.contains("defs.yaml:11:") && $0.contains("'min' bounds numbers; feature 'x' is string") })
        #expect(errors("{name: x, type: float64, expect: {min: 2, max: 1}}").contains { $0.contains("'max' (1) is below 'min' (2)") })
        #expect(errors("{name: x, type: float64, expect: {max: .nan}}").contains { $0.contains("'max' must be a finite number, found '.nan'") })
        #expect(errors("{name: x, type: int32, expect: {allowed: [1, 99999999999]}}").contains { $0.contains("'99999999999' is not an int32 value for feature 'x'") })
        #expect(errors("{name: x, type: string, expect: {pattern: '([a-z'}}").contains { $0.contains("'pattern' is not a regular expression") })
        #expect(errors("{name: x, type: float64, expect: {pattern: 'a'}}").contains { $0.contains("'pattern' matches strings") })
        #expect(errors("{name: x, type: string, expect: {max_length: 3}}").contains { $0.contains("'max_length' bounds the length of lists") })
        #expect(errors("{name: x, type: float64, expect: {max_null_rate: 1.5}}").contains { $0.contains("'max_null_rate' is a share of rows from 0 to 1, found '1.5'") })
        #expect(errors("{name: x, type: float64, expect: {not_nul: true}}").contains { $0.contains("not_nul") && $0.contains("not_null") })
        #expect(errors("{name: x, type: float64, expect: {}}").contains { $0.contains("'expect' of feature 'x' sets no rule") })
        #expect(errors("{name: x, type: float64}", view: "    expectations: {policy: stop}").contains { $0.contains("unknown policy 'stop'") })
        #expect(errors("{name: x, type: float64}", view: "    expectations: {max_staleness: soon}").contains { $0.contains("bad duration 'soon' for 'max_staleness'") })
        #expect(errors("{name: x, type: list<int64>, expect: {min: 0, min_length: 1, max_length: 4}}").isEmpty)
    }

    // MARK: The checker, on hostile values

    @Test("min and max are exact against 64-bit integers, -0.0 is within [0, 1], NaN is outside every bound, infinities are numbers")
    func boundsOnHostileNumbers() {
        let checker = ExpectationChecker(features: [
            Feature(name: "f", type: .scalar(.float64), expectations: FeatureExpectations(min: .int(0), max: .int(1))),
            Feature(name: "i", type: .scalar(.int64), expectations: FeatureExpectations(max: .double(0x1p63))),
            Feature(name: "j", type: .scalar(.int64), expectations: FeatureExpectations(max: .int(Int64.max - 1))),
        ])
        func rules(_ f: OnlineValue, _ i: OnlineValue = .null, _ j: OnlineValue = .null) -> [String] {
            checker.violations([f, i, j]).map { "\($0.feature).\($0.rule.rawValue)" }
        }
        #expect(rules(.double(-0.0)) == [])
        #expect(rules(.double(1)) == [])
        #expect(rules(.double(.nan)) == ["f.min"])
        #expect(rules(.double(.infinity)) == ["f.max"])
        #expect(rules(.double(-.infinity)) == ["f.min"])
        #expect(rules(.double(1.0000000000000002)) == ["f.max"])
        // 2^63 as a double bound: Int64.max is below it, exactly (a double would round it up to 2^63).
        #expect(rules(.null, .int(Int64.max)) == [])
        #expect(rules(.null, .null, .int(Int64.max)) == ["j.max"])
        #expect(rules(.null, .null, .int(Int64.max - 1)) == [])
    }

    @Test("allowed strings compare byte for byte (two Unicode spellings are two values), patterns match whole strings on scalars, lists check each element and their length")
    func stringsAndLists() {
        let checker = ExpectationChecker(features: [
            Feature(name: "city", type: .scalar(.string), expectations: FeatureExpectations(allowed: [.string("caf\u{E9}")])),
            Feature(name: "code", type: .scalar(.string), expectations: FeatureExpectations(pattern: "[A-Z]{3}")),
            Feature(name: "tags", type: .list(.int64), expectations: FeatureExpectations(min: .int(0), minLength: 1, maxLength: 2)),
            Feature(name: "on", type: .scalar(.bool), expectations: FeatureExpectations(notNull: true, allowed: [.bool(true)])),
        ])
        func rules(_ values: [OnlineValue]) -> [String] { checker.violations(values).map { "\($0.feature).\($0.rule.rawValue)" } }
        #expect(rules([.string("caf\u{E9}"), .string("ABC"), .list([.int(1)]), .bool(true)]) == [])
        #expect(rules([.string("cafe\u{301}"), .string("ABCD"), .list([]), .bool(false)]) == ["city.allowed", "code.pattern", "tags.min_length", "on.allowed"])
        #expect(rules([.null, .string("abc"), .list([.int(1), .int(-1), .int(2)]), .null]) == ["code.pattern", "tags.max_length", "tags.min", "on.not_null"])
        #expect(rules([.string(""), .string("AB\u{0}"), .list([.null]), .bool(true)]) == ["city.allowed", "code.pattern"])
        let v = checker.violations([.string("x"), .string("ABC"), .list([.int(1)]), .bool(true)])
        #expect(v.first?.message == "city: 'x' is not an allowed value")
    }

    @Test("max_null_rate is judged over the whole batch, not row by row")
    func nullRateOverABatch() {
        let features = [Feature(name: "x", type: .scalar(.int64), expectations: FeatureExpectations(maxNullRate: 0.25))]
        let checker = ExpectationChecker(features: features)
        var under = ExpectationTally(), over = ExpectationTally()
        for v: OnlineValue in [.null, .int(1), .int(2), .int(3)] { under.add([v], violations: checker.violations([v]), checker: checker) }
        for v: OnlineValue in [.null, .null, .int(2), .int(3)] { over.add([v], violations: checker.violations([v]), checker: checker) }
        under.finish(checker)
        over.finish(checker)
        #expect(under.total == 0)
        #expect(over.counts == ["x": ["max_null_rate": 1]])
        #expect(over.examples["x.max_null_rate"] == "x: 2 nulls in 4 rows (50.00%), over max_null_rate 0.25")
        var empty = ExpectationTally()
        empty.finish(checker)
        #expect(empty.total == 0, "no rows, no rate")
    }

    // MARK: Materialize

    @Test("materialize under warn writes every row and counts each violation by feature and rule")
    func materializeWarn() async throws {
        let f = try ExpectationFixture(policy: "warn", rows: mixed)
        let store = try f.store
        let report = try #require(try await store.materialize(start: 0, end: s(1000)).first)
        #expect(report.rowsWritten == 5)
        #expect(report.expectations?.counts == ["conv": ["max": 1, "not_null": 1], "tier": ["allowed": 1]])
        #expect(report.rowsDropped == nil)
        #expect(try await conv(store, [1, 2, 3]) == [.double(0.5), .double(1.5), .null])
    }

    @Test("materialize under drop leaves the violating rows out and writes the good ones")
    func materializeDrop() async throws {
        let f = try ExpectationFixture(policy: "drop", rows: mixed)
        let store = try f.store
        let report = try #require(try await store.materialize(start: 0, end: s(1000)).first)
        #expect(report.rowsWritten == 2 && report.rowsDropped == 3)
        #expect(try await conv(store, [1, 2, 3, 4, 5]) == [.double(0.5), .null, .null, .null, .double(1.0)])
    }

    @Test("materialize under fail writes nothing of the view and leaves the store as it was, naming the rules broken")
    func materializeFailLeavesStoreUnchanged() async throws {
        let f = try ExpectationFixture(policy: "fail", rows: [(1, 100, 0.5, "basic"), (2, 100, 0.75, "plus")])
        let store = try f.store
        _ = try await store.materialize(start: 0, end: s(1000))
        try f.write([(1, 200, 0.125, "basic"), (2, 200, 7, "plus")])
        let refreshed = try f.store
        let error = await #expect(throws: OnlineStoreError.self) { _ = try await refreshed.materialize(start: 0, end: s(1000)) }
        #expect(error?.message.contains("feature view 'stats' breaks its expectations (policy fail), so nothing of it was written: conv: max 1 (conv: 7.0 is above max 1)") == true, "\(String(describing: error))")
        #expect(try await conv(refreshed, [1, 2]) == [.double(0.5), .double(0.75)], "the earlier rows, not driver 1's good new one")
    }

    // MARK: Join --check

    @Test("a training set is checked with the same checker: violations per view, feature and rule; unmatched rows count as nulls")
    func trainingSetCheck() async throws {
        let f = try ExpectationFixture(policy: "fail", rows: mixed)
        let store = try f.store
        let entities = try entityTable(ids: [1, 2, 3, 4, 5, 9], times: [200, 200, 200, 200, 200, 200])
        let selection = FeatureSelection(parsing: "stats")!
        let training = try await store.joinFeatures(entities: .table(entities), features: selection, options: JoinOptions(fullFeatureNames: true))
        let checks = try store.checkExpectations(of: training, features: selection, fullFeatureNames: true)
        #expect(checks.count == 1 && checks[0].view == "stats" && checks[0].fails)
        #expect(checks[0].tally.rows == 6)
        // Driver 9 has no row: its conv is null (not_null) and its tier too (2 nulls in 6 rows, under 0.5).
        #expect(checks[0].tally.counts == ["conv": ["max": 1, "not_null": 2], "tier": ["allowed": 1]])
        #expect(throws: JoinError.self) { _ = try store.checkExpectations(of: training, features: selection, fullFeatureNames: false) }
    }

    // MARK: Found in review

    @Test("a float32 value meets a decimal bound as float32 holds it (0.1f meets max 0.1, 0.7f meets min 0.7)")
    func float32Bounds() {
        let checker = ExpectationChecker(features: [
            Feature(name: "f", type: .scalar(.float32), expectations: FeatureExpectations(min: .double(0.7), max: .double(0.1))),
        ])
        #expect(checker.violations([.float(0.1)]).map(\.rule) == [.min], "0.1f is below 0.7 but not above 0.1")
        let other = ExpectationChecker(features: [Feature(name: "g", type: .scalar(.float32), expectations: FeatureExpectations(min: .double(0.7)))])
        #expect(other.violations([.float(0.7)]).isEmpty)
        #expect(other.violations([.float(0.69999)]).map(\.rule) == [.min])
    }

    @Test("NaN and infinities in a run's rows keep its report and profile in the registry (the catalog reads them back)")
    func nonFiniteStatisticsAreKept() async throws {
        let f = try ExpectationFixture(policy: "warn", rows: [(1, 100, .nan, "basic"), (2, 100, .infinity, "plus"), (3, 100, 1.7976931348623157e308, "plus"),
                                                               (4, 100, -1.7976931348623157e308, "basic")])
        let store = try f.store
        _ = try await store.materialize(start: 0, end: s(1000))
        let registry = try store.openRegistry()
        let last = try #require(try registry.lastMaterialization(of: "stats"))
        #expect(last.report.expectations?.counts["conv"] == ["max": 2, "min": 2], "inf and 1.8e308 over max 1; NaN (outside every bound, reported as min) and -1.8e308 under min 0")
        let profile = try #require(try registry.profiles(of: "stats").first)
        #expect(profile.profile.features["conv"]?.nanCount == 1 && profile.profile.features["conv"]?.infiniteCount == 1)
    }
}
