import Columnar
import Expressions

/// An on-demand view with its features compiled: what lookups and joins evaluate.
struct CompiledOnDemandView: Sendable {
    /// Where one input of a feature's expression comes from.
    enum Binding: Sendable, Hashable {
        /// A request field of the view.
        case request(RequestField)
        /// A feature of a feature view.
        case feature(view: String, feature: String)
    }

    /// One feature, compiled.
    struct Feature: Sendable {
        var definition: OnDemandFeature
        var expression: CompiledExpression
        var output: OutputType
        /// One binding per input of the expression, in slot order.
        var bindings: [Binding]
        /// Per binding, `view.feature` for a feature, the field's name for a request field.
        var inputKeys: [String]
    }

    let view: OnDemandView
    /// Features that compiled, in definition order (the compiler rejects definitions where one does not).
    let features: [Feature]

    init(_ view: OnDemandView, featureViews: [String: FeatureView]) {
        self.view = view
        let lookup = ExpressionScopes.onDemand(view, featureViews: featureViews)
        var features: [Feature] = []
        for feature in view.features {
            guard let output = feature.type.outputType,
                  case .success(let compiled) = ExpressionCompiler.compile(feature.expression, lookup: lookup) else { continue }
            let bindings: [Binding] = compiled.inputs.map { input in
                if let q = input.qualifier { return .feature(view: q, feature: input.name) }
                return .request(view.request.first { $0.name == input.name }!)
            }
            let keys = bindings.map { binding -> String in
                switch binding {
                case .request(let field): return field.name
                case .feature(let v, let f): return "\(v).\(f)"
                }
            }
            features.append(Feature(definition: feature, expression: compiled, output: output, bindings: bindings, inputKeys: keys))
        }
        self.features = features
    }

    func feature(named name: String) -> Feature? { features.first { $0.definition.name == name } }
}

/// One on-demand view's part of a join or lookup: the features wanted and their output names.
struct OnDemandRequest: Sendable {
    var view: CompiledOnDemandView
    var features: [CompiledOnDemandView.Feature]
    var outputNames: [String]
    /// Per feature, per input: its index in the selection's ``ResolvedSelection/onDemandInputs``.
    var slots: [[Int]] = []
}

/// One distinct input of a selection's on-demand features.
enum OnDemandInput: Sendable, Hashable {
    /// A request field.
    case request(RequestField)
    /// A view feature: its position among all the selection's view features (visible or not), and its type inside
    /// expressions.
    case feature(column: Int, type: ExpressionType)
}

extension OnlineValue {
    /// This value as an expression input of `type` (null when it holds none; lists and bytes never reach here).
    func expressionValue(_ type: ExpressionType) -> Value {
        switch (self, type) {
        case (.null, _): return .null
        case (.bool(let b), _): return .bool(b)
        case (.int(let i), .timestamp), (.timestamp(let i), _): return .timestamp(i)
        case (.int(let i), .float64): return .float64(Double(i))
        case (.int(let i), _): return .int64(i)
        case (.float(let f), _): return .float64(Double(f))
        case (.double(let d), _): return .float64(d)
        case (.string(let s), .timestamp): return TimeParsing.iso8601Micros(s).map { .timestamp($0) } ?? .null
        case (.string(let s), _): return .string(s)
        default: return .null
        }
    }

    /// An expression's value stored as `output`.
    init(_ value: Value, as output: OutputType) {
        switch (output.narrow(value), output) {
        case (.null, _): self = .null
        case (.bool(let b), _): self = .bool(b)
        case (.int64(let i), _): self = .int(i)
        case (.float64(let d), .float32): self = .float(Float(d))
        case (.float64(let d), _): self = .double(d)
        case (.string(let s), _): self = .string(s)
        case (.timestamp(let t), _): self = .timestamp(t)
        }
    }
}

extension RequestField {
    /// Whether a request value can be read as this field: the same kind of value, an integer for a float, an ISO
    /// 8601 text or integer microseconds for a timestamp.
    func accepts(_ value: OnlineValue) -> Bool {
        switch (type, value) {
        case (_, .null): return true
        case (.bool, .bool): return true
        case (.int32, .int(let i)): return Int64(Int32.min)...Int64(Int32.max) ~= i
        case (.int64, .int): return true
        case (.float32, .int), (.float32, .float), (.float32, .double), (.float64, .int), (.float64, .float), (.float64, .double): return true
        case (.string, .string): return true
        case (.timestamp, .timestamp), (.timestamp, .int): return true
        case (.timestamp, .string(let s)): return TimeParsing.iso8601Micros(s) != nil
        default: return false
        }
    }

    /// A request value as an expression input: float32 fields round to float32 first, so a lookup sees what a
    /// training set's float32 column holds.
    func expressionValue(_ value: OnlineValue) -> Value {
        let v = value.expressionValue(type.outputType?.expressionType ?? .null)
        if type == .float32, case .float64(let d) = v { return .float64(Double(Float(d))) }
        return v
    }

    /// Whether an entity-row column of `type` can be this field.
    func accepts(column type: DataType) -> Bool {
        switch self.type {
        case .bool: return type == .bool
        case .int32: return [.int8, .int16, .int32, .uint8, .uint16].contains(type)
        case .int64: return [.int8, .int16, .int32, .int64, .uint8, .uint16, .uint32].contains(type)
        case .float32: return type == .float32
        case .float64: return [.float32, .float64, .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32].contains(type)
        case .string: return type == .string
        case .bytes: return false
        case .timestamp:
            if case .timestamp = type { return true }
            return type == .date32
        }
    }
}
