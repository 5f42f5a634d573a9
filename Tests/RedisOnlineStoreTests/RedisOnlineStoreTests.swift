import FeatureComputation
import FeatureStoreCore
import FeatureStoreTesting
import Foundation
import Redis
import RedisTestSupport
import RedisOnlineStore
import Synchronization
import Testing

func local(_ port: Int) -> RedisEndpoint { RedisEndpoint(host: "127.0.0.1", port: port) }

/// A standalone server of the test's own (kept running while `servers` lives) and a started store on it.
func startedStandaloneStore(project: String) async throws -> (servers: RedisServers, port: Int, store: RedisOnlineStore) {
    let servers = try RedisServers()
    let port = try servers.start()
    let store = RedisOnlineStore(client: RedisClient(RedisConfiguration(nodes: [local(port)], cluster: false)), prefix: "fs", project: project)
    try await store.start()
    return (servers, port, store)
}

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

@Suite("Redis online store: tile expiry", .timeLimit(.minutes(5)))
struct RedisTileExpiryTests {
    static let counts = FeatureView(name: "counts", entities: ["driver"], source: "s", ttl: .zero, features: [
        Feature(name: "count_1h", type: .scalar(.int64), aggregation: FeatureAggregation(function: .count, column: nil, window: TimeSpan(seconds: 3600), hop: TimeSpan(seconds: 300))),
    ])
    static let plain = FeatureView(name: "plain", entities: ["driver"], source: "s", ttl: .zero, features: [Feature(name: "x", type: .scalar(.int64))])
    static let driver = [JoinKey(name: "driver_id", type: .int64)]

    static func calls(_ command: String, port: Int) throws -> Int64 {
        let c = try RedisConnection(local(port), connectTimeout: .seconds(1), readTimeout: .seconds(1))
        let info = try c.command(["INFO", "commandstats"].map { Array($0.utf8) }).text ?? ""
        guard let line = info.split(separator: "\r\n").first(where: { $0.hasPrefix("cmdstat_\(command):calls=") }) else { return 0 }
        return Int64(line.dropFirst("cmdstat_\(command):calls=".count).prefix { $0.isNumber }) ?? 0
    }

    @Test("expiring old tiles visits only the entities whose keys hold them: no SCAN, other keys untouched, the index follows")
    func expiryWithoutScan() async throws {
        let (servers, port, store) = try await startedStandaloneStore(project: "expiry")
        let h: Int64 = 300_000_000
        // 5,000 plain rows that expiry must not visit, and 1,000 drivers with tiles: the first 100 with an old tile too.
        _ = try await store.write((0..<5_000).map { OnlineRow(key: [.int(Int64($0))], eventTimestamp: 1, values: [.int(1)]) }, to: OnlineTable(view: Self.plain, joinKeys: Self.driver))
        var tiles = (0..<1_000).map { OnlineTile(key: [.int(Int64($0))], hop: h, start: 10 * h, states: [1]) }
        tiles += (0..<100).map { OnlineTile(key: [.int(Int64($0))], hop: h, start: 2 * h, states: [2]) }
        tiles += (0..<100).map { OnlineTile(key: [.int(Int64($0))], hop: h, start: 3 * h, states: [3], origin: .stream) }
        try await store.writeTiles(tiles, to: OnlineTable(view: Self.counts, joinKeys: Self.driver))
        let scans = try Self.calls("scan", port: port), evals = try Self.calls("eval", port: port)
        #expect(try await store.deleteTiles(of: OnlineTable(view: Self.counts, joinKeys: Self.driver), before: [h: 5 * h], origin: nil) == 200)
        #expect(try Self.calls("scan", port: port) == scans, "expiry sent SCAN")
        #expect(try Self.calls("eval", port: port) - evals == 200, "one visit per key holding an old tile (100 backfill, 100 stream)")
        let left = try await store.readTiles([[.int(0)], [.int(999)]], of: OnlineTable(view: Self.counts, joinKeys: Self.driver), from: [h: 0])
        #expect(left.map { $0.map(\.start) } == [[10 * h], [10 * h]])
        // Visited keys are re-scored (backfill) or leave the index (stream, now empty): a second pass visits nothing.
        #expect(try await store.deleteTiles(of: OnlineTable(view: Self.counts, joinKeys: Self.driver), before: [h: 5 * h], origin: nil) == 0)
        #expect(try Self.calls("eval", port: port) - evals == 200)
        // Everything goes once the bound passes the newest tiles.
        #expect(try await store.deleteTiles(of: OnlineTable(view: Self.counts, joinKeys: Self.driver), before: [h: 11 * h], origin: .backfill) == 1_000)
        #expect(try await store.readTiles([[.int(0)]], of: OnlineTable(view: Self.counts, joinKeys: Self.driver), from: [h: 0]) == [[]])
        let rows = try await store.read((0..<5_000).map { [.int(Int64($0))] }, from: OnlineTable(view: Self.plain, joinKeys: Self.driver))
        #expect(rows.allSatisfy { $0 != nil }, "plain rows untouched")
        _ = servers
    }
}

