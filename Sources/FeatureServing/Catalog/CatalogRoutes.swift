import FeatureStoreCore
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// The feature catalog on its own port (``CatalogServer``): server-rendered pages for people and the same content as JSON
/// under `/api/v1/catalog` for tools. Read-only.
///
/// | page | JSON |
/// | --- | --- |
/// | `/` (counts, search, views, stale views, recent changes) | `/api/v1/catalog` |
/// | `/views`, `/views/{name}` | `/api/v1/catalog/views`, `/api/v1/catalog/views/{name}` |
/// | `/entities`, `/entities/{name}` | `/api/v1/catalog/entities`, `/api/v1/catalog/entities/{name}` |
/// | `/sources`, `/sources/{name}` | `/api/v1/catalog/sources`, `/api/v1/catalog/sources/{name}` |
/// | `/services`, `/services/{name}` | `/api/v1/catalog/services`, `/api/v1/catalog/services/{name}` |
/// | `/search?q=words` | `/api/v1/catalog/search?q=words` |
///
/// With auth enabled the catalog needs a token with a `read` scope (or `auth.catalog: public`): from the
/// `Authorization: Bearer` header, or, for browsers, from the `featurestore_token` cookie that `/login?token=` sets.
struct CatalogRoutes: Sendable {
    let core: ServingCore
    let streamStatus: StreamStatusProvider?
    let library: MustacheLibrary

    static let cookie = "featurestore_token"

    init(core: ServingCore, streamStatus: StreamStatusProvider?) {
        self.core = core
        self.streamStatus = streamStatus
        var templates: [String: MustacheTemplate] = [:]
        let sources: [String: String] = [
            "layout": CatalogTemplates.layout, "home": CatalogTemplates.home, "views_table": CatalogTemplates.viewsTable,
            "views": CatalogTemplates.views, "view": CatalogTemplates.view, "on_demand_view": CatalogTemplates.onDemandView, "history": CatalogTemplates.history,
            "header": CatalogTemplates.header, "entities": CatalogTemplates.entities, "entity": CatalogTemplates.entity,
            "sources": CatalogTemplates.sources, "source": CatalogTemplates.source, "services": CatalogTemplates.services,
            "service": CatalogTemplates.service, "search": CatalogTemplates.search, "problem": CatalogTemplates.problem,
        ]
        for (name, text) in sources {
            // The templates are part of the program: one that does not parse is a bug caught by every test.
            templates[name] = try! MustacheTemplate(string: text)
        }
        library = MustacheLibrary(templates: templates)
    }

    /// One catalog page or API document: its title, the template, and the content (nil: not found).
    private struct Document {
        var title: String
        var template: String
        var content: [String: Any]?
        var notFound: String = ""
    }

