import BundledKinds
import ArgumentParser
import Columnar

/// `featurectl`: manage a feature repository from the command line.
@main
struct FeatureCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "featurectl",
        abstract: "Manage a feature store: definitions, catalog, offline joins and the online store.",
        discussion: """
            A feature repository is a folder with a feature_store.yaml and YAML definitions of entities, \
            sources, feature views and feature services. Every command takes --repo (default: the current folder).
            """,
        version: "0.1.0",
        subcommands: [InitCommand.self, ValidateCommand.self, PlanCommand.self, ApplyCommand.self, CatalogCommand.self, SampleDataCommand.self, JoinCommand.self, MaterializeCommand.self, MaterializeIncrementalCommand.self, GetCommand.self, VerifyCommand.self, ServeCommand.self, IngestCommand.self, DemoEventsCommand.self, ParquetCommand.self, ProfileCommand.self, DriftCommand.self]
    )

    /// Sets the process up for columnar work (see ``MemoryPolicy``), then runs the
    /// command line. Async commands run on the main actor (`@MainActor func run()`), and the library's async calls run
    /// where they are called: a command's columnar work stays on the main thread and its malloc arena, as it did
    /// before the store calls became async (measured: on the cooperative pool, materialize took 20-35% longer).
    static func main() async {
        MemoryPolicy.retainFreedMemory()
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
