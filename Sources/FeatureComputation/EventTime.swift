public import Columnar

/// The one conversion of times every engine and store shares: microseconds since the epoch (UTC), the unit of the
/// online store, of lookups and of the tiles. Finer times round down (toward the past, before 1970 too), so an
/// event at -1.5 us is at -2 us in the training set and online alike; coarser times are scaled, saturating at the
/// ends of `Int64` (beyond about 292,000 years from 1970).
public enum EventTime {
    /// `nanoseconds` as microseconds, rounded down.
    @inline(__always)
    public static func microseconds(fromNanoseconds nanoseconds: Int64) -> Int64 {
        nanoseconds >= 0 ? nanoseconds / 1000 : (nanoseconds + 1) / 1000 - 1
    }

    /// `ticks` of `unit` as microseconds: nanoseconds rounded down, milliseconds scaled (saturating).
    @inline(__always)
    public static func microseconds(_ ticks: Int64, unit: TimeUnit) -> Int64 {
        switch unit {
        case .nanoseconds: return microseconds(fromNanoseconds: ticks)
        case .microseconds: return ticks
        case .milliseconds: return scaled(ticks, by: 1000)
        }
    }

    /// Days since the epoch as microseconds (saturating).
    @inline(__always)
    public static func microseconds(days: Int32) -> Int64 { scaled(Int64(days), by: 86_400_000_000) }

    /// `t - span` (a span >= 0), saturating at `Int64.min`: the start of a window or a ttl reaching before every time.
    @inline(__always)
    public static func before(_ t: Int64, by span: Int64) -> Int64 {
        let (d, overflow) = t.subtractingReportingOverflow(span)
        return overflow ? Int64.min : d
    }

    /// `x * factor`, saturating at the ends of `Int64`.
    @inline(__always)
    public static func scaled(_ x: Int64, by factor: Int64) -> Int64 {
        let (product, overflow) = x.multipliedReportingOverflow(by: factor)
        return overflow ? (x < 0 ? Int64.min : Int64.max) : product
    }

    /// A timestamp or date column's values as microseconds (nil for other types; null slots hold 0 or whatever the
    /// column holds, read the column's validity).
    public static func microseconds(of column: Column) -> [Int64]? {
        switch (column.type, column.values) {
        case (.timestamp(let unit, _), .int64(let v)):
            return unit == .microseconds ? v : v.map { microseconds($0, unit: unit) }
        case (.date32, .int32(let v)):
            return v.map { microseconds(days: $0) }
        default:
            return nil
        }
    }
}
