public import Foundation

/// What the catalog knows of one object: its definition, version and when it last changed.
public struct CatalogEntry: Sendable {
    /// The kind of object (entity, source, feature view, feature service).
    public var kind: ObjectKind
    /// The definition as applied.
    public var definition: any Definition
    /// Its version in the registry (1 when first applied, +1 per change).
    public var version: Int
    /// When that version was applied.
    public var changedAt: Date

    /// The object's name.
    public var name: String { definition.name }
}

/// A read-only view of the applied catalog, for browsing: list, filter, search, show.
public struct Catalog: Sendable {
    /// The applied definitions.
    public let registry: Registry
    /// The entries, in kind then name order.
    public let entries: [CatalogEntry]
    /// When the catalog was last applied.
    public let appliedAt: Date?

    /// Reads the catalog from a registry file; `nil` when nothing was applied yet.
    public init?(store: RegistryStore) throws(RegistryError) {
        guard let registry = try store.registry() else { return nil }
        let stored = try store.objects()
        self.registry = registry
        self.appliedAt = try store.lastApplied()
        self.entries = registry.allObjects.map { kind, definition in
            let info = stored[ObjectKey(kind: kind, name: definition.name)]
            return CatalogEntry(kind: kind, definition: definition, version: info?.version ?? 0,
                                changedAt: info?.changedAt ?? Date(timeIntervalSince1970: 0))
        }
    }

    /// Entries filtered by kind, by tags (all must match) and by a search text.
    ///
    /// The search is case-insensitive and matches names, descriptions, owners, tag keys and values,
    /// and, for feature views, the names and descriptions of their features.
    public func list(kind: ObjectKind? = nil, tags: [String: String] = [:], search: String? = nil) -> [CatalogEntry] {
        let needle = search?.lowercased().trimmingCharacters(in: .whitespaces)
        return entries.filter { entry in
            if let kind, entry.kind != kind { return false }
            for (k, v) in tags where entry.definition.tags[k] != v { return false }
            if let needle, !needle.isEmpty, !Self.searchableText(entry.definition).contains(needle) { return false }
            return true
        }
    }

    /// The entries named `name` (one per kind at most).
    public func entries(named name: String) -> [CatalogEntry] {
        entries.filter { $0.name == name }
    }

    /// The name of an object closest to `name`, when close enough to be a typo (for "did you mean" hints).
    public func closestName(to name: String) -> String? {
        Suggestion.closest(to: name, in: entries.map(\.name))
    }

    static func searchableText(_ definition: any Definition) -> String {
        var parts = [definition.name, definition.description, definition.owner]
        for (k, v) in definition.tags { parts += [k, v] }
        if let view = definition as? FeatureView {
            for f in view.features { parts += [f.name, f.description] }
        }
        if let entity = definition as? Entity { parts += entity.joinKeys.map(\.name) }
        if let view = definition as? OnDemandView {
            for f in view.features { parts += [f.name, f.description, f.expression] }
        }
        if let source = definition as? DataSource {
            for d in source.derived { parts += [d.name, d.expression] }
        }
        return parts.joined(separator: "\n").lowercased()
    }
}
