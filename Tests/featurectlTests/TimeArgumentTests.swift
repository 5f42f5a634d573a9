import Foundation
import Testing

/// Command-line times through the real executable: every accepted form gives exactly the time it writes, and every
/// form that cannot be read in full is an error quoting the argument (never a silent truncation to midnight).
@Suite("featurectl time arguments", .serialized, .timeLimit(.minutes(10)))
struct TimeArgumentTests {
    /// A copy of the example with its sample data, shared by the tests of this suite.
    static let repo: URL = {
        let repo = try! copyOfExample()
        let result = try! featurectlBlocking(["sample-data", "--repo", repo.path])
        precondition(result.status == 0, result.stderr)
        return repo
    }()

    static func micros(_ iso: String) -> Int64 {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let g = ISO8601DateFormatter()
        let date = f.date(from: iso) ?? g.date(from: iso)!
        return Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// The window `materialize START END --json` reports for route_stats.
    static func window(_ start: String, _ end: String) async throws -> (start: Int64, end: Int64) {
        let run = try await featurectl(["materialize", start, end, "--views", "route_stats", "--json", "--repo", repo.path])
        try #require(run.status == 0, "\(start) .. \(end): \(run.stderr)")
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        let report = try #require(reports.first)
        return (try #require(report["start"] as? Int64), try #require(report["end"] as? Int64))
    }

    static func nowMicros() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }

    @Test("fractional seconds are kept to the microsecond, not truncated to midnight")
    func fractionalSeconds() async throws {
        let w = try await Self.window("2026-11-29T13:05:54.983287Z", "2026-11-30T13:05:54.983287Z")
        #expect(w.start == 1_795_957_554_983_287)
        #expect(w.end == 1_795_957_554_983_287 + 86_400_000_000)
    }

    @Test("a space instead of T, without seconds or offset, is a UTC time")
    func spaceSeparatedTime() async throws {
        let w = try await Self.window("2026-11-30 13:05", "2026-11-30 13:05:54")
        #expect(w.start == Self.micros("2026-11-30T13:05:00Z"))
        #expect(w.end == Self.micros("2026-11-30T13:05:54Z"))
    }

    @Test("an offset is applied; nine fraction digits are read and kept to the microsecond")
    func offsetAndNanoseconds() async throws {
        let w = try await Self.window("2026-11-30T14:05:54+01:00", "2026-11-30T13:05:54.123456789Z")
        #expect(w.start == Self.micros("2026-11-30T13:05:54Z"))
        #expect(w.end == Self.micros("2026-11-30T13:05:54Z") + 123_456)
    }

    @Test("a bare date is midnight UTC")
    func bareDate() async throws {
        let w = try await Self.window("2026-11-29", "2026-11-30")
        #expect(w.start == Self.micros("2026-11-29T00:00:00Z"))
        #expect(w.end == Self.micros("2026-11-30T00:00:00Z"))
    }

    @Test("now, now-2h and now+1d are the clock at the call, moved by the duration")
    func relativeTimes() async throws {
        let before = Self.nowMicros()
        let w = try await Self.window("now-2h", "now")
        let after = Self.nowMicros()
        #expect((before - 7_200_000_000...after - 7_200_000_000).contains(w.start))
        #expect((before...after).contains(w.end))
        let ahead = try await Self.window("now-1d12h", "now+1d")
        #expect(ahead.end - ahead.start > 2 * 86_400_000_000 && ahead.end - ahead.start < 2 * 86_400_000_000 + 60_000_000 + 43_200_000_000)
    }

    @Test("materialize-incremental reads END with the same parser")
    func incrementalEnd() async throws {
        let run = try await featurectl(["materialize-incremental", "2026-11-30T13:05:54.5Z", "--views", "route_stats", "--json", "--repo", Self.repo.path])
        try #require(run.status == 0, "\(run.stderr)")
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        #expect(reports.first?["end"] as? Int64 == Self.micros("2026-11-30T13:05:54.5Z"))
    }

    @Test("sample-data --end takes the same forms and prints the time it used")
    func sampleDataEnd() async throws {
        let repo = try copyOfExample()
        defer { try? FileManager.default.removeItem(at: repo) }
        let run = try await featurectl(["sample-data", "--repo", repo.path, "--end", "2026-11-30 13:05:54.25"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("ending 2026-11-30T13:05:54.250Z") || run.stdout.contains("ending 2026-11-30T13:05:54.25Z"), "\(run.stdout)")
        let bad = try await featurectl(["sample-data", "--repo", repo.path, "--end", "2026-11-30T13:05:54.983287"])
        #expect(bad.status == 0, "a time without an offset is UTC: \(bad.stderr)")
        let rejected = try await featurectl(["sample-data", "--repo", repo.path, "--end", "30/11/2026"])
        #expect(rejected.status != 0)
        #expect(rejected.stderr.contains("'30/11/2026' is not a time"), "\(rejected.stderr)")
    }

    @Test("every form that cannot be read in full is an error quoting the argument and the accepted forms", arguments: [
        "2026-11-30T13", "2026-11-30T25:00:00Z", "2026-02-30", "2026-11-30Z", "2026-11-30T13:05:54.Z",
        "2026-11-30T13:05:54.1234567890Z", "2026-11-30T13:05:54+0100", "1796000000", "yesterday", "now-2", "now-2 hours",
        "now-", "now*2h", "today", "",
    ])
    func rejected(_ text: String) async throws {
        let run = try await featurectl(["materialize", text, "now", "--views", "route_stats", "--repo", Self.repo.path])
        #expect(run.status != 0, "'\(text)' must be rejected")
        #expect(run.stderr.contains("'\(text)' is not a time"), "\(run.stderr)")
        #expect(run.stderr.contains("now-2h"), "the accepted forms are listed")
        let end = try await featurectl(["materialize-incremental", text, "--repo", Self.repo.path])
        #expect(end.status != 0 && end.stderr.contains("'\(text)' is not a time"), "\(end.stderr)")
    }

    @Test("START must be before END, and the error shows both as read")
    func startAfterEnd() async throws {
        let run = try await featurectl(["materialize", "2026-11-30T13:00:00.5Z", "2026-11-30T13:00:00.5Z", "--repo", Self.repo.path])
        #expect(run.status != 0)
        #expect(run.stderr.contains("must be before END"), "\(run.stderr)")
    }
}
