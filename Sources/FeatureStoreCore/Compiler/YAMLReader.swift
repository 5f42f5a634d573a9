import Yams

/// A value read from YAML with the place it was written.
struct Located<Value> {
    var value: Value
    var location: SourceLocation
}

/// One YAML mapping of a definition, with its keys checked and each value reachable with its location.
struct YAMLObject {
    let location: SourceLocation
    /// For messages: "entity 'driver'", "feature view 'driver_stats'".
    let what: String
    fileprivate let entries: [String: (keyLocation: SourceLocation, value: Node)]

    /// The keys present, sorted.
    var keys: [String] { entries.keys.sorted() }
}

/// Reads Yams node trees into located values, collecting a diagnostic for every problem instead of stopping at the first.
struct YAMLReader {
    let file: String
    var diagnostics: [Diagnostic] = []
    /// The file's lines, for places inside values (expressions).
    var lines: [Substring] = []

    init(file: String) {
        self.file = file
    }

    mutating func error(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(location, message))
    }

    func location(of node: Node) -> SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    /// Parses a whole file; a syntax error becomes a diagnostic at its line and column.
    mutating func parse(_ text: String) -> Node? {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        do {
            return try Yams.compose(yaml: text)
        } catch let error as YamlError {
            let (line, column, message) = Self.describe(error)
            self.error(SourceLocation(file: file, line: line, column: column), "invalid YAML: \(message)")
        } catch {
            self.error(SourceLocation(file: file, line: 1, column: 1), "invalid YAML: \(error)")
        }
        return nil
    }

    private static func describe(_ error: YamlError) -> (Int, Int, String) {
        switch error {
        case .scanner(let context, let problem, let mark, _):
            return (mark.line, mark.column, [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": "))
        case .parser(let context, let problem, let mark, _):
            return (mark.line, mark.column, [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": "))
        case .composer(let context, let problem, let mark, _):
            return (mark.line, mark.column, [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": "))
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return (context.mark.line, context.mark.column, "duplicate key \(keys) in one mapping: give each key once")
        default:
            return (1, 1, "\(error)")
        }
    }

    /// The node as a mapping whose keys are all in `allowed` (each unknown key is reported, with a hint).
    ///
    /// With `kind` ("feature view"), the object is described by its name in messages when it has one
    /// ("feature view 'stats'"), else as "a feature view".
    mutating func object(_ node: Node, what: String, allowed: [String]) -> YAMLObject? {
        object(node, kind: nil, what: what, allowed: allowed)
    }

    mutating func object(_ node: Node, kind: String?, what fallback: String? = nil, allowed: [String]) -> YAMLObject? {
        var what = fallback ?? "a \(kind ?? "mapping")"
        if let kind, case .mapping(let m) = node, case .scalar(let name)? = m["name"] {
            what = "\(kind) '\(name.string)'"
        }
        guard case .mapping(let mapping) = node else {
            error(location(of: node), "\(what) must be a mapping of keys to values, found \(Self.kindName(node))")
            return nil
        }
        var entries: [String: (SourceLocation, Node)] = [:]
        for (keyNode, value) in mapping {
            let keyLocation = location(of: keyNode)
            guard case .scalar(let scalar) = keyNode else {
                error(keyLocation, "keys of \(what) must be plain names")
                continue
            }
            let key = scalar.string // unique: the YAML parser rejects duplicate keys
            if !allowed.contains(key) {
                error(keyLocation, "unknown key '\(key)' in \(what)\(Suggestion.hint(for: key, in: allowed)); allowed keys: \(allowed.joined(separator: ", "))")
                continue
            }
            entries[key] = (keyLocation, value)
        }
        return YAMLObject(location: location(of: node), what: what, entries: entries)
    }

    /// The node as a mapping with any keys (a block whose keys its owner checks, like a store kind's settings).
    mutating func openObject(_ node: Node, what: String) -> YAMLObject? {
        object(node, kind: nil, what: what, allowed: Self.keys(of: node))
    }

    /// A named object of `kind` (`source 'trips'`) with any keys: its kind checks the keys it owns.
    mutating func openObject(_ node: Node, kind: String) -> YAMLObject? {
        object(node, kind: kind, allowed: Self.keys(of: node))
    }

    private static func keys(of node: Node) -> [String] {
        var keys: [String] = []
        if case .mapping(let mapping) = node {
            for (key, _) in mapping { if case .scalar(let s) = key { keys.append(s.string) } }
        }
        return keys
    }

    /// The raw node under `key`, or `nil` when absent or explicitly null.
    func node(_ object: YAMLObject, _ key: String) -> Node? {
        guard let value = object.entries[key]?.value else { return nil }
        if case .scalar(let s) = value, value.null != nil || (s.string.isEmpty && s.style == .plain) { return nil }
        return value
    }

    func keyLocation(_ object: YAMLObject, _ key: String) -> SourceLocation? {
        object.entries[key]?.keyLocation
    }

    /// A scalar value as text (numbers and booleans are taken as written).
    mutating func string(_ object: YAMLObject, _ key: String, required: Bool = false) -> Located<String>? {
        guard let node = node(object, key) else {
            if required { missing(object, key) }
            return nil
        }
        return scalarString(node, describing: "'\(key)' of \(object.what)")
    }

    mutating func scalarString(_ node: Node, describing what: String) -> Located<String>? {
        guard case .scalar(let scalar) = node else {
            error(location(of: node), "\(what) must be a single value, found \(Self.kindName(node))")
            return nil
        }
        return Located(value: scalar.string, location: location(of: node))
    }

    mutating func bool(_ object: YAMLObject, _ key: String) -> Located<Bool>? {
        guard let node = node(object, key) else { return nil }
        guard case .scalar(let scalar) = node, let value = Self.bool(scalar.string) else {
            error(location(of: node), "'\(key)' of \(object.what) must be true or false, found \(Self.describeValue(node))")
            return nil
        }
        return Located(value: value, location: location(of: node))
    }

    private static func bool(_ s: String) -> Bool? {
        switch s {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    /// A sequence under `key` (each element returned as a node); reports a non-sequence.
    mutating func sequence(_ object: YAMLObject, _ key: String, required: Bool = false) -> [Node]? {
        guard let node = node(object, key) else {
            if required { missing(object, key) }
            return nil
        }
        guard case .sequence(let seq) = node else {
            error(location(of: node), "'\(key)' of \(object.what) must be a list, found \(Self.describeValue(node))")
            return nil
        }
        return Array(seq)
    }

    /// A list of plain values under `key`.
    mutating func stringList(_ object: YAMLObject, _ key: String, required: Bool = false) -> [Located<String>]? {
        guard let nodes = sequence(object, key, required: required) else { return nil }
        return nodes.compactMap { scalarString($0, describing: "each item of '\(key)' in \(object.what)") }
    }

    /// A mapping of plain keys to plain values under `key` (tags, field mappings).
    mutating func stringMap(_ object: YAMLObject, _ key: String) -> [(key: Located<String>, value: Located<String>)]? {
        guard let node = node(object, key) else { return nil }
        guard case .mapping(let mapping) = node else {
            error(location(of: node), "'\(key)' of \(object.what) must be a mapping of names to values, found \(Self.describeValue(node))")
            return nil
        }
        var out: [(key: Located<String>, value: Located<String>)] = []
        for (k, v) in mapping {
            guard let keyText = scalarString(k, describing: "a key of '\(key)' in \(object.what)"),
                  let valueText = scalarString(v, describing: "'\(key).\(k.string ?? "?")' of \(object.what)") else { continue }
            out.append((keyText, valueText))
        }
        return out
    }

    /// An expression written as a scalar, with what is needed to place a mistake inside it.
    mutating func expression(_ object: YAMLObject, _ key: String, required: Bool = false) -> ExpressionSite? {
        guard let node = node(object, key) else {
            if required { missing(object, key) }
            return nil
        }
        guard case .scalar(let scalar) = node else {
            error(location(of: node), "'\(key)' of \(object.what) must be an expression written as text, found \(Self.kindName(node))")
            return nil
        }
        let at = location(of: node)
        let line = at.line - 1 < lines.count && at.line >= 1 ? String(lines[at.line - 1]) : ""
        return ExpressionSite(text: scalar.string, start: at, style: scalar.style, rawLine: line)
    }

    mutating func missing(_ object: YAMLObject, _ key: String) {
        error(object.location, "\(object.what) is missing required key '\(key)'")
    }

    static func kindName(_ node: Node) -> String {
        switch node {
        case .scalar: return "a single value"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    static func describeValue(_ node: Node) -> String {
        if case .scalar(let s) = node { return "'\(s.string)'" }
        return kindName(node)
    }
}

/// An expression in a definition file: its text and where it starts, to turn an offset inside it into a
/// `file:line:column`.
struct ExpressionSite {
    var text: String
    /// Where the scalar starts (its opening quote, for a quoted one).
    var start: SourceLocation
    var style: Node.Scalar.Style
    /// The raw text of the line it starts on.
    var rawLine: String

    /// The place of UTF-8 offset `offset` of the expression. Exact for expressions on one line (plain, 'single' or
    /// "double" quoted); for block scalars, the line and column inside the block.
    func location(ofOffset offset: Int) -> SourceLocation {
        let utf8 = Array(text.utf8)
        let prefix = String(decoding: utf8[..<min(offset, utf8.count)], as: UTF8.self)
        switch style {
        case .plain where !text.contains("\n"):
            return SourceLocation(file: start.file, line: start.line, column: start.column + prefix.count)
        case .singleQuoted where !text.contains("\n"), .doubleQuoted where !text.contains("\n"):
            // Walk the raw text after the opening quote: an escape ('' or \x) is two characters for one.
            let raw = Array(rawLine.dropFirst(start.column))
            var rawIndex = 0, valueIndex = 0
            let target = prefix.count
            while valueIndex < target && rawIndex < raw.count {
                if style == .singleQuoted && raw[rawIndex] == "'" { rawIndex += 2 } else if style == .doubleQuoted && raw[rawIndex] == "\\" {
                    rawIndex += raw.count > rawIndex + 1 && raw[rawIndex + 1] == "u" ? 6 : raw.count > rawIndex + 1 && raw[rawIndex + 1] == "x" ? 4 : 2
                } else { rawIndex += 1 }
                valueIndex += 1
            }
            return SourceLocation(file: start.file, line: start.line, column: start.column + 1 + rawIndex)
        case .literal, .folded:
            // The block starts on the next line; its indentation is that of its first line.
            let newlines = prefix.filter { $0 == "\n" }.count
            let lastLine = prefix.split(separator: "\n", omittingEmptySubsequences: false).last.map(String.init) ?? ""
            return SourceLocation(file: start.file, line: start.line + 1 + newlines, column: start.column + 2 + lastLine.count)
        default:
            return start
        }
    }
}
