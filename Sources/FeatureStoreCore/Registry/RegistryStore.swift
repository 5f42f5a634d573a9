public import Foundation
import SQLite
public import ErrorChain

/// Identifies a registered object: its kind and name.
public struct ObjectKey: Sendable, Hashable, Codable {
    /// The object's kind.
    public var kind: ObjectKind
    /// The object's name, unique among objects of its kind.
    public var name: String

    /// The key of the `kind` object called `name`.
    public init(kind: ObjectKind, name: String) {
        self.kind = kind
        self.name = name
    }
}

/// An object as the catalog holds it: its content and version.
public struct StoredObject: Sendable {
    /// The object's kind.
    public var kind: ObjectKind
    /// The object's name.
    public var name: String
    /// 1 for the first version; grows by one with every change (and continues after a removal and re-adding).
    public var version: Int
    /// The content hash of this version.
    public var hash: String
    /// The canonical JSON content.
    public var spec: String
    /// When this version was applied.
    public var changedAt: Date
}

/// One entry of an object's history: what happened in which version.
public struct ObjectVersion: Sendable, Codable {
    /// The version this entry made (see ``StoredObject/version``).
    public var version: Int
    /// `add`, `change` or `remove`.
    public var action: Plan.Action
    /// The content hash of this version (empty for a removal).
    public var hash: String
    /// When this version was applied.
    public var changedAt: Date
    /// The fields that changed from the previous version (empty for additions and removals).
    public var fields: [Plan.FieldChange]
}

/// Errors of the registry file.
public enum RegistryError: ChainedError {
    /// The file belongs to another project.
    case projectMismatch(path: String, registered: String, configured: String)
    /// The file cannot be read or written: what was being done, and the storage's error.
    case storage(path: String, doing: String, cause: (any Error & Sendable)?)
    /// The file holds what this program cannot read.
    case corrupt(path: String, detail: String)

    /// `registry.project_mismatch`, `registry.storage` or `registry.corrupt`.
    public var errorCode: String {
        switch self {
        case .projectMismatch: return "registry.project_mismatch"
        case .storage: return "registry.storage"
        case .corrupt: return "registry.corrupt"
        }
    }

    /// What went wrong, naming the file.
    public var message: String {
        switch self {
        case .projectMismatch(let path, let registered, let configured):
            return "the registry \(path) belongs to project '\(registered)', not '\(configured)': point 'registry' in feature_store.yaml at another file"
        case .storage(let path, let doing, _):
            return doing.isEmpty ? "registry \(path)" : "registry \(path): \(doing)"
        case .corrupt(let path, let detail):
            return "registry \(path) is damaged: \(detail)"
        }
    }

    /// The storage's error, for ``storage(path:doing:cause:)``.
    public var cause: (any Error & Sendable)? {
        if case .storage(_, _, let cause) = self { return cause }
        return nil
    }

    /// The chain: the message, then the cause's.
    public var description: String { ErrorChain.render(self) }
}

/// The catalog: applied definitions, each object with its versions and history, in one SQLite file.
///
/// `apply` is one transaction: a crash leaves the previous catalog intact.
public final class RegistryStore {
    /// The registry file.
    public let path: String
    private let db: Connection

