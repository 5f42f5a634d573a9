import ArgumentParser
import Columnar
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
            aggregated column) with a random value of its type within its expectations (min, max, allowed), \
            and the event time now, all named through the source's field mapping. The first event of a source whose \
            features have a bound breaks it on purpose (one above max or below min), so the demo shows a \
            dead-lettered event and a catalog warning; --no-violation leaves it out. With `bootstrap_servers: embedded` \
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

    @Flag(help: "Do not send the event that breaks an expectation on purpose.")
    var noViolation = false

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
        var violated = Set<String>()
        while ContinuousClock.now - start < .milliseconds(Int(duration * 1000)) {
            for generator in generators {
                let entity = Int.random(in: 0..<max(1, entities), using: &rng)
                let violate = !noViolation && generator.canViolate && violated.insert(generator.topic).inserted
                let (key, value) = generator.event(entity: entity, rng: &rng, violate: violate)
                if violate { Console.print("Breaking \(generator.violationText) on purpose in one event to \(generator.topic) (expect it in the dead-letter topic and the catalog).") }
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
    private let featureFields: [(field: String, type: ValueType, expect: FeatureExpectations?)]
    private let timestampField: String
    /// The field whose bound the violating event breaks, and the bound's text.
    private let violation: (field: Int, value: String, text: String)?

    init(topic: String, source: DataSource, views: [FeatureView], keys: [JoinKey]) {
        self.topic = topic
        var fieldOf: [String: String] = [:]
        for (from, to) in source.fieldMapping { fieldOf[to] = from }
        var seen = Set<String>()
        keyFields = keys.compactMap { key in seen.insert(key.name).inserted ? (fieldOf[key.name] ?? key.name, key.type) : nil }
        let expectations = Dictionary(views.flatMap { v in v.features.compactMap { f in f.expectations.map { (f.name, ($0, v.name)) } } }) { a, _ in a }
        featureFields = views.flatMap(\.eventColumns).compactMap { c in
            seen.insert(c.name).inserted ? (fieldOf[c.name] ?? c.name, c.type, expectations[c.name]?.0) : nil
        }
        timestampField = source.timestampField
        var violation: (Int, String, String)? = nil
        for (i, f) in featureFields.enumerated() {
            guard case .scalar(let t) = f.type, [.int32, .int64, .float32, .float64].contains(t), let e = f.expect else { continue }
            let view = expectations[views.flatMap(\.eventColumns).first { (fieldOf[$0.name] ?? $0.name) == f.field }?.name ?? ""]?.1 ?? ""
            if let max = e.max {
                violation = (i, Self.beyond(max, by: 1, integer: t == .int32 || t == .int64), "\(view).\(f.field).max (\(max))")
            } else if let min = e.min {
                violation = (i, Self.beyond(min, by: -1, integer: t == .int32 || t == .int64), "\(view).\(f.field).min (\(min))")
            }
            if violation != nil { break }
        }
        self.violation = violation
    }

    /// Whether a feature of the source has a bound an event can break.
    var canViolate: Bool { violation != nil }
    /// `view.field.rule (bound)` of the bound broken on purpose.
    var violationText: String { violation?.text ?? "" }

    private static func beyond(_ bound: ExpectedNumber, by step: Int64, integer: Bool) -> String {
        switch bound {
        case .int(let i): return "\(i &+ step)"
        case .double(let d):
            guard integer else { return "\(d + Double(step) * Swift.max(1, abs(d) * 1e-9))" }
            let whole = Swift.max(-9.2e18, Swift.min(9.2e18, d.rounded(step > 0 ? .down : .up)))
            return "\(Int64(whole) &+ step)"
        }
    }

    /// The message key and JSON payload of an event about entity number `entity`.
    func event(entity: Int, rng: inout some RandomNumberGenerator, violate: Bool = false) -> (key: String, value: String) {
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
        for (i, (field, type, expect)) in featureFields.enumerated() {
            if violate, let violation, violation.field == i {
                parts.append("\"\(field)\": \(violation.value)")
            } else {
                parts.append("\"\(field)\": \(Self.random(type, expect: expect, rng: &rng))")
            }
        }
        let now = Date()
        parts.append("\"\(timestampField)\": \(Int64(now.timeIntervalSince1970 * 1000))")
        return (keyText.joined(separator: "|"), "{" + parts.joined(separator: ", ") + "}")
    }

    /// A random value of `type` within `expect`'s bounds and allowed values.
    static func random(_ type: ValueType, expect: FeatureExpectations?, rng: inout some RandomNumberGenerator) -> String {
        if let allowed = expect?.allowed, let pick = allowed.randomElement(using: &rng) {
            switch pick {
            case .string(let s): return Column.jsonString(s)
            case .int(let i): return "\(i)"
            case .bool(let b): return "\(b)"
            }
        }
        guard case .scalar(let s) = type, let expect, expect.min != nil || expect.max != nil else { return random(type, rng: &rng) }
        func value(_ n: ExpectedNumber?) -> Double? {
            switch n { case .int(let i)?: return Double(i); case .double(let d)?: return d; case nil: return nil }
        }
        // Values inside the bounds: a range of 600 from the one bound given, the whole range between two.
        let lo = value(expect.min) ?? ((value(expect.max) ?? 600) - 600)
        let hi = Swift.max(lo, value(expect.max) ?? lo + 600)
        switch s {
        case .int32, .int64:
            let x = lo == hi ? lo : Double.random(in: lo...hi, using: &rng)
            let limit = 9.2e18  // inside Int64, so the conversions cannot trap
            let low = (Swift.max(-limit, Swift.min(limit, lo))).rounded(.up), high = (Swift.max(-limit, Swift.min(limit, hi))).rounded(.down)
            return "\(Int64(Swift.max(-limit, Swift.min(limit, x)).rounded(.down)).clamped(Int64(low), Int64(Swift.max(low, high))))"
        case .float32, .float64:
            // Rounded to a tenth when that stays inside the bounds, else as drawn.
            let x = lo == hi || !(hi - lo).isFinite ? lo : Double.random(in: lo...hi, using: &rng), tenth = (x * 10).rounded() / 10
            return "\(tenth >= lo && tenth <= hi ? tenth : x)"
        default: return random(type, rng: &rng)
        }
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

extension Int64 {
    fileprivate func clamped(_ lo: Int64, _ hi: Int64) -> Int64 { Swift.min(Swift.max(self, lo), Swift.max(lo, hi)) }
}
