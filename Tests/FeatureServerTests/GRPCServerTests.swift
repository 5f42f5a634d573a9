import TestKinds
import Columnar
import Parquet
import FeatureServing
import FeatureServingAPI
import FeatureStoreCore
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import ServiceLifecycle
import SwiftProtobuf
import Testing

@Suite("FeatureServer over gRPC", .serialized, .timeLimit(.minutes(5)))
struct GRPCServerTests {
    @Test("push then read by refs and by service: values, statuses and event times, with composite keys")
    func pushThenRead() async throws {
        let f = try await ServerFixture()
        defer { Task { try? await f.stop() } }
        try await f.withClient { client in
            let pushed = try await push(client, ids: [1, 2, 3], agesSeconds: [10, 10, 5400], conv: [0.5, nil, 0.9])
            #expect(pushed.rowsReceived == 3 && pushed.rowsWritten == 3)
            _ = try await client.pushFeatures(.with {
                $0.featureView = "route_stats"
                $0.entities = ["origin": strings(["A"]), "dest": strings(["B"])]
                $0.eventTimestampsMicros = [1_000]
                $0.features = ["minutes": .with { $0.values = [doubleValue(12.5)] }]
            })
            let byRefs = try await client.getOnlineFeatures(.with {
                $0.entities = ["driver_id": ints([1, 2, 3, 4])]
                $0.featureRefs = .with { $0.refs = ["stats:conv"] }
            })
            #expect(byRefs.featureNames == ["conv"])
            #expect(byRefs.features[0].statuses == [.present, .nullValue, .outsideMaxAge, .notFound])
            #expect(byRefs.features[0].values.map(\.doubleValue) == [0.5, 0, 0, 0])
            #expect(byRefs.features[0].eventTimestampsMicros[3] == 0 && byRefs.features[0].eventTimestampsMicros[0] > 0)

            let byService = try await client.getOnlineFeatures(.with {
                $0.entities = ["driver_id": ints([1]), "origin": strings(["A"]), "dest": strings(["B"])]
                $0.featureService = "ranking"
                $0.fullFeatureNames = true
            })
            #expect(byService.featureNames == ["stats__conv", "stats__trips", "stats__tags", "route_stats__minutes"])
            #expect(byService.features[3].values[0].doubleValue == 12.5)
            #expect(byService.features[3].statuses == [.present])
        }
        try await f.stop()
    }

    @Test("a late push never overwrites a newer value")
    func latePush() async throws {
        let f = try await ServerFixture()
        try await f.withClient { client in
            _ = try await push(client, ids: [7], agesSeconds: [10], conv: [0.8])
            let late = try await push(client, ids: [7], agesSeconds: [100], conv: [0.1])
            #expect(late.rowsWritten == 0)
            let read = try await client.getOnlineFeatures(.with {
                $0.entities = ["driver_id": ints([7])]
                $0.featureRefs = .with { $0.refs = ["stats:conv"] }
            })
            #expect(read.features[0].values[0].doubleValue == 0.8)
        }
        try await f.stop()
    }

    @Test("bad requests are INVALID_ARGUMENT naming the field", arguments: [
        ("unknown view", "no feature view 'stat'"),
        ("unknown feature", "feature view 'stats' has no feature 'conf'"),
        ("unknown service", "no feature service 'rank'"),
        ("unknown key", "entities[driver]: no entity has the join key 'driver'"),
        ("missing key", "missing join key 'driver_id'"),
        ("wrong type", "entities[driver_id][0]: string values for a join key of type int64"),
        ("empty batch", "entities: empty batch"),
        ("over limit", "entities: 6 rows, over the limit of 5"),
        ("bad ref", "feature_refs.refs[0]: 'a:b:c' is not 'view' or 'view:feature'"),
        ("push wrong type", "features[conv][0]: a string value for a feature of type float64"),
        ("push unknown feature", "features[speed]: feature view 'stats' has no feature 'speed'"),
    ])
    func badRequests(label: String, message: String) async throws {
        let f = try await ServerFixture(maxBatch: 5)
        let error: RPCError? = try await f.withClient { client in
            do {
                switch label {
                case "unknown view", "unknown feature", "unknown key", "missing key", "wrong type", "empty batch", "over limit", "bad ref", "unknown service":
                    _ = try await client.getOnlineFeatures(.with {
                        switch label {
                        case "unknown key": $0.entities = ["driver": ints([1])]
                        case "missing key": $0.entities = ["origin": strings(["A"])]
                        case "wrong type": $0.entities = ["driver_id": strings(["x"])]
                        case "empty batch": $0.entities = ["driver_id": ints([])]
                        case "over limit": $0.entities = ["driver_id": ints([1, 2, 3, 4, 5, 6])]
                        default: $0.entities = ["driver_id": ints([1])]
                        }
                        switch label {
                        case "unknown view": $0.featureRefs = .with { $0.refs = ["stat:conv"] }
                        case "unknown feature": $0.featureRefs = .with { $0.refs = ["stats:conf"] }
                        case "unknown service": $0.featureService = "rank"
                        case "bad ref": $0.featureRefs = .with { $0.refs = ["a:b:c"] }
                        default: $0.featureRefs = .with { $0.refs = ["stats:conv"] }
                        }
                    })
                default:
                    _ = try await client.pushFeatures(.with {
                        $0.featureView = "stats"
                        $0.entities = ["driver_id": ints([1])]
                        $0.eventTimestampsMicros = [1]
                        $0.features = [label == "push wrong type" ? "conv" : "speed": .with { $0.values = [.with { $0.stringValue = "fast" }] }]
                    })
                }
                return nil
            } catch let error as RPCError {
                return error
            }
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains(message) == true, "\(String(describing: error?.message))")
        try await f.stop()
    }

