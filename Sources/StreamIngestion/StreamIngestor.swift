import FeatureStore
import Foundation
import JSONCoding
import Kafka
import CoreMetrics
import Logging
import Synchronization

/// The ingestion cannot start (no Kafka settings, no stream views, an unknown view, a client that cannot be made).
public struct IngestionError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Counts of what ingestion did, shared with whoever reports it (logs, metrics, tests).
public final class IngestionStatistics: Sendable {
    public struct Snapshot: Sendable {
        public var messages = 0
        public var rowsReceived: [String: Int] = [:]
        public var rowsWritten: [String: Int] = [:]
        public var bad: [BadMessageReason: Int] = [:]
        public var deadLettered = 0
        /// Committed next offset per partition.
        public var committed: [TopicPartition: Int64] = [:]
        /// Consumed (written online) next offset per partition.
        public var consumed: [TopicPartition: Int64] = [:]
        /// Events appended to the offline copy, per batch source, and the files written.
        public var offlineRows: [String: Int] = [:]
        public var offlineFiles = 0
        /// Failed offline writes (retried with the offsets uncommitted).
        public var offlineRetries = 0
        /// Consumer lag per partition, as last measured by `run` (every 5 s).
        public var lag: [TopicPartition: Int64] = [:]
        /// Newest event time written online per view (microseconds).
        public var newestEvent: [String: Int64] = [:]
        /// Freshness samples (time written online - event time, microseconds) of the last batches, per view.
        public var freshness: [String: [Int64]] = [:]
        public var batches = 0
        public var writeRetries = 0
    }

    private let state = Mutex(Snapshot())
    public init() {}
    public var snapshot: Snapshot { state.withLock { $0 } }
    func update(_ body: (inout Snapshot) -> Void) { state.withLock { body(&$0) } }
}

/// Feeds the online store from the Kafka topics of a repository's stream sources.
///
/// One consumer in the project's consumer group, subscribed to every topic read by the chosen views (partitions are
/// shared with the other members, so running more instances scales out). Each poll of up to `batchSize` messages is
/// decoded, mapped per view through the source's field mapping and written through the online store's
/// event-time-ordered upsert (late events never overwrite newer values); the same events are buffered for the
/// offline copy (``OfflineEventLog``: Parquet files under the batch source, rolled by time or size). Offsets are
/// committed only once both sides hold the events (online at once, offline when the log rolls): at-least-once, and
/// a replay after a crash or a rebalance is harmless (the upsert is idempotent; offline duplicates are identical rows). A message that cannot be ingested is
/// counted by reason, logged with topic/partition/offset, sent to the dead-letter topic when one is configured (with
/// `x-featurestore-error` and `x-featurestore-reason` headers), and skipped: it never blocks its partition.
public final class StreamIngestor: @unchecked Sendable {
    struct Route {
        var mappers: [EventMapper]
        var decoder: any MessageDecoder
        /// The message fields the mappers read (the decoder may skip the rest), and where each mapper's are.
        var selection = JSONFieldSelection([])
        var slots: [EventMapper.Slots] = []
    }

    public let store: FeatureStore
    public let statistics = IngestionStatistics()
    /// The topics consumed.
    public let topics: [String]
    /// The topic of each view fed.
    public let topicOfView: [String: String]
    private let routes: [String: Route]
    private let consumer: KafkaConsumer
    /// With `bootstrap_servers: embedded`: librdkafka's mock cluster, in this process, holding the topics.
    public let embeddedCluster: KafkaMockCluster?
    private let deadLetters: KafkaProducer?
    private let deadLetterTopic: String?
    private let logger: Logger
    private let batchSize: Int
    private let pollTimeout: Duration
    private let metrics: IngestionMetrics?
    private let offline: OfflineEventLog
    /// Next offsets consumed and written online but not yet committed (waiting for the offline roll).
    private var pending: [TopicPartition: Int64] = [:]
    // Used only by the thread that runs the ingestor.
    private var lastLoggedConsumerError = ContinuousClock.now - .seconds(60)
    private var lastLagUpdate = ContinuousClock.now - .seconds(60)