    private static let schema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS objects (
            kind TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL, hash TEXT NOT NULL,
            spec TEXT NOT NULL, changed_at REAL NOT NULL, PRIMARY KEY (kind, name)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS history (
            kind TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL, action TEXT NOT NULL,
            hash TEXT NOT NULL, spec TEXT NOT NULL, changed_at REAL NOT NULL, fields TEXT NOT NULL,
            PRIMARY KEY (kind, name, version)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS watermarks (
            view TEXT PRIMARY KEY, watermark INTEGER NOT NULL, updated_at REAL NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS materializations (
            view TEXT NOT NULL, run_at REAL NOT NULL, start_us INTEGER NOT NULL, end_us INTEGER NOT NULL,
            rows_read INTEGER NOT NULL, rows_written INTEGER NOT NULL, report TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS profiles (
            view TEXT NOT NULL, at REAL NOT NULL, start_us INTEGER NOT NULL, end_us INTEGER NOT NULL,
            origin TEXT NOT NULL, profile TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS profiles_by_view ON profiles (view, at);
        CREATE TABLE IF NOT EXISTS drift (
            at REAL NOT NULL, baseline TEXT NOT NULL, current TEXT NOT NULL, result TEXT NOT NULL);
        """

    /// Opens the registry at `path`, creating the file (and its folder) when `create` is set.
    public init(path: String, create: Bool = true) throws(RegistryError) {
        self.path = path
        do {
            if create {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
            } else if !FileManager.default.fileExists(atPath: path) {
                throw RegistryError.storage(path: path, doing: "no registry yet: run `featurectl apply` first", cause: nil)
            }
            db = try Connection(path: path, mode: create ? .readWriteCreate : .readWrite)
            try db.execute(Self.schema)
        } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError.storage(path: path, doing: "", cause: error)
        }
    }

    private func wrap<T>(_ body: () throws -> T) throws(RegistryError) -> T {
        do {
            return try body()
        } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError.storage(path: path, doing: "", cause: error)
        }
    }

    /// The project this registry belongs to, once something was applied.
    public func project() throws(RegistryError) -> String? {
        try wrap { try db.prepare("SELECT value FROM meta WHERE key = 'project'").rows().first?.first?.stringValue }
    }

    /// The settings recorded at the last apply.
    public func config() throws(RegistryError) -> RepositoryConfig? {
        let json: String? = try wrap { try db.prepare("SELECT value FROM meta WHERE key = 'config'").rows().first?.first?.stringValue }
        guard let json else { return nil }
        return try wrap { try CanonicalSpec.decode(RepositoryConfig.self, from: json) }
    }

    /// When the last apply happened.
    public func lastApplied() throws(RegistryError) -> Date? {
        try wrap {
            try db.prepare("SELECT value FROM meta WHERE key = 'applied_at'").rows().first?.first?.stringValue
                .flatMap(Double.init).map { Date(timeIntervalSince1970: $0) }
        }
    }

    /// Every object currently registered.
    public func objects() throws(RegistryError) -> [ObjectKey: StoredObject] {
        try wrap {
            var out: [ObjectKey: StoredObject] = [:]
            for row in try db.prepare("SELECT kind, name, version, hash, spec, changed_at FROM objects").rows() {
                guard let kindText = row[0].stringValue, let kind = ObjectKind(rawValue: kindText),
                      let name = row[1].stringValue, let version = row[2].intValue, let hash = row[3].stringValue,
                      let spec = row[4].stringValue, let at = row[5].doubleValue else {
                    throw RegistryError.corrupt(path: path, detail: "unreadable row in table objects")
                }
                out[ObjectKey(kind: kind, name: name)] = StoredObject(
                    kind: kind, name: name, version: Int(version), hash: hash, spec: spec, changedAt: Date(timeIntervalSince1970: at))
            }
            return out
        }
    }

    /// The history of one object, oldest first.
    public func history(of key: ObjectKey) throws(RegistryError) -> [ObjectVersion] {
        try wrap {
            let rows = try db.prepare("SELECT version, action, hash, changed_at, fields FROM history WHERE kind = ? AND name = ? ORDER BY version")
                .rows([.text(key.kind.rawValue), .text(key.name)])
            return try rows.map { row in
                guard let version = row[0].intValue, let action = row[1].stringValue.flatMap(Plan.Action.init(rawValue:)),
                      let hash = row[2].stringValue, let at = row[3].doubleValue, let fields = row[4].stringValue else {
                    throw RegistryError.corrupt(path: path, detail: "unreadable row in table history")
                }
                return ObjectVersion(version: Int(version), action: action, hash: hash, changedAt: Date(timeIntervalSince1970: at),
                                     fields: (try? CanonicalSpec.decode([Plan.FieldChange].self, from: fields)) ?? [])
            }
        }
    }

    /// The registered objects as a ``Registry`` (the applied state, as the engines see it).
    public func registry() throws(RegistryError) -> Registry? {
        guard let config = try config() else { return nil }
        let objects = try objects()
        return try wrap {
            func decode<T: Definition>(_ type: T.Type) throws -> [T] {
                try objects.values.filter { $0.kind == T.kind }.map { try CanonicalSpec.decode(T.self, from: $0.spec) }
            }
            return Registry(config: config, entities: try decode(Entity.self), sources: try decode(DataSource.self),
                            featureViews: try decode(FeatureView.self), onDemandViews: try decode(OnDemandView.self),
                            featureServices: try decode(FeatureService.self))
        }
    }

    /// What applying `registry` would change.
    public func plan(for registry: Registry) throws(RegistryError) -> Plan {
        try checkProject(registry.config.project)
        return Plan.make(from: try objects(), to: registry)
    }

    private func checkProject(_ project: String) throws(RegistryError) {
        if let registered = try self.project(), registered != project {
            throw RegistryError.projectMismatch(path: path, registered: registered, configured: project)
        }
    }

    /// Applies the definitions in one transaction and returns the plan that was applied.
    @discardableResult
    public func apply(_ registry: Registry, at now: Date = Date()) throws(RegistryError) -> Plan {
        try wrap {
            try db.transaction {
                // Planned inside the transaction, so a concurrent apply cannot interleave.
                let plan = try self.plan(for: registry)
                let nextVersion = try db.prepare("SELECT COALESCE(MAX(version), 0) + 1 FROM history WHERE kind = ? AND name = ?")
                let lastSpec = try db.prepare("SELECT spec FROM objects WHERE kind = ? AND name = ?")
                let upsert = try db.prepare("INSERT OR REPLACE INTO objects (kind, name, version, hash, spec, changed_at) VALUES (?, ?, ?, ?, ?, ?)")
                let delete = try db.prepare("DELETE FROM objects WHERE kind = ? AND name = ?")
                let record = try db.prepare("INSERT INTO history (kind, name, version, action, hash, spec, changed_at, fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
                let time = SQLiteValue.real(now.timeIntervalSince1970)
                for change in plan.changes {
                    let key: [SQLiteValue] = [.text(change.kind.rawValue), .text(change.name)]
                    guard let version = try nextVersion.rows(key).first?.first?.intValue else { continue }
                    let fields = SQLiteValue.text(CanonicalSpec.json(change.fields))
                    switch change.action {
                    case .add, .change:
                        let spec = change.spec ?? "{}", hash = change.hash ?? ""
                        try upsert.run(key + [.integer(version), .text(hash), .text(spec), time])
                        try record.run(key + [.integer(version), .text(change.action.rawValue), .text(hash), .text(spec), time, fields])
                    case .remove:
                        let spec = try lastSpec.rows(key).first?.first?.stringValue ?? "{}"
                        try delete.run(key)
                        try record.run(key + [.integer(version), .text("remove"), .text(""), .text(spec), time, fields])
                    }
                }
                let meta = try db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)")
                try meta.run([.text("project"), .text(registry.config.project)])
                try meta.run([.text("config"), .text(CanonicalSpec.json(registry.config))])
                try meta.run([.text("applied_at"), .text(String(now.timeIntervalSince1970))])
                return plan
            }
        }
    }

    // MARK: Materialization records

    /// The end of the last incremental materialization of a view (microseconds), if any.
    public func watermark(of view: String) throws(RegistryError) -> Int64? {
        try wrap { try db.prepare("SELECT watermark FROM watermarks WHERE view = ?").rows([.text(view)]).first?.first?.intValue }
    }

    /// Moves a view's watermark (after its rows were written).
    public func setWatermark(_ value: Int64, of view: String) throws(RegistryError) {
        try wrap {
            try db.prepare("INSERT OR REPLACE INTO watermarks (view, watermark, updated_at) VALUES (?, ?, ?)")
                .run([.text(view), .integer(value), .real(Date().timeIntervalSince1970)])
        }
    }

    /// Records one materialization run of a view.
    public func recordMaterialization(_ report: MaterializationReport) throws(RegistryError) {
        try wrap {
            try db.prepare("INSERT INTO materializations (view, run_at, start_us, end_us, rows_read, rows_written, report) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .run([.text(report.view), .real(Date().timeIntervalSince1970), .integer(report.start), .integer(report.end),
                      .integer(Int64(report.rowsRead)), .integer(Int64(report.rowsWritten)), .text(CanonicalSpec.json(report))])
        }
        if let profiles = report.profiles {
            try recordProfile(ViewProfile(view: report.view, start: report.start, end: report.end, origin: "materialize",
                                          rows: report.entities, features: profiles))
        }
    }

    /// Keeps a view's profile (materialization records one per run; `featurectl profile` one per call).
    public func recordProfile(_ profile: ViewProfile, at: Date = Date()) throws(RegistryError) {
        try wrap {
            try db.prepare("INSERT INTO profiles (view, at, start_us, end_us, origin, profile) VALUES (?, ?, ?, ?, ?, ?)")
                .run([.text(profile.view), .real(at.timeIntervalSince1970), .integer(profile.start), .integer(profile.end),
                      .text(profile.origin), .text(CanonicalSpec.json(profile))])
        }
    }

    /// A view's newest profile and the oldest of its last `window` (the catalog's current and baseline), each with when
    /// it was taken; two rows read, not the whole window.
    public func profileEnds(of view: String, window: Int = 30) throws(RegistryError) -> (newest: (profile: ViewProfile, at: Date)?, oldest: (profile: ViewProfile, at: Date)?) {
        try wrap {
            func one(offset: Int) throws -> (ViewProfile, Date)? {
                guard let row = try db.prepare("SELECT profile, at FROM profiles WHERE view = ? ORDER BY at DESC LIMIT 1 OFFSET ?")
                    .rows([.text(view), .integer(Int64(offset))]).first,
                      let json = row[0].stringValue, let at = row[1].doubleValue,
                      let profile = try? CanonicalSpec.decode(ViewProfile.self, from: json) else { return nil }
                return (profile, Date(timeIntervalSince1970: at))
            }
            guard let newest = try one(offset: 0) else { return (nil, nil) }
            let count = try db.prepare("SELECT count(*) FROM (SELECT 1 FROM profiles WHERE view = ? ORDER BY at DESC LIMIT ?)")
                .rows([.text(view), .integer(Int64(window))]).first?[0].intValue ?? 1
            return (newest, count > 1 ? try one(offset: Int(count) - 1) : nil)
        }
    }

    /// A view's profiles, newest first (at most `limit`), with when each was taken.
    public func profiles(of view: String, limit: Int = 30) throws(RegistryError) -> [(profile: ViewProfile, at: Date)] {
        try wrap {
            try db.prepare("SELECT profile, at FROM profiles WHERE view = ? ORDER BY at DESC LIMIT ?").rows([.text(view), .integer(Int64(limit))])
                .compactMap { row in
                    // A row that does not decode (written by another version) is skipped, not the whole history.
                    guard let json = row[0].stringValue, let at = row[1].doubleValue,
                          let profile = try? CanonicalSpec.decode(ViewProfile.self, from: json) else { return nil }
                    return (profile, Date(timeIntervalSince1970: at))
                }
        }
    }

    /// Keeps one `featurectl drift` comparison (what was compared, and every feature's scores).
    public func recordDrift(_ results: [FeatureDrift], baseline: String, current: String, at: Date = Date()) throws(RegistryError) {
        try wrap {
            try db.prepare("INSERT INTO drift (at, baseline, current, result) VALUES (?, ?, ?, ?)")
                .run([.real(at.timeIntervalSince1970), .text(baseline), .text(current), .text(CanonicalSpec.json(results))])
        }
    }

    /// The newest score of every feature compared by `featurectl drift` (a feature's latest comparison wins), with
    /// when it was measured.
    public func latestDrift() throws(RegistryError) -> [(drift: FeatureDrift, at: Date)] {
        try wrap {
            var seen = Set<String>()
            var out: [(FeatureDrift, Date)] = []
            for row in try db.prepare("SELECT result, at FROM drift ORDER BY at DESC LIMIT 200").rows([]) {
                guard let json = row[0].stringValue, let at = row[1].doubleValue,
                      let results = try? CanonicalSpec.decode([FeatureDrift].self, from: json) else { continue }
                for d in results where seen.insert("\(d.view ?? "")\u{0}\(d.feature ?? d.column)").inserted {
                    out.append((d, Date(timeIntervalSince1970: at)))
                }
            }
            return out
        }
    }

    /// The last materialization run of a view, and when it ran.
    public func lastMaterialization(of view: String) throws(RegistryError) -> (report: MaterializationReport, at: Date)? {
        try wrap {
            guard let row = try db.prepare("SELECT report, run_at FROM materializations WHERE view = ? ORDER BY run_at DESC LIMIT 1")
                .rows([.text(view)]).first, let json = row[0].stringValue, let at = row[1].doubleValue else { return nil }
            return (try CanonicalSpec.decode(MaterializationReport.self, from: json), Date(timeIntervalSince1970: at))
        }
    }
}
