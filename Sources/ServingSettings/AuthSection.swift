public import FeatureStoreCore

/// Bearer-token authentication for the server. Each token has a name (for logs), scopes, and a secret read at
/// start-up from an environment variable or a file: secrets never live in the repository's YAML.
public struct AuthConfig: Sendable, Hashable, Codable {
    /// Who may read the catalog (feature view and service metadata).
    public enum CatalogAccess: String, Sendable, Hashable, Codable, CaseIterable {
        /// Anyone, without a token.
        case `public`
        /// A token with at least one `read:` scope (the default).
        case read
    }

    /// The tokens: at least one, their names unique.
    public var tokens: [TokenConfig]
    /// Who may read the catalog (`read` when not written).
    public var catalog: CatalogAccess

    /// Authentication by `tokens`, the catalog open as `catalog` says.
    public init(tokens: [TokenConfig], catalog: CatalogAccess = .read) {
        self.tokens = tokens
        self.catalog = catalog
    }
}

/// One bearer token: its name, what it may do, and where its secret comes from.
public struct TokenConfig: Sendable, Hashable, Codable {
    /// Where a token's secret value is read from.
    public enum Secret: Sendable, Hashable, Codable {
        /// The value of an environment variable.
        case environment(String)
        /// The contents of a file (path relative to the repository; surrounding whitespace trimmed).
        case file(String)
    }

    /// The token's name, for logs: an identifier, unique among the tokens.
    public var name: String
    /// What the token may do: at least one scope.
    public var scopes: [AccessScope]
    /// Where its secret is read from at start-up.
    public var secret: Secret

    /// A token `name` allowed `scopes`, its secret read from `secret`.
    public init(name: String, scopes: [AccessScope], secret: Secret) {
        self.name = name
        self.scopes = scopes
        self.secret = secret
    }
}

/// A permission: `read:<view>` / `read:*` (lookups of a view, or of all) and `write:<view>` / `write:*` (pushes).
public struct AccessScope: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What a scope permits: `read` (lookups) or `write` (pushes).
    public enum Action: String, Sendable, Hashable, Codable, CaseIterable {
        case read, write
    }

    /// Read or write.
    public var action: Action
    /// The feature view, or `nil` for every view (`*`).
    public var view: String?

    /// A scope of `action` on `view` (nil: every view).
    public init(_ action: Action, view: String?) {
        self.action = action
        self.view = view
    }

    /// Parses `read:<view>`, `read:*`, `write:<view>`, `write:*`; `nil` for anything else.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let action = Action(rawValue: String(parts[0])), !parts[1].isEmpty else { return nil }
        self.action = action
        view = parts[1] == "*" ? nil : String(parts[1])
    }

    /// Whether this scope allows `action` on `view`.
    public func allows(_ action: Action, view: String) -> Bool {
        self.action == action && (self.view == nil || self.view == view)
    }

    /// `read:<view>`, `write:*`, ...: the form ``init(parsing:)`` reads.
    public var description: String { "\(action.rawValue):\(view ?? "*")" }
}

/// The `auth` block of `feature_store.yaml`, read by the serving (the core does not know it): bearer tokens with
/// their scopes and where their secrets come from, and who may read the catalog.
///
/// ```yaml
/// auth:
///   catalog: read                  # or public: the catalog without a token
///   tokens:
///     - name: ranking_model
///       scopes: ["read:*"]
///       env: RANKING_MODEL_TOKEN     # the secret comes from the environment...
///     - name: trip_events
///       scopes: ["write:driver_hourly_stats"]
///       file: secrets/trip_events.token   # ...or from a file, never from this YAML
/// ```
///
/// Each mistake is a `file:line:column` diagnostic, a scope naming an unknown view included.
public struct AuthSection: ConfigSectionKind {
    /// `auth`; see ``FeatureStoreCore/ConfigSectionKind/name``.
    public let name = "auth"
    /// The keys of one token.
    static let tokenKeys = ["name", "scopes", "env", "file"]

    /// The section (programs add ``FeatureStoreCore/Kinds/serving`` to their kinds).
    public init() {}

