public import FeatureStoreCore
import ErrorChain
import Foundation
public import CoreMetrics
public import Logging
import Synchronization

/// Feeds the online store from the topics of a repository's stream sources.
///
/// It reads through a ``StreamConsumer``: the transport of the sources' kind in production (Kafka, made from
/// `feature_store.yaml` by its ``StreamSourceKind``), an
/// ``InMemoryStreamConsumer`` in tests. Its parts: ``IngestionPlan`` (views, topics, decoders), the batch loop here
/// (decode, map, write, dead-letter, commit), ``OfflineEventLog`` (the offline copy), ``IngestionStatistics`` and
/// ``IngestionMetrics``.
///
/// With Kafka: one consumer in the project's consumer group, subscribed to every topic read by the chosen views (partitions are
/// shared with the other members, so running more instances scales out). Each poll of up to `batchSize` messages is
/// decoded, mapped per view through the source's field mapping and written through the online store's
/// event-time-ordered upsert (late events never overwrite newer values), or for an aggregated view folded into the
/// stream part of its tiles exactly once (``StreamTileWriter``: the partitions' positions recorded with the tiles); the
/// same events are buffered for the
/// offline copy (``OfflineEventLog``: Parquet files under the batch source, rolled by time or size). Offsets are
/// committed only once both sides hold the events (online at once, offline when the log rolls): at-least-once, and
/// a replay after a crash or a rebalance is harmless (the upsert is idempotent; offline duplicates are identical
/// rows). A message that cannot be ingested is counted by reason, logged with topic/partition/offset, sent to the dead-letter topic when one is configured (with
/// `x-featurestore-error` and `x-featurestore-reason` headers), and skipped: it never blocks its partition.
public final class StreamIngestor: Sendable {
    /// The definitions being ingested with, and the plan made from them (read by other threads: the catalog).
    private struct Current {
        var store: FeatureStore
        var plan: IngestionPlan
        var version: Int
    }
    private let current: Mutex<Current>
    /// Where newer definitions come from (a server's reloads); nil: the ones given at start, for good.
    private let definitions: (@Sendable () -> (version: Int, store: FeatureStore))?
    /// The views asked for (nil: every stream view), kept to plan again with new definitions.
    private let viewNames: [String]?

    /// The definitions ingested with now.
    public var store: FeatureStore { current.withLock { $0.store } }
    /// What the ingester has done so far, for logs, metrics and tests.
    public let statistics = IngestionStatistics()
    /// The topics consumed.
    public var topics: [String] { current.withLock { $0.plan.topics } }
    /// The topic of each view fed.
    public var topicOfView: [String: String] { current.withLock { $0.plan.topicOfView } }
    private let consumer: any StreamConsumer
    /// With an embedded broker in this process (`bootstrap_servers: embedded`): the address producers reach it at.
    public let embeddedAddress: String?
    /// What the connection keeps alive (an embedded broker).
    private let resources: [any Sendable]
    private let deadLetters: (any DeadLetterSink)?
    private let deadLetterTopic: String?
    private let logger: Logger
    private let batchSize: Int
    private let pollTimeout: Duration
    private let metrics: IngestionMetrics?

    /// What the batch loop owns: one batch at a time takes it out of ``loop`` and puts it back when done, so its state
    /// is never shared (a second caller while a batch runs is refused, not raced).
    struct LoopState {
        /// The offline copy's buffered events.
        var offline: OfflineEventLog
        /// The stream's part of aggregated views' tiles.
        var tileWriter: StreamTileWriter
        /// The partitions assigned at the last batch (a change means positions may have moved under us).
        var lastAssignment: Set<StreamPartition> = []
        var lastExpiry = ContinuousClock.now - .seconds(3600)
        /// Next offsets consumed and written online but not yet committed (waiting for the offline roll).
        var pending: [StreamPartition: Int64] = [:]
        /// Profiles of the rows written, per view and hour, recorded in the registry at each offline roll.
        var profiles = IngestProfiles()
        var lastLoggedConsumerError = ContinuousClock.now - .seconds(60)
    }
    /// The loop's state between batches; nil while a batch (or ``close()``) holds it.
    private let loop: Mutex<LoopState?>

