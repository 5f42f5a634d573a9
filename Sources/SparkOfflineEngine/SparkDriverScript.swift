/// The Python program that holds a Spark session for ``SparkOfflineEngine``: started once per process with
/// `python driver.py CONFIG_JSON` (PySpark launches the JVM through `spark-submit`), it reads jobs as JSON lines on
/// standard input and answers with JSON lines (`ready`, `progress`, `done`, `error`, `fatal`) on what was standard
/// output; everything else the process and the JVM print goes to standard error (a log file). It plans nothing:
/// the SQL comes from ``SparkPlan``, and the computation is `featurestore-fold`'s, run on each partition.
enum SparkDriverScript {
    static let source = #"""
import json, os, re, sys, threading, time, traceback, glob, subprocess, tempfile, shutil

GLOB = "*.{parquet,parq}"  # the data files the local engine reads
LOCAL_AS_REMOTE = False
protocol_out = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)  # whatever else is printed (the JVM included) goes to the log
sys.stdout = sys.stderr
send_lock = threading.Lock()


def send(message):
    with send_lock:
        protocol_out.write(json.dumps(message) + "\n")
        protocol_out.flush()


def java_problem():
    """What is wrong with the Java Spark would use, or None."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    hint = "install Java 17 (Debian and Ubuntu: apt-get install openjdk-17-jre-headless) or set JAVA_HOME to a Java 17 or later"
    if not java or not os.path.exists(java):
        where = ("JAVA_HOME=" + home + " has no bin/java") if home else "no java on PATH"
        return "Spark needs Java 17 or later, and this machine has none (" + where + "): " + hint
    try:
        out = subprocess.run([java, "-version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60).stdout.decode("utf-8", "replace")
    except Exception as e:
        return "cannot run " + java + " -version (" + str(e) + "): " + hint
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not m:
        return java + " -version does not say its version (" + out.strip()[:200] + "): " + hint
    major = int(m.group(1))
    if major == 1 and m.group(2):
        major = int(m.group(2))
    if major < 17:
        return "Spark 4 needs Java 17 or later, and " + java + " is Java " + str(major) + ": " + hint
    return None


def describe(error):
    """The job's own error, without the JVM's stack."""
    text = str(error)
    java = getattr(error, "java_exception", None)
    if java is not None:
        last = java
        try:
            while last.getCause() is not None:
                last = last.getCause()
            text = str(last.toString())
        except Exception:
            pass
    m = re.search(r"RuntimeError: featurestore-fold failed: (.*?)(?:\n\s*SQLSTATE|\n\s*at |\n\n|\Z)", text, re.S)
    if m:
        return "featurestore-fold failed on a partition: " + m.group(1).strip()
    lines = [l for l in text.splitlines() if l.strip() and not l.lstrip().startswith("at ") and not l.startswith("\t")]
    text = "\n".join(lines[:6]).strip()
    for prefix in ("org.apache.spark.", "java.lang.", "java.io.", "pyspark.errors.exceptions.captured."):
        text = text.replace(prefix, "")
    return text[:2000] or type(error).__name__


def local_path(path):
    """The path on this machine's file system, or None for a path only Spark reads (s3a:, hdfs:, gs:; every path
    when the launch says to treat local files as remote, which the tests use to run the remote code)."""
    if LOCAL_AS_REMOTE:
        return None
    if path.startswith("file://"):
        return path[len("file://"):]
    if path.startswith("file:"):
        return path[len("file:"):]
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", path):
        return None
    return path


def data_files(path):
    """The local engine's data files of a local path (file, folder or glob): *.parquet and *.parq."""
    p = local_path(path)
    matches = sorted(glob.glob(p, recursive=True)) if any(c in p for c in "*?[") else [p]
    files = []
    for m in matches:
        if os.path.isdir(m):
            for folder, dirs, names in os.walk(m):
                dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
                files += [os.path.join(folder, n) for n in sorted(names) if n.endswith((".parquet", ".parq")) and not n.startswith((".", "_"))]
        elif os.path.isfile(m):
            files.append(m)
    return files