    /// Checks the block: `catalog`, and each token's name (an identifier, unique), scopes (at least one, each
    /// `read:`/`write:` a view or `*`) and one secret source; see ``FeatureStoreCore/ConfigSectionKind/validate(_:)``.
    public func validate(_ settings: inout StoreSettings) {
        for key in settings.values.keys.sorted() where !key.hasPrefix("tokens.") && key != "catalog" && key != "tokens" {
            settings.problem(at: settings.keyLocations[key] ?? settings.locations[key],
                             "unknown key '\(key)' in 'auth'\(Suggestion.hint(for: key, in: ["catalog", "tokens"])); allowed keys: tokens, catalog")
        }
        for key in ["catalog"] + (0..<(settings.itemLocations["tokens"]?.count ?? 0)).flatMap({ i in ["name", "env", "file"].map { "tokens.\(i).\($0)" } })
            where settings.itemLocations[key] != nil {
            settings.problem(key, "'\(key.split(separator: ".").last!)' in 'auth' must be a single value, not a list")
        }
        if let catalog = settings.values["catalog"], settings.itemLocations["catalog"] == nil, AuthConfig.CatalogAccess(rawValue: catalog) == nil {
            settings.problem("catalog", "unknown catalog access '\(catalog)'; use public (no token) or read (a token with a read scope)")
        }
        guard let items = settings.itemLocations["tokens"] else {
            settings.problem(at: settings.blockLocation, "'auth' is missing required key 'tokens'")
            return
        }
        if items.isEmpty {
            settings.problem(at: settings.keyLocations["tokens"], "'auth' needs at least one token (remove 'auth' to serve without authentication)")
            return
        }
        if settings.values["tokens"] != nil {
            settings.problem(at: settings.locations["tokens"], "each token of 'auth' must be a mapping with name, scopes, and env or file")
            return
        }
        // Keys written with dots (`tokens.7.name`) beyond the list's items name no token: only list items make tokens.
        for key in settings.values.keys.sorted() where key.hasPrefix("tokens.") {
            let index = key.split(separator: ".").dropFirst().first.flatMap { Int($0) }
            if index.map({ $0 < 0 || $0 >= items.count }) ?? true {
                settings.problem(at: settings.keyLocations[key] ?? settings.locations[key], "unknown key '\(key)' in 'auth'; tokens are the items of the 'tokens' list")
            }
        }
        var names: Set<String> = []
        for (i, at) in items.enumerated() {
            let prefix = "tokens.\(i)."
            for key in settings.values.keys.sorted() where key.hasPrefix(prefix) {
                let field = String(key.dropFirst(prefix.count))
                if !Self.tokenKeys.contains(field) {
                    settings.problem(at: settings.keyLocations[key], "unknown key '\(field)' in a token of 'auth'\(Suggestion.hint(for: field, in: Self.tokenKeys)); allowed keys: \(Self.tokenKeys.joined(separator: ", "))")
                }
            }
            guard let name = settings.values[prefix + "name"] else {
                settings.problem(at: at, "a token of 'auth' is missing required key 'name'")
                continue
            }
            let nameAt = settings.locations[prefix + "name"]
            guard Identifier.isValid(name) else {
                settings.problem(at: nameAt, "token name '\(name)' is not an identifier")
                continue
            }
            guard names.insert(name).inserted else {
                settings.problem(at: nameAt, "duplicate token name '\(name)'")
                continue
            }
            if let scopes = settings.values[prefix + "scopes"] {
                let texts = Self.items(scopes)
                guard let places = settings.itemLocations[prefix + "scopes"] else {
                    settings.problem(prefix + "scopes", "'scopes' of token '\(name)' must be a list (scopes: [\"read:*\"])")
                    continue
                }
                guard places.count == texts.count else {
                    settings.problem(prefix + "scopes", "a scope of token '\(name)' contains ','; write each scope as an item of its own")
                    continue
                }
                if texts.isEmpty {
                    settings.problem(at: settings.keyLocations[prefix + "scopes"], "token '\(name)' needs at least one scope (read:<view or *>, write:<view or *>)")
                }
                for (j, text) in texts.enumerated() where AccessScope(parsing: text) == nil {
                    settings.problem(at: j < places.count ? places[j] : settings.locations[prefix + "scopes"],
                                     "scope '\(text)' of token '\(name)' is not read:<view or *> or write:<view or *>")
                }
            } else {
                settings.problem(at: at, "a token of 'auth' is missing required key 'scopes'")
            }
            switch (settings.values[prefix + "env"], settings.values[prefix + "file"]) {
            case (_?, _?):
                settings.problem(prefix + "file", "token '\(name)' has both 'env' and 'file'; give one")
            case (nil, nil):
                settings.problem(at: nameAt, "token '\(name)' needs 'env' (an environment variable) or 'file' (a file) holding its secret; secrets are never written in the YAML")
            default:
                break
            }
        }
    }

    /// Reports scopes naming a feature view that is not declared; see
    /// ``FeatureStoreCore/ConfigSectionKind/checkReferences(_:featureViews:)``.
    public func checkReferences(_ settings: inout StoreSettings, featureViews: Set<String>) {
        let count = settings.itemLocations["tokens"]?.count ?? 0
        for i in 0..<count {
            let key = "tokens.\(i).scopes"
            guard let scopes = settings.values[key] else { continue }
            let places = settings.itemLocations[key] ?? []
            for (j, text) in Self.items(scopes).enumerated() {
                guard let view = AccessScope(parsing: text)?.view, !featureViews.contains(view) else { continue }
                settings.problem(at: j < places.count ? places[j] : settings.locations[key],
                                 "unknown feature view '\(view)' in an auth scope\(Suggestion.hint(for: view, in: featureViews))")
            }
        }
    }

    /// The items of a list setting (comma-joined; empty for an empty list).
    static func items(_ text: String) -> [String] {
        text.isEmpty ? [] : text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }

    /// The authentication the block describes (already validated); nil when there is none.
    public static func config(from settings: StoreSettings?) -> AuthConfig? {
        guard let settings else { return nil }
        let count = settings.itemLocations["tokens"]?.count ?? tokenCount(settings.values)
        var tokens: [TokenConfig] = []
        for i in 0..<count {
            let prefix = "tokens.\(i)."
            guard let name = settings.values[prefix + "name"] else { continue }
            let scopes = items(settings.values[prefix + "scopes"] ?? "").compactMap(AccessScope.init(parsing:))
            let secret: TokenConfig.Secret
            if let env = settings.values[prefix + "env"] {
                secret = .environment(env)
            } else if let file = settings.values[prefix + "file"] {
                secret = .file(file)
            } else {
                continue
            }
            tokens.append(TokenConfig(name: name, scopes: scopes, secret: secret))
        }
        return AuthConfig(tokens: tokens, catalog: settings.values["catalog"].flatMap(AuthConfig.CatalogAccess.init(rawValue:)) ?? .read)
    }

    /// How many tokens settings made in code or decoded from a registry hold (no item locations there).
    static func tokenCount(_ values: [String: String]) -> Int {
        var count = 0
        while values["tokens.\(count).name"] != nil { count += 1 }
        return count
    }
}

extension RepositoryConfig {
    /// Who may call the server, from the `auth` block; nil: no authentication (anyone who reaches the port).
    public var auth: AuthConfig? {
        sections["auth"].flatMap { AuthSection.config(from: $0) }
    }
}
