/// A decoded Avro value, with logical types applied: times as microseconds since the epoch, decimals exact.
public enum AvroValue: Sendable, Hashable {
    case null
    case boolean(Bool)
    /// `int` or `long` (and `time-millis`/`time-micros`, as written).
    case long(Int64)
    case float(Float)
    case double(Double)
    case bytes([UInt8])
    /// `string`, and `uuid`.
    case string(String)
    /// The symbol of an `enum`.
    case symbol(String)
    /// `timestamp-*`, `local-timestamp-*` and `date`, in microseconds since the epoch (nanoseconds floored).
    case timestamp(Int64)
    /// A `decimal`: the unscaled two's-complement big-endian integer, and the scale.
    case decimal(unscaled: [UInt8], scale: Int)
    case array([AvroValue])
    /// A record or a map (not decoded further: no feature holds one), by kind.
    case nested(String)

    /// A decimal as the nearest `Double` (one rounding, from its exact decimal text).
    public static func double(unscaled: [UInt8], scale: Int) -> Double {
        Double(decimalText(unscaled: unscaled, scale: scale)) ?? .nan
    }

    /// A decimal's exact text (`-12.345`).
    public static func decimalText(unscaled: [UInt8], scale: Int) -> String {
        guard !unscaled.isEmpty else { return "0" }
        let negative = unscaled[0] & 0x80 != 0
        // The magnitude, big-endian (two's complement negated for negative values).
        var magnitude = unscaled
        if negative {
            for i in magnitude.indices { magnitude[i] = ~magnitude[i] }
            var i = magnitude.count - 1
            while i >= 0 {
                let (sum, carry) = magnitude[i].addingReportingOverflow(1)
                magnitude[i] = sum
                if !carry { break }
                i -= 1
            }
        }
        // Base 256 to base 10 by repeated division.
        var digits: [UInt8] = []
        var number = magnitude.drop { $0 == 0 }.map { $0 }
        while !number.isEmpty {
            var remainder = 0
            var quotient: [UInt8] = []
            quotient.reserveCapacity(number.count)
            for byte in number {
                let value = remainder * 256 + Int(byte)
                let q = value / 10
                remainder = value % 10
                if !(quotient.isEmpty && q == 0) { quotient.append(UInt8(q)) }
            }
            digits.append(UInt8(remainder))
            number = quotient
        }
        if digits.isEmpty { digits = [0] }
        while digits.count <= scale { digits.append(0) }
        var text = negative ? "-" : ""
        for (i, d) in digits.reversed().enumerated() {
            if i == digits.count - scale { text += "." }
            text += String(d)
        }
        return text
    }
}