@Suite("Redis online store: faults and failover", .serialized, .timeLimit(.minutes(5)))
struct RedisFaultTests {
    static let stats = FeatureView(name: "stats", entities: ["driver"], source: "s", ttl: .zero,
                                   features: [Feature(name: "conv", type: .scalar(.float64)), Feature(name: "trips", type: .scalar(.int64))])
    static let driver = [JoinKey(name: "driver_id", type: .int64)]

    static func rows(_ n: Int, at time: Int64) -> [OnlineRow] {
        (0..<n).map { OnlineRow(key: [.int(Int64($0))], eventTimestamp: time, values: [.double(Double($0) / 8), .int(Int64($0))]) }
    }

    @Test("health turns NOT_SERVING naming the node while the server is down, and SERVING again once it is back")
    func healthFollowsTheServer() async throws {
        let servers = try RedisServers()
        let port = try servers.start()
        let store = RedisOnlineStore(client: RedisClient(RedisConfiguration(nodes: [local(port)], cluster: false, connectTimeout: .milliseconds(300),
                                                                            readTimeout: .milliseconds(300), maxAttempts: 1)), prefix: "fs", project: "health")
        try await store.start()
        #expect(await store.health() == .serving)
        servers.stop(port)
        guard case .notServing(let why) = await store.health() else { Issue.record("still serving"); return }
        #expect(why.contains("127.0.0.1:\(port)"), "\(why)")
        await #expect(throws: OnlineStoreError.self) { _ = try await store.read([[.int(1)]], from: OnlineTable(view: Self.stats, joinKeys: Self.driver)) }
        try servers.restart(port)
        var back = false
        for _ in 0..<100 where !back {
            back = await store.health() == .serving
            if !back { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(back)
        await store.stop()
    }

    @Test("a stored value that does not decode is an error naming the key, never a crash")
    func corruptValue() async throws {
        let (servers, port, store) = try await startedStandaloneStore(project: "corrupt")
        try await store.write(Self.rows(3, at: 5), to: OnlineTable(view: Self.stats, joinKeys: Self.driver))
        let c = try RedisConnection(local(port), connectTimeout: .seconds(1), readTimeout: .seconds(1))
        guard case .array(let keys) = try c.run("KEYS", "fs:corrupt:stats:*:{*"), let key = keys.compactMap(\.text).sorted().first else {
            Issue.record("no row keys"); return
        }
        _ = try c.run("HSET", key, "v", "\u{7}garbage")
        _ = try c.run("HSET", key.replacingOccurrences(of: "{", with: "{x"), "t", "not-a-time")
        await #expect {
            _ = try await store.read((0..<3).map { [.int(Int64($0))] }, from: OnlineTable(view: Self.stats, joinKeys: Self.driver))
        } throws: { error in
            guard let e = error as? OnlineStoreError else { return false }
            return e.code == .corrupt && e.message.contains(key) && e.message.contains("does not decode")
        }
        await store.stop()
        _ = servers
    }

    @Test("failover: a primary killed under reads and writes; errors stop once a replica is promoted (window printed); a rerun restores what replication lost")
    func failover() async throws {
        let servers = try RedisServers()
        let ports = try servers.startCluster(primaries: 3, replicas: 1)
        let store = RedisOnlineStore(client: RedisClient(RedisConfiguration(nodes: ports.map(local), cluster: true, connectTimeout: .milliseconds(300),
                                                                            readTimeout: .seconds(1), maxAttempts: 3)), prefix: "fs", project: "failover")
        try await store.start()
        let entities = 2_000
        try await store.write(Self.rows(entities, at: 1), to: OnlineTable(view: Self.stats, joinKeys: Self.driver))
        let victim = try #require(store.client.slotMap?.node(for: HashSlot.slot(of: "fs:failover:x")))

        // Steady load: lookups of 20 entities and writes of 20 rows, as fast as they go, recording failures.
        let started = ContinuousClock.now
        let failures = Mutex<[Duration]>([])
        let successes = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        let load = Task {
            var time: Int64 = 2
            while !stop.load(ordering: .relaxed) {
                let ids = (0..<20).map { _ in Int64.random(in: 0..<Int64(entities)) }
                do {
                    _ = try await store.read(ids.map { [.int($0)] }, from: OnlineTable(view: Self.stats, joinKeys: Self.driver))
                    try await store.write(ids.map { OnlineRow(key: [.int($0)], eventTimestamp: time, values: [.double(1), .int($0)]) }, to: OnlineTable(view: Self.stats, joinKeys: Self.driver))
                    time += 1
                    successes.add(1, ordering: .relaxed)
                } catch {
                    failures.withLock { $0.append(ContinuousClock.now - started) }
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
        }
        // Conditions with deadlines, not fixed sleeps: the load runs, then after the kill it runs again for a while.
        let killedAt: Duration
        do {
            try await Self.until("the load to run") { successes.load(ordering: .relaxed) >= 20 }
            killedAt = ContinuousClock.now - started
            servers.stop(victim.port)
            let atKill = successes.load(ordering: .relaxed)
            try await Self.until("200 calls to succeed after the kill (a replica promoted)") { successes.load(ordering: .relaxed) >= atKill + 200 }
        } catch {
            stop.store(true, ordering: .relaxed)
            await load.value
            throw error
        }
        stop.store(true, ordering: .relaxed)
        await load.value
        let errors = failures.withLock { $0 }
        let window = (errors.last.map { $0 - killedAt }) ?? .zero
        print("failover: \(errors.count) failed calls, the last \(window) after the kill of \(victim)")
        #expect(errors.allSatisfy { $0 >= killedAt }, "no error before the kill")
        // About 3 s when the machine is idle (node timeout 1 s plus the election); seven processes on two cores can double it.
        #expect(window < .seconds(15), "errors stop once a replica is promoted (window \(window))")
        // Everything reads again; a rerun of the batch load restores what asynchronous replication may have lost.
        try await store.write(Self.rows(entities, at: 1_000_000), to: OnlineTable(view: Self.stats, joinKeys: Self.driver))
        let all = try await store.read((0..<entities).map { [.int(Int64($0))] }, from: OnlineTable(view: Self.stats, joinKeys: Self.driver))
        #expect(all.allSatisfy { $0?.eventTimestamp == 1_000_000 })
        await store.stop()
    }

    /// Waits until `done` holds, checking every 50 ms, for at most `limit`.
    static func until(_ what: String, within limit: Duration = .seconds(30), _ done: () -> Bool) async throws {
        let end = ContinuousClock.now + limit
        while !done() {
            guard ContinuousClock.now < end else { throw ConformanceFailure("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
