public import Foundation

/// A kind of offline engine that `offline_store: {kind: NAME, ...}` in `feature_store.yaml` can name (default:
/// `local`, Parquet read in this process).
///
/// Each engine lives in a target of its own and brings its kind; a program lists the kinds it links
/// in its ``Kinds``, passed where it opens a repository. The compiler hands the `offline_store` block
/// to its kind, which checks its own settings, so adding an engine never edits the compiler.
public protocol OfflineEngineKind: Sendable {
    /// The name written after `kind:`.
    var name: String { get }

    /// Reads and checks the kind's settings; report each problem with ``StoreSettings/problem(_:_:)`` (it becomes a
    /// `file:line:column` diagnostic).
    func validate(_ settings: inout StoreSettings)

    /// The source kinds the engine reads; a ``Kinds`` holding the engine kind holds them too.
    var sourceKinds: [any SourceKind] { get }

    /// The engine the settings describe (already validated), for the repository at `repository` (source paths are
    /// relative to it).
    func open(_ settings: StoreSettings, repository: URL) throws(OfflineEngineError) -> any OfflineEngine
}
