import Expressions
import Yams

/// The parts of definitions written as expressions: sources' derived columns and on-demand views. Read with the
/// place of every expression, then checked once every object is known: names resolve, types fit, derived columns form
/// no cycle. A mistake is reported at the `file:line:column` of the offending token inside the expression.
extension Compilation {
    static let derivedKeys = ["name", "type", "expr"]
    static let onDemandKeys = ["name", "request", "features", "description", "owner", "tags"]
    static let requestFieldKeys = ["name", "type"]
    static let onDemandFeatureKeys = ["name", "type", "expr", "description"]

    /// An expression-computable scalar type, reporting anything else.
    func expressionType(_ text: Located<String>, what: String, _ reader: inout YAMLReader) -> ScalarType? {
        let allowed = ScalarType.allCases.filter { $0.outputType != nil }.map(\.rawValue)
        guard let type = ScalarType(rawValue: text.value), type.outputType != nil else {
            reader.error(text.location, "unknown type '\(text.value)' for \(what)\(Suggestion.hint(for: text.value, in: allowed)); use one of: \(allowed.joined(separator: ", "))")
            return nil
        }
        return type
    }

    /// A source's `derived` columns and declared `columns`.
    mutating func readDerived(_ object: YAMLObject, _ reader: inout YAMLReader, source: String?,
                              at: inout [String: SourceLocation]) -> ([DerivedColumn], [String: ScalarType]) {
        var derived: [DerivedColumn] = []
        var seen: Set<String> = []
        for node in reader.sequence(object, "derived") ?? [] {
            guard let d = reader.object(node, what: "a derived column of \(object.what)", allowed: Self.derivedKeys),
                  let name = reader.string(d, "name", required: true) else { continue }
            guard Identifier.isValid(name.value) else {
                reader.error(name.location, "derived column name '\(name.value)' is not an identifier: use letters, digits and '_', not starting with a digit")
                continue
            }
            guard seen.insert(name.value).inserted else {
                reader.error(name.location, "duplicate derived column '\(name.value)' in \(object.what)")
                continue
            }
            let typeText = reader.string(d, "type", required: true)
            let site = reader.expression(d, "expr", required: true)
            guard let typeText, let type = expressionType(typeText, what: "derived column '\(name.value)'", &reader), let site else { continue }
            if let source { expressionSites["source:\(source):derived.\(name.value)"] = site }
            at["derived.\(name.value)"] = site.start
            derived.append(DerivedColumn(name: name.value, type: type, expression: site.text))
        }
        var columns: [String: ScalarType] = [:]
        for (name, typeText) in reader.stringMap(object, "columns") ?? [] {
            guard let type = ScalarType(rawValue: typeText.value) else {
                reader.error(typeText.location, "unknown type '\(typeText.value)' for column '\(name.value)'\(Suggestion.hint(for: typeText.value, in: ScalarType.allCases.map(\.rawValue))); use one of: \(ScalarType.allCases.map(\.rawValue).joined(separator: ", "))")
                continue
            }
            columns[name.value] = type
        }
        return (derived, columns)
    }

