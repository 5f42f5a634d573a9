public import ErrorChain

/// One problem found in a feature repository, at a place in a file.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    /// Where the problem is.
    public var location: SourceLocation
    /// What is wrong, and where possible what would be right.
    public var message: String

    /// A problem at `location`, described by `message` (what is wrong and, where known, what would be right).
    public init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    /// `file:line:column: error: message`, the format editors and CI annotate.
    public var description: String { "\(location): error: \(message)" }
}

/// The repository does not compile; `diagnostics` lists every problem found, in file order.
public struct CompileError: ChainedError {
    /// Every problem found, in file order.
    public var diagnostics: [Diagnostic]

    /// An error reporting `diagnostics`.
    public init(diagnostics: [Diagnostic]) {
        // Stable: diagnostics at the same place keep the order they were found in.
        self.diagnostics = diagnostics.enumerated()
            .sorted { ($0.element.location, $0.offset) < ($1.element.location, $1.offset) }
            .map(\.element)
    }

    /// `compile`.
    public var errorCode: String { "compile" }

    /// Every diagnostic, one per line, and their count.
    public var message: String {
        let n = diagnostics.count
        return diagnostics.map(\.description).joined(separator: "\n")
            + "\n\(n) error\(n == 1 ? "" : "s") found"
    }

    /// The diagnostics (a compile error has no cause).
    public var description: String { message }
}

/// "Did you mean" suggestions in the core's messages: ``DidYouMean``'s one rule.
public enum Suggestion {
    /// The candidate closest to `word`, if one is close enough to be a typo.
    public static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        DidYouMean.closest(to: word, in: candidates)
    }

    /// `; did you mean 'x'?` or an empty string.
    public static func hint(for word: String, in candidates: some Sequence<String>) -> String {
        DidYouMean.hint(for: word, in: candidates)
    }
}

/// Names of objects, features and keys: `[A-Za-z_][A-Za-z0-9_]*`.
public enum Identifier {
    /// Whether `s` is a name: an ASCII letter or `_`, then ASCII letters, digits and `_`.
    public static func isValid(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.isASCII, first == "_" || first.properties.isAlphabetic else {
            return false
        }
        return s.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) }
    }
}
