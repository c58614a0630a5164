import GRDB

extension SQLiteStore {
    /// ``Schema/migrations`` in SQLite's dialect, recorded by GRDB under their identifiers.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in Schema.migrations {
            migrator.registerMigration(migration.identifier) { db in
                for statement in migration.statements(in: .sqlite) { try db.execute(sql: SQLDialect.sqlite.schema(statement)) }
            }
        }
        return migrator
    }
}
