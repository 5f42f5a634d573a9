public import Columnar
import FeatureComputation
public import FeatureStoreCore
import Foundation
public import ErrorChain

/// The offline side of a stream: ingested events appended, through the offline engine, to the batch source of their
/// stream source, so `joinFeatures` and `materialize` see exactly what was served.
///
/// Events are buffered in memory per batch source and UTC day of their event time, and appended when the log
/// *rolls*: every `rollInterval` (0: after every batch) or once `rollBytes` are buffered, one part per source and
/// day under the Hive partition `date=YYYY-MM-DD` (for the local engine:
/// `<batch source path>/date=YYYY-MM-DD/part-<UTC time>-<writer>-<sequence>.parquet`, written under a temporary
/// name, synced and renamed, so a reader never sees half a file). The ingestor commits a batch's offsets only after the roll that holds its events,
/// so a crash loses nothing: the events after the last commit are consumed again. Duplicates can appear only when
/// a crash falls between a file's rename and the commit (or after a rebalance moved a partition away while its
/// events were buffered); they are identical rows (same keys, event time, created time and values), so the
/// point-in-time join's tie-break picks one of two equal rows and the join's result is unchanged.
struct OfflineEventLog {
    /// One batch source receiving events.
    struct Target {
        var source: DataSource
        /// The parts' schema: the existing data's when the source has any, else from the declarations.
        var schema: Schema
    }

    /// Where each column of a target comes from in a message's mapped rows (one row per view reading the topic).
    struct Projection {
        enum Slot {
            case key(row: Int, index: Int)
            case eventTime(row: Int)
            case created(row: Int)
            case feature(row: Int, index: Int)
            case input(row: Int, index: Int)
            case absent
        }
        var target: Int
        var slots: [Slot]
    }

    private struct Buffer {
        var columns: [[OnlineValue]]
        var rows = 0
        init(width: Int) { columns = Array(repeating: [], count: width) }
    }

    let engine: any OfflineEngine
    let targets: [Target]
    /// Per topic, the projections of its messages onto the targets.
    let projections: [String: [Projection]]
    let rollInterval: Duration
    let rollBytes: Int
    /// Buffered events per target and day.
    private var buffers: [Int: [String: Buffer]] = [:]
    private var bufferedBytes = 0
    private var oldest: ContinuousClock.Instant?
    /// The last day named (events of a batch mostly share their day).
    private var lastDay: (number: Int64, name: String) = (.min, "")

    private mutating func dayName(_ micros: Int64) -> String {
        let number = micros >= 0 ? micros / 86_400_000_000 : (micros + 1) / 86_400_000_000 - 1
        if number != lastDay.number { lastDay = (number, Self.day(micros)) }
        return lastDay.name
    }

    /// Plans the offline side of `routes` (topic -> mappers, in message-row order).
    init(store: FeatureStore, routes: [String: [EventMapper]], rollInterval: TimeSpan, rollBytes: Int) throws(IngestionError) {
        let registry = store.registry
        do {
            engine = try store.offlineEngine()
        } catch {
            throw IngestionError("cannot open the offline engine", cause: error)
        }
        var targets: [Target] = []
        var targetIndex: [String: Int] = [:]
        var projections: [String: [Projection]] = [:]
        for (topic, mappers) in routes.sorted(by: { $0.key < $1.key }) {
            // Group the topic's views by the batch source that keeps their events.
            var groups: [String: [Int]] = [:]
            for (i, mapper) in mappers.enumerated() {
                guard let batch = registry.batchSource(of: mapper.view), !batch.isStream else {
                    throw IngestionError("feature view '\(mapper.view.name)': its stream source has no table batch_source to keep events offline")
                }
                guard engine.sourceKinds.contains(batch.kind) else {
                    throw IngestionError("feature view '\(mapper.view.name)': the offline engine '\(store.config.offlineEngine.kind)' cannot append to \(batch.kind) sources like '\(batch.name)'; it writes: \(engine.sourceKinds.joined(separator: ", "))")
                }
                groups[batch.name, default: []].append(i)
            }
            for (batchName, rows) in groups.sorted(by: { $0.key < $1.key }) {
                let batch = registry.source(named: batchName)!
                // The columns the views need, named as the batch source names them (its field mapping inverted).
                var columnOf: [String: String] = [:]
                for (from, to) in batch.fieldMapping { columnOf[to] = from }
                var declared: [(name: String, type: DataType, slot: Projection.Slot)] = []
                func add(_ name: String, _ type: DataType, _ slot: Projection.Slot) {
                    if !declared.contains(where: { $0.name == name }) { declared.append((name, type, slot)) }
                }
                for row in rows {
                    for (k, key) in mappers[row].joinKeys.enumerated() {
                        add(columnOf[key.name] ?? key.name, ValueType.scalar(key.type).columnType, .key(row: row, index: k))
                    }
                }
                add(batch.timestampField, .timestamp(.microseconds, utc: true), .eventTime(row: rows[0]))
                for row in rows {
                    // Derived columns are not kept: the data they are computed from is, and readers compute them.
                    for (k, column) in mappers[row].columns.enumerated() where mappers[row].computed[k] == nil {
                        add(columnOf[column.name] ?? column.name, column.type.columnType, .feature(row: row, index: k))
                    }
                    for (k, input) in mappers[row].inputs.enumerated() {
                        add(input.name, input.type.columnType, .input(row: row, index: k))
                    }
                }
                if let created = batch.createdTimestampField { add(created, .timestamp(.microseconds, utc: true), .created(row: rows[0])) }

                let index: Int
                if let known = targetIndex[batchName] {
                    index = known
                } else {
                    let existing: Schema?
                    do {
                        existing = try engine.appendTarget(batch)
                    } catch {
                        throw IngestionError("", cause: error)
                    }
                    index = targets.count
                    targets.append(Target(source: batch, schema: existing ?? Schema(declared.map { Field($0.name, $0.type) })))
                    targetIndex[batchName] = index
                }
                let schema = targets[index].schema
                var slots: [Projection.Slot] = []
                for field in schema.fields {
                    guard let wanted = declared.first(where: { $0.name == field.name }) else {
                        slots.append(.absent)
                        continue
                    }
                    guard Self.canHold(field.type, wanted.type) else {
                        throw IngestionError("column '\(field.name)' of batch source '\(batchName)' (\(store.whereabouts(of: batch))) is \(field.type) in the existing data, but the stream writes \(wanted.type)")
                    }
                    slots.append(wanted.slot)
                }
                for wanted in declared where schema.field(named: wanted.name) == nil {
                    throw IngestionError("the existing files of batch source '\(batchName)' (\(store.whereabouts(of: batch))) have no column '\(wanted.name)', which the stream writes")
                }
                projections[topic, default: []].append(Projection(target: index, slots: slots))
            }
        }
        self.targets = targets
        self.projections = projections
        self.rollInterval = .seconds(rollInterval.seconds)
        self.rollBytes = rollBytes
    }

