import ArgumentParser
import Columnar
import FeatureStoreCore
import Foundation

/// `featurectl verify`: training = serving, checked on the repository's own data.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that served features equal the training set's: online lookups at AT against joinFeatures at AT.",
        discussion: """
            For each online view (or --views), takes up to --sample entities of its source, reads their features from \
            the online store as at AT and computes them with the point-in-time join at AT, and lists every value that \
            differs. Exits 1 when any does. Materialize up to AT first; a plain view's online store holds only the \
            newest row, so an AT before newer materialized events reports those differences.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Only these views, comma-separated.")
    var views: String?

    @Option(help: "Entities per view (a deterministic sample of those with events before AT).")
    var sample: Int = 100

    @Option(help: ArgumentHelp("The time compared: \(TimeArgument.accepted).", valueName: "at"), transform: parseTime)
    var at: Int64 = Int64(Date().timeIntervalSince1970 * 1_000_000)

    func validate() throws {
        guard sample >= 1 else { throw ValidationError("--sample must be at least 1") }
    }

    @MainActor func run() async throws {
        let store = try repository.load()
        let reports: [VerificationReport]
        do {
            reports = try await store.verify(views: views?.split(separator: ",").map(String.init), sample: sample, at: at)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
        if output.json {
            try Console.printJSON(reports)
        } else {
            var table = TextTable("VIEW", "AT", "ENTITIES", "FEATURES", "MISMATCHES")
            for r in reports {
                table.add(r.view, Column.isoTimestamp(r.at, unit: .microseconds, utc: true), "\(r.entities)", "\(r.features)", "\(r.mismatches.count)")
            }
            Console.print(table.render())
            for r in reports where !r.mismatches.isEmpty {
                Console.print("\(r.view):")
                for m in r.mismatches.prefix(20) {
                    let entity = m.entity.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                    Console.print("  \(m.feature) [\(entity)]: online \(m.online), offline \(m.offline)")
                }
                if r.mismatches.count > 20 { Console.print("  ... and \(r.mismatches.count - 20) more") }
            }
            let total = reports.reduce(0) { $0 + $1.mismatches.count }
            Console.print(total == 0 ? "Training = serving: no mismatch." : "\(total) mismatches.")
        }
        if reports.contains(where: { !$0.mismatches.isEmpty }) { throw ExitCode(1) }
    }
}
