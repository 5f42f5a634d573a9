public import Columnar
import Expressions
import FeatureComputation
import Foundation
import Synchronization
public import ErrorChain

/// Which features to join: a feature service, or references (`view` for all its features, `view:feature`).
public enum FeatureSelection: Sendable {
    case service(String)
    case references([FeatureReference])

    /// Parses `view:feature,view2` into references; nil when an item is malformed.
    public init?(parsing list: String) {
        var refs: [FeatureReference] = []
        for item in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            guard let ref = FeatureReference(parsing: item) else { return nil }
            refs.append(ref)
        }
        guard !refs.isEmpty else { return nil }
        self = .references(refs)
    }
}

/// The entity rows to attach features to: join keys, an event time, and any other columns (labels), kept as they are.
public enum EntityRows: Sendable {
    case table(Table)
    /// A Parquet file, folder or glob.
    case parquet(String)
}

/// Options of a point-in-time join.
public struct JoinOptions: Sendable {
    /// Name output columns `view__feature` instead of `feature`.
    public var fullFeatureNames = false
    /// The entity rows' event time column.
    public var timestampColumn = "event_timestamp"
    /// Called as work advances (on any thread).
    public var progress: (@Sendable (JoinProgress) -> Void)? = nil

    /// Options of a join; see the properties.
    public init(fullFeatureNames: Bool = false, timestampColumn: String = "event_timestamp",
                progress: (@Sendable (JoinProgress) -> Void)? = nil) {
        self.fullFeatureNames = fullFeatureNames
        self.timestampColumn = timestampColumn
        self.progress = progress
    }
}

/// How far a join is: which view, which stage, rows done out of rows to do.
public struct JoinProgress: Sendable {
    /// Reading the source, indexing its rows, joining the entity rows, or done with every view.
    public enum Stage: String, Sendable {
        /// Reading the view's source rows (rows read).
        case reading
        /// Indexing the rows read (rows indexed).
        case indexing
        /// Finding each entity row's values (entity rows done).
        case joining
        /// Running on the engine's cluster: `rows` are its stages done, `totalRows` the stages its jobs have so far.
        case cluster
        /// All views joined.
        case done
    }
    /// The view being joined (empty once done).
    public var view: String
    /// Its position among the views joined (0-based).
    public var viewIndex: Int
    /// How many views the join has.
    public var viewCount: Int
    /// What is being done.
    public var stage: Stage
    /// Source rows read (reading, indexing) or entity rows joined (joining).
    public var rows: Int
    /// Rows to do in this stage.
    public var totalRows: Int
}

/// A join that cannot run: what is wrong, naming the column, view or feature.
public struct JoinError: ChainedError {
    /// What went wrong, naming the view, column or file.
    public var message: String
    /// What caused it, when another error did (a `ParquetError` with its file and offset, for example).
    public var cause: (any Error & Sendable)?
    /// A join failure described by `message`, caused by `cause`.
    public init(_ message: String, cause: (any Error & Sendable)? = nil) {
        self.message = message
        self.cause = cause
    }
    /// `join`.
    public var errorCode: String { "join" }
    /// The chain: the message, then the cause's.
    public var description: String { ErrorChain.render(self) }
}

/// One view's part of a join or lookup: the features wanted and their output names.
struct ViewRequest: Sendable {
    var view: FeatureView
    var features: [Feature]
    var outputNames: [String]
    /// Per feature, whether it is in the output (false: read only as an input of on-demand features).
    var visible: [Bool]
    /// Per feature, `view.feature`: how on-demand features name it.
    var inputKeys: [String]
}

/// Selections already resolved, by their text: at most a few hundred (then it starts again).
final class SelectionCache: Sendable {
    private let entries = Mutex<[String: ResolvedSelection]>([:])

    subscript(key: String) -> ResolvedSelection? {
        get { entries.withLock { $0[key] } }
        set {
            entries.withLock {
                if $0.count >= 512 { $0.removeAll() }
                $0[key] = newValue
            }
        }
    }
}

