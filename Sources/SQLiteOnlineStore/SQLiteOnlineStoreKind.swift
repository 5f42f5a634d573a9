public import FeatureStoreCore
public import Foundation

/// `online_store: {kind: sqlite, path: data/online.db, readers: 4}`: the embedded store, the default.
///
/// | setting | meaning | default |
/// | --- | --- | --- |
/// | `path` | the database file, relative to the repository (or absolute) | `data/online.db` |
/// | `readers` | reader connections kept open for lookups (1 to 64) | 4 |
public struct SQLiteOnlineStoreKind: OnlineStoreKind {
    /// `sqlite`.
    public let name = "sqlite"

    /// The kind (programs add ``FeatureStoreCore/Kinds/sqlite`` to their kinds).
    public init() {}

    static let settingNames = ["path", "readers"]

    /// Rejects unknown settings, a `path` that is empty or ends with `/`, and `readers` outside 1 to 64; see
    /// ``OnlineStoreKind/validate(_:)``.
    public func validate(_ settings: inout StoreSettings) {
        settings.rejectUnknown(allowing: Self.settingNames)
        if let path = settings.string("path"), path.isEmpty || path.hasSuffix("/") {
            settings.problem("path", "'path' of the sqlite online store must name a file, found '\(path)'")
        }
        _ = settings.integer("readers", default: 4, in: 1...64)
    }

    /// Opens a ``SQLiteOnlineStore`` on `path` (default `data/online.db`, relative to the repository) with `readers`
    /// reader connections; see ``OnlineStoreKind/open(_:repository:)``.
    public func open(_ settings: StoreSettings, repository: URL) throws(OnlineStoreError) -> any OnlineStore {
        var settings = settings
        let readers = settings.integer("readers", default: 4, in: 1...64)
        return try SQLiteOnlineStore(path: Self.file(settings, repository: repository).path, readers: readers)
    }

    /// Whether the database file exists; see ``OnlineStoreKind/exists(_:repository:)``.
    public func exists(_ settings: StoreSettings, repository: URL) -> Bool {
        FileManager.default.fileExists(atPath: Self.file(settings, repository: repository).path)
    }

    static func file(_ settings: StoreSettings, repository: URL) -> URL {
        let path = settings.values["path"] ?? "data/online.db"
        return path.hasPrefix("/") ? URL(fileURLWithPath: path) : repository.appendingPathComponent(path)
    }
}

extension Kinds {
    /// The embedded SQLite online store (kind `sqlite`).
    public static let sqlite = Kinds(onlineStores: [SQLiteOnlineStoreKind()])
}
