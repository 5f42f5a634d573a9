import ArgumentParser
import BundledKinds
import FeatureStoreCore
import Foundation

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a new feature repository that validates.",
        discussion: "Writes feature_store.yaml and example definitions into a new folder NAME (or --path).")

    @Argument(help: "The project name (an identifier).")
    var name: String

    @Option(help: "Where to create the repository (default: a folder named after the project).", completion: .directory)
    var path: String?

    func run() throws {
        let directory = URL(fileURLWithPath: path ?? name)
        do {
            let files = try RepositoryScaffold.create(project: name, in: directory)
            Console.print("Created feature repository '\(name)' in \(directory.path):")
            for file in files { Console.print("  \(file)") }
            Console.print("Next: featurectl plan --repo \(directory.path)")
        } catch {
            Console.error("error: \(error.description)")
            throw ExitCode(1)
        }
    }
}

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Compile the definitions and report every error (exit 1 on any).")

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let result = Result { () throws(CompileError) in try DefinitionCompiler.compile(repository: repository.url, kinds: .bundled) }
        switch result {
        case .success(let registry):
            let c = Counts(registry)
            if output.json {
                try Console.printJSON(ValidationReport(valid: true, project: registry.config.project, errors: [], counts: c))
            } else {
                Console.print("'\(registry.config.project)' is valid: \(c.entities) entities, \(c.sources) sources, \(c.featureViews) feature views, \(c.featureServices) feature services.")
                let unchecked = DefinitionCompiler.sourcesWithoutData(registry, repository: repository.url, kinds: .bundled)
                if !unchecked.isEmpty {
                    Console.print("Not checked against data (none yet): \(unchecked.joined(separator: ", ")).")
                }
            }
        case .failure(let error):
            if output.json {
                try Console.printJSON(ValidationReport(
                    valid: false, project: nil,
                    errors: error.diagnostics.map {
                        ValidationReport.Problem(file: $0.location.file, line: $0.location.line, column: $0.location.column, message: $0.message)
                    },
                    counts: nil))
            } else {
                Console.error(error.description)
            }
            throw ExitCode(1)
        }
    }

    struct ValidationReport: Encodable {
        struct Problem: Encodable { var file: String; var line: Int; var column: Int; var message: String }
        var valid: Bool
        var project: String?
        var errors: [Problem]
        var counts: Counts?
    }
}

struct Counts: Encodable {
    var entities: Int, sources: Int, featureViews: Int, featureServices: Int

    init(_ registry: Registry) {
        entities = registry.entities.count
        sources = registry.sources.count
        featureViews = registry.featureViews.count
        featureServices = registry.featureServices.count
    }

    enum CodingKeys: String, CodingKey {
        case entities, sources, featureViews = "feature_views", featureServices = "feature_services"
    }
}
