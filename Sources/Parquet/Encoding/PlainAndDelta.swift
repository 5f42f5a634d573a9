import Columnar

/// Fixed-width little-endian values that can be copied from a page byte for byte.
protocol FixedWidthValue: Sendable {
    static var zero: Self { get }
}
extension Int32: FixedWidthValue { static var zero: Int32 { 0 } }
extension Int64: FixedWidthValue { static var zero: Int64 { 0 } }
extension Float: FixedWidthValue { static var zero: Float { 0 } }
extension Double: FixedWidthValue { static var zero: Double { 0 } }

enum Plain {
    /// Appends `count` fixed-width values copied from `data`; returns the bytes consumed.
    @discardableResult
    static func decode<T: FixedWidthValue>(_ data: UnsafeRawBufferPointer, count: Int, into out: inout [T]) throws(DecodeError) -> Int {
        let size = MemoryLayout<T>.size
        let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, bytes <= data.count else {
            throw DecodeError("PLAIN data holds \(data.count / size) values of \(size) bytes, \(count) expected")
        }
        guard bytes > 0, let source = data.baseAddress else { return 0 }
        let start = out.count
        out.append(contentsOf: repeatElement(T.zero, count: count))
        out.withUnsafeMutableBytes { dst in
            dst.baseAddress!.advanced(by: start * size).copyMemory(from: source, byteCount: bytes)
        }
        return bytes
    }

    /// Booleans, one bit each, least significant first.
    @discardableResult
    static func decodeBools(_ data: UnsafeRawBufferPointer, count: Int, into out: inout [Bool]) throws(DecodeError) -> Int {
        let bytes = (count + 7) / 8
        guard bytes <= data.count else { throw DecodeError("PLAIN boolean data holds \(data.count * 8) values, \(count) expected") }
        out.reserveCapacity(out.count + count)
        for i in 0..<count { out.append((data[i >> 3] >> UInt8(i & 7)) & 1 == 1) }
        return bytes
    }

    /// Byte arrays: each a 4-byte little-endian length and the bytes.
    @discardableResult
    static func decodeByteArrays(_ data: UnsafeRawBufferPointer, count: Int, into out: inout BytesBuffer) throws(DecodeError) -> Int {
        var pos = 0
        out.offsets.reserveCapacity(out.offsets.count + count)
        for i in 0..<count {
            guard pos + 4 <= data.count else { throw DecodeError("PLAIN byte array \(i) of \(count): length runs past the end of the page") }
            let length = Int(data.loadUnaligned(fromByteOffset: pos, as: UInt32.self).littleEndian)
            pos += 4
            guard length <= data.count - pos else {
                throw DecodeError("PLAIN byte array \(i) of \(count) has length \(length), past the end of the page")
            }
            out.append(UnsafeRawBufferPointer(rebasing: data[pos..<(pos + length)]))
            pos += length
        }
        return pos
    }

    /// Fixed-length byte arrays of `width` bytes.
    @discardableResult
    static func decodeFixedByteArrays(_ data: UnsafeRawBufferPointer, width: Int, count: Int, into out: inout BytesBuffer) throws(DecodeError) -> Int {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: width)
        guard !overflow, bytes <= data.count else { throw DecodeError("PLAIN fixed-length data holds fewer than \(count) values of \(width) bytes") }
        out.data.append(contentsOf: UnsafeRawBufferPointer(rebasing: data[0..<bytes]))
        let base = out.offsets.last!
        out.offsets.reserveCapacity(out.offsets.count + count)
        for i in 1...max(count, 1) where count > 0 { out.offsets.append(base + i * width) }
        return bytes
    }

    /// INT96 timestamps (nanoseconds of the day, then the Julian day) as nanoseconds since the epoch.
    @discardableResult
    static func decodeInt96(_ data: UnsafeRawBufferPointer, count: Int, into out: inout [Int64]) throws(DecodeError) -> Int {
        guard count * 12 <= data.count else { throw DecodeError("INT96 data holds fewer than \(count) values") }
        out.reserveCapacity(out.count + count)
        for i in 0..<count {
            let nanos = Int64(bitPattern: data.loadUnaligned(fromByteOffset: i * 12, as: UInt64.self).littleEndian)
            let julian = Int64(data.loadUnaligned(fromByteOffset: i * 12 + 8, as: UInt32.self).littleEndian)
            out.append((julian - 2_440_588) &* 86_400_000_000_000 &+ nanos)
        }
        return count * 12
    }
}

