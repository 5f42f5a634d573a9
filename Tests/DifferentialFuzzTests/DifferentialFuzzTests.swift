import Foundation
import Testing

/// The differential fuzzer (issue 24): random definitions, hostile data and lookups; the training set must equal an
/// independent brute-force reference (`fuzz_oracle.py`), and lookups after materialize on SQLite, a standalone Redis
/// and a 3-primary Redis Cluster must equal the training set at the same time, bit for bit, statuses included.
///
/// `swift test` runs a bounded number of seeds (FUZZ_CASES, default 6, from FUZZ_SEED, default 1); `scripts/fuzz
/// --minutes N` runs new seeds for N minutes (FUZZ_SECONDS). A failure prints the seed and the case shrunk to the
/// fewest events and lookups that still fail.
@Suite("Differential fuzzer: training = reference, serving = training", .serialized, .timeLimit(.minutes(60)))
struct DifferentialFuzzTests {
    @Test("random cases agree: the training set with the brute-force reference, lookups on every store with the training set")
    func randomCases() async throws {
        let environment = ProcessInfo.processInfo.environment
        let first = UInt64(environment["FUZZ_SEED"] ?? "") ?? 1
        let seconds = Double(environment["FUZZ_SECONDS"] ?? "")
        let cases = Int(environment["FUZZ_CASES"] ?? "") ?? 6
        let stores = (environment["FUZZ_STORES"]?.split(separator: ",").compactMap { FuzzStore(rawValue: String($0)) }) ?? FuzzStore.allCases
        let started = Date()
        var seed = first, ran = 0, events = 0, lookups = 0
        while seconds.map({ Date().timeIntervalSince(started) < $0 }) ?? (ran < cases) {
            let fuzzCase = FuzzCase.generate(seed: seed)
            await Task.yield()
            let problems = try await DifferentialFuzzer.check(fuzzCase, stores: stores)
            if !problems.isEmpty {
                let shrunk = await DifferentialFuzzer.shrink(fuzzCase, stores: stores)
                let remaining = (try? await DifferentialFuzzer.check(shrunk, stores: stores)) ?? problems
                Issue.record("""
                    seed \(seed) fails (\(problems.count) differences; first: \(problems.prefix(3).joined(separator: "; ")))
                    shrunk to \(shrunk.events.count) events and \(shrunk.lookups.count) lookups, still failing with: \(remaining.prefix(3).joined(separator: "; "))
                    \(shrunk.description)
                    """)
                return
            }
            ran += 1
            events += fuzzCase.events.count
            lookups += fuzzCase.lookups.count
            seed += 1
        }
        print("fuzz: \(ran) cases clean (seeds \(first)..<\(seed)), \(events) events, \(lookups) lookups, stores \(stores.map(\.rawValue).joined(separator: ",")), \(Int(Date().timeIntervalSince(started))) s")
    }

    @Test("Spark as a third engine: on random cases its training set and its materialized online values equal the embedded engine's",
          .enabled(if: SparkDifferential.javaInstalled, "Java is not installed here, so Spark cannot run (scripts/setup with SETUP_SPARK=1 installs openjdk-17-jre-headless)"))
    func sparkAgreesWithEmbedded() async throws {
        let environment = ProcessInfo.processInfo.environment
        let first = UInt64(environment["FUZZ_SEED"] ?? "") ?? 1
        let cases = Int(environment["FUZZ_SPARK_CASES"] ?? "") ?? 3
        for seed in first..<(first + UInt64(cases)) {
            let problems = try await SparkDifferential.check(FuzzCase.generate(seed: seed))
            #expect(problems.isEmpty, "seed \(seed): \(problems.prefix(5).joined(separator: "; "))")
        }
    }
}
