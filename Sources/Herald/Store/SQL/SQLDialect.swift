/// What differs between the two databases in the statements both stores run: placeholders (`?` against
/// `$1::bigint`, cast so a NULL has a type), how many values one statement may bind, and how a batch
/// learns ids before it writes rows that point at each other. Everything else in those statements is
/// the SQL the two agree on: multi-row `VALUES`, row values, `ON CONFLICT … DO UPDATE`, `RETURNING`.
enum SQLDialect: Sendable {
    case sqlite
    case postgres

    /// Values one statement binds at most: under SQLite's 32,766 and PostgreSQL's 65,535.
    static let maxValues = 30_000

    /// Rows of `columns` values each that fit one statement.
    static func rowsPerStatement(columns: Int) -> Int { max(1, maxValues / max(1, columns)) }

    /// The placeholder for the value bound at `index` (from 1).
    func placeholder(_ index: Int, _ type: SQLType) -> String {
        switch self {
        case .sqlite: "?"
        case .postgres: "$\(index)::\(type.postgresName)"
        }
    }

    /// `(…), (…)`: one parenthesised row of placeholders per row of `rows`, typed by `types`, numbered
    /// after `offset` values already bound.
    func valuesList(rows: Int, types: [SQLType], after offset: Int = 0) -> String {
        var text = ""
        var index = offset
        text.reserveCapacity(rows * types.count * 12)
        for row in 0..<rows {
            text += row == 0 ? "(" : ", ("
            for (column, type) in types.enumerated() {
                index += 1
                if column > 0 { text += ", " }
                text += placeholder(index, type)
            }
            text += ")"
        }
        return text
    }

    /// A statement whose rows are `count` ids for new rows of `table` (its `id` column), for a batch that
    /// must know them before it writes. SQLite has a single writer: the ids after the largest are free
    /// until the transaction ends. PostgreSQL draws them from the column's sequence.
    func reserveIDs(table: String, count: Int) -> SQLStatement {
        switch self {
        case .sqlite:
            SQLStatement(
                sql: "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
                    + "SELECT (SELECT coalesce(max(id), 0) FROM \(table)) + i FROM n",
                values: [SQLValue(count)])
        case .postgres:
            SQLStatement(
                sql: "SELECT nextval(pg_get_serial_sequence('\(table)', 'id')) FROM generate_series(1, $1::bigint)", values: [SQLValue(count)])
        }
    }
}

extension SQLType {
    var postgresName: String {
        switch self {
        case .integer: "bigint"
        case .real: "double precision"
        case .text: "text"
        }
    }
}
