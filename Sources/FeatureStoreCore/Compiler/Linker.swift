import FeatureComputation
import Foundation
import Yams

/// After every file is read: names are unique, references resolve, keys and features agree; the registry.
extension Compilation {
    // MARK: Linking: names are unique, references resolve, keys and features agree

    /// Drops later duplicates of a name (reporting each) and returns the survivors by name.
    mutating func unique<T: Definition>(_ items: [Parsed<T>], kind: String) -> [String: Parsed<T>] {
        var byName: [String: Parsed<T>] = [:]
        for item in items.sorted(by: { $0.location < $1.location }) {
            if let first = byName[item.value.name] {
                diagnostics.append(Diagnostic(item.location, "duplicate \(kind) '\(item.value.name)': already defined at \(first.location)"))
            } else {
                byName[item.value.name] = item
            }
        }
        return byName
    }

    mutating func link(config: RepositoryConfig?) -> Registry? {
        let entities = unique(entities, kind: "entity")
        let sources = unique(sources, kind: "source")
        let views = unique(views, kind: "feature view")
        let services = unique(services, kind: "feature service")
        let onDemand = unique(onDemandViews, kind: "on-demand view")
        linkExpressions(sources: sources, views: views, onDemand: onDemand, entities: entities)

        for source in sources.values {
            guard let batchName = source.value.batchSource, let at = source.at["batch_source"] else { continue }
            guard let batch = sources[batchName] else {
                if declared[.source]?.contains(batchName) == true { continue }
                diagnostics.append(Diagnostic(at, "unknown batch source '\(batchName)' in source '\(source.value.name)'\(Suggestion.hint(for: batchName, in: sources.keys))"))
                continue
            }
            if batch.value.isStream {
                diagnostics.append(Diagnostic(at, "batch source '\(batchName)' of source '\(source.value.name)' is a \(batch.value.kind) source (a stream); it must be a table source such as parquet"))
            }
        }

        for view in views.values {
            var keyOwners: [String: String] = [:]
            for (i, entityName) in view.value.entities.enumerated() {
                let at = view.at["entities.\(i)"] ?? view.location
                guard let entity = entities[entityName] else {
                    if declared[.entity]?.contains(entityName) == true { continue }
                    diagnostics.append(Diagnostic(at, "unknown entity '\(entityName)' in feature view '\(view.value.name)'\(Suggestion.hint(for: entityName, in: entities.keys))"))
                    continue
                }
                for key in entity.value.joinKeys {
                    if let other = keyOwners[key.name] {
                        diagnostics.append(Diagnostic(at, "entities '\(other)' and '\(entityName)' of feature view '\(view.value.name)' share the join key '\(key.name)'"))
                    }
                    keyOwners[key.name] = entityName
                    if let featureAt = view.at["feature.\(key.name)"] {
                        diagnostics.append(Diagnostic(featureAt, "feature '\(key.name)' of feature view '\(view.value.name)' has the name of a join key of entity '\(entityName)'"))
                    }
                }
            }
            let sourceAt = view.at["source"] ?? view.location
            if sources[view.value.source] == nil, declared[.source]?.contains(view.value.source) != true {
                diagnostics.append(Diagnostic(sourceAt, "unknown source '\(view.value.source)' in feature view '\(view.value.name)'\(Suggestion.hint(for: view.value.source, in: sources.keys))"))
            }
        }

        for service in services.values {
            for (i, ref) in service.value.features.enumerated() {
                let at = service.at["ref.\(i)"] ?? service.location
                if let odv = onDemand[ref.view] {
                    if let feature = ref.feature, odv.value.feature(named: feature) == nil {
                        let names = odv.value.features.map(\.name)
                        diagnostics.append(Diagnostic(at, "on-demand view '\(ref.view)' has no feature '\(feature)'\(Suggestion.hint(for: feature, in: names)); it has: \(names.joined(separator: ", "))"))
                    }
                    continue
                }
                guard let view = views[ref.view] else {
                    if declared[.featureView]?.contains(ref.view) == true || declared[.onDemandView]?.contains(ref.view) == true { continue }
                    diagnostics.append(Diagnostic(at, "unknown feature view '\(ref.view)' in feature service '\(service.value.name)'\(Suggestion.hint(for: ref.view, in: Array(views.keys) + Array(onDemand.keys)))"))
                    continue
                }
                if let feature = ref.feature, view.value.feature(named: feature) == nil {
                    let names = view.value.features.map(\.name)
                    diagnostics.append(Diagnostic(at, "feature view '\(ref.view)' has no feature '\(feature)'\(Suggestion.hint(for: feature, in: names)); it has: \(names.joined(separator: ", "))"))
                }
            }
        }

        // Sections that name definitions (the serving's `auth` scopes name views) check them now that all are read.
        if let config {
            let declaredViews = Set(views.keys).union(declared[.featureView] ?? [])
            for (name, settings) in config.sections.sorted(by: { $0.key < $1.key }) {
                guard let kind = kinds.sections[name] else { continue }
                var checked = settings
                kind.checkReferences(&checked, featureViews: declaredViews)
                diagnostics += checked.problems.filter { !settings.problems.contains($0) }
            }
        }

        guard let config, diagnostics.isEmpty else { return nil }
        var locations: [String: SourceLocation] = [:]
        func keep<T: Definition>(_ items: [String: Parsed<T>]) {
            for item in items.values {
                for (key, location) in item.at { locations[Registry.locationKey(T.kind, item.value.name, key)] = location }
            }
        }
        keep(sources)
        keep(views)
        return Registry(config: config,
                        entities: entities.values.map(\.value),
                        sources: sources.values.map(\.value),
                        featureViews: views.values.map(\.value),
                        onDemandViews: onDemand.values.map(\.value),
                        featureServices: services.values.map(\.value),
                        fieldLocations: locations)
    }
}
