import CHiredis
import Foundation
public import ErrorChain

/// A reply of a Redis server (RESP2).
public enum RedisReply: Sendable, Hashable, CustomStringConvertible {
    /// A status line (`OK`, `PONG`).
    case status(String)
    /// An error line (`MOVED 3999 127.0.0.1:7001`, `NOSCRIPT ...`, `WRONGPASS ...`).
    case error(String)
    case integer(Int64)
    /// A bulk string, as bytes.
    case bulk([UInt8])
    /// A nil bulk string or array.
    case null
    case array([RedisReply])

    /// The reply as `redis-cli`-like text: `+OK`, `-ERR ...`, `:42`, a bulk string in quotes, `(nil)`, `[a, b]`.
    public var description: String {
        switch self {
        case .status(let s): return "+\(s)"
        case .error(let e): return "-\(e)"
        case .integer(let i): return ":\(i)"
        case .bulk(let b): return "\"\(String(decoding: b, as: UTF8.self))\""
        case .null: return "(nil)"
        case .array(let a): return "[\(a.map(\.description).joined(separator: ", "))]"
        }
    }

    /// The bytes of a bulk string (nil for anything else).
    public var bytes: [UInt8]? {
        if case .bulk(let b) = self { return b }
        return nil
    }

    /// A bulk string or status as text.
    public var text: String? {
        switch self {
        case .bulk(let b): return String(decoding: b, as: UTF8.self)
        case .status(let s): return s
        default: return nil
        }
    }

    /// The error line, for an error reply.
    public var errorMessage: String? {
        if case .error(let e) = self { return e }
        return nil
    }
}

/// A failure talking to a Redis node: which node, and what happened.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure it was.
    public enum Kind: Sendable, Hashable {
        /// The node cannot be reached (refused, unknown host, reset).
        case connection
        /// No reply within the read timeout.
        case timeout
        /// The server answered with an error (a wrong password, a script error).
        case server
        /// The reply could not be read as RESP.
        case protocolError
    }

    /// What kind of failure it was.
    public var kind: Kind
    /// `host:port`.
    public var node: String
    /// What happened.
    public var message: String

    /// An error of `kind` at `node` (`host:port`), described by `message`.
    public init(_ kind: Kind, node: String, _ message: String) {
        self.kind = kind
        self.node = node
        self.message = message
    }

    /// The node and the message (``headline``).
    public var description: String { headline }
}

extension RedisError: ChainedError {
    /// `redis.connection`, `redis.timeout`, `redis.server` or `redis.protocol`.
    public var errorCode: String {
        switch kind {
        case .connection: return "redis.connection"
        case .timeout: return "redis.timeout"
        case .server: return "redis.server"
        case .protocolError: return "redis.protocol"
        }
    }
    /// The node and the message.
    public var headline: String { "redis \(node): \(message)" }
}

/// How to reach a Redis node and how long to wait.
public struct RedisEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// The host name or IP address (an IPv6 address without brackets).
    public var host: String
    /// The TCP port.
    public var port: Int

    /// The node at `host` and `port`.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (an IPv6 host in brackets: `[::1]:6379`).
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    /// `host:port`, an IPv6 host in brackets (`[::1]:6379`).
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Credentials sent with `AUTH` on every new connection.
public struct RedisCredentials: Sendable, Hashable {
    /// An ACL user (nil: the default user).
    public var user: String?
    /// The password.
    public var password: String

    /// Credentials of `user` (nil: the default user) with `password`.
    public init(user: String? = nil, password: String) {
        self.user = user
        self.password = password
    }
}

/// One blocking hiredis connection to one node: a thin, safe wrapper over `redisContext`. Not thread-safe: its owner
/// uses it from one thread at a time, off Swift's cooperative pool (see ``RedisNode``). After an I/O error or a
/// timeout it is closed (its replies could no longer be matched to commands) and says so on every later call.
public final class RedisConnection {
    /// The node it talks to.
    public let endpoint: RedisEndpoint
    private var context: UnsafeMutablePointer<redisContext>?
    private var pending = 0

