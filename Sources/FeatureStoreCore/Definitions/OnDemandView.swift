import Expressions

/// A field of the request an on-demand view reads: data only the caller has at request time (the trip's distance,
/// the basket's size), given in the lookup's request context online and as a column of the entity rows offline.
public struct RequestField: Sendable, Hashable, Codable {
    /// The field's name: an identifier, unique in the view's request.
    public var name: String
    /// A scalar type other than bytes.
    public var type: ScalarType

    /// A request field `name` of `type`.
    public init(name: String, type: ScalarType) {
        self.name = name
        self.type = type
    }
}

/// A feature computed at request time by an expression over request fields (`trip_distance_km`) and features of
/// feature views (`driver_stats.acc_rate`).
public struct OnDemandFeature: Sendable, Hashable, Codable {
    /// The feature's name: an identifier, unique in its view.
    public var name: String
    /// The declared type of its values (a scalar other than bytes).
    public var type: ScalarType
    /// The expression, in the language of the `Expressions` module.
    public var expression: String
    /// What the feature means, for people (empty when not written).
    public var description: String

    /// A feature `name` of `type` computed by `expression`.
    public init(name: String, type: ScalarType, expression: String, description: String = "") {
        self.name = name
        self.type = type
        self.expression = expression
        self.description = description
    }

    enum CodingKeys: String, CodingKey { case name, type, expression = "expr", description }

    /// Decodes a feature; an absent `description` is empty.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        type = try c.decode(ScalarType.self, forKey: .type)
        expression = try c.decode(String.self, forKey: .expression)
        description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
    }
}

/// A view whose features are computed at request time, the same way in training sets and in lookups (Feast's
/// on-demand feature views, without user code): nothing is stored or materialized.
public struct OnDemandView: Definition {
    /// ``ObjectKind/onDemandView``.
    public static let kind = ObjectKind.onDemandView
    /// The view's name: an identifier, unique among feature views and on-demand views.
    public var name: String
    /// The request fields it reads.
    public var request: [RequestField]
    /// Its features, in order.
    public var features: [OnDemandFeature]
    /// What the view computes, for people (empty when not written).
    public var description: String
    /// Who owns it, as written (empty when not written).
    public var owner: String
    /// Free-form labels, as written.
    public var tags: [String: String]
    /// Where the view is defined (nil when made in code or read back from the catalog).
    public var location: SourceLocation?

    /// An on-demand view computing `features` from `request` fields and other views' features.
    public init(name: String, request: [RequestField], features: [OnDemandFeature], description: String = "",
                owner: String = "", tags: [String: String] = [:], location: SourceLocation? = nil) {
        self.name = name
        self.request = request
        self.features = features
        self.description = description
        self.owner = owner
        self.tags = tags
        self.location = location
    }

    enum CodingKeys: String, CodingKey { case name, request, features, description, owner, tags }

    /// The feature named `name`, if the view has one.
    public func feature(named name: String) -> OnDemandFeature? { features.first { $0.name == name } }
}

extension Registry {
    /// The feature views an on-demand view's expressions read, sorted.
    public func inputViews(of view: OnDemandView) -> [String] {
        Set(compiledOnDemand[view.name]?.features.flatMap { f in
            f.bindings.compactMap { if case .feature(let v, _) = $0 { return v } else { return nil } }
        } ?? []).sorted()
    }

    /// What an on-demand feature's expression reads (`trip_distance_km`, `driver_stats.acc_rate`), in order.
    public func expressionInputs(of feature: OnDemandFeature) -> [String] {
        compiledOnDemand.values.lazy.compactMap { $0.features.first { $0.definition == feature } }.first?
            .expression.inputs.map(\.description) ?? []
    }
}
