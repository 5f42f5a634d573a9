public import FeatureStoreCore
public import Logging
public import ErrorChain

/// One message of a stream, in the ingester's own terms: where it is (partition and offset), its key, its payload,
/// its headers and the time the stream gave it.
public struct StreamMessage: Sendable {
    /// The topic (or stream name) it was read from.
    public var topic: String
    /// The partition of the topic.
    public var partition: Int32
    /// Its position in the partition: the next message has a greater one.
    public var offset: Int64
    /// The message key, if any (keys of features come from the payload, not from here).
    public var key: [UInt8]?
    /// The payload, decoded by the source's ``MessageFormatKind``.
    public var value: [UInt8]
    /// The headers, in order.
    public var headers: [(name: String, value: [UInt8])]
    /// The time the stream recorded, in milliseconds since the epoch, when it has one (not the event time).
    public var timestampMillis: Int64?

    /// A message at `offset` of `topic`'s `partition`.
    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]? = nil, value: [UInt8],
                headers: [(name: String, value: [UInt8])] = [], timestampMillis: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMillis = timestampMillis
    }

    /// Its topic and partition.
    public var streamPartition: StreamPartition { StreamPartition(topic, partition) }
}

/// A failure of a stream transport (a broker unreachable, a commit refused, a bad setting): its message, and the
/// transport's own error as the cause (a `KafkaError` with librdkafka's code).
public struct StreamError: ChainedError {
    /// What went wrong, without the cause's text.
    public var message: String
    /// The transport's error.
    public var cause: (any Error & Sendable)?

    /// A failure described by `message`, caused by `cause`.
    public init(_ message: String, cause: (any Error & Sendable)? = nil) {
        self.message = message
        self.cause = cause
    }

    /// `stream`.
    public var errorCode: String { "stream" }

    /// The chain: the message, then the cause's.
    public var description: String { ErrorChain.render(self) }
}

/// Where an ingester reads events: partitions of topics, polled in batches, with committed positions.
///
/// ``StreamIngestor`` knows only this protocol. The Kafka transport (target `KafkaTransport`, a consumer group through
/// librdkafka) is the real one; ``InMemoryStreamConsumer`` holds events in memory, so the ingestion logic (mapping,
/// bad messages, ordering, positions, the offline copy) is tested without a broker. Calls may block (a poll waits up
/// to its timeout): the ingester makes them on a thread of its own, never on Swift's cooperative pool.
public protocol StreamConsumer: AnyObject, Sendable {
    /// Reads these topics (replacing the previous subscription).
    func subscribe(_ topics: [String]) throws(StreamError)
    /// Up to `max` messages, waiting at most `timeout` for the first; errors the transport reported meanwhile.
    func poll(max: Int, timeout: Duration) -> (messages: [StreamMessage], errors: [StreamError])
    /// Records the next offset to consume per partition (the events before it are held for good).
    func commit(_ next: [StreamPartition: Int64]) throws(StreamError)
    /// The partitions this consumer reads now.
    func assignment() -> [StreamPartition]
    /// Whether the consumer is a member of its group now (joined, with partitions or none: more members than
    /// partitions leaves some idle, and that is healthy). A transport without groups answers true.
    var isGroupMember: Bool { get }
    /// The committed next offset of each partition (absent: none committed).
    func committed(_ partitions: [StreamPartition], timeout: Duration) throws(StreamError) -> [StreamPartition: Int64]
    /// The offset after the last message of a partition.
    func highWatermark(_ partition: StreamPartition, timeout: Duration) throws(StreamError) -> Int64
    /// Leaves the group (partitions move to other members); the consumer cannot be used after.
    func close()
}

/// Where messages that cannot be ingested are sent, with the reason in headers.
public protocol DeadLetterSink: AnyObject, Sendable {
    /// Queues a message that could not be ingested.
    func sendDeadLetter(topic: String, key: [UInt8]?, value: [UInt8], headers: [(String, [UInt8])]) throws(StreamError)
    /// Waits until every message produced so far is acknowledged.
    func flush(timeout: Duration) throws(StreamError)
}

/// What an ingester reads through: a consumer subscribed to the topics, where dead letters go, and the settings of the
/// transport that apply to ingestion (made by a ``StreamSourceKind`` from the repository's settings).
public struct StreamConnection: Sendable {
    /// The consumer, subscribed to the topics.
    public var consumer: any StreamConsumer
    /// Where bad messages go (nil: counted and logged only).
    public var deadLetters: (any DeadLetterSink)?
    /// The topic bad messages are sent to.
    public var deadLetterTopic: String?
    /// The name under which this ingester's positions are kept with the tiles (the consumer group).
    public var consumerName: String
    /// Things that must live as long as the connection (an embedded broker in this process).
    public var resources: [any Sendable]
    /// With an embedded broker in this process: the address producers reach it at.
    public var embeddedAddress: String?

    /// A connection through `consumer`.
    public init(consumer: any StreamConsumer, deadLetters: (any DeadLetterSink)? = nil, deadLetterTopic: String? = nil,
                consumerName: String, resources: [any Sendable] = [], embeddedAddress: String? = nil) {
        self.consumer = consumer
        self.deadLetters = deadLetters
        self.deadLetterTopic = deadLetterTopic
        self.consumerName = consumerName
        self.resources = resources
        self.embeddedAddress = embeddedAddress
    }
}

/// A source kind that is a stream an ingester can read (`kafka`): it connects to its transport.
///
/// A new transport (Kinesis, Pulsar) is a target with a kind conforming to this protocol, brought as a `Kinds` value
/// that programs add to theirs; the ingester finds it by the sources' `kind` in the repository's kinds.
public protocol StreamSourceKind: SourceKind {
    /// The topic (or stream) a source of this kind reads.
    func topic(of source: DataSource) -> String

    /// Whether the repository's settings say how to reach the transport (a `kafka` block), so that a server ingests
    /// only when they do.
    func isConfigured(_ config: RepositoryConfig) -> Bool

    /// The settings a connection is made from (a running ingester reconnects when they change after an apply).
    func connectionSettings(_ config: RepositoryConfig) -> [String: String]

    /// A consumer of `topics` for `store`'s project (and a dead-letter sink when the settings name one), as `options`
    /// say (another broker address, this instance's stable identity in the group).
    func connect(store: FeatureStore, topics: [String], options: StreamConnectOptions, logger: Logger) throws(StreamError) -> StreamConnection
}

/// How an ingester asks its transport to connect, beyond the repository's settings.
public struct StreamConnectOptions: Sendable, Hashable {
    /// Replaces the repository's broker address (tests, an embedded broker).
    public var address: String?
    /// This instance's stable identity in its consumer group (Kafka's `group.instance.id`: static membership), kept
    /// across restarts so a restarted instance takes its partitions back at once instead of waiting for its previous
    /// self's session to expire. Nil: a new member at every start. Two live instances must never share one: the
    /// broker fences the older.
    public var instanceID: String?

    /// Options: `address` and `instanceID` (both nil: the repository's settings alone).
    public init(address: String? = nil, instanceID: String? = nil) {
        self.address = address
        self.instanceID = instanceID
    }
}
