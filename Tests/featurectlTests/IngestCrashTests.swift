import Columnar
import FeatureStoreCore
import Foundation
import Kafka
import Parquet
import Synchronization
import Testing
import TestKinds

@Suite("featurectl ingest survives kill -9", .serialized, .timeLimit(.minutes(10)))
struct IngestCrashTests {
    /// A mock cluster with a 2-partition topic `events`, and a repository folder whose kafka settings use it: a short
    /// session timeout (the killed member's partitions move to the restarted one after 6 s, not 45 s) and offline
    /// files rolling every second (so the kill falls among written files and buffered events).
    static func repository() throws -> (KafkaMockCluster, URL) {
        let cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic("events", partitions: 2)
        let repo = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: repo, withIntermediateDirectories: true)
        try """
            project: crash
            kafka:
              bootstrap_servers: "\(cluster.bootstrapServers)"
              offline_roll_interval: 1s
              properties: {session.timeout.ms: "6000", heartbeat.interval.ms: "500"}

            """.write(to: repo.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
        return (cluster, repo)
    }

    /// The user entity, the topic `events` and its offline copy under data/events.
    static let stream = """
        entities:
          - {name: user, join_keys: [{name: user_id, type: int64}]}
        sources:
          - {name: batch, kind: parquet, path: data/events, timestamp_field: ts}
          - {name: stream, kind: kafka, topic: events, batch_source: batch, timestamp_field: ts}

        """

    /// `featurectl ingest` on `repo` as a child process (its definitions compile first, in this process).
    static func startIngester(_ repo: URL, batchSize: Int) throws -> Process {
        _ = try FeatureStore(repository: repo, kinds: testKinds)
        let child = Process()
        child.executableURL = productsDirectory.appendingPathComponent("featurectl")
        child.arguments = ["ingest", "--repo", repo.path, "--batch-size", "\(batchSize)"]
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        return child
    }

