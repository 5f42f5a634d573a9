public import Columnar
import Foundation

extension ExpressionType {
    /// The type a column of `type` has inside expressions, or nil when expressions cannot read it (bytes, lists,
    /// decimals, unsigned 64-bit integers).
    public init?(columnType type: DataType) {
        switch type {
        case .bool: self = .bool
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32: self = .int64
        case .float32, .float64: self = .float64
        case .string: self = .string
        case .timestamp, .date32: self = .timestamp
        default: return nil
        }
    }
}

extension OutputType {
    /// The columnar type of results of this type (timestamps: microseconds, UTC).
    public var columnType: DataType {
        switch self {
        case .bool: return .bool
        case .int32: return .int32
        case .int64: return .int64
        case .float32: return .float32
        case .float64: return .float64
        case .string: return .string
        case .timestamp: return .timestamp(.microseconds, utc: true)
        }
    }

    /// A value of the expression stored as this type: int64 out of int32's range is null, float64 rounds to float32.
    public func narrow(_ value: Value) -> Value {
        switch (self, value) {
        case (.int32, .int64(let i)): return Kernels.int32Range(i).map { .int64($0) } ?? .null
        case (.float32, .int64(let i)): return .float64(Kernels.float32(Double(i)))
        case (.float64, .int64(let i)): return .float64(Double(i))
        case (.float32, .float64(let d)): return .float64(Kernels.float32(d))
        default: return value
        }
    }
}

/// A chunk of values inside the column evaluator: a dense typed buffer and which rows hold a value.
struct Vector {
    enum Data {
        case bool([Bool])
        case int([Int64])
        case float([Double])
        case string(BytesBuffer)
    }
    var data: Data
    /// nil: every row holds a value.
    var valid: [Bool]?
    var count: Int

    func isValid(_ i: Int) -> Bool { valid?[i] ?? true }

    var ints: [Int64] { if case .int(let v) = data { return v }; return [Int64](repeating: 0, count: count) }
    var floats: [Double] { if case .float(let v) = data { return v }; return [Double](repeating: 0, count: count) }
    var bools: [Bool] { if case .bool(let v) = data { return v }; return [Bool](repeating: false, count: count) }

    /// Row `i` as a ``Value`` of `type` (the slow, general path).
    func value(_ i: Int, _ type: ExpressionType) -> Value {
        guard isValid(i) else { return .null }
        switch data {
        case .bool(let v): return .bool(v[i])
        case .int(let v): return type == .timestamp ? .timestamp(v[i]) : .int64(v[i])
        case .float(let v): return .float64(v[i])
        case .string(let b): return .string(b.string(at: i))
        }
    }

    static func combine(_ a: [Bool]?, _ b: [Bool]?) -> [Bool]? {
        guard let a else { return b }
        guard let b else { return a }
        var out = a
        for i in out.indices where !b[i] { out[i] = false }
        return out
    }
}

extension CompiledExpression {
    /// Rows per chunk: chunks are evaluated in parallel, and a chunk's intermediate vectors stay in cache.
    static let chunkRows = 16_384

    /// The values for every row of `columns` (one column per ``inputs`` entry, in order, all of `rowCount` rows),
    /// stored as `output`: the same values ``evaluate(_:)`` gives row by row. Work is split in chunks over all cores.
    ///
    /// Columns may be of any type ``ExpressionType/init(columnType:)`` reads (int32 widened, timestamps in any unit
    /// converted to microseconds, dates as midnight UTC).
    public func evaluate(columns: [Column], rowCount: Int, as output: OutputType) -> Column {
        let chunkCount = max(1, (rowCount + Self.chunkRows - 1) / Self.chunkRows)
        let parts = ChunkResults(count: chunkCount)
        let work: @Sendable (Int) -> Void = { chunk in
            let range = chunk * Self.chunkRows ..< min(rowCount, (chunk + 1) * Self.chunkRows)
            let inputs = columns.enumerated().map { Vector.slice($0.element, range, as: self.inputs[$0.offset].type) }
            let vector = self.root.evaluate(inputs, count: range.count)
            parts.set(chunk, vector.column(of: self.type, as: output))
        }
        if chunkCount == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: chunkCount, execute: work) }
        let columns = parts.all
        if columns.count == 1 { return columns[0] }
        return (try? Column.concatenate(columns)) ?? columns[0]
    }
}

