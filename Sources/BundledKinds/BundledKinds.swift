public import FeatureStoreCore
import AvroMessageFormat
import JSONMessageFormat
import KafkaTransport
import LocalOfflineEngine
import RedisOnlineStore
import SQLiteOnlineStore

extension Kinds {
    /// Every kind this package has: the SQLite and Redis online stores, the local offline engine with the Parquet
    /// source, the Kafka transport with its `kafka` section, and the JSON and Avro payload formats. What featurectl
    /// and FeatureServer link.
    public static let bundled: Kinds = .sqlite + .redis + .local + .kafka + .json + .avro
}
