import Columnar
public import CoreMetrics
public import FeatureStoreCore
import Foundation
public import Logging
public import ServiceLifecycle
import StreamIngestion
import Synchronization

/// The skew watch: FeatureServer samples a share of a service's lookups (`skew_watch: {sample_rate, delay}` on the
/// service) and, off the request path once `delay` has passed (time for the offline data of that moment to land),
/// computes the same features with the offline engine at the lookup's time, the check `featurectl verify` makes,
/// continuously. Every served value that differs is counted per view and feature
/// (`featurestore_skew_checked_total{view,feature}`, `featurestore_skew_mismatches_total{view,feature}`), logged with
/// the entity and both values, and kept (the last 100) for the catalog.
public final class SkewWatch: Service, Sendable {
    struct Pending: Sendable {
        var service: String
        var store: FeatureStore
        var at: Int64
        var due: ContinuousClock.Instant
        var entities: [String: [OnlineValue]]
        var keyTypes: [String: ScalarType]
        var context: [String: [OnlineValue]]
        var result: OnlineFeatures
        var fullFeatureNames: Bool
    }

    /// A served value that differs from the training set's at the same time.
    public struct Mismatch: Sendable {
        /// The service looked up.
        public var service: String
        /// The view and feature.
        public var view: String
        /// The feature.
        public var feature: String
        /// The entity, join key -> value as text.
        public var entity: [String: String]
        /// The value served and the value computed offline, as text.
        public var served: String
        /// The value the offline engine computes at the same time.
        public var offline: String
        /// The lookup's time (microseconds).
        public var at: Int64
    }

    struct State {
        var pending: [Pending] = []
        var checked: [String: Int] = [:]
        var mismatched: [String: Int] = [:]
        var recent: [Mismatch] = []
        var failures = 0
        var pendingRows = 0
    }

    private let state = Mutex(State())
    private let counter = Atomic<UInt64>(0)
    private let maxPending: Int
    private let interval: Duration
    private let logger: Logger
    private let factory: (any MetricsFactory)?

    /// A watch holding at most `maxPending` entity rows of sampled lookups, checking due ones every `interval`.
    public init(maxPending: Int = 10_000, interval: Duration = .seconds(5), logger: Logger = Logger(label: "featurestore.skew"),
                metrics: (any MetricsFactory)? = nil) {
        self.maxPending = maxPending
        self.interval = interval
        self.logger = logger
        self.factory = metrics
    }

    /// Values checked and values that differed so far, per `view:feature`.
    public var counts: (checked: [String: Int], mismatched: [String: Int]) { state.withLock { ($0.checked, $0.mismatched) } }

    /// Sampled lookups that could not be checked (the offline engine failed; logged and counted in
    /// `featurestore_skew_check_failures_total`).
    public var failures: Int { state.withLock { $0.failures } }

    /// The last mismatches found (newest last, at most 100).
    public var recentMismatches: [Mismatch] { state.withLock { $0.recent } }

    /// Offers a served lookup (sampled at the service's rate); never blocks.
    /// Offers a served lookup made at `at` (microseconds; sampled at the service's rate); never blocks.
    public func offer(service: FeatureService, store: FeatureStore, entities: [String: [OnlineValue]], keyTypes: [String: ScalarType],
                      context: [String: [OnlineValue]], result: OnlineFeatures, at: Int64, fullFeatureNames: Bool) {
        guard let watch = service.skewWatch else { return }
        if watch.sampleRate < 1 {
            let z = FeatureLogger.mix(counter.add(1, ordering: .relaxed).newValue)
            guard Double(z >> 11) / Double(1 << 53) < watch.sampleRate else { return }
        }
        let due = ContinuousClock.now + .seconds(watch.delay.seconds)
        let rows = result.entityCount
        state.withLock { s in
            guard s.pendingRows + rows <= maxPending else { return }  // memory is bounded by rows, not lookups
            s.pendingRows += rows
            s.pending.append(Pending(service: service.name, store: store, at: at, due: due, entities: entities, keyTypes: keyTypes,
                                     context: context, result: result, fullFeatureNames: fullFeatureNames))
        }
    }

