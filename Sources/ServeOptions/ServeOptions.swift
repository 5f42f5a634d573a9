public import ArgumentParser

/// The options of the serving process, shared by the `FeatureServer` executable and `featurectl serve` (which runs
/// FeatureServer in its place with the same options): one definition, so the two can never disagree.
public struct ServeOptions: ParsableArguments {
    /// The feature repository folder.
    @Option(help: "The feature repository folder.", completion: .directory)
    public var repo: String = "."

    /// The address to listen on.
    @Option(help: "The address to listen on.")
    public var host: String = "127.0.0.1"

    /// The gRPC port.
    @Option(help: "The gRPC port (0: any free port).")
    public var grpcPort: Int = 6570

    /// The HTTP/JSON port.
    @Option(help: "The HTTP/JSON port: lookups, pushes, health, metrics (0: any free port).")
    public var httpPort: Int = 6566

    /// The catalog's port (8888, the port `feast ui` uses: browsers refuse to open 6566).
    @Option(help: "The feature catalog's port (pages and /api/v1/catalog; 0: any free port).")
    public var catalogPort: Int = 8888

    /// Whether to serve the catalog.
    @Flag(inversion: .prefixedNo, help: "Serve the feature catalog.")
    public var catalog = true

    /// The most entity rows in one request.
    @Option(help: "The most entity rows in one request.")
    public var maxBatch: Int = 10_000

    /// Whether to ingest the stream sources whose transport the settings configure.
    @Flag(inversion: .prefixedNo, help: "Ingest the topics of stream sources (when feature_store.yaml configures their transport, e.g. a kafka section).")
    public var ingest = true

    /// This instance's stable identity in its stream consumer group (static membership).
    @Option(help: "This instance's stable identity in its Kafka consumer group (group.instance.id: static membership), kept across restarts so a restarted instance resumes at once; give it only where the identity is stable (a StatefulSet's pod name), never to two running instances. Default: none (a new member at every start).")
    public var instanceId: String?

    /// The certificate chain's PEM file for TLS on every face (replaces `tls.certificate` of feature_store.yaml).
    @Option(help: "TLS on the gRPC, HTTP and catalog ports: the certificate chain's PEM file (replaces tls.certificate in feature_store.yaml).", completion: .file())
    public var tlsCertificate: String?

    /// The private key's PEM file for TLS (replaces `tls.key`).
    @Option(help: "TLS: the private key's PEM file (replaces tls.key).", completion: .file())
    public var tlsKey: String?

    /// A CA bundle client certificates must chain to (mutual TLS; replaces `tls.client_ca`).
    @Option(help: "Mutual TLS: the CA bundle (PEM) client certificates must chain to (replaces tls.client_ca).", completion: .file())
    public var tlsClientCa: String?

    /// The defaults (the parser sets the options given).
    public init() {}

    /// Checks that `--max-batch` is at least 1 and every port is from 0 to 65535.
    public mutating func validate() throws {
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-certificate and --tls-key go together: give both, or neither (then feature_store.yaml's tls section applies)")
        }
        if tlsClientCa != nil, tlsCertificate == nil {
            throw ValidationError("--tls-client-ca needs --tls-certificate and --tls-key (client certificates are checked over TLS only)")
        }
        if let id = instanceId { try Self.checkInstanceID(id) }
        guard maxBatch > 0 else { throw ValidationError("--max-batch must be at least 1") }
        for (name, port) in [("--grpc-port", grpcPort), ("--http-port", httpPort), ("--catalog-port", catalogPort)] where !(0...65535).contains(port) {
            throw ValidationError("\(name) must be a port from 0 to 65535, found \(port)")
        }
    }

    /// Checks a `--instance-id` (a Kafka `group.instance.id`): 1 to 249 ASCII letters, digits, `.`, `_` or `-`.
    public static func checkInstanceID(_ id: String) throws {
        let allowed = id.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2e || c == 0x5f || c == 0x2d
        }
        guard !id.isEmpty, id.utf8.count <= 249, allowed else {
            throw ValidationError("--instance-id must be 1 to 249 letters, digits, '.', '_' or '-', found '\(id)'")
        }
    }

    /// The options as a command line (for running FeatureServer with them).
    public var arguments: [String] {
        var out = ["--repo", repo, "--host", host, "--grpc-port", String(grpcPort), "--http-port", String(httpPort),
                   "--catalog-port", String(catalogPort), catalog ? "--catalog" : "--no-catalog", "--max-batch", String(maxBatch),
                   ingest ? "--ingest" : "--no-ingest"]
        let optional: [(String, String?)] = [("--tls-certificate", tlsCertificate), ("--tls-key", tlsKey), ("--tls-client-ca", tlsClientCa),
                                             ("--instance-id", instanceId)]
        for (flag, value) in optional {
            if let value { out += [flag, value] }
        }
        return out
    }
}
