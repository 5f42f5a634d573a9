import ArgumentParser
import Columnar
import FeatureStoreCore
import Foundation
import Parquet
import ParquetSource

struct SampleDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample-data",
        abstract: "Write deterministic Parquet data for the ride-hailing example repository.",
        discussion: """
            Writes the files the example's parquet sources name (driver stats, driver activity and trips by day, \
            customer profiles, route stats). For the same --size and --end the files are identical.
            """)

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "small (thousands of rows, the default) or large (millions, for benchmarks).")
    var size: String = "small"

    @Option(help: ArgumentHelp("The end of the data (exclusive): \(TimeArgument.accepted); default: now.", valueName: "time"),
            transform: parseTime)
    var end: Int64?

    func validate() throws {
        guard RideHailingData.Size(rawValue: size) != nil else { throw ValidationError("--size must be small or large") }
    }

    func run() throws {
        let store = try repository.load()
        // Default: the current minute, so every view's newest rows are within its ttl when the demo materializes
        // right after (route_stats has a 1h ttl and a row every 15 minutes).
        let endMicros = end ?? {
            let now = TimeArgument.currentMicros()
            return now - RideHailingData.floorMod(now, RideHailingData.minute)
        }()
        let data = RideHailingData(size: RideHailingData.Size(rawValue: size)!, end: endMicros)
        func path(of sourceName: String) throws -> URL {
            guard let source = store.registry.source(named: sourceName), let path = ParquetSourceKind.path(of: source) else {
                Console.error("error: sample-data writes the ride-hailing example's data; this repository has no parquet source '\(sourceName)'")
                throw ExitCode(1)
            }
            return store.resolve(path)
        }
        let started = Date()
        var total = 0
        func write(_ table: Table, to url: URL) throws {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let t0 = Date()
            do {
                try ParquetFileWriter.write(table, to: url.path)
            } catch {
                Console.error("error: \(error)")
                throw ExitCode(1)
            }
            total += table.rowCount
            Console.print(String(format: "  %@  %d rows  %.2fs", url.path.replacingOccurrences(of: store.repository.path + "/", with: ""),
                                 table.rowCount, Date().timeIntervalSince(t0)))
        }
        Console.print("Writing \(size) sample data ending \(Column.isoTimestamp(endMicros, unit: .microseconds, utc: true)):")
        try write(data.driverStats(), to: path(of: "driver_stats_source"))
        let activity = try path(of: "driver_activity_source")
        // Replace the activity folder: its days depend on --end.
        try? FileManager.default.removeItem(at: activity)
        for (date, table) in try data.driverActivity() {
            try write(table, to: activity.appendingPathComponent("date=\(date)/part-0.parquet"))
        }
        // The trips stream's offline copy, when the repository has it (the example's aggregated view reads it).
        if store.registry.source(named: "trips_log") != nil {
            let trips = try path(of: "trips_log")
            try? FileManager.default.removeItem(at: trips)
            for (date, table) in try data.trips() {
                try write(table, to: trips.appendingPathComponent("date=\(date)/part-0.parquet"))
            }
        }
        try write(data.customerProfile(), to: path(of: "customer_profile_source"))
        try write(data.routeStats(), to: path(of: "route_stats_source"))
        // Entity rows for a training set (not a source: what `featurectl join --entities` takes).
        try write(data.tripRequests(), to: store.resolve(store.config.offlineStorePath).appendingPathComponent("entities.parquet"))
        Console.print(String(format: "Wrote %d rows in %.1fs.", total, Date().timeIntervalSince(started)))
    }
}
