import Synchronization

/// The kinds of one family (online stores, offline engines) this program links, by name: registered at start-up,
/// looked up when a repository names one. Registering a name again replaces its kind.
final class KindTable<Kind: Sendable>: Sendable {
    private let kinds = Mutex<[String: Kind]>([:])

    func register(_ kind: Kind, named name: String) {
        kinds.withLock { $0[name] = kind }
    }

    func kind(named name: String) -> Kind? {
        kinds.withLock { $0[name] }
    }

    /// The registered names, sorted.
    var names: [String] {
        kinds.withLock { $0.keys.sorted() }
    }

    /// "unknown WHAT kind 'x' (did you mean ...?); kinds in this program: a, b" (or how to register one).
    func unknownKindMessage(_ name: String, what: String, register: String) -> String {
        let known = names
        return "unknown \(what) kind '\(name)'\(Suggestion.hint(for: name, in: known)); kinds in this program: "
            + (known.isEmpty ? "none (register one with \(register))" : known.joined(separator: ", "))
    }
}