/// What a selection asks for: views' features (in order), then on-demand features.
struct ResolvedSelection: Sendable {
    var views: [ViewRequest] = []
    var onDemand: [OnDemandRequest] = []
    /// An output name that appears twice, with what it is (found once, when resolved).
    var duplicate: (name: String, what: String)?
    /// The distinct inputs of the on-demand features (``OnDemandRequest/slots`` index them).
    var onDemandInputs: [OnDemandInput] = []

    /// Numbers the on-demand features' inputs once the views' features are all known.
    mutating func assignSlots() {
        var columnOf: [String: Int] = [:]
        var c = 0
        for view in views {
            for key in view.inputKeys { columnOf[key] = c; c += 1 }
        }
        var index: [OnDemandInput: Int] = [:]
        for r in onDemand.indices {
            onDemand[r].slots = onDemand[r].features.map { feature in
                zip(feature.bindings, zip(feature.inputKeys, feature.expression.inputs)).map { binding, keyAndInput in
                    let input: OnDemandInput
                    if case .request(let field) = binding {
                        input = .request(field)
                    } else {
                        input = .feature(column: columnOf[keyAndInput.0]!, type: keyAndInput.1.type)
                    }
                    if let known = index[input] { return known }
                    onDemandInputs.append(input)
                    index[input] = onDemandInputs.count - 1
                    return onDemandInputs.count - 1
                }
            }
        }
    }

    /// Every output name, in output order (the visible view features, then the on-demand features), with what it is.
    var outputs: [(name: String, what: String)] {
        views.flatMap { r in
            r.outputNames.indices.filter { r.visible[$0] }.map { (r.outputNames[$0], "feature '\(r.features[$0].name)' of feature view '\(r.view.name)'") }
        } + onDemand.flatMap { r in
            zip(r.outputNames, r.features).map { ($0.0, "feature '\($0.1.definition.name)' of on-demand view '\(r.view.view.name)'") }
        }
    }

    /// Adds `feature` (nil: every feature) of feature view `viewName`.
    mutating func add(view viewName: String, feature featureName: String?, visible: Bool, registry: Registry, fullNames: Bool) throws(JoinError) {
        guard let view = registry.featureView(named: viewName) else {
            let names = registry.featureViews.map(\.name) + registry.onDemandViews.map(\.name)
            throw JoinError("no feature view '\(viewName)'\(Suggestion.hint(for: viewName, in: names)); views: \(names.joined(separator: ", "))")
        }
        let wanted: [Feature]
        if let featureName {
            guard let feature = view.feature(named: featureName) else {
                let names = view.features.map(\.name)
                throw JoinError("feature view '\(view.name)' has no feature '\(featureName)'\(Suggestion.hint(for: featureName, in: names)); it has: \(names.joined(separator: ", "))")
            }
            wanted = [feature]
        } else {
            wanted = view.features
        }
        let index: Int
        if let existing = views.firstIndex(where: { $0.view.name == view.name }) {
            index = existing
        } else {
            views.append(ViewRequest(view: view, features: [], outputNames: [], visible: [], inputKeys: []))
            index = views.count - 1
        }
        for f in wanted {
            if let at = views[index].features.firstIndex(where: { $0.name == f.name }) {
                if visible { views[index].visible[at] = true }
                continue
            }
            views[index].features.append(f)
            views[index].outputNames.append(fullNames ? "\(view.name)__\(f.name)" : f.name)
            views[index].visible.append(visible)
            views[index].inputKeys.append("\(view.name).\(f.name)")
        }
    }
}