    mutating func readOnDemandView(_ node: Node, _ reader: inout YAMLReader) -> Parsed<OnDemandView>? {
        guard let object = reader.object(node, kind: "on-demand view", allowed: Self.onDemandKeys) else { return nil }
        let nameText = reader.string(object, "name", required: true)
        var name: Located<String>? = nameText
        if let n = nameText, !Identifier.isValid(n.value) {
            reader.error(n.location, "on-demand view name '\(n.value)' is not an identifier: use letters, digits and '_', not starting with a digit")
            name = nil
        }
        var request: [RequestField] = []
        for fieldNode in reader.sequence(object, "request") ?? [] {
            guard let f = reader.object(fieldNode, what: "a request field of \(object.what)", allowed: Self.requestFieldKeys),
                  let fname = reader.string(f, "name", required: true) else { continue }
            guard Identifier.isValid(fname.value) else {
                reader.error(fname.location, "request field name '\(fname.value)' is not an identifier")
                continue
            }
            if request.contains(where: { $0.name == fname.value }) {
                reader.error(fname.location, "duplicate request field '\(fname.value)' in \(object.what)")
                continue
            }
            guard let typeText = reader.string(f, "type", required: true),
                  let type = expressionType(typeText, what: "request field '\(fname.value)'", &reader) else { continue }
            request.append(RequestField(name: fname.value, type: type))
        }
        var features: [OnDemandFeature] = []
        var at: [String: SourceLocation] = [:]
        let featureNodes = reader.sequence(object, "features", required: true) ?? []
        if featureNodes.isEmpty, let loc = reader.keyLocation(object, "features") {
            reader.error(loc, "\(object.what) needs at least one feature")
        }
        for featureNode in featureNodes {
            guard let f = reader.object(featureNode, what: "a feature of \(object.what)", allowed: Self.onDemandFeatureKeys),
                  let fname = reader.string(f, "name", required: true) else { continue }
            guard Identifier.isValid(fname.value) else {
                reader.error(fname.location, "feature name '\(fname.value)' is not an identifier: use letters, digits and '_', not starting with a digit")
                continue
            }
            if features.contains(where: { $0.name == fname.value }) {
                reader.error(fname.location, "duplicate feature '\(fname.value)' in \(object.what)")
                continue
            }
            let typeText = reader.string(f, "type", required: true)
            let site = reader.expression(f, "expr", required: true)
            guard let typeText, let type = expressionType(typeText, what: "feature '\(fname.value)'", &reader), let site else { continue }
            if let name { expressionSites["on_demand_view:\(name.value):feature.\(fname.value)"] = site }
            at["feature.\(fname.value)"] = fname.location
            features.append(OnDemandFeature(name: fname.value, type: type, expression: site.text,
                                            description: reader.string(f, "description")?.value ?? ""))
        }
        let (description, owner, tags) = (reader.string(object, "description")?.value ?? "", reader.string(object, "owner")?.value ?? "",
                                          Dictionary((reader.stringMap(object, "tags") ?? []).map { ($0.key.value, $0.value.value) }, uniquingKeysWith: { a, _ in a }))
        guard let name, !features.isEmpty else { return nil }
        return Parsed(value: OnDemandView(name: name.value, request: request, features: features, description: description,
                                          owner: owner, tags: tags, location: name.location),
                      location: name.location, at: at)
    }

    /// Reports each error of compiling `text` at its place.
    mutating func report(_ errors: [ExpressionError], site: ExpressionSite?, fallback: SourceLocation, context: String) {
        for e in errors {
            let at = site?.location(ofOffset: e.range.lowerBound) ?? fallback
            diagnostics.append(Diagnostic(at, "\(e.message) (in \(context))"))
        }
    }

