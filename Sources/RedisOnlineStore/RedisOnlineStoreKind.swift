public import FeatureStoreCore
public import Foundation
import Redis

/// `online_store: {kind: redis, nodes: [host:port, ...], cluster: true}`: Redis, standalone or Redis Cluster.
///
/// | setting | meaning | default |
/// | --- | --- | --- |
/// | `nodes` | `host:port` of the server, or of any cluster nodes (a list, or comma-separated) | required |
/// | `cluster` | whether the nodes form a Redis Cluster | `false` |
/// | `user` | an ACL user (the default user when absent) | none |
/// | `password_env` / `password_file` | where the password is: an environment variable, or a file relative to the repository (never in the YAML) | none |
/// | `key_prefix` | the first part of every key (several repositories can share a server) | `fs` |
/// | `connect_timeout_ms`, `read_timeout_ms` | how long to wait for a connection, and for a reply | 2000, 2000 |
/// | `connections` | connections per node | 4 |
public struct RedisOnlineStoreKind: OnlineStoreKind {
    /// `redis`.
    public let name = "redis"

    /// The kind (programs add ``FeatureStoreCore/Kinds/redis`` to their kinds).
    public init() {}

    static let settingNames = ["nodes", "cluster", "user", "password_env", "password_file", "key_prefix", "connect_timeout_ms",
                               "read_timeout_ms", "connections"]

    /// Checks every setting without reading the password; see ``OnlineStoreKind/validate(_:)``.
    public func validate(_ settings: inout StoreSettings) {
        _ = configuration(&settings, repository: nil)
    }

    /// The client configuration the settings describe; problems reported on `settings`. With a repository, the
    /// password is read too.
    func configuration(_ settings: inout StoreSettings, repository: URL?) -> RedisConfiguration {
        settings.rejectUnknown(allowing: Self.settingNames)
        var nodes: [RedisEndpoint] = []
        if let text = settings.string("nodes", required: true) {
            for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
                guard let node = RedisEndpoint(parsing: item) else {
                    settings.problem("nodes", "'\(item)' in 'nodes' is not host:port (like 10.0.0.5:6379)")
                    continue
                }
                nodes.append(node)
            }
            if nodes.isEmpty && settings.problems.isEmpty { settings.problem("nodes", "'nodes' names no server: give host:port of at least one") }
        }
        let cluster = settings.bool("cluster", default: false)
        if !cluster && nodes.count > 1 {
            settings.problem("nodes", "a standalone Redis has one node, but 'nodes' names \(nodes.count): set 'cluster: true' for a Redis Cluster")
        }
        let prefix = settings.string("key_prefix", default: "fs") ?? "fs"
        if prefix.isEmpty || prefix.contains(where: { "{}: ".contains($0) }) {
            settings.problem("key_prefix", "'key_prefix' must be a non-empty name without '{', '}', ':' or spaces, found '\(prefix)'")
        }
        let connect = settings.integer("connect_timeout_ms", default: 2000, in: 1...600_000)
        let read = settings.integer("read_timeout_ms", default: 2000, in: 1...600_000)
        let connections = settings.integer("connections", default: 4, in: 1...64)
        let user = settings.string("user")
        var credentials: RedisCredentials? = nil
        let env = settings.string("password_env"), file = settings.string("password_file")
        if env != nil && file != nil { settings.problem("password_file", "give the password in 'password_env' or 'password_file', not both") }
        if let repository {
            var password: String? = nil
            if let env {
                if let value = ProcessInfo.processInfo.environment[env] { password = value } else {
                    settings.problem("password_env", "the environment variable \(env) (the Redis password) is not set")
                }
            } else if let file {
                let url = file.hasPrefix("/") ? URL(fileURLWithPath: file) : repository.appendingPathComponent(file)
                if let text = try? String(contentsOf: url, encoding: .utf8) {
                    password = text.trimmingCharacters(in: .whitespacesAndNewlines)
                } else {
                    settings.problem("password_file", "cannot read the Redis password from \(url.path)")
                }
            }
            if let password { credentials = RedisCredentials(user: user, password: password) }
        } else if user != nil && env == nil && file == nil {
            settings.problem("user", "'user' needs a password: give 'password_env' or 'password_file'")
        }
        return RedisConfiguration(nodes: nodes, cluster: cluster, credentials: credentials, connectTimeout: .milliseconds(connect),
                                  readTimeout: .milliseconds(read), connectionsPerNode: connections)
    }

    /// Reads the password and makes a ``RedisOnlineStore`` with its keys under `key_prefix:project:`; see
    /// ``OnlineStoreKind/open(_:repository:)``.
    public func open(_ settings: StoreSettings, repository: URL) throws(OnlineStoreError) -> any OnlineStore {
        var settings = settings
        let configuration = configuration(&settings, repository: repository)
        if let problem = settings.problems.first { throw OnlineStoreError("online_store: \(problem.message)") }
        let project = settings.project ?? repository.lastPathComponent
        return RedisOnlineStore(client: RedisClient(configuration), prefix: settings.values["key_prefix"] ?? "fs", project: project)
    }
}

extension Kinds {
    /// The Redis online store, standalone or Redis Cluster (kind `redis`).
    public static let redis = Kinds(onlineStores: [RedisOnlineStoreKind()])
}