extension FeatureStore {
    /// Attaches to each entity row the feature values as they were known at its event time (Feast's
    /// `get_historical_features` semantics, the same meaning the online store serves):
    ///
    /// | rule | meaning |
    /// | --- | --- |
    /// | candidates | rows of the view's source with the same join key values and `t - ttl <= event_ts <= t` (both inclusive; ttl 0: no lower bound) |
    /// | winner | the greatest `event_ts`; ties: the greatest `created_ts` (null lowest), then the greater encoded row (``OnlineEncoding/rowPrecedes(_:_:)``), as every online store keeps them |
    /// | no candidate | the view's features are null |
    /// | rows | every entity row once, in input order, its columns unchanged (duplicates kept) |
    /// | names | `feature`, or `view__feature` with `fullFeatureNames`; a clash is an error |
    /// | types | a key column whose type differs from the entity's join key type is an error; times without zone are UTC |
    /// | nulls | a source row with a null key part or null event time never matches; `field_mapping` renames source columns |
    ///
    /// Memory: the entity rows and the output, plus, one view at a time, the needed source columns of the row groups
    /// that can hold candidates (those whose time statistics meet `[min(t) - ttl, max(t)]`) and their index
    /// (12 bytes per source row and one hash entry per key).
    ///
    /// - Parameters:
    ///   - entities: the entity rows: a Parquet file, folder or glob, or a table built in Swift.
    ///   - features: a feature service, or `view` / `view:feature` references.
    ///   - options: full feature names, the entity time column, progress reporting.
    /// - Returns: the entity rows with one column per requested feature.
    /// - Throws: ``JoinError`` naming the view, column or file (with the reading error as its cause).
    ///
    /// The offline engine named in the settings (``OfflineEngine``) reads the sources and finds the winners; this
    /// function checks the request, names the columns and assembles the result, whatever the engine.
    public func joinFeatures(entities: EntityRows, features: FeatureSelection, options: JoinOptions = JoinOptions()) async throws(JoinError) -> Table {
        let (resolved, engine, prepared) = try await prepareJoin(entities: entities, features: features, options: options)
        let requests = resolved.views
        var table = prepared.table
        let entityTimes = prepared.times, timesValid = prepared.valid

        let entityTable = table
        var hidden: [String: Column] = [:]
        for (index, request) in requests.enumerated() {
            let columns = try await joinView(request, index: index, of: requests.count, entities: table, times: entityTimes,
                                             timesValid: timesValid, engine: engine, options: options)
            for (f, (name, column)) in zip(request.outputNames, columns).enumerated() {
                hidden[request.inputKeys[f]] = column
                guard request.visible[f] else { continue }
                table.schema.fields.append(Field(name, column.type, nullable: true))
                table.columns.append(column)
            }
        }
        // On-demand features, over the entity rows' request columns and the joined features.
        for request in resolved.onDemand {
            for (feature, name) in zip(request.features, request.outputNames) {
                // Request fields by name among the entity columns (checked above), features by `view.feature`.
                let inputs: [Column] = zip(feature.bindings, feature.inputKeys).map { binding, key in
                    if case .request = binding { return entityTable.column(named: key)! }
                    return hidden[key]!
                }
                let column = feature.expression.evaluate(columns: inputs, rowCount: table.rowCount, as: feature.output)
                table.schema.fields.append(Field(name, column.type, nullable: true))
                table.columns.append(column)
            }
        }
        options.progress?(JoinProgress(view: "", viewIndex: requests.count, viewCount: requests.count, stage: .done,
                                       rows: table.rowCount, totalRows: table.rowCount))
        return table
    }

    /// What the offline engine would run for each view of the join ``joinFeatures(entities:features:options:)`` would
    /// do (``OfflineEngine/explain(_:)``: Spark SQL for the Spark engine), in order, without running it; nil plans
    /// for an engine that computes in this process. The entity rows are read and checked as the join reads them.
    public func explainJoin(entities: EntityRows, features: FeatureSelection, options: JoinOptions = JoinOptions()) async throws(JoinError) -> [(view: String, plan: String?)] {
        let (resolved, engine, prepared) = try await prepareJoin(entities: entities, features: features, options: options)
        var plans: [(view: String, plan: String?)] = []
        for request in resolved.views {
            let lookup = try lookupRequest(request, entities: prepared.table, times: prepared.times, timesValid: prepared.valid,
                                           engine: engine, progress: nil)
            plans.append((request.view.name, engine.explain(lookup)))
        }
        return plans
    }