    func register(on router: Router<BasicRequestContext>) {
        let pages: [(String, String, @Sendable (CatalogModel, String?) -> Document)] = [
            ("", "home", { m, _ in
                var s = m.summary()
                s["views"] = m.views()
                return Document(title: "Home", template: "home", content: s)
            }),
            ("views", "views", { m, _ in Document(title: "Feature views", template: "views", content: ["views": m.views()]) }),
            ("entities", "entities", { m, _ in Document(title: "Entities", template: "entities", content: ["entities": m.entities()]) }),
            ("sources", "sources", { m, _ in Document(title: "Sources", template: "sources", content: ["sources": m.sources()]) }),
            ("services", "services", { m, _ in Document(title: "Feature services", template: "services", content: ["services": m.services()]) }),
        ]
        for (path, _, build) in pages {
            router.get(RouterPath(path.isEmpty ? "/" : "/\(path)")) { request, _ -> Response in
                await serve(request, json: false) { m in build(m, nil) }
            }
            router.get(RouterPath(path.isEmpty ? "/api/v1/catalog" : "/api/v1/catalog/\(path)")) { request, _ -> Response in
                await serve(request, json: true) { m in build(m, nil) }
            }
        }
        let details: [(String, String, ObjectKind, @Sendable (CatalogModel, String) -> [String: Any]?)] = [
            ("views", "view", .featureView, { $0.view($1) }),
            ("entities", "entity", .entity, { $0.entity($1) }),
            ("sources", "source", .source, { $0.source($1) }),
            ("services", "service", .featureService, { $0.service($1) }),
            ("on-demand", "on_demand_view", .onDemandView, { $0.onDemandView($1) }),
        ]
        for (segment, template, kind, build) in details {
            let handler: @Sendable (Request, BasicRequestContext, Bool) async -> Response = { request, context, json in
                let name = context.parameters.get("name") ?? ""
                return await serve(request, json: json) { m in
                    let names: [String]
                    switch kind {
                    case .featureView: names = m.registry.featureViews.map(\.name)
                    case .entity: names = m.registry.entities.map(\.name)
                    case .source: names = m.registry.sources.map(\.name)
                    case .featureService: names = m.registry.featureServices.map(\.name)
                    case .onDemandView: names = m.registry.onDemandViews.map(\.name)
                    }
                    return Document(title: name, template: template, content: build(m, name),
                                    notFound: "no \(CatalogModel.kindLabel(kind)) '\(name)'\(Suggestion.hint(for: name, in: names))")
                }
            }
            router.get(RouterPath("/\(segment)/:name")) { request, context -> Response in await handler(request, context, false) }
            router.get(RouterPath("/api/v1/catalog/\(segment)/:name")) { request, context -> Response in await handler(request, context, true) }
        }
        let search: @Sendable (Request, Bool) async -> Response = { request, json in
            // Forms send spaces as '+'.
            let query = (request.uri.queryParameters.get("q") ?? "").replacingOccurrences(of: "+", with: " ")
            return await serve(request, json: json, query: query) { m in Document(title: "Search", template: "search", content: m.search(query)) }
        }
        router.get("/search") { request, _ -> Response in await search(request, false) }
        router.get("/api/v1/catalog/search") { request, _ -> Response in await search(request, true) }
        router.get("/catalog.js") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/javascript; charset=utf-8"
            headers[.cacheControl] = "max-age=300"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: CatalogTemplates.script)))
        }
        router.get("/login") { request, _ -> Response in
            let token = request.uri.queryParameters.get("token") ?? ""
            // Only a token that opens the catalog is kept.
            do throws(ServingError) {
                _ = try core.catalog(authorization: "Bearer \(token)")
            } catch {
                return page(status: .unauthorized, title: "Sign in", template: "problem",
                            content: ["heading": "Sign in", "message": "\(error.message)", "login": true], query: "")
            }
            var headers = HTTPFields()
            headers[.location] = "/"
            headers[.setCookie] = "\(Self.cookie)=\(token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""); Path=/; HttpOnly; SameSite=Strict"
            return Response(status: .seeOther, headers: headers)
        }
    }

    /// The token of a request: the Authorization header, else the catalog cookie.
    private func authorization(_ request: Request) -> String? {
        if let header = request.headers[.authorization] { return header }
        guard let cookies = request.headers[.cookie] else { return nil }
        for part in cookies.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            if pair.hasPrefix(Self.cookie + "=") {
                return "Bearer " + (String(pair.dropFirst(Self.cookie.count + 1)).removingPercentEncoding ?? "")
            }
        }
        return nil
    }

    private func serve(_ request: Request, json: Bool, query: String = "", _ build: (CatalogModel) -> Document) async -> Response {
        do {
            _ = try core.catalog(authorization: authorization(request))
        } catch {
            if json { return HTTPRoutes.error(error) }
            let status: HTTPResponse.Status = error.code == .permissionDenied ? .forbidden : .unauthorized
            return page(status: status, title: "Sign in", template: "problem",
                        content: ["heading": status == .forbidden ? "Not allowed" : "Sign in", "message": error.message, "login": true], query: query)
        }
        let model = await CatalogModel.current(store: core.repository.store, streamStatus: streamStatus, skewWatch: core.skewWatch)
        let document = build(model)
        guard let content = document.content else {
            if json { return HTTPRoutes.error(ServingError(.notFound, document.notFound)) }
            return page(status: .notFound, title: "Not found", template: "problem",
                        content: ["heading": "Not found", "message": document.notFound], query: query)
        }
        if json {
            var body = content
            body.removeValue(forKey: "lineage_svg")
            guard let data = try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]) else {
                return HTTPRoutes.error(ServingError(.internal, "the catalog could not be encoded"))
            }
            return HTTPRoutes.json(.ok, Array(data))
        }
        return page(status: .ok, title: document.title, template: document.template, content: content, query: query)
    }

    private func page(status: HTTPResponse.Status, title: String, template: String, content: [String: Any], query: String) -> Response {
        let body = library.render(content, withTemplate: template) ?? ""
        let html = library.render(["title": title, "project": core.repository.store.config.project, "query": query, "body": body],
                                  withTemplate: "layout") ?? ""
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        // Scripts only from /catalog.js: even markup that slipped through escaping could not run one.
        headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
