import Columnar
import ErrorChain
public import FeatureServingAPI
public import FeatureStoreCore
import GRPCCore
import SwiftProtobuf

extension ServingError {
    /// The gRPC status of the error.
    var rpcError: RPCError {
        let code: RPCError.Code
        switch self.code {
        case .ok, .internal: code = .internalError
        case .invalidArgument: code = .invalidArgument
        case .unauthenticated: code = .unauthenticated
        case .permissionDenied: code = .permissionDenied
        case .notFound: code = .notFound
        case .unavailable: code = .unavailable
        }
        return RPCError(code: code, message: ErrorChain.render(self))
    }
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
    init(_ value: Featurestore_V1_Value, as type: ValueType, field: String) throws(ServingError) {
        guard let kind = value.kind else {
            self = .null
            return
        }
        switch (type, kind) {
        case (.scalar(.bool), .boolValue(let b)): self = .bool(b)
        case (.scalar(.int32), .int64Value(let i)):
            guard Int64(Int32.min)...Int64(Int32.max) ~= i else { throw .invalid("\(field): \(i) does not fit int32") }
            self = .int(i)
        case (.scalar(.int64), .int64Value(let i)): self = .int(i)
        case (.scalar(.float32), .floatValue(let f)): self = .float(f)
        case (.scalar(.float64), .doubleValue(let d)): self = .double(d)
        case (.scalar(.float64), .floatValue(let f)): self = .double(Double(f))
        // Numbers as the HTTP/JSON API and the stream decoders take them (one meaning for every door): a double for a
        // float32 feature rounds to the nearest float32, an integer for a float feature becomes that number.
        case (.scalar(.float32), .doubleValue(let d)): self = .float(Float(d))
        case (.scalar(.float32), .int64Value(let i)): self = .float(Float(Double(i)))
        case (.scalar(.float64), .int64Value(let i)): self = .double(Double(i))
        case (.scalar(.string), .stringValue(let s)): self = .string(s)
        case (.scalar(.bytes), .bytesValue(let b)): self = .bytes(Array(b))
        case (.scalar(.timestamp), .timestampMicros(let t)): self = .timestamp(t)
        case (.scalar(.timestamp), .stringValue(let text)):
            guard let micros = TimeParsing.iso8601Micros(text) else {
                throw .invalid("\(field): '\(text)' is not an ISO-8601 time like 2025-01-31T12:00:00Z")
            }
            self = .timestamp(micros)
        case (.list(let inner), .listValue(let list)):
            var items: [OnlineValue] = []
            for (i, item) in list.values.enumerated() {
                items.append(try OnlineValue(item, as: .scalar(inner), field: "\(field)[\(i)]"))
            }
            self = .list(items)
        default:
            throw .invalid("\(field): a \(Self.kindName(kind)) value for a feature of type \(type)")
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

extension Featurestore_V1_KeyColumn: WireColumn {
    /// The number of key values (0 when none is set).
    public var count: Int {
        switch values {
        case .int64Values(let a): return a.values.count
        case .stringValues(let a): return a.values.count
        case .bytesValues(let a): return a.values.count
        case nil: return 0
        }
    }

    /// Value `i` as the join key's declared type.
    public func value(at i: Int, as type: ValueType, field: String) throws(ServingError) -> OnlineValue {
        switch (values, type) {
        case (.int64Values(let a), .scalar(.int64)): return .int(a.values[i])
        case (.int64Values(let a), .scalar(.int32)):
            let v = a.values[i]
            guard Int64(Int32.min)...Int64(Int32.max) ~= v else { throw .invalid("\(field): \(v) does not fit int32") }
            return .int(v)
        case (.stringValues(let a), .scalar(.string)): return .string(a.values[i])
        case (.bytesValues(let a), .scalar(.bytes)): return .bytes(Array(a.values[i]))
        case (nil, _): throw .invalid("\(field): no values (set int64_values, string_values or bytes_values)")
        case (.int64Values, _): throw .invalid("\(field): int64 values for a join key of type \(type)")
        case (.stringValues, _): throw .invalid("\(field): string values for a join key of type \(type)")
        case (.bytesValues, _): throw .invalid("\(field): bytes values for a join key of type \(type)")
        }
    }
}

extension Featurestore_V1_ValueList: WireColumn {
    /// The number of values.
    public var count: Int { values.count }

    /// Value `i` as `type` (an unset value is null); `field` names it in errors.
    public func value(at i: Int, as type: ValueType, field: String) throws(ServingError) -> OnlineValue {
        try OnlineValue(values[i], as: type, field: field)
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