    /// An ingester reading the streams as `feature_store.yaml` says, through the transport of the sources' kind (Kafka:
    /// a consumer in the project's group, subscribed to the topics of the chosen views, and a dead-letter producer
    /// when a dead-letter topic is set).
    ///
    /// - Parameters:
    ///   - views: the views to feed (names); nil: every online view with a stream source.
    ///   - bootstrapServers: overrides the transport's broker address (`kafka.bootstrap_servers`; tests, the embedded mock).
    ///   - instanceID: this instance's stable identity in the consumer group across restarts (``StreamConnectOptions/instanceID``).
    ///   - metrics: where to record ingestion metrics (FeatureServer's Prometheus registry); none when nil.
    ///   - definitions: the current definitions and their version, asked before each batch (a server passes its
    ///     reloads): when the version changes, the ingester writes its buffered events, then plans and maps with the new
    ///     definitions (new features, new views, new topics). Nil: `store`'s definitions for good.
    public convenience init(store: FeatureStore, views: [String]? = nil, bootstrapServers: String? = nil, instanceID: String? = nil, batchSize: Int = 5_000,
                            pollTimeout: Duration = .milliseconds(100), metrics: (any MetricsFactory)? = nil,
                            definitions: (@Sendable () -> (version: Int, store: FeatureStore))? = nil,
                            logger: Logger = Logger(label: "featurestore.ingest")) throws(IngestionError) {
        let plan = try IngestionPlan(store: store, views: views, logger: logger)
        let connection: StreamConnection
        do {
            connection = try plan.transport.connect(store: store, topics: plan.topics,
                                                    options: StreamConnectOptions(address: bootstrapServers, instanceID: instanceID), logger: logger)
        } catch {
            throw IngestionError("cannot connect to \(plan.transport.name)", cause: error)
        }
        try self.init(store: store, views: views, plan: plan, connection: connection, batchSize: batchSize,
                      pollTimeout: pollTimeout, metrics: metrics, definitions: definitions, logger: logger)
    }

    /// An ingester reading any ``StreamConsumer`` (an ``InMemoryStreamConsumer`` in tests), already subscribed to the
    /// topics of the chosen views.
    ///
    /// - Parameters:
    ///   - views: the views to feed (names); nil: every online view with a stream source.
    ///   - deadLetters: where bad messages go, with `deadLetterTopic`; nil: they are counted and logged only.
    public convenience init(store: FeatureStore, views: [String]? = nil, consumer: any StreamConsumer,
                            deadLetters: (any DeadLetterSink)? = nil, deadLetterTopic: String? = nil, batchSize: Int = 5_000,
                            metrics: (any MetricsFactory)? = nil, definitions: (@Sendable () -> (version: Int, store: FeatureStore))? = nil,
                            logger: Logger = Logger(label: "featurestore.ingest")) throws(IngestionError) {
        let connection = StreamConnection(consumer: consumer, deadLetters: deadLetters, deadLetterTopic: deadLetterTopic,
                                          consumerName: "featurestore-\(store.config.project)")
        try self.init(store: store, views: views, plan: IngestionPlan(store: store, views: views, logger: logger), connection: connection,
                      batchSize: batchSize, pollTimeout: .zero, metrics: metrics, definitions: definitions, logger: logger)
    }

    private init(store: FeatureStore, views: [String]?, plan: IngestionPlan, connection: StreamConnection, batchSize: Int, pollTimeout: Duration,
                 metrics: (any MetricsFactory)?, definitions: (@Sendable () -> (version: Int, store: FeatureStore))?,
                 logger: Logger) throws(IngestionError) {
        current = Mutex(Current(store: store, plan: plan, version: definitions?().version ?? 0))
        self.definitions = definitions
        self.viewNames = views
        self.consumer = connection.consumer
        self.deadLetters = connection.deadLetterTopic == nil ? nil : connection.deadLetters
        self.deadLetterTopic = connection.deadLetters == nil ? nil : connection.deadLetterTopic
        self.embeddedAddress = connection.embeddedAddress
        self.resources = connection.resources
        self.batchSize = batchSize
        self.pollTimeout = pollTimeout
        self.metrics = metrics.map(IngestionMetrics.init)
        self.logger = logger
        loop = Mutex(LoopState(offline: try Self.offlineLog(store: store, plan: plan),
                               tileWriter: StreamTileWriter(consumer: connection.consumerName, allowedLateness: store.config.streams.allowedLateness)))
    }

