public import Foundation

/// A kind of online store that `online_store: {kind: NAME, ...}` in `feature_store.yaml` can name.
///
/// Each store lives in a target of its own and brings its kind; a program lists the kinds it links
/// in its ``Kinds``, passed where it opens a repository. The compiler hands the `online_store` block to
/// its kind, which checks its own settings, so adding a store never edits the compiler.
public protocol OnlineStoreKind: Sendable {
    /// The name written after `kind:`.
    var name: String { get }

    /// Reads and checks the kind's settings; report each problem with ``StoreSettings/problem(_:_:)`` (it becomes a
    /// `file:line:column` diagnostic). Called at compile time, and again before ``open(_:repository:)``.
    func validate(_ settings: inout StoreSettings)

    /// Opens the store the settings describe (already validated), for the repository at `repository`.
    func open(_ settings: StoreSettings, repository: URL) throws(OnlineStoreError) -> any OnlineStore

    /// Whether the store already exists, so that read-only tools (the catalog, `apply`'s clean-up) do not create one
    /// just to find it empty. A networked store exists once reachable; an embedded one once its file does.
    func exists(_ settings: StoreSettings, repository: URL) -> Bool
}

extension OnlineStoreKind {
    /// `true`, for kinds that do not say otherwise; see ``OnlineStoreKind/exists(_:repository:)``.
    public func exists(_ settings: StoreSettings, repository: URL) -> Bool { true }
}
