import CRdKafka
import Foundation
public import ErrorChain

/// A failure reported by librdkafka (configuration, broker, commit or produce errors).
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// What failed, with librdkafka's description of the error when there is one.
    public var message: String
    /// librdkafka's `rd_kafka_resp_err_t`, when there is one.
    public var code: Int32?

    /// An error described by `message`, with librdkafka's `code` when there is one.
    public init(_ message: String, code: Int32? = nil) {
        self.message = message
        self.code = code
    }

    init(_ what: String, _ err: rd_kafka_resp_err_t) {
        self.init("\(what): \(String(cString: rd_kafka_err2str(err)))", code: err.rawValue)
    }

    /// The message.
    public var description: String { message }
}

extension KafkaError: ChainedError {
    /// `kafka.N` with librdkafka's code, or `kafka`.
    public var errorCode: String { code.map { "kafka.\($0)" } ?? "kafka" }
}

/// A topic and partition.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    /// The topic's name.
    public var topic: String
    /// The partition's number (0-based).
    public var partition: Int32

    /// Partition `partition` of `topic`.
    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// `topic[partition]`.
    public var description: String { "\(topic)[\(partition)]" }
}

/// One consumed message, copied out of librdkafka.
public struct KafkaMessage: Sendable {
    /// The topic it was read from.
    public var topic: String
    /// The partition it was read from.
    public var partition: Int32
    /// Its offset in the partition.
    public var offset: Int64
    /// The key; nil when the message has none.
    public var key: [UInt8]?
    /// The payload (empty when the message has none).
    public var value: [UInt8]
    /// The message's timestamp in milliseconds since the epoch, when it has one.
    public var timestampMillis: Int64?
    /// The message's headers, in order.
    public var headers: [(name: String, value: [UInt8])] = []

    /// A message at `offset` of `topic`'s partition `partition`, with these contents.
    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]? = nil, value: [UInt8], timestampMillis: Int64? = nil,
                headers: [(name: String, value: [UInt8])] = []) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.timestampMillis = timestampMillis
        self.headers = headers
    }

    /// The last header named `name`, as text.
    public func header(_ name: String) -> String? {
        headers.last { $0.name == name }.map { String(decoding: $0.value, as: UTF8.self) }
    }

    /// The message's topic and partition.
    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }
}

/// The text of a NUL-terminated C buffer.
func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Builds an `rd_kafka_conf_t` from properties (librdkafka's names: `bootstrap.servers`, `group.id`, ...).
func makeConf(_ properties: [String: String]) throws(KafkaError) -> OpaquePointer {
    guard let conf = rd_kafka_conf_new() else { throw KafkaError("cannot allocate a librdkafka configuration") }
    var errstr = [CChar](repeating: 0, count: 512)
    for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
        if rd_kafka_conf_set(conf, key, value, &errstr, errstr.count) != RD_KAFKA_CONF_OK {
            rd_kafka_conf_destroy(conf)
            throw KafkaError("kafka property \(key)=\(value): \(cText(errstr))")
        }
    }
    return conf
}

/// Creates a client handle of `type` (taking ownership of `conf`).
func makeHandle(_ type: rd_kafka_type_t, _ conf: OpaquePointer) throws(KafkaError) -> OpaquePointer {
    var errstr = [CChar](repeating: 0, count: 512)
    guard let handle = rd_kafka_new(type, conf, &errstr, errstr.count) else {
        rd_kafka_conf_destroy(conf)
        throw KafkaError("cannot create a Kafka client: \(cText(errstr))")
    }
    return handle
}

/// The version of the linked librdkafka (`2.0.2` on Debian 12).
public var librdkafkaVersion: String { String(cString: rd_kafka_version_str()) }

/// A producer: messages to topics with optional keys and headers; delivery is awaited by ``flush(timeout:)``.
///
/// Not for concurrent use: one thread at a time (the ingestor's dead-letter producer, a demo producer, tests).
public final class KafkaProducer: @unchecked Sendable {
    let handle: OpaquePointer

    /// `properties` are librdkafka's (`bootstrap.servers` at least).
    public init(properties: [String: String]) throws(KafkaError) {
        var properties = properties
        properties["enable.idempotence"] = properties["enable.idempotence"] ?? "false"
        handle = try makeHandle(RD_KAFKA_PRODUCER, try makeConf(properties))
    }

    deinit {
        rd_kafka_flush(handle, 5_000)
        rd_kafka_destroy(handle)
    }

