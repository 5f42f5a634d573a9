import Columnar
public import FeatureStoreCore
import Foundation

/// Writes JSON text into a byte buffer, exactly: integers as written, floats in their shortest round-trip form.
public struct JSONWriter: Sendable {
    /// The text written so far (UTF-8).
    public var bytes: [UInt8] = []

    /// A writer whose buffer has room for `capacity` bytes before it grows.
    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// Appends `text` as it is (punctuation, numbers already formatted).
    public mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Appends `s` as a JSON string, escaped.
    public mutating func string(_ s: String) {
        bytes.append(34)
        for b in s.utf8 {
            switch b {
            case 34: bytes.append(contentsOf: [92, 34])
            case 92: bytes.append(contentsOf: [92, 92])
            case 10: bytes.append(contentsOf: [92, 110])
            case 13: bytes.append(contentsOf: [92, 114])
            case 9: bytes.append(contentsOf: [92, 116])
            case 0..<32:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [92, 117, 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: bytes.append(b)
            }
        }
        bytes.append(34)
    }

    /// Appends a number in its shortest round-trip form; NaN and infinities as the strings "NaN", "Infinity", "-Infinity".
    public mutating func double(_ d: Double) {
        if d.isNaN { raw("\"NaN\"") } else if d.isInfinite { raw(d > 0 ? "\"Infinity\"" : "\"-Infinity\"") } else { raw(d.description) }
    }

    /// Appends a 32-bit float in its shortest round-trip form (as ``double(_:)`` for NaN and infinities).
    public mutating func float(_ f: Float) {
        if f.isNaN || f.isInfinite { double(Double(f)) } else { raw(f.description) }
    }

    /// Appends a time as an ISO-8601 UTC string with microseconds.
    public mutating func timestamp(micros: Int64) {
        string(Column.isoTimestamp(micros, unit: .microseconds, utc: true))
    }

    /// Appends a feature value: null, true/false, exact integers, shortest floats, strings, bytes as base64,
    /// timestamps as ISO-8601 strings, lists as arrays.
    public mutating func value(_ v: OnlineValue) {
        switch v {
        case .null: raw("null")
        case .bool(let b): raw(b ? "true" : "false")
        case .int(let i): raw(String(i))
        case .float(let f): float(f)
        case .double(let d): double(d)
        case .string(let s): string(s)
        case .bytes(let b): string(Data(b).base64EncodedString())
        case .timestamp(let t): timestamp(micros: t)
        case .list(let items):
            bytes.append(91)
            for (i, item) in items.enumerated() {
                if i > 0 { bytes.append(44) }
                value(item)
            }
            bytes.append(93)
        }
    }

    /// `[a,b,c]` with `element` writing each item.
    public mutating func array<S: Sequence>(_ items: S, _ element: (inout JSONWriter, S.Element) -> Void) {
        bytes.append(91)
        var first = true
        for item in items {
            if !first { bytes.append(44) }
            first = false
            element(&self, item)
        }
        bytes.append(93)
    }
}
