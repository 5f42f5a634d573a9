import FeatureComputation
import Foundation
import Yams

/// `feature_store.yaml`: the project, the blocks of the online store, offline engine and configuration sections (each
/// handed to its kind), the registry and `auth`.
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
        if let node = reader.node(top, "auth"), let o = reader.object(node, what: "'auth'", allowed: ["tokens", "catalog"]) {
            config.auth = readAuth(o, &reader)
        }
        return config
    }

    /// The top-level keys `feature_store.yaml` may have: the core's and the program's sections'; under
    /// `.deferUntilUsed` also any other key of `root` that does not look like a misspelt core key.
    func configKeysAllowed(in root: Node) -> [String] {
        var allowed = Self.configKeys + kinds.sections.keys.sorted()
        guard unknownKinds == .deferUntilUsed, case .mapping(let mapping) = root else { return allowed }
        for (key, _) in mapping {
            guard case .scalar(let s) = key, !allowed.contains(s.string) else { continue }
            if Suggestion.closest(to: s.string, in: Self.configKeys) == nil { allowed.append(s.string) }
        }
        return allowed
    }

    mutating func readAuth(_ object: YAMLObject, _ reader: inout YAMLReader) -> AuthConfig? {
        var auth = AuthConfig(tokens: [])
        if let catalog = reader.string(object, "catalog") {
            if let access = AuthConfig.CatalogAccess(rawValue: catalog.value) {
                auth.catalog = access
            } else {
                reader.error(catalog.location, "unknown catalog access '\(catalog.value)'; use public (no token) or read (a token with a read scope)")
            }
        }
        let nodes = reader.sequence(object, "tokens", required: true) ?? []
        if nodes.isEmpty, let at = reader.keyLocation(object, "tokens") {
            reader.error(at, "'auth' needs at least one token (remove 'auth' to serve without authentication)")
        }
        var names: Set<String> = []
        for node in nodes {
            guard let token = reader.object(node, what: "a token of 'auth'", allowed: Self.tokenKeys) else { continue }
            guard let name = reader.string(token, "name", required: true) else { continue }
            guard Identifier.isValid(name.value) else {
                reader.error(name.location, "token name '\(name.value)' is not an identifier")
                continue
            }
            guard names.insert(name.value).inserted else {
                reader.error(name.location, "duplicate token name '\(name.value)'")
                continue
            }
            var scopes: [AccessScope] = []
            let scopeTexts = reader.stringList(token, "scopes", required: true) ?? []
            if scopeTexts.isEmpty, let at = reader.keyLocation(token, "scopes") {
                reader.error(at, "token '\(name.value)' needs at least one scope (read:<view or *>, write:<view or *>)")
            }
            for text in scopeTexts {
                guard let scope = AccessScope(parsing: text.value) else {
                    reader.error(text.location, "scope '\(text.value)' of token '\(name.value)' is not read:<view or *> or write:<view or *>")
                    continue
                }
                if let view = scope.view { scopeViews.append(Located(value: view, location: text.location)) }
                scopes.append(scope)
            }
            let env = reader.string(token, "env"), file = reader.string(token, "file")
            let secret: TokenConfig.Secret
            switch (env, file) {
            case (let env?, nil): secret = .environment(env.value)
            case (nil, let file?): secret = .file(file.value)
            case (_?, let file?):
                reader.error(file.location, "token '\(name.value)' has both 'env' and 'file'; give one")
                continue
            case (nil, nil):
                reader.error(name.location, "token '\(name.value)' needs 'env' (an environment variable) or 'file' (a file) holding its secret; secrets are never written in the YAML")
                continue
            }
            auth.tokens.append(TokenConfig(name: name.value, scopes: scopes, secret: secret))
        }
        return auth
    }
}
