import TestKinds
import Columnar
import FeatureServing
import FeatureServingAPI
import FeatureStoreCore
import Foundation
import Parquet
import SwiftProtobuf
import Testing

/// Training = serving for computed features: derived columns and on-demand features from a training set
/// (`joinFeatures`) and from FeatureServer (gRPC, and HTTP's request_context) for the same entities, times and request
/// data, compared bit for bit, on random values with nulls, NaN, infinities, -0.0 and integer extremes.
@Suite("On-demand features: training = serving", .timeLimit(.minutes(3)))
struct OnDemandServingTests {
    static let definitions = """
        sources:
          - name: xs_src
            kind: parquet
            path: data/xs.parquet
            timestamp_field: ts
            derived:
              - {name: xy, type: float64, expr: "x * y"}
              - {name: big, type: bool, expr: "abs(a) > 1000000 or x > 1e300"}
        feature_views:
          - name: xs
            entities: [driver]
            source: xs_src
            ttl: 0
            features:
              - {name: a, type: int64}
              - {name: x, type: float64}
              - {name: y, type: float32}
              - {name: s, type: string}
              - {name: flag, type: bool}
              - {name: xy, type: float64}
              - {name: big, type: bool}
        on_demand_views:
          - name: calc
            request:
              - {name: r, type: float64}
              - {name: n, type: int64}
              - {name: at, type: timestamp}
              - {name: txt, type: string}
            features:
              - {name: f1, type: float64, expr: "xs.x / xs.y + r"}
              - {name: f2, type: int64, expr: "xs.a * n"}
              - {name: f3, type: bool, expr: "xs.x > r or xs.flag"}
              - {name: f4, type: string, expr: "concat(upper(xs.s), txt)"}
              - {name: f5, type: int32, expr: "hour(at) + n % 7 * 1000000000"}
              - {name: f6, type: float32, expr: "sqrt(abs(xs.x)) * r"}
              - {name: f7, type: float64, expr: "coalesce(xs.xy, r, 0.0)"}
              - {name: f8, type: float64, expr: "round(pow(r, 2) / nullif(xs.a, 0), 3)"}
              - {name: f9, type: int64, expr: "epoch_seconds(at) - n"}
              - {name: f10, type: float64, expr: "case when xs.x is null then -1.0 when xs.x > 0 then ln(xs.x) else exp(xs.x) end"}
              - {name: f11, type: float64, expr: "haversine_km(xs.x, r, xs.y, r)"}
              - {name: f12, type: bool, expr: "xs.big and not starts_with(txt, 'a')"}

        """

    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
        mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
        mutating func double() -> Double? {
            if chance(0.1) { return nil }
            if chance(0.3) { return pick([0.0, -0.0, .nan, .infinity, -.infinity, .greatestFiniteMagnitude, -.leastNonzeroMagnitude, 1, -1, 0.5]) }
            return (Double(next() >> 11) / Double(1 << 53) - 0.5) * pick([2, 200, 2e6, 1e300])
        }
        mutating func int() -> Int64? {
            if chance(0.1) { return nil }
            if chance(0.3) { return pick([0, 1, -1, .max, .min, Int64(Int32.max), Int64(Int32.min) - 1]) }
            return Int64(bitPattern: next()) >> Int64(next() % 63)
        }
        mutating func string() -> String? { chance(0.1) ? nil : pick(["", "a", "abc", "Zürich", "x y", "ÉTÉ", "apple"]) }
    }

    @Test("for random data and request values, joinFeatures and FeatureServer (gRPC and HTTP) give the same values, bit for bit")
    func trainingEqualsServing() async throws {
        let f = try await ServerFixture(extraDefinitions: Self.definitions)
        var rng = Rng(state: 20_261_203)
        let drivers = 300
        let now = Int64(Date().timeIntervalSince1970) * 1_000_000
        // Two rows per driver (the later one wins everywhere).
        var ids: [Int64?] = [], ts: [Int64?] = [], a: [Int64?] = [], x: [Double?] = [], y: [Float?] = [], s: [String?] = [], flag: [Bool?] = []
        for d in 0..<drivers {
            for k in 0..<2 {
                ids.append(Int64(d))
                ts.append(now - Int64(3_600_000_000) + Int64(k) * 60_000_000)
                a.append(rng.int())
                x.append(rng.double())
                y.append(rng.double().map { Float($0) })
                s.append(rng.string())
                flag.append(rng.chance(0.1) ? nil : rng.chance(0.5))
            }
        }
        try FileManager.default.createDirectory(at: f.dir.appendingPathComponent("data"), withIntermediateDirectories: true)
        try ParquetFileWriter.write(try Table([
            ("driver_id", Column(int64: ids)), ("ts", Column(timestamps: ts)), ("a", Column(int64: a)), ("x", Column(float64: x)),
            ("y", Column(float32: y)), ("s", Column(strings: s)), ("flag", Column(bool: flag)),
        ]), to: f.dir.appendingPathComponent("data/xs.parquet").path)
        let store = try FeatureStore(repository: f.dir, kinds: testKinds)
        _ = try await store.materialize(start: now - 86_400_000_000, end: now, views: ["xs"])

        // Request data, one row per driver.
        var r: [Double?] = [], n: [Int64?] = [], at: [Int64?] = [], txt: [String?] = []
        for _ in 0..<drivers {
            r.append(rng.double())
            n.append(rng.int())
            at.append(rng.chance(0.1) ? nil : Int64(bitPattern: rng.next() % 8_000_000_000_000_000) - 1_000_000_000_000_000)
            txt.append(rng.string())
        }
        let entityIDs = (0..<drivers).map { Int64($0) }
        let entities = try Table([
            ("driver_id", Column(int64: entityIDs.map { $0 })), ("event_timestamp", Column(timestamps: entityIDs.map { _ in now })),
            ("r", Column(float64: r)), ("n", Column(int64: n)), ("at", Column(timestamps: at)), ("txt", Column(strings: txt)),
        ])
        let features = ["f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12"]
        let training = try await store.joinFeatures(entities: .table(entities), features: .references([FeatureReference(view: "calc"), FeatureReference(view: "xs", feature: "xy")]))

        func value(_ v: Featurestore_V1_Value) -> String {
            switch v.kind {
            case .doubleValue(let d)?: return "d\(d.bitPattern)"
            case .floatValue(let x)?: return "f\(x.bitPattern)"
            case .int64Value(let i)?: return "i\(i)"
            case .boolValue(let b)?: return "b\(b)"
            case .stringValue(let t)?: return "s\(t)"
            case nil: return "null"
            default: return "?"
            }
        }
        func value(_ v: OnlineValue) -> String {
            switch v {
            case .double(let d): return "d\(d.bitPattern)"
            case .float(let x): return "f\(x.bitPattern)"
            case .int(let i): return "i\(i)"
            case .bool(let b): return "b\(b)"
            case .string(let t): return "s\(t)"
            case .null: return "null"
            default: return "?"
            }
        }
        func list<T>(_ values: [T?], _ make: (T) -> Featurestore_V1_Value) -> Featurestore_V1_ValueList {
            .with { $0.values = values.map { $0.map(make) ?? Featurestore_V1_Value() } }
        }
        let context: [String: Featurestore_V1_ValueList] = [
            "r": list(r) { d in .with { $0.doubleValue = d } }, "n": list(n) { i in .with { $0.int64Value = i } },
            "at": list(at) { t in .with { $0.timestampMicros = t } }, "txt": list(txt) { t in .with { $0.stringValue = t } },
        ]
        let response = try await f.withClient { client in
            try await client.getOnlineFeatures(.with {
                $0.entities = ["driver_id": .with { $0.int64Values = .with { $0.values = entityIDs } }]
                $0.featureRefs = .with { $0.refs = ["calc", "xs:xy"] }
                $0.requestContext = context
            })
        }
        #expect(Set(response.featureNames) == Set(features + ["xy"]))
        var mismatches: [String] = []
        var nonNull = 0
        for (name, column) in zip(response.featureNames, response.features) {
            let offline = try #require(training.column(named: name))
            let type: ValueType = name == "xy" ? .scalar(.float64) : store.registry.onDemandView(named: "calc")!.feature(named: name).map { .scalar($0.type) }!
            for i in 0..<drivers {
                let served = value(column.values[i]), trained = value(offline.onlineValue(at: i, as: type))
                if served != "null" { nonNull += 1 }
                if served != trained { mismatches.append("\(name)[\(i)]: served \(served), training \(trained)") }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches: \(mismatches.prefix(6))")
        #expect(nonNull > drivers * 6, "most values are not null (\(nonNull))")

        // HTTP with Feast's request_context shape gives the same values for a few drivers.
        let http = try await f.http("POST", "/v1/online-features", json: #"""
            {"features": ["calc:f4", "calc:f9"], "entities": {"driver_id": [0, 1]},
             "request_context": {"r": [1.5, 2], "n": [3, 4], "at": ["2026-01-01T10:00:00Z", 1767261600000000], "txt": ["!", "?"]}}
            """#)
        #expect(http.status == 200, "\(http.body)")
        #expect(http.body.contains(#""values":[1767261597,1767261596]"#), "\(http.body)")
        let missing = try await f.http("POST", "/v1/online-features", json: #"{"features": ["calc:f4"], "entities": {"driver_id": [0]}}"#)
        #expect(missing.status == 400 && missing.body.contains("missing request field 'txt'"), "\(missing.body)")

        // The catalog shows each expression, its inputs and type, and draws the views it reads into its lineage.
        let page = try await f.catalogPage("/on-demand/calc")
        #expect(page.status == 200)
        #expect(page.body.contains("<code>concat(upper(xs.s), txt)</code>") && page.body.contains("<code>xs.s</code> <code>txt</code>"), "\(page.body)")
        #expect(page.body.contains("<code>at timestamp</code>") && page.body.contains("href=\"/views/xs\""))
        let source = try await f.catalogPage("/sources/xs_src")
        #expect(source.body.contains("<code>xy float64</code> = <code>x * y</code>"), "derived columns on the source's page")
        try await f.stop()
    }
}
