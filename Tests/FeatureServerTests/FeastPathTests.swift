import Foundation
import Testing

/// Feast's serving path: the body its SDK's remote online store sends, answered in the same shape as `/v1/online-features`.
@Suite("Feast's paths: /get-online-features and /push", .serialized, .timeLimit(.minutes(3)))
struct FeastPathTests {
    @Test("/get-online-features takes the body Feast's SDK sends (include_feature_view_version_metadata false) and answers as /v1/online-features; true is refused naming the field")
    func feastLookupPath() async throws {
        let f = try await ServerFixture()
        let t = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-5))
        let pushed = try await f.http("POST", "/v1/push", json: #"{"feature_view": "stats", "entities": {"driver_id": [1]}, "event_timestamps": ["\#(t)"], "features": {"conv": [0.5], "trips": [3], "tags": [["x"]]}}"#)
        try #require(pushed.status == 200, "\(pushed.body)")
        let feast = try await f.http("POST", "/get-online-features", json: """
            {"features": ["stats:conv", "stats:trips"], "entities": {"driver_id": [1, 2]}, "full_feature_names": false,
             "include_feature_view_version_metadata": false}
            """)
        let ours = try await f.http("POST", "/v1/online-features", json: """
            {"features": ["stats:conv", "stats:trips"], "entities": {"driver_id": [1, 2]}, "full_feature_names": false}
            """)
        #expect(feast.status == 200, "\(feast.body)")
        // The same answer, but a value without an event time (driver 2: not found) has the epoch, which Feast's SDK parses.
        let feastResults = try #require(feast.json["results"] as? [[String: Any]]), ourResults = try #require(ours.json["results"] as? [[String: Any]])
        #expect(feastResults.count == 2 && ourResults.count == 2)
        for (f, o) in zip(feastResults, ourResults) {
            #expect(f["statuses"] as? [String] == o["statuses"] as? [String])
            #expect("\(f["values"] ?? "")" == "\(o["values"] ?? "")")
            let times = try #require(f["event_timestamps"] as? [String], "every event time is text on Feast's path: \(f)")
            #expect(times.count == 2 && times[1] == "1970-01-01T00:00:00Z" && (o["event_timestamps"] as? [Any])?[1] is NSNull)
        }
        let metadata = try #require(feast.json["metadata"] as? [String: Any])
        #expect(metadata["feature_names"] as? [String] == ["conv", "trips"])
        let refused = try await f.http("POST", "/get-online-features", json: """
            {"features": ["stats:conv"], "entities": {"driver_id": [1]}, "include_feature_view_version_metadata": true}
            """)
        #expect(refused.status == 400 && refused.body.contains("include_feature_view_version_metadata"), "\(refused.body)")
        let ownPath = try await f.http("POST", "/v1/online-features", json: """
            {"features": ["stats:conv"], "entities": {"driver_id": [1]}, "include_feature_view_version_metadata": false}
            """)
        #expect(ownPath.status == 400, "our own path keeps refusing fields it does not know: \(ownPath.body)")
    }

    @Test("/push writes a source's rows to every view reading it, needs write on each of them, and applies each view's expectations (a row one view drops is left out of all, as a stream event)")
    func feastPushPath() async throws {
        let f = try await ServerFixture(auth: true, extraDefinitions: """
            feature_views:
              - name: stats_mirror
                entities: [driver]
                source: stats_src
                ttl: 0
                expectations: {policy: drop}
                features: [{name: conv, type: float64, expect: {max: 1}}]
            """)
        let t = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-5))
        let body = """
            {"push_source_name": "stats_src", "df": {"driver_id": [1, 2], "ts": ["\(t)", "\(t)"], "conv": [0.5, 1.5], "trips": [3, 4], "tags": [["a"], []]}}
            """
        let denied = try await f.http("POST", "/push", json: body, token: ServerFixture.statsWriterToken)
        #expect(denied.status == 403 && denied.body.contains("write:stats_mirror"), "\(denied.body)")
        let pushed = try await f.http("POST", "/push", json: body, token: ServerFixture.writerAllToken)
        #expect(pushed.status == 200, "\(pushed.body)")
        // Driver 2's row breaks stats_mirror's max under drop: like a stream event, it is left out of every view.
        #expect(pushed.json["rows_written"] as? [String: Int] == ["stats": 1, "stats_mirror": 1], "\(pushed.body)")
        #expect(pushed.json["dropped"] as? [String: Int] == ["stats": 1, "stats_mirror": 1], "\(pushed.body)")
        let read = try await f.http("POST", "/v1/online-features", json: """
            {"features": ["stats:conv", "stats_mirror:conv"], "entities": {"driver_id": [1, 2]}, "full_feature_names": true}
            """, token: ServerFixture.readerToken)
        let results = try #require(read.json["results"] as? [[String: Any]], "\(read.body)")
        #expect(results.map { $0["statuses"] as? [String] ?? [] } == [["PRESENT", "NOT_FOUND"], ["PRESENT", "NOT_FOUND"]], "\(read.body)")
        // The same rule on our own push path.
        let own = try await f.http("POST", "/v1/push", json: """
            {"feature_view": "stats_mirror", "entities": {"driver_id": [3]}, "event_timestamps": ["\(t)"], "features": {"conv": [2.0]}}
            """, token: ServerFixture.writerAllToken)
        #expect(own.status == 200 && own.json["rows_written"] as? Int == 0, "\(own.body)")
        let missing = try await f.http("POST", "/push", json: """
            {"push_source_name": "stats_src", "df": {"driver_id": [1], "ts": ["\(t)"], "conv": [0.5], "trips": [3]}}
            """, token: ServerFixture.writerAllToken)
        #expect(missing.status == 400 && missing.body.contains("df[tags]: missing (feature view 'stats' reads it)"), "\(missing.body)")
        try await f.stop()
    }
}
