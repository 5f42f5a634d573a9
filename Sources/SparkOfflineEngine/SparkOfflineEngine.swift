public import Columnar
public import FeatureStoreCore
public import Foundation
import FeatureComputation
import LocalOfflineEngine
import Parquet
import ParquetSource
import Synchronization

/// The offline engine on Apache Spark (`offline_store: {kind: spark}`): joins and backfills over data more than one
/// machine holds, with the embedded engine's meaning.
///
/// Spark does the distributed part: it reads the source (any path it reads), keeps the columns and times the
/// computation needs, and hashes every row by join key into partitions (SQL from ``SparkPlan``, shown by
/// ``explain(_:)``). Each partition is then computed by `featurestore-fold`, which runs ``LocalOfflineEngine`` on
/// the partition's rows: the winners, window aggregates (exact sums, our HyperLogLog) and tile states are those of
/// the embedded engine and the online store by construction, not a translation into Spark's functions.
///
/// Results come back to this process (a join's columns, the latest rows, the tiles in the online store's encoding),
/// where the core assembles the training set and on-demand features, and materialization writes the online store.
/// Writing and the stream's offline copy go to local paths through ``LocalOfflineEngine``.
public struct SparkOfflineEngine: OfflineEngine {
    /// Source paths without a scheme are relative to this folder (or absolute).
    public let repository: URL
    let launch: SparkLaunch
    /// Partitions rows are hashed into.
    public let partitions: Int
    let foldSetting: String?
    let local: LocalOfflineEngine

    /// Our Spark settings, which `conf` may override: old dates read as written; Hive partition values as strings (as
    /// the local engine reads them); results of any size brought back; no web UI.
    static let defaultConf: [String: String] = [
        "spark.sql.parquet.datetimeRebaseModeInRead": "CORRECTED",
        "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
        "spark.driver.maxResultSize": "0",
        "spark.sql.parquet.int96RebaseModeInRead": "CORRECTED",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    ]

    /// Settings `conf` cannot change, which the generated SQL relies on: the session in UTC (times are compared as UTC
    /// instants), nanosecond timestamps read as their numbers (Spark refuses them otherwise; cast back before the fold).
    static let forcedConf: [String: String] = [
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.legacy.parquet.nanosAsLong": "true",
    ]

    /// Twice the cores of `local[N]` (or of this machine for `local[*]`); 200 (Spark's own default) on a cluster.
    static func defaultPartitions(master: String) -> Int {
        if master == "local" { return 2 }
        if master.hasPrefix("local[") {
            let inside = master.dropFirst(6).prefix { $0 != "]" && $0 != "," }
            return 2 * (Int(inside) ?? ProcessInfo.processInfo.activeProcessorCount)
        }
        return 200
    }

    /// An engine over `repository` starting Spark as `launch` says.
    init(repository: URL, launch: SparkLaunch, partitions: Int, foldBinary: String?) {
        self.repository = repository
        self.launch = launch
        self.partitions = partitions
        self.foldSetting = foldBinary
        self.local = LocalOfflineEngine(repository: repository)
    }

    /// Parquet.
    public var sourceKinds: [String] { ["parquet"] }

    // MARK: Paths

    /// Whether a path names a place outside this machine's file system (`s3a:`, `hdfs:`, `gs:`; not `file:`).
    static func isRemote(_ path: String) -> Bool {
        guard let colon = path.firstIndex(of: ":"), colon != path.startIndex else { return false }
        let scheme = path[..<colon]
        guard scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+.-".contains($0) }), scheme.first!.isLetter else { return false }
        return scheme != "file"
    }

    /// A local path without `file:`.
    static func withoutFileScheme(_ path: String) -> String {
        if path.hasPrefix("file://") { return String(path.dropFirst(7)) }
        if path.hasPrefix("file:") { return String(path.dropFirst(5)) }
        return path
    }

    /// The path of a batch source.
    func path(of source: DataSource) throws(OfflineEngineError) -> String {
        guard let path = ParquetSourceKind.path(of: source) else {
            throw OfflineEngineError(.invalidData, "source '\(source.name)' is a \(source.kind) source: the spark engine reads parquet sources")
        }
        return path
    }

