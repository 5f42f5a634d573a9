import ErrorChain
public import FeatureStoreCore
import Foundation
import Columnar
import FeatureComputation
import LocalOfflineEngine
import Parquet

/// What one partition's fold computes: sent by ``SparkOfflineEngine`` to `featurestore-fold` on Spark's workers
/// as JSON, with the partition's rows in Parquet files beside it.
public struct FoldSpec: Codable, Sendable, Hashable {
    /// The computation.
    public enum Operation: String, Codable, Sendable, Hashable {
        /// ``OfflineEngine/pointInTimeJoin(_:)`` of the partition's entity rows against its source rows.
        case join
        /// ``OfflineEngine/latestRows(_:)`` of the partition's source rows.
        case latest
        /// ``OfflineEngine/aggregateTiles(_:)`` of the partition's source rows.
        case tiles
    }

    /// The computation.
    public var operation: Operation
    /// The view.
    public var view: FeatureView
    /// Its batch source (the partition's file stands in for its path).
    public var source: DataSource
    /// Its join keys, in order.
    public var joinKeys: [JoinKey]
    /// The features joined (``Operation/join``).
    public var features: [Feature]
    /// The window's start and exclusive end, microseconds (``Operation/latest``, ``Operation/tiles``).
    public var start: Int64
    /// The window's exclusive end.
    public var end: Int64
    /// Per hop, the first tile wanted, as pairs (hop, start).
    public var firstTiles: [[Int64]]
    /// Events at or after this time are kept whole in their tiles.
    public var rawFrom: Int64

    /// A spec for `operation` over `view`.
    public init(operation: Operation, view: FeatureView, source: DataSource, joinKeys: [JoinKey], features: [Feature] = [],
                start: Int64 = Int64.min, end: Int64 = Int64.max, firstTiles: [Int64: Int64] = [:], rawFrom: Int64 = Int64.max) {
        self.operation = operation
        self.view = view
        self.source = source
        self.joinKeys = joinKeys
        self.features = features
        self.start = start
        self.end = end
        self.firstTiles = firstTiles.sorted { $0.key < $1.key }.map { [$0.key, $0.value] }
        self.rawFrom = rawFrom
    }

    /// The window request of a ``Operation/latest`` or ``Operation/tiles`` fold over `source`.
    func windowRequest(source: DataSource) -> LatestRowsRequest {
        var request = LatestRowsRequest(view: view, source: source, joinKeys: joinKeys, start: start, end: end,
                                        firstTiles: Dictionary(firstTiles.map { ($0[0], $0[1]) }, uniquingKeysWith: { a, _ in a }))
        request.rawFrom = rawFrom
        return request
    }
}

/// The columns of the files a fold writes, beside the feature columns `f0`, `f1`, ... and key columns `k0`, `k1`, ...
enum FoldColumns {
    /// Join output and entity input: the entity row's position in the request.
    static let row = "__row"
    /// Entity input: the entity row's time (a timestamp in microseconds; null where the row's time is null).
    static let time = "__t"
    /// Latest rows: event and created times (microseconds).
    static let event = "__event"
    static let created = "__created"
    /// Tiles: hop, first time, and the states in the online store's encoding (``AggregateState/encode(_:raw:)``).
    static let hop = "__hop"
    static let tileStart = "__start"
    static let states = "__states"
    static func key(_ i: Int) -> String { "k\(i)" }
    static func feature(_ i: Int) -> String { "f\(i)" }
}

