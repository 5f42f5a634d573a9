public import FeatureStoreCore
import BundledKinds
import FeatureStoreTesting

/// Every kind the tests use: the package's (stores, engines, sources, formats, sections) and the in-memory store.
/// One value for every test target, passed where a test opens a repository.
public let testKinds: Kinds = .bundled + .inMemory

extension FeatureStore {
    /// The online store with every part (rows, tiles, stream checkpoints), as the tests' stores all have.
    public func fullOnlineStore() async throws -> any StreamCheckpointStore {
        let store = try await onlineStore()
        return try store.checkpoints(for: onlineTable(of: registry.featureViews[0]))
    }
}
