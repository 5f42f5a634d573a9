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
    /// The SQL reading the view's source rows that can matter, with `__bucket`.
    var sourceSQL: String
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

    /// `start <= t AND t <= end` on the event time column as Spark reads it (nanosecond timestamps are read as their
    /// numbers; other timestamps and dates as Spark timestamps in UTC); nil bounds are open. A superset of the rows the
    /// fold keeps: the fold applies the exact rule.
    static func timeFilter(_ column: String, type: DataType?, from lower: Int64?, to upper: Int64?) -> String {
        var terms = ["\(quote(column)) IS NOT NULL"]
        if case .timestamp(.nanoseconds, _)? = type {
            if let lower, lower > Int64.min / 1000 { terms.append("\(quote(column)) >= \(lower * 1000)L") }
            if let upper, upper < Int64.max / 1000 - 1 { terms.append("\(quote(column)) <= \(upper * 1000 + 999)L") }
        } else {
            let micros = "unix_micros(CAST(\(quote(column)) AS TIMESTAMP))"
            if let lower, lower > Int64.min { terms.append("\(micros) >= \(lower)L") }
            if let upper, upper < Int64.max { terms.append("\(micros) <= \(upper)L") }
        }
        return terms.joined(separator: "\n  AND ")
    }

    /// The plan of one job over `source` (at `location`, as Spark names it) reading `columns`, its event time within
    /// `[from, to]`; with `entityKeys` (a join), the entity rows' key columns `k0`, `k1`, ... tagged alike.
    init(source: DataSource, location: String, timeType: DataType?, columns: [String], joinKeys: [JoinKey],
         from lower: Int64?, to upper: Int64?, join: Bool, partitions: Int, jobID: Int) {
        self.partitions = partitions
        entitiesView = "featurestore_entities_\(jobID)"
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
        sourceSQL = """
            SELECT \(columns.map(Self.quote).joined(separator: ", ")),
              \(bucket(keyColumns))
            FROM parquet.\(Self.quote(location))
            WHERE \(Self.timeFilter(source.timestampField, type: timeType, from: lower, to: upper))
            """
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
        text += "-- \(entitySQL == nil ? 1 : 2). the source rows that can matter (only the columns and times needed)\n\(sourceSQL);\n"
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
