import Foundation
import FeatureServingAPI
import SwiftProtobuf

/// A feature's value as FeatureServer answers it (and a request-context or pushed value as it takes it).
public enum FeatureValue: Sendable, Hashable {
    /// No value (a NULL, or a feature that was not found: see its ``FeatureStatus``).
    case null
    case bool(Bool)
    case int(Int64)
    case float(Float)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    /// Microseconds since the Unix epoch (UTC).
    case timestamp(Int64)
    case list([FeatureValue])

    init(_ value: Featurestore_V1_Value) {
        switch value.kind {
        case nil: self = .null
        case .boolValue(let x): self = .bool(x)
        case .int64Value(let x): self = .int(x)
        case .floatValue(let x): self = .float(x)
        case .doubleValue(let x): self = .double(x)
        case .stringValue(let x): self = .string(x)
        case .bytesValue(let x): self = .bytes(Array(x))
        case .timestampMicros(let x): self = .timestamp(x)
        case .listValue(let x): self = .list(x.values.map(FeatureValue.init))
        }
    }

    var proto: Featurestore_V1_Value {
        .with { v in
            switch self {
            case .null: v.kind = nil
            case .bool(let x): v.kind = .boolValue(x)
            case .int(let x): v.kind = .int64Value(x)
            case .float(let x): v.kind = .floatValue(x)
            case .double(let x): v.kind = .doubleValue(x)
            case .string(let x): v.kind = .stringValue(x)
            case .bytes(let x): v.kind = .bytesValue(Data(x))
            case .timestamp(let x): v.kind = .timestampMicros(x)
            case .list(let items): v.kind = .listValue(.with { $0.values = items.map(\.proto) })
            }
        }
    }
}

extension FeatureValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByNilLiteral, ExpressibleByArrayLiteral {
    /// An `int64` value.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// A `float64` value.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// A string value.
    public init(stringLiteral value: String) { self = .string(value) }
    /// A boolean value.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// No value.
    public init(nilLiteral: ()) { self = .null }
    /// A list value.
    public init(arrayLiteral elements: FeatureValue...) { self = .list(elements) }
}

/// Why a feature has the value it has for an entity (FeatureServer's statuses, as Feast names them).
public enum FeatureStatus: String, Sendable, Hashable, CaseIterable {
    /// The feature has a value.
    case present = "PRESENT"
    /// The feature's stored value is null (or an aggregation's window is empty).
    case nullValue = "NULL_VALUE"
    /// Nothing is stored for the entity.
    case notFound = "NOT_FOUND"
    /// The stored row is older than the view's ttl.
    case outsideMaxAge = "OUTSIDE_MAX_AGE"
    /// A status this client does not know (a newer server).
    case unknown = "UNKNOWN"

    init(_ status: Featurestore_V1_FeatureStatus) {
        switch status {
        case .present: self = .present
        case .nullValue: self = .nullValue
        case .notFound: self = .notFound
        case .outsideMaxAge: self = .outsideMaxAge
        default: self = .unknown
        }
    }
}

/// The join key values of the entities of one lookup or push: per join key, one value per entity row, all of one
/// type (int64 keys, also for int32 join keys; strings; bytes).
public struct EntityKeys: Sendable, Hashable {
    /// One join key's values.
    public enum Column: Sendable, Hashable {
        case int64([Int64])
        case strings([String])
        case bytes([[UInt8]])

        /// How many entity rows.
        public var count: Int {
            switch self {
            case .int64(let v): v.count
            case .strings(let v): v.count
            case .bytes(let v): v.count
            }
        }
    }

    /// Join key name -> its values, one per entity row.
    public var columns: [String: Column]

    /// Entities with `columns` (every column as long as the others).
    public init(_ columns: [String: Column]) { self.columns = columns }

    /// Entities of one int64 join key.
    public static func int64(_ name: String, _ values: [Int64]) -> EntityKeys { EntityKeys([name: .int64(values)]) }
    /// Entities of one string join key.
    public static func strings(_ name: String, _ values: [String]) -> EntityKeys { EntityKeys([name: .strings(values)]) }

    /// These entities with one more join key.
    public func with(_ name: String, _ column: Column) -> EntityKeys {
        var copy = self
        copy.columns[name] = column
        return copy
    }

    /// How many entity rows (0 without keys), or nil when the columns' lengths differ.
    public var count: Int? {
        let counts = Set(columns.values.map(\.count))
        return counts.count <= 1 ? counts.first ?? 0 : nil
    }

    var proto: [String: Featurestore_V1_KeyColumn] {
        columns.mapValues { column in
            .with { k in
                switch column {
                case .int64(let v): k.int64Values = .with { $0.values = v }
                case .strings(let v): k.stringValues = .with { $0.values = v }
                case .bytes(let v): k.bytesValues = .with { $0.values = v.map { Data($0) } }
                }
            }
        }
    }
}

/// What to look up: a feature service's features, or features by reference (`view:feature`, or `view` for all of a
/// view's).
public enum FeatureSelection: Sendable, Hashable {
    case service(String)
    case features([String])
}

/// One feature's answer for every entity row of a lookup.
public struct FeatureColumn: Sendable, Hashable {
    /// The feature's name in the answer (`view__feature` with full names).
    public var name: String
    /// One value per entity row.
    public var values: [FeatureValue]
    /// One status per entity row.
    public var statuses: [FeatureStatus]
    /// One event time per entity row (microseconds since the epoch; nil where none: aggregates, not found).
    public var eventTimestamps: [Int64?]
}

/// A lookup's answer: one column per feature, one row per entity row of the request, in request order.
public struct OnlineFeatures: Sendable, Hashable {
    /// The features, in the answer's order.
    public var columns: [FeatureColumn]
    /// How many entity rows.
    public var entityCount: Int

    init(_ response: Featurestore_V1_GetOnlineFeaturesResponse) {
        entityCount = Int(response.entityCount)
        columns = response.features.map { column in
            FeatureColumn(name: column.name, values: column.values.map(FeatureValue.init), statuses: column.statuses.map(FeatureStatus.init),
                          eventTimestamps: column.values.indices.map { i in
                              i < column.eventTimestampsMicros.count && column.eventTimestampsMicros[i] != 0 ? column.eventTimestampsMicros[i] : nil
                          })
        }
    }

    /// The column named `name`, if the answer has it.
    public subscript(name: String) -> FeatureColumn? { columns.first { $0.name == name } }

    /// Entity row `row` as feature name -> value.
    public func row(_ row: Int) -> [String: FeatureValue] {
        Dictionary(columns.map { ($0.name, $0.values[row]) }, uniquingKeysWith: { first, _ in first })
    }
}
