import Columnar
import FeatureComputation
import Testing

/// The one rule for which row is an entity's value at a time, as both the join (``LatestRowIndex/winners``) and
/// materialization (``LatestRowIndex/latestRows()``) apply it.
@Suite("Latest-row rule shared by training and serving", .timeLimit(.minutes(3)))
struct LatestRowIndexTests {
    /// An index over rows of (key, event time, created time or nil).
    static func index(_ rows: [(key: Int64?, time: Int64?, created: Int64?)], window: Range<Int64>? = nil, createdColumn: Bool = true) -> LatestRowIndex {
        let times = Column(int64: rows.map(\.time))
        let created = Column(int64: rows.map(\.created))
        guard case .int64(let t) = times.values, case .int64(let c) = created.values else { fatalError("int64 columns") }
        return LatestRowIndex(keys: [Column(int64: rows.map(\.key))], times: t, timesValid: times.validity,
                              created: createdColumn ? c : nil, createdValid: createdColumn ? created.validity : nil, window: window)
    }

    /// The winning row per lookup (key, time), with a ttl.
    static func winners(_ index: LatestRowIndex, _ lookups: [(Int64, Int64)], ttl: Int64 = 0) -> [Int32] {
        var encoder = index.encoder
        let codes = encoder.encode([Column(int64: lookups.map { Optional($0.0) })], insert: false)
        return index.winners(codes: codes, times: lookups.map(\.1), timesValid: nil, ttl: ttl)
    }

    @Test("the greatest event time wins; then the greatest created time; then the later row")
    func ordering() {
        let index = Self.index([(1, 10, 5), (1, 20, 1), (1, 20, 3), (1, 20, 2), (2, 7, 1), (2, 7, 1), (3, 5, nil), (3, 5, 0)])
        #expect(index.latestRows() == [2, 5, 7])
        #expect(Self.winners(index, [(1, 25), (2, 7), (3, 5)]) == [2, 5, 7])
    }

    @Test("a null created time is lower than any created time; without created times, the later row wins")
    func nullCreatedAndNoCreated() {
        #expect(Self.index([(1, 5, 0), (1, 5, nil)]).latestRows() == [0])
        #expect(Self.index([(1, 5, 9), (1, 5, 1)], createdColumn: false).latestRows() == [1])
    }

    @Test("rows with a null key part or a null event time never count")
    func nullsNeverCount() {
        let index = Self.index([(nil, 100, 0), (1, nil, 0), (1, 3, 0)])
        #expect(index.latestRows() == [2])
        #expect(index.rowsInWindow == 2, "the null-key row is in the window, the null-time row is not")
        #expect(Self.winners(index, [(1, 200)]) == [2])
    }

    @Test("a lookup at t takes the latest row at or before t, within the ttl (inclusive), or none")
    func pointInTime() {
        let index = Self.index([(1, 10, 0), (1, 20, 0), (1, 30, 0)])
        #expect(Self.winners(index, [(1, 9), (1, 10), (1, 29), (1, 30), (1, 1000), (2, 30)]) == [-1, 0, 1, 2, 2, -1])
        #expect(Self.winners(index, [(1, 35), (1, 36)], ttl: 5) == [2, -1])
    }

    @Test("a window keeps rows with start <= time < end: the latest in it is each entity's latest row")
    func window() {
        let rows: [(key: Int64?, time: Int64?, created: Int64?)] = [(1, 10, 0), (1, 20, 0), (1, 30, 0), (2, 30, 0), (3, 9, 0), (nil, 15, 0)]
        let index = Self.index(rows, window: 10..<30)
        #expect(index.latestRows() == [1])
        #expect(index.rowsInWindow == 3)
        #expect(index.distinctKeys == 1)
        let times = Column(int64: rows.map(\.time))
        guard case .int64(let t) = times.values else { return }
        let latest = LatestRows(keys: [Column(int64: rows.map(\.key))], times: t, timesValid: nil, created: nil, createdValid: nil, window: 10..<30)
        #expect(latest.rows == [1] && latest.rowsInWindow == 3)
    }

    @Test("the join and materialization agree: LatestRows, latestRows and winners after every row pick the same rows, for random rows", arguments: [1, 2, 3])
    func latestRowsEqualWinners(seed: UInt64) {
        var state = seed
        func next(_ n: Int64) -> Int64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int64((state >> 33) % UInt64(n))
        }
        let rows: [(key: Int64?, time: Int64?, created: Int64?)] = (0..<5_000).map { _ in
            (next(50) == 0 ? nil : next(300), next(40) == 0 ? nil : next(1_000), next(10) == 0 ? nil : next(3))
        }
        let index = Self.index(rows)
        let latest = index.latestRows()
        let times = Column(int64: rows.map(\.time)), created = Column(int64: rows.map(\.created))
        guard case .int64(let t) = times.values, case .int64(let c) = created.values else { return }
        let reduced = LatestRows(keys: [Column(int64: rows.map(\.key))], times: t, timesValid: times.validity, created: c,
                                 createdValid: created.validity, window: Int64.min..<Int64.max)
        #expect(reduced.rows == latest, "the one-pass reduction (materialize) and the sorted index (join) pick the same rows")
        var keys: [Int64] = []
        for r in latest { keys.append(rows[Int(r)].key!) }
        #expect(Self.winners(index, keys.map { ($0, 1_000_000) }) == latest)
        // And the rule, checked row by row: no row of the same key is later by (time, created, position).
        for (k, r) in zip(keys, latest) {
            let best = rows.indices.filter { rows[$0].key == k && rows[$0].time != nil }
                .max { (rows[$0].time!, rows[$0].created ?? .min, $0) < (rows[$1].time!, rows[$1].created ?? .min, $1) }
            #expect(best == Int(r), "key \(k)")
        }
    }
}
