import ArgumentParser
import Columnar
import FeatureStoreCore
import Foundation
import Parquet

struct JoinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Build a training set: attach point-in-time-correct feature values to entity rows.",
        discussion: """
            Each entity row (join keys, an event time, any labels) gets, per feature view, the values of the latest \
            source row at or before its time and not older than the view's ttl (ties: the latest created time). \
            Rows are kept in input order; rows without a match get nulls.
            """)

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "The entity rows: a Parquet file, folder or glob.", completion: .file())
    var entities: String

    @Option(help: "A feature service to join.")
    var service: String?

    @Option(help: "Features to join: view:feature or view (all its features), comma-separated.")
    var features: String?

    @Option(help: "Where to write the result (Parquet).", completion: .file())
    var out: String?

    @OptionGroup var engine: EngineOptions

    @Flag(help: "Print what the offline engine would run for each view (the generated Spark SQL with --engine spark) and stop.")
    var explain = false

    @Flag(help: "Name output columns view__feature.")
    var fullFeatureNames = false

    @Option(help: "The entity rows' event time column.")
    var timestampColumn = "event_timestamp"

    @Flag(help: "Check the training set against the views' expectations: report violations per view, feature and rule; exit 1 when a view whose policy is fail has any (the file is written either way).")
    var check = false

    func validate() throws {
        guard (service == nil) != (features == nil) else { throw ValidationError("give exactly one of --service or --features") }
        guard out != nil || explain else { throw ValidationError("give --out (where to write the training set), or --explain") }
        if let features, FeatureSelection(parsing: features) == nil {
            throw ValidationError("--features '\(features)' must be a comma-separated list of view or view:feature")
        }
    }

    @MainActor func run() async throws {
        let store = try engine.apply(to: try repository.load())
        let selection = service.map(FeatureSelection.service) ?? FeatureSelection(parsing: features!)!
        if explain {
            do {
                let plans = try await store.explainJoin(entities: .parquet(entities), features: selection,
                                                        options: JoinOptions(fullFeatureNames: fullFeatureNames, timestampColumn: timestampColumn))
                for (view, plan) in plans {
                    Console.print(plan ?? "-- feature view '\(view)': computed in this process by the \(store.offlineEngineSettings.kind) engine (nothing to show)\n")
                }
            } catch {
                Console.error("error: \(error)")
                throw ExitCode(1)
            }
            return
        }
        let out = self.out!
        let display = ProgressDisplay()
        let started = Date()
        var options = JoinOptions(fullFeatureNames: fullFeatureNames, timestampColumn: timestampColumn)
        options.progress = { p in
            guard p.stage != .done else { return }
            if p.stage == .cluster {
                display.update("[\(p.viewIndex + 1)/\(p.viewCount)] \(p.view): on \(store.offlineEngineSettings.kind)", rows: p.rows, total: p.totalRows, unit: "stages")
            } else {
                display.update("[\(p.viewIndex + 1)/\(p.viewCount)] \(p.view): \(p.stage.rawValue)", rows: p.rows, total: p.totalRows)
            }
        }
        let table: Table
        do {
            table = try await store.joinFeatures(entities: .parquet(entities), features: selection, options: options)
        } catch {
            display.finish()
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
        display.finish()
        do {
            try ParquetFileWriter.write(table, to: out)
        } catch {
            Console.error("error: cannot write the result: \(error)")
            throw ExitCode(1)
        }
        let seconds = Date().timeIntervalSince(started)
        let added = table.schema.fields.count
        Console.print(String(format: "Joined %d entity rows in %.2fs (%.0f rows/s): %d columns written to %@.",
                             table.rowCount, seconds, Double(table.rowCount) / max(seconds, 1e-9), added, out))
        guard check else { return }
        let checks: [TrainingSetCheck]
        do {
            checks = try store.checkExpectations(of: table, features: selection, fullFeatureNames: fullFeatureNames)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
        if checks.isEmpty {
            Console.print("Check: no view of the selection has expectations.")
            return
        }
        var report = TextTable("VIEW", "POLICY", "FEATURE", "RULE", "VIOLATIONS", "FIRST")
        for c in checks {
            if c.tally.total == 0 { report.add(c.view, c.policy.rawValue, "", "", "0", "") }
            for feature in c.tally.counts.keys.sorted() {
                for (rule, n) in c.tally.counts[feature]!.sorted(by: { $0.key < $1.key }) {
                    report.add(c.view, c.policy.rawValue, feature, rule, "\(n)", c.tally.examples["\(feature).\(rule)"] ?? "")
                }
            }
        }
        Console.print(report.render())
        let failing = checks.filter(\.fails).map(\.view)
        if !failing.isEmpty {
            Console.error("error: the training set breaks the expectations of \(failing.joined(separator: ", ")) (policy fail); it was written to \(out)")
            throw ExitCode(1)
        }
    }
}
