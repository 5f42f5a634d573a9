import Columnar
import FeatureStoreCore
import Foundation
import Kafka
import Parquet
import StreamIngestion
import Testing

/// A Schema Registry served by `Interop/schema_registry.py` (the real one's REST answers, basic authentication).
final class TestSchemaRegistry: @unchecked Sendable {
    let process = Process()
    let port: Int
    static let credentials = "reader:s3cret"
    var url: String { "http://127.0.0.1:\(port)" }

    /// A registry on `port` (0: any free port).
    init(port: Int = 0) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        process.executableURL = URL(fileURLWithPath: pythonPath())
        process.arguments = [root.appendingPathComponent("Interop/schema_registry.py").path, Self.credentials, String(port)]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        // The first line is the port.
        var line: [UInt8] = []
        let fd = out.fileHandleForReading.fileDescriptor
        while true {
            var b: UInt8 = 0
            guard read(fd, &b, 1) == 1 else { throw IngestionError("schema_registry.py exited before printing its port") }
            if b == 0x0a { break }
            line.append(b)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else { throw IngestionError("schema_registry.py printed no port") }
        self.port = port
    }

    /// Killed outright: children of the test process may inherit a mask that blocks SIGTERM.
    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// The venv's Python (scripts/setup), or $PYTHON.
func pythonPath() -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return ProcessInfo.processInfo.environment["PYTHON"] ?? root.appendingPathComponent(".venv/bin/python").path
}

/// Runs a Python script of `Interop/` to completion on a thread of its own; returns its standard output.
func runPython(_ script: String, _ arguments: [String]) async throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: pythonPath())
    process.arguments = [root.appendingPathComponent("Interop/\(script)").path] + arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let (stdout, stderr, status): (Data, Data, Int32) = await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            let o = out.fileHandleForReading.readDataToEndOfFile()
            let e = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            continuation.resume(returning: (o, e, process.terminationStatus))
        }
    }
    guard status == 0 else { throw IngestionError("\(script) failed: \(String(decoding: stderr, as: UTF8.self))") }
    return String(decoding: stdout, as: UTF8.self)
}

@Suite("Avro with a Schema Registry (librdkafka mock cluster, confluent-kafka's serializer)", .serialized, .timeLimit(.minutes(5)))
struct AvroIngestionTests {
    static func definitions(registry: String) -> String {
        """
        entities:
          - {name: driver, join_keys: [{name: driver_id, type: int64}]}
        sources:
          - {name: trips_batch, kind: parquet, path: data/trips, timestamp_field: event_ts}
          - name: trips_stream
            kind: kafka
            topic: driver_events
            format:
              kind: avro
              schema_registry: {url: "\(registry)", basic_auth_user_info_file: registry.auth}
            batch_source: trips_batch
            timestamp_field: event_ts
        feature_views:
          - name: trips
            entities: [driver]
            source: trips_stream
            ttl: 0
            features:
              - {name: trips, type: int32}
              - {name: fare, type: float64}
              - {name: rating, type: float64}
              - {name: city, type: string}

        """
    }

    struct Sent: Decodable {
        var driver_id: Int64
        var event_ts_micros: Int64
        var trips: Int64
        var fare: String
        var rating: Double?
        var city: String
    }

