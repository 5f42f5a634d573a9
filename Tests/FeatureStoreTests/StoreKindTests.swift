import TestKinds
import FeatureStoreCore
import Columnar
import FeatureStoreTesting
import Foundation
import LocalOfflineEngine
import SQLiteOnlineStore
import ErrorChain
import Testing

/// Store kinds plug in from outside the core: a kind a program passes in its `Kinds` (here, the test's) serves a
/// repository whose feature_store.yaml names it, with no change to the compiler or the library.
@Suite("Online store kinds", .timeLimit(.minutes(2)))
struct StoreKindTests {
    @Test("the in-memory store passes the conformance suite", arguments: OnlineStoreConformance.checks)
    func inMemoryConforms(_ check: OnlineStoreConformance.Check) async throws {
        try await check.run { InMemoryOnlineStore() }
    }

    @Test("a repository naming a registered kind materializes into it and serves from it; the SQLite file is never made")
    func registeredKindServesRepository() async throws {
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
        #expect(try await f.store.onlineStore().statistics(of: OnlineTable(view: store.registry.featureView(named: "stats")!, joinKeys: [JoinKey(name: "driver_id", type: .int64)])).rows == 2)
    }

    @Test("under .report, a repository naming a kind this program lacks fails to compile, naming the kinds it has")
    func unknownKind() throws {
        let f = try JoinFixture([:])
        try f.dir.write("feature_store.yaml", "project: join_test\nonline_store: {kind: cassandra, nodes: 'a:1'}\n")
        let error = try #require(throws: CompileError.self) { _ = try FeatureStore(repository: f.dir.url, kinds: testKinds, unknownKinds: .report) }
        #expect(error.description.contains("feature_store.yaml:2:22: error: unknown online store kind 'cassandra'"), "\(error)")
        #expect(error.description.contains("kinds in this program:") && error.description.contains("sqlite"), "\(error)")
    }
    @Test("a program without the online store's kind, the stream transport or its section still builds training sets; the store fails when used, at its place")
    func deferredKindsFailWhereUsed() async throws {
        var f = try JoinFixture(["stats": try statsTable([(1, 1000, 1000, 0.25)])])
        f.kinds = .local
        try f.dir.write("feature_store.yaml", "project: join_test\nonline_store: {kind: cassandra, nodes: 'a:1'}\nkafka: {bootstrap_servers: 'b:9092'}\n")
        try f.dir.write("stream.yaml", """
            sources:
              - name: stats_stream
                kind: kafka
                topic: stats
                batch_source: stats_src
                timestamp_field: event_ts
            """)
        let store = try f.store
        let out = try await f.join(try entityTable(ids: [1], times: [2000]), "stats:conv")
        #expect(doubles(out, "conv") == [0.25])
        #expect(store.registry.source(named: "stats_stream")?.isStream == true)
        let error = await #expect(throws: OnlineStoreError.self) { _ = try await store.onlineStore() }
        #expect(error?.description.contains("feature_store.yaml:2:22: unknown online store kind 'cassandra'") == true, "\(String(describing: error))")
        #expect(error?.description.contains("kinds in this program: none") == true, "\(String(describing: error))")
        // A misspelt core key is still an error, kinds or not.
        try f.dir.write("feature_store.yaml", "project: join_test\nonline_stor: {kind: sqlite}\n")
        let typo = try #require(throws: CompileError.self) { _ = try f.store }
        #expect(typo.description.contains("unknown key 'online_stor'") && typo.description.contains("did you mean 'online_store'"), "\(typo)")
    }
}

@Suite("What a program lacking a kind refuses", .timeLimit(.minutes(2)))
struct DeferredKindRefusalTests {
    @Test("apply refuses without the online store's kind (stale rows could not be dropped), naming the kind's place")
    func applyNeedsTheOnlineStoreKind() async throws {
        var f = try JoinFixture(["stats": try statsTable([(1, 1000, 1000, 0.25)])])
        f.kinds = .local
        try f.dir.write("feature_store.yaml", "project: join_test\nonline_store: {kind: cassandra}\n")
        let error = await #expect(throws: RegistryError.self) { try await f.store.apply() }
        #expect(error.map { ErrorChain.render($0) }?.contains("feature_store.yaml:2:22: unknown online store kind 'cassandra'") == true,
                "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: f.dir.url.appendingPathComponent("data/registry.db").path), "nothing applied")
    }

