import Columnar
public import FeatureStoreCore

/// Maps the fields of a decoded event to one feature view's row, through the source's field mapping.
/// The message key is not used: keys come from the payload.
///
/// The row's values are the view's ``columns``: its features for a plain view; for an aggregated view, the columns its
/// aggregations read (the events' values, which the ingester folds into tiles).
public struct EventMapper: Sendable {
    /// The view whose rows it makes.
    public let view: FeatureView
    /// The view's join keys, in order: a row's key values follow them.
    public let joinKeys: [JoinKey]
    /// The view's online table (its schema version computed once).
    public let table: OnlineTable
    /// What a row's values are, in order: names as the view names them, and types.
    public let columns: [(name: String, type: ValueType)]
    let keyFields: [String]
    let featureFields: [String]
    let timestampField: String
    let createdField: String?
    /// The source's derived columns the view reads (in dependency order): computed per event, not read.
    let derived: [CompiledDerivedColumn]
    /// Per column: the index in `derived` computing it, or nil for a column read from the message.
    let computed: [Int?]
    /// The data fields derived columns read, with their declared types: read from the message. They are what the
    /// offline copy keeps for the derived columns (which are computed again on reading).
    public let inputs: [(name: String, type: ValueType)]
    /// Why the derived columns cannot be computed (nil: they can); every event is then a bad message saying so.
    let derivedProblem: String?
    /// The view's expectations, checked on every row it makes (plain views).
    public let checker: ExpectationChecker

    /// Every message field this mapper reads, in a fixed order.
    public var fieldsRead: [String] {
        keyFields + [timestampField] + zip(featureFields, computed).filter { $0.1 == nil }.map(\.0) + inputs.map(\.name) + (createdField.map { [$0] } ?? [])
    }

    /// The fields every event must have (``fieldsRead`` but the created time, which may be absent).
    public var requiredFields: [String] { fieldsRead.filter { $0 != createdField } }

    /// Whether some of its columns are derived columns.
    public var hasDerivedColumns: Bool { !derived.isEmpty }

    /// Where this mapper's fields are in the values of a ``FieldSelection``.
    public struct Slots: Sendable {
        var keys: [Int]
        var timestamp: Int
        /// Per column; -1 for a computed one.
        var features: [Int]
        var inputs: [Int]
        var created: Int?
    }

    /// The slots of this mapper's fields in `selection`, which must include ``fieldsRead``.
    public func slots(in selection: FieldSelection) -> Slots {
        Slots(keys: keyFields.map { selection.index(of: $0)! }, timestamp: selection.index(of: timestampField)!,
              features: zip(featureFields, computed).map { $0.1 == nil ? selection.index(of: $0.0)! : -1 },
              inputs: inputs.map { selection.index(of: $0.name)! }, created: createdField.map { selection.index(of: $0)! })
    }

    /// A mapper for `view`'s events from `source`. Derived columns (`derived`, the source's by default) the view reads
    /// are computed per event from data fields typed by `columnTypes` (``Registry/declaredColumnTypes(of:)``).
    public init(view: FeatureView, source: DataSource, joinKeys: [JoinKey], derived: [DerivedColumn]? = nil,
                columnTypes: [String: ScalarType] = [:]) {
        self.view = view
        self.joinKeys = joinKeys
        table = OnlineTable(view: view, joinKeys: joinKeys)
        checker = ExpectationChecker(view: view)
        var fieldOf: [String: String] = [:]  // feature or key name -> message field
        for (from, to) in source.fieldMapping { fieldOf[to] = from }
        keyFields = joinKeys.map { fieldOf[$0.name] ?? $0.name }
        columns = view.eventColumns
        featureFields = columns.map { fieldOf[$0.name] ?? $0.name }
        timestampField = source.timestampField
        createdField = source.createdTimestampField
        var withDerived = source
        withDerived.derived = derived ?? source.derived
        let derivedColumns = DerivedColumns(withDerived)
        let wanted = featureFields.filter { derivedColumns.isDerived($0) }
        var compiled: [CompiledDerivedColumn] = []
        var problem: String? = nil
        var inputs: [(name: String, type: ValueType)] = []
        if !wanted.isEmpty {
            do {
                let all = try derivedColumns.compiledForEvents(types: columnTypes)
                // Those the view reads and those they read, in dependency order.
                var needed = Set(wanted)
                for c in all.reversed() where needed.contains(c.column.name) { needed.formUnion(c.inputNames) }
                compiled = all.filter { needed.contains($0.column.name) }
                for c in compiled {
                    for name in c.inputNames where !derivedColumns.isDerived(name) && !inputs.contains(where: { $0.name == name }) {
                        inputs.append((name, .scalar(columnTypes[name] ?? .string)))
                    }
                }
            } catch {
                problem = error.message
            }
        }
        self.derived = compiled
        computed = featureFields.map { field in compiled.firstIndex { $0.column.name == field } }
        self.inputs = inputs
        derivedProblem = wanted.isEmpty ? nil : problem
    }

