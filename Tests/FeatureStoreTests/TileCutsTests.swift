import FeatureComputation
import FeatureStoreCore
import Testing

private let minute: Int64 = 60_000_000
private let hour = 60 * minute

@Suite("Cuts between backfill and stream")
struct TileCutsTests {
    @Test("a backfill moves a cut to the hop boundary at or before min(end, now - lateness - roll - 1m), never backwards")
    func movedCut() {
        let now: Int64 = 1_750_000_000_000_000 + 37 * minute  // 37 minutes past an hour
        let lateness = hour, roll = minute
        // The safe point is now - 1h - 2m: for hourly tiles the boundary before it, for 5-minute tiles likewise.
        let safe = now - lateness - roll - minute
        #expect(TileCuts.movedCut(current: Int64.min, hop: hour, end: now, now: now, allowedLateness: lateness, rollInterval: roll) == safe / hour * hour)
        #expect(TileCuts.movedCut(current: Int64.min, hop: 5 * minute, end: now, now: now, allowedLateness: lateness, rollInterval: roll)
                == safe / (5 * minute) * (5 * minute))
        // An earlier end bounds it.
        #expect(TileCuts.movedCut(current: Int64.min, hop: hour, end: now - 5 * hour, now: now, allowedLateness: lateness, rollInterval: roll)
                == (now - 5 * hour) / hour * hour)
        // A cut already later stays.
        #expect(TileCuts.movedCut(current: now - 10 * minute, hop: hour, end: now, now: now, allowedLateness: lateness, rollInterval: roll) == now - 10 * minute)
    }

    @Test("retention keeps, per hop, the tiles a lookup at now - lateness can read; a view's hops are sorted and distinct")
    func retention() {
        let view = FeatureView(name: "v", entities: ["d"], source: "s", ttl: .zero, features: [
            Feature(name: "c1h", type: .scalar(.int64), aggregation: FeatureAggregation(function: .count, column: nil, window: TimeSpan(seconds: 3600), hop: TimeSpan(seconds: 300))),
            Feature(name: "c1d", type: .scalar(.int64), aggregation: FeatureAggregation(function: .count, column: nil, window: TimeSpan(seconds: 86_400), hop: TimeSpan(seconds: 3600))),
            Feature(name: "c7d", type: .scalar(.int64), aggregation: FeatureAggregation(function: .count, column: nil, window: TimeSpan(seconds: 7 * 86_400), hop: TimeSpan(seconds: 3600))),
        ])
        #expect(TileCuts.hops(of: view) == [5 * minute, hour])
        let now: Int64 = 1_750_000_000_000_000
        let kept = TileCuts.retention(of: view, at: now, allowedLateness: hour)
        #expect(kept[5 * minute] == (now - 2 * hour) / (5 * minute) * (5 * minute))
        #expect(kept[hour] == (now - hour - 7 * 24 * hour) / hour * hour, "the longest window of the hop")
    }
}

@Suite("Roll-up spans")
struct TileRollupSpanTests {
    static let hour: Int64 = 3_600_000_000, day = 24 * hour

    static func view(_ windows: [(window: Int64, hop: Int64)]) -> FeatureView {
        FeatureView(name: "v", entities: ["e"], source: "s", ttl: .zero, features: windows.enumerated().map { i, w in
            Feature(name: "c\(i)", type: .scalar(.int64),
                    aggregation: FeatureAggregation(function: .count, column: nil, window: TimeSpan(seconds: w.window / 1_000_000), hop: TimeSpan(seconds: w.hop / 1_000_000)))
        })
    }

    @Test("a hop rolls up by day, else by hour, when its longest window holds two spans; never by its own length")
    func spans() {
        #expect(TileRollups.span(of: Self.view([(7 * Self.day, Self.hour)]), hop: Self.hour) == Self.day)
        #expect(TileRollups.span(of: Self.view([(Self.day, Self.hour)]), hop: Self.hour) == nil, "one day of hours: nothing to roll")
        #expect(TileRollups.span(of: Self.view([(Self.day, 300_000_000)]), hop: 300_000_000) == Self.hour)
        #expect(TileRollups.span(of: Self.view([(14 * Self.day, Self.day)]), hop: Self.day) == nil)
        #expect(TileRollups.span(of: Self.view([(14 * Self.day, 7 * 60_000_000)]), hop: 7 * 60_000_000) == nil, "a day is not a whole number of 7-minute hops")
    }

    @Test("the span clamped at the smallest time is not whole: it has no roll-up, and a plan never leaves out tiles of the next span for it")
    func clampedFirstSpan() {
        let first = TileRollups.spanStart(of: Int64.min + Self.hour, span: Self.day)
        #expect(first == Int64.min && !TileRollups.isSpanStart(first, span: Self.day))
        let plan = TileReadPlan(from: Int64.min, span: Self.day, until: Int64.min + 3 * Self.day, windowStarts: [Int64.min])
        #expect(plan.omitted(rollup: Int64.min).isEmpty)
        var state = AggregateState(.count)
        state.add(nil, at: Int64.min)
        let rollup = OnlineTile(key: [.int(1)], hop: Self.hour, start: Int64.min, states: TileRollups.encode([state], coverage: Int64.max), origin: .rollup)
        #expect(!TileRollups.isComplete(rollup, span: Self.day))
        // Near the largest time a span's end does not exist: never complete either.
        let last = TileRollups.spanStart(of: Int64.max, span: Self.day)
        #expect(!TileRollups.isComplete(OnlineTile(key: [.int(1)], hop: Self.hour, start: last, states: TileRollups.encode([state], coverage: Int64.max), origin: .rollup), span: Self.day))
        // A whole span whose coverage reaches its end is complete; one microsecond short is not.
        let day0 = OnlineTile(key: [.int(1)], hop: Self.hour, start: 0, states: TileRollups.encode([state], coverage: Self.day), origin: .rollup)
        #expect(TileRollups.isComplete(day0, span: Self.day))
        #expect(!TileRollups.isComplete(OnlineTile(key: [.int(1)], hop: Self.hour, start: 0, states: TileRollups.encode([state], coverage: Self.day - 1), origin: .rollup), span: Self.day))
    }
}
