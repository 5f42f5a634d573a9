import FeatureStoreCore
import Foundation

/// A strict JSON (RFC 8259) parser from UTF-8 bytes to ``JSONValue``, written for the ingestion hot path: one pass,
/// no intermediate `Data` or `Decoder` machinery (Foundation's `JSONDecoder` spent most of an ingested event's time).
///
/// Integers that fit are kept exactly as `Int64`; other numbers are converted by `strtod` (correctly rounded, unlike
/// `JSONSerialization` on Linux). Strings must be valid UTF-8; nesting deeper than ``maxDepth`` is refused (no
/// stack overflow on hostile input). Errors name the byte offset.
struct JSONParser {
    static let maxDepth = 256

    private let bytes: UnsafeBufferPointer<UInt8>
    private var i = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    static func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(ValueConversionError) -> JSONValue {
        var parser = JSONParser(buffer)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.i == buffer.count else { throw parser.error("unexpected \(parser.describeHere()) after the value") }
        return value
    }

    /// The values of the fields of `selection` in a top-level object, in the selection's order (`.null` when
    /// absent; nil when the document is not an object). Keys are matched as bytes and the other fields' values are
    /// checked for syntax and skipped without being built: stream events often carry more than the features read,
    /// and this path makes no dictionary and no string for them.
    static func parseObject(_ buffer: UnsafeBufferPointer<UInt8>, selecting selection: JSONFieldSelection) throws(ValueConversionError) -> [JSONValue]? {
        var parser = JSONParser(buffer)
        parser.skipSpace()
        guard parser.i < buffer.count, buffer[parser.i] == UInt8(ascii: "{") else {
            _ = try parse(buffer)  // a syntax error is reported as such
            return nil
        }
        parser.i += 1
        var values = [JSONValue](repeating: .null, count: selection.names.count)
        parser.skipSpace()
        if parser.i < buffer.count, buffer[parser.i] == UInt8(ascii: "}") {
            parser.i += 1
        } else {
            while true {
                parser.skipSpace()
                guard parser.i < buffer.count, buffer[parser.i] == UInt8(ascii: "\"") else {
                    throw parser.error("expected a quoted key, found \(parser.describeHere())")
                }
                let slot = try parser.selectedKey(selection)
                parser.skipSpace()
                guard parser.i < buffer.count, buffer[parser.i] == UInt8(ascii: ":") else {
                    throw parser.error("expected ':' after a key, found \(parser.describeHere())")
                }
                parser.i += 1
                parser.skipSpace()
                if let slot {
                    values[slot] = try parser.value(depth: 1)
                } else {
                    try parser.skipValue(depth: 1)
                }
                parser.skipSpace()
                guard parser.i < buffer.count else { throw parser.error("unexpected end of input in an object") }
                if buffer[parser.i] == UInt8(ascii: ",") { parser.i += 1; continue }
                if buffer[parser.i] == UInt8(ascii: "}") { parser.i += 1; break }
                throw parser.error("expected ',' or '}' in an object, found \(parser.describeHere())")
            }
        }
        parser.skipSpace()
        guard parser.i == buffer.count else { throw parser.error("unexpected \(parser.describeHere()) after the value") }
        return values
    }

    /// Reads a key and returns its index in `selection` (nil: not selected). Keys without escapes are compared as
    /// bytes; a key with escapes is decoded first.
    private mutating func selectedKey(_ selection: JSONFieldSelection) throws(ValueConversionError) -> Int? {
        let start = i + 1
        var end = start
        while end < bytes.count {
            let b = bytes[end]
            if b == UInt8(ascii: "\"") { break }
            if b == UInt8(ascii: "\\") {
                let key = try string()
                return selection.names.firstIndex(of: key)
            }
            if b < 0x20 { i = end; throw error("a control character in a string") }
            end += 1
        }
        guard end < bytes.count else { i = end; throw error("an unterminated string") }
        i = end + 1
        let length = end - start
        for (slot, name) in selection.utf8.enumerated() where name.count == length {
            var same = true
            for k in 0..<length where bytes[start + k] != name[k] {
                same = false
                break
            }
            if same { return slot }
        }
        return nil
    }

