import ArgumentParser
import Foundation

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run FeatureServer on the repository (the FeatureServer executable built beside featurectl).")

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "The gRPC port.")
    var grpcPort: Int = 6570

    @Option(help: "The HTTP/JSON port (lookups, pushes, health, metrics).")
    var httpPort: Int = 6566

    @Option(help: "The feature catalog's port (pages for browsers and /api/v1/catalog).")
    var catalogPort: Int = 8888

    @Option(help: "The most entity rows in one request.")
    var maxBatch: Int = 10_000

    func run() throws {
        // featurectl stays free of the server's dependencies: the server is its own executable, run in place of this one.
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let server = here.appendingPathComponent("FeatureServer").path
        guard FileManager.default.isExecutableFile(atPath: server) else {
            Console.error("error: no FeatureServer beside featurectl (\(server)); build it with `swift build --product FeatureServer`")
            throw ExitCode(1)
        }
        let args = [server, "--repo", repository.repo, "--host", host, "--grpc-port", String(grpcPort),
                    "--http-port", String(httpPort), "--catalog-port", String(catalogPort), "--max-batch", String(maxBatch)]
        var cArgs = args.map { strdup($0) } + [nil]
        execv(server, &cArgs)
        Console.error("error: cannot start \(server): \(String(cString: strerror(errno)))")
        throw ExitCode(1)
    }
}
