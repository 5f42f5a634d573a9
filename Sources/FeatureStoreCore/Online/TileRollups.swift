public import FeatureComputation

/// Roll-ups: the backfill parts of a whole hour or day of one entity's tiles merged into one, so that a long window
/// merges tens of tiles instead of hundreds (a 7-day window of hourly tiles: 6 day roll-ups and the hours of the two
/// days it starts and ends in, not 169 tiles).
///
/// A roll-up is a tile of origin ``TileOrigin/rollup`` whose hop is its tiles' hop and whose start is its span's
/// (``span(of:hop:)``): the states of the view's features with that hop over the events of `[start, start + span)`,
/// then a *coverage* like a backfill part's. `materialize` writes it from the tiles it has just written, after them,
/// with the coverage `min(cut, now)`: the roll-up is *complete*, and stands for its span's tiles, when the coverage
/// reaches the span's end. The events of a complete span are all before the cut (the stream adds none there) and
/// before the clock of the run (no events kept whole, ``RawEvents``), so merging the roll-up gives the same bits as
/// merging its tiles (merges are associative and commutative, ``AggregateState``).
///
/// A lookup at `now` reads a complete roll-up instead of its span's tiles for each feature whose window holds the
/// whole span (`window start <= span start`, `span end <= now`), and the tiles otherwise (``TileStates/values(_:tiles:now:)``).
/// A run writes a roll-up for every span its rebuilt tiles touch, incomplete ones too (they only replace an older
/// roll-up whose tiles the run rewrote), so a roll-up and its tiles never disagree once a run has finished; during
/// a run, a lookup reads each span either from its old roll-up or from its tiles, each event counted once.
public enum TileRollups {
    static let hour: Int64 = 3_600_000_000
    static let day: Int64 = 86_400_000_000

    /// The span of the roll-ups of `view`'s tiles of `hop` (microseconds), or nil when that hop has none: a day when a
    /// day is a multiple of the hop and the hop's longest window holds at least two days, else an hour on the same
    /// terms (a 7-day window of hourly tiles rolls up by day; a 1-day window of 5-minute tiles by hour).
    public static func span(of view: FeatureView, hop: Int64) -> Int64? {
        let longest = view.features.compactMap { $0.aggregation?.computation }.filter { $0.hop == hop }.map(\.length).max() ?? 0
        for span in [day, hour] where span > hop && span % hop == 0 && longest / 2 >= span { return span }
        return nil
    }

    /// The largest roll-up span of `view` (nil: it has none). Every span divides it (an hour divides a day).
    public static func largestSpan(of view: FeatureView) -> Int64? {
        TileCuts.hops(of: view).compactMap { span(of: view, hop: $0) }.max()
    }

    /// The start of the span of `span` holding `time` (clamped at `Int64.min` for the first times, whose span would
    /// start before it: such a span is not whole and never has a roll-up, see ``isSpanStart(_:span:)``).
    public static func spanStart(of time: Int64, span: Int64) -> Int64 {
        AggregationWindow(length: span, hop: span)!.floorToHop(time)
    }

    /// Whether `start` begins a whole span (a multiple of `span`): only those have roll-ups.
    public static func isSpanStart(_ start: Int64, span: Int64) -> Bool { start % span == 0 }

    /// The end of the span starting at `start` (nil when past the largest time).
    public static func spanEnd(_ start: Int64, span: Int64) -> Int64? {
        let (end, overflow) = start.addingReportingOverflow(span)
        return overflow ? nil : end
    }

    /// A roll-up's bytes: `states` (the view's features of its hop, ``TileStates/features(of:hop:)``) and its coverage.
    public static func encode(_ states: [AggregateState], coverage: Int64) -> [UInt8] {
        TileStates.encodeBackfill(states, coverage: coverage)
    }

    /// Whether a roll-up's coverage reaches the end of its span (a damaged one is not; the lookup reports it, see
    /// ``completeness(_:span:)``).
    public static func isComplete(_ tile: OnlineTile, span: Int64) -> Bool {
        (try? completeness(tile, span: span)) ?? false
    }

    /// Whether a roll-up's coverage reaches the end of its whole span, or an error when its bytes hold no coverage.
    static func completeness(_ tile: OnlineTile, span: Int64) throws(AggregateStateDecodingError) -> Bool {
        guard tile.origin == .rollup, isSpanStart(tile.start, span: span), let end = spanEnd(tile.start, span: span) else { return false }
        var last: ArraySlice<UInt8>?
        var sequence = AggregateState.Sequence(tile.states)
        while let slice = try sequence.next() {
            if !RawEvents.isRaw(slice) { last = slice }
        }
        guard let last else { throw AggregateStateDecodingError(message: "a roll-up without its coverage") }
        return try TileStates.coverage(last) >= end
    }
}

/// How a lookup reads one hop's tiles (``OnlineTileStore/readTiles(_:of:plans:)``): every tile from `from`, roll-ups
/// included, except that a store may leave out a tile of the backfill or the stream that a complete roll-up stands for
/// in this lookup (``mayOmit(tile:rollup:)``).
public struct TileReadPlan: Sendable, Hashable {
    /// The oldest tile start read (the longest requested window's start).
    public var from: Int64
    /// The hop's roll-up span (nil: it has none; every tile from `from` is read).
    public var span: Int64?
    /// The lookup's time: a roll-up stands for its tiles only when its span ends at or before it.
    public var until: Int64
    /// The window starts of the requested features of the hop: a window starting inside a span reads that span's
    /// tiles from its start on.
    public var windowStarts: [Int64]

    /// A plan reading from `from`, with the hop's roll-up `span`, for a lookup at `until` of features whose windows
    /// start at `windowStarts`.
    public init(from: Int64, span: Int64?, until: Int64, windowStarts: [Int64]) {
        self.from = from
        self.span = span
        self.until = until
        self.windowStarts = windowStarts
    }

    /// For a complete roll-up starting at `rollup` (``TileRollups/isComplete(_:span:)``), the tiles of its span the
    /// lookup does not need: `[rollup, end)` (empty when it needs them all). The lookup merges the roll-up instead
    /// for every feature whose window starts at or before the span, and no other feature counts a tile before its
    /// own window's start.
    public func omitted(rollup: Int64) -> Range<Int64> {
        guard let span, rollup >= from, TileRollups.isSpanStart(rollup, span: span), let end = TileRollups.spanEnd(rollup, span: span), end <= until else {
            return rollup..<rollup
        }
        let firstNeeded = windowStarts.filter { $0 > rollup && $0 < end }.min() ?? end
        return rollup..<firstNeeded
    }

    /// Whether a tile starting at `tile` may be left out, given the complete roll-up starting at `rollup` of its span.
    public func mayOmit(tile: Int64, rollup: Int64) -> Bool { omitted(rollup: rollup).contains(tile) }
}
