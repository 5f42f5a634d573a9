public import ErrorChain
import Foundation
import Synchronization

/// How to start Spark: what `offline_store: {kind: spark}` says, with defaults filled in.
struct SparkLaunch: Sendable, Hashable {
    /// `local[2]`, `spark://host:7077`, `k8s://...`, `yarn`.
    var master: String
    /// Spark settings (`spark.executor.memory`, ...), ours added.
    var conf: [String: String]
    /// The Python with pyspark and pyarrow.
    var python: String
    /// A Spark installation to use instead of pyspark's own (`SPARK_HOME`).
    var sparkHome: String?
    /// The Java to run Spark on (`JAVA_HOME`), when not the environment's.
    var javaHome: String?
}

/// A reply of the driver program (``SparkDriverScript``).
struct DriverReply: Decodable, Sendable {
    struct Done: Decodable, Sendable {
        var parts: Int
        var count: Int
    }
    var id: Int?
    var ready: Bool?
    var version: String?
    var fatal: String?
    var progress: [Int]?
    var done: Done?
    var error: String?
}

/// A failure of Spark, of the engine talking to it, or of a partition's fold: the job's own error, what to install, or
/// what was wrong with a partition's input or files.
public struct SparkError: ChainedError {
    /// What went wrong, for people.
    public var message: String
    /// The error that caused it.
    public var cause: (any Error & Sendable)?
    /// `spark`.
    public var errorCode: String { "spark" }
    /// A failure described by `message`, caused by `cause`.
    public init(_ message: String, cause: (any Error & Sendable)? = nil) {
        self.message = message
        self.cause = cause
    }
    /// The chain.
    public var description: String { ErrorChain.render(self) }
}

/// One Spark session in a Python driver program, shared by every engine of this process with the same launch
/// settings (the JVM starts once: tens of seconds). Jobs go in as JSON lines and are answered in order; each waits
/// for its own reply.
///
/// `@unchecked Sendable`: the process and its pipes are set once at start and used from the reading thread and under
/// `state`'s lock only.
final class SparkDriver: @unchecked Sendable {
    private struct Waiter {
        var continuation: CheckedContinuation<DriverReply, any Error>
        var progress: (@Sendable (Int, Int) -> Void)?
    }
    private struct State {
        var waiters: [Int: Waiter] = [:]
        var nextID = 1
        var failure: SparkError?
    }

    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    let logFile: URL
    private let state = Mutex(State())
    private let writeLock = Mutex(())

    private static let drivers = Mutex<[SparkLaunch: SparkDriver]>([:])

    /// The running driver for `launch`, started on first use.
    static func shared(_ launch: SparkLaunch) async throws(SparkError) -> SparkDriver {
        let driver = drivers.withLock { all in
            if let known = all[launch] { return known }
            let made = SparkDriver(launch)
            all[launch] = made
            return made
        }
        do {
            try await driver.started()
            return driver
        } catch {
            drivers.withLock { all in if all[launch] === driver { all[launch] = nil } }
            throw error
        }
    }

    private let launch: SparkLaunch
    private let startLock = Mutex<Task<Void, any Error>?>(nil)

    private init(_ launch: SparkLaunch) {
        self.launch = launch
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("featurestore-spark-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8)).log")
    }

    /// Starts the driver once; later calls wait for that start.
    private func started() async throws(SparkError) {
        let task = startLock.withLock { task in
            if let task { return task }
            let made = Task { try await self.start() }
            task = made
            return made
        }
        do {
            try await task.value
        } catch let error as SparkError {
            throw error
        } catch {
            throw SparkError("cannot start Spark", cause: error)
        }
    }

