// In-process online lookup latency: `online-bench REPO [--iterations N]`.
// Uses the repository's online store as it is (materialize it first). For each case it runs the lookups N times
// with random entities and prints p50/p99/p999 in microseconds, as one JSON line per case.
import Columnar
import FeatureStore
import Foundation
import LocalOfflineEngine
import SQLiteOnlineStore

SQLiteOnlineStoreKind.register()
LocalOfflineEngineKind.register()

MemoryPolicy.retainFreedMemory()
let args = Array(CommandLine.arguments.dropFirst())
guard let repo = args.first else {
    FileHandle.standardError.write(Data("usage: online-bench REPO [--iterations N]\n".utf8))
    exit(2)
}
let iterations = args.firstIndex(of: "--iterations").flatMap { Int(args[$0 + 1]) } ?? 20_000
let store: FeatureStore
do {
    store = try FeatureStore(repository: URL(fileURLWithPath: repo))
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(1)
}
let views = store.registry.featureViews.filter(\.online)
// Keys that exist: read from the first view's statistics range (drivers 1...N in the benchmark data).
let keyName = store.registry.joinKeys(of: views[0])[0].name
let maxKey = Int64(ProcessInfo.processInfo.environment["BENCH_KEYS"] ?? "20000") ?? 20_000

func measure(_ label: String, entities: Int, views chosen: [FeatureView]) async throws {
    let selection = FeatureSelection.references(chosen.map { FeatureReference(view: $0.name) })
    var rng = SystemRandomNumberGenerator()
    var times: [Double] = []
    times.reserveCapacity(iterations)
    var found = 0
    for _ in 0..<iterations {
        let keys = (0..<entities).map { _ in OnlineValue.int(Int64.random(in: 1...maxKey, using: &rng)) }
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try await store.getOnlineFeatures(entities: [keyName: keys], features: selection, fullFeatureNames: true)
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
        found += result.columns[0].statuses.filter { $0 != .notFound }.count
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
