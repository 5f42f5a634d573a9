// swift-tools-version:6.0
import PackageDescription

// The architecture, in build order:
//   definitions (YAML) -> compiler -> registry/catalog
//                                  -> offline engine (Parquet + point-in-time join)
//                                  -> online store (SQLite) -> FeatureServer
// C libraries sit behind thin Swift wrappers in targets of their own.
let package = Package(
    name: "FeatureStore",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "FeatureStore", targets: ["FeatureStore"]),
        .executable(name: "featurectl", targets: ["featurectl"]),
        .executable(name: "FeatureServer", targets: ["FeatureServer"]),
        .executable(name: "parquet-bench", targets: ["ParquetBench"]),
        .executable(name: "online-bench", targets: ["OnlineBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
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
        // Block codecs (snappy, gzip, zstd, lz4_raw) behind one Swift enum.
        .target(name: "Codecs", dependencies: ["CCompression"]),
        // In-memory columnar data: typed contiguous buffers, validity bitmaps, tables.
        .target(name: "Columnar"),
        // Parquet files: reader and writer over Columnar tables. Knows nothing of features.
        .target(name: "Parquet", dependencies: ["Columnar", "Codecs"]),
        // A thin, safe Swift wrapper over the sqlite3 C API.
        .target(name: "SQLite", dependencies: ["CSQLite"]),
        // The library: definitions, compiler, registry (catalog).
        .target(
            name: "FeatureStore",
            dependencies: [
                "SQLite",
                "Parquet",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The command-line tool.
        .executableTarget(
            name: "featurectl",
            dependencies: [
                "FeatureStore",
                "Parquet",
                "Columnar",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The serving process.
        .executableTarget(
            name: "FeatureServer",
            dependencies: [
                "FeatureStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Benchmark driver for the Parquet reader (bench/parquet_read.py runs it beside pyarrow).
        .executableTarget(name: "ParquetBench", dependencies: ["Parquet", "Columnar"], path: "bench/ParquetBench"),
        // In-process online lookup latency (bench/online.sh).
        .executableTarget(name: "OnlineBench", dependencies: ["FeatureStore", "Columnar"], path: "bench/OnlineBench"),
        .testTarget(name: "ParquetTests", dependencies: ["Parquet", "Codecs", "Columnar"], exclude: ["Interop"]),
        .testTarget(name: "FeatureStoreTests", dependencies: ["FeatureStore", "Parquet", "Columnar"], exclude: ["Differential"]),
        .testTarget(name: "featurectlTests", dependencies: ["featurectl", "FeatureStore", "Parquet", "Columnar"]),
    ],
    swiftLanguageModes: [.v6]
)
