import Columnar
import FeatureStoreCore
import Foundation
import TestKinds
import LocalOfflineEngine
import Parquet
import RedisOnlineStore
import RedisTestSupport
import SQLiteOnlineStore

/// A seeded generator (SplitMix64): the same seed makes the same case on every machine.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 0x2545_F491_4F6C_DD1D }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// One random case: definitions (a plain view and an aggregated view over one source), hostile data and lookups.
struct FuzzCase: Sendable {
    struct Aggregation: Sendable, Hashable {
        var function: String
        var column: String?
        var window: (name: String, seconds: Int64)
        var hop: (name: String, seconds: Int64)
        var n: Int
        static func == (a: Aggregation, b: Aggregation) -> Bool { a.name == b.name }
        func hash(into h: inout Hasher) { h.combine(name) }
        var name: String { [column, function, window.name].compactMap { $0 }.joined(separator: "_") }
        /// The column's type (nil for count).
        var input: String? {
            switch column {
            case "ax": return "float64"
            case "an": return "int64"
            case "as": return "string"
            case "dx": return "float64"
            default: return nil
            }
        }
    }

    struct Event: Sendable {
        var keys: [OnlineValue]
        var ts: Int64?
        var created: Int64?
        var x: Double?, n: Int64?, s: String?, b: Bool?, w: Int64?
        var ax: Double?, an: Int64?, aS: String?
    }

    var seed: UInt64
    /// The join keys' types, in order ("int64" or "string").
    var keyTypes: [String]
    var hasCreated: Bool
    var ttlSeconds: Int64
    var aggregations: [Aggregation]
    var events: [Event]
    var lookups: [(keys: [OnlineValue], at: Int64)]

    static let hour: Int64 = 3_600_000_000
    static let minute: Int64 = 60_000_000

