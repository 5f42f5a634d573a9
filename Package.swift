// swift-tools-version:6.0
import PackageDescription

// The architecture, in build order:
//   definitions (YAML) -> compiler -> registry/catalog
//                                  -> offline engines (LocalOfflineEngine: Parquet; SparkOfflineEngine) } sharing FeatureComputation
//                                  -> online stores (SQLiteOnlineStore) -> FeatureServer }
// Sources, stream transports and payload formats are rooms like stores and engines: each a target bringing a kind
// (ParquetSource; KafkaTransport; JSONMessageFormat, AvroMessageFormat) as a `Kinds` value programs add to theirs.
// C libraries sit behind thin Swift wrappers in targets of their own.
let package = Package(
    name: "FeatureStore",
    platforms: [.macOS(.v15)],
    products: [
        // The library as users import it: the core with the embedded kinds (SQLite online store, local offline engine,
        // Parquet source) ready, and the tables it returns. `import FeatureStore` is enough to build training sets.
        .library(name: "FeatureStore", targets: ["FeatureStore"]),
        // The core alone, for programs that choose their kinds (see `Kinds`).
        .library(name: "FeatureStoreCore", targets: ["FeatureStoreCore"]),
        // The embedded online store (`Kinds.sqlite`, in `Kinds.embedded`).
        .library(name: "SQLiteOnlineStore", targets: ["SQLiteOnlineStore"]),
        // The Redis online store, standalone or Redis Cluster (`Kinds.redis`).
        .library(name: "RedisOnlineStore", targets: ["RedisOnlineStore"]),
        // The embedded offline engine with the Parquet source kind it reads (`Kinds.local`, in `Kinds.embedded`).
        .library(name: "LocalOfflineEngine", targets: ["LocalOfflineEngine"]),
        .library(name: "ParquetSource", targets: ["ParquetSource"]),
        // The Spark offline engine (`Kinds.spark`) and what its partitions run.
        .library(name: "SparkOfflineEngine", targets: ["SparkOfflineEngine"]),
        .executable(name: "featurestore-fold", targets: ["featurestore-fold"]),
        // Streams: the ingester, the Kafka transport (`Kinds.kafka`) and the payload formats (`Kinds.json`, `Kinds.avro`).
        .library(name: "StreamIngestion", targets: ["StreamIngestion"]),
        .library(name: "KafkaTransport", targets: ["KafkaTransport"]),
        .library(name: "JSONMessageFormat", targets: ["JSONMessageFormat"]),
        .library(name: "AvroMessageFormat", targets: ["AvroMessageFormat"]),
        .library(name: "Avro", targets: ["Avro"]),
        .library(name: "ErrorChain", targets: ["ErrorChain"]),
        // What the public API returns and reads: tables (joinFeatures returns one) and Parquet files.
        .library(name: "Columnar", targets: ["Columnar"]),
        .library(name: "Parquet", targets: ["Parquet"]),
        // Profiles and drift distances over columns (what featurectl profile and drift compute).
        .library(name: "DataQuality", targets: ["DataQuality"]),
        // Conformance suites and in-memory parts for the tests of a new store or engine.
        .library(name: "FeatureStoreTesting", targets: ["FeatureStoreTesting"]),
        // FeatureServer's gRPC API: the generated messages and stubs, and a client over them for Swift services.
        .library(name: "FeatureServingAPI", targets: ["FeatureServingAPI"]),
        .library(name: "FeatureStoreClient", targets: ["FeatureStoreClient"]),
        .executable(name: "featurectl", targets: ["featurectl"]),
        .executable(name: "FeatureServer", targets: ["FeatureServer"]),
        .executable(name: "parquet-bench", targets: ["ParquetBench"]),
        .executable(name: "online-bench", targets: ["OnlineBench"]),
        .executable(name: "expression-bench", targets: ["ExpressionBench"]),
        .executable(name: "serving-bench", targets: ["ServingBench"]),
        .executable(name: "ingest-bench", targets: ["IngestBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    ],
    targets: [
        // What every error of the project is: a code, a message without its cause's text, and the cause; and the one
        // renderer of the chain (CLI, HTTP, gRPC, logs). No dependencies.
        .target(name: "ErrorChain"),
        // sqlite3 from the system (Debian: libsqlite3-dev).
        .systemLibrary(
            name: "CSQLite",
            path: "Sources/CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // Compression libraries from the system (Debian: libsnappy-dev, libzstd-dev, liblz4-dev, zlib1g-dev).
        .systemLibrary(
            name: "CCompression",
            path: "Sources/CCompression",
            providers: [.apt(["libsnappy-dev", "libzstd-dev", "liblz4-dev", "zlib1g-dev"])]
        ),
        // librdkafka from the system (Debian: librdkafka-dev), with its mock cluster.
        .systemLibrary(
            name: "CRdKafka",
            path: "Sources/CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // hiredis from the system (Debian: libhiredis-dev 0.14). Found without pkg-config: its flags include one
        // SwiftPM refuses (-D_FILE_OFFSET_BITS=64), and the header and library are on the default paths.
        .systemLibrary(
            name: "CHiredis",
            path: "Sources/CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // A Redis client: a thin wrapper over hiredis connections (run on threads of their own), and Redis Cluster
        // routing (hash slots, slot map, MOVED/ASK, retries) with per-node pipelines.
        .target(name: "Redis", dependencies: ["CHiredis", "ErrorChain"]),
        // A thin Swift wrapper over librdkafka: producer, group consumer with manual commits, mock cluster.
        .target(name: "Kafka", dependencies: ["CRdKafka", "ErrorChain"]),
        // Block codecs (snappy, gzip, zstd, lz4_raw) behind one Swift enum.
        .target(name: "Codecs", dependencies: ["CCompression", "ErrorChain"]),
        // In-memory columnar data: typed contiguous buffers, validity bitmaps, tables.
        .target(name: "Columnar", dependencies: ["ErrorChain"]),
        // Parquet files: reader and writer over Columnar tables. Knows nothing of features.
        .target(name: "Parquet", dependencies: ["Columnar", "Codecs", "ErrorChain"]),
        // A thin, safe Swift wrapper over the sqlite3 C API.
        .target(name: "SQLite", dependencies: ["CSQLite", "ErrorChain"]),
        // The computations training and serving share, pure code over Columnar: the one rule for which row is an
        // entity's value at a time (used by the point-in-time join and by materialization), key encoding, and for
        // time-window aggregations the window rule, exact float sums and the mergeable partial aggregates.
        .target(name: "FeatureComputation", dependencies: ["Columnar", "ErrorChain"]),
        // The expression language of derived columns and request-time features: its syntax (lexer, parser, a tree
        // with the place of every node). Pure Swift, no dependencies.
        .target(name: "Expressions", dependencies: ["Columnar", "ErrorChain"]),
        // The core: definitions, the compiler (data checks through the offline engine protocol), the registry
        // (catalog, in a SQLite file), values, feature selection, and the protocols of the kinds:
        // OnlineStore / OnlineStoreKind, OfflineEngine / OfflineEngineKind, and `Kinds`, the value that says which kinds a
        // program has. No Parquet, no online store inside.
        .target(
            name: "FeatureStoreCore",
            dependencies: [
                "Columnar",
                "DataQuality",
                "FeatureComputation",
                "Expressions",
                "SQLite",
                "ErrorChain",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The local offline engine (the default kind, `local`): Parquet read and written in this process, the
        // point-in-time join and materialization's reading computed with FeatureComputation.
        .target(name: "LocalOfflineEngine", dependencies: ["ErrorChain", "FeatureStoreCore", "FeatureComputation", "Parquet", "ParquetSource", "Columnar"]),
        // `offline_store: {kind: spark}`: SQL generated from the definitions partitions the rows by key on Spark
        // (driven through pyspark), and each partition runs the local engine's code (`featurestore-fold`).
        .target(name: "SparkOfflineEngine", dependencies: ["ErrorChain", "FeatureStoreCore", "FeatureComputation", "LocalOfflineEngine", "Parquet", "ParquetSource", "Columnar"]),
        .executableTarget(name: "featurestore-fold", dependencies: ["SparkOfflineEngine"]),
        // The Parquet source kind (`kind: parquet`, a table of files at `path`): what the local engine reads.
        .target(name: "ParquetSource", dependencies: ["ErrorChain", "FeatureStoreCore"]),
        // The embedded online store (the default kind, `sqlite`): SQLite in WAL mode, a table per view and schema.
        .target(name: "SQLiteOnlineStore", dependencies: ["ErrorChain", "FeatureStoreCore", "FeatureComputation", "SQLite"]),
        // The Redis online store (kind `redis`): standalone or Redis Cluster, through the Redis client.
        .target(name: "RedisOnlineStore", dependencies: ["ErrorChain", "FeatureStoreCore", "FeatureComputation", "Redis"]),
        // The library as users import it (NIO's umbrella pattern): the core re-exported with the embedded kinds
        // (`Kinds.embedded`: the SQLite online store, the local offline engine and the Parquet source) as the default
        // of `FeatureStore(repository:)`, and the tables joins return.
        .target(name: "FeatureStore", dependencies: ["FeatureStoreCore", "SQLiteOnlineStore", "LocalOfflineEngine", "ParquetSource", "Columnar", "Parquet"]),
        // JSON text in and out, for the HTTP face and stream decoding: a strict one-pass parser, an exact writer, and
        // feature values to and from JSON.
        .target(name: "JSONCoding", dependencies: ["FeatureStoreCore", "Columnar", "ErrorChain"]),
        // Stream ingestion: topics of stream sources into the online store (at-least-once, event-time ordered) and into
        // files under their batch sources (the offline copy), through two protocols with kinds of their own: the
        // transport (StreamSourceKind, StreamConsumer) and the payload format (MessageFormatKind, MessageDecoder).
        .target(
            name: "StreamIngestion",
            dependencies: [
                "FeatureStoreCore",
                "DataQuality",
                "Columnar",
                "ErrorChain",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The Kafka transport (`kind: kafka` sources): librdkafka consumers in a group, dead letters, the embedded mock cluster.
        .target(name: "KafkaTransport", dependencies: [
            "FeatureStoreCore", "ErrorChain", "StreamIngestion", "Kafka", .product(name: "Logging", package: "swift-log"),
        ]),
        // `format: json`: JSON objects, decoded by JSONCoding's one-pass parser.
        // Data quality's math, knowing nothing of features: profiles (counts, spread, a mergeable quantile sketch,
        // value counts) and drift distances (PSI, Kolmogorov-Smirnov, Jensen-Shannon).
        .target(name: "DataQuality", dependencies: ["Columnar"]),
        .target(name: "JSONMessageFormat", dependencies: ["ErrorChain", "FeatureStoreCore", "StreamIngestion", "JSONCoding"]),
        // Avro: schemas (JSON form, named types, logical types) and the binary encoding, read field by field with
        // reader/writer resolution. Knows nothing of features or streams.
        .target(name: "Avro", dependencies: ["ErrorChain"]),
        // `format: avro`: the Confluent wire format with schemas fetched by id from a Schema Registry.
        .target(name: "AvroMessageFormat", dependencies: ["ErrorChain", "FeatureStoreCore", "StreamIngestion", "Avro"]),
        // The versioned serving API (Protos/): protobuf messages and gRPC stubs, generated by scripts/generate-protos.
        .target(
            name: "FeatureServingAPI",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // The `auth` block of feature_store.yaml (AuthSection, a configuration section): bearer tokens and scopes as the
        // server reads them. Light (the core only), so featurectl checks the block without linking the server.
        .target(name: "ServingSettings", dependencies: ["FeatureStoreCore"]),
        // Every kind this package has (`Kinds.bundled`): what featurectl and FeatureServer link.
        .target(name: "BundledKinds", dependencies: ["FeatureStoreCore", "ServingSettings", "SQLiteOnlineStore", "RedisOnlineStore", "LocalOfflineEngine", "SparkOfflineEngine", "KafkaTransport", "JSONMessageFormat", "AvroMessageFormat"]),
        // The serving process's options, shared by FeatureServer and `featurectl serve`.
        .target(name: "ServeOptions", dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // The command-line tool.
        .executableTarget(
            name: "featurectl",
            dependencies: [
                "SQLiteOnlineStore",
                "RedisOnlineStore",
                "LocalOfflineEngine",
                "FeatureStoreCore",
                "JSONCoding",
                "StreamIngestion",
                "KafkaTransport",
                "JSONMessageFormat",
                "AvroMessageFormat",
                "Kafka",
                "Parquet",
                "ParquetSource",
                "Columnar",
                "DataQuality",
                "ServeOptions",
                "BundledKinds",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The server: one serving core (checks, auth, metrics) with a gRPC face and an HTTP/JSON face, run under
        // swift-service-lifecycle.
        .target(
            name: "FeatureServing",
            dependencies: [
                "FeatureStoreCore", "ErrorChain", "ServingSettings", "Columnar",
                "JSONCoding", "StreamIngestion", "JSONMessageFormat", "DataQuality", "Parquet",
                "FeatureServingAPI",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCertificateReloading", package: "swift-nio-extras"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The serving process.
        .executableTarget(
            name: "FeatureServer",
            dependencies: [
                "SQLiteOnlineStore",
                "RedisOnlineStore",
                "LocalOfflineEngine",
                "KafkaTransport",
                "JSONMessageFormat",
                "AvroMessageFormat",
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                "ServeOptions",
                "BundledKinds",
                "FeatureServing",
                "StreamIngestion",
                "FeatureStoreCore",
                "Columnar",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // What every implementation must do, as checks their tests run: the online store and offline engine conformance
        // suites, and in-memory parts (an online store, a stream consumer) for tests that need no real one.
        .target(name: "FeatureStoreTesting", dependencies: ["ErrorChain", "FeatureStoreCore", "FeatureComputation", "Columnar"]),
        // Benchmark driver for the Parquet reader (bench/parquet_read.py runs it beside pyarrow).
        .executableTarget(name: "ParquetBench", dependencies: ["Parquet", "Columnar"], path: "bench/ParquetBench"),
        // In-process online lookup latency (bench/online.sh).
        .executableTarget(name: "ExpressionBench", dependencies: ["Expressions", "FeatureStoreCore", "SQLiteOnlineStore", "LocalOfflineEngine", "Columnar", "Parquet"], path: "bench/ExpressionBench"),
        .executableTarget(name: "OnlineBench", dependencies: ["FeatureStoreCore", "SQLiteOnlineStore", "RedisOnlineStore", "LocalOfflineEngine", "Columnar", "Parquet"], path: "bench/OnlineBench"),
        // Load generator for FeatureServer over gRPC (bench/serving.sh).
        // A client of FeatureServer for Swift services: typed lookups, LookupStream, pushes, retries, round-robin
        // with ejection, TLS and tokens. Only the API, gRPC and its HTTP/2 transport (no store, no server).
        .target(
            name: "FeatureStoreClient",
            dependencies: [
                "FeatureServingAPI",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .executableTarget(name: "ServingBench", dependencies: [
            "FeatureStoreClient",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "bench/ServingBench"),
        // Stream ingestion rate and freshness on the mock cluster (bench/ingest.sh).
        .executableTarget(name: "IngestBench", dependencies: [
            "FeatureStoreCore", "SQLiteOnlineStore", "RedisOnlineStore", "LocalOfflineEngine", "StreamIngestion", "Kafka",
            "KafkaTransport", "JSONMessageFormat", "AvroMessageFormat",
            .product(name: "Metrics", package: "swift-metrics"),
        ], path: "bench/IngestBench"),
        .testTarget(name: "ColumnarTests", dependencies: ["Columnar"]),
        .testTarget(name: "CodecsTests", dependencies: ["Codecs"]),
        .testTarget(name: "SQLiteTests", dependencies: ["SQLite"]),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka"]),
        .testTarget(name: "AvroTests", dependencies: ["Avro"], exclude: ["Interop"]),
        // The library exactly as a user's package sees it: the `FeatureStore` umbrella and nothing else.
        .testTarget(name: "LibraryUsageTests", dependencies: ["FeatureStore"]),
        .testTarget(name: "JSONCodingTests", dependencies: ["JSONCoding", "FeatureStoreCore"]),
        .testTarget(name: "SparkOfflineEngineTests", dependencies: ["TestKinds", "SparkOfflineEngine", "FeatureStoreTesting", "FeatureStoreCore", "Parquet", "Columnar"]),
        .testTarget(name: "LocalOfflineEngineTests", dependencies: ["TestKinds", "LocalOfflineEngine", "FeatureStoreTesting", "FeatureStoreCore", "ParquetSource"]),
        .testTarget(name: "FeatureComputationTests", dependencies: ["FeatureComputation", "Columnar"]),
        // Real redis-server processes and clusters for the tests (started on free loopback ports, killed after).
        .target(name: "RedisTestSupport", dependencies: ["Redis"], path: "Tests/RedisTestSupport"),
        // Every kind the tests pass (one value for all test targets).
        .target(name: "TestKinds", dependencies: ["FeatureStoreCore", "BundledKinds", "FeatureStoreTesting"], path: "Tests/TestKinds"),
        .testTarget(name: "RedisTests", dependencies: ["Redis", "RedisTestSupport"]),
        .testTarget(name: "RedisOnlineStoreTests", dependencies: ["TestKinds", "RedisOnlineStore", "Redis", "RedisTestSupport", "FeatureComputation", "FeatureStoreCore", "FeatureStoreTesting", "SQLiteOnlineStore", "LocalOfflineEngine", "ParquetSource", "Parquet", "Columnar"]),
        .testTarget(name: "ExpressionsTests", dependencies: ["Expressions", "Columnar", "Parquet"], exclude: ["Differential"]),
        .testTarget(name: "ParquetTests", dependencies: ["Parquet", "Codecs", "Columnar"], exclude: ["Interop"]),
        .testTarget(name: "FeatureStoreTests", dependencies: ["TestKinds", "FeatureStoreCore", "FeatureStoreTesting", "ServingSettings", "SQLiteOnlineStore", "LocalOfflineEngine", "ParquetSource", "KafkaTransport", "JSONMessageFormat", "Parquet", "Codecs", "Columnar", "DataQuality", "FeatureComputation", "ErrorChain"], exclude: ["Differential"]),
        .testTarget(name: "FeatureServerTests", dependencies: ["TestKinds", 
            "FeatureServing", "FeatureServingAPI", "FeatureStoreClient", "FeatureStoreCore", "FeatureStoreTesting", "SQLiteOnlineStore", "LocalOfflineEngine", "ParquetSource", "KafkaTransport", "JSONMessageFormat", "Parquet", "Columnar", "DataQuality",
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .testTarget(name: "StreamIngestionTests", dependencies: ["TestKinds", "StreamIngestion", "DataQuality", "KafkaTransport", "JSONMessageFormat", "AvroMessageFormat", "Avro", "Kafka", "FeatureStoreCore", "SQLiteOnlineStore", "LocalOfflineEngine", "Parquet", "Columnar", "FeatureComputation"], exclude: ["Interop"]),
        // The differential fuzzer: random definitions and hostile data, training against a brute-force reference and
        // serving against training on every store (swift test runs a bounded number of seeds; scripts/fuzz runs longer).
        .testTarget(name: "DifferentialFuzzTests", dependencies: ["TestKinds", "FeatureStoreCore", "ParquetSource", "SQLiteOnlineStore", "RedisOnlineStore", "LocalOfflineEngine", "Parquet", "Columnar", "RedisTestSupport"],
                    exclude: ["fuzz_oracle.py"]),
        .testTarget(name: "featurectlTests", dependencies: ["TestKinds", "featurectl", "FeatureStoreCore", "ParquetSource", "KafkaTransport", "JSONMessageFormat", "FeatureComputation", "SQLiteOnlineStore", "RedisOnlineStore", "LocalOfflineEngine", "SQLite", "Parquet", "Columnar", "Kafka", "Redis", "RedisTestSupport"], exclude: ["Quality"]),
    ],
    swiftLanguageModes: [.v6]
)

// Habits of the best Swift packages, for every target of ours: existentials spelled `any`, members visible only from
// modules a file imports itself, imports internal unless a file marks them `public import` (what its public API
// exposes), and async functions that run where their caller runs unless marked `@concurrent` (so the columnar work of
// a command stays on its thread, and a store that must block says so by leaving the caller's executor itself).
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
        .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
    ]
    // Generated protobuf/gRPC code keeps the generator's plain imports (scripts/generate-protos --check compares it).
    if target.name != "FeatureServingAPI" {
        target.swiftSettings! += [.enableUpcomingFeature("InternalImportsByDefault")]
    }
}
