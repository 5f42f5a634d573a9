import Columnar
import FeatureComputation
import FeatureStoreCore
import Foundation
import Parquet
import Redis
import RedisTestSupport
import SQLite
import Synchronization
import Testing
import TestKinds

/// A backfill that moves the cut of a stream-fed aggregated view writes the backfill parts of tiles the stream held
/// until then. Lookups during it, and after a crash in the middle, must count each event once (issue 24, case 3).
@Suite("materialize hands tiles over from the stream atomically for readers, kill -9 included", .serialized, .timeLimit(.minutes(10)))
struct HandOverCrashTests {
    static let hour: Int64 = 3_600_000_000

    /// A repository whose view `trips` counts a Kafka stream's events over 7 days by the hour, its offline copy under
    /// data/events holding `entities` drivers' events of two to three days ago, and stream parts of the same tiles
    /// in the online store, as an ingester that saw those events live would have left them (cut: the stream owns all).
    static func repository(entities: Int, now: Int64, onlineStore: String) async throws -> (URL, counts: [Int64]) {
        let repo = FileManager.default.temporaryDirectory.appendingPathComponent("handover-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("data/events"), withIntermediateDirectories: true)
        try """
            project: handover
            kafka: {bootstrap_servers: "127.0.0.1:1"}
            \(onlineStore)

            """.write(to: repo.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
        try """
            entities:
              - {name: driver, join_keys: [{name: driver_id, type: int64}]}
            sources:
              - {name: batch, kind: parquet, path: data/events, timestamp_field: ts}
              - {name: stream, kind: kafka, topic: trips, batch_source: batch, timestamp_field: ts}
            feature_views:
              - name: trips
                entities: [driver]
                source: stream
                aggregations:
                  - {function: count, windows: [7d], hop: 1h}

            """.write(to: repo.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
        // Each driver: one event in each of 12 hours, 60 to 48 hours ago (before any cut a backfill now moves to).
        var ids: [Int64] = [], times: [Int64] = []
        let first = (now - 60 * hour) / hour * hour
        for d in 0..<entities {
            for h in 0..<12 {
                ids.append(Int64(d))
                times.append(first + Int64(h) * hour + Int64(d % 1000) * 1000)
            }
        }
        try ParquetFileWriter.write(try Table([("driver_id", Column(int64: ids)), ("ts", Column(timestamps: times))]),
                                    to: repo.appendingPathComponent("data/events/part-0.parquet").path)
        // The stream's parts of the same tiles.
        let store = try FeatureStore(repository: repo, kinds: testKinds)
        let view = try #require(store.registry.featureView(named: "trips"))
        let keys = store.registry.joinKeys(of: view)
        let online = try await store.fullOnlineStore()
        _ = try await online.setTileCuts([hour: Int64.min], of: OnlineTable(view: view, joinKeys: keys), onlyMissing: false)
        var tiles: [OnlineTile] = []
        for d in 0..<entities {
            for h in 0..<12 {
                var state = AggregateState(.count)
                state.add(nil, at: first + Int64(h) * hour)
                tiles.append(OnlineTile(key: [.int(Int64(d))], hop: hour, start: first + Int64(h) * hour,
                                        states: TileStates.encode([state]), origin: .stream))
            }
            if tiles.count >= 10_000 {
                try await online.writeTiles(tiles, to: OnlineTable(view: view, joinKeys: keys))
                tiles.removeAll()
            }
        }
        try await online.writeTiles(tiles, to: OnlineTable(view: view, joinKeys: keys))
        return (repo, Array(repeating: 12, count: entities))
    }

    /// Backfill and stream parts in the embedded store's table of `trips` (0, 0 while it is not there yet; roll-ups
    /// not counted).
    static func tileCounts(_ database: String) -> (backfill: Int, stream: Int) {
        guard let connection = try? Connection(path: database, mode: .readOnly),
              let tables = try? connection.prepare("SELECT table_name FROM online_tables WHERE view = 'trips'").rows(),
              case .text(let table)? = tables.first?.first,
              let rows = try? connection.prepare("SELECT origin, count(*) FROM \"\(table)\" GROUP BY origin").rows()
        else { return (0, 0) }
        var out = (backfill: 0, stream: 0)
        for row in rows {
            guard case .integer(let origin)? = row.first, case .integer(let n)? = row.last else { continue }
            if origin == 0 { out.backfill = Int(n) } else if origin == 1 { out.stream = Int(n) }  // 2: roll-ups
        }
        return out
    }

    /// Every driver's 7-day count at `now`, online.
    static func onlineCounts(_ repo: URL, entities: Int, now: Int64) async throws -> [OnlineValue] {
        let store = try FeatureStore(repository: repo, kinds: testKinds)
        return try await store.getOnlineFeatures(entities: ["driver_id": (0..<entities).map { .int(Int64($0)) }],
                                                 features: FeatureSelection(parsing: "trips:count_7d")!,
                                                 now: Date(timeIntervalSince1970: Double(now) / 1_000_000)).columns[0].values
    }

    @Test("SQLite: a materialize killed while it writes the backfill parts leaves counts exact (no event twice), and a rerun completes the hand-over")
    func killedMidHandOverOnSQLite() async throws {
        let entities = 40_000
        try await Self.killMidHandOver(entities: entities, onlineStore: "online_store: {kind: sqlite, path: data/online.db}") { repo in
            // Killed in the hand-over: some tiles have their backfill part written, the stream's parts are all there.
            let counts = Self.tileCounts(repo.appendingPathComponent("data/online.db").path)
            return (counts.backfill > 0 && counts.stream > 0, counts.backfill < entities * 12 && counts.stream == entities * 12)
        } completed: { repo in
            let after = Self.tileCounts(repo.appendingPathComponent("data/online.db").path)
            #expect(after.backfill == entities * 12 && after.stream == 0, "after the rerun: \(after)")
        }
    }

    @Test("Redis: a materialize killed while it writes the backfill parts leaves counts exact (no event twice), and a rerun completes the hand-over")
    func killedMidHandOverOnRedis() async throws {
        let entities = 20_000
        let servers = try RedisServers()
        let port = try servers.start()
        let keys = Mutex(0)
        // Backfill parts live in hashes of their own beside each entity's keys: the key count grows as they are written.
        let size: @Sendable () -> Int = {
            guard let c = try? RedisConnection(RedisEndpoint(host: "127.0.0.1", port: port), connectTimeout: .seconds(2), readTimeout: .seconds(5)),
                  case .integer(let n)? = try? c.run("DBSIZE") else { return 0 }
            return Int(n)
        }
        try await Self.killMidHandOver(entities: entities, onlineStore: "online_store: {kind: redis, nodes: [\"127.0.0.1:\(port)\"]}",
                                       before: { keys.withLock { $0 = size() } }) { _ in
            let baseline = keys.withLock { $0 }
            let now = size()
            return (now > baseline + 200, now < baseline + entities)
        } completed: { _ in }
    }

    /// Builds the repository on `onlineStore`, starts `featurectl materialize` (which moves the cut to a recent hop
    /// and so takes over every tile), kills it once `midway` says the hand-over has begun, checks every count, then
    /// reruns it and checks again.
    static func killMidHandOver(entities: Int, onlineStore: String, before: () -> Void = {},
                                midway: @escaping @Sendable (URL) -> (begun: Bool, unfinished: Bool),
                                completed: (URL) throws -> Void) async throws {
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        let (repo, counts) = try await Self.repository(entities: entities, now: now, onlineStore: onlineStore)
        defer { try? FileManager.default.removeItem(at: repo) }
        #expect(try await Self.onlineCounts(repo, entities: entities, now: now) == counts.map { .int($0) }, "the stream's parts alone")
        before()
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent("featurectl")
        process.arguments = ["materialize", "1970-01-01T00:00:00Z", "now", "--repo", repo.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let killedMidway = await ChildWatch.kill(process, when: { midway(repo).begun })
        try #require(killedMidway && process.terminationReason == .uncaughtSignal, "the materialize was still running when killed")
        try #require(midway(repo).unfinished, "killed before the hand-over finished")

        // Every event counted once: drivers whose tiles were handed over read their backfill parts alone.
        let during = try await Self.onlineCounts(repo, entities: entities, now: now)
        let wrong = zip(during, counts).enumerated().filter { $0.element.0 != .int($0.element.1) }
        #expect(wrong.isEmpty, "\(wrong.count) drivers counted wrong after the kill, e.g. \(wrong.prefix(3).map { "driver \($0.offset): \($0.element.0)" })")

        // The rerun completes the hand-over: the same counts.
        let rerun = try await featurectl(["materialize", "1970-01-01T00:00:00Z", "now", "--repo", repo.path])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        try completed(repo)
        #expect(try await Self.onlineCounts(repo, entities: entities, now: now) == counts.map { .int($0) })
    }
}