    /// The join's first steps, shared by the join and its explanation: the selection resolved, the engine opened, the
    /// entity rows read, and their columns and times checked.
    private func prepareJoin(entities: EntityRows, features: FeatureSelection, options: JoinOptions) async throws(JoinError)
        -> (ResolvedSelection, any OfflineEngine, (table: Table, times: [Int64], valid: Bitmap?)) {
        let resolved = try resolve(features, fullNames: options.fullFeatureNames)
        let engine: any OfflineEngine
        do { engine = try offlineEngine() } catch { throw JoinError("", cause: error) }
        var table: Table
        switch entities {
        case .table(let t):
            table = t
        case .parquet(let path):
            do {
                table = try await engine.readTable(at: path)
            } catch {
                throw JoinError("cannot read the entity rows", cause: error)
            }
        }
        // Output names must not clash with each other or with the entity columns.
        var taken = Set(table.schema.fields.map(\.name))
        for (name, what) in resolved.outputs where !taken.insert(name).inserted {
            let hint = options.fullFeatureNames ? "" : "; use full feature names (view__feature) to tell them apart"
            throw JoinError("output column '\(name)' would appear twice (\(what) clashes with another column)\(hint)")
        }
        // Request fields of on-demand views come from the entity rows: checked before any work.
        for request in resolved.onDemand {
            for feature in request.features {
                for case .request(let field) in feature.bindings {
                    guard let column = table.column(named: field.name) else {
                        throw JoinError("the entity rows have no column '\(field.name)' (request field of on-demand view '\(request.view.view.name)', read by its feature '\(feature.definition.name)'); columns: \(table.schema.fields.map(\.name).joined(separator: ", "))")
                    }
                    guard field.accepts(column: column.type) else {
                        throw JoinError("entity column '\(field.name)' is \(column.type), but request field '\(field.name)' of on-demand view '\(request.view.view.name)' is declared \(field.type.rawValue)")
                    }
                }
            }
        }
        guard let timeColumn = table.column(named: options.timestampColumn) else {
            throw JoinError("the entity rows have no column '\(options.timestampColumn)' (their event time); columns: \(table.schema.fields.map(\.name).joined(separator: ", "))")
        }
        guard let entityTimes = EventTime.microseconds(of: timeColumn) else {
            throw JoinError("entity column '\(options.timestampColumn)' is \(timeColumn.type), not a timestamp")
        }
        let timesValid = timeColumn.validity
        return (resolved, engine, (table, entityTimes, timesValid))
    }

    /// The views and features a selection names, in order, with their output names; on-demand features with the
    /// features of other views they read (added, hidden, when not requested themselves).
    func resolve(_ selection: FeatureSelection, fullNames: Bool) throws(JoinError) -> ResolvedSelection {
        let key: String
        switch selection {
        case .service(let name): key = "s\(fullNames ? 1 : 0):\(name)"
        case .references(let refs): key = "r\(fullNames ? 1 : 0):" + refs.map(\.description).joined(separator: ",")
        }
        if let known = selections[key] { return known }
        var resolved = try resolveUncached(selection, fullNames: fullNames)
        resolved.assignSlots()
        var names = Set<String>()
        resolved.duplicate = resolved.outputs.first { !names.insert($0.name).inserted }
        selections[key] = resolved
        return resolved
    }