    /// The mapper the ingester uses for `view`'s events: from its source, with the derived columns of the source (or
    /// of its batch source) computed per event over the columns' declared types. Every door that takes a source's
    /// rows as events (streams of every format, Feast's `/push`) makes its mapper here.
    public init?(view: FeatureView, registry: Registry) {
        guard let source = registry.source(named: view.source) else { return nil }
        let batch = registry.batchSource(of: view)
        var types = registry.declaredColumnTypes(of: source)
        if let batch { types.merge(registry.declaredColumnTypes(of: batch)) { a, _ in a } }
        self.init(view: view, source: source, joinKeys: registry.joinKeys(of: view), derived: batch?.derived ?? source.derived, columnTypes: types)
    }

    /// The online row of an event given as named fields.
    public func row(_ fields: [String: EventValue]) throws(BadMessage) -> OnlineRow {
        let selection = FieldSelection(fieldsRead)
        return try row(selection.names.map { fields[$0] ?? .null }, slots: slots(in: selection))
    }

    /// The online row of an event given as the values of a selection (`.null` for absent fields).
    public func row(_ values: [EventValue], slots: Slots) throws(BadMessage) -> OnlineRow {
        var key: [OnlineValue] = []
        key.reserveCapacity(joinKeys.count)
        for (k, joinKey) in joinKeys.enumerated() {
            let raw = values[slots.keys[k]]
            guard raw != .null else { throw BadMessage(.missingKey, "\(keyFields[k]): missing (join key \(joinKey.name))") }
            key.append(try convert(raw, as: .scalar(joinKey.type), field: keyFields[k]))
        }
        let rawTime = values[slots.timestamp]
        guard rawTime != .null else { throw BadMessage(.missingTimestamp, "\(timestampField): missing (the event time)") }
        let eventTime = try rawTime.eventTime(field: timestampField)
        var created = OnlineRow.noCreatedTimestamp
        if let createdField, let slot = slots.created, values[slot] != .null { created = try values[slot].eventTime(field: createdField) }
        var out: [OnlineValue] = []
        out.reserveCapacity(featureFields.count)
        if derived.isEmpty {
            if let derivedProblem { throw BadMessage(.wrongType, derivedProblem) }
            for (k, column) in columns.enumerated() {
                out.append(try convert(values[slots.features[k]], as: column.type, field: featureFields[k]))
            }
        } else {
            // Derived columns from the data fields, in dependency order; the same compiled expressions the offline
            // engine evaluates over columns.
            var known: [String: OnlineValue] = [:]
            for (value, slot) in zip(try inputValues(values, slots: slots), inputs) { known[slot.name] = value }
            for c in derived { known[c.column.name] = c.value(c.inputNames.map { known[$0] ?? .null }) }
            for (k, column) in columns.enumerated() {
                if let d = computed[k] {
                    out.append(known[derived[d].column.name] ?? .null)
                } else {
                    out.append(try convert(values[slots.features[k]], as: column.type, field: featureFields[k]))
                }
            }
        }
        return OnlineRow(key: key, eventTimestamp: eventTime, createdTimestamp: created, values: out)
    }

    /// The expectations `row` breaks (none for an aggregated view: its rows are events, not feature values).
    public func violations(_ row: OnlineRow) -> [Violation] {
        checker.isEmpty || view.isAggregated ? [] : checker.violations(row.values)
    }

    /// `row` checked against the view's expectations: the violations to count (all of them), or under the `drop` and
    /// `fail` policies a ``BadMessage`` naming the first rule broken (the event is then not written).
    public func checked(_ row: OnlineRow) throws(BadMessage) -> [Violation] {
        let found = violations(row)
        guard let first = found.first, view.violationPolicy != .warn else { return found }
        var bad = BadMessage(.expectation, "\(first.message) (feature view '\(view.name)', policy \(view.violationPolicy.rawValue))")
        bad.rule = "\(view.name).\(first.feature).\(first.rule.rawValue)"
        bad.violations = found
        throw bad
    }

    /// The values of the data fields derived columns read (``inputs``), as the offline copy keeps them.
    public func inputValues(_ values: [EventValue], slots: Slots) throws(BadMessage) -> [OnlineValue] {
        var out: [OnlineValue] = []
        out.reserveCapacity(inputs.count)
        for (k, input) in inputs.enumerated() {
            out.append(try convert(values[slots.inputs[k]], as: input.type, field: input.name))
        }
        return out
    }

    private func convert(_ value: EventValue, as type: ValueType, field: String) throws(BadMessage) -> OnlineValue {
        do {
            return try value.onlineValue(as: type, field: field)
        } catch {
            throw BadMessage(.wrongType, error.message)
        }
    }
}