    private static func offlineLog(store: FeatureStore, plan: IngestionPlan) throws(IngestionError) -> OfflineEventLog {
        let streams = store.config.streams
        return try OfflineEventLog(store: store, routes: plan.routes.mapValues(\.mappers),
                                   rollInterval: streams.offlineRollInterval, rollBytes: streams.offlineRollBytes)
    }

    /// Takes up definitions applied since the last batch: writes the events buffered with the old ones (and commits
    /// them), then plans, maps and writes offline with the new ones, subscribing to new topics. Definitions that cannot
    /// be ingested (a view removed, a batch source gone) are logged and the previous ones kept.
    private func adoptNewDefinitions(_ state: inout LoopState, shouldContinue: () -> Bool) async {
        guard let definitions else { return }
        let (version, fresh) = definitions()
        let (known, oldTopics) = current.withLock { ($0.version, $0.plan.topics) }
        guard version != known else { return }
        do throws(IngestionError) {
            let plan = try IngestionPlan(store: fresh, views: viewNames, logger: logger)
            await settle(&state, force: true, shouldContinue: shouldContinue)
            guard state.offline.isEmpty else { return }  // the offline write failed: try again before the next batch
            let log = try Self.offlineLog(store: fresh, plan: plan)
            if plan.topics != oldTopics {
                let consumer = self.consumer, topics = plan.topics
                do { try await offPool { () throws(StreamError) in try consumer.subscribe(topics) } } catch {
                    throw IngestionError("cannot subscribe to the new topics", cause: error)
                }
            }
            state.offline = log
            current.withLock { $0 = Current(store: fresh, plan: plan, version: version) }
            logger.info("ingesting with newly applied definitions", metadata: ["version": "\(version)", "topics": "\(plan.topics.joined(separator: ","))"])
        } catch {
            current.withLock { $0.version = version }
            logger.error("the applied definitions cannot be ingested; still ingesting with the previous ones", metadata: ["error": "\(error)"])
        }
    }

    /// How long to wait before retry `attempt` of a failed write: 0.2 s doubling to 5 s.
    static func backoff(attempt: Int) -> TimeInterval {
        min(5, 0.1 * Double(1 << min(attempt, 6)))
    }

    /// The partitions this instance consumes now (empty until the group has assigned them).
    public var assignment: [StreamPartition] { consumer.assignment() }

    /// Whether the consumer is a member of its group now (see ``StreamConsumer/isGroupMember``), asked on the consumer's
    /// own queue (the transport's answer may block).
    public func isGroupMember() async -> Bool {
        let consumer = self.consumer
        return await offPool { consumer.isGroupMember }
    }

    /// What one batch did.
    public struct BatchReport: Sendable {
        /// Messages polled, good and bad.
        public var messages = 0
        /// Rows written online, all views together (for aggregated views, events merged into tiles).
        public var written = 0
        /// Messages that could not be ingested.
        public var bad = 0
    }

    /// Polls one batch, writes it and commits its offsets. Returns what it did (zero messages when the topics are idle).
    /// Only returns before committing when `shouldContinue` turns false while a write is being retried.
    ///
    /// One batch at a time: a call while another batch runs (or after ``close()``) does nothing and says so in the log.
    @discardableResult
    public func runOnce(shouldContinue: () -> Bool = { true }) async -> BatchReport {
        guard var state = loop.withLock({ $0.take() }) else {
            logger.error("runOnce called while another batch runs or after close: one batch at a time")
            return BatchReport()
        }
        let report = await batch(&state, shouldContinue: shouldContinue)
        loop.withLock { [state] in $0 = state }
        return report
    }

