import Hummingbird
public import Logging
public import ServiceLifecycle
import Synchronization

/// The feature catalog for people and tools (``CatalogRoutes``: pages at `/`, JSON at `/api/v1/catalog`), served on a
/// port of its own.
///
/// Its own port because browsers refuse to open the HTTP API's default port: Chrome and Firefox block 6566 (SANE)
/// as an unsafe port. The default, 8888, is the one `feast ui` uses. It logs `catalog listening at http://HOST:PORT/`
/// once listening.
public final class CatalogServer: Service, Sendable {
    /// The default port, one browsers open.
    public static let defaultPort = 8888

    /// The serving core whose repository the catalog shows.
    public let core: ServingCore
    private let host: String
    private let port: Int
    private let logger: Logger
    private let streamStatus: StreamStatusProvider?
    private let tls: ServerTLS?
    private let boundPort = Mutex<Int?>(nil)

    /// - Parameters:
    ///   - core: the serving core whose repository the catalog shows (and whose access policy guards it).
    ///   - host: the address to listen on.
    ///   - port: the port (0: any free port; see ``listeningPort``).
    ///   - streamStatus: the live state of stream views (from the ingestion in this server), or nil.
    ///   - logger: where start-up and errors are logged.
    ///   - tls: HTTPS with these certificates (nil: plain HTTP).
    public init(core: ServingCore, host: String = "127.0.0.1", port: Int = CatalogServer.defaultPort,
                streamStatus: StreamStatusProvider? = nil, tls: ServerTLS? = nil, logger: Logger = Logger(label: "featurestore.catalog")) {
        self.tls = tls
        self.core = core
        self.host = host
        self.port = port
        self.streamStatus = streamStatus
        self.logger = logger
    }

    /// The bound port, once listening.
    public var listeningPort: Int? { boundPort.withLock { $0 } }

    /// Listens on `host:port` and serves the catalog until a graceful shutdown (which marks the core NOT_SERVING).
    public func run() async throws {
        let router = Router()
        CatalogRoutes(core: core, streamStatus: streamStatus).register(on: router)
        let shown = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        let scheme = tls == nil ? "http" : "https"
        try await runHTTPApplication(router: router, host: host, port: port, tls: tls, core: core, logger: logger,
                                     message: { "catalog listening at \(scheme)://\(shown):\($0)/" }) { [self] port in
            boundPort.withLock { $0 = port }
        }
    }
}
