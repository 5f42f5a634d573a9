import Columnar
public import CoreMetrics
public import FeatureStoreCore
import Foundation
public import Logging
import Parquet
public import ServiceLifecycle
import StreamIngestion
import Synchronization

/// Logs the feature vectors FeatureServer serves for services with `logging:` (a share of their lookups), off the
/// request path: a lookup only appends its answer to a bounded queue (never waits; when the queue is full the
/// lookup is dropped from the log and counted). A background task takes the queue often (every `encodeInterval`) and
/// encodes it into columns, so answers are not held for long, and writes what it encoded every `interval` as Parquet
/// files, one per service and UTC day, under `date=YYYY-MM-DD/` folders, each written under a temporary name and
/// renamed (readers never see half a file). A graceful shutdown writes what is queued.
///
/// Columns: `request_id`, `request_time` (microseconds, UTC), the entity rows' join keys, and per feature its value,
/// `FEATURE__status` and `FEATURE__event_timestamp`. Metrics: `featurestore_feature_log_rows_total{service}`,
/// `featurestore_feature_log_dropped_total{service}`, `featurestore_feature_log_files_total{service}`.
public final class FeatureLogger: Service, Sendable {
    /// One logged lookup.
    struct Entry: Sendable {
        var service: String
        /// The service's `logging.path` (resolved against `store` when written, off the request path).
        var path: String?
        var store: FeatureStore
        var requestID: UInt64
        var requestTime: Int64
        var entities: [String: [OnlineValue]]
        var keyTypes: [String: ScalarType]
        var result: OnlineFeatures
    }

    struct Queue {
        var entries: [Entry] = []
        var rows = 0
        var offered: [String: Int] = [:]
        var dropped: [String: Int] = [:]
        var written: [String: Int] = [:]
        var files: [String: Int] = [:]
        var sequence: UInt64 = 0
    }

    /// Lookups of one service and UTC day encoded into columns and not yet written.
    struct PendingFile: Sendable {
        var root: URL
        var parts: [Table]
        /// The type of every column of the parts, by name (a part with another type for a name starts a new file).
        var types: [String: DataType]
        var rows: Int
        var firstRequestTime: Int64
    }

    private let queue = Mutex(Queue())
    /// The writer's encoded lookups by service and day (only the writer and `flush` take this lock, never a lookup).
    private let pending = Mutex([String: PendingFile]())
    private let pendingRows = Atomic<Int>(0)
    private let maxQueuedRows: Int
    private let interval: Duration
    private let encodeInterval: Duration
    private let logger: Logger
    private let factory: (any MetricsFactory)?
    private let counter = Atomic<UInt64>(0)
    private let ids = Atomic<UInt64>(0)
    private let seed = UInt64.random(in: .min ... .max)
    private let instance: String

    /// A logger holding at most `maxQueuedRows` entity rows in its queue, encoding the queue into columns every
    /// `encodeInterval` (at most `interval`) and writing files every `interval`.
    public init(maxQueuedRows: Int = 200_000, interval: Duration = .seconds(5), encodeInterval: Duration = .milliseconds(500),
                instance: String = "0", logger: Logger = Logger(label: "featurestore.feature-log"), metrics: (any MetricsFactory)? = nil) {
        self.maxQueuedRows = maxQueuedRows
        self.interval = interval
        self.encodeInterval = min(encodeInterval, interval)
        self.logger = logger
        self.factory = metrics
        self.instance = instance
    }

    /// What was logged so far, per service: lookups offered (sampled in), rows written, rows dropped, files. Once
    /// flushed, every offered row is written or dropped.
    public struct Counts: Sendable, Equatable {
        /// Entity rows of sampled lookups offered to the log.
        public var offered: [String: Int]
        /// Entity rows written to files.
        public var written: [String: Int]
        /// Entity rows dropped because the queue was full (or a write failed).
        public var dropped: [String: Int]
        /// Files written.
        public var files: [String: Int]
    }

    /// The counts now.
    public var counts: Counts { queue.withLock { Counts(offered: $0.offered, written: $0.written, dropped: $0.dropped, files: $0.files) } }

    /// Entity rows waiting in the queue (not yet encoded).
    var queuedRows: Int { queue.withLock { $0.rows } }

    /// Entity rows taken from the queue (being encoded, or encoded into columns) and not yet written.
    var encodedRows: Int { pendingRows.load(ordering: .relaxed) }

    /// Whether this lookup is sampled in at `rate`: a fixed sequence (splitmix64 of a counter), cheap and even.
    func sampled(_ rate: Double) -> Bool {
        if rate >= 1 { return true }
        return Double(Self.mix(counter.add(1, ordering: .relaxed).newValue) >> 11) / Double(1 << 53) < rate
    }