/// The chunks' results, each written once by the chunk's worker.
private final class ChunkResults: @unchecked Sendable {
    private var columns: [Column?]
    private let lock = NSLock()
    init(count: Int) { columns = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ column: Column) { lock.withLock { columns[i] = column } }
    var all: [Column] { lock.withLock { columns.map { $0! } } }
}

extension Vector {
    /// Rows `range` of a column, converted to the evaluator's representation of `type` (integers become floats
    /// where a float is expected).
    static func slice(_ column: Column, _ range: Range<Int>, as type: ExpressionType) -> Vector {
        var v = rawSlice(column, range)
        if type == .float64, case .int(let ints) = v.data { v.data = .float(ints.map { Double($0) }) }
        return v
    }

    private static func rawSlice(_ column: Column, _ range: Range<Int>) -> Vector {
        let n = range.count
        var valid: [Bool]? = nil
        if let bitmap = column.validity {
            let words = bitmap.words, start = range.lowerBound
            valid = [Bool](unsafeUninitializedCapacity: n) { buffer, initialized in
                for i in 0..<n {
                    let bit = start + i
                    buffer[i] = (words[bit >> 6] >> UInt64(bit & 63)) & 1 != 0
                }
                initialized = n
            }
        }
        switch (column.values, column.type) {
        case (.bool(let v), _): return Vector(data: .bool(Array(v[range])), valid: valid, count: n)
        case (.int32(let v), .date32):
            return Vector(data: .int(v[range].map { Int64($0) * Kernels.microsPerDay }), valid: valid, count: n)
        case (.int32(let v), .uint32):
            return Vector(data: .int(v[range].map { Int64(UInt32(bitPattern: $0)) }), valid: valid, count: n)
        case (.int32(let v), _): return Vector(data: .int(v[range].map { Int64($0) }), valid: valid, count: n)
        case (.int64(let v), .timestamp(let unit, _)):
            switch unit {
            case .microseconds: return Vector(data: .int(Array(v[range])), valid: valid, count: n)
            case .milliseconds:
                return Vector(data: .int(v[range].map { $0.multipliedReportingOverflow(by: 1000).partialValue }), valid: valid, count: n)
            case .nanoseconds: return Vector(data: .int(v[range].map { Kernels.floorDivide($0, 1000) }), valid: valid, count: n)
            }
        case (.int64(let v), _): return Vector(data: .int(Array(v[range])), valid: valid, count: n)
        case (.float32(let v), _): return Vector(data: .float(v[range].map { Double($0) }), valid: valid, count: n)
        case (.float64(let v), _): return Vector(data: .float(Array(v[range])), valid: valid, count: n)
        case (.bytes(let b), _):
            let start = b.offsets[range.lowerBound], end = b.offsets[range.upperBound]
            let offsets = b.offsets[range.lowerBound...range.upperBound].map { $0 - start }
            return Vector(data: .string(BytesBuffer(offsets: Array(offsets), data: Array(b.data[start..<end]))), valid: valid, count: n)
        case (.list, _):
            return Vector(data: .int([Int64](repeating: 0, count: n)), valid: [Bool](repeating: false, count: n), count: n)
        }
    }

    /// A constant repeated `count` times.
    static func constant(_ value: Value, _ type: ExpressionType, count: Int) -> Vector {
        switch value {
        case .null:
            let valid = [Bool](repeating: false, count: count)
            switch type {
            case .bool: return Vector(data: .bool([Bool](repeating: false, count: count)), valid: valid, count: count)
            case .float64: return Vector(data: .float([Double](repeating: 0, count: count)), valid: valid, count: count)
            case .string: return Vector(data: .string(BytesBuffer(offsets: [Int](repeating: 0, count: count + 1), data: [])), valid: valid, count: count)
            default: return Vector(data: .int([Int64](repeating: 0, count: count)), valid: valid, count: count)
            }
        case .bool(let b): return Vector(data: .bool([Bool](repeating: b, count: count)), valid: nil, count: count)
        case .int64(let i), .timestamp(let i): return Vector(data: .int([Int64](repeating: i, count: count)), valid: nil, count: count)
        case .float64(let d): return Vector(data: .float([Double](repeating: d, count: count)), valid: nil, count: count)
        case .string(let s):
            var b = BytesBuffer()
            b.offsets.reserveCapacity(count + 1)
            let bytes = Array(s.utf8)
            b.data.reserveCapacity(bytes.count * count)
            for _ in 0..<count { b.append(bytes) }
            return Vector(data: .string(b), valid: nil, count: count)
        }
    }

