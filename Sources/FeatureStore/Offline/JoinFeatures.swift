public import Columnar
import FeatureComputation
import Foundation
import Parquet

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

    public init(fullFeatureNames: Bool = false, timestampColumn: String = "event_timestamp",
                progress: (@Sendable (JoinProgress) -> Void)? = nil) {
        self.fullFeatureNames = fullFeatureNames
        self.timestampColumn = timestampColumn
        self.progress = progress
    }
}

/// How far a join is: which view, which stage, rows done out of rows to do.
public struct JoinProgress: Sendable {
    public enum Stage: String, Sendable { case reading, indexing, joining, done }
    public var view: String
    public var viewIndex: Int
    public var viewCount: Int
    public var stage: Stage
    /// Source rows read (reading, indexing) or entity rows joined (joining).
    public var rows: Int
    public var totalRows: Int
}

/// A join that cannot run: what is wrong, naming the column, view or feature.
public struct JoinError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, naming the view, column or file.
    public var message: String
    /// What caused it, when another error did (a `ParquetError` with its file and offset, for example).
    public var cause: (any Error & Sendable)?
    public init(_ message: String, cause: (any Error & Sendable)? = nil) {
        self.message = message
        self.cause = cause
    }
    public var description: String { message }
}

/// The source columns a view needs, after the source's field mapping: join keys, event time, features, created time.
struct SourceColumns {
    let keys: [String]
    let features: [String]
    /// Every needed column once, in order.
    let all: [String]

    init(source: DataSource, keys: [JoinKey], features: [Feature]) {
        var column: [String: String] = [:]
        for (from, to) in source.fieldMapping { column[to] = from }
        self.keys = keys.map { column[$0.name] ?? $0.name }
        self.features = features.map { column[$0.name] ?? $0.name }
        var all: [String] = []
        for c in self.keys + [source.timestampField] + self.features + [source.createdTimestampField].compactMap({ $0 }) where !all.contains(c) {
            all.append(c)
        }
        self.all = all
    }
}

/// One view's part of a join: the features wanted and their output names.
struct ViewRequest {
    var view: FeatureView
    var features: [Feature]
    var outputNames: [String]
}

extension FeatureStore {
    /// Attaches to each entity row the feature values as they were known at its event time (Feast's
    /// `get_historical_features` semantics, the same meaning the online store serves):
    ///
    /// | rule | meaning |
    /// | --- | --- |
    /// | candidates | rows of the view's source with the same join key values and `t - ttl <= event_ts <= t` (both inclusive; ttl 0: no lower bound) |
    /// | winner | the greatest `event_ts`; ties: the greatest `created_ts`, then the later row in the source |
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
    public func joinFeatures(entities: EntityRows, features: FeatureSelection, options: JoinOptions = JoinOptions()) throws(JoinError) -> Table {
        let requests = try resolve(features, fullNames: options.fullFeatureNames)
        var table: Table
        switch entities {
        case .table(let t):
            table = t
        case .parquet(let path):
            do {
                table = try ParquetDataset(path: path).read()
            } catch {
                throw JoinError("cannot read the entity rows: \(error)", cause: error)
            }
        }
        // Output names must not clash with each other or with the entity columns.
        var taken = Set(table.schema.fields.map(\.name))
        for request in requests {
            for name in request.outputNames where !taken.insert(name).inserted {
                let hint = options.fullFeatureNames ? "" : "; use full feature names (view__feature) to tell them apart"
                throw JoinError("output column '\(name)' would appear twice (feature '\(name)' of feature view '\(request.view.name)' clashes with another column)\(hint)")
            }
        }
        guard let timeColumn = table.column(named: options.timestampColumn) else {
            throw JoinError("the entity rows have no column '\(options.timestampColumn)' (their event time); columns: \(table.schema.fields.map(\.name).joined(separator: ", "))")
        }
        guard let entityTimes = timeColumn.timestampNanoseconds() else {
            throw JoinError("entity column '\(options.timestampColumn)' is \(timeColumn.type), not a timestamp")
        }
        let timesValid = timeColumn.validity
        var validTimes = entityTimes.enumerated().filter { timesValid?[$0.offset] ?? true }.map(\.element)
        if validTimes.isEmpty { validTimes = [0] }
        let minTime = validTimes.min()!, maxTime = validTimes.max()!

        for (index, request) in requests.enumerated() {
            let columns = try joinView(request, index: index, of: requests.count, entities: table, times: entityTimes,
                                       timesValid: timesValid, minTime: minTime, maxTime: maxTime, options: options)
            for (name, column) in zip(request.outputNames, columns) {
                table.schema.fields.append(Field(name, column.type, nullable: true))
                table.columns.append(column)
            }
        }
        options.progress?(JoinProgress(view: "", viewIndex: requests.count, viewCount: requests.count, stage: .done,
                                       rows: table.rowCount, totalRows: table.rowCount))
        return table
    }

