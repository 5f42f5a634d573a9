import Columnar
import Foundation
import Parquet
import Testing

/// The online commands (`materialize --views`, `get`, `join`) and `apply`'s data checks, through the real executable.
@Suite("featurectl online commands", .serialized, .timeLimit(.minutes(10)))
struct OnlineCommandTests {
    /// A repository with one view of every value shape JSON has: numbers (an int64 beyond 2^53), floats, booleans,
    /// strings, lists, nulls, bytes and times.
    static func typedRepository() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("typed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("data"), withIntermediateDirectories: true)
        try "project: typed\n".write(to: dir.appendingPathComponent("feature_store.yaml"), atomically: true, encoding: .utf8)
        try """
            entities:
              - {name: user, join_keys: [{name: user_id, type: int64}]}
            sources:
              - {name: src, kind: parquet, path: data/users.parquet, timestamp_field: ts}
            feature_views:
              - name: users
                entities: [user]
                source: src
                ttl: 0
                features:
                  - {name: big, type: int64}
                  - {name: ratio, type: float64}
                  - {name: active, type: bool}
                  - {name: name, type: string}
                  - {name: scores, type: list<int64>}
                  - {name: raw, type: bytes}
                  - {name: seen, type: timestamp}

            """.write(to: dir.appendingPathComponent("defs.yaml"), atomically: true, encoding: .utf8)
        let t = Int64(1_700_000_000_000_000)
        let scores = Column(type: .list(.int64), values: .list(offsets: [0, 3, 3], values: Column(int64: [1, -2, 3])),
                            validity: Bitmap([true, false]))
        let table = try Table([
            ("user_id", Column(int64: [1, 2])),
            ("ts", Column(timestamps: [t, t])),
            ("big", Column(int64: [9_007_199_254_740_993, nil])),
            ("ratio", Column(float64: [0.1, nil])),
            ("active", Column(bool: [true, nil])),
            ("name", Column(strings: ["a \"quoted\" name", nil])),
            ("scores", scores),
            ("raw", Column(binary: [[0, 255, 7], nil])),
            ("seen", Column(timestamps: [t + 1, nil])),
        ])
        try ParquetFileWriter.write(table, to: dir.appendingPathComponent("data/users.parquet").path)
        return dir
    }

    @Test("get --json writes numbers, booleans, lists, nulls, bytes and times as the HTTP API does (64-bit integers exact)")
    func getJSONIsTyped() async throws {
        let repo = try Self.typedRepository()
        defer { try? FileManager.default.removeItem(at: repo) }
        for step in [["apply"], ["materialize", "2023-01-01", "2024-01-01"]] {
            let r = try await featurectl(step + ["--repo", repo.path])
            try #require(r.status == 0, "\(step): \(r.stderr)")
        }
        let get = try await featurectl(["get", "--features", "users", "--entity", "user_id=1,2,3", "--json", "--repo", repo.path])
        try #require(get.status == 0, "\(get.stderr)")
        #expect(get.stdout.contains("\"big\":{\"value\":9007199254740993,"), "exact, not rounded through a double: \(get.stdout)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(get.stdout.utf8)) as? [[String: Any]])
        try #require(rows.count == 3)
        #expect((rows[0]["entity"] as? [String: Any])?["user_id"] as? Int == 1, "join keys are numbers too")
        let present = try #require(rows[0]["features"] as? [String: [String: Any]])
        #expect(present["ratio"]?["value"] as? Double == 0.1)
        #expect(present["active"]?["value"] as? Bool == true)
        #expect(present["name"]?["value"] as? String == "a \"quoted\" name")
        #expect(present["scores"]?["value"] as? [Int] == [1, -2, 3])
        #expect(present["raw"]?["value"] as? String == Data([0, 255, 7]).base64EncodedString())
        #expect(present["seen"]?["value"] as? String == "2023-11-14T22:13:20.000001Z")
        #expect(present["big"]?["status"] as? String == "PRESENT")
        #expect(present["big"]?["event_timestamp"] as? String == "2023-11-14T22:13:20Z")
        let nulls = try #require(rows[1]["features"] as? [String: [String: Any]])
        for name in ["big", "ratio", "active", "name", "scores", "raw", "seen"] {
            #expect(nulls[name]?["value"] is NSNull, "\(name) is JSON null")
            #expect(nulls[name]?["status"] as? String == "NULL_VALUE", "\(name)")
        }
        let missing = try #require(rows[2]["features"] as? [String: [String: Any]])
        #expect(missing["big"]?["status"] as? String == "NOT_FOUND")
        #expect(missing["big"]?["event_timestamp"] is NSNull)
    }