    /// Queues one message (copied); `partition` nil lets the key (or librdkafka) choose.
    public func produce(topic: String, key: [UInt8]? = nil, value: [UInt8], headers: [(String, [UInt8])] = [],
                        partition: Int32? = nil) throws(KafkaError) {
        guard let rkt = rd_kafka_topic_new(handle, topic, nil) else { throw KafkaError("cannot open topic \(topic)") }
        defer { rd_kafka_topic_destroy(rkt) }
        var hdrs: OpaquePointer? = nil
        if !headers.isEmpty {
            hdrs = rd_kafka_headers_new(headers.count)
            for (name, bytes) in headers {
                bytes.withUnsafeBytes { _ = rd_kafka_header_add(hdrs, name, -1, $0.baseAddress, $0.count) }
            }
        }
        var vus: [rd_kafka_vu_t] = []
        var err = RD_KAFKA_RESP_ERR_NO_ERROR
        value.withUnsafeBytes { valueBytes in
            (key ?? []).withUnsafeBytes { keyBytes in
                var v = rd_kafka_vu_t()
                v.vtype = RD_KAFKA_VTYPE_RKT
                v.u.rkt = rkt
                vus.append(v)
                v = rd_kafka_vu_t()
                v.vtype = RD_KAFKA_VTYPE_VALUE
                v.u.mem.ptr = UnsafeMutableRawPointer(mutating: valueBytes.baseAddress)
                v.u.mem.size = valueBytes.count
                vus.append(v)
                if key != nil {
                    v = rd_kafka_vu_t()
                    v.vtype = RD_KAFKA_VTYPE_KEY
                    v.u.mem.ptr = UnsafeMutableRawPointer(mutating: keyBytes.baseAddress)
                    v.u.mem.size = keyBytes.count
                    vus.append(v)
                }
                if let partition {
                    v = rd_kafka_vu_t()
                    v.vtype = RD_KAFKA_VTYPE_PARTITION
                    v.u.i32 = partition
                    vus.append(v)
                }
                v = rd_kafka_vu_t()
                v.vtype = RD_KAFKA_VTYPE_MSGFLAGS
                v.u.i = RD_KAFKA_MSG_F_COPY
                vus.append(v)
                if let hdrs {
                    v = rd_kafka_vu_t()
                    v.vtype = RD_KAFKA_VTYPE_HEADERS
                    v.u.headers = hdrs
                    vus.append(v)
                }
                while true {
                    let error = vus.withUnsafeBufferPointer { rd_kafka_produceva(handle, $0.baseAddress, $0.count) }
                    err = error.map { rd_kafka_error_code($0) } ?? RD_KAFKA_RESP_ERR_NO_ERROR
                    if let error { rd_kafka_error_destroy(error) }
                    guard err == RD_KAFKA_RESP_ERR__QUEUE_FULL else { break }
                    rd_kafka_poll(handle, 10)  // the local queue is full: serve deliveries, then retry
                }
            }
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            if let hdrs { rd_kafka_headers_destroy(hdrs) }  // not handed over on failure
            throw KafkaError("produce to \(topic)", err)
        }
        rd_kafka_poll(handle, 0)
    }

    /// Waits until every queued message is delivered (or `timeout` passes).
    public func flush(timeout: Duration = .seconds(10)) throws(KafkaError) {
        let ms = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let err = rd_kafka_flush(handle, ms)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError("flush", err) }
    }
}

/// A group consumer with manual commits: offsets are committed only when the caller says its batch is durable.
///
/// Not for concurrent use: the ingestor polls and commits from one thread.
public final class KafkaConsumer: @unchecked Sendable {
    let handle: OpaquePointer

    /// `properties` are librdkafka's; `bootstrap.servers` and `group.id` are required. Auto-commit is turned off and
    /// consumption starts at the earliest offset when the group has none committed.
    public init(properties: [String: String]) throws(KafkaError) {
        var properties = properties
        guard properties["group.id"] != nil else { throw KafkaError("a consumer needs group.id") }
        properties["enable.auto.commit"] = "false"
        properties["enable.auto.offset.store"] = "false"
        properties["auto.offset.reset"] = properties["auto.offset.reset"] ?? "earliest"
        handle = try makeHandle(RD_KAFKA_CONSUMER, try makeConf(properties))
        rd_kafka_poll_set_consumer(handle)
    }

    private var closed = false

    deinit {
        close()
        rd_kafka_destroy(handle)
    }

    /// Leaves the group (its partitions go to the other members at once) and stops consuming. Idempotent.
    public func close() {
        guard !closed else { return }
        closed = true
        rd_kafka_consumer_close(handle)
    }

