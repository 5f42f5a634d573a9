import Foundation
import Synchronization

/// How a ``RedisClient`` reaches its servers.
public struct RedisConfiguration: Sendable, Hashable {
    /// Seed nodes (for a cluster, any of its nodes; the rest is discovered).
    public var nodes: [RedisEndpoint]
    /// Whether the nodes form a Redis Cluster (slots routed by the client) or one standalone server.
    public var cluster: Bool
    /// What to authenticate with on each new connection (nil: no `AUTH`).
    public var credentials: RedisCredentials?
    /// How long to wait for a connection to a node.
    public var connectTimeout: Duration
    /// How long to wait for a reply; after that the connection fails with a timeout and is closed.
    public var readTimeout: Duration
    /// Connections per node (each on its own thread, off Swift's cooperative pool).
    public var connectionsPerNode: Int
    /// How many redirects or retries one command may take before its error is returned.
    public var maxAttempts: Int

    /// A configuration for `nodes`; by default 2-second timeouts, 4 connections per node and 6 attempts per command.
    public init(nodes: [RedisEndpoint], cluster: Bool, credentials: RedisCredentials? = nil, connectTimeout: Duration = .seconds(2),
                readTimeout: Duration = .seconds(2), connectionsPerNode: Int = 4, maxAttempts: Int = 6) {
        self.nodes = nodes
        self.cluster = cluster
        self.credentials = credentials
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.connectionsPerNode = connectionsPerNode
        self.maxAttempts = maxAttempts
    }
}

/// One command and the key it is routed by (nil: any node).
public struct RedisCommand: Sendable {
    /// The key it is routed by (its hash slot's node); nil: any node.
    public var key: [UInt8]?
    /// The command's name and arguments (`GET`, then the key), as bytes.
    public var args: [[UInt8]]

    /// The command `args`, routed by `key`.
    public init(key: [UInt8]?, _ args: [[UInt8]]) {
        self.key = key
        self.args = args
    }

    /// A command given as text arguments, routed by `key`.
    public init(key: String?, _ args: [String]) {
        self.init(key: key.map { Array($0.utf8) }, args.map { Array($0.utf8) })
    }
}

/// A connection pool to one node: each connection has a serial queue of its own, where its blocking hiredis calls
/// run, so no Swift task waits on the network holding a cooperative thread.
final class RedisNodePool: Sendable {
    let endpoint: RedisEndpoint
    private let lanes: [Lane]
    private let next = Atomic<Int>(0)

    final class Lane: @unchecked Sendable {
        let queue: DispatchQueue
        /// Touched only on `queue`.
        var connection: RedisConnection?
        init(label: String) { queue = DispatchQueue(label: label) }
    }

    init(_ endpoint: RedisEndpoint, connections: Int) {
        self.endpoint = endpoint
        lanes = (0..<max(1, connections)).map { Lane(label: "redis \(endpoint) #\($0)") }
    }

    /// Sends the commands as one pipeline on one connection (connecting first when needed) and returns the replies.
    func pipeline(_ commands: [[[UInt8]]], configuration: RedisConfiguration) async throws(RedisError) -> [RedisReply] {
        try await pipelineResult(commands, configuration: configuration).get()
    }

