import Foundation
import Logging

/// Which store a configuration names: a SQLite file, or a PostgreSQL database shared by many nodes.
public enum DatabaseLocation: Sendable {
    case sqlite(path: String)
    case postgres(PostgresStore.Configuration)
}

extension HeraldConfiguration {
    /// Reads `database`: a `postgres://` (or `postgresql://`) URL, a `sqlite://` URL, or a file path.
    /// A malformed URL is an error naming where it was set.
    public func databaseLocation() throws -> DatabaseLocation {
        if PostgresStore.Configuration.isPostgresURL(database) {
            return .postgres(try PostgresStore.Configuration(url: database, source: databaseSource))
        }
        if database.contains("://"), !database.hasPrefix("sqlite://") {
            throw ConfigurationError(
                "\(databaseSource): '\(PostgresStore.Configuration.redacted(database))' is neither a SQLite file (a path or sqlite://) nor a postgres:// URL"
            )
        }
        return .sqlite(path: sqlitePath)
    }

    /// The database for logs: the SQLite path, or the PostgreSQL address without credentials.
    public var databaseDisplayName: String {
        switch try? databaseLocation() {
        case .postgres(let configuration): configuration.displayName
        case .sqlite(let path): path
        case nil: PostgresStore.Configuration.redacted(database)
        }
    }

    /// Opens the store the configuration names (not yet migrated).
    public func openStore(logger: Logger) async throws -> any Store {
        switch try databaseLocation() {
        case .sqlite(let path): return try SQLiteStore(path: path)
        case .postgres(let configuration):
            do {
                return try await PostgresStore.open(configuration, logger: logger)
            } catch let error as ConfigurationError {
                throw ConfigurationError("\(databaseSource): \(error.description)")
            }
        }
    }
}
