public import Kafka
import Synchronization

/// Where an ingester reads events: partitions of topics, polled in batches, with committed offsets.
///
/// ``StreamIngestor`` knows only this protocol: `KafkaConsumer` (librdkafka, a consumer group) is the real one;
/// ``InMemoryStreamConsumer`` holds events in memory, so the ingestion logic (mapping, bad messages, ordering, offsets,
/// the offline copy) is tested without a broker, while the Kafka tests exercise the protocol itself.
public protocol StreamConsumer: AnyObject, Sendable {
    /// Reads these topics (replacing the previous subscription).
    func subscribe(_ topics: [String]) throws(KafkaError)
    /// Up to `max` messages, waiting at most `timeout` for the first; errors the client reported meanwhile.
    func poll(max: Int, timeout: Duration) -> (messages: [KafkaMessage], errors: [KafkaError])
    /// Records the next offset to consume per partition (the events before it are held for good).
    func commit(_ next: [TopicPartition: Int64]) throws(KafkaError)
    /// The partitions this consumer reads now.
    func assignment() -> [TopicPartition]
    /// The committed next offset of each partition (absent: none committed).
    func committed(_ partitions: [TopicPartition], timeout: Duration) throws(KafkaError) -> [TopicPartition: Int64]
    /// The offset after the last message of a partition.
    func highWatermark(_ tp: TopicPartition, timeout: Duration) throws(KafkaError) -> Int64
    /// Leaves the group (partitions move to other members); the consumer cannot be used after.
    func close()
}

extension KafkaConsumer: StreamConsumer {}

/// Where messages that cannot be ingested are sent, with the reason in headers.
public protocol DeadLetterSink: AnyObject, Sendable {
    /// Queues a message that could not be ingested.
    func sendDeadLetter(topic: String, key: [UInt8]?, value: [UInt8], headers: [(String, [UInt8])]) throws(KafkaError)
    /// Waits until every message produced so far is acknowledged.
    func flush(timeout: Duration) throws(KafkaError)
}

extension KafkaProducer: DeadLetterSink {
    public func sendDeadLetter(topic: String, key: [UInt8]?, value: [UInt8], headers: [(String, [UInt8])]) throws(KafkaError) {
        try produce(topic: topic, key: key, value: value, headers: headers)
    }
}

/// Events held in memory as partitions of topics, consumed in order with committed offsets: a ``StreamConsumer``
/// for tests and replays. Every partition is assigned to the one consumer; `poll` never waits.
public final class InMemoryStreamConsumer: StreamConsumer {
    private struct State {
        var partitions: [TopicPartition: [KafkaMessage]] = [:]
        var position: [TopicPartition: Int64] = [:]
        var committed: [TopicPartition: Int64] = [:]
        var closed = false
    }
    private let state = Mutex(State())

    /// A consumer of `topics`, each with `partitions` empty partitions.
    public init(topics: [String], partitions: Int = 1) {
        state.withLock { s in
            for topic in topics { for p in 0..<partitions { s.partitions[TopicPartition(topic, Int32(p))] = [] } }
        }
    }

    /// Appends an event to a partition (the next offset of that partition).
    public func append(topic: String, partition: Int32 = 0, key: [UInt8]? = nil, value: [UInt8]) {
        state.withLock { s in
            let tp = TopicPartition(topic, partition)
            var messages = s.partitions[tp] ?? []
            messages.append(KafkaMessage(topic: topic, partition: partition, offset: Int64(messages.count), key: key, value: value))
            s.partitions[tp] = messages
        }
    }

    public func subscribe(_ topics: [String]) throws(KafkaError) {
        state.withLock { s in
            for topic in topics where !s.partitions.keys.contains(where: { $0.topic == topic }) {
                s.partitions[TopicPartition(topic, 0)] = []
            }
        }
    }

    /// Rewinds every partition to its committed offset, as a restarted consumer in the same group would resume.
    public func restartFromCommitted() {
        state.withLock { s in s.position = s.committed }
    }

    public func poll(max: Int, timeout: Duration) -> (messages: [KafkaMessage], errors: [KafkaError]) {
        state.withLock { s in
            guard !s.closed else { return ([], [KafkaError("closed")]) }
            var out: [KafkaMessage] = []
            for tp in s.partitions.keys.sorted(by: { ($0.topic, $0.partition) < ($1.topic, $1.partition) }) where out.count < max {
                let messages = s.partitions[tp]!
                var next = Int(s.position[tp] ?? 0)
                while next < messages.count && out.count < max {
                    out.append(messages[next])
                    next += 1
                }
                s.position[tp] = Int64(next)
            }
            return (out, [])
        }
    }

    public func commit(_ next: [TopicPartition: Int64]) throws(KafkaError) {
        state.withLock { s in for (tp, offset) in next { s.committed[tp] = offset } }
    }

    public func assignment() -> [TopicPartition] {
        state.withLock { s in s.closed ? [] : s.partitions.keys.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) } }
    }

    public func committed(_ partitions: [TopicPartition], timeout: Duration) throws(KafkaError) -> [TopicPartition: Int64] {
        state.withLock { s in s.committed.filter { partitions.contains($0.key) } }
    }

    public func highWatermark(_ tp: TopicPartition, timeout: Duration) throws(KafkaError) -> Int64 {
        state.withLock { s in Int64(s.partitions[tp]?.count ?? 0) }
    }

    public func close() {
        state.withLock { $0.closed = true }
    }
}
