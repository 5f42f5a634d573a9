import FeatureStore
import JSONCoding

/// Which views an ingester feeds from which topics, and how each topic's messages are decoded and mapped: decided
/// once from the definitions, before any client exists.
struct IngestionPlan {
    /// One topic's way into its views.
    struct Route {
        var mappers: [EventMapper]
        var decoder: any MessageDecoder
        /// The message fields the mappers read (the decoder may skip the rest), and where each mapper's are.
        var selection = JSONFieldSelection([])
        var slots: [EventMapper.Slots] = []
        /// For each mapper of an aggregated view, its position in ``IngestionPlan/aggregatedViews`` (nil: a plain view).
        var aggregatedIndex: [Int?] = []
    }

    /// By topic.
    let routes: [String: Route]
    /// The topics consumed, sorted.
    let topics: [String]
    /// The topic of each view fed.
    let topicOfView: [String: String]
    /// The aggregated views fed (their events go to tiles, not rows), sorted by name.
    let aggregatedViews: [EventMapper]
    /// The topics that feed some aggregated view.
    let tileTopics: Set<String>

    /// The plan for `views` (names), or for every online view with a stream source when nil.
    ///
    /// - Throws: ``IngestionError`` for an unknown view (with the closest name), a view that does not read a stream,
    ///   or nothing to ingest.
    init(store: FeatureStore, views: [String]?) throws(IngestionError) {
        let registry = store.registry
        var chosen: [FeatureView] = []
        if let views {
            for name in views {
                guard let view = registry.featureView(named: name) else {
                    throw IngestionError("no feature view '\(name)'\(Suggestion.hint(for: name, in: registry.featureViews.map(\.name)))")
                }
                guard let source = registry.source(named: view.source), case .kafka = source.kind else {
                    throw IngestionError("feature view '\(name)' does not read a kafka source (its source is '\(view.source)')")
                }
                chosen.append(view)
            }
        } else {
            chosen = registry.featureViews.filter { view in
                guard view.online, let source = registry.source(named: view.source), case .kafka = source.kind else { return false }
                return true
            }
        }
        guard !chosen.isEmpty else { throw IngestionError("no online feature view reads a kafka source: nothing to ingest") }
        var routes: [String: Route] = [:]
        for view in chosen {
            guard let source = registry.source(named: view.source), case .kafka(let topic, let format, _) = source.kind else { continue }
            // Derived columns of the stream source and of its batch source are computed per event.
            let batch = registry.batchSource(of: view)
            var types = registry.declaredColumnTypes(of: source)
            if let batch { types.merge(registry.declaredColumnTypes(of: batch)) { a, _ in a } }
            let mapper = EventMapper(view: view, source: source, joinKeys: registry.joinKeys(of: view),
                                     derived: batch?.derived ?? source.derived, columnTypes: types)
            routes[topic, default: Route(mappers: [], decoder: format.decoder)].mappers.append(mapper)
        }
        for (topic, route) in routes {
            let selection = JSONFieldSelection(route.mappers.flatMap(\.fieldsRead))
            routes[topic]?.selection = selection
            routes[topic]?.slots = route.mappers.map { $0.slots(in: selection) }
        }
        let aggregatedViews = routes.values.flatMap { $0.mappers.filter(\.view.isAggregated) }.sorted { $0.view.name < $1.view.name }
        for (topic, route) in routes {
            routes[topic]?.aggregatedIndex = route.mappers.map { m in aggregatedViews.firstIndex { $0.view.name == m.view.name } }
        }
        self.routes = routes
        self.aggregatedViews = aggregatedViews
        tileTopics = Set(routes.filter { $0.value.mappers.contains { $0.view.isAggregated } }.keys)
        topics = routes.keys.sorted()
        var topicOfView: [String: String] = [:]
        for (topic, route) in routes { for mapper in route.mappers { topicOfView[mapper.view.name] = topic } }
        self.topicOfView = topicOfView
    }
}
