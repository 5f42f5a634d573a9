/// Text and JSON renderings of single values, for command-line views and JSON output.
extension Column {
    /// Row `i` as text for humans: `null`, numbers, strings as they are, timestamps in ISO-8601.
    public func text(at i: Int) -> String {
        if isNull(i) { return "null" }
        switch render(i) {
        case .raw(let s): return s
        case .string(let s): return s
        }
    }

    /// Row `i` as a JSON value: timestamps and dates as ISO-8601 strings, binary as hex, nulls as null.
    public func json(at i: Int) -> String {
        if isNull(i) { return "null" }
        switch render(i) {
        case .raw(let s): return s
        case .string(let s): return Self.quoted(s)
        }
    }

    private enum Rendered { case raw(String), string(String) }

    private func render(_ i: Int) -> Rendered {
        switch (type, values) {
        case (.bool, .bool(let v)): return .raw(v[i] ? "true" : "false")
        case (.date32, .int32(let v)): return .string(Self.isoDate(days: Int64(v[i])))
        case (.decimal(_, let scale), .int32(let v)): return .raw(Self.decimal(Int64(v[i]), scale: scale))
        case (.decimal(_, let scale), .int64(let v)): return .raw(Self.decimal(v[i], scale: scale))
        case (.timestamp(let unit, let utc), .int64(let v)): return .string(Self.isoTimestamp(v[i], unit: unit, utc: utc))
        case (.uint64, .int64(let v)): return .raw(String(UInt64(bitPattern: v[i])))
        case (_, .int32(let v)): return .raw(String(v[i]))
        case (_, .int64(let v)): return .raw(String(v[i]))
        case (_, .float32(let v)): return v[i].isFinite ? .raw("\(v[i])") : .string("\(v[i])")
        case (_, .float64(let v)): return v[i].isFinite ? .raw("\(v[i])") : .string("\(v[i])")
        case (.string, .bytes(let b)): return .string(b.string(at: i))
        case (_, .bytes(let b)):
            let hex = b.bytes(at: i).map { byte -> String in
                let digits = Array("0123456789abcdef")
                return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
            }.joined()
            return .string(hex)
        case (_, .list(let offsets, let child)):
            let items = (offsets[i]..<offsets[i + 1]).map { child.json(at: $0) }
            return .raw("[" + items.joined(separator: ", ") + "]")
        default:
            return .string("?")
        }
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func decimal(_ unscaled: Int64, scale: Int) -> String {
        guard scale > 0 else { return String(unscaled) }
        var digits = String(unscaled.magnitude)
        while digits.count <= scale { digits = "0" + digits }
        let point = digits.index(digits.endIndex, offsetBy: -scale)
        return (unscaled < 0 ? "-" : "") + digits[..<point] + "." + digits[point...]
    }

    /// `YYYY-MM-DD` of a day count since 1970-01-01 (proleptic Gregorian).
    public static func isoDate(days: Int64) -> String {
        let (y, m, d) = civil(days)
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction][Z]` of ticks since the epoch.
    public static func isoTimestamp(_ ticks: Int64, unit: TimeUnit, utc: Bool) -> String {
        let perSecond = unit.perSecond
        var seconds = ticks / perSecond
        var fraction = ticks % perSecond
        if fraction < 0 { fraction += perSecond; seconds -= 1 }
        var days = seconds / 86_400
        var rest = seconds % 86_400
        if rest < 0 { rest += 86_400; days -= 1 }
        var text = isoDate(days: days) + "T" + pad(rest / 3600, 2) + ":" + pad(rest / 60 % 60, 2) + ":" + pad(rest % 60, 2)
        if fraction != 0 {
            let width = unit == .milliseconds ? 3 : unit == .microseconds ? 6 : 9
            var f = pad(fraction, width)
            while f.hasSuffix("0") { f.removeLast() }
            text += "." + f
        }
        return text + (utc ? "Z" : "")
    }

    private static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v.magnitude)
        return (v < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - s.count)) + s
    }

    /// Year, month, day of a day count (Howard Hinnant's algorithm).
    static func civil(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Days since 1970-01-01 of a civil date.
    public static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
