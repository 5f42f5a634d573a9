import FeatureStoreCore
public import ServingSettings
public import Foundation
public import ErrorChain

/// Who may do what: the bearer tokens of `feature_store.yaml`'s `auth` section with their secrets loaded.
///
/// A call presents `authorization: Bearer <token>` (gRPC metadata or HTTP header). A missing or unknown token is
/// UNAUTHENTICATED (HTTP 401); a known token without the scope a call needs is PERMISSION_DENIED (HTTP 403).
/// Tokens are compared in constant time. Health and metrics never need a token.
public struct AccessPolicy: Sendable {
    /// A token the server accepts: its name (for messages and logs) and scopes.
    public struct Principal: Sendable, Equatable {
        /// The token's name in the `auth` section (for messages and logs; never the secret).
        public let name: String
        /// What the token may do: read or write, on one view or on every view.
        public let scopes: [AccessScope]

        func allows(_ action: AccessScope.Action, view: String) -> Bool {
            scopes.contains { $0.allows(action, view: view) }
        }
    }

    private struct Token: Sendable {
        let secret: [UInt8]
        let principal: Principal
    }

    private let tokens: [Token]
    /// Whether calls need a token at all.
    public let isEnabled: Bool
    /// Whether catalog calls need a token with a read scope.
    public let catalogNeedsToken: Bool

    /// No authentication: every call is allowed.
    public static let open = AccessPolicy(tokens: [], isEnabled: false, catalogNeedsToken: false)

    private init(tokens: [Token], isEnabled: Bool, catalogNeedsToken: Bool) {
        self.tokens = tokens
        self.isEnabled = isEnabled
        self.catalogNeedsToken = catalogNeedsToken
    }

    /// The shortest secret accepted (a shorter one is a configuration error, not a token).
    public static let minimumSecretLength = 16

    /// Loads the secrets of `config` (from the environment or from files relative to `repository`).
    /// `nil` config: authentication is off.
    public init(config: AuthConfig?, repository: URL,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws(AccessPolicyError) {
        guard let config else {
            self = .open
            return
        }
        var loaded: [Token] = []
        for token in config.tokens {
            let raw: String
            switch token.secret {
            case .environment(let variable):
                guard let value = environment[variable] else {
                    throw AccessPolicyError("auth token '\(token.name)': the environment variable \(variable) is not set")
                }
                raw = value
            case .file(let path):
                let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : repository.appendingPathComponent(path)
                guard let value = try? String(contentsOf: url, encoding: .utf8) else {
                    throw AccessPolicyError("auth token '\(token.name)': cannot read the secret file \(url.path)")
                }
                raw = value
            }
            let secret = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard secret.utf8.count >= Self.minimumSecretLength else {
                throw AccessPolicyError("auth token '\(token.name)': the secret is \(secret.utf8.count) characters; use at least \(Self.minimumSecretLength) (for instance `openssl rand -hex 32`)")
            }
            guard !secret.contains(where: \.isWhitespace) else {
                throw AccessPolicyError("auth token '\(token.name)': the secret contains whitespace")
            }
            if let other = loaded.first(where: { $0.secret == Array(secret.utf8) }) {
                throw AccessPolicyError("auth tokens '\(other.principal.name)' and '\(token.name)' have the same secret")
            }
            loaded.append(Token(secret: Array(secret.utf8), principal: Principal(name: token.name, scopes: token.scopes)))
        }
        self.init(tokens: loaded, isEnabled: true, catalogNeedsToken: config.catalog == .read)
    }

    /// The principal behind an `authorization` value (`Bearer <token>`); `nil` when authentication is off.
    public func authenticate(_ authorization: String?) throws(ServingError) -> Principal? {
        guard isEnabled else { return nil }
        guard let authorization, !authorization.isEmpty else {
            throw ServingError(.unauthenticated, "authorization: missing; send 'authorization: Bearer <token>'")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw ServingError(.unauthenticated, "authorization: not a bearer token; send 'authorization: Bearer <token>'")
        }
        let presented = Array(parts[1].utf8)
        // Every token is compared in full, whatever matches: the time taken does not depend on the secrets.
        var match: Principal? = nil
        for token in tokens where Self.constantTimeEquals(presented, token.secret) {
            match = token.principal
        }
        guard let match else { throw ServingError(.unauthenticated, "authorization: unknown bearer token") }
        return match
    }

    /// Checks that `principal` may do `action` on every view in `views`.
    public func authorize(_ principal: Principal?, _ action: AccessScope.Action, views: some Sequence<String>) throws(ServingError) {
        guard isEnabled, let principal else { return }
        for view in views where !principal.allows(action, view: view) {
            throw ServingError(.permissionDenied, "token '\(principal.name)' has no scope \(action.rawValue):\(view) (its scopes: \(principal.scopes.map(\.description).joined(separator: ", ")))")
        }
    }

    /// Checks a catalog call (metadata of views and services): open, or a token with a read scope.
    public func authorizeCatalog(_ authorization: String?) throws(ServingError) {
        guard isEnabled, catalogNeedsToken else { return }
        let principal = try authenticate(authorization)
        if let principal, !principal.scopes.contains(where: { $0.action == .read }) {
            throw ServingError(.permissionDenied, "token '\(principal.name)' has no read scope; the catalog needs one")
        }
    }

    /// Byte equality whose time depends only on the lengths (not on where the bytes differ).
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count) | (a.count == b.count ? 0 : 1)
        for i in 0..<b.count {
            difference |= b[i] ^ (i < a.count ? a[i] : 0)
        }
        return difference == 0
    }
}

/// The auth settings cannot be used (a secret is missing, unreadable or too short).
public struct AccessPolicyError: ChainedError {
    /// What is wrong, naming the token.
    public var message: String
    /// The error behind it (a secret file that cannot be read).
    public var cause: (any Error & Sendable)?
    init(_ message: String, cause: (any Error & Sendable)? = nil) {
        self.message = message
        self.cause = cause
    }
    /// `auth`.
    public var errorCode: String { "auth" }
    /// The chain: the message, then the cause's.
    public var description: String { ErrorChain.render(self) }
}
