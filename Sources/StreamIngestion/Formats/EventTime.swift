import Columnar
import FeatureStoreCore

extension EventValue {
    /// Numbers below 10^14 are epoch milliseconds (10^14 ms is the year 5138); larger ones epoch microseconds.
    static let millisecondsBelow: Double = 1e14

    /// Microseconds since the epoch of an event time: a timestamp, an ISO-8601 string, or epoch milliseconds or
    /// microseconds.
    func eventTime(field: String) throws(BadMessage) -> Int64 {
        switch self {
        case .timestamp(let micros):
            return micros
        case .string(let s):
            guard let micros = TimeParsing.iso8601Micros(s) else {
                throw BadMessage(.badTimestamp, "\(field): '\(s)' is not an ISO-8601 time like 2025-01-31T12:00:00Z")
            }
            return micros
        case .int(let n):
            return abs(Double(n)) < Self.millisecondsBelow ? n &* 1000 : n
        case .double(let d) where d.isFinite && abs(d) < 9e15:
            return abs(d) < Self.millisecondsBelow ? Int64((d * 1000).rounded(.down)) : Int64(d)
        default:
            throw BadMessage(.badTimestamp, "\(field): \(kindName) is not a time (ISO-8601 or epoch milliseconds/microseconds)")
        }
    }
}
