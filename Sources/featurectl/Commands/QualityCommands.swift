import ArgumentParser
import Columnar
import DataQuality
import FeatureStoreCore
import Foundation
import Parquet

/// What a data set argument names: a Parquet file, folder or glob, or a view's rows over a window (`VIEW@START..END`,
/// or a bare view name with `--start`/`--end`). A name that is both a path and a view is refused (write `./NAME`).
enum DataSetArgument {
    case file(String)
    case view(name: String, start: Int64, end: Int64)

    /// Parses `text` against the repository's views; `start`/`end` are the window for a bare view name.
    static func parse(_ text: String, store: FeatureStore, start: Int64?, end: Int64?, argument: String) throws -> DataSetArgument {
        if let at = text.firstIndex(of: "@") {
            let name = String(text[..<at]), range = String(text[text.index(after: at)...])
            let parts = range.components(separatedBy: "..")
            guard parts.count == 2, store.registry.featureView(named: name) != nil else {
                throw ValidationError("\(argument) '\(text)': expected VIEW@START..END with a feature view's name, like driver_stats@2026-12-01..now")
            }
            return .view(name: name, start: parts[0].isEmpty ? Int64.min : try parseTime(parts[0]), end: try parseTime(parts[1]))
        }
        let isPath = FileManager.default.fileExists(atPath: text) || text.contains("*")
        let isView = store.registry.featureView(named: text) != nil
        if isPath && isView {
            throw ValidationError("\(argument) '\(text)' is both a path and a feature view: write ./\(text) for the path or \(text)@START..END for the view")
        }
        if isView { return .view(name: text, start: start ?? Int64.min, end: try end ?? parseTime("now")) }
        guard isPath else {
            throw ValidationError("\(argument) '\(text)': no such file, folder or glob, and no feature view of that name\(Suggestion.hint(for: text, in: store.registry.featureViews.map(\.name)))")
        }
        return .file(text)
    }

    /// The data as a table (a view's: one column per feature).
    @MainActor func table(_ store: FeatureStore) async throws -> Table {
        switch self {
        case .file(let path):
            do { return try ParquetDataset(path: path).read() } catch {
                Console.error("error: \(error)")
                throw ExitCode(1)
            }
        case .view(let name, let start, let end):
            do { return try await store.viewTable(name, start: start, end: end) } catch {
                Console.error("error: \(error)")
                throw ExitCode(1)
            }
        }
    }
}

