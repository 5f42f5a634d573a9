import Foundation

/// A value that broke a rule: which feature, which rule, and what was wrong, naming both.
public struct Violation: Sendable, Hashable {
    /// The feature.
    public var feature: String
    /// The rule broken.
    public var rule: ExpectationRule
    /// What was wrong (`conv_rate: 1.7 is above max 1`).
    public var message: String
}

/// A regular expression of a `pattern` rule, compiled once. Matching reads it only, so one is shared across tasks
/// (the standard library's `Regex` is not `Sendable`, being generic over any output).
public final class CompiledPattern: @unchecked Sendable {
    private let regex: Regex<AnyRegexOutput>

    /// Compiles `pattern`, matched on Unicode scalars (a string's bytes' characters, not grapheme clusters: two
    /// spellings of one text are two strings here, as everywhere).
    public init(_ pattern: String) throws {
        regex = try Regex(pattern).matchingSemantics(.unicodeScalar)
    }

    /// Whether the whole of `text` matches.
    public func matches(_ text: String) -> Bool { text.wholeMatch(of: regex) != nil }
}

/// Checks rows of one view against its features' expectations: the one checker of stream ingestion, materialization
/// and `featurectl join --check`, over the values as the online store holds them (``OnlineValue``).
public struct ExpectationChecker: Sendable {
    struct Rules: Sendable {
        var index: Int
        var name: String
        var expect: FeatureExpectations
        var pattern: CompiledPattern?
        var allowedStrings: Set<[UInt8]>
        var allowedInts: Set<Int64>
        var allowedBools: Set<Bool>
    }

    let rules: [Rules]

    /// A checker of `view`'s rows (values in the view's feature order).
    public init(view: FeatureView) {
        self.init(features: view.features)
    }

    /// A checker of rows of `features`' values, in that order.
    public init(features: [Feature]) {
        var rules: [Rules] = []
        for (i, feature) in features.enumerated() {
            guard let e = feature.expectations else { continue }
            var strings = Set<[UInt8]>(), ints = Set<Int64>(), bools = Set<Bool>()
            for v in e.allowed ?? [] {
                switch v {
                case .string(let s): strings.insert(Array(s.utf8))
                case .int(let n): ints.insert(n)
                case .bool(let b): bools.insert(b)
                }
            }
            rules.append(Rules(index: i, name: feature.name, expect: e, pattern: e.pattern.flatMap { try? CompiledPattern($0) },
                               allowedStrings: strings, allowedInts: ints, allowedBools: bools))
        }
        self.rules = rules
    }

    /// Whether no feature has expectations (every row passes).
    public var isEmpty: Bool { rules.isEmpty }

    /// The value rules `values` (one per feature, in order) break; `max_null_rate` is a batch's rule
    /// (``ExpectationTally``).
    public func violations(_ values: [OnlineValue]) -> [Violation] {
        var out: [Violation] = []
        for r in rules where r.index < values.count {
            check(values[r.index], r, into: &out)
        }
        return out
    }

    /// The first rule `values` break, if any.
    public func firstViolation(_ values: [OnlineValue]) -> Violation? {
        for r in rules where r.index < values.count {
            var out: [Violation] = []
            check(values[r.index], r, into: &out)
            if let first = out.first { return first }
        }
        return nil
    }

    private func check(_ value: OnlineValue, _ r: Rules, into out: inout [Violation]) {
        let e = r.expect
        if case .null = value {
            if e.notNull { out.append(Violation(feature: r.name, rule: .notNull, message: "\(r.name): null, expected a value (not_null)")) }
            return
        }
        if case .list(let items) = value {
            if let lo = e.minLength, items.count < lo {
                out.append(Violation(feature: r.name, rule: .minLength, message: "\(r.name): \(items.count) elements, expected at least \(lo) (min_length)"))
            }
            if let hi = e.maxLength, items.count > hi {
                out.append(Violation(feature: r.name, rule: .maxLength, message: "\(r.name): \(items.count) elements, expected at most \(hi) (max_length)"))
            }
            for (i, item) in items.enumerated() where item != .null {
                if let v = elementViolation(item, r, field: "\(r.name)[\(i)]") { out.append(v); break }
            }
            return
        }
        if let v = elementViolation(value, r, field: r.name) { out.append(v) }
    }

    /// The first of min, max, allowed and pattern a scalar breaks.
    private func elementViolation(_ value: OnlineValue, _ r: Rules, field: String) -> Violation? {
        let e = r.expect
        if e.min != nil || e.max != nil, let number = Self.number(value) {
            // A float32 value meets a bound as float32 holds it: 0.1 as a float32 is 0.10000000149, and meets max 0.1.
            let single: Bool
            if case .float = value { single = true } else { single = false }
            let lower = single ? e.min.map(Self.asFloat32) : e.min, upper = single ? e.max.map(Self.asFloat32) : e.max
            if let min = e.min, let bound = lower, Self.compare(number, bound) ?? .orderedAscending == .orderedAscending {
                return Violation(feature: r.name, rule: .min, message: "\(field): \(value) is below min \(min)")
            }
            if let max = e.max, let bound = upper, Self.compare(number, bound) ?? .orderedDescending == .orderedDescending {
                return Violation(feature: r.name, rule: .max, message: "\(field): \(value) is above max \(max)")
            }
        }
        if e.allowed != nil {
            let ok: Bool
            switch value {
            case .string(let s): ok = r.allowedStrings.contains(Array(s.utf8))
            case .int(let n): ok = r.allowedInts.contains(n)
            case .bool(let b): ok = r.allowedBools.contains(b)
            default: ok = true
            }
            if !ok { return Violation(feature: r.name, rule: .allowed, message: "\(field): \(Self.quoted(value)) is not an allowed value") }
        }
        if let pattern = r.pattern, case .string(let s) = value, !pattern.matches(s) {
            return Violation(feature: r.name, rule: .pattern, message: "\(field): \(Self.quoted(value)) does not match /\(e.pattern ?? "")/")
        }
        return nil
    }

