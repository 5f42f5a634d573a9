import Foundation

/// The arithmetic of the language on plain Swift values, one function per rule, shared by the per-row and the
/// column evaluators (which is why they agree bit for bit). `nil` means the result is null:
///
/// | case | result |
/// | --- | --- |
/// | integer overflow (`+ - *`, unary `-`, `abs`) | null |
/// | division or remainder by zero (integer or float) | null |
/// | `sqrt` of a negative, `ln`/`log` of zero or less, `pow` that is not a real number | null |
/// | a float overflowing | infinity (IEEE 754) |
/// | comparing floats | NaN equals NaN and is greater than every number; -0.0 equals 0.0 (SQL's order) |
/// | comparing strings | byte order of their UTF-8 |
enum Kernels {
    @inline(__always) static func add(_ a: Int64, _ b: Int64) -> Int64? {
        let (r, o) = a.addingReportingOverflow(b); return o ? nil : r
    }
    @inline(__always) static func subtract(_ a: Int64, _ b: Int64) -> Int64? {
        let (r, o) = a.subtractingReportingOverflow(b); return o ? nil : r
    }
    @inline(__always) static func multiply(_ a: Int64, _ b: Int64) -> Int64? {
        let (r, o) = a.multipliedReportingOverflow(by: b); return o ? nil : r
    }
    @inline(__always) static func negate(_ a: Int64) -> Int64? { a == .min ? nil : -a }
    @inline(__always) static func remainder(_ a: Int64, _ b: Int64) -> Int64? {
        if b == 0 { return nil }
        if b == -1 { return 0 } // Int64.min % -1 is 0, not a trap
        return a % b
    }
    @inline(__always) static func abs(_ a: Int64) -> Int64? { a == .min ? nil : Swift.abs(a) }

    @inline(__always) static func add(_ a: Double, _ b: Double) -> Double { a + b }
    @inline(__always) static func subtract(_ a: Double, _ b: Double) -> Double { a - b }
    @inline(__always) static func multiply(_ a: Double, _ b: Double) -> Double { a * b }
    @inline(__always) static func divide(_ a: Double, _ b: Double) -> Double? { b == 0 ? nil : a / b }
    @inline(__always) static func remainder(_ a: Double, _ b: Double) -> Double? { b == 0 ? nil : a.truncatingRemainder(dividingBy: b) }
    @inline(__always) static func secondsBetween(_ a: Int64, _ b: Int64) -> Double {
        // Exact in integers when it fits; the difference of two valid times always does.
        let (d, o) = a.subtractingReportingOverflow(b)
        return o ? (Double(a) - Double(b)) / 1_000_000 : Double(d) / 1_000_000
    }

