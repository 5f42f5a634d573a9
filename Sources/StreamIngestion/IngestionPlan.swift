import FeatureStoreCore
import Logging

/// Which views an ingester feeds from which topics, and how each topic's messages are decoded and mapped: decided
/// once from the definitions, before any client exists.
struct IngestionPlan {
    /// One topic's way into its views.
    struct Route {
        var mappers: [EventMapper]
        /// The source's payload format and its settings (the decoder is made once the selection is known).
        var format: StoreSettings
        var decoder: (any MessageDecoder)? = nil
        /// The message fields the mappers read (the decoder may skip the rest), and where each mapper's are.
        var selection = FieldSelection([])
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
    /// The transport of the streams read (one kind per ingester).
    let transport: any StreamSourceKind

    /// The plan for `views` (names), or for every online view with a stream source when nil.
    ///
    /// - Throws: ``IngestionError`` for an unknown view (with the closest name), a view that does not read a stream,
    ///   or nothing to ingest.
    init(store: FeatureStore, views: [String]?, logger: Logger = Logger(label: "featurestore.ingest")) throws(IngestionError) {
        let registry = store.registry
        var chosen: [FeatureView] = []
        if let views {
            for name in views {
                guard let view = registry.featureView(named: name) else {
                    throw IngestionError("no feature view '\(name)'\(Suggestion.hint(for: name, in: registry.featureViews.map(\.name)))")
                }
                guard let source = registry.source(named: view.source), source.isStream else {
                    throw IngestionError("feature view '\(name)' does not read a stream source (its source is '\(view.source)')")
                }
                chosen.append(view)
            }
        } else {
            chosen = registry.featureViews.filter { view in
                guard view.online, let source = registry.source(named: view.source) else { return false }
                return source.isStream
            }
        }
        guard !chosen.isEmpty else { throw IngestionError("no online feature view reads a stream source: nothing to ingest") }
        // One transport per ingester: the kind of the chosen views' stream sources.
        var transport: (any StreamSourceKind)? = nil
        for view in chosen {
            let source = registry.source(named: view.source)!
            guard let kind = store.kinds.sources[source.kind] as? any StreamSourceKind else {
                let transports = store.kinds.sources.values.filter { $0 is any StreamSourceKind }.map(\.name).sorted()
                throw IngestionError("source '\(source.name)' of feature view '\(view.name)' is a \(source.kind) source, and this program has no stream transport of that kind; transports in this program: \(transports.isEmpty ? "none" : transports.joined(separator: ", "))")
            }
            if let transport, transport.name != kind.name {
                throw IngestionError("the views read streams of two kinds (\(transport.name) and \(kind.name)); run one ingester per kind (--view)")
            }
            transport = kind
        }
        self.transport = transport!
        var routes: [String: Route] = [:]
        for view in chosen {
            guard let source = registry.source(named: view.source) else { continue }
            let topic = self.transport.topic(of: source)
            let format = source.format ?? StoreSettings(kind: "json")
            // Derived columns of the stream source and of its batch source are computed per event.
            guard let mapper = EventMapper(view: view, registry: registry) else { continue }
            if let other = routes[topic], other.format != format {
                throw IngestionError("sources reading topic '\(topic)' disagree on its format (\(other.format.kind) and \(format.kind))")
            }
            routes[topic, default: Route(mappers: [], format: format)].mappers.append(mapper)
        }
        for (topic, route) in routes {
            let selection = FieldSelection(route.mappers.flatMap(\.fieldsRead))
            routes[topic]?.selection = selection
            routes[topic]?.slots = route.mappers.map { $0.slots(in: selection) }
            guard let kind = store.kinds.formats[route.format.kind] as? any MessageFormatKind else {
                let formats = store.kinds.formats.values.filter { $0 is any MessageFormatKind }.map(\.name).sorted()
                throw IngestionError(route.format.located("topic '\(topic)' is in format '\(route.format.kind)', which this program cannot decode; formats in this program: \(formats.isEmpty ? "none" : formats.joined(separator: ", "))"))
            }
            do {
                routes[topic]?.decoder = try kind.decoder(settings: route.format, fields: selection,
                                                          context: FormatContext(repository: store.repository, topic: topic, logger: logger))
            } catch {
                throw IngestionError("cannot decode topic '\(topic)' as \(route.format.kind)", cause: error)
            }
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

/// A batch of messages decoded and routed by an ``IngestionPlan``: the first stage of ingestion, pure (no I/O), so it
/// can be tested alone; the ingester then writes it online, copies it offline and commits its positions.
struct DecodedBatch {
    /// Rows of plain views, by view name.
    var rows: [String: [OnlineRow]] = [:]
    /// The mapper of each view with rows.
    var mappersByView: [String: EventMapper] = [:]
    /// The position after the batch, per partition (bad messages included: they never block their partition).
    var next: [StreamPartition: Int64] = [:]
    /// The messages that cannot be ingested, with why.
    var bad: [(StreamMessage, BadMessage)] = []
    /// Each good message's rows (in route order) and derived columns' inputs, for the offline copy.
    var events: [(topic: String, rows: [OnlineRow], inputs: [[OnlineValue]])] = []
    /// Events of aggregated views, for their tiles.
    var tileEvents: [StreamTileWriter.Event] = []
    /// The position after the batch of each partition feeding aggregated views.
    var tileNext: [StreamPartition: Int64] = [:]
    /// Every expectation broken, by view: of rows written (policy warn) and of dead-lettered events alike.
    var violations: [(view: String, violation: Violation)] = []
}

extension IngestionPlan {
    /// Decodes and routes `messages` (decoders already prepared): a message is ingested into all of its views or,
    /// when bad for one, none.
    func decode(_ messages: [StreamMessage]) -> DecodedBatch {
        var batch = DecodedBatch()
        batch.events.reserveCapacity(messages.count)
        for message in messages {
            let partition = message.streamPartition
            batch.next[partition] = max(batch.next[partition] ?? 0, message.offset + 1)
            if tileTopics.contains(message.topic) { batch.tileNext[partition] = max(batch.tileNext[partition] ?? 0, message.offset + 1) }
            do throws(BadMessage) {
                guard let route = routes[message.topic] else { throw BadMessage(.unknownView, "no feature view reads topic \(message.topic)") }
                let values = try route.decoder!.values(of: message)
                // All of the message's views, or none: a message bad for one view is not half ingested.
                var mapped: [(EventMapper, OnlineRow)] = []
                mapped.reserveCapacity(route.mappers.count)
                var warned: [(view: String, violation: Violation)] = []
                for (mapper, slots) in zip(route.mappers, route.slots) {
                    let row = try mapper.row(values, slots: slots)
                    do {
                        for v in try mapper.checked(row) { warned.append((mapper.view.name, v)) }
                    } catch {
                        batch.violations += warned
                        for v in error.violations { batch.violations.append((mapper.view.name, v)) }
                        throw error
                    }
                    mapped.append((mapper, row))
                }
                batch.violations += warned
                for (i, (mapper, row)) in mapped.enumerated() {
                    if let view = route.aggregatedIndex[i] {
                        batch.tileEvents.append(.init(view: view, row: row, partition: partition, offset: message.offset))
                        continue
                    }
                    batch.rows[mapper.view.name, default: []].append(row)
                    batch.mappersByView[mapper.view.name] = mapper
                }
                let inputs = try route.mappers.contains(where: \.hasDerivedColumns)
                    ? zip(route.mappers, route.slots).map { (mapper, slots) throws(BadMessage) in try mapper.inputValues(values, slots: slots) } : []
                batch.events.append((message.topic, mapped.map(\.1), inputs))
            } catch {
                batch.bad.append((message, error))
            }
        }
        return batch
    }
}
