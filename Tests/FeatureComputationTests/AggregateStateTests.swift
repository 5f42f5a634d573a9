import Columnar
import FeatureComputation
import Testing

@Suite("Partial aggregates")
struct AggregateStateTests {
    static func state(_ f: AggregateFunction, n: Int = 1, _ events: [(Int64, AggregateValue?)]) -> AggregateState {
        var s = AggregateState(f, n: n)
        for (t, v) in events { s.add(v, at: t) }
        return s
    }

    @Test("each function on a small window, nulls skipped", arguments: [
        (AggregateFunction.count, AggregateResult.int(4)),
        (.sum, .int(6)),
        (.mean, .double(2)),
        (.min, .value(.int(1))),
        (.max, .value(.int(3))),
        (.variance, .double(1)),
        (.stddev, .double(1)),
        (.first, .value(.int(2))),
        (.last, .value(.int(3))),
    ])
    func functions(_ f: AggregateFunction, _ want: AggregateResult) {
        let events: [(Int64, AggregateValue?)] = [(30, .int(3)), (10, .int(2)), (20, nil), (15, .int(1))]
        #expect(Self.state(f, events).result == want)
    }

    @Test("last_n keeps the newest n, newest first; last_distinct_n the newest n distinct values")
    func lastN() {
        let events: [(Int64, AggregateValue?)] = [(1, .string("a")), (2, .string("b")), (3, .string("a")), (4, .string("c")), (5, nil)]
        #expect(Self.state(.lastN, n: 3, events).result == .list([.string("c"), .string("a"), .string("b")]))
        #expect(Self.state(.lastDistinctN, n: 2, events).result == .list([.string("c"), .string("a")]))
        #expect(Self.state(.lastDistinctN, n: 5, events).result == .list([.string("c"), .string("a"), .string("b")]))
    }

    @Test("an empty window: count and approx_count_distinct 0, every other function null; one value has no sample variance")
    func emptyWindows() {
        for f in AggregateFunction.allCases {
            let result = AggregateState(f, n: 2).result
            #expect(f == .count || f == .approxCountDistinct ? result == .int(0) : result == nil, "\(f)")
        }
        #expect(Self.state(.count, [(1, nil)]).result == .int(1), "count counts events, nulls too")
        #expect(Self.state(.sum, [(1, nil)]).result == nil)
        #expect(Self.state(.variance, [(1, .double(2))]).result == nil)
    }

    @Test("integer sums are exact; beyond Int64 they are null, not wrapped; a float makes the sum float64")
    func sums() {
        #expect(Self.state(.sum, [(1, .int(Int64.max)), (2, .int(1)), (3, .int(-2))]).result == .int(Int64.max - 1))
        #expect(Self.state(.sum, [(1, .int(Int64.max)), (2, .int(1))]).result == nil)
        #expect(Self.state(.sum, [(1, .int(1)), (2, .double(0.5))]).result == .double(1.5))
    }

    @Test("equal times are ordered by value, so first, last and last_n do not depend on arrival order")
    func ties() {
        let a: [(Int64, AggregateValue?)] = [(5, .int(1)), (5, .int(9)), (5, .int(4))]
        for order in [a, a.reversed(), [a[1], a[0], a[2]]] {
            #expect(Self.state(.last, Array(order)).result == .value(.int(9)))
            #expect(Self.state(.first, Array(order)).result == .value(.int(1)))
            #expect(Self.state(.lastN, n: 2, Array(order)).result == .list([.int(9), .int(4)]))
        }
    }

    @Test("any order of events and any grouping of merges give the same result, for every function", arguments: AggregateFunction.allCases)
    func mergeIsOrderFree(_ f: AggregateFunction) {
        var random = SplitMix(state: 7)
        let events: [(Int64, AggregateValue?)] = (0..<300).map { i in
            let value: AggregateValue? = random.below(10) == 0 ? nil : random.below(2) == 0 ? .int(Int64(random.below(50)) - 25) : .double(random.double())
            return (Int64(random.below(40)), value)
        }
        let whole = Self.state(f, n: 3, events)
        for _ in 0..<10 {
            var shuffled = events
            for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, random.below(i + 1)) }
            var parts = (0..<4).map { _ in AggregateState(f, n: 3) }
            for (t, v) in shuffled { parts[random.below(4)].add(v, at: t) }
            var merged = parts[3]
            for p in parts[0..<3].reversed() { merged.merge(p) }
            #expect(merged.result == whole.result, "\(f)")
            if merged.canSubtract {
                merged.subtract(parts[3])
                var rest = parts[0]
                rest.merge(parts[1])
                rest.merge(parts[2])
                #expect(merged.result == rest.result, "\(f) after subtracting a part")
            }
        }
    }
}