    /// - Parameters:
    ///   - views: the views to feed (names); nil: every online view with a Kafka source.
    ///   - bootstrapServers: overrides `kafka.bootstrap_servers` (tests, the embedded mock).
    ///   - metrics: where to record ingestion metrics (FeatureServer's Prometheus registry); none when nil.
    public init(store: FeatureStore, views: [String]? = nil, bootstrapServers: String? = nil, batchSize: Int = 5_000,
                pollTimeout: Duration = .milliseconds(100), metrics: (any MetricsFactory)? = nil,
                logger: Logger = Logger(label: "featurestore.ingest")) throws(IngestionError) {
        self.store = store
        self.metrics = metrics.map(IngestionMetrics.init)
        self.logger = logger
        self.batchSize = batchSize
        self.pollTimeout = pollTimeout
        let registry = store.registry
        guard let kafka = store.config.kafka else {
            throw IngestionError("feature_store.yaml has no 'kafka' section (kafka: {bootstrap_servers: host:port})")
        }
        var chosen: [FeatureView] = []
        if let views {
            for name in views {
                guard let view = registry.featureView(named: name) else {
                    throw IngestionError("no feature view '\(name)'\(Suggestion.hint(for: name, in: registry.featureViews.map(\.name)))")
                }
                guard let source = registry.source(named: view.source), case .kafka = source.kind else {
                    throw IngestionError("feature view '\(name)' does not read a kafka source (its source is '\(view.source)')")
                }
                chosen.append(view)
            }
        } else {
            chosen = registry.featureViews.filter { view in
                guard view.online, let source = registry.source(named: view.source), case .kafka = source.kind else { return false }
                return true
            }
        }
        guard !chosen.isEmpty else { throw IngestionError("no online feature view reads a kafka source: nothing to ingest") }
        var routes: [String: Route] = [:]
        for view in chosen {
            guard let source = registry.source(named: view.source), case .kafka(let topic, let format, _) = source.kind else { continue }
            let mapper = EventMapper(view: view, source: source, joinKeys: registry.joinKeys(of: view))
            routes[topic, default: Route(mappers: [], decoder: format.decoder)].mappers.append(mapper)
        }
        for (topic, route) in routes {
            let selection = JSONFieldSelection(route.mappers.flatMap(\.fieldsRead))
            routes[topic]?.selection = selection
            routes[topic]?.slots = route.mappers.map { $0.slots(in: selection) }
        }
        self.routes = routes
        topics = routes.keys.sorted()
        var topicOfView: [String: String] = [:]
        for (topic, route) in routes { for mapper in route.mappers { topicOfView[mapper.view.name] = topic } }
        self.topicOfView = topicOfView
        offline = try OfflineEventLog(store: store, routes: routes.mapValues(\.mappers),
                                      rollInterval: kafka.offlineRollInterval, rollBytes: kafka.offlineRollBytes)
        var properties = kafka.properties
        let servers = bootstrapServers ?? kafka.bootstrapServers
        if servers == KafkaConfig.embedded {
            // The embedded default: a mock cluster on loopback speaking the real protocol (in memory, gone at exit).
            do {
                let cluster = try KafkaMockCluster(brokers: 1)
                for topic in routes.keys.sorted() { try cluster.createTopic(topic, partitions: 3) }
                if let dead = kafka.deadLetterTopic { try cluster.createTopic(dead, partitions: 1) }
                embeddedCluster = cluster
                properties["bootstrap.servers"] = cluster.bootstrapServers
                logger.notice("embedded Kafka (librdkafka mock cluster) listening", metadata: [
                    "bootstrap_servers": "\(cluster.bootstrapServers)", "topics": "\(routes.keys.sorted().joined(separator: ","))"])
            } catch {
                throw IngestionError("cannot start the embedded Kafka cluster: \(error.message)")
            }
        } else {
            embeddedCluster = nil
            properties["bootstrap.servers"] = servers
        }
        properties["group.id"] = kafka.group(project: store.config.project)
        properties["client.id"] = properties["client.id"] ?? "featurestore-ingest"
        // Freshness first: a fetch returns after at most 50 ms when a partition is quiet (librdkafka waits 500 ms).
        properties["fetch.wait.max.ms"] = properties["fetch.wait.max.ms"] ?? "50"
        do {
            consumer = try KafkaConsumer(properties: properties)
            try consumer.subscribe(topics)
            deadLetterTopic = kafka.deadLetterTopic
            if kafka.deadLetterTopic != nil {
                var producerProperties = kafka.properties
                producerProperties["bootstrap.servers"] = properties["bootstrap.servers"]
                deadLetters = try KafkaProducer(properties: producerProperties)
            } else {
                deadLetters = nil
            }
        } catch {
            throw IngestionError("kafka: \(error.message)")
        }
    }

