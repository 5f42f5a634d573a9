import Foundation

/// What `apply` would change in the catalog: objects added, changed (field by field) and removed.
public struct Plan: Sendable, Codable {
    /// The kind of change to one object.
    public enum Action: String, Sendable, Codable {
        case add, change, remove
    }

    /// One field whose value changes: `ttl: 2h -> 1d`. A missing side is `nil`.
    public struct FieldChange: Sendable, Codable, Hashable {
        /// The field's path in the canonical content: dotted, list elements by name (`features[conv_rate].type`).
        public var path: String
        /// The value before, as text (nil: the field is new).
        public var old: String?
        /// The value after, as text (nil: the field is gone).
        public var new: String?
    }

    /// The change to one object.
    public struct Change: Sendable, Codable {
        /// The object's kind.
        public var kind: ObjectKind
        /// The object's name.
        public var name: String
        /// Added, changed or removed.
        public var action: Action
        /// Field-level differences (empty for additions and removals).
        public var fields: [FieldChange]
        /// Why this change may break consumers (a feature's type changed, a used feature removed, ...).
        public var breaking: [String]
        /// What happens to the view's online data (dropped at apply when its stored schema changes or it is removed).
        public var online: String? = nil
        /// The new canonical content (nil for a removal).
        var spec: String?
        /// The new content hash (nil for a removal).
        public var hash: String?

        enum CodingKeys: String, CodingKey { case kind, name, action, fields, breaking, online, hash }
    }

    /// The project of the definitions.
    public var project: String
    /// The changes, by kind (in ``ObjectKind`` order), then name; unchanged objects are left out.
    public var changes: [Change]

    /// Nothing to do: the catalog matches the definitions.
    public var isEmpty: Bool { changes.isEmpty }
    /// How many changes may break consumers (those with a ``Change/breaking`` reason).
    public var breakingCount: Int { changes.filter { !$0.breaking.isEmpty }.count }
    /// How many changes are `action`s.
    public func count(_ action: Action) -> Int { changes.filter { $0.action == action }.count }
}

extension Plan {
    /// Compares the compiled definitions with what the catalog holds.
    static func make(from current: [ObjectKey: StoredObject], to registry: Registry) -> Plan {
        var changes: [Change] = []
        var wanted: Set<ObjectKey> = []
        let oldServices = current.values.filter { $0.kind == .featureService }
            .compactMap { try? CanonicalSpec.decode(FeatureService.self, from: $0.spec) }

        for (kind, definition) in registry.allObjects {
            let key = ObjectKey(kind: kind, name: definition.name)
            wanted.insert(key)
            let spec = CanonicalSpec.json(of: definition)
            let hash = CanonicalSpec.hash(spec)
            guard let old = current[key] else {
                changes.append(Change(kind: kind, name: definition.name, action: .add, fields: [], breaking: [], spec: spec, hash: hash))
                continue
            }
            guard old.hash != hash else { continue }
            let fields = diff(old: old.spec, new: spec)
            let breaking = breakingReasons(kind: kind, old: old.spec, new: spec, oldServices: oldServices)
            var change = Change(kind: kind, name: definition.name, action: .change, fields: fields, breaking: breaking, spec: spec, hash: hash)
            if kind == .featureView, let a = try? CanonicalSpec.decode(FeatureView.self, from: old.spec), let b = definition as? FeatureView,
               a.features != b.features || a.entities != b.entities {
                change.online = "its online rows have another schema: they are dropped at apply; materialize again"
            }
            changes.append(change)
        }
        for (key, old) in current where !wanted.contains(key) {
            var breaking: [String] = []
            if key.kind == .featureView {
                let users = oldServices.filter { s in s.features.contains { $0.view == key.name } }.map(\.name)
                if !users.isEmpty { breaking.append("feature view removed; it was used by service \(users.sorted().joined(separator: ", "))") }
            }
            _ = old
            var change = Change(kind: key.kind, name: key.name, action: .remove, fields: [], breaking: breaking, spec: nil, hash: nil)
            if key.kind == .featureView { change.online = "its online rows are dropped at apply" }
            changes.append(change)
        }
        let order = Dictionary(uniqueKeysWithValues: ObjectKind.allCases.enumerated().map { ($1, $0) })
        changes.sort { (order[$0.kind]!, $0.name) < (order[$1.kind]!, $1.name) }
        return Plan(project: registry.config.project, changes: changes)
    }

    static func diff(old: String, new: String) -> [FieldChange] {
        let (a, aElements) = CanonicalSpec.leaves(old), (b, bElements) = CanonicalSpec.leaves(new)
        // Elements present on one side only are reported whole, and their fields skipped.
        let whole = Set(aElements.keys).symmetricDifference(bElements.keys)
        var changes = whole.map { FieldChange(path: $0, old: aElements[$0], new: bElements[$0]) }
        for path in Set(a.keys).union(b.keys) where a[path] != b[path] {
            if whole.contains(where: { path.hasPrefix($0 + ".") }) { continue }
            changes.append(FieldChange(path: path, old: a[path], new: b[path]))
        }
        return changes.sorted { $0.path < $1.path }
    }

    /// A view's features that changed type, or were removed while a service used them.
    static func featureReasons(view: String, old: [(name: String, type: String)], new: [(name: String, type: String)],
                               oldServices: [FeatureService]) -> [String] {
        var reasons: [String] = []
        for feature in old {
            if let now = new.first(where: { $0.name == feature.name }) {
                if now.type != feature.type { reasons.append("feature '\(feature.name)' changed type: \(feature.type) -> \(now.type)") }
                continue
            }
            let users = oldServices.filter { s in
                s.features.contains { $0.view == view && ($0.feature == nil || $0.feature == feature.name) }
            }.map(\.name)
            if !users.isEmpty {
                reasons.append("feature '\(feature.name)' removed; it was used by service \(users.sorted().joined(separator: ", "))")
            }
        }
        return reasons
    }

    static func breakingReasons(kind: ObjectKind, old: String, new: String, oldServices: [FeatureService]) -> [String] {
        switch kind {
        case .entity:
            guard let a = try? CanonicalSpec.decode(Entity.self, from: old),
                  let b = try? CanonicalSpec.decode(Entity.self, from: new) else { return [] }
            if a.joinKeys != b.joinKeys {
                let show = { (keys: [JoinKey]) in keys.map { "\($0.name) \($0.type.rawValue)" }.joined(separator: ", ") }
                return ["join keys changed: (\(show(a.joinKeys))) -> (\(show(b.joinKeys)))"]
            }
            return []
        case .featureView:
            guard let a = try? CanonicalSpec.decode(FeatureView.self, from: old),
                  let b = try? CanonicalSpec.decode(FeatureView.self, from: new) else { return [] }
            var reasons = featureReasons(view: a.name, old: a.features.map { ($0.name, $0.type.description) },
                                         new: b.features.map { ($0.name, $0.type.description) }, oldServices: oldServices)
            if a.entities != b.entities {
                reasons.append("entities changed: [\(a.entities.joined(separator: ", "))] -> [\(b.entities.joined(separator: ", "))]")
            }
            return reasons
        case .onDemandView:
            guard let a = try? CanonicalSpec.decode(OnDemandView.self, from: old),
                  let b = try? CanonicalSpec.decode(OnDemandView.self, from: new) else { return [] }
            return featureReasons(view: a.name, old: a.features.map { ($0.name, $0.type.rawValue) },
                                  new: b.features.map { ($0.name, $0.type.rawValue) }, oldServices: oldServices)
        case .source, .featureService:
            return []
        }
    }
}
