import FeatureServing
import FeatureStoreCore
import FeatureStoreTesting
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization
import Testing
import TestKinds

/// The server owns its online store as a service: started with the server, its health behind the health endpoints,
/// stopped after the servers in front of it.
@Suite("Online store as a service of the server", .timeLimit(.minutes(5)))
struct StoreHealthTests {
    @Test("readiness waits for the stream consumer to join its group, says so, and tells every change once")
    func readinessWaitsForStreamMembership() {
        let changes = Mutex<[Bool]>([])
        let health = ServingHealth { ready in changes.withLock { $0.append(ready) } }
        health.update(stream: "the consumer has not joined featurestore-demo yet")
        #expect(!health.isServing && health.reason == "stream: the consumer has not joined featurestore-demo yet")
        health.update(stream: "the consumer has not joined featurestore-demo yet")
        health.update(store: .notServing("disk full"))
        #expect(health.reason == "online store: disk full", "the store's problem is named first")
        health.update(stream: nil)
        health.update(store: .serving)
        #expect(health.isServing && health.reason == nil)
        health.markNotServing()
        #expect(changes.withLock { $0 } == [true, false, true, false])
    }

    @Test("readiness (/readyz) follows the store's health, with its reason; the store is started once and stopped at shutdown")
    func healthFollowsTheStore() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("store-health-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let name = "health-\(UUID().uuidString)"
        try "project: serving\nonline_store: {kind: memory, name: \(name)}\n".write(to: dir.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
        let store = try #require(try InMemoryOnlineStoreKind().open(StoreSettings(kind: "memory", values: ["name": name]), repository: dir) as? InMemoryOnlineStore)

        let repository = try ServedRepository(url: dir, kinds: testKinds)
        let core = ServingCore(repository: repository, limits: ServingLimits(), access: try AccessPolicy(config: nil, repository: dir),
                               metrics: ServingMetrics(factory: ServingMetrics.prometheusFactory(registry: PrometheusCollectorRegistry())))
        let http = HTTPFeatureServer(core: core, port: 0, metricsRegistry: nil)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let group = ServiceGroup(configuration: .init(services: [
            .init(service: OnlineStoreService(repository: repository, health: core.health, interval: .milliseconds(20), logger: logger)),
            .init(service: http),
        ], logger: logger))
        let task = Task { try await group.run() }
        var port: Int? = nil
        for _ in 0..<500 where port == nil {
            port = http.listeningPort
            if port == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        let url = URL(string: "http://127.0.0.1:\(try #require(port))/readyz")!
        func healthz() async throws -> (Int, String) {
            let (data, response) = try await URLSession.shared.data(from: url)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }
        func eventually(_ status: Int) async throws -> String {
            var last = (0, "")
            for _ in 0..<200 {
                last = try await healthz()
                if last.0 == status { return last.1 }
                try await Task.sleep(for: .milliseconds(20))
            }
            Issue.record("healthz stayed \(last)")
            return last.1
        }

        #expect(try await eventually(200) == #"{"status":"SERVING"}"#)
        #expect(store.lifecycleCalls.starts == 1)
        store.setHealth(.notServing("node 10.0.0.7:6379 refuses connections"))
        #expect(try await eventually(503) == #"{"status":"NOT_SERVING","reason":"online store: node 10.0.0.7:6379 refuses connections"}"#)
        #expect(!core.health.isServing)
        store.setHealth(.serving)
        #expect(try await eventually(200) == #"{"status":"SERVING"}"#)

        await group.triggerGracefulShutdown()
        try await task.value
        #expect(store.lifecycleCalls == (starts: 1, stops: 1))
    }
}
