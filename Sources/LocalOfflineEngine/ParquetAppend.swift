public import Columnar
public import FeatureStoreCore
import Foundation
import Parquet
import Synchronization

extension LocalOfflineEngine {
    /// A stream's offline copy goes into the batch source's folder; new files keep the schema of the files already
    /// there (so the dataset stays readable as one).
    public func appendTarget(_ source: DataSource) throws -> Schema? {
        let directory = resolve(try path(of: source))
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else {
            throw OfflineEngineError(.invalidData, "batch source '\(source.name)': \(directory.path) is a file; stream events are appended as files, so its path must be a folder")
        }
        guard let dataset = try? ParquetDataset(path: directory.path), let first = dataset.files.first else { return nil }
        return first.schema
    }

    /// Writes `<source folder>/<partition>/part-<UTC time>-<writer>-<sequence>.parquet` under a temporary name, then
    /// renames it and syncs the folder (the dataset reader skips temporary names): a reader never sees half a file,
    /// and the file survives a crash once this returns.
    public func append(_ table: Table, to source: DataSource, partition: String) async throws -> AppendedPart {
        let folder = resolve(try path(of: source)).appendingPathComponent(partition)
        let name = "part-\(Self.stamp(Date()))-\(Self.writerID)-\(String(format: "%06d", Self.nextSequence())).parquet"
        let path = folder.appendingPathComponent(name).path
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try ParquetFileWriter.write(table, to: path)
            let fd = open(folder.path, O_RDONLY | O_DIRECTORY)
            if fd >= 0 {
                fsync(fd)
                close(fd)
            }
        } catch {
            throw OfflineEngineError(.unreadable, "cannot write to batch source '\(source.name)' at \(path)", cause: error)
        }
        return AppendedPart(location: path, rows: table.rowCount)
    }

    /// Names files apart from other writers' (another process appending to the same folder).
    static let writerID = String(UInt32.random(in: 0...UInt32.max), radix: 16)
    private static let sequence = Sequence()

    static func nextSequence() -> Int { sequence.next() }

    /// `YYYYMMDDTHHMMSS` of a time (UTC).
    static func stamp(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds + 1) / 86_400 - 1
        let secondOfDay = seconds - days * 86_400
        return Column.isoDate(days: days).replacingOccurrences(of: "-", with: "")
            + String(format: "T%02lld%02lld%02lld", secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
    }
}

/// A counter shared by every append of this process.
private final class Sequence: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}
