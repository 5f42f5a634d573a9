/// Redis Cluster's key distribution: 16,384 hash slots, a key's slot the CRC16 (XMODEM) of the key, or of its hash
/// tag (the part between the first `{` and the next `}`, when not empty) so related keys share a node.
public enum HashSlot {
    /// The number of slots: slots are `0 ..< 16_384`.
    public static let count = 16_384

    /// The slot of `key`.
    public static func slot(of key: [UInt8]) -> Int {
        Int(crc16(hashedPart(of: key)) & 0x3FFF)
    }

    /// The slot of `key` given as text.
    public static func slot(of key: String) -> Int { slot(of: Array(key.utf8)) }

    /// What the slot is computed from: the hash tag when the key has a non-empty one, else the whole key.
    static func hashedPart(of key: [UInt8]) -> ArraySlice<UInt8> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")),
              let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 else { return key[...] }
        return key[(open + 1)..<close]
    }

    /// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection.
    static func crc16(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for b in bytes {
            crc = (crc << 8) ^ table[Int((crc >> 8) ^ UInt16(b)) & 0xFF]
        }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { i -> UInt16 in
        var crc = UInt16(i) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}

/// Which node serves each slot, from `CLUSTER SLOTS`.
public struct SlotMap: Sendable, Equatable {
    /// Per slot, the index of its primary in ``nodes`` (nil: not served).
    var owners: [Int?]
    /// The primaries, in the order they were met.
    public private(set) var nodes: [RedisEndpoint]

    /// A map where one node serves every slot (a standalone server).
    public init(single node: RedisEndpoint) {
        nodes = [node]
        owners = Array(repeating: 0, count: HashSlot.count)
    }

    /// Parses a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id], replicas...], ...]`. An empty host means the
    /// node that answered (`answeredBy`).
    public init(clusterSlots reply: RedisReply, answeredBy: RedisEndpoint) throws(RedisError) {
        owners = Array(repeating: nil, count: HashSlot.count)
        nodes = []
        guard case .array(let ranges) = reply else {
            throw RedisError(.protocolError, node: answeredBy.description, "CLUSTER SLOTS answered \(reply), not a list of slot ranges")
        }
        for range in ranges {
            guard case .array(let parts) = range, parts.count >= 3, case .integer(let start) = parts[0], case .integer(let end) = parts[1],
                  case .array(let primary) = parts[2], primary.count >= 2, case .integer(let port) = primary[1],
                  0 <= start, start <= end, end < HashSlot.count else {
                throw RedisError(.protocolError, node: answeredBy.description, "CLUSTER SLOTS has an entry that is not [start, end, [host, port, ...]]: \(range)")
            }
            let host = primary[0].text.flatMap { $0.isEmpty || $0 == "?" ? nil : $0 } ?? answeredBy.host
            let node = RedisEndpoint(host: host, port: Int(port))
            let index: Int
            if let known = nodes.firstIndex(of: node) { index = known } else { nodes.append(node); index = nodes.count - 1 }
            for slot in Int(start)...Int(end) { owners[slot] = index }
        }
    }

    /// The primary serving `slot`, if any.
    public func node(for slot: Int) -> RedisEndpoint? { owners[slot].map { nodes[$0] } }

    /// Records that `slot` moved to `node` (a `MOVED` redirect).
    public mutating func move(_ slot: Int, to node: RedisEndpoint) {
        if let known = nodes.firstIndex(of: node) {
            owners[slot] = known
        } else {
            nodes.append(node)
            owners[slot] = nodes.count - 1
        }
    }

    /// Whether every slot has a node.
    public var coversAllSlots: Bool { !owners.contains(nil) }
}

/// A cluster redirect in an error reply: `MOVED 3999 127.0.0.1:6381` (the slot lives there now) or `ASK 3999
/// 127.0.0.1:6381` (ask there once, after `ASKING`: the slot is migrating).
public enum RedisRedirect: Sendable, Hashable {
    case moved(slot: Int, to: RedisEndpoint)
    case ask(slot: Int, to: RedisEndpoint)

    /// The redirect an error line holds (`MOVED 3999 127.0.0.1:6381`); nil for any other error.
    public init?(_ error: String) {
        let parts = error.split(separator: " ")
        guard parts.count == 3, let slot = Int(parts[1]), let node = RedisEndpoint(parsing: String(parts[2])) else { return nil }
        switch parts[0] {
        case "MOVED": self = .moved(slot: slot, to: node)
        case "ASK": self = .ask(slot: slot, to: node)
        default: return nil
        }
    }
}
