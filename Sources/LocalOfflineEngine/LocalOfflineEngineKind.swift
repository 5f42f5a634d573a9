public import FeatureStore
public import Foundation
import ParquetSource

/// `offline_store: {kind: local}`: the default offline engine, Parquet read and written in this process.
///
/// It has no settings of its own (`path`, the folder of offline data, is the repository's).
public struct LocalOfflineEngineKind: OfflineEngineKind {
    /// `local`.
    public let name = "local"

    /// The kind (register it with ``register()``).
    public init() {}

    /// The Parquet source kind.
    public var sourceKinds: [any SourceKind] { [ParquetSourceKind()] }

    /// Registers the kind with ``OfflineEngineKinds`` (programs call this once at start-up; again is harmless).
    public static func register() {
        OfflineEngineKinds.register(LocalOfflineEngineKind())
    }

    /// Rejects every setting (the kind has none); see ``OfflineEngineKind/validate(_:)``.
    public func validate(_ settings: inout StoreSettings) {
        settings.rejectUnknown(allowing: [])
    }

    /// A ``LocalOfflineEngine`` over `repository`; see ``OfflineEngineKind/open(_:repository:)``.
    public func open(_ settings: StoreSettings, repository: URL) throws(OfflineEngineError) -> any OfflineEngine {
        LocalOfflineEngine(repository: repository)
    }
}
