public import FeatureStoreCore
import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

/// Keeps a server's stream ingestion in step with the definitions it serves, without restarts: after an apply, a
/// first stream view starts ingestion, the last one removed stops it (its batch committed, the consumer leaving its
/// group), and a changed transport block (`kafka:` brokers, group, properties) restarts it with the new settings.
/// Views added, changed or removed while others remain are taken up by the running ingester itself (``StreamIngestor``
/// follows `definitions`), which resubscribes with positions kept: the group's committed offsets.
public final class IngestionSupervisor: Service, Sendable {
    /// What the supervisor needs to make an ingester for a store: the store, and the instance's callbacks.
    public typealias Factory = @Sendable (FeatureStore) throws(IngestionError) -> StreamIngestor

    private let definitions: @Sendable () -> (version: Int, store: FeatureStore)
    private let make: Factory
    private let membership: (@Sendable (Bool?) -> Void)?
    private let interval: Duration
    private let retryAfter: Duration
    private let logger: Logger
    private let running = Mutex<IngestionService?>(nil)
    private let initial: Mutex<StreamIngestor?>

    /// - Parameters:
    ///   - definitions: the served definitions and their version (a server's snapshots).
    ///   - interval: how often they are checked.
    ///   - retryAfter: how long after a failed start (the brokers' settings refused, the definitions not ingestible)
    ///     the same definitions are tried again (a new apply is tried at once).
    ///   - membership: hears whether the consumer is a member of its group (nil: no ingestion runs, nothing to wait for).
    ///   - initial: an ingester made at start-up for the current definitions (so a start that cannot ingest fails at
    ///     once, not in the log); the first check runs it instead of making one.
    ///   - make: makes an ingester for a store whose stream views are to be ingested.
    public init(definitions: @escaping @Sendable () -> (version: Int, store: FeatureStore), interval: Duration = .seconds(1),
                retryAfter: Duration = .seconds(30), logger: Logger = Logger(label: "featurestore.ingest"), membership: (@Sendable (Bool?) -> Void)? = nil,
                initial: StreamIngestor? = nil, make: @escaping Factory) {
        self.initial = Mutex(initial)
        self.definitions = definitions
        self.make = make
        self.membership = membership
        self.interval = interval
        self.retryAfter = retryAfter
        self.logger = logger
    }

    /// The ingester running now (nil when no stream view is ingested).
    public var ingestor: StreamIngestor? { running.withLock { $0?.ingestor } }

    /// Makes the first ingester now, for the current definitions, when they have stream views to ingest (nil when
    /// they have none); for ``init(definitions:interval:retryAfter:logger:membership:initial:make:)``'s `initial`.
    public static func firstIngestor(store: FeatureStore, make: Factory) throws(IngestionError) -> StreamIngestor? {
        guard wanted(store) != nil else { return nil }
        return try make(store)
    }

    /// The transport the definitions need, with its connection settings; nil when no online view reads a stream whose
    /// transport the settings configure.
    static func wanted(_ store: FeatureStore) -> (transport: String, settings: [String: String])? {
        let registry = store.registry
        for view in registry.featureViews where view.online {
            guard let source = registry.source(named: view.source), source.isStream,
                  let kind = store.kinds.sources[source.kind] as? any StreamSourceKind, kind.isConfigured(store.config) else { continue }
            return (kind.name, kind.connectionSettings(store.config))
        }
        return nil
    }

    /// An ingestion service for `store`'s stream views (the initial ingester the first time), now running.
    private func start(_ store: FeatureStore) -> Result<IngestionService, IngestionError> {
        let ingestor: StreamIngestor
        if let first = initial.withLock({ $0.take() }) {
            ingestor = first
        } else {
            do throws(IngestionError) { ingestor = try make(store) } catch { return .failure(error) }
        }
        var hear: (@Sendable (Bool) -> Void)? = nil
        if let membership { hear = { member in membership(member) } }
        let service = IngestionService(ingestor: ingestor, logger: logger, membership: hear)
        running.withLock { $0 = service }
        return .success(service)
    }

    /// Checks the definitions every interval, starting, stopping and restarting ingestion as they say, until a
    /// graceful shutdown, which stops the running ingestion as ``IngestionService`` does.
    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            var active: (service: IngestionService, wanted: [String: String], transport: String)? = nil
            var failed: (version: Int, at: ContinuousClock.Instant)? = nil
            var finished = false
            while !finished {
                let (version, store) = definitions()
                let wanted = Self.wanted(store)
                if let current = active, wanted?.transport != current.transport || wanted?.settings != current.wanted {
                    logger.info(wanted == nil ? "no stream view left to ingest: stopping ingestion" : "stream transport settings changed: restarting ingestion")
                    current.service.stop()
                    _ = await group.next()
                    running.withLock { $0 = nil }
                    active = nil
                }
                if wanted == nil, let unused = initial.withLock({ $0.take() }) { await unused.close() }
                let retry = failed.map { $0.version != version || ContinuousClock.now - $0.at >= retryAfter } ?? true
                if active == nil, let wanted, retry {
                    switch start(store) {
                    case .success(let service):
                        active = (service, wanted.settings, wanted.transport)
                        if failed != nil { logger.notice("stream ingestion started after an earlier failure") }
                        failed = nil
                        group.addTask { try? await service.run() }
                    case .failure(let error):
                        failed = (version, .now)
                        logger.error("stream ingestion cannot start; trying again after the retry interval or the next apply",
                                     metadata: ["error": "\(error)", "retry_after": "\(retryAfter)"])
                    }
                }
                // No ingestion runs (none wanted, or it could not start): nothing to wait for.
                if active == nil { membership?(nil) }
                // A plain sleep, checked after: a shutdown is noticed within one interval, with no extra tasks per
                // check (cancelWhenGracefulShutdown adds two and an actor).
                do { try await Task.sleep(for: interval) } catch { finished = true }
                if Task.isShuttingDownGracefully || Task.isCancelled { finished = true }
            }
            active?.service.stop()
            await group.waitForAll()
            running.withLock { $0 = nil }
            // An ingester made at start-up for definitions applied away before it ran: its consumer is closed too.
            if let unused = initial.withLock({ $0.take() }) { await unused.close() }
        }
    }
}