@Suite("approx_count_distinct (HyperLogLog)")
struct HyperLogLogTests {
    @Test("the estimate is within 3 standard errors (1.6% each) of the exact distinct count, from 1 to a million values; small counts are near exact",
          arguments: [1, 10, 100, 1_000, 5_000, 20_000, 100_000, 1_000_000])
    func accuracy(_ distinct: Int) {
        var state = AggregateState(.approxCountDistinct)
        for i in 0..<distinct {
            state.add(.int(Int64(i) &* 7919), at: 0)
            if i % 3 == 0 { state.add(.int(Int64(i) &* 7919), at: 1) }  // repeats change nothing
        }
        guard case .int(let estimate)? = state.result else {
            Issue.record("no estimate")
            return
        }
        let error = abs(Double(estimate) - Double(distinct)) / Double(distinct)
        #expect(error <= (distinct <= 100 ? 0.02 : 3 * 0.01625), "\(estimate) for \(distinct) distinct values (\(error))")
    }

    @Test("the same values in any order, split into any tiles (sparse and dense sketches) and through bytes give the same estimate, bit for bit")
    func orderAndFormFree() throws {
        var random = SplitMix(state: 3)
        let values: [AggregateValue] = (0..<6_000).map { i in
            switch i % 4 {
            case 0: return .string("rider-\(random.below(4_000))")
            case 1: return .int(Int64(random.below(4_000)))
            case 2: return .double(Double(random.below(4_000)) / 3)
            default: return .bytes([UInt8(random.below(256)), UInt8(random.below(256))])
            }
        }
        var whole = AggregateState(.approxCountDistinct)
        for v in values { whole.add(v, at: 0) }
        for parts in [2, 10, 200] {
            var tiles = (0..<parts).map { _ in AggregateState(.approxCountDistinct) }
            for v in values.reversed() { tiles[random.below(parts)].add(v, at: 0) }
            var merged = AggregateState(.approxCountDistinct)
            for tile in tiles.reversed() { merged.merge(try AggregateState(decoding: tile.encoded())) }
            #expect(merged.result == whole.result, "\(parts) tiles")
            #expect(try AggregateState(decoding: merged.encoded()).encoded() == whole.encoded(), "one encoding per set of registers")
            // Straight from the bytes, as lookups merge: sparse lists merged in one pass, dense registers by maximum.
            var fromBytes = AggregateState(.approxCountDistinct)
            for tile in tiles { try fromBytes.merge(encoded: tile.encoded()[...]) }
            #expect(fromBytes.result == whole.result, "\(parts) tiles merged from their bytes")
            #expect(try AggregateState(decoding: fromBytes.encoded()).encoded() == whole.encoded(), "\(parts) tiles from bytes: the same registers")
        }
    }

    @Test("values are hashed the same on every machine and run (golden values), by kind: 1 and 1.0 and \"1\" are distinct")
    func stableHash() {
        #expect(StableHash.of(.int(1)) == StableHash.of(.int(1)))
        #expect(Set([StableHash.of(.int(1)), StableHash.of(.double(1)), StableHash.of(.string("1")), StableHash.of(.timestamp(1)),
                     StableHash.of(.bytes([0x31]))]).count == 5)
        // Stored sketches depend on these: a change of the hash is a change of the stored format.
        #expect(StableHash.of(.int(42)) == 0xB117_F881_1249_F557, "\(String(StableHash.of(.int(42)), radix: 16))")
        #expect(StableHash.of(.string("zürich")) == 0x7472_D13F_C6E9_B273, "\(String(StableHash.of(.string("zürich")), radix: 16))")
    }
}

@Suite("Window aggregation over keys")
struct WindowAggregatorKeyTests {
    @Test("integer keys of any sign and size, and string keys, are grouped exactly; null keys and times never count")
    func keysOfAnySize() throws {
        let window = try #require(AggregationWindow(length: 100, hop: 10))
        let keys: [Int64?] = [-5, Int64.max - 3, 0, -5, nil, -5]
        let times: [Int64?] = [10, 20, 30, 40, 50, nil]
        let counts = WindowAggregator.aggregate(
            eventKeys: [Column(int64: keys)], eventTimes: times.map { $0 ?? 0 }, eventTimesValid: Bitmap(times.map { $0 != nil }),
            features: [WindowFeature(function: .count, window: window, values: nil)],
            entityKeys: [Column(int64: [-5, Int64.max - 3, 0, 7, nil])], entityTimes: [100, 100, 100, 100, 100], entityTimesValid: nil)
        #expect(counts[0] == [.int(2), .int(1), .int(1), .int(0), .int(0)])
        let strings = WindowAggregator.aggregate(
            eventKeys: [Column(strings: ["zürich", "zu\u{0308}rich", ""])], eventTimes: [1, 2, 3], eventTimesValid: nil,
            features: [WindowFeature(function: .count, window: window, values: nil)],
            entityKeys: [Column(strings: ["zürich", "zu\u{0308}rich", "", "x"])], entityTimes: [50, 50, 50, 50], entityTimesValid: nil)
        #expect(strings[0] == [.int(1), .int(1), .int(1), .int(0)])
    }
}
