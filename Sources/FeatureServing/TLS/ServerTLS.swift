public import ErrorChain
public import Foundation
import GRPCNIOTransportHTTP2
public import Logging
import NIOCertificateReloading
import NIOSSL
import Synchronization
public import ServiceLifecycle
public import ServingSettings

/// Why TLS could not be set up at start-up: a file missing or unreadable, a certificate or key that does not parse, a
/// key that does not belong to the certificate. The message names the setting and where it was written.
public struct ServerTLSError: ChainedError {
    /// What is wrong, naming the `tls` setting (and its place in `feature_store.yaml` when known).
    public var message: String
    /// The error behind it (the file system's, BoringSSL's).
    public var cause: (any Error & Sendable)?
    /// `SERVER_TLS`.
    public var errorCode: String { "SERVER_TLS" }
    /// The rendered chain.
    public var description: String { ErrorChain.render(self) }
}

/// TLS for the server's faces, shared by gRPC, HTTP/JSON and the catalog: one certificate reloader (swift-nio-extras'
/// `TimedCertificateReloader`) reads the certificate and key again every ``TLSSettings/reloadInterval``, and every new
/// connection's handshake takes the newest pair (connections already open keep theirs: nothing is dropped). A renewal
/// that cannot be read or whose key does not match is logged and the previous pair kept. With a client CA, clients
/// must present a certificate that chains to it (mTLS); the CA bundle is read at start-up.
public struct ServerTLS: Sendable {
    /// The settings, paths absolute.
    public let settings: TLSSettings
    let reloader: TimedCertificateReloader
    private let clientCA: [NIOSSLCertificate]?
    /// The pair read at start-up (every handshake takes the reloader's newest).
    private let initialChain: [NIOSSLCertificate]
    private let initialKey: NIOSSLPrivateKey

    /// Reads and checks the files of `settings` (paths relative to `repository`): errors name the setting at fault.
    public init(settings: TLSSettings, repository: URL, logger: Logger) throws(ServerTLSError) {
        let settings = settings.resolved(against: repository)
        self.settings = settings
        for (key, path) in [("certificate", settings.certificate), ("key", settings.key)] + (settings.clientCA.map { [("client_ca", $0)] } ?? [])
            where !FileManager.default.isReadableFile(atPath: path) {
            throw ServerTLSError(message: settings.located(key, "cannot read '\(path)'"))
        }
        do {
            let certificates = try NIOSSLCertificate.fromPEMFile(settings.certificate)
            if certificates.isEmpty { throw ServerTLSError(message: settings.located("certificate", "'\(settings.certificate)' holds no PEM certificate")) }
            initialChain = certificates
        } catch let error as ServerTLSError {
            throw error
        } catch {
            throw ServerTLSError(message: settings.located("certificate", "'\(settings.certificate)' is not a PEM certificate chain"), cause: error)
        }
        do {
            initialKey = try NIOSSLPrivateKey(file: settings.key, format: .pem)
        } catch {
            throw ServerTLSError(message: settings.located("key", "'\(settings.key)' is not a PEM private key (or it is encrypted)"), cause: error)
        }
        if let path = settings.clientCA {
            do {
                let roots = try NIOSSLCertificate.fromPEMFile(path)
                guard !roots.isEmpty else { throw ServerTLSError(message: settings.located("client_ca", "'\(path)' holds no PEM certificate")) }
                clientCA = roots
            } catch let error as ServerTLSError {
                throw error
            } catch {
                throw ServerTLSError(message: settings.located("client_ca", "'\(path)' is not a PEM certificate bundle"), cause: error)
            }
        } else {
            clientCA = nil
        }
        let certificatePath = settings.certificate, keyPath = settings.key
        // The reloader reports every read; only a changed pair is news, and only failures after start-up (a failure at
        // start-up stops the server below).
        let started = Atomic<Bool>(false)
        reloader = TimedCertificateReloader(configuration: .init(
            refreshInterval: settings.reloadInterval,
            certificateSource: .init(location: .file(path: certificatePath), format: .pem),
            privateKeySource: .init(location: .file(path: keyPath), format: .pem)
        ) {
            $0.onCertificateLoaded = { diff in
                guard let previous = diff.previousX509CertificateChain, previous != diff.currentX509CertificateChain else { return }
                logger.notice("TLS certificate reloaded", metadata: ["certificate": "\(certificatePath)"])
            }
            $0.onCertificateLoadFailed = { failure in
                guard started.load(ordering: .relaxed) else { return }
                logger.warning("TLS certificate not reloaded; serving the previous one", metadata: [
                    "certificate": "\(certificatePath)", "key": "\(keyPath)", "error": "\(failure.error)"])
            }
        })
        do {
            try reloader.reload()
        } catch {
            throw ServerTLSError(message: settings.located("key", "cannot serve the certificate '\(certificatePath)' with the key '\(keyPath)' (does the key belong to the certificate?)"), cause: error)
        }
        started.store(true, ordering: .relaxed)
    }

    /// The service that reads the files again every reload interval (run it beside the servers).
    public var reloadService: some Service { reloader }

    /// Whether clients must present certificates.
    public var requiresClientCertificates: Bool { clientCA != nil }

    /// NIOSSL's server configuration for the HTTP/1.1 faces (HTTP/JSON and the catalog).
    var httpConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: initialChain.map { .certificate($0) }, privateKey: .privateKey(initialKey))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        if let clientCA {
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .certificates(clientCA)
        }
        configuration.setCertificateReloader(reloader)
        return configuration
    }

    /// The gRPC transport's security: TLS 1.2 or later with ALPN h2, client certificates checked against the CA
    /// when one is set.
    var grpcSecurity: HTTP2ServerTransport.Posix.TransportSecurity {
        get throws {
            if let path = settings.clientCA {
                return try .mTLS(certificateReloader: reloader) { config in
                    config.trustRoots = .certificates([.file(path: path, format: .pem)])
                    config.clientCertificateVerification = .noHostnameVerification
                }
            }
            return try .tls(certificateReloader: reloader)
        }
    }
}