    @Test("health checking answers SERVING, NOT_FOUND for unknown services, and NOT_SERVING after shutdown begins")
    func health() async throws {
        let f = try await ServerFixture()
        try await withGRPCClient(transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: f.port), transportSecurity: .plaintext)) { client in
            let health = Grpc_Health_V1_Health.Client(wrapping: client)
            let whole = try await health.check(.with { $0.service = "" }).status
            let serving = try await health.check(.with { $0.service = "featurestore.v1.FeatureServing" }).status
            #expect(whole == .serving && serving == .serving)
            await #expect(throws: RPCError.self) { _ = try await health.check(.with { $0.service = "nope" }) }
            f.core.health.markNotServing()
            let after = try await health.check(.with { $0.service = "" }).status
            #expect(after == .notServing)
        }
        try await f.stop()
    }

    @Test("catalog calls list views and services and get one view")
    func catalog() async throws {
        let f = try await ServerFixture()
        try await f.withClient { client in
            let views = try await client.listFeatureViews(.init())
            #expect(views.featureViews.map(\.name) == ["route_stats", "stats"])
            let stats = try await client.getFeatureView(.with { $0.name = "stats" })
            #expect(stats.ttlSeconds == 3600 && stats.joinKeys.map(\.name) == ["driver_id"])
            #expect(stats.features.map(\.type) == ["float64", "int64", "list<string>"])
            let services = try await client.listFeatureServices(.init())
            #expect(services.featureServices.map(\.features) == [["stats", "route_stats"]])
            await #expect(throws: RPCError.self) { _ = try await client.getFeatureView(.with { $0.name = "nope" }) }
        }
        try await f.stop()
    }

    @Test("graceful shutdown lets every call the server received finish with its result, then stops and refuses connections")
    func gracefulShutdown() async throws {
      // Shutdown must begin while calls are outstanding; on a busy machine they can all finish before the test
      // notices the first, so the scenario is repeated (on a fresh server) until that happens.
      var overlapped = false
      for _ in 0..<5 where !overlapped {
        let f = try await ServerFixture()
        let (succeeded, refused, finishedBeforeShutdown) = try await f.withClient { client in
            _ = try await push(client, ids: [1], agesSeconds: [1], conv: [0.5])
            return try await withThrowingTaskGroup(of: Bool?.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        do {
                            let r = try await client.getOnlineFeatures(.with {
                                $0.entities = ["driver_id": ints(Array(1...10_000))]
                                $0.featureRefs = .with { $0.refs = ["stats"] }
                            })
                            return r.entityCount == 10_000 && r.features[0].statuses[0] == .present
                        } catch let error as RPCError where error.code == .unavailable {
                            return nil  // sent after shutdown began: refused before any work, the client may retry
                        }
                    }
                }
                // Shut down (as SIGTERM does) as soon as the server has received a call, while the others are in flight.
                try await waitUntil("the server to receive a call") { f.core.counters.total >= 2 }
                let finished = f.core.counters.total - f.core.counters.inFlight - 1
                await f.group.triggerGracefulShutdown()
                var ok = 0, refused = 0
                for try await result in group {
                    if let result { ok += result ? 1 : 0 } else { refused += 1 }
                }
                return (ok, refused, finished)
            }
        }
        overlapped = finishedBeforeShutdown < 16
        #expect(succeeded == f.core.counters.total - 1, "every lookup the server received came back with its result")
        #expect(succeeded + refused == 16)
        try await f.task.value  // the group ends once the calls are done
        await #expect(throws: (any Error).self) {
            try await f.withClient { client in _ = try await client.listFeatureViews(.init()) }
        }
        try? FileManager.default.removeItem(at: f.dir)
      }
      #expect(overlapped, "shutdown began while calls were outstanding")
    }

    @Test("the repository reloads after apply without a restart")
    func reloadAfterApply() async throws {
        let f = try await ServerFixture()
        let changed = ServerFixture.definitions.replacingOccurrences(of: "{name: minutes, type: float64}", with: "{name: minutes, type: float64}, {name: surge, type: float32}")
        try changed.write(to: f.dir.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
        try await FeatureStore(repository: f.dir, kinds: testKinds).apply()
        var seen: [String] = []
        for _ in 0..<50 {
            seen = try await f.withClient { client in try await client.getFeatureView(.with { $0.name = "route_stats" }).features.map(\.name) }
            if seen.contains("surge") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(seen == ["minutes", "surge"])
        try await f.stop()
    }

    @Test("a reload whose definitions do not compile keeps serving the previous ones, and the next good apply loads")
    func failedReloadKeepsDefinitions() async throws {
        let f = try await ServerFixture()
        let repository = try ServedRepository(url: f.dir, kinds: testKinds)
        let defs = f.dir.appendingPathComponent("defs.yaml")
        let surge = ServerFixture.definitions.replacingOccurrences(of: "{name: minutes, type: float64}", with: "{name: minutes, type: float64}, {name: surge, type: float32}")
        try surge.write(to: defs, atomically: true, encoding: .utf8)
        try await FeatureStore(repository: f.dir, kinds: testKinds).apply()
        // Between the apply and the reload, the files are broken (a typo in a reference).
        try surge.replacingOccurrences(of: "source: route_src", with: "source: route_srcc").write(to: defs, atomically: true, encoding: .utf8)
        #expect(repository.reloadIfApplied() == false)
        #expect(repository.store.registry.featureView(named: "route_stats")?.features.map(\.name) == ["minutes"], "the previous definitions")
        #expect(repository.reloadIfApplied() == false, "the same apply is not retried")
        // Fixed and applied again: the reload takes it.
        try surge.write(to: defs, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .milliseconds(5)) // a distinct apply time
        try await FeatureStore(repository: f.dir, kinds: testKinds).apply()
        #expect(repository.reloadIfApplied() == true)
        #expect(repository.store.registry.featureView(named: "route_stats")?.features.map(\.name) == ["minutes", "surge"])
        try await f.stop()
    }
}

@Suite("Aggregated features over gRPC and HTTP", .timeLimit(.minutes(5)))
struct AggregatedServingTests {
    @Test("lookups of aggregated features over gRPC and HTTP/JSON give the library's values, statuses PRESENT, counts of 0 for unknown drivers")
    func aggregatedLookups() async throws {
        let f = try await ServerFixture(extraDefinitions: """
            sources:
              - {name: trips_src, kind: parquet, path: data/trips.parquet, timestamp_field: ts}
            feature_views:
              - name: trip_stats
                entities: [driver]
                source: trips_src
                aggregations:
                  - {function: count, windows: [7d]}
                  - {column: fare, function: sum, type: float64, windows: [7d]}

            """)
        let now = Int64(Date().timeIntervalSince1970) * 1_000_000
        let day: Int64 = 86_400_000_000
        try FileManager.default.createDirectory(at: f.dir.appendingPathComponent("data"), withIntermediateDirectories: true)
        try ParquetFileWriter.write(try Table([
            ("driver_id", Column(int64: [1, 1, 2, 1])),
            ("ts", Column(timestamps: [now - 2 * day, now - day, now - day, now - 9 * day])),
            ("fare", Column(float64: [10.5, 2.25, 7, 100])),
        ]), to: f.dir.appendingPathComponent("data/trips.parquet").path)
        let store = try FeatureStore(repository: f.dir, kinds: testKinds)
        _ = try await store.materialize(start: now - 30 * day, end: now, views: ["trip_stats"])
        let grpc = try await f.withClient { client in
            try await client.getOnlineFeatures(.with {
                $0.entities = ["driver_id": ints([1, 2, 3])]
                $0.featureRefs = .with { $0.refs = ["trip_stats"] }
            })
        }
        #expect(grpc.featureNames == ["count_7d", "fare_sum_7d"])
        #expect(grpc.features[0].values.map(\.int64Value) == [2, 1, 0])
        #expect(grpc.features[1].values.map(\.doubleValue) == [12.75, 7, 0])
        #expect(grpc.features[0].statuses == [.present, .present, .present])
        #expect(grpc.features[1].statuses == [.present, .present, .nullValue])
        let http = try await f.http("POST", "/v1/online-features", json: #"{"features": ["trip_stats"], "entities": {"driver_id": [1, 2, 3]}}"#)
        #expect(http.status == 200 && http.body.contains(#""values":[2,1,0]"#) && http.body.contains(#""values":[12.75,7.0,null]"#), "\(http.body)")
        try await f.stop()
    }
}
