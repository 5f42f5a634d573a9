public import Columnar
public import FeatureStoreCore
import FeatureComputation

extension LocalOfflineEngine {
    /// The point-in-time lookup of one view: reads the row groups that can hold candidates (event times in
    /// `[min(t) - ttl, max(t)]`), indexes them with ``LatestRowIndex`` and takes each entity row's winner.
    public func pointInTimeJoin(_ request: PointInTimeRequest) async throws -> [Column] {
        if request.view.isAggregated { return try aggregatedJoin(request) }
        let view = request.view, source = request.source
        // Every feature of the view is read, not only those asked for: exact ties of event and created time go to the
        // greater whole row, as the online store decides them.
        let columns = SourceColumns(source: source, keys: request.joinKeys, features: view.features)
        let wanted = request.features.map { f in columns.features[view.features.firstIndex { $0.name == f.name }!] }
        request.progress?(.reading, 0, 0)
        let range = request.timeRange
        let ttl = view.ttl.seconds > 0 ? view.ttl.seconds * 1_000_000 : nil
        let data = try read(source, view: view, columns: columns.all, from: ttl.map { EventTime.before(range.lowerBound, by: $0) }, to: range.upperBound)
        request.progress?(.indexing, data.rowCount, data.rowCount)
        for (key, name) in zip(request.joinKeys, columns.keys) {
            if let column = data.column(named: name), !FeatureStore.keyTypeMatches(column.type, key.type) {
                throw OfflineEngineError(.invalidData, "column '\(name)' of source '\(source.name)' is \(column.type), but join key '\(key.name)' is declared \(key.type.rawValue)")
            }
        }
        let (times, timesValid) = try Self.eventTimes(data, source)
        let created = try Self.createdTimes(data, source)
        let entityCount = request.entityTimes.count
        // The index lives only while the winners are found.
        let winners: [Int32] = {
            let all = columns.features.compactMap { data.column(named: $0) }
            let index = LatestRowIndex(keys: columns.keys.map { data.column(named: $0)! }, times: times, timesValid: timesValid,
                                       created: created?.times, createdValid: created?.valid,
                                       contentPrecedes: all.count == view.features.count
                                           ? OnlineEncoding.rowOrder(features: all, types: view.features.map(\.type)) : nil)
            request.progress?(.joining, 0, entityCount)
            var encoder = index.encoder
            let codes = encoder.encode(request.entityKeys, insert: false)
            return index.winners(codes: codes, times: request.entityTimes, timesValid: request.entityTimesValid,
                                 ttl: view.ttl.seconds * 1_000_000)
        }()
        request.progress?(.joining, entityCount, entityCount)
        var out: [Column] = []
        for (feature, name) in zip(request.features, wanted) {
            guard let column = data.column(named: name) else {
                throw OfflineEngineError(.invalidData, "feature '\(feature.name)' of feature view '\(view.name)' is not a column of source '\(source.name)'")
            }
            let taken = column.take(winners)
            let target = FeatureStore.outputType(feature.type, data: column.type)
            guard let typed = taken.cast(to: target) else {
                throw OfflineEngineError(.invalidData, "column '\(name)' of source '\(source.name)' is \(column.type), which cannot be read as feature '\(feature.name)' (\(feature.type))")
            }
            out.append(typed)
        }
        return out
    }
}
