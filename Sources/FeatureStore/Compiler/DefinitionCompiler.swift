public import Foundation
import FeatureComputation
import Yams

/// Compiles the YAML files of a feature repository into one validated ``Registry``.
///
/// Every problem is reported, not just the first, each at its `file:line:column`, saying what is wrong and,
/// where it can, what would be right (`unknown entity 'drivr'; did you mean 'driver'?`).
public enum DefinitionCompiler {
    /// The settings file at the root of every repository.
    public static let configFileName = "feature_store.yaml"

    /// A definition file's name (relative to the repository, used in messages) and its text.
    public struct File: Sendable {
        /// The file's path relative to the repository, as messages name it.
        public var name: String
        /// The file's YAML text.
        public var text: String
        /// The file `name` (relative to the repository) holding `text`.
        public init(name: String, text: String) {
            self.name = name
            self.text = text
        }
    }

    /// Compiles the repository in `directory`: its `feature_store.yaml` and every other `*.yaml`/`*.yml` below it
    /// (hidden folders and the offline data folder excluded).
    public static func compile(repository directory: URL) throws(CompileError) -> Registry {
        let fm = FileManager.default
        let configURL = directory.appendingPathComponent(configFileName)
        guard let configText = try? String(contentsOf: configURL, encoding: .utf8) else {
            let exists = fm.fileExists(atPath: configURL.path)
            throw CompileError(diagnostics: [Diagnostic(
                SourceLocation(file: configFileName, line: 1, column: 1),
                exists ? "cannot read \(configURL.path) as UTF-8 text"
                    : "no \(configFileName) in \(directory.path): is this a feature repository? (`featurectl init NAME` makes one)")])
        }
        let files = definitionFiles(in: directory, offlineFolderHint: offlineFolder(in: configText))
        var loaded: [File] = []
        var unreadable: [Diagnostic] = []
        for relative in files {
            if let text = try? String(contentsOf: directory.appendingPathComponent(relative), encoding: .utf8) {
                loaded.append(File(name: relative, text: text))
            } else {
                unreadable.append(Diagnostic(SourceLocation(file: relative, line: 1, column: 1), "cannot read the file as UTF-8 text"))
            }
        }
        let result = Result { () throws(CompileError) in
            try compile(config: File(name: configFileName, text: configText), definitions: loaded)
        }
        switch result {
        case .success(let registry):
            if !unreadable.isEmpty { throw CompileError(diagnostics: unreadable) }
            // Definitions that compile are checked against the data their sources hold.
            let check = DataSchemaCheck.diagnostics(for: registry, repository: directory)
            if !check.problems.isEmpty { throw CompileError(diagnostics: check.problems) }
            return registry
        case .failure(let error):
            throw CompileError(diagnostics: error.diagnostics + unreadable)
        }
    }

    /// The Parquet sources whose data does not exist yet (so their schema was not checked against the definitions).
    public static func sourcesWithoutData(_ registry: Registry, repository: URL) -> [String] {
        DataSchemaCheck.diagnostics(for: registry, repository: repository).unchecked
    }

    /// Compiles in-memory files: the settings and the definition files.
    public static func compile(config: File, definitions: [File]) throws(CompileError) -> Registry {
        var compiler = Compilation()
        let parsedConfig = compiler.readConfig(config)
        for file in definitions {
            compiler.readDefinitions(file)
        }
        let registry = compiler.link(config: parsedConfig)
        if !compiler.diagnostics.isEmpty || registry == nil {
            throw CompileError(diagnostics: compiler.diagnostics)
        }
        return registry!
    }

    /// The relative paths of definition files, sorted.
    static func definitionFiles(in directory: URL, offlineFolderHint: String?) -> [String] {
        let root = directory.standardizedFileURL.path
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        var out: [String] = []
        let skipFolders = Set([offlineFolderHint, ".build", "node_modules"].compactMap { $0 })
        while let relative = enumerator.nextObject() as? String {
            let components = relative.split(separator: "/").map(String.init)
            if components.contains(where: { $0.hasPrefix(".") }) || skipFolders.contains(components[0]) {
                if (enumerator.fileAttributes?[.type] as? FileAttributeType) == .typeDirectory { enumerator.skipDescendants() }
                continue
            }
            guard relative.hasSuffix(".yaml") || relative.hasSuffix(".yml"), relative != configFileName else { continue }
            out.append(relative)
        }
        return out.sorted()
    }

