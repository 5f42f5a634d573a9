import FeatureStoreCore
import Columnar
import Foundation
import FeatureComputation
import LocalOfflineEngine

/// The Spark side of one job, generated from the definitions: the SQL that reads a view's source (only the columns
/// and times the computation needs) and the entity rows, each row tagged with its partition (`__bucket`, a hash of
/// the join key), and the fold each partition runs.
///
/// Why it scales: each source row and each entity row crosses the network once, to the partition of its key
/// (one shuffle per side, no cross product, no join-then-rank over every pair of rows); a partition then holds all the
/// rows of its keys, and `featurestore-fold` computes them with the embedded engine's code in one sorted pass.
struct SparkPlan {
    /// The SQL reading the view's source rows that can matter, with `__bucket`, for an event time Spark reads as a
    /// timestamp or date.
    var sourceSQL: String
    /// The same for an event time Spark reads as a number (nanosecond timestamps).
    var sourceSQLNumber: String
    /// The temporary view the source is read as (its Parquet data files only: `*.parquet`, `*.parq`).
    var sourceView: String
    /// Where Spark reads the source.
    var location: String
    /// Whether the local schema says Spark will read the event time as a number.
    var timeAsNumber: Bool
    /// The event time column.
    var timeColumn: String
    /// The time filter for an event time Spark reads as a number.
    var numberFilter: String
    /// The SQL tagging the uploaded entity rows (a join), with `__bucket`.
    var entitySQL: String?
    /// The temporary view the entity rows are uploaded as.
    var entitiesView: String
    /// Partitions (buckets).
    var partitions: Int
    /// Why every row goes to one partition, when it must (a join key the source derives).
    var singlePartitionReason: String?

    /// Backquoted for Spark SQL.
    static func quote(_ name: String) -> String { "`" + name.replacingOccurrences(of: "`", with: "``") + "`" }

    /// The hash input of a key column: integers as BIGINT on both sides, so an int32 entity column meets an int64
    /// source column in the same partition; strings and bytes as their bytes.
    static func keyExpression(_ column: String, _ key: JoinKey) -> String {
        switch key.type {
        case .int32, .int64: return "CAST(\(quote(column)) AS BIGINT)"
        case .bytes: return "CAST(\(quote(column)) AS BINARY)"
        default: return quote(column)
        }
    }

    /// `start <= t AND t <= end` on the event time column as Spark reads it; nil bounds are open. A superset of the rows
    /// the fold keeps (the fold applies the exact rule). `asNumber`: Spark reads the column as a number, which it does
    /// for nanosecond timestamps (compared in nanoseconds, saturated at the ends of the 64-bit range); otherwise a
    /// timestamp, timestamp without zone or date, compared as a UTC instant (the session's zone is always UTC) in a form
    /// Spark pushes down to the Parquet reader.
    static func timeFilter(_ column: String, asNumber: Bool, from lower: Int64?, to upper: Int64?) -> String {
        var terms = ["\(quote(column)) IS NOT NULL"]
        if asNumber {
            func nanos(_ us: Int64) -> Int64 {
                let (product, overflow) = us.multipliedReportingOverflow(by: 1000)
                return overflow ? (us < 0 ? Int64.min : Int64.max) : product
            }
            if let lower, lower > Int64.min { terms.append("\(quote(column)) >= \(nanos(lower))L") }
            if let upper, upper < Int64.max {
                let (end, overflow) = nanos(upper).addingReportingOverflow(999)
                if !overflow && end < Int64.max { terms.append("\(quote(column)) <= \(end)L") }
            }
        } else {
            let instant = "CAST(\(quote(column)) AS TIMESTAMP)"
            if let lower, lower > Int64.min { terms.append("\(instant) >= timestamp_micros(\(lower)L)") }
            if let upper, upper < Int64.max { terms.append("\(instant) <= timestamp_micros(\(upper)L)") }
        }
        return terms.joined(separator: "\n  AND ")
    }

