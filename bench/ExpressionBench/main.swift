// Expression evaluation speed.
//
// `expression-bench offline DIR [--rows N] [--runs N]`: writes N rows (a, b int64; x, y float64; s string;
// t timestamp; 2% nulls) to DIR/data.parquet, then evaluates the ten expressions of `cases` over them with the column
// evaluator (all cores) and prints the median wall time of the runs as JSON; bench/expressions.sh runs DuckDB on the
// same file and SQL and prints the ratio.
//
// `expression-bench online DIR [--iterations N]`: a repository with a plain view (5 features, 10,000 drivers) and an
// on-demand view of ten expressions over it and three request fields; measures in-process lookups of the view alone
// and of the on-demand view (which reads the same view), for 1 and 100 entities, and prints the difference per entity.
import Columnar
import Expressions
import FeatureStoreCore
import Foundation
import LocalOfflineEngine
import Parquet
import SQLiteOnlineStore

MemoryPolicy.retainFreedMemory()

/// (our expression, DuckDB's SQL, output type).
let cases: [(String, String, OutputType)] = [
    ("a + b * 3", "a + b * 3", .int64),
    ("x / nullif(y, 0)", "x / nullif(y, 0)", .float64),
    ("if(a > b, x, y)", "CASE WHEN a > b THEN x ELSE y END", .float64),
    ("coalesce(x, y, 0.0)", "coalesce(x, y, 0.0)", .float64),
    ("round(x * 100) / 100", "round(x * 100) / 100", .float64),
    ("x > 0.5 and y < 0.2 or a % 7 = 0", "x > 0.5 AND y < 0.2 OR a % 7 = 0", .bool),
    ("abs(x - y) + sqrt(abs(x))", "abs(x - y) + sqrt(abs(x))", .float64),
    ("hour(t)", "hour(t)", .int64),
    ("starts_with(s, 'zone_1')", "starts_with(s, 'zone_1')", .bool),
    ("haversine_km(x, y, x + 1, y + 1)",
     "2 * 6371.0088 * asin(least(1, sqrt(pow(sin(radians(1) / 2), 2) + cos(radians(x)) * cos(radians(x + 1)) * pow(sin(radians(1) / 2), 2))))",
     .float64),
]

let args = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, _ fallback: Int) -> Int { args.firstIndex(of: name).flatMap { Int(args[$0 + 1]) } ?? fallback }
guard args.count >= 2 else {
    FileHandle.standardError.write(Data("usage: expression-bench offline DIR [--rows N] [--runs N] | expression-bench online DIR [--iterations N] | expression-bench sql\n".utf8))
    exit(2)
}
let dir = URL(fileURLWithPath: args[1])

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

func offline() throws {
    let rows = option("--rows", 10_000_000), runs = option("--runs", 5)
    let path = dir.appendingPathComponent("data.parquet").path
    if !FileManager.default.fileExists(atPath: path) {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var rng = SystemRandomNumberGenerator()
        func nullable<T>(_ v: T) -> T? { Int.random(in: 0..<50, using: &rng) == 0 ? nil : v }
        var a: [Int64?] = [], b: [Int64?] = [], x: [Double?] = [], y: [Double?] = [], s: [String?] = [], t: [Int64?] = []
        for _ in 0..<rows {
            a.append(nullable(Int64.random(in: -1_000_000...1_000_000, using: &rng)))
            b.append(nullable(Int64.random(in: -1000...1000, using: &rng)))
            x.append(nullable(Double.random(in: -90...90, using: &rng)))
            y.append(nullable(Double.random(in: -1...1, using: &rng)))
            s.append(nullable("zone_\(Int.random(in: 0..<40, using: &rng))"))
            t.append(nullable(1_700_000_000_000_000 + Int64.random(in: 0..<(400 * 86_400_000_000), using: &rng)))
        }
        let table = try Table([("a", Column(int64: a)), ("b", Column(int64: b)), ("x", Column(float64: x)), ("y", Column(float64: y)),
                               ("s", Column(strings: s)), ("t", Column(timestamps: t))])
        try ParquetFileWriter.write(table, to: path)
    }
    let table = try ParquetFile(path: path).read()
    var types: [String: ExpressionType] = [:]
    for field in table.schema.fields { types[field.name] = ExpressionType(columnType: field.type) }
    var compiled: [(CompiledExpression, OutputType)] = []
    for (text, _, output) in cases {
        switch ExpressionCompiler.compile(text, lookup: { _, n in types[n].map(NameLookup.found) ?? .notFound(n) }) {
        case .success(let c): compiled.append((c, output))
        case .failure(let e): throw e
        }
    }
    var times: [Double] = []
    var perExpression = [[Double]](repeating: [], count: compiled.count)
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        for (i, (expression, output)) in compiled.enumerated() {
            let began = DispatchTime.now().uptimeNanoseconds
            let inputs = expression.inputs.map { table.column(named: $0.name)! }
            let column = expression.evaluate(columns: inputs, rowCount: table.rowCount, as: output)
            precondition(column.count == table.rowCount)
            perExpression[i].append(Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9)
        }
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    let each = perExpression.enumerated().map { String(format: "\"%d\": %.3f", $0.offset + 1, median($0.element)) }.joined(separator: ", ")
    print(String(format: "{\"engine\": \"ours\", \"rows\": %d, \"expressions\": %d, \"median_seconds\": %.3f, \"per_expression\": {%@}}",
                 table.rowCount, compiled.count, median(times), each))
}

