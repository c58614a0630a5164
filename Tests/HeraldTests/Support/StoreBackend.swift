import Foundation
import Herald
import Logging
import PostgresNIO
import Synchronization
import Testing

/// The stores a parameterised test runs against: SQLite always, PostgreSQL when `HERALD_TEST_POSTGRES_URL`
/// names a server (`scripts/postgres_test_cluster.sh start` starts one). Without it the PostgreSQL cases are
/// not run, and are not reported as passed; `HERALD_REQUIRE_POSTGRES=1` (set by `.ci/run`) turns the missing
/// URL into a failure of ``PostgresAvailabilityTests``.
enum StoreBackend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static let postgresURL: String? = {
        let url = ProcessInfo.processInfo.environment["HERALD_TEST_POSTGRES_URL"] ?? ""
        return url.isEmpty ? nil : url
    }()

    static var available: [StoreBackend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }
}

/// The PostgreSQL schemas the running test created, dropped (and their stores closed) when it ends, so
/// every test has a database of its own and none sees another's rows. Schemas are named
/// `herald_test_<unix time>_<random>`; ones older than an hour, left by an interrupted run, are dropped
/// when the next run opens its first.
final class PostgresTestSchemas: Sendable {
    @TaskLocal static var current: PostgresTestSchemas?

    private let created = Mutex<[(schema: String, store: PostgresStore)]>([])

    func register(schema: String, store: PostgresStore) {
        created.withLock { $0.append((schema, store)) }
    }

    func dropAll() async {
        for (schema, store) in created.withLock({ $0 }) {
            await store.close()
            _ = try? await Self.administer("DROP SCHEMA IF EXISTS \(schema) CASCADE")
        }
    }

    /// A fresh schema's name; the first call of a run also removes stale schemas of earlier runs.
    static func newSchema() async throws -> String {
        try await sweepStaleSchemas.value
        return "herald_test_\(Int(Date().timeIntervalSince1970))_\(UUID().uuidString.prefix(8).lowercased())"
    }

    private static let sweepStaleSchemas = Task<Void, any Error> {
        let cutoff = Int(Date().timeIntervalSince1970) - 3600
        let stale = try await administer(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'herald\\_test\\_%'"
        ).filter { name in
            let parts = name.split(separator: "_")
            return parts.count >= 3 && (Int(parts[2]) ?? .max) < cutoff
        }
        for schema in stale { _ = try? await administer("DROP SCHEMA IF EXISTS \(schema) CASCADE") }
    }

    /// A connection of the test's own to `HERALD_TEST_POSTGRES_URL`, outside any store; the caller closes it.
    static func connect() async throws -> PostgresConnection {
        let base = try PostgresStore.Configuration(url: try #require(StoreBackend.postgresURL), source: "HERALD_TEST_POSTGRES_URL")
        var configuration = PostgresConnection.Configuration(
            host: base.host, port: base.port, username: base.username, password: base.password, database: base.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(10)
        return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: Logger(label: "herald-test"))
    }

    /// Runs one statement on a connection of its own; returns the first column of each row as text.
    @discardableResult
    static func administer(_ sql: String) async throws -> [String] {
        let connection = try await connect()
        defer { Task { try? await connection.close() } }
        var names: [String] = []
        for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "herald-test")) {
            if let name = try? row.decode(String.self) { names.append(name) }
        }
        return names
    }
}

/// Gives each test case its own set of PostgreSQL schemas and drops them when the case ends.
struct PostgresSchemaScope: TestTrait, SuiteTrait, TestScoping {
    var isRecursive: Bool { true }

    func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? {
        testCase == nil ? nil : self
    }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let schemas = PostgresTestSchemas()
        do {
            try await PostgresTestSchemas.$current.withValue(schemas) { try await function() }
        } catch {
            await schemas.dropAll()
            throw error
        }
        await schemas.dropAll()
    }
}

extension Trait where Self == PostgresSchemaScope {
    /// Drops the PostgreSQL schemas a test case's engines were built on when the case ends.
    static var dropsPostgresSchemas: Self { PostgresSchemaScope() }
}

@Suite("PostgreSQL for the store suites")
struct PostgresAvailabilityTests {
    @Test("HERALD_TEST_POSTGRES_URL is set when HERALD_REQUIRE_POSTGRES=1, so the store suites also run on PostgreSQL")
    func postgresIsThereWhenRequired() async throws {
        let required = ProcessInfo.processInfo.environment["HERALD_REQUIRE_POSTGRES"] == "1"
        guard let url = StoreBackend.postgresURL else {
            if required {
                Issue.record(
                    "HERALD_REQUIRE_POSTGRES=1 but HERALD_TEST_POSTGRES_URL is not set: start a server with scripts/postgres_test_cluster.sh")
            }
            return
        }
        // The server answers, with the credentials given.
        let schema = try await PostgresTestSchemas.newSchema()
        var configuration = try PostgresStore.Configuration(url: url, source: "HERALD_TEST_POSTGRES_URL")
        configuration.schema = schema
        let store = try await PostgresStore.open(configuration)
        try await store.ping()
        await store.close()
        try await PostgresTestSchemas.administer("DROP SCHEMA IF EXISTS \(schema) CASCADE")
    }
}
