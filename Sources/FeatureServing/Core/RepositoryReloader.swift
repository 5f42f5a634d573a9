public import ServiceLifecycle

/// Reloads the served repository after `featurectl apply`, every `interval`, until the server shuts down.
public struct RepositoryReloader: Service {
    /// The repository reloaded.
    public let repository: ServedRepository
    /// How often the registry's apply time is checked.
    public let interval: Duration

    /// A reloader of `repository`, checking every `interval` (default 2 s).
    public init(repository: ServedRepository, interval: Duration = .seconds(2)) {
        self.repository = repository
        self.interval = interval
    }

    /// Every `interval`, reloads the repository if it was applied since (``ServedRepository/reloadIfApplied()``), until
    /// a graceful shutdown or cancellation.
    public func run() async throws {
        // Ends on graceful shutdown (the sleep is cancelled) or cancellation.
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let interval = self.interval
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            if Task.isShuttingDownGracefully { return }
            repository.reloadIfApplied()
        }
    }
}
