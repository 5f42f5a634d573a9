import Columnar
import FeatureStoreCore
import Foundation
import Parquet
import Synchronization
import Testing
import TestKinds

@Suite("materialize survives kill -9", .serialized, .timeLimit(.minutes(10)))
struct CrashTests {
    @Test("a materialize killed mid-way leaves a store that opens, and a rerun completes with the right values")
    func killAndRerun() async throws {
        let repo = FileManager.default.temporaryDirectory.appendingPathComponent("crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("data"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: repo) }
        try "project: crash\n".write(to: repo.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
        try """
            entities:
              - {name: user, join_keys: [{name: user_id, type: int64}]}
            sources:
              - {name: events, kind: parquet, path: data/events.parquet, timestamp_field: ts}
            feature_views:
              - {name: scores, entities: [user], source: events, ttl: 0, features: [{name: score, type: int64}]}

            """.write(to: repo.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
        let rows = 300_000
        let ids = (0..<rows).map { Int64($0) }
        try ParquetFileWriter.write(try Table([
            ("user_id", Column(int64: ids)),
            ("ts", Column(timestamps: ids.map { 1_000_000 + $0 })),
            ("score", Column(int64: ids.map { $0 * 3 + 1 })),
        ]), to: repo.appendingPathComponent("data/events.parquet").path)

        let store = try FeatureStore(repository: repo, kinds: testKinds)
        let view = store.registry.featureView(named: "scores")!
        let keys = store.registry.joinKeys(of: view)

        // Start a materialize and kill it as soon as some batches are committed.
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent("featurectl")
        process.arguments = ["materialize", "1970-01-01T00:00:00Z", "2000-01-01T00:00:00Z", "--repo", repo.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let database = repo.appendingPathComponent("data/online.db").path
        let before = Mutex(0)
        let killedMidway = await ChildWatch.kill(process, when: {
            let rows = ChildWatch.onlineRows(at: database, view: "scores")
            before.withLock { $0 = rows }
            return rows > 0
        })
        // The kill fell in the middle: the process was still running, and some batches were already committed.
        try #require(killedMidway && process.terminationReason == .uncaughtSignal, "the materialize was still running when killed")
        let committed = before.withLock { $0 }
        try #require(committed > 0, "rows were committed before the kill (none seen within the deadline)")

        // The store opens; it holds whole batches only (transactions of 10,000 rows), some but not all of them.
        let reopened = try FeatureStore(repository: repo, kinds: testKinds)
        let partial = try await reopened.onlineStore().statistics(of: OnlineTable(view: view, joinKeys: keys)).rows
        #expect(partial % 10_000 == 0, "whole batches only: \(partial) rows")
        #expect(partial >= committed && partial > 0 && partial < rows, "killed mid-way: \(partial) of \(rows) rows committed")

        // A rerun completes, and every value is right.
        let rerun = try await featurectl(["materialize", "1970-01-01T00:00:00Z", "2000-01-01T00:00:00Z", "--repo", repo.path])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let done = try FeatureStore(repository: repo, kinds: testKinds)
        await #expect(try done.onlineStore().statistics(of: OnlineTable(view: view, joinKeys: keys)).rows == rows)
        let sample = stride(from: 0, to: rows, by: 997).map { Int64($0) }
        let got = try await done.getOnlineFeatures(entities: ["user_id": sample.map { .int($0) }], features: .references([FeatureReference(view: "scores")]))
        #expect(got.columns[0].values == sample.map { .int($0 * 3 + 1) })
    }
}
