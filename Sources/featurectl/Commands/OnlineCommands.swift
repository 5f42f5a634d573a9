import ArgumentParser
import Columnar
import FeatureStore
import Foundation

/// Parses `2025-01-31T00:00:00Z`, `2025-01-31` or `now` into microseconds since the epoch.
func parseTimeArgument(_ text: String) -> Int64? {
    if text == "now" { return Int64(Date().timeIntervalSince1970 * 1_000_000) }
    return SampleDataCommand.parseTime(text)
}

/// Shared rendering of materialization reports.
enum MaterializeOutput {
    static func print(_ reports: [MaterializationReport], json: Bool, seconds: Double) throws {
        if json {
            try Console.printJSON(reports)
            return
        }
        if reports.isEmpty {
            Console.print("Nothing to materialize.")
            return
        }
        var table = TextTable("VIEW", "WINDOW", "ROWS READ", "ENTITIES", "WRITTEN", "SECONDS")
        for r in reports {
            let from = r.start == Int64.min ? "(beginning)" : Column.isoTimestamp(r.start, unit: .microseconds, utc: true)
            let to = Column.isoTimestamp(r.end, unit: .microseconds, utc: true)
            table.add(r.view, "\(from) .. \(to)", "\(r.rowsRead)", "\(r.entities)", "\(r.rowsWritten)", String(format: "%.2f", r.seconds))
        }
        Console.print(table.render())
        let rows = reports.reduce(0) { $0 + $1.rowsRead }
        Console.print(String(format: "Materialized %d views: %d rows read in %.2fs (%.0f rows/s).",
                             reports.count, rows, seconds, Double(rows) / max(seconds, 1e-9)))
    }

    /// Runs a materialization with progress on a terminal, then prints its reports (or the error, exiting 1).
    static func run(json: Bool, _ body: ((@Sendable (MaterializationProgress) -> Void)?) throws(OnlineStoreError) -> [MaterializationReport]) throws {
        let began = Date()
        let display = ProgressDisplay()
        do {
            let reports = try body { p in display.update("\(p.view): \(p.stage)", rows: p.rows, total: p.totalRows) }
            display.finish()
            try print(reports, json: json, seconds: Date().timeIntervalSince(began))
        } catch let error as OnlineStoreError {
            display.finish()
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
    }
}

struct MaterializeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "materialize",
        abstract: "Load the latest feature values with START <= event time < END into the online store.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The start of the window (ISO-8601, e.g. 2025-01-01T00:00:00Z).")
    var start: String

    @Argument(help: "The end of the window (exclusive; ISO-8601 or now).")
    var end: String

    @Option(help: "Only these views, comma-separated.")
    var views: String?

    func validate() throws {
        guard let s = parseTimeArgument(start) else { throw ValidationError("START '\(start)' is not an ISO-8601 time") }
        guard let e = parseTimeArgument(end) else { throw ValidationError("END '\(end)' is not an ISO-8601 time") }
        guard s < e else { throw ValidationError("START must be before END") }
    }

    func run() throws {
        let store = try repository.load()
        try MaterializeOutput.run(json: output.json) { progress throws(OnlineStoreError) in
            try store.materialize(start: parseTimeArgument(start)!, end: parseTimeArgument(end)!,
                                  views: views?.split(separator: ",").map(String.init), progress: progress)
        }
    }
}

struct MaterializeIncrementalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "materialize-incremental",
        abstract: "Materialize each online view from its last watermark (first run: END - ttl) to END.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The end of the window (exclusive; ISO-8601 or now).")
    var end: String

    @Option(help: "Only these views, comma-separated.")
    var views: String?

    func validate() throws {
        guard parseTimeArgument(end) != nil else { throw ValidationError("END '\(end)' is not an ISO-8601 time") }
    }

    func run() throws {
        let store = try repository.load()
        try MaterializeOutput.run(json: output.json) { progress throws(OnlineStoreError) in
            try store.materializeIncremental(end: parseTimeArgument(end)!, views: views?.split(separator: ",").map(String.init), progress: progress)
        }
    }
}

struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Look up online features for entities.",
        discussion: "Example: featurectl get --service driver_ranking_v1 --entity driver_id=1001,1002 --entity customer_id=5001,5002")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "A feature service.")
    var service: String?

    @Option(help: "Features: view:feature or view, comma-separated.")
    var features: String?

    @Option(help: "A join key and its values: KEY=V1[,V2...]; repeat for each join key.")
    var entity: [String] = []

    @Flag(help: "Name features view__feature.")
    var fullFeatureNames = false

    func validate() throws {
        guard (service == nil) != (features == nil) else { throw ValidationError("give exactly one of --service or --features") }
        guard !entity.isEmpty else { throw ValidationError("give the entities with --entity KEY=VALUE") }
        for e in entity where !e.contains("=") { throw ValidationError("--entity '\(e)' must be KEY=VALUE[,VALUE...]") }
    }

    func run() throws {
        let store = try repository.load()
        // Values are parsed by the declared type of their join key.
        var types: [String: ScalarType] = [:]
        for e in store.registry.entities { for k in e.joinKeys { types[k.name] = k.type } }
        var columns: [String: [OnlineValue]] = [:]
        for item in entity {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            let name = parts[0], values = parts.count > 1 ? parts[1].split(separator: ",").map(String.init) : []
            guard let type = types[name] else {
                Console.error("error: no entity has a join key '\(name)'; join keys: \(types.keys.sorted().joined(separator: ", "))")
                throw ExitCode(1)
            }
            var parsed: [OnlineValue] = []
            for v in values {
                switch type {
                case .int32, .int64:
                    guard let i = Int64(v) else {
                        Console.error("error: --entity \(name): '\(v)' is not an integer (\(name) is \(type.rawValue))")
                        throw ExitCode(1)
                    }
                    parsed.append(.int(i))
                case .bytes: parsed.append(.bytes(Array(v.utf8)))
                default: parsed.append(.string(v))
                }
            }
            columns[name] = parsed
        }
        let selection = service.map(FeatureSelection.service) ?? FeatureSelection(parsing: features!)
        guard let selection else {
            Console.error("error: --features must be a comma-separated list of view or view:feature")
            throw ExitCode(1)
        }
        let result: OnlineFeatures
        do {
            result = try store.getOnlineFeatures(entities: columns, features: selection, fullFeatureNames: fullFeatureNames)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
        if output.json {
            struct Row: Encodable {
                var entity: [String: String]
                var features: [String: Value]
                struct Value: Encodable { var value: String?; var status: String; var event_timestamp: String? }
            }
            var rows: [Row] = []
            for i in 0..<result.entityCount {
                var entityValues: [String: String] = [:]
                for (k, v) in columns { entityValues[k] = v[i].description }
                var values: [String: Row.Value] = [:]
                for c in result.columns {
                    values[c.name] = Row.Value(value: c.values[i] == .null ? nil : c.values[i].description, status: c.statuses[i].rawValue,
                                               event_timestamp: c.eventTimestamps[i].map { Column.isoTimestamp($0, unit: .microseconds, utc: true) })
                }
                rows.append(Row(entity: entityValues, features: values))
            }
            try Console.printJSON(rows)
            return
        }
        for i in 0..<result.entityCount {
            Console.print(columns.keys.sorted().map { "\($0)=\(columns[$0]![i])" }.joined(separator: " "))
            var table = TextTable("FEATURE", "VALUE", "STATUS", "EVENT TIME")
            for c in result.columns {
                table.add(c.name, c.values[i].description, c.statuses[i].rawValue,
                          c.eventTimestamps[i].map { Column.isoTimestamp($0, unit: .microseconds, utc: true) } ?? "")
            }
            Console.print(table.render(indent: "  "))
        }
    }
}
