import Foundation
import Kafka
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("FeatureServer ingests streams", .serialized, .timeLimit(.minutes(10)))
struct ServerIngestionTests {
    /// A repository whose view `scores` (per `user_id`, one float64 `score`) is fed by topic `events` of `cluster`.
    /// Sessions of 6 s, as in the other mock-cluster tests: under load a slow first join is retried, and the mock keeps
    /// the abandoned member (and the group waiting) until its session times out.
    static func scoresRepository(_ cluster: KafkaMockCluster, name: String, heartbeatMillis: Int) throws -> URL {
        let repo = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: repo, withIntermediateDirectories: true)
        try "project: live\nkafka: {bootstrap_servers: \"\(cluster.bootstrapServers)\", properties: {session.timeout.ms: '6000', heartbeat.interval.ms: '\(heartbeatMillis)'}}\n"
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
        return repo
    }

    @Test("FeatureServer ingests a stream view's topic: events show up in HTTP lookups and in /metrics; SIGTERM stops it cleanly")
    func serverIngestsStream() async throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic("events", partitions: 2)
        let repo = try Self.scoresRepository(cluster, name: "server-ingest", heartbeatMillis: 500)
        defer { try? FileManager.default.removeItem(at: repo) }
        let server = try ServerProcess(repository: repo)
        // Not ready until the consumer has joined its group (the mock broker takes about 3 s to form one).
        let (early, earlyResponse) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(server.httpPort)/readyz")!)
        #expect((earlyResponse as? HTTPURLResponse)?.statusCode == 503, "\(String(decoding: early, as: UTF8.self))")
        #expect(String(decoding: early, as: UTF8.self).contains("stream: the consumer has not joined"), "\(String(decoding: early, as: UTF8.self))")
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
        // Membership is polled (every 250 ms, behind the ingestor's batch on a loaded machine): events can show up in
        // lookups a moment before readiness hears of the join.
        var (ready, readyResponse) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(server.httpPort)/readyz")!)
        let readyBy = Date().addingTimeInterval(10)
        while (readyResponse as? HTTPURLResponse)?.statusCode != 200, Date() < readyBy {
            try await Task.sleep(for: .milliseconds(200))
            (ready, readyResponse) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(server.httpPort)/readyz")!)
        }
        #expect((readyResponse as? HTTPURLResponse)?.statusCode == 200, "ready once joined: \(String(decoding: ready, as: UTF8.self))")
        let (metricsData, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(server.httpPort)/metrics")!)
        let metrics = String(decoding: metricsData, as: UTF8.self)
        #expect(metrics.contains(#"featurestore_stream_messages_total{topic="events"} 50"#), "\(metrics)")
        #expect(metrics.contains(#"featurestore_stream_rows_written_total{view="scores"} 50"#))
        #expect(metrics.contains(#"featurestore_stream_freshness_seconds_count{view="scores"} 50"#))
        #expect(server.terminate() == 0, "FeatureServer exits 0 after SIGTERM while ingesting")
    }

    /// Polls the HTTP lookup of `users` in `scores` until its body contains `expected` (or `seconds` pass); the body.
    static func waitForScores(_ server: ServerProcess, users: String, expected: String, seconds: Double) async throws -> String {
        var body = ""
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.httpPort)/v1/online-features")!)
            request.httpMethod = "POST"
            request.httpBody = Data(#"{"features": ["scores"], "entities": {"user_id": \#(users)}}"#.utf8)
            if let (data, _) = try? await URLSession.shared.data(for: request) {
                body = String(decoding: data, as: UTF8.self)
                if body.contains(expected) { return body }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return body
    }

    @Test("after kill -9, a restarted FeatureServer with the same instance id resumes ingestion within seconds (static group membership; on a broker without it, after the dead member's short session), not after librdkafka's default 45 s")
    func restartAfterKillResumesWithinSeconds() async throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic("events", partitions: 2)
        // librdkafka's mock broker (2.0.2) ignores group.instance.id, so here the restarted member waits for its dead
        // self's session: 6 s (Kafka's smallest by default) set here, 10 s by default, librdkafka's own 45 s. A broker
        // with static membership (Kafka 2.3 and later) hands the partitions back at once.
        let repo = try Self.scoresRepository(cluster, name: "server-restart", heartbeatMillis: 1000)
        defer { try? FileManager.default.removeItem(at: repo) }
        let producer = try KafkaProducer(properties: ["bootstrap.servers": cluster.bootstrapServers])
        func produce(_ score: Double, hour: Int) throws {
            for u in 0..<20 {
                let event = #"{"user_id": \#(u), "score": \#(score), "ts": "2025-06-01T\#(hour):00:00Z"}"#
                try producer.produce(topic: "events", value: Array(event.utf8))
            }
            try producer.flush()
        }
        let identity = ["--instance-id", "restart-test-\(UUID().uuidString.prefix(8))"]
        let first = try ServerProcess(repository: repo, extraArguments: identity)
        try produce(1.5, hour: 10)
        let before = try await Self.waitForScores(first, users: "[0, 19]", expected: #""values":[1.5,1.5]"#, seconds: 120)
        #expect(before.contains(#""values":[1.5,1.5]"#), "\(before)\n\(first.log)")
        #expect(first.log.contains("static group membership"), "\(first.log)")
        first.killHard()

        let restarted = Date()
        let second = try ServerProcess(repository: repo, extraArguments: identity)
        defer { _ = second.terminate() }
        try produce(2.5, hour: 11)
        let after = try await Self.waitForScores(second, users: "[0, 19]", expected: #""values":[2.5,2.5]"#, seconds: 60)
        let seconds = Date().timeIntervalSince(restarted)
        #expect(after.contains(#""values":[2.5,2.5]"#), "\(after)\n\(second.log)")
        #expect(seconds < 35, "resumed after \(seconds) s\n\(second.log)")
        print("restart recovery: ingestion resumed \(String(format: "%.1f", seconds)) s after the restart")
    }

    @Test("after apply, a running FeatureServer starts ingesting a new stream view, takes up a second one on another topic, and stops when none is left: no restart")
    func streamViewsFollowApply() async throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic("events", partitions: 2)
        try cluster.createTopic("clicks", partitions: 1)
        let repo = FileManager.default.temporaryDirectory.appendingPathComponent("server-hot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: repo, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: repo) }
        try "project: live\nkafka: {bootstrap_servers: \"\(cluster.bootstrapServers)\", properties: {session.timeout.ms: '6000', heartbeat.interval.ms: '500'}}\n"
            .write(to: repo.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
        let base = """
            entities:
              - {name: user, join_keys: [{name: user_id, type: int64}]}
            sources:
              - {name: batch, kind: parquet, path: data/events, timestamp_field: ts}
              - {name: stream, kind: kafka, topic: events, batch_source: batch, timestamp_field: ts}
              - {name: click_stream, kind: kafka, topic: clicks, batch_source: batch, timestamp_field: ts}
            feature_views:
              - {name: history, entities: [user], source: batch, ttl: 0, features: [{name: score, type: float64}]}

            """
        let defs = repo.appendingPathComponent("defs.yaml")
        func apply(_ views: String) async throws {
            try (base + views).write(to: defs, atomically: true, encoding: .utf8)
            let result = try await featurectl(["apply", "--repo", repo.path])
            try #require(result.status == 0, "\(result.stderr)")
        }
        try await apply("")
        let server = try ServerProcess(repository: repo)
        defer { _ = server.terminate() }
        #expect(!server.log.contains("ingesting"), "no stream view yet: \(server.log)")

        try await apply("  - {name: scores, entities: [user], source: stream, ttl: 0, features: [{name: score, type: float64}]}\n")
        let producer = try KafkaProducer(properties: ["bootstrap.servers": cluster.bootstrapServers])
        for u in 0..<10 {
            try producer.produce(topic: "events", value: Array(#"{"user_id": \#(u), "score": 3.5, "ts": "2025-06-01T12:00:00Z"}"#.utf8))
        }
        try producer.flush()
        let first = try await Self.waitForScores(server, users: "[0, 9]", expected: #""values":[3.5,3.5]"#, seconds: 90)
        #expect(first.contains(#""values":[3.5,3.5]"#), "\(first)\n\(server.log)")

        try await apply("""
              - {name: scores, entities: [user], source: stream, ttl: 0, features: [{name: score, type: float64}]}
              - {name: clicks, entities: [user], source: click_stream, ttl: 0, features: [{name: score, type: float64}]}

            """)
        for u in 0..<10 {
            try producer.produce(topic: "clicks", value: Array(#"{"user_id": \#(u), "score": 7.25, "ts": "2025-06-01T12:00:00Z"}"#.utf8))
        }
        try producer.flush()
        var clicks = ""
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline, !clicks.contains(#""values":[7.25,7.25]"#) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.httpPort)/v1/online-features")!)
            request.httpMethod = "POST"
            request.httpBody = Data(#"{"features": ["clicks"], "entities": {"user_id": [0, 9]}}"#.utf8)
            if let (data, _) = try? await URLSession.shared.data(for: request) { clicks = String(decoding: data, as: UTF8.self) }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(clicks.contains(#""values":[7.25,7.25]"#), "\(clicks)\n\(server.log)")

        // A changed kafka block restarts ingestion with the new settings; events keep flowing.
        try "project: live\nkafka: {bootstrap_servers: \"\(cluster.bootstrapServers)\", properties: {session.timeout.ms: '6000', heartbeat.interval.ms: '600'}}\n"
            .write(to: repo.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
        try await apply("  - {name: scores, entities: [user], source: stream, ttl: 0, features: [{name: score, type: float64}]}\n")
        let restartDeadline = Date().addingTimeInterval(30)
        while Date() < restartDeadline, !server.log.contains("restarting ingestion") { try await Task.sleep(for: .milliseconds(100)) }
        for u in 0..<10 {
            try producer.produce(topic: "events", value: Array(#"{"user_id": \#(u), "score": 4.5, "ts": "2025-06-01T13:00:00Z"}"#.utf8))
        }
        try producer.flush()
        let restarted = try await Self.waitForScores(server, users: "[0, 9]", expected: #""values":[4.5,4.5]"#, seconds: 90)
        #expect(restarted.contains(#""values":[4.5,4.5]"#), "\(restarted)\n\(server.log)")
        #expect(server.log.contains("stream transport settings changed: restarting ingestion"), "\(server.log)")

        try await apply("")
        let stopDeadline = Date().addingTimeInterval(30)
        func stops() -> Int { server.log.components(separatedBy: "ingestion stopped").count - 1 }
        while Date() < stopDeadline, stops() < 2 { try await Task.sleep(for: .milliseconds(100)) }
        #expect(server.log.contains("no stream view left to ingest") && stops() == 2, "once for the restart, once for good: \(server.log)")
        let (ready, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(server.httpPort)/readyz")!)
        #expect(String(decoding: ready, as: UTF8.self).contains("SERVING"), "ready with no ingestion to wait for")
    }
}
