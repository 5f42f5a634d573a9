extension Column {
    /// The rows in `range`, copied.
    public func slice(_ range: Range<Int>) -> Column {
        var validity: Bitmap? = nil
        if let v = self.validity {
            var b = Bitmap(count: range.count, value: true)
            for (k, i) in range.enumerated() where !v[i] { b.clear(k) }
            validity = b
        }
        let values: ColumnValues
        switch self.values {
        case .bool(let v): values = .bool(Array(v[range]))
        case .int32(let v): values = .int32(Array(v[range]))
        case .int64(let v): values = .int64(Array(v[range]))
        case .float32(let v): values = .float32(Array(v[range]))
        case .float64(let v): values = .float64(Array(v[range]))
        case .bytes(let b):
            let start = b.offsets[range.lowerBound], end = b.offsets[range.upperBound]
            values = .bytes(BytesBuffer(offsets: b.offsets[range.lowerBound...range.upperBound].map { $0 - start }, data: Array(b.data[start..<end])))
        case .list(let offsets, let child):
            let start = offsets[range.lowerBound], end = offsets[range.upperBound]
            values = .list(offsets: offsets[range.lowerBound...range.upperBound].map { $0 - start }, values: child.slice(start..<end))
        }
        return Column(type: type, values: values, validity: validity)
    }
}

extension Table {
    /// The rows in `range`.
    public func slice(_ range: Range<Int>) -> Table {
        // Slicing keeps every column's length equal: the shape cannot be wrong.
        (try? Table(schema: schema, columns: columns.map { $0.slice(range) })) ?? self
    }
}