    /// Checks every sampled lookup that is due (all of them with `all`); returns the mismatches found.
    @discardableResult
    public func check(all: Bool = false) async -> [Mismatch] {
        let now = ContinuousClock.now
        let due = state.withLock { s -> [Pending] in
            let ready = s.pending.filter { all || $0.due <= now }
            s.pending.removeAll { all || $0.due <= now }
            s.pendingRows -= ready.reduce(0) { $0 + $1.result.entityCount }
            return ready
        }
        var found: [Mismatch] = []
        for p in due {
            // A shutdown does not wait for the checks (the feature log behind this service still has to write).
            if Task.isShuttingDownGracefully { break }
            do {
                found += try await compare(p)
            } catch {
                state.withLock { $0.failures += 1 }
                if let factory { CoreMetrics.Counter(label: "featurestore_skew_check_failures_total", factory: factory).increment() }
                logger.warning("skew check not made", metadata: ["service": "\(p.service)", "error": "\(error)"])
            }
        }
        return found
    }

    /// One lookup computed again offline at its time, compared value by value.
    private func compare(_ p: Pending) async throws -> [Mismatch] {
        let n = p.result.entityCount
        var columns: [(String, Column)] = []
        for name in p.entities.keys.sorted() {
            columns.append((name, try OfflineColumns.column(p.entities[name]!, as: ValueType.scalar(p.keyTypes[name] ?? .string).columnType)))
        }
        columns.append(("event_timestamp", Column(timestamps: Array(repeating: p.at, count: n))))
        let fields = Dictionary(p.store.registry.onDemandViews.flatMap(\.request).map { ($0.name, $0.type) }) { a, _ in a }
        for (name, values) in p.context.sorted(by: { $0.key < $1.key }) {
            let spread = values.count == 1 && n > 1 ? Array(repeating: values[0], count: n) : values
            columns.append((name, try OfflineColumns.column(spread, as: ValueType.scalar(fields[name] ?? .string).columnType)))
        }
        let training = try await p.store.joinFeatures(entities: .table(try Table(columns)), features: .service(p.service),
                                                      options: JoinOptions(fullFeatureNames: p.fullFeatureNames))
        let mismatches = FeatureStore.servedMismatches(online: p.result, offline: training) { i in
            Dictionary(uniqueKeysWithValues: p.entities.map { ($0.key, "\($0.value[i])") })
        }
        var out: [Mismatch] = []
        state.withLock { s in
            // Only columns the training set has were compared (it names them as the lookup did).
            for column in p.result.columns where training.column(named: column.name) != nil { s.checked["\(column.view):\(column.feature)", default: 0] += n }
            for m in mismatches {
                s.mismatched["\(m.view):\(m.mismatch.feature)", default: 0] += 1
                let found = Mismatch(service: p.service, view: m.view, feature: m.mismatch.feature, entity: m.mismatch.entity,
                                     served: m.mismatch.online, offline: m.mismatch.offline, at: p.at)
                out.append(found)
                s.recent.append(found)
            }
            if s.recent.count > 100 { s.recent.removeFirst(s.recent.count - 100) }
        }
        if let factory {
            for column in p.result.columns where training.column(named: column.name) != nil {
                CoreMetrics.Counter(label: "featurestore_skew_checked_total", dimensions: [("view", column.view), ("feature", column.feature)], factory: factory)
                    .increment(by: n)
            }
            for m in mismatches {
                CoreMetrics.Counter(label: "featurestore_skew_mismatches_total", dimensions: [("view", m.view), ("feature", m.mismatch.feature)], factory: factory)
                    .increment()
            }
        }
        for m in out {
            logger.warning("training/serving skew", metadata: [
                "service": "\(m.service)", "view": "\(m.view)", "feature": "\(m.feature)", "entity": "\(m.entity)",
                "served": "\(m.served)", "offline": "\(m.offline)", "at": "\(m.at)",
            ])
        }
        return out
    }

    /// Checks due lookups every `interval` until a graceful shutdown.
    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let interval = self.interval
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            await check()
        }
    }
}
