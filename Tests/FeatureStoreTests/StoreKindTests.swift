import FeatureStore
import FeatureStoreTesting
import Foundation
import Testing

/// Store kinds plug in from outside the core: a kind registered by a program (here, the test) serves a repository
/// whose feature_store.yaml names it, with no change to the compiler or the library.
@Suite("Online store kinds", .timeLimit(.minutes(2)))
struct StoreKindTests {
    @Test("the in-memory store passes the conformance suite", arguments: OnlineStoreConformance.checks)
    func inMemoryConforms(_ check: OnlineStoreConformance.Check) async throws {
        try await check.run { InMemoryOnlineStore() }
    }

    @Test("a repository naming a registered kind materializes into it and serves from it; the SQLite file is never made")
    func registeredKindServesRepository() async throws {
        InMemoryOnlineStoreKind.register()
        let f = try JoinFixture(["stats": try statsTable([(1, 1000, 1000, 0.25), (2, 1000, 1000, 0.5)])])
        let name = "kind-test-\(UUID().uuidString)"
        try f.dir.write("feature_store.yaml", "project: join_test\nonline_store: {kind: memory, name: \(name)}\n")
        let store = try f.store
        #expect(store.config.onlineStore == OnlineStoreConfig(kind: "memory", values: ["name": name]))
        let reports = try await store.materialize(start: 0, end: s(2000), views: ["stats"])
        #expect(reports.first?.rowsWritten == 2)
        let online = try await store.getOnlineFeatures(entities: ["driver_id": [.int(1), .int(2), .int(3)]], features: FeatureSelection(parsing: "stats:conv")!,
                                                 now: Date(timeIntervalSince1970: 1500))
        #expect(online.columns[0].values == [.double(0.25), .double(0.5), .null])
        #expect(online.columns[0].statuses == [.present, .present, .notFound])
        #expect(!FileManager.default.fileExists(atPath: f.dir.url.appendingPathComponent("data/online.db").path))
        // A second repository handle on the same named store sees the same rows.
        #expect(try await f.store.onlineStore().statistics(of: store.registry.featureView(named: "stats")!, keys: [JoinKey(name: "driver_id", type: .int64)]).rows == 2)
    }

    @Test("a repository naming a kind this program lacks fails to compile, naming the kinds it has")
    func unknownKind() throws {
        let f = try JoinFixture([:])
        try f.dir.write("feature_store.yaml", "project: join_test\nonline_store: {kind: redis, nodes: 'a:1'}\n")
        #expect(throws: CompileError.self) { _ = try f.store }
        do {
            _ = try FeatureStore(repository: f.dir.url)
        } catch {
            #expect(error.description.contains("feature_store.yaml:2:22: error: unknown online store kind 'redis'"), "\(error)")
            #expect(error.description.contains("kinds in this program:") && error.description.contains("sqlite"), "\(error)")
        }
    }
}
