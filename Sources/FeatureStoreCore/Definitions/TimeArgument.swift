import Columnar
import Foundation
public import ErrorChain

/// A point in time written by a person: on the command line (`materialize START END`, `sample-data --end`) and
/// anywhere else a user types a time rather than a program sending one.
///
/// Every form is read in full or not at all: a time that is only partly understood is an error, never a guess.
///
/// | form | meaning |
/// | --- | --- |
/// | `2026-11-30T13:05:54Z`, `2026-11-30T13:05:54.983287Z` | ISO-8601 / RFC 3339; up to 9 fraction digits (kept to the microsecond) |
/// | `2026-11-30T13:05:54+01:00`, `2026-11-30 13:05` | an offset, or none (UTC); `T` may be a space |
/// | `2026-11-30` | midnight UTC of that day |
/// | `now` | the current time |
/// | `now-2h`, `now+1d`, `now-1d12h` | the current time moved by a duration (`90s`, `15m`, `2h`, `7d`, `1w`, `1d12h`) |
public enum TimeArgument {
    /// The accepted forms, for error messages and help texts.
    public static let accepted = "an ISO-8601 time (2026-11-30T13:05:54Z, 2026-11-30T13:05:54.983287Z, 2026-11-30 13:05:54+01:00), "
        + "a date (2026-11-30, midnight UTC), now, or now-2h / now+1d (a duration: 90s, 15m, 2h, 7d, 1w, 1d12h)"

    /// The time `text` means, in microseconds since the Unix epoch.
    ///
    /// - Parameters:
    ///   - text: the time as written (surrounding spaces are ignored).
    ///   - now: the current time in microseconds, for `now` and relative forms (default: the system clock).
    /// - Throws: ``TimeArgumentError`` quoting `text` and listing the accepted forms when any part of it cannot be read.
    public static func parse(_ text: String, now: Int64 = currentMicros()) throws(TimeArgumentError) -> Int64 {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.lowercased().hasPrefix("now") {
            let rest = t.dropFirst(3)
            if rest.isEmpty { return now }
            guard let sign = rest.first, sign == "-" || sign == "+",
                  let span = TimeSpan(parsing: String(rest.dropFirst())), span.seconds > 0 else {
                throw TimeArgumentError(text: text, reason: "after 'now' write + or - and a duration")
            }
            let (delta, o1) = span.seconds.multipliedReportingOverflow(by: 1_000_000)
            let (moved, o2) = sign == "-" ? now.subtractingReportingOverflow(delta) : now.addingReportingOverflow(delta)
            guard !o1, !o2 else { throw TimeArgumentError(text: text, reason: "the duration is too long") }
            return moved
        }
        guard let micros = TimeParsing.iso8601Micros(t) else { throw TimeArgumentError(text: text, reason: nil) }
        return micros
    }

    /// The system clock in microseconds since the Unix epoch.
    public static func currentMicros() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down))
    }
}

/// A time argument that could not be read in full.
public struct TimeArgumentError: ChainedError, Equatable {
    /// The argument as written.
    public var text: String
    /// What is wrong beyond "not a time", when known.
    public var reason: String?

    /// `invalid_time`.
    public var errorCode: String { "invalid_time" }

    /// The argument, why it is not a time, and what to write.
    public var message: String {
        "'\(text)' is not a time\(reason.map { " (\($0))" } ?? ""): write \(TimeArgument.accepted)"
    }

    /// The message.
    public var description: String { message }
}
