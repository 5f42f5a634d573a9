public import Foundation
public import Redis

/// Real redis-server processes for the tests, on free high loopback ports, each in a folder of its own; stopped
/// (SIGKILL) and removed when released.
public final class RedisServers: @unchecked Sendable {
    public let dir: URL
    public private(set) var processes: [Int: Process] = [:]
    public private(set) var ports: [Int] = []

    public init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    deinit {
        for p in processes.values where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        try? FileManager.default.removeItem(at: dir)
    }

    public static var serverPath: String? {
        ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A port nothing listens on (bound and released). With `clusterBus`, one whose cluster bus port (port + 10000)
    /// exists and is free too: a cluster node listens on both.
    public static func freePort(clusterBus: Bool = false) -> Int {
        for _ in 0..<100 {
            guard let port = bindable(0) else { continue }
            if !clusterBus || (port + 10_000 <= 65_535 && bindable(port + 10_000) != nil) { return port }
        }
        return bindable(0) ?? 0
    }

    /// Binds `port` on loopback (0: any) and releases it; the port bound, or nil when taken.
    private static func bindable(_ port: Int) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard bound == 0 else { return nil }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Starts one server with `extra` arguments; waits until it answers PING. A port taken between choosing and
    /// binding it (tests run in parallel) is retried on another.
    @discardableResult
    public func start(_ extra: [String] = [], password: String? = nil) throws -> Int {
        var last: (any Error)? = nil
        for _ in 0..<4 {
            do { return try startOnce(extra, password: password) } catch { last = error }
        }
        throw last!
    }

    private func startOnce(_ extra: [String], password: String?) throws -> Int {
        guard let server = Self.serverPath else { throw RedisError(.connection, node: "-", "redis-server is not installed: run `bash scripts/setup`") }
        let port = Self.freePort(clusterBus: extra.contains("--cluster-enabled"))
        let folder = dir.appendingPathComponent("\(port)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: server)
        process.currentDirectoryURL = folder
        process.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--enable-debug-command", "yes",
                             "--daemonize", "no", "--logfile", folder.appendingPathComponent("log").path]
            + (password.map { ["--requirepass", $0] } ?? []) + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        processes[port] = process
        ports.append(port)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard process.isRunning else {
                let log = (try? String(contentsOf: folder.appendingPathComponent("log"), encoding: .utf8))?.split(separator: "\n").suffix(2).joined(separator: " | ") ?? ""
                throw RedisError(.connection, node: "127.0.0.1:\(port)", "redis-server exited (port taken?): \(log)")
            }
            if let c = try? RedisConnection(RedisEndpoint(host: "127.0.0.1", port: port), connectTimeout: .milliseconds(200), readTimeout: .seconds(1),
                                            credentials: password.map { RedisCredentials(password: $0) }),
               (try? c.command([Array("PING".utf8)])) == .status("PONG") {
                // The server answering must be ours: between picking the free port and binding it, a parallel test
                // may have started its own server there.
                let info = (try? c.command(["INFO", "server"].map { Array($0.utf8) }))?.text ?? ""
                guard info.contains("process_id:\(process.processIdentifier)\r") else {
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                    processes[port] = nil
                    ports.removeAll { $0 == port }
                    throw RedisError(.connection, node: "127.0.0.1:\(port)", "port \(port) was taken by another server")
                }
                return port
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw RedisError(.connection, node: "127.0.0.1:\(port)", "redis-server did not answer PING within 10 s")
    }

    /// A cluster of `primaries` primaries with `replicas` replicas each, every slot assigned, `cluster_state:ok` on
    /// every node. Returns every node's port (primaries first, as `redis-cli` assigns them).
    public func startCluster(primaries: Int = 3, replicas: Int = 0) throws -> [Int] {
        let ports = try (0..<(primaries * (1 + replicas))).map { _ in
            // A replica may take over however long it was apart from its primary (the tests kill primaries early).
            try start(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "1000",
                       "--cluster-replica-validity-factor", "0"])
        }
        let cli = Process()
        cli.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        cli.arguments = ["--cluster", "create"] + ports.map { "127.0.0.1:\($0)" } + ["--cluster-replicas", "\(replicas)", "--cluster-yes"]
        cli.standardOutput = FileHandle.nullDevice
        cli.standardError = FileHandle.nullDevice
        try cli.run()
        // `redis-cli --cluster create` assigns the slots, introduces the nodes and waits for them to agree; under load
        // that wait has been seen never to end. Bounded: after 60 s the nodes are introduced again (CLUSTER MEET is
        // idempotent) and the state checks below decide.
        let cliDeadline = Date().addingTimeInterval(60)
        while cli.isRunning && Date() < cliDeadline { Thread.sleep(forTimeInterval: 0.05) }
        if cli.isRunning {
            kill(cli.processIdentifier, SIGKILL)
            cli.waitUntilExit()
            let first = try RedisConnection(RedisEndpoint(host: "127.0.0.1", port: ports[0]), connectTimeout: .seconds(1), readTimeout: .seconds(1))
            for port in ports.dropFirst() { _ = try first.command(["CLUSTER", "MEET", "127.0.0.1", "\(port)"].map { Array($0.utf8) }) }
        } else if cli.terminationStatus != 0 {
            throw RedisError(.server, node: "-", "redis-cli --cluster create failed")
        }
        let deadline = Date().addingTimeInterval(60)
        for port in ports {
            while true {
                let c = try RedisConnection(RedisEndpoint(host: "127.0.0.1", port: port), connectTimeout: .seconds(1), readTimeout: .seconds(1))
                let info = try c.command(["CLUSTER", "INFO"].map { Array($0.utf8) }).text ?? ""
                // A primary may still refuse with CLUSTERDOWN for a moment: probe it with a key it serves.
                // A replica is ready once its first sync is done.
                let replication = try c.command(["INFO", "replication"].map { Array($0.utf8) }).text ?? ""
                let synced = !replication.contains("role:slave") || replication.contains("master_link_status:up")
                if info.contains("cluster_state:ok"), synced, case .integer = try c.command(["CLUSTER", "COUNTKEYSINSLOT", "0"].map { Array($0.utf8) }) { break }
                guard Date() < deadline else { throw RedisError(.server, node: "127.0.0.1:\(port)", "cluster_state is not ok after 60 s") }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        return ports
    }

    /// Starts the server of `port` again (same folder and arguments are not kept: a plain server on that port).
    public func restart(_ port: Int, password: String? = nil) throws {
        guard let server = Self.serverPath else { return }
        let folder = dir.appendingPathComponent("\(port)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: server)
        process.currentDirectoryURL = folder
        process.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"]
            + (password.map { ["--requirepass", $0] } ?? [])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        processes[port] = process
    }

    public func stop(_ port: Int) {
        guard let p = processes[port], p.isRunning else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }
}

extension RedisConnection {
    /// A command given as text.
    public func run(_ args: String...) throws -> RedisReply { try command(args.map { Array($0.utf8) }) }
}