    /// splitmix64's finaliser: an even, cheap bijection of a counter.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Offers a served lookup of `service` to the log (sampled at the service's rate); never blocks on I/O.
    /// `requestTime` is the lookup's time in microseconds since 1970 (the clock's now when nil); it picks the day folder.
    public func offer(service: FeatureService, store: FeatureStore, entities: [String: [OnlineValue]], keyTypes: [String: ScalarType],
                      result: OnlineFeatures, requestTime: Int64? = nil) {
        // The request path does the least: a clock read, a counter, one append under the lock. Everything else
        // (ordering keys, paths, ids as text, columns, Parquet) happens when the queue is written.
        guard let logging = service.logging, sampled(logging.sampleRate) else { return }
        let micros = requestTime ?? Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down))
        let requestID = Self.mix(ids.add(1, ordering: .relaxed).newValue ^ seed)
        let rows = result.entityCount
        let accepted = queue.withLock { q -> Bool in
            q.offered[service.name, default: 0] += rows
            // Rows encoded and not yet written count too: the log never holds more than maxQueuedRows.
            guard q.rows + pendingRows.load(ordering: .relaxed) + rows <= maxQueuedRows else {
                q.dropped[service.name, default: 0] += rows
                return false
            }
            q.rows += rows
            q.entries.append(Entry(service: service.name, path: logging.path, store: store, requestID: requestID, requestTime: micros,
                                   entities: entities, keyTypes: keyTypes, result: result))
            return true
        }
        if !accepted { count("featurestore_feature_log_dropped_total", service.name, rows) }
    }

    /// `feature_logs/SERVICE` under the offline store's `path` (or the repository's `data/`).
    static func defaultPath(_ store: FeatureStore, service: String) -> String {
        let base = store.config.offlineEngine.settings.values["path"] ?? "data"
        return (base as NSString).appendingPathComponent("feature_logs/\(service)")
    }

    private func count(_ label: String, _ service: String, _ n: Int) {
        guard let factory, n > 0 else { return }
        CoreMetrics.Counter(label: label, dimensions: [("service", service)], factory: factory).increment(by: n)
    }

    /// Writes every queued and encoded lookup now (one file per service and day); returns the files written. For
    /// callers that do not also `run()` the logger (the run loop may hold rows it has taken and not yet encoded).
    @discardableResult
    public func flush() -> [String] {
        let (entries, sequence) = take()
        let outcome = encode(entries, sequence: sequence, writeFiles: true)
        record(outcome)
        return outcome.paths
    }

    /// What one write of the queue did, per service.
    struct Outcome: Sendable {
        var paths: [String] = []
        var written: [String: Int] = [:]
        var files: [String: Int] = [:]
        var dropped: [String: Int] = [:]
    }

    /// Takes the queue (under the lock, on the caller's thread: never on the idle-priority writer, which could be
    /// descheduled holding the lock a lookup needs). The taken rows count as pending from here, under the same lock,
    /// so the bound holds while they are encoded.
    func take() -> ([Entry], UInt64) {
        queue.withLock { q -> ([Entry], UInt64) in
            let taken = q.entries
            pendingRows.add(q.rows, ordering: .relaxed)
            q.entries = []
            q.rows = 0
            q.sequence += 1
            return (taken, q.sequence)
        }
    }

    /// Counts what a write did (under the lock, on the caller's thread) and in the metrics.
    func record(_ outcome: Outcome) {
        queue.withLock { q in
            for (service, n) in outcome.written { q.written[service, default: 0] += n }
            for (service, n) in outcome.files { q.files[service, default: 0] += n }
            for (service, n) in outcome.dropped { q.dropped[service, default: 0] += n }
        }
        for (service, n) in outcome.written { count("featurestore_feature_log_rows_total", service, n) }
        for (service, n) in outcome.files { count("featurestore_feature_log_files_total", service, n) }
        for (service, n) in outcome.dropped { count("featurestore_feature_log_dropped_total", service, n) }
    }

    /// Encodes taken entries into columns, one part per service and day, and with `writeFiles` writes every encoded
    /// part as a file per service and day; takes only the writer's lock (never one a lookup needs).
    func encode(_ entries: [Entry], sequence: UInt64, writeFiles: Bool) -> Outcome {
        pending.withLock { files -> Outcome in
            var outcome = Outcome()
            var groups: [String: [Entry]] = [:]
            for e in entries {
                let day = Column.isoDate(days: Self.floorDiv(e.requestTime, 86_400_000_000))
                groups["\(e.service)\u{0}\(day)", default: []].append(e)
            }
            for key in groups.keys.sorted() {
                let group = groups[key]!
                let rows = group.reduce(0) { $0 + $1.result.entityCount }
                let table: Table
                do {
                    table = try Self.table(group)
                } catch {
                    // Logging never fails a lookup; rows that cannot be encoded are counted as dropped and said.
                    let service = group[0].service
                    pendingRows.subtract(rows, ordering: .relaxed)
                    outcome.dropped[service, default: 0] += rows
                    logger.error("feature log rows not encoded", metadata: ["service": "\(service)", "rows": "\(rows)", "error": "\(error)"])
                    continue
                }
                // Parts with other columns (an on-demand service's calls name other keys) share a file, each
                // missing column null; a part giving a column another type (definitions changed) starts a new file.
                if let file = files[key], table.schema.fields.contains(where: { f in file.types[f.name].map { $0 != f.type } ?? false }) {
                    write(files.removeValue(forKey: key)!, key: key, sequence: sequence, into: &outcome)
                }
                if files[key] == nil {
                    let root = group[0].store.resolve(group[0].path ?? Self.defaultPath(group[0].store, service: group[0].service))
                    files[key] = PendingFile(root: root, parts: [], types: [:], rows: 0, firstRequestTime: group[0].requestTime)
                }
                files[key]!.parts.append(table)
                for f in table.schema.fields { files[key]!.types[f.name] = f.type }
                files[key]!.rows += rows
            }
            // Encoded rows past half the bound are written early, so lookups are not dropped while they wait.
            if writeFiles || pendingRows.load(ordering: .relaxed) >= maxQueuedRows / 2 {
                for key in files.keys.sorted() { write(files.removeValue(forKey: key)!, key: key, sequence: sequence, into: &outcome) }
            }
            return outcome
        }
    }

    /// Writes one service's encoded lookups of one day as a file.
    private func write(_ file: PendingFile, key: String, sequence: UInt64, into outcome: inout Outcome) {
        pendingRows.subtract(file.rows, ordering: .relaxed)
        let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false)
        let service = String(parts[0]), day = String(parts[1])
        let folder = file.root.appendingPathComponent("date=\(day)")
        // Never the name of another file: the instance, the time, the flush and a random token.
        let token = String(UInt64.random(in: 0 ... .max), radix: 16)
        let path = folder.appendingPathComponent("part-\(instance)-\(file.firstRequestTime)-\(sequence)-\(token).parquet").path
        do {
            let table = try Self.concatenate(file.parts)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try ParquetFileWriter.write(table, to: path)
            outcome.written[service, default: 0] += file.rows
            outcome.files[service, default: 0] += 1
            outcome.paths.append(path)
        } catch {
            // Logging never fails a lookup; a file that cannot be written is counted as dropped and said.
            outcome.dropped[service, default: 0] += file.rows
            logger.error("feature log not written", metadata: ["service": "\(service)", "path": "\(path)", "rows": "\(file.rows)", "error": "\(error)"])
        }
    }

    /// Parts as one table: every column of any part, in the order they first appear, null in the parts without it
    /// (the parts give a name one type).
    static func concatenate(_ parts: [Table]) throws -> Table {
        guard parts.count > 1 else { return parts[0] }
        var fields: [Field] = []
        var seen: Set<String> = []
        for part in parts {
            for field in part.schema.fields where seen.insert(field.name).inserted { fields.append(Field(field.name, field.type, nullable: true)) }
        }
        let columns = try fields.map { field -> Column in
            try Column.concatenate(parts.map { part -> Column in
                if let column = part.column(named: field.name) { return column }
                return try OfflineColumns.column(Array(repeating: .null, count: part.rowCount), as: field.type)
            })
        }
        return try Table(schema: Schema(fields), columns: columns)
    }

    /// The logged rows of lookups of one service as a table (every lookup of a group has the same features).
    static func table(_ entries: [Entry]) throws -> Table {
        var ids: [String?] = [], times: [Int64?] = []
        var keyValues: [String: [OnlineValue]] = [:]
        var keyTypes: [String: ScalarType] = [:]
        var features: [String: (type: ValueType?, values: [OnlineValue], statuses: [String?], times: [Int64?])] = [:]
        var featureOrder: [String] = []
        var keyOrder: [String] = []
        var rows = 0
        for e in entries {
            let n = e.result.entityCount
            let id = String(e.requestID, radix: 16)
            ids += Array(repeating: String(repeating: "0", count: 16 - id.count) + id, count: n)
            times += Array(repeating: e.requestTime, count: n)
            // The service's join keys in their declared order (a key a client adds is not logged), and each feature
            // by the name the service serves it under without full names: one schema per service, whatever the call.
            let declared = Self.joinKeys(of: e)
            for key in declared.map({ (name: $0, type: e.keyTypes[$0] ?? .string, values: e.entities[$0] ?? Array(repeating: .null, count: n)) }) {
                if keyValues[key.name] == nil { keyOrder.append(key.name); keyValues[key.name] = Array(repeating: .null, count: rows) }
                keyTypes[key.name] = key.type
                keyValues[key.name]! += key.values
            }
            let shortNames = Set(e.result.columns.map(\.feature))
            let unique = shortNames.count == e.result.columns.count
            for column in e.result.columns {
                let name = unique ? column.feature : "\(column.view)__\(column.feature)"
                if features[name] == nil {
                    featureOrder.append(name)
                    features[name] = (nil, Array(repeating: .null, count: rows), Array(repeating: nil, count: rows), Array(repeating: nil, count: rows))
                }
                features[name]!.type = features[name]!.type ?? column.type
                features[name]!.values += column.values
                features[name]!.statuses += column.statuses.map { Optional($0.logName) }
                features[name]!.times += column.eventTimestamps
            }
            rows += n
            for name in keyOrder where keyValues[name]!.count < rows { keyValues[name]! += Array(repeating: .null, count: rows - keyValues[name]!.count) }
            for name in featureOrder where features[name]!.values.count < rows {
                let missing = rows - features[name]!.values.count
                features[name]!.values += Array(repeating: .null, count: missing)
                features[name]!.statuses += Array(repeating: nil, count: missing)
                features[name]!.times += Array(repeating: nil, count: missing)
            }
        }
        var columns: [(String, Column)] = [("request_id", Column(strings: ids)), ("request_time", Column(timestamps: times))]
        for name in keyOrder {
            columns.append((name, try OfflineColumns.column(keyValues[name]!, as: ValueType.scalar(keyTypes[name]!).columnType)))
        }
        for name in featureOrder {
            let f = features[name]!
            columns.append((name, try OfflineColumns.column(f.values, as: (f.type ?? .scalar(.string)).columnType)))
            columns.append(("\(name)__status", Column(strings: f.statuses)))
            columns.append(("\(name)__event_timestamp", Column(timestamps: f.times)))
        }
        return try Table(columns)
    }

    /// The join keys of the views of an entry's service, in declared order, each once (the entry's own keys when
    /// the service is gone from the definitions).
    static func joinKeys(of e: Entry) -> [String] {
        let registry = e.store.registry
        guard let service = registry.featureService(named: e.service) else { return e.entities.keys.sorted() }
        var out: [String] = []
        var onDemand = false
        for ref in service.features {
            guard let view = registry.featureView(named: ref.view) else { onDemand = true; continue }
            for k in registry.joinKeys(of: view).map(\.name) where !out.contains(k) && e.entities[k] != nil { out.append(k) }
        }
        // On-demand views read the keys of the views they read: those the call gave, after the declared ones.
        if onDemand { out += e.entities.keys.sorted().filter { !out.contains($0) } }
        return out.isEmpty ? e.entities.keys.sorted() : out
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a - 1) / b) - 1 }

    /// Encodes the queue every `encodeInterval` and writes files every `interval` until a graceful shutdown, then
    /// writes everything once more.
    public func run() async throws {
        await withGracefulShutdownHandler {
            var lastFiles = ContinuousClock.now
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                try? await Task.sleep(for: encodeInterval)
                let due = ContinuousClock.now - lastFiles >= interval
                if due { lastFiles = .now }
                await writeQueue(writeFiles: due)
            }
        } onGracefulShutdown: {}
        await writeQueue(writeFiles: true)
    }

    /// Takes the queue here, encodes it (and writes files) on the idle-priority thread, counts the outcome here.
    private func writeQueue(writeFiles: Bool) async {
        let (entries, sequence) = take()
        guard !entries.isEmpty || (writeFiles && pendingRows.load(ordering: .relaxed) > 0) else { return }
        let outcome = await Self.offPool { [self] in encode(entries, sequence: sequence, writeFiles: writeFiles) }
        record(outcome)
    }

    /// Runs file writing off the cooperative pool (it blocks on the disk), on a thread of the lowest scheduling
    /// class (Linux's SCHED_IDLE: it runs when the serving threads leave a core idle), so writing the log takes no
    /// CPU from lookups; a server that never idles fills the queue, and what does not fit is dropped and counted.
    /// The thread takes no lock a lookup needs (it could be descheduled holding it).
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread {
                #if os(Linux)
                var parameters = sched_param()
                parameters.sched_priority = 0
                _ = pthread_setschedparam(pthread_self(), 5 /* SCHED_IDLE */, &parameters)
                #endif
                continuation.resume(returning: body())
            }.start()
        }
    }
}

extension FeatureStatus {
    /// The status as logged (the API's name).
    var logName: String { protoName }
}