/// The computation Spark's partitions run: the local engine's, on the partition's rows, so a Spark result is the
/// embedded engine's by construction (one implementation of the math). `featurestore-fold` is its command line.
public enum SparkFold {
    /// Runs one fold: `spec` over the source rows in `sourceFile` (and the entity rows in `entitiesFile` for a join),
    /// writing the result to `outputFile`. Returns the count the engine sums: entity rows joined, source rows in the
    /// window, or events counted in tiles.
    public static func run(_ spec: FoldSpec, sourceFile: String, entitiesFile: String?, outputFile: String) async throws -> Int {
        let folder = URL(fileURLWithPath: sourceFile).deletingLastPathComponent()
        var source = spec.source
        source.settings["path"] = sourceFile
        let engine = LocalOfflineEngine(repository: folder)
        let table: Table
        let count: Int
        switch spec.operation {
        case .join:
            guard let entitiesFile else { throw SparkError("a join fold needs the partition's entity rows") }
            let entities = try read(entitiesFile)
            var keys: [Column] = []
            for i in spec.joinKeys.indices {
                guard let column = entities.column(named: FoldColumns.key(i)) else { throw SparkError("the entity rows have no column \(FoldColumns.key(i))") }
                keys.append(column)
            }
            guard let rows = entities.column(named: FoldColumns.row), let timeColumn = entities.column(named: FoldColumns.time),
                  let times = EventTime.microseconds(of: timeColumn) else {
                throw SparkError("the entity rows lack \(FoldColumns.row) or a timestamp \(FoldColumns.time)")
            }
            let request = PointInTimeRequest(view: spec.view, source: source, joinKeys: spec.joinKeys, features: spec.features,
                                             entityKeys: keys, entityTimes: times, entityTimesValid: timeColumn.validity)
            let columns = try await engine.pointInTimeJoin(request)
            table = try Table([(FoldColumns.row, rows)] + columns.enumerated().map { (FoldColumns.feature($0.offset), $0.element) })
            count = entities.rowCount
        case .latest:
            let latest = try await engine.latestRows(spec.windowRequest(source: source))
            let rows = latest.rows
            var named: [(String, Column)] = []
            named += latest.keys.enumerated().map { (FoldColumns.key($0.offset), $0.element.take(rows)) }
            named += latest.features.enumerated().map { (FoldColumns.feature($0.offset), $0.element.take(rows)) }
            named.append((FoldColumns.event, Column(timestamps: rows.map { latest.eventTimes[Int($0)] })))
            if let created = latest.createdTimes {
                named.append((FoldColumns.created, Column(timestamps: rows.map { r in
                    latest.createdValid.map { $0[Int(r)] } ?? true ? created[Int(r)] : nil
                })))
            }
            table = try Table(named)
            count = latest.rowsInWindow
        case .tiles:
            let built = try await engine.aggregateTiles(spec.windowRequest(source: source))
            let rows = built.tiles.map { Int32($0.row) }
            var named: [(String, Column)] = built.keys.enumerated().map { (FoldColumns.key($0.offset), $0.element.take(rows)) }
            named.append((FoldColumns.hop, Column(int64: built.tiles.map(\.hop))))
            named.append((FoldColumns.tileStart, Column(int64: built.tiles.map(\.start))))
            named.append((FoldColumns.states, Column(binary: built.tiles.map {
                AggregateState.encode($0.states, raw: $0.raw.events.isEmpty ? nil : $0.raw)
            })))
            table = try Table(named)
            count = built.events
        }
        do {
            try ParquetFileWriter.write(table, to: outputFile)
        } catch {
            throw SparkError("cannot write \(outputFile)", cause: error)
        }
        return count
    }

    static func read(_ path: String) throws(SparkError) -> Table {
        do {
            return try ParquetDataset(path: path).read()
        } catch {
            throw SparkError("cannot read \(path)", cause: error)
        }
    }

    /// `featurestore-fold OPERATION SPEC SOURCE [ENTITIES] OUTPUT`: runs ``run(_:sourceFile:entitiesFile:outputFile:)``
    /// with the spec in the JSON file SPEC, prints `{"count": N}` and returns 0; on failure prints the error to
    /// standard error and returns 1 (2 for wrong arguments).
    public static func main(_ arguments: [String]) async -> Int32 {
        let usage = "usage: featurestore-fold join|latest|tiles SPEC.json SOURCE.parquet [ENTITIES.parquet] OUTPUT.parquet"
        let args = Array(arguments.dropFirst())
        guard args.count == 4 || args.count == 5, FoldSpec.Operation(rawValue: args[0]) != nil else {
            FileHandle.standardError.write(Data((usage + "\n").utf8))
            return 2
        }
        do {
            let spec = try JSONDecoder().decode(FoldSpec.self, from: Data(contentsOf: URL(fileURLWithPath: args[1])))
            guard spec.operation.rawValue == args[0], (spec.operation == .join) == (args.count == 5) else {
                FileHandle.standardError.write(Data((usage + "\n").utf8))
                return 2
            }
            let count = try await run(spec, sourceFile: args[2], entitiesFile: args.count == 5 ? args[3] : nil, outputFile: args.last!)
            FileHandle.standardOutput.write(Data("{\"count\": \(count)}\n".utf8))
            return 0
        } catch {
            FileHandle.standardError.write(Data("\(ErrorChain.render(error))\n".utf8))
            return 1
        }
    }
}
