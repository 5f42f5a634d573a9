import FeatureStoreCore
import JSONCoding
import Foundation
import Testing

@Suite("JSON parsing (HTTP bodies, stream messages)", .timeLimit(.minutes(5)))
struct JSONParserTests {
    @Test("objects, arrays, escapes and Unicode parse to the values written")
    func parsesDocuments() throws {
        let text = #"{"a": [1, -2, 3.5, true, false, null], "s": "tab\there \"q\" \\ \/ \u00e9 \ud83d\ude00 ü", "o": {}, "e": [], "a": {"x": 1}}"#
        let value = try JSONValue.parse(Array(text.utf8))
        guard case .object(let fields) = value else { Issue.record("not an object"); return }
        #expect(fields["a"] == .object(["x": .int(1)]), "a repeated key: the last one wins")
        #expect(fields["s"] == .string("tab\there \"q\" \\ / é 😀 ü"))
        #expect(fields["o"] == .object([:]))
        #expect(fields["e"] == .array([]))
        #expect(try JSONValue.parse(Array(" [1, -2, 3.5, true, false, null] ".utf8)) == .array([.int(1), .int(-2), .double(3.5), .bool(true), .bool(false), .null]))
    }

    @Test("integers stay exact at the Int64 bounds; other numbers are the nearest double")
    func numbers() throws {
        #expect(try JSONValue.parse(Array("9223372036854775807".utf8)) == .int(.max))
        #expect(try JSONValue.parse(Array("-9223372036854775808".utf8)) == .int(.min))
        #expect(try JSONValue.parse(Array("9223372036854775808".utf8)) == .double(9_223_372_036_854_775_808))
        for text in ["0.1", "1e-7", "-0.0", "2.2250738585072014e-308", "1.7976931348623157e308", "0.30000000000000004", "1E+2", "123456789.123456789"] {
            #expect(try JSONValue.parse(Array(text.utf8)) == .double(Double(text)!), "\(text)")
        }
    }

    @Test("malformed input is refused with the byte offset, and deep nesting without a crash")
    func malformed() {
        let cases: [(String, String)] = [
            ("{\"a\": 1,}", "expected a quoted key, found '}' at byte 8"),
            ("[1 2]", "expected ',' or ']' in an array, found '2' at byte 3"),
            ("01", "a number with a leading zero at byte 1"),
            ("\"abc", "an unterminated string at byte 4"),
            ("{\"a\" 1}", "expected ':' after a key, found '1' at byte 5"),
            ("tru", "unexpected 't' at byte 0"),
            ("1.", "a number with no digits after '.' at byte 2"),
            ("\"\\x\"", "an unknown escape \\'x' at byte 2"),
            ("{} x", "unexpected 'x' after the value at byte 3"),
            ("\"\\ud800\"", "a lone surrogate in a string at byte 6"),
        ]
        for (text, message) in cases {
            #expect(throws: ValueConversionError("not valid JSON (\(message))"), "\(text)") { _ = try JSONValue.parse(Array(text.utf8)) }
        }
        #expect(throws: ValueConversionError.self) { _ = try JSONValue.parse(Array("\"\u{1}\"".utf8)) }
        #expect(throws: ValueConversionError.self) { _ = try JSONValue.parse([0x22, 0xff, 0x22]) }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: ValueConversionError.self) { _ = try JSONValue.parse(Array(deep.utf8)) }
    }

    @Test("an object's selected fields are built in the selection's order and the others skipped, with syntax errors still found anywhere")
    func selectiveObject() throws {
        let text = #"{"a": 1, "skip": {"deep": [1, "x\"y", {"z": null}]}, "b": "two", "pad": "xxxxxxxx", "n": -1.5e3, "c": [true], "\u0064": 4}"#
        let selection = JSONFieldSelection(["c", "a", "missing", "b", "d"])
        let values = try JSONValue.parseObject(Array(text.utf8), selecting: selection)
        #expect(values == [.array([.bool(true)]), .int(1), .null, .string("two"), .int(4)], "an escaped key is matched too")
        #expect(try JSONValue.parseObject(Array("[1]".utf8), selecting: selection) == nil, "not an object")
        #expect(throws: ValueConversionError("not valid JSON (expected ',' or '}' in an object, found '\"' at byte 21)")) {
            _ = try JSONValue.parseObject(Array(#"{"a": 1, "skip": "x" "b": 2}"#.utf8), selecting: selection)
        }
        #expect(throws: ValueConversionError.self) { _ = try JSONValue.parseObject(Array(#"{"a": 1, "skip": tru}"#.utf8), selecting: selection) }
        #expect(throws: ValueConversionError.self) { _ = try JSONValue.parseObject(Array(#"{"a": 1} x"#.utf8), selecting: selection) }
        #expect(throws: ValueConversionError.self) { _ = try JSONValue.parseObject(Array(#"{"a": 1, "unterminated"#.utf8), selecting: selection) }
    }
}
