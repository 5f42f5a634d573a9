extension Column {
    /// The rows of `parts`, one after the other. All parts must have the same type.
    public static func concatenate(_ parts: [Column]) throws(ColumnarError) -> Column {
        guard let first = parts.first else { throw .shape("nothing to concatenate") }
        if parts.count == 1 { return first }
        for part in parts where part.type != first.type {
            throw .type("cannot concatenate \(part.type) after \(first.type)")
        }
        var validity: Bitmap? = nil
        if parts.contains(where: { $0.validity != nil }) {
            var bitmap = Bitmap(count: 0, value: true)
            for part in parts { bitmap.append(part.validity ?? Bitmap(count: part.count, value: true)) }
            validity = bitmap
        }
        let values: ColumnValues
        switch first.values {
        case .bool: values = .bool(join(parts) { if case .bool(let v) = $0 { v } else { nil } })
        case .int32: values = .int32(join(parts) { if case .int32(let v) = $0 { v } else { nil } })
        case .int64: values = .int64(join(parts) { if case .int64(let v) = $0 { v } else { nil } })
        case .float32: values = .float32(join(parts) { if case .float32(let v) = $0 { v } else { nil } })
        case .float64: values = .float64(join(parts) { if case .float64(let v) = $0 { v } else { nil } })
        case .bytes:
            var out = BytesBuffer()
            out.data.reserveCapacity(parts.reduce(0) { total, p in if case .bytes(let b) = p.values { return total + b.data.count }; return total })
            out.offsets.reserveCapacity(parts.reduce(1) { $0 + $1.count })
            for part in parts {
                guard case .bytes(let b) = part.values else { continue }
                let base = out.data.count
                out.data.append(contentsOf: b.data)
                out.offsets.append(contentsOf: b.offsets.dropFirst().map { $0 + base })
            }
            values = .bytes(out)
        case .list:
            var offsets = [0]
            var children: [Column] = []
            for part in parts {
                guard case .list(let o, let child) = part.values else { continue }
                let base = offsets.last!
                offsets.append(contentsOf: o.dropFirst().map { $0 - o[0] + base })
                children.append(child)
            }
            values = .list(offsets: offsets, values: try concatenate(children))
        }
        return Column(type: first.type, values: values, validity: validity)
    }

    /// The buffers of `parts`, one after the other, in one allocation.
    private static func join<T>(_ parts: [Column], _ buffer: (ColumnValues) -> [T]?) -> [T] {
        var out: [T] = []
        out.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for part in parts { if let b = buffer(part.values) { out.append(contentsOf: b) } }
        return out
    }
}