    /// The case of `seed`.
    static func generate(seed: UInt64) -> FuzzCase {
        var r = SplitMix(seed: seed)
        let keyTypes = r.pick([["int64"], ["string"], ["string", "int64"]])
        let intKeys: [Int64] = [0, 1, -1, 7, Int64.max, Int64.min + 1, 1 << 53, -(1 << 40)]
        let stringKeys = ["", "a", "A", "Jos\u{E9}", "Jose\u{301}", "東京", "a\u{0}b", "zu\u{308}rich", "z\u{FC}rich"]
        func key() -> [OnlineValue] { keyTypes.map { $0 == "int64" ? .int(r.pick(intKeys)) : .string(r.pick(stringKeys)) } }
        let pool = (0..<(2 + r.below(5))).map { _ in key() }

        // Times around one or two anchors: before 1970, at 0, today, 2100 and 2500; on whole minutes and one
        // microsecond either side, so ties, hop edges and window edges are frequent.
        let anchors: [Int64] = [-1_000_000_000_000_000 / hour * hour, 0, 1_750_000_000_000_000 / hour * hour,
                                4_102_444_800_000_000, 16_725_225_600_000_000]
        let used = (0..<(1 + r.below(2))).map { _ in r.pick(anchors) }
        // A third of the times lie up to three days later, so that day roll-ups fill (``TileRollups``).
        func time() -> Int64 { r.pick(used) + (r.chance(0.3) ? Int64(r.below(4)) * 24 * hour : 0) + Int64(r.below(240)) * minute + r.pick([0, 0, 0, 1, -1, 5]) }

        let doubles: [Double] = [.nan, .infinity, -.infinity, -0.0, 0.0, 1.5, -2.25, 1e300, -1e300, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1, 3]
        let ints: [Int64] = [Int64.max, Int64.min, 0, -1, 1, 42, 1 << 62]
        let strings = ["", "a", "b", "Jos\u{E9}", "Jose\u{301}", "東京", "Z"]
        // Aggregated doubles: hostile, but no square overflows or underflows (the exact variance's documented range).
        let aggregated: [Double] = [.nan, .infinity, -.infinity, -0.0, 0.0, 1.5, -2.25, 1e9, 1e9 + 1, 1.7e9 + 3, 1e15, -7.5e14, 0.1]

        var events: [Event] = []
        let count = r.chance(0.05) ? 0 : r.below(160)
        for _ in 0..<count {
            if !events.isEmpty, r.chance(0.2) {
                // An exact tie on (keys, event time, created time) with other values.
                var e = r.pick(events)
                e.x = r.chance(0.1) ? nil : r.pick(doubles)
                e.n = r.chance(0.1) ? nil : r.pick(ints)
                e.s = r.chance(0.1) ? nil : r.pick(strings)
                e.ax = r.chance(0.1) ? nil : r.pick(aggregated)
                events.append(e)
                continue
            }
            let ts: Int64? = r.chance(0.03) ? nil : time()
            events.append(Event(
                keys: r.pick(pool), ts: ts,
                created: r.chance(0.3) ? nil : (ts ?? 0) + r.pick([0, 0, 1, -1, minute]),
                x: r.chance(0.1) ? nil : r.pick(doubles + [Double(r.below(1000)) / 8]),
                n: r.chance(0.1) ? nil : r.pick(ints + [Int64(r.below(100)) - 50]),
                s: r.chance(0.1) ? nil : r.pick(strings),
                b: r.chance(0.1) ? nil : r.chance(0.5),
                w: r.chance(0.1) ? nil : time(),
                ax: r.chance(0.1) ? nil : r.pick(aggregated + [Double(r.below(1000)) / 4]),
                an: r.chance(0.1) ? nil : r.pick(ints + [Int64(r.below(100))]),
                aS: r.chance(0.1) ? nil : r.pick(strings)))
        }

        let windows: [((String, Int64), (String, Int64))] = [(("10m", 600), ("5m", 300)), (("1h", 3600), ("5m", 300)),
                                                            (("1d", 86_400), ("1h", 3600)), (("2h", 7200), ("1h", 3600)),
                                                            // Windows whose tiles roll up: by hour, by day.
                                                            (("2h", 7200), ("5m", 300)), (("3d", 259_200), ("1h", 3600))]
        let recipes: [(String, String?)] = [("count", nil), ("sum", "ax"), ("sum", "an"), ("mean", "ax"), ("mean", "an"), ("min", "ax"),
                                            ("max", "an"), ("min", "as"), ("max", "as"), ("variance", "ax"), ("stddev", "an"), ("variance", "an"),
                                            ("first", "as"), ("last", "ax"), ("last_n", "as"), ("last_distinct_n", "ax"),
                                            ("approx_count_distinct", "an"), ("first", "an"), ("last", "as"),
                                            ("sum", "dx"), ("max", "dx"), ("mean", "dx")]
        var aggregations: [Aggregation] = []
        for _ in 0..<(2 + r.below(6)) {
            let (function, column) = r.pick(recipes)
            let (window, hop) = r.pick(windows)
            let a = Aggregation(function: function, column: column, window: window, hop: hop, n: 1 + r.below(3))
            if !aggregations.contains(a) { aggregations.append(a) }
        }
        let ttlSeconds: Int64 = r.pick([0, 0, 3600, 86_400, 600])

        // Lookups: known and unknown keys, at up to five times: event times and one microsecond either side, the ttl's
        // edges, hop edges, far ahead, before everything.
        let timed = events.compactMap(\.ts)
        var times: [Int64] = []
        for _ in 0..<(1 + r.below(5)) {
            let base = timed.isEmpty ? r.pick(used) : r.pick(timed)
            let ttl: Int64 = ttlSeconds * 1_000_000
            let toHop: Int64 = 300_000_000 - base.modulo(300_000_000), toHour: Int64 = hour - base.modulo(hour)
            let offsets: [Int64] = [0, 1, -1, ttl, ttl + 1, 2 * ttl, 2 * ttl + 1, toHop, toHour, 10 * 86_400_000_000, -hour,
                                    86_400_000_000 + toHour, 2 * 86_400_000_000 + toHop]
            times.append(base + r.pick(offsets))
        }
        let unknown = key()
        var lookups: [(keys: [OnlineValue], at: Int64)] = []
        for _ in 0..<(1 + r.below(30)) {
            lookups.append((r.chance(0.1) ? unknown : r.pick(pool), r.pick(times)))
        }
        return FuzzCase(seed: seed, keyTypes: keyTypes, hasCreated: r.chance(0.6), ttlSeconds: ttlSeconds,
                        aggregations: aggregations, events: events, lookups: lookups)
    }