    /// Whether a column of type `column` can store values of the declared type `declared`.
    static func canHold(_ column: DataType, _ declared: DataType) -> Bool {
        switch (column, declared) {
        case (.int32, .int32), (.int64, .int32), (.int64, .int64),
             (.float32, .float32), (.float64, .float32), (.float64, .float64),
             (.bool, .bool), (.string, .string), (.binary, .binary), (.binary, .string), (.timestamp, .timestamp):
            return true
        case (.list(let a), .list(let b)):
            return canHold(a, b)
        default:
            return false
        }
    }

    var isEmpty: Bool { bufferedBytes == 0 && buffers.isEmpty }

    /// Whether the buffered events are due to be written.
    func shouldRoll(now: ContinuousClock.Instant = .now) -> Bool {
        guard let oldest else { return false }
        return bufferedBytes >= rollBytes || now - oldest >= rollInterval
    }

    /// Buffers one message's events (`rows`: its mapped row per view, in the route's order).
    mutating func append(topic: String, rows: [OnlineRow], inputs: [[OnlineValue]] = []) {
        guard let projections = projections[topic] else { return }
        if oldest == nil { oldest = .now }
        for projection in projections {
            let eventTime: Int64 = {
                for slot in projection.slots { if case .eventTime(let r) = slot { return rows[r].eventTimestamp } }
                return rows[0].eventTimestamp
            }()
            let day = dayName(eventTime)
            // Appended in place (a copy of the buffer per event would make a batch quadratic).
            Self.fill(&buffers[projection.target, default: [:]][day, default: Buffer(width: projection.slots.count)],
                      slots: projection.slots, rows: rows, inputs: inputs, bytes: &bufferedBytes)
        }
    }

    private static func fill(_ buffer: inout Buffer, slots: [Projection.Slot], rows: [OnlineRow], inputs: [[OnlineValue]], bytes: inout Int) {
        for (c, slot) in slots.enumerated() {
            let value: OnlineValue
            switch slot {
            case .key(let r, let i): value = rows[r].key[i]
            case .eventTime(let r): value = .timestamp(rows[r].eventTimestamp)
            case .created(let r): value = rows[r].createdTimestamp == OnlineRow.noCreatedTimestamp ? .null : .timestamp(rows[r].createdTimestamp)
            case .feature(let r, let i): value = rows[r].values[i]
            case .input(let r, let i): value = r < inputs.count && i < inputs[r].count ? inputs[r][i] : .null
            case .absent: value = .null
            }
            bytes += value.approximateSize
            buffer.columns[c].append(value)
        }
        buffer.rows += 1
    }

    /// A written file.
    struct WrittenFile {
        var source: String
        var path: String
        var rows: Int
    }

    /// Writes every buffered day of every target as one file each. A failure keeps what was not written buffered
    /// (files already written stay written and leave the buffer), so a retry writes each event once.
    mutating func roll() async throws(IngestionError) -> [WrittenFile] {
        var written: [WrittenFile] = []
        for target in buffers.keys.sorted() {
            for day in (buffers[target] ?? [:]).keys.sorted() {
                guard let buffer = buffers[target]?[day] else { continue }
                let file = try await write(buffer, to: targets[target], day: day)
                written.append(file)
                buffers[target]?[day] = nil
                if buffers[target]?.isEmpty == true { buffers[target] = nil }
            }
        }
        bufferedBytes = 0
        oldest = nil
        return written
    }

