public import Columnar
import Dispatch

/// The rows of one feature view's source, grouped by entity and ordered by the one rule that decides which row is
/// an entity's value at a time. Training (the point-in-time join) and serving (materialization into the online
/// store) both use it, so the two cannot disagree on which row wins.
///
/// **The rule.** Among an entity's rows, the later of two rows is the one with the greater event time; for equal
/// event times, the greater created time (a null created time is the lowest); for equal event and created times,
/// the greater content (`contentPrecedes`: the online store compares the encoded rows, so the same row wins
/// whatever order the rows arrive in); for equal content, the later row of the source (they hold the same values).
/// Rows with a null key part or a null event time never count.
///
/// - ``winners(codes:times:timesValid:ttl:)``: for an entity row at time `t`, the latest row with event
///   time `<= t`, if it is not older than `t - ttl` (the join).
/// - ``latestRows()``: each entity's latest row of the whole index (materialization, over the rows of a window).
///
/// Rows are grouped by key code (a hash table) and sorted within each group by the rule; a lookup is a binary search.
/// Memory: 8 bytes of key code per source row while building, then per row 8 bytes of time and 4 of row index,
/// plus one hash table entry per distinct key.
public struct LatestRowIndex: Sendable {
    /// The encoder that coded the source's keys: encode entity keys with it (`insert: false`) to look them up.
    public private(set) var encoder: KeyEncoder
    private let groups: Int64Table
    private let groupStart: [Int32]
    private let sortedTimes: [Int64]
    private let sortedRows: [Int32]

    /// Indexes the rows of a source.
    ///
    /// - Parameters:
    ///   - keys: the join key columns, in the view's join key order.
    ///   - times: event times (any one unit, the same as the lookups'), one per row.
    ///   - timesValid: which event times are not null (nil: all).
    ///   - created: created times in any unit, or nil when the source has none.
    ///   - createdValid: which created times are not null (nil: all).
    ///   - window: when given, only rows with `window.lowerBound <= time < window.upperBound` are indexed.
    ///   - contentPrecedes: for rows of equal event and created times, whether the first row's content orders below
    ///     the second's (called on exact ties only); nil: the later row wins.
    public init(keys: [Column], times: [Int64], timesValid: Bitmap?, created: [Int64]?, createdValid: Bitmap?,
                window: Range<Int64>? = nil, contentPrecedes: ((Int, Int) -> Bool)? = nil) {
        var encoder = KeyEncoder(parts: keys.count)
        let codes = encoder.encode(keys, insert: true)
        let rows = times.count
        var table = Int64Table(capacity: 1024)
        var groupOf = [Int32](repeating: -1, count: rows)
        var next: Int32 = 0
        var inWindow = 0
        for r in 0..<rows {
            if let valid = timesValid, !valid[r] { continue }
            if let window, !window.contains(times[r]) { continue }
            inWindow += 1
            let code = codes[r]
            if code == KeyCode.null || code == KeyCode.absent { continue }
            groupOf[r] = table.insert(code) {
                defer { next += 1 }
                return next
            }
        }
        let groupCount = Int(next)
        // Counting sort by group (stable: row order within a group is kept).
        var start = [Int32](repeating: 0, count: groupCount + 1)
        for g in groupOf where g >= 0 { start[Int(g) + 1] += 1 }
        for g in 0..<groupCount { start[g + 1] += start[g] }
        let kept = Int(start[groupCount])
        var fill = start
        var order = [Int32](repeating: 0, count: kept)
        for r in 0..<rows {
            let g = Int(groupOf[r])
            if g < 0 { continue }
            order[Int(fill[g])] = Int32(r)
            fill[g] += 1
        }
        // Within each group: ordered by the rule (event time, created time, row).
        let rule = RowOrder(times: times, created: created, createdValid: createdValid, contentPrecedes: contentPrecedes)
        order.withUnsafeMutableBufferPointer { o in
            for g in 0..<groupCount {
                let lo = Int(start[g]), hi = Int(start[g + 1])
                guard hi - lo > 1 else { continue }
                var sorted = true
                for i in (lo + 1)..<hi where !rule.precedes(Int(o[i - 1]), Int(o[i])) {
                    sorted = false
                    break
                }
                if sorted { continue }
                var slice = UnsafeMutableBufferPointer(rebasing: o[lo..<hi])
                slice.sort { x, y in rule.precedes(Int(x), Int(y)) }
            }
        }
        self.encoder = encoder
        self.rowsInWindow = inWindow
        self.groups = table
        self.groupStart = start
        self.sortedRows = order
        self.sortedTimes = order.map { times[Int($0)] }
    }

    /// Rows with a valid event time (inside the window, when one was given), null keys included.
    public let rowsInWindow: Int

    /// The number of distinct entity keys indexed.
    public var distinctKeys: Int { groups.count }

    /// Each entity's latest row by the rule, one per distinct key, in the order the keys first appear in the source.
    public func latestRows() -> [Int32] {
        (0..<groups.count).map { sortedRows[Int(groupStart[$0 + 1]) - 1] }
    }

