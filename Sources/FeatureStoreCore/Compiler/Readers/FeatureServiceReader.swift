import FeatureComputation
import Foundation
import Yams

/// A feature service: the features it serves.
extension Compilation {
    func readService(_ node: Node, _ reader: inout YAMLReader) -> Parsed<FeatureService>? {
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
        var logging: FeatureLogging? = nil
        if let node = reader.node(object, "logging"), let l = reader.object(node, what: "the logging of \(object.what)", allowed: Self.loggingKeys) {
            if let text = reader.string(l, "sample_rate", required: true) {
                if let rate = Double(text.value), rate > 0, rate <= 1 {
                    logging = FeatureLogging(sampleRate: rate, path: reader.string(l, "path")?.value)
                } else {
                    reader.error(text.location, "'sample_rate' is the share of lookups logged, above 0 and at most 1, found '\(text.value)'")
                }
            }
        }
        var skewWatch: SkewWatchSettings? = nil
        if let node = reader.node(object, "skew_watch"), let w = reader.object(node, what: "the skew watch of \(object.what)", allowed: Self.skewWatchKeys) {
            var delay = TimeSpan(seconds: 600)
            if let text = reader.string(w, "delay") {
                if let span = TimeSpan(parsing: text.value) { delay = span } else {
                    reader.error(text.location, "bad duration '\(text.value)' for 'delay': write one like 0s, 30s, 10m or 1h (time for the offline data to land)")
                }
            }
            if let text = reader.string(w, "sample_rate", required: true) {
                if let rate = Double(text.value), rate > 0, rate <= 1 {
                    skewWatch = SkewWatchSettings(sampleRate: rate, delay: delay)
                } else {
                    reader.error(text.location, "'sample_rate' is the share of lookups checked, above 0 and at most 1, found '\(text.value)'")
                }
            }
        }
        guard let name, !refs.isEmpty else { return nil }
        return Parsed(value: FeatureService(name: name.value, features: refs, description: description, owner: owner,
                                            tags: tags, location: name.location, logging: logging, skewWatch: skewWatch),
                      location: name.location, at: at)
    }
}
