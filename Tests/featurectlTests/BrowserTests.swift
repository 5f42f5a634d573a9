import Foundation
import Testing

/// The catalog in a real browser: Debian's chromium, headless, against a running FeatureServer on the example
/// repository (plus a view whose description is an XSS probe). `--dump-dom` prints the DOM after the page's
/// scripts ran, so an injected script that executed would show (it would set the title to "pwned").
/// Screenshots of the home page and a view page are kept in test-artifacts/.
@Suite("Feature catalog in a real browser (chromium headless)", .serialized, .timeLimit(.minutes(10)))
struct BrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static func browse(_ url: String, screenshot: URL? = nil) async throws -> String {
        try await offPool { try browseBlocking(url, screenshot: screenshot) }
    }

    static func browseBlocking(_ url: String, screenshot: URL? = nil) throws -> String {
        guard let chromium else { throw ServerProcessError(log: "no chromium: run `bash scripts/setup` (apt install chromium)") }
        var arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                         "--user-data-dir=\(FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)").path)",
                         "--virtual-time-budget=3000"]
        if let screenshot {
            arguments += ["--window-size=1280,1000", "--screenshot=\(screenshot.path)"]
        } else {
            arguments += ["--dump-dom"]
        }
        let result = try runProcess(URL(fileURLWithPath: chromium), arguments + [url])
        return result.stdout
    }

    @Test("a browser shows the example's views, finds a feature by a word of its description, draws a view's schema, lineage and histograms, marks a broken expectation in red on the view and the home page, and keeps an XSS probe as text")
    func catalogInBrowser() async throws {
        let repo = try copyOfExample()
        defer { try? FileManager.default.removeItem(at: repo) }
        try """
            feature_views:
              - name: xss_probe
                description: "Probe <script>document.title='pwned'</script><img src=x onerror=\\"document.title='pwned'\\">"
                owner: security@ridehail.example
                entities: [driver]
                source: driver_stats_source
                ttl: 1d
                expectations: {policy: warn}
                features: [{name: conv_rate, type: float32, description: "<b>bold?</b>", expect: {max: 0.5}}]

            """.write(to: repo.appendingPathComponent("probe.yaml"), atomically: true, encoding: .utf8)
        for step in [["sample-data", "--repo", repo.path], ["apply", "--repo", repo.path], ["materialize-incremental", "now", "--repo", repo.path]] {
            let result = try await featurectl(step)
            try #require(result.status == 0, "\(step): \(result.stderr)")
        }
        // Any free port (a fixed one could be taken by a parallel test or another program); the default port is
        // checked without binding it (CatalogTests).
        let server = try ServerProcess(repository: repo, extraArguments: ["--no-ingest"])
        defer { _ = server.terminate() }
        #expect(server.log.contains("catalog listening at http://127.0.0.1:\(server.catalogPort)/"), "the server prints the catalog's address")
        let base = "http://127.0.0.1:\(server.catalogPort)"

        let home = try await Self.browse(base + "/")
        for view in ["driver_stats", "driver_activity", "customer_profile", "route_stats"] {
            #expect(home.contains("href=\"/views/\(view)\""), "home lists \(view)")
        }
        #expect(home.contains("<title>Home · ride_hailing · feature catalog</title>"))

        // "Which feature tells me a driver's acceptance rate?"
        let search = try await Self.browse(base + "/search?q=acceptance")
        #expect(search.contains("href=\"/views/driver_stats#feature-acc_rate\""))
        #expect(search.contains("mobility-ml@ridehail.example"))

        let view = try await Self.browse(base + "/views/driver_stats")
        #expect(view.contains("<code>acc_rate</code>") && view.contains("Acceptance rate, the share of trip offers the driver accepted."))
        #expect(view.contains("<svg") && view.contains("driver_stats_source") && view.contains("driver_ranking_v1"), "lineage source -> view -> services")

        #expect(view.contains("class=\"histogram numeric\"") && view.contains("aria-label=\"distribution of conv_rate\""), "a histogram per feature")
        #expect(view.contains("not null, &gt;= 0, &lt;= 1"), "the expectations are shown")
        #expect(!view.contains("(beginning)") || view.contains("window (beginning) .. "), "an open start reads (beginning)")
        #expect(!view.contains("-290308-"), "no year -290308 for an open start")
        // Aggregated views are profiled too (their values as lookups see them at the run's end).
        let trips = try await Self.browse(base + "/views/driver_trips")
        #expect(trips.contains("aria-label=\"distribution of count_1h\""), "an aggregated view's histogram")
        // The probe breaks its expectation (conv_rate is 0.4 to 0.9 in the sample data): red on its page and on the home page.
        #expect(home.contains("id=\"quality\"") && home.contains("href=\"/views/xss_probe\""), "the home page lists the view that breaks its expectations")
        let probe = try await Self.browse(base + "/views/xss_probe")
        #expect(probe.contains("class=\"violation\"") && probe.contains("max "), "the feature's violations are marked")
        #expect(probe.contains("<title>xss_probe · ride_hailing · feature catalog</title>"), "no injected script ran")
        #expect(probe.contains("Probe &lt;script&gt;document.title='pwned'&lt;/script&gt;&lt;img src=x"))
        #expect(!probe.contains("<img src=\"x\""))
        #expect(probe.contains("&lt;b&gt;bold?&lt;/b&gt;"))

        // Screenshots, kept as test artifacts.
        let artifacts = packageRoot.appendingPathComponent("test-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        for (name, path) in [("catalog-home.png", "/"), ("catalog-view.png", "/views/driver_stats")] {
            let file = artifacts.appendingPathComponent(name)
            try? FileManager.default.removeItem(at: file)
            _ = try await Self.browse(base + path, screenshot: file)
            let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
            #expect(size > 10_000, "\(name) is a real screenshot (\(size) bytes)")
        }
    }
}
