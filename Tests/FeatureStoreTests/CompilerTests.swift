import Foundation
import ServingSettings
import Testing
@testable import FeatureStoreCore
import TestKinds

/// Compiles in-memory files and returns the rendered diagnostics (empty when the repository compiles).
func diagnostics(_ files: [String: String], config: String = "project: demo\n") -> [String] {
    let defs = files.sorted { $0.key < $1.key }.map { DefinitionCompiler.File(name: $0.key, text: $0.value) }
    do {
        _ = try DefinitionCompiler.compile(config: .init(name: "feature_store.yaml", text: config), definitions: defs, kinds: testKinds)
        return []
    } catch {
        return error.diagnostics.map(\.description)
    }
}

func diagnostics(_ text: String, file: String = "defs.yaml") -> [String] {
    diagnostics([file: text])
}

/// A valid base: one entity, one source, one view, one service.
let base = """
    entities:
      - name: driver
        join_keys:
          - name: driver_id
            type: int64
    sources:
      - name: stats_source
        kind: parquet
        path: data/stats.parquet
        timestamp_field: event_timestamp
    feature_views:
      - name: stats
        entities: [driver]
        source: stats_source
        ttl: 2h
        features:
          - name: conv_rate
            type: float32
    feature_services:
      - name: ranking
        features: [stats]

    """

@Suite("Definition compiler", .timeLimit(.minutes(5)))
struct CompilerTests {
    @Test("a valid repository compiles into a registry with resolved references")
    func validRepositoryCompiles() throws {
        let registry = try DefinitionCompiler.compile(
            config: .init(name: "feature_store.yaml", text: "project: demo\n"),
            definitions: [.init(name: "defs.yaml", text: base)], kinds: testKinds)
        #expect(registry.config.project == "demo")
        #expect(registry.config.onlineStore == OnlineStoreConfig(kind: "sqlite"), "the default online store: sqlite with its default settings")
        let view = try #require(registry.featureView(named: "stats"))
        #expect(view.ttl == TimeSpan(seconds: 7200))
        #expect(view.online)
        #expect(registry.joinKeys(of: view) == [JoinKey(name: "driver_id", type: .int64)])
        #expect(view.location == SourceLocation(file: "defs.yaml", line: 12, column: 11))
    }

