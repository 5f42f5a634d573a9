import FeatureStoreCore
public import CoreMetrics
public import ServiceLifecycle

/// Exports the newest drift scores `featurectl drift` recorded in the registry as Prometheus gauges, read again
/// every `interval`: `featurestore_feature_drift{view,feature,metric}` (metric `psi`, `ks` or `js`) and
/// `featurestore_feature_drift_breached{view,feature}` (1 when a score is over its threshold). Columns that are no
/// feature of the repository are not exported.
public struct DriftGauges: Service {
    /// The repository whose registry is read.
    public let repository: ServedRepository
    /// Where the gauges go.
    public let factory: any MetricsFactory
    /// How often the registry is read.
    public let interval: Duration

    /// Gauges of `repository`'s drift scores, through `factory`, read every `interval` (default 30 s).
    public init(repository: ServedRepository, factory: any MetricsFactory, interval: Duration = .seconds(30)) {
        self.repository = repository
        self.factory = factory
        self.interval = interval
    }

    /// Records the newest scores now; returns how many features have one.
    @discardableResult
    public func update() -> Int {
        let store = repository.store
        guard let registry = try? store.openRegistry(create: false), let latest = try? registry.latestDrift() else { return 0 }
        // Columns that are features of the repository only (a log's request_id or date is no feature).
        for (d, _) in latest {
            guard let view = d.view, let feature = d.feature else { continue }
            for (metric, value) in [("psi", d.psi), ("ks", d.ks), ("js", d.js)] {
                guard let value, value.isFinite else { continue }
                CoreMetrics.Gauge(label: "featurestore_feature_drift", dimensions: [("view", view), ("feature", feature), ("metric", metric)],
                                  factory: factory).record(value)
            }
            CoreMetrics.Gauge(label: "featurestore_feature_drift_breached", dimensions: [("view", view), ("feature", feature)],
                              factory: factory).record(d.breaches.isEmpty ? 0 : 1)
        }
        return latest.count
    }

    /// Updates the gauges at start and every `interval` until a graceful shutdown.
    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            update()
            do {
                let interval = self.interval
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }
}
