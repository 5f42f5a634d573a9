public import FeatureStoreCore
import Synchronization

/// Counts of what ingestion did, shared with whoever reports it (logs, metrics, tests).
public final class IngestionStatistics: Sendable {
    /// The counts at one moment: totals since the ingester started unless said otherwise.
    public struct Snapshot: Sendable {
        /// Messages read, good and bad.
        public var messages = 0
        /// Rows mapped from good messages, per view (events of aggregated views included).
        public var rowsReceived: [String: Int] = [:]
        /// Rows written online, per view: rows that replaced or added a stored row; for an aggregated view, events
        /// merged into tiles.
        public var rowsWritten: [String: Int] = [:]
        /// Bad messages, per reason.
        public var bad: [BadMessageReason: Int] = [:]
        /// Bad messages sent to the dead-letter topic (0 without one; sends that failed, and were logged, included).
        public var deadLettered = 0
        /// Committed next offset per partition.
        public var committed: [StreamPartition: Int64] = [:]
        /// Consumed (written online) next offset per partition.
        public var consumed: [StreamPartition: Int64] = [:]
        /// Events appended to the offline copy, per batch source, and the files written.
        public var offlineRows: [String: Int] = [:]
        /// Files written to the offline copy, all batch sources together.
        public var offlineFiles = 0
        /// Failed offline writes (retried with the offsets uncommitted).
        public var offlineRetries = 0
        /// Consumer lag per partition, as last measured by `run` (every 5 s).
        public var lag: [StreamPartition: Int64] = [:]
        /// Newest event time written online per view (microseconds).
        public var newestEvent: [String: Int64] = [:]
        /// Freshness samples (time written online - event time, microseconds) of the last batches, per view: up to
        /// 1,000 rows of each batch, the last 10,000 samples.
        public var freshness: [String: [Int64]] = [:]
        /// Events of aggregated views older than the allowed lateness, per view: in the offline copy, left to the next backfill.
        public var lateEvents: [String: Int] = [:]
        /// Events of aggregated views before a cut, arrived after the cut was set, per view: left to the next backfill.
        public var beforeCutEvents: [String: Int] = [:]
        /// Events of aggregated views already in their tiles (redelivered after a crash or rebalance), skipped.
        public var redelivered = 0
        /// Tiles deleted because no lookup can need them any more.
        public var expiredTiles = 0
        /// Batches of at least one message processed.
        public var batches = 0
        /// Failed online writes, each retried with the batch's offsets uncommitted.
        public var writeRetries = 0
        /// Expectations broken, per `view.feature.rule`: by rows written (policy warn) and dead-lettered events alike.
        public var violations: [String: Int] = [:]
    }

    private let state = Mutex(Snapshot())
    /// Statistics with every count zero.
    public init() {}
    /// A copy of the counts now.
    public var snapshot: Snapshot { state.withLock { $0 } }
    func update(_ body: (inout Snapshot) -> Void) { state.withLock { body(&$0) } }
}
