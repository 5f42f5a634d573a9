public import FeatureStoreCore
public import Foundation

/// TLS for the server's faces (gRPC, HTTP/JSON and the catalog): a certificate chain and its private key in PEM files,
/// and optionally a CA bundle that client certificates must chain to (mutual TLS: a client without a certificate
/// signed by it is refused during the handshake). The certificate and key are read again every `reload_interval`:
/// renewed files are served to new connections without a restart, connections already open keep theirs.
///
/// ```yaml
/// tls:
///   certificate: certs/server.pem     # relative to the repository
///   key: certs/server.key
///   client_ca: certs/clients-ca.pem   # optional: require client certificates (mTLS)
///   reload_interval: 30s              # optional (10s)
/// ```
public struct TLSSettings: Sendable, Hashable {
    /// The certificate chain's PEM file (the server's certificate first).
    public var certificate: String
    /// The private key's PEM file.
    public var key: String
    /// The CA bundle (PEM) client certificates must chain to; nil: clients are not asked for certificates.
    public var clientCA: String?
    /// How often the certificate and key files are read again.
    public var reloadInterval: Duration
    /// Where each setting was written (for errors at start-up), by key.
    public var locations: [String: SourceLocation]
    /// The settings given by command-line flags (`certificate` for `--tls-certificate`, ...): errors name the flag.
    public var fromFlags: Set<String> = []

    /// TLS with `certificate` and `key`, clients checked against `clientCA` when given, files read again every
    /// `reloadInterval`.
    public init(certificate: String, key: String, clientCA: String? = nil, reloadInterval: Duration = .seconds(10),
                locations: [String: SourceLocation] = [:]) {
        self.certificate = certificate
        self.key = key
        self.clientCA = clientCA
        self.reloadInterval = reloadInterval
        self.locations = locations
    }

    /// The settings with their paths made absolute against `repository` (paths already absolute are kept).
    public func resolved(against repository: URL) -> TLSSettings {
        func absolute(_ path: String) -> String {
            path.hasPrefix("/") ? path : repository.appendingPathComponent(path).standardizedFileURL.path
        }
        var out = self
        out.certificate = absolute(certificate)
        out.key = absolute(key)
        out.clientCA = clientCA.map(absolute)
        return out
    }

    /// `key: message`, prefixed with where `key` was written when known (`feature_store.yaml:12:16: tls.key: ...`), or
    /// naming the flag (`--tls-key: ...`).
    public func located(_ key: String, _ message: String) -> String {
        if fromFlags.contains(key) { return "--tls-\(key.replacingOccurrences(of: "_", with: "-")): \(message)" }
        if let at = locations[key] { return "\(at): tls.\(key): \(message)" }
        return "tls.\(key): \(message)"
    }
}

/// The `tls` block of `feature_store.yaml` (see ``TLSSettings``): `certificate` and `key` required, `client_ca` and
/// `reload_interval` optional, each mistake reported at its place. Whether the files exist is checked when the server
/// starts (they often exist only where it runs), with the same places in the message.
public struct TLSSection: ConfigSectionKind {
    /// `tls`.
    public let name = "tls"
    static let keys = ["certificate", "key", "client_ca", "reload_interval"]

    /// The section.
    public init() {}

    /// Checks the block's keys: known, single values, the required ones present, the interval a duration of at least 1s.
    public func validate(_ settings: inout StoreSettings) {
        for key in settings.values.keys.sorted() where !Self.keys.contains(key) {
            settings.problem(at: settings.keyLocations[key] ?? settings.locations[key],
                             "unknown key '\(key)' in 'tls'\(Suggestion.hint(for: key, in: Self.keys)); allowed keys: \(Self.keys.joined(separator: ", "))")
        }
        for key in Self.keys where settings.itemLocations[key] != nil {
            settings.problem(key, "'\(key)' in 'tls' must be a single value, not a list")
        }
        for key in ["certificate", "key"] {
            if let value = settings.values[key] {
                if value.isEmpty { settings.problem(key, "'\(key)' in 'tls' is empty; give the path of a PEM file") }
            } else {
                settings.problem(at: settings.blockLocation, "'tls' is missing required key '\(key)' (the path of a PEM file)")
            }
        }
        if settings.values["client_ca"]?.isEmpty == true {
            settings.problem("client_ca", "'client_ca' in 'tls' is empty; give the path of a PEM file, or remove it to accept clients without certificates")
        }
        if let text = settings.values["reload_interval"] {
            if let span = TimeSpan(parsing: text) {
                if span.seconds < 1 { settings.problem("reload_interval", "'reload_interval' must be at least 1s, found '\(text)'") }
            } else {
                settings.problem("reload_interval", "'reload_interval' must be a duration like 10s or 5m, found '\(text)'")
            }
        }
    }

    /// The settings of a checked block (nil when absent).
    public static func settings(from block: StoreSettings?) -> TLSSettings? {
        guard let block, let certificate = block.values["certificate"], let key = block.values["key"] else { return nil }
        let interval = block.values["reload_interval"].flatMap(TimeSpan.init(parsing:)).map { Duration.seconds($0.seconds) } ?? .seconds(10)
        return TLSSettings(certificate: certificate, key: key, clientCA: block.values["client_ca"], reloadInterval: interval,
                           locations: block.locations)
    }
}

extension RepositoryConfig {
    /// The `tls` block (``TLSSection``), when there is one.
    public var tls: TLSSettings? { TLSSection.settings(from: sections["tls"]) }
}

extension Kinds {
    /// The serving's configuration sections: `auth` (``AuthSection``) and `tls` (``TLSSection``).
    public static let serving = Kinds(sections: [AuthSection(), TLSSection()])
}
