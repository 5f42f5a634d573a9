// Stream ingestion benchmark (bench/ingest.sh): librdkafka's mock cluster in this process, a repository with three
// stream views on one topic, and 1 KB JSON events.
//   throughput: N events produced first, then timed from the first message consumed to the last one written
//               (online into SQLite and offline into Parquet files: a full ingestion, not only the online write).
//   freshness:  a producer thread at a steady rate with event time = now; freshness (time written online - event
//               time) recorded per row through the same metrics hook FeatureServer uses.
//   --online-store YAML: the repository's online_store block as a flow mapping (default: the embedded SQLite store),
//               e.g. '{kind: redis, cluster: true, nodes: [127.0.0.1:27101]}' (bench/redis.sh).
//   --aggregated 1: a fourth view on the same stream aggregates it (count, sum and max of cart_value over 1h, 1d and
//               7d: 9 features, tiles updated exactly once with the partitions' positions).
//   --format avro --registry URL: the same events as Avro records in the Confluent wire format (schema registered in the
//               registry at URL, which bench/ingest_avro.sh starts), decoded by the avro format instead of JSON.
// Usage: ingest-bench [--events N] [--rate R] [--seconds S] [--partitions P] [--mode throughput|freshness|both] [--aggregated 1] [--online-store YAML] [--format json|avro --registry URL]
import AvroMessageFormat
import JSONMessageFormat
import KafkaTransport
import CoreMetrics
import FeatureStoreCore
import Foundation
import Kafka
import LocalOfflineEngine
import RedisOnlineStore
import SQLiteOnlineStore
import StreamIngestion
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif


struct Options {
    var events = 300_000
    var rate = 10_000
    var seconds = 20
    var partitions = 6
    var mode = "both"
    var exportTo: String? = nil
    var aggregated = false
    var onlineStore: String? = nil
    var format = "json"
    var registry: String? = nil

    init(_ args: [String]) {
        var i = 1
        while i < args.count {
            let value = i + 1 < args.count ? args[i + 1] : ""
            switch args[i] {
            case "--events": events = Int(value) ?? events
            case "--rate": rate = Int(value) ?? rate
            case "--seconds": seconds = Int(value) ?? seconds
            case "--partitions": partitions = Int(value) ?? partitions
            case "--mode": mode = value
            case "--export": exportTo = value
            case "--aggregated": aggregated = value == "1"
            case "--online-store": onlineStore = value
            case "--format": format = value
            case "--registry": registry = value
            default: fatalError("unknown option \(args[i])")
            }
            i += 2
        }
    }
}

let definitions = """
    entities:
      - {name: user, join_keys: [{name: user_id, type: int64}]}
    sources:
      - {name: events_batch, kind: parquet, path: data/events, timestamp_field: ts}
      - {name: events_stream, kind: kafka, topic: events, format: FORMAT, batch_source: events_batch, timestamp_field: ts}
    feature_views:
      - name: clicks
        entities: [user]
        source: events_stream
        ttl: 1d
        features: [{name: clicks_1m, type: int64}, {name: clicks_1h, type: int64}, {name: ctr_1h, type: float64}, {name: last_page, type: string}]
      - name: sessions
        entities: [user]
        source: events_stream
        ttl: 1d
        features: [{name: session_seconds, type: float64}, {name: pages_in_session, type: int32}, {name: is_mobile, type: bool}, {name: country, type: string}]
      - name: purchases
        entities: [user]
        source: events_stream
        ttl: 1d
        features: [{name: cart_value, type: float64}, {name: items_in_cart, type: int32}, {name: purchases_7d, type: int64}, {name: last_category, type: string}]

    """

