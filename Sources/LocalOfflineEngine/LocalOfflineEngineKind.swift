public import FeatureStoreCore
public import Foundation
import ParquetSource

/// `offline_store: {kind: local}`: the default offline engine, Parquet read and written in this process.
///
/// It has no settings of its own (`path`, the folder of offline data, is the repository's).
public struct LocalOfflineEngineKind: OfflineEngineKind {
    /// `local`.
    public let name = "local"

    /// The kind (programs add ``FeatureStoreCore/Kinds/local`` to their kinds).
    public init() {}

    /// The Parquet source kind.
    public var sourceKinds: [any SourceKind] { [ParquetSourceKind()] }


    /// Rejects every setting (the kind has none); see ``OfflineEngineKind/validate(_:)``.
    public func validate(_ settings: inout StoreSettings) {
        settings.rejectUnknown(allowing: [])
    }

    /// A ``LocalOfflineEngine`` over `repository`; see ``OfflineEngineKind/open(_:repository:)``.
    public func open(_ settings: StoreSettings, repository: URL) throws(OfflineEngineError) -> any OfflineEngine {
        LocalOfflineEngine(repository: repository)
    }
}

extension Kinds {
    /// The local offline engine (kind `local`) with the Parquet source kind it reads.
    public static let local = Kinds(offlineEngines: [LocalOfflineEngineKind()])
}