    private func resolveUncached(_ selection: FeatureSelection, fullNames: Bool) throws(JoinError) -> ResolvedSelection {
        let refs: [FeatureReference]
        switch selection {
        case .service(let name):
            guard let service = registry.featureService(named: name) else {
                let names = registry.featureServices.map(\.name)
                throw JoinError("no feature service '\(name)'\(Suggestion.hint(for: name, in: names)); services: \(names.joined(separator: ", "))")
            }
            refs = service.features
        case .references(let r):
            refs = r
        }
        var resolved = ResolvedSelection()
        for ref in refs {
            if let onDemand = registry.onDemandView(named: ref.view), let compiled = registry.compiledOnDemand[onDemand.name] {
                let wanted: [CompiledOnDemandView.Feature]
                if let featureName = ref.feature {
                    guard let feature = compiled.feature(named: featureName) else {
                        let names = onDemand.features.map(\.name)
                        throw JoinError("on-demand view '\(onDemand.name)' has no feature '\(featureName)'\(Suggestion.hint(for: featureName, in: names)); it has: \(names.joined(separator: ", "))")
                    }
                    wanted = [feature]
                } else {
                    wanted = compiled.features
                }
                let index: Int
                if let existing = resolved.onDemand.firstIndex(where: { $0.view.view.name == onDemand.name }) {
                    index = existing
                } else {
                    resolved.onDemand.append(OnDemandRequest(view: compiled, features: [], outputNames: []))
                    index = resolved.onDemand.count - 1
                }
                for f in wanted where !resolved.onDemand[index].features.contains(where: { $0.definition.name == f.definition.name }) {
                    resolved.onDemand[index].features.append(f)
                    resolved.onDemand[index].outputNames.append(fullNames ? "\(onDemand.name)__\(f.definition.name)" : f.definition.name)
                    for case .feature(let viewName, let featureName) in f.bindings {
                        try resolved.add(view: viewName, feature: featureName, visible: false, registry: registry, fullNames: fullNames)
                    }
                }
                continue
            }
            try resolved.add(view: ref.view, feature: ref.feature, visible: true, registry: registry, fullNames: fullNames)
        }
        return resolved
    }

    /// One view's point-in-time request: its batch source and the entity rows' key columns, checked.
    private func lookupRequest(_ request: ViewRequest, entities: Table, times: [Int64], timesValid: Bitmap?, engine: any OfflineEngine,
                               progress: (@Sendable (JoinProgress.Stage, Int, Int) -> Void)?) throws(JoinError) -> PointInTimeRequest {
        let view = request.view
        guard let source = registry.batchSource(of: view) else {
            throw JoinError("feature view '\(view.name)' has no offline (table) source")
        }
        guard engine.sourceKinds.contains(source.kind) else {
            throw JoinError("feature view '\(view.name)': the offline engine '\(offlineEngineSettings.kind)' does not read \(source.kind) sources like '\(source.name)'; it reads: \(engine.sourceKinds.joined(separator: ", "))")
        }
        // Entity key columns, checked against the entities' declared key types.
        let keys = registry.joinKeys(of: view)
        var entityKeys: [Column] = []
        for key in keys {
            guard let column = entities.column(named: key.name) else {
                throw JoinError("the entity rows have no column '\(key.name)' (join key of feature view '\(view.name)'); columns: \(entities.schema.fields.map(\.name).joined(separator: ", "))")
            }
            guard Self.keyTypeMatches(column.type, key.type) else {
                throw JoinError("entity column '\(key.name)' is \(column.type), but its join key is declared \(key.type.rawValue) (feature view '\(view.name)')")
            }
            entityKeys.append(column)
        }
        return PointInTimeRequest(view: view, source: source, joinKeys: keys, features: request.features, entityKeys: entityKeys,
                                  entityTimes: times, entityTimesValid: timesValid, progress: progress)
    }

    private func joinView(_ request: ViewRequest, index: Int, of count: Int, entities: Table, times: [Int64], timesValid: Bitmap?,
                          engine: any OfflineEngine, options: JoinOptions) async throws(JoinError) -> [Column] {
        let view = request.view
        let progress = options.progress.map { report in
            { @Sendable (stage: JoinProgress.Stage, rows: Int, total: Int) in
                report(JoinProgress(view: view.name, viewIndex: index, viewCount: count, stage: stage, rows: rows, totalRows: total))
            }
        }
        let lookup = try lookupRequest(request, entities: entities, times: times, timesValid: timesValid, engine: engine, progress: progress)
        let columns: [Column]
        do {
            columns = try await engine.pointInTimeJoin(lookup)
        } catch let error as OfflineEngineError {
            throw JoinError("", cause: error)
        } catch {
            throw JoinError("cannot join feature view '\(view.name)'", cause: error)
        }
        guard columns.count == request.features.count, columns.allSatisfy({ $0.count == entities.rowCount }) else {
            throw JoinError("the offline engine returned \(columns.count) columns of \(columns.map(\.count)) rows for feature view '\(view.name)', not \(request.features.count) of \(entities.rowCount)")
        }
        return columns
    }
}