    /// The views and features a selection names, in order, with their output names.
    func resolve(_ selection: FeatureSelection, fullNames: Bool) throws(JoinError) -> [ViewRequest] {
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
        var requests: [ViewRequest] = []
        for ref in refs {
            guard let view = registry.featureView(named: ref.view) else {
                let names = registry.featureViews.map(\.name)
                throw JoinError("no feature view '\(ref.view)'\(Suggestion.hint(for: ref.view, in: names)); views: \(names.joined(separator: ", "))")
            }
            let wanted: [Feature]
            if let featureName = ref.feature {
                guard let feature = view.feature(named: featureName) else {
                    let names = view.features.map(\.name)
                    throw JoinError("feature view '\(view.name)' has no feature '\(featureName)'\(Suggestion.hint(for: featureName, in: names)); it has: \(names.joined(separator: ", "))")
                }
                wanted = [feature]
            } else {
                wanted = view.features
            }
            let index: Int
            if let existing = requests.firstIndex(where: { $0.view.name == view.name }) {
                index = existing
            } else {
                requests.append(ViewRequest(view: view, features: [], outputNames: []))
                index = requests.count - 1
            }
            for f in wanted where !requests[index].features.contains(where: { $0.name == f.name }) {
                requests[index].features.append(f)
                requests[index].outputNames.append(fullNames ? "\(view.name)__\(f.name)" : f.name)
            }
        }
        return requests
    }

    /// The columnar type a feature of `type` has in joined output.
    static func outputType(_ type: ValueType, data: DataType) -> DataType {
        // Timestamps keep the source's unit and zone; other types are the declared type's column type.
        func scalar(_ s: ScalarType) -> DataType {
            if s == .timestamp, case .timestamp = data { return data }
            return s.columnType
        }
        switch type {
        case .scalar(let s): return scalar(s)
        case .list(let s):
            if case .list(let inner) = data, s == .timestamp, case .timestamp = inner { return data }
            return .list(scalar(s))
        }
    }