    /// Joins the group and subscribes to `topics` (partitions are shared among the group's members).
    public func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
        let err = rd_kafka_subscribe(handle, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError("subscribe to \(topics.joined(separator: ", "))", err) }
    }

    /// Up to `max` messages, waiting at most `timeout` for the first and then taking what is ready.
    /// Consumer errors (a broker down, a rebalance in progress) are returned in `errors`, not thrown: they are transient.
    public func poll(max: Int, timeout: Duration) -> (messages: [KafkaMessage], errors: [KafkaError]) {
        var messages: [KafkaMessage] = []
        var errors: [KafkaError] = []
        var wait = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        while messages.count < max {
            guard let raw = rd_kafka_consumer_poll(handle, wait) else { break }
            defer { rd_kafka_message_destroy(raw) }
            wait = 0
            let m = raw.pointee
            if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                if m.err != RD_KAFKA_RESP_ERR__PARTITION_EOF { errors.append(KafkaError("consume", m.err)) }
                continue
            }
            let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
            let value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
            let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
            var tsType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
            let ts = rd_kafka_message_timestamp(raw, &tsType)
            var message = KafkaMessage(topic: topic, partition: m.partition, offset: m.offset, key: key, value: value,
                                       timestampMillis: tsType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : ts)
            var hdrs: OpaquePointer? = nil
            if rd_kafka_message_headers(raw, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs {
                var index = 0
                var name: UnsafePointer<CChar>? = nil
                var bytes: UnsafeRawPointer? = nil
                var size = 0
                while rd_kafka_header_get_all(hdrs, index, &name, &bytes, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                    let headerName = name.map { String(cString: $0) } ?? ""
                    message.headers.append((headerName, bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []))
                    index += 1
                }
            }
            messages.append(message)
        }
        return (messages, errors)
    }

    /// Commits, synchronously, `next` offsets (the offset of the next message to read) per partition.
    public func commit(_ next: [TopicPartition: Int64]) throws(KafkaError) {
        guard !next.isEmpty else { return }
        let list = rd_kafka_topic_partition_list_new(Int32(next.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (tp, offset) in next {
            rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)?.pointee.offset = offset
        }
        let err = rd_kafka_commit(handle, list, 0)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET {
            throw KafkaError("commit offsets", err)
        }
    }

    /// The member id the group coordinator gave this consumer (nil until it has joined its group).
    public var memberID: String? {
        guard let raw = rd_kafka_memberid(handle) else { return nil }
        defer { rd_kafka_mem_free(handle, raw) }
        let id = String(cString: raw)
        return id.isEmpty ? nil : id
    }

    /// The partitions assigned to this member now.
    public func assignment() -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>? = nil
        guard rd_kafka_assignment(handle, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return (0..<Int(list.pointee.cnt)).map { i in
            let e = list.pointee.elems[i]
            return TopicPartition(String(cString: e.topic), e.partition)
        }
    }

    /// Committed offsets of `partitions` (the next offset to read; nil when none).
    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(5)) throws(KafkaError) -> [TopicPartition: Int64] {
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for tp in partitions { rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition) }
        let err = rd_kafka_committed(handle, list, Int32(timeout.components.seconds * 1000))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError("committed offsets", err) }
        var out: [TopicPartition: Int64] = [:]
        for i in 0..<Int(list!.pointee.cnt) {
            let e = list!.pointee.elems[i]
            if e.offset >= 0 { out[TopicPartition(String(cString: e.topic), e.partition)] = e.offset }
        }
        return out
    }

    /// The high watermark (offset after the last message) of a partition, from the broker.
    public func highWatermark(_ tp: TopicPartition, timeout: Duration = .seconds(5)) throws(KafkaError) -> Int64 {
        var low: Int64 = 0, high: Int64 = 0
        let err = rd_kafka_query_watermark_offsets(handle, tp.topic, tp.partition, &low, &high, Int32(timeout.components.seconds * 1000))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError("watermarks of \(tp)", err) }
        return high
    }
}

/// librdkafka's built-in mock Kafka cluster: real brokers speaking the Kafka protocol on loopback ports, in this
/// process (other processes reach it at ``bootstrapServers`` while it lives). For tests and the embedded demo.
///
/// Limits found on Debian's librdkafka 2.0.2: a group join takes about 3 s (its initial rebalance delay), and each
/// partition keeps about 5 MiB or 100k batches, dropping older data silently.
public final class KafkaMockCluster: @unchecked Sendable {
    private let owner: OpaquePointer
    private let cluster: OpaquePointer
    /// `host:port,...` of the mock brokers.
    public let bootstrapServers: String

    /// Starts a mock cluster of `brokers` brokers; throws when librdkafka cannot create it.
    public init(brokers: Int = 1) throws(KafkaError) {
        let conf = try makeConf(["log_level": "3"])
        owner = try makeHandle(RD_KAFKA_PRODUCER, conf)
        guard let cluster = rd_kafka_mock_cluster_new(owner, Int32(brokers)) else {
            rd_kafka_destroy(owner)
            throw KafkaError("cannot start the mock Kafka cluster")
        }
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(owner)
    }

    /// Creates `topic` with `partitions` partitions.
    public func createTopic(_ topic: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster, topic, Int32(partitions), Int32(replicationFactor))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError("create topic \(topic)", err) }
    }
}
