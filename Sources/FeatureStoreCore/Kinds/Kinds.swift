/// The kinds a program has: online stores, offline engines, sources, payload formats and configuration sections, each
/// by the name a repository writes after `kind:` (or as a top-level key, for sections).
///
/// A value, passed where a repository is opened (``FeatureStore/init(repository:kinds:unknownKinds:reloading:)``);
/// there is no process-wide registration. Each target brings its kinds as a static value (`Kinds.sqlite`,
/// `Kinds.kafka`, ...) and a program adds up the ones it links:
///
/// ```swift
/// let kinds: Kinds = .embedded + .redis + .kafka + .avro
/// let store = try FeatureStore(repository: url, kinds: kinds)
/// ```
///
/// The `FeatureStore` module's `Kinds.embedded` (the SQLite online store, the local offline engine and the Parquet
/// source) is the default there. Adding a kind whose name is already present replaces it.
public struct Kinds: Sendable {
    /// The online store kinds, by name.
    public private(set) var onlineStores: [String: any OnlineStoreKind] = [:]
    /// The offline engine kinds, by name.
    public private(set) var offlineEngines: [String: any OfflineEngineKind] = [:]
    /// The source kinds, by name (those of the offline engines included).
    public private(set) var sources: [String: any SourceKind] = [:]
    /// The payload format kinds of stream sources, by name.
    public private(set) var formats: [String: any PayloadFormatKind] = [:]
    /// The configuration sections (top-level blocks of `feature_store.yaml` owned by a target), by key.
    public private(set) var sections: [String: any ConfigSectionKind] = [:]

    /// No kinds.
    public init() {}

    /// The given kinds. An offline engine brings the source kinds it reads (``OfflineEngineKind/sourceKinds``).
    public init(onlineStores: [any OnlineStoreKind] = [], offlineEngines: [any OfflineEngineKind] = [],
                sources: [any SourceKind] = [], formats: [any PayloadFormatKind] = [],
                sections: [any ConfigSectionKind] = []) {
        for kind in onlineStores { self.onlineStores[kind.name] = kind }
        for kind in offlineEngines {
            self.offlineEngines[kind.name] = kind
            for source in kind.sourceKinds { self.sources[source.name] = source }
        }
        for kind in sources { self.sources[kind.name] = kind }
        for kind in formats { self.formats[kind.name] = kind }
        for kind in sections { self.sections[kind.name] = kind }
    }

    /// These kinds and `other`'s; where both have a name, `other`'s kind.
    public func merging(_ other: Kinds) -> Kinds {
        var merged = self
        merged.onlineStores.merge(other.onlineStores) { $1 }
        merged.offlineEngines.merge(other.offlineEngines) { $1 }
        merged.sources.merge(other.sources) { $1 }
        merged.formats.merge(other.formats) { $1 }
        merged.sections.merge(other.sections) { $1 }
        return merged
    }

    /// The kinds of both (see ``merging(_:)``).
    public static func + (lhs: Kinds, rhs: Kinds) -> Kinds {
        lhs.merging(rhs)
    }

    /// "unknown WHAT kind 'x' (did you mean ...?); kinds in this program: a, b" (or how to add one).
    static func unknownMessage(_ name: String, what: String, known: some Collection<String>) -> String {
        let names = known.sorted()
        return "unknown \(what) kind '\(name)'\(Suggestion.hint(for: name, in: names)); kinds in this program: "
            + (names.isEmpty ? "none (pass the kind in the program's Kinds, e.g. Kinds.embedded)" : names.joined(separator: ", "))
    }

    func unknownOnlineStore(_ name: String) -> String { Self.unknownMessage(name, what: "online store", known: onlineStores.keys) }
    func unknownOfflineEngine(_ name: String) -> String { Self.unknownMessage(name, what: "offline engine", known: offlineEngines.keys) }
    func unknownSource(_ name: String) -> String { Self.unknownMessage(name, what: "source", known: sources.keys) }
    func unknownFormat(_ name: String) -> String { Self.unknownMessage(name, what: "message format", known: formats.keys) }
}

/// What the compiler does with a kind name the program's ``Kinds`` lack.
public enum UnknownKindPolicy: Sendable, Hashable {
    /// A diagnostic at the name's `file:line:column`: for programs that link every kind they mean to use (`featurectl
    /// apply`, `validate`, FeatureServer), where an unknown name is a mistake.
    case report
    /// The block is kept as written, unchecked, and the error comes when something uses it (opening the online store
    /// of an unknown kind fails, at the kind's place): a program that only builds training sets does not need the
    /// online store's kind, nor the stream transport's. A top-level key that looks like a misspelt core or section key
    /// is still reported.
    case deferUntilUsed
}

extension Kinds {
    /// Where `source`'s rows are, as its kind describes it (`data/trips`, `topic trips`); every setting as `key value`
    /// when the program lacks the kind.
    public func whereabouts(of source: DataSource) -> String {
        sources[source.kind]?.describe(source.settings)
            ?? source.settings.keys.sorted().map { "\($0) \(source.settings[$0]!)" }.joined(separator: ", ")
    }
}
