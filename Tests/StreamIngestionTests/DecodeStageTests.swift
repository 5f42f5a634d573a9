import FeatureStoreCore
import Foundation
@testable import StreamIngestion
import Testing

/// The first stage of ingestion alone: decoding and routing a batch, with no store, broker or file.
@Suite("Ingestion's decode stage", .timeLimit(.minutes(2)))
struct DecodeStageTests {
    @Test("a batch decodes into rows per view, positions per partition and bad messages with their reasons, with no I/O")
    func decodeStage() throws {
        let (dir, store) = try InMemoryIngestionTests.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plan = try IngestionPlan(store: store, views: nil)
        let topic = StreamFixture.topic
        let messages = [
            StreamMessage(topic: topic, partition: 0, offset: 7, value: Array(event(1, trips: 3, ts: "2025-01-01T00:00:00Z").utf8)),
            StreamMessage(topic: topic, partition: 0, offset: 8, value: Array("not json".utf8)),
            StreamMessage(topic: topic, partition: 1, offset: 2, value: Array(#"{"driver_id": 2, "trips": "x", "ts": 1}"#.utf8)),
            StreamMessage(topic: "elsewhere", partition: 0, offset: 0, value: Array("{}".utf8)),
        ]
        let batch = plan.decode(messages)
        #expect(batch.rows["activity"]?.map(\.key) == [[.int(1)]])
        #expect(batch.rows["activity"]?.first?.values.first == .int(3))
        #expect(batch.bad.map(\.1.reason) == [.malformed, .wrongType, .unknownView])
        #expect(batch.next == [StreamPartition(topic, 0): 9, StreamPartition(topic, 1): 3, StreamPartition("elsewhere", 0): 1],
                "bad messages move their partition on")
        #expect(batch.events.count == 1 && batch.tileEvents.isEmpty)
    }
}
