import TestKinds
@testable import FeatureServing
import Columnar
import DataQuality
import FeatureStoreCore
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Feature catalog pages and JSON API", .serialized, .timeLimit(.minutes(5)))
struct CatalogTests {
    @Test("every catalog page answers with HTML naming what it shows, and unknown names are 404 with a suggestion")
    func pages() async throws {
        let f = try await ServerFixture()
        try FeatureStore(repository: f.dir, kinds: testKinds).openRegistry().apply(FeatureStore(repository: f.dir, kinds: testKinds).registry)
        let cases: [(String, [String])] = [
            ("/", ["<h1>serving</h1>", "href=\"/views/stats\"", "href=\"/views/route_stats\"", "recent", "feature views"]),
            ("/views", ["id=\"views\" class=\"sortable\"", "href=\"/views/stats\"", "mobility@example.com", "1h"]),
            ("/views/stats", ["<h1>stats</h1>", "<code>conv</code>", "Share of offers converted into trips", "<svg", "href=\"/services/ranking\"", "Version history", "add"]),
            ("/entities", ["href=\"/entities/route\"", "<code>origin string</code>"]),
            ("/entities/driver", ["<h1>driver</h1>", "href=\"/views/stats\"", "<svg"]),
            ("/sources", ["href=\"/sources/stats_src\"", "data/stats.parquet"]),
            ("/sources/route_src", ["<h1>route_src</h1>", "href=\"/views/route_stats\"", "<svg"]),
            ("/services", ["href=\"/services/ranking\""]),
            ("/services/ranking", ["<h1>ranking</h1>", "<code>minutes</code>", "href=\"/views/route_stats\"", "<svg"]),
            ("/search?q=offers+converted", ["1 results", "href=\"/views/stats#feature-conv\""]),
        ]
        for (path, needles) in cases {
            let r = try await f.catalogPage(path)
            #expect(r.status == 200, "\(path)")
            #expect(r.contentType == "text/html; charset=utf-8", "\(path)")
            for needle in needles { #expect(r.body.contains(needle), "\(path) shows \(needle)") }
        }
        let missing = try await f.catalogPage("/views/stat")
        #expect(missing.status == 404)
        #expect(missing.body.contains("no feature view &#39;stat&#39;; did you mean &#39;stats&#39;?"), "the message, escaped")
        for path in ["/entities/nobody", "/sources/nothing", "/services/none"] {
            #expect(try await f.catalogPage(path).status == 404, "\(path)")
        }
        try await f.stop()
    }

    @Test("the catalog has a port of its own: the HTTP API's port (which browsers refuse) does not serve its pages")
    func catalogOnItsOwnPort() async throws {
        #expect(CatalogServer.defaultPort == 8888, "feast ui's port, which browsers open")
        let f = try await ServerFixture()
        #expect(f.catalogPort != f.httpPort)
        #expect(try await f.catalogPage("/").status == 200)
        #expect(try await f.http("GET", "/").status == 404)
        #expect(try await f.http("GET", "/api/v1/catalog").status == 404)
        #expect(try await f.catalogPage("/healthz").status == 404, "the catalog port serves only the catalog")
        try await f.stop()
    }

    @Test("the JSON API carries the same content under /api/v1/catalog")
    func jsonAPI() async throws {
        let f = try await ServerFixture()
        let home = try await f.catalogPage("/api/v1/catalog")
        #expect(home.status == 200 && home.contentType.hasPrefix("application/json"))
        #expect((home.json["counts"] as? [String: Any])?["feature_views"] as? Int == 2)
        let views = try await f.catalogPage("/api/v1/catalog/views")
        #expect(((views.json["views"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String } == ["route_stats", "stats"])
        let view = try await f.catalogPage("/api/v1/catalog/views/stats").json
        #expect(((view["features"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String } == ["conv", "trips", "tags"])
        #expect(view["description"] as? String == "Driver stats <script>document.title='pwned'</script> & more", "JSON keeps the text as written")
        #expect(view["lineage_svg"] == nil)
        for path in ["entities", "entities/driver", "sources", "sources/stats_src", "services", "services/ranking", "search?q=driver"] {
            #expect(try await f.catalogPage("/api/v1/catalog/\(path)").status == 200, "\(path)")
        }
        let search = try await f.catalogPage("/api/v1/catalog/search?q=converted").json
        #expect(((search["groups"] as? [[String: Any]]) ?? []).compactMap { $0["key"] as? String } == ["features"])
        let missing = try await f.catalogPage("/api/v1/catalog/views/nope")
        #expect(missing.status == 404)
        #expect(missing.body.contains("NOT_FOUND"))
        try await f.stop()
    }

    @Test("user-written text is escaped: a <script> in a description renders as text, never as markup")
    func escapesUserText() async throws {
        let f = try await ServerFixture()
        for path in ["/", "/views", "/views/stats", "/search?q=pwned"] {
            let body = try await f.catalogPage(path).body
            #expect(!body.contains("<script>document.title"), "\(path)")
            #expect(!body.contains("<b>supply</b>"), "\(path)")
        }
        let page = try await f.catalogPage("/views/stats").body
        #expect(page.contains("Driver stats &lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt; &amp; more"))
        #expect(page.contains("team=&lt;b&gt;supply&lt;/b&gt;"))
        let search = try await f.catalogPage("/search?q=%3Cscript%3E").body
        #expect(!search.contains("value=\"<script>"), "the query echoed in the search box is escaped")
        try await f.stop()
    }

    @Test("with auth the catalog needs a read scope: 401 without a token, pages with a header or the /login cookie")
    func catalogAuth() async throws {
        let f = try await ServerFixture(auth: true)
        let page = try await f.catalogPage("/views")
        #expect(page.status == 401)
        #expect(page.body.contains("action=\"/login\""))
        #expect(try await f.catalogPage("/api/v1/catalog").status == 401)
        #expect(try await f.catalogPage("/views", token: ServerFixture.readerToken).status == 200)
        #expect(try await f.catalogPage("/api/v1/catalog/views/stats", token: ServerFixture.routeReaderToken).status == 200, "any read scope opens the catalog")
        #expect(try await f.catalogPage("/api/v1/catalog", token: ServerFixture.statsWriterToken).status == 403)

        // A browser signs in once: /login sets the cookie, which later pages use.
        let delegate = NoRedirects()
        let session = URLSession(configuration: .ephemeral, delegate: delegate, delegateQueue: nil)
        let (_, response) = try await session.data(from: URL(string: "http://127.0.0.1:\(f.catalogPort)/login?token=\(ServerFixture.readerToken)")!)
        let login = try #require(response as? HTTPURLResponse)
        #expect(login.statusCode == 303)
        let cookie = try #require(login.value(forHTTPHeaderField: "Set-Cookie"))
        #expect(cookie.contains("HttpOnly"))
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(f.catalogPort)/views/stats")!)
        request.setValue(String(cookie.split(separator: ";")[0]), forHTTPHeaderField: "Cookie")
        let (_, withCookie) = try await session.data(for: request)
        #expect((withCookie as? HTTPURLResponse)?.statusCode == 200)
        let (_, bad) = try await session.data(from: URL(string: "http://127.0.0.1:\(f.catalogPort)/login?token=wrong-token-0123456789")!)
        #expect((bad as? HTTPURLResponse)?.statusCode == 401)
        try await f.stop()
    }
}

/// Keeps redirects visible to the test.
final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}

