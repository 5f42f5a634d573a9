import CSQLite
public import ErrorChain

/// An error reported by SQLite, with the result code, SQLite's message and the statement involved.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// The SQLite result code (`SQLITE_BUSY`, `SQLITE_CONSTRAINT`, ...).
    public let code: Int32
    /// SQLite's own message.
    public let message: String
    /// The SQL being run, when there was one.
    public let sql: String?

    /// The code, SQLite's message and the statement (``headline``).
    public var description: String { headline }
}

extension SQLiteError: ChainedError {
    /// `sqlite.N`, with SQLite's result code.
    public var errorCode: String { "sqlite.\(code)" }
    /// The code, SQLite's message and the statement.
    public var headline: String {
        if let sql { return "SQLite error \(code): \(message) (in: \(sql))" }
        return "SQLite error \(code): \(message)"
    }
}

/// A connection to one SQLite database file.
///
/// A connection is not thread-safe: use it from one task or thread at a time.
/// Pools and writer serialisation live in the layers above.
public final class Connection {
    /// How to open the database.
    public enum Mode: Sendable {
        /// Read and write; create the file if it does not exist.
        case readWriteCreate
        /// Read and write an existing file.
        case readWrite
        /// Read only.
        case readOnly
    }

    let handle: OpaquePointer
    /// The path this connection was opened on.
    public let path: String

    /// Opens (and, with `.readWriteCreate`, creates) the database at `path`.
    public init(path: String, mode: Mode = .readWriteCreate) throws(SQLiteError) {
        var db: OpaquePointer?
        let flags: Int32
        switch mode {
        case .readWriteCreate: flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        case .readWrite: flags = SQLITE_OPEN_READWRITE
        case .readOnly: flags = SQLITE_OPEN_READONLY
        }
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: "\(message): \(path)", sql: nil)
        }
        self.handle = db
        self.path = path
        sqlite3_busy_timeout(db, 5_000)
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Runs one or more SQL statements that return no rows.
    public func execute(_ sql: String) throws(SQLiteError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? lastErrorMessage
            sqlite3_free(errorMessage)
            throw SQLiteError(code: rc, message: message, sql: sql)
        }
    }

    /// Compiles a statement for repeated use.
    public func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        try Statement(connection: self, sql: sql)
    }

    /// Runs `body` inside a transaction: committed when it returns, rolled back when it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// The number of rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    var lastErrorMessage: String { String(cString: sqlite3_errmsg(handle)) }
}

/// A scalar SQL function of blobs written in Swift (``Connection/defineBlobFunction(_:arguments:_:)``).
final class BlobFunction {
    let body: ([[UInt8]?]) throws -> [UInt8]
    init(_ body: @escaping ([[UInt8]?]) throws -> [UInt8]) { self.body = body }
}

extension Connection {
    /// Defines a deterministic SQL function `name` of `arguments` blobs (null arguments arrive as nil) returning a
    /// blob, run by this connection's statements. An error thrown by `body` fails the statement with its description.
    public func defineBlobFunction(_ name: String, arguments: Int32, _ body: @escaping ([[UInt8]?]) throws -> [UInt8]) throws(SQLiteError) {
        let box = Unmanaged.passRetained(BlobFunction(body)).toOpaque()
        let rc = sqlite3_create_function_v2(handle, name, arguments, SQLITE_UTF8 | SQLITE_DETERMINISTIC, box, { context, count, values in
            let function = Unmanaged<BlobFunction>.fromOpaque(sqlite3_user_data(context)!).takeUnretainedValue()
            var arguments: [[UInt8]?] = []
            for i in 0..<Int(count) {
                guard let value = values?[i], sqlite3_value_type(value) != SQLITE_NULL else {
                    arguments.append(nil)
                    continue
                }
                let length = Int(sqlite3_value_bytes(value))
                if length == 0 {
                    arguments.append([])
                } else if let bytes = sqlite3_value_blob(value) {
                    arguments.append(Array(UnsafeRawBufferPointer(start: bytes, count: length)))
                } else {
                    arguments.append(nil)
                }
            }
            do {
                let result = try function.body(arguments)
                guard !result.isEmpty else {
                    sqlite3_result_zeroblob(context, 0)
                    return
                }
                result.withUnsafeBytes { buffer in
                    // SQLITE_TRANSIENT: SQLite copies the bytes before this returns.
                    sqlite3_result_blob(context, buffer.baseAddress, Int32(buffer.count), unsafeBitCast(-1, to: sqlite3_destructor_type.self))
                }
            } catch {
                sqlite3_result_error(context, "\(error)", -1)
            }
        }, nil, nil, { box in
            if let box { Unmanaged<BlobFunction>.fromOpaque(box).release() }
        })
        guard rc == SQLITE_OK else {
            Unmanaged<BlobFunction>.fromOpaque(box).release()
            throw SQLiteError(code: rc, message: lastErrorMessage, sql: nil)
        }
    }
}
