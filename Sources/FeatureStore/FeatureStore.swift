// The library as users import it: the core (definitions, compiler, catalog, joins, lookups) with the embedded kinds
// ready, and the tables joins return. `import FeatureStore` alone builds training sets and serves features from the
// example repository; programs that choose their kinds import `FeatureStoreCore` and the rooms they want.
@_exported public import Columnar
@_exported public import FeatureStoreCore
@_exported public import Foundation
@_exported public import LocalOfflineEngine
@_exported public import Parquet
@_exported public import ParquetSource
@_exported public import SQLiteOnlineStore

extension Kinds {
    /// The kinds that need nothing outside this process: the SQLite online store, the local offline engine and the
    /// Parquet source it reads. The default of ``FeatureStoreCore/FeatureStore/init(repository:reloading:)``.
    public static let embedded: Kinds = .sqlite + .local
}

extension FeatureStore {
    /// Compiles the repository's definitions with the embedded kinds (``FeatureStoreCore/Kinds/embedded``); throws
    /// ``FeatureStoreCore/CompileError`` listing every problem. A kind the repository names that is not embedded (a
    /// Redis online store, a Kafka stream) is kept unchecked and fails when used: building training sets needs neither.
    ///
    /// - Parameters:
    ///   - repository: the repository folder.
    ///   - previous: the definitions this compile replaces (see ``FeatureStoreCore/FeatureStore/init(repository:kinds:unknownKinds:reloading:)``).
    public init(repository: URL, reloading previous: FeatureStore? = nil) throws(CompileError) {
        try self.init(repository: repository, kinds: .embedded, reloading: previous)
    }
}
