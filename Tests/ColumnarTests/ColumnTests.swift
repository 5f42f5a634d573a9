import Columnar
import Testing

@Suite("Columns and tables", .timeLimit(.minutes(3)))
struct ColumnTests {
    static let strings = Column(strings: ["a", nil, "ccc", ""])
    static let lists = Column(type: .list(.int64), values: .list(offsets: [0, 2, 2, 3, 3], values: Column(int64: [1, 2, 3])),
                              validity: Bitmap([true, true, true, false]))

    @Test("take gathers rows in any order, repeats them, and gives null for -1 (a join's miss)")
    func take() {
        let taken = Self.strings.take([2, -1, 0, 2, 1])
        #expect((0..<5).map { taken.isNull($0) ? nil : taken.text(at: $0) } == ["ccc", nil, "a", "ccc", nil])
        let ints = Column(int64: [10, 20, 30]).take([-1, 2])
        #expect(ints.isNull(0) && !ints.isNull(1) && ints.text(at: 1) == "30")
        let lists = Self.lists.take([0, 3, 2])
        #expect(lists.json(at: 0) == "[1, 2]" && lists.isNull(1) && lists.json(at: 2) == "[3]")
    }

    @Test("slice keeps values and nulls of the range, lists included")
    func slice() {
        let s = Self.strings.slice(1..<4)
        #expect(s.count == 3 && s.isNull(0) && s.text(at: 1) == "ccc" && s.text(at: 2) == "")
        let l = Self.lists.slice(1..<3)
        #expect(l.json(at: 0) == "[]" && l.json(at: 1) == "[3]")
    }

    @Test("concatenate joins parts with their nulls; parts of different types are an error")
    func concatenate() throws {
        let joined = try Column.concatenate([Self.strings, Column(strings: ["z"])])
        #expect(joined.count == 5 && joined.isNull(1) && joined.text(at: 4) == "z")
        let lists = try Column.concatenate([Self.lists, Self.lists.slice(0..<1)])
        #expect(lists.count == 5 && lists.isNull(3) && lists.json(at: 4) == "[1, 2]")
        #expect(throws: ColumnarError.self) { _ = try Column.concatenate([Self.strings, Column(int64: [1])]) }
    }

    @Test("timestamps of every unit convert to nanoseconds, dates to midnight; other columns do not")
    func timestampNanoseconds() {
        #expect(Column(timestamps: [1, -1], unit: .milliseconds).timestampNanoseconds() == [1_000_000, -1_000_000])
        #expect(Column(timestamps: [1], unit: .milliseconds).timestampNanoseconds() == [1_000_000])
        #expect(Column(timestamps: [1], unit: .microseconds).timestampNanoseconds() == [1_000])
        #expect(Column(timestamps: [1], unit: .nanoseconds).timestampNanoseconds() == [1])
        #expect(Column(.date32, int32: [1]).timestampNanoseconds() == [86_400_000_000_000])
        #expect(Column(int64: [1]).timestampNanoseconds() == nil)
    }

    @Test("ISO-8601 times: offsets, fractions, leap days and the leap second; out-of-range fields are rejected")
    func isoTimes() {
        #expect(TimeParsing.iso8601Micros("2024-02-29T00:00:00Z") == 1_709_164_800_000_000)
        #expect(TimeParsing.iso8601Micros("2023-02-29") == nil)
        #expect(TimeParsing.iso8601Micros("2024-01-01T00:00:00-01:30") == TimeParsing.iso8601Micros("2024-01-01T01:30:00Z"))
        #expect(TimeParsing.iso8601Micros("2016-12-31T23:59:60Z") == TimeParsing.iso8601Micros("2017-01-01T00:00:00Z"))
        #expect(TimeParsing.iso8601Micros("1969-12-31T23:59:59.999999Z") == -1)
        #expect(TimeParsing.iso8601Micros("2024-13-01") == nil)
        #expect(TimeParsing.iso8601Micros("2024-01-01T24:00:00Z") == nil)
        #expect(TimeParsing.iso8601Micros("2024-01-01T00:00:00+24:00") == nil)
        #expect(Column.isoTimestamp(-1, unit: .microseconds, utc: true) == "1969-12-31T23:59:59.999999Z")
    }

    @Test("a table's columns must have one length, and a schema one field per column")
    func tableShape() throws {
        #expect(throws: ColumnarError.self) { _ = try Table([("a", Column(int64: [1])), ("b", Column(int64: [1, 2]))]) }
        #expect(throws: ColumnarError.self) { _ = try Table(schema: Schema([Field("a", .int64, nullable: true)]), columns: []) }
        #expect(try Table([("a", Column(int64: [1, 2]))]).rowCount == 2)
    }
}
