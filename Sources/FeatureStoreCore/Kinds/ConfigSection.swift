/// A top-level block of `feature_store.yaml` that belongs to a target outside the core (`kafka` to the Kafka
/// transport): the compiler accepts the key once a program's ``Kinds`` has its section, and hands the block to it as
/// settings (nested mappings as dotted keys) to check, like a store kind's.
public protocol ConfigSectionKind: Sendable {
    /// The top-level key (`kafka`).
    var name: String { get }

    /// Reads and checks the block; report each problem with ``StoreSettings/problem(_:_:)``.
    func validate(_ settings: inout StoreSettings)

    /// Checks the block's references to definitions, once every file is read: `featureViews` holds every feature view
    /// declared (valid or not, so a broken view is not reported twice). Report problems with
    /// ``StoreSettings/problem(_:_:)``. Called only for blocks that ``validate(_:)`` read.
    func checkReferences(_ settings: inout StoreSettings, featureViews: Set<String>)

    /// How streams and backfills share work, when the block says (a stream transport's block carries
    /// `allowed_lateness` and the offline copy's roll settings); nil: not this block's business.
    func streamSettings(_ settings: StoreSettings) -> StreamSettings?
}

extension ConfigSectionKind {
    /// Nothing: by default a section names no definitions; see ``ConfigSectionKind/checkReferences(_:featureViews:)``.
    public func checkReferences(_ settings: inout StoreSettings, featureViews: Set<String>) {}

    /// Nil: by default a section leaves the stream settings alone; see ``ConfigSectionKind/streamSettings(_:)``.
    public func streamSettings(_ settings: StoreSettings) -> StreamSettings? { nil }
}

/// How the stream and the backfill share the work of aggregated views, and how often the stream's offline copy is
/// written: what materialization (the cuts between backfill and stream) and the ingester both read.
public struct StreamSettings: Sendable, Hashable, Codable {
    /// How old an event may be, by the ingester's clock when it reads it, and still update the tiles of aggregated
    /// views: older events are counted as late and left to the next backfill (they are in the offline copy).
    public var allowedLateness: TimeSpan
    /// The offline copy of the stream: a file is closed (and its events' offsets committed) at least this often
    /// (0: after every batch).
    public var offlineRollInterval: TimeSpan
    /// ... or once this many bytes of events are buffered.
    public var offlineRollBytes: Int

    /// Settings with the defaults: 1 hour of lateness, a file every 60 s or 64 MB.
    public init(allowedLateness: TimeSpan = TimeSpan(seconds: 3600), offlineRollInterval: TimeSpan = TimeSpan(seconds: 60),
                offlineRollBytes: Int = 64 << 20) {
        self.allowedLateness = allowedLateness
        self.offlineRollInterval = offlineRollInterval
        self.offlineRollBytes = offlineRollBytes
    }
}