    private func write(_ buffer: Buffer, to target: Target, day: String) async throws(IngestionError) -> WrittenFile {
        let table: Table
        do {
            var columns: [Column] = []
            for (field, values) in zip(target.schema.fields, buffer.columns) {
                columns.append(try OfflineColumns.column(values, as: field.type))
            }
            table = try Table(schema: target.schema, columns: columns)
        } catch {
            throw IngestionError("cannot write stream events of batch source '\(target.source.name)'", cause: error)
        }
        do {
            let part = try await engine.append(table, to: target.source, partition: "date=\(day)")
            return WrittenFile(source: target.source.name, path: part.location, rows: part.rows)
        } catch let error as OfflineEngineError {
            throw IngestionError("cannot write stream events", cause: error)
        } catch {
            throw IngestionError("cannot write stream events of batch source '\(target.source.name)'", cause: error)
        }
    }

    /// `YYYY-MM-DD` of a time in microseconds since the epoch (UTC).
    static func day(_ micros: Int64) -> String {
        Column.isoDate(days: micros >= 0 ? micros / 86_400_000_000 : (micros + 1) / 86_400_000_000 - 1)
    }
}

extension OnlineValue {
    /// Bytes a buffered value costs, roughly (for the roll size).
    var approximateSize: Int {
        switch self {
        case .string(let s): return 16 + s.utf8.count
        case .bytes(let b): return 16 + b.count
        case .list(let l): return 16 + l.reduce(0) { $0 + $1.approximateSize }
        default: return 9
        }
    }
}

/// Builds columns of a given type from online values (the inverse of reading a source row into the online store):
/// the stream's offline copy and FeatureServer's feature logs write their Parquet files through it.
public enum OfflineColumns {
    /// A column type online values cannot be written to.
    public struct Unsupported: ChainedError {
        /// The type.
        public var type: DataType
        /// `unsupported_column`.
        public var errorCode: String { "unsupported_column" }
        /// What cannot be written.
        public var message: String { "cannot write stream values to a column of type \(type)" }
        /// The message.
        public var description: String { message }
    }

    /// A column of `type` holding `values` (null where a value does not fit the type).
    public static func column(_ values: [OnlineValue], as type: DataType) throws(Unsupported) -> Column {
        var valid = Bitmap(count: values.count, value: true)
        var hasNull = false
        func null(_ i: Int) {
            valid.clear(i)
            hasNull = true
        }
        let buffer: ColumnValues
        switch type {
        case .bool:
            var out = [Bool](repeating: false, count: values.count)
            for (i, v) in values.enumerated() {
                if case .bool(let b) = v { out[i] = b } else { null(i) }
            }
            buffer = .bool(out)
        case .int32:
            var out = [Int32](repeating: 0, count: values.count)
            for (i, v) in values.enumerated() {
                if case .int(let n) = v, let x = Int32(exactly: n) { out[i] = x } else { null(i) }
            }
            buffer = .int32(out)
        case .int64:
            var out = [Int64](repeating: 0, count: values.count)
            for (i, v) in values.enumerated() {
                if case .int(let n) = v { out[i] = n } else { null(i) }
            }
            buffer = .int64(out)
        case .float32, .float64:
            var out = [Double](repeating: 0, count: values.count)
            for (i, v) in values.enumerated() {
                switch v {
                case .double(let d): out[i] = d
                case .float(let f): out[i] = Double(f)
                case .int(let n): out[i] = Double(n)
                default: null(i)
                }
            }
            buffer = type == .float32 ? .float32(out.map { Float($0) }) : .float64(out)
        case .string, .binary:
            var bytes = BytesBuffer()
            for (i, v) in values.enumerated() {
                switch v {
                case .string(let s): bytes.append(s)
                case .bytes(let b): bytes.append(b)
                default:
                    bytes.appendEmpty()
                    null(i)
                }
            }
            buffer = .bytes(bytes)
        case .timestamp(let unit, _):
            var out = [Int64](repeating: 0, count: values.count)
            for (i, v) in values.enumerated() {
                guard case .timestamp(let micros) = v else { null(i); continue }
                switch unit {
                case .microseconds: out[i] = micros
                case .milliseconds: out[i] = micros >= 0 ? micros / 1000 : (micros + 1) / 1000 - 1
                case .nanoseconds: out[i] = EventTime.scaled(micros, by: 1000)
                }
            }
            buffer = .int64(out)
        case .list(let inner):
            var offsets = [0]
            offsets.reserveCapacity(values.count + 1)
            var items: [OnlineValue] = []
            for (i, v) in values.enumerated() {
                if case .list(let l) = v { items += l } else { null(i) }
                offsets.append(items.count)
            }
            buffer = .list(offsets: offsets, values: try column(items, as: inner))
        default:
            throw Unsupported(type: type)
        }
        return Column(type: type, values: buffer, validity: hasNull ? valid : nil)
    }
}
