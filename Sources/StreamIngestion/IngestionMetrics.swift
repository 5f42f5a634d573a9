import CoreMetrics
import FeatureStoreCore

/// Ingestion metrics through swift-metrics:
/// `featurestore_stream_messages_total{topic}`, `featurestore_stream_bad_messages_total{reason}`,
/// `featurestore_stream_rows_written_total{view}`, `featurestore_stream_freshness_seconds{view}` (time written online
/// minus event time, a histogram), `featurestore_stream_consumer_lag{topic,partition}` (every 5 s), and the offline
/// copy's `featurestore_stream_offline_rows_total{source}` and `featurestore_stream_offline_files_total{source}`; for
/// aggregated views `featurestore_stream_late_events_total{view}` and `featurestore_stream_before_cut_events_total{view}`
/// (events left to the next backfill); `featurestore_expectation_violations_total{view,feature,rule,path}`.
final class IngestionMetrics: @unchecked Sendable {
    // Used only from the ingesting thread.
    private let factory: any MetricsFactory
    private var messages: [String: CoreMetrics.Counter] = [:]
    private var bad: [BadMessageReason: CoreMetrics.Counter] = [:]
    private var written: [String: CoreMetrics.Counter] = [:]
    private var freshness: [String: CoreMetrics.Timer] = [:]
    private var lags: [StreamPartition: CoreMetrics.Gauge] = [:]
    private var offlineRows: [String: CoreMetrics.Counter] = [:]
    private var offlineFiles: [String: CoreMetrics.Counter] = [:]
    private var late: [String: CoreMetrics.Counter] = [:]
    private var beforeCut: [String: CoreMetrics.Counter] = [:]
    private var violationCounters: [String: CoreMetrics.Counter] = [:]

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func record(messages batch: [StreamMessage], bad reasons: [BadMessageReason], rows: [String: [OnlineRow]],
                written counts: [String: Int], writtenAt: Int64) {
        var perTopic: [String: Int] = [:]
        for m in batch { perTopic[m.topic, default: 0] += 1 }
        for (topic, n) in perTopic {
            let counter = messages[topic] ?? CoreMetrics.Counter(label: "featurestore_stream_messages_total", dimensions: [("topic", topic)], factory: factory)
            messages[topic] = counter
            counter.increment(by: n)
        }
        for reason in reasons {
            let counter = bad[reason] ?? CoreMetrics.Counter(label: "featurestore_stream_bad_messages_total", dimensions: [("reason", reason.rawValue)], factory: factory)
            bad[reason] = counter
            counter.increment()
        }
        for (view, viewRows) in rows {
            let counter = written[view] ?? CoreMetrics.Counter(label: "featurestore_stream_rows_written_total", dimensions: [("view", view)], factory: factory)
            written[view] = counter
            counter.increment(by: counts[view] ?? 0)
            let timer = freshness[view] ?? CoreMetrics.Timer(label: "featurestore_stream_freshness_seconds", dimensions: [("view", view)], factory: factory)
            freshness[view] = timer
            for row in viewRows { timer.recordMicroseconds(max(0, writtenAt - row.eventTimestamp)) }
        }
    }

    /// `featurestore_expectation_violations_total{view,feature,rule,path="stream"}`: every rule broken by an event,
    /// written (policy warn) or dead-lettered.
    func violations(_ found: [(view: String, violation: Violation)]) {
        for (view, v) in found {
            let key = "\(view)\u{0}\(v.feature)\u{0}\(v.rule.rawValue)"
            let counter = violationCounters[key] ?? CoreMetrics.Counter(label: "featurestore_expectation_violations_total", dimensions: [
                ("view", view), ("feature", v.feature), ("rule", v.rule.rawValue), ("path", "stream"),
            ], factory: factory)
            violationCounters[key] = counter
            counter.increment()
        }
    }

    func offline(_ files: [OfflineEventLog.WrittenFile]) {
        for file in files {
            let rows = offlineRows[file.source] ?? CoreMetrics.Counter(label: "featurestore_stream_offline_rows_total", dimensions: [("source", file.source)], factory: factory)
            offlineRows[file.source] = rows
            rows.increment(by: file.rows)
            let count = offlineFiles[file.source] ?? CoreMetrics.Counter(label: "featurestore_stream_offline_files_total", dimensions: [("source", file.source)], factory: factory)
            offlineFiles[file.source] = count
            count.increment()
        }
    }

    func tiles(_ outcome: StreamTileWriter.Outcome) {
        for (view, n) in outcome.late {
            let counter = late[view] ?? CoreMetrics.Counter(label: "featurestore_stream_late_events_total", dimensions: [("view", view)], factory: factory)
            late[view] = counter
            counter.increment(by: n)
        }
        for (view, n) in outcome.beforeCut {
            let counter = beforeCut[view] ?? CoreMetrics.Counter(label: "featurestore_stream_before_cut_events_total", dimensions: [("view", view)], factory: factory)
            beforeCut[view] = counter
            counter.increment(by: n)
        }
    }

    func lag(_ lag: [StreamPartition: Int64]) {
        for (tp, value) in lag {
            let gauge = lags[tp] ?? CoreMetrics.Gauge(label: "featurestore_stream_consumer_lag", dimensions: [("topic", tp.topic), ("partition", "\(tp.partition)")], factory: factory)
            lags[tp] = gauge
            gauge.record(value)
        }
    }
}