    @Test("a stream-fed aggregated view is not materialized without the stream transport's kind (its cuts need the stream's settings)")
    func streamFedTilesNeedTheTransportKind() async throws {
        var f = try JoinFixture(["stats": try statsTable([(1, 1000, 1000, 0.25)])])
        f.kinds = .local + .sqlite
        try f.dir.write("feature_store.yaml", "project: join_test\nkafka: {bootstrap_servers: 'b:9092', allowed_lateness: 6h}\n")
        try f.dir.write("stream.yaml", """
            sources:
              - {name: stats_stream, kind: kafka, topic: stats, batch_source: stats_src, timestamp_field: event_ts}
            feature_views:
              - name: stream_counts
                entities: [driver]
                source: stats_stream
                aggregations:
                  - {function: count, windows: [1h]}
            """)
        let store = try f.store
        let error = await #expect(throws: OnlineStoreError.self) { _ = try await store.materialize(start: 0, end: s(2000), views: ["stream_counts"]) }
        #expect(error?.description.contains("feature view 'stream_counts' is fed by the kafka stream 'stats_stream', and this program lacks the kafka kind") == true,
                "\(String(describing: error))")
        // The plain view of the same repository materializes.
        #expect(try await store.materialize(start: 0, end: s(2000), views: ["stats"]).first?.rowsWritten == 1)
    }
}

/// A store that keeps latest rows only (no tiles, no stream checkpoints): the in-memory store behind the
/// ``OnlineStore`` part alone.
final class RowsOnlyStore: OnlineStore {
    let inner = InMemoryOnlineStore()
    func write(_ rows: [OnlineRow], to table: OnlineTable) async throws(OnlineStoreError) -> Int { try await inner.write(rows, to: table) }
    func read(_ requests: [OnlineReadRequest]) async throws(OnlineStoreError) -> [[StoredOnlineRow?]] { try await inner.read(requests) }
    func deleteAll(of table: OnlineTable) async throws(OnlineStoreError) { try await inner.deleteAll(of: table) }
    func statistics(of table: OnlineTable) async throws(OnlineStoreError) -> OnlineViewStatistics { try await inner.statistics(of: table) }
    func dropStale(keeping tables: [OnlineTable]) async throws(OnlineStoreError) -> [String] { try await inner.dropStale(keeping: tables) }
}

struct RowsOnlyStoreKind: OnlineStoreKind {
    let name = "rows-only"
    static let store = RowsOnlyStore()
    func validate(_ settings: inout StoreSettings) { settings.rejectUnknown(allowing: []) }
    func open(_ settings: StoreSettings, repository: URL) throws(OnlineStoreError) -> any OnlineStore { Self.store }
}

@Suite("Parts of an online store", .timeLimit(.minutes(2)))
struct OnlineStorePartTests {
    @Test("a store with the rows part only passes the row checks", arguments: OnlineStoreConformance.rowChecks)
    func rowsOnlyConforms(_ check: OnlineStoreConformance.Check) async throws {
        try await check.run { RowsOnlyStore() }
    }

    @Test("a store with rows only serves plain views; an aggregated view says the store keeps no tiles")
    func rowsOnlyStoreServesPlainViews() async throws {
        var f = try JoinFixture(["stats": try statsTable([(1, 1000, 1000, 0.25)])])
        f.kinds = testKinds + Kinds(onlineStores: [RowsOnlyStoreKind()])
        try f.dir.write("feature_store.yaml", "project: join_test\nonline_store: {kind: rows-only}\n")
        try f.dir.write("counts.yaml", """
            feature_views:
              - name: stats_counts
                entities: [driver]
                source: stats_src
                aggregations:
                  - {function: count, windows: [1h]}
            """)
        let store = try f.store
        let reports = try await store.materialize(start: 0, end: s(2000), views: ["stats"])
        #expect(reports.first?.rowsWritten == 1)
        let online = try await store.getOnlineFeatures(entities: ["driver_id": [.int(1)]], features: FeatureSelection(parsing: "stats:conv")!,
                                                       now: Date(timeIntervalSince1970: 1500))
        #expect(online.columns[0].values == [.double(0.25)])
        let error = await #expect(throws: OnlineStoreError.self) { _ = try await store.materialize(start: 0, end: s(2000), views: ["stats_counts"]) }
        #expect(error?.description.contains("feature view 'stats_counts' is aggregated, and this online store (RowsOnlyStore) keeps latest rows only") == true,
                "\(String(describing: error))")
        let lookup = await #expect(throws: OnlineStoreError.self) {
            _ = try await store.getOnlineFeatures(entities: ["driver_id": [.int(1)]], features: FeatureSelection(parsing: "stats_counts")!)
        }
        #expect(lookup?.description.contains("keeps latest rows only") == true, "\(String(describing: lookup))")
    }
}

