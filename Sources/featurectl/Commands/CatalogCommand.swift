import ArgumentParser
import BundledKinds
import Columnar
import FeatureStoreCore
import Foundation

struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Browse the applied catalog: what exists, its schema, owner, source and history.",
        subcommands: [List.self, Show.self])

    /// Opens the applied catalog, or explains why there is none.
    static func open(_ repository: RepositoryOptions) throws -> Catalog {
        let store = try repository.load()
        do {
            if let catalog = try Catalog(store: store.openRegistry(create: false)) { return catalog }
            Console.error("error: the catalog of '\(store.config.project)' is empty: run `featurectl apply` first")
        } catch {
            Console.error("error: \(error.description)")
        }
        throw ExitCode(1)
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List catalog objects, filtered by kind, tag or a search text.")

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var output: OutputOptions

        @Option(help: "Only this kind: entity, source, view or service.")
        var kind: String?

        @Option(help: "Only objects with this tag (KEY=VALUE); repeat to require several.")
        var tag: [String] = []

        @Option(help: "Only objects whose name, description, owner, tags or features contain TEXT.")
        var search: String?

        func validate() throws {
            if let kind, ObjectKind(userSpelling: kind) == nil {
                throw ValidationError("unknown kind '\(kind)': use entity, source, view or service")
            }
            for t in tag where !t.contains("=") {
                throw ValidationError("--tag '\(t)' must be KEY=VALUE")
            }
        }

        func run() throws {
            let catalog = try CatalogCommand.open(repository)
            var tags: [String: String] = [:]
            for t in tag {
                let parts = t.split(separator: "=", maxSplits: 1).map(String.init)
                tags[parts[0]] = parts.count > 1 ? parts[1] : ""
            }
            let entries = catalog.list(kind: kind.flatMap(ObjectKind.init(userSpelling:)), tags: tags, search: search)
            if output.json {
                try Console.printJSON(entries.map(ListedObject.init))
                return
            }
            if entries.isEmpty {
                Console.print("No objects match.")
                return
            }
            var table = TextTable("KIND", "NAME", "VERSION", "OWNER", "DETAILS", "DESCRIPTION")
            for entry in entries {
                table.add(entry.kind.rawValue, entry.name, "\(entry.version)", entry.definition.owner,
                          Summary.details(entry.definition, kinds: Kinds.bundled),
                          Summary.firstLine(entry.definition.description, limit: 60))
            }
            Console.print(table.render())
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one object: its schema, source, ttl, owner, tags and version history.")

        @OptionGroup var repository: RepositoryOptions
        @OptionGroup var output: OutputOptions

        @Argument(help: "The object's name.")
        var name: String

        @Option(help: "The kind, when several objects share the name: entity, source, view or service.")
        var kind: String?

        @MainActor func run() async throws {
            let catalog = try CatalogCommand.open(repository)
            let wantedKind = kind.flatMap(ObjectKind.init(userSpelling:))
            let matches = catalog.entries(named: name).filter { wantedKind == nil || $0.kind == wantedKind }
            guard !matches.isEmpty else {
                var message = "error: no object named '\(name)' in the catalog"
                if let close = catalog.closestName(to: name) { message += "; did you mean '\(close)'?" }
                Console.error(message)
                throw ExitCode(1)
            }
            let store = try repository.load()
            let registryStore = try store.openRegistry(create: false)
            var shown: [ShownObject] = []
            for entry in matches {
                let history = try registryStore.history(of: ObjectKey(kind: entry.kind, name: entry.name))
                var object = ShownObject(entry: entry, history: history)
                if let view = entry.definition as? FeatureView {
                    object.lastMaterialization = try registryStore.lastMaterialization(of: view.name).map {
                        ShownObject.Materialization(at: $0.at, report: $0.report)
                    }
                    if view.online, store.onlineStoreExists {
                        object.online = try? await store.onlineStore().statistics(of: OnlineTable(view: view, joinKeys: catalog.registry.joinKeys(of: view)))
                    }
                }
                shown.append(object)
            }
            if output.json {
                try Console.printJSON(shown.count == 1 ? AnyEncodable(shown[0]) : AnyEncodable(shown))
                return
            }
            Console.print(shown.map { ObjectRenderer.render($0, registry: catalog.registry) }.joined(separator: "\n\n"))
        }
    }
}

/// One line of `catalog list --json`.
struct ListedObject: Encodable {
    var kind: ObjectKind
    var name: String
    var version: Int
    var changedAt: Date
    var owner: String
    var description: String
    var tags: [String: String]

