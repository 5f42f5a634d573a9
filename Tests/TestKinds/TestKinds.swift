public import FeatureStoreCore
import BundledKinds
import FeatureStoreTesting

/// Every kind the tests use: the package's (stores, engines, sources, formats, sections) and the in-memory store.
/// One value for every test target, passed where a test opens a repository.
public let testKinds: Kinds = .bundled + .inMemory
