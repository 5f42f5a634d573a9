import FeatureStoreCore
import FeatureStoreTesting
import SQLiteOnlineStore
import Foundation
import Testing

/// The embedded store against the conformance suite every online store must pass.
@Suite("SQLiteOnlineStore conforms to the online store suite", .timeLimit(.minutes(2)))
struct SQLiteOnlineStoreConformanceTests {
    @Test(arguments: OnlineStoreConformance.checks)
    func conforms(_ check: OnlineStoreConformance.Check) async throws {
        let dir = TemporaryDirectory()
        var opened = 0
        try await check.run {
            opened += 1
            return try SQLiteOnlineStore(path: dir.url.appendingPathComponent("online-\(opened).db").path)
        }
    }
}
