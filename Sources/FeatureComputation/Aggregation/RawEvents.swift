/// Events a tile part keeps whole instead of folded into its states: those at or after the clock of the process that
/// wrote the part (a producer whose clock runs ahead, a backfill whose END is in the future).
///
/// A tile's states cannot tell which of their events came before a time inside the tile, so a lookup at `t` in the
/// middle of a tile would count the tile's events at or after `t`, which the training set at `t` does not. Events
/// before the writer's clock are before any lookup made from then on; the others are kept here, each with its value
/// for every state of the part, and a lookup adds those before its time (``AggregateState/add(_:at:)``): exact for
/// lookups at or after the writer's clock. They are rare (events from the future), and merging parts concatenates them.
public struct RawEvents: Sendable, Hashable {
    /// One event: its time (microseconds) and its value for each state of the part, in order (nil: null).
    public struct Event: Sendable, Hashable {
        /// The event's time, in microseconds since the epoch.
        public var time: Int64
        /// Its value for each state of the part, in the states' order; nil for null.
        public var values: [AggregateValue?]
        /// An event at `time` with `values`, one per state of the part.
        public init(time: Int64, values: [AggregateValue?]) {
            self.time = time
            self.values = values
        }
    }

    /// The events kept whole (merging parts concatenates them).
    public var events: [Event]

    /// Raw events holding `events` (none by default).
    public init(_ events: [Event] = []) { self.events = events }

    /// The first byte of a raw-events slice among a tile's states (a state starts with its format version, 1).
    static let marker: UInt8 = 0xF7

    /// Whether a slice of a tile's bytes holds raw events rather than a state.
    public static func isRaw(_ slice: ArraySlice<UInt8>) -> Bool { slice.first == marker }

    func write(to w: inout ByteWriter) {
        w.byte(Self.marker)
        w.varint(UInt64(events.count))
        for event in events {
            w.int64(event.time)
            w.varint(UInt64(event.values.count))
            for value in event.values {
                if let value {
                    w.byte(1)
                    w.value(value)
                } else {
                    w.byte(0)
                }
            }
        }
    }

    /// Reads a slice written by ``write(to:)``.
    public init(decoding slice: ArraySlice<UInt8>) throws(AggregateStateDecodingError) {
        var r = ByteReader(bytes: slice)
        guard try r.byte() == Self.marker else { throw AggregateStateDecodingError(message: "not raw events") }
        let count = try r.varint()
        guard count <= UInt64(slice.count) else { throw AggregateStateDecodingError(message: "raw events: a count beyond the bytes") }
        var events: [Event] = []
        for _ in 0..<count {
            let time = try r.int64()
            let n = try r.varint()
            guard n <= 4096 else { throw AggregateStateDecodingError(message: "raw events: too many values") }
            var values: [AggregateValue?] = []
            for _ in 0..<n { values.append(try r.byte() == 0 ? nil : try r.value()) }
            events.append(Event(time: time, values: values))
        }
        guard r.atEnd else { throw AggregateStateDecodingError(message: "bytes after the raw events") }
        self.events = events
    }

    /// The encoded slice (with its length prefix, as ``AggregateState/encode(_:raw:)`` writes it).
    var encodedSlice: [UInt8] {
        var w = ByteWriter()
        write(to: &w)
        return w.bytes
    }
}

extension AggregateState {
    /// States and, when there are any, raw events as one buffer (``encode(_:)`` then one more slice).
    public static func encode(_ states: [AggregateState], raw: RawEvents?) -> [UInt8] {
        var out = encode(states)
        if let raw, !raw.events.isEmpty {
            let bytes = raw.encodedSlice
            var w = ByteWriter()
            w.varint(UInt64(bytes.count))
            out += w.bytes + bytes
        }
        return out
    }
}
