import ArgumentParser
import BundledKinds
import FeatureStoreCore
import Foundation

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what `apply` would change in the catalog: added, changed (field by field), removed.",
        discussion: "Breaking changes (a feature's type changed, a used feature removed, an entity's keys changed) are flagged.")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let store = try repository.load(unknownKinds: .report)
        let plan: Plan
        do {
            plan = try store.plan()
        } catch {
            Console.error("error: \(error.description)")
            throw ExitCode(1)
        }
        if output.json {
            try Console.printJSON(plan)
        } else {
            Console.print(PlanRenderer.render(plan, registryPath: store.config.registryPath))
        }
    }
}

struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Register the definitions in the catalog (objects removed from the files are removed from the catalog).")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @MainActor func run() async throws {
        let store = try repository.load(unknownKinds: .report)
        let plan: Plan
        let dropped: [String]
        do {
            (plan, dropped) = try await store.apply()
        } catch {
            Console.error("error: \(error.description)")
            throw ExitCode(1)
        }
        if output.json {
            try Console.printJSON(plan)
            return
        }
        if plan.isEmpty {
            Console.print("Nothing to apply: the catalog of '\(plan.project)' matches the definitions.")
        } else {
            Console.print(PlanRenderer.render(plan, registryPath: store.config.registryPath))
            Console.print("Applied to \(store.config.registryPath).")
        }
        if !dropped.isEmpty {
            Console.print("Dropped the online rows of changed or removed views: \(dropped.joined(separator: ", ")); materialize again to serve them.")
        }
    }
}

/// The human form of a plan.
enum PlanRenderer {
    static func render(_ plan: Plan, registryPath: String) -> String {
        if plan.isEmpty {
            return "No changes: the catalog of '\(plan.project)' (\(registryPath)) matches the definitions."
        }
        var lines = ["Plan for '\(plan.project)' (registry \(registryPath)):"]
        for change in plan.changes {
            let mark: String
            switch change.action {
            case .add: mark = "+"
            case .change: mark = "~"
            case .remove: mark = "-"
            }
            lines.append("  \(mark) \(change.kind) \(change.name)")
            for field in change.fields {
                lines.append("      \(field.path): \(field.old ?? "(none)") -> \(field.new ?? "(none)")")
            }
            for reason in change.breaking {
                lines.append("      BREAKING: \(reason)")
            }
            if let online = change.online {
                lines.append("      online store: \(online)")
            }
        }
        var summary = "\(plan.count(.add)) to add, \(plan.count(.change)) to change, \(plan.count(.remove)) to remove"
        if plan.breakingCount > 0 { summary += " (\(plan.breakingCount) breaking)" }
        lines.append(summary + ".")
        return lines.joined(separator: "\n")
    }
}
