/// The compiled, validated and immutable model of a feature repository: what the engines consume.
///
/// A `Registry` is only ever made by ``DefinitionCompiler`` (from YAML) or read back from a ``RegistryStore``,
/// so every reference in it resolves: a view's entities and source exist, a service's features exist.
public struct Registry: Sendable {
    /// The repository's settings (`feature_store.yaml`).
    public let config: RepositoryConfig
    /// The entities, in definition order.
    public let entities: [Entity]
    /// The sources, in definition order.
    public let sources: [DataSource]
    /// The feature views, in definition order.
    public let featureViews: [FeatureView]
    /// The on-demand views, in definition order.
    public let onDemandViews: [OnDemandView]
    /// The feature services, in definition order.
    public let featureServices: [FeatureService]

    private let entityIndex: [String: Int]
    private let sourceIndex: [String: Int]
    private let viewIndex: [String: Int]
    private let serviceIndex: [String: Int]
    private let onDemandIndex: [String: Int]
    /// Each on-demand view's features compiled once (lookups evaluate them, they never parse).
    let compiledOnDemand: [String: CompiledOnDemandView]
    /// Where fields of objects were written (`source:name:timestamp_field`), for checks after compilation.
    let fieldLocations: [String: SourceLocation]

    /// Builds the model; objects are kept sorted by name. Callers guarantee validity (the compiler does).
    init(config: RepositoryConfig, entities: [Entity], sources: [DataSource],
         featureViews: [FeatureView], onDemandViews: [OnDemandView] = [], featureServices: [FeatureService],
         fieldLocations: [String: SourceLocation] = [:]) {
        self.fieldLocations = fieldLocations
        self.config = config
        self.entities = entities.sorted { $0.name < $1.name }
        self.sources = sources.sorted { $0.name < $1.name }
        self.featureViews = featureViews.sorted { $0.name < $1.name }
        self.featureServices = featureServices.sorted { $0.name < $1.name }
        self.onDemandViews = onDemandViews.sorted { $0.name < $1.name }
        func index<T: Definition>(_ items: [T]) -> [String: Int] {
            Dictionary(items.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        }
        entityIndex = index(self.entities)
        sourceIndex = index(self.sources)
        viewIndex = index(self.featureViews)
        serviceIndex = index(self.featureServices)
        onDemandIndex = index(self.onDemandViews)
        let views = Dictionary(self.featureViews.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var compiled: [String: CompiledOnDemandView] = [:]
        for view in self.onDemandViews {
            compiled[view.name] = CompiledOnDemandView(view, featureViews: views)
        }
        compiledOnDemand = compiled
    }

    static func locationKey(_ kind: ObjectKind, _ name: String, _ field: String) -> String {
        "\(kind.rawValue):\(name):\(field)"
    }

    /// Where a field of an object was written, else where the object was.
    func location(of kind: ObjectKind, _ name: String, field: String) -> SourceLocation {
        if let at = fieldLocations[Self.locationKey(kind, name, field)] { return at }
        let objects: [any Definition] = entities + sources + featureViews + onDemandViews + featureServices
        return objects.first { type(of: $0).kind == kind && $0.name == name }?.location
            ?? SourceLocation(file: "?", line: 1, column: 1)
    }

    /// The entity called `name`, if any.
    public func entity(named name: String) -> Entity? { entityIndex[name].map { entities[$0] } }
    /// The source called `name`, if any.
    public func source(named name: String) -> DataSource? { sourceIndex[name].map { sources[$0] } }
    /// The feature view called `name`, if any.
    public func featureView(named name: String) -> FeatureView? { viewIndex[name].map { featureViews[$0] } }
    /// The on-demand view called `name`, if any.
    public func onDemandView(named name: String) -> OnDemandView? { onDemandIndex[name].map { onDemandViews[$0] } }
    /// The feature service called `name`, if any.
    public func featureService(named name: String) -> FeatureService? { serviceIndex[name].map { featureServices[$0] } }

    /// The join keys of a view: those of its entities, in order.
    public func joinKeys(of view: FeatureView) -> [JoinKey] {
        view.entities.flatMap { entity(named: $0)?.joinKeys ?? [] }
    }

    /// The offline (Parquet) source holding a view's data: its source, or the batch source of a stream source. A
    /// stream source's derived columns (and declared column types) are computed from its offline copy too, so they
    /// come with the batch source returned.
    public func batchSource(of view: FeatureView) -> DataSource? {
        guard let source = source(named: view.source) else { return nil }
        guard var batch = self.source(named: source.batchSourceName) else { return nil }
        if batch.name != source.name {
            batch.derived += source.derived.filter { d in !batch.derived.contains { $0.name == d.name } }
            batch.columns.merge(source.columns) { a, _ in a }
        }
        return batch
    }

    /// The services that use any feature of the view.
    public func services(using view: String) -> [FeatureService] {
        featureServices.filter { $0.features.contains { $0.view == view } }
    }

    /// The views reading from a source (directly, or through a stream source whose batch source it is).
    public func views(readingFrom source: String) -> [FeatureView] {
        featureViews.filter { $0.source == source || self.source(named: $0.source)?.batchSourceName == source }
    }

    /// Every object as a name/kind pair, in kind then name order.
    public var allObjects: [(kind: ObjectKind, definition: any Definition)] {
        entities.map { (ObjectKind.entity, $0 as any Definition) }
            + sources.map { (ObjectKind.source, $0 as any Definition) }
            + featureViews.map { (ObjectKind.featureView, $0 as any Definition) }
            + onDemandViews.map { (ObjectKind.onDemandView, $0 as any Definition) }
            + featureServices.map { (ObjectKind.featureService, $0 as any Definition) }
    }
}