    var keyNames: [String] { keyTypes.indices.map { "k\($0)" } }

    /// The plain view's online row of an event, as a push or the stream ingester writes it.
    func row(_ e: Event) -> OnlineRow {
        OnlineRow(key: e.keys, eventTimestamp: e.ts!, createdTimestamp: hasCreated ? (e.created ?? OnlineRow.noCreatedTimestamp) : OnlineRow.noCreatedTimestamp,
                  values: [e.x.map { .double($0) } ?? .null, e.n.map { .int($0) } ?? .null, e.s.map { .string($0) } ?? .null,
                           e.b.map { .bool($0) } ?? .null, e.w.map { .timestamp($0) } ?? .null])
    }

    /// The plain view's features, as named in the source and the oracle.
    static let plainFeatures: [(name: String, type: String)] = [("x", "float64"), ("n", "int64"), ("s", "string"), ("b", "bool"), ("w", "timestamp")]

    var definitions: String {
        var text = """
            entities:
              - {name: e, join_keys: [\(zip(keyNames, keyTypes).map { "{name: \($0), type: \($1)}" }.joined(separator: ", "))]}
            sources:
              - name: events
                kind: parquet
                path: data/events
                timestamp_field: ts\(hasCreated ? "\n    created_timestamp_field: created" : "")
                columns: {ax: float64, an: int64}
                derived:
                  - {name: dx, type: float64, expr: "ax * 2 + an"}
            on_demand_views:
              - name: od
                features:
                  - {name: xn, type: float64, expr: "plain.x + plain.n"}
                  - {name: big, type: bool, expr: "plain.n > 40 or plain.s = 'Z'"}
            feature_views:
              - name: plain
                entities: [e]
                source: events
                ttl: \(ttlSeconds)s
                features: [\(Self.plainFeatures.map { "{name: \($0.name), type: \($0.type)}" }.joined(separator: ", "))]

            """
        if !aggregations.isEmpty {
            text += """
                  - name: agg
                    entities: [e]
                    source: events
                    aggregations:

                """
            for a in aggregations {
                var parts = ["function: \(a.function)"]
                if let column = a.column { parts.insert("column: \(column)", at: 0) }
                if let input = a.input, !["mean", "variance", "stddev"].contains(a.function) { parts.append("type: \(input)") }
                if a.function == "last_n" || a.function == "last_distinct_n" { parts.append("n: \(a.n)") }
                parts.append("windows: [\(a.window.name)]")
                parts.append("hop: \(a.hop.name)")
                text += "          - {\(parts.joined(separator: ", "))}\n"
            }
        }
        return text
    }

    /// What the oracle reads besides the data.
    var spec: [String: Any] {
        [
            "keys": zip(keyNames, keyTypes).map { ["name": $0, "type": $1] },
            "created": hasCreated,
            "plain": ["ttl_us": ttlSeconds * 1_000_000, "features": Self.plainFeatures.map { ["name": $0.name, "type": $0.type] }],
            "aggregated": ["features": aggregations.map { a -> [String: Any] in
                var f: [String: Any] = ["name": a.name, "function": a.function, "window_us": a.window.seconds * 1_000_000,
                                        "hop_us": a.hop.seconds * 1_000_000, "n": a.n, "input": a.input ?? "count"]
                if let column = a.column { f["column"] = column }
                return f
            }],
        ]
    }