    /// The vector as a column of `output` (narrowed as ``OutputType/narrow(_:)`` does).
    func column(of type: ExpressionType, as output: OutputType) -> Column {
        var valid = self.valid
        var outValues: ColumnValues
        switch (data, output) {
        case (.bool(let v), _): outValues = .bool(v)
        case (.int(let v), .int32):
            var out = [Int32](repeating: 0, count: count)
            for i in 0..<count where isValid(i) {
                if let x = Kernels.int32Range(v[i]) { out[i] = Int32(x) } else {
                    if valid == nil { valid = [Bool](repeating: true, count: count) }
                    valid![i] = false
                }
            }
            outValues = .int32(out)
        case (.int(let v), .float64): outValues = .float64(v.map { Double($0) })
        case (.int(let v), .float32): outValues = .float32(v.map { Float(Double($0)) })
        case (.int(let v), _): outValues = .int64(v)
        case (.float(let v), .float32): outValues = .float32(v.map { Float($0) })
        case (.float(let v), _): outValues = .float64(v)
        case (.string(let b), _): outValues = .bytes(b)
        }
        if type == .null { valid = [Bool](repeating: false, count: count) }
        // A null-typed expression stored as a type whose buffer differs from the placeholder's.
        switch (outValues, output.columnType) {
        case (.int64, .bool), (.float64, .bool): outValues = .bool([Bool](repeating: false, count: count))
        case (.int64, .string), (.float64, .string): outValues = .bytes(BytesBuffer(offsets: [Int](repeating: 0, count: count + 1)))
        case (.int64, .float64): outValues = .float64([Double](repeating: 0, count: count))
        case (.int64, .float32): outValues = .float32([Float](repeating: 0, count: count))
        case (.int64, .int32): outValues = .int32([Int32](repeating: 0, count: count))
        default: break
        }
        let bitmap = valid.flatMap { v in v.allSatisfy { $0 } ? nil : Bitmap(v) }
        return Column(type: output.columnType, values: outValues, validity: bitmap)
    }
}