def parquet_reader(spark, path):
    """Spark's reader for a source path, reading what the local engine reads: in a folder, only its *.parquet and
    *.parq files (Spark would read any file); a file or glob as named."""
    reader = spark.read
    p = local_path(path)
    if p is not None:
        folder = os.path.isdir(p)
    else:
        try:
            hadoop_path = spark._jvm.org.apache.hadoop.fs.Path(path)
            folder = hadoop_path.getFileSystem(spark._jsc.hadoopConfiguration()).getFileStatus(hadoop_path).isDirectory()
        except Exception:
            folder = False  # a glob, or a path that does not exist (Spark's read then says so)
    return reader.option("pathGlobFilter", GLOB) if folder else reader


def footer_types(spark, path):
    """The Arrow types the local engine gives the columns whose Parquet types Spark reads otherwise, from a data file's
    footer read through Spark's own Hadoop file system (any path Spark reads): timestamps in their unit (nanoseconds,
    which Spark reads as numbers; milliseconds, which it reads as microseconds), INT96 as nanoseconds without a zone,
    and unsigned integers (which Spark widens)."""
    import pyarrow as pa
    try:
        jvm = spark._jvm
        files = parquet_reader(spark, path).parquet(path).inputFiles()
        if not files:
            return {}
        conf = spark._jsc.hadoopConfiguration()
        hadoop_path = jvm.org.apache.hadoop.fs.Path(jvm.java.net.URI(files[0]))  # inputFiles() are URL-encoded
        footer = jvm.org.apache.parquet.hadoop.ParquetFileReader.readFooter(conf, hadoop_path)
        found = {}
        for column in footer.getFileMetaData().getSchema().getFields():
            if not column.isPrimitive():
                continue
            name = str(column.getName())
            annotation = column.getLogicalTypeAnnotation()
            text = str(annotation.toString()) if annotation is not None else ""
            primitive = str(column.asPrimitiveType().getPrimitiveTypeName().toString())
            if text.startswith("TIMESTAMP("):
                unit, utc = text[len("TIMESTAMP("):-1].split(",")
                found[name] = pa.timestamp({"MILLIS": "ms", "MICROS": "us", "NANOS": "ns"}[unit.strip()],
                                           tz="UTC" if utc.strip() == "true" else None)
            elif text.startswith("INTEGER(") and text.endswith(",false)"):
                bits = int(text[len("INTEGER("):].split(",")[0])
                found[name] = {8: pa.uint8(), 16: pa.uint16(), 32: pa.uint32(), 64: pa.uint64()}[bits]
            elif primitive == "INT96":
                found[name] = pa.timestamp("ns")
        return found
    except Exception:
        traceback.print_exc()
        return {}


def arrow_schema(spark, path):
    """The source's own Arrow types of its file columns (Spark reads nanoseconds as numbers, unsigned integers wider
    and milliseconds as microseconds), or None. Hive partition columns stay strings, as the local engine reads them."""
    import pyarrow as pa
    import pyarrow.dataset as ds
    try:
        if local_path(path) is not None:
            files = data_files(path)
            return ds.dataset(files, format="parquet").schema if files else None
        return pa.schema([pa.field(n, t) for n, t in footer_types(spark, path).items()])
    except Exception:
        traceback.print_exc()
        return None


def source_frame(spark, job):
    """The source read as the local engine reads it (only its Parquet data files), under the SQL's view name, and the
    SQL for how Spark types its event time column (a number for nanoseconds)."""
    from pyspark.sql.types import LongType, IntegerType
    frame = parquet_reader(spark, job["source_path"]).parquet(job["source_path"])
    frame.createOrReplaceTempView(job["source_view"])
    field = next((f for f in frame.schema.fields if f.name == job["time_column"]), None)
    numeric = field is not None and isinstance(field.dataType, (LongType, IntegerType))
    return spark.sql(job["source_sql_number"] if numeric else job["source_sql"])


