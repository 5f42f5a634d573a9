import FeatureComputation
import Foundation
import Yams

/// An entity: its name and join keys.
extension Compilation {
    func readEntity(_ node: Node, _ reader: inout YAMLReader) -> Parsed<Entity>? {
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
}
