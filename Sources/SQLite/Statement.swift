import CSQLite

/// Tells SQLite to copy bound text and blobs (the C macro is not imported into Swift).
nonisolated(unsafe) private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A value that can be bound to a statement parameter.
public enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A prepared statement. Reuse it: bind, step, reset.
public final class Statement {
    let handle: OpaquePointer
    // Keeps the connection alive as long as its statements.
    let connection: Connection
    /// The SQL this statement was prepared from.
    public let sql: String

    init(connection: Connection, sql: String) throws(SQLiteError) {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(connection.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else {
            throw SQLiteError(code: rc, message: connection.lastErrorMessage, sql: sql)
        }
        self.handle = stmt
        self.connection = connection
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Binds `values` to the parameters 1...n, after resetting the statement.
    public func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        reset()
        for (offset, value) in values.enumerated() {
            try bind(value, at: Int32(offset + 1))
        }
    }

    /// Binds one value to the 1-based parameter `index`.
    public func bind(_ value: SQLiteValue, at index: Int32) throws(SQLiteError) {
        let rc: Int32
        switch value {
        case .null: rc = sqlite3_bind_null(handle, index)
        case .integer(let v): rc = sqlite3_bind_int64(handle, index, v)
        case .real(let v): rc = sqlite3_bind_double(handle, index, v)
        case .text(let v):
            // With its byte length: text holding a NUL character is bound whole, not cut at the NUL.
            var text = v
            rc = text.withUTF8 { utf8 in
                utf8.withMemoryRebound(to: CChar.self) { chars in
                    sqlite3_bind_text(handle, index, chars.baseAddress ?? UnsafePointer(bitPattern: 1), Int32(chars.count), transient)
                }
            }
        case .blob(let v):
            rc = v.withUnsafeBytes { raw in
                sqlite3_bind_blob(handle, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), transient)
            }
        }
        try check(rc)
    }

    /// Advances to the next row: `true` when a row is available, `false` when done.
    @discardableResult
    public func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteError(code: rc, message: connection.lastErrorMessage, sql: sql)
        }
    }

    /// Resets the statement so it can run again (bindings are kept until rebound).
    public func reset() {
        sqlite3_reset(handle)
    }

    /// Binds `values`, runs the statement to completion and resets it.
    public func run(_ values: [SQLiteValue] = []) throws(SQLiteError) {
        try bind(values)
        defer { reset() }
        while try step() {}
    }

    /// Binds `values` and returns every row, each as an array of values.
    public func rows(_ values: [SQLiteValue] = []) throws(SQLiteError) -> [[SQLiteValue]] {
        try bind(values)
        defer { reset() }
        var result: [[SQLiteValue]] = []
        let count = sqlite3_column_count(handle)
        while try step() {
            result.append((0..<count).map { value(at: $0) })
        }
        return result
    }

    /// The value of column `index` (0-based) of the current row.
    public func value(at index: Int32) -> SQLiteValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER: return .integer(int64(at: index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, index))
        case SQLITE_TEXT: return .text(text(at: index) ?? "")
        case SQLITE_BLOB: return .blob(blob(at: index))
        default: return .null
        }
    }

    /// Column `index` (0-based) of the current row as an integer: 0 for NULL, other types converted by SQLite.
    public func int64(at index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }
    /// Column `index` (0-based) of the current row as a double: 0 for NULL, other types converted by SQLite.
    public func double(at index: Int32) -> Double { sqlite3_column_double(handle, index) }
    /// Whether column `index` (0-based) of the current row is NULL.
    public func isNull(at index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }

    /// Column `index` as text (all of its bytes: a NUL character does not end it); nil for NULL.
    public func text(at index: Int32) -> String? {
        guard let ptr = sqlite3_column_text(handle, index) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, index))
        return String(decoding: UnsafeRawBufferPointer(start: ptr, count: count), as: UTF8.self)
    }

    /// Column `index` (0-based) of the current row as bytes; empty for NULL and for an empty value.
    public func blob(at index: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, index))
        guard count > 0, let ptr = sqlite3_column_blob(handle, index) else { return [] }
        return Array(UnsafeRawBufferPointer(start: ptr, count: count))
    }

    private func check(_ rc: Int32) throws(SQLiteError) {
        if rc != SQLITE_OK { throw SQLiteError(code: rc, message: connection.lastErrorMessage, sql: sql) }
    }
}

extension SQLiteValue {
    /// The value as a string, when it is text.
    public var stringValue: String? { if case .text(let s) = self { return s } else { return nil } }
    /// The value as an integer, when it is one.
    public var intValue: Int64? { if case .integer(let v) = self { return v } else { return nil } }
    /// The value as a double (integers widen).
    public var doubleValue: Double? {
        switch self {
        case .real(let v): return v
        case .integer(let v): return Double(v)
        default: return nil
        }
    }
}
