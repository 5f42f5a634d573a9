/// The window rule of time-window aggregations, one for every engine (training and serving).
///
/// For a key, a request time `t` (microseconds since the epoch) and a window of length `w` with hop `h`, the events
/// counted are those with
///
///     floor_h(t - w) <= event_ts < t
///
/// where `floor_h(x)` is the greatest multiple of `h` (counted from the UTC epoch) not above `x`. The end is
/// exclusive, so the event that triggered a request is never part of its own features; the start is snapped to a hop
/// boundary, so every window is a run of whole tiles (`[k*h, (k+1)*h)`) plus the head tile up to `t`, which lets the
/// online store keep one partial aggregate per tile and the offline engine count exactly the same events. A window is
/// therefore between `w` and `w + h` long, never shorter.
public struct AggregationWindow: Sendable, Hashable {
    /// The window's length in microseconds (positive).
    public let length: Int64
    /// The hop in microseconds: a positive divisor of `length`.
    public let hop: Int64

    /// A window of `length` with `hop` (nil: ``defaultHop(for:)``); nil when `length` is not positive, or `hop` is not
    /// positive or does not divide `length`.
    public init?(length: Int64, hop: Int64? = nil) {
        let hop = hop ?? Self.defaultHop(for: length)
        guard length > 0, hop > 0, length % hop == 0 else { return nil }
        self.length = length
        self.hop = hop
    }

    static let second: Int64 = 1_000_000
    static let minute = 60 * second
    static let hour = 60 * minute
    static let day = 24 * hour

    /// The hop a window gets when its definition names none, from a fixed ladder: windows of 12 days or more hop by
    /// a day, of 12 hours or more by an hour, of an hour or more by 5 minutes, shorter ones by a minute; when that
    /// hop does not divide the window, the next smaller of 1d, 1h, 5m, 1m, 1s that does (every whole number of
    /// seconds has one). Windows below a second hop by their own length.
    public static func defaultHop(for length: Int64) -> Int64 {
        let ladder = [day, hour, 5 * minute, minute, second]
        let top: Int64 = length >= 12 * day ? day : length >= 12 * hour ? hour : length >= hour ? 5 * minute : minute
        for hop in ladder where hop <= top && length % hop == 0 { return hop }
        return max(length, 1)
    }

    /// `floor_h(x)`: the greatest multiple of `hop` not above `x`.
    public func floorToHop(_ x: Int64) -> Int64 {
        let r = x % hop
        if r >= 0 { return x - r }
        let (floored, overflow) = (x - r).subtractingReportingOverflow(hop)
        return overflow ? Int64.min : floored
    }

    /// The first event time counted at `t` (`floor_h(t - w)`; clamped at the smallest time for times near it).
    public func start(at t: Int64) -> Int64 {
        let (difference, overflow) = t.subtractingReportingOverflow(length)
        return overflow ? Int64.min : floorToHop(difference)
    }

    /// The event times counted at `t`: `start(at: t) ..< t`.
    public func bounds(at t: Int64) -> Range<Int64> {
        let s = start(at: t)
        return s < t ? s..<t : t..<t
    }

    /// Whether an event at `eventTime` is counted at `t`.
    public func contains(_ eventTime: Int64, at t: Int64) -> Bool {
        bounds(at: t).contains(eventTime)
    }

    /// The start of the tile holding `eventTime`.
    public func tile(of eventTime: Int64) -> Int64 { floorToHop(eventTime) }
}
