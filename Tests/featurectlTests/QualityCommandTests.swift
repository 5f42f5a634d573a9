import FeatureStoreCore
import Foundation
import Testing

/// Data quality from the command line: profiles and drift against numpy and scipy, `join --check`, a view's profile
/// kept in the registry.
@Suite("featurectl profile, drift and join --check", .serialized, .timeLimit(.minutes(10)))
struct QualityCommandTests {
    @Test("featurectl profile and drift agree with numpy and scipy on seeded hostile data written by pyarrow (counts, nulls, NaN, infinities, min, max, mean, spread, quantiles within 1%, value counts by bytes; PSI on the same bins, KS, Jensen-Shannon; shifts, a new category and a null spike over threshold)")
    func profileAndDriftAgainstNumpyAndScipy() async throws {
        let python = try PythonSDKTests.python(".venv")
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("quality-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let script = packageRoot.appendingPathComponent("Tests/featurectlTests/Quality/quality_oracle.py").path
        let featurectlPath = productsDirectory.appendingPathComponent("featurectl").path
        let result = try await offPool { try runProcess(python, [script, featurectlPath, work.path]) }
        #expect(result.status == 0 && result.stdout.contains("profile: ok") && result.stdout.contains("drift: ok"), "\(result.stdout)\n\(result.stderr)")
    }

    @Test("join --check reports the training set's violations per view, feature and rule, and exits 1 when a view's policy is fail (the file is written)")
    func joinCheck() async throws {
        let repo = try copyOfExample()
        defer { try? FileManager.default.removeItem(at: repo) }
        #expect(try await featurectl(["sample-data", "--repo", repo.path]).status == 0)
        let out = repo.appendingPathComponent("training.parquet").path
        let entities = repo.appendingPathComponent("data/entities.parquet").path
        let warned = try await featurectl(["join", "--entities", entities, "--features", "driver_stats", "--out", out, "--check", "--repo", repo.path])
        #expect(warned.status == 0, "\(warned.stdout)\n\(warned.stderr)")
        #expect(warned.stdout.contains("driver_stats") && warned.stdout.contains("warn"), "\(warned.stdout)")
        // The same view under fail with a bound the sample data breaks (conv_rate is 0.4 to 0.9).
        let defs = repo.appendingPathComponent("driver_features.yaml")
        let text = try String(contentsOf: defs, encoding: .utf8)
        try text.replacingOccurrences(of: "expectations: {policy: warn, max_staleness: 2h}", with: "expectations: {policy: fail}")
            .replacingOccurrences(of: "expect: {not_null: true, min: 0, max: 1}", with: "expect: {not_null: true, min: 0, max: 0.5}")
            .write(to: defs, atomically: true, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: out)
        let failed = try await featurectl(["join", "--entities", entities, "--features", "driver_stats:conv_rate", "--out", out, "--check", "--repo", repo.path])
        #expect(failed.status == 1, "\(failed.stdout)\n\(failed.stderr)")
        #expect(failed.stdout.contains("conv_rate") && failed.stdout.contains("max") && failed.stdout.contains("is above max 0.5"), "\(failed.stdout)")
        #expect(failed.stderr.contains("the training set breaks the expectations of driver_stats (policy fail)"), "\(failed.stderr)")
        #expect(FileManager.default.fileExists(atPath: out), "the training set is written either way")
    }

    @Test("profile VIEW profiles what serving holds (one row per entity), a name that is neither a file nor a view is refused, and drift compares windows of a view")
    func profileAndDriftOfAView() async throws {
        let repo = try copyOfExample()
        defer { try? FileManager.default.removeItem(at: repo) }
        for step in [["sample-data"], ["apply"]] { #expect(try await featurectl(step + ["--repo", repo.path]).status == 0) }
        let profiled = try await featurectl(["profile", "driver_stats", "--json", "--repo", repo.path])
        #expect(profiled.status == 0, "\(profiled.stderr)")
        let columns = try #require(try JSONSerialization.jsonObject(with: Data(profiled.stdout.utf8)) as? [[String: Any]])
        #expect(columns.map { $0["column"] as? String } == ["conv_rate", "acc_rate", "avg_daily_trips", "reliability"])
        #expect(columns.first?["count"] as? Int == 50, "one row per driver: what serving holds")
        let ambiguous = try await featurectl(["profile", "nonexistent_view", "--repo", repo.path])
        #expect(ambiguous.status != 0 && ambiguous.stderr.contains("no such file, folder or glob, and no feature view of that name"), "\(ambiguous.stderr)")
        let drift = try await featurectl(["drift", "--baseline", "driver_stats@..now", "--current", "driver_stats@..now", "--json", "--repo", repo.path])
        #expect(drift.status == 0, "the same data does not drift: \(drift.stdout)\n\(drift.stderr)")
        #expect(drift.stdout.contains("\"psi\" : 0"), "\(drift.stdout)")
        let kept = try RegistryStore(path: repo.appendingPathComponent("data/registry.db").path, create: false).latestDrift()
        #expect(kept.map(\.drift.column).sorted() == ["acc_rate", "avg_daily_trips", "conv_rate", "reliability"], "the scores are kept for FeatureServer's gauges")
    }
}
