import FeatureServing
import FeatureServingAPI
import FeatureStoreCore
import Foundation
import ServiceLifecycle
import SwiftProtobuf
import Testing

@Suite("FeatureServer over HTTP/JSON", .serialized, .timeLimit(.minutes(5)))
struct HTTPServerTests {
    @Test("push then read by refs and by service: Feast-shaped JSON with values, statuses and event times")
    func pushThenRead() async throws {
        let f = try await ServerFixture()
        let pushed = try await f.http("POST", "/v1/push", json: """
            {"feature_view": "stats", "entities": {"driver_id": [1, 2, 3]},
             "event_timestamps": ["\(iso(secondsAgo: 10))", "\(iso(secondsAgo: 10))", "\(iso(secondsAgo: 5400))"],
             "features": {"conv": [0.1, null, 0.9], "trips": [9007199254740993, 2, 3], "tags": [["a", "b\\"c"], [], null]}}
            """)
        #expect(pushed.status == 200 && pushed.contentType == "application/json")
        #expect(pushed.body == #"{"rows_received":3,"rows_written":3}"#)
        _ = try await f.http("POST", "/v1/push", json: """
            {"feature_view": "route_stats", "entities": {"origin": ["A"], "dest": ["B"]},
             "event_timestamps": [1000], "features": {"minutes": [12.5]}}
            """)
        let byRefs = try await f.http("POST", "/v1/online-features", json: """
            {"features": ["stats:conv", "stats:trips", "stats:tags"], "entities": {"driver_id": [1, 2, 3, 4]}}
            """)
        #expect(byRefs.status == 200)
        let json = byRefs.json
        #expect((json["metadata"] as? [String: Any])?["feature_names"] as? [String] == ["conv", "trips", "tags"])
        #expect(json["entity_count"] as? Int == 4)
        let results = try #require(json["results"] as? [[String: Any]])
        #expect(results[0]["statuses"] as? [String] == ["PRESENT", "NULL_VALUE", "OUTSIDE_MAX_AGE", "NOT_FOUND"])
        // Exact numbers: shortest round-trip doubles and 64-bit integers as written.
        #expect(byRefs.body.contains(#""values":[0.1,null,null,null]"#))
        #expect(byRefs.body.contains(#""values":[9007199254740993,2,null,null]"#))
        #expect(byRefs.body.contains(#""values":[["a","b\"c"],[],null,null]"#))
        let times = try #require(results[0]["event_timestamps"] as? [Any])
        #expect((times[0] as? String)?.hasSuffix("Z") == true && times[3] is NSNull)

        let byService = try await f.http("POST", "/v1/online-features", json: """
            {"feature_service": "ranking", "full_feature_names": true,
             "entities": {"driver_id": [1], "origin": ["A"], "dest": ["B"]}}
            """)
        #expect((byService.json["metadata"] as? [String: Any])?["feature_names"] as? [String]
                == ["stats__conv", "stats__trips", "stats__tags", "route_stats__minutes"])
        #expect(byService.body.contains(#"{"values":[12.5],"statuses":["PRESENT"],"event_timestamps":["1970-01-01T00:00:00.001Z"]}"#))
        try await f.stop()
    }

    static let kinds = """
        sources:
          - {name: kinds_src, kind: parquet, path: data/kinds.parquet, timestamp_field: ts}
        feature_views:
          - name: kinds
            entities: [driver]
            source: kinds_src
            ttl: 0
            features:
              - {name: f64, type: float64}
              - {name: f32, type: float32}
              - {name: raw, type: bytes}
              - {name: seen, type: timestamp}

        """

    @Test("NaN, infinities, bytes and timestamps travel through JSON pushes and lookups, and gRPC reads the same values")
    func specialValuesInJSON() async throws {
        let f = try await ServerFixture(extraDefinitions: Self.kinds)
        let pushed = try await f.http("POST", "/v1/push", json: """
            {"feature_view": "kinds", "entities": {"driver_id": [1, 2, 3]}, "event_timestamps": [1, 1, 1],
             "features": {"f64": ["NaN", "Infinity", "-Infinity"], "f32": ["NaN", 1.5, "-Infinity"],
                          "raw": ["AP8H", "", null], "seen": ["2025-01-01T00:00:00.5Z", 1735689600000001, "2025-01-01 01:00:00+01:00"]}}
            """)
        #expect(pushed.status == 200, "\(pushed.body)")
        let lookup = try await f.http("POST", "/v1/online-features", json: #"{"features": ["kinds"], "entities": {"driver_id": [1, 2, 3]}}"#)
        #expect(lookup.status == 200)
        #expect(lookup.body.contains(#""values":["NaN","Infinity","-Infinity"]"#), "\(lookup.body)")
        #expect(lookup.body.contains(#""values":["NaN",1.5,"-Infinity"]"#))
        #expect(lookup.body.contains(#""values":["AP8H","",null]"#))
        #expect(lookup.body.contains(#""values":["2025-01-01T00:00:00.5Z","2025-01-01T00:00:00.000001Z","2025-01-01T00:00:00Z"]"#))
        let grpc = try await f.withClient { client in
            try await client.getOnlineFeatures(.with {
                $0.entities = ["driver_id": ints([1, 2, 3])]
                $0.featureRefs = .with { $0.refs = ["kinds"] }
            })
        }
        try #require(grpc.features.count == 4)
        let f64 = grpc.features[0].values.map(\.doubleValue)
        #expect(f64[0].isNaN && f64[1] == .infinity && f64[2] == -.infinity)
        #expect(grpc.features[2].values[0].bytesValue == Data([0, 255, 7]))
        #expect(grpc.features[3].values.map(\.timestampMicros) == [1_735_689_600_500_000, 1_735_689_600_000_001, 1_735_689_600_000_000])
        let bad = try await f.http("POST", "/v1/push", json: """
            {"feature_view": "kinds", "entities": {"driver_id": [1]}, "event_timestamps": [1], "features": {"raw": ["not base64!"]}}
            """)
        #expect(bad.status == 400 && bad.body.contains("features[raw][0]"), "\(bad.body)")
        try await f.stop()
    }

    @Test("created_timestamps in a push break equal event times: an older created time is not written, a newer one is")
    func createdTimestampsInPushes() async throws {
        let f = try await ServerFixture()
        let event = iso(secondsAgo: 10)
        func push(created: Int64, conv: Double) async throws -> String {
            try await f.http("POST", "/v1/push", json: """
                {"feature_view": "stats", "entities": {"driver_id": [1]}, "event_timestamps": ["\(event)"],
                 "created_timestamps": [\(created)], "features": {"conv": [\(conv)]}}
                """).body
        }
        func conv() async throws -> String {
            try await f.http("POST", "/v1/online-features", json: #"{"features": ["stats:conv"], "entities": {"driver_id": [1]}}"#).body
        }
        #expect(try await push(created: 2_000, conv: 0.2) == #"{"rows_received":1,"rows_written":1}"#)
        #expect(try await push(created: 1_000, conv: 0.1) == #"{"rows_received":1,"rows_written":0}"#)
        #expect(try await conv().contains(#""values":[0.2]"#))
        #expect(try await push(created: 3_000, conv: 0.3) == #"{"rows_received":1,"rows_written":1}"#)
        #expect(try await conv().contains(#""values":[0.3]"#))
        let mismatched = try await f.http("POST", "/v1/push", json: """
            {"feature_view": "stats", "entities": {"driver_id": [1, 2]}, "event_timestamps": [1, 2], "created_timestamps": [1]}
            """)
        #expect(mismatched.status == 400 && mismatched.body.contains("created_timestamps"), "\(mismatched.body)")
        try await f.stop()
    }

    @Test("HTTP and gRPC answer the same lookup with the same values and statuses")
    func sameAnswerAsGRPC() async throws {
        let f = try await ServerFixture()
        _ = try await f.withClient { client in try await push(client, ids: [5, 6], agesSeconds: [1, 5400], conv: [0.25, 0.75]) }
        let grpc = try await f.withClient { client in
            try await client.getOnlineFeatures(.with {
                $0.entities = ["driver_id": ints([5, 6, 7])]
                $0.featureService = "ranking"
                $0.entities["origin"] = strings(["x", "y", "z"])
                $0.entities["dest"] = strings(["x", "y", "z"])
            })
        }
        let http = try await f.http("POST", "/v1/online-features", json: """
            {"feature_service": "ranking", "entities": {"driver_id": [5, 6, 7], "origin": ["x", "y", "z"], "dest": ["x", "y", "z"]}}
            """)
        let results = try #require(http.json["results"] as? [[String: Any]])
        #expect((http.json["metadata"] as? [String: Any])?["feature_names"] as? [String] == grpc.featureNames)
        try #require(grpc.features.count == 4 && results.count == 4, "one result per feature of the service on both faces")
        // Driver 5 is fresh, driver 6 is 1.5 h old (ttl 1 h, within the grace of one more ttl), driver 7 is unknown; no route has a row.
        let expected: [[String]] = [
            ["PRESENT", "OUTSIDE_MAX_AGE", "NOT_FOUND"], ["NULL_VALUE", "OUTSIDE_MAX_AGE", "NOT_FOUND"],
            ["NULL_VALUE", "OUTSIDE_MAX_AGE", "NOT_FOUND"], ["NOT_FOUND", "NOT_FOUND", "NOT_FOUND"],
        ]
        for (k, column) in grpc.features.enumerated() {
            let grpcStatuses = column.statuses.map { "\($0)".uppercased() }
            let httpStatuses = try #require(results[k]["statuses"] as? [String])
            #expect(httpStatuses == expected[k], "HTTP statuses of \(grpc.featureNames[k])")
            #expect(grpcStatuses == expected[k].map { $0.replacingOccurrences(of: "_", with: "") }, "gRPC statuses of \(grpc.featureNames[k])")
        }
        #expect(grpc.features[0].values[0].doubleValue == 0.25 && http.body.contains(#""values":[0.25,null,null]"#))
        try await f.stop()
    }

    @Test("bad requests are 400 with a JSON error naming the field", arguments: [
        ("not json", "{\"features\": [", "body: not valid JSON"),
        ("not an object", "[1, 2]", "body: expected a JSON object, found an array"),
        ("empty body", "", "body: empty"),
        ("unknown field", #"{"feature": ["stats:conv"], "entities": {"driver_id": [1]}}"#, "feature: unknown field; did you mean 'features'?"),
        ("no features", #"{"entities": {"driver_id": [1]}}"#, "feature_service or features: give a feature service or feature references"),
        ("both", #"{"feature_service": "ranking", "features": ["stats"], "entities": {"driver_id": [1]}}"#, "feature_service, features: give one, not both"),
        ("unknown feature", #"{"features": ["stats:conf"], "entities": {"driver_id": [1]}}"#, "feature view 'stats' has no feature 'conf'"),
        ("unknown service", #"{"feature_service": "rank", "entities": {"driver_id": [1]}}"#, "no feature service 'rank'"),
        ("missing key", #"{"features": ["stats"], "entities": {"origin": ["A"]}}"#, "missing join key 'driver_id'"),
        ("wrong key type", #"{"features": ["stats"], "entities": {"driver_id": ["x"]}}"#, "entities[driver_id][0]: a string for type int64"),
        ("entities not columns", #"{"features": ["stats"], "entities": {"driver_id": 1}}"#, "entities[driver_id]: expected an array, found an integer"),
        ("empty batch", #"{"features": ["stats"], "entities": {"driver_id": []}}"#, "entities: empty batch"),
        ("over limit", #"{"features": ["stats"], "entities": {"driver_id": [1, 2, 3, 4, 5, 6]}}"#, "entities: 6 rows, over the limit of 5"),
        ("push wrong type", #"{"feature_view": "stats", "entities": {"driver_id": [1]}, "event_timestamps": [1], "features": {"conv": ["fast"]}}"#, "features[conv][0]: a string for type float64"),
        ("push bad time", #"{"feature_view": "stats", "entities": {"driver_id": [1]}, "event_timestamps": ["yesterday"]}"#, "event_timestamps[0]: 'yesterday' is not an ISO-8601 time"),
        ("push unknown view", #"{"feature_view": "stat", "entities": {"driver_id": [1]}, "event_timestamps": [1]}"#, "feature_view: no feature view 'stat'; did you mean 'stats'?"),
        ("push length", #"{"feature_view": "stats", "entities": {"driver_id": [1, 2]}, "event_timestamps": [1]}"#, "entities[driver_id]: 2 values for 1 rows"),
    ])
    func badRequests(label: String, body: String, message: String) async throws {
        let f = try await ServerFixture(maxBatch: 5)
        let path = label.hasPrefix("push") ? "/v1/push" : "/v1/online-features"
        let response = try await f.http("POST", path, json: body)
        #expect(response.status == 400, "\(label): \(response.body)")
        let error = response.json["error"] as? [String: Any]
        #expect(error?["code"] as? String == "INVALID_ARGUMENT")
        #expect((error?["message"] as? String)?.contains(message) == true, "\(label): \(response.body)")
        try await f.stop()
    }

    @Test("a body over the size limit is refused with 413")
    func bodyTooLarge() async throws {
        let f = try await ServerFixture()
        let ids = (0..<200_000).map(String.init).joined(separator: ",")
        let response = try await f.http("POST", "/v1/online-features", json: #"{"features": ["stats"], "entities": {"driver_id": [\#(ids)]}}"#)
        #expect(response.status == 413)
        #expect(response.body.contains("over the limit of 1048576 bytes"))
        try await f.stop()
    }

    @Test("/readyz is 200 while serving and 503 with the reason once shutdown begins, as featurestore_ready says; /healthz stays 200 (alive)")
    func readinessAndLiveness() async throws {
        let f = try await ServerFixture()
        let serving = try await f.http("GET", "/readyz")
        #expect(serving.status == 200 && serving.body == #"{"status":"SERVING"}"#)
        #expect(try await f.http("GET", "/metrics").body.contains("featurestore_ready 1"))
        f.core.health.markNotServing()
        let draining = try await f.http("GET", "/readyz")
        #expect(draining.status == 503 && draining.body == #"{"status":"NOT_SERVING","reason":"shutting down"}"#)
        #expect(try await f.http("GET", "/metrics").body.contains("featurestore_ready 0"))
        let alive = try await f.http("GET", "/healthz")
        #expect(alive.status == 200 && alive.body == #"{"status":"ALIVE"}"#)
        try await f.stop()
    }

    @Test("/metrics exposes request counts and latency per method and protocol, store read latency and errors by code")
    func metrics() async throws {
        let f = try await ServerFixture()
        _ = try await f.withClient { client in try await push(client, ids: [1], agesSeconds: [1], conv: [0.5]) }
        _ = try await f.http("POST", "/v1/online-features", json: #"{"features": ["stats"], "entities": {"driver_id": [1, 2]}}"#)
        _ = try await f.http("POST", "/v1/online-features", json: #"{"features": ["nope"], "entities": {"driver_id": [1]}}"#)
        let metrics = try await f.http("GET", "/metrics")
        #expect(metrics.status == 200 && metrics.contentType.hasPrefix("text/plain"))
        let text = metrics.body
        #expect(text.contains(#"featurestore_requests_total{method="PushFeatures",protocol="grpc",code="OK"} 1"#), "\(text)")
        #expect(text.contains(#"featurestore_requests_total{method="GetOnlineFeatures",protocol="http",code="OK"} 1"#))
        #expect(text.contains(#"featurestore_request_errors_total{method="GetOnlineFeatures",protocol="http",code="INVALID_ARGUMENT"} 1"#))
        #expect(text.contains(#"featurestore_request_duration_seconds_count{method="GetOnlineFeatures",protocol="http"} 2"#))
        #expect(text.contains(#"featurestore_request_duration_seconds_bucket{method="GetOnlineFeatures",protocol="http",le="0.001"}"#))
        #expect(text.contains("featurestore_online_store_read_duration_seconds_count 1"))
        #expect(text.contains(#"featurestore_entity_rows_total{method="GetOnlineFeatures"} 2"#))
        try await f.stop()
    }

    @Test("graceful shutdown lets HTTP requests in flight finish with their result")
    func gracefulShutdown() async throws {
        let ids = (1...10_000).map(String.init).joined(separator: ",")
        let body = #"{"features": ["stats"], "entities": {"driver_id": [\#(ids)]}}"#
        // Shutdown must begin while requests are outstanding; on a busy machine they can all finish before the
        // test notices the first, so the scenario is repeated (on a fresh server) until that happens.
        var overlapped = false
        for _ in 0..<5 where !overlapped {
            let f = try await ServerFixture()
            _ = try await f.withClient { client in try await push(client, ids: [1], agesSeconds: [1], conv: [0.5]) }
            // A status, or nil for a request the server never received (its connection refused or closed once
            // shutdown began: the client may retry elsewhere).
            let (statuses, finished) = try await withThrowingTaskGroup(of: Int?.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        do { return try await f.http("POST", "/v1/online-features", json: body).status } catch is URLError { return nil }
                    }
                }
                // Shut down as soon as the server has received a request (the push was call 1).
                try await waitUntil("the server to receive a call") { f.core.counters.total >= 2 }
                let finished = f.core.counters.total - f.core.counters.inFlight - 1
                await f.group.triggerGracefulShutdown()
                var out: [Int?] = []
                for try await status in group { out.append(status) }
                return (out, finished)
            }
            overlapped = finished < 8
            #expect(statuses.count == 8)
            #expect(statuses.allSatisfy { $0 == nil || $0 == 200 }, "\(statuses)")
            #expect(statuses.filter { $0 == 200 }.count == f.core.counters.total - 1, "every request received came back 200: \(statuses)")
            try await f.task.value
            try? FileManager.default.removeItem(at: f.dir)
        }
        #expect(overlapped, "shutdown began while requests were outstanding")
    }
}

/// An ISO-8601 time `seconds` before now.
func iso(secondsAgo seconds: Int) -> String {
    let f = ISO8601DateFormatter()
    return f.string(from: Date().addingTimeInterval(TimeInterval(-seconds)))
}
