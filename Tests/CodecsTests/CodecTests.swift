import Codecs
import Testing

@Suite("Block codecs", .timeLimit(.minutes(3)))
struct CodecTests {
    /// Text-like data (compressible) and noise (not), of several sizes including empty.
    static func samples() -> [[UInt8]] {
        var state: UInt64 = 42
        func next() -> UInt8 {
            state = state &* 6_364_136_223_846_793_005 &+ 1
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let text = Array(String(repeating: "driver_id,conv_rate,2026-11-30T13:05:54Z;", count: 500).utf8)
        return [[], [7], text, (0..<100_000).map { _ in next() }]
    }

    @Test("every codec round-trips compressible and incompressible data of any size", arguments: Codec.allCases)
    func roundTrip(_ codec: Codec) throws {
        for sample in Self.samples() {
            let compressed = try sample.withUnsafeBytes { try codec.compress($0) }
            let back = try compressed.withUnsafeBytes { try codec.decompress($0, uncompressedSize: sample.count) }
            #expect(back == sample, "\(codec) on \(sample.count) bytes")
        }
        if codec != .uncompressed {
            let text = Self.samples()[2]
            let compressed = try text.withUnsafeBytes { try codec.compress($0) }
            #expect(compressed.count < text.count / 4, "\(codec) compresses repetitive text")
        }
    }

    @Test("corrupt input and a wrong expected size are errors naming the codec, never a crash", arguments: Codec.allCases)
    func corruptInput(_ codec: Codec) throws {
        let text = Self.samples()[2]
        var compressed = try text.withUnsafeBytes { try codec.compress($0) }
        #expect(throws: CodecError.self, "a size that is not the data's") {
            _ = try compressed.withUnsafeBytes { try codec.decompress($0, uncompressedSize: text.count + 1) }
        }
        guard codec != .uncompressed else { return }
        for i in stride(from: 0, to: compressed.count, by: max(1, compressed.count / 16)) { compressed[i] ^= 0x5A }
        do {
            let out = try compressed.withUnsafeBytes { try codec.decompress($0, uncompressedSize: text.count) }
            // A codec without a checksum may decode damaged bytes; it must still honour the size.
            #expect(out.count == text.count)
        } catch {
            #expect("\(error)".hasPrefix(codec.rawValue), "\(error)")
        }
    }
}
