public import Columnar
import Expressions
public import ErrorChain

/// A source's derived columns, computed over data read from it: the one code path every offline engine and the
/// stream ingester use, so a derived column has the same values in training sets, materialized rows and streams.
public struct DerivedColumns: Sendable {
    /// The source (its `derived` list, in dependency order once built).
    public let source: DataSource
    let ordered: [DerivedColumn]
    private let reads: [String: [String]]

    /// The derived columns of `source` (for a view's data, the source ``Registry/batchSource(of:)`` returns).
    public init(_ source: DataSource) {
        self.source = source
        ordered = DerivedOrder.sorted(source.derived).columns
        var reads: [String: [String]] = [:]
        for d in source.derived {
            var names: [String] = []
            if let syntax = try? ExpressionParser.parse(d.expression) { DerivedOrder.collect(syntax, into: &names) }
            reads[d.name] = names
        }
        self.reads = reads
    }

    /// Whether `name` is a derived column.
    public func isDerived(_ name: String) -> Bool { source.derived.contains { $0.name == name } }

    /// The data columns to read so that `wanted` (data or derived columns) can be given: derived ones replaced by the
    /// data columns they read, transitively; order kept, each once.
    public func dataColumns(for wanted: [String]) -> [String] {
        var out: [String] = []
        var seen: Set<String> = []
        func add(_ name: String) {
            guard seen.insert(name).inserted else { return }
            if isDerived(name) {
                for input in reads[name] ?? [] { add(input) }
            } else {
                out.append(name)
            }
        }
        for name in wanted { add(name) }
        return out
    }

    /// `data` with the derived columns among `wanted` (and those they read) appended, computed by the vectorized
    /// evaluator. Throws a message naming the column when the data cannot feed an expression (a column missing, or
    /// of a type the expression was not checked for).
    public func apply(to data: Table, wanted: [String]) throws(DerivedColumnError) -> Table {
        let needed = Set(neededDerived(wanted))
        guard !needed.isEmpty else { return data }
        var table = data
        for d in ordered where needed.contains(d.name) && table.column(named: d.name) == nil {
            let column = try compute(d, over: table)
            table.schema.fields.append(Field(d.name, column.type, nullable: true))
            table.columns.append(column)
        }
        return table
    }

    private func neededDerived(_ wanted: [String]) -> [String] {
        var out: [String] = []
        var seen: Set<String> = []
        func add(_ name: String) {
            guard isDerived(name), seen.insert(name).inserted else { return }
            out.append(name)
            for input in reads[name] ?? [] { add(input) }
        }
        for name in wanted { add(name) }
        return out
    }

    /// One derived column over `table` (which holds every column it reads).
    func compute(_ d: DerivedColumn, over table: Table) throws(DerivedColumnError) -> Column {
        let compiled = try compiled(d, schema: table.schema)
        let inputs = compiled.expression.inputs.map { table.column(named: $0.name)! }
        return compiled.expression.evaluate(columns: inputs, rowCount: table.rowCount, as: compiled.output)
    }

    /// The derived column compiled against the types `schema` holds.
    func compiled(_ d: DerivedColumn, schema: Schema) throws(DerivedColumnError) -> (expression: CompiledExpression, output: OutputType) {
        var types: [String: ExpressionType] = [:]
        for field in schema.fields {
            if let t = ExpressionType(columnType: field.type) { types[field.name] = t }
        }
        let lookup = ExpressionScopes.derived(d, of: source, columnTypes: types, knownColumns: schema.fields.map(\.name))
        guard let output = d.type.outputType else {
            throw DerivedColumnError("derived column '\(d.name)' of source '\(source.name)' is declared \(d.type.rawValue), which expressions cannot compute")
        }
        switch ExpressionCompiler.compile(d.expression, lookup: lookup) {
        case .failure(let failure):
            throw DerivedColumnError("derived column '\(d.name)' of source '\(source.name)' cannot be computed from the data: \(failure.errors.map(\.message).joined(separator: "; "))")
        case .success(let compiled):
            guard output.accepts(compiled.type) else {
                throw DerivedColumnError("derived column '\(d.name)' of source '\(source.name)' is declared \(d.type.rawValue), but over this data its expression is \(compiled.type)")
            }
            return (compiled, output)
        }
    }
}

/// Data that cannot feed a derived column's expression.
public struct DerivedColumnError: ChainedError {
    /// What is wrong, naming the column.
    public var message: String
    /// An error saying `message`.
    public init(_ message: String) { self.message = message }
    /// `derived_column`.
    public var errorCode: String { "derived_column" }
    /// The message.
    public var description: String { ErrorChain.render(self) }
}

extension Registry {
    /// The types the definitions give a source's data columns, as the compiler typed its derived columns with:
    /// event and created times, the source's declared `columns`, and what the views reading it declare (plain
    /// features, aggregated columns, join keys), names mapped back to the source's own. A stream decodes the inputs
    /// of derived columns with these types.
    public func declaredColumnTypes(of source: DataSource) -> [String: ScalarType] {
        var types: [String: ScalarType] = [source.timestampField: .timestamp]
        if let created = source.createdTimestampField { types[created] = .timestamp }
        for (column, type) in source.columns { types[column] = type }
        var columnOf: [String: String] = [:]
        for (from, to) in source.fieldMapping { columnOf[to] = from }
        let derivedNames = Set(source.derived.map(\.name))
        for view in featureViews where view.source == source.name || self.source(named: view.source)?.batchSourceName == source.name {
            for feature in view.features {
                if let aggregation = feature.aggregation {
                    if let column = aggregation.column, let t = aggregation.inputType {
                        let name = columnOf[column] ?? column
                        if types[name] == nil, !derivedNames.contains(name) { types[name] = t }
                    }
                    continue
                }
                let name = columnOf[feature.name] ?? feature.name
                if types[name] == nil, !derivedNames.contains(name), case .scalar(let t) = feature.type { types[name] = t }
            }
            for key in joinKeys(of: view) {
                let name = columnOf[key.name] ?? key.name
                if types[name] == nil { types[name] = key.type }
            }
        }
        return types
    }
}

extension DerivedColumns {
    /// The derived columns compiled for events whose data columns have the declared `types` (a stream's events),
    /// in dependency order; with the data columns each reads.
    public func compiledForEvents(types: [String: ScalarType]) throws(DerivedColumnError) -> [CompiledDerivedColumn] {
        var fields: [Field] = []
        for (name, type) in types.sorted(by: { $0.key < $1.key }) where type.outputType != nil { fields.append(Field(name, type.columnType)) }
        var out: [CompiledDerivedColumn] = []
        for d in ordered {
            let (expression, output) = try compiled(d, schema: Schema(fields))
            out.append(CompiledDerivedColumn(column: d, expression: expression, output: output))
            fields.append(Field(d.name, d.type.columnType))
        }
        return out
    }
}

/// One derived column compiled: evaluated per event by the stream ingester.
public struct CompiledDerivedColumn: Sendable {
    /// The derived column's definition.
    public let column: DerivedColumn
    let expression: CompiledExpression
    let output: OutputType

    /// The names it reads, in slot order.
    public var inputNames: [String] { expression.inputs.map(\.name) }

    /// Its value for one event, from the values of ``inputNames`` (as stored online).
    public func value(_ inputs: [OnlineValue]) -> OnlineValue {
        var row: [Value] = []
        row.reserveCapacity(inputs.count)
        for (v, input) in zip(inputs, expression.inputs) { row.append(v.expressionValue(input.type)) }
        return OnlineValue(expression.evaluate(row), as: output)
    }
}
