public import ServiceLifecycle

/// Reloads the served repository after `featurectl apply`, every `interval`, until the server shuts down.
public struct RepositoryReloader: Service {
    public let repository: ServedRepository
    public let interval: Duration

    public init(repository: ServedRepository, interval: Duration = .seconds(2)) {
        self.repository = repository
        self.interval = interval
    }

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
