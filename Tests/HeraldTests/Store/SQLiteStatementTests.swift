import Foundation
import GRDB
import Testing

@testable import Herald

/// SQLite runs the statements both stores share by binding each ``SQLValue`` itself (`SQLiteStore.run`).
@Suite("SQLite statements")
struct SQLiteStatementTests {
    static func store() throws -> SQLiteStore {
        try SQLiteStore(path: TestEngine.temporaryDirectory().appendingPathComponent("herald.sqlite").path)
    }

    @Test("every kind of value is bound as itself and read back; a kept statement run again binds its new values, none of the old")
    func bindsEachKind() async throws {
        let store = try Self.store()
        let sql = "SELECT ?, ?, ?, ?, typeof(?)"
        let first: [SQLValue] = [.null, .integer(Int64.min), .real(-2.5), .text("Zoë ✓ 'quoted' \"too\""), .integer(7)]
        let second: [SQLValue] = [.text(""), .integer(Int64.max), .null, .text("second"), .text("x")]
        let (one, two) = try await store.pool.read { db in
            (try SQLiteStore.run(db, SQLStatement(sql: sql, values: first)), try SQLiteStore.run(db, SQLStatement(sql: sql, values: second)))
        }
        #expect(one == [[.null, .integer(Int64.min), .real(-2.5), .text("Zoë ✓ 'quoted' \"too\""), .text("integer")]])
        #expect(two == [[.text(""), .integer(Int64.max), .null, .text("second"), .text("text")]])
    }

    @Test("a statement given fewer or more values than it has placeholders is refused, not run with NULLs or with values left over")
    func refusesAWrongCount() async throws {
        let store = try Self.store()
        try await store.pool.write { db in
            try db.execute(sql: "CREATE TABLE t(a, b)")
            for values: [SQLValue] in [[.integer(1)], [.integer(1), .integer(2), .integer(3)]] {
                #expect(throws: DatabaseError.self) { try SQLiteStore.run(db, SQLStatement(sql: "INSERT INTO t VALUES (?, ?)", values: values)) }
            }
            _ = try SQLiteStore.run(db, SQLStatement(sql: "INSERT INTO t VALUES (?, ?)", values: [.integer(1), .text("b")]))
            #expect(try SQLiteStore.run(db, SQLStatement(sql: "SELECT a, b FROM t", values: [])) == [[.integer(1), .text("b")]])
        }
    }

    @Test("a VALUES list has one placeholder per value, in rows of the given width")
    func valuesList() {
        #expect(SQLDialect.sqlite.valuesList(rows: 2, types: [.integer, .text, .real]) == "(?, ?, ?), (?, ?, ?)")
        #expect(SQLDialect.sqlite.valuesList(rows: 1, types: [.text]) == "(?)")
        #expect(SQLDialect.sqlite.valuesList(rows: 0, types: [.text]) == "")
        #expect(SQLDialect.postgres.valuesList(rows: 2, types: [.integer, .text], after: 3) == "($4::bigint, $5::text), ($6::bigint, $7::text)")
    }
}
