import CCompression
public import ErrorChain

/// The block compression codecs of columnar files.
public enum Codec: String, Sendable, Hashable, CaseIterable {
    case uncompressed, snappy, gzip, zstd, lz4Raw = "lz4_raw"
}

/// A compression or decompression failure, with the codec's own reason.
public struct CodecError: ChainedError {
    /// The codec that failed.
    public var codec: Codec
    /// The codec's reason.
    public var reason: String
    /// `codec.NAME`.
    public var errorCode: String { "codec.\(codec.rawValue)" }
    /// The codec and its reason.
    public var description: String { ErrorChain.render(self) }
    /// The codec and its reason.
    public var message: String { "\(codec.rawValue) \(reason)" }
}

extension Codec {
    /// Decompresses `input` into exactly `uncompressedSize` bytes; throws when the data is corrupt or of another size.
    public func decompress(_ input: UnsafeRawBufferPointer, uncompressedSize: Int) throws(CodecError) -> [UInt8] {
        if self == .uncompressed {
            guard input.count == uncompressedSize else {
                throw CodecError(codec: self, reason: "data is \(input.count) bytes, expected \(uncompressedSize)")
            }
            return Array(input)
        }
        var failure: String? = nil
        let output = [UInt8](unsafeUninitializedCapacity: uncompressedSize) { out, initialized in
            initialized = 0
            let src = input.baseAddress.map { UnsafeRawPointer($0) } ?? UnsafeRawPointer(bitPattern: 1)!
            let dst = UnsafeMutableRawPointer(out.baseAddress ?? UnsafeMutablePointer<UInt8>(bitPattern: 1)!)
            switch self {
            case .uncompressed:
                break
            case .snappy:
                var length = 0
                guard snappy_uncompressed_length(src.assumingMemoryBound(to: CChar.self), input.count, &length) == SNAPPY_OK else {
                    failure = "data is corrupt (bad length header)"; return
                }
                guard length == uncompressedSize else { failure = "data holds \(length) bytes, expected \(uncompressedSize)"; return }
                var outLength = uncompressedSize
                guard snappy_uncompress(src.assumingMemoryBound(to: CChar.self), input.count,
                                        dst.assumingMemoryBound(to: CChar.self), &outLength) == SNAPPY_OK else {
                    failure = "data is corrupt"; return
                }
                initialized = outLength
            case .zstd:
                let n = ZSTD_decompress(dst, uncompressedSize, src, input.count)
                if ZSTD_isError(n) != 0 { failure = "data is corrupt: \(String(cString: ZSTD_getErrorName(n)))"; return }
                guard n == uncompressedSize else { failure = "data holds \(n) bytes, expected \(uncompressedSize)"; return }
                initialized = n
            case .lz4Raw:
                let n = LZ4_decompress_safe(src.assumingMemoryBound(to: CChar.self), dst.assumingMemoryBound(to: CChar.self),
                                            Int32(clamping: input.count), Int32(clamping: uncompressedSize))
                guard n >= 0 else { failure = "data is corrupt"; return }
                guard Int(n) == uncompressedSize else { failure = "data holds \(n) bytes, expected \(uncompressedSize)"; return }
                initialized = Int(n)
            case .gzip:
                switch Self.inflate(src, input.count, into: dst, capacity: uncompressedSize) {
                case .success(let n):
                    guard n == uncompressedSize else { failure = "data holds \(n) bytes, expected \(uncompressedSize)"; return }
                    initialized = n
                case .failure(let message):
                    failure = message
                }
            }
        }
        if let failure { throw CodecError(codec: self, reason: failure) }
        return output
    }

    private enum Inflated { case success(Int), failure(String) }

    /// Inflates gzip (or zlib) data, including several concatenated gzip members.
    private static func inflate(_ src: UnsafeRawPointer, _ count: Int, into dst: UnsafeMutableRawPointer, capacity: Int) -> Inflated {
        var stream = z_stream()
        // 15 + 32: a 32 KiB window, with automatic gzip/zlib header detection.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            return .failure("cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: src.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(clamping: count)
        stream.next_out = dst.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(clamping: capacity)
        while true {
            let rc = CCompression.inflate(&stream, Z_FINISH)
            if rc == Z_STREAM_END {
                if stream.avail_in > 0 && stream.avail_out > 0 {
                    // Another gzip member follows.
                    guard inflateReset(&stream) == Z_OK else { return .failure("data is corrupt") }
                    continue
                }
                return .success(capacity - Int(stream.avail_out))
            }
            if rc == Z_BUF_ERROR && stream.avail_out == 0 { return .failure("data inflates past the expected \(capacity) bytes") }
            let message = stream.msg.map { String(cString: $0) } ?? "error \(rc)"
            return .failure("data is corrupt: \(message)")
        }
    }

    /// Compresses `input`. `level` applies to zstd and gzip (nil: the codec's default).
    public func compress(_ input: UnsafeRawBufferPointer, level: Int32? = nil) throws(CodecError) -> [UInt8] {
        let src = input.baseAddress.map { UnsafeRawPointer($0) } ?? UnsafeRawPointer(bitPattern: 1)!
        var failure: String? = nil
        let bound: Int
        switch self {
        case .uncompressed: return Array(input)
        case .snappy: bound = snappy_max_compressed_length(input.count)
        case .zstd: bound = ZSTD_compressBound(input.count)
        case .lz4Raw: bound = Int(LZ4_compressBound(Int32(clamping: input.count)))
        case .gzip: bound = Int(compressBound(uLong(input.count))) + 32
        }
        let output = [UInt8](unsafeUninitializedCapacity: bound) { out, initialized in
            initialized = 0
            let dst = UnsafeMutableRawPointer(out.baseAddress!)
            switch self {
            case .uncompressed:
                break
            case .snappy:
                var n = bound
                guard snappy_compress(src.assumingMemoryBound(to: CChar.self), input.count, dst.assumingMemoryBound(to: CChar.self), &n) == SNAPPY_OK else {
                    failure = "compression failed"; return
                }
                initialized = n
            case .zstd:
                let n = ZSTD_compress(dst, bound, src, input.count, level ?? 3)
                if ZSTD_isError(n) != 0 { failure = "compression failed: \(String(cString: ZSTD_getErrorName(n)))"; return }
                initialized = n
            case .lz4Raw:
                let n = LZ4_compress_default(src.assumingMemoryBound(to: CChar.self), dst.assumingMemoryBound(to: CChar.self),
                                             Int32(clamping: input.count), Int32(clamping: bound))
                guard n > 0 || input.isEmpty else { failure = "compression failed"; return }
                initialized = Int(n)
            case .gzip:
                var stream = z_stream()
                // 15 + 16: write a gzip header and trailer.
                guard deflateInit2_(&stream, level ?? Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                    ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                    failure = "cannot initialise zlib"; return
                }
                defer { deflateEnd(&stream) }
                stream.next_in = UnsafeMutablePointer(mutating: src.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(clamping: input.count)
                stream.next_out = dst.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(clamping: bound)
                guard deflate(&stream, Z_FINISH) == Z_STREAM_END else { failure = "compression failed"; return }
                initialized = bound - Int(stream.avail_out)
            }
        }
        if let failure { throw CodecError(codec: self, reason: failure) }
        return output
    }
}
