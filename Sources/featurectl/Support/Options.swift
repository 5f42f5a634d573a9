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

/// `--engine spark|embedded`: the offline engine for this command instead of the repository's `offline_store`.
struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The offline engine for this command: spark or embedded (the local engine); default: the repository's offline_store.", valueName: "engine"))
    var engine: String?

    /// The engine's kind name (`embedded` is `local`).
    var kind: String? { engine.map { $0 == "embedded" ? "local" : $0 } }

    func validate() throws {
        if let engine, !["spark", "embedded", "local"].contains(engine) {
            throw ValidationError("--engine '\(engine)' must be spark or embedded")
        }
    }

    /// `store` with the engine chosen, or unchanged without `--engine`.
    func apply(to store: FeatureStore) throws -> FeatureStore {
        guard let kind else { return store }
        do {
            return try store.using(offlineEngine: kind)
        } catch {
            Console.error("error: --engine \(engine!): \(error)")
            throw ExitCode(1)
        }
    }
}
