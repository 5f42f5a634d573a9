import Columnar
import Dispatch

/// One column chunk to read: a row group of a file.
struct Fragment: Sendable {
    let file: ParquetFile
    let rowGroup: Int
    var rows: Int { file.rowCount(ofRowGroup: rowGroup) }
}

/// Reads columns over many row groups (of one or several files) into single columns.
///
/// Flat fixed-width columns are decoded straight into their final buffer, each row group into its own slice,
/// in parallel: values are copied once. Other columns are decoded per row group and concatenated.
enum ChunkAssembler {
    static func read(columns names: [String], fragments: [Fragment], parallel: Bool) throws(ParquetError) -> [Column] {
        // Columns in parallel; within a fixed-width column, row groups in parallel too (GCD shares the cores).
        let byColumn = parallel && names.count > 1
        let results = ResultSlots<Column>(count: names.count)
        let work = { @Sendable (c: Int) in
            results.set(c, Result { () throws(ParquetError) in
                try assemble(column: names[c], fragments: fragments, parallel: parallel)
            })
        }
        if byColumn {
            DispatchQueue.concurrentPerform(iterations: names.count, execute: work)
        } else {
            for c in 0..<names.count { work(c) }
        }
        var out: [Column] = []
        for c in 0..<names.count { out.append(try results.get(c).get()) }
        return out
    }

    private static func descriptor(_ name: String, in file: ParquetFile) throws(ParquetError) -> ColumnDescriptor {
        guard let d = file.mapping.columns.first(where: { $0.name == name }) else {
            throw ParquetError("no readable column '\(name)'", at: ParquetLocation(file: file.path, column: name))
        }
        return d
    }

    static func assemble(column name: String, fragments: [Fragment], parallel: Bool) throws(ParquetError) -> Column {
        guard let first = fragments.first else {
            throw ParquetError("nothing to read for column '\(name)'")
        }
        let d = try descriptor(name, in: first.file)
        var descriptors: [ColumnDescriptor] = []
        for f in fragments { descriptors.append(try descriptor(name, in: f.file)) }
        let run = { (n: Int, body: @Sendable (Int) -> Void) in
            if parallel && n > 1 { DispatchQueue.concurrentPerform(iterations: n, execute: body) } else { for k in 0..<n { body(k) } }
        }
        let chunks = ResultSlots<Column>(count: fragments.count)
        let frozenDescriptors = descriptors

        if d.maxRepetitionLevel == 0, d.physicalType == .byteArray || d.physicalType == .fixedLenByteArray {
            // Variable-length values: row groups in order into one buffer (offsets reserved once: the rows are known).
            var buffer = BytesBuffer()
            buffer.offsets.reserveCapacity(min(fragments.reduce(1) { $0 + $1.rows }, ReadLimits.maxRowGroupRows))
            var validity = Bitmap(count: 0, value: true)
            var hasNulls = false
            for (k, f) in fragments.enumerated() {
                let chunk = try f.file.readChunk(rowGroup: f.rowGroup, descriptor: descriptors[k], appendingTo: &buffer)
                if let v = chunk.validity { hasNulls = true; validity.append(v) } else { validity.appendOnes(f.rows) }
            }
            return Column(type: d.type, values: .bytes(buffer), validity: hasNulls ? validity : nil)
        }

        guard ColumnChunkReader.supportsSink(d), descriptors.allSatisfy({ ColumnChunkReader.supportsSink($0) }) else {
            run(fragments.count) { k in
                chunks.set(k, Result { () throws(ParquetError) in
                    try fragments[k].file.readChunk(rowGroup: fragments[k].rowGroup, descriptor: frozenDescriptors[k])
                })
            }
            var parts: [Column] = []
            for k in 0..<fragments.count { parts.append(try chunks.get(k).get()) }
            do {
                return try Column.concatenate(parts)
            } catch {
                throw ParquetError("", at: ParquetLocation(file: first.file.path, column: name), cause: error)
            }
        }

        // Direct: one final buffer, each fragment decoding into its slice.
        var starts: [Int] = []
        var total = 0
        for f in fragments { starts.append(total); total += f.rows }
        let frozenStarts = starts
        func fill<T>(_ type: T.Type) -> [T] {
            [T](unsafeUninitializedCapacity: total) { buffer, initialized in
                let base = UnsafeMutableRawPointer(buffer.baseAddress)
                let address = base.map { Int(bitPattern: $0) } ?? 0
                run(fragments.count) { k in
                    let sink = UnsafeMutableRawPointer(bitPattern: address + frozenStarts[k] * MemoryLayout<T>.stride)
                    chunks.set(k, Result { () throws(ParquetError) in
                        try fragments[k].file.readChunk(rowGroup: fragments[k].rowGroup, descriptor: frozenDescriptors[k], sink: sink)
                    })
                }
                // On failure the values are never used; every T here is a trivial type.
                initialized = total
            }
        }
        let values: ColumnValues
        switch d.physicalType {
        case .boolean: values = .bool(fill(Bool.self))
        case .int32: values = .int32(fill(Int32.self))
        case .int64: values = .int64(fill(Int64.self))
        case .float: values = .float32(fill(Float.self))
        case .double: values = .float64(fill(Double.self))
        default: throw ParquetError("internal: no direct decoding for \(d.physicalType)")
        }
        var validity: Bitmap? = nil
        var parts: [Column] = []
        for k in 0..<fragments.count { parts.append(try chunks.get(k).get()) }
        if parts.contains(where: { $0.validity != nil }) {
            var bitmap = Bitmap(count: 0, value: true)
            for (k, part) in parts.enumerated() { bitmap.append(part.validity ?? Bitmap(count: fragments[k].rows, value: true)) }
            validity = bitmap
        }
        return Column(type: d.type, values: values, validity: validity)
    }
}