    init(_ entry: CatalogEntry) {
        kind = entry.kind
        name = entry.name
        version = entry.version
        changedAt = entry.changedAt
        owner = entry.definition.owner
        description = entry.definition.description
        tags = entry.definition.tags
    }

    enum CodingKeys: String, CodingKey { case kind, name, version, changedAt = "changed_at", owner, description, tags }
}

/// `catalog show --json`: the definition, its version and its history (and, for views, the online state).
struct ShownObject: Encodable {
    struct Materialization: Encodable {
        var at: Date
        var report: MaterializationReport
    }

    var entry: CatalogEntry
    var history: [ObjectVersion]
    var online: OnlineViewStatistics? = nil
    var lastMaterialization: Materialization? = nil

    enum CodingKeys: String, CodingKey {
        case kind, name, version, changedAt = "changed_at", definition, history, online, lastMaterialization = "last_materialization"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(entry.kind, forKey: .kind)
        try c.encode(entry.name, forKey: .name)
        try c.encode(entry.version, forKey: .version)
        try c.encode(entry.changedAt, forKey: .changedAt)
        try c.encode(AnyEncodable(entry.definition), forKey: .definition)
        try c.encode(history, forKey: .history)
        try c.encodeIfPresent(online, forKey: .online)
        try c.encodeIfPresent(lastMaterialization, forKey: .lastMaterialization)
    }
}

struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}

/// Short descriptions of objects for tables.
enum Summary {
    static func firstLine(_ text: String, limit: Int) -> String {
        let line = text.split(separator: "\n").first.map(String.init) ?? ""
        return line.count > limit ? String(line.prefix(limit - 1)) + "…" : line
    }

    static func details(_ definition: any Definition, kinds: Kinds) -> String {
        switch definition {
        case let e as Entity:
            return "keys: " + e.joinKeys.map { "\($0.name) \($0.type.rawValue)" }.joined(separator: ", ")
        case let s as DataSource:
            return "\(s.kind) \(kinds.whereabouts(of: s))" + (s.batchSource.map { " (offline: \($0))" } ?? "")
        case let v as FeatureView:
            return "\(v.features.count) features, ttl \(v.ttl), source \(v.source)\(v.online ? "" : ", offline only")"
        case let v as OnDemandView:
            return "\(v.features.count) features at request time" + (v.request.isEmpty ? "" : ", request: " + v.request.map(\.name).joined(separator: ", "))
        case let s as FeatureService:
            return "\(s.features.count) refs: " + s.features.map(\.description).joined(separator: ", ")
        default:
            return ""
        }
    }
}