func online() async throws {
    let iterations = option("--iterations", 20_000)
    try? FileManager.default.removeItem(at: dir)
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("data"), withIntermediateDirectories: true)
    try "project: exprbench\nonline_store: {kind: sqlite, path: data/online.db}\n".write(to: dir.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
    try """
        entities:
          - {name: driver, join_keys: [{name: driver_id, type: int64}]}
        sources:
          - {name: stats_src, kind: parquet, path: data/stats.parquet, timestamp_field: ts}
        feature_views:
          - name: stats
            entities: [driver]
            source: stats_src
            features:
              - {name: acc, type: float32}
              - {name: conv, type: float32}
              - {name: trips, type: int64}
              - {name: lat, type: float64}
              - {name: zone, type: string}
        on_demand_views:
          - name: scored
            request: [{name: distance_km, type: float64}, {name: pickup, type: timestamp}, {name: lon, type: float64}]
            features:
              - {name: e1, type: float64, expr: "stats.acc * stats.conv"}
              - {name: e2, type: bool, expr: "distance_km > 20"}
              - {name: e3, type: int32, expr: "hour(pickup)"}
              - {name: e4, type: float64, expr: "coalesce(stats.trips / 8.0, 1.8) * distance_km"}
              - {name: e5, type: float64, expr: "haversine_km(stats.lat, lon, stats.lat + 0.1, lon)"}
              - {name: e6, type: bool, expr: "starts_with(stats.zone, 'zone_1') and stats.acc > 0.5"}
              - {name: e7, type: float64, expr: "round(clamp(stats.conv * 100, 0, 100), 1)"}
              - {name: e8, type: int64, expr: "if(stats.trips > 10, stats.trips * 2, 0)"}
              - {name: e9, type: float64, expr: "ln(1 + distance_km) / nullif(stats.acc, 0)"}
              - {name: e10, type: string, expr: "case when distance_km > 30 then 'long' when distance_km > 5 then 'mid' else 'short' end"}

        """.write(to: dir.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
    let drivers = 10_000
    let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
    var rng = SystemRandomNumberGenerator()
    let ids = (1...drivers).map { Int64($0) }
    let table = try Table([
        ("driver_id", Column(int64: ids)), ("ts", Column(timestamps: ids.map { _ in now - 60_000_000 })),
        ("acc", Column(float32: ids.map { _ in Float.random(in: 0...1, using: &rng) })),
        ("conv", Column(float32: ids.map { _ in Float.random(in: 0...1, using: &rng) })),
        ("trips", Column(int64: ids.map { _ in Int64.random(in: 0...40, using: &rng) })),
        ("lat", Column(float64: ids.map { _ in Double.random(in: -60...60, using: &rng) })),
        ("zone", Column(strings: ids.map { _ in "zone_\(Int.random(in: 0..<40, using: &rng))" })),
    ])
    try ParquetFileWriter.write(table, to: dir.appendingPathComponent("data/stats.parquet").path)
    let store = try FeatureStore(repository: dir, kinds: .sqlite + .local)
    _ = try await store.materialize(start: Int64.min, end: now, views: ["stats"])

    func latency(entities n: Int, onDemand: Bool, iterations: Int) async throws -> Double {
        let selection = FeatureSelection.references([FeatureReference(view: onDemand ? "scored" : "stats")])
        var times: [Double] = []
        times.reserveCapacity(iterations)
        for _ in 0..<iterations {
            let keys = (0..<n).map { _ in OnlineValue.int(Int64.random(in: 1...Int64(drivers), using: &rng)) }
            let context: [String: [OnlineValue]] = onDemand ? [
                "distance_km": (0..<n).map { _ in .double(Double.random(in: 0...40, using: &rng)) },
                "pickup": [.timestamp(now)], "lon": [.double(Double.random(in: -180...180, using: &rng))],
            ] : [:]
            let start = DispatchTime.now().uptimeNanoseconds
            let result = try await store.getOnlineFeatures(entities: ["driver_id": keys], features: selection, requestContext: context)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
            precondition(result.columns.count == (onDemand ? 10 : 5))
        }
        return median(times)
    }
    _ = try await latency(entities: 1, onDemand: true, iterations: iterations / 4)
    if ProcessInfo.processInfo.environment["BENCH_ONLY"] != nil {
        for _ in 0..<10 { _ = try await latency(entities: 1, onDemand: true, iterations: iterations) }
        return
    }
    if ProcessInfo.processInfo.environment["BENCH_DETAIL"] != nil {
        for refs in [["stats"], ["scored:e1"], ["scored:e1", "scored:e2"], ["scored:e1", "scored:e2", "scored:e3", "scored:e4", "scored:e5"], ["scored"]] {
            let selection = FeatureSelection.references(refs.map { FeatureReference(parsing: $0)! })
            var times: [Double] = []
            for _ in 0..<iterations {
                let keys = [OnlineValue.int(Int64.random(in: 1...Int64(drivers), using: &rng))]
                let context: [String: [OnlineValue]] = ["distance_km": [.double(3)], "pickup": [.timestamp(now)], "lon": [.double(1)]]
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try await store.getOnlineFeatures(entities: ["driver_id": keys], features: selection, requestContext: context)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
            }
            print("\(refs): p50 \(median(times)) us")
        }
    }
    if ProcessInfo.processInfo.environment["BENCH_DETAIL"] != nil {
        // The ten expressions alone, per row.
        let view = store.registry.onDemandView(named: "scored")!
        let types: [String: ExpressionType] = ["stats.acc": .float64, "stats.conv": .float64, "stats.trips": .int64, "stats.lat": .float64,
                                               "stats.zone": .string, "distance_km": .float64, "pickup": .timestamp, "lon": .float64]
        let values: [String: Value] = ["stats.acc": .float64(0.7), "stats.conv": .float64(0.4), "stats.trips": .int64(12), "stats.lat": .float64(45),
                                       "stats.zone": .string("zone_12"), "distance_km": .float64(12.5), "pickup": .timestamp(now), "lon": .float64(7)]
        let compiled = view.features.map { f -> CompiledExpression in
            if case .success(let c) = ExpressionCompiler.compile(f.expression, lookup: { q, n in types[q.map { "\($0).\(n)" } ?? n].map(NameLookup.found) ?? .notFound(n) }) { return c }
            fatalError()
        }
        let rows = compiled.map { c in c.inputs.map { values[$0.description]! } }
        let start = DispatchTime.now().uptimeNanoseconds
        var nulls = 0
        for _ in 0..<iterations {
            for (c, row) in zip(compiled, rows) { if c.evaluate(row).isNull { nulls += 1 } }
        }
        print(String(format: "ten expressions per row: %.2f us (%d nulls)", Double(DispatchTime.now().uptimeNanoseconds - start) / 1000 / Double(iterations), nulls))
    }
    // Where the time goes: resolving the selection alone.
    do {
        let selection = FeatureSelection.references([FeatureReference(view: "scored")])
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations { _ = try store.featureViewNames(for: selection) }
        print(String(format: "{\"case\": \"resolve the selection\", \"us\": %.2f}", Double(DispatchTime.now().uptimeNanoseconds - start) / 1000 / Double(iterations)))
    }
    for n in [1, 100] {
        let count = n == 1 ? iterations : max(200, iterations / 20)
        // Interleaved halves, so drift in the machine's speed touches both alike.
        var plain: [Double] = [], computed: [Double] = []
        for _ in 0..<4 {
            plain.append(try await latency(entities: n, onDemand: false, iterations: count / 4))
            computed.append(try await latency(entities: n, onDemand: true, iterations: count / 4))
        }
        let p = median(plain), c = median(computed)
        print(String(format: "{\"case\": \"%d entit%@\", \"view_p50_us\": %.1f, \"view_plus_10_expressions_p50_us\": %.1f, \"added_us_per_entity\": %.2f}",
                     n, n == 1 ? "y" : "ies", p, c, (c - p) / Double(n)))
    }
}

do {
    switch args[0] {
    case "offline": try offline()
    case "online": try await online()
    case "sql": for (_, sql, _) in cases { print(sql) }
    default:
        FileHandle.standardError.write(Data("unknown mode '\(args[0])'\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(1)
}
