/// How a ``FeatureStoreClient`` reaches FeatureServer: its addresses, security, token, deadlines and retries.
public struct ClientConfiguration: Sendable {
    /// One FeatureServer's gRPC address.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        /// A host name or IP address.
        public var host: String
        /// The gRPC port (FeatureServer's `--grpc-port`).
        public var port: Int
        /// `host:port`.
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
        /// `host:port`.
        public var description: String { "\(host):\(port)" }
    }

    /// Plaintext, or TLS against a CA bundle with an optional client certificate (mTLS).
    public enum Security: Sendable, Hashable {
        case plaintext
        /// TLS: trust `caFile` (PEM; nil: the system's roots), present `certificateFile` and `keyFile` (PEM) when the
        /// server asks for a client certificate.
        case tls(caFile: String?, certificateFile: String? = nil, keyFile: String? = nil)
    }

    /// Retries of calls the server could not take (`UNAVAILABLE`: stopped, restarting, unreachable): each on the next
    /// address, after a jittered exponential back-off.
    public struct RetryPolicy: Sendable, Hashable {
        /// Attempts in all, the first included (1: no retry).
        public var maxAttempts: Int
        /// The back-off before the first retry; it doubles per retry up to ``maxBackoff``, and each wait is drawn
        /// uniformly between 0 and it (full jitter: clients retrying together spread out).
        public var initialBackoff: Duration
        /// The largest back-off.
        public var maxBackoff: Duration

        /// A policy of `maxAttempts` attempts with back-offs from `initialBackoff` up to `maxBackoff`.
        public init(maxAttempts: Int = 4, initialBackoff: Duration = .milliseconds(25), maxBackoff: Duration = .seconds(1)) {
            self.maxAttempts = max(1, maxAttempts)
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
        }

        /// No retry.
        public static let none = RetryPolicy(maxAttempts: 1)
    }

    /// The servers, used round-robin; one that answered `UNAVAILABLE` is skipped for ``ejection``.
    public var endpoints: [Endpoint]
    /// Plaintext or TLS.
    public var security: Security
    /// A bearer token sent with every call (`authorization: Bearer ...`), when the server's `auth:` asks for one.
    public var token: String?
    /// Each attempt's deadline (nil: none).
    public var timeout: Duration?
    /// Retries of `UNAVAILABLE`.
    public var retry: RetryPolicy
    /// How long an address that answered `UNAVAILABLE` is left out of the rotation (while another is in it).
    public var ejection: Duration

    /// A configuration for `endpoints` (at least one).
    public init(endpoints: [Endpoint], security: Security = .plaintext, token: String? = nil, timeout: Duration? = .seconds(2),
                retry: RetryPolicy = RetryPolicy(), ejection: Duration = .seconds(5)) {
        self.endpoints = endpoints
        self.security = security
        self.token = token
        self.timeout = timeout
        self.retry = retry
        self.ejection = ejection
    }

    /// A configuration for one server at `host:port`.
    public init(host: String, port: Int, security: Security = .plaintext, token: String? = nil) {
        self.init(endpoints: [Endpoint(host: host, port: port)], security: security, token: token)
    }
}
