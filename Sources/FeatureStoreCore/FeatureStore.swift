public import Foundation

/// A feature repository opened for use: its compiled definitions and the paths of its stores.
///
/// ```swift
/// import FeatureStore      // the core with the embedded kinds; FeatureStoreCore alone takes `kinds:`
///
/// let store = try FeatureStore(repository: URL(fileURLWithPath: "features"))
/// let plan = try store.plan()      // what `apply` would change in the catalog
/// try store.apply()                // register the definitions
/// print(store.registry.featureViews.map(\.name))
/// ```
public struct FeatureStore: Sendable {
    /// The repository folder.
    public let repository: URL
    /// The compiled, validated definitions.
    public let registry: Registry
    /// The kinds this program has (stores, engines, sources, formats, sections).
    public let kinds: Kinds
    /// The online store, opened on first use (shared with the store this one was reloaded from, see below).
    let onlineHandle: OnlineStoreHandle
    /// Selections resolved against these definitions (lookups name the same services again and again).
    let selections = SelectionCache()
    /// Each view's online table (its schema version computed once), by view name.
    let onlineTables: [String: OnlineTable]
    /// The offline engine chosen for this use instead of the settings' (``using(offlineEngine:)``).
    var engineOverride: StoreSettings?

    /// Compiles the repository's definitions; throws ``CompileError`` listing every problem.
    ///
    /// - Parameters:
    ///   - repository: the repository folder.
    ///   - kinds: the kinds this program has; the `FeatureStore` module's `init(repository:)` passes
    ///     `Kinds.embedded`.
    ///   - unknownKinds: what a kind missing from `kinds` is. By default (`.deferUntilUsed`) the block is kept
    ///     unchecked and using it fails, at its place: a program that only builds training sets needs no online
    ///     store kind. `.report` makes every unknown kind a compile error (what `featurectl apply` does).
    ///   - previous: the definitions this compile replaces (a server reloading after `apply`). When its online store
    ///     settings are the same, the new definitions use the same open store (connections, pools) instead of opening
    ///     another: the store outlives reloads, and everyone holding either snapshot writes through one store.
    public init(repository: URL, kinds: Kinds, unknownKinds: UnknownKindPolicy = .deferUntilUsed,
                reloading previous: FeatureStore? = nil) throws(CompileError) {
        self.repository = repository.standardizedFileURL
        self.kinds = kinds
        let registry = try DefinitionCompiler.compile(repository: self.repository, kinds: kinds, unknownKinds: unknownKinds)
        self.registry = registry
        onlineTables = Dictionary(uniqueKeysWithValues: registry.featureViews.map {
            ($0.name, OnlineTable(view: $0, joinKeys: registry.joinKeys(of: $0)))
        })
        if let previous, previous.repository == self.repository, previous.config.onlineStore == registry.config.onlineStore {
            onlineHandle = previous.onlineHandle
        } else {
            onlineHandle = OnlineStoreHandle()
        }
    }

    /// The online table of `view` (one of these definitions' views; another view's table is computed).
    public func onlineTable(of view: FeatureView) -> OnlineTable {
        if let table = onlineTables[view.name], table.view == view { return table }
        return OnlineTable(view: view, joinKeys: registry.joinKeys(of: view))
    }

    /// The online table of a view of ``registry`` (lookups and materialization, which resolve views from it): found
    /// by name, without comparing the view.
    func registeredTable(of view: FeatureView) -> OnlineTable {
        onlineTables[view.name] ?? OnlineTable(view: view, joinKeys: registry.joinKeys(of: view))
    }

    /// Whether this store and `other` write through the same open online store (see ``init(repository:reloading:)``).
    public func sharesOnlineStore(with other: FeatureStore) -> Bool {
        onlineHandle === other.onlineHandle
    }

    /// The settings of the repository.
    public var config: RepositoryConfig { registry.config }

    /// A path from the definitions (relative to the repository, or absolute) as a URL.
    public func resolve(_ path: String) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : repository.appendingPathComponent(path)
    }

    /// The offline engine named in the settings (`offline_store: {kind: ...}`; default `local`), which reads the
    /// batch sources for joins, materialization and the stream's offline copy.
    public func offlineEngine() throws(OfflineEngineError) -> any OfflineEngine {
        let settings = offlineEngineSettings
        guard let kind = kinds.offlineEngines[settings.kind] else {
            throw OfflineEngineError(.unreadable, settings.located(kinds.unknownOfflineEngine(settings.kind)))
        }
        return try kind.open(settings, repository: repository)
    }

    /// The settings of the offline engine in use: the repository's `offline_store`, or those chosen by
    /// ``using(offlineEngine:)``.
    public var offlineEngineSettings: StoreSettings { engineOverride ?? config.offlineEngine.settings }

    /// This store with an offline engine of kind `name` instead of the settings' (`featurectl join --engine spark`):
    /// the repository's `offline_store` settings when they name that kind, the kind's defaults otherwise.
    ///
    /// - Throws: ``OfflineEngineError`` when this program has no such kind.
    public func using(offlineEngine name: String) throws(OfflineEngineError) -> FeatureStore {
        guard let kind = kinds.offlineEngines[name] else {
            throw OfflineEngineError(.unreadable, kinds.unknownOfflineEngine(name))
        }
        var copy = self
        if config.offlineEngine.settings.kind == name {
            copy.engineOverride = nil
        } else {
            var settings = StoreSettings(kind: name)
            settings.family = "offline engine"
            kind.validate(&settings)
            if let problem = settings.problems.first {
                throw OfflineEngineError(.invalidData, "offline engine '\(name)' cannot run on its defaults: \(problem.message)")
            }
            copy.engineOverride = settings
        }
        return copy
    }

    /// Where `source`'s rows are, as its kind describes it (see ``Kinds/whereabouts(of:)``).
    public func whereabouts(of source: DataSource) -> String {
        kinds.whereabouts(of: source)
    }

    /// The registry file named in the settings.
    public var registryURL: URL { resolve(config.registryPath) }

    /// Opens the catalog (registry) file.
    public func openRegistry(create: Bool = true) throws(RegistryError) -> RegistryStore {
        try RegistryStore(path: registryURL.path, create: create)
    }

    /// What `apply` would change: objects added, changed (with field-level differences) and removed.
    public func plan() throws(RegistryError) -> Plan {
        try openRegistry().plan(for: registry)
    }

    /// Registers the definitions in the catalog, and returns what changed.
    ///
    /// Online rows of views that were removed, or whose stored schema (join keys, features, types) changed, are
    /// dropped: they could not be served correctly. Their names are in `droppedOnlineViews` of the result.
    @discardableResult
    public func apply() async throws(RegistryError) -> (plan: Plan, droppedOnlineViews: [String]) {
        // Without the online store's kind, the rows of changed views could not be dropped: refuse before applying.
        guard kinds.onlineStores[config.onlineStore.kind] != nil else {
            throw RegistryError.storage(path: "online_store (\(config.onlineStore.kind))", doing: "cannot apply: stale online rows could not be dropped",
                                        cause: OnlineStoreError(config.onlineStore.settings.located(kinds.unknownOnlineStore(config.onlineStore.kind))))
        }
        let plan = try openRegistry().apply(registry)
        var dropped: [String] = []
        if onlineStoreExists {
            do {
                dropped = try await onlineStore().dropStale(keeping: registry.featureViews.map(onlineTable(of:)))
            } catch {
                throw RegistryError.storage(path: "online_store (\(config.onlineStore.kind))", doing: "applied, but the stale online rows could not be dropped", cause: error)
            }
        }
        return (plan, dropped)
    }
}
