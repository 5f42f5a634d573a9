import ArgumentParser
import FeatureStore
import Foundation

/// The serving process. For now it loads the repository and says what it would serve;
/// the gRPC and HTTP faces arrive with the online store.
@main
struct FeatureServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "FeatureServer",
        abstract: "Serve a feature repository's online features.")

    @Option(help: "The feature repository folder.")
    var repo: String = "."

    func run() throws {
        let store: FeatureStore
        do {
            store = try FeatureStore(repository: URL(fileURLWithPath: repo))
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
        let online = store.registry.featureViews.filter(\.online)
        print("Project '\(store.config.project)': would serve \(online.count) online feature views and \(store.registry.featureServices.count) feature services.")
        for view in online {
            print("  view \(view.name): \(view.features.map(\.name).joined(separator: ", "))")
        }
        for service in store.registry.featureServices {
            print("  service \(service.name): \(service.features.map(\.description).joined(separator: ", "))")
        }
        print("(the gRPC/HTTP server is not built yet)")
    }
}
