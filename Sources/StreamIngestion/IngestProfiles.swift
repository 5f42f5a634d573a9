import DataQuality
import FeatureStoreCore

/// Profiles of what the ingester writes, per plain view and hour of event time (UTC), kept in the registry each time
/// the offline copy rolls (origin `ingest`): the distribution of the stream as it arrives, window by window.
struct IngestProfiles {
    /// view -> window start (microseconds) -> feature -> profile, and the rows of each window.
    private var windows: [String: [Int64: (rows: Int, features: [String: FeatureProfile])]] = [:]

    /// The window's length: an hour.
    static let window: Int64 = 3_600_000_000

    /// Whether nothing is waiting to be recorded.
    var isEmpty: Bool { windows.isEmpty }

    /// Adds rows written for `view` (values in its feature order).
    mutating func add(_ rows: [OnlineRow], view: FeatureView) {
        guard !view.isAggregated else { return }
        for row in rows {
            let t = row.eventTimestamp
            let start = t >= 0 ? t / Self.window * Self.window : -((-t - 1) / Self.window) * Self.window - Self.window
            var entry = windows[view.name]?[start] ?? (0, [:])
            entry.rows += 1
            for (feature, value) in zip(view.features, row.values) { entry.features[feature.name, default: FeatureProfile()].add(value) }
            windows[view.name, default: [:]][start] = entry
        }
    }

    /// The profiles gathered since the last call, one per view and window.
    mutating func take() -> [ViewProfile] {
        defer { windows = [:] }
        return windows.keys.sorted().flatMap { view in
            windows[view]!.keys.sorted().map { start in
                let entry = windows[view]![start]!
                let end = start.addingReportingOverflow(Self.window)
                return ViewProfile(view: view, start: start, end: end.overflow ? Int64.max : end.partialValue, origin: "ingest",
                                   rows: entry.rows, features: entry.features)
            }
        }
    }
}
