public import Expressions

extension ScalarType {
    /// The type values of this type are stored as when an expression computes them; nil for bytes (expressions do
    /// not compute bytes).
    public var outputType: OutputType? {
        switch self {
        case .bool: return .bool
        case .int32: return .int32
        case .int64: return .int64
        case .float32: return .float32
        case .float64: return .float64
        case .string: return .string
        case .timestamp: return .timestamp
        case .bytes: return nil
        }
    }
}

/// What names mean inside the expressions of definitions: for an on-demand view, request fields and `view.feature`
/// references; for a source's derived columns, the source's columns. The compiler reports through these scopes, and
/// the compiled forms the engines run are made with the same ones.
public enum ExpressionScopes {
    /// The names an on-demand view's expressions may read.
    public static func onDemand(_ view: OnDemandView, featureViews: [String: FeatureView]) -> (String?, String) -> NameLookup {
        { qualifier, name in
            guard let qualifier else {
                if let field = view.request.first(where: { $0.name == name }) {
                    guard let type = field.type.outputType?.expressionType else {
                        return .notFound("request field '\(name)' is \(field.type.rawValue), which expressions cannot read")
                    }
                    return .found(type)
                }
                let fields = view.request.map(\.name)
                return .notFound("'\(name)' is not a request field of on-demand view '\(view.name)'\(ExpressionSuggestion.hint(for: name, in: fields))"
                    + (fields.isEmpty ? "; it declares none under 'request'" : "; request fields: \(fields.joined(separator: ", "))")
                    + "; a feature of a view is written view.feature")
            }
            guard let source = featureViews[qualifier] else {
                let names = featureViews.keys.sorted()
                return .notFound("no feature view '\(qualifier)'\(ExpressionSuggestion.hint(for: qualifier, in: names)); views: \(names.joined(separator: ", "))")
            }
            guard let feature = source.feature(named: name) else {
                let names = source.features.map(\.name)
                return .notFound("feature view '\(qualifier)' has no feature '\(name)'\(ExpressionSuggestion.hint(for: name, in: names)); it has: \(names.joined(separator: ", "))")
            }
            guard case .scalar(let scalar) = feature.type, let type = scalar.outputType?.expressionType else {
                return .notFound("feature '\(qualifier).\(name)' is \(feature.type), which expressions cannot read")
            }
            return .found(type)
        }
    }

    /// The names a source's derived column may read: the source's columns, typed by `columnTypes`.
    public static func derived(_ column: DerivedColumn, of source: DataSource, columnTypes: [String: ExpressionType],
                               knownColumns: [String]) -> (String?, String) -> NameLookup {
        { qualifier, name in
            if let qualifier {
                return .notFound("'\(qualifier).\(name)': a derived column reads columns of its own source by plain name ('\(name)')")
            }
            if name == column.name {
                return .notFound("derived column '\(name)' cannot read itself")
            }
            if let type = columnTypes[name] { return .found(type) }
            if knownColumns.contains(name) {
                return .notFound("column '\(name)' of source '\(source.name)' has no type known here: declare it under the source's 'columns' (\(name): TYPE)")
            }
            return .notFound("no column '\(name)' in source '\(source.name)'\(ExpressionSuggestion.hint(for: name, in: knownColumns))"
                + (knownColumns.isEmpty ? "" : "; columns: \(knownColumns.joined(separator: ", "))"))
        }
    }
}
