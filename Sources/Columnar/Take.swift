extension Column {
    /// The rows at `indices`, in that order; a negative index gives a null row.
    public func take(_ indices: [Int32]) -> Column {
        let n = indices.count
        var validity: Bitmap? = nil
        if self.validity != nil || indices.contains(where: { $0 < 0 }) {
            var bitmap = Bitmap(count: n, value: true)
            for (k, i) in indices.enumerated() where i < 0 || isNull(Int(i)) { bitmap.clear(k) }
            validity = bitmap
        }
        func gather<T>(_ v: [T], zero: T) -> [T] {
            v.withUnsafeBufferPointer { src in
                [T](unsafeUninitializedCapacity: n) { out, initialized in
                    for k in 0..<n {
                        let i = Int(indices[k])
                        (out.baseAddress! + k).initialize(to: i < 0 ? zero : src[i])
                    }
                    initialized = n
                }
            }
        }
        let values: ColumnValues
        switch self.values {
        case .bool(let v): values = .bool(gather(v, zero: false))
        case .int32(let v): values = .int32(gather(v, zero: 0))
        case .int64(let v): values = .int64(gather(v, zero: 0))
        case .float32(let v): values = .float32(gather(v, zero: 0))
        case .float64(let v): values = .float64(gather(v, zero: 0))
        case .bytes(let b):
            var out = BytesBuffer()
            out.offsets.reserveCapacity(n + 1)
            var total = 0
            for i in indices where i >= 0 { total += b.offsets[Int(i) + 1] - b.offsets[Int(i)] }
            out.data.reserveCapacity(total)
            b.data.withUnsafeBufferPointer { src in
                for i in indices {
                    if i >= 0 {
                        let a = b.offsets[Int(i)], z = b.offsets[Int(i) + 1]
                        out.data.append(contentsOf: UnsafeBufferPointer(rebasing: src[a..<z]))
                    }
                    out.offsets.append(out.data.count)
                }
            }
            values = .bytes(out)
        case .list(let offsets, let child):
            var newOffsets = [0]
            newOffsets.reserveCapacity(n + 1)
            var childIndices: [Int32] = []
            for i in indices {
                if i >= 0 { for e in offsets[Int(i)]..<offsets[Int(i) + 1] { childIndices.append(Int32(e)) } }
                newOffsets.append(childIndices.count)
            }
            values = .list(offsets: newOffsets, values: child.take(childIndices))
        }
        return Column(type: type, values: values, validity: validity)
    }

    /// The column converted to `target` when the conversion loses nothing: integers widen, float32 to float64,
    /// dates to timestamps, strings to binary. Returns nil for any other pair.
    public func cast(to target: DataType) -> Column? {
        if target == type { return self }
        switch (values, target) {
        case (.int32(let v), .int64) where [.int8, .int16, .int32, .uint8, .uint16].contains(type):
            return Column(type: .int64, values: .int64(v.map { Int64($0) }), validity: validity)
        case (.int64, .int64) where type == .uint32:
            return Column(type: .int64, values: values, validity: validity)
        case (.int32, .int32) where [.int8, .int16, .uint8, .uint16].contains(type):
            return Column(type: .int32, values: values, validity: validity)
        case (.float32(let v), .float64):
            return Column(type: .float64, values: .float64(v.map { Double($0) }), validity: validity)
        case (.int32(let v), .timestamp(let unit, _)) where type == .date32:
            return Column(type: target, values: .int64(v.map { Int64($0) * 86_400 * unit.perSecond }), validity: validity)
        case (.int64(let v), .timestamp(let unit, _)):
            guard case .timestamp(let from, _) = type else { return nil }
            if from == unit { return Column(type: target, values: values, validity: validity) }
            if from.perSecond < unit.perSecond {
                let f = unit.perSecond / from.perSecond
                return Column(type: target, values: .int64(v.map { $0 &* f }), validity: validity)
            }
            return nil
        case (.bytes, .binary) where type == .string || type == .binary:
            return Column(type: .binary, values: values, validity: validity)
        case (.list(let offsets, let child), .list(let inner)):
            guard let converted = child.cast(to: inner) else { return nil }
            return Column(type: target, values: .list(offsets: offsets, values: converted), validity: validity)
        default:
            return nil
        }
    }

    /// Timestamps (or dates) as nanoseconds since the epoch; nil for other types.
    public func timestampNanoseconds() -> [Int64]? {
        switch (type, values) {
        case (.timestamp(let unit, _), .int64(let v)):
            let f = 1_000_000_000 / unit.perSecond
            return f == 1 ? v : v.map { $0 &* f }
        case (.date32, .int32(let v)):
            return v.map { Int64($0) &* 86_400_000_000_000 }
        default:
            return nil
        }
    }
}
