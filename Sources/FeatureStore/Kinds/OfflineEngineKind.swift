public import Foundation

/// A kind of offline engine that `offline_store: {kind: NAME, ...}` in `feature_store.yaml` can name (default:
/// `local`, Parquet read in this process).
///
/// Each engine lives in a target of its own and brings its kind; programs register the kinds they link
/// (``OfflineEngineKinds/register(_:)``) before they open a repository. The compiler hands the `offline_store` block
/// to its kind, which checks its own settings, so adding an engine never edits the compiler.
public protocol OfflineEngineKind: Sendable {
    /// The name written after `kind:`.
    var name: String { get }

    /// Reads and checks the kind's settings; report each problem with ``StoreSettings/problem(_:_:)`` (it becomes a
    /// `file:line:column` diagnostic).
    func validate(_ settings: inout StoreSettings)

    /// The source kinds the engine reads; registering the engine kind registers them too.
    var sourceKinds: [any SourceKind] { get }

    /// The engine the settings describe (already validated), for the repository at `repository` (source paths are
    /// relative to it).
    func open(_ settings: StoreSettings, repository: URL) throws(OfflineEngineError) -> any OfflineEngine
}

/// The offline engine kinds this program links, by name. Executables register theirs at start-up; tests register the
/// ones they use. Registering a kind again replaces it.
public enum OfflineEngineKinds {
    private static let table = KindTable<any OfflineEngineKind>()

    /// Makes `kind` available to repositories opened from now on.
    public static func register(_ kind: any OfflineEngineKind) {
        table.register(kind, named: kind.name)
        for source in kind.sourceKinds { SourceKinds.register(source) }
    }

    /// The kind called `name`, if registered.
    public static func kind(named name: String) -> (any OfflineEngineKind)? {
        table.kind(named: name)
    }

    /// The names of the registered kinds, sorted.
    public static var names: [String] { table.names }

    static func unknownKindMessage(_ name: String) -> String {
        table.unknownKindMessage(name, what: "offline engine", register: "OfflineEngineKinds.register")
    }
}
