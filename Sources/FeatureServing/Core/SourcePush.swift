public import FeatureStoreCore
import ServingSettings
import StreamIngestion

/// What a push of a source's rows did, per view reading the source.
public struct SourcePushResult: Sendable, Equatable {
    /// The rows received.
    public var received: Int
    /// Rows written per view (rows older than what is stored are received but not written).
    public var written: [String: Int]
    /// The views reading the source that took no rows, with why (an aggregated view's tiles come from its stream).
    public var skipped: [String: String]
    /// Rows left out per view because they broke its expectations under the `drop` policy.
    public var dropped: [String: Int] = [:]
}

extension ServingCore {
    /// Writes a source's rows, given as named fields per row (the source's column names), to every online view that
    /// reads the source, as the stream ingester would write the same events: the source's field mapping, its derived
    /// columns computed per row, the events' typing rule (``EventValue``) and the event-time-ordered upsert. This is
    /// Feast's push-source push (`/push`): a push source is a source here, and its rows are that source's rows.
    ///
    /// `field` names the rows in errors (`df`); a bad row fails the whole push, naming the row and the column, before
    /// anything is written.
    public func pushSourceRows(source name: String, rows: [[String: EventValue]], authorization: String?,
                               field: String = "df", sourceField: String = "push_source_name") async throws(ServingError) -> SourcePushResult {
        let principal = try access.authenticate(authorization)
        let store = repository.store
        let registry = store.registry
        guard registry.source(named: name) != nil else {
            throw .invalid("\(sourceField): no source '\(name)'\(Self.hint(name, registry.sources.map(\.name))) (a push source is a source of the repository; its rows go to the views reading it)")
        }
        let readers = registry.featureViews.filter { $0.source == name && $0.online }
        var skipped: [String: String] = [:]
        var mappers: [EventMapper] = []
        for view in readers {
            if let reason = view.pushUnsupportedReason { skipped[view.name] = reason; continue }
            guard let mapper = EventMapper(view: view, registry: registry) else { continue }
            mappers.append(mapper)
        }
        guard !mappers.isEmpty else {
            var why = skipped.isEmpty ? "no online feature view reads it" : skipped.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
            // The batch source of a stream: its views read the stream, which is what to push to.
            let streams = registry.sources.filter { $0.name != name && $0.batchSourceName == name }.map(\.name)
            if skipped.isEmpty, !streams.isEmpty {
                why += "; it is the offline copy of \(streams.map { "'\($0)'" }.joined(separator: ", ")), whose views read the stream: push to that name"
            }
            throw .invalid("\(sourceField): source '\(name)' has no view that takes pushes (\(why))")
        }
        try access.authorize(principal, .write, views: mappers.map(\.view.name))
        guard !rows.isEmpty else { throw .invalid("\(field): empty batch (one row at least)") }
        guard rows.count <= limits.maxBatch else { throw .invalid("\(field): \(rows.count) rows, over the limit of \(limits.maxBatch)") }
        // A column a view reads must be there: a missing (or misspelt) one would write nulls over stored values.
        let given = Set(rows[0].keys)
        for mapper in mappers {
            for needed in mapper.requiredFields where !given.contains(needed) {
                throw .invalid("\(field)[\(needed)]: missing (feature view '\(mapper.view.name)' reads it)\(Self.hint(needed, given))")
            }
        }
        // Every view's rows first: a bad row fails the push before anything is written. Expectations as on the
        // stream, where one source row is one event: a row that breaks a rule of a view under drop is left out of
        // every view (the stream dead-letters the whole event); under fail the push is refused.
        var made: [[OnlineRow]] = []
        var left = Set<Int>()
        for mapper in mappers {
            var out: [OnlineRow] = []
            out.reserveCapacity(rows.count)
            for (i, row) in rows.enumerated() {
                do {
                    let one = try mapper.row(row)
                    do {
                        _ = try mapper.checked(one)
                    } catch where mapper.view.violationPolicy == .drop {
                        left.insert(i)
                    }
                    out.append(one)
                } catch {
                    throw .invalid("\(field) row \(i): \(error.message) (feature view '\(mapper.view.name)')")
                }
            }
            made.append(out)
        }
        var batches: [(EventMapper, [OnlineRow])] = []
        var dropped: [String: Int] = [:]
        for (mapper, out) in zip(mappers, made) {
            batches.append((mapper, left.isEmpty ? out : out.enumerated().filter { !left.contains($0.offset) }.map(\.element)))
            if !left.isEmpty { dropped[mapper.view.name] = left.count }
        }
        var written: [String: Int] = [:]
        for (mapper, out) in batches where !out.isEmpty {
            do {
                written[mapper.view.name] = try await store.onlineStore().write(out, to: store.onlineTable(of: mapper.view))
            } catch {
                let done = written.keys.sorted()
                throw ServingError(Self.servingError(error).code,
                                   done.isEmpty ? "" : "feature view '\(mapper.view.name)': not written (\(done.joined(separator: ", ")) written before; pushing again is safe)",
                                   cause: error)
            }
        }
        for (mapper, _) in batches where written[mapper.view.name] == nil { written[mapper.view.name] = 0 }
        metrics.entityRows(.pushFeatures, rows.count)
        return SourcePushResult(received: rows.count, written: written, skipped: skipped, dropped: dropped)
    }
}
