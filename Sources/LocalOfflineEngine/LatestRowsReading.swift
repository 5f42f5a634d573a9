public import FeatureStoreCore
import Columnar
import FeatureComputation

extension LocalOfflineEngine {
    /// Materialization's reading: the row groups that can hold events in the window, reduced in one pass by
    /// ``LatestRows`` (the join's rule: greatest event time, then created time, then the greater encoded row).
    public func latestRows(_ request: LatestRowsRequest) async throws -> LatestSourceRows {
        let view = request.view, source = request.source
        let columns = SourceColumns(source: source, keys: request.joinKeys, features: view.features)
        let data = try read(source, view: view, columns: columns.all, from: request.start == Int64.min ? nil : request.start, to: request.end)
        let (times, timesValid) = try Self.eventTimes(data, source)
        let created = try Self.createdTimes(data, source)
        var keys: [Column] = [], features: [Column] = []
        for name in columns.keys {
            guard let column = data.column(named: name) else {
                throw OfflineEngineError(.invalidData, "source '\(source.name)' has no column '\(name)' (a join key of feature view '\(view.name)')")
            }
            keys.append(column)
        }
        for (feature, name) in zip(view.features, columns.features) {
            guard let column = data.column(named: name) else {
                throw OfflineEngineError(.invalidData, "feature '\(feature.name)' of feature view '\(view.name)' is not a column of source '\(source.name)'")
            }
            features.append(column)
        }
        let latest = LatestRows(keys: keys, times: times, timesValid: timesValid, created: created?.times,
                                createdValid: created?.valid, window: request.start..<request.end,
                                contentPrecedes: OnlineEncoding.rowOrder(features: features, types: view.features.map(\.type)))
        return LatestSourceRows(keys: keys, features: features, eventTimes: times, createdTimes: created?.times,
                                createdValid: created?.valid, rows: latest.rows, rowsInWindow: latest.rowsInWindow)
    }
}
