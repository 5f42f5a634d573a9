import Columnar
import FeatureStoreCore
import Foundation
import Parquet
import StreamIngestion
import Testing

/// Derived columns of a stream source: computed per event by the ingester with the compiled expression the offline
/// engine evaluates over columns; the offline copy keeps the data they are computed from, not them. (In the stream
/// suite, which runs its mock clusters one at a time.)
extension StreamIngestionTests {
    static let derivedDefinitions = """
        entities:
          - {name: driver, join_keys: [{name: driver_id, type: int64}]}
        sources:
          - {name: activity_batch, kind: parquet, path: data/activity, timestamp_field: ts}
          - name: activity_stream
            kind: kafka
            topic: driver_events
            format: json
            batch_source: activity_batch
            timestamp_field: ts
            field_mapping: {trips: trips_last_hour}
            columns: {minutes: int64}
            derived:
              - {name: trips_per_hour, type: float64, expr: "trips / nullif(minutes, 0) * 60"}
              - {name: busy, type: bool, expr: "trips_per_hour > 2 and is_online"}
              - {name: pickup_hour, type: int32, expr: "hour(ts)"}
        feature_views:
          - name: activity
            entities: [driver]
            source: activity_stream
            ttl: 0
            features:
              - {name: trips_last_hour, type: int32}
              - {name: is_online, type: bool}
              - {name: busy, type: bool}
              - {name: trips_per_hour, type: float64}
              - {name: pickup_hour, type: int32}

        """

    @Test("the ingester computes derived columns per event; the offline copy keeps their inputs; the join computes the same values")
    func derivedOnStream() async throws {
        let f = try StreamFixture(partitions: 1, definitions: Self.derivedDefinitions)
        let events = [
            #"{"driver_id": 1, "trips": 6, "minutes": 60, "is_online": true, "ts": "2025-01-01T08:00:00Z"}"#,
            #"{"driver_id": 2, "trips": 1, "minutes": 0, "is_online": true, "ts": "2025-01-01T09:30:00Z"}"#,
            #"{"driver_id": 3, "trips": 9, "minutes": 45, "is_online": false, "ts": "2025-01-01T23:59:59Z"}"#,
            #"{"driver_id": 4, "trips": 2, "minutes": null, "is_online": true, "ts": "2025-01-01T00:10:00Z"}"#,
        ]
        try f.send(events)
        let ingestor = try StreamIngestor(store: f.store)
        try await f.ingest(ingestor, until: events.count)
        #expect(ingestor.statistics.snapshot.bad.isEmpty, "\(ingestor.statistics.snapshot.bad)")
        let drivers: [Int64] = [1, 2, 3, 4]
        let online = try await f.lookup(drivers)
        let byName = Dictionary(online.columns.map { ($0.name, $0.values) }, uniquingKeysWith: { a, _ in a })
        #expect(byName["trips_per_hour"] == [.double(6), .null, .double(12), .null])
        #expect(byName["busy"] == [.bool(true), .null, .bool(false), .null])
        #expect(byName["pickup_hour"] == [.int(8), .int(9), .int(23), .int(0)])

        let dataset = try ParquetDataset(path: f.dir.appendingPathComponent("data/activity").path)
        let columns = dataset.files[0].schema.fields.map(\.name)
        #expect(columns == ["driver_id", "ts", "trips_last_hour", "is_online", "trips", "minutes"],
                "the data derived columns read is kept, the derived columns are not")

        let entities = try Table([("driver_id", Column(int64: drivers)),
                                  ("event_timestamp", Column(timestamps: drivers.map { _ in isoMicros("2025-01-02T00:00:00Z")! }))])
        let joined = try await f.store.joinFeatures(entities: .table(entities), features: .references([FeatureReference(view: "activity")]))
        for column in online.columns {
            let offline = try #require(joined.column(named: column.name))
            let values = (0..<drivers.count).map { offline.onlineValue(at: $0, as: column.type) }
            #expect(values == column.values, "\(column.name): training = serving")
        }
    }
}