/// DELTA_BINARY_PACKED and the byte-array encodings built on it.
enum Delta {
    /// Decodes a DELTA_BINARY_PACKED stream of `count` values (or the stream's own count when `count` is nil).
    /// Returns the values and the bytes consumed.
    static func decodeInts(_ data: UnsafeRawBufferPointer, count expected: Int?) throws(DecodeError) -> (values: [Int64], consumed: Int) {
        var pos = 0
        func varint() throws(DecodeError) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard pos < data.count else { throw DecodeError("DELTA_BINARY_PACKED data ends inside a header") }
                let b = data[pos]
                pos += 1
                result |= UInt64(b & 0x7f) << shift
                if b & 0x80 == 0 { return result }
                shift += 7
                guard shift < 64 else { throw DecodeError("DELTA_BINARY_PACKED varint too long") }
            }
        }
        func zigzag() throws(DecodeError) -> Int64 {
            let v = try varint()
            return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
        }
        let blockSize = Int(clamping: try varint())
        let miniblocks = Int(clamping: try varint())
        let total = Int(clamping: try varint())
        guard blockSize > 0, blockSize <= 1 << 16, blockSize % 128 == 0, miniblocks > 0, blockSize % miniblocks == 0,
              (blockSize / miniblocks) % 32 == 0 else {
            throw DecodeError("DELTA_BINARY_PACKED header is invalid (block size \(blockSize), \(miniblocks) miniblocks)")
        }
        if let expected, total < expected { throw DecodeError("DELTA_BINARY_PACKED holds \(total) values, \(expected) expected") }
        // Each value needs at least one bit in a miniblock, except runs of equal deltas (bit width 0):
        // bound the allocation by what a page can describe.
        guard total <= max(data.count * 8, 1) * 32 else { throw DecodeError("DELTA_BINARY_PACKED claims \(total) values, more than its data can hold") }
        let count = expected ?? total
        var values = [Int64]()
        values.reserveCapacity(count)
        var last = try zigzag()
        if total > 0, count > 0 { values.append(last) }
        let perMiniblock = blockSize / miniblocks
        var scratch = [UInt64](repeating: 0, count: perMiniblock)
        while values.count < count {
            let minDelta = try zigzag()
            guard pos + miniblocks <= data.count else { throw DecodeError("DELTA_BINARY_PACKED data ends inside a block header") }
            let widthsStart = pos
            pos += miniblocks
            for m in 0..<miniblocks where values.count < count {
                let width = Int(data[widthsStart + m])
                guard width <= 64 else { throw DecodeError("DELTA_BINARY_PACKED bit width \(width) over 64") }
                let bytes = perMiniblock * width / 8
                let take = min(perMiniblock, count - values.count)
                let needed = (take * width + 7) / 8
                guard pos + needed <= data.count else { throw DecodeError("DELTA_BINARY_PACKED miniblock runs past the end of its data") }
                unpack64(UnsafeRawBufferPointer(rebasing: data[pos..<min(pos + bytes, data.count)]), width: width, count: take, into: &scratch)
                for k in 0..<take {
                    last = last &+ minDelta &+ Int64(bitPattern: scratch[k])
                    values.append(last)
                }
                pos = min(pos + bytes, data.count)
            }
        }
        return (values, pos)
    }

    private static func unpack64(_ data: UnsafeRawBufferPointer, width: Int, count: Int, into out: inout [UInt64]) {
        if width == 0 {
            for i in 0..<count { out[i] = 0 }
            return
        }
        var bitPos = 0
        for i in 0..<count {
            var v: UInt64 = 0
            var got = 0
            while got < width {
                let byte = bitPos >> 3, offset = bitPos & 7
                let take = min(8 - offset, width - got)
                let bits = (UInt64(data[byte]) >> UInt64(offset)) & ((1 << UInt64(take)) - 1)
                v |= bits << UInt64(got)
                got += take
                bitPos += take
            }
            out[i] = v
        }
    }

    /// DELTA_LENGTH_BYTE_ARRAY: delta-packed lengths, then the bytes one after the other.
    @discardableResult
    static func decodeLengthByteArrays(_ data: UnsafeRawBufferPointer, count: Int, into out: inout BytesBuffer) throws(DecodeError) -> Int {
        let (lengths, consumed) = try decodeInts(data, count: count)
        var pos = consumed
        for (i, l) in lengths.enumerated() {
            guard l >= 0, Int(l) <= data.count - pos else { throw DecodeError("DELTA_LENGTH_BYTE_ARRAY value \(i) has length \(l), past the end of the page") }
            out.append(UnsafeRawBufferPointer(rebasing: data[pos..<(pos + Int(l))]))
            pos += Int(l)
        }
        return pos
    }

    /// DELTA_BYTE_ARRAY: each value shares a prefix with the previous one.
    @discardableResult
    static func decodeByteArrays(_ data: UnsafeRawBufferPointer, count: Int, into out: inout BytesBuffer) throws(DecodeError) -> Int {
        let (prefixes, consumed) = try decodeInts(data, count: count)
        var suffixes = BytesBuffer()
        let used = try decodeLengthByteArrays(UnsafeRawBufferPointer(rebasing: data[consumed...]), count: count, into: &suffixes)
        var previous: [UInt8] = []
        var total = 0
        for i in 0..<count {
            let p = prefixes[i]
            guard p >= 0, Int(p) <= previous.count else { throw DecodeError("DELTA_BYTE_ARRAY value \(i) has prefix \(p) longer than the previous value") }
            // Shared prefixes let a small page expand without bound: cap what one page may decode to.
            total += Int(p) + suffixes.bytes(at: i).count
            guard total <= ReadLimits.maxPageSize else { throw DecodeError("DELTA_BYTE_ARRAY page decodes to more than \(ReadLimits.maxPageSize) bytes") }
            var value = Array(previous[0..<Int(p)])
            value.append(contentsOf: suffixes.bytes(at: i))
            out.append(value)
            previous = value
        }
        return consumed + used
    }
}

