import BundledKinds
import ArgumentParser
import Columnar
import FeatureServing
import FeatureStoreCore
import KafkaTransport
import Foundation
import ServingSettings

import Logging
import Metrics
import Prometheus
import ServeOptions
import ServiceLifecycle
import Synchronization
import StreamIngestion
import UnixSignals

/// The serving process: gRPC and HTTP/JSON lookups and pushes over the repository's online store.
@main
struct FeatureServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "FeatureServer",
        abstract: "Serve a feature repository's online features over gRPC and HTTP/JSON.",
        discussion: """
            gRPC: featurestore.v1.FeatureServing and grpc.health.v1.Health. HTTP: POST /v1/online-features, \
            POST /v1/push, GET /healthz (alive), GET /readyz (ready, with the reason), GET /metrics (Prometheus). The feature catalog (pages for browsers and \
            /api/v1/catalog) on its own port, 8888 by default: browsers refuse to open 6566. Bearer tokens are required when feature_store.yaml \
            has an 'auth' section. Stops gracefully on SIGTERM or SIGINT: health turns NOT_SERVING and no new calls are taken.
            """)

    @OptionGroup var options: ServeOptions

    func run() async throws {
        MemoryPolicy.retainFreedMemory()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "featurestore.server")
        let url = URL(fileURLWithPath: options.repo)
        let repository: ServedRepository
        let access: AccessPolicy
        let tls: ServerTLS?
        do {
            repository = try ServedRepository(url: url, kinds: .bundled, logger: logger)
            access = try AccessPolicy(config: repository.store.config.auth, repository: url)
            tls = try Self.tls(options, config: repository.store.config, repository: url, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if access.isEnabled {
            logger.info("bearer tokens required", metadata: ["tokens": "\(repository.store.config.auth?.tokens.map(\.name) ?? [])"])
        }
        let registry = PrometheusCollectorRegistry()
        let factory = ServingMetrics.prometheusFactory(registry: registry)
        MetricsSystem.bootstrap(factory)
        // Feature logging of services with `logging:` (file names carry the instance, so servers sharing a folder never collide).
        let featureLog = FeatureLogger(instance: options.instanceId.map { $0.filter { $0.isLetter || $0.isNumber || $0 == "-" } }
                                           ?? "\(ProcessInfo.processInfo.processIdentifier)",
                                       logger: logger, metrics: factory)
        let skewWatch = SkewWatch(logger: logger, metrics: factory)
        let core = ServingCore(repository: repository, limits: ServingLimits(maxBatch: options.maxBatch), access: access,
                               metrics: ServingMetrics(factory: factory), featureLog: featureLog, skewWatch: skewWatch)
        var ingestion: IngestionSupervisor? = nil
        let streams = repository.store.registry.sources.filter(\.isStream)
        if options.ingest {
            // Ingestion follows the server's reloads: after `apply` a first stream view starts it, the last removed
            // stops it, a changed transport block restarts it, and views in between are taken up by the ingester.
            let instanceID = options.instanceId
            let definitions: @Sendable () -> (version: Int, store: FeatureStore) = { [repository] in
                let snapshot = repository.snapshot
                return (snapshot.version, snapshot.store)
            }
            let make: IngestionSupervisor.Factory = { store throws(IngestionError) in
                try StreamIngestor(store: store, instanceID: instanceID, metrics: factory, definitions: definitions, logger: logger)
            }
            let first: StreamIngestor?
            do {
                first = try IngestionSupervisor.firstIngestor(store: repository.store, make: make)
            } catch {
                FileHandle.standardError.write(Data("error: stream ingestion: \(error)\n".utf8))
                throw ExitCode(1)
            }
            if first == nil, !streams.isEmpty {
                logger.info("no online view reads a stream whose transport feature_store.yaml configures (e.g. a kafka section): ingestion starts when one is applied")
            }
            // Readiness waits for the first join of the consumer group at start-up (a new instance takes traffic
            // once its stream is live), for at most 30 s: Kafka being down, a session lost or a restart after an
            // apply never takes a serving instance out of rotation.
            let health = core.health, readiness = StreamReadiness(health: health, logger: logger)
            readiness.start(waitingAtMost: .seconds(30))
            ingestion = IngestionSupervisor(definitions: definitions, logger: logger, membership: { member in
                readiness.heard(member)
            }, initial: first, make: make)
        } else if !streams.isEmpty {
            logger.info("stream sources are not ingested here", metadata: ["reason": "--no-ingest"])
        }
        var services: [any Service] = [
            // First, so it stops last: the store outlives the servers in front of it.
            OnlineStoreService(repository: repository, health: core.health, logger: logger),
            // Then the feature log: it writes what is queued once the servers in front of it have stopped.
            featureLog,
            try GRPCFeatureServer(core: core, host: options.host, port: options.grpcPort, tls: tls, logger: logger),
            HTTPFeatureServer(core: core, host: options.host, port: options.httpPort, metricsRegistry: registry, tls: tls, logger: logger),
            RepositoryReloader(repository: repository),
            DriftGauges(repository: repository, factory: factory),
            skewWatch,
        ]
        if let tls {
            services.append(tls.reloadService)
            logger.info("TLS on every face", metadata: ["certificate": "\(tls.settings.certificate)", "client_certificates": "\(tls.requiresClientCertificates ? "required" : "not asked")"])
        }
        if options.catalog {
            services.append(CatalogServer(core: core, host: options.host, port: options.catalogPort,
                                          streamStatus: ingestion.map(Self.streamStatus), tls: tls, logger: logger))
        }
        if let ingestion { services.append(ingestion) }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }

    /// TLS from the flags (which replace the section) or `feature_store.yaml`'s `tls` section; nil: plaintext.
    static func tls(_ options: ServeOptions, config: RepositoryConfig, repository: URL, logger: Logger) throws -> ServerTLS? {
        var settings = config.tls
        if let certificate = options.tlsCertificate, let key = options.tlsKey {
            let cwd = FileManager.default.currentDirectoryPath
            func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : cwd + "/" + path }
            // The flags replace the certificate and key; a client CA comes from its flag or, without one, from the
            // section (a flag never turns mutual TLS off).
            let clientCA = options.tlsClientCa.map(absolute) ?? settings?.resolved(against: repository).clientCA
            var fromFlags: Set<String> = ["certificate", "key"]
            if options.tlsClientCa != nil { fromFlags.insert("client_ca") }
            settings = TLSSettings(certificate: absolute(certificate), key: absolute(key), clientCA: clientCA,
                                   reloadInterval: settings?.reloadInterval ?? .seconds(10),
                                   locations: settings?.locations.filter { !fromFlags.contains($0.key) } ?? [:])
            settings?.fromFlags = fromFlags
        }
        guard let settings else { return nil }
        return try ServerTLS(settings: settings, repository: repository, logger: logger)
    }

    /// The catalog's view of the ingestion running in this server.
    static func streamStatus(_ supervisor: IngestionSupervisor) -> StreamStatusProvider {
        { [supervisor] view in
            guard let ingestor = supervisor.ingestor, let topic = ingestor.topicOfView[view] else { return nil }
            let s = ingestor.statistics.snapshot
            let samples = (s.freshness[view] ?? []).sorted()
            func percentile(_ p: Double) -> Double? {
                samples.isEmpty ? nil : Double(samples[min(samples.count - 1, Int(Double(samples.count) * p))]) / 1000
            }
            var lag: [Int32: Int64] = [:]
            for (tp, value) in s.lag where tp.topic == topic { lag[tp.partition] = value }
            var violations: [String: Int] = [:]
            for (key, n) in s.violations where key.hasPrefix(view + ".") { violations[String(key.dropFirst(view.count + 1))] = n }
            return StreamViewStatus(topic: topic, newestEvent: s.newestEvent[view], freshnessP50Millis: percentile(0.5),
                                    freshnessP99Millis: percentile(0.99), lag: lag, violations: violations)
        }
    }
}

/// Readiness as the stream sees it: NOT_SERVING from start-up until the consumer first joins its group (or until a
/// wait has passed, or no ingestion runs), then never again for the stream.
final class StreamReadiness: Sendable {
    private let health: ServingHealth
    private let logger: Logger
    private let settled = Mutex(false)

    init(health: ServingHealth, logger: Logger) {
        self.health = health
        self.logger = logger
    }

    /// Marks the server not ready until the first join, for at most `wait`.
    func start(waitingAtMost wait: Duration) {
        health.update(stream: "the consumer has not joined its group yet")
        Task { [self] in
            try? await Task.sleep(for: wait)
            if settle() { logger.warning("the stream consumer has not joined its group; ready anyway: lookups do not wait for the stream", metadata: ["waited": "\(wait)"]) }
        }
    }

    /// What the ingestion says: joined (true), not joined (false), or no ingestion (nil).
    func heard(_ member: Bool?) {
        if member != false { _ = settle() }
    }

    /// Clears the stream's problem for good; whether this call did.
    private func settle() -> Bool {
        let first = settled.withLock { done in
            defer { done = true }
            return !done
        }
        if first { health.update(stream: nil) }
        return first
    }
}
