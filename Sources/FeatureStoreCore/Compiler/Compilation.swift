import FeatureComputation
import Foundation
import Yams


/// The state of one compilation: what has been read, with locations, and the diagnostics so far.
struct Compilation {
    /// The kinds this program has, and what to do with names it lacks.
    let kinds: Kinds
    let unknownKinds: UnknownKindPolicy
    var diagnostics: [Diagnostic] = []

    init(kinds: Kinds, unknownKinds: UnknownKindPolicy) {
        self.kinds = kinds
        self.unknownKinds = unknownKinds
    }

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

    /// The core's keys of `feature_store.yaml`; the program's ``ConfigSectionKind``s add theirs.
    static let configKeys = ["project", "offline_store", "online_store", "registry"]
    static let topLevelKeys = ObjectKind.allCases.map(\.listKey)
    static let entityKeys = ["name", "join_keys", "description", "owner", "tags"]
    static let joinKeyKeys = ["name", "type"]
    static let viewKeys = ["name", "entities", "source", "ttl", "features", "aggregations", "online", "description", "owner", "tags", "expectations"]
    static let aggregationKeys = ["function", "column", "windows", "hop", "n", "name", "type", "description"]
    static let featureKeys = ["name", "type", "description", "expect"]
    static let serviceKeys = ["name", "features", "description", "owner", "tags", "logging", "skew_watch"]
    static let loggingKeys = ["sample_rate", "path"]
    static let skewWatchKeys = ["sample_rate", "delay"]

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
            // A key written with dots (`"a.b": x`) must not stand in for a nested one (`a: {b: x}`) written too.
            if settings.values[name] != nil || settings.keyLocations[name] != nil {
                reader.error(reader.keyLocation(o, key) ?? reader.location(of: value), "'\(name)' is written twice in \(o.what) (once with dots in the key); write it once")
                continue
            }
            switch value {
            case .sequence(let items):
                settings.locations[name] = reader.location(of: value)
                settings.keyLocations[name] = reader.keyLocation(o, key)
                settings.itemLocations[name] = items.map { reader.location(of: $0) }
                if !items.isEmpty, items.allSatisfy({ if case .mapping = $0 { true } else { false } }) {
                    // A list of mappings: dotted keys by position (`tokens.0.name`).
                    for (i, item) in items.enumerated() {
                        if let inner = reader.openObject(item, what: "item \(i + 1) of '\(name)' of \(o.what)") {
                            collectSettings(&reader, inner, prefix: "\(name).\(i).", skipping: [], into: &settings)
                        }
                    }
                } else {
                    // A list of plain values is handed over comma-separated (`nodes: [a:1, b:2]`).
                    let texts = items.compactMap { reader.scalarString($0, describing: "each item of '\(name)' in \(o.what)")?.value }
                    settings.values[name] = texts.joined(separator: ",")
                }
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

    /// Lets the block's kind check its settings (`validate`: nil when this program has no such kind: an error naming
    /// the kinds it has, or under `.deferUntilUsed` the block kept unchecked), reporting each problem at its place.
    func validate(_ settings: inout StoreSettings, _ reader: inout YAMLReader, _ node: Node,
                  with validate: ((inout StoreSettings) -> Void)?, unknown: (String) -> String) {
        guard let validate else {
            if unknownKinds == .report {
                reader.error(settings.keyLocations["kind"] ?? reader.location(of: node), unknown(settings.kind))
            }
            return
        }
        validate(&settings)
        for problem in settings.problems { reader.error(problem.location, problem.message) }
    }
}
