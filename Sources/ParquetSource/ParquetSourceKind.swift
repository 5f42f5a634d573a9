public import FeatureStoreCore

/// `kind: parquet`: a table of Parquet files at `path` (a file, a folder of files with Hive partitions, or a glob),
/// relative to the repository.
///
/// ```yaml
/// - name: trips
///   kind: parquet
///   path: data/trips          # the kind's one setting
///   timestamp_field: event_ts
/// ```
///
/// The local offline engine reads these sources (``FeatureStoreCore/Kinds/local`` brings this kind); a stream source can
/// name one as its `batch_source`, where its ingester appends the offline copy.
public struct ParquetSourceKind: SourceKind {
    /// `parquet`; see ``SourceKind/name``.
    public let name = "parquet"
    /// A table; see ``SourceKind/role``.
    public let role = SourceRole.table

    /// The kind (in ``FeatureStoreCore/Kinds/parquet`` and ``FeatureStoreCore/Kinds/local``).
    public init() {}

    /// Requires a non-empty `path` and allows no other setting; see ``SourceKind/validate(_:)``.
    public func validate(_ settings: inout StoreSettings) {
        settings.rejectUnknown(allowing: ["path"])
        if let path = settings.string("path", required: true), path.isEmpty {
            settings.problem("path", "'path' of a parquet source must not be empty")
        }
    }

    /// The `path` (empty when absent); see ``SourceKind/describe(_:)``.
    public func describe(_ settings: [String: String]) -> String { settings["path"] ?? "" }

    /// The Parquet path of a source of this kind, or nil for a source of another kind.
    public static func path(of source: DataSource) -> String? {
        source.kind == "parquet" ? source.settings["path"] : nil
    }
}

extension DataSource {
    /// A Parquet source named `name` at `path` (for programs and tests that define sources in code).
    public static func parquet(_ name: String, path: String, timestampField: String, createdTimestampField: String? = nil,
                               fieldMapping: [String: String] = [:], derived: [DerivedColumn] = [],
                               columns: [String: ScalarType] = [:]) -> DataSource {
        DataSource(name: name, kind: "parquet", settings: ["path": path], timestampField: timestampField,
                   createdTimestampField: createdTimestampField, fieldMapping: fieldMapping, derived: derived, columns: columns)
    }
}

extension Kinds {
    /// The Parquet source kind alone (engines that read Parquet bring it: ``FeatureStoreCore/Kinds/local`` has it).
    public static let parquet = Kinds(sources: [ParquetSourceKind()])
}