    func keyColumn(_ k: Int, _ values: [[OnlineValue]]) -> Column {
        if keyTypes[k] == "int64" {
            return Column(int64: values.map { if case .int(let i) = $0[k] { i } else { nil } })
        }
        return Column(strings: values.map { if case .string(let s) = $0[k] { s } else { nil } })
    }

    var eventsTable: Table {
        get throws {
            var columns: [(String, Column)] = keyNames.indices.map { (keyNames[$0], keyColumn($0, events.map(\.keys))) }
            columns += [
                ("ts", Column(timestamps: events.map(\.ts))), ("created", Column(timestamps: events.map(\.created))),
                ("x", Column(float64: events.map(\.x))), ("n", Column(int64: events.map(\.n))), ("s", Column(strings: events.map(\.s))),
                ("b", Column(bool: events.map(\.b))), ("w", Column(timestamps: events.map(\.w))),
                ("ax", Column(float64: events.map(\.ax))), ("an", Column(int64: events.map(\.an))), ("as", Column(strings: events.map(\.aS))),
            ]
            return try Table(columns)
        }
    }

    var entitiesTable: Table {
        get throws {
            var columns: [(String, Column)] = keyNames.indices.map { (keyNames[$0], keyColumn($0, lookups.map(\.keys))) }
            columns.append(("event_timestamp", Column(timestamps: lookups.map(\.at))))
            return try Table(columns)
        }
    }

    /// The case as text: definitions, events and lookups (what a failure prints once shrunk).
    var description: String {
        func v(_ x: Any?) -> String { x.map { "\($0)" } ?? "null" }
        var out = "seed \(seed)\n--- defs.yaml\n\(definitions)--- events (\(events.count)): keys | ts | created | x n s b w | ax an as\n"
        for e in events {
            out += "\(e.keys) | \(v(e.ts)) | \(v(e.created)) | \(v(e.x)) \(v(e.n)) \(v(e.s?.debugDescription)) \(v(e.b)) \(v(e.w)) | \(v(e.ax)) \(v(e.an)) \(v(e.aS?.debugDescription))\n"
        }
        out += "--- lookups (\(lookups.count)): keys @ time\n"
        for l in lookups { out += "\(l.keys) @ \(l.at)\n" }
        return out
    }
}

extension Int64 {
    /// The remainder of a floor division (non-negative for a positive divisor).
    func modulo(_ d: Int64) -> Int64 { let m = self % d; return m < 0 ? m + d : m }
}

/// The online stores a case runs on.
enum FuzzStore: String, CaseIterable, Sendable {
    case sqlite, redis, cluster
}

/// Redis servers shared by every case of a run (a standalone server and a 3-primary cluster), started on first use.
final class FuzzRedis: @unchecked Sendable {
    static let shared = FuzzRedis()
    private let lock = NSLock()
    private var servers: RedisServers?
    private var standalone: Int?
    private var cluster: [Int]?

    /// The feature_store.yaml line of `store` (nil when redis-server is not installed).
    func onlineStore(_ store: FuzzStore) throws -> String? {
        lock.lock()
        defer { lock.unlock() }
        switch store {
        case .sqlite:
            return "online_store: {kind: sqlite, path: data/online.db}"
        case .redis, .cluster:
            guard RedisServers.serverPath != nil else { return nil }
            if servers == nil { servers = try RedisServers() }
            if store == .redis {
                if standalone == nil { standalone = try servers!.start() }
                return "online_store: {kind: redis, nodes: [\"127.0.0.1:\(standalone!)\"]}"
            }
            if cluster == nil { cluster = try servers!.startCluster() }
            return "online_store: {kind: redis, cluster: true, nodes: [\(cluster!.map { "\"127.0.0.1:\($0)\"" }.joined(separator: ", "))]}"
        }
    }
}

