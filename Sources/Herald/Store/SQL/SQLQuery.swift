import Foundation

/// A statement for either database, written once with its values interpolated where they go:
///
/// ```swift
/// let query: SQLQuery = "SELECT id FROM subscribers WHERE tenant_id = \(tenantID) AND id = \(id)"
/// ```
///
/// Each value becomes a bound parameter, numbered and typed by the dialect when the query is rendered
/// (``statement(in:)``); nothing a caller passes as a value is ever spliced into the SQL text. Fixed words
/// of the schema (a status, a channel) go in as `\(literal:)`, from their Swift types, so a partial index
/// written with them still matches; trusted fragments built from code go in as `\(sql:)`.
public struct SQLQuery: ExpressibleByStringInterpolation, Sendable {
    enum Part: Sendable {
        case sql(String)
        case value(SQLValue)
    }

    var parts: [Part]

    public init(stringLiteral value: String) {
        parts = [.sql(value)]
    }

    public init(stringInterpolation: StringInterpolation) {
        parts = stringInterpolation.parts
    }

    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        var parts: [Part] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            parts.reserveCapacity(interpolationCount * 2 + 1)
        }

        public mutating func appendLiteral(_ literal: String) { parts.append(.sql(literal)) }
        public mutating func appendInterpolation(_ value: SQLValue) { parts.append(.value(value)) }
        public mutating func appendInterpolation(_ value: Int64?) { parts.append(.value(SQLValue(value))) }
        public mutating func appendInterpolation(_ value: Int) { parts.append(.value(SQLValue(value))) }
        public mutating func appendInterpolation(_ value: String?) { parts.append(.value(SQLValue(value))) }
        public mutating func appendInterpolation(_ value: Date?) { parts.append(.value(SQLValue(value))) }

        /// A fixed word of the schema as a quoted SQL string literal.
        public mutating func appendInterpolation(literal word: String) {
            parts.append(.sql("'" + word.replacingOccurrences(of: "'", with: "''") + "'"))
        }

        /// A fragment of SQL built by code, never from input.
        public mutating func appendInterpolation(sql fragment: String) { parts.append(.sql(fragment)) }

        /// Another query, its values bound in place.
        public mutating func appendInterpolation(_ query: SQLQuery) { parts += query.parts }

        /// `(…), (…)`: a multi-row `VALUES` list, one parenthesised row per element, each value bound.
        /// Its columns are `column1`, `column2` … in both dialects.
        public mutating func appendInterpolation(rows: [[SQLValue]]) {
            for (index, row) in rows.enumerated() {
                parts.append(.sql(index == 0 ? "(" : ", ("))
                for (column, value) in row.enumerated() {
                    if column > 0 { parts.append(.sql(", ")) }
                    parts.append(.value(value))
                }
                parts.append(.sql(")"))
            }
        }
    }

    /// `rows` cut into lists that each stay under the dialect's ``SQLDialect/maxValues`` values, for one
    /// statement each.
    static func batches(_ rows: [[SQLValue]], in dialect: SQLDialect) -> [[[SQLValue]]] {
        guard let width = rows.first?.count else { return [] }
        let size = dialect.rowsPerStatement(columns: width)
        return stride(from: 0, to: rows.count, by: size).map { Array(rows[$0..<min($0 + size, rows.count)]) }
    }

    /// The SQL text with the dialect's placeholders, and the values in order.
    func statement(in dialect: SQLDialect) -> SQLStatement {
        var sql = ""
        var values: [SQLValue] = []
        for part in parts {
            switch part {
            case .sql(let text):
                sql += text
            case .value(let value):
                values.append(value)
                sql += dialect.placeholder(values.count, value.type)
            }
        }
        return SQLStatement(sql: sql, values: values)
    }
}