/// The human form of `catalog show`.
enum ObjectRenderer {
    static func render(_ shown: ShownObject, registry: Registry) -> String {
        let entry = shown.entry
        let d = entry.definition
        var fields: [(String, String)] = []
        if !d.description.isEmpty { fields.append(("description", d.description)) }
        if !d.owner.isEmpty { fields.append(("owner", d.owner)) }
        if !d.tags.isEmpty { fields.append(("tags", d.tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))) }
        var sections: [String] = []
        switch d {
        case let e as Entity:
            var keys = TextTable("JOIN KEY", "TYPE")
            for k in e.joinKeys { keys.add(k.name, k.type.rawValue) }
            sections.append(keys.render(indent: "  "))
            let views = registry.featureViews.filter { $0.entities.contains(e.name) }.map(\.name)
            fields.append(("feature views", views.isEmpty ? "(none)" : views.joined(separator: ", ")))
        case let s as DataSource:
            fields.append(("kind", s.kind))
            for key in s.settings.keys.sorted() { fields.append((key.replacingOccurrences(of: "_", with: " "), s.settings[key]!)) }
            if let format = s.format {
                fields.append(("format", format.kind))
                for key in format.values.keys.sorted() { fields.append(("format \(key)", format.values[key]!)) }
            }
            if let batch = s.batchSource { fields.append(("batch source", batch)) }
            fields.append(("timestamp field", s.timestampField))
            if let created = s.createdTimestampField { fields.append(("created field", created)) }
            if !s.fieldMapping.isEmpty {
                fields.append(("field mapping", s.fieldMapping.sorted { $0.key < $1.key }.map { "\($0.key) -> \($0.value)" }.joined(separator: ", ")))
            }
            let views = registry.views(readingFrom: s.name).map(\.name)
            fields.append(("feature views", views.isEmpty ? "(none)" : views.joined(separator: ", ")))
            if !s.derived.isEmpty {
                var derived = TextTable("DERIVED COLUMN", "TYPE", "EXPRESSION")
                for d in s.derived { derived.add(d.name, d.type.rawValue, d.expression) }
                sections.append(derived.render(indent: "  "))
            }
        case let v as OnDemandView:
            fields.append(("request", v.request.isEmpty ? "(none)" : v.request.map { "\($0.name) \($0.type.rawValue)" }.joined(separator: ", ")))
            let inputs = registry.inputViews(of: v)
            fields.append(("reads", inputs.isEmpty ? "(request data only)" : inputs.joined(separator: ", ")))
            let users = registry.services(using: v.name).map(\.name)
            fields.append(("used by", users.isEmpty ? "(no service)" : users.joined(separator: ", ")))
            var schema = TextTable("FEATURE", "TYPE", "EXPRESSION", "DESCRIPTION")
            for f in v.features { schema.add(f.name, f.type.rawValue, f.expression, f.description) }
            sections.append(schema.render(indent: "  "))
        case let v as FeatureView:
            let keys = registry.joinKeys(of: v).map { "\($0.name) \($0.type.rawValue)" }.joined(separator: ", ")
            fields.append(("entities", "\(v.entities.joined(separator: ", ")) (\(keys))"))
            fields.append(("source", v.source))
            fields.append(("ttl", v.ttl.seconds == 0 ? "0 (no limit)" : v.ttl.description))
            fields.append(("online", v.online ? "yes" : "no"))
            let users = registry.services(using: v.name).map(\.name)
            fields.append(("used by", users.isEmpty ? "(no service)" : users.joined(separator: ", ")))
            if let online = shown.online {
                let newest = online.newestEventTimestamp.map { Column.isoTimestamp($0, unit: .microseconds, utc: true) } ?? "-"
                fields.append(("online rows", "\(online.approximate ? "about " : "")\(online.rows)\(online.approximate ? " (an estimate)" : ""), newest event \(newest)"))
            }
            let stats = shown.lastMaterialization?.report.features ?? [:]
            if let m = shown.lastMaterialization {
                fields.append(("materialized", "\(Console.timestamp(m.at)): \(m.report.rowsWritten) rows written of \(m.report.entities) entities (\(m.report.rowsRead) rows read)"))
            }
            var schema = stats.isEmpty ? TextTable("FEATURE", "TYPE", "DESCRIPTION") : TextTable("FEATURE", "TYPE", "NULLS", "MIN", "MAX", "MEAN", "DESCRIPTION")
            func number(_ d: Double?) -> String { d.map { String(format: "%.4g", $0) } ?? "" }
            for f in v.features {
                // An aggregated feature says how it is computed before its description.
                let text = [f.aggregation?.summary, f.description.isEmpty ? nil : f.description].compactMap { $0 }.joined(separator: "; ")
                if let st = stats[f.name] {
                    schema.add(f.name, f.type.description, "\(st.nullCount)", number(st.min), number(st.max), number(st.mean), text)
                } else if stats.isEmpty {
                    schema.add(f.name, f.type.description, text)
                } else {
                    schema.add(f.name, f.type.description, "", "", "", "", text)
                }
            }
            sections.append(schema.render(indent: "  "))
        case let s as FeatureService:
            var refs = TextTable("VIEW", "FEATURE", "TYPE")
            for ref in s.features {
                if let odv = registry.onDemandView(named: ref.view) {
                    for f in ref.feature.flatMap(odv.feature(named:)).map({ [$0] }) ?? odv.features { refs.add(odv.name, f.name, f.type.rawValue) }
                    continue
                }
                guard let view = registry.featureView(named: ref.view) else { continue }
                let features = ref.feature.flatMap(view.feature(named:)).map { [$0] } ?? view.features
                for f in features { refs.add(view.name, f.name, f.type.description) }
            }
            sections.append(refs.render(indent: "  "))
        default:
            break
        }
        let width = fields.map(\.0.count).max() ?? 0
        var lines = ["\(entry.kind) \(entry.name)  (version \(entry.version), changed \(Console.timestamp(entry.changedAt)))"]
        lines += fields.map { "  \($0.0.padding(toLength: width, withPad: " ", startingAt: 0))  \($0.1)" }
        for section in sections { lines += ["", section] }
        var history = TextTable("VERSION", "ACTION", "WHEN", "CHANGES")
        for v in shown.history {
            let changes = v.fields.map { "\($0.path): \($0.old ?? "(none)") -> \($0.new ?? "(none)")" }
            history.add("\(v.version)", v.action.rawValue, Console.timestamp(v.changedAt), changes.first ?? "")
            for more in changes.dropFirst() { history.add("", "", "", more) }
        }
        lines += ["", "  HISTORY", history.render(indent: "  ")]
        return lines.joined(separator: "\n")
    }
}