    /// ``pipeline(_:configuration:)`` as a result (what concurrent callers collect without throwing).
    func pipelineResult(_ commands: [[[UInt8]]], configuration: RedisConfiguration) async -> Result<[RedisReply], RedisError> {
        let lane = lanes[next.wrappingAdd(1, ordering: .relaxed).oldValue % lanes.count]
        let endpoint = self.endpoint
        let result: Result<[RedisReply], RedisError> = await withCheckedContinuation { continuation in
            lane.queue.async {
                do throws(RedisError) {
                    if lane.connection?.isOpen != true {
                        lane.connection = try RedisConnection(endpoint, connectTimeout: configuration.connectTimeout,
                                                              readTimeout: configuration.readTimeout, credentials: configuration.credentials)
                    }
                    continuation.resume(returning: .success(try lane.connection!.pipeline(commands)))
                } catch {
                    lane.connection = nil
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return result
    }

    /// Runs `body` with one connection of this node, on its thread (blocking calls allowed): for transactions that
    /// read between commands (`WATCH` ... `MULTI` ... `EXEC`).
    func withConnection<T: Sendable>(configuration: RedisConfiguration, _ body: @escaping @Sendable (RedisConnection) throws(RedisError) -> T) async throws(RedisError) -> T {
        let lane = lanes[next.wrappingAdd(1, ordering: .relaxed).oldValue % lanes.count]
        let endpoint = self.endpoint
        let result: Result<T, RedisError> = await withCheckedContinuation { continuation in
            lane.queue.async {
                do throws(RedisError) {
                    if lane.connection?.isOpen != true {
                        lane.connection = try RedisConnection(endpoint, connectTimeout: configuration.connectTimeout,
                                                              readTimeout: configuration.readTimeout, credentials: configuration.credentials)
                    }
                    let connection = lane.connection!
                    let value = try body(connection)
                    // A body that gave up half-way leaves no transaction or watch behind.
                    if connection.isOpen { _ = try? connection.command([Array("UNWATCH".utf8)]) }
                    continuation.resume(returning: .success(value))
                } catch {
                    lane.connection = nil
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// Closes every connection (after the calls queued before).
    func close() {
        for lane in lanes { lane.queue.async { lane.connection = nil } }
    }
}

/// A Redis client for a standalone server or a Redis Cluster. A batch of commands is grouped by the node serving
/// each key's slot and pipelined per node, every node's pipeline sent before any reply is awaited, so a batch costs
/// about one round trip of the slowest node. Redirects are followed: `MOVED` patches the slot map and retries only
/// the redirected commands, `ASK` retries once at the importing node after `ASKING` (no map change), `TRYAGAIN` and
/// `CLUSTERDOWN` wait with jittered back-off, and a node that fails makes the client reload the slot map
/// (`CLUSTER SLOTS`) before retrying; each command takes at most ``RedisConfiguration/maxAttempts`` tries. The
/// slot map is also reloaded every 30 seconds of use.
public final class RedisClient: Sendable {
    /// The servers and settings it was made with.
    public let configuration: RedisConfiguration
    private struct State {
        var map: SlotMap?
        var refreshedAt: ContinuousClock.Instant
        var pools: [RedisEndpoint: RedisNodePool] = [:]
    }
    private let state: Mutex<State>

    /// A client for `configuration`; it connects on first use (and loads a cluster's slot map then).
    public init(_ configuration: RedisConfiguration) {
        self.configuration = configuration
        let map = configuration.cluster ? nil : configuration.nodes.first.map { SlotMap(single: $0) }
        state = Mutex(State(map: map, refreshedAt: .now))
    }

    /// The slot map in use (loaded on first use for a cluster).
    public var slotMap: SlotMap? { state.withLock { $0.map } }

    private func pool(_ node: RedisEndpoint) -> RedisNodePool {
        state.withLock { s in
            if let p = s.pools[node] { return p }
            let p = RedisNodePool(node, connections: configuration.connectionsPerNode)
            s.pools[node] = p
            return p
        }
    }

    /// Closes every connection.
    public func close() {
        state.withLock { s in
            for p in s.pools.values { p.close() }
            s.pools = [:]
        }
    }

    /// Loads the slot map from the first node that answers (seeds first, then the nodes of the current map).
    public func refreshSlotMap() async throws(RedisError) {
        guard configuration.cluster else { return }
        let candidates = configuration.nodes + (state.withLock { $0.map?.nodes } ?? []).filter { !configuration.nodes.contains($0) }
        var last: RedisError? = nil
        for node in candidates {
            do throws(RedisError) {
                let reply = try await pool(node).pipeline([[Array("CLUSTER".utf8), Array("SLOTS".utf8)]], configuration: configuration)[0]
                if case .error(let e) = reply { throw RedisError(.server, node: node.description, "CLUSTER SLOTS: \(e)") }
                let map = try SlotMap(clusterSlots: reply, answeredBy: node)
                state.withLock {
                    $0.map = map
                    $0.refreshedAt = .now
                }
                return
            } catch {
                last = error
            }
        }
        throw last ?? RedisError(.connection, node: "-", "no Redis node configured")
    }

    /// The primaries of the cluster (the standalone server).
    public func primaries() async throws(RedisError) -> [RedisEndpoint] {
        if configuration.cluster && slotMap == nil { try await refreshSlotMap() }
        return slotMap?.nodes ?? []
    }

    /// Runs `body` on a connection of the node serving `key`'s slot, on that connection's thread, for work that reads
    /// between commands (`WATCH`/`MULTI`/`EXEC`). When `body` meets a `MOVED` or `ASK` (it throws
    /// ``RedisError/Kind/server`` with the redirect as message) or the node fails, the slot map is reloaded and `body`
    /// runs again, at most ``RedisConfiguration/maxAttempts`` times.
    public func withConnection<T: Sendable>(forKey key: [UInt8], _ body: @escaping @Sendable (RedisConnection) throws(RedisError) -> T) async throws(RedisError) -> T {
        if configuration.cluster && slotMap == nil { try await refreshSlotMap() }
        var attempt = 0
        while true {
            attempt += 1
            guard let node = state.withLock({ $0.map?.node(for: HashSlot.slot(of: key)) }) else {
                throw RedisError(.server, node: "-", "no node serves the slot of key '\(String(decoding: key, as: UTF8.self))'")
            }
            do throws(RedisError) {
                return try await pool(node).withConnection(configuration: configuration, body)
            } catch {
                let redirected = error.kind == .server && (RedisRedirect(error.message) != nil || error.message.hasPrefix("TRYAGAIN") || error.message.hasPrefix("CLUSTERDOWN"))
                guard attempt < configuration.maxAttempts, redirected || error.kind == .connection || error.kind == .timeout else { throw error }
                if case .moved(let slot, let to)? = RedisRedirect(error.message) { state.withLock { $0.map?.move(slot, to: to) } }
                let base = min(1000, 20 << min(attempt - 1, 5))
                try? await Task.sleep(for: .milliseconds(base + Int.random(in: 0...base)))
                if configuration.cluster && RedisRedirect(error.message) == nil { try? await refreshSlotMap() }
            }
        }
    }

    /// Runs one command on a given node (administration: `SCAN`, `PING`, `DBSIZE` on each primary).
    public func command(_ args: [[UInt8]], on node: RedisEndpoint) async throws(RedisError) -> RedisReply {
        try await pool(node).pipeline([args], configuration: configuration)[0]
    }

    /// Runs one command.
    public func command(_ command: RedisCommand) async throws(RedisError) -> RedisReply {
        try await execute([command])[0]
    }

    /// Runs a batch of commands, one reply per command in order. A command's own error reply (a wrong type, a script
    /// error) is returned as its reply; what fails the call is a node that cannot be reached after the retries, or
    /// redirects beyond the limit.
    public func execute(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        if configuration.cluster {
            let stale = state.withLock { $0.map == nil || ContinuousClock.now - $0.refreshedAt > .seconds(30) }
            if stale { try await refreshSlotMap() }
        }
        var replies = [RedisReply?](repeating: nil, count: commands.count)
        var pending = Array(commands.indices)
        var askAt: [Int: RedisEndpoint] = [:]
        var attempt = 0
        var lastError: RedisError? = nil
        while !pending.isEmpty {
            attempt += 1
            if attempt > configuration.maxAttempts {
                throw lastError ?? RedisError(.server, node: "-", "gave up after \(configuration.maxAttempts) attempts (redirects or retries)")
            }
            // Group by node.
            let map = state.withLock { $0.map }
            var groups: [RedisEndpoint: [Int]] = [:]
            for i in pending {
                let node: RedisEndpoint?
                if let ask = askAt[i] {
                    node = ask
                } else if let key = commands[i].key {
                    node = map?.node(for: HashSlot.slot(of: key))
                } else {
                    node = map?.nodes.first
                }
                guard let node else {
                    throw RedisError(.server, node: "-", "no node serves the slot of key '\(String(decoding: commands[i].key ?? [], as: UTF8.self))' (the cluster is not fully covered)")
                }
                groups[node, default: []].append(i)
            }
            // Every node's pipeline at once.
            var jobs: [(node: RedisEndpoint, indices: [Int], batch: [[[UInt8]]])] = []
            for (node, indices) in groups {
                var batch: [[[UInt8]]] = []
                for i in indices {
                    if askAt[i] != nil { batch.append([Array("ASKING".utf8)]) }
                    batch.append(commands[i].args)
                }
                jobs.append((node, indices, batch))
            }
            let configuration = self.configuration
            let pools = jobs.map { pool($0.node) }
            // One node (a standalone server, or keys that share one): no child task to wait for.
            let results: [Result<[RedisReply], RedisError>?] = jobs.count == 1
                ? [await pools[0].pipelineResult(jobs[0].batch, configuration: configuration)]
                : await withTaskGroup(of: (Int, Result<[RedisReply], RedisError>).self) { group in
                for (j, job) in jobs.enumerated() {
                    let pool = pools[j], batch = job.batch
                    group.addTask { (j, await pool.pipelineResult(batch, configuration: configuration)) }
                }
                var out = [Result<[RedisReply], RedisError>?](repeating: nil, count: jobs.count)
                for await (j, result) in group { out[j] = result }
                return out
            }
            var retry: [Int] = []
            var refresh = false
            var backOff = false
            for (j, job) in jobs.enumerated() {
                let node = job.node, indices = job.indices
                switch results[j] ?? .failure(RedisError(.connection, node: node.description, "no reply")) {
                case .failure(let error):
                    lastError = error
                    retry += indices
                    refresh = true
                    for i in indices { askAt[i] = nil }
                case .success(let all):
                    var k = 0
                    for i in indices {
                        if askAt[i] != nil { k += 1 } // the ASKING reply
                        let reply = all[k]
                        k += 1
                        askAt[i] = nil
                        guard case .error(let message) = reply else {
                            replies[i] = reply
                            continue
                        }
                        if let redirect = RedisRedirect(message) {
                            lastError = RedisError(.server, node: node.description, message)
                            switch redirect {
                            case .moved(let slot, let to): state.withLock { $0.map?.move(slot, to: to) }
                            case .ask(_, let to): askAt[i] = to
                            }
                            retry.append(i)
                        } else if message.hasPrefix("TRYAGAIN") || message.hasPrefix("CLUSTERDOWN") {
                            lastError = RedisError(.server, node: node.description, message)
                            retry.append(i)
                            backOff = true
                            if message.hasPrefix("CLUSTERDOWN") { refresh = true }
                        } else {
                            replies[i] = reply
                        }
                    }
                }
            }
            pending = retry.sorted()
            if pending.isEmpty { break }
            if backOff || refresh {
                // Jittered back-off: 20-40 ms, doubling per attempt, at most ~1 s.
                let base = min(1000, 20 << min(attempt - 1, 5))
                try? await Task.sleep(for: .milliseconds(base + Int.random(in: 0...base)))
            }
            if refresh && configuration.cluster {
                do { try await refreshSlotMap() } catch { lastError = error }
            }
        }
        return replies.map { $0 ?? .null }
    }
}
