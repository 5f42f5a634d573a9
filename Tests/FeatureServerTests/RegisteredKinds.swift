import JSONMessageFormat
import KafkaTransport
import LocalOfflineEngine
import SQLiteOnlineStore

/// The store and engine kinds these tests use, registered once before any repository is opened (reference it in
/// fixtures and in tests that open repositories themselves).
let registeredKinds: Void = {
    SQLiteOnlineStoreKind.register()
    LocalOfflineEngineKind.register()
    KafkaSourceKind.register()
    JSONMessageFormat.register()
}()