/// BYTE_STREAM_SPLIT: byte k of every value, then byte k+1, ...
enum ByteStreamSplit {
    static func decode<T: FixedWidthValue>(_ data: UnsafeRawBufferPointer, count: Int, into out: inout [T]) throws(DecodeError) {
        let size = MemoryLayout<T>.size
        guard count * size <= data.count else { throw DecodeError("BYTE_STREAM_SPLIT data holds fewer than \(count) values") }
        guard count > 0 else { return }
        let start = out.count
        out.append(contentsOf: repeatElement(T.zero, count: count))
        out.withUnsafeMutableBytes { dst in
            let base = dst.baseAddress!.advanced(by: start * size).assumingMemoryBound(to: UInt8.self)
            for k in 0..<size {
                for i in 0..<count { base[i * size + k] = data[k * count + i] }
            }
        }
    }

    static func decodeFixed(_ data: UnsafeRawBufferPointer, width: Int, count: Int, into out: inout BytesBuffer) throws(DecodeError) {
        guard count * width <= data.count else { throw DecodeError("BYTE_STREAM_SPLIT data holds fewer than \(count) values") }
        for i in 0..<count {
            var value = [UInt8](repeating: 0, count: width)
            for k in 0..<width { value[k] = data[k * count + i] }
            out.append(value)
        }
    }
}
