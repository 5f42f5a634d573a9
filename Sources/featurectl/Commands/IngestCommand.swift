import ArgumentParser
import ServeOptions
import Dispatch
import FeatureStoreCore
import Foundation
import StreamIngestion
import Synchronization

struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Feed the online store from the Kafka topics of the repository's stream sources.",
        discussion: """
            Joins the project's consumer group (kafka.consumer_group, default featurestore-<project>), so running more \
            ingesters shares the partitions. Offsets are committed only after each batch is written (at-least-once; \
            replays are harmless). Bad messages are counted, logged with topic/partition/offset and sent to \
            kafka.dead_letter_topic when set. Stops cleanly on SIGINT or SIGTERM.
            """)

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "Comma-separated feature views to feed (default: every online view with a kafka source).")
    var views: String?

    @Option(help: "Overrides kafka.bootstrap_servers.")
    var bootstrapServers: String?

    @Option(help: "This ingester's stable identity in its Kafka consumer group (group.instance.id: static membership), kept across restarts so a restarted ingester resumes at once (default: a new member at every start). Two running ingesters must not share one.")
    var instanceId: String?

    @Option(help: "Stop after this many messages (default: run until stopped).")
    var maxMessages: Int?

    @Option(help: "Stop after this many seconds without messages once partitions are assigned (default: run until stopped).")
    var idleTimeout: Double?

    @Option(help: "The most messages per batch (one write and one commit per batch).")
    var batchSize: Int = 5_000

    /// Checks `--instance-id` as FeatureServer does.
    func validate() throws {
        if let id = instanceId { try ServeOptions.checkInstanceID(id) }
    }

    @MainActor func run() async throws {
        let store = try repository.load()
        let ingestor: StreamIngestor
        do {
            ingestor = try StreamIngestor(store: store, views: views?.split(separator: ",").map(String.init),
                                          bootstrapServers: bootstrapServers, instanceID: instanceId, batchSize: batchSize)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
        let stop = StopSignal()
        var lastReport = ContinuousClock.now
        var lastMessage = ContinuousClock.now
        Console.print("Ingesting \(ingestor.topics.joined(separator: ", ")) (Ctrl-C to stop).")
        while !stop.requested {
            let report = await ingestor.runOnce { !stop.requested }
            let now = ContinuousClock.now
            // Idle time counts from the group's assignment (joining takes seconds), then from the last message.
            if report.messages > 0 || ingestor.assignment.isEmpty { lastMessage = now }
            let stats = ingestor.statistics.snapshot
            if now - lastReport >= .seconds(5) {
                lastReport = now
                Console.print(Self.summary(stats))
            }
            if let maxMessages, stats.messages >= maxMessages { break }
            if let idleTimeout, now - lastMessage >= .milliseconds(Int(idleTimeout * 1000)) { break }
        }
        await ingestor.close()
        Console.print(Self.summary(ingestor.statistics.snapshot))
    }

    static func summary(_ s: IngestionStatistics.Snapshot) -> String {
        let written = s.rowsWritten.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let bad = s.bad.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")
        let broken = s.violations.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "\(s.messages) messages; rows written: \(written.isEmpty ? "none" : written); bad: \(bad.isEmpty ? "none" : bad); redelivered: \(s.redelivered)"
            + (broken.isEmpty ? "" : "; expectations broken: \(broken)")
    }
}

/// Set by SIGINT or SIGTERM; the loop checks it between batches.
/// (`@unchecked`: the signal sources are only kept alive after `init`, never touched again.)
final class StopSignal: @unchecked Sendable {
    private let flag = Atomic<Bool>(false)
    private let sources: [any DispatchSourceSignal]

    init() {
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            sources.append(source)
        }
        self.sources = sources
        for source in sources {
            source.setEventHandler { [weak self] in self?.flag.store(true, ordering: .relaxed) }
            source.resume()
        }
    }

    var requested: Bool { flag.load(ordering: .relaxed) }
}
