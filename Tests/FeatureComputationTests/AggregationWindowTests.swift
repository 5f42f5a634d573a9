import FeatureComputation
import Testing

@Suite("The window rule of aggregations")
struct AggregationWindowTests {
    static let minute: Int64 = 60_000_000
    static let hour = 60 * minute
    static let day = 24 * hour

    @Test("an event exactly at t is not counted; exactly at the snapped start it is; one microsecond either side follows")
    func bounds() throws {
        let w = try #require(AggregationWindow(length: Self.hour, hop: 5 * Self.minute))
        let t = 10 * Self.hour + 7 * Self.minute + 3  // 10:07:00.000003
        let start = 9 * Self.hour + 5 * Self.minute   // floor_5m(09:07:00.000003)
        #expect(w.start(at: t) == start)
        #expect(!w.contains(t, at: t))
        #expect(w.contains(t - 1, at: t))
        #expect(w.contains(start, at: t))
        #expect(!w.contains(start - 1, at: t))
        #expect(w.bounds(at: t) == start..<t)
    }

    @Test("the start snaps to the hop counted from the UTC epoch, below zero too")
    func snapping() throws {
        let w = try #require(AggregationWindow(length: 2 * Self.hour, hop: Self.hour))
        #expect(w.start(at: 2 * Self.hour) == 0)
        #expect(w.start(at: 2 * Self.hour + 1) == 0)
        #expect(w.start(at: 3 * Self.hour - 1) == 0)
        #expect(w.start(at: 3 * Self.hour) == Self.hour)
        #expect(w.start(at: Self.hour) == -Self.hour)
        #expect(w.start(at: Self.hour - 1) == -2 * Self.hour)
        #expect(w.tile(of: -1) == -Self.hour)
        #expect(w.tile(of: 0) == 0)
        #expect(w.start(at: Int64.min + 5) == Int64.min)
    }

    @Test("default hops: 1d from 12 days, 1h from 12 hours, 5m from an hour, else 1m; a divisor when the ladder's hop is not")
    func hopLadder() {
        #expect(AggregationWindow.defaultHop(for: 30 * Self.day) == Self.day)
        #expect(AggregationWindow.defaultHop(for: 7 * Self.day) == Self.hour)
        #expect(AggregationWindow.defaultHop(for: Self.day) == Self.hour)
        #expect(AggregationWindow.defaultHop(for: Self.hour) == 5 * Self.minute)
        #expect(AggregationWindow.defaultHop(for: 10 * Self.minute) == Self.minute)
        #expect(AggregationWindow.defaultHop(for: 13 * Self.hour) == Self.hour)
        #expect(AggregationWindow.defaultHop(for: 12 * Self.hour + 30 * Self.minute) == 5 * Self.minute)
        #expect(AggregationWindow.defaultHop(for: 90_000_000) == 1_000_000)  // 90 s: not a whole number of minutes
        #expect(AggregationWindow.defaultHop(for: 500_000) == 500_000)
    }

    @Test("a window must be a positive whole number of positive hops")
    func validity() {
        #expect(AggregationWindow(length: Self.hour, hop: 7 * Self.minute) == nil)
        #expect(AggregationWindow(length: 0) == nil)
        #expect(AggregationWindow(length: Self.hour, hop: 0) == nil)
        #expect(AggregationWindow(length: Self.hour, hop: -Self.minute) == nil)
        #expect(AggregationWindow(length: Self.hour, hop: Self.hour) != nil)
    }
}
