import FeatureComputation
import Foundation
import Testing

/// Python's `math.fsum` (the correctly rounded sum) of `values`, as the trusted peer.
func fsum(_ batches: [[Double]]) throws -> [Double] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let candidates: [String?] = [ProcessInfo.processInfo.environment["FEATURESTORE_PYTHON"], root.appendingPathComponent(".venv/bin/python").path, "/usr/bin/python3"]
    guard let python = candidates.compactMap({ $0 }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw ExactSumOracleError(message: "no Python: run `bash scripts/setup`")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = ["-c", """
        import math, struct, sys
        for line in sys.stdin:
            xs = [struct.unpack('<d', bytes.fromhex(h))[0] for h in line.split()]
            print(struct.pack('<d', math.fsum(xs)).hex())
        """]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    let text = batches.map { $0.map { x in withUnsafeBytes(of: x.bitPattern.littleEndian) { Data($0).map { String(format: "%02x", $0) }.joined() } }.joined(separator: " ") }.joined(separator: "\n") + "\n"
    input.fileHandleForWriting.write(Data(text.utf8))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).split(separator: "\n").map { hex in
        var bits: UInt64 = 0
        var index = hex.startIndex
        for shift in stride(from: 0, to: 64, by: 8) {
            let next = hex.index(index, offsetBy: 2)
            bits |= UInt64(hex[index..<next], radix: 16)! << UInt64(shift)
            index = next
        }
        return Double(bitPattern: bits)
    }
}

struct ExactSumOracleError: Error { var message: String }

/// A small deterministic generator (the tests must not depend on the platform's random numbers).
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// Doubles of every scale: huge, tiny, subnormal, cancelling, integers, ties.
    mutating func double() -> Double {
        switch below(6) {
        case 0: return Double(bitPattern: next() & ~(0x7FF << 52) | UInt64(below(2046) + 1) << 52)  // any finite normal
        case 1: return Double(bitPattern: next() & 0x800F_FFFF_FFFF_FFFF)                           // subnormal
        case 2: return Double(Int64(bitPattern: next()) >> below(64))                                 // integers
        case 3: return (below(2) == 0 ? 1 : -1) * Double(sign: .plus, exponent: below(120) - 60, significand: 1 + Double(below(1000)) / 1000)
        case 4: return 1e16 * (below(2) == 0 ? 1 : -1)                                                // cancellation
        default: return Double(below(1000)) / 10
        }
    }
}

@Suite("Exact sums of doubles")
struct ExactSumTests {
    @Test("the sum is math.fsum's correctly rounded value, for values of every scale", arguments: [1, 2, 3])
    func matchesFsum(seed: UInt64) throws {
        var random = SplitMix(state: seed)
        var batches: [[Double]] = []
        for _ in 0..<400 {
            batches.append((0..<(1 + random.below(40))).map { _ in random.double() })
        }
        // Sums near the overflow threshold and exact halfway cases.
        batches.append([Double.greatestFiniteMagnitude, Double.greatestFiniteMagnitude.ulp / 2 * 0.999])
        batches.append([1, Double.ulpOfOne / 2])
        batches.append([1, Double.ulpOfOne / 2, Double.leastNonzeroMagnitude])
        batches.append([1 + Double.ulpOfOne, Double.ulpOfOne / 2])
        batches.append([Double.leastNonzeroMagnitude, Double.leastNonzeroMagnitude, -Double.leastNormalMagnitude])
        let expected = try fsum(batches)
        try #require(expected.count == batches.count)
        for (values, want) in zip(batches, expected) {
            var sum = ExactSum()
            for x in values { sum.add(x) }
            #expect(sum.value.bitPattern == want.bitPattern || (sum.value == 0 && want == 0), "\(values): \(sum.value) vs fsum \(want)")
        }
    }

    @Test("any order and any grouping of merges give the same bits; subtracting a part leaves the rest")
    func orderIndependent() {
        var random = SplitMix(state: 42)
        let values = (0..<500).map { _ in random.double() }
        var whole = ExactSum()
        for x in values { whole.add(x) }
        for _ in 0..<20 {
            var shuffled = values
            for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, random.below(i + 1)) }
            var parts = [ExactSum(), ExactSum(), ExactSum()]
            for x in shuffled { parts[random.below(3)].add(x) }
            var merged = parts[2]
            merged.merge(parts[0])
            merged.merge(parts[1])
            #expect(merged.value.bitPattern == whole.value.bitPattern)
            #expect(merged == whole)
            merged.subtract(parts[2])
            var rest = parts[0]
            rest.merge(parts[1])
            #expect(merged.value.bitPattern == rest.value.bitPattern)
        }
    }

    @Test("a few values kept as they are and sums made of limbs merge, subtract and compare as one exact sum")
    func fewValuesAndLimbsAgree() {
        var random = SplitMix(state: 7)
        for _ in 0..<500 {
            let a = (0..<random.below(5)).map { _ in random.double() }      // kept as values (4 at most)
            let b = (0..<random.below(9)).map { _ in random.double() }      // either
            var sa = ExactSum(), sb = ExactSum(), whole = ExactSum()
            for x in a { sa.add(x); whole.add(x) }
            for x in b { sb.add(x); whole.add(x) }
            var ab = sa
            ab.merge(sb)
            var ba = sb
            ba.merge(sa)
            #expect(ab.value.bitPattern == whole.value.bitPattern && ab == whole, "\(a) + \(b)")
            #expect(ba.value.bitPattern == whole.value.bitPattern && ba == whole, "\(b) + \(a)")
            var rest = whole
            rest.subtract(sb)
            #expect(rest == sa && (rest.value.bitPattern == sa.value.bitPattern || (rest.value == 0 && sa.value == 0)), "\(a) + \(b) - \(b)")
            var removed = sa
            for x in a.reversed() { removed.remove(x) }
            #expect(removed == ExactSum() && removed.value == 0, "\(a) removed")
        }
    }

    @Test("infinities and NaN follow IEEE: inf + x = inf, inf + -inf = NaN, NaN wins; zeros sum to +0")
    func specialValues() {
        func sum(_ xs: [Double]) -> Double { var s = ExactSum(); for x in xs { s.add(x) }; return s.value }
        #expect(sum([.infinity, 1, -1e308]) == .infinity)
        #expect(sum([-.infinity, 1]) == -.infinity)
        #expect(sum([.infinity, -.infinity]).isNaN)
        #expect(sum([.nan, 1]).isNaN)
        #expect(sum([]) == 0 && sum([]).sign == .plus)
        #expect(sum([0, -0.0]).sign == .plus)
        #expect(sum([Double.greatestFiniteMagnitude, Double.greatestFiniteMagnitude]) == .infinity)
        #expect(sum([Double.greatestFiniteMagnitude, Double.greatestFiniteMagnitude, -Double.greatestFiniteMagnitude]) == .greatestFiniteMagnitude)
        #expect(sum([0.1, 0.2, 0.3, -0.6]) == 2.7755575615628914e-17)  // the exact sum of those doubles, as fsum gives
    }
}
