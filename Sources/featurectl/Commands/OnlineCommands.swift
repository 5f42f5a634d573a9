import ArgumentParser
import Columnar
import FeatureStoreCore
import Foundation
import JSONCoding


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
        for r in reports {
            guard let tally = r.expectations, tally.total > 0 else { continue }
            let dropped = r.rowsDropped.map { ", \($0) rows dropped (policy drop)" } ?? ""
            Console.print("warning: \(r.view) breaks its expectations\(dropped): \(tally.summary)")
        }
        let rows = reports.reduce(0) { $0 + $1.rowsRead }
        Console.print(String(format: "Materialized %d views: %d rows read in %.2fs (%.0f rows/s).",
                             reports.count, rows, seconds, Double(rows) / max(seconds, 1e-9)))
    }

    /// Runs a materialization with progress on a terminal, then prints its reports (or the error, exiting 1).
    static func run(json: Bool, _ body: ((@Sendable (MaterializationProgress) -> Void)?) async throws(OnlineStoreError) -> [MaterializationReport]) async throws {
        let began = Date()
        let display = ProgressDisplay()
        do {
            let reports = try await body { p in
                display.update("\(p.view): \(p.stage == "cluster" ? "on the cluster" : p.stage)", rows: p.rows, total: p.totalRows,
                               unit: p.stage == "cluster" ? "stages" : "rows")
            }
            display.finish()
            try print(reports, json: json, seconds: Date().timeIntervalSince(began))
        } catch let error as OnlineStoreError {
            display.finish()
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
    }
}

struct MaterializeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "materialize",
        abstract: "Load the latest feature values with START <= event time < END into the online store.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var engine: EngineOptions

    @Argument(help: ArgumentHelp("The start of the window: \(TimeArgument.accepted).", valueName: "start"), transform: parseTime)
    var start: Int64

    @Argument(help: ArgumentHelp("The end of the window (exclusive), in the same forms.", valueName: "end"), transform: parseTime)
    var end: Int64

    @Option(help: "Only these views, comma-separated.")
    var views: String?

    func validate() throws {
        guard start < end else {
            throw ValidationError("START (\(Column.isoTimestamp(start, unit: .microseconds, utc: true))) must be before END (\(Column.isoTimestamp(end, unit: .microseconds, utc: true)))")
        }
    }

    @MainActor func run() async throws {
        let store = try engine.apply(to: try repository.load())
        try await MaterializeOutput.run(json: output.json) { progress async throws(OnlineStoreError) in
            try await store.materialize(start: start, end: end,
                                  views: views?.split(separator: ",").map(String.init), progress: progress)
        }
    }
}

struct MaterializeIncrementalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "materialize-incremental",
        abstract: "Materialize each online view from its last watermark (first run: END - ttl) to END.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var engine: EngineOptions

    @Argument(help: ArgumentHelp("The end of the window (exclusive): \(TimeArgument.accepted).", valueName: "end"), transform: parseTime)
    var end: Int64

    @Option(help: "Only these views, comma-separated.")
    var views: String?

    @MainActor func run() async throws {
        let store = try engine.apply(to: try repository.load())
        try await MaterializeOutput.run(json: output.json) { progress async throws(OnlineStoreError) in
            try await store.materializeIncremental(end: end, views: views?.split(separator: ",").map(String.init), progress: progress)
        }
    }
}

struct GetCommand: AsyncParsableCommand {
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

    @Option(help: "A request field of on-demand views and its values: FIELD=V1[,V2...] (one per entity, or one for all); repeat for each field.")
    var request: [String] = []

    @Flag(help: "Name features view__feature.")
    var fullFeatureNames = false

    func validate() throws {
        guard (service == nil) != (features == nil) else { throw ValidationError("give exactly one of --service or --features") }
        for r in request where !r.contains("=") { throw ValidationError("--request '\(r)' must be FIELD=VALUE[,VALUE...]") }
        guard !entity.isEmpty else { throw ValidationError("give the entities with --entity KEY=VALUE") }
        for e in entity where !e.contains("=") { throw ValidationError("--entity '\(e)' must be KEY=VALUE[,VALUE...]") }
    }

    @MainActor func run() async throws {
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
        // Request fields are parsed by their declared type.
        let fields = store.registry.onDemandViews.flatMap(\.request)
        var context: [String: [OnlineValue]] = [:]
        for item in request {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            let name = parts[0], values = parts.count > 1 ? parts[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init) : []
            guard let field = fields.first(where: { $0.name == name }) else {
                Console.error("error: --request \(name): no on-demand view has a request field '\(name)'; request fields: \(Set(fields.map(\.name)).sorted().joined(separator: ", "))")
                throw ExitCode(1)
            }
            var parsed: [OnlineValue] = []
            for v in values {
                let value: OnlineValue?
                switch field.type {
                case .int32, .int64: value = Int64(v).map(OnlineValue.int)
                case .float32, .float64: value = Double(v).map(OnlineValue.double)
                case .bool: value = v == "true" ? .bool(true) : v == "false" ? .bool(false) : nil
                case .timestamp: value = TimeParsing.iso8601Micros(v).map(OnlineValue.timestamp)
                case .string: value = .string(v)
                case .bytes: value = .bytes(Array(v.utf8))
                }
                guard let value else {
                    Console.error("error: --request \(name): '\(v)' is not a \(field.type.rawValue)\(field.type == .timestamp ? " (write ISO 8601, like 2026-12-03T08:15:00Z)" : "")")
                    throw ExitCode(1)
                }
                parsed.append(value)
            }
            context[name] = parsed
        }
        let result: OnlineFeatures
        do {
            result = try await store.getOnlineFeatures(entities: columns, features: selection, fullFeatureNames: fullFeatureNames,
                                                       requestContext: context)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
        if output.json {
            // Values are written as the HTTP API writes them: numbers, booleans, arrays and null as such (64-bit
            // integers exact), bytes as base64, times as ISO-8601.
            let keys = columns.keys.sorted()
            var w = JSONWriter(capacity: 256 * max(result.entityCount, 1))
            w.raw("[")
            for i in 0..<result.entityCount {
                w.raw(i == 0 ? "\n  {\"entity\":{" : ",\n  {\"entity\":{")
                for (k, key) in keys.enumerated() {
                    if k > 0 { w.raw(",") }
                    w.string(key)
                    w.raw(":")
                    w.value(columns[key]![i])
                }
                w.raw("},\"features\":{")
                for (c, column) in result.columns.enumerated() {
                    if c > 0 { w.raw(",") }
                    w.string(column.name)
                    w.raw(":{\"value\":")
                    w.value(column.values[i])
                    w.raw(",\"status\":")
                    w.string(column.statuses[i].rawValue)
                    w.raw(",\"event_timestamp\":")
                    if let t = column.eventTimestamps[i] { w.timestamp(micros: t) } else { w.raw("null") }
                    w.raw("}")
                }
                w.raw("}}")
            }
            w.raw(result.entityCount == 0 ? "]" : "\n]")
            Console.print(String(decoding: w.bytes, as: UTF8.self))
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
