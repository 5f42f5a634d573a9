import ArgumentParser
import FeatureStoreCore
import Foundation
import Kafka
import KafkaTransport

struct DemoEventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-events",
        abstract: "Produce made-up JSON events to the topics of the repository's stream sources (for demos).",
        discussion: """
            For every kafka source read by an online view, sends events shaped as its views expect: the join keys \
            (integer keys 1001, 1002, ...; string keys k-1, k-2, ...), each feature (for aggregated views, each \
            aggregated column) with a random value of its type, \
            and the event time now, all named through the source's field mapping. With `bootstrap_servers: embedded` \
            the cluster lives inside the ingesting process: pass the address it logs with --bootstrap-servers.
            """)

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "The brokers (default: kafka.bootstrap_servers).")
    var bootstrapServers: String?

    @Option(help: "Events per second, per source.")
    var rate: Double = 20

    @Option(help: "Seconds to produce for.")
    var duration: Double = 10

    @Option(help: "How many entities the events are about.")
    var entities: Int = 20

    func run() throws {
        let store = try repository.load()
        let registry = store.registry
        guard let servers = bootstrapServers ?? KafkaConfig(store.config)?.bootstrapServers, servers != KafkaConfig.embedded else {
            Console.error("error: pass --bootstrap-servers (the embedded cluster's address is in the ingesting process's log: 'embedded Kafka ... listening')")
            throw ExitCode(1)
        }
        var generators: [EventGenerator] = []
        for source in registry.sources {
            guard source.kind == "kafka", let topic = source.settings["topic"] else { continue }
            let views = registry.featureViews.filter { $0.source == source.name }
            guard !views.isEmpty else { continue }
            generators.append(EventGenerator(topic: topic, source: source, views: views, keys: views.flatMap { registry.joinKeys(of: $0) }))
        }
        guard !generators.isEmpty else {
            Console.error("error: no feature view reads a kafka source")
            throw ExitCode(1)
        }
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(properties: ["bootstrap.servers": servers, "linger.ms": "5"])
        } catch {
            Console.error("error: kafka: \(error.message)")
            throw ExitCode(1)
        }
        Console.print("Producing \(rate) events/s to \(generators.map(\.topic).joined(separator: ", ")) for \(duration) s.")
        var rng = SystemRandomNumberGenerator()
        let start = ContinuousClock.now
        var sent = 0
        let interval = 1.0 / max(rate, 0.001)
        while ContinuousClock.now - start < .milliseconds(Int(duration * 1000)) {
            for generator in generators {
                let entity = Int.random(in: 0..<max(1, entities), using: &rng)
                let (key, value) = generator.event(entity: entity, rng: &rng)
                do {
                    try producer.produce(topic: generator.topic, key: Array(key.utf8), value: Array(value.utf8))
                } catch {
                    Console.error("error: produce: \(error.message)")
                    throw ExitCode(1)
                }
                sent += 1
            }
            Thread.sleep(forTimeInterval: interval)
        }
        do { try producer.flush() } catch {
            Console.error("error: not every event was delivered: \(error.message)")
            throw ExitCode(1)
        }
        Console.print("Sent \(sent) events.")
    }
}

/// Makes events for one stream source: keys, random feature values by type, the event time now.
struct EventGenerator {
    let topic: String
    private let keyFields: [(field: String, type: ScalarType)]
    private let featureFields: [(field: String, type: ValueType)]
    private let timestampField: String

    init(topic: String, source: DataSource, views: [FeatureView], keys: [JoinKey]) {
        self.topic = topic
        var fieldOf: [String: String] = [:]
        for (from, to) in source.fieldMapping { fieldOf[to] = from }
        var seen = Set<String>()
        keyFields = keys.compactMap { key in seen.insert(key.name).inserted ? (fieldOf[key.name] ?? key.name, key.type) : nil }
        featureFields = views.flatMap(\.eventColumns).compactMap { c in seen.insert(c.name).inserted ? (fieldOf[c.name] ?? c.name, c.type) : nil }
        timestampField = source.timestampField
    }

    /// The message key and JSON payload of an event about entity number `entity`.
    func event(entity: Int, rng: inout some RandomNumberGenerator) -> (key: String, value: String) {
        var parts: [String] = []
        var keyText: [String] = []
        for (field, type) in keyFields {
            let value: String
            switch type {
            case .int32, .int64: value = "\(1001 + entity)"
            default: value = "\"k-\(entity + 1)\""
            }
            keyText.append(value)
            parts.append("\"\(field)\": \(value)")
        }
        for (field, type) in featureFields {
            parts.append("\"\(field)\": \(Self.random(type, rng: &rng))")
        }
        let now = Date()
        parts.append("\"\(timestampField)\": \(Int64(now.timeIntervalSince1970 * 1000))")
        return (keyText.joined(separator: "|"), "{" + parts.joined(separator: ", ") + "}")
    }

    static func random(_ type: ValueType, rng: inout some RandomNumberGenerator) -> String {
        switch type {
        case .scalar(let s): return random(s, rng: &rng)
        case .list(let s): return "[" + (0..<3).map { _ in random(s, rng: &rng) }.joined(separator: ", ") + "]"
        }
    }

    static func random(_ type: ScalarType, rng: inout some RandomNumberGenerator) -> String {
        switch type {
        case .bool: return Bool.random(using: &rng) ? "true" : "false"
        case .int32, .int64: return "\(Int.random(in: 0..<10, using: &rng))"
        case .float32, .float64: return String(format: "%.1f", Double.random(in: 0..<600, using: &rng))
        case .string: return "\"v\(Int.random(in: 0..<100, using: &rng))\""
        case .bytes: return "\"ZGVtbw==\""  // base64
        case .timestamp: return "\(Int64(Date().timeIntervalSince1970 * 1000))"
        }
    }
}
