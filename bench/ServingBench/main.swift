import ArgumentParser
import FeatureStoreClient
import Foundation

/// A load generator for FeatureServer: N concurrent callers issue GetOnlineFeatures for a bounded time over a few
/// HTTP/2 connections with the generated client, and the run reports throughput and latency percentiles.
@main
struct ServingBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serving-bench",
        abstract: "Load-test FeatureServer's GetOnlineFeatures over gRPC.")

    enum Scenario: String, ExpressibleByArgument, CaseIterable {
        /// One driver, one view (driver_stats: all its features).
        case oneByView = "1x1"
        /// One driver and one customer, the example's feature service (3 views).
        case oneByService = "1xservice"
        /// 100 drivers (and customers), the example's feature service.
        case hundredByService = "100xservice"
    }

    @Option(help: "FeatureServer's gRPC host.") var host = "127.0.0.1"
    @Option(help: "FeatureServer's gRPC port.") var port = 6570
    @Option(help: "1x1, 1xservice or 100xservice.") var scenario: Scenario = .oneByView
    @Option(help: "Concurrent callers.") var concurrency = 8
    @Option(help: "HTTP/2 connections the callers share.") var connections = 2
    @Option(help: "Seconds to measure.") var duration = 10.0
    @Option(help: "Seconds of warm-up before measuring.") var warmup = 2.0
    @Option(help: "Driver ids are drawn from 1001 ..< 1001 + drivers.") var drivers = 10_000
    @Option(help: "Customer ids are drawn from 5001 ..< 5001 + customers.") var customers = 100_000
    @Option(help: "The feature service of the service scenarios.") var service = "driver_ranking_v1"
    @Option(help: "The view of the 1x1 scenario.") var view = "driver_stats"
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Option(help: "unary (GetOnlineFeatures, one call per lookup) or stream (LookupStream: --concurrency streams, each with up to --depth lookups outstanding).")
    var mode: Mode = .unary
    @Option(help: "Stream mode: lookups outstanding per stream (sent before their answers come back).") var depth = 4

    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case unary, stream
    }

    var entitiesPerCall: Int { scenario == .hundredByService ? 100 : 1 }

    /// One lookup: what and for whom.
    struct Lookup: Sendable {
        var selection: FeatureSelection
        var entities: EntityKeys
    }

    /// 4,096 lookups with random keys, built before the clock starts.
    func requests() -> [Lookup] {
        var rng = SystemRandomNumberGenerator()
        return (0..<4096).map { _ in
            let ids = (0..<entitiesPerCall).map { _ in Int64(1001 + Int.random(in: 0..<drivers, using: &rng)) }
            switch scenario {
            case .oneByView:
                return Lookup(selection: .features([view]), entities: .int64("driver_id", ids))
            case .oneByService, .hundredByService:
                let customerIDs = (0..<entitiesPerCall).map { _ in Int64(5001 + Int.random(in: 0..<customers, using: &rng)) }
                return Lookup(selection: .service(service), entities: .int64("driver_id", ids).with("customer_id", .int64(customerIDs)))
            }
        }
    }

    func run() async throws {
        let requests = requests()
        // One address per connection: the client's round-robin spreads the callers over them.
        let configuration = ClientConfiguration(endpoints: Array(repeating: .init(host: host, port: port), count: max(1, connections)),
                                                timeout: .seconds(30), retry: .none)
        let result = try await withFeatureStoreClient(configuration) { client in
            switch mode {
            case .unary: return try await measure(client, requests)
            case .stream: return try await measureStreams(client, requests)
            }
        }
        report(result)
    }

    struct Measurement: Sendable {
        var latencies: [Int64]  // nanoseconds, sorted
        var seconds: Double
        var errors: Int
        var present: Int
        var values: Int

        /// The callers' measurements as one, latencies sorted.
        init(merging parts: [Measurement], seconds: Double) {
            self.init(latencies: parts.flatMap(\.latencies).sorted(), seconds: seconds, errors: parts.reduce(0) { $0 + $1.errors },
                      present: parts.reduce(0) { $0 + $1.present }, values: parts.reduce(0) { $0 + $1.values })
        }

        init(latencies: [Int64], seconds: Double, errors: Int, present: Int, values: Int) {
            self.latencies = latencies
            self.seconds = seconds
            self.errors = errors
            self.present = present
            self.values = values
        }

        mutating func count(_ answer: OnlineFeatures) {
            for column in answer.columns {
                values += column.statuses.count
                present += column.statuses.lazy.filter { $0 == .present }.count
            }
        }
    }

    /// `callers` tasks, each looking up in a loop with `lookup` until the end; latencies from the warm-up's end on.
    func measure(callers: Int, _ requests: [Lookup], _ lookup: @escaping @Sendable (Int, Lookup) async throws -> OnlineFeatures) async throws -> Measurement {
        let clock = ContinuousClock()
        let start = clock.now
        let measureFrom = start + .milliseconds(Int(warmup * 1000))
        let end = measureFrom + .milliseconds(Int(duration * 1000))
        let perWorker = try await withThrowingTaskGroup(of: Measurement.self) { group in
            for worker in 0..<callers {
                group.addTask {
                    var m = Measurement(latencies: [], seconds: 0, errors: 0, present: 0, values: 0)
                    m.latencies.reserveCapacity(200_000)
                    var i = worker * 97
                    while true {
                        let t0 = clock.now
                        if t0 >= end { break }
                        let request = requests[i % requests.count]
                        i += 1
                        do {
                            let answer = try await lookup(worker, request)
                            let t1 = clock.now
                            if t0 >= measureFrom {
                                m.latencies.append((t1 - t0).nanoseconds)
                                m.count(answer)
                            }
                        } catch {
                            if t0 >= measureFrom { m.errors += 1 }
                        }
                    }
                    return m
                }
            }
            var all: [Measurement] = []
            for try await m in group { all.append(m) }
            return all
        }
        return Measurement(merging: perWorker, seconds: duration)
    }

    /// Unary mode: `concurrency` callers, one GetOnlineFeatures call per lookup.
    func measure(_ client: FeatureStoreClient, _ requests: [Lookup]) async throws -> Measurement {
        try await measure(callers: concurrency, requests) { _, lookup in
            try await client.onlineFeatures(lookup.selection, entities: lookup.entities)
        }
    }

    /// Stream mode: `concurrency` LookupStreams, each shared by `depth` callers (so up to `depth` lookups
    /// outstanding per stream); a lookup's latency runs from its send to its answer.
    func measureStreams(_ client: FeatureStoreClient, _ requests: [Lookup]) async throws -> Measurement {
        let depth = max(1, self.depth)
        let perStream = try await withThrowingTaskGroup(of: Measurement.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    try await client.withLookupStream { stream in
                        try await measure(callers: depth, requests) { _, lookup in
                            try await stream.lookup(lookup.selection, entities: lookup.entities)
                        }
                    }
                }
            }
            var all: [Measurement] = []
            for try await m in group { all.append(m) }
            return all
        }
        return Measurement(merging: perStream, seconds: duration)
    }

    func report(_ m: Measurement) {
        func percentile(_ p: Double) -> Double {
            guard !m.latencies.isEmpty else { return .nan }
            let index = min(m.latencies.count - 1, Int((Double(m.latencies.count) * p).rounded(.up)) - 1)
            return Double(m.latencies[max(0, index)]) / 1e6
        }
        let calls = Double(m.latencies.count) / m.seconds
        let fields: [(String, String)] = [
            ("mode", mode == .stream ? "stream(depth \(depth))" : "unary"), ("scenario", scenario.rawValue), ("concurrency", "\(concurrency)"), ("connections", "\(connections)"),
            ("calls_per_s", String(format: "%.0f", calls)), ("entities_per_s", String(format: "%.0f", calls * Double(entitiesPerCall))),
            ("p50_ms", String(format: "%.3f", percentile(0.50))), ("p99_ms", String(format: "%.3f", percentile(0.99))),
            ("p999_ms", String(format: "%.3f", percentile(0.999))), ("calls", "\(m.latencies.count)"), ("errors", "\(m.errors)"),
            ("present_fraction", String(format: "%.3f", m.values == 0 ? 0 : Double(m.present) / Double(m.values))),
        ]
        if json {
            print("{" + fields.map { "\"\($0.0)\": " + (Double($0.1) != nil ? $0.1 : "\"\($0.1)\"") }.joined(separator: ", ") + "}")
        } else {
            print(fields.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