    /// The partitions this instance consumes now (empty until the group has assigned them).
    public var assignment: [TopicPartition] { consumer.assignment() }

    /// What one batch did.
    public struct BatchReport: Sendable {
        public var messages = 0
        public var written = 0
        public var bad = 0
    }

    /// Polls one batch, writes it and commits its offsets. Returns what it did (zero messages when the topics are idle).
    /// Only returns before committing when `shouldContinue` turns false while a write is being retried.
    @discardableResult
    public func runOnce(shouldContinue: () -> Bool = { true }) -> BatchReport {
        let (messages, errors) = consumer.poll(max: batchSize, timeout: pollTimeout)
        if let first = errors.first, ContinuousClock.now - lastLoggedConsumerError > .seconds(10) {
            lastLoggedConsumerError = .now
            logger.warning("kafka consumer error (retrying)", metadata: ["error": "\(first)", "count": "\(errors.count)"])
        }
        var report = BatchReport(messages: messages.count)
        guard !messages.isEmpty else {
            settle(force: false, shouldContinue: shouldContinue)
            return report
        }
        var rows: [String: [OnlineRow]] = [:]
        var mappersByView: [String: EventMapper] = [:]
        var next: [TopicPartition: Int64] = [:]
        var bad: [(KafkaMessage, BadMessage)] = []
        var events: [(topic: String, rows: [OnlineRow])] = []
        events.reserveCapacity(messages.count)
        for message in messages {
            next[message.topicPartition] = max(next[message.topicPartition] ?? 0, message.offset + 1)
            do throws(BadMessage) {
                guard let route = routes[message.topic] else { throw BadMessage(.unknownView, "no feature view reads topic \(message.topic)") }
                let values = try route.decoder.values(of: message.value, selecting: route.selection)
                // All of the message's views, or none: a message bad for one view is not half ingested.
                var mapped: [(EventMapper, OnlineRow)] = []
                mapped.reserveCapacity(route.mappers.count)
                for (mapper, slots) in zip(route.mappers, route.slots) { mapped.append((mapper, try mapper.row(values, slots: slots))) }
                for (mapper, row) in mapped {
                    rows[mapper.view.name, default: []].append(row)
                    mappersByView[mapper.view.name] = mapper
                }
                events.append((message.topic, mapped.map(\.1)))
            } catch {
                bad.append((message, error))
            }
        }
        // Durable first: the online rows, then the dead letters; offsets last.
        var attempt = 0
        var written: [String: Int] = [:]
        while true {
            do throws(OnlineStoreError) {
                let online = try store.onlineStore()
                for (name, viewRows) in rows where written[name] == nil {
                    let mapper = mappersByView[name]!
                    written[name] = try online.write(viewRows, to: mapper.view, keys: mapper.joinKeys)
                }
                break
            } catch {
                attempt += 1
                statistics.update { $0.writeRetries += 1 }
                logger.error("online write failed; retrying the batch (its offsets are not committed)",
                             metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                guard shouldContinue() else { return report }
                Thread.sleep(forTimeInterval: min(5, 0.1 * Double(1 << min(attempt, 6))))
            }
        }
        let writtenAt = Int64(Date().timeIntervalSince1970 * 1_000_000)
        for event in events { offline.append(topic: event.topic, rows: event.rows) }
        for (message, problem) in bad {
            logger.warning("bad message skipped", metadata: [
                "topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)",
                "reason": "\(problem.reason.rawValue)", "error": "\(problem.message)",
            ])
            if let deadLetters, let deadLetterTopic {
                do {
                    try deadLetters.produce(topic: deadLetterTopic, key: message.key, value: message.value, headers: [
                        ("x-featurestore-reason", Array(problem.reason.rawValue.utf8)),
                        ("x-featurestore-error", Array(problem.message.utf8)),
                        ("x-featurestore-source", Array("\(message.topic)/\(message.partition)/\(message.offset)".utf8)),
                    ])
                } catch {
                    logger.error("cannot produce to the dead-letter topic", metadata: ["topic": "\(deadLetterTopic)", "error": "\(error)"])
                }
            }
        }
        if deadLetters != nil && !bad.isEmpty {
            do { try deadLetters?.flush() } catch { logger.error("dead letters not confirmed", metadata: ["error": "\(error)"]) }
        }
        for (tp, offset) in next { pending[tp] = max(pending[tp] ?? 0, offset) }
        if let metrics {
            metrics.record(messages: messages, bad: bad.map(\.1.reason), rows: rows, written: written, writtenAt: writtenAt)
        }
        report.written = written.values.reduce(0, +)
        report.bad = bad.count
        statistics.update { s in
            s.messages += messages.count
            s.batches += 1
            s.deadLettered += deadLetters == nil ? 0 : bad.count
            for (_, problem) in bad { s.bad[problem.reason, default: 0] += 1 }
            for (name, viewRows) in rows {
                s.rowsReceived[name, default: 0] += viewRows.count
                s.rowsWritten[name, default: 0] += written[name] ?? 0
                var samples = s.freshness[name] ?? []
                for row in viewRows {
                    s.newestEvent[name] = max(s.newestEvent[name] ?? .min, row.eventTimestamp)
                    samples.append(writtenAt - row.eventTimestamp)
                }
                s.freshness[name] = Array(samples.suffix(10_000))
            }
            for (tp, offset) in next { s.consumed[tp] = max(s.consumed[tp] ?? 0, offset) }
        }
        settle(force: false, shouldContinue: shouldContinue)
        return report
    }

    /// Writes the offline files when they are due (or when `force`), then commits every offset whose events are
    /// now held on both sides. A failed offline write is retried with the offsets uncommitted (consumption waits:
    /// back-pressure rather than loss) until it succeeds or `shouldContinue` turns false.
    private func settle(force: Bool, shouldContinue: () -> Bool) {
        guard !pending.isEmpty || !offline.isEmpty else { return }
        if !offline.isEmpty {
            guard force || offline.shouldRoll() else { return }
            var attempt = 0
            while true {
                do throws(IngestionError) {
                    let files = try offline.roll()
                    metrics?.offline(files)
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
                    Thread.sleep(forTimeInterval: min(5, 0.1 * Double(1 << min(attempt, 6))))
                }
            }
        }
        guard !pending.isEmpty else { return }
        do {
            try consumer.commit(pending)
            let done = pending
            pending = [:]
            statistics.update { s in for (tp, offset) in done { s.committed[tp] = offset } }
        } catch {
            // The events are held on both sides; the next commit (or a replay, which is harmless) covers these offsets.
            logger.warning("offset commit failed", metadata: ["error": "\(error)"])
        }
    }

    /// Runs batches until `shouldContinue` returns false (checked between batches, at least every poll timeout).
    public func run(while shouldContinue: () -> Bool) {
        logger.info("ingesting", metadata: ["topics": "\(topics.joined(separator: ","))", "views": "\(routes.values.flatMap { $0.mappers.map(\.view.name) }.sorted().joined(separator: ","))"])
        while shouldContinue() {
            runOnce(shouldContinue: shouldContinue)
            if ContinuousClock.now - lastLagUpdate >= .seconds(5) {
                lastLagUpdate = .now
                let current = lag()
                statistics.update { $0.lag = current }
                metrics?.lag(current)
            }
        }
    }

    /// Writes the buffered offline events, commits, and leaves the consumer group (partitions move to the other
    /// instances); the ingestor cannot be used after.
    public func close() {
        settle(force: true, shouldContinue: { false })
        consumer.close()
    }

    /// Consumer lag per assigned partition: the high watermark minus what this instance has written online (or, when
    /// more, the group's committed offset).
    public func lag() -> [TopicPartition: Int64] {
        let partitions = assignment
        let snapshot = statistics.snapshot
        let committed = (try? consumer.committed(partitions)) ?? snapshot.committed
        var out: [TopicPartition: Int64] = [:]
        for tp in partitions {
            // Events written online count as consumed even while their offsets wait for the offline roll.
            let position = max(committed[tp] ?? 0, snapshot.consumed[tp] ?? 0)
            if let high = try? consumer.highWatermark(tp) { out[tp] = max(0, high - position) }
        }
        return out
    }
}

/// Ingestion metrics through swift-metrics:
/// `featurestore_stream_messages_total{topic}`, `featurestore_stream_bad_messages_total{reason}`,
/// `featurestore_stream_rows_written_total{view}`, `featurestore_stream_freshness_seconds{view}` (time written online
/// minus event time, a histogram), `featurestore_stream_consumer_lag{topic,partition}` (every 5 s), and the offline
/// copy's `featurestore_stream_offline_rows_total{source}` and `featurestore_stream_offline_files_total{source}`.
final class IngestionMetrics: @unchecked Sendable {
    // Used only from the ingesting thread.
    private let factory: any MetricsFactory
    private var messages: [String: CoreMetrics.Counter] = [:]
    private var bad: [BadMessageReason: CoreMetrics.Counter] = [:]
    private var written: [String: CoreMetrics.Counter] = [:]
    private var freshness: [String: CoreMetrics.Timer] = [:]
    private var lags: [TopicPartition: CoreMetrics.Gauge] = [:]
    private var offlineRows: [String: CoreMetrics.Counter] = [:]
    private var offlineFiles: [String: CoreMetrics.Counter] = [:]

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func record(messages batch: [KafkaMessage], bad reasons: [BadMessageReason], rows: [String: [OnlineRow]],
                written counts: [String: Int], writtenAt: Int64) {
        var perTopic: [String: Int] = [:]
        for m in batch { perTopic[m.topic, default: 0] += 1 }
        for (topic, n) in perTopic {
            let counter = messages[topic] ?? CoreMetrics.Counter(label: "featurestore_stream_messages_total", dimensions: [("topic", topic)], factory: factory)
            messages[topic] = counter
            counter.increment(by: n)
        }
        for reason in reasons {
            let counter = bad[reason] ?? CoreMetrics.Counter(label: "featurestore_stream_bad_messages_total", dimensions: [("reason", reason.rawValue)], factory: factory)
            bad[reason] = counter
            counter.increment()
        }
        for (view, viewRows) in rows {
            let counter = written[view] ?? CoreMetrics.Counter(label: "featurestore_stream_rows_written_total", dimensions: [("view", view)], factory: factory)
            written[view] = counter
            counter.increment(by: counts[view] ?? 0)
            let timer = freshness[view] ?? CoreMetrics.Timer(label: "featurestore_stream_freshness_seconds", dimensions: [("view", view)], factory: factory)
            freshness[view] = timer
            for row in viewRows { timer.recordMicroseconds(max(0, writtenAt - row.eventTimestamp)) }
        }
    }

    func offline(_ files: [OfflineEventLog.WrittenFile]) {
        for file in files {
            let rows = offlineRows[file.source] ?? CoreMetrics.Counter(label: "featurestore_stream_offline_rows_total", dimensions: [("source", file.source)], factory: factory)
            offlineRows[file.source] = rows
            rows.increment(by: file.rows)
            let count = offlineFiles[file.source] ?? CoreMetrics.Counter(label: "featurestore_stream_offline_files_total", dimensions: [("source", file.source)], factory: factory)
            offlineFiles[file.source] = count
            count.increment()
        }
    }

    func lag(_ lag: [TopicPartition: Int64]) {
        for (tp, value) in lag {
            let gauge = lags[tp] ?? CoreMetrics.Gauge(label: "featurestore_stream_consumer_lag", dimensions: [("topic", tp.topic), ("partition", "\(tp.partition)")], factory: factory)
            lags[tp] = gauge
            gauge.record(value)
        }
    }
}