/// Runs cases: the training set against the oracle, and lookups on each store against the training set.
enum DifferentialFuzzer {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every difference found in `fuzzCase` on `stores`: empty when training = oracle and serving = training.
    static func check(_ fuzzCase: FuzzCase, stores: [FuzzStore]) async throws -> [String] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-\(fuzzCase.seed)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let events = try fuzzCase.eventsTable, entities = try fuzzCase.entitiesTable
        try ParquetFileWriter.write(events, to: dir.appendingPathComponent("events.parquet").path)
        try ParquetFileWriter.write(entities, to: dir.appendingPathComponent("entities.parquet").path)
        try JSONSerialization.data(withJSONObject: fuzzCase.spec).write(to: dir.appendingPathComponent("spec.json"))
        try await runOracle(dir)
        let expected = try requireJSON(dir.appendingPathComponent("expected.json"))

        var problems: [String] = []
        var training: [String: [OnlineValue]]?
        for store in stores {
            guard let config = try FuzzRedis.shared.onlineStore(store) else { continue }
            let repo = dir.appendingPathComponent(store.rawValue)
            try FileManager.default.createDirectory(at: repo.appendingPathComponent("data/events"), withIntermediateDirectories: true)
            try "project: fuzz\(fuzzCase.seed)x\(UUID().uuidString.prefix(6))\n\(config)\n".write(to: repo.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
            try fuzzCase.definitions.write(to: repo.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
            try FileManager.default.copyItem(at: dir.appendingPathComponent("events.parquet"), to: repo.appendingPathComponent("data/events/part-0.parquet"))
            let featureStore = try FeatureStore(repository: repo, kinds: testKinds)
            let views = ["plain"] + (fuzzCase.aggregations.isEmpty ? [] : ["agg"])
            let selection = FeatureSelection.references((views + ["od"]).map { FeatureReference(view: $0) })

            // The training set, once: against the oracle.
            if training == nil {
                let table = try await featureStore.joinFeatures(entities: .table(entities), features: selection)
                var columns: [String: [OnlineValue]] = [:]
                for view in views {
                    for feature in featureStore.registry.featureView(named: view)!.features {
                        guard let column = table.column(named: feature.name) else {
                            problems.append("training set: no column \(feature.name)")
                            continue
                        }
                        columns[feature.name] = (0..<column.count).map { column.onlineValue(at: $0, as: feature.type) }
                    }
                }
                if let od = featureStore.registry.onDemandView(named: "od") {
                    for feature in od.features {
                        guard let column = table.column(named: feature.name) else {
                            problems.append("training set: no column \(feature.name)")
                            continue
                        }
                        columns[feature.name] = (0..<column.count).map { column.onlineValue(at: $0, as: .scalar(feature.type)) }
                    }
                }
                training = columns
                problems += compareWithOracle(columns, expected, fuzzCase)
            }

            // Online: fill the store up to each lookup time in turn (plain rows at or before t, tiles of events before
            // t), then look up the rows at that time. The plain view is filled by materialize, or (half the cases) by
            // rows written as pushes and streams write them: shuffled, in batches of any size, some delivered twice.
            var r = SplitMix(seed: fuzzCase.seed &* 31 &+ UInt64(store.rawValue.count))
            let pushes = r.chance(0.5)
            let plainView = featureStore.registry.featureView(named: "plain")!, plainKeys = featureStore.registry.joinKeys(of: plainView)
            var previousPlain = Int64.min, previousTiles = Int64.min
            for at in Set(fuzzCase.lookups.map(\.at)).sorted() {
                // Each step's work runs inline on a cooperative thread: let the rest of the suite run between steps.
                await Task.yield()
                let rows = fuzzCase.lookups.indices.filter { fuzzCase.lookups[$0].at == at }
                if at &+ 1 > previousPlain, pushes {
                    var due = fuzzCase.events.filter { e in e.ts.map { $0 >= previousPlain && $0 <= at } ?? false }.map { fuzzCase.row($0) }
                    due += (0..<r.below(1 + due.count / 3)).compactMap { _ in fuzzCase.events.filter { ($0.ts ?? Int64.max) < previousPlain }.randomElement(using: &r).map { fuzzCase.row($0) } }
                    for i in due.indices.reversed() { due.swapAt(i, r.below(i + 1)) }
                    var i = 0
                    while i < due.count {
                        let size = 1 + r.below(8)
                        try await featureStore.onlineStore().write(Array(due[i..<min(due.count, i + size)]), to: OnlineTable(view: plainView, joinKeys: plainKeys))
                        i += size
                    }
                    previousPlain = at + 1
                } else if at &+ 1 > previousPlain {
                    _ = try await featureStore.materialize(start: previousPlain, end: at + 1, views: ["plain"])
                    previousPlain = at + 1
                }
                if views.count > 1, at > previousTiles {
                    // Past the clock, END may lie beyond the lookup (events after it in the lookup's tile are kept
                    // whole and must not count); before the clock, tiles are materialized up to the lookup.
                    let clock = Int64(Date().timeIntervalSince1970 * 1_000_000)
                    let end = at > clock ? at + Int64(r.below(3)) * 1_800_000_000 : at
                    _ = try await featureStore.materialize(start: previousTiles, end: end, views: ["agg"])
                    previousTiles = end
                }
                var keys: [String: [OnlineValue]] = [:]
                for (k, name) in fuzzCase.keyNames.enumerated() { keys[name] = rows.map { fuzzCase.lookups[$0].keys[k] } }
                let online = try await featureStore.getOnlineFeatures(entities: keys, features: selection, at: at)
                for column in online.columns {
                    guard let trained = training?[column.feature] else { continue }
                    for (i, row) in rows.enumerated() {
                        let want = trained[row]
                        let status = expectedStatus(column.feature, row: row, expected, plain: column.view == "plain", value: want)
                        if column.values[i] != want || column.statuses[i] != status {
                            problems.append("\(store.rawValue) \(column.view):\(column.feature) lookup \(row) (\(fuzzCase.lookups[row].keys) @ \(at)): online \(column.values[i]) \(column.statuses[i].rawValue), training \(want) \(status.rawValue)")
                        }
                    }
                }
            }
            // A shared Redis keeps no case's keys.
            if store != .sqlite { try? await featureStore.onlineStore().deleteAllViews(featureStore) }
        }
        return problems
    }

    static func expectedStatus(_ feature: String, row: Int, _ expected: [String: Any], plain: Bool, value: OnlineValue) -> FeatureStatus {
        if plain, let statuses = (expected["plain_status"] as? [String: [String]])?[feature], let s = FeatureStatus(rawValue: statuses[row]) { return s }
        return value == .null ? .nullValue : .present
    }

    /// The training set's values against the oracle's: exact, but for distinct counts (a sketch: within its error).
    static func compareWithOracle(_ training: [String: [OnlineValue]], _ expected: [String: Any], _ fuzzCase: FuzzCase) -> [String] {
        var problems: [String] = []
        let plain = expected["plain"] as? [String: [Any]] ?? [:]
        let aggregated = expected["aggregated"] as? [String: [Any]] ?? [:]
        let onDemand = expected["on_demand"] as? [String: [Any]] ?? [:]
        for (feature, want) in plain.merging(aggregated, uniquingKeysWith: { a, _ in a }).merging(onDemand, uniquingKeysWith: { a, _ in a }) {
            guard let got = training[feature] else { continue }
            for (row, w) in want.enumerated() {
                let wanted = decode(w)
                if feature.contains("approx_count_distinct"), case .int(let g) = got[row], case .int(let e) = wanted {
                    if abs(g - e) > max(2, e / 20) { problems.append("oracle \(feature) lookup \(row): training \(g), exact \(e)") }
                    continue
                }
                if got[row] != wanted {
                    problems.append("oracle \(feature) lookup \(row) (\(fuzzCase.lookups[row].keys) @ \(fuzzCase.lookups[row].at)): training \(got[row]), oracle \(wanted)")
                }
            }
        }
        return problems
    }

    /// A value as the oracle writes it.
    static func decode(_ any: Any) -> OnlineValue {
        if let list = any as? [Any] { return .list(list.map(decode)) }
        guard let text = any as? String, text != "n" else { return .null }
        let body = String(text.dropFirst(2))
        switch text.prefix(2) {
        case "d:": return .double(Double(bitPattern: UInt64(body, radix: 16)!))
        case "i:": return .int(Int64(body)!)
        case "t:": return .timestamp(Int64(body)!)
        case "b:": return .bool(body == "1")
        case "s:":
            var bytes: [UInt8] = []
            var i = body.startIndex
            while i < body.endIndex {
                let j = body.index(i, offsetBy: 2)
                bytes.append(UInt8(body[i..<j], radix: 16)!)
                i = j
            }
            return .string(String(decoding: bytes, as: UTF8.self))
        default: return .null
        }
    }

    /// Runs the oracle on a thread of its own: waiting for a child process must not hold one of Swift's cooperative
    /// threads (two on this machine), which the rest of the suite shares.
    static func runOracle(_ dir: URL) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread {
                do {
                    try runOracleBlocking(dir)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }

    static func runOracleBlocking(_ dir: URL) throws {
        let python = ProcessInfo.processInfo.environment["FEATURESTORE_PYTHON"] ?? root.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw FuzzError("no Python at \(python): run `bash scripts/setup` (it makes .venv with pyarrow)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [root.appendingPathComponent("Tests/DifferentialFuzzTests/fuzz_oracle.py").path, dir.path]
        let err = Pipe()
        process.standardError = err
        try process.run()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw FuzzError("the oracle failed: \(String(decoding: message, as: UTF8.self))") }
    }

    /// The smallest case found (events, then lookups, removed in halves, quarters, ... while the case still fails on
    /// `stores`), within `budget` checks.
    static func shrink(_ failing: FuzzCase, stores: [FuzzStore], budget: Int = 60) async -> FuzzCase {
        var best = failing
        var checks = 0
        func fails(_ c: FuzzCase) async -> Bool {
            checks += 1
            return (try? await check(c, stores: stores).isEmpty == false) ?? true
        }
        var chunk = max(1, best.events.count / 2)
        while chunk >= 1, checks < budget {
            var i = 0
            while i < best.events.count, checks < budget {
                var candidate = best
                candidate.events.removeSubrange(i..<min(best.events.count, i + chunk))
                if await fails(candidate) { best = candidate } else { i += chunk }
            }
            if chunk == 1 { break }
            chunk /= 2
        }
        var j = 0
        while j < best.lookups.count, best.lookups.count > 1, checks < budget {
            var candidate = best
            candidate.lookups.remove(at: j)
            if await fails(candidate) { best = candidate } else { j += 1 }
        }
        return best
    }
}

struct FuzzError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Reads a JSON object file.
func requireJSON(_ url: URL) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
        throw FuzzError("\(url.path) is not a JSON object")
    }
    return object
}