    @Test("the example repository in features/ compiles")
    func exampleRepositoryCompiles() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let registry = try DefinitionCompiler.compile(repository: root.appendingPathComponent("features"), kinds: testKinds)
        #expect(registry.config.project == "ride_hailing")
        #expect(registry.featureViews.count == 5)
        #expect(registry.featureServices.map(\.name) == ["driver_ranking_v1", "trip_eta_v1"])
        #expect(registry.joinKeys(of: registry.featureView(named: "route_stats")!).map(\.name) == ["origin_zone", "destination_zone"])
        #expect(registry.batchSource(of: registry.featureView(named: "driver_activity")!)?.name == "driver_activity_source")
    }

    @Test("invalid YAML is reported at its line and column")
    func yamlSyntaxError() {
        #expect(diagnostics("entities:\n  - name: driver\n   join_keys: [\n") == [
            "defs.yaml:3:4: error: invalid YAML: while parsing a block collection: did not find expected '-' indicator",
        ])
    }

    @Test("an unknown top-level key is reported with the closest valid key")
    func unknownTopLevelKey() {
        #expect(diagnostics("feature_view:\n  - name: x\n") == [
            "defs.yaml:1:1: error: unknown key 'feature_view' in a definition file; did you mean 'feature_views'?; allowed keys: entities, sources, feature_views, on_demand_views, feature_services",
        ])
    }

    @Test("an unknown key in an object is reported with the closest valid key")
    func unknownObjectKey() {
        let text = base.replacingOccurrences(of: "    ttl: 2h\n", with: "    tll: 2h\n")
        #expect(diagnostics(text) == [
            "defs.yaml:15:5: error: unknown key 'tll' in feature view 'stats'; did you mean 'ttl'?; allowed keys: name, entities, source, ttl, features, aggregations, online, description, owner, tags, expectations",
        ])
    }

    @Test("a missing required key is reported at the object, and references to the broken object are not reported again")
    func missingRequiredKey() {
        let text = base.replacingOccurrences(of: "    timestamp_field: event_timestamp\n", with: "")
        #expect(diagnostics(text) == [
            "defs.yaml:7:5: error: source 'stats_source' is missing required key 'timestamp_field'",
        ])
    }

    @Test("a value of the wrong YAML type is reported with what was expected")
    func wrongValueType() {
        let text = base.replacingOccurrences(of: "    ttl: 2h\n", with: "    ttl: 2h\n    online: maybe\n")
        #expect(diagnostics(text) == ["defs.yaml:16:13: error: 'online' of feature view 'stats' must be true or false, found 'maybe'"])
        let list = base.replacingOccurrences(of: "source: stats_source\n    ttl", with: "source: [stats_source]\n    ttl")
        #expect(diagnostics(list) == ["defs.yaml:14:13: error: 'source' of feature view 'stats' must be a single value, found a list"])
    }

    @Test("a name that is not an identifier is rejected")
    func nameNotIdentifier() {
        let text = base.replacingOccurrences(of: "  - name: stats\n", with: "  - name: driver-stats\n")
        #expect(diagnostics(text) == [
            "defs.yaml:12:11: error: feature view name 'driver-stats' is not an identifier: use letters, digits and '_', not starting with a digit",
            "defs.yaml:21:16: error: unknown feature view 'stats' in feature service 'ranking'",
        ])
    }

    @Test("a duplicate name across files points at both definitions")
    func duplicateNameAcrossFiles() {
        let other = "entities:\n  - name: driver\n    join_keys:\n      - {name: id, type: string}\n"
        #expect(diagnostics(["a.yaml": base, "b.yaml": other]) == [
            "b.yaml:2:11: error: duplicate entity 'driver': already defined at a.yaml:2:11",
        ])
    }

    @Test("a misspelled entity reference names the file, line and the closest entity")
    func unknownEntityReference() {
        let text = base.replacingOccurrences(of: "entities: [driver]", with: "entities: [drivr]")
        #expect(diagnostics(text) == ["defs.yaml:13:16: error: unknown entity 'drivr' in feature view 'stats'; did you mean 'driver'?"])
    }

    @Test("a misspelled source reference names the closest source")
    func unknownSourceReference() {
        let text = base.replacingOccurrences(of: "source: stats_source", with: "source: stats_sauce")
        #expect(diagnostics(text) == ["defs.yaml:14:13: error: unknown source 'stats_sauce' in feature view 'stats'; did you mean 'stats_source'?"])
    }

    @Test("a kafka source needs an existing parquet batch source")
    func kafkaBatchSource() {
        let stream = """
            sources:
              - name: stream
                kind: kafka
                topic: events
                timestamp_field: ts
                batch_source: stats_sorce
              - name: stream2
                kind: kafka
                topic: events
                timestamp_field: ts
                batch_source: stream

            """
        #expect(diagnostics(["a.yaml": base, "b.yaml": stream]) == [
            "b.yaml:6:19: error: unknown batch source 'stats_sorce' in source 'stream'; did you mean 'stats_source'?",
            "b.yaml:11:19: error: batch source 'stream' of source 'stream2' is a kafka source (a stream); it must be a table source such as parquet",
        ])
    }

    @Test("a service referencing an unknown view or feature names the closest one")
    func unknownServiceReferences() {
        let text = base.replacingOccurrences(of: "features: [stats]", with: "features: [stat, 'stats:conv_rat']")
        #expect(diagnostics(text) == [
            "defs.yaml:21:16: error: unknown feature view 'stat' in feature service 'ranking'; did you mean 'stats'?",
            "defs.yaml:21:22: error: feature view 'stats' has no feature 'conv_rat'; did you mean 'conv_rate'?; it has: conv_rate",
        ])
    }

    @Test("a malformed feature reference says how to write one")
    func malformedReference() {
        let text = base.replacingOccurrences(of: "features: [stats]", with: "features: ['stats:a:b']")
        #expect(diagnostics(text) == [
            "defs.yaml:21:16: error: bad feature reference 'stats:a:b': write 'view' for all its features or 'view:feature' for one",
        ])
    }

    @Test("a bad duration says how to write one")
    func badDuration() {
        let text = base.replacingOccurrences(of: "ttl: 2h", with: "ttl: 2 hours")
        #expect(diagnostics(text) == [
            "defs.yaml:15:10: error: bad duration '2 hours' for 'ttl': write a number and a unit, like 90s, 15m, 2h, 7d, 1w or 1d12h; 0 means no limit",
        ])
    }

    @Test("an unknown feature type names the closest type")
    func unknownFeatureType() {
        let text = base.replacingOccurrences(of: "type: float32", with: "type: flaot32")
        #expect(diagnostics(text) == [
            "defs.yaml:18:15: error: unknown type 'flaot32' for feature 'conv_rate'; did you mean 'float32'?; use one of: bool, int32, int64, float32, float64, string, bytes, timestamp, or list<TYPE>",
        ])
    }

    @Test("a join key type that cannot be a key is rejected")
    func joinKeyTypeNotAllowed() {
        let text = base.replacingOccurrences(of: "type: int64", with: "type: float64")
        #expect(diagnostics(text).first == "defs.yaml:5:15: error: join key 'driver_id' has type 'float64', which cannot be a join key; use one of: int32, int64, string, bytes")
    }

    @Test("duplicate features and features named like a join key are rejected")
    func duplicateAndShadowingFeatures() {
        let text = base.replacingOccurrences(
            of: "      - name: conv_rate\n        type: float32\n",
            with: "      - name: conv_rate\n        type: float32\n      - name: conv_rate\n        type: float64\n      - name: driver_id\n        type: int64\n")
        #expect(diagnostics(text) == [
            "defs.yaml:19:15: error: duplicate feature 'conv_rate' in feature view 'stats'",
            "defs.yaml:21:15: error: feature 'driver_id' of feature view 'stats' has the name of a join key of entity 'driver'",
        ])
    }

    @Test("an unknown source kind and keys of the other kind are rejected")
    func sourceKindRules() {
        let text = base.replacingOccurrences(of: "kind: parquet", with: "kind: parquett")
        #expect(diagnostics(text).first == "defs.yaml:8:11: error: unknown source kind 'parquett'; did you mean 'parquet'?; kinds in this program: kafka, parquet")
        let mixed = base.replacingOccurrences(of: "kind: parquet\n", with: "kind: parquet\n    topic: events\n")
        #expect(diagnostics(mixed) == ["defs.yaml:9:5: error: unknown setting 'topic' for source kind 'parquet'; its settings: path"])
    }

    @Test("a duplicate key in one mapping is reported")
    func duplicateMappingKey() {
        let text = base.replacingOccurrences(of: "    ttl: 2h\n", with: "    ttl: 2h\n    ttl: 3h\n")
        #expect(diagnostics(text) == ["defs.yaml:15:5: error: invalid YAML: duplicate key 'ttl' in one mapping: give each key once"])
    }

    @Test("feature_store.yaml is validated: project, online store kind, unknown keys")
    func configRules() {
        #expect(diagnostics(["defs.yaml": base], config: "projct: demo\n") == [
            "feature_store.yaml:1:1: error: unknown key 'projct' in the repository settings; did you mean 'project'?; allowed keys: project, offline_store, online_store, registry, auth, kafka, tls",
            "feature_store.yaml:1:1: error: the repository settings is missing required key 'project'",
        ])
        // The kinds listed are exactly those the compile was given.
        let unknown = diagnostics(["defs.yaml": base], config: "project: demo\nonline_store:\n  kind: cassandra\n")
        #expect(unknown == ["feature_store.yaml:3:9: error: unknown online store kind 'cassandra'; kinds in this program: memory, redis, sqlite"], "\(unknown)")
        #expect(diagnostics(["defs.yaml": base], config: "project: my-project\n") == [
            "feature_store.yaml:1:10: error: project name 'my-project' is not an identifier: use letters, digits and '_', not starting with a digit",
        ])
    }

    @Test("the online store's block is checked by its kind, at the line of each setting")
    func onlineStoreSettingsCheckedByKind() throws {
        #expect(diagnostics(["defs.yaml": base], config: "project: demo\nonline_store:\n  kind: sqlite\n  pth: x.db\n  readers: 100\n") == [
            "feature_store.yaml:4:3: error: unknown setting 'pth' for online store kind 'sqlite'; did you mean 'path'?; its settings: path, readers",
            "feature_store.yaml:5:12: error: 'readers' must be a whole number from 1 to 64, found '100'",
        ])
        let typo = diagnostics(["defs.yaml": base], config: "project: demo\nonline_store: {kind: sqlit}\n")
        #expect(typo.count == 1 && typo[0].hasPrefix("feature_store.yaml:2:22: error: unknown online store kind 'sqlit'; did you mean 'sqlite'?; kinds in this program: "), "\(typo)")
        let registry = try DefinitionCompiler.compile(
            config: .init(name: "feature_store.yaml", text: "project: demo\nonline_store: {kind: sqlite, path: /tmp/x.db, readers: 8}\n"),
            definitions: [.init(name: "defs.yaml", text: base)], kinds: testKinds)
        #expect(registry.config.onlineStore == OnlineStoreConfig(kind: "sqlite", values: ["path": "/tmp/x.db", "readers": "8"]))
    }

    @Test("settings applied before store kinds existed ({kind, path}) still decode")
    func oldOnlineStoreSettingsDecode() throws {
        let config = try JSONDecoder().decode(RepositoryConfig.self, from: Data(#"{"project": "p", "offlineStorePath": "data", "registryPath": "r.db", "onlineStore": {"kind": "sqlite", "path": "data/online.db"}}"#.utf8))
        #expect(config.onlineStore == OnlineStoreConfig(kind: "sqlite", values: ["path": "data/online.db"]))
        let again = try JSONDecoder().decode(RepositoryConfig.self, from: JSONEncoder().encode(config))
        #expect(again == config)
    }

    @Test("auth tokens compile with their scopes and secret sources; secrets are never read from the YAML")
    func authConfigCompiles() throws {
        let config = """
            project: demo
            auth:
              catalog: public
              tokens:
                - {name: model, scopes: ["read:*"], env: MODEL_TOKEN}
                - {name: writer, scopes: ["write:stats", "read:stats"], file: secrets/writer.token}

            """
        let registry = try DefinitionCompiler.compile(config: .init(name: "feature_store.yaml", text: config),
                                                      definitions: [.init(name: "defs.yaml", text: base)], kinds: testKinds)
        let auth = try #require(registry.config.auth)
        #expect(auth.catalog == .public)
        #expect(auth.tokens.map(\.name) == ["model", "writer"])
        #expect(auth.tokens[0].scopes == [AccessScope(.read, view: nil)] && auth.tokens[0].secret == .environment("MODEL_TOKEN"))
        #expect(auth.tokens[1].scopes.map(\.description) == ["write:stats", "read:stats"] && auth.tokens[1].secret == .file("secrets/writer.token"))
    }

    @Test("tls compiles with its paths and reload interval; mistakes are reported where they are")
    func tlsConfigRules() throws {
        let good = "project: demo\ntls:\n  certificate: certs/server.pem\n  key: certs/server.key\n  client_ca: certs/ca.pem\n  reload_interval: 30s\n"
        let registry = try DefinitionCompiler.compile(config: .init(name: "feature_store.yaml", text: good),
                                                      definitions: [.init(name: "defs.yaml", text: base)], kinds: testKinds)
        let tls = try #require(registry.config.tls)
        #expect(tls.certificate == "certs/server.pem" && tls.key == "certs/server.key" && tls.clientCA == "certs/ca.pem")
        #expect(tls.reloadInterval == .seconds(30))
        #expect(tls.located("key", "x") == "feature_store.yaml:4:8: tls.key: x")
        let bad = """
            project: demo
            tls:
              certificate: certs/server.pem
              client_ca: ""
              reload_interval: 500ms
              reload: 1s

            """
        #expect(diagnostics(["defs.yaml": base], config: bad) == [
            "feature_store.yaml:3:3: error: 'tls' is missing required key 'key' (the path of a PEM file)",
            "feature_store.yaml:4:14: error: 'client_ca' in 'tls' is empty; give the path of a PEM file, or remove it to accept clients without certificates",
            "feature_store.yaml:5:20: error: 'reload_interval' must be a duration like 10s or 5m, found '500ms'",
            "feature_store.yaml:6:3: error: unknown key 'reload' in 'tls'; allowed keys: certificate, key, client_ca, reload_interval",
        ])
    }

    @Test("auth mistakes are reported where they are: bad scopes, unknown views, secret sources, catalog access")
    func authConfigRules() {
        let config = """
            project: demo
            auth:
              catalog: everyone
              tokens:
                - {name: a, scopes: ["read"], env: A}
                - {name: b, scopes: ["write:stat"], env: B}
                - {name: c, scopes: ["read:*"], env: C, file: c.token}
                - {name: d, scopes: ["read:*"], token: hunter2}
                - {name: a, scopes: ["read:*"], env: E}

            """
        #expect(diagnostics(["defs.yaml": base], config: config) == [
            "feature_store.yaml:3:12: error: unknown catalog access 'everyone'; use public (no token) or read (a token with a read scope)",
            "feature_store.yaml:5:26: error: scope 'read' of token 'a' is not read:<view or *> or write:<view or *>",
            "feature_store.yaml:6:26: error: unknown feature view 'stat' in an auth scope; did you mean 'stats'?",
            "feature_store.yaml:7:51: error: token 'c' has both 'env' and 'file'; give one",
            "feature_store.yaml:8:14: error: token 'd' needs 'env' (an environment variable) or 'file' (a file) holding its secret; secrets are never written in the YAML",
            "feature_store.yaml:8:37: error: unknown key 'token' in a token of 'auth'; allowed keys: name, scopes, env, file",
            "feature_store.yaml:9:14: error: duplicate token name 'a'",
        ])
    }

    @Test("auth cannot be widened by odd YAML: a comma inside a scope, scopes as one string, dotted keys, lists for single values")
    func authOddYAMLIsRejected() {
        func errors(_ auth: String) -> [String] {
            diagnostics(["defs.yaml": base], config: "project: demo\nauth:\n" + auth)
        }
        let comma = errors("  tokens:\n    - {name: a, scopes: [\"read:stats,write:*\"], env: A}\n")
        #expect(comma.count == 1 && comma[0].contains("a scope of token 'a' contains ','"), "\(comma)")
        let scalar = errors("  tokens:\n    - {name: a, scopes: \"write:*\", env: A}\n")
        #expect(scalar.count == 1 && scalar[0].contains("'scopes' of token 'a' must be a list"), "\(scalar)")
        let dotted = errors("  tokens:\n    - {name: a, scopes: [\"read:stats\"], env: A}\n  \"tokens.0.scopes\": \"write:*\"\n")
        #expect(dotted.count == 1 && dotted[0].contains("'tokens.0.scopes' is written twice"), "\(dotted)")
        let beyond = errors("  tokens:\n    - {name: a, scopes: [\"read:stats\"], env: A}\n  \"tokens.1.name\": b\n")
        #expect(beyond.contains { $0.contains("unknown key 'tokens.1.name' in 'auth'") }, "\(beyond)")
        let list = errors("  catalog: [public]\n  tokens:\n    - {name: a, scopes: [\"read:*\"], env: A}\n")
        #expect(list.count == 1 && list[0].contains("'catalog' in 'auth' must be a single value"), "\(list)")
    }

    @Test("every error in every file is reported at once, in file order")
    func allErrorsAtOnce() {
        let a = base.replacingOccurrences(of: "entities: [driver]", with: "entities: [drivr]")
        let b = "entities:\n  - name: 9lives\n    join_keys: []\n"
        #expect(diagnostics(["a.yaml": a, "b.yaml": b]) == [
            "a.yaml:13:16: error: unknown entity 'drivr' in feature view 'stats'; did you mean 'driver'?",
            "b.yaml:2:11: error: entity name '9lives' is not an identifier: use letters, digits and '_', not starting with a digit",
            "b.yaml:3:5: error: entity '9lives' needs at least one join key",
        ])
    }

    @Test("entities sharing a join key in one view are rejected")
    func sharedJoinKeys() {
        let text = base.replacingOccurrences(of: "entities:\n  - name: driver\n", with: """
            entities:
              - name: courier
                join_keys:
                  - {name: driver_id, type: int64}
              - name: driver

            """).replacingOccurrences(of: "entities: [driver]", with: "entities: [driver, courier]")
        #expect(diagnostics(text) == [
            "defs.yaml:16:24: error: entities 'driver' and 'courier' of feature view 'stats' share the join key 'driver_id'",
        ])
    }
}