/// A 1 KB event: 12 features over three views, plus a context field no view reads (real events carry more than
/// what features use).
func makeEvent(user: Int, ts: Int64, rng: inout SystemRandomNumberGenerator) -> [UInt8] {
    let countries = ["DE", "FR", "US", "BR", "IN", "JP"], pages = ["/home", "/search", "/item/42", "/cart", "/checkout"]
    var s = #"{"user_id": \#(user), "ts": \#(ts), "clicks_1m": \#(Int.random(in: 0..<20, using: &rng)), "clicks_1h": \#(Int.random(in: 0..<500, using: &rng)), "#
    s += #""ctr_1h": \#(Double.random(in: 0..<1, using: &rng)), "last_page": "\#(pages[Int.random(in: 0..<5, using: &rng)])", "#
    s += #""session_seconds": \#(Double.random(in: 0..<3600, using: &rng)), "pages_in_session": \#(Int.random(in: 0..<50, using: &rng)), "#
    s += #""is_mobile": \#(Bool.random(using: &rng)), "country": "\#(countries[Int.random(in: 0..<6, using: &rng)])", "#
    s += #""cart_value": \#(Double.random(in: 0..<500, using: &rng)), "items_in_cart": \#(Int.random(in: 0..<12, using: &rng)), "#
    s += #""purchases_7d": \#(Int.random(in: 0..<9, using: &rng)), "last_category": "electronics", "context": ""#
    let padding = 1000 - s.utf8.count - 2
    s += String(repeating: "x", count: max(0, padding)) + "\"}"
    return Array(s.utf8)
}

/// The schema of the Avro events: the JSON events' fields with their types.
let avroSchema = #"{"type":"record","name":"Event","namespace":"bench","fields":[{"name":"user_id","type":"long"},{"name":"ts","type":{"type":"long","logicalType":"timestamp-micros"}},{"name":"clicks_1m","type":"long"},{"name":"clicks_1h","type":"long"},{"name":"ctr_1h","type":"double"},{"name":"last_page","type":"string"},{"name":"session_seconds","type":"double"},{"name":"pages_in_session","type":"int"},{"name":"is_mobile","type":"boolean"},{"name":"country","type":"string"},{"name":"cart_value","type":"double"},{"name":"items_in_cart","type":"int"},{"name":"purchases_7d","type":"long"},{"name":"last_category","type":"string"},{"name":"context","type":"string"}]}"#