    private func joinView(_ request: ViewRequest, index: Int, of count: Int, entities: Table, times: [Int64], timesValid: Bitmap?,
                          minTime: Int64, maxTime: Int64, options: JoinOptions) throws(JoinError) -> [Column] {
        let view = request.view
        guard let source = registry.batchSource(of: view), case .parquet(let path) = source.kind else {
            throw JoinError("feature view '\(view.name)' has no offline (parquet) source")
        }
        let report = { (stage: JoinProgress.Stage, rows: Int, total: Int) in
            options.progress?(JoinProgress(view: view.name, viewIndex: index, viewCount: count, stage: stage, rows: rows, totalRows: total))
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
        let columns = SourceColumns(source: source, keys: keys, features: request.features)
        let keyColumns = columns.keys, featureColumns = columns.features
        report(.reading, 0, 0)
        let data: Table
        do {
            let dataset = try ParquetDataset(path: resolve(path).path)
            let ttl = view.ttl.seconds > 0 ? view.ttl.seconds * 1_000_000_000 : nil
            let predicate = Self.timePredicate(dataset.schema.field(named: source.timestampField)?.type, column: source.timestampField,
                                               from: ttl.map { minTime &- $0 }, to: maxTime)
            data = try dataset.read(columns: columns.all, where: predicate)
        } catch {
            throw JoinError("cannot read the source of feature view '\(view.name)': \(error)", cause: error)
        }
        report(.indexing, data.rowCount, data.rowCount)
        for (key, name) in zip(keys, keyColumns) {
            if let column = data.column(named: name), !Self.keyTypeMatches(column.type, key.type) {
                throw JoinError("column '\(name)' of source '\(source.name)' is \(column.type), but join key '\(key.name)' is declared \(key.type.rawValue)")
            }
        }
        guard let timeColumn = data.column(named: source.timestampField), let sourceTimes = timeColumn.timestampNanoseconds() else {
            throw JoinError("column '\(source.timestampField)' of source '\(source.name)' is not a timestamp")
        }
        var created: [Int64]? = nil
        var createdValid: Bitmap? = nil
        if let name = source.createdTimestampField, let column = data.column(named: name) {
            guard let values = column.timestampNanoseconds() else {
                throw JoinError("column '\(name)' of source '\(source.name)' is not a timestamp")
            }
            created = values
            createdValid = column.validity
        }
        // The index lives only while the winners are found.
        let winners: [Int32] = {
            let index = LatestRowIndex(keys: keyColumns.map { data.column(named: $0)! }, times: sourceTimes,
                                       timesValid: timeColumn.validity, created: created, createdValid: createdValid)
            report(.joining, 0, entities.rowCount)
            var encoder = index.encoder
            let codes = encoder.encode(entityKeys, insert: false)
            return index.winners(codes: codes, times: times, timesValid: timesValid, ttlNanoseconds: view.ttl.seconds * 1_000_000_000)
        }()
        report(.joining, entities.rowCount, entities.rowCount)
        var out: [Column] = []
        for (feature, name) in zip(request.features, featureColumns) {
            guard let column = data.column(named: name) else {
                throw JoinError("feature '\(feature.name)' of feature view '\(view.name)' is not a column of source '\(source.name)'")
            }
            let taken = column.take(winners)
            let target = Self.outputType(feature.type, data: column.type)
            guard let typed = taken.cast(to: target) else {
                throw JoinError("column '\(name)' of source '\(source.name)' is \(column.type), which cannot be read as feature '\(feature.name)' (\(feature.type))")
            }
            out.append(typed)
        }
        return out
    }

    static func keyTypeMatches(_ data: DataType, _ key: ScalarType) -> Bool {
        switch key {
        case .int32, .int64: return [.int8, .int16, .int32, .int64, .uint8, .uint16, .uint32].contains(data)
        case .string: return data == .string
        case .bytes:
            if case .fixedBinary = data { return true }
            return data == .binary
        default: return false
        }
    }

    /// Row-group skipping on the source's event time, in the column's units.
    static func timePredicate(_ type: DataType?, column: String, from lower: Int64?, to upper: Int64) -> RangePredicate? {
        switch type {
        case .timestamp(let unit, _)?:
            let f = 1_000_000_000 / unit.perSecond
            let lo = lower.map { $0 >= 0 ? $0 / f : ($0 - f + 1) / f }
            let hi = upper >= 0 ? (upper + f - 1) / f : upper / f
            return RangePredicate(column: column, lower: lo.map { .int($0) }, upper: .int(hi))
        case .date32?:
            let day: Int64 = 86_400_000_000_000
            let lo = lower.map { $0 >= 0 ? $0 / day : ($0 - day + 1) / day }
            return RangePredicate(column: column, lower: lo.map { .int($0) }, upper: .int(upper / day + 1))
        default:
            return nil
        }
    }
}
