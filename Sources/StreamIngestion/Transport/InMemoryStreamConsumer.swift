public import FeatureStoreCore
import Synchronization

/// Events held in memory as partitions of topics, consumed in order with committed offsets: a ``StreamConsumer``
/// for tests and replays. Every partition is assigned to the one consumer; `poll` never waits.
public final class InMemoryStreamConsumer: StreamConsumer {
    private struct State {
        var partitions: [StreamPartition: [StreamMessage]] = [:]
        var position: [StreamPartition: Int64] = [:]
        var committed: [StreamPartition: Int64] = [:]
        var closed = false
    }
    private let state = Mutex(State())

    /// A consumer of `topics`, each with `partitions` empty partitions.
    public init(topics: [String], partitions: Int = 1) {
        state.withLock { s in
            for topic in topics { for p in 0..<partitions { s.partitions[StreamPartition(topic, Int32(p))] = [] } }
        }
    }

    /// Appends an event to a partition (the next offset of that partition).
    public func append(topic: String, partition: Int32 = 0, key: [UInt8]? = nil, value: [UInt8]) {
        state.withLock { s in
            let tp = StreamPartition(topic, partition)
            var messages = s.partitions[tp] ?? []
            messages.append(StreamMessage(topic: topic, partition: partition, offset: Int64(messages.count), key: key, value: value))
            s.partitions[tp] = messages
        }
    }

    /// Adds partition 0 of each topic it does not hold yet (other topics stay); see ``StreamConsumer/subscribe(_:)``.
    public func subscribe(_ topics: [String]) throws(StreamError) {
        state.withLock { s in
            for topic in topics where !s.partitions.keys.contains(where: { $0.topic == topic }) {
                s.partitions[StreamPartition(topic, 0)] = []
            }
        }
    }

    /// Rewinds every partition to its committed offset, as a restarted consumer in the same group would resume.
    public func restartFromCommitted() {
        state.withLock { s in s.position = s.committed }
    }

    /// Up to `max` messages, partition by partition in (topic, partition) order, without waiting; after ``close()``, an
    /// error; see ``StreamConsumer/poll(max:timeout:)``.
    public func poll(max: Int, timeout: Duration) -> (messages: [StreamMessage], errors: [StreamError]) {
        state.withLock { s in
            guard !s.closed else { return ([], [StreamError("closed")]) }
            var out: [StreamMessage] = []
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

    /// Records the offsets; see ``StreamConsumer/commit(_:)``.
    public func commit(_ next: [StreamPartition: Int64]) throws(StreamError) {
        state.withLock { s in for (tp, offset) in next { s.committed[tp] = offset } }
    }

    /// Every partition, sorted (none once closed); see ``StreamConsumer/assignment()``.
    public func assignment() -> [StreamPartition] {
        state.withLock { s in s.closed ? [] : s.partitions.keys.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) } }
    }

    /// True until closed (there is no group to join); see ``StreamConsumer/isGroupMember``.
    public var isGroupMember: Bool { state.withLock { !$0.closed } }

    /// The offsets committed for `partitions`; see ``StreamConsumer/committed(_:timeout:)``.
    public func committed(_ partitions: [StreamPartition], timeout: Duration) throws(StreamError) -> [StreamPartition: Int64] {
        state.withLock { s in s.committed.filter { partitions.contains($0.key) } }
    }

    /// The number of messages appended to the partition (0 for an unknown one); see
    /// ``StreamConsumer/highWatermark(_:timeout:)``.
    public func highWatermark(_ tp: StreamPartition, timeout: Duration) throws(StreamError) -> Int64 {
        state.withLock { s in Int64(s.partitions[tp]?.count ?? 0) }
    }

    /// Marks the consumer closed; see ``StreamConsumer/close()``.
    public func close() {
        state.withLock { $0.closed = true }
    }
}
