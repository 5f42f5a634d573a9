import FeatureComputation
import Testing

@Suite("Partial aggregates as bytes")
struct StateEncodingTests {
    static func randomState(_ f: AggregateFunction, _ random: inout SplitMix, events: Int) -> AggregateState {
        var s = AggregateState(f, n: 4)
        for _ in 0..<events {
            let value: AggregateValue?
            switch random.below(6) {
            case 0: value = nil
            case 1: value = .int(Int64(bitPattern: random.next()) >> random.below(64))
            case 2: value = .double(random.double())
            case 3: value = .string(["", "a", "zürich", "\u{0}x"][random.below(4)])
            case 4: value = .timestamp(Int64(random.below(1000)))
            default: value = .double(random.below(2) == 0 ? .infinity : -.infinity)
            }
            // Numeric functions take numbers only (the compiler sees to it).
            if [.sum, .mean, .variance, .stddev].contains(f), let v = value {
                switch v { case .int, .double: break; default: continue }
            }
            s.add(value, at: Int64(random.below(50)))
        }
        return s
    }

    @Test("every function's state reads back with the same result, and merges after the trip (or straight from its bytes) as before it", arguments: AggregateFunction.allCases)
    func roundTrip(_ f: AggregateFunction) throws {
        var random = SplitMix(state: 99)
        for events in [0, 1, 5, 200] {
            let a = Self.randomState(f, &random, events: events), b = Self.randomState(f, &random, events: events)
            let a2 = try AggregateState(decoding: a.encoded()), b2 = try AggregateState(decoding: b.encoded())
            #expect(a2.result == a.result && a2.count == a.count, "\(f), \(events) events")
            var merged = a, merged2 = a2
            merged.merge(b)
            merged2.merge(b2)
            #expect(merged2.result == merged.result, "\(f) merged")
            #expect(try AggregateState(decoding: merged2.encoded()).encoded() == merged.encoded(), "\(f): one encoding per state")
            // Merging straight from the bytes (as lookups do) is the same merge.
            var inPlace = a
            try inPlace.merge(encoded: b.encoded()[...])
            #expect(inPlace.result == merged.result && inPlace.encoded() == merged.encoded(), "\(f) merged from bytes")
        }
    }

    @Test("truncated or damaged bytes, or a state of another function, are an error, never a crash or a silent state", arguments: AggregateFunction.allCases)
    func damagedBytes(_ f: AggregateFunction) {
        var random = SplitMix(state: 5)
        let bytes = Self.randomState(f, &random, events: 30).encoded()
        for cut in 0..<bytes.count {
            #expect(throws: AggregateStateDecodingError.self) { try AggregateState(decoding: Array(bytes[0..<cut])) }
            var target = AggregateState(f, n: 4)
            #expect(throws: AggregateStateDecodingError.self) { try target.merge(encoded: bytes[0..<cut]) }
        }
        var other = AggregateState(f == .count ? .sum : .count, n: 4)
        #expect(throws: AggregateStateDecodingError.self) { try other.merge(encoded: bytes[...]) }
        #expect(throws: AggregateStateDecodingError.self) { try AggregateState(decoding: bytes + [0]) }
        // Flipped bits: an error, or a state that computes a result and encodes again without trapping.
        for _ in 0..<300 {
            var damaged = bytes
            damaged[random.below(damaged.count)] ^= UInt8(1 << random.below(8))
            if let state = try? AggregateState(decoding: damaged) {
                _ = state.result
                _ = state.encoded()
            }
        }
    }
}

@Suite("Partial aggregates as bytes: edge cases")
struct StateEncodingEdgeTests {
    @Test("last_n keeps equal events (same time, same value) and reads them back")
    func equalEventsReadBack() throws {
        var s = AggregateState(.lastN, n: 3)
        for _ in 0..<3 { s.add(.string("a"), at: 5) }
        let back = try AggregateState(decoding: s.encoded())
        #expect(back.result == .list([.string("a"), .string("a"), .string("a")]))
    }
}
