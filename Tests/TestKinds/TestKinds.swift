import AvroMessageFormat
import JSONMessageFormat
import KafkaTransport
import LocalOfflineEngine
import RedisOnlineStore
import SQLiteOnlineStore

/// Every kind the tests use (stores, engines, sources, formats, sections), registered once before any repository is
/// opened: reference it in fixtures and in tests that open repositories themselves. One list for every test target.
public let registeredKinds: Void = {
    SQLiteOnlineStoreKind.register()
    RedisOnlineStoreKind.register()
    LocalOfflineEngineKind.register()
    KafkaSourceKind.register()
    JSONMessageFormat.register()
    AvroMessageFormat.register()
}()