    /// The offline folder named in the settings (best effort, before the settings are validated).
    private static func offlineFolder(in configText: String) -> String? {
        guard let node = try? Yams.compose(yaml: configText),
              let path = node["offline_store"]?["path"]?.string else { return "data" }
        return path.split(separator: "/").first.map(String.init)
    }
}

/// The state of one compilation: what has been read, with locations, and the diagnostics so far.
struct Compilation {
    var diagnostics: [Diagnostic] = []

    struct Parsed<T> {
        var value: T
        var location: SourceLocation
        /// Locations of references and fields that later checks point at.
        var at: [String: SourceLocation] = [:]
    }

    /// Every name declared per kind, valid or not: a reference to an object that failed to compile
    /// is not reported again as unknown (its own error says what is wrong).
    var declared: [ObjectKind: Set<String>] = [:]
    var entities: [Parsed<Entity>] = []
    var sources: [Parsed<DataSource>] = []
    var views: [Parsed<FeatureView>] = []
    var services: [Parsed<FeatureService>] = []
    var onDemandViews: [Parsed<OnDemandView>] = []
    /// Where each expression is written: `source:NAME:derived.COLUMN`, `on_demand_view:NAME:feature.FEATURE`.
    var expressionSites: [String: ExpressionSite] = [:]

    /// The core's keys of `feature_store.yaml`; registered ``ConfigSectionKind``s add theirs.
    static let configKeys = ["project", "offline_store", "online_store", "registry", "auth"]
    static let tokenKeys = ["name", "scopes", "env", "file"]
    /// Views named by auth scopes, checked once views are known.
    var scopeViews: [Located<String>] = []
    static let topLevelKeys = ObjectKind.allCases.map(\.listKey)
    static let entityKeys = ["name", "join_keys", "description", "owner", "tags"]
    static let joinKeyKeys = ["name", "type"]
    static let viewKeys = ["name", "entities", "source", "ttl", "features", "aggregations", "online", "description", "owner", "tags"]
    static let aggregationKeys = ["function", "column", "windows", "hop", "n", "name", "type", "description"]
    static let featureKeys = ["name", "type", "description"]
    static let serviceKeys = ["name", "features", "description", "owner", "tags"]

    // MARK: Settings

    /// A block that belongs to a kind (`online_store`, `offline_store`, a source, a format), read as scalars for the
    /// kind to check: `kind` (or `defaultKind`) and every other key but `skipping`, with their locations. Nested
    /// mappings become dotted keys (`schema_registry: {url: x}` is `schema_registry.url`).
    static func kindSettings(_ reader: inout YAMLReader, _ o: YAMLObject, _ node: Node, defaultKind: String, skipping: [String]) -> StoreSettings {
        let kind = reader.string(o, "kind")
        var settings = StoreSettings(kind: kind?.value ?? defaultKind, values: [:], locations: [:], blockLocation: reader.location(of: node))
        collectSettings(&reader, o, prefix: "", skipping: Set(skipping).union(["kind"]), into: &settings)
        if let kind { settings.keyLocations["kind"] = kind.location }
        return settings
    }