    /// Whether a path is read only through Spark: a remote one, or any when the launch's
    /// `spark.featurestore.localAsRemote` is `true` (the tests run the remote code on local files with it).
    func readOnlyBySpark(_ path: String) -> Bool {
        Self.isRemote(path) || launch.conf["spark.featurestore.localAsRemote"] == "true"
    }

    /// The source's path as Spark names it: remote paths as written, local ones absolute with `file:`.
    func location(of source: DataSource) throws(OfflineEngineError) -> String {
        let path = try path(of: source)
        if Self.isRemote(path) { return path }
        let plain = Self.withoutFileScheme(path)
        return "file:" + (plain.hasPrefix("/") ? plain : repository.appendingPathComponent(plain).path)
    }

    /// The source with its local path without `file:` (for the local engine).
    func localSource(_ source: DataSource) throws(OfflineEngineError) -> DataSource? {
        let path = try path(of: source)
        if readOnlyBySpark(path) { return nil }
        var copy = source
        copy.settings["path"] = Self.withoutFileScheme(path)
        return copy
    }

    // MARK: Reading metadata and writing (this machine)

    /// The Parquet schema of a local source (nil: no data yet); nil for a remote one, whose columns Spark checks
    /// when a job reads it.
    public func schema(of source: DataSource) throws -> Schema? {
        guard let local = try localSource(source) else { return nil }
        return try self.local.schema(of: local)
    }

    /// Whether a source holds data: its Parquet metadata for a local path; asked of Spark for a remote one (the files
    /// Spark would read); see ``OfflineEngine/hasData(_:)``.
    public func hasData(_ source: DataSource) async throws -> Bool {
        if try localSource(source) != nil { return try schema(of: source) != nil }
        let job = try Job()
        defer { job.remove() }
        let location = try location(of: source)
        let done = try await run(["operation": "has_data", "path": location, "out": job.out.path], progress: nil)
        return done.count > 0
    }

    /// A local Parquet file, folder or glob read here; a remote one read by Spark and brought back.
    public func readTable(at location: String) async throws -> Table {
        guard readOnlyBySpark(location) else { return try await local.readTable(at: Self.withoutFileScheme(location)) }
        let location = Self.isRemote(location) ? location : "file:" + URL(fileURLWithPath: Self.withoutFileScheme(location)).standardizedFileURL.path
        let job = try Job()
        defer { job.remove() }
        _ = try await run(["operation": "read", "path": location, "out": job.out.path], progress: nil)
        return try job.result()
    }

    /// Appends to a local source (the stream's offline copy); see ``OfflineEngine/appendTarget(_:)``.
    public func appendTarget(_ source: DataSource) throws -> Schema? {
        try local.appendTarget(try writable(source))
    }

    /// See ``OfflineEngine/append(_:to:partition:)``.
    public func append(_ table: Table, to source: DataSource, partition: String) async throws -> AppendedPart {
        try await local.append(table, to: try writable(source), partition: partition)
    }

    func writable(_ source: DataSource) throws(OfflineEngineError) -> DataSource {
        guard let local = try localSource(source) else {
            throw OfflineEngineError(.invalidData, "source '\(source.name)': the spark engine appends the stream's offline copy to local paths only, not '\((try? path(of: source)) ?? "")'")
        }
        return local
    }

    // MARK: Jobs

    /// `featurestore-fold`: the setting (as the workers find it), `$FEATURESTORE_FOLD`, beside the running program, or
    /// on `PATH`.
    func foldBinary() throws(SparkError) -> String {
        // As the workers find it: a path there, or a file name shipped with spark.files (not checked here).
        if let foldSetting { return foldSetting }
        if let env = ProcessInfo.processInfo.environment["FEATURESTORE_FOLD"], FileManager.default.isExecutableFile(atPath: env) { return env }
        let beside = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("featurestore-fold").path
        if let beside, FileManager.default.isExecutableFile(atPath: beside) { return beside }
        if let found = SparkDriver.program("featurestore-fold") { return found }
        throw SparkError("featurestore-fold (what Spark's partitions run) is neither beside \(Bundle.main.executablePath ?? "this program") nor on PATH: build it (swift build --product featurestore-fold) or set offline_store.fold_binary")
    }

