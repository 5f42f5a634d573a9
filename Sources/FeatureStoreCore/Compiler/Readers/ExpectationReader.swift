import FeatureComputation
import Foundation
import Yams

/// Data-quality definitions: a feature's `expect:` block and a view's `expectations:` block.
extension Compilation {
    static let expectKeys = ["not_null", "min", "max", "allowed", "max_null_rate", "pattern", "min_length", "max_length", "drift"]
    static let viewExpectationKeys = ["policy", "max_staleness", "drift"]
    static let driftKeys = ["psi", "ks", "js"]

    /// A `drift:` block of thresholds.
    func readDrift(_ object: YAMLObject, _ reader: inout YAMLReader) -> DriftThresholds? {
        guard let node = reader.node(object, "drift") else { return nil }
        guard let d = reader.object(node, what: "the drift thresholds of \(object.what)", allowed: Self.driftKeys) else { return nil }
        var out = DriftThresholds()
        for key in Self.driftKeys {
            guard let text = reader.string(d, key) else { continue }
            guard let value = Double(text.value), value.isFinite, value > 0, key == "psi" || value <= 1 else {
                reader.error(text.location, "'\(key)' is a threshold above 0\(key == "psi" ? "" : " and at most 1"), found '\(text.value)'")
                continue
            }
            switch key {
            case "psi": out.psi = value
            case "ks": out.ks = value
            default: out.js = value
            }
        }
        return out
    }

    /// A feature's `expect:` block, checked against the feature's type (each rule must make sense for it).
    func readExpect(_ feature: YAMLObject, name: String, type: ValueType, _ reader: inout YAMLReader) -> FeatureExpectations? {
        guard let node = reader.node(feature, "expect") else { return nil }
        guard let e = reader.object(node, what: "the expectations of feature '\(name)'", allowed: Self.expectKeys) else { return nil }
        var out = FeatureExpectations()
        let scalar: ScalarType
        let isList: Bool
        switch type {
        case .scalar(let t): scalar = t; isList = false
        case .list(let t): scalar = t; isList = true
        }
        let numeric: Set<ScalarType> = [.int32, .int64, .float32, .float64]
        out.notNull = reader.bool(e, "not_null")?.value ?? false
        for key in ["min", "max"] {
            guard let text = reader.string(e, key) else { continue }
            guard numeric.contains(scalar) else {
                reader.error(text.location, "'\(key)' bounds numbers; feature '\(name)' is \(type)")
                continue
            }
            let bound: ExpectedNumber
            if text.value.contains(where: { "xXpP_".contains($0) }) {
                reader.error(text.location, "'\(key)' must be a decimal number, found '\(text.value)'")
                continue
            } else if let i = Int64(text.value) {
                bound = .int(i)
            } else if let d = Double(text.value), d.isFinite {
                bound = .double(d)
            } else {
                reader.error(text.location, "'\(key)' must be a finite number, found '\(text.value)'")
                continue
            }
            if key == "min" { out.min = bound } else { out.max = bound }
        }
        if let min = out.min, let max = out.max, ExpectationChecker.order(ofBounds: min, max) == .orderedDescending, let loc = reader.keyLocation(e, "max") {
            reader.error(loc, "'max' (\(max)) is below 'min' (\(min)) for feature '\(name)': no value could pass")
        }
        if let items = reader.stringList(e, "allowed") {
            var values: [ExpectedValue] = []
            for item in items {
                switch scalar {
                case .string:
                    values.append(.string(item.value))
                case .int32, .int64:
                    if let i = Int64(item.value), scalar == .int64 || Int64(Int32.min)...Int64(Int32.max) ~= i {
                        values.append(.int(i))
                    } else {
                        reader.error(item.location, "'\(item.value)' is not an \(scalar.rawValue) value for feature '\(name)'")
                    }
                case .bool:
                    if ["true", "True", "TRUE", "false", "False", "FALSE"].contains(item.value) {
                        values.append(.bool(item.value.lowercased() == "true"))
                    } else {
                        reader.error(item.location, "'\(item.value)' is not true or false for feature '\(name)'")
                    }
                default:
                    reader.error(item.location, "'allowed' lists values of strings, integers or booleans; feature '\(name)' is \(type) (bound numbers with min and max)")
                }
            }
            if items.isEmpty, let loc = reader.keyLocation(e, "allowed") {
                reader.error(loc, "'allowed' is empty: no value could pass")
            }
            out.allowed = values
        }
        if let text = reader.string(e, "max_null_rate") {
            if let rate = Double(text.value), rate >= 0, rate <= 1 {
                out.maxNullRate = rate
            } else {
                reader.error(text.location, "'max_null_rate' is a share of rows from 0 to 1, found '\(text.value)'")
            }
        }
        if let text = reader.string(e, "pattern") {
            if scalar != .string {
                reader.error(text.location, "'pattern' matches strings; feature '\(name)' is \(type)")
            } else {
                do {
                    _ = try CompiledPattern(text.value)
                    out.pattern = text.value
                } catch {
                    reader.error(text.location, "'pattern' is not a regular expression: \(error)")
                }
            }
        }
        for key in ["min_length", "max_length"] {
            guard let text = reader.string(e, key) else { continue }
            guard isList else {
                reader.error(text.location, "'\(key)' bounds the length of lists; feature '\(name)' is \(type)")
                continue
            }
            guard let n = Int(text.value), n >= 0 else {
                reader.error(text.location, "'\(key)' must be a whole number from 0, found '\(text.value)'")
                continue
            }
            if key == "min_length" { out.minLength = n } else { out.maxLength = n }
        }
        if let lo = out.minLength, let hi = out.maxLength, lo > hi, let loc = reader.keyLocation(e, "max_length") {
            reader.error(loc, "'max_length' (\(hi)) is below 'min_length' (\(lo)) for feature '\(name)': no list could pass")
        }
        out.drift = readDrift(e, &reader)
        if out == FeatureExpectations(), let loc = reader.keyLocation(feature, "expect") {
            reader.error(loc, "'expect' of feature '\(name)' sets no rule; rules: \(Self.expectKeys.joined(separator: ", "))")
            return nil
        }
        return out
    }

    /// A view's `expectations:` block.
    func readViewExpectations(_ view: YAMLObject, _ reader: inout YAMLReader) -> ViewExpectations? {
        guard let node = reader.node(view, "expectations") else { return nil }
        guard let e = reader.object(node, what: "the expectations of \(view.what)", allowed: Self.viewExpectationKeys) else { return nil }
        var out = ViewExpectations()
        if let text = reader.string(e, "policy") {
            if let policy = ViolationPolicy(rawValue: text.value) {
                out.policy = policy
            } else {
                let names = ViolationPolicy.allCases.map(\.rawValue)
                reader.error(text.location, "unknown policy '\(text.value)'\(Suggestion.hint(for: text.value, in: names)); policies: \(names.joined(separator: ", "))")
            }
        }
        if let text = reader.string(e, "max_staleness") {
            if let span = TimeSpan(parsing: text.value), span.seconds > 0 {
                out.maxStaleness = span
            } else {
                reader.error(text.location, "bad duration '\(text.value)' for 'max_staleness': write a positive duration like 15m, 2h or 1d")
            }
        }
        out.drift = readDrift(e, &reader)
        return out
    }
}
