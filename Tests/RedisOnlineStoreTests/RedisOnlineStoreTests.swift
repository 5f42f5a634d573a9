import FeatureStore
import FeatureStoreTesting
import Foundation
import Redis
import RedisTestSupport
import RedisOnlineStore
import Testing

func local(_ port: Int) -> RedisEndpoint { RedisEndpoint(host: "127.0.0.1", port: port) }

/// The online-store conformance suite on real Redis: a standalone server and a 3-primary Redis Cluster, each check on
/// servers of its own (started by the test, on free loopback ports).
@Suite("Redis online store", .timeLimit(.minutes(5)))
struct RedisOnlineStoreTests {
    @Test("conformance on a standalone Redis", arguments: OnlineStoreConformance.checks)
    func standalone(_ check: OnlineStoreConformance.Check) async throws {
        let servers = try RedisServers()
        let port = try servers.start()
        try await check.run {
            RedisOnlineStore(client: RedisClient(RedisConfiguration(nodes: [local(port)], cluster: false)), prefix: "fs", project: "conformance")
        }
        _ = servers
    }

    @Test("conformance on a 3-primary Redis Cluster", arguments: OnlineStoreConformance.checks)
    func cluster(_ check: OnlineStoreConformance.Check) async throws {
        let servers = try RedisServers()
        let ports = try servers.startCluster()
        try await check.run {
            RedisOnlineStore(client: RedisClient(RedisConfiguration(nodes: [local(ports[1])], cluster: true)), prefix: "fs", project: "conformance")
        }
        _ = servers
    }
}