def conform(table, schema):
    """Columns cast back to the types the source's files hold (the local engine then reads what it reads at home)."""
    import pyarrow as pa
    if "__bucket" in table.column_names:
        table = table.drop_columns(["__bucket"])
    if schema is None:
        return table
    columns, fields = [], []
    for name in table.column_names:
        column = table.column(name)
        i = schema.get_field_index(name)
        if i >= 0 and column.type != schema.field(i).type:
            try:
                column = column.cast(schema.field(i).type)
            except Exception:
                pass
        columns.append(column)
        fields.append(pa.field(name, column.type))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def fold_partition(operation, spec, fold, bucket, source, source_schema, entities, entity_schema):
    import pyarrow as pa
    import pyarrow.parquet as pq
    empty = pa.table({"bucket": pa.array([], pa.int64()), "part": pa.array([], pa.binary()), "count": pa.array([], pa.int64())})
    if entities is not None and entities.num_rows == 0:
        return empty
    with tempfile.TemporaryDirectory(prefix="featurestore-fold-") as folder:
        spec_file = os.path.join(folder, "spec.json")
        with open(spec_file, "w") as f:
            f.write(spec)
        source_file = os.path.join(folder, "source.parquet")
        pq.write_table(conform(source, source_schema), source_file)
        arguments = [worker_fold(fold), operation, spec_file, source_file]
        if entities is not None:
            entities_file = os.path.join(folder, "entities.parquet")
            pq.write_table(conform(entities, entity_schema), entities_file)
            arguments.append(entities_file)
        output = os.path.join(folder, "out.parquet")
        arguments.append(output)
        done = subprocess.run(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if done.returncode != 0:
            raise RuntimeError("featurestore-fold failed: " + done.stderr.decode("utf-8", "replace").strip()[-2000:])
        count = json.loads(done.stdout.decode("utf-8"))["count"]
        with open(output, "rb") as f:
            part = f.read()
    return pa.table({"bucket": pa.array([bucket], pa.int64()), "part": pa.array([part], pa.binary()), "count": pa.array([count], pa.int64())})


def worker_fold(fold):
    """featurestore-fold on this worker: a path as given, or a file name shipped with spark.files, or on PATH."""
    if "/" in fold:
        return fold
    try:
        from pyspark import SparkFiles
        shipped = SparkFiles.get(fold)
        if os.path.exists(shipped):
            return shipped
    except Exception:
        pass
    return shutil.which(fold) or fold


def bucket_of(key):
    k = key[0]
    return int(k.as_py() if hasattr(k, "as_py") else k)


class Progress(threading.Thread):
    """Stages done / stages of the job group, sent while it runs."""

    def __init__(self, sc, job_id):
        super().__init__(daemon=True)
        self.sc, self.job_id, self.stopped = sc, job_id, threading.Event()

    def run(self):
        tracker, last = self.sc.statusTracker(), None
        while not self.stopped.wait(0.5):
            try:
                stages = set()
                for j in tracker.getJobIdsForGroup(str(self.job_id)):
                    info = tracker.getJobInfo(j)
                    if info is not None:
                        stages.update(info.stageIds)
                active = set(tracker.getActiveStageIds())
                done = 0
                for s in stages:
                    info = tracker.getStageInfo(s)
                    if s not in active and info is not None and info.numTasks > 0 and info.numCompletedTasks >= info.numTasks:
                        done += 1
                now = [done, len(stages)]
                if now != last and stages:
                    send({"id": self.job_id, "progress": now})
                    last = now
            except Exception:
                pass


def run(spark, job):
    import pyarrow.parquet as pq
    out = job["out"]
    os.makedirs(out, exist_ok=True)
    operation = job["operation"]
    if operation == "has_data":
        try:
            found = len(parquet_reader(spark, job["path"]).parquet(job["path"]).inputFiles()) > 0
        except Exception as e:
            if "PATH_NOT_FOUND" in str(e) or "UNABLE_TO_INFER_SCHEMA" in str(e) or "does not exist" in str(e):
                found = False
            else:
                raise
        return {"parts": 0, "count": 1 if found else 0}
    if operation == "read":
        frame = parquet_reader(spark, job["path"]).parquet(job["path"])
        if job.get("empty"):
            frame = frame.limit(0)
        table = conform(frame.toArrow(), arrow_schema(spark, job["path"]))
        pq.write_table(table, os.path.join(out, "part-0.parquet"))
        return {"parts": 1, "count": table.num_rows}
    try:
        return fold_job(spark, job, operation, out)
    finally:
        for view in (job.get("entities_view"), job.get("source_view")):
            if view:
                spark.catalog.dropTempView(view)


def fold_job(spark, job, operation, out):
    import pyarrow.parquet as pq
    spec, fold = job["spec"], job["fold"]
    source_schema = arrow_schema(spark, job["source_path"])
    source = source_frame(spark, job)
    schema = "bucket long, part binary, count long"
    if operation == "join":
        entity_table = pq.read_table(job["entities_file"])
        entity_schema = entity_table.schema
        spark.createDataFrame(entity_table).createOrReplaceTempView(job["entities_view"])
        entities = spark.sql(job["entity_sql"])

        def join(key, left, right):
            return fold_partition("join", spec, fold, bucket_of(key), right, source_schema, left, entity_schema)

        result = entities.groupBy("__bucket").cogroup(source.groupBy("__bucket")).applyInArrow(join, schema)
    else:
        def window(key, table):
            return fold_partition(operation, spec, fold, bucket_of(key), table, source_schema, None, None)

        result = source.groupBy("__bucket").applyInArrow(window, schema)
    parts, count = 0, 0
    for row in result.toLocalIterator():
        with open(os.path.join(out, "part-%05d.parquet" % row["bucket"]), "wb") as f:
            f.write(row["part"])
        parts += 1
        count += row["count"]
    return {"parts": parts, "count": count}


def main():
    global LOCAL_AS_REMOTE
    config = json.loads(sys.argv[1])
    LOCAL_AS_REMOTE = config["conf"].get("spark.featurestore.localAsRemote") == "true"
    try:
        import pyarrow  # noqa: F401
        import pyspark
        from pyspark.sql import SparkSession
    except ImportError as e:
        send({"fatal": "the spark engine needs pyspark and pyarrow in " + sys.executable + " (" + str(e) + "): run "
              + sys.executable + " -m pip install pyspark pyarrow, or set offline_store.python to a Python that has them"})
        return
    problem = java_problem()
    if problem:
        send({"fatal": problem})
        return
    builder = SparkSession.builder.master(config["master"]).appName("featurestore")
    for key, value in config["conf"].items():
        builder = builder.config(key, value)
    for key, value in config["forced"].items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as e:
        send({"fatal": "Spark did not start (master " + config["master"] + "): " + describe(e)})
        return
    spark.sparkContext.setLogLevel("ERROR")
    send({"ready": True, "version": pyspark.__version__, "parallelism": spark.sparkContext.defaultParallelism})
    try:
        os.remove(sys.argv[0])  # the script, read once
    except OSError:
        pass
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        job_id = job["id"]
        progress = Progress(spark.sparkContext, job_id)
        try:
            spark.sparkContext.setJobGroup(str(job_id), "featurestore " + job["operation"])
            progress.start()
            send({"id": job_id, "done": run(spark, job)})
        except Exception as e:
            traceback.print_exc()
            send({"id": job_id, "error": describe(e)})
        finally:
            progress.stopped.set()
    spark.stop()


main()
"""#
}
