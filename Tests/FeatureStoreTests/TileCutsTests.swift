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
