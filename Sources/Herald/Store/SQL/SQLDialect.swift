import Foundation

/// What differs between the two databases in the statements both stores run: placeholders (`?` against
/// `$1::bigint`, cast so a NULL has a type), how many values one statement may bind, and how a batch
/// learns ids before it writes rows that point at each other. Everything else in those statements is
/// the SQL the two agree on: multi-row `VALUES`, row values, `ON CONFLICT … DO UPDATE`, `RETURNING`.
public enum SQLDialect: Sendable {
    case sqlite
    case postgres

    /// Values one statement binds at most. PostgreSQL: as many as fit under its 65,535, since each statement
    /// is a round trip. SQLite runs in the process, so a statement costs no trip: small ones, whose text
    /// repeats and whose prepared form is kept (``SQLiteStore/run(_:_:)``), cost less than one of thousands
    /// of values parsed anew, and leave no large allocations behind.
    var maxValues: Int {
        switch self {
        case .sqlite: 512
        case .postgres: 30_000
        }
    }

    /// Rows of `columns` values each that fit one statement.
    func rowsPerStatement(columns: Int) -> Int { max(1, maxValues / max(1, columns)) }

    /// The placeholder for the value bound at `index` (from 1), cast to `type` where the dialect casts.
    func placeholder(_ index: Int, _ type: SQLType?) -> String {
        switch self {
        case .sqlite: "?"
        case .postgres: type.map { "$\(index)::\($0.postgresName)" } ?? "$\(index)"
        }
    }

    /// `(…), (…)`: one parenthesised row of placeholders per row of `rows`, typed by `types`, numbered
    /// after `offset` values already bound.
    func valuesList(rows: Int, types: [SQLType], after offset: Int = 0) -> String {
        guard rows > 0 else { return "" }
        if self == .sqlite, !types.isEmpty {
            // Unnumbered and untyped: one row's text, repeated (built value by value, it was a sixteenth of what
            // writing a fan-out chunk cost).
            let row = "(" + String(repeating: "?, ", count: types.count - 1) + "?)"
            return String(repeating: row + ", ", count: rows - 1) + row
        }
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

    /// Rows to insert, as what follows `INSERT INTO table(columns)`, with the values to bind, numbered after
    /// `offset` values already bound. SQLite: `VALUES (…), (…)`, a placeholder per value. PostgreSQL: one array
    /// per column, unnested, so a 1,000-row batch of 20 columns binds 20 values instead of 20,000, and the server
    /// parses and plans a statement of a few hundred bytes instead of one of 300 KB (measured: that was a third of
    /// what inserting a planned message cost it).
    func rowSource(_ rows: [[SQLValue]], types: [SQLType], after offset: Int = 0) -> (sql: String, values: [SQLValue]) {
        switch self {
        case .sqlite:
            return ("VALUES " + valuesList(rows: rows.count, types: types, after: offset), rows.flatMap { $0 })
        case .postgres:
            let arrays = types.indices.map { column in "$\(offset + column + 1)::\(types[column].postgresName)[]" }
            let values = types.indices.map { column in SQLValue.text(Self.arrayLiteral(rows.lazy.map { $0[column] })) }
            return ("SELECT * FROM unnest(\(arrays.joined(separator: ", "))) WHERE true", values)
        }
    }

    /// A PostgreSQL array literal of `values` (`{1,NULL,"a \"b\""}`), bound as text and cast to the column's
    /// array type: every text element is quoted, with `\` and `"` escaped, so no content can end it early.
    static func arrayLiteral(_ values: some Sequence<SQLValue>) -> String {
        var text = "{"
        var first = true
        for value in values {
            if !first { text += "," }
            first = false
            switch value {
            case .null: text += "NULL"
            case .integer(let number): text += String(number)
            case .real(let number): text += number.isFinite ? "\(number)" : "NULL"
            case .text(let string):
                text += "\""
                for character in string.unicodeScalars {
                    if character == "\\" || character == "\"" { text += "\\" }
                    text.unicodeScalars.append(character)
                }
                text += "\""
            }
        }
        return text + "}"
    }

    /// What ends a read that locks the rows it finds until the transaction ends: PostgreSQL's `FOR UPDATE`;
    /// nothing for SQLite, whose one writer already holds the whole database.
    var lockingRows: String {
        switch self {
        case .sqlite: ""
        case .postgres: " FOR UPDATE"
        }
    }

    /// What ends a read of due rows that several nodes claim at once: PostgreSQL's `FOR UPDATE SKIP LOCKED`,
    /// so each takes rows no other holds; nothing for SQLite.
    var skippingLocked: String {
        switch self {
        case .sqlite: ""
        case .postgres: " FOR UPDATE SKIP LOCKED"
        }
    }

    /// The condition that keeps one tenant's rows of `messages` (named `alias` in the statement), written
    /// so that the tenant index (``HistoryIndex/tenant``) serves it: on PostgreSQL its key, then the id.
    func messages(ofTenant tenantID: String, alias: String) -> SQLQuery {
        let column = alias + ".tenant_id"
        switch self {
        case .sqlite:
            return "\(sql: column) = \(tenantID)"
        case .postgres:
            return """
                \(sql: HistoryIndex.tenantKey(column)) = \(sql: HistoryIndex.tenantKeyOpening)\(tenantID)\(sql: HistoryIndex.tenantKeyClosing) \
                AND \(sql: column) = \(tenantID)
                """
        }
    }

    /// The lock that makes nodes plan one tenant's flow-controlled messages one at a time (a
    /// transaction-level advisory lock); none on SQLite, whose single writer already does.
    func flowLock(tenantID: String) -> SQLStatement? {
        switch self {
        case .sqlite: nil
        case .postgres: SQLStatement(sql: "SELECT pg_advisory_xact_lock(hashtext($1::text))", values: [SQLValue("flow:" + tenantID)])
        }
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

extension SQLDialect {
    /// A statement of ``Schema`` with its type tokens spelt in this dialect.
    func schema(_ statement: String) -> String {
        var text = statement
        for (token, sqlite, postgres) in Self.schemaTokens {
            text = text.replacingOccurrences(of: token, with: self == .sqlite ? sqlite : postgres)
        }
        return text
    }

    private static let schemaTokens = [
        ("{id}", "INTEGER PRIMARY KEY", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
        ("{int}", "INTEGER", "BIGINT"),
        ("{bool}", "INTEGER", "BOOLEAN"),
        ("{true}", "1", "TRUE"),
        ("{false}", "0", "FALSE"),
        ("{real}", "REAL", "DOUBLE PRECISION"),
        ("{without_rowid}", " WITHOUT ROWID", ""),
    ]
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
