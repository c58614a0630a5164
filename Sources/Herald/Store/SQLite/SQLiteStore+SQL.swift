import Foundation
import GRDB

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
    static func run(_ db: Database, _ statement: SQLStatement) throws -> [[SQLValue]] {
        let arguments = StatementArguments(statement.values.map(\.databaseValue))
        // Statements are cut at 512 values (SQLDialect.maxValues), so their texts recur: a full batch's, and a few
        // shorter ones. Kept prepared, they are parsed once.
        let prepared = try db.cachedStatement(sql: statement.sql)
        return try Row.fetchAll(prepared, arguments: arguments).map { row in row.databaseValues.map(SQLValue.init) }
    }
}

extension SQLValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let value): value.databaseValue
        case .real(let value): value.databaseValue
        case .text(let value): value.databaseValue
        }
    }

    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null, .blob: self = .null
        case .int64(let value): self = .integer(value)
        case .double(let value): self = .real(value)
        case .string(let value): self = .text(value)
        }
    }
}
