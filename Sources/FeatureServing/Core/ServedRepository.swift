public import FeatureStoreCore
public import Foundation
public import Logging
import Synchronization

/// The repository being served. After `featurectl apply` (the registry's apply time changes) the definitions are
/// compiled again and swapped in: no restart needed. A reload that fails keeps serving the previous definitions.
/// The open online store survives reloads (unless `online_store` itself changed), and an ingester running in the same
/// process reads the current snapshot too (``StreamIngestor``'s `definitions`).
public final class ServedRepository: Sendable {
    /// The compiled definitions served at one moment, with what lookups derive from them.
    public struct Snapshot: Sendable {
        /// The feature store compiled from the definitions.
        public let store: FeatureStore
        /// Counts the loads: 0 at start, one more at each reload (an ingester compares it to notice new definitions).
        public let version: Int
        /// The declared type of every join key, by name (the compiler keeps one type per name).
        public let joinKeyTypes: [String: ScalarType]

        init(_ store: FeatureStore, version: Int) {
            self.store = store
            self.version = version
            var types: [String: ScalarType] = [:]
            for entity in store.registry.entities {
                for key in entity.joinKeys { types[key.name] = key.type }
            }
            joinKeyTypes = types
        }
    }

    /// The repository folder.
    public let url: URL
    private let state: Mutex<(snapshot: Snapshot, appliedAt: Date?)>
    private let logger: Logger
    private let kinds: Kinds

    /// Compiles the repository at `url` with the server's `kinds` (every kind it names must be one of them); throws
    /// ``CompileError`` when it does not compile.
    public init(url: URL, kinds: Kinds, logger: Logger = Logger(label: "featurestore.server")) throws(CompileError) {
        self.url = url
        self.logger = logger
        self.kinds = kinds
        let store = try FeatureStore(repository: url, kinds: kinds, unknownKinds: .report)
        state = Mutex((Snapshot(store, version: 0), Self.appliedAt(store)))
    }

    /// The definitions being served now.
    public var snapshot: Snapshot { state.withLock { $0.snapshot } }

    /// The feature store being served now.
    public var store: FeatureStore { snapshot.store }

    private static func appliedAt(_ store: FeatureStore) -> Date? {
        guard FileManager.default.fileExists(atPath: store.registryURL.path) else { return nil }
        return try? store.openRegistry(create: false).lastApplied()
    }

    /// Reloads when the registry was applied since the last load; returns whether it did.
    @discardableResult
    public func reloadIfApplied() -> Bool {
        let current = snapshot
        let applied = Self.appliedAt(current.store)
        guard applied != nil, applied != state.withLock({ $0.appliedAt }) else { return false }
        do {
            // The open online store carries over when its settings did not change.
            let fresh = try FeatureStore(repository: url, kinds: kinds, unknownKinds: .report, reloading: current.store)
            state.withLock { $0 = (Snapshot(fresh, version: current.version + 1), applied) }
            logger.info("reloaded the repository after apply", metadata: ["views": "\(fresh.registry.featureViews.count)"])
            return true
        } catch {
            logger.error("the repository changed but does not compile; still serving the previous definitions", metadata: ["error": "\(error)"])
            state.withLock { $0.appliedAt = applied }
            return false
        }
    }
}
