import FeatureServingAPI
import FeatureStore
import GRPCCore

typealias V1 = Featurestore_V1_Value

/// A request that cannot be served: INVALID_ARGUMENT naming the offending field.
func invalidArgument(_ message: String) -> RPCError {
    RPCError(code: .invalidArgument, message: message)
}

extension OnlineValue {
    /// The protobuf form of a served value.
    var proto: Featurestore_V1_Value {
        var v = Featurestore_V1_Value()
        switch self {
        case .null: break
        case .bool(let b): v.boolValue = b
        case .int(let i): v.int64Value = i
        case .float(let f): v.floatValue = f
        case .double(let d): v.doubleValue = d
        case .string(let s): v.stringValue = s
        case .bytes(let b): v.bytesValue = .init(b)
        case .timestamp(let t): v.timestampMicros = t
        case .list(let items): v.listValue = .with { $0.values = items.map(\.proto) }
        }
        return v
    }

    /// A pushed value, checked against the feature's declared type; `field` names it in errors.
    init(_ value: Featurestore_V1_Value, as type: ValueType, field: String) throws(RPCError) {
        guard let kind = value.kind else {
            self = .null
            return
        }
        switch (type, kind) {
        case (.scalar(.bool), .boolValue(let b)): self = .bool(b)
        case (.scalar(.int32), .int64Value(let i)):
            guard Int64(Int32.min)...Int64(Int32.max) ~= i else { throw invalidArgument("\(field): \(i) does not fit int32") }
            self = .int(i)
        case (.scalar(.int64), .int64Value(let i)): self = .int(i)
        case (.scalar(.float32), .floatValue(let f)): self = .float(f)
        case (.scalar(.float64), .doubleValue(let d)): self = .double(d)
        case (.scalar(.float64), .floatValue(let f)): self = .double(Double(f))
        case (.scalar(.string), .stringValue(let s)): self = .string(s)
        case (.scalar(.bytes), .bytesValue(let b)): self = .bytes(Array(b))
        case (.scalar(.timestamp), .timestampMicros(let t)): self = .timestamp(t)
        case (.list(let inner), .listValue(let list)):
            var items: [OnlineValue] = []
            for (i, item) in list.values.enumerated() {
                items.append(try OnlineValue(item, as: .scalar(inner), field: "\(field)[\(i)]"))
            }
            self = .list(items)
        default:
            throw invalidArgument("\(field): a \(Self.kindName(kind)) value for a feature of type \(type)")
        }
    }

    private static func kindName(_ kind: Featurestore_V1_Value.OneOf_Kind) -> String {
        switch kind {
        case .boolValue: return "bool"
        case .int64Value: return "int64"
        case .floatValue: return "float"
        case .doubleValue: return "double"
        case .stringValue: return "string"
        case .bytesValue: return "bytes"
        case .timestampMicros: return "timestamp"
        case .listValue: return "list"
        }
    }
}

extension Featurestore_V1_KeyColumn {
    /// The column's values as online key values (type checks happen where the key's declared type is known).
    func onlineValues(field: String) throws(RPCError) -> [OnlineValue] {
        switch values {
        case .int64Values(let a): return a.values.map { .int($0) }
        case .stringValues(let a): return a.values.map { .string($0) }
        case .bytesValues(let a): return a.values.map { .bytes(Array($0)) }
        case nil: throw invalidArgument("\(field): no values (set int64_values, string_values or bytes_values)")
        }
    }
}

extension FeatureStatus {
    var proto: Featurestore_V1_FeatureStatus {
        switch self {
        case .present: return .present
        case .nullValue: return .nullValue
        case .notFound: return .notFound
        case .outsideMaxAge: return .outsideMaxAge
        }
    }
}

extension Featurestore_V1_FeatureViewSpec {
    init(_ view: FeatureView, registry: Registry) {
        self.init()
        name = view.name
        entities = view.entities
        joinKeys = registry.joinKeys(of: view).map { key in .with { $0.name = key.name; $0.type = key.type.rawValue } }
        source = view.source
        ttlSeconds = view.ttl.seconds
        online = view.online
        features = view.features.map { f in .with { $0.name = f.name; $0.type = f.type.description; $0.description_p = f.description } }
        description_p = view.description
        owner = view.owner
        tags = view.tags
    }
}
