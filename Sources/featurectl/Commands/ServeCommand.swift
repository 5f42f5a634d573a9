import ArgumentParser
import Foundation
import ServeOptions

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run FeatureServer on the repository (the FeatureServer executable built beside featurectl).")

    @OptionGroup var options: ServeOptions

    func run() throws {
        // featurectl stays free of the server's dependencies: the server is its own executable, run in place of this one.
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let server = here.appendingPathComponent("FeatureServer").path
        guard FileManager.default.isExecutableFile(atPath: server) else {
            Console.error("error: no FeatureServer beside featurectl (\(server)); build it with `swift build --product FeatureServer`")
            throw ExitCode(1)
        }
        let args = [server] + options.arguments
        var cArgs = args.map { strdup($0) } + [nil]
        execv(server, &cArgs)
        Console.error("error: cannot start \(server): \(String(cString: strerror(errno)))")
        throw ExitCode(1)
    }
}
