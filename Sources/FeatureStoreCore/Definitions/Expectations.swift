/// The rules a feature's values are expected to follow (its `expect:` block), checked wherever data moves: stream
/// ingestion, materialization and `featurectl join --check`, by one checker (``ExpectationChecker``).
///
/// Value rules hold for each value: `not_null`, `min`/`max` (numbers; a list's elements), `allowed` (strings,
/// integers, booleans; a list's elements; strings compared byte for byte, so two Unicode spellings are two values, as
/// everywhere else), `pattern` (strings; the whole value must match; a list's elements), `min_length`/`max_length`
/// (lists). `max_null_rate` holds over a batch: a materialization run or a training set (not stream events, which
/// arrive one by one).
public struct FeatureExpectations: Sendable, Hashable, Codable {
    /// The value must not be null.
    public var notNull: Bool
    /// The smallest value allowed (inclusive). NaN is outside any bound.
    public var min: ExpectedNumber?
    /// The greatest value allowed (inclusive).
    public var max: ExpectedNumber?
    /// The only values allowed (nil: any).
    public var allowed: [ExpectedValue]?
    /// The greatest share of nulls in a batch, from 0 to 1.
    public var maxNullRate: Double?
    /// A regular expression the whole string must match (Unicode scalars, not grapheme clusters).
    public var pattern: String?
    /// The fewest elements of a list.
    public var minLength: Int?
    /// The most elements of a list.
    public var maxLength: Int?
    /// Drift thresholds of this feature (nil: the view's, else the defaults).
    public var drift: DriftThresholds?

    /// Expectations as written (nil or false: no such rule).
    public init(notNull: Bool = false, min: ExpectedNumber? = nil, max: ExpectedNumber? = nil, allowed: [ExpectedValue]? = nil,
                maxNullRate: Double? = nil, pattern: String? = nil, minLength: Int? = nil, maxLength: Int? = nil) {
        self.notNull = notNull
        self.min = min
        self.max = max
        self.allowed = allowed
        self.maxNullRate = maxNullRate
        self.pattern = pattern
        self.minLength = minLength
        self.maxLength = maxLength
    }

    enum CodingKeys: String, CodingKey {
        case notNull = "not_null", min, max, allowed, maxNullRate = "max_null_rate", pattern, minLength = "min_length", maxLength = "max_length", drift
    }

    /// Decodes the canonical form (absent rules omitted).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        notNull = try c.decodeIfPresent(Bool.self, forKey: .notNull) ?? false
        min = try c.decodeIfPresent(ExpectedNumber.self, forKey: .min)
        max = try c.decodeIfPresent(ExpectedNumber.self, forKey: .max)
        allowed = try c.decodeIfPresent([ExpectedValue].self, forKey: .allowed)
        maxNullRate = try c.decodeIfPresent(Double.self, forKey: .maxNullRate)
        pattern = try c.decodeIfPresent(String.self, forKey: .pattern)
        minLength = try c.decodeIfPresent(Int.self, forKey: .minLength)
        maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength)
        drift = try c.decodeIfPresent(DriftThresholds.self, forKey: .drift)
    }

    /// Encodes the rules that are set.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if notNull { try c.encode(true, forKey: .notNull) }
        try c.encodeIfPresent(min, forKey: .min)
        try c.encodeIfPresent(max, forKey: .max)
        try c.encodeIfPresent(allowed, forKey: .allowed)
        try c.encodeIfPresent(maxNullRate, forKey: .maxNullRate)
        try c.encodeIfPresent(pattern, forKey: .pattern)
        try c.encodeIfPresent(minLength, forKey: .minLength)
        try c.encodeIfPresent(maxLength, forKey: .maxLength)
        try c.encodeIfPresent(drift, forKey: .drift)
    }

    /// The rules set, in a fixed order (for the catalog).
    public var rules: [(rule: ExpectationRule, text: String)] {
        var out: [(ExpectationRule, String)] = []
        if notNull { out.append((.notNull, "not null")) }
        if let min { out.append((.min, ">= \(min)")) }
        if let max { out.append((.max, "<= \(max)")) }
        if let allowed { out.append((.allowed, "in {\(allowed.map(\.description).joined(separator: ", "))}")) }
        if let maxNullRate { out.append((.maxNullRate, "null rate <= \(maxNullRate)")) }
        if let pattern { out.append((.pattern, "matches /\(pattern)/")) }
        if let minLength { out.append((.minLength, "length >= \(minLength)")) }
        if let maxLength { out.append((.maxLength, "length <= \(maxLength)")) }
        return out
    }
}