    private static func collectSettings(_ reader: inout YAMLReader, _ o: YAMLObject, prefix: String, skipping: Set<String>,
                                        into settings: inout StoreSettings) {
        for key in o.keys where !skipping.contains(key) {
            let name = prefix + key
            guard let value = reader.node(o, key) else { continue }
            switch value {
            case .sequence(let items):
                // A list of plain values is handed over comma-separated (`nodes: [a:1, b:2]`).
                let texts = items.compactMap { reader.scalarString($0, describing: "each item of '\(name)' in \(o.what)")?.value }
                settings.values[name] = texts.joined(separator: ",")
                settings.locations[name] = reader.location(of: value)
                settings.keyLocations[name] = reader.keyLocation(o, key)
            case .mapping:
                if let inner = reader.openObject(value, what: "'\(name)' of \(o.what)") {
                    settings.keyLocations[name] = reader.keyLocation(o, key)
                    collectSettings(&reader, inner, prefix: name + ".", skipping: [], into: &settings)
                }
            default:
                guard let text = reader.string(o, key) else { continue }
                settings.values[name] = text.value
                settings.locations[name] = text.location
                settings.keyLocations[name] = reader.keyLocation(o, key)
            }
        }
    }

    /// Lets the block's kind check its settings (`validate`: nil when this program has no such kind, an error naming
    /// the kinds it has), reporting each problem at its place.
    static func validate(_ settings: inout StoreSettings, _ reader: inout YAMLReader, _ node: Node,
                         with validate: ((inout StoreSettings) -> Void)?, unknown: (String) -> String) {
        guard let validate else {
            reader.error(settings.keyLocations["kind"] ?? reader.location(of: node), unknown(settings.kind))
            return
        }
        validate(&settings)
        for problem in settings.problems { reader.error(problem.location, problem.message) }
    }