extension OnlineStore {
    /// Empties a case's views (its keys on a shared Redis).
    func deleteAllViews(_ store: FeatureStore) async throws {
        for view in store.registry.featureViews { try await deleteAll(of: OnlineTable(view: view, joinKeys: store.registry.joinKeys(of: view))) }
    }
}

/// Spark as a third engine: the same case on the embedded engine and on Spark (local[2]) must give the same training
/// set, bit for bit and type for type, and the same online values after materializing with each.
enum SparkDifferential {
    static var python: String { ProcessInfo.processInfo.environment["SPARK_TEST_PYTHON"] ?? DifferentialFuzzer.root.appendingPathComponent(".venv/bin/python").path }

    static let javaInstalled: Bool = {
        if let home = ProcessInfo.processInfo.environment["JAVA_HOME"], FileManager.default.isExecutableFile(atPath: home + "/bin/java") { return true }
        return (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/java") }
    }()

    static func bytes(_ table: Table) throws -> Data {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-cmp-\(UUID().uuidString).parquet")
        defer { try? FileManager.default.removeItem(at: file) }
        try ParquetFileWriter.write(table, to: file.path)
        return try Data(contentsOf: file)
    }

    static func check(_ fuzzCase: FuzzCase) async throws -> [String] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-spark-\(fuzzCase.seed)-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        var stores: [FeatureStore] = []
        for engine in ["local", "spark"] {
            let repo = dir.appendingPathComponent(engine)
            try FileManager.default.createDirectory(at: repo.appendingPathComponent("data/events"), withIntermediateDirectories: true)
            let offline = engine == "spark"
                ? "offline_store: {kind: spark, master: \"local[2]\", partitions: 3, python: \"\(python)\"}\n" : ""
            try "project: fuzzspark\(fuzzCase.seed)\n\(offline)online_store: {kind: sqlite, path: data/online.db}\n".write(
                to: repo.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
            try fuzzCase.definitions.write(to: repo.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
            try ParquetFileWriter.write(try fuzzCase.eventsTable, to: repo.appendingPathComponent("data/events/part-0.parquet").path)
            let store = try FeatureStore(repository: repo, kinds: testKinds)
            try await store.apply()
            stores.append(store)
        }
        let (local, spark) = (stores[0], stores[1])
        var problems: [String] = []
        let views = ["plain"] + (fuzzCase.aggregations.isEmpty ? [] : ["agg"])
        let selection = FeatureSelection.references((views + ["od"]).map { FeatureReference(view: $0) })
        let entities = try fuzzCase.entitiesTable
        let expected = try await local.joinFeatures(entities: .table(entities), features: selection)
        let got = try await spark.joinFeatures(entities: .table(entities), features: selection)
        if got.schema != expected.schema {
            problems.append("spark training set schema \(got.schema.fields.map { "\($0.name):\($0.type)" }) != \(expected.schema.fields.map { "\($0.name):\($0.type)" })")
        } else if try bytes(got) != bytes(expected) {
            for (i, field) in expected.schema.fields.enumerated() {
                let a = expected.columns[i], b = got.columns[i]
                for row in 0..<a.count where a.json(at: row) != b.json(at: row) || a.isNull(row) != b.isNull(row) {
                    problems.append("spark training set \(field.name) row \(row): embedded \(a.json(at: row)), spark \(b.json(at: row))")
                    break
                }
            }
            if problems.isEmpty { problems.append("spark training set differs from the embedded engine's in its bytes") }
        }
        // Materialize everything with each engine, then look up every lookup's keys at the latest lookup time.
        let end = (fuzzCase.lookups.map(\.at).max() ?? 0) &+ 1
        for store in stores { _ = try await store.materialize(start: Int64.min, end: end, views: views) }
        var keys: [String: [OnlineValue]] = [:]
        for (k, name) in fuzzCase.keyNames.enumerated() { keys[name] = fuzzCase.lookups.map { $0.keys[k] } }
        let a = try await local.getOnlineFeatures(entities: keys, features: selection, at: end - 1)
        let b = try await spark.getOnlineFeatures(entities: keys, features: selection, at: end - 1)
        for (x, y) in zip(a.columns, b.columns) where x.values != y.values || x.statuses != y.statuses {
            let i = x.values.indices.first { x.values[$0] != y.values[$0] || x.statuses[$0] != y.statuses[$0] }!
            problems.append("online after a spark materialize \(x.view):\(x.feature) lookup \(i): embedded \(x.values[i]) \(x.statuses[i].rawValue), spark \(y.values[i]) \(y.statuses[i].rawValue)")
        }
        return problems
    }
}