/// A rule of ``FeatureExpectations``, by its YAML name (`not_null`, `min`, ...), which metrics, dead letters and
/// reports use too; `max_staleness` is the view's freshness rule.
public enum ExpectationRule: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case notNull = "not_null"
    case min
    case max
    case allowed
    case maxNullRate = "max_null_rate"
    case pattern
    case minLength = "min_length"
    case maxLength = "max_length"
    case maxStaleness = "max_staleness"

    /// Declaration order.
    public static func < (a: Self, b: Self) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}

/// A bound as written: an integer exactly (64-bit bounds stay exact against integer features) or a number.
public enum ExpectedNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    case int(Int64)
    case double(Double)

    /// The bound as written (`0`, `0.5`).
    public var description: String {
        switch self {
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        }
    }

    /// Decodes an integer when the JSON number is one, else a number.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int64.self) { self = .int(i) } else { self = .double(try c.decode(Double.self)) }
    }

    /// Encodes the number.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        }
    }
}

/// An allowed value, typed by the feature's type when compiled.
public enum ExpectedValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case string(String)
    case int(Int64)
    case bool(Bool)

    /// The value as written.
    public var description: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return String(b)
        }
    }

    /// Decodes a JSON string, integer or boolean.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) } else if let i = try? c.decode(Int64.self) { self = .int(i) } else {
            self = .string(try c.decode(String.self))
        }
    }

    /// Encodes the value.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .int(let i): try c.encode(i)
        case .bool(let b): try c.encode(b)
        }
    }
}

/// What happens to data that breaks a view's expectations (`expectations: {policy: ...}`).
public enum ViolationPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Counted and reported; the data is written (the default).
    case warn
    /// Counted; a violating row is not written (a stream event goes to the dead-letter topic, naming the rule).
    case drop
    /// Counted; a materialization stops before writing the view, a join `--check` exits non-zero; a stream event goes
    /// to the dead-letter topic (a stream cannot stop for one event).
    case fail
}

/// A view's data-quality settings (its `expectations:` block).
public struct ViewExpectations: Sendable, Hashable, Codable {
    /// What happens to violating data.
    public var policy: ViolationPolicy
    /// The freshness goal: the newest online row should be younger than this (nil: none).
    public var maxStaleness: TimeSpan?
    /// Drift thresholds of the view's features (a feature's own override them).
    public var drift: DriftThresholds?

    /// Settings as written.
    public init(policy: ViolationPolicy = .warn, maxStaleness: TimeSpan? = nil, drift: DriftThresholds? = nil) {
        self.policy = policy
        self.maxStaleness = maxStaleness
        self.drift = drift
    }

    enum CodingKeys: String, CodingKey { case policy, maxStaleness = "max_staleness", drift }
}

/// How far a feature's distribution may move before `featurectl drift` reports it (each nil: the default).
public struct DriftThresholds: Sendable, Hashable, Codable {
    /// The population stability index (default 0.2, the usual "significant shift").
    public var psi: Double?
    /// The Kolmogorov-Smirnov statistic, numbers only (default 0.1).
    public var ks: Double?
    /// The Jensen-Shannon distance, base 2, categories only (default 0.1).
    public var js: Double?

    /// Thresholds as written.
    public init(psi: Double? = nil, ks: Double? = nil, js: Double? = nil) {
        self.psi = psi
        self.ks = ks
        self.js = js
    }

    /// The defaults.
    public static let defaults = DriftThresholds(psi: 0.2, ks: 0.1, js: 0.1)

    /// These thresholds, each missing one taken from `fallback`.
    public func over(_ fallback: DriftThresholds) -> DriftThresholds {
        DriftThresholds(psi: psi ?? fallback.psi, ks: ks ?? fallback.ks, js: js ?? fallback.js)
    }
}
