import Columnar
import FeatureComputation
import Foundation

/// Checks definitions against the data their batch sources hold, through the offline engine: the timestamp columns,
/// the join keys and the features must exist (after the source's field mapping) with compatible types.
///
/// The engine reads metadata only (Parquet footers for the local engine). A source whose data does not exist yet (no
/// such path, a folder without data files, a glob that matches nothing) is not checked: data often comes after the
/// definitions, and a stream's offline folder stays empty until its ingester rolls the first file. `featurectl
/// validate` says so.
enum DataSchemaCheck {
    /// A diagnostic carried as an error.
    struct DiagnosticError: Error {
        var diagnostic: Diagnostic
        init(_ diagnostic: Diagnostic) { self.diagnostic = diagnostic }
    }

    /// The offline engine the settings name, or a diagnostic saying why there is none.
    static func engine(for registry: Registry, repository: URL, kinds: Kinds) -> Result<any OfflineEngine, DiagnosticError> {
        let settings = registry.config.offlineEngine.settings
        let at = settings.keyLocations["kind"] ?? settings.blockLocation ?? SourceLocation(file: DefinitionCompiler.configFileName, line: 1, column: 1)
        guard let kind = kinds.offlineEngines[settings.kind] else {
            return .failure(DiagnosticError(Diagnostic(at, kinds.unknownOfflineEngine(settings.kind))))
        }
        do {
            return .success(try kind.open(settings, repository: repository))
        } catch {
            return .failure(DiagnosticError(Diagnostic(at, "cannot open the offline engine '\(settings.kind)': \(error)")))
        }
    }