    /// The plan of one job over `source` (at `location`, as Spark names it) reading `columns`, its event time within
    /// `[from, to]`; with `entityKeys` (a join), the entity rows' key columns `k0`, `k1`, ... tagged alike.
    init(source: DataSource, location: String, timeType: DataType?, columns: [String], joinKeys: [JoinKey],
         from lower: Int64?, to upper: Int64?, join: Bool, partitions: Int, jobID: Int) {
        self.partitions = partitions
        self.location = location
        entitiesView = "featurestore_entities_\(jobID)"
        sourceView = "featurestore_source_\(jobID)"
        if case .timestamp(.nanoseconds, _)? = timeType { timeAsNumber = true } else { timeAsNumber = false }
        let keyColumns = SourceColumns(source: source, keys: joinKeys, features: []).keys
        let derivedNames = Set(source.derived.map(\.name))
        let bucket: (_ columns: [String]) -> String
        if let derived = keyColumns.first(where: derivedNames.contains) {
            singlePartitionReason = "join key column '\(derived)' is derived by the source, so Spark cannot hash it: one partition"
            bucket = { _ in "0 AS `__bucket`" }
        } else {
            singlePartitionReason = nil
            bucket = { names in
                "pmod(xxhash64(\(zip(names, joinKeys).map { Self.keyExpression($0, $1) }.joined(separator: ", "))), \(partitions)) AS `__bucket`"
            }
        }
        let select = """
            SELECT \(columns.map(Self.quote).joined(separator: ", ")),
              \(bucket(keyColumns))
            FROM \(sourceView)
            WHERE
            """
        timeColumn = source.timestampField
        numberFilter = Self.timeFilter(source.timestampField, asNumber: true, from: lower, to: upper)
        sourceSQL = select + " " + Self.timeFilter(source.timestampField, asNumber: false, from: lower, to: upper)
        sourceSQLNumber = select + " " + numberFilter
        entitySQL = join ? """
            SELECT *,
              \(bucket(joinKeys.indices.map(FoldColumns.key)))
            FROM \(entitiesView)
            """ : nil
    }

    /// The plan as `--explain` prints it: the SQL, then what each partition runs.
    func explain(view: FeatureView, operation: FoldSpec.Operation, master: String, entityRows: Int?) -> String {
        var text = "-- feature view '\(view.name)' on Spark (master \(master)): \(partitions) partitions by a hash of the join key\n"
        if let singlePartitionReason { text += "-- note: \(singlePartitionReason)\n" }
        if let entitySQL, let entityRows {
            text += "-- 1. the \(entityRows) entity rows (keys k0.., time __t, position __row), uploaded as \(entitiesView)\n\(entitySQL);\n"
        }
        text += "-- \(entitySQL == nil ? 1 : 2). the source rows that can matter (only the columns and times needed), from\n"
        text += "--    \(sourceView) = spark.read.parquet(\"\(location)\") (in a folder, only its *.parquet and *.parq files)\n"
        text += "\(sourceSQL);\n"
        text += "--    (the driver runs this when Spark reads \(Self.quote(timeColumn)) as a timestamp or date; when it reads a number,\n"
        text += "--    as it reads nanosecond timestamps\(timeAsNumber ? " (the files here hold them)" : ""), the WHERE clause is:\n"
        text += "--    \(numberFilter.replacingOccurrences(of: "\n", with: "\n--    ")))\n"
        let step = entitySQL == nil ? 2 : 3
        switch operation {
        case .join:
            let rule = view.isAggregated
                ? "each entity row's window aggregates over its key's events (exact sums, our HyperLogLog, our null and overflow rules)"
                : "each entity row's latest source row at or before its time within the ttl; ties by created time, then by the encoded row"
            text += "-- \(step). both sides cogrouped by __bucket (one shuffle each, no cross product); each partition folded by\n"
            text += "--    featurestore-fold join (the embedded engine's code): \(rule)\n"
        case .latest:
            text += "-- \(step). grouped by __bucket; each partition folded by featurestore-fold latest: each entity's latest row in the window\n"
        case .tiles:
            text += "-- \(step). grouped by __bucket; each partition folded by featurestore-fold tiles: the tiles' partial states in the online store's encoding\n"
        }
        return text
    }
}