@Suite("Catalog of aggregated views", .timeLimit(.minutes(5)))
struct AggregatedCatalogTests {
    @Test("an aggregated feature shows how it is computed: function, column, window and hop, on the page, in lineage and in the JSON API")
    func aggregationsAreShown() async throws {
        let f = try await ServerFixture(extraDefinitions: """
            feature_views:
              - name: trip_counts
                entities: [driver]
                source: stats_src
                online: false
                aggregations:
                  - {column: trips, function: sum, type: int64, windows: [1h]}
                  - {column: tags, function: last_distinct_n, type: string, n: 3, windows: [1d], name: recent_tags}

            """)
        let view = try await f.catalogPage("/api/v1/catalog/views/trip_counts").json
        let features = try #require(view["features"] as? [[String: Any]])
        #expect(features.map { $0["computed"] as? String } == ["sum(trips) over 1h, hop 5m", "last_distinct_n(tags, 3) over 1d, hop 1h"])
        let aggregation = try #require(features.first?["aggregation"] as? [String: Any])
        #expect(aggregation["function"] as? String == "sum" && aggregation["column"] as? String == "trips"
                && aggregation["window"] as? String == "1h" && aggregation["hop"] as? String == "5m")
        let page = try await f.catalogPage("/views/trip_counts")
        #expect(page.status == 200 && page.body.contains("sum(trips) over 1h, hop 5m"))
        // Lineage marks the view as aggregated and lists each aggregation in its node's title.
        #expect(page.body.contains("feature view · aggregated") && page.body.contains("trips_sum_1h = sum(trips) over 1h, hop 5m"), "lineage")
        let source = try await f.catalogPage("/sources/stats_src")
        #expect(source.body.contains("recent_tags = last_distinct_n(tags, 3) over 1d, hop 1h"), "the source's lineage too")
        let lookup = try await f.http("POST", "/v1/online-features", json: #"{"features": ["trip_counts"], "entities": {"driver_id": [1]}}"#)
        #expect(lookup.status == 400 && lookup.body.contains("'trip_counts' is not online (online: false)"), "\(lookup.body)")
        try await f.stop()
    }

    @Test("a histogram escapes the values it labels and the feature it names")
    func histogramEscapes() throws {
        let profile = FeatureProfile.of(Column(strings: ["<script>alert(1)</script>", "a&b", "a&b", "\"quoted\""]))
        let svg = try #require(HistogramSVG.svg(feature: "f<x>", current: profile, baseline: profile))
        #expect(!svg.contains("<script") && svg.contains("&lt;script&gt;alert(1)"), "labels are cut to their room and escaped: \(svg)")
        #expect(svg.contains("a&amp;b") && svg.contains("&quot;quoted&quot;") && svg.contains("distribution of f&lt;x&gt;"), "\(svg)")
        let numbers = FeatureProfile.of(Column(float64: [1, 2, 2, 3, .nan, .infinity, nil]))
        let chart = try #require(HistogramSVG.svg(feature: "n", current: numbers, baseline: nil))
        #expect(chart.contains("class=\"histogram numeric\"") && !chart.contains("nan") && !chart.contains("inf"), "\(chart)")
        // A range wider than a double holds (-1.8e308 .. 1.8e308) draws instead of trapping.
        let wide = HistogramSVG.svg(feature: "w", current: FeatureProfile.of(Column(float64: [1.7976931348623157e308])),
                                    baseline: FeatureProfile.of(Column(float64: [-1.7976931348623157e308])))
        #expect(wide?.contains("class=\"histogram numeric\"") == true)
    }
}
