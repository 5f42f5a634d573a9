public import CoreMetrics
public import Prometheus
import Synchronization

/// The server's metrics, recorded through swift-metrics with the factory given (Prometheus in the server).
///
/// - `featurestore_requests_total{method,protocol,code}`: calls by outcome.
/// - `featurestore_request_errors_total{method,protocol,code}`: failed calls by code.
/// - `featurestore_request_duration_seconds{method,protocol}`: latency histogram per method.
/// - `featurestore_online_store_read_duration_seconds`: time in the online store per lookup.
/// - `featurestore_entity_rows_total{method}`: entity rows looked up or pushed.
/// - `featurestore_requests_in_flight`: calls being handled now.
public final class ServingMetrics: Sendable {
    /// The calls the server answers, by their gRPC method name.
    public enum Method: String, Sendable, CaseIterable {
        case getOnlineFeatures = "GetOnlineFeatures"
        /// One lookup of a `LookupStream` (each is measured as a call).
        case lookupStream = "LookupStream"
        case pushFeatures = "PushFeatures"
        case listFeatureViews = "ListFeatureViews"
        case getFeatureView = "GetFeatureView"
        case listFeatureServices = "ListFeatureServices"
    }

    /// Which face of the server carried a call.
    public enum Transport: String, Sendable, CaseIterable {
        case grpc, http
    }

    private struct Key: Hashable {
        var method: Method
        var transport: Transport
    }

    private struct CodeKey: Hashable {
        var method: Method
        var transport: Transport
        var code: ServingError.Code
    }

    private let factory: any MetricsFactory
    private let durations: [Key: CoreMetrics.Timer]
    private let rows: [Method: CoreMetrics.Counter]
    private let storeRead: CoreMetrics.Timer
    private let inFlight: CoreMetrics.Meter
    private let readiness: CoreMetrics.Gauge
    private let inFlightCount = Atomic<Int>(0)
    /// Counters by outcome, made on first use (most method/code pairs never happen).
    private let outcomes = Mutex<[CodeKey: CoreMetrics.Counter]>([:])
    private let errors = Mutex<[CodeKey: CoreMetrics.Counter]>([:])

    /// Metrics recorded through `factory` (in the server, one from ``prometheusFactory(registry:)``).
    public init(factory: any MetricsFactory) {
        self.factory = factory
        var durations: [Key: CoreMetrics.Timer] = [:]
        for method in Method.allCases {
            for transport in Transport.allCases {
                durations[Key(method: method, transport: transport)] = CoreMetrics.Timer(
                    label: "featurestore_request_duration_seconds",
                    dimensions: [("method", method.rawValue), ("protocol", transport.rawValue)], factory: factory)
            }
        }
        self.durations = durations
        rows = Dictionary(uniqueKeysWithValues: [Method.getOnlineFeatures, .pushFeatures].map {
            ($0, CoreMetrics.Counter(label: "featurestore_entity_rows_total", dimensions: [("method", $0.rawValue)], factory: factory))
        })
        storeRead = CoreMetrics.Timer(label: "featurestore_online_store_read_duration_seconds", factory: factory)
        inFlight = CoreMetrics.Meter(label: "featurestore_requests_in_flight", factory: factory)
        readiness = CoreMetrics.Gauge(label: "featurestore_ready", factory: factory)
    }

    /// Records whether the server is ready (`featurestore_ready`: 1 or 0), as `/readyz` says.
    public func ready(_ ready: Bool) {
        readiness.record(ready ? 1 : 0)
    }

    /// Metrics that go nowhere (library use without a server).
    public static func discarding() -> ServingMetrics { ServingMetrics(factory: NOOPMetricsHandler.instance) }

    /// A Prometheus factory with latency buckets suited to a low-latency server (25 µs to 2.5 s).
    public static func prometheusFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
            .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .milliseconds(2500),
        ]
        return factory
    }

    func started() {
        inFlight.set(Int64(inFlightCount.add(1, ordering: .relaxed).newValue))
    }

    func finished(_ method: Method, _ transport: Transport, code: ServingError.Code, nanoseconds: Int64) {
        inFlight.set(Int64(inFlightCount.subtract(1, ordering: .relaxed).newValue))
        durations[Key(method: method, transport: transport)]?.recordNanoseconds(nanoseconds)
        let key = CodeKey(method: method, transport: transport, code: code)
        counter(key, in: outcomes, label: "featurestore_requests_total").increment()
        if code != .ok { counter(key, in: errors, label: "featurestore_request_errors_total").increment() }
    }

    func entityRows(_ method: Method, _ count: Int) {
        rows[method]?.increment(by: count)
    }

    func storeRead(nanoseconds: Int64) {
        storeRead.recordNanoseconds(nanoseconds)
    }

    private func counter(_ key: CodeKey, in table: borrowing Mutex<[CodeKey: CoreMetrics.Counter]>, label: String) -> CoreMetrics.Counter {
        table.withLock { counters in
            if let existing = counters[key] { return existing }
            let made = CoreMetrics.Counter(label: label, dimensions: [
                ("method", key.method.rawValue), ("protocol", key.transport.rawValue), ("code", key.code.rawValue),
            ], factory: factory)
            counters[key] = made
            return made
        }
    }
}
