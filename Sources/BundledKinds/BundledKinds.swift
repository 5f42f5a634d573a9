public import FeatureStoreCore
import AvroMessageFormat
import JSONMessageFormat
import KafkaTransport
import LocalOfflineEngine
import RedisOnlineStore
import SQLiteOnlineStore
import SparkOfflineEngine
import ServingSettings

extension Kinds {
    /// Every kind this package has: the SQLite and Redis online stores, the local and Spark offline engines with the
    /// Parquet source, the Kafka transport with its `kafka` section, the JSON and Avro payload formats, and the serving's
    /// `auth` section. What featurectl and FeatureServer link.
    public static let bundled: Kinds = .sqlite + .redis + .local + .spark + .kafka + .json + .avro + .serving
}