    /// Checks derived columns and on-demand views once every object is known.
    mutating func linkExpressions(sources: [String: Parsed<DataSource>], views: [String: Parsed<FeatureView>],
                                  onDemand: [String: Parsed<OnDemandView>], entities: [String: Parsed<Entity>]) {
        for (name, odv) in onDemand where views[name] != nil {
            diagnostics.append(Diagnostic(odv.location, "on-demand view '\(name)' has the name of a feature view (defined at \(views[name]!.location)): references could not tell them apart"))
        }
        // Derived columns: typed by what the definitions declare about their sources' columns.
        for source in sources.values.sorted(by: { $0.location < $1.location }) {
            let s = source.value
            guard !s.derived.isEmpty else { continue }
            var types: [String: ExpressionType] = [:]
            var known: Set<String> = [s.timestampField]
            types[s.timestampField] = .timestamp
            if let created = s.createdTimestampField { types[created] = .timestamp; known.insert(created) }
            for (column, type) in s.columns { known.insert(column); if let t = type.outputType?.expressionType { types[column] = t } }
            // What the views reading this source declare (names mapped back to the source's column names).
            var columnOf: [String: String] = [:]
            for (from, to) in s.fieldMapping { columnOf[to] = from }
            let derivedNames = Set(s.derived.map(\.name))
            for view in views.values where view.value.source == s.name || sources[view.value.source]?.value.batchSourceName == s.name {
                for feature in view.value.features {
                    if let aggregation = feature.aggregation {
                        if let column = aggregation.column {
                            let name = columnOf[column] ?? column
                            known.insert(name)
                            if types[name] == nil, !derivedNames.contains(name), let t = aggregation.inputType?.outputType?.expressionType { types[name] = t }
                        }
                        continue
                    }
                    let name = columnOf[feature.name] ?? feature.name
                    known.insert(name)
                    if types[name] == nil, !derivedNames.contains(name), case .scalar(let scalar) = feature.type,
                       let t = scalar.outputType?.expressionType { types[name] = t }
                }
                for entity in view.value.entities {
                    for key in entities[entity]?.value.joinKeys ?? [] {
                        let name = columnOf[key.name] ?? key.name
                        known.insert(name)
                        if types[name] == nil, let t = key.type.outputType?.expressionType { types[name] = t }
                    }
                }
            }
            for d in s.derived where known.contains(d.name) && (s.columns[d.name] != nil || d.name == s.timestampField || d.name == s.createdTimestampField) {
                diagnostics.append(Diagnostic(source.at["derived.\(d.name)"] ?? source.location, "derived column '\(d.name)' of source '\(s.name)' has the name of a column the source declares"))
            }
            // In dependency order; a cycle is an error.
            let order = DerivedOrder.sorted(s.derived)
            for cycle in order.cycles {
                let site = expressionSites["source:\(s.name):derived.\(cycle[0])"]
                diagnostics.append(Diagnostic(site?.start ?? source.location, "derived columns of source '\(s.name)' depend on each other in a cycle: \((cycle + [cycle[0]]).joined(separator: " -> "))"))
            }
            guard order.cycles.isEmpty else { continue }
            let allKnown = (known.union(derivedNames)).sorted()
            var available = types
            for d in order.columns {
                let site = expressionSites["source:\(s.name):derived.\(d.name)"]
                // A derived column reads data columns and the derived columns before it.
                let lookup = ExpressionScopes.derived(d, of: s, columnTypes: available, knownColumns: allKnown)
                switch ExpressionCompiler.compile(d.expression, lookup: lookup) {
                case .failure(let failure):
                    report(failure.errors, site: site, fallback: source.location, context: "derived column '\(d.name)' of source '\(s.name)'")
                case .success(let compiled):
                    if let output = d.type.outputType, !output.accepts(compiled.type) {
                        diagnostics.append(Diagnostic(site?.start ?? source.location, "derived column '\(d.name)' of source '\(s.name)' is declared \(d.type.rawValue), but its expression is \(compiled.type)\(Self.castHint(compiled.type, d.type))"))
                    }
                }
                if let t = d.type.outputType?.expressionType { available[d.name] = t }
            }
        }
        // On-demand views: request fields and features of feature views.
        let featureViews = Dictionary(views.values.map { ($0.value.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        for odv in onDemand.values.sorted(by: { $0.location < $1.location }) {
            let v = odv.value
            let lookup = ExpressionScopes.onDemand(v, featureViews: featureViews)
            for feature in v.features {
                let site = expressionSites["on_demand_view:\(v.name):feature.\(feature.name)"]
                let context = "feature '\(feature.name)' of on-demand view '\(v.name)'"
                switch ExpressionCompiler.compile(feature.expression, lookup: lookup) {
                case .failure(let failure):
                    // A reference to a view that failed to compile is not reported again.
                    let kept = failure.errors.filter { e in
                        !(e.message.hasPrefix("no feature view '") && declared[.featureView]?.contains(where: { e.message.hasPrefix("no feature view '\($0)'") }) == true)
                    }
                    report(kept, site: site, fallback: odv.location, context: context)
                case .success(let compiled):
                    if let output = feature.type.outputType, !output.accepts(compiled.type) {
                        diagnostics.append(Diagnostic(site?.start ?? odv.location, "\(context) is declared \(feature.type.rawValue), but its expression is \(compiled.type)\(Self.castHint(compiled.type, feature.type))"))
                    }
                }
            }
        }
    }

    static func castHint(_ from: ExpressionType, _ to: ScalarType) -> String {
        from == .null ? "" : "; convert it with cast(... as \(to.rawValue))"
    }
}

/// Derived columns in an order where each comes after the derived columns it reads, and the cycles that prevent one.
enum DerivedOrder {
    static func sorted(_ columns: [DerivedColumn]) -> (columns: [DerivedColumn], cycles: [[String]]) {
        let byName = Dictionary(columns.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var reads: [String: [String]] = [:]
        for c in columns {
            var names: [String] = []
            if let syntax = try? ExpressionParser.parse(c.expression) { collect(syntax, into: &names) }
            reads[c.name] = names.filter { byName[$0] != nil }
        }
        var state: [String: Int] = [:] // 1 visiting, 2 done
        var out: [DerivedColumn] = []
        var cycles: [[String]] = []
        func visit(_ name: String, _ path: [String]) {
            if state[name] == 2 { return }
            if state[name] == 1 {
                if let start = path.firstIndex(of: name) { cycles.append(Array(path[start...])) }
                return
            }
            state[name] = 1
            for next in reads[name] ?? [] { visit(next, path + [name]) }
            state[name] = 2
            out.append(byName[name]!)
        }
        for c in columns { visit(c.name, []) }
        return (out, cycles)
    }

    static func collect(_ e: Expression, into names: inout [String]) {
        switch e.kind {
        case .literal: break
        case .name(nil, let n): names.append(n)
        case .name: break
        case .unary(_, let x), .isNull(let x, _), .cast(let x, _): collect(x, into: &names)
        case .binary(_, let a, let b): collect(a, into: &names); collect(b, into: &names)
        case .call(_, let args): for a in args { collect(a, into: &names) }
        case .caseWhen(let clauses, let otherwise):
            for c in clauses { collect(c.condition, into: &names); collect(c.value, into: &names) }
            if let otherwise { collect(otherwise, into: &names) }
        }
    }
}
