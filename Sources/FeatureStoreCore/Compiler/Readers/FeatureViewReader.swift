import FeatureComputation
import Foundation
import Yams

/// A feature view: entities, source, ttl, plain features and aggregations.
extension Compilation {
    func readView(_ node: Node, _ reader: inout YAMLReader) -> Parsed<FeatureView>? {
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
            features.append(Feature(name: fname.value, type: type, description: reader.string(f, "description")?.value ?? "",
                                    expectations: readExpect(f, name: fname.value, type: type, &reader)))
        }
        let online = reader.bool(object, "online")?.value ?? true
        let expectations = readViewExpectations(object, &reader)
        let (description, owner, tags) = common(object, &reader)
        guard let name, let source, !entityRefs.isEmpty, !features.isEmpty else { return nil }
        return Parsed(value: FeatureView(name: name.value, entities: entityRefs.map(\.value), source: source.value, ttl: ttl,
                                         features: features, online: online, description: description, owner: owner,
                                         tags: tags, location: name.location, expectations: expectations),
                      location: name.location, at: at)
    }

    /// The features of a view's `aggregations`: one per aggregation and window, named `column_function_window`
    /// (`count_window` for count) unless `name:` says otherwise (one window only).
    func readAggregations(_ object: YAMLObject, _ reader: inout YAMLReader, at atLocations: inout [String: SourceLocation],
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
}
