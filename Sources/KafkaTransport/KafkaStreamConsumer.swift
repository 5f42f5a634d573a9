public import FeatureStoreCore
public import Kafka
public import StreamIngestion

/// A Kafka consumer (librdkafka, a consumer group with manual commits) as the ingester's ``StreamConsumer``: Kafka's
/// types turned into the stream's own, its errors kept as causes.
public final class KafkaStreamConsumer: StreamConsumer {
    /// The librdkafka consumer.
    public let consumer: KafkaConsumer

    /// Reads through `consumer`.
    public init(_ consumer: KafkaConsumer) {
        self.consumer = consumer
    }

    /// Subscribes through librdkafka, joining the group; see ``StreamConsumer/subscribe(_:)``.
    public func subscribe(_ topics: [String]) throws(StreamError) {
        do { try consumer.subscribe(topics) } catch { throw StreamError("kafka: cannot subscribe to \(topics.joined(separator: ", "))", cause: error) }
    }

    /// Polls librdkafka, its errors kept as causes; see ``StreamConsumer/poll(max:timeout:)``.
    public func poll(max: Int, timeout: Duration) -> (messages: [StreamMessage], errors: [StreamError]) {
        let (messages, errors) = consumer.poll(max: max, timeout: timeout)
        return (messages.map(Self.message), errors.map { StreamError("kafka consumer", cause: $0) })
    }

    /// Commits through librdkafka, synchronously; see ``StreamConsumer/commit(_:)``.
    public func commit(_ next: [StreamPartition: Int64]) throws(StreamError) {
        var offsets: [TopicPartition: Int64] = [:]
        for (p, offset) in next { offsets[TopicPartition(p.topic, p.partition)] = offset }
        do { try consumer.commit(offsets) } catch { throw StreamError("kafka: cannot commit offsets", cause: error) }
    }

    /// The partitions the group has assigned to this member; see ``StreamConsumer/assignment()``.
    public func assignment() -> [StreamPartition] {
        consumer.assignment().map { StreamPartition($0.topic, $0.partition) }
    }

    /// Whether the coordinator has made this consumer a member of its group (it has a member id); see
    /// ``StreamConsumer/isGroupMember``.
    public var isGroupMember: Bool { consumer.memberID != nil }

    /// The group's committed offsets, asked of the broker; see ``StreamConsumer/committed(_:timeout:)``.
    public func committed(_ partitions: [StreamPartition], timeout: Duration) throws(StreamError) -> [StreamPartition: Int64] {
        do {
            let found = try consumer.committed(partitions.map { TopicPartition($0.topic, $0.partition) }, timeout: timeout)
            var out: [StreamPartition: Int64] = [:]
            for (tp, offset) in found { out[StreamPartition(tp.topic, tp.partition)] = offset }
            return out
        } catch {
            throw StreamError("kafka: cannot read committed offsets", cause: error)
        }
    }

    /// The partition's high watermark, asked of the broker; see ``StreamConsumer/highWatermark(_:timeout:)``.
    public func highWatermark(_ partition: StreamPartition, timeout: Duration) throws(StreamError) -> Int64 {
        do {
            return try consumer.highWatermark(TopicPartition(partition.topic, partition.partition), timeout: timeout)
        } catch {
            throw StreamError("kafka: cannot read the high watermark of \(partition)", cause: error)
        }
    }

    /// Closes the librdkafka consumer, leaving the group; see ``StreamConsumer/close()``.
    public func close() {
        consumer.close()
    }

    static func message(_ m: KafkaMessage) -> StreamMessage {
        StreamMessage(topic: m.topic, partition: m.partition, offset: m.offset, key: m.key, value: m.value,
                      headers: m.headers, timestampMillis: m.timestampMillis)
    }
}

/// A Kafka producer as the ingester's ``DeadLetterSink``.
public final class KafkaDeadLetterSink: DeadLetterSink {
    /// The librdkafka producer.
    public let producer: KafkaProducer

    /// Sends dead letters through `producer`.
    public init(_ producer: KafkaProducer) {
        self.producer = producer
    }

    /// Queues the message for `topic` in the producer (``flush(timeout:)`` waits for it); see
    /// ``DeadLetterSink/sendDeadLetter(topic:key:value:headers:)``.
    public func sendDeadLetter(topic: String, key: [UInt8]?, value: [UInt8], headers: [(String, [UInt8])]) throws(StreamError) {
        do { try producer.produce(topic: topic, key: key, value: value, headers: headers) } catch {
            throw StreamError("kafka: cannot produce to the dead-letter topic \(topic)", cause: error)
        }
    }

    /// Flushes the producer; see ``DeadLetterSink/flush(timeout:)``.
    public func flush(timeout: Duration) throws(StreamError) {
        do { try producer.flush(timeout: timeout) } catch { throw StreamError("kafka: dead letters not confirmed", cause: error) }
    }
}