    mutating func readConfig(_ file: DefinitionCompiler.File) -> RepositoryConfig? {
        var reader = YAMLReader(file: file.name)
        defer { diagnostics += reader.diagnostics }
        guard let root = reader.parse(file.text) else {
            if reader.diagnostics.isEmpty { reader.error(SourceLocation(file: file.name, line: 1, column: 1), "the file is empty: it needs at least 'project: NAME'") }
            return nil
        }
        guard let top = reader.object(root, what: "the repository settings", allowed: Self.configKeys + ConfigSections.names) else { return nil }
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
            Self.validate(&settings, &reader, node, with: OfflineEngineKinds.kind(named: settings.kind)?.validate,
                          unknown: OfflineEngineKinds.unknownKindMessage)
            config.offlineStore = OfflineStoreConfig(settings: settings)
        }
        if let node = reader.node(top, "online_store"), let o = reader.openObject(node, what: "'online_store'") {
            var settings = Self.kindSettings(&reader, o, node, defaultKind: OnlineStoreConfig.defaultKind, skipping: [])
            Self.validate(&settings, &reader, node, with: OnlineStoreKinds.kind(named: settings.kind)?.validate,
                          unknown: OnlineStoreKinds.unknownKindMessage)
            config.onlineStore = OnlineStoreConfig(settings: settings)
        }
        if let node = reader.node(top, "registry") {
            if case .scalar = node, let path = reader.scalarString(node, describing: "'registry'") {
                config.registryPath = path.value
            } else if let o = reader.object(node, what: "'registry'", allowed: ["path"]), let path = reader.string(o, "path") {
                config.registryPath = path.value
            }
        }
        // Blocks of other targets (`kafka`): their sections check them.
        for name in ConfigSections.names {
            guard let kind = ConfigSections.kind(named: name), let node = reader.node(top, name),
                  let o = reader.openObject(node, what: "'\(name)'") else { continue }
            var settings = Self.kindSettings(&reader, o, node, defaultKind: name, skipping: ["kind"])
            settings.kind = name
            settings.family = "section"
            kind.validate(&settings)
            for problem in settings.problems { reader.error(problem.location, problem.message) }
            config.sections[name] = settings
            if let streams = kind.streamSettings(settings) { config.streams = streams }
        }
        if let node = reader.node(top, "auth"), let o = reader.object(node, what: "'auth'", allowed: ["tokens", "catalog"]) {
            config.auth = readAuth(o, &reader)
        }
        return config
    }

    private mutating func readAuth(_ object: YAMLObject, _ reader: inout YAMLReader) -> AuthConfig? {
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

    // MARK: Definition files

    mutating func readDefinitions(_ file: DefinitionCompiler.File) {
        var reader = YAMLReader(file: file.name)
        defer { diagnostics += reader.diagnostics }
        guard let root = reader.parse(file.text) else { return } // empty file: nothing defined
        guard let top = reader.object(root, what: "a definition file", allowed: Self.topLevelKeys) else { return }
        for kind in ObjectKind.allCases {
            guard case .sequence(let items)? = reader.node(top, kind.listKey) else { continue }
            for item in items {
                if case .mapping(let m) = item, let name = m["name"]?.string { declared[kind, default: []].insert(name) }
            }
        }
        for node in reader.sequence(top, ObjectKind.entity.listKey) ?? [] {
            if let e = readEntity(node, &reader) { entities.append(e) }
        }
        for node in reader.sequence(top, ObjectKind.source.listKey) ?? [] {
            if let s = readSource(node, &reader) { sources.append(s) }
        }
        for node in reader.sequence(top, ObjectKind.featureView.listKey) ?? [] {
            if let v = readView(node, &reader) { views.append(v) }
        }
        for node in reader.sequence(top, ObjectKind.onDemandView.listKey) ?? [] {
            if let v = readOnDemandView(node, &reader) { onDemandViews.append(v) }
        }
        for node in reader.sequence(top, ObjectKind.featureService.listKey) ?? [] {
            if let s = readService(node, &reader) { services.append(s) }
        }
    }

    /// Reads `name` and checks it is an identifier; returns the object description for messages.
    private func name(_ object: YAMLObject, _ reader: inout YAMLReader, kind: String) -> Located<String>? {
        guard let name = reader.string(object, "name", required: true) else { return nil }
        if !Identifier.isValid(name.value) {
            reader.error(name.location, "\(kind) name '\(name.value)' is not an identifier: use letters, digits and '_', not starting with a digit")
            return nil
        }
        return name
    }

    private func common(_ object: YAMLObject, _ reader: inout YAMLReader) -> (description: String, owner: String, tags: [String: String]) {
        let description = reader.string(object, "description")?.value ?? ""
        let owner = reader.string(object, "owner")?.value ?? ""
        var tags: [String: String] = [:]
        for (k, v) in reader.stringMap(object, "tags") ?? [] { tags[k.value] = v.value }
        return (description, owner, tags)
    }

    private func readEntity(_ node: Node, _ reader: inout YAMLReader) -> Parsed<Entity>? {
        guard let object = reader.object(node, kind: "entity", allowed: Self.entityKeys) else { return nil }
        let name = name(object, &reader, kind: "entity")
        var keys: [JoinKey] = []
        var seen: Set<String> = []
        let keyNodes = reader.sequence(object, "join_keys", required: true)
        if keyNodes?.isEmpty == true {
            reader.error(reader.keyLocation(object, "join_keys")!, "\(object.what) needs at least one join key")
        }
        for keyNode in keyNodes ?? [] {
            guard let keyObject = reader.object(keyNode, what: "a join key of \(object.what)", allowed: Self.joinKeyKeys) else { continue }
            guard let keyName = reader.string(keyObject, "name", required: true) else { continue }
            guard Identifier.isValid(keyName.value) else {
                reader.error(keyName.location, "join key name '\(keyName.value)' is not an identifier")
                continue
            }
            if !seen.insert(keyName.value).inserted {
                reader.error(keyName.location, "duplicate join key '\(keyName.value)' in \(object.what)")
                continue
            }
            guard let typeText = reader.string(keyObject, "type", required: true) else { continue }
            guard let type = ScalarType(rawValue: typeText.value), type.canBeJoinKey else {
                let allowed = ScalarType.allCases.filter(\.canBeJoinKey).map(\.rawValue)
                reader.error(typeText.location, "join key '\(keyName.value)' has type '\(typeText.value)', which cannot be a join key\(Suggestion.hint(for: typeText.value, in: allowed)); use one of: \(allowed.joined(separator: ", "))")
                continue
            }
            keys.append(JoinKey(name: keyName.value, type: type))
        }
        let (description, owner, tags) = common(object, &reader)
        guard let name, !keys.isEmpty else { return nil }
        return Parsed(value: Entity(name: name.value, joinKeys: keys, description: description, owner: owner, tags: tags,
                                    location: name.location),
                      location: name.location)
    }

    private mutating func readSource(_ node: Node, _ reader: inout YAMLReader) -> Parsed<DataSource>? {
        // The common keys are read here; the rest belong to the source's kind, which checks them.
        guard let object = reader.openObject(node, kind: "source") else { return nil }
        let name = name(object, &reader, kind: "source")
        var at: [String: SourceLocation] = [:]
        var kindName: String? = nil
        var settings: [String: String] = [:]
        var batchSource: String? = nil
        var format: StoreSettings? = nil
        if let kindText = reader.string(object, "kind", required: true) {
            var block = Self.kindSettings(&reader, object, node, defaultKind: kindText.value, skipping: Array(DataSource.commonKeys))
            block.family = "source"
            block.sharedKeys = DataSource.commonKeys.sorted()
            block.keyLocations["kind"] = kindText.location
            if let kind = SourceKinds.kind(named: kindText.value) {
                kind.validate(&block)
                for problem in block.problems { reader.error(problem.location, problem.message) }
                kindName = kind.name
                settings = block.values
                let what = "\(object.what) is a \(kind.name) source (a \(kind.role.rawValue))"
                switch kind.role {
                case .table:
                    for key in ["batch_source", "format"] where reader.node(object, key) != nil {
                        reader.error(reader.keyLocation(object, key)!, "'\(key)' is for stream sources; \(what)")
                    }
                case .stream:
                    if let batch = reader.string(object, "batch_source", required: true) {
                        at["batch_source"] = batch.location
                        batchSource = batch.value
                    }
                    format = readFormat(object, &reader)
                }
            } else {
                reader.error(kindText.location, SourceKinds.unknownKindMessage(kindText.value))
            }
        }
        let timestamp = reader.string(object, "timestamp_field", required: true)
        let created = reader.string(object, "created_timestamp_field")
        if let timestamp { at["timestamp_field"] = timestamp.location }
        if let created { at["created_timestamp_field"] = created.location }
        var mapping: [String: String] = [:]
        for (from, to) in reader.stringMap(object, "field_mapping") ?? [] {
            if !Identifier.isValid(to.value) {
                reader.error(to.location, "field_mapping maps '\(from.value)' to '\(to.value)', which is not an identifier")
            }
            mapping[from.value] = to.value
        }
        if let timestamp, let created, timestamp.value == created.value {
            reader.error(created.location, "created_timestamp_field must differ from timestamp_field ('\(timestamp.value)')")
        }
        let (description, owner, tags) = common(object, &reader)
        let (derived, columns) = readDerived(object, &reader, source: name?.value, at: &at)
        guard let name, let kindName, let timestamp else { return nil }
        return Parsed(value: DataSource(name: name.value, kind: kindName, settings: settings, batchSource: batchSource,
                                        format: format, timestampField: timestamp.value,
                                        createdTimestampField: created?.value, fieldMapping: mapping,
                                        derived: derived, columns: columns,
                                        description: description, owner: owner, tags: tags, location: name.location),
                      location: name.location, at: at)
    }

    /// `format: NAME` or `format: {kind: NAME, ...settings}` of a stream source (absent: `json`), checked by its kind.
    private mutating func readFormat(_ object: YAMLObject, _ reader: inout YAMLReader) -> StoreSettings? {
        var settings: StoreSettings
        if let node = reader.node(object, "format") {
            if case .mapping = node {
                guard let block = reader.openObject(node, what: "'format' of \(object.what)") else { return nil }
                guard reader.string(block, "kind", required: true) != nil else { return nil }
                settings = Self.kindSettings(&reader, block, node, defaultKind: "json", skipping: [])
            } else {
                guard let name = reader.string(object, "format") else { return nil }
                settings = StoreSettings(kind: name.value, values: [:], locations: [:], blockLocation: name.location)
                settings.keyLocations["kind"] = name.location
            }
        } else {
            settings = StoreSettings(kind: "json")
        }
        settings.family = "message format"
        guard let kind = PayloadFormatKinds.kind(named: settings.kind) else {
            reader.error(settings.keyLocations["kind"] ?? object.location, PayloadFormatKinds.unknownKindMessage(settings.kind))
            return nil
        }
        kind.validate(&settings)
        for problem in settings.problems { reader.error(problem.location, problem.message) }
        return settings
    }

    private func readView(_ node: Node, _ reader: inout YAMLReader) -> Parsed<FeatureView>? {
        guard let object = reader.object(node, kind: "feature view", allowed: Self.viewKeys) else { return nil }
        let name = name(object, &reader, kind: "feature view")
        var at: [String: SourceLocation] = [:]
        let entityRefs = reader.stringList(object, "entities", required: true) ?? []
        if entityRefs.isEmpty, let loc = reader.keyLocation(object, "entities") {
            reader.error(loc, "\(object.what) needs at least one entity")
        }
        for (i, ref) in entityRefs.enumerated() { at["entities.\(i)"] = ref.location }
        let source = reader.string(object, "source", required: true)
        if let source { at["source"] = source.location }
        var ttl = TimeSpan.zero
        if let ttlText = reader.string(object, "ttl") {
            if let parsed = TimeSpan(parsing: ttlText.value) {
                ttl = parsed
            } else {
                reader.error(ttlText.location, "bad duration '\(ttlText.value)' for 'ttl': write a number and a unit, like 90s, 15m, 2h, 7d, 1w or 1d12h; 0 means no limit")
            }
        }
        var features: [Feature] = []
        var seen: Set<String> = []
        let hasAggregations = reader.node(object, "aggregations") != nil
        if hasAggregations, let loc = reader.keyLocation(object, "features") {
            reader.error(loc, "\(object.what) has both 'features' and 'aggregations': a view either serves its source's latest values or aggregates its events; split it in two")
        }
        if hasAggregations {
            features = readAggregations(object, &reader, at: &at, seen: &seen)
            if ttl != .zero, let loc = reader.keyLocation(object, "ttl") {
                reader.error(loc, "\(object.what) aggregates events over windows, which say how old an event may be: remove 'ttl'")
            }
        }
        let featureNodes = hasAggregations ? [] : reader.sequence(object, "features", required: true)
        if featureNodes?.isEmpty == true && !hasAggregations {
            reader.error(reader.keyLocation(object, "features")!, "\(object.what) needs at least one feature")
        }
        for featureNode in featureNodes ?? [] {
            guard let f = reader.object(featureNode, what: "a feature of \(object.what)", allowed: Self.featureKeys),
                  let fname = reader.string(f, "name", required: true) else { continue }
            guard Identifier.isValid(fname.value) else {
                reader.error(fname.location, "feature name '\(fname.value)' is not an identifier: use letters, digits and '_', not starting with a digit")
                continue
            }
            if !seen.insert(fname.value).inserted {
                reader.error(fname.location, "duplicate feature '\(fname.value)' in \(object.what)")
                continue
            }
            at["feature.\(fname.value)"] = fname.location
            guard let typeText = reader.string(f, "type", required: true) else { continue }
            guard let type = ValueType(parsing: typeText.value) else {
                reader.error(typeText.location, "unknown type '\(typeText.value)' for feature '\(fname.value)'\(Suggestion.hint(for: typeText.value, in: ValueType.allSpellings)); use one of: \(ScalarType.allCases.map(\.rawValue).joined(separator: ", ")), or list<TYPE>")
                continue
            }
            features.append(Feature(name: fname.value, type: type, description: reader.string(f, "description")?.value ?? ""))
        }
        let online = reader.bool(object, "online")?.value ?? true
        let (description, owner, tags) = common(object, &reader)
        guard let name, let source, !entityRefs.isEmpty, !features.isEmpty else { return nil }
        return Parsed(value: FeatureView(name: name.value, entities: entityRefs.map(\.value), source: source.value, ttl: ttl,
                                         features: features, online: online, description: description, owner: owner,
                                         tags: tags, location: name.location),
                      location: name.location, at: at)
    }

    /// The features of a view's `aggregations`: one per aggregation and window, named `column_function_window`
    /// (`count_window` for count) unless `name:` says otherwise (one window only).
    private func readAggregations(_ object: YAMLObject, _ reader: inout YAMLReader, at atLocations: inout [String: SourceLocation],
                                  seen: inout Set<String>) -> [Feature] {
        var features: [Feature] = []
        let nodes = reader.sequence(object, "aggregations", required: true) ?? []
        if nodes.isEmpty, let loc = reader.keyLocation(object, "aggregations") {
            reader.error(loc, "\(object.what) needs at least one aggregation")
        }
        let functions = AggregateFunction.allCases.map(\.rawValue)
        for node in nodes {
            guard let a = reader.object(node, what: "an aggregation of \(object.what)", allowed: Self.aggregationKeys) else { continue }
            guard let functionText = reader.string(a, "function", required: true) else { continue }
            guard let function = AggregateFunction(rawValue: functionText.value) else {
                reader.error(functionText.location, "unknown aggregation function '\(functionText.value)'\(Suggestion.hint(for: functionText.value, in: functions)); functions: \(functions.joined(separator: ", "))")
                continue
            }
            var ok = true
            let column = reader.string(a, "column")
            if function.readsColumn && column == nil {
                reader.error(functionText.location, "'\(function.rawValue)' aggregates a column: add 'column:'")
                ok = false
            } else if !function.readsColumn, let column {
                reader.error(column.location, "'count' counts events and takes no column (nulls of a column are skipped by the other functions)")
                ok = false
            }
            if let column, !Identifier.isValid(column.value) {
                reader.error(column.location, "column '\(column.value)' is not an identifier")
                ok = false
            }
            var inputType: ScalarType? = nil
            if let typeText = reader.string(a, "type") {
                if let t = ScalarType(rawValue: typeText.value) {
                    inputType = t
                    if FeatureAggregation.outputType(of: function, input: t) == nil {
                        reader.error(typeText.location, "'\(function.rawValue)' does not take a \(t.rawValue) column; it takes \(FeatureAggregation.acceptedInputs(of: function))")
                        ok = false
                    }
                } else {
                    reader.error(typeText.location, "unknown type '\(typeText.value)' for column '\(column?.value ?? "")'\(Suggestion.hint(for: typeText.value, in: ScalarType.allCases.map(\.rawValue))); use one of: \(ScalarType.allCases.map(\.rawValue).joined(separator: ", "))")
                    ok = false
                }
            } else if FeatureAggregation.outputType(of: function, input: nil) == nil {
                let why = function == .approxCountDistinct ? "hashes values by their type" : "gives a feature of its column's type"
                reader.error(functionText.location, "'\(function.rawValue)' \(why): declare the column's type with 'type:' (for example type: float64)")
                ok = false
            }
            var n: Int? = nil
            if let nText = reader.string(a, "n") {
                if !function.needsN {
                    reader.error(nText.location, "'n' is for last_n and last_distinct_n, not '\(function.rawValue)'")
                    ok = false
                } else if let value = Int(nText.value), (1...1000).contains(value) {
                    n = value
                } else {
                    reader.error(nText.location, "'n' must be a whole number from 1 to 1000, found '\(nText.value)'")
                    ok = false
                }
            } else if function.needsN {
                reader.error(functionText.location, "'\(function.rawValue)' keeps the n latest values: add 'n:' (for example n: 5)")
                ok = false
            }
            var hop: TimeSpan? = nil
            if let hopText = reader.string(a, "hop") {
                if let span = TimeSpan(parsing: hopText.value), span.seconds > 0 {
                    hop = span
                } else {
                    reader.error(hopText.location, "bad hop '\(hopText.value)': write a positive duration like 1m, 5m, 1h or 1d")
                    ok = false
                }
            }
            let windows = reader.stringList(a, "windows", required: true) ?? []
            if windows.isEmpty, let loc = reader.keyLocation(a, "windows") {
                reader.error(loc, "an aggregation needs at least one window, like windows: [1h, 1d]")
            }
            var spans: [(TimeSpan, TimeSpan, Located<String>)] = []
            for w in windows {
                guard let span = TimeSpan(parsing: w.value), span.seconds > 0 else {
                    reader.error(w.location, "bad window '\(w.value)': write a positive duration like 10m, 1h, 7d")
                    ok = false
                    continue
                }
                let micros = span.seconds * 1_000_000
                let windowHop = hop.map { $0.seconds * 1_000_000 } ?? AggregationWindow.defaultHop(for: micros)
                guard AggregationWindow(length: micros, hop: windowHop) != nil else {
                    reader.error(w.location, "window '\(w.value)' is not a whole number of hops of \(hop.map { "\($0)" } ?? ""); choose a window that is, or another hop")
                    ok = false
                    continue
                }
                spans.append((span, TimeSpan(seconds: windowHop / 1_000_000), w))
            }
            let name = reader.string(a, "name")
            if let name, windows.count > 1 {
                reader.error(name.location, "'name' names one feature, but this aggregation has \(windows.count) windows: write one aggregation per window to name each")
                ok = false
            }
            guard ok else { continue }
            let description = reader.string(a, "description")?.value ?? ""
            for (span, windowHop, w) in spans {
                let featureName = name?.value ?? function.featureName(column: column?.value, window: "\(span)")
                let at = name?.location ?? w.location
                guard Identifier.isValid(featureName) else {
                    reader.error(at, "feature name '\(featureName)' is not an identifier: use letters, digits and '_', not starting with a digit")
                    continue
                }
                guard seen.insert(featureName).inserted else {
                    reader.error(at, "duplicate feature '\(featureName)' in \(object.what)")
                    continue
                }
                atLocations["feature.\(featureName)"] = at
                let aggregation = FeatureAggregation(function: function, column: column?.value, window: span, hop: windowHop, n: n, inputType: inputType)
                features.append(Feature(name: featureName, type: FeatureAggregation.outputType(of: function, input: inputType)!,
                                        description: description, aggregation: aggregation))
            }
        }
        return features
    }

    private func readService(_ node: Node, _ reader: inout YAMLReader) -> Parsed<FeatureService>? {
        guard let object = reader.object(node, kind: "feature service", allowed: Self.serviceKeys) else { return nil }
        let name = name(object, &reader, kind: "feature service")
        var at: [String: SourceLocation] = [:]
        var refs: [FeatureReference] = []
        let items = reader.stringList(object, "features", required: true) ?? []
        if items.isEmpty, let loc = reader.keyLocation(object, "features") {
            reader.error(loc, "\(object.what) needs at least one feature reference")
        }
        for item in items {
            guard let ref = FeatureReference(parsing: item.value) else {
                reader.error(item.location, "bad feature reference '\(item.value)': write 'view' for all its features or 'view:feature' for one")
                continue
            }
            if refs.contains(ref) {
                reader.error(item.location, "'\(item.value)' is listed twice in \(object.what)")
                continue
            }
            at["ref.\(refs.count)"] = item.location
            refs.append(ref)
        }
        let (description, owner, tags) = common(object, &reader)
        guard let name, !refs.isEmpty else { return nil }
        return Parsed(value: FeatureService(name: name.value, features: refs, description: description, owner: owner,
                                            tags: tags, location: name.location),
                      location: name.location, at: at)
    }

    // MARK: Linking: names are unique, references resolve, keys and features agree

    /// Drops later duplicates of a name (reporting each) and returns the survivors by name.
    private mutating func unique<T: Definition>(_ items: [Parsed<T>], kind: String) -> [String: Parsed<T>] {
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

        for ref in scopeViews where views[ref.value] == nil && declared[.featureView]?.contains(ref.value) != true {
            diagnostics.append(Diagnostic(ref.location, "unknown feature view '\(ref.value)' in an auth scope\(Suggestion.hint(for: ref.value, in: views.keys))"))
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
