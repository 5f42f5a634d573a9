import Foundation
import Kafka
import Redis
import RedisTestSupport
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Horizontal scale on Redis: two FeatureServer processes, each ingesting the same topic in one consumer group (so
/// the two ingesters split its partitions), on one Redis Cluster: both serve the same values, plain and aggregated.
@Suite("Scaling out on a Redis Cluster", .serialized, .timeLimit(.minutes(5)))
struct RedisScaleOutTests {
    @Test("two servers and two ingesters on one cluster: the partitions are split, every event counted once, both serve the same values")
    func twoServersTwoIngesters() async throws {
        let redis = try RedisServers()
        let ports = try redis.startCluster()
        let kafka = try KafkaMockCluster(brokers: 1)
        try kafka.createTopic("events", partitions: 4)
        let repo = FileManager.default.temporaryDirectory.appendingPathComponent("scale-out-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: repo, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: repo) }
        try """
            project: scaled
            online_store: {kind: redis, cluster: true, nodes: [127.0.0.1:\(ports[0])]}
            kafka: {bootstrap_servers: "\(kafka.bootstrapServers)", properties: {session.timeout.ms: '6000', heartbeat.interval.ms: '500'}}

            """.write(to: repo.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
        try """
            entities:
              - {name: user, join_keys: [{name: user_id, type: int64}]}
            sources:
              - {name: batch, kind: parquet, path: data/events, timestamp_field: ts}
              - {name: stream, kind: kafka, topic: events, batch_source: batch, timestamp_field: ts}
            feature_views:
              - {name: scores, entities: [user], source: stream, ttl: 0, features: [{name: score, type: float64}]}
              - name: activity
                entities: [user]
                source: stream
                aggregations:
                  - {function: count, windows: [1d]}
                  - {column: score, type: float64, function: sum, windows: [1d]}

            """.write(to: repo.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
        try #require(try await featurectl(["apply", "--repo", repo.path]).status == 0)
        var servers: [ServerProcess] = []
        defer { for s in servers { _ = s.terminate() } }
        for _ in 0..<2 { servers.append(try ServerProcess(repository: repo)) }
        // Both ingesters hold partitions before anything is produced: each publishes a consumer-lag gauge per partition
        // assigned to it, so a server with one has joined the group and been given its share.
        let joined = Date().addingTimeInterval(90)
        while true {
            var assigned = 0
            for server in servers {
                let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(server.httpPort)/metrics")!)
                if String(decoding: data, as: UTF8.self).split(separator: "\n").contains(where: { $0.hasPrefix("featurestore_stream_consumer_lag{") }) { assigned += 1 }
            }
            if assigned == servers.count { break }
            try #require(Date() < joined, "both ingesters got partitions within 90 s (\(assigned) did)")
            try await Task.sleep(for: .milliseconds(250))
        }

        // 40 users x 5 events, keyed by user (a user's events share a partition), minutes apart, the last one newest.
        let producer = try KafkaProducer(properties: ["bootstrap.servers": kafka.bootstrapServers])
        let now = Date().timeIntervalSince1970
        for k in 0..<5 {
            for u in 0..<40 {
                let ts = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: now - Double(600 - k * 60)))
                let event = #"{"user_id": \#(u), "score": \#(u * 10 + k), "ts": "\#(ts)"}"#
                try producer.produce(topic: "events", key: Array("user-\(u)".utf8), value: Array(event.utf8))
            }
        }
        try producer.flush()

        let users = (0..<40).map(String.init).joined(separator: ",")
        let expectedScores = (0..<40).map { "\(Double($0 * 10 + 4))" }.joined(separator: ",")
        let expectedCounts = Array(repeating: "5", count: 40).joined(separator: ",")
        let expectedSums = (0..<40).map { "\(Double($0 * 50 + 10))" }.joined(separator: ",")
        var bodies = ["", ""]
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            for (i, server) in servers.enumerated() {
                var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.httpPort)/v1/online-features")!)
                request.httpMethod = "POST"
                request.httpBody = Data(#"{"features": ["scores", "activity"], "entities": {"user_id": [\#(users)]}}"#.utf8)
                let (data, _) = try await URLSession.shared.data(for: request)
                bodies[i] = String(decoding: data, as: UTF8.self)
            }
            if bodies.allSatisfy({ $0.contains(#""values":[\#(expectedScores)]"#) && $0.contains(#""values":[\#(expectedCounts)]"#) }) { break }
            try await Task.sleep(for: .milliseconds(300))
        }
        for (i, body) in bodies.enumerated() {
            #expect(body.contains(#""values":[\#(expectedScores)]"#), "server \(i): latest scores\n\(body)\n\(servers[i].log)")
            #expect(body.contains(#""values":[\#(expectedCounts)]"#), "server \(i): every event counted once\n\(body)")
            #expect(body.contains(#""values":[\#(expectedSums)]"#), "server \(i): sums\n\(body)")
        }
        #expect(bodies[0] == bodies[1], "both servers serve the same values")
        // The ingesters split the partitions: each consumed some, together every message.
        var consumed: [Int] = []
        for server in servers {
            let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(server.httpPort)/metrics")!)
            let metrics = String(decoding: data, as: UTF8.self)
            let line = metrics.split(separator: "\n").first { $0.hasPrefix(#"featurestore_stream_messages_total{topic="events"}"#) }
            consumed.append(line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0)
        }
        // (A message read before a rebalance moved its partition can be read again by the other ingester: delivery is
        // at least once; the counts above show each event was merged once.)
        #expect(consumed.allSatisfy { $0 > 0 } && consumed.reduce(0, +) >= 200, "messages per ingester: \(consumed)")
    }
}
