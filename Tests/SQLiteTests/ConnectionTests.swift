import Foundation
import SQLite
import Testing

@Suite("SQLite wrapper", .timeLimit(.minutes(3)))
struct ConnectionTests {
    static func database() throws -> Connection {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-\(UUID().uuidString).db").path
        return try Connection(path: path)
    }

    @Test("every value type binds and reads back as written")
    func valuesRoundTrip() throws {
        let db = try Self.database()
        try db.execute("CREATE TABLE t (v)")
        let values: [SQLiteValue] = [.null, .integer(.min), .integer(.max), .real(-0.5), .real(.infinity), .text(""), .text("é\u{0}x"), .blob([]), .blob([0, 255])]
        let insert = try db.prepare("INSERT INTO t (v) VALUES (?)")
        for v in values { try insert.run([v]) }
        let read = try db.prepare("SELECT v FROM t ORDER BY rowid").rows().map { $0[0] }
        #expect(read.count == values.count)
        for (got, want) in zip(read, values) where !(want == .blob([]) && got == .null) {
            #expect(got == want)
        }
    }

    @Test("a transaction commits when its body returns and rolls back when it throws")
    func transactions() throws {
        let db = try Self.database()
        try db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY)")
        try db.transaction { try db.prepare("INSERT INTO t VALUES (1)").run() }
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try db.transaction {
                try db.prepare("INSERT INTO t VALUES (2)").run()
                throw Stop()
            }
        }
        #expect(try db.prepare("SELECT k FROM t").rows() == [[.integer(1)]])
    }

    @Test("errors carry SQLite's code and message and the statement's SQL")
    func errorsNameTheStatement() throws {
        let db = try Self.database()
        try db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY)")
        try db.prepare("INSERT INTO t VALUES (1)").run()
        do {
            try db.prepare("INSERT INTO t VALUES (1)").run()
            Issue.record("a duplicate key was accepted")
        } catch {
            #expect(error.message.contains("UNIQUE"), "\(error)")
            #expect(error.sql == "INSERT INTO t VALUES (1)")
        }
        #expect(throws: SQLiteError.self) { _ = try db.prepare("SELEC 1") }
        #expect(throws: SQLiteError.self) { _ = try Connection(path: "/nonexistent-folder/x.db", mode: .readWrite) }
    }

    @Test("a prepared statement is reused: bind, step, reset")
    func statementReuse() throws {
        let db = try Self.database()
        try db.execute("CREATE TABLE t (k INTEGER, v TEXT)")
        let insert = try db.prepare("INSERT INTO t VALUES (?, ?)")
        for k in 0..<100 { try insert.run([.integer(Int64(k)), .text("v\(k)")]) }
        let select = try db.prepare("SELECT v FROM t WHERE k = ?")
        for k in [5, 50, 99] {
            #expect(try select.rows([.integer(Int64(k))]) == [[.text("v\(k)")]])
        }
        #expect(try select.rows([.integer(1000)]).isEmpty)
    }
}