/// Registers the Avro schema under `events-value` and returns its id.
func registerAvroSchema(registry: String) async throws -> Int32 {
    var request = URLRequest(url: URL(string: registry)!.appendingPathComponent("subjects/events-value/versions"))
    request.httpMethod = "POST"
    request.setValue("application/vnd.schemaregistry.v1+json", forHTTPHeaderField: "Content-Type")
    request.setValue("Basic " + Data("bench:bench".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
    request.httpBody = try JSONSerialization.data(withJSONObject: ["schema": avroSchema])
    let (data, _) = try await URLSession.shared.data(for: request)
    let answer = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    guard let id = answer?["id"] as? Int else { fatalError("the registry did not register the schema: \(String(decoding: data, as: UTF8.self))") }
    return Int32(id)
}

/// The same event as ``makeEvent(user:ts:rng:)``, as an Avro record in the Confluent wire format.
func makeAvroEvent(user: Int, ts: Int64, schemaID: Int32, rng: inout SystemRandomNumberGenerator) -> [UInt8] {
    var out: [UInt8] = [0, UInt8(truncatingIfNeeded: schemaID >> 24), UInt8(truncatingIfNeeded: schemaID >> 16),
                        UInt8(truncatingIfNeeded: schemaID >> 8), UInt8(truncatingIfNeeded: schemaID)]
    out.reserveCapacity(1024)
    func long(_ v: Int64) {
        var n = UInt64(bitPattern: (v << 1) ^ (v >> 63))
        while n >= 0x80 { out.append(UInt8(n & 0x7f) | 0x80); n >>= 7 }
        out.append(UInt8(n))
    }
    func double(_ d: Double) { withUnsafeBytes(of: d.bitPattern.littleEndian) { out += $0 } }
    func string(_ s: String) { long(Int64(s.utf8.count)); out += s.utf8 }
    let countries = ["DE", "FR", "US", "BR", "IN", "JP"], pages = ["/home", "/search", "/item/42", "/cart", "/checkout"]
    long(Int64(user)); long(ts)
    long(Int64.random(in: 0..<20, using: &rng)); long(Int64.random(in: 0..<500, using: &rng))
    double(Double.random(in: 0..<1, using: &rng)); string(pages[Int.random(in: 0..<5, using: &rng)])
    double(Double.random(in: 0..<3600, using: &rng)); long(Int64.random(in: 0..<50, using: &rng))
    out.append(Bool.random(using: &rng) ? 1 : 0); string(countries[Int.random(in: 0..<6, using: &rng)])
    double(Double.random(in: 0..<500, using: &rng)); long(Int64.random(in: 0..<12, using: &rng))
    long(Int64.random(in: 0..<9, using: &rng)); string("electronics")
    // The same context padding as the JSON event's.
    string(String(repeating: "x", count: 560))
    return out
}

func micros() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }

func percentile(_ sorted: [Int64], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1000
}

/// Records the freshness histogram's raw samples (microseconds) instead of bucketing them.
final class FreshnessRecorder: MetricsFactory, @unchecked Sendable {
    let samples = Mutex<[Int64]>([])
    /// The view whose rows are recorded.
    let view: String
    init(view: String) { self.view = view }
    final class Timer: TimerHandler, @unchecked Sendable {
        let owner: FreshnessRecorder
        init(_ owner: FreshnessRecorder) { self.owner = owner }
        func recordNanoseconds(_ duration: Int64) { owner.samples.withLock { $0.append(duration / 1000) } }
    }
    final class Nothing: CounterHandler, RecorderHandler, @unchecked Sendable {
        func increment(by: Int64) {}
        func reset() {}
        func record(_ value: Int64) {}
        func record(_ value: Double) {}
    }
    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { Nothing() }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { Nothing() }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        label == "featurestore_stream_freshness_seconds" && dimensions.first?.1 == view ? Timer(self) : NothingTimer()
    }
    final class NothingTimer: TimerHandler, @unchecked Sendable { func recordNanoseconds(_ duration: Int64) {} }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

let aggregatedView = """
      - name: user_activity
        entities: [user]
        source: events_stream
        aggregations:
          - {function: count, windows: [1h, 1d, 7d]}
          - {column: cart_value, type: float64, function: sum, windows: [1h, 1d, 7d]}
          - {column: cart_value, type: float64, function: max, windows: [1h, 1d, 7d]}

    """

func makeRepository(kafka: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try """
        project: bench
        kafka:
          bootstrap_servers: "\(kafka)"
          offline_roll_interval: 30s
          properties: {session.timeout.ms: "6000", heartbeat.interval.ms: "500", fetch.wait.max.ms: "20"}
        \(options.onlineStore.map { "online_store: \($0)" } ?? "")

        """.write(to: dir.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
    let format = options.format == "avro"
        ? "{kind: avro, schema_registry: {url: \"\(options.registry!)\", basic_auth_user_info_env: BENCH_REGISTRY_AUTH}}" : "json"
    try (definitions.replacingOccurrences(of: "format: FORMAT", with: "format: \(format)") + (options.aggregated ? aggregatedView : "")).write(to: dir.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
    return dir
}

func waitForAssignment(_ ingestor: StreamIngestor) async {
    let deadline = ContinuousClock.now + .seconds(30)
    while ingestor.assignment.isEmpty && ContinuousClock.now < deadline { await ingestor.runOnce() }
}

let options = Options(CommandLine.arguments)
let users = 100_000

// MARK: Throughput
if options.mode == "throughput" || options.mode == "both" {
    let cluster = try KafkaMockCluster(brokers: 1)
    try cluster.createTopic("events", partitions: options.partitions)
    let producer = try KafkaProducer(properties: ["bootstrap.servers": cluster.bootstrapServers, "linger.ms": "20", "batch.num.messages": "10000"])
    var rng = SystemRandomNumberGenerator()
    // Event times in the last 30 minutes: within the allowed lateness (1h) of aggregated views when ingested.
    let base = micros() - 1_800_000_000
    let schemaID = options.format == "avro" ? try await registerAvroSchema(registry: options.registry!) : 0
    if options.format == "avro" { setenv("BENCH_REGISTRY_AUTH", "bench:bench", 1) }
    var payloadBytes = 0
    for i in 0..<options.events {
        let payload = options.format == "avro" ? makeAvroEvent(user: i % users, ts: base + Int64(i), schemaID: schemaID, rng: &rng)
            : makeEvent(user: i % users, ts: base + Int64(i), rng: &rng)
        payloadBytes += payload.count
        try producer.produce(topic: "events", key: Array("\(i % users)".utf8), value: payload)
    }
    try producer.flush(timeout: .seconds(120))
    FileHandle.standardError.write(Data("produced \(options.events) events\n".utf8))
    let repo = try makeRepository(kafka: cluster.bootstrapServers)
    defer { try? FileManager.default.removeItem(at: repo) }
    let store = try FeatureStore(repository: repo, kinds: .sqlite + .redis + .local + .kafka + .json + .avro)
    _ = try await store.onlineStore()
    let ingestor = try StreamIngestor(store: store, batchSize: 10_000)
    // The clock starts at the first message (joining the group takes seconds and is not ingestion).
    var start = ContinuousClock.now
    while ingestor.statistics.snapshot.messages == 0 {
        start = ContinuousClock.now
        await ingestor.runOnce()
    }
    while ingestor.statistics.snapshot.messages < options.events { await ingestor.runOnce() }
    await ingestor.close()  // writes the buffered offline files and commits
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let s = ingestor.statistics.snapshot
    let rate = Double(options.events) / seconds
    print(String(format: "throughput: %d events (\(options.format) of %d bytes on average, \(options.aggregated ? "3 views + 1 aggregated (9 features)" : "3 views"), %d partitions) in %.2f s = %.0f events/s; rows written online %d (of %d), offline rows %d in %d files",
                 options.events, payloadBytes / max(1, options.events), options.partitions, seconds, rate, s.rowsWritten.values.reduce(0, +), s.rowsReceived.values.reduce(0, +),
                 s.offlineRows.values.reduce(0, +), s.offlineFiles))
    print("RESULT throughput_events_per_s \(Int(rate))")
    fflush(nil)
    if let path = options.exportTo {
        // For the peer, after our run: the same cluster's address, kept up until it has read the topic (the
        // script deletes the file when done).
        try cluster.bootstrapServers.write(toFile: path, atomically: true, encoding: .utf8)
        while FileManager.default.fileExists(atPath: path) { usleep(100_000) }
    }
}

// MARK: Freshness at a steady rate
if options.mode == "freshness" || options.mode == "both" {
    let cluster = try KafkaMockCluster(brokers: 1)
    try cluster.createTopic("events", partitions: options.partitions)
    let repo = try makeRepository(kafka: cluster.bootstrapServers)
    defer { try? FileManager.default.removeItem(at: repo) }
    let store = try FeatureStore(repository: repo, kinds: .sqlite + .redis + .local + .kafka + .json + .avro)
    _ = try await store.onlineStore()
    let recorder = FreshnessRecorder(view: options.aggregated ? "user_activity" : "clicks")
    let ingestor = try StreamIngestor(store: store, batchSize: 10_000, pollTimeout: .milliseconds(50), metrics: recorder)
    await waitForAssignment(ingestor)
    let stop = Atomic<Bool>(false)
    let rate = options.rate
    let producerThread = Thread {
        let producer = try! KafkaProducer(properties: ["bootstrap.servers": cluster.bootstrapServers, "linger.ms": "1"])
        var rng = SystemRandomNumberGenerator()
        let tick = 0.005  // produce in 5 ms slices of rate/200 events
        let perTick = max(1, Int(Double(rate) * tick))
        var next = Date()
        var i = 0
        while !stop.load(ordering: .relaxed) {
            for _ in 0..<perTick {
                try! producer.produce(topic: "events", key: Array("\(i % users)".utf8), value: makeEvent(user: i % users, ts: micros(), rng: &rng))
                i += 1
            }
            next += tick
            let wait = next.timeIntervalSinceNow
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
        }
        try? producer.flush()
    }
    producerThread.start()
    // 3 s of warm-up, then measure.
    let warmUp = ContinuousClock.now + .seconds(3)
    while ContinuousClock.now < warmUp { await ingestor.runOnce() }
    recorder.samples.withLock { $0.removeAll() }
    let before = ingestor.statistics.snapshot.messages
    let start = ContinuousClock.now
    let end = start + .seconds(options.seconds)
    while ContinuousClock.now < end { await ingestor.runOnce() }
    let consumed = ingestor.statistics.snapshot.messages - before
    stop.store(true, ordering: .relaxed)
    await ingestor.close()
    let samples = recorder.samples.withLock { $0 }.sorted()
    print(String(format: "freshness at %d events/s for %d s (%d events consumed, %.0f/s): p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms (time written online - event time, view \(recorder.view))",
                 rate, options.seconds, consumed, Double(consumed) / Double(options.seconds), percentile(samples, 0.5), percentile(samples, 0.9),
                 percentile(samples, 0.99), percentile(samples, 1.0)))
    print("RESULT freshness_p50_ms \(percentile(samples, 0.5))")
    print("RESULT freshness_p99_ms \(percentile(samples, 0.99))")
}
