import ArgumentParser
import Columnar
import SQLiteOnlineStore

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
        subcommands: [InitCommand.self, ValidateCommand.self, PlanCommand.self, ApplyCommand.self, CatalogCommand.self, SampleDataCommand.self, JoinCommand.self, MaterializeCommand.self, MaterializeIncrementalCommand.self, GetCommand.self, ServeCommand.self, IngestCommand.self, DemoEventsCommand.self, ParquetCommand.self]
    )

    /// Sets the process up for columnar work (see ``MemoryPolicy``), registers the store kinds it links, then runs the
    /// command line.
    static func main() async {
        MemoryPolicy.retainFreedMemory()
        SQLiteOnlineStoreKind.register()
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
