import ArgumentParser
import BundledKinds
import FeatureStoreCore
import Foundation

/// Options every repository command shares.
struct RepositoryOptions: ParsableArguments {
    @Option(name: .long, help: "The feature repository folder.", completion: .directory)
    var repo: String = "."

    var url: URL { URL(fileURLWithPath: repo) }

    /// Compiles the repository with every kind featurectl has, printing every diagnostic and exiting 1 when it does
    /// not compile. `unknownKinds`: `.report` for commands that check definitions (`plan`, `apply`, `validate`);
    /// others leave a kind nobody linked to fail where it is used (a join needs no online store kind).
    func load(unknownKinds: UnknownKindPolicy = .deferUntilUsed) throws -> FeatureStore {
        do {
            return try FeatureStore(repository: url, kinds: .bundled, unknownKinds: unknownKinds)
        } catch {
            Console.error(error.description)
            throw ExitCode(1)
        }
    }
}

/// `--json` for machine-readable output.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of tables.")
    var json = false
}

/// Reads a time typed on the command line through the library's one strict parser (``TimeArgument``); anything it
/// cannot read in full is an error that quotes the argument and lists the accepted forms.
func parseTime(_ text: String) throws -> Int64 {
    do {
        return try TimeArgument.parse(text)
    } catch {
        throw ValidationError(error.description)
    }
}
