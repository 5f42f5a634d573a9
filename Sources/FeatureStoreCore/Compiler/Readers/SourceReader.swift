import FeatureComputation
import Foundation
import Yams

/// A source: its common keys here, its kind's own keys checked by the kind (``SourceKind``); a stream's format by
/// the format's kind.
extension Compilation {
    mutating func readSource(_ node: Node, _ reader: inout YAMLReader) -> Parsed<DataSource>? {
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
            let kind = kinds.sources[kindText.value]
            if kind == nil && unknownKinds == .report {
                reader.error(kindText.location, kinds.unknownSource(kindText.value))
            } else {
                // A kind this program lacks (`.deferUntilUsed`) is kept unchecked: a stream if it names a batch source.
                if let kind {
                    kind.validate(&block)
                    for problem in block.problems { reader.error(problem.location, problem.message) }
                }
                let role = kind?.role ?? (reader.node(object, "batch_source") != nil ? .stream : .table)
                kindName = kindText.value
                settings = block.values
                let what = "\(object.what) is a \(kindText.value) source (a \(role.rawValue))"
                switch role {
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
    mutating func readFormat(_ object: YAMLObject, _ reader: inout YAMLReader) -> StoreSettings? {
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
        guard let kind = kinds.formats[settings.kind] else {
            // Under `.deferUntilUsed` the block is kept as written: the ingester, which decodes, has the format or says so.
            if unknownKinds == .deferUntilUsed { return settings }
            reader.error(settings.keyLocations["kind"] ?? object.location, kinds.unknownFormat(settings.kind))
            return nil
        }
        kind.validate(&settings)
        for problem in settings.problems { reader.error(problem.location, problem.message) }
        return settings
    }
}