    @Test("materialize --views loads only the named views, and get shows the others as not found")
    func materializeOnlyNamedViews() async throws {
        let repo = try copyOfExample()
        defer { try? FileManager.default.removeItem(at: repo) }
        for step in [["sample-data"], ["apply"], ["materialize", "now-2d", "now", "--views", "route_stats,customer_profile"]] {
            let r = try await featurectl(step + ["--repo", repo.path])
            try #require(r.status == 0, "\(step): \(r.stderr)")
        }
        let get = try await featurectl(["get", "--features", "route_stats:surge_multiplier,driver_stats:conv_rate,customer_profile:tier",
                                  "--entity", "origin_zone=zone_A", "--entity", "destination_zone=zone_B",
                                  "--entity", "driver_id=1001", "--entity", "customer_id=5001", "--json", "--repo", repo.path])
        try #require(get.status == 0, "\(get.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(get.stdout.utf8)) as? [[String: Any]])
        let features = try #require(rows.first?["features"] as? [String: [String: Any]])
        #expect(features["surge_multiplier"]?["status"] as? String == "PRESENT")
        #expect(features["tier"]?["status"] as? String == "PRESENT")
        #expect(features["conv_rate"]?["status"] as? String == "NOT_FOUND", "driver_stats was not named")

        let unknown = try await featurectl(["materialize", "now-1d", "now", "--views", "route_stat", "--repo", repo.path])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("route_stat"), "\(unknown.stderr)")
    }

    @Test("join through the executable writes one training row per entity row with the service's features")
    func joinThroughExecutable() async throws {
        let repo = try copyOfExample()
        defer { try? FileManager.default.removeItem(at: repo) }
        let sample = try await featurectl(["sample-data", "--repo", repo.path, "--end", "2026-11-30T12:00:00Z"])
        try #require(sample.status == 0, "\(sample.stderr)")
        let out = repo.appendingPathComponent("training.parquet")
        let join = try await featurectl(["join", "--repo", repo.path, "--entities", repo.appendingPathComponent("data/entities.parquet").path,
                                   "--features", "driver_stats:conv_rate,customer_profile:tier", "--full-feature-names", "--out", out.path])
        try #require(join.status == 0, "\(join.stderr)")
        let table = try ParquetDataset(path: out.path).read()
        #expect(table.rowCount == 1_000)
        #expect(table.schema.fields.map(\.name) == ["driver_id", "customer_id", "event_timestamp", "accepted", "trip_distance_km", "pickup_time", "driver_stats__conv_rate", "customer_profile__tier"])
        let conv = try #require(table.column(named: "driver_stats__conv_rate"))
        #expect(conv.nullCount > 0 && conv.nullCount < 1_000, "some rows find a value, some (before the data, unknown drivers) do not")

        let missing = try await featurectl(["join", "--repo", repo.path, "--entities", repo.appendingPathComponent("data/entities.parquet").path,
                                      "--features", "driver_stats:conv_rat", "--out", out.path])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("conv_rat"), "\(missing.stderr)")
    }

    @Test("a stream whose offline folder exists but is empty applies, as one without the folder does ('no data yet')")
    func emptyStreamFolderApplies() async throws {
        let repo = try copyOfExample()
        defer { try? FileManager.default.removeItem(at: repo) }
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("data/driver_activity"), withIntermediateDirectories: true)
        let validate = try await featurectl(["validate", "--repo", repo.path])
        #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
        #expect(validate.stdout.contains("Not checked against data (none yet): customer_profile_source, driver_activity_source"), "\(validate.stdout)")
        let apply = try await featurectl(["apply", "--repo", repo.path])
        #expect(apply.status == 0, "\(apply.stderr)")
        // A partition folder without files is no data either; a glob that matches nothing likewise.
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("data/driver_activity/date=2026-11-30"), withIntermediateDirectories: true)
        #expect(try await featurectl(["apply", "--repo", repo.path]).status == 0)
        // Data that is there is still checked: a file with a wrong column type fails.
        let bad = try Table([("driver_id", Column(strings: ["x"])), ("event_time", Column(timestamps: [0])),
                             ("trips_last_hour", Column(.int32, int32: [1])), ("is_online", Column(bool: [true])),
                             ("minutes_online_today", Column(float64: [1]))])
        try ParquetFileWriter.write(bad, to: repo.appendingPathComponent("data/driver_activity/date=2026-11-30/part-0.parquet").path)
        let checked = try await featurectl(["apply", "--repo", repo.path])
        #expect(checked.status != 0)
        #expect(checked.stderr.contains("join key 'driver_id' of feature view 'driver_activity' is int64, but column 'driver_id'"), "\(checked.stderr)")
    }

    @Test("the example's sample data leaves every online view of the demo fresh: materialize-incremental now serves them all, and verify finds training = serving")
    func demoDataIsFresh() async throws {
        let repo = try copyOfExample()
        defer { try? FileManager.default.removeItem(at: repo) }
        for step in [["sample-data"], ["apply"], ["materialize-incremental", "now", "--json"]] {
            let r = try await featurectl(step + ["--repo", repo.path])
            try #require(r.status == 0, "\(step): \(r.stderr)")
            if step.first == "materialize-incremental" {
                let reports = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
                #expect(Set(reports.compactMap { $0["view"] as? String }) == ["driver_stats", "driver_activity", "customer_profile", "route_stats", "driver_trips"])
                for report in reports { #expect((report["rowsWritten"] as? Int ?? 0) > 0, "\(report["view"] ?? "?") written") }
            }
        }
        let get = try await featurectl(["get", "--features", "driver_stats,driver_activity,customer_profile,route_stats,driver_trips",
                                  "--entity", "driver_id=1001,1050", "--entity", "customer_id=5001,5200",
                                  "--entity", "origin_zone=zone_A,zone_F", "--entity", "destination_zone=zone_F,zone_A",
                                  "--json", "--repo", repo.path])
        try #require(get.status == 0, "\(get.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(get.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 2)
        for row in rows {
            let features = try #require(row["features"] as? [String: [String: Any]])
            #expect(features.count == 20)
            for (name, f) in features {
                let status = f["status"] as? String
                #expect(status == "PRESENT" || status == "NULL_VALUE", "\(name) is fresh online: \(status ?? "?")")
            }
        }
        // Training = serving on the example: every online view and the on-demand view, 50 entities each, no mismatch.
        let verify = try await featurectl(["verify", "--sample", "50", "--json", "--repo", repo.path])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(verify.stdout.utf8)) as? [[String: Any]])
        #expect(reports.count == 6 && reports.allSatisfy { ($0["entities"] as? Int ?? 0) > 0 && ($0["mismatches"] as? [Any])?.isEmpty == true }, "\(verify.stdout)")
    }

    @Test("apply drops the online rows of a view whose schema changed (plan says so), and get no longer serves them")
    func applyDropsStaleOnlineTables() async throws {
        let repo = try copyOfExample()
        defer { try? FileManager.default.removeItem(at: repo) }
        for step in [["sample-data"], ["apply"], ["materialize-incremental", "now", "--views", "route_stats,driver_stats"]] {
            let r = try await featurectl(step + ["--repo", repo.path])
            try #require(r.status == 0, "\(step): \(r.stderr)")
        }
        let lookup = ["get", "--features", "route_stats:avg_trip_minutes,driver_stats:conv_rate", "--entity", "origin_zone=zone_A",
                      "--entity", "destination_zone=zone_B", "--entity", "driver_id=1001", "--json", "--repo", repo.path]
        func statuses() async throws -> [String: String] {
            let get = try await featurectl(lookup)
            try #require(get.status == 0, "\(get.stderr)")
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(get.stdout.utf8)) as? [[String: Any]])
            let features = try #require(rows.first?["features"] as? [String: [String: Any]])
            return features.mapValues { $0["status"] as? String ?? "?" }
        }
        #expect(try await statuses() == ["avg_trip_minutes": "PRESENT", "conv_rate": "PRESENT"])

        // route_stats gains a feature: its stored rows have another schema.
        let defs = repo.appendingPathComponent("customer_features.yaml")
        let text = try String(contentsOf: defs, encoding: .utf8)
        let surge = "      - name: surge_multiplier\n        type: float32\n        description: Price multiplier in effect.\n"
        try #require(text.contains(surge))
        try text.replacingOccurrences(of: surge, with: surge + "      - name: avg_trip_minutes_copy\n        type: float64\n")
            .write(to: defs, atomically: true, encoding: .utf8)
        let routesFile = repo.appendingPathComponent("data/route_stats.parquet").path
        let routes = try ParquetDataset(path: routesFile).read()
        let extended = try Table(routes.schema.fields.enumerated().map { ($1.name, routes.columns[$0]) }
                                 + [("avg_trip_minutes_copy", try #require(routes.column(named: "avg_trip_minutes")))])
        try ParquetFileWriter.write(extended, to: routesFile)
        let plan = try await featurectl(["plan", "--repo", repo.path])
        #expect(plan.stdout.contains("its online rows have another schema: they are dropped at apply"), "\(plan.stdout)")
        let apply = try await featurectl(["apply", "--repo", repo.path])
        try #require(apply.status == 0, "\(apply.stderr)")
        #expect(apply.stdout.contains("Dropped the online rows of changed or removed views: route_stats;"), "\(apply.stdout)")
        #expect(try await statuses() == ["avg_trip_minutes": "NOT_FOUND", "conv_rate": "PRESENT"], "only the changed view's rows are gone")
    }
}
