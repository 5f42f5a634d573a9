import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

/// Runs a ``StreamIngestor`` as a swift-service-lifecycle `Service` (inside FeatureServer): batches run one after
/// another (the Kafka client's blocking calls on a queue of their own), and on graceful shutdown the current batch is
/// finished and committed, then the consumer closes: a dynamic member leaves its group so its partitions move to the
/// other instances at once (a static one's wait for its session to expire).
public final class IngestionService: Service, Sendable {
    /// The ingester it runs.
    public let ingestor: StreamIngestor
    private let stopping = Atomic<Bool>(false)
    private let logger: Logger
    private let membership: (@Sendable (Bool) -> Void)?

    /// A service running `ingestor`, logging to `logger`; `membership` hears whether the consumer is a member of its
    /// group (at once, then on every change; checked every 250 ms): a server is not ready until it has joined.
    public init(ingestor: StreamIngestor, logger: Logger = Logger(label: "featurestore.ingest"),
                membership: (@Sendable (Bool) -> Void)? = nil) {
        self.ingestor = ingestor
        self.logger = logger
        self.membership = membership
    }

    /// Asks the service to stop as a graceful shutdown does: the batch in progress finishes and commits, the buffered
    /// offline events are written and the consumer leaves its group; ``run()`` then returns.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
    }

    /// Runs batches until graceful shutdown or cancellation, then finishes the current batch, writes the buffered
    /// offline events, commits and leaves the consumer group; see `Service.run()`.
    public func run() async throws {
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { [self] in
                    // Graceful shutdown: let the batch in progress finish and commit, then stop.
                    try? await gracefulShutdown()
                    stopping.store(true, ordering: .relaxed)
                }
                if let membership {
                    group.addTask { [self] in
                        var last: Bool? = nil
                        while !Task.isCancelled, !stopping.load(ordering: .relaxed) {
                            let now = await ingestor.isGroupMember()
                            if now != last {
                                membership(now)
                                if now, last != nil { logger.info("joined the consumer group") }
                                last = now
                            }
                            try? await Task.sleep(for: .milliseconds(250))
                        }
                    }
                }
                await ingestor.run { [self] in !stopping.load(ordering: .relaxed) }
                await ingestor.close()
                group.cancelAll()
            }
        } onCancel: {
            stopping.store(true, ordering: .relaxed)
        }
        logger.info("ingestion stopped", metadata: ["messages": "\(ingestor.statistics.snapshot.messages)"])
    }
}
