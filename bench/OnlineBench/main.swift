// In-process online lookup latency: `online-bench REPO [--iterations N]`.
// Uses the repository's online store as it is (materialize it first). For each case it runs the lookups N times
// with random entities and prints p50/p99/p999 in microseconds, as one JSON line per case.
//
// `online-bench --aggregated DIR [--drivers N] [--iterations N]`: writes a repository with one aggregated view
// (count, sum and max of a fare over 1h, 1d and 7d: 9 features, hops 5m, 1h and 1h) and 8 days of events (one per
// driver every 5 minutes on average) to DIR, materializes its tiles, and measures lookups of 1 and 100 drivers.
import Columnar
import FeatureStoreCore
import Foundation
import LocalOfflineEngine
import Parquet
import RedisOnlineStore
import SQLiteOnlineStore


MemoryPolicy.retainFreedMemory()
var args = Array(CommandLine.arguments.dropFirst())
let iterations = args.firstIndex(of: "--iterations").flatMap { Int(args[$0 + 1]) } ?? 20_000
if let flag = args.firstIndex(of: "--aggregated") {
    let dir = URL(fileURLWithPath: args[flag + 1])
    let drivers = args.firstIndex(of: "--drivers").flatMap { Int(args[$0 + 1]) } ?? 1_000
    do {
        try await aggregatedBenchmark(dir: dir, drivers: drivers, iterations: iterations)
    } catch {
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        exit(1)
    }
    exit(0)
}
guard let repo = args.first else {
    FileHandle.standardError.write(Data("usage: online-bench REPO [--iterations N] | online-bench --aggregated DIR [--drivers N] [--iterations N]\n".utf8))
    exit(2)
}
let store: FeatureStore
do {
    store = try FeatureStore(repository: URL(fileURLWithPath: repo), kinds: .sqlite + .redis + .local)
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(1)
}
let views = store.registry.featureViews.filter(\.online)
// Keys that exist: read from the first view's statistics range (drivers 1...N in the benchmark data).
let keyName = store.registry.joinKeys(of: views[0])[0].name
let maxKey = Int64(ProcessInfo.processInfo.environment["BENCH_KEYS"] ?? "20000") ?? 20_000
// Lookups at the time of the newest event stored (the data's end, not today's clock): values within their ttl, as in
// serving, rather than rows long expired.
var lookupTime = Int64(Date().timeIntervalSince1970 * 1_000_000)
do {
    let online = try await store.onlineStore()
    var newest: Int64? = nil
    for view in views {
        if let t = try await online.statistics(of: OnlineTable(view: view, joinKeys: store.registry.joinKeys(of: view))).newestEventTimestamp { newest = max(newest ?? t, t) }
    }
    if let newest { lookupTime = newest + 1 }
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(1)
}

func measure(_ label: String, entities: Int, views chosen: [FeatureView]) async throws {
    try await latency(label, store: store, keyName: keyName, maxKey: maxKey, entities: entities, views: chosen, iterations: iterations, at: lookupTime)
}

/// Lookup latency at `at` (microseconds; passed, not read from a global: the aggregated case runs before the top-level
/// globals below its call are initialized, and so once looked up at time 0, where no window holds a tile).
func latency(_ label: String, store: FeatureStore, keyName: String, maxKey: Int64, entities: Int, views chosen: [FeatureView], iterations: Int, at lookupTime: Int64) async throws {
    let selection = FeatureSelection.references(chosen.map { FeatureReference(view: $0.name) })
    var rng = SystemRandomNumberGenerator()
    var times: [Double] = []
    times.reserveCapacity(iterations)
    var found = 0
    for _ in 0..<iterations {
        let keys = (0..<entities).map { _ in OnlineValue.int(Int64.random(in: 1...maxKey, using: &rng)) }
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try await store.getOnlineFeatures(entities: [keyName: keys], features: selection, fullFeatureNames: true, at: lookupTime)
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
        found += result.columns[0].statuses.filter { $0 == .present || $0 == .nullValue }.count
    }
    times.sort()
    func p(_ q: Double) -> Double { times[min(times.count - 1, Int(Double(times.count) * q))] }
    print(String(format: "{\"case\": \"%@\", \"p50_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, \"found\": %.3f}",
                 label, p(0.5), p(0.99), p(0.999), Double(found) / Double(iterations * entities)))
}

do {
    // Warm up the connection pool and page cache.
    try await measure("warmup", entities: 1, views: [views[0]])
    try await measure("1 entity x 1 view", entities: 1, views: [views[0]])
    try await measure("1 entity x 3 views", entities: 1, views: Array(views.prefix(3)))
    try await measure("100 entities x 3 views", entities: 100, views: Array(views.prefix(3)))
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(1)
}

/// The aggregated-view case: a repository, its events, the tiles materialize writes, then lookup latency.
func aggregatedBenchmark(dir: URL, drivers: Int, iterations: Int) async throws {
    try? FileManager.default.removeItem(at: dir)
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("data/events"), withIntermediateDirectories: true)
    try "project: aggbench\nonline_store: {kind: sqlite, path: data/online.db}\n".write(to: dir.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
    try """
        entities:
          - {name: driver, join_keys: [{name: driver_id, type: int64}]}
        sources:
          - {name: trips, kind: parquet, path: data/events, timestamp_field: ts}
        feature_views:
          - name: driver_trips
            entities: [driver]
            source: trips
            aggregations:
              - {function: count, windows: [1h, 1d, 7d]}
              - {column: fare, type: float64, function: sum, windows: [1h, 1d, 7d]}
              - {column: fare, type: float64, function: max, windows: [1h, 1d, 7d]}

        """.write(to: dir.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
    let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
    let span: Int64 = 8 * 86_400_000_000, every: Int64 = 300_000_000
    var rng = SystemRandomNumberGenerator()
    var ids: [Int64?] = [], times: [Int64?] = [], fares: [Double?] = []
    let perDriver = Int(span / every)
    ids.reserveCapacity(drivers * perDriver)
    for d in 1...drivers {
        for _ in 0..<perDriver {
            ids.append(Int64(d))
            times.append(now - Int64.random(in: 0..<span, using: &rng))
            fares.append(Double.random(in: 4...60, using: &rng))
        }
    }
    let table = try Table([("driver_id", Column(int64: ids)), ("ts", Column(timestamps: times)), ("fare", Column(float64: fares))])
    try ParquetFileWriter.write(table, to: dir.appendingPathComponent("data/events/part-0.parquet").path)
    let store = try FeatureStore(repository: dir, kinds: .sqlite + .redis + .local)
    let began = Date()
    let reports = try await store.materialize(start: Int64.min, end: now, views: ["driver_trips"])
    print(String(format: "{\"case\": \"materialize\", \"events\": %d, \"tiles\": %d, \"seconds\": %.2f}", table.rowCount, reports[0].rowsWritten, Date().timeIntervalSince(began)))
    let view = store.registry.featureView(named: "driver_trips")!
    try await latency("warmup", store: store, keyName: "driver_id", maxKey: Int64(drivers), entities: 1, views: [view], iterations: iterations / 4, at: now)
    try await latency("1 entity x 9 aggregated features (1h, 1d, 7d)", store: store, keyName: "driver_id", maxKey: Int64(drivers), entities: 1, views: [view], iterations: iterations, at: now)
    try await latency("100 entities x 9 aggregated features", store: store, keyName: "driver_id", maxKey: Int64(drivers), entities: 100, views: [view], iterations: max(100, iterations / 20), at: now)
}