    /// Connects, sets the read timeout and authenticates.
    public init(_ endpoint: RedisEndpoint, connectTimeout: Duration, readTimeout: Duration, credentials: RedisCredentials? = nil) throws(RedisError) {
        self.endpoint = endpoint
        guard let c = redisConnectWithTimeout(endpoint.host, Int32(endpoint.port), Self.timeval(connectTimeout)) else {
            throw RedisError(.connection, node: endpoint.description, "cannot allocate a connection")
        }
        if c.pointee.err != 0 {
            let message = Self.message(c)
            redisFree(c)
            throw RedisError(.connection, node: endpoint.description, "cannot connect: \(message)")
        }
        context = c
        guard redisSetTimeout(c, Self.timeval(readTimeout)) == REDIS_OK else {
            close()
            throw RedisError(.connection, node: endpoint.description, "cannot set the read timeout")
        }
        if let credentials {
            let args = (credentials.user.map { [Array("AUTH".utf8), Array($0.utf8)] } ?? [Array("AUTH".utf8)]) + [Array(credentials.password.utf8)]
            let reply = try command(args)
            if case .error(let e) = reply {
                close()
                throw RedisError(.server, node: endpoint.description, "authentication failed: \(e)")
            }
        }
    }

    deinit { close() }

    /// Whether the connection can still be used.
    public var isOpen: Bool { context != nil }

    /// Frees the connection; later calls throw a connection error. Closing again does nothing.
    public func close() {
        if let context { redisFree(context) }
        context = nil
        pending = 0
    }

    /// Queues a command (sent with the next ``reply()``): the pipeline's first half.
    public func append(_ args: [[UInt8]]) throws(RedisError) {
        guard let context else { throw RedisError(.connection, node: endpoint.description, "the connection is closed") }
        let status: Int32 = withPointers(args) { argv, lengths in
            redisAppendCommandArgv(context, Int32(args.count), argv, lengths)
        }
        guard status == REDIS_OK else { throw failure(context) }
        pending += 1
    }

    /// Sends what is queued and reads the next reply, in command order.
    public func reply() throws(RedisError) -> RedisReply {
        guard let context else { throw RedisError(.connection, node: endpoint.description, "the connection is closed") }
        var raw: UnsafeMutableRawPointer? = nil
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw failure(context) }
        pending -= 1
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return Self.convert(reply)
    }

    /// One command and its reply.
    public func command(_ args: [[UInt8]]) throws(RedisError) -> RedisReply {
        try append(args)
        return try reply()
    }

    /// Sends every command, then reads every reply: one round trip for the batch.
    public func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply] {
        for c in commands { try append(c) }
        var out: [RedisReply] = []
        out.reserveCapacity(commands.count)
        for _ in commands { out.append(try reply()) }
        return out
    }

    // MARK: Helpers

    private func failure(_ c: UnsafeMutablePointer<redisContext>) -> RedisError {
        let err = c.pointee.err
        let message = Self.message(c)
        close()
        if err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK || message.localizedCaseInsensitiveContains("temporarily unavailable")) {
            return RedisError(.timeout, node: endpoint.description, "no reply within the read timeout")
        }
        if err == REDIS_ERR_PROTOCOL { return RedisError(.protocolError, node: endpoint.description, message) }
        if err == REDIS_ERR_EOF { return RedisError(.connection, node: endpoint.description, "the server closed the connection") }
        return RedisError(.connection, node: endpoint.description, message)
    }

    private static func message(_ c: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: c.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private static func timeval(_ d: Duration) -> Foundation.timeval {
        let (seconds, attoseconds) = d.components
        return Foundation.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }

    private static func convert(_ r: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let reply = r.pointee
        func bytes() -> [UInt8] {
            guard let str = reply.str, reply.len > 0 else { return [] }
            return Array(UnsafeRawBufferPointer(start: str, count: Int(reply.len)))
        }
        switch reply.type {
        case REDIS_REPLY_STRING: return .bulk(bytes())
        case REDIS_REPLY_STATUS: return .status(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_INTEGER: return .integer(Int64(reply.integer))
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(Int(reply.elements))
            for i in 0..<Int(reply.elements) {
                if let element = reply.element[i] { items.append(convert(element)) } else { items.append(.null) }
            }
            return .array(items)
        default: return .null
        }
    }
}

/// Calls `body` with C argument vectors for `args` (valid during the call only).
private func withPointers<R>(_ args: [[UInt8]], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R) -> R {
    let count = args.count
    let argv = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(1, count))
    let lengths = UnsafeMutablePointer<Int>.allocate(capacity: max(1, count))
    defer {
        argv.deallocate()
        lengths.deallocate()
    }
    // One contiguous copy of every argument, so the pointers stay valid for the call.
    var joined: [UInt8] = []
    joined.reserveCapacity(args.reduce(0) { $0 + $1.count } + 1)
    var offsets: [Int] = []
    for a in args {
        offsets.append(joined.count)
        joined.append(contentsOf: a)
    }
    joined.append(0)
    return joined.withUnsafeBufferPointer { buffer in
        buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { base in
            for i in 0..<count {
                argv[i] = UnsafePointer(base + offsets[i])
                lengths[i] = args[i].count
            }
            return body(argv, lengths)
        }
    }
}