    /// The problems, and the sources not checked for want of data. With an engine kind the program lacks, under
    /// `.deferUntilUsed`, nothing is checked (every table source is unchecked).
    static func diagnostics(for registry: Registry, repository: URL, kinds: Kinds,
                            unknownKinds: UnknownKindPolicy) -> (problems: [Diagnostic], unchecked: [String]) {
        let engine: any OfflineEngine
        if unknownKinds == .deferUntilUsed && kinds.offlineEngines[registry.config.offlineEngine.kind] == nil {
            return ([], registry.sources.filter { !$0.isStream }.map(\.name))
        }
        switch Self.engine(for: registry, repository: repository, kinds: kinds) {
        case .success(let e): engine = e
        case .failure(let problem): return ([problem.diagnostic], [])
        }
        var problems: [Diagnostic] = []
        var unchecked: [String] = []
        for source in registry.sources where !source.isStream {
            guard engine.sourceKinds.contains(source.kind) else {
                problems.append(Diagnostic(registry.location(of: .source, source.name, field: "name"),
                                           "the offline engine '\(registry.config.offlineEngine.kind)' does not read \(source.kind) sources like '\(source.name)'; it reads: \(engine.sourceKinds.joined(separator: ", "))"))
                continue
            }
            let path = kinds.whereabouts(of: source)
            var schema: Schema
            do {
                guard let found = try engine.schema(of: source) else {
                    unchecked.append(source.name)
                    continue
                }
                schema = found
            } catch {
                problems.append(Diagnostic(registry.location(of: .source, source.name, field: "name"),
                                           "cannot read the data of source '\(source.name)': \(error)"))
                continue
            }
            // Derived columns (the source's own, and those of stream sources it is the offline copy of) are columns
            // of the data too, once computed: their expressions must fit the data's types.
            var derivedSource = source
            for stream in registry.sources where stream.name != source.name && stream.batchSourceName == source.name {
                derivedSource.derived += stream.derived.filter { d in !derivedSource.derived.contains { $0.name == d.name } }
            }
            let derivedColumns = DerivedColumns(derivedSource)
            for d in DerivedOrder.sorted(derivedSource.derived).columns {
                let owner = source.derived.contains { $0.name == d.name } ? source.name
                    : registry.sources.first { $0.batchSourceName == source.name && $0.derived.contains { $0.name == d.name } }?.name ?? source.name
                let at = registry.location(of: .source, owner, field: "derived.\(d.name)")
                if schema.field(named: d.name) != nil {
                    problems.append(Diagnostic(at, "derived column '\(d.name)' has the name of a column of the data of source '\(source.name)' (\(path)): rename one"))
                    continue
                }
                do throws(DerivedColumnError) {
                    _ = try derivedColumns.compiled(d, schema: schema)
                } catch {
                    problems.append(Diagnostic(at, error.message))
                }
                schema.fields.append(Field(d.name, d.type.columnType, nullable: true))
            }
            let columns = schema.fields.map(\.name).joined(separator: ", ")
            func timestampCheck(_ field: String, key: String) {
                let at = registry.location(of: .source, source.name, field: key)
                guard let column = schema.field(named: field) else {
                    problems.append(Diagnostic(at, "source '\(source.name)' has no column '\(field)' in \(path)\(Suggestion.hint(for: field, in: schema.fields.map(\.name))); its columns: \(columns)"))
                    return
                }
                switch column.type {
                case .timestamp, .date32: break
                default: problems.append(Diagnostic(at, "column '\(field)' of source '\(source.name)' is \(column.type), not a timestamp"))
                }
            }
            timestampCheck(source.timestampField, key: "timestamp_field")
            if let created = source.createdTimestampField { timestampCheck(created, key: "created_timestamp_field") }

            // Feature name -> source column (the field mapping renames source columns to features).
            var columnFor: [String: String] = [:]
            for (from, to) in source.fieldMapping { columnFor[to] = from }
            for view in registry.views(readingFrom: source.name) {
                for key in registry.joinKeys(of: view) {
                    let name = columnFor[key.name] ?? key.name
                    let at = registry.location(of: .featureView, view.name, field: "source")
                    guard let column = schema.field(named: name) else {
                        problems.append(Diagnostic(at, "join key '\(key.name)' of feature view '\(view.name)' is not a column of source '\(source.name)' (\(path))\(Suggestion.hint(for: name, in: schema.fields.map(\.name))); its columns: \(columns)"))
                        continue
                    }
                    if !compatible(column.type, .scalar(key.type)) {
                        problems.append(Diagnostic(at, "join key '\(key.name)' of feature view '\(view.name)' is \(key.type.rawValue), but column '\(name)' of source '\(source.name)' is \(column.type)"))
                    }
                }
                var checkedColumns: Set<String> = []
                for feature in view.features {
                    if let aggregation = feature.aggregation {
                        guard let wanted = aggregation.column, checkedColumns.insert(wanted).inserted else { continue }
                        let name = columnFor[wanted] ?? wanted
                        let at = registry.location(of: .featureView, view.name, field: "feature.\(feature.name)")
                        guard let column = schema.field(named: name) else {
                            problems.append(Diagnostic(at, "column '\(wanted)' aggregated by feature view '\(view.name)' is not a column of source '\(source.name)' (\(path))\(Suggestion.hint(for: name, in: schema.fields.map(\.name))); its columns: \(columns)"))
                            continue
                        }
                        if let declared = aggregation.inputType {
                            if !compatible(column.type, declared) {
                                problems.append(Diagnostic(at, "column '\(wanted)' aggregated by feature view '\(view.name)' is declared \(declared.rawValue), but column '\(name)' of source '\(source.name)' is \(column.type)"))
                            }
                        } else if ![ScalarType.int32, .int64, .float32, .float64].contains(where: { compatible(column.type, $0) }) {
                            problems.append(Diagnostic(at, "'\(aggregation.function.rawValue)' of feature view '\(view.name)' needs numbers, but column '\(name)' of source '\(source.name)' is \(column.type)"))
                        }
                        continue
                    }
                    let name = columnFor[feature.name] ?? feature.name
                    let at = registry.location(of: .featureView, view.name, field: "feature.\(feature.name)")
                    guard let column = schema.field(named: name) else {
                        problems.append(Diagnostic(at, "feature '\(feature.name)' of feature view '\(view.name)' is not a column of source '\(source.name)' (\(path))\(Suggestion.hint(for: name, in: schema.fields.map(\.name))); its columns: \(columns)"))
                        continue
                    }
                    if !compatible(column.type, feature.type) {
                        problems.append(Diagnostic(at, "feature '\(feature.name)' of feature view '\(view.name)' is declared \(feature.type), but column '\(name)' of source '\(source.name)' is \(column.type)"))
                    }
                }
            }
        }
        return (problems, unchecked)
    }

    /// Whether data of type `data` can be read as `declared` without loss.
    static func compatible(_ data: DataType, _ declared: ValueType) -> Bool {
        switch declared {
        case .scalar(let s):
            return compatible(data, s)
        case .list(let s):
            if case .list(let inner) = data { return compatible(inner, s) }
            return false
        }
    }

    static func compatible(_ data: DataType, _ declared: ScalarType) -> Bool {
        switch declared {
        case .bool: return data == .bool
        case .int32: return [.int8, .int16, .int32, .uint8, .uint16].contains(data)
        case .int64: return [.int8, .int16, .int32, .int64, .uint8, .uint16, .uint32].contains(data)
        case .float32: return data == .float32
        case .float64: return [.float32, .float64].contains(data)
        case .string: return data == .string
        case .bytes:
            if case .fixedBinary = data { return true }
            return data == .binary || data == .string
        case .timestamp:
            if case .timestamp = data { return true }
            return data == .date32
        }
    }
}
