import Foundation
import Redis
import RedisTestSupport
import Testing

/// The example repository on a Redis Cluster instead of SQLite, through the executable: the same commands, the same
/// values (verify compares lookups with training sets), plain and aggregated views and the on-demand view.
@Suite("The example repository on Redis", .serialized, .timeLimit(.minutes(5)))
struct RedisRepositoryTests {
    static func pointAtRedis(_ repo: URL, nodes: [Int], cluster: Bool, extra: String = "") throws {
        let config = repo.appendingPathComponent("feature_store.yaml")
        var text = try String(contentsOf: config, encoding: .utf8)
        let block = "online_store:\n  kind: redis\n  cluster: \(cluster)\n  nodes: [\(nodes.map { "127.0.0.1:\($0)" }.joined(separator: ", "))]\n\(extra)"
        let range = try #require(text.range(of: "online_store:\n  kind: sqlite\n  path: data/online.db\n"))
        text.replaceSubrange(range, with: block)
        try text.write(to: config, atomically: true, encoding: .utf8)
    }

    @Test("apply, materialize, get and verify work on a 3-primary Redis Cluster: training = serving")
    func exampleOnCluster() async throws {
        let servers = try RedisServers()
        let ports = try servers.startCluster()
        let repo = try copyOfExample()
        defer { try? FileManager.default.removeItem(at: repo) }
        try Self.pointAtRedis(repo, nodes: [ports[0], ports[2]], cluster: true)
        try #require(try await featurectl(["sample-data", "--repo", repo.path]).status == 0)
        let apply = try await featurectl(["apply", "--repo", repo.path])
        try #require(apply.status == 0, "\(apply.stderr)")
        let materialize = try await featurectl(["materialize-incremental", "now", "--repo", repo.path])
        try #require(materialize.status == 0, "\(materialize.stderr)")
        let get = try await featurectl(["get", "--service", "driver_ranking_v1", "--entity", "driver_id=1001,1002", "--entity", "customer_id=5001,5002",
                                  "--json", "--repo", repo.path])
        try #require(get.status == 0, "\(get.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(get.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 2)
        let features = try #require(rows.first?["features"] as? [String: [String: Any]])
        #expect(features["conv_rate"]?["status"] as? String == "PRESENT" && features["count_1h"]?["status"] as? String == "PRESENT", "\(features)")
        let verify = try await featurectl(["verify", "--sample", "50", "--json", "--repo", repo.path])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(verify.stdout.utf8)) as? [[String: Any]])
        #expect(reports.count == 6 && reports.allSatisfy { ($0["entities"] as? Int ?? 0) > 0 && ($0["mismatches"] as? [Any])?.isEmpty == true }, "\(verify.stdout)")
        // Keys are spread over every primary.
        for port in ports {
            let c = try RedisConnection(RedisEndpoint(host: "127.0.0.1", port: port), connectTimeout: .seconds(1), readTimeout: .seconds(1))
            guard case .integer(let n) = try c.run("DBSIZE") else { Issue.record("DBSIZE"); continue }
            #expect(n > 50, "node \(port) holds \(n) keys")
        }
    }

    @Test("settings are checked at their place; a password comes from the environment or a file; a wrong one is an error naming the node")
    func settingsAndPassword() async throws {
        let servers = try RedisServers()
        let port = try servers.start(password: "s3cret-for-the-tests")
        let repo = try copyOfExample()
        defer { try? FileManager.default.removeItem(at: repo) }
        try Self.pointAtRedis(repo, nodes: [port, port + 1], cluster: false)
        let two = try await featurectl(["validate", "--repo", repo.path])
        #expect(two.status == 1 && two.stderr.contains("feature_store.yaml:") && two.stderr.contains("a standalone Redis has one node, but 'nodes' names 2: set 'cluster: true' for a Redis Cluster"), "\(two.stderr)")

        let fresh = try copyOfExample()
        defer { try? FileManager.default.removeItem(at: fresh) }
        try Self.pointAtRedis(fresh, nodes: [port], cluster: false, extra: "  password_file: secrets/redis.password\n")
        try FileManager.default.createDirectory(at: fresh.appendingPathComponent("secrets"), withIntermediateDirectories: true)
        try "wrong-password".write(to: fresh.appendingPathComponent("secrets/redis.password"), atomically: true, encoding: .utf8)
        try #require(try await featurectl(["sample-data", "--repo", fresh.path]).status == 0)
        let refused = try await featurectl(["apply", "--repo", fresh.path])
        #expect(refused.status != 0 && refused.stderr.contains("redis 127.0.0.1:\(port): authentication failed"), "\(refused.stderr)")
        try "s3cret-for-the-tests\n".write(to: fresh.appendingPathComponent("secrets/redis.password"), atomically: true, encoding: .utf8)
        let applied = try await featurectl(["apply", "--repo", fresh.path])
        #expect(applied.status == 0, "\(applied.stderr)")
        let accepted = try await featurectl(["materialize-incremental", "now", "--repo", fresh.path])
        #expect(accepted.status == 0, "\(accepted.stderr)")
    }
}