    @Test("an Avro topic with two schema versions interleaved is ingested online and offline as sent; bad messages become dead letters with the reason")
    func avroSchemaEvolution() async throws {
        let registry = try TestSchemaRegistry()
        let f = try StreamFixture(partitions: 1, definitions: Self.definitions(registry: registry.url))
        try TestSchemaRegistry.credentials.write(to: f.dir.appendingPathComponent("registry.auth"), atomically: true, encoding: .utf8)
        let output = try await runPython("produce_avro.py", [f.cluster.bootstrapServers, StreamFixture.topic, registry.url, TestSchemaRegistry.credentials])
        let sent = try output.split(separator: "\n").map { try JSONDecoder().decode(Sent.self, from: Data($0.utf8)) }
        try #require(sent.count == 40)

        let ingestor = try StreamIngestor(store: f.store)
        try await f.ingest(ingestor, until: 44)
        let stats = ingestor.statistics.snapshot
        #expect(stats.bad == [.unknownSchema: 1, .malformed: 2, .wrongType: 1], "\(stats.bad)")
        #expect(stats.rowsReceived["trips"] == 40)

        // Online: each driver's newest event, v1 events with v2's defaults.
        var newest: [Int64: Sent] = [:]
        for s in sent where (newest[s.driver_id]?.event_ts_micros ?? .min) < s.event_ts_micros { newest[s.driver_id] = s }
        let drivers = newest.keys.sorted()
        let online = try await f.store.getOnlineFeatures(entities: ["driver_id": drivers.map { .int($0) }],
                                                         features: .references([FeatureReference(view: "trips")]))
        #expect(online.columns.map(\.name) == ["trips", "fare", "rating", "city"])
        #expect(online.columns[0].values == drivers.map { .int(newest[$0]!.trips) })
        #expect(online.columns[1].values == drivers.map { .double(Double(newest[$0]!.fare)!) })
        #expect(online.columns[2].values == drivers.map { newest[$0]!.rating.map { .double($0) } ?? .null })
        #expect(online.columns[3].values == drivers.map { .string(newest[$0]!.city) })
        #expect(online.columns[0].eventTimestamps == drivers.map { newest[$0]!.event_ts_micros })

        // Offline: the copy holds every good event, as sent.
        let table = try ParquetDataset(path: f.dir.appendingPathComponent("data/trips").path).read()
        #expect(table.rowCount == 40)
        func row(_ i: Int) -> String {
            ["driver_id", "event_ts", "trips", "fare", "rating", "city"].map { name in
                let column = table.column(named: name)!
                if name == "event_ts" { return integers(column)[i].map(String.init) ?? "null" }
                if name == "fare" || name == "rating" { return column.isNull(i) ? "null" : String(Double(column.text(at: i))!) }
                return column.text(at: i)
            }.joined(separator: "|")
        }
        let offline = Set((0..<table.rowCount).map(row))
        let expected = Set(sent.map { s in
            "\(s.driver_id)|\(s.event_ts_micros)|\(s.trips)|\(Double(s.fare)!)|\(s.rating.map { String($0) } ?? "null")|\(s.city)"
        })
        #expect(offline == expected)

        // Dead letters, in order, with the reason.
        let dead = try f.deadLetters(count: 4, group: "avro-dlq")
        try #require(dead.count == 4, "dead letters within 90 s: \(dead.count)")
        #expect(dead.compactMap { $0.header("x-featurestore-reason") } == ["unknown_schema", "malformed", "malformed", "wrong_type"])
        #expect(dead[0].header("x-featurestore-error")?.hasPrefix("schema id 999 is not in the registry") == true, "\(dead[0].header("x-featurestore-error") ?? "")")
        #expect(dead[1].header("x-featurestore-error") == "payload: not in the schema registry's wire format (its first byte is 104, not 0)")
        #expect(dead[2].header("x-featurestore-error")?.contains("truncated") == true, "\(dead[2].header("x-featurestore-error") ?? "")")
        #expect(dead[3].header("x-featurestore-error")?.contains("has no field 'trips'") == true, "\(dead[3].header("x-featurestore-error") ?? "")")
    }

    /// Avro's zig-zag varint of `v`.
    static func long(_ v: Int64) -> [UInt8] {
        var n = UInt64(bitPattern: (v << 1) ^ (v >> 63))
        var out: [UInt8] = []
        while n >= 0x80 { out.append(UInt8(n & 0x7f) | 0x80); n >>= 7 }
        out.append(UInt8(n))
        return out
    }

    @Test("an unreachable schema registry holds the batch back (retried, not dead-lettered, not committed); it is ingested once the registry answers")
    func unreachableRegistryRetries() async throws {
        // A free port, with nothing listening on it yet: the registry is down.
        let probe = try TestSchemaRegistry()
        let port = probe.port
        kill(probe.process.processIdentifier, SIGKILL)
        probe.process.waitUntilExit()
        let url = "http://127.0.0.1:\(port)"
        let f = try StreamFixture(partitions: 1, definitions: Self.definitions(registry: url))
        try TestSchemaRegistry.credentials.write(to: f.dir.appendingPathComponent("registry.auth"), atomically: true, encoding: .utf8)
        // Schema id 1 will be produce_avro.py's v1: driver 5, 2025-03-01T10:00Z, 7 trips, fare 1.00, no note.
        let v1 = [0, 0, 0, 0, 1] + Self.long(5) + Self.long(1_740_823_200_000) + Self.long(7) + Self.long(1) + [100] + Self.long(0)
        try f.producer.produce(topic: StreamFixture.topic, value: v1)
        try f.producer.flush()
        let ingestor = try StreamIngestor(store: f.store)
        var failures = 0
        let deadline = ContinuousClock.now + .seconds(60)
        while failures == 0 && ContinuousClock.now < deadline {
            // Returns after the first failed preparation: the batch is neither counted nor committed.
            await ingestor.runOnce(shouldContinue: { failures += 1; return false })
        }
        try #require(failures == 1, "the batch waited for the registry")
        #expect(ingestor.statistics.snapshot.messages == 0)
        #expect(ingestor.statistics.snapshot.bad.isEmpty)
        #expect(ingestor.statistics.snapshot.committed.isEmpty)

        let registry = try TestSchemaRegistry(port: port)
        _ = try await runPython("produce_avro.py", [f.cluster.bootstrapServers, StreamFixture.topic, registry.url, TestSchemaRegistry.credentials])
        // The held-back message is polled again by a fresh consumer (the first one moved past it without committing).
        await ingestor.close()
        let again = try StreamIngestor(store: f.store)
        try await f.ingest(again, until: 45)
        #expect(again.statistics.snapshot.bad == [.unknownSchema: 1, .malformed: 2, .wrongType: 1])
        let online = try await f.store.getOnlineFeatures(entities: ["driver_id": [.int(5)]], features: .references([FeatureReference(view: "trips")]))
        #expect(online.columns[0].values == [.int(7)])
        #expect(online.columns[1].values == [.double(1.0)])
        #expect(online.columns[3].values == [.string("unknown")], "v2's default for a v1 event")
    }
}
