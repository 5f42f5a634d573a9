import FeatureStoreCore
import FeatureStoreTesting
import Foundation
import LocalOfflineEngine
import Testing

/// The local engine against the conformance suite every offline engine must pass.
@Suite("LocalOfflineEngine conforms to the offline engine suite", .timeLimit(.minutes(2)))
struct LocalOfflineEngineConformanceTests {
    @Test(arguments: OfflineEngineConformance.checks)
    func conforms(_ check: OfflineEngineConformance.Check) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("offline-conformance-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await check.run { LocalOfflineEngine(repository: folder) }
    }
}
