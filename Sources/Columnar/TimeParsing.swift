/// Parsing of ISO-8601 / RFC 3339 times, shared by every place that reads a time written by a person or a producer
/// (HTTP requests, stream events, command-line arguments).
public enum TimeParsing {
    /// Microseconds since the epoch of an RFC 3339 time: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fraction]]` with an
    /// optional `Z` or `±HH:MM` offset (no offset means UTC). `T` may be a space or `t`; up to 9 fraction digits are
    /// read and truncated to microseconds. Returns `nil` for anything else, including out-of-range fields.
    public static func iso8601Micros(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { iso8601Micros(bytes: $0) }
    }

    /// ``iso8601Micros(_:)`` over UTF-8 bytes.
    public static func iso8601Micros(bytes b: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        func digits(_ n: Int) -> Int64? {
            guard i + n <= b.count else { return nil }
            var v: Int64 = 0
            for k in i..<(i + n) {
                let d = b[k] &- 48
                guard d < 10 else { return nil }
                v = v * 10 + Int64(d)
            }
            i += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(45), let month = digits(2), expect(45), let day = digits(2) else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year) else { return nil }
        var micros = Column.days(year: year, month: month, day: day) * 86_400_000_000
        guard i < b.count else { return micros }
        guard b[i] == 84 || b[i] == 116 || b[i] == 32 else { return nil } // T, t, space
        i += 1
        guard let hour = digits(2), expect(58), let minute = digits(2), hour < 24, minute < 60 else { return nil }
        var second: Int64 = 0
        if expect(58) {
            guard let s = digits(2), s < 61 else { return nil } // 60: a leap second, read as the next second
            second = s
            if expect(46) || expect(44) { // '.' or ','
                var fraction: Int64 = 0
                var count = 0
                while i < b.count, b[i] &- 48 < 10 {
                    if count < 6 { fraction = fraction * 10 + Int64(b[i] - 48) }
                    count += 1
                    i += 1
                    guard count <= 9 else { return nil }
                }
                guard count > 0 else { return nil }
                for _ in count..<max(count, 6) { fraction *= 10 }
                micros += fraction
            }
        }
        micros += ((hour * 60 + minute) * 60 + second) * 1_000_000
        guard i < b.count else { return micros }
        if b[i] == 90 || b[i] == 122 { // Z, z
            i += 1
        } else if b[i] == 43 || b[i] == 45 { // + -
            let sign: Int64 = b[i] == 43 ? 1 : -1
            i += 1
            guard let oh = digits(2), expect(58), let om = digits(2), oh < 24, om < 60 else { return nil }
            micros -= sign * (oh * 60 + om) * 60_000_000
        } else {
            return nil
        }
        return i == b.count ? micros : nil
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
