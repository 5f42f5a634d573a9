/// The tokens of an expression, each with its place (UTF-8 offsets).
struct Token: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        case integer(Int64)
        case number(Double)
        case string(String)
        /// An identifier or a keyword (keywords are matched case-insensitively by the parser).
        case word(String)
        /// `( ) , . + - * / % = != <> < <= > >= ==`
        case symbol(String)
        case end
    }
    var kind: Kind
    var range: Range<Int>

    /// The keyword this word is, lowercased (nil: not a word).
    var keyword: String? {
        if case .word(let w) = kind { return w.lowercased() }
        return nil
    }
}

/// Splits an expression into tokens. Whitespace separates; `--` starts a comment to the end of the line.
enum Lexer {
    static func tokens(_ text: String) throws(ExpressionError) -> [Token] {
        let bytes = Array(text.utf8)
        var out: [Token] = []
        var i = 0
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        func isWordStart(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F }
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { i += 1; continue }
            if b == 0x2D, i + 1 < bytes.count, bytes[i + 1] == 0x2D {  // -- comment
                while i < bytes.count && bytes[i] != 0x0A { i += 1 }
                continue
            }
            let start = i
            if isDigit(b) || (b == 0x2E && i + 1 < bytes.count && isDigit(bytes[i + 1])) {
                var isFloat = false
                while i < bytes.count && isDigit(bytes[i]) { i += 1 }
                if i < bytes.count && bytes[i] == 0x2E && !(i + 1 < bytes.count && isWordStart(bytes[i + 1])) {
                    isFloat = true
                    i += 1
                    while i < bytes.count && isDigit(bytes[i]) { i += 1 }
                }
                if i < bytes.count && (bytes[i] == 0x65 || bytes[i] == 0x45) {  // e / E
                    var j = i + 1
                    if j < bytes.count && (bytes[j] == 0x2B || bytes[j] == 0x2D) { j += 1 }
                    if j < bytes.count && isDigit(bytes[j]) {
                        isFloat = true
                        i = j
                        while i < bytes.count && isDigit(bytes[i]) { i += 1 }
                    }
                }
                if i < bytes.count && (isWordStart(bytes[i]) || isDigit(bytes[i])) {
                    throw ExpressionError("a number cannot run into a name: put a space or an operator between them", at: start..<(i + 1))
                }
                let literal = String(decoding: bytes[start..<i], as: UTF8.self)
                if isFloat {
                    guard let value = Double(literal), value.isFinite else { throw ExpressionError("the number \(literal) is out of range", at: start..<i) }
                    out.append(Token(kind: .number(value), range: start..<i))
                } else {
                    guard let value = Int64(literal) else {
                        throw ExpressionError("the integer \(literal) does not fit in int64 (write it with a fraction, like \(literal).0, for a float64)", at: start..<i)
                    }
                    out.append(Token(kind: .integer(value), range: start..<i))
                }
                continue
            }
            if isWordStart(b) {
                while i < bytes.count && (isWordStart(bytes[i]) || isDigit(bytes[i])) { i += 1 }
                out.append(Token(kind: .word(String(decoding: bytes[start..<i], as: UTF8.self)), range: start..<i))
                continue
            }
            if b == 0x27 {  // 'string', '' for a quote
                var value: [UInt8] = []
                i += 1
                while true {
                    guard i < bytes.count else { throw ExpressionError("a string is not closed: end it with '", at: start..<bytes.count) }
                    if bytes[i] == 0x27 {
                        if i + 1 < bytes.count && bytes[i + 1] == 0x27 {
                            value.append(0x27)
                            i += 2
                            continue
                        }
                        i += 1
                        break
                    }
                    value.append(bytes[i])
                    i += 1
                }
                out.append(Token(kind: .string(String(decoding: value, as: UTF8.self)), range: start..<i))
                continue
            }
            let two = i + 1 < bytes.count ? String(decoding: bytes[i...(i + 1)], as: UTF8.self) : ""
            if ["!=", "<>", "<=", ">=", "=="].contains(two) {
                out.append(Token(kind: .symbol(two), range: start..<(i + 2)))
                i += 2
                continue
            }
            let one = String(decoding: [b], as: UTF8.self)
            if "(),.+-*/%=<>".contains(one) && b < 0x80 {
                out.append(Token(kind: .symbol(one), range: start..<(i + 1)))
                i += 1
                continue
            }
            // One character, however many bytes it takes.
            var end = i + 1
            while end < bytes.count && bytes[end] & 0xC0 == 0x80 { end += 1 }
            let character = String(decoding: bytes[i..<end], as: UTF8.self)
            throw ExpressionError(b == 0x22 ? "strings are written in single quotes: 'text'" : "unexpected character '\(character)'", at: start..<end)
        }
        out.append(Token(kind: .end, range: bytes.count..<bytes.count))
        return out
    }
}