struct ProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Profile features: counts, nulls, range, mean, spread, quantiles and top values, of a Parquet file (a training set, served logs) or of a view's rows.",
        discussion: """
            TARGET is a Parquet file, folder or glob (every column is profiled), or a feature view: its entities' \
            latest rows in [--start, --end), what serving holds at --end. A view's profile is kept in the registry, \
            where the catalog shows it over time. Quantiles come from a mergeable sketch within 1% of the true value.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "A Parquet file, folder or glob, or a feature view's name (or VIEW@START..END).")
    var target: String

    @Option(help: "For a view: the window's start (\(TimeArgument.accepted)); default: the beginning.", transform: parseTime)
    var start: Int64?

    @Option(help: "For a view: the window's end (exclusive); default: now.", transform: parseTime)
    var end: Int64?

    @MainActor func run() async throws {
        let store = try repository.load()
        let data = try DataSetArgument.parse(target, store: store, start: start, end: end, argument: "TARGET")
        var profiles: [(String, FeatureProfile)] = []
        switch data {
        case .file:
            let table = try await data.table(store)
            profiles = zip(table.schema.fields, table.columns).map { ($0.name, FeatureProfile.of($1)) }
        case .view(let name, let start, let end):
            do {
                let profile = try await store.profile(view: name, start: start, end: end)
                profiles = store.registry.featureView(named: name)!.features.compactMap { f in profile.features[f.name].map { (f.name, $0) } }
            } catch {
                Console.error("error: \(error)")
                throw ExitCode(1)
            }
        }
        if output.json {
            struct Out: Encodable {
                var column: String; var count: Int; var nulls: Int; var nan: Int; var infinite: Int; var min: Double?; var max: Double?
                var mean: Double?; var stddev: Double?; var quantiles: [String: Double]; var top: [ValueCount]; var high_cardinality: Bool
            }
            try Console.printJSON(profiles.map { name, p in
                Out(column: name, count: p.count, nulls: p.nullCount, nan: p.nanCount, infinite: p.infiniteCount, min: p.min, max: p.max,
                    mean: p.mean, stddev: p.stddev,
                    quantiles: Dictionary(uniqueKeysWithValues: [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99].compactMap { q in p.quantile(q).map { (String(q), $0) } }),
                    top: p.topValues(10), high_cardinality: p.highCardinality)
            })
            return
        }
        var table = TextTable("COLUMN", "ROWS", "NULLS", "MIN", "P50", "MAX", "MEAN", "STDDEV", "TOP VALUES")
        func number(_ x: Double?) -> String { x.map { String(format: "%.6g", $0) } ?? "" }
        for (name, p) in profiles {
            let nulls = p.count == 0 ? "0" : "\(p.nullCount) (\(String(format: "%.1f%%", p.nullRate * 100)))"
            let top = p.highCardinality ? "(over \(FeatureProfile.maxDistinct) values)" : p.topValues(3).map { "\(Summary.firstLine($0.value, limit: 16)) \($0.count)" }.joined(separator: ", ")
            table.add(name, "\(p.count)", nulls, number(p.min), number(p.quantile(0.5)), number(p.max), number(p.mean), number(p.stddev), top)
        }
        Console.print(table.render())
    }
}

struct DriftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Compare feature distributions between a baseline (a training set) and current data (served logs, newer data).",
        discussion: """
            Each column of --current that --baseline also has is compared: numbers by the population stability index \
            (on the baseline's deciles, with nulls and NaN as one more bin) and the Kolmogorov-Smirnov statistic, \
            strings and booleans by the Jensen-Shannon distance (base 2). Thresholds come from the feature's \
            expect: {drift: ...}, then its view's expectations: {drift: ...}, then psi 0.2, ks 0.1, js 0.1. Exits 3 \
            when a feature is over a threshold.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "The reference data: a Parquet file, folder or glob (a training set), or VIEW@START..END.")
    var baseline: String

    @Option(help: "The data to compare: a Parquet file, folder or glob (served logs), or VIEW@START..END.")
    var current: String

    @Option(help: "Only these columns, comma-separated.")
    var columns: String?

    @MainActor func run() async throws {
        let store = try repository.load()
        let base = try await DataSetArgument.parse(baseline, store: store, start: nil, end: nil, argument: "--baseline").table(store)
        let now = try await DataSetArgument.parse(current, store: store, start: nil, end: nil, argument: "--current").table(store)
        let wanted = columns?.split(separator: ",").map(String.init)
        for name in wanted ?? [] where base.column(named: name) == nil || now.column(named: name) == nil {
            throw ValidationError("--columns: '\(name)' is not a column of both data sets")
        }
        let results = store.drift(baseline: base, current: now, columns: wanted)
        // Kept in the registry: FeatureServer exports the newest scores as gauges, the catalog shows them.
        do { try store.openRegistry().recordDrift(results, baseline: baseline, current: current) } catch {
            Console.error("warning: the scores were not recorded in the registry: \(error)")
        }
        if output.json {
            try Console.printJSON(results)
        } else if results.isEmpty {
            Console.print("No column to compare: the two data sets share no numeric, string or boolean column.")
        } else {
            var table = TextTable("COLUMN", "KIND", "PSI", "KS", "JS", "NULLS (BASE -> NOW)", "VERDICT")
            func score(_ x: Double?, _ t: Double?) -> String { x.map { String(format: "%.4f", $0) + (t.map { $0 < x! ? " > \($0)" : "" } ?? "") } ?? "" }
            for d in results {
                table.add(d.column, d.kind, score(d.psi, d.thresholds.psi), score(d.ks, d.thresholds.ks), score(d.js, d.thresholds.js),
                          String(format: "%.1f%% -> %.1f%%", d.baselineNullRate * 100, d.currentNullRate * 100),
                          d.breaches.isEmpty ? "ok" : "DRIFT (\(d.breaches.joined(separator: ", ")))")
            }
            Console.print(table.render())
        }
        let drifted = results.filter { !$0.breaches.isEmpty }
        if !drifted.isEmpty {
            Console.error("drift: \(drifted.count) of \(results.count) features over their thresholds: \(drifted.map(\.column).joined(separator: ", "))")
            throw ExitCode(3)
        }
    }
}
