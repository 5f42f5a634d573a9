public import Columnar
public import FeatureStoreCore
import ParquetSource
public import Foundation
import FeatureComputation
import Parquet

/// The local offline engine: batch sources are Parquet files, folders (Hive partitions included) or globs, read in
/// this process with row-group pruning on event time, and computed with the shared computation library
/// (`FeatureComputation`), so the join and materialization apply one rule for which row is an entity's value.
///
/// Memory: one view at a time, the needed source columns of the row groups that can hold candidates, and their index
/// (12 bytes per source row and one hash entry per key).
public struct LocalOfflineEngine: OfflineEngine {
    /// Source paths are relative to this folder (or absolute).
    public let repository: URL

    /// Parquet only.
    public var sourceKinds: [String] { ["parquet"] }

    /// An engine over the repository folder `repository`.
    public init(repository: URL) {
        self.repository = repository
    }

    /// A source path as a URL.
    func resolve(_ path: String) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : repository.appendingPathComponent(path)
    }

    /// The Parquet path of a batch source.
    func path(of source: DataSource) throws(OfflineEngineError) -> String {
        guard let path = ParquetSourceKind.path(of: source) else {
            throw OfflineEngineError(.invalidData, "source '\(source.name)' is a \(source.kind) source: the local engine reads parquet sources")
        }
        return path
    }

    /// The schema in the Parquet metadata of the source's path (nil when it holds no data file yet); see
    /// ``OfflineEngine/schema(of:)``.
    public func schema(of source: DataSource) throws -> Schema? {
        let path = try path(of: source)
        let url = resolve(path)
        guard Self.hasData(path: path, url: url) else { return nil }
        do {
            return try ParquetDataset(path: url.path).schema
        } catch {
            throw OfflineEngineError(.unreadable, "", cause: error)
        }
    }

    /// Whether a source path holds data yet: an existing file, or a folder or glob with at least one data file. A path
    /// that exists but cannot be listed counts as data, so that reading it reports the real problem.
    static func hasData(path: String, url: URL) -> Bool {
        let isGlob = path.contains { "*?[".contains($0) }
        if !isGlob && !FileManager.default.fileExists(atPath: url.path) { return false }
        guard let files = try? ParquetDataset.dataFiles(at: url.path) else { return true }
        return !files.isEmpty
    }

    /// Reads a Parquet file, folder or glob, relative to the working directory (not the repository); see
    /// ``OfflineEngine/readTable(at:)``.
    public func readTable(at location: String) async throws -> Table {
        do {
            return try ParquetDataset(path: location).read()
        } catch {
            throw OfflineEngineError(.unreadable, "", cause: error)
        }
    }

    /// Reads the needed columns of a view's source, skipping row groups whose event times fall outside
    /// `[from, to]` (microseconds; nil: no lower bound).
    ///
    /// Derived columns among `columns` are computed from the data columns they read (``DerivedColumns``).
    func read(_ source: DataSource, view: FeatureView, columns: [String], from lower: Int64?, to upper: Int64) throws(OfflineEngineError) -> Table {
        let path = try path(of: source)
        let derived = DerivedColumns(source)
        let data: Table
        do {
            let dataset = try ParquetDataset(path: resolve(path).path)
            let predicate = Self.timePredicate(dataset.schema.field(named: source.timestampField)?.type, column: source.timestampField,
                                               from: lower, to: upper)
            data = try dataset.read(columns: source.derived.isEmpty ? columns : derived.dataColumns(for: columns), where: predicate)
        } catch {
            throw OfflineEngineError(.unreadable, "cannot read the source of feature view '\(view.name)'", cause: error)
        }
        guard !source.derived.isEmpty else { return data }
        do {
            return try derived.apply(to: data, wanted: columns)
        } catch {
            throw OfflineEngineError(.invalidData, "feature view '\(view.name)'", cause: error)
        }
    }

    /// Row-group skipping on the source's event time (bounds in microseconds), in the column's units: a row group is
    /// read when some of its times may lie in `[from, to]` once read as microseconds (``EventTime``).
    static func timePredicate(_ type: DataType?, column: String, from lower: Int64?, to upper: Int64) -> RangePredicate? {
        switch type {
        case .timestamp(let unit, _)?:
            switch unit {
            case .nanoseconds:
                // Nanoseconds round down to microseconds: [lo us, hi us] holds the ticks [lo*1000, hi*1000 + 999].
                let lo = lower.map { EventTime.scaled($0, by: 1000) }
                let hi = upper >= Int64.max / 1000 ? Int64.max : EventTime.scaled(upper, by: 1000) + 999
                return RangePredicate(column: column, lower: lo.map { .int($0) }, upper: .int(hi))
            case .microseconds:
                return RangePredicate(column: column, lower: lower.map { .int($0) }, upper: .int(upper))
            case .milliseconds:
                // Ceiling and floor without overflow; ticks saturated to Int64.max (EventTime) stay in at the top.
                let lo = lower.map { $0 / 1000 + ($0 % 1000 > 0 ? 1 : 0) }
                let hi = upper == Int64.max ? Int64.max : upper / 1000 - (upper % 1000 < 0 ? 1 : 0)
                return RangePredicate(column: column, lower: lo.map { .int($0) }, upper: .int(hi))
            }
        case .date32?:
            let day: Int64 = 86_400_000_000
            let lo = lower.map { $0 / day + ($0 % day > 0 ? 1 : 0) }
            let hi = upper / day - (upper % day < 0 ? 1 : 0)
            return RangePredicate(column: column, lower: lo.map { .int($0) }, upper: .int(hi))
        default:
            return nil
        }
    }

    /// The event time column of data read from `source`, in microseconds (``EventTime``), with its validity.
    static func eventTimes(_ data: Table, _ source: DataSource) throws(OfflineEngineError) -> (times: [Int64], valid: Bitmap?) {
        guard let column = data.column(named: source.timestampField), let times = EventTime.microseconds(of: column) else {
            throw OfflineEngineError(.invalidData, "column '\(source.timestampField)' of source '\(source.name)' is not a timestamp")
        }
        return (times, column.validity)
    }

    /// The created time column, when the source has one, in microseconds (``EventTime``), with its validity.
    static func createdTimes(_ data: Table, _ source: DataSource) throws(OfflineEngineError) -> (times: [Int64], valid: Bitmap?)? {
        guard let name = source.createdTimestampField, let column = data.column(named: name) else { return nil }
        guard let times = EventTime.microseconds(of: column) else {
            throw OfflineEngineError(.invalidData, "column '\(name)' of source '\(source.name)' is not a timestamp")
        }
        return (times, column.validity)
    }
}
