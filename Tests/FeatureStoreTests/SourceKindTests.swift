import FeatureStoreCore
import Foundation
import TestKinds
import Testing

/// Sources, formats and configuration sections are checked by their kinds, each problem at its place.
@Suite("Source, format and section kinds", .timeLimit(.minutes(3)))
struct SourceKindTests {
    func streamDefinitions(format: String) -> String {
        base.replacingOccurrences(of: "feature_views:", with: """
              - name: stats_stream
                kind: kafka
                topic: stats
                batch_source: stats_source
                timestamp_field: event_timestamp
            \(format)
            feature_views:
            """)
    }

    @Test("the kafka block is checked by the Kafka transport's section, each problem at its place")
    func kafkaSectionProblems() {
        let config = "project: demo\nkafka: {bootstrap_servers: b:9092, offline_roll_interval: soon, offline_roll_size_mb: 0, allowed_lateness: -1m, consumer_grup: g}\n"
        #expect(diagnostics(["defs.yaml": base], config: config) == [
            "feature_store.yaml:2:59: error: 'offline_roll_interval' must be a time span like 30s, 5m or 0 (after every batch), found 'soon'",
            "feature_store.yaml:2:87: error: 'offline_roll_size_mb' must be a whole number of megabytes from 1 to 4096, found '0'",
            "feature_store.yaml:2:108: error: 'allowed_lateness' must be a positive time span like 10m or 1h, found '-1m'",
            "feature_store.yaml:2:113: error: unknown setting 'consumer_grup' for section kind 'kafka'; did you mean 'consumer_group'?; its settings: bootstrap_servers, consumer_group, dead_letter_topic, offline_roll_interval, offline_roll_size_mb, allowed_lateness",
        ])
        #expect(diagnostics(["defs.yaml": base], config: "project: demo\nkafka: {consumer_group: g}\n")
                == ["feature_store.yaml:2:8: error: section kind 'kafka' needs 'bootstrap_servers'"])
        // One id for every instance (the file is shared) would let the broker fence all but one.
        let shared = diagnostics(["defs.yaml": base], config: "project: demo\nkafka: {bootstrap_servers: b:9092, properties: {group.instance.id: a}}\n")
        #expect(shared.count == 1 && shared[0].contains("'group.instance.id' identifies one instance") && shared[0].contains("--instance-id"), "\(shared)")
    }

    @Test("the kafka block's settings become the stream settings every transport shares")
    func kafkaSectionStreamSettings() throws {
        let registry = try DefinitionCompiler.compile(
            config: .init(name: "feature_store.yaml", text: "project: demo\nkafka: {bootstrap_servers: b:9092, allowed_lateness: 10m, offline_roll_interval: 0, properties: {security.protocol: SSL}}\n"),
            definitions: [.init(name: "defs.yaml", text: base)], kinds: testKinds)
        #expect(registry.config.streams.allowedLateness == TimeSpan(seconds: 600))
        #expect(registry.config.streams.offlineRollInterval == TimeSpan(seconds: 0))
        #expect(registry.config.sections["kafka"]?.values["properties.security.protocol"] == "SSL")
    }

    @Test("a stream source's format is checked by its kind: unknown formats, avro settings, the registry URL")
    func formatProblems() {
        #expect(diagnostics(streamDefinitions(format: "    format: protobuf")) == [
            "defs.yaml:16:13: error: unknown message format kind 'protobuf'; kinds in this program: avro, json",
        ])
        #expect(diagnostics(streamDefinitions(format: "    format: {kind: avro, schema_registry: {url: 'ftp://x', timeout: 0s}, subjct: s}")) == [
            "defs.yaml:16:49: error: 'schema_registry.url' must be an http:// or https:// URL, found 'ftp://x'",
            "defs.yaml:16:69: error: 'schema_registry.timeout' must be positive",
            "defs.yaml:16:74: error: unknown setting 'subjct' for message format kind 'avro'; did you mean 'subject'?; its settings: subject, schema_registry.url, schema_registry.basic_auth_user_info_env, schema_registry.basic_auth_user_info_file, schema_registry.timeout",
        ])
        #expect(diagnostics(streamDefinitions(format: "    format: {kind: avro}")) == [
            "defs.yaml:16:13: error: message format kind 'avro' needs 'schema_registry.url'",
        ])
    }

    @Test("a table source rejects the keys of streams, and a source kind's own keys are its settings")
    func tableSourceRules() {
        let withFormat = base.replacingOccurrences(of: "kind: parquet\n", with: "kind: parquet\n    format: json\n    batch_source: x\n")
        #expect(diagnostics(withFormat) == [
            "defs.yaml:9:5: error: 'format' is for stream sources; source 'stats_source' is a parquet source (a table)",
            "defs.yaml:10:5: error: 'batch_source' is for stream sources; source 'stats_source' is a parquet source (a table)",
        ])
        let registry = try? DefinitionCompiler.compile(config: .init(name: "feature_store.yaml", text: "project: demo\n"),
                                                       definitions: [.init(name: "defs.yaml", text: base)], kinds: testKinds)
        #expect(registry?.source(named: "stats_source")?.settings == ["path": "data/stats.parquet"])
    }
}