/// An offline engine kind that wraps the local engine but reports its own schemas: the compiler's data checks must
/// come from the engine the settings name, not from Parquet read by the core.
struct SchemaOverridingEngineKind: OfflineEngineKind {
    let name = "schema-override"
    var sourceKinds: [any SourceKind] { LocalOfflineEngineKind().sourceKinds }

    func validate(_ settings: inout StoreSettings) {
        settings.rejectUnknown(allowing: ["conv_type"])
    }

    func open(_ settings: StoreSettings, repository: URL) throws(OfflineEngineError) -> any OfflineEngine {
        let inner = try LocalOfflineEngineKind().open(StoreSettings(kind: "local"), repository: repository)
        let type: DataType = settings.values["conv_type"] == "string" ? .string : .float64
        return SchemaOverridingEngine(inner: inner, convType: type)
    }
}

struct SchemaOverridingEngine: OfflineEngine {
    let inner: any OfflineEngine
    let convType: DataType

    var sourceKinds: [String] { inner.sourceKinds }
    func schema(of source: DataSource) throws -> Schema? {
        guard var schema = try inner.schema(of: source) else { return nil }
        if let i = schema.fields.firstIndex(where: { $0.name == "conv" }) { schema.fields[i].type = convType }
        return schema
    }
    func readTable(at location: String) async throws -> Table { try await inner.readTable(at: location) }
    func pointInTimeJoin(_ request: PointInTimeRequest) async throws -> [Column] { try await inner.pointInTimeJoin(request) }
    func latestRows(_ request: LatestRowsRequest) async throws -> LatestSourceRows { try await inner.latestRows(request) }
    func aggregateTiles(_ request: LatestRowsRequest) async throws -> EventTiles { try await inner.aggregateTiles(request) }
    func appendTarget(_ source: DataSource) throws -> Schema? { try inner.appendTarget(source) }
    func append(_ table: Table, to source: DataSource, partition: String) async throws -> AppendedPart {
        try await inner.append(table, to: source, partition: partition)
    }
}

@Suite("Offline engine kinds", .timeLimit(.minutes(2)))
struct OfflineEngineKindTests {
    @Test("the compiler checks definitions against the schema the named engine reports, and joins run through it")
    func dataChecksGoThroughTheEngine() async throws {
        var f = try JoinFixture(["stats": try statsTable([(1, 1000, 1000, 0.25)])])
        f.kinds = testKinds + Kinds(offlineEngines: [SchemaOverridingEngineKind()])
        try f.dir.write("feature_store.yaml", "project: join_test\noffline_store: {kind: schema-override, conv_type: float64}\n")
        #expect(try f.store.config.offlineEngine.kind == "schema-override")
        let out = try await f.join(try entityTable(ids: [1], times: [2000]), "stats:conv")
        #expect(doubles(out, "conv") == [0.25])
        // The same data, reported by the engine as strings: the feature (float64) no longer fits.
        try f.dir.write("feature_store.yaml", "project: join_test\noffline_store: {kind: schema-override, conv_type: string}\n")
        do {
            _ = try FeatureStore(repository: f.dir.url, kinds: f.kinds)
            Issue.record("compiled although the engine reports 'conv' as a string")
        } catch {
            #expect(error.description.contains("feature 'conv' of feature view 'stats' is declared float64, but column 'conv' of source"), "\(error)")
        }
    }

    @Test("an unknown engine kind (under .report) and an unknown setting of the local engine are errors at their place in feature_store.yaml")
    func settingsErrorsAreLocated() throws {
        let f = try JoinFixture([:])
        try f.dir.write("feature_store.yaml", "project: join_test\noffline_store:\n  kind: bigquery\n  path: data\n")
        do {
            _ = try FeatureStore(repository: f.dir.url, kinds: testKinds, unknownKinds: .report)
            Issue.record("compiled with an unknown engine kind")
        } catch {
            #expect(error.description.contains("feature_store.yaml:3:9: error: unknown offline engine kind 'bigquery'; kinds in this program:"), "\(error)")
            #expect(error.description.contains("local"), "\(error)")
        }
        try f.dir.write("feature_store.yaml", "project: join_test\noffline_store: {kind: local, path: data, threds: 2}\n")
        do {
            _ = try FeatureStore(repository: f.dir.url, kinds: testKinds)
            Issue.record("compiled with an unknown setting")
        } catch {
            #expect(error.description.contains("feature_store.yaml:2:42: error: unknown setting 'threds' for offline engine kind 'local'"), "\(error)")
        }
    }
}