    /// Checks the syntax of one value and moves past it, building nothing.
    private mutating func skipValue(depth: Int) throws(ValueConversionError) {
        guard i < bytes.count else { throw error("unexpected end of input") }
        switch bytes[i] {
        case UInt8(ascii: "\""):
            i += 1
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") { i += 1; return }
                if b < 0x20 { throw error("a control character in a string") }
                i += b == UInt8(ascii: "\\") ? 2 : 1
            }
            throw error("an unterminated string")
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            // Containers are rare in skipped fields: parse them fully (same checks, same depth limit).
            _ = try value(depth: depth)
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try number()
        default: throw error("unexpected \(describeHere())")
        }
    }

    private func error(_ message: String) -> ValueConversionError {
        ValueConversionError("not valid JSON (\(message) at byte \(i))")
    }

    private func describeHere() -> String {
        guard i < bytes.count else { return "end of input" }
        let b = bytes[i]
        return b >= 0x20 && b < 0x7f ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(String(b, radix: 16))"
    }

    private mutating func skipSpace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0a, 0x0d: i += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws(ValueConversionError) -> JSONValue {
        guard i < bytes.count else { throw error("unexpected end of input") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected \(describeHere())")
        }
    }

    private mutating func literal(_ word: StaticString) throws(ValueConversionError) {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw error("unexpected \(describeHere())") }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] { throw error("unexpected \(describeHere())") }
        i += n
    }

    private mutating func object(depth: Int) throws(ValueConversionError) -> JSONValue {
        guard depth <= Self.maxDepth else { throw error("nested deeper than \(Self.maxDepth)") }
        i += 1
        var fields: [String: JSONValue] = [:]
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
            return .object(fields)
        }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a quoted key, found \(describeHere())") }
            let key = try string()
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':' after a key, found \(describeHere())") }
            i += 1
            skipSpace()
            fields[key] = try value(depth: depth)
            skipSpace()
            guard i < bytes.count else { throw error("unexpected end of input in an object") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(fields) }
            throw error("expected ',' or '}' in an object, found \(describeHere())")
        }
    }

    private mutating func array(depth: Int) throws(ValueConversionError) -> JSONValue {
        guard depth <= Self.maxDepth else { throw error("nested deeper than \(Self.maxDepth)") }
        i += 1
        var items: [JSONValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
            i += 1
            return .array(items)
        }
        while true {
            skipSpace()
            items.append(try value(depth: depth))
            skipSpace()
            guard i < bytes.count else { throw error("unexpected end of input in an array") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw error("expected ',' or ']' in an array, found \(describeHere())")
        }
    }

    private mutating func string() throws(ValueConversionError) -> String {
        i += 1
        let start = i
        // Fast path: no escapes.
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<i])
                i += 1
                guard let s = String(validating: slice, as: UTF8.self) else { throw error("a string that is not valid UTF-8") }
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error("a control character in a string") }
            i += 1
        }
        var out = Array(bytes[start..<i])
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                guard let s = String(validating: out, as: UTF8.self) else { throw error("a string that is not valid UTF-8") }
                return s
            }
            if b < 0x20 { throw error("a control character in a string") }
            guard b == UInt8(ascii: "\\") else {
                out.append(b)
                i += 1
                continue
            }
            i += 1
            guard i < bytes.count else { break }
            switch bytes[i] {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5c)
            case UInt8(ascii: "/"): out.append(0x2f)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0c)
            case UInt8(ascii: "n"): out.append(0x0a)
            case UInt8(ascii: "r"): out.append(0x0d)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    // A surrogate pair: \uD83D\uDE00.
                    guard i + 2 < bytes.count, bytes[i + 1] == UInt8(ascii: "\\"), bytes[i + 2] == UInt8(ascii: "u") else {
                        throw error("a lone surrogate in a string")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("a lone surrogate in a string") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw error("a lone surrogate in a string")
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
            default:
                throw error("an unknown escape \\\(describeHere())")
            }
            i += 1
        }
        throw error("an unterminated string")
    }

    /// Reads the 4 hex digits after `\u`; leaves `i` on the last one.
    private mutating func hex4() throws(ValueConversionError) -> UInt32 {
        guard i + 4 < bytes.count else { throw error("a short \\u escape") }
        var v: UInt32 = 0
        for k in 1...4 {
            let c = bytes[i + k]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw error("a bad \\u escape")
            }
            v = v << 4 | UInt32(d)
        }
        i += 4
        return v
    }

    private mutating func number() throws(ValueConversionError) -> JSONValue {
        let start = i
        var negative = false
        if bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        func digit(_ at: Int) -> Bool { at < bytes.count && bytes[at] >= UInt8(ascii: "0") && bytes[at] <= UInt8(ascii: "9") }
        guard digit(i) else { throw error("a number without digits") }
        // Integer part: no leading zeros.
        var magnitude: UInt64 = 0
        var overflow = false
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if digit(i) { throw error("a number with a leading zero") }
        } else {
            while digit(i) {
                let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(UInt64(bytes[i] - UInt8(ascii: "0")))
                overflow = overflow || o1 || o2
                magnitude = a
                i += 1
            }
        }
        var isInteger = true
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            guard digit(i) else { throw error("a number with no digits after '.'") }
            while digit(i) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            isInteger = false
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digit(i) else { throw error("a number with no digits in its exponent") }
            while digit(i) { i += 1 }
        }
        if isInteger && !overflow {
            if !negative, magnitude <= UInt64(Int64.max) { return .int(Int64(magnitude)) }
            if negative, magnitude <= UInt64(Int64.max) + 1 { return .int(magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)) }
        }
        // strtod needs a terminated copy; numbers are short.
        var text = [CChar](repeating: 0, count: i - start + 1)
        for k in start..<i { text[k - start] = CChar(bitPattern: bytes[k]) }
        return .double(text.withUnsafeBufferPointer { strtod($0.baseAddress!, nil) })
    }
}

/// The names of the fields to pick out of JSON objects (``JSONValue/parseObject(_:selecting:)``), in order, prepared
/// for matching keys as bytes.
public struct JSONFieldSelection: Sendable, Hashable {
    /// The names, each once, in the order given.
    public let names: [String]
    let utf8: [[UInt8]]

    /// A selection of `names` in the order given, each kept once (the first time it appears).
    public init(_ names: [String]) {
        var unique: [String] = []
        for name in names where !unique.contains(name) { unique.append(name) }
        self.names = unique
        utf8 = unique.map { Array($0.utf8) }
    }

    /// The position of `name` in ``names``.
    public func index(of name: String) -> Int? { names.firstIndex(of: name) }
}
