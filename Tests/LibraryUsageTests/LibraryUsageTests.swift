// Uses the library as the README shows, with `import FeatureStore` alone: this target depends on the `FeatureStore`
// product and nothing else, so a snippet needing another import or a registration would not compile or would fail.
import FeatureStore
import Testing

@Suite("The library as the README uses it", .timeLimit(.minutes(2)))
struct LibraryUsageTests {
    /// A repository like the README's: a Parquet source, a view, a service, and a Kafka stream (not embedded).
    static func makeRepository() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("library-usage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("data"), withIntermediateDirectories: true)
        try "project: usage\nkafka: {bootstrap_servers: 'localhost:9092'}\n"
            .write(to: dir.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
        try """
            entities:
              - {name: driver, join_keys: [{name: driver_id, type: int64}]}
            sources:
              - {name: stats_source, kind: parquet, path: data/stats.parquet, timestamp_field: event_ts}
              - {name: stats_stream, kind: kafka, topic: stats, batch_source: stats_source, timestamp_field: event_ts}
            feature_views:
              - {name: driver_stats, entities: [driver], source: stats_source, ttl: 1d, features: [{name: conv_rate, type: float64}]}
            feature_services:
              - {name: driver_ranking_v1, features: [driver_stats]}
            """.write(to: dir.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
        let stats = try Table([
            ("driver_id", Column(int64: [1001, 1001, 1002])),
            ("event_ts", Column(timestamps: [1_000_000, 5_000_000, 2_000_000])),
            ("conv_rate", Column(float64: [0.1, 0.2, 0.7])),
        ])
        try ParquetFileWriter.write(stats, to: dir.appendingPathComponent("data/stats.parquet").path)
        let entities = try Table([
            ("driver_id", Column(int64: [1001, 1002])),
            ("event_timestamp", Column(timestamps: [6_000_000, 6_000_000])),
        ])
        try ParquetFileWriter.write(entities, to: dir.appendingPathComponent("entities.parquet").path)
        return dir
    }

    @Test("the README's joinFeatures snippet runs with import FeatureStore alone, on a repository that also has a Kafka stream")
    func readmeJoinSnippet() async throws {
        let repository = try Self.makeRepository()
        defer { try? FileManager.default.removeItem(at: repository) }
        // The README's snippet, with the repository's paths.
        let store = try FeatureStore(repository: repository)
        let training = try await store.joinFeatures(
            entities: .parquet(repository.appendingPathComponent("entities.parquet").path),
            features: .service("driver_ranking_v1"),
            options: JoinOptions(fullFeatureNames: false, timestampColumn: "event_timestamp"))
        let out = repository.appendingPathComponent("training.parquet").path
        try ParquetFileWriter.write(training, to: out)
        let back = try ParquetFile(path: out).read()
        #expect(back.rowCount == 2)
        guard case .float64(let conv)? = back.column(named: "conv_rate")?.values else {
            Issue.record("no float64 column conv_rate in \(back.schema)")
            return
        }
        #expect(conv == [0.2, 0.7])
    }

    @Test("the embedded online store is there by default: materialize, then the README's getOnlineFeatures")
    func embeddedOnlineStoreByDefault() async throws {
        let repository = try Self.makeRepository()
        defer { try? FileManager.default.removeItem(at: repository) }
        let store = try FeatureStore(repository: repository)
        _ = try await store.materialize(start: 0, end: 10_000_000)
        let online = try await store.getOnlineFeatures(
            entities: ["driver_id": [.int(1001), .int(1002)]], features: .service("driver_ranking_v1"),
            now: Date(timeIntervalSince1970: 7))
        #expect(online.columns.first?.values == [.double(0.2), .double(0.7)])
    }
}
