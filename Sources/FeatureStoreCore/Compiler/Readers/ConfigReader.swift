import FeatureComputation
import Foundation
import Yams

/// `feature_store.yaml`: the project, the blocks of the online store, offline engine and configuration sections (each
/// handed to its kind: `kafka` to the Kafka transport, `auth` to the serving), and the registry.
extension Compilation {

    mutating func readConfig(_ file: DefinitionCompiler.File) -> RepositoryConfig? {
        var reader = YAMLReader(file: file.name)
        defer { diagnostics += reader.diagnostics }
        guard let root = reader.parse(file.text) else {
            if reader.diagnostics.isEmpty { reader.error(SourceLocation(file: file.name, line: 1, column: 1), "the file is empty: it needs at least 'project: NAME'") }
            return nil
        }
        guard let top = reader.object(root, what: "the repository settings", allowed: configKeysAllowed(in: root)) else { return nil }
        var config = RepositoryConfig(project: "")
        if let project = reader.string(top, "project", required: true) {
            if Identifier.isValid(project.value) {
                config.project = project.value
            } else {
                reader.error(project.location, "project name '\(project.value)' is not an identifier: use letters, digits and '_', not starting with a digit")
            }
        }
        if let node = reader.node(top, "offline_store"), let o = reader.openObject(node, what: "'offline_store'") {
            // `path` is the repository's (where offline data lives); the rest of the block belongs to the kind.
            if let path = reader.string(o, "path") { config.offlineStorePath = path.value }
            var settings = Self.kindSettings(&reader, o, node, defaultKind: OfflineStoreConfig.defaultKind, skipping: ["path"])
            settings.family = "offline engine"
            validate(&settings, &reader, node, with: kinds.offlineEngines[settings.kind]?.validate,
                     unknown: kinds.unknownOfflineEngine)
            config.offlineStore = OfflineStoreConfig(settings: settings)
        }
        if let node = reader.node(top, "online_store"), let o = reader.openObject(node, what: "'online_store'") {
            var settings = Self.kindSettings(&reader, o, node, defaultKind: OnlineStoreConfig.defaultKind, skipping: [])
            validate(&settings, &reader, node, with: kinds.onlineStores[settings.kind]?.validate,
                     unknown: kinds.unknownOnlineStore)
            config.onlineStore = OnlineStoreConfig(settings: settings)
        }
        if let node = reader.node(top, "registry") {
            if case .scalar = node, let path = reader.scalarString(node, describing: "'registry'") {
                config.registryPath = path.value
            } else if let o = reader.object(node, what: "'registry'", allowed: ["path"]), let path = reader.string(o, "path") {
                config.registryPath = path.value
            }
        }
        // Blocks of other targets (`kafka`): their sections check them. Under `.deferUntilUsed`, blocks of sections
        // this program lacks are kept unchecked.
        for name in top.keys.sorted() where !Self.configKeys.contains(name) {
            guard let node = reader.node(top, name), let o = reader.openObject(node, what: "'\(name)'") else { continue }
            var settings = Self.kindSettings(&reader, o, node, defaultKind: name, skipping: ["kind"])
            settings.kind = name
            settings.family = "section"
            if let kind = kinds.sections[name] {
                kind.validate(&settings)
                for problem in settings.problems { reader.error(problem.location, problem.message) }
                if let streams = kind.streamSettings(settings) { config.streams = streams }
            }
            config.sections[name] = settings
        }
        return config
    }

    /// The top-level keys `feature_store.yaml` may have: the core's and the program's sections'; under
    /// `.deferUntilUsed` also any other key of `root` that does not look like a misspelt core or section key.
    func configKeysAllowed(in root: Node) -> [String] {
        var allowed = Self.configKeys + kinds.sections.keys.sorted()
        guard unknownKinds == .deferUntilUsed, case .mapping(let mapping) = root else { return allowed }
        for (key, _) in mapping {
            guard case .scalar(let s) = key, !allowed.contains(s.string) else { continue }
            if Suggestion.closest(to: s.string, in: Self.configKeys + kinds.sections.keys) == nil { allowed.append(s.string) }
        }
        return allowed
    }
}
