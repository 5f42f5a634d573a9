import SQLiteOnlineStore

/// The store kinds these tests use, registered once before any repository is opened (reference it in fixtures).
let registeredKinds: Void = SQLiteOnlineStoreKind.register()
