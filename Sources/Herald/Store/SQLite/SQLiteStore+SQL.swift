import Foundation
import GRDB
import GRDBSQLite

/// The store's side of the statements shared with PostgreSQL: GRDB runs them, in SQLite's dialect.
extension SQLiteStore: SQLDatabase {
    public var dialect: SQLDialect { .sqlite }

    public func readRows(_ query: SQLQuery) async throws -> [[SQLValue]] {
        try await pool.read { db in try Self.run(db, query.statement(in: .sqlite)) }
    }

    public func writeRows(_ query: SQLQuery) async throws -> [[SQLValue]] {
        try await pool.write { db in try Self.run(db, query.statement(in: .sqlite)) }
    }

    @discardableResult
    public func writeAll(_ queries: [SQLQuery]) async throws -> [[[SQLValue]]] {
        guard !queries.isEmpty else { return [] }
        return try await pool.write { db in try queries.map { try Self.run(db, $0.statement(in: .sqlite)) } }
    }

    public func write<Steps: TransactionSteps>(_ steps: Steps) async throws -> Steps {
        try await pool.write { db in
            var steps = steps
            try Self.drive(&steps, db)
            return steps
        }
    }

    /// Runs `steps` in the caller's transaction.
    static func drive<Steps: TransactionSteps>(_ steps: inout Steps, _ db: Database) throws {
        while let statements = steps.next() { try steps.take(try statements.map { try run(db, $0) }) }
    }

    /// Runs a shared statement and returns its rows.
    ///
    /// The values are bound straight from ``SQLValue``s. Through `StatementArguments` each value was converted
    /// three times over (to GRDB's `DatabaseValue`, again by its unspecialised generic initialiser, and once
    /// more as its count was checked against the statement): a sixth of what writing a fan-out chunk cost
    /// (`perf`, `herald bench --workload inapp-fanout`). The count is checked here, once per statement.
    static func run(_ db: Database, _ statement: SQLStatement) throws -> [[SQLValue]] {
        // Statements are cut at 512 values (SQLDialect.maxValues), so their texts recur: a full batch's, and a few
        // shorter ones. Kept prepared, they are parsed once.
        let prepared = try db.cachedStatement(sql: statement.sql)
        let handle = prepared.sqliteStatement
        guard Int(sqlite3_bind_parameter_count(handle)) == statement.values.count else {
            throw DatabaseError(
                resultCode: .SQLITE_MISUSE, message: "\(statement.values.count) values for \(sqlite3_bind_parameter_count(handle)) placeholders",
                sql: statement.sql)
        }
        // GRDB resets the statement and clears its bindings, and from then on treats them as set: it only
        // resets it before it runs (which keeps bindings).
        prepared.setUncheckedArguments(StatementArguments())
        for (offset, value) in statement.values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32 =
                switch value {
                case .null: sqlite3_bind_null(handle, index)
                case .integer(let number): sqlite3_bind_int64(handle, index, number)
                case .real(let number): sqlite3_bind_double(handle, index, number)
                case .text(let text): sqlite3_bind_text(handle, index, text, -1, Self.transient)
                }
            guard code == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: statement.sql) }
        }
        return try Row.fetchAll(prepared).map { row in row.databaseValues.map(SQLValue.init) }
    }

    /// SQLite's `SQLITE_TRANSIENT`: it copies the bound text before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

extension SQLValue {
    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null, .blob: self = .null
        case .int64(let value): self = .integer(value)
        case .double(let value): self = .real(value)
        case .string(let value): self = .text(value)
        }
    }
}