    private func start() async throws {
        guard let python = Self.program(launch.python) else {
            throw SparkError("the spark engine runs Spark through Python, and '\(launch.python)' is not a program on this machine: install Python 3 with pyspark (python3 -m pip install pyspark pyarrow) or set offline_store.python")
        }
        // The driver deletes its script once started.
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("featurestore-spark-driver-\(UUID().uuidString.prefix(8)).py")
        try SparkDriverScript.source.write(to: script, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        var environment = ProcessInfo.processInfo.environment
        environment["PYSPARK_PYTHON"] = python
        environment["PYSPARK_DRIVER_PYTHON"] = python
        environment["PYTHONUNBUFFERED"] = "1"
        // Local mode talks to itself over loopback: a container whose host name does not resolve must not stop it.
        if launch.master.hasPrefix("local"), environment["SPARK_LOCAL_IP"] == nil { environment["SPARK_LOCAL_IP"] = "127.0.0.1" }
        if let javaHome = launch.javaHome { environment["JAVA_HOME"] = javaHome }
        if let home = launch.sparkHome {
            environment["SPARK_HOME"] = home
            let lib = URL(fileURLWithPath: home).appendingPathComponent("python")
            let py4j = (try? FileManager.default.contentsOfDirectory(atPath: lib.appendingPathComponent("lib").path))?
                .first { $0.hasPrefix("py4j") }.map { lib.appendingPathComponent("lib").appendingPathComponent($0).path }
            environment["PYTHONPATH"] = ([lib.path] + [py4j].compactMap { $0 } + [environment["PYTHONPATH"]].compactMap { $0 }).joined(separator: ":")
        } else {
            environment["SPARK_HOME"] = nil
        }
        let config: [String: Any] = ["master": launch.master, "conf": launch.conf, "forced": SparkOfflineEngine.forcedConf]
        let configText = String(decoding: try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]), as: UTF8.self)
        // A write to a driver that died must fail as an error, not end this process.
        signal(SIGPIPE, SIG_IGN)
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path, configText]
        process.environment = environment
        process.standardInput = input
        process.standardOutput = output
        process.standardError = log
        // The waiter for the start is in place before anything can answer.
        let reply: DriverReply = try await withCheckedThrowingContinuation { continuation in
            state.withLock { $0.waiters[0] = Waiter(continuation: continuation, progress: nil) }
            do {
                try process.run()
                Thread { [self] in readReplies() }.start()
            } catch {
                let waiter = state.withLock { $0.waiters.removeValue(forKey: 0) }
                waiter?.continuation.resume(throwing: SparkError("cannot run \(python)", cause: error))
            }
        }
        if let fatal = reply.fatal {
            process.terminate()
            throw SparkError(fatal)
        }
    }

    /// An executable path for `name`: itself when it has a slash, else the first on PATH.
    static func program(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Runs one job (a JSON object without its id) and returns its reply; `progress` gets stages done and stages.
    func run(_ job: [String: Any], progress: (@Sendable (Int, Int) -> Void)?) async throws(SparkError) -> DriverReply.Done {
        var job = job
        do {
            let reply: DriverReply = try await withCheckedThrowingContinuation { continuation in
                let id: Int? = state.withLock { s in
                    if s.failure != nil { return nil }
                    let id = s.nextID
                    s.nextID += 1
                    s.waiters[id] = Waiter(continuation: continuation, progress: progress)
                    return id
                }
                guard let id else {
                    continuation.resume(throwing: state.withLock { $0.failure! })
                    return
                }
                job["id"] = id
                do {
                    var data = try JSONSerialization.data(withJSONObject: job, options: [.sortedKeys])
                    data.append(0x0A)
                    // One job's line at a time (concurrent jobs' lines must not interleave); not under `state`'s lock,
                    // which the reader needs to answer the job the driver is busy with while this write waits.
                    try writeLock.withLock { _ in try input.fileHandleForWriting.write(contentsOf: data) }
                } catch {
                    let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
                    waiter?.continuation.resume(throwing: SparkError("cannot send the job to Spark's driver", cause: error))
                }
            }
            if let error = reply.error { throw SparkError(error) }
            guard let done = reply.done else { throw SparkError("Spark's driver answered without a result") }
            return done
        } catch let error as SparkError {
            throw error
        } catch {
            throw SparkError("the Spark job failed", cause: error)
        }
    }

    private func readReplies() {
        let handle = output.fileHandleForReading
        var buffer = Data()
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<newline]
                buffer = Data(buffer[buffer.index(after: newline)...])
                guard let reply = try? JSONDecoder().decode(DriverReply.self, from: line) else { continue }
                deliver(reply)
            }
        }
        process.waitUntilExit()
        fail(SparkError("Spark's driver stopped (exit status \(process.terminationStatus))\(logTail())"))
    }

    private func deliver(_ reply: DriverReply) {
        let id = reply.id ?? 0
        if let progress = reply.progress, progress.count == 2 {
            let report = state.withLock { $0.waiters[id]?.progress }
            report?(progress[0], progress[1])
            return
        }
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.continuation.resume(returning: reply)
    }

    private func fail(_ error: SparkError) {
        let waiters = state.withLock { s in
            if s.failure == nil { s.failure = error }
            let all = s.waiters
            s.waiters = [:]
            return all
        }
        for waiter in waiters.values { waiter.continuation.resume(throwing: error) }
        Self.drivers.withLock { all in
            if all[launch] === self { all[launch] = nil }
        }
    }

    /// The log's last meaningful lines, for a driver that died.
    private func logTail() -> String {
        guard let text = try? String(contentsOf: logFile, encoding: .utf8) else { return "" }
        let lines = text.split(separator: "\n").map(String.init).filter { line in
            !line.hasPrefix("\tat ") && !line.trimmingCharacters(in: .whitespaces).hasPrefix("at ") && !line.contains(" WARN ") && !line.contains(" INFO ")
        }
        guard !lines.isEmpty else { return "; its log: \(logFile.path)" }
        return ": " + lines.suffix(5).joined(separator: " | ") + " (log: \(logFile.path))"
    }
}
