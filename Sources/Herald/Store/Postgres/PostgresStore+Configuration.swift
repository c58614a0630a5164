import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

extension PostgresStore {
    /// Where the database is and how to reach it, read from a `postgres://` URL.
    ///
    /// ```
    /// postgres://herald:secret@db.internal:5432/herald?sslmode=verify-full&sslrootcert=/etc/herald/ca.pem
    /// ```
    ///
    /// `sslmode` is libpq's: `disable`, `prefer` (the default: TLS when the server offers it, unverified),
    /// `require` (TLS, unverified), `verify-ca` (TLS, certificate checked against the trusted roots) or
    /// `verify-full` (and the host name too). `sslrootcert` names a PEM file of trusted roots (the system's
    /// otherwise). `schema` keeps Herald's tables in a schema of their own; `pool_size` caps the
    /// connections this process opens (20 by default).
    public struct Configuration: Sendable {
        public enum TLSMode: String, Sendable, CaseIterable {
            case disable, prefer, require
            case verifyCA = "verify-ca"
            case verifyFull = "verify-full"
        }

        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String
        public var tlsMode: TLSMode
        public var trustedRootsFile: String?
        /// The schema Herald's tables live in; nil for the user's default (`public`).
        public var schema: String?
        public var poolSize: Int

        public init(
            host: String, port: Int = 5432, username: String, password: String?, database: String, tlsMode: TLSMode = .prefer,
            trustedRootsFile: String? = nil, schema: String? = nil, poolSize: Int = 20
        ) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.tlsMode = tlsMode
            self.trustedRootsFile = trustedRootsFile
            self.schema = schema
            self.poolSize = poolSize
        }

        /// Whether `text` names a PostgreSQL database rather than a SQLite file.
        public static func isPostgresURL(_ text: String) -> Bool {
            text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
        }

        /// Reads a `postgres://` URL; `source` names where it came from (`HERALD_DATABASE_URL`), for errors.
        public init(url text: String, source: String) throws {
            func problem(_ reason: String) -> ConfigurationError {
                ConfigurationError("\(source): \(Self.redacted(text)) is not a usable PostgreSQL URL: \(reason)")
            }
            guard Self.isPostgresURL(text), let components = URLComponents(string: text) else {
                throw problem("expected postgres://user:password@host:port/database")
            }
            guard let host = components.host, !host.isEmpty else { throw problem("it names no host") }
            guard let user = components.user, !user.isEmpty else { throw problem("it names no user") }
            let database = String(components.path.drop(while: { $0 == "/" }))
            guard !database.isEmpty, !database.contains("/") else { throw problem("it names no database (…/herald after the host)") }
            var tlsMode = TLSMode.prefer
            var roots: String?
            var schema: String?
            var poolSize = 20
            for item in components.queryItems ?? [] {
                let value = item.value ?? ""
                switch item.name {
                case "sslmode":
                    guard let mode = TLSMode(rawValue: value) else {
                        throw problem("sslmode=\(value) is not one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    tlsMode = mode
                case "sslrootcert":
                    guard FileManager.default.isReadableFile(atPath: value) else { throw problem("sslrootcert=\(value) is not a readable file") }
                    roots = value
                case "schema", "search_path":
                    guard value.range(of: "^[a-z_][a-z0-9_]{0,62}$", options: .regularExpression) != nil else {
                        throw problem("schema=\(value) must be a lower-case SQL name (letters, digits, _)")
                    }
                    schema = value
                case "pool_size":
                    guard let size = Int(value), size >= 2 else { throw problem("pool_size=\(value) must be a whole number of at least 2") }
                    poolSize = size
                case "application_name", "connect_timeout":
                    continue
                default:
                    throw problem("unknown parameter '\(item.name)' (sslmode, sslrootcert, schema and pool_size are understood)")
                }
            }
            if components.port != nil, !(1...65535).contains(components.port!) { throw problem("port \(components.port!) is out of range") }
            self.init(
                host: host, port: components.port ?? 5432, username: user, password: components.password, database: database, tlsMode: tlsMode,
                trustedRootsFile: roots, schema: schema, poolSize: poolSize)
        }

        /// The URL with its password replaced by `***`, for logs and errors.
        public static func redacted(_ text: String) -> String {
            guard var components = URLComponents(string: text), components.password != nil else { return text }
            components.password = "***"
            return components.string ?? "postgres://…"
        }

        /// Host, port, database and schema, never credentials: for logs.
        public var displayName: String {
            "postgres://\(host):\(port)/\(database)" + (schema.map { "?schema=\($0)" } ?? "")
        }

        func tlsConfiguration() throws -> TLSConfiguration {
            var tls = TLSConfiguration.makeClientConfiguration()
            switch tlsMode {
            case .disable, .prefer, .require: tls.certificateVerification = .none
            case .verifyCA: tls.certificateVerification = .noHostnameVerification
            case .verifyFull: tls.certificateVerification = .fullVerification
            }
            if let trustedRootsFile { tls.trustRoots = .file(trustedRootsFile) }
            return tls
        }

        var clientConfiguration: PostgresClient.Configuration {
            let tls: PostgresClient.Configuration.TLS
            switch tlsMode {
            case .disable: tls = .disable
            case .prefer: tls = .prefer((try? tlsConfiguration()) ?? .makeClientConfiguration())
            case .require, .verifyCA, .verifyFull: tls = .require((try? tlsConfiguration()) ?? .makeClientConfiguration())
            }
            var configuration = PostgresClient.Configuration(
                host: host, port: port, username: username, password: password, database: database, tls: tls)
            configuration.options.maximumConnections = poolSize
            configuration.options.connectionIdleTimeout = .seconds(60)
            if let schema { configuration.options.additionalStartupParameters = [("search_path", schema)] }
            return configuration
        }

        /// A connection of its own, outside the pool (for the startup check and for LISTEN).
        func connectionConfiguration() throws -> PostgresConnection.Configuration {
            let tls: PostgresConnection.Configuration.TLS
            do {
                switch tlsMode {
                case .disable: tls = .disable
                case .prefer: tls = .prefer(try NIOSSLContext(configuration: tlsConfiguration()))
                case .require, .verifyCA, .verifyFull: tls = .require(try NIOSSLContext(configuration: tlsConfiguration()))
                }
            } catch {
                throw ConfigurationError("PostgreSQL TLS settings for \(displayName): \(error)")
            }
            var configuration = PostgresConnection.Configuration(
                host: host, port: port, username: username, password: password, database: database, tls: tls)
            configuration.options.connectTimeout = .seconds(10)
            if let schema { configuration.options.additionalStartupParameters = [("search_path", schema)] }
            return configuration
        }

        /// Opens and closes one connection, turning a failure into a startup error in the server's words.
        func checkConnection(logger: Logger) async throws {
            let configuration = try connectionConfiguration()
            do {
                let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
                if let schema {
                    // The schema must exist before tables can be created in it.
                    try await connection.run(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"), logger)
                }
                try? await connection.close()
            } catch {
                throw ConfigurationError("cannot open the PostgreSQL database \(displayName) as \(username): \(PostgresStore.describe(error))")
            }
        }
    }

    /// A PostgreSQL error in words: the server's message and SQLSTATE, or the connection problem.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                return message + (error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
            }
            if let underlying = error.underlying { return "\(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }
}