    private static func quoted(_ value: OnlineValue) -> String {
        if case .string(let s) = value { return "'\(s)'" }
        return "\(value)"
    }

    /// A bound rounded to the nearest float32 (for float32 values).
    static func asFloat32(_ bound: ExpectedNumber) -> ExpectedNumber {
        switch bound {
        case .int(let i): return .double(Double(Float(i)))
        case .double(let d): return .double(Double(Float(d)))
        }
    }

    /// A number of a value (nil: not a number).
    static func number(_ value: OnlineValue) -> ExpectedNumber? {
        switch value {
        case .int(let i): return .int(i)
        case .float(let f): return .double(Double(f))
        case .double(let d): return .double(d)
        default: return nil
        }
    }

    /// Exact order of two numbers, integers against doubles too; a NaN is unordered: `nil` (outside any bound).
    static func compare(_ a: ExpectedNumber, _ b: ExpectedNumber) -> ComparisonResult? {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            return x < y ? .orderedAscending : x > y ? .orderedDescending : .orderedSame
        case (.double(let x), .double(let y)):
            if x.isNaN || y.isNaN { return nil }
            return x < y ? .orderedAscending : x > y ? .orderedDescending : .orderedSame
        case (.int(let x), .double(let y)):
            return compare(x, y)
        case (.double(let x), .int(let y)):
            return compare(y, x).map { $0 == .orderedAscending ? .orderedDescending : $0 == .orderedDescending ? .orderedAscending : .orderedSame }
        }
    }

    /// `i` against `d`, exactly (no rounding of `i` to a double).
    static func compare(_ i: Int64, _ d: Double) -> ComparisonResult? {
        if d.isNaN { return nil }
        if d >= 9_223_372_036_854_775_808.0 { return .orderedAscending }
        if d < -9_223_372_036_854_775_808.0 { return .orderedDescending }
        let whole = d.rounded(.down)
        let w = Int64(whole)
        if i < w { return .orderedAscending }
        if i > w { return .orderedDescending }
        return whole == d ? .orderedSame : .orderedAscending
    }

    /// Order of two bounds (finite numbers), for the compiler's min <= max check.
    static func order(ofBounds a: ExpectedNumber, _ b: ExpectedNumber) -> ComparisonResult { compare(a, b) ?? .orderedSame }
}

/// Violations counted over a batch (a materialization run, a stream batch, a training set): per feature and rule,
/// with each feature's nulls, so `max_null_rate` is judged over the whole batch.
public struct ExpectationTally: Sendable, Hashable, Codable {
    /// Rows seen.
    public var rows = 0
    /// Violations per feature and rule (value rules, then `max_null_rate` once ``finish(_:)`` judged the batch).
    public var counts: [String: [String: Int]] = [:]
    /// Nulls per feature with a `max_null_rate`.
    public var nulls: [String: Int] = [:]
    /// The first violation's message per feature and rule, for reports.
    public var examples: [String: String] = [:]

    /// An empty tally.
    public init() {}

    /// Counts one row of values (in the checker's feature order) and its violations.
    public mutating func add(_ values: [OnlineValue], violations: [Violation], checker: ExpectationChecker) {
        rows += 1
        for r in checker.rules where r.expect.maxNullRate != nil && r.index < values.count {
            if case .null = values[r.index] { nulls[r.name, default: 0] += 1 }
        }
        for v in violations { count(v) }
    }

    /// Counts a violation.
    public mutating func count(_ v: Violation) {
        counts[v.feature, default: [:]][v.rule.rawValue, default: 0] += 1
        let key = "\(v.feature).\(v.rule.rawValue)"
        if examples[key] == nil { examples[key] = v.message }
    }

    /// Judges the batch's null rates (once, at its end): a feature over its `max_null_rate` counts one violation.
    public mutating func finish(_ checker: ExpectationChecker) {
        guard rows > 0 else { return }
        for r in checker.rules {
            guard let limit = r.expect.maxNullRate else { continue }
            let rate = Double(nulls[r.name] ?? 0) / Double(rows)
            if rate > limit {
                count(Violation(feature: r.name, rule: .maxNullRate,
                                message: "\(r.name): \(nulls[r.name] ?? 0) nulls in \(rows) rows (\(Self.percent(rate))), over max_null_rate \(limit)"))
            }
        }
    }

    /// Violations of every rule.
    public var total: Int { counts.values.reduce(0) { $0 + $1.values.reduce(0, +) } }

    /// `conv_rate: max 3, not_null 1 (conv_rate: 1.7 is above max 1)`: each feature's counts by rule, with the first
    /// example of each; features and rules in a fixed order.
    public var summary: String {
        counts.keys.sorted().map { feature in
            let rules = counts[feature]!.sorted { $0.key < $1.key }
            let text = rules.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            let examples = rules.compactMap { self.examples["\(feature).\($0.key)"] }.joined(separator: "; ")
            return "\(feature): \(text) (\(examples))"
        }.joined(separator: "; ")
    }

    static func percent(_ rate: Double) -> String { String(format: "%.2f%%", rate * 100) }
}
