import FeatureComputation
import Foundation
import Yams

/// A definition file: its top-level lists, each object handed to the reader of its kind; names and common keys.
extension Compilation {
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
    func name(_ object: YAMLObject, _ reader: inout YAMLReader, kind: String) -> Located<String>? {
        guard let name = reader.string(object, "name", required: true) else { return nil }
        if !Identifier.isValid(name.value) {
            reader.error(name.location, "\(kind) name '\(name.value)' is not an identifier: use letters, digits and '_', not starting with a digit")
            return nil
        }
        return name
    }

    func common(_ object: YAMLObject, _ reader: inout YAMLReader) -> (description: String, owner: String, tags: [String: String]) {
        let description = reader.string(object, "description")?.value ?? ""
        let owner = reader.string(object, "owner")?.value ?? ""
        var tags: [String: String] = [:]
        for (k, v) in reader.stringMap(object, "tags") ?? [] { tags[k.value] = v.value }
        return (description, owner, tags)
    }
}