    /// The winning source row for each entity row, or -1 when none; entity rows are split across all cores.
    ///
    /// - Parameters:
    ///   - codes: the entity rows' key codes, from ``encoder`` with `insert: false`.
    ///   - times: the entity rows' times, in the unit of the indexed times.
    ///   - timesValid: which entity times are not null (nil: all); a null time matches nothing.
    ///   - ttl: the longest age of a winner, in the same unit (0: no limit).
    public func winners(codes: [Int64], times: [Int64], timesValid: Bitmap?, ttl: Int64) -> [Int32] {
        let n = codes.count
        return [Int32](unsafeUninitializedCapacity: n) { out, initialized in
            let base = out.baseAddress!
            let address = Int(bitPattern: base)
            let chunks = n < 65_536 ? 1 : 8
            let size = (n + chunks - 1) / max(chunks, 1)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let out = UnsafeMutablePointer<Int32>(bitPattern: address)!
                let lo = c * size, hi = min(n, lo + size)
                guard lo < hi else { return }
                sortedTimes.withUnsafeBufferPointer { st in
                    for r in lo..<hi {
                        out[r] = probe(code: codes[r], time: times[r], valid: timesValid.map { $0[r] } ?? true,
                                       ttl: ttl, sortedTimes: st)
                    }
                }
            }
            initialized = n
        }
    }

    @inline(__always)
    private func probe(code: Int64, time t: Int64, valid: Bool, ttl: Int64, sortedTimes st: UnsafeBufferPointer<Int64>) -> Int32 {
        guard valid, code != KeyCode.null, code != KeyCode.absent, let g = groups.find(code) else { return -1 }
        var lo = Int(groupStart[Int(g)]), hi = Int(groupStart[Int(g) + 1])
        let first = lo
        // First index with time > t.
        while lo < hi {
            let mid = (lo + hi) >> 1
            if st[mid] <= t { lo = mid + 1 } else { hi = mid }
        }
        let i = lo - 1
        guard i >= first else { return -1 }
        if ttl > 0, st[i] < EventTime.before(t, by: ttl) { return -1 }
        return sortedRows[i]
    }
}

/// The rule for which of two rows of one entity is the later: the greater event time; for equal event times, the
/// greater created time (a null created time is the lowest); for equal event and created times, the greater content,
/// then the later row of the source. Written once: ``LatestRowIndex`` sorts by it and ``LatestRows`` reduces by it.
struct RowOrder {
    let times: [Int64]
    let created: [Int64]?
    let createdValid: Bitmap?
    let contentPrecedes: ((Int, Int) -> Bool)?

    @inline(__always)
    func createdTime(_ r: Int) -> Int64 {
        guard let created else { return Int64.min }
        if let createdValid, !createdValid[r] { return Int64.min }
        return created[r]
    }

    /// Whether row `a` comes before row `b` (so `b` wins over `a`).
    @inline(__always)
    func precedes(_ a: Int, _ b: Int) -> Bool {
        let ta = times[a], tb = times[b]
        if ta != tb { return ta < tb }
        let ca = createdTime(a), cb = createdTime(b)
        if ca != cb { return ca < cb }
        if let contentPrecedes {
            if contentPrecedes(a, b) { return true }
            if contentPrecedes(b, a) { return false }
        }
        return a < b
    }
}

/// Each entity's latest row among the rows of a window, by the rule of ``LatestRowIndex`` (the same comparison), in
/// one pass over the rows: what materialization loads into the online store.
public struct LatestRows: Sendable {
    /// Each entity's latest row, one per distinct key, in the order the keys first appear in the source.
    public let rows: [Int32]
    /// Rows with a valid event time inside the window, null keys included.
    public let rowsInWindow: Int

    /// Finds each entity's latest row with `window.lowerBound <= time < window.upperBound`.
    ///
    /// - Parameters:
    ///   - keys: the join key columns, in the view's join key order.
    ///   - times: event times, one per row (any one unit, the window's).
    ///   - timesValid: which event times are not null (nil: all).
    ///   - created: created times in any unit, or nil when the source has none.
    ///   - createdValid: which created times are not null (nil: all).
    ///   - window: the rows that count.
    ///   - contentPrecedes: for exact ties of event and created time, whether the first row's content orders below the
    ///     second's (see ``LatestRowIndex``).
    public init(keys: [Column], times: [Int64], timesValid: Bitmap?, created: [Int64]?, createdValid: Bitmap?, window: Range<Int64>,
                contentPrecedes: ((Int, Int) -> Bool)? = nil) {
        var encoder = KeyEncoder(parts: keys.count)
        let codes = encoder.encode(keys, insert: true)
        let rule = RowOrder(times: times, created: created, createdValid: createdValid, contentPrecedes: contentPrecedes)
        var groups = Int64Table(capacity: 1024)
        var best: [Int32] = []
        var inWindow = 0
        for r in 0..<times.count {
            if let timesValid, !timesValid[r] { continue }
            guard window.contains(times[r]) else { continue }
            inWindow += 1
            let code = codes[r]
            if code == KeyCode.null || code == KeyCode.absent { continue }
            let g = Int(groups.insert(code) {
                best.append(Int32(r))
                return Int32(best.count - 1)
            })
            let current = Int(best[g])
            if current != r, rule.precedes(current, r) { best[g] = Int32(r) }
        }
        self.rows = best
        self.rowsInWindow = inWindow
    }
}
