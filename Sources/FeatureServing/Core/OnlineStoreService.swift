import FeatureStoreCore
public import Logging
public import ServiceLifecycle

/// The served repository's online store as a service of the server: opened and started when the server starts,
/// its health checked every `interval` and reported to ``ServingHealth`` (gRPC health and `/readyz` say
/// NOT_SERVING while the store cannot serve), and stopped last, once the servers in front of it have drained (list
/// it first in the `ServiceGroup`: services stop in reverse order). The store outlives reloads of the definitions.
public struct OnlineStoreService: Service {
    /// The repository whose current online store is watched.
    public let repository: ServedRepository
    /// Where the store's health is reported.
    public let health: ServingHealth
    /// How often the store's health is checked.
    public let interval: Duration
    let logger: Logger

    /// A service for `repository`'s online store, checked every `interval` (default 5 s) and reported to `health`.
    public init(repository: ServedRepository, health: ServingHealth, interval: Duration = .seconds(5), logger: Logger = Logger(label: "featurestore.store")) {
        self.repository = repository
        self.health = health
        self.interval = interval
        self.logger = logger
    }

    /// Every `interval`, opens and starts the current definitions' store if needed and reports its health (logging
    /// changes), until a graceful shutdown or cancellation; then stops the store.
    public func run() async throws {
        var store: (any OnlineStore)? = nil
        var last: OnlineStoreHealth? = nil
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now: OnlineStoreHealth
            do {
                let current = try await repository.snapshot.store.onlineStore()
                store = current
                now = await current.health()
            } catch {
                now = .notServing("cannot open: \(error)")
            }
            health.update(store: now)
            if now != last {
                switch now {
                case .serving: logger.info("online store serving")
                case .notServing(let why): logger.error("online store not serving", metadata: ["reason": "\(why)"])
                }
                last = now
            }
            let interval = self.interval
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
        }
        if let store { await store.stop() }
    }
}