    @Test("an ingester killed mid-stream and restarted leaves every event online and offline, as without the kill")
    func killAndRestart() async throws {
        let (cluster, repo) = try Self.repository()
        defer { try? FileManager.default.removeItem(at: repo) }
        try (Self.stream + """
            feature_views:
              - {name: scores, entities: [user], source: stream, ttl: 0, features: [{name: score, type: int64}]}

            """).write(to: repo.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
        let producer = try KafkaProducer(properties: ["bootstrap.servers": cluster.bootstrapServers])
        let users = 2_000, rounds = 10
        func produce(round: Int) throws {
            for u in 0..<users {
                let event = #"{"user_id": \#(u), "score": \#(round * 100_000 + u), "ts": \#(1_700_000_000_000 + Int64(round) * 1000)}"#
                try producer.produce(topic: "events", key: Array("\(u)".utf8), value: Array(event.utf8))
            }
            try producer.flush()
        }

        let first = try Self.startIngester(repo, batchSize: 500)
        let folder = repo.appendingPathComponent("data/events")
        let database = repo.appendingPathComponent("data/online.db").path
        // Stream rounds while it ingests; kill it mid-stream, once rows are online and offline files have rolled.
        var killedAt = 0
        var killedMidway = false
        let watched = Mutex((online: 0, files: 0))
        for round in 0..<rounds {
            try produce(round: round)
            if killedAt == 0 {
                killedMidway = await ChildWatch.kill(first, when: {
                    let now = (online: ChildWatch.onlineRows(at: database, view: "scores"),
                               files: (try? ParquetDataset.dataFiles(at: folder.path).count) ?? 0)
                    watched.withLock { $0 = now }
                    return now.online > 0 && now.files > 0
                }, within: 120)
                killedAt = round + 1
            }
        }
        let atKill = watched.withLock { $0 }
        // The kill fell in the middle: the process was running, some events were online and some files rolled, and
        // rounds were still to come.
        try #require(killedMidway && first.terminationReason == .uncaughtSignal, "the ingester was still running when killed")
        try #require(atKill.online > 0 && atKill.files > 0, "killed after rows were online and files rolled: \(atKill)")
        try #require(killedAt < rounds, "events were produced after the kill")

        // Restart; it resumes from the committed offsets (replaying what the killed one had written but not committed).
        let rerun = try await featurectl(["ingest", "--repo", repo.path, "--idle-timeout", "3"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let online = try await FeatureStore(repository: repo, kinds: testKinds).getOnlineFeatures(
            entities: ["user_id": (0..<users).map { .int(Int64($0)) }], features: .references([FeatureReference(view: "scores")]))
        let expected = (0..<users).map { OnlineValue.int(Int64((rounds - 1) * 100_000 + $0)) }
        try #require(online.columns[0].values.count == users)
        let wrong = zip(online.columns[0].values, expected).filter { $0 != $1 }.count
        #expect(wrong == 0, "every user's newest event is online (\(wrong) of \(users) are not; killed after round \(killedAt))")
        let newest = (1_700_000_000_000 + Int64(rounds - 1) * 1000) * 1000
        #expect(online.columns[0].eventTimestamps.filter { $0 != newest }.count == 0)

        // Offline: every event of every round is in the files. A duplicate (written by the killed process before
        // its commit, then replayed) is the identical row, so the join's tie-break makes it harmless.
        let table = try ParquetDataset(path: folder.path).read()
        let ids = table.column(named: "user_id")!, scores = table.column(named: "score")!, times = table.column(named: "ts")!.timestampNanoseconds()!
        guard case .int64(let idValues) = ids.values, case .int64(let scoreValues) = scores.values else {
            Issue.record("unexpected column types \(ids.type) \(scores.type)")
            return
        }
        var seen: [Int64: Int] = [:]
        var inconsistent = 0
        for row in 0..<table.rowCount {
            let round = (times[row] / 1_000_000 - 1_700_000_000_000) / 1000
            if scoreValues[row] != round * 100_000 + idValues[row] { inconsistent += 1 }
            seen[scoreValues[row], default: 0] += 1
        }
        #expect(inconsistent == 0, "every offline row is an event as produced")
        #expect(seen.count == users * rounds, "every event is offline (\(seen.count) of \(users * rounds))")
        #expect(table.rowCount >= users * rounds)
        let training = try await FeatureStore(repository: repo, kinds: testKinds).joinFeatures(
            entities: .table(try Table([("user_id", Column(int64: (0..<users).map { Int64($0) })),
                                        ("event_timestamp", Column(timestamps: Array(repeating: newest, count: users)))])),
            features: .references([FeatureReference(view: "scores")]))
        guard case .int64(let trained) = training.column(named: "score")!.values else {
            Issue.record("score is not int64 in the training set")
            return
        }
        #expect(trained.map { OnlineValue.int($0) } == expected, "training sees what serving serves")
    }

    @Test("an ingester killed mid-stream and restarted leaves aggregated views with exactly the aggregates of the events sent")
    func killAndRestartAggregates() async throws {
        // Offsets are committed only when the offline files roll (every second): the kill falls between tiles written
        // and offsets committed, so the restarted ingester is redelivered events already in the tiles.
        let (cluster, repo) = try Self.repository()
        defer { try? FileManager.default.removeItem(at: repo) }
        try (Self.stream + """
            feature_views:
              - name: score_stats
                entities: [user]
                source: stream
                aggregations:
                  - {function: count, windows: [1h]}
                  - {column: score, type: int64, function: sum, windows: [1h]}

            """).write(to: repo.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
        let producer = try KafkaProducer(properties: ["bootstrap.servers": cluster.bootstrapServers])
        let users = 1_000, rounds = 10
        let base = Int64(Date().timeIntervalSince1970 * 1_000_000) - 30 * 60_000_000
        func produce(round: Int) throws {
            for u in 0..<users {
                let event = #"{"user_id": \#(u), "score": \#(round * 100_000 + u), "ts": \#(base + Int64(round) * 1_000_000)}"#
                try producer.produce(topic: "events", key: Array("\(u)".utf8), value: Array(event.utf8))
            }
            try producer.flush()
        }
        let first = try Self.startIngester(repo, batchSize: 300)
        let database = repo.appendingPathComponent("data/online.db").path
        var killedAt = 0
        var killedMidway = false
        for round in 0..<rounds {
            try produce(round: round)
            if killedAt == 0 {
                killedMidway = await ChildWatch.kill(first, when: { ChildWatch.onlineRows(at: database, view: "score_stats") > 0 }, within: 120)
                killedAt = round + 1
            }
        }
        try #require(killedMidway && first.terminationReason == .uncaughtSignal, "the ingester was still running when killed")
        try #require(killedAt < rounds, "events were produced after the kill")

        let rerun = try await featurectl(["ingest", "--repo", repo.path, "--idle-timeout", "3"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        // The crash is proven to matter: the restarted ingester met events already in the tiles and skipped them.
        let final = (rerun.stdout + rerun.stderr).split(separator: "\n").last { $0.contains(" messages; rows written: ") }.map(String.init) ?? ""
        let redelivered = final.range(of: "redelivered: ").flatMap { Int(final[$0.upperBound...].prefix { $0.isNumber }) } ?? -1
        #expect(redelivered > 0, "the restarted ingester skipped events already in the tiles (killed after round \(killedAt)): \(final)")
        let online = try await FeatureStore(repository: repo, kinds: testKinds).getOnlineFeatures(
            entities: ["user_id": (0..<users).map { .int(Int64($0)) }],
            features: .references([FeatureReference(view: "score_stats", feature: "count_1h"), FeatureReference(view: "score_stats", feature: "score_sum_1h")]))
        let counts = online.columns[0].values, sums = online.columns[1].values
        let wrongCounts = counts.filter { $0 != .int(Int64(rounds)) }.count
        #expect(wrongCounts == 0, "every user's count is the \(rounds) events sent (\(wrongCounts) of \(users) are not, e.g. \(counts.first { $0 != .int(Int64(rounds)) } ?? .null); killed after round \(killedAt))")
        let wrongSums = (0..<users).filter { u in sums[u] != .int(Int64((0..<rounds).map { $0 * 100_000 + u }.reduce(0, +))) }.count
        #expect(wrongSums == 0, "every user's sum is the sum of the scores sent (\(wrongSums) of \(users) are not)")
    }
}
