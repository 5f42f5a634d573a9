import Foundation
import Kafka
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("FeatureServer ingests streams", .serialized, .timeLimit(.minutes(10)))
struct ServerIngestionTests {
    @Test("FeatureServer ingests a stream view's topic: events show up in HTTP lookups and in /metrics; SIGTERM stops it cleanly")
    func serverIngestsStream() async throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic("events", partitions: 2)
        let repo = FileManager.default.temporaryDirectory.appendingPathComponent("server-ingest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: repo, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: repo) }
        // A short session timeout, as in the other mock-cluster tests: under load a slow first join is retried, and
        // the mock keeps the abandoned member (and the group waiting) until its session times out.
        try "project: live\nkafka: {bootstrap_servers: \"\(cluster.bootstrapServers)\", properties: {session.timeout.ms: '6000', heartbeat.interval.ms: '500'}}\n"
            .write(to: repo.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
        try """
            entities:
              - {name: user, join_keys: [{name: user_id, type: int64}]}
            sources:
              - {name: batch, kind: parquet, path: data/events, timestamp_field: ts}
              - {name: stream, kind: kafka, topic: events, batch_source: batch, timestamp_field: ts}
            feature_views:
              - {name: scores, entities: [user], source: stream, ttl: 0, features: [{name: score, type: float64}]}

            """.write(to: repo.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
        let server = try ServerProcess(repository: repo)
        let producer = try KafkaProducer(properties: ["bootstrap.servers": cluster.bootstrapServers])
        for u in 0..<50 {
            let event = #"{"user_id": \#(u), "score": \#(Double(u) / 2), "ts": "2025-06-01T12:00:00Z"}"#
            try producer.produce(topic: "events", value: Array(event.utf8))
        }
        try producer.flush()

        var body = ""
        let deadline = Date().addingTimeInterval(180)  // the mock cluster's group join is slow while the whole suite loads both cores
        while Date() < deadline {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.httpPort)/v1/online-features")!)
            request.httpMethod = "POST"
            request.httpBody = Data(#"{"features": ["scores"], "entities": {"user_id": [0, 49]}}"#.utf8)
            let (data, _) = try await URLSession.shared.data(for: request)
            body = String(decoding: data, as: UTF8.self)
            if body.contains(#""values":[0.0,24.5]"#) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(body.contains(#""values":[0.0,24.5],"statuses":["PRESENT","PRESENT"]"#), "\(body)\n\(server.log)")
        let (metricsData, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(server.httpPort)/metrics")!)
        let metrics = String(decoding: metricsData, as: UTF8.self)
        #expect(metrics.contains(#"featurestore_stream_messages_total{topic="events"} 50"#), "\(metrics)")
        #expect(metrics.contains(#"featurestore_stream_rows_written_total{view="scores"} 50"#))
        #expect(metrics.contains(#"featurestore_stream_freshness_seconds_count{view="scores"} 50"#))
        #expect(server.terminate() == 0, "FeatureServer exits 0 after SIGTERM while ingesting")
    }
}
