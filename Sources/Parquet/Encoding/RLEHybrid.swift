/// The RLE / bit-packed hybrid encoding: levels, dictionary indices, RLE booleans.
enum RLEHybrid {
    /// Decodes exactly `count` values of `bitWidth` bits from `data` into `out[0..<count]`.
    /// Returns the number of bytes consumed.
    @discardableResult
    static func decode(_ data: UnsafeRawBufferPointer, bitWidth: Int, count: Int,
                       into out: UnsafeMutableBufferPointer<UInt32>) throws(DecodeError) -> Int {
        guard (0...32).contains(bitWidth) else { throw DecodeError("bit width \(bitWidth) out of range") }
        guard out.count >= count else { throw DecodeError("output too small") }
        if bitWidth == 0 {
            for i in 0..<count { out[i] = 0 }
            return 0
        }
        var pos = 0
        var produced = 0
        let byteWidth = (bitWidth + 7) / 8
        while produced < count {
            // Run header: a ULEB128 varint.
            var header: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard pos < data.count else { throw DecodeError("RLE data ends inside a run header (\(produced) of \(count) values decoded)") }
                let b = data[pos]
                pos += 1
                header |= UInt64(b & 0x7f) << shift
                if b & 0x80 == 0 { break }
                shift += 7
                if shift > 35 { throw DecodeError("RLE run header too long") }
            }
            if header & 1 == 1 {
                // Bit-packed run of groups of 8 values.
                let groups = Int(header >> 1)
                guard groups > 0 else { throw DecodeError("empty bit-packed run") }
                let values = groups * 8
                let bytes = groups * bitWidth
                // The last run may be truncated by writers when it holds the final values; accept what is present.
                let available = min(bytes, data.count - pos)
                let take = min(values, count - produced)
                guard take * bitWidth <= available * 8 else {
                    throw DecodeError("bit-packed run runs past the end of its data (\(produced) of \(count) values decoded)")
                }
                unpack(UnsafeRawBufferPointer(rebasing: data[pos..<(pos + available)]), bitWidth: bitWidth, count: take,
                       into: UnsafeMutableBufferPointer(rebasing: out[produced..<(produced + take)]))
                produced += take
                pos += available
            } else {
                let runLength = Int(header >> 1)
                guard pos + byteWidth <= data.count else { throw DecodeError("RLE run value runs past the end of its data") }
                var value: UInt32 = 0
                for i in 0..<byteWidth { value |= UInt32(data[pos + i]) << (8 * UInt32(i)) }
                pos += byteWidth
                if bitWidth < 32, value >> UInt32(bitWidth) != 0 { throw DecodeError("RLE run value \(value) wider than \(bitWidth) bits") }
                let take = min(runLength, count - produced)
                for i in produced..<(produced + take) { out[i] = value }
                produced += take
            }
        }
        return pos
    }

    /// Unpacks `count` little-endian bit-packed values (LSB first).
    @inline(__always)
    static func unpack(_ data: UnsafeRawBufferPointer, bitWidth: Int, count: Int, into out: UnsafeMutableBufferPointer<UInt32>) {
        let mask: UInt64 = bitWidth == 32 ? 0xffff_ffff : (1 << UInt64(bitWidth)) - 1
        var acc: UInt64 = 0
        var bits = 0
        var pos = 0
        for i in 0..<count {
            while bits < bitWidth {
                acc |= UInt64(data[pos]) << UInt64(bits)
                pos += 1
                bits += 8
            }
            out[i] = UInt32(truncatingIfNeeded: acc & mask)
            acc >>= UInt64(bitWidth)
            bits -= bitWidth
        }
    }

    /// Unpacks the deprecated BIT_PACKED level encoding (most significant bit first).
    static func unpackBigEndian(_ data: UnsafeRawBufferPointer, bitWidth: Int, count: Int, into out: UnsafeMutableBufferPointer<UInt32>) {
        var bitPos = 0
        for i in 0..<count {
            var v: UInt32 = 0
            for _ in 0..<bitWidth {
                let bit = (data[bitPos >> 3] >> UInt8(7 - (bitPos & 7))) & 1
                v = v << 1 | UInt32(bit)
                bitPos += 1
            }
            out[i] = v
        }
    }

    /// Encodes `values` with `bitWidth` bits: RLE runs for repeats of 8 or more, bit-packed groups otherwise.
    static func encode(_ values: UnsafeBufferPointer<UInt32>, bitWidth: Int, into out: inout [UInt8]) {
        let byteWidth = (bitWidth + 7) / 8
        var i = 0
        let n = values.count
        var pending: [UInt32] = [] // values waiting to be bit-packed (a multiple of 8 is flushed)
        pending.reserveCapacity(512)

        func varint(_ v: Int, _ out: inout [UInt8]) {
            var x = UInt64(v)
            while x >= 0x80 { out.append(UInt8(x & 0x7f) | 0x80); x >>= 7 }
            out.append(UInt8(x))
        }
        func flushPacked(_ out: inout [UInt8], final: Bool) {
            guard !pending.isEmpty else { return }
            // Pad to a multiple of 8 (only at the end or before an RLE run, where padding is harmless: the count bounds decoding).
            while pending.count % 8 != 0 { pending.append(0) }
            let groups = pending.count / 8
            varint(groups << 1 | 1, &out)
            var acc: UInt64 = 0
            var bits = 0
            for v in pending {
                acc |= UInt64(v) << UInt64(bits)
                bits += bitWidth
                while bits >= 8 {
                    out.append(UInt8(truncatingIfNeeded: acc))
                    acc >>= 8
                    bits -= 8
                }
            }
            if bits > 0 { out.append(UInt8(truncatingIfNeeded: acc)) }
            pending.removeAll(keepingCapacity: true)
        }

        while i < n {
            let v = values[i]
            var run = 1
            while i + run < n && values[i + run] == v { run += 1 }
            if run >= 8 && pending.count % 8 == 0 {
                flushPacked(&out, final: false)
                varint(run << 1, &out)
                for b in 0..<byteWidth { out.append(UInt8(truncatingIfNeeded: v >> UInt32(8 * b))) }
                i += run
            } else if run >= 8 {
                // Fill the pending group to a multiple of 8 with this run's first values, then emit the rest as a run.
                let fill = 8 - pending.count % 8
                for _ in 0..<fill { pending.append(v) }
                i += fill
            } else {
                for k in 0..<run { pending.append(values[i + k]) }
                i += run
                if pending.count >= 504 && pending.count % 8 == 0 { flushPacked(&out, final: false) }
            }
        }
        flushPacked(&out, final: true)
    }

    /// The bit width needed for values up to `maxValue`.
    static func bitWidth(for maxValue: UInt32) -> Int {
        maxValue == 0 ? 0 : 32 - maxValue.leadingZeroBitCount
    }
}
