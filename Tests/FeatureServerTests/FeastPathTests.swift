import Foundation
import Testing

/// Feast's serving path: the body its SDK's remote online store sends, answered in the same shape as `/v1/online-features`.
@Suite("Feast's /get-online-features", .serialized, .timeLimit(.minutes(3)))
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
}