    private static let jobCounter = Atomic<Int>(0)

    /// A job's exchange folder.
    struct Job {
        let folder: URL
        let number: Int
        var out: URL { folder.appendingPathComponent("out") }

        init() throws {
            number = SparkOfflineEngine.jobCounter.add(1, ordering: .relaxed).newValue
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("featurestore-spark-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }

        func remove() { try? FileManager.default.removeItem(at: folder) }

        /// The parts the job wrote, as one table.
        func result() throws -> Table {
            do {
                return try ParquetDataset(path: out.path).read()
            } catch {
                throw SparkError("cannot read the result Spark brought back", cause: error)
            }
        }
    }

    func run(_ job: [String: Any], progress: (@Sendable (Int, Int) -> Void)?) async throws(SparkError) -> DriverReply.Done {
        let driver = try await SparkDriver.shared(launch)
        return try await driver.run(job, progress: progress)
    }

    /// The plan of a join's view.
    func plan(_ request: PointInTimeRequest, jobID: Int) throws -> SparkPlan {
        let view = request.view
        let range = request.timeRange
        let lower: Int64?
        if view.isAggregated {
            let reach = request.features.compactMap { $0.aggregation.map { ($0.window.seconds + $0.hop.seconds) * 1_000_000 } }.max() ?? 0
            lower = EventTime.before(range.lowerBound, by: reach)
        } else {
            lower = view.ttl.seconds > 0 ? EventTime.before(range.lowerBound, by: view.ttl.seconds * 1_000_000) : nil
        }
        let columns = LocalOfflineEngine.dataColumns(.join(request.features), view: view, source: request.source, joinKeys: request.joinKeys)
        return try plan(request.source, columns: columns, joinKeys: request.joinKeys, from: lower, to: range.upperBound, join: true, jobID: jobID)
    }

    func plan(_ source: DataSource, columns: [String], joinKeys: [JoinKey], from lower: Int64?, to upper: Int64?, join: Bool, jobID: Int) throws -> SparkPlan {
        let timeType = try? schema(of: source)?.field(named: source.timestampField)?.type
        return SparkPlan(source: source, location: try location(of: source), timeType: timeType, columns: columns, joinKeys: joinKeys,
                         from: lower, to: upper, join: join, partitions: partitions, jobID: jobID)
    }

    /// The SQL Spark runs for `request` and what each partition computes; see ``OfflineEngine/explain(_:)``.
    public func explain(_ request: PointInTimeRequest) -> String? {
        do {
            return try plan(request, jobID: 0).explain(view: request.view, operation: .join, master: launch.master, entityRows: request.entityTimes.count)
        } catch {
            return "-- cannot plan feature view '\(request.view.name)': \(error)"
        }
    }

    func specText(_ spec: FoldSpec) throws -> String {
        String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
    }

    /// Each entity row's features, computed on Spark; see ``OfflineEngine/pointInTimeJoin(_:)``.
    public func pointInTimeJoin(_ request: PointInTimeRequest) async throws -> [Column] {
        let count = request.entityTimes.count
        if count == 0 {
            // No partition holds an entity row: the embedded engine's empty answer over the source's columns (an empty
            // copy of a remote source's, brought back by Spark, so the columns are typed as they would be).
            var request = request
            let job = try Job()
            defer { job.remove() }
            if let local = try localSource(request.source) {
                request.source = local
            } else {
                let location = try location(of: request.source)
                _ = try await run(["operation": "read", "path": location, "empty": true, "out": job.out.path], progress: nil)
                request.source.settings["path"] = job.out.appendingPathComponent("part-0.parquet").path
            }
            return try await self.local.pointInTimeJoin(request)
        }
        let job = try Job()
        defer { job.remove() }
        let plan = try plan(request, jobID: job.number)
        // The entity rows: keys k0.., time __t (null where not valid), position __row.
        // Integer keys go up as int64 (Spark takes no unsigned types; the fold's keys compare integers by value).
        var named: [(String, Column)] = try request.entityKeys.enumerated().map { i, column in
            guard [.int8, .int16, .int32, .uint8, .uint16, .uint32].contains(column.type) else { return (FoldColumns.key(i), column) }
            guard let wide = column.cast(to: .int64) else { throw SparkError("entity key column \(i) (\(column.type)) cannot be read as int64") }
            return (FoldColumns.key(i), wide)
        }
        named.append((FoldColumns.time, Column(timestamps: request.entityTimes.enumerated().map { i, t in
            (request.entityTimesValid?[i] ?? true) ? t : nil
        })))
        named.append((FoldColumns.row, Column(int64: (0..<Int64(count)).map { $0 })))
        let entitiesFile = job.folder.appendingPathComponent("entities.parquet").path
        try ParquetFileWriter.write(try Table(named), to: entitiesFile)
        let spec = FoldSpec(operation: .join, view: request.view, source: request.source, joinKeys: request.joinKeys, features: request.features)
        request.progress?(.cluster, 0, 0)
        let specJSON = try specText(spec), fold = try foldBinary(), location = try location(of: request.source)
        let description: [String: Any] = [
            "operation": "join", "out": job.out.path, "spec": specJSON, "fold": fold,
            "source_path": location, "source_sql": plan.sourceSQL, "source_sql_number": plan.sourceSQLNumber,
            "source_view": plan.sourceView, "time_column": request.source.timestampField, "entity_sql": plan.entitySQL ?? "", "entities_view": plan.entitiesView, "entities_file": entitiesFile,
        ]
        var progress: (@Sendable (Int, Int) -> Void)? = nil
        if let report = request.progress { progress = { done, total in report(.cluster, done, total) } }
        let done = try await run(description, progress: progress)
        guard done.count == count else {
            throw SparkError("Spark joined \(done.count) entity rows of \(count) for feature view '\(request.view.name)'")
        }
        let table = try job.result()
        guard let rows = table.column(named: FoldColumns.row), case .int64(let positions) = rows.values, positions.count == count else {
            throw SparkError("the join's result from Spark lacks the entity rows' positions")
        }
        // Back into the entity rows' order.
        var order = [Int32](repeating: -1, count: count)
        for (i, p) in positions.enumerated() {
            guard p >= 0, p < count, order[Int(p)] == -1 else { throw SparkError("Spark returned entity row \(p) twice or out of range") }
            order[Int(p)] = Int32(i)
        }
        return try request.features.indices.map { f in
            guard let column = table.column(named: FoldColumns.feature(f)) else { throw SparkError("the join's result from Spark lacks feature \(f)") }
            return column.take(order)
        }
    }

    /// Each entity's latest row in the window, computed on Spark; see ``OfflineEngine/latestRows(_:)``.
    public func latestRows(_ request: LatestRowsRequest) async throws -> LatestSourceRows {
        let job = try Job()
        defer { job.remove() }
        let (done, table) = try await window(.latest, request, job: job)
        func column(_ name: String) throws -> Column {
            guard let c = table.column(named: name) else { throw SparkError("the latest rows from Spark lack column \(name)") }
            return c
        }
        let keys = try request.joinKeys.indices.map { try column(FoldColumns.key($0)) }
        let features = try request.view.features.indices.map { try column(FoldColumns.feature($0)) }
        guard let events = EventTime.microseconds(of: try column(FoldColumns.event)) else { throw SparkError("the latest rows' event times are not timestamps") }
        let created = table.column(named: FoldColumns.created)
        return LatestSourceRows(keys: keys, features: features, eventTimes: events, createdTimes: created.flatMap(EventTime.microseconds(of:)),
                                createdValid: created?.validity, rows: (0..<Int32(table.rowCount)).map { $0 }, rowsInWindow: done.count)
    }

    /// The tiles of an aggregated view, their states computed on Spark in the online store's encoding; see
    /// ``OfflineEngine/aggregateTiles(_:)``.
    public func aggregateTiles(_ request: LatestRowsRequest) async throws -> EventTiles {
        let job = try Job()
        defer { job.remove() }
        let (done, table) = try await window(.tiles, request, job: job)
        var keys: [Column] = []
        for i in request.joinKeys.indices {
            guard let c = table.column(named: FoldColumns.key(i)) else { throw SparkError("the tiles from Spark lack their keys") }
            keys.append(c)
        }
        guard case .int64(let hops)? = table.column(named: FoldColumns.hop)?.values,
              case .int64(let starts)? = table.column(named: FoldColumns.tileStart)?.values,
              case .bytes(let states)? = table.column(named: FoldColumns.states)?.values else {
            throw SparkError("the tiles from Spark lack their hops, starts or states")
        }
        var tiles: [BuiltTile] = []
        tiles.reserveCapacity(table.rowCount)
        for i in 0..<table.rowCount {
            var decoded: [AggregateState] = []
            var raw = RawEvents()
            for slice in try AggregateState.slices(of: Array(states.data[states.offsets[i]..<states.offsets[i + 1]])) {
                if RawEvents.isRaw(slice) { raw = try RawEvents(decoding: slice) } else { decoded.append(try AggregateState(decoding: Array(slice))) }
            }
            tiles.append(BuiltTile(row: i, hop: hops[i], start: starts[i], states: decoded, raw: raw))
        }
        return EventTiles(keys: keys, tiles: tiles, events: done.count)
    }

    /// A latest-rows or tiles job over the window of `request`.
    func window(_ operation: FoldSpec.Operation, _ request: LatestRowsRequest, job: Job) async throws -> (DriverReply.Done, Table) {
        let view = request.view
        var lower: Int64? = request.start == Int64.min ? nil : request.start
        if operation == .tiles {
            // Whole tiles from floor_hop(start), or from the first tile wanted.
            var starts: [Int64] = []
            for hop in TileCuts.hops(of: view) {
                let w = AggregationWindow(length: hop, hop: hop)!
                let fromStart = request.start == Int64.min ? Int64.min : w.floorToHop(request.start)
                starts.append(max(fromStart, request.firstTiles[hop].map(w.floorToHop) ?? Int64.min))
            }
            let earliest = starts.min() ?? Int64.min
            lower = earliest == Int64.min ? nil : earliest
        }
        let columns = LocalOfflineEngine.dataColumns(operation == .tiles ? .tiles : .latestRows, view: view, source: request.source, joinKeys: request.joinKeys)
        let plan = try plan(request.source, columns: columns, joinKeys: request.joinKeys, from: lower, to: request.end, join: false, jobID: job.number)
        let spec = FoldSpec(operation: operation, view: view, source: request.source, joinKeys: request.joinKeys,
                            start: request.start, end: request.end, firstTiles: request.firstTiles, rawFrom: request.rawFrom)
        let specJSON = try specText(spec), fold = try foldBinary(), location = try location(of: request.source)
        let description: [String: Any] = [
            "operation": operation.rawValue, "out": job.out.path, "spec": specJSON, "fold": fold,
            "source_path": location, "source_sql": plan.sourceSQL, "source_sql_number": plan.sourceSQLNumber,
            "source_view": plan.sourceView, "time_column": request.source.timestampField,
        ]
        request.progress?(0, 0)
        let done = try await run(description, progress: request.progress)
        if done.parts == 0 { return (done, try emptyWindowResult(operation, request)) }
        return (done, try job.result())
    }

    /// No rows in the window: the local engine's answer over an empty source of the same columns.
    func emptyWindowResult(_ operation: FoldSpec.Operation, _ request: LatestRowsRequest) throws -> Table {
        var named: [(String, Column)] = request.joinKeys.enumerated().map { (FoldColumns.key($0.offset), Column(strings: [])) }
        if operation == .latest {
            named += request.view.features.indices.map { (FoldColumns.feature($0), Column(strings: [])) }
            named.append((FoldColumns.event, Column(timestamps: [])))
        } else {
            named += [(FoldColumns.hop, Column(int64: [])), (FoldColumns.tileStart, Column(int64: [])), (FoldColumns.states, Column(binary: []))]
        }
        return try Table(named)
    }
}
