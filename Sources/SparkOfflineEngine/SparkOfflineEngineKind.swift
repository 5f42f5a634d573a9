public import FeatureStoreCore
public import Foundation
import ParquetSource

/// `offline_store: {kind: spark, ...}`: training-set joins and backfills on Apache Spark.
///
/// | setting | meaning | default |
/// | --- | --- | --- |
/// | `master` | `local[2]`, `spark://host:7077`, `k8s://https://...`, `yarn` | `local[*]` |
/// | `conf` | Spark settings, `{spark.executor.memory: 8g, ...}` | ours: UTC session, nanosecond timestamps read exactly |
/// | `python` | the Python with pyspark and pyarrow that drives Spark (its pyspark brings Spark) | `$PYSPARK_PYTHON`, else `python3` |
/// | `spark_home` | a Spark installation to use instead of pyspark's own | none |
/// | `java_home` | the Java 17+ Spark runs on (`JAVA_HOME`) | `$JAVA_HOME`, else `java` on `PATH` |
/// | `fold_binary` | `featurestore-fold` as Spark's workers find it | beside the running program, else on `PATH` |
/// | `partitions` | partitions rows are hashed into by join key | twice the local cores; 200 on a cluster |
public struct SparkOfflineEngineKind: OfflineEngineKind {
    /// `spark`.
    public let name = "spark"

    /// The kind (programs add ``FeatureStoreCore/Kinds/spark`` to their kinds).
    public init() {}

    /// The Parquet source kind (paths may be any Spark reads: `file:`, `s3a:`, `hdfs:`, `gs:`).
    public var sourceKinds: [any SourceKind] { [ParquetSourceKind()] }

    static let settingNames = ["master", "python", "spark_home", "java_home", "fold_binary", "partitions"]

    /// Checks the settings; see ``OfflineEngineKind/validate(_:)``.
    public func validate(_ settings: inout StoreSettings) {
        settings.rejectUnknown(allowing: Self.settingNames + settings.values.keys.filter { $0.hasPrefix("conf.") })
        let master = settings.string("master", default: "local[*]") ?? "local[*]"
        let schemes = ["local", "spark://", "k8s://", "yarn", "mesos://"]
        if !schemes.contains(where: master.hasPrefix) {
            settings.problem("master", "'master' must be local, local[N], local[*], spark://HOST:PORT, k8s://URL or yarn, found '\(master)'")
        }
        _ = settings.integer("partitions", default: 0, in: 1...1_000_000)
    }

    /// A ``SparkOfflineEngine`` over `repository`; see ``OfflineEngineKind/open(_:repository:)``. Spark itself starts
    /// on the first job (and once per process).
    public func open(_ settings: StoreSettings, repository: URL) throws(OfflineEngineError) -> any OfflineEngine {
        var settings = settings
        let master = settings.string("master", default: "local[*]") ?? "local[*]"
        var conf = SparkOfflineEngine.defaultConf
        for (key, value) in settings.values where key.hasPrefix("conf.") { conf[String(key.dropFirst(5))] = value }
        let environment = ProcessInfo.processInfo.environment
        let python = settings.string("python", default: environment["PYSPARK_PYTHON"] ?? "python3") ?? "python3"
        let launch = SparkLaunch(master: master, conf: conf, python: python, sparkHome: settings.string("spark_home"),
                                 javaHome: settings.string("java_home"))
        let partitions = settings.integer("partitions", default: SparkOfflineEngine.defaultPartitions(master: master), in: 1...1_000_000)
        return SparkOfflineEngine(repository: repository, launch: launch, partitions: partitions, foldBinary: settings.string("fold_binary"))
    }
}

extension Kinds {
    /// The Spark offline engine (kind `spark`) with the Parquet source kind it reads.
    public static let spark = Kinds(offlineEngines: [SparkOfflineEngineKind()])
}