extension Node {
    /// The values of this node for a chunk of `count` rows.
    func evaluate(_ inputs: [Vector], count n: Int) -> Vector {
        switch self {
        case .constant(let v, let t): return Vector.constant(v, t, count: n)
        case .input(let slot, _): return inputs[slot]
        case .apply(let op, let args, let type):
            // A string predicate against a constant: the constant is not repeated per row.
            if args.count == 2, case .constant(.string(let needle), _) = args[1] {
                let f: ((UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Bool)?
                switch op {
                case .startsWith: f = Kernels.startsWith
                case .endsWith: f = Kernels.endsWith
                case .contains: f = Kernels.contains
                case .compare(let c): f = { c.holds(Kernels.order($0, $1)) }
                default: f = nil
                }
                if let f { return Node.strings(args[0].evaluate(inputs, count: n), constant: needle, n, f) }
            }
            let a = args.map { $0.evaluate(inputs, count: n) }
            return Node.apply(op, a, args, type, n)
        }
    }

    @inline(__always)
    static func ints(_ a: Vector, _ b: Vector, _ n: Int, _ f: (Int64, Int64) -> Int64?) -> Vector {
        let given = Vector.combine(a.valid, b.valid)
        var valid = given ?? [Bool](repeating: true, count: n)
        var out = [Int64](repeating: 0, count: n)
        let x = a.ints, y = b.ints
        var anyNull = false
        out.withUnsafeMutableBufferPointer { o in
            valid.withUnsafeMutableBufferPointer { v in
                for i in 0..<n where v[i] {
                    if let r = f(x[i], y[i]) { o[i] = r } else { v[i] = false; anyNull = true }
                }
            }
        }
        return Vector(data: .int(out), valid: given == nil && !anyNull ? nil : valid, count: n)
    }

    @inline(__always)
    static func floats(_ a: Vector, _ b: Vector, _ n: Int, _ f: (Double, Double) -> Double) -> Vector {
        let x = a.floats, y = b.floats
        let valid = Vector.combine(a.valid, b.valid)
        let out = [Double](unsafeUninitializedCapacity: n) { o, initialized in
            for i in 0..<n { o[i] = f(x[i], y[i]) }
            if let valid { for i in 0..<n where !valid[i] { o[i] = 0 } }
            initialized = n
        }
        return Vector(data: .float(out), valid: valid, count: n)
    }

    @inline(__always)
    static func floatsOptional(_ a: Vector, _ b: Vector, _ n: Int, _ f: (Double, Double) -> Double?) -> Vector {
        let given = Vector.combine(a.valid, b.valid)
        var valid = given ?? [Bool](repeating: true, count: n)
        var out = [Double](repeating: 0, count: n)
        let x = a.floats, y = b.floats
        var anyNull = false
        out.withUnsafeMutableBufferPointer { o in
            valid.withUnsafeMutableBufferPointer { v in
                for i in 0..<n where v[i] {
                    if let r = f(x[i], y[i]) { o[i] = r } else { v[i] = false; anyNull = true }
                }
            }
        }
        return Vector(data: .float(out), valid: given == nil && !anyNull ? nil : valid, count: n)
    }

    @inline(__always)
    static func float1(_ a: Vector, _ n: Int, _ f: (Double) -> Double?) -> Vector {
        var valid = a.valid ?? [Bool](repeating: true, count: n)
        var out = [Double](repeating: 0, count: n)
        let x = a.floats
        var anyNull = false
        out.withUnsafeMutableBufferPointer { o in
            valid.withUnsafeMutableBufferPointer { v in
                for i in 0..<n where v[i] {
                    if let r = f(x[i]) { o[i] = r } else { v[i] = false; anyNull = true }
                }
            }
        }
        return Vector(data: .float(out), valid: a.valid == nil && !anyNull ? nil : valid, count: n)
    }

    @inline(__always)
    static func int1(_ a: Vector, _ n: Int, _ f: (Int64) -> Int64?) -> Vector {
        var valid = a.valid ?? [Bool](repeating: true, count: n)
        var out = [Int64](repeating: 0, count: n)
        let x = a.ints
        var anyNull = false
        out.withUnsafeMutableBufferPointer { o in
            valid.withUnsafeMutableBufferPointer { v in
                for i in 0..<n where v[i] {
                    if let r = f(x[i]) { o[i] = r } else { v[i] = false; anyNull = true }
                }
            }
        }
        return Vector(data: .int(out), valid: a.valid == nil && !anyNull ? nil : valid, count: n)
    }

    /// A predicate between a string vector and a constant, on their bytes.
    static func strings(_ a: Vector, constant: String, _ n: Int, _ f: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Bool) -> Vector {
        guard case .string(let x) = a.data else { return Vector.constant(.null, .bool, count: n) }
        var out = [Bool](repeating: false, count: n)
        let valid = a.valid
        var needle = constant
        needle.withUTF8 { p in
            let q = UnsafeRawBufferPointer(p)
            x.data.withUnsafeBytes { xd in
                out.withUnsafeMutableBufferPointer { o in
                    for i in 0..<n where valid?[i] ?? true {
                        o[i] = f(UnsafeRawBufferPointer(rebasing: xd[x.offsets[i]..<x.offsets[i + 1]]), q)
                    }
                }
            }
        }
        return Vector(data: .bool(out), valid: valid, count: n)
    }

    /// A predicate on two string vectors, on their bytes.
    @inline(__always)
    static func strings(_ a: Vector, _ b: Vector, _ n: Int, _ f: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Bool) -> Vector {
        guard case .string(let x) = a.data, case .string(let y) = b.data else { return Vector.constant(.null, .bool, count: n) }
        var out = [Bool](repeating: false, count: n)
        let valid = Vector.combine(a.valid, b.valid)
        x.data.withUnsafeBytes { xd in
            y.data.withUnsafeBytes { yd in
                for i in 0..<n where valid?[i] ?? true {
                    out[i] = f(UnsafeRawBufferPointer(rebasing: xd[x.offsets[i]..<x.offsets[i + 1]]),
                               UnsafeRawBufferPointer(rebasing: yd[y.offsets[i]..<y.offsets[i + 1]]))
                }
            }
        }
        return Vector(data: .bool(out), valid: valid, count: n)
    }

    @inline(__always)
    static func compare(_ a: Vector, _ b: Vector, _ n: Int, _ c: Comparison) -> Vector {
        var out = [Bool](repeating: false, count: n)
        let valid = Vector.combine(a.valid, b.valid)
        switch (a.data, b.data) {
        case (.int(let x), .int(let y)): out.withUnsafeMutableBufferPointer { o in for i in 0..<n { o[i] = c.holds(Kernels.order(x[i], y[i])) } }
        case (.float(let x), .float(let y)): out.withUnsafeMutableBufferPointer { o in for i in 0..<n { o[i] = c.holds(Kernels.order(x[i], y[i])) } }
        case (.bool(let x), .bool(let y)): out.withUnsafeMutableBufferPointer { o in for i in 0..<n { o[i] = c.holds(Kernels.order(x[i], y[i])) } }
        case (.string(let x), .string(let y)):
            x.data.withUnsafeBytes { xd in
                y.data.withUnsafeBytes { yd in
                    for i in 0..<n {
                        let p = UnsafeRawBufferPointer(rebasing: xd[x.offsets[i]..<x.offsets[i + 1]])
                        let q = UnsafeRawBufferPointer(rebasing: yd[y.offsets[i]..<y.offsets[i + 1]])
                        out[i] = c.holds(Kernels.order(p, q))
                    }
                }
            }
        default: break
        }
        if let valid { for i in 0..<n where !valid[i] { out[i] = false } }
        return Vector(data: .bool(out), valid: valid, count: n)
    }

    static func apply(_ op: Operation, _ a: [Vector], _ args: [Node], _ type: ExpressionType, _ n: Int) -> Vector {
        switch op {
        case .addInt: return ints(a[0], a[1], n, Kernels.add)
        case .subtractInt: return ints(a[0], a[1], n, Kernels.subtract)
        case .multiplyInt: return ints(a[0], a[1], n, Kernels.multiply)
        case .remainderInt: return ints(a[0], a[1], n, Kernels.remainder)
        case .addFloat: return floats(a[0], a[1], n, Kernels.add)
        case .subtractFloat: return floats(a[0], a[1], n, Kernels.subtract)
        case .multiplyFloat: return floats(a[0], a[1], n, Kernels.multiply)
        case .divide: return floatsOptional(a[0], a[1], n, Kernels.divide)
        case .remainderFloat: return floatsOptional(a[0], a[1], n, Kernels.remainder)
        case .pow: return floatsOptional(a[0], a[1], n, Kernels.pow)
        case .negateInt: return int1(a[0], n, Kernels.negate)
        case .absInt: return int1(a[0], n, Kernels.abs)
        case .negateFloat: return float1(a[0], n) { -$0 }
        case .absFloat: return float1(a[0], n) { Swift.abs($0) }
        case .sqrt: return float1(a[0], n, Kernels.sqrt)
        case .ln: return float1(a[0], n, Kernels.ln)
        case .log10: return float1(a[0], n, Kernels.log10)
        case .exp: return float1(a[0], n, Kernels.exp)
        case .roundFloat: return float1(a[0], n, Kernels.round)
        case .floor: return float1(a[0], n, Kernels.floor)
        case .ceil: return float1(a[0], n, Kernels.ceil)
        case .hour: return int1(a[0], n, Kernels.hour)
        case .minute: return int1(a[0], n, Kernels.minute)
        case .dayOfWeek: return int1(a[0], n, Kernels.dayOfWeek)
        case .epochSeconds: return int1(a[0], n, Kernels.epochSeconds)
        case .toFloat:
            let x = a[0].ints
            var out = [Double](repeating: 0, count: n)
            for i in 0..<n { out[i] = Double(x[i]) }
            return Vector(data: .float(out), valid: a[0].valid, count: n)
        case .compare(let c): return compare(a[0], a[1], n, c)
        case .startsWith: return strings(a[0], a[1], n, Kernels.startsWith)
        case .endsWith: return strings(a[0], a[1], n, Kernels.endsWith)
        case .contains: return strings(a[0], a[1], n, Kernels.contains)
        case .length:
            guard case .string(let x) = a[0].data else { return general(op, a, args, type, n) }
            var out = [Int64](repeating: 0, count: n)
            let vx = a[0].valid
            x.data.withUnsafeBytes { xd in
                for i in 0..<n where vx?[i] ?? true {
                    out[i] = Kernels.length(UnsafeRawBufferPointer(rebasing: xd[x.offsets[i]..<x.offsets[i + 1]]))
                }
            }
            return Vector(data: .int(out), valid: a[0].valid, count: n)
        case .not:
            let x = a[0].bools
            var out = [Bool](repeating: false, count: n)
            for i in 0..<n { out[i] = !x[i] }
            if let valid = a[0].valid { for i in 0..<n where !valid[i] { out[i] = false } }
            return Vector(data: .bool(out), valid: a[0].valid, count: n)
        case .and, .or:
            // Three-valued logic: false and anything is false; true or anything is true.
            let x = a[0].bools, y = a[1].bools
            let isAnd = op == .and
            var out = [Bool](repeating: false, count: n)
            guard a[0].valid != nil || a[1].valid != nil else {
                if isAnd { for i in 0..<n { out[i] = x[i] && y[i] } } else { for i in 0..<n { out[i] = x[i] || y[i] } }
                return Vector(data: .bool(out), valid: nil, count: n)
            }
            let validA = a[0].valid ?? [Bool](repeating: true, count: n), validB = a[1].valid ?? [Bool](repeating: true, count: n)
            var valid = [Bool](repeating: true, count: n)
            var anyNull = false
            for i in 0..<n {
                let va = validA[i], vb = validB[i]
                let decisive = isAnd ? ((va && !x[i]) || (vb && !y[i])) : ((va && x[i]) || (vb && y[i]))
                if decisive { out[i] = !isAnd } else if va && vb { out[i] = isAnd } else { valid[i] = false; anyNull = true }
            }
            return Vector(data: .bool(out), valid: anyNull ? valid : nil, count: n)
        case .isNull(let negated):
            var out = [Bool](repeating: negated, count: n)
            if let valid = a[0].valid { for i in 0..<n { out[i] = valid[i] == negated } }
            return Vector(data: .bool(out), valid: nil, count: n)
        case .secondsBetween:
            return floatsFromInts(a[0], a[1], n, Kernels.secondsBetween)
        case .haversineKm:
            let p = a.map(\.floats)
            var valid: [Bool]? = nil
            for v in a { valid = Vector.combine(valid, v.valid) }
            var out = [Double](repeating: 0, count: n)
            for i in 0..<n where valid?[i] ?? true { out[i] = Kernels.haversineKm(p[0][i], p[1][i], p[2][i], p[3][i]) }
            return Vector(data: .float(out), valid: valid, count: n)
        case .coalesce where type != .string:
            guard var valid = a[0].valid else { return a[0] }
            switch a[0].data {
            case .int(var r):
                for next in a.dropFirst() {
                    let x = next.ints, nv = next.valid
                    for i in 0..<n where !valid[i] && (nv?[i] ?? true) { valid[i] = true; r[i] = x[i] }
                }
                return Vector(data: .int(r), valid: valid.allSatisfy { $0 } ? nil : valid, count: n)
            case .float(var r):
                for next in a.dropFirst() {
                    let x = next.floats, nv = next.valid
                    for i in 0..<n where !valid[i] && (nv?[i] ?? true) { valid[i] = true; r[i] = x[i] }
                }
                return Vector(data: .float(r), valid: valid.allSatisfy { $0 } ? nil : valid, count: n)
            case .bool(var r):
                for next in a.dropFirst() {
                    let x = next.bools, nv = next.valid
                    for i in 0..<n where !valid[i] && (nv?[i] ?? true) { valid[i] = true; r[i] = x[i] }
                }
                return Vector(data: .bool(r), valid: valid.allSatisfy { $0 } ? nil : valid, count: n)
            case .string:
                return general(op, a, args, type, n)
            }
        case .nullIf where type == .int64 || type == .float64 || type == .timestamp:
            // a, or null where a equals b (b null: a).
            let validA = a[0].valid
            var valid = validA ?? [Bool](repeating: true, count: n)
            let validB = a[1].valid
            switch (a[0].data, a[1].data) {
            case (.int(let x), .int(let y)):
                for i in 0..<n where valid[i] && (validB?[i] ?? true) && Kernels.order(x[i], y[i]) == 0 { valid[i] = false }
                return Vector(data: .int(x), valid: valid, count: n)
            case (.float(let x), .float(let y)):
                for i in 0..<n where valid[i] && (validB?[i] ?? true) && Kernels.order(x[i], y[i]) == 0 { valid[i] = false }
                return Vector(data: .float(x), valid: valid, count: n)
            default:
                return general(op, a, args, type, n)
            }
        case .ifThenElse where type == .int64 || type == .float64 || type == .timestamp:
            let c = a[0].bools
            let all = [Bool](repeating: true, count: n)
            let vc = a[0].valid ?? all, vx = a[1].valid ?? all, vy = a[2].valid ?? all
            var valid = all
            switch (a[1].data, a[2].data) {
            case (.int(let x), .int(let y)):
                var out = [Int64](repeating: 0, count: n)
                for i in 0..<n {
                    let pick = vc[i] && c[i]
                    let ok = pick ? vx[i] : vy[i]
                    valid[i] = ok
                    out[i] = ok ? (pick ? x[i] : y[i]) : 0
                }
                return Vector(data: .int(out), valid: valid, count: n)
            case (.float(let x), .float(let y)):
                var out = [Double](repeating: 0, count: n)
                for i in 0..<n {
                    let pick = vc[i] && c[i]
                    let ok = pick ? vx[i] : vy[i]
                    valid[i] = ok
                    out[i] = ok ? (pick ? x[i] : y[i]) : 0
                }
                return Vector(data: .float(out), valid: valid, count: n)
            default:
                return general(op, a, args, type, n)
            }
        default:
            return general(op, a, args, type, n)
        }
    }

    @inline(__always)
    static func floatsFromInts(_ a: Vector, _ b: Vector, _ n: Int, _ f: (Int64, Int64) -> Double) -> Vector {
        let x = a.ints, y = b.ints
        let valid = Vector.combine(a.valid, b.valid)
        var out = [Double](repeating: 0, count: n)
        for i in 0..<n where valid?[i] ?? true { out[i] = f(x[i], y[i]) }
        return Vector(data: .float(out), valid: valid, count: n)
    }

    /// Row by row through the per-row evaluator's operation (strings, casts, the rarer functions): the same code,
    /// so the same values.
    static func general(_ op: Operation, _ a: [Vector], _ args: [Node], _ type: ExpressionType, _ n: Int) -> Vector {
        let leaves = args.indices.map { Node.input($0, args[$0].type) }
        let node = Node.apply(op, leaves, type)
        var builder = VectorBuilder(type: type, count: n)
        var row = [Value](repeating: .null, count: a.count)
        for i in 0..<n {
            for j in a.indices { row[j] = a[j].value(i, args[j].type) }
            builder.append(node.evaluate(row))
        }
        return builder.vector
    }
}

/// Collects per-row values into a vector of one type.
struct VectorBuilder {
    var type: ExpressionType
    var valid: [Bool]
    var ints: [Int64] = []
    var floats: [Double] = []
    var bools: [Bool] = []
    var strings = BytesBuffer()

    init(type: ExpressionType, count: Int) {
        self.type = type
        valid = []
        valid.reserveCapacity(count)
        switch type {
        case .float64: floats.reserveCapacity(count)
        case .bool: bools.reserveCapacity(count)
        case .string: strings.offsets.reserveCapacity(count + 1)
        default: ints.reserveCapacity(count)
        }
    }

    mutating func append(_ v: Value) {
        valid.append(!v.isNull)
        switch type {
        case .float64: if case .float64(let d) = v { floats.append(d) } else { floats.append(0) }
        case .bool: if case .bool(let b) = v { bools.append(b) } else { bools.append(false) }
        case .string: if case .string(let s) = v { strings.append(s) } else { strings.appendEmpty() }
        default:
            switch v { case .int64(let i), .timestamp(let i): ints.append(i); default: ints.append(0) }
        }
    }

    var vector: Vector {
        let data: Vector.Data
        switch type {
        case .float64: data = .float(floats)
        case .bool: data = .bool(bools)
        case .string: data = .string(strings)
        default: data = .int(ints)
        }
        return Vector(data: data, valid: valid.allSatisfy { $0 } ? nil : valid, count: valid.count)
    }
}