    @inline(__always) static func sqrt(_ x: Double) -> Double? { x < 0 ? nil : x.squareRoot() }
    @inline(__always) static func ln(_ x: Double) -> Double? { x > 0 || x.isNaN ? Foundation.log(x) : nil }
    @inline(__always) static func log10(_ x: Double) -> Double? { x > 0 || x.isNaN ? Foundation.log10(x) : nil }
    @inline(__always) static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) static func pow(_ x: Double, _ y: Double) -> Double? {
        let r = Foundation.pow(x, y)
        return r.isNaN && !x.isNaN && !y.isNaN ? nil : r
    }
    @inline(__always) static func round(_ x: Double) -> Double { x.rounded(.toNearestOrAwayFromZero) }
    static func round(_ x: Double, digits: Int64) -> Double {
        guard x.isFinite else { return x }
        let d = Swift.max(-308, Swift.min(308, digits))
        let scale = Foundation.pow(10.0, Double(Swift.abs(d)))
        if d >= 0 {
            let scaled = x * scale
            return scaled.isFinite ? (scaled.rounded(.toNearestOrAwayFromZero) / scale) : x
        }
        return (x / scale).rounded(.toNearestOrAwayFromZero) * scale
    }
    @inline(__always) static func floor(_ x: Double) -> Double { x.rounded(.down) }
    @inline(__always) static func ceil(_ x: Double) -> Double { x.rounded(.up) }

    /// The great-circle distance in kilometres on a sphere of the Earth's mean radius (6371.0088 km).
    static func haversineKm(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
        let r = 6371.0088, rad = Double.pi / 180
        let dLat = (lat2 - lat1) * rad, dLon = (lon2 - lon1) * rad
        let s1 = Foundation.sin(dLat / 2), s2 = Foundation.sin(dLon / 2)
        let h = s1 * s1 + Foundation.cos(lat1 * rad) * Foundation.cos(lat2 * rad) * s2 * s2
        return 2 * r * Foundation.asin(Swift.min(1, h.squareRoot()))
    }

    /// SQL's order of floats: NaN equals NaN and is above every number.
    @inline(__always) static func order(_ a: Double, _ b: Double) -> Int {
        if a < b { return -1 }
        if a > b { return 1 }
        if a == b { return 0 }
        if a.isNaN { return b.isNaN ? 0 : 1 }
        return -1
    }
    @inline(__always) static func order(_ a: Int64, _ b: Int64) -> Int { a < b ? -1 : a == b ? 0 : 1 }
    @inline(__always) static func order(_ a: Bool, _ b: Bool) -> Int { a == b ? 0 : a ? 1 : -1 }
    @inline(__always) static func order(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let n = Swift.min(a.count, b.count)
        if n > 0, let pa = a.baseAddress, let pb = b.baseAddress {
            let c = memcmp(pa, pb, n)
            if c != 0 { return c < 0 ? -1 : 1 }
        }
        return a.count < b.count ? -1 : a.count == b.count ? 0 : 1
    }
    static func order(_ a: String, _ b: String) -> Int {
        var a = a, b = b
        return a.withUTF8 { pa in b.withUTF8 { pb in order(UnsafeRawBufferPointer(pa), UnsafeRawBufferPointer(pb)) } }
    }

    // Time, UTC, on microseconds since the epoch.
    @inline(__always) static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
    /// Year, month (1-12) and day (1-31) of a day number since 1970-01-01 (proleptic Gregorian).
    static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
    static let microsPerDay: Int64 = 86_400_000_000
    @inline(__always) static func days(_ t: Int64) -> Int64 { floorDivide(t, microsPerDay) }
    @inline(__always) static func hour(_ t: Int64) -> Int64 { (t - days(t) * microsPerDay) / 3_600_000_000 }
    @inline(__always) static func minute(_ t: Int64) -> Int64 { ((t - days(t) * microsPerDay) / 60_000_000) % 60 }
    /// 0 = Sunday ... 6 = Saturday (1970-01-01 was a Thursday).
    @inline(__always) static func dayOfWeek(_ t: Int64) -> Int64 {
        let r = (days(t) + 4) % 7
        return r < 0 ? r + 7 : r
    }
    @inline(__always) static func epochSeconds(_ t: Int64) -> Int64 { floorDivide(t, 1_000_000) }

    // Strings.
    static func substring(_ s: String, start: Int64, length: Int64?) -> String? {
        if let length, length < 0 { return nil }
        // SQL: positions are 1-based; a start before 1 still counts the characters before it.
        let from = start, to: Int64? = length.map { start.addingReportingOverflow($0).overflow ? Int64.max : start + $0 }
        var out = String.UnicodeScalarView()
        var position: Int64 = 1
        for scalar in s.unicodeScalars {
            if let to, position >= to { break }
            if position >= from { out.append(scalar) }
            position += 1
        }
        return String(out)
    }
    // The byte-level string kernels: both evaluators call these (the row evaluator through the strings' UTF-8).
    /// Unicode scalars in valid UTF-8: the bytes that do not continue a sequence.
    @inline(__always) static func length(_ s: UnsafeRawBufferPointer) -> Int64 {
        var n: Int64 = 0
        for b in s where b & 0xC0 != 0x80 { n += 1 }
        return n
    }
    @inline(__always) static func startsWith(_ s: UnsafeRawBufferPointer, _ p: UnsafeRawBufferPointer) -> Bool {
        p.count <= s.count && (p.count == 0 || memcmp(s.baseAddress!, p.baseAddress!, p.count) == 0)
    }
    @inline(__always) static func endsWith(_ s: UnsafeRawBufferPointer, _ p: UnsafeRawBufferPointer) -> Bool {
        p.count <= s.count && (p.count == 0 || memcmp(s.baseAddress! + (s.count - p.count), p.baseAddress!, p.count) == 0)
    }
    @inline(__always) static func contains(_ s: UnsafeRawBufferPointer, _ p: UnsafeRawBufferPointer) -> Bool {
        if p.count == 0 { return true }
        guard p.count <= s.count, let sb = s.baseAddress, let pb = p.baseAddress else { return false }
        let first = p[0]
        var i = 0
        while i + p.count <= s.count {
            if s[i] == first && memcmp(sb + i, pb, p.count) == 0 { return true }
            i += 1
        }
        return false
    }
    /// Calls `body` with the UTF-8 bytes of two strings.
    @inline(__always) static func bytes<R>(_ a: String, _ b: String, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> R) -> R {
        var a = a, b = b
        return a.withUTF8 { pa in b.withUTF8 { pb in body(UnsafeRawBufferPointer(pa), UnsafeRawBufferPointer(pb)) } }
    }
    static func length(_ s: String) -> Int64 { var s = s; return s.withUTF8 { length(UnsafeRawBufferPointer($0)) } }
    static func contains(_ s: String, _ part: String) -> Bool { bytes(s, part, contains) }
    static func startsWith(_ s: String, _ prefix: String) -> Bool { bytes(s, prefix, startsWith) }
    static func endsWith(_ s: String, _ suffix: String) -> Bool { bytes(s, suffix, endsWith) }

    // Casts.
    static func int(_ x: Double) -> Int64? {
        let r = x.rounded(.toNearestOrAwayFromZero)
        guard r.isFinite, r >= -9.223372036854775808e18, r < 9.223372036854775808e18 else { return nil }
        return Int64(r)
    }
    static func int32Range(_ x: Int64) -> Int64? { x >= Int64(Int32.min) && x <= Int64(Int32.max) ? x : nil }
    static func float32(_ x: Double) -> Double { Double(Float(x)) }
    static func bool(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "true", "t", "1", "yes": return true
        case "false", "f", "0", "no": return false
        default: return nil
        }
    }
    static func int(_ s: String) -> Int64? { Int64(s.trimmingCharacters(in: .whitespaces)) }
    static func double(_ s: String) -> Double? { Double(s.trimmingCharacters(in: .whitespaces)) }
    static func text(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        return "\(x)"
    }
    /// `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`.
    static func text(timestamp t: Int64) -> String {
        let d = days(t)
        let (y, m, day) = civil(days: d)
        let rest = t - d * microsPerDay
        let seconds = rest / 1_000_000, micros = rest % 1_000_000
        func pad(_ v: Int64, _ n: Int) -> String {
            let s = String(v)
            return s.count >= n ? s : String(repeating: "0", count: n - s.count) + s
        }
        let fraction = micros == 0 ? "" : "." + pad(micros, 6)
        let year = y < 0 ? "-" + pad(-y, 4) : pad(y, 4)
        return "\(year)-\(pad(m, 2))-\(pad(day, 2))T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))\(fraction)Z"
    }
}
