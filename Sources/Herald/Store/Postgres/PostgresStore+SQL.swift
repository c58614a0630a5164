import Foundation
import PostgresNIO

/// The store's side of the statements shared with SQLite: postgres-nio runs them, in PostgreSQL's
/// dialect. A statement on its own runs outside a transaction (it commits by itself).
extension PostgresStore: SQLDatabase {
    public var dialect: SQLDialect { .postgres }

    public func readRows(_ query: SQLQuery) async throws -> [[SQLValue]] {
        try await read { connection in try await Self.run(connection, logger, query.statement(in: .postgres)) }
    }

    /// Not through ``read(_:)``: a write the server ended mid-way may have committed, so it is not run again.
    public func writeRows(_ query: SQLQuery) async throws -> [[SQLValue]] {
        try await withConnection { connection in try await Self.run(connection, logger, query.statement(in: .postgres)) }
    }

    @discardableResult
    public func writeAll(_ queries: [SQLQuery]) async throws -> [[[SQLValue]]] {
        if queries.count == 1 { return [try await writeRows(queries[0])] }
        guard !queries.isEmpty else { return [] }
        return try await write { connection in
            var results: [[[SQLValue]]] = []
            for query in queries { results.append(try await Self.run(connection, logger, query.statement(in: .postgres))) }
            return results
        }
    }

    public func write<Steps: TransactionSteps>(_ steps: Steps) async throws -> Steps {
        try await write { connection in
            var steps = steps
            try await Self.drive(&steps, connection, logger)
            return steps
        }
    }

    /// Runs `steps` in the caller's transaction, a statement at a time.
    static func drive<Steps: TransactionSteps>(_ steps: inout Steps, _ connection: PostgresConnection, _ logger: Logger) async throws {
        while let statements = steps.next() {
            var results: [[[SQLValue]]] = []
            for statement in statements { results.append(try await run(connection, logger, statement)) }
            try steps.take(results)
        }
    }

    /// Runs a shared statement and returns its rows.
    static func run(_ connection: PostgresConnection, _ logger: Logger, _ statement: SQLStatement) async throws -> [[SQLValue]] {
        var bindings = PostgresBindings(capacity: statement.values.count)
        for value in statement.values {
            switch value {
            case .null: bindings.appendNull()
            case .integer(let value): bindings.append(value)
            case .real(let value): bindings.append(value)
            case .text(let value): bindings.append(value)
            }
        }
        return try await connection.rows(PostgresQuery(unsafeSQL: statement.sql, binds: bindings), logger).map { row in
            row.row.map(SQLValue.init)
        }
    }
}

extension SQLValue {
    init(_ cell: PostgresCell) {
        guard cell.bytes != nil else {
            self = .null
            return
        }
        switch cell.dataType {
        case .int2, .int4, .int8: self = (try? cell.decode(Int64.self)).map { .integer($0) } ?? .null
        case .float4, .float8, .numeric: self = (try? cell.decode(Double.self)).map { .real($0) } ?? .null
        default: self = (try? cell.decode(String.self)).map { .text($0) } ?? .null
        }
    }
}
