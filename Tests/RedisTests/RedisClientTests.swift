import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Redis
import RedisTestSupport
import Testing

func local(_ port: Int) -> RedisEndpoint { RedisEndpoint(host: "127.0.0.1", port: port) }

@Suite("Redis client against real servers", .serialized, .timeLimit(.minutes(3)))
struct RedisClientTests {
    @Test("a standalone server: pipelined commands come back in order; a command's error is its reply")
    func standalone() async throws {
        let servers = try RedisServers()
        let port = try servers.start()
        let client = RedisClient(RedisConfiguration(nodes: [local(port)], cluster: false))
        var commands = (0..<500).map { RedisCommand(key: "k\($0)", ["SET", "k\($0)", "v\($0)"]) }
        commands += (0..<500).map { RedisCommand(key: "k\($0)", ["GET", "k\($0)"]) }
        commands.append(RedisCommand(key: "k1", ["HGET", "k1", "f"]))
        let replies = try await client.execute(commands)
        #expect(replies[0..<500].allSatisfy { $0 == .status("OK") })
        #expect(replies[500..<1000].map { $0.text } == (0..<500).map { "v\($0)" })
        #expect(replies[1000].errorMessage?.hasPrefix("WRONGTYPE") == true)
        client.close()
    }

    @Test("a wrong password, a refused connection and a timeout are errors naming the node, never a crash")
    func faults() async throws {
        let servers = try RedisServers()
        let port = try servers.start(password: "correct-horse-battery")
        do {
            _ = try RedisConnection(local(port), connectTimeout: .seconds(1), readTimeout: .seconds(1), credentials: RedisCredentials(password: "wrong"))
            Issue.record("connected with a wrong password")
        } catch {
            #expect(error.kind == .server && error.node == "127.0.0.1:\(port)" && error.message.contains("authentication failed"), "\(error)")
        }
        let good = RedisClient(RedisConfiguration(nodes: [local(port)], cluster: false, credentials: RedisCredentials(password: "correct-horse-battery")))
        #expect(try await good.command(RedisCommand(key: "a", ["PING"])) == .status("PONG"))

        // A port bound but never listening for the whole check: connections are refused, and no parallel test can
        // start a server on it meanwhile (a port picked free and released could be taken).
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, length) } }
        try #require(bound == 0, "a port to hold")
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(holder, $0, &length) } }
        let closed = Int(UInt16(bigEndian: address.sin_port))
        let refused = RedisClient(RedisConfiguration(nodes: [local(closed)], cluster: false, maxAttempts: 2))
        await #expect {
            _ = try await refused.command(RedisCommand(key: "a", ["PING"]))
        } throws: { error in
            guard let e = error as? RedisError else { return false }
            return e.kind == .connection && e.node == "127.0.0.1:\(closed)" && e.message.contains("cannot connect")
        }

        let slow = RedisClient(RedisConfiguration(nodes: [local(port)], cluster: false, credentials: RedisCredentials(password: "correct-horse-battery"),
                                                  readTimeout: .milliseconds(200), maxAttempts: 1))
        await #expect {
            _ = try await slow.command(RedisCommand(key: "a", ["DEBUG", "SLEEP", "1"]))
        } throws: { error in
            (error as? RedisError)?.kind == .timeout && (error as? RedisError)?.node == "127.0.0.1:\(port)"
        }
        // The timed-out connection was dropped; the next call works on a fresh one once the server is awake again
        // (retried until it answers, within a deadline, not after a fixed sleep).
        let awake = ContinuousClock.now + .seconds(10)
        var answer: RedisReply? = nil
        while answer == nil && ContinuousClock.now < awake {
            answer = try? await slow.command(RedisCommand(key: "a", ["PING"]))
            if answer == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(answer == .status("PONG"))
    }

    @Test("a cluster: keys of every node in one batch, one pipeline per node; hash tags keep keys together")
    func cluster() async throws {
        let servers = try RedisServers()
        let ports = try servers.startCluster()
        let client = RedisClient(RedisConfiguration(nodes: [local(ports[0])], cluster: true))
        let keys = (0..<600).map { "key:\($0)" }
        _ = try await client.execute(keys.map { RedisCommand(key: $0, ["SET", $0, $0.uppercased()]) })
        let got = try await client.execute(keys.map { RedisCommand(key: $0, ["GET", $0]) })
        #expect(got.map(\.text) == keys.map { $0.uppercased() })
        #expect(client.slotMap?.nodes.count == 3 && client.slotMap?.coversAllSlots == true)
        // Every node holds some of them.
        for port in ports {
            let c = try RedisConnection(local(port), connectTimeout: .seconds(1), readTimeout: .seconds(1))
            guard case .integer(let n) = try c.run("DBSIZE") else { Issue.record("DBSIZE"); continue }
            #expect(n > 100, "node \(port) holds \(n) keys")
        }
        // A multi-key command on one hash tag runs on one node.
        let tagged = try await client.execute([RedisCommand(key: "{driver:7}", ["MSET", "{driver:7}.a", "1", "{driver:7}.b", "2"]),
                                               RedisCommand(key: "{driver:7}", ["MGET", "{driver:7}.a", "{driver:7}.b"])])
        #expect(tagged[1] == .array([.bulk(Array("1".utf8)), .bulk(Array("2".utf8))]))
    }

    @Test("MOVED after a slot migrates: the map is patched and only the moved command is retried; ASK during a migration")
    func redirects() async throws {
        let servers = try RedisServers()
        let ports = try servers.startCluster()
        let client = RedisClient(RedisConfiguration(nodes: [local(ports[0])], cluster: true))
        let key = "moving-key", slot = HashSlot.slot(of: key)
        let other = "staying-key"
        _ = try await client.execute([RedisCommand(key: key, ["SET", key, "here"]), RedisCommand(key: other, ["SET", other, "still"])])
        let map = try #require(client.slotMap)
        let source = try #require(map.node(for: slot))
        let target = try #require(map.nodes.first { $0 != source })
        let src = try RedisConnection(source, connectTimeout: .seconds(1), readTimeout: .seconds(2))
        let dst = try RedisConnection(target, connectTimeout: .seconds(1), readTimeout: .seconds(2))
        let srcID = try #require(try src.run("CLUSTER", "MYID").text), dstID = try #require(try dst.run("CLUSTER", "MYID").text)

        // Half-way: the slot is migrating and the key already moved: the source answers ASK.
        #expect(try dst.run("CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", srcID) == .status("OK"))
        #expect(try src.run("CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", dstID) == .status("OK"))
        #expect(try src.command(["MIGRATE", target.host, "\(target.port)", key, "0", "5000"].map { Array($0.utf8) }) == .status("OK"))
        let asked = try await client.execute([RedisCommand(key: key, ["GET", key]), RedisCommand(key: other, ["GET", other])])
        #expect(asked.map(\.text) == ["here", "still"])
        #expect(client.slotMap?.node(for: slot) == source, "ASK does not change the map")

        // Done: the slot belongs to the target; the source answers MOVED.
        for c in [dst, src] { #expect(try c.run("CLUSTER", "SETSLOT", "\(slot)", "NODE", dstID) == .status("OK")) }
        let moved = try await client.execute([RedisCommand(key: key, ["GET", key]), RedisCommand(key: other, ["GET", other])])
        #expect(moved.map(\.text) == ["here", "still"])
        #expect(client.slotMap?.node(for: slot) == target, "MOVED patches the map")
    }
}
