/// The settings of one store or engine kind, as written in `feature_store.yaml` (the block of `online_store`, for
/// example), for the kind to read and check itself.
///
/// The compiler hands the block to its kind (``OnlineStoreKind/validate(_:)``), which reads each setting with the typed
/// accessors below; a setting that is missing, of the wrong type or out of range is reported with ``problem(_:_:)`` at
/// its `file:line:column`, like every other definition error. Settings the kind does not name are errors too.
public struct StoreSettings: Sendable, Hashable, Codable {
    /// The kind named by `kind:` (a kind's default when the block is absent).
    public var kind: String
    /// Scalar settings as written (numbers and booleans as their text), by key.
    public var values: [String: String]
    /// Where each setting's value was written (absent for defaults and for settings made in code).
    public var locations: [String: SourceLocation]
    /// Where each setting's key was written.
    public var keyLocations: [String: SourceLocation] = [:]
    /// For a setting written as a list, where each item was written: a list of plain values is one comma-joined
    /// value (`nodes: [a:1, b:2]` is `"a:1,b:2"`); a list of mappings is dotted keys by position
    /// (`tokens: [{name: x}]` is `tokens.0.name`).
    public var itemLocations: [String: [SourceLocation]] = [:]
    /// Where the block itself was written.
    public var blockLocation: SourceLocation?
    /// Problems found while the kind read its settings.
    public private(set) var problems: [Diagnostic] = []
    /// The repository's project, set when a store is opened (a shared server keeps projects apart by it).
    public var project: String?

    /// Settings made in code (tests, programs): no locations.
    public init(kind: String, values: [String: String] = [:]) {
        self.kind = kind
        self.values = values
        self.locations = [:]
        self.blockLocation = nil
    }

    /// What the settings configure, for messages ("online store", "offline engine", "source", "message format").
    public var family = "online store"
    /// Keys of the enclosing object that are not the kind's (a source's common keys), offered as suggestions for
    /// unknown settings.
    public var sharedKeys: [String] = []

    init(kind: String, values: [String: String], locations: [String: SourceLocation], blockLocation: SourceLocation?) {
        self.kind = kind
        self.values = values
        self.locations = locations
        self.blockLocation = blockLocation
    }

    /// `message` prefixed with where the block names its kind (`feature_store.yaml:7:9: ...`), when known: for
    /// errors raised after compiling, like an unknown kind used under ``UnknownKindPolicy/deferUntilUsed``.
    public func located(_ message: String) -> String {
        guard let at = keyLocations["kind"] ?? blockLocation else { return message }
        return "\(at): \(message)"
    }

    /// Reports a problem at `location` (an item of a list, say; see ``itemLocations``).
    public mutating func problem(at location: SourceLocation?, _ message: String) {
        problems.append(Diagnostic(location ?? blockLocation ?? SourceLocation(file: "feature_store.yaml", line: 1, column: 1), message))
    }

    /// Reports a problem with `key` (at the setting, or at the block when the setting is absent).
    public mutating func problem(_ key: String, _ message: String) {
        let at = locations[key] ?? blockLocation ?? SourceLocation(file: "feature_store.yaml", line: 1, column: 1)
        problems.append(Diagnostic(at, message))
    }

    /// Reports every setting that is not one of `allowed` (besides `kind`), with the closest allowed name.
    public mutating func rejectUnknown(allowing allowed: [String]) {
        for key in values.keys.sorted() where !allowed.contains(key) {
            let at = keyLocations[key] ?? locations[key] ?? blockLocation ?? SourceLocation(file: "feature_store.yaml", line: 1, column: 1)
            problems.append(Diagnostic(at, "unknown setting '\(key)' for \(family) kind '\(kind)'\(Suggestion.hint(for: key, in: allowed + sharedKeys)); its settings: \(allowed.isEmpty ? "none" : allowed.joined(separator: ", "))"))
        }
    }

    /// A string setting, or `defaultValue` when absent.
    public mutating func string(_ key: String, default defaultValue: String? = nil, required: Bool = false) -> String? {
        if let value = values[key] { return value }
        if required { problem(key, "\(family) kind '\(kind)' needs '\(key)'") }
        return defaultValue
    }

    /// A whole-number setting within `range`, or `defaultValue` when absent (or invalid, after reporting it).
    public mutating func integer(_ key: String, default defaultValue: Int, in range: ClosedRange<Int>) -> Int {
        guard let text = values[key] else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            problem(key, "'\(key)' must be a whole number from \(range.lowerBound) to \(range.upperBound), found '\(text)'")
            return defaultValue
        }
        return value
    }

    /// A `true`/`false` setting, or `defaultValue` when absent (or invalid, after reporting it).
    public mutating func bool(_ key: String, default defaultValue: Bool) -> Bool {
        guard let text = values[key] else { return defaultValue }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            problem(key, "'\(key)' must be true or false, found '\(text)'")
            return defaultValue
        }
    }

    /// A duration setting (`500ms` is not a duration: write `1s`; `90s`, `2m`), or `defaultValue` when absent.
    public mutating func duration(_ key: String, default defaultValue: TimeSpan) -> TimeSpan {
        guard let text = values[key] else { return defaultValue }
        guard let span = TimeSpan(parsing: text) else {
            problem(key, "'\(key)' must be a duration like 5s, 2m or 1h, found '\(text)'")
            return defaultValue
        }
        return span
    }

    // Equality, hashing and coding see the settings only (kind and values), not where they were written.

    /// Equal kinds and values (locations and problems are not compared).
    public static func == (a: StoreSettings, b: StoreSettings) -> Bool { a.kind == b.kind && a.values == b.values }

    /// Hashes the kind and values, as ``==`` compares them.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(values)
    }

    /// Coded flat, as written: `{"kind": "sqlite", "path": "data/online.db"}`.
    public init(from decoder: any Decoder) throws {
        var values = try decoder.singleValueContainer().decode([String: String].self)
        let kind = values.removeValue(forKey: "kind") ?? ""
        self.init(kind: kind, values: values)
    }

    /// Encodes the flat form: the values beside `kind`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values.merging(["kind": kind]) { _, new in new })
    }
}
