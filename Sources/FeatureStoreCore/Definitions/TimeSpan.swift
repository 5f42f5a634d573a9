/// A length of time written the way people write it in definitions: `90s`, `15m`, `2h`, `7d`, `1w`, `1h30m`, or `0`.
///
/// A feature view's `ttl` is a `TimeSpan`; zero means "no limit".
public struct TimeSpan: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The length in whole seconds.
    public var seconds: Int64

    /// A span of `seconds` whole seconds.
    public init(seconds: Int64) {
        self.seconds = seconds
    }

    /// The zero span (an unbounded ttl).
    public static let zero = TimeSpan(seconds: 0)

    private static let units: [(suffix: Character, seconds: Int64)] = [
        ("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1),
    ]

    /// Parses a span; `nil` when the text is not one (`2 hours`, `-1h`, `h2`, an empty string).
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t == "0" { self.seconds = 0; return }
        guard !t.isEmpty else { return nil }
        var total: Int64 = 0
        var number: Int64? = nil
        var lastUnitRank = -1
        for ch in t {
            if let digit = ch.wholeNumberValue, ch.isASCII {
                let (m, o1) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (n, o2) = m.addingReportingOverflow(Int64(digit))
                if o1 || o2 { return nil }
                number = n
            } else if let rank = Self.units.firstIndex(where: { $0.suffix == ch }) {
                // Units must come largest first, each at most once: 1d2h, not 2h1d.
                guard let n = number, rank > lastUnitRank else { return nil }
                let (product, o1) = n.multipliedReportingOverflow(by: Self.units[rank].seconds)
                let (sum, o2) = total.addingReportingOverflow(product)
                if o1 || o2 { return nil }
                total = sum
                number = nil
                lastUnitRank = rank
            } else {
                return nil
            }
        }
        guard number == nil else { return nil } // a trailing number without a unit
        self.seconds = total
    }

    /// The canonical spelling: the largest units first (`1d2h`), `0` for zero.
    public var description: String {
        if seconds == 0 { return "0" }
        var rest = seconds
        var out = ""
        // Weeks are accepted on input but printed as days: `30d` reads better than `4w2d`.
        for unit in Self.units.dropFirst() where rest >= unit.seconds {
            out += "\(rest / unit.seconds)\(unit.suffix)"
            rest %= unit.seconds
        }
        return out
    }

    /// Shorter first.
    public static func < (lhs: TimeSpan, rhs: TimeSpan) -> Bool { lhs.seconds < rhs.seconds }
}

extension TimeSpan: Codable {
    /// Decodes a span written as text (`90s`, `1h30m`); throws for text that is not one.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let span = TimeSpan(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad duration '\(text)'"))
        }
        self = span
    }

    /// Encodes the canonical spelling (``description``).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

import Foundation