@Suite("Durations and types", .timeLimit(.minutes(5)))
struct DurationAndTypeTests {
    @Test("durations parse in every unit and combination, and print canonically", arguments: [
        ("0", 0, "0"), ("90s", 90, "1m30s"), ("15m", 900, "15m"), ("2h", 7200, "2h"), ("7d", 604_800, "7d"),
        ("1w", 604_800, "7d"), ("1d12h", 129_600, "1d12h"), ("30d", 2_592_000, "30d"),
    ])
    func durationsParse(text: String, seconds: Int64, canonical: String) throws {
        let span = try #require(TimeSpan(parsing: text))
        #expect(span.seconds == seconds)
        #expect(span.description == canonical)
    }

    @Test("malformed durations are rejected", arguments: ["", "2", "h", "2x", "-1h", "2h1d", "1h1h", "2 hours", "99999999999999999999d"])
    func badDurations(text: String) {
        #expect(TimeSpan(parsing: text) == nil)
    }

    @Test("feature types parse scalars and lists")
    func typesParse() {
        #expect(ValueType(parsing: "int64") == .scalar(.int64))
        #expect(ValueType(parsing: "list<float32>") == .list(.float32))
        #expect(ValueType(parsing: "list<list<int64>>") == nil)
        #expect(ValueType(parsing: "int") == nil)
    }
}