    /// One batch, with the loop's state: poll, decode and route, write online, append to the offline copy,
    /// dead-letter, and settle (roll and commit) when due.
    private func batch(_ state: inout LoopState, shouldContinue: () -> Bool) async -> BatchReport {
        await adoptNewDefinitions(&state, shouldContinue: shouldContinue)
        let (plan, store) = current.withLock { ($0.plan, $0.store) }
        let consumer = self.consumer, batchSize = self.batchSize, pollTimeout = self.pollTimeout
        let (messages, errors) = await offPool { consumer.poll(max: batchSize, timeout: pollTimeout) }
        if let first = errors.first, ContinuousClock.now - state.lastLoggedConsumerError > .seconds(10) {
            state.lastLoggedConsumerError = .now
            logger.warning("stream consumer error (retrying)", metadata: ["error": "\(first)", "count": "\(errors.count)"])
        }
        var report = BatchReport(messages: messages.count)
        guard !messages.isEmpty else {
            await settle(&state, force: false, shouldContinue: shouldContinue)
            return report
        }
        // Decoders fetch what the batch names and they have not seen (writer schemas); a failure is retried, not
        // blamed on the messages.
        var byTopic: [String: [StreamMessage]] = [:]
        if plan.routes.values.contains(where: { $0.decoder!.needsPreparation }) {
            for message in messages where plan.routes[message.topic]?.decoder!.needsPreparation == true {
                byTopic[message.topic, default: []].append(message)
            }
        }
        for (topic, batch) in byTopic.sorted(by: { $0.key < $1.key }) {
            var attempt = 0
            while true {
                do throws(StreamError) {
                    try await plan.routes[topic]!.decoder!.prepare(batch)
                    break
                } catch {
                    attempt += 1
                    logger.error("cannot prepare the decoder of a topic; retrying the batch (its offsets are not committed)",
                                 metadata: ["topic": "\(topic)", "error": "\(error)", "attempt": "\(attempt)"])
                    guard shouldContinue() else { return report }
                    try? await Task.sleep(for: .seconds(Self.backoff(attempt: attempt)))
                }
            }
        }
        // Stage 1, decode and route (pure): rows per view, tile events, the offline copy's events, bad messages.
        let decoded = plan.decode(messages)
        var rows = decoded.rows
        let mappersByView = decoded.mappersByView, next = decoded.next, bad = decoded.bad
        let events = decoded.events, tileEvents = decoded.tileEvents, tileNext = decoded.tileNext
        // Durable first: the online rows, then the dead letters; offsets last.
        var attempt = 0
        var written: [String: Int] = [:]
        var tiles: StreamTileWriter.Outcome?
        let assigned = Set(consumer.assignment())
        if assigned != state.lastAssignment {
            state.lastAssignment = assigned
            state.tileWriter.reload()
        }
        while true {
            do throws(OnlineStoreError) {
                let online = try await store.onlineStore()
                for (name, viewRows) in rows where written[name] == nil {
                    let mapper = mappersByView[name]!
                    written[name] = try await online.write(viewRows, to: mapper.table)
                }
                if tiles == nil && !tileNext.isEmpty {
                    let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
                    tiles = try await state.tileWriter.apply(tileEvents, next: tileNext, views: plan.aggregatedViews,
                                                      store: online, now: now)
                }
                break
            } catch {
                attempt += 1
                statistics.update { $0.writeRetries += 1 }
                logger.error("online write failed; retrying the batch (its offsets are not committed)",
                             metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                guard shouldContinue() else { return report }
                try? await Task.sleep(for: .seconds(Self.backoff(attempt: attempt)))
            }
        }
        let writtenAt = Int64(Date().timeIntervalSince1970 * 1_000_000)
        for event in events { state.offline.append(topic: event.topic, rows: event.rows, inputs: event.inputs) }
        for (name, viewRows) in rows { if let mapper = mappersByView[name] { state.profiles.add(viewRows, view: mapper.view) } }
        if let tiles {
            var tileRows = plan.aggregatedViews.map { _ in [OnlineRow]() }
            for event in tileEvents { tileRows[event.view].append(event.row) }
            for (mapper, viewRows) in zip(plan.aggregatedViews, tileRows) where !viewRows.isEmpty { rows[mapper.view.name] = viewRows }
            for (name, n) in tiles.applied { written[name] = n }
            for (mapper, viewRows) in zip(plan.aggregatedViews, tileRows) where !viewRows.isEmpty && written[mapper.view.name] == nil {
                written[mapper.view.name] = 0
            }
            let late = tiles.late.values.reduce(0, +), beforeCut = tiles.beforeCut.values.reduce(0, +)
            if late + beforeCut > 0 {
                logger.debug("events left to the next backfill", metadata: ["late": "\(late)", "before_cut": "\(beforeCut)"])
            }
            metrics?.tiles(tiles)
        }
        for (message, problem) in bad {
            logger.warning("bad message skipped", metadata: [
                "topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)",
                "reason": "\(problem.reason.rawValue)", "error": "\(ErrorChain.render(problem))",
            ])
            if let deadLetters, let deadLetterTopic {
                do {
                    var headers: [(String, [UInt8])] = [
                        ("x-featurestore-reason", Array(problem.reason.rawValue.utf8)),
                        ("x-featurestore-error", Array(ErrorChain.render(problem).utf8)),
                        ("x-featurestore-source", Array("\(message.topic)/\(message.partition)/\(message.offset)".utf8)),
                    ]
                    if let rule = problem.rule { headers.append(("x-featurestore-rule", Array(rule.utf8))) }
                    try deadLetters.sendDeadLetter(topic: deadLetterTopic, key: message.key, value: message.value, headers: headers)
                } catch {
                    logger.error("cannot produce to the dead-letter topic", metadata: ["topic": "\(deadLetterTopic)", "error": "\(error)"])
                }
            }
        }
        if deadLetters != nil && !bad.isEmpty {
            do { try deadLetters?.flush(timeout: .seconds(10)) } catch { logger.error("dead letters not confirmed", metadata: ["error": "\(error)"]) }
        }
        for (tp, offset) in next { state.pending[tp] = max(state.pending[tp] ?? 0, offset) }
        if let metrics {
            metrics.record(messages: messages, bad: bad.map(\.1.reason), rows: rows, written: written, writtenAt: writtenAt)
            metrics.violations(decoded.violations)
        }
        report.written = written.values.reduce(0, +)
        report.bad = bad.count
        statistics.update { s in
            s.messages += messages.count
            s.batches += 1
            s.deadLettered += deadLetters == nil ? 0 : bad.count
            for (_, problem) in bad { s.bad[problem.reason, default: 0] += 1 }
            for (view, v) in decoded.violations { s.violations["\(view).\(v.feature).\(v.rule.rawValue)", default: 0] += 1 }
            for (name, viewRows) in rows {
                s.rowsReceived[name, default: 0] += viewRows.count
                s.rowsWritten[name, default: 0] += written[name] ?? 0
                var newest = s.newestEvent[name] ?? .min
                for row in viewRows where row.eventTimestamp > newest { newest = row.eventTimestamp }
                s.newestEvent[name] = newest
                // Freshness: up to 1,000 rows of each batch, evenly spaced; the last 10,000 samples kept.
                var samples = s.freshness[name] ?? []
                for i in stride(from: 0, to: viewRows.count, by: max(1, viewRows.count / 1_000)) {
                    samples.append(writtenAt - viewRows[i].eventTimestamp)
                }
                if samples.count > 10_000 { samples.removeFirst(samples.count - 10_000) }
                s.freshness[name] = samples
            }
            for (tp, offset) in next { s.consumed[tp] = max(s.consumed[tp] ?? 0, offset) }
            if let tiles {
                for (name, n) in tiles.late { s.lateEvents[name, default: 0] += n }
                for (name, n) in tiles.beforeCut { s.beforeCutEvents[name, default: 0] += n }
                s.redelivered += tiles.redelivered
            }
        }
        await expireTiles(&state, plan: plan, store: store)
        await settle(&state, force: false, shouldContinue: shouldContinue)
        return report
    }

    /// Keeps the profiles of the rows written since the last roll in the registry (a failure is logged: profiles
    /// never hold ingestion back).
    private func recordProfiles(_ state: inout LoopState) {
        guard !state.profiles.isEmpty else { return }
        let profiles = state.profiles.take()
        do {
            let registry = try store.openRegistry()
            for profile in profiles { try registry.recordProfile(profile) }
        } catch {
            logger.warning("stream profiles not recorded", metadata: ["error": "\(error)"])
        }
    }

    /// Writes the offline files when they are due (or when `force`), then commits every offset whose events are
    /// now held on both sides. A failed offline write is retried with the offsets uncommitted (consumption waits:
    /// back-pressure rather than loss) until it succeeds or `shouldContinue` turns false.
    private func settle(_ state: inout LoopState, force: Bool, shouldContinue: () -> Bool) async {
        guard !state.pending.isEmpty || !state.offline.isEmpty else { return }
        if !state.offline.isEmpty {
            guard force || state.offline.shouldRoll() else { return }
            var attempt = 0
            while true {
                do throws(IngestionError) {
                    let files = try await state.offline.roll()
                    metrics?.offline(files)
                    recordProfiles(&state)
                    statistics.update { s in
                        s.offlineFiles += files.count
                        for file in files { s.offlineRows[file.source, default: 0] += file.rows }
                    }
                    break
                } catch {
                    attempt += 1
                    statistics.update { $0.offlineRetries += 1 }
                    logger.error("offline write failed; retrying (the events' offsets are not committed)",
                                 metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                    guard shouldContinue() else { return }
                    try? await Task.sleep(for: .seconds(Self.backoff(attempt: attempt)))
                }
            }
        }
        guard !state.pending.isEmpty else { return }
        do {
            let consumer = self.consumer, next = state.pending
            try await offPool { () throws(StreamError) in try consumer.commit(next) }
            state.pending = [:]
            let done = next
            statistics.update { s in for (tp, offset) in done { s.committed[tp] = offset } }
        } catch {
            // The events are held on both sides; the next commit (or a replay, which is harmless) covers these offsets.
            logger.warning("offset commit failed", metadata: ["error": "\(error)"])
        }
    }

    /// Deletes, every 5 minutes, the tiles of aggregated views that no lookup can need any more (a scan of the
    /// tiles: kept rare, so writes need no second index).
    private func expireTiles(_ state: inout LoopState, plan: IngestionPlan, store: FeatureStore) async {
        guard !plan.aggregatedViews.isEmpty, ContinuousClock.now - state.lastExpiry >= .seconds(300) else { return }
        state.lastExpiry = .now
        do throws(OnlineStoreError) {
            let deleted = try await state.tileWriter.expire(plan.aggregatedViews, store: try await store.onlineStore(),
                                                      now: Int64(Date().timeIntervalSince1970 * 1_000_000))
            statistics.update { $0.expiredTiles += deleted }
        } catch {
            logger.warning("cannot expire old tiles (trying again in 5 minutes)", metadata: ["error": "\(error)"])
        }
    }

    /// Runs batches until `shouldContinue` returns false (checked between batches, at least every poll timeout).
    public func run(while shouldContinue: () -> Bool) async {
        let plan = current.withLock { $0.plan }
        logger.info("ingesting", metadata: ["topics": "\(plan.topics.joined(separator: ","))", "views": "\(plan.routes.values.flatMap { $0.mappers.map(\.view.name) }.sorted().joined(separator: ","))"])

        var lastLagUpdate = ContinuousClock.now - .seconds(60)
        while shouldContinue() {
            await runOnce(shouldContinue: shouldContinue)
            if ContinuousClock.now - lastLagUpdate >= .seconds(5) {
                lastLagUpdate = .now
                let current = await lag()
                statistics.update { $0.lag = current }
                metrics?.lag(current)
            }
        }
    }

    /// Writes the buffered offline events, commits, and leaves the consumer group (partitions move to the other
    /// instances); the ingestor cannot be used after.
    public func close() async {
        if var state = loop.withLock({ $0.take() }) {
            await settle(&state, force: true, shouldContinue: { false })
        } else {
            logger.error("close called while a batch runs or after close: the buffered offline events were not written")
        }
        let consumer = self.consumer
        await offPool { consumer.close() }
    }

    /// Consumer lag per assigned partition: the high watermark minus what this instance has written online (or, when
    /// more, the group's committed offset).
    public func lag() async -> [StreamPartition: Int64] {
        let partitions = assignment
        let snapshot = statistics.snapshot
        let consumer = self.consumer
        let committed = (try? await offPool { () throws(StreamError) in try consumer.committed(partitions, timeout: .seconds(5)) }) ?? snapshot.committed
        var out: [StreamPartition: Int64] = [:]
        for tp in partitions {
            // Events written online count as consumed even while their offsets wait for the offline roll.
            let position = max(committed[tp] ?? 0, snapshot.consumed[tp] ?? 0)
            if let high = try? await offPool({ () throws(StreamError) in try consumer.highWatermark(tp, timeout: .seconds(5)) }) { out[tp] = max(0, high - position) }
        }
        return out
    }
}

/// The queue where the stream consumer's blocking calls run (poll waits up to its timeout; commits and offset queries wait
/// on the broker), so that they never hold a thread of Swift's cooperative pool.
private let consumerQueue = DispatchQueue(label: "featurestore.ingest.consumer")

/// Runs a blocking call on ``consumerQueue`` and awaits its result.
func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        consumerQueue.async { continuation.resume(returning: body()) }
    }
}

/// Runs a blocking call that throws on ``consumerQueue`` and awaits its result.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws(StreamError) -> T) async throws(StreamError) -> T {
    let result: Result<T, StreamError> = await offPool { Result { () throws(StreamError) in try body() } }
    return try result.get()
}
